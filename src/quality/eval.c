/*
 * eval.c - a ruleset over one data set (see eval.h).
 *
 * Three steps:
 *
 *   1. plan: every leaf rule is checked against the data set's columns
 *      (described once) and given the SQL aggregates its metric needs, in
 *      the group of its where filter;
 *   2. measure: one query per group, SELECT agg0, agg1, ... FROM the data
 *      set [WHERE filter], every aggregate cast to DOUBLE;
 *   3. judge: each leaf's metric against its condition (numbers of dynamic
 *      thresholds valued from the rule's history), then the composites.
 *
 * The metrics, as Glue's evaluator defines them (src/quality/README.md
 * lists the choices):
 *
 *   RowCount             count(*)
 *   ColumnCount          the data set's columns (no query)
 *   ColumnExists         whether the column is there (no query)
 *   Completeness, IsComplete   count(c) / count(*); IsComplete wants 1
 *   Mean, Sum            avg(c), sum(c): NULLs left out
 *   StandardDeviation, Variance   the population figures
 *   ColumnCorrelation    Pearson's, over the rows where both are set
 *   DistinctValuesCount  distinct values, NULL counted as one
 *   Uniqueness           values occurring once / rows, over the rows where
 *                        some of the columns is set (deequ's frequencies)
 *   IsUnique             Uniqueness = 1
 *   IsPrimaryKey         Uniqueness = 1 and every column complete
 *   UniqueValueRatio     values occurring once / distinct values
 *   Entropy              -sum(p ln p) over the values' frequencies
 *   ColumnLength         the shortest and longest value (NULLs left out),
 *                        compared as deequ's hasMinLength/hasMaxLength do
 *
 * Every group's query reads the data set through one CTE, "primary" (the
 * where filter applied), so the frequency metrics' subqueries and the
 * plain aggregates see the same rows.
 */
#include "quality/eval.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "engine/engine.h"
#include "core/banned.h"

/* Aggregates one leaf needs at most. */
#define MAX_AGGS 2
/* =, != and in compare a metric within this, as the DQDL library that
 * deequ's evaluator pins (1.0.0) does: a mean of 0.1 + 0.2 is 0.3. */
#define EQ_TOLERANCE 1e-5
/* History values a dynamic threshold reads at most. */
#define MAX_HISTORY 1000

struct leaf {
    const struct dq_rule *rule;
    struct dq_result *res;
    size_t group;               /* index into groups */
    int agg[MAX_AGGS];          /* column of the group's query, or -1 */
    const char *error;          /* set in planning: the outcome is error */
    double constant;            /* a metric known without a query */
    bool has_constant;
};

struct group {
    const char *where;          /* NULL: no filter */
    struct sl_buf select;       /* the aggregates, comma-separated */
    int n;                      /* how many */
    double *values;             /* after measuring: n values */
    bool *nulls;
    const char *error;          /* the engine refused the query */
};

struct eval {
    const struct dq_ruleset *rs;
    const struct dq_data *data;
    struct engine_query_column *cols;
    size_t ncols;
    struct leaf *leaves;
    size_t nleaves, capleaves;
    struct group *groups;
    size_t ngroups, capgroups;
    struct sl_arena *a;
};

const char *
dq_outcome_name(enum dq_outcome o)
{
    return o == DQ_PASSED ? "passed" : o == DQ_FAILED ? "failed" : "error";
}

/* ---- planning ------------------------------------------------------------- */

static const struct engine_query_column *
column(const struct eval *ev, const char *name)
{
    for (size_t i = 0; i < ev->ncols; i++)
        if (strcmp(ev->cols[i].name, name) == 0)
            return &ev->cols[i];
    return NULL;
}

