/*
 * run.c - a transform run from bookmark to commit (see transform.h).
 *
 *   transform_run()
 *     lock transform-<source>          one transform per source at a time
 *     commit_recover()                  finish interrupted runs, sweep
 *     project_register_source()         contract versions fixed
 *     objects after the bookmark        (or after the rewind point)
 *     for each batch of <= batch_bytes:
 *       run_batch()
 *         load_objects, parse_pieces    rows + quarantine lists
 *         per table: table_prepare, load_deletes, dedup_batch,
 *                    probe_table, plan_outputs,
 *                    write_outputs                  staged Parquet: data
 *                                                   files, deletion file
 *         write_quarantine              staged JSON lines
 *         catalog transaction           files, deletion file and its
 *                                       targets, retirements (of files
 *                                       and of deletion files left with
 *                                       no live target), account,
 *                                       schema drift (information),
 *                                       bookmark, pending publications
 *         commit_publish                renames and deletions
 *
 * Fault points (core/fault.h): transform.deletes_sealed,
 * transform.before_commit, transform.after_commit and those of the store,
 * catalog and commit steps in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/drift.h"
#include "commit/commit.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "project/register.h"
#include "table/table.h"
#include "transform/transform_int.h"
#include "core/banned.h"

struct objlist {
    struct raw_object *v;
    size_t n, cap;
    struct sl_arena *a;
};

static int
collect_obj(void *arg, const struct raw_object *o)
{
    struct objlist *l = arg;
    struct raw_object *c;

    SL_GROW(l->v, l->cap, l->n + 1);
    c = &l->v[l->n++];
    *c = *o;
    c->source = sl_arena_strdup(l->a, o->source);
    c->object_id = sl_arena_strdup(l->a, o->object_id);
    c->key = sl_arena_strdup(l->a, o->key);
    c->system = sl_arena_strdup(l->a, o->system);
    c->contract_version = sl_arena_strdup(l->a, o->contract_version);
    c->original_name = sl_arena_strdup(l->a, o->original_name);
    c->format = sl_arena_strdup(l->a, o->format);
    c->compression = sl_arena_strdup(l->a, o->compression);
    c->checksum = sl_arena_strdup(l->a, o->checksum);
    return 0;
}

/* The seq after which a rewind starts. */
static int
rewind_point(struct catalog_txn *txn, const struct source *src, const char *point,
             int64_t *after, struct sl_diag *d)
{
    struct sl_arena a;
    struct raw_object o;
    int64_t usec;
    int rc;

    *after = 0;
    if (*point == '\0')
        return 0;
    if (sl_parse_timestamp(point, strlen(point), &usec) == 0) {
        struct objlist l = {.a = NULL};
        struct sl_arena la;

        sl_arena_init(&la, 0);
        l.a = &la;
        rc = catalog_raw_list(txn, src->name, 0, collect_obj, &l, d);
        *after = INT64_MAX;
        for (size_t i = 0; rc == 0 && i < l.n; i++) {
            if (l.v[i].arrived_at >= usec) {
                *after = l.v[i].seq - 1;
                break;
            }
        }
        free(l.v);
        sl_arena_release(&la);
        return rc;
    }
    sl_arena_init(&a, 0);
    rc = catalog_raw_get(txn, src->name, point, &a, &o, d);
    if (rc == SL_ERR_NOTFOUND) {
        sl_fail(d, SL_ERR_NOTFOUND, "cannot rewind source '%s' to '%s': no such raw object",
                src->name, point);
        sl_diag_hint(d, "give a raw object id (see 'sluice raw ls --source %s'), an ISO 8601 "
                        "time, or nothing to start from the first object",
                     src->name);
    } else if (rc == 0) {
        *after = o.seq - 1;
    }
    sl_arena_release(&a);
    return rc;
}

struct ttable *
table_for(struct trun *t, size_t *cap, int major)
{
    for (size_t i = 0; i < t->ntables; i++)
        if (t->tables[i].major == major)
            return &t->tables[i];
    SL_GROW(t->tables, *cap, t->ntables + 1);
    struct ttable *tt = &t->tables[t->ntables++];

    memset(tt, 0, sizeof(*tt));
    tt->major = major;
    tt->latest = source_latest(t->src, major);
    return tt;
}

/* The Iceberg statistics of one column of a written file. */
static void
column_stats(const struct curated_column *col, const struct engine_file_stats *fs,
             struct sl_arena *a, struct mf_column_stats *out)
{
    struct table_column tc = {col->name, col->field_id, col->type, col->required};

