import KernelSupport

/// Concat along an axis: every input has the same rank and the same sizes on every
/// other axis (checked: a mismatch would write past the output).
struct ConcatOp: Operator {
    static let opType = "Concat"
    static let sinceOpset = 4
    static let inputCount = 1...4096
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let axis: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        for i in node.inputs.indices { try attrs.required(i) }
        guard node.attributes["axis"] != nil else { throw attrs.fail("attribute 'axis' is required") }
        axis = try attrs.int("axis", 0, in: -Limits.maxRank...Limits.maxRank)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        let a = try resolveAxis(axis, rank: x.count, attrs)
        var out = x
        out[a] = 0
        for i in shapes.indices {
            let t = try shape(shapes, i, attrs)
            guard t.count == x.count, t.indices.allSatisfy({ $0 == a || t[$0] == x[$0] }) else {
                throw attrs.fail("input \(i) has shape \(t), which does not match \(x) outside axis \(a)")
            }
            out[a] += t[a]
        }
        _ = try elementCount(out, "node '\(attrs.node.name)' output")
        return out
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let xs = try inputs.indices.map { try tensor(inputs, $0, attrs) }
        let shape = try outputShape(xs.map(\.shape), constants: [])
        let a = try resolveAxis(axis, rank: shape.count, attrs)
        let outer = shape[..<a].reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(shape.reduce(1, *))
        for o in 0..<outer {
            for x in xs {
                let chunk = x.shape[a...].reduce(1, *)
                data.append(contentsOf: x.data[(o * chunk)..<((o + 1) * chunk)])
            }
        }
        return Tensor(shape: shape, data: data)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let a = try resolveAxis(axis, rank: l.outputShape.count, attrs)
        let outer = l.outputShape[..<a].reduce(1, *)
        let chunks = l.inputShapes.map { $0[a...].reduce(1, *) }
        let total = chunks.reduce(0, +)
        let parts = try l.inputs.indices.map { try l.input($0) }
        let y = l.output
        return ({ arena in
            let yp = y.pointer(arena)
            var off = 0
            for (part, chunk) in zip(parts, chunks) {
                let src = part.pointer(arena)
                for o in 0..<outer { (yp + o * total + off).update(from: src + o * chunk, count: chunk) }
                off += chunk
            }
        }, 0)
    }
}
