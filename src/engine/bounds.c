/*
 * bounds.c - the bounds a query's filters put on a column of the tables it
 * reads (see engine.h, engine_query_bounds()).
 *
 * DuckDB parses the SQL (json_serialize_sql gives each statement's syntax
 * tree as JSON); we read the tree and, for every reference to a target
 * table, ask which values of its column a row must have to get past the
 * WHERE of the SELECT whose FROM names it:
 *
 *   AND          intersection of the children's sets
 *   OR           union (a child that says nothing: every value)
 *   col OP k     one interval, OP in = < <= > >=, either operand order
 *   col BETWEEN k1 AND k2, col IN (k, ...)
 *   anything else: every value
 *
 * A row that passes holds a value in the set, so reading only files that
 * may hold such values returns the same rows.  The argument needs that
 * the rows a FROM item gives are filtered by WHERE and nothing else sees
 * them first: the item stands alone in FROM or sits in a plain (inner,
 * outer, cross, natural) join tree - an outer join's null-extended rows
 * fail a comparison anyway - and has no sample, AT clause or column
 * renaming.  Positional and ASOF joins (which rows pair depends on the
 * rows that are there), semi and anti joins (their right side is not
 * visible to WHERE, so a qualified name there is an outer one), a table
 * named in a table function's text (query_table) or any construct not
 * recognised make the table, or the whole query, unpruned.  A table read
 * by several references gets the union of their sets; one unbounded
 * reference leaves it unbounded.
 *
 * What the whole query gives up on: a statement that is not a SELECT
 * (json_serialize_sql serialises only those; a SET could change what a
 * literal means), a table function other than range, generate_series and
 * unnest (query_table('curated.orders') names a table in a string), a
 * SHOW of a table by name, a table of DuckDB's own catalog
 * (information_schema, duckdb_*, pg_*: they describe the views, and a
 * table the query never names gets a view of no file), and a node of a
 * type not listed here.
 *
 * A column matches when qualified by the reference's alias (or its table
 * name when it has none, or schema.table), or unqualified when the
 * reference is the whole FROM (a FROM column wins over outer ones and
 * over select aliases in DuckDB).
 *
 * Constants are whatever DuckDB folds from literals, casts and a few
 * deterministic functions (arithmetic, interval constructors).  They are
 * valued by DuckDB itself, in one statement over all of them: an untyped
 * string literal is cast to the column's type, as the comparison would
 * cast it; a typed value must be a DATE or a TIMESTAMP of second,
 * millisecond or microsecond precision (or WITH TIME ZONE) and compares as
 * TIMESTAMP WITH TIME ZONE - the engine's TimeZone is UTC, so TIMESTAMP,
 * DATE (midnight) and TIMESTAMPTZ all meet as UTC microseconds, and a DATE
 * column as its midnight.  A constant that does not value so (a NULL, a
 * nanosecond timestamp, a cast that fails) says nothing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/mem.h"
#include "engine/engine.h"
#include "core/banned.h"

/* Table functions that read no table by name. */
static const char *const plain_functions[] = {"range", "generate_series", "unnest"};

/* Functions of constants DuckDB folds deterministically. */
static const char *const const_functions[] = {
    "+", "-", "to_years", "to_months", "to_days", "to_hours", "to_minutes", "to_seconds",
    "to_milliseconds", "to_microseconds", "to_weeks", "trunc",
};

/* Node types (of table references, query nodes and modifiers) that only
 * contain others. */
static const char *const container_types[] = {
    "SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE", "JOIN",
    "SUBQUERY", "EMPTY", "EMPTY_FROM", "EXPRESSION_LIST", "ORDER_MODIFIER", "LIMIT_MODIFIER",
    "LIMIT_PERCENT_MODIFIER", "DISTINCT_MODIFIER", "PIVOT",
};

static bool
among(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s != NULL && i < n; i++)
        if (strcasecmp(s, list[i]) == 0)
            return true;
    return false;
}

