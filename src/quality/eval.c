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
 *   ColumnValues         the fraction of rows whose value satisfies the
 *                        condition (NULL as deequ's forms have it), against
 *                        the threshold, else it must be 1
 *   DataFreshness        the fraction of rows whose age in hours (now -
 *                        value, to 2 decimals) satisfies the condition: 1
 *   CustomSql            the statement's one value over the view "primary";
 *                        with no condition, the fraction of rows of
 *                        "primary" the statement returns
 *
 * Every group's query is one aggregate over the data set under its where
 * filter; the frequency metrics are scalar subqueries over the same rows
 * (the filter repeated), so that each reads only the columns it needs.
 * An aggregate two rules need (IsUnique and IsPrimaryKey of one column)
 * is computed once.
 */
#include "quality/eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/time.h"
#include "engine/engine.h"
#include "core/banned.h"

/* Aggregates one leaf needs at most. */
#define MAX_AGGS 2
/* A leaf's agg[] entry for the group's frequency metric k (plain
 * aggregates are 0, 1, ...; -1 is none). */
#define FREQ_AGG(k) (-2 - (int)(k))
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
    bool compliance;            /* the metric is a fraction of rows: judged on
                                 * the threshold, or wanting 1 */
};

/* A frequency metric a rule needs: of kind 'u' (uniqueness), 'r' (unique
 * value ratio) or 'e' (entropy), over the value counts of a column set. */
struct freq {
    char kind;
    size_t set;
};

/* The columns whose value counts some rule needs (quoted names). */
struct freq_set {
    const char **cols;
    size_t ncols;
};

struct group {
    const char *where;          /* NULL: no filter */
    struct sl_buf select;       /* the aggregates, comma-separated */
    const char **exprs;         /* each one's text (in the arena) */
    size_t capexprs;
    int n;                      /* how many */
    double *values;             /* after measuring: n values, then nfreqs */
    bool *nulls;
    const char *error;          /* the engine refused the query */
    /* The frequency metrics: one GROUPING SETS scan for all the sets. */
    struct freq_set *sets;
    size_t nsets, capsets;
    struct freq *freqs;
    size_t nfreqs, capfreqs;
    bool measured;              /* its aggregates came with another group's scan */
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
    int64_t now_us;
    bool primary_view;          /* the temp view "primary" exists (CustomSql) */
};

static int value_of(const struct dq_num *n, const double *hist, size_t nh, double *out,
                    const char **why);
