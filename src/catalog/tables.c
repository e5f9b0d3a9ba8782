/*
 * tables.c - curated tables, files, deletion files, quarantine files (see
 * tables.h).
 *
 * Visibility of held runs: a row added by a held run is left out of every
 * list, and a row removed by a held run still counts as live.  HELD names
 * the held runs; it is small (usually empty) and indexed (runs_held).
 */
#include "catalog/tables.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/buf.h"
#include "core/banned.h"

#define HELD "(SELECT run_id FROM runs WHERE state = 'held')"

/* ---- tables --------------------------------------------------------------- */

struct table_ctx {
    struct sl_arena *a;
    struct curated_table *t;
    bool seen;
    size_t cap;
    struct sl_diag *d;
};

static int
table_row(void *arg, const struct catalog_row *r)
{
    struct table_ctx *c = arg;
    struct curated_table *t = c->t;

    c->seen = true;
    t->name = cat_strdup(r, 0, c->a);
    t->source = cat_strdup(r, 1, c->a);
    t->major = (int)cat_int(r, 2);
    t->prefix = cat_strdup(r, 3, c->a);
    t->next_field_id = (int32_t)cat_int(r, 4);
    t->key_columns = cat_strdup(r, 5, c->a);
    t->event_time = cat_strdup(r, 6, c->a);
    return 0;
}

static int
column_row(void *arg, const struct catalog_row *r)
{
    struct table_ctx *c = arg;
    struct curated_table *t = c->t;
    struct curated_column *col;

    if (t->ncolumns == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct curated_column *cols = sl_arena_alloc(c->a, ncap * sizeof(*cols));

        if (c->cap)
            memcpy(cols, t->columns, c->cap * sizeof(*cols));
        t->columns = cols;
        c->cap = ncap;
    }
    col = &t->columns[t->ncolumns++];
    col->name = cat_strdup(r, 0, c->a);
    col->field_id = (int32_t)cat_int(r, 1);
    if (sl_type_parse(cat_text(r, 2), &col->type) < 0)
        return sl_fail(c->d, SL_ERR_CORRUPT, "catalog: column '%s' of '%s' has unknown type",
                       col->name, t->name);
    col->required = cat_int(r, 3) != 0;
    col->added_in = cat_strdup(r, 4, c->a);
    return 0;
}

int
catalog_table_get(struct catalog_txn *txn, const char *name, struct sl_arena *a,
                  struct curated_table *t, struct sl_diag *d)
{
    struct table_ctx c = {a, t, false, 0, d};
    int rc;

    memset(t, 0, sizeof(*t));
    rc = cat_run(txn, d, "read a curated table",
                 "SELECT name, source, major, prefix, next_field_id, key_columns, event_time "
                 "FROM curated_tables WHERE name = ?1",
                 table_row, &c, "t", name);
    if (rc < 0)
        return rc;
    if (!c.seen)
        return SL_ERR_NOTFOUND;
    rc = cat_run(txn, d, "read curated columns",
                 "SELECT name, field_id, type, required, added_in FROM curated_columns "
                 "WHERE table_name = ?1 ORDER BY position",
                 column_row, &c, "t", name);
    return rc < 0 ? rc : 0;
}

int
catalog_table_put(struct catalog_txn *txn, const struct curated_table *t, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a curated table",
                     "INSERT INTO curated_tables (name, source, major, prefix, next_field_id, "
                     "key_columns, event_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                     "ON CONFLICT (name) DO UPDATE SET next_field_id = excluded.next_field_id",
                     NULL, NULL, "ttititt", t->name, t->source, (int64_t)t->major, t->prefix,
                     (int64_t)t->next_field_id, t->key_columns, t->event_time);

    for (size_t i = 0; rc >= 0 && i < t->ncolumns; i++) {
        const struct curated_column *c = &t->columns[i];
        char type[32];

        sl_type_name(c->type, type, sizeof(type));
        rc = cat_run(txn, d, "record a curated column",
                     "INSERT INTO curated_columns (table_name, position, name, field_id, type, "
                     "required, added_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                     "ON CONFLICT (table_name, name) DO UPDATE SET position = excluded.position",
                     NULL, NULL, "tititit", t->name, (int64_t)i, c->name, (int64_t)c->field_id,
                     type, (int64_t)c->required, c->added_in);
    }
    return rc < 0 ? rc : 0;
}

