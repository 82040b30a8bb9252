/* test_jsonschema.c — the JSON Schema validator: every supported keyword
 * with valid and invalid instances and the exact error text, paths through
 * nested objects and arrays, $ref (definitions, $defs, recursion, loops,
 * broken refs), boolean and broken schemas, the translation of ECMAScript
 * patterns, real MCP tool schemas, and jsonschema_apply_defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"
#include "util.h"

/* A schema, an instance, and the error expected (NULL: valid). */
struct tcase {
    const char *schema;
    const char *instance;
    const char *error;
};

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    if (!j)
        print_error("cannot parse test JSON: %s\n", text);
    assert_non_null(j);
    return j;
}

/* Validate with root name "args"; returns the rc, *err gets the message. */
static int validate_text(const char *schema, const char *instance, char **err)
{
    cJSON *s = parse(schema), *v = parse(instance);
    int rc = jsonschema_validate(s, v, "args", err);
    cJSON_Delete(s);
    cJSON_Delete(v);
    return rc;
}

static void run_cases(const struct tcase *cases, size_t n)
{
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        const struct tcase *t = &cases[i];
        char *err = NULL;
        int rc = validate_text(t->schema, t->instance, &err);
        bool ok = t->error ? rc == -1 && err && strcmp(err, t->error) == 0
                           : rc == 0 && err == NULL;
        if (!ok) {
            print_error("case %zu: schema %s instance %s\n  want: %s\n  got:  rc %d, %s\n", i,
                        t->schema, t->instance, t->error ? t->error : "(valid)", rc,
                        err ? err : "(no message)");
            bad++;
        }
        free(err);
    }
    assert_int_equal(bad, 0);
}

#define RUN(cases) run_cases(cases, ARRAY_LEN(cases))

static void test_type(void **state)
{
    static const struct tcase cases[] = {
        {"{\"type\":\"string\"}", "\"x\"", NULL},
        {"{\"type\":\"string\"}", "5", "args: expected string, got number"},
        {"{\"type\":\"string\"}", "null", "args: expected string, got null"},
        {"{\"type\":\"number\"}", "5", NULL},
        {"{\"type\":\"number\"}", "-2.5e3", NULL},
        {"{\"type\":\"number\"}", "\"5\"", "args: expected number, got string"},
        {"{\"type\":\"integer\"}", "5", NULL},
        {"{\"type\":\"integer\"}", "5.0", NULL},
        {"{\"type\":\"integer\"}", "-0", NULL},
        {"{\"type\":\"integer\"}", "1e3", NULL},
        {"{\"type\":\"integer\"}", "1.5", "args: expected integer, got number 1.5"},
        {"{\"type\":\"integer\"}", "0.1", "args: expected integer, got number 0.1"},
        {"{\"type\":\"integer\"}", "true", "args: expected integer, got boolean"},
        {"{\"type\":\"boolean\"}", "false", NULL},
        {"{\"type\":\"boolean\"}", "0", "args: expected boolean, got number"},
        {"{\"type\":\"null\"}", "null", NULL},
        {"{\"type\":\"null\"}", "false", "args: expected null, got boolean"},
        {"{\"type\":\"object\"}", "{}", NULL},
        {"{\"type\":\"object\"}", "[]", "args: expected object, got array"},
        {"{\"type\":\"array\"}", "[1]", NULL},
        {"{\"type\":\"array\"}", "{}", "args: expected array, got object"},
        {"{\"type\":[\"string\",\"null\"]}", "null", NULL},
        {"{\"type\":[\"string\",\"null\"]}", "\"s\"", NULL},
        {"{\"type\":[\"string\",\"null\"]}", "1", "args: expected string or null, got number"},
        {"{\"type\":[\"null\",\"integer\",\"boolean\"]}", "2.5",
         "args: expected integer, boolean or null, got number 2.5"},
        {"{\"type\":[\"integer\",\"number\"]}", "2.5", NULL},
        {"{\"type\":[\"integer\",\"number\"]}", "\"a\"", "args: expected number, got string"},
        /* no type: anything goes */
        {"{}", "[1,{\"a\":null}]", NULL},
        {"{\"description\":\"d\",\"title\":\"t\",\"format\":\"uri\"}", "\"not a uri\"", NULL},
    };
    RUN(cases);
}

static void test_enum_const(void **state)
{
    static const struct tcase cases[] = {
        {"{\"enum\":[\"slow\",\"medium\"]}", "\"slow\"", NULL},
        {"{\"enum\":[\"slow\",\"medium\"]}", "\"fast\"",
         "args: 'fast' is not one of: \"slow\", \"medium\""},
        {"{\"enum\":[1,2,3]}", "2.0", NULL},
        {"{\"enum\":[1,2,3]}", "4", "args: 4 is not one of: 1, 2, 3"},
        {"{\"enum\":[1,\"1\"]}", "\"1\"", NULL},
        {"{\"enum\":[\"1\"]}", "1", "args: 1 is not one of: \"1\""},
        {"{\"enum\":[null,true]}", "null", NULL},
        {"{\"enum\":[null,true]}", "false", "args: false is not one of: null, true"},
        {"{\"enum\":[{\"a\":1,\"b\":[1,2]}]}", "{\"b\":[1,2],\"a\":1}", NULL},
        {"{\"enum\":[{\"a\":1}]}", "{\"a\":1,\"b\":2}",
         "args: {\"a\":1,\"b\":2} is not one of: {\"a\":1}"},
        {"{\"enum\":[[1,2]]}", "[2,1]", "args: [2,1] is not one of: [1,2]"},
        {"{\"enum\":[]}", "1", "args: 1 is not one of: (nothing)"},
        {"{\"enum\":[1.5,2]}", "1.7", "args: 1.7 is not one of: 1.5, 2"},
        {"{\"enum\":[0.1]}", "0.1", NULL},
        {"{\"enum\":\"x\"}", "1", "args: invalid schema at #: 'enum' must be an array"},
        {"{\"const\":\"x\"}", "\"x\"", NULL},
        {"{\"const\":\"x\"}", "\"y\"", "args: must be \"x\", got 'y'"},
        {"{\"const\":3}", "3.0", NULL},
        {"{\"const\":null}", "0", "args: must be null, got 0"},
        {"{\"const\":false}", "false", NULL},
        {"{\"const\":{\"k\":[true]}}", "{\"k\":[true]}", NULL},
        {"{\"const\":{\"k\":[true]}}", "{\"k\":[false]}",
         "args: must be {\"k\":[true]}, got {\"k\":[false]}"},
    };
    RUN(cases);
}

static void test_numbers(void **state)
{
    static const struct tcase cases[] = {
        {"{\"minimum\":5}", "5", NULL},
        {"{\"minimum\":5}", "4.5", "args: 4.5 is less than the minimum 5"},
        {"{\"maximum\":10}", "10", NULL},
        {"{\"maximum\":10}", "11", "args: 11 is greater than the maximum 10"},
        {"{\"exclusiveMinimum\":0}", "0.001", NULL},
        {"{\"exclusiveMinimum\":0}", "0", "args: 0 must be greater than 0"},
        {"{\"exclusiveMaximum\":1.5}", "1.4", NULL},
        {"{\"exclusiveMaximum\":1.5}", "1.5", "args: 1.5 must be less than 1.5"},
        /* draft-04 boolean form */
        {"{\"minimum\":1,\"exclusiveMinimum\":true}", "1", "args: 1 must be greater than 1"},
        {"{\"maximum\":1,\"exclusiveMaximum\":true}", "0.5", NULL},
        {"{\"maximum\":1,\"exclusiveMaximum\":true}", "1", "args: 1 must be less than 1"},
        {"{\"minimum\":1,\"exclusiveMinimum\":false}", "1", NULL},
        {"{\"multipleOf\":0.1}", "0.3", NULL},
        {"{\"multipleOf\":3}", "9", NULL},
        {"{\"multipleOf\":3}", "10", "args: 10 is not a multiple of 3"},
        {"{\"multipleOf\":0}", "1",
         "args: invalid schema at #: 'multipleOf' must be greater than 0"},
        /* numeric keywords only look at numbers */
        {"{\"minimum\":5}", "\"abc\"", NULL},
        {"{\"minimum\":\"5\"}", "6", "args: invalid schema at #: 'minimum' must be a number"},
        {"{\"type\":\"number\",\"minimum\":1,\"maximum\":10}", "0.1",
         "args: 0.1 is less than the minimum 1"},
        {"{\"maximum\":1e300}", "1e301", "args: 1e+301 is greater than the maximum 1e+300"},
    };
    RUN(cases);
}

