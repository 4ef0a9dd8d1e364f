import KernelSupport

/// Concat along an axis: every input has the same rank and the same sizes on every
/// other axis (checked: a mismatch would write past the output). Float or int64
/// (a reshape target built from `Shape`). Channels-last inputs concatenated on
/// the channel axis stay channels-last: each pixel's channel runs side by side
/// (YOLOv8's C2f blocks, PP-OCR's feature pyramid).
struct ConcatOp: Operator {
    static let opType = "Concat"
    static let sinceOpset = 4
    static let inputCount = 1...4096
    static let layout = LayoutRule.flexible
    let attrs: Attributes
    let axis: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        for i in node.inputs.indices { try attrs.required(i) }
        guard node.attributes["axis"] != nil else { throw attrs.fail("attribute 'axis' is required") }
        axis = try attrs.int("axis", 0, in: -Limits.maxRank...Limits.maxRank)
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        let t = types.first.flatMap { $0 } ?? .float32
        guard types.allSatisfy({ $0 == t }) else { throw attrs.fail("inputs must all have one element type, got \(types.compactMap { $0?.rawValue })") }
        return [t]
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
        let type = try outputTypes(xs.map(\.elementType))[0]
        let shape = try outputShape(xs.map(\.shape), constants: [])
        let a = try resolveAxis(axis, rank: shape.count, attrs)
        let outer = shape[..<a].reduce(1, *)
        func joined<T>(_ values: (Tensor) -> [T]) -> [T] {
            var data: [T] = []
            data.reserveCapacity(shape.reduce(1, *))
            for o in 0..<outer {
                for x in xs {
                    let chunk = x.shape[a...].reduce(1, *)
                    data.append(contentsOf: values(x)[(o * chunk)..<((o + 1) * chunk)])
                }
            }
            return data
        }
        return type == .float32 ? Tensor(shape: shape, data: joined(\.data)) : Tensor(shape: shape, integers: joined(\.integers), type: type)
    }

    /// Channels-last for a channel concat of 4-D values when any input already is
    /// (and none is a constant, which is held in the ONNX layout).
    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice {
        let n = q.shapes.count
        let onChannels = q.shapes[0].count == 4 && (try? resolveAxis(axis, rank: 4, attrs)) == 1
        if onChannels && q.channelsLast.contains(true) && !q.isConstant.contains(true) {
            return LayoutChoice(inputs: [Bool?](repeating: true, count: n), output: true)
        }
        return LayoutChoice(inputs: [Bool?](repeating: false, count: n), output: false)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let shape = l.outputShape
        let a = try resolveAxis(axis, rank: shape.count, attrs)
        // Channels-last on the channel axis: rows of pixels, each input a run of its channels.
        let (outer, chunks): (Int, [Int]) = l.outputChannelsLast
            ? (shape[0] * shape[2] * shape[3], l.inputShapes.map { $0[1] })
            : (shape[..<a].reduce(1, *), l.inputShapes.map { $0[a...].reduce(1, *) })
        let total = chunks.reduce(0, +)
        let parts = try l.inputs.indices.map { try l.input($0) }
        let y = l.output
        // Output-major: each output row (a pixel's channels) is written whole, its parts
        // side by side. Part by part, every output cache line was written twice, in two
        // passes over an output larger than the caches (PP-OCR's 48 x 272 x 480 concat:
        // read from memory again for the second pass).
        let offsets = chunks.indices.map { chunks[..<$0].reduce(0, +) }
        return ({ arena in
            let yp = y.pointer(arena)
            let srcs = parts.map { UnsafePointer($0.pointer(arena)) }
            for o in 0..<outer {
                let row = yp + o * total
                for i in srcs.indices { copyFloats(srcs[i] + o * chunks[i], row + offsets[i], chunks[i]) }
            }
        }, 0)
    }
}
