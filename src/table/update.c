/*
 * update.c - commits from writers other than sluice's stages: the Iceberg
 * REST catalog's CommitTableRequest and CreateTableRequest applied to a
 * table's metadata document (see table.h).
 *
 * A commit is checked whole before anything is written: the requirements
 * against the metadata the commit starts from, then every update, in
 * order, on a copy of it.  Only a copy that took every update is written
 * (the next NNNNN-<uuid>.metadata.json under the table's metadata folder)
 * and the catalog's pointer swapped from the file read to it, so a
 * request refused for any reason leaves the table as it was.
 *
 * The requirements and updates, as the REST spec (open-api/
 * rest-catalog-open-api.yaml, TableRequirement and TableUpdate) names
 * them, and what each checks or changes here:
 *
 *   assert-create                    the table does not exist (always fails
 *                                    on a commit: creation is table_create)
 *   assert-table-uuid        uuid    table-uuid
 *   assert-ref-snapshot-id   ref, snapshot-id   refs[ref].snapshot-id
 *                                    (null: the ref does not exist)
 *   assert-last-assigned-field-id    last-column-id
 *   assert-current-schema-id         current-schema-id
 *   assert-last-assigned-partition-id  last-partition-id
 *   assert-default-spec-id           default-spec-id
 *   assert-default-sort-order-id     default-sort-order-id
 *
 *   assign-uuid              uuid    table-uuid
 *   upgrade-format-version   format-version  1 -> 2, never down, never past 2
 *   add-schema               schema  a new schema id (an equal schema's id
 *                                    if there is one); last-column-id
 *   set-current-schema       schema-id (-1: the one added last)
 *   add-spec                 spec    a new spec id; field ids assigned from
 *                                    last-partition-id on where missing
 *   set-default-spec         spec-id (-1: the one added last)
 *   add-sort-order           sort-order  a new order id (0 if unsorted)
 *   set-default-sort-order   sort-order-id (-1: the one added last)
 *   add-snapshot             snapshot    a new id, a sequence number past
 *                                    last-sequence-number (format 2), its
 *                                    manifest list under the table's location
 *   set-snapshot-ref         ref-name, type, snapshot-id, retention: "main"
 *                                    moves current-snapshot-id and the
 *                                    snapshot-log
 *   remove-snapshots         snapshot-ids, and the refs to them
 *   remove-snapshot-ref      ref-name
 *   set-location             location: only to where the table is
 *   set-properties           updates (string to string)
 *   remove-properties        removals
 *
 * Properties named "sluice.*" are sluice's and refused in both directions.
 */
#include "table/table.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/iceberg.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "store/layout.h"
#include "table/table_int.h"
#include "core/banned.h"

#define FIRST_PARTITION_ID 1000

/* ---- reading ---------------------------------------------------------------- */

int
table_metadata(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
               char **location, char **json, struct sl_diag *d)
{
    struct sl_arena a;
    const char *loc = NULL;
    char *prefix = layout_table_prefix(ns, name), *path = NULL;
    const char *key;
    struct sl_buf b;
    json_error_t err;
    json_t *root;
    int rc;

    sl_arena_init(&a, 0);
    sl_buf_init(&b);
    rc = catalog_iceberg_get(txn, ns, name, &a, &loc, d);
    if (rc < 0)
        goto out;
    key = table_key_of(prefix, loc, strlen(loc));
    if (key == NULL || !store_key_valid(key)) {
        rc = sl_fail(d, SL_ERR_CORRUPT,
                     "table %s.%s: its metadata location '%s' is not a "
                     "file of the table",
                     ns, name, loc);
        goto out;
    }
    rc = store_local_path(s, key, &path, d);
    if (rc == 0)
        rc = sl_read_file(path, TABLE_METADATA_MAX, &b, d);
    if (rc < 0) {
        char why[sizeof(d->msg)];

        snprintf(why, sizeof(why), "%s", d->msg);
        sl_diag_init(d);
        rc = sl_fail(d, SL_ERR_CORRUPT, "table %s.%s: cannot read its metadata file %s: %s", ns,
                     name, loc, why);
        goto out;
    }
    /* Handed out as stored, but only if it is what a reader expects. */
    root = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(root)) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "Iceberg metadata file %s is not a JSON object", loc);
        json_decref(root);
        goto out;
    }
    json_decref(root);
    *location = sl_strdup(loc);
    *json = sl_strndup(b.data, b.len);
out:
    free(path);
    free(prefix);
    sl_buf_release(&b);
    sl_arena_release(&a);
    return rc;
}

bool
table_managed(const char *json)
{
    json_t *root = json_loads(json, 0, NULL);
    const char *by = json_string_value(
        json_object_get(json_object_get(root, "properties"), "sluice.managed-by"));
    bool managed = by != NULL && strcmp(by, "sluice") == 0;

    json_decref(root);
    return managed;
}

/* ---- the request's members ---------------------------------------------------- */

/* One commit being checked and applied. */
struct upd {
    json_t *m;             /* the metadata being changed (a copy) */
    const char *ns, *name; /* the table */
    const char *location;  /* its location member */
    int64_t added_schema;  /* ids added by this commit, for -1; -1: none */
    int64_t added_spec;
    int64_t added_order;
    struct sl_diag *d;
};

