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
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "engine/engine.h"
#include "models/build.h"
#include "quality/dqdl.h"
#include "quality/eval.h"
#include "transform/transform.h"
#include "core/banned.h"

/* A ruleset file's size at most. */
#define MAX_RULESET ((size_t)1 << 20)

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Whether target names a file rather than a table. */
static bool
is_file(const char *target)
{
    struct stat st;

    return strchr(target, '/') != NULL || ends_with(target, ".parquet") ||
           ends_with(target, ".csv") || stat(target, &st) == 0;
}

/* The relation that reads file path (a SQL string literal inside). */
static char *
file_relation(const char *path)
{
    struct sl_buf b;

    sl_buf_init(&b);
    sl_buf_adds(&b, ends_with(path, ".csv") ? "read_csv(" : "read_parquet(");
    sl_buf_add_sql_str(&b, path);
    sl_buf_adds(&b, ")");
    return sl_buf_detach(&b, NULL);
}

/* schema."name" of a table, if the engine has it. */
static char *
table_relation(struct engine *e, const char *schema, const char *name)
{
    struct engine_query_column *cols = NULL;
    struct sl_buf b;
    struct sl_diag d;
    size_t n = 0;
    char *q;

    sl_buf_init(&b);
    sl_buf_add_sql_ident(&b, schema);
    sl_buf_addc(&b, '.');
    sl_buf_add_sql_ident(&b, name);
    q = sl_printf("SELECT * FROM %s", b.data);
    sl_diag_init(&d);
    if (engine_describe(e, q, &cols, &n, &d) < 0) {
        free(q);
        sl_buf_release(&b);
        return NULL;
    }
    engine_query_columns_release(cols, n);
    free(q);
    return sl_buf_detach(&b, NULL);
}

static void
json_result(struct sl_buf *b, const struct dq_result *r)
{
    sl_buf_adds(b, "{\"rule\":");
    sl_buf_add_json_str(b, r->rule->text, strlen(r->rule->text));
    sl_buf_addf(b, ",\"outcome\":\"%s\",\"metric\":", dq_outcome_name(r->outcome));
    if (r->has_metric && isfinite(r->metric))
        sl_buf_addf(b, "%.17g", r->metric);
    else
        sl_buf_adds(b, "null");
    sl_buf_adds(b, ",\"reason\":");
    sl_buf_add_json_str(b, r->reason, strlen(r->reason));
    if (r->l != NULL) {
        sl_buf_adds(b, ",\"rules\":[");
        json_result(b, r->l);
        sl_buf_addc(b, ',');
        json_result(b, r->r);
        sl_buf_addc(b, ']');
    }
    sl_buf_addc(b, '}');
}

