/*
 * iceberg.c - Iceberg table pointers (see iceberg.h).
 */
#include "catalog/iceberg.h"

#include <stdio.h>
#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

struct location_ctx {
    struct sl_arena *a;
    const char *location;
    bool seen;
};

static int
location_row(void *arg, const struct catalog_row *r)
{
    struct location_ctx *c = arg;

    c->seen = true;
    c->location = cat_strdup(r, 0, c->a);
    return 0;
}

int
catalog_iceberg_get(struct catalog_txn *txn, const char *ns, const char *name,
                    struct sl_arena *a, const char **location, struct sl_diag *d)
{
    struct location_ctx c = {a, NULL, false};
    int rc = cat_run(txn, d, "read an Iceberg table's pointer",
                     "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ?1 "
                     "AND table_namespace = ?2 AND table_name = ?3",
                     location_row, &c, "ttt", ICEBERG_CATALOG, ns, name);

    if (rc < 0)
        return rc;
    if (!c.seen || c.location == NULL)
        return SL_ERR_NOTFOUND;
    *location = c.location;
    return 0;
}

int
catalog_iceberg_create(struct catalog_txn *txn, const char *ns, const char *name,
                       const char *location, struct sl_diag *d)
{
    struct sl_arena a;
    const char *found;
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_iceberg_get(txn, ns, name, &a, &found, d);
    sl_arena_release(&a);
    if (rc == 0)
        return sl_fail(d, SL_ERR_EXISTS, "Iceberg table %s.%s exists already", ns, name);
    if (rc != SL_ERR_NOTFOUND)
        return rc;
    /* The reserved property "exists" makes an empty namespace visible, as
     * Java and PyIceberg create it. */
    rc = cat_run(txn, d, "create an Iceberg namespace",
                 "INSERT INTO iceberg_namespace_properties "
                 "(catalog_name, namespace, property_key, property_value) "
                 "VALUES (?1, ?2, 'exists', 'true') ON CONFLICT DO NOTHING",
                 NULL, NULL, "tt", ICEBERG_CATALOG, ns);
    if (rc >= 0)
        rc = cat_run(txn, d, "register an Iceberg table",
                     "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                     "metadata_location, previous_metadata_location, iceberg_type) "
                     "VALUES (?1, ?2, ?3, ?4, NULL, 'TABLE')",
                     NULL, NULL, "tttt", ICEBERG_CATALOG, ns, name, location);
    return rc < 0 ? rc : 0;
}

int
catalog_iceberg_swap(struct catalog_txn *txn, const char *ns, const char *name,
                     const char *expect, const char *next, struct sl_diag *d)
{
    struct sl_arena a;
    const char *found = NULL;
    int rc = cat_run(txn, d, "commit an Iceberg table",
                     "UPDATE iceberg_tables SET metadata_location = ?5, "
                     "previous_metadata_location = ?4 WHERE catalog_name = ?1 "
                     "AND table_namespace = ?2 AND table_name = ?3 "
                     "AND metadata_location = ?4",
                     NULL, NULL, "ttttt", ICEBERG_CATALOG, ns, name, expect, next);

    if (rc < 0 || rc == 1)
        return rc < 0 ? rc : 0;
    sl_arena_init(&a, 0);
    rc = catalog_iceberg_get(txn, ns, name, &a, &found, d);
    if (rc == 0)
        rc = sl_fail(d, SL_ERR_CONFLICT,
                     "Iceberg table %s.%s moved on while this commit was built: it is at "
                     "%s, not %s",
                     ns, name, found, expect);
    else if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_CONFLICT, "Iceberg table %s.%s was dropped during the commit",
                     ns, name);
    sl_arena_release(&a);
    return rc;
}

int
catalog_iceberg_drop(struct catalog_txn *txn, const char *ns, const char *name,
                     struct sl_diag *d)
{
    int rc = cat_run(txn, d, "drop an Iceberg table",
                     "DELETE FROM iceberg_tables WHERE catalog_name = ?1 "
                     "AND table_namespace = ?2 AND table_name = ?3",
                     NULL, NULL, "ttt", ICEBERG_CATALOG, ns, name);

    if (rc < 0)
        return rc;
    return rc == 0 ? SL_ERR_NOTFOUND : 0;
}

struct list_ctx {
    catalog_name_cb cb;
    void *arg;
};

static int
list_row(void *arg, const struct catalog_row *r)
{
    struct list_ctx *c = arg;
    char name[600];

    snprintf(name, sizeof(name), "%s.%s", cat_text(r, 0), cat_text(r, 1));
    return c->cb(c->arg, name);
}

int
catalog_iceberg_list(struct catalog_txn *txn, const char *ns, catalog_name_cb cb, void *arg,
                     struct sl_diag *d)
{
    struct list_ctx c = {cb, arg};
    int rc = cat_run(txn, d, "list Iceberg tables",
                     "SELECT table_namespace, table_name FROM iceberg_tables "
                     /* The cast types ?2 for PostgreSQL, which cannot tell
                      * the type of a parameter only tested for NULL. */
                     "WHERE catalog_name = ?1 "
                     "AND (CAST(?2 AS TEXT) IS NULL OR table_namespace = ?2) "
                     "AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL) "
                     "ORDER BY table_namespace, table_name",
                     list_row, &c, "tt", ICEBERG_CATALOG, ns);

