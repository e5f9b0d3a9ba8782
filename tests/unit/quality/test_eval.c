/*
 * test_eval.c - rulesets evaluated over a table in a real DuckDB: each
 * metric against the same figure computed here in C from the rows'
 * formulas, outcomes at and across their bounds, where filters, NULLs and
 * empty sets, composites, dynamic thresholds, and the errors (unknown
 * column, wrong type, a where the engine refuses).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/mem.h"
#include "engine/engine.h"
#include "quality/dqdl.h"
#include "quality/eval.h"
#include "quality/profile.h"
#include "test.h"

#define N 1000

static struct engine *eng;
static struct dq_ruleset rs;
static struct dq_report rep;
static double history[8];
static size_t nhistory;
static const char *const *unique_key;  /* dq_data.unique_key of the next evaluate() */

/* The table's rows, as the SQL below makes them; NAN is NULL. */
static double
x_of(int i)
{
    return i % 10 == 0 ? NAN : (double)(i * 37 % 101) / 4.0;
}

static double
y_of(int i)
{
    return isnan(x_of(i)) ? NAN : x_of(i) * 2 + i % 3;
}

static double
u_of(int i)
{
    return i % 3 == 0 ? i : i % 50;
}

static double
g_of(int i)
{
    return i % 7;
}

/* deequ's frequency figures of f over rows 0..N-1 (NAN rows left out):
 * uniqueness, unique value ratio, entropy; computed the slow way. */
static void
frequencies(double (*f)(int), double *uniq, double *ratio, double *entropy)
{
    int rows = 0, once = 0, distinct = 0;
    double h = 0;

    for (int i = 0; i < N; i++)
        rows += !isnan(f(i));
    for (int i = 0; i < N; i++) {
        int n = 0;
        bool first = true;

        if (isnan(f(i)))
            continue;
        for (int j = 0; j < N; j++) {
            if (!isnan(f(j)) && f(j) == f(i)) {
                n++;
                first &= j >= i;
            }
        }
        if (!first)
            continue;
        distinct++;
        once += n == 1;
        h -= (double)n / rows * log((double)n / rows);
    }
    *uniq = (double)once / rows;
    *ratio = (double)once / distinct;
    *entropy = h;
}

static void
close_engine(void)
{
    engine_close(eng);
}

static size_t
hist(void *arg, const struct dq_rule *r, double *out, size_t max)
{
    (void)arg;
    (void)r;
    for (size_t i = 0; i < nhistory && i < max; i++)
        out[i] = history[i];
    return nhistory;
}

/* Evaluate "Rules = [ rules ]" over the table t. */
static void
evaluate(const char *rules)
{
    struct sl_diag d;
    char doc[4096];
    /* now() is 2026-01-20T12:00:00Z; "ref" is the first half of t, "same"
     * t itself. */
    static const struct dq_source sources[] = {{"ref", "ref", "ref"}, {"same", "t", "t"}};
    struct dq_data data = {.relation = "t", .name = "t", .history = hist,
                           .now_us = 1768910400000000LL, .sources = sources, .nsources = 2,
                           .unique_key = unique_key, .nunique_key = unique_key ? 1 : 0};

    if (eng == NULL) {
        struct engine_opts o = {.threads = 1, .connections = 1};

        sl_diag_init(&d);
        if (engine_open(&o, &eng, &d) < 0 ||
            engine_exec(eng,
                        "CREATE TABLE t AS SELECT i::BIGINT AS id, (i % 7)::INTEGER AS g, "
                        "CASE WHEN i % 10 = 0 THEN NULL ELSE (i * 37 % 101) / 4.0 END::DOUBLE "
                        "AS x, CASE WHEN i % 10 = 0 THEN NULL ELSE ((i * 37 % 101) / 4.0) * 2 "
                        "+ i % 3 END::DOUBLE AS y, CASE WHEN i % 13 = 0 THEN NULL ELSE 'v' || "
                        "(i % 5) END AS s, CASE WHEN i % 3 = 0 THEN i ELSE i % 50 END AS u, "
                        "DATE '2026-01-01' + (i % 30)::INTEGER AS d FROM range(1000) r(i)",
                        &d) < 0 ||
            engine_exec(eng, "CREATE TABLE ref AS SELECT id, g, x FROM t WHERE id < 500", &d) < 0)
            abort();
        atexit(close_engine);
    }
    data.e = eng;
    dq_report_free(&rep);
    dq_free(&rs);
    snprintf(doc, sizeof(doc), "Rules = [ %s ]", rules);
    sl_diag_init(&d);
    if (dq_parse("quality/t.dqdl", doc, strlen(doc), &rs, &d) != 0) {
        snprintf(test_why, sizeof(test_why), "parse: %s", d.msg);
        longjmp(test_jmp, 1);
    }
    sl_diag_init(&d);
    if (dq_evaluate(&rs, &data, &rep, &d) != 0) {
        snprintf(test_why, sizeof(test_why), "evaluate: %s", d.msg);
        longjmp(test_jmp, 1);
    }
}

