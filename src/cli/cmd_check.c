/*
 * cmd_check.c - sluice check TABLE|FILE [--ruleset FILE] [--format table|json]:
 * a DQDL ruleset evaluated on demand over a table of the lake, or over a
 * Parquet or CSV file before it lands.
 *
 * A table is curated.<name>, gold.<name>, or a bare name (curated first,
 * then gold); its ruleset is quality/<schema>.<name>.dqdl unless --ruleset
 * names another.  A file needs --ruleset, and no project.  The rules are
 * evaluated by quality/eval.c in one query per where filter; each one's
 * outcome is printed in ruleset order, and the exit status is 1 if any rule
 * failed or could not run (0 for a ruleset whose header says
 * "# severity: warn": it reports, it does not gate).
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog/quality.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "engine/engine.h"
#include "models/build.h"
#include "quality/dqdl.h"
#include "quality/check.h"
#include "quality/eval.h"
#include "table/table.h"
#include "core/time.h"
#include "project/contract.h"
#include "project/project.h"
#include "transform/transform.h"
#include "core/banned.h"

/* A ruleset file's size at most. */
#define MAX_RULESET ((size_t)1 << 20)

/* quality_views_fn: the lake's current curated and gold views. */
static int
lake_views(void *arg, struct engine *e, struct sl_diag *d)
{
    struct cli *c = arg;
    int rc = c->project == NULL ? cli_open(c) : 0;

    if (rc == 0)
        rc = transform_views(e, c->catalog, c->store, NULL, d);
    if (rc == 0)
        rc = models_views(e, c->catalog, c->store, d);
    return rc;
}

/*
 * The key of curated.<source> (contract major 1) or curated.<source>_vN
 * (major N), from the source's latest contract of that major, into out (at
 * most CONTRACT_MAX_KEY names, the project's strings); 0 if the table is
 * no curated table of a source the project has.  The transform keeps one
 * row per key and every key column is required, so the evaluator can skip
 * counting the key's values.
 */