int
catalog_table_list(struct catalog_txn *txn, catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct cat_names c = {cb, arg};
    int rc = cat_run(txn, d, "list curated tables",
                     "SELECT name FROM curated_tables ORDER BY name", cat_name_row, &c, "");

    return rc < 0 ? rc : 0;
}

/* ---- data files --------------------------------------------------------------- */

int
catalog_file_add(struct catalog_txn *txn, const struct curated_file *f, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a curated file",
                     "INSERT INTO curated_files (key, table_name, partition, rows, bytes, "
                     "max_field_id, added_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     NULL, NULL, "tttiiii", f->key, f->table, f->partition, f->rows, f->bytes,
                     (int64_t)f->max_field_id, f->added_run);

    return rc < 0 ? rc : 0;
}

int
catalog_file_remove(struct catalog_txn *txn, const char *key, int64_t run_id, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "retire a curated file",
                     "UPDATE curated_files SET removed_run = ?2 WHERE key = ?1 "
                     "AND removed_run IS NULL",
                     NULL, NULL, "ti", key, run_id);

    return rc < 0 ? rc : 0;
}

struct file_rows {
    catalog_file_cb cb;
    void *arg;
};

static int
file_row(void *arg, const struct catalog_row *r)
{
    struct file_rows *c = arg;
    struct curated_file f = {
        .key = cat_text(r, 0),
        .table = cat_text(r, 1),
        .partition = cat_text(r, 2),
        .rows = cat_int(r, 3),
        .bytes = cat_int(r, 4),
        .max_field_id = (int32_t)cat_int(r, 5),
        .added_run = cat_int(r, 6),
        .deleted = cat_int(r, 7),
    };

    return c->cb(c->arg, &f);
}

/* Live: not removed (or removed by a held run), not added by a held run.
 * The first branch is the usual case and uses the live-files index. */
#define LIVE_FILES(cols)                                                                  \
    "SELECT " cols " FROM curated_files f WHERE table_name = ?1 AND removed_run IS NULL " \
    "AND added_run NOT IN " HELD " UNION ALL "                                            \
    "SELECT " cols " FROM curated_files f WHERE table_name = ?1 AND removed_run IN " HELD \
    " AND added_run NOT IN " HELD

/* Rows of a file retired by live, visible deletion files. */
#define FILE_DELETED                                                                     \
    "(SELECT coalesce(sum(t.rows), 0) FROM curated_delete_targets t JOIN curated_deletes x " \
    "ON x.key = t.delete_key WHERE t.file_key = f.key AND x.added_run NOT IN " HELD        \
    " AND (x.removed_run IS NULL OR x.removed_run IN " HELD "))"

int
catalog_file_list(struct catalog_txn *txn, const char *table, catalog_file_cb cb, void *arg,
                  struct sl_diag *d)
{
    struct file_rows c = {cb, arg};
    int rc = cat_run(txn, d, "list curated files",
                     "SELECT * FROM (" LIVE_FILES("key, table_name, partition, rows, bytes, "
                                                  "max_field_id, added_run, " FILE_DELETED)
                     ") live ORDER BY key",
                     file_row, &c, "t", table);

    return rc < 0 ? rc : 0;
}

/* ---- deletion files ----------------------------------------------------------- */

int
catalog_delete_add(struct catalog_txn *txn, const struct curated_delete *del, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a deletion file",
                     "INSERT INTO curated_deletes (key, table_name, rows, bytes, added_run) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)",
                     NULL, NULL, "ttiii", del->key, del->table, del->rows, del->bytes,
                     del->added_run);

    return rc < 0 ? rc : 0;
}

int
catalog_delete_target_add(struct catalog_txn *txn, const char *delete_key, const char *file_key,
                          int64_t rows, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a deletion file's target",
                     "INSERT INTO curated_delete_targets (delete_key, file_key, rows) "
                     "VALUES (?1, ?2, ?3)",
                     NULL, NULL, "tti", delete_key, file_key, rows);

    return rc < 0 ? rc : 0;
}

struct key_list {
    char **v;
    size_t n, cap;
};

