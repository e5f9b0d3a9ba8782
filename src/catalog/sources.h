/*
 * sources.h - the catalog's sources and their contract versions.
 *
 * A contract version is registered once, as canonical text, and never
 * changes afterwards (project/register.c enforces it against the files).
 */
#ifndef SL_CATALOG_SOURCES_H
#define SL_CATALOG_SOURCES_H

#include "catalog/catalog.h"

/* Called with a name; strings valid during the call.  A negative return
 * stops the listing and is returned. */
typedef int (*catalog_name_cb)(void *arg, const char *name);

/* Record a source, or update its system name. */
int catalog_source_put(struct catalog_txn *txn, const char *name, const char *system,
                       struct sl_diag *d);
/* Registered sources by name. */
int catalog_source_list(struct catalog_txn *txn, catalog_name_cb cb, void *arg,
                        struct sl_diag *d);

/* The registered spec (canonical text) of a version, in a;
 * SL_ERR_NOTFOUND (no words) if the version is not registered. */
int catalog_contract_get(struct catalog_txn *txn, const char *source, const char *version,
                         struct sl_arena *a, char **spec, struct sl_diag *d);
typedef int (*catalog_contract_cb)(void *arg, const char *version, const char *spec);
/* Registered versions of source, by (major, minor). */
int catalog_contract_list(struct catalog_txn *txn, const char *source, catalog_contract_cb cb,
                          void *arg, struct sl_diag *d);
/* Register a version; SL_ERR_EXISTS if it is registered already. */
int catalog_contract_put(struct catalog_txn *txn, const char *source, const char *version,
                         int major, int minor, const char *spec, struct sl_diag *d);

#endif
