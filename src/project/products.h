/*
 * products.h - the data products sluice.yaml declares, and what each needs.
 *
 * A data product is a curated or gold table that someone consumes.  The
 * `products` mapping of sluice.yaml names each one (curated.orders,
 * gold.customer_360) with its requirements:
 *
 *   consumers       who reads it: a list of names, for the words
 *   freshness       its newest data at most this old: a duration (90s,
 *                   15m, 2h, 1d, 1w)
 *   blocking        whether its quality gate's failures hold runs (the
 *                   default) or only warn
 *   volume_per_day  rows expected to land per 24 h: a floor, no tolerance
 *                   (fewer rows is a miss, any number more is fine)
 *
 * Every requirement is optional; `sluice status` (quality/status.h) checks
 * the live pipeline against those written.  The parse refuses unknown keys,
 * bad durations and names that are no curated.X or gold.X table, naming
 * sluice.yaml:LINE.
 */
#ifndef SL_PROJECT_PRODUCTS_H
#define SL_PROJECT_PRODUCTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"
#include "core/yaml.h"

struct product {
    const char *name;          /* "curated.orders", "gold.customer_360" */
    const char *schema;        /* "curated" or "gold" */
    const char *table;         /* "orders", "customer_360" */
    const char **consumers;    /* nconsumers names */
    size_t nconsumers;
    int64_t freshness;         /* seconds; -1: not declared */
    bool blocking;             /* quality failures hold runs (default true) */
    int64_t volume_per_day;    /* rows; -1: not declared */
    int line;                  /* where it is declared in sluice.yaml */
};

/*
 * Parse the value of sluice.yaml's `products` key (node; NULL or null: no
 * products) into *out (*n of them, in the order written), all in a.  path
 * names the file in messages.  Returns 0, or SL_ERR_INPUT with d naming
 * path, line and key.
 */
int project_products_parse(const struct sl_yaml *node, const char *path, struct sl_arena *a,
                           struct product **out, size_t *n, struct sl_diag *d);

/* The product declared for table (schema.name) among v[0..n), or NULL. */
const struct product *project_product_find(const struct product *v, size_t n,
                                           const char *table);

/* A commented example of the products mapping, for `sluice init`. */
extern const char project_products_sample[];

#endif
