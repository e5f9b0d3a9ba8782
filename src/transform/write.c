/*
 * write.c - the plan to staged Parquet files (see transform_int.h).
 *
 * Each output file is described to the engine (struct engine_write), which
 * writes it with one COPY statement (engine/tables.c):
 *
 *   the day's new rows      a C table function (scan) over the rows in
 *                           memory, argument k: part k
 *   then the survivors of   each old file the part absorbs, read by column
 *                           name, filtered by file row number through a C
 *                           scalar function (filter) that drops the rows
 *                           deleted or replaced
 *   to                      '<staged>', zstd, version-1 pages, each column
 *                           with its field id, RETURN_STATS
 *
 * A column added by a later contract version reads as NULL from files
 * written before it (each file's max_field_id).
 *
 * The run's deletion files - the positions of replaced rows in files that
 * are not rewritten - come from a second C table function, written beside
 * the others:
 *
 *   file_path VARCHAR   field id 2147483546   URI of the data file
 *                                             ("file:///lake/curated/t/dt=.../x")
 *   pos       BIGINT    field id 2147483545   0-based row position in it
 *
 * sorted by file_path then pos - the columns, field ids and order of an
 * Iceberg v2 position delete file: one per day, as a position delete file
 * holds the deletes of one partition.  RETURN_STATS gives each file's rows,
 * bytes and column bounds for its manifest entry.  The statements run
 * over the engine's connection pool, one file per connection at a time,
 * which is what keeps both cores busy: a single Parquet file is written by
 * one thread.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "transform/transform_int.h"
#include "core/banned.h"

int
engine_for(struct trun *t, struct sl_diag *d)
{
    const struct engine_settings *es = &t->project->config.engine;
    struct engine_opts o = {
        .threads = es->threads,
        .memory_limit = es->memory_limit,
        .connections = t->threads,
    };
    char *key = NULL, *path = NULL, *dir;
    int rc;

    if (t->engine != NULL)
        return 0;
    /* If DuckDB spills, it spills into our staging area, not the current
     * folder; the area goes when we do. */
    rc = store_stage(t->store, "engine-spill/.keep", &key, &path, d);
    if (rc < 0)
        return rc;
    dir = sl_dirname(path);
    o.temp_dir = dir;
    rc = engine_open(&o, &t->engine, d);
    free(dir);
    free(key);
    free(path);
    return rc;
}

/* ---- the scan of new rows ------------------------------------------------------------ */

/* Copy rows[k] of column c, for k in [0, n), into chunk column col from row
 * at on. */
static void
fill_column(struct engine_chunk *ch, size_t col, size_t at, const struct rows_col *c,
            const uint64_t *refs, size_t n)
{
    void *out = engine_chunk_data(ch, col);

    for (size_t k = 0; k < n; k++) {
        size_t row = (uint32_t)refs[k], o = at + k;

        if (c->null[row]) {
            engine_chunk_set_null(ch, col, o);
            continue;
        }
        switch (c->type.id) {
        case SL_TYPE_STRING:
            /* The rows' strings live in the mapped objects and the rows'
             * arenas until the run ends, past the statement. */
            engine_chunk_ref_str(ch, col, o, c->str[row].p, c->str[row].len);
            break;
        case SL_TYPE_INT64:
        case SL_TYPE_TIMESTAMP:
            ((int64_t *)out)[o] = c->i64[row];
            break;
        case SL_TYPE_DOUBLE:
            ((double *)out)[o] = c->f64[row];
            break;
        case SL_TYPE_DATE:
            ((int32_t *)out)[o] = c->i32[row];
            break;
        case SL_TYPE_BOOL:
            ((uint8_t *)out)[o] = c->b[row];
            break;
        case SL_TYPE_DECIMAL:
            engine_chunk_set_decimal(ch, col, o,
                                     c->type.precision <= 18 ? c->i64[row] : c->i128[row]);
            break;
        case SL_TYPE_INT32:
        case SL_TYPE_FLOAT:
            assert(!"a contract has no int or float column");
            break;
        }
    }
}

/*
 * The scan's fill: rows [first, first + 2048) of part `which`.  A part's
 * rows come in runs from one piece (pieces in order, rows in order within
 * each), so the work goes run by run and column by column, with what a
 * column needs looked up once per run.
 */
