/* test_ydoc.c — the YAML/JSON document loader: node positions, scalar
 * typing (YAML 1.2 core schema), JSON through the same parser (tabs,
 * escapes, surrogate pairs, strictness of *.json), conversion to cJSON,
 * and positioned refusals (duplicate keys, anchors, aliases, tags, bad
 * syntax, several documents). Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "ydoc.h"

static struct ydoc *load_ok(const char *name, const char *text)
{
    struct ydoc *d = NULL;
    char *err = NULL;
    if (ydoc_load_string(name, text, strlen(text), &d, &err) != 0)
        fail_msg("unexpected error: %s", err);
    assert_non_null(d);
    return d;
}

/* Loading text must fail with exactly want. */
static void expect_error(const char *name, const char *text, const char *want)
{
    struct ydoc *d = NULL;
    char *err = NULL;
    assert_int_equal(ydoc_load_string(name, text, strlen(text), &d, &err), -1);
    assert_null(d);
    assert_non_null(err);
    assert_string_equal(err, want);
    free(err);
}

static char *to_json_text(const struct ydoc_node *n)
{
    cJSON *j = ydoc_to_json(n);
    assert_non_null(j);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void assert_pos(const struct ydoc_node *n, int line, int col)
{
    assert_non_null(n);
    if (n->line != line || n->col != col)
        fail_msg("node at %d:%d, expected %d:%d", n->line, n->col, line, col);
}

/* === positions === */

static void test_positions_block(void **state)
{
    const char *y = "# comment\n"
                    "name: demo\n"
                    "list:\n"
                    "  - first\n"
                    "  -   'second'\n"
                    "  - {k: v, n: [1, 2]}\n"
                    "nested:\n"
                    "    deep:\n"
                    "        key: |\n"
                    "          text\n";
    struct ydoc *d = load_ok("p.yaml", y);
    assert_int_equal(d->root->kind, YDOC_MAP);
    assert_pos(d->root, 2, 1);
    assert_int_equal(d->root->npairs, 3);
    assert_pos(d->root->pairs[0].key, 2, 1);
    assert_pos(d->root->pairs[0].value, 2, 7);
    const struct ydoc_node *list = ydoc_map_get(d->root, "list");
    assert_int_equal(list->kind, YDOC_SEQ);
    assert_int_equal(list->nitems, 3);
    assert_pos(list->items[0], 4, 5);
    assert_pos(list->items[1], 5, 7);
    assert_string_equal(list->items[1]->str, "second");
    const struct ydoc_node *flow = list->items[2];
    assert_int_equal(flow->kind, YDOC_MAP);
    assert_pos(flow, 6, 5);
    assert_pos(flow->pairs[1].key, 6, 12);
    const struct ydoc_node *seq = ydoc_map_get(flow, "n");
    assert_pos(seq, 6, 15);
    assert_pos(seq->items[1], 6, 19);
    const struct ydoc_node *key = ydoc_map_get(ydoc_map_get(ydoc_map_get(d->root, "nested"),
                                                            "deep"), "key");
    assert_pos(key, 9, 14);
    assert_string_equal(key->str, "text\n");
    assert_int_equal(key->len, 5);
    assert_int_equal(key->quoted, 1);
    ydoc_free(d);
}

static void test_quoting_styles(void **state)
{
    const char *y = "plain: 12\nsingle: '12'\ndouble: \"12\"\nliteral: |\n  12\n"
                    "folded: >\n  12\ntagged: !!str 12\nbang: ! 12\nint: !!int 12\n";
    struct ydoc *d = load_ok("q.yaml", y);
    struct {
        const char *key;
        int quoted;
        enum ydoc_scalar_type type;
    } want[] = {
        {"plain", 0, YDOC_T_INT},     {"single", 1, YDOC_T_STRING},
        {"double", 1, YDOC_T_STRING}, {"literal", 1, YDOC_T_STRING},
        {"folded", 1, YDOC_T_STRING}, {"tagged", 1, YDOC_T_STRING},
        {"bang", 1, YDOC_T_STRING},   {"int", 0, YDOC_T_INT},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const struct ydoc_node *n = ydoc_map_get(d->root, want[i].key);
        assert_non_null(n);
        if (n->quoted != want[i].quoted || ydoc_scalar_type(n) != want[i].type)
            fail_msg("%s: quoted %d type %d", want[i].key, n->quoted, ydoc_scalar_type(n));
    }
    ydoc_free(d);
}

/* === scalar typing === */

static void test_scalar_types(void **state)
{
    struct {
        const char *text;
        enum ydoc_scalar_type type;
    } cases[] = {
        {"null", YDOC_T_NULL},    {"Null", YDOC_T_NULL},      {"NULL", YDOC_T_NULL},
        {"~", YDOC_T_NULL},       {"", YDOC_T_NULL},          {"nULL", YDOC_T_STRING},
        {"true", YDOC_T_BOOL},    {"True", YDOC_T_BOOL},      {"TRUE", YDOC_T_BOOL},
        {"false", YDOC_T_BOOL},   {"False", YDOC_T_BOOL},     {"FALSE", YDOC_T_BOOL},
        {"yes", YDOC_T_STRING},   {"on", YDOC_T_STRING},      {"tRue", YDOC_T_STRING},
        {"0", YDOC_T_INT},        {"42", YDOC_T_INT},         {"-17", YDOC_T_INT},
        {"+8", YDOC_T_INT},       {"012", YDOC_T_INT},        {"0x1F", YDOC_T_INT},
        {"0xff", YDOC_T_INT},     {"0o17", YDOC_T_INT},       {"0o18", YDOC_T_STRING},
        {"0x", YDOC_T_STRING},    {"0b101", YDOC_T_STRING},   {"1_000", YDOC_T_STRING},
        {"-", YDOC_T_STRING},     {"+", YDOC_T_STRING},       {"1.5", YDOC_T_FLOAT},
        {"-0.5", YDOC_T_FLOAT},   {".5", YDOC_T_FLOAT},       {"5.", YDOC_T_FLOAT},
        {"1e3", YDOC_T_FLOAT},    {"2.5E-3", YDOC_T_FLOAT},   {"1e", YDOC_T_STRING},
        {".", YDOC_T_STRING},     {".inf", YDOC_T_FLOAT},     {"-.Inf", YDOC_T_FLOAT},
        {"+.INF", YDOC_T_FLOAT},  {".nan", YDOC_T_FLOAT},     {".NaN", YDOC_T_FLOAT},
        {"inf", YDOC_T_STRING},   {"12abc", YDOC_T_STRING},   {"1.2.3", YDOC_T_STRING},
        {"hello", YDOC_T_STRING}, {"300s", YDOC_T_STRING},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct ydoc_node n = {.kind = YDOC_SCALAR, .str = (char *)cases[i].text,
                              .len = strlen(cases[i].text)};
        if (ydoc_scalar_type(&n) != cases[i].type)
            fail_msg("'%s' typed %d, expected %d", cases[i].text, ydoc_scalar_type(&n),
                     cases[i].type);
        n.quoted = 1;
        assert_int_equal(ydoc_scalar_type(&n), YDOC_T_STRING);
    }
    /* not a scalar: STRING by definition, never a crash */
    struct ydoc_node map = {.kind = YDOC_MAP};
    assert_int_equal(ydoc_scalar_type(&map), YDOC_T_STRING);
    assert_int_equal(ydoc_scalar_type(NULL), YDOC_T_STRING);
}

/* === to_json === */

static void test_to_json(void **state)
{
    const char *y = "a: 1\n"
                    "b: [x, 'q', 2.5, \"7\", ~, null, '']\n"
                    "c: {d: true, e: FALSE}\n"
                    "h: 0x10\n"
                    "o: 0o10\n"
                    "neg: -3\n"
                    "inf: .inf\n"
                    "nan: .nan\n"
                    "empty:\n"
                    "s: 'multi word'\n";
    struct ydoc *d = load_ok("j.yaml", y);
    char *txt = to_json_text(d->root);
    assert_string_equal(txt, "{\"a\":1,\"b\":[\"x\",\"q\",2.5,\"7\",null,null,\"\"],"
                             "\"c\":{\"d\":true,\"e\":false},\"h\":16,\"o\":8,\"neg\":-3,"
                             "\"inf\":null,\"nan\":null,\"empty\":null,\"s\":\"multi word\"}");
    cJSON_free(txt);
    ydoc_free(d);
    /* an empty document has no root; its JSON is null */
    d = load_ok("e.yaml", "# nothing here\n");
    assert_null(d->root);
    txt = to_json_text(d->root);
    assert_string_equal(txt, "null");
    cJSON_free(txt);
    ydoc_free(d);
}

/* === JSON through the YAML parser === */

static void test_json_fixture(void **state)
{
    struct ydoc *d = NULL;
    char *err = NULL;
    if (ydoc_load_file("tests/fixtures/config/types.json", &d, &err) != 0)
        fail_msg("types.json: %s", err);
    assert_string_equal(d->name, "tests/fixtures/config/types.json");
    const struct ydoc_node *r = d->root;
    assert_int_equal(r->kind, YDOC_MAP);
    assert_int_equal(r->npairs, 6);
    /* the file is indented with tabs; columns count a tab as one */
    assert_pos(r->pairs[0].key, 2, 2);
    const struct ydoc_node *deeper =
        ydoc_map_get(ydoc_map_get(ydoc_map_get(r, "object"), "nested"), "deeper");
    assert_pos(deeper, 2, 34);
    assert_string_equal(ydoc_map_get(deeper, "k")->str, "v");
    assert_int_equal(ydoc_map_get(ydoc_map_get(r, "object"), "empty")->kind, YDOC_MAP);
    const struct ydoc_node *esc = ydoc_map_get(r, "escapes");
    assert_string_equal(esc->str, "q\"uote b\\ack s/lash \n\t \xC3\xA9 \xF0\x9F\x98\x80 end");
    assert_int_equal(esc->quoted, 1);
    /* a surrogate pair on a line does not move the nodes after it */
    assert_pos(ydoc_map_get(r, "numbers"), 5, 13);
    assert_pos(ydoc_map_get(r, "after"), 7, 11);
    assert_string_equal(ydoc_map_get(r, "after")->str, "tab before me");

    char *txt = to_json_text(ydoc_map_get(r, "array"));
    assert_string_equal(txt, "[1,\"two\",[3],{\"four\":4},[]]");
    cJSON_free(txt);
    txt = to_json_text(ydoc_map_get(r, "numbers"));
    assert_string_equal(txt, "[0,-1,2.5,-0.0005,1000,12345678901]");
    cJSON_free(txt);
    txt = to_json_text(ydoc_map_get(r, "literals"));
    assert_string_equal(txt, "[true,false,null]");
    cJSON_free(txt);
    /* the whole document survives a round trip to cJSON */
    cJSON *j = ydoc_to_json(r);
    assert_string_equal(cJSON_GetObjectItem(j, "escapes")->valuestring, esc->str);
    cJSON_Delete(j);
    ydoc_free(d);
}

static void test_json_tabs_and_surrogates(void **state)
{
    /* two pairs on one line: the nodes after them keep their columns */
    const char *j = "{\"a\": \"\\ud83d\\ude00\\uD83D\\uDE01\", \"b\": [1, 2]}";
    struct ydoc *d = load_ok("s.json", j);
    assert_string_equal(ydoc_map_get(d->root, "a")->str, "\xF0\x9F\x98\x80\xF0\x9F\x98\x81");
    assert_pos(d->root->pairs[1].key, 1, 35);
    assert_pos(ydoc_map_get(d->root, "b")->items[1], 1, 44);
    ydoc_free(d);
    /* a tab inside a JSON string is kept, tabs between tokens are spaces */
    d = load_ok("t.json", "[\t\"x\ty\",\t{\"k\":\t1}]");
    assert_string_equal(d->root->items[0]->str, "x\ty");
    assert_pos(d->root->items[1], 1, 10);
    ydoc_free(d);
    /* tabs outside the top-level value, where libyaml alone refuses them */
    d = load_ok("t.json", "\t\n\t{\"a\":\t1}\n\t\n");
    assert_pos(d->root, 2, 2);
    assert_pos(ydoc_map_get(d->root, "a"), 2, 8);
    ydoc_free(d);
    /* JSON-looking text in a YAML file is read the same way */
    d = load_ok("t.yaml", "{\n\t\"k\": [true]\n}\n");
    assert_int_equal(ydoc_scalar_type(ydoc_map_get(d->root, "k")->items[0]), YDOC_T_BOOL);
    ydoc_free(d);
}

static void test_json_strict(void **state)
{
    expect_error("x.json", "{\"a\": 1,}", "x.json:1:9: invalid JSON: a trailing comma is not "
                                          "allowed");
    expect_error("x.json", "[1,\n 2,\n]", "x.json:3:1: invalid JSON: a trailing comma is not "
                                          "allowed");
    /* VS Code's mcp.json has comments: they are blanked, positions kept */
    struct ydoc *c = load_ok("x.json", "{\n  // note \"q\"\n  /* a\n b */ \"a\": \"//x\" /**/\n}");
    const struct ydoc_node *a = ydoc_map_get(c->root, "a");
    assert_string_equal(a->str, "//x");
    assert_pos(a, 4, 12);
    ydoc_free(c);
    expect_error("x.json", "{\"a\": 1 /* open\n}",
                 "x.json:2:1: invalid JSON here (a missing comma, quote or bracket?)");
    expect_error("x.json", "{\"a\": 1, b: 2}", "x.json:1:10: invalid JSON: keys need double "
                                               "quotes");
    expect_error("x.json", "{\"a\": 'x'}", "x.json:1:7: invalid JSON: strings need double "
                                           "quotes");
    expect_error("x.json", "{\"a\": [1, 2}", "x.json:1:12: invalid JSON here (a missing comma, "
                                             "quote or bracket?)");
    expect_error("x.json", "{\"a\": 1}\n{\"b\": 2}\n",
                 "x.json:2:1: unexpected text after the JSON value");
    expect_error("x.json", "", "x.json:1:1: invalid JSON: the file ends too early");
    /* the same flow text is fine YAML in a YAML file */
    struct ydoc *d = load_ok("x.yaml", "{a: 1, b: [2,],}");
    assert_int_equal(d->root->npairs, 2);
    assert_int_equal(ydoc_map_get(d->root, "b")->nitems, 1);
    ydoc_free(d);
}

/* === refusals === */

static void test_refusals(void **state)
{
    expect_error("y", "a: 1\nb: 2\na: 3\n", "y:3:1: duplicate key 'a' (first at line 1)");
    expect_error("y", "m:\n  k: 1\n  'k': 2\n", "y:3:3: duplicate key 'k' (first at line 2)");
    expect_error("y.json", "{\"a\": 1, \"a\": 2}",
                 "y.json:1:10: duplicate key 'a' (first at line 1)");
    expect_error("y", "a: &x 1\nb: *x\n", "y:1:4: anchors (&x) are not supported");
    expect_error("y", "a: &m {k: 1}\n", "y:1:4: anchors (&m) are not supported");
    expect_error("y", "a: [1, *x]\n", "y:1:8: aliases (*x) are not supported; write the "
                                      "value out");
    expect_error("y", "a: [1, 2\n",
                 "y:2:1: did not find expected ',' or ']' while parsing a flow sequence");
    expect_error("y", "a: b: c\n", "y:1:5: mapping values are not allowed in this context");
    expect_error("y", "a: 1\n---\nb: 2\n",
                 "y:2:1: only one YAML document is allowed in the file");
    expect_error("y", "? [a, b]\n: 1\n",
                 "y:1:3: a mapping key must be a plain value, not a sequence");
    expect_error("y", "? {a: 1}\n: 1\n",
                 "y:1:3: a mapping key must be a plain value, not a mapping");
    expect_error("y", "a: !secret x\n", "y:1:4: tag '!secret' is not supported; remove it");
    expect_error("y", "a: !!binary aGk=\n",
                 "y:1:4: tag 'tag:yaml.org,2002:binary' is not supported; remove it");
    expect_error("y", "a: !!str [1]\n",
                 "y:1:4: tag 'tag:yaml.org,2002:str' cannot be used on a sequence");
    expect_error("y", "a:\n\t- 1\n",
                 "y:2:1: found character that cannot start any token while scanning for the "
                 "next token (YAML does not allow tabs for indentation; use spaces)");
    expect_error("y", "a: \"open\n", "y:2:1: found unexpected end of stream while scanning "
                                     "a quoted scalar");
}

/* Children wait on one stack shared by every level until their container
 * ends: each container gets exactly its own, in order, however the
 * levels interleave; a key repeated in an inner map is still found. */
static void test_tree_shapes(void **state)
{
    (void)state;
    struct ydoc *d = load_ok("s.yaml", "[[1, 2], [3], [], {a: [4, [5]], b: {}, c: x}, {}]");
    char *txt = to_json_text(d->root);
    assert_string_equal(txt, "[[1,2],[3],[],{\"a\":[4,[5]],\"b\":{},\"c\":\"x\"},{}]");
    cJSON_free(txt);
    const struct ydoc_node *r = d->root;
    assert_int_equal(r->nitems, 5);
    assert_null(r->items[2]->items);
    assert_int_equal(r->items[3]->npairs, 3);
    assert_null(r->items[4]->pairs);
    assert_string_equal(r->items[3]->pairs[2].key->str, "c");
    assert_int_equal(r->items[3]->pairs[2].key->len, 1);
    assert_pos(r->items[3]->pairs[0].value->items[1], 1, 27);
    ydoc_free(d);
    expect_error("y", "a: {x: 1}\nb:\n  x: 2\n  y: [x, x]\n  x: 3\n",
                 "y:5:3: duplicate key 'x' (first at line 3)");

    /* a long sequence of small maps, as a big batch file is */
    enum { N = 20000 };
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "tasks:\n");
    for (int i = 0; i < N; i++)
        buf_printf(&b, "  - {tool: t%d, args: {path: p%d, n: [%d]}}\n", i, i, i);
    d = load_ok("big.yaml", b.data);
    const struct ydoc_node *tasks = ydoc_map_get(d->root, "tasks");
    assert_non_null(tasks);
    assert_int_equal(tasks->nitems, N);
    for (int i = 0; i < N; i += 997) {
        const struct ydoc_node *t = tasks->items[i];
        assert_pos(t, i + 2, 5);
        char want[64];
        snprintf(want, sizeof want, "t%d", i);
        assert_string_equal(ydoc_map_get(t, "tool")->str, want);
        const struct ydoc_node *args = ydoc_map_get(t, "args");
        snprintf(want, sizeof want, "p%d", i);
        assert_string_equal(ydoc_map_get(args, "path")->str, want);
        assert_int_equal(atoi(ydoc_map_get(args, "n")->items[0]->str), i);
    }
    ydoc_free(d);
    buf_fini(&b);
}