static bool
near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(b) > 1 ? fabs(b) : 1);
}

#define OUTCOME(i, o) CHECK_STR(dq_outcome_name(rep.results[i].outcome), o)

TEST(statistics_match_an_independent_computation)
{
    double n = 0, sum = 0, mean, sq = 0, sy = 0, sxy = 0, sxx = 0, syy = 0, my, corr;
    int set = 0;

    for (int i = 0; i < N; i++) {
        if (isnan(x_of(i)))
            continue;
        set++;
        sum += x_of(i);
        sy += y_of(i);
    }
    n = set;
    mean = sum / n;
    my = sy / n;
    for (int i = 0; i < N; i++) {
        if (isnan(x_of(i)))
            continue;
        sq += (x_of(i) - mean) * (x_of(i) - mean);
        sxy += (x_of(i) - mean) * (y_of(i) - my);
        sxx += (x_of(i) - mean) * (x_of(i) - mean);
        syy += (y_of(i) - my) * (y_of(i) - my);
    }
    corr = sxy / sqrt(sxx * syy);
    evaluate("RowCount = 1000, Completeness \"x\" > 0.85, Mean \"x\" > 0, Sum \"x\" > 0, "
             "StandardDeviation \"x\" > 0, Variance \"x\" > 0, ColumnCorrelation \"x\" \"y\" "
             "> 0.5, DistinctValuesCount \"s\" = 6, ColumnCount = 7");
    CHECK_INT(rep.n, 9);
    CHECK_INT(rep.passed, 9);
    CHECK(rep.results[0].metric == 1000);
    CHECK(near(rep.results[1].metric, n / N));
    CHECK(near(rep.results[2].metric, mean));
    CHECK(near(rep.results[3].metric, sum));
    CHECK(near(rep.results[4].metric, sqrt(sq / n)));
    CHECK(near(rep.results[5].metric, sq / n));
    CHECK(near(rep.results[6].metric, corr));
    CHECK(rep.results[7].metric == 6);   /* v0..v4 and NULL */
    CHECK(rep.results[8].metric == 7);
}

/* The fraction of rows 0..N-1 for which pass(i) holds. */
static double
fraction(bool (*pass)(int))
{
    int n = 0;

    for (int i = 0; i < N; i++)
        n += pass(i);
    return (double)n / N;
}

static bool x_pos(int i) { return !isnan(x_of(i)) && x_of(i) > 0; }
static bool x_1_10(int i) { return !isnan(x_of(i)) && x_of(i) > 1 && x_of(i) < 10; }
static bool x_ne_0(int i) { return isnan(x_of(i)) || x_of(i) != 0; }
static bool s_null(int i) { return i % 13 == 0; }
static bool s_v01(int i) { return !s_null(i) && i % 5 <= 1; }
static bool s_v0_or_null(int i) { return s_null(i) || i % 5 == 0; }
static bool s_not_v0(int i) { return s_null(i) || i % 5 != 0; }
static bool s_v012(int i) { return !s_null(i) && i % 5 <= 2; }
static bool d_after_15(int i) { return i % 30 > 14; }
static bool d_2_to_9(int i) { return i % 30 >= 1 && i % 30 <= 8; }
static bool fresh_48h(int i) { return (19 - i % 30) * 24 + 12 <= 48; }

