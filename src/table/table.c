/*
 * table.c - Iceberg v2 snapshots, metadata files and commits (see table.h).
 *
 * Metadata files are JSON documents held as jansson trees: a commit loads
 * the current one, changes what the spec says a commit changes, and keeps
 * every member it does not know, so that metadata another writer added
 * (properties, statistics, refs) survives sluice's commits.
 *
 * Files a commit writes (manifests, the manifest list, the metadata file)
 * go through the store: staged, sealed, published under the table's
 * metadata/ folder with names no other commit uses.
 */
#include "table/table.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "catalog/iceberg.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "table/table_int.h"
#include "core/banned.h"

#define METADATA_MAX TABLE_METADATA_MAX
#define FIRST_PARTITION_ID 1000     /* partition field ids start here (Java's) */
#define MAX_METADATA_LOG TABLE_METADATA_LOG_MAX
#define MERGE_MIN_COUNT 100         /* commit.manifest.min-count-to-merge */
#define MERGE_TARGET_BYTES (8 << 20) /* commit.manifest.target-size-bytes */

/* ---- names ------------------------------------------------------------------- */

char *
table_uri(struct store *s, const char *key)
{
    return sl_printf("file://%s/%s", store_local_dir(s), key);
}

const char *
table_key_of(const char *prefix, const char *uri, size_t len)
{
    size_t n = strlen(prefix);
    const char *end = uri + len;

    if (len < 7 || memcmp(uri, "file://", 7) != 0)
        return NULL;
    for (const char *p = memchr(uri + 7, '/', len - 7); p != NULL;
         p = memchr(p + 1, '/', (size_t)(end - p - 1))) {
        if ((size_t)(end - p) > n + 1 && memcmp(p + 1, prefix, n) == 0 && p[1 + n] == '/')
            return p + 1;
    }
    return NULL;
}

/* The store prefix of table ns.name. */
static char *
table_prefix(const char *ns, const char *name)
{
    return layout_table_prefix(ns, name);
}

static void
no_random(void)
{
    fprintf(stderr, "sluice: fatal: the system gives no random bytes\n");
    abort();
}

/* A random version-4 UUID in text form (37 bytes with the NUL). */
void
table_new_uuid(char out[37])
{
    uint8_t b[16];
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (RAND_bytes(b, sizeof(b)) != 1)
        no_random();
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* A random positive 63-bit snapshot id. */
static int64_t
new_snapshot_id(void)
{
    uint64_t v;

    if (RAND_bytes((uint8_t *)&v, sizeof(v)) != 1)
        no_random();
    v &= INT64_MAX;
    return v == 0 ? 1 : (int64_t)v;
}

/* The version number a metadata file name starts with ("00042-..."), or -1. */
long
table_metadata_version(const char *location)
{
    const char *base = strrchr(location, '/');
    char *end;
    long v;

    base = base ? base + 1 : location;
    v = strtol(base, &end, 10);
    return end != base && *end == '-' ? v : -1;
}

/* ---- reading and writing files through the store ------------------------------------- */

/* Publish the file staged at key staged to key (a new name). */
static int
publish_new(struct store *s, const char *staged, const char *key, struct sl_diag *d)
{
    int rc = store_seal(s, staged, d);

    if (rc == 0)
        rc = store_publish(s, staged, key, STORE_IF_ABSENT, d);
    if (rc < 0)
        store_unstage(s, staged, NULL);
    return rc;
}

/* The local path of a file of the table at prefix that metadata names by
 * URI (in this lake, or where the lake was when the URI was written). */
static int
local_of(struct store *s, const char *prefix, const char *uri, char **path, struct sl_diag *d)
{
    const char *key = table_key_of(prefix, uri, strlen(uri));

    if (key == NULL || !store_key_valid(key))
        return sl_fail(d, SL_ERR_CORRUPT,
                       "Iceberg metadata names '%s', which is not a file of table %s", uri,
                       prefix);
    return store_local_path(s, key, path, d);
}

int
table_load_json(struct store *s, const char *prefix, const char *uri, json_t **out,
          struct sl_diag *d)
{
    struct sl_buf b;
    json_error_t err;
    char *path = NULL;
    int rc = local_of(s, prefix, uri, &path, d);

    sl_buf_init(&b);
    if (rc == 0)
        rc = sl_read_file(path, METADATA_MAX, &b, d);
    if (rc == 0) {
        *out = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
        if (*out == NULL || !json_is_object(*out)) {
            rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: %s at line %d, column %d",
                         path, *out ? "not a JSON object" : err.text, err.line, err.column);
            json_decref(*out);
            *out = NULL;
        }
    } else if (rc == -ENOENT || rc == SL_ERR_NOTFOUND) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s is missing", path ? path : uri);
    }
    free(path);
    sl_buf_release(&b);
    return rc;
}

/*
 * The current metadata of table ns.name into m (m->file its location, in
 * a).  SL_ERR_NOTFOUND if the catalog has no such table: without words,
 * or with "no table ns.name" when words.
 */
struct meta;
static int open_meta(struct catalog_txn *txn, struct store *s, const char *ns,
                     const char *name, const char *prefix, bool words, struct sl_arena *a,
                     struct meta *m, struct sl_diag *d);

/* ---- the metadata document --------------------------------------------------------- */

struct meta {
    json_t *root;
    const char *file;        /* its location, for messages */
};

static int
need_int(const struct meta *m, json_t *obj, const char *key, int64_t *out, struct sl_diag *d)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v))
        return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: '%s' is missing or not an integer",
                       m->file, key);
    *out = json_integer_value(v);
    return 0;
}

static json_t *
need_array(const struct meta *m, json_t *obj, const char *key, struct sl_diag *d, int *rc)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_array(v)) {
        *rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: '%s' is missing or not a list",
                      m->file, key);
        return NULL;
    }
    return v;
}

static int
open_meta(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
          const char *prefix, bool words, struct sl_arena *a, struct meta *m,
          struct sl_diag *d)
{
    const char *loc;
    int rc = catalog_iceberg_get(txn, ns, name, a, &loc, d);

    if (rc == SL_ERR_NOTFOUND && words)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "no table %s.%s", ns, name);
    if (rc == 0)
        rc = table_load_json(s, prefix, loc, &m->root, d);
    if (rc == 0)
        m->file = loc;
    return rc;
}

/* The schema object for def's columns (schema-id id). */
static json_t *
schema_json(const struct table_def *def, int64_t id)
{
    json_t *fields = json_array();
    json_t *ids = json_array();
    char type[32];

    for (size_t i = 0; i < def->ncolumns; i++) {
        const struct table_column *c = &def->columns[i];

        ival_type_name(c->type, type, sizeof(type));
        json_array_append_new(fields, json_pack("{s:i, s:s, s:b, s:s}", "id", (json_int_t)c->field_id,
                                                "name", c->name, "required", c->required,
                                                "type", type));
    }
    /* identifier-field-ids: the key columns, where Iceberg allows them
     * (required, not floating point). */
    if (def->key_columns != NULL) {
        const char *p = def->key_columns;

        while (*p) {
            size_t n = strcspn(p, ",");

            for (size_t i = 0; i < def->ncolumns; i++) {
                const struct table_column *c = &def->columns[i];

                if (strlen(c->name) == n && strncmp(c->name, p, n) == 0 && c->required &&
                    c->type.id != SL_TYPE_DOUBLE && c->type.id != SL_TYPE_FLOAT)
                    json_array_append_new(ids, json_integer(c->field_id));
            }
            p += n;
            if (*p == ',')
                p++;
        }
    }
    return json_pack("{s:s, s:I, s:o, s:o}", "type", "struct", "schema-id", (json_int_t)id,
                     "identifier-field-ids", ids, "fields", fields);
}

/* Whether two schema objects have the same fields and identifier ids. */
static bool
same_schema(json_t *a, json_t *b)
{
    return json_equal(json_object_get(a, "fields"), json_object_get(b, "fields")) &&
           json_equal(json_object_get(a, "identifier-field-ids"),
                      json_object_get(b, "identifier-field-ids"));
}

/* The spec field of transform t of column c: source c's id, field id
 * assigned later (choose_spec) or FIRST_PARTITION_ID + i. */
static json_t *
spec_field_json(const struct table_column *c, struct ival_transform t, int64_t field_id)
{
    char tname[32], name[300];

    ival_transform_name(t, tname, sizeof(tname));
    if (t.kind == IVAL_IDENTITY)
        snprintf(name, sizeof(name), "%s", c->name);
    else if (t.kind == IVAL_BUCKET || t.kind == IVAL_TRUNCATE_T)
        snprintf(name, sizeof(name), "%s_%s", c->name, t.kind == IVAL_BUCKET ? "bucket" : "trunc");
    else
        snprintf(name, sizeof(name), "%s_%s", c->name, tname);
    return json_pack("{s:I, s:I, s:s, s:s}", "source-id", (json_int_t)c->field_id, "field-id",
                     (json_int_t)field_id, "name", name, "transform", tname);
}

/* The partition spec's fields for def. */
static json_t *
spec_fields_json(const struct table_def *def)
{
    json_t *fields = json_array();

    for (size_t k = 0; k < def->nparts; k++)
        for (size_t i = 0; i < def->ncolumns; i++)
            if (strcmp(def->columns[i].name, def->parts[k].column) == 0)
                json_array_append_new(fields,
                                      spec_field_json(&def->columns[i], def->parts[k].transform,
                                                      FIRST_PARTITION_ID + (int64_t)k));
    if (def->nparts > 0 || def->partition_column == NULL)
        return fields;
    for (size_t i = 0; i < def->ncolumns; i++)
        if (strcmp(def->columns[i].name, def->partition_column) == 0)
            json_array_append_new(fields, spec_field_json(&def->columns[i], def->transform,
                                                          FIRST_PARTITION_ID));
    return fields;
}

/* The manifest partition field type of transform t of column src (may be
 * NULL: unknown, taken as a string). */
