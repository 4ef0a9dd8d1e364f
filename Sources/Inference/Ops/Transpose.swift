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

    /// Any element type (shape vectors are transposed too, and fold).
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] { [types.first.flatMap { $0 } ?? .float32] }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let p = try permutation(rank: x.rank)
        let shape = p.map { x.shape[$0] }
        let inStrides = rowMajorStrides(x.shape)
        return Reference.pick(x, shape: shape) { Reference.stridedIndex($0, shape: shape, strides: p.map { inStrides[$0] }) }
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0], p = try permutation(rank: l.inputShapes[0].count)
        let x = try l.input(0), y = l.output
        return ({ arena in kernels.transpose(x.pointer(arena), xs, p, y.pointer(arena)) }, 0)
    }
}
