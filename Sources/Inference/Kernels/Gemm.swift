import Dispatch

/// Register tile of the GEMM microkernel: 6 rows of A x 16 columns of B
/// (two SIMD8 vectors), 12 accumulators, fits the 16 AVX2 registers.
let MR = 6
let NR = 16
/// K block: one A panel (6 x KC) stays in L1, one B panel (KC x 16) streams from L2.
let KC = 256
/// N block handled by one task: its packed B (KC x NC) stays in L2.
let NC = 384

typealias V8 = SIMD8<Float>

/// What a GEMM does with a finished tile before storing it:
/// y = clamp(acc + bias[row] + residual[row, col], lo, hi).
struct Epilogue {
    /// Layout: [M], one value per output row (channel). nil: no bias.
    var bias: UnsafePointer<Float>? = nil
    /// Same layout as C (row stride ldc). nil: no residual.
    var residual: UnsafePointer<Float>? = nil
    var lo: Float = -.infinity
    var hi: Float = .infinity
}

/// The A operand (weights), packed once at model load.
/// Layout: [ceil(M/6)][K][6]: panel p holds rows 6p..6p+5, k-major, zero-padded rows.
final class PackedA: @unchecked Sendable {
    let m: Int
    let k: Int
    let data: UnsafeMutablePointer<Float>

    /// Packs row-major A [M, K] (row stride `lda`).
    init(_ a: UnsafePointer<Float>, m: Int, k: Int, lda: Int) {
        self.m = m
        self.k = k
        let panels = (m + MR - 1) / MR
        data = .allocate(capacity: panels * k * MR)
        data.initialize(repeating: 0, count: panels * k * MR)
        for p in 0..<panels {
            for r in 0..<min(MR, m - p * MR) {
                let row = a + (p * MR + r) * lda
                let dst = data + p * k * MR + r
                for q in 0..<k { dst[q * MR] = row[q] }
            }
        }
    }

    deinit { data.deallocate() }

    func panel(_ p: Int, k0: Int) -> UnsafePointer<Float> { UnsafePointer(data + p * k * MR + k0 * MR) }
}

/// Where the B operand [K, N] comes from; packed per call into [N/16][kc][16] panels.
protocol BSource {
    /// Writes B[k0..<k0+kc, n0..<n0+nc] as panels of 16 columns (zero-padded) into `dst`.
    func pack(k0: Int, kc: Int, n0: Int, nc: Int, into dst: UnsafeMutablePointer<Float>)
}

/// Row-major B with row stride `ld`.
struct DenseB: BSource {
    let base: UnsafePointer<Float>
    let ld: Int
    let n: Int

    func pack(k0: Int, kc: Int, n0: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
        var out = dst
        var j = 0
        while j < nc {
            let w = min(NR, nc - j)
            if w == NR {
                for q in 0..<kc {
                    let src = UnsafeRawPointer(base + (k0 + q) * ld + n0 + j)
                    UnsafeMutableRawPointer(out).storeBytes(of: src.loadUnaligned(as: V8.self), as: V8.self)
                    UnsafeMutableRawPointer(out + 8).storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: V8.self), as: V8.self)
                    out += NR
                }
            } else {
                for q in 0..<kc {
                    let src = base + (k0 + q) * ld + n0 + j
                    for c in 0..<NR { out[c] = c < w ? src[c] : 0 }
                    out += NR
                }
            }
            j += NR
        }
    }
}

/// B[k, n] = base[n * ld + k]: a row-major [N, K] matrix read transposed (Gemm with
/// activations on the right, e.g. fully connected layers).
struct TransposedB: BSource {
    let base: UnsafePointer<Float>
    let ld: Int

    func pack(k0: Int, kc: Int, n0: Int, nc: Int, into dst: UnsafeMutablePointer<Float>) {
        var out = dst
        var j = 0
        while j < nc {
            let w = min(NR, nc - j)
            for q in 0..<kc {
                for c in 0..<NR { out[c] = c < w ? base[(n0 + j + c) * ld + k0 + q] : 0 }
                out += NR
            }
            j += NR
        }
    }
}

