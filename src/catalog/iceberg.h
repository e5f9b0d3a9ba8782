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
/* Tables of namespace ns (all namespaces if NULL): cb gets "ns.name". */
int catalog_iceberg_list(struct catalog_txn *txn, const char *ns, catalog_name_cb cb,
                         void *arg, struct sl_diag *d);

#endif
