/* test_embed.c — the embedders: the hashing embedder's pinned output,
 * determinism and similarity ordering; the OpenAI-compatible client against
 * tests/fixtures/embed_standin.cjs (node), started per test group: batches,
 * order by index, Retry-After on 429, retries on 5xx, errors. Run from the
 * repository root (as tests/run.sh does); without node the client tests
 * are skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "embed.h"
#include "util.h"

/* === Hashing === */

static float *embed1(struct embedder *e, const char *text)
{
    float *v;
    int dim;
    char *err = NULL;
    assert_int_equal(embed_texts(e, &text, 1, &v, &dim, &err), 0);
    assert_null(err);
    assert_int_equal(dim, embed_dim(e));
    return v;
}

static float cosine(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Pinned output of the 384-dimension hashing embedder. Each entry is a
 * bucket and its raw weight in halves (+-2: a word, +-1: one 3- or 4-gram;
 * the signs come from the sign hash); the vector is these divided by their
 * L2 norm, every other bucket 0. "hello world" has 2 words and 18 n-grams
 * ("^hello$" and "^world$" give five 3-grams and four 4-grams each);
 * "Café au lait" 3 words and 19 n-grams over UTF-8 bytes; no bucket
 * collides in either. These were computed once from the implementation and
 * must never change silently: a change to the tokeniser, hash, seeds or
 * weights makes stored vectors incompatible, so it needs a new embedder id
 * ("hashing-384-v2") and new pins. */
struct pin {
    int bucket;
    int halves;
};

static const struct pin pin_hello[] = {
    {42, 1},   {69, -1},  {103, -1}, {108, -1}, {109, 1},  {119, 1},  {129, -1},
    {130, 1},  {148, 1},  {192, 1},  {202, -1}, {233, -1}, {237, -1}, {246, 1},
    {259, 1},  {262, -2}, {272, 1},  {279, -1}, {343, 1},  {378, 2},
};

static const struct pin pin_cafe[] = {
    {0, 2},    {16, -1},  {29, -1},  {56, 2},   {60, 1},   {94, 1},   {110, 1},  {115, 1},
    {156, 1},  {164, 1},  {171, 1},  {172, -1}, {202, -1}, {225, -1}, {260, 2},  {291, 1},
    {315, 1},  {329, -1}, {336, -1}, {352, -1}, {360, -1}, {377, -1},
};

static void check_pins(const float *v, const struct pin *p, size_t n)
{
    double norm = 0;
    for (size_t i = 0; i < n; i++)
        norm += p[i].halves * p[i].halves;
    norm = sqrt(norm);
    float want[384] = {0};
    for (size_t i = 0; i < n; i++)
        want[p[i].bucket] = (float)(p[i].halves / norm);
    for (int i = 0; i < 384; i++)
        assert_true(fabsf(v[i] - want[i]) < 1e-6f);
}

static void test_hashing_pinned(void **state)
{
    struct embedder *e = embed_hashing_new(0);
    assert_string_equal(embed_id(e), "hashing-384-v1");
    assert_int_equal(embed_dim(e), 384);
    float *v = embed1(e, "hello world");
    check_pins(v, pin_hello, sizeof(pin_hello) / sizeof(pin_hello[0]));
    free(v);
    v = embed1(e, "Caf\xc3\xa9 au lait");
    check_pins(v, pin_cafe, sizeof(pin_cafe) / sizeof(pin_cafe[0]));
    free(v);
    embed_free(e);

    e = embed_hashing_new(1024);
    assert_string_equal(embed_id(e), "hashing-1024-v1");
    assert_int_equal(embed_dim(e), 1024);
    embed_free(e);
    embed_free(NULL);
}

static void test_hashing_tokens(void **state)
{
    struct embedder *e = embed_hashing_new(256);
    /* case and separators do not matter; the same text is the same vector */
    static const char *const same[][2] = {
        {"hello world", "Hello, WORLD!"},
        {"hello world", "  hello\n\tworld  "},
        {"src/vecindex.c", "SRC vecindex  C"},
        {"jobq_claim()", "jobq claim"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        float *a = embed1(e, same[i][0]), *b = embed1(e, same[i][1]);
        assert_memory_equal(a, b, 256 * sizeof(float));
        free(a), free(b);
    }
    /* word order does not matter (a bag of features), UTF-8 bytes do */
    float *a = embed1(e, "alpha beta"), *b = embed1(e, "beta alpha");
    assert_memory_equal(a, b, 256 * sizeof(float));
    free(a), free(b);
    a = embed1(e, "caf\xc3\xa9");
    b = embed1(e, "cafe");
    assert_true(cosine(a, b, 256) < 0.99f);
    assert_true(cosine(a, b, 256) > 0.2f);    /* they share "^ca", "caf", "^caf" */
    free(a), free(b);
    /* no word: a zero row; several texts in one call give the same rows */
    const char *texts[] = {"", "  ,;! ", "hello world", NULL};
    float *v;
    int dim = 0;
    char *err = NULL;
    assert_int_equal(embed_texts(e, texts, 4, &v, &dim, &err), 0);
    assert_int_equal(dim, 256);
    for (int i = 0; i < 2 * 256; i++)
        assert_true(v[i] == 0);
    for (int i = 0; i < 256; i++)
        assert_true(v[3 * 256 + i] == 0);     /* NULL reads as "" */
    a = embed1(e, "hello world");
    assert_memory_equal(v + 2 * 256, a, 256 * sizeof(float));
    assert_true(fabsf(cosine(a, a, 256) - 1) < 1e-5f);
    free(a);
    free(v);
    assert_int_equal(embed_texts(e, texts, 0, &v, &dim, &err), 0);
    assert_null(v);
    embed_free(e);
}

/* A query, a text that should be close, one that should not. */
static const char *const similar[][3] = {
    {"vector search over memory entries", "searching memory entries by vector",
     "the weather in Paris is sunny today"},
    {"jobq_claim takes the next job", "jobq_claim() claims a queued job",
     "colour themes for the terminal"},
    {"embedder configuration", "embeder configuraton", "circuit breaker state"},  /* typos */
    {"config.default.yaml", "edit config.default.yaml to add servers",
     "the retry policy of the model gateway"},
    {"retries with exponential backoff", "retry, backing off exponentially",
     "an ncurses pane that lists tasks"},
};

static void test_hashing_similarity(void **state)
{
    struct embedder *e = embed_hashing_new(0);
    for (size_t i = 0; i < sizeof(similar) / sizeof(similar[0]); i++) {
        float *q = embed1(e, similar[i][0]), *near = embed1(e, similar[i][1]);
        float *far = embed1(e, similar[i][2]);
        float cn = cosine(q, near, 384), cf = cosine(q, far, 384);
        print_message("%-40s near %.3f far %.3f\n", similar[i][0], cn, cf);
        assert_true(cn > cf + 0.15f);
        free(q), free(near), free(far);
    }
    embed_free(e);
}

/* === OpenAI-compatible, against the stand-in === */

struct standin {
    pid_t pid;
    int port;
    char base[64];
};

static struct standin si;

static int standin_start(void **state)
{
    const char *script = "tests/fixtures/embed_standin.cjs";
    si.pid = -1;
    if (access(script, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0 ||
        system("curl --version >/dev/null 2>&1") != 0)   /* GET /stats uses the curl tool */
        return 0;
    int fd[2];
    if (pipe(fd) < 0)
        return -1;
    si.pid = fork();
    if (si.pid < 0)
        return -1;
    if (si.pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execlp("node", "node", script, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[64] = "";
    if (!fgets(line, sizeof line, f) || sscanf(line, "listening %d", &si.port) != 1) {
        fclose(f);
        kill(si.pid, SIGTERM);
        waitpid(si.pid, NULL, 0);
        si.pid = -1;
        return -1;
    }
    fclose(f);
    snprintf(si.base, sizeof si.base, "http://127.0.0.1:%d/v1", si.port);
    return 0;
}

static int standin_stop(void **state)
{
    if (si.pid > 0) {
        kill(si.pid, SIGTERM);
        waitpid(si.pid, NULL, 0);
    }
    return 0;
}

/* How many requests the stand-in saw for model, via GET /stats. */
static int standin_requests(const char *model)
{
    char cmd[256], out[4096] = "";
    snprintf(cmd, sizeof cmd, "curl -s http://127.0.0.1:%d/stats", si.port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    pclose(p);
    char key[128];
    snprintf(key, sizeof key, "\"%s\":{\"requests\":", model);
    const char *at = strstr(out, key);
    return at ? atoi(at + strlen(key)) : 0;
}

/* The stand-in's embedding of t, normalised (see embed_standin.cjs). */
static void standin_vec(const char *t, float out[4])
{
    int a = 0, sum = 0, len = (int)strlen(t);     /* ASCII texts only */
    for (int i = 0; i < len; i++) {
        a += t[i] == 'a';
        sum += (unsigned char)t[i];
    }
    float v[4] = {1, (float)len, (float)a, (float)(sum % 7)};
    float n = sqrtf(v[0] * v[0] + v[1] * v[1] + v[2] * v[2] + v[3] * v[3]);
    for (int i = 0; i < 4; i++)
        out[i] = v[i] / n;
}

static const char *const five[] = {"alpha", "banana bread", "c", "data about a cat", "e"};

static void check_five(const float *v)
{
    for (int i = 0; i < 5; i++) {
        float w[4];
        standin_vec(five[i], w);
        for (int j = 0; j < 4; j++)
            assert_true(fabsf(v[i * 4 + j] - w[j]) < 1e-6f);
    }
}

static void test_openai_batches(void **state)
{
    if (si.pid < 0)
        skip();
    struct embedder *e = embed_openai_new(si.base, NULL, "ok", 2);
    char *id = xasprintf("openai:ok@%s", si.base);
    assert_string_equal(embed_id(e), id);
    free(id);
    assert_int_equal(embed_dim(e), 0);
    float *v;
    int dim = 0;
    char *err = NULL;
    assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), 0);
    assert_int_equal(dim, 4);
    assert_int_equal(embed_dim(e), 4);
    check_five(v);
    free(v);
    assert_int_equal(standin_requests("ok"), 3);       /* 2 + 2 + 1 */
    embed_free(e);

    /* data listed out of order: placed by index; a trailing slash is dropped */
    char *slash = xasprintf("%s/", si.base);
    e = embed_openai_new(slash, NULL, "reversed", 0);
    free(slash);
    id = xasprintf("openai:reversed@%s", si.base);
    assert_string_equal(embed_id(e), id);
    free(id);
    assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), 0);
    check_five(v);
    free(v);
    assert_int_equal(standin_requests("reversed"), 1);
    embed_free(e);

    assert_null(embed_openai_new(NULL, NULL, "ok", 1));
    assert_null(embed_openai_new(si.base, NULL, "", 1));
}

static void test_openai_retry(void **state)
{
    if (si.pid < 0)
        skip();
    /* 429 with Retry-After: 1 once, then the answer */
    struct embedder *e = embed_openai_new(si.base, NULL, "r429", 8);
    float *v;
    int dim;
    char *err = NULL;
    int64_t t0 = util_now_ms();
    assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), 0);
    int64_t took = util_now_ms() - t0;
    assert_true(took >= 950 && took < 5000);
    check_five(v);
    free(v);
    assert_int_equal(standin_requests("r429"), 2);
    embed_free(e);

    /* 500 every time (Retry-After: 0): 1 + 4 retries, then the error */
    e = embed_openai_new(si.base, NULL, "e500-always", 8);
    assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), -1);
    assert_null(v);
    assert_non_null(strstr(err, "HTTP 500"));
    assert_non_null(strstr(err, "/v1/embeddings"));
    free(err);
    err = NULL;
    assert_int_equal(standin_requests("e500-always"), 5);
    embed_free(e);
}

