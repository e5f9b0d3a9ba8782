/*
 * cmd_transform.c - sluice transform --source S [--rewind[=POINT]].
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/gate.h"
#include "core/mem.h"
#include "core/time.h"
#include "transform/transform.h"
#include "core/banned.h"

static void
report(void *arg, const struct transform_account *a)
{
    struct cli_gate *g = arg;
    struct cli *c = g->c;
    const struct run_record *r = &a->rec;
    char n1[32], n2[32], n3[32], n4[32], n5[32];
    int ndrift = 0;

    printf("run %lld  source %s -> curated.%s  %lld object%s  %.2fs\n", (long long)r->run_id,
           r->source, a->tables, (long long)r->objects, r->objects == 1 ? "" : "s",
           (double)(r->finished_at - r->started_at) / 1e6);
    printf("  records in   %12s\n", cli_num(r->records_in, n1));
    printf("  written      %12s   new keys %s, replacing %s older row%s\n",
           cli_num(r->written, n1), cli_num(r->inserted, n2), cli_num(r->replaced, n3),
           r->replaced == 1 ? "" : "s");
    if (r->quarantined)
        printf("  quarantined  %12s   reasons in quarantine.%s\n", cli_num(r->quarantined, n1),
               r->source);
    else
        printf("  quarantined  %12s\n", cli_num(r->quarantined, n1));
    printf("  duplicates   %12s   %s redelivered, %s superseded by later events\n",
           cli_num(r->duplicates, n1), cli_num(r->redelivered, n2),
           cli_num(r->duplicates - r->redelivered, n3));
    printf("  balance      %s = %s + %s + %s  %s\n", cli_num(r->records_in, n1),
           cli_num(r->written, n2), cli_num(r->quarantined, n3), cli_num(r->duplicates, n4),
           r->records_in == r->written + r->quarantined + r->duplicates ? "ok" : "BROKEN");
    printf("  files        +%lld -%lld, %s bytes written\n", (long long)r->files_added,
           (long long)r->files_removed, cli_num(r->bytes_written, n5));
    /* The run is committed: its drift is read back as recorded.  Failing
     * to read it is only a warning - the run stands. */
    struct sl_diag d;

    sl_diag_init(&d);
    if (cli_print_run_drift(c, r->run_id, &ndrift, &d) < 0) {
        char msg[600];

        sl_diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "warning: cannot read the schema drift of run %lld: %s\n",
                (long long)r->run_id, msg);
    }
    cli_gate_print(g, "  ");
    if (r->state != NULL && strcmp(r->state, "held") == 0)
        printf("  held         invisible until 'sluice publish %lld' (or 'sluice discard "
               "%lld'); 'sluice staged' lists held runs\n",
               (long long)r->run_id, (long long)r->run_id);
}

/* transform_opts.gate */
static int
gate(void *arg, int64_t run_id, const char *tables, bool *publish, struct sl_diag *d)
{
    return cli_gate_decide(arg, run_id, "curated", tables, publish, d);
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"source", required_argument, NULL, 's'},
        {"rewind", optional_argument, NULL, 'r'},
        {"batch-bytes", required_argument, NULL, 'b'},
        {"wait", no_argument, NULL, 'w'},
        {"hold", no_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    struct transform_opts o = {0};
    struct cli_gate g = {.c = c};
    const char *source = NULL;
    const struct source *src;
    char *stage = NULL;
    int opt, rc, nruns = 0;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
        switch (opt) {
        case 's':
            source = optarg;
            break;
        case 'r':
            o.rewind = optarg ? optarg : "";
            break;
        case 'w':
            o.wait = true;
            break;
        case 'H':
            o.hold = true;
            break;
        case 'b': {
            int64_t v;

            if (sl_parse_bytes(optarg, &v) < 0 || v < 1)
                return cli_usage("transform", "--batch-bytes takes a size such as 256MiB");
            o.batch_bytes = v;
            break;
        }
        default:
            return cli_usage("transform", "unknown option");
        }
    }
    if (source == NULL)
        return cli_usage("transform", "--source is required");
    if (optind < argc)
        return cli_usage("transform", "unexpected argument '%s'", argv[optind]);
    rc = cli_open(c);
    if (rc == 0)
        rc = project_source(c->project, source, &src, &c->diag);
    if (rc == 0) {
        char *prefix = sl_printf("curated.%s", source);

        /* A source whose tables have rulesets is gated: each run is held
         * until its gate has passed it. */
        if (cli_gate_wanted(c, prefix)) {
            g.stage = stage = sl_printf("transform of source %s", source);
            o.gate = gate;
            o.gate_arg = &g;
        }
        free(prefix);
        sl_buf_init(&g.report);
        rc = transform_run(c->project, c->store, c->catalog, src, &o, report, &g, &nruns,
                           &c->diag);
        sl_buf_release(&g.report);
        free(stage);
    }
    if (rc < 0)
        return cli_report(c, rc);
    if (g.verdict == QUALITY_HELD) {
        printf("held by its quality gate: run %lld waits for 'sluice publish %lld' or "
               "'sluice discard %lld'\n",
               (long long)g.run_id, (long long)g.run_id, (long long)g.run_id);
        return EXIT_FAIL;
    }
    if (nruns == 0)
        printf("nothing to do: source %s has no raw objects past its bookmark\n", source);
    return EXIT_OK;
}

const struct cli_command cli_transform_cmd = {
    "transform", run, "raw -> curated: validate, dedup, write Parquet",
    "usage: sluice transform --source S [--rewind[=POINT]] [--batch-bytes N] [--wait]\n"
    "                        [--hold]\n"
    "\n"
    "Process the raw objects of S that the bookmark has not passed: validate every\n"
    "record against the contract version its object was tagged with, coerce types,\n"
    "quarantine what fails (quarantine/S/, with object, position, field and reason),\n"
    "keep one row per key across the whole curated table (latest event time; ties\n"
    "to the later arrival), and write day-partitioned zstd Parquet to curated/S/.\n"
    "Each run commits atomically and prints its account, which balances:\n"
    "records in = written + quarantined + duplicates.  Nothing new: nothing done.\n"
    "Under the account, the run's schema drift: per field, the records that carry a\n"
    "field their contract version does not declare and those that lack a required\n"
    "one, with an example (also 'sluice runs --drift RUN').\n"
    "\n"
    "  --rewind[=POINT]  reprocess from POINT instead of the bookmark: nothing for the\n"
    "                    first object, an object id, or an ISO 8601 arrival time;\n"
    "                    dedup makes the reprocessing idempotent\n"
    "  --batch-bytes N   input per run (default 512MiB); a longer backlog is done in\n"
    "                    several runs, each committed on its own\n"
    "  --wait            if another transform of S is running (on any node sharing\n"
    "                    the catalog), wait for it instead of failing at once\n"
    "  --hold            commit the run as held: its output stays invisible until\n"
    "                    'sluice publish RUN' (or 'sluice discard RUN'); later\n"
    "                    transforms of S wait for that decision\n"
    "\n"
    "Quality gate.  When the project has a ruleset for a table of S\n"
    "(quality/curated.S.dqdl, in AWS Glue's DQDL; see 'sluice check'), each run is\n"
    "committed held and its rules are evaluated over the table as the run would\n"
    "leave it.  Every rule passed: the run is published.  A rule failed in a ruleset\n"
    "whose header says '# severity: warn': published, and an alert is raised.  A\n"
    "blocking rule failed or could not run: the run stays held, an alert is raised\n"
    "(the log, /metrics, the webhooks of alerts.webhooks), the transform stops\n"
    "there and exits 1; 'sluice staged' shows the failed rules.\n",
};
