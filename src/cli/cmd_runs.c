/*
 * cmd_runs.c - sluice runs [--source S] [--limit N] | --drift RUN | publish RUN |
 * discard RUN; and how schema drift is printed (cli_print_drift).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "commit/commit.h"
#include "core/num.h"
#include "catalog/drift.h"
#include "core/time.h"
#include "transform/transform.h"
#include "core/banned.h"

void
cli_print_drift(const struct cli_drift *x)
{
    char n1[32], n2[32], n3[32];

    printf("  drift: ");
    if (x->sample > 0)
        printf("%s of the first %s record%s", cli_num(x->records, n1), cli_num(x->sample, n2),
               x->sample == 1 ? "" : "s");
    else
        printf("%s record%s", cli_num(x->records, n1), x->records == 1 ? "" : "s");
    if (x->objects > 1)
        printf(" in %s objects", cli_num(x->objects, n3));
    if (x->missing)
        printf(" %s required '", x->records == 1 ? "lacks" : "lack");
    else
        printf(" %s '", x->records == 1 ? "carries" : "carry");
    /* The name as written, its control characters escaped. */
    for (const char *p = x->field; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            printf("\\x%02x", (unsigned char)*p);
        else
            putchar(*p);
    }
    putchar('\'');
    if (!x->missing)
        printf(" (not in contract %s %s)", x->source, x->version);
    if (x->position > 0) {
        printf(", e.g. %s %lld", x->line ? "line" : "record", x->position);
        if (x->object != NULL)
            printf(" of %s", x->object);
        if (x->example != NULL)
            printf(": %s", x->example);
    }
    putchar('\n');
}

static int
print_run(void *arg, const struct run_record *r)
{
    int *n = arg;
    char when[32], a[32], b[32], c[32], d[32], e[32];

    if ((*n)++ == 0)
        printf("%5s  %-20s  %-9s  %-12s  %7s  %12s  %12s  %10s  %11s  %10s  %s\n", "run",
               "finished", "kind", "source", "objects", "records in", "written", "replaced",
               "quarantined", "duplicates", "balance");
    sl_format_timestamp(r->finished_at, when);
    when[19] = 'Z';
    when[20] = '\0';
    if (strcmp(r->kind, "ingest") == 0) {
        printf("%5lld  %-20s  %-9s  %-12s  %7lld  %12s  %12s  %10s  %11s  %10s  %s bytes\n",
               (long long)r->run_id, when, r->kind, r->source, (long long)r->objects, "-", "-",
               "-", "-", "-", cli_num(r->bytes_written, a));
        return 0;
    }
    printf("%5lld  %-20s  %-9s  %-12s  %7lld  %12s  %12s  %10s  %11s  %10s  %s%s%s\n",
           (long long)r->run_id, when, r->kind, r->source, (long long)r->objects,
           cli_num(r->records_in, a), cli_num(r->written, b), cli_num(r->replaced, c),
           cli_num(r->quarantined, d), cli_num(r->duplicates, e),
           r->records_in == r->written + r->quarantined + r->duplicates ? "ok" : "BROKEN",
           strcmp(r->state, "published") == 0 ? "" : ", ", 
           strcmp(r->state, "published") == 0 ? "" : r->state);
    return 0;
}

struct list_args {
    const char *source;
    int64_t limit;
    int n;
};

static int
list(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_args *a = arg;

    a->n = 0;
    return catalog_run_list(txn, a->source, a->limit, false, print_run, &a->n, d);
}

/* A catalog_drift as cli_print_drift() shows it. */
static int
print_drift(void *arg, const struct catalog_drift *r)
{
    struct cli_drift x = {
        .source = r->source,
        .version = r->contract_version,
        .field = r->field,
        .missing = strcmp(r->kind, "missing") == 0,
        .records = r->records,
        .objects = r->objects,
        .object = r->object_id,
        .line = transform_drift_line_based(r),
        .position = r->example_position,
        .example = r->example_text,
    };

    cli_print_drift(&x);
    (*(int *)arg)++;
    return 0;
}

int
cli_print_run_drift(struct cli *cl, int64_t run_id, int *n, struct sl_diag *d)
{
    *n = 0;
    return transform_run_drift(cl->catalog, run_id, print_drift, n, d);
}

