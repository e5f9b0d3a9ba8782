/*
 * cmd_runs.c - sluice runs [--source S] [--limit N].
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/num.h"
#include "core/time.h"
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
    printf("%5lld  %-20s  %-9s  %-12s  %7lld  %12s  %12s  %10s  %11s  %10s  %s\n",
           (long long)r->run_id, when, r->kind, r->source, (long long)r->objects,
           cli_num(r->records_in, a), cli_num(r->written, b), cli_num(r->replaced, c),
           cli_num(r->quarantined, d), cli_num(r->duplicates, e),
           r->records_in == r->written + r->quarantined + r->duplicates ? "ok" : "BROKEN");
    return 0;
}

static int
run(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *source = NULL;
    int64_t limit = 20;
    int opt, rc, n = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "s:n:", opts, NULL)) != -1) {
        if (opt == 's')
            source = optarg;
        else if (opt == 'n' && sl_parse_i64(optarg, strlen(optarg), &limit) == 0 && limit >= 0)
            continue;
        else
            return cli_usage("runs", opt == 'n' ? "--limit takes a number" : "unknown option");
    }
    rc = cli_open(cl);
    if (rc == 0)
        rc = catalog_run_list(cl->catalog, source, limit, print_run, &n, &cl->diag);
    if (rc < 0)
        return cli_report(cl, rc);
    if (n == 0)
        printf("no runs yet\n");
    return EXIT_OK;
}

const struct cli_command cli_runs_cmd = {
    "runs", run, "the accounts of past runs",
    "usage: sluice runs [--source S] [--limit N]\n"
    "\n"
    "List the latest N (default 20; 0 for all) runs, newest first: landings with\n"
    "the objects and bytes they landed, transforms with their accounts - records\n"
    "in, written (of which replacing older rows), quarantined and duplicates\n"
    "dropped - and whether they balance.\n",
};
