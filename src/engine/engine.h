/*
 * engine.h - the one place that talks to DuckDB.
 *
 * The engine runs SQL, reads and writes Parquet (COPY ... TO with field ids,
 * zstd, version-1 pages), and lets the other stages hand it rows and row
 * predicates written in C:
 *
 *   - a scan (engine_scan) is a table function over rows the caller holds in
 *     memory; each registered scan gets a fresh SQL name;
 *   - a filter (engine_filter) is a scalar function returning BOOLEAN,
 *     called with vectors of its arguments.
 *
 * The SQL that reads and writes the lake's own files is built here too
 * (tables.c, "tables" below): other stages describe files and columns,
 * never write that SQL.
 *
 * An engine is one in-memory DuckDB database with extension auto-install and
 * auto-load off, TimeZone UTC, and a pool of connections so independent
 * statements (one COPY per partition) can run at once: engine_exec_many().
 *
 * Ownership: results are freed with engine_result_free(); chunk views are
 * borrowed until the next engine_result_next() or the end of the callback
 * that received them.
 */
#ifndef SL_ENGINE_H
#define SL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/diag.h"
#include "core/span.h"
#include "core/type.h"

struct engine;
struct engine_result;
struct engine_chunk;

/* Rows in one engine chunk (DuckDB's vector size). */
#define ENGINE_CHUNK_ROWS 2048

struct engine_opts {
    int64_t threads;      /* 0: one per core */
    int64_t memory_limit; /* bytes; 0: DuckDB's default */
    const char *temp_dir; /* spill folder, or NULL */
    int connections;      /* statements that may run at once; >= 1 */
};

int engine_open(const struct engine_opts *o, struct engine **out, struct sl_diag *d);
void engine_close(struct engine *e);
/* The DuckDB library version, e.g. "v1.4.4". */
const char *engine_version(void);

/* Change how many threads one statement may use (0: one per core). */
int engine_set_threads(struct engine *e, int64_t threads, struct sl_diag *d);
/* Run one or more statements, discarding results. */
int engine_exec(struct engine *e, const char *sql, struct sl_diag *d);
/*
 * Run n independent statements over the connection pool, as many at once
 * as there are connections.  All run even if one fails; the first failure
 * is returned.
 */
int engine_exec_many(struct engine *e, const char *const *sql, size_t n, struct sl_diag *d);

/*
 * Statistics of a written Parquet file, from COPY ... (RETURN_STATS): the
 * file's rows and bytes and, per column (by name), its bounds as the
 * engine prints them (TimeZone UTC), null count, NaN flag and compressed
 * size.  A bound is NULL where the engine gives none (booleans, all-null
 * columns, decimals wider than 18 digits).
 */
struct engine_column_stats {
    char *name;
    char *min, *max;
    int64_t null_count;         /* -1: unknown */
    int64_t column_size;        /* -1: unknown */
    bool has_nan;
};

struct engine_file_stats {
    int64_t rows;
    int64_t bytes;
    size_t ncolumns;
    struct engine_column_stats *columns;
    char *path;                 /* the file written */
    char **partition;           /* a partitioned write's values for the file, one a
                                 * field (engine_write_partitioned()), or NULL */
    size_t npartition;
};

void engine_file_stats_release(struct engine_file_stats *s);
/* The statistics of column name, or NULL. */
const struct engine_column_stats *engine_file_stats_column(const struct engine_file_stats *s,
                                                           const char *name);

/* ---- results ------------------------------------------------------------- */

/* Run a query and materialise its result. */
int engine_query(struct engine *e, const char *sql, struct engine_result **out,
                 struct sl_diag *d);
/* Run a query whose result is read chunk by chunk as it is produced, so
 * it is never held whole in memory.  Only engine_result_next() applies. */
int engine_stream(struct engine *e, const char *sql, struct engine_result **out,
                  struct sl_diag *d);
/* The same on connection conn (0 <= conn < engine_connections()), so
 * several threads can each read a result at once, one per connection. */
int engine_stream_on(struct engine *e, int conn, const char *sql, struct engine_result **out,
                     struct sl_diag *d);
int engine_connections(const struct engine *e);
void engine_result_free(struct engine_result *r);
size_t engine_result_ncols(const struct engine_result *r);
const char *engine_result_name(const struct engine_result *r, size_t col);
/* The next chunk of the result, or NULL at the end; borrowed. */
struct engine_chunk *engine_result_next(struct engine_result *r);

/* ---- reading chunks --------------------------------------------------------- */

