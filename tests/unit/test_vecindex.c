/* test_vecindex.c — the vector index: quantisation bounds, the int8
 * kernels against each other, search recall against an exact scan,
 * filters, replace and delete. Random data comes from a fixed-seed
 * generator, so every run sees the same vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vecindex.h"
#include "vecindex_int.h"

/* === Helpers === */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;     /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static void rng_seed(uint64_t s)
{
    rng_state = s ? s : 1;
}

static double rng_unit(void)   /* (0, 1) */
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static float rng_gauss(void)
{
    return (float)(sqrt(-2 * log(rng_unit())) * cos(6.283185307179586 * rng_unit()));
}

static void rand_vec(float *x, int dim)
{
    for (int i = 0; i < dim; i++)
        x[i] = rng_gauss();
}

static double dot_d(const float *a, const float *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static const char *const kernel_names[] = {"portable", "avx2", "avx512vnni"};

/* === Quantisation === */

static void test_quantise_bounds(void **state)
{
    static const int dims[] = {1, 2, 7, 64, 384, 1000};
    rng_seed(11);
    for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
        int dim = dims[d];
        float *a = malloc(dim * sizeof(float)), *b = malloc(dim * sizeof(float));
        float *da = malloc(dim * sizeof(float)), *db = malloc(dim * sizeof(float));
        int8_t *qa = malloc(dim), *qb = malloc(dim);
        for (int round = 0; round < 50; round++) {
            rand_vec(a, dim);
            rand_vec(b, dim);
            vec_normalise(a, dim);
            vec_normalise(b, dim);
            float sa, sb;
            vec_quantise(a, dim, qa, &sa);
            vec_quantise(b, dim, qb, &sb);
            vec_dequantise(qa, dim, sa, da);
            vec_dequantise(qb, dim, sb, db);
            float amax = 0;
            int hit127 = 0;
            for (int i = 0; i < dim; i++) {
                amax = fmaxf(amax, fabsf(a[i]));
                assert_true(qa[i] >= -127 && qa[i] <= 127);
                hit127 |= qa[i] == 127 || qa[i] == -127;
                /* |x - deq(q)| <= scale/2, up to float rounding */
                assert_true(fabsf(a[i] - da[i]) <= sa * 0.5f * (1 + 1e-5f));
            }
            assert_true(fabsf(sa - amax / 127.0f) <= 1e-7f);
            assert_true(hit127);
            /* dot error: |a.b - a'.b'| <= sa/2 |b'|_1 + sb/2 |a'|_1 + dim sa sb / 4 */
            double l1a = 0, l1b = 0;
            for (int i = 0; i < dim; i++) {
                l1a += fabs(da[i]);
                l1b += fabs(db[i]);
            }
            int32_t di;
            assert_int_equal(vec_dot_i8("portable", qa, qb, dim, &di), 0);
            double approx = (double)di * sa * sb;
            double bound = sa / 2 * l1b + sb / 2 * l1a + dim * (double)sa * sb / 4;
            assert_true(fabs(dot_d(a, b, dim) - approx) <= bound * (1 + 1e-6) + 1e-9);
            assert_true(fabs(approx - dot_d(da, db, dim)) <= 1e-5);
        }
        free(a), free(b), free(da), free(db), free(qa), free(qb);
    }
    /* zero in, zero out */
    float z[5] = {0};
    int8_t q[5] = {1, 1, 1, 1, 1};
    float s = 9;
    vec_quantise(z, 5, q, &s);
    assert_true(s == 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(q[i], 0);
    vec_normalise(z, 5);
    assert_true(z[0] == 0);
    float v[3] = {3, 0, 4};
    vec_normalise(v, 3);
    assert_true(fabsf(v[0] - 0.6f) < 1e-6f && fabsf(v[2] - 0.8f) < 1e-6f);
}

/* === Kernels === */

static void test_kernels_agree(void **state)
{
    static const int dims[] = {0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127,
                               128, 129, 200, 383, 384, 385, 1000, 4099};
    enum { MAXN = 4099 + 8 };
    int8_t *a = malloc(MAXN), *b = malloc(MAXN);
    rng_seed(22);
    int tried = 0;
    for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++) {
        for (int fill = 0; fill < 4; fill++) {
            for (int i = 0; i < MAXN; i++) {
                switch (fill) {
                case 0: a[i] = (int8_t)rng_next(); b[i] = (int8_t)rng_next(); break;
                case 1: a[i] = -128; b[i] = -128; break;           /* most positive */
                case 2: a[i] = -128; b[i] = 127; break;            /* most negative */
                default: a[i] = (int8_t)(rng_next() % 255 - 127); b[i] = (int8_t)(i % 3 - 1);
                }
            }
            for (int off = 0; off < 3; off++) {     /* unaligned starts */
                int n = dims[d];
                int64_t want = 0;
                for (int i = 0; i < n; i++)
                    want += (int64_t)a[off + i] * b[off + 2 * (off & 1) + i];
                for (size_t k = 0; k < sizeof(kernel_names) / sizeof(kernel_names[0]); k++) {
                    int32_t got = -1;
                    const int8_t *pb = b + off + 2 * (off & 1);
                    if (vec_dot_i8(kernel_names[k], a + off, pb, n, &got) < 0)
                        continue;                    /* the CPU lacks it */
                    tried++;
                    assert_int_equal(got, want);
                }
            }
        }
    }
    assert_true(tried > 0);
    int32_t x;
    assert_int_equal(vec_dot_i8("sse9", a, b, 4, &x), -1);
    free(a), free(b);
}

