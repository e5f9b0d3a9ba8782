/*
 * build.h - building gold models into Iceberg tables (`sluice build`).
 *
 * Models are built in their set's order (model.h: every model after the
 * gold models it reads), each as one run of the commit protocol
 * (commit/commit.h) that commits one snapshot of gold.<model> through the
 * table component, together with the build's record (catalog/builds.h):
 * the snapshot of every table it read, the model file's checksum and the
 * sluice version.
 *
 *   table        the SELECT's rows replace the table's: one overwrite
 *                snapshot (append for the first), the old files retired
 *                (they stay for time travel until expiry)
 *   view         no data: the query is saved with the build, and readers
 *                (sluice query, later models) see it as the view gold.<model>
 *
 * The table's columns are the SELECT's, by name: a column the table has
 * keeps its field id, a new one gets the next; a column whose type widens
 * (int64 to decimal of 19 digits or more is not a widening; a decimal's
 * precision may grow at the same scale) is an Iceberg schema update.  A
 * column dropped or a type changed otherwise is refused, naming what
 * changed, unless the build is a full refresh (the new column gets a new
 * field id).
 *
 * A model that fails (bad SQL, a missing table, a refused schema change)
 * commits nothing; the models that read it, directly or not, are skipped;
 * the others are built.
 */
#ifndef SL_MODELS_BUILD_H
#define SL_MODELS_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "models/model.h"
#include "project/project.h"
#include "store/store.h"

struct build_opts {
    bool full_refresh;       /* --full-refresh */
    const char *version;     /* sluice's, recorded with each build */
    /*
     * A quality gate (may be NULL).  gated(gate_arg, "gold.<model>") says
     * whether the model's table has one; a gated build commits its
     * snapshot staged (write-audit-publish: added to the table, main left
     * where it was) as a held run, then gate() decides on it with the
     * worker's catalog: *publish makes the snapshot current at once; else
     * the run stays held (BUILD_HELD, its readers skipped) until `sluice
     * publish` or `sluice discard`.  report (len bytes) receives what the
     * gate says, for the summary.
     */
    bool (*gated)(void *arg, const char *table);
    int (*gate)(void *arg, struct catalog *cat, int64_t run_id, const char *table,
                bool *publish, char *report, size_t len, struct sl_diag *d);
    void *gate_arg;
};

enum build_outcome {
    BUILD_NOT_CHOSEN = 0,
    BUILD_DONE,
    BUILD_FAILED,
    BUILD_SKIPPED,           /* a model it reads failed or was skipped */
    BUILD_HELD,              /* built, held by its quality gate */
};

/* What became of one model. */
struct build_item {
    enum build_outcome outcome;
    int64_t run_id;
    int64_t snapshot_id;     /* made, -1: none (a view) */
    int64_t rows, files, bytes;
    bool full;               /* built whole (an incremental model's first
                              * build, or --full-refresh) */
    char why_full[160];      /* an incremental model built whole for a
                              * reason of its own: why, else "" */
    double seconds;
    struct sl_diag diag;     /* why it failed, or which model it waited for */
    char gate[1024];         /* what its quality gate said, or "" */
};

/*
 * Build the models chosen (set->n flags) in order; items (set->n) receive
 * each one's outcome.  Returns 0 when every chosen model was built, else
 * SL_ERR_INPUT naming how many failed and were skipped (the items say
 * which and why); errors that are not a model's (the catalog is gone) are
 * returned as they are.
 */
int models_build(struct project *p, struct store *s, struct catalog *cat,
                 const struct model_set *set, const bool *chosen, const struct build_opts *o,
                 struct build_item *items, struct sl_diag *d);

struct engine;
/*
 * The gold zone for readers (sluice query): every gold table as the view
 * gold.<name> of its current snapshot, and every model whose last build
 * was a view as that view, in the engine e (which has the views of the
 * curated tables already).
 */
int models_views(struct engine *e, struct catalog *cat, struct store *s, struct sl_diag *d);

/*
 * The view gold.<model> of held build run_id: its staged snapshot, read
 * where its files are staged (the view its quality gate checks).
 */
int models_held_view(struct engine *e, struct catalog *cat, struct store *s, int64_t run_id,
                     struct sl_diag *d);
/*
 * commit_decide()'s on_publish for a held build: its staged snapshot
 * becomes the table's current one (refused if the table moved since).
 */
struct catalog_txn;
int models_publish_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                        struct sl_diag *d);
/* ... and its on_discard: the staged snapshot is dropped from the table. */
int models_discard_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                        struct sl_diag *d);

#endif
