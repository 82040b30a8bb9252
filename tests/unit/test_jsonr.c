/* test_jsonr.c — jsonr_parse builds the tree cJSON_ParseWithLength builds:
 * the same accept or reject and, when accepted, the same node types,
 * keys, strings (byte for byte), numbers (bit for bit), valueint and
 * child/next/prev links. Checked on a hand-written corpus of valid and
 * invalid texts, on deep nesting, on tens of thousands of random texts and
 * their mutations (fixed seed), through counting and failing allocation
 * hooks, and again with mcpdeck's allocator (jsonmem) installed.
 *
 * The reference is the installed libcjson, with one rule added: the whole
 * buffer must be one value (jsonr's deliberate difference, see jsonr.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonmem.h"
#include "jsonr.h"
#include "jsonr_ref.h"
#include "sanitize.h"

/* === The reference and the comparison (jsonr_ref.h) === */

static cJSON *under_test(const char *s, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    cJSON *t = jsonr_parse(copy, len);
    free(copy);
    return t;
}

/* The text, escaped, for a failure message. */
static const char *shown(const char *s, size_t len)
{
    static char out[1200];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < sizeof out; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= ' ' && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
    }
    out[o] = '\0';
    return out;
}

/* The same in an arena whose stack space holds a node or two, so most
 * texts also take heap blocks. */
static cJSON *under_test_in(struct jsonr_arena *a, const char *s, size_t len)
{
    static uint64_t space[12];
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    jsonr_arena_init(a, space, sizeof space);
    cJSON *t = jsonr_parse_in(a, copy, len);
    free(copy);
    return t;
}

static void expect_tree(const cJSON *want, const cJSON *got, const char *how, const char *s,
                        size_t len)
{
    if (!want != !got)
        fail_msg("cJSON %s, jsonr%s %s: \"%s\"", want ? "accepts" : "refuses", how,
                 got ? "accepts" : "refuses", shown(s, len));
    if (want) {
        const char *d = jsonr_tree_diff(want, got);
        if (!d && (got->next || got->prev || got->string))
            d = "root links";
        if (d)
            fail_msg("trees differ (jsonr%s) in %s: \"%s\"", how, d, shown(s, len));
    }
}

/* Compare jsonr, on the heap and in an arena, with the reference on one
 * text. Returns 1 when all accepted, 0 when all refused; fails the test
 * when they disagree. */
static int check_same(const char *s, size_t len)
{
    cJSON *want = jsonr_reference(s, len);
    cJSON *got = under_test(s, len);
    expect_tree(want, got, "", s, len);
    cJSON_Delete(got);
    struct jsonr_arena a;
    got = under_test_in(&a, s, len);
    expect_tree(want, got, " in an arena", s, len);
    jsonr_arena_fini(&a);
    int accepted = want != NULL;
    cJSON_Delete(want);
    return accepted;
}

/* === Hand-written corpus === */

struct sample {
    const char *text;
    size_t len;         /* 0: strlen(text) */
    int ok;             /* what cJSON (and so jsonr) does with it */
};

#define OK(s) { s, sizeof s - 1, 1 }
#define BAD(s) { s, sizeof s - 1, 0 }