#define AMONG(s, list) among((s), (list), sizeof(list) / sizeof((list)[0]))

static const char *
str_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool
same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* A constant the query compares a column with. */
struct konst {
    const json_t *expr;
    bool literal;           /* an untyped string: cast to the column's type */
    bool is_date;           /* the column's type */
    bool ok;                /* valued */
    int64_t usec;
};

/* What is known of each target. */
struct target {
    int refs;               /* references to its table */
    int bounded;            /* of them, bounded by a WHERE */
    struct sl_spans spans;  /* union of the bounded references' sets */
};

struct ctx {
    size_t n;
    const struct engine_bound_target *t;
    struct target *tt;
    const char *opaque;     /* why nothing is pruned, or NULL */
    char opaque_buf[96];
    bool valuing;           /* second pass: constants are valued */
    struct konst *k;
    size_t nk, kcap;
};

/* A FROM item of a target table whose rows only WHERE filters. */
struct leaf {
    const json_t *ref;
    size_t target;
    const char *binding;    /* alias, or the table's name */
    bool alone;             /* the whole FROM */
};

static int
target_of(const struct ctx *c, const json_t *ref)
{
    const char *schema = str_of(ref, "schema_name"), *table = str_of(ref, "table_name");

    for (size_t i = 0; i < c->n; i++)
        if (same(schema, c->t[i].schema) && same(table, c->t[i].table))
            return (int)i;
    return -1;
}

/*
 * JSON text of DuckDB's as a tree.  An absent source position is written
 * as 2^64 - 1, which jansson (int64) refuses: those become 0 (positions
 * only place error messages).  The key's quotes cannot come from a string
 * value, where they would be escaped.
 */
static json_t *
load_tree(const char *s, size_t len)
{
    static const char absent[] = "\"query_location\":18446744073709551615";
    struct sl_buf b;
    json_t *tree;
    const char *p;

    sl_buf_init(&b);
    while ((p = memmem(s, len, absent, sizeof(absent) - 1)) != NULL) {
        sl_buf_add(&b, s, (size_t)(p - s));
        sl_buf_adds(&b, "\"query_location\":0");
        len -= (size_t)(p - s) + sizeof(absent) - 1;
        s = p + sizeof(absent) - 1;
    }
    sl_buf_add(&b, s, len);
    tree = json_loadb(b.data, b.len, 0, NULL);
    sl_buf_release(&b);
    return tree;
}

/* ---- constants -------------------------------------------------------------------------- */

static bool
is_constant(const json_t *x)
{
    const char *cls = str_of(x, "class");

    if (same(cls, "CONSTANT"))
        return true;
    if (same(cls, "CAST"))
        return is_constant(json_object_get(x, "child"));
    if (same(cls, "FUNCTION")) {
        const json_t *ch = json_object_get(x, "children"), *y;
        const json_t *orders = json_object_get(json_object_get(x, "order_bys"), "orders");
        size_t i;

        if (!AMONG(str_of(x, "function_name"), const_functions) ||
            (json_object_get(x, "filter") != NULL && !json_is_null(json_object_get(x, "filter"))))
            return false;
        if (json_array_size(orders) > 0 || json_is_true(json_object_get(x, "distinct")))
            return false;
        json_array_foreach(ch, i, y)
            if (!is_constant(y))
                return false;
        return json_array_size(ch) > 0;
    }
    return false;
}

static bool
is_literal(const json_t *x)
{
    const json_t *v = json_object_get(x, "value");

    return same(str_of(x, "class"), "CONSTANT") && !json_is_true(json_object_get(v, "is_null")) &&
           same(str_of(json_object_get(v, "type"), "id"), "VARCHAR");
}

static struct konst *
konst_find(struct ctx *c, const json_t *x, bool is_date)
{
    for (size_t i = 0; i < c->nk; i++)
        if (c->k[i].expr == x && c->k[i].is_date == is_date)
            return &c->k[i];
    return NULL;
}

