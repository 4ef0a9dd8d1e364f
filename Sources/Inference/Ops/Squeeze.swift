import KernelSupport

/// Squeeze: drops the given size-1 axes (all of them when none are given); axes as
/// an attribute before opset 13, an int64 input from 13 on. Only the indexing
/// changes: the output shares its input's storage.
struct SqueezeOp: AliasOperator {
    static let opType = "Squeeze"
    static let sinceOpset = 1
    static let inputCount = 1...2
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let opset: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 13 ? 1...1 : Self.inputCount)
        try attrs.required(0)
        self.opset = opset
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        let given = opset < 13 ? try attrs.ints("axes") : try attrs.integerList(constants, 1, what: "axes")
        guard let given else { return x.filter { $0 != 1 } }
        let axes = Set(try given.map { try resolveAxis($0, rank: x.count, attrs) })
        guard axes.count == given.count else { throw attrs.fail("axes \(given) repeat an axis") }
        for a in axes where x[a] != 1 { throw attrs.fail("axis \(a) of \(x) has size \(x[a]), not 1") }
        return x.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        var x = try tensor(inputs, 0, attrs)
        x.shape = try outputShape([x.shape], constants: inputs)
        return x
    }
}
