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

int print_collect(duckdb_result *res, struct print_table *pt);
void print_release(struct print_table *pt);

#endif
