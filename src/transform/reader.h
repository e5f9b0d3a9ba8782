/*
 * reader.h - readers of raw formats into the row builder.
 *
 * Each reader takes the bytes of a raw object (decompressed), or for JSON
 * lines a range of whole lines, and drives struct rows (record.h).  Bad
 * records are quarantined through rows; the readers themselves only fail
 * for reasons outside the data.
 */
#ifndef SL_TRANSFORM_READER_H
#define SL_TRANSFORM_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/diag.h"
#include "core/hash.h"
#include "project/contract.h"
#include "transform/rows.h"

/* Column lookup by name, built once per contract version. */
struct colmap {
    size_t mask;        /* slots - 1 */
    int16_t *slot;      /* column index + 1, 0 empty */
    const struct contract *c;
    uint16_t *len;      /* length of each column's name */
    int16_t guess[64];  /* the column last seen at each field position, or -1 */
};

void colmap_init(struct colmap *m, const struct contract *c);
void colmap_release(struct colmap *m);
/* Column index of name[0..len), or -1. */
int colmap_find(const struct colmap *m, const char *name, size_t len);
/*
 * The same for the field at position pos of a record: records of one
 * object usually list their fields in one order, so the column found at pos
 * last time is tried first, with one comparison instead of a hash.  Not
 * thread-safe: one colmap per reader.
 */
static inline int
colmap_find_at(struct colmap *m, size_t pos, const char *name, size_t len)
{
    int col;

    if (pos < 64) {
        col = m->guess[pos];
        if (col >= 0 && m->len[col] == len && sl_bytes_eq(m->c->columns[col].name, name, len))
            return col;
    }
    col = colmap_find(m, name, len);
    if (pos < 64)
        m->guess[pos] = (int16_t)col;
    return col;
}

/* JSON lines: data holds whole lines; the first is line number first_line
 * and record number first_record. */
int read_jsonl(struct rows *r, struct colmap *m, const char *data, size_t len,
               int64_t first_line, int64_t first_record);
/* A JSON array of objects. */
int read_json_array(struct rows *r, struct colmap *m, const char *data, size_t len);
/* CSV with a header line. */
int read_csv(struct rows *r, const struct colmap *m, const char *data, size_t len);
/* Cap avro-c's allocations during read_avro() (process-wide; call once
 * before readers run, as the transform does). */
void read_avro_install_allocator(void);
/* An Avro object container file. */
int read_avro(struct rows *r, const struct colmap *m, const char *data, size_t len,
              struct sl_diag *d);

/*
 * Schema drift of one raw object (transform/drift.c): per field and kind,
 * how many records carry a field the contract version does not declare or
 * lack a required one, with the first such record as the example.
 */
struct reader_drift_field {
    const char *field;
    enum rows_drift_kind kind;
    int64_t records;
    int64_t position;           /* the example: its line (line-based formats)
                                 * or record number */
    const char *example;        /* unknown: the value there as JSON text, cut
                                 * to about 100 bytes; missing: NULL */
};

struct reader_drift {
    struct reader_drift_field *v; /* unknown fields first, then by name */
    size_t n;
    int64_t records;            /* records read */
    bool line_based;            /* positions are lines */
    bool sampled;               /* only the first `records` were read */
    struct sl_arena arena;      /* the strings */
};

void reader_drift_init(struct reader_drift *x);
void reader_drift_release(struct reader_drift *x);
/*
 * Merge the drift of rows[0..n) - the ranges of one object, in order,
 * their positions already the object's - into x (initialised, empty):
 * counts summed, the earliest example kept.
 */
void reader_drift_merge(struct rows *const *rows, size_t n, bool line_based,
                        struct reader_drift *x);
/*
 * Read data[0..len), the decompressed content of an object of format
 * (csv, jsonl, json, avro) or, with cut, its first len bytes, with the
 * readers above against contract c, and report its drift into x
 * (initialised).  A cut object is read up to its last whole line (CSV,
 * JSON lines) or its last whole record, and x->sampled says so.  Fails
 * only for an unknown format or memory for Avro (d says); bad records are
 * not drift and are not reported.
 */
int reader_drift(const struct contract *c, const char *format, const char *data, size_t len,
                 bool cut, struct reader_drift *x, struct sl_diag *d);

/*
 * Check a CSV header against a contract: every required column present,
 * no column twice, and (unless the contract ignores unknown fields) no
 * column the contract does not know.  On failure returns SL_ERR_INPUT with
 * words in d (line 1).  *header_len receives the header's length with its
 * line end.
 */
int csv_check_header(const struct contract *c, const char *data, size_t len,
                     size_t *header_len, struct sl_diag *d);

#endif