static void test_strings(void **state)
{
    static const struct tcase cases[] = {
        {"{\"minLength\":3}", "\"abc\"", NULL},
        {"{\"minLength\":3}", "\"ab\"", "args: string is too short (2 characters, minimum 3)"},
        {"{\"minLength\":1}", "\"\"", "args: string is too short (0 characters, minimum 1)"},
        {"{\"maxLength\":3}", "\"abcd\"", "args: string is too long (4 characters, maximum 3)"},
        {"{\"maxLength\":0}", "\"a\"", "args: string is too long (1 character, maximum 0)"},
        /* code points, not bytes: "héllo" is 6 bytes, 5 characters */
        {"{\"maxLength\":5}", "\"h\xc3\xa9llo\"", NULL},
        {"{\"minLength\":6}", "\"h\xc3\xa9llo\"",
         "args: string is too short (5 characters, minimum 6)"},
        {"{\"maxLength\":1}", "\"\\ud83d\\ude00\"", NULL},   /* one emoji, 4 bytes */
        {"{\"maxLength\":2}", "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"",
         "args: string is too long (3 characters, maximum 2)"},
        {"{\"minLength\":-1}", "\"a\"",
         "args: invalid schema at #: 'minLength' must be a non-negative integer"},
        {"{\"maxLength\":1.5}", "\"a\"",
         "args: invalid schema at #: 'maxLength' must be a non-negative integer"},
        {"{\"minLength\":5}", "12", NULL},
        {"{\"pattern\":\"^[a-z]+$\"}", "\"abc\"", NULL},
        {"{\"pattern\":\"^[a-z]+$\"}", "\"abC\"",
         "args: 'abC' does not match the pattern '^[a-z]+$'"},
        /* unanchored: a match anywhere is enough */
        {"{\"pattern\":\"b\"}", "\"abc\"", NULL},
        {"{\"pattern\":5}", "\"a\"", "args: invalid schema at #: 'pattern' must be a string"},
        {"{\"pattern\":\"^a\"}", "5", NULL},
        {"{\"pattern\":\"\"}", "\"abc\"", NULL},
    };
    RUN(cases);
}

/* ECMAScript patterns translated to POSIX ERE, and what cannot be is
 * skipped (treated as matching). */
static void test_patterns(void **state)
{
    static const struct {
        const char *pattern;   /* JSON-escaped */
        const char *text;
        bool match;
    } cases[] = {
        {"^\\\\d+$", "123", true},
        {"^\\\\d+$", "12a", false},
        {"^\\\\d+$", "ddd", false},   /* regcomp alone would take \d as 'd' */
        {"^\\\\D+$", "abc", true},
        {"^\\\\D+$", "a1", false},
        {"^\\\\w+$", "a_Z9", true},
        {"^\\\\w+$", "a-b", false},
        {"^\\\\W$", "-", true},
        {"^a\\\\sb$", "a b", true},
        {"^a\\\\sb$", "a\\tb", true},
        {"^a\\\\Sb$", "a b", false},
        {"^[\\\\d.]+$", "1.5", true},
        {"^[\\\\d.]+$", "1,5", false},
        {"^[\\\\w-]+$", "my-name_1", true},
        {"^[\\\\w-]+$", "my name", false},
        {"^[^\\\\s]+$", "nospace", true},
        {"^[^\\\\s]+$", "a space", false},
        {"^[\\\\]\\\\[]+$", "][", true},
        {"^[\\\\^x]$", "^", true},
        {"^[\\\\^x]$", "y", false},
        {"^[\\\\^-]$", "-", true},
        {"^[a\\\\-z]$", "-", true},
        {"^[a\\\\-z]$", "m", false},
        {"^[a-z0-9]{2,4}$", "ab1", true},
        {"^[a-z0-9]{2,4}$", "abcde", false},
        {"^(?:ab)+$", "abab", true},
        {"^(?:ab)+$", "aba", false},
        {"^a+?$", "aaa", true},
        {"^a+?$", "", false},        /* lazy, not "(a+)?" */
        {"^a*?b$", "b", true},
        {"^a{2}?$", "aa", true},
        {"^a.c$", "abc", true},
        {"^a.c$", "a\\nc", false},   /* . does not match a line break */
        {"^\\\\.$", ".", true},
        {"^\\\\.$", "x", false},
        {"^a\\\\/b$", "a/b", true},
        {"^\\\\u0041$", "A", true},
        {"^\\\\x41$", "A", true},
        {"^\\\\u00e9+$", "\xc3\xa9\xc3\xa9", true},
        {"^\\\\$\\\\d$", "$5", true},
        {"^{x}$", "{x}", true},       /* a brace that is no quantifier is literal */
        {"^a}$", "a}", true},
        {"^(a|b)c$", "bc", true},
        {"^(a|b)c$", "cc", false},
        {"\\\\bfoo\\\\b", "a foo b", true},
        {"\\\\bfoo\\\\b", "afoob", false},
        /* counted repetitions that regcomp builds in reasonable size */
        {"^[a-z]{1,64}(\\\\.[a-z]{1,64}){0,10}$", "ab.cd", true},
        {"^[a-z]{1,64}(\\\\.[a-z]{1,64}){0,10}$", "ab..cd", false},
        {"^a{300}$", "a", false},
        {"^(ab){2,}$", "ab", false},
        /* unsupported or rejected: skipped, so anything matches */
        {"^(?=a)b", "zzz", true},
        {"^(?!a)", "a", true},
        {"(?<name>x)", "y", true},
        {"(a)\\\\1", "ab", true},
        {"\\\\p{L}+", "123", true},
        {"[", "x", true},
        {"a**", "b", true},
        {"[]", "x", true},
        {"\\\\k<x>", "x", true},
        {"^a\\\\x00", "zzz", true},   /* NUL cannot be in a POSIX pattern */
        /* regcomp would copy these into millions of nodes (gigabytes) */
        {"^(a{1000}){1000}$", "b", true},
        {"^a{5000}$", "b", true},
        {"^a{9223372036854775807,}$", "b", true},
        {"^a{1,99999999999999999999999}$", "b", true},
        {"^(((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+$", "b", true},
        {"^((x{30}){30}){30}$", "b", true},
        /* stacked quantifiers: an ECMAScript syntax error, and regcomp's
         * closures explode on a run of them */
        {"^a{2}{3}$", "b", true},
        {"^a+*$", "b", true},
        {"^a+??$", "b", true},
        {"^x?????????????????+++++++y$", "b", true},
    };
    int bad = 0;

    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *schema = xasprintf("{\"pattern\":\"%s\"}", cases[i].pattern);
        char *inst = xasprintf("\"%s\"", cases[i].text);
        char *err = NULL;
        int rc = validate_text(schema, inst, &err);
        if ((rc == 0) != cases[i].match) {
            print_error("pattern case %zu: %s on %s: got %s\n", i, schema, inst,
                        err ? err : "(match)");
            bad++;
        }
        if (rc == 0)
            assert_null(err);
        else
            assert_non_null(strstr(err, "does not match the pattern"));
        free(err);
        free(schema);
        free(inst);
    }
    assert_int_equal(bad, 0);
}

/* More patterns than the per-call cache holds still work (and are freed:
 * run under LeakSanitizer). */
