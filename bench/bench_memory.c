/* bench_memory.c — the memory's vector search and embedding speed, for
 * bench/run.sh, beside sqlite-vec in the same run on the same vectors.
 *
 *   bench_memory [-n VECTORS] [-N BIG] [-q QUERIES] [-s VEC0_SO] [-e ENTRIES]
 *
 * Defaults: 100,000 and 1,000,000 vectors of 384 dimensions (random unit
 * vectors: Gaussian components from a fixed-seed generator, normalised), 200
 * queries (other random unit vectors), 100,000 corpus entries. Measures, with
 * CLOCK_MONOTONIC per query, after 20 warm-up queries:
 *   - vecindex_search top 10 on N vectors: int8 scan + float32 rescoring
 *     (p50, p95) and the exact float32 scan (p50, p95); recall@10 of the
 *     first against the second;
 *   - sqlite-vec (vec0.so loaded into the system libsqlite3, an in-memory
 *     vec0 table float[384] holding the same vectors under the same ids):
 *     KNN "WHERE embedding MATCH ? AND k = 10" p50, p95, and its recall
 *     against the exact scan (it is exact too: a check of the setup);
 *   - the same vecindex figures on BIG vectors (-N 0 skips);
 *   - the int8 scan's effective bandwidth (bytes of int8 rows / p50) next to
 *     the machine's memory read bandwidth measured here (sum of a 1 GiB
 *     buffer, best of 3) and memcpy bandwidth;
 *   - the hashing embedder + vecindex_put throughput in entries/s over a real
 *     corpus: the C files of src/, README.md and the .md files of ../shared, split into paragraphs
 *     (blank-line separated), repeated up to ENTRIES entries.
 * Prints a table and appends rows to $BENCH_SUMMARY when set. Slow figures
 * never fail; exit 1 when something breaks: a search returns fewer than 10
 * hits, sqlite-vec cannot be loaded or disagrees with the exact scan
 * (recall < 0.99), the corpus is empty. */
#include "embed.h"
#include "util.h"
#include "vecindex.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM 384
#define K 10
#define WARMUP 20

static int broken;

/* === Helpers === */

