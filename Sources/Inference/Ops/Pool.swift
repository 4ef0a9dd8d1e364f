import KernelSupport

/// MaxPool and AveragePool share everything but the reduction: 2-D windows over
/// NCHW (run channels-last), padding never wins a max, and an average divides by
/// the cells inside the image (or inside the explicit padding with count_include_pad).
struct PoolCore {
    let attrs: Attributes
    let window: WindowAttributes
    let isMax: Bool
    let countIncludePad: Bool

    init(node: Node, isMax: Bool) throws {
        attrs = Attributes(node: node)
        guard node.inputs.count == 1, !node.inputs[0].isEmpty else { throw attrs.fail("needs 1 input, has \(node.inputs.count)") }
        let named = node.outputs.filter { !$0.isEmpty }
        guard node.outputs.first.map({ !$0.isEmpty }) == true else { throw attrs.fail("must have an output") }
        if named.count > 1 { throw attrs.fail("the Indices output is not supported") }
        window = try WindowAttributes(attrs, kernelRequired: true)
        self.isMax = isMax
        countIncludePad = try attrs.int("count_include_pad", 0, in: 0...1) != 0
        if isMax { _ = try attrs.int("storage_order", 0, in: 0...0) }
    }

    func geometry(_ x: [Int]) throws -> (Window2D, [Int]) {
        let k = window.kernelShape!
        let (win, oh, ow) = try window.resolve(kernel: (k[0], k[1]), input: x, attrs)
        let out = [x[0], x[1], oh, ow]
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        return (win, out)
    }

    func reference(_ x: Tensor) throws -> Tensor {
        let (win, out) = try geometry(x.shape)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (out[2], out[3])
        var y = Tensor(zeros: out)
        for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
            var values: [Float] = []
            var padded = 0
            for ky in 0..<win.kernel.h { for kx in 0..<win.kernel.w {
                let iy = oy * win.stride.h - win.pads.t + ky * win.dilation.h
                let ix = ox * win.stride.w - win.pads.l + kx * win.dilation.w
                // Cells inside the explicitly padded input count for count_include_pad.
                if iy < h + win.pads.b && ix < w + win.pads.r { padded += 1 }
                if iy >= 0 && iy < h && ix >= 0 && ix < w { values.append(x.data[(p * h + iy) * w + ix]) }
            }}
            y.data[(p * oh + oy) * ow + ox] = isMax ? (values.max() ?? 0)
                : values.reduce(0, +) / Float(max(1, countIncludePad ? padded : values.count))
        }}}
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        // NHWC in and out.
        let xs = l.inputShapes[0]
        let (win, out) = try geometry(xs)
        let shape = ConvShape(batch: xs[0], h: xs[2], w: xs[3], c: xs[1], oh: out[2], ow: out[3], m: xs[1], win: win)
        let x = try l.input(0), y = l.output, isMax = isMax, include = countIncludePad, threads = l.threads
        return ({ arena in kernels.pool(x.pointer(arena), shape, isMax, include, y.pointer(arena), threads) }, 0)
    }
}

struct MaxPoolOp: Operator {
    static let opType = "MaxPool"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.channelsLast
    let core: PoolCore
    var attrs: Attributes { core.attrs }
    init(node: Node, opset: Int) throws { core = try PoolCore(node: node, isMax: true) }
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try core.geometry(try shape(shapes, 0, core.attrs)).1 }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { try core.reference(try tensor(inputs, 0, core.attrs)) }
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { try core.lower(l) }
}

struct AveragePoolOp: Operator {
    static let opType = "AveragePool"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.channelsLast
    let core: PoolCore
    var attrs: Attributes { core.attrs }
    init(node: Node, opset: Int) throws { core = try PoolCore(node: node, isMax: false) }
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try core.geometry(try shape(shapes, 0, core.attrs)).1 }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { try core.reference(try tensor(inputs, 0, core.attrs)) }
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { try core.lower(l) }
}

/// GlobalAveragePool: [N, C, spatial...] -> [N, C, 1, ...], read channels-last
/// (the pooled output is the same memory in either layout).
struct GlobalAveragePoolOp: Operator {
    static let opType = "GlobalAveragePool"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.reducesToChannels
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        guard x.count >= 3, x.allSatisfy({ $0 > 0 }) else { throw attrs.fail("needs an input of rank 3 or more with positive sizes, got \(x)") }
        return [x[0], x[1]] + [Int](repeating: 1, count: x.count - 2)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let out = try outputShape([x.shape], constants: [nil])
        let (n, c) = (x.shape[0], x.shape[1])
        let hw = x.shape.dropFirst(2).reduce(1, *)
        var y = Tensor(zeros: out)
        for p in 0..<(n * c) { y.data[p] = x.data[(p * hw)..<((p + 1) * hw)].reduce(0, +) / Float(hw) }
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        // NHWC in; [N, C, 1...] out, which is the same memory in either layout.
        let xs = l.inputShapes[0]
        let pixels = xs.dropFirst(2).reduce(1, *), batch = xs[0], c = xs[1]
        let x = try l.input(0), y = l.output
        return ({ arena in kernels.globalAverage(x.pointer(arena), batch, pixels, c, y.pointer(arena)) }, 0)
    }
}
