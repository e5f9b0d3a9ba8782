/*
 * manifest.c - Iceberg v2 manifests and manifest lists as Avro object
 * container files (see manifest.h).
 *
 * avro-c encodes and decodes the records, but it cannot write the file
 * header Iceberg needs: its writer offers no key-value metadata, and it
 * writes "avro.schema" back from its parsed schema, which has dropped every
 * attribute it does not know ("field-id", "element-id", "logicalType").
 * Readers resolve fields by those ids, so this file frames the container
 * itself and writes our schema text verbatim:
 *
 *   "Obj" 0x01
 *   map<string, bytes>   avro.schema, avro.codec ("deflate"), Iceberg's keys
 *   sync[16]             random
 *   blocks               long count, long size, size bytes (raw deflate of
 *                        count records that avro-c encoded), sync[16]
 *
 * Reading goes the other way: avro-c opens the container and decodes
 * records of the writer's schema; fields are found by name in that schema
 * and their types checked once, before any record is read.  What avro-c
 * forgets (partition field ids and logical types) is read from the
 * "avro.schema" text of the header.
 *
 * The manifest entry, v2 (Java's field order; "?" = union with null,
 * default null):
 *
 *   manifest_entry
 *     0 status int                  1 snapshot_id long?
 *     3 sequence_number long?       4 file_sequence_number long?
 *     2 data_file r2
 *         134 content int           100 file_path string
 *         101 file_format string    102 partition r102 (partition fields?)
 *         103 record_count long     104 file_size_in_bytes long
 *         108 column_sizes      map<117 int, 118 long>?
 *         109 value_counts      map<119 int, 120 long>?
 *         110 null_value_counts map<121 int, 122 long>?
 *         137 nan_value_counts  map<138 int, 139 long>?
 *         125 lower_bounds      map<126 int, 127 bytes>?
 *         128 upper_bounds      map<129 int, 130 bytes>?
 *         131 key_metadata bytes?   132 split_offsets list<133 long>?
 *         135 equality_ids list<136 int>?   140 sort_order_id int?
 *         143 referenced_data_file string?
 *
 * Int-keyed maps are arrays of records k<key>_v<value> {key, value} with
 * logicalType "map".  The manifest list row:
 *
 *   manifest_file
 *     500 manifest_path string      501 manifest_length long
 *     502 partition_spec_id int     517 content int
 *     515 sequence_number long      516 min_sequence_number long
 *     503 added_snapshot_id long
 *     504 added_files_count int     505 existing_files_count int
 *     506 deleted_files_count int   512 added_rows_count long
 *     513 existing_rows_count long  514 deleted_rows_count long
 *     507 partitions list<508 r508 {509 contains_null boolean,
 *             518 contains_nan boolean?, 510 lower_bound bytes?,
 *             511 upper_bound bytes?}>?
 *     519 key_metadata bytes?
 *
 * No v1 field (105, 106, 107, 111) and no v3 field (142, 144-146, 520) is
 * written.
 */
#include "table/manifest.h"

#include <avro.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/yaml.h"
#include "core/banned.h"

#define MF_BLOCK_BYTES (1u << 20)     /* records per block: about this much */
#define MF_MAX_FILE ((size_t)1 << 30) /* the largest manifest read */

/* ------------------------------------------------------------------ */
/* Schemas                                                              */
/* ------------------------------------------------------------------ */

/* Positions of the fields in the schemas below. */
enum { E_STATUS, E_SNAPSHOT_ID, E_SEQ, E_FILE_SEQ, E_DATA_FILE };
enum {
    D_CONTENT,
    D_FILE_PATH,
    D_FILE_FORMAT,
    D_PARTITION,
    D_RECORD_COUNT,
    D_FILE_SIZE,
    D_COLUMN_SIZES,
    D_VALUE_COUNTS,
    D_NULL_COUNTS,
    D_NAN_COUNTS,
    D_LOWER_BOUNDS,
    D_UPPER_BOUNDS,
    D_KEY_METADATA,
    D_SPLIT_OFFSETS,
    D_EQUALITY_IDS,
    D_SORT_ORDER_ID,
    D_REFERENCED_FILE,
};
enum {
    L_PATH,
    L_LENGTH,
    L_SPEC_ID,
    L_CONTENT,
    L_SEQ,
    L_MIN_SEQ,
    L_SNAPSHOT_ID,
    L_ADDED_FILES,
    L_EXISTING_FILES,
    L_DELETED_FILES,
    L_ADDED_ROWS,
    L_EXISTING_ROWS,
    L_DELETED_ROWS,
    L_PARTITIONS,
    L_KEY_METADATA,
};
enum { S_CONTAINS_NULL, S_CONTAINS_NAN, S_LOWER, S_UPPER };

/* The six statistics maps of data_file, in schema order. */
static const struct stat_map {
    const char *name;
    int id, key_id, value_id;
    bool bytes; /* values are bytes (bounds), not long (counts) */
} stat_maps[] = {
    {"column_sizes", 108, 117, 118, false},   {"value_counts", 109, 119, 120, false},
    {"null_value_counts", 110, 121, 122, false}, {"nan_value_counts", 137, 138, 139, false},
    {"lower_bounds", 125, 126, 127, true},    {"upper_bounds", 128, 129, 130, true},
};
#define NSTAT_MAPS (sizeof(stat_maps) / sizeof(stat_maps[0]))

static const char list_schema[] =
    "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
    "{\"name\":\"manifest_path\",\"type\":\"string\",\"field-id\":500},"
    "{\"name\":\"manifest_length\",\"type\":\"long\",\"field-id\":501},"
    "{\"name\":\"partition_spec_id\",\"type\":\"int\",\"field-id\":502},"
    "{\"name\":\"content\",\"type\":\"int\",\"field-id\":517},"
    "{\"name\":\"sequence_number\",\"type\":\"long\",\"field-id\":515},"
    "{\"name\":\"min_sequence_number\",\"type\":\"long\",\"field-id\":516},"
    "{\"name\":\"added_snapshot_id\",\"type\":\"long\",\"field-id\":503},"
    "{\"name\":\"added_files_count\",\"type\":\"int\",\"field-id\":504},"
    "{\"name\":\"existing_files_count\",\"type\":\"int\",\"field-id\":505},"
    "{\"name\":\"deleted_files_count\",\"type\":\"int\",\"field-id\":506},"
    "{\"name\":\"added_rows_count\",\"type\":\"long\",\"field-id\":512},"
    "{\"name\":\"existing_rows_count\",\"type\":\"long\",\"field-id\":513},"
    "{\"name\":\"deleted_rows_count\",\"type\":\"long\",\"field-id\":514},"
    "{\"name\":\"partitions\",\"type\":[\"null\",{\"type\":\"array\",\"items\":"
    "{\"type\":\"record\",\"name\":\"r508\",\"fields\":["
    "{\"name\":\"contains_null\",\"type\":\"boolean\",\"field-id\":509},"
    "{\"name\":\"contains_nan\",\"type\":[\"null\",\"boolean\"],\"default\":null,"
    "\"field-id\":518},"
    "{\"name\":\"lower_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,"
    "\"field-id\":510},"
    "{\"name\":\"upper_bound\",\"type\":[\"null\",\"bytes\"],\"default\":null,"
    "\"field-id\":511}]},"
    "\"element-id\":508}],\"default\":null,\"field-id\":507},"
    "{\"name\":\"key_metadata\",\"type\":[\"null\",\"bytes\"],\"default\":null,"
    "\"field-id\":519}]}";

