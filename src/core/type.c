/*
 * type.c - contract column types (see type.h).
 */
#include "core/type.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/diag.h"
#include "core/num.h"
#include "core/banned.h"

static const struct {
    const char *name;
    const char *sql;
    enum sl_type_id id;
} names[] = {
    {"string", "VARCHAR", SL_TYPE_STRING},
    {"int64", "BIGINT", SL_TYPE_INT64},
    {"double", "DOUBLE", SL_TYPE_DOUBLE},
    {"bool", "BOOLEAN", SL_TYPE_BOOL},
    {"date", "DATE", SL_TYPE_DATE},
    {"timestamp", "TIMESTAMPTZ", SL_TYPE_TIMESTAMP},
};

/* Names of the types tables hold and contracts do not (not parsed). */
static const struct {
    const char *name;
    const char *sql;
    enum sl_type_id id;
} table_names[] = {
    {"int", "INTEGER", SL_TYPE_INT32},
    {"float", "FLOAT", SL_TYPE_FLOAT},
};

int
sl_type_parse(const char *s, struct sl_type *t)
{
    int64_t p, sc;
    const char *open, *comma, *close;

    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            t->id = names[i].id;
            return 0;
        }
    }
    if (strncasecmp(s, "decimal", 7) != 0)
        return SL_ERR_INPUT;
    open = s + 7;
    while (*open == ' ')
        open++;
    if (*open != '(' || (comma = strchr(open, ',')) == NULL ||
        (close = strchr(comma, ')')) == NULL || close[1] != '\0')
        return SL_ERR_INPUT;
    const char *a = open + 1, *ae = comma, *b = comma + 1, *be = close;

    while (*a == ' ')
        a++;
    while (ae > a && ae[-1] == ' ')
        ae--;
    while (*b == ' ')
        b++;
    while (be > b && be[-1] == ' ')
        be--;
    if (sl_parse_i64(a, (size_t)(ae - a), &p) < 0 ||
        sl_parse_i64(b, (size_t)(be - b), &sc) < 0)
        return SL_ERR_INPUT;
    if (p < 1 || p > 38 || sc < 0 || sc > p)
        return SL_ERR_INPUT;
    t->id = SL_TYPE_DECIMAL;
    t->precision = (uint8_t)p;
    t->scale = (uint8_t)sc;
    return 0;
}

static void
format(struct sl_type t, char *out, size_t size, bool sql)
{
    if (t.id == SL_TYPE_DECIMAL) {
        snprintf(out, size, sql ? "DECIMAL(%u,%u)" : "decimal(%u,%u)", t.precision, t.scale);
        return;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].id == t.id) {
            snprintf(out, size, "%s", sql ? names[i].sql : names[i].name);
            return;
        }
    }
    for (size_t i = 0; i < sizeof(table_names) / sizeof(table_names[0]); i++) {
        if (table_names[i].id == t.id) {
            snprintf(out, size, "%s", sql ? table_names[i].sql : table_names[i].name);
            return;
        }
    }
    snprintf(out, size, "?");
}

void
sl_type_name(struct sl_type t, char *out, size_t size)
{
    format(t, out, size, false);
}

void
sl_type_sql(struct sl_type t, char *out, size_t size)
{
    format(t, out, size, true);
}

bool
sl_type_equal(struct sl_type a, struct sl_type b)
{
    if (a.id != b.id)
        return false;
    return a.id != SL_TYPE_DECIMAL || (a.precision == b.precision && a.scale == b.scale);
}
