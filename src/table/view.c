/*
 * view.c - the table and the engine's files: a snapshot as a view, and a
 * written file's statistics as the manifests keep them (see table.h).
 *
 * The view is the snapshot's live data files less the rows its position
 * delete files name, with the columns of the table's current schema; the
 * engine builds it (engine_parquet_view()).  Files written before a column
 * was added lack it; they are read by name, union by name, so the column
 * reads as NULL in their rows.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "engine/engine.h"
#include "store/layout.h"
#include "table/table.h"
#include "core/banned.h"

struct view_files {
    struct store *s;
    struct sl_strlist paths, keys, dels;
    struct sl_diag *d;
    /* files read from elsewhere (a staged snapshot's) */
    const char *const *from, *const *to;
    size_t nremap;
};

static int
add_live(void *arg, const struct table_entry *f)
{
    struct view_files *v = arg;
    const char *where = f->key;
    char *path;
    int rc;

    for (size_t i = 0; i < v->nremap; i++)
        if (strcmp(v->from[i], f->key) == 0)
            where = v->to[i];
    rc = store_local_path(v->s, where, &path, v->d);

    if (rc < 0)
        return rc;
    if (f->content == MF_DATA) {
        sl_strlist_add(&v->paths, path);
        sl_strlist_add(&v->keys, f->key);
    } else {
        sl_strlist_add(&v->dels, path);
    }
    free(path);
    return 0;
}

static int
view_of(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
        const char *name, const struct table_at *at, int64_t *snapshot_id,
        struct view_files v, struct sl_diag *d)
{
    struct table_schema sch;
    struct engine_column *cols = NULL;
    struct sl_arena a;
    char *prefix = layout_table_prefix(ns, name), *mark = sl_printf("/%s/", prefix);
    int32_t max_id = 0;
    int rc;

    sl_arena_init(&a, 0);
    rc = table_schema(txn, s, ns, name, &a, &sch, d);
    if (rc == 0)
        rc = table_live_files(txn, s, ns, name, at, NULL, snapshot_id, add_live, &v, d);
    if (rc == 0) {
        cols = sl_calloc(sch.ncolumns + 1, sizeof(*cols));
        for (size_t j = 0; j < sch.ncolumns; j++) {
            cols[j] = (struct engine_column){sch.columns[j].name, sch.columns[j].type,
                                             sch.columns[j].field_id};
            if (sch.columns[j].field_id > max_id)
                max_id = sch.columns[j].field_id;
        }
        struct engine_view ev = {
            .schema = ns,
            .name = name,
            .ncolumns = sch.ncolumns,
            .columns = cols,
            .max_field_id = v.paths.n > 0 ? max_id : 0,
            .nfiles = v.paths.n,
            .paths = (const char *const *)v.paths.v,
            .keys = (const char *const *)v.keys.v,
            .ndeletes = v.dels.n,
            .deletes = (const char *const *)v.dels.v,
            .uri_key_mark = mark,
        };

        rc = engine_parquet_view(e, &ev, d);
    }
    free(cols);
    free(mark);
    free(prefix);
    sl_strlist_release(&v.paths);
    sl_strlist_release(&v.keys);
    sl_strlist_release(&v.dels);
    sl_arena_release(&a);
    return rc;
}

int
table_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
           const char *name, const struct table_at *at, int64_t *snapshot_id,
           struct sl_diag *d)
{
    struct view_files v = {.s = s, .d = d};

    return view_of(e, txn, s, ns, name, at, snapshot_id, v, d);
}

int
table_view_staged(struct engine *e, struct catalog_txn *txn, struct store *s,
                  const char *ns, const char *name, int64_t snapshot_id,
                  const char *const *keys, const char *const *staged, size_t n,
                  struct sl_diag *d)
{
    struct view_files v = {.s = s, .d = d, .from = keys, .to = staged, .nremap = n};
    struct table_at at = {snapshot_id, -1};

    return view_of(e, txn, s, ns, name, &at, NULL, v, d);
}

/* ---- what changed since a snapshot ---------------------------------------------------- */

/*
 * A data file's bounds in the columns that can prove two rows unequal:
 * int64, date and timestamp columns (their single-value bounds are plain
 * integers) with statistics and no nulls in the file.  Rows equal as
 * EXCEPT ALL compares them have the same value in every such column, so a
 * file whose bounds in one of them do not meet another file's holds no row
 * of the other.
 */
struct file_bounds {
    bool *has;                              /* per schema column */
    int64_t *lo, *hi;
};

