/* test_builtin_fs.c — the built-in fs server's tools, called through the
 * builtin_fs table against a temporary tree: reads with ranges and caps,
 * listings, searches, refusals at the jail, argument errors, schemas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "util.h"

struct tree {
    char *root;
    char *outside;
    struct builtin_ctx ctx;
};

static const char hello[] = "line1\nline2\nline3\nline4\nline5\n";

static void write_bytes(const char *dir, const char *name, const char *data, size_t len)
{
    char *p = xasprintf("%s/%s", dir, name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    assert_int_equal(util_mkdirs(p, 0755), 0);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    write_bytes(dir, name, text, strlen(text));
}

static void make_link(const char *dir, const char *name, const char *target)
{
    char *p = xasprintf("%s/%s", dir, name);
    assert_int_equal(symlink(target, p), 0);
    free(p);
}

static char *make_temp_dir(void)
{
    char tmpl[] = "/tmp/mcpdeck-fs.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char *real = realpath(tmpl, NULL);
    assert_non_null(real);
    return real;
}

static int setup(void **state)
{
    struct tree *t = xcalloc(1, sizeof *t);
    t->root = make_temp_dir();
    t->outside = make_temp_dir();
    t->ctx.root = t->root;
    const char *r = t->root;

    write_file(r, "hello.txt", hello);
    write_file(r, "noeol.txt", "a\nb");
    write_bytes(r, "bin.dat", "abc\0def", 7);

    /* Text for 9000 bytes, then a NUL: past the 8 KiB probe. */
    char *late = xmalloc(9010);
    memset(late, 'a', 9010);
    late[100] = '\n';
    late[9000] = '\0';
    write_bytes(r, "late_nul.txt", late, 9010);
    free(late);

    /* 5 MiB of short lines: over the 4 MiB cap. */
    struct buf big;
    buf_init(&big);
    for (int i = 1; big.len < 5u * 1024 * 1024; i++)
        buf_printf(&big, "big line %07d\n", i);
    write_bytes(r, "big.txt", big.data, big.len);
    buf_fini(&big);

    struct buf many;
    buf_init(&many);
    for (int i = 1; i <= 50; i++)
        buf_printf(&many, "match %d\n", i);
    write_file(r, "many.txt", many.data);
    buf_fini(&many);

    char longline[700];
    memcpy(longline, "needle", 6);
    memset(longline + 6, 'z', sizeof longline - 7);
    longline[sizeof longline - 1] = '\0';
    write_file(r, "long/long.txt", longline);

    write_file(r, "src/main.c", "int main(void)\n{\n    return 0; // TODO fix\n}\n");
    write_file(r, "src/util.c", "// todo: later\nstatic int x;\n");
    write_file(r, "src/util.h", "TODO header\n");
    write_bytes(r, "src/bin.o", "TODO\0", 5);
    write_file(r, "build/gen.c", "TODO generated\n");
    write_file(r, "node_modules/m.js", "TODO module\n");
    write_file(r, ".git/config", "TODO git\n");
    char *empty = xasprintf("%s/empty", r);
    assert_int_equal(util_mkdirs(empty, 0755), 0);
    free(empty);

    write_file(t->outside, "secret.txt", "TODO secret\n");
    make_link(r, "link_in", "hello.txt");
    make_link(r, "link_etc", "/etc");
    make_link(r, "link_passwd", "/etc/passwd");
    make_link(r, "link_outdir", t->outside);
    *state = t;
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int teardown(void **state)
{
    struct tree *t = *state;
    nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(t->outside, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(t->root);
    free(t->outside);
    free(t);
    return 0;
}

/* === Helpers === */

static const struct builtin_tool *tool(const char *name)
{
    for (size_t i = 0; i < builtin_fs.ntools; i++)
        if (strcmp(builtin_fs.tools[i].name, name) == 0)
            return &builtin_fs.tools[i];
    fail_msg("no tool %s in builtin_fs", name);
    return NULL;
}

/* Call tool name with args_json (NULL = no arguments). */
static cJSON *call(const struct tree *t, const char *name, const char *args_json)
{
    cJSON *args = NULL;
    if (args_json) {
        args = cJSON_Parse(args_json);
        assert_non_null(args);
    }
    cJSON *r = tool(name)->call(&t->ctx, args);
    cJSON_Delete(args);
    assert_non_null(r);
    return r;
}

static int is_error(const cJSON *r)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "isError");
    assert_true(cJSON_IsBool(e));
    return cJSON_IsTrue(e);
}

