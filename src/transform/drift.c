/*
 * drift.c - schema drift: fields the records of a raw object carry that
 * its contract version does not declare, and required fields they lack.
 *
 * The readers count it as they parse (rows_drift_*, rows.h): an unknown
 * JSON member name is seen anyway when members are matched to columns, a
 * CSV header or Avro writer schema is matched once per object, a missing
 * required field is found by rows_check().  Each range of records (a
 * piece of the parallel parse) has its own small table; here the tables
 * of one object are merged, for
 *
 *   - the transform run (run.c), which records them in its commit
 *     transaction (catalog/drift.h, table schema_drift);
 *   - ingest, which reads each file's content (or its first 16 MiB) with
 *     the same readers before it lands (reader_drift());
 *   - gates, which read a run's record back (transform_run_drift()).
 *
 * Drift is information: the records it counts are written, or quarantined
 * (a missing required field; an unknown field when the contract rejects
 * them), exactly as without it, and the run's account does not change.
 */
#include "transform/reader.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/drift.h"
#include "core/mem.h"
#include "transform/transform.h"
#include "core/banned.h"

void
reader_drift_init(struct reader_drift *x)
{
    memset(x, 0, sizeof(*x));
    sl_arena_init(&x->arena, 0);
}

void
reader_drift_release(struct reader_drift *x)
{
    free(x->v);
    sl_arena_release(&x->arena);
    memset(x, 0, sizeof(*x));
}

/* An entry of a range, with the range's place for the sort. */
struct ref {
    const struct rows_drift *e;
    size_t range;
};

static int
by_field(const void *pa, const void *pb)
{
    const struct ref *a = pa, *b = pb;
    size_t n = a->e->len < b->e->len ? a->e->len : b->e->len;
    int c;

    if (a->e->kind != b->e->kind)
        return a->e->kind == ROWS_DRIFT_UNKNOWN ? -1 : 1;
    c = memcmp(a->e->field, b->e->field, n);
    if (c == 0 && a->e->len != b->e->len)
        c = a->e->len < b->e->len ? -1 : 1;
    if (c == 0)
        c = a->range < b->range ? -1 : a->range > b->range;
    return c;
}

void
reader_drift_merge(struct rows *const *rows, size_t n, bool line_based, struct reader_drift *x)
{
    struct ref *refs;
    size_t nrefs = 0, total = 0;

    x->line_based = line_based;
    for (size_t i = 0; i < n; i++) {
        total += rows[i]->ndrift;
        x->records += rows[i]->records_in;
    }
    if (total == 0)
        return;
    refs = sl_malloc(total * sizeof(*refs));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < rows[i]->ndrift; k++)
            if (rows[i]->drift[k].records > 0)
                refs[nrefs++] = (struct ref){&rows[i]->drift[k], i};
    qsort(refs, nrefs, sizeof(*refs), by_field);
    x->v = sl_calloc(nrefs ? nrefs : 1, sizeof(*x->v));
    for (size_t i = 0; i < nrefs; i++) {
        const struct rows_drift *e = refs[i].e;
        struct reader_drift_field *f = x->n > 0 ? &x->v[x->n - 1] : NULL;

        if (f != NULL && f->kind == e->kind && strlen(f->field) == e->len &&
            memcmp(f->field, e->field, e->len) == 0) {
            f->records += e->records;
            continue;
        }
        f = &x->v[x->n++];
        f->field = sl_arena_strndup(&x->arena, e->field, e->len);
        f->kind = e->kind;
        f->records = e->records;
        f->position = line_based ? e->example.line : e->example.record;
        f->example = e->text ? sl_arena_strdup(&x->arena, e->text) : NULL;
    }
    free(refs);
}

/* The end of the last whole line of data[0..len) (0: none). */
static size_t
whole_lines(const char *data, size_t len)
{
    const char *nl = memrchr(data, '\n', len);

    return nl ? (size_t)(nl - data) + 1 : 0;
}

