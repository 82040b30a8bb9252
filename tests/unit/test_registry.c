/* test_registry.c — the server catalog and capability profiles: the
 * embedded catalog loads and defines every task type; well-known servers
 * are recognised from the command lines people really use, from urls and
 * from names; capabilities derived from real servers' tool lists; derived
 * and config-overridden profiles; refusals of bad overrides and of
 * malformed catalogs with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

#define MAXV 12

static int setup(void **state)
{
    struct registry_catalog *c = NULL;
    char *err = NULL;
    if (registry_catalog_embedded(&c, &err) != 0)
        fail_msg("embedded catalog: %s", err);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    registry_catalog_free(*state);
    return 0;
}

static size_t count(const char *const *v)
{
    size_t n = 0;
    while (v[n])
        n++;
    return n;
}

/* Whether got (n entries) is exactly want (NULL-terminated), in order. */
static void assert_strv(const char *what, char *const *got, size_t n, const char *const *want)
{
    size_t m = count(want);
    int same = n == m;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(got[i], want[i]) == 0;
    if (same)
        return;
    struct buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", got[i]);
    fail_msg("%s: got [%s]", what, b.data ? b.data : "");
}

static struct registry_profile resolve_ok(const struct registry_catalog *c, const char *name,
                                          const char *command, const char *const *args,
                                          const char *url, const struct registry_tool *tools,
                                          size_t ntools, const struct registry_override *ov)
{
    struct registry_profile p;
    char *err = NULL;
    size_t nargs = args ? count(args) : 0;
    if (registry_profile_resolve(c, name, command, args, nargs, url, tools, ntools, ov, &p,
                                 &err) != 0)
        fail_msg("resolve %s: %s", name ? name : "(null)", err);
    return p;
}

/* === The embedded catalog === */

static void test_embedded_task_types(void **state)
{
    const struct registry_catalog *c = *state;
    static const struct {
        const char *type;
        int heavy;
        const char *caps[MAXV];
    } want[] = {
        {"generate", 0, {"code_search", "file_operations"}},
        {"refactor", 1, {"code_analysis", "code_search", "file_operations"}},
        {"debug", 1, {"code_analysis", "code_search", "file_operations"}},
        {"review", 1, {"code_analysis", "repository_management", "security_analysis"}},
        {"document", 0, {"documentation", "file_operations"}},
        {"test", 1, {"file_operations", "testing"}},
        {"deploy", 1, {"command_execution", "repository_management"}},
    };
    size_t n;
    const char *const *names = registry_task_types(c, &n);
    assert_int_equal(n, ARRAY_LEN(want));
    assert_null(names[n]);
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        assert_string_equal(names[i], want[i].type);
        const char *const *caps;
        size_t ncaps;
        int heavy = -1;
        assert_int_equal(registry_task_type(c, want[i].type, &caps, &ncaps, &heavy), 0);
        assert_int_equal(heavy, want[i].heavy);
        assert_strv(want[i].type, (char *const *)caps, ncaps, want[i].caps);
        for (size_t j = 0; j < ncaps; j++)
            assert_true(registry_is_capability(caps[j]));
    }
    const char *const *caps;
    size_t ncaps;
    int heavy;
    assert_int_equal(registry_task_type(c, "deploy-now", &caps, &ncaps, &heavy), -1);
    assert_int_equal(registry_task_type(c, "Generate", &caps, &ncaps, &heavy), -1);
}

static void test_vocabulary(void **state)
{
    size_t n;
    const char *const *caps = registry_capabilities(&n);
    assert_int_equal(n, 12);
    assert_null(caps[n]);
    for (size_t i = 0; i < n; i++) {
        assert_true(registry_is_capability(caps[i]));
        if (i)
            assert_true(strcmp(caps[i - 1], caps[i]) < 0);
    }
    static const char *const not_caps[] = {"", "file", "File_Operations", "file_operations ",
                                           "codeanalysis"};
    for (size_t i = 0; i < ARRAY_LEN(not_caps); i++)
        assert_false(registry_is_capability(not_caps[i]));
    assert_false(registry_is_capability(NULL));
    assert_string_equal(registry_source_name(REGISTRY_FROM_CATALOG), "catalog");
    assert_string_equal(registry_source_name(REGISTRY_DERIVED), "derived");
    assert_string_equal(registry_source_name(REGISTRY_FROM_CONFIG), "config");
}

/* === Matching === */

struct match_case {
    const char *name;
    const char *command;
    const char *args[MAXV];
    const char *url;
    const char *want;       /* catalog id, or NULL for no match */
};

