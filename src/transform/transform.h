/*
 * transform.h - raw -> curated.
 *
 * transform_run() processes the raw objects of one source that the
 * transform bookmark has not passed: it reads each object, validates every
 * record against the contract version the object was tagged with, coerces
 * types, quarantines what fails, deduplicates on the contract's key across
 * the whole curated table (one row per key: the latest event time, ties to
 * the later arrival), and writes day-partitioned Parquet with stable field
 * ids.  Each run commits with the protocol in commit/commit.h and keeps an
 * account that balances:
 *
 *     records in = written + quarantined + duplicates dropped
 *
 * Objects are taken in arrival order, in runs of at most batch_bytes of
 * input each, so memory stays bounded however long the backlog.
 */
#ifndef SL_TRANSFORM_H
#define SL_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "catalog/runs.h"
#include "core/diag.h"
#include "project/project.h"
#include "store/store.h"

struct transform_opts {
    /*
     * Reprocess from a point instead of the bookmark: "" for the first
     * object, an object id, or an ISO 8601 time (objects that arrived at
     * or after it).  NULL: from the bookmark.
     */
    const char *rewind;
    int64_t batch_bytes;   /* input per run; 0: 512 MiB */
    bool wait;             /* wait for another transform of the source to end */
    bool hold;             /* commit the (first) run as held, for a decision */
    /*
     * A quality gate (may be NULL): every run commits held and the gate
     * decides whether it is published now (*publish).  A run left held
     * stops the transform - what follows waits for the decision.  tables
     * are the curated tables the run wrote, comma-separated.
     */
    int (*gate)(void *arg, int64_t run_id, const char *tables, bool *publish,
                struct sl_diag *d);
    void *gate_arg;
};

/* The account of one run, as stored in the catalog. */
struct transform_account {
    struct run_record rec;
    char tables[256];
};

/* Called after each committed run (a backlog may take several). */
typedef void (*transform_report_cb)(void *arg, const struct transform_account *a);

/*
 * Run the transform of source src until its backlog is done.  *nruns
 * receives the number of runs committed (0: nothing new).  Fails with
 * SL_ERR_BUSY if another transform of the source is running.
 */
int transform_run(struct project *p, struct store *s, struct catalog *cat,
                  const struct source *src, const struct transform_opts *o,
                  transform_report_cb report, void *arg, int *nruns, struct sl_diag *d);

/*
 * Schema drift of run run_id, for gates and reports: per (field, kind) of
 * the records the run read - kind "unknown", a field the object's contract
 * version does not declare (top-level JSON members, CSV header columns,
 * Avro writer-schema fields), or "missing", a required field absent (those
 * records are quarantined) - the records summed over the run's objects,
 * how many objects, and one example (the earliest object's first such
 * record: object id, its contract version and format, position, value as
 * JSON text).  Unknown fields come first, then by name.  cb gets each in
 * turn, after the catalog was read (not at all if that fails); strings
 * last until it returns; a negative return stops the list and is
 * returned.  A run with no drift (or none recorded: runs before catalog
 * schema 8, compactions) makes no call.  Drift never changes a run's
 * account; blocking on it is the caller's decision.
 */
struct catalog_drift;
typedef int (*transform_drift_cb)(void *arg, const struct catalog_drift *x);
int transform_run_drift(struct catalog *cat, int64_t run_id, transform_drift_cb cb, void *arg,
                        struct sl_diag *d);
/* Whether x's example_position is a line (CSV, JSON lines; else a record
 * number). */
bool transform_drift_line_based(const struct catalog_drift *x);

/*
 * Compact the curated table of src's contract major version major: in
 * each partition, the files smaller than three quarters of
 * transform.max_file_rows and the files with deleted rows are rewritten,
 * their surviving rows only, into files of at most max_file_rows rows.  It
 * is one run (kind "compact") whose snapshot is an Iceberg "replace": the
 * same rows in fewer files.  The rewritten files stay for the snapshots
 * that read them until those expire.  Takes the source's transform lock
 * (SL_ERR_BUSY while a transform runs, unless wait); refused while a run of
 * the source is held.  Nothing to rewrite: no run, files_rewritten 0.
 */
