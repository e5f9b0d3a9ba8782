/*
 * merge.c - one row per key across the batch and the table.
 *
 * The rule: of all records with one key - in this batch and the row the
 * table already holds - the one with the latest event time wins; ties go to
 * the later arrival (raw object seq, then position in the object).  A
 * winner from the batch replaces the table's row, except when the table's
 * row has the same event time and the same values: that is a redelivery,
 * and the table keeps its row.
 *
 * 1. dedup_batch() puts every row of the batch into an open-addressing
 *    table keyed by its key bytes; each slot ends up holding the batch's
 *    winner, losers are marked ROW_DUP.
 * 2. probe_table() streams the live rows of the table's files through the
 *    engine and looks each key up; a match decides the winner's state
 *    (ROW_NEW stays, ROW_REPLACE, or ROW_DUP) and marks the file's row to
 *    delete.  An equal event time is settled in the same pass, by the
 *    values' fingerprint: one read of the table, not a second one for the
 *    tied rows.
 * 3. plan_outputs() groups the winners by event day; each day with new rows
 *    becomes one output file.  A replaced row is not rewritten away: its
 *    position goes into the run's deletion file (merge-on-read), unless
 *    its file then has more than compact_deleted_percent of its rows
 *    deleted - that file is absorbed, survivors only, into its day's new
 *    file - and a day with too many files absorbs its small ones too.
 *
 * Rows that live deletion files retire (load_deletes(), the files' gone
 * bitmaps) are invisible to all of this: the probe skips them and a
 * rewrite drops them.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "store/layout.h"
#include "catalog/iceberg.h"
#include "table/table.h"
#include "transform/transform_int.h"
#include "core/banned.h"

#define EMPTY UINT32_MAX
#define COMPACT_FILES 8

static const struct {
    const char *name;
    enum sl_type_id type;
} meta_cols[NMETA] = {
    {META_RAW_OBJECT, SL_TYPE_STRING},
    {META_RAW_POSITION, SL_TYPE_INT64},
    {META_INGESTED_AT, SL_TYPE_TIMESTAMP},
};

/* ---- the table ------------------------------------------------------------------ */

static struct curated_column *
find_col(struct curated_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}

struct files_ctx {
    struct trun *t;
    struct ttable *tt;
    int rc;
    struct sl_diag *d;
};

static int
add_file(void *arg, const struct curated_file *f)
{
    struct files_ctx *c = arg;
    struct ttable *tt = c->tt;
    struct tfile *tf;

    SL_GROW(tt->files, tt->fcap, tt->nfiles + 1);
    tf = &tt->files[tt->nfiles++];
    memset(tf, 0, sizeof(*tf));
    tf->key = sl_strdup(f->key);
    tf->uri = table_uri(c->t->store, f->key);
    tf->partition = sl_strdup(f->partition);
    tf->rows = f->rows;
    tf->bytes = f->bytes;
    tf->max_field_id = f->max_field_id;
    tf->catalog_gone = f->deleted;
    c->rc = store_local_path(c->t->store, f->key, &tf->path, c->d);
    return c->rc;
}

static int
add_delete(void *arg, const struct curated_delete *del)
{
    struct files_ctx *c = arg;
    struct ttable *tt = c->tt;
    struct tdel *td;

    SL_GROW(tt->deletes, tt->dcap, tt->ndeletes + 1);
    td = &tt->deletes[tt->ndeletes++];
    td->key = sl_strdup(del->key);
    td->rows = del->rows;
    c->rc = store_local_path(c->t->store, del->key, &td->path, c->d);
    return c->rc;
}

/* The partitioning of contract c's choice (a bucket's column borrowed from
 * c). */
static struct ival_transform
contract_transform(const struct contract *c)
{
    enum contract_partition p = c->partition;
    struct ival_transform t = {IVAL_VOID, 0, NULL};

    if (p == CONTRACT_PART_BUCKET) {
        t.kind = IVAL_BUCKET;
        t.param = c->bucket_n;
        t.column = c->columns[c->bucket_column].name;
        return t;
    }
    t.kind = p == CONTRACT_PART_DAY     ? IVAL_DAY
             : p == CONTRACT_PART_MONTH ? IVAL_MONTH
             : p == CONTRACT_PART_YEAR  ? IVAL_YEAR
             : p == CONTRACT_PART_HOUR  ? IVAL_HOUR
                                        : IVAL_VOID;
    return t;
}

/* Transform t in words for messages: "day", "bucket[16] of customer_id". */
static void
transform_words(struct ival_transform t, char *out, size_t size)
{
    char name[24];

    ival_transform_name(t, name, sizeof(name));
    if (t.column != NULL)
        snprintf(out, size, "%s of %s", name, t.column);
    else
        snprintf(out, size, "%s", name);
}

/*
 * The table's partitioning: the contract's choice, else what its Iceberg
 * metadata says (day for a table of an older release); auto on a new table
 * is left to its first batch (choose_partition()).  A contract version that
 * asks an existing table for another partitioning evolves its partition
 * spec: files from now on are partitioned the new way, files written
 * before stay as they are (their deletes are written under their spec).
 * A table of an older release gets its first snapshot as it is first.
 */
static int
choose_known_partition(struct catalog_txn *txn, struct trun *t, struct ttable *tt,
                       struct sl_diag *d)
{
    enum contract_partition want = tt->latest->partition;
    struct ival_transform have = {IVAL_DAY, 0, NULL};
    int rc = 0;

