/* test_memory.c — the memory store on a real SQLite file in a temporary
 * directory: dedup with metadata merge, the FTS index following insert,
 * update and delete, reciprocal rank fusion on a hand-made case, metadata
 * filters (equality, ranges, in, a missing field), expiry with a clock we
 * set, export/import round trips and a bad line's number, stale vectors
 * after an embedder change and reindex, reopening, the Qdrant outbox and
 * point ids, the asynchronous forms on a loop, the asynchronous vector
 * hook (answers now, later, failures falling back to the local index,
 * closing while it is out) and the config section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "embed.h"
#include "loop.h"
#include "memory.h"
#include "util.h"

struct fix {
    char *dir;
    char *path;
    struct config *cfg;
    struct db *db;
    struct memory *m;
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void fix_open(struct fix *f)
{
    char *err = NULL;
    assert_int_equal(db_open(f->path, &f->db, &err), 0);
    assert_int_equal(memory_open(f->db, f->cfg, &f->m, &err), 0);
}

static void fix_close(struct fix *f)
{
    memory_free(f->m);
    db_close(f->db);
    f->m = NULL;
    f->db = NULL;
}

static struct fix *fix_new(const char *yaml)
{
    struct fix *f = xcalloc(1, sizeof *f);
    char tmpl[] = "/tmp/mcpdeck-mem.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    f->dir = xstrdup(tmpl);
    f->path = xasprintf("%s/m.db", f->dir);
    char *err = NULL;
    const char *y = yaml ? yaml : "{}";
    if (config_load_string("test.yaml", y, strlen(y), &f->cfg, &err) < 0)
        fail_msg("config: %s", err);
    fix_open(f);
    return f;
}

static void fix_free(struct fix *f)
{
    fix_close(f);
    config_free(f->cfg);
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f->dir);
    free(f->path);
    free(f);
}

static int setup(void **state)
{
    *state = fix_new(NULL);
    return 0;
}

static int teardown(void **state)
{
    fix_free(*state);
    return 0;
}

static int64_t add(struct memory *m, const char *ns, const char *text, const char *meta)
{
    cJSON *j = meta ? cJSON_Parse(meta) : NULL;
    int64_t id = 0;
    char *err = NULL;
    int rc = memory_add(m, ns, text, j, 0, &id, &err);
    if (rc < 0)
        fail_msg("add: %s", err);
    cJSON_Delete(j);
    return id;
}

/* Search; the ids of the hits in order, -1 terminated, in ids (room 32). */
static size_t search(struct memory *m, const char *text, enum memory_mode mode,
                     const char *filter, const char *ns, int64_t *ids)
{
    cJSON *fj = filter ? cJSON_Parse(filter) : NULL;
    const char *nsv[1] = {ns};
    struct memory_query q = {text, 20, ns ? nsv : NULL, ns ? 1 : 0, fj, 0, mode, 0};
    struct memory_hit *h = NULL;
    size_t n = 0;
    char *err = NULL;
    if (memory_search(m, &q, &h, &n, &err) < 0)
        fail_msg("search: %s", err);
    for (size_t i = 0; i < n && i < 31; i++)
        ids[i] = h[i].entry->id;
    ids[n < 31 ? n : 31] = -1;
    memory_hits_free(h, n);
    cJSON_Delete(fj);
    return n;
}

static int has(const int64_t *ids, int64_t id)
{
    for (; *ids != -1; ids++)
        if (*ids == id)
            return 1;
    return 0;
}

static int64_t stat_num(struct memory *m, const char *key)
{
    cJSON *s = memory_stats(m);
    int64_t v = (int64_t)cJSON_GetObjectItem(s, key)->valuedouble;
    cJSON_Delete(s);
    return v;
}

/* === dedup === */

static void test_dedup_merges_metadata(void **state)
{
    struct fix *f = *state;
    int64_t a = add(f->m, "coding", "use sqlite for the queue", "{\"a\":1,\"b\":1}");
    cJSON *meta = cJSON_Parse("{\"b\":2,\"c\":3}");
    int64_t b = 0;
    char *err = NULL;
    assert_int_equal(memory_add(f->m, "coding", "use sqlite for the queue", meta, 0, &b, &err), 1);
    assert_int_equal(a, b);
    struct memory_entry *e;
    assert_int_equal(memory_get(f->m, a, &e), 0);
    char *mj = cJSON_PrintUnformatted(e->metadata);
    assert_string_equal(mj, "{\"a\":1,\"b\":2,\"c\":3}");
    free(mj);
    assert_string_equal(e->hash, "c26d9d4d2cb95075750d38f5c5b2b217690f0c5662f21e9b449b449e2bb59595");   /* sha256sum */
    memory_entry_free(e);
    /* the same text in another namespace is another entry */
    int64_t c = add(f->m, "architecture", "use sqlite for the queue", NULL);
    assert_true(c != a);
    cJSON_Delete(meta);
    /* unknown namespace, non-object metadata, empty text */
    cJSON *arr = cJSON_Parse("[1]");
    assert_int_equal(memory_add(f->m, "nope", "x", NULL, 0, &b, &err), -1);
    assert_non_null(strstr(err, "unknown namespace 'nope'"));
    free(err);
    assert_int_equal(memory_add(f->m, NULL, "x", arr, 0, &b, &err), -1);
    free(err);
    assert_int_equal(memory_add(f->m, NULL, "", NULL, 0, &b, &err), -1);
    free(err);
    cJSON_Delete(arr);
    assert_string_equal(memory_default_ns(f->m), "shared");
}