static uint64_t rng_state = 0x853c49e6748fea9bULL;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static double rng_unit(void)
{
    return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static void rand_unit_vec(float *x)
{
    for (int i = 0; i < DIM; i += 2) {
        double r = sqrt(-2 * log(rng_unit())), t = 6.283185307179586 * rng_unit();
        x[i] = (float)(r * cos(t));
        if (i + 1 < DIM)
            x[i + 1] = (float)(r * sin(t));
    }
    vec_normalise(x, DIM);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)ceil(q * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

static FILE *summary_open(void)
{
    const char *s = getenv("BENCH_SUMMARY");
    return s && *s ? fopen(s, "a") : NULL;
}

/* One line of output and a summary row. */
static void row(const char *label, const char *mine, const char *peer, const char *theirs,
                const char *ratio, const char *target, const char *verdict)
{
    printf("%-40s %12s %-10s %10s %8s  %s %s\n", label, mine, peer, theirs, ratio, target,
           verdict);
    FILE *f = summary_open();
    if (f) {
        fprintf(f, "memory %s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, mine, peer, theirs, ratio,
                target, verdict);
        fclose(f);
    }
}

static const char *verdict(int met)
{
    return met ? "met" : "MISSED";
}

/* === vecindex === */

struct lat {
    double fast50, fast95, exact50, exact95, recall;
};

static struct vec_hit *exact_hits;   /* Q * K, from the exact scan */

static void bench_vecindex(struct vecindex *v, const float *queries, int nq, int nexact,
                           struct lat *out)
{
    double *t = xmalloc((size_t)nq * sizeof(double));
    struct vec_hit h[K];
    for (int i = 0; i < WARMUP; i++)
        vecindex_search(v, queries + (size_t)(i % nq) * DIM, K, 0, NULL, NULL, h);
    for (int i = 0; i < nq; i++) {
        double t0 = now_s();
        size_t n = vecindex_search(v, queries + (size_t)i * DIM, K, 0, NULL, NULL, h);
        t[i] = (now_s() - t0) * 1e3;
        if (n != K)
            broken = 1;
        memcpy(exact_hits + (size_t)i * K, h, sizeof(h));   /* until the exact hits replace them */
    }
    out->fast50 = quantile(t, (size_t)nq, 0.5);
    out->fast95 = quantile(t, (size_t)nq, 0.95);
    int found = 0;
    for (int i = 0; i < nexact; i++) {
        struct vec_hit e[K];
        double t0 = now_s();
        size_t n = vecindex_search(v, queries + (size_t)i * DIM, K, 1, NULL, NULL, e);
        t[i] = (now_s() - t0) * 1e3;
        if (n != K)
            broken = 1;
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                found += exact_hits[(size_t)i * K + a].id == e[b].id;
        memcpy(exact_hits + (size_t)i * K, e, sizeof(e));
    }
    out->exact50 = quantile(t, (size_t)nexact, 0.5);
    out->exact95 = quantile(t, (size_t)nexact, 0.95);
    out->recall = (double)found / ((double)nexact * K);
    free(t);
}

static struct vecindex *build_index(size_t n, float **keep, double *secs)
{
    struct vecindex *v = vecindex_new(DIM);
    float x[DIM];
    if (keep)
        *keep = xmalloc(n * DIM * sizeof(float));
    double gen = 0, t0;
    for (size_t i = 0; i < n; i++) {
        t0 = now_s();
        rand_unit_vec(x);
        gen += now_s() - t0;
        if (keep)
            memcpy(*keep + i * DIM, x, sizeof(x));
        t0 = now_s();
        if (vecindex_put(v, (int64_t)i + 1, x) < 0)
            broken = 1;
        *secs += now_s() - t0;
    }
    (void)gen;
    return v;
}

/* === sqlite-vec === */

static int bench_sqlite_vec(const char *so, const float *data, size_t n, const float *queries,
                            int nq, double *p50, double *p95, double *recall, double *load_s)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *err = NULL;
    double *t = xmalloc((size_t)nq * sizeof(double));
    int rc = -1, found = 0;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        goto fail;
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, so, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_memory: cannot load %s: %s\n", so, err ? err : "?");
        goto fail;
    }
    if (sqlite3_exec(db, "CREATE VIRTUAL TABLE v USING vec0(embedding float[384]);"
                         "BEGIN", NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    double t0 = now_s();
    if (sqlite3_prepare_v2(db, "INSERT INTO v(rowid, embedding) VALUES (?, ?)", -1, &st, NULL))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_blob(st, 2, data + i * DIM, DIM * sizeof(float), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &err) != SQLITE_OK)
        goto fail;
    *load_s = now_s() - t0;
    if (sqlite3_prepare_v2(db, "SELECT rowid, distance FROM v WHERE embedding MATCH ? AND k = 10 "
                               "ORDER BY distance", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    for (int i = -WARMUP; i < nq; i++) {
        const float *q = queries + (size_t)(i < 0 ? (i + WARMUP) % nq : i) * DIM;
        int64_t got[K];
        int ng = 0;
        double s0 = now_s();
        sqlite3_bind_blob(st, 1, q, DIM * sizeof(float), SQLITE_STATIC);
        int r;
        while ((r = sqlite3_step(st)) == SQLITE_ROW)
            if (ng < K)
                got[ng++] = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (r != SQLITE_DONE || ng != K)
            goto fail;
        if (i < 0)
            continue;
        t[i] = (now_s() - s0) * 1e3;
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                found += got[a] == exact_hits[(size_t)i * K + b].id;
    }
    *p50 = quantile(t, (size_t)nq, 0.5);
    *p95 = quantile(t, (size_t)nq, 0.95);
    *recall = (double)found / ((double)nq * K);
    rc = 0;
fail:
    if (rc < 0 && !err && db)
        fprintf(stderr, "bench_memory: sqlite-vec: %s\n", sqlite3_errmsg(db));
    else if (rc < 0 && err)
        fprintf(stderr, "bench_memory: sqlite-vec: %s\n", err);
    sqlite3_free(err);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(t);
    return rc;
}

/* === Memory bandwidth === */

static void bench_bandwidth(double *read_gbs, double *copy_gbs)
{
    size_t bytes = (size_t)1 << 30, n = bytes / sizeof(uint64_t);
    uint64_t *a = xmalloc(bytes), *b = xmalloc(bytes);
    for (size_t i = 0; i < n; i++)
        a[i] = i;
    memset(b, 0, bytes);
    *read_gbs = *copy_gbs = 0;
    volatile uint64_t sink = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = now_s();
        uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t i = 0; i < n; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        sink += s0 + s1 + s2 + s3;
        double gbs = bytes / (now_s() - t0) / 1e9;
        if (gbs > *read_gbs)
            *read_gbs = gbs;
        t0 = now_s();
        memcpy(b, a, bytes);
        sink += b[r];
        gbs = bytes / (now_s() - t0) / 1e9;   /* bytes copied (read once, written once) */
        if (gbs > *copy_gbs)
            *copy_gbs = gbs;
    }
    (void)sink;
    free(a);
    free(b);
}

/* === Corpus and embedder === */

static void add_paragraphs(char ***v, size_t *n, size_t *cap, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t i = 0;
        while (i < len && (p[i] == '\n' || p[i] == ' '))
            i++;
        if (len - i >= 20) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 1024;
                *v = xrealloc(*v, *cap * sizeof(**v));
            }
            (*v)[(*n)++] = xstrndup(p + i, len - i);
        }
        if (!end)
            break;
        p = end + 2;
    }
}

