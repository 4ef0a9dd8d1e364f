import CSIMD
import KernelSupport
import Foundation

// Element-wise kernels in the set's vector width (V: 16 lanes on AVX-512, 8 on
// AVX2, 4 portable). Tails go through the same vector code as partial vectors,
// so an element's result never depends on where it falls in a row.

/// Applies `f` to `count` elements of x into y, a vector at a time. x and y may alias.
@inline(__always)
func mapVectors(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
    var i = 0
    while i + 4 * VW <= count {
        let a = V.load(x + i), b = V.load(x + i + VW), c = V.load(x + i + 2 * VW), d = V.load(x + i + 3 * VW)
        f(a).store(y + i); f(b).store(y + i + VW); f(c).store(y + i + 2 * VW); f(d).store(y + i + 3 * VW)
        i += 4 * VW
    }
    while i + VW <= count { f(V.load(x + i)).store(y + i); i += VW }
    if i < count { f(V.loadPartial(x + i, count - i)).storePartial(y + i, count - i) }
}

/// y[i] = act(clamp(x[i], lo, hi)) (Relu, Clip, Sigmoid, HardSigmoid, GELU, Erf, Sqrt...).
/// x and y may alias.
package func activateKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, lo: Float, hi: Float,
                            activation a: Activation) {
    let l = V(repeating: lo), h = V(repeating: hi)
    // One loop per activation: the switch is decided once, not per vector.
    switch a.kind {
    case .none: mapVectors(x, y, count) { V.clamp($0, l, h) }
    case .sigmoid: mapVectors(x, y, count) { vsigmoid(V.clamp($0, l, h)) }
    case .silu: mapVectors(x, y, count) { v in let c = V.clamp(v, l, h); return c * vsigmoid(c) }
    case .gelu: mapVectors(x, y, count) { activate(V.clamp($0, l, h), Activation(.gelu)) }
    case .erf: mapVectors(x, y, count) { verf(V.clamp($0, l, h)) }
    case .exp: mapVectors(x, y, count) { vexp(V.clamp($0, l, h)) }
    case .sqrt: mapVectors(x, y, count) { V.clamp($0, l, h).squareRoot() }
    case .hardSigmoid, .hardSwish: mapVectors(x, y, count) { activate(V.clamp($0, l, h), a) }
    }
}

/// PRelu: y[i] = x[i] < 0 ? slope(i) * x[i] : x[i], where element i's slope is
/// slope[(i / inner) % channels]: channels-last, inner 1 (the slope vector runs along
/// each pixel's channels); NCHW, inner = H*W; a scalar slope, channels 1. x and y may alias.
package func preluKernel(_ x: UnsafePointer<Float>, _ slope: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         count: Int, channels: Int, inner: Int) {
    let zero = V(repeating: 0), inf = V(repeating: .infinity)
    /// max(v, 0) + s * min(v, 0): two max/min pairs and one FMA, no per-lane select.
    @inline(__always) func prelu(_ v: V, _ s: V) -> V { V.madd(V.clamp(v, zero, inf), s, V.clamp(v, -inf, zero)) }
    if inner == 1 {
        // Rows of `channels` values, one slope per channel.
        var row = 0
        while row < count {
            var c = 0
            while c < channels {
                let n = min(VW, channels - c)
                prelu(V.load(x + row + c, count: n), V.load(slope + c, count: n)).store(y + row + c, count: n)
                c += n
            }
            row += channels
        }
        return
    }
    // Planes of `inner` values sharing one slope.
    var plane = 0, start = 0
    while start < count {
        let s = V(repeating: slope[plane % channels])
        var i = 0
        while i < inner {
            let n = min(VW, inner - i)
            prelu(V.load(x + start + i, count: n), s).store(y + start + i, count: n)
            i += n
        }
        plane += 1
        start += inner
    }
}

/// The scalar form of a binary op (Pow's only form).
@inline(__always)
func scalarOp(_ op: BinaryOp, _ a: Float, _ b: Float) -> Float {
    switch op {
    case .add: return a + b
    case .sub: return a - b
    case .mul: return a * b
    case .div: return a / b
    case .max: return Swift.max(a, b)
    case .min: return Swift.min(a, b)
    case .pow: return Foundation.pow(a, b)
    }
}

