/*
 * rows.h - the row builder: validated, typed columns in memory.
 *
 * One struct rows holds the rows read from one range of one raw object,
 * column by column in the layout the engine wants (int64/double/int32
 * arrays, byte booleans, string slices), plus for each row its event time,
 * position, key and a fingerprint of its content.  Records that fail their
 * contract do not become rows: they are kept, with field and reason, in the
 * quarantine list.  See record.h for how readers drive it.
 *
 * Strings are slices: into the raw object's bytes where the value needed no
 * unescaping (the object stays mapped until the run ends), or into the
 * rows' arena.
 *
 * Invariant: records_in == n + nquarantined after every rows_end() and
 * rows_reject().
 */
#ifndef SL_TRANSFORM_ROWS_H
#define SL_TRANSFORM_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "project/contract.h"
#include "transform/record.h"

struct rows_object {
    int64_t seq;                /* catalog seq: arrival order */
    const char *object_id;
    const char *key;            /* store key */
    const char *original_name;
    const struct contract *contract;
    int64_t arrived_at;         /* microseconds */
    bool line_based;            /* positions are lines (CSV, JSON lines) */
};

struct rows_str {
    const char *p;
    uint32_t len;
};

/* One column's values; only the array for the column's type is used. */
struct rows_col {
    struct sl_type type;
    uint8_t *null;              /* 1 where the value is NULL */
    int64_t *i64;               /* int64, timestamp (us), decimal p <= 18 */
    __int128 *i128;             /* decimal p > 18 */
    double *f64;
    int32_t *i32;               /* date (days) */
    uint8_t *b;                 /* bool */
    struct rows_str *str;       /* string */
};

/* A record that failed. */
struct rows_bad {
    struct rec_pos pos;
    const char *field;          /* NULL if not about one field */
    const char *reason;
    const char *text;           /* the record as it arrived (maybe cut) */
    size_t len;
    bool truncated;             /* text is the first max_record_bytes */
};

/*
 * Schema drift (see transform/drift.c): per field name and kind, how many
 * records of the range carry a field their contract version does not
 * declare (unknown), or lack a required one (missing), with the first such
 * record as the example.  A small open-addressed table, made on first use,
 * so a range without drift costs nothing.
 */
enum rows_drift_kind {
    ROWS_DRIFT_UNKNOWN,
    ROWS_DRIFT_MISSING,
};

#define ROWS_DRIFT_MAX 1024      /* distinct (field, kind) kept per range */
#define ROWS_DRIFT_NAME 256      /* bytes of a field name kept */
#define ROWS_DRIFT_EXAMPLE 100   /* bytes of an example value kept */

struct rows_drift {
    const char *field;          /* in the rows' arena, cut to ROWS_DRIFT_NAME */
    uint32_t len;
    enum rows_drift_kind kind;
    uint64_t hash;
    int64_t records;            /* records counted */
    int64_t last;               /* records_in of the last one: once a record */
    struct rec_pos example;     /* where the first is */
    const char *text;           /* unknown: its value there as JSON text, cut
                                 * to ROWS_DRIFT_EXAMPLE (then "..."), or NULL */
};

/* The seed of rows' second key hash (key_hash2; key files keep it). */
#define ROWS_KEY_SEED2 0x5d1c3b2a09f8e7d6ULL

struct rows {
    const struct rows_object *obj;
    const struct contract *contract;
    size_t ncols;
    int64_t max_record_bytes;
    bool drift_only;            /* keep no rows, coerce nothing: count records,
                                 * quarantine and drift (reader_drift()) */

    size_t n, cap;              /* rows kept, rows allocated */
    struct rows_col *cols;      /* contract->ncolumns */
    uint64_t *seeds;            /* per column: hash seed from its name */
    int64_t *ev;                /* event time, microseconds */
    int64_t *pos;               /* line (line-based formats) or record number */
    uint64_t *row_hash;         /* fingerprint of the values */
    struct rows_str *key;       /* canonical key bytes */
    uint64_t *key_hash;
    uint64_t *key_hash2;        /* seeded ROWS_KEY_SEED2: a second, independent hash */