/* A snapshot's live files, by kind, with what a change needs of each. */
struct live_set {
    struct store *s;
    struct sl_strlist data, dels;           /* store keys */
    struct sl_strlist del_refs;             /* per delete: its one data file's key, or "" */
    struct sl_strlist del_parts, data_parts;/* partition values, as text */
    struct file_bounds *bounds;             /* per data file */
    size_t bcap;
    const struct table_schema *sch;         /* the columns bounds are kept for */
    struct sl_diag *d;
    const char *prefix;
};

/* An integer single-value bound of a column of type id, or false. */
static bool
int_bound(enum sl_type_id id, const uint8_t *b, size_t len, int64_t *out)
{
    uint64_t u = 0;

    if (b == NULL)
        return false;
    if ((id == SL_TYPE_INT64 || id == SL_TYPE_TIMESTAMP) && len == 8) {
        for (int i = 7; i >= 0; i--)
            u = u << 8 | b[i];
        *out = (int64_t)u;
        return true;
    }
    if (id == SL_TYPE_DATE && len == 4) {
        u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        *out = (int32_t)(uint32_t)u;
        return true;
    }
    return false;
}

static void
bounds_of(const struct table_schema *sch, const struct mf_entry *e, struct file_bounds *out)
{
    size_t n = sch->ncolumns;

    out->has = sl_calloc(n + 1, sizeof(*out->has));
    out->lo = sl_calloc(n + 1, sizeof(*out->lo));
    out->hi = sl_calloc(n + 1, sizeof(*out->hi));
    for (size_t i = 0; i < e->nstats; i++) {
        const struct mf_column_stats *cs = &e->stats[i];

        for (size_t j = 0; j < n; j++) {
            enum sl_type_id id = sch->columns[j].type.id;

            if (sch->columns[j].field_id != cs->field_id || cs->null_count != 0)
                continue;
            out->has[j] = int_bound(id, cs->lower, cs->lower_len, &out->lo[j]) &&
                          int_bound(id, cs->upper, cs->upper_len, &out->hi[j]) &&
                          out->lo[j] <= out->hi[j];
        }
    }
}

/* Whether no row of the file a bounds can equal a row of b's. */
static bool
bounds_apart(const struct file_bounds *a, const struct file_bounds *b, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (a->has[j] && b->has[j] && (a->hi[j] < b->lo[j] || b->hi[j] < a->lo[j]))
            return true;
    return false;
}

/* The partition of f as text (spec and values), to compare. */
static void
partition_text(const struct table_entry *f, struct sl_buf *b)
{
    sl_buf_reset(b);
    sl_buf_addf(b, "%d:", (int)f->spec_id);
    for (size_t i = 0; i < f->npartition; i++) {
        const struct mf_pvalue *v = &f->entry->partition[i];

        if (!v->set)
            sl_buf_adds(b, "null|");
        else
            sl_buf_addf(b, "%lld|", (long long)v->i);
    }
}

static int
add_to_set(void *arg, const struct table_entry *f)
{
    struct live_set *l = arg;
    struct sl_buf part;

    sl_buf_init(&part);
    partition_text(f, &part);
    if (f->content == MF_DATA) {
        SL_GROW(l->bounds, l->bcap, l->data.n + 1);
        bounds_of(l->sch, f->entry, &l->bounds[l->data.n]);
        sl_strlist_add(&l->data, f->key);
        sl_strlist_add(&l->data_parts, part.data ? part.data : "");
    } else {
        const char *ref = f->entry->referenced_data_file;
        const char *key = ref ? table_key_of(l->prefix, ref, strlen(ref)) : NULL;

        sl_strlist_add(&l->dels, f->key);
        sl_strlist_add(&l->del_refs, key ? key : "");
        sl_strlist_add(&l->del_parts, part.data ? part.data : "");
    }
    sl_buf_release(&part);
    return 0;
}

static void
live_set_release(struct live_set *l)
{
    for (size_t i = 0; l->bounds != NULL && i < l->data.n; i++) {
        free(l->bounds[i].has);
        free(l->bounds[i].lo);
        free(l->bounds[i].hi);
    }
    free(l->bounds);
    sl_strlist_release(&l->data);
    sl_strlist_release(&l->dels);
    sl_strlist_release(&l->del_refs);
    sl_strlist_release(&l->del_parts);
    sl_strlist_release(&l->data_parts);
}

/* A view of the data files keys[] less (or, only_deleted, only) the rows
 * the delete files dels[] name. */