static size_t history_of(struct eval *ev, const struct dq_rule *r, double *out, size_t max);

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

    struct sl_buf expr;

    while (k < MAX_AGGS && lf->agg[k] != -1)
        k++;
    sl_buf_init(&expr);
    sl_buf_adds(&expr, "CAST((");
    va_start(ap, fmt);
    sl_buf_vaddf(&expr, fmt, ap);
    va_end(ap);
    sl_buf_adds(&expr, ") AS DOUBLE)");
    /* The same aggregate for another rule of the group: computed once. */
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->exprs[i], expr.data) == 0) {
            lf->agg[k] = i;
            sl_buf_release(&expr);
            return;
        }
    if (g->n > 0)
        sl_buf_adds(&g->select, ", ");
    sl_buf_add(&g->select, expr.data, expr.len);
    SL_GROW(g->exprs, g->capexprs, (size_t)g->n + 1);
    g->exprs[g->n] = sl_arena_strdup(ev->a, expr.data);
    sl_buf_release(&expr);
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
/* Whether cols are exactly the data set's known unique key (any order). */
static bool
is_unique_key(const struct eval *ev, const char *const *cols, size_t n)
{
    if (ev->data->nunique_key == 0 || n != ev->data->nunique_key)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool found = false;

        for (size_t j = 0; j < n; j++)
            found |= strcmp(cols[i], ev->data->unique_key[j]) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void
plan_frequencies(struct eval *ev, struct leaf *lf)
{
    const struct dq_rule *r = lf->rule;
    struct group *g = &ev->groups[lf->group];
    struct sl_buf complete;
    const char **cols;
    size_t set = g->nsets, k = 0;
    struct freq f;

    for (size_t i = 0; i < r->nparams; i++)
        if (need_column(ev, lf, r->params[i], false) == NULL)
            return;
    if (is_unique_key(ev, r->params, r->nparams)) {
        /* Every value occurs once: the figures follow from the rows (none
         * under the filter: nothing to measure, as when counting). */
        if (r->type == DQ_ENTROPY)
            add_agg(ev, lf, "CASE WHEN count(*) > 0 THEN ln(count(*)) END");
        else
            add_agg(ev, lf, "CASE WHEN count(*) > 0 THEN 1 END");
        if (r->type == DQ_IS_PRIMARY_KEY)
            add_agg(ev, lf, "CASE WHEN count(*) > 0 THEN TRUE END");
        return;
    }
    cols = sl_arena_zalloc(ev->a, (r->nparams + 1) * sizeof(*cols));
    for (size_t i = 0; i < r->nparams; i++)
        cols[i] = ident(ev, r->params[i]);
    /* The same columns as another rule's: the same counts. */
    for (size_t i = 0; i < g->nsets && set == g->nsets; i++) {
        bool same = g->sets[i].ncols == r->nparams;

        for (size_t j = 0; same && j < r->nparams; j++)
            same = strcmp(g->sets[i].cols[j], cols[j]) == 0;
        if (same)
            set = i;
    }
    if (set == g->nsets) {
        SL_GROW(g->sets, g->capsets, g->nsets + 1);
        g->sets[g->nsets++] = (struct freq_set){cols, r->nparams};
    }
    f.kind = r->type == DQ_UNIQUE_VALUE_RATIO ? 'r' : r->type == DQ_ENTROPY ? 'e' : 'u';
    f.set = set;
    while (k < g->nfreqs && !(g->freqs[k].kind == f.kind && g->freqs[k].set == f.set))
        k++;
    if (k == g->nfreqs) {
        SL_GROW(g->freqs, g->capfreqs, g->nfreqs + 1);
        g->freqs[g->nfreqs++] = f;
    }
    lf->agg[0] = FREQ_AGG(k);
    if (r->type == DQ_IS_PRIMARY_KEY) {
        sl_buf_init(&complete);
        for (size_t i = 0; i < r->nparams; i++)
            sl_buf_addf(&complete, "%scount(%s) = count(*)", i ? " AND " : "", cols[i]);
        add_agg(ev, lf, "%s", complete.data);
        sl_buf_release(&complete);
    }
}

/* ---- per-row conditions ----------------------------------------------------- */

static bool
is_date_type(const char *type)
{
    return strncmp(type, "DATE", 4) == 0 || strncmp(type, "TIMESTAMP", 9) == 0;
}

/* Whether s reads yyyy-mm-dd. */
static bool
is_date_text(const char *s)
{
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    return s[10] == '\0';
}

/* The day (since 1970-01-01, UTC) of now plus offset microseconds, into
 * b: dates compare by the day, as deequ's evaluator has it, and as day
 * numbers, which a timestamp with time zone reaches without the engine's
 * calendar (five times faster than a cast to DATE). */
static void
add_now_date(struct eval *ev, struct sl_buf *b, int64_t offset)
{
    int64_t us = ev->now_us + offset, days = us / 86400000000LL;

    if (us < 0 && us % 86400000000LL != 0)
        days--;
    sl_buf_addf(b, "%" PRId64, days);
}

/*
 * A value of a condition as a SQL literal of the kind the comparison
 * takes: numbers valued (dynamic ones from the rule's history), strings
 * quoted, dates as DATE.  false with lf->error set if it cannot be.
 */
static bool
add_literal(struct eval *ev, struct leaf *lf, struct sl_buf *b, const struct dq_val *v,
            char kind)
{
    double hist[MAX_HISTORY], x;
    const char *why = NULL;

    if (kind == 'd') {
        if (v->kind == DQ_VAL_NOW) {
            add_now_date(ev, b, v->i);
            return true;
        }
        int32_t days;

        if (v->kind == DQ_VAL_STR && is_date_text(v->str) &&
            sl_parse_date(v->str, strlen(v->str), &days) == 0) {
            sl_buf_addf(b, "%" PRId32, days);
            return true;
        }
        lf->error = sl_arena_printf(ev->a, "a date condition takes \"yyyy-mm-dd\", now() and "
                                    "(now() - N days); column %d has something else", v->col);
        return false;
    }
    if (kind == 's') {
        sl_buf_add_sql_str(b, v->str);
        return true;
    }
    if (value_of(v->num, hist, history_of(ev, lf->rule, hist, MAX_HISTORY), &x, &why) < 0) {
        lf->error = why;
        return false;
    }
    sl_buf_addf(b, "%.17g", x);
    return true;
}

/*
 * The SQL of "x satisfies c" for one row, NULLs as deequ's ColumnValues
 * forms treat them: a comparison, between and in fail a NULL unless NULL
 * is listed; != and not in pass it unless it is.  kind: 'n' number, 's'
 * string, 'd' date.  false with lf->error set.
 */
static bool
row_condition(struct eval *ev, struct leaf *lf, const struct dq_cond *c, const char *x,
              char kind, struct sl_buf *e)
{
    static const char *const ops[] = {[DQ_EQ] = "=", [DQ_NE] = "!=", [DQ_GT] = ">",
                                      [DQ_GE] = ">=", [DQ_LT] = "<", [DQ_LE] = "<="};
    struct sl_buf list;
    bool null = false, empty = false, blank = false, ok = true;
    size_t n = 0;

    switch (c->op) {
    case DQ_GT:
    case DQ_GE:
    case DQ_LT:
    case DQ_LE:
        sl_buf_addf(e, "(%s IS NOT NULL AND %s %s ", x, x, ops[c->op]);
        ok = add_literal(ev, lf, e, &c->vals[0], kind);
        sl_buf_addc(e, ')');
        return ok;
    case DQ_BETWEEN:
    case DQ_NOT_BETWEEN:
        sl_buf_addf(e, c->op == DQ_BETWEEN ? "(%s IS NOT NULL AND %s > "
                                           : "(%s IS NOT NULL AND (%s <= ",
                    x, x);
        ok = add_literal(ev, lf, e, &c->vals[0], kind);
        sl_buf_addf(e, c->op == DQ_BETWEEN ? " AND %s < " : " OR %s >= ", x);
        ok = ok && add_literal(ev, lf, e, &c->vals[1], kind);
        sl_buf_adds(e, c->op == DQ_BETWEEN ? ")" : "))");
        return ok;
    case DQ_MATCHES:
    case DQ_NOT_MATCHES:
        sl_buf_addf(e, "(%s IS NOT NULL AND %sregexp_full_match(%s, ", x,
                    c->op == DQ_MATCHES ? "" : "NOT ", x);
        sl_buf_add_sql_str(e, c->vals[0].str);
        sl_buf_adds(e, "))");
        return true;
    default:
        break;
    }
    /* =, !=, in, not in: the values listed, and the keywords. */
    sl_buf_init(&list);
    for (size_t i = 0; ok && i < c->nvals; i++) {
        const struct dq_val *v = &c->vals[i];

        if (v->kind == DQ_VAL_NULL || (v->kind == DQ_VAL_NUM && v->num->kind == DQ_NUM_NULL)) {
            null = true;
        } else if (v->kind == DQ_VAL_EMPTY) {
            empty = true;
        } else if (v->kind == DQ_VAL_WHITESPACES) {
            blank = true;
        } else {
            if (n++)
                sl_buf_adds(&list, ", ");
            ok = add_literal(ev, lf, &list, v, kind);
        }
    }
    if (ok && (c->op == DQ_EQ || c->op == DQ_IN)) {
        sl_buf_adds(e, "(FALSE");
        if (n)
            sl_buf_addf(e, " OR (%s IS NOT NULL AND %s IN (%s))", x, x, list.data);
        if (null)
            sl_buf_addf(e, " OR %s IS NULL", x);
        if (empty)
            sl_buf_addf(e, " OR %s = ''", x);
        if (blank)
            sl_buf_addf(e, " OR (length(trim(%s)) = 0 AND length(%s) > 0)", x, x);
        sl_buf_addc(e, ')');
    } else if (ok) {
        sl_buf_adds(e, "(TRUE");
        if (n)
            sl_buf_addf(e, " AND (%s IS NULL OR %s NOT IN (%s))", x, x, list.data);
        if (null)
            sl_buf_addf(e, " AND %s IS NOT NULL", x);
        if (empty)
            sl_buf_addf(e, " AND (%s IS NULL OR %s != '')", x, x);
        if (blank)
            sl_buf_addf(e, " AND (%s IS NULL OR length(trim(%s)) > 0 OR length(%s) = 0)", x, x,
                        x);
        sl_buf_addc(e, ')');
    }
    sl_buf_release(&list);
    return ok;
}

/* Whether the engine takes re as a regular expression; else lf->error. */
static bool
regex_ok(struct eval *ev, struct leaf *lf, const char *re)
{
    struct sl_buf q;
    struct sl_diag d;
    bool ok;

    sl_buf_init(&q);
    sl_buf_adds(&q, "SELECT regexp_full_match('', ");
    sl_buf_add_sql_str(&q, re);
    sl_buf_adds(&q, ")");
    sl_diag_init(&d);
    ok = engine_exec(ev->data->e, q.data, &d) == 0;
    if (!ok)
        lf->error = sl_arena_printf(ev->a, "the regular expression is refused: %s", d.msg);
    sl_buf_release(&q);
    return ok;
}

/* The fraction of the group's rows that satisfy e. */
static void
add_compliance(struct eval *ev, struct leaf *lf, const char *e)
{
    add_agg(ev, lf, "avg(CASE WHEN %s THEN 1.0 ELSE 0.0 END)", e);
    lf->compliance = true;
}

/*
 * ColumnDataType: the fraction of rows whose value the engine can cast to
 * the type (TRY_CAST), as deequ asks whether each value casts rather than
 * what the column is declared; = wants the cast, != its failure; a NULL
 * never casts.
 */
static void
plan_data_type(struct eval *ev, struct leaf *lf)
{
    static const struct {
        const char *dqdl, *sql;
    } types[] = {
        {"BOOLEAN", "BOOLEAN"}, {"DATE", "DATE"},     {"TIMESTAMP", "TIMESTAMP"},
        {"INTEGER", "INTEGER"}, {"DOUBLE", "DOUBLE"}, {"FLOAT", "FLOAT"},
        {"LONG", "BIGINT"},
    };
    const struct dq_cond *c = lf->rule->cond;
    const struct engine_query_column *col = need_column(ev, lf, lf->rule->params[0], false);
    struct sl_buf e;
    const char *want, *sql = NULL;
    unsigned p, sc;
    char dec[64];

    if (col == NULL)
        return;
    if ((c->op != DQ_EQ && c->op != DQ_NE) || c->vals[0].kind != DQ_VAL_STR) {
        lf->error = "ColumnDataType takes = or != with one type name";
        return;
    }
    want = c->vals[0].str;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcasecmp(want, types[i].dqdl) == 0)
            sql = types[i].sql;
    if (sql == NULL && sscanf(want, "%*[Dd]%*[Ee]%*[Cc]%*[Ii]%*[Mm]%*[Aa]%*[Ll](%u,%u)", &p,
                              &sc) == 2 && p >= 1 && p <= 38 && sc <= p) {
        snprintf(dec, sizeof(dec), "DECIMAL(%u,%u)", p, sc);
        sql = dec;
    }
    if (sql == NULL) {
        lf->error = sl_arena_printf(ev->a, "ColumnDataType knows BOOLEAN, DATE, TIMESTAMP, "
                                    "INTEGER, DOUBLE, FLOAT, LONG and DECIMAL(p,s), as Glue's "
                                    "evaluator does, not \"%s\"", want);
        return;
    }
    sl_buf_init(&e);
    sl_buf_addf(&e, "(TRY_CAST(%s AS %s) IS %sNULL)", ident(ev, col->name), sql,
                c->op == DQ_EQ ? "NOT " : "");
    add_compliance(ev, lf, e.data);
    sl_buf_release(&e);
}

