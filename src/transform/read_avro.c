/*
 * read_avro.c - Avro object container files into rows (see reader.h).
 *
 * avro-c reads the container (header, codec, blocks) into generic values.
 * avro-c 1.11 neither exposes logical types nor keeps them when it parses a
 * schema, so they are read from the writer schema's JSON text as stored in
 * the file header ("avro.schema"): per top-level field and, for unions, per
 * branch.
 * Supported: date, timestamp-millis, timestamp-micros (and their local-
 * variants, taken as UTC), decimal on bytes or fixed.
 *
 * Positions are record numbers.  A quarantined record's text is its JSON
 * rendering by avro-c.  A writer-schema field the contract lacks is schema
 * drift in every record, its first value (as JSON) the example.  Corrupt data ends the file: the rest is one
 * quarantined record.
 */
#include "transform/reader.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/utf8.h"
#include "core/yaml.h"
#include "core/banned.h"

#define MAX_BRANCHES 16

/* Dates and timestamps are kept to the years the text parsers accept (0001
 * to 9999, see core/time.h), so that every one can be formatted and turned
 * into microseconds without overflow. */
#define MIN_DAYS (-719162LL) /* 0001-01-01 */
#define MAX_DAYS 2932896LL   /* 9999-12-31 */
#define MIN_USEC (MIN_DAYS * SL_USEC_PER_DAY)
#define MAX_USEC ((MAX_DAYS + 1) * SL_USEC_PER_DAY - 1)

enum logical {
    LOG_NONE,
    LOG_DATE,
    LOG_TS_MILLIS,
    LOG_TS_MICROS,
    LOG_DECIMAL,
};

struct afield {
    int col;                                /* contract column or -1 */
    int drift;                              /* col -1: its rows_drift entry, or -1 */
    enum logical logical[MAX_BRANCHES + 1]; /* [0]: plain type; [1+i]: branch i */
    int scale[MAX_BRANCHES + 1];
};

static void
logical_of(const struct sl_yaml *t, enum logical *lg, int *scale)
{
    const struct sl_yaml *lt, *sc;

    *lg = LOG_NONE;
    *scale = 0;
    if (t == NULL || t->kind != SL_YAML_MAP)
        return;
    lt = sl_yaml_get(t, "logicalType");
    if (lt == NULL || lt->kind != SL_YAML_SCALAR)
        return;
    if (strcmp(lt->str, "date") == 0)
        *lg = LOG_DATE;
    else if (strcmp(lt->str, "timestamp-millis") == 0 ||
             strcmp(lt->str, "local-timestamp-millis") == 0)
        *lg = LOG_TS_MILLIS;
    else if (strcmp(lt->str, "timestamp-micros") == 0 ||
             strcmp(lt->str, "local-timestamp-micros") == 0)
        *lg = LOG_TS_MICROS;
    else if (strcmp(lt->str, "decimal") == 0) {
        *lg = LOG_DECIMAL;
        sc = sl_yaml_get(t, "scale");
        if (sc != NULL && sc->kind == SL_YAML_SCALAR) {
            long v = strtol(sc->str, NULL, 10);

            /* No column has a scale beyond 38; -1 marks a bad one. */
            *scale = v >= 0 && v <= 38 ? (int)v : -1;
        }
    }
}

/* A zigzag varint ("long" in Avro's binary encoding); false if cut. */
static bool
read_long(const unsigned char **p, const unsigned char *end, int64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        unsigned char b = *(*p)++;

        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return false;
}

/*
 * The writer schema's JSON text from the container header: after the magic
 * comes a map of metadata (blocks of count, key, bytes; a negative count is
 * followed by the block's size).  Like avro-c, the last "avro.schema" wins.
 * NULL if there is none.
 */
static const char *
header_schema(const char *data, size_t len, size_t *slen)
{
    const unsigned char *p = (const unsigned char *)data + 4, *end = (const unsigned char *)data + len;
    const char *found = NULL;
    int64_t count, n, vlen;

    if (len < 4)
        return NULL;
    for (;;) {
        if (!read_long(&p, end, &count) || count == INT64_MIN)
            return NULL;
        if (count == 0)
            return found;
        if (count < 0) {
            count = -count;
            if (!read_long(&p, end, &n))
                return NULL;
        }
        for (int64_t i = 0; i < count; i++) {
            const unsigned char *key;

            if (!read_long(&p, end, &n) || n < 0 || n > end - p)
                return NULL;
            key = p;
            p += n;
            if (!read_long(&p, end, &vlen) || vlen < 0 || vlen > end - p)
                return NULL;
            if (n == 11 && memcmp(key, "avro.schema", 11) == 0) {
                found = (const char *)p;
                *slen = (size_t)vlen;
            }
            p += vlen;
        }
    }
}

