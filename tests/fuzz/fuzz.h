/*
 * fuzz.h - what the reader targets (json, csv, avro) share.
 *
 * A fixed contract with one column of every type, in two variants so that
 * every input exercises both sides of each contract switch:
 *
 *   strict  unknown fields are rejected; the key is the single string
 *           column order_id; the event time is the timestamp updated_at;
 *           only the key and the event time are required; records up to
 *           1 MiB.
 *   loose   unknown fields are ignored; every column but note is required
 *           and part of the key (so every key encoding is reached); the
 *           event time is the date order_date; records up to 256 bytes, so
 *           the size limit and cut quarantine text are reached too.
 *
 * fz_check() then walks what a reader produced and abort()s on anything
 * that breaks the row builder's promises, reading every byte of every
 * slice on the way so the sanitizers see a slice that points where it must
 * not.  Include this header from a target's fuzz.c only.
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/time.h"
#include "core/utf8.h"
#include "project/contract.h"

#include "fz_assert.h"
#include "transform/reader.h"
#include "transform/rows.h"

enum {
    FZ_ORDER_ID,   /* string */
    FZ_QUANTITY,   /* int64 */
    FZ_WEIGHT,     /* double */
    FZ_PAID,       /* bool */
    FZ_ORDER_DATE, /* date */
    FZ_UPDATED_AT, /* timestamp */
    FZ_AMOUNT,     /* decimal(12,2): an int64 column */
    FZ_BALANCE,    /* decimal(30,4): an __int128 column */
    FZ_NOTE,       /* string, never required */
    FZ_NCOLS
};

struct fz_variant {
    const char *name;
    struct contract contract;
    struct contract_column columns[FZ_NCOLS];
    int64_t max_record_bytes;
};

/* Written to by fz_touch() so the reads it makes cannot be optimised out. */
static volatile uint64_t fz_sink;

static inline void
fz_build(struct fz_variant *v, bool loose)
{
    static const struct {
        const char *name;
        struct sl_type type;
    } cols[FZ_NCOLS] = {
        {"order_id", {SL_TYPE_STRING, 0, 0}}, {"quantity", {SL_TYPE_INT64, 0, 0}},
        {"weight", {SL_TYPE_DOUBLE, 0, 0}},   {"paid", {SL_TYPE_BOOL, 0, 0}},
        {"order_date", {SL_TYPE_DATE, 0, 0}}, {"updated_at", {SL_TYPE_TIMESTAMP, 0, 0}},
        {"amount", {SL_TYPE_DECIMAL, 12, 2}}, {"balance", {SL_TYPE_DECIMAL, 30, 4}},
        {"note", {SL_TYPE_STRING, 0, 0}},
    };
    struct contract *c = &v->contract;

    memset(v, 0, sizeof(*v));
    v->name = loose ? "loose" : "strict";
    for (int i = 0; i < FZ_NCOLS; i++) {
        v->columns[i].name = cols[i].name;
        v->columns[i].type = cols[i].type;
        v->columns[i].line = i + 1;
        if (loose)
            v->columns[i].required = i != FZ_NOTE;
        else
            v->columns[i].required = i == FZ_ORDER_ID || i == FZ_UPDATED_AT;
    }
    c->version = loose ? "2.1" : "1.0";
    c->major = loose ? 2 : 1;
    c->minor = loose ? 1 : 0;
    c->ncolumns = FZ_NCOLS;
    c->columns = v->columns;
    if (loose) {
        for (int i = 0; i < FZ_NOTE; i++)
            c->key[c->nkey++] = i;
        c->event_time = FZ_ORDER_DATE;
        c->unknown_fields = CONTRACT_UNKNOWN_IGNORE;
        v->max_record_bytes = 256;
    } else {
        c->key[c->nkey++] = FZ_ORDER_ID;
        c->event_time = FZ_UPDATED_AT;
        c->unknown_fields = CONTRACT_UNKNOWN_REJECT;
        v->max_record_bytes = 1 << 20;
    }
    c->line = 1;
}

/* The two variants, built once; they live in static storage for the
 * process, so the leak checker has nothing to say about them. */
static inline const struct fz_variant *
fz_variant(int i)
{
    static struct fz_variant v[2];
    static bool built;

    if (!built) {
        fz_build(&v[0], false);
        fz_build(&v[1], true);
        built = true;
    }
    return &v[i];
}

static inline void
fz_object(struct rows_object *o, const struct fz_variant *v, bool line_based)
{
    memset(o, 0, sizeof(*o));
    o->seq = 42;
    o->object_id = "0123456789abcdef";
    o->key = "raw/orders/dt=2026-01-15/0123456789abcdef";
    o->original_name = "orders.in";
    o->contract = &v->contract;
    o->arrived_at = 1768435200000000LL;
    o->line_based = line_based;
}

static inline void
fz_touch(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0;

    FZ_ASSERT(n == 0 || p != NULL);
    for (size_t i = 0; i < n; i++)
        h = h * 31 + s[i];
    fz_sink += h;
}

