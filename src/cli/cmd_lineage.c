/*
 * cmd_lineage.c - sluice lineage: where a table's rows came from
 * (models/lineage.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/num.h"
#include "models/lineage.h"
#include "core/banned.h"

static int
lineage(struct cli *cl, int argc, char **argv)
{
    static const struct option opts[] = {
        {"snapshot", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int64_t snapshot_id = -1;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 's' || sl_parse_i64(optarg, strlen(optarg), &snapshot_id) < 0 || snapshot_id < 0)
            return cli_usage("lineage", opt == 's' ? "--snapshot takes a snapshot id"
                                                   : "unknown option");
    }
    if (optind + 1 != argc)
        return cli_usage("lineage", "name one table, such as gold.customer_360");
    rc = cli_open(cl);
    if (rc == 0)
        rc = models_lineage(cl->catalog, cl->store, argv[optind], snapshot_id, stdout,
                            &cl->diag);
    return rc < 0 ? cli_report(cl, rc) : EXIT_OK;
}

const struct cli_command cli_lineage_cmd = {
    "lineage", lineage, "where a table's rows came from, down to raw objects",
    "usage: sluice lineage TABLE [--snapshot ID]\n"
    "\n"
    "Print where the rows of TABLE (gold.NAME or curated.NAME) at its current\n"
    "snapshot (or snapshot ID) came from: for a gold table the build that made\n"
    "the snapshot (run, model file checksum, sluice version) and, indented\n"
    "under it, every table that build read at the snapshot it read; for a\n"
    "curated table the transform run that made the snapshot and its source's\n"
    "raw objects.\n",
};
