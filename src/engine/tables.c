/*
 * tables.c - the SQL that reads and writes the lake's Parquet files (see
 * engine.h, "tables").
 *
 * The other stages describe files - paths, columns with their field ids,
 * registered scans and filters - and this file alone turns a description
 * into DuckDB SQL.  The statements, with <cols> the select list below:
 *
 *   write  COPY (SELECT * FROM <scan>(which)              -- new rows
 *                UNION ALL SELECT <cols> FROM read_parquet('<file>'
 *                          [, file_row_number = true])
 *                          [WHERE <filter>(index, file_row_number)]
 *                UNION ALL ...)
 *          TO '<path>' (FORMAT parquet, COMPRESSION zstd,
 *                       COMPRESSION_LEVEL z, PARQUET_VERSION V1,
 *                       [ROW_GROUP_SIZE r,] FIELD_IDS {'<col>': id, ...},
 *                       RETURN_STATS)
 *   read   SELECT [index AS f, file_row_number AS r,] <cols>
 *          FROM read_parquet('<file>'[, file_row_number = true])
 *          UNION ALL ...
 *   query  COPY (SELECT CAST(q."<col>" AS <type>) AS "<col>", ...
 *                FROM (\n<query>\n) AS q) TO ... (as above)
 *          DESCRIBE (\n<query>\n)
 *          CREATE OR REPLACE VIEW s.t AS (\n<query>\n)
 *          (a gold model's SELECT, the user's text as it is)
 *   view   CREATE OR REPLACE VIEW s.t AS SELECT <cols>
 *          FROM read_parquet([<files>], union_by_name = true ...) ...
 *          (engine_parquet_view(): the anti-join of position deletes)
 *
 * <cols> names each column; a column whose field id is above the file's
 * max_field_id - added by a later contract version - is
 * CAST(NULL AS <type>) AS "<col>".  Files are read by column name, not by
 * field id: names never change within a table (a rename is a new major
 * version), and DuckDB 1.4.4 reads a TIMESTAMPTZ column by field id as NULL
 * - the workaround, reading it as TIMESTAMP and casting back, costs a
 * calendar computation per value.
 *
 * Every name and path goes in quoted (sl_buf_add_sql_ident/_str): nothing
 * a caller describes can change a statement's shape.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "engine/engine_int.h"
#include "core/banned.h"

/* ---- pieces ------------------------------------------------------------------------ */

/* The select list of n columns for a file that has those up to
 * max_field_id: the others are typed NULLs under their names. */
static void
add_columns(struct sl_buf *b, const struct engine_column *cols, size_t n, int32_t max_field_id)
{
    for (size_t j = 0; j < n; j++) {
        char type[32];

        if (j)
            sl_buf_adds(b, ", ");
        if (cols[j].field_id > max_field_id) {
            sl_type_sql(cols[j].type, type, sizeof(type));
            sl_buf_addf(b, "CAST(NULL AS %s) AS ", type);
        }
        sl_buf_add_sql_ident(b, cols[j].name);
    }
}

/* ", " between the n quoted strings of v, as a list's items. */
static void
add_str_list(struct sl_buf *b, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, v[i]);
    }
}

/* A view named "schema.name" (names without dots), each part quoted. */
static void
add_qualified(struct sl_buf *b, const char *name)
{
    const char *dot = strchr(name, '.');

    if (dot == NULL) {
        sl_buf_add_sql_ident(b, name);
        return;
    }
    char *schema = sl_strndup(name, (size_t)(dot - name));

    sl_buf_add_sql_ident(b, schema);
    sl_buf_adds(b, ".");
    sl_buf_add_sql_ident(b, dot + 1);
    free(schema);
}

/* ---- writing ------------------------------------------------------------------------- */

/*
 * ", <value> AS _sluice_p<field>": the value of a row for partition field
 * field as text, "n" for null and "v" and the value otherwise (a value of
 * any type, "NULL" too, stays apart from null), over the column as the
 * file holds it.  hash: a bucket's hash function (engine_hash_function()).
 */