/// One row of `n` outputs: y[i] = a[i * ia] op b[i * ib], each stride 0 or 1 (or
/// any, per element). One loop per op, its vector operation inlined: through a
/// closure chosen at run time each vector was an indirect call (objdump), and the
/// SE blocks' channel scales and residual adds ran at half onnxruntime's speed.
@inline(__always)
func binaryRow(_ a: UnsafePointer<Float>, _ ia: Int, _ b: UnsafePointer<Float>, _ ib: Int, _ y: UnsafeMutablePointer<Float>,
               _ n: Int, _ op: BinaryOp) {
    switch op {
    case .add: binaryRow(a, ia, b, ib, y, n, op) { $0 + $1 }
    case .sub: binaryRow(a, ia, b, ib, y, n, op) { $0 - $1 }
    case .mul: binaryRow(a, ia, b, ib, y, n, op) { $0 * $1 }
    case .div: binaryRow(a, ia, b, ib, y, n, op) { $0 / $1 }
    case .max: binaryRow(a, ia, b, ib, y, n, op) { V.clamp($0, $1, V(repeating: .infinity)) }
    case .min: binaryRow(a, ia, b, ib, y, n, op) { V.clamp($0, V(repeating: -.infinity), $1) }
    case .pow: for i in 0..<n { y[i] = scalarOp(op, a[i * ia], b[i * ib]) }
    }
}

/// `binaryRow` for one op: f is its vector form, `op` its scalar form (strided rows).
@inline(__always)
func binaryRow(_ a: UnsafePointer<Float>, _ ia: Int, _ b: UnsafePointer<Float>, _ ib: Int, _ y: UnsafeMutablePointer<Float>,
               _ n: Int, _ op: BinaryOp, _ f: (V, V) -> V) {
    switch (ia, ib) {
    case (1, 1):
        var i = 0
        while i + VW <= n { f(V.load(a + i), V.load(b + i)).store(y + i); i += VW }
        if i < n { f(V.loadPartial(a + i, n - i), V.loadPartial(b + i, n - i)).storePartial(y + i, n - i) }
    case (1, 0):
        let s = V(repeating: b[0])
        mapVectors(a, y, n) { f($0, s) }
    case (0, 1):
        let s = V(repeating: a[0])
        mapVectors(b, y, n) { f(s, $0) }
    default:
        for i in 0..<n { y[i] = scalarOp(op, a[i * ia], b[i * ib]) }
    }
}

/// y = a op b for same-shape operands. y may alias a or b.
package func binaryKernel(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                          op: BinaryOp) {
    binaryRow(a, 1, b, 1, y, count, op)
}

/// Broadcast binary op over an output of `shape`: y[i] = a[ia(i)] op b[ib(i)], with
/// per-dimension input strides (0 where broadcast, and in whatever order the
/// inputs are laid out: a channels-last output may read an NCHW operand). The
/// innermost dimension runs as one vector row.
package func broadcastKernel(_ a: UnsafePointer<Float>, _ sa: [Int], _ b: UnsafePointer<Float>, _ sb: [Int],
                             _ y: UnsafeMutablePointer<Float>, shape: [Int], op: BinaryOp) {
    let rank = shape.count
    guard rank > 0 else { y[0] = scalarOp(op, a[0], b[0]); return }
    let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
    let outer = shape.dropLast().reduce(1, *)
    var idx = [Int](repeating: 0, count: max(rank - 1, 0))
    var offA = 0, offB = 0
    for o in 0..<outer {
        binaryRow(a + offA, ia, b + offB, ib, y + o * inner, inner, op)
        // Next row: step the index like an odometer, keeping the offsets in step.
        var d = rank - 2
        while d >= 0 {
            idx[d] += 1
            offA += sa[d]; offB += sb[d]
            if idx[d] < shape[d] { break }
            offA -= sa[d] * shape[d]; offB -= sb[d] * shape[d]
            idx[d] = 0
            d -= 1
        }
    }
}

/// Horizontal sum of a vector (a fixed order: lane 0 first).
@inline(__always)
func sum(_ v: V) -> Float { v.sum() }

/// Softmax of `outer` rows of `len` values each, rows `inner` apart element-wise
/// (inner 1: contiguous rows). Max-subtracted for stability.
package func softmaxKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, len: Int, inner: Int) {
    if inner == 1 {
        for o in 0..<outer {
            let xr = x + o * len, yr = y + o * len
            var m = V(repeating: -.infinity)
            var i = 0
            while i + VW <= len { m = V.clamp(V.load(xr + i), m, V(repeating: .infinity)); i += VW }
            var mx = m.max()
            while i < len { mx = max(mx, xr[i]); i += 1 }
            let mv = V(repeating: mx)
            var s = V()
            i = 0
            while i + VW <= len { let e = vexp(V.load(xr + i) - mv); e.store(yr + i); s += e; i += VW }
            if i < len {
                let e = vexp(V.loadPartial(xr + i, len - i) - mv)
                // Lanes past the row are exp(0 - max): keep them out of the sum.
                var tail = V()
                for j in 0..<(len - i) { tail[j] = e[j] }
                tail.storePartial(yr + i, len - i)
                s += tail
            }
            let inv = V(repeating: 1 / sum(s))
            mapVectors(yr, yr, len) { $0 * inv }
        }
        return
    }
    // Rows `inner` apart: vectors run along the inner dimension, one max/sum per lane.
    for o in 0..<outer {
        let base = o * len * inner
        var i = 0
        while i < inner {
            let n = min(VW, inner - i)
            @inline(__always) func load(_ j: Int) -> V { V.load(x + base + j * inner + i, count: n) }
            var m = V(repeating: -.infinity)
            for j in 0..<len { m = V.clamp(load(j), m, V(repeating: .infinity)) }
            var s = V()
            for j in 0..<len {
                let e = vexp(load(j) - m)
                s += e
                e.store(y + base + j * inner + i, count: n)
            }
            let inv = 1 / s
            for j in 0..<len {
                let p = y + base + j * inner + i
                (V.load(p, count: n) * inv).store(p, count: n)
            }
            i += n
        }
    }
}