static bool
numeric(const char *type)
{
    static const char *const types[] = {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
        "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE",
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return strncmp(type, "DECIMAL", 7) == 0;
}

/* The column a leaf names, or NULL with the leaf's error set. */
static const struct engine_query_column *
need_column(struct eval *ev, struct leaf *lf, const char *name, bool want_numeric)
{
    const struct engine_query_column *c = column(ev, name);

    if (c == NULL) {
        struct sl_buf b;

        sl_buf_init(&b);
        for (size_t i = 0; i < ev->ncols; i++)
            sl_buf_addf(&b, "%s%s", i ? ", " : "", ev->cols[i].name);
        lf->error = sl_arena_printf(ev->a, "%s has no column '%s' (its columns: %s)",
                                    ev->data->name, name, b.data ? b.data : "none");
        sl_buf_release(&b);
        return NULL;
    }
    if (want_numeric && !numeric(c->type)) {
        lf->error = sl_arena_printf(ev->a, "%s needs a numeric column; '%s' is %s",
                                    dq_type_name(lf->rule->type), name, c->type);
        return NULL;
    }
    return c;
}

static size_t
group_of(struct eval *ev, const char *where)
{
    struct group g = {0};

    for (size_t i = 0; i < ev->ngroups; i++)
        if ((where == NULL && ev->groups[i].where == NULL) ||
            (where != NULL && ev->groups[i].where != NULL &&
             strcmp(where, ev->groups[i].where) == 0))
            return i;
    g.where = where;
    sl_buf_init(&g.select);
    SL_GROW(ev->groups, ev->capgroups, ev->ngroups + 1);
    ev->groups[ev->ngroups] = g;
    return ev->ngroups++;
}

/* Add aggregate sql (printf-style) to lf's group; its column in lf->agg. */
static void __attribute__((format(printf, 3, 4)))
add_agg(struct eval *ev, struct leaf *lf, const char *fmt, ...)
{
    struct group *g = &ev->groups[lf->group];
    int k = 0;
    va_list ap;

    while (k < MAX_AGGS && lf->agg[k] >= 0)
        k++;
    if (g->n > 0)
        sl_buf_adds(&g->select, ", ");
    sl_buf_adds(&g->select, "CAST((");
    va_start(ap, fmt);
    sl_buf_vaddf(&g->select, fmt, ap);
    va_end(ap);
    sl_buf_adds(&g->select, ") AS DOUBLE)");
    lf->agg[k] = g->n++;
}

/* A column name quoted for SQL, in the arena. */
static const char *
ident(struct eval *ev, const char *name)
{
    struct sl_buf b;
    const char *out;

    sl_buf_init(&b);
    sl_buf_add_sql_ident(&b, name);
    out = sl_arena_strdup(ev->a, b.data);
    sl_buf_release(&b);
    return out;
}

/*
 * The frequency-based metrics: the counts of each value (combination)
 * among the rows where some of the columns is set, then a figure over
 * them, in a scalar subquery over the group's rows.
 */
static void
plan_frequencies(struct eval *ev, struct leaf *lf)
{
    const struct dq_rule *r = lf->rule;
    struct sl_buf cols, set, complete;

    for (size_t i = 0; i < r->nparams; i++)
        if (need_column(ev, lf, r->params[i], false) == NULL)
            return;
    sl_buf_init(&cols);
    sl_buf_init(&set);
    sl_buf_init(&complete);
    for (size_t i = 0; i < r->nparams; i++) {
        const char *c = ident(ev, r->params[i]);

        sl_buf_addf(&cols, "%s%s", i ? ", " : "", c);
        sl_buf_addf(&set, "%s%s IS NOT NULL", i ? " OR " : "", c);
        sl_buf_addf(&complete, "%scount(%s) = count(*)", i ? " AND " : "", c);
    }
#define FREQ "(SELECT %s FROM (SELECT count(*) AS n FROM \"primary\" WHERE %s GROUP BY %s) f)"
    switch (r->type) {
    case DQ_UNIQUE_VALUE_RATIO:
        add_agg(ev, lf, FREQ, "count(*) FILTER (WHERE n = 1)::DOUBLE / NULLIF(count(*), 0)",
                set.data, cols.data);
        break;
    case DQ_ENTROPY:
        add_agg(ev, lf,
                "(SELECT -sum(n / t * ln(n / t)) FROM (SELECT n::DOUBLE AS n, sum(n) OVER () AS t "
                "FROM (SELECT count(*) AS n FROM \"primary\" WHERE %s GROUP BY %s) f) e)",
                set.data, cols.data);
        break;
    default:
        add_agg(ev, lf, FREQ, "count(*) FILTER (WHERE n = 1)::DOUBLE / NULLIF(sum(n), 0)",
                set.data, cols.data);
        if (r->type == DQ_IS_PRIMARY_KEY)
            add_agg(ev, lf, "%s", complete.data);
        break;
    }
#undef FREQ
    sl_buf_release(&cols);
    sl_buf_release(&set);
    sl_buf_release(&complete);
}

static void
plan_leaf(struct eval *ev, struct leaf *lf)
{
    const struct dq_rule *r = lf->rule;
    const char *c0 = r->nparams > 0 ? r->params[0] : NULL;

    lf->group = group_of(ev, r->where);
    switch (r->type) {
    case DQ_ROW_COUNT:
        add_agg(ev, lf, "count(*)");
        return;
    case DQ_COLUMN_COUNT:
        lf->constant = (double)ev->ncols;
        lf->has_constant = true;
        return;
    case DQ_COLUMN_EXISTS:
        lf->constant = column(ev, c0) != NULL;
        lf->has_constant = true;
        return;
    case DQ_COMPLETENESS:
    case DQ_IS_COMPLETE:
        if (need_column(ev, lf, c0, false) == NULL)
            return;
        add_agg(ev, lf, "count(%s)", ident(ev, c0));
        add_agg(ev, lf, "count(*)");
        return;
    case DQ_MEAN:
    case DQ_SUM:
    case DQ_STANDARD_DEVIATION:
    case DQ_VARIANCE: {
        static const char *const fn[] = {
            [DQ_MEAN] = "avg", [DQ_SUM] = "sum", [DQ_STANDARD_DEVIATION] = "stddev_pop",
            [DQ_VARIANCE] = "var_pop",
        };

        if (need_column(ev, lf, c0, true) == NULL)
            return;
        /* Doubles throughout: a sum of BIGINTs does not overflow. */
        add_agg(ev, lf, "%s(CAST(%s AS DOUBLE))", fn[r->type], ident(ev, c0));
        return;
    }
    case DQ_COLUMN_CORRELATION:
        if (need_column(ev, lf, c0, true) == NULL ||
            need_column(ev, lf, r->params[1], true) == NULL)
            return;
        add_agg(ev, lf, "corr(CAST(%s AS DOUBLE), CAST(%s AS DOUBLE))", ident(ev, c0),
                ident(ev, r->params[1]));
        return;
    case DQ_DISTINCT_VALUES_COUNT:
        if (need_column(ev, lf, c0, false) == NULL)
            return;
        add_agg(ev, lf, "count(DISTINCT %s) + (count(*) > count(%s))::INTEGER", ident(ev, c0),
                ident(ev, c0));
        return;
    case DQ_UNIQUENESS:
    case DQ_IS_UNIQUE:
    case DQ_IS_PRIMARY_KEY:
    case DQ_UNIQUE_VALUE_RATIO:
    case DQ_ENTROPY:
        plan_frequencies(ev, lf);
        return;
    case DQ_COLUMN_LENGTH:
        if (need_column(ev, lf, c0, false) == NULL)
            return;
        add_agg(ev, lf, "min(length(CAST(%s AS VARCHAR)))", ident(ev, c0));
        add_agg(ev, lf, "max(length(CAST(%s AS VARCHAR)))", ident(ev, c0));
        return;
    default:
        lf->error = sl_arena_printf(ev->a, "%s is not evaluated by this version of sluice",
                                    dq_type_name(r->type));
        return;
    }
}

/* Collect the leaves of r (and give each a result to fill). */
static struct dq_result *
collect(struct eval *ev, const struct dq_rule *r)
{
    struct dq_result *res = sl_arena_zalloc(ev->a, sizeof(*res));

    res->rule = r;
    res->reason = "";
    if (r->kind != DQ_LEAF) {
        res->l = collect(ev, r->l);
        res->r = collect(ev, r->r);
        return res;
    }
    SL_GROW(ev->leaves, ev->capleaves, ev->nleaves + 1);
    ev->leaves[ev->nleaves] = (struct leaf){.rule = r, .res = res, .agg = {-1, -1}};
    plan_leaf(ev, &ev->leaves[ev->nleaves]);
    ev->nleaves++;
    return res;
}

/* ---- measuring ------------------------------------------------------------------ */

static void
measure(struct eval *ev, struct group *g)
{
    struct sl_buf sql;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_diag d;

    g->values = sl_arena_zalloc(ev->a, (size_t)g->n * sizeof(double) + 1);
    g->nulls = sl_arena_zalloc(ev->a, (size_t)g->n + 1);
    if (g->n == 0)
        return;
    sl_buf_init(&sql);
    sl_buf_addf(&sql, "WITH \"primary\" AS (SELECT * FROM %s", ev->data->relation);
    if (g->where != NULL)
        sl_buf_addf(&sql, " WHERE (%s)", g->where);
    /* count(*) makes it an aggregate query, one row, even when every
     * metric of the group is a scalar subquery. */
    sl_buf_addf(&sql, ") SELECT %s, count(*) FROM \"primary\"", g->select.data);
    sl_diag_init(&d);
    if (engine_query(ev->data->e, sql.data, &res, &d) < 0 ||
        (ch = engine_result_next(res)) == NULL || engine_chunk_rows(ch) != 1) {
        g->error = sl_arena_printf(ev->a, "%s%s%s", g->where ? "the where clause or the " : "",
                                   g->where ? "rule cannot run: " : "cannot measure: ",
                                   d.msg[0] ? d.msg : "no result");
    } else {
        for (int i = 0; i < g->n; i++) {
            struct engine_vec v;

            engine_chunk_vec(ch, (size_t)i, &v);
            g->nulls[i] = !engine_vec_valid(&v, 0) || v.kind != ENGINE_VEC_F64;
            g->values[i] = g->nulls[i] ? 0 : ((const double *)v.data)[0];
        }
    }
    engine_result_free(res);
    sl_buf_release(&sql);
}

/* ---- judging ------------------------------------------------------------------ */

/* A number of a condition: 0 and its value, or -1 with *why (NULL, an
 * index past the history, a division by zero). */
static int
value_of(const struct dq_num *n, const double *hist, size_t nh, double *out, const char **why)
{
    double l, r;

    switch (n->kind) {
    case DQ_NUM_LIT:
        *out = n->value;
        return 0;
    case DQ_NUM_NULL:
        *why = "the condition compares with NULL";
        return -1;
    case DQ_NUM_OP:
        if (value_of(n->l, hist, nh, &l, why) < 0 || value_of(n->r, hist, nh, &r, why) < 0)
            return -1;
        switch (n->op) {
        case '+': *out = l + r; break;
        case '-': *out = l - r; break;
        case '*': *out = l * r; break;
        default:
            if (r == 0) {
                *why = "the condition divides by zero";
                return -1;
            }
            *out = l / r;
            break;
        }
        return 0;
    case DQ_NUM_CALL:
        break;
    }
    if (strcmp(n->fn, "abs") == 0) {
        if (value_of(n->args[0], hist, nh, &l, why) < 0)
            return -1;
        *out = fabs(l);
        return 0;
    }
    {
        /* last(k) as a list: the k newest values; no history at all is
         * one 0.0, as in Glue. */
        const struct dq_num *last = strcmp(n->fn, "last") == 0 ? n : n->args[0];
        size_t k = last->nargs ? (size_t)last->args[0]->value : 1;
        double zero = 0, sum = 0, sq = 0, best;
        const double *v = nh ? hist : &zero;
        size_t m = nh ? (k < nh ? k : nh) : 1;

        if (strcmp(n->fn, "last") == 0) {
            *out = v[0];
            return 0;
        }
        if (strcmp(n->fn, "index") == 0) {
            size_t i = (size_t)n->args[1]->value;

            if (i >= m) {
                *why = "the index is past the rule's history";
                return -1;
            }
            *out = v[i];
            return 0;
        }
        for (size_t i = 0; i < m; i++)
            sum += v[i];
        if (strcmp(n->fn, "sum") == 0) {
            *out = sum;
            return 0;
        }
        if (strcmp(n->fn, "avg") == 0) {
            *out = sum / (double)m;
            return 0;
        }
        if (strcmp(n->fn, "std") == 0) {
            for (size_t i = 0; i < m; i++)
                sq += (v[i] - sum / (double)m) * (v[i] - sum / (double)m);
            *out = sqrt(sq / (double)m);
            return 0;
        }
        if (strcmp(n->fn, "median") == 0) {
            double s[MAX_HISTORY];

            memcpy(s, v, m * sizeof(double));
            for (size_t i = 1; i < m; i++)
                for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
                    double t = s[j];

                    s[j] = s[j - 1];
                    s[j - 1] = t;
                }
            *out = m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
            return 0;
        }
        best = v[0];
        for (size_t i = 1; i < m; i++)
            best = strcmp(n->fn, "max") == 0 ? fmax(best, v[i]) : fmin(best, v[i]);
        *out = best;
        return 0;
    }
}

