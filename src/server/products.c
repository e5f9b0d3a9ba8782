/*
 * products.c - the data products' gauges of /metrics (see products.h).
 *
 * The thread's loop is the alerter's (alerter.c): measure, publish the
 * text under the mutex, wait on a condition variable on the monotonic
 * clock so that stopping does not wait out the interval.
 */
#include "server/products.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "catalog/catalog.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "engine/engine.h"
#include "quality/status.h"
#include "store/store.h"
#include "core/banned.h"

struct product_watch {
    struct project *project;
    struct catalog *cat;           /* the thread's own */
    struct store *store;
    struct engine *engine;         /* for tables whose files lack statistics */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;           /* on CLOCK_MONOTONIC */
    bool stop;
    bool warned;                   /* the last measurement failed and said so */
    struct sl_buf metrics;         /* as of the last measurement, under mu */
};

static void
measure_once(struct product_watch *w)
{
    struct quality_status_report r;
    struct sl_buf m;
    struct sl_diag d;

    quality_status_init(&r);
    sl_buf_init(&m);
    sl_diag_init(&d);
    if (quality_status_measure(w->cat, w->store, w->engine, w->project->config.products,
                               w->project->config.nproducts, sl_now_usec(), &r, &d) == 0) {
        quality_status_metrics(&r, &m);
        pthread_mutex_lock(&w->mu);
        sl_buf_reset(&w->metrics);
        sl_buf_add(&w->metrics, m.data, m.len);
        pthread_mutex_unlock(&w->mu);
        w->warned = false;
    } else if (!w->warned) {
        /* once per outage, not every round */
        SL_WARN("status", "measuring the data products: %s", d.msg);
        w->warned = true;
    }
    sl_buf_release(&m);
    quality_status_release(&r);
}

static void *
watch_main(void *arg)
{
    struct product_watch *w = arg;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec until;

        pthread_mutex_unlock(&w->mu);
        measure_once(w);
        pthread_mutex_lock(&w->mu);
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += PRODUCTS_EVERY;
        while (!w->stop && pthread_cond_timedwait(&w->cond, &w->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int
product_watch_start(struct project *p, struct product_watch **out, struct sl_diag *d)
{
    struct product_watch *w;
    pthread_condattr_t ca;
    int rc;

    *out = NULL;
    if (p->config.nproducts == 0)
        return 0;
    w = sl_calloc(1, sizeof(*w));
    rc = catalog_open(p->catalog, 0, &w->cat, d);
    if (rc < 0)
        goto out_free;
    rc = store_open(p->lake, &w->store, d);
    if (rc < 0)
        goto out_catalog;
    /* one thread: the measurement is small */
    struct engine_opts eo = {1, p->config.engine.memory_limit, NULL, 1};

    rc = engine_open(&eo, &w->engine, d);
    if (rc < 0)
        goto out_store;
    w->project = p;
    sl_buf_init(&w->metrics);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        rc = sl_fail(d, -EAGAIN, "cannot start the data products thread");
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->mu);
        sl_buf_release(&w->metrics);
        goto out_engine;
    }
    *out = w;
    return 0;

out_engine:
    engine_close(w->engine);
out_store:
    store_close(w->store);
out_catalog:
    catalog_close(w->cat);
out_free:
    free(w);
    return rc;
}

void
product_watch_stop(struct product_watch *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    engine_close(w->engine);
    store_close(w->store);
    catalog_close(w->cat);
    sl_buf_release(&w->metrics);
    free(w);
}

void
product_watch_metrics(struct product_watch *w, struct sl_buf *out)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->metrics.len > 0)
        sl_buf_add(out, w->metrics.data, w->metrics.len);
    pthread_mutex_unlock(&w->mu);
}
