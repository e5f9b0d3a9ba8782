/*
 * pool.c - worker threads that drive executions, and the scanner that
 * resumes the ones nobody runs (see pool.h).
 */
#include "flow/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/flows.h"
#include "core/log.h"
#include "core/mem.h"
#include "flow/runner.h"
#include "core/banned.h"

#define MAX_WORKERS 256

struct flow_pool {
    struct flow_pool_opts o;
    char owner[300];
    pthread_mutex_t mu;
    pthread_cond_t cond;    /* work queued, or stopping */
    pthread_cond_t tick;    /* the scanner's sleep (CLOCK_MONOTONIC) */
    int64_t *queue;         /* ids waiting, oldest first */
    size_t nqueue, capqueue;
    int64_t *busy;          /* ids being run, one slot per worker */
    atomic_bool stopping;
    pthread_t workers[MAX_WORKERS];
    size_t nworkers;
    pthread_t scanner;
    bool scanner_started;
    /* counters, under mu */
    uint64_t finished[5];   /* by enum flow_status */
    uint64_t resumed, abandoned;
};

const char *
flow_pool_owner(const struct flow_pool *p)
{
    return p->owner;
}

int64_t
flow_pool_lease_ms(const struct flow_pool *p)
{
    return p->o.lease_ms;
}

/* Whether id is queued or running.  Under mu. */
static bool
known(const struct flow_pool *p, int64_t id)
{
    for (size_t i = 0; i < p->nqueue; i++)
        if (p->queue[i] == id)
            return true;
    for (size_t i = 0; i < p->nworkers; i++)
        if (p->busy[i] == id)
            return true;
    return false;
}

static void
submit_locked(struct flow_pool *p, int64_t id)
{
    if (known(p, id))
        return;
    if (p->nqueue == p->capqueue) {
        p->capqueue = p->capqueue ? p->capqueue * 2 : 64;
        p->queue = sl_realloc(p->queue, p->capqueue * sizeof(*p->queue));
    }
    p->queue[p->nqueue++] = id;
    pthread_cond_signal(&p->cond);
}

void
flow_pool_submit(struct flow_pool *p, int64_t id)
{
    pthread_mutex_lock(&p->mu);
    submit_locked(p, id);
    pthread_mutex_unlock(&p->mu);
}

struct worker_arg {
    struct flow_pool *p;
    size_t slot;
};

static void *
worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct flow_pool *p = wa->p;
    size_t slot = wa->slot;
    struct catalog *cat = NULL;
    struct sl_diag d;
    struct flow_runner_opts ro = {
        .owner = p->owner,
        .lease_ms = p->o.lease_ms,
        .cancel = &p->stopping,
        .catalog = p->o.catalog,
    };

    free(wa);
    for (;;) {
        struct flow_result res;
        int64_t id;
        int rc;

        pthread_mutex_lock(&p->mu);
        while (p->nqueue == 0 && !atomic_load(&p->stopping))
            pthread_cond_wait(&p->cond, &p->mu);
        if (atomic_load(&p->stopping)) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        id = p->queue[0];
        memmove(p->queue, p->queue + 1, --p->nqueue * sizeof(*p->queue));
        p->busy[slot] = id;
        pthread_mutex_unlock(&p->mu);

        sl_diag_init(&d);
        rc = cat ? 0 : catalog_open(p->o.catalog, 0, &cat, &d);
        if (rc == 0)
            rc = flow_runner_drive(cat, id, &ro, &res, &d);
        pthread_mutex_lock(&p->mu);
        p->busy[slot] = 0;
        if (rc == 0)
            p->finished[res.status]++;
        else
            p->abandoned++;
        pthread_mutex_unlock(&p->mu);
        if (rc == 0) {
            SL_INFO("flow", "execution %lld: %s%s%s", (long long)id, flow_status_name(res.status),
                    res.error ? " " : "", res.error ? res.error : "");
            flow_result_release(&res);
        } else if (rc == SL_ERR_BUSY || atomic_load(&p->stopping)) {
            SL_INFO("flow", "execution %lld: %s", (long long)id, d.msg);
        } else {
            SL_WARN("flow", "execution %lld: %s", (long long)id, d.msg);
            /* A broken connection is opened afresh for the next one. */
            catalog_close(cat);
            cat = NULL;
        }
    }
    catalog_close(cat);
    return NULL;
}

/* ---- the scanner --------------------------------------------------------- */

struct scan_ctx {
    struct flow_pool *p;
    int64_t now;
    int64_t *ids;
    size_t n, cap;
};

static int
orphan_row(void *arg, const struct flow_execution_record *e)
{
    struct scan_ctx *c = arg;

    if (e->lease_until >= c->now && !flow_owner_dead(e->owner) &&
        strcmp(e->owner, c->p->owner) != 0)
        return 0; /* someone runs it */
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->ids = sl_realloc(c->ids, c->cap * sizeof(*c->ids));
    }
    c->ids[c->n++] = e->id;
    return 0;
}

