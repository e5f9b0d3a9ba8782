/*
 * wire_check.h - what the wire fuzz targets and tests/unit/server share.
 *
 *   wck_equal()     two wire_value trees are the same (floats by value, with
 *                   NaN equal to NaN and the sign of zero kept)
 *   wck_oracle()    what putrecords_parse must give for a body, worked out
 *                   from wire_parse's tree with the slow, obvious rules:
 *                   members in order, each occurrence of a known member
 *                   checked, the last one kept, null meaning absent
 *   wck_same_batch() two put_batch results agree
 *
 * Include from a test or fuzz.c only (everything here is static).
 */
#ifndef SL_TESTS_WIRE_CHECK_H
#define SL_TESTS_WIRE_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "server/putrecords.h"
#include "server/wire.h"

static inline bool
wck_equal(const struct wire_value *a, const struct wire_value *b)
{
    if (a->type != b->type || a->tagged != b->tagged || a->tag != b->tag)
        return false;
    switch (a->type) {
    case WIRE_NULL:
        return true;
    case WIRE_BOOL:
        return a->u.b == b->u.b;
    case WIRE_INT:
        return a->u.i == b->u.i;
    case WIRE_FLOAT:
        if (isnan(a->u.f) || isnan(b->u.f))
            return isnan(a->u.f) && isnan(b->u.f);
        return a->u.f == b->u.f && signbit(a->u.f) == signbit(b->u.f);
    case WIRE_STRING:
    case WIRE_BYTES:
        return a->u.s.n == b->u.s.n && (a->u.s.n == 0 || memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0);
    case WIRE_ARRAY:
        if (a->u.a.n != b->u.a.n)
            return false;
        for (size_t i = 0; i < a->u.a.n; i++)
            if (!wck_equal(&a->u.a.items[i], &b->u.a.items[i]))
                return false;
        return true;
    case WIRE_MAP:
        if (a->u.m.n != b->u.m.n)
            return false;
        for (size_t i = 0; i < a->u.m.n; i++) {
            const struct wire_member *x = &a->u.m.members[i], *y = &b->u.m.members[i];

            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !wck_equal(&x->value, &y->value))
                return false;
        }
        return true;
    }
    return false;
}

static inline bool
wck_is(const struct wire_member *m, const char *name)
{
    return m->key_len == strlen(name) && memcmp(m->key, name, m->key_len) == 0;
}

/* A string member: 0 and *s set (NULL for null), or -1 for a wrong type. */
static inline int
wck_str(const struct wire_value *v, const char **s, size_t *n)
{
    if (v->type == WIRE_NULL) {
        *s = NULL;
        *n = 0;
        return 0;
    }
    if (v->type != WIRE_STRING)
        return -1;
    *s = v->u.s.p;
    *n = v->u.s.n;
    return 0;
}

static inline int
wck_data(const struct wire_value *v, struct sl_arena *a, struct put_record *rec)
{
    if (v->type == WIRE_NULL) {
        rec->data = NULL;
        rec->data_len = 0;
        return 0;
    }
    if (v->type != WIRE_STRING)
        return -1;
    return wire_blob(v, a, &rec->data, &rec->data_len, NULL) < 0 ? -1 : 0;
}

/* The members of a record object (or of the top, for PutRecord). */
static inline int
wck_rec_member(enum put_shape shape, const struct wire_member *m, struct sl_arena *a,
               struct put_record *rec)
{
    bool kinesis = shape == PUT_KINESIS_RECORDS || shape == PUT_KINESIS_RECORD;

    if (wck_is(m, "Data"))
        return wck_data(&m->value, a, rec);
    if (kinesis && wck_is(m, "PartitionKey"))
        return wck_str(&m->value, &rec->pk, &rec->pk_len);
    if (kinesis && wck_is(m, "ExplicitHashKey"))
        return wck_str(&m->value, &rec->ehk, &rec->ehk_len);
    return 0;
}

static inline int
wck_record(enum put_shape shape, const struct wire_value *v, struct sl_arena *a,
           struct put_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (v->type != WIRE_MAP)
        return -1;
    for (size_t i = 0; i < v->u.m.n; i++)
        if (wck_rec_member(shape, &v->u.m.members[i], a, rec) < 0)
            return -1;
    return 0;
}