/* === FTS follows writes === */

static size_t fts_count(struct fix *f, const char *match)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db_handle(f->db), "SELECT COUNT(*) FROM memory_fts "
                                        "WHERE memory_fts MATCH ?", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_fts_follows_writes(void **state)
{
    struct fix *f = *state;
    int64_t ids[32];
    int64_t id = add(f->m, "coding", "the quick brown fox", NULL);
    assert_int_equal(fts_count(f, "fox"), 1);
    assert_int_equal(search(f->m, "fox", MEMORY_KEYWORD, NULL, NULL, ids), 1);
    assert_int_equal(ids[0], id);
    char *err = NULL;
    assert_int_equal(memory_update(f->m, id, "a lazy dog sleeps", NULL, &err), 0);
    assert_int_equal(fts_count(f, "fox"), 0);
    assert_int_equal(fts_count(f, "dog"), 1);
    assert_int_equal(search(f->m, "fox", MEMORY_KEYWORD, NULL, NULL, ids), 0);
    assert_int_equal(search(f->m, "dogs", MEMORY_KEYWORD, NULL, NULL, ids), 1);   /* porter */
    /* the vector follows the text too */
    assert_int_equal(search(f->m, "lazy dog sleeps", MEMORY_VECTOR, NULL, NULL, ids), 1);
    assert_int_equal(memory_delete(f->m, id, &err), 0);
    assert_int_equal(fts_count(f, "dog"), 0);
    assert_int_equal(search(f->m, "dog", MEMORY_HYBRID, NULL, NULL, ids), 0);
    assert_int_equal(memory_delete(f->m, id, &err), 1);
    struct memory_entry *e;
    assert_int_equal(memory_get(f->m, id, &e), 1);
    assert_int_equal(memory_update(f->m, id, "x", NULL, &err), 1);
}

static void test_keyword_query_is_never_syntax(void **state)
{
    struct fix *f = *state;
    int64_t ids[32];
    int64_t id = add(f->m, "coding", "NEAR the AND operator: \"quoted\" (parens) col:x", NULL);
    static const char *const nasty[] = {"\"", "AND", "NEAR(", "col:x", "*", "a OR", "(", "^x",
                                        "-", "\"quoted\" (parens)", "", "   "};
    for (size_t i = 0; i < sizeof nasty / sizeof *nasty; i++)
        search(f->m, nasty[i], MEMORY_KEYWORD, NULL, NULL, ids);   /* fails the test on error */
    assert_int_equal(search(f->m, "operator: (parens", MEMORY_KEYWORD, NULL, NULL, ids), 1);
    assert_int_equal(ids[0], id);
}

/* === fusion === */

static void test_rrf_order(void **state)
{
    /* kw: 10 20 30 40; vec: 40 30 50.
     * 10: 1/61 = .016393   20: 1/62 = .016129   50: 1/63 = .015873
     * 30: 1/63 + 1/62 = .032002   40: 1/64 + 1/61 = .032018 */
    int64_t kw[] = {10, 20, 30, 40}, vec[] = {40, 30, 50}, out[7];
    double sc[7];
    size_t n = memory_fuse(kw, 4, vec, 3, out, sc);
    int64_t want[] = {40, 30, 10, 20, 50};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(out[i], want[i]);
    assert_true(fabs(sc[0] - (1.0 / 64 + 1.0 / 61)) < 1e-12);
    assert_true(fabs(sc[4] - 1.0 / 63) < 1e-12);
    /* equal scores: by id */
    int64_t a[] = {7, 3}, b[] = {3, 7};
    n = memory_fuse(a, 2, b, 2, out, NULL);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 7);
    assert_int_equal(memory_fuse(NULL, 0, NULL, 0, out, NULL), 0);
}