/* 10^p as a 128-bit integer, p <= 38. */
static inline __int128
fz_pow10(int p)
{
    __int128 v = 1;

    for (int i = 0; i < p; i++)
        v *= 10;
    return v;
}

/* Check one kept value of column k at row i. */
static inline void
fz_check_value(const struct rows *r, size_t k, size_t i)
{
    const struct rows_col *c = &r->cols[k];

    switch (c->type.id) {
    case SL_TYPE_STRING:
        fz_touch(c->str[i].p, c->str[i].len);
        /* Every path into a string column checks UTF-8. */
        FZ_ASSERT(sl_utf8_valid(c->str[i].p, c->str[i].len, NULL));
        break;
    case SL_TYPE_INT64:
    case SL_TYPE_TIMESTAMP:
        fz_touch(&c->i64[i], sizeof(c->i64[i]));
        break;
    case SL_TYPE_DOUBLE:
        FZ_ASSERT(isfinite(c->f64[i]));
        break;
    case SL_TYPE_BOOL:
        FZ_ASSERT(c->b[i] <= 1);
        break;
    case SL_TYPE_DATE:
        fz_touch(&c->i32[i], sizeof(c->i32[i]));
        break;
    case SL_TYPE_DECIMAL: {
        /* No more digits than the precision allows. */
        __int128 lim = fz_pow10(c->type.precision);

        if (c->type.precision <= 18)
            FZ_ASSERT(c->i64[i] < lim && c->i64[i] > -lim);
        else
            FZ_ASSERT(c->i128[i] < lim && c->i128[i] > -lim);
        break;
    }
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT:
        FZ_ASSERT(!"a contract has no int or float column");
        break;
    }
}

/*
 * Check everything a reader left in r.  data[0..size) was its input; if
 * text_in_input, a quarantined record's text must be a slice of it (the
 * text readers point into the raw object, which stays mapped).
 */
static inline void
fz_check(const struct rows *r, const struct fz_variant *v, const uint8_t *data, size_t size,
         bool text_in_input)
{
    const struct contract *c = &v->contract;
    int64_t last_pos = 0, last_record = 0, last_line = 0;

    FZ_ASSERT(r->records_in >= 0);
    FZ_ASSERT((uint64_t)r->records_in == r->n + r->nbad);
    FZ_ASSERT(r->n <= r->cap);
    FZ_ASSERT(r->nbad <= r->badcap);
    for (size_t i = 0; i < r->n; i++) {
        const struct rows_col *ev = &r->cols[c->event_time];

        /* Positions are 1-based and grow with the reading. */
        FZ_ASSERT(r->pos[i] > last_pos);
        last_pos = r->pos[i];
        for (size_t k = 0; k < r->ncols; k++) {
            FZ_ASSERT(r->cols[k].null[i] <= 1);
            if (c->columns[k].required)
                FZ_ASSERT(r->cols[k].null[i] == 0);
            if (!r->cols[k].null[i])
                fz_check_value(r, k, i);
        }
        if (ev->type.id == SL_TYPE_DATE)
            FZ_ASSERT(r->ev[i] == (int64_t)ev->i32[i] * SL_USEC_PER_DAY);
        else
            FZ_ASSERT(r->ev[i] == ev->i64[i]);
        fz_touch(r->key[i].p, r->key[i].len);
        FZ_ASSERT(r->key_hash[i] == sl_hash64(r->key[i].p, r->key[i].len, 0));
        if (c->nkey == 1 && r->cols[c->key[0]].type.id == SL_TYPE_STRING) {
            const struct rows_str *s = &r->cols[c->key[0]].str[i];

            FZ_ASSERT(r->key[i].len == s->len);
            FZ_ASSERT(memcmp(r->key[i].p, s->p, s->len) == 0);
        }
        fz_touch(&r->row_hash[i], sizeof(r->row_hash[i]));
    }
    for (size_t i = 0; i < r->nbad; i++) {
        const struct rows_bad *b = &r->bad[i];

        /* Record numbers are 1-based and never repeat. */
        FZ_ASSERT(b->pos.record > last_record);
        last_record = b->pos.record;
        if (r->obj->line_based) {
            FZ_ASSERT(b->pos.line >= 1 && b->pos.line >= last_line);
            last_line = b->pos.line;
        }
        FZ_ASSERT(b->reason != NULL && b->reason[0] != '\0');
        fz_touch(b->reason, strlen(b->reason));
        /* The reason goes into the quarantine file as a JSON string. */
        FZ_ASSERT(sl_utf8_valid(b->reason, strlen(b->reason), NULL));
        if (b->field != NULL)
            FZ_ASSERT(contract_column_index(c, b->field) >= 0);
        FZ_ASSERT((int64_t)b->len <= r->max_record_bytes);
        FZ_ASSERT(!b->truncated || (int64_t)b->len == r->max_record_bytes);
        fz_touch(b->text, b->len);
        if (text_in_input && b->len > 0)
            FZ_ASSERT((const uint8_t *)b->text >= data &&
                      (const uint8_t *)b->text + b->len <= data + size);
    }
}

#endif
