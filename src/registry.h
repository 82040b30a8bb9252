/* registry.h — what each MCP server is good for: the server catalog and
 * capability profiles the task router scores against.
 *
 * A profile is a server's capabilities (a closed vocabulary, below), the
 * task types it serves and its routing weight (light, heavy or both). It
 * comes from one of three places, the later overriding the earlier:
 *
 *   1. the catalog, data/registry.yaml (embedded in the binary): an entry
 *      is matched by what the server runs or where it lives, else by its
 *      configured name (see "Matching");
 *   2. for a server the catalog does not know, capabilities derived from
 *      its tools' names and descriptions (see "Derivation"); such a
 *      profile is marked REGISTRY_DERIVED;
 *   3. the config: capabilities, task types and weight set there replace
 *      whatever 1 or 2 gave.
 *
 * Capabilities (the closed vocabulary; anything else is an error):
 *   code_analysis          parse, AST, symbols, lint, static analysis
 *   code_search            find code, text or files in a codebase
 *   command_execution      run shell commands, scripts or programs
 *   context_persistence    remember facts across sessions (memory, knowledge graph)
 *   documentation          look up or produce documentation
 *   file_operations        read, write, list and move files and directories
 *   mcp_diagnostics        exercise MCP protocol features (echo, sampling,
 *                          elicitation): for trying a client, not for coding
 *   repository_management  git history, branches, diffs, commits, pull requests, issues
 *   security_analysis      vulnerabilities, secrets, CVEs, security scanners
 *   semantic_search        embedding / vector similarity search
 *   testing                write or run tests, coverage
 *   web_fetch              fetch URLs and web pages
 *
 * Matching (registry_profile_resolve). What a server runs is better
 * evidence than what someone called it, so the steps are, first hit wins:
 *   a. command line: the words command, args[0], args[1], ... are walked
 *      in order; at each word every entry is tried in catalog order. A
 *      `packages` rule P matches a word equal to P, or containing P right
 *      after its start or a '/', and followed by its end, '/' or a version
 *      separator (@ = : < > ~ [ !): "@scope/pkg", "@scope/pkg@1.2",
 *      "/x/node_modules/@scope/pkg/dist/index.js", "mcp-server-git==0.6",
 *      "ghcr.io/github/github-mcp-server:latest". A `commands` rule
 *      "w1 w2 ..." matches when a word's basename is w1 and the following
 *      words are w2 ... ("semgrep mcp" matches "/usr/bin/semgrep mcp -t
 *      stdio"). Comparisons ignore case and treat '-' and '_' alike
 *      ("python -m mcp_server_git" is mcp-server-git). The earliest word
 *      wins, so the program run beats a directory passed to it.
 *   b. url: a `urls` rule is a substring (ignoring case) of the server's
 *      url, or of an argument containing "://" (a proxy such as
 *      "npx mcp-remote https://...").
 *   c. name: the configured name equals an entry's id or one of its
 *      `names` (ignoring case, '-' = '_'). Entries marked builtin (mcpdeck's
 *      in-process fs, git, memory) match by name only, and only a server
 *      with neither command nor url.
 *   So a server named "github" that runs "uvx mcp-server-git" is git.
 *
 * Derivation (registry_derive_caps). A tool's name and its description
 * are split into lower-case words (at anything not a letter or digit and
 * at camelCase humps: "sampleLLM" is "sample llm"). Each rule of the one
 * table in registry.c names a capability and one to three terms that must
 * all occur among the words; a term "x*" matches words starting with x,
 * any other term a word equal to it. The rules are tried on the tool's
 * name; only a tool whose name matches no rule is tried on its
 * description, and then without the rules marked (name) below, whose
 * words are too common in prose. The profile's capabilities are the union
 * over all tools, sorted.
 *   file_operations        file* | director* | dir | dirs | folder*
 *   code_search            grep* | ripgrep | find | search* with one of
 *                          code, file*, text, content*, symbol*, pattern*, regex*
 *   code_analysis          ast | lint* | symbol* | syntax* | sitter | complexity
 *                          | diagnos* | typecheck* | type + check* | analy* (name)
 *                          | parse* (name)
 *   security_analysis      vuln* | secret* | cve* | cwe | semgrep* | security
 *                          | sast | exploit* | malware | scanning + code
 *   repository_management  git | github | gitlab | commit* | branch* | diff
 *                          | diffs | repo | repos | repositor* | merge* | rebase*
 *                          | checkout | stash* | blame | pull + request*
 *                          | issue* (name)
 *   semantic_search        embed | embedding* | vector* | semantic* | similarity
 *   context_persistence    memor* | remember* | recall* | knowledge* | entit*
 *                          | observation* | note | notes
 *   web_fetch              fetch* | http* | web* | browse* | scrap* | crawl*
 *                          | download*
 *   testing                pytest | jest | vitest | test* (name) | coverage (name)
 *   documentation          docstring* | readme* | doc (name) | docs (name)
 *                          | documentation (name)
 *   command_execution      exec* | shell* | bash | terminal* | subprocess*
 *                          | run* + command* | run* + script* | run* + program*
 *   mcp_diagnostics        echo* | elicit* | sampling | sample* + llm | annotat* (name)
 * read and write alone are no rule: read_graph is the memory server's.
 *
 * Task types of a profile: the config's if set; else the matched catalog
 * entry's, unless the config replaced the capabilities; else derived:
 * every task type (of the catalog's task_types section) that requires at
 * least one of the profile's capabilities. Task types are listed in the
 * catalog's order. A derived profile's weight is both.
 *
 * Everything here is pure computation: any thread, no shared state. */
