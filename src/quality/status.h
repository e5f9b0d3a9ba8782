/*
 * status.h - the data products measured against what sluice.yaml declares
 * for them (project/products.h): `sluice status` and sluice serve's
 * /metrics both come from quality_status_measure().
 *
 * For each product, from the catalog and the table's metadata (a data
 * file is read only when its statistics lack the event time, so a server
 * thread can afford it every few seconds):
 *
 *   freshness   now - the newest data: for a curated table the largest
 *               upper bound of its event-time column in the manifests of
 *               the current snapshot (files' statistics: no data read; a
 *               row deleted since may leave the bound a little newer than
 *               the newest live row); when a live file has no such bound,
 *               max(column) over the table's view through the engine
 *               instead; for a gold table, or when neither is possible,
 *               the commit time of its current snapshot
 *   gate        the latest gate evaluation of the table (quality results
 *               of a run): passed, or how many rules failed
 *   held        runs that wrote the table and are held for a decision
 *   last run    the latest published transform (curated) or build (gold)
 *               that wrote it, with its account and whether it balances
 *   volume      rows written by the published runs of the table that
 *               finished in the last 24 h (a transform that wrote several
 *               majors of a source counts its rows for each)
 *
 * A requirement is met when it is not declared or the measurement meets
 * it; a failed last gate or a held run is a miss whatever is declared (its
 * consumers get no or unchecked data), as is an account that does not
 * balance.
 */
#ifndef SL_QUALITY_STATUS_H
#define SL_QUALITY_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "engine/engine.h"
#include "project/products.h"
#include "store/store.h"

/* One product, measured. */
struct quality_status {
    const struct product *product; /* the declaration (the caller's) */
    bool exists;                 /* the catalog knows the table */
    /* freshness */
    int64_t newest;              /* microseconds since the epoch; -1: no data */
    const char *newest_of;       /* "event time ordered_at" or "last snapshot" */
    int64_t age;                 /* seconds; -1: no data */
    bool freshness_ok;
    /* the last gate */
    int64_t gate_run;            /* the run gated; 0: never gated */
    int64_t gate_passed, gate_failed; /* rules (failed counts errors) */
    bool gate_ok;
    /* held runs */
    int64_t held;
    const char *held_runs;       /* their ids, "12, 15" ("" for none) */
    bool held_ok;
    /* the last published run */
    int64_t last_run;            /* 0: none */
    const char *last_kind;       /* "transform" or "build" */
    int64_t last_finished;       /* microseconds */
    int64_t records_in, written, quarantined, duplicates;
    bool balanced;
    /* volume */
    int64_t volume;              /* rows landed in the 24 h before now */
    bool volume_ok;
    bool ok;                     /* every requirement met */
};

struct quality_status_report {
    int64_t now;                 /* microseconds: when measured */
    size_t n;
    struct quality_status *v;    /* one per product, in declaration order */
    struct sl_arena a;           /* the strings */
};

void quality_status_init(struct quality_status_report *r);
void quality_status_release(struct quality_status_report *r);

/*
 * Measure products[0..n) as of now (microseconds) in one read transaction
 * of cat, reading table metadata through s and, for files without
 * statistics, data through e (may be NULL: such a table's freshness is its
 * last snapshot's; the caller's views "curated.<table>" of declared
 * products are replaced), into r (its previous contents are released; the
 * products are borrowed for r's life).  Returns 0, or the catalog's, the
 * store's or the engine's error with words in d.
 */
int quality_status_measure(struct catalog *cat, struct store *s, struct engine *e,
                           const struct product *products, size_t n, int64_t now,
                           struct quality_status_report *r, struct sl_diag *d);

/* r as Prometheus gauges, sluice_product_* with a product label. */
void quality_status_metrics(const struct quality_status_report *r, struct sl_buf *out);

#endif
