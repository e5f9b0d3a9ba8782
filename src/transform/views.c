/*
 * views.c - curated and quarantine tables as SQL views (see transform.h).
 *
 * A curated table is its live data files less the rows its live deletion
 * files retire (merge-on-read, see merge.c).  This file finds the files -
 * from the table's Iceberg metadata, or the catalog's lists before it has
 * any - and describes the view to the engine (struct engine_view), which
 * builds it: a union by name of the data files, anti-joined on (file,
 * file row number) with the positions the deletion files hold, columns a
 * file predates as typed NULLs (engine/tables.c).
 *
 * A quarantine table is its source's quarantine files (JSON lines, written
 * by quarantine.c), one row per rejected record (struct engine_json_view).
 *
 * For a query (transform_view_opts.sql) a view holds only the files the
 * query can need: the engine says which event times the query's filters
 * let through (engine_query_bounds()), and the table prunes the files
 * whose partition or column bounds rule them all out (table_filter).  A
 * table the query does not name gets a view with no file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/strlist.h"
#include "engine/engine.h"
#include "table/table.h"
#include "transform/transform_int.h"
#include "core/banned.h"

struct paths {
    struct store *store;
    struct sl_strlist list;
    int32_t max_field_id;  /* the highest any file has */
    struct sl_diag *d;
    struct sl_strlist keys; /* of the data files, beside list */
    struct sl_strlist dels; /* paths of the deletion files */
    char *slash_prefix;     /* "/curated/orders/": where a URI's key starts */
};

static int
add_file_path(void *arg, const struct curated_file *f)
{
    struct paths *p = arg;
    char *path;
    int rc = store_local_path(p->store, f->key, &path, p->d);

    if (rc < 0)
        return rc;
    if (f->max_field_id > p->max_field_id)
        p->max_field_id = f->max_field_id;
    sl_strlist_add(&p->list, path);
    sl_strlist_add(&p->keys, f->key);
    free(path);
    return 0;
}

static int
add_delete_path(void *arg, const struct curated_delete *del)
{
    struct paths *p = arg;
    char *path;
    int rc = store_local_path(p->store, del->key, &path, p->d);

    if (rc < 0)
        return rc;
    sl_strlist_add(&p->dels, path);
    free(path);
    return 0;
}

static int
add_key_path(void *arg, const char *key)
{
    struct paths *p = arg;
    char *path;
    int rc = store_local_path(p->store, key, &path, p->d);

    if (rc < 0)
        return rc;
    sl_strlist_add(&p->list, path);
    free(path);
    return 0;
}

/* Field ids of the table's files, by key (sorted: the catalog's order). */
struct field_ids {
    struct sl_strlist keys;
    int32_t *ids;
    size_t cap;
};

static int
add_field_id(void *arg, const char *key, int32_t id)
{
    struct field_ids *f = arg;

    SL_GROW(f->ids, f->cap, f->keys.n + 1);
    f->ids[f->keys.n] = id;
    return sl_strlist_add(&f->keys, key);
}

struct snapshot_files {
    struct paths *p;
    struct field_ids ids;
    const struct curated_table *t;
    struct transform_view_files *count;
};