/// C[M, N] (row stride ldc) = epilogue(A @ B). Splits work across `threads`:
/// by N blocks when N is large, else by row panels of A.
func gemm<B: BSource>(_ a: PackedA, _ b: B, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                      epilogue: Epilogue, threads: Int) {
    let m = a.m, k = a.k
    let panels = (m + MR - 1) / MR
    let nBlocks = (n + NC - 1) / NC
    let tasks: Int
    let byN: Bool
    if threads <= 1 { tasks = 1; byN = true }
    else if nBlocks >= threads { tasks = min(nBlocks, threads * 4); byN = true }
    else { tasks = min(panels, threads); byN = false }

    let cAddr = Int(bitPattern: c)
    let work = { (task: Int) in
        let c = UnsafeMutablePointer<Float>(bitPattern: cAddr)!
        let (pLo, pHi, bLo, bHi): (Int, Int, Int, Int)
        if byN { (pLo, pHi, bLo, bHi) = (0, panels, nBlocks * task / tasks, nBlocks * (task + 1) / tasks) }
        else { (pLo, pHi, bLo, bHi) = (panels * task / tasks, panels * (task + 1) / tasks, 0, nBlocks) }
        Scratch.with(KC * (NC + NR)) { packed in
        for blk in bLo..<bHi {
            let n0 = blk * NC, nc = min(NC, n - n0)
            var k0 = 0
            while k0 < k {
                let kc = min(KC, k - k0)
                b.pack(k0: k0, kc: kc, n0: n0, nc: nc, into: packed)
                let first = k0 == 0, last = k0 + kc == k
                for p in pLo..<pHi {
                    let ap = a.panel(p, k0: k0)
                    let rows = min(MR, m - p * MR)
                    var j = 0
                    while j < nc {
                        let cols = min(NR, nc - j)
                        let off = p * MR * ldc + n0 + j
                        kernel6x16(kc: kc, a: ap, b: packed + j * kc, c: c + off, ldc: ldc,
                                   rows: rows, cols: cols, accumulate: !first,
                                   epilogue: last ? epilogue : nil, row0: p * MR, residualOffset: off)
                        j += NR
                    }
                }
                k0 += kc
            }
        }
        }
    }
    if tasks == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: tasks, execute: work) }
}

/// The microkernel: C[6, 16] (+)= A panel (kc x 6) @ B panel (kc x 16), with the
/// epilogue applied when this is the last K block. Edge tiles (rows < 6 or
/// cols < 16) compute the full tile in registers and store only what exists.
@inline(__always)
func kernel6x16(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                rows: Int, cols: Int, accumulate: Bool, epilogue: Epilogue?, row0: Int, residualOffset: Int) {
    var c00 = V8(), c01 = V8(), c10 = V8(), c11 = V8(), c20 = V8(), c21 = V8()
    var c30 = V8(), c31 = V8(), c40 = V8(), c41 = V8(), c50 = V8(), c51 = V8()
    var ap = a, bp = UnsafeRawPointer(b)
    for _ in 0..<kc {
        let b0 = bp.load(as: V8.self), b1 = bp.load(fromByteOffset: 32, as: V8.self)
        var av = V8(repeating: ap[0]); c00 = c00.addingProduct(av, b0); c01 = c01.addingProduct(av, b1)
        av = V8(repeating: ap[1]); c10 = c10.addingProduct(av, b0); c11 = c11.addingProduct(av, b1)
        av = V8(repeating: ap[2]); c20 = c20.addingProduct(av, b0); c21 = c21.addingProduct(av, b1)
        av = V8(repeating: ap[3]); c30 = c30.addingProduct(av, b0); c31 = c31.addingProduct(av, b1)
        av = V8(repeating: ap[4]); c40 = c40.addingProduct(av, b0); c41 = c41.addingProduct(av, b1)
        av = V8(repeating: ap[5]); c50 = c50.addingProduct(av, b0); c51 = c51.addingProduct(av, b1)
        ap += MR
        bp += NR * 4
    }
    var acc = (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
    withUnsafeMutableBytes(of: &acc) { raw in
        let t = raw.baseAddress!.assumingMemoryBound(to: V8.self)
        if rows == MR && cols == NR {
            for r in 0..<MR {
                let row = UnsafeMutableRawPointer(c + r * ldc)
                var v0 = t[2 * r], v1 = t[2 * r + 1]
                if accumulate {
                    v0 += row.loadUnaligned(as: V8.self)
                    v1 += row.loadUnaligned(fromByteOffset: 32, as: V8.self)
                }
                if let e = epilogue {
                    if let bias = e.bias { let bv = V8(repeating: bias[row0 + r]); v0 += bv; v1 += bv }
                    if let res = e.residual {
                        let rp = UnsafeRawPointer(res + residualOffset + r * ldc)
                        v0 += rp.loadUnaligned(as: V8.self)
                        v1 += rp.loadUnaligned(fromByteOffset: 32, as: V8.self)
                    }
                    let lo = V8(repeating: e.lo), hi = V8(repeating: e.hi)
                    v0 = clamp8(v0, lo, hi)
                    v1 = clamp8(v1, lo, hi)
                }
                row.storeBytes(of: v0, as: V8.self)
                row.storeBytes(of: v1, toByteOffset: 32, as: V8.self)
            }
        } else {
            let s = UnsafeRawPointer(t).assumingMemoryBound(to: Float.self)
            for r in 0..<rows {
                for j in 0..<cols {
                    var v = s[r * NR + j]
                    if accumulate { v += c[r * ldc + j] }
                    if let e = epilogue {
                        if let bias = e.bias { v += bias[row0 + r] }
                        if let res = e.residual { v += res[residualOffset + r * ldc + j] }
                        v = min(max(v, e.lo), e.hi)
                    }
                    c[r * ldc + j] = v
                }
            }
        }
    }
}
