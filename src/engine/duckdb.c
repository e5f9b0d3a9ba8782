/*
 * duckdb.c - the engine on DuckDB's C API (see engine.h).
 *
 * Everything here runs inside one in-memory database.  Connections: conn[0]
 * serves engine_exec/engine_query; engine_exec_many() spreads statements
 * over all of them from as many threads.
 *
 * Scans and filters are C table and scalar functions.  Their descriptions
 * (struct engine_scan / engine_filter) are copied into the engine so the
 * caller's structs may be short-lived; the caller's arg must outlive the
 * statements that use the function.
 */
#include "engine/engine.h"

#include <assert.h>
#include <duckdb.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "engine/engine_int.h"
#include "core/banned.h"

#define MAX_FUNCS 256

struct func {
    char name[32];
    struct engine_scan scan;
    struct engine_filter filter;
    struct engine_column *columns; /* owned copy of scan columns */
    struct sl_type *args;          /* owned copy of filter args */
    enum engine_vec_kind *kinds;   /* layout of each filter argument */
    struct engine_hashes hashes;   /* a hash function's */
    struct sl_type hash_type;      /* its argument's type */
};

struct engine {
    duckdb_database db;
    duckdb_connection *conn;
    int nconn;
    struct func *funcs[MAX_FUNCS];
    int nfuncs;
};

struct engine_chunk {
    duckdb_data_chunk chunk;
    size_t ncols;
    duckdb_vector *vecs;            /* per column, fetched for this chunk */
    const enum engine_vec_kind *kinds;
};

struct engine_result {
    duckdb_result res;
    bool fetched_chunk;             /* chunk API in use */
    size_t ncols;
    enum engine_vec_kind *kinds;
    duckdb_data_chunk cur;
    duckdb_vector *vecs;
    struct engine_chunk view;
};

const char *
engine_version(void)
{
    return duckdb_library_version();
}

/* ---- types ------------------------------------------------------------------ */

static duckdb_logical_type
logical_type(struct sl_type t)
{
    switch (t.id) {
    case SL_TYPE_STRING:
        return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    case SL_TYPE_INT64:
        return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    case SL_TYPE_INT32:
        return duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
    case SL_TYPE_DOUBLE:
        return duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
    case SL_TYPE_FLOAT:
        return duckdb_create_logical_type(DUCKDB_TYPE_FLOAT);
    case SL_TYPE_BOOL:
        return duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    case SL_TYPE_DATE:
        return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
    case SL_TYPE_TIMESTAMP:
        return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ);
    case SL_TYPE_DECIMAL:
        return duckdb_create_decimal_type(t.precision, t.scale);
    }
    return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
}

static enum engine_vec_kind
kind_of_type_id(duckdb_type id)
{
    switch (id) {
    case DUCKDB_TYPE_BOOLEAN:
        return ENGINE_VEC_BOOL;
    case DUCKDB_TYPE_SMALLINT:
        return ENGINE_VEC_I16;
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_DATE:
        return ENGINE_VEC_I32;
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
        return ENGINE_VEC_I64;
    case DUCKDB_TYPE_HUGEINT:
        return ENGINE_VEC_I128;
    case DUCKDB_TYPE_DOUBLE:
        return ENGINE_VEC_F64;
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB:
        return ENGINE_VEC_STR;
    default:
        return ENGINE_VEC_OTHER;
    }
}

static enum engine_vec_kind
kind_of_logical(duckdb_logical_type lt)
{
    duckdb_type id = duckdb_get_type_id(lt);

    if (id == DUCKDB_TYPE_DECIMAL)
        id = duckdb_decimal_internal_type(lt);
    return kind_of_type_id(id);
}

static enum engine_vec_kind
kind_of_sl(struct sl_type t)
{
    duckdb_logical_type lt = logical_type(t);
    enum engine_vec_kind k = kind_of_logical(lt);

    duckdb_destroy_logical_type(&lt);
    return k;
}

/* ---- open, close, exec -------------------------------------------------------- */

static int
set_opt(duckdb_config cfg, const char *name, const char *value, struct sl_diag *d)
{
    if (duckdb_set_config(cfg, name, value) != DuckDBSuccess)
        return sl_fail(d, SL_ERR_ENGINE, "cannot set engine option %s=%s", name, value);
    return 0;
}

int
engine_open(const struct engine_opts *o, struct engine **out, struct sl_diag *d)
{
    struct engine *e = sl_calloc(1, sizeof(*e));
    duckdb_config cfg = NULL;
    char *err = NULL;
    char num[32];
    int rc = 0;

    if (duckdb_create_config(&cfg) != DuckDBSuccess) {
        free(e);
        return sl_fail(d, SL_ERR_ENGINE, "cannot create the engine configuration");
    }
    rc = set_opt(cfg, "autoinstall_known_extensions", "false", d);
    if (rc == 0)
        rc = set_opt(cfg, "autoload_known_extensions", "false", d);
    if (rc == 0 && o->threads > 0) {
        snprintf(num, sizeof(num), "%lld", (long long)o->threads);
        rc = set_opt(cfg, "threads", num, d);
    }
    if (rc == 0 && o->memory_limit > 0) {
        snprintf(num, sizeof(num), "%lldB", (long long)o->memory_limit);
        rc = set_opt(cfg, "memory_limit", num, d);
    }
    if (rc == 0 && o->temp_dir != NULL)
        rc = set_opt(cfg, "temp_directory", o->temp_dir, d);
    if (rc == 0 && duckdb_open_ext(NULL, &e->db, cfg, &err) != DuckDBSuccess) {
        rc = sl_fail(d, SL_ERR_ENGINE, "cannot start the engine: %s", err ? err : "unknown");
        duckdb_free(err);
    }
    duckdb_destroy_config(&cfg);
    if (rc < 0) {
        free(e);
        return rc;
    }
    e->nconn = o->connections > 0 ? o->connections : 1;
    e->conn = sl_calloc((size_t)e->nconn, sizeof(*e->conn));
    for (int i = 0; i < e->nconn && rc == 0; i++) {
        duckdb_result res;

        if (duckdb_connect(e->db, &e->conn[i]) != DuckDBSuccess) {
            rc = sl_fail(d, SL_ERR_ENGINE, "cannot connect to the engine");
            break;
        }
        if (duckdb_query(e->conn[i], "SET TimeZone = 'UTC'", &res) != DuckDBSuccess)
            rc = sl_fail(d, SL_ERR_ENGINE, "cannot set the engine time zone: %s",
                         duckdb_result_error(&res));
        duckdb_destroy_result(&res);
    }
    if (rc < 0) {
        engine_close(e);
        return rc;
    }
    *out = e;
    return 0;
}

