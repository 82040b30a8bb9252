/* fuzz_serve.c — `mcpdeck serve` against a client that sends anything. One
 * engine with the built-in servers (fs, git, memory) serves every input,
 * from a temporary directory made the current one, so the fs tools'
 * workspace is that directory and nothing else; each input is one session: its lines are
 * the client's messages, each followed by a turn of the loop, then the
 * session ends (with whatever it started still running). Whatever comes:
 * no crash, leak or undefined behaviour, and everything serve sends back
 * is one JSON-RPC 2.0 message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "fuzz.h"
#include "loop.h"
#include "serve.h"
#include "util.h"

static char dir[64];
static struct engine *engine;
static struct serve *serve;

static void remove_dir(void)
{
    if (serve)
        serve_free(serve);
    if (engine)
        engine_free(engine);
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    free(cmd);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/fuzz_serve.XXXXXX");
    if (!mkdtemp(dir) || chdir(dir) != 0)
        abort();
    char *cfg = xasprintf("%s/c.yaml", dir);
    FILE *fp = fopen(cfg, "w");
    if (!fp)
        abort();
    fprintf(fp, "data_dir: %s/data\nserve: {page_size: 2, relay_timeout: 1s}\n", dir);
    fclose(fp);
    struct engine_opts o = {cfg, NULL, 2, NULL};
    char *err = NULL;
    if (engine_new(&o, &engine, &err) < 0) {
        fprintf(stderr, "engine_new: %s\n", err);
        abort();
    }
    free(cfg);
    engine_start(engine);
    if (engine_wait_servers(engine, 10000) != 0)
        abort();
    serve = serve_new(engine, &err);
    if (!serve)
        abort();
    atexit(remove_dir);
}

static void on_send(void *payload, const char *json, size_t len, const char *related)
{
    cJSON *m = cJSON_ParseWithLength(json, len);
    FUZZ_CHECK(m != NULL, "serve sent what is not JSON: %.*s", (int)len, json);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
    FUZZ_CHECK(cJSON_IsArray(m) || (cJSON_IsString(v) && strcmp(v->valuestring, "2.0") == 0),
               "serve sent a message that is not JSON-RPC 2.0: %.*s", (int)len, json);
    cJSON_Delete(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine)
        setup();
    struct loop *l = engine_loop(engine);
    struct serve_session *ss = serve_session_new(serve, on_send, NULL);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = fuzz_copy(p, len, 0);
        serve_session_receive(ss, line, len);
        free(line);
        loop_run_once(l, 0);
        p += len + 1;
    }
    loop_run_once(l, 0);
    serve_session_free(ss);
    loop_run_once(l, 0);
    return 0;
}