static void test_hybrid_components(void **state)
{
    struct fix *f = *state;
    add(f->m, "coding", "breaker opens after five failures", NULL);
    int64_t both = add(f->m, "coding", "circuit breaker cooldown", NULL);
    add(f->m, "coding", "unrelated note about colours in the theme", NULL);
    const char *nsv[] = {"coding"};
    struct memory_query q = {"circuit breaker cooldown", 3, nsv, 1, NULL, 0, MEMORY_HYBRID, 0};
    struct memory_hit *h;
    size_t n;
    char *err = NULL;
    assert_int_equal(memory_search(f->m, &q, &h, &n, &err), 0);
    assert_true(n >= 2);
    assert_int_equal(h[0].entry->id, both);
    assert_int_equal(h[0].rank_keyword, 1);
    assert_int_equal(h[0].rank_vector, 1);
    assert_true(h[0].bm25 > 0);
    assert_true(h[0].vector > 0.99);         /* the same text */
    assert_true(fabs(h[0].score - 2.0 / 61) < 1e-9);
    for (size_t i = 1; i < n; i++)
        assert_true(h[i].score <= h[i - 1].score);
    memory_hits_free(h, n);
    /* min_score drops what is below it */
    q.min_score = 0.0325;        /* 2/61 passes, 2/62 does not */
    assert_int_equal(memory_search(f->m, &q, &h, &n, &err), 0);
    assert_int_equal(n, 1);
    memory_hits_free(h, n);
}

/* === filters === */

static void test_filters(void **state)
{
    struct fix *f = *state;
    int64_t ids[32];
    int64_t c5 = add(f->m, "testing", "cache note one", "{\"lang\":\"c\",\"score\":5}");
    int64_t c9 = add(f->m, "testing", "cache note two", "{\"lang\":\"c\",\"score\":9}");
    int64_t g4 = add(f->m, "testing", "cache note three", "{\"lang\":\"go\",\"score\":4,"
                                                           "\"ok\":true}");
    int64_t none = add(f->m, "testing", "cache note four", "{\"other\":1}");
    static const enum memory_mode modes[] = {MEMORY_KEYWORD, MEMORY_VECTOR, MEMORY_HYBRID};
    for (size_t i = 0; i < 3; i++) {
        enum memory_mode md = modes[i];
        assert_int_equal(search(f->m, "cache note", md, NULL, "testing", ids), 4);
        assert_int_equal(search(f->m, "cache note", md, "{\"lang\":\"c\"}", NULL, ids), 2);
        assert_true(has(ids, c5) && has(ids, c9));
        assert_int_equal(search(f->m, "cache note", md, "{\"score\":{\"gte\":3,\"lt\":9}}",
                                NULL, ids), 2);
        assert_true(has(ids, c5) && has(ids, g4));
        assert_int_equal(search(f->m, "cache note", md,
                                "{\"lang\":\"c\",\"score\":{\"gte\":3,\"lt\":9}}", NULL, ids), 1);
        assert_int_equal(ids[0], c5);
        assert_int_equal(search(f->m, "cache note", md, "{\"score\":{\"gt\":9}}", NULL, ids), 0);
        assert_int_equal(search(f->m, "cache note", md, "{\"lang\":{\"in\":[\"go\",\"rust\"]}}",
                                NULL, ids), 1);
        assert_int_equal(ids[0], g4);
        assert_int_equal(search(f->m, "cache note", md, "{\"ok\":true}", NULL, ids), 1);
        assert_int_equal(ids[0], g4);
        /* a missing field never matches a comparison; null matches it */
        assert_int_equal(search(f->m, "cache note", md, "{\"lang\":{\"ne\":\"c\"}}", NULL, ids),
                         1);
        assert_int_equal(search(f->m, "cache note", md, "{\"lang\":null}", NULL, ids), 1);
        assert_int_equal(ids[0], none);
    }
    static const char *const bad[] = {"[1]", "{\"a\":{\"like\":1}}", "{\"a\":[1]}",
                                      "{\"a\\\"b\":1}", "{\"a\":{\"gt\":[1]}}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *fj = cJSON_Parse(bad[i]);
        assert_non_null(fj);
        struct memory_query q = {"cache", 5, NULL, 0, fj, 0, MEMORY_HYBRID, 0};
        struct memory_hit *h;
        size_t n;
        char *err = NULL;
        assert_int_equal(memory_search(f->m, &q, &h, &n, &err), -1);
        assert_non_null(err);
        free(err);
        cJSON_Delete(fj);
    }
}

/* === expiry === */

