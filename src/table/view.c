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
};

static int
add_live(void *arg, const struct table_entry *f)
{
    struct view_files *v = arg;
    char *path;
    int rc = store_local_path(v->s, f->key, &path, v->d);

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

int
table_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *ns,
           const char *name, const struct table_at *at, int64_t *snapshot_id,
           struct sl_diag *d)
{
    struct view_files v = {s, {0}, {0}, {0}, d};
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
    out->nan_count = col->type.id == SL_TYPE_DOUBLE && cs && !cs->has_nan ? 0 : -1;
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