static int
files_view(struct engine *e, struct store *s, const struct table_schema *sch,
           const char *schema, const char *name, const char *mark,
           const struct sl_strlist *keys, const struct sl_strlist *dels, bool only_deleted,
           struct sl_diag *d)
{
    struct sl_strlist paths = {0}, dpaths = {0};
    struct engine_column *cols = sl_calloc(sch->ncolumns + 1, sizeof(*cols));
    int32_t max_id = 0;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < keys->n; i++) {
        char *p;

        rc = store_local_path(s, keys->v[i], &p, d);
        if (rc == 0)
            sl_strlist_add(&paths, p);
        free(p);
    }
    for (size_t i = 0; rc == 0 && i < dels->n; i++) {
        char *p;

        rc = store_local_path(s, dels->v[i], &p, d);
        if (rc == 0)
            sl_strlist_add(&dpaths, p);
        free(p);
    }
    for (size_t j = 0; j < sch->ncolumns; j++) {
        cols[j] = (struct engine_column){sch->columns[j].name, sch->columns[j].type,
                                         sch->columns[j].field_id};
        if (sch->columns[j].field_id > max_id)
            max_id = sch->columns[j].field_id;
    }
    if (rc == 0) {
        struct engine_view ev = {
            .schema = schema,
            .name = name,
            .ncolumns = sch->ncolumns,
            .columns = cols,
            /* an empty view: every column a typed NULL */
            .max_field_id = paths.n == 0 || (only_deleted && dpaths.n == 0) ? 0 : max_id,
            .nfiles = paths.n,
            .paths = (const char *const *)paths.v,
            .keys = (const char *const *)keys->v,
            .ndeletes = dpaths.n,
            .deletes = (const char *const *)dpaths.v,
            .uri_key_mark = mark,
            .only_deleted = only_deleted,
        };

        rc = engine_parquet_view(e, &ev, d);
    }
    free(cols);
    sl_strlist_release(&paths);
    sl_strlist_release(&dpaths);
    return rc;
}

/* The bounds of data file key in set l, or NULL. */
static const struct file_bounds *
bounds_in(const struct live_set *l, const char *key)
{
    for (size_t i = 0; i < l->data.n; i++)
        if (strcmp(l->data.v[i], key) == 0)
            return &l->bounds[i];
    return NULL;
}

/* Take out of files (data files of then) those whose bounds are apart
 * from those of every file in added (data files of now). */
static void
prune_apart(struct sl_strlist *files, const struct live_set *then, const struct live_set *now,
            const struct sl_strlist *added, size_t ncolumns)
{
    const struct file_bounds **ab = sl_calloc(added->n + 1, sizeof(*ab));
    struct sl_strlist keep = {0};

    for (size_t k = 0; k < added->n; k++)
        ab[k] = bounds_in(now, added->v[k]);
    for (size_t i = 0; i < files->n; i++) {
        const struct file_bounds *f = bounds_in(then, files->v[i]);
        bool apart = f != NULL;

        for (size_t k = 0; apart && k < added->n; k++)
            apart = ab[k] != NULL && bounds_apart(f, ab[k], ncolumns);
        if (!apart)
            sl_strlist_add(&keep, files->v[i]);
    }
    free(ab);
    sl_strlist_release(files);
    *files = keep;
}

