/* vecindex.c — the in-memory vector index (see vecindex.h).
 *
 * Layout: row r has its int8 vector at q8 + r * stride (stride = dim
 * rounded up to 64, zero padded), its scale at scale[r], its float32
 * vector at f32 + r * dim and its id at ids[r]. An open-addressing table
 * (linear probing, backward-shift deletion) maps ids to rows. A delete
 * moves the last row into the hole, so rows stay dense and a scan reads
 * memory front to back.
 *
 * Search: the query is quantised like the rows; the scan computes integer
 * dots in blocks, turns them into approximate cosines (dot * scale[r] *
 * query scale) and keeps the best k*4 rows in a min-heap; those rows are
 * rescored with float32 and the best k returned. */
#include "vecindex.h"
#include "vecindex_int.h"
#include "util.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define VEC_DIM_MAX 65536
#define VEC_BLOCK 1024      /* rows per scan block: the int32 dots stay in L1 */
#define VEC_OVERSAMPLE 4    /* candidates per hit rescored in float32 */

struct vec_slot {
    int64_t id;
    size_t row1;            /* row + 1; 0 = empty */
};

struct vecindex {
    int dim;
    size_t stride;          /* bytes per int8 row */
    size_t n, cap;
    int8_t *q8;
    float *scale;
    float *f32;
    int64_t *ids;
    struct vec_slot *slots;
    size_t nslots;          /* power of two */
};

/* === Vector helpers === */

void vec_normalise(float *x, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++)
        s += (double)x[i] * x[i];
    if (s <= 0)
        return;
    float inv = (float)(1.0 / sqrt(s));
    for (int i = 0; i < dim; i++)
        x[i] *= inv;
}

void vec_quantise(const float *x, int dim, int8_t *q, float *scale)
{
    float m = 0;
    for (int i = 0; i < dim; i++) {
        float a = fabsf(x[i]);
        if (a > m)
            m = a;
    }
    if (m == 0) {
        memset(q, 0, (size_t)dim);
        *scale = 0;
        return;
    }
    float s = m / 127.0f;
    for (int i = 0; i < dim; i++) {
        long r = lrintf(x[i] / s);
        q[i] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
    }
    *scale = s;
}

void vec_dequantise(const int8_t *q, int dim, float scale, float *x)
{
    for (int i = 0; i < dim; i++)
        x[i] = (float)q[i] * scale;
}

static float dot_f32(const float *a, const float *b, int n)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; i < n; i++)
        t += a[i] * b[i];
    return t;
}

/* === Kernel choice === */

static pthread_once_t kernel_once = PTHREAD_ONCE_INIT;
static const struct vec_kernel *kernel;

static void kernel_choose(void)
{
    kernel = vec_kernel_best();
}

static const struct vec_kernel *kernel_get(void)
{
    pthread_once(&kernel_once, kernel_choose);
    return kernel;
}

const char *vecindex_simd(void)
{
    return kernel_get()->name;
}

int vec_dot_i8(const char *name, const int8_t *a, const int8_t *b, int n, int32_t *out)
{
    const struct vec_kernel *k = name ? vec_kernel_get(name) : kernel_get();
    if (!k || n < 0)
        return -1;
    *out = k->dot(a, b, n);
    return 0;
}

/* === Id table === */

static size_t id_hash(int64_t id)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (size_t)x;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t slot_find(const struct vecindex *v, int64_t id)
{
    size_t mask = v->nslots - 1, i = id_hash(id) & mask;
    while (v->slots[i].row1 && v->slots[i].id != id)
        i = (i + 1) & mask;
    return i;
}

static void slots_grow(struct vecindex *v)
{
    struct vec_slot *old = v->slots;
    size_t oldn = v->nslots;
    v->nslots = oldn ? oldn * 2 : 64;
    v->slots = xcalloc(v->nslots, sizeof(*v->slots));
    for (size_t i = 0; i < oldn; i++)
        if (old[i].row1)
            v->slots[slot_find(v, old[i].id)] = old[i];
    free(old);
}

