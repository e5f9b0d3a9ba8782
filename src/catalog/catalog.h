/*
 * catalog.h - the lake's transactional metadata.
 *
 * The catalog records what the lake holds and how it got there: sources and
 * their contract versions, raw objects, bookmarks, runs and their accounts,
 * curated tables with their columns and live files, and the publications a
 * committed run still owes (the third step of the commit protocol).
 *
 * Embedded default: one SQLite database at <lake>/_catalog/catalog.db in WAL
 * mode, so a server and several CLI commands can use it at once.  Writers
 * take the database lock up front (BEGIN IMMEDIATE) and wait up to
 * busy_timeout for it.  Jobs that must not run twice at once (a transform of
 * one source) take a named lock with catalog_lock().
 *
 * All strings handed out are allocated from the arena the caller passes and
 * live as long as it does.  A struct catalog is used by one thread at a time.
 */
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"
#include "core/type.h"

struct catalog;
struct catalog_lock;

/* The schema version this build writes (see catalog/sqlite.c). */
#define CATALOG_SCHEMA_VERSION 3

/*
 * Open (creating and migrating as needed) the catalog database at path.
 * Refuses a catalog written by a newer sluice.  Free with catalog_close().
 */
int catalog_open(const char *path, struct catalog **out, struct sl_diag *d);
void catalog_close(struct catalog *cat);
int catalog_schema_version(struct catalog *cat);

/* A write transaction.  Nested begin is an error.  After a failed statement
 * inside it the transaction is sticky-failed: only rollback is allowed. */
int catalog_begin(struct catalog *cat, struct sl_diag *d);
int catalog_commit(struct catalog *cat, struct sl_diag *d);
void catalog_rollback(struct catalog *cat);
/* A read snapshot, for several reads that must agree. */
int catalog_read_begin(struct catalog *cat, struct sl_diag *d);
void catalog_read_end(struct catalog *cat);

/*
 * A named advisory lock held until catalog_unlock() or process exit.  With
 * wait false, a held lock gives SL_ERR_BUSY at once.
 */
int catalog_lock(struct catalog *cat, const char *name, bool wait,
                 struct catalog_lock **out, struct sl_diag *d);
void catalog_unlock(struct catalog_lock *lock);

/* ---- sources and contract versions ------------------------------------ */

int catalog_source_put(struct catalog *cat, const char *name, const char *system,
                       struct sl_diag *d);
typedef int (*catalog_name_cb)(void *arg, const char *name);
/* Registered sources by name. */
int catalog_source_list(struct catalog *cat, catalog_name_cb cb, void *arg, struct sl_diag *d);
/* The registered spec (canonical text) of a version; SL_ERR_NOTFOUND. */
int catalog_contract_get(struct catalog *cat, const char *source, const char *version,
                         struct sl_arena *a, char **spec, struct sl_diag *d);
typedef int (*catalog_contract_cb)(void *arg, const char *version, const char *spec);
/* Registered versions of source, by (major, minor). */
int catalog_contract_list(struct catalog *cat, const char *source, catalog_contract_cb cb,
                          void *arg, struct sl_diag *d);
int catalog_contract_put(struct catalog *cat, const char *source, const char *version,
                         int major, int minor, const char *spec, struct sl_diag *d);

/* ---- raw objects ------------------------------------------------------- */

struct raw_object {
    int64_t seq;                  /* arrival order in the whole lake */
    const char *source;
    const char *object_id;        /* from the content */
    const char *key;              /* store key under raw/ */
    const char *system;           /* the source system that sent it */
    const char *contract_version; /* the version it is validated against */
    const char *original_name;    /* as given to ingest */
    const char *format;           /* csv, jsonl, json, avro */
    const char *compression;      /* none, gzip */
    int64_t size;                 /* bytes as stored */
    const char *checksum;         /* "sha256:<hex>" */
    int64_t arrived_at;           /* microseconds since the epoch */
};

/* Record a landed object; sets obj->seq.  SL_ERR_EXISTS if the source
 * already has an object with this id. */
int catalog_raw_add(struct catalog *cat, struct raw_object *obj, struct sl_diag *d);
/* The latest arrival time recorded (0 if none); with catalog_begin()
 * held, arrival times handed out after it stay strictly increasing. */
