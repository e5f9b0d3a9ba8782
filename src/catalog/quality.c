/*
 * quality.c - quality rule evaluations (see quality.h).
 */
#include "catalog/quality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

int
catalog_quality_add(struct catalog_txn *txn, const struct quality_record *r, struct sl_diag *d)
{
    char metric[40];
    int rc;

    snprintf(metric, sizeof(metric), "%.17g", r->metric);
    rc = cat_run(txn, d, "record a quality rule's evaluation",
                 "INSERT INTO quality_results (table_name, evaluated_at, position, rule, "
                 "outcome, metric, reason, run_id, snapshot_id) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                 NULL, NULL, "tiittttii", r->table, r->evaluated_at, r->position, r->rule,
                 r->outcome, r->has_metric ? metric : NULL, r->reason, r->run_id,
                 r->snapshot_id);
    return rc < 0 ? rc : 0;
}

struct values_ctx {
    double *out;
    size_t max, n;
};

static int
value_row(void *arg, const struct catalog_row *r)
{
    struct values_ctx *c = arg;
    const char *t = cat_text(r, 0);

    if (t != NULL && c->n < c->max)
        c->out[c->n++] = strtod(t, NULL);
    return 0;
}

int
catalog_quality_values(struct catalog_txn *txn, const char *table, const char *rule,
                       double *out, size_t max, size_t *n, struct sl_diag *d)
{
    struct values_ctx c = {out, max, 0};
    int rc = cat_run(txn, d, "read a quality rule's history",
                     "SELECT metric FROM quality_results WHERE table_name = ?1 AND rule = ?2 "
                     "AND metric IS NOT NULL AND run_id NOT IN "
                     "(SELECT run_id FROM runs WHERE state <> 'published') "
                     "ORDER BY evaluated_at DESC LIMIT ?3",
                     value_row, &c, "tti", table, rule, (int64_t)max);

    *n = c.n;
    return rc < 0 ? rc : 0;
}

struct list_ctx {
    quality_record_fn fn;
    void *arg;
};

static int
list_row(void *arg, const struct catalog_row *row)
{
    struct list_ctx *c = arg;
    struct quality_record r = {
        .table = cat_text(row, 0),
        .evaluated_at = cat_int(row, 1),
        .position = cat_int(row, 2),
        .rule = cat_text(row, 3),
        .outcome = cat_text(row, 4),
        .has_metric = !cat_null(row, 5),
        .reason = cat_text(row, 6),
        .run_id = cat_int(row, 7),
        .snapshot_id = cat_int(row, 8),
    };

    if (r.has_metric)
        r.metric = strtod(cat_text(row, 5), NULL);
    return c->fn(c->arg, &r);
}

int
catalog_quality_list(struct catalog_txn *txn, const char *table, const char *rule,
                     quality_record_fn fn, void *arg, struct sl_diag *d)
{
    struct list_ctx c = {fn, arg};
    int rc;

    if (rule != NULL)
        rc = cat_run(txn, d, "list quality evaluations",
                     "SELECT table_name, evaluated_at, position, rule, outcome, metric, reason, "
                     "run_id, snapshot_id FROM quality_results WHERE table_name = ?1 AND "
                     "rule = ?2 ORDER BY evaluated_at, position",
                     list_row, &c, "tt", table, rule);
    else
        rc = cat_run(txn, d, "list quality evaluations",
                     "SELECT table_name, evaluated_at, position, rule, outcome, metric, reason, "
                     "run_id, snapshot_id FROM quality_results WHERE table_name = ?1 "
                     "ORDER BY evaluated_at, position",
                     list_row, &c, "t", table);
    return rc < 0 ? rc : 0;
}

int
catalog_quality_run(struct catalog_txn *txn, int64_t run_id, quality_record_fn fn, void *arg,
                    struct sl_diag *d)
{
    struct list_ctx c = {fn, arg};
    int rc = cat_run(txn, d, "list a run's quality evaluations",
                     "SELECT table_name, evaluated_at, position, rule, outcome, metric, reason, "
                     "run_id, snapshot_id FROM quality_results WHERE run_id = ?1 "
                     "ORDER BY table_name, evaluated_at, position",
                     list_row, &c, "i", run_id);

    return rc < 0 ? rc : 0;
}

/* ---- profiles ------------------------------------------------------------------------ */

int
catalog_profile_add(struct catalog_txn *txn, const char *table, const char *column,
                    int64_t evaluated_at, int64_t run_id, int64_t values, const double deciles[9],
                    struct sl_diag *d)
{
    char text[9 * 26];
    size_t len = 0;
    int rc;

    for (int i = 0; i < 9; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%.17g", i ? " " : "",
                                deciles[i]);
    rc = cat_run(txn, d, "record a column's profile",
                 "INSERT INTO quality_profiles (table_name, column_name, evaluated_at, run_id, "
                 "n_values, deciles) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 NULL, NULL, "ttiiit", table, column, evaluated_at, run_id, values, text);
    return rc < 0 ? rc : 0;
}

struct profiles_ctx {
    double (*out)[9];
    size_t max, n;
};

static int
profile_row(void *arg, const struct catalog_row *r)
{
    struct profiles_ctx *c = arg;
    const char *t = cat_text(r, 0);
    char *end;

    if (t == NULL || c->n >= c->max)
        return 0;
    for (int i = 0; i < 9; i++) {
        c->out[c->n][i] = strtod(t, &end);
        if (end == t)
            return 0; /* not a profile this release wrote: left out */
        t = end;
    }
    c->n++;
    return 0;
}

int
catalog_profile_recent(struct catalog_txn *txn, const char *table, const char *column,
                       double (*out)[9], size_t max, size_t *n, struct sl_diag *d)
{
    struct profiles_ctx c = {out, max, 0};
    int rc = cat_run(txn, d, "read a column's profiles",
                     "SELECT deciles FROM quality_profiles WHERE table_name = ?1 AND "
                     "column_name = ?2 AND n_values > 0 AND run_id NOT IN "
                     "(SELECT run_id FROM runs WHERE state <> 'published') "
                     "ORDER BY evaluated_at DESC LIMIT ?3",
                     profile_row, &c, "tti", table, column, (int64_t)max);

    *n = c.n;
    return rc < 0 ? rc : 0;
}