/* The scan of every kernel against the portable dot, on padded rows. */
static void test_kernel_scan(void **state)
{
    enum { ROWS = 37, N = 200, STRIDE = 256 };
    int8_t *rows = malloc(ROWS * STRIDE), q[STRIDE];
    int32_t out[ROWS];
    rng_seed(33);
    for (int i = 0; i < ROWS * STRIDE; i++)
        rows[i] = (int8_t)rng_next();
    for (int i = 0; i < STRIDE; i++)
        q[i] = (int8_t)rng_next();
    const struct vec_kernel *p = vec_kernel_get("portable");
    assert_non_null(p);
    for (size_t k = 0; k < sizeof(kernel_names) / sizeof(kernel_names[0]); k++) {
        const struct vec_kernel *kn = vec_kernel_get(kernel_names[k]);
        if (!kn)
            continue;
        for (int n = N - 1; n <= STRIDE; n += STRIDE - N + 1) {   /* 199 and 256 */
            memset(out, 0, sizeof(out));
            kn->scan(rows, ROWS, STRIDE, q, n, out);
            for (int r = 0; r < ROWS; r++)
                assert_int_equal(out[r], p->dot(rows + r * STRIDE, q, n));
        }
    }
    const char *s = vecindex_simd();
    assert_non_null(vec_kernel_get(s));
    assert_true(strcmp(s, "portable") == 0 || strcmp(s, "avx2") == 0 ||
                strcmp(s, "avx512vnni") == 0);
    free(rows);
}

/* === Search === */

