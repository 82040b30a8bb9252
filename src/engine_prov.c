/* engine_prov.c — job provenance: which repository state a job ran on.
 *
 * When a job starts, a "provenance" event records the workspace's git
 * repository root, its HEAD commit and branch, and whether tracked files
 * were dirty ({"root":...,"head":...,"branch":...,"dirty":true}; outside a
 * repository {"repository":null,"root":...}), and when the tree was read
 * ("scanned_ms", Unix ms). The status scan that finds "dirty" reads the
 * whole work tree, so it runs on a worker; jobs that start while a scan is
 * in flight share its answer, and so do jobs that start within
 * PROV_REUSE_MS of its start (back-to-back scans of a large tree kept a
 * core busy under a stream of short jobs). The events are
 * written on the loop thread when the scan ends, or by
 * engine_provenance_flush() when the engine stops first (it waits for
 * the scan: a short job must not lose its provenance). */
#include "engine_int.h"

#include "gitctx.h"

#include <pthread.h>

enum { PROV_REUSE_MS = 500 };

struct engine_prov {
    struct engine *e;
    char *root;
    int64_t *jobs;
    size_t njobs;
    struct gitctx_provenance p;
    int64_t started_ms;          /* monotonic, when the scan began */
    int64_t scanned_wall;        /* Unix ms, the same moment */
    int ok;
    int written;                 /* flushed: the done callback only frees */
    int finished;                /* the worker is done (under mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static void prov_work(void *arg)
{
    struct engine_prov *pv = arg;
    char *err = NULL;
    int ok = gitctx_provenance(pv->root, &pv->p, &err) == 0;
    free(err);
    pthread_mutex_lock(&pv->mu);
    pv->ok = ok;
    pv->finished = 1;
    pthread_cond_broadcast(&pv->cv);
    pthread_mutex_unlock(&pv->mu);
}

static void prov_write(struct engine_prov *pv)
{
    struct engine *e = pv->e;
    cJSON *d = cJSON_CreateObject();
    if (pv->ok) {
        cJSON_AddStringToObject(d, "root", pv->p.root);
        cJSON_AddStringToObject(d, "head", pv->p.head);
        if (pv->p.branch)
            cJSON_AddStringToObject(d, "branch", pv->p.branch);
        else
            cJSON_AddNullToObject(d, "branch");
        cJSON_AddBoolToObject(d, "dirty", pv->p.dirty);
    } else {
        cJSON_AddNullToObject(d, "repository");
        cJSON_AddStringToObject(d, "root", pv->root);
    }
    cJSON_AddNumberToObject(d, "scanned_ms", (double)pv->scanned_wall);
    char *t = cJSON_PrintUnformatted(d);
    engine_tx_touch(e);
    for (size_t i = 0; i < pv->njobs; i++)
        jobq_event_add(e->q, pv->jobs[i], "provenance", t);
    free(e->prov_last);          /* what the next jobs may share */
    e->prov_last = t;
    e->prov_last_ms = pv->started_ms;
    cJSON_Delete(d);
    pv->written = 1;
}

static void prov_done(void *arg)
{
    struct engine_prov *pv = arg;
    struct engine *e = pv->e;
    if (!pv->written) {
        if (e->prov == pv)
            e->prov = NULL;
        if (!e->stopping)
            prov_write(pv);
    }
    gitctx_provenance_fini(&pv->p);
    pthread_mutex_destroy(&pv->mu);
    pthread_cond_destroy(&pv->cv);
    free(pv->root);
    free(pv->jobs);
    free(pv);
}

void engine_provenance_record(struct engine *e, int64_t job_id)
{
    struct engine_prov *pv = e->prov;
    if (!pv && e->prov_last && util_now_ms() - e->prov_last_ms < PROV_REUSE_MS) {
        engine_tx_touch(e);
        jobq_event_add(e->q, job_id, "provenance", e->prov_last);
        return;
    }
    if (!pv) {
        pv = xcalloc(1, sizeof *pv);
        pv->e = e;
        pv->started_ms = util_now_ms();
        pv->scanned_wall = util_wall_ms();
        pv->root = xstrdup(e->root);
        pthread_mutex_init(&pv->mu, NULL);
        pthread_cond_init(&pv->cv, NULL);
        e->prov = pv;
        loop_work(e->loop, prov_work, prov_done, pv);
    }
    pv->jobs = xrealloc(pv->jobs, (pv->njobs + 1) * sizeof *pv->jobs);
    pv->jobs[pv->njobs++] = job_id;
}

void engine_provenance_flush(struct engine *e)
{
    struct engine_prov *pv = e->prov;
    if (!pv)
        return;
    pthread_mutex_lock(&pv->mu);
    while (!pv->finished)
        pthread_cond_wait(&pv->cv, &pv->mu);
    pthread_mutex_unlock(&pv->mu);
    e->prov = NULL;
    prov_write(pv);              /* the worker's done callback frees it later */
}
