import Foundation
import KernelSupport

/// Plain scalar implementations of every supported op (each lives in its op's
/// file under Ops/). They define what the optimised kernels must compute: tests
/// compare the two, and constant folding uses these. Written for clarity, not speed.
public enum Reference {
    /// Runs one node on concrete inputs (missing optional inputs are nil).
    /// - Throws: `InferenceError` for an unsupported op or a node that breaks its op's rules.
    public static func evaluate(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> Tensor {
        try parseOperator(node, opset: opset).reference(inputs)
    }

    /// Every output of one node (Split has several), after the node's type checks.
    public static func evaluateAll(_ node: Node, _ inputs: [Tensor?], opset: Int) throws -> [Tensor] {
        let op = try parseOperator(node, opset: opset)
        _ = try op.outputTypes(inputs.map { $0?.elementType })
        return try op.references(inputs)
    }

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor { Tensor(shape: x.shape, data: x.data.map(f)) }

    /// A tensor of `shape` whose element i is x's element `source(i)` (flat
    /// indices), of x's element type: the reference of every op that only moves
    /// data (Transpose, Slice, Gather, Expand, Split).
    static func pick(_ x: Tensor, shape: [Int], _ source: (Int) -> Int) -> Tensor {
        let n = shape.reduce(1, *)
        if x.isFloat { return Tensor(shape: shape, data: (0..<n).map { x.data[source($0)] }) }
        return Tensor(shape: shape, integers: (0..<n).map { x.integers[source($0)] }, type: x.elementType)
    }

    /// The flat index into a tensor with `strides` (and `base`) of output element i
    /// of `shape` (row-major).
    static func stridedIndex(_ i: Int, shape: [Int], strides: [Int], base: Int = 0) -> Int {
        var rem = i, at = base
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            let q = rem % shape[d]
            rem /= shape[d]
            at += q * strides[d]
        }
        return at
    }

    /// Elementwise binary op with numpy broadcasting; nil when the shapes do not broadcast.
    static func broadcast(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor? {
        guard let shape = broadcastShape(a.shape, b.shape) else { return nil }
        let n = shape.count
        let sa = stridesFor(a.shape, rank: n), sb = stridesFor(b.shape, rank: n)
        let os = rowMajorStrides(shape)
        var out = Tensor(zeros: shape)
        for i in 0..<out.count {
            var ia = 0, ib = 0, rem = i
            for d in 0..<n { let q = rem / os[d]; rem %= os[d]; ia += q * sa[d]; ib += q * sb[d] }
            out.data[i] = f(a.data[ia], b.data[ib])
        }
        return out
    }

    /// Strides that read `shape` as if broadcast to `rank` dims (0 where size is 1).
    static func stridesFor(_ shape: [Int], rank: Int) -> [Int] {
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        let s = rowMajorStrides(padded)
        return zip(padded, s).map { $0 == 1 ? 0 : $1 }
    }
}
