/*
 * commit.h - the commit protocol, written once for every stage.
 *
 * Every run of every stage (a batch landing, a delivery, a transform; later
 * model builds and gates) commits the same way (DESIGN.md):
 *
 *   1. stage     write outputs under staging names and seal them
 *                (commit_stage, commit_seal); name what each becomes
 *                (commit_publish_as) and what the run replaces
 *                (commit_delete)
 *   2. record    one catalog transaction (commit_finish): the stage's own
 *                records (outputs, bookmark, positions) through its record
 *                callback, then the publications owed, then the run and its
 *                account - which must balance - and commit.  Conflicting
 *                writers are retried here, with a bound.
 *   3. publish   make the outputs visible: rename staged objects to their
 *                keys, delete what the run replaced (commit_publish), then
 *                forget the owed steps
 *
 * A run may instead be held after step 2 (COMMIT_HOLD): committed as
 * "staged, awaiting a decision", its staged objects kept and its outputs
 * invisible, until commit_decide() publishes it (step 3) or discards it
 * (staged objects deleted, outputs forgotten, its bookmark moved back), so
 * its input is never lost and never published twice.
 *
 *   state                  after a crash                 the next command
 *   ---------------------  ----------------------------  -------------------
 *   staging (before 2)     staging garbage, nothing else sweeps the garbage
 *   committed (after 2)    committed, maybe half visible finishes step 3
 *   held                   committed, invisible          keeps it, waits
 *   published (after 3)    complete                      nothing
 *
 * So every command that reads or writes a zone first calls commit_recover(),
 * which finishes step 3 for every committed run that is not held and then
 * sweeps staging areas of dead processes, keeping the staged objects that
 * committed and held runs still need.  Step 3 is idempotent: a rename done
 * already is recognised by the staged object being gone and the key there.
 *
 * The protocol's fault points live here: "<kind>.before_commit" just
 * before the catalog commit, "<kind>.after_commit" just after it, then
 * "store.publish", "store.delete" and "commit.clear" during step 3.
 *
 * A committed run may also owe work to the next stage: a delivered raw
 * object waits for its transform.  commit_owed() tells which, so a server
 * that starts (or takes over a stream) resumes it instead of waiting for
 * more data.
 */
#ifndef SL_COMMIT_H
#define SL_COMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "catalog/runs.h"
#include "core/diag.h"
#include "store/store.h"

struct commit;

/*
 * Start a run of kind ("ingest", "delivery", "transform") for source.
 * Allocates nothing in the catalog yet.  Free with commit_free().
 */
struct commit *commit_new(struct store *s, struct catalog *cat, const char *kind,
                          const char *source);
/*
 * The run's id.  Taken from the catalog at the first call (in a transaction
 * of its own, so call it before the commit only when staged names need it);
 * a run that never asks gets one inside its commit transaction.
 */
int commit_run_id(struct commit *c, int64_t *run_id, struct sl_diag *d);

/*
 * Stage an output named name (a file name, may contain '/'): *key is its
 * staging key, *path the local path to write.  Both belong to c and live
 * until commit_free().  The staged object is removed by commit_free()
 * unless the run committed it.
 */
int commit_stage(struct commit *c, const char *name, const char **key, const char **path,
                 struct sl_diag *d);
/* Make a staged output durable (fsync; S3: upload). */
int commit_seal(struct commit *c, const char *staged_key, struct sl_diag *d);
/* The same for several at once (store_seal_many()). */
int commit_seal_many(struct commit *c, const char *const *staged_keys, size_t n,
                     struct sl_diag *d);
/* Remove a staged output the run no longer needs (a duplicate). */
void commit_unstage(struct commit *c, const char *staged_key);

/*
 * At publication, staged_key becomes key (commit_publish_as), or key is
 * deleted (commit_delete).  Steps are carried out in the order given.
 * Called before commit_finish() they hold for every attempt; called from
 * the record callback they belong to that attempt only (an attempt that is
 * retried forgets them).  The strings are copied.
 */
void commit_publish_as(struct commit *c, const char *staged_key, const char *key);
void commit_delete(struct commit *c, const char *key);