static int
hex_at(const char *p, const char *end)
{
    int v = 0;

    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];

        v = v * 16 + (c >= '0' && c <= '9'   ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                             : -1000);
    }
    return v < 0 ? -1 : v;
}

/*
 * JSON writes a character beyond U+FFFF as a \u surrogate pair, which YAML
 * (our parser of the schema) refuses; write such pairs as UTF-8 first.
 */
static void
join_surrogates(const char *s, size_t n, struct sl_buf *out)
{
    const char *p = s, *end = s + n;

    while (p < end) {
        int hi, lo;

        if (*p != '\\' || p + 1 >= end) {
            sl_buf_addc(out, *p++);
            continue;
        }
        if (p[1] != 'u' || (hi = hex_at(p + 2, end)) < 0xD800 || hi > 0xDBFF ||
            end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex_at(p + 8, end)) < 0xDC00 ||
            lo > 0xDFFF) {
            sl_buf_add(out, p, 2); /* an escape that stays as it is */
            p += 2;
            continue;
        }
        uint32_t cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        char u[4] = {(char)(0xF0 | cp >> 18), (char)(0x80 | ((cp >> 12) & 0x3F)),
                     (char)(0x80 | ((cp >> 6) & 0x3F)), (char)(0x80 | (cp & 0x3F))};

        sl_buf_add(out, u, 4);
        p += 12;
    }
}

/*
 * Fill in logical types of the fields from the writer schema's JSON.
 * Returns NULL, or why the schema could not be read (then the file must not
 * be read either: its dates would pass for plain numbers).
 */
static const char *
read_logicals(const char *data, size_t len, struct afield *fields, size_t n, struct sl_arena *out)
{
    struct sl_arena a;
    struct sl_yaml *root;
    const struct sl_yaml *list;
    struct sl_buf text;
    struct sl_diag d;
    size_t slen;
    const char *schema = header_schema(data, len, &slen), *why = NULL;

    if (schema == NULL)
        return NULL; /* avro-c found one, or it would not have opened the file */
    sl_arena_init(&a, 0);
    sl_buf_init(&text);
    sl_diag_init(&d);
    join_surrogates(schema, slen, &text);
    if (sl_yaml_parse("schema", text.data, text.len, &a, &root, &d) < 0) {
        why = sl_arena_printf(out, "cannot read the logical types of the Avro writer schema: %s",
                              d.msg);
    } else if ((list = sl_yaml_get(root, "fields")) != NULL && list->kind == SL_YAML_SEQ) {
        for (size_t i = 0; i < list->n && i < n; i++) {
            const struct sl_yaml *t = sl_yaml_get(list->items[i], "type");

            logical_of(t, &fields[i].logical[0], &fields[i].scale[0]);
            if (t != NULL && t->kind == SL_YAML_SEQ)
                for (size_t b = 0; b < t->n && b < MAX_BRANCHES; b++)
                    logical_of(t->items[b], &fields[i].logical[b + 1], &fields[i].scale[b + 1]);
        }
    }
    sl_buf_release(&text);
    sl_arena_release(&a);
    return why;
}

/* Big-endian two's complement bytes to a 128-bit integer. */
static bool
decimal_bytes(const unsigned char *p, size_t n, __int128 *out)
{
    unsigned __int128 v;

    if (n == 0 || n > 16)
        return false;
    v = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    *out = (__int128)v;
    return true;
}

