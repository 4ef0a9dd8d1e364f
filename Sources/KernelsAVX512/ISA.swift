import CSIMD

// AVX-512 (F, BW, DQ, VL): built with -target-cpu skylake-avx512. 16-lane zmm
// vectors; the GEMM tile is 6 x 32 (12 zmm accumulators of the 32 registers).

package let isaName = "avx512"
/// The GEMM tile's vector: one zmm register.
typealias V = SIMD16<Float>
/// Lanes in V, and its size in bytes.
let VW = 16
let VB = 64
/// GEMM tile columns: two vectors.
package let NR = 32
/// Width of a last filter panel of 17-24 columns: a zmm and a ymm (`convTile`).
/// Zen 4 runs a zmm FMA as two halves and a ymm one in one, so such a panel costs
/// 3/4 of a 32-wide one (PP-OCR det's 24-filter convs); on full-width cores it
/// still streams 3/4 of the bytes.
package let tailNR = VW + 8

/// K depths above which convs are computed in K blocks of KC (Conv.swift):
/// above 2 KC: measured faster on Zen 5, where the set was tuned (a 32-wide panel row is 128 bytes).
let kBlockedAbove = 2 * KC

/// The set's vectors: V (one zmm) and V8 (one ymm), each with the FMA and a max/min clamp.
extension SIMD16: KernelVector where Scalar == Float {
    @inline(__always) static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self { c.addingProduct(a, b) }
    @inline(__always) static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self { vl_clamp16(v, lo, hi) }
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self { vl_load_first16(p, count) }
    @inline(__always) func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) { vl_store_first16(p, count, self) }
}
extension SIMD8: KernelVector where Scalar == Float {
    @inline(__always) static func madd(_ c: Self, _ a: Self, _ b: Self) -> Self { c.addingProduct(a, b) }
    @inline(__always) static func clamp(_ v: Self, _ lo: Self, _ hi: Self) -> Self { vl_clamp8(v, lo, hi) }
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> Self { vl_load_first8(p, count) }
    @inline(__always) func storePartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) { vl_store_first8(p, count, self) }
}
