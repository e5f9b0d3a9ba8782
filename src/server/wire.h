/*
 * wire.h - AWS request and response bodies, in JSON and in CBOR.
 *
 * The AWS JSON protocols (awsJson1_0/1_1) and their CBOR variant
 * (application/x-amz-cbor-1.1, sent by the Java SDKs) carry the same shapes.
 * Operations are written once against this interface:
 *
 *   wire_parse()   a body, either format, into a tree of struct wire_value
 *                  allocated in an arena; strings point into the body where
 *                  they need no unescaping (the body must outlive the tree)
 *   wire_blob()    a blob member: base64 text in JSON, a byte string in CBOR
 *   wire_time_ms() a timestamp member: epoch seconds (integer or fraction) in
 *                  JSON, epoch milliseconds (integer), or tag 1 epoch seconds,
 *                  in CBOR
 *   wire_writer    builds a response in the request's format: blobs become
 *                  base64 or byte strings, timestamps epoch seconds or ms
 *
 * JSON is RFC 8259 exactly: any value at the top, no BOM, no trailing
 * commas or comments, strings valid UTF-8 after unescaping (so a lone
 * surrogate escape is an error), duplicate member names kept (wire_get
 * finds the last).  Numbers without fraction or exponent that fit int64_t
 * are WIRE_INT, all others WIRE_FLOAT (1e999 is an infinity, as strtod
 * reads it).
 *
 * CBOR is RFC 8949: all major types, definite and indefinite lengths,
 * half/single/double floats.  Integers beyond int64_t become WIRE_FLOAT;
 * map keys must be text strings; undefined reads as null; other simple
 * values are refused (no AWS shape has them); of nested tags the innermost
 * is kept.  Malformed and truncated input is refused, as is anything after
 * the first item.
 *
 * Parse errors are SL_ERR_INPUT with d saying where (byte offset) and what;
 * the caller turns them into SerializationException.  Nesting is limited to
 * WIRE_MAX_DEPTH.
 */
#ifndef SL_SERVER_WIRE_H
#define SL_SERVER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"

#define WIRE_MAX_DEPTH 64

enum wire_format {
    WIRE_JSON,
    WIRE_CBOR,
};

enum wire_type {
    WIRE_NULL,
    WIRE_BOOL,
    WIRE_INT,    /* fits int64_t */
    WIRE_FLOAT,  /* any other number */
    WIRE_STRING, /* UTF-8, not NUL-terminated */
    WIRE_BYTES,  /* CBOR byte string */
    WIRE_ARRAY,
    WIRE_MAP,
};

struct wire_member;

struct wire_value {
    enum wire_type type;
    bool tagged;  /* CBOR: a tag precedes the value (tag 0 is a real tag) */
    uint64_t tag; /* CBOR tag (1 for epoch time); 0 if !tagged */
    union {
        bool b;
        int64_t i;
        double f;
        struct {
            const char *p;
            size_t n;
        } s; /* STRING and BYTES */
        struct {
            struct wire_value *items;
            size_t n;
        } a;
        struct {
            struct wire_member *members;
            size_t n;
        } m;
    } u;
};

struct wire_member {
    const char *key; /* UTF-8, not NUL-terminated */
    size_t key_len;
    struct wire_value value;
};

/* The format a Content-Type names; false if neither. */
bool wire_format_of(const char *content_type, enum wire_format *f);
/* "application/x-amz-json-1.1" or "application/x-amz-cbor-1.1". */
const char *wire_content_type(enum wire_format f);

int wire_parse(enum wire_format f, const char *body, size_t len, struct sl_arena *a,
               struct wire_value *out, struct sl_diag *d);

/* A map member by name, or NULL (also when v or key is absent or v is not
 * a map); of duplicate members the last. */
const struct wire_value *wire_get(const struct wire_value *v, const char *key);
/* Whether a string value equals s. */
bool wire_str_eq(const struct wire_value *v, const char *s);
/* A string value copied into the arena, NUL-terminated; NULL if v is NULL
 * or not a string. */
char *wire_strdup(const struct wire_value *v, struct sl_arena *a);

/* The bytes of a blob: decodes base64 (JSON strings) into the arena, or
 * points at CBOR byte strings.  SL_ERR_INPUT for bad base64 or a wrong type. */
int wire_blob(const struct wire_value *v, struct sl_arena *a, const uint8_t **p, size_t *n,
              struct sl_diag *d);
/*
 * A timestamp as epoch milliseconds, rounded to the nearest; SL_ERR_INPUT
 * for a wrong type or a value out of range.
 *   JSON  a number of epoch seconds, integer or fraction.
 *   CBOR  untagged: epoch milliseconds (integer or float).  Tag 1: epoch
 *         seconds (RFC 8949) - except that an integer of magnitude 1e11 or
 *         more is taken as milliseconds, because the AWS SDK for Java v1
 *         writes tag 1 with Date.getTime(); seconds of interest never get
 *         there (1e11 s is the year 5138) and milliseconds since 1973
 *         always do.  Any other tag is refused.
 */
int wire_time_ms(enum wire_format f, const struct wire_value *v, int64_t *ms,
                 struct sl_diag *d);

/* Base64 (RFC 4648, with padding).  Decoding is strict: no whitespace, no
 * missing padding, no stray bits; out may be in (decoding in place); returns
 * the decoded length or -1. */
size_t base64_encoded_len(size_t n);
void base64_encode(const uint8_t *in, size_t n, char *out);
ptrdiff_t base64_decode(const char *in, size_t n, uint8_t *out);

/*
 * A response body under construction.  Maps and arrays nest; inside a map,
 * every value is preceded by wire_key().  CBOR output uses
 * indefinite-length maps and arrays.
 */
struct wire_writer {
    enum wire_format f;
    struct sl_buf *out;
    int depth;
    bool first[WIRE_MAX_DEPTH]; /* JSON: no comma before the next item */
};

void wire_writer_init(struct wire_writer *w, enum wire_format f, struct sl_buf *out);
void wire_map_begin(struct wire_writer *w);
void wire_map_end(struct wire_writer *w);
void wire_array_begin(struct wire_writer *w);
void wire_array_end(struct wire_writer *w);
void wire_key(struct wire_writer *w, const char *key);
void wire_str(struct wire_writer *w, const char *s, size_t n);
void wire_strz(struct wire_writer *w, const char *s);
void wire_int(struct wire_writer *w, int64_t v);
void wire_bool(struct wire_writer *w, bool v);
void wire_null(struct wire_writer *w);
void wire_bytes(struct wire_writer *w, const void *p, size_t n); /* a blob */
/* A timestamp: JSON epoch seconds with exactly three decimals
 * (1704067200.123, exact, no float rounding); CBOR untagged integer epoch
 * milliseconds. */
void wire_time(struct wire_writer *w, int64_t ms);
/* A float: JSON in the fewest digits that read back the same, always with
 * a '.' or exponent (so it reads back a float); infinities as +-1e999 and
 * NaN as null.  CBOR: a double. */
void wire_float(struct wire_writer *w, double v);
/* A whole tree (a value and, for CBOR, its tag); JSON drops tags and
 * writes byte strings as base64.  Parsing the output gives the same tree. */
void wire_write_value(struct wire_writer *w, const struct wire_value *v);

#endif
