/* test_redact.c — secret redaction: registering values (length floor,
 * duplicates, env vars, the environment scan and its name rule), every
 * text rule as a table of inputs and expected outputs (secrets, headers,
 * JSON members, Bearer/Basic, query parameters, URL userinfo) with the
 * texts that must stay untouched, idempotence, embedded NULs, hostile
 * input that must stay linear, and redact_json over nested documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "util.h"

#define SECRET1 "sk-or-v1-abcdef123456"
#define SECRET2 "hunter2hunter2"

static int setup(void **state)
{
    redact_reset();
    assert_int_equal(redact_add(SECRET1), 1);
    assert_int_equal(redact_add(SECRET2), 1);
    return 0;
}

static int teardown(void **state)
{
    redact_reset();
    return 0;
}

static void check_text(const char *in, const char *want)
{
    size_t outlen = 12345;
    char *got = redact_text(in, strlen(in), &outlen);
    if (strcmp(got, want) != 0)
        fail_msg("redact_text(%s)\n  got:  %s\n  want: %s", in, got, want);
    assert_int_equal(outlen, strlen(want));
    /* Running it again over its own output changes nothing. */
    char *again = redact_text(got, outlen, NULL);
    assert_string_equal(again, got);
    free(again);
    free(got);
}

/* === Registration === */

static void test_add_rules(void **state)
{
    assert_int_equal(redact_add(NULL), 0);
    assert_int_equal(redact_add(""), 0);
    assert_int_equal(redact_add("12345"), 0);     /* below REDACT_MIN_SECRET */
    assert_int_equal(redact_add("123456"), 1);
    assert_int_equal(redact_add("123456"), 0);    /* already there */
    assert_int_equal(redact_add(SECRET1), 0);
    check_text("pin 12345 and 123456", "pin 12345 and [REDACTED]");

    redact_reset();
    check_text("pin 123456 " SECRET1, "pin 123456 " SECRET1);
}

static void test_add_env(void **state)
{
    setenv("MCPDECK_TEST_REDACT_VAR", "env-value-42", 1);
    unsetenv("MCPDECK_TEST_REDACT_UNSET");
    assert_int_equal(redact_add_env("MCPDECK_TEST_REDACT_VAR"), 1);
    assert_int_equal(redact_add_env("MCPDECK_TEST_REDACT_UNSET"), 0);
    assert_int_equal(redact_add_env(NULL), 0);
    check_text("got env-value-42!", "got [REDACTED]!");
    unsetenv("MCPDECK_TEST_REDACT_VAR");
}

