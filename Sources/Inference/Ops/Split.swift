import KernelSupport

/// Split along an axis into several outputs: sizes from the 'split' attribute
/// (opset < 13) or the int64 input (13 on), else equal parts (the last smaller
/// with opset 18's num_outputs). A channel split of a channels-last value stays
/// channels-last (YOLOv8's C2f blocks split what a Conv wrote).
struct SplitOp: Operator {
    static let opType = "Split"
    static let sinceOpset = 2
    static let inputCount = 1...2
    static let layout = LayoutRule.flexible
    let attrs: Attributes
    let axis: Int
    let opset: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 13 ? 1...1 : Self.inputCount, outputs: 1...4096)
        try attrs.required(0)
        axis = try attrs.int("axis", 0, in: -Limits.maxRank...Limits.maxRank)
        self.opset = opset
        if let n = node.attributes["num_outputs"] {
            guard case .int(let v) = n, v == node.outputs.count else { throw attrs.fail("num_outputs must equal the number of outputs") }
        }
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        if types.count > 1, let t = types[1], t != .int64 { throw attrs.fail("split sizes must be int64") }
        return [ElementType](repeating: types.first.flatMap { $0 } ?? .float32, count: attrs.node.outputs.count)
    }

    /// The axis and each output's size along it.
    func sizes(_ x: [Int], _ constants: [Tensor?]) throws -> (axis: Int, sizes: [Int]) {
        let a = try resolveAxis(axis, rank: x.count, attrs)
        let n = attrs.node.outputs.count, dim = x[a]
        let given = opset < 13 ? try attrs.ints("split", count: n) : try attrs.integerList(constants, 1, what: "split", maxCount: 4096)
        if let given {
            guard given.count == n, given.allSatisfy({ $0 >= 0 }), given.reduce(0, { $0 + min($1, dim + 1) }) == dim else {
                throw attrs.fail("split \(given) does not divide axis \(a) of size \(dim) into \(n) parts")
            }
            return (a, given)
        }
        // Equal parts; with num_outputs the last may be smaller.
        let part = (dim + n - 1) / n
        guard attrs.node.attributes["num_outputs"] != nil || dim % n == 0 else { throw attrs.fail("axis \(a) of size \(dim) does not split into \(n) equal parts") }
        return (a, (0..<n).map { min(part, max(0, dim - $0 * part)) })
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try outputShapes(shapes, constants: constants)[0] }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]] {
        let x = try shape(shapes, 0, attrs)
        let (a, s) = try sizes(x, constants)
        return s.map { var y = x; y[a] = $0; return y }
    }

    /// The copy that cuts output k out of an input of shape x (row-major).
    func copies(_ x: [Int], _ constants: [Tensor?]) throws -> [StridedCopy] {
        let (a, s) = try sizes(x, constants)
        let strides = rowMajorStrides(x)
        var offset = 0
        return s.map { size in
            var shape = x
            shape[a] = size
            defer { offset += size }
            return StridedCopy(shape: shape, strides: strides, base: offset * strides[a])
        }
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor { try references(inputs)[0] }

    func references(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try tensor(inputs, 0, attrs)
        return try copies(x.shape, inputs).map { $0.apply(x) }
    }

    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice {
        let onChannels = q.shapes[0].count == 4 && (try? resolveAxis(axis, rank: 4, attrs)) == 1
        let nhwc = onChannels && q.channelsLast[0]
        return LayoutChoice(inputs: [Bool?](repeating: nhwc ? nil : false, count: q.shapes.count), output: nhwc)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let xs = l.inputShapes[0]
        let parts: [StridedCopy]
        if l.outputChannelsLast {
            // Rows of pixels, each output a run of its channels.
            let pixels = xs[0] * xs[2] * xs[3], c = xs[1]
            var offset = 0
            parts = try sizes(xs, l.constants).sizes.map { size in
                defer { offset += size }
                return StridedCopy(shape: [pixels, size], strides: [c, 1], base: offset)
            }
        } else {
            parts = try copies(xs, l.constants)
        }
        let x = try l.input(0), ys = l.outputs
        return ({ arena in
            let xp = x.pointer(arena)
            for (c, y) in zip(parts, ys) { c.run(xp, y.pointer(arena)) }
        }, 0)
    }
}
