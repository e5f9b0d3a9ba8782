/*
 * cmd_quality.c - sluice quality history TABLE [--rule RULE]: what the
 * quality rules of a table observed, check after check.
 *
 * Every `sluice check` of a table records each rule's outcome and value in
 * the catalog (catalog/quality.h).  Without --rule, one line per rule: how
 * many evaluations, how many passed, the last outcome and value, and a
 * sparkline of its last values, so a drift shows at a glance.  With --rule
 * (the rule's text as written), every evaluation of that rule.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/quality.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/banned.h"

/* Values a sparkline shows at most. */
#define SPARK 20

struct rule_history {
    char *rule;
    size_t n, passed;
    char last_outcome[8];
    bool has_last;
    double last;
    double spark[SPARK];        /* the last values, oldest first, in a ring */
    size_t nspark;
};

struct history {
    const char *table;
    const char *rule;           /* --rule, or NULL */
    struct rule_history *v;
    size_t n, cap;
    size_t rows;
};

static int
each(void *arg, const struct quality_record *r)
{
    struct history *h = arg;
    struct rule_history *rh = NULL;

    h->rows++;
    if (h->rule != NULL) {
        char at[32], metric[40] = "-";

        sl_format_timestamp(r->evaluated_at, at);
        if (r->has_metric)
            snprintf(metric, sizeof(metric), "%.10g", r->metric);
        printf("%-27s  %-6s  %14s  %s\n", at, r->outcome, metric, r->reason);
        return 0;
    }
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->v[i].rule, r->rule) == 0)
            rh = &h->v[i];
    if (rh == NULL) {
        SL_GROW(h->v, h->cap, h->n + 1);
        rh = &h->v[h->n++];
        memset(rh, 0, sizeof(*rh));
        rh->rule = sl_strdup(r->rule);
    }
    rh->n++;
    rh->passed += strcmp(r->outcome, "passed") == 0;
    snprintf(rh->last_outcome, sizeof(rh->last_outcome), "%s", r->outcome);
    rh->has_last = r->has_metric;
    rh->last = r->metric;
    if (r->has_metric) {
        if (rh->nspark == SPARK)
            memmove(rh->spark, rh->spark + 1, (SPARK - 1) * sizeof(double));
        else
            rh->nspark++;
        rh->spark[rh->nspark - 1] = r->metric;
    }
    return 0;
}

static int
list(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct history *h = arg;

    return catalog_quality_list(txn, h->table, h->rule, each, h, d);
}

/* The values as bars ▁..█, scaled between their least and greatest. */
static void
sparkline(const struct rule_history *rh, char *out, size_t size)
{
    static const char *const bars[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
    double lo = INFINITY, hi = -INFINITY;
    size_t k = 0;

    out[0] = '\0';
    for (size_t i = 0; i < rh->nspark; i++) {
        lo = fmin(lo, rh->spark[i]);
        hi = fmax(hi, rh->spark[i]);
    }
    /* Values equal but for the last digits of a sum's order are flat. */
    if (hi - lo <= 1e-9 * fmax(fabs(hi), 1))
        hi = lo;
    for (size_t i = 0; i < rh->nspark && k + 4 < size; i++) {
        int b = hi > lo ? (int)((rh->spark[i] - lo) / (hi - lo) * 7 + 0.5) : 3;

        k += (size_t)snprintf(out + k, size - k, "%s", bars[b]);
    }
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"rule", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct history h = {0};
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
        if (opt != 'r')
            return cli_usage("quality", "unknown option");
        h.rule = optarg;
    }
    if (optind + 2 != argc || strcmp(argv[optind], "history") != 0)
        return cli_usage("quality", "expected: sluice quality history TABLE [--rule RULE]");
    h.table = argv[optind + 1];
    if (strncmp(h.table, "curated.", 8) != 0 && strncmp(h.table, "gold.", 5) != 0)
        return cli_usage("quality", "a table is curated.<name> or gold.<name>, not '%s'",
                         h.table);
    rc = cli_open(c);
    if (rc == 0 && h.rule != NULL)
        printf("%-27s  %-6s  %14s  %s\n", "evaluated at", "outcome", "value", "reason");
    if (rc == 0)
        rc = cli_read(c, list, &h);
    if (rc == 0 && h.rows == 0)
        printf("no evaluations of %s%s%s recorded (sluice check %s records them)\n",
               h.rule ? "rule '" : "", h.rule ? h.rule : h.table, h.rule ? "' on " : "",
               h.table);
    if (rc == 0 && h.rule == NULL && h.n > 0) {
        printf("%-6s  %5s  %5s  %14s  %-*s  %s\n", "last", "evals", "pass", "last value",
               SPARK, "recent values", "rule");
        for (size_t i = 0; i < h.n; i++) {
            char spark[SPARK * 4 + 1], value[40] = "-";

            sparkline(&h.v[i], spark, sizeof(spark));
            if (h.v[i].has_last)
                snprintf(value, sizeof(value), "%.10g", h.v[i].last);
            printf("%-6s  %5zu  %5zu  %14s  %s%*s  %s\n", h.v[i].last_outcome, h.v[i].n,
                   h.v[i].passed, value, spark, (int)(SPARK - h.v[i].nspark), "",
                   h.v[i].rule);
        }
    }
    for (size_t i = 0; i < h.n; i++)
        free(h.v[i].rule);
    free(h.v);
    if (rc < 0)
        return cli_report(c, rc);
    return EXIT_OK;
}

const struct cli_command cli_quality_cmd = {
    "quality", run, "quality history of a table: sluice quality history curated.orders",
    "usage: sluice quality history TABLE [--rule RULE]\n"
    "\n"
    "What the quality rules of TABLE (curated.<name> or gold.<name>) observed, check\n"
    "after check: every `sluice check` of a table records each rule's outcome and\n"
    "value in the catalog.  One line per rule: its last outcome, how many times it\n"
    "was evaluated and passed, its last value and a sparkline of its last 20\n"
    "values.  --rule (the rule's text as written in the ruleset) lists every\n"
    "evaluation of that rule.  Dynamic thresholds (RowCount > avg(last(10)) * 0.8)\n"
    "read the same history.\n",
};
