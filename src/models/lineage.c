/*
 * lineage.c - where a table's rows came from (see lineage.h).
 *
 * A gold table's snapshot was made by one build (catalog/builds.h), which
 * read each of its inputs at a snapshot; a curated table's snapshot was
 * made by one transform run (the snapshot summary's sluice.run-id), whose
 * source's raw objects up to the run's bookmark are what the table holds.
 * The walk prints one line per table, indented under what read it.
 */
#include "models/lineage.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/builds.h"
#include "catalog/raw.h"
#include "catalog/runs.h"
#include "core/mem.h"
#include "core/time.h"
#include "table/table.h"
#include "core/banned.h"

#define MAX_DEPTH 32
#define RAW_SHOWN 5

struct walk {
    struct catalog_txn *txn;
    struct store *s;
    FILE *out;
};

struct snap_find {
    int64_t want;                /* -1: the current one */
    int64_t id;
    int64_t run_id;
    char operation[32];
    bool found;
};

static int
snap_seen(void *arg, const struct table_snapshot *snap)
{
    struct snap_find *f = arg;
    json_t *sum;

    if (f->want >= 0 ? snap->id != f->want : !snap->current)
        return 0;
    f->found = true;
    f->id = snap->id;
    snprintf(f->operation, sizeof(f->operation), "%s", snap->operation ? snap->operation : "?");
    sum = json_loads(snap->summary_json ? snap->summary_json : "{}", 0, NULL);
    f->run_id = strtoll(json_string_value(json_object_get(sum, "sluice.run-id")) ?: "-1", NULL,
                        10);
    json_decref(sum);
    return 0;
}

static void
indent(struct walk *w, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("    ", w->out);
}

struct raw_walk {
    struct walk *w;
    int depth;
    int64_t upto;
    int64_t n, records;
    int64_t shown_from;          /* the objects with seq >= this are listed */
};

static int
count_raw(void *arg, const struct raw_object *o)
{
    struct raw_walk *r = arg;

    if (o->seq <= r->upto)
        r->n++;
    return 0;
}

static int
show_raw(void *arg, const struct raw_object *o)
{
    struct raw_walk *r = arg;
    char when[40];

    if (o->seq > r->upto || o->seq < r->shown_from)
        return 0;
    sl_format_timestamp(o->arrived_at, when);
    indent(r->w, r->depth);
    fprintf(r->w->out, "%s  (%s, seq %" PRId64 ", arrived %s, contract %s)\n", o->key,
            o->original_name ? o->original_name : "?", o->seq, when,
            o->contract_version ? o->contract_version : "?");
    return 0;
}

static int walk_table(struct walk *w, const char *table, int64_t snapshot_id, int depth,
                      struct sl_diag *d);

static int
walk_curated(struct walk *w, const char *table, const char *name, int64_t snapshot_id,
             int depth, struct sl_diag *d)
{
    struct snap_find f = {snapshot_id, -1, -1, "", false};
    struct run_record run;
    struct sl_arena a;
    int rc = table_snapshots(w->txn, w->s, "curated", name, snap_seen, &f, d);

    if (rc < 0)
        return rc;
    indent(w, depth);
    if (!f.found) {
        fprintf(w->out, "%s  (no snapshot%s)\n", table, snapshot_id >= 0 ? " of that id" : "");
        return 0;
    }
    sl_arena_init(&a, 0);
    rc = f.run_id >= 0 ? catalog_run_get(w->txn, f.run_id, &a, &run, NULL) : SL_ERR_NOTFOUND;
    if (rc < 0) {
        fprintf(w->out, "%s @ snapshot %" PRId64 "  (%s; no run recorded)\n", table, f.id,
                f.operation);
        sl_arena_release(&a);
        return 0;
    }
    fprintf(w->out, "%s @ snapshot %" PRId64 "  (%s) - %s run %" PRId64 " of source %s\n",
            table, f.id, f.operation, run.kind, run.run_id, run.source);
    /* The source's raw objects up to the run's bookmark. */
    struct raw_walk r = {w, depth + 1, run.to_seq, 0, 0, 0};

    rc = catalog_raw_list(w->txn, run.source, 0, count_raw, &r, d);
    if (rc == 0) {
        indent(w, depth + 1);
        fprintf(w->out, "raw zone: %" PRId64 " object(s) of source %s up to seq %" PRId64
                        "%s\n",
                r.n, run.source, run.to_seq, r.n > RAW_SHOWN ? ", the latest:" : ":");
        r.shown_from = run.from_seq + 1;
        if (r.n > 0 && run.to_seq - run.from_seq < 1)
            r.shown_from = run.to_seq;
        /* the objects of the run itself, at most RAW_SHOWN of the newest */
        if (run.to_seq - r.shown_from + 1 > RAW_SHOWN)
            r.shown_from = run.to_seq - RAW_SHOWN + 1;
        rc = catalog_raw_list(w->txn, run.source, r.shown_from - 1, show_raw, &r, d);
    }
    sl_arena_release(&a);
    return rc;
}

