/*
 * check.c - one evaluation of a ruleset over a data set (see check.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog/quality.h"
#include "core/mem.h"
#include "core/time.h"
#include "engine/engine.h"
#include "quality/check.h"
#include "table/table.h"
#include "core/banned.h"

/* A rule's past values (newest first), read before the evaluation. */
struct quality_past {
    const char *rule;
    double *v;
    size_t n;
};

#define HISTORY_MAX 1000

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool
quality_is_file(const char *target)
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

/* name as a data set: *relation and *shown are heap strings. */
static int
resolve(struct quality_check *k, const char *name, char **relation, char **shown,
        struct sl_diag *d)
{
    const char *dot = strchr(name, '.'), *base = name;
    char schema[16] = "";

    *relation = *shown = NULL;
    if (quality_is_file(name)) {
        *relation = file_relation(name);
        *shown = sl_strdup(name);
        return 0;
    }
    if (dot != NULL) {
        if ((size_t)(dot - name) >= sizeof(schema) ||
            (strncmp(name, "curated.", 8) != 0 && strncmp(name, "gold.", 5) != 0))
            return sl_fail(d, SL_ERR_INPUT, "a table is curated.<name>, gold.<name> or a "
                           "bare name, not '%s'", name);
        memcpy(schema, name, (size_t)(dot - name));
        base = dot + 1;
    }
    if (!k->views_made && k->views != NULL) {
        int rc = k->views(k->views_arg, k->e, d);

        if (rc < 0)
            return rc;
    }
    k->views_made = true;
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
        return sl_fail(d, SL_ERR_NOTFOUND, "no table %s in the lake%s", name,
                       dot ? "" : " (neither curated nor gold)");
    *shown = sl_printf("%s.%s", schema, base);
    return 0;
}

int
quality_check_target(struct quality_check *k, const char *target, struct sl_diag *d)
{
    free(k->relation);
    free(k->name);
    k->is_table = !quality_is_file(target);
    return resolve(k, target, &k->relation, &k->name, d);
}