static void add_dir(char ***v, size_t *n, size_t *cap, const char *dir, const char *suffix,
                    size_t *bytes)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
            continue;
        char *path = xasprintf("%s/%s", dir, de->d_name), *text;
        size_t len;
        if (util_read_file(path, &text, &len) == 0) {
            add_paragraphs(v, n, cap, text);
            *bytes += len;
            free(text);
        }
        free(path);
    }
    closedir(d);
}

static void bench_embed(size_t entries, double *rate, double *embed_rate, size_t *paras,
                        double *avg_len)
{
    char **par = NULL;
    size_t np = 0, cap = 0, bytes = 0;
    add_dir(&par, &np, &cap, "src", ".c", &bytes);
    add_dir(&par, &np, &cap, "../shared", ".md", &bytes);
    char *readme;
    size_t len;
    if (util_read_file("README.md", &readme, &len) == 0) {
        add_paragraphs(&par, &np, &cap, readme);
        free(readme);
    }
    *paras = np;
    *rate = *embed_rate = 0;
    if (np == 0) {
        fprintf(stderr, "bench_memory: no corpus (run from the repository root)\n");
        broken = 1;
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < np; i++)
        total += strlen(par[i]);
    *avg_len = (double)total / (double)np;
    const char **texts = xmalloc(entries * sizeof(*texts));
    for (size_t i = 0; i < entries; i++)
        texts[i] = par[i % np];
    struct embedder *e = embed_hashing_new(DIM);
    struct vecindex *v = vecindex_new(DIM);
    enum { BATCH = 256 };
    double t_embed = 0, t0 = now_s();
    for (size_t i = 0; i < entries; i += BATCH) {
        size_t m = entries - i < BATCH ? entries - i : BATCH;
        float *out;
        int dim;
        char *err = NULL;
        double e0 = now_s();
        if (embed_texts(e, texts + i, m, &out, &dim, &err) < 0) {
            fprintf(stderr, "bench_memory: embed: %s\n", err);
            free(err);
            broken = 1;
            break;
        }
        t_embed += now_s() - e0;
        for (size_t j = 0; j < m; j++)
            vecindex_put(v, (int64_t)(i + j), out + j * DIM);   /* an empty row is refused */
        free(out);
    }
    double t = now_s() - t0;
    *rate = (double)entries / t;
    *embed_rate = (double)entries / t_embed;
    vecindex_free(v);
    embed_free(e);
    free(texts);
    for (size_t i = 0; i < np; i++)
        free(par[i]);
    free(par);
}