/* A repeated key is found however many keys the mapping has (past the
 * first few they are looked up in a table), and named at its second place
 * with the line of its first. */
static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 50000 };
    int repeat[] = {3, 31, 32, 33, 500, N - 1};
    for (size_t r = 0; r <= ARRAY_LEN(repeat); r++) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "top: 1\nm:\n");
        for (int i = 0; i < N; i++)
            buf_printf(&b, "  key%d: %d\n", i, i);
        if (r < ARRAY_LEN(repeat))
            buf_printf(&b, "  key%d: again\n", repeat[r]);
        buf_puts(&b, "end: 2\n");
        struct ydoc *d = NULL;
        char *err = NULL;
        int rc = ydoc_load_string("k.yaml", b.data, b.len, &d, &err);
        if (r == ARRAY_LEN(repeat)) {
            if (rc != 0)
                fail_msg("no key repeats, yet: %s", err);
            const struct ydoc_node *m = ydoc_map_get(d->root, "m");
            assert_int_equal(m->npairs, N);
            assert_string_equal(m->pairs[N - 1].key->str, "key49999");
            assert_non_null(ydoc_map_get(d->root, "end"));
            ydoc_free(d);
        } else {
            assert_int_equal(rc, -1);
            char want[128];
            snprintf(want, sizeof want, "k.yaml:%d:3: duplicate key 'key%d' (first at line %d)",
                     N + 3, repeat[r], repeat[r] + 3);
            assert_string_equal(err, want);
            free(err);
        }
        buf_fini(&b);
    }
}