static void test_ttl_expiry(void **state)
{
    struct fix *f = fix_new("memory:\n  namespaces: [coding, {name: scratch, ttl: 1s}]\n");
    int64_t t0 = 1700000000000;
    memory_set_clock(f->m, t0);
    int64_t ids[32];
    int64_t keep = add(f->m, "coding", "a lasting fact", NULL);
    int64_t s = add(f->m, "scratch", "a passing fact", NULL);
    int64_t per = 0;
    char *err = NULL;
    assert_int_equal(memory_add(f->m, "coding", "a short fact", NULL, 100, &per, &err), 0);
    struct memory_entry *e;
    assert_int_equal(memory_get(f->m, s, &e), 0);
    assert_int_equal(e->expires_ms, t0 + 1000);
    memory_entry_free(e);
    memory_set_clock(f->m, t0 + 101);
    assert_int_equal(memory_get(f->m, per, &e), 1);
    assert_int_equal(memory_get(f->m, s, &e), 0);
    memory_entry_free(e);
    assert_int_equal(search(f->m, "fact", MEMORY_HYBRID, NULL, NULL, ids), 2);
    assert_false(has(ids, per));
    memory_set_clock(f->m, t0 + 1000);
    assert_int_equal(search(f->m, "fact", MEMORY_VECTOR, NULL, NULL, ids), 1);
    assert_int_equal(ids[0], keep);
    struct memory_entry **v;
    size_t n;
    assert_int_equal(memory_list(f->m, NULL, 0, &v, &n), 0);
    assert_int_equal(n, 1);
    memory_entries_free(v, n);
    assert_int_equal(stat_num(f->m, "total"), 1);   /* purged, not only hidden */
    /* re-adding extends the expiry */
    memory_set_clock(f->m, t0 + 5000);
    s = add(f->m, "scratch", "again", NULL);
    memory_set_clock(f->m, t0 + 5900);
    add(f->m, "scratch", "again", NULL);
    memory_set_clock(f->m, t0 + 6500);
    assert_int_equal(memory_get(f->m, s, &e), 0);
    memory_entry_free(e);
    /* reopen purges what expired meanwhile (real clock: long past) */
    fix_close(f);
    fix_open(f);
    assert_int_equal(stat_num(f->m, "total"), 1);
    fix_free(f);
}

/* === export / import === */

static void test_export_import(void **state)
{
    struct fix *f = *state;
    add(f->m, "coding", "first entry", "{\"k\":1}");
    add(f->m, "architecture", "second entry\nwith a newline", NULL);
    add(f->m, "coding", "third entry", "{\"nested\":{\"x\":[1,2]}}");
    char *path = xasprintf("%s/out.jsonl", f->dir);
    FILE *out = fopen(path, "w");
    char *err = NULL;
    assert_int_equal(memory_export(f->m, NULL, out, &err), 3);
    fclose(out);
    FILE *in = fopen(path, "r");
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(memory_export(f->m, "coding", devnull, &err), 2);
    fclose(devnull);

    struct fix *g = fix_new(NULL);
    size_t added, merged;
    assert_int_equal(memory_import(g->m, in, &added, &merged, &err), 0);
    assert_int_equal(added, 3);
    assert_int_equal(merged, 0);
    rewind(in);
    assert_int_equal(memory_import(g->m, in, &added, &merged, &err), 0);
    assert_int_equal(added, 0);
    assert_int_equal(merged, 3);
    fclose(in);
    /* same content both sides */
    struct memory_entry **a, **b;
    size_t na, nb;
    assert_int_equal(memory_list(f->m, NULL, 10, &a, &na), 0);
    assert_int_equal(memory_list(g->m, NULL, 10, &b, &nb), 0);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        struct memory_entry *y = NULL;
        for (size_t j = 0; j < nb; j++)
            if (!strcmp(a[i]->hash, b[j]->hash))
                y = b[j];
        assert_non_null(y);
        assert_string_equal(a[i]->text, y->text);
        assert_string_equal(a[i]->ns, y->ns);
        assert_int_equal(a[i]->created_ms, y->created_ms);
        assert_true(cJSON_Compare(a[i]->metadata, y->metadata, 1));
    }
    memory_entries_free(a, na);
    memory_entries_free(b, nb);
    int64_t ids[32];
    assert_int_equal(search(g->m, "third entry", MEMORY_VECTOR, NULL, "coding", ids), 2);

    /* a bad line: its number, and nothing from the file stays */
    static const char *const bad[] = {
        "{\"namespace\":\"coding\",\"text\":\"good one\"}\n\n{\"namespace\":\"coding\"}\n",
        "{\"namespace\":\"coding\",\"text\":\"good one\"}\nnot json\n",
        "\n\n{\"namespace\":\"coding\",\"text\":\"x\",\"hash\":\"00\"}\n",
        "{\"namespace\":\"nowhere\",\"text\":\"x\"}\n",
    };
    static const char *const want[] = {"line 3:", "line 2:", "line 3:", "line 1:"};
    for (size_t i = 0; i < 4; i++) {
        FILE *t = fmemopen((void *)bad[i], strlen(bad[i]), "r");
        assert_int_equal(memory_import(g->m, t, &added, &merged, &err), -1);
        fclose(t);
        if (strncmp(err, want[i], strlen(want[i])))
            fail_msg("case %zu: %s", i, err);
        free(err);
        assert_int_equal(stat_num(g->m, "total"), 3);
    }
    assert_int_equal(search(g->m, "good one", MEMORY_VECTOR, NULL, NULL, ids), 3);
    assert_int_equal(search(g->m, "good", MEMORY_KEYWORD, NULL, NULL, ids), 0);
    fix_free(g);
    free(path);
}

