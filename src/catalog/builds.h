/*
 * builds.h - the catalog's record of gold model builds: what each build
 * read and what it made, for incremental builds (the input snapshots of
 * the last build bound the rows that are new) and for lineage.
 *
 * A build is a run (runs.h, kind "build") of one model, recorded in the
 * transaction that commits its snapshot: the model file's checksum, the
 * sluice version, the snapshot it made (none for a view, or a build that
 * changed nothing), and for every table it read the snapshot it read.  A
 * view's build also keeps the query it saves.
 */
#ifndef SL_CATALOG_BUILDS_H
#define SL_CATALOG_BUILDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "catalog/sources.h"
#include "core/mem.h"

/* One table a build read, at the snapshot it read (-1: it had none). */
struct build_input {
    const char *table;        /* "curated.orders", "gold.customers" */
    int64_t snapshot_id;
};

struct build_record {
    int64_t run_id;
    const char *model;        /* the model's name: it builds gold.<model> */
    const char *materialized; /* "table", "incremental" or "view" */
    bool full;                /* a full build (not incremental) */
    const char *checksum;     /* "sha256:<hex>" of the model file */
    const char *version;      /* the sluice that built it */
    int64_t snapshot_id;      /* the snapshot made, -1: none */
    const char *view_sql;     /* a view's saved query, else NULL */
    size_t ninputs;
    const struct build_input *inputs;
};

/* Record build b in txn (its run is recorded beside it, runs.h). */
int catalog_build_add(struct catalog_txn *txn, const struct build_record *b,
                      struct sl_diag *d);
/* The last build of model, strings and inputs in a; SL_ERR_NOTFOUND (no
 * words) if it has none. */
int catalog_build_last(struct catalog_txn *txn, const char *model, struct sl_arena *a,
                       struct build_record *b, struct sl_diag *d);
/* The build that made snapshot snapshot_id of gold.<model>; SL_ERR_NOTFOUND
 * (no words) if none did. */
int catalog_build_of_snapshot(struct catalog_txn *txn, const char *model, int64_t snapshot_id,
                              struct sl_arena *a, struct build_record *b, struct sl_diag *d);

/* The names of the models with a build, in name order. */
int catalog_build_models(struct catalog_txn *txn, catalog_name_cb cb, void *arg,
                         struct sl_diag *d);

#endif
