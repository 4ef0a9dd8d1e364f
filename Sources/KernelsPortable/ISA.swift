import CSIMD

// Portable: no CPU target, so it runs on any x86-64 (SSE2) and on other
// architectures. 4-lane vectors; the GEMM tile is 6 x 8 (12 xmm accumulators of
// the 16 registers). No FMA instruction is assumed: `addingProduct` would become
// a call to `fmaf` per lane here (measured 140x slower), so multiply-adds are
// written `c + a * b` (rounded twice: results differ from the FMA sets in the
// last bits).

package let isaName = "portable"
/// The GEMM tile's vector: one xmm register.
typealias V = SIMD4<Float>
/// Lanes in V, and its size in bytes.
let VW = 4
let VB = 16
/// No narrower panel than NR between NR/2 and NR: a half vector costs a whole one here.
package let tailNR = 0
/// GEMM tile columns: two vectors.
package let NR = 8

/// K depths above which convs are computed in K blocks of KC (Conv.swift):
/// never, as the AVX2 set (not measured on its own: the set is the fallback).
let kBlockedAbove = Int.max

/// The set's vectors: V (one xmm) and V8 (two), with `c + a * b` (no FMA assumed)
/// and a maxps/minps clamp.
extension SIMD4: KernelVector where Scalar == Float {
    @inline(__always) static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self { c + a * b }
    @inline(__always) static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self { vl_clamp4(v, lo, hi) }
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self { loadLanes(p, count) }
    @inline(__always) func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) { storeLanes(p, count) }
}
extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always) static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self { c + a * b }
    @inline(__always) static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self { vl_clamp8(v, lo, hi) }
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self { loadLanes(p, count) }
    @inline(__always) func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) { storeLanes(p, count) }
}