    if (!tt->exists) {
        tt->part = contract_transform(tt->latest);
        tt->part_known = want != CONTRACT_PART_AUTO;
        return 0;
    }
    if (!tt->upgrade)
        rc = table_partition(txn, t->store, "curated", tt->meta.name, &t->arena, &have, d);
    if (rc < 0)
        return rc;
    tt->part = have;
    tt->part_known = true;
    if (want != CONTRACT_PART_AUTO &&
        !ival_transform_same(contract_transform(tt->latest), have)) {
        char a[IVAL_PARTITION_TEXT], b[IVAL_PARTITION_TEXT];

        transform_words(have, a, sizeof(a));
        transform_words(contract_transform(tt->latest), b, sizeof(b));
        if (tt->upgrade)
            return sl_fail(d, SL_ERR_INCOMPATIBLE,
                           "curated table '%s' was written by an older release, partitioned "
                           "by %s; contract version %s of %s asks for %s, which its first "
                           "Iceberg snapshot cannot change: transform it with the version "
                           "before first",
                           tt->meta.name, a, tt->latest->version, t->src->path, b);
        tt->part = contract_transform(tt->latest);
        SL_INFO("transform", "curated.%s: partitioned by %s from now on (contract version %s), "
                "by %s before: its older files keep their partitions",
                tt->meta.name, b, tt->latest->version, a);
    }
    return 0;
}

static int
prepare_in(struct catalog_txn *txn, struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    struct sl_arena *a = &t->arena;
    const struct contract *c = tt->latest;
    struct curated_table *m = &tt->meta;
    const char *name = tt->major == 1 ? t->src->name
                                      : sl_arena_printf(a, "%s_v%d", t->src->name, tt->major);
    struct curated_table old;
    struct curated_column *cols;
    struct sl_buf keys;
    char *prefix;
    size_t n = 0;
    int rc;

    rc = catalog_table_get(txn, name, a, &old, d);
    if (rc < 0 && rc != SL_ERR_NOTFOUND)
        return rc;
    tt->exists = rc == 0;
    if (!tt->exists) {
        memset(&old, 0, sizeof(old));
        old.next_field_id = 1;
    }
    /* The contract's columns in its order, then the metadata columns; ids
     * of known columns are kept, new columns take the next ids. */
    cols = sl_arena_zalloc(a, (c->ncolumns + NMETA + old.ncolumns) * sizeof(*cols));
    *m = old;
    m->name = name;
    m->source = t->src->name;
    m->major = tt->major;
    prefix = layout_curated_prefix(name);
    m->prefix = sl_arena_strdup(a, prefix);
    free(prefix);
    for (size_t i = 0; i < c->ncolumns + NMETA; i++) {
        const char *cn = i < c->ncolumns ? c->columns[i].name : meta_cols[i - c->ncolumns].name;
        struct sl_type type = {0};
        struct curated_column *known = find_col(&old, cn);

        if (i < c->ncolumns)
            type = c->columns[i].type;
        else
            type.id = meta_cols[i - c->ncolumns].type;
        if (known != NULL) {
            if (!sl_type_equal(known->type, type))
                return sl_fail(d, SL_ERR_CORRUPT,
                               "curated table '%s': column '%s' has another type in the "
                               "catalog than in contract version %s",
                               name, cn, c->version);
            cols[n++] = *known;
            continue;
        }
        cols[n].name = cn;
        cols[n].type = type;
        cols[n].required = i < c->ncolumns && c->columns[i].required;
        cols[n].added_in = c->version;
        cols[n].field_id = m->next_field_id++;
        n++;
        tt->changed = true;
    }
    /* Columns only older versions had cannot exist within one major. */
    for (size_t i = 0; i < old.ncolumns; i++)
        if (contract_column_index(c, old.columns[i].name) < 0 &&
            old.columns[i].name[0] != '_')
            return sl_fail(d, SL_ERR_CORRUPT,
                           "curated table '%s' has column '%s' that contract version %s lacks",
                           name, old.columns[i].name, c->version);
    m->columns = cols;
    m->ncolumns = n;
    sl_buf_init(&keys);
    for (size_t i = 0; i < c->nkey; i++)
        sl_buf_addf(&keys, "%s%s", i ? "," : "", c->columns[c->key[i]].name);
    m->key_columns = sl_arena_strdup(a, keys.data);
    m->event_time = c->columns[c->event_time].name;
    sl_buf_release(&keys);
    if (!tt->exists)
        tt->changed = true;

    /* Each piece's columns, in table order. */
    for (size_t p = 0; p < tt->npieces; p++) {
        struct piece *pc = tt->pieces[p];

        pc->colmap_out = sl_calloc(m->ncolumns, sizeof(int));
        for (size_t j = 0; j < m->ncolumns; j++)
            pc->colmap_out[j] = contract_column_index(pc->obj->ro.contract, m->columns[j].name);
    }
    if (tt->exists) {
        struct files_ctx fc = {t, tt, 0, d};
        const char *loc;

        rc = catalog_file_list(txn, name, add_file, &fc, d);
        if (rc == 0)
            rc = catalog_delete_list(txn, name, add_delete, &fc, d);
        if (rc == 0) {
            rc = catalog_iceberg_get(txn, "curated", name, a, &loc, d);
            tt->upgrade = rc == SL_ERR_NOTFOUND;
            rc = rc == SL_ERR_NOTFOUND ? 0 : rc;
        }
        if (rc < 0)
            return rc;
    }
    return choose_known_partition(txn, t, tt, d);
}

int
table_prepare(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    struct catalog_txn *txn;
    int rc = catalog_txn_begin(t->cat, CATALOG_READ, &txn, d);

    if (rc < 0)
        return rc;
    rc = prepare_in(txn, t, tt, d);
    catalog_txn_abort(txn);
    return rc;
}