/// Sum (or mean) over the middle dimension: x [outer, len, inner] -> y [outer, inner].
package func reduceKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, len: Int, inner: Int, mean: Bool) {
    let scale: Float = mean ? 1 / Float(max(len, 1)) : 1
    for o in 0..<outer {
        let src = x + o * len * inner, dst = y + o * inner
        if inner == 1 {
            var s = V()
            var i = 0
            while i + VW <= len { s += V.load(src + i); i += VW }
            if i < len { s += V.loadPartial(src + i, len - i) }
            dst[0] = sum(s) * scale
            continue
        }
        var i = 0
        while i < inner {
            let n = min(VW, inner - i)
            var s = V()
            for j in 0..<len { s += V.load(src + j * inner + i, count: n) }
            s *= V(repeating: scale)
            s.store(dst + i, count: n)
            i += n
        }
    }
}

/// Layer normalisation of `rows` rows of `len` values: (x - mean) / sqrt(var + eps)
/// * gamma + beta, var the mean squared deviation (ONNX LayerNormalization, and the
/// ReduceMean/Sub/Pow/Sqrt/Div pattern exporters write). gamma, beta: [len].
package func layerNormKernel(_ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>?,
                             _ y: UnsafeMutablePointer<Float>, rows: Int, len: Int, epsilon: Float) {
    for r in 0..<rows {
        let xr = x + r * len, yr = y + r * len
        var s = V()
        var i = 0
        while i + VW <= len { s += V.load(xr + i); i += VW }
        if i < len { s += V.loadPartial(xr + i, len - i) }
        let mean = V(repeating: sum(s) / Float(len))
        var q = V()
        i = 0
        while i + VW <= len { let d = V.load(xr + i) - mean; q = V.madd(q, d, d); i += VW }
        if i < len {
            // Lanes past the row would add mean^2: mask them to zero.
            var d = V.loadPartial(xr + i, len - i) - mean
            for j in (len - i)..<VW { d[j] = 0 }
            q = V.madd(q, d, d)
        }
        let root = V(repeating: (sum(q) / Float(len) + epsilon).squareRoot())
        i = 0
        while i < len {
            let n = min(VW, len - i)
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { V.load(p + i, count: n) }
            var v = (load(xr) - mean) / root * load(gamma)
            if let beta { v += load(beta) }
            v.store(yr + i, count: n)
            i += n
        }
    }
}

/// Resize of `images` images [H, W, C] (channels-last; NCHW planes are images of
/// one channel) to [OH, OW, C]: output row oy blends input rows ys[oy].i0 and .i1,
/// column ox columns xs[ox].i0 and .i1, with weights 1 - w and w (nearest: w 0).
package func resizeKernel(_ x: UnsafePointer<Float>, images: Int, h: Int, w: Int, c: Int, ys: [ResizeTap], xs: [ResizeTap],
                          _ y: UnsafeMutablePointer<Float>) {
    let oh = ys.count, ow = xs.count
    let nearest = ys.allSatisfy { $0.w == 0 } && xs.allSatisfy { $0.w == 0 }
    for img in 0..<images {
        let src = x + img * h * w * c, dst = y + img * oh * ow * c
        for oy in 0..<oh {
            let ty = ys[oy]
            let r0 = src + ty.i0 * w * c, r1 = src + ty.i1 * w * c
            let wy = V(repeating: ty.w), wy0 = V(repeating: 1 - ty.w)
            for ox in 0..<ow {
                let tx = xs[ox]
                let out = dst + (oy * ow + ox) * c
                if nearest {
                    out.update(from: r0 + tx.i0 * c, count: c)
                    continue
                }
                let wx = V(repeating: tx.w), wx0 = V(repeating: 1 - tx.w)
                let a = r0 + tx.i0 * c, b = r0 + tx.i1 * c, p = r1 + tx.i0 * c, q = r1 + tx.i1 * c
                var ch = 0
                while ch < c {
                    let n = min(VW, c - ch)
                    @inline(__always) func load(_ s: UnsafePointer<Float>) -> V { V.load(s + ch, count: n) }
                    let top = V.madd(load(a) * wx0, load(b), wx), bottom = V.madd(load(p) * wx0, load(q), wx)
                    let v = V.madd(top * wy0, bottom, wy)
                    v.store(out + ch, count: n)
                    ch += n
                }
            }
        }
    }
}