/* === stale vectors and reindex === */

static void test_stale_and_reindex(void **state)
{
    struct fix *f = *state;
    int64_t ids[32];
    int64_t a = add(f->m, "coding", "vector index in int8", NULL);
    add(f->m, "coding", "feature hashing embedder", NULL);
    assert_int_equal(stat_num(f->m, "stale"), 0);
    assert_int_equal(search(f->m, "vector index int8", MEMORY_VECTOR, NULL, NULL, ids), 2);
    memory_set_embedder(f->m, embed_hashing_new(128));
    assert_int_equal(stat_num(f->m, "stale"), 2);
    /* no vector of the current embedder: the vector part finds nothing */
    assert_int_equal(search(f->m, "vector index int8", MEMORY_VECTOR, NULL, NULL, ids), 0);
    assert_int_equal(search(f->m, "vector index int8", MEMORY_HYBRID, NULL, NULL, ids), 1);
    int64_t c = add(f->m, "coding", "added after the change", NULL);
    assert_int_equal(stat_num(f->m, "stale"), 2);
    assert_int_equal(search(f->m, "vector index int8", MEMORY_VECTOR, NULL, NULL, ids), 1);
    assert_int_equal(ids[0], c);   /* the only current vector */
    size_t done;
    char *err = NULL;
    assert_int_equal(memory_reindex(f->m, 0, &done, &err), 0);
    assert_int_equal(done, 2);
    assert_int_equal(stat_num(f->m, "stale"), 0);
    assert_int_equal(search(f->m, "vector index int8", MEMORY_VECTOR, NULL, NULL, ids), 3);
    assert_int_equal(ids[0], a);
    cJSON *s = memory_stats(f->m);
    cJSON *v = cJSON_GetObjectItem(s, "vectors");
    assert_int_equal(cJSON_GetArraySize(v), 1);
    assert_int_equal(cJSON_GetObjectItem(v, "hashing-128-v1")->valueint, 3);
    cJSON_Delete(s);
    assert_int_equal(memory_reindex(f->m, 1, &done, &err), 0);
    assert_int_equal(done, 3);
}

/* === reopen === */

static void test_persists_across_reopen(void **state)
{
    struct fix *f = *state;
    int64_t ids[32];
    int64_t a = add(f->m, "documentation", "how to write a contract comment", "{\"x\":1}");
    add(f->m, "documentation", "the event loop owns the database", NULL);
    fix_close(f);
    fix_open(f);
    struct memory_entry *e;
    assert_int_equal(memory_get(f->m, a, &e), 0);
    assert_string_equal(e->text, "how to write a contract comment");
    assert_int_equal(cJSON_GetObjectItem(e->metadata, "x")->valueint, 1);
    memory_entry_free(e);
    assert_int_equal(search(f->m, "contract comment", MEMORY_VECTOR, NULL, NULL, ids), 2);
    assert_int_equal(ids[0], a);
    assert_int_equal(search(f->m, "contract", MEMORY_KEYWORD, NULL, NULL, ids), 1);
    assert_int_equal(stat_num(f->m, "stale"), 0);
    struct memory_entry **v;
    size_t n;
    assert_int_equal(memory_list(f->m, "documentation", 1, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_true(v[0]->id != a);    /* newest first */
    memory_entries_free(v, n);
}

/* === outbox === */

static void test_point_id(void **state)
{
    char out[37];
    memory_point_id("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", out);
    assert_string_equal(out, "00112233-4455-5677-8899-aabbccddeeff");
    memory_point_id("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", out);
    assert_string_equal(out, "ffffffff-ffff-5fff-bfff-ffffffffffff");
}

static int64_t outbox_rows(struct fix *f, const char *op)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db_handle(f->db), "SELECT COUNT(*) FROM outbox WHERE op = ?", -1, &st,
                       NULL);
    sqlite3_bind_text(st, 1, op, -1, SQLITE_STATIC);
    sqlite3_step(st);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void test_outbox(void **state)
{
    struct fix *plain = *state;
    add(plain->m, "coding", "no qdrant here", NULL);
    assert_int_equal(outbox_rows(plain, "upsert"), 0);

    struct fix *f = fix_new("memory:\n  qdrant: {url: http://127.0.0.1:1, prefix: t_}\n");
    int64_t id = add(f->m, "coding", "goes to qdrant", "{\"k\":\"v\"}");
    assert_int_equal(outbox_rows(f, "upsert"), 1);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db_handle(f->db), "SELECT collection, point_id, length(vector), payload "
                       "FROM outbox", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "t_coding");
    struct memory_entry *e;
    assert_int_equal(memory_get(f->m, id, &e), 0);
    char pid[37];
    memory_point_id(e->hash, pid);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), pid);
    assert_int_equal(sqlite3_column_int(st, 2), 384 * 4);
    cJSON *p = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
    assert_string_equal(cJSON_GetObjectItem(p, "namespace")->valuestring, "coding");
    assert_string_equal(cJSON_GetObjectItem(p, "hash")->valuestring, e->hash);
    assert_string_equal(cJSON_GetObjectItem(p, "text")->valuestring, "goes to qdrant");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "metadata"), "k")->valuestring,
                        "v");
    assert_int_equal(cJSON_GetObjectItem(p, "entry_id")->valueint, id);
    cJSON_Delete(p);
    sqlite3_finalize(st);
    memory_entry_free(e);
    char *err = NULL;
    assert_int_equal(memory_delete(f->m, id, &err), 0);
    assert_int_equal(outbox_rows(f, "delete"), 1);
    assert_int_equal(stat_num(f->m, "outbox"), 2);
    fix_free(f);
}

