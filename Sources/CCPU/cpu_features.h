// What the CPU and the operating system support, read once with CPUID and
// XGETBV (header-only: no library to link). An instruction set is usable only
// when the CPU has it AND the OS saves its registers on a context switch:
// XGETBV(0) bits 1-2 (xmm, ymm) for AVX/AVX2, bits 5-7 (opmask, zmm0-15 upper
// halves, zmm16-31) for AVX-512. MLAS's platform table checks the same bits.
#ifndef VIDLABEL_CPU_FEATURES_H
#define VIDLABEL_CPU_FEATURES_H

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

typedef struct {
    int sse42, avx, avx2, fma, f16c;
    int avx512f, avx512bw, avx512dq, avx512vl;
    /// The OS saves ymm (AVX) / zmm and opmask (AVX-512) state.
    int os_ymm, os_zmm;
    /// CPUID brand string, e.g. "AMD EPYC 9R14 96-Core Processor".
    char brand[49];
} vl_cpu_features;

static inline vl_cpu_features vl_cpu_detect(void) {
    vl_cpu_features f;
    memset(&f, 0, sizeof f);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    unsigned max = __get_cpuid_max(0, 0);
    if (max >= 1) {
        __cpuid(1, a, b, c, d);
        f.sse42 = (c >> 20) & 1;
        f.fma = (c >> 12) & 1;
        f.f16c = (c >> 29) & 1;
        f.avx = (c >> 28) & 1;
        int osxsave = (c >> 27) & 1;
        if (osxsave) {
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            f.os_ymm = (lo & 0x6) == 0x6;
            f.os_zmm = f.os_ymm && (lo & 0xe0) == 0xe0;
        }
    }
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = (b >> 5) & 1;
        f.avx512f = (b >> 16) & 1;
        f.avx512dq = (b >> 17) & 1;
        f.avx512bw = (b >> 30) & 1;
        f.avx512vl = (b >> 31) & 1;
    }
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004) {
        unsigned *w = (unsigned *)f.brand;
        for (unsigned i = 0; i < 3; i++) {
            __cpuid(0x80000002 + i, a, b, c, d);
            w[i * 4] = a; w[i * 4 + 1] = b; w[i * 4 + 2] = c; w[i * 4 + 3] = d;
        }
        f.brand[48] = 0;
    }
#endif
    return f;
}

#endif