void
engine_close(struct engine *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->nconn; i++)
        if (e->conn[i] != NULL)
            duckdb_disconnect(&e->conn[i]);
    free(e->conn);
    duckdb_close(&e->db);
    for (int i = 0; i < e->nfuncs; i++) {
        free(e->funcs[i]->columns);
        free(e->funcs[i]->args);
        free(e->funcs[i]->kinds);
        free(e->funcs[i]);
    }
    free(e);
}

static int
query_on(duckdb_connection c, const char *sql, duckdb_result *res, struct sl_diag *d)
{
    if (duckdb_query(c, sql, res) == DuckDBSuccess)
        return 0;
    sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_result_error(res) ? duckdb_result_error(res)
                                                              : "query failed");
    duckdb_destroy_result(res);
    return SL_ERR_ENGINE;
}

int
engine_exec(struct engine *e, const char *sql, struct sl_diag *d)
{
    duckdb_result res;
    int rc = query_on(e->conn[0], sql, &res, d);

    SL_TRACE("engine", "exec: %.300s", sql);
    if (rc == 0)
        duckdb_destroy_result(&res);
    return rc;
}

int
engine_set_threads(struct engine *e, int64_t threads, struct sl_diag *d)
{
    char sql[64];

    if (threads <= 0)
        snprintf(sql, sizeof(sql), "RESET threads");
    else
        snprintf(sql, sizeof(sql), "SET threads = %lld", (long long)threads);
    return engine_exec(e, sql, d);
}

struct many {
    struct engine *e;
    const char *const *sql;
    struct engine_file_stats *stats; /* engine_copy_many(): one per statement */
    const char *const *paths;        /* the files they write, or NULL */
    size_t n;
    atomic_size_t next;
    pthread_mutex_t lock;
    int rc;
    struct sl_diag *d;
};

struct many_worker {
    struct many *m;
    int conn;
};

static char *
string_of(duckdb_string_t *v)
{
    return sl_strndup(duckdb_string_t_data(v), duckdb_string_t_length(*v));
}

static int64_t
int_of(const char *s)
{
    return s ? strtoll(s, NULL, 10) : -1;
}

/* One column's MAP(VARCHAR, VARCHAR) of statistics into c. */
static void
read_column_stats(duckdb_vector map, idx_t row, struct engine_column_stats *c)
{
    duckdb_list_entry *e = (duckdb_list_entry *)duckdb_vector_get_data(map) + row;
    duckdb_vector kv = duckdb_list_vector_get_child(map);
    duckdb_string_t *keys = duckdb_vector_get_data(duckdb_struct_vector_get_child(kv, 0));
    duckdb_vector vv = duckdb_struct_vector_get_child(kv, 1);
    duckdb_string_t *vals = duckdb_vector_get_data(vv);
    uint64_t *valid = duckdb_vector_get_validity(vv);

    c->null_count = c->column_size = -1;
    for (idx_t k = e->offset; k < e->offset + e->length; k++) {
        char *key = string_of(&keys[k]);
        char *val = duckdb_validity_row_is_valid(valid, k) ? string_of(&vals[k]) : NULL;

        if (strcmp(key, "min") == 0) {
            c->min = val;
            val = NULL;
        } else if (strcmp(key, "max") == 0) {
            c->max = val;
            val = NULL;
        } else if (strcmp(key, "null_count") == 0) {
            c->null_count = int_of(val);
        } else if (strcmp(key, "column_size_bytes") == 0) {
            c->column_size = int_of(val);
        } else if (strcmp(key, "has_nan") == 0) {
            c->has_nan = val && strcmp(val, "true") == 0;
        }
        free(key);
        free(val);
    }
}

/*
 * Row r of a COPY ... RETURN_STATS result chunk ch into out: filename,
 * count, file_size_bytes, footer_size_bytes, column_statistics
 * MAP(VARCHAR, MAP(VARCHAR, VARCHAR)) keyed by the column name as a quoted
 * identifier, and (a partitioned write's) partition_keys.
 */
