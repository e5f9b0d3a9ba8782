/*
 * register.h - registering a source's contract versions in the catalog.
 */
#ifndef SL_PROJECT_REGISTER_H
#define SL_PROJECT_REGISTER_H

#include "catalog/catalog.h"
#include "core/diag.h"
#include "project/contract.h"

/*
 * Register src and any new contract versions; refuse (SL_ERR_INCOMPATIBLE,
 * with the difference in d) if a registered version changed or is no
 * longer declared.  Runs in its own catalog transaction.
 */
int project_register_source(struct catalog *cat, const struct source *src, struct sl_diag *d);

#endif
