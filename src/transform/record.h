/*
 * record.h - between the readers of raw formats and the row builder.
 *
 * A reader (CSV, JSON lines, JSON array, Avro) walks a raw object and, for
 * each record, tells the row builder (struct rows, rows.c):
 *
 *     rows_begin(r, position)          a record starts at line/record N
 *     rows_field(r, col, &value)       one field, by contract column index
 *     rows_end(r, text, len)           the record is complete; its text
 *     rows_reject(r, text, len, ...)   the record cannot be read at all
 *
 * rows_field() coerces the value to the column's type at once, into the
 * columnar buffers; a value that does not fit fails the record, which
 * rows_end() then sends to quarantine with the field and the reason.  The
 * reader never allocates per record: values point into the raw bytes.
 */
#ifndef SL_TRANSFORM_RECORD_H
#define SL_TRANSFORM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a reader found for a field. */
enum rec_kind {
    REC_NULL,    /* JSON null, empty CSV field, Avro null */
    REC_TEXT,    /* CSV text: coerced by parsing it as the column's type */
    REC_STRING,  /* JSON or Avro string (already unescaped, valid UTF-8) */
    REC_NUMBER,  /* JSON number token text */
    REC_BOOL,    /* JSON / Avro boolean in .b */
    REC_NESTED,  /* JSON object or array (raw text) */
    REC_INT,     /* Avro int or long in .i */
    REC_DOUBLE,  /* Avro float or double in .f */
    REC_DATE,    /* Avro date (days) in .i */
    REC_TIMESTAMP, /* Avro timestamp (microseconds) in .i */
    REC_DECIMAL, /* Avro decimal: unscaled .dec with .scale */
    REC_BYTES,   /* Avro bytes or fixed (raw, maybe not UTF-8) */
};

struct rec_value {
    enum rec_kind kind;
    const char *s;   /* TEXT, STRING, NUMBER, NESTED, BYTES */
    size_t len;
    bool quoted;     /* CSV: the field was quoted ("" is an empty string) */
    bool b;
    int64_t i;
    double f;
    __int128 dec;
    int scale;
};

/* Where a record sits in its raw object, for quarantine. */
struct rec_pos {
    int64_t line;    /* 1-based line where it starts; 0 if not line-based */
    int64_t record;  /* 1-based record number in the object */
};

#endif