static void test_many_patterns(void **state)
{
    struct buf b;
    char *err = NULL;

    buf_init(&b);
    buf_puts(&b, "{\"type\":\"array\",\"prefixItems\":[");
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "%s{\"pattern\":\"^x%d$\"}", i ? "," : "", i);
    buf_puts(&b, "]}");
    char *valid = xstrdup("[");
    for (int i = 0; i < 40; i++) {
        char *next = xasprintf("%s%s\"x%d\"", valid, i ? "," : "", i);
        free(valid);
        valid = next;
    }
    char *closed = xasprintf("%s]", valid);
    assert_int_equal(validate_text(b.data, closed, &err), 0);
    assert_null(err);
    free(closed);

    /* the 35th differs: found beyond the cache */
    closed = xasprintf("%s]", valid);
    char *p = strstr(closed, "\"x34\"");
    assert_non_null(p);
    p[2] = '9';
    assert_int_equal(validate_text(b.data, closed, &err), -1);
    assert_string_equal(err, "args[34]: 'x94' does not match the pattern '^x34$'");
    free(err);
    free(closed);
    free(valid);
    buf_fini(&b);
}

static void test_arrays(void **state)
{
    static const struct tcase cases[] = {
        {"{\"items\":{\"type\":\"string\"}}", "[\"a\",\"b\"]", NULL},
        {"{\"items\":{\"type\":\"string\"}}", "[]", NULL},
        {"{\"items\":{\"type\":\"string\"}}", "[\"a\",2]", "args[1]: expected string, got number"},
        {"{\"minItems\":2}", "[1,2]", NULL},
        {"{\"minItems\":2}", "[1]", "args: array is too short (1 item, minimum 2)"},
        {"{\"maxItems\":2}", "[1,2,3]", "args: array is too long (3 items, maximum 2)"},
        {"{\"maxItems\":2}", "\"not an array\"", NULL},
        {"{\"uniqueItems\":true}", "[1,2,3]", NULL},
        {"{\"uniqueItems\":true}", "[1,2,1.0]",
         "args: items 0 and 2 are equal, expected unique items"},
        {"{\"uniqueItems\":true}", "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]",
         "args: items 0 and 1 are equal, expected unique items"},
        {"{\"uniqueItems\":true}", "[[1],[1,2],\"1\",1,true,null]", NULL},
        {"{\"uniqueItems\":false}", "[1,1]", NULL},
        /* 2020-12 prefixItems, then items for the rest */
        {"{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}",
         "[\"a\",1,null]", NULL},
        {"{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "[\"a\",\"b\"]",
         "args[1]: expected integer, got string"},
        {"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":\"boolean\"}}",
         "[\"a\",true,1]", "args[2]: expected boolean, got number"},
        {"{\"prefixItems\":[{},{}],\"items\":false}", "[1,2]", NULL},
        {"{\"prefixItems\":[{},{}],\"items\":false}", "[1,2,3]",
         "args: array is too long (3 items, maximum 2)"},
        {"{\"prefixItems\":[{\"type\":\"string\"}]}", "[]", NULL},
        /* draft-07 tuple items and additionalItems */
        {"{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"number\"}}",
         "[\"a\",1,2]", NULL},
        {"{\"items\":[{\"type\":\"string\"}],\"additionalItems\":{\"type\":\"number\"}}",
         "[\"a\",1,\"x\"]", "args[2]: expected number, got string"},
        {"{\"items\":[{\"type\":\"string\"}],\"additionalItems\":false}", "[\"a\",1]",
         "args: array is too long (2 items, maximum 1)"},
        {"{\"items\":false}", "[]", NULL},
        {"{\"items\":false}", "[1]", "args: array is too long (1 item, maximum 0)"},
        {"{\"minItems\":\"2\"}", "[]",
         "args: invalid schema at #: 'minItems' must be a non-negative integer"},
        {"{\"prefixItems\":{}}", "[]", "args: invalid schema at #: 'prefixItems' must be an array"},
    };
    RUN(cases);
}

/* An object of n members k0..k(n-1), value i*10+seed, written from the
 * last member to the first when reversed; member k1 is -0 or 0. */
static void put_object(struct buf *b, int n, int seed, bool reversed)
{
    buf_putc(b, '{');
    for (int m = 0; m < n; m++) {
        int k = reversed ? n - 1 - m : m;
        if (k == 1)
            buf_printf(b, "%s\"k1\":%s", m ? "," : "", reversed ? "-0" : "0");
        else
            buf_printf(b, "%s\"k%d\":%d%s", m ? "," : "", k, k * 10 + seed,
                       reversed ? ".0" : "");
    }
    buf_putc(b, '}');
}

static void expect_text(const char *schema, const char *instance, const char *want)
{
    char *err = NULL;
    int rc = validate_text(schema, instance, &err);
    if (want && (rc != -1 || !err || strcmp(err, want) != 0))
        fail_msg("want %s, got rc %d: %s", want, rc, err ? err : "(no message)");
    if (!want && (rc != 0 || err))
        fail_msg("want valid, got rc %d: %s", rc, err ? err : "(no message)");
    free(err);
}

/* uniqueItems and const over big values (a server's answer may hold
 * millions of items): the pair named is the one a nested loop names
 * first, equal values are found whatever their members' order or how
 * their numbers are written, and nothing else counts as equal. */
static void test_unique_many(void **state)
{
    (void)state;
    const char *unique = "{\"uniqueItems\":true}";
    enum { N = 20000 };
    struct buf b;
    for (int variant = 0; variant < 3; variant++) {
        buf_init(&b);
        buf_putc(&b, '[');
        for (int i = 0; i < N; i++) {
            int v = i;
            if (variant == 1 && i == 8000)
                v = 7000;
            if (variant == 1 && i == N - 1)
                v = 5000;
            if (variant == 2 && (i == 100 || i == 200))
                v = 3;
            buf_printf(&b, "%s%d%s", i ? "," : "", v, i % 2 ? ".0" : "");
        }
        buf_putc(&b, ']');
        expect_text(unique, b.data,
                    variant == 0 ? NULL
                    : variant == 1 ? "args: items 5000 and 19999 are equal, expected unique items"
                                   : "args: items 3 and 100 are equal, expected unique items");
        buf_fini(&b);
    }
    /* 40 objects of 20 members, then the 8th again, its members reversed */
    for (int same = 0; same < 2; same++) {
        buf_init(&b);
        buf_putc(&b, '[');
        for (int i = 0; i < 40; i++) {
            put_object(&b, 20, i, false);
            buf_putc(&b, ',');
        }
        put_object(&b, 20, same ? 7 : 40, true);
        buf_putc(&b, ']');
        expect_text(unique, b.data,
                    same ? "args: items 7 and 40 are equal, expected unique items" : NULL);
        buf_fini(&b);
    }
    struct buf c;
    buf_init(&b);
    buf_init(&c);
    buf_puts(&b, "{\"const\":");
    put_object(&b, 20, 1, false);
    buf_putc(&b, '}');
    put_object(&c, 20, 1, true);
    expect_text(b.data, c.data, NULL);
    buf_fini(&c);
    buf_init(&c);
    put_object(&c, 20, 2, true);
    char *err = NULL;
    assert_int_equal(validate_text(b.data, c.data, &err), -1);
    assert_non_null(strstr(err, "args: must be {"));
    free(err);
    buf_fini(&b);
    buf_fini(&c);
}

/* text of {"<kw>": ...} builders for the work bound */
static void put_names(struct buf *b, const char *prefix, int n, bool as_object)
{
    buf_putc(b, as_object ? '{' : '[');
    for (int i = 0; i < n; i++)
        buf_printf(b, "%s\"%s%d\"%s", i ? "," : "", prefix, i, as_object ? ":true" : "");
    buf_putc(b, as_object ? '}' : ']');
}

/* Work is bounded whatever a server's schema and answer hold: lookups by
 * name, enum comparisons and $ref searches count, and past the bound the
 * validation fails saying so; the same shapes at a usual size pass. */
static void test_work_bounded(void **state)
{
    (void)state;
    const char *over = "validation needs more than 20000000 lookups and comparisons";
    for (int big = 0; big < 2; big++) {
        int n = big ? 5000 : 1000;
        struct buf sch[4], inst;
        for (int i = 0; i < 4; i++)
            buf_init(&sch[i]);
        buf_init(&inst);
        buf_puts(&sch[0], "{\"required\":");
        put_names(&sch[0], "k", n, false);
        buf_puts(&sch[1], "{\"additionalProperties\":false,\"properties\":");
        put_names(&sch[1], "k", n, true);
        buf_puts(&sch[2], "{\"items\":{\"enum\":");
        put_names(&sch[2], "k", n, false);
        buf_putc(&sch[2], '}');
        buf_printf(&sch[3], "{\"items\":{\"$ref\":\"#/$defs/k%d\"},\"$defs\":", n - 1);
        put_names(&sch[3], "k", n, true);
        put_names(&inst, "k", n, true);
        struct buf arr;
        buf_init(&arr);
        buf_putc(&arr, '[');
        for (int i = 0; i < n; i++)
            buf_printf(&arr, "%s\"k%d\"", i ? "," : "", n - 1);
        buf_putc(&arr, ']');
        for (int i = 0; i < 4; i++) {
            buf_putc(&sch[i], '}');
            char *err = NULL;
            int rc = validate_text(sch[i].data, i < 2 ? inst.data : arr.data, &err);
            if (big) {
                assert_int_equal(rc, -1);
                if (!err || !strstr(err, over))
                    fail_msg("schema %d: %s", i, err ? err : "(no message)");
            } else if (rc != 0) {
                fail_msg("schema %d at %d: %s", i, n, err ? err : "(no message)");
            }
            free(err);
            buf_fini(&sch[i]);
        }
        buf_fini(&inst);
        buf_fini(&arr);
    }
    /* defaults: all of a usual form, and a bounded part of a huge one */
    for (int n = 100; n <= 100000; n *= 1000) {
        struct buf b;
        buf_init(&b);
        buf_puts(&b, "{\"properties\":{");
        for (int i = 0; i < n; i++)
            buf_printf(&b, "%s\"p%d\":{\"default\":%d}", i ? "," : "", i, i);
        buf_puts(&b, "}}");
        cJSON *schema = parse(b.data), *v = cJSON_CreateObject();
        int added = jsonschema_apply_defaults(schema, v);
        if (n == 100)
            assert_int_equal(added, n);
        else
            assert_true(added > 1000 && added < n);
        assert_int_equal(cJSON_GetArraySize(v), added);
        assert_int_equal(cJSON_GetObjectItem(v, "p7")->valueint, 7);
        cJSON_Delete(schema);
        cJSON_Delete(v);
        buf_fini(&b);
    }
}

static void test_objects(void **state)
{
    static const struct tcase cases[] = {
        {"{\"required\":[\"a\",\"b\"]}", "{\"a\":1,\"b\":null}", NULL},
        {"{\"required\":[\"a\",\"b\"]}", "{\"a\":1}", "args: missing required property 'b'"},
        {"{\"required\":[\"a\"]}", "[1]", NULL},
        {"{\"required\":\"a\"}", "{}", "args: invalid schema at #: 'required' must be an array"},
        {"{\"required\":[1]}", "{}",
         "args: invalid schema at #: 'required' must hold property names"},
        {"{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":\"x\",\"b\":1}", NULL},
        {"{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"b\":1}", NULL},
        {"{\"properties\":{\"a\":{\"type\":\"string\"}}}", "{\"a\":1}",
         "args.a: expected string, got number"},
        {"{\"properties\":[]}", "{}", "args: invalid schema at #: 'properties' must be an object"},
        /* additionalProperties false */
        {"{\"properties\":{\"message\":{}},\"additionalProperties\":false}",
         "{\"message\":\"hi\"}", NULL},
        {"{\"properties\":{\"message\":{}},\"additionalProperties\":false}", "{\"mesage\":1}",
         "args: unknown property 'mesage' (allowed: message)"},
        {"{\"properties\":{\"a\":{},\"b\":{}},\"additionalProperties\":false}",
         "{\"a\":1,\"c\":2}", "args: unknown property 'c' (allowed: a, b)"},
        {"{\"additionalProperties\":false}", "{}", NULL},
        {"{\"properties\":{\"\":{}},\"additionalProperties\":false}", "{\"x\":1}",
         "args: unknown property 'x' (allowed: )"},
        {"{\"additionalProperties\":false}", "{\"x\":1}",
         "args: unknown property 'x' (no properties are allowed)"},
        /* the unknown property is named before a missing one (typos) */
        {"{\"properties\":{\"message\":{}},\"required\":[\"message\"],"
         "\"additionalProperties\":false}",
         "{\"mesage\":\"hi\"}", "args: unknown property 'mesage' (allowed: message)"},
        /* additionalProperties as a schema */
        {"{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"integer\"}}",
         "{\"a\":\"s\",\"b\":1,\"c\":2}", NULL},
        {"{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":\"integer\"}}",
         "{\"a\":\"s\",\"b\":1,\"c\":\"x\"}", "args.c: expected integer, got string"},
        {"{\"additionalProperties\":true}", "{\"x\":1}", NULL},
        /* patternProperties, alone and with additionalProperties */
        {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}}}", "{\"x-a\":\"s\",\"y\":1}",
         NULL},
        {"{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}}}", "{\"x-a\":1}",
         "args.x-a: expected string, got number"},
        {"{\"patternProperties\":{\"^x-\":{}},\"additionalProperties\":false}",
         "{\"x-a\":1}", NULL},
        {"{\"properties\":{\"id\":{}},\"patternProperties\":{\"^x-\":{}},"
         "\"additionalProperties\":false}",
         "{\"id\":1,\"y\":1}", "args: unknown property 'y' (allowed: id, names matching '^x-')"},
        /* an unsupported pattern declares every name, checks none */
        {"{\"patternProperties\":{\"^(?=x)\":{\"type\":\"string\"}},"
         "\"additionalProperties\":false}",
         "{\"y\":1}", NULL},
        {"{\"minProperties\":1}", "{\"a\":1}", NULL},
        {"{\"minProperties\":1}", "{}", "args: object has too few properties (0, minimum 1)"},
        {"{\"maxProperties\":1}", "{\"a\":1,\"b\":2}",
         "args: object has too many properties (2, maximum 1)"},
        {"{\"maxProperties\":1}", "[1,2]", NULL},
        /* keys that are not plain names are quoted in paths */
        {"{\"properties\":{\"my key\":{\"type\":\"string\"}}}", "{\"my key\":1}",
         "args[\"my key\"]: expected string, got number"},
        {"{\"properties\":{\"a.b\":{\"type\":\"string\"}}}", "{\"a.b\":1}",
         "args[\"a.b\"]: expected string, got number"},
        {"{\"properties\":{\"\":{\"type\":\"string\"}}}", "{\"\":1}",
         "args[\"\"]: expected string, got number"},
        {"{\"properties\":{\"q\\\"\":{\"type\":\"string\"}}}", "{\"q\\\"\":1}",
         "args[\"q\\\"\"]: expected string, got number"},
        {"{\"properties\":{\"dry-run\":{\"type\":\"boolean\"}}}", "{\"dry-run\":1}",
         "args.dry-run: expected boolean, got number"},
    };
    RUN(cases);
}