static const struct sample corpus[] = {
    /* messages as they come */
    OK("{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hello\"}]},"
       "\"jsonrpc\":\"2.0\",\"id\":123}"),
    OK("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
       "\"echo\",\"arguments\":{\"message\":\"hi\"}}}"),
    OK("[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":"
       "{\"progress\":0.5,\"total\":1}},{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}]"),
    OK("{\"error\":{\"code\":-32601,\"message\":\"Method not found\",\"data\":null},"
       "\"id\":null,\"jsonrpc\":\"2.0\"}"),
    /* literals and scalars at the top */
    OK("null"), OK("true"), OK("false"), OK("0"), OK("-0"), OK("\"\""), OK("\"x\""),
    OK("[]"), OK("{}"), OK("[[]]"), OK("[{}]"), OK("{\"\":{}}"),
    BAD("nul"), BAD("nulL"), BAD("tru"), BAD("True"), BAD("fals"), BAD("falsey"),
    BAD("nullnull"), BAD("null x"), BAD("[null,]"), BAD("NaN"), BAD("Infinity"),
    BAD("-Infinity"), BAD("undefined"), BAD(""), BAD(" "), BAD("\t\n\r "),
    /* whitespace: cJSON counts every byte up to 0x20, NUL included */
    OK(" \t\n\r{ \"a\" : [ 1 , 2 ] } \r\n"), OK("\x01\x02[\x1f" "1\x0b]\x1f"), BAD("[1]\x7f"),
    OK("[1]\0\0"), OK("\0[1]"), OK("[\0" "1\0]"), BAD("[1]\0x"), BAD("[1] ]"),
    BAD("{}{}"), BAD("[1]]"), BAD("1 2"), BAD("\"a\" \"b\""),
    /* byte order mark: skipped only when at least two bytes follow it */
    OK("\xEF\xBB\xBF" "12"), OK("\xEF\xBB\xBF" "[1]"), OK("\xEF\xBB\xBF" " 1"),
    BAD("\xEF\xBB\xBF" "1"), BAD("\xEF\xBB\xBF"), BAD("\xEF\xBB" "1"),
    BAD(" \xEF\xBB\xBF" "12"),
    /* numbers */
    OK("1"), OK("-1"), OK("123456789"), OK("2147483647"), OK("2147483648"),
    OK("-2147483648"), OK("-2147483649"), OK("2147483646.9"), OK("-2147483647.9"),
    OK("1.5"), OK("-1.5"), OK("0.1"), OK("0.3"), OK("1e10"), OK("1E10"), OK("1e+10"),
    OK("1e-10"), OK("1.25e-3"), OK("123.456e7"), OK("9007199254740992"),
    OK("9007199254740993"), OK("18446744073709551615"), OK("18446744073709551616"),
    OK("9999999999999999999"), OK("99999999999999999999"), OK("1e22"), OK("1e23"),
    OK("4.9e-324"), OK("2.4703282292062327e-324"), OK("1.7976931348623157e308"),
    OK("1e309"), OK("-1e309"), OK("1e-400"), OK("0e99999999999999999999"),
    OK("1e0000000000000000000000000001"), OK("0.000000000000000000000000000001"),
    OK("1234567890123456789012345678901234567890123456789012345678901234567890"),
    OK("[1111111111111111111111111111111111111111111111111111111111111111111111]"),
    OK("3.14159265358979323846264338327950288419716939937510582097494459"),
    OK("01"), OK("-01"), OK("00.5"), OK("1."), OK("-.5"), OK("1.e3"), OK("-0.0"),
    OK("[-0,0.0,-0e5]"), OK("5e-1"), OK("25e-2"), OK("1e-22"), OK("1e-23"),
    OK("123456789012345e-22"), OK("9007199254740993e-1"), OK("8.5"), OK("-8.5"),
    BAD("-"), BAD("+1"), BAD(".5"), BAD("-."), BAD("1e"), BAD("1e+"), BAD("1E-"),
    BAD("1.5.3"), BAD("1e5e5"), BAD("1-2"), BAD("1+2"), BAD("--1"), BAD("-+1"),
    BAD("0x10"), BAD("1ee5"), BAD("[1e]"), BAD("[1.e]"), BAD("{\"a\":1.2.3}"),
    BAD("[-]"), BAD("1e5x"), BAD("12a"),
    /* strings */
    OK("\"plain ascii\""), OK("\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\""),
    OK("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), OK("\"\\u0041\\u00e9\\u65e5\\uFFFF\""),
    OK("\"\\ud83d\\ude00\""), OK("\"\\uD83D\\uDE00 tail\""), OK("\"\\udbff\\udfff\""),
    OK("\"\\u0000 after nul\""), OK("\"\\uZZZZ\""), OK("\"\\u12G4rest\""),
    OK("\"raw \x01\x1f\t\n controls\""), OK("\"raw \xff\xfe bytes\""),
    OK("\"\\u007f\\u0080\\u07ff\\u0800\""), OK("\"a\0b\""),
    OK("\"\\u\\\"ab\""), OK("\"\\uabc\\\\\""), OK("\"\\uabc\\\"x\""),
    OK("\"long string without escapes that is longer than sixteen bytes\""),
    OK("\"long string with an escape after many bytes here \\n and more text\""),
    BAD("\"unterminated"), BAD("\"ends in backslash\\"), BAD("\"\\\""), BAD("\""),
    BAD("\"\\x\""), BAD("\"\\U0041\""), BAD("\"\\'\""), BAD("\"\\u12\""),
    BAD("\"\\u123\""), BAD("\"\\ud800\""), BAD("\"\\udc00\""), BAD("\"\\ud800x\""),
    BAD("\"\\ud800\\u0041\""), BAD("\"\\ud800\\ud800\""), BAD("\"\\ud800\\n\""),
    BAD("\"\\ud800\\udc0\""), BAD("\"\\ud800\\uZZZZ\""), BAD("\"\\uDFFF\""),
    BAD("'single'"),
    /* objects and arrays */
    OK("{\"a\":1,\"a\":2,\"a\":3}"), OK("{\"\":\"\"}"), OK("{\"k\\n\\u00e9\":\"v\"}"),
    OK("[1,\"two\",3.5,true,false,null,[],{},[[1]],{\"x\":{\"y\":[]}}]"),
    OK("{\"a\":[{\"b\":[{\"c\":[]}]}]}"),
    BAD("["), BAD("]"), BAD("{"), BAD("}"), BAD("[1"), BAD("[1,"), BAD("[1,]"),
    BAD("[,1]"), BAD("[1 2]"), BAD("[1:2]"), BAD("{\"a\"}"), BAD("{\"a\":}"),
    BAD("{\"a\" 1}"), BAD("{\"a\":1,}"), BAD("{,\"a\":1}"), BAD("{\"a\":1"),
    BAD("{\"a\":1,"), BAD("{\"a\":1 \"b\":2}"), BAD("{a:1}"), BAD("{1:1}"),
    BAD("{null:1}"), BAD("{\"a\":1]"), BAD("[1}"), BAD("{\"a\"::1}"),
    BAD("{\"a\":1,\"b\""), BAD("{\"a\":\"x"), BAD("[\"x"), BAD("[\"\\"),
};