static enum mf_ptype
partition_type(const struct table_column *src, struct ival_transform t)
{
    switch (t.kind) {
    case IVAL_DAY:
        return MF_PT_DATE;
    case IVAL_YEAR:
    case IVAL_MONTH:
    case IVAL_HOUR:
    case IVAL_BUCKET:
        return MF_PT_INT;
    default:
        break;
    }
    switch (src ? src->type.id : SL_TYPE_STRING) {
    case SL_TYPE_INT64:
        return MF_PT_LONG;
    case SL_TYPE_INT32:
        return MF_PT_INT;
    case SL_TYPE_DATE:
        return MF_PT_DATE;
    case SL_TYPE_TIMESTAMP:
        return MF_PT_TIMESTAMPTZ;
    case SL_TYPE_BOOL:
        return MF_PT_BOOLEAN;
    case SL_TYPE_DOUBLE:
        return MF_PT_DOUBLE;
    default:
        return MF_PT_STRING;
    }
}

/* A new table's metadata (no snapshot) at location. */
static json_t *
new_metadata(const struct table_def *def, const char *location)
{
    char uuid[37];
    json_t *spec = spec_fields_json(def);
    int64_t last_partition = FIRST_PARTITION_ID - 1 + (int64_t)json_array_size(spec);

    table_new_uuid(uuid);
    return json_pack(
        "{s:i, s:s, s:s, s:I, s:I, s:I, s:i, s:[o], s:i, s:[{s:i, s:o}], s:I, s:i, "
        "s:[{s:i, s:[]}], s:{s:s, s:s}, s:I, s:{}, s:[], s:[], s:[]}",
        "format-version", 2, "table-uuid", uuid, "location", location,
        "last-sequence-number", (json_int_t)0, "last-updated-ms", (json_int_t)sl_now_ms(),
        "last-column-id", (json_int_t)def->last_column_id, "current-schema-id", 0, "schemas",
        schema_json(def, 0), "default-spec-id", 0, "partition-specs", "spec-id", 0, "fields",
        spec, "last-partition-id", (json_int_t)last_partition, "default-sort-order-id", 0,
        "sort-orders", "order-id", 0, "fields", "properties", "write.parquet.compression-codec",
        "zstd", "sluice.managed-by", "sluice", "current-snapshot-id", (json_int_t)-1, "refs",
        "snapshots", "snapshot-log", "metadata-log");
}

/* Bring the current schema to def's: a new schema when the columns differ. */
static int
evolve_schema(struct meta *m, const struct table_def *def, int64_t *schema_id, struct sl_diag *d)
{
    int rc = 0;
    json_t *schemas = need_array(m, m->root, "schemas", d, &rc);
    int64_t current = 0, max_id = -1, last_col = 0;
    json_t *s, *cur = NULL, *want;
    size_t i;

    if (schemas == NULL)
        return rc;
    rc = need_int(m, m->root, "current-schema-id", &current, d);
    if (rc == 0)
        rc = need_int(m, m->root, "last-column-id", &last_col, d);
    if (rc < 0)
        return rc;
    json_array_foreach(schemas, i, s) {
        int64_t id = json_integer_value(json_object_get(s, "schema-id"));

        if (id > max_id)
            max_id = id;
        if (id == current)
            cur = s;
    }
    if (cur == NULL)
        return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: current schema %" PRId64
                       " is not among its schemas", m->file, current);
    want = schema_json(def, current);
    if (same_schema(cur, want)) {
        json_decref(want);
        *schema_id = current;
        return 0;
    }
    json_object_set_new(want, "schema-id", json_integer(max_id + 1));
    json_array_append_new(schemas, want);
    json_object_set_new(m->root, "current-schema-id", json_integer(max_id + 1));
    if (def->last_column_id > last_col)
        json_object_set_new(m->root, "last-column-id", json_integer(def->last_column_id));
    *schema_id = max_id + 1;
    return 0;
}

/* Whether two specs' fields partition alike: the same source columns,
 * transforms and names (field ids aside). */
static bool
same_fields(json_t *a, json_t *b)
{
    static const char *const keys[] = {"source-id", "transform", "name"};
    size_t n = json_array_size(a);

    if (n != json_array_size(b))
        return false;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 3; k++)
            if (!json_equal(json_object_get(json_array_get(a, i), keys[k]),
                            json_object_get(json_array_get(b, i), keys[k])))
                return false;
    return true;
}

/*
 * Make def's partitioning the default spec: the current one if it is
 * already, an older spec that partitions alike, or a new spec (the next
 * spec id, its fields the next partition field ids) - Iceberg's partition
 * spec evolution.  Files keep the spec they were written under; their
 * manifests say which.
 */
static int
choose_spec(struct meta *m, const struct table_def *def, int64_t *spec_id, struct sl_diag *d)
{
    int rc = 0;
    json_t *specs = need_array(m, m->root, "partition-specs", d, &rc);
    json_t *s, *want, *like = NULL, *cur = NULL;
    int64_t max_id = -1, last = FIRST_PARTITION_ID - 1;
    size_t i;

    if (specs == NULL)
        return rc;
    rc = need_int(m, m->root, "default-spec-id", spec_id, d);
    if (rc < 0)
        return rc;
    json_t *lp = json_object_get(m->root, "last-partition-id");

    if (json_is_integer(lp))
        last = json_integer_value(lp);
    want = spec_fields_json(def);
    json_array_foreach(specs, i, s) {
        int64_t id = json_integer_value(json_object_get(s, "spec-id"));

        max_id = id > max_id ? id : max_id;
        if (id == *spec_id)
            cur = s;
        if (like == NULL && same_fields(json_object_get(s, "fields"), want))
            like = s;
    }
    if (cur == NULL) {
        json_decref(want);
        return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: default spec %" PRId64
                       " is not among its partition specs", m->file, *spec_id);
    }
    if (like == NULL || !same_fields(json_object_get(cur, "fields"), want)) {
        if (like != NULL) {
            *spec_id = json_integer_value(json_object_get(like, "spec-id"));
        } else {
            json_t *f;

            json_array_foreach(want, i, f)
                json_object_set_new(f, "field-id", json_integer(++last));
            *spec_id = max_id + 1;
            json_array_append_new(specs, json_pack("{s:I, s:O}", "spec-id",
                                                   (json_int_t)*spec_id, "fields", want));
            json_object_set_new(m->root, "last-partition-id", json_integer(last));
        }
        json_object_set_new(m->root, "default-spec-id", json_integer(*spec_id));
    }
    json_decref(want);
    return 0;
}

/* A partition spec of the table, as manifests are written under it. */
struct wspec {
    int64_t id;
    char *text;                   /* its "fields" as JSON */
    struct ival_transform t;      /* its first field's transform (IVAL_VOID: no
                                     field); a bucket's column from def */
    size_t npfields;
    struct mf_partition_field *pfields; /* its fields, in order */
};

/* The type of field id in the schemas of m, the newest that has it (a
 * spec's source may be a column the current schema dropped). */
static bool
schema_field_type(const struct meta *m, int64_t id, struct sl_type *t)
{
    json_t *schemas = json_object_get(m->root, "schemas");

    for (size_t i = json_array_size(schemas); i-- > 0;) {
        json_t *f;
        size_t k;

        json_array_foreach(json_object_get(json_array_get(schemas, i), "fields"), k, f) {
            const char *type = json_string_value(json_object_get(f, "type"));

            if (json_integer_value(json_object_get(f, "id")) == id)
                return type != NULL && ival_type_parse(type, t) == 0;
        }
    }
    return false;
}

/* Every partition spec of the metadata into specs (strings in a). */
static int
load_specs(struct meta *m, const struct table_def *def, struct sl_arena *a,
           struct wspec **specs, size_t *nspecs, struct sl_diag *d)
{
    json_t *all = json_object_get(m->root, "partition-specs"), *s;
    size_t i;

    *nspecs = json_array_size(all);
    *specs = sl_arena_zalloc(a, (*nspecs + 1) * sizeof(**specs));
    json_array_foreach(all, i, s) {
        struct wspec *w = &(*specs)[i];
        json_t *fields = json_object_get(s, "fields"), *f;
        char *text = json_dumps(fields, JSON_COMPACT | JSON_PRESERVE_ORDER);
        size_t k;

        w->id = json_integer_value(json_object_get(s, "spec-id"));
        w->text = sl_arena_strdup(a, text ? text : "[]");
        free(text);
        w->t.kind = IVAL_VOID;
        w->npfields = json_array_size(fields);
        w->pfields = sl_arena_zalloc(a, (w->npfields + 1) * sizeof(*w->pfields));
        json_array_foreach(fields, k, f) {
            const struct table_column *src = NULL;
            struct ival_transform t;

            if (ival_transform_parse(json_string_value(json_object_get(f, "transform")), &t,
                                     d) < 0)
                return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: partition spec "
                               "%" PRId64 " has a field of an unknown transform", m->file, w->id);
            for (size_t j = 0; j < def->ncolumns; j++)
                if (def->columns[j].field_id ==
                    json_integer_value(json_object_get(f, "source-id")))
                    src = &def->columns[j];
            if (src == NULL) {
                /* a column dropped since: its type from the schema that had it */
                struct table_column *was = sl_arena_zalloc(a, sizeof(*was));

                if (schema_field_type(m, json_integer_value(json_object_get(f, "source-id")),
                                      &was->type))
                    src = was;
            }
            if (t.kind == IVAL_BUCKET && src != NULL && src->name != NULL)
                t.column = src->name;
            if (k == 0)
                w->t = t;
            w->pfields[k].field_id = (int32_t)json_integer_value(json_object_get(f, "field-id"));
            w->pfields[k].name = sl_arena_strdup(a, json_string_value(json_object_get(f, "name")));
            w->pfields[k].type = partition_type(src, t);
        }
    }
    return 0;
}

/* ---- the commit ------------------------------------------------------------------ */

struct commit_ctx {
    struct store *s;
    const struct table_def *def;
    const struct table_change *ch;
    struct meta m;
    struct sl_arena a;
    char uuid[37];
    int64_t snapshot_id, parent_id, seq;
    int64_t schema_id;
    char *schema_text;
    struct wspec *specs;          /* every partition spec of the table */
    size_t nspecs;
    const struct wspec *dspec;    /* the default: what added files are written under */
    int nwritten;                 /* manifests this commit wrote */
    int merged;                   /* manifests merged into others */
    /* the new manifest list */
    struct mf_manifest *list;
    size_t nlist, listcap;
    /* the change's counts, for the summary */
    int64_t added_data, added_deletes, removed_data, removed_deletes;
    int64_t added_records, deleted_records, added_size, removed_size;
    int64_t added_pos_deletes, removed_pos_deletes;
    bool *found;                  /* per removed file: met in a manifest */
};