/* How a column's values are laid out in a chunk. */
enum engine_vec_kind {
    ENGINE_VEC_BOOL,  /* uint8_t */
    ENGINE_VEC_I16,
    ENGINE_VEC_I32,   /* also DATE: days */
    ENGINE_VEC_I64,   /* also TIMESTAMP(TZ): microseconds */
    ENGINE_VEC_I128,  /* DuckDB hugeint: low uint64, high int64 */
    ENGINE_VEC_F64,
    ENGINE_VEC_STR,   /* use engine_vec_str() */
    ENGINE_VEC_OTHER, /* not readable through this interface */
};

/* A read-only view of one column of a chunk. */
struct engine_vec {
    enum engine_vec_kind kind;
    const void *data;
    const uint64_t *validity; /* NULL: every row valid */
};

size_t engine_chunk_rows(const struct engine_chunk *c);
size_t engine_chunk_ncols(const struct engine_chunk *c);
void engine_chunk_vec(const struct engine_chunk *c, size_t col, struct engine_vec *v);

static inline bool
engine_vec_valid(const struct engine_vec *v, size_t row)
{
    return v->validity == NULL || (v->validity[row / 64] >> (row % 64)) & 1;
}

/* The string at row (not NUL-terminated), borrowed with the chunk. */
const char *engine_vec_str(const struct engine_vec *v, size_t row, size_t *len);
/* A signed integer of any integer kind, or a decimal's unscaled value. */
__int128 engine_vec_int(const struct engine_vec *v, size_t row);

/* ---- writing chunks (inside a scan's fill) --------------------------------- */

/* Raw storage of column col: int64_t*, double*, int32_t*, uint8_t* or
 * (for decimals) the physical integer width of the column's type. */
void *engine_chunk_data(struct engine_chunk *c, size_t col);
void engine_chunk_set_null(struct engine_chunk *c, size_t col, size_t row);
/* A string (valid UTF-8), copied into the chunk. */
void engine_chunk_set_str(struct engine_chunk *c, size_t col, size_t row, const char *s,
                          size_t len);
/* A string (valid UTF-8, under 4 GiB) by reference, not copied: s must stay
 * as it is until the statement that runs the scan has ended.  For bytes
 * the caller keeps for the statement anyway, this saves a copy per value. */
void engine_chunk_ref_str(struct engine_chunk *c, size_t col, size_t row, const char *s,
                          size_t len);
/* Make column col one value for every row of the chunk (cheaper than
 * filling each row). */
void engine_chunk_const_str(struct engine_chunk *c, size_t col, const char *s, size_t len);
void engine_chunk_const_timestamp(struct engine_chunk *c, size_t col, int64_t usec);
/* Store an unscaled decimal at row, whatever the column's physical width. */
void engine_chunk_set_decimal(struct engine_chunk *c, size_t col, size_t row, __int128 v);

/* ---- scans and filters ----------------------------------------------------- */

/* A column of a scan, or of a table's Parquet files (see "tables"). */
struct engine_column {
    const char *name;
    struct sl_type type;
    int32_t field_id; /* Parquet field id; unused by scans */
};

/*
 * A table function over caller-held rows.  fill() is called with the
 * argument given in SQL (an integer: which partition, which list ...), the
 * first row to produce and room for ENGINE_CHUNK_ROWS rows; it fills the
 * chunk's columns and returns the rows it filled, 0 at the end.  One
 * invocation runs on one thread; different invocations may run at once.
 */
struct engine_scan {
    size_t ncolumns;
    const struct engine_column *columns;
    size_t (*fill)(void *arg, int64_t which, int64_t first, struct engine_chunk *chunk);
    void *arg;
};

/*
 * A scalar predicate: keep() reads the argument vectors of chunk (their
 * types as given in args) and sets out[row] for each row.  Called from
 * several threads at once; must be read-only on shared state.
 */
struct engine_filter {
    size_t nargs;
    const struct sl_type *args;
    void (*keep)(void *arg, const struct engine_chunk *chunk, bool *out);
    void *arg;
};

/* Register a scan / a filter; *name receives its SQL name (static storage
 * in the engine, valid until engine_close). */
int engine_register_scan(struct engine *e, const struct engine_scan *scan, const char **name,
                         struct sl_diag *d);
int engine_register_filter(struct engine *e, const struct engine_filter *f, const char **name,
                           struct sl_diag *d);

/* ---- tables ------------------------------------------------------------------ */