struct transform_compaction {
    int64_t run_id;          /* 0: nothing was rewritten */
    int64_t snapshot_id;     /* the replace snapshot */
    int64_t files_before, files_after; /* live data files */
    int64_t files_rewritten; /* of files_before */
    int64_t files_written;
    int64_t rows;            /* rows rewritten */
    int64_t rows_dropped;    /* deleted rows the rewrite left out */
    int64_t bytes_written;
};
int transform_compact(struct project *p, struct store *s, struct catalog *cat,
                      const struct source *src, int major, bool wait,
                      struct transform_compaction *out, struct sl_diag *d);

/*
 * Create the engine views that name the lake in SQL: curated.<table> over
 * each curated table's live files (read by field id, so older files show
 * later columns as NULL) and quarantine.<source> over each source's
 * quarantine files.  The file lists are taken at call time.
 */
/*
 * The Iceberg snapshots of held run run_id, made when it is published
 * (commit_decide()'s on_publish, in its transaction): what the run added
 * and retired becomes each of its tables' next snapshot.  With arg NULL
 * (a decision in a later process), files carry no column statistics
 * (readers do not prune them); a transform whose gate publishes its run
 * passes its run (arg), and the files keep theirs.
 */
struct catalog_txn;
struct sl_strlist;
int transform_publish_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                           struct sl_diag *d);

/*
 * An expiry's forget (table/table.h, table_forget_fn) for curated tables:
 * the catalog forgets retired file key, and its key file goes with it.
 */
int transform_forget(struct catalog_txn *txn, const char *key, struct sl_strlist *also,
                     struct sl_diag *d);

struct engine;
struct table_at;
struct contract;
struct curated_table;
struct curated_file;
/*
 * Whether data file f of curated table t (of contract c) agrees with its
 * key file row by row (the key files the probe trusts; sluice verify).  0:
 * it does, or it has none; 1: it does not, and why (whylen bytes) says how.
 */
int transform_check_keys(struct engine *e, struct store *s, const struct contract *c,
                         const struct curated_table *t, const struct curated_file *f,
                         char *why, size_t whylen);

struct sl_spans;

/* What the view of one curated table holds (transform_view_opts.report). */
struct transform_view_files {
    const char *table;
    const char *column;         /* its event time */
    bool is_date;               /* a date column (else a timestamp) */
    bool pruned;                /* files chosen by spans */
    const struct sl_spans *spans; /* pruned: the event times the query can
                                 * read (microseconds; a date as its midnight) */
    const char *why;            /* !pruned: why every file is read */
    size_t data, data_total;    /* data files in the view, in the snapshot */
    size_t deletes, deletes_total; /* position-delete files likewise */
};
typedef void (*transform_view_cb)(void *arg, const struct transform_view_files *v);

struct transform_view_opts {
    const struct table_at *at;  /* which snapshot (NULL: the current one) */
    const char *sql;            /* the query the views are for, or NULL */
    bool prune;                 /* views over only the files sql can need */
    bool list_only;             /* count files, make no view */
    int64_t held_run;           /* > 0: the current snapshots with what this
                                 * held run would publish (the gate's view) */
    transform_view_cb report;   /* called for each table sql may read */
    void *arg;
};

/*
 * Views as above.  With o->sql and o->prune, each curated view holds only
 * the files the query can read rows of (views.c); borrowed pointers in
 * what report receives last until it returns.  o may be NULL: every file,
 * current snapshots.
 */
int transform_views(struct engine *e, struct catalog *cat, struct store *s,
                    const struct transform_view_opts *o, struct sl_diag *d);
/* How many rows of curated.<table> share a key with another (0 when the
 * table holds one row per key); after transform_views(). */
int transform_duplicate_keys(struct engine *e, struct catalog *cat, const char *table,
                             int64_t *dups, struct sl_diag *d);

#endif
