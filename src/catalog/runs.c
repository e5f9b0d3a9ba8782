/*
 * runs.c - runs, their state, and owed publications (see runs.h).
 */
#include "catalog/runs.h"

#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

static int
alloc_id(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    int rc = cat_int_of(txn, d, "allocate a run id",
                        "UPDATE counters SET value = value + 1 WHERE name = 'run_id' "
                        "RETURNING value",
                        arg, "");

    if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_CORRUPT, "catalog: the run id counter is missing");
    return rc;
}

int
catalog_run_next_id(struct catalog *cat, int64_t *run_id, struct sl_diag *d)
{
    return catalog_txn_run(cat, CATALOG_WRITE, alloc_id, run_id, d);
}

int
catalog_run_alloc_id(struct catalog_txn *txn, int64_t *run_id, struct sl_diag *d)
{
    return alloc_id(txn, run_id, d);
}

int
catalog_run_add(struct catalog_txn *txn, const struct run_record *r, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a run",
                     "INSERT INTO runs (run_id, kind, source, tables, started_at, finished_at, "
                     "objects, from_seq, to_seq, records_in, written, inserted, replaced, "
                     "quarantined, duplicates, redelivered, files_added, files_removed, "
                     "bytes_written, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                     "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                     NULL, NULL, "itttiiiiiiiiiiiiiiit", r->run_id, r->kind, r->source,
                     r->table ? r->table : "", r->started_at, r->finished_at, r->objects,
                     r->from_seq, r->to_seq, r->records_in, r->written, r->inserted,
                     r->replaced, r->quarantined, r->duplicates, r->redelivered,
                     r->files_added, r->files_removed, r->bytes_written,
                     r->state ? r->state : "published");

    return rc < 0 ? rc : 0;
}

#define RUN_COLS                                                                         \
    "run_id, kind, source, tables, state, started_at, finished_at, objects, from_seq, "  \
    "to_seq, records_in, written, inserted, replaced, quarantined, duplicates, "         \
    "redelivered, files_added, files_removed, bytes_written"

struct run_rows {
    catalog_run_cb cb;
    void *arg;
    struct sl_arena *a;
    struct run_record *one;
};

static int
run_row(void *arg, const struct catalog_row *row)
{
    struct run_rows *c = arg;
    struct run_record r, *out = c->one ? c->one : &r;
    int64_t *nums[] = {&out->started_at,  &out->finished_at, &out->objects,
                       &out->from_seq,    &out->to_seq,      &out->records_in,
                       &out->written,     &out->inserted,    &out->replaced,
                       &out->quarantined, &out->duplicates,  &out->redelivered,
                       &out->files_added, &out->files_removed, &out->bytes_written};

    out->run_id = cat_int(row, 0);
    for (int i = 0; i < 15; i++)
        *nums[i] = cat_int(row, 5 + i);
    if (c->one != NULL) {
        out->kind = cat_strdup(row, 1, c->a);
        out->source = cat_strdup(row, 2, c->a);
        out->table = cat_strdup(row, 3, c->a);
        out->state = cat_strdup(row, 4, c->a);
        c->one = NULL;
        return 0;
    }
    out->kind = cat_text(row, 1);
    out->source = cat_text(row, 2);
    out->table = cat_text(row, 3);
    out->state = cat_text(row, 4);
    return c->cb(c->arg, out);
}

int
catalog_run_get(struct catalog_txn *txn, int64_t run_id, struct sl_arena *a,
                struct run_record *rec, struct sl_diag *d)
{
    struct run_rows c = {NULL, NULL, a, rec};
    int rc = cat_run(txn, d, "read a run", "SELECT " RUN_COLS " FROM runs WHERE run_id = ?1",
                     run_row, &c, "i", run_id);

    if (rc < 0)
        return rc;
    if (c.one != NULL)
        return sl_fail(d, SL_ERR_NOTFOUND, "there is no run %lld", (long long)run_id);
    return 0;
}

