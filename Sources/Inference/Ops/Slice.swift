import KernelSupport

/// Slice: starts, ends, axes and steps as attributes (opset < 10) or int64 inputs
/// (10 on), which must be known when the plan is built. Bounds are clamped as the
/// spec says, so INT64_MAX ("to the end") and INT64_MIN never overflow.
struct SliceOp: StridedCopyOperator {
    static let opType = "Slice"
    static let sinceOpset = 1
    static let inputCount = 1...5
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let opset: Int

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 10 ? 1...1 : 3...5)
        try attrs.required(0)
        self.opset = opset
        if opset < 10 {
            guard node.attributes["starts"] != nil, node.attributes["ends"] != nil else { throw attrs.fail("attributes 'starts' and 'ends' are required") }
        } else {
            try attrs.required(1)
            try attrs.required(2)
        }
    }

    /// Data of any type; the bounds (inputs 1...) int64.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        for i in 1..<max(types.count, 1) where types[i] != nil && types[i] != .int64 {
            throw attrs.fail("input \(i) must be int64, got \(types[i]!.rawValue)")
        }
        return [types.first.flatMap { $0 } ?? .float32]
    }

    /// The copy that computes the slice of an input of shape `x`.
    func copy(_ x: [Int], _ constants: [Tensor?]) throws -> StridedCopy {
        let starts: [Int], ends: [Int], axesGiven: [Int]?, stepsGiven: [Int]?
        if opset < 10 {
            starts = try attrs.ints("starts") ?? []
            ends = try attrs.ints("ends") ?? []
            axesGiven = try attrs.ints("axes")
            stepsGiven = nil
        } else {
            starts = try attrs.integerList(constants, 1, what: "starts") ?? []
            ends = try attrs.integerList(constants, 2, what: "ends") ?? []
            axesGiven = try attrs.integerList(constants, 3, what: "axes")
            stepsGiven = try attrs.integerList(constants, 4, what: "steps")
        }
        let axes = axesGiven ?? Array(0..<starts.count)
        let steps = stepsGiven ?? [Int](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw attrs.fail("starts, ends, axes and steps must have one value each per sliced axis")
        }
        var shape = x
        var strides = rowMajorStrides(x)
        var base = 0
        var seen = Set<Int>()
        for i in starts.indices {
            let a = try resolveAxis(axes[i], rank: x.count, attrs)
            guard seen.insert(a).inserted else { throw attrs.fail("axis \(a) is sliced twice") }
            let dim = x[a], step = steps[i]
            guard step != 0 else { throw attrs.fail("step 0 on axis \(a)") }
            var s = starts[i], e = ends[i]
            if s < 0 { s += dim }
            if e < 0 { e += dim }
            let count: Int
            if step > 0 {
                s = min(max(s, 0), dim)
                e = min(max(e, 0), dim)
                count = e > s ? (e - s - 1) / step + 1 : 0
            } else {
                s = min(max(s, 0), dim - 1)
                e = min(max(e, -1), dim - 1)
                let magnitude = step == Int.min ? Int.max : -step
                count = s > e ? (s - e - 1) / magnitude + 1 : 0
            }
            // A step longer than the axis takes one element: its size no longer matters.
            let effective = step > 0 ? min(step, max(dim, 1)) : max(step, -max(dim, 1))
            if count > 0 { base += s * strides[a] }
            strides[a] *= effective
            shape[a] = count
        }
        return StridedCopy(shape: shape, strides: strides, base: base)
    }
}