void
table_release(struct ttable *tt)
{
    for (size_t i = 0; i < tt->nfiles; i++) {
        free(tt->files[i].key);
        free(tt->files[i].uri);
        free(tt->files[i].path);
        free(tt->files[i].partition);
        free(tt->files[i].dels);
        free(tt->files[i].gone);
    }
    for (size_t i = 0; i < tt->ndeletes; i++) {
        free(tt->deletes[i].key);
        free(tt->deletes[i].path);
    }
    free(tt->deletes);
    free(tt->delrefs);
    for (size_t i = 0; i < tt->ndelouts; i++)
        free(tt->delouts[i].key);
    free(tt->delouts);
    free(tt->files);
    for (size_t i = 0; i < tt->nparts; i++) {
        free(tt->parts[i].refs);
        free(tt->parts[i].files);
        free(tt->parts[i].final_key);
        free(tt->parts[i].keys_key);
        engine_file_stats_release(&tt->parts[i].stats);
    }
    free(tt->parts);
    free(tt->slots);
    free(tt->pieces);
}

/* ---- the batch key table ------------------------------------------------------------ */

/*
 * Whether record a beats record b: the later event time, then the later
 * arrival (arrival times of raw objects are strictly increasing, see
 * ingest), then the later position in the object.
 */
static bool
beats(int64_t ev_a, int64_t at_a, int64_t pos_a, int64_t ev_b, int64_t at_b, int64_t pos_b)
{
    if (ev_a != ev_b)
        return ev_a > ev_b;
    if (at_a != at_b)
        return at_a > at_b;
    return pos_a > pos_b;
}

const struct kslot *
keytab_find(const struct ttable *tt, uint64_t hash, const char *key, size_t len)
{
    size_t i = (size_t)hash & tt->mask;

    if (tt->slots == NULL)
        return NULL;
    for (;; i = (i + 1) & tt->mask) {
        const struct kslot *s = &tt->slots[i];

        if (s->piece == EMPTY)
            return NULL;
        if (s->hash != hash)
            continue;
        const struct rows_str *k = &tt->pieces[s->piece]->rows.key[s->row];

        if (k->len == len && sl_bytes_eq(k->p, key, len))
            return s;
    }
}

/* Whether the batch may hold a key with this hash: false is certain. */
static bool
keytab_maybe(const struct ttable *tt, uint64_t hash)
{
    if (tt->slots == NULL)
        return false;
    for (size_t i = (size_t)hash & tt->mask;; i = (i + 1) & tt->mask) {
        if (tt->slots[i].piece == EMPTY)
            return false;
        if (tt->slots[i].hash == hash)
            return true;
    }
}

void
dedup_batch(struct ttable *tt)
{
    size_t total = 0, slots = 16;

    for (size_t p = 0; p < tt->npieces; p++)
        total += tt->pieces[p]->rows.n;
    while (slots < total * 2)
        slots *= 2;
    tt->mask = slots - 1;
    tt->slots = sl_malloc(slots * sizeof(*tt->slots));
    for (size_t i = 0; i < slots; i++)
        tt->slots[i].piece = EMPTY;

    for (size_t p = 0; p < tt->npieces; p++) {
        struct piece *pc = tt->pieces[p];
        const struct rows *r = &pc->rows;

        pc->state = sl_calloc(r->n ? r->n : 1, 1);
        for (size_t row = 0; row < r->n; row++) {
            uint64_t h = r->key_hash[row];
            size_t i = (size_t)h & tt->mask;

            /* The table is far bigger than the caches: ask for the slot
             * of a row a little ahead, as the probe does. */
            if (row + 16 < r->n)
                __builtin_prefetch(&tt->slots[(size_t)r->key_hash[row + 16] & tt->mask], 1);

            for (;; i = (i + 1) & tt->mask) {
                struct kslot *s = &tt->slots[i];

                if (s->piece == EMPTY) {
                    s->hash = h;
                    s->piece = (uint32_t)p;
                    s->row = (uint32_t)row;
                    pc->state[row] = ROW_NEW;
                    break;
                }
                if (s->hash != h)
                    continue;
                struct piece *wp = tt->pieces[s->piece];
                const struct rows_str *wk = &wp->rows.key[s->row];

                if (wk->len != r->key[row].len || !sl_bytes_eq(wk->p, r->key[row].p, wk->len))
                    continue;
                /* The loser is a redelivery if it is the winner again. */
                tt->redelivered += r->ev[row] == wp->rows.ev[s->row] &&
                                   r->row_hash[row] == wp->rows.row_hash[s->row];
                if (beats(r->ev[row], pc->obj->ro.arrived_at, r->pos[row], wp->rows.ev[s->row],
                          wp->obj->ro.arrived_at, wp->rows.pos[s->row])) {
                    wp->state[s->row] = ROW_DUP;
                    s->piece = (uint32_t)p;
                    s->row = (uint32_t)row;
                    pc->state[row] = ROW_NEW;
                } else {
                    pc->state[row] = ROW_DUP;
                }
                break;
            }
        }
    }
}

/* ---- the table's rows ---------------------------------------------------------------- */

/* The canonical key of row i of a chunk whose first nkey columns are the
 * key columns (types from the contract). */