/* The value of constant x compared with a column (is_date), in the first
 * pass registered (false), in the second looked up. */
static bool
konst_value(struct ctx *c, const json_t *x, bool is_date, int64_t *v)
{
    struct konst *k;

    if (!is_constant(x))
        return false;
    k = konst_find(c, x, is_date);
    if (!c->valuing) {
        if (k == NULL) {
            SL_GROW(c->k, c->kcap, c->nk + 1);
            k = &c->k[c->nk++];
            memset(k, 0, sizeof(*k));
            k->expr = x;
            k->literal = is_literal(x);
            k->is_date = is_date;
        }
        return false;
    }
    if (k == NULL || !k->ok)
        return false;
    *v = k->usec;
    return true;
}

/* Value every registered constant in one statement (see the top). */
static void
value_constants(struct engine *e, struct ctx *c)
{
    static const char *const typed[] = {"DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE",
                                        "TIMESTAMP_S", "TIMESTAMP_MS"};
    struct engine_result *r = NULL;
    struct engine_chunk *ch;
    json_t *tmpl = NULL, *list;
    struct sl_buf b;
    struct sl_diag d;
    char *text = NULL, *select = NULL;
    int rc;

    if (c->nk == 0)
        return;
    sl_buf_init(&b);
    sl_diag_init(&d);
    /* The constants as the select list of a statement DuckDB writes back
     * as SQL. */
    rc = engine_query(e, "SELECT json_serialize_sql('SELECT 1')", &r, &d);
    if (rc == 0 && (ch = engine_result_next(r)) != NULL) {
        struct engine_vec v;
        const char *s;
        size_t len;

        engine_chunk_vec(ch, 0, &v);
        if (v.kind == ENGINE_VEC_STR && engine_vec_valid(&v, 0)) {
            s = engine_vec_str(&v, 0, &len);
            tmpl = load_tree(s, len);
        }
    }
    engine_result_free(r);
    r = NULL;
    list = json_object_get(json_object_get(json_array_get(json_object_get(tmpl, "statements"), 0),
                                           "node"),
                           "select_list");
    if (!json_is_array(list))
        goto out;
    json_array_clear(list);
    for (size_t i = 0; i < c->nk; i++) {
        json_t *x = json_deep_copy(c->k[i].expr);

        json_object_set_new(x, "alias", json_string(""));
        json_array_append_new(list, x);
    }
    text = json_dumps(tmpl, JSON_COMPACT);
    sl_buf_adds(&b, "SELECT json_deserialize_sql(");
    sl_buf_add_sql_str(&b, text);
    sl_buf_adds(&b, ")");
    rc = engine_query(e, b.data, &r, &d);
    if (rc == 0 && (ch = engine_result_next(r)) != NULL) {
        struct engine_vec v;
        size_t len;

        engine_chunk_vec(ch, 0, &v);
        if (v.kind == ENGINE_VEC_STR && engine_vec_valid(&v, 0)) {
            const char *s = engine_vec_str(&v, 0, &len);

            select = sl_strndup(s, len);
        }
    }
    engine_result_free(r);
    r = NULL;
    if (select == NULL)
        goto out;
    sl_buf_reset(&b);
    sl_buf_adds(&b, "SELECT ");
    for (size_t i = 0; i < c->nk; i++) {
        if (c->k[i].literal)
            sl_buf_addf(&b, "%s'', TRY_CAST(TRY_CAST(_c%zu AS %s) AS TIMESTAMPTZ)", i ? ", " : "",
                        i, c->k[i].is_date ? "DATE" : "TIMESTAMPTZ");
        else
            sl_buf_addf(&b, "%stypeof(_c%zu), TRY_CAST(_c%zu AS TIMESTAMPTZ)", i ? ", " : "", i,
                        i);
    }
    sl_buf_addf(&b, " FROM (%s) AS _k(", select);
    for (size_t i = 0; i < c->nk; i++)
        sl_buf_addf(&b, "%s_c%zu", i ? ", " : "", i);
    sl_buf_adds(&b, ")");
    rc = engine_query(e, b.data, &r, &d);
    if (rc == 0 && (ch = engine_result_next(r)) != NULL && engine_chunk_rows(ch) == 1) {
        for (size_t i = 0; i < c->nk; i++) {
            struct engine_vec tv, vv;
            char type[40] = "";

            engine_chunk_vec(ch, 2 * i, &tv);
            engine_chunk_vec(ch, 2 * i + 1, &vv);
            if (tv.kind == ENGINE_VEC_STR && engine_vec_valid(&tv, 0)) {
                size_t len;
                const char *s = engine_vec_str(&tv, 0, &len);

                if (len < sizeof(type)) {
                    memcpy(type, s, len);
                    type[len] = '\0';
                }
            }
            if (vv.kind != ENGINE_VEC_I64 || !engine_vec_valid(&vv, 0))
                continue;
            if (!c->k[i].literal && !AMONG(type, typed))
                continue;
            c->k[i].usec = ((const int64_t *)vv.data)[0];
            c->k[i].ok = true;
        }
    }
out:
    engine_result_free(r);
    free(select);
    free(text);
    json_decref(tmpl);
    sl_buf_release(&b);
}