static void run_corpus(void)
{
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        const struct sample *c = &corpus[i];
        int accepted = check_same(c->text, c->len);
        if (accepted != c->ok)
            fail_msg("cJSON %s \"%s\", the corpus says it should not",
                     accepted ? "accepts" : "refuses", shown(c->text, c->len));
    }
}

static void test_corpus(void **state)
{
    (void)state;
    run_corpus();
}

/* jsonr's one difference: what follows the value. */
static void test_trailing_bytes(void **state)
{
    (void)state;
    static const char *const texts[] = { "{\"id\":1} x", "[1]]", "1 2", "null,", "\"a\"b" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cJSON *c = cJSON_ParseWithLength(texts[i], strlen(texts[i]));
        assert_non_null(c);
        cJSON_Delete(c);
        assert_null(jsonr_parse(texts[i], strlen(texts[i])));
    }
    /* len bounds the text: the bytes after it are not read */
    cJSON *t = jsonr_parse("[12]garbage", 4);
    assert_non_null(t);
    assert_int_equal(t->child->valueint, 12);
    cJSON_Delete(t);
    assert_null(jsonr_parse("[12]", 3));
    t = jsonr_parse("123garbage", 3);
    assert_non_null(t);
    assert_int_equal(t->valueint, 123);
    cJSON_Delete(t);
    t = jsonr_parse("\"ab\"", 4);
    assert_non_null(t);
    assert_string_equal(t->valuestring, "ab");
    cJSON_Delete(t);
    assert_null(jsonr_parse(NULL, 4));
    assert_null(jsonr_parse("1", 0));
}

/* === Nesting === */

/* depth arrays or objects around a 1. */
static char *nested(int depth, int objects, size_t *len)
{
    size_t cap = (size_t)depth * 6 + 8, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    for (int i = 0; i < depth; i++) {
        if (objects && i % 2) {
            memcpy(s + n, "{\"k\":", 5);
            n += 5;
        } else {
            s[n++] = '[';
        }
    }
    s[n++] = '1';
    for (int i = depth - 1; i >= 0; i--)
        s[n++] = objects && i % 2 ? '}' : ']';
    *len = n;
    return s;
}

