/*
 * compact.c - a curated table's small files and deletes rewritten into
 * files of the target size (sluice compact; see transform.h).
 *
 * The pieces are a transform run's, with no batch: table_prepare() and
 * load_deletes() find the live files and the rows deletion files retire;
 * plan() bins each partition's small files and files with deleted rows
 * into outputs of at most max_file_rows survivors; write_outputs() writes
 * them; record_outputs() retires the rewritten files (and the deletion
 * files left with no live target) and commits the table's snapshot as a
 * "replace", in one run of kind "compact".  The rows are the same before
 * and after; only their files change.  A rewritten file stays for the
 * snapshots that read it until they expire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commit/commit.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "transform/transform_int.h"
#include "core/banned.h"

/* A file at least this share of the target, with nothing deleted, is left
 * alone (Iceberg's rewrite takes the same three quarters as "small"). */
#define SMALL_NUM 3
#define SMALL_DEN 4

static int64_t
live_rows(const struct tfile *f)
{
    return f->rows - f->ngone;
}

static bool
wants_rewrite(const struct tfile *f, int64_t target)
{
    return f->ngone > 0 || live_rows(f) * SMALL_DEN < target * SMALL_NUM;
}

/* Order of files within a partition: the largest first, so that bins fill
 * with few files. */
static const struct ttable *sort_tt;