    table_column_stats(&tc, fs, a, out);
}

/* The table as Iceberg sees it. */
static void
table_def_of(const struct curated_table *m, struct ival_transform part, struct sl_arena *a,
             struct table_def *def)
{
    struct table_column *cols = sl_arena_zalloc(a, (m->ncolumns + 1) * sizeof(*cols));

    for (size_t j = 0; j < m->ncolumns; j++) {
        cols[j].name = m->columns[j].name;
        cols[j].field_id = m->columns[j].field_id;
        cols[j].type = m->columns[j].type;
        cols[j].required = m->columns[j].required;
    }
    memset(def, 0, sizeof(*def));
    def->ns = "curated";
    def->name = m->name;
    def->prefix = m->prefix;
    def->ncolumns = m->ncolumns;
    def->columns = cols;
    def->last_column_id = m->next_field_id - 1;
    def->partition_column = part.kind == IVAL_VOID ? NULL
                            : part.column != NULL  ? part.column
                                                   : m->event_time;
    def->transform = part;
    def->key_columns = m->key_columns;
}

/*
 * The partition of file f from its text: a value of the table's partitioning
 * part, or - a file written before the table's partitioning changed - of the
 * one its text is of (f->written_under, in a).
 */
static void
written_under(const struct ival_transform *part, const char *text, struct sl_arena *a,
              struct table_file *f)
{
    struct ival_transform was;
    int32_t value = 0;

    f->partition.set = false;
    f->written_under = NULL;
    if (ival_partition_parse(*part, text, &value) == 0) {
        f->partition.set = part->kind != IVAL_VOID;
    } else if (ival_partition_which(text, &was, &value) == 0) {
        struct ival_transform *w = sl_arena_alloc(a, sizeof(*w));

        *w = was;
        if (was.column != NULL) /* (it points into text) */
            w->column = sl_arena_strdup(a, was.column);
        f->written_under = w;
        f->partition.set = was.kind != IVAL_VOID;
    }
    f->partition.i = f->partition.set ? value : 0;
}

/* The run's change to the table: what it adds and what it retires. */
static int
commit_table(struct catalog_txn *txn, struct trun *t, struct ttable *tt,
             const char *const *retired, size_t nretired, struct sl_diag *d)
{
    struct sl_arena a;
    struct table_def def;
    struct table_file *added;
    size_t n = 0;
    int32_t day = 0;
    int rc;

    sl_arena_init(&a, 0);
    table_def_of(&tt->meta, tt->part, &a, &def);
    added = sl_arena_zalloc(&a, (tt->nparts + tt->ndelouts + tt->nfiles + 1) * sizeof(*added));
    /* The first snapshot of a table an older release wrote holds the files
     * it keeps too (without statistics), and retires nothing: nothing was
     * in a snapshot before. */
    if (tt->upgrade) {
        for (size_t i = 0; i < tt->nfiles; i++) {
            const struct tfile *tf = &tt->files[i];
            struct table_file *f;

            if (tf->merge)
                continue;
            f = &added[n++];
            f->key = tf->key;
            f->content = MF_DATA;
            f->partition.set = ival_partition_parse(tt->part, tf->partition, &day) == 0 &&
                               tt->part.kind != IVAL_VOID;
            f->partition.i = day;
            f->records = tf->rows;
            f->bytes = tf->bytes;
        }
        nretired = 0;
    }
    for (size_t k = 0; k < tt->nparts; k++) {
        const struct tpart *p = &tt->parts[k];
        struct table_file *f;

        if (p->staged_key == NULL)
            continue;
        f = &added[n++];
        f->key = p->final_key;
        f->content = MF_DATA;
        f->partition.set = tt->part.kind != IVAL_VOID;
        f->partition.i = p->value;
        f->records = p->out_rows;
        f->bytes = p->bytes;
        f->nstats = tt->meta.ncolumns;
        f->stats = sl_arena_zalloc(&a, (tt->meta.ncolumns + 1) * sizeof(*f->stats));
        for (size_t j = 0; j < tt->meta.ncolumns; j++)
            column_stats(&tt->meta.columns[j], &p->stats, &a, &f->stats[j]);
    }
    for (size_t k = 0; k < tt->ndelouts; k++) {
        const struct tdelout *o = &tt->delouts[k];
        struct table_file *f = &added[n++];
        uint32_t first = tt->delrefs[o->first].file;

        f->key = o->key;
        f->content = MF_POSITION_DELETES;
        written_under(&tt->part, o->partition, &a, f);
        f->records = (int64_t)o->n;
        f->bytes = o->bytes;
        /* A deletion file of one data file says so. */
        if (tt->delrefs[o->first + o->n - 1].file == first)
            f->referenced_key = tt->files[first].key;
    }
    struct table_change ch = {t->run_id, t->operation, n, added, nretired, retired, false};

    struct table_committed done = {0, 0};

    rc = table_commit(txn, t->store, &def, &ch, &done, d);
    tt->sequence = done.sequence_number;
    tt->snapshot_id = done.snapshot_id;
    sl_arena_release(&a);
    return rc;
}

