/*
 * cmd_query.c - sluice query "SQL" [--format F].
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/engine.h"
#include "transform/transform.h"
#include "core/banned.h"

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    enum engine_format fmt = ENGINE_FORMAT_TABLE;
    struct engine *e = NULL;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
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
        rc = transform_views(e, c->catalog, c->store, &c->diag);
    if (rc == 0)
        rc = engine_print(e, argv[optind], fmt, stdout, &c->diag);
    engine_close(e);
    if (rc < 0)
        return cli_report(c, rc);
    return EXIT_OK;
}

const struct cli_command cli_query_cmd = {
    "query", run, "SQL over curated tables: sluice query \"SELECT ...\"",
    "usage: sluice query [--format table|csv|json|jsonl] \"SQL\"\n"
    "\n"
    "Run SQL (DuckDB's dialect) over the lake.  curated.<table> names each curated\n"
    "table (one per source; a source's contract major version N > 1 is\n"
    "curated.<source>_vN), and quarantine.<source> its rejected records with their\n"
    "reasons.  Several statements may be given; the last one's rows are printed: an\n"
    "aligned table by default, or CSV, a JSON array, or JSON lines.\n",
};
