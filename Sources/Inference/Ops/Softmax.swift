import Foundation
import KernelSupport

/// Softmax over an axis (opset 13+); before 13 the input is flattened to 2-D at
/// `axis` and each row of the flattened tensor is normalised.
struct SoftmaxOp: Operator {
    static let opType = "Softmax"
    static let sinceOpset = 1
    static let inputCount = 1...1
    static let layout = LayoutRule.onnx
    let attrs: Attributes
    let axis: Int
    let coerce2D: Bool

    init(node: Node, opset: Int) throws {
        attrs = Attributes(node: node)
        try attrs.checkArity(Self.inputCount)
        try attrs.required(0)
        axis = try attrs.int("axis", opset >= 13 ? -1 : 1, in: -Limits.maxRank...Limits.maxRank)
        coerce2D = opset < 13
    }

    /// (outer, len, inner) of the normalised rows for input shape x.
    func extents(_ x: [Int]) throws -> (outer: Int, len: Int, inner: Int) {
        let a = try resolveAxis(axis, rank: x.count, attrs)
        let outer = x[..<a].reduce(1, *)
        return coerce2D ? (outer, x[a...].reduce(1, *), 1) : (outer, x[a], x[(a + 1)...].reduce(1, *))
    }

    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] {
        let x = try shape(shapes, 0, attrs)
        _ = try extents(x)
        return x
    }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        let (outer, len, inner) = try extents(x.shape)
        var y = x
        for o in 0..<outer { for i in 0..<inner {
            let idx = (0..<len).map { (o * len + $0) * inner + i }
            let mx = idx.map { x.data[$0] }.max() ?? 0
            let e = idx.map { Foundation.exp(x.data[$0] - mx) }
            let s = e.reduce(0, +)
            for (j, v) in zip(idx, e) { y.data[j] = v / s }
        }}
        return y
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let kernels = l.kernels
        let (outer, len, inner) = try extents(l.inputShapes[0])
        let x = try l.input(0), y = l.output
        return ({ arena in kernels.softmax(x.pointer(arena), y.pointer(arena), outer, len, inner) }, 0)
    }
}