static size_t
fill(void *arg, int64_t which, int64_t first, struct engine_chunk *ch)
{
    struct ttable *tt = arg;
    const struct tpart *part = &tt->parts[which];
    size_t n, nuser = tt->meta.ncolumns - NMETA;
    const uint64_t *refs = part->refs + first;
    int64_t *pos;
    const struct tobj *obj;
    bool one = true;

    if (first >= (int64_t)part->n)
        return 0;
    n = part->n - (size_t)first < ENGINE_CHUNK_ROWS ? part->n - (size_t)first
                                                     : ENGINE_CHUNK_ROWS;
    pos = engine_chunk_data(ch, nuser + 1);
    obj = tt->pieces[refs[0] >> 32]->obj;
    for (size_t k0 = 0, k1; k0 < n; k0 = k1) {
        const struct piece *pc = tt->pieces[refs[k0] >> 32];

        for (k1 = k0 + 1; k1 < n && refs[k1] >> 32 == refs[k0] >> 32; k1++)
            ;
        for (size_t j = 0; j < nuser; j++) {
            int src = pc->colmap_out[j];

            if (src < 0) {
                for (size_t k = k0; k < k1; k++)
                    engine_chunk_set_null(ch, j, k);
                continue;
            }
            fill_column(ch, j, k0, &pc->rows.cols[src], refs + k0, k1 - k0);
        }
        /* Metadata, in the order of meta_cols in merge.c: object id and
         * arrival are constants when every row comes from one object. */
        for (size_t k = k0; k < k1; k++)
            pos[k] = pc->rows.pos[(uint32_t)refs[k]];
        one &= pc->obj == obj;
    }
    if (one) {
        engine_chunk_const_str(ch, nuser, obj->ro.object_id, strlen(obj->ro.object_id));
        engine_chunk_const_timestamp(ch, nuser + 2, obj->ro.arrived_at);
    } else {
        int64_t *at = engine_chunk_data(ch, nuser + 2);

        for (size_t k = 0; k < n; k++) {
            const struct tobj *o = tt->pieces[refs[k] >> 32]->obj;

            engine_chunk_set_str(ch, nuser, k, o->ro.object_id, strlen(o->ro.object_id));
            at[k] = o->ro.arrived_at;
        }
    }
    return n;
}

/* Deletion file `which`'s fill: its positions [first, first + 2048). */
static size_t
fill_deletes(void *arg, int64_t which, int64_t first, struct engine_chunk *ch)
{
    const struct ttable *tt = arg;
    const struct tdelout *o = &tt->delouts[which];
    int64_t *pos = engine_chunk_data(ch, 1);
    size_t n;

    if (first >= (int64_t)o->n)
        return 0;
    n = o->n - (size_t)first < ENGINE_CHUNK_ROWS ? o->n - (size_t)first : ENGINE_CHUNK_ROWS;
    for (size_t k = 0; k < n; k++) {
        const struct trow *r = &tt->delrefs[o->first + (size_t)first + k];
        const char *uri = tt->files[r->file].uri;

        engine_chunk_set_str(ch, 0, k, uri, strlen(uri));
        pos[k] = r->row;
    }
    return n;
}

struct engine_column *
curated_columns(const struct curated_table *m, size_t n, size_t extra)
{
    struct engine_column *cols = sl_calloc(n + extra + 1, sizeof(*cols));

    for (size_t j = 0; j < n; j++) {
        cols[j].name = m->columns[j].name;
        cols[j].type = m->columns[j].type;
        cols[j].field_id = m->columns[j].field_id;
    }
    return cols;
}

/* ---- the files' descriptions ------------------------------------------------------------ */

/*
 * Part k's output file: its new rows, then the survivors of each file it
 * absorbs, filtered by file row number when the file has deleted or
 * replaced rows.  files has room for the part's files.  The engine reads
 * old files by column name, a column a file predates as typed NULLs
 * (engine.h, "tables").
 */
static void
describe_part(struct trun *t, struct ttable *tt, size_t k, const struct engine_column *cols,
              const char *scan, const char *filter, const char *path,
              struct engine_file *files, struct engine_write *w)
{
    const struct transform_settings *ts = &t->project->config.transform;
    const struct tpart *part = &tt->parts[k];

    for (size_t i = 0; i < part->nfiles; i++) {
        const struct tfile *f = &tt->files[part->files[i]];

        files[i].path = f->path;
        files[i].max_field_id = f->max_field_id;
        files[i].index = (int64_t)part->files[i];
        files[i].filtered = f->dels != NULL || f->gone != NULL;
    }
    *w = (struct engine_write){
        .path = path,
        .ncolumns = tt->meta.ncolumns,
        .columns = cols,
        .scan = part->n > 0 ? scan : NULL,
        .which = (int64_t)k,
        .nfiles = part->nfiles,
        .files = files,
        .filter = filter,
        .zstd_level = ts->zstd_level,
        .row_group_rows = ts->row_group_rows,
    };
}