static const char *text_of(const cJSON *r)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(r, "content");
    assert_true(cJSON_IsArray(content));
    assert_int_equal(cJSON_GetArraySize(content), 1);
    const cJSON *block = cJSON_GetArrayItem(content, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(block, "type")->valuestring, "text");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(block, "text");
    assert_true(cJSON_IsString(text));
    return text->valuestring;
}

/* The call must succeed with exactly want as text. */
static void expect_text(const struct tree *t, const char *name, const char *args,
                        const char *want)
{
    cJSON *r = call(t, name, args);
    if (is_error(r))
        fail_msg("%s %s failed: %s", name, args, text_of(r));
    assert_string_equal(text_of(r), want);
    cJSON_Delete(r);
}

/* The call must fail (isError) with a message holding needle and needle2. */
static void expect_error(const struct tree *t, const char *name, const char *args,
                         const char *needle, const char *needle2)
{
    cJSON *r = call(t, name, args);
    const char *text = text_of(r);
    if (!is_error(r))
        fail_msg("%s %s succeeded: %s", name, args ? args : "(null)", text);
    if (!strstr(text, needle) || (needle2 && !strstr(text, needle2)))
        fail_msg("%s %s: \"%s\" lacks \"%s\" / \"%s\"", name, args ? args : "(null)", text,
                 needle, needle2 ? needle2 : "");
    cJSON_Delete(r);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* === Tests === */

static void test_table_and_schemas(void **state)
{
    static const struct {
        const char *name, *required;      /* required: comma-separated */
        unsigned hints;
    } want[] = {
        {"read_text_file", "path", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"list_directory", "path", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"search", "pattern", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"grep", "pattern", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"directory_tree", "", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"glob", "pattern", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"get_file_info", "path", BUILTIN_READ_ONLY | BUILTIN_IDEMPOTENT},
        {"write_file", "path,content", BUILTIN_DESTRUCTIVE | BUILTIN_IDEMPOTENT},
        {"edit_file", "path,old_text,new_text", BUILTIN_DESTRUCTIVE},
        {"move_file", "source,destination", BUILTIN_DESTRUCTIVE},
        {"create_directory", "path", BUILTIN_IDEMPOTENT},
    };
    assert_string_equal(builtin_fs.name, "fs");
    assert_non_null(builtin_fs.version);
    assert_int_equal(builtin_fs.ntools, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const struct builtin_tool *bt = tool(want[i].name);
        assert_non_null(bt->call);
        assert_true(strlen(bt->description) > 20);
        if (bt->hints != want[i].hints)
            fail_msg("%s: hints %u, want %u", bt->name, bt->hints, want[i].hints);
        cJSON *s = cJSON_Parse(bt->input_schema);
        if (!s)
            fail_msg("schema of %s does not parse", bt->name);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(s, "type")->valuestring, "object");
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        assert_true(cJSON_IsObject(props));
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
        struct buf got;
        buf_init(&got);
        buf_puts(&got, "");
        const cJSON *q;
        cJSON_ArrayForEach(q, req) {
            buf_printf(&got, "%s%s", got.len ? "," : "", q->valuestring);
            assert_non_null(cJSON_GetObjectItemCaseSensitive(props, q->valuestring));
        }
        if (strcmp(got.data, want[i].required) != 0)
            fail_msg("%s requires '%s', want '%s'", bt->name, got.data, want[i].required);
        buf_fini(&got);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "additionalProperties")));
        const cJSON *p;
        cJSON_ArrayForEach(p, props) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");
            assert_true(cJSON_IsString(type));
            assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "description")));
        }
        cJSON_Delete(s);
    }
}

static void test_read_full(void **state)
{
    struct tree *t = *state;
    expect_text(t, "read_text_file", "{\"path\":\"hello.txt\"}", hello);
    expect_text(t, "read_text_file", "{\"path\":\"noeol.txt\"}", "a\nb");
    expect_text(t, "read_text_file", "{\"path\":\"./src/../link_in\"}", hello);
    char *abs = xasprintf("{\"path\":\"%s/src/util.h\"}", t->root);
    expect_text(t, "read_text_file", abs, "TODO header\n");
    free(abs);
}