/* An Avro name: [A-Za-z_][A-Za-z0-9_]*. */
static bool
avro_name_ok(const char *s)
{
    if (s == NULL || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static const char *
ptype_avro(enum mf_ptype t)
{
    switch (t) {
    case MF_PT_INT:
        return "\"int\"";
    case MF_PT_LONG:
        return "\"long\"";
    case MF_PT_DATE:
        return "{\"type\":\"int\",\"logicalType\":\"date\"}";
    case MF_PT_TIMESTAMPTZ:
        return "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\",\"adjust-to-utc\":true}";
    case MF_PT_STRING:
        return "\"string\"";
    case MF_PT_BOOLEAN:
        return "\"boolean\"";
    case MF_PT_DOUBLE:
        return "\"double\"";
    }
    return NULL;
}

/* An optional field: ["null", type] with default null. */
static void
opt_field(struct sl_buf *b, const char *name, const char *type, int id)
{
    sl_buf_addf(b, "{\"name\":\"%s\",\"type\":[\"null\",%s],\"default\":null,\"field-id\":%d}",
                name, type, id);
}

/* The manifest_entry schema for the partition fields f[0..n). */
static void
entry_schema(struct sl_buf *b, const struct mf_partition_field *f, size_t n)
{
    sl_buf_adds(b, "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
                   "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0},");
    opt_field(b, "snapshot_id", "\"long\"", 1);
    sl_buf_addc(b, ',');
    opt_field(b, "sequence_number", "\"long\"", 3);
    sl_buf_addc(b, ',');
    opt_field(b, "file_sequence_number", "\"long\"", 4);
    sl_buf_adds(b, ",{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\","
                   "\"fields\":["
                   "{\"name\":\"content\",\"type\":\"int\",\"field-id\":134},"
                   "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100},"
                   "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":101},"
                   "{\"name\":\"partition\",\"type\":{\"type\":\"record\",\"name\":\"r102\","
                   "\"fields\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sl_buf_addc(b, ',');
        opt_field(b, f[i].name, ptype_avro(f[i].type), f[i].field_id);
    }
    sl_buf_adds(b, "]},\"field-id\":102},"
                   "{\"name\":\"record_count\",\"type\":\"long\",\"field-id\":103},"
                   "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"field-id\":104}");
    for (size_t i = 0; i < NSTAT_MAPS; i++) {
        const struct stat_map *m = &stat_maps[i];
        char type[256];

        snprintf(type, sizeof(type),
                 "{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"k%d_v%d\","
                 "\"fields\":[{\"name\":\"key\",\"type\":\"int\",\"field-id\":%d},"
                 "{\"name\":\"value\",\"type\":\"%s\",\"field-id\":%d}]},"
                 "\"logicalType\":\"map\"}",
                 m->key_id, m->value_id, m->key_id, m->bytes ? "bytes" : "long", m->value_id);
        sl_buf_addc(b, ',');
        opt_field(b, m->name, type, m->id);
    }
    sl_buf_addc(b, ',');
    opt_field(b, "key_metadata", "\"bytes\"", 131);
    sl_buf_addc(b, ',');
    opt_field(b, "split_offsets", "{\"type\":\"array\",\"items\":\"long\",\"element-id\":133}",
              132);
    sl_buf_addc(b, ',');
    opt_field(b, "equality_ids", "{\"type\":\"array\",\"items\":\"int\",\"element-id\":136}", 135);
    sl_buf_addc(b, ',');
    opt_field(b, "sort_order_id", "\"int\"", 140);
    sl_buf_addc(b, ',');
    opt_field(b, "referenced_data_file", "\"string\"", 143);
    sl_buf_adds(b, "]},\"field-id\":2}]}");
}

/* ------------------------------------------------------------------ */
/* The object container, written                                       */
/* ------------------------------------------------------------------ */

struct ocf {
    struct sl_buf out;   /* the file so far */
    struct sl_buf block; /* records of the open block, encoded */
    int64_t nblock;      /* records in block */
    uint8_t sync[16];
};

struct kv {
    const char *key;
    const char *value;
};

/* An Avro long: zigzag varint. */
static void
put_long(struct sl_buf *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

    while (z >= 0x80) {
        sl_buf_addc(b, (char)(z | 0x80));
        z >>= 7;
    }
    sl_buf_addc(b, (char)z);
}

static void
put_bytes(struct sl_buf *b, const void *p, size_t n)
{
    put_long(b, (int64_t)n);
    sl_buf_add(b, p, n);
}

/* Start a container: magic, metadata (the schema, the codec and meta), sync. */
static int
ocf_begin(struct ocf *f, const char *schema, const struct kv *meta, size_t nmeta,
          struct sl_diag *d)
{
    sl_buf_init(&f->out);
    sl_buf_init(&f->block);
    f->nblock = 0;
    if (getrandom(f->sync, sizeof(f->sync), 0) != (ssize_t)sizeof(f->sync))
        return sl_fail(d, -errno, "could not draw the sync marker of an Avro file: %s",
                       strerror(errno));
    sl_buf_add(&f->out, "Obj\x01", 4);
    put_long(&f->out, (int64_t)nmeta + 2);
    put_bytes(&f->out, "avro.schema", 11);
    put_bytes(&f->out, schema, strlen(schema));
    put_bytes(&f->out, "avro.codec", 10);
    put_bytes(&f->out, "deflate", 7);
    for (size_t i = 0; i < nmeta; i++) {
        put_bytes(&f->out, meta[i].key, strlen(meta[i].key));
        put_bytes(&f->out, meta[i].value, strlen(meta[i].value));
    }
    put_long(&f->out, 0);
    sl_buf_add(&f->out, f->sync, sizeof(f->sync));
    return 0;
}

/* Write the open block, deflated (raw, as Avro's "deflate" codec wants). */
static int
ocf_flush(struct ocf *f, struct sl_diag *d)
{
    z_stream z;
    struct sl_buf zb;
    uLong bound;
    int zrc;

    if (f->nblock == 0)
        return 0;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return sl_fail(d, -ENOMEM, "cannot start deflate for an Avro block");
    bound = deflateBound(&z, (uLong)f->block.len);
    sl_buf_init(&zb);
    sl_buf_grow(&zb, bound);
    z.next_in = (Bytef *)f->block.data;
    z.avail_in = (uInt)f->block.len;
    z.next_out = (Bytef *)zb.data;
    z.avail_out = (uInt)bound;
    zrc = deflate(&z, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        deflateEnd(&z);
        sl_buf_release(&zb);
        return sl_fail(d, SL_ERR_INPUT, "cannot deflate an Avro block (zlib error %d)", zrc);
    }
    put_long(&f->out, f->nblock);
    put_bytes(&f->out, zb.data, z.total_out);
    sl_buf_add(&f->out, f->sync, sizeof(f->sync));
    deflateEnd(&z);
    sl_buf_release(&zb);
    sl_buf_reset(&f->block);
    f->nblock = 0;
    return 0;
}

/* Encode one record into the open block. */
static int
ocf_append(struct ocf *f, avro_value_t *v, const char *what, struct sl_diag *d)
{
    avro_writer_t w;
    size_t size;
    int rc;

    if (avro_value_sizeof(v, &size) != 0)
        return sl_fail(d, SL_ERR_INPUT, "cannot encode %s: %s", what, avro_strerror());
    sl_buf_grow(&f->block, size);
    w = avro_writer_memory(f->block.data + f->block.len, (int64_t)size);
    if (w == NULL)
        return sl_fail(d, -ENOMEM, "cannot encode %s: %s", what, avro_strerror());
    rc = avro_value_write(w, v);
    avro_writer_free(w);
    if (rc != 0)
        return sl_fail(d, SL_ERR_INPUT, "cannot encode %s: %s", what, avro_strerror());
    sl_buf_setlen(&f->block, f->block.len + size);
    f->nblock++;
    return f->block.len >= MF_BLOCK_BYTES ? ocf_flush(f, d) : 0;
}

static void
ocf_release(struct ocf *f)
{
    sl_buf_release(&f->out);
    sl_buf_release(&f->block);
}

/* ------------------------------------------------------------------ */
/* Filling avro-c values                                                */
/* ------------------------------------------------------------------ */

enum slot { REQ, NUL, OPT };

/*
 * The value to fill for field idx of rec: the field itself (REQ), or the
 * non-null branch of its union (OPT); NUL sets the union to null and
 * leaves nothing to fill.  False when avro-c refuses.
 */
static bool
slot(avro_value_t *rec, size_t idx, enum slot how, avro_value_t *out)
{
    avro_value_t f;

    if (avro_value_get_by_index(rec, idx, &f, NULL) != 0)
        return false;
    if (how == REQ) {
        *out = f;
        return true;
    }
    if (avro_value_set_branch(&f, how == OPT, out) != 0)
        return false;
    return how == OPT || avro_value_set_null(out) == 0;
}

static bool
set_int(avro_value_t *rec, size_t idx, int32_t v)
{
    avro_value_t f;

    return slot(rec, idx, REQ, &f) && avro_value_set_int(&f, v) == 0;
}

static bool
set_long(avro_value_t *rec, size_t idx, int64_t v)
{
    avro_value_t f;

    return slot(rec, idx, REQ, &f) && avro_value_set_long(&f, v) == 0;
}

static bool
set_string(avro_value_t *rec, size_t idx, const char *s)
{
    avro_value_t f;

    return slot(rec, idx, REQ, &f) && avro_value_set_string(&f, s) == 0;
}

/* An optional long; v < 0 is null. */
static bool
set_opt_long(avro_value_t *rec, size_t idx, int64_t v)
{
    avro_value_t f;

    if (v < 0)
        return slot(rec, idx, NUL, &f);
    return slot(rec, idx, OPT, &f) && avro_value_set_long(&f, v) == 0;
}

/* ------------------------------------------------------------------ */
/* Partition values and their summaries                                 */
/* ------------------------------------------------------------------ */

/* Order of two non-null values of type t (Java's comparators: -0.0 before
 * 0.0, strings by UTF-8 bytes, which is code point order). */
static int
pv_cmp(enum mf_ptype t, const struct mf_pvalue *a, const struct mf_pvalue *b)
{
    switch (t) {
    case MF_PT_STRING:
        return strcmp(a->s, b->s);
    case MF_PT_DOUBLE:
        if (a->f != b->f)
            return a->f < b->f ? -1 : 1;
        return (signbit(b->f) != 0) - (signbit(a->f) != 0);
    case MF_PT_BOOLEAN:
        return (a->i != 0) - (b->i != 0);
    default:
        return a->i < b->i ? -1 : a->i > b->i;
    }
}

/* The single-value binary form of a non-STRING value into out[8]. */
static size_t
pv_bytes(enum mf_ptype t, const struct mf_pvalue *v, uint8_t *out)
{
    uint64_t u;
    size_t n;

    switch (t) {
    case MF_PT_INT:
    case MF_PT_DATE:
        u = (uint32_t)(int32_t)v->i;
        n = 4;
        break;
    case MF_PT_BOOLEAN:
        out[0] = v->i != 0;
        return 1;
    case MF_PT_DOUBLE:
        memcpy(&u, &v->f, sizeof(u));
        n = 8;
        break;
    default:
        u = (uint64_t)v->i;
        n = 8;
        break;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(u >> (8 * i));
    return n;
}

/* The running summary of one partition field over a manifest's entries. */
struct psum {
    bool contains_null, contains_nan, have;
    struct mf_pvalue min, max;
};

static void
psum_add(struct psum *s, enum mf_ptype t, const struct mf_pvalue *v)
{
    if (!v->set) {
        s->contains_null = true;
        return;
    }
    if (t == MF_PT_DOUBLE && isnan(v->f)) {
        s->contains_nan = true; /* NaN is never a bound */
        return;
    }
    if (!s->have) {
        s->min = s->max = *v;
        s->have = true;
        return;
    }
    if (pv_cmp(t, v, &s->min) < 0)
        s->min = *v;
    if (pv_cmp(t, v, &s->max) > 0)
        s->max = *v;
}

static void
psum_out(const struct psum *s, enum mf_ptype t, struct sl_arena *a, struct mf_field_summary *o)
{
    memset(o, 0, sizeof(*o));
    o->contains_null = s->contains_null;
    o->contains_nan = s->contains_nan;
    o->has_bounds = s->have;
    if (!s->have)
        return;
    if (t == MF_PT_STRING) {
        o->lower_str = sl_arena_strdup(a, s->min.s);
        o->upper_str = sl_arena_strdup(a, s->max.s);
        o->lower_len = strlen(o->lower_str);
        o->upper_len = strlen(o->upper_str);
        return;
    }
    o->lower_len = pv_bytes(t, &s->min, o->lower);
    o->upper_len = pv_bytes(t, &s->max, o->upper);
}

/* ------------------------------------------------------------------ */
/* Writing a manifest                                                   */
/* ------------------------------------------------------------------ */

/* Check what the spec and the schema require of an entry. */
static int
check_entry(const struct mf_writer_opts *o, const struct mf_entry *e, size_t k,
            const char *path, struct sl_diag *d)
{
    const char *why = NULL;

    if (e->status != MF_EXISTING && e->status != MF_ADDED && e->status != MF_DELETED)
        why = "status is not EXISTING, ADDED or DELETED";
    else if (e->content != MF_DATA && e->content != MF_POSITION_DELETES &&
             e->content != MF_EQUALITY_DELETES)
        why = "content is not data, position deletes or equality deletes";
    else if ((o->content == MF_DATA) != (e->content == MF_DATA))
        why = o->content == MF_DATA ? "a delete file in a data manifest"
                                    : "a data file in a delete manifest";
    else if (e->file_path == NULL || e->file_format == NULL)
        why = "file_path and file_format are required";
    else if (e->record_count < 0 || e->file_size < 0)
        why = "record_count and file_size_in_bytes must not be negative";
    else if (e->status != MF_ADDED && (e->sequence_number < 0 || e->file_sequence_number < 0))
        why = "only an ADDED entry may inherit its sequence numbers; EXISTING and DELETED "
              "entries carry the ones first assigned";
    else if ((e->content == MF_EQUALITY_DELETES) != (e->nequality_ids > 0))
        why = "equality_ids are required for equality deletes, and only there";
    else if (e->nequality_ids > 0 && e->equality_ids == NULL)
        why = "equality_ids is NULL";
    else if (e->nsplit_offsets > 0 && e->split_offsets == NULL)
        why = "split_offsets is NULL";
    else if (e->nstats > 0 && e->stats == NULL)
        why = "stats is NULL";
    if (why == NULL && o->nfields > 0 && e->partition == NULL)
        why = "no partition values";
    for (size_t i = 0; why == NULL && i < o->nfields; i++) {
        const struct mf_pvalue *v = &e->partition[i];

        if (!v->set)
            continue;
        if (o->fields[i].type == MF_PT_STRING && v->s == NULL)
            why = "a STRING partition value is NULL";
        else if ((o->fields[i].type == MF_PT_INT || o->fields[i].type == MF_PT_DATE) &&
                 (v->i < INT32_MIN || v->i > INT32_MAX))
            why = "an int partition value is out of range";
    }
    for (size_t i = 0; why == NULL && i < e->nstats; i++)
        if ((e->stats[i].lower == NULL && e->stats[i].lower_len > 0) ||
            (e->stats[i].upper == NULL && e->stats[i].upper_len > 0))
            why = "a bound is NULL but has a length";
    if (why == NULL)
        return 0;
    sl_fail(d, SL_ERR_INPUT, "cannot write manifest '%s': entry %zu (%s): %s", path, k + 1,
            e->file_path ? e->file_path : "no path", why);
    sl_diag_at(d, path, 0, (int64_t)k + 1, NULL);
    return SL_ERR_INPUT;
}

/* Whether stats member which (column_sizes ... upper_bounds, in the order
 * of stat_maps) of s is present, and its value. */
static bool
stat_of(const struct mf_column_stats *s, size_t which, int64_t *v, const uint8_t **p, size_t *n)
{
    switch (which) {
    case 0:
        *v = s->column_size;
        return *v >= 0;
    case 1:
        *v = s->value_count;
        return *v >= 0;
    case 2:
        *v = s->null_count;
        return *v >= 0;
    case 3:
        *v = s->nan_count;
        return *v >= 0;
    case 4:
        *p = s->lower;
        *n = s->lower_len;
        return *p != NULL;
    default:
        *p = s->upper;
        *n = s->upper_len;
        return *p != NULL;
    }
}

/* One statistics map of data_file: null when no column has the value. */
static bool
fill_stat_map(avro_value_t *df, size_t which, const struct mf_entry *e)
{
    avro_value_t arr, item, f;
    const uint8_t *p = NULL;
    int64_t v = 0;
    size_t n = 0, have = 0;
    bool ok;

    for (size_t i = 0; i < e->nstats; i++)
        have += stat_of(&e->stats[i], which, &v, &p, &n);
    if (have == 0)
        return slot(df, D_COLUMN_SIZES + which, NUL, &arr);
    ok = slot(df, D_COLUMN_SIZES + which, OPT, &arr);
    for (size_t i = 0; ok && i < e->nstats; i++) {
        if (!stat_of(&e->stats[i], which, &v, &p, &n))
            continue;
        ok = avro_value_append(&arr, &item, NULL) == 0 &&
             set_int(&item, 0, e->stats[i].field_id) &&
             (stat_maps[which].bytes
                  ? slot(&item, 1, REQ, &f) && avro_value_set_bytes(&f, (void *)p, n) == 0
                  : set_long(&item, 1, v));
    }
    return ok;
}

static bool
fill_pvalue(avro_value_t *part, size_t i, enum mf_ptype t, const struct mf_pvalue *v)
{
    avro_value_t f;

    if (!v->set)
        return slot(part, i, NUL, &f);
    if (!slot(part, i, OPT, &f))
        return false;
    switch (t) {
    case MF_PT_INT:
    case MF_PT_DATE:
        return avro_value_set_int(&f, (int32_t)v->i) == 0;
    case MF_PT_LONG:
    case MF_PT_TIMESTAMPTZ:
        return avro_value_set_long(&f, v->i) == 0;
    case MF_PT_STRING:
        return avro_value_set_string(&f, v->s) == 0;
    case MF_PT_BOOLEAN:
        return avro_value_set_boolean(&f, v->i != 0) == 0;
    case MF_PT_DOUBLE:
        return avro_value_set_double(&f, v->f) == 0;
    }
    return false;
}

/* One manifest_entry record from e. */
static bool
fill_entry(avro_value_t *rec, const struct mf_writer_opts *o, const struct mf_entry *e)
{
    avro_value_t df, part, f, arr, item;
    bool ok;

    ok = set_int(rec, E_STATUS, (int32_t)e->status) &&
         set_opt_long(rec, E_SNAPSHOT_ID, e->snapshot_id) &&
         set_opt_long(rec, E_SEQ, e->sequence_number) &&
         set_opt_long(rec, E_FILE_SEQ, e->file_sequence_number) &&
         slot(rec, E_DATA_FILE, REQ, &df) && set_int(&df, D_CONTENT, (int32_t)e->content) &&
         set_string(&df, D_FILE_PATH, e->file_path) &&
         set_string(&df, D_FILE_FORMAT, e->file_format) &&
         slot(&df, D_PARTITION, REQ, &part) && set_long(&df, D_RECORD_COUNT, e->record_count) &&
         set_long(&df, D_FILE_SIZE, e->file_size);
    for (size_t i = 0; ok && i < o->nfields; i++)
        ok = fill_pvalue(&part, i, o->fields[i].type, &e->partition[i]);
    for (size_t i = 0; ok && i < NSTAT_MAPS; i++)
        ok = fill_stat_map(&df, i, e);
    ok = ok && slot(&df, D_KEY_METADATA, NUL, &f);
    if (ok && e->nsplit_offsets > 0) {
        ok = slot(&df, D_SPLIT_OFFSETS, OPT, &arr);
        for (size_t i = 0; ok && i < e->nsplit_offsets; i++)
            ok = avro_value_append(&arr, &item, NULL) == 0 &&
                 avro_value_set_long(&item, e->split_offsets[i]) == 0;
    } else {
        ok = ok && slot(&df, D_SPLIT_OFFSETS, NUL, &f);
    }
    if (ok && e->nequality_ids > 0) {
        ok = slot(&df, D_EQUALITY_IDS, OPT, &arr);
        for (size_t i = 0; ok && i < e->nequality_ids; i++)
            ok = avro_value_append(&arr, &item, NULL) == 0 &&
                 avro_value_set_int(&item, e->equality_ids[i]) == 0;
    } else {
        ok = ok && slot(&df, D_EQUALITY_IDS, NUL, &f);
    }
    if (e->sort_order_id < 0)
        ok = ok && slot(&df, D_SORT_ORDER_ID, NUL, &f);
    else
        ok = ok && slot(&df, D_SORT_ORDER_ID, OPT, &f) &&
             avro_value_set_int(&f, e->sort_order_id) == 0;
    if (e->referenced_data_file == NULL)
        ok = ok && slot(&df, D_REFERENCED_FILE, NUL, &f);
    else
        ok = ok && slot(&df, D_REFERENCED_FILE, OPT, &f) &&
             avro_value_set_string(&f, e->referenced_data_file) == 0;
    return ok;
}

/* Check the partition fields a manifest is written under. */
static int
check_fields(const char *path, const struct mf_partition_field *f, size_t n, struct sl_diag *d)
{
    if (n > 0 && f == NULL)
        return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': partition fields are NULL", path);
    for (size_t i = 0; i < n; i++) {
        if (!avro_name_ok(f[i].name))
            return sl_fail(d, SL_ERR_INPUT,
                           "cannot write '%s': partition field name \"%s\" is not an Avro "
                           "name ([A-Za-z_][A-Za-z0-9_]*)",
                           path, f[i].name ? f[i].name : "(null)");
        if (ptype_avro(f[i].type) == NULL)
            return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': partition field \"%s\" has "
                           "an unknown type", path, f[i].name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(f[i].name, f[j].name) == 0 || f[i].field_id == f[j].field_id)
                return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': partition fields \"%s\" "
                               "and \"%s\" share a name or a field id", path, f[j].name,
                               f[i].name);
    }
    return 0;
}