int
quality_check_bind(struct quality_check *k, const char *alias, const char *name,
                   struct sl_diag *d)
{
    struct dq_source src;
    char *relation, *shown;
    int rc = resolve(k, name, &relation, &shown, d);

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

int
quality_check_bind_declared(struct quality_check *k, const struct dq_ruleset *rs,
                            struct sl_diag *d)
{
    for (size_t i = 0; i < rs->nsources; i++) {
        const struct dq_pair *p = &rs->sources[i];
        int rc = 0;

        if (strcasecmp(p->key, "Primary") == 0)
            continue;
        for (size_t j = 0; rc == 0 && j < p->nvalues; j++)
            rc = quality_check_bind(k,
                                    strcasecmp(p->key, "AdditionalDataSources") == 0
                                        ? p->values[j]
                                        : p->key,
                                    p->values[j], d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- history ------------------------------------------------------------------------- */

/* dq_history_fn: a leaf's past values, as read before the evaluation. */
static size_t
history(void *arg, const struct dq_rule *rule, double *out, size_t max)
{
    struct quality_check *k = arg;

    for (size_t i = 0; i < k->npast; i++)
        if (strcmp(k->past[i].rule, rule->text) == 0) {
            size_t n = k->past[i].n < max ? k->past[i].n : max;

            memcpy(out, k->past[i].v, n * sizeof(*out));
            return n;
        }
    return 0;
}

static int
read_past(struct quality_check *k, struct catalog_txn *txn, const struct dq_rule *r,
          struct sl_diag *d)
{
    struct quality_past p = {r->text, NULL, 0};
    int rc;

    if (r->kind != DQ_LEAF) {
        rc = read_past(k, txn, r->l, d);
        return rc < 0 ? rc : read_past(k, txn, r->r, d);
    }
    p.v = sl_calloc(HISTORY_MAX, sizeof(*p.v));
    rc = catalog_quality_values(txn, k->name, r->text, p.v, HISTORY_MAX, &p.n, d);
    SL_GROW(k->past, k->cappast, k->npast + 1);
    k->past[k->npast++] = p;
    return rc;
}

/* ---- profiles ------------------------------------------------------------------------ */

static bool
profiled(const struct quality_check *k, const char *column)
{
    for (size_t i = 0; i < k->nprofiles; i++)
        if (strcmp(k->profiles[i].column, column) == 0)
            return true;
    return false;
}

static void
add_profile(struct quality_check *k, const char *column)
{
    if (profiled(k, column))
        return;
    SL_GROW(k->profiles, k->capprofiles, k->nprofiles + 1);
    memset(&k->profiles[k->nprofiles], 0, sizeof(k->profiles[0]));
    k->profiles[k->nprofiles++].column = sl_strdup(column);
}

static void
drift_rules(struct quality_check *k, const struct dq_rule *r)
{
    if (r->kind != DQ_LEAF) {
        drift_rules(k, r->l);
        drift_rules(k, r->r);
    } else if (r->type == DQ_DISTRIBUTION_DRIFT && r->nparams == 1) {
        add_profile(k, r->params[0]);
    }
}

static bool
numeric_type(const char *t)
{
    static const char *const types[] = {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
        "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE",
    };

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return strncmp(t, "DECIMAL(", 8) == 0;
}

/* The columns to profile: those drift rules name; for a gate, every
 * numeric column but the key's and sluice's own (_raw_position ...). */
static void
plan_profiles(struct quality_check *k, const struct dq_ruleset *rs, const char *const *key,
              size_t nkey)
{
    for (size_t i = 0; i < rs->nrules; i++)
        drift_rules(k, rs->rules[i]);
    if (k->profile_all) {
        struct engine_query_column *cols = NULL;
        struct sl_diag quiet;
        size_t n = 0;
        char *q = sl_printf("SELECT * FROM %s", k->relation);

        sl_diag_init(&quiet);
        if (engine_describe(k->e, q, &cols, &n, &quiet) == 0)
            for (size_t i = 0; i < n; i++) {
                bool is_key = cols[i].name[0] == '_';

                for (size_t j = 0; j < nkey; j++)
                    is_key |= strcmp(cols[i].name, key[j]) == 0;
                if (!is_key && numeric_type(cols[i].type))
                    add_profile(k, cols[i].name);
            }
        engine_query_columns_release(cols, n);
        free(q);
    }
}

/* struct dq_data.drift */
static int
column_drift(void *arg, const char *column, double *psi)
{
    struct quality_check *k = arg;

    for (size_t i = 0; i < k->nprofiles; i++)
        if (strcmp(k->profiles[i].column, column) == 0) {
            if (!k->profiles[i].has_psi)
                return 0;
            *psi = k->profiles[i].psi;
            return 1;
        }
    return -1;
}

static int
read_baselines(struct quality_check *k, struct catalog_txn *txn, struct sl_diag *d)
{
    double (*past)[QUALITY_DECILES] = sl_calloc(QUALITY_DRIFT_RUNS, sizeof(*past));
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < k->nprofiles; i++) {
        struct quality_profile *p = &k->profiles[i];
        size_t n = 0;

        rc = catalog_profile_recent(txn, k->name, p->column, past, QUALITY_DRIFT_RUNS, &n, d);
        p->has_baseline = rc == 0 && n > 0;
        if (p->has_baseline)
            quality_baseline((const double (*)[QUALITY_DECILES])past, n, p->baseline);
    }
    free(past);
    return rc;
}

struct history_ctx {
    struct quality_check *k;
    const struct dq_ruleset *rs;
    const struct dq_report *rep;
    int64_t now_us;
    bool *named;                /* per profile: a rule names its column */
};

static int
read_history(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct history_ctx *h = arg;
    int rc = 0;

    for (size_t i = 0; i < h->k->npast; i++)
        free(h->k->past[i].v);
    h->k->npast = 0;
    for (size_t i = 0; rc == 0 && i < h->rs->nrules; i++)
        rc = read_past(h->k, txn, h->rs->rules[i], d);
    if (rc == 0)
        rc = read_baselines(h->k, txn, d);
    return rc;
}

static int
current_snapshot(void *arg, const struct table_snapshot *snap)
{
    if (snap->current)
        *(int64_t *)arg = snap->id;
    return 0;
}

/* Record res and its parts from *position on (pre-order). */
static int
record(struct history_ctx *h, struct catalog_txn *txn, const struct dq_result *res,
       int64_t *position, int64_t snapshot, struct sl_diag *d)
{
    struct quality_record q = {
        .table = h->k->name,
        .evaluated_at = h->now_us,
        .position = (*position)++,
        .rule = res->rule->text,
        .outcome = dq_outcome_name(res->outcome),
        .has_metric = res->has_metric && isfinite(res->metric),
        .metric = res->metric,
        .reason = res->reason,
        .run_id = h->k->run_id,
        .snapshot_id = snapshot,
    };
    int rc = catalog_quality_add(txn, &q, d);

    if (rc == 0 && res->l != NULL)
        rc = record(h, txn, res->l, position, snapshot, d);
    if (rc == 0 && res->l != NULL)
        rc = record(h, txn, res->r, position, snapshot, d);
    return rc;
}

static int
write_history(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct history_ctx *h = arg;
    int64_t snapshot = -1, position = 0;
    const char *dot = strchr(h->k->name, '.');
    char ns[16];
    struct sl_diag quiet;
    int rc = 0;

    snprintf(ns, sizeof(ns), "%.*s", (int)(dot - h->k->name), h->k->name);
    sl_diag_init(&quiet);
    table_snapshots(txn, h->k->store, ns, dot + 1, current_snapshot, &snapshot, &quiet);
    for (size_t i = 0; rc == 0 && i < h->rep->n; i++)
        rc = record(h, txn, &h->rep->results[i], &position, snapshot, d);
    for (size_t i = 0; rc == 0 && i < h->k->nprofiles; i++) {
        const struct quality_profile *p = &h->k->profiles[i];

        bool finite = p->values > 0;

        for (int j = 0; j < QUALITY_DECILES; j++)
            finite = finite && isfinite(p->deciles[j]);
        /* (a column of infinities has no bins to measure against) */
        if (finite)
            rc = catalog_profile_add(txn, h->k->name, p->column, h->now_us, h->k->run_id,
                                     p->values, p->deciles, d);
        if (rc == 0 && !h->named[i]) {
            /* a column no rule names: its drift, for the history */
            char *text = sl_printf("DistributionDrift \"%s\"", p->column);
            struct quality_record q = {
                .table = h->k->name,
                .evaluated_at = h->now_us,
                .position = position++,
                .rule = text,
                .outcome = "passed",
                .has_metric = p->has_psi,
                .metric = p->psi,
                .reason = p->has_psi ? "" : "no baseline yet: the column's first profile",
                .run_id = h->k->run_id,
                .snapshot_id = snapshot,
            };

            rc = catalog_quality_add(txn, &q, d);
            free(text);
        }
    }
    return rc;
}

int
quality_check_run(struct quality_check *k, const struct dq_ruleset *rs,
                  const char *const *key, size_t nkey, struct dq_report *rep, struct sl_diag *d)
{
    struct history_ctx h = {k, rs, rep, sl_now_usec(), NULL};
    bool lake = k->is_table && k->cat != NULL;
    int rc = 0;

    if (lake) {
        plan_profiles(k, rs, key, nkey);
        h.named = sl_calloc(k->nprofiles + 1, sizeof(*h.named));
        for (size_t i = 0; i < k->nprofiles; i++)
            h.named[i] = true;
        /* the columns profile_all added come after the rules' */
        {
            struct quality_check only = {0};

            for (size_t i = 0; i < rs->nrules; i++)
                drift_rules(&only, rs->rules[i]);
            for (size_t i = 0; i < k->nprofiles; i++)
                h.named[i] = profiled(&only, k->profiles[i].column);
            quality_check_release(&only);
        }
        rc = catalog_txn_run(k->cat, CATALOG_READ, read_history, &h, d);
    }
    if (rc == 0 && lake && k->nprofiles > 0) {
        struct sl_diag pd;

        /* A profile that cannot be taken fails the drift rules, not the
         * check (an unknown column is the rule's error to report). */
        sl_diag_init(&pd);
        if (quality_profile(k->e, k->relation, k->profiles, k->nprofiles, &pd) < 0) {
            for (size_t i = 0; i < k->nprofiles; i++)
                free((char *)k->profiles[i].column);
            k->nprofiles = 0;
        }
    }
    if (rc == 0) {
        struct dq_data data = {.e = k->e, .relation = k->relation, .name = k->name,
                               .sources = k->sources, .nsources = k->nsources,
                               .history = lake ? history : NULL, .history_arg = k,
                               .now_us = h.now_us,
                               .unique_key = nkey ? key : NULL, .nunique_key = nkey,
                               .drift = lake ? column_drift : NULL, .drift_arg = k};

        rc = dq_evaluate(rs, &data, rep, d);
    }
    if (rc == 0 && lake)
        rc = catalog_txn_run(k->cat, CATALOG_WRITE, write_history, &h, d);
    free(h.named);
    return rc;
}

void
quality_check_release(struct quality_check *k)
{
    for (size_t i = 0; i < k->nsources; i++) {
        free((char *)k->sources[i].alias);
        free((char *)k->sources[i].relation);
        free((char *)k->sources[i].name);
    }
    free(k->sources);
    for (size_t i = 0; i < k->npast; i++)
        free(k->past[i].v);
    free(k->past);
    for (size_t i = 0; i < k->nprofiles; i++)
        free((char *)k->profiles[i].column);
    free(k->profiles);
    k->profiles = NULL;
    k->nprofiles = k->capprofiles = 0;
    free(k->relation);
    free(k->name);
    k->sources = NULL;
    k->past = NULL;
    k->relation = k->name = NULL;
    k->nsources = k->npast = 0;
}

/* ---- printing ------------------------------------------------------------------------ */

void
quality_result_json(struct sl_buf *b, const struct dq_result *r)
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
        quality_result_json(b, r->l);
        sl_buf_addc(b, ',');
        quality_result_json(b, r->r);
        sl_buf_addc(b, ']');
    }
    sl_buf_addc(b, '}');
}

void
quality_result_text(struct sl_buf *b, const struct dq_result *r, int depth)
{
    char metric[64] = "";

    if (r->has_metric && isfinite(r->metric))
        snprintf(metric, sizeof(metric), "  [%.10g]", r->metric);
    sl_buf_addf(b, "%*s%-7s %s%s%s%s\n", depth * 2, "", dq_outcome_name(r->outcome),
                r->rule->text, metric, r->reason[0] ? ": " : "", r->reason);
    if (r->l != NULL) {
        quality_result_text(b, r->l, depth + 1);
        quality_result_text(b, r->r, depth + 1);
    }
}
