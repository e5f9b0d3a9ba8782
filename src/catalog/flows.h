/*
 * flows.h - state machines, their executions and histories in the
 * catalog (flow/ runs them; the Step Functions API and the command line
 * read them).
 *
 * Times are milliseconds since the epoch, as the history's.
 */
#ifndef SL_CATALOG_FLOWS_H
#define SL_CATALOG_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"

struct flow_machine_record {
    const char *name;
    const char *definition; /* the ASL JSON as given */
    const char *role_arn;
    const char *type;       /* "STANDARD", "EXPRESS" */
    int64_t created_at, updated_at;
    int64_t revision;       /* 1, then + 1 per update */
};

typedef int (*catalog_flow_machine_cb)(void *arg, const struct flow_machine_record *m);

/* Add a machine; SL_ERR_EXISTS (no words) if the name is taken. */
int catalog_flow_machine_add(struct catalog_txn *txn, const struct flow_machine_record *m,
                             struct sl_diag *d);
/* Replace a machine's definition and role (its revision goes up);
 * SL_ERR_NOTFOUND (no words) if there is none of that name. */
int catalog_flow_machine_update(struct catalog_txn *txn, const struct flow_machine_record *m,
                                struct sl_diag *d);
/* The machine called name; SL_ERR_NOTFOUND (no words) if none. */
int catalog_flow_machine_get(struct catalog_txn *txn, const char *name,
                             catalog_flow_machine_cb cb, void *arg, struct sl_diag *d);
/* Every machine, by name. */
int catalog_flow_machine_list(struct catalog_txn *txn, catalog_flow_machine_cb cb, void *arg,
                              struct sl_diag *d);
/* Delete a machine (its executions stay); SL_ERR_NOTFOUND if none. */
int catalog_flow_machine_delete(struct catalog_txn *txn, const char *name, struct sl_diag *d);

struct flow_execution_record {
    int64_t id;
    const char *machine;
    const char *name;
    const char *status;     /* "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED" */
    const char *definition; /* what it runs */
    const char *input;
    const char *output;     /* NULL unless SUCCEEDED */
    const char *error, *cause;
    int64_t started_at, stopped_at; /* stopped_at 0 while running */
    int64_t redrive_count, redriven_at;
    int64_t last_event;     /* the id of its last recorded event */
    const char *owner;      /* the process running it */
    int64_t lease_until;
    const char *stop_error, *stop_cause; /* a StopExecution asked for, or NULL */
};

typedef int (*catalog_flow_execution_cb)(void *arg, const struct flow_execution_record *e);

/*
 * Add an execution (RUNNING, or what e->status says): its id is allocated
 * into e->id.  SL_ERR_EXISTS (no words) if the machine has one of that
 * name.
 */
int catalog_flow_execution_add(struct catalog_txn *txn, struct flow_execution_record *e,
                               struct sl_diag *d);
/* The execution of that id, or of that machine and name; SL_ERR_NOTFOUND
 * (no words) if none. */
int catalog_flow_execution_get(struct catalog_txn *txn, int64_t id, catalog_flow_execution_cb cb,
                               void *arg, struct sl_diag *d);
int catalog_flow_execution_find(struct catalog_txn *txn, const char *machine, const char *name,
                                catalog_flow_execution_cb cb, void *arg, struct sl_diag *d);
/*
 * Executions newest first, of machine (NULL: all) in status (NULL: any),
 * started before before_id (0: no bound: for paging), at most limit.
 */
int catalog_flow_execution_list(struct catalog_txn *txn, const char *machine, const char *status,
                                int64_t before_id, int64_t limit, catalog_flow_execution_cb cb,
                                void *arg, struct sl_diag *d);
/*
 * Its end: status, output or error and cause, stopped_at.  Only a RUNNING
 * execution owned by owner ends; *ended says whether this one did.
 */
int catalog_flow_execution_finish(struct catalog_txn *txn, const struct flow_execution_record *e,
                                  const char *owner, bool *ended, struct sl_diag *d);
/*
 * Take a RUNNING execution to run it until lease_until: if it is owner's
 * already, or its lease ended before now, or it is dead_owner's (not
 * NULL: a process known to have died).  *claimed says whether it was.
 */
int catalog_flow_execution_claim(struct catalog_txn *txn, int64_t id, const char *owner,
                                 int64_t now, int64_t lease_until, const char *dead_owner,
                                 bool *claimed, struct sl_diag *d);