/* A live file of the snapshot the view reads. */
static int
add_entry(void *arg, const struct table_entry *f)
{
    struct snapshot_files *sf = arg;
    struct curated_file cf = {.key = f->key, .max_field_id = sf->t->next_field_id - 1};
    size_t lo = 0, hi = sf->ids.keys.n;

    if (f->content == MF_DATA)
        sf->count->data_total++;
    else
        sf->count->deletes_total++;
    if (f->pruned)
        return 0;
    if (f->content == MF_DATA)
        sf->count->data++;
    else
        sf->count->deletes++;
    if (f->content != MF_DATA) {
        struct curated_delete del = {.key = f->key};

        return add_delete_path(sf->p, &del);
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sf->ids.keys.v[mid], f->key);

        if (c == 0) {
            cf.max_field_id = sf->ids.ids[mid];
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return add_file_path(sf->p, &cf);
}

/*
 * The files of curated table t at snapshot at, from its Iceberg metadata;
 * SL_ERR_NOTFOUND (no words) when the table has no Iceberg metadata yet
 * (a lake of an older release before its next run).
 */
static int
snapshot_paths(struct catalog_txn *txn, struct store *s, const struct curated_table *t,
               const struct table_at *at, const struct table_filter *filter, struct paths *p,
               struct transform_view_files *count, struct sl_diag *d)
{
    struct snapshot_files sf = {p, {{0}, NULL, 0}, t, count};
    int rc = catalog_file_field_ids(txn, t->name, add_field_id, &sf.ids, d);

    if (rc == 0)
        rc = table_live_files(txn, s, "curated", t->name, at, filter, NULL, add_entry, &sf, d);
    sl_strlist_release(&sf.ids.keys);
    free(sf.ids.ids);
    return rc;
}

/* ---- a held run's outputs, for the gate that decides about it ----------------------- */

/* What held run run_id added and retired, and where its staged objects are. */
struct held_files {
    struct sl_arena a;
    const char **table, **key, **staged; /* added: table, final key, staged key */
    bool *deletion;
    size_t n, cap;
    struct sl_strlist retired_table, retired; /* (table, key) pairs */
    struct sl_strlist dst, src;               /* the run's publications */
};

static int
held_file_of(void *arg, const struct run_file *f)
{
    struct held_files *h = arg;

    if (!f->added) {
        sl_strlist_add(&h->retired_table, f->table);
        return sl_strlist_add(&h->retired, f->key);
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->table = sl_realloc(h->table, h->cap * sizeof(*h->table));
        h->key = sl_realloc(h->key, h->cap * sizeof(*h->key));
        h->staged = sl_realloc(h->staged, h->cap * sizeof(*h->staged));
        h->deletion = sl_realloc(h->deletion, h->cap * sizeof(*h->deletion));
    }
    h->table[h->n] = sl_arena_strdup(&h->a, f->table);
    h->key[h->n] = sl_arena_strdup(&h->a, f->key);
    h->staged[h->n] = NULL;
    h->deletion[h->n++] = f->deletion;
    return 0;
}

static int
held_step(void *arg, const struct catalog_pending *p)
{
    struct held_files *h = arg;

    if (p->op != CATALOG_PUBLISH)
        return 0;
    sl_strlist_add(&h->dst, p->dst);
    return sl_strlist_add(&h->src, p->src);
}

static void
held_release(struct held_files *h)
{
    free(h->table);
    free(h->key);
    free(h->staged);
    free(h->deletion);
    sl_strlist_release(&h->retired_table);
    sl_strlist_release(&h->retired);
    sl_strlist_release(&h->dst);
    sl_strlist_release(&h->src);
    sl_arena_release(&h->a);
}

/* Read what run_id holds; SL_ERR_INPUT with words if it is not held. */
static int
held_read(struct catalog_txn *txn, int64_t run_id, struct held_files *h, struct sl_diag *d)
{
    struct run_record r;
    int rc = catalog_run_get(txn, run_id, &h->a, &r, d);

    if (rc == 0 && strcmp(r.state, "held") != 0)
        rc = sl_fail(d, SL_ERR_INPUT, "run %" PRId64 " is %s, not held", run_id, r.state);
    if (rc == 0)
        rc = catalog_run_files(txn, run_id, held_file_of, h, d);
    if (rc == 0)
        rc = catalog_pending_list(txn, run_id, true, held_step, h, d);
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        for (size_t j = 0; j < h->dst.n && h->staged[i] == NULL; j++)
            if (strcmp(h->dst.v[j], h->key[i]) == 0)
                h->staged[i] = h->src.v[j];
        if (h->staged[i] == NULL)
            rc = sl_fail(d, SL_ERR_CORRUPT, "held run %" PRId64 " has no staged object for %s",
                         run_id, h->key[i]);
    }
    return rc;
}

/*
 * The files of curated table t as held run h would leave them: what it
 * retired taken out of p, what it added (read where it is staged) put in.
 */
static int
with_held(struct paths *p, const struct held_files *h, const struct curated_table *t,
          struct transform_view_files *count, struct sl_diag *d)
{
    struct sl_strlist gone = {0}, list = {0}, keys = {0}, dels = {0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < h->retired.n; i++) {
        char *path;

        if (strcmp(h->retired_table.v[i], t->name) != 0)
            continue;
        rc = store_local_path(p->store, h->retired.v[i], &path, d);
        if (rc == 0)
            sl_strlist_add(&gone, path);
        free(path);
    }
    for (size_t i = 0; rc == 0 && i < p->list.n; i++)
        if (!sl_strlist_has(&gone, p->list.v[i])) {
            sl_strlist_add(&list, p->list.v[i]);
            sl_strlist_add(&keys, p->keys.v[i]);
        }
    for (size_t i = 0; rc == 0 && i < p->dels.n; i++)
        if (!sl_strlist_has(&gone, p->dels.v[i]))
            sl_strlist_add(&dels, p->dels.v[i]);
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        char *path;