/* ---- the set a WHERE allows ------------------------------------------------------------- */

/* Whether x is the leaf's column. */
static bool
is_column(const struct ctx *c, const struct leaf *l, const json_t *x)
{
    const json_t *names = json_object_get(x, "column_names");
    const struct engine_bound_target *t = &c->t[l->target];
    size_t n = json_array_size(names);
    const char *p[3];

    if (!same(str_of(x, "class"), "COLUMN_REF") || n < 1 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++)
        p[i] = json_string_value(json_array_get(names, i));
    if (!same(p[n - 1], t->column))
        return false;
    if (n == 1)
        return l->alone;
    if (n == 2)
        return same(p[0], l->binding);
    return same(p[0], t->schema) && same(p[1], t->table) && same(l->binding, t->table);
}

static const char *
flip(const char *op)
{
    static const char *const pairs[][2] = {
        {"COMPARE_LESSTHAN", "COMPARE_GREATERTHAN"},
        {"COMPARE_LESSTHANOREQUALTO", "COMPARE_GREATERTHANOREQUALTO"},
        {"COMPARE_GREATERTHAN", "COMPARE_LESSTHAN"},
        {"COMPARE_GREATERTHANOREQUALTO", "COMPARE_LESSTHANOREQUALTO"},
    };

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (strcmp(op, pairs[i][0]) == 0)
            return pairs[i][1];
    return op;
}

/* The values x OP k allows, into s (initialised empty); false: OP is not
 * one we read. */
static bool
compare_spans(const char *op, int64_t k, struct sl_spans *s)
{
    if (strcmp(op, "COMPARE_EQUAL") == 0)
        sl_spans_add(s, k, k);
    else if (strcmp(op, "COMPARE_LESSTHAN") == 0)
        sl_spans_add(s, INT64_MIN, k == INT64_MIN ? INT64_MIN : k - 1);
    else if (strcmp(op, "COMPARE_LESSTHANOREQUALTO") == 0)
        sl_spans_add(s, INT64_MIN, k);
    else if (strcmp(op, "COMPARE_GREATERTHAN") == 0)
        sl_spans_add(s, k == INT64_MAX ? INT64_MAX : k + 1, INT64_MAX);
    else if (strcmp(op, "COMPARE_GREATERTHANOREQUALTO") == 0)
        sl_spans_add(s, k, INT64_MAX);
    else
        return false;
    /* x < INT64_MIN and x > INT64_MAX allow nothing. */
    if ((strcmp(op, "COMPARE_LESSTHAN") == 0 && k == INT64_MIN) ||
        (strcmp(op, "COMPARE_GREATERTHAN") == 0 && k == INT64_MAX))
        sl_spans_release(s);
    return true;
}