/* Stage a file of this commit under the table's metadata folder. */
static int
stage_meta(struct commit_ctx *c, const char *name, char **staged, char **path, char **key,
           struct sl_diag *d)
{
    char *sname = sl_printf("%s-%s", c->def->name, name);
    int rc = store_stage(c->s, sname, staged, path, d);

    free(sname);
    if (rc == 0)
        *key = sl_printf("%s/metadata/%s", c->def->prefix, name);
    return rc;
}

/* The table's spec id, or NULL. */
static const struct wspec *
spec_by_id(const struct commit_ctx *c, int64_t id)
{
    for (size_t i = 0; i < c->nspecs; i++)
        if (c->specs[i].id == id)
            return &c->specs[i];
    return NULL;
}

/* The list row of manifest m, which names its spec's fields when they are
 * not the default spec's (known: carry_manifest() checked). */
static void
add_list_row(struct commit_ctx *c, const struct mf_manifest *m)
{
    const struct wspec *w = spec_by_id(c, m->partition_spec_id);
    struct mf_manifest *row;

    SL_GROW(c->list, c->listcap, c->nlist + 1);
    row = &c->list[c->nlist++];
    *row = *m;
    if (w != NULL && w != c->dspec) {
        row->fields = w->pfields;
        row->nfields = w->npfields;
    }
}

/* Write entries as a new manifest of content under spec w and add it to
 * the list. */
static int
write_manifest(struct commit_ctx *c, const struct wspec *w, enum mf_content content,
               const struct mf_entry *e, size_t n, struct sl_diag *d)
{
    struct mf_writer_opts o = {c->schema_text, (int32_t)c->schema_id, w->text, (int32_t)w->id,
                               w->npfields, w->pfields, content, c->snapshot_id};
    char *name = sl_printf("%s-m%d.avro", c->uuid, c->nwritten++);
    char *staged = NULL, *path = NULL, *key = NULL;
    struct mf_manifest out;
    int rc = stage_meta(c, name, &staged, &path, &key, d);

    if (rc == 0)
        rc = mf_write_manifest(path, &o, e, n, &c->a, &out, d);
    if (rc == 0)
        rc = publish_new(c->s, staged, key, d);
    else if (staged)
        store_unstage(c->s, staged, NULL);
    if (rc == 0) {
        char *uri = table_uri(c->s, key);

        out.path = sl_arena_strdup(&c->a, uri);
        out.added_snapshot_id = c->snapshot_id;
        free(uri);
        add_list_row(c, &out);
    }
    free(name);
    free(staged);
    free(path);
    free(key);
    return rc;
}

static const char *
arena_uri(struct commit_ctx *c, const char *key)
{
    char *uri = table_uri(c->s, key);
    const char *out = sl_arena_strdup(&c->a, uri);

    free(uri);
    return out;
}

/* The spec file f's partition value is of: the default, or the one of
 * f->written_under; NULL if the table has no such spec. */
static const struct wspec *
spec_of_file(const struct commit_ctx *c, const struct table_file *f)
{
    if (f->written_under == NULL)
        return c->dspec;
    for (size_t i = 0; i < c->nspecs; i++)
        if (ival_transform_same(c->specs[i].t, *f->written_under))
            return &c->specs[i];
    return NULL;
}

/* The manifest entries of the files the change adds, of one content,
 * under spec w. */
static int
write_added(struct commit_ctx *c, const struct wspec *w, enum mf_content content,
            struct sl_diag *d)
{
    const struct table_change *ch = c->ch;
    struct mf_entry *e = sl_arena_zalloc(&c->a, (ch->nadded + 1) * sizeof(*e));
    size_t n = 0;

    for (size_t i = 0; i < ch->nadded; i++) {
        const struct table_file *f = &ch->added[i];
        struct mf_entry *x = &e[n];

        if ((f->content == MF_DATA) != (content == MF_DATA) || spec_of_file(c, f) != w)
            continue;
        n++;
        x->status = MF_ADDED;
        x->snapshot_id = -1;
        x->sequence_number = -1;
        x->file_sequence_number = -1;
        x->content = f->content;
        x->file_path = arena_uri(c, f->key);
        x->file_format = "PARQUET";
        x->partition = sl_arena_zalloc(&c->a, (w->npfields + 1) * sizeof(struct mf_pvalue));
        if (f->partition_values != NULL)
            memcpy(x->partition, f->partition_values, w->npfields * sizeof(struct mf_pvalue));
        else if (w->npfields)
            x->partition[0] = f->partition;
        x->record_count = f->records;
        x->file_size = f->bytes;
        x->nstats = f->nstats;
        x->stats = f->stats;
        x->sort_order_id = f->content == MF_DATA ? 0 : -1;
        x->referenced_data_file = f->referenced_key ? arena_uri(c, f->referenced_key) : NULL;
        if (content == MF_DATA) {
            c->added_data++;
            c->added_records += f->records;
        } else {
            c->added_deletes++;
            c->added_pos_deletes += f->records;
        }
        c->added_size += f->bytes;
    }
    return n == 0 ? 0 : write_manifest(c, w, content, e, n, d);
}

/* Index of uri among the removed files, or -1. */
static ssize_t
removed_index(struct commit_ctx *c, const char *uri)
{
    const char *key = table_key_of(c->def->prefix, uri, strlen(uri));

    if (key == NULL)
        return -1;
    for (size_t i = 0; i < c->ch->nremoved; i++)
        if (strcmp(c->ch->removed[i], key) == 0)
            return (ssize_t)i;
    return -1;
}

/*
 * Carry one manifest of the base snapshot into the new one: as it is if it
 * holds no removed file, else rewritten with the removed files DELETED and
 * the others EXISTING (entries DELETED by earlier snapshots are dropped).
 */
static int
carry_manifest(struct commit_ctx *c, const struct mf_manifest *m, struct sl_diag *d)
{
    struct mf_entry *e = NULL;
    size_t n = 0, live = 0;
    bool touched = false;
    char *path = NULL;
    const struct wspec *w = spec_by_id(c, m->partition_spec_id);
    int rc;

    if (w == NULL)
        return sl_fail(d, SL_ERR_CORRUPT, "Iceberg manifest %s is of partition spec %d, which "
                       "the table's metadata does not have", m->path, (int)m->partition_spec_id);
    if (c->ch->nremoved == 0) {
        add_list_row(c, m);
        return 0;
    }
    rc = local_of(c->s, c->def->prefix, m->path, &path, d);
    if (rc == 0)
        rc = mf_read_manifest(path, m, &c->a, &e, &n, NULL, NULL, d);
    free(path);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (e[i].status != MF_DELETED && removed_index(c, e[i].file_path) >= 0)
            touched = true;
    if (!touched) {
        add_list_row(c, m);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct mf_entry *x = &e[i];
        ssize_t r;

        if (x->status == MF_DELETED)
            continue;
        r = removed_index(c, x->file_path);
        if (r >= 0) {
            c->found[r] = true;
            x->status = MF_DELETED;
            x->snapshot_id = c->snapshot_id;
            if (x->content == MF_DATA) {
                c->removed_data++;
                c->deleted_records += x->record_count;
            } else {
                c->removed_deletes++;
                c->removed_pos_deletes += x->record_count;
            }
            c->removed_size += x->file_size;
        } else {
            x->status = MF_EXISTING;
        }
        e[live++] = *x;
    }
    return write_manifest(c, w, m->content, e, live, d);
}

/*
 * Once a snapshot would hold MERGE_MIN_COUNT small manifests of one
 * content, merge them into one (their live entries as EXISTING), as Java
 * does: the manifest list then stays short, and a commit writes a few
 * small files however many commits came before.
 */
static int
merge_manifests(struct commit_ctx *c, bool deletes, struct sl_diag *d)
{
    struct mf_entry *all = NULL;
    size_t nsmall = 0, nall = 0, cap = 0, kept = 0;
    int rc = 0;

    for (size_t i = 0; i < c->nlist; i++) {
        const struct mf_manifest *m = &c->list[i];

        nsmall += (m->content != MF_DATA) == deletes && m->partition_spec_id == c->dspec->id &&
                  m->length < MERGE_TARGET_BYTES;
    }
    if (nsmall < MERGE_MIN_COUNT)
        return 0;
    for (size_t i = 0; rc == 0 && i < c->nlist; i++) {
        const struct mf_manifest *m = &c->list[i];
        struct mf_entry *e = NULL;
        size_t n = 0;
        char *path = NULL;

        if ((m->content != MF_DATA) != deletes || m->partition_spec_id != c->dspec->id ||
            m->length >= MERGE_TARGET_BYTES) {
            c->list[kept++] = *m;
            continue;
        }
        rc = local_of(c->s, c->def->prefix, m->path, &path, d);
        if (rc == 0)
            rc = mf_read_manifest(path, m, &c->a, &e, &n, NULL, NULL, d);
        free(path);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            if (e[k].status == MF_DELETED)
                continue;
            SL_GROW(all, cap, nall + 1);
            all[nall] = e[k];
            all[nall++].status = MF_EXISTING;
        }
    }
    c->nlist = kept;
    if (rc == 0 && nall > 0)
        rc = write_manifest(c, c->dspec, deletes ? MF_POSITION_DELETES : MF_DATA, all, nall, d);
    if (rc == 0)
        c->merged += (int)nsmall;
    free(all);
    return rc;
}

static void
put_count(json_t *summary, const char *key, int64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%" PRId64, v);
    json_object_set_new(summary, key, json_string(num));
}

static void
put_nonzero(json_t *summary, const char *key, int64_t v)
{
    if (v != 0)
        put_count(summary, key, v);
}

