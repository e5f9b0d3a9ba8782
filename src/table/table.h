/*
 * table.h - the table format of every table sluice writes: Apache Iceberg
 * format v2 (DESIGN.md, "Components").
 *
 * A stage that writes a table (transform for curated tables) describes it
 * (struct table_def) and hands each of its runs to table_commit() as a
 * change: the data and position-delete files it adds, with their
 * statistics, and the files it retires.  The table turns the change into
 * the next snapshot:
 *
 *   1. read the current metadata (the catalog's pointer, catalog/iceberg.h)
 *      and the current snapshot's manifest list
 *   2. write a manifest of the added data files and one of the added delete
 *      files (entries inherit the snapshot id and sequence number from the
 *      list, so they are valid in whatever snapshot finally adds them);
 *      rewrite the manifests that hold retired files (those become DELETED,
 *      the rest EXISTING); reuse every other manifest as it is
 *   3. write the manifest list and the next metadata file
 *      (<location>/metadata/<NNNNN>-<uuid>.metadata.json) with the snapshot,
 *      its summary, the snapshot and metadata logs, the main ref, and a new
 *      schema when the columns changed
 *   4. swap the catalog's pointer from the metadata read in 1 to the new one
 *      (compare-and-swap) in the caller's transaction
 *
 * The caller's catalog transaction holds the rest of the run (files,
 * bookmark, account), so the snapshot and the run commit together or not
 * at all; a conflict (SL_ERR_CONFLICT) rolls the transaction back and the
 * commit protocol's retry runs table_commit() again on the new base.
 * Files written for an attempt that does not commit are left unreferenced,
 * for maintenance to remove (never guessed at).
 *
 * Operation names follow the spec: append (only data added), overwrite
 * (data added and removed, or deletes added with data), delete (deletes
 * added or data removed, nothing added), replace (files rewritten, same
 * rows: compaction).
 */
#ifndef SL_TABLE_H
#define SL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/diag.h"
#include "core/span.h"
#include "core/type.h"
#include "store/store.h"
#include "table/manifest.h"
#include "table/value.h"

/* A column of a table: its field id is stable for the table's life. */
struct table_column {
    const char *name;
    int32_t field_id;
    struct sl_type type;
    bool required;
};

/* What a table is. */
struct table_def {
    const char *ns;               /* "curated" */
    const char *name;             /* "orders" */
    const char *prefix;           /* its store prefix: "curated/orders" */
    size_t ncolumns;
    const struct table_column *columns; /* in table order */
    int32_t last_column_id;       /* highest field id ever assigned */
    const char *partition_column; /* the source of the partition, or NULL */
    struct ival_transform transform; /* day, month, bucket[N] ..., of
                                        partition_column */
    const char *key_columns;      /* comma-separated, for identifier-field-ids */
    /* A spec of several fields, in order (gold tables); when nparts > 0,
     * partition_column and transform are not read. */
    size_t nparts;
    const struct table_part *parts;
};

/* One field of a partition spec: a transform of a column. */
struct table_part {
    const char *column;
    struct ival_transform transform;
};

/* A file a change adds. */
struct table_file {
    const char *key;              /* store key */
    enum mf_content content;      /* MF_DATA or MF_POSITION_DELETES */
    struct mf_pvalue partition;   /* the partition value (unset: null) */
    int64_t records;
    int64_t bytes;
    size_t nstats;
    struct mf_column_stats *stats; /* data files: by field id; may be none */
    const char *referenced_key;   /* position deletes of one data file, or NULL */
    /* With def->nparts > 0: the values of the fields, in order (partition
     * is not read). */
    const struct mf_pvalue *partition_values;
    /* The partitioning partition is a value of, when it is not the table's
     * (def's): position deletes of a file written before the table's
     * partitioning changed are written under that file's spec.  NULL: the
     * table's. */
    const struct ival_transform *written_under;
};

/* One run's change to a table. */
struct table_change {
    int64_t run_id;               /* recorded in the summary as sluice.run-id */
    const char *operation;        /* NULL: chosen from the change */
    size_t nadded;
    const struct table_file *added;
    size_t nremoved;
    const char *const *removed;   /* store keys of retired data or delete files */
    /* Write-audit-publish: the snapshot is added to the table but main
     * stays where it is; table_publish_staged() makes it current after
     * its audit (a quality gate).  Readers never see it before. */
    bool stage_only;
};

/*
 * Commit change as the table's next snapshot, in txn (see above).  A table
 * the catalog does not know yet is created (metadata version 0, no
 * snapshot) first.  On success *out (may be NULL) says which snapshot
 * and sequence number the commit made.
 */
