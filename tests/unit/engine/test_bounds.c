/*
 * test_bounds.c - the event times a query's filters let through
 * (engine_query_bounds), on a real DuckDB: each case is a query and the
 * set it must give for two tables, curated.orders (a timestamp event
 * time, ordered_at) and curated.days (a date, d).  Where the analysis
 * must give up - anything that could let other rows matter - the table is
 * unbounded; a table the query never names is bounded to nothing.
 */
#include <stdint.h>
#include <string.h>

#include "core/span.h"
#include "core/time.h"
#include "engine/engine.h"
#include "test.h"

static const struct engine_bound_target targets[] = {
    {"curated", "orders", "ordered_at", false},
    {"curated", "days", "d", true},
};
#define NT 2

static struct engine *eng;
static struct engine_bounds got[NT];
static char got_text[NT][512];

/* The set as text: "all", "none", "-" (not read), or "[lo,hi] [lo,hi]"
 * with ISO times ("min"/"max" for the extremes). */
static void
describe(const struct engine_bounds *b, char *out, size_t size)
{
    size_t n = 0;

    if (!b->read) {
        snprintf(out, size, "-");
        return;
    }
    if (!b->bounded) {
        snprintf(out, size, "all");
        return;
    }
    if (b->spans.n == 0) {
        snprintf(out, size, "none");
        return;
    }
    out[0] = '\0';
    for (size_t i = 0; i < b->spans.n; i++) {
        char lo[40], hi[40];

        if (b->spans.v[i].lo == INT64_MIN)
            snprintf(lo, sizeof(lo), "min");
        else
            sl_format_timestamp(b->spans.v[i].lo, lo);
        if (b->spans.v[i].hi == INT64_MAX)
            snprintf(hi, sizeof(hi), "max");
        else
            sl_format_timestamp(b->spans.v[i].hi, hi);
        n += (size_t)snprintf(out + n, size - n, "%s[%s,%s]", i ? " " : "", lo, hi);
        if (n >= size)
            break;
    }
}

static void
close_engine(void)
{
    engine_bounds_release(got, NT);
    engine_close(eng);
}

static int
analyse(const char *sql)
{
    struct sl_diag d;
    int rc;

    if (eng == NULL) {
        struct engine_opts o = {.threads = 1, .connections = 1};

        sl_diag_init(&d);
        if (engine_open(&o, &eng, &d) < 0)
            abort();
        atexit(close_engine);
    }
    sl_diag_init(&d);
    engine_bounds_release(got, NT);
    rc = engine_query_bounds(eng, sql, NT, targets, got, &d);
    for (int i = 0; i < NT; i++)
        describe(&got[i], got_text[i], sizeof(got_text[i]));
    return rc;
}

#define ORDERS(sql, want)                                                             \
    do {                                                                              \
        CHECK_INT(analyse(sql), 0);                                                   \
        CHECK_STR(got_text[0], want);                                                 \
    } while (0)

#define DAYS(sql, want)                                                               \
    do {                                                                              \
        CHECK_INT(analyse(sql), 0);                                                   \
        CHECK_STR(got_text[1], want);                                                 \
    } while (0)

TEST(comparisons)
{
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05' AND "
           "ordered_at < '2026-10-06'",
           "[2026-10-05T00:00:00.000000Z,2026-10-05T23:59:59.999999Z]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at > TIMESTAMP '2026-10-05 10:00:00'",
           "[2026-10-05T10:00:00.000001Z,max]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at <= DATE '2026-10-05'",
           "[min,2026-10-05T00:00:00.000000Z]");
    /* reversed operands */
    ORDERS("SELECT * FROM curated.orders WHERE '2026-10-05 12:00' > ordered_at",
           "[min,2026-10-05T11:59:59.999999Z]");
    ORDERS("SELECT * FROM curated.orders WHERE TIMESTAMPTZ '2026-10-05 12:00:00+02' = ordered_at",
           "[2026-10-05T10:00:00.000000Z,2026-10-05T10:00:00.000000Z]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at BETWEEN '2026-10-05' AND "
           "'2026-10-06 00:00:00.5'",
           "[2026-10-05T00:00:00.000000Z,2026-10-06T00:00:00.500000Z]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at IN ('2026-10-09', '2026-10-05')",
           "[2026-10-05T00:00:00.000000Z,2026-10-05T00:00:00.000000Z] "
           "[2026-10-09T00:00:00.000000Z,2026-10-09T00:00:00.000000Z]");
    /* arithmetic on constants, zones in literals */
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at < DATE '2026-10-01' + INTERVAL 2 DAY",
           "[min,2026-10-02T23:59:59.999999Z]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05 10:00:00-03:00'",
           "[2026-10-05T13:00:00.000000Z,max]");
    /* contradictions read nothing */
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at > '2026-10-06' AND "
           "ordered_at < '2026-10-05'",
           "none");
}