static void test_nesting_limit(void **state)
{
    (void)state;
    const int depths[] = { 1, 2, 999, CJSON_NESTING_LIMIT, CJSON_NESTING_LIMIT + 1, 1500 };
    for (int objects = 0; objects < 2; objects++) {
        for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
            size_t len;
            char *s = nested(depths[i], objects, &len);
            int accepted = check_same(s, len);
            assert_int_equal(accepted, depths[i] <= CJSON_NESTING_LIMIT);
            assert_int_equal(check_same(s, len - 1), 0);   /* one closer short */
            free(s);
        }
    }
}

/* === Random texts === */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

struct text {
    char buf[16384];
    size_t n;
};

static void put(struct text *t, const char *s, size_t n)
{
    if (t->n + n <= sizeof t->buf) {
        memcpy(t->buf + t->n, s, n);
        t->n += n;
    }
}

static void puts_(struct text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void putc_(struct text *t, char c)
{
    put(t, &c, 1);
}

static void gen_ws(struct text *t)
{
    static const char ws[] = { ' ', '\t', '\n', '\r', ' ', '\0', '\x01', '\x1f' };
    if (below(3) == 0) {
        unsigned n = 1 + below(3);
        while (n--)
            putc_(t, ws[below(below(4) ? 4 : 8)]);
    }
}

static void gen_hex4(struct text *t)
{
    static const char *const quads[] = {
        "0000", "0041", "00e9", "07FF", "0800", "ffff", "D800", "dbff", "DC00", "dfff",
        "d83d", "de00", "ZZZZ", "12g4", "abc\\", "7f7F",
    };
    char q[5];
    if (below(2)) {
        snprintf(q, sizeof q, "%04x", below(0x10000));
        puts_(t, q);
    } else {
        puts_(t, quads[below(sizeof quads / sizeof quads[0])]);
    }
}

static void gen_string(struct text *t)
{
    static const char *const escapes[] = { "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r",
                                           "\\t", "\\x", "\\'" };
    putc_(t, '"');
    unsigned n = below(4) ? below(12) : below(80);
    for (unsigned i = 0; i < n; i++) {
        unsigned k = below(40);
        if (k < 26) {
            putc_(t, (char)('a' + k));
        } else if (k < 30) {
            puts_(t, escapes[below(below(8) ? 8 : 10)]);
        } else if (k < 34) {
            puts_(t, "\\u");
            gen_hex4(t);
        } else if (k < 36) {
            puts_(t, "\\u");         /* surrogate pairs, good and bad */
            puts_(t, below(2) ? "d83d" : "DBFF");
            puts_(t, below(4) ? "\\u" : "\\n");
            puts_(t, below(4) ? "de00" : "0041");
        } else if (k < 38) {
            putc_(t, (char)(0x80 + below(0x80)));
        } else {
            putc_(t, (char)below(0x20));
        }
    }
    putc_(t, '"');
}

static void gen_digits(struct text *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        putc_(t, (char)('0' + below(10)));
}

static void gen_number(struct text *t)
{
    static const char *const edges[] = {
        "2147483647", "2147483648", "-2147483648", "-2147483649", "2147483647.5",
        "-2147483648.5", "9007199254740993", "1e22", "1e23", "4.9e-324", "1e-400",
        "1.7976931348623157e308", "1e309", "-0", "0.1", "123456789012345678901234567890",
        "1e-22", "0.30000000000000004", "18446744073709551615",
    };
    if (below(6) == 0) {
        puts_(t, edges[below(sizeof edges / sizeof edges[0])]);
        return;
    }
    if (below(3) == 0)
        putc_(t, '-');
    unsigned k = below(10);
    if (k == 0)
        putc_(t, '0');
    else
        gen_digits(t, 1 + below(k < 8 ? 6 : 25));
    if (below(3) == 0) {
        putc_(t, '.');
        gen_digits(t, below(8) ? 1 + below(8) : below(25));
    }
    if (below(4) == 0) {
        putc_(t, below(2) ? 'e' : 'E');
        unsigned s = below(3);
        if (s)
            putc_(t, s == 1 ? '+' : '-');
        gen_digits(t, 1 + below(below(8) ? 2 : 4));
    }
}

static void gen_value(struct text *t, int depth)
{
    static const char *const keys[] = { "id", "jsonrpc", "method", "params", "result", "a", "" };
    unsigned k = below(depth > 6 ? 6 : 9);
    gen_ws(t);
    switch (k) {
    case 0: puts_(t, "null"); break;
    case 1: puts_(t, below(2) ? "true" : "false"); break;
    case 2: case 3: gen_number(t); break;
    case 4: case 5: gen_string(t); break;
    case 6: {
        putc_(t, '[');
        unsigned n = below(6);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                putc_(t, ',');
            gen_value(t, depth + 1);
        }
        gen_ws(t);
        putc_(t, ']');
        break;
    }
    default: {
        putc_(t, '{');
        unsigned n = below(6);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                putc_(t, ',');
            gen_ws(t);
            if (below(4)) {
                putc_(t, '"');
                puts_(t, keys[below(sizeof keys / sizeof keys[0])]);
                putc_(t, '"');
            } else {
                gen_string(t);
            }
            gen_ws(t);
            putc_(t, ':');
            gen_value(t, depth + 1);
        }
        gen_ws(t);
        putc_(t, '}');
        break;
    }
    }
    gen_ws(t);
}