static int64_t
prev_count(json_t *prev, const char *key)
{
    const char *s = json_string_value(json_object_get(prev, key));

    return s ? strtoll(s, NULL, 10) : 0;
}

/* The snapshot's summary: the change and the table's totals after it. */
static json_t *
summary_json(struct commit_ctx *c, json_t *prev_summary, const char *operation)
{
    json_t *s = json_object();
    int64_t data_files = 0, delete_files = 0, records = 0, pos_deletes = 0;
    char run[24];

    json_object_set_new(s, "operation", json_string(operation));
    /* What changed, where something did (as Java writes it), then the
     * totals every snapshot carries. */
    put_nonzero(s, "added-data-files", c->added_data);
    put_nonzero(s, "deleted-data-files", c->removed_data);
    put_nonzero(s, "added-delete-files", c->added_deletes);
    put_nonzero(s, "added-position-delete-files", c->added_deletes);
    put_nonzero(s, "removed-delete-files", c->removed_deletes);
    put_nonzero(s, "removed-position-delete-files", c->removed_deletes);
    put_nonzero(s, "added-records", c->added_records);
    put_nonzero(s, "deleted-records", c->deleted_records);
    put_nonzero(s, "added-files-size", c->added_size);
    put_nonzero(s, "removed-files-size", c->removed_size);
    put_nonzero(s, "added-position-deletes", c->added_pos_deletes);
    put_nonzero(s, "removed-position-deletes", c->removed_pos_deletes);
    for (size_t i = 0; i < c->nlist; i++) {
        const struct mf_manifest *m = &c->list[i];

        if (m->content == MF_DATA) {
            data_files += m->added_files_count + m->existing_files_count;
            records += m->added_rows_count + m->existing_rows_count;
        } else {
            delete_files += m->added_files_count + m->existing_files_count;
            pos_deletes += m->added_rows_count + m->existing_rows_count;
        }
    }
    put_count(s, "total-data-files", data_files);
    put_count(s, "total-delete-files", delete_files);
    put_count(s, "total-records", records);
    put_count(s, "total-files-size", prev_count(prev_summary, "total-files-size") +
                                         c->added_size - c->removed_size);
    put_count(s, "total-position-deletes", pos_deletes);
    put_count(s, "total-equality-deletes", 0);
    put_count(s, "manifests-created", c->nwritten);
    put_count(s, "manifests-kept", (int64_t)c->nlist - c->nwritten);
    put_count(s, "manifests-replaced", c->merged);
    json_object_set_new(s, "engine-name", json_string("sluice"));
    snprintf(run, sizeof(run), "%" PRId64, c->ch->run_id);
    json_object_set_new(s, "sluice.run-id", json_string(run));
    return s;
}

static const char *
operation_of(const struct commit_ctx *c)
{
    if (c->ch->operation != NULL)
        return c->ch->operation;
    if (c->added_data > 0 && c->removed_data == 0 && c->added_deletes == 0)
        return "append";
    if (c->added_data > 0)
        return "overwrite";
    return "delete";
}

/* The current snapshot of the metadata (NULL if none) and its id (-1). */
static json_t *
current_snapshot(struct meta *m, int64_t *id)
{
    json_t *v = json_object_get(m->root, "current-snapshot-id"), *snaps, *s;
    size_t i;

    *id = json_is_integer(v) ? json_integer_value(v) : -1;
    if (*id < 0)
        return NULL;
    snaps = json_object_get(m->root, "snapshots");
    json_array_foreach(snaps, i, s)
        if (json_integer_value(json_object_get(s, "snapshot-id")) == *id)
            return s;
    return NULL;
}

int
table_write_metadata(struct store *s, const char *prefix, const char *name, long v,
                     json_t *root, char **uri, struct sl_diag *d)
{
    char uuid[37];
    char *file, *sname, *staged = NULL, *path = NULL, *key = NULL, *text;
    int rc;

    table_new_uuid(uuid);
    file = sl_printf("%05ld-%s.metadata.json", v, uuid);
    sname = sl_printf("%s-%s", name, file);
    rc = store_stage(s, sname, &staged, &path, d);
    text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (rc == 0)
        rc = sl_write_file(path, text, strlen(text), d);
    if (rc == 0) {
        key = sl_printf("%s/metadata/%s", prefix, file);
        rc = publish_new(s, staged, key, d);
    } else if (staged) {
        store_unstage(s, staged, NULL);
    }
    if (rc == 0)
        *uri = table_uri(s, key);
    free(text);
    free(file);
    free(sname);
    free(staged);
    free(path);
    free(key);
    return rc;
}

/* Write the metadata file for version v and return its URI (heap). */
static int
write_metadata(struct commit_ctx *c, long v, char **uri, struct sl_diag *d)
{
    return table_write_metadata(c->s, c->def->prefix, c->def->name, v, c->m.root, uri, d);
}

static int
create_table(struct catalog_txn *txn, struct commit_ctx *c, const char **location,
             struct sl_diag *d)
{
    char *loc = table_uri(c->s, c->def->prefix), *uri = NULL;
    int rc;

    c->m.root = new_metadata(c->def, loc);
    c->m.file = "(new)";
    rc = write_metadata(c, 0, &uri, d);
    if (rc == 0)
        rc = catalog_iceberg_create(txn, c->def->ns, c->def->name, uri, d);
    if (rc == 0)
        *location = sl_arena_strdup(&c->a, uri);
    json_decref(c->m.root);
    c->m.root = NULL;
    table_new_uuid(c->uuid);
    free(loc);
    free(uri);
    return rc;
}

/* Make snapshot id the current one of main, at now (ms). */
static void
make_current(json_t *root, int64_t id, int64_t now)
{
    json_t *log;

    json_object_set_new(root, "current-snapshot-id", json_integer(id));
    json_object_set_new(json_object_get(root, "refs"), "main",
                        json_pack("{s:I, s:s}", "snapshot-id", (json_int_t)id, "type", "branch"));
    log = json_object_get(root, "snapshot-log");
    if (!json_is_array(log)) {
        log = json_array();
        json_object_set_new(root, "snapshot-log", log);
    }
    json_array_append_new(log, json_pack("{s:I, s:I}", "timestamp-ms", (json_int_t)now,
                                         "snapshot-id", (json_int_t)id));
}

int
table_commit(struct catalog_txn *txn, struct store *s, const struct table_def *def,
             const struct table_change *change, struct table_committed *out,
             struct sl_diag *d)
{
    struct commit_ctx c = {.s = s, .def = def, .ch = change};
    const char *base = NULL;
    json_t *cur, *snap, *log, *prev_summary = NULL;
    int64_t spec_id = 0;
    struct mf_manifest *old = NULL;
    size_t nold = 0;
    char *next = NULL, *list_staged = NULL, *list_path = NULL, *list_key = NULL;
    char *list_uri = NULL;
    int64_t last_seq = 0;
    const char *operation;
    int rc;