/*
 * The values of the leaf's column a row passing x may have, into s
 * (initialised empty by the caller): every value when x says nothing
 * about it.
 */
static void
where_spans(struct ctx *c, const struct leaf *l, const json_t *x, struct sl_spans *s)
{
    const char *cls = str_of(x, "class"), *type = str_of(x, "type");
    bool is_date = c->t[l->target].is_date;
    int64_t k, k2;

    if (x == NULL || cls == NULL || type == NULL)
        goto all;
    if (same(cls, "CONJUNCTION")) {
        const json_t *ch = json_object_get(x, "children"), *y;
        bool and = strcmp(type, "CONJUNCTION_AND") == 0;
        size_t i;

        if (!and && strcmp(type, "CONJUNCTION_OR") != 0)
            goto all;
        if (and)
            sl_spans_init_all(s);
        json_array_foreach(ch, i, y) {
            struct sl_spans part;

            sl_spans_init(&part);
            where_spans(c, l, y, &part);
            if (and)
                sl_spans_intersect(s, &part);
            else
                sl_spans_union(s, &part);
            sl_spans_release(&part);
        }
        return;
    }
    if (same(cls, "COMPARISON")) {
        const json_t *a = json_object_get(x, "left"), *b = json_object_get(x, "right");
        const char *op = type;

        if (is_column(c, l, b)) {
            const json_t *t = a;

            a = b;
            b = t;
            op = flip(op);
        }
        if (!is_column(c, l, a) || !konst_value(c, b, is_date, &k) || !compare_spans(op, k, s))
            goto all;
        return;
    }
    if (same(cls, "BETWEEN") && strcmp(type, "COMPARE_BETWEEN") == 0) {
        bool lo_ok, hi_ok;

        if (!is_column(c, l, json_object_get(x, "input")))
            goto all;
        /* Register both before giving up on either. */
        lo_ok = konst_value(c, json_object_get(x, "lower"), is_date, &k);
        hi_ok = konst_value(c, json_object_get(x, "upper"), is_date, &k2);
        if (!lo_ok || !hi_ok)
            goto all;
        sl_spans_add(s, k, k2);
        return;
    }
    if (same(cls, "OPERATOR") && strcmp(type, "COMPARE_IN") == 0) {
        const json_t *ch = json_object_get(x, "children"), *y;
        bool ok = json_array_size(ch) > 1 && is_column(c, l, json_array_get(ch, 0));
        size_t i;

        /* Every constant is looked at, so the first pass registers all. */
        json_array_foreach(ch, i, y) {
            if (i == 0 || json_array_size(ch) < 2 || !is_column(c, l, json_array_get(ch, 0)))
                continue;
            if (konst_value(c, y, is_date, &k))
                sl_spans_add(s, k, k);
            else
                ok = false;
        }
        if (!ok)
            goto all;
        return;
    }
all:
    sl_spans_release(s);
    sl_spans_init_all(s);
}

/* ---- walking the tree ------------------------------------------------------------------- */

/* The target references a FROM item holds where only WHERE filters their
 * rows (see the top), into leaves. */
static void
from_leaves(const struct ctx *c, const json_t *from, bool alone, struct leaf *leaves,
            size_t *n, size_t max)
{
    const char *type = str_of(from, "type");

    if (type == NULL || (json_object_get(from, "sample") != NULL &&
                         !json_is_null(json_object_get(from, "sample"))))
        return;
    if (strcmp(type, "BASE_TABLE") == 0) {
        int i = target_of(c, from);
        const char *alias = str_of(from, "alias");
        const json_t *at = json_object_get(from, "at_clause");

        if (i < 0 || *n >= max || (at != NULL && !json_is_null(at)) ||
            json_array_size(json_object_get(from, "column_name_alias")) > 0)
            return;
        leaves[*n].ref = from;
        leaves[*n].target = (size_t)i;
        leaves[*n].binding = alias != NULL && *alias ? alias : str_of(from, "table_name");
        leaves[*n].alone = alone;
        (*n)++;
        return;
    }
    if (strcmp(type, "JOIN") == 0) {
        const char *ref = str_of(from, "ref_type"), *jt = str_of(from, "join_type");

        if (!same(ref, "REGULAR") && !same(ref, "CROSS") && !same(ref, "NATURAL"))
            return;
        if (!same(jt, "INNER") && !same(jt, "LEFT") && !same(jt, "RIGHT") && !same(jt, "OUTER"))
            return;
        from_leaves(c, json_object_get(from, "left"), false, leaves, n, max);
        from_leaves(c, json_object_get(from, "right"), false, leaves, n, max);
    }
}

