/*
 * cmd_query.c - sluice query "SQL" [--format F] [--as-of T] [--explain]
 * [--no-prune].
 *
 * The views the query reads hold only the files its filters on each
 * table's event time can need (transform/views.c); --explain shows them
 * instead of running the query.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "models/build.h"
#include "core/num.h"
#include "core/span.h"
#include "core/time.h"
#include "engine/engine.h"
#include "table/table.h"
#include "transform/transform.h"
#include "core/banned.h"

/* One end of a span as text: a timestamp as ISO 8601 in UTC (fraction
 * only when there is one), a date column's as its day. */
static void
bound_text(bool is_date, int64_t usec, char *out, size_t size)
{
    char t[40];

    /* Outside years 1-9999 (DuckDB's infinities among them): the number. */
    if (usec < -62135596800LL * SL_USEC_PER_SEC || usec >= 253402300800LL * SL_USEC_PER_SEC) {
        snprintf(out, size, "%" PRId64 " microseconds from the epoch", usec);
        return;
    }
    if (is_date) {
        sl_format_date(sl_usec_to_day(usec), t);
        snprintf(out, size, "%s", t);
        return;
    }
    sl_format_timestamp(usec, t);
    if (usec % SL_USEC_PER_SEC == 0) {
        char *dot = strchr(t, '.');

        if (dot != NULL)
            snprintf(dot, sizeof(t) - (size_t)(dot - t), "Z");
    }
    snprintf(out, size, "%s", t);
}

/* The event times a span lets through, as a condition on col. */
static void
print_span(const char *col, bool is_date, struct sl_span sp)
{
    char lo[80], hi[80];
    const char *lo_op = ">=", *hi_op = "<=";
    bool has_lo = sp.lo != INT64_MIN, has_hi = sp.hi != INT64_MAX;

    if (is_date) {
        /* A date column holds midnights: the days the span covers. */
        if (has_lo)
            sp.lo = ((int64_t)sl_usec_to_day(sp.lo) + (sp.lo % SL_USEC_PER_DAY != 0)) *
                    SL_USEC_PER_DAY;
        if (has_hi)
            sp.hi = (int64_t)sl_usec_to_day(sp.hi) * SL_USEC_PER_DAY;
    } else {
        /* An end just past a whole second reads as "> that second", one
         * just below as "< that second". */
        if (has_lo && sp.lo % SL_USEC_PER_SEC != 0 && (sp.lo - 1) % SL_USEC_PER_SEC == 0) {
            sp.lo--;
            lo_op = ">";
        }
        if (has_hi && sp.hi % SL_USEC_PER_SEC != 0 && (sp.hi + 1) % SL_USEC_PER_SEC == 0) {
            sp.hi++;
            hi_op = "<";
        }
    }
    lo[0] = hi[0] = '\0';
    if (has_lo)
        bound_text(is_date, sp.lo, lo, sizeof(lo));
    if (has_hi)
        bound_text(is_date, sp.hi, hi, sizeof(hi));
    if (has_lo && has_hi && sp.lo == sp.hi && lo_op[1] == '=' && hi_op[1] == '=')
        printf("%s = %s", col, lo);
    else if (has_lo && has_hi)
        printf("%s %s %s AND %s %s %s", col, lo_op, lo, col, hi_op, hi);
    else if (has_lo)
        printf("%s %s %s", col, lo_op, lo);
    else if (has_hi)
        printf("%s %s %s", col, hi_op, hi);
    else
        printf("any %s", col);
}