static void test_openai_errors(void **state)
{
    if (si.pid < 0)
        skip();
    static const struct {
        const char *model;
        const char *want;     /* in the message */
        int requests;         /* no retry on 4xx and bad answers */
    } cases[] = {
        {"e400", "HTTP 400: {\"error\":{\"message\":\"input too long\"", 1},
        {"nope", "HTTP 404", 1},
        {"auth", "HTTP 401", 1},
        {"ragged", "embedding of 3 dimensions, expected 4", 1},
        {"short", "4 embeddings for 5 texts", 1},
        {"huge", "embedding 1 has a value no float holds", 1},
        {"farindex", "bad or repeated index", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct embedder *e = embed_openai_new(si.base, "EMBED_TEST_NO_SUCH_KEY", cases[i].model, 8);
        float *v = (float *)1;
        int dim;
        char *err = NULL;
        assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), -1);
        assert_null(v);
        assert_non_null(err);
        if (!strstr(err, cases[i].want))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].model, err, cases[i].want);
        free(err);
        assert_int_equal(standin_requests(cases[i].model), cases[i].requests);
        embed_free(e);
    }

    /* the key comes from the named environment variable */
    setenv("EMBED_TEST_KEY", "sk-standin", 1);
    struct embedder *e = embed_openai_new(si.base, "EMBED_TEST_KEY", "auth", 8);
    float *v;
    int dim;
    char *err = NULL;
    assert_int_equal(embed_texts(e, five, 5, &v, &dim, &err), 0);
    check_five(v);
    free(v);
    embed_free(e);
}

int main(void)
{
    const struct CMUnitTest hashing[] = {
        cmocka_unit_test(test_hashing_pinned),
        cmocka_unit_test(test_hashing_tokens),
        cmocka_unit_test(test_hashing_similarity),
    };
    const struct CMUnitTest openai[] = {
        cmocka_unit_test(test_openai_batches),
        cmocka_unit_test(test_openai_retry),
        cmocka_unit_test(test_openai_errors),
    };
    int rc = cmocka_run_group_tests_name("hashing", hashing, NULL, NULL);
    rc += cmocka_run_group_tests_name("openai", openai, standin_start, standin_stop);
    return rc;
}