static void test_read_ranges(void **state)
{
    struct tree *t = *state;
    const char *rt = "read_text_file";
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"head\":2}", "line1\nline2\n");
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"tail\":2}", "line4\nline5\n");
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"tail\":99}", hello);
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"head\":99}", hello);
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"start_line\":2,\"end_line\":3}",
                "line2\nline3\n");
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"start_line\":4}", "line4\nline5\n");
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"end_line\":1}", "line1\n");
    expect_text(t, rt, "{\"path\":\"hello.txt\",\"start_line\":3,\"end_line\":3}", "line3\n");
    expect_text(t, rt, "{\"path\":\"noeol.txt\",\"tail\":1}", "b");
    expect_text(t, rt, "{\"path\":\"noeol.txt\",\"start_line\":2}", "b");

    expect_error(t, rt, "{\"path\":\"hello.txt\",\"start_line\":9}", "start_line 9",
                 "past the end");
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"head\":1,\"tail\":1}", "at most one", NULL);
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"head\":1,\"start_line\":1}", "at most one",
                 NULL);
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"start_line\":3,\"end_line\":2}",
                 "end_line 2 is before start_line 3", NULL);
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"head\":0}", "argument 'head'", "integer");
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"tail\":1.5}", "argument 'tail'", "integer");
    expect_error(t, rt, "{\"path\":\"hello.txt\",\"start_line\":\"2\"}", "argument 'start_line'",
                 NULL);
}

static void test_read_too_large(void **state)
{
    struct tree *t = *state;
    struct stat st;
    char *p = xasprintf("%s/big.txt", t->root);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    char *size = xasprintf("%lld bytes", (long long)st.st_size);
    expect_error(t, "read_text_file", "{\"path\":\"big.txt\"}", size, "4194304");
    free(size);
    /* A range streams the lines instead. */
    expect_text(t, "read_text_file", "{\"path\":\"big.txt\",\"head\":2}",
                "big line 0000001\nbig line 0000002\n");
    expect_text(t, "read_text_file", "{\"path\":\"big.txt\",\"start_line\":300000,"
                "\"end_line\":300001}", "big line 0300000\nbig line 0300001\n");
    cJSON *r = call(t, "read_text_file", "{\"path\":\"big.txt\",\"tail\":1}");
    assert_false(is_error(r));
    assert_int_equal(strlen(text_of(r)), 17);
    assert_memory_equal(text_of(r), "big line ", 9);
    cJSON_Delete(r);
    /* But a range must not return more than the cap either. */
    expect_error(t, "read_text_file", "{\"path\":\"big.txt\",\"start_line\":1}", "4 MiB",
                 "fewer lines");
}

static void test_read_binary_refused(void **state)
{
    struct tree *t = *state;
    expect_error(t, "read_text_file", "{\"path\":\"bin.dat\"}", "'bin.dat' looks binary",
                 "8 KiB");
    expect_error(t, "read_text_file", "{\"path\":\"bin.dat\",\"head\":1}", "looks binary", NULL);
    expect_error(t, "read_text_file", "{\"path\":\"late_nul.txt\"}", "looks binary",
                 "offset 9000");
}

static void test_read_errors(void **state)
{
    struct tree *t = *state;
    expect_error(t, "read_text_file", "{\"path\":\"src\"}", "'src' is a directory",
                 "list_directory");
    expect_error(t, "read_text_file", "{\"path\":\"nope.txt\"}", "path 'nope.txt' does not exist",
                 NULL);
}

static void test_list_directory(void **state)
{
    struct tree *t = *state;
    cJSON *r = call(t, "list_directory", "{\"path\":\"src\"}");
    assert_false(is_error(r));
    assert_string_equal(text_of(r), "[FILE] bin.o\n[FILE] main.c\n[FILE] util.c\n[FILE] util.h\n");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(sc, "entries");
    assert_true(cJSON_IsArray(ents));
    assert_int_equal(cJSON_GetArraySize(ents), 4);
    const cJSON *e = cJSON_GetArrayItem(ents, 3);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring, "util.h");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring, "file");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(e, "size")->valueint, 12);
    cJSON_Delete(r);

    r = call(t, "list_directory", "{\"path\":\".\"}");
    assert_false(is_error(r));
    const char *text = text_of(r);
    assert_non_null(strstr(text, "[FILE] big.txt\n[FILE] bin.dat\n[DIR] build\n[DIR] empty\n"
                                 "[FILE] hello.txt\n"));
    assert_memory_equal(text, "[DIR] .git\n", 11);
    assert_non_null(strstr(text, "[FILE] link_etc\n"));
    ents = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r,
                                            "structuredContent"), "entries");
    assert_int_equal(cJSON_GetArraySize(ents), count_lines(text));
    int seen = 0;
    cJSON_ArrayForEach(e, ents) {
        const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
        const char *type = cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring;
        double size = cJSON_GetObjectItemCaseSensitive(e, "size")->valuedouble;
        if (strcmp(name, "hello.txt") == 0) {
            assert_string_equal(type, "file");
            assert_int_equal((int)size, (int)strlen(hello));
            seen |= 1;
        } else if (strcmp(name, "src") == 0) {
            assert_string_equal(type, "directory");
            seen |= 2;
        } else if (strcmp(name, "link_outdir") == 0) {
            assert_string_equal(type, "symlink");
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    cJSON_Delete(r);

    r = call(t, "list_directory", "{\"path\":\"empty\"}");
    assert_false(is_error(r));
    assert_string_equal(text_of(r), "(empty directory)\n");
    ents = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r,
                                            "structuredContent"), "entries");
    assert_int_equal(cJSON_GetArraySize(ents), 0);
    cJSON_Delete(r);

    expect_error(t, "list_directory", "{\"path\":\"hello.txt\"}", "not a directory", NULL);
    expect_error(t, "list_directory", "{\"path\":\"nope\"}", "does not exist", NULL);
}