struct table_committed {
    int64_t snapshot_id;
    int64_t sequence_number;
};
int table_commit(struct catalog_txn *txn, struct store *s, const struct table_def *def,
                 const struct table_change *change, struct table_committed *out,
                 struct sl_diag *d);

/* The URI of a store key, as Iceberg metadata names files
 * ("file:///lake/curated/orders/dt=.../part-1-0.parquet"); caller frees. */
char *table_uri(struct store *s, const char *key);
/*
 * The store key of a URI (len bytes) of a file of the table at prefix,
 * pointing into uri: the URI from its first "/<prefix>/" on.  A lake that
 * moved (copied, or mounted elsewhere on another node) keeps the URIs it
 * was written with; they still name the same keys.  NULL if uri is not a
 * file:// URI of such a file.
 */
const char *table_key_of(const char *prefix, const char *uri, size_t len);

/* Which snapshot a read takes: by id, or the last committed at or before
 * a time (both -1: the current one). */
struct table_at {
    int64_t snapshot_id;
    int64_t as_of_ms;
};

/*
 * Which rows a read wants, for pruning files: those whose column field_id
 * holds a value in spans.  Values are microseconds since the epoch (UTC)
 * for a timestamp column; a date column (is_date) is compared as the
 * microsecond of its day's midnight, so one set serves both.  A row whose
 * column is null is not wanted (the filters a set comes from reject
 * nulls).
 */
struct table_filter {
    int32_t field_id;
    bool is_date;
    const struct sl_spans *spans;
};

/*
 * Whether data file e may hold a row f wants: false only when its
 * partition value (e->partition[part], of transform t over f's column;
 * part < 0: not partitioned by it) or its lower and upper bounds of the
 * column rule every wanted value out.  A file without them may match.
 * The calendar transforms (year, month, day, hour) and identity prune;
 * bucket and truncate do not.
 */
bool table_filter_meets(const struct table_filter *f, struct ival_transform t, int part,
                        const struct mf_entry *e);

/* A live file of a snapshot, as table_live_files() lists them. */
struct table_entry {
    const char *key;              /* store key */
    enum mf_content content;
    int64_t records;
    int64_t bytes;
    const struct mf_entry *entry; /* partition, statistics */
    int32_t spec_id;              /* the partition spec of entry->partition */
    size_t npartition;            /* its values (the spec's fields) */
    bool pruned;                  /* the filter rules it out (below) */
};
typedef int (*table_live_cb)(void *arg, const struct table_entry *f);
/*
 * The live data and delete files of table ns.name at snapshot at (NULL:
 * the current one), read from its manifests; *snapshot_id (may be NULL)
 * gets the snapshot read, -1 if the table has none yet.
 *
 * With a filter (may be NULL), every file is still listed, and pruned says
 * whether a read may skip it: a data file when table_filter_meets() is
 * false (partition by the default spec's field over the filter's column);
 * a position-delete file when it can apply to no data file kept - the one
 * it references is pruned, or no kept data file shares its partition (the
 * spec applies a position delete file to its own partition only).
 * Equality-delete files are always kept.
 *
 * SL_ERR_NOTFOUND (no words) if the catalog has no such table; an unknown
 * snapshot id or a time before the first snapshot is SL_ERR_NOTFOUND with
 * words giving the range; a metadata file, manifest list or manifest that
 * is missing or unreadable is SL_ERR_CORRUPT naming it.
 */
int table_live_files(struct catalog_txn *txn, struct store *s, const char *ns,
                     const char *name, const struct table_at *at,
                     const struct table_filter *filter, int64_t *snapshot_id,
                     table_live_cb cb, void *arg, struct sl_diag *d);

struct sl_strlist;
/* Which snapshots expire: the one snapshot_id (>= 0), or every snapshot
 * committed before older_than_ms that is not among the newest keep_last. */
struct table_expiry {
    int64_t snapshot_id;
    int64_t older_than_ms;
    int64_t keep_last;
    int64_t min_batch;   /* by age: do nothing until this many are due */
};
/*
 * Expire snapshots of ns.name as x says - never the current one (asking
 * for it by id is SL_ERR_INPUT).  The new metadata is committed in txn;
 * gone receives the store keys only the expired snapshots reached
 * (manifest lists, manifests, data and delete files), to delete once txn
 * commits; *expired the number of snapshots expired.
 */
int table_expire(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                 const struct table_expiry *x, struct sl_strlist *gone, int *expired,
                 struct sl_diag *d);
/* Called in the expiry's transaction for each file it deletes, so that
 * the stage's records of retired files go with them; keys the stage keeps
 * beside the file (its key file) are added to also, deleted with it. */