/* Cut the run's delrefs into one deletion file per partition (delrefs come
 * grouped by partition text: plan_outputs()). */
static void
group_deletes(struct ttable *tt)
{
    size_t cap = 0;

    for (size_t i = 0; i < tt->ndelrefs; i++) {
        const char *part = tt->files[tt->delrefs[i].file].partition;
        struct tdelout *o;

        if (tt->ndelouts > 0 && strcmp(tt->delouts[tt->ndelouts - 1].partition, part) == 0) {
            tt->delouts[tt->ndelouts - 1].n++;
            continue;
        }
        SL_GROW(tt->delouts, cap, tt->ndelouts + 1);
        o = &tt->delouts[tt->ndelouts++];
        memset(o, 0, sizeof(*o));
        o->partition = part;
        o->first = i;
        o->n = 1;
    }
}

/* Stage the deletion files and describe them: w[], paths[], one per day. */
static int
plan_deletes(struct trun *t, struct ttable *tt, struct engine_write *w, char **paths,
             struct sl_diag *d)
{
    /* The columns and field ids of an Iceberg v2 position delete file. */
    static const struct engine_column cols[2] = {
        {"file_path", {SL_TYPE_STRING, 0, 0}, 2147483546},
        {"pos", {SL_TYPE_INT64, 0, 0}, 2147483545},
    };
    struct engine_scan es = {2, cols, fill_deletes, tt};
    const char *scan, *staged_path;
    char *name;
    int rc;

    if (tt->ndelrefs == 0)
        return 0;
    rc = engine_register_scan(t->engine, &es, &scan, d);
    if (rc < 0)
        return rc;
    group_deletes(tt);
    for (size_t k = 0; k < tt->ndelouts; k++) {
        struct tdelout *o = &tt->delouts[k];

        name = sl_printf("curated-%lld-deletes-%zu.parquet", (long long)t->run_id, k);
        rc = commit_stage(t->commit, name, &o->staged_key, &staged_path, d);
        free(name);
        if (rc < 0)
            return rc;
        paths[k] = sl_strdup(staged_path);
        o->key = layout_curated_deletes_key(tt->meta.prefix, o->partition, t->run_id);
        w[k] = (struct engine_write){
            .path = paths[k],
            .ncolumns = 2,
            .columns = cols,
            .scan = scan,
            .which = (int64_t)k,
            .zstd_level = t->project->config.transform.zstd_level,
        };
    }
    return 0;
}

/*
 * The rows of part k's file as its key file lists them, into w: its new
 * rows in order, then the survivors of each file it absorbs, in order
 * (describe_part's order, which DuckDB keeps: insertion order is preserved).
 * False when an absorbed file has no usable key file: then neither has the
 * new one, and the probe reads it.
 */
static bool
part_keys(struct trun *t, struct ttable *tt, const struct tpart *part, struct keywriter *w)
{
    struct keyrec *recs = NULL;
    size_t cap = 0;
    bool ok = true;

    for (size_t i = 0; i < part->n; i++) {
        const struct piece *pc = tt->pieces[part->refs[i] >> 32];
        uint32_t row = (uint32_t)part->refs[i];
        struct keyrec r = {pc->rows.key_hash2[row], pc->rows.ev[row], pc->obj->ro.arrived_at,
                           pc->rows.pos[row], pc->rows.row_hash[row]};

        keywriter_add(w, pc->rows.key_hash[row], &r);
    }
    for (size_t i = 0; ok && i < part->nfiles; i++) {
        const struct tfile *f = &tt->files[part->files[i]];
        char *key = layout_curated_keys_key(tt->meta.prefix, f->key);
        struct keyfile *kf = NULL;

        ok = key != NULL && keyfile_open(t->store, key, f->rows, f->bytes, &kf) == 0;
        free(key);
        if (ok) {
            SL_GROW(recs, cap, (size_t)f->rows);
            ok = keyfile_recs(kf, 0, (size_t)f->rows, recs) == 0;
        }
        for (int64_t row = 0; ok && row < f->rows; row++)
            if (!rowbit_has(f->dels, row) && !rowbit_has(f->gone, row))
                keywriter_add(w, keyfile_h1(kf)[row], &recs[row]);
        keyfile_close(kf);
    }
    free(recs);
    return ok && w->n == part->out_rows;
}

/* The key files of a table's parts, built and written beside the engine's
 * writes (they need only the plan; the data file's size is put in after). */
