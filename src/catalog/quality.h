/*
 * quality.h - the catalog's record of quality rule evaluations: every
 * rule of every check, with its outcome and the value it observed, for
 * `sluice quality history` and for the dynamic thresholds of later checks
 * (RowCount > avg(last(10)) * 0.8 reads the rule's last ten values).
 *
 * A rule is known by its table and its text as written; its position in
 * the ruleset (a pre-order count that reaches the parts of composites)
 * keeps the rules of one evaluation apart.
 */
#ifndef SL_CATALOG_QUALITY_H
#define SL_CATALOG_QUALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/mem.h"

struct quality_record {
    const char *table;          /* curated.orders, gold.customer_360 */
    int64_t evaluated_at;       /* microseconds */
    int64_t position;           /* the rule's place in the ruleset */
    const char *rule;           /* its text */
    const char *outcome;        /* "passed", "failed", "error" */
    bool has_metric;
    double metric;
    const char *reason;
    int64_t run_id;             /* the gated run; -1: a check on demand */
    int64_t snapshot_id;        /* the table's, when it was checked; -1: none */
};

int catalog_quality_add(struct catalog_txn *txn, const struct quality_record *r,
                        struct sl_diag *d);

/* The values rule observed on table, newest first, at most max into out;
 * *n gets how many.  The gates' evaluations of runs held or discarded are
 * left out: a dynamic threshold compares with what was published. */
int catalog_quality_values(struct catalog_txn *txn, const char *table, const char *rule,
                           double *out, size_t max, size_t *n, struct sl_diag *d);

/* Each evaluation on table (of the rule with text rule, if not NULL), oldest
 * first, to fn; strings are the callback's for the call. */
typedef int (*quality_record_fn)(void *arg, const struct quality_record *r);
int catalog_quality_list(struct catalog_txn *txn, const char *table, const char *rule,
                         quality_record_fn fn, void *arg, struct sl_diag *d);

/* The evaluations of the gate of run run_id, by table, in ruleset order. */
int catalog_quality_run(struct catalog_txn *txn, int64_t run_id, quality_record_fn fn,
                        void *arg, struct sl_diag *d);

/* ---- profiles of numeric columns (quality/profile.h) ---------------------- */

int catalog_profile_add(struct catalog_txn *txn, const char *table, const char *column,
                        int64_t evaluated_at, int64_t run_id, int64_t values,
                        const double deciles[9], struct sl_diag *d);
/* The deciles of column's newest profiles on table (with values), newest
 * first, at most max into out; *n gets how many.  Profiles taken by the
 * gates of runs that are held or were discarded are left out: a baseline
 * is what was published. */
int catalog_profile_recent(struct catalog_txn *txn, const char *table, const char *column,
                           double (*out)[9], size_t max, size_t *n, struct sl_diag *d);

#endif