    sl_arena_init(&c.a, 0);
    table_new_uuid(c.uuid);
    c.found = sl_arena_zalloc(&c.a, change->nremoved + 1);
    rc = catalog_iceberg_get(txn, def->ns, def->name, &c.a, &base, d);
    if (rc == SL_ERR_NOTFOUND)
        rc = create_table(txn, &c, &base, d);
    if (rc == 0)
        rc = table_load_json(s, def->prefix, base, &c.m.root, d);
    if (rc < 0)
        goto out;
    c.m.file = base;
    rc = evolve_schema(&c.m, def, &c.schema_id, d);
    if (rc == 0)
        rc = choose_spec(&c.m, def, &spec_id, d);
    if (rc == 0)
        rc = load_specs(&c.m, def, &c.a, &c.specs, &c.nspecs, d);
    if (rc == 0 && (c.dspec = spec_by_id(&c, spec_id)) == NULL)
        rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: no partition spec %" PRId64,
                     base, spec_id);
    if (rc == 0)
        rc = need_int(&c.m, c.m.root, "last-sequence-number", &last_seq, d);
    if (rc < 0)
        goto out;
    {
        json_t *schemas = json_object_get(c.m.root, "schemas"), *x;
        size_t i;

        json_array_foreach(schemas, i, x)
            if (json_integer_value(json_object_get(x, "schema-id")) == c.schema_id)
                c.schema_text = json_dumps(x, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }
    c.seq = last_seq + 1;
    do {
        c.snapshot_id = new_snapshot_id();
        /* never an id the table has used */
        json_t *snaps = json_object_get(c.m.root, "snapshots"), *x;
        size_t i;
        bool used = false;

        json_array_foreach(snaps, i, x)
            used |= json_integer_value(json_object_get(x, "snapshot-id")) == c.snapshot_id;
        if (!used)
            break;
    } while (1);

    /* The base snapshot's manifests, carried or rewritten. */
    cur = current_snapshot(&c.m, &c.parent_id);
    if (c.parent_id >= 0 && cur == NULL) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: current snapshot %" PRId64
                     " is not among its snapshots", base, c.parent_id);
        goto out;
    }
    if (cur != NULL) {
        const char *ml = json_string_value(json_object_get(cur, "manifest-list"));
        char *path = NULL;

        prev_summary = json_object_get(cur, "summary");
        if (ml == NULL) {
            rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: snapshot %" PRId64
                         " has no manifest-list", base, c.parent_id);
            goto out;
        }
        rc = local_of(s, def->prefix, ml, &path, d);
        if (rc == 0)
            rc = mf_read_list(path, &c.a, &old, &nold, d);
        free(path);
        for (size_t i = 0; rc == 0 && i < nold; i++)
            rc = carry_manifest(&c, &old[i], d);
        if (rc < 0)
            goto out;
    }
    for (size_t i = 0; i < change->nremoved; i++)
        if (!c.found[i]) {
            rc = sl_fail(d, SL_ERR_CONFLICT,
                         "Iceberg table %s.%s: '%s' is not a live file of snapshot %" PRId64
                         " (%s), so this commit cannot retire it",
                         def->ns, def->name, change->removed[i], c.parent_id, base);
            goto out;
        }
    rc = merge_manifests(&c, false, d);
    if (rc == 0)
        rc = merge_manifests(&c, true, d);
    for (size_t i = 0; rc == 0 && i < change->nadded; i++)
        if (spec_of_file(&c, &change->added[i]) == NULL) {
            char t[24];

            ival_transform_name(*change->added[i].written_under, t, sizeof(t));
            rc = sl_fail(d, SL_ERR_INPUT, "Iceberg table %s.%s has no partition spec by %s, "
                         "which '%s' is said to be written under",
                         def->ns, def->name, t, change->added[i].key);
        }
    /* Added files by spec: the default's first, then older specs' (the
     * deletes of files written before the partitioning changed). */
    for (size_t i = 0; rc == 0 && i <= c.nspecs; i++) {
        const struct wspec *w = i == 0 ? c.dspec : &c.specs[i - 1];

        if (i > 0 && w == c.dspec)
            continue;
        rc = write_added(&c, w, MF_DATA, d);
        if (rc == 0)
            rc = write_added(&c, w, MF_POSITION_DELETES, d);
    }
    if (rc < 0)
        goto out;

    /* The manifest list. */
    {
        char *name = sl_printf("snap-%" PRId64 "-1-%s.avro", c.snapshot_id, c.uuid);

        rc = stage_meta(&c, name, &list_staged, &list_path, &list_key, d);
        free(name);
    }
    if (rc == 0)
        rc = mf_write_list(list_path, c.snapshot_id, c.parent_id, c.seq, c.list, c.nlist,
                           c.dspec->pfields, c.dspec->npfields, d);
    if (rc == 0)
        rc = publish_new(s, list_staged, list_key, d);
    else if (list_staged)
        store_unstage(s, list_staged, NULL);
    if (rc < 0)
        goto out;
    list_uri = table_uri(s, list_key);

    /* The snapshot and the metadata around it. */
    operation = operation_of(&c);
    {
        int64_t now = sl_now_ms();
        json_t *sum = summary_json(&c, prev_summary, operation);

        snap = json_pack("{s:I, s:I, s:I, s:s, s:o, s:I}", "snapshot-id",
                         (json_int_t)c.snapshot_id, "sequence-number", (json_int_t)c.seq,
                         "timestamp-ms", (json_int_t)now, "manifest-list", list_uri, "summary",
                         sum, "schema-id", (json_int_t)c.schema_id);
        if (c.parent_id >= 0)
            json_object_set_new(snap, "parent-snapshot-id", json_integer(c.parent_id));
        json_array_append_new(json_object_get(c.m.root, "snapshots"), snap);
        json_object_set_new(c.m.root, "last-sequence-number", json_integer(c.seq));
        json_object_set_new(c.m.root, "last-updated-ms", json_integer(now));
        if (!change->stage_only)
            make_current(c.m.root, c.snapshot_id, now);
        log = json_object_get(c.m.root, "metadata-log");
        if (!json_is_array(log)) {
            log = json_array();
            json_object_set_new(c.m.root, "metadata-log", log);
        }
        json_array_append_new(log, json_pack("{s:I, s:s}", "timestamp-ms",
                                             (json_int_t)json_integer_value(json_object_get(
                                                 c.m.root, "last-updated-ms")),
                                             "metadata-file", base));
        while (json_array_size(log) > MAX_METADATA_LOG)
            json_array_remove(log, 0);
    }
    {
        long v = table_metadata_version(base);

        rc = write_metadata(&c, v < 0 ? 1 : v + 1, &next, d);
    }
    if (rc == 0)
        rc = catalog_iceberg_swap(txn, def->ns, def->name, base, next, d);
    if (rc == 0 && out != NULL) {
        out->snapshot_id = c.snapshot_id;
        out->sequence_number = c.seq;
    }
    if (rc == 0)
        SL_DEBUG("table", "%s.%s: snapshot %" PRId64 " (%s, sequence %" PRId64 ") at %s",
                 def->ns, def->name, c.snapshot_id, operation, c.seq, next);
out:
    json_decref(c.m.root);
    free(c.schema_text);
    free(c.list);
    free(list_staged);
    free(list_path);
    free(list_key);
    free(list_uri);
    free(next);
    sl_arena_release(&c.a);
    return rc;
}

/* ---- publishing a staged snapshot -------------------------------------------------------- */

/* Publish (or, !publish, drop) staged snapshot snapshot_id of ns.name. */
static int
decide_staged(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
              int64_t snapshot_id, bool publish, struct sl_diag *d)
{
    char *prefix = layout_table_prefix(ns, name), *next = NULL;
    const char *base = NULL;
    json_t *root = NULL, *snaps, *x, *staged = NULL, *log, *parent;
    int64_t current = -1, now = sl_now_ms();
    struct sl_arena a;
    size_t i, at = 0;
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_iceberg_get(txn, ns, name, &a, &base, d);
    if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "no table %s.%s", ns, name);
    if (rc == 0)
        rc = table_load_json(s, prefix, base, &root, d);
    if (rc < 0)
        goto out;
    if (json_is_integer(json_object_get(root, "current-snapshot-id")))
        current = json_integer_value(json_object_get(root, "current-snapshot-id"));
    snaps = json_object_get(root, "snapshots");
    json_array_foreach(snaps, i, x)
        if (json_integer_value(json_object_get(x, "snapshot-id")) == snapshot_id) {
            staged = x;
            at = i;
        }
    if (staged == NULL && !publish)
        goto out; /* dropped already */
    if (staged == NULL) {
        rc = sl_fail(d, SL_ERR_NOTFOUND, "%s.%s has no snapshot %" PRId64 " to publish", ns,
                     name, snapshot_id);
        goto out;
    }
    if (snapshot_id == current) {
        if (!publish)
            rc = sl_fail(d, SL_ERR_INPUT, "snapshot %" PRId64 " of %s.%s is its current one, "
                         "not a staged one", snapshot_id, ns, name);
        goto out; /* published already */
    }
    parent = json_object_get(staged, "parent-snapshot-id");
    if (publish && (parent == NULL ? -1 : json_integer_value(parent)) != current) {
        rc = sl_fail(d, SL_ERR_INPUT, "%s.%s changed since snapshot %" PRId64 " was staged on "
                     "its snapshot %" PRId64 " (it is at %" PRId64 " now), so it cannot be "
                     "published as it is", ns, name, snapshot_id,
                     parent == NULL ? (int64_t)-1 : (int64_t)json_integer_value(parent),
                     current);
        goto out;
    }
    if (publish)
        make_current(root, snapshot_id, now);
    else
        json_array_remove(snaps, at);
    json_object_set_new(root, "last-updated-ms", json_integer(now));
    log = json_object_get(root, "metadata-log");
    if (!json_is_array(log)) {
        log = json_array();
        json_object_set_new(root, "metadata-log", log);
    }
    json_array_append_new(log, json_pack("{s:I, s:s}", "timestamp-ms", (json_int_t)now,
                                         "metadata-file", base));
    while (json_array_size(log) > MAX_METADATA_LOG)
        json_array_remove(log, 0);
    {
        long v = table_metadata_version(base);

        rc = table_write_metadata(s, prefix, name, v < 0 ? 1 : v + 1, root, &next, d);
    }
    if (rc == 0)
        rc = catalog_iceberg_swap(txn, ns, name, base, next, d);
out:
    json_decref(root);
    free(next);
    free(prefix);
    sl_arena_release(&a);
    return rc;
}

int
table_publish_staged(struct catalog_txn *txn, struct store *s, const char *ns,
                     const char *name, int64_t snapshot_id, struct sl_diag *d)
{
    return decide_staged(txn, s, ns, name, snapshot_id, true, d);
}

int
table_drop_staged(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                  int64_t snapshot_id, struct sl_diag *d)
{
    return decide_staged(txn, s, ns, name, snapshot_id, false, d);
}

/* ---- reading a snapshot ------------------------------------------------------------------ */

/* The snapshot at selects in m (NULL at: the current one, NULL if the
 * table has none yet); an unknown id or a time before the first snapshot
 * is SL_ERR_NOTFOUND with words that give the range. */
static int
select_snapshot(struct meta *m, const char *table, const struct table_at *at, json_t **out,
                struct sl_diag *d)
{
    json_t *snaps = json_object_get(m->root, "snapshots"), *x, *first = NULL, *last = NULL;
    int64_t current, best_ts = -1;
    size_t i;

    *out = NULL;
    if (at == NULL || (at->snapshot_id < 0 && at->as_of_ms < 0)) {
        *out = current_snapshot(m, &current);
        if (*out == NULL && current >= 0)
            return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: current snapshot %" PRId64
                           " is not among its snapshots", m->file, current);
        return 0;
    }
    json_array_foreach(snaps, i, x) {
        int64_t id = json_integer_value(json_object_get(x, "snapshot-id"));
        int64_t ts = json_integer_value(json_object_get(x, "timestamp-ms"));

        if (first == NULL || ts < json_integer_value(json_object_get(first, "timestamp-ms")))
            first = x;
        if (last == NULL || ts >= json_integer_value(json_object_get(last, "timestamp-ms")))
            last = x;
        if (at->snapshot_id >= 0 && id == at->snapshot_id)
            *out = x;
        /* the table as of a time: the last snapshot committed by then */
        if (at->snapshot_id < 0 && ts <= at->as_of_ms && ts >= best_ts) {
            best_ts = ts;
            *out = x;
        }
    }
    if (*out != NULL)
        return 0;
    if (first == NULL)
        return sl_fail(d, SL_ERR_NOTFOUND, "%s has no snapshot yet", table);
    {
        char t0[40], t1[40];
        int64_t id0 = json_integer_value(json_object_get(first, "snapshot-id"));
        int64_t id1 = json_integer_value(json_object_get(last, "snapshot-id"));

        sl_format_timestamp(json_integer_value(json_object_get(first, "timestamp-ms")) * 1000, t0);
        sl_format_timestamp(json_integer_value(json_object_get(last, "timestamp-ms")) * 1000, t1);
        if (at->snapshot_id >= 0)
            sl_fail(d, SL_ERR_NOTFOUND, "%" PRId64 " is not a snapshot of %s", at->snapshot_id,
                    table);
        else
            sl_fail(d, SL_ERR_NOTFOUND, "%s has no snapshot as early as that", table);
        sl_diag_hint(d, "its %zu snapshot(s) run from %" PRId64 " (%s) to %" PRId64
                     " (%s); `sluice snapshots %s` lists them", json_array_size(snaps), id0, t0,
                     id1, t1, table);
        return SL_ERR_NOTFOUND;
    }
}

