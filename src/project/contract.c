/*
 * contract.c - parsing and comparing data contracts (see contract.h).
 *
 * The YAML shape of a source file:
 *
 *   system: crm                      # the sending system (default: the name)
 *   contracts:
 *     - version: "1.0"
 *       key: [customer_id]           # or a single name
 *       event_time: updated_at
 *       partition_by: day            # auto, day, month, year, hour, none,
 *                                    # or bucket(16, customer_id)
 *       unknown_fields: reject       # or ignore
 *       columns:
 *         - {name: customer_id, type: string, required: true}
 *         - {name: updated_at, type: timestamp, required: true}
 *         - {name: balance, type: "decimal(12,2)"}
 */
#include "project/contract.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "core/banned.h"

/* Names sluice itself puts in curated tables. */
static const char *const reserved[] = {"_raw_object", "_raw_position", "_ingested_at", "dt"};

static int __attribute__((format(printf, 4, 5)))
fail_node(struct sl_diag *d, const char *path, const struct sl_yaml *n, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_fail(d, SL_ERR_INPUT, "%s", msg);
    sl_diag_at(d, path, n ? n->line : 0, 0, NULL);
    return SL_ERR_INPUT;
}

bool
contract_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                               s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

int
contract_parse_version_name(const char *s, int *major, int *minor, char *out, size_t size)
{
    const char *dot = strchr(s, '.');
    int64_t ma, mi = 0;

    if (dot == NULL) {
        if (sl_parse_i64(s, strlen(s), &ma) < 0)
            return SL_ERR_INPUT;
    } else if (sl_parse_i64(s, (size_t)(dot - s), &ma) < 0 ||
               sl_parse_i64(dot + 1, strlen(dot + 1), &mi) < 0) {
        return SL_ERR_INPUT;
    }
    if (s[0] == '+' || s[0] == '-' || (dot && (dot[1] == '+' || dot[1] == '-')) || ma < 1 ||
        ma > 9999 || mi < 0 || mi > 9999)
        return SL_ERR_INPUT;
    *major = (int)ma;
    *minor = (int)mi;
    snprintf(out, size, "%d.%d", *major, *minor);
    return 0;
}

int
contract_column_index(const struct contract *c, const char *name)
{
    for (size_t i = 0; i < c->ncolumns; i++)
        if (strcmp(c->columns[i].name, name) == 0)
            return (int)i;
    return -1;
}

static const struct sl_yaml *
scalar(const char *path, const struct sl_yaml *map, const char *key, bool need,
       struct sl_diag *d, int *rc)
{
    const struct sl_yaml *n = sl_yaml_get(map, key);

    *rc = 0;
    if (n == NULL || sl_yaml_is_null(n)) {
        if (need)
            *rc = fail_node(d, path, map, "missing '%s'", key);
        return NULL;
    }
    if (n->kind != SL_YAML_SCALAR) {
        *rc = fail_node(d, path, n, "'%s' must be a single value, not %s", key,
                        sl_yaml_kind_name(n));
        return NULL;
    }
    return n;
}

static int
check_keys(const char *path, const struct sl_yaml *map, const char *const *allowed,
           const char *what, struct sl_diag *d)
{
    for (size_t i = 0; i < map->n; i++) {
        bool ok = false;

        for (const char *const *k = allowed; *k; k++)
            ok |= strcmp(map->keys[i]->str, *k) == 0;
        if (!ok) {
            sl_fail(d, SL_ERR_INPUT, "unknown key '%s' in %s", map->keys[i]->str, what);
            sl_diag_at(d, path, map->keys[i]->line, 0, NULL);
            return SL_ERR_INPUT;
        }
    }
    return 0;
}

static int
parse_column(const char *path, const struct sl_yaml *n, struct sl_arena *a,
             struct contract_column *col, struct sl_diag *d)
{
    static const char *const allowed[] = {"name", "type", "required", "nullable",
                                          "description", NULL};
    const struct sl_yaml *name, *type, *req, *nul;
    int rc;