static pthread_once_t avro_once = PTHREAD_ONCE_INIT;

int
reader_drift(const struct contract *c, const char *format, const char *data, size_t len,
             bool cut, struct reader_drift *x, struct sl_diag *d)
{
    struct rows_object ro = {.object_id = "", .key = "", .original_name = "", .contract = c};
    struct colmap m;
    struct rows r, *rp = &r;
    bool by_line = strcmp(format, "jsonl") == 0 || strcmp(format, "csv") == 0;
    int rc = 0;

    if (cut && by_line)
        len = whole_lines(data, len);
    ro.line_based = by_line;
    colmap_init(&m, c);
    rows_init(&r, &ro, INT64_MAX);
    r.drift_only = true; /* the records are read, not kept */
    if (strcmp(format, "jsonl") == 0) {
        rc = read_jsonl(&r, &m, data, len, 1, 1);
    } else if (strcmp(format, "json") == 0) {
        rc = read_json_array(&r, &m, data, len);
    } else if (strcmp(format, "csv") == 0) {
        rc = read_csv(&r, &m, data, len);
    } else if (strcmp(format, "avro") == 0) {
        pthread_once(&avro_once, read_avro_install_allocator);
        rc = read_avro(&r, &m, data, len, d);
    } else {
        rc = sl_fail(d, SL_ERR_INPUT, "cannot check schema drift of format '%s'", format);
    }
    if (rc == 0) {
        reader_drift_merge(&rp, 1, by_line, x);
        x->sampled = cut;
        /* A cut array or Avro file ends in one bad record, the cut: it
         * was not read. */
        if (cut && !by_line && x->records > 0)
            x->records--;
        for (size_t i = 0; i < x->n; i++)
            if (x->v[i].records > x->records)
                x->v[i].records = x->records;
    }
    rows_release(&r);
    colmap_release(&m);
    return rc;
}

/* ---- a run's drift, for gates ----------------------------------------------------- */

struct run_drift {
    int64_t run_id;
    struct sl_arena a;
    struct catalog_drift *v;
    size_t n, cap;
};

static int
keep_drift(void *arg, const struct catalog_drift *r)
{
    struct run_drift *x = arg;
    struct catalog_drift *k;

    SL_GROW(x->v, x->cap, x->n + 1);
    k = &x->v[x->n++];
    *k = *r;
    k->source = sl_arena_strdup(&x->a, r->source ? r->source : "");
    k->object_id = sl_arena_strdup(&x->a, r->object_id ? r->object_id : "");
    k->field = sl_arena_strdup(&x->a, r->field);
    k->kind = sl_arena_strdup(&x->a, r->kind);
    k->example_text = r->example_text ? sl_arena_strdup(&x->a, r->example_text) : NULL;
    k->contract_version = sl_arena_strdup(&x->a, r->contract_version);
    k->format = sl_arena_strdup(&x->a, r->format);
    return 0;
}

static int
read_drift(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct run_drift *x = arg;

    x->n = 0; /* a retried transaction starts again */
    return catalog_drift_list(txn, x->run_id, keep_drift, x, d);
}

int
transform_run_drift(struct catalog *cat, int64_t run_id, transform_drift_cb cb, void *arg,
                    struct sl_diag *d)
{
    struct run_drift x = {.run_id = run_id};
    int rc;

    sl_arena_init(&x.a, 0);
    rc = catalog_txn_run(cat, CATALOG_READ, read_drift, &x, d);
    for (size_t i = 0; rc == 0 && i < x.n; i++)
        rc = cb(arg, &x.v[i]);
    free(x.v);
    sl_arena_release(&x.a);
    return rc;
}

bool
transform_drift_line_based(const struct catalog_drift *r)
{
    return strcmp(r->format, "csv") == 0 || strcmp(r->format, "jsonl") == 0;
}