#ifndef MCPDECK_REGISTRY_H
#define MCPDECK_REGISTRY_H

#include <stddef.h>

struct registry_catalog;                       /* opaque */

/* Load a catalog from YAML text; name is used in messages. On error
 * returns -1 and *errmsg is "name:line:col: what was wrong" (caller
 * frees); unknown keys, unknown capabilities, unknown task types and
 * duplicate ids or names are errors. */
int registry_catalog_load(const char *name, const char *text, size_t len,
                          struct registry_catalog **out, char **errmsg);
/* The catalog compiled into the binary (data/registry.yaml). */
int registry_catalog_embedded(struct registry_catalog **out, char **errmsg);
void registry_catalog_free(struct registry_catalog *c);      /* NULL-safe */

struct registry_tool {
    const char *name;
    const char *description;    /* may be NULL */
};

struct registry_override {          /* from config; NULL/0 fields mean "not set" */
    const char *const *caps;
    size_t ncaps;
    int has_caps;
    const char *const *task_types;
    size_t ntask_types;
    int has_task_types;
    const char *weight;             /* "light", "heavy", "both" or NULL */
};

struct registry_profile {
    char *catalog_id;               /* matched catalog entry, or NULL */
    char *description;              /* catalog description, or NULL */
    char **caps;                    /* sorted, unique */
    size_t ncaps;
    char **task_types;              /* in the catalog's task_types order, unique */
    size_t ntask_types;
    int light, heavy;               /* routing flags */
    int builtin;                    /* matched a builtin (in-process) entry */
    enum registry_source {
        REGISTRY_FROM_CATALOG,
        REGISTRY_DERIVED,
        REGISTRY_FROM_CONFIG
    } source;                       /* where caps came from */
};

/* Resolve one server's profile: a catalog match (command+args, then url,
 * then name; see "Matching"), else derived from tools (tools may be
 * empty: then no caps, still derived), then ov applied on top (ov may be
 * NULL). name/command/args/url may be NULL. On success *out is filled
 * (caller frees with registry_profile_fini) and 0 returned. On error
 * (an unknown capability or task type or a bad weight in ov) returns -1,
 * *out is empty and *errmsg names the offender (caller frees). */
int registry_profile_resolve(const struct registry_catalog *c, const char *name,
                             const char *command, const char *const *args, size_t nargs,
                             const char *url, const struct registry_tool *tools, size_t ntools,
                             const struct registry_override *ov, struct registry_profile *out,
                             char **errmsg);
void registry_profile_fini(struct registry_profile *p);    /* NULL-safe; p is zeroed */

/* Capabilities derived from tools alone (see "Derivation"), sorted unique.
 * Returns their number; *out is a malloc'd NULL-terminated array of
 * malloc'd strings (caller frees each and the array), even when empty. */
size_t registry_derive_caps(const struct registry_tool *tools, size_t ntools, char ***out);

/* Task type type: *caps (borrowed from c) its required capabilities,
 * *heavy its default weight (1 heavy, 0 light). Returns 0, or -1 for an
 * unknown type. */
int registry_task_type(const struct registry_catalog *c, const char *type,
                       const char *const **caps, size_t *ncaps, int *heavy);
/* The catalog's task type names in its order (borrowed from c). */
const char *const *registry_task_types(const struct registry_catalog *c, size_t *n);
/* The capability vocabulary, sorted (static storage). */
const char *const *registry_capabilities(size_t *n);
int registry_is_capability(const char *cap);                 /* 1 or 0 */
const char *registry_source_name(enum registry_source s);    /* "catalog", "derived", "config" */

#endif