/* Whether metric m satisfies c; -1 with *why if a value cannot be had. */
static int
holds(const struct dq_cond *c, double m, const double *hist, size_t nh, const char **why)
{
    double v[2];

    if (c->op == DQ_IN || c->op == DQ_NOT_IN) {
        bool in = false;

        for (size_t i = 0; i < c->nvals; i++) {
            if (c->vals[i].kind != DQ_VAL_NUM)
                continue;
            if (value_of(c->vals[i].num, hist, nh, &v[0], why) < 0)
                return -1;
            in |= fabs(m - v[0]) <= EQ_TOLERANCE;
        }
        return in == (c->op == DQ_IN);
    }
    for (size_t i = 0; i < c->nvals && i < 2; i++) {
        if (c->vals[i].kind != DQ_VAL_NUM) {
            *why = "the condition compares with NULL";
            return -1;
        }
        if (value_of(c->vals[i].num, hist, nh, &v[i], why) < 0)
            return -1;
    }
    switch (c->op) {
    case DQ_EQ: return fabs(m - v[0]) <= EQ_TOLERANCE;
    case DQ_NE: return fabs(m - v[0]) > EQ_TOLERANCE;
    case DQ_GT: return m > v[0];
    case DQ_GE: return m >= v[0];
    case DQ_LT: return m < v[0];
    case DQ_LE: return m <= v[0];
    /* Exclusive at both ends, as Glue's evaluator has it. */
    case DQ_BETWEEN: return m > v[0] && m < v[1];
    case DQ_NOT_BETWEEN: return !(m > v[0] && m < v[1]);
    default:
        *why = "the condition does not apply to a number";
        return -1;
    }
}

