import Foundation
import KernelSupport

/// Add, Sub, Mul, Div and Pow with numpy broadcasting. Float tensors run through
/// the `binary`/`broadcast` kernels; int64 ones (shape arithmetic) only ever fold.
/// A channels-last operand of the output's full shape keeps the output
/// channels-last: the other operand is read through strides in its own layout
/// (a squeeze-and-excitation scale [N, C, 1, 1] against [N, C, H, W], a bias
/// [1, C, 1, 1]), so no layout conversion runs around it.
protocol BinaryOperator: Operator {
    /// The kernels' operation.
    static var op: BinaryOp { get }
    /// Every binary op's attributes are its two inputs' checks alone.
    init(attrs: Attributes)
}

extension BinaryOperator {
    static var inputCount: ClosedRange<Int> { 2...2 }
    static var layout: LayoutRule { .flexible }

    init(node: Node, opset: Int) throws { self.init(attrs: try binaryAttributes(node)) }

    /// Both inputs float32, or both int64 (Pow: float32 only).
    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        let a = types.first.flatMap { $0 } ?? .float32, b = types.count > 1 ? types[1] ?? .float32 : .float32
        guard a == b else { throw attrs.fail("inputs are \(a.rawValue) and \(b.rawValue); they must be the same type") }
        guard a == .float32 || (a == .int64 && Self.op != .pow) else { throw attrs.fail("\(a.rawValue) inputs are not supported") }
        return [a]
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let a = try shape(shapes, 0, attrs), b = try shape(shapes, 1, attrs)
        guard a.count <= Limits.maxRank, b.count <= Limits.maxRank else { throw attrs.fail("rank above \(Limits.maxRank)") }
        guard let y = broadcastShape(a, b) else { throw attrs.fail("cannot broadcast \(a) and \(b)") }
        _ = try elementCount(y, "node '\(attrs.node.name)' output")
        return y
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let a = try tensor(inputs, 0, attrs), b = try tensor(inputs, 1, attrs)
        _ = try outputTypes([a.elementType, b.elementType])
        let shape = try outputShape([a.shape, b.shape], constants: [])
        if a.isFloat {
            let op = Self.op
            return Reference.broadcast(a, b) { x, y in
                switch op {
                case .add: return x + y
                case .sub: return x - y
                case .mul: return x * y
                case .div: return x / y
                case .pow: return Foundation.pow(x, y)
                case .max: return Swift.max(x, y)
                case .min: return Swift.min(x, y)
                }
            }!
        }
        // int64: wrapping like the int64 arithmetic of other runtimes; division truncates.
        let n = shape.count, sa = Reference.stridesFor(a.shape, rank: n), sb = Reference.stridesFor(b.shape, rank: n)
        let os = rowMajorStrides(shape)
        var out = [Int](repeating: 0, count: shape.reduce(1, *))
        for i in out.indices {
            var ia = 0, ib = 0, rem = i
            for d in 0..<n { let q = rem / os[d]; rem %= os[d]; ia += q * sa[d]; ib += q * sb[d] }
            let x = a.integers[ia], y = b.integers[ib]
            switch Self.op {
            case .add: out[i] = x &+ y
            case .sub: out[i] = x &- y
            case .mul: out[i] = x &* y
            case .div:
                guard y != 0 else { throw attrs.fail("integer division by zero") }
                out[i] = x == Int.min && y == -1 ? Int.min : x / y
            case .max: out[i] = Swift.max(x, y)
            case .min: out[i] = Swift.min(x, y)
            case .pow: throw attrs.fail("int64 Pow is not supported")
            }
        }
        return Tensor(shape: shape, integers: out)
    }

    /// Channels-last when a non-constant input of the output's full 4-D shape is:
    /// every input is then read where it is. Otherwise all in the ONNX layout.
    func layoutChoice(_ q: LayoutQuery) -> LayoutChoice {
        let out = broadcastShape(q.shapes[0], q.shapes[1]) ?? q.shapes[0]
        let nhwc = out.count == 4 && q.shapes.indices.contains { !q.isConstant[$0] && q.channelsLast[$0] && q.shapes[$0] == out }
        return nhwc ? LayoutChoice(inputs: [nil, nil], output: true) : LayoutChoice(inputs: [false, false], output: false)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels, op = Self.op
        let a = try l.input(0), b = try l.input(1), y = l.output
        let out = l.outputShape, count = out.reduce(1, *)
        let sameLayout = l.inputChannelsLast[0] == l.inputChannelsLast[1] && l.inputChannelsLast[0] == l.outputChannelsLast
        if l.inputShapes[0] == out && l.inputShapes[1] == out && sameLayout {
            return ({ arena in kernels.binary(a.pointer(arena), b.pointer(arena), y.pointer(arena), count, op) }, Double(count))
        }
        // Iterate the output in its memory order; each input through its own strides.
        let order = l.outputChannelsLast ? [0, 2, 3, 1] : Array(0..<out.count)
        func strides(_ i: Int) -> [Int] {
            let s = l.inputShapes[i]
            let padded = [Int](repeating: 1, count: out.count - s.count) + s
            var memory: [Int]
            if l.inputChannelsLast[i] && padded.count == 4 {
                let (c, h, w) = (padded[1], padded[2], padded[3])
                memory = [h * w * c, 1, w * c, c]
            } else {
                memory = rowMajorStrides(padded)
            }
            for d in padded.indices where padded[d] == 1 && out[d] != 1 { memory[d] = 0 }
            return order.map { memory[$0] }
        }
        let (shape, sa, sb) = collapse(order.map { out[$0] }, strides(0), strides(1))
        return ({ arena in kernels.broadcast(a.pointer(arena), sa, b.pointer(arena), sb, y.pointer(arena), shape, op) }, Double(count))
    }
}