static void
print_result(const struct dq_result *r, int depth)
{
    char metric[64] = "";

    if (r->has_metric && isfinite(r->metric))
        snprintf(metric, sizeof(metric), "  [%.10g]", r->metric);
    printf("%*s%-7s %s%s%s%s\n", depth * 2, "", dq_outcome_name(r->outcome), r->rule->text,
           metric, r->reason[0] ? ": " : "", r->reason);
    if (r->l != NULL) {
        print_result(r->l, depth + 1);
        print_result(r->r, depth + 1);
    }
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"ruleset", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    const char *ruleset = NULL, *target;
    char *rs_path = NULL, *relation = NULL, *shown = NULL;
    bool json = false;
    struct engine *e = NULL;
    struct engine_opts eo = {.threads = 0, .connections = 1};
    struct dq_ruleset rs = {0};
    struct dq_report rep = {0};
    struct sl_buf text;
    int opt, rc = 0, status = EXIT_OK;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "r:f:", opts, NULL)) != -1) {
        if (opt == 'r') {
            ruleset = optarg;
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
    sl_buf_init(&text);

    if (is_file(target)) {
        if (ruleset == NULL)
            return cli_usage("check", "a file needs --ruleset: sluice check %s --ruleset "
                                      "quality/orders.dqdl", target);
        rs_path = sl_strdup(ruleset);
        relation = file_relation(target);
        shown = sl_strdup(target);
        rc = engine_open(&eo, &e, &c->diag);
    } else {
        const char *dot = strchr(target, '.');
        char schema[16] = "";
        const char *name = target;

        if (dot != NULL) {
            if ((size_t)(dot - target) >= sizeof(schema) ||
                (strncmp(target, "curated.", 8) != 0 && strncmp(target, "gold.", 5) != 0))
                return cli_usage("check", "a table is curated.<name>, gold.<name> or a bare "
                                          "name, not '%s'", target);
            memcpy(schema, target, (size_t)(dot - target));
            name = dot + 1;
        }
        rc = cli_open(c);
        if (rc == 0) {
            eo.threads = c->project->config.engine.threads;
            eo.memory_limit = c->project->config.engine.memory_limit;
            rc = engine_open(&eo, &e, &c->diag);
        }
        if (rc == 0)
            rc = transform_views(e, c->catalog, c->store, NULL, &c->diag);
        if (rc == 0)
            rc = models_views(e, c->catalog, c->store, &c->diag);
        if (rc == 0) {
            if (schema[0] == '\0' || strcmp(schema, "curated") == 0)
                relation = table_relation(e, "curated", name);
            if (relation != NULL)
                snprintf(schema, sizeof(schema), "curated");
            else if (schema[0] == '\0' || strcmp(schema, "gold") == 0)
                relation = table_relation(e, "gold", name);
            if (relation != NULL && schema[0] == '\0')
                snprintf(schema, sizeof(schema), "gold");
            if (relation == NULL)
                rc = sl_fail(&c->diag, SL_ERR_NOTFOUND, "no table %s in the lake%s", target,
                             dot ? "" : " (neither curated nor gold)");
        }
        if (rc == 0) {
            shown = sl_printf("%s.%s", schema, name);
            rs_path = ruleset ? sl_strdup(ruleset)
                              : sl_printf("%s/quality/%s.dqdl", c->project->root, shown);
        }
    }
    if (rc == 0)
        rc = sl_read_file(rs_path, MAX_RULESET, &text, &c->diag);
    if (rc == 0)
        rc = dq_parse(rs_path, text.data ? text.data : "", text.len, &rs, &c->diag);
    if (rc == 0) {
        struct dq_data data = {.e = e, .relation = relation, .name = shown};

        rc = dq_evaluate(&rs, &data, &rep, &c->diag);
    }
    if (rc == 0) {
        struct sl_buf out;

        sl_buf_init(&out);
        for (size_t i = 0; i < rep.n; i++) {
            if (json) {
                sl_buf_reset(&out);
                json_result(&out, &rep.results[i]);
                printf("%s\n", out.data);
            } else {
                print_result(&rep.results[i], 0);
            }
        }
        sl_buf_release(&out);
        if (!json)
            printf("%s: %zu passed, %zu failed, %zu could not run%s\n", shown, rep.passed,
                   rep.failed, rep.errors, rs.severity == DQ_WARN ? " (severity: warn)" : "");
        if ((rep.failed || rep.errors) && rs.severity == DQ_BLOCK)
            status = EXIT_FAIL;
    }
    dq_report_free(&rep);
    dq_free(&rs);
    engine_close(e);
    sl_buf_release(&text);
    free(rs_path);
    free(relation);
    free(shown);
    if (rc < 0)
        return cli_report(c, rc);
    return status;
}

const struct cli_command cli_check_cmd = {
    "check", run, "evaluate a DQDL ruleset: sluice check curated.orders",
    "usage: sluice check TABLE|FILE [--ruleset FILE] [--format table|json]\n"
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
    "The exit status is 1 if any rule failed or could not run, unless the\n"
    "ruleset's header says \"# severity: warn\".  src/quality/README.md lists\n"
    "the rule types evaluated so far and how each metric is defined.\n",
};