/*
 * ColumnLength: the shortest (lo) and longest (hi) value's length against
 * the condition, as deequ's DQDL rule has it: > and >= bound the
 * shortest, < and <= the longest, = and != both, between the shortest from
 * below and the longest from above (exclusive); in and not in every
 * value's length (a NULL's is 0 when 0 is listed).  The metric reported
 * is the longest for < and <=, else the shortest.
 */
static void
judge_length(struct eval *ev, struct leaf *lf, double lo, bool none, double hi)
{
    struct dq_result *res = lf->res;
    const struct dq_cond *c = lf->rule->cond;
    double v[2] = {0, 0};
    bool pass = false;

    for (size_t i = 0; i < c->nvals && i < 2; i++) {
        if (c->vals[i].kind != DQ_VAL_NUM || c->vals[i].num->kind != DQ_NUM_LIT) {
            res->outcome = DQ_ERROR;
            res->reason = "ColumnLength compares with plain numbers only, as Glue's does";
            return;
        }
        v[i] = c->vals[i].num->value;
    }
    if (none) {
        res->outcome = DQ_FAILED;
        res->reason = "no rows with a value to measure";
        return;
    }
    res->has_metric = true;
    res->metric = c->op == DQ_LT || c->op == DQ_LE ? hi : lo;
    switch (c->op) {
    case DQ_EQ: pass = lo == v[0] && hi == v[0]; break;
    case DQ_NE: pass = lo != v[0] && hi != v[0]; break;
    case DQ_GT: pass = lo > v[0]; break;
    case DQ_GE: pass = lo >= v[0]; break;
    case DQ_LT: pass = hi < v[0]; break;
    case DQ_LE: pass = hi <= v[0]; break;
    case DQ_BETWEEN: pass = lo > v[0] && hi < v[1]; break;
    default:
        res->outcome = DQ_ERROR;
        res->reason = "ColumnLength takes =, !=, >, >=, <, <= or between here";
        return;
    }
    res->outcome = pass ? DQ_PASSED : DQ_FAILED;
    res->reason = pass ? ""
                       : sl_arena_printf(ev->a, "the values are %.0f to %.0f characters long",
                                         lo, hi);
}

