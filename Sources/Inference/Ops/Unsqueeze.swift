import KernelSupport

/// Unsqueeze: inserts size-1 axes at the given positions of the output; axes as an
/// attribute before opset 13, an int64 input from 13 on. The output shares its
/// input's storage.
struct UnsqueezeOp: AliasOperator {
    static let opType = "Unsqueeze"
    static let sinceOpset = 1
    static let inputCount = 1...2
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let opset: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 13 ? 1...1 : 2...2)
        try attrs.required(0)
        if opset >= 13 { try attrs.required(1) }
        self.opset = opset
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        guard let given = opset < 13 ? try attrs.ints("axes") : try attrs.integerList(constants, 1, what: "axes") else {
            throw attrs.fail("axes are required")
        }
        let rank = x.count + given.count
        guard rank <= Limits.maxRank else { throw attrs.fail("the output would have rank \(rank), above \(Limits.maxRank)") }
        let axes = Set(try given.map { try resolveAxis($0, rank: rank, attrs) })
        guard axes.count == given.count else { throw attrs.fail("axes \(given) repeat an axis") }
        var out: [Int] = []
        var rest = x[...]
        for d in 0..<rank { out.append(axes.contains(d) ? 1 : rest.removeFirst()) }
        return out
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        var x = try tensor(inputs, 0, attrs)
        x.shape = try outputShape([x.shape], constants: inputs)
        return x
    }
}