/* === asynchronous forms === */

struct async_state {
    int done;
    int rc;
    int64_t id;
    size_t nhits;
    int64_t first;
};

static void on_add(void *payload, int rc, int64_t id, const char *error)
{
    struct async_state *s = payload;
    s->done++;
    s->rc = rc;
    s->id = id;
}

static void on_search(void *payload, struct memory_hit *hits, size_t n, const char *error)
{
    struct async_state *s = payload;
    s->done++;
    s->nhits = n;
    s->first = n ? hits[0].entry->id : -1;
}

static void test_async_on_loop(void **state)
{
    struct fix *f = *state;
    struct loop *l = loop_new();
    memory_attach_loop(f->m, l);
    struct async_state a = {0}, b = {0}, s = {0};
    memory_add_async(f->m, "coding", "written from the loop", NULL, 0, on_add, &a);
    memory_add_async(f->m, "coding", "a second one, queued", NULL, 0, on_add, &b);
    assert_int_equal(a.done, 0);         /* embedding on a worker */
    for (int i = 0; i < 500 && (a.done == 0 || b.done == 0); i++)
        loop_run_once(l, 10);
    assert_int_equal(a.done, 1);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    const char *nsv[] = {"coding"};
    struct memory_query q = {"written from the loop", 5, nsv, 1, NULL, 0, MEMORY_VECTOR, 0};
    memory_search_async(f->m, &q, on_search, &s);
    for (int i = 0; i < 500 && s.done == 0; i++)
        loop_run_once(l, 10);
    assert_int_equal(s.nhits, 2);
    assert_int_equal(s.first, a.id);
    /* a text already there answers at once */
    struct async_state c = {0};
    memory_add_async(f->m, "coding", "written from the loop", NULL, 0, on_add, &c);
    assert_int_equal(c.done, 1);
    assert_int_equal(c.rc, 1);
    assert_int_equal(c.id, a.id);
    /* closing with an embedding in flight fails it, frees later */
    struct async_state d = {0}, e = {0};
    memory_add_async(f->m, "coding", "in flight", NULL, 0, on_add, &d);
    memory_add_async(f->m, "coding", "queued behind", NULL, 0, on_add, &e);
    memory_free(f->m);
    f->m = NULL;
    assert_int_equal(e.done, 1);
    assert_int_equal(e.rc, -1);
    loop_free(l);                        /* runs the completion */
    assert_int_equal(d.done, 1);
    assert_int_equal(d.rc, -1);
    char *err = NULL;
    assert_int_equal(memory_open(f->db, f->cfg, &f->m, &err), 0);
}

/* === the asynchronous vector hook (the engine's Qdrant path) === */

enum hook_how { HOOK_NOW, HOOK_LATER, HOOK_FAIL_NOW, HOOK_FAIL_LATER };

struct hook {
    enum hook_how how;
    struct loop *l;
    int64_t answer[2];           /* the ids it answers, best first */
    size_t nanswer;
    int calls;
    double threshold;            /* of the last call */
    char ns[32];
    memory_vector_done_fn done[8];
    void *token[8];
    size_t npending;
};

static void hook_answer(struct hook *h, memory_vector_done_fn done, void *token)
{
    static const double scores[] = {0.9, 0.8};
    if (h->how == HOOK_FAIL_NOW || h->how == HOOK_FAIL_LATER)
        done(token, NULL, NULL, 0, "Qdrant unreachable: refused");
    else
        done(token, h->answer, scores, h->nanswer, NULL);
}

static void hook_timer(struct loop *l, uint64_t id, void *payload)
{
    struct hook *h = payload;
    (void)l, (void)id;
    for (size_t i = 0; i < h->npending; i++)
        hook_answer(h, h->done[i], h->token[i]);
    h->npending = 0;
}