static void
read_stats_row(duckdb_data_chunk ch, idx_t r, struct engine_file_stats *out)
{
    duckdb_vector map = duckdb_data_chunk_get_vector(ch, 4);
    duckdb_list_entry *e = (duckdb_list_entry *)duckdb_vector_get_data(map) + r;
    duckdb_vector kv = duckdb_list_vector_get_child(map);
    duckdb_string_t *names = duckdb_vector_get_data(duckdb_struct_vector_get_child(kv, 0));
    duckdb_vector inner = duckdb_struct_vector_get_child(kv, 1);

    memset(out, 0, sizeof(*out));
    out->rows = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 1)))[r];
    out->bytes = ((int64_t *)duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 2)))[r];
    out->path = string_of((duckdb_string_t *)duckdb_vector_get_data(
                              duckdb_data_chunk_get_vector(ch, 0)) + r);
    out->ncolumns = e->length;
    out->columns = sl_calloc(e->length ? e->length : 1, sizeof(*out->columns));
    for (idx_t k = 0; k < e->length; k++) {
        struct engine_column_stats *c = &out->columns[k];
        char *q = string_of(&names[e->offset + k]);
        size_t n = strlen(q), o = 0;

        /* "name" with "" for each quote inside: the plain name */
        c->name = sl_malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            if ((i == 0 || i == n - 1) && q[i] == '"')
                continue;
            if (q[i] == '"' && q[i + 1] == '"')
                i++;
            c->name[o++] = q[i];
        }
        c->name[o] = '\0';
        free(q);
        read_column_stats(inner, e->offset + k, c);
    }
    /* partition_keys of a partitioned write: (column, value) pairs, the
     * columns _sluice_p0, _sluice_p1 ... of the fields in order */
    if (duckdb_data_chunk_get_column_count(ch) >= 6) {
        duckdb_vector pk = duckdb_data_chunk_get_vector(ch, 5);
        duckdb_list_entry *pe = (duckdb_list_entry *)duckdb_vector_get_data(pk) + r;
        duckdb_vector pkv = duckdb_list_vector_get_child(pk);
        duckdb_string_t *keys = duckdb_vector_get_data(duckdb_struct_vector_get_child(pkv, 0));
        duckdb_vector vals = duckdb_struct_vector_get_child(pkv, 1);
        uint64_t *valid = duckdb_vector_get_validity(vals);
        uint64_t *pvalid = duckdb_vector_get_validity(pk);

        if (pvalid == NULL || duckdb_validity_row_is_valid(pvalid, r)) {
            out->npartition = pe->length;
            out->partition = sl_calloc(pe->length + 1, sizeof(*out->partition));
            for (idx_t k = 0; k < pe->length; k++) {
                char *key = string_of(&keys[pe->offset + k]);
                unsigned long field;
                char end;

                if (sscanf(key, "_sluice_p%lu%c", &field, &end) == 1 && field < pe->length &&
                    out->partition[field] == NULL &&
                    (valid == NULL || duckdb_validity_row_is_valid(valid, pe->offset + k)))
                    out->partition[field] = string_of(
                        (duckdb_string_t *)duckdb_vector_get_data(vals) + pe->offset + k);
                free(key);
            }
        }
    }
}

/* The statistics of the one file a COPY ... TO ... (RETURN_STATS) wrote. */
static int
read_file_stats(duckdb_result *res, struct engine_file_stats *out, struct sl_diag *d)
{
    duckdb_data_chunk ch = duckdb_fetch_chunk(*res);
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (ch == NULL || duckdb_data_chunk_get_size(ch) != 1 ||
        duckdb_data_chunk_get_column_count(ch) < 5)
        rc = sl_fail(d, SL_ERR_ENGINE, "a COPY wrote other than one file");
    else
        read_stats_row(ch, 0, out);
    if (ch != NULL)
        duckdb_destroy_data_chunk(&ch);
    return rc;
}

int
engine_copy_files(struct engine *e, const char *sql, struct engine_file_stats **out, size_t *n,
                  struct sl_diag *d)
{
    duckdb_result res;
    duckdb_data_chunk ch;
    size_t cap = 0;
    int rc = query_on(e->conn[0], sql, &res, d);

    *out = NULL;
    *n = 0;
    SL_TRACE("engine", "copy: %.300s", sql);
    if (rc < 0)
        return rc;
    while ((ch = duckdb_fetch_chunk(res)) != NULL) {
        idx_t rows = duckdb_data_chunk_get_size(ch);

        if (duckdb_data_chunk_get_column_count(ch) < 5) {
            duckdb_destroy_data_chunk(&ch);
            rc = sl_fail(d, SL_ERR_ENGINE, "a COPY gave no file statistics");
            break;
        }
        for (idx_t r = 0; r < rows; r++) {
            SL_GROW(*out, cap, *n + 1);
            read_stats_row(ch, r, &(*out)[(*n)++]);
        }
        duckdb_destroy_data_chunk(&ch);
    }
    duckdb_destroy_result(&res);
    return rc;
}

void
engine_file_stats_release(struct engine_file_stats *s)
{
    for (size_t i = 0; i < s->ncolumns; i++) {
        free(s->columns[i].name);
        free(s->columns[i].min);
        free(s->columns[i].max);
    }
    free(s->columns);
    free(s->path);
    for (size_t i = 0; i < s->npartition; i++)
        free(s->partition[i]);
    free(s->partition);
    memset(s, 0, sizeof(*s));
}

const struct engine_column_stats *
engine_file_stats_column(const struct engine_file_stats *s, const char *name)
{
    for (size_t i = 0; i < s->ncolumns; i++)
        if (strcmp(s->columns[i].name, name) == 0)
            return &s->columns[i];
    return NULL;
}

/* Start a finished file on its way to the disk, so that its writer's seal
 * finds the work done. */
static void
writeback(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        sl_writeback_start(fd);
        close(fd);
    }
}

static void *
many_run(void *arg)
{
    struct many_worker *w = arg;
    struct many *m = w->m;

    for (;;) {
        size_t i = atomic_fetch_add(&m->next, 1);
        struct sl_diag d;
        duckdb_result res;

        if (i >= m->n)
            break;
        sl_diag_init(&d);
        SL_TRACE("engine", "exec[%d]: %.300s", w->conn, m->sql[i]);
        if (query_on(m->e->conn[w->conn], m->sql[i], &res, &d) == 0) {
            int rc = m->stats ? read_file_stats(&res, &m->stats[i], &d) : 0;

            duckdb_destroy_result(&res);
            if (rc == 0 && m->paths != NULL)
                writeback(m->paths[i]);
            if (rc == 0)
                continue;
        }
        pthread_mutex_lock(&m->lock);
        if (m->rc == 0) {
            m->rc = d.code;
            sl_fail(m->d, d.code, "%s", d.msg);
        }
        pthread_mutex_unlock(&m->lock);
    }
    return NULL;
}