TEST(column_values_row_by_row)
{
    evaluate("ColumnValues \"x\" > 0, ColumnValues \"x\" > 0 with threshold > 0.85, "
             "ColumnValues \"x\" between 1 and 10 with threshold > 0.05, "
             "ColumnValues \"x\" != 0 with threshold >= 0.5, "
             "ColumnValues \"s\" in [\"v0\", \"v1\"] with threshold > 0.1, "
             "ColumnValues \"s\" in [\"v0\", NULL] with threshold > 0.1, "
             "ColumnValues \"s\" not in [\"v0\"] with threshold > 0.1, "
             "ColumnValues \"s\" matches \"v[0-2]\" with threshold > 0.1, "
             "ColumnValues \"d\" > (now() - 5 days) with threshold > 0.1, "
             "ColumnValues \"d\" between \"2026-01-01\" and \"2026-01-10\" with threshold > 0.1, "
             "ColumnValues \"id\" in [1, 2, 3] with threshold > 0.001, "
             "ColumnValues \"s\" in [\"v0\", \"v1\", \"v2\", \"v3\", \"v4\", NULL]");
    CHECK(near(rep.results[0].metric, fraction(x_pos)));
    OUTCOME(0, "failed");
    CHECK_HAS(rep.results[0].reason, "of the rows pass");
    OUTCOME(1, "passed");
    CHECK(near(rep.results[2].metric, fraction(x_1_10)));
    CHECK(near(rep.results[3].metric, fraction(x_ne_0)));
    CHECK(near(rep.results[4].metric, fraction(s_v01)));
    CHECK(near(rep.results[5].metric, fraction(s_v0_or_null)));
    CHECK(near(rep.results[6].metric, fraction(s_not_v0)));
    CHECK(near(rep.results[7].metric, fraction(s_v012)));
    CHECK(near(rep.results[8].metric, fraction(d_after_15)));
    CHECK(near(rep.results[9].metric, fraction(d_2_to_9)));
    CHECK(near(rep.results[10].metric, 0.003));
    CHECK(rep.results[11].metric == 1);
    CHECK_INT(rep.passed, 11);
}

TEST(freshness_and_custom_sql)
{
    evaluate("DataFreshness \"d\" <= 48 hours, DataFreshness \"d\" < 1000 days, "
             "CustomSql \"select count(*) from primary where g = 0\" = 143, "
             "CustomSql \"select id from primary where id < 10\", "
             "CustomSql \"select id from primary where id < 10\" with threshold < 0.02, "
             "CustomSql \"select nosuch from primary\" > 0, "
             "CustomSql \"select id, g from primary\" > 1, "
             "CustomSql \"select 5 as z\", "
             "ColumnValues \"s\" matches \"[\", ColumnValues \"s\" > 3, "
             "DataFreshness \"x\" < 3 days");
    CHECK(near(rep.results[0].metric, fraction(fresh_48h)));
    OUTCOME(0, "failed");
    OUTCOME(1, "passed");
    OUTCOME(2, "passed");
    CHECK(rep.results[2].metric == 143);
    OUTCOME(3, "failed");
    CHECK(near(rep.results[3].metric, 0.01));
    OUTCOME(4, "passed");
    OUTCOME(5, "error");
    CHECK_HAS(rep.results[5].reason, "nosuch");
    OUTCOME(6, "error");
    CHECK_HAS(rep.results[6].reason, "2 columns, not one");
    OUTCOME(7, "error");
    CHECK_HAS(rep.results[7].reason, "column 'z'");
    OUTCOME(8, "error");
    CHECK_HAS(rep.results[8].reason, "regular expression");
    OUTCOME(9, "error");
    CHECK_HAS(rep.results[9].reason, "with numbers, but it is VARCHAR");
    OUTCOME(10, "error");
    CHECK_HAS(rep.results[10].reason, "needs a date or a timestamp");
}

static bool s_is_int(int i) { (void)i; return false; }

