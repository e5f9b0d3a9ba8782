/*
 * eval.h - a DQDL ruleset evaluated over one data set: every rule's
 * outcome, observed metric and reason.
 *
 * The data set is any relation the engine can read (a curated or gold
 * table's view, read_parquet('file')).  The metrics of all the rules are
 * computed by one aggregate query for each distinct `where` filter (the
 * rules without one share a query), not by a query per rule.
 *
 * Outcomes:
 *   passed   the rule's metric satisfies its condition
 *   failed   it does not, or there is nothing to measure (no rows, or only
 *            NULLs, where the metric is a ratio or a statistic: Glue's
 *            evaluator has no value there either, and a gate must not
 *            pass on it); the reason says which
 *   error    the rule cannot run here: an unknown column (the reason lists
 *            the data set's columns), a column of the wrong type, a where
 *            clause or statement the engine refuses (its words), or a
 *            rule type this version does not evaluate yet
 * A composite is passed or failed by its parts (and: both pass; or: one
 * does), and error if a part it needs is.
 *
 * Dynamic thresholds read the rule's own history through dq_data.history;
 * with none (or no callback), last() is 0.0, as in Glue.
 */
#ifndef SL_QUALITY_EVAL_H
#define SL_QUALITY_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"
#include "quality/dqdl.h"

struct engine;

enum dq_outcome { DQ_PASSED, DQ_FAILED, DQ_ERROR };

/* "passed", "failed", "error". */
const char *dq_outcome_name(enum dq_outcome o);

struct dq_result {
    const struct dq_rule *rule;
    enum dq_outcome outcome;
    bool has_metric;            /* metric is the observed value */
    double metric;
    const char *reason;         /* why, in words; "" when passed */
    const struct dq_result *l, *r; /* a composite's parts */
};

/*
 * The values a rule's metric had in earlier evaluations, newest first:
 * up to max of them into out; returns how many there are.
 */
typedef size_t (*dq_history_fn)(void *arg, const struct dq_rule *rule, double *out, size_t max);

/* A data set other than the primary, named by an alias in the rules
 * (RowCountMatch "customers", ReferentialIntegrity "id" "customers.id"). */
struct dq_source {
    const char *alias;
    const char *relation;       /* SQL of a relation, as dq_data's */
    const char *name;           /* for words */
};

struct dq_data {
    struct engine *e;
    const char *relation;       /* SQL of a relation: curated."orders", read_parquet('x') */
    const char *name;           /* for words: curated.orders, exports/x.parquet */
    dq_history_fn history;      /* NULL: no history */
    void *history_arg;
    int64_t now_us;             /* now() of the rules, UTC microseconds; 0: the clock's */
    const struct dq_source *sources; /* the additional data sets */
    size_t nsources;
    /*
     * Columns whose values together no two rows share and none of which
     * is NULL: a curated table's key (the transform keeps one row per key
     * and quarantines records without one).  Uniqueness-type rules on
     * exactly these columns are then known from the row count, with no
     * counting of values.  NULL: none known.
     */
    const char *const *unique_key;
    size_t nunique_key;
    /*
     * DistributionDrift's metric: the PSI of column against its baseline
     * (quality/profile.h), measured before the evaluation.  1 and *psi;
     * 0: no baseline yet (the column's first profile); NULL callback: not
     * known here (the rule errs).
     */
    int (*drift)(void *arg, const char *column, double *psi);
    void *drift_arg;
};

struct dq_report {
    const struct dq_result *results; /* one per top-level rule, in ruleset order */
    size_t n;
    size_t passed, failed, errors;
    struct sl_arena arena;
};

/*
 * Evaluate rs over data into *out (released with dq_report_free()).
 * Returns 0 when every rule has an outcome (failed and error ones
 * included), or an error when the data set itself cannot be read (its
 * columns cannot be described): that one is in d.
 */
int dq_evaluate(const struct dq_ruleset *rs, const struct dq_data *data, struct dq_report *out,
                struct sl_diag *d);
void dq_report_free(struct dq_report *r);

#endif
