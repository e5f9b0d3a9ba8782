/*
 * runner.h - durable executions: an execution recorded in the catalog
 * (catalog/flows.h) as it runs, resumed after a crash, redriven after a
 * failure.
 *
 * The history is written in batches, and always before anything leaves
 * the process: a batch ends at every TaskScheduled (so a task never runs
 * unrecorded), before every wait (a Wait state, a retry interval), every
 * 256 KB of history (16,384 events at most) and every 200 ms.  Each batch also renews the runner's
 * lease on the execution and reads whether a stop was asked for.  The
 * execution's end is written in the same transaction as its last events.
 * On the real clock a wait is slept in slices of a second: each looks for
 * a stop (StopExecution ends a Wait within a second), and a third of the
 * lease after the last batch, an empty batch renews the lease.
 *
 * The catalog keeps a batch as one row of text, a line per event
 * (runner.c draws the layout); flow_history_read() gives the events back
 * to the API, the command line and the resume.
 *
 * Resuming reads the history back: the last state of the machine's own
 * (depth 0) that exited gives the next state and its input; a state that
 * entered and never exited is run again from its recorded input (so tasks
 * must be idempotent: sluice's own are).  A Task's attempts that failed
 * before the crash count against its retriers as they did, so retries
 * stay bounded however often the process dies (a redrive starts them
 * afresh, as the user asked for it).
 */
#ifndef SL_FLOW_RUNNER_H
#define SL_FLOW_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "flow/exec.h"

struct flow_runner_opts {
    const char *owner;              /* this process, e.g. "host:pid" */
    int64_t lease_ms;               /* how long a claim holds without renewal */
    const struct flow_clock *clock; /* NULL: the real one */
    bool keep_history;              /* also keep the events in the result */
    /* Set (by another thread) to give up at once: the execution stays
     * RUNNING, its history as last written, for a resume.  NULL: never. */
    const atomic_bool *cancel;
    /* The catalog's location (catalog_open()): a thread with a connection
     * of its own renews the lease every third of it while the execution
     * runs, so a task longer than the lease (a training job) keeps it.
     * NULL: only the batches renew it. */
    const char *catalog;
    /* The execution's definition compiled already (the caller loaded the
     * text it recorded), or NULL: it is loaded from the catalog. */
    const struct flow_machine *machine;
    /* Its input parsed already (what the caller recorded is its text), or
     * NULL: it is parsed from the catalog.  Borrowed; the run does not
     * change it. */
    const json_t *input;
};

/*
 * Record a new execution called name of the machine machine (definition
 * as text), RUNNING and owned by o->owner; *id gets its id.  A machine's
 * execution names are unique: SL_ERR_EXISTS with words if taken.
 */
int flow_runner_start(struct catalog *cat, const char *machine, const char *definition,
                      const char *name, const char *input, const struct flow_runner_opts *o,
                      int64_t *id, struct sl_diag *d);

/*
 * Run execution id to its end (or resume it where its history stops),
 * once o->owner has claimed it; SL_ERR_BUSY if another process holds it.
 * res gets the outcome as flow_execute() gives it.
 */
int flow_runner_drive(struct catalog *cat, int64_t id, const struct flow_runner_opts *o,
                      struct flow_result *res, struct sl_diag *d);

/*
 * Redrive a FAILED, TIMED_OUT or ABORTED execution: RUNNING again from the
 * state that did not finish, with redriveCount + 1.  Then drive it.
 */
int flow_runner_redrive(struct catalog *cat, int64_t id, const struct flow_runner_opts *o,
                        struct flow_result *res, struct sl_diag *d);

/*
 * Read execution execution_id's recorded history: its events after
 * from_id, in order; reverse: those before from_id (0: from the end),
 * newest first; at most limit of them (0: all).  cb gets each event with
 * its details as JSON (ev->details), all of it borrowed until cb returns;
 * a negative return stops the reading, fails txn and is returned.
 * SL_ERR_CORRUPT with words if the recorded text cannot be read.
 */
typedef int (*flow_history_cb)(void *arg, const struct flow_event *ev);
int flow_history_read(struct catalog_txn *txn, int64_t execution_id, int64_t from_id,
                      bool reverse, int64_t limit, flow_history_cb cb, void *arg,
                      struct sl_diag *d);

/*
 * Whether owner ("host:pid", as the runners write it) is a process of this
 * host that is no longer alive: its executions may be taken at once.
 */
bool flow_owner_dead(const char *owner);

/* A name for an execution, as AWS makes them when none is given: a random
 * (version 4) UUID. */
void flow_random_name(char out[37]);

/* The ARNs of a machine and an execution, as the API spells them. */
void flow_machine_arn(const char *machine, char *out, size_t size);
void flow_execution_arn(const char *machine, const char *name, char *out, size_t size);

#endif
