/*
 * tables.h - the catalog's curated tables: columns, live data files,
 * deletion files, and the quarantine files of each source.
 *
 * A data file is live from the run that added it until the run that
 * removed it.  Deletion files (merge-on-read) hold (file_path, pos) rows
 * that retire rows of live data files by position instead of rewriting
 * them; a row of a table is live when its file is live and no live
 * deletion file names it.  A deletion file is recorded with its targets -
 * the data files it names and how many rows of each - and retired by the
 * run that retires the last of its live targets.
 *
 * Held runs (catalog/runs.h): what a held run added is invisible to the
 * lists below, and what it removed still counts as live, until the run is
 * published; catalog_tables_discard_run() undoes it all.
 */
#ifndef SL_CATALOG_TABLES_H
#define SL_CATALOG_TABLES_H

#include "catalog/catalog.h"
#include "catalog/sources.h"
#include "core/type.h"

struct curated_column {
    const char *name;
    int32_t field_id;     /* Parquet field id, stable for the table's life */
    struct sl_type type;
    bool required;
    const char *added_in; /* contract version that added it */
};

struct curated_table {
    const char *name;     /* "orders", or "orders_v2" for major 2 */
    const char *source;
    int major;
    const char *prefix;   /* store prefix, "curated/orders" */
    int32_t next_field_id;
    const char *key_columns;  /* comma-separated */
    const char *event_time;   /* column name */
    size_t ncolumns;
    struct curated_column *columns; /* in table order */
};

/* SL_ERR_NOTFOUND (no words) if the table does not exist; strings in a. */
int catalog_table_get(struct catalog_txn *txn, const char *name, struct sl_arena *a,
                      struct curated_table *t, struct sl_diag *d);
/* Create or update the table row and its columns (all of t->columns). */
int catalog_table_put(struct catalog_txn *txn, const struct curated_table *t,
                      struct sl_diag *d);
int catalog_table_list(struct catalog_txn *txn, catalog_name_cb cb, void *arg,
                       struct sl_diag *d);

struct curated_file {
    const char *key;        /* store key of the Parquet file */
    const char *table;
    const char *partition;  /* "2026-10-03" */
    int64_t rows;
    int64_t bytes;
    int32_t max_field_id;   /* the file has the table's columns up to this id */
    int64_t added_run;
    int64_t deleted;        /* rows live deletion files retire (lists only) */
};

int catalog_file_add(struct catalog_txn *txn, const struct curated_file *f,
                     struct sl_diag *d);
/* Mark a live file as removed by run_id. */
int catalog_file_remove(struct catalog_txn *txn, const char *key, int64_t run_id,
                        struct sl_diag *d);
typedef int (*catalog_file_cb)(void *arg, const struct curated_file *f);
/* Live files of a table in key order, with the rows their live deletion
 * files retire. */
int catalog_file_list(struct catalog_txn *txn, const char *table, catalog_file_cb cb,
                      void *arg, struct sl_diag *d);

struct curated_delete {
    const char *key;        /* store key of the deletion file */
    const char *table;
    int64_t rows;           /* positions it holds */
    int64_t bytes;
    int64_t added_run;
};

int catalog_delete_add(struct catalog_txn *txn, const struct curated_delete *del,
                       struct sl_diag *d);
/* Record that deletion file delete_key retires rows (> 0) rows of file_key. */
int catalog_delete_target_add(struct catalog_txn *txn, const char *delete_key,
                              const char *file_key, int64_t rows, struct sl_diag *d);
/*
 * Retire, as of run_id, the live deletion files of table none of whose
 * targets is live any more; cb receives each one's key (to owe its
 * deletion) and may write through txn.  Call after the run's file
 * retirements, in its transaction.
 */
int catalog_delete_retire(struct catalog_txn *txn, const char *table, int64_t run_id,
                          catalog_name_cb cb, void *arg, struct sl_diag *d);
typedef int (*catalog_delete_cb)(void *arg, const struct curated_delete *del);
/* Live deletion files of a table in key order. */
int catalog_delete_list(struct catalog_txn *txn, const char *table, catalog_delete_cb cb,
                        void *arg, struct sl_diag *d);

/* Quarantine output files of a run. */
int catalog_quarantine_add(struct catalog_txn *txn, const char *key, const char *source,
                           int64_t run_id, int64_t records, struct sl_diag *d);
/* Visible quarantine files of source, in run order. */
int catalog_quarantine_list(struct catalog_txn *txn, const char *source, catalog_name_cb cb,
                            void *arg, struct sl_diag *d);

/* A file a run added or retired: a data file, or a deletion file with the
 * partition of the files it names and, when it names one, that file. */
struct run_file {
    const char *key;
    const char *table;
    bool deletion;
    bool added;              /* else retired by the run */
    const char *partition;   /* "2026-10-03" */
    int64_t rows;
    int64_t bytes;
    const char *only_target; /* deletion files naming one data file, or NULL */
};
typedef int (*catalog_run_file_cb)(void *arg, const struct run_file *f);
/* The files run_id added or retired, data files first, in key order. */
int catalog_run_files(struct catalog_txn *txn, int64_t run_id, catalog_run_file_cb cb,
                      void *arg, struct sl_diag *d);

typedef int (*catalog_field_id_cb)(void *arg, const char *key, int32_t max_field_id);
/* Every data file of table, live or retired, with the highest field id it
 * has (older snapshots read retired ones). */
int catalog_file_field_ids(struct catalog_txn *txn, const char *table, catalog_field_id_cb cb,
                           void *arg, struct sl_diag *d);

/* Retire live deletion file key as of run_id (its deletes written anew). */
int catalog_delete_remove(struct catalog_txn *txn, const char *key, int64_t run_id,
                          struct sl_diag *d);

/* Forget a retired data or deletion file whose bytes are gone (expired):
 * its rows and the delete targets naming it.  A live file is left alone. */
int catalog_file_forget(struct catalog_txn *txn, const char *key, struct sl_diag *d);

/* Undo what held run run_id recorded here: its files, deletion files and
 * quarantine files are forgotten, and what it removed is live again. */
int catalog_tables_discard_run(struct catalog_txn *txn, int64_t run_id, struct sl_diag *d);

#endif
