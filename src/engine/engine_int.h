/*
 * engine_int.h - shared by the files of engine/.  Not for outside.
 */
#ifndef SL_ENGINE_INT_H
#define SL_ENGINE_INT_H

#include <duckdb.h>
#include <stdbool.h>
#include <stddef.h>

/* A whole result as text, for printing. */
struct print_table {
    size_t ncols, nrows, cap;
    char **names;
    bool *numeric;   /* printed bare in JSON, right-aligned in tables */
    char **cells;    /* nrows * ncols; NULL for SQL NULL */
};

int print_collect(duckdb_result *res, struct print_table *pt);
void print_release(struct print_table *pt);

#endif
