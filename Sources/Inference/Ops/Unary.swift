import Foundation
import KernelSupport

/// An element-wise op of one float input that is a clamp and an activation: it
/// runs through the `activate` kernel in whatever layout its input has, and after
/// a Conv or dense layer it is folded into that layer's write-back.
protocol UnaryActivation: ActivationOperator {
    /// The scalar reference of one element.
    func scalar(_ x: Float, _ constants: [Tensor?]) throws -> Float
}

extension UnaryActivation {
    static var inputCount: ClosedRange<Int> { 1...1 }
    static var layout: LayoutRule { .followsInput }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        guard epilogue(constants) != nil else { throw attrs.fail("its bounds must be constant") }
        return try shape(shapes, 0, attrs)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        return Tensor(shape: x.shape, data: try x.data.map { try scalar($0, inputs) })
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        guard let (lo, hi, a) = epilogue(l.constants) else { throw attrs.fail("its bounds must be constant") }
        let x = try l.input(0), y = l.output, count = l.outputShape.reduce(1, *)
        return ({ arena in kernels.activate(x.pointer(arena), y.pointer(arena), count, lo, hi, a) }, 0)
    }
}

/// An activation with no attributes: the one-input checks are all its init does.
protocol PlainActivation: UnaryActivation {
    init(attrs: Attributes)
}

extension PlainActivation {
    init(node: Node, opset: Int) throws { self.init(attrs: try unaryAttributes(node)) }
}

/// The checks every one-input activation shares.
private func unaryAttributes(_ node: Node) throws -> Attributes {
    let attrs = Attributes(node: node)
    try attrs.checkArity(1...1)
    try attrs.required(0)
    return attrs
}

struct ReluOp: PlainActivation {
    static let opType = "Relu"
    static let sinceOpset = 1
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (0, .infinity, .none) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { max(x, 0) }
}

/// Clip: bounds as attributes before opset 11, as optional constant scalar inputs from 11 on.
struct ClipOp: UnaryActivation {
    static let opType = "Clip"
    static let sinceOpset = 1
    static let inputCount = 1...3
    let attrs: Attributes
    let opset: Int
    /// Bounds given as attributes (opset < 11).
    let attributeBounds: (Float, Float)

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 11 ? 1...1 : Self.inputCount)
        try attrs.required(0)
        self.opset = opset
        attributeBounds = (try attrs.float("min", -.infinity), try attrs.float("max", .infinity))
    }

    /// The clamp bounds; from opset 11 the bound inputs must be constant float scalars.
    func bounds(_ constants: [Tensor?]) throws -> (lo: Float, hi: Float) {
        if opset < 11 { return attributeBounds }
        var lo = -Float.infinity, hi = Float.infinity
        for i in 1..<attrs.node.inputs.count where !attrs.node.inputs[i].isEmpty {
            guard i < constants.count, let t = constants[i] else { throw attrs.fail("Clip bounds must be constant") }
            guard t.isFloat, t.count == 1, !t.data[0].isNaN else { throw attrs.fail("Clip bound \(i) must be one float, got \(t.elementType.rawValue) \(t.shape)") }
            if i == 1 { lo = t.data[0] } else { hi = t.data[0] }
        }
        return (lo, hi)
    }

    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? {
        guard let (lo, hi) = try? bounds(constants) else { return nil }
        return (lo, hi, .none)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        _ = try bounds(constants)
        return try shape(shapes, 0, attrs)
    }

    func scalar(_ x: Float, _ constants: [Tensor?]) throws -> Float {
        let (lo, hi) = try bounds(constants)
        return Swift.min(Swift.max(x, lo), hi)
    }
}

struct SigmoidOp: PlainActivation {
    static let opType = "Sigmoid"
    static let sinceOpset = 1
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.sigmoid)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { 1 / (1 + Foundation.exp(-x)) }
}

/// HardSigmoid: max(0, min(1, alpha * x + beta)) (defaults 0.2 and 0.5).
struct HardSigmoidOp: UnaryActivation {
    static let opType = "HardSigmoid"
    static let sinceOpset = 6
    let attrs: Attributes
    let alpha: Float, beta: Float
    init(node: Node, opset: Int) throws {
        attrs = try unaryAttributes(node)
        alpha = try attrs.float("alpha", 0.2)
        beta = try attrs.float("beta", 0.5)
    }
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? {
        (-.infinity, .infinity, Activation(.hardSigmoid, alpha: alpha, beta: beta))
    }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { max(0, min(1, alpha * x + beta)) }
}

/// HardSwish (opset 14): x * HardSigmoid(x) with alpha 1/6, beta 0.5. Also what the
/// optimiser makes of exporters' x * Clip(x + 3, 0, 6) / 6 and x * HardSigmoid(x)
/// (then with that HardSigmoid's alpha and beta).
struct HardSwishOp: UnaryActivation {
    static let opType = "HardSwish"
    static let sinceOpset = 14
    let attrs: Attributes
    let alpha: Float, beta: Float
    init(node: Node, opset: Int) throws {
        attrs = try unaryAttributes(node)
        alpha = try attrs.float("alpha", 1.0 / 6)
        beta = try attrs.float("beta", 0.5)
    }
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? {
        (-.infinity, .infinity, Activation(.hardSwish, alpha: alpha, beta: beta))
    }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { x * max(0, min(1, alpha * x + beta)) }
}

/// Gelu (opset 20, approximate "none"): 0.5 x (1 + erf(x / sqrt 2)). Also what the
/// optimiser makes of the Div -> Erf -> Add -> Mul -> Mul form exporters write.
struct GeluOp: UnaryActivation {
    static let opType = "Gelu"
    static let sinceOpset = 20
    let attrs: Attributes
    init(node: Node, opset: Int) throws {
        attrs = try unaryAttributes(node)
        _ = try attrs.string("approximate", "none", oneOf: ["none"])
    }
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.gelu)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { 0.5 * x * (1 + Foundation.erf(x / Float(2).squareRoot())) }
}

/// x * sigmoid(x) (SiLU, Swish): no ONNX op of its own, so only the optimiser makes
/// it, from Mul(x, Sigmoid(x)); its op type cannot come from a model file.
struct SiluOp: PlainActivation {
    static let opType = "vidlabel.Silu"
    static let sinceOpset = 1
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.silu)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { x / (1 + Foundation.exp(-x)) }
}

struct ErfOp: PlainActivation {
    static let opType = "Erf"
    static let sinceOpset = 9
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.erf)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { Foundation.erf(x) }
}

struct SqrtOp: PlainActivation {
    static let opType = "Sqrt"
    static let sinceOpset = 6
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.sqrt)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { x.squareRoot() }
}

struct ExpOp: PlainActivation {
    static let opType = "Exp"
    static let sinceOpset = 6
    let attrs: Attributes
    func epilogue(_ constants: [Tensor?]) -> (lo: Float, hi: Float, activation: Activation)? { (-.infinity, .infinity, Activation(.exp)) }
    func scalar(_ x: Float, _ constants: [Tensor?]) -> Float { Foundation.exp(x) }
}