size_t
cli_curated_key(struct cli *c, const char *table, const char **out)
{
    const char *name = table + strlen("curated."), *v = strrchr(name, '_');
    const struct source *src = NULL;
    const struct contract *ct = NULL;
    struct sl_diag quiet;
    char source[256];
    long major = 1;
    char *end = NULL;

    if (strncmp(table, "curated.", 8) != 0 || c->project == NULL)
        return 0;
    snprintf(source, sizeof(source), "%s", name);
    if (v != NULL && v[1] == 'v' && v[2] >= '1' && v[2] <= '9') {
        long n = strtol(v + 2, &end, 10);

        if (*end == '\0' && n > 1 && (size_t)(v - name) < sizeof(source)) {
            major = n;
            source[v - name] = '\0';
        }
    }
    sl_diag_init(&quiet);
    if (project_source(c->project, source, &src, &quiet) < 0)
        return 0;
    for (size_t i = 0; i < src->nversions; i++)
        if (src->versions[i].major == major)
            ct = &src->versions[i];
    if (ct == NULL)
        return 0;
    for (size_t i = 0; i < ct->nkey; i++)
        out[i] = ct->columns[ct->key[i]].name;
    return ct->nkey;
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"ruleset", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"data", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    struct quality_check k = {.views = lake_views, .views_arg = c, .run_id = -1};
    struct sl_strlist data = {0};
    const char *ruleset = NULL, *target;
    char *rs_path = NULL;
    bool json = false;
    struct engine_opts eo = {.threads = 0, .connections = 1};
    struct dq_ruleset rs = {0};
    struct dq_report rep = {0};
    struct sl_buf text;
    int opt, rc = 0, status = EXIT_OK;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "r:f:d:", opts, NULL)) != -1) {
        if (opt == 'r') {
            ruleset = optarg;
        } else if (opt == 'd') {
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                return cli_usage("check", "--data is NAME=TABLE or NAME=FILE, not '%s'", optarg);
            sl_strlist_add(&data, optarg);
        } else if (opt == 'f') {
            if (strcmp(optarg, "json") == 0)
                json = true;
            else if (strcmp(optarg, "table") != 0)
                return cli_usage("check", "--format is table or json");
        } else {
            return cli_usage("check", "unknown option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage("check", "expected one table or file: sluice check curated.orders");
    target = argv[optind];
    if (quality_is_file(target) && ruleset == NULL)
        return cli_usage("check", "a file needs --ruleset: sluice check %s --ruleset "
                                  "quality/orders.dqdl", target);
    sl_buf_init(&text);
    /* A table needs the project; a file does not, but takes its engine
     * settings when there is one. */
    rc = cli_open(c);
    if (rc < 0 && quality_is_file(target)) {
        sl_diag_init(&c->diag);
        rc = 0;
    }
    if (rc == 0 && c->project != NULL) {
        eo.threads = c->project->config.engine.threads;
        eo.memory_limit = c->project->config.engine.memory_limit;
        k.cat = c->catalog;
        k.store = c->store;
    }
    if (rc == 0)
        rc = engine_open(&eo, &k.e, &c->diag);
    if (rc == 0)
        rc = quality_check_target(&k, target, &c->diag);
    if (rc == 0)
        rs_path = ruleset ? sl_strdup(ruleset)
                          : sl_printf("%s/quality/%s.dqdl", c->project->root, k.name);
    if (rc == 0)
        rc = sl_read_file(rs_path, MAX_RULESET, &text, &c->diag);
    if (rc == 0)
        rc = dq_parse(rs_path, text.data ? text.data : "", text.len, &rs, &c->diag);
    if (rc == 0)
        rc = quality_check_bind_declared(&k, &rs, &c->diag);
    for (size_t i = 0; rc == 0 && i < data.n; i++) {
        char *alias = sl_strndup(data.v[i], (size_t)(strchr(data.v[i], '=') - data.v[i]));

        rc = quality_check_bind(&k, alias, strchr(data.v[i], '=') + 1, &c->diag);
        free(alias);
    }
    if (rc == 0) {
        const char *key[CONTRACT_MAX_KEY];
        size_t nkey = k.is_table ? cli_curated_key(c, k.name, key) : 0;

        rc = quality_check_run(&k, &rs, key, nkey, &rep, &c->diag);
    }
    if (rc == 0) {
        struct sl_buf out;

        sl_buf_init(&out);
        for (size_t i = 0; i < rep.n; i++) {
            sl_buf_reset(&out);
            if (json) {
                quality_result_json(&out, &rep.results[i]);
                sl_buf_addc(&out, '\n');
            } else {
                quality_result_text(&out, &rep.results[i], 0);
            }
            fputs(out.data, stdout);
        }
        sl_buf_release(&out);
        if (!json)
            printf("%s: %zu passed, %zu failed, %zu could not run%s\n", k.name, rep.passed,
                   rep.failed, rep.errors, rs.severity == DQ_WARN ? " (severity: warn)" : "");
        if ((rep.failed || rep.errors) && rs.severity == DQ_BLOCK)
            status = EXIT_FAIL;
    }
    dq_report_free(&rep);
    dq_free(&rs);
    engine_close(k.e);
    quality_check_release(&k);
    sl_strlist_release(&data);
    sl_buf_release(&text);
    free(rs_path);
    if (rc < 0)
        return cli_report(c, rc);
    return status;
}

const struct cli_command cli_check_cmd = {
    "check", run, "evaluate a DQDL ruleset: sluice check curated.orders",
    "usage: sluice check TABLE|FILE [--ruleset FILE] [--data NAME=TABLE|FILE]...\n"
    "                    [--format table|json]\n"
    "\n"
    "Evaluate a data-quality ruleset, written in AWS Glue's DQDL, over a table of\n"
    "the lake (curated.<name>, gold.<name>, or a bare name: curated first) or\n"
    "over a Parquet or CSV file, to try a ruleset before the data lands.  A table's\n"
    "ruleset is quality/<schema>.<name>.dqdl in the project unless --ruleset names\n"
    "one; a file needs --ruleset.  Every rule's outcome is printed in the\n"
    "ruleset's order: passed, failed (with the value observed), or error (the rule\n"
    "cannot run: an unknown column, a where clause the engine refuses).  With\n"
    "--format json, one JSON object per rule: {\"rule\", \"outcome\", \"metric\",\n"
    "\"reason\"}, a composite rule's parts in \"rules\".\n"
    "\n"
    "Rules over other data sets (RowCountMatch, ReferentialIntegrity, DatasetMatch,\n"
    "SchemaMatch, AggregateMatch) name them by an alias: the ruleset's DataSources\n"
    "binds them (\"AdditionalDataSources\": [\"customers\"] binds customers to the\n"
    "table customers; \"ref\": \"gold.customer_360\" binds ref), and --data\n"
    "NAME=TABLE|FILE binds or rebinds one.\n"
    "\n"
    "The exit status is 1 if any rule failed or could not run, unless the\n"
    "ruleset's header says \"# severity: warn\".  src/quality/README.md lists\n"
    "the rule types evaluated so far and how each metric is defined.\n",
};