static int
run_many(struct engine *e, const char *const *sql, size_t n, struct engine_file_stats *stats,
         const char *const *paths, struct sl_diag *d)
{
    struct many m = {.e = e, .sql = sql, .stats = stats, .paths = paths, .n = n, .d = d};
    int nthreads = e->nconn < (int)n ? e->nconn : (int)n;
    pthread_t tid[16];
    struct many_worker w[16];
    int started = 0;

    if (n == 0)
        return 0;
    if (nthreads > 16)
        nthreads = 16;
    atomic_init(&m.next, 0);
    pthread_mutex_init(&m.lock, NULL);
    for (int i = 1; i < nthreads; i++) {
        w[i].m = &m;
        w[i].conn = i;
        if (pthread_create(&tid[i], NULL, many_run, &w[i]) != 0)
            break;
        started = i;
    }
    w[0].m = &m;
    w[0].conn = 0;
    many_run(&w[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    pthread_mutex_destroy(&m.lock);
    return m.rc;
}

int
engine_exec_many(struct engine *e, const char *const *sql, size_t n, struct sl_diag *d)
{
    return run_many(e, sql, n, NULL, NULL, d);
}

int
engine_copy_many(struct engine *e, const char *const *sql, const char *const *paths, size_t n,
                 struct engine_file_stats *out, struct sl_diag *d)
{
    memset(out, 0, n * sizeof(*out));
    return run_many(e, sql, n, out, paths, d);
}

/* ---- results --------------------------------------------------------------------- */

/* Learn the columns of a fresh result. */
static void
result_setup(struct engine_result *r)
{
    r->ncols = duckdb_column_count(&r->res);
    r->kinds = sl_calloc(r->ncols ? r->ncols : 1, sizeof(*r->kinds));
    r->vecs = sl_calloc(r->ncols ? r->ncols : 1, sizeof(*r->vecs));
    for (size_t i = 0; i < r->ncols; i++) {
        duckdb_logical_type lt = duckdb_column_logical_type(&r->res, i);

        r->kinds[i] = kind_of_logical(lt);
        duckdb_destroy_logical_type(&lt);
    }
}

int
engine_query(struct engine *e, const char *sql, struct engine_result **out, struct sl_diag *d)
{
    struct engine_result *r = sl_calloc(1, sizeof(*r));
    int rc = query_on(e->conn[0], sql, &r->res, d);

    SL_TRACE("engine", "query: %.300s", sql);
    if (rc < 0) {
        free(r);
        return rc;
    }
    result_setup(r);
    *out = r;
    return 0;
}

int
engine_stream(struct engine *e, const char *sql, struct engine_result **out, struct sl_diag *d)
{
    return engine_stream_on(e, 0, sql, out, d);
}

int
engine_stream_on(struct engine *e, int conn, const char *sql, struct engine_result **out,
                 struct sl_diag *d)
{
    struct engine_result *r;
    duckdb_prepared_statement ps = NULL;
    int rc = 0;

    if (conn < 0 || conn >= e->nconn)
        return sl_fail(d, SL_ERR_ENGINE, "no engine connection %d", conn);
    SL_TRACE("engine", "stream[%d]: %.300s", conn, sql);
    if (duckdb_prepare(e->conn[conn], sql, &ps) != DuckDBSuccess) {
        rc = sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_prepare_error(ps));
        duckdb_destroy_prepare(&ps);
        return rc;
    }
    r = sl_calloc(1, sizeof(*r));
    if (duckdb_execute_prepared_streaming(ps, &r->res) != DuckDBSuccess) {
        rc = sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_result_error(&r->res));
        duckdb_destroy_result(&r->res);
        duckdb_destroy_prepare(&ps);
        free(r);
        return rc;
    }
    duckdb_destroy_prepare(&ps);
    result_setup(r);
    *out = r;
    return 0;
}

void
engine_result_free(struct engine_result *r)
{
    if (r == NULL)
        return;
    if (r->cur != NULL)
        duckdb_destroy_data_chunk(&r->cur);
    duckdb_destroy_result(&r->res);
    free(r->kinds);
    free(r->vecs);
    free(r);
}

int
engine_connections(const struct engine *e)
{
    return e->nconn;
}

size_t
engine_result_ncols(const struct engine_result *r)
{
    return r->ncols;
}

const char *
engine_result_name(const struct engine_result *r, size_t col)
{
    return duckdb_column_name((duckdb_result *)&r->res, col);
}

struct engine_chunk *
engine_result_next(struct engine_result *r)
{
    if (r->cur != NULL)
        duckdb_destroy_data_chunk(&r->cur);
    r->cur = duckdb_fetch_chunk(r->res);
    if (r->cur == NULL)
        return NULL;
    for (size_t i = 0; i < r->ncols; i++)
        r->vecs[i] = duckdb_data_chunk_get_vector(r->cur, i);
    r->view.chunk = r->cur;
    r->view.ncols = r->ncols;
    r->view.vecs = r->vecs;
    r->view.kinds = r->kinds;
    return &r->view;
}

/* ---- chunks ------------------------------------------------------------------------ */

size_t
engine_chunk_rows(const struct engine_chunk *c)
{
    return duckdb_data_chunk_get_size(c->chunk);
}

size_t
engine_chunk_ncols(const struct engine_chunk *c)
{
    return c->ncols;
}

void
engine_chunk_vec(const struct engine_chunk *c, size_t col, struct engine_vec *v)
{
    v->kind = c->kinds[col];
    v->data = duckdb_vector_get_data(c->vecs[col]);
    v->validity = duckdb_vector_get_validity(c->vecs[col]);
}