/* ---- the snapshot of a held run, when it is published --------------------------------- */

struct held_ctx {
    struct sl_arena a;
    struct table_file *added;
    const char **added_to;       /* the table of each added file */
    const char **added_part;     /* and its partition text */
    size_t nadded, acap, tcap, pcap;
    struct sl_strlist removed;
    struct sl_strlist tables;
};

static int
held_file(void *arg, const struct run_file *f)
{
    struct held_ctx *h = arg;
    struct table_file *x;

    if (!sl_strlist_has(&h->tables, f->table))
        sl_strlist_add(&h->tables, f->table);
    if (!f->added) {
        sl_strlist_add(&h->removed, f->key);
        return 0;
    }
    SL_GROW(h->added, h->acap, h->nadded + 1);
    SL_GROW(h->added_to, h->tcap, h->nadded + 1);
    SL_GROW(h->added_part, h->pcap, h->nadded + 1);
    h->added_to[h->nadded] = sl_arena_strdup(&h->a, f->table);
    h->added_part[h->nadded] = f->partition ? sl_arena_strdup(&h->a, f->partition) : "";
    x = &h->added[h->nadded++];
    memset(x, 0, sizeof(*x));
    x->key = sl_arena_strdup(&h->a, f->key);
    x->content = f->deletion ? MF_POSITION_DELETES : MF_DATA;
    x->records = f->rows;
    x->bytes = f->bytes;
    x->referenced_key = f->only_target ? sl_arena_strdup(&h->a, f->only_target) : NULL;
    return 0;
}

/*
 * The column statistics of data file x of table name, when the run that
 * wrote it is still in memory (t: its gate publishes it in the same
 * process), so that readers prune it as they prune any other.
 */
static void
held_stats(const struct trun *t, const char *name, struct sl_arena *a, struct table_file *x)
{
    for (size_t i = 0; i < t->ntables; i++) {
        const struct ttable *tt = &t->tables[i];

        if (tt->meta.name == NULL || strcmp(tt->meta.name, name) != 0)
            continue;
        for (size_t k = 0; k < tt->nparts; k++) {
            const struct tpart *p = &tt->parts[k];

            if (p->final_key == NULL || strcmp(p->final_key, x->key) != 0)
                continue;
            x->nstats = tt->meta.ncolumns;
            x->stats = sl_arena_zalloc(a, (tt->meta.ncolumns + 1) * sizeof(*x->stats));
            for (size_t j = 0; j < tt->meta.ncolumns; j++)
                column_stats(&tt->meta.columns[j], &p->stats, a, &x->stats[j]);
            return;
        }
    }
}

int
transform_publish_held(struct catalog_txn *txn, struct store *s, int64_t run_id, void *arg,
                       struct sl_diag *d)
{
    struct held_ctx h = {0};
    int rc;