TEST(data_types_and_names)
{
    evaluate("ColumnDataType \"g\" = \"INTEGER\", ColumnDataType \"x\" = \"DOUBLE\" with "
             "threshold > 0.85, ColumnDataType \"s\" = \"INTEGER\", ColumnDataType \"s\" != "
             "\"INTEGER\" with threshold > 0.9, ColumnDataType \"d\" = \"DECIMAL(10,2)\", "
             "ColumnDataType \"s\" = \"STRING\", ColumnNamesMatchPattern \"^[a-z]+$\", "
             "ColumnNamesMatchPattern \"^[a-x]+$\", ColumnNamesMatchPattern \"(\"");
    OUTCOME(0, "passed");
    OUTCOME(1, "passed");
    CHECK(near(rep.results[1].metric, 0.9)); /* NULLs never cast */
    OUTCOME(2, "failed");
    CHECK(near(rep.results[2].metric, fraction(s_is_int)));
    OUTCOME(3, "passed");
    OUTCOME(4, "failed");   /* a date does not cast to a decimal */
    OUTCOME(5, "error");
    CHECK_HAS(rep.results[5].reason, "not \"STRING\"");
    OUTCOME(6, "passed");
    OUTCOME(7, "failed");   /* y is past [a-x] */
    OUTCOME(8, "error");
}

TEST(frequencies_as_deequ_counts_them)
{
    double uniq, ratio, ent, guniq, gratio, gent, xuniq, xratio, xent;

    frequencies(u_of, &uniq, &ratio, &ent);
    frequencies(g_of, &guniq, &gratio, &gent);
    frequencies(x_of, &xuniq, &xratio, &xent);
    CHECK(uniq > 0 && uniq < 1 && ratio > 0 && ratio < 1);
    evaluate("Uniqueness \"u\" > 0, UniqueValueRatio \"u\" > 0, Entropy \"u\" > 0, "
             "Uniqueness \"g\" = 0, Entropy \"g\" > 1, Entropy \"x\" > 1, "
             "UniqueValueRatio \"x\" = 0, Uniqueness \"id\" = 1, IsUnique \"id\", IsUnique \"g\", "
             "IsPrimaryKey \"id\", IsPrimaryKey \"u\", IsPrimaryKey \"id\" \"s\", "
             "IsUnique \"id\" \"s\", Uniqueness \"g\" \"u\" > 0");
    CHECK(near(rep.results[0].metric, uniq));
    CHECK(near(rep.results[1].metric, ratio));
    CHECK(near(rep.results[2].metric, ent));
    CHECK(near(rep.results[3].metric, guniq));
    CHECK(near(rep.results[4].metric, gent));
    CHECK(near(rep.results[5].metric, xent));
    CHECK(near(rep.results[6].metric, xratio));
    for (int i = 0; i < 9; i++)
        OUTCOME(i, "passed");
    OUTCOME(9, "failed");
    CHECK_HAS(rep.results[9].reason, "hold a value no other row holds");
    OUTCOME(10, "passed");
    OUTCOME(11, "failed");
    OUTCOME(12, "failed");
    CHECK_HAS(rep.results[12].reason, "not every row has them all");
    OUTCOME(13, "passed");
    OUTCOME(14, "passed");
    /* An empty set: nothing to measure. */
    evaluate("Uniqueness \"u\" > 0 where \"id < 0\", Entropy \"u\" > 0 where \"id < 0\"");
    OUTCOME(0, "failed");
    OUTCOME(1, "failed");
}

TEST(column_length)
{
    evaluate("ColumnLength \"s\" = 2, ColumnLength \"s\" > 2, ColumnLength \"s\" between 1 and 3, "
             "ColumnLength \"s\" <= 1, ColumnLength \"s\" >= 2, ColumnLength \"s\" < 3, "
             "ColumnLength \"s\" != 2, ColumnLength \"s\" in [2], ColumnLength \"s\" = 2 where "
             "\"id < 0\"");
    OUTCOME(0, "passed");
    OUTCOME(1, "failed");
    CHECK_HAS(rep.results[1].reason, "2 to 2 characters");
    OUTCOME(2, "passed");
    OUTCOME(3, "failed");
    CHECK(rep.results[3].metric == 2);
    OUTCOME(4, "passed");
    OUTCOME(5, "passed");
    OUTCOME(6, "failed");
    OUTCOME(7, "error");
    OUTCOME(8, "failed");
}

