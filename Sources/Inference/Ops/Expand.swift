import KernelSupport

/// Expand: the input broadcast (both ways, numpy rules) with an int64 shape known
/// when the plan is built.
struct ExpandOp: StridedCopyOperator {
    static let opType = "Expand"
    static let sinceOpset = 8
    static let inputCount = 2...2
    static let layout = LayoutRule.onnx
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        guard types.count > 1, types[1] == .int64 else { throw attrs.fail("the shape input must be int64") }
        return [types[0] ?? .float32]
    }

    func copy(_ x: [Int], _ constants: [Tensor?]) throws -> StridedCopy {
        guard let target = try attrs.integerList(constants, 1, what: "shape") else { throw attrs.fail("input 1 is required") }
        guard target.allSatisfy({ $0 >= 0 }), let out = broadcastShape(x, target) else {
            throw attrs.fail("cannot expand \(x) to \(target)")
        }
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        return StridedCopy(shape: out, strides: Reference.stridesFor(x, rank: out.count), base: 0)
    }
}
