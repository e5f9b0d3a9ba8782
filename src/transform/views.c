/*
 * views.c - curated and quarantine tables as SQL views (see transform.h).
 *
 * A curated table is its live data files less the rows its live deletion
 * files retire (merge-on-read, see merge.c):
 *
 *   SELECT <columns> FROM read_parquet([<data files>], union_by_name = true,
 *                                      filename = '_sluice_file',
 *                                      file_row_number = true) AS _d
 *   ANTI JOIN (SELECT m.path AS _sluice_path, x.pos AS _sluice_pos
 *              FROM read_parquet([<deletion files>]) AS x
 *              JOIN (VALUES (<key>, <path>), ...) AS m(key, path)
 *              ON m.key = x.file_path) AS _x
 *   ON _x._sluice_path = _d._sluice_file AND _x._sluice_pos = _d.file_row_number
 *
 * Deletion files name data files by URI (table_uri()); the VALUES list maps
 * keys to the paths the engine reads.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/strlist.h"
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

/* The anti-join that takes out the rows deletion files retire. */
static void
add_deletes(struct sl_buf *b, const struct paths *p)
{
    sl_buf_adds(b, " AS _d ANTI JOIN (SELECT m.path AS _sluice_path, x.pos AS _sluice_pos FROM read_parquet([");
    for (size_t i = 0; i < p->dels.n; i++) {
        if (i)
            sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, p->dels.v[i]);
    }
    sl_buf_adds(b, "]) AS x JOIN (VALUES ");
    for (size_t i = 0; i < p->list.n; i++) {
        sl_buf_adds(b, i ? ", (" : "(");
        sl_buf_add_sql_str(b, p->keys.v[i]);
        sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, p->list.v[i]);
        sl_buf_adds(b, ")");
    }
    /* file_path is the data file's URI, whose key starts at the first
     * "/<prefix>/" (table_key_of()); a store key in deletion files of
     * releases before Iceberg tables. */
    sl_buf_adds(b, ") AS m(key, path) ON m.key = CASE WHEN starts_with(x.file_path, 'file://') "
                   "THEN substr(x.file_path, strpos(x.file_path, ");
    sl_buf_add_sql_str(b, p->slash_prefix);
    sl_buf_adds(b, ") + 1) ELSE x.file_path END) AS _x "
                   "ON _x._sluice_path = _d._sluice_file AND _x._sluice_pos = _d.file_row_number");
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
};

/* A live file of the snapshot the view reads. */
static int
add_entry(void *arg, const struct table_entry *f)
{
    struct snapshot_files *sf = arg;
    struct curated_file cf = {.key = f->key, .max_field_id = sf->t->next_field_id - 1};
    size_t lo = 0, hi = sf->ids.keys.n;

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
               const struct table_at *at, struct paths *p, struct sl_diag *d)
{
    struct snapshot_files sf = {p, {{0}, NULL, 0}, t};
    int rc = catalog_file_field_ids(txn, t->name, add_field_id, &sf.ids, d);

    if (rc == 0)
        rc = table_live_files(txn, s, "curated", t->name, at, NULL, add_entry, &sf, d);
    sl_strlist_release(&sf.ids.keys);
    free(sf.ids.ids);
    return rc;
}

static int
curated_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *name,
             const struct table_at *at, struct sl_buf *b, struct sl_diag *d)
{
    struct sl_arena a;
    struct curated_table t;
    struct paths p = {s, {0}, 0, d, {0}, {0}, NULL};
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_table_get(txn, name, &a, &t, d);
    if (rc == 0) {
        p.slash_prefix = sl_printf("/%s/", t.prefix);
        rc = snapshot_paths(txn, s, &t, at, &p, d);
    }
    if (rc == SL_ERR_NOTFOUND && d->code == 0 && at == NULL) {
        /* No Iceberg metadata yet: the catalog's live files. */
        rc = catalog_file_list(txn, name, add_file_path, &p, d);
        if (rc == 0)
            rc = catalog_delete_list(txn, name, add_delete_path, &p, d);
    } else if (rc == SL_ERR_NOTFOUND && d->code == 0) {
        rc = sl_fail(d, SL_ERR_NOTFOUND, "curated.%s has no snapshot yet", name);
    }
    if (rc < 0)
        goto out;
    sl_buf_reset(b);
    sl_buf_adds(b, "CREATE OR REPLACE VIEW curated.");
    sl_buf_add_sql_ident(b, name);
    sl_buf_adds(b, " AS SELECT ");
    select_columns(b, &t, p.max_field_id);
    if (p.list.n == 0) {
        sl_buf_adds(b, " WHERE false");
    } else {
        sl_buf_adds(b, " FROM read_parquet([");
        for (size_t i = 0; i < p.list.n; i++) {
            if (i)
                sl_buf_adds(b, ", ");
            sl_buf_add_sql_str(b, p.list.v[i]);
        }
        sl_buf_adds(b, "], union_by_name = true");
        if (p.dels.n > 0) {
            sl_buf_adds(b, ", filename = '_sluice_file', file_row_number = true)");
            add_deletes(b, &p);
        } else {
            sl_buf_adds(b, ")");
        }
    }
    rc = engine_exec(e, b->data, d);
out:
    sl_strlist_release(&p.list);
    sl_strlist_release(&p.keys);
    sl_strlist_release(&p.dels);
    free(p.slash_prefix);
    sl_arena_release(&a);
    return rc;
}