        if (strcmp(h->table[i], t->name) != 0)
            continue;
        rc = store_local_path(p->store, h->staged[i], &path, d);
        if (rc < 0)
            break;
        if (h->deletion[i]) {
            sl_strlist_add(&dels, path);
        } else {
            sl_strlist_add(&list, path);
            sl_strlist_add(&keys, h->key[i]);
        }
        free(path);
    }
    if (t->next_field_id - 1 > p->max_field_id)
        p->max_field_id = t->next_field_id - 1;
    sl_strlist_release(&gone);
    sl_strlist_release(&p->list);
    sl_strlist_release(&p->keys);
    sl_strlist_release(&p->dels);
    p->list = list;
    p->keys = keys;
    p->dels = dels;
    count->data = count->data_total = list.n;
    count->deletes = count->deletes_total = dels.n;
    return rc;
}

/* The event-time column of t and whether it is a date. */
static const struct curated_column *
event_column(const struct curated_table *t)
{
    for (size_t j = 0; j < t->ncolumns; j++)
        if (t->event_time != NULL && strcmp(t->columns[j].name, t->event_time) == 0)
            return &t->columns[j];
    return NULL;
}

/*
 * Make the view of curated table t at snapshot at, over the files filter
 * keeps (NULL: all); count receives the files kept and listed.
 */
static int
curated_view(struct engine *e, struct catalog_txn *txn, struct store *s,
             const struct curated_table *t, const struct table_at *at,
             const struct table_filter *filter, const struct held_files *held, bool make,
             struct transform_view_files *count, struct sl_diag *d)
{
    struct paths p = {s, {0}, 0, d, {0}, {0}, NULL};
    struct engine_column *cols;
    int rc;

    count->data = count->data_total = count->deletes = count->deletes_total = 0;
    p.slash_prefix = sl_printf("/%s/", t->prefix);
    rc = snapshot_paths(txn, s, t, at, filter, &p, count, d);
    if (rc == SL_ERR_NOTFOUND && d->code == 0 && at == NULL) {
        /* No Iceberg metadata yet: the catalog's live files, all of them. */
        count->pruned = false;
        count->why = "the table has no Iceberg metadata yet";
        rc = catalog_file_list(txn, t->name, add_file_path, &p, d);
        if (rc == 0)
            rc = catalog_delete_list(txn, t->name, add_delete_path, &p, d);
        count->data = count->data_total = p.list.n;
        count->deletes = count->deletes_total = p.dels.n;
    } else if (rc == SL_ERR_NOTFOUND && d->code == 0) {
        rc = sl_fail(d, SL_ERR_NOTFOUND, "curated.%s has no snapshot yet", t->name);
    }
    if (rc == 0 && held != NULL)
        rc = with_held(&p, held, t, count, d);
    if (rc < 0 || !make)
        goto out;
    cols = curated_columns(t, t->ncolumns, 0);
    struct engine_view v = {
        .schema = "curated",
        .name = t->name,
        .ncolumns = t->ncolumns,
        .columns = cols,
        .max_field_id = p.max_field_id,
        .nfiles = p.list.n,
        .paths = (const char *const *)p.list.v,
        .keys = (const char *const *)p.keys.v,
        .ndeletes = p.dels.n,
        .deletes = (const char *const *)p.dels.v,
        /* Deletion files name data files by URI (table_uri()), whose key
         * starts at the first "/<prefix>/" (table_key_of()), or - those of
         * releases before Iceberg tables - by store key. */
        .uri_key_mark = p.slash_prefix,
    };

    rc = engine_parquet_view(e, &v, d);
    free(cols);
out:
    sl_strlist_release(&p.list);
    sl_strlist_release(&p.keys);
    sl_strlist_release(&p.dels);
    free(p.slash_prefix);
    return rc;
}