static void test_search_regex(void **state)
{
    struct tree *t = *state;
    /* Skips build/, node_modules/, .git/, binary files, and links out. */
    expect_text(t, "search", "{\"pattern\":\"TODO\"}",
                "src/main.c:3:    return 0; // TODO fix\nsrc/util.h:1:TODO header\n");
    expect_text(t, "search", "{\"pattern\":\"^line[24]$\",\"path\":\".\"}",
                "hello.txt:2:line2\nhello.txt:4:line4\nlink_in:2:line2\nlink_in:4:line4\n");
    expect_text(t, "search", "{\"pattern\":\"line3\",\"path\":\"hello.txt\"}",
                "hello.txt:3:line3\n");
    expect_text(t, "search", "{\"pattern\":\"(return|header)\",\"path\":\"src\"}",
                "src/main.c:3:    return 0; // TODO fix\nsrc/util.h:1:TODO header\n");
    /* /etc/passwd holds "root"; the symlink to it must not be searched. */
    cJSON *r = call(t, "search", "{\"pattern\":\"root\"}");
    assert_false(is_error(r));
    assert_null(strstr(text_of(r), "link_passwd"));
    assert_null(strstr(text_of(r), "link_etc"));
    cJSON_Delete(r);
    r = call(t, "search", "{\"pattern\":\"secret\"}");
    assert_false(is_error(r));
    assert_non_null(strstr(text_of(r), "No matches"));
    cJSON_Delete(r);
}

static void test_search_glob_and_case(void **state)
{
    struct tree *t = *state;
    expect_text(t, "search", "{\"pattern\":\"TODO\",\"glob\":\"*.h\"}",
                "src/util.h:1:TODO header\n");
    expect_text(t, "search", "{\"pattern\":\"todo\",\"ignore_case\":true}",
                "src/main.c:3:    return 0; // TODO fix\nsrc/util.c:1:// todo: later\n"
                "src/util.h:1:TODO header\n");
    expect_text(t, "search", "{\"pattern\":\"todo\",\"ignore_case\":true,\"glob\":\"*.c\"}",
                "src/main.c:3:    return 0; // TODO fix\nsrc/util.c:1:// todo: later\n");
    expect_text(t, "search", "{\"pattern\":\"todo\",\"ignore_case\":false,\"glob\":\"*.c\"}",
                "src/util.c:1:// todo: later\n");
}

static void test_search_truncation(void **state)
{
    struct tree *t = *state;
    cJSON *r = call(t, "search", "{\"pattern\":\"^match\",\"max_results\":10}");
    assert_false(is_error(r));
    const char *text = text_of(r);
    assert_memory_equal(text, "many.txt:1:match 1\nmany.txt:2:match 2\n", 38);
    assert_non_null(strstr(text, "many.txt:10:match 10\n[output truncated at 10 matches"));
    assert_null(strstr(text, "match 11"));
    assert_int_equal(count_lines(text), 11);
    cJSON_Delete(r);

    /* Exactly max_results matches is not a truncation. */
    r = call(t, "search", "{\"pattern\":\"^match\",\"max_results\":50}");
    assert_int_equal(count_lines(text_of(r)), 50);
    assert_null(strstr(text_of(r), "truncated"));
    cJSON_Delete(r);

    /* The default is 200 matches. */
    r = call(t, "search", "{\"pattern\":\"big line\"}");
    assert_int_equal(count_lines(text_of(r)), 201);
    assert_non_null(strstr(text_of(r), "truncated at 200 matches"));
    cJSON_Delete(r);

    /* Long lines are cut at 500 bytes. */
    r = call(t, "search", "{\"pattern\":\"needle\"}");
    text = text_of(r);
    assert_memory_equal(text, "long/long.txt:1:needlezzz", 25);
    assert_int_equal(strlen(text), strlen("long/long.txt:1:") + 500 + 3 + 1);
    cJSON_Delete(r);
}