static void test_nested_paths(void **state)
{
    static const char schema[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"files\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
        "\"properties\":{\"name\":{\"type\":\"string\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]}}},"
        "\"required\":[\"name\"]}},"
        "\"opts\":{\"type\":\"object\",\"properties\":{\"deep\":{\"type\":\"object\","
        "\"properties\":{\"level\":{\"type\":\"integer\",\"minimum\":0}}}}}}}";
    static const struct tcase cases[] = {
        {schema, "{\"files\":[{\"name\":\"a\"},{\"name\":\"b\",\"tags\":[\"a\"]}]}", NULL},
        {schema, "{\"files\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":3}]}",
         "args.files[2].name: expected string, got number"},
        {schema, "{\"files\":[{\"name\":\"a\"},{}]}",
         "args.files[1]: missing required property 'name'"},
        {schema, "{\"files\":[{\"name\":\"a\",\"tags\":[\"a\",\"c\"]}]}",
         "args.files[0].tags[1]: 'c' is not one of: \"a\", \"b\""},
        {schema, "{\"opts\":{\"deep\":{\"level\":-1}}}",
         "args.opts.deep.level: -1 is less than the minimum 0"},
        {schema, "{\"opts\":{\"deep\":{\"level\":0.5}}}",
         "args.opts.deep.level: expected integer, got number 0.5"},
        {schema, "{\"files\":{}}", "args.files: expected array, got object"},
        {schema, "[]", "args: expected object, got array"},
    };
    RUN(cases);
}