/*
 * The lake's Parquet files, described rather than written in SQL: tables.c
 * alone builds the statements.  Files are read by column name; a column
 * whose field id is above a file's max_field_id (added after the file was
 * written) reads as a NULL of its type.  Paths are local paths the engine
 * can open.  Descriptions are borrowed for the call.
 */

/* One Parquet file to read. */
struct engine_file {
    const char *path;
    int32_t max_field_id; /* it has the columns with field ids up to this */
    int64_t index;        /* its number: the filter's first argument in a
                           * write, the column f of a numbered read */
    bool filtered;        /* a write keeps only the rows
                           * filter(index, file_row_number) keeps */
};

/*
 * The hashes of single values a bucket partition takes (Iceberg's
 * bucket[N] is (hash & INT32_MAX) % N of them): of a long (also a date's
 * days and a timestamp's microseconds), of a string's UTF-8 bytes, of a
 * decimal's unscaled value.  The engine does not know the hash; its
 * caller (table/value.h) does.
 */
struct engine_hashes {
    int32_t (*of_long)(int64_t v);
    int32_t (*of_string)(const char *s, size_t n);
    int32_t (*of_decimal)(__int128 unscaled);
};

/*
 * How a query's rows are partitioned: an Iceberg transform of one of the
 * write's columns, the value as Iceberg keeps it: days for a date,
 * microseconds for a timestamp, 0/1 for a boolean, the unscaled value of
 * a decimal; the calendar transforms in units since 1970 (UTC), rounded
 * towards minus infinity.
 */
enum engine_part_kind {
    ENGINE_PART_IDENTITY,
    ENGINE_PART_YEAR,
    ENGINE_PART_MONTH,
    ENGINE_PART_DAY,
    ENGINE_PART_HOUR,
    ENGINE_PART_TRUNCATE, /* width W: code points of a string, else v - v mod W */
    ENGINE_PART_BUCKET,   /* width N, of hashes */
};
struct engine_partition {
    const char *column;
    struct sl_type type;        /* the column's */
    enum engine_part_kind kind;
    int64_t width;              /* truncate's W, bucket's N */
    const struct engine_hashes *hashes; /* a bucket's */
};

/*
 * One Parquet file to write: the rows of scan(which), then those of each
 * of files, in that order (DuckDB keeps it), zstd-compressed at
 * zstd_level, version-1 pages, each column with its field id.
 */
struct engine_write {
    const char *path;                     /* the file written */
    size_t ncolumns;
    const struct engine_column *columns;  /* of the file, in order */
    const char *query;                    /* a SELECT (a user's text) whose rows
                                           * are written, each column taken
                                           * by name and cast to its type;
                                           * NULL: scan and files */
    const char *keys_view;                /* with query: only its rows whose
                                           * key_columns match a row of this
                                           * view (NULL matches NULL) */
    const char *const *key_columns;
    size_t nkeys;
    const struct engine_partition *partition; /* with query: path is a folder
                                           * and each partition value gets
                                           * its files in it
                                           * (engine_write_partitioned());
                                           * npartition fields, in order */
    size_t npartition;
    const char *scan;                     /* registered scan, or NULL: no new rows */
    int64_t which;                        /* scan's argument */
    size_t nfiles;
    const struct engine_file *files;      /* files whose rows follow */
    const char *filter;                   /* registered filter of (BIGINT file
                                           * index, BIGINT row) for files
                                           * marked filtered; else NULL */
    int64_t zstd_level;
    int64_t row_group_rows;               /* 0: the engine's default */
};

struct engine_view;
/*
 * A position delete file (Iceberg's: file_path, pos, sorted) at path of
 * the rows of a table's data files whose key columns match a row of the
 * view keys_view (schema-qualified, with those columns; NULL matches
 * NULL), less the rows the table's delete files name already.  The data
 * files are view->paths (their URIs in uris[], what file_path holds) and
 * the existing deletes view->deletes, as engine_parquet_view() takes them;
 * out receives the file's statistics (rows: positions written).  With no
 * data file nothing is written (out->rows 0).
 */
int engine_write_key_deletes(struct engine *e, const char *path, const struct engine_view *view,
                             const char *const *uris, const char *const *key_columns,
                             size_t nkeys, const char *keys_view, int64_t zstd_level,
                             struct engine_file_stats *out, struct sl_diag *d);

/*
 * The same, a position delete file for each data file: paths[i] (view->nfiles
 * of them) gets the deletes of view->paths[i] and out[i] its statistics;
 * a file with no rows to delete gets no file (out[i].rows 0, nothing
 * written at paths[i]).  Deletes of one file each are what a partitioned
 * table takes (a delete file applies within its own partition only).
 */
