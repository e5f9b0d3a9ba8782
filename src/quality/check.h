/*
 * check.h - one evaluation of a ruleset over a data set, with its history:
 * what `sluice check` does on demand, and what a gate does for a run.
 *
 * A data set is a Parquet or CSV file, or a table of the lake:
 * curated.<name>, gold.<name>, or a bare name (curated first, then gold).
 * Tables are looked up among the engine's views, which the caller makes
 * (struct quality_check.views, called once, the first time a table is
 * named): the current snapshots for a check on demand, the snapshots a
 * held run would make for its gate.
 *
 * A table's evaluation reads each rule's past values first (the dynamic
 * thresholds: RowCount > avg(last(10)) * 0.8) and then joins that history
 * (catalog/quality.h), with the run it gated if any.  Numeric columns are
 * profiled in the same way (quality/profile.h): those a DistributionDrift
 * rule names, or every one but the key for a gate; a profiled column no
 * rule names is recorded as an informational DistributionDrift "column"
 * that always passes, so its drift is in the history before a rule asks.
 */
#ifndef SL_QUALITY_CHECK_H
#define SL_QUALITY_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/diag.h"
#include "quality/dqdl.h"
#include "quality/eval.h"
#include "quality/profile.h"
#include "store/store.h"

struct engine;

/* Make the lake's views in e (curated and gold schemas). */
typedef int (*quality_views_fn)(void *arg, struct engine *e, struct sl_diag *d);

struct quality_past;

struct quality_check {
    /* The caller's. */
    struct engine *e;
    struct catalog *cat;        /* NULL: no lake (a file checked outside a project) */
    struct store *store;
    quality_views_fn views;     /* NULL: the views are made */
    void *views_arg;
    int64_t run_id;             /* the run a gate decides about; -1: on demand */
    bool profile_all;           /* profile every numeric column but the key (a gate);
                                 * else those DistributionDrift rules name */
    /* Set by quality_check_target(). */
    char *relation;             /* SQL of the primary data set */
    char *name;                 /* its name: curated.orders, exports/x.parquet */
    bool is_table;
    /* Internal. */
    bool views_made;
    struct dq_source *sources;
    size_t nsources, capsources;
    struct quality_past *past;
    size_t npast, cappast;
    struct quality_profile *profiles;
    size_t nprofiles, capprofiles;
};

/* Whether target names a file (a '/', a .parquet or .csv name, or a file
 * that exists) rather than a table. */
bool quality_is_file(const char *target);

/* The primary data set: a file or a table (SL_ERR_NOTFOUND naming it). */
int quality_check_target(struct quality_check *k, const char *target, struct sl_diag *d);
/* Bind alias to the data set name (a later binding of an alias wins). */
int quality_check_bind(struct quality_check *k, const char *alias, const char *name,
                       struct sl_diag *d);
/* The ruleset's DataSources: "AdditionalDataSources": [names] binds each
 * name to itself; "alias": "table" binds an alias ("Primary" is the data
 * set checked). */
int quality_check_bind_declared(struct quality_check *k, const struct dq_ruleset *rs,
                                struct sl_diag *d);
/*
 * Evaluate rs over the primary data set into *rep (dq_report_free()); a
 * table's history is read before and written after.  key (nkey names, may
 * be 0) is the table's key if known (struct dq_data.unique_key).
 */
int quality_check_run(struct quality_check *k, const struct dq_ruleset *rs,
                      const char *const *key, size_t nkey, struct dq_report *rep,
                      struct sl_diag *d);
void quality_check_release(struct quality_check *k);

/* One result, with its parts, as sluice check prints it: a JSON object, or
 * indented lines of text. */
void quality_result_json(struct sl_buf *b, const struct dq_result *r);
void quality_result_text(struct sl_buf *b, const struct dq_result *r, int depth);

#endif
