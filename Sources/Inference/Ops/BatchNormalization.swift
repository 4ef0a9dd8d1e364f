import KernelSupport

/// BatchNormalization in inference mode over axis 1, parameters constant, each of
/// shape [C] (checked: folding or running with fewer values reads past them).
/// After a Conv it is folded into the Conv's weights at load.
struct BatchNormalizationOp: Operator {
    static let opType = "BatchNormalization"
    static let sinceOpset = 1
    static let inputCount = 5...5
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let epsilon: Float

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        guard node.inputs.count == 5 else { throw attrs.fail("needs 5 inputs, has \(node.inputs.count)") }
        for i in 0..<5 { try attrs.required(i) }
        guard node.outputs.first.map({ !$0.isEmpty }) == true else { throw attrs.fail("must have an output") }
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) { throw attrs.fail("training-mode outputs are not supported") }
        _ = try attrs.int("training_mode", 0, in: 0...0)
        _ = try attrs.int("spatial", 1, in: 1...1)
        epsilon = try attrs.float("epsilon", 1e-5)
        guard epsilon >= 0 else { throw attrs.fail("epsilon must be >= 0") }
    }

    /// Checks x and the four parameters' shapes; returns the channel count.
    func channels(_ shapes: [[Int]?]) throws -> Int {
        let x = try shape(shapes, 0, attrs)
        guard x.count >= 2 else { throw attrs.fail("input must have a channel axis, got \(x)") }
        for i in 1...4 {
            let p = try shape(shapes, i, attrs)
            guard p == [x[1]] else { throw attrs.fail("parameter \(i) must have shape [\(x[1])], got \(p)") }
        }
        return x[1]
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        _ = try channels(shapes)
        return try shape(shapes, 0, attrs)
    }

    /// Per-channel scale and shift: y = x * scale + shift.
    func affine(_ p: [Tensor], channels: Int) -> (scale: [Float], shift: [Float]) {
        let scale = (0..<channels).map { p[0].data[$0] / (p[3].data[$0] + epsilon).squareRoot() }
        let shift = (0..<channels).map { p[1].data[$0] - p[2].data[$0] * scale[$0] }
        return (scale, shift)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let p = try (1...4).map { try tensor(inputs, $0, attrs) }
        let c = try channels([x.shape] + p.map(\.shape))
        let inner = x.shape[2...].reduce(1, *)
        var y = x
        for i in 0..<x.count {
            let ch = (i / inner) % c
            y.data[i] = (x.data[i] - p[2].data[ch]) / (p[3].data[ch] + epsilon).squareRoot() * p[0].data[ch] + p[1].data[ch]
        }
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let p = try (1...4).map { i -> Tensor in
            guard i < l.constants.count, let t = l.constants[i] else { throw attrs.fail("parameters must be constant") }
            return t
        }
        let xs = l.inputShapes[0]
        let c = try channels([xs] + p.map(\.shape))
        let (scale, shift) = affine(p, channels: c)
        let inner = xs[2...].reduce(1, *), count = l.outputShape.reduce(1, *)
        let x = try l.input(0), y = l.output
        return ({ arena in
            let xp = x.pointer(arena), yp = y.pointer(arena)
            for i in 0..<(count / inner) {
                let ch = i % c, s = scale[ch], t = shift[ch]
                for j in 0..<inner { yp[i * inner + j] = xp[i * inner + j] * s + t }
            }
        }, 0)
    }
}
