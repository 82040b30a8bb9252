/* engine_admin.c — changing the registry at run time: servers added,
 * removed, enabled, disabled and restarted. Additions and enable/disable
 * are kept in servers_runtime (004_registry.sql) and applied again by the
 * next engine_new, so the CLI (one process per command) and the UI (a
 * long-running one) share them. */
#include "engine_int.h"

/* === the store === */

static int runtime_put(struct engine *e, const char *name, const char *spec_json, int enabled,
                       char **errmsg)
{
    sqlite3_stmt *st;
    const char *sql =
        enabled < 0
            ? "INSERT INTO servers_runtime (name, spec_json, updated_ms) VALUES (?1, ?2, ?4) "
              "ON CONFLICT (name) DO UPDATE SET spec_json = ?2, updated_ms = ?4"
            : spec_json
            ? "INSERT INTO servers_runtime (name, spec_json, enabled, updated_ms) "
              "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET spec_json = ?2, "
              "enabled = ?3, updated_ms = ?4"
            : "INSERT INTO servers_runtime (name, enabled, updated_ms) VALUES (?1, ?3, ?4) "
              "ON CONFLICT (name) DO UPDATE SET enabled = ?3, updated_ms = ?4";
    engine_tx_flush(e);
    if (sqlite3_prepare_v2(db_handle(e->db), sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (spec_json)
        sqlite3_bind_text(st, 2, spec_json, -1, SQLITE_STATIC);
    if (enabled >= 0)
        sqlite3_bind_int(st, 3, enabled);
    sqlite3_bind_int64(st, 4, util_wall_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
fail:
    *errmsg = xasprintf("cannot record server %s in %s: %s", name, e->db_path,
                        sqlite3_errmsg(db_handle(e->db)));
    return -1;
}

/* A server definition (the config's keys, as a JSON object) checked by the
 * config loader itself. The config is kept by the engine: servers borrow
 * their definition from it. */
static int parse_spec(struct engine *e, const char *name, const char *spec_json,
                      const struct config_server **out, char **errmsg)
{
    cJSON *spec = cJSON_Parse(spec_json);
    if (!cJSON_IsObject(spec)) {
        cJSON_Delete(spec);
        *errmsg = xasprintf("server %s: the definition must be a JSON object such as "
                            "{\"command\": \"node\", \"args\": [\"server.js\"]}", name);
        return -1;
    }
    cJSON *doc = cJSON_CreateObject();
    cJSON *servers = cJSON_AddObjectToObject(doc, "servers");
    cJSON_AddItemToObject(servers, name, spec);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    char *where = xasprintf("<server %s>", name);
    struct config *c = NULL;
    int rc = config_load_string(where, text, strlen(text), &c, errmsg);
    free(where);
    cJSON_free(text);
    if (rc < 0)
        return -1;
    engine_secrets_register(c);
    e->extra = xrealloc(e->extra, (e->nextra + 1) * sizeof *e->extra);
    e->extra[e->nextra++] = c;
    *out = &c->servers[0];
    return 0;
}

static void server_stop(struct server *s, const char *why)
{
    if (s->restart_timer) {
        loop_timer_del(s->e->loop, s->restart_timer);
        s->restart_timer = 0;
    }
    engine_server_reset_client(s);
    free(s->last_error);
    s->last_error = why ? xstrdup(why) : NULL;
}

/* Apply servers_runtime: added servers, then enable/disable overrides. */
void engine_admin_load(struct engine *e)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "SELECT name, spec_json, enabled FROM servers_runtime ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *spec = (const char *)sqlite3_column_text(st, 1);
        char *err = NULL;
        const struct config_server *cs;
        if (spec && !engine_server_find(e, name)) {
            if (parse_spec(e, name, spec, &cs, &err) < 0 ||
                engine_add_server(e, cs, &err) < 0) {
                struct engine_event ev = {ENGINE_EV_LOG, 0, 0, name, err, 0, 0, NULL};
                engine_emit(e, &ev);
                free(err);
                continue;
            }
        }
        struct server *s = engine_server_find(e, name);
        if (s && sqlite3_column_type(st, 2) != SQLITE_NULL)
            s->state = sqlite3_column_int(st, 2) ? SERVER_STOPPED : SERVER_DISABLED;
    }
    sqlite3_finalize(st);
}

/* === commands === */

int engine_server_add(struct engine *e, const char *name, const char *spec_json, char **errmsg)
{
    if (engine_server_find(e, name)) {
        *errmsg = xasprintf("a server named '%s' already exists", name);
        return -1;
    }
    const struct config_server *cs;
    if (parse_spec(e, name, spec_json, &cs, errmsg) < 0 || engine_add_server(e, cs, errmsg) < 0)
        return -1;
    if (runtime_put(e, name, spec_json, 1, errmsg) < 0)
        return -1;
    struct server *s = engine_server_find(e, name);
    engine_emit_server(e, s);
    if (e->scheduling) {
        char *err = NULL;
        if (engine_server_start(s, &err) < 0)
            free(err);
    }
    return 0;
}

int engine_server_remove(struct engine *e, const char *name, char **errmsg)
{
    struct server *s = engine_server_find(e, name);
    sqlite3_stmt *st;
    engine_tx_flush(e);
    if (sqlite3_prepare_v2(db_handle(e->db),
                           "DELETE FROM servers_runtime WHERE name = ?1 AND spec_json IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK) {
        *errmsg = xasprintf("cannot update %s", e->db_path);
        return -1;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (sqlite3_changes(db_handle(e->db)) == 0) {
        *errmsg = !s         ? xasprintf("unknown server '%s'", name)
                  : s->builtin ? xasprintf("server %s is built in; disable it instead", name)
                               : xasprintf("server %s comes from %s, not from `servers add`: "
                                           "remove it there, or disable it", name,
                                           e->cfg->source);
        return -1;
    }
    if (s) {               /* gone for good: stopped now, absent next time */
        server_stop(s, "removed");
        s->state = SERVER_DISABLED;
        s->removed = 1;
        engine_server_release_parked(s);
        engine_emit_server(e, s);
    }
    return 0;
}

int engine_server_enable(struct engine *e, const char *name, int on, char **errmsg)
{
    struct server *s = engine_server_find(e, name);
    if (!s || s->removed) {
        *errmsg = xasprintf("unknown server '%s'", name);
        return -1;
    }
    if (runtime_put(e, name, NULL, on != 0, errmsg) < 0)
        return -1;
    if (on && s->state == SERVER_DISABLED) {
        s->state = SERVER_STOPPED;
        if (e->scheduling) {
            char *err = NULL;
            if (engine_server_start(s, &err) < 0)
                free(err);
        }
    } else if (!on && s->state != SERVER_DISABLED) {
        server_stop(s, "disabled");
        s->state = SERVER_DISABLED;
        engine_server_release_parked(s);
    }
    engine_emit_server(e, s);
    return 0;
}

int engine_server_restart(struct engine *e, const char *name, char **errmsg)
{
    struct server *s = engine_server_find(e, name);
    if (!s || s->removed) {
        *errmsg = xasprintf("unknown server '%s'", name);
        return -1;
    }
    if (s->state == SERVER_DISABLED) {
        *errmsg = xasprintf("server %s is disabled; enable it first", name);
        return -1;
    }
    server_stop(s, NULL);
    s->state = SERVER_STOPPED;
    s->crashes = 0;
    return engine_server_start(s, errmsg);
}