static void slot_remove(struct vecindex *v, size_t i)
{
    size_t mask = v->nslots - 1, j = i;
    v->slots[i].row1 = 0;
    for (;;) {
        j = (j + 1) & mask;
        if (!v->slots[j].row1)
            return;
        size_t home = id_hash(v->slots[j].id) & mask;
        /* Move j back into the hole at i unless its home lies in (i, j]. */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            v->slots[i] = v->slots[j];
            v->slots[j].row1 = 0;
            i = j;
        }
    }
}

/* === Index === */

struct vecindex *vecindex_new(int dim)
{
    if (dim < 1 || dim > VEC_DIM_MAX)
        return NULL;
    struct vecindex *v = xcalloc(1, sizeof(*v));
    v->dim = dim;
    v->stride = ((size_t)dim + 63) / 64 * 64;
    slots_grow(v);
    return v;
}

void vecindex_free(struct vecindex *v)
{
    if (!v)
        return;
    free(v->q8);
    free(v->scale);
    free(v->f32);
    free(v->ids);
    free(v->slots);
    free(v);
}

int vecindex_dim(const struct vecindex *v)
{
    return v->dim;
}

size_t vecindex_count(const struct vecindex *v)
{
    return v->n;
}

int vecindex_has(const struct vecindex *v, int64_t id)
{
    return v->slots[slot_find(v, id)].row1 != 0;
}

static void rows_grow(struct vecindex *v)
{
    size_t cap = v->cap ? v->cap * 2 : 256;
    v->q8 = xrealloc(v->q8, cap * v->stride);
    v->scale = xrealloc(v->scale, cap * sizeof(float));
    v->f32 = xrealloc(v->f32, cap * (size_t)v->dim * sizeof(float));
    v->ids = xrealloc(v->ids, cap * sizeof(int64_t));
    v->cap = cap;
}

int vecindex_put(struct vecindex *v, int64_t id, const float *vec)
{
    double s = 0;
    for (int i = 0; i < v->dim; i++) {
        if (!isfinite(vec[i]))
            return -1;
        s += (double)vec[i] * vec[i];
    }
    if (!(s > 0) || !isfinite(s))
        return -1;
    if ((v->n + 1) * 2 > v->nslots)
        slots_grow(v);
    size_t si = slot_find(v, id), r;
    if (v->slots[si].row1) {
        r = v->slots[si].row1 - 1;
    } else {
        if (v->n == v->cap)
            rows_grow(v);
        r = v->n++;
        v->slots[si].id = id;
        v->slots[si].row1 = r + 1;
        v->ids[r] = id;
    }
    float *f = v->f32 + r * (size_t)v->dim;
    memcpy(f, vec, (size_t)v->dim * sizeof(float));
    vec_normalise(f, v->dim);
    int8_t *q = v->q8 + r * v->stride;
    vec_quantise(f, v->dim, q, &v->scale[r]);
    memset(q + v->dim, 0, v->stride - (size_t)v->dim);
    return 0;
}

int vecindex_del(struct vecindex *v, int64_t id)
{
    size_t si = slot_find(v, id);
    if (!v->slots[si].row1)
        return -1;
    size_t r = v->slots[si].row1 - 1, last = v->n - 1;
    slot_remove(v, si);
    if (r != last) {
        memcpy(v->q8 + r * v->stride, v->q8 + last * v->stride, v->stride);
        memcpy(v->f32 + r * (size_t)v->dim, v->f32 + last * (size_t)v->dim,
               (size_t)v->dim * sizeof(float));
        v->scale[r] = v->scale[last];
        v->ids[r] = v->ids[last];
        v->slots[slot_find(v, v->ids[r])].row1 = r + 1;
    }
    v->n--;
    return 0;
}

/* === Search === */

/* A bounded min-heap of (score, id, row): the worst kept hit on top.
 * "Worse" is a lower score, or an equal score with a larger id. */
struct vec_cand {
    float score;
    int64_t id;
    size_t row;
};

struct vec_heap {
    struct vec_cand *c;
    size_t n, cap;
};