static void
add_partition(struct sl_buf *b, const struct engine_partition *p, const char *hash, size_t field)
{
    struct sl_buf x, v;
    char type[32];
    long long w = (long long)p->width;

    sl_buf_init(&x);
    sl_buf_init(&v);
    sl_type_sql(p->type, type, sizeof(type));
    sl_buf_adds(&x, "CAST(q.");
    sl_buf_add_sql_ident(&x, p->column);
    sl_buf_addf(&x, " AS %s)", type);
    /* v: the value as Iceberg keeps it */
    if (p->type.id == SL_TYPE_DATE)
        sl_buf_addf(&v, "date_diff('day', DATE '1970-01-01', %s)", x.data);
    else if (p->type.id == SL_TYPE_TIMESTAMP)
        sl_buf_addf(&v, "epoch_us(%s)", x.data);
    else if (p->type.id == SL_TYPE_BOOL)
        sl_buf_addf(&v, "CAST(%s AS INTEGER)", x.data);
    else if (p->type.id == SL_TYPE_DECIMAL)
        sl_buf_addf(&v, "CAST(%s * 1%.*s AS HUGEINT)", x.data, p->type.scale,
                    "00000000000000000000000000000000000000");
    else
        sl_buf_adds(&v, x.data);
    sl_buf_adds(b, ", CASE WHEN ");
    sl_buf_adds(b, x.data);
    sl_buf_adds(b, " IS NULL THEN 'n' ELSE 'v' || CAST(");
    switch (p->kind) {
    case ENGINE_PART_IDENTITY:
        sl_buf_adds(b, v.data);
        break;
    case ENGINE_PART_YEAR:
        sl_buf_addf(b, "year(%s) - 1970", x.data);
        break;
    case ENGINE_PART_MONTH:
        sl_buf_addf(b, "(year(%s) - 1970) * 12 + month(%s) - 1", x.data, x.data);
        break;
    case ENGINE_PART_DAY:
        sl_buf_addf(b, "date_diff('day', DATE '1970-01-01', CAST(%s AS DATE))", x.data);
        break;
    case ENGINE_PART_HOUR:
        /* floor(us / 1h), exactly: the remainder taken off first */
        sl_buf_addf(b, "(%s - ((%s %% 3600000000) + 3600000000) %% 3600000000) // 3600000000",
                    v.data, v.data);
        break;
    case ENGINE_PART_TRUNCATE:
        if (p->type.id == SL_TYPE_STRING)
            sl_buf_addf(b, "left(%s, %lld)", v.data, w);
        else
            sl_buf_addf(b, "%s - (((%s %% %lld) + %lld) %% %lld)", v.data, v.data, w, w, w);
        break;
    case ENGINE_PART_BUCKET:
        sl_buf_addf(b, "(%s(%s) & 2147483647) %% %lld", hash, x.data, w);
        break;
    }
    sl_buf_addf(b, " AS VARCHAR) END AS _sluice_p%zu", field);
    sl_buf_release(&v);
    sl_buf_release(&x);
}