static void test_combinators(void **state)
{
    static const struct tcase cases[] = {
        /* anyOf */
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "\"a\"", NULL},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "null", NULL},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}", "1",
         "args: expected string or null, got number"},
        {"{\"anyOf\":[{\"type\":\"string\",\"maxLength\":2},{\"type\":\"integer\"}]}", "\"abc\"",
         "args: does not match any of the 2 allowed schemas; closest is #1: "
         "args: string is too long (3 characters, maximum 2)"},
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":"
         "{\"n\":{\"type\":\"integer\"}}}]}",
         "{\"n\":1.5}",
         "args: does not match any of the 2 allowed schemas; closest is #2: "
         "args.n: expected integer, got number 1.5"},
        /* the branch that got deepest into the value is the closest */
        {"{\"anyOf\":[{\"required\":[\"a\"]},{\"properties\":{\"b\":{\"properties\":"
         "{\"c\":{\"const\":1}}}}}]}",
         "{\"b\":{\"c\":2}}",
         "args: does not match any of the 2 allowed schemas; closest is #2: "
         "args.b.c: must be 1, got 2"},
        {"{\"anyOf\":[{\"minimum\":5}]}", "1", "args: 1 is less than the minimum 5"},
        {"{\"anyOf\":[]}", "1", "args: invalid schema at #: 'anyOf' must be a non-empty array"},
        /* oneOf */
        {"{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "1", NULL},
        {"{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}", "true",
         "args: expected string or number, got boolean"},
        {"{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}", "1.5", NULL},
        {"{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}", "2",
         "args: matches more than one of the 2 allowed schemas (#1 and #2), "
         "expected exactly one"},
        {"{\"oneOf\":[{\"const\":1},{\"const\":2},{\"minimum\":2}]}", "2",
         "args: matches more than one of the 3 allowed schemas (#2 and #3), "
         "expected exactly one"},
        {"{\"oneOf\":[{\"properties\":{\"kind\":{\"const\":\"a\"}},\"required\":[\"kind\"]},"
         "{\"properties\":{\"kind\":{\"const\":\"b\"},\"n\":{\"type\":\"number\"}},"
         "\"required\":[\"kind\",\"n\"]}]}",
         "{\"kind\":\"c\"}",
         "args: does not match any of the 2 allowed schemas; closest is #1: "
         "args.kind: must be \"a\", got 'c'"},
        /* allOf */
        {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3", NULL},
        {"{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1",
         "args: 1 is less than the minimum 2"},
        {"{\"allOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}", "{\"a\":1}",
         "args: missing required property 'b'"},
        {"{\"allOf\":{}}", "1", "args: invalid schema at #: 'allOf' must be an array"},
        /* not */
        {"{\"not\":{\"type\":\"string\"}}", "1", NULL},
        {"{\"not\":{\"type\":\"string\"}}", "\"x\"", "args: must not match the schema in 'not'"},
        {"{\"not\":{\"anyOf\":[{\"const\":1},{\"const\":2}]}}", "2",
         "args: must not match the schema in 'not'"},
        {"{\"not\":{\"not\":{\"type\":\"string\"}}}", "\"x\"", NULL},
        {"{\"not\":true}", "1", "args: must not match the schema in 'not'"},
        {"{\"not\":false}", "1", NULL},
        /* combined with sibling keywords */
        {"{\"type\":\"object\",\"anyOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}",
         "{\"b\":1}", NULL},
        {"{\"type\":\"object\",\"anyOf\":[{\"required\":[\"a\"]},{\"required\":[\"b\"]}]}",
         "{\"c\":1}",
         "args: does not match any of the 2 allowed schemas; closest is #1: "
         "args: missing required property 'a'"},
        /* nested anyOf inside a path */
        {"{\"properties\":{\"v\":{\"anyOf\":[{\"type\":\"array\",\"items\":{\"type\":"
         "\"string\"}},{\"type\":\"string\"}]}}}",
         "{\"v\":[\"a\",1]}",
         "args.v: does not match any of the 2 allowed schemas; closest is #1: "
         "args.v[1]: expected string, got number"},
        /* nested anyOfs: the outer one and the innermost error, nothing between */
        {"{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"a\":"
         "{\"anyOf\":[{\"type\":\"null\"},{\"type\":\"object\",\"properties\":"
         "{\"b\":{\"type\":\"integer\"}}}]}}}]}",
         "{\"a\":{\"b\":\"x\"}}",
         "args: does not match any of the 2 allowed schemas; closest is #2: "
         "args.a.b: expected integer, got string"},
    };
    RUN(cases);
}

static void test_refs(void **state)
{
    static const char tree[] =
        "{\"$ref\":\"#/$defs/node\",\"$defs\":{\"node\":{\"type\":\"object\","
        "\"properties\":{\"name\":{\"type\":\"string\"},\"children\":{\"type\":\"array\","
        "\"items\":{\"$ref\":\"#/$defs/node\"}}},\"required\":[\"name\"],"
        "\"additionalProperties\":false}}}";
    static const struct tcase cases[] = {
        {"{\"definitions\":{\"pos\":{\"type\":\"integer\",\"minimum\":1}},"
         "\"properties\":{\"n\":{\"$ref\":\"#/definitions/pos\"}}}",
         "{\"n\":3}", NULL},
        {"{\"definitions\":{\"pos\":{\"type\":\"integer\",\"minimum\":1}},"
         "\"properties\":{\"n\":{\"$ref\":\"#/definitions/pos\"}}}",
         "{\"n\":0}", "args.n: 0 is less than the minimum 1"},
        {"{\"$defs\":{\"s\":{\"type\":\"string\"}},\"items\":{\"$ref\":\"#/$defs/s\"}}",
         "[\"a\",true]", "args[1]: expected string, got boolean"},
        /* the root schema itself */
        {"{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"},"
         "\"v\":{\"type\":\"integer\"}}}",
         "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":\"x\"}}}",
         "args.next.next.v: expected integer, got string"},
        /* a recursive tree */
        {tree, "{\"name\":\"root\",\"children\":[{\"name\":\"a\"},{\"name\":\"b\","
               "\"children\":[{\"name\":\"c\",\"children\":[]}]}]}",
         NULL},
        {tree, "{\"name\":\"root\",\"children\":[{\"name\":\"a\"},{\"name\":\"b\","
               "\"children\":[{\"nam\":\"c\"}]}]}",
         "args.children[1].children[0]: unknown property 'nam' (allowed: name, children)"},
        {tree, "{\"name\":\"root\",\"children\":[{\"name\":\"a\",\"children\":[{}]}]}",
         "args.children[0].children[0]: missing required property 'name'"},
        /* JSON pointer escapes: ~1 is '/', ~0 is '~', %25 is '%' */
        {"{\"$defs\":{\"a/b\":{\"const\":1},\"c~d\":{\"const\":2},\"e%f\":{\"const\":3}},"
         "\"items\":[{\"$ref\":\"#/$defs/a~1b\"},{\"$ref\":\"#/$defs/c~0d\"},"
         "{\"$ref\":\"#/$defs/e%25f\"}]}",
         "[1,2,3]", NULL},
        {"{\"$defs\":{\"a/b\":{\"const\":1}},\"items\":{\"$ref\":\"#/$defs/a~1b\"}}", "[2]",
         "args[0]: must be 1, got 2"},
        /* into arrays */
        {"{\"$defs\":{\"l\":[{\"type\":\"string\"}]},\"items\":{\"$ref\":\"#/$defs/l/0\"}}",
         "[\"x\",1]", "args[1]: expected string, got number"},
        {"{\"prefixItems\":[{\"type\":\"string\"},{\"$ref\":\"#/prefixItems/0\"}]}",
         "[\"a\",1]", "args[1]: expected string, got number"},
        /* anchors and the root $id */
        {"{\"$defs\":{\"x\":{\"$anchor\":\"pos\",\"minimum\":0}},"
         "\"items\":{\"$ref\":\"#pos\"}}",
         "[1,-1]", "args[1]: -1 is less than the minimum 0"},
        {"{\"$id\":\"https://example.com/s.json\",\"$defs\":{\"x\":{\"type\":\"string\"}},"
         "\"items\":{\"$ref\":\"https://example.com/s.json#/$defs/x\"}}",
         "[1]", "args[0]: expected string, got number"},
        /* siblings of $ref apply too */
        {"{\"$defs\":{\"s\":{\"type\":\"string\"}},\"properties\":{\"a\":"
         "{\"$ref\":\"#/$defs/s\",\"maxLength\":1}}}",
         "{\"a\":\"xy\"}", "args.a: string is too long (2 characters, maximum 1)"},
        /* errors inside the target name the $ref location */
        {"{\"$defs\":{\"s\":{\"type\":\"strin\"}},\"properties\":{\"a\":"
         "{\"$ref\":\"#/$defs/s\"}}}",
         "{\"a\":\"x\"}", "args.a: invalid schema at #/$defs/s: unknown type 'strin'"},
        {"{\"$defs\":{\"s\":{\"properties\":{\"b\":[]}}},\"properties\":{\"a\":"
         "{\"$ref\":\"#/$defs/s\"}}}",
         "{\"a\":{\"b\":1}}",
         "args.a.b: invalid schema at #/$defs/s/properties/b: "
         "expected a schema (object or boolean), got array"},
    };
    RUN(cases);
}

