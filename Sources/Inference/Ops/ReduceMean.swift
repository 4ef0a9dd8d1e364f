import KernelSupport

/// ReduceMean over a run of adjacent axes (axes as an attribute before opset 18, an
/// int64 input from 18 on), keepdims either way. The spatial mean of a 4-D
/// tensor (a squeeze-and-excitation block's) reads channels-last, like
/// GlobalAveragePool; any other run reduces in the ONNX layout.
struct ReduceMeanOp: Operator {
    static let opType = "ReduceMean"
    static let sinceOpset = 1
    static let inputCount = 1...2
    static let layout = LayoutRule.flexible
    let attrs: Attributes
    let opset: Int
    let keepDims: Bool
    let noopWithEmptyAxes: Bool

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(opset < 18 ? 1...1 : Self.inputCount)
        try attrs.required(0)
        self.opset = opset
        keepDims = try attrs.int("keepdims", 1, in: 0...1) == 1
        noopWithEmptyAxes = try attrs.int("noop_with_empty_axes", 0, in: 0...1) == 1
    }

    /// float data; axes (opset 18) int64.
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        try requireFloat(types, 0..<1)
        if types.count > 1, let t = types[1], t != .int64 { throw attrs.fail("axes must be int64, got \(t.rawValue)") }
        return [.float32]
    }

    /// The reduced axes as a range, and the output shape. - Throws: for axes that are not adjacent.
    func reduction(_ x: [Int], _ constants: [Tensor?]) throws -> (axes: Range<Int>, shape: [Int]) {
        let given = opset < 18 ? try attrs.ints("axes") : try attrs.integerList(constants, 1, what: "axes")
        var axes: [Int]
        if let given, !given.isEmpty {
            axes = try given.map { try resolveAxis($0, rank: x.count, attrs) }.sorted()
            guard Set(axes).count == axes.count else { throw attrs.fail("axes \(given) repeat an axis") }
        } else {
            axes = noopWithEmptyAxes ? [] : Array(0..<x.count)
        }
        guard axes.isEmpty || axes.last! - axes.first! + 1 == axes.count else {
            throw attrs.fail("only adjacent axes are supported, got \(axes)")
        }
        let range = axes.isEmpty ? 0..<0 : axes.first!..<(axes.last! + 1)
        var shape: [Int] = []
        for (d, n) in x.enumerated() {
            if range.contains(d) { if keepDims { shape.append(1) } } else { shape.append(n) }
        }
        return (range, shape)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try reduction(try shape(shapes, 0, attrs), constants).shape }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let (axes, shape) = try reduction(x.shape, inputs)
        let outer = x.shape[..<axes.lowerBound].reduce(1, *), len = x.shape[axes].reduce(1, *)
        let inner = x.shape[axes.upperBound...].reduce(1, *)
        var y = Tensor(zeros: shape)
        for o in 0..<outer { for i in 0..<inner {
            var s: Float = 0
            for j in 0..<len { s += x.data[(o * len + j) * inner + i] }
            y.data[o * inner + i] = s / Float(max(len, 1))
        }}
        return y
    }

    /// The spatial mean of a 4-D value reads channels-last; the rest runs in the ONNX layout.
    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice {
        let x = q.shapes[0]
        let spatial = x.count == 4 && (try? reduction(x, q.shapes.count > 1 ? [nil, nil] : [nil]))?.axes == 2..<4
        return LayoutChoice(inputs: [spatial ? true : false] + [Bool?](repeating: false, count: q.shapes.count - 1), output: false)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0]
        let (axes, _) = try reduction(xs, l.constants)
        let x = try l.input(0), y = l.output
        if l.inputChannelsLast[0] {
            // NHWC [N, H*W, C] -> [N, C]: the same memory as [N, C, 1, 1] in either layout.
            return ({ arena in kernels.globalAverage(x.pointer(arena), xs[0], xs[2] * xs[3], xs[1], y.pointer(arena)) }, 0)
        }
        let outer = xs[..<axes.lowerBound].reduce(1, *), len = xs[axes].reduce(1, *), inner = xs[axes.upperBound...].reduce(1, *)
        return ({ arena in kernels.reduce(x.pointer(arena), y.pointer(arena), outer, len, inner, true) }, 0)
    }
}