struct drift_args {
    int64_t run_id;
    struct run_record rec;
    struct sl_arena a;
};

static int
get_run(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct drift_args *x = arg;

    sl_arena_reset(&x->a);
    return catalog_run_get(txn, x->run_id, &x->a, &x->rec, d);
}

/* sluice runs --drift RUN */
static int
show_drift(struct cli *cl, const char *arg)
{
    struct drift_args x = {0};
    int n = 0, rc;

    if (sl_parse_i64(arg, strlen(arg), &x.run_id) < 0 || x.run_id <= 0)
        return cli_usage("runs", "--drift takes a run id");
    sl_arena_init(&x.a, 0);
    rc = cli_open(cl);
    if (rc == 0)
        rc = cli_read(cl, get_run, &x);
    if (rc == 0) {
        printf("run %lld  %s  source %s\n", (long long)x.run_id, x.rec.kind, x.rec.source);
        rc = cli_print_run_drift(cl, x.run_id, &n, &cl->diag);
    }
    sl_arena_release(&x.a);
    if (rc < 0)
        return cli_report(cl, rc);
    if (n == 0)
        printf("  no schema drift recorded\n");
    return EXIT_OK;
}

/* sluice runs publish|discard RUN: sluice publish|discard RUN */
static int
decide(struct cli *cl, bool publish, int argc, char **argv)
{
    int64_t run_id;

    if (argc != 3 || sl_parse_i64(argv[2], strlen(argv[2]), &run_id) < 0 || run_id <= 0)
        return cli_usage("runs", "%s takes one run id", argv[1]);
    return cli_decide(cl, run_id, publish);
}

static int
run(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {"drift", required_argument, NULL, 'D'},
        {NULL, 0, NULL, 0},
    };
    struct list_args a = {NULL, 20, 0};
    const char *drift = NULL;
    int opt, rc;

    if (argc > 1 && (strcmp(argv[1], "publish") == 0 || strcmp(argv[1], "discard") == 0))
        return decide(cl, strcmp(argv[1], "publish") == 0, argc, argv);
    optind = 0;
    while ((opt = getopt_long(argc, argv, "s:n:", opts, NULL)) != -1) {
        if (opt == 's')
            a.source = optarg;
        else if (opt == 'D')
            drift = optarg;
        else if (opt == 'n' && sl_parse_i64(optarg, strlen(optarg), &a.limit) == 0 &&
                 a.limit >= 0)
            continue;
        else
            return cli_usage("runs", opt == 'n' ? "--limit takes a number" : "unknown option");
    }
    if (optind < argc)
        return cli_usage("runs", "unexpected argument '%s'", argv[optind]);
    if (drift != NULL)
        return show_drift(cl, drift);
    rc = cli_open(cl);
    if (rc == 0)
        rc = cli_read(cl, list, &a);
    if (rc < 0)
        return cli_report(cl, rc);
    if (a.n == 0)
        printf("no runs yet\n");
    return EXIT_OK;
}

const struct cli_command cli_runs_cmd = {
    "runs", run, "the accounts of past runs",
    "usage: sluice runs [--source S] [--limit N]\n"
    "       sluice runs --drift RUN\n"
    "       sluice runs publish RUN\n"
    "       sluice runs discard RUN\n"
    "\n"
    "List the latest N (default 20; 0 for all) runs, newest first: landings with\n"
    "the objects and bytes they landed, transforms with their accounts - records\n"
    "in, written (of which replacing older rows), quarantined and duplicates\n"
    "dropped - and whether they balance.  A run committed with 'sluice transform\n"
    "--hold' shows as held: its outputs stay invisible until 'runs publish RUN'\n"
    "makes them visible, or 'runs discard RUN' deletes them and moves the\n"
    "source's bookmark back so that its input is transformed again.\n"
    "\n"
    "  --drift RUN   the schema drift transform run RUN recorded: per field, the\n"
    "                records that carried a field their contract version does not\n"
    "                declare, or lacked a required one (those were quarantined),\n"
    "                summed over the run's objects, with one example each\n",
};