    sl_arena_init(&h.a, 0);
    rc = catalog_run_files(txn, run_id, held_file, &h, d);
    for (size_t i = 0; rc == 0 && i < h.tables.n; i++) {
        const char *name = h.tables.v[i];
        struct curated_table m;
        struct table_def def;
        struct table_file *added = sl_arena_zalloc(&h.a, (h.nadded + 1) * sizeof(*added));
        const char **removed = sl_arena_zalloc(&h.a, (h.removed.n + 1) * sizeof(*removed));
        size_t na = 0, nr = 0;

        struct ival_transform part = {IVAL_VOID, 0, NULL};
        int32_t value;

        rc = catalog_table_get(txn, name, &h.a, &m, d);
        if (rc == 0)
            rc = table_partition(txn, s, "curated", name, &h.a, &part, d);
        if (rc == SL_ERR_NOTFOUND && d->code == 0) {
            /* The run made the table: its files' partition texts say how
             * it is partitioned (ival_partition_text()). */
            for (size_t k = 0; k < h.nadded; k++)
                if (strcmp(h.added_to[k], name) == 0) {
                    if (ival_partition_which(h.added_part[k], &part, &value) < 0)
                        part.kind = IVAL_VOID;
                    break;
                }
            rc = 0;
        }
        if (rc < 0)
            break;
        /* The run's data files are partitioned as the run had it: a run
         * that changed the table's partitioning makes the new spec. */
        for (size_t k = 0; k < h.nadded; k++) {
            struct ival_transform ran;

            if (strcmp(h.added_to[k], name) == 0 && h.added[k].content == MF_DATA &&
                ival_partition_parse(part, h.added_part[k], &value) < 0 &&
                ival_partition_which(h.added_part[k], &ran, &value) == 0) {
                part = ran;
                break;
            }
        }
        for (size_t k = 0; k < h.nadded; k++)
            if (strcmp(h.added_to[k], name) == 0) {
                struct table_file *x = &added[na++];

                *x = h.added[k];
                written_under(&part, h.added_part[k], &h.a, x);
                if (arg != NULL && x->content == MF_DATA)
                    held_stats(arg, name, &h.a, x);
            }
        /* retired keys are under the table's prefix */
        for (size_t k = 0; k < h.removed.n; k++)
            if (strncmp(h.removed.v[k], m.prefix, strlen(m.prefix)) == 0 &&
                h.removed.v[k][strlen(m.prefix)] == '/')
                removed[nr++] = h.removed.v[k];
        table_def_of(&m, part, &h.a, &def);
        struct table_change ch = {run_id, NULL, na, added, nr, removed, false};

        rc = table_commit(txn, s, &def, &ch, NULL, d);
    }
    free(h.added);
    free(h.added_to);
    free(h.added_part);
    sl_strlist_release(&h.removed);
    sl_strlist_release(&h.tables);
    sl_arena_release(&h.a);
    return rc;
}

struct retire_ctx {
    struct trun *t;
    struct sl_strlist *retired;
};

static int
retire_delete(void *arg, const char *key)
{
    struct retire_ctx *r = arg;

    sl_strlist_add(r->retired, key);
    return 0;
}

/* One table's outputs, in the run's commit transaction; the table's
 * snapshot too unless the run is held. */
int
record_outputs(struct catalog_txn *txn, struct trun *t, struct ttable *tt, bool snapshot,
               struct sl_diag *d)
{
    struct sl_strlist retired = {0};
    char part[IVAL_PARTITION_TEXT];
    int rc = 0;

    if (tt->changed)
        rc = catalog_table_put(txn, &tt->meta, d);
    for (size_t k = 0; rc == 0 && k < tt->nparts; k++) {
        struct tpart *p = &tt->parts[k];

        if (p->staged_key == NULL)
            continue;
        ival_partition_text(tt->part, p->value, part, sizeof(part));
        struct curated_file f = {p->final_key, tt->meta.name, part, p->out_rows, p->bytes,
                                 tt->meta.next_field_id - 1, t->run_id, 0};

        rc = catalog_file_add(txn, &f, d);
        commit_publish_as(t->commit, p->staged_key, p->final_key);
        if (p->keys_staged != NULL)
            commit_publish_as(t->commit, p->keys_staged, p->keys_key);
    }
    for (size_t k = 0; rc == 0 && k < tt->ndelouts; k++) {
        const struct tdelout *o = &tt->delouts[k];
        struct curated_delete del = {o->key, tt->meta.name, (int64_t)o->n, o->bytes, t->run_id};

        rc = catalog_delete_add(txn, &del, d);
        for (size_t i = o->first; rc == 0 && i < o->first + o->n;) {
            uint32_t file = tt->delrefs[i].file;
            int64_t rows = 0;

            for (; i < o->first + o->n && tt->delrefs[i].file == file; i++)
                rows++;
            rc = catalog_delete_target_add(txn, o->key, tt->files[file].key, rows, d);
        }
        commit_publish_as(t->commit, o->staged_key, o->key);
    }
    for (size_t i = 0; rc == 0 && i < tt->nfiles; i++) {
        if (!tt->files[i].merge)
            continue;
        /* The file stays for the snapshots that still read it, until
         * they expire (sluice expire) - unless no snapshot ever did (the
         * first run on a table of an older release). */
        rc = catalog_file_remove(txn, tt->files[i].key, t->run_id, d);
        if (tt->upgrade)
            commit_delete(t->commit, tt->files[i].key);
        sl_strlist_add(&retired, tt->files[i].key);
    }
    /* A table of an older release: its deletion files were written anew
     * as this run's (merge.c), so they are all retired - and deleted at
     * publication, as no snapshot ever read them. */
    for (size_t i = 0; rc == 0 && tt->upgrade && i < tt->ndeletes; i++) {
        rc = catalog_delete_remove(txn, tt->deletes[i].key, t->run_id, d);
        commit_delete(t->commit, tt->deletes[i].key);
    }
    /* Deletion files whose every target is now retired go too. */
    if (rc == 0 && tt->ndeletes > 0) {
        struct retire_ctx rctx = {t, &retired};

        rc = catalog_delete_retire(txn, tt->meta.name, t->run_id, retire_delete, &rctx, d);
    }
    if (rc == 0 && snapshot)
        rc = commit_table(txn, t, tt, (const char *const *)retired.v, retired.n, d);
    sl_strlist_release(&retired);
    return rc;
}