/*
 * ColumnValues: numbers against a numeric column, dates (now(),
 * "yyyy-mm-dd") against a date or a timestamp (by the day), strings
 * against the value's text.
 */
static void
plan_values(struct eval *ev, struct leaf *lf)
{
    const struct dq_cond *c = lf->rule->cond;
    const struct engine_query_column *col = need_column(ev, lf, lf->rule->params[0], false);
    bool now = false, strs = false, dates = true, nums = false;
    struct sl_buf x, e;
    char kind;

    if (col == NULL)
        return;
    for (size_t i = 0; i < c->nvals; i++) {
        const struct dq_val *v = &c->vals[i];

        now |= v->kind == DQ_VAL_NOW;
        nums |= v->kind == DQ_VAL_NUM && v->num->kind != DQ_NUM_NULL;
        if (v->kind == DQ_VAL_STR) {
            strs = true;
            dates &= is_date_text(v->str);
        }
    }
    if (c->op == DQ_MATCHES || c->op == DQ_NOT_MATCHES)
        kind = 's';
    else if (now || (strs && dates && is_date_type(col->type)))
        kind = 'd';
    else if (nums && !strs)
        kind = 'n';
    else
        kind = 's';
    if (kind == 'n' && !numeric(col->type)) {
        lf->error = sl_arena_printf(ev->a, "ColumnValues compares '%s' with numbers, but it is "
                                    "%s", col->name, col->type);
        return;
    }
    if (kind == 'd' && !is_date_type(col->type) && strncmp(col->type, "VARCHAR", 7) != 0) {
        lf->error = sl_arena_printf(ev->a, "ColumnValues compares '%s' with dates, but it is %s",
                                    col->name, col->type);
        return;
    }
    if ((c->op == DQ_MATCHES || c->op == DQ_NOT_MATCHES) && !regex_ok(ev, lf, c->vals[0].str))
        return;
    sl_buf_init(&x);
    sl_buf_init(&e);
    if (kind == 'd' && strncmp(col->type, "TIMESTAMP", 9) == 0)
        sl_buf_addf(&x, "CAST(floor(epoch_us(%s) / 86400000000.0) AS BIGINT)",
                    ident(ev, col->name));
    else if (kind == 'd' && strncmp(col->type, "DATE", 4) == 0)
        sl_buf_addf(&x, "(%s - DATE '1970-01-01')", ident(ev, col->name));
    else if (kind == 'd')
        sl_buf_addf(&x, "(TRY_CAST(%s AS DATE) - DATE '1970-01-01')", ident(ev, col->name));
    else if (kind == 's')
        sl_buf_addf(&x, "CAST(%s AS VARCHAR)", ident(ev, col->name));
    else
        sl_buf_adds(&x, ident(ev, col->name));
    if (row_condition(ev, lf, c, x.data, kind, &e))
        add_compliance(ev, lf, e.data);
    sl_buf_release(&x);
    sl_buf_release(&e);
}

/* DataFreshness: every row's age in hours (now - value, rounded to 2
 * decimals, as deequ's evaluator has it) against the durations. */
static void
plan_freshness(struct eval *ev, struct leaf *lf)
{
    const struct dq_cond *c = lf->rule->cond;
    const struct engine_query_column *col = need_column(ev, lf, lf->rule->params[0], false);
    struct dq_cond hours = *c;
    struct dq_val *vals;
    struct dq_num *nums;
    struct sl_buf x, e;

    if (col == NULL)
        return;
    if (!is_date_type(col->type) && strncmp(col->type, "VARCHAR", 7) != 0) {
        lf->error = sl_arena_printf(ev->a, "DataFreshness needs a date or a timestamp; '%s' is %s",
                                    col->name, col->type);
        return;
    }
    /* The durations as hours, to 4 decimals (90 minutes is 1.5). */
    vals = sl_arena_zalloc(ev->a, c->nvals * sizeof(*vals));
    nums = sl_arena_zalloc(ev->a, c->nvals * sizeof(*nums));
    for (size_t i = 0; i < c->nvals; i++) {
        nums[i].kind = DQ_NUM_LIT;
        nums[i].height = 1;
        nums[i].value = round((double)c->vals[i].i / 3600e6 * 1e4) / 1e4;
        vals[i] = c->vals[i];
        vals[i].kind = DQ_VAL_NUM;
        vals[i].num = &nums[i];
    }
    hours.vals = vals;
    sl_buf_init(&x);
    sl_buf_init(&e);
    sl_buf_addf(&x, "round((%.17g - floor(epoch(TRY_CAST(%s AS TIMESTAMPTZ)))) / 3600.0, 2)",
                floor((double)ev->now_us / 1e6), ident(ev, col->name));
    if (row_condition(ev, lf, &hours, x.data, 'n', &e))
        add_compliance(ev, lf, e.data);
    sl_buf_release(&x);
    sl_buf_release(&e);
}

/* Run q and take its one value as a double (NULL: 0.0, as deequ's
 * CustomSql analyzer has it); else lf->error. */
static bool
scalar(struct eval *ev, struct leaf *lf, const char *q, double *out)
{
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct engine_vec v;
    struct sl_diag d;
    size_t rows = 0;
    bool ok = false;

    sl_diag_init(&d);
    if (engine_query(ev->data->e, q, &res, &d) < 0) {
        lf->error = sl_arena_printf(ev->a, "the statement fails: %s", d.msg);
        return false;
    }
    *out = 0;
    while ((ch = engine_result_next(res)) != NULL) {
        if (rows == 0 && engine_chunk_rows(ch) > 0) {
            engine_chunk_vec(ch, 0, &v);
            if (engine_vec_valid(&v, 0) && v.kind == ENGINE_VEC_F64)
                *out = ((const double *)v.data)[0];
        }
        rows += engine_chunk_rows(ch);
    }
    if (rows != 1)
        lf->error = sl_arena_printf(ev->a, "the statement returns %zu rows, not one", rows);
    else
        ok = true;
    engine_result_free(res);
    return ok;
}

