/*
 * cmd_snapshots.c - sluice snapshots TABLE [--json]: a table's Iceberg
 * snapshots, oldest first.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/time.h"
#include "table/table.h"
#include "core/banned.h"

struct list_args {
    struct cli *cl;
    char ns[64];
    const char *name;
    bool json;
    int n;
};

static int
print_snapshot(void *arg, const struct table_snapshot *s)
{
    struct list_args *a = arg;
    char when[32];

    if (a->json) {
        printf("{\"snapshot_id\": %" PRId64 ", \"parent_id\": ", s->id);
        if (s->parent_id >= 0)
            printf("%" PRId64, s->parent_id);
        else
            printf("null");
        printf(", \"sequence_number\": %" PRId64 ", \"timestamp_ms\": %" PRId64
               ", \"current\": %s, \"summary\": %s}\n",
               s->sequence_number, s->timestamp_ms, s->current ? "true" : "false",
               s->summary_json);
        a->n++;
        return 0;
    }
    if (a->n++ == 0)
        printf("%-20s  %-24s  %4s  %-9s  %s\n", "snapshot", "committed", "seq", "operation",
               "summary");
    sl_format_timestamp(s->timestamp_ms * 1000, when);
    when[23] = 'Z';
    when[24] = '\0';
    printf("%-20" PRId64 "  %-24s  %4" PRId64 "  %-9s  %s%s\n", s->id, when,
           s->sequence_number, s->operation ? s->operation : "?", s->summary_json,
           s->current ? "  (current)" : "");
    return 0;
}

static int
list(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_args *a = arg;

    a->n = 0;
    return table_snapshots(txn, a->cl->store, a->ns, a->name, print_snapshot, a, d);
}

static int
run(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct list_args a = {.cl = cl};
    const char *dot;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
        if (opt == 'j')
            a.json = true;
        else
            return cli_usage("snapshots", "unknown option");
    }
    if (optind + 1 != argc)
        return cli_usage("snapshots", "name one table, such as curated.orders");
    dot = strchr(argv[optind], '.');
    if (dot == NULL || dot == argv[optind] || (size_t)(dot - argv[optind]) >= sizeof(a.ns) ||
        dot[1] == '\0')
        return cli_usage("snapshots", "'%s' is not NAMESPACE.TABLE (curated.orders)",
                         argv[optind]);
    memcpy(a.ns, argv[optind], (size_t)(dot - argv[optind]));
    a.name = dot + 1;
    rc = cli_open(cl);
    if (rc == 0)
        rc = cli_read(cl, list, &a);
    if (rc < 0)
        return cli_report(cl, rc);
    if (a.n == 0 && !a.json)
        printf("%s has no snapshot yet\n", argv[optind]);
    return EXIT_OK;
}

const struct cli_command cli_snapshots_cmd = {
    "snapshots", run, "a table's Iceberg snapshots",
    "usage: sluice snapshots TABLE [--json]\n"
    "\n"
    "List the snapshots of TABLE (curated.<source>), oldest first: id, commit\n"
    "time, sequence number, operation (append, overwrite, delete, replace) and\n"
    "the summary Iceberg records (files and records added, removed and in\n"
    "total).  --json prints one JSON object per snapshot.\n",
};
