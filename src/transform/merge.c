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
 * 2. probe_table() streams the key, event time and arrival columns of the
 *    table's live files through the engine and looks each key up; a match
 *    decides the winner's state (ROW_NEW stays, ROW_REPLACE, or ROW_DUP)
 *    and counts the file's rows to delete.
 * 3. plan_outputs() groups the winners by event day; each day with new rows
 *    or deletions becomes one output file that also absorbs the survivors
 *    of the day's files with deletions, and small siblings when a day has
 *    too many files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
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
    {META_ROW_HASH, SL_TYPE_INT64},
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
    tf->partition = sl_strdup(f->partition);
    tf->rows = f->rows;
    c->rc = store_local_path(c->t->store, f->key, &tf->path, c->d);
    return c->rc;
}

int
table_prepare(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    struct sl_arena *a = &t->arena;
    const struct contract *c = tt->latest;
    struct curated_table *m = &tt->meta;
    const char *name = tt->major == 1 ? t->src->name
                                      : sl_arena_printf(a, "%s_v%d", t->src->name, tt->major);
    struct curated_table old;
    struct curated_column *cols;
    struct sl_buf keys;
    size_t n = 0;
    int rc;

    rc = catalog_table_get(t->cat, name, a, &old, d);
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
    m->prefix = sl_arena_printf(a, "curated/%s", name);
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

        rc = catalog_file_list(t->cat, name, add_file, &fc, d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void
table_release(struct ttable *tt)
{
    for (size_t i = 0; i < tt->nfiles; i++) {
        free(tt->files[i].key);
        free(tt->files[i].path);
        free(tt->files[i].partition);
    }
    free(tt->files);
    for (size_t i = 0; i < tt->nparts; i++) {
        free(tt->parts[i].refs);
        free(tt->parts[i].files);
        free(tt->parts[i].staged_key);
        free(tt->parts[i].final_key);
    }
    free(tt->parts);
    free(tt->slots);
    free(tt->pieces);
}

/* ---- the batch key table ------------------------------------------------------------ */

/* Whether record a beats record b: later event, then later arrival. */
static bool
beats(int64_t ev_a, int64_t seq_a, int64_t pos_a, int64_t ev_b, int64_t seq_b, int64_t pos_b)
{
    if (ev_a != ev_b)
        return ev_a > ev_b;
    if (seq_a != seq_b)
        return seq_a > seq_b;
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

        if (k->len == len && memcmp(k->p, key, len) == 0)
            return s;
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

                if (wk->len != r->key[row].len ||
                    memcmp(wk->p, r->key[row].p, wk->len) != 0)
                    continue;
                if (beats(r->ev[row], pc->obj->seq, r->pos[row], wp->rows.ev[s->row],
                          wp->obj->seq, wp->rows.pos[s->row])) {
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

struct seq_cache {
    char **ids;
    int64_t *seqs;
    size_t n, cap;
};

static int64_t
object_seq(struct trun *t, struct seq_cache *c, const char *id, size_t len)
{
    struct raw_object o;
    struct sl_arena a;
    char *key;
    int64_t seq = 0;

    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->ids[i]) == len && memcmp(c->ids[i], id, len) == 0)
            return c->seqs[i];
    key = sl_strndup(id, len);
    sl_arena_init(&a, 4096);
    if (catalog_raw_get(t->cat, t->src->name, key, &a, &o, NULL) == 0)
        seq = o.seq;
    sl_arena_release(&a);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->ids = sl_realloc(c->ids, c->cap * sizeof(*c->ids));
        c->seqs = sl_realloc(c->seqs, c->cap * sizeof(*c->seqs));
    }
    c->ids[c->n] = key;
    c->seqs[c->n++] = seq;
    return seq;
}

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

static size_t
file_index(struct ttable *tt, const char *path, size_t len, size_t hint)
{
    if (hint < tt->nfiles && strlen(tt->files[hint].path) == len &&
        memcmp(tt->files[hint].path, path, len) == 0)
        return hint;
    for (size_t i = 0; i < tt->nfiles; i++)
        if (strlen(tt->files[i].path) == len && memcmp(tt->files[i].path, path, len) == 0)
            return i;
    return SIZE_MAX;
}

int
probe_table(struct trun *t, struct ttable *tt, struct sl_diag *d)
{
    const struct contract *c = tt->latest;
    struct engine_result *res = NULL;
    struct engine_chunk *ch;
    struct seq_cache cache = {0};
    struct sl_buf sql, kb;
    size_t nk = c->nkey, hint = 0;
    int rc;

    if (tt->nfiles == 0)
        return 0;
    rc = engine_for(t, d);
    if (rc < 0)
        return rc;
    sl_buf_init(&sql);
    sl_buf_init(&kb);
    sl_buf_adds(&sql, "SELECT ");
    for (size_t k = 0; k < nk; k++) {
        sl_buf_add_sql_ident(&sql, c->columns[c->key[k]].name);
        sl_buf_adds(&sql, ", ");
    }
    sl_buf_add_sql_ident(&sql, c->columns[c->event_time].name);
    sl_buf_adds(&sql, ", " META_RAW_OBJECT ", " META_RAW_POSITION ", " META_ROW_HASH
                      ", filename FROM read_parquet([");
    for (size_t i = 0; i < tt->nfiles; i++) {
        if (i)
            sl_buf_adds(&sql, ", ");
        sl_buf_add_sql_str(&sql, tt->files[i].path);
    }
    sl_buf_adds(&sql, "], filename = true)");
    rc = engine_stream(t->engine, sql.data, &res, d);
    sl_buf_release(&sql);
    if (rc < 0)
        goto out;
    bool ev_is_date = c->columns[c->event_time].type.id == SL_TYPE_DATE;

    while ((ch = engine_result_next(res)) != NULL) {
        size_t n = engine_chunk_rows(ch);
        struct engine_vec v[CONTRACT_MAX_KEY + 5];

        for (size_t k = 0; k < nk + 5; k++)
            engine_chunk_vec(ch, k, &v[k]);
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *key = chunk_key(c, v, i, &kb, &klen);
            uint64_t h = sl_hash64(key, klen, 0);
            const struct kslot *s = keytab_find(tt, h, key, klen);

            if (s == NULL)
                continue;
            struct piece *wp = tt->pieces[s->piece];
            uint8_t *state = &wp->state[s->row];
            const struct engine_vec *ev = &v[nk];
            int64_t old_ev = ev_is_date ? (int64_t)engine_vec_int(ev, i) * SL_USEC_PER_DAY
                                        : (int64_t)engine_vec_int(ev, i);
            size_t idlen;
            const char *id = engine_vec_str(&v[nk + 1], i, &idlen);
            int64_t old_pos = (int64_t)engine_vec_int(&v[nk + 2], i);
            uint64_t old_hash = (uint64_t)(int64_t)engine_vec_int(&v[nk + 3], i);
            int64_t old_seq = object_seq(t, &cache, id, idlen);

            if (!beats(wp->rows.ev[s->row], wp->obj->seq, wp->rows.pos[s->row], old_ev,
                       old_seq, old_pos) ||
                (old_ev == wp->rows.ev[s->row] && old_hash == wp->rows.row_hash[s->row])) {
                *state = ROW_DUP;
                continue;
            }
            size_t plen;
            const char *path = engine_vec_str(&v[nk + 4], i, &plen);
            size_t fi = file_index(tt, path, plen, hint);

            if (fi == SIZE_MAX) {
                rc = sl_fail(d, SL_ERR_CORRUPT, "engine returned an unknown file '%.*s'",
                             (int)plen, path);
                goto out;
            }
            hint = fi;
            tt->files[fi].deleted++;
            *state = ROW_REPLACE;
        }
    }
out:
    engine_result_free(res);
    sl_buf_release(&kb);
    for (size_t i = 0; i < cache.n; i++)
        free(cache.ids[i]);
    free(cache.ids);
    free(cache.seqs);
    return rc;
}

