/*
 * engine_int.h - shared by the files of engine/.  Not for outside.
 */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include <duckdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"

/* A whole result as text, for printing. */
struct print_table {
    size_t ncols, nrows, cap;
    char **names;
    bool *numeric;   /* printed bare in JSON, right-aligned in tables */
    char **cells;    /* nrows * ncols; NULL for SQL NULL */
};

/*
 * Like engine_exec_many(), for n COPY ... TO statements that each write one
 * file with RETURN_STATS: out[i] receives statement i's file statistics
 * (release each with engine_file_stats_release(), also on failure).  Each
 * file, paths[i], is started on its way to the disk as soon as it is
 * written (the caller seals it).  The way in from other stages is
 * engine_write_many() (tables.c).
 */
int engine_copy_many(struct engine *e, const char *const *sql, const char *const *paths,
                     size_t n, struct engine_file_stats *out, struct sl_diag *d);

/* Run one COPY ... TO ... (RETURN_STATS) that may write many files (a
 * partitioned write): *out (*n of them, caller releases each and frees
 * the array) gets each file's statistics, path and partition value. */
int engine_copy_files(struct engine *e, const char *sql, struct engine_file_stats **out,
                      size_t *n, struct sl_diag *d);

/* The name of a scalar function of one value of type (not boolean or
 * double) giving h's hash of it as an INTEGER (NULL for NULL); registered
 * once per type and hashes. */
int engine_hash_function(struct engine *e, struct sl_type type, const struct engine_hashes *h,
                         const char **name, struct sl_diag *d);

int print_collect(duckdb_result *res, struct print_table *pt);
void print_release(struct print_table *pt);

#endif
