import KernelSupport

/// Add and Mul with numpy broadcasting. Same-shape operands run element by element
/// in whatever layout they share; an Add after a Conv is usually fused into it.
struct BinaryCore {
    let attrs: Attributes
    let multiply: Bool

    init(node: Node, multiply: Bool) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(2...2)
        try attrs.required(0)
        try attrs.required(1)
        self.multiply = multiply
    }

    func outputShape(_ shapes: [[Int]?]) throws -> [Int] {
        let a = try shape(shapes, 0, attrs), b = try shape(shapes, 1, attrs)
        guard a.count <= Limits.maxRank, b.count <= Limits.maxRank else { throw attrs.fail("rank above \(Limits.maxRank)") }
        guard let y = broadcastShape(a, b) else { throw attrs.fail("cannot broadcast \(a) and \(b)") }
        _ = try elementCount(y, "node '\(attrs.node.name)' output")
        return y
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try tensor(inputs, 0, attrs), b = try tensor(inputs, 1, attrs)
        _ = try outputShape([a.shape, b.shape])
        return Reference.broadcast(a, b, multiply ? (*) : (+))!
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let x = try l.input(0), b = try l.input(1), y = l.output
        let xs = l.inputShapes[0], bs = l.inputShapes[1], out = l.outputShape, multiply = multiply
        let count = out.reduce(1, *)
        if xs == bs {
            return ({ arena in kernels.binary(x.pointer(arena), b.pointer(arena), y.pointer(arena), count,
                                              multiply, -.infinity, .infinity) }, 0)
        }
        let rank = out.count
        let sa = Reference.stridesFor(xs, rank: rank), sb = Reference.stridesFor(bs, rank: rank)
        return ({ arena in kernels.broadcast(x.pointer(arena), sa, b.pointer(arena), sb, y.pointer(arena), out, multiply) }, 0)
    }
}

struct AddOp: Operator {
    static let opType = "Add"
    static let sinceOpset = 1
    static let inputCount = 2...2
    static let layout = LayoutRule.followsSameShapeInputs
    let core: BinaryCore
    init(node: Node, opset: Int) throws { core = try BinaryCore(node: node, multiply: false) }
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try core.outputShape(shapes) }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { try core.reference(inputs) }
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { try core.lower(l) }
}

struct MulOp: Operator {
    static let opType = "Mul"
    static let sinceOpset = 1
    static let inputCount = 2...2
    static let layout = LayoutRule.followsSameShapeInputs
    let core: BinaryCore
    init(node: Node, opset: Int) throws { core = try BinaryCore(node: node, multiply: true) }
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try core.outputShape(shapes) }
    func reference(_ inputs: [Tensor?]) throws -> Tensor { try core.reference(inputs) }
    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { try core.lower(l) }
}