TEST(bounds_of_conditions)
{
    evaluate("RowCount between 999 and 1001, RowCount between 1000 and 1001, "
             "RowCount not between 1000 and 1001, RowCount in [1, 1000], RowCount not in [1000], "
             "RowCount != 1000, RowCount >= 1000, RowCount < 1000, RowCount <= 1000, "
             "RowCount > 999.5");
    OUTCOME(0, "passed");
    OUTCOME(1, "failed"); /* between is exclusive */
    OUTCOME(2, "passed");
    OUTCOME(3, "passed");
    OUTCOME(4, "failed");
    OUTCOME(5, "failed");
    OUTCOME(6, "passed");
    OUTCOME(7, "failed");
    OUTCOME(8, "passed");
    OUTCOME(9, "passed");
    CHECK_HAS(rep.results[1].reason, "1000 does not satisfy");
    /* =, != and in within 0.00001, as the DQDL library deequ pins. */
    evaluate("RowCount = 1000.000001, RowCount != 1000.000001, RowCount = 1000.1, "
             "RowCount in [999.999999]");
    OUTCOME(0, "passed");
    OUTCOME(1, "failed");
    OUTCOME(2, "failed");
    OUTCOME(3, "passed");
}

TEST(booleans_where_and_empty_sets)
{
    int g0 = 0, set1 = 0, all1 = 0;

    for (int i = 0; i < N; i++) {
        g0 += i % 7 == 0;
        all1 += i % 7 == 1;
        set1 += i % 7 == 1 && !isnan(x_of(i));
    }
    evaluate("IsComplete \"id\", IsComplete \"x\", ColumnExists \"s\", ColumnExists \"nope\", "
             "RowCount > 0 where \"g = 0\", Completeness \"x\" > 0 where \"g = 1\", "
             "Completeness \"x\" > 0 where \"id < 0\", Mean \"x\" > 0 where \"id < 0\", "
             "RowCount = 0 where \"id < 0\"");
    OUTCOME(0, "passed");
    OUTCOME(1, "failed");
    CHECK(near(rep.results[1].metric, 0.9));
    OUTCOME(2, "passed");
    OUTCOME(3, "failed");
    CHECK_HAS(rep.results[3].reason, "has no column 'nope'");
    CHECK(rep.results[4].metric == g0);
    CHECK(near(rep.results[5].metric, (double)set1 / all1));
    OUTCOME(6, "failed");
    CHECK_STR(rep.results[6].reason, "no rows to measure");
    CHECK(!rep.results[6].has_metric);
    OUTCOME(7, "failed");
    CHECK_HAS(rep.results[7].reason, "no rows with a value");
    OUTCOME(8, "passed");
}

TEST(composites)
{
    evaluate("(RowCount > 0) and (IsComplete \"x\"), (RowCount > 0) or (IsComplete \"x\"), "
             "(IsComplete \"x\") or (Mean \"nope\" > 1), (IsComplete \"x\") and (Mean \"nope\" > "
             "1), (RowCount > 0) or (Mean \"nope\" > 1)");
    OUTCOME(0, "failed");
    OUTCOME(1, "passed");
    CHECK_STR(dq_outcome_name(rep.results[1].l->outcome), "passed");
    CHECK_STR(dq_outcome_name(rep.results[1].r->outcome), "failed");
    OUTCOME(2, "error");
    OUTCOME(3, "failed");
    OUTCOME(4, "passed");
}

