/*
 * gate.h - quality gates: a run's outputs checked before they are
 * published.
 *
 * A stage that writes a table with a ruleset (quality/<schema>.<table>.dqdl
 * in the project) commits its run held (commit/commit.h, COMMIT_HOLD) and
 * asks the gate.  The gate evaluates each ruleset over the table as the
 * run would leave it (the caller's views: the current snapshot with the
 * run's staged outputs), records the evaluations with the run's id
 * (catalog/quality.h), and returns a verdict:
 *
 *   passed   every rule passed: publish
 *   warned   only rules of rulesets with "# severity: warn" failed:
 *            publish, and alert
 *   held     a blocking rule failed or could not run, or a ruleset could
 *            not be read: keep the run held, and alert - `sluice publish
 *            RUN` or `sluice discard RUN` settles it
 *
 * A table declared as a data product with `blocking: false` (sluice.yaml,
 * project/products.h) has its failed rules warn, as if its ruleset said
 * "# severity: warn"; a ruleset that cannot be evaluated still holds.
 *
 * A gate that cannot evaluate at all (the data cannot be read) holds too:
 * nothing unchecked is published.
 */
#ifndef SL_QUALITY_GATE_H
#define SL_QUALITY_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/diag.h"
#include "engine/engine.h"
#include "project/project.h"
#include "quality/check.h"
#include "store/store.h"

enum quality_verdict {
    QUALITY_NO_GATE = 0,     /* no table of the run has a ruleset */
    QUALITY_PASSED,
    QUALITY_WARNED,
    QUALITY_HELD,
};

/* The key of a table, when the caller knows one (cli_curated_key()). */
typedef size_t (*quality_key_fn)(void *arg, const char *table, const char **out);

struct quality_gate {
    const char *root;                 /* the project's folder */
    struct catalog *cat;
    struct store *store;
    const struct alerts_settings *alerts;
    struct engine_opts eo;
    quality_views_fn views;           /* the views with the run's outputs */
    void *views_arg;
    quality_key_fn key;               /* may be NULL */
    void *key_arg;
    int64_t run_id;
    const char *stage;                /* "transform of source orders", for words */
    /*
     * The schema drift of the run (may be NULL: none known): a line per
     * field into lines ("120 records carry 'coupon' (not in the
     * contract)"), returning how many; a ruleset's "# drift: warn" or
     * "block" makes drift a failure of that weight.
     */
    int (*drift)(void *arg, int64_t run_id, struct sl_buf *lines, struct sl_diag *d);
    void *drift_arg;
    const struct product *products;   /* declared data products (blocking), */
    size_t nproducts;                 /* ... or none */
};

/* Whether table (schema.name) has a ruleset in the project at root. */
bool quality_gate_applies(const char *root, const char *table);

/*
 * Gate run g->run_id, which wrote tables (schema.name each).  *verdict
 * gets the verdict; report (may be NULL) a line per table and one per
 * failed rule, for the stage to print.  Returns an error only when the
 * verdict could not be recorded (the catalog is gone); the run is then
 * left held.
 */
int quality_gate_run(struct quality_gate *g, const char *const *tables, size_t n,
                     enum quality_verdict *verdict, struct sl_buf *report, struct sl_diag *d);

#endif