/* ---- the plan -------------------------------------------------------------------------- */

static struct tpart *
part_for(struct ttable *tt, int32_t day)
{
    /* Runs touch few days; a linear search over them is enough, starting
     * from the last hit. */
    if (tt->last_part < tt->nparts && tt->parts[tt->last_part].day == day)
        return &tt->parts[tt->last_part];
    for (size_t i = 0; i < tt->nparts; i++) {
        if (tt->parts[i].day == day) {
            tt->last_part = i;
            return &tt->parts[i];
        }
    }
    SL_GROW(tt->parts, tt->partcap, tt->nparts + 1);
    memset(&tt->parts[tt->nparts], 0, sizeof(tt->parts[0]));
    tt->parts[tt->nparts].day = day;
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

    return (x->day > y->day) - (x->day < y->day);
}

void
plan_outputs(struct trun *t, struct ttable *tt)
{
    int64_t small = t->project->config.transform.max_file_rows / 4;

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
            part = part_for(tt, sl_usec_to_day(pc->rows.ev[row]));
            SL_GROW(part->refs, part->cap, part->n + 1);
            part->refs[part->n++] = (uint64_t)p << 32 | row;
        }
    }
    for (size_t i = 0; i < tt->nfiles; i++) {
        struct tfile *f = &tt->files[i];
        int32_t day;

        if (f->deleted == 0 || sl_parse_date(f->partition, strlen(f->partition), &day) < 0)
            continue;
        f->merge = true;
        part_add_file(part_for(tt, day), i);
    }
    /* A day that gets a new file and already has many keeps its count down
     * by absorbing its small files. */
    for (size_t k = 0; k < tt->nparts; k++) {
        struct tpart *part = &tt->parts[k];
        char day[16];
        size_t others = 0;

        if (part->n == 0)
            continue;
        sl_format_date(part->day, day);
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
    qsort(tt->parts, tt->nparts, sizeof(tt->parts[0]), cmp_part);
}
