/* test_jsonw.c — jsonw writes what cJSON_PrintUnformatted writes, for
 * every JSON type, escapes, and numbers on both sides of the integer fast
 * path; and refuses what is not JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

static void same_as_cjson(const cJSON *item)
{
    char *want = cJSON_PrintUnformatted(item);
    char *got = jsonw_print(item);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    cJSON_free(want);
    free(got);
}

static void test_documents(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "{}",
        "[]",
        "null",
        "true",
        "{\"a\":[1,2,{\"b\":null,\"c\":false}],\"d\":\"x\"}",
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"hi\"}}}",
        "[\"quote \\\" backslash \\\\ slash / nl \\n tab \\t cr \\r bs \\b ff \\f\"]",
        "[\"\\u0001\\u001f\\u007f é 日本 \\ud83d\\ude00\"]",
        "[0,-1,42,-2147483648,2147483648,999999999999999,1000000000000000,"
        "-1000000000000000,1e300,-1e-300,0.1,0.30000000000000004,3.14159,-0.0,"
        "123456789.125,9007199254740993]",
        "[[[[[[]]]]],{\"\":{\"\":\"\"}}]",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cJSON *j = cJSON_Parse(docs[i]);
        assert_non_null(j);
        same_as_cjson(j);
        cJSON_Delete(j);
    }
}

static void test_built_numbers(void **state)
{
    (void)state;
    const double vals[] = {0, 1, -7, 1e14, 1e15 - 1, 1e15, 2.5, -2.5, 1.0 / 3, 6.02e23, -0.0};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        cJSON *n = cJSON_CreateNumber(vals[i]);
        same_as_cjson(n);
        cJSON_Delete(n);
    }
    /* not numbers JSON can hold: written as null, as cJSON does */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(NAN));
    cJSON_AddItemToArray(a, cJSON_CreateNumber(INFINITY));
    char *got = jsonw_print(a);
    assert_string_equal(got, "[null,null]");
    free(got);
    cJSON_Delete(a);
}

static void test_raw_and_refs(void **state)
{
    (void)state;
    cJSON *inner = cJSON_Parse("{\"k\":[1,\"v\"]}");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(o, "ref", inner);
    cJSON_AddRawToObject(o, "raw", "{\"r\":1}");
    same_as_cjson(o);
    cJSON_Delete(o);
    cJSON_Delete(inner);
}

static void test_refuses(void **state)
{
    (void)state;
    assert_null(jsonw_print(NULL));
    cJSON *bad = cJSON_CreateObject();
    bad->type = cJSON_Invalid;
    assert_null(jsonw_print(bad));
    cJSON_Delete(bad);
    struct buf b;
    buf_init(&b);
    jsonw_int(&b, -9223372036854775807LL - 1);
    assert_string_equal(b.data, "-9223372036854775808");
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_built_numbers),
        cmocka_unit_test(test_raw_and_refs),
        cmocka_unit_test(test_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
