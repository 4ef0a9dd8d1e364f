import KernelSupport

/// PRelu: y = x < 0 ? slope * x : x. The slope broadcasts to x one way (numpy
/// rules); the kernels take the two shapes real models use, one slope per channel
/// (PyTorch's PReLU(C): [C, 1, 1] against [N, C, H, W], [C] against [N, C]) and a
/// single slope, in either layout. Any other slope shape is refused at load.
struct PReluOp: Operator {
    static let opType = "PRelu"
    static let sinceOpset = 7
    static let inputCount = 2...2
    static let layout = LayoutRule.followsInput
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        try attrs.required(1)
    }

    /// True when `slope` has one value per channel (dimension 1 of `x`); false for a
    /// single value. - Throws: for a slope that does not broadcast to `x` or varies along another dimension.
    func perChannel(_ x: [Int], _ slope: [Int]) throws -> Bool {
        guard slope.count <= x.count, broadcastShape(x, slope) == x else {
            throw attrs.fail("slope \(slope) does not broadcast to input \(x)")
        }
        let aligned = [Int](repeating: 1, count: x.count - slope.count) + slope
        if aligned.allSatisfy({ $0 == 1 }) { return false }
        guard x.count >= 2, aligned.enumerated().allSatisfy({ $0 == 1 || $1 == 1 }) else {
            throw attrs.fail("slope \(slope) against input \(x): only one slope per channel (dimension 1) or a single slope is supported")
        }
        return true
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        _ = try perChannel(x, try shape(shapes, 1, attrs))
        guard constants.count > 1, constants[1] != nil else { throw attrs.fail("the slope must be constant") }
        return x
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs), slope = try tensor(inputs, 1, attrs)
        guard slope.rank <= x.rank, let y = Reference.broadcast(x, slope, { $0 < 0 ? $1 * $0 : $0 }), y.shape == x.shape else {
            throw attrs.fail("slope \(slope.shape) does not broadcast to input \(x.shape)")
        }
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let xs = l.inputShapes[0], count = xs.reduce(1, *)
        let x = try l.input(0), slope = try l.input(1), y = l.output
        // Channels-last memory puts a pixel's channels side by side; NCHW puts each
        // channel's plane of H*W values together.
        let (channels, inner) = try perChannel(xs, l.inputShapes[1])
            ? (xs[1], l.channelsLast ? 1 : xs.dropFirst(2).reduce(1, *)) : (1, count)
        return ({ arena in kernels.prelu(x.pointer(arena), slope.pointer(arena), y.pointer(arena), count, channels, inner) },
                Double(count))
    }
}