static void test_ref_errors(void **state)
{
    static const struct tcase cases[] = {
        {"{\"properties\":{\"a\":{\"$ref\":\"#/definitions/missing\"}}}", "{\"a\":1}",
         "args.a: invalid schema at #/properties/a: cannot resolve $ref '#/definitions/missing'"},
        /* not reached, not reported */
        {"{\"properties\":{\"a\":{\"$ref\":\"#/definitions/missing\"}}}", "{}", NULL},
        {"{\"$ref\":\"other.json#/x\"}", "1",
         "args: invalid schema at #: cannot resolve $ref 'other.json#/x'"},
        {"{\"$ref\":\"https://example.com/x.json\"}", "1",
         "args: invalid schema at #: cannot resolve $ref 'https://example.com/x.json'"},
        {"{\"$ref\":\"#nowhere\"}", "1",
         "args: invalid schema at #: cannot resolve $ref '#nowhere'"},
        {"{\"$ref\":\"#/items/5\",\"items\":[{}]}", "1",
         "args: invalid schema at #: cannot resolve $ref '#/items/5'"},
        {"{\"$ref\":\"#/items/x\",\"items\":[{}]}", "1",
         "args: invalid schema at #: cannot resolve $ref '#/items/x'"},
        {"{\"$ref\":\"#/a~2b\"}", "1", "args: invalid schema at #: cannot resolve $ref '#/a~2b'"},
        {"{\"$ref\":\"#/type/x\",\"type\":\"string\"}", "\"s\"",
         "args: invalid schema at #: cannot resolve $ref '#/type/x'"},
        {"{\"$ref\":5}", "1", "args: invalid schema at #: '$ref' must be a string"},
        /* a $ref to something that is not a schema */
        {"{\"$ref\":\"#/x\",\"x\":7}", "1",
         "args: invalid schema at #/x: expected a schema (object or boolean), got number"},
        /* loops end with an error, not a hang */
        {"{\"$ref\":\"#\"}", "1",
         "args: invalid schema at #: more than 64 nested $refs without progress "
         "(a $ref loop at '#'?)"},
        {"{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}},"
         "\"$ref\":\"#/$defs/a\"}",
         "{}",
         "args: invalid schema at #/$defs/b: more than 64 nested $refs without progress "
         "(a $ref loop at '#/$defs/a'?)"},
        {"{\"anyOf\":[{\"$ref\":\"#\"}]}", "1",
         "args: invalid schema at #/anyOf/0: more than 64 nested $refs without progress "
         "(a $ref loop at '#'?)"},
    };
    RUN(cases);
}

static void test_boolean_schemas(void **state)
{
    static const struct tcase cases[] = {
        {"true", "{\"anything\":[1,2]}", NULL},
        {"false", "1", "args: no value is allowed here (the schema is false)"},
        {"false", "null", "args: no value is allowed here (the schema is false)"},
        {"{\"properties\":{\"a\":true,\"b\":false}}", "{\"a\":1}", NULL},
        {"{\"properties\":{\"a\":true,\"b\":false}}", "{\"b\":1}",
         "args.b: no value is allowed here (the schema is false)"},
        {"{\"items\":true}", "[1,\"a\"]", NULL},
        {"{\"additionalProperties\":{\"not\":true}}", "{\"x\":1}",
         "args.x: must not match the schema in 'not'"},
        {"{\"anyOf\":[false,true]}", "1", NULL},
        {"{\"allOf\":[true,false]}", "1", "args: no value is allowed here (the schema is false)"},
    };
    RUN(cases);
}

static void test_broken_schemas(void **state)
{
    static const struct tcase cases[] = {
        {"5", "1", "args: invalid schema at #: expected a schema (object or boolean), got number"},
        {"\"object\"", "{}",
         "args: invalid schema at #: expected a schema (object or boolean), got string"},
        {"null", "{}",
         "args: invalid schema at #: expected a schema (object or boolean), got null"},
        {"{\"items\":[1]}", "[1]",
         "args[0]: invalid schema at #/items/0: expected a schema (object or boolean), got number"},
        {"{\"anyOf\":[{\"type\":\"string\"},3]}", "1",
         "args: invalid schema at #/anyOf/1: expected a schema (object or boolean), got number"},
        /* a branch after the one that matched is never reached */
        {"{\"anyOf\":[{\"type\":\"number\"},3]}", "1", NULL},
        {"{\"type\":\"strin\"}", "1", "args: invalid schema at #: unknown type 'strin'"},
        {"{\"type\":5}", "1",
         "args: invalid schema at #: 'type' must be a type name or an array of them"},
        {"{\"type\":[]}", "1", "args: invalid schema at #: 'type' is an empty array"},
        {"{\"additionalProperties\":\"no\"}", "{\"x\":1}",
         "args.x: invalid schema at #/additionalProperties: "
         "expected a schema (object or boolean), got string"},
        {"{\"properties\":{\"a/b~c\":5}}", "{\"a/b~c\":1}",
         "args[\"a/b~c\"]: invalid schema at #/properties/a~1b~0c: "
         "expected a schema (object or boolean), got number"},
        {"{\"not\":[]}", "1",
         "args: invalid schema at #/not: expected a schema (object or boolean), got array"},
        {"{\"not\":{\"$ref\":\"#/nope\"}}", "1",
         "args: invalid schema at #/not: cannot resolve $ref '#/nope'"},
        /* once reached, a broken branch is reported even if another matches */
        {"{\"anyOf\":[3,{\"type\":\"number\"}]}", "1",
         "args: invalid schema at #/anyOf/0: expected a schema (object or boolean), got number"},
        {"{\"oneOf\":[{\"type\":\"number\"},{\"$ref\":\"#/x\"}]}", "1",
         "args: invalid schema at #/oneOf/1: cannot resolve $ref '#/x'"},
    };
    RUN(cases);
}

/* The real inputSchema of server-everything's echo tool. */
static void test_real_echo(void **state)
{
    static const char echo[] =
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"message\":{\"type\":\"string\",\"description\":\"Message to echo\"}},"
        "\"required\":[\"message\"]}";
    static const struct tcase cases[] = {
        {echo, "{\"message\":\"hello\"}", NULL},
        {echo, "{\"message\":\"\"}", NULL},
        {echo, "{\"message\":\"hello\",\"extra\":1}", NULL},
        {echo, "{}", "args: missing required property 'message'"},
        {echo, "{\"mesage\":\"hello\"}", "args: missing required property 'message'"},
        {echo, "{\"message\":42}", "args.message: expected string, got number"},
        {echo, "{\"message\":null}", "args.message: expected string, got null"},
        {echo, "\"hello\"", "args: expected object, got string"},
    };
    RUN(cases);
}

