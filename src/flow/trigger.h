/*
 * trigger.h - what starts executions by itself: triggers declared next to
 * a flow, and the built-in flows of sources with `on_arrival: transform`.
 *
 * flows/NAME.yaml, beside flows/NAME.asl.json, lists its triggers:
 *
 *   triggers:
 *     - arrival: orders                 # new raw objects of a source
 *     - commit: curated.orders          # a snapshot committed to a table
 *     - held: orders                    # a run held (by a quality gate),
 *                                       # of a source or a table; * any
 *     - schedule: cron(0 6 ? * MON-FRI *)   # EventBridge Scheduler's rate(),
 *       timezone: Europe/Berlin             # cron() or at(), in a zone
 *       input: {"mode": "nightly", "at": "<aws.scheduler.scheduled-time>"}
 *
 * Each trigger starts an execution of its flow with an input that says
 * what happened:
 *
 *   arrival   an S3 event notification ({"Records": [...]}, one record
 *             per object, eventName "ObjectCreated:Put"), so a definition
 *             written for S3's notifications reads it as it is.  Arrivals
 *             are batched: while the trigger's last execution runs, new
 *             objects wait, and the next execution gets all of them (at
 *             most `batch`, 1000).
 *   commit    an EventBridge-style event, detail-type "Table Commit", one
 *             per snapshot: table, snapshot id, sequence number,
 *             operation, summary.
 *   held      detail-type "Run Held", one per held run: its id, kind,
 *             source, tables and account.
 *   schedule  `input` (default {}) with EventBridge Scheduler's context
 *             attributes <aws.scheduler.scheduled-time>, -execution-id,
 *             -schedule-arn and -attempt-number replaced.  A schedule
 *             that missed fires while no server ran fires once, for the
 *             latest of them, when one starts.
 *
 * How far each trigger has fired is kept in the catalog (flow_triggers),
 * moved in the transaction that records the execution it starts; several
 * servers sharing a catalog start each execution once, and one killed
 * between the two loses or doubles nothing.  A trigger first seen starts
 * from now: it does not fire for what happened before it was declared.
 *
 * A source's `on_arrival: transform` is the flow sluice-transform-SOURCE,
 * built in: an arrival trigger on the source and one Task, the transform,
 * retried three times with backoff (1 s, 2 s, 4 s) when it fails.  It
 * starts from the transform's bookmark, so objects a stopped server owed
 * their transform get it.
 */
#ifndef SL_FLOW_TRIGGER_H
#define SL_FLOW_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"

enum flow_trigger_kind {
    FLOW_ON_ARRIVAL,
    FLOW_ON_COMMIT,
    FLOW_ON_HELD,
    FLOW_ON_SCHEDULE,
};

struct flow_schedule;

struct flow_trigger {
    enum flow_trigger_kind kind;
    const char *key;        /* its name in the catalog: "arrival:orders" */
    const char *target;     /* the source, the table, what is held */
    const char *expression; /* a schedule's, and its zone ("" = UTC) */
    const char *timezone;
    struct flow_schedule *schedule;
    const char *input;      /* a schedule's input, JSON text */
    int64_t batch;          /* arrival: most objects in one execution */
    int line;               /* where it was declared */
};

/* One flow and its triggers. */
struct flow_triggered {
    const char *machine;    /* the flow's name */
    const char *path;       /* flows/NAME.yaml, or the source's file */
    const char *definition; /* the ASL text */
    bool builtin;
    struct flow_trigger *v;
    size_t n;
};

struct flow_trigger_set {
    struct flow_triggered *v;
    size_t n;
    struct sl_arena arena;  /* everything above */
};

/*
 * Read the triggers of the project at root: every flows/NAME.yaml (its
 * flows/NAME.asl.json must load) and a built-in flow for each of
 * on_arrival (the sources with `on_arrival: transform`, n_arrival of
 * them).  sources (nsources) are the project's sources, which arrival
 * triggers must name.  A bad file fails the whole load (SL_ERR_INPUT
 * naming file, line and field) unless keep_going: then its flow is left
 * out and its problem is in *problems (NULL: not wanted), a line each.
 * Free with flow_trigger_set_free().
 */
int flow_trigger_set_load(const char *root, const char *const *sources, size_t nsources,
                          const char *const *on_arrival, size_t n_arrival, bool keep_going,
                          struct flow_trigger_set *out, struct sl_buf *problems,
                          struct sl_diag *d);
void flow_trigger_set_free(struct flow_trigger_set *s);

/*
 * Parse a triggers file's text (path names it in messages) into f's
 * triggers, allocated from a (f->machine and definition are the caller's
 * to set).  sources (nsources) are the sources an arrival may name.
 * SL_ERR_INPUT naming path, line, column and what is wrong.  Free the
 * schedules with flow_triggered_release() (done on failure).
 */
int flow_trigger_parse(const char *path, const char *text, size_t len, const char *const *sources,
                       size_t nsources, struct sl_arena *a, struct flow_triggered *f,
                       struct sl_diag *d);
void flow_triggered_release(struct flow_triggered *f);

/* The built-in flow's name for source's on_arrival transform. */
void flow_arrival_machine(const char *source, char *out, size_t size);

/* ---- running them (inside `sluice serve`) ---------------------------------- */

struct flow_pool;
struct flow_triggers;

struct flow_triggers_opts {
    const char *root;        /* the project */
    const char *lake;        /* its lake (store_open()) */
    const char *catalog;     /* its catalog (catalog_open()) */
    const char *const *sources;  /* as flow_trigger_set_load() takes them */
    size_t nsources;
    const char *const *on_arrival;
    size_t n_arrival;
    struct flow_pool *pool;  /* runs what the triggers start */
    int64_t poll_ms;         /* how often to look (a poke looks at once) */
    int64_t reload_ms;       /* how often to read flows/ again */
};

int flow_triggers_start(const struct flow_triggers_opts *o, struct flow_triggers **out,
                        struct sl_diag *d);
/* Something landed or committed in this process: look now.  Thread-safe;
 * NULL is fine. */
void flow_triggers_poke(struct flow_triggers *t);
/* Stop (NULL is fine).  Executions started stay with the pool. */
void flow_triggers_stop(struct flow_triggers *t);
/* Its counters, in Prometheus' text format. */
void flow_triggers_metrics(struct flow_triggers *t, struct sl_buf *out);

#endif
