/// Every operator the engine runs, by ONNX op type: one line per op.
let operatorTypes: [String: any Operator.Type] = Dictionary(uniqueKeysWithValues: ([
    ConvOp.self, ReluOp.self, ClipOp.self, SigmoidOp.self, AddOp.self, MulOp.self,
    MaxPoolOp.self, AveragePoolOp.self, GlobalAveragePoolOp.self, GemmOp.self, MatMulOp.self,
    ReshapeOp.self, FlattenOp.self, IdentityOp.self, TransposeOp.self, SoftmaxOp.self, ConcatOp.self,
    BatchNormalizationOp.self, ConstantOp.self, PReluOp.self,
] as [any Operator.Type]).map { ($0.opType, $0) })

/// Operators the engine implements, with the lowest opset each is supported from.
public let supportedOps: [String: Int] = operatorTypes.mapValues { $0.sinceOpset }

/// Reads and checks one node. - Throws: `InferenceError` for an unsupported op type or
/// opset, or a node that breaks the op's rules.
func parseOperator(_ node: Node, opset: Int) throws -> any Operator {
    guard let type = operatorTypes[node.opType], opset >= type.sinceOpset else {
        throw InferenceError("unsupported op \(node.opType) (node '\(node.name)', opset \(opset))")
    }
    return try type.init(node: node, opset: opset)
}