static void test_search_errors(void **state)
{
    struct tree *t = *state;
    expect_error(t, "search", "{\"pattern\":\"(unclosed\"}", "invalid regular expression",
                 "(unclosed");
    expect_error(t, "search", "{\"pattern\":\"a{2,1}\"}", "invalid regular expression", NULL);
    expect_error(t, "search", "{\"pattern\":\"x\",\"max_results\":0}", "argument 'max_results'",
                 "10000");
    expect_error(t, "search", "{\"pattern\":\"x\",\"max_results\":10001}",
                 "argument 'max_results'", NULL);
    expect_error(t, "search", "{\"pattern\":\"x\",\"ignore_case\":\"yes\"}",
                 "argument 'ignore_case' must be a boolean", NULL);
    expect_error(t, "search", "{\"pattern\":\"x\",\"glob\":3}", "argument 'glob' must be a string",
                 NULL);
    expect_error(t, "search", "{\"pattern\":\"x\",\"path\":\"bin.dat\"}", "binary", NULL);
}

static void test_traversal_refused(void **state)
{
    struct tree *t = *state;
    const char *rt = "read_text_file";
    expect_error(t, rt, "{\"path\":\"../x\"}", "path '../x' is outside the workspace root",
                 t->root);
    expect_error(t, rt, "{\"path\":\"/etc/passwd\"}", "outside the workspace root", NULL);
    expect_error(t, rt, "{\"path\":\"src/../../etc/passwd\"}", "outside the workspace root",
                 NULL);
    expect_error(t, rt, "{\"path\":\"link_passwd\"}", "resolves to /etc/passwd", "(symlink)");
    expect_error(t, rt, "{\"path\":\"link_etc/passwd\"}", "(symlink)", NULL);
    expect_error(t, rt, "{\"path\":\"link_outdir/secret.txt\"}", "(symlink)", NULL);
    expect_error(t, rt, "{\"path\":\"\"}", "empty", NULL);
    expect_error(t, "list_directory", "{\"path\":\"link_etc\"}", "(symlink)", NULL);
    expect_error(t, "list_directory", "{\"path\":\"..\"}", "outside the workspace root", NULL);
    expect_error(t, "list_directory", "{\"path\":\"/\"}", "outside the workspace root", NULL);
    expect_error(t, "search", "{\"pattern\":\"x\",\"path\":\"..\"}", "outside the workspace root",
                 NULL);
    expect_error(t, "search", "{\"pattern\":\"TODO\",\"path\":\"link_outdir\"}", "(symlink)",
                 NULL);
}

static void test_argument_errors(void **state)
{
    struct tree *t = *state;
    const char *need_path = "argument 'path' is required (string)";
    expect_error(t, "read_text_file", "{}", need_path, NULL);
    expect_error(t, "read_text_file", NULL, need_path, NULL);
    expect_error(t, "read_text_file", "{\"path\":5}", need_path, NULL);
    expect_error(t, "read_text_file", "{\"path\":null}", need_path, NULL);
    expect_error(t, "list_directory", "{}", need_path, NULL);
    expect_error(t, "list_directory", "{\"path\":[\"src\"]}", need_path, NULL);
    expect_error(t, "search", "{\"path\":\"src\"}", "argument 'pattern' is required (string)",
                 NULL);
    expect_error(t, "read_text_file", "{\"file_path\":\"hello.txt\"}",
                 "unknown argument 'file_path'", "path, head, tail");
    expect_error(t, "list_directory", "[\"src\"]", "arguments must be a JSON object", NULL);
}

static void test_result_helpers(void **state)
{
    cJSON *r = builtin_result_text(1, "n=%d %s", 3, "x");
    assert_true(is_error(r));
    assert_string_equal(text_of(r), "n=3 x");
    cJSON_Delete(r);
    /* Invalid UTF-8 becomes U+FFFD; valid multi-byte text is kept. */
    r = builtin_result_take_text(0, xstrdup("ok \xC3\xA9 bad \xFF\xC3 end \xED\xA0\x80!"));
    assert_false(is_error(r));
    assert_string_equal(text_of(r), "ok \xC3\xA9 bad \xEF\xBF\xBD\xEF\xBF\xBD end "
                                    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
    cJSON_Delete(r);
    r = builtin_result_take_text(0, NULL);
    assert_string_equal(text_of(r), "");
    cJSON_Delete(r);
}

struct worker {
    const struct tree *t;
    int ok;
};

static void *search_worker(void *arg)
{
    struct worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 20; i++) {
        cJSON *args = cJSON_Parse("{\"pattern\":\"todo\",\"ignore_case\":true,\"glob\":\"*.c\"}");
        cJSON *r = tool("search")->call(&w->t->ctx, args);
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "content"), 0);
        const char *text = cJSON_GetObjectItemCaseSensitive(c, "text")->valuestring;
        if (strcmp(text, "src/main.c:3:    return 0; // TODO fix\nsrc/util.c:1:// todo: later\n"))
            w->ok = 0;
        cJSON_Delete(r);
        cJSON_Delete(args);
    }
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    struct tree *t = *state;
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){t, 0};
        assert_int_equal(pthread_create(&th[i], NULL, search_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(w[i].ok);
    }
}

