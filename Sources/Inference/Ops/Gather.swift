import KernelSupport

/// Gather along an axis with int64 indices that are known when the plan is built
/// (negative ones count from the end; any outside the axis is the node's error).
/// Data of any type: on shape vectors it folds, on floats it copies.
struct GatherOp: Operator {
    static let opType = "Gather"
    static let sinceOpset = 1
    static let inputCount = 2...2
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let axis: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        axis = try attrs.int("axis", 0, in: -Limits.maxRank...Limits.maxRank)
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        guard types.count > 1, types[1] == .int64 else { throw attrs.fail("indices must be int64") }
        return [types[0] ?? .float32]
    }

    /// The axis, the indices resolved into 0..<dim, and the output shape.
    func resolve(_ x: [Int], _ constants: [Tensor?]) throws -> (axis: Int, indices: [Int], shape: [Int]) {
        let a = try resolveAxis(axis, rank: x.count, attrs)
        guard constants.count > 1, let t = constants[1], t.elementType == .int64 else { throw attrs.fail("indices must be known when the plan is built") }
        let dim = x[a]
        let indices = try t.integers.map { i -> Int in
            let r = i < 0 ? i + dim : i
            guard r >= 0 && r < dim else { throw attrs.fail("index \(i) is outside an axis of \(dim)") }
            return r
        }
        let shape = Array(x[..<a]) + t.shape + Array(x[(a + 1)...])
        _ = try elementCount(shape, "node '\(attrs.node.name)' output")
        return (a, indices, shape)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try resolve(try shape(shapes, 0, attrs), constants).shape }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let (a, indices, shape) = try resolve(x.shape, inputs)
        let inner = x.shape[(a + 1)...].reduce(1, *), dim = x.shape[a], n = indices.count
        return Reference.pick(x, shape: shape) { i in
            let o = i / (n * inner), k = (i / inner) % n, j = i % inner
            return (o * dim + indices[k]) * inner + j
        }
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let xs = l.inputShapes[0]
        let (a, indices, _) = try resolve(xs, l.constants)
        let inner = xs[(a + 1)...].reduce(1, *), outer = xs[..<a].reduce(1, *), dim = xs[a]
        let x = try l.input(0), y = l.output
        return ({ arena in
            let xp = x.pointer(arena), yp = y.pointer(arena)
            for o in 0..<outer {
                for (k, i) in indices.enumerated() {
                    (yp + (o * indices.count + k) * inner).update(from: xp + (o * dim + i) * inner, count: inner)
                }
            }
        }, 0)
    }
}