    if (n->kind != SL_YAML_MAP)
        return fail_node(d, path, n, "a column must be a mapping with name and type");
    rc = check_keys(path, n, allowed, "a column", d);
    if (rc < 0)
        return rc;
    name = scalar(path, n, "name", true, d, &rc);
    if (rc < 0)
        return rc;
    if (!contract_name_valid(name->str))
        return fail_node(d, path, name,
                         "invalid column name '%s': use letters, digits and '_', "
                         "starting with a letter or '_'",
                         name->str);
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcasecmp(name->str, reserved[i]) == 0)
            return fail_node(d, path, name, "column name '%s' is reserved by sluice",
                             name->str);
    type = scalar(path, n, "type", true, d, &rc);
    if (rc < 0)
        return rc;
    if (sl_type_parse(type->str, &col->type) < 0)
        return fail_node(d, path, type, "unknown type '%s' (expected one of %s)", type->str,
                         SL_TYPE_NAMES);
    col->name = name->str;
    col->line = n->line;
    col->required = false;
    req = scalar(path, n, "required", false, d, &rc);
    if (rc < 0)
        return rc;
    nul = scalar(path, n, "nullable", false, d, &rc);
    if (rc < 0)
        return rc;
    if (req != NULL) {
        if (strcmp(req->str, "true") == 0)
            col->required = true;
        else if (strcmp(req->str, "false") != 0)
            return fail_node(d, path, req, "'required' must be true or false, not '%s'",
                             req->str);
    }
    if (nul != NULL) {
        bool nullable;

        if (strcmp(nul->str, "true") == 0)
            nullable = true;
        else if (strcmp(nul->str, "false") == 0)
            nullable = false;
        else
            return fail_node(d, path, nul, "'nullable' must be true or false, not '%s'",
                             nul->str);
        if (req != NULL && nullable == col->required)
            return fail_node(d, path, nul, "column '%s' is both required and nullable",
                             col->name);
        col->required = !nullable;
    }
    (void)a;
    return 0;
}

static int
column_ref(const char *path, const struct contract *c, const struct sl_yaml *n,
           const char *what, struct sl_diag *d)
{
    int i = contract_column_index(c, n->str);

    if (i < 0)
        return fail_node(d, path, n, "%s '%s' is not a column of this version", what, n->str);
    return i;
}

/* s[0..n) without blanks at either end, into out (size bytes); false if
 * it does not fit. */
static bool
trimmed(const char *s, size_t n, char *out, size_t size)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= size)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/*
 * partition_by: bucket(N, column), Spark SQL's spelling, or
 * bucket[N](column), Iceberg's; blanks are allowed around N and the column.
 * Returns 1 when the text does not start with "bucket" (not for us), 0
 * with c's bucket set, or SL_ERR_INPUT naming the node: a text that is not
 * of either shape, N not an integer from 1 to CONTRACT_MAX_BUCKETS, a
 * column that is not one of c's, nullable, or of a type Iceberg does not
 * bucket (boolean, double).
 */
static int
parse_bucket(const char *path, const struct sl_yaml *n, struct contract *c, struct sl_diag *d)
{
    const char *s = n->str, *p, *num, *col, *end;
    char nbuf[32], cbuf[160], tn[32];
    size_t nlen, clen;
    int64_t buckets;
    int i;

    if (strncmp(s, "bucket", 6) != 0)
        return 1;
    p = s + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '(') { /* bucket(N, column) */
        num = p + 1;
        col = strchr(num, ',');
        end = col ? strchr(col, ')') : NULL;
        nlen = col ? (size_t)(col - num) : 0;
        clen = end ? (size_t)(end - col - 1) : 0;
        col = col ? col + 1 : NULL;
    } else if (*p == '[') { /* bucket[N](column) */
        num = p + 1;
        p = strchr(num, ']');
        nlen = p ? (size_t)(p - num) : 0;
        col = end = NULL;
        if (p != NULL) {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            col = *p == '(' ? p + 1 : NULL;
            end = col ? strchr(col, ')') : NULL;
        }
        clen = end ? (size_t)(end - col) : 0;
    } else {
        end = NULL;
    }
    if (end != NULL)
        for (p = end + 1; *p == ' ' || *p == '\t'; p++)
            ;
    if (end == NULL || *p != '\0' || !trimmed(num, nlen, nbuf, sizeof(nbuf)) ||
        !trimmed(col, clen, cbuf, sizeof(cbuf)) || cbuf[0] == '\0')
        return fail_node(d, path, n, "partition_by '%s' is not bucket(N, column): write, "
                         "for example, bucket(16, customer_id)", s);
    if (sl_parse_i64(nbuf, strlen(nbuf), &buckets) < 0 || buckets < 1 ||
        buckets > CONTRACT_MAX_BUCKETS)
        return fail_node(d, path, n, "partition_by '%s': the number of buckets must be an "
                         "integer from 1 to %d, not '%s'", s, CONTRACT_MAX_BUCKETS, nbuf);
    i = contract_column_index(c, cbuf);
    if (i < 0)
        return fail_node(d, path, n, "partition_by '%s': '%s' is not a column of this "
                         "version", s, cbuf);
    if (!c->columns[i].required)
        return fail_node(d, path, n, "partition_by '%s': column '%s' must be required "
                         "(a row without a value has no bucket)", s, cbuf);
    switch (c->columns[i].type.id) {
    case SL_TYPE_INT64:
    case SL_TYPE_DECIMAL:
    case SL_TYPE_DATE:
    case SL_TYPE_TIMESTAMP:
    case SL_TYPE_STRING:
        break;
    default:
        sl_type_name(c->columns[i].type, tn, sizeof(tn));
        return fail_node(d, path, n, "partition_by '%s': column '%s' is %s, which Iceberg "
                         "does not bucket; bucket an int64, decimal, date, timestamp or "
                         "string column", s, cbuf, tn);
    }
    c->partition = CONTRACT_PART_BUCKET;
    c->bucket_column = i;
    c->bucket_n = (int32_t)buckets;
    return 0;
}