static void test_grep_context_and_filters(void **state)
{
    struct tree *t = *state;
    write_file(t->root, "ctx/ctx.txt", "l1\nl2\nhit3\nl4\nhit5\nl6\nl7\nl8\nl9\nhit10\nl11\n");
    expect_text(t, "grep", "{\"pattern\":\"hit\",\"path\":\"ctx\",\"context\":1}",
                "ctx/ctx.txt-2-l2\nctx/ctx.txt:3:hit3\nctx/ctx.txt-4-l4\nctx/ctx.txt:5:hit5\n"
                "ctx/ctx.txt-6-l6\n--\nctx/ctx.txt-9-l9\nctx/ctx.txt:10:hit10\n"
                "ctx/ctx.txt-11-l11\n");
    expect_text(t, "grep", "{\"pattern\":\"hit\",\"path\":\"ctx\",\"context\":2,"
                "\"max_results\":1}",
                "ctx/ctx.txt-1-l1\nctx/ctx.txt-2-l2\nctx/ctx.txt:3:hit3\nctx/ctx.txt-4-l4\n"
                "ctx/ctx.txt-5-hit5\n[output truncated at 1 matches; narrow the pattern, path "
                "or glob, or raise max_results]\n");
    expect_text(t, "grep", "{\"pattern\":\"hit1\",\"path\":\"ctx\"}", "ctx/ctx.txt:10:hit10\n");
    expect_text(t, "grep", "{\"pattern\":\"todo\",\"ignore_case\":true,\"include\":\"*.c\","
                "\"exclude\":\"main.*\"}", "src/util.c:1:// todo: later\n");
    expect_text(t, "grep", "{\"pattern\":\"^l(2|4)$\",\"path\":\"ctx/ctx.txt\"}",
                "ctx/ctx.txt:2:l2\nctx/ctx.txt:4:l4\n");
    expect_error(t, "grep", "{\"pattern\":\"x\",\"context\":21}", "argument 'context'", NULL);
    expect_error(t, "grep", "{\"pattern\":\"x\",\"path\":\"../\"}", "outside the workspace root",
                 NULL);
}

static void test_glob_tree_info(void **state)
{
    struct tree *t = *state;
    expect_text(t, "glob", "{\"pattern\":\"*.h\"}", "src/util.h\n");
    expect_text(t, "glob", "{\"pattern\":\"src/*.c\"}", "src/main.c\nsrc/util.c\n");
    expect_text(t, "glob", "{\"pattern\":\"**/*.c\"}", "build/gen.c\nsrc/main.c\nsrc/util.c\n");
    expect_text(t, "glob", "{\"pattern\":\"*.c\",\"path\":\"src\"}", "main.c\nutil.c\n");
    expect_text(t, "glob", "{\"pattern\":\"*.nope\"}", "No paths match '*.nope' under '.'\n");
    expect_error(t, "glob", "{\"pattern\":\"*\",\"path\":\"link_outdir\"}", "(symlink)", NULL);

    expect_text(t, "directory_tree", "{\"path\":\"src\"}", "bin.o\nmain.c\nutil.c\nutil.h\n");
    expect_text(t, "directory_tree", "{\"path\":\"long\",\"max_depth\":1}", "long.txt\n");
    cJSON *r = call(t, "directory_tree", "{\"max_depth\":2}");
    assert_false(is_error(r));
    const char *text = text_of(r);
    assert_non_null(strstr(text, "src/\n  bin.o\n  main.c\n"));
    assert_non_null(strstr(text, "link_etc (symlink)\n"));
    assert_null(strstr(text, "link_etc (symlink)\n  "));
    assert_null(strstr(text, "TODO"));
    const cJSON *tree = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "structuredContent"), "tree");
    int found = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, tree) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring, "src") == 0) {
            found = 1;
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(e, "type")->valuestring,
                                "directory");
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e,
                                                                            "children")), 4);
        }
    }
    assert_true(found);
    cJSON_Delete(r);

    r = call(t, "get_file_info", "{\"path\":\"hello.txt\"}");
    assert_false(is_error(r));
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc, "type")->valuestring, "file");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(sc, "size")->valueint,
                     (int)strlen(hello));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(sc, "symlink")));
    assert_non_null(strstr(text_of(r), "type: file\nsize: 30\n"));
    cJSON_Delete(r);
    r = call(t, "get_file_info", "{\"path\":\"link_in\"}");
    sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sc, "symlink")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc, "path")->valuestring, "hello.txt");
    cJSON_Delete(r);
    r = call(t, "get_file_info", "{\"path\":\"src\"}");
    sc = cJSON_GetObjectItemCaseSensitive(r, "structuredContent");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(sc, "type")->valuestring, "directory");
    cJSON_Delete(r);
    expect_error(t, "get_file_info", "{\"path\":\"link_passwd\"}", "(symlink)", NULL);
}