/* An object's schema drift, as information beside the run's account. */
static int
record_drift(struct catalog_txn *txn, struct trun *t, const struct tobj *o, struct sl_diag *d)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < o->drift.n; i++) {
        const struct reader_drift_field *f = &o->drift.v[i];
        struct catalog_drift r = {
            .run_id = t->run_id,
            .source = t->src->name,
            .object_id = o->ro.object_id,
            .field = f->field,
            .kind = f->kind == ROWS_DRIFT_UNKNOWN ? "unknown" : "missing",
            .records = f->records,
            .example_position = f->position,
            .example_text = f->example,
        };

        rc = catalog_drift_add(txn, &r, d);
    }
    return rc;
}

/* The run's part of its commit transaction: every table's outputs, the
 * quarantine file, the schema drift of its objects, the bookmark. */
struct batch_ctx {
    struct trun *t;
    bool snapshot;      /* the run is published at once: commit its snapshots */
    int64_t expect;     /* the bookmark this run started from */
    int64_t to_seq;
};

static int
batch_record(struct catalog_txn *txn, struct commit *c, void *arg, struct sl_diag *d)
{
    struct batch_ctx *b = arg;
    struct trun *t = b->t;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < t->ntables; i++)
        rc = record_outputs(txn, t, &t->tables[i], b->snapshot, d);
    if (rc == 0 && t->quarantine_staged != NULL) {
        rc = catalog_quarantine_add(txn, t->quarantine_key, t->src->name, t->run_id,
                                    t->quarantined, d);
        commit_publish_as(c, t->quarantine_staged, t->quarantine_key);
    }
    for (size_t i = 0; rc == 0 && i < t->nobjs; i++)
        rc = record_drift(txn, t, &t->objs[i], d);
    if (rc == 0)
        rc = catalog_bookmark_move(txn, t->src->name, "transform", b->expect, b->to_seq, d);
    return rc;
}

static int
run_batch(struct trun *t, const struct raw_object *objs, size_t n, int64_t from_seq,
          int64_t expect, enum commit_mode mode, struct transform_account *acct,
          struct sl_diag *d)
{
    struct run_record *r = &acct->rec;
    size_t tcap = 0;
    int64_t started = sl_now_usec();
    double t0 = sl_mono_sec();
    int rc;