struct key_build {
    struct trun *t;
    struct ttable *tt;
    const char **path;            /* per part: its key file's staged path, or NULL */
    bool *ok;                     /* per part: the key file is written */
    pthread_t thread;
    bool started;
};

static void *
build_keys(void *arg)
{
    struct key_build *kb = arg;

    for (size_t k = 0; k < kb->tt->nparts; k++) {
        const struct tpart *part = &kb->tt->parts[k];
        struct keywriter w;
        struct sl_diag d;

        if (kb->path[k] == NULL)
            continue;
        sl_buf_init(&w.h1);
        sl_buf_init(&w.recs);
        w.n = 0;
        sl_buf_grow(&w.h1, (size_t)part->out_rows * sizeof(uint64_t));
        sl_buf_grow(&w.recs, (size_t)part->out_rows * (sizeof(struct keyrec) + 8));
        sl_diag_init(&d);
        if (!part_keys(kb->t, kb->tt, part, &w))
            SL_DEBUG("transform", "%s: no key file (a file it absorbs has none)",
                     part->final_key);
        else if (keywriter_write(&w, kb->path[k], &d) < 0)
            SL_WARN("transform", "%s: no key file: %s", part->final_key, d.msg);
        else
            kb->ok[k] = true;
        keywriter_release(&w);
    }
    return NULL;
}

/* Stage the key files of the parts planned and start building them (in a
 * thread of their own when one can be had, else at once). */
static int
start_keys(struct key_build *kb, struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    int rc = 0;

    kb->t = t;
    kb->tt = tt;
    kb->path = sl_calloc(tt->nparts + 1, sizeof(*kb->path));
    kb->ok = sl_calloc(tt->nparts + 1, sizeof(*kb->ok));
    for (size_t k = 0; k < tt->nparts && rc == 0; k++) {
        struct tpart *part = &tt->parts[k];
        char *name;

        if (part->staged_key == NULL)
            continue;
        name = sl_printf("curated-%lld-%zu.keys", (long long)t->run_id, k);
        rc = commit_stage(t->commit, name, &part->keys_staged, &kb->path[k], d);
        free(name);
    }
    if (rc < 0)
        return rc;
    kb->started = pthread_create(&kb->thread, NULL, build_keys, kb) == 0;
    if (!kb->started)
        build_keys(kb);
    return 0;
}

/* Once the data files are written (rc: whether they were): each key file
 * gets its data file's size, or is given up; the key files to seal are
 * added to seal. */
static int
finish_keys(struct key_build *kb, int rc, struct sl_strlist *seal, struct sl_diag *d)
{
    struct ttable *tt = kb->tt;

    if (kb->started)
        pthread_join(kb->thread, NULL);
    for (size_t k = 0; k < tt->nparts; k++) {
        struct tpart *part = &tt->parts[k];

        if (part->keys_staged == NULL)
            continue;
        if (rc == 0 && kb->ok[k])
            rc = keyfile_set_data_bytes(kb->path[k], part->bytes, d);
        if (rc == 0 && kb->ok[k]) {
            sl_strlist_add(seal, part->keys_staged);
            part->keys_key = layout_curated_keys_key(tt->meta.prefix, part->final_key);
        } else {
            commit_unstage(kb->t->commit, part->keys_staged);
            part->keys_staged = NULL;
        }
    }
    free(kb->path);
    free(kb->ok);
    return rc;
}

