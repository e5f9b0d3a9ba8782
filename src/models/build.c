/*
 * build.c - gold models into Iceberg tables (see build.h).
 *
 * One build of one model:
 *
 *   1. in a read transaction, make the engine's views of the tables the
 *      model reads (table_view(): a snapshot's files less its deletes; a
 *      gold view from its last build's query) and note each snapshot
 *   2. render the model's SQL (a full build: is_incremental false), ask
 *      the engine for its columns, and match them to the table's schema
 *   3. write its rows to a staged Parquet file with the columns' field ids
 *   4. commit: the table's next snapshot, the build's record and the run,
 *      in one catalog transaction; the staged file published after
 *
 * An incremental build (the model's last build was one, or built the
 * table first) differs in 1 and 3:
 *
 *   append   each table read is the view of its rows added since the
 *            snapshot the last build read (table_view_change()); the rows
 *            are added to the table (an append snapshot)
 *   merge    the tables read are whole, and the keys touched - the unique
 *            key's values in the rows added or removed since, in every
 *            input that has the key's columns - bound the work: the
 *            table's rows with those keys are deleted (a position delete
 *            file) and the SELECT's rows with those keys inserted, so the
 *            table equals a full build
 */
#include "models/build.h"

#include <ctype.h>
#include <pthread.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/builds.h"
#include "catalog/iceberg.h"
#include "commit/commit.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "engine/engine.h"
#include "store/layout.h"
#include "table/table.h"
#include "core/banned.h"

/* A file a build adds. */
struct gold_file {
    const char *staged_key, *staged_path;
    char *final_key;
    struct engine_file_stats stats;
    struct mf_pvalue *partition;  /* a value for each field (in the build's
                                   * arena), or NULL: unpartitioned */
    const char *referenced_key;   /* a position delete file's one data file */
};

/* A build under way. */
struct mbuild {
    struct project *p;
    struct store *s;
    struct catalog *cat;
    const struct model_set *set;
    const struct build_opts *o;
    const struct model *m;
    struct build_item *item;

    struct engine *e;
    struct commit *commit;
    int64_t run_id;
    char *sql;                    /* rendered, without a final ';' */
    struct sl_strlist made;       /* views made in the engine: "gold.x" */
    struct build_input *inputs;   /* what the model reads, at which snapshot */
    size_t ninputs, icap;
    struct sl_arena a;

    /* the table written */
    struct table_column *cols;
    size_t ncols;
    int32_t last_column_id;
    bool exists;                  /* the table has been built before */
    struct sl_strlist retired;    /* its live files: the new snapshot drops them */
    size_t nparts;                /* its partition fields (the model's) */
    struct engine_partition *ep;  /* the same for the engine (in a) */
    struct table_part *tparts;    /* and for the table (in a) */
    struct gold_file *files;      /* the data files written */
    size_t nfiles;
    int64_t rows, bytes;          /* theirs, summed */
    struct run_record *rec;       /* the account committed */

    bool held;                    /* gated: committed held, its snapshot staged */

    /* an incremental build */
    bool incremental;             /* it adds to the table (not a full build) */
    struct build_record last;     /* the last build: its inputs bound the change */
    struct sl_strlist gold_keys, gold_paths, gold_uris, gold_dels; /* merge: the table now */
    struct mf_pvalue **gold_parts; /* partition of each of gold_keys (in a) */
    size_t capparts;
    struct gold_file *dels;       /* the position delete files written */
    size_t ndels;
};

static char *statement_of(const struct model *m, bool incremental);
static int no_held_build(struct catalog_txn *txn, void *arg, struct sl_diag *d);

/* ---- what the SQL says ----------------------------------------------------------------- */

/* The table type of an engine type name: those gold tables hold.  0, or
 * SL_ERR_INPUT. */
static int
type_of(const char *t, struct sl_type *out)
{
    static const struct {
        const char *name;
        enum sl_type_id id;
    } types[] = {
        {"VARCHAR", SL_TYPE_STRING},   {"BIGINT", SL_TYPE_INT64},
        {"INTEGER", SL_TYPE_INT32},    {"SMALLINT", SL_TYPE_INT32},
        {"TINYINT", SL_TYPE_INT32},    {"UTINYINT", SL_TYPE_INT32},
        {"USMALLINT", SL_TYPE_INT32},  {"UINTEGER", SL_TYPE_INT64},
        {"DOUBLE", SL_TYPE_DOUBLE},    {"FLOAT", SL_TYPE_FLOAT},
        {"BOOLEAN", SL_TYPE_BOOL},     {"DATE", SL_TYPE_DATE},
        {"TIMESTAMP WITH TIME ZONE", SL_TYPE_TIMESTAMP},
        {"TIMESTAMP", SL_TYPE_TIMESTAMP},
    };
    unsigned p, s;
    char end;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(t, types[i].name) == 0) {
            out->id = types[i].id;
            return 0;
        }
    /* Integers past a long: the decimal that holds each of their values. */
    if (strcmp(t, "HUGEINT") == 0 || strcmp(t, "UBIGINT") == 0) {
        out->id = SL_TYPE_DECIMAL;
        out->precision = t[0] == 'H' ? 38 : 20;
        return 0;
    }
    if (sscanf(t, "DECIMAL(%u,%u%c", &p, &s, &end) == 3 && end == ')' && p >= 1 && p <= 38 &&
        s <= p) {
        out->id = SL_TYPE_DECIMAL;
        out->precision = (uint8_t)p;
        out->scale = (uint8_t)s;
        return 0;
    }
    return SL_ERR_INPUT;
}

/* Whether a column of type from may be read as type to (an Iceberg type
 * promotion, or the same type). */
static bool
widens(struct sl_type from, struct sl_type to)
{
    if (sl_type_equal(from, to))
        return true;
    if (from.id == SL_TYPE_INT32 && to.id == SL_TYPE_INT64)
        return true;
    if (from.id == SL_TYPE_FLOAT && to.id == SL_TYPE_DOUBLE)
        return true;
    return from.id == SL_TYPE_DECIMAL && to.id == SL_TYPE_DECIMAL &&
           from.scale == to.scale && to.precision > from.precision;
}

/*
 * The engine's failure in d, at the model's place: its "LINE n:" is line
 * n - 1 of the rendered SQL (the statements put it on their second line),
 * the caret under the excerpt gives the column.  d's message becomes
 * "<file>:<line>:<column>: <the engine's first line>".
 */