static void hook_fn(void *ctx, const char *ns, const float *qvec, int dim, size_t limit,
                    const cJSON *filter, double score_threshold, memory_vector_done_fn done,
                    void *token)
{
    struct hook *h = ctx;
    (void)filter;
    assert_non_null(qvec);
    assert_true(dim > 0);
    assert_true(limit >= 50);
    h->calls++;
    h->threshold = score_threshold;
    snprintf(h->ns, sizeof h->ns, "%s", ns);
    if (h->how == HOOK_NOW || h->how == HOOK_FAIL_NOW) {
        hook_answer(h, done, token);
        return;
    }
    assert_true(h->npending < 8);
    if (h->npending == 0)
        loop_timer_add(h->l, 5, hook_timer, h);
    h->done[h->npending] = done;
    h->token[h->npending++] = token;
}

struct ext_state {
    int done;
    size_t n;
    int64_t ids[8];
    char backend[16];
    char reason[128];
    int has_reason;
    char error[128];
};

static void on_search_ext(void *payload, struct memory_hit *hits, size_t n,
                          const struct memory_search_info *info, const char *error)
{
    struct ext_state *s = payload;
    s->done++;
    s->n = n;
    for (size_t i = 0; i < n && i < 8; i++)
        s->ids[i] = hits[i].entry->id;
    snprintf(s->backend, sizeof s->backend, "%s", info->backend);
    s->has_reason = info->fallback_reason != NULL;
    snprintf(s->reason, sizeof s->reason, "%s",
             info->fallback_reason ? info->fallback_reason : "");
    snprintf(s->error, sizeof s->error, "%s", error ? error : "");
}

static void run_until(struct loop *l, const int *done)
{
    for (int i = 0; i < 500 && *done == 0; i++)
        loop_run_once(l, 10);
}

static void test_async_vector_hook(void **state)
{
    struct fix *f = *state;
    struct loop *l = loop_new();
    memory_attach_loop(f->m, l);
    int64_t a = add(f->m, "coding", "the breaker opens after three failures", "{\"k\": 1}");
    int64_t b = add(f->m, "coding", "sqlite keeps its journal in WAL mode", "{\"k\": 2}");
    const char *nsv[] = {"coding"};
    static const struct {
        enum hook_how how;
        const char *backend;
        int local;               /* the local index answered */
    } cases[] = {
        {HOOK_NOW, "qdrant", 0},
        {HOOK_LATER, "qdrant", 0},
        {HOOK_FAIL_NOW, "local", 1},
        {HOOK_FAIL_LATER, "local", 1},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        struct hook h = {.how = cases[c].how, .l = l, .answer = {b}, .nanswer = 1};
        memory_set_vector_search_async(f->m, hook_fn, &h);
        struct memory_query q = {"breaker failures", 5, nsv, 1, NULL, 0.01, MEMORY_VECTOR, 0};
        struct ext_state s = {0};
        memory_search_async_ext(f->m, &q, on_search_ext, &s);
        run_until(l, &s.done);
        assert_int_equal(s.done, 1);
        assert_int_equal(h.calls, 1);
        assert_string_equal(h.ns, "coding");
        assert_true(fabs(h.threshold - 0.01) < 1e-9);   /* min_score, vector mode */
        assert_string_equal(s.backend, cases[c].backend);
        assert_string_equal(s.error, "");
        if (cases[c].local) {
            assert_true(s.has_reason);
            assert_string_equal(s.reason, "Qdrant unreachable: refused");
            assert_true(s.n >= 1);                        /* the local index ranks */
            assert_int_equal(s.ids[0], a);
        } else {
            assert_false(s.has_reason);
            assert_int_equal(s.n, 1);                     /* only what the hook said */
            assert_int_equal(s.ids[0], b);
        }
    }
    /* hybrid over every namespace: one call each, no threshold; a filter
     * still drops what the hook answers but SQLite does not allow */
    struct hook h = {.how = HOOK_LATER, .l = l, .answer = {b, a}, .nanswer = 2};
    memory_set_vector_search_async(f->m, hook_fn, &h);
    cJSON *flt = cJSON_Parse("{\"k\": 1}");
    struct memory_query q = {"journal", 5, NULL, 0, flt, 0, MEMORY_HYBRID, 0};
    struct ext_state s = {0};
    memory_search_async_ext(f->m, &q, on_search_ext, &s);
    run_until(l, &s.done);
    cJSON_Delete(flt);
    assert_int_equal(h.calls, (int)f->cfg->memory.nnamespaces);
    assert_true(h.threshold < 0);
    assert_string_equal(s.backend, "qdrant");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], a);
    /* keyword searches never ask the hook */
    h.calls = 0;
    struct memory_query kq = {"journal", 5, NULL, 0, NULL, 0, MEMORY_KEYWORD, 0};
    struct ext_state ks = {0};
    memory_search_async_ext(f->m, &kq, on_search_ext, &ks);
    assert_int_equal(ks.done, 1);
    assert_int_equal(h.calls, 0);
    assert_string_equal(ks.backend, "local");
    assert_false(ks.has_reason);
    assert_int_equal(ks.ids[0], b);
    /* the old callback form goes through the hook too */
    struct hook h2 = {.how = HOOK_NOW, .l = l, .answer = {b}, .nanswer = 1};
    memory_set_vector_search_async(f->m, hook_fn, &h2);
    struct async_state os = {0};
    struct memory_query vq = {"breaker failures", 5, nsv, 1, NULL, 0, MEMORY_VECTOR, 0};
    memory_search_async(f->m, &vq, on_search, &os);
    run_until(l, &os.done);
    assert_int_equal(h2.calls, 1);
    assert_int_equal(os.nhits, 1);
    assert_int_equal(os.first, b);
    /* the store busy while the hook has not answered; closing then fails
     * the search when the answer comes, and frees the store */
    struct hook h3 = {.how = HOOK_LATER, .l = l, .answer = {a}, .nanswer = 1};
    memory_set_vector_search_async(f->m, hook_fn, &h3);
    struct ext_state cs = {0};
    memory_search_async_ext(f->m, &vq, on_search_ext, &cs);
    for (int i = 0; i < 500 && h3.calls == 0; i++)
        loop_run_once(l, 10);
    assert_int_equal(h3.calls, 1);
    assert_int_equal(cs.done, 0);
    assert_true(memory_busy(f->m));
    memory_free(f->m);
    f->m = NULL;
    run_until(l, &cs.done);
    assert_int_equal(cs.done, 1);
    assert_string_equal(cs.error, "the memory store closed");
    loop_free(l);
    char *err = NULL;
    assert_int_equal(memory_open(f->db, f->cfg, &f->m, &err), 0);
}