static bool
word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '$' || (unsigned char)c >= 0x80;
}

/*
 * stmt with each bare word primary (any case; not after a '.', outside
 * strings, quoted names and comments) quoted: Glue's rules name the data
 * set so, and PRIMARY is a reserved word to DuckDB.  In the arena.
 */
static const char *
quote_primary(struct eval *ev, const char *stmt)
{
    struct sl_buf b;
    const char *out;
    size_t n = strlen(stmt);

    sl_buf_init(&b);
    for (size_t i = 0; i < n;) {
        char c = stmt[i];
        size_t j = i + 1;

        if (c == '\'' || c == '"') {
            /* A string or a quoted name: its doubled quote stays inside. */
            while (j < n && !(stmt[j] == c && (j + 1 >= n || stmt[j + 1] != c)))
                j += stmt[j] == c ? 2 : 1;
            j = j < n ? j + 1 : n;
        } else if (c == '-' && j < n && stmt[j] == '-') {
            while (j < n && stmt[j] != '\n')
                j++;
        } else if (c == '/' && j < n && stmt[j] == '*') {
            const char *end = strstr(stmt + j + 1, "*/");

            j = end ? (size_t)(end - stmt) + 2 : n;
        } else if (word_char(c)) {
            while (j < n && word_char(stmt[j]))
                j++;
            if (j - i == 7 && strncasecmp(stmt + i, "primary", 7) == 0 &&
                (i == 0 || stmt[i - 1] != '.')) {
                sl_buf_adds(&b, "\"primary\"");
                i = j;
                continue;
            }
        }
        sl_buf_add(&b, stmt + i, j - i);
        i = j;
    }
    out = sl_arena_strndup(ev->a, b.data ? b.data : "", b.len);
    sl_buf_release(&b);
    return out;
}

/*
 * CustomSql over the temp view "primary" (the data set): with a
 * condition, its one value; without, the fraction of primary's rows that
 * the rows it returns match on their columns (NULL matching NULL, each
 * row counted once).  The metric is known here: it runs at planning.
 */
static void
plan_sql(struct eval *ev, struct leaf *lf)
{
    const char *stmt = quote_primary(ev, lf->rule->params[0]);
    struct engine_query_column *cols = NULL;
    struct sl_buf q, on, sel;
    struct sl_diag d;
    size_t n = 0;

    if (!ev->primary_view) {
        char *v = sl_printf("CREATE OR REPLACE TEMP VIEW \"primary\" AS SELECT * FROM %s",
                            ev->data->relation);

        sl_diag_init(&d);
        if (engine_exec(ev->data->e, v, &d) < 0) {
            lf->error = sl_arena_printf(ev->a, "cannot make the view primary: %s", d.msg);
            free(v);
            return;
        }
        free(v);
        ev->primary_view = true;
    }
    sl_diag_init(&d);
    if (engine_describe(ev->data->e, stmt, &cols, &n, &d) < 0) {
        lf->error = sl_arena_printf(ev->a, "the statement fails: %s", d.msg);
        return;
    }
    sl_buf_init(&q);
    sl_buf_init(&on);
    sl_buf_init(&sel);
    if (lf->rule->cond != NULL) {
        if (n != 1) {
            lf->error = sl_arena_printf(ev->a, "the statement returns %zu columns, not one", n);
        } else {
            sl_buf_addf(&q, "SELECT TRY_CAST(%s AS DOUBLE) FROM (%s) AS q",
                        ident(ev, cols[0].name), stmt);
            lf->has_constant = scalar(ev, lf, q.data, &lf->constant);
        }
    } else {
        for (size_t i = 0; i < n && lf->error == NULL; i++) {
            const char *c = ident(ev, cols[i].name);

            if (column(ev, cols[i].name) == NULL)
                lf->error = sl_arena_printf(ev->a, "the statement returns column '%s', which "
                                            "%s does not have", cols[i].name, ev->data->name);
            sl_buf_addf(&sel, "%s%s", i ? ", " : "", c);
            sl_buf_addf(&on, "%sp.%s IS NOT DISTINCT FROM s.%s", i ? " AND " : "", c, c);
        }
        if (lf->error == NULL) {
            sl_buf_addf(&q,
                        "SELECT count(s.__sluice_m)::DOUBLE / NULLIF(count(*), 0) FROM "
                        "\"primary\" AS p LEFT JOIN (SELECT DISTINCT %s, TRUE AS __sluice_m "
                        "FROM (%s) AS q) AS s ON %s",
                        sel.data, stmt, on.data);
            lf->has_constant = scalar(ev, lf, q.data, &lf->constant);
            lf->compliance = true;
        }
    }
    engine_query_columns_release(cols, n);
    sl_buf_release(&q);
    sl_buf_release(&on);
    sl_buf_release(&sel);
}

/* ---- rules over other data sets ------------------------------------------------ */

/* The additional data set alias names (alias of n bytes), or NULL with
 * lf->error set. */
static const struct dq_source *
source(struct eval *ev, struct leaf *lf, const char *alias, size_t n)
{
    struct sl_buf b;

    for (size_t i = 0; i < ev->data->nsources; i++)
        if (strlen(ev->data->sources[i].alias) == n &&
            strncmp(ev->data->sources[i].alias, alias, n) == 0)
            return &ev->data->sources[i];
    sl_buf_init(&b);
    for (size_t i = 0; i < ev->data->nsources; i++)
        sl_buf_addf(&b, "%s%s", i ? ", " : "", ev->data->sources[i].alias);
    lf->error = sl_arena_printf(ev->a, "no data set '%.*s' beside the primary (%s%s); name it "
                                "in the ruleset's DataSources or with --data %.*s=TABLE",
                                (int)n, alias, b.len ? "there are: " : "there are none",
                                b.len ? b.data : "", (int)n, alias);
    sl_buf_release(&b);
    return NULL;
}

/* The columns of a data set's relation, or -1 with lf->error set. */
static int
describe(struct eval *ev, struct leaf *lf, const char *relation,
         struct engine_query_column **cols, size_t *n)
{
    struct sl_diag d;
    char *q = sl_printf("SELECT * FROM %s", relation);
    int rc;

    sl_diag_init(&d);
    rc = engine_describe(ev->data->e, q, cols, n, &d);
    free(q);
    if (rc < 0)
        lf->error = sl_arena_printf(ev->a, "cannot read the data set: %s", d.msg);
    return rc;
}

static bool
has_col(const struct engine_query_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return true;
    return false;
}

/* "a,b" (spaces trimmed) into the arena's list; the count. */
static size_t
split_list(struct eval *ev, const char *s, size_t len, const char ***out)
{
    const char **v = sl_arena_zalloc(ev->a, (len + 2) * sizeof(*v));
    size_t n = 0;

    for (size_t i = 0; i <= len;) {
        size_t j = i, a, b;

        while (j < len && s[j] != ',')
            j++;
        a = i;
        b = j;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        if (b > a)
            v[n++] = sl_arena_strndup(ev->a, s + a, b - a);
        i = j + 1;
    }
    *out = v;
    return n;
}

