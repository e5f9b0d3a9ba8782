/*
 * builds.c - gold model builds and what they read (see builds.h).
 */
#include "catalog/builds.h"

#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

int
catalog_build_add(struct catalog_txn *txn, const struct build_record *b, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a model build",
                     "INSERT INTO model_builds (run_id, model, materialized, full_build, "
                     "checksum, sluice_version, snapshot_id, view_sql) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     NULL, NULL, "ittittit", b->run_id, b->model, b->materialized,
                     (int64_t)b->full, b->checksum, b->version, b->snapshot_id, b->view_sql);

    for (size_t i = 0; rc >= 0 && i < b->ninputs; i++)
        rc = cat_run(txn, d, "record what a model build read",
                     "INSERT INTO build_inputs (run_id, table_name, snapshot_id) "
                     "VALUES (?1, ?2, ?3)",
                     NULL, NULL, "iti", b->run_id, b->inputs[i].table,
                     b->inputs[i].snapshot_id);
    return rc < 0 ? rc : 0;
}

struct build_ctx {
    struct sl_arena *a;
    struct build_record *b;
    bool seen;
    size_t cap;
    struct build_input *inputs;
};

static int
build_row(void *arg, const struct catalog_row *r)
{
    struct build_ctx *c = arg;
    struct build_record *b = c->b;

    c->seen = true;
    b->run_id = cat_int(r, 0);
    b->model = cat_strdup(r, 1, c->a);
    b->materialized = cat_strdup(r, 2, c->a);
    b->full = cat_int(r, 3) != 0;
    b->checksum = cat_strdup(r, 4, c->a);
    b->version = cat_strdup(r, 5, c->a);
    b->snapshot_id = cat_int(r, 6);
    b->view_sql = cat_strdup(r, 7, c->a);
    return 0;
}

static int
input_row(void *arg, const struct catalog_row *r)
{
    struct build_ctx *c = arg;

    if (c->b->ninputs == c->cap) {
        struct build_input *v;

        c->cap = c->cap ? 2 * c->cap : 8;
        v = sl_arena_alloc(c->a, c->cap * sizeof(*v));
        if (c->b->ninputs > 0)
            memcpy(v, c->inputs, c->b->ninputs * sizeof(*v));
        c->inputs = v;
    }
    c->inputs[c->b->ninputs].table = cat_strdup(r, 0, c->a);
    c->inputs[c->b->ninputs].snapshot_id = cat_int(r, 1);
    c->b->ninputs++;
    c->b->inputs = c->inputs;
    return 0;
}

#define BUILD_COLUMNS                                                                     \
    "SELECT run_id, model, materialized, full_build, checksum, sluice_version, "          \
    "snapshot_id, view_sql FROM model_builds "

/* The build the query found (if any), with its inputs. */
static int
with_inputs(struct catalog_txn *txn, struct build_ctx *c, int rc, struct sl_diag *d)
{
    if (rc < 0)
        return rc;
    if (!c->seen)
        return SL_ERR_NOTFOUND;
    rc = cat_run(txn, d, "read what a model build read",
                 "SELECT table_name, snapshot_id FROM build_inputs WHERE run_id = ?1 "
                 "ORDER BY table_name",
                 input_row, c, "i", c->b->run_id);
    return rc < 0 ? rc : 0;
}

int
catalog_build_last(struct catalog_txn *txn, const char *model, struct sl_arena *a,
                   struct build_record *b, struct sl_diag *d)
{
    struct build_ctx c = {a, b, false, 0, NULL};
    int rc;

    memset(b, 0, sizeof(*b));
    rc = cat_run(txn, d, "read a model's last build",
                 BUILD_COLUMNS "WHERE model = ?1 ORDER BY run_id DESC LIMIT 1", build_row, &c,
                 "t", model);
    return with_inputs(txn, &c, rc, d);
}

int
catalog_build_of_snapshot(struct catalog_txn *txn, const char *model, int64_t snapshot_id,
                          struct sl_arena *a, struct build_record *b, struct sl_diag *d)
{
    struct build_ctx c = {a, b, false, 0, NULL};
    int rc;

    memset(b, 0, sizeof(*b));
    rc = cat_run(txn, d, "read the build of a snapshot",
                 BUILD_COLUMNS "WHERE model = ?1 AND snapshot_id = ?2 "
                 "ORDER BY run_id DESC LIMIT 1",
                 build_row, &c, "ti", model, snapshot_id);
    return with_inputs(txn, &c, rc, d);
}

int
catalog_build_models(struct catalog_txn *txn, catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct cat_names c = {cb, arg};
    int rc = cat_run(txn, d, "list the models built",
                     "SELECT DISTINCT model FROM model_builds ORDER BY model", cat_name_row, &c,
                     "");

    return rc < 0 ? rc : 0;
}