int
catalog_run_set_state(struct catalog_txn *txn, int64_t run_id, const char *expect,
                      const char *state, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "change a run's state",
                     "UPDATE runs SET state = ?3 WHERE run_id = ?1 AND state = ?2", NULL, NULL,
                     "itt", run_id, expect, state);

    if (rc == 0) {
        txn->failed = true;
        return sl_fail(d, SL_ERR_CONFLICT, "run %lld is not %s", (long long)run_id, expect);
    }
    return rc < 0 ? rc : 0;
}

int
catalog_run_list(struct catalog_txn *txn, const char *source, int64_t limit, bool held_only,
                 catalog_run_cb cb, void *arg, struct sl_diag *d)
{
    struct run_rows c = {cb, arg, NULL, NULL};
    int64_t lim = limit > 0 ? limit : INT64_MAX;
    int rc;

    if (held_only)
        rc = cat_run(txn, d, "list held runs",
                     "SELECT " RUN_COLS " FROM runs WHERE state = 'held' AND "
                     "(CAST(?1 AS TEXT) IS NULL OR source = ?1) ORDER BY run_id DESC LIMIT ?2",
                     run_row, &c, "ti", source, lim);
    else if (source == NULL)
        rc = cat_run(txn, d, "list runs",
                     "SELECT " RUN_COLS " FROM runs ORDER BY run_id DESC LIMIT ?1", run_row,
                     &c, "i", lim);
    else
        rc = cat_run(txn, d, "list runs",
                     "SELECT " RUN_COLS " FROM runs WHERE source = ?1 "
                     "ORDER BY run_id DESC LIMIT ?2",
                     run_row, &c, "ti", source, lim);
    return rc < 0 ? rc : 0;
}

/* ---- pending publications ---------------------------------------------------- */

int
catalog_pending_add(struct catalog_txn *txn, const struct catalog_pending *p, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a pending publication",
                     "INSERT INTO pending_steps (run_id, step, op, src, dst) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)",
                     NULL, NULL, "iiitt", p->run_id, p->step, (int64_t)p->op, p->src, p->dst);

    return rc < 0 ? rc : 0;
}

struct pending_rows {
    catalog_pending_cb cb;
    void *arg;
};

static int
pending_row(void *arg, const struct catalog_row *r)
{
    struct pending_rows *c = arg;
    struct catalog_pending p = {
        .run_id = cat_int(r, 0),
        .step = cat_int(r, 1),
        .op = (enum catalog_pending_op)cat_int(r, 2),
        .src = cat_text(r, 3),
        .dst = cat_text(r, 4),
    };

    return c->cb(c->arg, &p);
}

int
catalog_pending_list(struct catalog_txn *txn, int64_t run_id, bool with_held,
                     catalog_pending_cb cb, void *arg, struct sl_diag *d)
{
    struct pending_rows c = {cb, arg};
    int rc;

    if (run_id > 0)
        rc = cat_run(txn, d, "list pending publications",
                     "SELECT run_id, step, op, src, dst FROM pending_steps WHERE run_id = ?1 "
                     "ORDER BY step",
                     pending_row, &c, "i", run_id);
    else if (with_held)
        rc = cat_run(txn, d, "list pending publications",
                     "SELECT run_id, step, op, src, dst FROM pending_steps "
                     "ORDER BY run_id, step",
                     pending_row, &c, "");
    else
        rc = cat_run(txn, d, "list pending publications",
                     "SELECT p.run_id, p.step, p.op, p.src, p.dst FROM pending_steps p "
                     "WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = p.run_id AND "
                     "r.state = 'held') ORDER BY p.run_id, p.step",
                     pending_row, &c, "");
    return rc < 0 ? rc : 0;
}

int
catalog_pending_clear(struct catalog_txn *txn, int64_t run_id, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "clear pending publications",
                     "DELETE FROM pending_steps WHERE run_id = ?1", NULL, NULL, "i", run_id);

    return rc < 0 ? rc : 0;
}