/* avro-c's schema, class and one value for the schema text. */
static int
avro_prepare(const char *path, const char *text, size_t len, avro_schema_t *s,
             avro_value_iface_t **iface, avro_value_t *v, struct sl_diag *d)
{
    if (avro_schema_from_json_length(text, len, s) != 0)
        return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': avro-c refuses the schema: %s",
                       path, avro_strerror());
    *iface = avro_generic_class_from_schema(*s);
    if (*iface == NULL) {
        avro_schema_decref(*s);
        return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': %s", path, avro_strerror());
    }
    if (avro_generic_value_new(*iface, v) != 0) {
        avro_value_iface_decref(*iface);
        avro_schema_decref(*s);
        return sl_fail(d, SL_ERR_INPUT, "cannot write '%s': %s", path, avro_strerror());
    }
    return 0;
}

static void
avro_done(avro_schema_t s, avro_value_iface_t *iface, avro_value_t *v)
{
    avro_value_decref(v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
}

int
mf_write_manifest(const char *path, const struct mf_writer_opts *opts,
                  const struct mf_entry *entries, size_t n, struct sl_arena *a,
                  struct mf_manifest *out, struct sl_diag *d)
{
    struct mf_manifest m;
    struct sl_buf schema;
    struct ocf f;
    struct psum *sums;
    avro_schema_t s;
    avro_value_iface_t *iface;
    avro_value_t rec;
    char schema_id[16], spec_id[16];
    int64_t *rows;
    int rc;

    memset(out, 0, sizeof(*out));
    if (opts->schema_json == NULL || opts->spec_fields_json == NULL)
        return sl_fail(d, SL_ERR_INPUT, "cannot write manifest '%s': the table schema and the "
                       "partition spec's fields are required", path);
    if (n > INT32_MAX)
        return sl_fail(d, SL_ERR_LIMIT, "cannot write manifest '%s': %zu entries is more than "
                       "a manifest list counts", path, n);
    rc = check_fields(path, opts->fields, opts->nfields, d);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        rc = check_entry(opts, &entries[i], i, path, d);
        if (rc < 0)
            return rc;
    }
    sl_buf_init(&schema);
    entry_schema(&schema, opts->fields, opts->nfields);
    rc = avro_prepare(path, schema.data, schema.len, &s, &iface, &rec, d);
    if (rc < 0)
        goto out_schema;

    memset(&m, 0, sizeof(m));
    m.length = 0;
    m.partition_spec_id = opts->spec_id;
    m.content = opts->content == MF_DATA ? MF_DATA : MF_POSITION_DELETES;
    m.sequence_number = -1;
    m.min_sequence_number = -1;
    m.added_snapshot_id = opts->snapshot_id;
    sums = sl_calloc(opts->nfields + 1, sizeof(*sums));
    snprintf(schema_id, sizeof(schema_id), "%d", opts->schema_id);
    snprintf(spec_id, sizeof(spec_id), "%d", opts->spec_id);
    const struct kv meta[] = {
        {"schema", opts->schema_json},
        {"schema-id", schema_id},
        {"partition-spec", opts->spec_fields_json},
        {"partition-spec-id", spec_id},
        {"format-version", "2"},
        {"content", opts->content == MF_DATA ? "data" : "deletes"},
    };
    rc = ocf_begin(&f, schema.data, meta, sizeof(meta) / sizeof(meta[0]), d);
    if (rc < 0)
        goto out_file;
    for (size_t i = 0; i < n; i++) {
        const struct mf_entry *e = &entries[i];

        if (avro_value_reset(&rec) != 0 || !fill_entry(&rec, opts, e)) {
            rc = sl_fail(d, SL_ERR_INPUT, "cannot write manifest '%s': entry %zu (%s): %s",
                         path, i + 1, e->file_path, avro_strerror());
            goto out_file;
        }
        rc = ocf_append(&f, &rec, "a manifest entry", d);
        if (rc < 0)
            goto out_file;
        /* Counts by status; summaries over every entry, DELETED ones too,
         * as Java's ManifestWriter keeps them. */
        switch (e->status) {
        case MF_ADDED:
            m.added_files_count++;
            rows = &m.added_rows_count;
            break;
        case MF_EXISTING:
            m.existing_files_count++;
            rows = &m.existing_rows_count;
            break;
        default:
            m.deleted_files_count++;
            rows = &m.deleted_rows_count;
            break;
        }
        if (__builtin_add_overflow(*rows, e->record_count, rows)) {
            rc = sl_fail(d, SL_ERR_INPUT, "cannot write manifest '%s': the row counts "
                         "overflow", path);
            goto out_file;
        }
        for (size_t k = 0; k < opts->nfields; k++)
            psum_add(&sums[k], opts->fields[k].type, &e->partition[k]);
        if (e->status != MF_DELETED && e->sequence_number >= 0 &&
            (m.min_sequence_number < 0 || e->sequence_number < m.min_sequence_number))
            m.min_sequence_number = e->sequence_number;
    }
    rc = ocf_flush(&f, d);
    if (rc < 0)
        goto out_file;
    rc = sl_write_file(path, f.out.data, f.out.len, d);
    if (rc < 0)
        goto out_file;
    m.length = (int64_t)f.out.len;
    m.npartitions = opts->nfields;
    m.partitions = opts->nfields ? sl_arena_zalloc(a, opts->nfields * sizeof(*m.partitions))
                                 : NULL;
    for (size_t k = 0; k < opts->nfields; k++)
        psum_out(&sums[k], opts->fields[k].type, a, &m.partitions[k]);
    *out = m;

out_file:
    ocf_release(&f);
    free(sums);
    avro_done(s, iface, &rec);
out_schema:
    sl_buf_release(&schema);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Writing a manifest list                                              */
/* ------------------------------------------------------------------ */

static int
check_row(const char *path, const struct mf_manifest *m, size_t k,
          const struct mf_partition_field *fields, size_t nfields, struct sl_diag *d)
{
    const char *why = NULL;

    if (m->path == NULL)
        why = "manifest_path is NULL";
    else if (m->content != MF_DATA && m->content != MF_POSITION_DELETES &&
             m->content != MF_EQUALITY_DELETES)
        why = "content is neither data nor deletes";
    else if (m->length < 0 || m->added_files_count < 0 || m->existing_files_count < 0 ||
             m->deleted_files_count < 0 || m->added_rows_count < 0 ||
             m->existing_rows_count < 0 || m->deleted_rows_count < 0)
        why = "a length or count is negative";
    else if (m->npartitions != nfields)
        why = "its partition summaries do not match the partition fields";
    else if (nfields > 0 && m->partitions == NULL)
        why = "partitions is NULL";
    for (size_t i = 0; why == NULL && i < nfields; i++) {
        const struct mf_field_summary *s = &m->partitions[i];

        if (!s->has_bounds)
            continue;
        if (fields[i].type == MF_PT_STRING ? s->lower_str == NULL || s->upper_str == NULL
                                           : s->lower_len > 16 || s->upper_len > 16)
            why = "a partition summary's bounds are missing or too long";
    }
    if (why == NULL)
        return 0;
    sl_fail(d, SL_ERR_INPUT, "cannot write manifest list '%s': manifest %zu (%s): %s", path,
            k + 1, m->path ? m->path : "no path", why);
    sl_diag_at(d, path, 0, (int64_t)k + 1, NULL);
    return SL_ERR_INPUT;
}

static bool
fill_summary(avro_value_t *item, const struct mf_field_summary *s, enum mf_ptype t)
{
    avro_value_t f;
    bool str = t == MF_PT_STRING;
    bool ok;

    ok = slot(item, S_CONTAINS_NULL, REQ, &f) &&
         avro_value_set_boolean(&f, s->contains_null) == 0 &&
         slot(item, S_CONTAINS_NAN, OPT, &f) && avro_value_set_boolean(&f, s->contains_nan) == 0;
    if (!s->has_bounds)
        return ok && slot(item, S_LOWER, NUL, &f) && slot(item, S_UPPER, NUL, &f);
    return ok && slot(item, S_LOWER, OPT, &f) &&
           avro_value_set_bytes(&f, str ? (void *)s->lower_str : (void *)s->lower,
                                s->lower_len) == 0 &&
           slot(item, S_UPPER, OPT, &f) &&
           avro_value_set_bytes(&f, str ? (void *)s->upper_str : (void *)s->upper,
                                s->upper_len) == 0;
}

static bool
fill_row(avro_value_t *rec, const struct mf_manifest *m, int64_t seq,
         const struct mf_partition_field *fields)
{
    avro_value_t arr, item, f;
    bool ok;

    ok = set_string(rec, L_PATH, m->path) && set_long(rec, L_LENGTH, m->length) &&
         set_int(rec, L_SPEC_ID, m->partition_spec_id) &&
         set_int(rec, L_CONTENT, m->content == MF_DATA ? 0 : 1) &&
         set_long(rec, L_SEQ, m->sequence_number < 0 ? seq : m->sequence_number) &&
         set_long(rec, L_MIN_SEQ, m->min_sequence_number < 0 ? seq : m->min_sequence_number) &&
         set_long(rec, L_SNAPSHOT_ID, m->added_snapshot_id) &&
         set_int(rec, L_ADDED_FILES, m->added_files_count) &&
         set_int(rec, L_EXISTING_FILES, m->existing_files_count) &&
         set_int(rec, L_DELETED_FILES, m->deleted_files_count) &&
         set_long(rec, L_ADDED_ROWS, m->added_rows_count) &&
         set_long(rec, L_EXISTING_ROWS, m->existing_rows_count) &&
         set_long(rec, L_DELETED_ROWS, m->deleted_rows_count) &&
         slot(rec, L_PARTITIONS, OPT, &arr) && slot(rec, L_KEY_METADATA, NUL, &f);
    for (size_t i = 0; ok && i < m->npartitions; i++)
        ok = avro_value_append(&arr, &item, NULL) == 0 &&
             fill_summary(&item, &m->partitions[i], fields[i].type);
    return ok;
}

int
mf_write_list(const char *path, int64_t snapshot_id, int64_t parent_id, int64_t seq,
              const struct mf_manifest *manifests, size_t n,
              const struct mf_partition_field *fields, size_t nfields, struct sl_diag *d)
{
    struct ocf f;
    avro_schema_t s;
    avro_value_iface_t *iface;
    avro_value_t rec;
    char sid[24], pid[24], sq[24];
    int rc;

    if (seq < 0 || snapshot_id < 0)
        return sl_fail(d, SL_ERR_INPUT, "cannot write manifest list '%s': the snapshot id and "
                       "sequence number must not be negative", path);
    rc = check_fields(path, fields, nfields, d);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const struct mf_manifest *m = &manifests[i];

        rc = m->fields != NULL ? check_fields(path, m->fields, m->nfields, d) : 0;
        if (rc == 0)
            rc = check_row(path, m, i, m->fields ? m->fields : fields,
                           m->fields ? m->nfields : nfields, d);
        if (rc < 0)
            return rc;
    }
    rc = avro_prepare(path, list_schema, sizeof(list_schema) - 1, &s, &iface, &rec, d);
    if (rc < 0)
        return rc;
    snprintf(sid, sizeof(sid), "%lld", (long long)snapshot_id);
    if (parent_id < 0)
        snprintf(pid, sizeof(pid), "null"); /* as Java and PyIceberg write it */
    else
        snprintf(pid, sizeof(pid), "%lld", (long long)parent_id);
    snprintf(sq, sizeof(sq), "%lld", (long long)seq);
    const struct kv meta[] = {
        {"snapshot-id", sid},
        {"parent-snapshot-id", pid},
        {"sequence-number", sq},
        {"format-version", "2"},
    };
    rc = ocf_begin(&f, list_schema, meta, sizeof(meta) / sizeof(meta[0]), d);
    if (rc < 0)
        goto out_file;
    for (size_t i = 0; i < n; i++) {
        if (avro_value_reset(&rec) != 0 ||
            !fill_row(&rec, &manifests[i], seq,
                      manifests[i].fields ? manifests[i].fields : fields)) {
            rc = sl_fail(d, SL_ERR_INPUT, "cannot write manifest list '%s': manifest %zu "
                         "(%s): %s", path, i + 1, manifests[i].path, avro_strerror());
            goto out_file;
        }
        rc = ocf_append(&f, &rec, "a manifest list row", d);
        if (rc < 0)
            goto out_file;
    }
    rc = ocf_flush(&f, d);
    if (rc < 0)
        goto out_file;
    rc = sl_write_file(path, f.out.data, f.out.len, d);

out_file:
    ocf_release(&f);
    avro_done(s, iface, &rec);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reading: the container, the writer's schema, typed fields            */
/* ------------------------------------------------------------------ */

/* An open file being read. */
struct rd {
    const char *path;
    const char *what;           /* "manifest" or "manifest list" */
    struct sl_diag *d;
    int64_t record;             /* 1-based record being read; 0 before the first */
    struct sl_buf file;         /* the whole file */
    avro_file_reader_t reader;  /* NULL until open */
    avro_schema_t ws;           /* the writer's schema (a reference) */
    avro_value_iface_t *iface;
    avro_value_t rec;           /* the record read */
    bool have_rec;
};

/* Fail with SL_ERR_CORRUPT naming the file, the record and the field. */
static int rd_corrupt(struct rd *r, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rd_corrupt(struct rd *r, const char *field, const char *fmt, ...)
{
    struct sl_buf m;
    va_list ap;

    sl_buf_init(&m);
    sl_buf_addf(&m, "cannot read %s '%s'", r->what, r->path);
    if (r->record > 0)
        sl_buf_addf(&m, ": record %lld", (long long)r->record);
    if (field != NULL)
        sl_buf_addf(&m, ": field '%s'", field);
    sl_buf_adds(&m, ": ");
    va_start(ap, fmt);
    sl_buf_vaddf(&m, fmt, ap);
    va_end(ap);
    sl_fail(r->d, SL_ERR_CORRUPT, "%s", m.data);
    sl_diag_at(r->d, r->path, 0, r->record, field);
    sl_buf_release(&m);
    return SL_ERR_CORRUPT;
}

static int
rd_open(struct rd *r, const char *path, const char *what, struct sl_diag *d)
{
    FILE *fp;
    int rc;

    memset(r, 0, sizeof(*r));
    r->path = path;
    r->what = what;
    r->d = d;
    sl_buf_init(&r->file);
    rc = sl_read_file(path, MF_MAX_FILE, &r->file, d);
    if (rc < 0)
        return rc;
    if (r->file.len == 0)
        return rd_corrupt(r, NULL, "the file is empty");
    fp = fmemopen(r->file.data, r->file.len, "rb");
    if (fp == NULL)
        return sl_fail(d, -errno, "cannot read %s '%s': %s", what, path, strerror(errno));
    /* avro-c closes fp, also when it fails */
    if (avro_file_reader_fp(fp, path, 1, &r->reader) != 0) {
        r->reader = NULL;
        return rd_corrupt(r, NULL, "not an Avro object container file: %s", avro_strerror());
    }
    r->ws = avro_file_reader_get_writer_schema(r->reader);
    if (r->ws == NULL || avro_typeof(r->ws) != AVRO_RECORD)
        return rd_corrupt(r, NULL, "the Avro schema is not a record");
    r->iface = avro_generic_class_from_schema(r->ws);
    if (r->iface == NULL)
        return rd_corrupt(r, NULL, "cannot use the Avro schema: %s", avro_strerror());
    if (avro_generic_value_new(r->iface, &r->rec) != 0)
        return rd_corrupt(r, NULL, "cannot use the Avro schema: %s", avro_strerror());
    r->have_rec = true;
    return 0;
}

static void
rd_close(struct rd *r)
{
    if (r->have_rec)
        avro_value_decref(&r->rec);
    if (r->iface != NULL)
        avro_value_iface_decref(r->iface);
    if (r->ws != NULL)
        avro_schema_decref(r->ws);
    if (r->reader != NULL)
        avro_file_reader_close(r->reader);
    sl_buf_release(&r->file);
}

/* The next record into r->rec: 1, 0 at the end, or SL_ERR_CORRUPT. */
static int
rd_next(struct rd *r)
{
    int rc;

    if (avro_value_reset(&r->rec) != 0)
        return rd_corrupt(r, NULL, "cannot reset a record: %s", avro_strerror());
    rc = avro_file_reader_read_value(r->reader, &r->rec);
    if (rc == EOF)
        return 0;
    r->record++;
    if (rc != 0)
        return rd_corrupt(r, NULL, "the Avro data is corrupt: %s", avro_strerror());
    return 1;
}

/* A zigzag varint; false when cut short or too long. */
static bool
get_varint(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint64_t v = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;

        if (*p >= end)
            return false;
        b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return true;
        }
    }
    return false;
}