/* Every entry of the manifests of snapshot snap: cb(arg, list row, entry);
 * a manifest skip (may be NULL) says true for is not read. */
typedef int (*entry_cb)(void *arg, const struct mf_manifest *m, const struct mf_entry *e);
typedef bool (*manifest_skip_fn)(void *arg, const struct mf_manifest *m);

static int
each_entry(struct store *s, const char *prefix, const char *file, json_t *snap,
           struct sl_arena *a, manifest_skip_fn skip, entry_cb cb, void *arg,
           struct sl_diag *d)
{
    const char *ml = json_string_value(json_object_get(snap, "manifest-list"));
    struct mf_manifest *list = NULL;
    size_t nlist = 0;
    char *path = NULL;
    int rc;

    if (ml == NULL)
        return sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: snapshot %" PRId64
                       " has no manifest-list", file,
                       (int64_t)json_integer_value(json_object_get(snap, "snapshot-id")));
    rc = local_of(s, prefix, ml, &path, d);
    if (rc == 0)
        rc = mf_read_list(path, a, &list, &nlist, d);
    free(path);
    for (size_t i = 0; rc == 0 && i < nlist; i++) {
        struct mf_entry *e = NULL;
        size_t n = 0;
        char *mpath = NULL;

        if (skip != NULL && skip(arg, &list[i]))
            continue;
        rc = local_of(s, prefix, list[i].path, &mpath, d);
        if (rc == 0)
            rc = mf_read_manifest(mpath, &list[i], a, &e, &n, NULL, NULL, d);
        free(mpath);
        for (size_t k = 0; rc == 0 && k < n; k++)
            rc = cb(arg, &list[i], &e[k]);
    }
    return rc;
}

/* ---- pruning ---------------------------------------------------------------------------- */

/* Saturating days -> microseconds of their midnight; false if it does not
 * fit (then nothing is pruned on it). */
static bool
day_usec(int64_t days, int64_t *out)
{
    if (days > INT64_MAX / SL_USEC_PER_DAY || days < INT64_MIN / SL_USEC_PER_DAY)
        return false;
    *out = days * SL_USEC_PER_DAY;
    return true;
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The first day of month m (months since 1970-01). */
static int64_t
month_days(int64_t m)
{
    int64_t y = floor_div(m, 12);

    return sl_days_from_civil(1970 + y, (unsigned)(m - 12 * y) + 1, 1);
}

/*
 * The values (microseconds, as table_filter has them) partition value v of
 * transform t can hold: [*lo, *hi]; false when t tells nothing (bucket,
 * truncate) or the range does not fit.
 */
static bool
partition_range(struct ival_transform t, bool is_date, int64_t v, int64_t *lo, int64_t *hi)
{
    const int64_t hour = 3600 * SL_USEC_PER_SEC;
    int64_t next;

    if (t.kind == IVAL_IDENTITY) {
        if (!is_date) {
            *lo = *hi = v;
            return true;
        }
        return day_usec(v, lo) && day_usec(v, hi);
    }
    /* A sane calendar value; anything else is another writer's oddity. */
    if (v < -100000000 || v > 100000000)
        return false;
    switch (t.kind) {
    case IVAL_HOUR:
        *lo = v * hour;
        *hi = (v + 1) * hour - 1;
        return true;
    case IVAL_DAY:
        if (!day_usec(v, lo) || !day_usec(v + 1, &next))
            return false;
        break;
    case IVAL_MONTH:
        if (!day_usec(month_days(v), lo) || !day_usec(month_days(v + 1), &next))
            return false;
        break;
    case IVAL_YEAR:
        if (!day_usec(sl_days_from_civil(1970 + v, 1, 1), lo) ||
            !day_usec(sl_days_from_civil(1970 + v + 1, 1, 1), &next))
            return false;
        break;
    default:
        return false;
    }
    /* A date column holds midnights only: the last one in range. */
    *hi = is_date ? next - SL_USEC_PER_DAY : next - 1;
    return true;
}

/* A bound of the filter's column in microseconds; false if absent or not
 * of the column's width. */
static bool
bound_usec(const struct table_filter *f, const uint8_t *b, size_t len, int64_t *out)
{
    if (b == NULL)
        return false;
    if (f->is_date && len == 4) {
        int32_t days = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                                 (uint32_t)b[3] << 24);

        return day_usec(days, out);
    }
    if (!f->is_date && len == 8) {
        uint64_t u = 0;

        for (int i = 7; i >= 0; i--)
            u = u << 8 | b[i];
        *out = (int64_t)u;
        return true;
    }
    return false;
}

bool
table_filter_meets(const struct table_filter *f, struct ival_transform t, int part,
                   const struct mf_entry *e)
{
    int64_t lo = INT64_MIN, hi = INT64_MAX, plo, phi;

    if (part >= 0 && e->partition != NULL && e->partition[part].set &&
        partition_range(t, f->is_date, e->partition[part].i, &plo, &phi)) {
        lo = plo;
        hi = phi;
    }
    for (size_t i = 0; i < e->nstats; i++) {
        const struct mf_column_stats *cs = &e->stats[i];
        int64_t v;

        if (cs->field_id != f->field_id)
            continue;
        if (bound_usec(f, cs->lower, cs->lower_len, &v) && v > lo)
            lo = v;
        if (bound_usec(f, cs->upper, cs->upper_len, &v) && v < hi)
            hi = v;
    }
    /* Bounds that contradict the partition (another writer's) prove
     * nothing: keep the file. */
    if (lo > hi)
        return true;
    return sl_spans_meets(f->spans, lo, hi);
}

/* ---- listing live files ---------------------------------------------------------------- */

/* A live file, held until every file is seen (delete files are pruned by
 * the data files kept). */
struct live_file {
    const struct mf_manifest *m;
    const struct mf_entry *e;
    bool pruned;
};

struct live_ctx {
    const char *prefix;
    struct sl_diag *d;
    struct live_file *v;
    size_t n, cap;
};

static int
live_entry(void *arg, const struct mf_manifest *m, const struct mf_entry *e)
{
    struct live_ctx *c = arg;

    if (e->status == MF_DELETED)
        return 0;
    SL_GROW(c->v, c->cap, c->n + 1);
    c->v[c->n].m = m;
    c->v[c->n].e = e;
    c->v[c->n].pruned = false;
    c->n++;
    return 0;
}

/* Where the filter's column is in the default spec: its spec id, the
 * index of the partition field over it and the field's transform; *part
 * -1 when no field is. */
static void
filter_partition(const struct meta *m, const struct table_filter *f, int64_t *spec_id,
                 int *part, struct ival_transform *t)
{
    json_t *x, *fields = NULL, *pf;
    size_t i;

    *part = -1;
    *spec_id = json_integer_value(json_object_get(m->root, "default-spec-id"));
    json_array_foreach(json_object_get(m->root, "partition-specs"), i, x)
        if (json_integer_value(json_object_get(x, "spec-id")) == *spec_id)
            fields = json_object_get(x, "fields");
    json_array_foreach(fields, i, pf) {
        const char *tr = json_string_value(json_object_get(pf, "transform"));
        struct sl_diag ignored;

        sl_diag_init(&ignored);
        if (json_integer_value(json_object_get(pf, "source-id")) != f->field_id || tr == NULL ||
            ival_transform_parse(tr, t, &ignored) < 0)
            continue;
        *part = (int)i;
        return;
    }
}

static bool
same_partition(const struct live_file *a, const struct live_file *b)
{
    if (a->m->partition_spec_id != b->m->partition_spec_id ||
        a->m->npartitions != b->m->npartitions)
        return false;
    for (size_t k = 0; k < a->m->npartitions; k++) {
        const struct mf_pvalue *x = &a->e->partition[k], *y = &b->e->partition[k];

        if (x->set != y->set || (x->set && (x->i != y->i || x->f != y->f ||
                                            (x->s != NULL) != (y->s != NULL) ||
                                            (x->s != NULL && strcmp(x->s, y->s) != 0))))
            return false;
    }
    return true;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Decide pruned for each file of c (see table_live_files()). */
static void
prune_files(struct live_ctx *c, const struct meta *m, const struct table_filter *f)
{
    struct ival_transform t = {IVAL_VOID, 0, NULL};
    int64_t spec_id;
    int part;
    const char **kept = sl_malloc((c->n + 1) * sizeof(*kept));
    size_t nkept = 0;

    filter_partition(m, f, &spec_id, &part, &t);
    for (size_t i = 0; i < c->n; i++) {
        struct live_file *lf = &c->v[i];
        bool spec_ok = lf->m->partition_spec_id == spec_id &&
                       part < (int)lf->m->npartitions;

        if (lf->e->content != MF_DATA)
            continue;
        lf->pruned = !table_filter_meets(f, t, spec_ok ? part : -1, lf->e);
        /* By key: a lake that moved names files by URIs of both places. */
        if (!lf->pruned)
            kept[nkept++] = table_key_of(c->prefix, lf->e->file_path,
                                         strlen(lf->e->file_path));
        if (!lf->pruned && kept[nkept - 1] == NULL)
            nkept--;
    }
    qsort(kept, nkept, sizeof(*kept), cmp_str);
    for (size_t i = 0; i < c->n; i++) {
        struct live_file *lf = &c->v[i];
        const char *ref = lf->e->referenced_data_file;

        if (lf->e->content != MF_POSITION_DELETES)
            continue;
        if (ref != NULL) {
            const char *key = table_key_of(c->prefix, ref, strlen(ref));

            /* A reference that is no file of the table proves nothing. */
            lf->pruned = key != NULL &&
                         bsearch(&key, kept, nkept, sizeof(*kept), cmp_str) == NULL;
            continue;
        }
        lf->pruned = true;
        for (size_t k = 0; lf->pruned && k < c->n; k++)
            if (c->v[k].e->content == MF_DATA && !c->v[k].pruned &&
                same_partition(lf, &c->v[k]))
                lf->pruned = false;
    }
    free(kept);
}

int
table_live_files(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                 const struct table_at *at, const struct table_filter *filter,
                 int64_t *snapshot_id, table_live_cb cb, void *arg, struct sl_diag *d)
{
    struct sl_arena a;
    const char *loc;
    struct meta m = {0};
    json_t *snap;
    char *prefix = table_prefix(ns, name), *table = sl_printf("%s.%s", ns, name);
    struct live_ctx c = {prefix, d, NULL, 0, 0};
    int rc;

    if (snapshot_id != NULL)
        *snapshot_id = -1;
    sl_arena_init(&a, 0);
    rc = open_meta(txn, s, ns, name, prefix, false, &a, &m, d);
    if (rc < 0)
        goto out;
    loc = m.file;
    rc = select_snapshot(&m, table, at, &snap, d);
    if (rc == 0 && snap != NULL) {
        if (snapshot_id != NULL)
            *snapshot_id = json_integer_value(json_object_get(snap, "snapshot-id"));
        rc = each_entry(s, prefix, loc, snap, &a, NULL, live_entry, &c, d);
    }
    if (rc == 0 && filter != NULL)
        prune_files(&c, &m, filter);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        const struct mf_entry *e = c.v[i].e;
        struct table_entry te;

        te.key = table_key_of(prefix, e->file_path, strlen(e->file_path));
        if (te.key == NULL) {
            rc = sl_fail(d, SL_ERR_CORRUPT, "manifest %s names '%s', which is not a file of %s",
                         c.v[i].m->path, e->file_path, prefix);
            break;
        }
        te.content = e->content;
        te.records = e->record_count;
        te.bytes = e->file_size;
        te.entry = e;
        te.spec_id = c.v[i].m->partition_spec_id;
        te.npartition = c.v[i].m->npartitions;
        te.pruned = c.v[i].pruned;
        rc = cb(arg, &te);
    }
out:
    free(c.v);
    free(prefix);
    free(table);
    json_decref(m.root);
    sl_arena_release(&a);
    return rc;
}

