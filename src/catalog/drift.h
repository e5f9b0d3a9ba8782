/*
 * drift.h - the catalog's record of schema drift: for each transform run,
 * each raw object and each field, how many records carried a field the
 * object's contract version does not declare (kind "unknown") or lacked a
 * required one (kind "missing"), with one example.  Written in the run's
 * commit transaction; information only - the run's account is unchanged.
 * Read back by `sluice runs --drift` and by gates (transform_run_drift()).
 */
#ifndef SL_CATALOG_DRIFT_H
#define SL_CATALOG_DRIFT_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "core/diag.h"

struct catalog_drift {
    int64_t run_id;
    const char *source;
    const char *object_id;       /* the example's object */
    const char *field;
    const char *kind;            /* "unknown" or "missing" */
    int64_t records;
    int64_t example_position;    /* a line (CSV, JSON lines) or a record number */
    const char *example_text;    /* unknown: the value as JSON text, cut to
                                  * about 100 bytes; missing: NULL */
    /* Filled by catalog_drift_list() only: */
    int64_t objects;             /* objects with such records */
    const char *contract_version;/* the example object's ("" if unknown) */
    const char *format;          /* the example object's: csv, jsonl, json,
                                  * avro ("" if unknown) */
};

/* Record one (object, field, kind) of run r->run_id. */
int catalog_drift_add(struct catalog_txn *txn, const struct catalog_drift *r,
                      struct sl_diag *d);

/*
 * The drift recorded for run run_id, summed per (field, kind) over its
 * objects, to fn: unknown fields first, then missing ones, each by field
 * name; the example is the earliest object's (by arrival).  Strings are
 * the callback's for the call only.  fn is called only once every row was
 * read, and not at all if reading fails; a negative return of fn stops
 * the list and is returned.  A run without drift: fn is not called.
 */
typedef int (*catalog_drift_fn)(void *arg, const struct catalog_drift *r);
int catalog_drift_list(struct catalog_txn *txn, int64_t run_id, catalog_drift_fn fn, void *arg,
                       struct sl_diag *d);

#endif