/* One random edit: cut, change, insert or delete a byte. */
static void mutate(struct text *t)
{
    static const char meaningful[] = "\"\\{}[],: 0-+.eEtfnu\x01";
    if (!t->n)
        return;
    size_t at = below((unsigned)t->n);
    char c = below(2) ? meaningful[below(sizeof meaningful - 1)] : (char)below(256);
    switch (below(4)) {
    case 0:
        t->n = at;
        break;
    case 1:
        t->buf[at] = c;
        break;
    case 2:
        if (t->n < sizeof t->buf) {
            memmove(t->buf + at + 1, t->buf + at, t->n - at);
            t->buf[at] = c;
            t->n++;
        }
        break;
    default:
        memmove(t->buf + at, t->buf + at + 1, t->n - at - 1);
        t->n--;
        break;
    }
}

enum { RANDOM_TEXTS = 20000, MUTANTS = 4 };

static void run_random(uint64_t seed)
{
    static struct text t, m;
    rng_state = seed;
    unsigned accepted = 0, refused = 0, mutants_accepted = 0;
    for (int i = 0; i < RANDOM_TEXTS; i++) {
        t.n = 0;
        gen_value(&t, 0);
        if (check_same(t.buf, t.n))
            accepted++;
        else
            refused++;
        for (int j = 0; j < MUTANTS; j++) {
            memcpy(m.buf, t.buf, t.n);
            m.n = t.n;
            mutate(&m);
            if (below(3) == 0)
                mutate(&m);
            if (check_same(m.buf, m.n))
                mutants_accepted++;
            else
                refused++;
        }
    }
    print_message("# random texts: %u accepted, mutants: %u accepted, %u refused in all\n",
                  accepted, mutants_accepted, refused);
    /* the generator must exercise both answers, or the test says little */
    assert_true(accepted > RANDOM_TEXTS / 4);
    assert_true(mutants_accepted > RANDOM_TEXTS / 4);
    assert_true(refused > RANDOM_TEXTS / 2);
}

static void test_random(void **state)
{
    (void)state;
    run_random(0x9E3779B97F4A7C15u);
}

/* === Allocation === */

static long live_blocks;
static long fail_at;    /* fail the allocation with this number; 0: never */
static long allocs;

static void *counting_malloc(size_t n)
{
    if (fail_at && ++allocs == fail_at)
        return NULL;
    void *p = malloc(n);
    if (p)
        live_blocks++;
    return p;
}

static void counting_free(void *p)
{
    if (p)
        live_blocks--;
    free(p);
}

/* Every node and string comes from cJSON's hooks, as many blocks as
 * cJSON's own tree holds, and cJSON_Delete gives them all back; a refused
 * text keeps nothing. */