int
contract_parse_version(const char *path, const struct sl_yaml *node, struct sl_arena *a,
                       struct contract *c, struct sl_diag *d)
{
    static const char *const allowed[] = {"version",      "key",     "event_time",
                                          "partition_by", "columns", "unknown_fields",
                                          "description",  NULL};
    const struct sl_yaml *ver, *cols, *key, *ev, *part, *unk;
    char canon[32];
    int rc;

    memset(c, 0, sizeof(*c));
    if (node->kind != SL_YAML_MAP)
        return fail_node(d, path, node, "a contract version must be a mapping, not %s",
                         sl_yaml_kind_name(node));
    c->line = node->line;
    rc = check_keys(path, node, allowed, "a contract version", d);
    if (rc < 0)
        return rc;
    ver = scalar(path, node, "version", true, d, &rc);
    if (rc < 0)
        return rc;
    if (contract_parse_version_name(ver->str, &c->major, &c->minor, canon, sizeof(canon)) < 0)
        return fail_node(d, path, ver, "invalid contract version '%s': expected MAJOR.MINOR "
                         "such as 1.0", ver->str);
    c->version = sl_arena_strdup(a, canon);

    cols = sl_yaml_get(node, "columns");
    if (cols == NULL || cols->kind != SL_YAML_SEQ || cols->n == 0)
        return fail_node(d, path, cols ? cols : node,
                         "contract version %s needs a non-empty list of 'columns'",
                         c->version);
    if (cols->n > CONTRACT_MAX_COLUMNS)
        return fail_node(d, path, cols, "too many columns in version %s", c->version);
    c->ncolumns = cols->n;
    c->columns = sl_arena_zalloc(a, cols->n * sizeof(*c->columns));
    for (size_t i = 0; i < cols->n; i++) {
        rc = parse_column(path, cols->items[i], a, &c->columns[i], d);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(c->columns[j].name, c->columns[i].name) == 0)
                return fail_node(d, path, cols->items[i], "column '%s' is listed twice",
                                 c->columns[i].name);
    }

    key = sl_yaml_get(node, "key");
    if (key == NULL || sl_yaml_is_null(key))
        return fail_node(d, path, node, "contract version %s needs a dedup 'key'",
                         c->version);
    if (key->kind == SL_YAML_SCALAR) {
        rc = column_ref(path, c, key, "key column", d);
        if (rc < 0)
            return rc;
        c->key[c->nkey++] = rc;
    } else if (key->kind == SL_YAML_SEQ && key->n > 0 && key->n <= CONTRACT_MAX_KEY) {
        for (size_t i = 0; i < key->n; i++) {
            if (key->items[i]->kind != SL_YAML_SCALAR)
                return fail_node(d, path, key->items[i], "a key column must be a name");
            rc = column_ref(path, c, key->items[i], "key column", d);
            if (rc < 0)
                return rc;
            for (size_t j = 0; j < c->nkey; j++)
                if (c->key[j] == rc)
                    return fail_node(d, path, key->items[i], "key column '%s' listed twice",
                                     key->items[i]->str);
            c->key[c->nkey++] = rc;
        }
    } else {
        return fail_node(d, path, key, "'key' must be a column name or a list of 1 to 16");
    }
    for (size_t i = 0; i < c->nkey; i++)
        if (!c->columns[c->key[i]].required)
            return fail_node(d, path, key, "key column '%s' must be required",
                             c->columns[c->key[i]].name);

    ev = scalar(path, node, "event_time", true, d, &rc);
    if (rc < 0)
        return rc;
    rc = column_ref(path, c, ev, "event_time", d);
    if (rc < 0)
        return rc;
    c->event_time = rc;
    if (c->columns[rc].type.id != SL_TYPE_TIMESTAMP && c->columns[rc].type.id != SL_TYPE_DATE)
        return fail_node(d, path, ev, "event_time column '%s' must be a timestamp or date",
                         ev->str);
    if (!c->columns[rc].required)
        return fail_node(d, path, ev, "event_time column '%s' must be required", ev->str);

    part = scalar(path, node, "partition_by", false, d, &rc);
    if (rc < 0)
        return rc;
    c->partition = CONTRACT_PART_AUTO;
    if (part != NULL) {
        static const struct {
            const char *name;
            enum contract_partition p;
        } parts[] = {{"auto", CONTRACT_PART_AUTO},   {"day", CONTRACT_PART_DAY},
                     {"event_day", CONTRACT_PART_DAY}, {"month", CONTRACT_PART_MONTH},
                     {"year", CONTRACT_PART_YEAR},   {"hour", CONTRACT_PART_HOUR},
                     {"none", CONTRACT_PART_NONE}};
        size_t i;

        for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
            if (strcmp(part->str, parts[i].name) == 0)
                break;
        if (i < sizeof(parts) / sizeof(parts[0])) {
            c->partition = parts[i].p;
        } else {
            rc = parse_bucket(path, part, c, d);
            if (rc < 0)
                return rc;
            if (rc > 0)
                return fail_node(d, path, part, "unknown partition_by '%s': auto, day, "
                                 "month, year, hour, none or bucket(N, column)", part->str);
        }
        c->partition_given = strcmp(part->str, "event_day") != 0;
        if (c->partition == CONTRACT_PART_HOUR &&
            c->columns[c->event_time].type.id != SL_TYPE_TIMESTAMP)
            return fail_node(d, path, part, "partition_by hour needs a timestamp event_time; "
                             "'%s' is a date", c->columns[c->event_time].name);
    }
    unk = scalar(path, node, "unknown_fields", false, d, &rc);
    if (rc < 0)
        return rc;
    c->unknown_fields = CONTRACT_UNKNOWN_REJECT;
    if (unk != NULL) {
        if (strcmp(unk->str, "ignore") == 0)
            c->unknown_fields = CONTRACT_UNKNOWN_IGNORE;
        else if (strcmp(unk->str, "reject") != 0)
            return fail_node(d, path, unk, "unknown_fields must be reject or ignore, not '%s'",
                             unk->str);
    }
    return 0;
}

