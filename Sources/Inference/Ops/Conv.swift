import KernelSupport

/// Conv: 2-D convolution over NCHW (as ONNX states it; the plan runs it channels-last),
/// any kernel, stride, dilation, padding and group count. Weights must be constant.
struct ConvOp: Operator {
    static let opType = "Conv"
    static let sinceOpset = 1
    static let inputCount = 2...3
    static let layout = LayoutRule.channelsLast

    let attrs: Attributes
    let window: WindowAttributes
    let group: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        window = try WindowAttributes(attrs, kernelRequired: false)
        group = try attrs.int("group", 1, in: 1...(1 << 20))
    }

    /// Checks x [N, C, H, W], w [M, C/group, kh, kw] and b [M]; returns the window and output size.
    func geometry(_ x: [Int], _ w: [Int], bias: [Int]?) throws -> (Window2D, [Int]) {
        guard w.count == 4, w.allSatisfy({ $0 > 0 }) else { throw attrs.fail("weights must be 4-D [M, C/group, kh, kw] with positive sizes, got \(w)") }
        guard w[2] <= Limits.maxWindow, w[3] <= Limits.maxWindow else { throw attrs.fail("kernel \(w[2])x\(w[3]) is too large") }
        if let k = window.kernelShape, k != [w[2], w[3]] { throw attrs.fail("kernel_shape \(k) does not match weights \(w)") }
        guard x.count == 4 else { throw attrs.fail("only 2-D Conv on 4-D NCHW input is supported, input \(x)") }
        guard x[1] == w[1] * group else { throw attrs.fail("input has \(x[1]) channels, weights expect \(w[1]) x group \(group)") }
        guard w[0] % group == 0 else { throw attrs.fail("group \(group) does not divide \(w[0]) filters") }
        if let b = bias, b != [w[0]] { throw attrs.fail("bias must have shape [\(w[0])], got \(b)") }
        let (win, oh, ow) = try window.resolve(kernel: (w[2], w[3]), input: x, attrs)
        let out = [x[0], w[0], oh, ow]
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        _ = try elementCount(w, "node '\(attrs.node.name)' weights")
        return (win, out)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let bias = shapes.count > 2 ? shapes[2] : nil
        return try geometry(try shape(shapes, 0, attrs), try shape(shapes, 1, attrs), bias: bias).1
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs), w = try tensor(inputs, 1, attrs)
        let b = inputs.count > 2 ? inputs[2] : nil
        let (win, out) = try geometry(x.shape, w.shape, bias: b?.shape)
        return Reference.conv(x, w, b, window: win, group: group, output: out)
    }

    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? {
        guard constants.count > 1, let w = constants[1] else { throw attrs.fail("weights must be constant") }
        guard w.rank == 4, w.shape.allSatisfy({ $0 > 0 }) else { throw attrs.fail("weights must be 4-D [M, C/group, kh, kw] with positive sizes, got \(w.shape)") }
        let m = w.shape[0], cg = w.shape[1], taps = w.shape[2] * w.shape[3]
        guard m % group == 0 else { throw attrs.fail("group \(group) does not divide \(m) filters") }
        var bias: [Float]? = nil
        if attrs.node.inputs.count > 2, !attrs.node.inputs[2].isEmpty {
            guard let b = constants[2] else { throw attrs.fail("bias must be constant") }
            guard b.count == m else { throw attrs.fail("bias has \(b.count) values for \(m) filters") }
            bias = b.data
        }
        // A whole window row of zeros: convNHWC reads padding rows of few-channel convs as one tap.
        let zeros = [Float](repeating: 0, count: cg * w.shape[3])
        if group == m && cg == 1 {
            // [C][taps] -> [taps][C]: a tap's weights contiguous across channels.
            let depthwise = (0..<(taps * m)).map { i in w.data[(i % m) * taps + i / m] }
            return PreparedWeights(kind: .depthwise(PreparedWeights.copy(depthwise)), bias: bias, weightShape: w.shape, zeros: zeros)
        }
        let filters = w.data.withUnsafeBufferPointer { wp in
            kernels.packFilters(groups: group, mg: m / group, cg: cg, taps: taps) { f, ci, t in wp[(f * cg + ci) * taps + t] }
        }
        return PreparedWeights(kind: .conv(filters), bias: bias, weightShape: w.shape, zeros: zeros)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels, threads = l.threads
        // x and the residual arrive in NHWC and y leaves in NHWC (the plan converts at the edges).
        guard let prepared = l.prepared, let zeros = prepared.zeros else { throw attrs.fail("internal error: Conv without packed filters") }
        let xs = l.inputShapes[0]
        let (win, out) = try geometry(xs, prepared.weightShape, bias: nil)
        guard out == l.outputShape else { throw attrs.fail("internal error: output \(l.outputShape) != \(out)") }
        let shape = ConvShape(batch: xs[0], h: xs[2], w: xs[3], c: xs[1], oh: out[2], ow: out[3], m: out[1], win: win)
        let x = try l.input(0), output = l.output
        let residual = l.fused.residual ? try l.input(l.inputs.count - 1) : nil
        let bias = prepared.bias.map { UnsafePointer($0) }
        let fused = l.fused
        let w = prepared.weightShape
        let flops = 2.0 * Double(out.reduce(1, *)) * Double(w[1] * w[2] * w[3])
        switch prepared.kind {
        case .depthwise(let weights):
            return ({ arena in
                let e = fused.kernelEpilogue(bias: bias, residual: residual.map { UnsafePointer($0.pointer(arena)) })
                kernels.depthwise(x.pointer(arena), shape, weights, e, output.pointer(arena), threads)
            }, flops)
        case .conv(let filters):
            return ({ arena in
                let e = fused.kernelEpilogue(bias: bias, residual: residual.map { UnsafePointer($0.pointer(arena)) })
                kernels.conv(x.pointer(arena), shape, filters.panels, e, zeros, output.pointer(arena), threads)
            }, flops)
        case .dense:
            throw attrs.fail("internal error: dense weights on a Conv")
        }
    }
}

extension Reference {
    /// Conv over NCHW. x [N,C,H,W], w [M, C/group, kh, kw], b [M] -> y [N,M,OH,OW] (`output`).
    static func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, window: Window2D, group: Int, output: [Int]) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let m = w.shape[0], cg = c / group, mg = m / group
        let (oh, ow) = (output[2], output[3])
        var y = Tensor(zeros: output)
        for b0 in 0..<n { for oc in 0..<m {
            let g = oc / mg
            for oy in 0..<oh { for ox in 0..<ow {
                var acc: Float = b?.data[oc] ?? 0
                for ic in 0..<cg { for ky in 0..<window.kernel.h { for kx in 0..<window.kernel.w {
                    let iy = oy * window.stride.h - window.pads.t + ky * window.dilation.h
                    let ix = ox * window.stride.w - window.pads.l + kx * window.dilation.w
                    if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
                    let xv = x.data[((b0 * c + g * cg + ic) * h + iy) * wd + ix]
                    let wv = w.data[((oc * cg + ic) * window.kernel.h + ky) * window.kernel.w + kx]
                    acc += xv * wv
                }}}
                y.data[((b0 * m + oc) * oh + oy) * ow + ox] = acc
            }}
        }}
        return y
    }
}