static void
judge_leaf(struct eval *ev, struct leaf *lf)
{
    const struct dq_rule *r = lf->rule;
    struct dq_result *res = lf->res;
    const struct group *g = &ev->groups[lf->group];
    double hist[MAX_HISTORY], a0 = 0, a1 = 0;
    bool n0 = true, n1 = true;
    size_t nh = 0;
    const char *why = NULL;
    int ok;

    if (lf->error != NULL || (!lf->has_constant && g->error != NULL)) {
        res->outcome = DQ_ERROR;
        res->reason = lf->error ? lf->error : g->error;
        return;
    }
    if (lf->agg[0] >= 0) {
        a0 = g->values[lf->agg[0]];
        n0 = g->nulls[lf->agg[0]];
    }
    if (lf->agg[1] >= 0) {
        a1 = g->values[lf->agg[1]];
        n1 = g->nulls[lf->agg[1]];
    }
    res->has_metric = true;
    if (lf->has_constant) {
        res->metric = lf->constant;
    } else if (r->type == DQ_COLUMN_LENGTH) {
        judge_length(ev, lf, a0, n0, a1);
        return;
    } else if (r->type == DQ_COMPLETENESS || r->type == DQ_IS_COMPLETE) {
        res->has_metric = !n0 && !n1 && a1 > 0;
        res->metric = res->has_metric ? a0 / a1 : 0;
        if (!res->has_metric)
            why = "no rows to measure";
    } else {
        res->has_metric = !n0;
        res->metric = a0;
        if (n0)
            why = r->type == DQ_COLUMN_CORRELATION ? "no rows with both columns set"
                                                   : "no rows with a value to measure";
    }
    if (!res->has_metric) {
        res->outcome = DQ_FAILED;
        res->reason = why;
        return;
    }
    /* Rules that pass or fail by themselves. */
    if (r->type == DQ_IS_COMPLETE || r->type == DQ_COLUMN_EXISTS || r->type == DQ_IS_UNIQUE ||
        r->type == DQ_IS_PRIMARY_KEY) {
        bool pass = r->type == DQ_COLUMN_EXISTS ? res->metric != 0 : res->metric == 1;

        if (r->type == DQ_IS_PRIMARY_KEY && pass && (n1 || a1 != 1)) {
            res->outcome = DQ_FAILED;
            res->reason = "the values are unique, but not every row has them all";
            return;
        }
        res->outcome = pass ? DQ_PASSED : DQ_FAILED;
        if (pass)
            res->reason = "";
        else if (r->type == DQ_IS_COMPLETE)
            res->reason = sl_arena_printf(ev->a, "%.6g of the values are set, not all",
                                          res->metric);
        else if (r->type == DQ_COLUMN_EXISTS)
            res->reason = sl_arena_printf(ev->a, "%s has no column '%s'", ev->data->name,
                                          r->params[0]);
        else
            res->reason = sl_arena_printf(ev->a, "%.6g of the rows hold a value no other row "
                                          "holds, not all", res->metric);
        if (r->type == DQ_COLUMN_EXISTS)
            res->has_metric = false;
        return;
    }
    if (ev->data->history != NULL)
        nh = ev->data->history(ev->data->history_arg, r, hist, MAX_HISTORY);
    ok = holds(r->cond, res->metric, hist, nh, &why);
    if (ok < 0) {
        res->outcome = DQ_ERROR;
        res->reason = why;
        return;
    }
    res->outcome = ok ? DQ_PASSED : DQ_FAILED;
    res->reason = ok ? "" : sl_arena_printf(ev->a, "the value %.10g does not satisfy the rule",
                                            res->metric);
}