static void
type_name(struct sl_type t, char *out)
{
    sl_type_name(t, out, 32);
}

#define PARTITION_TEXT 160 /* "bucket(1000000, " and a column name */

/* c's partition_by as its canonical text says it: "day", "none",
 * "bucket(16, customer_id)"; "event_day" when the contract chose nothing
 * (the canonical text of releases before partition_by had a choice). */
static void
partition_text(const struct contract *c, char *out, size_t size)
{
    static const char *const names[] = {"auto", "day", "month", "year", "hour", "none"};

    if (c->partition == CONTRACT_PART_BUCKET)
        snprintf(out, size, "bucket(%d, %s)", (int)c->bucket_n,
                 c->columns[c->bucket_column].name);
    else
        snprintf(out, size, "%s", c->partition_given ? names[c->partition] : "event_day");
}

bool
contract_diff(const struct contract *a, const struct contract *b, char *out, size_t size)
{
    char ta[32], tb[32], pa[PARTITION_TEXT], pb[PARTITION_TEXT];

    for (size_t i = 0; i < a->ncolumns; i++) {
        const struct contract_column *ca = &a->columns[i];
        int j = contract_column_index(b, ca->name);

        if (j < 0) {
            snprintf(out, size, "column '%s' was removed", ca->name);
            return true;
        }
        const struct contract_column *cb = &b->columns[j];

        if (!sl_type_equal(ca->type, cb->type)) {
            type_name(ca->type, ta);
            type_name(cb->type, tb);
            snprintf(out, size, "column '%s' changed type from %s to %s", ca->name, ta, tb);
            return true;
        }
        if (ca->required != cb->required) {
            snprintf(out, size, "column '%s' changed from %s to %s", ca->name,
                     ca->required ? "required" : "nullable",
                     cb->required ? "required" : "nullable");
            return true;
        }
    }
    for (size_t j = 0; j < b->ncolumns; j++) {
        if (contract_column_index(a, b->columns[j].name) < 0) {
            snprintf(out, size, "column '%s' (%s%s) was added", b->columns[j].name,
                     b->columns[j].required ? "required " : "",
                     (type_name(b->columns[j].type, tb), tb));
            return true;
        }
    }
    bool same_key = a->nkey == b->nkey;

    for (size_t i = 0; same_key && i < a->nkey; i++)
        same_key = strcmp(a->columns[a->key[i]].name, b->columns[b->key[i]].name) == 0;
    if (!same_key) {
        snprintf(out, size, "the dedup key changed");
        return true;
    }
    if (strcmp(a->columns[a->event_time].name, b->columns[b->event_time].name) != 0) {
        snprintf(out, size, "event_time changed from '%s' to '%s'",
                 a->columns[a->event_time].name, b->columns[b->event_time].name);
        return true;
    }
    if (a->unknown_fields != b->unknown_fields) {
        snprintf(out, size, "unknown_fields changed");
        return true;
    }
    partition_text(a, pa, sizeof(pa));
    partition_text(b, pb, sizeof(pb));
    if (strcmp(pa, pb) != 0) {
        snprintf(out, size, "partition_by changed from '%s' to '%s'", pa, pb);
        return true;
    }
    for (size_t i = 0; i < a->ncolumns && i < b->ncolumns; i++) {
        if (strcmp(a->columns[i].name, b->columns[i].name) != 0) {
            snprintf(out, size, "the column order changed at '%s'", a->columns[i].name);
            return true;
        }
    }
    return false;
}

