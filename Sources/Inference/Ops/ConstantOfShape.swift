import KernelSupport

/// ConstantOfShape: a tensor of the shape its int64 input gives, every element
/// `value` (a one-element tensor; float 0 by default). The shape must be known when
/// the plan is built; the result folds within the fold limits.
struct ConstantOfShapeOp: Operator {
    static let opType = "ConstantOfShape"
    static let sinceOpset = 9
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let value: Tensor

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        if let a = node.attributes["value"] {
            guard case .tensor(let t) = a, t.count == 1 else { throw attrs.fail("attribute 'value' must be a one-element tensor") }
            value = t
        } else {
            value = Tensor(shape: [1], data: [0])
        }
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        guard types.first.flatMap({ $0 }) == .int64 else { throw attrs.fail("the shape input must be int64") }
        return [value.elementType]
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        guard let dims = try attrs.integerList(constants, 0, what: "shape") else { throw attrs.fail("input 0 is required") }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw attrs.fail("shape \(dims) has a negative dimension") }
        _ = try elementCount(dims, "node '\(attrs.node.name)' output")
        return dims
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let shape = try outputShape([], constants: inputs)
        let n = shape.reduce(1, *)
        return value.isFloat ? Tensor(shape: shape, data: [Float](repeating: value.data[0], count: n))
            : Tensor(shape: shape, integers: [Int](repeating: value.integers[0], count: n), type: value.elementType)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { throw attrs.fail("its shape must be known when the plan is built") }
}
