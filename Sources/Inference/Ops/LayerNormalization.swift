import KernelSupport

/// LayerNormalization (opset 17): each run of the axes from `axis` on normalised,
/// (x - mean) / sqrt(var + epsilon) * scale + bias, scale and bias of that
/// run's shape. The optimiser also makes it of the ReduceMean -> Sub -> Pow ->
/// ReduceMean -> Add -> Sqrt -> Div -> Mul -> Add form exporters write.
/// Scale and bias may be computed (any float input of the normalised axes' shape).
struct LayerNormalizationOp: Operator {
    static let opType = "LayerNormalization"
    static let sinceOpset = 17
    static let inputCount = 2...3
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let axis: Int
    let epsilon: Float

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
        axis = try attrs.int("axis", -1, in: -Limits.maxRank...Limits.maxRank)
        epsilon = try attrs.float("epsilon", 1e-5)
        guard epsilon >= 0 else { throw attrs.fail("epsilon must be >= 0") }
        _ = try attrs.int("stash_type", 1, in: 1...1)
    }

    /// Rows and row length for input x, checking scale and bias.
    func extents(_ x: [Int], _ scale: [Int]?, _ bias: [Int]?) throws -> (rows: Int, len: Int) {
        let a = try resolveAxis(axis, rank: x.count, attrs)
        let len = x[a...].reduce(1, *)
        for (name, s) in [("scale", scale), ("bias", bias)] {
            guard let s else { continue }
            guard s.reduce(1, *) == len, s.count <= x.count - a, Array(x.suffix(s.count)) == s else {
                throw attrs.fail("\(name) \(s) does not match the normalised axes \(Array(x[a...]))")
            }
        }
        return (x[..<a].reduce(1, *), len)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        _ = try extents(x, try shape(shapes, 1, attrs), shapes.count > 2 ? shapes[2] : nil)
        return x
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs), scale = try tensor(inputs, 1, attrs)
        let bias = inputs.count > 2 ? inputs[2] : nil
        let (rows, len) = try extents(x.shape, scale.shape, bias?.shape)
        var y = x
        for r in 0..<rows {
            let row = x.data[(r * len)..<((r + 1) * len)]
            let mean = row.reduce(0, +) / Float(len)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(len)
            let root = (variance + epsilon).squareRoot()
            for j in 0..<len { y.data[r * len + j] = (x.data[r * len + j] - mean) / root * scale.data[j] + (bias?.data[j] ?? 0) }
        }
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let hasBias = l.inputs.count > 2 && !attrs.node.inputs[2].isEmpty
        let (rows, len) = try extents(l.inputShapes[0], l.inputShapes[1], hasBias ? l.inputShapes[2] : nil)
        let x = try l.input(0), scale = try l.input(1), bias = hasBias ? try l.input(2) : nil, y = l.output, epsilon = epsilon
        return ({ arena in
            kernels.layerNorm(x.pointer(arena), scale.pointer(arena), bias.map { UnsafePointer($0.pointer(arena)) }, y.pointer(arena),
                              rows, len, epsilon)
        }, Double(rows * len * 8))
    }
}
