/*
 * gate.c - the quality gates of the commands that write tables (sluice
 * transform, sluice build): the views a gate reads, and what it prints.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/drift.h"
#include "catalog/quality.h"
#include "cli/gate.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "models/build.h"
#include "transform/transform.h"
#include "core/banned.h"

/* quality_views_fn: the lake with what the gated run would publish. */
static int
held_views(void *arg, struct engine *e, struct sl_diag *d)
{
    struct cli_gate *g = arg;
    struct transform_view_opts o = {.held_run = g->run_id};
    int rc = transform_views(e, g->c->catalog, g->c->store, &o, d);

    if (rc == 0)
        rc = models_views(e, g->c->catalog, g->c->store, d);
    return rc;
}

static size_t
table_key(void *arg, const char *table, const char **out)
{
    return cli_curated_key(arg, table, out);
}

static int
count_one(void *arg, const struct quality_record *r)
{
    struct cli_gate *g = arg;

    g->evaluations++;
    g->failures += strcmp(r->outcome, "passed") != 0;
    return 0;
}

static int
count_evaluations(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct cli_gate *g = arg;

    g->evaluations = g->failures = 0;
    return catalog_quality_run(txn, g->run_id, count_one, g, d);
}

bool
cli_gate_wanted(struct cli *c, const char *prefix)
{
    char *dir = sl_printf("%s/quality", c->project->root);
    size_t n = strlen(prefix);
    DIR *dh = opendir(dir);
    struct dirent *de;
    bool yes = false;

    free(dir);
    while (dh != NULL && !yes && (de = readdir(dh)) != NULL) {
        const char *rest = de->d_name + n, *end = strrchr(de->d_name, '.');

        if (strncmp(de->d_name, prefix, n) != 0 || end == NULL || strcmp(end, ".dqdl") != 0)
            continue;
        /* the table itself, or a later major of it: <prefix>_vN */
        if (rest == end)
            yes = true;
        else if (rest[0] == '_' && rest[1] == 'v' && rest + 2 < end &&
                 strspn(rest + 2, "0123456789") == (size_t)(end - rest - 2))
            yes = true;
    }
    if (dh != NULL)
        closedir(dh);
    return yes;
}

struct drift_lines {
    struct sl_buf *b;
    int n;
};

static int
drift_line(void *arg, const struct catalog_drift *x)
{
    struct drift_lines *l = arg;

    if (strcmp(x->kind, "missing") == 0)
        sl_buf_addf(l->b, "%" PRId64 " record%s lack%s required '%s'\n", x->records,
                    x->records == 1 ? "" : "s", x->records == 1 ? "s" : "", x->field);
    else
        sl_buf_addf(l->b, "%" PRId64 " record%s carr%s '%s', which the contract does not "
                    "declare\n", x->records, x->records == 1 ? "" : "s",
                    x->records == 1 ? "ies" : "y", x->field);
    l->n++;
    return 0;
}

/* quality_gate.drift: a transform run's schema drift, as recorded. */
static int
run_drift(void *arg, int64_t run_id, struct sl_buf *lines, struct sl_diag *d)
{
    struct cli_gate *g = arg;
    struct drift_lines l = {lines, 0};
    int rc = transform_run_drift(g->c->catalog, run_id, drift_line, &l, d);

    return rc < 0 ? rc : l.n;
}

int
cli_gate_decide(struct cli_gate *g, int64_t run_id, const char *schema, const char *tables,
                bool *publish, struct sl_diag *d)
{
    struct cli *c = g->c;
    struct sl_strlist names = {0};
    struct quality_gate q = {
        .root = c->project->root,
        .cat = c->catalog,
        .store = c->store,
        .alerts = &c->project->config.alerts,
        .eo = {c->project->config.engine.threads, c->project->config.engine.memory_limit, NULL,
               1},
        .views = held_views,
        .views_arg = g,
        .key = table_key,
        .key_arg = c,
        .run_id = run_id,
        .stage = g->stage,
        .drift = run_drift,
        .drift_arg = g,
        .products = c->project->config.products,
        .nproducts = c->project->config.nproducts,
    };
    int rc;

    g->run_id = run_id;
    sl_buf_reset(&g->report);
    /*
     * A run is gated once: one its gate held waits for a person.  One
     * whose rules all passed but is still held (its process died before
     * the decision) is published now, on the evaluation recorded.
     */
    rc = cli_read(c, count_evaluations, g);
    if (rc < 0 || g->evaluations > 0) {
        *publish = rc == 0 && g->failures == 0;
        g->verdict = *publish ? QUALITY_PASSED : QUALITY_HELD;
        return rc;
    }
    for (const char *p = tables; *p != '\0';) {
        size_t len = strcspn(p, ",");
        char *name = sl_printf("%s.%.*s", schema, (int)len, p);

        sl_strlist_add(&names, name);
        free(name);
        p += len + (p[len] == ',');
    }
    rc = quality_gate_run(&q, (const char *const *)names.v, names.n, &g->verdict, &g->report,
                          d);
    *publish = rc == 0 && g->verdict != QUALITY_HELD;
    sl_strlist_release(&names);
    return rc;
}

void
cli_gate_print(struct cli_gate *g, const char *indent)
{
    const char *p = g->report.data;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "\n");

        printf("%s%.*s\n", indent, (int)len, p);
        p += len + (p[len] == '\n');
    }
    sl_buf_reset(&g->report);
}

/* ---- gold builds ------------------------------------------------------------------- */

struct build_gate {
    struct cli *c;
    struct catalog *cat;         /* the build worker's */
    int64_t run_id;
};

/* quality_views_fn: the lake now, with the held build's staged snapshot. */
static int
build_views(void *arg, struct engine *e, struct sl_diag *d)
{
    struct build_gate *g = arg;
    int rc = transform_views(e, g->cat, g->c->store, NULL, d);

    if (rc == 0)
        rc = models_views(e, g->cat, g->c->store, d);
    if (rc == 0)
        rc = models_held_view(e, g->cat, g->c->store, g->run_id, d);
    return rc;
}

bool
cli_gate_gold_wanted(void *arg, const char *table)
{
    struct cli *c = arg;

    return quality_gate_applies(c->project->root, table);
}

int
cli_gate_build(void *arg, struct catalog *cat, int64_t run_id, const char *table,
               bool *publish, char *report, size_t len, struct sl_diag *d)
{
    struct cli *c = arg;
    struct build_gate bg = {c, cat, run_id};
    char *stage = sl_printf("build of %s", table);
    struct quality_gate q = {
        .root = c->project->root,
        .cat = cat,
        .store = c->store,
        .alerts = &c->project->config.alerts,
        .eo = {c->project->config.engine.threads, c->project->config.engine.memory_limit, NULL,
               1},
        .views = build_views,
        .views_arg = &bg,
        .run_id = run_id,
        .stage = stage,
        .products = c->project->config.products,
        .nproducts = c->project->config.nproducts,
    };
    enum quality_verdict verdict;
    struct sl_buf out;
    int rc;

    sl_buf_init(&out);
    rc = quality_gate_run(&q, &table, 1, &verdict, &out, d);
    *publish = rc == 0 && verdict != QUALITY_HELD;
    snprintf(report, len, "%s", out.data ? out.data : "");
    sl_buf_release(&out);
    free(stage);
    return rc;
}