static int
scan_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct scan_ctx *c = arg;

    c->n = 0;
    return catalog_flow_execution_list(txn, NULL, "RUNNING", 0, 1000, orphan_row, c, d);
}

static void *
scanner_main(void *arg)
{
    struct flow_pool *p = arg;
    struct catalog *cat = NULL;

    pthread_mutex_lock(&p->mu);
    while (!atomic_load(&p->stopping)) {
        struct scan_ctx c = {.p = p, .now = flow_real_clock.now_ms(NULL)};
        struct timespec until;
        struct sl_diag d;
        int rc;

        pthread_mutex_unlock(&p->mu);
        sl_diag_init(&d);
        rc = cat ? 0 : catalog_open(p->o.catalog, 0, &cat, &d);
        if (rc == 0)
            rc = catalog_txn_run(cat, CATALOG_READ, scan_txn, &c, &d);
        if (rc < 0) {
            SL_WARN("flow", "looking for executions to resume: %s", d.msg);
            catalog_close(cat);
            cat = NULL;
        }
        pthread_mutex_lock(&p->mu);
        for (size_t i = 0; rc == 0 && i < c.n; i++) {
            if (known(p, c.ids[i]))
                continue;
            SL_INFO("flow", "execution %lld: resuming it (its runner is gone)",
                    (long long)c.ids[i]);
            p->resumed++;
            submit_locked(p, c.ids[i]);
        }
        free(c.ids);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += p->o.scan_ms / 1000;
        until.tv_nsec += (p->o.scan_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        while (!atomic_load(&p->stopping) &&
               pthread_cond_timedwait(&p->tick, &p->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&p->mu);
    catalog_close(cat);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------- */

int
flow_pool_start(const struct flow_pool_opts *o, struct flow_pool **out, struct sl_diag *d)
{
    struct flow_pool *p = sl_calloc(1, sizeof(*p));
    pthread_condattr_t ca;
    char host[256] = "";

    *out = NULL;
    p->o = *o;
    p->o.catalog = sl_strdup(o->catalog);
    if (p->o.workers < 1)
        p->o.workers = 1;
    if (p->o.workers > MAX_WORKERS)
        p->o.workers = MAX_WORKERS;
    gethostname(host, sizeof(host) - 1);
    snprintf(p->owner, sizeof(p->owner), "%s:%d", host, (int)getpid());
    p->busy = sl_calloc((size_t)p->o.workers, sizeof(*p->busy));
    atomic_init(&p->stopping, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->tick, &ca);
    pthread_condattr_destroy(&ca);
    for (int64_t i = 0; i < p->o.workers; i++) {
        struct worker_arg *wa = sl_calloc(1, sizeof(*wa));

        wa->p = p;
        wa->slot = (size_t)i;
        if (pthread_create(&p->workers[p->nworkers], NULL, worker_main, wa) != 0) {
            free(wa);
            flow_pool_stop(p);
            return sl_fail(d, -EAGAIN, "cannot start the flow workers");
        }
        p->nworkers++;
    }
    if (pthread_create(&p->scanner, NULL, scanner_main, p) != 0) {
        flow_pool_stop(p);
        return sl_fail(d, -EAGAIN, "cannot start the flow scanner");
    }
    p->scanner_started = true;
    *out = p;
    return 0;
}

void
flow_pool_stop(struct flow_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, true);
    pthread_cond_broadcast(&p->cond);
    pthread_cond_broadcast(&p->tick);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    if (p->scanner_started)
        pthread_join(p->scanner, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_cond_destroy(&p->tick);
    pthread_mutex_destroy(&p->mu);
    free((char *)p->o.catalog);
    free(p->queue);
    free(p->busy);
    free(p);
}

void
flow_pool_metrics(struct flow_pool *p, struct sl_buf *out)
{
    size_t running = 0;

    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nworkers; i++)
        running += p->busy[i] != 0;
    sl_buf_addf(out,
                "# HELP sluice_flow_executions Executions of state machines this node runs or "
                "has waiting.\n"
                "# TYPE sluice_flow_executions gauge\n"
                "sluice_flow_executions{state=\"running\"} %zu\n"
                "sluice_flow_executions{state=\"waiting\"} %zu\n",
                running, p->nqueue);
    sl_buf_addf(out,
                "# HELP sluice_flow_executions_finished_total Executions this node ran to their "
                "end, by status.\n"
                "# TYPE sluice_flow_executions_finished_total counter\n");
    for (int s = FLOW_SUCCEEDED; s <= FLOW_ABORTED; s++)
        sl_buf_addf(out, "sluice_flow_executions_finished_total{status=\"%s\"} %llu\n",
                    flow_status_name((enum flow_status)s), (unsigned long long)p->finished[s]);
    sl_buf_addf(out,
                "# HELP sluice_flow_executions_resumed_total Executions this node took over "
                "from a runner that was gone.\n"
                "# TYPE sluice_flow_executions_resumed_total counter\n"
                "sluice_flow_executions_resumed_total %llu\n",
                (unsigned long long)p->resumed);
    pthread_mutex_unlock(&p->mu);
}