/* ---- maintenance: expiry and orphans --------------------------------------------------------- */

struct refs {
    const char *prefix;
    struct sl_strlist *keys;
    bool live_only;       /* leave out files the snapshot marks DELETED */
};

static void
add_ref(struct refs *r, const char *uri)
{
    const char *key = table_key_of(r->prefix, uri, strlen(uri));

    if (key != NULL && !sl_strlist_has(r->keys, key))
        sl_strlist_add(r->keys, key);
}

/* A manifest whose files are counted already (snapshots share manifests). */
static bool
ref_seen(void *arg, const struct mf_manifest *m)
{
    struct refs *r = arg;
    const char *key = table_key_of(r->prefix, m->path, strlen(m->path));

    return key != NULL && sl_strlist_has(r->keys, key);
}

static int
ref_entry(void *arg, const struct mf_manifest *m, const struct mf_entry *e)
{
    struct refs *r = arg;

    add_ref(r, m->path);
    if (!r->live_only || e->status != MF_DELETED)
        add_ref(r, e->file_path);
    return 0;
}

/* Every file snapshot snap reaches: manifest list, manifests, data and
 * delete files - those it marks DELETED too unless live_only (a snapshot
 * does not read the files it deleted). */
static int
snapshot_refs(struct store *s, const char *prefix, const char *file, json_t *snap,
              bool live_only, struct sl_strlist *keys, struct sl_diag *d)
{
    struct refs r = {prefix, keys, live_only};
    struct sl_arena a;
    int rc;

    sl_arena_init(&a, 0);
    add_ref(&r, json_string_value(json_object_get(snap, "manifest-list")));
    rc = each_entry(s, prefix, file, snap, &a, ref_seen, ref_entry, &r, d);
    sl_arena_release(&a);
    return rc;
}

struct old_meta {
    struct sl_strlist *gone;
    long below;           /* metadata files of lower versions go */
};

static int
add_old_meta(void *arg, const char *key, int64_t size)
{
    struct old_meta *om = arg;
    size_t n = strlen(key);
    long v;

    (void)size;
    if (n < 14 || strcmp(key + n - 14, ".metadata.json") != 0)
        return 0;
    v = table_metadata_version(key);
    if (v >= 0 && v < om->below)
        sl_strlist_add(om->gone, key);
    return 0;
}

/*
 * Whether snapshot x is staged: added after the current one without
 * becoming current (table_change.stage_only), waiting for its audit.
 */
static bool
is_staged(json_t *x, int64_t current_seq)
{
    return json_integer_value(json_object_get(x, "sequence-number")) > current_seq;
}

/* Whether snapshot x expires; from_end: 1 for the newest.  Never the
 * current one, nor one staged for its audit (its publication needs it). */
static bool
expires(const struct table_expiry *xp, json_t *x, int64_t current, int64_t current_seq,
        size_t from_end)
{
    int64_t id = json_integer_value(json_object_get(x, "snapshot-id"));
    int64_t ts = json_integer_value(json_object_get(x, "timestamp-ms"));

    if (id == current || is_staged(x, current_seq))
        return false;
    if (xp->snapshot_id >= 0)
        return id == xp->snapshot_id;
    return ts < xp->older_than_ms && (xp->keep_last <= 0 || from_end > (size_t)xp->keep_last);
}

int
table_expire(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
             const struct table_expiry *xp, struct sl_strlist *gone, int *expired,
             struct sl_diag *d)
{
    int64_t snapshot_id = xp->snapshot_id;
    struct sl_arena a;
    const char *loc;
    struct commit_ctx c = {0};
    char *prefix = table_prefix(ns, name), *next = NULL;
    struct table_def def = {.ns = ns, .name = name, .prefix = prefix};
    struct sl_strlist keep = {0}, drop = {0};
    json_t *snaps, *kept, *x, *log;
    int64_t current, current_seq;
    size_t i;
    int rc;

    *expired = 0;
    sl_arena_init(&a, 0);
    rc = open_meta(txn, s, ns, name, prefix, true, &a, &c.m, d);
    if (rc < 0)
        goto out;
    loc = c.m.file;
    {
        json_t *cur = current_snapshot(&c.m, &current);

        current_seq = cur != NULL ? json_integer_value(json_object_get(cur, "sequence-number"))
                                  : 0;
    }
    if (snapshot_id >= 0 && snapshot_id == current) {
        rc = sl_fail(d, SL_ERR_INPUT, "snapshot %" PRId64 " is the current snapshot of %s.%s; "
                     "it cannot be expired", snapshot_id, ns, name);
        goto out;
    }
    snaps = json_object_get(c.m.root, "snapshots");
    json_array_foreach(snaps, i, x)
        if (snapshot_id >= 0 &&
            json_integer_value(json_object_get(x, "snapshot-id")) == snapshot_id &&
            is_staged(x, current_seq)) {
            rc = sl_fail(d, SL_ERR_INPUT, "snapshot %" PRId64 " of %s.%s is staged, waiting "
                         "for its audit: 'sluice publish' or 'sluice discard' its run",
                         snapshot_id, ns, name);
            goto out;
        }
    {
        int64_t due = 0;

        json_array_foreach(snaps, i, x)
            due += expires(xp, x, current, current_seq, json_array_size(snaps) - i);
        if (due < (xp->min_batch > 0 ? xp->min_batch : 1) && snapshot_id < 0)
            goto out;
    }
    kept = json_array();
    json_array_foreach(snaps, i, x) {
        bool go = expires(xp, x, current, current_seq, json_array_size(snaps) - i);

        if (go) {
            (*expired)++;
            rc = snapshot_refs(s, prefix, loc, x, false, &drop, d);
        } else {
            json_array_append(kept, x);
            rc = snapshot_refs(s, prefix, loc, x, true, &keep, d);
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && snapshot_id >= 0 && *expired == 0)
        rc = sl_fail(d, SL_ERR_NOTFOUND, "%" PRId64 " is not a snapshot of %s.%s", snapshot_id,
                     ns, name);
    if (rc < 0 || *expired == 0) {
        json_decref(kept);
        goto out;
    }
    json_object_set_new(c.m.root, "snapshots", kept);
    /* The snapshot log keeps only snapshots that still exist. */
    log = json_array();
    json_array_foreach(json_object_get(c.m.root, "snapshot-log"), i, x) {
        int64_t id = json_integer_value(json_object_get(x, "snapshot-id"));
        size_t k;
        json_t *y;

        json_array_foreach(kept, k, y)
            if (json_integer_value(json_object_get(y, "snapshot-id")) == id) {
                json_array_append(log, x);
                break;
            }
    }
    json_object_set_new(c.m.root, "snapshot-log", log);
    json_object_set_new(c.m.root, "last-updated-ms", json_integer(sl_now_ms()));
    json_array_append_new(json_object_get(c.m.root, "metadata-log"),
                          json_pack("{s:I, s:s}", "timestamp-ms", (json_int_t)sl_now_ms(),
                                    "metadata-file", loc));
    c.s = s;
    c.def = &def;
    sl_arena_init(&c.a, 0);
    table_new_uuid(c.uuid);
    {
        long v = table_metadata_version(loc);

        rc = write_metadata(&c, v < 0 ? 1 : v + 1, &next, d);
    }
    sl_arena_release(&c.a);
    if (rc == 0)
        rc = catalog_iceberg_swap(txn, ns, name, loc, next, d);
    /* What only the expired snapshots reach goes once this commits, and
     * metadata files older than any the metadata log still names. */
    for (size_t k = 0; rc == 0 && k < drop.n; k++)
        if (!sl_strlist_has(&keep, drop.v[k]))
            sl_strlist_add(gone, drop.v[k]);
    if (rc == 0) {
        struct old_meta om = {gone, table_metadata_version(next)};
        char *dir = sl_printf("%s/metadata", prefix);

        json_array_foreach(json_object_get(c.m.root, "metadata-log"), i, x) {
            const char *f = json_string_value(json_object_get(x, "metadata-file"));
            long v = f ? table_metadata_version(f) : -1;

            if (v >= 0 && v < om.below)
                om.below = v;
        }
        rc = store_list(s, dir, add_old_meta, &om, d);
        free(dir);
    }
out:
    sl_strlist_release(&keep);
    sl_strlist_release(&drop);
    json_decref(c.m.root);
    free(prefix);
    free(next);
    sl_arena_release(&a);
    return rc;
}

struct maintain_args {
    struct store *s;
    const char *ns, *name;
    const struct table_expiry *x;
    table_forget_fn forget;
    struct sl_strlist gone, also;
    int expired;
};

static int
maintain_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct maintain_args *a = arg;
    int rc;