const char *
engine_vec_str(const struct engine_vec *v, size_t row, size_t *len)
{
    const duckdb_string_t *s = (const duckdb_string_t *)v->data + row;

    *len = s->value.inlined.length;
    if (*len <= 12)
        return s->value.inlined.inlined;
    return s->value.pointer.ptr;
}

__int128
engine_vec_int(const struct engine_vec *v, size_t row)
{
    switch (v->kind) {
    case ENGINE_VEC_BOOL:
        return ((const uint8_t *)v->data)[row];
    case ENGINE_VEC_I16:
        return ((const int16_t *)v->data)[row];
    case ENGINE_VEC_I32:
        return ((const int32_t *)v->data)[row];
    case ENGINE_VEC_I64:
        return ((const int64_t *)v->data)[row];
    case ENGINE_VEC_I128: {
        const duckdb_hugeint *h = (const duckdb_hugeint *)v->data + row;

        return (__int128)((unsigned __int128)(uint64_t)h->upper << 64 | h->lower);
    }
    default:
        return 0;
    }
}

void *
engine_chunk_data(struct engine_chunk *c, size_t col)
{
    return duckdb_vector_get_data(c->vecs[col]);
}

void
engine_chunk_set_null(struct engine_chunk *c, size_t col, size_t row)
{
    uint64_t *validity;

    duckdb_vector_ensure_validity_writable(c->vecs[col]);
    validity = duckdb_vector_get_validity(c->vecs[col]);
    duckdb_validity_set_row_invalid(validity, row);
}

void
engine_chunk_set_str(struct engine_chunk *c, size_t col, size_t row, const char *s, size_t len)
{
    duckdb_vector_assign_string_element_len(c->vecs[col], row, s, len);
}

void
engine_chunk_ref_str(struct engine_chunk *c, size_t col, size_t row, const char *s, size_t len)
{
    duckdb_string_t *out = (duckdb_string_t *)duckdb_vector_get_data(c->vecs[col]) + row;

    assert(len <= UINT32_MAX);
    if (len <= sizeof(out->value.inlined.inlined)) {
        /* Inlined, zero-padded: DuckDB compares short strings as 16 bytes. */
        memset(out, 0, sizeof(*out));
        out->value.inlined.length = (uint32_t)len;
        memcpy(out->value.inlined.inlined, s, len);
    } else {
        /* DuckDB's own layout of a long string: length, its first four
         * bytes (compared before the pointer is followed), the pointer. */
        out->value.pointer.length = (uint32_t)len;
        memcpy(out->value.pointer.prefix, s, sizeof(out->value.pointer.prefix));
        out->value.pointer.ptr = (char *)s;
    }
}

void
engine_chunk_const_str(struct engine_chunk *c, size_t col, const char *s, size_t len)
{
    duckdb_value v = duckdb_create_varchar_length(s, len);

    duckdb_vector_reference_value(c->vecs[col], v);
    duckdb_destroy_value(&v);
}

void
engine_chunk_const_timestamp(struct engine_chunk *c, size_t col, int64_t usec)
{
    duckdb_timestamp ts = {usec};
    duckdb_value v = duckdb_create_timestamp_tz(ts);

    duckdb_vector_reference_value(c->vecs[col], v);
    duckdb_destroy_value(&v);
}

void
engine_chunk_set_decimal(struct engine_chunk *c, size_t col, size_t row, __int128 v)
{
    void *data = duckdb_vector_get_data(c->vecs[col]);

    switch (c->kinds[col]) {
    case ENGINE_VEC_I16:
        ((int16_t *)data)[row] = (int16_t)v;
        break;
    case ENGINE_VEC_I32:
        ((int32_t *)data)[row] = (int32_t)v;
        break;
    case ENGINE_VEC_I64:
        ((int64_t *)data)[row] = (int64_t)v;
        break;
    default: {
        duckdb_hugeint *h = (duckdb_hugeint *)data + row;

        h->lower = (uint64_t)v;
        h->upper = (int64_t)(v >> 64);
        break;
    }
    }
}

/* ---- scans ------------------------------------------------------------------------------ */

struct scan_bind {
    struct func *f;
    int64_t which;
};

struct scan_state {
    int64_t next;                 /* first row of the next fill */
    struct engine_chunk view;
    enum engine_vec_kind *kinds;
    duckdb_vector *vecs;
};

static void
scan_bind(duckdb_bind_info info)
{
    struct func *f = duckdb_bind_get_extra_info(info);
    struct scan_bind *b;
    duckdb_value v;

    for (size_t i = 0; i < f->scan.ncolumns; i++) {
        duckdb_logical_type lt = logical_type(f->scan.columns[i].type);

        duckdb_bind_add_result_column(info, f->scan.columns[i].name, lt);
        duckdb_destroy_logical_type(&lt);
    }
    b = sl_calloc(1, sizeof(*b));
    b->f = f;
    v = duckdb_bind_get_parameter(info, 0);
    b->which = duckdb_get_int64(v);
    duckdb_destroy_value(&v);
    duckdb_bind_set_bind_data(info, b, free);
}

static void
scan_state_free(void *p)
{
    struct scan_state *s = p;

    free(s->kinds);
    free(s->vecs);
    free(s);
}

static void
scan_init(duckdb_init_info info)
{
    struct scan_bind *b = duckdb_init_get_bind_data(info);
    struct scan_state *s = sl_calloc(1, sizeof(*s));
    size_t n = b->f->scan.ncolumns;

    s->kinds = sl_calloc(n, sizeof(*s->kinds));
    s->vecs = sl_calloc(n, sizeof(*s->vecs));
    for (size_t i = 0; i < n; i++)
        s->kinds[i] = kind_of_sl(b->f->scan.columns[i].type);
    s->view.ncols = n;
    s->view.kinds = s->kinds;
    s->view.vecs = s->vecs;
    duckdb_init_set_init_data(info, s, scan_state_free);
    duckdb_init_set_max_threads(info, 1);
}

