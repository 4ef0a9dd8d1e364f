import Foundation
import KernelSupport

/// Range(start, limit, delta): scalars of one type, float or int64, which must be
/// known when the plan is built (YOLOv8's anchor grid is a Range over a feature
/// map's width). Its length is bounded like any tensor's.
struct RangeOp: Operator {
    static let opType = "Range"
    static let sinceOpset = 11
    static let inputCount = 3...3
    static let layout = LayoutRule.onnx
    let attrs: Attributes

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        for i in 0..<3 { try attrs.required(i) }
    }

    func outputTypes(_ types: [ElementType?]) throws -> [ElementType] {
        let t = types[0] ?? .float32
        guard types.allSatisfy({ $0 == t }), t != .bool else { throw attrs.fail("start, limit and delta must be one numeric type") }
        return [t]
    }

    /// The element count, from the three scalars. - Throws: when they are not constant scalars, delta is 0, or it is too long.
    func count(_ constants: [Tensor?]) throws -> Int {
        let args = try (0..<3).map { i -> Tensor in
            guard i < constants.count, let t = constants[i] else { throw attrs.fail("start, limit and delta must be known when the plan is built") }
            guard t.count == 1 else { throw attrs.fail("input \(i) must be a scalar, got shape \(t.shape)") }
            return t
        }
        let (start, limit, delta) = (args[0].number(0), args[1].number(0), args[2].number(0))
        guard delta != 0, start.isFinite, limit.isFinite, delta.isFinite else { throw attrs.fail("delta must be non-zero and all three finite") }
        let n = max(0, ((limit - start) / delta).rounded(.up))
        guard n <= Double(Limits.maxElements) else { throw attrs.fail("a range of \(n) values is too long") }
        return Int(n)
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { [try count(constants)] }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let n = try count(inputs)
        let start = try tensor(inputs, 0, attrs), delta = try tensor(inputs, 2, attrs)
        if start.isFloat {
            // ONNX's definition: start + i * delta.
            return Tensor(shape: [n], data: (0..<n).map { start.data[0] + Float($0) * delta.data[0] })
        }
        return Tensor(shape: [n], integers: (0..<n).map { start.integers[0] &+ $0 &* delta.integers[0] })
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) { throw attrs.fail("start, limit and delta must be known when the plan is built") }
}
