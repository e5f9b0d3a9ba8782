/*
 * runs.h - the catalog's runs: their accounts, their state, and the
 * publications a committed run still owes.
 *
 * A run is one unit of work of a stage (a landing, a delivery, a
 * transform).  Its row holds the account, which the database itself checks
 * balances (records_in = written + quarantined + duplicates).  A run is
 * recorded in the transaction that commits its work, in one of two states:
 *
 *   published   its outputs are visible (or become so as its owed
 *               publications are carried out)
 *   held        committed as staged, awaiting a decision: its outputs are
 *               recorded but invisible to readers, and its staged objects
 *               are kept; later `published` or `discarded`
 *   discarded   a held run that was refused: its outputs are gone and its
 *               bookmark is back where it started
 *
 * The commit protocol's third step, making staged outputs visible, is
 * recorded as pending steps (catalog_pending) in the same transaction and
 * carried out afterwards (commit/commit.c), idempotently, by whoever gets
 * there first.
 */
#ifndef SL_CATALOG_RUNS_H
#define SL_CATALOG_RUNS_H

#include "catalog/catalog.h"

struct run_record {
    int64_t run_id;
    const char *kind;        /* "ingest", "delivery", "transform" */
    const char *source;
    const char *table;       /* curated table(s) written, comma-separated */
    const char *state;       /* "published", "held", "discarded" */
    int64_t started_at, finished_at; /* microseconds */
    int64_t objects;         /* raw objects processed (ingest: landed) */
    int64_t from_seq, to_seq;/* bookmark before and after */
    int64_t records_in;
    int64_t written;         /* rows written: inserted + replacing */
    int64_t inserted;        /* rows with a key new to the table */
    int64_t replaced;        /* older rows replaced by later updates */
    int64_t quarantined;
    int64_t duplicates;      /* records dropped: redelivered or superseded */
    int64_t redelivered;     /* of which the same values and event time again */
    int64_t files_added, files_removed;
    int64_t bytes_written;   /* ingest: bytes landed */
};

/* A new run id, in a transaction of its own (so that a run can name its
 * staged files before it commits).  No transaction may be open on cat. */
int catalog_run_next_id(struct catalog *cat, int64_t *run_id, struct sl_diag *d);
/* The same, inside txn (the id is lost if txn rolls back). */
int catalog_run_alloc_id(struct catalog_txn *txn, int64_t *run_id, struct sl_diag *d);
/* Record a run (rec->state NULL means "published").  A run that does not
 * balance is refused by the database (SL_ERR_CATALOG). */
int catalog_run_add(struct catalog_txn *txn, const struct run_record *rec, struct sl_diag *d);
/* One run, strings in a; SL_ERR_NOTFOUND with words if unknown. */
int catalog_run_get(struct catalog_txn *txn, int64_t run_id, struct sl_arena *a,
                    struct run_record *rec, struct sl_diag *d);
/* Change a run's state from expect to state; SL_ERR_CONFLICT with words if
 * it is not in expect. */
int catalog_run_set_state(struct catalog_txn *txn, int64_t run_id, const char *expect,
                          const char *state, struct sl_diag *d);
typedef int (*catalog_run_cb)(void *arg, const struct run_record *rec);
/* Runs of source (NULL: all), newest first, at most limit (0: all);
 * with held_only, only held runs. */
int catalog_run_list(struct catalog_txn *txn, const char *source, int64_t limit,
                     bool held_only, catalog_run_cb cb, void *arg, struct sl_diag *d);

/* ---- publications owed by committed runs ------------------------------- */

enum catalog_pending_op {
    CATALOG_PUBLISH = 1, /* move staged object src to dst */
    CATALOG_DELETE = 2,  /* delete dst */
};

struct catalog_pending {
    int64_t run_id;
    int64_t step;     /* order within the run, from 1 */
    enum catalog_pending_op op;
    const char *src;  /* staged key, for PUBLISH */
    const char *dst;
};

int catalog_pending_add(struct catalog_txn *txn, const struct catalog_pending *p,
                        struct sl_diag *d);
typedef int (*catalog_pending_cb)(void *arg, const struct catalog_pending *p);
/* Pending steps of one run (run_id > 0), or of every run (0), in run and
 * step order; with_held false leaves out the steps of held runs (which
 * wait for a decision).  Strings are valid during the call. */
int catalog_pending_list(struct catalog_txn *txn, int64_t run_id, bool with_held,
                         catalog_pending_cb cb, void *arg, struct sl_diag *d);
/* Forget the steps of run_id (all done, or discarded). */
int catalog_pending_clear(struct catalog_txn *txn, int64_t run_id, struct sl_diag *d);

#endif