/* What putrecords_parse must give; -1 where it must refuse.  b->recs and
 * b->cap are the caller's; strings point into the tree or the arena. */
static inline int
wck_oracle(enum put_shape shape, const struct wire_value *root, struct sl_arena *a,
           struct put_batch *b)
{
    struct put_record spare;

    b->stream_name = b->stream_arn = b->seq_for_ordering = NULL;
    b->stream_name_len = b->stream_arn_len = b->seq_for_ordering_len = 0;
    b->n = 0;
    b->has_records = false;
    if (root->type != WIRE_MAP)
        return -1;
    if (shape == PUT_KINESIS_RECORD) {
        memset(b->cap > 0 ? &b->recs[0] : &spare, 0, sizeof(spare));
        b->n = 1;
        b->has_records = true;
    }
    for (size_t i = 0; i < root->u.m.n; i++) {
        const struct wire_member *m = &root->u.m.members[i];
        const struct wire_value *v = &m->value;
        bool kinesis = shape == PUT_KINESIS_RECORDS || shape == PUT_KINESIS_RECORD;
        int rc = 0;

        if (kinesis && wck_is(m, "StreamName")) {
            rc = wck_str(v, &b->stream_name, &b->stream_name_len);
        } else if (kinesis && wck_is(m, "StreamARN")) {
            rc = wck_str(v, &b->stream_arn, &b->stream_arn_len);
        } else if (!kinesis && wck_is(m, "DeliveryStreamName")) {
            rc = wck_str(v, &b->stream_name, &b->stream_name_len);
        } else if (shape == PUT_KINESIS_RECORD) {
            if (wck_is(m, "SequenceNumberForOrdering"))
                rc = wck_str(v, &b->seq_for_ordering, &b->seq_for_ordering_len);
            else
                rc = wck_rec_member(shape, m, a, b->cap > 0 ? &b->recs[0] : &spare);
        } else if (shape != PUT_FIREHOSE_RECORD && wck_is(m, "Records")) {
            b->n = 0;
            b->has_records = v->type != WIRE_NULL;
            if (v->type == WIRE_NULL)
                continue;
            if (v->type != WIRE_ARRAY)
                return -1;
            for (size_t k = 0; k < v->u.a.n; k++) {
                if (wck_record(shape, &v->u.a.items[k], a, k < b->cap ? &b->recs[k] : &spare) < 0)
                    return -1;
            }
            b->n = v->u.a.n;
        } else if (shape == PUT_FIREHOSE_RECORD && wck_is(m, "Record")) {
            b->n = v->type == WIRE_NULL ? 0 : 1;
            b->has_records = b->n == 1;
            if (b->n == 1)
                rc = wck_record(shape, v, a, b->cap > 0 ? &b->recs[0] : &spare);
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

static inline bool
wck_same_str(const void *a, size_t an, const void *b, size_t bn)
{
    if ((a == NULL) != (b == NULL) || an != bn)
        return false;
    return an == 0 || memcmp(a, b, an) == 0;
}

static inline bool
wck_same_batch(const struct put_batch *x, const struct put_batch *y)
{
    if (x->n != y->n || x->has_records != y->has_records ||
        !wck_same_str(x->stream_name, x->stream_name_len, y->stream_name, y->stream_name_len) ||
        !wck_same_str(x->stream_arn, x->stream_arn_len, y->stream_arn, y->stream_arn_len) ||
        !wck_same_str(x->seq_for_ordering, x->seq_for_ordering_len, y->seq_for_ordering,
                      y->seq_for_ordering_len))
        return false;
    for (size_t i = 0; i < x->n && i < x->cap && i < y->cap; i++) {
        const struct put_record *a = &x->recs[i], *b = &y->recs[i];

        if (!wck_same_str(a->pk, a->pk_len, b->pk, b->pk_len) ||
            !wck_same_str(a->ehk, a->ehk_len, b->ehk, b->ehk_len) ||
            !wck_same_str(a->data, a->data_len, b->data, b->data_len))
            return false;
    }
    return true;
}

#endif
