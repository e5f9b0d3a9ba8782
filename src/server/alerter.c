/*
 * alerter.c - the delivery of quality gates' alerts (see alerter.h).
 */
#include "server/alerter.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/mem.h"
#include "quality/alert.h"
#include "core/banned.h"

/* Alerts posted per round at most: a backlog drains over rounds. */
#define ROUND_MAX 50

struct alerter {
    struct project *project;
    struct catalog *cat;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    bool stop;
    struct sl_buf metrics; /* as of the last round, under mu */
};

static void
round_once(struct alerter *a)
{
    struct catalog_lock *lock = NULL;
    struct quality_delivery out;
    struct sl_buf m;
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_lock(a->cat, "alerts", false, &lock, &d) == 0) {
        if (quality_alert_deliver(a->cat, &a->project->config.alerts, false, ROUND_MAX, &out,
                                  &d) < 0)
            SL_WARN("quality", "delivering alerts: %s", d.msg);
        catalog_unlock(lock);
    }
    sl_buf_init(&m);
    sl_diag_init(&d);
    if (quality_alert_metrics(a->cat, &m, &d) == 0) {
        pthread_mutex_lock(&a->mu);
        sl_buf_reset(&a->metrics);
        sl_buf_add(&a->metrics, m.data, m.len);
        pthread_mutex_unlock(&a->mu);
    }
    sl_buf_release(&m);
}

static void *
alerter_main(void *arg)
{
    struct alerter *a = arg;

    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec until;

        pthread_mutex_unlock(&a->mu);
        round_once(a);
        pthread_mutex_lock(&a->mu);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        while (!a->stop && pthread_cond_timedwait(&a->cond, &a->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

int
alerter_start(struct project *p, struct alerter **out, struct sl_diag *d)
{
    struct alerter *a = sl_calloc(1, sizeof(*a));
    pthread_condattr_t ca;
    int rc = catalog_open(p->catalog, 0, &a->cat, d);

    *out = NULL;
    if (rc < 0) {
        free(a);
        return rc;
    }
    a->project = p;
    sl_buf_init(&a->metrics);
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&a->thread, NULL, alerter_main, a) != 0) {
        pthread_cond_destroy(&a->cond);
        pthread_mutex_destroy(&a->mu);
        catalog_close(a->cat);
        sl_buf_release(&a->metrics);
        free(a);
        return sl_fail(d, -EAGAIN, "cannot start the alerts thread");
    }
    *out = a;
    return 0;
}

void
alerter_stop(struct alerter *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->mu);
    catalog_close(a->cat);
    sl_buf_release(&a->metrics);
    free(a);
}

void
alerter_metrics(struct alerter *a, struct sl_buf *out)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->mu);
    if (a->metrics.len > 0)
        sl_buf_add(out, a->metrics.data, a->metrics.len);
    pthread_mutex_unlock(&a->mu);
}