/*
 * ReferentialIntegrity "p1,p2" "ref.{r1,r2}" (or "ref.r1"): the fraction
 * of the primary's rows whose key tuple is among the reference's (SQL
 * equality: a NULL never matches).
 */
static void
plan_integrity(struct eval *ev, struct leaf *lf)
{
    const char *pcols = lf->rule->params[0], *ref = lf->rule->params[1];
    const char *brace = strstr(ref, ".{"), *dot = brace ? brace : strrchr(ref, '.');
    const char **pv, **rv;
    size_t np, nr, nref = 0;
    const struct dq_source *src;
    struct engine_query_column *rcols = NULL;
    struct sl_buf sel, on, q;

    if (dot == NULL || dot == ref) {
        lf->error = "the reference is \"alias.column\" or \"alias.{c1,c2}\"";
        return;
    }
    if ((src = source(ev, lf, ref, (size_t)(dot - ref))) == NULL)
        return;
    np = split_list(ev, pcols, strlen(pcols), &pv);
    if (brace) {
        const char *end = strchr(brace, '}');

        if (end == NULL || end[1] != '\0') {
            lf->error = "the reference's columns are \"alias.{c1,c2}\"";
            return;
        }
        nr = split_list(ev, brace + 2, (size_t)(end - brace - 2), &rv);
    } else {
        nr = split_list(ev, dot + 1, strlen(dot + 1), &rv);
    }
    if (np == 0 || np != nr) {
        lf->error = sl_arena_printf(ev->a, "%zu primary columns against %zu of the reference",
                                    np, nr);
        return;
    }
    for (size_t i = 0; i < np; i++)
        if (need_column(ev, lf, pv[i], false) == NULL)
            return;
    if (describe(ev, lf, src->relation, &rcols, &nref) < 0)
        return;
    for (size_t i = 0; i < nr && lf->error == NULL; i++)
        if (!has_col(rcols, nref, rv[i]))
            lf->error = sl_arena_printf(ev->a, "%s has no column '%s'", src->name, rv[i]);
    engine_query_columns_release(rcols, nref);
    if (lf->error != NULL)
        return;
    sl_buf_init(&sel);
    sl_buf_init(&on);
    sl_buf_init(&q);
    for (size_t i = 0; i < np; i++) {
        sl_buf_addf(&sel, "%s%s AS k%zu", i ? ", " : "", ident(ev, rv[i]), i);
        sl_buf_addf(&on, "%sp.%s = r.k%zu", i ? " AND " : "", ident(ev, pv[i]), i);
    }
    sl_buf_addf(&q,
                "SELECT count(r.__sluice_m)::DOUBLE / NULLIF(count(*), 0) FROM %s AS p LEFT JOIN "
                "(SELECT DISTINCT %s, TRUE AS __sluice_m FROM %s) AS r ON %s",
                ev->data->relation, sel.data, src->relation, on.data);
    lf->has_constant = scalar(ev, lf, q.data, &lf->constant);
    sl_buf_release(&sel);
    sl_buf_release(&on);
    sl_buf_release(&q);
}

/* RowCountMatch "alias": the primary's rows over the reference's. */
static void
plan_count_match(struct eval *ev, struct leaf *lf)
{
    const char *alias = lf->rule->params[0];
    const struct dq_source *src = source(ev, lf, alias, strlen(alias));
    char *q;

    if (src == NULL)
        return;
    q = sl_printf("SELECT (SELECT count(*) FROM %s)::DOUBLE / (SELECT count(*) FROM %s)",
                  ev->data->relation, src->relation);
    lf->has_constant = scalar(ev, lf, q, &lf->constant);
    free(q);
}

/*
 * SchemaMatch "alias": the share of the primary's columns the reference
 * has by the same name and type (0 when the counts differ, as deequ has
 * it).
 */
static void
plan_schema_match(struct eval *ev, struct leaf *lf)
{
    const char *alias = lf->rule->params[0];
    const struct dq_source *src = source(ev, lf, alias, strlen(alias));
    struct engine_query_column *rcols = NULL;
    size_t nref = 0, same = 0;

    if (src == NULL || describe(ev, lf, src->relation, &rcols, &nref) < 0)
        return;
    for (size_t i = 0; i < ev->ncols; i++)
        for (size_t j = 0; j < nref; j++)
            same += strcmp(ev->cols[i].name, rcols[j].name) == 0 &&
                    strcmp(ev->cols[i].type, rcols[j].type) == 0;
    lf->has_constant = true;
    lf->constant = ev->ncols == 0 || nref != ev->ncols ? 0 : (double)same / (double)ev->ncols;
    engine_query_columns_release(rcols, nref);
}

/* sum(col) or avg(alias.col) into SQL over its data set; false with
 * lf->error. */
static bool
aggregate_of(struct eval *ev, struct leaf *lf, const char *text, struct sl_buf *q)
{
    const char *open = strchr(text, '('), *close = strrchr(text, ')'), *dot, *relation;
    const char *inner;
    size_t fn;
    char *colname;
    struct engine_query_column *cols = NULL;
    size_t n = 0;
    bool ok;

    fn = open ? (size_t)(open - text) : 0;
    if (open == NULL || close == NULL || close[1] != '\0' || close < open ||
        !((fn == 3 && (strncasecmp(text, "sum", 3) == 0 || strncasecmp(text, "avg", 3) == 0)))) {
        lf->error = sl_arena_printf(ev->a, "AggregateMatch takes sum(column) or avg(alias.column), "
                                    "not \"%s\"", text);
        return false;
    }
    inner = sl_arena_strndup(ev->a, open + 1, (size_t)(close - open - 1));
    dot = strrchr(inner, '.');
    relation = ev->data->relation;
    if (dot != NULL && !(dot - inner == 7 && strncmp(inner, "primary", 7) == 0)) {
        const struct dq_source *src = source(ev, lf, inner, (size_t)(dot - inner));

        if (src == NULL)
            return false;
        relation = src->relation;
    }
    colname = sl_arena_strdup(ev->a, dot ? dot + 1 : inner);
    if (describe(ev, lf, relation, &cols, &n) < 0)
        return false;
    ok = has_col(cols, n, colname);
    engine_query_columns_release(cols, n);
    if (!ok) {
        lf->error = sl_arena_printf(ev->a, "no column '%s' for %s", colname, text);
        return false;
    }
    /* NULL (no rows, or only NULLs) is 0.0, as deequ reads it. */
    sl_buf_addf(q, "coalesce((SELECT %.3s(CAST(%s AS DOUBLE)) FROM %s), 0)", text,
                ident(ev, colname), relation);
    return true;
}

/* AggregateMatch "sum(a)" "sum(ref.a)": the first over the second (1 when
 * both are 0, 0 when only the second is). */