int
contract_check_compatible(const struct contract *e, const struct contract *l,
                          struct sl_diag *d)
{
    char why[300], ta[32], tb[32];

    why[0] = '\0';
    for (size_t i = 0; i < e->ncolumns && !why[0]; i++) {
        const struct contract_column *ce = &e->columns[i];
        int j = contract_column_index(l, ce->name);

        if (j < 0) {
            snprintf(why, sizeof(why), "column '%s' was removed", ce->name);
        } else if (!sl_type_equal(ce->type, l->columns[j].type)) {
            type_name(ce->type, ta);
            type_name(l->columns[j].type, tb);
            snprintf(why, sizeof(why), "column '%s' changed type from %s to %s", ce->name, ta,
                     tb);
        } else if (ce->required != l->columns[j].required) {
            snprintf(why, sizeof(why), "column '%s' changed from %s to %s", ce->name,
                     ce->required ? "required" : "nullable",
                     l->columns[j].required ? "required" : "nullable");
        }
    }
    for (size_t j = 0; j < l->ncolumns && !why[0]; j++)
        if (contract_column_index(e, l->columns[j].name) < 0 && l->columns[j].required)
            snprintf(why, sizeof(why), "column '%s' was added as required", l->columns[j].name);
    if (!why[0]) {
        bool same_key = e->nkey == l->nkey;

        for (size_t i = 0; same_key && i < e->nkey; i++)
            same_key = strcmp(e->columns[e->key[i]].name, l->columns[l->key[i]].name) == 0;
        if (!same_key)
            snprintf(why, sizeof(why), "the dedup key changed");
        else if (strcmp(e->columns[e->event_time].name, l->columns[l->event_time].name) != 0)
            snprintf(why, sizeof(why), "event_time changed from '%s' to '%s'",
                     e->columns[e->event_time].name, l->columns[l->event_time].name);
        else if (e->unknown_fields != l->unknown_fields)
            snprintf(why, sizeof(why), "unknown_fields changed");
        /* (partition_by may change: the table's partition spec evolves) */
    }
    if (!why[0])
        return 0;
    sl_fail(d, SL_ERR_INCOMPATIBLE, "contract version %s is not compatible with %s: %s",
            l->version, e->version, why);
    sl_diag_hint(d, "this change needs a new major version (%d.0); within a major version "
                    "only nullable columns may be added",
                 l->major + 1);
    return SL_ERR_INCOMPATIBLE;
}