const char *
chunk_key(const struct contract *c, const struct engine_vec *v, size_t i, struct sl_buf *b,
          size_t *len)
{
    if (c->nkey == 1 && c->columns[c->key[0]].type.id == SL_TYPE_STRING)
        return engine_vec_str(&v[0], i, len);
    sl_buf_reset(b);
    for (size_t k = 0; k < c->nkey; k++) {
        struct sl_type ty = c->columns[c->key[k]].type;
        const char *s;
        size_t n;

        switch (ty.id) {
        case SL_TYPE_STRING:
            s = engine_vec_str(&v[k], i, &n);
            key_add_str(b, s, n, k + 1 == c->nkey);
            break;
        case SL_TYPE_DOUBLE:
            key_add_double(b, ((const double *)v[k].data)[i]);
            break;
        default:
            key_add_int(b, engine_vec_int(&v[k], i), ty);
            break;
        }
    }
    *len = b->len;
    return b->data;
}

#define PROBE_FILES 128

static void
set_bit(uint64_t **map, int64_t nbits, int64_t bit)
{
    if (*map == NULL)
        *map = sl_calloc((size_t)(nbits + 63) / 64, sizeof(uint64_t));
    (*map)[bit / 64] |= 1ull << (bit % 64);
}

static bool
has_bit(const uint64_t *map, int64_t bit)
{
    return rowbit_has(map, bit);
}

/* The index of the live file with store key (key, len), or -1; hint is
 * tried first (deletion files list positions file by file). */
