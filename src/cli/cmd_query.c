/*
 * cmd_query.c - sluice query "SQL" [--format F].
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/num.h"
#include "core/time.h"
#include "engine/engine.h"
#include "table/table.h"
#include "transform/transform.h"
#include "core/banned.h"

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"as-of", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    enum engine_format fmt = ENGINE_FORMAT_TABLE;
    struct engine *e = NULL;
    struct table_at at = {-1, -1};
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
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
    if (rc == 0)
        rc = transform_views(e, c->catalog, c->store,
                             at.snapshot_id >= 0 || at.as_of_ms >= 0 ? &at : NULL, &c->diag);
    if (rc == 0)
        rc = engine_print(e, argv[optind], fmt, stdout, &c->diag);
    engine_close(e);
    if (rc < 0)
        return cli_report(c, rc);
    return EXIT_OK;
}

const struct cli_command cli_query_cmd = {
    "query", run, "SQL over curated tables: sluice query \"SELECT ...\"",
    "usage: sluice query [--format table|csv|json|jsonl] [--as-of TIME|SNAPSHOT] \"SQL\"\n"
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
    "an unknown snapshot, is an error that gives the range.\n",
};