static int
cmp_live(const void *a, const void *b)
{
    const struct tfile *x = &sort_tt->files[*(const size_t *)a];
    const struct tfile *y = &sort_tt->files[*(const size_t *)b];
    int64_t lx = live_rows(x), ly = live_rows(y);

    if (lx != ly)
        return lx < ly ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* A new output of partition value with the files idx[0, n) in it. */
static void
add_bin(struct ttable *tt, size_t *cap, int32_t value, const size_t *idx, size_t n)
{
    struct tpart *p;

    /* One file with nothing to drop gains nothing from a rewrite. */
    if (n == 0 || (n == 1 && tt->files[idx[0]].ngone == 0))
        return;
    SL_GROW(tt->parts, *cap, tt->nparts + 1);
    p = &tt->parts[tt->nparts++];
    memset(p, 0, sizeof(*p));
    p->value = value;
    for (size_t i = 0; i < n; i++) {
        tt->files[idx[i]].merge = true;
        SL_GROW(p->files, p->fcap, p->nfiles + 1);
        p->files[p->nfiles++] = idx[i];
    }
}

/*
 * Each partition's files that want a rewrite, in bins of at most target
 * survivors (first fit, largest first); a file that alone passes the
 * target (it has deletes) is a bin of its own.
 */
static void
plan(struct ttable *tt, int64_t target)
{
    size_t *idx = sl_calloc(tt->nfiles + 1, sizeof(*idx));
    bool *seen = sl_calloc(tt->nfiles + 1, sizeof(*seen));
    size_t cap = tt->partcap;

    for (size_t i = 0; i < tt->nfiles; i++) {
        int32_t value;
        size_t n = 0;

        if (seen[i] || ival_partition_parse(tt->part, tt->files[i].partition, &value) < 0)
            continue;
        for (size_t j = i; j < tt->nfiles; j++) {
            if (seen[j] || strcmp(tt->files[j].partition, tt->files[i].partition) != 0)
                continue;
            seen[j] = true;
            if (wants_rewrite(&tt->files[j], target))
                idx[n++] = j;
        }
        sort_tt = tt;
        qsort(idx, n, sizeof(*idx), cmp_live);
        /* First fit into bins that each stay within the target. */
        while (n > 0) {
            size_t *bin = sl_calloc(n, sizeof(*bin)), nb = 0, rest = 0;
            int64_t rows = 0;

            for (size_t k = 0; k < n; k++) {
                int64_t r = live_rows(&tt->files[idx[k]]);

                if (nb == 0 || rows + r <= target) {
                    bin[nb++] = idx[k];
                    rows += r;
                } else {
                    idx[rest++] = idx[k];
                }
            }
            add_bin(tt, &cap, value, bin, nb);
            free(bin);
            n = rest;
        }
    }
    tt->partcap = cap;
    free(seen);
    free(idx);
}

struct compact_ctx {
    struct trun *t;
    struct ttable *tt;
};

static int
compact_record(struct catalog_txn *txn, struct commit *c, void *arg, struct sl_diag *d)
{
    struct compact_ctx *x = arg;

    (void)c;
    return record_outputs(txn, x->t, x->tt, true, d);
}

static int
held_run(void *arg, const struct run_record *r)
{
    /* a source's transform: a build of a model of the same name is not */
    if (strcmp(r->kind, "transform") == 0 && *(int64_t *)arg == 0)
        *(int64_t *)arg = r->run_id;
    return 0;
}

static int
find_held(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct trun *t = arg;

    t->run_id = 0;
    return catalog_run_list(txn, t->src->name, 0, true, held_run, &t->run_id, d);
}

static int
compact_table(struct trun *t, int major, struct transform_compaction *out, struct sl_diag *d)
{
    const struct transform_settings *ts = &t->project->config.transform;
    size_t cap = 0;
    struct ttable *tt = table_for(t, &cap, major);
    struct run_record r = {0};
    int64_t started = sl_now_usec();
    int rc;

    if (tt->latest == NULL)
        return sl_fail(d, SL_ERR_NOTFOUND, "source '%s' has no contract of major version %d",
                       t->src->name, major);
    rc = table_prepare(t, tt, d);
    if (rc == 0 && !tt->exists)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "curated table '%s' has no rows yet",
                     tt->meta.name);
    if (rc == 0 && tt->upgrade) {
        rc = sl_fail(d, SL_ERR_INCOMPATIBLE,
                     "curated table '%s' was written by an older release and has no Iceberg "
                     "snapshot yet",
                     tt->meta.name);
        sl_diag_hint(d, "its next 'sluice transform --source %s' makes one", t->src->name);
    }
    if (rc == 0)
        rc = load_deletes(t, tt, d);
    if (rc < 0)
        return rc;
    out->files_before = (int64_t)tt->nfiles;
    plan(tt, ts->max_file_rows);
    for (size_t i = 0; i < tt->nfiles; i++) {
        if (!tt->files[i].merge)
            continue;
        out->files_rewritten++;
        out->rows += live_rows(&tt->files[i]);
        out->rows_dropped += tt->files[i].ngone;
    }
    if (tt->nparts == 0) {
        out->files_after = out->files_before;
        return 0;
    }
    rc = commit_run_id(t->commit, &t->run_id, d);
    if (rc == 0)
        rc = write_outputs(t, tt, d);
    if (rc < 0)
        return rc;

    r.table = tt->meta.name;
    r.files_added = tt->files_added;
    r.files_removed = tt->files_removed;
    r.bytes_written = tt->bytes_written;
    r.started_at = started;
    struct compact_ctx x = {t, tt};

    rc = commit_finish(t->commit, &r, COMMIT_PUBLISH, compact_record, &x, d);
    if (rc < 0)
        return rc;
    out->run_id = t->run_id;
    out->files_written = tt->files_added;
    out->bytes_written = tt->bytes_written;
    out->files_after = out->files_before - out->files_rewritten + out->files_written;
    out->snapshot_id = tt->snapshot_id;
    return 0;
}

int
transform_compact(struct project *p, struct store *s, struct catalog *cat,
                  const struct source *src, int major, bool wait,
                  struct transform_compaction *out, struct sl_diag *d)
{
    struct catalog_lock *lock = NULL;
    struct trun t = {.project = p, .store = s, .cat = cat, .src = src, .operation = "replace"};
    int rc;

    memset(out, 0, sizeof(*out));
    rc = trun_begin(&t, wait, &lock, d);
    if (rc < 0 && lock == NULL)
        return rc;
    sl_arena_init(&t.arena, 0);
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_READ, find_held, &t, d);
    if (rc == 0 && t.run_id != 0)
        rc = trun_held(&t, t.run_id, "compact", d);
    t.run_id = 0;
    if (rc == 0) {
        t.commit = commit_new(s, cat, "compact", src->name);
        rc = compact_table(&t, major, out, d);
    }
    trun_reset(&t);
    engine_close(t.engine);
    sl_arena_release(&t.arena);
    catalog_unlock(lock);
    return rc;
}
