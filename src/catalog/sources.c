/*
 * sources.c - sources and contract versions (see sources.h).
 */
#include "catalog/sources.h"

#include "catalog/catalog_int.h"
#include "core/time.h"
#include "core/banned.h"

int
catalog_source_put(struct catalog_txn *txn, const char *name, const char *system,
                   struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a source",
                     "INSERT INTO sources (name, system, created_at) VALUES (?1, ?2, ?3) "
                     "ON CONFLICT (name) DO UPDATE SET system = excluded.system "
                     "WHERE sources.system <> excluded.system",
                     NULL, NULL, "tti", name, system, sl_now_usec());

    return rc < 0 ? rc : 0;
}

int
catalog_source_list(struct catalog_txn *txn, catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct cat_names c = {cb, arg};
    int rc = cat_run(txn, d, "list sources", "SELECT name FROM sources ORDER BY name",
                     cat_name_row, &c, "");

    return rc < 0 ? rc : 0;
}

struct spec_row {
    struct sl_arena *a;
    char *spec;
};

static int
spec_row(void *arg, const struct catalog_row *r)
{
    struct spec_row *c = arg;

    c->spec = (char *)cat_strdup(r, 0, c->a);
    return 0;
}

int
catalog_contract_get(struct catalog_txn *txn, const char *source, const char *version,
                     struct sl_arena *a, char **spec, struct sl_diag *d)
{
    struct spec_row c = {a, NULL};
    int rc = cat_run(txn, d, "read a contract version",
                     "SELECT spec FROM contract_versions WHERE source = ?1 AND version = ?2",
                     spec_row, &c, "tt", source, version);

    if (rc < 0)
        return rc;
    if (c.spec == NULL)
        return SL_ERR_NOTFOUND;
    *spec = c.spec;
    return 0;
}

struct contract_rows {
    catalog_contract_cb cb;
    void *arg;
};

static int
contract_row(void *arg, const struct catalog_row *r)
{
    struct contract_rows *c = arg;

    return c->cb(c->arg, cat_text(r, 0), cat_text(r, 1));
}

int
catalog_contract_list(struct catalog_txn *txn, const char *source, catalog_contract_cb cb,
                      void *arg, struct sl_diag *d)
{
    struct contract_rows c = {cb, arg};
    int rc = cat_run(txn, d, "list contract versions",
                     "SELECT version, spec FROM contract_versions WHERE source = ?1 "
                     "ORDER BY major, minor",
                     contract_row, &c, "t", source);

    return rc < 0 ? rc : 0;
}

int
catalog_contract_put(struct catalog_txn *txn, const char *source, const char *version,
                     int major, int minor, const char *spec, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a contract version",
                     "INSERT INTO contract_versions "
                     "(source, version, major, minor, spec, registered_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, version) DO NOTHING",
                     NULL, NULL, "ttiiti", source, version, (int64_t)major, (int64_t)minor,
                     spec, sl_now_usec());

    if (rc == 0)
        return SL_ERR_EXISTS;
    return rc < 0 ? rc : 0;
}