static ssize_t
find_file(const struct ttable *tt, const char *key, size_t len, size_t hint)
{
    size_t lo = 0, hi = tt->nfiles;

    if (hint < tt->nfiles && strlen(tt->files[hint].key) == len &&
        memcmp(tt->files[hint].key, key, len) == 0)
        return (ssize_t)hint;
    /* Files come in key order (catalog_file_list). */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = tt->files[mid].key;
        size_t klen = strlen(k);
        int c = memcmp(k, key, klen < len ? klen : len);

        if (c == 0)
            c = (klen > len) - (klen < len);
        if (c == 0)
            return (ssize_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int
load_deletes(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    const char **paths;
    size_t hint = 0;
    int64_t total = 0;
    int rc;

    if (tt->ndeletes == 0 || tt->nfiles == 0)
        return 0;
    rc = engine_for(t, d);
    if (rc < 0)
        return rc;
    paths = sl_calloc(tt->ndeletes, sizeof(*paths));
    for (size_t i = 0; i < tt->ndeletes; i++) {
        paths[i] = tt->deletes[i].path;
        total += tt->deletes[i].rows;
    }
    rc = engine_read_deletes(t->engine, paths, tt->ndeletes, &res, d);
    free(paths);
    while (rc == 0 && (ch = engine_result_next(res)) != NULL) {
        struct engine_vec fv, pv;
        size_t n = engine_chunk_rows(ch);

        engine_chunk_vec(ch, 0, &fv);
        engine_chunk_vec(ch, 1, &pv);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            const char *key = engine_vec_str(&fv, i, &len);
            int64_t pos = (int64_t)engine_vec_int(&pv, i);
            ssize_t fi;

            /* Deletion files name data files by URI (those of releases
             * before Iceberg tables: by store key). */
            const char *k = table_key_of(tt->meta.prefix, key, len);

            if (k != NULL) {
                len -= (size_t)(k - key);
                key = k;
            }
            fi = find_file(tt, key, len, hint);
            struct tfile *f;

            total--;
            if (fi < 0)
                continue; /* a file retired since: the deletion file outlives it */
            hint = (size_t)fi;
            f = &tt->files[fi];
            if (pos < 0 || pos >= f->rows) {
                rc = sl_fail(d, SL_ERR_CORRUPT,
                             "a deletion file of curated table '%s' names row %lld of '%s', "
                             "which has %lld",
                             tt->meta.name, (long long)pos, f->key, (long long)f->rows);
                break;
            }
            if (has_bit(f->gone, pos))
                continue;
            set_bit(&f->gone, f->rows, pos);
            f->ngone++;
        }
    }
    engine_result_free(res);
    if (rc == 0 && total != 0)
        rc = sl_fail(d, SL_ERR_CORRUPT,
                     "the deletion files of curated table '%s' hold other rows than the "
                     "catalog records",
                     tt->meta.name);
    for (size_t i = 0; rc == 0 && i < tt->nfiles; i++)
        if (tt->files[i].ngone != tt->files[i].catalog_gone)
            rc = sl_fail(d, SL_ERR_CORRUPT,
                         "curated file '%s': its deletion files retire %lld rows, the "
                         "catalog says %lld",
                         tt->files[i].key, (long long)tt->files[i].ngone,
                         (long long)tt->files[i].catalog_gone);
    SL_DEBUG("transform", "read %zu deletion file(s)", tt->ndeletes);
    return rc;
}

/*
 * The probe's columns: the table's user columns, then arrival and
 * position - every file has those (field id 0).  Caller frees.
 */
static struct engine_column *
probe_columns(const struct curated_table *m, size_t *n)
{
    size_t nuser = m->ncolumns - NMETA;
    struct engine_column *cols = curated_columns(m, nuser, 2);

    cols[nuser] = (struct engine_column){META_INGESTED_AT, {SL_TYPE_TIMESTAMP, 0, 0}, 0};
    cols[nuser + 1] = (struct engine_column){META_RAW_POSITION, {SL_TYPE_INT64, 0, 0}, 0};
    *n = nuser + 2;
    return cols;
}

static void
mark_replace(struct ttable *tt, size_t fi, int64_t row, uint8_t *state)
{
    struct tfile *f = &tt->files[fi];

    set_bit(&f->dels, f->rows, row);
    f->deleted++;
    *state = ROW_REPLACE;
}

/* What one probing thread collects; merged into the table after. */
struct prober {
    struct trun *t;
    struct ttable *tt;
    size_t first, n;       /* its files */
    int conn;
    const uint64_t *seeds; /* rows_name_seed() of each user column */
    const struct engine_column *cols; /* read from each file (probe_columns()) */
    size_t ncols;
    uint64_t hashes[ENGINE_CHUNK_ROWS]; /* of the chunk's keys */
    int64_t redelivered;
    size_t read;           /* files read (no key file) */
    int rc;
    struct sl_diag d;
};

static uint64_t chunk_row_hash(const struct curated_table *m, const struct engine_vec *v,
                               const uint64_t *seeds, size_t i);

/*
 * The table's row `row` of file fi holds the key of winner slot s, with
 * event time old_ev, arrival old_at, position old_pos and fingerprint
 * old_hash (wanted only when the event times are equal: *old_hash() is
 * asked then).  Decide the winner's state, and mark the row to delete if
 * the winner replaces it.
 */
struct old_row {
    int64_t ev, at, pos;
    uint64_t hash;
};

static void
decide(struct prober *pr, const struct kslot *s, size_t fi, int64_t row,
       const struct old_row *old)
{
    struct ttable *tt = pr->tt;
    struct piece *wp = tt->pieces[s->piece];
    uint8_t *state = &wp->state[s->row];

    if (old->ev == wp->rows.ev[s->row] && old->at == wp->obj->ro.arrived_at &&
        old->pos == wp->rows.pos[s->row]) {
        /* The very record the table holds, read again (a rewind). */
        *state = ROW_DUP;
        pr->redelivered++;
    } else if (old->ev == wp->rows.ev[s->row] && old->hash == wp->rows.row_hash[s->row]) {
        /* Same event time and values: a redelivery; the table keeps
         * its row. */
        *state = ROW_DUP;
        pr->redelivered++;
    } else if (!beats(wp->rows.ev[s->row], wp->obj->ro.arrived_at, wp->rows.pos[s->row],
                      old->ev, old->at, old->pos)) {
        *state = ROW_DUP;
    } else {
        mark_replace(tt, fi, row, state);
    }
}

/*
 * Decide the winners whose keys this chunk of the table holds.  An
 * equal-time tie is settled on the spot: the chunk has the whole row, so
 * its fingerprint is compared with the winner's.
 */
static int
probe_chunk(struct prober *pr, struct engine_chunk *ch, struct sl_buf *kb)
{
    struct ttable *tt = pr->tt;
    const struct contract *c = tt->latest;
    size_t nuser = tt->meta.ncolumns - NMETA, n = engine_chunk_rows(ch);
    struct engine_vec v[CONTRACT_MAX_COLUMNS + 4], kv[CONTRACT_MAX_KEY];
    const struct engine_vec *fv = &v[0], *rv = &v[1], *ev = &v[2 + c->event_time];
    const struct engine_vec *atv = &v[2 + nuser], *posv = &v[3 + nuser];
    bool ev_is_date = c->columns[c->event_time].type.id == SL_TYPE_DATE;

    for (size_t k = 0; k < nuser + 4; k++)
        engine_chunk_vec(ch, k, &v[k]);
    for (size_t k = 0; k < c->nkey; k++)
        kv[k] = v[2 + c->key[k]];
    /* Most of the table's keys are not in the batch, and each lookup is a
     * cache miss in a table of the batch's size: hash the chunk's keys and
     * fetch their slots first, so the misses overlap. */
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key = chunk_key(c, kv, i, kb, &klen);

        pr->hashes[i] = sl_hash64(key, klen, 0);
        __builtin_prefetch(&tt->slots[(size_t)pr->hashes[i] & tt->mask]);
    }
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *key;
        const struct kslot *s;
        struct old_row old;

        if (!keytab_maybe(tt, pr->hashes[i]))
            continue;
        key = chunk_key(c, kv, i, kb, &klen);
        s = keytab_find(tt, pr->hashes[i], key, klen);
        if (s == NULL)
            continue;
        size_t fi = (size_t)engine_vec_int(fv, i);
        int64_t row = (int64_t)engine_vec_int(rv, i);

        if (fi >= tt->nfiles || row < 0 || row >= tt->files[fi].rows)
            return sl_fail(&pr->d, SL_ERR_CORRUPT,
                           "curated file '%s' has more rows than the catalog records",
                           fi < tt->nfiles ? tt->files[fi].key : "?");
        if (has_bit(tt->files[fi].gone, row))
            continue; /* an older version of the key, already replaced */
        old.ev = ev_is_date ? (int64_t)engine_vec_int(ev, i) * SL_USEC_PER_DAY
                            : (int64_t)engine_vec_int(ev, i);
        old.at = (int64_t)engine_vec_int(atv, i);
        old.pos = (int64_t)engine_vec_int(posv, i);
        old.hash = old.ev == tt->pieces[s->piece]->rows.ev[s->row]
                       ? chunk_row_hash(&tt->meta, &v[2], pr->seeds, i)
                       : 0;
        decide(pr, s, fi, row, &old);
    }
    return 0;
}

/* The winning slot of the key whose hashes are h1 and h2, or NULL. */
static const struct kslot *
keytab_find2(const struct ttable *tt, uint64_t h1, uint64_t h2)
{
    for (size_t i = (size_t)h1 & tt->mask;; i = (i + 1) & tt->mask) {
        const struct kslot *s = &tt->slots[i];

        if (s->piece == EMPTY)
            return NULL;
        if (s->hash != h1)
            continue;
        if (tt->pieces[s->piece]->rows.key_hash2[s->row] == h2)
            return s;
    }
}

