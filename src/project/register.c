/*
 * register.c - contract versions into the catalog, once and for good.
 *
 * Before an object is tagged with a version, or a transform reads objects
 * tagged with one, the source's versions are checked against the catalog:
 * a version seen for the first time is registered; a registered version
 * must be unchanged (its canonical text equal) and still declared.  So the
 * meaning of every tag on every raw object stays fixed.
 */
#include "project/register.h"

#include <stdlib.h>
#include <string.h>

#include "catalog/sources.h"
#include "core/buf.h"
#include "core/yaml.h"
#include "core/banned.h"

struct registered {
    const struct source *src;
    struct sl_diag *d;
    int rc;
};

static int
check_one(void *arg, const char *version, const char *spec)
{
    struct registered *r = arg;

    if (source_version(r->src, version) == NULL) {
        sl_fail(r->d, SL_ERR_INCOMPATIBLE,
                "contract version %s of source '%s' is registered in the catalog but no "
                "longer declared",
                version, r->src->name);
        sl_diag_hint(r->d, "raw objects may be tagged with it; put it back in %s",
                     r->src->path);
        sl_diag_at(r->d, r->src->path, 0, 0, NULL);
        return SL_ERR_INCOMPATIBLE;
    }
    (void)spec;
    return 0;
}

struct reg_args {
    const struct source *src;
    struct sl_arena a;
    struct sl_buf canon;
};

static int
register_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct reg_args *ra = arg;
    const struct source *src = ra->src;
    struct registered reg = {src, d, 0};
    struct sl_arena *a = &ra->a;
    struct sl_buf *canon_buf = &ra->canon;
    int rc;

    rc = catalog_source_put(txn, src->name, src->system, d);
    for (size_t i = 0; rc == 0 && i < src->nversions; i++) {
        const struct contract *c = &src->versions[i];
        char *spec = NULL;

        sl_buf_reset(canon_buf);
        contract_canonical(c, canon_buf);
        rc = catalog_contract_get(txn, src->name, c->version, a, &spec, d);
        if (rc == SL_ERR_NOTFOUND) {
            rc = catalog_contract_put(txn, src->name, c->version, c->major, c->minor,
                                      canon_buf->data, d);
            if (rc == SL_ERR_EXISTS) /* registered concurrently: compare next time */
                rc = sl_fail(d, SL_ERR_CONFLICT, "contract registered concurrently");
            continue;
        }
        if (rc < 0 || strcmp(spec, canon_buf->data) == 0)
            continue;
        /* Say what changed. */
        struct sl_yaml *root;
        struct contract old;
        char why[300] = "its definition changed";

        if (sl_yaml_parse("catalog", spec, strlen(spec), a, &root, NULL) == 0 &&
            contract_parse_version("catalog", root, a, &old, NULL) == 0)
            contract_diff(&old, c, why, sizeof(why));
        sl_fail(d, SL_ERR_INCOMPATIBLE,
                "contract version %s of source '%s' differs from the registered one: %s",
                c->version, src->name, why);
        sl_diag_hint(d, "a registered version never changes; declare the change as a new "
                        "version (%d.%d if it only adds nullable columns, else %d.0)",
                     c->major, c->minor + 1, c->major + 1);
        sl_diag_at(d, src->path, c->line, 0, NULL);
        rc = SL_ERR_INCOMPATIBLE;
    }
    if (rc == 0)
        rc = catalog_contract_list(txn, src->name, check_one, &reg, d);
    return rc;
}

int
project_register_source(struct catalog *cat, const struct source *src, struct sl_diag *d)
{
    struct reg_args ra = {.src = src};
    int rc;

    sl_arena_init(&ra.a, 0);
    sl_buf_init(&ra.canon);
    rc = catalog_txn_run(cat, CATALOG_WRITE, register_body, &ra, d);
    sl_buf_release(&ra.canon);
    sl_arena_release(&ra.a);
    return rc;
}
