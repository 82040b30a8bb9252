/* vecindex_int.h — the int8 kernels behind vecindex.c (vecindex_simd.c).
 * Private to the two files. */
#ifndef MCPDECK_VECINDEX_INT_H
#define MCPDECK_VECINDEX_INT_H

#include <stddef.h>
#include <stdint.h>

/* One kernel: dot(a, b, n) of two int8 vectors of any length n >= 0, and
 * a scan computing out[r] = dot(rows + r * stride, q, n) for r < nrows.
 * Every kernel gives the exact integer result for any int8 input. */
struct vec_kernel {
    const char *name;
    int32_t (*dot)(const int8_t *a, const int8_t *b, int n);
    void (*scan)(const int8_t *rows, size_t nrows, size_t stride, const int8_t *q, int n,
                 int32_t *out);
};

/* The kernel called name, or NULL when unknown or the CPU lacks it. */
const struct vec_kernel *vec_kernel_get(const char *name);
/* The best kernel the CPU supports (MCPDECK_SIMD may lower it). */
const struct vec_kernel *vec_kernel_best(void);

#endif