typedef int (*table_forget_fn)(struct catalog_txn *txn, const char *key,
                               struct sl_strlist *also, struct sl_diag *d);
/*
 * table_expire() in a transaction of its own (retried on conflicts), then
 * the files deleted.  *expired and *removed (may be NULL) count snapshots
 * and files.  A crash between the two leaves orphans, never a snapshot
 * without its files.
 */
int table_maintain(struct catalog *cat, struct store *s, const char *ns, const char *name,
                   const struct table_expiry *x, table_forget_fn forget, int *expired,
                   size_t *removed, struct sl_diag *d);
/* Every store key table ns.name's metadata reaches: metadata files (the
 * current and those in its log), and all its snapshots' manifest lists,
 * manifests, data and delete files.  Added to keys. */
int table_referenced(struct catalog_txn *txn, struct store *s, const char *ns,
                     const char *name, struct sl_strlist *keys, struct sl_diag *d);

/* The transform of table ns.name's default partition spec (its one field;
 * IVAL_VOID when unpartitioned); SL_ERR_NOTFOUND (no words) if the
 * catalog has no such table.  A bucket's t->column names its source
 * column (in a); the other transforms leave it NULL (their source is the
 * table's event time). */
int table_partition(struct catalog_txn *txn, struct store *s, const char *ns,
                    const char *name, struct sl_arena *a, struct ival_transform *t,
                    struct sl_diag *d);

/* The fields of table ns.name's default partition spec as text into out:
 * "day(ordered_at), bucket[16](customer_id)" (the spec's transform names,
 * the current schema's column names), "" when unpartitioned; errors as
 * table_partition()'s. */
struct sl_buf;
int table_partition_text(struct catalog_txn *txn, struct store *s, const char *ns,
                         const char *name, struct sl_buf *out, struct sl_diag *d);

/* A table's current schema. */
struct table_schema {
    size_t ncolumns;
    const struct table_column *columns;
    int32_t last_column_id;       /* the highest field id ever assigned */
};
/* The current schema of ns.name, strings in a; SL_ERR_NOTFOUND (no words)
 * if the catalog has no such table, SL_ERR_CORRUPT naming the file if its
 * metadata is unreadable or has a type sluice does not write. */
int table_schema(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                 struct sl_arena *a, struct table_schema *out, struct sl_diag *d);

/*
 * Make staged snapshot snapshot_id (table_change.stage_only) the current
 * one, in txn: refused (SL_ERR_INPUT, with words) if main has moved since
 * the snapshot was staged on it; nothing to do if it is current already.
 */
int table_publish_staged(struct catalog_txn *txn, struct store *s, const char *ns,
                         const char *name, int64_t snapshot_id, struct sl_diag *d);
/* Drop staged snapshot snapshot_id (its audit refused it); its manifests
 * are left for orphan removal. */
int table_drop_staged(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                      int64_t snapshot_id, struct sl_diag *d);

struct engine;
/*
 * Make the engine's view ns.name (the schema ns exists) of the table's
 * snapshot at (NULL: the current one): its live data files less the rows
 * its position deletes name, with the current schema's columns.
 * *snapshot_id (may be NULL) gets the snapshot read, -1 if the table has
 * none yet (the view is empty).  Errors as table_schema()'s and
 * table_live_files()'.
 */
int table_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
               const char *name, const struct table_at *at, int64_t *snapshot_id,
               struct sl_diag *d);
/*
 * The same view of a staged snapshot whose files are not published yet:
 * the file whose key is keys[i] is read from staged[i] (n of them), where
 * the commit protocol keeps it until the publication.
 */
int table_view_staged(struct engine *e, struct catalog_txn *txn, struct store *s,
                      const char *ns, const char *name, int64_t snapshot_id,
                      const char *const *keys, const char *const *staged, size_t n,
                      struct sl_diag *d);

/*
 * What changed in ns.name since snapshot since (-1: everything is new), as
 * the engine's view schema.view, with the current schema's columns:
 *   TABLE_ROWS_ADDED    the rows that are new (a row updated since is new
 *                       in its new version)
 *   TABLE_ROWS_REMOVED  the rows gone since, as they were
 *   TABLE_ROWS_TOUCHED  both, for the keys a change touches: rows
 *                       deleted from files still live taken as they are
 *                       (a writer that deletes a row and adds it again
 *                       unchanged makes it both removed and added)
 * A row a rewrite moved to another file (compaction) is neither added nor
 * removed: the rows of the files added since (less those deleted now) and
 * the rows of the files retired or newly deleted from (as they were) are
 * compared as multisets of whole rows.  The cost follows the change: only
 * files added, retired or named by a delete file added since are read, and
 * for TABLE_ROWS_ADDED of those retired or deleted from only the files
 * whose column bounds (int64, date, timestamp) meet an added file's.
 * TABLE_ROWS_TOUCHED compares only the files added and retired, so the
 * files deleted from are read only in the columns a query asks for.
 * *snapshot_id (may be NULL) gets the current snapshot.  A since that
 * expired is SL_ERR_NOTFOUND with words.
 */