/*
 * Probe file fi through its key file: its rows' h1 hashes against the
 * batch key table, and the records of the rows that match.  1: done; 0:
 * the file has no usable key file (the caller reads it).  A key is known
 * by both its 64-bit hashes: two keys that share both are as unlikely as
 * a disk returning wrong bytes undetected.
 */
static int
probe_keyed(struct prober *pr, size_t fi)
{
    struct ttable *tt = pr->tt;
    struct tfile *f = &tt->files[fi];
    char *key = layout_curated_keys_key(tt->meta.prefix, f->key);
    struct keyfile *kf = NULL;
    const uint64_t *h1;
    int64_t *cand = NULL;
    struct keyrec *recs = NULL;
    size_t ncand = 0, cap = 0;
    bool ok = true;

    if (key == NULL || keyfile_open(pr->t->store, key, f->rows, f->bytes, &kf) < 0) {
        free(key);
        return 0;
    }
    free(key);
    h1 = keyfile_h1(kf);
    for (int64_t row = 0; row < f->rows; row++) {
        if (row + 16 < f->rows)
            __builtin_prefetch(&tt->slots[(size_t)h1[row + 16] & tt->mask]);
        if (keytab_maybe(tt, h1[row]) && !has_bit(f->gone, row)) {
            SL_GROW(cand, cap, ncand + 1);
            cand[ncand++] = row;
        }
    }
    /* Every record first, checked, then the decisions: a key file that
     * fails a check decides nothing. */
    recs = sl_calloc(ncand + 1, sizeof(*recs));
    for (size_t i = 0; ok && i < ncand; i++)
        ok = keyfile_recs(kf, cand[i], 1, &recs[i]) == 0;
    for (size_t i = 0; ok && i < ncand; i++) {
        const struct kslot *s = keytab_find2(tt, h1[cand[i]], recs[i].h2);
        struct old_row old = {recs[i].ev, recs[i].at, recs[i].pos, recs[i].row_hash};

        if (s != NULL)
            decide(pr, s, fi, cand[i], &old);
    }
    if (!ok)
        SL_WARN("transform", "the key file of %s fails its checks: the file is read instead",
                f->key);
    free(recs);
    free(cand);
    keyfile_close(kf);
    f->keyed = ok;
    return ok;
}

/* The fingerprint of row i of the chunk, over the table's user columns
 * (starting at chunk column first), as rows_end() computes it. */
static uint64_t
chunk_row_hash(const struct curated_table *m, const struct engine_vec *v, const uint64_t *seeds,
               size_t i)
{
    uint64_t h = 0;

    for (size_t j = 0; j < m->ncolumns - NMETA; j++) {
        const struct engine_vec *x = &v[j];
        int64_t i64;
        double f;
        __int128 big;
        const void *p = &i64;
        size_t len = 8;

        if (!engine_vec_valid(x, i))
            continue;
        switch (m->columns[j].type.id) {
        case SL_TYPE_STRING:
            p = engine_vec_str(x, i, &len);
            break;
        case SL_TYPE_DOUBLE:
            f = ((const double *)x->data)[i];
            p = &f;
            break;
        case SL_TYPE_DECIMAL:
            big = engine_vec_int(x, i);
            if (m->columns[j].type.precision > 18) {
                p = &big;
                len = 16;
            } else {
                i64 = (int64_t)big;
            }
            break;
        default:
            i64 = (int64_t)engine_vec_int(x, i);
            break;
        }
        h += rows_value_hash(seeds[j], p, len);
    }
    return h;
}

void
rowbits_filter(void *arg, const struct engine_chunk *ch, bool *out)
{
    const struct rowbits *rb = arg;
    struct engine_vec fv, rv;
    size_t n = engine_chunk_rows(ch);

    engine_chunk_vec(ch, 0, &fv);
    engine_chunk_vec(ch, 1, &rv);
    for (size_t i = 0; i < n; i++) {
        size_t fi = (size_t)engine_vec_int(&fv, i);
        int64_t row = (int64_t)engine_vec_int(&rv, i);
        const struct tfile *f = fi < rb->tt->nfiles ? &rb->tt->files[fi] : NULL;

        out[i] = f == NULL || (!has_bit(f->dels, row) && !has_bit(f->gone, row));
    }
}

/*
 * One thread's share of the probe: its files, on its own engine
 * connection.  Threads never touch the same state: a key has one row in
 * the table (so one thread decides each winner), and each file belongs to
 * one thread.
 */
static void *
probe_files(void *arg)
{
    struct prober *pr = arg;
    size_t *unkeyed = sl_calloc(pr->n + 1, sizeof(*unkeyed)), nun = 0;
    struct sl_buf kb;

    /* Files with a key file first; the others are read. */
    for (size_t i = pr->first; i < pr->first + pr->n; i++)
        if (!probe_keyed(pr, i))
            unkeyed[nun++] = i;
    sl_buf_init(&kb);
    for (size_t first = 0; pr->rc == 0 && first < nun; first += PROBE_FILES) {
        size_t n = nun - first < PROBE_FILES ? nun - first : PROBE_FILES;
        struct engine_file files[PROBE_FILES];
        struct engine_read r = {pr->ncols, pr->cols, n, files, true};
        struct engine_result *res = NULL;
        struct engine_chunk *ch;

        /* Each row: its file's index and row number, the user columns (those
         * a file predates as typed NULLs), then arrival and position. */
        for (size_t k = 0; k < n; k++) {
            const struct tfile *f = &pr->tt->files[unkeyed[first + k]];

            files[k] = (struct engine_file){f->path, f->max_field_id,
                                            (int64_t)unkeyed[first + k], false};
        }
        pr->rc = engine_read_files(pr->t->engine, pr->conn, &r, &res, &pr->d);
        while (pr->rc == 0 && (ch = engine_result_next(res)) != NULL)
            pr->rc = probe_chunk(pr, ch, &kb);
        engine_result_free(res);
    }
    pr->read = nun;
    sl_buf_release(&kb);
    free(unkeyed);
    return NULL;
}