/* Richer real schemas: enum, default, arrays of objects, an outputSchema. */
static void test_real_richer(void **state)
{
    static const char edit_file[] =
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"path\":{\"type\":\"string\"},\"edits\":{\"type\":\"array\","
        "\"items\":{\"type\":\"object\",\"properties\":{\"oldText\":{\"type\":\"string\","
        "\"description\":\"Text to search for - must match exactly\"},\"newText\":"
        "{\"type\":\"string\",\"description\":\"Text to replace with\"}},"
        "\"required\":[\"oldText\",\"newText\"]}},\"dryRun\":{\"default\":false,"
        "\"description\":\"Preview changes using git-style diff format\",\"type\":\"boolean\"}},"
        "\"required\":[\"path\",\"edits\"]}";
    static const char annotated[] =
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"messageType\":{\"type\":\"string\",\"enum\":[\"error\",\"success\","
        "\"debug\"],\"description\":\"Type of message\"},\"includeImage\":{\"default\":false,"
        "\"type\":\"boolean\"}},\"required\":[\"messageType\"]}";
    static const char weather_out[] =
        "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        "\"properties\":{\"temperature\":{\"type\":\"number\"},\"conditions\":{\"type\":"
        "\"string\"},\"humidity\":{\"type\":\"number\"}},\"required\":[\"temperature\","
        "\"conditions\",\"humidity\"],\"additionalProperties\":false}";
    static const char links[] =
        "{\"type\":\"object\",\"properties\":{\"count\":{\"default\":3,\"type\":\"number\","
        "\"minimum\":1,\"maximum\":10}}}";
    static const struct tcase cases[] = {
        {edit_file, "{\"path\":\"a.c\",\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\"}]}", NULL},
        {edit_file, "{\"path\":\"a.c\",\"edits\":[],\"dryRun\":true}", NULL},
        {edit_file, "{\"path\":\"a.c\",\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\"},"
                    "{\"oldText\":\"z\"}]}",
         "args.edits[1]: missing required property 'newText'"},
        {edit_file, "{\"path\":\"a.c\",\"edits\":[{\"oldText\":\"x\",\"newText\":false}]}",
         "args.edits[0].newText: expected string, got boolean"},
        {edit_file, "{\"path\":\"a.c\",\"edits\":[],\"dryRun\":\"yes\"}",
         "args.dryRun: expected boolean, got string"},
        {edit_file, "{\"edits\":[]}", "args: missing required property 'path'"},
        {annotated, "{\"messageType\":\"debug\"}", NULL},
        {annotated, "{\"messageType\":\"info\"}",
         "args.messageType: 'info' is not one of: \"error\", \"success\", \"debug\""},
        {annotated, "{\"messageType\":1}", "args.messageType: expected string, got number"},
        {links, "{\"count\":10}", NULL},
        {links, "{\"count\":11}", "args.count: 11 is greater than the maximum 10"},
        {links, "{\"count\":0.5}", "args.count: 0.5 is less than the minimum 1"},
    };
    RUN(cases);

    /* outputSchema against structuredContent, with its own root name */
    cJSON *s = parse(weather_out);
    cJSON *ok = parse("{\"temperature\":22.5,\"conditions\":\"Sunny\",\"humidity\":65}");
    cJSON *extra = parse("{\"temperature\":22.5,\"conditions\":\"Sunny\",\"humidity\":65,"
                         "\"wind\":3}");
    cJSON *bad = parse("{\"temperature\":\"hot\",\"conditions\":\"Sunny\",\"humidity\":65}");
    char *err = NULL;
    assert_int_equal(jsonschema_validate(s, ok, "structuredContent", &err), 0);
    assert_null(err);
    assert_int_equal(jsonschema_validate(s, extra, "structuredContent", &err), -1);
    assert_string_equal(err, "structuredContent: unknown property 'wind' "
                             "(allowed: temperature, conditions, humidity)");
    free(err);
    assert_int_equal(jsonschema_validate(s, bad, "structuredContent", &err), -1);
    assert_string_equal(err, "structuredContent.temperature: expected number, got string");
    free(err);
    cJSON_Delete(s);
    cJSON_Delete(ok);
    cJSON_Delete(extra);
    cJSON_Delete(bad);
}

/* Deep instances are bounded; a deep recursive schema does not hang. */
static void test_depth(void **state)
{
    static const char list[] =
        "{\"type\":\"object\",\"properties\":{\"next\":{\"$ref\":\"#\"}}}";
    struct buf b;
    char *err = NULL;

    buf_init(&b);
    for (int i = 0; i < 60; i++)
        buf_puts(&b, "{\"next\":");
    buf_puts(&b, "{}");
    for (int i = 0; i < 60; i++)
        buf_putc(&b, '}');
    assert_int_equal(validate_text(list, b.data, &err), 0);
    assert_null(err);
    buf_fini(&b);

    buf_init(&b);
    for (int i = 0; i < 100; i++)
        buf_puts(&b, "{\"next\":");
    buf_puts(&b, "{}");
    for (int i = 0; i < 100; i++)
        buf_putc(&b, '}');
    assert_int_equal(validate_text(list, b.data, &err), -1);
    assert_non_null(strstr(err, ": nested deeper than 64 levels"));
    assert_true(strncmp(err, "args.next.next.next", 19) == 0);
    free(err);
    buf_fini(&b);

    /* two $refs per level, 40 levels: the $ref count restarts at each
     * level of the value, so only loops without progress are cut */
    static const char twostep[] =
        "{\"$ref\":\"#/$defs/n\",\"$defs\":{\"n\":{\"type\":\"object\",\"properties\":"
        "{\"next\":{\"$ref\":\"#/$defs/m\"}}},\"m\":{\"$ref\":\"#/$defs/n\"}}}";
    buf_init(&b);
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "{\"next\":");
    buf_puts(&b, "{}");
    for (int i = 0; i < 40; i++)
        buf_putc(&b, '}');
    assert_int_equal(validate_text(twostep, b.data, &err), 0);
    assert_null(err);
    buf_fini(&b);

    /* a schema nested deeper than the frame limit without any $ref (built
     * by hand: cJSON_Parse stops at 1000 levels) */
    cJSON *deep = cJSON_CreateObject(), *inner = deep;
    for (int i = 0; i < 600; i++) {
        cJSON *arr = cJSON_AddArrayToObject(inner, "allOf");
        cJSON *next = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, next);
        inner = next;
    }
    cJSON *one = cJSON_CreateNumber(1);
    assert_int_equal(jsonschema_validate(deep, one, "args", &err), -1);
    assert_true(strncmp(err, "args: invalid schema at #/allOf/0/allOf/0/", 42) == 0);
    assert_non_null(strstr(err, ": schema nested deeper than 512 levels"));
    free(err);
    cJSON_Delete(deep);
    cJSON_Delete(one);
}

