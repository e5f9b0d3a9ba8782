/*
 * products.c - sluice.yaml's data products (see products.h).
 *
 * The products mapping is keyed by table name, which a conf key table
 * (core/conf.h) cannot describe, so it is walked here from the YAML tree;
 * the keys of one product are still declared once, in product_keys below,
 * for the messages and the sample.
 */
#include "project/products.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "core/time.h"
#include "core/banned.h"

/* A product's keys, for "unknown key" hints. */
static const char *const product_keys[] = {"consumers", "freshness", "blocking",
                                           "volume_per_day", NULL};

const char project_products_sample[] =
    "\n# Data products: what the consumers of each curated or gold table need.\n"
    "# 'sluice status' measures the pipeline against it (exit 1 on a miss),\n"
    "# and 'sluice serve' exports the same in /metrics.\n"
    "# products:\n"
    "#   curated.customers:\n"
    "#     consumers: [finance-dashboard, churn-model]\n"
    "#     freshness: 2h          # newest event time at most this old (s, m, h, d, w)\n"
    "#     blocking: true         # quality failures hold runs (false: they only warn)\n"
    "#     volume_per_day: 10000  # rows landing per 24 h, at least\n";

/* Fail at node's line in path (the message names the key). */
static int
fail_at(struct sl_diag *d, const char *path, const struct sl_yaml *node)
{
    sl_diag_at(d, path, node->line, 0, NULL);
    return SL_ERR_INPUT;
}