int
table_view_change(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
                  const char *name, int64_t since, enum table_rows which, const char *schema,
                  const char *view, int64_t *snapshot_id, struct sl_diag *d)
{
    char *prefix = layout_table_prefix(ns, name), *mark = sl_printf("/%s/", prefix);
    struct table_schema sch = {0};
    struct live_set now = {.s = s, .sch = &sch, .d = d, .prefix = prefix};
    struct live_set then = {.s = s, .sch = &sch, .d = d, .prefix = prefix};
    struct table_at at = {since, -1};
    struct sl_arena a;
    struct sl_strlist keys = {0}, dels = {0};
    int rc;

    sl_arena_init(&a, 0);
    rc = table_schema(txn, s, ns, name, &a, &sch, d);
    if (rc == 0)
        rc = table_live_files(txn, s, ns, name, NULL, NULL, snapshot_id, add_to_set, &now, d);
    if (rc == 0 && since >= 0)
        rc = table_live_files(txn, s, ns, name, &at, NULL, NULL, add_to_set, &then, d);
    if (rc < 0)
        goto out;
    /*
     * The rows of the files added since, less the rows deleted now; the
     * rows gone since, as they were: every row of a file no longer live
     * (less the rows already deleted then), and the rows the delete files
     * added since name in files still live - read from the files a new
     * delete file can apply to (the one it names, or its partition's).
     * A row a rewrite moved (compaction, a merged partition) is in both
     * with the same values: the difference of the two, as multisets, is
     * what was added (or removed).
     */
    struct sl_strlist gone = {0}, kept = {0}, fresh = {0};
    char *added = sl_printf("%s__added", view), *gone_name = sl_printf("%s__gone", view);
    char *del_name = sl_printf("%s__deleted", view), *removed = sl_printf("%s__removed", view);

    for (size_t i = 0; i < now.data.n; i++)
        if (!sl_strlist_has(&then.data, now.data.v[i]))
            sl_strlist_add(&keys, now.data.v[i]);
    for (size_t i = 0; i < then.data.n; i++)
        if (!sl_strlist_has(&now.data, then.data.v[i]))
            sl_strlist_add(&gone, then.data.v[i]);
    for (size_t i = 0; i < now.dels.n; i++)
        if (!sl_strlist_has(&then.dels, now.dels.v[i]))
            sl_strlist_add(&fresh, now.dels.v[i]);
    for (size_t i = 0; i < then.data.n; i++) {
        bool hit = false;

        if (sl_strlist_has(&gone, then.data.v[i]))
            continue;
        for (size_t k = 0; !hit && k < now.dels.n; k++) {
            if (!sl_strlist_has(&fresh, now.dels.v[k]))
                continue;
            hit = now.del_refs.v[k][0] ? strcmp(now.del_refs.v[k], then.data.v[i]) == 0
                                       : strcmp(now.del_parts.v[k], then.data_parts.v[i]) == 0;
        }
        if (hit)
            sl_strlist_add(&kept, then.data.v[i]);
    }
    /*
     * The rows added are those of the files added less the rows removed:
     * only a removed row equal to an added one counts, so a file gone or
     * deleted from whose bounds meet no added file's is not read.  A
     * transform's update deletes rows of every day, and reading them all
     * would cost what the table costs; their _ingested_at is older than
     * any added row's.
     */
    if (which == TABLE_ROWS_ADDED) {
        prune_apart(&gone, &then, &now, &keys, sch.ncolumns);
        prune_apart(&kept, &then, &now, &keys, sch.ncolumns);
    }
    rc = files_view(e, s, &sch, schema, added, mark, &keys, &now.dels, false, d);
    if (rc == 0)
        rc = files_view(e, s, &sch, schema, gone_name, mark, &gone, &then.dels, false, d);
    if (rc == 0)
        rc = files_view(e, s, &sch, schema, del_name, mark, &kept, &fresh, true, d);
    if (rc == 0) {
        const char *parts[] = {gone_name, del_name};

        rc = engine_union_view(e, schema, removed, parts, 2, d);
    }
    if (rc == 0 && which == TABLE_ROWS_TOUCHED) {
        /* Rows move only with the files a rewrite retires: the files
         * added and those gone are compared whole, as above; the rows
         * deleted from files still live are taken as they are. */
        char *in = sl_printf("%s__in", view), *out = sl_printf("%s__out", view);
        const char *parts[] = {in, out, del_name};

        rc = engine_except_view(e, schema, in, added, gone_name, d);
        if (rc == 0)
            rc = engine_except_view(e, schema, out, gone_name, added, d);
        if (rc == 0)
            rc = engine_union_view(e, schema, view, parts, 3, d);
        free(in);
        free(out);
    } else if (rc == 0) {
        rc = which == TABLE_ROWS_ADDED
                 ? engine_except_view(e, schema, view, added, removed, d)
                 : engine_except_view(e, schema, view, removed, added, d);
    }
    free(added);
    free(gone_name);
    free(del_name);
    free(removed);
    sl_strlist_release(&gone);
    sl_strlist_release(&kept);
    sl_strlist_release(&fresh);
out:
    sl_strlist_release(&keys);
    sl_strlist_release(&dels);
    live_set_release(&now);
    live_set_release(&then);
    sl_arena_release(&a);
    free(mark);
    free(prefix);
    return rc;
}

void
table_column_stats(const struct table_column *col, const struct engine_file_stats *fs,
                   struct sl_arena *a, struct mf_column_stats *out)
{
    const struct engine_column_stats *cs = engine_file_stats_column(fs, col->name);
    uint8_t buf[IVAL_MAX_BOUND];
    size_t len;

    memset(out, 0, sizeof(*out));
    out->field_id = col->field_id;
    out->value_count = fs->rows;
    out->null_count = cs ? cs->null_count : -1;
    out->column_size = cs ? cs->column_size : -1;
    out->nan_count = (col->type.id == SL_TYPE_DOUBLE || col->type.id == SL_TYPE_FLOAT) && cs &&
                             !cs->has_nan
                         ? 0
                         : -1;
    if (cs == NULL)
        return;
    if (cs->min && ival_bound(col->type, cs->min, strlen(cs->min), false, buf, &len, NULL) == 0) {
        uint8_t *p = sl_arena_alloc(a, len + 1);

        memcpy(p, buf, len);
        out->lower = p;
        out->lower_len = len;
    }
    if (cs->max && ival_bound(col->type, cs->max, strlen(cs->max), true, buf, &len, NULL) == 0) {
        uint8_t *p = sl_arena_alloc(a, len + 1);

        memcpy(p, buf, len);
        out->upper = p;
        out->upper_len = len;
    }
}
