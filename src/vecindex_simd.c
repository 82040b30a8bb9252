/* vecindex_simd.c — int8 dot-product kernels for the vector index, one per
 * instruction set, chosen at run time.
 *
 *   portable    plain C, int32 accumulation.
 *   avx2        sign-extend 16 bytes at a time to int16 (vpmovsxbw) and
 *               multiply-add pairs into int32 (vpmaddwd). Exact for every
 *               int8 input; vpmaddubsw would saturate on -128.
 *   avx512vnni  vpdpbusd multiplies unsigned by signed bytes. The row is
 *               biased by +128 (xor 0x80) to make it unsigned, so the sum is
 *               dot(a, b) + 128 * sum(b); sum(b) is computed once per query
 *               (with vpdpbusd against a vector of ones) and subtracted.
 *               Exact: vpdpbusd accumulates without saturation and a
 *               384-dim row stays far from int32 overflow.
 *
 * The SIMD functions carry target attributes, so the file builds with the
 * project's flags (no -mavx2); they run only after __builtin_cpu_supports
 * said yes. */
#include "vecindex_int.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VEC_X86 1
#include <immintrin.h>
#endif

/* === Portable === */

static int32_t dot_portable(const int8_t *a, const int8_t *b, int n)
{
    int32_t s = 0;
    for (int i = 0; i < n; i++)
        s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

static void scan_portable(const int8_t *rows, size_t nrows, size_t stride, const int8_t *q, int n,
                          int32_t *out)
{
    for (size_t r = 0; r < nrows; r++)
        out[r] = dot_portable(rows + r * stride, q, n);
}

#ifdef VEC_X86
/* === AVX2 === */

__attribute__((target("avx2"))) static inline int32_t hsum256(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static inline int32_t dot_avx2_inl(const int8_t *a,
                                                                   const int8_t *b, int n)
{
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        __m256i a1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i + 16)));
        __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i + 16)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
    }
    if (i + 16 <= n) {
        __m256i a0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
        i += 16;
    }
    int32_t s = hsum256(_mm256_add_epi32(acc0, acc1));
    for (; i < n; i++)
        s += (int32_t)a[i] * (int32_t)b[i];
    return s;
}

__attribute__((target("avx2"))) static int32_t dot_avx2(const int8_t *a, const int8_t *b, int n)
{
    return dot_avx2_inl(a, b, n);
}

__attribute__((target("avx2"))) static void scan_avx2(const int8_t *rows, size_t nrows,
                                                      size_t stride, const int8_t *q, int n,
                                                      int32_t *out)
{
    for (size_t r = 0; r < nrows; r++)
        out[r] = dot_avx2_inl(rows + r * stride, q, n);
}

/* === AVX-512 VNNI === */

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

VNNI_TARGET static inline int32_t sum_vnni(const int8_t *b, int n)
{
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i acc = _mm512_setzero_si512();
    int i = 0;
    for (; i + 64 <= n; i += 64)
        acc = _mm512_dpbusd_epi32(acc, ones, _mm512_loadu_si512((const void *)(b + i)));
    if (i < n) {
        __mmask64 m = (__mmask64)((1ULL << (n - i)) - 1);
        acc = _mm512_dpbusd_epi32(acc, ones, _mm512_maskz_loadu_epi8(m, b + i));
    }
    return _mm512_reduce_add_epi32(acc);
}

/* sum over i of (a[i] + 128) * b[i]; the caller subtracts 128 * sum(b). */
VNNI_TARGET static inline int32_t biased_vnni(const int8_t *a, const int8_t *b, int n)
{
    const __m512i bias = _mm512_set1_epi8((char)0x80);
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    int i = 0;
    for (; i + 128 <= n; i += 128) {
        __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i)), bias);
        __m512i a1 = _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i + 64)), bias);
        acc0 = _mm512_dpbusd_epi32(acc0, a0, _mm512_loadu_si512((const void *)(b + i)));
        acc1 = _mm512_dpbusd_epi32(acc1, a1, _mm512_loadu_si512((const void *)(b + i + 64)));
    }
    for (; i + 64 <= n; i += 64) {
        __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i)), bias);
        acc0 = _mm512_dpbusd_epi32(acc0, a0, _mm512_loadu_si512((const void *)(b + i)));
    }
    if (i < n) {
        /* Masked-off lanes: a becomes 0x80 after the xor, b is 0: no effect. */
        __mmask64 m = (__mmask64)((1ULL << (n - i)) - 1);
        __m512i a0 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + i), bias);
        acc0 = _mm512_dpbusd_epi32(acc0, a0, _mm512_maskz_loadu_epi8(m, b + i));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

VNNI_TARGET static int32_t dot_vnni(const int8_t *a, const int8_t *b, int n)
{
    return biased_vnni(a, b, n) - 128 * sum_vnni(b, n);
}

VNNI_TARGET static void scan_vnni(const int8_t *rows, size_t nrows, size_t stride,
                                  const int8_t *q, int n, int32_t *out)
{
    int32_t corr = 128 * sum_vnni(q, n);
    for (size_t r = 0; r < nrows; r++)
        out[r] = biased_vnni(rows + r * stride, q, n) - corr;
}
#endif /* VEC_X86 */

/* === Dispatch === */

static const struct vec_kernel kernels[] = {
#ifdef VEC_X86
    {"avx512vnni", dot_vnni, scan_vnni},
    {"avx2", dot_avx2, scan_avx2},
#endif
    {"portable", dot_portable, scan_portable},
};

static int kernel_supported(const struct vec_kernel *k)
{
#ifdef VEC_X86
    __builtin_cpu_init();
    if (strcmp(k->name, "avx512vnni") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
    if (strcmp(k->name, "avx2") == 0)
        return __builtin_cpu_supports("avx2");
#endif
    return strcmp(k->name, "portable") == 0;
}

const struct vec_kernel *vec_kernel_get(const char *name)
{
    for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
        if (strcmp(kernels[i].name, name) == 0)
            return kernel_supported(&kernels[i]) ? &kernels[i] : NULL;
    return NULL;
}

const struct vec_kernel *vec_kernel_best(void)
{
    /* kernels[] is ordered best first; MCPDECK_SIMD names a ceiling. */
    const char *want = getenv("MCPDECK_SIMD");
    size_t from = 0;
    if (want && *want) {
        for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
            if (strcmp(kernels[i].name, want) == 0)
                from = i;
    }
    for (size_t i = from; i < sizeof(kernels) / sizeof(kernels[0]); i++)
        if (kernel_supported(&kernels[i]))
            return &kernels[i];
    return &kernels[sizeof(kernels) / sizeof(kernels[0]) - 1];
}