static int cand_worse(const struct vec_cand *a, const struct vec_cand *b)
{
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

static void heap_sift_down(struct vec_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && cand_worse(&h->c[l], &h->c[m]))
            m = l;
        if (r < h->n && cand_worse(&h->c[r], &h->c[m]))
            m = r;
        if (m == i)
            return;
        struct vec_cand t = h->c[i];
        h->c[i] = h->c[m];
        h->c[m] = t;
        i = m;
    }
}

/* Whether c would enter the heap (before asking the filter). */
static int heap_wants(const struct vec_heap *h, const struct vec_cand *c)
{
    return h->n < h->cap || cand_worse(&h->c[0], c);
}

static void heap_push(struct vec_heap *h, const struct vec_cand *c)
{
    if (h->n < h->cap) {
        size_t i = h->n++;
        h->c[i] = *c;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!cand_worse(&h->c[i], &h->c[p]))
                break;
            struct vec_cand t = h->c[i];
            h->c[i] = h->c[p];
            h->c[p] = t;
            i = p;
        }
    } else {
        h->c[0] = *c;
        heap_sift_down(h, 0);
    }
}

static int cand_cmp_best_first(const void *pa, const void *pb)
{
    const struct vec_cand *a = pa, *b = pb;
    if (cand_worse(b, a))
        return -1;
    if (cand_worse(a, b))
        return 1;
    return 0;
}

typedef int (*vec_keep_fn)(void *payload, int64_t id);

static void search_exact(const struct vecindex *v, const float *q, vec_keep_fn keep,
                         void *payload, struct vec_heap *h)
{
    for (size_t r = 0; r < v->n; r++) {
        struct vec_cand c = {dot_f32(v->f32 + r * (size_t)v->dim, q, v->dim), v->ids[r], r};
        if (heap_wants(h, &c) && (!keep || keep(payload, c.id)))
            heap_push(h, &c);
    }
}

static void search_int8(const struct vecindex *v, const float *q, vec_keep_fn keep,
                        void *payload, struct vec_heap *h)
{
    const struct vec_kernel *k = kernel_get();
    int8_t *q8 = xcalloc(1, v->stride);
    int32_t dots[VEC_BLOCK];
    float qs;
    vec_quantise(q, v->dim, q8, &qs);
    for (size_t b = 0; b < v->n; b += VEC_BLOCK) {
        size_t nb = v->n - b < VEC_BLOCK ? v->n - b : VEC_BLOCK;
        k->scan(v->q8 + b * v->stride, nb, v->stride, q8, (int)v->stride, dots);
        for (size_t i = 0; i < nb; i++) {
            size_t r = b + i;
            struct vec_cand c = {(float)dots[i] * v->scale[r] * qs, v->ids[r], r};
            if (heap_wants(h, &c) && (!keep || keep(payload, c.id)))
                heap_push(h, &c);
        }
    }
    free(q8);
    for (size_t i = 0; i < h->n; i++)
        h->c[i].score = dot_f32(v->f32 + h->c[i].row * (size_t)v->dim, q, v->dim);
}

size_t vecindex_search(const struct vecindex *v, const float *q, size_t k, int exact,
                       int (*keep)(void *payload, int64_t id), void *payload,
                       struct vec_hit *out)
{
    if (k == 0 || v->n == 0)
        return 0;
    float *qn = xmalloc((size_t)v->dim * sizeof(float));
    memcpy(qn, q, (size_t)v->dim * sizeof(float));
    vec_normalise(qn, v->dim);
    struct vec_heap h = {0};
    h.cap = exact ? k : k * VEC_OVERSAMPLE;
    if (h.cap > v->n)
        h.cap = v->n;
    h.c = xmalloc(h.cap * sizeof(*h.c));
    if (exact)
        search_exact(v, qn, keep, payload, &h);
    else
        search_int8(v, qn, keep, payload, &h);
    qsort(h.c, h.n, sizeof(*h.c), cand_cmp_best_first);
    size_t n = h.n < k ? h.n : k;
    for (size_t i = 0; i < n; i++) {
        out[i].id = h.c[i].id;
        out[i].score = h.c[i].score;
    }
    free(h.c);
    free(qn);
    return n;
}