static void
scan_function(duckdb_function_info info, duckdb_data_chunk output)
{
    struct scan_bind *b = duckdb_function_get_bind_data(info);
    struct scan_state *s = duckdb_function_get_init_data(info);
    size_t n;

    s->view.chunk = output;
    for (size_t i = 0; i < s->view.ncols; i++)
        s->vecs[i] = duckdb_data_chunk_get_vector(output, i);
    n = b->f->scan.fill(b->f->scan.arg, b->which, s->next, &s->view);
    s->next += (int64_t)n;
    duckdb_data_chunk_set_size(output, n);
}

static struct func *
new_func(struct engine *e, const char *prefix, struct sl_diag *d)
{
    struct func *f;

    if (e->nfuncs == MAX_FUNCS) {
        sl_fail(d, SL_ERR_LIMIT, "too many engine functions");
        return NULL;
    }
    f = sl_calloc(1, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s_%d", prefix, e->nfuncs + 1);
    e->funcs[e->nfuncs++] = f;
    return f;
}

int
engine_register_scan(struct engine *e, const struct engine_scan *scan, const char **name,
                     struct sl_diag *d)
{
    struct func *f = new_func(e, "sluice_scan", d);
    duckdb_table_function tf;
    duckdb_logical_type bigint;
    int rc = 0;

    if (f == NULL)
        return SL_ERR_LIMIT;
    f->scan = *scan;
    f->columns = sl_calloc(scan->ncolumns, sizeof(*f->columns));
    memcpy(f->columns, scan->columns, scan->ncolumns * sizeof(*f->columns));
    f->scan.columns = f->columns;
    tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, f->name);
    bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    duckdb_table_function_add_parameter(tf, bigint);
    duckdb_destroy_logical_type(&bigint);
    duckdb_table_function_set_extra_info(tf, f, NULL);
    duckdb_table_function_set_bind(tf, scan_bind);
    duckdb_table_function_set_init(tf, scan_init);
    duckdb_table_function_set_function(tf, scan_function);
    /* Functions live in the database's catalog: every connection sees them. */
    if (duckdb_register_table_function(e->conn[0], tf) != DuckDBSuccess)
        rc = sl_fail(d, SL_ERR_ENGINE, "cannot register table function %s", f->name);
    duckdb_destroy_table_function(&tf);
    *name = f->name;
    return rc;
}

/* ---- filters ------------------------------------------------------------------------------ */

static void
filter_function(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
    struct func *f = duckdb_scalar_function_get_extra_info(info);
    size_t n = f->filter.nargs;
    duckdb_vector vecs[32];
    struct engine_chunk view = {input, n, vecs, f->kinds};

    for (size_t i = 0; i < n; i++)
        vecs[i] = duckdb_data_chunk_get_vector(input, i);
    f->filter.keep(f->filter.arg, &view, (bool *)duckdb_vector_get_data(output));
}

int
engine_register_filter(struct engine *e, const struct engine_filter *flt, const char **name,
                       struct sl_diag *d)
{
    struct func *f;
    duckdb_scalar_function sf;
    duckdb_logical_type lt;
    int rc = 0;

    if (flt->nargs == 0 || flt->nargs > 32)
        return sl_fail(d, SL_ERR_LIMIT, "an engine filter takes 1 to 32 arguments");
    f = new_func(e, "sluice_filter", d);
    if (f == NULL)
        return SL_ERR_LIMIT;
    f->filter = *flt;
    f->args = sl_calloc(flt->nargs, sizeof(*f->args));
    memcpy(f->args, flt->args, flt->nargs * sizeof(*f->args));
    f->filter.args = f->args;
    f->kinds = sl_calloc(flt->nargs, sizeof(*f->kinds));
    for (size_t i = 0; i < flt->nargs; i++)
        f->kinds[i] = kind_of_sl(flt->args[i]);
    sf = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(sf, f->name);
    for (size_t i = 0; i < flt->nargs; i++) {
        lt = logical_type(flt->args[i]);
        duckdb_scalar_function_add_parameter(sf, lt);
        duckdb_destroy_logical_type(&lt);
    }
    lt = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    duckdb_scalar_function_set_return_type(sf, lt);
    duckdb_destroy_logical_type(&lt);
    /* NULL arguments reach keep() instead of short-cutting to NULL. */
    duckdb_scalar_function_set_special_handling(sf);
    duckdb_scalar_function_set_extra_info(sf, f, NULL);
    duckdb_scalar_function_set_function(sf, filter_function);
    if (duckdb_register_scalar_function(e->conn[0], sf) != DuckDBSuccess)
        rc = sl_fail(d, SL_ERR_ENGINE, "cannot register scalar function %s", f->name);
    duckdb_destroy_scalar_function(&sf);
    *name = f->name;
    return rc;
}

/* ---- hashes ------------------------------------------------------------------------------- */

/* One hash of a value of f->hash_type: the long of a long, a date's days
 * or a timestamp's microseconds; a string's bytes; a decimal's unscaled
 * value in whichever width the engine keeps it. */