enum table_rows { TABLE_ROWS_ADDED, TABLE_ROWS_REMOVED, TABLE_ROWS_TOUCHED };
int table_view_change(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
                      const char *name, int64_t since, enum table_rows which, const char *schema,
                      const char *view, int64_t *snapshot_id, struct sl_diag *d);

struct engine_file_stats;
/* Column col's Iceberg statistics in a file the engine wrote (fs): counts,
 * and bounds in the single-value encoding (bytes in a). */
void table_column_stats(const struct table_column *col, const struct engine_file_stats *fs,
                        struct sl_arena *a, struct mf_column_stats *out);

/* A snapshot, as table_snapshots() lists them. */
struct table_snapshot {
    int64_t id;
    int64_t parent_id;            /* -1: none */
    int64_t sequence_number;
    int64_t timestamp_ms;
    const char *operation;
    const char *manifest_list;    /* URI */
    const char *summary_json;     /* the summary object as JSON text */
    bool current;
};

typedef int (*table_snapshot_cb)(void *arg, const struct table_snapshot *snap);
/* The snapshots of table ns.name, oldest first; SL_ERR_NOTFOUND with words
 * if the table does not exist. */
int table_snapshots(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                    table_snapshot_cb cb, void *arg, struct sl_diag *d);

/*
 * The Iceberg REST catalog's view of tables (update.c): metadata files
 * read and written whole, for writers other than sluice's stages.
 */

/* The current metadata of ns.name: *location its URI and *json the file's
 * text as stored (both caller frees).  SL_ERR_NOTFOUND (no words) if the
 * catalog has no such table; SL_ERR_CORRUPT naming the file if it is
 * missing or not a JSON object. */
int table_metadata(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                   char **location, char **json, struct sl_diag *d);

/* Whether name can name a namespace or a table made through the REST
 * catalog: a folder of the lake, 1 to TABLE_NAME_MAX of A-Z a-z 0-9 _ -,
 * not starting with '_'. */
#define TABLE_NAME_MAX 128
bool table_name_ok(const char *name);

/* Whether the metadata text json says sluice's pipeline writes the table
 * (the property sluice.managed-by), which no other writer may commit to. */
bool table_managed(const char *json);

/*
 * Commit a CommitTableRequest (the JSON text req, len bytes) to ns.name in
 * txn: its requirements are checked against the current metadata, its
 * updates applied in order, the next metadata file written (with the
 * current one in its metadata-log) and the catalog's pointer swapped.  An
 * empty list of updates changes nothing.  *location and *json (caller
 * frees) get the table's metadata afterwards.  Errors, with words naming
 * the member ("updates[2].schema.fields[0].id"):
 *   SL_ERR_INPUT     the request is malformed, an action is unknown or an
 *                    update cannot apply (an unknown schema id, say)
 *   SL_ERR_CONFLICT  a requirement does not hold, or the pointer moved
 *   SL_ERR_NOTFOUND  no such table (no words)
 * Nothing is changed on error (a file written before the swap failed is
 * left unreferenced).
 */
int table_update(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                 const char *req, size_t len, char **location, char **json,
                 struct sl_diag *d);

/*
 * table_update()'s checks and changes alone, on the metadata text meta of
 * table ns.name, without reading or writing anything: *next (caller frees)
 * gets the changed metadata, NULL if the request has no updates.  Errors
 * as table_update()'s, and SL_ERR_CORRUPT if meta is not a JSON object or
 * has no location.  Thread-safe; fuzzed by tests/fuzz/iceberg_commit.
 */
int table_apply_commit(const char *meta, const char *ns, const char *name, const char *req,
                       size_t len, char **next, struct sl_diag *d);

/*
 * Create a table in namespace ns from a CreateTableRequest (the JSON text
 * req): its name, schema, partition spec, sort order and properties, a
 * format-version 2 table without snapshots at the store's
 * layout_table_prefix() (a location that differs is refused).  *name,
 * *location and *json (caller frees) name the table and give its first
 * metadata.  SL_ERR_INPUT (words naming the member) for a bad request,
 * SL_ERR_EXISTS if the name is taken.
 */
int table_create(struct catalog_txn *txn, struct store *s, const char *ns, const char *req,
                 size_t len, char **name, char **location, char **json, struct sl_diag *d);

#endif
