import KernelSupport

/// Transpose: any permutation. NHWC -> NCHW ([0, 3, 1, 2], e.g. a TensorFlow model's
/// input) costs nothing in a plan: the result is the input read channels-last.
struct TransposeOp: Operator {
    static let opType = "Transpose"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let perm: [Int]?

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        perm = try attrs.ints("perm", in: 0...(Limits.maxRank - 1))
    }

    /// The permutation for an input of `rank` (reversed when not given).
    func permutation(rank: Int) throws -> [Int] {
        let p = perm ?? Array((0..<rank).reversed())
        guard p.sorted() == Array(0..<rank) else { throw attrs.fail("perm \(p) is not a permutation of 0..<\(rank)") }
        return p
    }

    /// True for [0, 3, 1, 2]: NHWC to NCHW, a free relabelling of channels-last data.
    var isNHWCToNCHW: Bool { perm == [0, 3, 1, 2] }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        return try permutation(rank: x.count).map { x[$0] }
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let p = try permutation(rank: x.rank)
        let shape = p.map { x.shape[$0] }
        let inStrides = rowMajorStrides(x.shape), outStrides = rowMajorStrides(shape)
        var y = Tensor(zeros: shape)
        for i in 0..<y.count {
            var rem = i, src = 0
            for d in 0..<shape.count { let q = rem / outStrides[d]; rem %= outStrides[d]; src += q * inStrides[p[d]] }
            y.data[i] = x.data[src]
        }
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0], p = try permutation(rank: l.inputShapes[0].count)
        let x = try l.input(0), y = l.output
        return ({ arena in kernels.transpose(x.pointer(arena), xs, p, y.pointer(arena)) }, 0)
    }
}