TEST(dynamic_thresholds_read_the_history)
{
    nhistory = 0;
    evaluate("RowCount > avg(last(3)) * 0.8, RowCount > last(), RowCount = index(last(2), 1)");
    OUTCOME(0, "passed"); /* no history: last() is 0 */
    OUTCOME(1, "passed");
    OUTCOME(2, "error");  /* no second value */
    history[0] = 2000, history[1] = 1000, history[2] = 1500, history[3] = 1;
    nhistory = 4;
    evaluate("RowCount > avg(last(3)) * 0.8, RowCount < max(last(10)), "
             "RowCount = index(last(2), 1), RowCount between min(last(3)) - 1 and "
             "median(last(3)) + 1, RowCount > std(last(2)), RowCount = sum(last(2)) - 2000 + "
             "abs(0 - 1000) - 1000, RowCount = 250 + 250 * 2");
    OUTCOME(0, "failed"); /* 1500 * 0.8 = 1200 */
    CHECK_HAS(rep.results[0].reason, "the value 1000 does not satisfy the rule (the bound is "
                                     "1200 now)");
    OUTCOME(1, "passed");
    OUTCOME(2, "passed");
    OUTCOME(3, "passed"); /* 999 < 1000 < 1501 */
    OUTCOME(4, "passed"); /* std of 2000, 1000: 500 */
    OUTCOME(5, "passed"); /* 3000 - 2000 + 1000 - 1000 */
    OUTCOME(6, "passed"); /* one precedence level, left to right: (250 + 250) * 2 */
    nhistory = 0;
}

TEST(errors_name_what_is_wrong)
{
    evaluate("Mean \"nope\" > 1, Mean \"s\" > 1, RowCount > 0 where \"nosuch = 1\", "
             "RowCount > 0, DetectAnomalies \"RowCount\", RowCount > 1 / 0");
    OUTCOME(0, "error");
    CHECK_HAS(rep.results[0].reason, "t has no column 'nope' (its columns: id, g, x, y, s, u, d)");
    OUTCOME(1, "error");
    CHECK_HAS(rep.results[1].reason, "Mean needs a numeric column; 's' is VARCHAR");
    OUTCOME(2, "error");
    CHECK_HAS(rep.results[2].reason, "nosuch");
    OUTCOME(3, "passed");
    OUTCOME(4, "error");
    CHECK_HAS(rep.results[4].reason, "DetectAnomalies is not evaluated by this version");
    OUTCOME(5, "error");
    CHECK_HAS(rep.results[5].reason, "divides by zero");
    CHECK_INT(rep.errors, 5);
    CHECK_INT(rep.passed, 1);
}


static bool
x_in_ref(int i)
{
    if (isnan(x_of(i)))
        return false;
    for (int j = 0; j < 500; j++)
        if (!isnan(x_of(j)) && x_of(j) == x_of(i))
            return true;
    return false;
}

TEST(rules_over_other_data_sets)
{
    evaluate("RowCountMatch \"ref\" = 2, ReferentialIntegrity \"id\" \"ref.id\" = 0.5, "
             "ReferentialIntegrity \"id,g\" \"ref.{id,g}\" = 0.5, "
             "ReferentialIntegrity \"x\" \"ref.x\" > 0, SchemaMatch \"same\" = 1.0, "
             "SchemaMatch \"ref\" = 1, AggregateMatch \"sum(x)\" \"sum(same.x)\" = 1, "
             "AggregateMatch \"sum(x)\" \"sum(ref.x)\" > 1, DatasetMatch \"same\" \"id\" = 1, "
             "DatasetMatch \"ref\" \"id\" \"x\" = 0.5, DatasetMatch \"same\" \"g\" = 1, "
             "RowCountMatch \"nope\" = 1, ReferentialIntegrity \"id\" \"ref.nope\" = 1");
    OUTCOME(0, "passed");
    OUTCOME(1, "passed");
    OUTCOME(2, "passed");
    CHECK(near(rep.results[3].metric, fraction(x_in_ref)));
    OUTCOME(4, "passed");
    OUTCOME(5, "failed");
    CHECK(rep.results[5].metric == 0);
    OUTCOME(6, "passed");
    OUTCOME(7, "passed");
    OUTCOME(8, "passed");
    OUTCOME(9, "passed");
    OUTCOME(10, "error");
    CHECK_HAS(rep.results[10].reason, "keys are not unique in t");
    OUTCOME(11, "error");
    CHECK_HAS(rep.results[11].reason, "no data set 'nope' beside the primary (there are: ref, same)");
    OUTCOME(12, "error");
    CHECK_HAS(rep.results[12].reason, "ref has no column 'nope'");
}

/* With the key known unique, the figures are the counted ones, without
 * the counting. */