TEST(and_or_not)
{
    ORDERS("SELECT * FROM curated.orders WHERE (ordered_at < '2026-10-02' OR "
           "ordered_at >= '2026-10-30') AND status = 'x'",
           "[min,2026-10-01T23:59:59.999999Z] [2026-10-30T00:00:00.000000Z,max]");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at < '2026-10-02' OR status = 'x'", "all");
    /* DuckDB's parser turns NOT (x < k) into x >= k, which holds the same */
    ORDERS("SELECT * FROM curated.orders WHERE NOT (ordered_at < '2026-10-02')",
           "[2026-10-02T00:00:00.000000Z,max]");
    ORDERS("SELECT * FROM curated.orders WHERE NOT (ordered_at < '2026-10-02' AND status = 'x')",
           "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at <> '2026-10-02'", "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at NOT IN ('2026-10-02')", "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at IS NOT NULL", "all");
}

TEST(what_says_nothing)
{
    /* a function of the column, another column, a column on both sides */
    ORDERS("SELECT * FROM curated.orders WHERE date_trunc('day', ordered_at) = '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.orders WHERE _ingested_at >= '2026-10-05'", "all");
    ORDERS("SELECT * FROM curated.orders o WHERE o.ordered_at > o._ingested_at", "all");
    /* constants that are not certain: now(), NULL, nanoseconds, a bad cast */
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at <= now()", "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at = NULL", "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at < TIMESTAMP_NS '2026-10-05 00:00:00.0000005'",
           "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at > 'yesterday-ish'", "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at > (SELECT max(ordered_at) FROM "
           "curated.orders)",
           "all");
    /* no WHERE */
    ORDERS("SELECT count(*) FROM curated.orders", "all");
}

TEST(names_and_scopes)
{
    const char *want = "[2026-10-05T00:00:00.000000Z,max]";

    ORDERS("SELECT * FROM curated.orders o WHERE o.ordered_at >= '2026-10-05'", want);
    ORDERS("SELECT * FROM curated.orders WHERE orders.ordered_at >= '2026-10-05'", want);
    ORDERS("SELECT * FROM curated.orders WHERE curated.orders.ordered_at >= '2026-10-05'", want);
    ORDERS("SELECT * FROM CURATED.Orders WHERE ORDERED_AT >= '2026-10-05'", want);
    ORDERS("FROM curated.orders SELECT order_id WHERE ordered_at >= '2026-10-05'", want);
    /* with an alias the table's own name is not a binding here */
    ORDERS("SELECT * FROM curated.orders o WHERE orders.ordered_at >= '2026-10-05'", "all");
    /* a join: qualified names bound; an unqualified one may be either's */
    ORDERS("SELECT * FROM curated.orders o JOIN curated.days d ON true "
           "WHERE o.ordered_at >= '2026-10-05'",
           want);
    ORDERS("SELECT * FROM curated.orders o JOIN curated.days d ON true "
           "WHERE ordered_at >= '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.days d LEFT JOIN curated.orders o ON true "
           "WHERE o.ordered_at >= '2026-10-05'",
           want);
    /* the same table twice: the union, or all if one reference is free */
    ORDERS("SELECT * FROM curated.orders a, curated.orders b WHERE a.ordered_at >= '2026-10-05' "
           "AND b.ordered_at < '2026-10-02'",
           "[min,2026-10-01T23:59:59.999999Z] [2026-10-05T00:00:00.000000Z,max]");
    ORDERS("SELECT * FROM curated.orders a, curated.orders b WHERE a.ordered_at >= '2026-10-05'",
           "all");
    /* a subquery is a SELECT of its own; its outer WHERE does not reach in */
    ORDERS("SELECT * FROM (SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05') t",
           want);
    ORDERS("SELECT * FROM (SELECT * FROM curated.orders) t WHERE ordered_at >= '2026-10-05'",
           "all");
    ORDERS("WITH r AS (SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05') "
           "SELECT * FROM r UNION ALL SELECT * FROM r",
           want);
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05' UNION ALL "
           "SELECT * FROM curated.orders WHERE ordered_at < '2026-10-02'",
           "[min,2026-10-01T23:59:59.999999Z] [2026-10-05T00:00:00.000000Z,max]");
    /* a correlated subquery's own reference */
    ORDERS("SELECT * FROM curated.days d WHERE EXISTS (SELECT 1 FROM curated.orders o "
           "WHERE o.ordered_at >= '2026-10-05' AND o.order_id = d.id)",
           want);
    /* a table not named is not read */
    ORDERS("SELECT 1", "-");
    ORDERS("SELECT * FROM quarantine.orders", "-");
    ORDERS("WITH orders AS (SELECT 1) SELECT * FROM orders", "-");
}