    t->commit = commit_new(t->store, t->cat, "transform", t->src->name);
    rc = commit_run_id(t->commit, &t->run_id, d);
    if (rc < 0)
        return rc;
    t->objs = sl_calloc(n, sizeof(*t->objs));
    t->nobjs = n;
    for (size_t i = 0; i < n; i++) {
        struct tobj *o = &t->objs[i];
        const struct contract *c = source_version(t->src, objs[i].contract_version);

        if (c == NULL)
            return sl_fail(d, SL_ERR_INCOMPATIBLE,
                           "raw object %s is tagged with contract version %s, which %s no "
                           "longer declares",
                           objs[i].object_id, objs[i].contract_version, t->src->path);
        o->seq = objs[i].seq;
        o->format = objs[i].format;
        o->ro.seq = objs[i].seq;
        o->ro.object_id = objs[i].object_id;
        o->ro.key = objs[i].key;
        o->ro.original_name = objs[i].original_name;
        o->ro.contract = c;
        o->ro.arrived_at = objs[i].arrived_at;
        o->ro.line_based = strcmp(o->format, "csv") == 0 || strcmp(o->format, "jsonl") == 0;
        o->table = (int)(table_for(t, &tcap, c->major) - t->tables);
    }
    rc = load_objects(t, d);
    if (rc == 0)
        rc = parse_pieces(t, d);
    SL_DEBUG("transform", "parsed %zu object(s) in %.3fs", n, sl_mono_sec() - t0);
    for (size_t i = 0; rc == 0 && i < t->npieces; i++) {
        struct ttable *tt = &t->tables[t->pieces[i].obj->table];

        SL_GROW(tt->pieces, tt->pcap, tt->npieces + 1);
        tt->pieces[tt->npieces++] = &t->pieces[i];
    }
    for (size_t i = 0; rc == 0 && i < t->ntables; i++) {
        struct ttable *tt = &t->tables[i];

        rc = table_prepare(t, tt, d);
        if (rc == 0 && tt->upgrade && mode == COMMIT_HOLD && !t->hold_asked) {
            /* Held only for its gate: it publishes ungated. */
            SL_WARN("transform", "curated table '%s' was written by an older release and gets "
                    "its first Iceberg snapshot from this run, which cannot be held: it is "
                    "published without its quality gate", tt->meta.name);
            mode = COMMIT_PUBLISH;
        }
        if (rc == 0 && tt->upgrade && mode == COMMIT_HOLD)
            rc = sl_fail(d, SL_ERR_INCOMPATIBLE,
                         "curated table '%s' was written by an older release and gets its "
                         "first Iceberg snapshot from its next run, which cannot be held",
                         tt->meta.name);
        if (rc == 0)
            rc = load_deletes(t, tt, d);
        if (rc == 0) {
            dedup_batch(tt);
            SL_DEBUG("transform", "batch dedup done at %.3fs", sl_mono_sec() - t0);
            rc = probe_table(t, tt, d);
        }
        SL_DEBUG("transform", "dedup and probe done at %.3fs", sl_mono_sec() - t0);
        if (rc == 0) {
            plan_outputs(t, tt);
            rc = write_outputs(t, tt, d);
        }
        SL_DEBUG("transform", "wrote %s at %.3fs", tt->meta.name, sl_mono_sec() - t0);
        r->inserted += tt->inserted;
        r->replaced += tt->replaced;
        r->duplicates += tt->duplicates;
        r->redelivered += tt->redelivered;
        r->files_added += tt->files_added;
        r->files_removed += tt->files_removed;
        r->bytes_written += tt->bytes_written;
        size_t len = strlen(acct->tables);

        snprintf(acct->tables + len, sizeof(acct->tables) - len, "%s%s", len ? "," : "",
                 tt->meta.name ? tt->meta.name : "");
    }
    if (rc == 0)
        rc = write_quarantine(t, d);
    if (rc < 0)
        goto fail;

    r->table = acct->tables;
    r->objects = (int64_t)n;
    r->from_seq = from_seq;
    r->to_seq = objs[n - 1].seq;
    r->records_in = t->records_in;
    r->quarantined = t->quarantined;
    r->written = r->inserted + r->replaced;
    r->started_at = started;

    /* The commit: after it the run has happened. */
    struct batch_ctx b = {t, mode == COMMIT_PUBLISH, expect, r->to_seq};

    rc = commit_finish(t->commit, r, mode, batch_record, &b, d);
    if (rc < 0)
        return rc;
    t->held = mode == COMMIT_HOLD;
    SL_DEBUG("transform", "committed run %lld at %.3fs", (long long)t->run_id,
             sl_mono_sec() - t0);
    return 0;
fail:
    return rc;
}

void
trun_reset(struct trun *t)
{
    unload_objects(t);
    for (size_t i = 0; i < t->ntables; i++)
        table_release(&t->tables[i]);
    free(t->tables);
    t->tables = NULL;
    t->ntables = 0;
    free(t->objs);
    t->objs = NULL;
    t->nobjs = 0;
    commit_free(t->commit);
    t->commit = NULL;
    free(t->quarantine_key);
    t->quarantine_staged = NULL;
    t->quarantine_key = NULL;
    t->quarantined = 0;
    t->records_in = 0;
    sl_arena_reset(&t->arena);
}

/* What a transform starts from, read in one snapshot. */
struct start {
    const struct source *src;
    const char *rewind;
    int64_t bookmark;     /* where the bookmark is */
    int64_t after;        /* where this transform starts */
    int64_t held;         /* a held run of the source, or 0 */
    char held_tables[256];/* the tables it wrote */
    struct objlist *l;
};