static int
collect_key(void *arg, const struct catalog_row *r)
{
    struct key_list *l = arg;

    SL_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = sl_strdup(cat_text(r, 0));
    return 0;
}

int
catalog_delete_retire(struct catalog_txn *txn, const char *table, int64_t run_id,
                      catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct key_list keys = {0};
    int rc;

    /* Collected first: cb writes to the catalog. */
    rc = cat_run(txn, d, "retire deletion files",
                 "UPDATE curated_deletes SET removed_run = ?2 "
                 "WHERE table_name = ?1 AND removed_run IS NULL AND NOT EXISTS ("
                 "SELECT 1 FROM curated_delete_targets t JOIN curated_files f "
                 "ON f.key = t.file_key WHERE t.delete_key = curated_deletes.key "
                 "AND f.removed_run IS NULL) RETURNING key",
                 collect_key, &keys, "ti", table, run_id);
    for (size_t i = 0; i < keys.n; i++) {
        if (rc >= 0)
            rc = cb(arg, keys.v[i]);
        free(keys.v[i]);
    }
    free(keys.v);
    return rc < 0 ? rc : 0;
}

int
catalog_delete_remove(struct catalog_txn *txn, const char *key, int64_t run_id,
                      struct sl_diag *d)
{
    int rc = cat_run(txn, d, "retire a deletion file",
                     "UPDATE curated_deletes SET removed_run = ?2 WHERE key = ?1 "
                     "AND removed_run IS NULL",
                     NULL, NULL, "ti", key, run_id);

    return rc < 0 ? rc : 0;
}

struct delete_rows {
    catalog_delete_cb cb;
    void *arg;
};

static int
delete_row(void *arg, const struct catalog_row *r)
{
    struct delete_rows *c = arg;
    struct curated_delete del = {
        .key = cat_text(r, 0),
        .table = cat_text(r, 1),
        .rows = cat_int(r, 2),
        .bytes = cat_int(r, 3),
        .added_run = cat_int(r, 4),
    };

    return c->cb(c->arg, &del);
}

int
catalog_delete_list(struct catalog_txn *txn, const char *table, catalog_delete_cb cb, void *arg,
                    struct sl_diag *d)
{
    struct delete_rows c = {cb, arg};
    int rc = cat_run(txn, d, "list deletion files",
                     "SELECT key, table_name, rows, bytes, added_run FROM curated_deletes "
                     "WHERE table_name = ?1 AND (removed_run IS NULL OR removed_run IN " HELD
                     ") AND added_run NOT IN " HELD " ORDER BY key",
                     delete_row, &c, "t", table);

    return rc < 0 ? rc : 0;
}

/* ---- quarantine --------------------------------------------------------------- */

int
catalog_quarantine_add(struct catalog_txn *txn, const char *key, const char *source,
                       int64_t run_id, int64_t records, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a quarantine file",
                     "INSERT INTO quarantine_files (key, source, run_id, records) "
                     "VALUES (?1, ?2, ?3, ?4)",
                     NULL, NULL, "ttii", key, source, run_id, records);

    return rc < 0 ? rc : 0;
}

int
catalog_quarantine_list(struct catalog_txn *txn, const char *source, catalog_name_cb cb,
                        void *arg, struct sl_diag *d)
{
    struct cat_names c = {cb, arg};
    int rc = cat_run(txn, d, "list quarantine files",
                     "SELECT key FROM quarantine_files WHERE source = ?1 AND run_id NOT IN "
                     HELD " ORDER BY run_id, key",
                     cat_name_row, &c, "t", source);

    return rc < 0 ? rc : 0;
}

/* ---- held runs -------------------------------------------------------------------- */

struct field_ids_ctx {
    catalog_field_id_cb cb;
    void *arg;
};

static int
field_id_row(void *arg, const struct catalog_row *r)
{
    struct field_ids_ctx *c = arg;

    return c->cb(c->arg, cat_text(r, 0), (int32_t)cat_int(r, 1));
}

int
catalog_file_field_ids(struct catalog_txn *txn, const char *table, catalog_field_id_cb cb,
                       void *arg, struct sl_diag *d)
{
    struct field_ids_ctx c = {cb, arg};
    int rc = cat_run(txn, d, "list curated files' field ids",
                     "SELECT key, max_field_id FROM curated_files WHERE table_name = ?1 "
                     "ORDER BY key",
                     field_id_row, &c, "t", table);

    return rc < 0 ? rc : 0;
}

