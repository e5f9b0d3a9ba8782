/*
 * iceberg.h - the catalog's Iceberg tables: one pointer per table to its
 * current metadata file, in the layout of Iceberg's JDBC catalog and
 * PyIceberg's SQL catalog (schema.c), so that those catalogs (Spark,
 * Flink, Trino's jdbc catalog, PyIceberg, Feast) open sluice's tables
 * as they are.
 *
 * A table is named by its namespace ("curated", "gold") and name within
 * the catalog name every client must configure alike (ICEBERG_CATALOG).
 * A commit is one compare-and-swap of the pointer: it moves from the
 * location the writer built on to the new one, or fails with
 * SL_ERR_CONFLICT because someone else moved it first.
 */
#ifndef SL_CATALOG_ICEBERG_H
#define SL_CATALOG_ICEBERG_H

#include "catalog/catalog.h"
#include "catalog/sources.h"

/* The catalog_name column of every row sluice writes. */
#define ICEBERG_CATALOG "sluice"

/* The table's current metadata location, in a; SL_ERR_NOTFOUND (no words)
 * if there is no such table. */
int catalog_iceberg_get(struct catalog_txn *txn, const char *ns, const char *name,
                        struct sl_arena *a, const char **location, struct sl_diag *d);
/* Register a new table at location (its first metadata file); the namespace
 * is created if missing.  SL_ERR_EXISTS with words if the name is taken. */
int catalog_iceberg_create(struct catalog_txn *txn, const char *ns, const char *name,
                           const char *location, struct sl_diag *d);
/* Swap the pointer from expect to next; SL_ERR_CONFLICT with words naming
 * the table and the location found if it is no longer expect. */
int catalog_iceberg_swap(struct catalog_txn *txn, const char *ns, const char *name,
                         const char *expect, const char *next, struct sl_diag *d);
/* Forget table ns.name (its files stay); SL_ERR_NOTFOUND (no words) if
 * there is no such table. */
int catalog_iceberg_drop(struct catalog_txn *txn, const char *ns, const char *name,
                         struct sl_diag *d);
/* Tables of namespace ns (all namespaces if NULL): cb gets "ns.name". */
int catalog_iceberg_list(struct catalog_txn *txn, const char *ns, catalog_name_cb cb,
                         void *arg, struct sl_diag *d);


/*
 * Namespaces, as Iceberg's JDBC catalog keeps them: a namespace exists
 * while it has a row in iceberg_namespace_properties (the reserved
 * property "exists" marks one without other properties) or a table.
 * Names are one level ("curated"); the REST layer refuses deeper ones.
 */

/* Every namespace, sorted: cb gets its name. */
int catalog_iceberg_namespaces(struct catalog_txn *txn, catalog_name_cb cb, void *arg,
                               struct sl_diag *d);
/* 0 if namespace ns exists, SL_ERR_NOTFOUND (no words) if not. */
int catalog_iceberg_namespace_exists(struct catalog_txn *txn, const char *ns, struct sl_diag *d);
/* A namespace property, as catalog_iceberg_namespace_props() hands them out. */
typedef int (*catalog_prop_cb)(void *arg, const char *key, const char *value);
/* The properties of namespace ns, sorted by key, without the reserved
 * "exists"; SL_ERR_NOTFOUND (no words) if there is no such namespace. */
int catalog_iceberg_namespace_props(struct catalog_txn *txn, const char *ns,
                                    catalog_prop_cb cb, void *arg, struct sl_diag *d);
/* Create namespace ns with n properties (keys[i] = values[i]; "exists" is
 * reserved and refused); SL_ERR_EXISTS with words if it exists. */
int catalog_iceberg_namespace_create(struct catalog_txn *txn, const char *ns,
                                     const char *const *keys, const char *const *values,
                                     size_t n, struct sl_diag *d);
/* Drop namespace ns: SL_ERR_NOTFOUND (no words) if there is none,
 * SL_ERR_CONFLICT with words if it still has tables. */
int catalog_iceberg_namespace_drop(struct catalog_txn *txn, const char *ns, struct sl_diag *d);

#endif