static bool
name_part_ok(const char *s, size_t n)
{
    if (n == 0 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static int
parse_scalar_key(const struct sl_yaml *k, const struct sl_yaml *v, struct product *p,
                 const char *path, struct sl_diag *d)
{
    char field[300];

    snprintf(field, sizeof(field), "products.%s.%s", p->name, k->str);
    if (v->kind != SL_YAML_SCALAR || sl_yaml_is_null(v)) {
        sl_fail(d, SL_ERR_INPUT, "key '%s' must be a value, not %s", field,
                sl_yaml_is_null(v) ? "empty" : sl_yaml_kind_name(v));
        return fail_at(d, path, v);
    }
    if (strcmp(k->str, "freshness") == 0) {
        int64_t ms;

        if (sl_parse_duration(v->str, &ms) < 0 || ms < 1000 || ms % 1000 != 0) {
            sl_fail(d, SL_ERR_INPUT, "key '%s': '%s' is no duration", field, v->str);
            sl_diag_hint(d, "write a whole number of seconds, minutes, hours, days or "
                            "weeks: 90s, 15m, 2h, 1d, 1w");
            return fail_at(d, path, v);
        }
        p->freshness = ms / 1000;
    } else if (strcmp(k->str, "blocking") == 0) {
        if (strcasecmp(v->str, "true") == 0 || strcasecmp(v->str, "yes") == 0 ||
            strcasecmp(v->str, "on") == 0) {
            p->blocking = true;
        } else if (strcasecmp(v->str, "false") == 0 || strcasecmp(v->str, "no") == 0 ||
                   strcasecmp(v->str, "off") == 0) {
            p->blocking = false;
        } else {
            sl_fail(d, SL_ERR_INPUT, "key '%s': expected true or false, not '%s'", field,
                    v->str);
            return fail_at(d, path, v);
        }
    } else {
        int64_t n;

        if (sl_parse_i64(v->str, v->len, &n) < 0 || n < 0) {
            sl_fail(d, SL_ERR_INPUT, "key '%s': expected a number of rows, not '%s'", field,
                    v->str);
            return fail_at(d, path, v);
        }
        p->volume_per_day = n;
    }
    return 0;
}

static int
parse_consumers(const struct sl_yaml *v, struct product *p, const char *path,
                struct sl_arena *a, struct sl_diag *d)
{
    char field[300];

    snprintf(field, sizeof(field), "products.%s.consumers", p->name);
    if (v->kind == SL_YAML_SCALAR && !sl_yaml_is_null(v)) {
        /* one consumer, written without brackets */
        p->consumers = sl_arena_alloc(a, sizeof(*p->consumers));
        p->consumers[0] = v->str;
        p->nconsumers = 1;
        return 0;
    }
    if (v->kind != SL_YAML_SEQ) {
        sl_fail(d, SL_ERR_INPUT, "key '%s' must be a list of names, not %s", field,
                sl_yaml_kind_name(v));
        return fail_at(d, path, v);
    }
    p->consumers = sl_arena_alloc(a, (v->n ? v->n : 1) * sizeof(*p->consumers));
    for (size_t i = 0; i < v->n; i++) {
        const struct sl_yaml *c = v->items[i];

        if (c->kind != SL_YAML_SCALAR || c->len == 0) {
            sl_fail(d, SL_ERR_INPUT, "key '%s': each consumer is a name, not %s", field,
                    sl_yaml_kind_name(c));
            return fail_at(d, path, c);
        }
        p->consumers[p->nconsumers++] = c->str;
    }
    return 0;
}

static int
parse_product(const struct sl_yaml *k, const struct sl_yaml *v, struct product *p,
              const char *path, struct sl_arena *a, struct sl_diag *d)
{
    const char *dot = strchr(k->str, '.');
    char field[300];

    p->name = k->str;
    p->freshness = -1;
    p->volume_per_day = -1;
    p->blocking = true;
    p->line = k->line;
    snprintf(field, sizeof(field), "products.%s", k->str);
    if (dot == NULL || !name_part_ok(dot + 1, strlen(dot + 1)) ||
        !((dot - k->str == 7 && strncmp(k->str, "curated", 7) == 0) ||
          (dot - k->str == 4 && strncmp(k->str, "gold", 4) == 0))) {
        sl_fail(d, SL_ERR_INPUT, "key '%s': a data product is a table named curated.NAME or "
                "gold.NAME, not '%s'", field, k->str);
        sl_diag_hint(d, "NAME is a curated table (a source's, or SOURCE_vN for its major "
                        "version N) or a gold model, in lower case");
        return fail_at(d, path, k);
    }
    p->schema = sl_arena_strndup(a, k->str, (size_t)(dot - k->str));
    p->table = dot + 1;
    if (sl_yaml_is_null(v))
        return 0;
    if (v->kind != SL_YAML_MAP) {
        sl_fail(d, SL_ERR_INPUT, "key '%s' must be a mapping of requirements, not %s", field,
                sl_yaml_kind_name(v));
        return fail_at(d, path, v);
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct sl_yaml *rk = v->keys[i], *rv = v->items[i];
        size_t j;
        int rc;

        for (j = 0; product_keys[j] != NULL; j++)
            if (strcmp(product_keys[j], rk->str) == 0)
                break;
        if (product_keys[j] == NULL) {
            sl_fail(d, SL_ERR_INPUT, "unknown key '%s.%s'", field, rk->str);
            sl_diag_hint(d, "a product declares consumers, freshness, blocking and "
                            "volume_per_day");
            return fail_at(d, path, rk);
        }
        if (strcmp(rk->str, "consumers") == 0)
            rc = parse_consumers(rv, p, path, a, d);
        else
            rc = parse_scalar_key(rk, rv, p, path, d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int
project_products_parse(const struct sl_yaml *node, const char *path, struct sl_arena *a,
                       struct product **out, size_t *n, struct sl_diag *d)
{
    struct product *v;

    *out = NULL;
    *n = 0;
    if (node == NULL || sl_yaml_is_null(node))
        return 0;
    if (node->kind != SL_YAML_MAP) {
        sl_fail(d, SL_ERR_INPUT, "section 'products' must be a mapping of tables, not %s",
                sl_yaml_kind_name(node));
        return fail_at(d, path, node);
    }
    if (node->n == 0)
        return 0;
    v = sl_arena_zalloc(a, node->n * sizeof(*v));
    for (size_t i = 0; i < node->n; i++) {
        int rc = parse_product(node->keys[i], node->items[i], &v[i], path, a, d);

        if (rc < 0)
            return rc;
    }
    *out = v;
    *n = node->n;
    return 0;
}

const struct product *
project_product_find(const struct product *v, size_t n, const char *table)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, table) == 0)
            return &v[i];
    return NULL;
}
