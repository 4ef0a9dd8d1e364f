import CSIMD

// AVX2 + FMA: built with -target-cpu haswell. 8-lane ymm vectors; the GEMM tile
// is 6 x 16 (12 ymm accumulators of the 16 registers).

package let isaName = "avx2"
/// The GEMM tile's vector: one ymm register.
typealias V = SIMD8<Float>
/// Lanes in V, and its size in bytes.
let VW = 8
let VB = 32
/// No narrower panel than NR between NR/2 and NR: a half vector costs a whole one here.
package let tailNR = 0
/// GEMM tile columns: two vectors.
package let NR = 16

/// K depths above which convs are computed in K blocks of KC (Conv.swift):
/// never: on Zen 4 every K-blocked conv ran faster streaming whole panels from L2 (3x3 64->64 at 40x40 2.03 -> 1.37 ms, 96->24 at
/// 136x240 28.0 -> 19.1, 512->512 at 7x7 4.3 -> 3.25; VIDLABEL_PROFILE, best of 15).
let kBlockedAbove = Int.max

/// The set's vectors: V (= V8 here) with the FMA and a vmaxps/vminps clamp.
extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always) static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self { c.addingProduct(a, b) }
    @inline(__always) static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self { vl_clamp8(v, lo, hi) }
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self { vl_load_first8(p, count) }
    @inline(__always) func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) { vl_store_first8(p, count, self) }
}