int
catalog_file_forget(struct catalog_txn *txn, const char *key, struct sl_diag *d)
{
    static const char *const steps[] = {
        "DELETE FROM curated_delete_targets WHERE delete_key = ?1 AND EXISTS "
        "(SELECT 1 FROM curated_deletes WHERE key = ?1 AND removed_run IS NOT NULL)",
        "DELETE FROM curated_deletes WHERE key = ?1 AND removed_run IS NOT NULL",
        "DELETE FROM curated_delete_targets WHERE file_key = ?1 AND EXISTS "
        "(SELECT 1 FROM curated_files WHERE key = ?1 AND removed_run IS NOT NULL)",
        "DELETE FROM curated_files WHERE key = ?1 AND removed_run IS NOT NULL",
    };
    int rc = 0;

    for (size_t i = 0; rc >= 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
        rc = cat_run(txn, d, "forget an expired file", steps[i], NULL, NULL, "t", key);
    return rc < 0 ? rc : 0;
}

struct run_files_ctx {
    catalog_run_file_cb cb;
    void *arg;
};

static int
run_file_row(void *arg, const struct catalog_row *r)
{
    struct run_files_ctx *c = arg;
    struct run_file f = {
        .key = cat_text(r, 0),
        .table = cat_text(r, 1),
        .deletion = cat_int(r, 2) != 0,
        .added = cat_int(r, 3) != 0,
        .partition = cat_text(r, 4),
        .rows = cat_int(r, 5),
        .bytes = cat_int(r, 6),
        .only_target = cat_null(r, 7) ? NULL : cat_text(r, 7),
    };

    return c->cb(c->arg, &f);
}

int
catalog_run_files(struct catalog_txn *txn, int64_t run_id, catalog_run_file_cb cb, void *arg,
                  struct sl_diag *d)
{
    struct run_files_ctx c = {cb, arg};
    int rc = cat_run(
        txn, d, "list a run's files",
        "SELECT key, table_name, 0, CASE WHEN added_run = ?1 THEN 1 ELSE 0 END, partition, "
        "rows, bytes, NULL FROM curated_files WHERE added_run = ?1 OR removed_run = ?1 "
        "UNION ALL "
        "SELECT x.key, x.table_name, 1, CASE WHEN x.added_run = ?1 THEN 1 ELSE 0 END, "
        "(SELECT min(f.partition) FROM curated_delete_targets t JOIN curated_files f "
        "  ON f.key = t.file_key WHERE t.delete_key = x.key), x.rows, x.bytes, "
        "(SELECT CASE WHEN count(*) = 1 THEN min(t.file_key) END "
        "  FROM curated_delete_targets t WHERE t.delete_key = x.key) "
        "FROM curated_deletes x WHERE x.added_run = ?1 OR x.removed_run = ?1 "
        "ORDER BY 3, 1",
        run_file_row, &c, "i", run_id);

    return rc < 0 ? rc : 0;
}

int
catalog_tables_discard_run(struct catalog_txn *txn, int64_t run_id, struct sl_diag *d)
{
    static const char *const steps[] = {
        "DELETE FROM curated_delete_targets WHERE delete_key IN "
        "(SELECT key FROM curated_deletes WHERE added_run = ?1)",
        "DELETE FROM curated_deletes WHERE added_run = ?1",
        "DELETE FROM curated_files WHERE added_run = ?1",
        "UPDATE curated_deletes SET removed_run = NULL WHERE removed_run = ?1",
        "UPDATE curated_files SET removed_run = NULL WHERE removed_run = ?1",
        "DELETE FROM quarantine_files WHERE run_id = ?1",
        /* a held build: its record goes with it */
        "DELETE FROM build_inputs WHERE run_id = ?1",
        "DELETE FROM model_builds WHERE run_id = ?1",
    };
    int rc = 0;

    for (size_t i = 0; rc >= 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
        rc = cat_run(txn, d, "forget a discarded run's files", steps[i], NULL, NULL, "i",
                     run_id);
    return rc < 0 ? rc : 0;
}