static void
plan_aggregate_match(struct eval *ev, struct leaf *lf)
{
    struct sl_buf q;

    sl_buf_init(&q);
    sl_buf_adds(&q, "SELECT CASE WHEN b = 0 THEN CASE WHEN a = 0 THEN 1.0 ELSE 0.0 END "
                    "ELSE a / b END FROM (SELECT ");
    if (aggregate_of(ev, lf, lf->rule->params[0], &q)) {
        sl_buf_adds(&q, " AS a, ");
        if (aggregate_of(ev, lf, lf->rule->params[1], &q)) {
            sl_buf_adds(&q, " AS b)");
            lf->has_constant = scalar(ev, lf, q.data, &lf->constant);
        }
    }
    sl_buf_release(&q);
}

/*
 * DatasetMatch "alias" "k1->rk1,k2" ["m1->rm1,..."]: the share of the
 * primary's rows that have a reference row with equal keys (a NULL key
 * never matches) and equal compared columns (NULL equal to NULL), the
 * compared columns being the mappings given or every non-key primary
 * column under its own name.  The keys must be unique on both sides.
 */
static void
plan_dataset_match(struct eval *ev, struct leaf *lf)
{
    const struct dq_rule *r = lf->rule;
    const struct dq_source *src = source(ev, lf, r->params[0], strlen(r->params[0]));
    const char **keys, **cmp = NULL;
    size_t nk, nc = 0, nref = 0;
    struct engine_query_column *rcols = NULL;
    struct sl_buf on, pk, rk, q;
    const char **kp, **kr, **cp, **cr;

    if (src == NULL || describe(ev, lf, src->relation, &rcols, &nref) < 0)
        return;
    nk = split_list(ev, r->params[1], strlen(r->params[1]), &keys);
    if (r->nparams > 2) {
        nc = split_list(ev, r->params[2], strlen(r->params[2]), &cmp);
    } else {
        cmp = sl_arena_zalloc(ev->a, (ev->ncols + 1) * sizeof(*cmp));
        for (size_t i = 0; i < ev->ncols; i++) {
            bool key = false;

            for (size_t k = 0; k < nk; k++) {
                const char *arrow = strstr(keys[k], "->");
                size_t len = arrow ? (size_t)(arrow - keys[k]) : strlen(keys[k]);

                key |= strlen(ev->cols[i].name) == len &&
                       strncmp(ev->cols[i].name, keys[k], len) == 0;
            }
            if (!key)
                cmp[nc++] = ev->cols[i].name;
        }
    }
    kp = sl_arena_zalloc(ev->a, (nk + 1) * sizeof(*kp));
    kr = sl_arena_zalloc(ev->a, (nk + 1) * sizeof(*kr));
    cp = sl_arena_zalloc(ev->a, (nc + 1) * sizeof(*cp));
    cr = sl_arena_zalloc(ev->a, (nc + 1) * sizeof(*cr));
    for (size_t pass = 0; pass < 2; pass++) {
        const char **in = pass ? cmp : keys, **a = pass ? cp : kp, **b = pass ? cr : kr;
        size_t n = pass ? nc : nk;

        for (size_t i = 0; i < n && lf->error == NULL; i++) {
            const char *arrow = strstr(in[i], "->");

            a[i] = arrow ? sl_arena_strndup(ev->a, in[i], (size_t)(arrow - in[i])) : in[i];
            b[i] = arrow ? arrow + 2 : in[i];
            while (*b[i] == ' ')
                b[i]++;
            if (column(ev, a[i]) == NULL)
                lf->error = sl_arena_printf(ev->a, "%s has no column '%s'", ev->data->name,
                                            a[i]);
            else if (!has_col(rcols, nref, b[i]))
                lf->error = sl_arena_printf(ev->a, "%s has no column '%s'", src->name, b[i]);
        }
    }
    engine_query_columns_release(rcols, nref);
    if (lf->error != NULL)
        return;
    if (nk == 0) {
        lf->error = "DatasetMatch needs key columns: \"id\" or \"id->ref_id\"";
        return;
    }
    sl_buf_init(&on);
    sl_buf_init(&pk);
    sl_buf_init(&rk);
    sl_buf_init(&q);
    for (size_t i = 0; i < nk; i++) {
        sl_buf_addf(&on, "%sp.%s = r.", i ? " AND " : "", ident(ev, kp[i]));
        sl_buf_adds(&on, ident(ev, kr[i]));
        sl_buf_addf(&pk, "%s%s", i ? ", " : "", ident(ev, kp[i]));
        sl_buf_addf(&rk, "%s%s", i ? ", " : "", ident(ev, kr[i]));
    }
    for (size_t i = 0; i < nc; i++) {
        sl_buf_addf(&on, " AND p.%s IS NOT DISTINCT FROM r.", ident(ev, cp[i]));
        sl_buf_adds(&on, ident(ev, cr[i]));
    }
    /* Keys unique on both sides, or no figure: -1 says which is not. */
    sl_buf_addf(&q,
                "SELECT CASE WHEN (SELECT count(*) FROM (SELECT %s FROM %s GROUP BY ALL HAVING "
                "count(*) > 1)) > 0 THEN -1 WHEN (SELECT count(*) FROM (SELECT %s FROM %s GROUP "
                "BY ALL HAVING count(*) > 1)) > 0 THEN -2 ELSE (SELECT count(r.__sluice_m)::DOUBLE "
                "/ NULLIF(count(*), 0) FROM %s AS p LEFT JOIN (SELECT *, TRUE AS __sluice_m FROM "
                "%s) AS r ON %s) END",
                pk.data, ev->data->relation, rk.data, src->relation, ev->data->relation,
                src->relation, on.data);
    lf->has_constant = scalar(ev, lf, q.data, &lf->constant);
    if (lf->has_constant && lf->constant < 0) {
        lf->error = sl_arena_printf(ev->a, "the keys are not unique in %s: rows cannot be "
                                    "matched one to one",
                                    lf->constant == -1 ? ev->data->name : src->name);
        lf->has_constant = false;
    }
    sl_buf_release(&on);
    sl_buf_release(&pk);
    sl_buf_release(&rk);
    sl_buf_release(&q);
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
        if (is_unique_key(ev, &c0, 1)) {
            add_agg(ev, lf, "count(*)");
            return;
        }
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
    case DQ_COLUMN_VALUES:
        plan_values(ev, lf);
        return;
    case DQ_DATA_FRESHNESS:
        plan_freshness(ev, lf);
        return;
    case DQ_CUSTOM_SQL:
        plan_sql(ev, lf);
        return;
    case DQ_COLUMN_DATA_TYPE:
        plan_data_type(ev, lf);
        return;
    case DQ_ROW_COUNT_MATCH:
        plan_count_match(ev, lf);
        return;
    case DQ_REFERENTIAL_INTEGRITY:
        plan_integrity(ev, lf);
        return;
    case DQ_SCHEMA_MATCH:
        plan_schema_match(ev, lf);
        return;
    case DQ_AGGREGATE_MATCH:
        plan_aggregate_match(ev, lf);
        return;
    case DQ_DATASET_MATCH:
        plan_dataset_match(ev, lf);
        return;
    case DQ_DISTRIBUTION_DRIFT: {
        double psi = 0;
        int known;

        if (need_column(ev, lf, c0, true) == NULL)
            return;
        if (ev->data->drift == NULL) {
            lf->error = "DistributionDrift is measured against the history of a table of "
                        "the lake, which a file has not";
            return;
        }
        known = ev->data->drift(ev->data->drift_arg, c0, &psi);
        if (known < 0) {
            lf->error = "the column could not be profiled";
            return;
        }
        /* no baseline yet: no drift to see */
        lf->constant = known > 0 ? psi : 0;
        lf->has_constant = true;
        return;
    }
    case DQ_COLUMN_NAMES_MATCH_PATTERN: {
        /* Every name holds a match of the pattern (a find, as deequ's). */
        struct sl_buf q;
        double all = 0;

        if (!regex_ok(ev, lf, c0))
            return;
        sl_buf_init(&q);
        sl_buf_adds(&q, "SELECT CAST(bool_and(regexp_matches(name, ");
        sl_buf_add_sql_str(&q, c0);
        sl_buf_adds(&q, ")) AS DOUBLE) FROM (VALUES ('')");
        for (size_t i = 0; i < ev->ncols; i++) {
            sl_buf_adds(&q, ", (");
            sl_buf_add_sql_str(&q, ev->cols[i].name);
            sl_buf_addc(&q, ')');
        }
        sl_buf_adds(&q, ") AS t(name) WHERE name != ''");
        lf->has_constant = scalar(ev, lf, q.data, &all);
        lf->constant = all;
        sl_buf_release(&q);
        return;
    }
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

/*
 * The group's frequency metrics in one query: the value counts of every
 * column set (a GROUP BY each, side by side), then each metric an
 * aggregate over the counts of its set - the rows where some of its
 * columns is set, as deequ counts them.  Entropy is
 * ln t - sum(n ln n) / t, t the set's rows, so that it needs no second
 * pass.
 */
static void
measure_frequencies(struct eval *ev, struct group *g)
{
    struct sl_buf q;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_diag d;

    sl_buf_init(&q);
    sl_buf_adds(&q, "SELECT ");
    for (size_t k = 0; k < g->nfreqs; k++) {
        size_t s = g->freqs[k].set;
        char in[32];

        snprintf(in, sizeof(in), "s = %zu", s);
        if (k)
            sl_buf_adds(&q, ", ");
        if (g->freqs[k].kind == 'u')
            sl_buf_addf(&q, "count(*) FILTER (WHERE %s AND n = 1)::DOUBLE / "
                            "NULLIF(sum(n) FILTER (WHERE %s), 0)", in, in);
        else if (g->freqs[k].kind == 'r')
            sl_buf_addf(&q, "count(*) FILTER (WHERE %s AND n = 1)::DOUBLE / "
                            "NULLIF(count(*) FILTER (WHERE %s), 0)", in, in);
        else
            sl_buf_addf(&q, "ln(NULLIF(sum(n) FILTER (WHERE %s), 0)) - sum(n * ln(n)) FILTER "
                            "(WHERE %s) / sum(n) FILTER (WHERE %s)", in, in, in);
    }
    /* One GROUP BY per set, each over the rows where one of its columns is
     * set; their counts side by side, told apart by s.  (GROUP BY
     * GROUPING SETS in one scan measured twice as slow as this on the
     * 2-core machine: each set's hash table fills from its own scan of
     * only its columns, and the sets' scans run at once.) */
    sl_buf_adds(&q, " FROM (");
    for (size_t k = 0; k < g->nsets; k++) {
        sl_buf_addf(&q, "%sSELECT %zu AS s, count(*)::DOUBLE AS n FROM %s WHERE (",
                    k ? " UNION ALL " : "", k, ev->data->relation);
        for (size_t j = 0; j < g->sets[k].ncols; j++)
            sl_buf_addf(&q, "%s%s IS NOT NULL", j ? " OR " : "", g->sets[k].cols[j]);
        sl_buf_adds(&q, ")");
        if (g->where != NULL)
            sl_buf_addf(&q, " AND (%s)", g->where);
        sl_buf_adds(&q, " GROUP BY ");
        for (size_t j = 0; j < g->sets[k].ncols; j++)
            sl_buf_addf(&q, "%s%s", j ? ", " : "", g->sets[k].cols[j]);
    }
    sl_buf_adds(&q, ") AS f");
    sl_diag_init(&d);
    if (engine_query(ev->data->e, q.data, &res, &d) < 0 ||
        (ch = engine_result_next(res)) == NULL || engine_chunk_rows(ch) != 1) {
        g->error = sl_arena_printf(ev->a, "%s%s%s", g->where ? "the where clause or the " : "",
                                   g->where ? "rule cannot run: " : "cannot measure: ",
                                   d.msg[0] ? d.msg : "no result");
    } else {
        for (size_t k = 0; k < g->nfreqs; k++) {
            struct engine_vec v;
            size_t at = (size_t)g->n + k;

            engine_chunk_vec(ch, k, &v);
            g->nulls[at] = !engine_vec_valid(&v, 0) || v.kind != ENGINE_VEC_F64;
            g->values[at] = g->nulls[at] ? 0 : ((const double *)v.data)[0];
        }
    }
    engine_result_free(res);
    sl_buf_release(&q);
}

/* The aggregate call inside "CAST((call) AS DOUBLE)" when the expression
 * is one call of an aggregate function, so that a FILTER can follow it;
 * NULL otherwise.  In the arena. */
static const char *
lone_aggregate(struct eval *ev, const char *expr)
{
    static const char *const aggs[] = {
        "count(", "sum(", "avg(", "min(", "max(", "stddev_pop(", "var_pop(", "corr(",
        "bool_and(", "bool_or(",
    };
    static const char head[] = "CAST((", tail[] = ") AS DOUBLE)";
    size_t n = strlen(expr), hl = sizeof(head) - 1, tl = sizeof(tail) - 1;
    const char *call, *p;
    size_t len;
    int depth = 0;
    bool known = false;

    if (n <= hl + tl || strncmp(expr, head, hl) != 0 || strcmp(expr + n - tl, tail) != 0)
        return NULL;
    call = expr + hl;
    len = n - hl - tl;
    for (size_t i = 0; i < sizeof(aggs) / sizeof(aggs[0]); i++)
        known |= strncmp(call, aggs[i], strlen(aggs[i])) == 0;
    if (!known || call[len - 1] != ')')
        return NULL;
    /* the call's own parenthesis closes at its end, not before (quotes
     * hold no parenthesis that counts) */
    for (p = strchr(call, '('); p < call + len; p++) {
        if (*p == '\'' || *p == '"') {
            const char *q = memchr(p + 1, *p, (size_t)(call + len - p - 1));

            if (q == NULL)
                return NULL;
            p = q;
            continue;
        }
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
        if (depth == 0 && p != call + len - 1)
            return NULL;
    }
    return sl_arena_strndup(ev->a, call, len);
}

/*
 * One scan for the aggregates of every where group: each group's
 * aggregates, when each is one aggregate call, ride on the unfiltered
 * group's query with FILTER (WHERE ...).  A where clause that fails would
 * fail the whole query: then nothing is fused, and each group is measured
 * by itself as before.
 */
static void
fuse_groups(struct eval *ev)
{
    struct group *base = NULL;
    struct sl_buf sql;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_diag d;
    bool *fused = sl_arena_zalloc(ev->a, ev->ngroups + 1);
    size_t nfused = 0;

    for (size_t i = 0; i < ev->ngroups; i++)
        if (ev->groups[i].where == NULL && ev->groups[i].n > 0)
            base = &ev->groups[i];
    if (base == NULL)
        return;
    sl_buf_init(&sql);
    sl_buf_addf(&sql, "SELECT %s", base->select.data);
    for (size_t i = 0; i < ev->ngroups; i++) {
        struct group *g = &ev->groups[i];
        bool all = g->where != NULL && g->n > 0;

        for (int k = 0; all && k < g->n; k++)
            all = lone_aggregate(ev, g->exprs[k]) != NULL;
        if (!all)
            continue;
        for (int k = 0; k < g->n; k++)
            sl_buf_addf(&sql, ", CAST((%s FILTER (WHERE (%s))) AS DOUBLE)",
                        lone_aggregate(ev, g->exprs[k]), g->where);
        fused[i] = true;
        nfused++;
    }
    if (nfused == 0) {
        sl_buf_release(&sql);
        return;
    }
    sl_buf_addf(&sql, ", count(*) FROM %s", ev->data->relation);
    sl_diag_init(&d);
    if (engine_query(ev->data->e, sql.data, &res, &d) == 0 &&
        (ch = engine_result_next(res)) != NULL && engine_chunk_rows(ch) == 1) {
        size_t col = 0;

        for (size_t i = 0; i < ev->ngroups; i++) {
            struct group *g = &ev->groups[i];

            if (g != base && !fused[i])
                continue;
            for (int k = 0; k < g->n; k++, col++) {
                struct engine_vec v;

                engine_chunk_vec(ch, col, &v);
                g->nulls[k] = !engine_vec_valid(&v, 0) || v.kind != ENGINE_VEC_F64;
                g->values[k] = g->nulls[k] ? 0 : ((const double *)v.data)[0];
            }
            g->measured = true;
        }
    }
    engine_result_free(res);
    sl_buf_release(&sql);
}

static void
prepare(struct eval *ev, struct group *g)
{
    g->values = sl_arena_zalloc(ev->a, ((size_t)g->n + g->nfreqs) * sizeof(double) + 1);
    g->nulls = sl_arena_zalloc(ev->a, (size_t)g->n + g->nfreqs + 1);
}

static void
measure(struct eval *ev, struct group *g)
{
    struct sl_buf sql;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_diag d;

    if (g->nfreqs > 0)
        measure_frequencies(ev, g);
    if (g->n == 0 || g->measured)
        return;
    sl_buf_init(&sql);
    /* count(*) makes it an aggregate query, one row, even when every
     * metric of the group is a scalar subquery. */
    sl_buf_addf(&sql, "SELECT %s, count(*) FROM %s", g->select.data, ev->data->relation);
    if (g->where != NULL)
        sl_buf_addf(&sql, " WHERE (%s)", g->where);
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

static size_t
history_of(struct eval *ev, const struct dq_rule *r, double *out, size_t max)
{
    if (ev->data->history == NULL)
        return 0;
    return ev->data->history(ev->data->history_arg, r, out, max);
}

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

/*
 * A condition's bounds as this evaluation computed them, when some is not
 * a plain number (avg(last(10)) * 0.8): " (the bound is 1234.5 now)", for
 * the reason a failure gives; "" otherwise.
 */
static const char *
dynamic_bounds(struct eval *ev, const struct dq_cond *c, const double *hist, size_t nh)
{
    struct sl_buf b;
    const char *out;
    bool dynamic = false;
    size_t n = 0;

    if (c == NULL || c->op == DQ_IN || c->op == DQ_NOT_IN)
        return "";
    for (size_t i = 0; i < c->nvals && i < 2; i++)
        dynamic |= c->vals[i].kind == DQ_VAL_NUM && c->vals[i].num->kind != DQ_NUM_LIT;
    if (!dynamic)
        return "";
    sl_buf_init(&b);
    for (size_t i = 0; i < c->nvals && i < 2; i++) {
        const char *why = NULL;
        double v;

        if (c->vals[i].kind != DQ_VAL_NUM || value_of(c->vals[i].num, hist, nh, &v, &why) < 0)
            continue;
        sl_buf_addf(&b, "%s%.10g", n++ ? " and " : "", v);
    }
    out = n == 0 ? "" : sl_arena_printf(ev->a, " (the bound%s %s now)", n > 1 ? "s are" : " is",
                                         b.data);
    sl_buf_release(&b);
    return out;
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
    for (int i = 0; i < 2; i++) {
        int at = lf->agg[i] <= -2 ? g->n + (-2 - lf->agg[i]) : lf->agg[i];

        if (at < 0)
            continue;
        *(i ? &a1 : &a0) = g->values[at];
        *(i ? &n1 : &n0) = g->nulls[at];
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
        r->type == DQ_IS_PRIMARY_KEY || r->type == DQ_COLUMN_NAMES_MATCH_PATTERN) {
        bool pass = r->type == DQ_COLUMN_EXISTS || r->type == DQ_COLUMN_NAMES_MATCH_PATTERN
                        ? res->metric != 0
                        : res->metric == 1;

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
        else if (r->type == DQ_COLUMN_NAMES_MATCH_PATTERN)
            res->reason = "a column's name does not match the pattern";
        else
            res->reason = sl_arena_printf(ev->a, "%.6g of the rows hold a value no other row "
                                          "holds, not all", res->metric);
        if (r->type == DQ_COLUMN_EXISTS || r->type == DQ_COLUMN_NAMES_MATCH_PATTERN)
            res->has_metric = false;
        return;
    }
    nh = history_of(ev, r, hist, MAX_HISTORY);
    if (lf->compliance) {
        /* A fraction of rows: the threshold's, or all of them. */
        ok = r->threshold ? holds(r->threshold, res->metric, hist, nh, &why)
                          : res->metric == 1;
        if (ok > 0) {
            res->outcome = DQ_PASSED;
            res->reason = "";
        } else if (ok == 0) {
            res->outcome = DQ_FAILED;
            res->reason = sl_arena_printf(ev->a, "%.2f%% of the rows pass%s",
                                          res->metric * 100,
                                          r->threshold ? ", short of the threshold" : "");
        } else {
            res->outcome = DQ_ERROR;
            res->reason = why;
        }
        return;
    }
    ok = holds(r->cond, res->metric, hist, nh, &why);
    if (ok < 0) {
        res->outcome = DQ_ERROR;
        res->reason = why;
        return;
    }
    res->outcome = ok ? DQ_PASSED : DQ_FAILED;
    res->reason = ok ? "" : sl_arena_printf(ev->a, "the value %.10g does not satisfy the rule%s",
                                            res->metric, dynamic_bounds(ev, r->cond, hist, nh));
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
    ev.now_us = data->now_us ? data->now_us : sl_now_usec();
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
        prepare(&ev, &ev.groups[i]);
    fuse_groups(&ev);
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
    if (ev.primary_view) {
        struct sl_diag dd;

        sl_diag_init(&dd);
        engine_exec(data->e, "DROP VIEW IF EXISTS temp.main.\"primary\"", &dd);
    }
    for (size_t i = 0; i < ev.ngroups; i++) {
        sl_buf_release(&ev.groups[i].select);
        free(ev.groups[i].exprs);
        free(ev.groups[i].sets);
        free(ev.groups[i].freqs);
    }
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