/* A composite's outcome from its parts'. */
static void
judge_composite(struct dq_result *res)
{
    struct dq_result *l = (struct dq_result *)res->l, *r = (struct dq_result *)res->r;

    if (l->l != NULL)
        judge_composite(l);
    if (r->l != NULL)
        judge_composite(r);
    if (res->rule->kind == DQ_AND) {
        if (l->outcome == DQ_FAILED || r->outcome == DQ_FAILED)
            res->outcome = DQ_FAILED;
        else if (l->outcome == DQ_ERROR || r->outcome == DQ_ERROR)
            res->outcome = DQ_ERROR;
        else
            res->outcome = DQ_PASSED;
    } else {
        if (l->outcome == DQ_PASSED || r->outcome == DQ_PASSED)
            res->outcome = DQ_PASSED;
        else if (l->outcome == DQ_ERROR || r->outcome == DQ_ERROR)
            res->outcome = DQ_ERROR;
        else
            res->outcome = DQ_FAILED;
    }
    res->reason = res->outcome == DQ_PASSED ? ""
                  : res->outcome == DQ_ERROR ? "a part of the rule cannot run"
                                             : "the parts do not pass as the rule joins them";
}

int
dq_evaluate(const struct dq_ruleset *rs, const struct dq_data *data, struct dq_report *out,
            struct sl_diag *d)
{
    struct eval ev = {.rs = rs, .data = data};
    struct dq_result *results, **tops;
    struct sl_buf q;
    int rc;