/* Self-references that branch would take 2^64 steps: they stop early. */
static void test_ref_fanout(void **state)
{
    static const char *const schemas[] = {
        "{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}",
        "{\"oneOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}",
        "{\"anyOf\":[{\"not\":{\"$ref\":\"#\"}},{\"$ref\":\"#\"}]}",
        "{\"allOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#\"}]}",
    };
    for (size_t i = 0; i < ARRAY_LEN(schemas); i++) {
        char *err = NULL;
        int64_t t0 = util_now_ms();
        assert_int_equal(validate_text(schemas[i], "{\"a\":1}", &err), -1);
        assert_non_null(err);
        assert_non_null(strstr(err, "invalid schema at #"));
        assert_true(strstr(err, "steps (a $ref loop?)") || strstr(err, "without progress"));
        assert_true(util_now_ms() - t0 < 10000);
        free(err);
    }

    /* Two recursive branches per level, failing at the bottom: 2^40 paths.
     * The step budget ends it. */
    static const char both[] =
        "{\"type\":\"object\",\"anyOf\":[{\"properties\":{\"a\":{\"$ref\":\"#\"}}},"
        "{\"properties\":{\"a\":{\"$ref\":\"#\"}}}]}";
    struct buf b;
    char *err = NULL;
    buf_init(&b);
    for (int i = 0; i < 40; i++)
        buf_puts(&b, "{\"a\":");
    buf_puts(&b, "1");
    for (int i = 0; i < 40; i++)
        buf_putc(&b, '}');
    assert_int_equal(validate_text(both, b.data, &err), -1);
    assert_string_equal(err, "args: invalid schema at #/anyOf/0: validation needs more than "
                             "500000 steps (recursive anyOf/oneOf, or a $ref loop?)");
    free(err);
    buf_fini(&b);

    /* the same schema on a shallow value is cheap and exact */
    assert_int_equal(validate_text(both, "{\"a\":{\"a\":{\"a\":{}}}}", &err), 0);
    assert_int_equal(validate_text(both, "{\"a\":{\"a\":{\"a\":2}}}", &err), -1);
    assert_string_equal(err, "args: does not match any of the 2 allowed schemas; closest is #1: "
                             "args.a.a.a: expected object, got number");
    free(err);
}

static void test_root_name_and_null_errmsg(void **state)
{
    cJSON *s = parse("{\"type\":\"string\"}"), *v = parse("1");
    char *err = NULL;

    assert_int_equal(jsonschema_validate(s, v, NULL, &err), -1);
    assert_string_equal(err, "$: expected string, got number");
    free(err);
    assert_int_equal(jsonschema_validate(s, v, "structuredContent", NULL), -1);

    /* anyOf needs no second run for a message nobody reads */
    cJSON *a = parse("{\"anyOf\":[{\"type\":\"string\"},{\"required\":[\"x\"]}]}");
    cJSON *o = parse("{}");
    assert_int_equal(jsonschema_validate(a, o, "args", NULL), -1);
    cJSON_Delete(a);
    cJSON_Delete(o);

    err = (char *)"junk";
    cJSON *good = parse("\"x\"");
    assert_int_equal(jsonschema_validate(s, good, "args", &err), 0);
    assert_null(err);   /* cleared on success */
    cJSON_Delete(good);

    assert_int_equal(jsonschema_validate(NULL, v, "args", &err), -1);
    assert_string_equal(err, "args: invalid schema at #: no schema");
    free(err);
    assert_int_equal(jsonschema_validate(s, NULL, "args", &err), -1);
    assert_string_equal(err, "args: no value");
    free(err);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

/* Long values are clipped in messages, on a UTF-8 boundary. */
static void test_long_values(void **state)
{
    struct buf b;
    char *err = NULL;

    buf_init(&b);
    buf_putc(&b, '"');
    for (int i = 0; i < 100; i++)
        buf_puts(&b, "\xc3\xa9");   /* é */
    buf_putc(&b, '"');
    assert_int_equal(validate_text("{\"enum\":[\"a\"]}", b.data, &err), -1);
    /* 'é×30…' — 60 bytes of text then an ellipsis */
    assert_int_equal(strncmp(err, "args: '\xc3\xa9", 9), 0);
    assert_non_null(strstr(err, "\xc3\xa9\xe2\x80\xa6' is not one of: \"a\""));
    assert_true(strlen(err) < 100);
    free(err);
    buf_fini(&b);

    /* a long enum list is cut short */
    buf_init(&b);
    buf_puts(&b, "{\"enum\":[");
    for (int i = 0; i < 200; i++)
        buf_printf(&b, "%s\"value%03d\"", i ? "," : "", i);
    buf_puts(&b, "]}");
    assert_int_equal(validate_text(b.data, "\"nope\"", &err), -1);
    assert_non_null(strstr(err, "args: 'nope' is not one of: \"value000\", \"value001\""));
    assert_non_null(strstr(err, ", \xe2\x80\xa6"));
    assert_null(strstr(err, "value199"));
    free(err);
    buf_fini(&b);
}

static void test_apply_defaults(void **state)
{
    cJSON *s = parse("{\"type\":\"object\",\"properties\":{"
                     "\"message\":{\"type\":\"string\"},"
                     "\"mode\":{\"type\":\"string\",\"enum\":[\"slow\",\"fast\"],"
                     "\"default\":\"slow\"},"
                     "\"count\":{\"type\":\"integer\",\"default\":3},"
                     "\"opts\":{\"type\":\"object\",\"default\":{\"deep\":[1,2]}},"
                     "\"flag\":{\"default\":false},"
                     "\"ref\":{\"$ref\":\"#/$defs/r\"}},"
                     "\"$defs\":{\"r\":{\"type\":\"string\",\"default\":\"from-ref\"}}}");
    cJSON *v = parse("{\"message\":\"hi\",\"count\":7}");
    char *text;

    assert_int_equal(jsonschema_apply_defaults(s, v), 4);
    text = cJSON_PrintUnformatted(v);
    assert_string_equal(text, "{\"message\":\"hi\",\"count\":7,\"mode\":\"slow\","
                              "\"opts\":{\"deep\":[1,2]},\"flag\":false,\"ref\":\"from-ref\"}");
    cJSON_free(text);
    /* the defaults are copies, and the result validates */
    assert_ptr_not_equal(cJSON_GetObjectItem(v, "opts"),
                         cJSON_GetObjectItem(cJSON_GetObjectItem(s, "properties"), "opts"));
    assert_int_equal(jsonschema_validate(s, v, "args", NULL), 0);
    /* a second run adds nothing */
    assert_int_equal(jsonschema_apply_defaults(s, v), 0);
    cJSON_Delete(v);

    /* explicit null and false are values, left alone */
    v = parse("{\"mode\":null,\"flag\":true,\"count\":false}");
    assert_int_equal(jsonschema_apply_defaults(s, v), 2);
    text = cJSON_PrintUnformatted(v);
    assert_string_equal(text, "{\"mode\":null,\"flag\":true,\"count\":false,"
                              "\"opts\":{\"deep\":[1,2]},\"ref\":\"from-ref\"}");
    cJSON_free(text);
    cJSON_Delete(v);

    /* not objects: nothing happens */
    v = parse("[1]");
    assert_int_equal(jsonschema_apply_defaults(s, v), 0);
    cJSON_Delete(v);
    cJSON_Delete(s);
    s = parse("true");
    v = parse("{}");
    assert_int_equal(jsonschema_apply_defaults(s, v), 0);
    assert_int_equal(jsonschema_apply_defaults(NULL, v), 0);
    assert_int_equal(cJSON_GetArraySize(v), 0);
    cJSON_Delete(s);

    /* the root is a $ref (zod-to-json-schema with a name) */
    s = parse("{\"$ref\":\"#/definitions/Args\",\"definitions\":{\"Args\":{"
              "\"type\":\"object\",\"properties\":{\"n\":{\"default\":1}}}}}");
    assert_int_equal(jsonschema_apply_defaults(s, v), 1);
    assert_int_equal(cJSON_GetObjectItem(v, "n")->valueint, 1);
    cJSON_Delete(s);
    cJSON_Delete(v);

    /* a $ref loop on a property ends */
    s = parse("{\"properties\":{\"a\":{\"$ref\":\"#/properties/a\"}}}");
    v = parse("{}");
    assert_int_equal(jsonschema_apply_defaults(s, v), 0);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type),
        cmocka_unit_test(test_enum_const),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_many_patterns),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_unique_many),
        cmocka_unit_test(test_work_bounded),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_nested_paths),
        cmocka_unit_test(test_combinators),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_ref_errors),
        cmocka_unit_test(test_boolean_schemas),
        cmocka_unit_test(test_broken_schemas),
        cmocka_unit_test(test_real_echo),
        cmocka_unit_test(test_real_richer),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_ref_fanout),
        cmocka_unit_test(test_root_name_and_null_errmsg),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_apply_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