/* A SELECT: the sets its WHERE allows each target reference of its FROM. */
static void
select_node(struct ctx *c, const json_t *node)
{
    struct leaf leaves[64];
    size_t n = 0;
    const json_t *where = json_object_get(node, "where_clause");
    const json_t *sample = json_object_get(node, "sample");

    if (where == NULL || json_is_null(where) || (sample != NULL && !json_is_null(sample)))
        return;
    from_leaves(c, json_object_get(node, "from_table"), true, leaves, &n, 64);
    for (size_t i = 0; i < n; i++) {
        struct sl_spans s;

        sl_spans_init(&s);
        where_spans(c, &leaves[i], where, &s);
        if (c->valuing && !sl_spans_all(&s)) {
            struct target *t = &c->tt[leaves[i].target];

            t->bounded++;
            sl_spans_union(&t->spans, &s);
        }
        sl_spans_release(&s);
    }
}

/* Nothing is pruned: the query has a "<what> <name>" we cannot see
 * through. */
static void
set_opaque(struct ctx *c, const char *what, const char *name)
{
    if (c->opaque != NULL)
        return;
    snprintf(c->opaque_buf, sizeof(c->opaque_buf), "the query holds %s %s", what,
             name ? name : "?");
    c->opaque = c->opaque_buf;
}

/* A table of DuckDB's own catalog (information_schema.columns,
 * duckdb_views, pg_tables ...): it describes the views, which pruning
 * changes (a table not read gets a view of no file). */