static int32_t
hash_at(const struct func *f, const void *data, idx_t row)
{
    const struct engine_hashes *h = &f->hashes;

    switch (f->hash_type.id) {
    case SL_TYPE_DATE:
    case SL_TYPE_INT32:
        return h->of_long(((const int32_t *)data)[row]);
    case SL_TYPE_STRING: {
        duckdb_string_t *v = (duckdb_string_t *)data + row;

        return h->of_string(duckdb_string_t_data(v), duckdb_string_t_length(*v));
    }
    case SL_TYPE_DECIMAL:
        if (f->hash_type.precision <= 4)
            return h->of_decimal(((const int16_t *)data)[row]);
        if (f->hash_type.precision <= 9)
            return h->of_decimal(((const int32_t *)data)[row]);
        if (f->hash_type.precision <= 18)
            return h->of_decimal(((const int64_t *)data)[row]);
        {
            const duckdb_hugeint *x = (const duckdb_hugeint *)data + row;

            return h->of_decimal((__int128)(((unsigned __int128)(uint64_t)x->upper << 64) |
                                            x->lower));
        }
    default: /* int64, and a timestamp's microseconds */
        return h->of_long(((const int64_t *)data)[row]);
    }
}

static void
hash_function(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output)
{
    const struct func *f = duckdb_scalar_function_get_extra_info(info);
    duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
    const void *data = duckdb_vector_get_data(in);
    uint64_t *valid = duckdb_vector_get_validity(in);
    int32_t *out = duckdb_vector_get_data(output);
    idx_t n = duckdb_data_chunk_get_size(input);

    for (idx_t r = 0; r < n; r++) {
        if (valid != NULL && !duckdb_validity_row_is_valid(valid, r)) {
            duckdb_vector_ensure_validity_writable(output);
            duckdb_validity_set_row_invalid(duckdb_vector_get_validity(output), r);
            continue;
        }
        out[r] = hash_at(f, data, r);
    }
}

/* The engine type of a value of t as the hash functions take it. */
static duckdb_logical_type
hash_arg_type(struct sl_type t)
{
    switch (t.id) {
    case SL_TYPE_DATE:
        return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
    case SL_TYPE_INT32:
        return duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
    case SL_TYPE_TIMESTAMP:
        return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ);
    case SL_TYPE_STRING:
        return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    case SL_TYPE_DECIMAL:
        return duckdb_create_decimal_type((uint8_t)t.precision, (uint8_t)t.scale);
    default:
        return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    }
}

int
engine_hash_function(struct engine *e, struct sl_type type, const struct engine_hashes *h,
                     const char **name, struct sl_diag *d)
{
    struct func *f;
    duckdb_scalar_function sf;
    duckdb_logical_type lt;
    int rc = 0;

    if (type.id == SL_TYPE_BOOL || type.id == SL_TYPE_DOUBLE || type.id == SL_TYPE_FLOAT)
        return sl_fail(d, SL_ERR_INPUT, "a %s value has no bucket hash",
                       type.id == SL_TYPE_BOOL ? "boolean" : "floating-point");
    for (int i = 0; i < e->nfuncs; i++) {
        f = e->funcs[i];
        if (f->hashes.of_long == h->of_long && f->hashes.of_string == h->of_string &&
            f->hashes.of_decimal == h->of_decimal && sl_type_equal(f->hash_type, type)) {
            *name = f->name;
            return 0;
        }
    }
    f = new_func(e, "sluice_hash", d);
    if (f == NULL)
        return SL_ERR_LIMIT;
    f->hashes = *h;
    f->hash_type = type;
    sf = duckdb_create_scalar_function();
    duckdb_scalar_function_set_name(sf, f->name);
    lt = hash_arg_type(type);
    duckdb_scalar_function_add_parameter(sf, lt);
    duckdb_destroy_logical_type(&lt);
    lt = duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
    duckdb_scalar_function_set_return_type(sf, lt);
    duckdb_destroy_logical_type(&lt);
    duckdb_scalar_function_set_extra_info(sf, f, NULL);
    duckdb_scalar_function_set_function(sf, hash_function);
    if (duckdb_register_scalar_function(e->conn[0], sf) != DuckDBSuccess)
        rc = sl_fail(d, SL_ERR_ENGINE, "cannot register scalar function %s", f->name);
    duckdb_destroy_scalar_function(&sf);
    *name = f->name;
    return rc;
}

/* ---- printing ---------------------------------------------------------------------------- */

/* Terminal columns of the character at s (0, 1 or 2); *n gets its bytes.
 * East Asian wide and fullwidth characters and emoji take two columns,
 * combining marks none. */