static void run_match_cases(const struct registry_catalog *c, const struct match_case *cases,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct match_case *t = &cases[i];
        struct registry_profile p = resolve_ok(c, t->name, t->command, t->args, t->url, NULL,
                                               0, NULL);
        const char *got = p.catalog_id;
        if ((got == NULL) != (t->want == NULL) || (got && strcmp(got, t->want)))
            fail_msg("case %zu (%s %s %s): got %s, want %s", i, t->name ? t->name : "-",
                     t->command ? t->command : "-", t->url ? t->url : "-",
                     got ? got : "no match", t->want ? t->want : "no match");
        assert_int_equal(p.source, got ? REGISTRY_FROM_CATALOG : REGISTRY_DERIVED);
        registry_profile_fini(&p);
    }
}

static void test_match_command_lines(void **state)
{
    static const struct match_case cases[] = {
        {"files", "npx", {"-y", "@modelcontextprotocol/server-filesystem", "/tmp"}, NULL,
         "filesystem"},
        {"files", "npx", {"-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/tmp"},
         NULL, "filesystem"},
        {"x", "node",
         {"/x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/tmp"},
         NULL, "filesystem"},
        {"x", "/work/tests/servers/node_modules/.bin/mcp-server-filesystem", {"/tmp"}, NULL,
         "filesystem"},
        {"kg", "npx", {"-y", "@modelcontextprotocol/server-memory"}, NULL, "memory-graph"},
        {"kg", "node", {"node_modules/@modelcontextprotocol/server-memory/dist/index.js"}, NULL,
         "memory-graph"},
        {"ev", "node",
         {"/x/node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"},
         NULL, "everything"},
        {"ev", "npx", {"-y", "@modelcontextprotocol/server-everything"}, NULL, "everything"},
        {"vcs", "uvx", {"mcp-server-git", "--repository", "."}, NULL, "git-server"},
        {"vcs", "uvx", {"mcp-server-git==0.6.2", "--repository", "."}, NULL, "git-server"},
        {"vcs", "python", {"-m", "mcp_server_git", "--repository", "/src/app"}, NULL,
         "git-server"},
        {"vcs", "npx", {"-y", "@cyanheads/git-mcp-server@latest"}, NULL, "git-server"},
        {"hub", "docker",
         {"run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
          "ghcr.io/github/github-mcp-server"},
         NULL, "github"},
        {"hub", "docker", {"run", "-i", "--rm", "ghcr.io/github/github-mcp-server:v0.9.0"},
         NULL, "github"},
        {"hub", "/usr/local/bin/github-mcp-server", {"stdio"}, NULL, "github"},
        {"hub", "npx", {"-y", "@modelcontextprotocol/server-github"}, NULL, "github"},
        {"web", "uvx", {"mcp-server-fetch"}, NULL, "fetch"},
        {"web", "docker", {"run", "-i", "--rm", "mcp/fetch"}, NULL, "fetch"},
        {"ast", "uvx", {"mcp-server-tree-sitter"}, NULL, "tree-sitter"},
        {"sast", "semgrep", {"mcp"}, NULL, "semgrep"},
        {"sast", "/opt/homebrew/bin/semgrep", {"mcp", "-t", "stdio"}, NULL, "semgrep"},
        {"sast", "uvx", {"semgrep-mcp"}, NULL, "semgrep"},
        {"docs", "npx", {"-y", "@upstash/context7-mcp"}, NULL, "context7"},
        /* The program run beats a directory handed to it. */
        {"files", "npx", {"-y", "@modelcontextprotocol/server-filesystem", "/srv/mcp/git"},
         NULL, "filesystem"},
        /* What a server runs beats what it is called. */
        {"github", "uvx", {"mcp-server-git"}, NULL, "git-server"},
        {"filesystem", "docker", {"run", "-i", "--rm", "mcp/memory"}, NULL, "memory-graph"},
        /* Near misses. */
        {"x", "npx", {"-y", "@modelcontextprotocol/server-filesystem-extra"}, NULL, NULL},
        {"x", "uvx", {"mcp-server-gitlab"}, NULL, NULL},
        {"x", "semgrep", {"scan", "--config", "auto"}, NULL, NULL},
        {"x", "npx", {"-y", "my-semgrep-mcp"}, NULL, NULL},
        {"x", "bash", {"-c", "echo mcp-server-git"}, NULL, NULL},
    };
    run_match_cases(*state, cases, ARRAY_LEN(cases));
}