static bool
system_table(const json_t *ref)
{
    static const char *const schemas[] = {"information_schema", "pg_catalog"};
    static const char *const prefixes[] = {"duckdb_", "pg_", "sqlite_", "pragma_"};
    const char *schema = str_of(ref, "schema_name"), *name = str_of(ref, "table_name");

    if (AMONG(schema, schemas))
        return true;
    for (size_t i = 0; name != NULL && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Every node of the tree: count target references, note what makes the
 * query opaque, and read each SELECT's WHERE. */
static void
walk(struct ctx *c, const json_t *x)
{
    const char *key;
    const json_t *y;
    size_t i;

    if (json_is_array(x)) {
        json_array_foreach(x, i, y)
            walk(c, y);
        return;
    }
    if (!json_is_object(x))
        return;
    if (json_object_get(x, "class") == NULL && str_of(x, "type") != NULL) {
        const char *type = str_of(x, "type");

        if (strcmp(type, "BASE_TABLE") == 0) {
            int t = target_of(c, x);

            if (t >= 0 && c->valuing)
                c->tt[t].refs++;
            else if (t < 0 && system_table(x))
                set_opaque(c, "system table", str_of(x, "table_name"));
        } else if (strcmp(type, "TABLE_FUNCTION") == 0) {
            const json_t *f = json_object_get(x, "function");
            const char *name = str_of(f, "function_name");

            if (!AMONG(name, plain_functions))
                set_opaque(c, "table function", name);
        } else if (strcmp(type, "SHOW_REF") == 0) {
            const char *name = str_of(x, "table_name");

            if (name != NULL && *name)
                set_opaque(c, "a SHOW of", name);
        } else if (strcmp(type, "SELECT_NODE") == 0) {
            select_node(c, x);
        } else if (!AMONG(type, container_types)) {
            set_opaque(c, "a node of type", type);
        }
    }
    json_object_foreach((json_t *)x, key, y)
        walk(c, y);
}

/* ---- the entry point -------------------------------------------------------------------- */

static void
all_unbounded(struct engine_bounds *out, size_t n, const char *why)
{
    for (size_t i = 0; i < n; i++) {
        out[i].read = true;
        out[i].bounded = false;
        snprintf(out[i].why, sizeof(out[i].why), "%s", why);
    }
}

/* The statements' syntax trees as DuckDB gives them; *tree NULL if the
 * engine gives none. */
static int
parse(struct engine *e, const char *sql, json_t **tree, struct sl_diag *d)
{
    struct engine_result *r = NULL;
    struct engine_chunk *ch;
    struct sl_buf b;
    int rc;

    *tree = NULL;
    sl_buf_init(&b);
    sl_buf_adds(&b, "SELECT json_serialize_sql(");
    sl_buf_add_sql_str(&b, sql);
    sl_buf_adds(&b, ")");
    rc = engine_query(e, b.data, &r, d);
    if (rc == 0 && (ch = engine_result_next(r)) != NULL) {
        struct engine_vec v;

        engine_chunk_vec(ch, 0, &v);
        if (v.kind == ENGINE_VEC_STR && engine_vec_valid(&v, 0)) {
            size_t len;
            const char *s = engine_vec_str(&v, 0, &len);

            *tree = load_tree(s, len);
        }
    }
    engine_result_free(r);
    sl_buf_release(&b);
    return rc;
}

int
engine_query_bounds(struct engine *e, const char *sql, size_t n,
                    const struct engine_bound_target *t, struct engine_bounds *out,
                    struct sl_diag *d)
{
    struct ctx c;
    json_t *tree = NULL;
    int rc;

    memset(out, 0, n * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        sl_spans_init(&out[i].spans);
    rc = parse(e, sql, &tree, d);
    if (rc < 0)
        return rc;
    if (tree == NULL || json_is_true(json_object_get(tree, "error"))) {
        const char *type = str_of(tree, "error_type"), *msg = str_of(tree, "error_message");

        if (same(type, "parser")) {
            rc = sl_fail(d, SL_ERR_INPUT, "cannot parse the query: %s", msg ? msg : "?");
            json_decref(tree);
            return rc;
        }
        all_unbounded(out, n, same(type, "not implemented")
                                  ? "not every statement is a SELECT"
                                  : "the engine does not give the query's syntax tree");
        json_decref(tree);
        return 0;
    }
    memset(&c, 0, sizeof(c));
    c.n = n;
    c.t = t;
    c.tt = sl_calloc(n + 1, sizeof(*c.tt));
    for (size_t i = 0; i < n; i++)
        sl_spans_init(&c.tt[i].spans);
    walk(&c, tree);              /* the constants */
    value_constants(e, &c);
    c.valuing = true;
    walk(&c, tree);              /* the sets */
    for (size_t i = 0; i < n; i++) {
        struct target *tt = &c.tt[i];

        out[i].read = tt->refs > 0 || c.opaque != NULL;
        if (c.opaque != NULL) {
            snprintf(out[i].why, sizeof(out[i].why), "%s", c.opaque);
        } else if (tt->refs == 0) {
            out[i].bounded = true; /* nothing read: the empty set */
        } else if (tt->bounded < tt->refs) {
            snprintf(out[i].why, sizeof(out[i].why), "%s.%s is read without a filter on %s",
                     t[i].schema, t[i].table, t[i].column);
        } else {
            out[i].bounded = true;
            sl_spans_copy(&out[i].spans, &tt->spans);
        }
        sl_spans_release(&tt->spans);
    }
    free(c.tt);
    free(c.k);
    json_decref(tree);
    return 0;
}

void
engine_bounds_release(struct engine_bounds *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_spans_release(&b[i].spans);
}