/* Convert an Avro value to a record value; false if it cannot be. */
static bool
convert(avro_value_t *v, enum logical lg, int scale, struct rec_value *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        out->kind = REC_NULL;
        return true;
    case AVRO_BOOLEAN: {
        int b;

        avro_value_get_boolean(v, &b);
        out->kind = REC_BOOL;
        out->b = b != 0;
        return true;
    }
    case AVRO_INT32: {
        int32_t i;

        avro_value_get_int(v, &i);
        if (lg == LOG_DATE && (i < MIN_DAYS || i > MAX_DAYS)) {
            *why = "date out of range (years 0001 to 9999)";
            return false;
        }
        out->kind = lg == LOG_DATE ? REC_DATE : REC_INT;
        out->i = i;
        return true;
    }
    case AVRO_INT64: {
        int64_t i;

        avro_value_get_long(v, &i);
        out->kind = REC_INT;
        out->i = i;
        if (lg == LOG_TS_MICROS) {
            out->kind = REC_TIMESTAMP;
        } else if (lg == LOG_TS_MILLIS) {
            if (i > INT64_MAX / 1000 || i < INT64_MIN / 1000) {
                *why = "timestamp-millis value out of range";
                return false;
            }
            out->kind = REC_TIMESTAMP;
            out->i = i * 1000;
        }
        if (out->kind == REC_TIMESTAMP && (out->i < MIN_USEC || out->i > MAX_USEC)) {
            *why = "timestamp out of range (years 0001 to 9999)";
            return false;
        }
        return true;
    }
    case AVRO_FLOAT: {
        float f;

        avro_value_get_float(v, &f);
        out->kind = REC_DOUBLE;
        out->f = f;
        return true;
    }
    case AVRO_DOUBLE:
        avro_value_get_double(v, &out->f);
        out->kind = REC_DOUBLE;
        return true;
    case AVRO_STRING: {
        const char *s;
        size_t n;

        avro_value_get_string(v, &s, &n);
        if (n > 0)
            n--; /* avro-c counts the terminating NUL */
        if (!sl_utf8_valid(s, n, NULL)) {
            *why = "invalid UTF-8";
            return false;
        }
        out->kind = REC_STRING;
        out->s = s;
        out->len = n;
        return true;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
        const void *p;
        size_t n;

        if (avro_value_get_type(v) == AVRO_BYTES)
            avro_value_get_bytes(v, &p, &n);
        else
            avro_value_get_fixed(v, &p, &n);
        if (lg == LOG_DECIMAL) {
            if (scale < 0) {
                *why = "Avro decimal scale out of range (0 to 38)";
                return false;
            }
            if (!decimal_bytes(p, n, &out->dec)) {
                *why = "Avro decimal wider than 16 bytes";
                return false;
            }
            out->kind = REC_DECIMAL;
            out->scale = scale;
            return true;
        }
        out->kind = REC_BYTES;
        out->s = p;
        out->len = n;
        return true;
    }
    case AVRO_ENUM: {
        int sym;
        avro_schema_t es = avro_value_get_schema(v);

        avro_value_get_enum(v, &sym);
        /* avro-c checks no index on reading, and avro_schema_enum_get()
         * returns garbage for one out of range. */
        if (sym < 0 || sym >= avro_schema_enum_number_of_symbols(es)) {
            *why = "enum symbol out of range";
            return false;
        }
        out->s = avro_schema_enum_get(es, sym);
        if (out->s == NULL) {
            *why = "enum symbol out of range";
            return false;
        }
        out->kind = REC_STRING;
        out->len = strlen(out->s);
        return true;
    }
    default:
        out->kind = REC_NESTED;
        out->s = "{}";
        out->len = 2;
        return true;
    }
}

/*
 * Whether every enum in v, at any depth, has a symbol.  avro-c checks no
 * enum index on reading, and avro_value_to_json() renders one out of range
 * by reading a garbage pointer.
 */
static bool
enums_valid(avro_value_t *v)
{
    avro_value_t child;
    size_t n = 0;
    int sym = -1;

    switch (avro_value_get_type(v)) {
    case AVRO_ENUM:
        avro_value_get_enum(v, &sym);
        return sym >= 0 && sym < avro_schema_enum_number_of_symbols(avro_value_get_schema(v));
    case AVRO_RECORD:
    case AVRO_ARRAY:
    case AVRO_MAP:
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++)
            if (avro_value_get_by_index(v, i, &child, NULL) == 0 && !enums_valid(&child))
                return false;
        return true;
    case AVRO_UNION:
        return avro_value_get_current_branch(v, &child) != 0 || enums_valid(&child);
    default:
        return true;
    }
}

/* The example of drift entry e: field i of record rec as avro-c's JSON. */
static void
drift_example(struct rows *r, avro_value_t *rec, size_t i, int e)
{
    avro_value_t fv;
    char *json = NULL;

    if (avro_value_get_by_index(rec, i, &fv, NULL) == 0 && enums_valid(&fv) &&
        avro_value_to_json(&fv, 1, &json) == 0 && json != NULL)
        rows_drift_example(r, e, json, strlen(json), false);
    free(json);
}

/*
 * avro-c trusts the lengths in the data: a few corrupt bytes can ask it for
 * terabytes.  While a reader runs, single allocations are capped by what an
 * object of its size can honestly need (blocks inflate, so generously);
 * avro-c reports the refusal as an error and the rest of the object is
 * quarantined.
 */
static _Thread_local size_t avro_cap;

static void *
capped_alloc(void *user, void *ptr, size_t osize, size_t nsize)
{
    (void)user;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (avro_cap != 0 && nsize > avro_cap)
        return NULL;
    return realloc(ptr, nsize);
}

void
read_avro_install_allocator(void)
{
    avro_set_allocator(capped_alloc, NULL);
}