int
probe_table(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    const struct curated_table *m = &tt->meta;
    size_t nuser = m->ncolumns - NMETA;
    struct prober *pr;
    pthread_t tid[16];
    uint64_t *seeds;
    struct engine_column *cols;
    size_t ncols;
    int nthreads, started = 0, rc;

    if (tt->nfiles == 0)
        return 0;
    rc = engine_for(t, d);
    /* Threads side by side, each statement on one engine thread. */
    if (rc == 0)
        rc = engine_set_threads(t->engine, 1, d);
    if (rc < 0)
        return rc;
    seeds = sl_calloc(nuser, sizeof(*seeds));
    for (size_t j = 0; j < nuser; j++)
        seeds[j] = rows_name_seed(m->columns[j].name);
    cols = probe_columns(m, &ncols);
    nthreads = engine_connections(t->engine);
    if (nthreads > 16)
        nthreads = 16;
    if ((size_t)nthreads > tt->nfiles)
        nthreads = (int)tt->nfiles;
    pr = sl_calloc((size_t)nthreads, sizeof(*pr));
    for (int i = 0; i < nthreads; i++) {
        pr[i].t = t;
        pr[i].tt = tt;
        pr[i].conn = i;
        pr[i].seeds = seeds;
        pr[i].cols = cols;
        pr[i].ncols = ncols;
        pr[i].first = tt->nfiles * (size_t)i / (size_t)nthreads;
        pr[i].n = tt->nfiles * (size_t)(i + 1) / (size_t)nthreads - pr[i].first;
        sl_diag_init(&pr[i].d);
    }
    for (int i = 1; i < nthreads; i++) {
        if (pthread_create(&tid[i], NULL, probe_files, &pr[i]) != 0) {
            pr[i].rc = sl_fail(&pr[i].d, SL_ERR_ENGINE, "cannot start a probe thread");
            break;
        }
        started = i;
    }
    probe_files(&pr[0]);
    for (int i = 1; i <= started; i++)
        pthread_join(tid[i], NULL);
    size_t read = 0;

    for (int i = 0; i < nthreads; i++) {
        if (rc == 0 && pr[i].rc < 0)
            rc = sl_fail(d, pr[i].rc, "%s", pr[i].d.msg);
        tt->redelivered += pr[i].redelivered;
        read += pr[i].read;
    }
    free(pr);
    free(seeds);
    free(cols);
    SL_DEBUG("transform", "probed %zu file(s): %zu by their key files, %zu read",
             tt->nfiles, tt->nfiles - read, read);
    if (rc == 0)
        rc = engine_set_threads(t->engine, t->threads, d);
    return rc;
}

/* ---- the plan -------------------------------------------------------------------------- */

static struct tpart *
part_for(struct ttable *tt, int32_t value)
{
    /* Runs touch few days; a linear search over them is enough, starting
     * from the last hit. */
    if (tt->last_part < tt->nparts && tt->parts[tt->last_part].value == value)
        return &tt->parts[tt->last_part];
    for (size_t i = 0; i < tt->nparts; i++) {
        if (tt->parts[i].value == value) {
            tt->last_part = i;
            return &tt->parts[i];
        }
    }
    SL_GROW(tt->parts, tt->partcap, tt->nparts + 1);
    memset(&tt->parts[tt->nparts], 0, sizeof(tt->parts[0]));
    tt->parts[tt->nparts].value = value;
    tt->last_part = tt->nparts;
    return &tt->parts[tt->nparts++];
}

static void
part_add_file(struct tpart *p, size_t fi)
{
    SL_GROW(p->files, p->fcap, p->nfiles + 1);
    p->files[p->nfiles++] = fi;
}

static int
cmp_part(const void *a, const void *b)
{
    const struct tpart *x = a, *y = b;

    return (x->value > y->value) - (x->value < y->value);
}

/*
 * A new table's partitioning, when its contract leaves it to sluice
 * (partition_by: auto): from its first batch, the finest of day, month and
 * year whose partitions average at least AUTO_PART_ROWS rows, so that a
 * slowly changing table spread over years does not become a file a day.
 */
#define AUTO_PART_ROWS 10000

static void
choose_partition(struct ttable *tt)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN, n = 0;
    double days;

    for (size_t p = 0; p < tt->npieces; p++) {
        const struct piece *pc = tt->pieces[p];

        for (size_t row = 0; row < pc->rows.n; row++) {
            if (pc->state[row] == ROW_DUP)
                continue;
            n++;
            lo = pc->rows.ev[row] < lo ? pc->rows.ev[row] : lo;
            hi = pc->rows.ev[row] > hi ? pc->rows.ev[row] : hi;
        }
    }
    days = n > 0 ? (double)(hi - lo) / 86400e6 + 1 : 1;
    tt->part.param = 0;
    tt->part.column = NULL;
    if ((double)n / days >= AUTO_PART_ROWS)
        tt->part.kind = IVAL_DAY;
    else if ((double)n / (days / 30.4 > 1 ? days / 30.4 : 1) >= AUTO_PART_ROWS)
        tt->part.kind = IVAL_MONTH;
    else
        tt->part.kind = IVAL_YEAR;
    tt->part_known = true;
    SL_DEBUG("transform", "curated.%s: %lld rows over %.0f days: partitioned by %s",
             tt->meta.name, (long long)n, days,
             tt->part.kind == IVAL_DAY ? "day" : tt->part.kind == IVAL_MONTH ? "month" : "year");
}