TEST(joins_and_clauses_that_give_up)
{
    ORDERS("SELECT * FROM curated.days d ASOF JOIN curated.orders o ON d.d >= o.ordered_at "
           "WHERE o.ordered_at >= '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.days d POSITIONAL JOIN curated.orders o "
           "WHERE o.ordered_at >= '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.days d SEMI JOIN curated.orders o ON true "
           "WHERE o.ordered_at >= '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05' USING SAMPLE 10",
           "all");
    ORDERS("SELECT * FROM curated.orders TABLESAMPLE 10% WHERE ordered_at >= '2026-10-05'",
           "all");
    ORDERS("SELECT * FROM curated.orders o(a, b) WHERE o.ordered_at >= '2026-10-05'", "all");
}

TEST(queries_that_are_not_analysed)
{
    ORDERS("SELECT * FROM query_table('curated.orders')", "all");
    CHECK_HAS(got[0].why, "query_table");
    ORDERS("SELECT * FROM information_schema.columns", "all");
    ORDERS("SELECT * FROM duckdb_views", "all");
    ORDERS("SELECT * FROM range(3)", "-");
    ORDERS("CREATE TEMP TABLE t AS SELECT * FROM curated.orders WHERE ordered_at > '2026-10-05'",
           "all");
    CHECK_HAS(got[0].why, "not every statement is a SELECT");
    ORDERS("SELECT 1; SELECT * FROM curated.orders WHERE ordered_at > '2026-10-05'",
           "[2026-10-05T00:00:00.000001Z,max]");
    CHECK_INT(analyse("SELEC 1"), SL_ERR_INPUT);
}

TEST(date_columns)
{
    /* a string is cast to DATE (a time of day is dropped by DuckDB) */
    DAYS("SELECT * FROM curated.days WHERE d >= '2026-10-05 10:00'",
         "[2026-10-05T00:00:00.000000Z,max]");
    DAYS("SELECT * FROM curated.days WHERE d > '2026-10-05'",
         "[2026-10-05T00:00:00.000001Z,max]");
    /* a timestamp compares with the date's midnight */
    DAYS("SELECT * FROM curated.days WHERE d >= TIMESTAMP '2026-10-05 10:00'",
         "[2026-10-05T10:00:00.000000Z,max]");
    DAYS("SELECT * FROM curated.days WHERE d = DATE '2026-10-05'",
         "[2026-10-05T00:00:00.000000Z,2026-10-05T00:00:00.000000Z]");
    DAYS("SELECT * FROM curated.days WHERE d = 20261005", "all");
}