    memset(out, 0, sizeof(*out));
    sl_arena_init(&out->arena, 16 << 10);
    ev.a = &out->arena;
    sl_buf_init(&q);
    sl_buf_addf(&q, "SELECT * FROM %s", data->relation);
    rc = engine_describe(data->e, q.data, &ev.cols, &ev.ncols, d);
    sl_buf_release(&q);
    if (rc < 0) {
        sl_arena_release(&out->arena);
        return rc;
    }
    tops = sl_arena_zalloc(ev.a, (rs->nrules + 1) * sizeof(*tops));
    for (size_t i = 0; i < rs->nrules; i++)
        tops[i] = collect(&ev, rs->rules[i]);
    for (size_t i = 0; i < ev.ngroups; i++)
        measure(&ev, &ev.groups[i]);
    for (size_t i = 0; i < ev.nleaves; i++)
        judge_leaf(&ev, &ev.leaves[i]);
    results = sl_arena_zalloc(ev.a, (rs->nrules + 1) * sizeof(*results));
    for (size_t i = 0; i < rs->nrules; i++) {
        if (tops[i]->l != NULL)
            judge_composite(tops[i]);
        results[i] = *tops[i];
    }
    out->results = results;
    out->n = rs->nrules;
    for (size_t i = 0; i < out->n; i++) {
        out->passed += results[i].outcome == DQ_PASSED;
        out->failed += results[i].outcome == DQ_FAILED;
        out->errors += results[i].outcome == DQ_ERROR;
    }
    for (size_t i = 0; i < ev.ngroups; i++)
        sl_buf_release(&ev.groups[i].select);
    free(ev.groups);
    free(ev.leaves);
    engine_query_columns_release(ev.cols, ev.ncols);
    return 0;
}

void
dq_report_free(struct dq_report *r)
{
    if (r == NULL)
        return;
    sl_arena_release(&r->arena);
    memset(r, 0, sizeof(*r));
}