int engine_write_key_deletes_per_file(struct engine *e, const char *const *paths,
                                      const struct engine_view *view, const char *const *uris,
                                      const char *const *key_columns, size_t nkeys,
                                      const char *keys_view, int64_t zstd_level,
                                      struct engine_file_stats *out, struct sl_diag *d);

/*
 * Write w (a query with partition fields): its files in the folder w->path
 * (new or empty), one or more for each partition value; *out (*n of them,
 * the caller releases each and frees the array) their statistics, paths
 * and partition values, one for each field in order, as text: "n" for
 * null, else "v" and the value ("v19723", "vabc").  No rows, no files.
 */
int engine_write_partitioned(struct engine *e, const struct engine_write *w,
                             struct engine_file_stats **out, size_t *n, struct sl_diag *d);

/*
 * The columns query (one SELECT, a user's text) gives, without running it:
 * their names and the engine's type names ("BIGINT", "DECIMAL(12,2)",
 * "TIMESTAMP WITH TIME ZONE").  The query's text starts on the statement's
 * second line: an error's "LINE n" is line n - 1 of query.
 */
struct engine_query_column {
    char *name;
    char *type;
};
int engine_describe(struct engine *e, const char *query, struct engine_query_column **cols,
                    size_t *n, struct sl_diag *d);
void engine_query_columns_release(struct engine_query_column *cols, size_t n);

/*
 * Write the n files w describes, as many at once as there are connections
 * (each statement on one thread: set engine_set_threads(e, 1) first).  All
 * are written even if one fails; the first failure is returned.  out[i]
 * (n of them) receives file i's statistics: release each with
 * engine_file_stats_release(), also on failure.  Each file is started on
 * its way to the disk once written; making it durable is the caller's
 * (store_seal()).
 */
int engine_write_many(struct engine *e, const struct engine_write *w, size_t n,
                      struct engine_file_stats *out, struct sl_diag *d);

/* The rows of files, as one result. */
struct engine_read {
    size_t ncolumns;
    const struct engine_column *columns; /* read by name, in order */
    size_t nfiles;
    const struct engine_file *files;     /* one after the other */
    bool numbered;                       /* each row starts with BIGINT f,
                                          * its file's index, and BIGINT r,
                                          * its row number in the file */
};

/*
 * Stream the rows r describes on connection conn (see engine_stream_on()).
 * Free *out with engine_result_free().  Returns 0 or SL_ERR_ENGINE (a file
 * missing, not Parquet, or lacking a column it should have).
 */
int engine_read_files(struct engine *e, int conn, const struct engine_read *r,
                      struct engine_result **out, struct sl_diag *d);
/*
 * Stream the rows (file_path VARCHAR, pos BIGINT) of n Iceberg position
 * delete files at paths.  Free *out with engine_result_free().
 */
int engine_read_deletes(struct engine *e, const char *const *paths, size_t n,
                        struct engine_result **out, struct sl_diag *d);

/* The rows a Parquet file's footer records. */
int engine_parquet_rows(struct engine *e, const char *path, int64_t *rows, struct sl_diag *d);

/* What a position delete file holds, read whole. */
struct engine_delete_check {
    int64_t rows;    /* its rows */
    int64_t named;   /* rows whose file_path is not NULL */
    int64_t min_pos; /* the smallest pos; 0 when it has none */
};

/* Read the position delete file at path into *out.  SL_ERR_ENGINE when it
 * is not Parquet with columns file_path and pos. */
int engine_check_deletes(struct engine *e, const char *path, struct engine_delete_check *out,
                         struct sl_diag *d);

/* CREATE SCHEMA IF NOT EXISTS each of the n names, in one statement. */
int engine_create_schemas(struct engine *e, const char *const *names, size_t n,
                          struct sl_diag *d);

/*
 * A view over a table's Parquet data files less the rows its position
 * delete files name (merge-on-read).  With no data file the view is empty,
 * with the columns' names and types.
 */
struct engine_view {
    const char *schema, *name;           /* the view made, schema.name */
    size_t ncolumns;
    const struct engine_column *columns; /* its columns, in order */
    int32_t max_field_id;                /* the highest any file has: later
                                          * columns are NULL in every row */
    size_t nfiles;
    const char *const *paths;            /* the data files */
    const char *const *keys;             /* their store keys, beside paths:
                                          * the names delete files use */
    size_t ndeletes;
    const char *const *deletes;          /* the position delete files */
    const char *uri_key_mark;            /* a delete file's file_path that
                                          * is a file:// URI names the key
                                          * that starts at the first
                                          * occurrence of this, less its
                                          * first character ("/curated/t/");
                                          * any other file_path is a key */
    bool only_deleted;                   /* the other way round: only the
                                          * rows the delete files name */
};

