import Foundation
import KernelSupport

/// Relu, Clip and Sigmoid: element by element in whatever layout the input has.
/// Relu and Clip are usually fused into the Conv or Gemm before them.
struct ReluOp: Operator {
    static let opType = "Relu"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.followsInput
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try shape(shapes, 0, attrs) }

    func reference(_ inputs: [Tensor?]) throws -> Tensor { Reference.map(try tensor(inputs, 0, attrs)) { max($0, 0) } }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let x = try l.input(0), y = l.output, count = l.outputShape.reduce(1, *)
        return ({ arena in kernels.clamp(x.pointer(arena), y.pointer(arena), count, 0, .infinity) }, 0)
    }
}

/// Clip: bounds as attributes before opset 11, as optional constant scalar inputs from 11 on.
struct ClipOp: Operator {
    static let opType = "Clip"
    static let sinceOpset = 1
    static let inputCount = 1...3
    static let layout = LayoutRule.followsInput
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

    /// The clamp bounds; from opset 11 the bound inputs must be constant scalars.
    func bounds(_ constants: [Tensor?]) throws -> (lo: Float, hi: Float) {
        if opset < 11 { return attributeBounds }
        var lo = -Float.infinity, hi = Float.infinity
        for i in 1..<attrs.node.inputs.count where !attrs.node.inputs[i].isEmpty {
            guard i < constants.count, let t = constants[i] else { throw attrs.fail("Clip bounds must be constant") }
            guard t.count == 1, !t.data[0].isNaN else { throw attrs.fail("Clip bound \(i) must be one number, got shape \(t.shape)") }
            if i == 1 { lo = t.data[0] } else { hi = t.data[0] }
        }
        return (lo, hi)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        _ = try bounds(constants)
        return try shape(shapes, 0, attrs)
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let (lo, hi) = try bounds(inputs)
        return Reference.map(try tensor(inputs, 0, attrs)) { Swift.min(Swift.max($0, lo), hi) }
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let (lo, hi) = try bounds(l.constants)
        let x = try l.input(0), y = l.output, count = l.outputShape.reduce(1, *)
        return ({ arena in kernels.clamp(x.pointer(arena), y.pointer(arena), count, lo, hi) }, 0)
    }
}

struct SigmoidOp: Operator {
    static let opType = "Sigmoid"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.followsInput
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try shape(shapes, 0, attrs) }

    func reference(_ inputs: [Tensor?]) throws -> Tensor { Reference.map(try tensor(inputs, 0, attrs)) { 1 / (1 + Foundation.exp(-$0)) } }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let x = try l.input(0), y = l.output, count = l.outputShape.reduce(1, *)
        return ({ arena in kernels.sigmoid(x.pointer(arena), y.pointer(arena), count) }, 0)
    }
}
