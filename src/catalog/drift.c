/*
 * drift.c - schema drift of transform runs (see drift.h).
 *
 * A run's rows are read in arrival order and sorted by kind and field
 * (stable by arrival), so the sum per (field, kind) is one walk that keeps
 * the first row of each group as the example.
 */
#include "catalog/drift.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/mem.h"
#include "core/banned.h"

int
catalog_drift_add(struct catalog_txn *txn, const struct catalog_drift *r, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record schema drift",
                     "INSERT INTO schema_drift (run_id, source, object_id, field, kind, records, "
                     "example_position, example_text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     NULL, NULL, "ittttiit", r->run_id, r->source, r->object_id, r->field,
                     r->kind, r->records, r->example_position, r->example_text);

    return rc < 0 ? rc : 0;
}

struct list_ctx {
    struct sl_arena a;
    struct catalog_drift *v;
    size_t n, cap;
};

static int
drift_row(void *arg, const struct catalog_row *row)
{
    struct list_ctx *c = arg;
    struct catalog_drift *x;

    SL_GROW(c->v, c->cap, c->n + 1);
    x = &c->v[c->n++];
    memset(x, 0, sizeof(*x));
    x->field = cat_strdup(row, 0, &c->a);
    x->kind = cat_strdup(row, 1, &c->a);
    x->records = cat_int(row, 2);
    x->object_id = cat_strdup(row, 3, &c->a);
    x->example_position = cat_int(row, 4);
    x->example_text = cat_strdup(row, 5, &c->a);
    x->run_id = cat_int(row, 6);
    x->source = cat_strdup(row, 7, &c->a);
    x->contract_version = cat_null(row, 8) ? "" : cat_strdup(row, 8, &c->a);
    x->format = cat_null(row, 9) ? "" : cat_strdup(row, 9, &c->a);
    /* The row's place in arrival order, kept for the sort (below). */
    x->objects = (int64_t)c->n;
    return 0;
}

/* Unknown before missing, then by field name (bytes), then arrival. */
static int
by_group(const void *pa, const void *pb)
{
    const struct catalog_drift *a = pa, *b = pb;
    int k = strcmp(b->kind, a->kind), f;

    if (k != 0)
        return k;
    f = strcmp(a->field, b->field);
    if (f != 0)
        return f;
    return a->objects < b->objects ? -1 : a->objects > b->objects;
}

int
catalog_drift_list(struct catalog_txn *txn, int64_t run_id, catalog_drift_fn fn, void *arg,
                   struct sl_diag *d)
{
    struct list_ctx c = {.n = 0};
    size_t n = 0;
    int rc;

    sl_arena_init(&c.a, 0);
    /* Sorted here, not by SQL: the back ends' collations differ. */
    rc = cat_run(txn, d, "list schema drift",
                 "SELECT s.field, s.kind, s.records, s.object_id, s.example_position, "
                 "s.example_text, s.run_id, s.source, o.contract_version, o.format "
                 "FROM schema_drift s LEFT JOIN raw_objects o "
                 "ON o.source = s.source AND o.object_id = s.object_id "
                 "WHERE s.run_id = ?1 ORDER BY o.seq, s.object_id",
                 drift_row, &c, "i", run_id);
    rc = rc < 0 ? rc : 0;
    if (rc == 0 && c.n > 0) {
        qsort(c.v, c.n, sizeof(*c.v), by_group);
        /* Sum each (kind, field) into its first row. */
        for (size_t i = 0; i < c.n; i++) {
            struct catalog_drift *g = n > 0 ? &c.v[n - 1] : NULL;

            if (g != NULL && strcmp(g->kind, c.v[i].kind) == 0 &&
                strcmp(g->field, c.v[i].field) == 0) {
                g->records += c.v[i].records;
                g->objects++;
                continue;
            }
            c.v[n] = c.v[i];
            c.v[n++].objects = 1;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = fn(arg, &c.v[i]);
    free(c.v);
    sl_arena_release(&c.a);
    return rc;
}