static void test_allocates_through_hooks(void **state)
{
    (void)state;
    cJSON_Hooks hooks = { counting_malloc, counting_free };
    cJSON_InitHooks(&hooks);
    for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
        const struct sample *c = &corpus[i];
        live_blocks = 0;
        cJSON *want = cJSON_ParseWithLength(c->text, c->len);
        long want_blocks = live_blocks;
        cJSON_Delete(want);
        assert_int_equal(live_blocks, 0);
        cJSON *got = jsonr_parse(c->text, c->len);
        if (c->ok) {
            assert_non_null(got);
            assert_int_equal(live_blocks, want_blocks);
        } else {
            assert_null(got);
            assert_int_equal(live_blocks, 0);
        }
        cJSON_Delete(got);
        assert_int_equal(live_blocks, 0);
    }
    cJSON_InitHooks(NULL);
}

/* Out of memory at every allocation in turn: NULL, nothing kept. */
static void test_out_of_memory(void **state)
{
    (void)state;
    static const char text[] = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
                               "\"a\\n\\u00e9\"}]},\"n\":[1.5,2e400,-3],\"id\":123}";
    cJSON_Hooks hooks = { counting_malloc, counting_free };
    cJSON_InitHooks(&hooks);
    live_blocks = 0;
    cJSON *whole = jsonr_parse(text, sizeof text - 1);
    assert_non_null(whole);
    long tree_blocks = live_blocks;
    cJSON_Delete(whole);
    long need = 0;
    for (fail_at = 1;; fail_at++) {
        allocs = 0;
        live_blocks = 0;
        cJSON *t = jsonr_parse(text, sizeof text - 1);
        if (t) {
            cJSON_Delete(t);
            need = fail_at - 1;
            break;
        }
        assert_int_equal(live_blocks, 0);
    }
    fail_at = 0;
    cJSON_InitHooks(NULL);
    /* it failed cleanly at each of the tree's allocations, and made no others */
    assert_int_equal(need, tree_blocks);
    assert_true(tree_blocks > 10);
}

/* In an arena nothing comes from cJSON's hooks: what fits is carved from
 * the given space, the rest from heap blocks that fini frees. */
static void test_arena_allocates_nothing_per_node(void **state)
{
    (void)state;
    static const char text[] = "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
                               "\"Echo: m-1\"}]},\"jsonrpc\":\"2.0\",\"id\":1}";
    cJSON_Hooks hooks = { counting_malloc, counting_free };
    cJSON_InitHooks(&hooks);
    uint64_t space[256];
    struct jsonr_arena a;
    jsonr_arena_init(&a, space, sizeof space);
    live_blocks = 0;
    allocs = 0;
    cJSON *t = jsonr_parse_in(&a, text, sizeof text - 1);
    assert_non_null(t);
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "result"), "content");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(c, 0), "text")->valuestring,
                        "Echo: m-1");
    if (!MCPDECK_ASAN) {
        assert_int_equal(live_blocks, 0);
        /* all of it in the space given: no heap block */
        assert_null(a.mem.blocks);
        assert_true((void *)t >= (void *)space && (void *)t < (void *)(space + 256));
    }
    jsonr_arena_fini(&a);
    assert_int_equal(live_blocks, 0);
    /* a text far bigger than the space: heap blocks, growing */
    size_t n = 200000;
    char *big = malloc(n + 8);
    assert_non_null(big);
    size_t o = 0;
    big[o++] = '[';
    while (o < n) {
        memcpy(big + o, "\"abcdefghij\",", 14);
        o += 14;
    }
    memcpy(big + o, "1]", 2);
    o += 2;
    jsonr_arena_init(&a, space, sizeof space);
    t = jsonr_parse_in(&a, big, o);
    assert_non_null(t);
    assert_int_equal(cJSON_GetArraySize(t), (int)((n - 1 + 13) / 14) + 1);
    if (!MCPDECK_ASAN) {
        assert_int_equal(live_blocks, 0);
        assert_non_null(a.mem.blocks);
        assert_true(a.mem.block_size > 16384);
    }
    jsonr_arena_fini(&a);
    assert_null(a.mem.blocks);
    assert_int_equal(live_blocks, 0);
    free(big);
    cJSON_InitHooks(NULL);
}

/* === With mcpdeck's allocator === */

static void test_with_jsonmem(void **state)
{
    (void)state;
    jsonmem_install();
    run_corpus();
    run_random(0xD1B54A32D192ED03u);
    cJSON_InitHooks(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_allocates_through_hooks),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_arena_allocates_nothing_per_node),
        cmocka_unit_test(test_with_jsonmem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
