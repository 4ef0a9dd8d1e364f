// Vector clamps (min of max) for the engine's kernels, header-only (no library to link).
//
// Swift has no direct min/max for SIMD8<Float>: `pointwiseMin`/`clamped` follow
// IEEE NaN rules lane by lane and are not inlined, and a compare-and-replace
// written in Swift compiles to vmaxps in isolation but to compares and 128-bit
// blends once inlined into the conv epilogue (seen with objdump). A clang
// ext_vector_type(8) float imports into Swift as SIMD8<Float>, and this
// select shape is exactly x86 MAXPS/MINPS semantics, so these inline to one
// vmaxps/vminps each. NaN handling: x86's (the second operand wins).
#ifndef VIDLABEL_SIMD_OPS_H
#define VIDLABEL_SIMD_OPS_H

typedef float vl_float8 __attribute__((ext_vector_type(8)));

/// min(max(v, lo), hi) per lane.
static inline vl_float8 vl_clamp8(vl_float8 v, vl_float8 lo, vl_float8 hi) {
    vl_float8 r = v > lo ? v : lo;
    return r < hi ? r : hi;
}

typedef float vl_float16 __attribute__((ext_vector_type(16)));
typedef float vl_float4 __attribute__((ext_vector_type(4)));

/// The same clamp on 16 lanes (one zmm: the AVX-512 kernel set) and on 4 (one
/// xmm: the portable set).
static inline vl_float16 vl_clamp16(vl_float16 v, vl_float16 lo, vl_float16 hi) {
    vl_float16 r = v > lo ? v : lo;
    return r < hi ? r : hi;
}
static inline vl_float4 vl_clamp4(vl_float4 v, vl_float4 lo, vl_float4 hi) {
    vl_float4 r = v > lo ? v : lo;
    return r < hi ? r : hi;
}

/// Asks for the cache line at p ahead of its use (prefetcht0): a hint, never a fault.
static inline void vl_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

#endif
