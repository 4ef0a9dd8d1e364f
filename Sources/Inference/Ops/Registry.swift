/// Every operator the engine runs, by ONNX op type: one line per op.
let operatorTypes: [String: any Operator.Type] = Dictionary(uniqueKeysWithValues: ([
    // Convolutions, matrix products, pooling, normalisation.
    ConvOp.self, ConvTransposeOp.self, GemmOp.self, MatMulOp.self, MaxPoolOp.self, AveragePoolOp.self, GlobalAveragePoolOp.self,
    BatchNormalizationOp.self, LayerNormalizationOp.self, ReduceMeanOp.self, SoftmaxOp.self, ResizeOp.self,
    // Element by element.
    ReluOp.self, ClipOp.self, SigmoidOp.self, HardSigmoidOp.self, HardSwishOp.self, GeluOp.self, ErfOp.self, SqrtOp.self, ExpOp.self,
    PReluOp.self, AddOp.self, SubOp.self, MulOp.self, DivOp.self, PowOp.self,
    // Shapes and data movement.
    ReshapeOp.self, FlattenOp.self, IdentityOp.self, SqueezeOp.self, UnsqueezeOp.self, TransposeOp.self, ConcatOp.self, SplitOp.self,
    SliceOp.self, GatherOp.self, ExpandOp.self, CastOp.self, ShapeOp.self, RangeOp.self, ConstantOfShapeOp.self, ConstantOp.self,
    // Made by the optimiser only (their op types cannot come from a model file).
    SiluOp.self, MatMulBiasOp.self,
] as [any Operator.Type]).map { ($0.opType, $0) })

/// The prefix of the op types only the optimiser makes.
let internalOpPrefix = "vidlabel."

/// Operators the engine implements, with the lowest opset each is supported from.
public let supportedOps: [String: Int] = operatorTypes.filter { !$0.key.hasPrefix(internalOpPrefix) }.mapValues { $0.sinceOpset }

/// Reads and checks one node. - Throws: `InferenceError` for an unsupported op type or
/// opset, or a node that breaks the op's rules.
func parseOperator(_ node: Node, opset: Int) throws -> any Operator {
    guard let type = operatorTypes[node.opType], opset >= type.sinceOpset || node.fused,
          !node.opType.hasPrefix(internalOpPrefix) || node.fused else {
        throw InferenceError("unsupported op \(node.opType) (node '\(node.name)', opset \(opset))")
    }
    return try type.init(node: node, opset: opset)
}
