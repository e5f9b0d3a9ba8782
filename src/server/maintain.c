/*
 * maintain.c - the table maintenance schedule of `sluice serve` (see
 * maintain.h).
 */
#include "server/maintain.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/proc.h"
#include "core/banned.h"

struct maintainer {
    struct project *project;
    char *self;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    bool stop;
    pid_t child;         /* the round in progress, or 0 */
    _Atomic uint64_t rounds, failures;
};

/* One round: sluice maintain over every curated and gold table. */
static void
round_once(struct maintainer *m)
{
    char *argv[] = {m->self, "--project", m->project->root, "maintain", NULL};
    pid_t pid;
    int rc;

    pthread_mutex_lock(&m->mu);
    rc = m->stop ? -ECANCELED : sl_spawn(m->self, argv, &pid);
    if (rc == 0)
        m->child = pid;
    pthread_mutex_unlock(&m->mu);
    if (rc == -ECANCELED)
        return;
    if (rc < 0) {
        SL_ERROR("maintenance", "cannot start 'sluice maintain': %s", strerror(-rc));
        atomic_fetch_add(&m->failures, 1);
        return;
    }
    rc = sl_wait(pid);
    pthread_mutex_lock(&m->mu);
    m->child = 0;
    pthread_mutex_unlock(&m->mu);
    atomic_fetch_add(&m->rounds, 1);
    if (rc != 0) {
        atomic_fetch_add(&m->failures, 1);
        SL_WARN("maintenance", "'sluice maintain' failed (%s %d); the next round tries again",
                rc < 128 ? "exit status" : "signal", rc < 128 ? rc : rc - 128);
    }
}

static void *
maintainer_main(void *arg)
{
    struct maintainer *m = arg;
    int64_t every = m->project->config.maintenance.every;

    pthread_mutex_lock(&m->mu);
    while (!m->stop) {
        struct timespec until;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)every;
        while (!m->stop && pthread_cond_timedwait(&m->cond, &m->mu, &until) != ETIMEDOUT)
            ;
        if (m->stop)
            break;
        pthread_mutex_unlock(&m->mu);
        round_once(m);
        pthread_mutex_lock(&m->mu);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

int
maintainer_start(struct project *p, struct maintainer **out, struct sl_diag *d)
{
    struct maintainer *m;
    pthread_condattr_t ca;

    *out = NULL;
    if (p->config.maintenance.every <= 0)
        return 0;
    m = sl_calloc(1, sizeof(*m));
    m->project = p;
    m->self = sl_self_path();
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&m->thread, NULL, maintainer_main, m) != 0) {
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->mu);
        free(m->self);
        free(m);
        return sl_fail(d, -EAGAIN, "cannot start the maintenance thread");
    }
    SL_INFO("maintenance", "tables maintained every %" PRId64 " s", p->config.maintenance.every);
    *out = m;
    return 0;
}

void
maintainer_stop(struct maintainer *m)
{
    if (m == NULL)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    if (m->child > 0)
        kill(m->child, SIGTERM);
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    free(m->self);
    free(m);
}

void
maintainer_metrics(struct maintainer *m, struct sl_buf *out)
{
    sl_buf_addf(out,
                "# HELP sluice_maintenance_rounds_total Rounds of table maintenance "
                "(sluice maintain) this node ran.\n"
                "# TYPE sluice_maintenance_rounds_total counter\n"
                "sluice_maintenance_rounds_total %" PRIu64 "\n"
                "# HELP sluice_maintenance_failures_total Rounds that failed in part or "
                "could not start.\n"
                "# TYPE sluice_maintenance_failures_total counter\n"
                "sluice_maintenance_failures_total %" PRIu64 "\n",
                m ? atomic_load(&m->rounds) : 0, m ? atomic_load(&m->failures) : 0);
}