/* === config === */

static void test_config_section(void **state)
{
    static const char ok[] =
        "memory:\n"
        "  namespaces: [coding, {name: notes, ttl: 30d}]\n"
        "  embedder: {type: openai, base_url: http://localhost:11434/v1, model: nomic, "
        "batch: 8}\n"
        "  capture: {review: coding}\n"
        "  qdrant: {url: http://q:6333, api_key_env: QK, timeout: 5s}\n";
    struct config *c;
    char *err = NULL;
    if (config_load_string("t.yaml", ok, strlen(ok), &c, &err) < 0)
        fail_msg("%s", err);
    assert_int_equal(c->memory.nnamespaces, 2);
    assert_int_equal(c->memory.namespaces[1].ttl_ms, 30LL * 86400000);
    assert_string_equal(c->memory.embedder, "openai");
    assert_int_equal(c->memory.batch, 8);
    assert_int_equal(c->memory.ncapture, 1);
    assert_string_equal(c->memory.capture_types[0], "review");
    assert_string_equal(c->memory.capture_ns[0], "coding");
    assert_string_equal(c->memory.qdrant_url, "http://q:6333");
    assert_string_equal(c->memory.qdrant_prefix, "mcpdeck_");
    assert_int_equal(c->memory.qdrant_timeout_ms, 5000);
    config_free(c);
    assert_int_equal(config_load_string("d.yaml", "{}", 2, &c, &err), 0);
    assert_int_equal(c->memory.nnamespaces, 5);
    assert_string_equal(c->memory.embedder, "hashing");
    assert_int_equal(c->memory.dim, 384);
    assert_null(c->memory.qdrant_url);
    config_free(c);
    static const struct { const char *y, *want; } bad[] = {
        {"memory: {capture: {review: nowhere}}\n", "t.yaml:1:28"},
        {"memory: {embedder: {type: magic}}\n", "hashing or openai"},
        {"memory: {embedder: {type: openai}}\n", "needs 'base_url' and 'model'"},
        {"memory: {namespaces: [a, a]}\n", "listed twice"},
        {"memory: {namespaces: [{name: a, ttl: soon}]}\n", "'ttl' must be a duration"},
        {"memory: {colour: red}\n", "colour"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = NULL;
        assert_int_equal(config_load_string("t.yaml", bad[i].y, strlen(bad[i].y), &c, &err), -1);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: %s", i, err);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedup_merges_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_follows_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyword_query_is_never_syntax, setup, teardown),
        cmocka_unit_test(test_rrf_order),
        cmocka_unit_test_setup_teardown(test_hybrid_components, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test_setup_teardown(test_export_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_reindex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persists_across_reopen, setup, teardown),
        cmocka_unit_test(test_point_id),
        cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_on_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_vector_hook, setup, teardown),
        cmocka_unit_test(test_config_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