static void test_match_urls(void **state)
{
    static const struct match_case cases[] = {
        {"copilot", NULL, {NULL}, "https://api.githubcopilot.com/mcp/", "github"},
        {"copilot", NULL, {NULL}, "HTTPS://API.GITHUBCOPILOT.COM/MCP/readonly", "github"},
        {"c7", NULL, {NULL}, "https://mcp.context7.com/mcp", "context7"},
        /* A stdio proxy to a remote server. */
        {"proxy", "npx", {"-y", "mcp-remote", "https://api.githubcopilot.com/mcp/"}, NULL,
         "github"},
        {"remote", NULL, {NULL}, "https://example.com/mcp", NULL},
        /* A name is the last resort for a url too. */
        {"semgrep", NULL, {NULL}, "https://example.com/semgrep/mcp", "semgrep"},
        /* The url beats the name. */
        {"fetch", NULL, {NULL}, "https://api.githubcopilot.com/mcp/", "github"},
    };
    run_match_cases(*state, cases, ARRAY_LEN(cases));
}

static void test_match_names(void **state)
{
    static const struct match_case cases[] = {
        {"filesystem", NULL, {NULL}, NULL, "filesystem"},
        {"FileSystem", NULL, {NULL}, NULL, "filesystem"},
        {"tree_sitter", NULL, {NULL}, NULL, "tree-sitter"},
        {"Semgrep", NULL, {NULL}, NULL, "semgrep"},
        {"knowledge_graph", NULL, {NULL}, NULL, "memory-graph"},
        {"gh", NULL, {NULL}, NULL, "github"},
        {"everything", NULL, {NULL}, NULL, "everything"},
        /* An unknown program: the name decides. */
        {"github", "/home/me/bin/gh-wrapper", {"--stdio"}, NULL, "github"},
        {"semgrep", "python", {"scanner.py"}, NULL, "semgrep"},
        /* The built-in servers: by name, only in-process. */
        {"fs", NULL, {NULL}, NULL, "fs"},
        {"git", NULL, {NULL}, NULL, "git"},
        {"memory", NULL, {NULL}, NULL, "memory"},
        {"FS", NULL, {NULL}, NULL, "fs"},
        {"fs", "my-fs-server", {NULL}, NULL, NULL},
        {"git", NULL, {NULL}, "https://example.com/mcp", NULL},
        {"myserver", NULL, {NULL}, NULL, NULL},
        {NULL, NULL, {NULL}, NULL, NULL},
    };
    run_match_cases(*state, cases, ARRAY_LEN(cases));
}

static void test_builtin_flag(void **state)
{
    static const struct {
        const char *name;
        const char *caps[MAXV];
    } want[] = {
        {"fs", {"code_search", "file_operations"}},
        {"git", {"repository_management"}},
        {"memory", {"context_persistence"}},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        struct registry_profile p = resolve_ok(*state, want[i].name, NULL, NULL, NULL, NULL, 0,
                                               NULL);
        assert_int_equal(p.builtin, 1);
        assert_string_equal(p.catalog_id, want[i].name);
        assert_strv(want[i].name, p.caps, p.ncaps, want[i].caps);
        assert_int_equal(p.light, 1);
        assert_int_equal(p.heavy, 0);
        registry_profile_fini(&p);
    }
    static const char *const args[] = {"-y", "@modelcontextprotocol/server-filesystem", NULL};
    struct registry_profile p = resolve_ok(*state, "files", "npx", args, NULL, NULL, 0, NULL);
    assert_int_equal(p.builtin, 0);
    registry_profile_fini(&p);
}

