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

/// Asks for the cache line at p into L2 (prefetcht1): for data needed well ahead.
static inline void vl_prefetch_l2(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

typedef int vl_int8 __attribute__((ext_vector_type(8)));
typedef float vl_v8sf __attribute__((__vector_size__(32)));
typedef int vl_v8si __attribute__((__vector_size__(32)));
typedef float vl_v16sf __attribute__((__vector_size__(64)));

/// The first n (0 to 8) floats at p, the other lanes zero, and their store: one
/// masked vmaskmovps, which touches no memory past them. Kernels stored a row's
/// last few outputs lane by lane before (through the stack, with the epilogue per
/// lane): a fifth of a 12-filter conv's time. AVX only: the AVX2 and AVX-512 sets.
__attribute__((target("avx"))) static inline vl_float8 vl_load_first8(const float *p, long n) {
    const vl_int8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
    vl_int8 m = lane < (int)n;
    return (vl_float8)__builtin_ia32_maskloadps256((const vl_v8sf *)p, (vl_v8si)m);
}
__attribute__((target("avx"))) static inline void vl_store_first8(float *p, long n, vl_float8 v) {
    const vl_int8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
    vl_int8 m = lane < (int)n;
    __builtin_ia32_maskstoreps256((vl_v8sf *)p, (vl_v8si)m, (vl_v8sf)v);
}

/// The same on 16 lanes with an AVX-512 write mask.
__attribute__((target("avx512f"))) static inline vl_float16 vl_load_first16(const float *p, long n) {
    return (vl_float16)__builtin_ia32_loadups512_mask(p, (vl_v16sf)(vl_float16)0, (unsigned short)((1u << n) - 1));
}
__attribute__((target("avx512f"))) static inline void vl_store_first16(float *p, long n, vl_float16 v) {
    __builtin_ia32_storeups512_mask(p, (vl_v16sf)v, (unsigned short)((1u << n) - 1));
}

/// Transposes a 4 x 4 block: row i of src (4 floats at src + i * srcStride)
/// becomes column i of dst (dst + j * dstStride, lane i). SSE shuffles only, so
/// every kernel set may call it (NCHW <-> NHWC layout changes).
static inline void vl_transpose4x4(const float *src, long srcStride, float *dst, long dstStride) {
    vl_float4 r0, r1, r2, r3;
    __builtin_memcpy(&r0, src, 16);
    __builtin_memcpy(&r1, src + srcStride, 16);
    __builtin_memcpy(&r2, src + 2 * srcStride, 16);
    __builtin_memcpy(&r3, src + 3 * srcStride, 16);
    vl_float4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5);
    vl_float4 t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
    vl_float4 t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
    vl_float4 t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
    vl_float4 c0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    vl_float4 c1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    vl_float4 c2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    vl_float4 c3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    __builtin_memcpy(dst, &c0, 16);
    __builtin_memcpy(dst + dstStride, &c1, 16);
    __builtin_memcpy(dst + 2 * dstStride, &c2, 16);
    __builtin_memcpy(dst + 3 * dstStride, &c3, 16);
}

/// Interleaves four pixels of three channel planes (RGB to NHWC): r, g, b hold 4
/// floats each; dst gets r0 g0 b0 r1 ... b3 (12 floats). SSE shuffles only.
static inline void vl_interleave3x4(const float *r, const float *g, const float *b, float *dst) {
    vl_float4 vr, vg, vb;
    __builtin_memcpy(&vr, r, 16);
    __builtin_memcpy(&vg, g, 16);
    __builtin_memcpy(&vb, b, 16);
    vl_float4 t0 = __builtin_shufflevector(vr, vg, 0, 4, 1, 5);   // r0 g0 r1 g1
    vl_float4 t1 = __builtin_shufflevector(vr, vg, 2, 6, 3, 7);   // r2 g2 r3 g3
    vl_float4 o0 = __builtin_shufflevector(t0, vb, 0, 1, 4, 2);   // r0 g0 b0 r1
    vl_float4 u = __builtin_shufflevector(t0, vb, 3, 5, 3, 5);    // g1 b1 g1 b1
    vl_float4 o1 = __builtin_shufflevector(u, t1, 0, 1, 4, 5);    // g1 b1 r2 g2
    vl_float4 o2 = __builtin_shufflevector(t1, vb, 6, 2, 3, 7);   // b2 r3 g3 b3
    __builtin_memcpy(dst, &o0, 16);
    __builtin_memcpy(dst + 4, &o1, 16);
    __builtin_memcpy(dst + 8, &o2, 16);
}

#endif