int catalog_raw_last_arrival(struct catalog *cat, int64_t *usec, struct sl_diag *d);
int catalog_raw_get(struct catalog *cat, const char *source, const char *object_id,
                    struct sl_arena *a, struct raw_object *obj, struct sl_diag *d);
typedef int (*catalog_raw_cb)(void *arg, const struct raw_object *obj);
/* Objects of source (NULL: all) with seq > after, in seq order; stop early
 * when cb returns < 0 (returned).  Strings are valid during the call. */
int catalog_raw_list(struct catalog *cat, const char *source, int64_t after,
                     catalog_raw_cb cb, void *arg, struct sl_diag *d);

/* ---- bookmarks --------------------------------------------------------- */

/* The last raw seq that job has processed for source; 0 if none. */
int catalog_bookmark_get(struct catalog *cat, const char *source, const char *job,
                         int64_t *seq, struct sl_diag *d);
int catalog_bookmark_set(struct catalog *cat, const char *source, const char *job,
                         int64_t seq, struct sl_diag *d);

/* ---- runs and their accounts ------------------------------------------ */

struct run_record {
    int64_t run_id;
    const char *kind;        /* "transform" or "ingest" */
    const char *source;
    const char *table;       /* curated table(s) written, comma-separated */
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

/* Record a run; sets rec->run_id. */
int catalog_run_add(struct catalog *cat, struct run_record *rec, struct sl_diag *d);
/* Allocate a run id before the run writes anything (names its files). */
int catalog_run_next_id(struct catalog *cat, int64_t *run_id, struct sl_diag *d);
typedef int (*catalog_run_cb)(void *arg, const struct run_record *rec);
/* Runs of source (NULL: all), newest first, at most limit (0: all). */
int catalog_run_list(struct catalog *cat, const char *source, int64_t limit,
                     catalog_run_cb cb, void *arg, struct sl_diag *d);

/* ---- curated tables ---------------------------------------------------- */

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

/* SL_ERR_NOTFOUND if the table does not exist. */
int catalog_table_get(struct catalog *cat, const char *name, struct sl_arena *a,
                      struct curated_table *t, struct sl_diag *d);
/* Create or update the table row and its columns (all of t->columns). */
int catalog_table_put(struct catalog *cat, const struct curated_table *t,
                      struct sl_diag *d);
int catalog_table_list(struct catalog *cat, catalog_name_cb cb, void *arg, struct sl_diag *d);

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

int catalog_file_add(struct catalog *cat, const struct curated_file *f, struct sl_diag *d);
/* Mark a live file as removed by run_id. */
int catalog_file_remove(struct catalog *cat, const char *key, int64_t run_id,
                        struct sl_diag *d);
typedef int (*catalog_file_cb)(void *arg, const struct curated_file *f);
/* Live files of a table in key order, with the rows their live deletion
 * files retire. */
int catalog_file_list(struct catalog *cat, const char *table, catalog_file_cb cb,
                      void *arg, struct sl_diag *d);

/*
 * Deletion files (merge-on-read): a Parquet file of (file_path, pos) that
 * retires rows of live data files by position instead of rewriting them.
 * A row of the table is live when its file is live and no live deletion
 * file names it.  A deletion file is recorded with its targets - the data
 * files it names and how many rows of each - and is retired, in the
 * transaction of the run that retires the last of its live targets, by
 * catalog_delete_retire().
 */
struct curated_delete {
    const char *key;        /* store key of the deletion file */
    const char *table;
    int64_t rows;           /* positions it holds */
    int64_t bytes;
    int64_t added_run;
};

int catalog_delete_add(struct catalog *cat, const struct curated_delete *del,
                       struct sl_diag *d);
/* Record that deletion file delete_key retires rows (> 0) rows of file_key. */
int catalog_delete_target_add(struct catalog *cat, const char *delete_key,
                              const char *file_key, int64_t rows, struct sl_diag *d);
/*
 * Retire, as of run_id, the live deletion files of table none of whose
 * targets is live any more; cb receives each one's key (to owe its
 * deletion).  Call after the run's file retirements, in its transaction.
 */
int catalog_delete_retire(struct catalog *cat, const char *table, int64_t run_id,
                          catalog_name_cb cb, void *arg, struct sl_diag *d);
typedef int (*catalog_delete_cb)(void *arg, const struct curated_delete *del);
/* Live deletion files of a table in key order. */
int catalog_delete_list(struct catalog *cat, const char *table, catalog_delete_cb cb,
                        void *arg, struct sl_diag *d);

/* Quarantine output files. */
int catalog_quarantine_add(struct catalog *cat, const char *key, const char *source,
                           int64_t run_id, int64_t records, struct sl_diag *d);
int catalog_quarantine_list(struct catalog *cat, const char *source, catalog_name_cb cb,
                            void *arg, struct sl_diag *d);

/* ---- streams and their delivery into raw ------------------------------- */

/* A stream's definition (its records live in the shard logs, not here). */
struct catalog_stream {
    const char *name;
    const char *kind;        /* "kinesis" or "firehose" (a delivery stream) */
    const char *mode;        /* "PROVISIONED" or "ON_DEMAND" */
    int64_t shards;
    int64_t retention_hours;
    int64_t max_record_bytes;
    int64_t write_bytes;     /* per shard and second; 0: no limit */
    int64_t write_records;   /* per shard and second; 0: no limit */
    const char *source;      /* the source it delivers into, or NULL */
    int64_t buffer_bytes;    /* delivery buffer: flush at this size ... */
    int64_t buffer_ms;       /* ... or this age, whichever comes first */
    const char *compression; /* of delivered raw objects: "none" or "gzip" */
    bool declared;           /* declared in a source file, not by the API */
    int64_t created_ms;      /* also tells a recreated stream from the old one */
};

/* SL_ERR_EXISTS (with words) if the name is taken. */
int catalog_stream_add(struct catalog *cat, const struct catalog_stream *s, struct sl_diag *d);
int catalog_stream_set_retention(struct catalog *cat, const char *name, int64_t hours,
                                 struct sl_diag *d);
/* Change the settings that may change (not name, kind, mode, shards,
 * source or creation time). */
int catalog_stream_update(struct catalog *cat, const struct catalog_stream *s,
                          struct sl_diag *d);
/* Forget a stream and its delivery positions. */
int catalog_stream_remove(struct catalog *cat, const char *name, struct sl_diag *d);
typedef int (*catalog_stream_cb)(void *arg, const struct catalog_stream *s);
/* Every stream, by name; strings are valid during the callback. */
int catalog_stream_list(struct catalog *cat, catalog_stream_cb cb, void *arg,
                        struct sl_diag *d);

/* The last sequence number of a shard delivered into raw (0: none), for the
 * stream created at created_ms.  Set in the same transaction as the raw
 * object that holds the records, so delivery is exactly-once. */
int catalog_delivery_get(struct catalog *cat, const char *stream, int64_t shard,
                         int64_t created_ms, int64_t *seq, struct sl_diag *d);
int catalog_delivery_set(struct catalog *cat, const char *stream, int64_t shard,
                         int64_t created_ms, int64_t seq, struct sl_diag *d);

/* ---- publications owed by committed runs ------------------------------- */

enum catalog_pending_op {
    CATALOG_PUBLISH = 1, /* move staged object src to dst */
    CATALOG_DELETE = 2,  /* delete dst */
};

struct catalog_pending {
    int64_t run_id;
    enum catalog_pending_op op;
    const char *src;  /* staged key, for PUBLISH */
    const char *dst;
};

int catalog_pending_add(struct catalog *cat, const struct catalog_pending *p,
                        struct sl_diag *d);
typedef int (*catalog_pending_cb)(void *arg, const struct catalog_pending *p);
/* Pending steps, of one run (run_id > 0) or all (0), in the order added. */
int catalog_pending_list(struct catalog *cat, int64_t run_id, catalog_pending_cb cb,
                         void *arg, struct sl_diag *d);
/* Forget the steps of run_id (all done). */
int catalog_pending_clear(struct catalog *cat, int64_t run_id, struct sl_diag *d);

#endif
