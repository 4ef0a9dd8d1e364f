import CSIMD
import KernelSupport
import Foundation

/// y[i] = clamp(x[i], lo, hi) (Relu: lo 0; Clip), 8 lanes at a time. x and y may alias.
package func clampKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, lo: Float, hi: Float) {
    let loV = V8(repeating: lo), hiV = V8(repeating: hi)
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: V8.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: clamp8(v, loV, hiV), as: V8.self)
        i += 8
    }
    while i < count { y[i] = min(max(x[i], lo), hi); i += 1 }
}

/// y[i] = 1 / (1 + exp(-x[i])).
package func sigmoidKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = 1 / (1 + Foundation.exp(-x[i])) }
}

/// PRelu: y[i] = x[i] < 0 ? slope(i) * x[i] : x[i], where element i's slope is
/// slope[(i / inner) % channels]: channels-last, inner 1 (the slope vector runs along
/// each pixel's channels); NCHW, inner = H*W; a scalar slope, channels 1. x and y may alias.
package func preluKernel(_ x: UnsafePointer<Float>, _ slope: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         count: Int, channels: Int, inner: Int) {
    let zero = V8(repeating: 0), inf = V8(repeating: .infinity)
    /// max(v, 0) + s * min(v, 0): two vmaxps/vminps pairs and one FMA, no per-lane select.
    @inline(__always) func prelu8(_ v: V8, _ s: V8) -> V8 { madd8(clamp8(v, zero, inf), s, clamp8(v, -inf, zero)) }
    @inline(__always) func scalar(_ v: Float, _ s: Float) -> Float { v < 0 ? s * v : v }
    if inner == 1 {
        // Rows of `channels` values, one slope per channel.
        var row = 0
        while row < count {
            var c = 0
            while c + 8 <= channels {
                let v = UnsafeRawPointer(x + row + c).loadUnaligned(as: V8.self)
                let s = UnsafeRawPointer(slope + c).loadUnaligned(as: V8.self)
                UnsafeMutableRawPointer(y + row + c).storeBytes(of: prelu8(v, s), as: V8.self)
                c += 8
            }
            while c < channels { y[row + c] = scalar(x[row + c], slope[c]); c += 1 }
            row += channels
        }
        return
    }
    // Planes of `inner` values sharing one slope.
    var plane = 0, start = 0
    while start < count {
        let sv = slope[plane % channels], s = V8(repeating: sv)
        var i = 0
        while i + 8 <= inner {
            let v = UnsafeRawPointer(x + start + i).loadUnaligned(as: V8.self)
            UnsafeMutableRawPointer(y + start + i).storeBytes(of: prelu8(v, s), as: V8.self)
            i += 8
        }
        while i < inner { y[start + i] = scalar(x[start + i], sv); i += 1 }
        plane += 1
        start += inner
    }
}

/// y = a (+ or *) b for same-shape operands, then clamp; 8 lanes at a time.
package func binaryKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                  multiply: Bool, lo: Float, hi: Float) {
    let loV = V8(repeating: lo), hiV = V8(repeating: hi)
    var i = 0
    while i + 8 <= count {
        let va = UnsafeRawPointer(a + i).loadUnaligned(as: V8.self), vb = UnsafeRawPointer(b + i).loadUnaligned(as: V8.self)
        let v = multiply ? va * vb : va + vb
        UnsafeMutableRawPointer(y + i).storeBytes(of: clamp8(v, loV, hiV), as: V8.self)
        i += 8
    }
    while i < count { y[i] = min(max(multiply ? a[i] * b[i] : a[i] + b[i], lo), hi); i += 1 }
}

/// Broadcast binary op: y[i] = a[ia(i)] op b[ib(i)], with per-dimension input
/// strides (0 where broadcast). The innermost dimension runs as a tight loop.
package func broadcastKernel(_ a: UnsafePointer<Float>, _ sa: [Int], _ b: UnsafePointer<Float>, _ sb: [Int],
                     _ y: UnsafeMutablePointer<Float>, shape: [Int], multiply: Bool) {
    let rank = shape.count
    let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
    let outer = shape.dropLast().reduce(1, *)
    var idx = [Int](repeating: 0, count: max(rank - 1, 0))
    for o in 0..<outer {
        var offA = 0, offB = 0
        for d in 0..<(rank - 1) { offA += idx[d] * sa[d]; offB += idx[d] * sb[d] }
        let out = y + o * inner
        if ia == 1 && ib == 0 {
            let s = b[offB]
            for i in 0..<inner { out[i] = multiply ? a[offA + i] * s : a[offA + i] + s }
        } else if ia == 0 && ib == 1 {
            let s = a[offA]
            for i in 0..<inner { out[i] = multiply ? s * b[offB + i] : s + b[offB + i] }
        } else {
            for i in 0..<inner { out[i] = multiply ? a[offA + i * ia] * b[offB + i * ib] : a[offA + i * ia] + b[offB + i * ib] }
        }
        var d = rank - 2
        while d >= 0 { idx[d] += 1; if idx[d] < shape[d] { break }; idx[d] = 0; d -= 1 }
    }
}

/// Softmax of `outer` rows of `len` values each, rows `inner` apart element-wise
/// (inner 1: contiguous rows). Max-subtracted for stability.
package func softmaxKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, len: Int, inner: Int) {
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * len * inner + i
            var mx = -Float.infinity
            for j in 0..<len { mx = max(mx, x[base + j * inner]) }
            var sum: Float = 0
            for j in 0..<len { let e = Foundation.exp(x[base + j * inner] - mx); y[base + j * inner] = e; sum += e }
            let inv = 1 / sum
            for j in 0..<len { y[base + j * inner] *= inv }
        }
    }
}

/// General permutation of a row-major tensor.
package func transposeKernel(_ x: UnsafePointer<Float>, inShape: [Int], perm: [Int], _ y: UnsafeMutablePointer<Float>) {
    let outShape = perm.map { inShape[$0] }
    let inStrides = rowMajorStrides(inShape)
    let src = perm.map { inStrides[$0] }
    let rank = outShape.count
    let inner = outShape[rank - 1], innerStride = src[rank - 1]
    let outer = outShape.dropLast().reduce(1, *)
    var idx = [Int](repeating: 0, count: max(rank - 1, 0))
    for o in 0..<outer {
        var off = 0
        for d in 0..<(rank - 1) { off += idx[d] * src[d] }
        let out = y + o * inner
        for i in 0..<inner { out[i] = x[off + i * innerStride] }
        var d = rank - 2
        while d >= 0 { idx[d] += 1; if idx[d] < outShape[d] { break }; idx[d] = 0; d -= 1 }
    }
}

/// clamp(v, lo, hi) per lane: one vmaxps + one vminps (see Sources/CSIMD/simd_ops.h for
/// why this is C).
@inline(__always)
func clamp8(_ v: V8, _ lo: V8, _ hi: V8) -> V8 { vl_clamp8(v, lo, hi) }

/// max(a, b) per lane: one vmaxps.
@inline(__always)
func max8(_ a: V8, _ b: V8) -> V8 { vl_max8(a, b) }