static int
walk_gold(struct walk *w, const char *table, const char *name, int64_t snapshot_id, int depth,
          struct sl_diag *d)
{
    struct build_record b;
    struct snap_find f = {snapshot_id, -1, -1, "", false};
    struct sl_arena a;
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_build_last(w->txn, name, &a, &b, d);
    if (rc == 0 && strcmp(b.materialized, "view") == 0 && snapshot_id < 0) {
        indent(w, depth);
        fprintf(w->out, "%s  (view) - build run %" PRId64 " of models/%s.sql %.20s..., sluice %s\n",
                table, b.run_id, name, b.checksum, b.version);
    } else {
        if (rc == SL_ERR_NOTFOUND)
            rc = 0;
        if (rc == 0)
            rc = table_snapshots(w->txn, w->s, "gold", name, snap_seen, &f, d);
        if (rc == SL_ERR_NOTFOUND && d->code != 0) {
            sl_arena_release(&a);
            return rc;
        }
        if (rc == 0 && f.found)
            rc = catalog_build_of_snapshot(w->txn, name, f.id, &a, &b, d);
        indent(w, depth);
        if (rc == SL_ERR_NOTFOUND || !f.found) {
            fprintf(w->out, "%s @ snapshot %" PRId64 "  (no build recorded)\n", table, f.id);
            sl_arena_release(&a);
            return rc == SL_ERR_NOTFOUND ? 0 : rc;
        }
        if (rc < 0) {
            sl_arena_release(&a);
            return rc;
        }
        fprintf(w->out, "%s @ snapshot %" PRId64 "  (%s) - %s build run %" PRId64
                        " of models/%s.sql %.20s..., sluice %s\n",
                table, f.id, f.operation, b.full ? "full" : "incremental", b.run_id, name,
                b.checksum, b.version);
    }
    for (size_t i = 0; rc == 0 && i < b.ninputs; i++)
        rc = walk_table(w, b.inputs[i].table, b.inputs[i].snapshot_id, depth + 1, d);
    sl_arena_release(&a);
    return rc;
}

static int
walk_table(struct walk *w, const char *table, int64_t snapshot_id, int depth, struct sl_diag *d)
{
    const char *dot = strchr(table, '.');

    if (depth > MAX_DEPTH)
        return sl_fail(d, SL_ERR_CORRUPT, "lineage deeper than %d tables at %s", MAX_DEPTH,
                       table);
    if (dot != NULL && strncmp(table, "gold.", 5) == 0)
        return walk_gold(w, table, dot + 1, snapshot_id, depth, d);
    if (dot != NULL && strncmp(table, "curated.", 8) == 0)
        return walk_curated(w, table, dot + 1, snapshot_id, depth, d);
    indent(w, depth);
    fprintf(w->out, "%s\n", table);
    return 0;
}

struct lineage_ctx {
    struct store *s;
    const char *table;
    int64_t snapshot_id;
    FILE *out;
};

static int
lineage_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct lineage_ctx *c = arg;
    struct walk w = {txn, c->s, c->out};

    return walk_table(&w, c->table, c->snapshot_id, 0, d);
}

int
models_lineage(struct catalog *cat, struct store *s, const char *table, int64_t snapshot_id,
               FILE *out, struct sl_diag *d)
{
    struct lineage_ctx c = {s, table, snapshot_id, out};

    if (strncmp(table, "gold.", 5) != 0 && strncmp(table, "curated.", 8) != 0)
        return sl_fail(d, SL_ERR_INPUT, "'%s' is not a gold or curated table (gold.NAME)",
                       table);
    return catalog_txn_run(cat, CATALOG_READ, lineage_txn, &c, d);
}