static int
locate_error(struct mbuild *b, struct sl_diag *d)
{
    char msg_copy[sizeof(d->msg)];
    const char *msg = msg_copy, *at, *nl;
    char first[512];
    int line = 0, col = 0, fl, fc;

    /* The engine's words make way for the model's. */
    memcpy(msg_copy, d->msg, sizeof(msg_copy));
    sl_diag_init(d);
    at = strstr(msg, "LINE ");
    nl = strchr(msg, '\n');
    snprintf(first, sizeof(first), "%.*s", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
    if (at != NULL && sscanf(at + 5, "%d", &line) == 1 && line >= 2) {
        const char *colon = strchr(at, ':'), *eol = colon ? strchr(colon, '\n') : NULL;
        const char *caret = eol ? strchr(eol + 1, '^') : NULL;
        const char *sql = b->sql;
        size_t off = 0;

        /* The caret sits under the excerpt, which follows "LINE n: ". */
        if (colon != NULL && caret != NULL) {
            size_t lead = (size_t)(colon + 2 - at);
            const char *excerpt = colon + 2;
            size_t elen = (size_t)(eol - excerpt), ccol = (size_t)(caret - eol - 1);
            int skip = 0;

            if (elen >= 3 && strncmp(excerpt, "...", 3) == 0) {
                excerpt += 3;
                elen -= 3;
                skip = 3;
            }
            col = ccol >= lead + (size_t)skip ? (int)(ccol - lead - (size_t)skip) : 0;
            /* The line of the rendered SQL, and where the excerpt starts in it. */
            for (int l = 1; l < line - 1 && sql[off]; l++) {
                const char *n = strchr(sql + off, '\n');

                if (n == NULL)
                    break;
                off = (size_t)(n + 1 - sql);
            }
            if (elen > 0) {
                char frag[48];
                const char *found;

                snprintf(frag, sizeof(frag), "%.*s", elen < 40 ? (int)elen : 40, excerpt);
                found = strstr(sql + off, frag);
                if (found != NULL && !memchr(sql + off, '\n', (size_t)(found - sql - off)))
                    off = (size_t)(found - sql);
            }
            off += (size_t)col;
        }
        model_locate(b->m, off, &fl, &fc);
        return sl_fail(d, SL_ERR_INPUT, "%s:%d:%d: %s", b->m->path, fl, fc, first);
    }
    return sl_fail(d, SL_ERR_INPUT, "%s: %s", b->m->path, first);
}

/* ---- 1. what the model reads -------------------------------------------------------------- */

static int
add_name(void *arg, const char *name)
{
    return sl_strlist_add(arg, name);
}

/* "no such table" for table (ns.name) read by the model. */
static int
missing_table(struct mbuild *b, struct catalog_txn *txn, const char *table, struct sl_diag *d)
{
    struct sl_strlist names = {0};
    struct sl_buf list;
    int rc;

    sl_buf_init(&list);
    catalog_iceberg_list(txn, "curated", add_name, &names, NULL);
    catalog_iceberg_list(txn, "gold", add_name, &names, NULL);
    for (size_t i = 0; i < names.n; i++)
        sl_buf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
    rc = sl_fail(d, SL_ERR_NOTFOUND, "%s reads %s, which does not exist (tables: %s)",
                 b->m->path, table, names.n ? list.data : "none yet");
    sl_buf_release(&list);
    sl_strlist_release(&names);
    return rc;
}

static void
add_input(struct mbuild *b, const char *table, int64_t snapshot_id)
{
    for (size_t i = 0; i < b->ninputs; i++)
        if (strcmp(b->inputs[i].table, table) == 0)
            return;
    SL_GROW(b->inputs, b->icap, b->ninputs + 1);
    b->inputs[b->ninputs].table = sl_arena_strdup(&b->a, table);
    b->inputs[b->ninputs].snapshot_id = snapshot_id;
    b->ninputs++;
}

static int make_view(struct mbuild *b, struct catalog_txn *txn, const char *table, int depth,
                     struct sl_diag *d);

/* gold.<name> as the view its last build saved, over what its query reads. */
static int
saved_view(struct mbuild *b, struct catalog_txn *txn, const struct build_record *last,
           int depth, struct sl_diag *d)
{
    const struct model *v = models_find(b->set, last->model);
    int rc = 0;

    if (v != NULL)
        for (size_t i = 0; rc == 0 && i < v->nreads; i++)
            rc = make_view(b, txn, v->reads[i], depth + 1, d);
    else
        for (size_t i = 0; rc == 0 && i < last->ninputs; i++)
            rc = make_view(b, txn, last->inputs[i].table, depth + 1, d);
    if (rc == 0)
        rc = engine_query_view(b->e, "gold", last->model, last->view_sql, d);
    return rc;
}

/* Make the engine's view of table ("curated.x", "gold.y"), once. */
static int
make_view(struct mbuild *b, struct catalog_txn *txn, const char *table, int depth,
          struct sl_diag *d)
{
    const char *dot = strchr(table, '.');
    char ns[16];
    const char *name;
    int64_t snap = -1;
    int rc;

    if (dot == NULL || (size_t)(dot - table) >= sizeof(ns))
        return sl_fail(d, SL_ERR_INPUT, "%s: '%s' is not a table name", b->m->path, table);
    if (sl_strlist_has(&b->made, table))
        return 0;
    if (depth > 64)
        return sl_fail(d, SL_ERR_INPUT, "%s: views nest too deep at %s", b->m->path, table);
    snprintf(ns, sizeof(ns), "%.*s", (int)(dot - table), table);
    name = dot + 1;
    if (strcmp(ns, "gold") == 0) {
        struct build_record last;
        struct sl_arena a;

        sl_arena_init(&a, 0);
        rc = catalog_build_last(txn, name, &a, &last, d);
        if (rc == 0 && strcmp(last.materialized, "view") == 0) {
            rc = saved_view(b, txn, &last, depth, d);
            if (rc == 0 && depth == 0)
                add_input(b, table, -1);
            if (rc == 0)
                sl_strlist_add(&b->made, table);
            sl_arena_release(&a);
            return rc;
        }
        sl_arena_release(&a);
        if (rc < 0 && rc != SL_ERR_NOTFOUND)
            return rc;
        if (rc == SL_ERR_NOTFOUND && models_find(b->set, name) != NULL)
            return sl_fail(d, SL_ERR_NOTFOUND, "%s reads %s, which has not been built yet: "
                           "build it first (sluice build +%s)",
                           b->m->path, table, b->m->name);
    }
    rc = table_view(b->e, txn, b->s, ns, name, NULL, &snap, d);
    if (rc == SL_ERR_NOTFOUND && d->code == 0)
        return missing_table(b, txn, table, d);
    if (rc < 0)
        return rc;
    if (depth == 0)
        add_input(b, table, snap);
    sl_strlist_add(&b->made, table);
    return 0;
}

/* The snapshot of table the last build read, -1 if it read none. */
static int64_t
last_read(const struct mbuild *b, const char *table)
{
    for (size_t i = 0; i < b->last.ninputs; i++)
        if (strcmp(b->last.inputs[i].table, table) == 0)
            return b->last.inputs[i].snapshot_id;
    return -1;
}

struct snapshot_find {
    int64_t id;
    bool found;
};

static int
find_snapshot(void *arg, const struct table_snapshot *snap)
{
    struct snapshot_find *f = arg;

    f->found |= snap->id == f->id;
    return 0;
}

static int split_name(const struct mbuild *b, const char *table, char *ns, const char **name,
                      struct sl_diag *d);
static bool is_view(struct catalog_txn *txn, const char *name);

/*
 * Whether every snapshot the last build read is still there.  Expiry may
 * have removed one (a source transformed many times between two builds):
 * then nothing bounds what changed since, and the build is a full one -
 * what a merge equals anyway, and an append's --full-refresh.  *gone gets
 * the table whose snapshot is missing.
 */
static int
inputs_kept(struct mbuild *b, struct catalog_txn *txn, const char **gone, struct sl_diag *d)
{
    *gone = NULL;
    for (size_t i = 0; i < b->m->nreads; i++) {
        const char *table = b->m->reads[i], *name;
        struct snapshot_find f = {last_read(b, table), false};
        char ns[16];
        int rc = split_name(b, table, ns, &name, d);

        if (rc < 0)
            return rc;
        if (f.id < 0 || (strcmp(ns, "gold") == 0 && is_view(txn, name)))
            continue;
        rc = table_snapshots(txn, b->s, ns, name, find_snapshot, &f, d);
        if (rc < 0)
            return rc;
        if (!f.found) {
            *gone = table;
            return 0;
        }
    }
    return 0;
}

/* Split "ns.name" into ns (>= 16 bytes) and *name. */
static int
split_name(const struct mbuild *b, const char *table, char *ns, const char **name,
           struct sl_diag *d)
{
    const char *dot = strchr(table, '.');

    if (dot == NULL || dot - table >= 16)
        return sl_fail(d, SL_ERR_INPUT, "%s: '%s' is not a table name", b->m->path, table);
    snprintf(ns, 16, "%.*s", (int)(dot - table), table);
    *name = dot + 1;
    return 0;
}

/* Whether gold.<name> is a view (its last build saved a query). */
static bool
is_view(struct catalog_txn *txn, const char *name)
{
    struct build_record r;
    struct sl_arena a;
    bool v;

    sl_arena_init(&a, 0);
    v = catalog_build_last(txn, name, &a, &r, NULL) == 0 && strcmp(r.materialized, "view") == 0;
    sl_arena_release(&a);
    return v;
}

/* Append: table as the view of its rows added since the last build read
 * it (a view of gold is read whole). */
static int
delta_view(struct mbuild *b, struct catalog_txn *txn, const char *table, struct sl_diag *d)
{
    char ns[16];
    const char *name;
    int64_t snap = -1;
    int rc = split_name(b, table, ns, &name, d);

    if (rc < 0)
        return rc;
    if (strcmp(ns, "gold") == 0 && is_view(txn, name))
        return make_view(b, txn, table, 0, d);
    rc = table_view_change(b->e, txn, b->s, ns, name, last_read(b, table), TABLE_ROWS_ADDED, ns,
                           name, &snap, d);
    if (rc == SL_ERR_NOTFOUND && d->code == 0)
        return missing_table(b, txn, table, d);
    if (rc == 0) {
        add_input(b, table, snap);
        sl_strlist_add(&b->made, table);
    }
    return rc;
}

/* Whether every unique key column is among cols. */
static bool
has_key(const struct model *m, const struct table_schema *sch)
{
    for (size_t k = 0; k < m->nunique_key; k++) {
        bool found = false;

        for (size_t j = 0; j < sch->ncolumns; j++)
            found |= strcmp(sch->columns[j].name, m->unique_key[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/*
 * A merge finds the keys a change touched in the inputs that have the
 * unique key's columns: at least one must (a key the SELECT computes
 * cannot be traced to the rows that changed).  Checked on every build, the
 * first too, so that a model that cannot merge never builds once.
 */
static int
key_source(struct mbuild *b, struct catalog_txn *txn, struct sl_diag *d)
{
    struct sl_buf key;
    int rc = 0;

    for (size_t i = 0; i < b->m->nreads; i++) {
        const char *table = b->m->reads[i], *name;
        struct table_schema sch;
        struct sl_arena a;
        char ns[16];
        bool ok;

        rc = split_name(b, table, ns, &name, d);
        if (rc < 0)
            return rc;
        if (strcmp(ns, "gold") == 0 && is_view(txn, name))
            continue;
        sl_arena_init(&a, 0);
        ok = table_schema(txn, b->s, ns, name, &a, &sch, NULL) == 0 && has_key(b->m, &sch);
        sl_arena_release(&a);
        if (ok)
            return 0;
    }
    sl_buf_init(&key);
    for (size_t k = 0; k < b->m->nunique_key; k++)
        sl_buf_addf(&key, "%s%s", k ? ", " : "", b->m->unique_key[k]);
    rc = sl_fail(d, SL_ERR_INPUT, "%s: a merge on [%s] needs a table it reads with those "
                 "columns, to find the keys a change touches; none of %zu has them all",
                 b->m->path, key.data, b->m->nreads);
    sl_diag_hint(d, "name the key as an input does (customer_id, not a computed column), or use "
                    "strategy: append");
    sl_buf_release(&key);
    return rc;
}

/* Merge: the table _sluice.touched of the unique key's values in the rows
 * added to or removed from the inputs that have its columns since the
 * last build. */
static int
touched_keys(struct mbuild *b, struct catalog_txn *txn, struct sl_diag *d)
{
    struct sl_strlist sources = {0};
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < b->m->nreads; i++) {
        const char *table = b->m->reads[i], *name;
        struct table_schema sch;
        char ns[16], v[64];
        struct sl_arena a;

        rc = split_name(b, table, ns, &name, d);
        if (rc < 0 || (strcmp(ns, "gold") == 0 && is_view(txn, name)))
            continue;
        sl_arena_init(&a, 0);
        rc = table_schema(txn, b->s, ns, name, &a, &sch, d);
        if (rc == 0 && has_key(b->m, &sch)) {
            /* Rows added and removed in one view, the rows deleted from
             * files still live not compared with those added: the keys
             * may be a superset, which the merge takes the same, and of
             * every file a delete names only the key is read, not every
             * column to compare whole rows. */
            snprintf(v, sizeof(v), "changed_%zu", i);
            rc = table_view_change(b->e, txn, b->s, ns, name, last_read(b, table),
                                   TABLE_ROWS_TOUCHED, "_sluice", v, NULL, d);
            if (rc == 0) {
                char *q = sl_printf("_sluice.%s", v);

                sl_strlist_add(&sources, q);
                free(q);
            }
        }
        sl_arena_release(&a);
    }
    if (rc == 0 && sources.n == 0) {
        rc = sl_fail(d, SL_ERR_INPUT, "%s: a merge on %s needs a table it reads to have those "
                     "columns, to find the keys a change touches", b->m->path,
                     b->m->unique_key[0]);
        sl_diag_hint(d, "name the key as the inputs do, or use strategy: append");
    }
    if (rc == 0)
        rc = engine_keys_table(b->e, "_sluice", "touched", (const char *const *)b->m->unique_key,
                               b->m->nunique_key, (const char *const *)sources.v, sources.n, d);
    sl_strlist_release(&sources);
    return rc;
}

/* Merge: the table's files now, for the deletes of the touched keys. */
static int
add_gold_file(void *arg, const struct table_entry *f)
{
    struct mbuild *b = arg;
    char *path, *uri;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = store_local_path(b->s, f->key, &path, &d);
    if (rc < 0)
        return rc;
    if (f->content == MF_DATA) {
        struct mf_pvalue *pv = sl_arena_zalloc(&b->a, (f->npartition + 1) * sizeof(*pv));

        SL_GROW(b->gold_parts, b->capparts, b->gold_keys.n + 1);
        b->gold_parts[b->gold_keys.n] = pv;
        for (size_t k = 0; k < f->npartition; k++) {
            pv[k] = f->entry->partition[k];
            if (pv[k].s != NULL)
                pv[k].s = sl_arena_strdup(&b->a, pv[k].s);
        }
        uri = table_uri(b->s, f->key);
        sl_strlist_add(&b->gold_keys, f->key);
        sl_strlist_add(&b->gold_paths, path);
        sl_strlist_add(&b->gold_uris, uri);
        free(uri);
    } else {
        sl_strlist_add(&b->gold_dels, path);
    }
    free(path);
    return 0;
}

/* ---- 2. the table's columns ------------------------------------------------------------- */

static int
live_key(void *arg, const struct table_entry *f)
{
    return sl_strlist_add(arg, f->key);
}

/*
 * The model's columns as the table's: field ids kept by name, new ones
 * numbered on; a changed type or a dropped column refused unless a full
 * refresh.
 */
static int
plan_columns(struct mbuild *b, struct catalog_txn *txn, const struct engine_query_column *qc,
             size_t nq, struct sl_diag *d)
{
    struct table_schema old = {0};
    struct sl_buf changed;
    int rc = table_schema(txn, b->s, "gold", b->m->name, &b->a, &old, d);

    if (rc == SL_ERR_NOTFOUND && d->code == 0)
        rc = 0;
    else if (rc == 0)
        b->exists = true;
    if (rc < 0)
        return rc;
    b->last_column_id = old.last_column_id;
    b->cols = sl_arena_zalloc(&b->a, (nq + 1) * sizeof(*b->cols));
    sl_buf_init(&changed);
    for (size_t i = 0; i < nq; i++) {
        struct table_column *c = &b->cols[b->ncols];
        const struct table_column *was = NULL;

        for (size_t j = 0; j < b->ncols; j++)
            if (strcmp(b->cols[j].name, qc[i].name) == 0) {
                rc = sl_fail(d, SL_ERR_INPUT, "%s: the SELECT gives two columns named '%s'",
                             b->m->path, qc[i].name);
                goto out;
            }
        if (type_of(qc[i].type, &c->type) < 0) {
            rc = sl_fail(d, SL_ERR_INPUT, "%s: column '%s' is of type %s, which a gold table "
                         "does not hold", b->m->path, qc[i].name, qc[i].type);
            sl_diag_hint(d, "cast it to VARCHAR, INTEGER, BIGINT, FLOAT, DOUBLE, BOOLEAN, DATE, "
                            "TIMESTAMPTZ or DECIMAL(p,s)");
            goto out;
        }
        c->name = sl_arena_strdup(&b->a, qc[i].name);
        for (size_t j = 0; j < old.ncolumns; j++)
            if (strcmp(old.columns[j].name, c->name) == 0)
                was = &old.columns[j];
        if (was != NULL && widens(was->type, c->type)) {
            c->field_id = was->field_id;
        } else {
            if (was != NULL) {
                char t1[32], t2[32];

                sl_type_name(was->type, t1, sizeof(t1));
                sl_type_name(c->type, t2, sizeof(t2));
                sl_buf_addf(&changed, "%scolumn '%s' changes from %s to %s",
                            changed.len ? "; " : "", c->name, t1, t2);
            }
            c->field_id = ++b->last_column_id;
        }
        b->ncols++;
    }
    for (size_t j = 0; j < old.ncolumns; j++) {
        bool kept = false;

        for (size_t i = 0; i < b->ncols; i++)
            kept |= strcmp(b->cols[i].name, old.columns[j].name) == 0;
        if (!kept)
            sl_buf_addf(&changed, "%scolumn '%s' is dropped", changed.len ? "; " : "",
                        old.columns[j].name);
    }
    if (changed.len > 0 && !b->o->full_refresh) {
        rc = sl_fail(d, SL_ERR_INCOMPATIBLE, "%s: gold.%s cannot take this change in place: %s",
                     b->m->path, b->m->name, changed.data);
        sl_diag_hint(d, "sluice build --full-refresh %s rebuilds it with the new columns",
                     b->m->name);
    }
out:
    sl_buf_release(&changed);
    return rc;
}

/* The engine's form of transform kind k. */
static enum engine_part_kind
engine_kind(enum ival_transform_kind k)
{
    switch (k) {
    case IVAL_YEAR:
        return ENGINE_PART_YEAR;
    case IVAL_MONTH:
        return ENGINE_PART_MONTH;
    case IVAL_DAY:
        return ENGINE_PART_DAY;
    case IVAL_HOUR:
        return ENGINE_PART_HOUR;
    case IVAL_BUCKET:
        return ENGINE_PART_BUCKET;
    case IVAL_TRUNCATE_T:
        return ENGINE_PART_TRUNCATE;
    default:
        return ENGINE_PART_IDENTITY;
    }
}

static const struct engine_hashes bucket_hashes = {ival_hash_long, ival_hash_string,
                                                   ival_hash_decimal};

/*
 * The model's partition field over the table's columns: one field (the
 * table component keeps one), a column the SELECT gives, a transform its
 * type takes.  An incremental build keeps the table's partitioning; a
 * change of it needs a full refresh, which rewrites every file.
 */
static int
plan_partition(struct mbuild *b, struct catalog_txn *txn, struct sl_diag *d)
{
    struct sl_buf want;
    char text[96];
    int rc = 0;

    b->nparts = b->m->nparts;
    b->ep = sl_arena_zalloc(&b->a, (b->nparts + 1) * sizeof(*b->ep));
    b->tparts = sl_arena_zalloc(&b->a, (b->nparts + 1) * sizeof(*b->tparts));
    sl_buf_init(&want);
    for (size_t k = 0; k < b->nparts; k++) {
        const struct model_part *mp = &b->m->parts[k];
        const struct table_column *col = NULL;
        char tname[32];

        model_part_text(mp, text, sizeof(text));
        for (size_t i = 0; i < b->ncols; i++)
            if (strcmp(b->cols[i].name, mp->column) == 0)
                col = &b->cols[i];
        if (col == NULL) {
            rc = sl_fail(d, SL_ERR_INPUT, "%s: partition_by %s: the SELECT gives no column "
                         "'%s'", b->m->path, text, mp->column);
            goto out;
        }
        /* (a manifest keeps no decimal or float partition value) */
        if (!ival_transform_applies(mp->transform, col->type) ||
            (col->type.id == SL_TYPE_DECIMAL && mp->transform.kind != IVAL_BUCKET) ||
            col->type.id == SL_TYPE_FLOAT) {
            char t[32];

            sl_type_name(col->type, t, sizeof(t));
            rc = sl_fail(d, SL_ERR_INPUT, "%s: partition_by %s: column '%s' is %s, which that "
                         "transform does not take", b->m->path, text, mp->column, t);
            sl_diag_hint(d, "year, month, day: a date or timestamp; hour: a timestamp; "
                            "bucket: an integer, decimal, date, timestamp or string; truncate: "
                            "an integer or string; identity: any but a decimal or float");
            goto out;
        }
        b->ep[k] = (struct engine_partition){col->name, col->type,
                                             engine_kind(mp->transform.kind),
                                             mp->transform.param, &bucket_hashes};
        b->tparts[k].column = col->name;
        b->tparts[k].transform = mp->transform;
        b->tparts[k].transform.column = col->name;
        ival_transform_name(mp->transform, tname, sizeof(tname));
        sl_buf_addf(&want, "%s%s(%s)", k ? ", " : "", tname, col->name);
    }
    if (b->incremental) {
        struct sl_buf now;

        sl_buf_init(&now);
        rc = table_partition_text(txn, b->s, "gold", b->m->name, &now, d);
        if (rc == 0 && strcmp(now.len ? now.data : "", want.len ? want.data : "") != 0) {
            rc = sl_fail(d, SL_ERR_INCOMPATIBLE, "%s: gold.%s is partitioned by %s, the model "
                         "by %s; an incremental build keeps the table's partitioning",
                         b->m->path, b->m->name, now.len ? now.data : "nothing",
                         want.len ? want.data : "nothing");
            sl_diag_hint(d, "sluice build --full-refresh %s rewrites it partitioned anew",
                         b->m->name);
        }
        sl_buf_release(&now);
    }
out:
    sl_buf_release(&want);
    return rc;
}

/* Whether the model's SQL names its own table ({{ this }}). */
static bool
uses_this(const struct model *m)
{
    for (size_t i = 0; i < m->ntags; i++)
        if (m->tags[i].kind == MODEL_TAG_THIS)
            return true;
    return false;
}

/*
 * {{ this }}: the engine's view gold.<model> of the table as it stands
 * before this build (its current snapshot), when it has been built.  It is
 * not an input of the build: lineage follows what a model reads from other
 * tables, and the rows built so far are the previous snapshot's own.  A
 * table not built yet has no view, and SQL that reads {{ this }} outside
 * `{% if is_incremental %}` then fails as a missing table would.
 */
static int
this_view(struct mbuild *b, struct catalog_txn *txn, struct sl_diag *d)
{
    char *table = sl_printf("gold.%s", b->m->name);
    int rc = 0;

    if (!sl_strlist_has(&b->made, table)) {
        rc = table_view(b->e, txn, b->s, "gold", b->m->name, NULL, NULL, d);
        if (rc == SL_ERR_NOTFOUND && d->code == 0)
            rc = 0;
        else if (rc == 0)
            sl_strlist_add(&b->made, table);
    }
    free(table);
    return rc;
}

/* Steps 1 and 2, in one read transaction. */
static int
prepare(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct mbuild *b = arg;
    struct engine_query_column *qc = NULL;
    size_t nq = 0;
    const char *const schemas[] = {"curated", "gold", "_sluice"};
    int rc = engine_create_schemas(b->e, schemas, 3, d);
    bool append;

    /* Incremental when the last build was (its inputs' snapshots bound the
     * change) and the table is there. */
    b->incremental = false;
    b->ninputs = 0;
    sl_strlist_release(&b->made);
    if (rc == 0 && b->m->materialized == MODEL_INCREMENTAL && !b->o->full_refresh) {
        struct table_schema sch;

        rc = catalog_build_last(txn, b->m->name, &b->a, &b->last, d);
        if (rc == 0)
            b->incremental = strcmp(b->last.materialized, "incremental") == 0 &&
                             table_schema(txn, b->s, "gold", b->m->name, &b->a, &sch, NULL) == 0;
        if (rc == SL_ERR_NOTFOUND && d->code == 0)
            rc = 0;
    }
    if (rc == 0 && b->incremental) {
        const char *gone;

        rc = inputs_kept(b, txn, &gone, d);
        if (rc == 0 && gone != NULL) {
            b->incremental = false;
            snprintf(b->item->why_full, sizeof(b->item->why_full),
                     "the snapshot of %s its last build read has expired", gone);
        }
    }
    if (rc == 0 && b->m->materialized == MODEL_INCREMENTAL && b->m->strategy == MODEL_MERGE)
        rc = key_source(b, txn, d);
    append = b->incremental && b->m->strategy == MODEL_APPEND;
    for (size_t i = 0; rc == 0 && i < b->m->nreads; i++)
        rc = append ? delta_view(b, txn, b->m->reads[i], d)
                    : make_view(b, txn, b->m->reads[i], 0, d);
    if (rc == 0 && b->incremental && b->m->strategy == MODEL_MERGE) {
        rc = touched_keys(b, txn, d);
        sl_strlist_release(&b->gold_keys);
        sl_strlist_release(&b->gold_paths);
        sl_strlist_release(&b->gold_uris);
        sl_strlist_release(&b->gold_dels);
        if (rc == 0)
            rc = table_live_files(txn, b->s, "gold", b->m->name, NULL, NULL, NULL,
                                  add_gold_file, b, d);
    }
    if (rc == 0 && b->m->materialized != MODEL_VIEW && uses_this(b->m))
        rc = this_view(b, txn, d);
    if (rc < 0)
        return rc;
    free(b->sql);
    b->sql = statement_of(b->m, b->incremental);
    if (b->m->materialized == MODEL_VIEW) {
        rc = engine_describe(b->e, b->sql, &qc, &nq, d);
        if (rc < 0)
            return locate_error(b, d);
        engine_query_columns_release(qc, nq);
        return 0;
    }
    rc = engine_describe(b->e, b->sql, &qc, &nq, d);
    if (rc < 0)
        return locate_error(b, d);
    rc = plan_columns(b, txn, qc, nq, d);
    engine_query_columns_release(qc, nq);
    if (rc == 0)
        rc = plan_partition(b, txn, d);
    return rc;
}

/* ---- 3 and 4. write and commit ------------------------------------------------------------ */

/* The value for field k of a file from the engine's text of it ("n" for
 * null, "v" and the value): an int of the calendar transforms and bucket,
 * the column's own type for identity and truncate. */
static int
part_value(struct mbuild *b, size_t k, const char *text, struct mf_pvalue *out,
           struct sl_diag *d)
{
    const char *v = text ? text + 1 : "";
    enum sl_type_id id = b->ep[k].type.id;
    enum ival_transform_kind kind = b->tparts[k].transform.kind;
    char *end = NULL;

    memset(out, 0, sizeof(*out));
    if (text != NULL && strcmp(text, "n") == 0)
        return 0;
    if (text == NULL || text[0] != 'v')
        return sl_fail(d, SL_ERR_ENGINE, "gold.%s: a partitioned write gave no partition value",
                       b->m->name);
    out->set = true;
    if (kind == IVAL_IDENTITY || kind == IVAL_TRUNCATE_T) {
        if (id == SL_TYPE_STRING) {
            out->s = sl_arena_strdup(&b->a, v);
            return 0;
        }
        if (id == SL_TYPE_DOUBLE) {
            out->f = strtod(v, &end);
            goto check;
        }
    }
    errno = 0;
    out->i = strtoll(v, &end, 10);
    if (errno != 0)
        end = NULL;
check:
    if (end == NULL || end == v || *end != '\0')
        return sl_fail(d, SL_ERR_ENGINE, "gold.%s: a partition value '%s' is not a %s",
                       b->m->name, v, id == SL_TYPE_DOUBLE ? "number" : "whole number");
    return 0;
}

/* The final key of data file n of the build, in the folder of its first
 * partition field's value where that transform has one (dt=2026-03-01,
 * customer_id_bucket=7). */
static char *
data_key(struct mbuild *b, const struct mf_pvalue *pv, size_t n)
{
    char *prefix = layout_table_prefix("gold", b->m->name), *key;
    char dir[IVAL_PARTITION_TEXT], val[IVAL_PARTITION_TEXT];
    bool folder = false;

    if (b->nparts > 0 && pv[0].set && b->tparts[0].transform.kind != IVAL_IDENTITY &&
        b->tparts[0].transform.kind != IVAL_TRUNCATE_T)
        folder = ival_partition_folder(b->tparts[0].transform, (int32_t)pv[0].i, dir, val);
    key = layout_curated_data_key(prefix, folder ? dir : NULL, folder ? val : NULL, b->run_id,
                                  (int)n);
    free(prefix);
    return key;
}

/* The position delete files of the table's rows with a touched key
 * (merge): one for the table, or one for each data file of a partitioned
 * table (a delete file applies within its own partition only). */
static int
write_deletes(struct mbuild *b, struct sl_diag *d)
{
    char *prefix = layout_table_prefix("gold", b->m->name), *mark = sl_printf("/%s/", prefix);
    size_t n = b->nparts > 0 ? b->gold_paths.n : 1;
    const char **paths = sl_calloc(n, sizeof(*paths));
    struct engine_file_stats *st = sl_calloc(n, sizeof(*st));
    const char **sealed = sl_calloc(n, sizeof(*sealed));
    size_t nsealed = 0;
    int rc = 0;

    b->dels = sl_calloc(n, sizeof(*b->dels));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *name = sl_printf("gold-%lld-deletes-%zu.parquet", (long long)b->run_id, i);

        rc = commit_stage(b->commit, name, &b->dels[i].staged_key, &b->dels[i].staged_path, d);
        paths[i] = b->dels[i].staged_path;
        free(name);
    }
    if (rc == 0) {
        struct engine_view v = {
            .nfiles = b->gold_paths.n,
            .paths = (const char *const *)b->gold_paths.v,
            .keys = (const char *const *)b->gold_keys.v,
            .ndeletes = b->gold_dels.n,
            .deletes = (const char *const *)b->gold_dels.v,
            .uri_key_mark = mark,
        };
        const char *const *uris = (const char *const *)b->gold_uris.v;
        const char *const *keys = (const char *const *)b->m->unique_key;
        int64_t level = b->p->config.transform.zstd_level;

        if (b->nparts > 0)
            rc = engine_write_key_deletes_per_file(b->e, paths, &v, uris, keys,
                                                   b->m->nunique_key, "_sluice.touched", level,
                                                   st, d);
        else
            rc = engine_write_key_deletes(b->e, paths[0], &v, uris, keys, b->m->nunique_key,
                                          "_sluice.touched", level, st, d);
    }
    /* Only files with rows are kept: the others are not written at all
     * or hold nothing. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct gold_file *f = &b->dels[b->ndels];

        if (st[i].rows == 0) {
            commit_unstage(b->commit, b->dels[i].staged_key);
            engine_file_stats_release(&st[i]);
            continue;
        }
        *f = b->dels[i];
        f->stats = st[i];
        memset(&st[i], 0, sizeof(st[i]));
        if (b->nparts > 0) {
            char which[32];

            snprintf(which, sizeof(which), "f%zu", i);
            f->partition = b->gold_parts[i];
            f->referenced_key = b->gold_keys.v[i];
            f->final_key = layout_curated_deletes_key(prefix, which, b->run_id);
        } else {
            f->final_key = layout_curated_deletes_key(prefix, NULL, b->run_id);
        }
        sealed[nsealed++] = f->staged_key;
        b->ndels++;
    }
    if (rc == 0)
        rc = commit_seal_many(b->commit, sealed, nsealed, d);
    for (size_t i = 0; i < n; i++)
        engine_file_stats_release(&st[i]);
    free(sealed);
    free(st);
    free(paths);
    free(mark);
    free(prefix);
    return rc;
}

/* The rows of a partitioned table: DuckDB writes a file for each
 * partition value into a staged folder; each is then staged under a name
 * of its own. */
static int
write_partitioned(struct mbuild *b, struct engine_write *w, struct sl_diag *d)
{
    char *name = sl_printf("gold-%lld-parts/.folder", (long long)b->run_id);
    const char *key, *path;
    char *dir = NULL;
    struct engine_file_stats *st = NULL;
    size_t n = 0;
    int rc = commit_stage(b->commit, name, &key, &path, d);

    free(name);
    if (rc == 0) {
        dir = sl_dirname(path);
        w->path = dir;
        w->partition = b->ep;
        w->npartition = b->nparts;
        rc = engine_write_partitioned(b->e, w, &st, &n, d);
        if (rc < 0)
            rc = locate_error(b, d);
    }
    b->files = sl_calloc(n ? n : 1, sizeof(*b->files));
    for (size_t i = 0; i < n; i++) {
        struct gold_file *f = &b->files[b->nfiles];

        if (rc == 0) {
            name = sl_printf("gold-%lld-%zu.parquet", (long long)b->run_id, i);
            rc = commit_stage(b->commit, name, &f->staged_key, &f->staged_path, d);
            free(name);
        }
        if (rc == 0 && rename(st[i].path, f->staged_path) < 0)
            rc = sl_fail(d, -errno, "cannot move %s to %s: %s", st[i].path,
                         f->staged_path, strerror(errno));
        f->partition = sl_arena_zalloc(&b->a, (b->nparts + 1) * sizeof(*f->partition));
        if (rc == 0 && st[i].npartition != b->nparts)
            rc = sl_fail(d, SL_ERR_ENGINE, "gold.%s: a partitioned write gave %zu values for a "
                         "file of %zu fields", b->m->name, st[i].npartition, b->nparts);
        for (size_t k = 0; rc == 0 && k < b->nparts; k++)
            rc = part_value(b, k, st[i].partition[k], &f->partition[k], d);
        if (rc == 0) {
            f->stats = st[i];
            memset(&st[i], 0, sizeof(st[i]));
            f->final_key = data_key(b, f->partition, i);
            b->nfiles++;
        }
        engine_file_stats_release(&st[i]);
    }
    free(st);
    if (dir != NULL)
        sl_rmtree(dir);
    free(dir);
    return rc;
}

static int
write_rows(struct mbuild *b, struct sl_diag *d)
{
    struct engine_column *ec = sl_calloc(b->ncols + 1, sizeof(*ec));
    struct engine_write w = {
        .ncolumns = b->ncols,
        .columns = ec,
        .query = b->sql,
        .zstd_level = b->p->config.transform.zstd_level,
        .row_group_rows = b->p->config.transform.row_group_rows,
    };
    const char **sealed = NULL;
    int rc = 0;

    for (size_t j = 0; j < b->ncols; j++)
        ec[j] = (struct engine_column){b->cols[j].name, b->cols[j].type, b->cols[j].field_id};
    if (b->incremental && b->m->strategy == MODEL_MERGE) {
        w.keys_view = "_sluice.touched";
        w.key_columns = (const char *const *)b->m->unique_key;
        w.nkeys = b->m->nunique_key;
    }
    if (b->nparts > 0) {
        rc = write_partitioned(b, &w, d);
    } else {
        char *name = sl_printf("gold-%lld-0.parquet", (long long)b->run_id);
        struct gold_file *f;

        b->files = sl_calloc(1, sizeof(*b->files));
        f = &b->files[0];
        rc = commit_stage(b->commit, name, &f->staged_key, &f->staged_path, d);
        free(name);
        w.path = f->staged_path;
        if (rc == 0 && (rc = engine_write_many(b->e, &w, 1, &f->stats, d)) < 0)
            rc = locate_error(b, d);
        /* No rows, no file. */
        if (rc == 0 && f->stats.rows == 0) {
            commit_unstage(b->commit, f->staged_key);
            engine_file_stats_release(&f->stats);
        } else if (rc == 0) {
            f->final_key = data_key(b, f->partition, 0);
            b->nfiles = 1;
        }
    }
    if (rc == 0) {
        sealed = sl_calloc(b->nfiles + 1, sizeof(*sealed));
        for (size_t i = 0; i < b->nfiles; i++) {
            sealed[i] = b->files[i].staged_key;
            b->rows += b->files[i].stats.rows;
            b->bytes += b->files[i].stats.bytes;
        }
        rc = commit_seal_many(b->commit, sealed, b->nfiles, d);
    }
    if (rc == 0 && b->incremental && b->m->strategy == MODEL_MERGE && b->gold_paths.n > 0)
        rc = write_deletes(b, d);
    free(sealed);
    free(ec);
    return rc;
}

/* The unique key as the table's identifier fields: "a,b". */
static const char *
key_columns(struct mbuild *b)
{
    struct sl_buf k;
    const char *out;

    if (b->m->nunique_key == 0)
        return NULL;
    sl_buf_init(&k);
    for (size_t i = 0; i < b->m->nunique_key; i++)
        sl_buf_addf(&k, "%s%s", i ? "," : "", b->m->unique_key[i]);
    out = sl_arena_strdup(&b->a, k.data);
    sl_buf_release(&k);
    return out;
}

static int
record_build(struct catalog_txn *txn, struct commit *c, void *arg, struct sl_diag *d)
{
    struct mbuild *b = arg;
    char hex[2 * 32 + 1], *checksum, *prefix = NULL;
    int rc = 0;

    b->item->snapshot_id = -1;
    if (b->m->materialized != MODEL_VIEW) {
        struct table_file *f = sl_calloc(b->nfiles + b->ndels + 1, sizeof(*f));
        struct table_def def = {0};
        struct table_committed done = {-1, 0};
        struct sl_arena a;
        size_t nadded = 0;

        /* A full build retires every file live now (a retried attempt
         * lists them again); an incremental one adds to them. */
        sl_strlist_release(&b->retired);
        if (b->exists && !b->incremental)
            rc = table_live_files(txn, b->s, "gold", b->m->name, NULL, NULL, NULL, live_key,
                                  &b->retired, d);
        if (rc < 0) {
            free(f);
            return rc;
        }
        b->rec->files_removed = (int64_t)b->retired.n;
        sl_arena_init(&a, 0);
        prefix = layout_table_prefix("gold", b->m->name);
        def.ns = "gold";
        def.name = b->m->name;
        def.prefix = prefix;
        def.ncolumns = b->ncols;
        def.columns = b->cols;
        def.last_column_id = b->last_column_id;
        def.transform.kind = IVAL_VOID;
        def.nparts = b->nparts;
        def.parts = b->tparts;
        def.key_columns = key_columns(b);
        for (size_t i = 0; i < b->nfiles; i++) {
            const struct gold_file *g = &b->files[i];
            struct table_file *x = &f[nadded++];

            x->key = g->final_key;
            x->content = MF_DATA;
            x->partition_values = g->partition;
            x->records = g->stats.rows;
            x->bytes = g->stats.bytes;
            x->nstats = b->ncols;
            x->stats = sl_arena_zalloc(&a, (b->ncols + 1) * sizeof(*x->stats));
            for (size_t j = 0; j < b->ncols; j++)
                table_column_stats(&b->cols[j], &g->stats, &a, &x->stats[j]);
        }
        for (size_t i = 0; i < b->ndels; i++) {
            const struct gold_file *g = &b->dels[i];
            struct table_file *x = &f[nadded++];

            x->key = g->final_key;
            x->content = MF_POSITION_DELETES;
            x->partition_values = g->partition;
            x->records = g->stats.rows;
            x->bytes = g->stats.bytes;
            x->referenced_key = g->referenced_key;
        }
        struct table_change ch = {b->run_id, NULL, nadded, f, b->retired.n,
                                  (const char *const *)b->retired.v, b->held};

        rc = table_commit(txn, b->s, &def, &ch, &done, d);
        sl_arena_release(&a);
        free(f);
        for (size_t i = 0; rc == 0 && i < b->nfiles; i++)
            commit_publish_as(c, b->files[i].staged_key, b->files[i].final_key);
        for (size_t i = 0; rc == 0 && i < b->ndels; i++)
            commit_publish_as(c, b->dels[i].staged_key, b->dels[i].final_key);
        b->item->snapshot_id = done.snapshot_id;
    }
    sl_hex(b->m->sha256, 32, hex);
    checksum = sl_printf("sha256:%s", hex);
    struct build_record r = {
        .run_id = b->run_id,
        .model = b->m->name,
        .materialized = b->m->materialized == MODEL_VIEW    ? "view"
                        : b->m->materialized == MODEL_TABLE ? "table"
                                                            : "incremental",
        .full = !b->incremental,
        .checksum = checksum,
        .version = b->o->version,
        .snapshot_id = b->item->snapshot_id,
        .view_sql = b->m->materialized == MODEL_VIEW ? b->sql : NULL,
        .ninputs = b->ninputs,
        .inputs = b->inputs,
    };

    if (rc == 0)
        rc = catalog_build_add(txn, &r, d);
    free(checksum);
    free(prefix);
    return rc;
}

/* The rendered SQL without a final ';' (and the space after it). */
static char *
statement_of(const struct model *m, bool incremental)
{
    char this_table[200];
    char *sql;
    size_t n;

    snprintf(this_table, sizeof(this_table), "gold.\"%s\"", m->name);
    /* the merge's touched keys (touched_keys()), built before the SQL */
    sql = model_render(m, incremental, this_table,
                       incremental && m->strategy == MODEL_MERGE ? "_sluice.touched" : NULL);
    n = strlen(sql);
    while (n > 0 && isspace((unsigned char)sql[n - 1]))
        n--;
    if (n > 0 && sql[n - 1] == ';')
        n--;
    sql[n] = '\0';
    return sql;
}

static int
build_one(struct mbuild *b, struct sl_diag *d)
{
    const struct engine_settings *es = &b->p->config.engine;
    struct engine_opts eo = {es->threads, es->memory_limit, NULL, 1};
    struct run_record rec = {0};
    char *key = NULL, *path = NULL, *dir = NULL, *table = NULL, *lock_name;
    struct catalog_lock *lock = NULL;
    int64_t started = sl_now_usec();
    int rc;

    /* One build of a model at a time, on every node sharing the catalog. */
    lock_name = sl_printf("build-%s", b->m->name);
    rc = catalog_lock(b->cat, lock_name, true, &lock, d);
    free(lock_name);
    if (rc < 0)
        return rc;
    /* A held build waits for its decision: the next builds on top of it. */
    rc = catalog_txn_run(b->cat, CATALOG_READ, no_held_build, b, d);
    if (rc < 0) {
        catalog_unlock(lock);
        return rc;
    }
    table = sl_printf("gold.%s", b->m->name);
    b->held = b->m->materialized != MODEL_VIEW && b->o->gated != NULL &&
              b->o->gated(b->o->gate_arg, table);
    b->commit = commit_new(b->s, b->cat, "build", b->m->name);
    rc = commit_run_id(b->commit, &b->run_id, d);
    if (rc == 0)
        rc = store_stage(b->s, "engine-spill/.keep", &key, &path, d);
    if (rc == 0) {
        dir = sl_dirname(path);
        eo.temp_dir = dir;
        rc = engine_open(&eo, &b->e, d);
    }
    b->item->run_id = b->run_id;
    if (rc == 0)
        rc = catalog_txn_run(b->cat, CATALOG_READ, prepare, b, d);
    if (rc == 0 && b->m->materialized != MODEL_VIEW)
        rc = write_rows(b, d);
    if (rc == 0) {
        rec.table = table;
        rec.started_at = started;
        rec.records_in = rec.written = rec.inserted = b->rows;
        rec.files_added = (int64_t)(b->nfiles + b->ndels);
        rec.bytes_written = b->bytes;
        b->rec = &rec;
        rc = commit_finish(b->commit, &rec, b->held ? COMMIT_HOLD : COMMIT_PUBLISH,
                           record_build, b, d);
    }
    if (rc == 0 && b->held) {
        bool publish = false;

        rc = b->o->gate(b->o->gate_arg, b->cat, b->run_id, table, &publish, b->item->gate,
                        sizeof(b->item->gate), d);
        if (rc == 0 && publish)
            rc = commit_decide(b->s, b->cat, b->run_id, true, models_publish_held, NULL, NULL, d);
        if (rc == 0 && publish)
            b->held = false;
    }
    b->item->full = !b->incremental;
    b->item->rows = b->rows;
    b->item->files = (int64_t)b->nfiles;
    b->item->bytes = b->bytes;
    engine_close(b->e);
    b->e = NULL;
    catalog_unlock(lock);
    free(table);
    free(dir);
    free(key);
    free(path);
    return rc;
}

static void
mbuild_release(struct mbuild *b)
{
    engine_close(b->e);
    commit_free(b->commit);
    free(b->sql);
    for (size_t i = 0; i < b->nfiles; i++) {
        free(b->files[i].final_key);
        engine_file_stats_release(&b->files[i].stats);
    }
    free(b->files);
    for (size_t i = 0; i < b->ndels; i++) {
        free(b->dels[i].final_key);
        engine_file_stats_release(&b->dels[i].stats);
    }
    free(b->dels);
    free(b->gold_parts);
    free(b->inputs);
    sl_strlist_release(&b->gold_keys);
    sl_strlist_release(&b->gold_paths);
    sl_strlist_release(&b->gold_uris);
    sl_strlist_release(&b->gold_dels);
    sl_strlist_release(&b->made);
    sl_strlist_release(&b->retired);
    sl_arena_release(&b->a);
}

/* ---- the set ------------------------------------------------------------------------------ */

/*
 * Models are built by build.threads workers, each with its own catalog
 * connection and engine: a worker takes the first model in build order
 * whose gold inputs are built (or not chosen: they are read as they are);
 * a model whose input failed or was skipped is skipped.  One worker builds
 * in order without waiting.
 */
enum slot { WAITING, RUNNING, FINISHED };

struct sched {
    struct project *p;
    struct store *s;
    const struct model_set *set;
    const bool *chosen;
    const struct build_opts *o;
    struct build_item *items;
    enum slot *state;
    size_t left;                  /* chosen models not finished */
    int fatal;                    /* a failure that is not a model's */
    struct sl_diag fatal_diag;
    pthread_mutex_t lock;
    pthread_cond_t done;
};

/* Under the lock: the next model to build (skipping those whose inputs
 * did not build), or set->n when none is ready now. */
static size_t
next_ready(struct sched *sc)
{
    for (size_t k = 0; k < sc->set->n; k++) {
        size_t i = sc->set->order[k];
        const struct model *m = &sc->set->v[i];
        const char *failed_up = NULL;
        bool ready = true;

        if (sc->state[i] != WAITING)
            continue;
        for (size_t j = 0; j < m->ndeps; j++) {
            size_t up = m->deps[j];

            if (!sc->chosen[up])
                continue;
            if (sc->state[up] != FINISHED)
                ready = false;
            else if (sc->items[up].outcome != BUILD_DONE)
                failed_up = sc->set->v[up].name;
        }
        if (failed_up != NULL) {
            sc->state[i] = FINISHED;
            sc->items[i].outcome = BUILD_SKIPPED;
            sl_fail(&sc->items[i].diag, SL_ERR_INPUT,
                    "skipped: it reads gold.%s, which did not build", failed_up);
            sc->left--;
            pthread_cond_broadcast(&sc->done);
            return next_ready(sc);
        }
        if (ready)
            return i;
    }
    return sc->set->n;
}

struct held_build {
    const char *model;
    int64_t run_id;
};

static int
held_build(void *arg, const struct run_record *r)
{
    struct held_build *h = arg;

    if (strcmp(r->kind, "build") == 0 && strcmp(r->source, h->model) == 0)
        h->run_id = r->run_id;
    return 0;
}

static int
no_held_build(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct mbuild *b = arg;
    struct held_build h = {b->m->name, 0};
    int rc = catalog_run_list(txn, b->m->name, 0, true, held_build, &h, d);

    if (rc == 0 && h.run_id != 0) {
        sl_fail(d, SL_ERR_BUSY, "build %" PRId64 " of gold.%s is held by its quality gate",
                h.run_id, b->m->name);
        sl_diag_hint(d, "'sluice staged' shows why; 'sluice publish %" PRId64 "' or 'sluice "
                        "discard %" PRId64 "' settles it, then build again",
                     h.run_id, h.run_id);
        return SL_ERR_BUSY;
    }
    return rc;
}

static void
build_with(struct sched *sc, struct catalog *cat, size_t i)
{
    struct build_item *it = &sc->items[i];
    struct mbuild b = {.p = sc->p, .s = sc->s, .cat = cat, .set = sc->set, .o = sc->o,
                       .m = &sc->set->v[i], .item = it};
    double t0 = sl_mono_sec();
    int rc;

    sl_arena_init(&b.a, 0);
    rc = build_one(&b, &it->diag);
    mbuild_release(&b);
    it->seconds = sl_mono_sec() - t0;
    pthread_mutex_lock(&sc->lock);
    if (rc == SL_ERR_INDOUBT || rc == SL_ERR_CATALOG) {
        if (sc->fatal == 0) {
            sc->fatal = rc;
            sc->fatal_diag = it->diag;
        }
    }
    it->outcome = rc < 0 ? BUILD_FAILED : b.held ? BUILD_HELD : BUILD_DONE;
    if (rc < 0)
        SL_DEBUG("build", "%s failed: %s", sc->set->v[i].name, it->diag.msg);
    sc->state[i] = FINISHED;
    sc->left--;
    pthread_cond_broadcast(&sc->done);
    pthread_mutex_unlock(&sc->lock);
}

/* A worker with catalog cat. */
static void
work(struct sched *sc, struct catalog *cat)
{
    pthread_mutex_lock(&sc->lock);
    while (sc->left > 0 && sc->fatal == 0) {
        size_t i = next_ready(sc);

        if (i == sc->set->n) {
            if (sc->left > 0)
                pthread_cond_wait(&sc->done, &sc->lock);
            continue;
        }
        sc->state[i] = RUNNING;
        pthread_mutex_unlock(&sc->lock);
        build_with(sc, cat, i);
        pthread_mutex_lock(&sc->lock);
    }
    pthread_mutex_unlock(&sc->lock);
}

static void *
worker(void *arg)
{
    struct sched *sc = arg;
    struct catalog *cat = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_open(sc->p->catalog, 0, &cat, &d) < 0) {
        SL_WARN("build", "a build worker cannot open the catalog: %s", d.msg);
        return NULL;
    }
    work(sc, cat);
    catalog_close(cat);
    return NULL;
}

int
models_build(struct project *p, struct store *s, struct catalog *cat,
             const struct model_set *set, const bool *chosen, const struct build_opts *o,
             struct build_item *items, struct sl_diag *d)
{
    struct sched sc = {.p = p, .s = s, .set = set, .chosen = chosen, .o = o, .items = items};
    size_t failed = 0, skipped = 0, held = 0, nthreads = (size_t)p->config.build.threads;
    pthread_t tid[64];
    size_t started = 0;
    char *key = NULL, *path = NULL;
    int rc;

    sc.state = sl_calloc(set->n + 1, sizeof(*sc.state));
    for (size_t i = 0; i < set->n; i++) {
        memset(&items[i], 0, sizeof(items[i]));
        items[i].snapshot_id = -1;
        sl_diag_init(&items[i].diag);
        sc.state[i] = chosen[i] ? WAITING : FINISHED;
        sc.left += chosen[i];
    }
    sl_diag_init(&sc.fatal_diag);
    /* The staging area exists before workers stage into it. */
    rc = store_stage(s, "engine-spill/.keep", &key, &path, d);
    free(key);
    free(path);
    if (rc < 0) {
        free(sc.state);
        return rc;
    }
    pthread_mutex_init(&sc.lock, NULL);
    pthread_cond_init(&sc.done, NULL);
    if (nthreads > sc.left)
        nthreads = sc.left;
    for (size_t t = 1; t < nthreads && t < sizeof(tid) / sizeof(tid[0]); t++) {
        if (pthread_create(&tid[started], NULL, worker, &sc) != 0)
            break;
        started++;
    }
    work(&sc, cat);
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_cond_destroy(&sc.done);
    pthread_mutex_destroy(&sc.lock);
    free(sc.state);
    if (sc.fatal != 0) {
        *d = sc.fatal_diag;
        return sc.fatal;
    }
    for (size_t i = 0; i < set->n; i++) {
        failed += items[i].outcome == BUILD_FAILED;
        skipped += items[i].outcome == BUILD_SKIPPED;
        held += items[i].outcome == BUILD_HELD;
    }
    if (failed + skipped + held > 0)
        return sl_fail(d, SL_ERR_INPUT, "%zu model(s) failed, %zu held by their quality gate, "
                       "%zu skipped", failed, held, skipped);
    return 0;
}

/* ---- the gold zone for readers ------------------------------------------------------------ */

struct gold_views {
    struct engine *e;
    struct store *s;
    struct sl_strlist tables, models;
};

static int
gold_views(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct gold_views *g = arg;
    const char *const schemas[] = {"gold"};
    struct sl_strlist todo = {0};
    int rc = engine_create_schemas(g->e, schemas, 1, d);

    if (rc == 0)
        rc = catalog_iceberg_list(txn, "gold", add_name, &g->tables, d);
    if (rc == 0)
        rc = catalog_build_models(txn, add_name, &g->models, d);
    for (size_t i = 0; rc == 0 && i < g->tables.n; i++)
        rc = table_view(g->e, txn, g->s, "gold", g->tables.v[i] + 5, NULL, NULL, d);
    /* Views, each once what it reads exists: those that fail wait for the
     * next round while any round makes one. */
    for (size_t i = 0; rc == 0 && i < g->models.n; i++)
        sl_strlist_add(&todo, g->models.v[i]);
    for (bool progress = true; rc == 0 && progress && todo.n > 0;) {
        struct sl_strlist next = {0};

        progress = false;
        for (size_t i = 0; rc == 0 && i < todo.n; i++) {
            struct build_record last;
            struct sl_arena a;
            struct sl_diag vd;

            sl_arena_init(&a, 0);
            sl_diag_init(&vd);
            rc = catalog_build_last(txn, todo.v[i], &a, &last, d);
            if (rc == 0 && strcmp(last.materialized, "view") == 0) {
                if (engine_query_view(g->e, "gold", last.model, last.view_sql, &vd) == 0)
                    progress = true;
                else
                    sl_strlist_add(&next, todo.v[i]);
            }
            sl_arena_release(&a);
        }
        sl_strlist_release(&todo);
        todo = next;
    }
    if (rc == 0 && todo.n > 0)
        SL_WARN("build", "gold.%s: its saved query no longer runs; rebuild it", todo.v[0]);
    sl_strlist_release(&todo);
    return rc;
}

int
models_views(struct engine *e, struct catalog *cat, struct store *s, struct sl_diag *d)
{
    struct gold_views g = {e, s, {0}, {0}};
    int rc = catalog_txn_run(cat, CATALOG_READ, gold_views, &g, d);

    sl_strlist_release(&g.tables);
    sl_strlist_release(&g.models);
    return rc;
}

/* ---- held builds ----------------------------------------------------------------------- */

struct held_of {
    int64_t run_id;
    struct sl_arena a;
    struct run_record run;
    struct build_record build;
    struct sl_strlist keys, staged;   /* the run's publications */
};

static int
add_step(void *arg, const struct catalog_pending *p)
{
    struct held_of *h = arg;

    if (p->op != CATALOG_PUBLISH)
        return 0;
    sl_strlist_add(&h->keys, p->dst);
    return sl_strlist_add(&h->staged, p->src);
}

/* The held build run_id: its run, its build record, and (steps) where its
 * files are staged. */
static int
read_held(struct catalog_txn *txn, struct held_of *h, bool steps, struct sl_diag *d)
{
    int rc = catalog_run_get(txn, h->run_id, &h->a, &h->run, d);

    if (rc == 0 && strcmp(h->run.kind, "build") != 0)
        rc = sl_fail(d, SL_ERR_INPUT, "run %" PRId64 " is a %s, not a build", h->run_id,
                     h->run.kind);
    if (rc == 0)
        rc = catalog_build_last(txn, h->run.source, &h->a, &h->build, d);
    if (rc == SL_ERR_NOTFOUND || (rc == 0 && h->build.run_id != h->run_id))
        rc = sl_fail(d, SL_ERR_CORRUPT, "held build %" PRId64 " of gold.%s has no record",
                     h->run_id, h->run.source);
    if (rc == 0 && steps)
        rc = catalog_pending_list(txn, h->run_id, true, add_step, h, d);
    return rc;
}

/* Make held build run_id's staged snapshot current, or drop it. */
static int
decide_held(struct catalog_txn *txn, struct store *s, int64_t run_id, bool publish,
            struct sl_diag *d)
{
    struct held_of h = {.run_id = run_id};
    int rc;

    sl_arena_init(&h.a, 0);
    rc = read_held(txn, &h, false, d);
    if (rc == 0 && h.build.snapshot_id >= 0)
        rc = publish ? table_publish_staged(txn, s, "gold", h.run.source, h.build.snapshot_id, d)
                     : table_drop_staged(txn, s, "gold", h.run.source, h.build.snapshot_id, d);
    sl_arena_release(&h.a);
    return rc;
}

int
models_publish_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                    struct sl_diag *d)
{
    (void)arg;
    return decide_held(txn, s, run_id, true, d);
}

int
models_discard_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                    struct sl_diag *d)
{
    (void)arg;
    return decide_held(txn, s, run_id, false, d);
}

struct held_view {
    struct engine *e;
    struct store *s;
    struct held_of h;
};

static int
held_view(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct held_view *v = arg;
    int rc;

    sl_strlist_release(&v->h.keys);
    sl_strlist_release(&v->h.staged);
    rc = read_held(txn, &v->h, true, d);
    if (rc == 0)
        rc = table_view_staged(v->e, txn, v->s, "gold", v->h.run.source, v->h.build.snapshot_id,
                               (const char *const *)v->h.keys.v,
                               (const char *const *)v->h.staged.v, v->h.keys.n, d);
    return rc;
}

int
models_held_view(struct engine *e, struct catalog *cat, struct store *s, int64_t run_id,
                 struct sl_diag *d)
{
    struct held_view v = {e, s, {.run_id = run_id}};
    const char *const schemas[] = {"gold"};
    int rc;

    sl_arena_init(&v.h.a, 0);
    rc = engine_create_schemas(e, schemas, 1, d);
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_READ, held_view, &v, d);
    sl_strlist_release(&v.h.keys);
    sl_strlist_release(&v.h.staged);
    sl_arena_release(&v.h.a);
    return rc;
}