static int
cmp_version(const struct contract *a, const struct contract *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    return a->minor < b->minor ? -1 : a->minor > b->minor;
}

static const struct sl_conf_key stream_keys[] = {
    {"name", SL_CONF_STRING, NULL, 0, 0, offsetof(struct source_stream, name),
     "the stream's name in the API (default: the source's name)"},
    {"kind", SL_CONF_STRING, "kinesis", 0, 0, offsetof(struct source_stream, kind),
     "kinesis (a Kinesis data stream) or firehose (a Firehose delivery stream)"},
    {"shards", SL_CONF_INT, "1", 1, 1024, offsetof(struct source_stream, shards),
     "shards of a Kinesis stream"},
    {"retention_hours", SL_CONF_INT, "24", 24, 8760,
     offsetof(struct source_stream, retention_hours),
     "how long records stay readable through the API"},
    {"max_record_size", SL_CONF_BYTES, "1MiB", 1024, 10LL << 20,
     offsetof(struct source_stream, max_record_size), "the largest record accepted"},
    {"write_limit_bytes", SL_CONF_BYTES, "1MiB", 0, 1LL << 40,
     offsetof(struct source_stream, write_limit_bytes),
     "bytes per second one shard accepts before throttling; 0: no limit"},
    {"write_limit_records", SL_CONF_INT, "1000", 0, 1LL << 40,
     offsetof(struct source_stream, write_limit_records),
     "records per second one shard accepts before throttling; 0: no limit"},
    {"buffer_size", SL_CONF_BYTES, "5MiB", 1024, 128LL << 20,
     offsetof(struct source_stream, buffer_size),
     "delivery writes a raw object once this much is buffered ..."},
    {"buffer_interval", SL_CONF_INT, "60", 1, 900,
     offsetof(struct source_stream, buffer_interval),
     "... or once the oldest buffered record is this many seconds old"},
    {"compression", SL_CONF_STRING, "none", 0, 0, offsetof(struct source_stream, compression),
     "of delivered raw objects: none or gzip"},
    {NULL},
};

const struct sl_conf_section source_stream_conf[] = {
    {"", stream_keys, 0, "a source's stream"},
    {NULL},
};

static int
parse_stream(const char *path, const struct sl_yaml *node, struct sl_arena *a,
             struct source *s, struct sl_diag *d)
{
    struct source_stream *st = &s->stream;
    int rc;

    sl_conf_defaults(source_stream_conf, st, a);
    if (node == NULL)
        return 0;
    rc = sl_conf_load(source_stream_conf, st, node, path, a, d);
    if (rc < 0)
        return rc;
    st->declared = true;
    if (st->name == NULL)
        st->name = sl_arena_strdup(a, s->name);
    if (strcmp(st->kind, "kinesis") != 0 && strcmp(st->kind, "firehose") != 0)
        return fail_node(d, path, sl_yaml_get(node, "kind"),
                         "stream kind '%s' is neither kinesis nor firehose", st->kind);
    if (strcmp(st->compression, "none") != 0 && strcmp(st->compression, "gzip") != 0)
        return fail_node(d, path, sl_yaml_get(node, "compression"),
                         "stream compression '%s' is neither none nor gzip", st->compression);
    size_t n = strlen(st->name);

    if (n == 0 || n > (strcmp(st->kind, "firehose") == 0 ? 64u : 128u) ||
        strspn(st->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            n)
        return fail_node(d, path, sl_yaml_get(node, "name") ? sl_yaml_get(node, "name") : node,
                         "stream name '%s' must be 1-%d letters, digits, '_', '.' or '-'",
                         st->name, strcmp(st->kind, "firehose") == 0 ? 64 : 128);
    return 0;
}

int
contract_parse_source(const char *name, const char *path, const struct sl_yaml *root,
                      struct sl_arena *a, struct source *s, struct sl_diag *d)
{
    static const char *const allowed[] = {"system", "contracts", "description", "stream",
                                          "on_arrival", NULL};
    const struct sl_yaml *sys, *list;
    int rc;