/* A catalog profile carries the entry's caps, task types and weight. */
static void test_catalog_profiles(void **state)
{
    static const struct {
        const char *name;
        const char *want_id;
        int light, heavy;
        const char *caps[MAXV];
        const char *types[MAXV];
    } cases[] = {
        {"filesystem", "filesystem", 1, 0, {"code_search", "file_operations"},
         {"generate", "refactor", "debug", "document", "test"}},
        {"github", "github", 0, 1,
         {"code_search", "repository_management", "security_analysis"},
         {"debug", "review", "document", "deploy"}},
        {"tree-sitter", "tree-sitter", 1, 1,
         {"code_analysis", "code_search", "file_operations"},
         {"refactor", "debug", "review", "document"}},
        {"semgrep", "semgrep", 0, 1, {"code_analysis", "security_analysis"},
         {"debug", "review", "test"}},
        {"everything", "everything", 1, 0, {"mcp_diagnostics"}, {NULL}},
        {"fetch", "fetch", 1, 0, {"documentation", "web_fetch"},
         {"generate", "debug", "document"}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct registry_profile p = resolve_ok(*state, cases[i].name, NULL, NULL, NULL, NULL, 0,
                                               NULL);
        assert_string_equal(p.catalog_id, cases[i].want_id);
        assert_non_null(p.description);
        assert_int_equal(p.source, REGISTRY_FROM_CATALOG);
        assert_int_equal(p.light, cases[i].light);
        assert_int_equal(p.heavy, cases[i].heavy);
        assert_strv(cases[i].name, p.caps, p.ncaps, cases[i].caps);
        assert_strv(cases[i].name, p.task_types, p.ntask_types, cases[i].types);
        registry_profile_fini(&p);
    }
}

/* === Derivation === */

#define END {NULL, NULL}

/* server-everything 2026.8.31, as tools/list answers a client without
 * sampling or elicitation. */
static const struct registry_tool everything_tools[] = {
    {"echo", "Echoes back the input string"},
    {"get-annotated-message",
     "Demonstrates how annotations can be used to provide metadata about content."},
    {"get-env", "Returns all environment variables, helpful for debugging MCP server "
                "configuration"},
    {"get-resource-links",
     "Returns up to ten resource links that reference different types of resources"},
    {"get-resource-reference", "Returns a resource reference that can be used by MCP clients"},
    {"get-structured-content",
     "Returns structured content along with an output schema for client data validation"},
    {"get-sum", "Returns the sum of two numbers"},
    {"get-tiny-image", "Returns a tiny MCP logo image."},
    {"gzip-file-as-resource",
     "Compresses a single file using gzip compression. Depending upon the selected output "
     "type, returns either the compressed data as a gzipped resource or a resource link, "
     "allowing it to be downloaded in a subsequent request during the current session."},
    {"toggle-simulated-logging", "Toggles simulated, random-leveled logging on or off."},
    {"toggle-subscriber-updates", "Toggles simulated resource subscription updates on or off."},
    {"trigger-long-running-operation",
     "Demonstrates a long running operation with progress updates."},
    {"simulate-research-query",
     "Simulates a deep research operation that gathers, analyzes, and synthesizes "
     "information. Demonstrates MCP task-based operations with progress through multiple "
     "stages. If 'ambiguous' is true and client supports elicitation, sends an elicitation "
     "request for clarification."},
    END,
};

/* The older server-everything's camelCase tools. */
static const struct registry_tool everything_old_tools[] = {
    {"echo", "Echoes back the input"},
    {"add", "Adds two numbers"},
    {"longRunningOperation", "Demonstrates a long running operation with progress updates"},
    {"printEnv", "Prints all environment variables, helpful for debugging MCP server "
                 "configuration"},
    {"sampleLLM", "Samples from an LLM using MCP's sampling feature"},
    {"getTinyImage", "Returns the MCP_TINY_IMAGE"},
    {"annotatedMessage", "Demonstrates how annotations can be used to provide metadata "
                         "about content"},
    {"getResourceReference", "Returns a resource reference that can be used by MCP clients"},
    END,
};

static const struct registry_tool filesystem_tools[] = {
    {"read_text_file", "Read the complete contents of a file from the file system as text."},
    {"read_media_file", "Read a file and return it as a base64-encoded content block with its "
                        "MIME type."},
    {"read_multiple_files", "Read the contents of multiple files simultaneously."},
    {"write_file", "Create a new file or completely overwrite an existing file with new "
                   "content."},
    {"edit_file", "Make line-based edits to a text file. Each edit replaces exact line "
                  "sequences with new content. Returns a git-style diff showing the changes "
                  "made. Only works within allowed directories."},
    {"create_directory", "Create a new directory or ensure a directory exists."},
    {"list_directory", "Get a detailed listing of all files and directories in a specified "
                       "path."},
    {"directory_tree", "Get a recursive tree view of files and directories as a JSON "
                       "structure."},
    {"move_file", "Move or rename files and directories."},
    {"search_files", "Recursively search for files and directories matching a pattern."},
    {"get_file_info", "Retrieve detailed metadata about a file or directory."},
    {"list_allowed_directories", "Returns the list of directories that this server is allowed "
                                 "to access."},
    END,
};

static const struct registry_tool memory_tools[] = {
    {"create_entities", "Create multiple new entities in the knowledge graph"},
    {"create_relations", "Create multiple new relations between entities in the knowledge "
                         "graph. Relations should be in active voice"},
    {"add_observations", "Add new observations to existing entities in the knowledge graph"},
    {"delete_entities", "Delete multiple entities and their associated relations from the "
                        "knowledge graph"},
    {"delete_observations", "Delete specific observations from entities in the knowledge "
                            "graph"},
    {"delete_relations", "Delete multiple relations from the knowledge graph"},
    {"read_graph", "Read the entire knowledge graph"},
    {"search_nodes", "Search for nodes in the knowledge graph based on a query"},
    {"open_nodes", "Open specific nodes in the knowledge graph by their names"},
    END,
};

static const struct registry_tool git_tools[] = {
    {"git_status", "Shows the working tree status"},
    {"git_diff_unstaged", "Shows changes in the working directory that are not yet staged"},
    {"git_commit", "Records changes to the repository"},
    {"git_add", "Adds file contents to the staging area"},
    {"git_log", "Shows the commit logs"},
    {"git_create_branch", "Creates a new branch from an optional base branch"},
    {"git_checkout", "Switches branches"},
    END,
};

static const struct registry_tool semgrep_tools[] = {
    {"security_check", "Runs a fast security check on code and returns any issues found."},
    {"semgrep_scan", "Runs a Semgrep scan on provided code content"},
    {"get_abstract_syntax_tree", "Returns the Abstract Syntax Tree (AST) for the provided "
                                 "code file in JSON format"},
    {"get_supported_languages", "Returns a list of supported languages by Semgrep"},
    END,
};

static const struct registry_tool tree_sitter_tools[] = {
    {"list_files", "List files in a project."},
    {"get_ast", "Get abstract syntax tree for a file."},
    {"get_symbols", "Extract symbols from a file."},
    {"find_usage", "Find usage of a symbol."},
    {"analyze_complexity", "Analyze code complexity."},
    {"run_query", "Run a tree-sitter query on project files."},
    END,
};

/* Names that say nothing: descriptions decide, without name-only words. */
static const struct registry_tool vague_tools[] = {
    {"query", "Analyzes the project and parses its test suite"},
    {"lookup", "Fetches a web page and returns it as markdown"},
    {"x", NULL},
    END,
};

static const struct registry_tool misc_tools[] = {
    {"runShellCommand", NULL},
    {"embedDocuments", "Store text with its embedding"},
    {"getLibraryDocs", "Fetches up-to-date documentation for a library"},
    {"create_pull_request", "Create a new pull request in a GitHub repository"},
    {"run_tests", "Run the project's test suite"},
    END,
};

static size_t ntools(const struct registry_tool *t)
{
    size_t n = 0;
    while (t[n].name)
        n++;
    return n;
}

static void test_derive_caps(void **state)
{
    static const struct {
        const char *what;
        const struct registry_tool *tools;
        const char *caps[MAXV];
    } cases[] = {
        {"everything", everything_tools, {"file_operations", "mcp_diagnostics"}},
        {"everything (old)", everything_old_tools, {"mcp_diagnostics"}},
        {"filesystem", filesystem_tools, {"code_search", "file_operations"}},
        {"memory", memory_tools, {"context_persistence"}},
        {"git", git_tools, {"repository_management"}},
        {"semgrep", semgrep_tools, {"code_analysis", "security_analysis"}},
        {"tree-sitter", tree_sitter_tools, {"code_analysis", "code_search", "file_operations"}},
        {"vague", vague_tools, {"web_fetch"}},
        {"misc", misc_tools,
         {"command_execution", "documentation", "repository_management", "semantic_search",
          "testing"}},
        {"none", vague_tools + 3, {NULL}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char **caps = NULL;
        size_t n = registry_derive_caps(cases[i].tools, ntools(cases[i].tools), &caps);
        assert_non_null(caps);
        assert_null(caps[n]);
        assert_strv(cases[i].what, caps, n, cases[i].caps);
        for (size_t j = 0; j < n; j++)
            free(caps[j]);
        free(caps);
    }
}

/* One tool at a time: which words count, and where. */
static void test_derive_words(void **state)
{
    static const struct {
        const char *name, *description;
        const char *caps[MAXV];
    } cases[] = {
        {"sampleLLM", NULL, {"mcp_diagnostics"}},
        {"getLLMResponse", NULL, {NULL}},
        {"analyzeCode", NULL, {"code_analysis"}},
        {"lookup", "Analyzes the code", {NULL}},            /* analy* counts in names only */
        {"search_nodes", NULL, {NULL}},                     /* search needs an object */
        {"search", "Search file contents with a regex", {"code_search", "file_operations"}},
        {"read_graph", "Read the entire knowledge graph", {"context_persistence"}},
        {"git_add", "Adds file contents to the staging area", {"repository_management"}},
        {"get-resource-links", "reference different types of resources", {NULL}},
        {"list_secret_scanning_alerts", NULL, {"security_analysis"}},
        {"LIST_FILES", NULL, {"file_operations"}},
        {"fetch", "Fetches a URL", {"web_fetch"}},
        {"profile", "Show the user profile", {NULL}},       /* not file* */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct registry_tool t = {cases[i].name, cases[i].description};
        char **caps;
        size_t n = registry_derive_caps(&t, 1, &caps);
        assert_strv(cases[i].name, caps, n, cases[i].caps);
        for (size_t j = 0; j < n; j++)
            free(caps[j]);
        free(caps);
    }
}

static void test_derived_profile(void **state)
{
    static const char *const args[] = {"/opt/my-files-server/index.js", NULL};
    struct registry_profile p = resolve_ok(*state, "myfiles", "node", args, NULL,
                                           filesystem_tools, ntools(filesystem_tools), NULL);
    assert_null(p.catalog_id);
    assert_null(p.description);
    assert_int_equal(p.source, REGISTRY_DERIVED);
    assert_int_equal(p.builtin, 0);
    assert_int_equal(p.light, 1);
    assert_int_equal(p.heavy, 1);
    static const char *const caps[] = {"code_search", "file_operations", NULL};
    static const char *const types[] = {"generate", "refactor", "debug", "document", "test",
                                        NULL};
    assert_strv("caps", p.caps, p.ncaps, caps);
    assert_strv("task types", p.task_types, p.ntask_types, types);
    registry_profile_fini(&p);
    assert_null(p.caps);

    /* No tools: derived and empty. */
    p = resolve_ok(*state, "mystery", "mystery-server", NULL, NULL, NULL, 0, NULL);
    assert_int_equal(p.source, REGISTRY_DERIVED);
    assert_int_equal(p.ncaps, 0);
    assert_int_equal(p.ntask_types, 0);
    registry_profile_fini(&p);

    /* A catalog match ignores the tools. */
    p = resolve_ok(*state, "filesystem", NULL, NULL, NULL, memory_tools, ntools(memory_tools),
                   NULL);
    assert_int_equal(p.source, REGISTRY_FROM_CATALOG);
    assert_strv("caps", p.caps, p.ncaps, caps);
    registry_profile_fini(&p);

    /* No catalog at all. */
    p = resolve_ok(NULL, "fs", NULL, NULL, NULL, memory_tools, ntools(memory_tools), NULL);
    assert_int_equal(p.source, REGISTRY_DERIVED);
    assert_int_equal(p.ntask_types, 0);
    assert_int_equal(p.ncaps, 1);
    registry_profile_fini(&p);
    registry_profile_fini(NULL);
}

/* === Overrides === */

static void test_overrides(void **state)
{
    static const char *const web_caps[] = {"web_fetch", "code_search", "web_fetch"};
    static const char *const review_deploy[] = {"deploy", "review"};
    static const struct {
        const char *what;
        const char *name;           /* resolved by name, no tools */
        struct registry_override ov;
        enum registry_source source;
        int light, heavy;
        const char *caps[MAXV];
        const char *types[MAXV];
    } cases[] = {
        {"caps replace the catalog's; task types follow the new caps",
         "filesystem", {web_caps, 3, 1, NULL, 0, 0, NULL}, REGISTRY_FROM_CONFIG, 1, 0,
         {"code_search", "web_fetch"}, {"generate", "refactor", "debug"}},
        {"task types replace, in catalog order", "filesystem",
         {NULL, 0, 0, review_deploy, 2, 1, NULL}, REGISTRY_FROM_CATALOG, 1, 0,
         {"code_search", "file_operations"}, {"review", "deploy"}},
        {"weight alone", "github", {NULL, 0, 0, NULL, 0, 0, "light"}, REGISTRY_FROM_CATALOG,
         1, 0, {"code_search", "repository_management", "security_analysis"},
         {"debug", "review", "document", "deploy"}},
        {"empty caps", "semgrep", {NULL, 0, 1, NULL, 0, 0, "both"}, REGISTRY_FROM_CONFIG, 1,
         1, {NULL}, {NULL}},
        {"all of it on an unknown server", "mystery",
         {web_caps, 2, 1, review_deploy, 1, 1, "heavy"}, REGISTRY_FROM_CONFIG, 0, 1,
         {"code_search", "web_fetch"}, {"deploy"}},
        {"nothing set", "mystery", {NULL, 0, 0, NULL, 0, 0, NULL}, REGISTRY_DERIVED, 1, 1,
         {NULL}, {NULL}},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct registry_profile p = resolve_ok(*state, cases[i].name, NULL, NULL, NULL, NULL,
                                               0, &cases[i].ov);
        if (p.source != cases[i].source || p.light != cases[i].light ||
            p.heavy != cases[i].heavy)
            fail_msg("%s: source %s light %d heavy %d", cases[i].what,
                     registry_source_name(p.source), p.light, p.heavy);
        assert_strv(cases[i].what, p.caps, p.ncaps, cases[i].caps);
        assert_strv(cases[i].what, p.task_types, p.ntask_types, cases[i].types);
        registry_profile_fini(&p);
    }
}

static void test_override_errors(void **state)
{
    static const char *const bad_caps[] = {"file_operations", "code_serach"};
    static const char *const bad_types[] = {"review", "ship"};
    static const struct {
        const char *name;
        struct registry_override ov;
        const char *want;
    } cases[] = {
        {"fs", {bad_caps, 2, 1, NULL, 0, 0, NULL},
         "server 'fs': unknown capability 'code_serach'; expected one of: code_analysis, "
         "code_search, command_execution, context_persistence, documentation, "
         "file_operations, mcp_diagnostics, repository_management, security_analysis, "
         "semantic_search, testing, web_fetch"},
        {"gh", {NULL, 0, 0, bad_types, 2, 1, NULL},
         "server 'gh': unknown task type 'ship'; expected one of: generate, refactor, debug, "
         "review, document, test, deploy"},
        {NULL, {NULL, 0, 0, NULL, 0, 0, "medium"},
         "weight must be light, heavy or both, got 'medium'"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct registry_profile p;
        char *err = NULL;
        assert_int_equal(registry_profile_resolve(*state, cases[i].name, NULL, NULL, 0, NULL,
                                                  NULL, 0, &cases[i].ov, &p, &err),
                         -1);
        assert_non_null(err);
        assert_string_equal(err, cases[i].want);
        assert_null(p.catalog_id);
        assert_null(p.caps);
        assert_int_equal(p.ncaps, 0);
        free(err);
        registry_profile_fini(&p);
    }
}

/* === Malformed catalogs === */

#define TYPES                                                                         \
    "task_types:\n"                                                                   \
    "  generate: {capabilities: [file_operations], weight: light}\n"                  \
    "  refactor: {capabilities: [code_analysis], weight: heavy}\n"                    \
    "  debug: {capabilities: [code_search], weight: heavy}\n"                         \
    "  review: {capabilities: [repository_management], weight: heavy}\n"             \
    "  document: {capabilities: [documentation], weight: light}\n"                    \
    "  test: {capabilities: [testing], weight: heavy}\n"                              \
    "  deploy: {capabilities: [command_execution], weight: heavy}\n"

/* TYPES is 8 lines; servers: is line 9, the first entry line 10. */
#define ENTRY(extra)                                                                  \
    "servers:\n"                                                                      \
    "  - id: one\n"                                                                   \
    "    description: the first\n"                                                    \
    "    capabilities: [file_operations]\n"                                           \
    "    weight: light\n" extra

static void test_catalog_minimal(void **state)
{
    const char *y = TYPES ENTRY("    task_types: [deploy, generate]\n"
                                "    match: {packages: [one-mcp], commands: [\"one serve\"],\n"
                                "            urls: [one.example], names: [uno]}\n"
                                "  - {id: two, description: d, capabilities: [], weight: both,\n"
                                "     builtin: true}\n");
    struct registry_catalog *c = NULL;
    char *err = NULL;
    if (registry_catalog_load("t.yaml", y, strlen(y), &c, &err) != 0)
        fail_msg("%s", err);
    static const struct match_case cases[] = {
        {"x", "uvx", {"one-mcp@2"}, NULL, "one"},
        {"x", "/bin/one", {"serve", "--port", "1"}, NULL, "one"},
        {"x", "/bin/one", {"--port", "1", "serve"}, NULL, NULL},
        {"x", NULL, {NULL}, "https://ONE.example/mcp", "one"},
        {"UNO", NULL, {NULL}, NULL, "one"},
        {"two", NULL, {NULL}, NULL, "two"},
        {"two", "two", {NULL}, NULL, NULL},
    };
    run_match_cases(c, cases, ARRAY_LEN(cases));
    struct registry_profile p = resolve_ok(c, "uno", NULL, NULL, NULL, NULL, 0, NULL);
    static const char *const types[] = {"generate", "deploy", NULL};
    assert_strv("types", p.task_types, p.ntask_types, types);
    registry_profile_fini(&p);
    registry_catalog_free(c);
    registry_catalog_free(NULL);
}

static void test_catalog_errors(void **state)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"", "t.yaml: the catalog is empty; it needs 'task_types' and 'servers'"},
        {"task_types: [\n", "t.yaml:2:1: did not find expected node content while parsing a "
                            "flow node"},
        {"- 1\n", "t.yaml:1:1: 'the catalog' must be a mapping, not a sequence"},
        {TYPES "server: []\n", "t.yaml:9:1: unknown key 'server' in the catalog; expected one "
                               "of: task_types, servers"},
        {TYPES, "t.yaml:1:1: the catalog needs 'task_types' and 'servers'"},
        {"task_types:\n  generate: {capabilities: [file_operations], weight: light}\n"
         "servers: []\n",
         "t.yaml:2:3: task type 'refactor' is missing from task_types"},
        {"task_types:\n  generate: {capabilities: [file_ops], weight: light}\nservers: []\n",
         "t.yaml:2:29: unknown capability 'file_ops'; expected one of: code_analysis, "
         "code_search, command_execution, context_persistence, documentation, "
         "file_operations, mcp_diagnostics, repository_management, security_analysis, "
         "semantic_search, testing, web_fetch"},
        {"task_types:\n  generate: {capabilities: [testing], weight: both}\nservers: []\n",
         "t.yaml:2:47: 'weight' must be light or heavy, got 'both'"},
        {"task_types:\n  generate: {capabilities: [testing], heavy: true}\nservers: []\n",
         "t.yaml:2:39: unknown key 'heavy' in a task type; expected one of: capabilities, "
         "weight"},
        {TYPES ENTRY("    capability: [testing]\n"),
         "t.yaml:14:5: unknown key 'capability' in a server entry; expected one of: id, "
         "description, builtin, match, capabilities, task_types, weight"},
        {TYPES ENTRY("    task_types: [generate, ship]\n"),
         "t.yaml:14:28: unknown task type 'ship'; expected one of: generate, refactor, debug, "
         "review, document, test, deploy"},
        {TYPES ENTRY("  - {id: two, description: d, capabilities: [fetching], weight: light}\n"),
         "t.yaml:14:46: unknown capability 'fetching'; expected one of: code_analysis, "
         "code_search, command_execution, context_persistence, documentation, "
         "file_operations, mcp_diagnostics, repository_management, security_analysis, "
         "semantic_search, testing, web_fetch"},
        {TYPES ENTRY("  - {id: two, description: d, capabilities: [], weight: medium}\n"),
         "t.yaml:14:57: 'weight' must be light, heavy or both, got 'medium'"},
        {TYPES ENTRY("  - {id: two, description: d, capabilities: []}\n"),
         "t.yaml:14:5: server entry needs 'weight'"},
        {TYPES ENTRY("  - {id: two, description: d, capabilities: [], weight: light, "
                     "match: {names: [ONE]}}\n"),
         "t.yaml:14:80: name 'ONE' is already used by entry 'one'"},
        {TYPES ENTRY("    match: {names: [two]}\n"
                     "  - {id: two, description: d, capabilities: [], weight: light}\n"),
         "t.yaml:15:10: name 'two' is already used by entry 'one'"},
        {TYPES ENTRY("    match: {names: [a_b, a-b]}\n"),
         "t.yaml:14:26: name 'a-b' is already used by entry 'one'"},
        {TYPES ENTRY("    builtin: true\n    match: {packages: [one-mcp]}\n"),
         "t.yaml:15:13: unknown key 'packages' in a builtin entry's match (by name only); "
         "expected one of: names"},
        {TYPES ENTRY("    builtin: yes\n"), "t.yaml:14:14: 'builtin' must be true or false"},
        {TYPES ENTRY("    match: {packages: [\"semgrep mcp\"]}\n"),
         "t.yaml:14:24: package 'semgrep mcp' must be one word; use 'commands' for a "
         "sequence of words"},
        {TYPES ENTRY("    match: {urls: [\"\"]}\n"), "t.yaml:14:20: 'urls' must not be empty"},
        {TYPES ENTRY("    match: {urls: example.com}\n"),
         "t.yaml:14:19: 'urls' must be a list, not a scalar"},
        {TYPES ENTRY("  - {id: Two!, description: d, capabilities: [], weight: light}\n"),
         "t.yaml:14:10: id 'Two!' must be lower-case letters, digits, '_' or '-'"},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct registry_catalog *c = NULL;
        char *err = NULL;
        int rc = registry_catalog_load("t.yaml", cases[i].text, strlen(cases[i].text), &c,
                                       &err);
        if (rc != -1 || !err || strcmp(err, cases[i].want)) {
            print_error("case %zu: rc %d, error:\n  %s\nwant:\n  %s\n", i, rc,
                        err ? err : "(none)", cases[i].want);
            bad++;
        }
        assert_null(c);
        free(err);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_task_types),
        cmocka_unit_test(test_vocabulary),
        cmocka_unit_test(test_match_command_lines),
        cmocka_unit_test(test_match_urls),
        cmocka_unit_test(test_match_names),
        cmocka_unit_test(test_builtin_flag),
        cmocka_unit_test(test_catalog_profiles),
        cmocka_unit_test(test_derive_caps),
        cmocka_unit_test(test_derive_words),
        cmocka_unit_test(test_derived_profile),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_catalog_minimal),
        cmocka_unit_test(test_catalog_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