/* The value of key in the container header's metadata (the last one, as
 * avro-c takes it), or NULL. */
static const char *
header_value(const struct sl_buf *file, const char *key, size_t *vlen)
{
    const uint8_t *p = (const uint8_t *)file->data + 4, *end = (const uint8_t *)file->data + file->len;
    const char *found = NULL;
    size_t klen = strlen(key);
    int64_t count, n, m;

    if (file->len < 4)
        return NULL;
    for (;;) {
        if (!get_varint(&p, end, &count) || count == INT64_MIN)
            return NULL;
        if (count == 0)
            return found;
        if (count < 0) {
            count = -count;
            if (!get_varint(&p, end, &n)) /* the block's size in bytes */
                return NULL;
        }
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *k;

            if (!get_varint(&p, end, &n) || n < 0 || n > end - p)
                return NULL;
            k = p;
            p += n;
            if (!get_varint(&p, end, &m) || m < 0 || m > end - p)
                return NULL;
            if ((size_t)n == klen && memcmp(k, key, klen) == 0) {
                found = (const char *)p;
                *vlen = (size_t)m;
            }
            p += m;
        }
    }
}

/* What a field's value must be. */
enum want { W_INT, W_LONG, W_DOUBLE, W_STRING, W_BYTES, W_BOOL, W_RECORD, W_ARRAY };

