/*
 * alerts.c - the outbox of alerts (see alerts.h).
 */
#include "catalog/alerts.h"

#include <string.h>

#include "catalog/catalog_int.h"
#include "core/banned.h"

#define ALERT_COLS                                                                        \
    "run_id, table_name, webhook, created_at, severity, message, state, attempts, next_at, " \
    "last_error"

int
catalog_alert_add(struct catalog_txn *txn, const struct alert_record *a, struct sl_diag *d)
{
    int64_t n = 0;
    int rc = cat_int_of(txn, d, "look for an alert",
                        "SELECT COUNT(*) FROM alerts WHERE run_id = ?1 AND table_name = ?2 "
                        "AND webhook = ?3",
                        &n, "itt", a->run_id, a->table, a->webhook);

    if (rc < 0 || n > 0)
        return rc < 0 ? rc : 0;
    rc = cat_run(txn, d, "record an alert",
                 "INSERT INTO alerts (" ALERT_COLS ") "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                 NULL, NULL, "ittitttiit", a->run_id, a->table, a->webhook, a->created_at,
                 a->severity, a->text, a->state ? a->state : "pending", a->attempts,
                 a->next_at, a->last_error ? a->last_error : "");
    return rc < 0 ? rc : 0;
}

int
catalog_alert_update(struct catalog_txn *txn, const struct alert_record *a, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "update an alert",
                     "UPDATE alerts SET state = ?4, attempts = ?5, next_at = ?6, "
                     "last_error = ?7 WHERE run_id = ?1 AND table_name = ?2 AND webhook = ?3",
                     NULL, NULL, "itttiit", a->run_id, a->table, a->webhook, a->state,
                     a->attempts, a->next_at, a->last_error ? a->last_error : "");

    return rc < 0 ? rc : 0;
}

int
catalog_alert_claim(struct catalog_txn *txn, const struct alert_record *a, int64_t until,
                    bool *claimed, struct sl_diag *d)
{
    int64_t n = 0;
    int rc = cat_int_of(txn, d, "claim an alert",
                        "SELECT COUNT(*) FROM alerts WHERE run_id = ?1 AND table_name = ?2 AND "
                        "webhook = ?3 AND state = 'pending' AND attempts = ?4 AND next_at = ?5",
                        &n, "ittii", a->run_id, a->table, a->webhook, a->attempts, a->next_at);

    *claimed = rc == 0 && n == 1;
    if (!*claimed)
        return rc < 0 && rc != SL_ERR_NOTFOUND ? rc : 0;
    rc = cat_run(txn, d, "claim an alert",
                 "UPDATE alerts SET next_at = ?4 WHERE run_id = ?1 AND table_name = ?2 AND "
                 "webhook = ?3",
                 NULL, NULL, "itti", a->run_id, a->table, a->webhook, until);
    return rc < 0 ? rc : 0;
}

struct alert_ctx {
    catalog_alert_cb cb;
    void *arg;
};

static int
alert_row(void *arg, const struct catalog_row *row)
{
    struct alert_ctx *c = arg;
    struct alert_record a = {
        .run_id = cat_int(row, 0),
        .table = cat_text(row, 1),
        .webhook = cat_text(row, 2),
        .created_at = cat_int(row, 3),
        .severity = cat_text(row, 4),
        .text = cat_text(row, 5),
        .state = cat_text(row, 6),
        .attempts = cat_int(row, 7),
        .next_at = cat_int(row, 8),
        .last_error = cat_text(row, 9),
    };

    return c->cb(c->arg, &a);
}

int
catalog_alert_due(struct catalog_txn *txn, int64_t now, int64_t limit, catalog_alert_cb cb,
                  void *arg, struct sl_diag *d)
{
    struct alert_ctx c = {cb, arg};
    int rc;

    if (now < 0)
        rc = cat_run(txn, d, "list the alerts pending",
                     "SELECT " ALERT_COLS " FROM alerts WHERE state = 'pending' "
                     "ORDER BY next_at, created_at LIMIT ?1",
                     alert_row, &c, "i", limit);
    else
        rc = cat_run(txn, d, "list the alerts due",
                     "SELECT " ALERT_COLS " FROM alerts WHERE state = 'pending' AND "
                     "next_at <= ?1 ORDER BY next_at, created_at LIMIT ?2",
                     alert_row, &c, "ii", now, limit);

    return rc < 0 ? rc : 0;
}

int
catalog_alert_list(struct catalog_txn *txn, int64_t limit, catalog_alert_cb cb, void *arg,
                   struct sl_diag *d)
{
    struct alert_ctx c = {cb, arg};
    int rc = cat_run(txn, d, "list alerts",
                     "SELECT " ALERT_COLS " FROM alerts ORDER BY created_at DESC, run_id DESC, "
                     "table_name, webhook LIMIT ?1",
                     alert_row, &c, "i", limit > 0 ? limit : INT64_MAX);

    return rc < 0 ? rc : 0;
}

int
catalog_alert_counts(struct catalog_txn *txn, int64_t *pending, int64_t *delivered,
                     int64_t *failed, struct sl_diag *d)
{
    int rc = cat_int_of(txn, d, "count alerts", "SELECT COUNT(*) FROM alerts WHERE state = ?1",
                        pending, "t", "pending");

    if (rc == 0)
        rc = cat_int_of(txn, d, "count alerts",
                        "SELECT COUNT(*) FROM alerts WHERE state = ?1", delivered, "t",
                        "delivered");
    if (rc == 0)
        rc = cat_int_of(txn, d, "count alerts",
                        "SELECT COUNT(*) FROM alerts WHERE state = ?1", failed, "t", "failed");
    return rc < 0 ? rc : 0;
}