/* === Main === */

int main(int argc, char **argv)
{
    size_t n = 100000, big = 1000000, entries = 100000;
    int nq = 200, opt;
    const char *so = NULL;
    while ((opt = getopt(argc, argv, "n:N:q:s:e:")) != -1) {
        switch (opt) {
        case 'n': n = strtoul(optarg, NULL, 10); break;
        case 'N': big = strtoul(optarg, NULL, 10); break;
        case 'q': nq = atoi(optarg); break;
        case 's': so = optarg; break;
        case 'e': entries = strtoul(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: bench_memory [-n VECTORS] [-N BIG] [-q QUERIES] "
                            "[-s VEC0_SO] [-e ENTRIES]\n");
            return 2;
        }
    }
    if (n < K || nq < 1) {
        fprintf(stderr, "bench_memory: -n must be >= %d and -q >= 1\n", K);
        return 2;
    }
    printf("memory: %zu x %d random unit vectors, %d queries, top %d, kernel %s\n", n, DIM, nq,
           K, vecindex_simd());
    float *queries = xmalloc((size_t)nq * DIM * sizeof(float));
    exact_hits = xmalloc((size_t)nq * K * sizeof(*exact_hits));
    float *data;
    double put_s = 0;
    struct vecindex *v = build_index(n, &data, &put_s);
    for (int i = 0; i < nq; i++)
        rand_unit_vec(queries + (size_t)i * DIM);
    struct lat l;
    bench_vecindex(v, queries, nq, nq, &l);
    vecindex_free(v);

    double sp50 = 0, sp95 = 0, srecall = 0, sload = 0;
    int have_peer = 0;
    if (so) {
        have_peer = bench_sqlite_vec(so, data, n, queries, nq, &sp50, &sp95, &srecall, &sload) == 0;
        if (!have_peer || srecall < 0.99) {
            fprintf(stderr, "bench_memory: sqlite-vec %s (recall vs exact %.3f)\n",
                    have_peer ? "disagrees with the exact scan" : "failed", srecall);
            broken = 1;
        }
    }
    free(data);

    struct lat lb = {0};
    double bput = 0;
    if (big > 0) {
        struct vecindex *vb = build_index(big, NULL, &bput);
        int nbq = nq < 100 ? nq : 100;
        bench_vecindex(vb, queries, nbq, nbq < 20 ? nbq : 20, &lb);
        vecindex_free(vb);
    }
    double rd = 0, cp = 0;
    bench_bandwidth(&rd, &cp);
    double rate = 0, erate = 0, avg = 0;
    size_t paras = 0;
    if (entries > 0)
        bench_embed(entries, &rate, &erate, &paras, &avg);

    /* === report === */
    char a[32], b[32], c[32];
    printf("\n%-40s %12s %-10s %10s %8s  %s\n", "figure", "mcpdeck", "peer", "peer value",
           "ratio", "target");
    snprintf(a, sizeof a, "%.3f", l.fast50);
    snprintf(b, sizeof b, "%.3f", sp50);
    snprintf(c, sizeof c, "%.1fx", l.fast50 > 0 ? sp50 / l.fast50 : 0);
    row("100k search p50 ms (int8+rescore)", a, have_peer ? "sqlite-vec" : "-", have_peer ? b : "-",
        have_peer ? c : "-", "", "");
    snprintf(a, sizeof a, "%.3f", l.fast95);
    snprintf(b, sizeof b, "%.3f", sp95);
    snprintf(c, sizeof c, "%.1fx", l.fast95 > 0 ? sp95 / l.fast95 : 0);
    row("100k search p95 ms (int8+rescore)", a, have_peer ? "sqlite-vec" : "-", have_peer ? b : "-",
        have_peer ? c : "-", "<= 3 ms", verdict(l.fast95 <= 3));
    if (have_peer)
        row("100k speed-up over sqlite-vec (p95)", c, "sqlite-vec", b, c, ">= 10x",
            verdict(sp95 >= 10 * l.fast95));
    snprintf(a, sizeof a, "%.3f", l.exact50);
    row("100k exact float32 p50 ms", a, "-", "-", "-", "", "");
    snprintf(a, sizeof a, "%.3f", l.exact95);
    row("100k exact float32 p95 ms", a, "-", "-", "-", "", "");
    snprintf(a, sizeof a, "%.4f", l.recall);
    snprintf(b, sizeof b, "%.4f", srecall);
    row("100k recall@10 vs exact", a, have_peer ? "sqlite-vec" : "-", have_peer ? b : "-", "-",
        ">= 0.98", verdict(l.recall >= 0.98));
    snprintf(a, sizeof a, "%.0f", (double)n / put_s);
    snprintf(b, sizeof b, "%.0f", have_peer ? (double)n / sload : 0);
    row("100k vecindex_put/s (vectors)", a, have_peer ? "sqlite-vec" : "-", have_peer ? b : "-",
        "-", "", "");
    if (big > 0) {
        snprintf(a, sizeof a, "%.3f", lb.fast50);
        row("1M search p50 ms (int8+rescore)", a, "-", "-", "-", "", "");
        snprintf(a, sizeof a, "%.3f", lb.fast95);
        row("1M search p95 ms (int8+rescore)", a, "-", "-", "-", "<= 50 ms",
            verdict(lb.fast95 <= 50));
        snprintf(a, sizeof a, "%.3f", lb.exact95);
        row("1M exact float32 p95 ms", a, "-", "-", "-", "", "");
        snprintf(a, sizeof a, "%.4f", lb.recall);
        row("1M recall@10 vs exact", a, "-", "-", "-", "", "");
    }
    size_t stride = (DIM + 63) / 64 * 64;
    double gbs = (double)n * stride / (l.fast50 / 1e3) / 1e9;
    snprintf(a, sizeof a, "%.2f", gbs);
    snprintf(b, sizeof b, "%.2f", rd);
    snprintf(c, sizeof c, "%.2fx", gbs / rd);
    row("100k int8 scan GB/s (rows / p50)", a, "mem read", b, c, "", "");
    if (big > 0) {
        double gb2 = (double)big * stride / (lb.fast50 / 1e3) / 1e9;
        snprintf(a, sizeof a, "%.2f", gb2);
        snprintf(c, sizeof c, "%.2fx", gb2 / rd);
        row("1M int8 scan GB/s (rows / p50)", a, "mem read", b, c, "", "");
    }
    snprintf(a, sizeof a, "%.2f", cp);
    row("memcpy GB/s (1 GiB, bytes copied)", a, "-", "-", "-", "", "");
    if (entries > 0) {
        snprintf(a, sizeof a, "%.0f", rate);
        char lbl[64];
        snprintf(lbl, sizeof lbl, "hashing embed+put entries/s");
        row(lbl, a, "-", "-", "-", ">= 20000", verdict(rate >= 20000));
        snprintf(a, sizeof a, "%.0f", erate);
        row("hashing embed only entries/s", a, "-", "-", "-", "", "");
        printf("  corpus: %zu paragraphs (mean %.0f bytes) repeated to %zu entries\n", paras, avg,
               entries);
    }
    free(queries);
    free(exact_hits);
    if (broken)
        fprintf(stderr, "bench_memory: BROKEN (see above)\n");
    return broken ? 1 : 0;
}