TEST(a_known_unique_key_gives_the_counted_figures)
{
    static const char *const id[] = {"id"};
    static const char *rules =
        "IsUnique \"id\", IsPrimaryKey \"id\", Uniqueness \"id\" = 1, Entropy \"id\" > 1, "
        "UniqueValueRatio \"id\" = 1, DistinctValuesCount \"id\" = 1000, "
        "IsUnique \"id\" where \"g = 3\", Uniqueness \"id\" > 0 where \"id < 0\", "
        "IsUnique \"g\"";
    double counted[9];

    unique_key = NULL;
    evaluate(rules);
    for (int i = 0; i < 9; i++)
        counted[i] = rep.results[i].metric;
    unique_key = id;
    evaluate(rules);
    unique_key = NULL;
    for (int i = 0; i < 7; i++) {
        OUTCOME(i, "passed");
        CHECK(near(rep.results[i].metric, counted[i]));
    }
    CHECK(near(rep.results[3].metric, log(1000)));
    OUTCOME(7, "failed");
    CHECK_STR(rep.results[7].reason, "no rows with a value to measure");
    OUTCOME(8, "failed");
}

/* The PSI of uniform tenths is 0; of a known split, its formula. */
TEST(psi_formula)
{
    double a[10], b[QUALITY_DECILES], deciles[2][QUALITY_DECILES];
    double want = 0;

    for (int i = 0; i < 10; i++)
        a[i] = 0.1;
    CHECK(fabs(quality_psi(a)) < 1e-15);
    for (int i = 0; i < 10; i++)
        a[i] = i < 5 ? 0.2 : 0;
    for (int i = 0; i < 10; i++) {
        double x = i < 5 ? 0.2 : 0.0001;

        want += (x - 0.1) * log(x / 0.1);
    }
    CHECK(near(quality_psi(a), want));
    /* the baseline: the mean of the profiles, never decreasing */
    for (int j = 0; j < QUALITY_DECILES; j++) {
        deciles[0][j] = j;
        deciles[1][j] = j == 4 ? -10 : j + 2;
    }
    quality_baseline((const double (*)[QUALITY_DECILES])deciles, 2, b);
    CHECK(near(b[0], 1));
    CHECK(near(b[3], 4));
    CHECK(near(b[4], 4)); /* (4 - 10) / 2 = -3, raised to the edge before it */
    CHECK(near(b[5], 6));
}

/* One scan profiles several columns: deciles near the exact ones, and the
 * PSI of the rows over given edges as this test counts it. */
TEST(profile_columns)
{
    struct quality_profile p[2] = {{.column = "x"}, {.column = "y"}};
    double xs[N], a[10] = {0}, want;
    size_t n = 0;
    struct sl_diag d;

    evaluate("RowCount > 0"); /* the table */
    sl_diag_init(&d);
    for (int i = 0; i < N; i++)
        if (!isnan(x_of(i)))
            xs[n++] = x_of(i);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && xs[j - 1] > xs[j]; j--) {
            double t = xs[j];

            xs[j] = xs[j - 1];
            xs[j - 1] = t;
        }
    /* y's bins from x's exact deciles: y = 2x + (i % 3) is far to the right */
    p[1].has_baseline = true;
    for (int j = 0; j < QUALITY_DECILES; j++)
        p[1].baseline[j] = xs[(size_t)((j + 1) * (n - 1) / 10)];
    CHECK_INT(quality_profile(eng, "t", p, 2, &d), 0);
    CHECK_INT(p[0].values, (long long)n);
    CHECK(!p[0].has_psi);
    for (int j = 0; j < QUALITY_DECILES; j++)
        CHECK(fabs(p[0].deciles[j] - xs[(size_t)((j + 1) * (n - 1) / 10)]) <= 1.0);
    for (int i = 0; i < N; i++) {
        int b = 0;

        if (isnan(y_of(i)))
            continue;
        while (b < QUALITY_DECILES && y_of(i) > p[1].baseline[b])
            b++;
        a[b] += 1.0 / (double)n;
    }
    want = quality_psi(a);
    CHECK(p[1].has_psi);
    CHECK(near(p[1].psi, want));
    CHECK(p[1].psi > 0.25);
}

TEST(release)
{
    dq_report_free(&rep);
    dq_report_free(NULL);
    dq_free(&rs);
}