/* The members of a quarantine file's lines (quarantine.c writes them). */
static const struct engine_column quarantine_cols[] = {
    {"run_id", {SL_TYPE_INT64, 0, 0}, 0},
    {"source", {SL_TYPE_STRING, 0, 0}, 0},
    {"raw_object", {SL_TYPE_STRING, 0, 0}, 0},
    {"raw_key", {SL_TYPE_STRING, 0, 0}, 0},
    {"original_name", {SL_TYPE_STRING, 0, 0}, 0},
    {"contract_version", {SL_TYPE_STRING, 0, 0}, 0},
    {"line", {SL_TYPE_INT64, 0, 0}, 0},
    {"record", {SL_TYPE_INT64, 0, 0}, 0},
    {"field", {SL_TYPE_STRING, 0, 0}, 0},
    {"reason", {SL_TYPE_STRING, 0, 0}, 0},
    {"text", {SL_TYPE_STRING, 0, 0}, 0},
    {"text_base64", {SL_TYPE_STRING, 0, 0}, 0},
    {"truncated", {SL_TYPE_BOOL, 0, 0}, 0},
};
static const char *const quarantine_unique[] = {"raw_object", "line", "record"};

static int
quarantine_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *source,
                struct sl_diag *d)
{
    struct paths p = {s, {0}, 0, d, {0}, {0}, NULL};
    int rc = catalog_quarantine_list(txn, source, add_key_path, &p, d);

    if (rc < 0 || p.list.n == 0)
        goto out;
    struct engine_json_view v = {
        .schema = "quarantine",
        .name = source,
        .npaths = p.list.n,
        .paths = (const char *const *)p.list.v,
        .ncolumns = sizeof(quarantine_cols) / sizeof(quarantine_cols[0]),
        .columns = quarantine_cols,
        /* A record rejected again by a rewind shows once, with its first
         * run; the files keep every run's lines. */
        .nunique = sizeof(quarantine_unique) / sizeof(quarantine_unique[0]),
        .unique = quarantine_unique,
        .first_by = "run_id",
    };

    rc = engine_json_view(e, &v, d);
out:
    sl_strlist_release(&p.list);
    return rc;
}

/* The curated tables, and what the query reads of each. */
struct view_plan {
    struct sl_arena a;
    size_t n;
    struct curated_table *t;
    struct engine_bounds *b;
    struct table_filter *f;
};

/* Ask the engine what o->sql reads of each table (plan->b; NULL when
 * every file is read). */
static int
plan_reads(struct engine *e, const struct transform_view_opts *o, struct view_plan *plan,
           struct sl_diag *d)
{
    struct engine_bound_target *tg;
    int rc;

    if (o == NULL || o->sql == NULL || !o->prune)
        return 0;
    tg = sl_arena_zalloc(&plan->a, (plan->n + 1) * sizeof(*tg));
    for (size_t i = 0; i < plan->n; i++) {
        const struct curated_column *ev = event_column(&plan->t[i]);

        tg[i].schema = "curated";
        tg[i].table = plan->t[i].name;
        /* A table without an event time (none is made so) is read whole:
         * its target names no column. */
        tg[i].column = ev != NULL ? ev->name : "";
        tg[i].is_date = ev != NULL && ev->type.id == SL_TYPE_DATE;
    }
    plan->b = sl_calloc(plan->n + 1, sizeof(*plan->b));
    plan->f = sl_arena_zalloc(&plan->a, (plan->n + 1) * sizeof(*plan->f));
    rc = engine_query_bounds(e, o->sql, plan->n, tg, plan->b, d);
    for (size_t i = 0; rc == 0 && i < plan->n; i++) {
        const struct curated_column *ev = event_column(&plan->t[i]);

        if (plan->b[i].read && (ev == NULL || (ev->type.id != SL_TYPE_DATE &&
                                               ev->type.id != SL_TYPE_TIMESTAMP))) {
            plan->b[i].bounded = false;
            snprintf(plan->b[i].why, sizeof(plan->b[i].why),
                     "curated.%s has no timestamp or date event time", plan->t[i].name);
        }
        plan->f[i].field_id = ev != NULL ? ev->field_id : -1;
        plan->f[i].is_date = tg[i].is_date;
        plan->f[i].spans = &plan->b[i].spans;
    }
    return rc;
}

