/// Data movement for the ops that only rearrange values (Slice, Gather, Expand,
/// Split): y [shape] (row-major) is x read from `base` with per-dimension
/// `strides` (0 repeats, negative walks back). The innermost dimension is one
/// memory copy when its stride is 1. No arithmetic on the values, so no SIMD
/// kernel: it runs as it is in every kernel set.
struct StridedCopy {
    let shape: [Int]
    let strides: [Int]
    let base: Int

    func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        guard rank > 0 else { y[0] = x[base]; return }
        let inner = shape[rank - 1], step = strides[rank - 1]
        let outer = shape.dropLast().reduce(1, *)
        guard inner > 0, outer > 0 else { return }
        var idx = [Int](repeating: 0, count: rank - 1)
        var at = base
        for o in 0..<outer {
            let out = y + o * inner
            if step == 1 {
                copyFloats(x + at, out, inner)
            } else {
                for i in 0..<inner { out[i] = x[at + i * step] }
            }
            var d = rank - 2
            while d >= 0 {
                idx[d] += 1
                at += strides[d]
                if idx[d] < shape[d] { break }
                at -= strides[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// The reference: the same walk over a tensor of either element type.
    func apply(_ x: Tensor) -> Tensor {
        Reference.pick(x, shape: shape) { Reference.stridedIndex($0, shape: shape, strides: strides, base: base) }
    }
}

/// Copies n floats: a plain loop for short runs (a pixel's channels, copied per
/// pixel by channel concats and splits: a memcpy call each cost more than the copy),
/// memcpy for long ones.
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 64 { dst.update(from: src, count: n); return }
    for i in 0..<n { dst[i] = src[i] }
}

/// An op that is one strided copy of its first input, worked out from that input's
/// shape and the constant inputs (Slice, Expand): shape, reference and lowering follow.
protocol StridedCopyOperator: Operator {
    /// The copy for input shape `x`; throws on bad or non-constant parameters.
    func copy(_ x: [Int], _ constants: [Tensor?]) throws -> StridedCopy
}

extension StridedCopyOperator {
    func outputShape(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [Int] { try copy(try shape(shapes, 0, attrs), constants).shape }

    func reference(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try tensor(inputs, 0, attrs)
        return try copy(x.shape, inputs).apply(x)
    }

    func lower(_ l: Lowering) throws -> (step: Plan.Step?, flops: Double) {
        let c = try copy(l.inputShapes[0], l.constants)
        let x = try l.input(0), y = l.output
        return ({ arena in c.run(x.pointer(arena), y.pointer(arena)) }, 0)
    }
}