    memset(s, 0, sizeof(*s));
    s->name = sl_arena_strdup(a, name);
    s->path = sl_arena_strdup(a, path);
    if (root->kind != SL_YAML_MAP)
        return fail_node(d, path, root, "a source file must be a mapping, not %s",
                         sl_yaml_kind_name(root));
    rc = check_keys(path, root, allowed, "a source", d);
    if (rc < 0)
        return rc;
    sys = scalar(path, root, "system", false, d, &rc);
    if (rc < 0)
        return rc;
    s->system = sys ? sys->str : s->name;
    rc = parse_stream(path, sl_yaml_get(root, "stream"), a, s, d);
    if (rc < 0)
        return rc;
    const struct sl_yaml *arrival = scalar(path, root, "on_arrival", false, d, &rc);

    if (rc < 0)
        return rc;
    if (arrival != NULL) {
        if (strcmp(arrival->str, "transform") == 0)
            s->transform_on_arrival = true;
        else if (strcmp(arrival->str, "nothing") != 0)
            return fail_node(d, path, arrival,
                             "on_arrival must be 'transform' or 'nothing', not '%s'",
                             arrival->str);
    }
    list = sl_yaml_get(root, "contracts");
    if (list == NULL || list->kind != SL_YAML_SEQ || list->n == 0)
        return fail_node(d, path, list ? list : root,
                         "source '%s' needs a non-empty list of 'contracts'", name);
    s->nversions = list->n;
    s->versions = sl_arena_zalloc(a, list->n * sizeof(*s->versions));
    for (size_t i = 0; i < list->n; i++) {
        struct contract *c = &s->versions[i];

        rc = contract_parse_version(path, list->items[i], a, c, d);
        if (rc < 0)
            return rc;
        if (i == 0)
            continue;
        struct contract *prev = &s->versions[i - 1];

        if (cmp_version(prev, c) >= 0)
            return fail_node(d, path, list->items[i],
                             "contract version %s must come after %s (list versions in "
                             "ascending order, each once)",
                             c->version, prev->version);
        if (prev->major == c->major) {
            rc = contract_check_compatible(prev, c, d);
            if (rc < 0) {
                sl_diag_at(d, path, c->line, 0, NULL);
                return rc;
            }
        }
    }
    return 0;
}

const struct contract *
source_version(const struct source *s, const char *v)
{
    int major, minor;
    char canon[32];

    if (contract_parse_version_name(v, &major, &minor, canon, sizeof(canon)) < 0)
        return NULL;
    for (size_t i = 0; i < s->nversions; i++)
        if (s->versions[i].major == major && s->versions[i].minor == minor)
            return &s->versions[i];
    return NULL;
}

const struct contract *
source_latest(const struct source *s, int major)
{
    const struct contract *best = NULL;

    for (size_t i = 0; i < s->nversions; i++)
        if (major < 0 || s->versions[i].major == major)
            best = &s->versions[i];
    return best;
}

void
contract_canonical(const struct contract *c, struct sl_buf *out)
{
    char t[32], part[PARTITION_TEXT];

    sl_buf_addf(out, "{\"version\": \"%s\", \"key\": [", c->version);
    for (size_t i = 0; i < c->nkey; i++) {
        if (i)
            sl_buf_adds(out, ", ");
        sl_buf_add_json_str(out, c->columns[c->key[i]].name,
                            strlen(c->columns[c->key[i]].name));
    }
    sl_buf_adds(out, "], \"event_time\": ");
    sl_buf_add_json_str(out, c->columns[c->event_time].name,
                        strlen(c->columns[c->event_time].name));
    partition_text(c, part, sizeof(part));
    /* (a bucket's column name needs no escaping: contract_name_valid()) */
    sl_buf_addf(out, ", \"partition_by\": \"%s\", \"unknown_fields\": \"%s\", "
                     "\"columns\": [",
                part, c->unknown_fields == CONTRACT_UNKNOWN_IGNORE ? "ignore" : "reject");
    for (size_t i = 0; i < c->ncolumns; i++) {
        sl_type_name(c->columns[i].type, t, sizeof(t));
        sl_buf_addf(out, "%s{\"name\": ", i ? ", " : "");
        sl_buf_add_json_str(out, c->columns[i].name, strlen(c->columns[i].name));
        sl_buf_addf(out, ", \"type\": \"%s\", \"required\": %s}", t,
                    c->columns[i].required ? "true" : "false");
    }
    sl_buf_adds(out, "]}");
}