int
transform_views(struct engine *e, struct catalog *cat, struct store *s,
                const struct transform_view_opts *o, struct sl_diag *d)
{
    const struct table_at *at = o != NULL ? o->at : NULL;
    struct sl_strlist tables = {0}, sources = {0};
    struct catalog_txn *txn;
    struct view_plan plan = {{0}, 0, NULL, NULL, NULL};
    bool make = o == NULL || !o->list_only;
    static const char *const schemas[2] = {"curated", "quarantine"};
    struct held_files hf = {0}, *held = NULL;
    int matched = 0, rc;

    sl_arena_init(&plan.a, 0);
    sl_arena_init(&hf.a, 0);
    rc = engine_create_schemas(e, schemas, 2, d);
    if (rc == 0)
        rc = catalog_txn_begin(cat, CATALOG_READ, &txn, d);
    if (rc < 0)
        goto out;
    if (o != NULL && o->held_run > 0) {
        held = &hf;
        rc = held_read(txn, o->held_run, held, d);
    }
    if (rc == 0)
        rc = catalog_table_list(txn, sl_strlist_add, &tables, d);
    if (rc == 0)
        rc = catalog_source_list(txn, sl_strlist_add, &sources, d);
    plan.n = tables.n;
    plan.t = sl_arena_zalloc(&plan.a, (tables.n + 1) * sizeof(*plan.t));
    for (size_t i = 0; rc == 0 && i < tables.n; i++)
        rc = catalog_table_get(txn, tables.v[i], &plan.a, &plan.t[i], d);
    if (rc == 0)
        rc = plan_reads(e, o, &plan, d);
    for (size_t i = 0; rc == 0 && i < tables.n; i++) {
        const struct table_at *tat = at;
        const struct table_filter *f = NULL;
        const struct curated_column *ev = event_column(&plan.t[i]);
        struct transform_view_files count = {
            .table = tables.v[i], .column = ev != NULL ? ev->name : NULL,
            .is_date = ev != NULL && ev->type.id == SL_TYPE_DATE,
            .why = o != NULL && o->sql != NULL && !o->prune ? "pruning is off" : NULL,
        };
        struct sl_diag local;
        bool report = o != NULL && o->report != NULL && o->sql != NULL;

        if (plan.b != NULL) {
            report = report && plan.b[i].read;
            if (plan.b[i].bounded) {
                f = &plan.f[i];
                count.pruned = true;
                count.spans = f->spans;
            } else {
                count.why = plan.b[i].why;
            }
        }
        /* A snapshot id names one table's snapshot; the others are read
         * as they are now. */
        if (at != NULL && at->snapshot_id >= 0) {
            sl_diag_init(&local);
            rc = curated_view(e, txn, s, &plan.t[i], at, f, NULL, make, &count, &local);
            if (rc == 0) {
                matched++;
                if (report)
                    o->report(o->arg, &count);
                continue;
            }
            if (rc != SL_ERR_NOTFOUND) {
                sl_fail(d, rc, "%s", local.msg);
                break;
            }
            tat = NULL;
        }
        rc = curated_view(e, txn, s, &plan.t[i], tat, f, held, make, &count, d);
        if (rc == 0 && report)
            o->report(o->arg, &count);
    }
    if (rc == 0 && at != NULL && at->snapshot_id >= 0 && matched == 0)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "%" PRId64 " is not a snapshot of any table",
                     at->snapshot_id);
    for (size_t i = 0; rc == 0 && make && i < sources.n; i++)
        rc = quarantine_view(e, txn, s, sources.v[i], d);
    catalog_txn_abort(txn);
out:
    held_release(&hf);
    if (plan.b != NULL)
        engine_bounds_release(plan.b, plan.n);
    free(plan.b);
    sl_arena_release(&plan.a);
    sl_strlist_release(&tables);
    sl_strlist_release(&sources);
    return rc;
}

int
transform_duplicate_keys(struct engine *e, struct catalog *cat, const char *table,
                         int64_t *dups, struct sl_diag *d)
{
    struct sl_arena a;
    struct curated_table t;
    struct catalog_txn *txn;
    struct sl_strlist keys = {0};
    int rc;

    *dups = 0;
    sl_arena_init(&a, 0);
    rc = catalog_txn_begin(cat, CATALOG_READ, &txn, d);
    if (rc == 0) {
        rc = catalog_table_get(txn, table, &a, &t, d);
        catalog_txn_abort(txn);
    }
    for (const char *k = rc == 0 ? t.key_columns : ""; *k;) {
        size_t n = strcspn(k, ",");
        char *name = sl_strndup(k, n);

        sl_strlist_add(&keys, name);
        free(name);
        k += n + (k[n] == ',');
    }
    if (rc == 0)
        rc = engine_count_duplicates(e, "curated", table, (const char *const *)keys.v, keys.n,
                                     dups, d);
    sl_strlist_release(&keys);
    sl_arena_release(&a);
    return rc;
}
