import KernelSupport

/// Shape: the input's dimensions (from `start` to `end`, opset 15) as int64. Its
/// value is decided by the input's shape alone, so a plan always folds it.
struct ShapeOp: Operator {
    static let opType = "Shape"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let start: Int, end: Int?

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        start = try attrs.int("start", 0, in: -Limits.maxRank...Limits.maxRank)
        end = node.attributes["end"] == nil ? nil : try attrs.int("end", 0, in: -Limits.maxRank...Limits.maxRank)
    }

    /// Any input type; int64 out.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] { [.int64] }

    /// The dimensions start..<end, each bound clamped to the rank (negative from the end).
    func dimensions(_ x: [Int]) -> [Int] {
        let r = x.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + r : v, 0), r) }
        let lo = clamp(start), hi = clamp(end ?? r)
        return lo < hi ? Array(x[lo..<hi]) : []
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { [dimensions(try shape(shapes, 0, attrs)).count] }

    func valuesFromShapes(_ shapes: [[Int]?]) throws -> [Tensor]? {
        let d = dimensions(try shape(shapes, 0, attrs))
        return [Tensor(shape: [d.count], integers: d)]
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor { try valuesFromShapes([try tensor(inputs, 0, attrs).shape])![0] }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { throw attrs.fail("internal error: Shape left in a plan") }
}
