/* placeholder while the PostgreSQL driver is written */
#include "catalog/catalog_int.h"

static int
pg_open(struct catalog *cat, const char *location, struct sl_diag *d)
{
    return sl_fail(d, SL_ERR_CATALOG, "PostgreSQL catalogs are not built yet");
}

const struct catalog_ops catalog_postgres_ops = {
    .name = "postgresql",
    .open = pg_open,
};