    int64_t records_in;
    size_t nbad, badcap;
    struct rows_bad *bad;

    struct sl_arena arena;      /* copied strings, keys, quarantine text */

    struct rows_drift *drift;   /* schema drift, NULL until there is some */
    size_t ndrift, driftcap;
    int32_t *drift_slot;        /* index + 1 into drift, 0 empty */
    size_t drift_mask;          /* slots - 1 */

    /* The record being built. */
    struct rec_pos cur;
    uint64_t present[CONTRACT_MAX_COLUMNS / 64];
    const char *fail_field;
    const char *fail_reason;
};

void rows_init(struct rows *r, const struct rows_object *obj, int64_t max_record_bytes);
void rows_release(struct rows *r);

/* Room for n rows at once, when the reader knows how many records come:
 * the columns then grow no more (each growth copies them, and faults in
 * pages anew). */
void rows_reserve(struct rows *r, size_t n);
void rows_begin(struct rows *r, struct rec_pos pos);
/*
 * Set column col of the current record.  If the value's bytes are not
 * stable (they live in the reader's scratch space), pass stable=false and
 * they are copied.
 */
void rows_field(struct rows *r, int col, const struct rec_value *v, bool stable);
/* Fail the current record (first failure wins); reason is formatted into
 * the arena. */
void rows_fail(struct rows *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether the current record has failed already (readers may skip work). */
static inline bool
rows_failed(const struct rows *r)
{
    return r->fail_reason != NULL;
}
/* Run the end-of-record checks (required fields, size) early, so a reader
 * can tell whether it needs the record's text for quarantine. */
void rows_check(struct rows *r);
/* Finish the current record: keep it as a row, or quarantine it. */
void rows_end(struct rows *r, const char *text, size_t len);
/* A record that could not be read at all, counted and quarantined. */
void rows_reject(struct rows *r, struct rec_pos pos, const char *text, size_t len,
                 const char *field, const char *reason);

/*
 * Schema drift.  rows_drift_find() gives the index of entry (kind, name),
 * made if new (the name is copied), or -1 once ROWS_DRIFT_MAX entries are
 * kept; an index stays valid for the rows' life.  rows_drift_count()
 * counts the current record (between rows_begin() and rows_end()) under
 * entry i, once however often it is called for the record, and returns
 * whether the entry wants its example: then the reader passes the value's
 * text to rows_drift_example() (quote: write it as a JSON string; else it
 * is JSON text already).  Missing required fields are counted by
 * rows_check() itself.
 */
int rows_drift_find(struct rows *r, enum rows_drift_kind kind, const char *name, size_t len);
static inline bool
rows_drift_count(struct rows *r, int i)
{
    struct rows_drift *e = &r->drift[i];

    if (e->records > 0 && e->last == r->records_in)
        return false;
    e->last = r->records_in;
    if (e->records++ > 0)
        return false;
    e->example = r->cur;
    return e->kind == ROWS_DRIFT_UNKNOWN;
}
void rows_drift_example(struct rows *r, int i, const char *text, size_t len, bool quote);

/*
 * Iceberg's bucket[n] (n > 0) of row's value of column col: the bucket
 * hash of the value as the rows hold it - an int64 and a timestamp's
 * microseconds as longs, a date's days, a decimal's unscaled value, a
 * string's bytes - with the sign bit cleared, modulo n.  The value must
 * not be NULL, and the column's type one that Iceberg buckets (not bool
 * or double).
 */
int32_t rows_bucket(const struct rows *r, int col, size_t row, int32_t n);

/* Key encoding shared with the scan of existing rows (see key.c). */
struct sl_buf;
void key_add_int(struct sl_buf *b, __int128 v, struct sl_type t);
void key_add_double(struct sl_buf *b, double v);
void key_add_str(struct sl_buf *b, const char *p, size_t len, bool last);

/* Fingerprint of one non-null value: seeded by its column's name, and a
 * row's fingerprint is the sum over its non-null values. */
uint64_t rows_name_seed(const char *name);
uint64_t rows_value_hash(uint64_t seed, const void *p, size_t len);

#endif