    sl_strlist_release(&a->gone);
    sl_strlist_release(&a->also);
    rc = table_expire(txn, a->s, a->ns, a->name, a->x, &a->gone, &a->expired, d);
    for (size_t i = 0; rc == 0 && a->forget != NULL && i < a->gone.n; i++)
        rc = a->forget(txn, a->gone.v[i], &a->also, d);
    return rc;
}

int
table_maintain(struct catalog *cat, struct store *s, const char *ns, const char *name,
               const struct table_expiry *x, table_forget_fn forget, int *expired,
               size_t *removed, struct sl_diag *d)
{
    struct maintain_args a = {s, ns, name, x, forget, {0}, {0}, 0};
    size_t n = 0;
    int rc = catalog_txn_run(cat, CATALOG_WRITE, maintain_body, &a, d);

    /* Committed: what only the expired snapshots reached goes now. */
    for (size_t i = 0; rc == 0 && i < a.gone.n; i++) {
        rc = store_delete(s, a.gone.v[i], d);
        n += rc == 0;
    }
    for (size_t i = 0; rc == 0 && i < a.also.n; i++)
        rc = store_delete(s, a.also.v[i], d);
    if (expired != NULL)
        *expired = a.expired;
    if (removed != NULL)
        *removed = n;
    sl_strlist_release(&a.gone);
    sl_strlist_release(&a.also);
    return rc;
}

int
table_referenced(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                 struct sl_strlist *keys, struct sl_diag *d)
{
    struct sl_arena a;
    const char *loc;
    struct meta m = {0};
    char *prefix = table_prefix(ns, name);
    json_t *x;
    size_t i;
    int rc;

    sl_arena_init(&a, 0);
    rc = open_meta(txn, s, ns, name, prefix, false, &a, &m, d);
    if (rc < 0)
        goto out;
    loc = m.file;
    {
        struct refs r = {prefix, keys, false};

        add_ref(&r, loc);
        json_array_foreach(json_object_get(m.root, "metadata-log"), i, x) {
            const char *f = json_string_value(json_object_get(x, "metadata-file"));

            if (f != NULL)
                add_ref(&r, f);
        }
    }
    json_array_foreach(json_object_get(m.root, "snapshots"), i, x) {
        rc = snapshot_refs(s, prefix, loc, x, false, keys, d);
        if (rc < 0)
            break;
    }
out:
    free(prefix);
    json_decref(m.root);
    sl_arena_release(&a);
    return rc;
}

/* The name of the current schema's field of id id (in a), or NULL. */
static const char *
field_name(const struct meta *m, int64_t id, struct sl_arena *a)
{
    json_t *x, *f, *fields = NULL;
    int64_t current = json_integer_value(json_object_get(m->root, "current-schema-id"));
    size_t i;

    json_array_foreach(json_object_get(m->root, "schemas"), i, x)
        if (json_integer_value(json_object_get(x, "schema-id")) == current)
            fields = json_object_get(x, "fields");
    json_array_foreach(fields, i, f)
        if (json_integer_value(json_object_get(f, "id")) == id &&
            json_is_string(json_object_get(f, "name")))
            return sl_arena_strdup(a, json_string_value(json_object_get(f, "name")));
    return NULL;
}

/* Table ns.name's metadata into *m (strings in a) and the fields of its
 * default partition spec (*spec_id) into *fields: NULL if there are none. */
static int
default_spec(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
             struct sl_arena *a, struct meta *m, int64_t *spec_id, json_t **fields,
             struct sl_diag *d)
{
    char *prefix = table_prefix(ns, name);
    json_t *x;
    size_t i;
    int rc = open_meta(txn, s, ns, name, prefix, false, a, m, d);

    free(prefix);
    *spec_id = -1;
    *fields = NULL;
    if (rc == 0)
        rc = need_int(m, m->root, "default-spec-id", spec_id, d);
    json_array_foreach(json_object_get(m->root, "partition-specs"), i, x)
        if (json_integer_value(json_object_get(x, "spec-id")) == *spec_id)
            *fields = json_object_get(x, "fields");
    return rc;
}

int
table_partition(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                struct sl_arena *out, struct ival_transform *t, struct sl_diag *d)
{
    struct sl_arena a;
    struct meta m = {0};
    int64_t spec_id;
    json_t *fields;
    int rc;

    t->kind = IVAL_VOID;
    t->param = 0;
    t->column = NULL;
    sl_arena_init(&a, 0);
    rc = default_spec(txn, s, ns, name, &a, &m, &spec_id, &fields, d);
    if (rc == 0 && json_array_size(fields) > 0) {
        json_t *f = json_array_get(fields, 0);
        const char *tr = json_string_value(json_object_get(f, "transform"));

        rc = ival_transform_parse(tr ? tr : "?", t, d);
        if (rc == 0 && t->kind == IVAL_BUCKET) {
            int64_t src = json_integer_value(json_object_get(f, "source-id"));

            t->column = field_name(&m, src, out);
            if (t->column == NULL)
                rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: the source %" PRId64
                             " of partition spec %" PRId64 " is not a column", m.file, src,
                             spec_id);
        }
    }
    json_decref(m.root);
    sl_arena_release(&a);
    return rc;
}

int
table_partition_text(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                     struct sl_buf *out, struct sl_diag *d)
{
    struct sl_arena a;
    struct meta m = {0};
    int64_t spec_id;
    json_t *f, *fields;
    size_t i;
    int rc;

    sl_arena_init(&a, 0);
    rc = default_spec(txn, s, ns, name, &a, &m, &spec_id, &fields, d);
    json_array_foreach(fields, i, f) {
        const char *tr = json_string_value(json_object_get(f, "transform"));
        const char *col = field_name(&m, json_integer_value(json_object_get(f, "source-id")), &a);

        if (rc == 0)
            sl_buf_addf(out, "%s%s(%s)", i ? ", " : "", tr ? tr : "?", col ? col : "?");
    }
    json_decref(m.root);
    sl_arena_release(&a);
    return rc;
}

/* ---- the current schema --------------------------------------------------------------- */

int
table_schema(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
             struct sl_arena *a, struct table_schema *out, struct sl_diag *d)
{
    struct sl_arena ma;
    struct meta m = {0};
    char *prefix = table_prefix(ns, name);
    int64_t current = -1, last = 0;
    json_t *x, *cur = NULL, *fields;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    sl_arena_init(&ma, 0);
    rc = open_meta(txn, s, ns, name, prefix, false, &ma, &m, d);
    if (rc == 0)
        rc = need_int(&m, m.root, "current-schema-id", &current, d);
    if (rc == 0)
        rc = need_int(&m, m.root, "last-column-id", &last, d);
    json_array_foreach(json_object_get(m.root, "schemas"), i, x)
        if (json_integer_value(json_object_get(x, "schema-id")) == current)
            cur = x;
    if (rc == 0 && cur == NULL)
        rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: current schema %" PRId64
                     " is not among its schemas", m.file, current);
    fields = json_object_get(cur, "fields");
    if (rc == 0) {
        struct table_column *cols = sl_arena_zalloc(a, (json_array_size(fields) + 1) *
                                                           sizeof(*cols));

        json_array_foreach(fields, i, x) {
            const char *fname = json_string_value(json_object_get(x, "name"));
            const char *type = json_string_value(json_object_get(x, "type"));
            struct table_column *c = &cols[out->ncolumns];

            if (fname == NULL || type == NULL || ival_type_parse(type, &c->type) < 0) {
                rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s: field %zu of the "
                             "current schema has no name or a type sluice does not write",
                             m.file, i);
                break;
            }
            c->name = sl_arena_strdup(a, fname);
            c->field_id = (int32_t)json_integer_value(json_object_get(x, "id"));
            c->required = json_is_true(json_object_get(x, "required"));
            out->ncolumns++;
        }
        out->columns = cols;
        out->last_column_id = (int32_t)last;
    }
    free(prefix);
    json_decref(m.root);
    sl_arena_release(&ma);
    return rc;
}

/* ---- listing snapshots ---------------------------------------------------------------- */

int
table_snapshots(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
                table_snapshot_cb cb, void *arg, struct sl_diag *d)
{
    struct sl_arena a;
    struct meta m = {0};
    json_t *snaps, *x;
    int64_t current;
    size_t i;
    char *prefix = table_prefix(ns, name);
    int rc;

    sl_arena_init(&a, 0);
    rc = open_meta(txn, s, ns, name, prefix, true, &a, &m, d);
    if (rc < 0)
        goto out;
    current_snapshot(&m, &current);
    snaps = json_object_get(m.root, "snapshots");
    json_array_foreach(snaps, i, x) {
        json_t *sum = json_object_get(x, "summary");
        json_t *parent = json_object_get(x, "parent-snapshot-id");
        char *sum_text = json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER);
        struct table_snapshot snap = {
            .id = json_integer_value(json_object_get(x, "snapshot-id")),
            .parent_id = json_is_integer(parent) ? json_integer_value(parent) : -1,
            .sequence_number = json_integer_value(json_object_get(x, "sequence-number")),
            .timestamp_ms = json_integer_value(json_object_get(x, "timestamp-ms")),
            .operation = json_string_value(json_object_get(sum, "operation")),
            .manifest_list = json_string_value(json_object_get(x, "manifest-list")),
            .summary_json = sum_text ? sum_text : "{}",
        };

        snap.current = snap.id == current;
        rc = cb(arg, &snap);
        free(sum_text);
        if (rc < 0)
            break;
    }
out:
    free(prefix);
    json_decref(m.root);
    sl_arena_release(&a);
    return rc;
}