static char *
write_sql(const struct engine_write *w, const char *const *hashes)
{
    struct sl_buf b;

    sl_buf_init(&b);
    sl_buf_adds(&b, "COPY (");
    if (w->query != NULL) {
        sl_buf_adds(&b, "SELECT ");
        for (size_t j = 0; j < w->ncolumns; j++) {
            char type[32];

            sl_type_sql(w->columns[j].type, type, sizeof(type));
            sl_buf_adds(&b, j ? ", CAST(q." : "CAST(q.");
            sl_buf_add_sql_ident(&b, w->columns[j].name);
            sl_buf_addf(&b, " AS %s) AS ", type);
            sl_buf_add_sql_ident(&b, w->columns[j].name);
        }
        for (size_t i = 0; i < w->npartition; i++)
            add_partition(&b, &w->partition[i], hashes[i], i);
        sl_buf_adds(&b, " FROM (\n");
        sl_buf_adds(&b, w->query);
        sl_buf_adds(&b, "\n) AS q");
        if (w->keys_view != NULL) {
            sl_buf_adds(&b, " SEMI JOIN ");
            add_qualified(&b, w->keys_view);
            sl_buf_adds(&b, " AS _k ON ");
            for (size_t k = 0; k < w->nkeys; k++) {
                sl_buf_adds(&b, k ? " AND q." : "q.");
                sl_buf_add_sql_ident(&b, w->key_columns[k]);
                sl_buf_adds(&b, " IS NOT DISTINCT FROM _k.");
                sl_buf_add_sql_ident(&b, w->key_columns[k]);
            }
        }
    }
    if (w->scan != NULL)
        sl_buf_addf(&b, "SELECT * FROM %s(%lld)", w->scan, (long long)w->which);
    for (size_t i = 0; i < w->nfiles; i++) {
        const struct engine_file *f = &w->files[i];

        if (w->scan != NULL || i > 0)
            sl_buf_adds(&b, " UNION ALL ");
        sl_buf_adds(&b, "SELECT ");
        add_columns(&b, w->columns, w->ncolumns, f->max_field_id);
        sl_buf_adds(&b, " FROM read_parquet(");
        sl_buf_add_sql_str(&b, f->path);
        sl_buf_adds(&b, f->filtered ? ", file_row_number = true)" : ")");
        if (f->filtered)
            sl_buf_addf(&b, " WHERE %s(%lld, file_row_number)", w->filter,
                        (long long)f->index);
    }
    sl_buf_adds(&b, ") TO ");
    sl_buf_add_sql_str(&b, w->path);
    sl_buf_addf(&b, " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL %lld, "
                    "PARQUET_VERSION V1, ",
                (long long)w->zstd_level);
    if (w->row_group_rows > 0)
        sl_buf_addf(&b, "ROW_GROUP_SIZE %lld, ", (long long)w->row_group_rows);
    if (w->query != NULL && w->npartition > 0) {
        sl_buf_adds(&b, "PARTITION_BY (");
        for (size_t i = 0; i < w->npartition; i++)
            sl_buf_addf(&b, "%s_sluice_p%zu", i ? ", " : "", i);
        sl_buf_adds(&b, "), FILENAME_PATTERN 'part-{i}', ");
    }
    sl_buf_adds(&b, "FIELD_IDS {");
    for (size_t j = 0; j < w->ncolumns; j++) {
        if (j)
            sl_buf_adds(&b, ", ");
        sl_buf_add_sql_str(&b, w->columns[j].name);
        sl_buf_addf(&b, ": %d", w->columns[j].field_id);
    }
    sl_buf_adds(&b, "}, RETURN_STATS)");
    return sl_buf_detach(&b, NULL);
}

int
engine_write_many(struct engine *e, const struct engine_write *w, size_t n,
                  struct engine_file_stats *out, struct sl_diag *d)
{
    char **sql = sl_calloc(n + 1, sizeof(*sql));
    const char **paths = sl_calloc(n + 1, sizeof(*paths));
    int rc;

    for (size_t i = 0; i < n; i++) {
        sql[i] = write_sql(&w[i], NULL);
        paths[i] = w[i].path;
    }
    rc = engine_copy_many(e, (const char *const *)sql, paths, n, out, d);
    free(paths);
    for (size_t i = 0; i < n; i++)
        free(sql[i]);
    free(sql);
    return rc;
}

int
engine_write_partitioned(struct engine *e, const struct engine_write *w,
                         struct engine_file_stats **out, size_t *n, struct sl_diag *d)
{
    const char **hashes = sl_calloc(w->npartition + 1, sizeof(*hashes));
    char *sql;
    int rc = 0;