static const char *const want_names[] = {"int", "long", "double", "string",
                                         "bytes", "boolean", "record", "array"};

static bool
type_ok(avro_schema_t s, enum want w)
{
    switch (avro_typeof(s)) {
    case AVRO_INT32:
        return w == W_INT || w == W_LONG;
    case AVRO_INT64:
        return w == W_LONG;
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
        return w == W_DOUBLE;
    case AVRO_STRING:
        return w == W_STRING;
    case AVRO_BYTES:
        return w == W_BYTES;
    case AVRO_BOOLEAN:
        return w == W_BOOL;
    case AVRO_RECORD:
        return w == W_RECORD;
    case AVRO_ARRAY:
        return w == W_ARRAY;
    default:
        return false;
    }
}

/* A field of a record in the writer's schema, as the reader finds it. */
struct col {
    int idx;            /* its position; -1: not in the writer's schema */
    bool opt;           /* a union with null */
    bool required;      /* must be there and not null */
    avro_schema_t type; /* the value's schema (the union's other branch) */
    char name[64];      /* "data_file.file_path", for messages */
};

/* The value schema of field schema fs: itself, or the non-null branch of
 * a union of null and one type (*opt set); NULL for other unions. */
static avro_schema_t
value_schema(avro_schema_t fs, bool *opt)
{
    avro_schema_t b0, b1;

    *opt = false;
    if (fs == NULL || avro_typeof(fs) != AVRO_UNION)
        return fs;
    *opt = true;
    if (avro_schema_union_size(fs) != 2)
        return NULL;
    b0 = avro_schema_union_branch(fs, 0);
    b1 = avro_schema_union_branch(fs, 1);
    if (b0 == NULL || b1 == NULL)
        return NULL;
    if (avro_typeof(b0) == AVRO_NULL && avro_typeof(b1) != AVRO_NULL)
        return b1;
    if (avro_typeof(b1) == AVRO_NULL && avro_typeof(b0) != AVRO_NULL)
        return b0;
    return NULL;
}

/* Find field name of record schema rs (prefix names rs in messages). */
static int
rd_col(struct rd *r, avro_schema_t rs, const char *prefix, const char *name, enum want w,
       bool required, struct col *c)
{
    avro_schema_t fs;

    memset(c, 0, sizeof(*c));
    c->required = required;
    snprintf(c->name, sizeof(c->name), "%s%s", prefix, name);
    c->idx = avro_schema_record_field_get_index(rs, name);
    if (c->idx < 0)
        return required ? rd_corrupt(r, c->name, "is missing") : 0;
    fs = value_schema(avro_schema_record_field_get_by_index(rs, c->idx), &c->opt);
    if (fs == NULL || !type_ok(fs, w))
        return rd_corrupt(r, c->name, "is not of type %s%s", want_names[w],
                          c->opt ? " (or a union of null and it)" : "");
    c->type = fs;
    return 0;
}

/* The value of column c of rec: 1, or 0 when null or absent. */
static int
rd_get(struct rd *r, avro_value_t *rec, const struct col *c, avro_value_t *v)
{
    avro_value_t f;

    if (c->idx < 0)
        return c->required ? rd_corrupt(r, c->name, "is missing") : 0;
    if (avro_value_get_by_index(rec, (size_t)c->idx, &f, NULL) != 0)
        return rd_corrupt(r, c->name, "cannot be read: %s", avro_strerror());
    if (!c->opt) {
        *v = f;
        return 1;
    }
    if (avro_value_get_current_branch(&f, v) != 0)
        return rd_corrupt(r, c->name, "has no union branch: %s", avro_strerror());
    if (avro_value_get_type(v) == AVRO_NULL)
        return c->required ? rd_corrupt(r, c->name, "is null") : 0;
    return 1;
}