static int
quarantine_view(struct engine *e, struct catalog_txn *txn, struct store *s, const char *source,
                struct sl_buf *b, struct sl_diag *d)
{
    struct paths p = {s, {0}, 0, d, {0}, {0}, NULL};
    int rc = catalog_quarantine_list(txn, source, add_key_path, &p, d);

    if (rc < 0 || p.list.n == 0)
        goto out;
    sl_buf_reset(b);
    sl_buf_adds(b, "CREATE OR REPLACE VIEW quarantine.");
    sl_buf_add_sql_ident(b, source);
    sl_buf_adds(b, " AS SELECT * FROM read_json([");
    for (size_t i = 0; i < p.list.n; i++) {
        if (i)
            sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, p.list.v[i]);
    }
    sl_buf_adds(b, "], format = 'newline_delimited', columns = {run_id: 'BIGINT', "
                   "source: 'VARCHAR', raw_object: 'VARCHAR', raw_key: 'VARCHAR', "
                   "original_name: 'VARCHAR', contract_version: 'VARCHAR', line: 'BIGINT', "
                   "record: 'BIGINT', field: 'VARCHAR', reason: 'VARCHAR', text: 'VARCHAR', "
                   "text_base64: 'VARCHAR', truncated: 'BOOLEAN'}) "
                   /* A record rejected again by a rewind shows once, with
                    * its first run; the files keep every run's lines. */
                   "QUALIFY row_number() OVER (PARTITION BY raw_object, line, record "
                   "ORDER BY run_id) = 1");
    rc = engine_exec(e, b->data, d);
out:
    sl_strlist_release(&p.list);
    return rc;
}

int
transform_views(struct engine *e, struct catalog *cat, struct store *s,
                const struct table_at *at, struct sl_diag *d)
{
    struct sl_strlist tables = {0}, sources = {0};
    struct catalog_txn *txn;
    struct sl_buf b;
    int matched = 0, rc;

    sl_buf_init(&b);
    rc = engine_exec(e, "CREATE SCHEMA IF NOT EXISTS curated; "
                        "CREATE SCHEMA IF NOT EXISTS quarantine",
                     d);
    if (rc == 0)
        rc = catalog_txn_begin(cat, CATALOG_READ, &txn, d);
    if (rc < 0)
        goto out;
    rc = catalog_table_list(txn, sl_strlist_add, &tables, d);
    if (rc == 0)
        rc = catalog_source_list(txn, sl_strlist_add, &sources, d);
    for (size_t i = 0; rc == 0 && i < tables.n; i++) {
        const struct table_at *tat = at;
        struct sl_diag local;

        /* A snapshot id names one table's snapshot; the others are read
         * as they are now. */
        if (at != NULL && at->snapshot_id >= 0) {
            sl_diag_init(&local);
            rc = curated_view(e, txn, s, tables.v[i], at, &b, &local);
            if (rc == 0) {
                matched++;
                continue;
            }
            if (rc != SL_ERR_NOTFOUND) {
                sl_fail(d, rc, "%s", local.msg);
                break;
            }
            tat = NULL;
        }
        rc = curated_view(e, txn, s, tables.v[i], tat, &b, d);
    }
    if (rc == 0 && at != NULL && at->snapshot_id >= 0 && matched == 0)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "%" PRId64 " is not a snapshot of any table",
                     at->snapshot_id);
    for (size_t i = 0; rc == 0 && i < sources.n; i++)
        rc = quarantine_view(e, txn, s, sources.v[i], &b, d);
    catalog_txn_abort(txn);
out:
    sl_strlist_release(&tables);
    sl_strlist_release(&sources);
    sl_buf_release(&b);
    return rc;
}

int
transform_duplicate_keys(struct engine *e, struct catalog *cat, const char *table,
                         int64_t *dups, struct sl_diag *d)
{
    struct sl_arena a;
    struct curated_table t;
    struct catalog_txn *txn;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_buf b;
    int rc;

    *dups = 0;
    sl_arena_init(&a, 0);
    sl_buf_init(&b);
    rc = catalog_txn_begin(cat, CATALOG_READ, &txn, d);
    if (rc == 0) {
        rc = catalog_table_get(txn, table, &a, &t, d);
        catalog_txn_abort(txn);
    }
    if (rc == 0) {
        sl_buf_adds(&b, "SELECT count(*) - count(DISTINCT (");
        for (const char *k = t.key_columns; *k;) {
            size_t n = strcspn(k, ",");
            char *name = sl_strndup(k, n);

            sl_buf_add_sql_ident(&b, name);
            free(name);
            k += n;
            if (*k == ',') {
                sl_buf_adds(&b, ", ");
                k++;
            }
        }
        sl_buf_adds(&b, ")) FROM curated.");
        sl_buf_add_sql_ident(&b, table);
        rc = engine_query(e, b.data, &res, d);
    }
    if (rc == 0 && (ch = engine_result_next(res)) != NULL) {
        struct engine_vec v;

        engine_chunk_vec(ch, 0, &v);
        *dups = (int64_t)engine_vec_int(&v, 0);
    }
    engine_result_free(res);
    sl_buf_release(&b);
    sl_arena_release(&a);
    return rc;
}