int
read_avro(struct rows *r, const struct colmap *m, const char *data, size_t len,
          struct sl_diag *d)
{
    const struct contract *c = m->c;
    FILE *fp;
    avro_file_reader_t reader;
    avro_schema_t ws;
    avro_value_iface_t *iface;
    avro_value_t rec;
    struct afield *fields;
    size_t nf;
    int64_t record = 0;
    int rc;

    avro_cap = len < (SIZE_MAX - (256u << 20)) / 16 ? 16 * len + (256u << 20) : SIZE_MAX;
    fp = len > 0 ? fmemopen((void *)data, len, "rb") : NULL;
    if (fp == NULL || avro_file_reader_fp(fp, "object", 1, &reader) != 0) {
        struct rec_pos pos = {0, 1};

        if (fp == NULL && len > 0)
            return sl_fail(d, -12, "cannot read an Avro object from memory");
        rows_reject(r, pos, data, len, NULL,
                    sl_arena_printf(&r->arena, "not a readable Avro object container file: %s",
                                    len ? avro_strerror() : "it is empty"));
        return 0;
    }
    ws = avro_file_reader_get_writer_schema(reader);
    if (avro_typeof(ws) != AVRO_RECORD) {
        struct rec_pos pos = {0, 1};

        rows_reject(r, pos, data, len, NULL,
                    "the Avro schema is not a record; sluice reads records only");
        avro_schema_decref(ws);
        avro_file_reader_close(reader);
        return 0;
    }
    nf = avro_schema_record_size(ws);
    fields = sl_calloc(nf ? nf : 1, sizeof(*fields));
    for (size_t i = 0; i < nf; i++) {
        const char *name = avro_schema_record_field_name(ws, (int)i);

        fields[i].col = colmap_find(m, name, strlen(name));
        fields[i].drift = fields[i].col < 0
                              ? rows_drift_find(r, ROWS_DRIFT_UNKNOWN, name, strlen(name))
                              : -1;
    }
    const char *schema_why = read_logicals(data, len, fields, nf, &r->arena);

    if (schema_why != NULL) {
        struct rec_pos pos = {0, 1};

        rows_reject(r, pos, data, len, NULL, schema_why);
        free(fields);
        avro_schema_decref(ws);
        avro_file_reader_close(reader);
        return 0;
    }
    iface = avro_generic_class_from_schema(ws);
    avro_generic_value_new(iface, &rec);

    while ((rc = avro_file_reader_read_value(reader, &rec)) == 0) {
        struct rec_pos pos = {0, ++record};

        rows_begin(r, pos);
        for (size_t i = 0; i < nf; i++) {
            avro_value_t fv, branch, *val = &fv;
            struct rec_value v;
            const char *why = NULL;
            int disc = -1;

            if (fields[i].col < 0) {
                if (fields[i].drift >= 0 && rows_drift_count(r, fields[i].drift))
                    drift_example(r, &rec, i, fields[i].drift);
                if (c->unknown_fields == CONTRACT_UNKNOWN_REJECT)
                    rows_fail(r, NULL, "unknown field \"%s\" (not in contract version %s)",
                              avro_schema_record_field_name(ws, (int)i), c->version);
                continue;
            }
            avro_value_get_by_index(&rec, i, &fv, NULL);
            if (avro_value_get_type(&fv) == AVRO_UNION) {
                avro_value_get_discriminant(&fv, &disc);
                avro_value_get_current_branch(&fv, &branch);
                val = &branch;
            }
            int li = disc >= 0 && disc < MAX_BRANCHES ? disc + 1 : 0;

            if (!convert(val, fields[i].logical[li], fields[i].scale[li], &v, &why)) {
                rows_fail(r, c->columns[fields[i].col].name, "%s", why);
                continue;
            }
            /* avro-c reuses the value's memory for the next record. */
            rows_field(r, fields[i].col, &v, false);
        }
        rows_check(r);
        if (rows_failed(r)) {
            char *json = NULL;
            const char *text = "";

            if (enums_valid(&rec) && avro_value_to_json(&rec, 1, &json) == 0 && json != NULL)
                text = sl_arena_strdup(&r->arena, json);
            free(json);
            rows_end(r, text, strlen(text));
        } else {
            rows_end(r, NULL, 0);
        }
        avro_value_reset(&rec);
    }
    if (rc != EOF) {
        struct rec_pos pos = {0, record + 1};

        rows_reject(r, pos, "", 0, NULL,
                    sl_arena_printf(&r->arena, "the Avro data is corrupt from record %lld on: "
                                    "%s", (long long)(record + 1), avro_strerror()));
    }
    avro_value_decref(&rec);
    avro_value_iface_decref(iface);
    avro_schema_decref(ws); /* avro_file_reader_get_writer_schema() took a reference */
    avro_file_reader_close(reader);
    free(fields);
    return 0;
}