/* RUNNING executions whose lease ended before now, oldest first. */
int catalog_flow_execution_orphans(struct catalog_txn *txn, int64_t now, int64_t limit,
                                   catalog_flow_execution_cb cb, void *arg, struct sl_diag *d);
/* Whether a stop was asked of execution id: cb gets a record with only
 * id, status, stop_error and stop_cause set (a runner looks at every
 * batch: the whole row is far more to read).  SL_ERR_NOTFOUND (no words)
 * if there is no such execution. */
int catalog_flow_execution_stop_get(struct catalog_txn *txn, int64_t id,
                                    catalog_flow_execution_cb cb, void *arg, struct sl_diag *d);
/* Ask a RUNNING execution to stop with error and cause (its runner reads
 * it); SL_ERR_NOTFOUND (no words) if it is not running. */
int catalog_flow_execution_request_stop(struct catalog_txn *txn, int64_t id, const char *error,
                                        const char *cause, struct sl_diag *d);
/* Make a FAILED, TIMED_OUT or ABORTED execution RUNNING again for owner
 * (a redrive): redrive_count + 1; SL_ERR_NOTFOUND if it is not one. */
int catalog_flow_execution_redrive(struct catalog_txn *txn, int64_t id, const char *owner,
                                   int64_t now, int64_t lease_until, struct sl_diag *d);

/*
 * An execution's history is kept in batches: the events a runner wrote in
 * one transaction, ids first_id..last_id, as text (flow/runner.c draws
 * its layout: a line per event).  The catalog stores and returns the
 * text; it does not read it.  Batches of one execution never overlap, and
 * follow one another without gaps.
 */
struct flow_event_batch {
    int64_t execution_id;
    int64_t first_id, last_id; /* the ids of its first and last events */
    const char *events;        /* the events' text */
};

typedef int (*catalog_flow_batch_cb)(void *arg, const struct flow_event_batch *b);

/* Record a batch of one execution's events, and the execution's
 * last_event (b->last_id).  SL_ERR_EXISTS (no words) if a batch of that
 * execution starts at b->first_id already. */
int catalog_flow_batch_add(struct catalog_txn *txn, const struct flow_event_batch *b,
                           struct sl_diag *d);
/*
 * An execution's batches holding events after from_id, in order; reverse:
 * those holding events before from_id (0: from the end), newest first.
 * At most limit batches (0: all).  cb gets each, its text borrowed until
 * it returns; a negative return stops the listing and is returned.
 */
int catalog_flow_batch_list(struct catalog_txn *txn, int64_t execution_id, int64_t from_id,
                            bool reverse, int64_t limit, catalog_flow_batch_cb cb, void *arg,
                            struct sl_diag *d);

/*
 * A trigger's progress (flow/trigger.c): how far it has fired.  position
 * is what its kind counts in: the last raw seq an arrival trigger handed
 * to an execution, the last sequence number of a table a commit trigger
 * saw, the time (ms) a schedule last fired.  anchor is when it was first
 * seen (rate schedules count their periods from it); last_execution the
 * id of the last execution it started (0: none), fired how many.
 */
struct flow_trigger_record {
    const char *machine;
    const char *key;        /* the trigger, e.g. "arrival:orders" */
    int64_t position;
    int64_t anchor;
    int64_t last_execution;
    int64_t fired;
    int64_t fired_at;       /* ms; 0: never */
};

typedef int (*catalog_flow_trigger_cb)(void *arg, const struct flow_trigger_record *t);

/* Machine's trigger key; SL_ERR_NOTFOUND (no words) if it has not been
 * recorded. */
int catalog_flow_trigger_get(struct catalog_txn *txn, const char *machine, const char *key,
                             catalog_flow_trigger_cb cb, void *arg, struct sl_diag *d);
/* Record a trigger first seen; SL_ERR_EXISTS (no words) if it is. */
int catalog_flow_trigger_add(struct catalog_txn *txn, const struct flow_trigger_record *t,
                             struct sl_diag *d);
/* Move a trigger from position expect to t's position, last execution,
 * fired count and time; SL_ERR_CONFLICT (no words) if it is no longer at
 * expect (another node fired it first). */
int catalog_flow_trigger_advance(struct catalog_txn *txn, const struct flow_trigger_record *t,
                                 int64_t expect, struct sl_diag *d);
/* Every recorded trigger, by machine and key. */
int catalog_flow_trigger_list(struct catalog_txn *txn, catalog_flow_trigger_cb cb, void *arg,
                              struct sl_diag *d);

#endif