/* The file root/name holds exactly want. */
static void expect_file(const char *root, const char *name, const char *want)
{
    char *p = xasprintf("%s/%s", root, name);
    char *data = NULL;
    size_t len = 0;
    if (util_read_file(p, &data, &len) < 0)
        fail_msg("cannot read %s", p);
    if (len != strlen(want) || memcmp(data, want, len) != 0)
        fail_msg("%s holds \"%.*s\", want \"%s\"", p, (int)len, data, want);
    free(data);
    free(p);
}

static int exists(const char *root, const char *name)
{
    char *p = xasprintf("%s/%s", root, name);
    struct stat st;
    int rc = lstat(p, &st) == 0;
    free(p);
    return rc;
}

static void test_write_edit_move(void **state)
{
    struct tree *t = *state;
    expect_error(t, "write_file", "{\"path\":\"w/a.txt\",\"content\":\"x\"}", "does not exist",
                 NULL);
    expect_text(t, "create_directory", "{\"path\":\"w/sub\"}", "Created directory w/sub");
    expect_text(t, "create_directory", "{\"path\":\"w/sub\"}", "Directory w/sub already exists");
    expect_error(t, "create_directory", "{\"path\":\"hello.txt/x\"}", "not a directory", NULL);
    expect_text(t, "write_file", "{\"path\":\"w/a.txt\",\"content\":\"one\\ntwo\\nthree\\n\"}",
                "Wrote 14 bytes to w/a.txt");
    expect_file(t->root, "w/a.txt", "one\ntwo\nthree\n");
    expect_text(t, "edit_file", "{\"path\":\"w/a.txt\",\"old_text\":\"two\",\"new_text\":\"TWO\"}",
                "diff --git a/w/a.txt b/w/a.txt\nindex 4cb29ea..ddc897f 100644\n--- a/w/a.txt\n+++ b/w/a.txt\n"
                "@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n");
    expect_file(t->root, "w/a.txt", "one\nTWO\nthree\n");
    cJSON *r = call(t, "edit_file", "{\"path\":\"w/a.txt\",\"old_text\":\"three\","
                    "\"new_text\":\"3\",\"dry_run\":true}");
    assert_false(is_error(r));
    assert_non_null(strstr(text_of(r), "-three\n+3\n"));
    cJSON_Delete(r);
    expect_file(t->root, "w/a.txt", "one\nTWO\nthree\n");

    /* ambiguous or missing old_text: refused, the file unchanged */
    write_file(t->root, "w/b.txt", "x = 1\nx = 1\n");
    expect_error(t, "edit_file", "{\"path\":\"w/b.txt\",\"old_text\":\"x = 1\",\"new_text\":\"y\"}",
                 "matches 2 times in 'w/b.txt'", "exactly once");
    expect_error(t, "edit_file", "{\"path\":\"w/b.txt\",\"old_text\":\"z\",\"new_text\":\"y\"}",
                 "was not found", NULL);
    expect_error(t, "edit_file", "{\"path\":\"w/b.txt\",\"old_text\":\"\",\"new_text\":\"y\"}",
                 "old_text is empty", NULL);
    expect_file(t->root, "w/b.txt", "x = 1\nx = 1\n");
    expect_error(t, "edit_file", "{\"path\":\"bin.dat\",\"old_text\":\"abc\",\"new_text\":\"y\"}",
                 "binary", NULL);

    expect_text(t, "move_file", "{\"source\":\"w/a.txt\",\"destination\":\"w/sub/c.txt\"}",
                "Moved w/a.txt to w/sub/c.txt");
    assert_false(exists(t->root, "w/a.txt"));
    expect_file(t->root, "w/sub/c.txt", "one\nTWO\nthree\n");
    expect_error(t, "move_file", "{\"source\":\"w/a.txt\",\"destination\":\"w/d.txt\"}",
                 "does not exist", NULL);
    expect_error(t, "move_file", "{\"source\":\"w/b.txt\",\"destination\":\"w/sub/c.txt\"}",
                 "already exists", NULL);
    expect_file(t->root, "w/sub/c.txt", "one\nTWO\nthree\n");

    /* the write cap */
    size_t big = 4u * 1024 * 1024 + 1;
    char *content = xmalloc(big + 1);
    memset(content, 'a', big);
    content[big] = '\0';
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "path", "w/big.txt");
    cJSON_AddStringToObject(args, "content", content);
    free(content);
    r = tool("write_file")->call(&t->ctx, args);
    cJSON_Delete(args);
    assert_true(is_error(r));
    assert_non_null(strstr(text_of(r), "write cap"));
    cJSON_Delete(r);
    assert_false(exists(t->root, "w/big.txt"));
}

