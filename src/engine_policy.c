/* engine_policy.c — the tool policy (tools: in the config) for every way
 * a tool is called.
 *
 * Model tasks (engine_agent.c) offer only allowed, undenied tools and ask
 * before destructive calls. Direct calls — tool tasks from the queue
 * (batch, the TUI's tool form, `run`) and `mcpdeck call` — are checked
 * here just before they are sent: a denied tool never runs, and a
 * destructive one (its destructiveHint, or tools.destructive) runs only
 * when tools.approve allows it explicitly, or — for queued tool tasks in
 * the TUI — when the user approves it; otherwise the call is refused with
 * a message naming the setting. With tools.allow set, only the tools it
 * matches may run at all. */
#include "engine_int.h"

#include <fnmatch.h>

int engine_glob_any(char *const *globs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], name, 0) == 0)
            return 1;
    return 0;
}

int engine_tool_offered(const struct config_llm *L, const char *full)
{
    if (L->ntools_allow && !engine_glob_any(L->tools_allow, L->ntools_allow, full))
        return 0;
    return !engine_glob_any(L->tools_deny, L->ntools_deny, full);
}

int engine_tool_destructive(const struct config_llm *L, const char *full,
                            const struct mcp_tool *t)
{
    const cJSON *d = t ? cJSON_GetObjectItemCaseSensitive(t->annotations, "destructiveHint")
                       : NULL;
    const cJSON *ro = t ? cJSON_GetObjectItemCaseSensitive(t->annotations, "readOnlyHint")
                        : NULL;
    if (cJSON_IsTrue(d) && !cJSON_IsTrue(ro))
        return 1;
    return engine_glob_any(L->tools_destructive, L->ntools_destructive, full);
}

int engine_policy_check(struct engine *e, const char *server, const char *tool, char **why)
{
    const struct config_llm *L = &e->cfg->llm;
    /* "server.tool", without printf: this runs before every call */
    size_t ls = strlen(server), lt = strlen(tool);
    char *full = xmalloc(ls + lt + 2);
    memcpy(full, server, ls);
    full[ls] = '.';
    memcpy(full + ls + 1, tool, lt + 1);
    int rc = 0;
    *why = NULL;
    if (engine_glob_any(L->tools_deny, L->ntools_deny, full)) {
        *why = xasprintf("refused: %s is denied by tools.deny in the config", full);
        rc = -1;
        goto out;
    }
    if (L->ntools_allow && !engine_glob_any(L->tools_allow, L->ntools_allow, full)) {
        *why = xasprintf("refused: %s is not in tools.allow in the config", full);
        rc = -1;
        goto out;
    }
    struct server *s = engine_server_find(e, server);
    const struct mcp_tool *t = s && s->client ? mcp_client_find_tool(s->client, tool) : NULL;
    if (engine_tool_destructive(L, full, t) &&
        !engine_glob_any(L->tools_approve, L->ntools_approve, full)) {
        *why = xasprintf("refused: %s is destructive and needs an explicit allow: add it "
                         "to tools.approve in the config (tools: {approve: [\"%s\"]})",
                         full, full);
        rc = 1;                      /* the UI may still ask the user */
    }
out:
    free(full);
    return rc;
}