/* Create or replace the view v describes. */
int engine_parquet_view(struct engine *e, const struct engine_view *v, struct sl_diag *d);
/* Create or replace view schema.name as the rows of views schema.parts[i]
 * (n >= 1), columns matched by name. */
int engine_union_view(struct engine *e, const char *schema, const char *name,
                      const char *const *parts, size_t n, struct sl_diag *d);
/* Create or replace view schema.name as the rows of view schema.a less
 * those of schema.b, as multisets (EXCEPT ALL; the columns alike). */
int engine_except_view(struct engine *e, const char *schema, const char *name, const char *a,
                       const char *b, struct sl_diag *d);
/* Create or replace table schema.name as the distinct key_columns of the
 * views sources[i] ("schema.view"; names without dots): computed once, now,
 * for statements that each read it (a merge's rows and its deletes). */
int engine_keys_table(struct engine *e, const char *schema, const char *name,
                     const char *const *key_columns, size_t nkeys,
                     const char *const *sources, size_t nsources, struct sl_diag *d);
/* Create or replace view schema.name as query (a user's SELECT; it starts
 * on the statement's second line, as in engine_describe()). */
int engine_query_view(struct engine *e, const char *schema, const char *name, const char *query,
                      struct sl_diag *d);

/*
 * A view over JSON-lines files, each line an object with the given columns
 * (missing members are NULL); with nunique > 0, one row per value of the
 * unique columns: the one with the lowest first_by.
 */
struct engine_json_view {
    const char *schema, *name;           /* the view made, schema.name */
    size_t npaths;
    const char *const *paths;            /* the files; at least one */
    size_t ncolumns;
    const struct engine_column *columns; /* field_id unused */
    size_t nunique;
    const char *const *unique;           /* column names */
    const char *first_by;                /* a column name, when nunique > 0 */
};

/* Create or replace the view v describes. */
int engine_json_view(struct engine *e, const struct engine_json_view *v, struct sl_diag *d);

/* How many rows of schema.table repeat the values of n columns of an
 * earlier row: count(*) less the distinct values. */
int engine_count_duplicates(struct engine *e, const char *schema, const char *table,
                            const char *const *columns, size_t n, int64_t *dups,
                            struct sl_diag *d);

/* ---- query bounds ------------------------------------------------------------ */

/* A column whose values a query's filters may bound: column of table
 * schema.table, a TIMESTAMP WITH TIME ZONE, or a DATE (is_date). */
struct engine_bound_target {
    const char *schema;
    const char *table;
    const char *column;
    bool is_date;
};

/* What a query reads of one target's table. */
struct engine_bounds {
    bool read;             /* the query may read the table */
    bool bounded;          /* every row it reads has the column in spans */
    struct sl_spans spans; /* microseconds since the epoch, UTC; a date as
                            * its midnight; empty when nothing is read */
    char why[160];         /* read && !bounded: why not, in words */
};

/*
 * Which values of each target's column the rows the query sql reads can
 * have (bounds.c explains what is understood; anything else is read
 * whole).  DuckDB parses sql; nothing runs against a table, so this may
 * come before the tables exist.  out[i] (n of them) answers for t[i];
 * release with engine_bounds_release(), also on failure.  Returns 0, also
 * when the query cannot be analysed (a statement that is not a SELECT:
 * every target read and unbounded, with why), SL_ERR_INPUT naming a
 * syntax error, or an engine failure.
 */
int engine_query_bounds(struct engine *e, const char *sql, size_t n,
                        const struct engine_bound_target *t, struct engine_bounds *out,
                        struct sl_diag *d);
void engine_bounds_release(struct engine_bounds *b, size_t n);

/* ---- printing ----------------------------------------------------------------- */

enum engine_format {
    ENGINE_FORMAT_TABLE, /* aligned columns with a header */
    ENGINE_FORMAT_CSV,   /* RFC 4180 with a header */
    ENGINE_FORMAT_JSON,  /* an array of objects */
    ENGINE_FORMAT_JSONL, /* one object per line */
};

/* Run each statement in sql; print the last one's result to out. */
int engine_print(struct engine *e, const char *sql, enum engine_format fmt, FILE *out,
                 struct sl_diag *d);

#endif