/* A bad request: SL_ERR_INPUT, "<where>: <why>". */
static int bad(struct upd *u, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
bad(struct upd *u, const char *where, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sl_fail(u->d, SL_ERR_INPUT, "%s: %s", where, why);
}

/* Member key of obj as an integer (nullable: JSON null gives *null). */
static int
get_int(struct upd *u, json_t *obj, const char *where, const char *key, int64_t *out, bool *null)
{
    json_t *v = json_object_get(obj, key);

    *out = 0;
    if (null != NULL)
        *null = json_is_null(v);
    if (null != NULL && *null)
        return 0;
    if (!json_is_integer(v))
        return bad(u, where, "'%s' is %s, not an integer", key,
                   v == NULL ? "missing" : "of the wrong type");
    *out = json_integer_value(v);
    return 0;
}

/* Member key of obj of type t (kind: its name in messages), into *out. */
static int
get_typed(struct upd *u, json_t *obj, const char *where, const char *key, json_type t,
          const char *kind, json_t **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (v == NULL || json_typeof(v) != t)
        return bad(u, where, "'%s' is %s, not %s", key, v == NULL ? "missing" : "of the wrong type",
                   kind);
    *out = v;
    return 0;
}

static int
get_str(struct upd *u, json_t *obj, const char *where, const char *key, const char **out)
{
    json_t *v;
    int rc = get_typed(u, obj, where, key, JSON_STRING, "a string", &v);

    *out = json_string_value(v);
    return rc;
}

static int
get_obj(struct upd *u, json_t *obj, const char *where, const char *key, json_t **out)
{
    return get_typed(u, obj, where, key, JSON_OBJECT, "an object", out);
}

/* The metadata's integer member key, or dflt. */
static int64_t
meta_int(json_t *m, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(m, key);

    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* The metadata's member key of type t (a list or an object), made empty
 * if it is missing or of another type. */
static json_t *
meta_member(json_t *m, const char *key, json_type t)
{
    json_t *v = json_object_get(m, key);

    if (v == NULL || json_typeof(v) != t) {
        v = t == JSON_ARRAY ? json_array() : json_object();
        json_object_set_new(m, key, v);
    }
    return v;
}

#define meta_array(m, key) meta_member(m, key, JSON_ARRAY)
#define meta_object(m, key) meta_member(m, key, JSON_OBJECT)

/* The element of list whose integer member key is id, or NULL. */
static json_t *
find_by(json_t *list, const char *key, int64_t id)
{
    json_t *x;
    size_t i;

    json_array_foreach(list, i, x) {
        if (json_is_integer(json_object_get(x, key)) &&
            json_integer_value(json_object_get(x, key)) == id)
            return x;
    }
    return NULL;
}

/* The highest integer member key of list's elements, or dflt. */
static int64_t
max_of(json_t *list, const char *key, int64_t dflt)
{
    int64_t max = dflt;
    json_t *x;
    size_t i;

    json_array_foreach(list, i, x) {
        if (json_is_integer(json_object_get(x, key)) &&
            json_integer_value(json_object_get(x, key)) > max)
            max = json_integer_value(json_object_get(x, key));
    }
    return max;
}

/* ---- requirements -------------------------------------------------------------------- */

/* A requirement that does not hold: SL_ERR_CONFLICT. */
static int unmet(struct upd *u, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
unmet(struct upd *u, const char *what, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sl_fail(u->d, SL_ERR_CONFLICT, "Requirement failed: %s of table %s.%s: %s", what, u->ns,
                   u->name, why);
}

/* The requirements that compare one integer member of the metadata. */
static const struct {
    const char *type;   /* "assert-current-schema-id" */
    const char *member; /* in the requirement: "current-schema-id" */
    const char *meta;   /* in the metadata: "current-schema-id" */
} int_asserts[] = {
    {"assert-last-assigned-field-id", "last-assigned-field-id", "last-column-id"},
    {"assert-current-schema-id", "current-schema-id", "current-schema-id"},
    {"assert-last-assigned-partition-id", "last-assigned-partition-id", "last-partition-id"},
    {"assert-default-spec-id", "default-spec-id", "default-spec-id"},
    {"assert-default-sort-order-id", "default-sort-order-id", "default-sort-order-id"},
};

static int
check_requirement(struct upd *u, json_t *r, const char *where)
{
    const char *type, *s;
    int64_t want;
    bool null;
    int rc;

    if (!json_is_object(r))
        return bad(u, where, "a requirement must be an object");
    rc = get_str(u, r, where, "type", &type);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(int_asserts) / sizeof(int_asserts[0]); i++) {
        if (strcmp(type, int_asserts[i].type) != 0)
            continue;
        rc = get_int(u, r, where, int_asserts[i].member, &want, NULL);
        if (rc < 0)
            return rc;
        int64_t have = meta_int(u->m, int_asserts[i].meta, -1);

        if (have != want)
            return unmet(u, int_asserts[i].meta, "it is %" PRId64 ", not %" PRId64, have, want);
        return 0;
    }
    if (strcmp(type, "assert-create") == 0)
        return unmet(u, "assert-create", "the table exists");
    if (strcmp(type, "assert-table-uuid") == 0) {
        const char *have = json_string_value(json_object_get(u->m, "table-uuid"));

        rc = get_str(u, r, where, "uuid", &s);
        if (rc == 0 && (have == NULL || strcmp(have, s) != 0))
            rc = unmet(u, "table-uuid", "it is %s, not %s", have ? have : "unset", s);
        return rc;
    }
    if (strcmp(type, "assert-ref-snapshot-id") == 0) {
        json_t *ref;

        rc = get_str(u, r, where, "ref", &s);
        if (rc == 0)
            rc = get_int(u, r, where, "snapshot-id", &want, &null);
        if (rc < 0)
            return rc;
        ref = json_object_get(json_object_get(u->m, "refs"), s);
        if (null && ref != NULL)
            return unmet(u, "ref",
                         "branch or tag '%s' exists (at snapshot %" PRId64
                         "); the commit expected none",
                         s, meta_int(ref, "snapshot-id", -1));
        if (!null && ref == NULL)
            return unmet(u, "ref",
                         "branch or tag '%s' does not exist; the commit expected "
                         "snapshot %" PRId64,
                         s, want);
        if (!null && meta_int(ref, "snapshot-id", -1) != want)
            return unmet(u, "ref", "branch or tag '%s' is at snapshot %" PRId64 ", not %" PRId64, s,
                         meta_int(ref, "snapshot-id", -1), want);
        return 0;
    }
    return bad(u, where, "unknown requirement type '%s'", type);
}

/* ---- updates ----------------------------------------------------------------------- */

/* The highest field id in a schema type (struct, list, map; nested). */
static int64_t
max_field_id(json_t *type)
{
    static const char *const ids[] = {"id", "element-id", "key-id", "value-id"};
    static const char *const nested[] = {"type", "element", "key", "value"};
    int64_t max = 0;
    json_t *f;
    size_t i;

    if (!json_is_object(type))
        return 0;
    for (size_t k = 0; k < 4; k++) {
        int64_t v = meta_int(type, ids[k], 0);

        if (v > max)
            max = v;
        if (k > 0 || json_object_get(type, "fields") == NULL) {
            v = max_field_id(json_object_get(type, nested[k]));
            if (v > max)
                max = v;
        }
    }
    json_array_foreach(json_object_get(type, "fields"), i, f) {
        int64_t v = max_field_id(f);

        if (v > max)
            max = v;
    }
    return max;
}

/* The members a schema must have: fields of ids, names, types. */
static int
check_schema(struct upd *u, json_t *schema, const char *where)
{
    json_t *fields = json_object_get(schema, "fields"), *f;
    const char *type = json_string_value(json_object_get(schema, "type"));
    char at[300];
    size_t i;
    int rc = 0;

    if (type == NULL || strcmp(type, "struct") != 0)
        return bad(u, where, "'type' must be \"struct\"");
    if (!json_is_array(fields))
        return bad(u, where, "'fields' is missing or not a list");
    json_array_foreach(fields, i, f) {
        const char *name;
        int64_t id;
        json_t *t = json_object_get(f, "type");

        snprintf(at, sizeof(at), "%.120s.fields[%zu]", where, i);
        if (!json_is_object(f))
            return bad(u, at, "a field must be an object");
        rc = get_int(u, f, at, "id", &id, NULL);
        if (rc == 0)
            rc = get_str(u, f, at, "name", &name);
        if (rc < 0)
            return rc;
        if (id <= 0)
            return bad(u, at, "'id' must be positive, not %" PRId64, id);
        if (!json_is_string(t) && !json_is_object(t))
            return bad(u, at, "'type' is missing or not a type");
        if (!json_is_boolean(json_object_get(f, "required")))
            return bad(u, at, "'required' is missing or not a boolean");
        for (size_t j = 0; j < i; j++)
            if (meta_int(json_array_get(fields, j), "id", -1) == id)
                return bad(u, at, "field id %" PRId64 " is used twice", id);
    }
    return 0;
}

/* Without its id member: two schemas, specs or orders are the same thing. */
static bool
same_but(json_t *a, json_t *b, const char *id)
{
    json_t *x = json_deep_copy(a), *y = json_deep_copy(b);
    bool same;

    json_object_del(x, id);
    json_object_del(y, id);
    same = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

/* The schema in member of up, added (add-schema; a create's "schema"). */
static int
add_schema(struct upd *u, json_t *up, const char *where, const char *member)
{
    json_t *schema, *schemas = meta_array(u->m, "schemas"), *x;
    char at[300];
    size_t i;
    int64_t id, last;
    int rc = get_obj(u, up, where, member, &schema);

    snprintf(at, sizeof(at), "%.120s.%s", where, member);
    if (rc == 0)
        rc = check_schema(u, schema, at);
    if (rc < 0)
        return rc;
    schema = json_deep_copy(schema);
    json_array_foreach(schemas, i, x) {
        if (same_but(x, schema, "schema-id")) {
            u->added_schema = meta_int(x, "schema-id", 0);
            json_decref(schema);
            return 0;
        }
    }
    id = max_of(schemas, "schema-id", -1) + 1;
    json_object_set_new(schema, "schema-id", json_integer(id));
    last = max_field_id(schema);
    if (last > meta_int(u->m, "last-column-id", 0))
        json_object_set_new(u->m, "last-column-id", json_integer(last));
    json_array_append_new(schemas, schema);
    u->added_schema = id;
    return 0;
}

/* set-current-schema, set-default-spec, set-default-sort-order. */
static int
set_current(struct upd *u, json_t *up, const char *where, const char *member, int64_t added,
            const char *list, const char *list_id, const char *meta_member)
{
    int64_t id;
    int rc = get_int(u, up, where, member, &id, NULL);

    if (rc < 0)
        return rc;
    if (id == -1) {
        if (added < 0)
            return bad(u, where, "'%s' is -1 (the last added) but this commit added none", member);
        id = added;
    }
    if (find_by(json_object_get(u->m, list), list_id, id) == NULL)
        return bad(u, where, "'%s' %" PRId64 " is not among the table's %s", member, id, list);
    json_object_set_new(u->m, meta_member, json_integer(id));
    return 0;
}

/* The partition spec in member of up, added (add-spec; a create's
 * "partition-spec"). */
static int
add_spec(struct upd *u, json_t *up, const char *where, const char *member)
{
    json_t *spec, *specs = meta_array(u->m, "partition-specs"), *fields, *f, *x;
    int64_t last = meta_int(u->m, "last-partition-id", FIRST_PARTITION_ID - 1);
    int64_t id;
    char at[300];
    size_t i;
    int rc = get_obj(u, up, where, member, &spec);

    if (rc < 0)
        return rc;
    spec = json_deep_copy(spec);
    fields = json_object_get(spec, "fields");
    if (!json_is_array(fields)) {
        json_decref(spec);
        return bad(u, where, "'%s.fields' is missing or not a list", member);
    }
    json_array_foreach(fields, i, f) {
        const char *s;
        int64_t src, fid;

        snprintf(at, sizeof(at), "%.120s.%.40s.fields[%zu]", where, member, i);
        rc = json_is_object(f) ? 0 : bad(u, at, "a partition field must be an object");
        if (rc == 0)
            rc = get_int(u, f, at, "source-id", &src, NULL);
        if (rc == 0)
            rc = get_str(u, f, at, "name", &s);
        if (rc == 0)
            rc = get_str(u, f, at, "transform", &s);
        if (rc < 0) {
            json_decref(spec);
            return rc;
        }
        if (json_object_get(f, "field-id") == NULL) {
            json_object_set_new(f, "field-id", json_integer(++last));
        } else if (get_int(u, f, at, "field-id", &fid, NULL) < 0) {
            json_decref(spec);
            return SL_ERR_INPUT;
        } else if (fid > last) {
            last = fid;
        }
    }
    json_array_foreach(specs, i, x) {
        if (same_but(x, spec, "spec-id")) {
            u->added_spec = meta_int(x, "spec-id", 0);
            json_decref(spec);
            return 0;
        }
    }
    id = max_of(specs, "spec-id", -1) + 1;
    json_object_set_new(spec, "spec-id", json_integer(id));
    json_array_append_new(specs, spec);
    json_object_set_new(u->m, "last-partition-id", json_integer(last));
    u->added_spec = id;
    return 0;
}

/* The sort order in member of up, added (add-sort-order; a create's
 * "write-order"). */
static int
add_sort_order(struct upd *u, json_t *up, const char *where, const char *member)
{
    json_t *order, *orders = meta_array(u->m, "sort-orders"), *fields, *x;
    int64_t id;
    size_t i;
    int rc = get_obj(u, up, where, member, &order);

    if (rc < 0)
        return rc;
    fields = json_object_get(order, "fields");
    if (!json_is_array(fields))
        return bad(u, where, "'%s.fields' is missing or not a list", member);
    json_array_foreach(fields, i, x) {
        char at[300];
        const char *s;
        int64_t src;

        snprintf(at, sizeof(at), "%.120s.%.40s.fields[%zu]", where, member, i);
        rc = json_is_object(x) ? 0 : bad(u, at, "a sort field must be an object");
        if (rc == 0)
            rc = get_int(u, x, at, "source-id", &src, NULL);
        if (rc == 0)
            rc = get_str(u, x, at, "transform", &s);
        if (rc == 0)
            rc = get_str(u, x, at, "direction", &s);
        if (rc == 0)
            rc = get_str(u, x, at, "null-order", &s);
        if (rc < 0)
            return rc;
    }
    order = json_deep_copy(order);
    json_array_foreach(orders, i, x) {
        if (same_but(x, order, "order-id")) {
            u->added_order = meta_int(x, "order-id", 0);
            json_decref(order);
            return 0;
        }
    }
    /* Order id 0 is the unsorted order; sorted ones start at 1. */
    id = json_array_size(fields) == 0 ? 0 : max_of(orders, "order-id", 0) + 1;
    json_object_set_new(order, "order-id", json_integer(id));
    json_array_append_new(orders, order);
    u->added_order = id;
    return 0;
}

static int
add_snapshot(struct upd *u, json_t *up, const char *where)
{
    json_t *snap, *summary;
    int64_t id = 0, seq = 0, ts = 0;
    const char *list = NULL, *op;
    char at[300];
    size_t n = strlen(u->location);
    int rc = get_obj(u, up, where, "snapshot", &snap);

    snprintf(at, sizeof(at), "%.120s.snapshot", where);
    if (rc == 0)
        rc = get_int(u, snap, at, "snapshot-id", &id, NULL);
    if (rc == 0)
        rc = get_int(u, snap, at, "timestamp-ms", &ts, NULL);
    if (rc == 0)
        rc = get_str(u, snap, at, "manifest-list", &list);
    if (rc == 0)
        rc = get_obj(u, snap, at, "summary", &summary);
    if (rc == 0) {
        snprintf(at, sizeof(at), "%.120s.snapshot.summary", where);
        rc = get_str(u, summary, at, "operation", &op);
        snprintf(at, sizeof(at), "%.120s.snapshot", where);
    }
    if (rc < 0)
        return rc;
    if (find_by(json_object_get(u->m, "snapshots"), "snapshot-id", id) != NULL)
        return bad(u, at, "snapshot %" PRId64 " exists already", id);
    if (strncmp(list, u->location, n) != 0 || list[n] != '/')
        return bad(u, at, "'manifest-list' %s is not under the table's location %s", list,
                   u->location);
    if (meta_int(u->m, "format-version", 1) >= 2) {
        int64_t last = meta_int(u->m, "last-sequence-number", 0);

        rc = get_int(u, snap, at, "sequence-number", &seq, NULL);
        if (rc < 0)
            return rc;
        if (seq <= last)
            return bad(u, at,
                       "'sequence-number' %" PRId64 " is not past the table's last, "
                       "%" PRId64,
                       seq, last);
        json_object_set_new(u->m, "last-sequence-number", json_integer(seq));
    }
    json_array_append_new(meta_array(u->m, "snapshots"), json_deep_copy(snap));
    return 0;
}

static int
set_snapshot_ref(struct upd *u, json_t *up, const char *where)
{
    static const char *const retention[] = {"max-ref-age-ms", "max-snapshot-age-ms",
                                            "min-snapshots-to-keep"};
    const char *name, *type = NULL;
    int64_t id = 0, v;
    json_t *ref;
    int rc = get_str(u, up, where, "ref-name", &name);

    if (rc == 0)
        rc = get_str(u, up, where, "type", &type);
    if (rc == 0)
        rc = get_int(u, up, where, "snapshot-id", &id, NULL);
    if (rc < 0)
        return rc;
    if (strcmp(type, "branch") != 0 && strcmp(type, "tag") != 0)
        return bad(u, where, "'type' must be \"branch\" or \"tag\", not \"%s\"", type);
    if (strcmp(name, "main") == 0 && strcmp(type, "branch") != 0)
        return bad(u, where, "'main' must be a branch");
    if (find_by(json_object_get(u->m, "snapshots"), "snapshot-id", id) == NULL)
        return bad(u, where, "'snapshot-id' %" PRId64 " is not among the table's snapshots", id);
    ref = json_pack("{s:I, s:s}", "snapshot-id", (json_int_t)id, "type", type);
    for (size_t i = 0; i < 3; i++) {
        if (json_object_get(up, retention[i]) == NULL ||
            json_is_null(json_object_get(up, retention[i])))
            continue;
        rc = get_int(u, up, where, retention[i], &v, NULL);
        if (rc < 0) {
            json_decref(ref);
            return rc;
        }
        json_object_set_new(ref, retention[i], json_integer(v));
    }
    json_object_set_new(meta_object(u->m, "refs"), name, ref);
    if (strcmp(name, "main") == 0) {
        json_t *snap = find_by(json_object_get(u->m, "snapshots"), "snapshot-id", id);

        json_object_set_new(u->m, "current-snapshot-id", json_integer(id));
        json_array_append_new(meta_array(u->m, "snapshot-log"),
                              json_pack("{s:I, s:I}", "timestamp-ms",
                                        (json_int_t)meta_int(snap, "timestamp-ms", sl_now_ms()),
                                        "snapshot-id", (json_int_t)id));
    }
    return 0;
}

/* Drop ref name (which may be the refs object's own key, freed by the
 * drop); main's going leaves the table without a current snapshot. */
static void
drop_ref(struct upd *u, const char *name)
{
    bool is_main = strcmp(name, "main") == 0;

    json_object_del(meta_object(u->m, "refs"), name);
    if (is_main)
        json_object_set_new(u->m, "current-snapshot-id", json_integer(-1));
}

static int
remove_snapshots(struct upd *u, json_t *up, const char *where)
{
    json_t *ids = json_object_get(up, "snapshot-ids"), *v, *snaps, *log, *refs, *r;
    const char *key;
    void *tmp;
    size_t i;

    if (!json_is_array(ids))
        return bad(u, where, "'snapshot-ids' is missing or not a list");
    json_array_foreach(ids, i, v) {
        if (!json_is_integer(v))
            return bad(u, where, "'snapshot-ids[%zu]' is not an integer", i);
    }
    snaps = meta_array(u->m, "snapshots");
    log = meta_array(u->m, "snapshot-log");
    refs = meta_object(u->m, "refs");
    json_array_foreach(ids, i, v) {
        int64_t id = json_integer_value(v);

        for (size_t k = json_array_size(snaps); k-- > 0;)
            if (meta_int(json_array_get(snaps, k), "snapshot-id", -1) == id)
                json_array_remove(snaps, k);
        for (size_t k = json_array_size(log); k-- > 0;)
            if (meta_int(json_array_get(log, k), "snapshot-id", -1) == id)
                json_array_remove(log, k);
        json_object_foreach_safe(refs, tmp, key, r) {
            if (meta_int(r, "snapshot-id", -1) == id)
                drop_ref(u, key);
        }
    }
    return 0;
}

static bool
reserved_property(const char *key)
{
    return strncmp(key, "sluice.", 7) == 0;
}

/* The properties in member of up, set (set-properties; a create's
 * "properties"). */
static int
set_properties(struct upd *u, json_t *up, const char *where, const char *member)
{
    json_t *updates, *props = meta_object(u->m, "properties"), *v;
    const char *key;
    int rc = get_obj(u, up, where, member, &updates);

    if (rc < 0)
        return rc;
    json_object_foreach(updates, key, v) {
        if (!json_is_string(v))
            return bad(u, where, "'%s.%s' is not a string", member, key);
        if (reserved_property(key))
            return bad(u, where, "property '%s' is sluice's own and cannot be set", key);
    }
    json_object_foreach(updates, key, v) {
        json_object_set(props, key, v);
    }
    return 0;
}

static int
remove_properties(struct upd *u, json_t *up, const char *where)
{
    json_t *removals = json_object_get(up, "removals"), *v;
    size_t i;

    if (!json_is_array(removals))
        return bad(u, where, "'removals' is missing or not a list");
    json_array_foreach(removals, i, v) {
        if (!json_is_string(v))
            return bad(u, where, "'removals[%zu]' is not a string", i);
        if (reserved_property(json_string_value(v)))
            return bad(u, where, "property '%s' is sluice's own and cannot be removed",
                       json_string_value(v));
    }
    json_array_foreach(removals, i, v) {
        json_object_del(meta_object(u->m, "properties"), json_string_value(v));
    }
    return 0;
}

static int
apply_update(struct upd *u, json_t *up, const char *where)
{
    const char *action, *s;
    int64_t v;
    int rc;

    if (!json_is_object(up))
        return bad(u, where, "an update must be an object");
    rc = get_str(u, up, where, "action", &action);
    if (rc < 0)
        return rc;
    if (strcmp(action, "assign-uuid") == 0) {
        rc = get_str(u, up, where, "uuid", &s);
        if (rc == 0 && strlen(s) != 36)
            rc = bad(u, where, "'uuid' '%s' is not a UUID", s);
        if (rc == 0)
            json_object_set_new(u->m, "table-uuid", json_string(s));
        return rc;
    }
    if (strcmp(action, "upgrade-format-version") == 0) {
        int64_t have = meta_int(u->m, "format-version", 1);

        rc = get_int(u, up, where, "format-version", &v, NULL);
        if (rc == 0 && v < have)
            rc = bad(u, where,
                     "'format-version' %" PRId64 " would downgrade the table from %" PRId64, v,
                     have);
        if (rc == 0 && v > 2)
            rc = bad(u, where,
                     "'format-version' %" PRId64 " is not supported: sluice "
                     "writes format versions 1 and 2",
                     v);
        if (rc == 0 && v > have) {
            json_object_set_new(u->m, "format-version", json_integer(v));
            if (json_object_get(u->m, "last-sequence-number") == NULL)
                json_object_set_new(u->m, "last-sequence-number", json_integer(0));
        }
        return rc;
    }
    if (strcmp(action, "add-schema") == 0)
        return add_schema(u, up, where, "schema");
    if (strcmp(action, "set-current-schema") == 0)
        return set_current(u, up, where, "schema-id", u->added_schema, "schemas", "schema-id",
                           "current-schema-id");
    if (strcmp(action, "add-spec") == 0)
        return add_spec(u, up, where, "spec");
    if (strcmp(action, "set-default-spec") == 0)
        return set_current(u, up, where, "spec-id", u->added_spec, "partition-specs", "spec-id",
                           "default-spec-id");
    if (strcmp(action, "add-sort-order") == 0)
        return add_sort_order(u, up, where, "sort-order");
    if (strcmp(action, "set-default-sort-order") == 0)
        return set_current(u, up, where, "sort-order-id", u->added_order, "sort-orders", "order-id",
                           "default-sort-order-id");
    if (strcmp(action, "add-snapshot") == 0)
        return add_snapshot(u, up, where);
    if (strcmp(action, "set-snapshot-ref") == 0)
        return set_snapshot_ref(u, up, where);
    if (strcmp(action, "remove-snapshots") == 0)
        return remove_snapshots(u, up, where);
    if (strcmp(action, "remove-snapshot-ref") == 0) {
        rc = get_str(u, up, where, "ref-name", &s);
        if (rc == 0)
            drop_ref(u, s);
        return rc;
    }
    if (strcmp(action, "set-location") == 0) {
        rc = get_str(u, up, where, "location", &s);
        if (rc == 0 && strcmp(s, u->location) != 0)
            rc = bad(u, where, "'location' cannot change: sluice keeps table %s.%s at %s", u->ns,
                     u->name, u->location);
        return rc;
    }
    if (strcmp(action, "set-properties") == 0)
        return set_properties(u, up, where, "updates");
    if (strcmp(action, "remove-properties") == 0)
        return remove_properties(u, up, where);
    return bad(u, where, "unknown or unsupported update action '%s'", action);
}

/* Every update of the list ups, in order, on u->m. */
static int
apply_updates(struct upd *u, json_t *ups)
{
    json_t *up;
    char where[64];
    size_t i;
    int rc = 0;

    json_array_foreach(ups, i, up) {
        snprintf(where, sizeof(where), "updates[%zu]", i);
        rc = apply_update(u, up, where);
        if (rc < 0)
            break;
    }
    return rc;
}

/* ---- commits ----------------------------------------------------------------------- */

/* The request body as a JSON object, or SL_ERR_INPUT saying where not. */
static int
parse_request(const char *req, size_t len, const char *what, json_t **out, struct sl_diag *d)
{
    json_error_t err;

    *out = json_loadb(req, len, JSON_REJECT_DUPLICATES, &err);
    if (*out == NULL)
        return sl_fail(d, SL_ERR_INPUT, "%s: %s at line %d, column %d", what, err.text, err.line,
                       err.column);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return sl_fail(d, SL_ERR_INPUT, "%s must be a JSON object", what);
    }
    return 0;
}

/* Write u->m as the version after base and move the pointer to it. */
static int
write_next(struct catalog_txn *txn, struct store *s, struct upd *u, const char *base,
           char **location, char **json, struct sl_diag *d)
{
    char *prefix = layout_table_prefix(u->ns, u->name), *next = NULL;
    json_t *log = meta_array(u->m, "metadata-log");
    long v = base != NULL ? table_metadata_version(base) : -1;
    int rc;

    if (base != NULL) {
        json_array_append_new(log, json_pack("{s:I, s:s}", "timestamp-ms",
                                             (json_int_t)meta_int(u->m, "last-updated-ms", 0),
                                             "metadata-file", base));
        while (json_array_size(log) > TABLE_METADATA_LOG_MAX)
            json_array_remove(log, 0);
    }
    json_object_set_new(u->m, "last-updated-ms", json_integer(sl_now_ms()));
    rc = table_write_metadata(s, prefix, u->name,
                              base == NULL ? 0
                              : v < 0      ? 1
                                           : v + 1,
                              u->m, &next, d);
    if (rc == 0)
        rc = base == NULL ? catalog_iceberg_create(txn, u->ns, u->name, next, d)
                          : catalog_iceberg_swap(txn, u->ns, u->name, base, next, d);
    if (rc == 0) {
        *json = json_dumps(u->m, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *location = next;
        next = NULL;
    }
    free(next);
    free(prefix);
    return rc;
}

/*
 * The CommitTableRequest body's requirements checked against u->m and its
 * updates applied to it; *changes says whether it has any.
 */
static int
apply_commit(struct upd *u, json_t *body, bool *changes)
{
    json_t *reqs = json_object_get(body, "requirements");
    json_t *ups = json_object_get(body, "updates"), *x;
    size_t i;
    int rc;

    if (reqs != NULL && !json_is_array(reqs))
        return sl_fail(u->d, SL_ERR_INPUT, "CommitTableRequest: 'requirements' is not a list");
    if (!json_is_array(ups))
        return sl_fail(u->d, SL_ERR_INPUT, "CommitTableRequest: 'updates' is %s",
                       ups == NULL ? "missing" : "not a list");
    u->location = json_string_value(json_object_get(u->m, "location"));
    if (u->location == NULL)
        return sl_fail(u->d, SL_ERR_CORRUPT, "the metadata of table %s.%s has no location",
                       u->ns, u->name);
    json_array_foreach(reqs, i, x) {
        char where[64];

        snprintf(where, sizeof(where), "requirements[%zu]", i);
        rc = check_requirement(u, x, where);
        if (rc < 0)
            return rc;
    }
    *changes = json_array_size(ups) > 0;
    return apply_updates(u, ups);
}

int
table_apply_commit(const char *meta, const char *ns, const char *name, const char *req,
                   size_t len, char **next, struct sl_diag *d)
{
    struct upd u = {
        .ns = ns, .name = name, .added_schema = -1, .added_spec = -1, .added_order = -1, .d = d};
    json_t *body = NULL;
    bool changes = false;
    int rc;

    *next = NULL;
    u.m = json_loads(meta, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(u.m)) {
        json_decref(u.m);
        return sl_fail(d, SL_ERR_CORRUPT, "the metadata of table %s.%s is not a JSON object",
                       ns, name);
    }
    rc = parse_request(req, len, "CommitTableRequest", &body, d);
    if (rc == 0)
        rc = apply_commit(&u, body, &changes);
    if (rc == 0 && changes)
        *next = json_dumps(u.m, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    json_decref(u.m);
    return rc;
}

int
table_update(struct catalog_txn *txn, struct store *s, const char *ns, const char *name,
             const char *req, size_t len, char **location, char **json, struct sl_diag *d)
{
    struct upd u = {
        .ns = ns, .name = name, .added_schema = -1, .added_spec = -1, .added_order = -1, .d = d};
    char *base = NULL, *text = NULL;
    json_t *body = NULL;
    bool changes = false;
    int rc;

    /* The request first: a malformed one is refused without a read. */
    rc = parse_request(req, len, "CommitTableRequest", &body, d);
    if (rc == 0)
        rc = table_metadata(txn, s, ns, name, &base, &text, d);
    if (rc == 0) {
        u.m = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        rc = apply_commit(&u, body, &changes);
    }
    if (rc == 0 && !changes) {
        *location = base;
        *json = text;
        base = text = NULL;
    } else if (rc == 0) {
        rc = write_next(txn, s, &u, base, location, json, d);
    }
    json_decref(u.m);
    json_decref(body);
    free(base);
    free(text);
    return rc;
}

bool
table_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > TABLE_NAME_MAX || name[0] == '_')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

int
table_create(struct catalog_txn *txn, struct store *s, const char *ns, const char *req, size_t len,
             char **name_out, char **location, char **json, struct sl_diag *d)
{
    struct upd u = {.ns = ns, .added_schema = -1, .added_spec = -1, .added_order = -1, .d = d};
    json_t *body = NULL, *x;
    char uuid[37], *prefix = NULL, *loc = NULL;
    const char *name, *given;
    struct sl_arena a;
    const char *found;
    int rc;

    sl_arena_init(&a, 0);
    rc = parse_request(req, len, "CreateTableRequest", &body, d);
    if (rc == 0)
        rc = get_str(&u, body, "CreateTableRequest", "name", &name);
    if (rc < 0)
        goto out;
    if (!table_name_ok(name)) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "CreateTableRequest: 'name' \"%s\" is not a table name "
                     "sluice can keep: use 1 to %d letters, digits, '_' and '-', not starting "
                     "with '_'",
                     name, TABLE_NAME_MAX);
        goto out;
    }
    u.name = name;
    if (json_is_true(json_object_get(body, "stage-create"))) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "CreateTableRequest: 'stage-create' is not supported: "
                     "create the table, then commit to it");
        goto out;
    }
    rc = catalog_iceberg_get(txn, ns, name, &a, &found, d);
    if (rc == 0) {
        rc = sl_fail(d, SL_ERR_EXISTS, "Table already exists: %s.%s", ns, name);
        goto out;
    }
    if (rc != SL_ERR_NOTFOUND)
        goto out;
    prefix = layout_table_prefix(ns, name);
    loc = table_uri(s, prefix);
    x = json_object_get(body, "location");
    given = json_string_value(x);
    if (x != NULL && !json_is_null(x) && (given == NULL || strcmp(given, loc) != 0)) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "CreateTableRequest: 'location' cannot be chosen: "
                     "sluice keeps table %s.%s at %s (leave it out)",
                     ns, name, loc);
        goto out;
    }
    table_new_uuid(uuid);
    u.location = loc;
    u.m =
        json_pack("{s:i, s:s, s:s, s:I, s:I, s:i, s:i, s:[], s:i, s:[], s:i, s:i, "
                  "s:[{s:i, s:[]}], s:{}, s:I, s:{}, s:[], s:[], s:[]}",
                  "format-version", 2, "table-uuid", uuid, "location", loc, "last-sequence-number",
                  (json_int_t)0, "last-updated-ms", (json_int_t)sl_now_ms(), "last-column-id", 0,
                  "current-schema-id", 0, "schemas", "default-spec-id", 0, "partition-specs",
                  "last-partition-id", FIRST_PARTITION_ID - 1, "default-sort-order-id", 0,
                  "sort-orders", "order-id", 0, "fields", "properties", "current-snapshot-id",
                  (json_int_t)-1, "refs", "snapshots", "snapshot-log", "metadata-log");
    /* The request's parts, added as a commit's updates would add them. */
    json_array_clear(json_object_get(u.m, "partition-specs"));
    rc = add_schema(&u, body, "CreateTableRequest", "schema");
    x = json_object_get(body, "partition-spec");
    if (rc == 0 && (x == NULL || json_is_null(x)))
        json_array_append_new(json_object_get(u.m, "partition-specs"),
                              json_pack("{s:i, s:[]}", "spec-id", 0, "fields"));
    else if (rc == 0)
        rc = add_spec(&u, body, "CreateTableRequest", "partition-spec");
    x = json_object_get(body, "write-order");
    if (rc == 0 && x != NULL && !json_is_null(x))
        rc = add_sort_order(&u, body, "CreateTableRequest", "write-order");
    x = json_object_get(body, "properties");
    if (rc == 0 && x != NULL && !json_is_null(x))
        rc = set_properties(&u, body, "CreateTableRequest", "properties");
    if (rc < 0)
        goto out;
    json_object_set_new(u.m, "current-schema-id", json_integer(u.added_schema));
    if (u.added_spec >= 0)
        json_object_set_new(u.m, "default-spec-id", json_integer(u.added_spec));
    if (u.added_order >= 0)
        json_object_set_new(u.m, "default-sort-order-id", json_integer(u.added_order));
    rc = write_next(txn, s, &u, NULL, location, json, d);
    if (rc == 0)
        *name_out = sl_strdup(name);
out:
    json_decref(u.m);
    json_decref(body);
    free(prefix);
    free(loc);
    sl_arena_release(&a);
    return rc;
}
