import KernelSupport

/// ConvTranspose: the gradient of a 2-D Conv, any kernel, stride, dilation, pads,
/// output_padding and group count (auto_pad NOTSET or VALID; output_shape is not
/// supported). Weights [C, M/group, kh, kw] must be constant. It runs
/// channels-last as a GEMM of input pixels by (tap, filter) columns, then a
/// scatter-add of each tap's products into the output (col2im), in bands of input
/// rows so the GEMM's output stays small.
struct ConvTransposeOp: Operator {
    static let opType = "ConvTranspose"
    static let sinceOpset = 1
    static let inputCount = 2...3
    static let layout = LayoutRule.channelsLast

    let attrs: Attributes
    let strides: [Int], dilations: [Int], pads: [Int], outputPadding: [Int]
    let kernelShape: [Int]?
    let group: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        let w = Limits.maxWindow
        kernelShape = try attrs.ints("kernel_shape", count: 2, in: 1...w)
        strides = try attrs.ints("strides", count: 2, in: 1...w) ?? [1, 1]
        dilations = try attrs.ints("dilations", count: 2, in: 1...w) ?? [1, 1]
        let autoPad = try attrs.string("auto_pad", "NOTSET", oneOf: ["NOTSET", "VALID"])
        pads = autoPad == "VALID" ? [0, 0, 0, 0] : try attrs.ints("pads", count: 4, in: 0...w) ?? [0, 0, 0, 0]
        outputPadding = try attrs.ints("output_padding", count: 2, in: 0...w) ?? [0, 0]
        if node.attributes["output_shape"] != nil { throw attrs.fail("the 'output_shape' attribute is not supported: give pads") }
        group = try attrs.int("group", 1, in: 1...(1 << 20))
        guard outputPadding[0] < max(strides[0], dilations[0]), outputPadding[1] < max(strides[1], dilations[1]) else {
            throw attrs.fail("output_padding must be smaller than the stride or the dilation")
        }
    }

    /// The geometry as a ConvShape over the input (h, w, c) and output (oh, ow, m), and the output shape.
    func geometry(_ x: [Int], _ w: [Int]) throws -> (ConvShape, [Int]) {
        guard x.count == 4, x.allSatisfy({ $0 > 0 }) else { throw attrs.fail("only 2-D ConvTranspose on 4-D NCHW input is supported, input \(x)") }
        guard w.count == 4, w.allSatisfy({ $0 > 0 }), w[2] <= Limits.maxWindow, w[3] <= Limits.maxWindow else {
            throw attrs.fail("weights must be 4-D [C, M/group, kh, kw] with sizes up to \(Limits.maxWindow), got \(w)")
        }
        if let k = kernelShape, k != [w[2], w[3]] { throw attrs.fail("kernel_shape \(k) does not match weights \(w)") }
        guard x[1] == w[0], w[0] % group == 0 else { throw attrs.fail("input has \(x[1]) channels, weights \(w) with group \(group)") }
        guard x[2] <= Limits.maxElements, x[3] <= Limits.maxElements else { throw attrs.fail("input \(x) is too large") }
        let m = w[1] * group
        func size(_ i: Int, _ k: Int, _ a: Int) -> Int {
            strides[a] * (i - 1) + outputPadding[a] + (k - 1) * dilations[a] + 1 - pads[a] - pads[a + 2]
        }
        let oh = size(x[2], w[2], 0), ow = size(x[3], w[3], 1)
        guard oh > 0, ow > 0 else { throw attrs.fail("leaves no output for input \(x)") }
        let out = [x[0], m, oh, ow]
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        let win = Window2D(kernel: (w[2], w[3]), stride: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]),
                           pads: (pads[0], pads[1], pads[2], pads[3]))
        return (ConvShape(batch: x[0], h: x[2], w: x[3], c: x[1], oh: oh, ow: ow, m: m, win: win), out)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let (s, out) = try geometry(try shape(shapes, 0, attrs), try shape(shapes, 1, attrs))
        if shapes.count > 2, let b = shapes[2], b != [s.m] { throw attrs.fail("bias must have shape [\(s.m)], got \(b)") }
        return out
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs), w = try tensor(inputs, 1, attrs)
        let b = inputs.count > 2 ? inputs[2] : nil
        let (s, out) = try geometry(x.shape, w.shape)
        let win = s.win, cg = s.c / group, mg = s.m / group
        var y = Tensor(zeros: out)
        for n in 0..<s.batch { for oc in 0..<s.m {
            let bias = b?.data[oc] ?? 0
            for i in 0..<(s.oh * s.ow) { y.data[(n * s.m + oc) * s.oh * s.ow + i] = bias }
        }}
        for n in 0..<s.batch { for ic in 0..<s.c {
            let g = ic / cg
            for iy in 0..<s.h { for ix in 0..<s.w {
                let xv = x.data[((n * s.c + ic) * s.h + iy) * s.w + ix]
                for j in 0..<mg { for ky in 0..<win.kernel.h { for kx in 0..<win.kernel.w {
                    let oy = iy * win.stride.h - win.pads.t + ky * win.dilation.h
                    let ox = ix * win.stride.w - win.pads.l + kx * win.dilation.w
                    guard oy >= 0, oy < s.oh, ox >= 0, ox < s.ow else { continue }
                    let oc = g * mg + j
                    y.data[((n * s.m + oc) * s.oh + oy) * s.ow + ox] += xv * w.data[((ic * mg + j) * win.kernel.h + ky) * win.kernel.w + kx]
                }}}
            }}
        }}
        return y
    }

    /// The GEMM's columns per input pixel for `columns` (taps x filters) in one group:
    /// rounded up to half a tile (one vector), so each row of GEMM output is stored in
    /// whole vectors. PP-OCR det's last upsampling (1 filter, 2x2: 4 columns) stored
    /// its rows lane by lane, and that was most of its time.
    func paddedColumns(_ columns: Int, nr: Int) -> Int {
        let half = max(1, nr / 2)
        return (columns + half - 1) / half * half
    }

    /// W [C, Mg, kh, kw] packed as the filters of a grouped 1x1 conv whose columns are
    /// (tap, filter): group g's column tap * Mg + j is W[g*Cg + ci, j, tap]; in one
    /// group, zero columns after them up to `paddedColumns`.
    func prepare(constants: [Tensor?], kernels: KernelTable) throws -> PreparedWeights? {
        guard constants.count > 1, let w = constants[1] else { throw attrs.fail("weights must be constant") }
        guard w.rank == 4, w.shape.allSatisfy({ $0 > 0 }), w.shape[0] % group == 0 else { throw attrs.fail("weights \(w.shape) do not fit group \(group)") }
        let (c, mg, taps) = (w.shape[0], w.shape[1], w.shape[2] * w.shape[3])
        let cg = c / group
        var bias: [Float]? = nil
        if attrs.node.inputs.count > 2, !attrs.node.inputs[2].isEmpty {
            guard let b = constants[2] else { throw attrs.fail("bias must be constant") }
            guard b.count == mg * group else { throw attrs.fail("bias has \(b.count) values for \(mg * group) filters") }
            bias = b.data
        }
        let columns = taps * mg
        let filters = w.data.withUnsafeBufferPointer { wp in
            kernels.packFilters(groups: group, mg: group == 1 ? paddedColumns(columns, nr: kernels.nr) : columns, cg: cg, taps: 1) {
                col, ci, _ in
                // Padding columns (one group) are zero filters.
                if col >= group * columns { return 0 }
                let g = col / columns, tap = (col % columns) / mg, j = col % mg
                return wp[((g * cg + ci) * mg + j) * taps + tap]
            }
        }
        return PreparedWeights(kind: .conv(filters), bias: bias, weightShape: w.shape, zeros: nil)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        guard let prepared = l.prepared, case .conv(let filters) = prepared.kind else { throw attrs.fail("internal error: no packed filters") }
        let (s, out) = try geometry(l.inputShapes[0], prepared.weightShape)
        guard out == l.outputShape else { throw attrs.fail("internal error: output \(l.outputShape) != \(out)") }
        let kernels = l.kernels, threads = l.threads, groups = group
        let taps = s.win.kernel.h * s.win.kernel.w, columns = taps * s.m
        // The GEMM output's floats per input pixel: taps*M, and in one group the zero
        // columns `prepare` padded it with.
        let pixelFloats = filters.panels.mg * filters.panels.groups
        // Input rows per band: the band's GEMM output (rows x W x pixelFloats) within ~1 MB.
        let band = max(1, min(s.batch * s.h, (1 << 18) / max(1, s.w * pixelFloats)))
        let x = try l.input(0), y = l.output
        let bias = prepared.bias.map { UnsafePointer($0) }
        let fused = l.fused
        let flops = 2.0 * Double(s.batch * s.h * s.w) * Double(s.c / group) * Double(columns)
        // Windows that tile the output (PP-OCR's 2x2 stride-2 upsampling): each output
        // is written once, GEMM result plus bias, with no fill before.
        let tiles = s.win.stride == s.win.kernel && s.win.dilation == (1, 1) && s.win.pads == (0, 0, 0, 0) && outputPadding == [0, 0]
        let activates = fused.lo > -.infinity || fused.hi < .infinity || fused.activation.kind != .none
        return ({ arena in
            let xp = x.pointer(arena), yp = y.pointer(arena)
            if !tiles { kernels.fillRows(bias, yp, s.batch * s.oh * s.ow, s.m) }
            Scratch.with(band * s.w * pixelFloats) { cols in
                var r0 = 0
                while r0 < s.batch * s.h {
                    let r1 = min(s.batch * s.h, r0 + band)
                    let rows = ConvShape.dense(rows: (r1 - r0) * s.w, k: s.c, units: pixelFloats)
                    kernels.conv(xp + r0 * s.w * s.c, rows, filters.panels, Epilogue(), xp, cols, threads)
                    kernels.col2im(cols, pixelFloats, s, groups, r0..<r1, tiles, bias, yp)
                    if tiles && activates {
                        // The band's output rows (input rows r0..<r1 make rows r0*kh..<r1*kh
                        // when windows tile the output) are final: activate them while in cache.
                        let span = s.win.kernel.h * s.ow * s.m
                        kernels.activate(yp + r0 * span, yp + r0 * span, (r1 - r0) * span, fused.lo, fused.hi, fused.activation)
                    }
                    r0 = r1
                }
            }
            if !tiles && activates {
                kernels.activate(yp, yp, out.reduce(1, *), fused.lo, fused.hi, fused.activation)
            }
        }, flops)
    }
}