/* --explain: one table's files in the view against those in the table. */
static void
explain_table(void *arg, const struct transform_view_files *v)
{
    int *n = arg;

    (*n)++;
    printf("curated.%s: data files %zu of %zu, delete files %zu of %zu\n", v->table, v->data,
           v->data_total, v->deletes, v->deletes_total);
    if (!v->pruned) {
        printf("  not pruned: %s\n", v->why != NULL ? v->why : "?");
        return;
    }
    printf("  pruned to: ");
    if (v->spans->n == 0)
        printf("no rows (the filters admit no %s)", v->column);
    for (size_t i = 0; i < v->spans->n; i++) {
        if (i)
            printf(" OR ");
        print_span(v->column, v->is_date, v->spans->v[i]);
    }
    printf("\n");
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"as-of", required_argument, NULL, 'a'},
        {"explain", no_argument, NULL, 'x'},
        {"no-prune", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    enum engine_format fmt = ENGINE_FORMAT_TABLE;
    struct engine *e = NULL;
    struct table_at at = {-1, -1};
    struct transform_view_opts vo = {.prune = true};
    int opt, rc, nexplained = 0;
    bool explain = false;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (opt == 'x') {
            explain = true;
            continue;
        }
        if (opt == 'n') {
            vo.prune = false;
            continue;
        }
        if (opt == 'a') {
            int64_t usec;

            /* A snapshot id is a number; a time is a timestamp. */
            if (sl_parse_i64(optarg, strlen(optarg), &at.snapshot_id) == 0 &&
                at.snapshot_id >= 0)
                continue;
            at.snapshot_id = -1;
            if (sl_parse_timestamp(optarg, strlen(optarg), &usec) < 0)
                return cli_usage("query", "--as-of takes a snapshot id or a time "
                                          "(2026-10-03T12:00:00Z), not '%s'", optarg);
            at.as_of_ms = usec / 1000;
            continue;
        }
        if (opt != 'f')
            return cli_usage("query", "unknown option");
        if (strcmp(optarg, "table") == 0)
            fmt = ENGINE_FORMAT_TABLE;
        else if (strcmp(optarg, "csv") == 0)
            fmt = ENGINE_FORMAT_CSV;
        else if (strcmp(optarg, "json") == 0)
            fmt = ENGINE_FORMAT_JSON;
        else if (strcmp(optarg, "jsonl") == 0)
            fmt = ENGINE_FORMAT_JSONL;
        else
            return cli_usage("query", "--format is table, csv, json or jsonl");
    }
    if (optind + 1 != argc)
        return cli_usage("query", "expected one SQL text: sluice query \"SELECT ...\"");
    rc = cli_open(c);
    if (rc == 0) {
        struct engine_opts o = {
            .threads = c->project->config.engine.threads,
            .memory_limit = c->project->config.engine.memory_limit,
            .connections = 1,
        };

        rc = engine_open(&o, &e, &c->diag);
    }
    vo.at = at.snapshot_id >= 0 || at.as_of_ms >= 0 ? &at : NULL;
    vo.sql = argv[optind];
    vo.list_only = explain;
    if (explain) {
        vo.report = explain_table;
        vo.arg = &nexplained;
    }
    if (rc == 0) {
        rc = transform_views(e, c->catalog, c->store, &vo, &c->diag);
        if (rc == SL_ERR_INPUT && !explain) {
            /* Not analysed (a syntax error): read everything and let the
             * engine say what is wrong with the query. */
            sl_diag_init(&c->diag);
            vo.prune = false;
            rc = transform_views(e, c->catalog, c->store, &vo, &c->diag);
        }
    }
    if (rc == 0)
        rc = models_views(e, c->catalog, c->store, &c->diag);
    if (rc == 0 && explain && nexplained == 0)
        printf("the query reads no curated table\n");
    if (rc == 0 && !explain)
        rc = engine_print(e, argv[optind], fmt, stdout, &c->diag);
    engine_close(e);
    if (rc < 0)
        return cli_report(c, rc);
    return EXIT_OK;
}

const struct cli_command cli_query_cmd = {
    "query", run, "SQL over curated and gold tables: sluice query \"SELECT ...\"",
    "usage: sluice query [--format table|csv|json|jsonl] [--as-of TIME|SNAPSHOT]\n"
    "                    [--explain] [--no-prune] \"SQL\"\n"
    "\n"
    "Run SQL (DuckDB's dialect) over the lake.  curated.<table> names each curated\n"
    "table (one per source; a source's contract major version N > 1 is\n"
    "curated.<source>_vN), and quarantine.<source> its rejected records with their\n"
    "reasons.  Several statements may be given; the last one's rows are printed: an\n"
    "aligned table by default, or CSV, a JSON array, or JSON lines.\n"
    "\n"
    "--as-of reads every curated table as it was at TIME (its last snapshot\n"
    "committed by then), or the one table SNAPSHOT belongs to at that snapshot\n"
    "(sluice snapshots lists them).  A time before a table's first snapshot, or\n"
    "an unknown snapshot, is an error that gives the range.\n"
    "\n"
    "A curated table is read only in the files that can hold rows the query's\n"
    "filters let through: comparisons (=, <, <=, >, >=, BETWEEN, IN, joined by AND\n"
    "or OR) of the table's event-time column with constants, in the WHERE of the\n"
    "SELECT whose FROM names the table.  Files are ruled out by their partition\n"
    "and by the column's bounds in the table's manifests; the rows are the same\n"
    "as without.  A table named anywhere else without such a filter, or a query\n"
    "this does not understand (not a SELECT, a table function, an ASOF or\n"
    "positional join, a sample), is read whole.  --no-prune reads every file.\n"
    "\n"
    "--explain does not run the query: for each curated table it may read it\n"
    "prints the data and delete files it would read against those in the table,\n"
    "and the event times the filters let through (or why the table is read\n"
    "whole).\n",
};
