/*
 * test_products.c - sluice.yaml's data products: the declarations and the
 * refusals, each naming its line and key.
 */
#include <string.h>

#include "core/yaml.h"
#include "project/products.h"
#include "test.h"

static struct sl_arena arena;

static int
parse(const char *text, struct product **v, size_t *n, struct sl_diag *d)
{
    struct sl_yaml *root;
    int rc;

    sl_diag_init(d);
    rc = sl_yaml_parse("sluice.yaml", text, strlen(text), &arena, &root, d);
    if (rc == 0)
        rc = project_products_parse(sl_yaml_get(root, "products"), "sluice.yaml", &arena, v,
                                    n, d);
    return rc;
}

TEST(parses_declarations)
{
    struct product *v;
    size_t n;
    struct sl_diag d;

    sl_arena_init(&arena, 0);
    CHECK_INT(parse("products:\n"
                    "  curated.orders:\n"
                    "    consumers: [finance, churn-model]\n"
                    "    freshness: 2h\n"
                    "    blocking: false\n"
                    "    volume_per_day: 10000\n"
                    "  gold.customer_360:\n"
                    "    consumers: crm\n"
                    "    freshness: 1d\n"
                    "  curated.clicks:\n",
                    &v, &n, &d),
              0);
    CHECK_INT((long long)n, 3);
    CHECK_STR(v[0].schema, "curated");
    CHECK_STR(v[0].table, "orders");
    CHECK_INT((long long)v[0].nconsumers, 2);
    CHECK_STR(v[0].consumers[1], "churn-model");
    CHECK_INT(v[0].freshness, 7200);
    CHECK(!v[0].blocking);
    CHECK_INT(v[0].volume_per_day, 10000);
    CHECK_INT(v[0].line, 2);
    CHECK_STR(v[1].schema, "gold");
    CHECK_INT((long long)v[1].nconsumers, 1);
    CHECK_INT(v[1].freshness, 86400);
    CHECK(v[1].blocking);
    CHECK_INT(v[1].volume_per_day, -1);
    CHECK_INT(v[2].freshness, -1);
    CHECK(project_product_find(v, n, "gold.customer_360") == &v[1]);
    CHECK(project_product_find(v, n, "curated.customers") == NULL);
    CHECK_INT(parse("lake: x\n", &v, &n, &d), 0);
    CHECK_INT((long long)n, 0);
    sl_arena_release(&arena);
}

static void
bad(const char *text, const char *want, int line)
{
    struct product *v;
    size_t n;
    struct sl_diag d;

    CHECK_INT(parse(text, &v, &n, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, want);
    CHECK_STR(d.where, "sluice.yaml");
    CHECK_INT(d.line, line);
}

TEST(refuses_bad_declarations)
{
    sl_arena_init(&arena, 0);
    bad("products:\n  curated.orders:\n    freshnes: 2h\n",
        "unknown key 'products.curated.orders.freshnes'", 3);
    bad("products:\n  curated.orders:\n    freshness: 2 hours\n",
        "'2 hours' is no duration", 3);
    bad("products:\n  curated.orders:\n    freshness: 500ms\n", "is no duration", 3);
    bad("products:\n  curated.orders:\n    blocking: maybe\n", "expected true or false", 3);
    bad("products:\n  curated.orders:\n    volume_per_day: -5\n", "a number of rows", 3);
    bad("products:\n  raw.orders:\n    freshness: 1h\n",
        "curated.NAME or gold.NAME, not 'raw.orders'", 2);
    bad("products:\n  orders:\n    freshness: 1h\n", "not 'orders'", 2);
    bad("products:\n  curated.Orders:\n", "not 'curated.Orders'", 2);
    bad("products:\n  curated.orders: 2h\n", "must be a mapping of requirements", 2);
    bad("products: [curated.orders]\n", "must be a mapping of tables", 1);
    bad("products:\n  curated.orders:\n    consumers: {a: b}\n", "a list of names", 3);
    sl_arena_release(&arena);
}