static void test_write_traversal_refused(void **state)
{
    struct tree *t = *state;
    char *secret = xasprintf("%s/secret.txt", t->outside);
    char *link_to = xasprintf("%s/w2", t->root);
    assert_int_equal(util_mkdirs(link_to, 0755), 0);
    free(link_to);
    make_link(t->root, "w2/out_link", secret);
    make_link(t->root, "w2/loop1", "loop2");
    make_link(t->root, "w2/loop2", "loop1");
    const char *wf = "write_file";
    expect_error(t, wf, "{\"path\":\"../evil.txt\",\"content\":\"x\"}",
                 "outside the workspace root", NULL);
    char *abs = xasprintf("{\"path\":\"%s/evil.txt\",\"content\":\"x\"}", t->outside);
    expect_error(t, wf, abs, "outside the workspace root", NULL);
    free(abs);
    expect_error(t, wf, "{\"path\":\"/tmp/evil.txt\",\"content\":\"x\"}",
                 "outside the workspace root", NULL);
    expect_error(t, wf, "{\"path\":\"link_outdir/new.txt\",\"content\":\"x\"}", "(symlink)",
                 NULL);
    expect_error(t, wf, "{\"path\":\"w2/out_link\",\"content\":\"x\"}", "(symlink)", NULL);
    expect_error(t, wf, "{\"path\":\"w2/loop1\",\"content\":\"x\"}", "symlink loop", NULL);
    expect_error(t, wf, "{\"path\":\"w2/loop1/x\",\"content\":\"x\"}", "symlink loop", NULL);
    expect_error(t, "read_text_file", "{\"path\":\"w2/loop2\"}", "symlink loop", NULL);
    expect_error(t, "edit_file", "{\"path\":\"w2/out_link\",\"old_text\":\"TODO\","
                 "\"new_text\":\"x\"}", "(symlink)", NULL);
    expect_error(t, "edit_file", "{\"path\":\"link_passwd\",\"old_text\":\"root\","
                 "\"new_text\":\"x\"}", "(symlink)", NULL);
    expect_error(t, "move_file", "{\"source\":\"link_outdir/secret.txt\",\"destination\":"
                 "\"stolen.txt\"}", "(symlink)", NULL);
    expect_error(t, "move_file", "{\"source\":\"hello.txt\",\"destination\":\"../hello.txt\"}",
                 "outside the workspace root", NULL);
    expect_error(t, "move_file", "{\"source\":\"hello.txt\",\"destination\":"
                 "\"link_outdir/hello.txt\"}", "(symlink)", NULL);
    expect_error(t, "move_file", "{\"source\":\".\",\"destination\":\"x\"}", "root", NULL);
    expect_error(t, "create_directory", "{\"path\":\"../d\"}", "outside the workspace root",
                 NULL);
    expect_error(t, "create_directory", "{\"path\":\"link_outdir/d/e\"}", "(symlink)", NULL);
    expect_error(t, "create_directory", "{\"path\":\"/tmp/mcpdeck-nope\"}",
                 "outside the workspace root", NULL);
    /* nothing changed outside, the files inside stayed */
    expect_file(t->outside, "secret.txt", "TODO secret\n");
    assert_false(exists(t->outside, "new.txt"));
    assert_false(exists(t->outside, "d"));
    assert_false(exists(t->outside, "hello.txt"));
    assert_true(exists(t->root, "hello.txt"));
    free(secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_and_schemas),
        cmocka_unit_test(test_read_full),
        cmocka_unit_test(test_read_ranges),
        cmocka_unit_test(test_read_too_large),
        cmocka_unit_test(test_read_binary_refused),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_list_directory),
        cmocka_unit_test(test_search_regex),
        cmocka_unit_test(test_search_glob_and_case),
        cmocka_unit_test(test_search_truncation),
        cmocka_unit_test(test_search_errors),
        cmocka_unit_test(test_traversal_refused),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_result_helpers),
        cmocka_unit_test(test_concurrent_calls),
        cmocka_unit_test(test_grep_context_and_filters),
        cmocka_unit_test(test_glob_tree_info),
        cmocka_unit_test(test_write_edit_move),
        cmocka_unit_test(test_write_traversal_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