/// The scatter half of a transposed convolution: cols [rows, W][pixelFloats], each
/// pixel's [groups][taps][Mg] products with every tap's filters from the GEMM
/// (then, in one group, zeros up to pixelFloats), added
/// into y [N, OH, OW, groups * Mg] at oy = iy * stride - pad + ky * dilation (and
/// x alike). `rows`: the input rows (counted over N * H) cols holds. `overwrite`:
/// the windows tile the output exactly (stride = kernel, no pads or dilation), so
/// each output is written once, cols + bias, and y need not be filled first.
package func col2imKernel(_ cols: UnsafePointer<Float>, pixelFloats: Int, _ s: ConvShape, groups: Int, rows: Range<Int>, overwrite: Bool,
                          bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>) {
    let win = s.win, m = s.m, mg = m / groups, kh = win.kernel.h, kw = win.kernel.w, taps = kh * kw
    if overwrite && groups == 1 {
        col2imTiles(cols, pixelFloats: pixelFloats, s, rows: rows, bias: bias, y)
        return
    }
    for row in rows {
        let img = row / s.h, iy = row % s.h
        for ix in 0..<s.w {
            let src = cols + ((row - rows.lowerBound) * s.w + ix) * pixelFloats
            for ky in 0..<kh {
                let oy = iy * win.stride.h - win.pads.t + ky * win.dilation.h
                guard oy >= 0 && oy < s.oh else { continue }
                for kx in 0..<kw {
                    let ox = ix * win.stride.w - win.pads.l + kx * win.dilation.w
                    guard ox >= 0 && ox < s.ow else { continue }
                    let out = y + ((img * s.oh + oy) * s.ow + ox) * m
                    for g in 0..<groups {
                        let o = out + g * mg, c = src + (g * taps + ky * kw + kx) * mg
                        if overwrite, let bias {
                            if mg == 1 { o[0] = c[0] + bias[g] } else { binaryRow(c, 1, bias + g * mg, 1, o, mg, .add) }
                        } else if overwrite {
                            copyFloats(c, o, mg)
                        } else {
                            if mg == 1 { o[0] += c[0] } else { binaryRow(o, 1, c, 1, o, mg, .add) }
                        }
                    }
                }
            }
        }
    }
}

/// col2im when the windows tile the output in one group: tap row ky of input row
/// iy is output row iy * kh + ky, and there each pixel's kw taps lie side by side,
/// so it is a copy of kw * M floats per pixel (cols + bias). PP-OCR's last
/// upsampling (M = 1) spent 6 ms per frame in the general scatter's per-float loop.
@inline(__always)
func col2imTiles(_ cols: UnsafePointer<Float>, pixelFloats: Int, _ s: ConvShape, rows: Range<Int>, bias: UnsafePointer<Float>?,
                 _ y: UnsafeMutablePointer<Float>) {
    let m = s.m, kw = s.win.kernel.w, kh = s.win.kernel.h
    let span = kw * m
    for row in rows {
        let img = row / s.h, iy = row % s.h
        let src = cols + (row - rows.lowerBound) * s.w * pixelFloats
        for ky in 0..<kh {
            // out [W * kw][M]: output row iy * kh + ky.
            let out = y + (img * s.oh + iy * kh + ky) * s.ow * m
            let c = src + ky * span
            if m == 1 {
                let b = bias?[0] ?? 0
                for ix in 0..<s.w { for kx in 0..<kw { out[ix * kw + kx] = c[ix * pixelFloats + kx] + b } }
            } else if let bias {
                for ix in 0..<s.w { for kx in 0..<kw {
                    binaryRow(c + ix * pixelFloats + kx * m, 1, bias, 1, out + (ix * kw + kx) * m, m, .add)
                }}
            } else {
                for ix in 0..<s.w { copyFloats(c + ix * pixelFloats, out + ix * span, span) }
            }
        }
    }
}

/// y [pixels][m] = pattern [m] in every pixel (a bias, or zeros when nil).
package func fillRowsKernel(_ pattern: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, pixels: Int, m: Int) {
    guard let pattern else { y.update(repeating: 0, count: pixels * m); return }
    for p in 0..<pixels { (y + p * m).update(from: pattern, count: m) }
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
        if innerStride == 1 { out.update(from: x + off, count: inner) } else { for i in 0..<inner { out[i] = x[off + i * innerStride] } }
        var d = rank - 2
        while d >= 0 { idx[d] += 1; if idx[d] < outShape[d] { break }; idx[d] = 0; d -= 1 }
    }
}

