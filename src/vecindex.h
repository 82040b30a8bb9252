/* vecindex.h — an in-memory vector index for the memory store.
 *
 * Each vector is kept twice: int8 quantised with a per-vector scale, for
 * a fast streaming scan, and float32, for exact rescoring. Vectors are
 * L2-normalised on the way in, so cosine similarity is a dot product.
 * The int8 rows sit in one contiguous array (rows padded to 64 bytes) next
 * to the scales and ids; a delete swaps the last row into the hole.
 *
 * The int8 dot product has three kernels chosen once at run time:
 * AVX-512 VNNI, AVX2 and portable C. They give identical integer results.
 *
 * Not thread-safe: a search may run on a worker thread while nothing
 * writes to the index. */
#ifndef MCPDECK_VECINDEX_H
#define MCPDECK_VECINDEX_H

#include <stddef.h>
#include <stdint.h>

struct vecindex;

struct vec_hit {
    int64_t id;
    float score;     /* cosine similarity, -1..1 */
};

/* An empty index of dim-dimensional vectors (dim >= 1). Owned; free with
 * vecindex_free(). NULL when dim is out of range. */
struct vecindex *vecindex_new(int dim);
void vecindex_free(struct vecindex *v);   /* NULL-safe */
int vecindex_dim(const struct vecindex *v);
size_t vecindex_count(const struct vecindex *v);

/* Add vec (dim floats, copied and normalised) under id, replacing any
 * vector already there. Returns 0, or -1 when vec is all zeros or not
 * finite (nothing is stored then). */
int vecindex_put(struct vecindex *v, int64_t id, const float *vec);
/* Remove id. Returns 0, or -1 when id is unknown. */
int vecindex_del(struct vecindex *v, int64_t id);
/* 1 when id is in the index. */
int vecindex_has(const struct vecindex *v, int64_t id);

/* The top k vectors by cosine similarity to q (dim floats; normalised
 * internally, not modified). exact=0: an int8 scan of every vector, then
 * exact float32 rescoring of the best k*4 candidates; exact=1: a full
 * float32 scan. keep (may be NULL) is asked about each id before it can
 * become a candidate; 0 drops it. out has room for k hits. Returns the
 * number of hits (<= k), best first, ties by ascending id. */
size_t vecindex_search(const struct vecindex *v, const float *q, size_t k, int exact,
                       int (*keep)(void *payload, int64_t id), void *payload,
                       struct vec_hit *out);

/* The int8 kernel in use: "avx512vnni", "avx2" or "portable". Chosen on
 * first use from what the CPU supports; MCPDECK_SIMD=portable|avx2|avx512vnni
 * in the environment can lower (never raise) the choice. */
const char *vecindex_simd(void);

/* Scale x to unit length in place (an all-zero vector stays zero). */
void vec_normalise(float *x, int dim);
/* Symmetric quantisation: scale = max|x| / 127, q[i] = round(x[i] / scale),
 * so |x[i] - q[i] * scale| <= scale / 2. An all-zero x gives scale 0 and
 * q all zero. */
void vec_quantise(const float *x, int dim, int8_t *q, float *scale);
void vec_dequantise(const int8_t *q, int dim, float scale, float *x);

/* Integer dot product of two int8 vectors of n components with a given
 * kernel ("portable", "avx2", "avx512vnni"; NULL: the one in use). The
 * kernels read only n bytes of each. Returns 0 and *out, or -1 when the
 * kernel is unknown or the CPU lacks it. For tests and the benchmark. */
int vec_dot_i8(const char *kernel, const int8_t *a, const int8_t *b, int n, int32_t *out);

#endif