/// The same iteration with fewer dimensions: size-1 dimensions dropped, and each
/// dimension merged into the next where both operands step through them as one
/// (a per-channel scale over [N, H, W, C] becomes rows of C over N*H*W pixels).
func collapse(_ shape: [Int], _ sa: [Int], _ sb: [Int]) -> (shape: [Int], sa: [Int], sb: [Int]) {
    var dims = shape.indices.filter { shape[$0] != 1 }.map { (shape[$0], sa[$0], sb[$0]) }
    var d = dims.count - 2
    while d >= 0 {
        let (n, a, b) = dims[d], (m, a1, b1) = dims[d + 1]
        if a == a1 * m && b == b1 * m {
            dims[d] = (n * m, a1, b1)
            dims.remove(at: d + 1)
        }
        d -= 1
    }
    if dims.isEmpty { return ([1], [0], [0]) }
    return (dims.map(\.0), dims.map(\.1), dims.map(\.2))
}

/// The checks every binary op shares.
private func binaryAttributes(_ node: Node) throws -> Attributes {
    let attrs = Attributes(node: node)
    try attrs.checkArity(2...2)
    try attrs.required(0)
    try attrs.required(1)
    return attrs
}

struct AddOp: BinaryOperator {
    static let opType = "Add"
    static let sinceOpset = 1
    static let op = BinaryOp.add
    let attrs: Attributes
}

struct SubOp: BinaryOperator {
    static let opType = "Sub"
    static let sinceOpset = 1
    static let op = BinaryOp.sub
    let attrs: Attributes
}

struct MulOp: BinaryOperator {
    static let opType = "Mul"
    static let sinceOpset = 1
    static let op = BinaryOp.mul
    let attrs: Attributes
}

struct DivOp: BinaryOperator {
    static let opType = "Div"
    static let sinceOpset = 1
    static let op = BinaryOp.div
    let attrs: Attributes
}

/// Pow: float base and exponent (a constant 2 after a Sub is a LayerNorm's
/// variance, which the optimiser fuses; any other runs per element).
struct PowOp: BinaryOperator {
    static let opType = "Pow"
    static let sinceOpset = 7
    static let op = BinaryOp.pow
    let attrs: Attributes
}