static int cmp_hit(const void *pa, const void *pb)
{
    const struct vec_hit *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void test_recall(void **state)
{
    enum { N = 10000, DIM = 384, Q = 100, K = 10 };
    struct vecindex *v = vecindex_new(DIM);
    float *data = malloc((size_t)N * DIM * sizeof(float)), q[DIM];
    rng_seed(44);
    for (int i = 0; i < N; i++) {
        rand_vec(data + (size_t)i * DIM, DIM);
        assert_int_equal(vecindex_put(v, 1000 + i, data + (size_t)i * DIM), 0);
        vec_normalise(data + (size_t)i * DIM, DIM);
    }
    assert_int_equal(vecindex_count(v), N);
    assert_int_equal(vecindex_dim(v), DIM);
    struct vec_hit *all = malloc(N * sizeof(*all));
    struct vec_hit fast[K], exact[K];
    int found = 0;
    for (int t = 0; t < Q; t++) {
        rand_vec(q, DIM);
        assert_int_equal(vecindex_search(v, q, K, 0, NULL, NULL, fast), K);
        assert_int_equal(vecindex_search(v, q, K, 1, NULL, NULL, exact), K);
        /* the exact search matches a brute force in double precision */
        float qn[DIM];
        memcpy(qn, q, sizeof(qn));
        vec_normalise(qn, DIM);
        for (int i = 0; i < N; i++) {
            all[i].id = 1000 + i;
            all[i].score = (float)dot_d(data + (size_t)i * DIM, qn, DIM);
        }
        qsort(all, N, sizeof(*all), cmp_hit);
        for (int j = 0; j < K; j++) {
            assert_int_equal(exact[j].id, all[j].id);
            assert_true(fabsf(exact[j].score - all[j].score) < 1e-5f);
            if (j > 0) {
                assert_true(fast[j - 1].score >= fast[j].score);
                assert_true(exact[j - 1].score >= exact[j].score);
            }
        }
        for (int j = 0; j < K; j++)
            for (int m = 0; m < K; m++)
                if (fast[j].id == exact[m].id) {
                    found++;
                    /* rescored: the same exact float32 score */
                    assert_true(fabsf(fast[j].score - exact[m].score) < 1e-6f);
                }
    }
    double recall = (double)found / (Q * K);
    print_message("recall@10 = %.4f (%s)\n", recall, vecindex_simd());
    assert_true(recall >= 0.98);
    free(all);
    free(data);
    vecindex_free(v);
}

static int keep_even(void *payload, int64_t id)
{
    (*(int *)payload)++;
    return id % 2 == 0;
}

static int keep_none(void *payload, int64_t id)
{
    return 0;
}

static void test_filter(void **state)
{
    enum { N = 2000, DIM = 48, K = 7 };
    struct vecindex *v = vecindex_new(DIM);
    float x[DIM];
    rng_seed(55);
    for (int i = 0; i < N; i++) {
        rand_vec(x, DIM);
        assert_int_equal(vecindex_put(v, i, x), 0);
    }
    struct vec_hit h[K], e[K];
    for (int t = 0; t < 20; t++) {
        rand_vec(x, DIM);
        for (int exact = 0; exact < 2; exact++) {
            int calls = 0;
            assert_int_equal(vecindex_search(v, x, K, exact, keep_even, &calls, h), K);
            assert_true(calls >= K && calls < N);   /* asked only of would-be candidates */
            for (int j = 0; j < K; j++)
                assert_int_equal(h[j].id % 2, 0);
        }
        int calls = 0;
        vecindex_search(v, x, K, 1, keep_even, &calls, e);
        vecindex_search(v, x, K, 0, keep_even, &calls, h);
        int same = 0;
        for (int j = 0; j < K; j++)
            same += h[j].id == e[j].id;
        assert_true(same >= K - 1);
        assert_int_equal(vecindex_search(v, x, K, 0, keep_none, NULL, h), 0);
        assert_int_equal(vecindex_search(v, x, K, 1, keep_none, NULL, h), 0);
    }
    vecindex_free(v);
}

static void test_put_replace_delete(void **state)
{
    enum { N = 1000, DIM = 70 };
    struct vecindex *v = vecindex_new(DIM);
    float *data = malloc((size_t)N * DIM * sizeof(float));
    char *gone = calloc(N, 1);
    rng_seed(66);
    for (int i = 0; i < N; i++) {
        rand_vec(data + (size_t)i * DIM, DIM);
        assert_int_equal(vecindex_put(v, (int64_t)i * 7919 - 3000, data + (size_t)i * DIM), 0);
    }
    /* replace every tenth with a new vector: the count stays */
    for (int i = 0; i < N; i += 10) {
        rand_vec(data + (size_t)i * DIM, DIM);
        assert_int_equal(vecindex_put(v, (int64_t)i * 7919 - 3000, data + (size_t)i * DIM), 0);
    }
    assert_int_equal(vecindex_count(v), N);
    /* delete about half, in random order */
    size_t left = N;
    for (int t = 0; t < N; t++) {
        int i = (int)(rng_next() % N);
        int rc = vecindex_del(v, (int64_t)i * 7919 - 3000);
        assert_int_equal(rc, gone[i] ? -1 : 0);
        if (!gone[i])
            left--;
        gone[i] = 1;
    }
    assert_true(left > N / 4 && left < N * 3 / 4);
    assert_int_equal(vecindex_count(v), left);
    assert_int_equal(vecindex_del(v, 123456789), -1);
    /* each remaining id finds itself first, with its latest vector */
    struct vec_hit h[3];
    for (int i = 0; i < N; i++) {
        int64_t id = (int64_t)i * 7919 - 3000;
        assert_int_equal(vecindex_has(v, id), !gone[i]);
        if (gone[i])
            continue;
        for (int exact = 0; exact < 2; exact++) {
            assert_int_equal(vecindex_search(v, data + (size_t)i * DIM, 3, exact, NULL, NULL, h), 3);
            assert_int_equal(h[0].id, id);
            assert_true(h[0].score > 0.9999f);
            for (int j = 0; j < 3; j++) {
                int r = (int)((h[j].id + 3000) / 7919);
                assert_false(gone[r]);
            }
        }
    }
    /* delete everything, then put again */
    for (int i = 0; i < N; i++)
        if (!gone[i])
            assert_int_equal(vecindex_del(v, (int64_t)i * 7919 - 3000), 0);
    assert_int_equal(vecindex_count(v), 0);
    assert_int_equal(vecindex_search(v, data, 3, 0, NULL, NULL, h), 0);
    assert_int_equal(vecindex_put(v, 5, data), 0);
    assert_int_equal(vecindex_search(v, data, 3, 0, NULL, NULL, h), 1);
    assert_int_equal(h[0].id, 5);
    free(gone);
    free(data);
    vecindex_free(v);
}

static void test_edges(void **state)
{
    assert_null(vecindex_new(0));
    assert_null(vecindex_new(-3));
    vecindex_free(NULL);
    struct vecindex *v = vecindex_new(3);
    float zero[3] = {0, 0, 0}, nan3[3] = {1, NAN, 0}, inf3[3] = {INFINITY, 0, 0};
    assert_int_equal(vecindex_put(v, 1, zero), -1);
    assert_int_equal(vecindex_put(v, 1, nan3), -1);
    assert_int_equal(vecindex_put(v, 1, inf3), -1);
    assert_int_equal(vecindex_count(v), 0);
    /* identical vectors: ties come out by ascending id, for both paths */
    float a[3] = {1, 2, 3}, b[3] = {-1, 0, 0};
    int64_t ids[] = {9, -2, 5, 3};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(vecindex_put(v, ids[i], a), 0);
    assert_int_equal(vecindex_put(v, 100, b), 0);
    struct vec_hit h[8];
    for (int exact = 0; exact < 2; exact++) {
        assert_int_equal(vecindex_search(v, (float[]){2, 4, 6}, 8, exact, NULL, NULL, h), 5);
        int64_t want[] = {-2, 3, 5, 9, 100};
        for (int j = 0; j < 5; j++)
            assert_int_equal(h[j].id, want[j]);
        assert_true(fabsf(h[0].score - 1) < 1e-6f);
        assert_true(fabsf(h[4].score - (-1.0f / sqrtf(14))) < 1e-5f);
        assert_int_equal(vecindex_search(v, a, 2, exact, NULL, NULL, h), 2);
        assert_int_equal(h[0].id, -2);
        assert_int_equal(h[1].id, 3);
        assert_int_equal(vecindex_search(v, a, 0, exact, NULL, NULL, h), 0);
    }
    /* put copies: changing the caller's array changes nothing */
    a[0] = -50;
    assert_int_equal(vecindex_search(v, (float[]){1, 2, 3}, 1, 1, NULL, NULL, h), 1);
    assert_true(fabsf(h[0].score - 1) < 1e-6f);
    vecindex_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantise_bounds),
        cmocka_unit_test(test_kernels_agree),
        cmocka_unit_test(test_kernel_scan),
        cmocka_unit_test(test_recall),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_put_replace_delete),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
