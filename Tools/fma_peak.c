// `make bench`: this CPU's fp32 FMA peak on one core, per instruction set, so the
// GEMM rows can say how close to it they run. 12 independent FMA chains (enough
// to cover the FMA latency on every x86 core seen so far), vectors of 8 (AVX2) or
// 16 (AVX-512) floats. Usage: fma_peak avx2|avx512 -> GFLOP/s (best of 5).
#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

__attribute__((target("avx2,fma"))) static float run_avx2(long n) {
    __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)(i));
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, b, c);
#define SUM(i) + _mm256_cvtss_f32(a##i)
    CHAINS(DECL)
    for (long k = 0; k < n; k++) { CHAINS(STEP) }
    return 0 CHAINS(SUM);
}

__attribute__((target("avx512f"))) static float run_avx512(long n) {
    __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#undef DECL
#undef STEP
#undef SUM
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)(i));
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, b, c);
#define SUM(i) + _mm512_cvtss_f32(a##i)
    CHAINS(DECL)
    for (long k = 0; k < n; k++) { CHAINS(STEP) }
    return 0 CHAINS(SUM);
}

int main(int argc, char **argv) {
    int wide = argc > 1 && strcmp(argv[1], "avx512") == 0;
    long n = 20000000;
    double best = 0;
    volatile float sink = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        sink += wide ? run_avx512(n) : run_avx2(n);
        double gflops = 12.0 * n * (wide ? 16 : 8) * 2 / (now() - t0) / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("%.1f\n", best);
    return 0;
}