static int
held_run(void *arg, const struct run_record *r)
{
    struct start *st = arg;

    /* the newest held transform of the source (a held build of a model
     * that shares its name is no concern of the transform's) */
    if (strcmp(r->kind, "transform") != 0 || st->held != 0)
        return 0;
    st->held = r->run_id;
    snprintf(st->held_tables, sizeof(st->held_tables), "%s", r->table ? r->table : "");
    return 0;
}

static int
read_start(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct start *st = arg;
    int rc;

    st->l->n = 0;
    st->held = 0;
    rc = catalog_run_list(txn, st->src->name, 0, true, held_run, st, d);
    if (rc == 0 && st->held != 0)
        return 0;
    if (rc == 0)
        rc = catalog_bookmark_get(txn, st->src->name, "transform", &st->bookmark, d);
    st->after = st->bookmark;
    if (rc == 0 && st->rewind != NULL)
        rc = rewind_point(txn, st->src, st->rewind, &st->after, d);
    if (rc == 0)
        rc = catalog_raw_list(txn, st->src->name, st->after, collect_obj, st->l, d);
    return rc;
}

static int64_t
expiry_batch(const struct project *p)
{
    int64_t n = p->config.transform.keep_snapshots / 10;

    return n > 0 ? n : 1;
}

/*
 * After the runs: the tables they committed to expire the snapshots past
 * transform.keep_snapshots (and older than keep_snapshots_for), in batches
 * of a tenth of that, with the files only those read.  The runs stand
 * whatever happens here: a failure is a warning, and the next run tries
 * again.
 */
static void
expire_snapshots(struct project *p, struct store *s, struct catalog *cat,
                 const struct sl_strlist *tables)
{
    const struct transform_settings *ts = &p->config.transform;
    struct table_expiry x = {
        .snapshot_id = -1,
        .older_than_ms = sl_now_ms() - ts->keep_snapshots_for * 1000,
        .keep_last = ts->keep_snapshots,
        .min_batch = expiry_batch(p),
    };

    for (size_t i = 0; i < tables->n; i++) {
        struct sl_diag d;
        int expired = 0;
        size_t removed = 0;

        sl_diag_init(&d);
        if (table_maintain(cat, s, "curated", tables->v[i], &x, transform_forget, &expired,
                           &removed, &d) < 0) {
            char msg[600];

            sl_diag_format(&d, msg, sizeof(msg));
            SL_WARN("transform", "curated.%s: expiring old snapshots: %s", tables->v[i], msg);
        } else if (expired > 0) {
            SL_DEBUG("transform", "curated.%s: %d snapshot(s) expired, %zu file(s) removed",
                     tables->v[i], expired, removed);
        }
    }
}

int
trun_begin(struct trun *t, bool wait, struct catalog_lock **lock, struct sl_diag *d)
{
    const struct project *p = t->project;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    char lockname[128];
    int rc;

    t->threads = p->config.engine.threads > 0 ? (int)p->config.engine.threads
                                               : (int)(ncpu > 0 ? ncpu : 1);
    snprintf(lockname, sizeof(lockname), "transform-%s", t->src->name);
    rc = catalog_lock(t->cat, lockname, wait, lock, d);
    if (rc == SL_ERR_BUSY)
        sl_diag_hint(d, "a transform or compaction of source '%s' is running; try again when "
                        "it is done, or pass --wait",
                     t->src->name);
    if (rc < 0)
        return rc;
    rc = commit_recover(t->store, t->cat, d);
    if (rc == 0)
        rc = project_register_source(t->cat, t->src, d);
    return rc;
}

int
trun_held(const struct trun *t, int64_t run_id, const char *then, struct sl_diag *d)
{
    sl_fail(d, SL_ERR_BUSY, "run %lld of source '%s' is held for a decision", (long long)run_id,
            t->src->name);
    sl_diag_hint(d, "'sluice staged' shows why; publish it with 'sluice publish %lld' or "
                    "discard it with 'sluice discard %lld'; then %s",
                 (long long)run_id, (long long)run_id, then);
    return SL_ERR_BUSY;
}

