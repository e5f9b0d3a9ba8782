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
#include "quality/eval.h"
#include "table/table.h"
#include "core/time.h"
#include "project/contract.h"
#include "project/project.h"
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

/* A rule's past values (newest first), read before the check. */
struct past {
    const char *rule;
    double *v;
    size_t n;
};

/* What one check needs open: the engine, and the lake's views once a
 * table is named. */
struct check {
    struct cli *c;
    struct engine *e;
    bool views;                 /* the lake's curated and gold views are made */
    struct dq_source *sources;
    size_t nsources, capsources;
    /* A table's check: its history, and what is recorded of this one. */
    const char *table;          /* schema.name; NULL for a file */
    struct past *past;
    size_t npast, cappast;
    const struct dq_ruleset *rs;
    const struct dq_report *rep;
    int64_t now_us;
};

#define HISTORY_MAX 1000

/*
 * name as a data set: a file (Parquet, CSV), or a table of the lake
 * (curated.<name>, gold.<name>, a bare name: curated first).  *relation
 * and *shown are heap strings.
 */
static int
resolve(struct check *k, const char *name, char **relation, char **shown)
{
    struct cli *c = k->c;
    const char *dot = strchr(name, '.'), *base = name;
    char schema[16] = "";
    int rc = 0;

    *relation = *shown = NULL;
    if (is_file(name)) {
        *relation = file_relation(name);
        *shown = sl_strdup(name);
        return 0;
    }
    if (dot != NULL) {
        if ((size_t)(dot - name) >= sizeof(schema) ||
            (strncmp(name, "curated.", 8) != 0 && strncmp(name, "gold.", 5) != 0))
            return sl_fail(&c->diag, SL_ERR_INPUT, "a table is curated.<name>, gold.<name> or a "
                           "bare name, not '%s'", name);
        memcpy(schema, name, (size_t)(dot - name));
        base = dot + 1;
    }
    if (!k->views) {
        if (c->project == NULL)
            rc = cli_open(c);
        if (rc == 0)
            rc = transform_views(k->e, c->catalog, c->store, NULL, &c->diag);
        if (rc == 0)
            rc = models_views(k->e, c->catalog, c->store, &c->diag);
        if (rc < 0)
            return rc;
        k->views = true;
    }
    if (schema[0] == '\0' || strcmp(schema, "curated") == 0) {
        *relation = table_relation(k->e, "curated", base);
        if (*relation != NULL)
            snprintf(schema, sizeof(schema), "curated");
    }
    if (*relation == NULL && (schema[0] == '\0' || strcmp(schema, "gold") == 0)) {
        *relation = table_relation(k->e, "gold", base);
        if (*relation != NULL)
            snprintf(schema, sizeof(schema), "gold");
    }
    if (*relation == NULL)
        return sl_fail(&c->diag, SL_ERR_NOTFOUND, "no table %s in the lake%s", name,
                       dot ? "" : " (neither curated nor gold)");
    *shown = sl_printf("%s.%s", schema, base);
    return 0;
}

/* Bind alias to the data set name (a later binding of an alias wins). */
static int
bind(struct check *k, const char *alias, const char *name)
{
    struct dq_source src;
    char *relation, *shown;
    int rc = resolve(k, name, &relation, &shown);

    if (rc < 0)
        return rc;
    for (size_t i = 0; i < k->nsources; i++)
        if (strcmp(k->sources[i].alias, alias) == 0) {
            free((char *)k->sources[i].relation);
            free((char *)k->sources[i].name);
            k->sources[i].relation = relation;
            k->sources[i].name = shown;
            return 0;
        }
    src = (struct dq_source){sl_strdup(alias), relation, shown};
    SL_GROW(k->sources, k->capsources, k->nsources + 1);
    k->sources[k->nsources++] = src;
    return 0;
}

/* The ruleset's DataSources: "AdditionalDataSources": [names] binds each
 * name to itself; "alias": "table" binds an alias ("Primary" is the
 * data set checked). */
