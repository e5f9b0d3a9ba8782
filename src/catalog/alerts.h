/*
 * alerts.h - the catalog's outbox of alerts: one row per alert and
 * webhook, kept until it is delivered or has used its attempts, so that an
 * alert survives the process that raised it and is resent after a
 * restart (quality/alert.c delivers them).
 *
 * An alert belongs to a run and a table (a gate's verdict on it), so the
 * same verdict raised twice for a webhook is one row.
 */
#ifndef SL_CATALOG_ALERTS_H
#define SL_CATALOG_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/catalog.h"

struct alert_record {
    int64_t run_id;
    const char *table;       /* curated.orders */
    const char *webhook;     /* URL */
    int64_t created_at;      /* microseconds */
    const char *severity;    /* "block", "warn" */
    const char *text;        /* the message */
    const char *state;       /* "pending", "delivered", "failed" */
    int64_t attempts;
    int64_t next_at;         /* microseconds: the next attempt, when pending */
    const char *last_error;  /* "" when none */
};

/* Record a new pending alert; one already recorded is left as it is. */
int catalog_alert_add(struct catalog_txn *txn, const struct alert_record *a, struct sl_diag *d);
/* Write an alert's state, attempts, next_at and last_error. */
int catalog_alert_update(struct catalog_txn *txn, const struct alert_record *a,
                         struct sl_diag *d);
/*
 * Claim a pending alert for one delivery attempt: if it is still pending
 * with a->attempts attempts (as it was read), its next attempt moves to
 * until (the claimer's lease) and *claimed is true; else another process
 * has it, and nothing changes.
 */
int catalog_alert_claim(struct catalog_txn *txn, const struct alert_record *a, int64_t until,
                        bool *claimed, struct sl_diag *d);
typedef int (*catalog_alert_cb)(void *arg, const struct alert_record *a);
/* Pending alerts due at now (now < 0: every pending one), oldest first, at
 * most limit; strings are the callback's for the call. */
int catalog_alert_due(struct catalog_txn *txn, int64_t now, int64_t limit, catalog_alert_cb cb,
                      void *arg, struct sl_diag *d);
/* The newest alerts, newest first, at most limit (0: all). */
int catalog_alert_list(struct catalog_txn *txn, int64_t limit, catalog_alert_cb cb, void *arg,
                       struct sl_diag *d);
/* How many alerts are in each state. */
int catalog_alert_counts(struct catalog_txn *txn, int64_t *pending, int64_t *delivered,
                         int64_t *failed, struct sl_diag *d);

#endif