/* File i's deleted rows (and, of a table of an older release, those its
 * deletion files retire) onto tt's delrefs, in row order. */
static void
add_delrefs(struct ttable *tt, size_t i)
{
    const struct tfile *f = &tt->files[i];
    bool old = tt->upgrade && f->gone != NULL;

    for (int64_t w = 0; w < (f->rows + 63) / 64; w++) {
        uint64_t word = (f->dels ? f->dels[w] : 0) | (old ? f->gone[w] : 0);

        for (uint64_t bits = word; bits != 0; bits &= bits - 1) {
            SL_GROW(tt->delrefs, tt->delcap, tt->ndelrefs + 1);
            tt->delrefs[tt->ndelrefs].file = (uint32_t)i;
            tt->delrefs[tt->ndelrefs].row = w * 64 + __builtin_ctzll(bits);
            tt->ndelrefs++;
        }
    }
}

void
plan_outputs(struct trun *t, struct ttable *tt)
{
    int64_t small = t->project->config.transform.max_file_rows / 4;
    int64_t pct = t->project->config.transform.compact_deleted_percent;
    int *bcol = NULL;

    if (!tt->part_known)
        choose_partition(tt);
    /* A bucket's column in each piece's rows (its contract version's
     * columns: a required column is in every version of the major). */
    if (tt->part.kind == IVAL_BUCKET) {
        bcol = sl_calloc(tt->npieces + 1, sizeof(*bcol));
        for (size_t p = 0; p < tt->npieces; p++) {
            bcol[p] = contract_column_index(tt->pieces[p]->rows.contract, tt->part.column);
            assert(bcol[p] >= 0);
        }
    }

    for (size_t p = 0; p < tt->npieces; p++) {
        struct piece *pc = tt->pieces[p];

        for (size_t row = 0; row < pc->rows.n; row++) {
            struct tpart *part;

            switch (pc->state[row]) {
            case ROW_DUP:
                tt->duplicates++;
                continue;
            case ROW_NEW:
                tt->inserted++;
                break;
            case ROW_REPLACE:
                tt->replaced++;
                break;
            }
            part = part_for(tt, tt->part.kind == IVAL_BUCKET
                                    ? rows_bucket(&pc->rows, bcol[p], row, tt->part.param)
                                    : ival_partition_of(tt->part, false, pc->rows.ev[row]));
            SL_GROW(part->refs, part->cap, part->n + 1);
            part->refs[part->n++] = (uint64_t)p << 32 | row;
        }
    }
    free(bcol);
    /* A file that loses rows keeps them, listed in the deletion file,
     * until too much of it is deleted: then it is rewritten. */
    for (size_t i = 0; i < tt->nfiles; i++) {
        struct tfile *f = &tt->files[i];
        int64_t gone = f->deleted + f->ngone;
        int32_t value;

        if (f->deleted == 0 && f->ngone == 0)
            continue;
        if (gone < f->rows && gone * 100 <= pct * f->rows)
            continue;
        /* (a file of another partitioning cannot join a partition) */
        if (ival_partition_parse(tt->part, f->partition, &value) < 0)
            continue;
        f->merge = true;
        part_add_file(part_for(tt, value), i);
    }
    /* A day that gets a new file and already has many keeps its count down
     * by absorbing its small files. */
    for (size_t k = 0; k < tt->nparts; k++) {
        struct tpart *part = &tt->parts[k];
        char day[IVAL_PARTITION_TEXT];
        size_t others = 0;

        if (part->n == 0)
            continue;
        ival_partition_text(tt->part, part->value, day, sizeof(day));
        for (size_t i = 0; i < tt->nfiles; i++)
            others += !tt->files[i].merge && strcmp(tt->files[i].partition, day) == 0;
        if (others + 1 < COMPACT_FILES)
            continue;
        for (size_t i = 0; i < tt->nfiles; i++) {
            struct tfile *f = &tt->files[i];

            if (!f->merge && f->rows < small && strcmp(f->partition, day) == 0) {
                f->merge = true;
                part_add_file(part, i);
            }
        }
    }
    if (tt->nparts > 1)
        qsort(tt->parts, tt->nparts, sizeof(tt->parts[0]), cmp_part);
    /* What the files that stay lose, for the deletion files.  A table of an
     * older release also writes anew what its deletion files retire, as
     * Iceberg position deletes (one partition each, files named by URI);
     * those deletion files are retired by the run.  The rows of one
     * partition text come together (group_deletes() cuts a deletion file
     * per text), each file's in key order: key order alone would not do,
     * as bucket[16] and bucket[32] of a column share the folders. */
    size_t *losing = sl_calloc(tt->nfiles + 1, sizeof(*losing)), nlosing = 0;

    for (size_t i = 0; i < tt->nfiles; i++) {
        const struct tfile *f = &tt->files[i];

        if (!f->merge && (f->deleted != 0 || (tt->upgrade && f->gone != NULL)))
            losing[nlosing++] = i;
    }
    for (size_t k = 0; k < nlosing; k++) {
        const char *text;

        if (losing[k] == SIZE_MAX)
            continue;
        text = tt->files[losing[k]].partition;
        for (size_t j = k; j < nlosing; j++) {
            if (losing[j] == SIZE_MAX || strcmp(tt->files[losing[j]].partition, text) != 0)
                continue;
            add_delrefs(tt, losing[j]);
            losing[j] = SIZE_MAX;
        }
    }
    free(losing);
}
