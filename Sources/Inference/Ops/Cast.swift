import KernelSupport

/// Cast to float32, int64, int32 (held as int64, values wrapped to 32 bits) or bool.
/// Float to float is free (its output shares the input's storage); every cast
/// that makes integers folds, as all integer values must.
struct CastOp: AliasOperator {
    static let opType = "Cast"
    static let sinceOpset = 6
    static let inputCount = 1...1
    static let layout = LayoutRule.followsInput
    let attrs: Attributes
    /// ONNX TensorProto data type: 1 float, 6 int32, 7 int64, 9 bool.
    let to: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        guard node.attributes["to"] != nil else { throw attrs.fail("attribute 'to' is required") }
        to = try attrs.int("to", 1)
        guard [1, 6, 7, 9].contains(to) else { throw attrs.fail("cast to data type \(to) is not supported (float32, int32, int64, bool)") }
    }

    var target: ElementType { to == 1 ? .float32 : to == 9 ? .bool : .int64 }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] { [target] }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try shape(shapes, 0, attrs) }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        var y = try tensor(inputs, 0, attrs).cast(to: target)
        if to == 6 { y.integers = y.integers.map { Int(Int32(truncatingIfNeeded: $0)) } }
        return y
    }
}