static void test_nesting_limit(void **state)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < 300; i++)
        buf_putc(&b, '[');
    for (int i = 0; i < 300; i++)
        buf_putc(&b, ']');
    struct ydoc *d = NULL;
    char *err = NULL;
    assert_int_equal(ydoc_load_string("deep.yaml", b.data, b.len, &d, &err), -1);
    assert_string_equal(err, "deep.yaml:1:202: nesting is too deep");
    free(err);
    buf_fini(&b);
    /* 100 levels are fine */
    buf_init(&b);
    for (int i = 0; i < 100; i++)
        buf_putc(&b, '[');
    for (int i = 0; i < 100; i++)
        buf_putc(&b, ']');
    assert_int_equal(ydoc_load_string("ok.yaml", b.data, b.len, &d, &err), 0);
    ydoc_free(d);
    buf_fini(&b);
}

static void test_load_file_errors(void **state)
{
    struct ydoc *d = NULL;
    char *err = NULL;
    assert_int_equal(ydoc_load_file("tests/fixtures/config/no-such-file.yaml", &d, &err), -1);
    assert_string_equal(err, "cannot read tests/fixtures/config/no-such-file.yaml: No such "
                             "file or directory");
    free(err);
    assert_null(d);
}

/* === helpers === */

static void test_map_get_errorf_kind_names(void **state)
{
    struct ydoc *d = load_ok("h.yaml", "list: [a]\nkey: value\n");
    const struct ydoc_node *list = ydoc_map_get(d->root, "list");
    assert_null(ydoc_map_get(list, "a"));          /* not a map */
    assert_null(ydoc_map_get(NULL, "a"));
    assert_null(ydoc_map_get(d->root, "missing"));
    assert_string_equal(ydoc_map_get(d->root, "key")->str, "value");
    char *msg = ydoc_errorf(d, list->items[0], "bad %s %d", "thing", 7);
    assert_string_equal(msg, "h.yaml:1:8: bad thing 7");
    free(msg);
    msg = ydoc_errorf(d, NULL, "no position");
    assert_string_equal(msg, "h.yaml: no position");
    free(msg);
    assert_string_equal(ydoc_kind_name(YDOC_SCALAR), "scalar");
    assert_string_equal(ydoc_kind_name(YDOC_MAP), "mapping");
    assert_string_equal(ydoc_kind_name(YDOC_SEQ), "sequence");
    ydoc_free(d);
    ydoc_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions_block),
        cmocka_unit_test(test_quoting_styles),
        cmocka_unit_test(test_scalar_types),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_json_fixture),
        cmocka_unit_test(test_json_tabs_and_surrogates),
        cmocka_unit_test(test_json_strict),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_tree_shapes),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_load_file_errors),
        cmocka_unit_test(test_map_get_errorf_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