    *out = NULL;
    *n = 0;
    for (size_t i = 0; rc == 0 && i < w->npartition; i++)
        if (w->partition[i].kind == ENGINE_PART_BUCKET)
            rc = engine_hash_function(e, w->partition[i].type, w->partition[i].hashes,
                                      &hashes[i], d);
    if (rc == 0) {
        sql = write_sql(w, hashes);
        rc = engine_copy_files(e, sql, out, n, d);
        free(sql);
    }
    free(hashes);
    return rc;
}

int
engine_describe(struct engine *e, const char *query, struct engine_query_column **cols,
                size_t *n, struct sl_diag *d)
{
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct sl_buf b;
    size_t cap = 0;
    int rc;

    *cols = NULL;
    *n = 0;
    sl_buf_init(&b);
    sl_buf_adds(&b, "DESCRIBE (\n");
    sl_buf_adds(&b, query);
    sl_buf_adds(&b, "\n)");
    rc = engine_query(e, b.data, &res, d);
    sl_buf_release(&b);
    while (rc == 0 && (ch = engine_result_next(res)) != NULL) {
        struct engine_vec name, type;

        engine_chunk_vec(ch, 0, &name);
        engine_chunk_vec(ch, 1, &type);
        for (size_t i = 0; i < engine_chunk_rows(ch); i++) {
            size_t len;
            const char *s;

            SL_GROW(*cols, cap, *n + 1);
            s = engine_vec_str(&name, i, &len);
            (*cols)[*n].name = sl_strndup(s ? s : "", s ? len : 0);
            s = engine_vec_str(&type, i, &len);
            (*cols)[*n].type = sl_strndup(s ? s : "", s ? len : 0);
            (*n)++;
        }
    }
    engine_result_free(res);
    return rc;
}

int
engine_query_view(struct engine *e, const char *schema, const char *name, const char *query,
                  struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    sl_buf_adds(&b, "CREATE OR REPLACE VIEW ");
    sl_buf_add_sql_ident(&b, schema);
    sl_buf_adds(&b, ".");
    sl_buf_add_sql_ident(&b, name);
    sl_buf_adds(&b, " AS (\n");
    sl_buf_adds(&b, query);
    sl_buf_adds(&b, "\n)");
    rc = engine_exec(e, b.data, d);
    sl_buf_release(&b);
    return rc;
}

void
engine_query_columns_release(struct engine_query_column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(cols[i].name);
        free(cols[i].type);
    }
    free(cols);
}

/* ---- reading --------------------------------------------------------------------------- */