enum commit_mode {
    COMMIT_PUBLISH = 0, /* publish right after the commit */
    COMMIT_HOLD = 1,    /* commit as held, for commit_decide() */
};

/*
 * The stage's part of the commit transaction: record outputs, bookmarks,
 * positions.  May run more than once (conflict retries): write only through
 * txn, and start from the same state each time.  Return 0, a negative code
 * (the transaction is rolled back and the code returned), or
 * COMMIT_NOTHING: nothing to commit (every input was a duplicate, say) -
 * the transaction is rolled back and commit_finish() returns
 * COMMIT_NOTHING without recording a run.
 */
#define COMMIT_NOTHING 1
typedef int (*commit_record_fn)(struct catalog_txn *txn, struct commit *c, void *arg,
                                struct sl_diag *d);

/*
 * Steps 2 and 3.  rec is the run's account: commit fills in run_id, kind,
 * source, state and finished_at, and refuses an account that does not
 * balance (SL_ERR_CORRUPT, nothing committed).  record (may be NULL) runs
 * inside the transaction.  After a successful commit the run is published
 * at once (COMMIT_PUBLISH) or held (COMMIT_HOLD); a failure to publish is
 * returned, but the run stays committed and the next commit_recover()
 * finishes it.  SL_ERR_INDOUBT: the catalog connection was lost during
 * the commit; the staged outputs stay for recovery to decide.
 */
int commit_finish(struct commit *c, struct run_record *rec, enum commit_mode mode,
                  commit_record_fn record, void *arg, struct sl_diag *d);

/*
 * Commit latency (the catalog transaction of commit_finish(), retries
 * included) is counted for every run in a process-wide histogram, which
 * commit_metrics() appends to /metrics in Prometheus' text format.  An
 * observer, if set, also sees each one (benchmarks); set it before runs
 * start.  Both are thread-safe.
 */
typedef void (*commit_observer_fn)(const char *kind, int64_t usec);
void commit_set_observer(commit_observer_fn fn);
struct sl_buf;
void commit_metrics(struct sl_buf *out);

/* Whether commit_finish() committed the run (held or not). */
bool commit_committed(const struct commit *c);
/* Catalog commit latency of the last commit_finish(), in microseconds. */
int64_t commit_latency_usec(const struct commit *c);

/* Remove what is staged and not committed (unless the commit is in
 * doubt), and free c.  NULL is allowed. */
void commit_free(struct commit *c);

/* ---- after the commit ---------------------------------------------------- */

/* Carry out the publications owed by run_id and forget them. */
int commit_publish(struct store *s, struct catalog *cat, int64_t run_id, struct sl_diag *d);
/*
 * Carry out the publications every committed, unheld run still owes: those
 * of runs interrupted by a crash, and those of runs committing right now in
 * other processes.  A reader that found objects in the catalog calls this
 * before opening them: they may be committed and not yet published.
 */
int commit_publish_owed(struct store *s, struct catalog *cat, struct sl_diag *d);
/* commit_publish_owed(), then sweep the staging areas of dead processes. */
int commit_recover(struct store *s, struct catalog *cat, struct sl_diag *d);

/*
 * Decide about held run run_id: publish it, or discard it (its staged
 * objects deleted, its outputs forgotten, its bookmark back to where it
 * started).  SL_ERR_INPUT with words if the run is not held.
 */
typedef int (*commit_publish_fn)(struct catalog_txn *txn, struct store *s, int64_t run_id,
                                 void *arg, struct sl_diag *d);
/* on_publish (may be NULL) runs in the decision's transaction when the
 * run is published: the stage makes its outputs visible there (the
 * transform commits the run's table snapshots); on_discard (may be NULL)
 * when it is discarded, before its outputs are forgotten (a build drops
 * its staged snapshot). */
int commit_decide(struct store *s, struct catalog *cat, int64_t run_id, bool publish,
                  commit_publish_fn on_publish, commit_publish_fn on_discard, void *arg,
                  struct sl_diag *d);

typedef int (*commit_owed_cb)(void *arg, const char *source, int64_t objects);
/* Sources whose committed raw objects their transform has not taken yet. */
int commit_owed(struct catalog *cat, commit_owed_cb cb, void *arg, struct sl_diag *d);

#endif