static void test_env_name_rule(void **state)
{
    static const struct {
        const char *name;
        int secret;
    } cases[] = {
        {"OPENROUTER_API_KEY", 1}, {"GITHUB_TOKEN", 1}, {"DB_PASSWORD", 1},
        {"MY_PASSWD", 1}, {"AWS_SECRET_ACCESS_KEY", 1}, {"GOOGLE_APPLICATION_CREDENTIALS", 1},
        {"AUTH_HEADER", 1}, {"auth_basic", 1}, {"x_api_key", 1}, {"Slack_Bot_Token", 1},
        {"PATH", 0}, {"HOME", 0}, {"TERM", 0}, {"SSH_AUTH_SOCK", 0}, {"XAUTHORITY", 0},
        {"LANG", 0}, {"", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (redact_env_name_is_secret(cases[i].name) != cases[i].secret)
            fail_msg("redact_env_name_is_secret(%s) != %d", cases[i].name, cases[i].secret);
    assert_int_equal(redact_env_name_is_secret(NULL), 0);
}

static void test_scan_environ(void **state)
{
    redact_reset();
    setenv("X_API_KEY", "x-api-key-value-777", 1);
    setenv("MCPDECK_TEST_PLAIN", "plain-value-888", 1);
    setenv("MCPDECK_TEST_TOKEN", "tiny", 1);        /* too short to register */
    int added = redact_scan_environ();
    assert_true(added >= 1);
    assert_int_equal(redact_scan_environ(), 0);     /* nothing new the second time */

    const char *path = getenv("PATH");
    assert_non_null(path);
    char *in = xasprintf("k=x-api-key-value-777 p=plain-value-888 t=tiny path=%s", path);
    char *want = xasprintf("k=[REDACTED] p=plain-value-888 t=tiny path=%s", path);
    check_text(in, want);
    free(in);
    free(want);
    unsetenv("X_API_KEY");
    unsetenv("MCPDECK_TEST_PLAIN");
    unsetenv("MCPDECK_TEST_TOKEN");
}

/* === Text rules === */

struct text_case {
    const char *in;
    const char *want;   /* NULL: unchanged */
};

static void run_cases(const struct text_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_text(cases[i].in, cases[i].want ? cases[i].want : cases[i].in);
}

static void test_registered_secrets(void **state)
{
    static const struct text_case cases[] = {
        {"key is " SECRET1 " ok", "key is [REDACTED] ok"},
        {"A " SECRET1 " B " SECRET2 " C " SECRET1, "A [REDACTED] B [REDACTED] C [REDACTED]"},
        {SECRET1, "[REDACTED]"},
        {SECRET1 SECRET2, "[REDACTED]"},                 /* adjacent ranges merge */
        {"{\"out\":\"" SECRET2 "\"}", "{\"out\":\"[REDACTED]\"}"},
        {"sk-or-v1-abcdef12345", NULL},                  /* a prefix is not the secret */
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_headers(void **state)
{
    static const struct text_case cases[] = {
        {"Authorization: Bearer abc.def.ghi\nHost: x",
         "Authorization: Bearer [REDACTED]\nHost: x"},
        {"authorization: token123abc", "authorization: [REDACTED]"},
        {"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n",
         "Proxy-Authorization: Basic [REDACTED]\r\n"},
        {"x-api-key: abcdef", "x-api-key: [REDACTED]"},
        {"API-KEY:abc", "API-KEY:[REDACTED]"},
        {"Cookie: a=1; b=2\r\nAccept: */*", "Cookie: [REDACTED]\r\nAccept: */*"},
        {"Set-Cookie: sid=xyz; Path=/; HttpOnly  \nnext", "Set-Cookie: [REDACTED]  \nnext"},
        {"curl -H 'Authorization: Bearer tok_12345678' https://x",
         "curl -H 'Authorization: Bearer [REDACTED]' https://x"},
        {"curl -H \"x-api-key: k1\" -d @f", "curl -H \"x-api-key: [REDACTED]\" -d @f"},
        /* a header inside a JSON string stops at its closing quote */
        {"{\"h\":\"Authorization: Bearer abcdefgh1\",\"ok\":true}",
         "{\"h\":\"Authorization: Bearer [REDACTED]\",\"ok\":true}"},
        {"{\"e\":\"Cookie: a=b\\r\\nHost: h\"}", "{\"e\":\"Cookie: [REDACTED]\\r\\nHost: h\"}"},
        {"Authorization:", NULL},
        {"Authorization: \n", NULL},
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_json_members(void **state)
{
    static const struct text_case cases[] = {
        {"{\"authorization\": \"Bearer abc123456\", \"n\": 1}",
         "{\"authorization\": \"Bearer [REDACTED]\", \"n\": 1}"},
        {"{\"Cookie\":\"a=\\\"b\\\"\",\"x\":2}", "{\"Cookie\":\"[REDACTED]\",\"x\":2}"},
        {"{\"password\" : \"p\\\\\",\"x\":2}", "{\"password\" : \"[REDACTED]\",\"x\":2}"},
        {"{\"api_key\":\"abc\",\"access_token\":\"t\",\"client_secret\":\"s\"}",
         "{\"api_key\":\"[REDACTED]\",\"access_token\":\"[REDACTED]\","
         "\"client_secret\":\"[REDACTED]\"}"},
        /* JSON inside a JSON string */
        {"{\"body\":\"{\\\"api_key\\\":\\\"abc123\\\",\\\"n\\\":1}\"}",
         "{\"body\":\"{\\\"api_key\\\":\\\"[REDACTED]\\\",\\\"n\\\":1}\"}"},
        /* not strings: left alone by the text rule */
        {"{\"password\": null, \"cookie\": 12}", NULL},
        /* generic names are ordinary data as JSON members */
        {"{\"key\": \"architecture\", \"token\": \"Hello\", \"sig\": \"x\"}", NULL},
        {"{\"api_key_hint\": \"use env\"}", NULL},
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_bearer_basic(void **state)
{
    static const struct text_case cases[] = {
        {"use Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc here", "use Bearer [REDACTED] here"},
        {"bearer sk-abcdefgh.", "bearer [REDACTED]."},
        {"BEARER ghp_0123456789abcdef", "BEARER [REDACTED]"},
        {"Basic dXNlcjpwYXNzd29yZA==", "Basic [REDACTED]"},
        {"(Basic QWxhZGRpbjpvcGVu)", "(Basic [REDACTED])"},
        {"Basic usage: see the Bearer authentication section.", NULL},
        {"a Bearer token, Basic settings, bearer Authentication.", NULL},
        {"Basic abc1", NULL},                       /* too short */
        {"Basic dXNlcjpwYXN", NULL},                /* not a multiple of 4 */
        {"Bearer\nabcdef123456", NULL},             /* not on the same line */
        {"subbasic dXNlcjpwYXNzd29yZA==", NULL},    /* not a word of its own */
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_query_params(void **state)
{
    static const struct text_case cases[] = {
        {"GET https://api.x.com/v1?api_key=abc123&page=2 HTTP/1.1",
         "GET https://api.x.com/v1?api_key=[REDACTED]&page=2 HTTP/1.1"},
        {"https://x/y?a=1&token=zzz#frag", "https://x/y?a=1&token=[REDACTED]#frag"},
        {"https://h/?KEY=abc", "https://h/?KEY=[REDACTED]"},
        {"'https://h/?access_token=a.b.c'", "'https://h/?access_token=[REDACTED]'"},
        {"https://b.blob/x?sv=1&sig=abc%2Bdef&se=2030", "https://b.blob/x?sv=1&sig=[REDACTED]&se=2030"},
        {"u?refresh_token=r1&apikey=a2&secret=s3&password=p4&signature=s5&auth=a6",
         "u?refresh_token=[REDACTED]&apikey=[REDACTED]&secret=[REDACTED]&password=[REDACTED]"
         "&signature=[REDACTED]&auth=[REDACTED]"},
        {"[link](https://h/p?key=k123)", "[link](https://h/p?key=[REDACTED])"},
        {"{\"url\":\"https://h/?token=t\\\"x\"}", "{\"url\":\"https://h/?token=[REDACTED]\\\"x\"}"},
        {"https://example.com/search?q=key&page=2", NULL},
        {"https://h/?keys=2&tokens=3&monkey=4", NULL},
        {"https://h/?key=&x=1", NULL},                  /* empty value */
        {"set key=value in the config", NULL},          /* not a query */
        {"a=b&c=d", NULL},
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_userinfo(void **state)
{
    static const struct text_case cases[] = {
        {"postgres://admin:s3cr3t@db:5432/app", "postgres://admin:[REDACTED]@db:5432/app"},
        {"redis://:pw123@localhost", "redis://:[REDACTED]@localhost"},
        {"git clone https://user:ghp_xyz@github.com/a/b.git",
         "git clone https://user:[REDACTED]@github.com/a/b.git"},
        {"\"https://u:p@ss@h/\"", "\"https://u:[REDACTED]@h/\""},
        {"https://user@example.com/path", NULL},
        {"http://localhost:8080/api", NULL},
        {"http://h/p?x=a:b@c", NULL},                   /* '@' is past the authority */
        {"see ://x:y@z", NULL},                         /* no scheme */
    };
    run_cases(cases, ARRAY_LEN(cases));
}

static void test_ordinary_text(void **state)
{
    static const struct text_case cases[] = {
        {"", NULL},
        {"The key to this design is a token bucket; press any key.", NULL},
        {"Pass the key: it is in the drawer. Secret: none. Token: word", NULL},
        {"time: 12:30:45, ratio=3/4, a == b", NULL},
        {"the cookie jar has no colon", NULL},
        {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\","
         "\"text\":\"hello: world\"}]}}", NULL},
        {"http://example.com/a?b=c&d=e#f", NULL},
        {"caf\xc3\xa9 \xff\xfe binary: \x01\x02", NULL},
    };
    run_cases(cases, ARRAY_LEN(cases));
}

/* JSON texts keep their structure: the redacted text still parses. */
static void test_json_text_stays_json(void **state)
{
    static const char *docs[] = {
        "{\"authorization\":\"Bearer abcdefgh123\",\"headers\":[\"Cookie: a=b\"],"
        "\"url\":\"https://u:pw@h/?token=t&x=1\",\"t\":\"" SECRET1 "\"}",
        "{\"body\":\"{\\\"password\\\":\\\"p\\\\\\\"q\\\"}\",\"after\":1}",
        "[\"Basic dXNlcjpwYXNzd29yZA==\",{\"x-api-key\":\"k\"}]",
    };
    for (size_t i = 0; i < ARRAY_LEN(docs); i++) {
        char *out = redact_string(docs[i]);
        assert_string_not_equal(out, docs[i]);
        cJSON *j = cJSON_Parse(out);
        if (!j)
            fail_msg("not JSON after redaction: %s", out);
        cJSON_Delete(j);
        free(out);
    }
    assert_null(redact_string(NULL));
}

static void test_embedded_nul(void **state)
{
    static const char in[] = "ab\0" SECRET1 "\0cd";
    size_t outlen;
    char *out = redact_text(in, sizeof in - 1, &outlen);
    static const char want[] = "ab\0[REDACTED]\0cd";
    assert_int_equal(outlen, sizeof want - 1);
    assert_memory_equal(out, want, sizeof want);   /* with the final NUL */
    free(out);
    out = redact_text(NULL, 0, &outlen);
    assert_int_equal(outlen, 0);
    assert_string_equal(out, "");
    free(out);
}

/* Large and hostile inputs: correct and linear (a quadratic scan of these
 * would take minutes, the bound is generous for sanitizers and busy
 * machines). */
static void test_large_inputs(void **state)
{
    struct buf b;
    buf_init(&b);
    while (b.len < (4u << 20))
        buf_puts(&b, "{\"name\":\"file.txt\",\"size\":1234,\"url\":\"https://h/a?b=c&d=e\"},\n");
    int64_t t0 = util_now_ms();
    size_t outlen;
    char *out = redact_text(b.data, b.len, &outlen);
    assert_int_equal(outlen, b.len);
    assert_memory_equal(out, b.data, b.len);
    free(out);

    /* One header value swallowing a long line full of header names. */
    buf_fini(&b);
    buf_puts(&b, "x ");
    for (int i = 0; i < 200000; i++)
        buf_puts(&b, "cookie:");
    out = redact_text(b.data, b.len, &outlen);
    assert_string_equal(out, "x cookie:[REDACTED]");
    free(out);

    buf_fini(&b);
    for (int i = 0; i < 200000; i++)
        buf_puts(&b, "?key=");
    out = redact_text(b.data, b.len, NULL);
    assert_string_equal(out, "?key=[REDACTED]");
    free(out);

    buf_fini(&b);
    for (int i = 0; i < 100000; i++)
        buf_puts(&b, "a://b:");
    out = redact_text(b.data, b.len, &outlen);
    assert_int_equal(outlen, b.len);
    free(out);
    buf_fini(&b);
    assert_true(util_now_ms() - t0 < 20000);
}

/* === JSON documents === */

static void test_redact_json(void **state)
{
    const char *doc =
        "{\"headers\":{\"Authorization\":\"Bearer abcdefgh123\",\"Accept\":\"json\"},"
        " \"list\":[\"plain\",\"has " SECRET1 " inside\","
        "   {\"password\":1234,\"deep\":[\"https://u:p4ss@h/x\",[\"" SECRET2 "\"]]}],"
        " \"api_key\":\"k\",\"key\":\"architecture\",\"token\":\"Hello\","
        " \"n\":5,\"ok\":true,\"nil\":null,\"cookie\":null}";
    cJSON *j = cJSON_Parse(doc);
    assert_non_null(j);
    assert_int_equal(redact_json(j), 6);

    cJSON *h = cJSON_GetObjectItem(j, "headers");
    assert_string_equal(cJSON_GetObjectItem(h, "Authorization")->valuestring, REDACT_MARK);
    assert_string_equal(cJSON_GetObjectItem(h, "Accept")->valuestring, "json");
    cJSON *list = cJSON_GetObjectItem(j, "list");
    assert_string_equal(cJSON_GetArrayItem(list, 0)->valuestring, "plain");
    assert_string_equal(cJSON_GetArrayItem(list, 1)->valuestring, "has [REDACTED] inside");
    cJSON *obj = cJSON_GetArrayItem(list, 2);
    cJSON *pw = cJSON_GetObjectItem(obj, "password");
    assert_true(cJSON_IsString(pw));
    assert_string_equal(pw->valuestring, REDACT_MARK);
    cJSON *deep = cJSON_GetObjectItem(obj, "deep");
    assert_string_equal(cJSON_GetArrayItem(deep, 0)->valuestring, "https://u:[REDACTED]@h/x");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(deep, 1), 0)->valuestring,
                        REDACT_MARK);
    assert_string_equal(cJSON_GetObjectItem(j, "api_key")->valuestring, REDACT_MARK);
    assert_string_equal(cJSON_GetObjectItem(j, "key")->valuestring, "architecture");
    assert_string_equal(cJSON_GetObjectItem(j, "token")->valuestring, "Hello");
    assert_int_equal(cJSON_GetObjectItem(j, "n")->valueint, 5);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ok")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "cookie")));

    /* Idempotent, and still a document that prints and parses. */
    assert_int_equal(redact_json(j), 0);
    char *text = cJSON_PrintUnformatted(j);
    assert_null(strstr(text, SECRET1));
    assert_null(strstr(text, SECRET2));
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    cJSON_Delete(back);
    cJSON_free(text);
    cJSON_Delete(j);

    /* A lone string, references, NULL. */
    cJSON *s = cJSON_CreateString("x " SECRET2);
    assert_int_equal(redact_json(s), 1);
    assert_string_equal(s->valuestring, "x [REDACTED]");
    cJSON_Delete(s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "ref", cJSON_CreateStringReference(SECRET1));
    cJSON_AddItemToObject(o, "secret", cJSON_CreateStringReference("value"));
    assert_int_equal(redact_json(o), 2);
    assert_string_equal(cJSON_GetObjectItem(o, "ref")->valuestring, REDACT_MARK);
    assert_string_equal(cJSON_GetObjectItem(o, "secret")->valuestring, REDACT_MARK);
    cJSON_Delete(o);
    assert_int_equal(redact_json(NULL), 0);

    /* Member names go through the same rules: a document keyed by its
     * tokens keeps none of them. */
    cJSON *keyed = cJSON_Parse("{\"" SECRET1 "\":{\"user\":\"ada\"},\"tok " SECRET2 "\":1,"
                               "\"plain\":2}");
    assert_non_null(keyed);
    assert_int_equal(redact_json_needed(keyed), 1);
    assert_int_equal(redact_json(keyed), 2);
    text = cJSON_PrintUnformatted(keyed);
    assert_string_equal(text, "{\"[REDACTED]\":{\"user\":\"ada\"},\"tok [REDACTED]\":1,"
                              "\"plain\":2}");
    cJSON_free(text);
    assert_int_equal(redact_json(keyed), 0);
    cJSON_Delete(keyed);
}

/* redact_json_needed answers exactly whether redact_json would change a
 * document: checked on documents that need it in one place only (each
 * kind of trigger), on clean ones that look close, and on their redacted
 * copies (already redacted: nothing more to do). */
static void test_redact_json_needed(void **state)
{
    const char *dirty[] = {
        "{\"a\":[1,{\"b\":\"has " SECRET1 " inside\"}]}",
        "{\"headers\":{\"Authorization\":\"Bearer abcdefgh123\"}}",
        "{\"x\":{\"password\":1234}}",
        "[\"https://u:p4ss@h/x\"]",
        "{\"url\":\"https://h/x?access_token=zz9xq8wv7u&b=1\"}",
        "\"" SECRET2 "\"",
        "{\"" SECRET2 "\":1}",
        /* a secret glued to a scheme word: "Bearer" is a word only once
         * the secret before it is a mark; that is redacted too, at once */
        "[\"" SECRET2 "Bearer tok3n-abc123\"]",
    };
    const char *clean[] = {
        "{\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"Echo: hi\"}]}}",
        "{\"key\":\"architecture\",\"token\":\"Hello\",\"n\":5,\"ok\":true}",
        "{\"password\":\"" REDACT_MARK "\",\"cookie\":null}",
        "[\"a: b\",\"x = y\",\"basic idea\",\"Bearer\"]",
        "null",
    };
    for (size_t i = 0; i < sizeof dirty / sizeof *dirty; i++) {
        cJSON *j = cJSON_Parse(dirty[i]);
        assert_non_null(j);
        if (!redact_json_needed(j))
            fail_msg("dirty[%zu] not seen as needing redaction", i);
        cJSON *copy = cJSON_Duplicate(j, 1);
        assert_true(redact_json(copy) > 0);
        assert_int_equal(redact_json_needed(copy), 0);
        cJSON_Delete(copy);
        cJSON_Delete(j);
    }
    for (size_t i = 0; i < sizeof clean / sizeof *clean; i++) {
        cJSON *j = cJSON_Parse(clean[i]);
        assert_non_null(j);
        if (redact_json_needed(j))
            fail_msg("clean[%zu] seen as needing redaction", i);
        assert_int_equal(redact_json(j), 0);
        cJSON_Delete(j);
    }
    assert_int_equal(redact_json_needed(NULL), 0);
}

static void test_key_names(void **state)
{
    static const struct {
        const char *key;
        int secret;
    } cases[] = {
        {"authorization", 1}, {"Proxy-Authorization", 1}, {"API-KEY", 1}, {"x-api-key", 1},
        {"Cookie", 1}, {"set-cookie", 1}, {"access_token", 1}, {"refresh_token", 1},
        {"api_key", 1}, {"apikey", 1}, {"client_secret", 1}, {"secret", 1},
        {"password", 1}, {"passwd", 1}, {"key", 0}, {"token", 0}, {"sig", 0},
        {"signature", 0}, {"auth", 0}, {"progressToken", 0}, {"", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (redact_key_is_secret(cases[i].key) != cases[i].secret)
            fail_msg("redact_key_is_secret(%s) != %d", cases[i].key, cases[i].secret);
    assert_int_equal(redact_key_is_secret(NULL), 0);
}

/* A child's environment: ours without the secrets, then its own. */
static void test_child_env(void **state)
{
    setenv("TCE_API_KEY", "sk-child-env-test-1", 1);
    setenv("TCE_LISTED", "listed-value-2", 1);
    setenv("TCE_PLAIN", "plain-value-3", 1);
    setenv("TCE_OVERRIDE", "ours", 1);
    char *hide[] = {"TCE_LISTED"};
    char *extra[] = {"TCE_OVERRIDE=theirs", "TCE_GIVEN=sk-given-on-purpose"};
    struct buf hidden;
    buf_init(&hidden);
    char **v = redact_child_env(hide, 1, extra, 2, &hidden);
    int plain = 0, override = 0, given = 0, path = 0;
    for (char **e = v; *e; e++) {
        assert_false(strncmp(*e, "TCE_API_KEY=", 12) == 0);   /* looks secret */
        assert_false(strncmp(*e, "TCE_LISTED=", 11) == 0);    /* listed */
        assert_false(strcmp(*e, "TCE_OVERRIDE=ours") == 0);   /* replaced */
        plain += strcmp(*e, "TCE_PLAIN=plain-value-3") == 0;
        override += strcmp(*e, "TCE_OVERRIDE=theirs") == 0;
        given += strcmp(*e, "TCE_GIVEN=sk-given-on-purpose") == 0;
        path += strncmp(*e, "PATH=", 5) == 0;
    }
    assert_int_equal(plain, 1);
    assert_int_equal(override, 1);
    assert_int_equal(given, 1);                               /* given: kept */
    assert_int_equal(path, getenv("PATH") ? 1 : 0);
    free(v);
    /* the names left out, for the server's log (values never) */
    assert_non_null(strstr(hidden.data, "TCE_API_KEY"));
    assert_non_null(strstr(hidden.data, "TCE_LISTED"));
    assert_null(strstr(hidden.data, "TCE_PLAIN"));
    assert_null(strstr(hidden.data, "sk-child-env-test-1"));
    buf_fini(&hidden);
    unsetenv("TCE_API_KEY");
    unsetenv("TCE_LISTED");
    unsetenv("TCE_PLAIN");
    unsetenv("TCE_OVERRIDE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_env, setup, teardown),
        cmocka_unit_test(test_env_name_rule),
        cmocka_unit_test_setup_teardown(test_scan_environ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registered_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_members, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_userinfo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ordinary_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_text_stays_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_embedded_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redact_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redact_json_needed, setup, teardown),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_child_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