int
engine_read_files(struct engine *e, int conn, const struct engine_read *r,
                  struct engine_result **out, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    for (size_t i = 0; i < r->nfiles; i++) {
        const struct engine_file *f = &r->files[i];

        sl_buf_adds(&b, i > 0 ? " UNION ALL SELECT " : "SELECT ");
        if (r->numbered)
            sl_buf_addf(&b, "%lld AS f, file_row_number AS r, ", (long long)f->index);
        add_columns(&b, r->columns, r->ncolumns, f->max_field_id);
        sl_buf_adds(&b, " FROM read_parquet(");
        sl_buf_add_sql_str(&b, f->path);
        sl_buf_adds(&b, r->numbered ? ", file_row_number = true)" : ")");
    }
    rc = engine_stream_on(e, conn, b.data, out, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_read_deletes(struct engine *e, const char *const *paths, size_t n,
                    struct engine_result **out, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    sl_buf_adds(&b, "SELECT file_path, pos FROM read_parquet([");
    add_str_list(&b, paths, n);
    sl_buf_adds(&b, "])");
    rc = engine_stream(e, b.data, out, d);
    sl_buf_release(&b);
    return rc;
}

/* Run sql, a query of one row of n integers, into v. */
static int
query_ints(struct engine *e, const char *sql, int64_t *v, size_t n, const char *what,
           struct sl_diag *d)
{
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    int rc = engine_query(e, sql, &res, d);

    if (rc < 0)
        return rc;
    ch = engine_result_next(res);
    if (ch == NULL || engine_chunk_rows(ch) == 0 || engine_chunk_ncols(ch) < n) {
        engine_result_free(res);
        return sl_fail(d, SL_ERR_ENGINE, "reading '%s' gave no result", what);
    }
    for (size_t i = 0; i < n; i++) {
        struct engine_vec vec;

        engine_chunk_vec(ch, i, &vec);
        v[i] = (int64_t)engine_vec_int(&vec, 0);
    }
    engine_result_free(res);
    return 0;
}

int
engine_parquet_rows(struct engine *e, const char *path, int64_t *rows, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    sl_buf_adds(&b, "SELECT num_rows FROM parquet_file_metadata(");
    sl_buf_add_sql_str(&b, path);
    sl_buf_adds(&b, ")");
    rc = query_ints(e, b.data, rows, 1, path, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_check_deletes(struct engine *e, const char *path, struct engine_delete_check *out,
                     struct sl_diag *d)
{
    struct sl_buf b;
    int64_t v[3];
    int rc;

    sl_buf_init(&b);
    sl_buf_adds(&b, "SELECT count(*), count(file_path), coalesce(min(pos), 0) "
                    "FROM read_parquet(");
    sl_buf_add_sql_str(&b, path);
    sl_buf_adds(&b, ")");
    rc = query_ints(e, b.data, v, 3, path, d);
    sl_buf_release(&b);
    if (rc == 0) {
        out->rows = v[0];
        out->named = v[1];
        out->min_pos = v[2];
    }
    return rc;
}

/* ---- views ----------------------------------------------------------------------------- */

int
engine_create_schemas(struct engine *e, const char *const *names, size_t n, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        sl_buf_adds(&b, i ? "; CREATE SCHEMA IF NOT EXISTS " : "CREATE SCHEMA IF NOT EXISTS ");
        sl_buf_add_sql_ident(&b, names[i]);
    }
    rc = n > 0 ? engine_exec(e, b.data, d) : 0;
    sl_buf_release(&b);
    return rc;
}

static void
add_view_head(struct sl_buf *b, const char *schema, const char *name)
{
    sl_buf_adds(b, "CREATE OR REPLACE VIEW ");
    sl_buf_add_sql_ident(b, schema);
    sl_buf_adds(b, ".");
    sl_buf_add_sql_ident(b, name);
    sl_buf_adds(b, " AS SELECT ");
}

/*
 * The anti-join that takes out the rows the deletion files retire:
 *
 *   AS _d ANTI JOIN (SELECT m.path AS _sluice_path, x.pos AS _sluice_pos
 *                    FROM read_parquet([<deletion files>]) AS x
 *                    JOIN (VALUES (<key>, <path>), ...) AS m(key, path)
 *                    ON m.key = <x.file_path as a key>) AS _x
 *   ON _x._sluice_path = _d._sluice_file AND _x._sluice_pos = _d.file_row_number
 *
 * Deletion files name data files by URI; the VALUES list maps keys to the
 * paths the engine reads.
 */
static void
add_deletes(struct sl_buf *b, const struct engine_view *v)
{
    sl_buf_adds(b, v->only_deleted ? " AS _d SEMI JOIN " : " AS _d ANTI JOIN ");
    sl_buf_adds(b, "(SELECT m.path AS _sluice_path, x.pos AS _sluice_pos "
                   "FROM read_parquet([");
    add_str_list(b, v->deletes, v->ndeletes);
    sl_buf_adds(b, "]) AS x JOIN (VALUES ");
    for (size_t i = 0; i < v->nfiles; i++) {
        sl_buf_adds(b, i ? ", (" : "(");
        sl_buf_add_sql_str(b, v->keys[i]);
        sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, v->paths[i]);
        sl_buf_adds(b, ")");
    }
    /* A file:// URI's key starts at the first uri_key_mark, less its
     * leading '/'; anything else (deletion files of releases before
     * Iceberg tables) is a key already. */
    sl_buf_adds(b, ") AS m(key, path) ON m.key = CASE WHEN starts_with(x.file_path, 'file://') "
                   "THEN substr(x.file_path, strpos(x.file_path, ");
    sl_buf_add_sql_str(b, v->uri_key_mark);
    sl_buf_adds(b, ") + 1) ELSE x.file_path END) AS _x "
                   "ON _x._sluice_path = _d._sluice_file AND _x._sluice_pos = _d.file_row_number");
}

int
engine_parquet_view(struct engine *e, const struct engine_view *v, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    add_view_head(&b, v->schema, v->name);
    add_columns(&b, v->columns, v->ncolumns, v->max_field_id);
    if (v->nfiles == 0 || (v->only_deleted && v->ndeletes == 0)) {
        sl_buf_adds(&b, " WHERE false");
    } else {
        sl_buf_adds(&b, " FROM read_parquet([");
        add_str_list(&b, v->paths, v->nfiles);
        sl_buf_adds(&b, "], union_by_name = true");
        if (v->ndeletes > 0) {
            sl_buf_adds(&b, ", filename = '_sluice_file', file_row_number = true)");
            add_deletes(&b, v);
        } else {
            sl_buf_adds(&b, ")");
        }
    }
    rc = engine_exec(e, b.data, d);
    sl_buf_release(&b);
    return rc;
}

/* The SELECT of (file_path, pos) engine_write_key_deletes() writes, and
 * _sluice_f, the index of the data file, when per_file. */
static void
add_key_deletes(struct sl_buf *b, const struct engine_view *v, const char *const *uris,
                const char *const *key_columns, size_t nkeys, const char *keys_view,
                bool per_file)
{
    sl_buf_adds(b, "SELECT _u.uri AS file_path, _d.file_row_number AS pos");
    if (per_file)
        sl_buf_adds(b, ", _u.i AS _sluice_f");
    sl_buf_adds(b, " FROM (SELECT * FROM read_parquet([");
    add_str_list(b, v->paths, v->nfiles);
    sl_buf_adds(b, "], union_by_name = true, filename = '_sluice_file', "
                   "file_row_number = true)");
    if (v->ndeletes > 0)
        add_deletes(b, v);
    sl_buf_adds(b, ") AS _d JOIN (VALUES ");
    for (size_t i = 0; i < v->nfiles; i++) {
        sl_buf_adds(b, i ? ", (" : "(");
        sl_buf_add_sql_str(b, v->paths[i]);
        sl_buf_adds(b, ", ");
        sl_buf_add_sql_str(b, uris[i]);
        sl_buf_addf(b, ", %zu)", i);
    }
    sl_buf_adds(b, ") AS _u(path, uri, i) ON _u.path = _d._sluice_file");
    sl_buf_adds(b, " SEMI JOIN ");
    add_qualified(b, keys_view);
    sl_buf_adds(b, " AS _k ON ");
    for (size_t k = 0; k < nkeys; k++) {
        if (k)
            sl_buf_adds(b, " AND ");
        sl_buf_adds(b, "_d.");
        sl_buf_add_sql_ident(b, key_columns[k]);
        sl_buf_adds(b, " IS NOT DISTINCT FROM _k.");
        sl_buf_add_sql_ident(b, key_columns[k]);
    }
}

/* " TO path (...)" of a position delete file. */
static void
add_deletes_to(struct sl_buf *b, const char *path, int64_t zstd_level)
{
    sl_buf_adds(b, " TO ");
    sl_buf_add_sql_str(b, path);
    sl_buf_addf(b, " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL %lld, "
                   "PARQUET_VERSION V1, FIELD_IDS {'file_path': 2147483546, "
                   "'pos': 2147483545}, RETURN_STATS)",
                (long long)zstd_level);
}

int
engine_write_key_deletes(struct engine *e, const char *path, const struct engine_view *v,
                         const char *const *uris, const char *const *key_columns, size_t nkeys,
                         const char *keys_view, int64_t zstd_level, struct engine_file_stats *out,
                         struct sl_diag *d)
{
    struct sl_buf b;
    const char *sql;
    int rc;

    memset(out, 0, sizeof(*out));
    if (v->nfiles == 0)
        return 0;
    sl_buf_init(&b);
    sl_buf_adds(&b, "COPY (");
    add_key_deletes(&b, v, uris, key_columns, nkeys, keys_view, false);
    sl_buf_adds(&b, " ORDER BY file_path, pos)");
    add_deletes_to(&b, path, zstd_level);
    sql = b.data;
    rc = engine_copy_many(e, &sql, &path, 1, out, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_write_key_deletes_per_file(struct engine *e, const char *const *paths,
                                  const struct engine_view *v, const char *const *uris,
                                  const char *const *key_columns, size_t nkeys,
                                  const char *keys_view, int64_t zstd_level,
                                  struct engine_file_stats *out, struct sl_diag *d)
{
    struct sl_buf b;
    struct engine_result *r = NULL;
    size_t *which = NULL, nwhich = 0, cap = 0;
    char **sql = NULL;
    int rc;

    for (size_t i = 0; i < v->nfiles; i++)
        memset(&out[i], 0, sizeof(out[i]));
    if (v->nfiles == 0)
        return 0;
    /* The positions of all files at once, then a file of each one's (in
     * parallel: a table of the database, not a connection's temporary one). */
    sl_buf_init(&b);
    sl_buf_adds(&b, "CREATE OR REPLACE TABLE _sluice_deletes AS ");
    add_key_deletes(&b, v, uris, key_columns, nkeys, keys_view, true);
    rc = engine_exec(e, b.data, d);
    if (rc == 0)
        rc = engine_query(e, "SELECT DISTINCT _sluice_f FROM _sluice_deletes ORDER BY 1", &r, d);
    if (rc == 0) {
        struct engine_chunk *c;

        while ((c = engine_result_next(r)) != NULL) {
            struct engine_vec f;

            engine_chunk_vec(c, 0, &f);
            for (size_t i = 0; i < engine_chunk_rows(c); i++) {
                SL_GROW(which, cap, nwhich + 1);
                which[nwhich++] = (size_t)engine_vec_int(&f, i);
            }
        }
    }
    engine_result_free(r);
    if (rc == 0 && nwhich > 0) {
        struct engine_file_stats *st = sl_calloc(nwhich, sizeof(*st));
        const char **to = sl_calloc(nwhich, sizeof(*to));

        sql = sl_calloc(nwhich, sizeof(*sql));
        for (size_t k = 0; k < nwhich; k++) {
            sl_buf_reset(&b);
            sl_buf_addf(&b, "COPY (SELECT file_path, pos FROM _sluice_deletes WHERE _sluice_f = "
                            "%zu ORDER BY pos)", which[k]);
            add_deletes_to(&b, paths[which[k]], zstd_level);
            sql[k] = sl_strdup(b.data);
            to[k] = paths[which[k]];
        }
        rc = engine_copy_many(e, (const char *const *)sql, to, nwhich, st, d);
        for (size_t k = 0; k < nwhich; k++) {
            if (rc == 0)
                out[which[k]] = st[k];
            else
                engine_file_stats_release(&st[k]);
            free(sql[k]);
        }
        free(st);
        free(to);
        free(sql);
    }
    {
        struct sl_diag dropped;

        sl_diag_init(&dropped);
        if (engine_exec(e, "DROP TABLE IF EXISTS _sluice_deletes", &dropped) < 0 && rc == 0)
            rc = sl_fail(d, dropped.code, "%s", dropped.msg);
    }
    free(which);
    sl_buf_release(&b);
    return rc;
}

int
engine_keys_table(struct engine *e, const char *schema, const char *name,
                  const char *const *key_columns, size_t nkeys, const char *const *sources,
                  size_t nsources, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    sl_buf_adds(&b, "CREATE OR REPLACE TABLE ");
    sl_buf_add_sql_ident(&b, schema);
    sl_buf_adds(&b, ".");
    sl_buf_add_sql_ident(&b, name);
    sl_buf_adds(&b, " AS SELECT ");
    for (size_t i = 0; i < nsources; i++) {
        if (i)
            sl_buf_adds(&b, " UNION SELECT ");
        for (size_t k = 0; k < nkeys; k++) {
            if (k)
                sl_buf_adds(&b, ", ");
            sl_buf_add_sql_ident(&b, key_columns[k]);
        }
        sl_buf_adds(&b, " FROM ");
        add_qualified(&b, sources[i]);
    }
    rc = engine_exec(e, b.data, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_except_view(struct engine *e, const char *schema, const char *name, const char *a,
                   const char *b, struct sl_diag *d)
{
    struct sl_buf q;
    int rc;

    sl_buf_init(&q);
    add_view_head(&q, schema, name);
    sl_buf_adds(&q, "* FROM ");
    sl_buf_add_sql_ident(&q, schema);
    sl_buf_adds(&q, ".");
    sl_buf_add_sql_ident(&q, a);
    sl_buf_adds(&q, " EXCEPT ALL SELECT * FROM ");
    sl_buf_add_sql_ident(&q, schema);
    sl_buf_adds(&q, ".");
    sl_buf_add_sql_ident(&q, b);
    rc = engine_exec(e, q.data, d);
    sl_buf_release(&q);
    return rc;
}

int
engine_union_view(struct engine *e, const char *schema, const char *name,
                  const char *const *parts, size_t n, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    add_view_head(&b, schema, name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sl_buf_adds(&b, " UNION ALL BY NAME SELECT ");
        sl_buf_adds(&b, "* FROM ");
        sl_buf_add_sql_ident(&b, schema);
        sl_buf_adds(&b, ".");
        sl_buf_add_sql_ident(&b, parts[i]);
    }
    rc = engine_exec(e, b.data, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_json_view(struct engine *e, const struct engine_json_view *v, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    add_view_head(&b, v->schema, v->name);
    sl_buf_adds(&b, "* FROM read_json([");
    add_str_list(&b, v->paths, v->npaths);
    sl_buf_adds(&b, "], format = 'newline_delimited', columns = {");
    for (size_t j = 0; j < v->ncolumns; j++) {
        char type[32];

        sl_type_sql(v->columns[j].type, type, sizeof(type));
        if (j)
            sl_buf_adds(&b, ", ");
        sl_buf_add_sql_str(&b, v->columns[j].name);
        sl_buf_adds(&b, ": ");
        sl_buf_add_sql_str(&b, type);
    }
    sl_buf_adds(&b, "})");
    if (v->nunique > 0) {
        sl_buf_adds(&b, " QUALIFY row_number() OVER (PARTITION BY ");
        for (size_t j = 0; j < v->nunique; j++) {
            if (j)
                sl_buf_adds(&b, ", ");
            sl_buf_add_sql_ident(&b, v->unique[j]);
        }
        sl_buf_adds(&b, " ORDER BY ");
        sl_buf_add_sql_ident(&b, v->first_by);
        sl_buf_adds(&b, ") = 1");
    }
    rc = engine_exec(e, b.data, d);
    sl_buf_release(&b);
    return rc;
}

int
engine_count_duplicates(struct engine *e, const char *schema, const char *table,
                        const char *const *columns, size_t n, int64_t *dups, struct sl_diag *d)
{
    struct sl_buf b;
    int rc;

    *dups = 0;
    sl_buf_init(&b);
    sl_buf_adds(&b, "SELECT count(*) - count(DISTINCT (");
    for (size_t j = 0; j < n; j++) {
        if (j)
            sl_buf_adds(&b, ", ");
        sl_buf_add_sql_ident(&b, columns[j]);
    }
    sl_buf_adds(&b, ")) FROM ");
    sl_buf_add_sql_ident(&b, schema);
    sl_buf_adds(&b, ".");
    sl_buf_add_sql_ident(&b, table);
    rc = query_ints(e, b.data, dups, 1, table, d);
    sl_buf_release(&b);
    return rc;
}