int
transform_run(struct project *p, struct store *s, struct catalog *cat, const struct source *src,
              const struct transform_opts *o, transform_report_cb report, void *arg,
              int *nruns, struct sl_diag *d)
{
    struct catalog_lock *lock = NULL;
    struct trun t = {.project = p, .store = s, .cat = cat, .src = src};
    struct sl_arena la;
    struct objlist l = {0};
    struct start st = {.src = src, .rewind = o->rewind, .l = &l};
    int64_t batch = o->batch_bytes > 0 ? o->batch_bytes : 512LL << 20;
    struct sl_strlist touched = {0}, gated = {0};
    bool held = false;
    int rc;

    *nruns = 0;
    t.hold_asked = o->hold;
    rc = trun_begin(&t, o->wait, &lock, d);
    if (rc < 0 && lock == NULL)
        return rc;
    sl_arena_init(&t.arena, 0);
    sl_arena_init(&la, 0);
    l.a = &la;
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_READ, read_start, &st, d);
    /* An object committed after our recovery may not be published yet. */
    if (rc == 0 && l.n > 0)
        rc = commit_publish_owed(s, cat, d);
    /* A held run the gate has not decided about (the process holding it
     * died, or 'sluice transform --hold' held it): the gate decides now. */
    if (rc == 0 && st.held != 0 && o->gate != NULL && !o->hold) {
        bool publish = false;

        rc = o->gate(o->gate_arg, st.held, st.held_tables, &publish, d);
        if (rc == 0 && publish)
            rc = commit_decide(s, cat, st.held, true, transform_publish_held, NULL, NULL, d);
        if (rc == 0 && publish) {
            l.n = 0;
            sl_arena_reset(&la);
            rc = catalog_txn_run(cat, CATALOG_READ, read_start, &st, d);
            if (rc == 0 && l.n > 0)
                rc = commit_publish_owed(s, cat, d);
        }
    }
    if (rc == 0 && st.held != 0)
        rc = trun_held(&t, st.held, "transform again", d);
    for (size_t i = 0; rc == 0 && i < l.n;) {
        struct transform_account acct;
        int64_t bytes = 0, from = i == 0 ? st.after : l.v[i - 1].seq;
        size_t j = i;

        while (j < l.n && (j == i || bytes + l.v[j].size <= batch))
            bytes += l.v[j++].size;
        memset(&acct, 0, sizeof(acct));
        rc = run_batch(&t, &l.v[i], j - i, from, i == 0 ? st.bookmark : from,
                       o->hold || o->gate != NULL ? COMMIT_HOLD : COMMIT_PUBLISH, &acct, d);
        held = rc == 0 && t.held;
        if (held && !o->hold) {
            /* Held for its gate: the gate decides. */
            bool publish = false;

            rc = o->gate(o->gate_arg, t.run_id, acct.tables, &publish, d);
            /* the run's statistics are still here: its files keep them */
            if (rc == 0 && publish)
                rc = commit_decide(s, cat, t.run_id, true, transform_publish_held, NULL, &t, d);
            if (rc == 0 && publish) {
                held = false;
                acct.rec.state = "published";
                if (!sl_strlist_has(&gated, acct.tables))
                    sl_strlist_add(&gated, acct.tables);
            }
        }
        if (rc == 0) {
            (*nruns)++;
            if (report != NULL)
                report(arg, &acct);
            /* Tables whose snapshots may be due to expire: a tenth of
             * keep_snapshots at a time, so every so many commits. */
            for (size_t k = 0; !o->hold && k < t.ntables; k++) {
                const struct ttable *tt = &t.tables[k];

                if (tt->sequence > 0 && tt->sequence % expiry_batch(p) == 0 &&
                    !sl_strlist_has(&touched, tt->meta.name))
                    sl_strlist_add(&touched, tt->meta.name);
            }
        }
        trun_reset(&t);
        i = j;
        if (held)
            break; /* what follows waits for the decision */
    }
    trun_reset(&t);
    /* A run published by its gate committed its snapshot in the decision:
     * its tables are looked at every time (the expiry waits for enough). */
    for (size_t k = 0; k < gated.n; k++) {
        const char *p0 = gated.v[k];

        while (*p0 != '\0') {
            size_t len = strcspn(p0, ",");
            char *name = sl_strndup(p0, len);

            if (!sl_strlist_has(&touched, name))
                sl_strlist_add(&touched, name);
            free(name);
            p0 += len + (p0[len] == ',');
        }
    }
    sl_strlist_release(&gated);
    if (rc == 0)
        expire_snapshots(p, s, cat, &touched);
    sl_strlist_release(&touched);
    engine_close(t.engine);
    free(l.v);
    sl_arena_release(&la);
    sl_arena_release(&t.arena);
    catalog_unlock(lock);
    return rc;
}