static int
char_width(const char *s, size_t *n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;

    if (u[0] < 0x80) {
        *n = 1;
        return 1;
    }
    *n = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : 2;
    for (size_t i = 1; i < *n; i++)
        if ((u[i] & 0xC0) != 0x80) {
            *n = i;
            return 1;
        }
    cp = *n == 2 ? (uint32_t)(u[0] & 0x1F) << 6 | (u[1] & 0x3F)
       : *n == 3 ? (uint32_t)(u[0] & 0x0F) << 12 | (uint32_t)(u[1] & 0x3F) << 6 | (u[2] & 0x3F)
                 : (uint32_t)(u[0] & 0x07) << 18 | (uint32_t)(u[1] & 0x3F) << 12 |
                       (uint32_t)(u[2] & 0x3F) << 6 | (u[3] & 0x3F);
    if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFE0F)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF && cp != 0x303F) ||
        (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
        (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
        (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
        return 2;
    return 1;
}

static size_t
text_width(const char *s)
{
    size_t w = 0, n;

    while (*s) {
        w += (size_t)char_width(s, &n);
        s += n;
    }
    return w;
}

#define MAX_CELL 100

/* Print s into a cell of width w: cut with "..." if wider than MAX_CELL. */
static void
cell(FILE *out, const char *s, size_t w, bool right)
{
    size_t sw = text_width(s);

    if (sw > MAX_CELL) {
        size_t cols = 0, i = 0, n;

        while (s[i]) {
            int cw = char_width(s + i, &n);

            if (cols + (size_t)cw > MAX_CELL - 3)
                break;
            cols += (size_t)cw;
            i += n;
        }
        fprintf(out, "%.*s...", (int)i, s);
        sw = cols + 3;
    } else if (right) {
        fprintf(out, "%*s%s", (int)(w - sw), "", s);
        return;
    } else {
        fputs(s, out);
    }
    if (sw < w)
        fprintf(out, "%*s", (int)(w - sw), "");
}

static const char *
at(const struct print_table *pt, size_t r, size_t c)
{
    return pt->cells[r * pt->ncols + c];
}

static void
print_aligned(const struct print_table *pt, FILE *out)
{
    size_t nc = pt->ncols;
    size_t *w = sl_calloc(nc ? nc : 1, sizeof(*w));

    for (size_t c = 0; c < nc; c++) {
        w[c] = text_width(pt->names[c]);
        for (size_t i = 0; i < pt->nrows; i++) {
            const char *t = at(pt, i, c);
            size_t tw = t ? text_width(t) : 4;

            if (tw > w[c])
                w[c] = tw > MAX_CELL ? MAX_CELL : tw;
        }
    }
    for (size_t c = 0; c < nc; c++) {
        fputs(c ? "  " : "", out);
        cell(out, pt->names[c], w[c], pt->numeric[c]);
    }
    fputc('\n', out);
    for (size_t c = 0; c < nc; c++) {
        fputs(c ? "  " : "", out);
        for (size_t k = 0; k < w[c]; k++)
            fputc('-', out);
    }
    fputc('\n', out);
    for (size_t i = 0; i < pt->nrows; i++) {
        for (size_t c = 0; c < nc; c++) {
            const char *t = at(pt, i, c);

            fputs(c ? "  " : "", out);
            cell(out, t ? t : "NULL", w[c], pt->numeric[c]);
        }
        fputc('\n', out);
    }
    fprintf(out, "(%zu row%s)\n", pt->nrows, pt->nrows == 1 ? "" : "s");
    free(w);
}

static void
csv_field(FILE *out, const char *s)
{
    size_t n = strlen(s);

    if (s[strcspn(s, ",\"\r\n")] == '\0' && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void
print_csv(const struct print_table *pt, FILE *out)
{
    for (size_t c = 0; c < pt->ncols; c++) {
        fputs(c ? "," : "", out);
        csv_field(out, pt->names[c]);
    }
    fputc('\n', out);
    for (size_t i = 0; i < pt->nrows; i++) {
        for (size_t c = 0; c < pt->ncols; c++) {
            const char *t = at(pt, i, c);

            fputs(c ? "," : "", out);
            if (t != NULL)
                csv_field(out, t);
        }
        fputc('\n', out);
    }
}

static void
print_json(const struct print_table *pt, FILE *out, bool lines)
{
    struct sl_buf b;

    sl_buf_init(&b);
    if (!lines)
        fputs("[", out);
    for (size_t i = 0; i < pt->nrows; i++) {
        sl_buf_reset(&b);
        sl_buf_adds(&b, "{");
        for (size_t c = 0; c < pt->ncols; c++) {
            const char *t = at(pt, i, c);

            if (c)
                sl_buf_adds(&b, ", ");
            sl_buf_add_json_str(&b, pt->names[c], strlen(pt->names[c]));
            sl_buf_adds(&b, ": ");
            if (t == NULL)
                sl_buf_adds(&b, "null");
            else if (pt->numeric[c] && strcmp(t, "inf") != 0 && strcmp(t, "-inf") != 0 &&
                     strcmp(t, "nan") != 0)
                sl_buf_adds(&b, t);
            else
                sl_buf_add_json_str(&b, t, strlen(t));
        }
        sl_buf_adds(&b, "}");
        if (lines)
            fprintf(out, "%s\n", b.data);
        else
            fprintf(out, "%s\n  %s", i ? "," : "", b.data);
    }
    if (!lines)
        fputs(pt->nrows ? "\n]\n" : "]\n", out);
    sl_buf_release(&b);
}

int
engine_print(struct engine *e, const char *sql, enum engine_format fmt, FILE *out,
             struct sl_diag *d)
{
    duckdb_extracted_statements stmts = NULL;
    idx_t n = duckdb_extract_statements(e->conn[0], sql, &stmts);
    duckdb_result res;
    bool have = false;
    int rc = 0;

    if (n == 0) {
        rc = sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_extract_statements_error(stmts));
        duckdb_destroy_extracted(&stmts);
        return rc;
    }
    for (idx_t i = 0; i < n && rc == 0; i++) {
        duckdb_prepared_statement ps = NULL;

        if (have) {
            duckdb_destroy_result(&res);
            have = false;
        }
        if (duckdb_prepare_extracted_statement(e->conn[0], stmts, i, &ps) != DuckDBSuccess) {
            rc = sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_prepare_error(ps));
        } else if (duckdb_execute_prepared(ps, &res) != DuckDBSuccess) {
            rc = sl_fail(d, SL_ERR_ENGINE, "%s", duckdb_result_error(&res));
            duckdb_destroy_result(&res);
        } else {
            have = true;
        }
        duckdb_destroy_prepare(&ps);
    }
    duckdb_destroy_extracted(&stmts);
    if (have) {
        struct print_table pt = {0};

        print_collect(&res, &pt);
        duckdb_destroy_result(&res);
        switch (fmt) {
        case ENGINE_FORMAT_TABLE:
            print_aligned(&pt, out);
            break;
        case ENGINE_FORMAT_CSV:
            print_csv(&pt, out);
            break;
        case ENGINE_FORMAT_JSON:
            print_json(&pt, out, false);
            break;
        case ENGINE_FORMAT_JSONL:
            print_json(&pt, out, true);
            break;
        }
        print_release(&pt);
    }
    return rc;
}
