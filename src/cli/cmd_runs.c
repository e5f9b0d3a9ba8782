/*
 * cmd_runs.c - sluice runs [--source S] [--limit N] | publish RUN | discard RUN.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "commit/commit.h"
#include "core/num.h"
#include "core/time.h"
#include "transform/transform.h"
#include "core/banned.h"

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
        {NULL, 0, NULL, 0},
    };
    struct list_args a = {NULL, 20, 0};
    int opt, rc;

    if (argc > 1 && (strcmp(argv[1], "publish") == 0 || strcmp(argv[1], "discard") == 0))
        return decide(cl, strcmp(argv[1], "publish") == 0, argc, argv);
    optind = 0;
    while ((opt = getopt_long(argc, argv, "s:n:", opts, NULL)) != -1) {
        if (opt == 's')
            a.source = optarg;
        else if (opt == 'n' && sl_parse_i64(optarg, strlen(optarg), &a.limit) == 0 &&
                 a.limit >= 0)
            continue;
        else
            return cli_usage("runs", opt == 'n' ? "--limit takes a number" : "unknown option");
    }
    if (optind < argc)
        return cli_usage("runs", "unexpected argument '%s'", argv[optind]);
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
    "       sluice runs publish RUN\n"
    "       sluice runs discard RUN\n"
    "\n"
    "List the latest N (default 20; 0 for all) runs, newest first: landings with\n"
    "the objects and bytes they landed, transforms with their accounts - records\n"
    "in, written (of which replacing older rows), quarantined and duplicates\n"
    "dropped - and whether they balance.  A run committed with 'sluice transform\n"
    "--hold' shows as held: its outputs stay invisible until 'runs publish RUN'\n"
    "makes them visible, or 'runs discard RUN' deletes them and moves the\n"
    "source's bookmark back so that its input is transformed again.\n",
};