    return rc < 0 ? rc : 0;
}

/* ---- namespaces ------------------------------------------------------------ */

int
catalog_iceberg_namespaces(struct catalog_txn *txn, catalog_name_cb cb, void *arg,
                           struct sl_diag *d)
{
    struct cat_names c = {cb, arg};
    int rc = cat_run(txn, d, "list Iceberg namespaces",
                     "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = ?1 "
                     "UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = ?1 "
                     "ORDER BY 1",
                     cat_name_row, &c, "t", ICEBERG_CATALOG);

    return rc < 0 ? rc : 0;
}

static bool
namespace_exists(struct catalog_txn *txn, const char *ns, int *rc, struct sl_diag *d)
{
    int64_t n = 0;

    *rc = cat_int_of(txn, d, "find an Iceberg namespace",
                     "SELECT (SELECT count(*) FROM iceberg_namespace_properties "
                     "WHERE catalog_name = ?1 AND namespace = ?2) + "
                     "(SELECT count(*) FROM iceberg_tables "
                     "WHERE catalog_name = ?1 AND table_namespace = ?2)",
                     &n, "tt", ICEBERG_CATALOG, ns);
    return *rc == 0 && n > 0;
}

int
catalog_iceberg_namespace_exists(struct catalog_txn *txn, const char *ns, struct sl_diag *d)
{
    int rc;

    if (namespace_exists(txn, ns, &rc, d))
        return 0;
    return rc < 0 ? rc : SL_ERR_NOTFOUND;
}

struct prop_ctx {
    catalog_prop_cb cb;
    void *arg;
};

static int
prop_row(void *arg, const struct catalog_row *r)
{
    struct prop_ctx *c = arg;

    return c->cb(c->arg, cat_text(r, 0), cat_null(r, 1) ? "" : cat_text(r, 1));
}

int
catalog_iceberg_namespace_props(struct catalog_txn *txn, const char *ns, catalog_prop_cb cb,
                                void *arg, struct sl_diag *d)
{
    struct prop_ctx c = {cb, arg};
    int rc;

    if (!namespace_exists(txn, ns, &rc, d))
        return rc < 0 ? rc : SL_ERR_NOTFOUND;
    rc = cat_run(txn, d, "read an Iceberg namespace's properties",
                 "SELECT property_key, property_value FROM iceberg_namespace_properties "
                 "WHERE catalog_name = ?1 AND namespace = ?2 AND property_key <> 'exists' "
                 "ORDER BY property_key",
                 prop_row, &c, "tt", ICEBERG_CATALOG, ns);
    return rc < 0 ? rc : 0;
}

int
catalog_iceberg_namespace_create(struct catalog_txn *txn, const char *ns,
                                 const char *const *keys, const char *const *values, size_t n,
                                 struct sl_diag *d)
{
    int rc;

    if (namespace_exists(txn, ns, &rc, d))
        return sl_fail(d, SL_ERR_EXISTS, "Iceberg namespace %s exists already", ns);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i], "exists") == 0)
            return sl_fail(d, SL_ERR_INPUT, "namespace property 'exists' is reserved");
    rc = cat_run(txn, d, "create an Iceberg namespace",
                 "INSERT INTO iceberg_namespace_properties "
                 "(catalog_name, namespace, property_key, property_value) "
                 "VALUES (?1, ?2, 'exists', 'true')",
                 NULL, NULL, "tt", ICEBERG_CATALOG, ns);
    for (size_t i = 0; rc >= 0 && i < n; i++)
        rc = cat_run(txn, d, "set an Iceberg namespace property",
                     "INSERT INTO iceberg_namespace_properties "
                     "(catalog_name, namespace, property_key, property_value) "
                     "VALUES (?1, ?2, ?3, ?4)",
                     NULL, NULL, "tttt", ICEBERG_CATALOG, ns, keys[i], values[i]);
    return rc < 0 ? rc : 0;
}

int
catalog_iceberg_namespace_drop(struct catalog_txn *txn, const char *ns, struct sl_diag *d)
{
    int64_t tables = 0;
    int rc;

    if (!namespace_exists(txn, ns, &rc, d))
        return rc < 0 ? rc : SL_ERR_NOTFOUND;
    rc = cat_int_of(txn, d, "count an Iceberg namespace's tables",
                    "SELECT count(*) FROM iceberg_tables WHERE catalog_name = ?1 "
                    "AND table_namespace = ?2",
                    &tables, "tt", ICEBERG_CATALOG, ns);
    if (rc < 0)
        return rc;
    if (tables > 0)
        return sl_fail(d, SL_ERR_CONFLICT, "Iceberg namespace %s still has %lld table%s", ns,
                       (long long)tables, tables == 1 ? "" : "s");
    rc = cat_run(txn, d, "drop an Iceberg namespace",
                 "DELETE FROM iceberg_namespace_properties WHERE catalog_name = ?1 "
                 "AND namespace = ?2",
                 NULL, NULL, "tt", ICEBERG_CATALOG, ns);
    return rc < 0 ? rc : 0;
}