int
write_outputs(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    struct engine_column *cols;
    static const struct sl_type filter_args[2] = {{SL_TYPE_INT64, 0, 0}, {SL_TYPE_INT64, 0, 0}};
    const char *scan = NULL, *filter = NULL;
    char **paths, **del_paths;
    struct engine_write *w;
    struct engine_file *files;
    struct engine_file_stats *stats;
    size_t nw = 0, ndel, nfiles = 0;
    bool filtered = false;
    int rc;

    if (tt->nparts == 0 && tt->ndelrefs == 0)
        return 0;
    rc = engine_for(t, d);
    if (rc < 0)
        return rc;
    /* The table's columns: the scan's, and the written files'. */
    cols = curated_columns(&tt->meta, tt->meta.ncolumns, 0);
    struct engine_scan es = {tt->meta.ncolumns, cols, fill, tt};

    rc = engine_register_scan(t->engine, &es, &scan, d);
    if (rc < 0)
        goto out_cols;
    for (size_t i = 0; i < tt->nfiles; i++)
        filtered |= tt->files[i].merge && (tt->files[i].dels || tt->files[i].gone);
    if (filtered) {
        struct engine_filter ef = {2, filter_args, rowbits_filter, &tt->keep};

        tt->keep.tt = tt; /* the tables array no longer moves */

        rc = engine_register_filter(t->engine, &ef, &filter, d);
        if (rc < 0)
            goto out_cols;
    }
    /* One file per statement and statements side by side: each statement
     * on one thread, or DuckDB's workers and ours fight over the cores. */
    rc = engine_set_threads(t->engine, 1, d);
    if (rc < 0)
        goto out_cols;

    /* At most one deletion file per day of the files it names. */
    ndel = tt->nfiles;
    for (size_t k = 0; k < tt->nparts; k++)
        nfiles += tt->parts[k].nfiles;
    w = sl_calloc(tt->nparts + ndel + 1, sizeof(*w));
    files = sl_calloc(nfiles + 1, sizeof(*files));
    paths = sl_calloc(tt->nparts + 1, sizeof(*paths));
    del_paths = sl_calloc(ndel + 1, sizeof(*del_paths));
    /* The deletion files first: the smallest statements, they should not
     * be left running alone at the end. */
    rc = plan_deletes(t, tt, w, del_paths, d);
    nw = tt->ndelouts;
    nfiles = 0;
    for (size_t k = 0; k < tt->nparts && rc == 0; k++) {
        struct tpart *part = &tt->parts[k];
        int64_t survivors = 0;
        const char *staged_path;
        char *name, dir[IVAL_PARTITION_TEXT], val[IVAL_PARTITION_TEXT];

        for (size_t i = 0; i < part->nfiles; i++) {
            const struct tfile *f = &tt->files[part->files[i]];

            survivors += f->rows - f->deleted - f->ngone;
        }
        part->out_rows = (int64_t)part->n + survivors;
        if (part->out_rows == 0)
            continue; /* the day's files only lose rows: nothing to write */
        name = sl_printf("curated-%lld-%zu.parquet", (long long)t->run_id, k);
        rc = commit_stage(t->commit, name, &part->staged_key, &staged_path, d);
        free(name);
        if (rc < 0)
            break;
        paths[k] = sl_strdup(staged_path);
        part->final_key = layout_curated_data_key(
            tt->meta.prefix, ival_partition_folder(tt->part, part->value, dir, val) ? dir : NULL,
            val, t->run_id, k);
        describe_part(t, tt, k, cols, scan, filter, paths[k], files + nfiles, &w[nw++]);
        nfiles += part->nfiles;
    }
    stats = sl_calloc(nw + 1, sizeof(*stats));
    struct key_build kb = {0};
    struct sl_strlist seal = {0};

    if (rc == 0)
        rc = start_keys(&kb, t, tt, d);
    if (rc == 0)
        rc = engine_write_many(t->engine, w, nw, stats, d);
    /* Files are described in order: deletion files, then the parts written. */
    for (size_t k = 0, i = tt->ndelouts; k < tt->nparts && rc == 0; k++) {
        struct tpart *part = &tt->parts[k];

        if (part->staged_key == NULL)
            continue;
        part->stats = stats[i];
        memset(&stats[i++], 0, sizeof(*stats));
        sl_strlist_add(&seal, part->staged_key);
        part->bytes = part->stats.bytes;
        tt->bytes_written += part->bytes;
        tt->files_added++;
    }
    for (size_t k = 0; k < tt->ndelouts && rc == 0; k++) {
        struct tdelout *o = &tt->delouts[k];

        sl_strlist_add(&seal, o->staged_key);
        o->bytes = stats[k].bytes;
        tt->bytes_written += o->bytes;
    }
    SL_DEBUG("transform", "curated.%s: %zu file(s) written", tt->meta.name, nw);
    if (kb.tt != NULL)
        rc = finish_keys(&kb, rc, &seal, d);
    /* All at once: the disk writes them together. */
    if (rc == 0)
        rc = commit_seal_many(t->commit, (const char *const *)seal.v, seal.n, d);
    SL_DEBUG("transform", "curated.%s: %zu file(s) sealed", tt->meta.name, seal.n);
    sl_strlist_release(&seal);
    if (rc == 0 && tt->ndelouts > 0)
        rc = sl_fault("transform.deletes_sealed");
    for (size_t i = 0; i < nw; i++)
        engine_file_stats_release(&stats[i]);
    free(stats);
    for (size_t i = 0; i < tt->nfiles; i++)
        tt->files_removed += tt->files[i].merge;
    for (size_t k = 0; k < tt->nparts; k++)
        free(paths[k]);
    for (size_t k = 0; k < tt->ndelouts; k++)
        free(del_paths[k]);
    free(del_paths);
    free(paths);
    free(files);
    free(w);
out_cols:
    free(cols);
    return rc;
}