static int
bind_declared(struct check *k, const struct dq_ruleset *rs)
{
    for (size_t i = 0; i < rs->nsources; i++) {
        const struct dq_pair *p = &rs->sources[i];
        int rc = 0;

        if (strcasecmp(p->key, "Primary") == 0)
            continue;
        for (size_t j = 0; rc == 0 && j < p->nvalues; j++)
            rc = bind(k, strcasecmp(p->key, "AdditionalDataSources") == 0 ? p->values[j]
                                                                             : p->key,
                      p->values[j]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * The key of curated.<source> (contract major 1) or curated.<source>_vN
 * (major N), from the source's latest contract of that major, into out (at
 * most CONTRACT_MAX_KEY names, the project's strings); 0 if the table is
 * no curated table of a source the project has.  The transform keeps one
 * row per key and every key column is required, so the evaluator can skip
 * counting the key's values.
 */
static size_t
curated_key(struct cli *c, const char *table, const char **out)
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

/* dq_history_fn: a leaf's past values, as read before the check. */
static size_t
history(void *arg, const struct dq_rule *rule, double *out, size_t max)
{
    struct check *k = arg;

    for (size_t i = 0; i < k->npast; i++)
        if (strcmp(k->past[i].rule, rule->text) == 0) {
            size_t n = k->past[i].n < max ? k->past[i].n : max;

            memcpy(out, k->past[i].v, n * sizeof(*out));
            return n;
        }
    return 0;
}

static int
read_past(struct check *k, struct catalog_txn *txn, const struct dq_rule *r, struct sl_diag *d)
{
    struct past p = {r->text, NULL, 0};
    int rc;

    if (r->kind != DQ_LEAF) {
        rc = read_past(k, txn, r->l, d);
        return rc < 0 ? rc : read_past(k, txn, r->r, d);
    }
    p.v = sl_calloc(HISTORY_MAX, sizeof(*p.v));
    rc = catalog_quality_values(txn, k->table, r->text, p.v, HISTORY_MAX, &p.n, d);
    SL_GROW(k->past, k->cappast, k->npast + 1);
    k->past[k->npast++] = p;
    return rc;
}

static int
read_history(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct check *k = arg;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < k->rs->nrules; i++)
        rc = read_past(k, txn, k->rs->rules[i], d);
    return rc;
}

struct current {
    int64_t id;
};

static int
current_snapshot(void *arg, const struct table_snapshot *snap)
{
    if (snap->current)
        ((struct current *)arg)->id = snap->id;
    return 0;
}

/* Record res and its parts from *position on (pre-order). */
static int
record(struct check *k, struct catalog_txn *txn, const struct dq_result *res, int64_t *position,
       int64_t snapshot, struct sl_diag *d)
{
    struct quality_record q = {
        .table = k->table,
        .evaluated_at = k->now_us,
        .position = (*position)++,
        .rule = res->rule->text,
        .outcome = dq_outcome_name(res->outcome),
        .has_metric = res->has_metric && isfinite(res->metric),
        .metric = res->metric,
        .reason = res->reason,
        .run_id = -1,
        .snapshot_id = snapshot,
    };
    int rc = catalog_quality_add(txn, &q, d);

    if (rc == 0 && res->l != NULL)
        rc = record(k, txn, res->l, position, snapshot, d);
    if (rc == 0 && res->l != NULL)
        rc = record(k, txn, res->r, position, snapshot, d);
    return rc;
}

static int
write_history(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct check *k = arg;
    struct current cur = {-1};
    int64_t position = 0;
    const char *dot = strchr(k->table, '.');
    char ns[16];
    struct sl_diag quiet;
    int rc = 0;

    snprintf(ns, sizeof(ns), "%.*s", (int)(dot - k->table), k->table);
    sl_diag_init(&quiet);
    table_snapshots(txn, k->c->store, ns, dot + 1, current_snapshot, &cur, &quiet);
    for (size_t i = 0; rc == 0 && i < k->rep->n; i++)
        rc = record(k, txn, &k->rep->results[i], &position, cur.id, d);
    return rc;
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
    struct check k = {.c = c};
    struct sl_strlist data = {0};
    const char *ruleset = NULL, *target;
    char *rs_path = NULL, *relation = NULL, *shown = NULL;
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
    if (is_file(target) && ruleset == NULL)
        return cli_usage("check", "a file needs --ruleset: sluice check %s --ruleset "
                                  "quality/orders.dqdl", target);
    sl_buf_init(&text);
    /* A table needs the project; a file does not, but takes its engine
     * settings when there is one. */
    rc = cli_open(c);
    if (rc < 0 && is_file(target)) {
        sl_diag_init(&c->diag);
        rc = 0;
    }
    if (rc == 0 && c->project != NULL) {
        eo.threads = c->project->config.engine.threads;
        eo.memory_limit = c->project->config.engine.memory_limit;
    }
    if (rc == 0)
        rc = engine_open(&eo, &k.e, &c->diag);
    if (rc == 0)
        rc = resolve(&k, target, &relation, &shown);
    if (rc == 0)
        rs_path = ruleset ? sl_strdup(ruleset)
                          : sl_printf("%s/quality/%s.dqdl", c->project->root, shown);
    if (rc == 0)
        rc = sl_read_file(rs_path, MAX_RULESET, &text, &c->diag);
    if (rc == 0)
        rc = dq_parse(rs_path, text.data ? text.data : "", text.len, &rs, &c->diag);
    if (rc == 0)
        rc = bind_declared(&k, &rs);
    for (size_t i = 0; rc == 0 && i < data.n; i++) {
        char *alias = sl_strndup(data.v[i], (size_t)(strchr(data.v[i], '=') - data.v[i]));

        rc = bind(&k, alias, strchr(data.v[i], '=') + 1);
        free(alias);
    }
    /* A table's rules read their history, and this check joins it. */
    k.now_us = sl_now_usec();
    k.rs = &rs;
    k.table = rc == 0 && !is_file(target) ? shown : NULL;
    if (rc == 0 && k.table != NULL)
        rc = cli_read(c, read_history, &k);
    if (rc == 0) {
        const char *key[CONTRACT_MAX_KEY];
        size_t nkey = k.table ? curated_key(c, k.table, key) : 0;
        struct dq_data d = {.e = k.e, .relation = relation, .name = shown,
                            .sources = k.sources, .nsources = k.nsources,
                            .history = history, .history_arg = &k, .now_us = k.now_us,
                            .unique_key = nkey ? key : NULL, .nunique_key = nkey};

        rc = dq_evaluate(&rs, &d, &rep, &c->diag);
    }
    k.rep = &rep;
    if (rc == 0 && k.table != NULL)
        rc = catalog_txn_run(c->catalog, CATALOG_WRITE, write_history, &k, &c->diag);
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
    engine_close(k.e);
    for (size_t i = 0; i < k.nsources; i++) {
        free((char *)k.sources[i].alias);
        free((char *)k.sources[i].relation);
        free((char *)k.sources[i].name);
    }
    free(k.sources);
    for (size_t i = 0; i < k.npast; i++)
        free(k.past[i].v);
    free(k.past);
    sl_strlist_release(&data);
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
