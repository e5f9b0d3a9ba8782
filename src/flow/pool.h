/*
 * pool.h - the executions `sluice serve` runs: a pool of worker threads,
 * each with a catalog connection of its own, driving executions to their
 * end (runner.h), and a scanner that finds executions nobody runs (their
 * process died, or their lease ran out) and resumes them.
 *
 * An execution is submitted by its id once it is recorded RUNNING (the
 * Step Functions API's StartExecution, a trigger).  At most `workers` run
 * at once; the others wait in order.  Stopping the pool gives up the
 * executions in progress where they are: they stay RUNNING, their
 * history as last written, and the next server resumes them.
 */
#ifndef SL_FLOW_POOL_H
#define SL_FLOW_POOL_H

#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"

struct flow_pool;

struct flow_pool_opts {
    const char *catalog; /* the catalog's location (catalog_open()) */
    int64_t workers;     /* executions run at once */
    int64_t lease_ms;    /* a claim's life unrenewed */
    int64_t scan_ms;     /* how often to look for executions to resume */
};

int flow_pool_start(const struct flow_pool_opts *o, struct flow_pool **out, struct sl_diag *d);
/* Stop: executions in progress are given up where they are (NULL is fine). */
void flow_pool_stop(struct flow_pool *p);

/* The owner this pool's runners claim executions as ("host:pid"). */
const char *flow_pool_owner(const struct flow_pool *p);
/* The lease its claims take, in ms. */
int64_t flow_pool_lease_ms(const struct flow_pool *p);

/* Run execution id (recorded RUNNING) when a worker is free. */
void flow_pool_submit(struct flow_pool *p, int64_t id);

/* Its gauges and counters, in Prometheus' text format. */
void flow_pool_metrics(struct flow_pool *p, struct sl_buf *out);

#endif