static int
val_long(struct rd *r, avro_value_t *v, const char *field, int64_t *out)
{
    int32_t i;

    if (avro_value_get_type(v) == AVRO_INT32) {
        if (avro_value_get_int(v, &i) != 0)
            return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
        *out = i;
        return 0;
    }
    if (avro_value_get_long(v, out) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    return 0;
}

static int
val_int(struct rd *r, avro_value_t *v, const char *field, int32_t *out)
{
    if (avro_value_get_int(v, out) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    return 0;
}

static int
val_double(struct rd *r, avro_value_t *v, const char *field, double *out)
{
    float f;

    if (avro_value_get_type(v) == AVRO_FLOAT) {
        if (avro_value_get_float(v, &f) != 0)
            return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
        *out = f;
        return 0;
    }
    if (avro_value_get_double(v, out) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    return 0;
}

static int
val_bool(struct rd *r, avro_value_t *v, const char *field, bool *out)
{
    int b;

    if (avro_value_get_boolean(v, &b) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    *out = b != 0;
    return 0;
}

/* A string, copied into a (no NUL inside). */
static int
val_str(struct rd *r, avro_value_t *v, const char *field, struct sl_arena *a, const char **out)
{
    const char *s;
    size_t n;

    if (avro_value_get_string(v, &s, &n) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    if (n > 0)
        n--; /* avro-c counts the terminating NUL */
    if (n > 0 && memchr(s, '\0', n) != NULL)
        return rd_corrupt(r, field, "holds a NUL character");
    *out = sl_arena_strndup(a, n > 0 ? s : "", n);
    return 0;
}

/* Bytes, copied into a with a NUL after them. */
static int
val_bytes(struct rd *r, avro_value_t *v, const char *field, struct sl_arena *a,
          const uint8_t **out, size_t *len)
{
    const void *p;
    size_t n;

    if (avro_value_get_bytes(v, &p, &n) != 0)
        return rd_corrupt(r, field, "cannot be read: %s", avro_strerror());
    *out = (const uint8_t *)sl_arena_strndup(a, n > 0 ? p : "", n);
    *len = n;
    return 0;
}

/* Column c of rec as a long: 1, 0 when null or absent, or an error. */
static int
get_long(struct rd *r, avro_value_t *rec, const struct col *c, int64_t *out)
{
    avro_value_t v;
    int rc = rd_get(r, rec, c, &v);

    return rc <= 0 ? rc : val_long(r, &v, c->name, out) < 0 ? SL_ERR_CORRUPT : 1;
}

static int
get_int(struct rd *r, avro_value_t *rec, const struct col *c, int32_t *out)
{
    avro_value_t v;
    int rc = rd_get(r, rec, c, &v);

    return rc <= 0 ? rc : val_int(r, &v, c->name, out) < 0 ? SL_ERR_CORRUPT : 1;
}

static int
get_bool(struct rd *r, avro_value_t *rec, const struct col *c, bool *out)
{
    avro_value_t v;
    int rc = rd_get(r, rec, c, &v);

    return rc <= 0 ? rc : val_bool(r, &v, c->name, out) < 0 ? SL_ERR_CORRUPT : 1;
}

static int
get_str(struct rd *r, avro_value_t *rec, const struct col *c, struct sl_arena *a,
        const char **out)
{
    avro_value_t v;
    int rc = rd_get(r, rec, c, &v);

    return rc <= 0 ? rc : val_str(r, &v, c->name, a, out) < 0 ? SL_ERR_CORRUPT : 1;
}

static int
get_bytes(struct rd *r, avro_value_t *rec, const struct col *c, struct sl_arena *a,
          const uint8_t **out, size_t *len)
{
    avro_value_t v;
    int rc = rd_get(r, rec, c, &v);

    return rc <= 0 ? rc : val_bytes(r, &v, c->name, a, out, len) < 0 ? SL_ERR_CORRUPT : 1;
}

/* The elements of array column c of rec: *n of them in *arr (0 when null). */
static int
get_array(struct rd *r, avro_value_t *rec, const struct col *c, avro_value_t *arr, size_t *n)
{
    int rc = rd_get(r, rec, c, arr);

    *n = 0;
    if (rc <= 0)
        return rc;
    if (avro_value_get_size(arr, n) != 0)
        return rd_corrupt(r, c->name, "cannot be read: %s", avro_strerror());
    return 1;
}

/* Element i of an array read by get_array. */
static int
rd_elem(struct rd *r, avro_value_t *arr, size_t i, const struct col *c, avro_value_t *out)
{
    if (avro_value_get_by_index(arr, i, out, NULL) != 0)
        return rd_corrupt(r, c->name, "element %zu cannot be read: %s", i, avro_strerror());
    return 0;
}

/* ------------------------------------------------------------------ */
/* Reading a manifest list                                              */
/* ------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum want w;
    bool required; /* absent from v1 lists: content and the sequence numbers (read as 0) */
} list_fields[] = {
    [L_PATH] = {"manifest_path", W_STRING, true},
    [L_LENGTH] = {"manifest_length", W_LONG, true},
    [L_SPEC_ID] = {"partition_spec_id", W_INT, true},
    [L_CONTENT] = {"content", W_INT, false},
    [L_SEQ] = {"sequence_number", W_LONG, false},
    [L_MIN_SEQ] = {"min_sequence_number", W_LONG, false},
    [L_SNAPSHOT_ID] = {"added_snapshot_id", W_LONG, true},
    [L_ADDED_FILES] = {"added_files_count", W_INT, true},
    [L_EXISTING_FILES] = {"existing_files_count", W_INT, true},
    [L_DELETED_FILES] = {"deleted_files_count", W_INT, true},
    [L_ADDED_ROWS] = {"added_rows_count", W_LONG, true},
    [L_EXISTING_ROWS] = {"existing_rows_count", W_LONG, true},
    [L_DELETED_ROWS] = {"deleted_rows_count", W_LONG, true},
    [L_PARTITIONS] = {"partitions", W_ARRAY, false},
};
#define NLIST_FIELDS (sizeof(list_fields) / sizeof(list_fields[0]))

/* A bound of a field summary: the arrays when it fits, the string always. */
static void
bound_keep(const uint8_t *p, size_t n, uint8_t *arr, size_t *len, char **str)
{
    *len = n;
    if (n <= 16)
        memcpy(arr, p, n);
    *str = (char *)p; /* already a NUL-terminated arena copy */
}

static int
read_summary(struct rd *r, avro_value_t *item, const struct col *sc, struct sl_arena *a,
             struct mf_field_summary *s)
{
    const uint8_t *lo = NULL, *hi = NULL;
    size_t nlo = 0, nhi = 0;
    int rc;

    memset(s, 0, sizeof(*s));
    rc = get_bool(r, item, &sc[S_CONTAINS_NULL], &s->contains_null);
    if (rc >= 0)
        rc = get_bool(r, item, &sc[S_CONTAINS_NAN], &s->contains_nan);
    if (rc >= 0)
        rc = get_bytes(r, item, &sc[S_LOWER], a, &lo, &nlo);
    if (rc >= 0)
        rc = get_bytes(r, item, &sc[S_UPPER], a, &hi, &nhi);
    if (rc < 0)
        return rc;
    if (lo != NULL && hi != NULL) {
        s->has_bounds = true;
        bound_keep(lo, nlo, s->lower, &s->lower_len, &s->lower_str);
        bound_keep(hi, nhi, s->upper, &s->upper_len, &s->upper_str);
    }
    return 0;
}

static int
read_row(struct rd *r, const struct col *c, const struct col *sc, struct sl_arena *a,
         struct mf_manifest *m)
{
    int32_t content = 0, *counts[3] = {&m->added_files_count, &m->existing_files_count,
                                       &m->deleted_files_count};
    int64_t *rows[3] = {&m->added_rows_count, &m->existing_rows_count, &m->deleted_rows_count};
    avro_value_t arr, item;
    size_t n;
    int rc;

    memset(m, 0, sizeof(*m));
    if ((rc = get_str(r, &r->rec, &c[L_PATH], a, &m->path)) < 0 ||
        (rc = get_long(r, &r->rec, &c[L_LENGTH], &m->length)) < 0 ||
        (rc = get_int(r, &r->rec, &c[L_SPEC_ID], &m->partition_spec_id)) < 0 ||
        (rc = get_int(r, &r->rec, &c[L_CONTENT], &content)) < 0 ||
        (rc = get_long(r, &r->rec, &c[L_SEQ], &m->sequence_number)) < 0 ||
        (rc = get_long(r, &r->rec, &c[L_MIN_SEQ], &m->min_sequence_number)) < 0 ||
        (rc = get_long(r, &r->rec, &c[L_SNAPSHOT_ID], &m->added_snapshot_id)) < 0)
        return rc;
    if (content != 0 && content != 1)
        return rd_corrupt(r, c[L_CONTENT].name, "is %d, not 0 (data) or 1 (deletes)", content);
    m->content = content == 0 ? MF_DATA : MF_POSITION_DELETES;
    if (m->length < 0 || m->sequence_number < 0 || m->min_sequence_number < 0)
        return rd_corrupt(r, NULL, "a length or sequence number is negative");
    for (int i = 0; i < 3; i++) {
        if ((rc = get_int(r, &r->rec, &c[L_ADDED_FILES + i], counts[i])) < 0 ||
            (rc = get_long(r, &r->rec, &c[L_ADDED_ROWS + i], rows[i])) < 0)
            return rc;
        if (*counts[i] < 0 || *rows[i] < 0)
            return rd_corrupt(r, c[L_ADDED_FILES + i].name, "or its row count is negative");
    }
    rc = get_array(r, &r->rec, &c[L_PARTITIONS], &arr, &n);
    if (rc <= 0)
        return rc;
    m->npartitions = n;
    m->partitions = n ? sl_arena_zalloc(a, n * sizeof(*m->partitions)) : NULL;
    for (size_t i = 0; i < n; i++) {
        if ((rc = rd_elem(r, &arr, i, &c[L_PARTITIONS], &item)) < 0 ||
            (rc = read_summary(r, &item, sc, a, &m->partitions[i])) < 0)
            return rc;
    }
    return 0;
}

int
mf_read_list(const char *path, struct sl_arena *a, struct mf_manifest **out, size_t *n,
             struct sl_diag *d)
{
    struct rd r;
    struct col c[NLIST_FIELDS], sc[4];
    struct mf_manifest *rows = NULL;
    size_t nrows = 0, cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    rc = rd_open(&r, path, "manifest list", d);
    for (size_t i = 0; rc >= 0 && i < NLIST_FIELDS; i++)
        rc = rd_col(&r, r.ws, "", list_fields[i].name, list_fields[i].w, list_fields[i].required,
                    &c[i]);
    if (rc >= 0 && c[L_PARTITIONS].idx >= 0) {
        avro_schema_t item = avro_schema_array_items(c[L_PARTITIONS].type);

        if (item == NULL || avro_typeof(item) != AVRO_RECORD) {
            rc = rd_corrupt(&r, "partitions", "is not a list of records");
        } else if ((rc = rd_col(&r, item, "partitions.", "contains_null", W_BOOL, true,
                                &sc[S_CONTAINS_NULL])) >= 0 &&
                   (rc = rd_col(&r, item, "partitions.", "contains_nan", W_BOOL, false,
                                &sc[S_CONTAINS_NAN])) >= 0 &&
                   (rc = rd_col(&r, item, "partitions.", "lower_bound", W_BYTES, false,
                                &sc[S_LOWER])) >= 0) {
            rc = rd_col(&r, item, "partitions.", "upper_bound", W_BYTES, false, &sc[S_UPPER]);
        }
    }
    while (rc >= 0 && (rc = rd_next(&r)) > 0) {
        SL_GROW(rows, cap, nrows + 1);
        rc = read_row(&r, c, sc, a, &rows[nrows]);
        if (rc >= 0)
            nrows++;
    }
    if (rc >= 0) {
        *out = nrows ? sl_arena_alloc(a, nrows * sizeof(*rows)) : NULL;
        if (nrows)
            memcpy(*out, rows, nrows * sizeof(*rows));
        *n = nrows;
    }
    free(rows);
    rd_close(&r);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* Reading a manifest                                                   */
/* ------------------------------------------------------------------ */

/* The item of a JSON record schema's "fields" named name, or NULL. */
static const struct sl_yaml *
json_field(const struct sl_yaml *rec, const char *name)
{
    const struct sl_yaml *fs, *nm;

    if (rec == NULL || rec->kind != SL_YAML_MAP)
        return NULL;
    fs = sl_yaml_get(rec, "fields");
    if (fs == NULL || fs->kind != SL_YAML_SEQ)
        return NULL;
    for (size_t i = 0; i < fs->n; i++) {
        if (fs->items[i]->kind != SL_YAML_MAP)
            continue;
        nm = sl_yaml_get(fs->items[i], "name");
        if (nm != NULL && nm->kind == SL_YAML_SCALAR && strcmp(nm->str, name) == 0)
            return fs->items[i];
    }
    return NULL;
}

/* A JSON field's type without a union with null. */
static const struct sl_yaml *
json_type(const struct sl_yaml *field)
{
    const struct sl_yaml *t;

    if (field == NULL || field->kind != SL_YAML_MAP)
        return NULL;
    t = sl_yaml_get(field, "type");
    if (t == NULL || t->kind != SL_YAML_SEQ)
        return t;
    for (size_t i = 0; i < t->n; i++)
        if (t->items[i]->kind != SL_YAML_SCALAR || strcmp(t->items[i]->str, "null") != 0)
            return t->items[i];
    return NULL;
}

/* The partition type of a field whose value schema is s and JSON type jt. */
static bool
ptype_of(avro_schema_t s, const struct sl_yaml *jt, enum mf_ptype *out)
{
    const struct sl_yaml *lt = NULL;
    const char *l = "";

    if (jt != NULL && jt->kind == SL_YAML_MAP)
        lt = sl_yaml_get(jt, "logicalType");
    if (lt != NULL && lt->kind == SL_YAML_SCALAR)
        l = lt->str;
    switch (avro_typeof(s)) {
    case AVRO_INT32:
        *out = strcmp(l, "date") == 0 ? MF_PT_DATE : MF_PT_INT;
        return true;
    case AVRO_INT64:
        /* timestamp without zone reads as TIMESTAMPTZ: the same microseconds */
        *out = strcmp(l, "timestamp-micros") == 0 ? MF_PT_TIMESTAMPTZ : MF_PT_LONG;
        return true;
    case AVRO_STRING:
        *out = MF_PT_STRING;
        return true;
    case AVRO_BOOLEAN:
        *out = MF_PT_BOOLEAN;
        return true;
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
        *out = MF_PT_DOUBLE;
        return true;
    default:
        return false;
    }
}

/* What a manifest reader resolved from the writer's schema. */
struct mplan {
    struct col e[5];               /* manifest_entry fields, E_* */
    struct col df[D_REFERENCED_FILE + 1]; /* data_file fields, D_* */
    struct col key[NSTAT_MAPS], value[NSTAT_MAPS]; /* the map entries' fields */
    struct col *pc;                /* partition fields */
    struct mf_partition_field *pf; /* their ids, names and types (arena) */
    size_t npf;
};

static const struct {
    const char *name;
    enum want w;
    bool required;
} df_fields[] = {
    [D_CONTENT] = {"content", W_INT, false}, /* v1: absent, data */
    [D_FILE_PATH] = {"file_path", W_STRING, true},
    [D_FILE_FORMAT] = {"file_format", W_STRING, true},
    [D_PARTITION] = {"partition", W_RECORD, true},
    [D_RECORD_COUNT] = {"record_count", W_LONG, true},
    [D_FILE_SIZE] = {"file_size_in_bytes", W_LONG, true},
    [D_COLUMN_SIZES] = {"column_sizes", W_ARRAY, false},
    [D_VALUE_COUNTS] = {"value_counts", W_ARRAY, false},
    [D_NULL_COUNTS] = {"null_value_counts", W_ARRAY, false},
    [D_NAN_COUNTS] = {"nan_value_counts", W_ARRAY, false},
    [D_LOWER_BOUNDS] = {"lower_bounds", W_ARRAY, false},
    [D_UPPER_BOUNDS] = {"upper_bounds", W_ARRAY, false},
    [D_KEY_METADATA] = {"key_metadata", W_BYTES, false},
    [D_SPLIT_OFFSETS] = {"split_offsets", W_ARRAY, false},
    [D_EQUALITY_IDS] = {"equality_ids", W_ARRAY, false},
    [D_SORT_ORDER_ID] = {"sort_order_id", W_INT, false},
    [D_REFERENCED_FILE] = {"referenced_data_file", W_STRING, false},
};

/* The partition fields: names and types from avro-c, ids and logical
 * types from the schema's text in the header (avro-c forgets both). */
static int
plan_partition(struct rd *r, struct mplan *p, avro_schema_t ps, struct sl_arena *a)
{
    const struct sl_yaml *root, *jdf, *jp;
    struct sl_arena tmp;
    struct sl_diag yd;
    const char *text;
    size_t len = 0;
    int rc = 0;

    p->npf = avro_schema_record_size(ps);
    p->pc = sl_calloc(p->npf + 1, sizeof(*p->pc));
    p->pf = sl_arena_zalloc(a, (p->npf + 1) * sizeof(*p->pf));
    if (p->npf == 0)
        return 0;
    text = header_value(&r->file, "avro.schema", &len);
    if (text == NULL)
        return rd_corrupt(r, NULL, "the header holds no avro.schema");
    sl_arena_init(&tmp, 0);
    sl_diag_init(&yd);
    if (sl_yaml_parse(r->path, text, len, &tmp, (struct sl_yaml **)&root, &yd) < 0) {
        rc = rd_corrupt(r, NULL, "the schema in the header does not parse: %s", yd.msg);
        goto out;
    }
    jdf = json_type(json_field(root, "data_file"));
    jp = json_type(json_field(jdf, "partition"));
    for (size_t i = 0; i < p->npf; i++) {
        const char *name = avro_schema_record_field_name(ps, (int)i);
        const struct sl_yaml *jf, *id;
        struct col *c = &p->pc[i];
        char *end;
        long long v;

        if (name == NULL) {
            rc = rd_corrupt(r, "data_file.partition", "field %zu has no name", i);
            goto out;
        }
        memset(c, 0, sizeof(*c));
        snprintf(c->name, sizeof(c->name), "data_file.partition.%s", name);
        c->idx = (int)i;
        c->type = value_schema(avro_schema_record_field_get_by_index(ps, (int)i), &c->opt);
        jf = json_field(jp, name);
        id = jf != NULL ? sl_yaml_get(jf, "field-id") : NULL;
        if (id == NULL || id->kind != SL_YAML_SCALAR) {
            rc = rd_corrupt(r, c->name, "has no field-id");
            goto out;
        }
        errno = 0;
        v = strtoll(id->str, &end, 10);
        if (errno != 0 || end == id->str || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
            rc = rd_corrupt(r, c->name, "has field-id \"%s\", not an int", id->str);
            goto out;
        }
        if (c->type == NULL || !ptype_of(c->type, json_type(jf), &p->pf[i].type)) {
            sl_fail(r->d, SL_ERR_INCOMPATIBLE, "cannot read manifest '%s': partition field "
                    "'%s' has a type sluice does not read (int, long, date, timestamp, "
                    "string, boolean, float, double)", r->path, name);
            sl_diag_at(r->d, r->path, 0, 0, c->name);
            rc = SL_ERR_INCOMPATIBLE;
            goto out;
        }
        p->pf[i].field_id = (int32_t)v;
        p->pf[i].name = sl_arena_strdup(a, name);
        rc = 0;
    }
out:
    sl_arena_release(&tmp);
    return rc;
}

static int
plan_manifest(struct rd *r, struct mplan *p, struct sl_arena *a)
{
    static const struct {
        const char *name;
        enum want w;
        bool required;
    } ef[] = {
        [E_STATUS] = {"status", W_INT, true},
        [E_SNAPSHOT_ID] = {"snapshot_id", W_LONG, false},
        [E_SEQ] = {"sequence_number", W_LONG, false}, /* v1: absent */
        [E_FILE_SEQ] = {"file_sequence_number", W_LONG, false},
        [E_DATA_FILE] = {"data_file", W_RECORD, true},
    };
    avro_schema_t df, item;
    char prefix[64];
    int rc;

    for (size_t i = 0; i < sizeof(ef) / sizeof(ef[0]); i++) {
        rc = rd_col(r, r->ws, "", ef[i].name, ef[i].w, ef[i].required, &p->e[i]);
        if (rc < 0)
            return rc;
    }
    df = p->e[E_DATA_FILE].type;
    for (size_t i = 0; i < sizeof(df_fields) / sizeof(df_fields[0]); i++) {
        rc = rd_col(r, df, "data_file.", df_fields[i].name, df_fields[i].w, df_fields[i].required,
                    &p->df[i]);
        if (rc < 0)
            return rc;
    }
    for (size_t k = 0; k < NSTAT_MAPS; k++) {
        const struct col *c = &p->df[D_COLUMN_SIZES + k];

        if (c->idx < 0)
            continue;
        item = avro_schema_array_items(c->type);
        if (item == NULL || avro_typeof(item) != AVRO_RECORD)
            return rd_corrupt(r, c->name, "is not a list of key-value records");
        snprintf(prefix, sizeof(prefix), "%s.", c->name);
        if ((rc = rd_col(r, item, prefix, "key", W_INT, true, &p->key[k])) < 0 ||
            (rc = rd_col(r, item, prefix, "value", stat_maps[k].bytes ? W_BYTES : W_LONG, true,
                         &p->value[k])) < 0)
            return rc;
    }
    if (p->df[D_SPLIT_OFFSETS].idx >= 0) {
        item = avro_schema_array_items(p->df[D_SPLIT_OFFSETS].type);
        if (item == NULL || !type_ok(item, W_LONG))
            return rd_corrupt(r, p->df[D_SPLIT_OFFSETS].name, "is not a list of longs");
    }
    if (p->df[D_EQUALITY_IDS].idx >= 0) {
        item = avro_schema_array_items(p->df[D_EQUALITY_IDS].type);
        if (item == NULL || avro_typeof(item) != AVRO_INT32)
            return rd_corrupt(r, p->df[D_EQUALITY_IDS].name, "is not a list of ints");
    }
    return plan_partition(r, p, p->df[D_PARTITION].type, a);
}

static int
read_pvalue(struct rd *r, avro_value_t *part, const struct col *c, enum mf_ptype t,
            struct sl_arena *a, struct mf_pvalue *v)
{
    avro_value_t x;
    int32_t i32 = 0;
    bool b = false;
    int rc = rd_get(r, part, c, &x);

    memset(v, 0, sizeof(*v));
    if (rc <= 0)
        return rc;
    v->set = true;
    switch (t) {
    case MF_PT_INT:
    case MF_PT_DATE:
        rc = val_int(r, &x, c->name, &i32);
        v->i = i32;
        return rc;
    case MF_PT_LONG:
    case MF_PT_TIMESTAMPTZ:
        return val_long(r, &x, c->name, &v->i);
    case MF_PT_STRING:
        return val_str(r, &x, c->name, a, &v->s);
    case MF_PT_BOOLEAN:
        rc = val_bool(r, &x, c->name, &b);
        v->i = b;
        return rc;
    case MF_PT_DOUBLE:
        return val_double(r, &x, c->name, &v->f);
    }
    return rd_corrupt(r, c->name, "has an unknown partition type");
}

static int
stats_cmp(const void *x, const void *y)
{
    const struct mf_column_stats *a = x, *b = y;

    return (a->field_id > b->field_id) - (a->field_id < b->field_id);
}

/*
 * The statistics maps of df into e->stats, one per column, by field id.
 * Each map element becomes an item of its own in *st first, and items of
 * the same column are merged after sorting: linear in the elements
 * whatever order the maps are in.
 */
static int
read_stats(struct rd *r, const struct mplan *p, avro_value_t *df, struct sl_arena *a,
           struct mf_column_stats **st, size_t *cap, struct mf_entry *e)
{
    avro_value_t arr, item;
    size_t n, nst = 0, k = 0;
    int rc;

    for (size_t m = 0; m < NSTAT_MAPS; m++) {
        const struct col *c = &p->df[D_COLUMN_SIZES + m];

        rc = get_array(r, df, c, &arr, &n);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++) {
            struct mf_column_stats *s;
            int64_t v = -1;

            SL_GROW(*st, *cap, nst + 1);
            s = &(*st)[nst];
            memset(s, 0, sizeof(*s));
            s->column_size = s->value_count = s->null_count = s->nan_count = -1;
            if ((rc = rd_elem(r, &arr, i, c, &item)) < 0 ||
                (rc = get_int(r, &item, &p->key[m], &s->field_id)) < 0)
                return rc;
            if (m == 4)
                rc = get_bytes(r, &item, &p->value[m], a, &s->lower, &s->lower_len);
            else if (m == 5)
                rc = get_bytes(r, &item, &p->value[m], a, &s->upper, &s->upper_len);
            else
                rc = get_long(r, &item, &p->value[m], &v);
            if (rc < 0)
                return rc;
            if (v < 0 && m < 4)
                return rd_corrupt(r, p->value[m].name, "is negative");
            *(m == 0 ? &s->column_size : m == 1 ? &s->value_count
              : m == 2 ? &s->null_count : &s->nan_count) = m < 4 ? v : -1;
            nst++;
        }
    }
    if (nst == 0)
        return 0;
    qsort(*st, nst, sizeof(**st), stats_cmp);
    e->stats = sl_arena_alloc(a, nst * sizeof(*e->stats));
    for (size_t i = 0; i < nst; i++) {
        const struct mf_column_stats *s = &(*st)[i];
        struct mf_column_stats *o = &e->stats[k > 0 ? k - 1 : 0];

        if (k == 0 || o->field_id != s->field_id) {
            e->stats[k++] = *s;
            continue;
        }
        if (s->column_size >= 0)
            o->column_size = s->column_size;
        if (s->value_count >= 0)
            o->value_count = s->value_count;
        if (s->null_count >= 0)
            o->null_count = s->null_count;
        if (s->nan_count >= 0)
            o->nan_count = s->nan_count;
        if (s->lower != NULL) {
            o->lower = s->lower;
            o->lower_len = s->lower_len;
        }
        if (s->upper != NULL) {
            o->upper = s->upper;
            o->upper_len = s->upper_len;
        }
    }
    e->nstats = k;
    return 0;
}

/* The lists of data_file: split offsets and equality ids. */
static int
read_lists(struct rd *r, const struct mplan *p, avro_value_t *df, struct sl_arena *a,
           struct mf_entry *e)
{
    avro_value_t arr, item;
    size_t n;
    int rc;

    rc = get_array(r, df, &p->df[D_SPLIT_OFFSETS], &arr, &n);
    if (rc < 0)
        return rc;
    if (n > 0) {
        e->split_offsets = sl_arena_alloc(a, n * sizeof(*e->split_offsets));
        e->nsplit_offsets = n;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = rd_elem(r, &arr, i, &p->df[D_SPLIT_OFFSETS], &item)) < 0 ||
            (rc = val_long(r, &item, p->df[D_SPLIT_OFFSETS].name, &e->split_offsets[i])) < 0)
            return rc;
    rc = get_array(r, df, &p->df[D_EQUALITY_IDS], &arr, &n);
    if (rc < 0)
        return rc;
    if (n > 0) {
        e->equality_ids = sl_arena_alloc(a, n * sizeof(*e->equality_ids));
        e->nequality_ids = n;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = rd_elem(r, &arr, i, &p->df[D_EQUALITY_IDS], &item)) < 0 ||
            (rc = val_int(r, &item, p->df[D_EQUALITY_IDS].name, &e->equality_ids[i])) < 0)
            return rc;
    return 0;
}

/* Fill what a null entry value inherits from the manifest-list row
 * (spec "Sequence Number Inheritance"; Java's InheritableMetadataFactory):
 * the snapshot id always; the sequence numbers when the entry is ADDED, or
 * whatever the status when the manifest's sequence number is 0 (a v1
 * manifest in a v2 table). */
static int
inherit(struct rd *r, const struct mf_manifest *m, struct mf_entry *e)
{
    bool may = e->status == MF_ADDED || m->sequence_number == 0;

    if (e->snapshot_id < 0)
        e->snapshot_id = m->added_snapshot_id;
    if (e->sequence_number < 0) {
        if (!may)
            return rd_corrupt(r, "sequence_number", "is null in an entry that is not ADDED, "
                              "so it cannot be inherited");
        e->sequence_number = m->sequence_number;
    }
    /* a null file sequence number is left null where Java leaves it */
    if (e->file_sequence_number < 0 && may)
        e->file_sequence_number = m->sequence_number;
    return 0;
}

static int
read_entry(struct rd *r, const struct mplan *p, const struct mf_manifest *m, struct sl_arena *a,
           struct mf_column_stats **st, size_t *stcap, struct mf_entry *e)
{
    avro_value_t df, part;
    int32_t status = 0, content = 0;
    int64_t *seqs[3] = {&e->snapshot_id, &e->sequence_number, &e->file_sequence_number};
    int rc;

    memset(e, 0, sizeof(*e));
    e->snapshot_id = e->sequence_number = e->file_sequence_number = -1;
    e->sort_order_id = -1;
    if ((rc = get_int(r, &r->rec, &p->e[E_STATUS], &status)) < 0)
        return rc;
    if (status < 0 || status > 2)
        return rd_corrupt(r, "status", "is %d, not 0, 1 or 2", status);
    e->status = (enum mf_status)status;
    for (int i = 0; i < 3; i++) {
        rc = get_long(r, &r->rec, &p->e[E_SNAPSHOT_ID + i], seqs[i]);
        if (rc < 0)
            return rc;
        if (rc > 0 && *seqs[i] < 0)
            return rd_corrupt(r, p->e[E_SNAPSHOT_ID + i].name, "is negative");
    }
    if ((rc = rd_get(r, &r->rec, &p->e[E_DATA_FILE], &df)) < 0 ||
        (rc = get_int(r, &df, &p->df[D_CONTENT], &content)) < 0)
        return rc;
    if (content < 0 || content > 2)
        return rd_corrupt(r, "data_file.content", "is %d, not 0, 1 or 2", content);
    e->content = (enum mf_content)content;
    if ((rc = get_str(r, &df, &p->df[D_FILE_PATH], a, &e->file_path)) < 0 ||
        (rc = get_str(r, &df, &p->df[D_FILE_FORMAT], a, &e->file_format)) < 0 ||
        (rc = get_long(r, &df, &p->df[D_RECORD_COUNT], &e->record_count)) < 0 ||
        (rc = get_long(r, &df, &p->df[D_FILE_SIZE], &e->file_size)) < 0 ||
        (rc = rd_get(r, &df, &p->df[D_PARTITION], &part)) < 0)
        return rc;
    if (e->record_count < 0 || e->file_size < 0)
        return rd_corrupt(r, "data_file", "record_count or file_size_in_bytes is negative");
    e->partition = sl_arena_zalloc(a, (p->npf + 1) * sizeof(*e->partition));
    for (size_t i = 0; i < p->npf; i++)
        if ((rc = read_pvalue(r, &part, &p->pc[i], p->pf[i].type, a, &e->partition[i])) < 0)
            return rc;
    if ((rc = read_stats(r, p, &df, a, st, stcap, e)) < 0 || (rc = read_lists(r, p, &df, a, e)) < 0 ||
        (rc = get_int(r, &df, &p->df[D_SORT_ORDER_ID], &e->sort_order_id)) < 0 ||
        (rc = get_str(r, &df, &p->df[D_REFERENCED_FILE], a, &e->referenced_data_file)) < 0)
        return rc;
    return m != NULL ? inherit(r, m, e) : 0;
}

int
mf_read_manifest(const char *path, const struct mf_manifest *m, struct sl_arena *a,
                 struct mf_entry **out, size_t *n, struct mf_partition_field **fields,
                 size_t *nfields, struct sl_diag *d)
{
    struct rd r;
    struct mplan p;
    struct mf_entry *es = NULL;
    struct mf_column_stats *st = NULL;
    size_t ne = 0, cap = 0, stcap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (fields != NULL)
        *fields = NULL;
    if (nfields != NULL)
        *nfields = 0;
    memset(&p, 0, sizeof(p));
    rc = rd_open(&r, path, "manifest", d);
    /* Avro cannot tell a file cut between blocks from a whole one; the
     * list row can */
    if (rc >= 0 && m != NULL && m->length > 0 && (int64_t)r.file.len != m->length)
        rc = rd_corrupt(&r, NULL, "it has %zu bytes, its manifest list says %lld", r.file.len,
                        (long long)m->length);
    if (rc >= 0)
        rc = plan_manifest(&r, &p, a);
    while (rc >= 0 && (rc = rd_next(&r)) > 0) {
        SL_GROW(es, cap, ne + 1);
        rc = read_entry(&r, &p, m, a, &st, &stcap, &es[ne]);
        if (rc >= 0)
            ne++;
    }
    if (rc >= 0) {
        *out = ne ? sl_arena_alloc(a, ne * sizeof(*es)) : NULL;
        if (ne)
            memcpy(*out, es, ne * sizeof(*es));
        *n = ne;
        if (fields != NULL)
            *fields = p.pf;
        if (nfields != NULL)
            *nfields = p.npf;
    }
    free(es);
    free(st);
    free(p.pc);
    rd_close(&r);
    return rc < 0 ? rc : 0;
}
