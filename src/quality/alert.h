/*
 * alert.h - alerts of quality gates: to the log, to /metrics, and to the
 * webhooks sluice.yaml names (alerts.webhooks).
 *
 * An alert is first recorded in the catalog's outbox (catalog/alerts.h),
 * one row per webhook, in its own transaction; then delivered: a JSON POST
 * {"text": ...} (Slack's incoming-webhook shape; the text is Slack
 * markdown that also reads as plain text), with alerts.secret_header set
 * from the environment variable alerts.secret_env.  A 2xx answer delivers
 * it; anything else (no connection, a timeout, another status) counts an
 * attempt and schedules the next one retry_after seconds later, doubling
 * each time up to an hour, until max_attempts have failed: the alert is
 * then given up, and stays listed by `sluice alerts`.
 *
 * Whoever raises an alert tries its due deliveries once at once; `sluice
 * serve` delivers due alerts every second (so after a restart it resends
 * what is pending), and `sluice alerts --send` does it by hand.  A
 * delivery failing never changes the gate's verdict.
 */
#ifndef SL_QUALITY_ALERT_H
#define SL_QUALITY_ALERT_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "core/buf.h"
#include "core/diag.h"
#include "project/project.h"

struct quality_alert {
    int64_t run_id;
    const char *table;       /* curated.orders */
    const char *severity;    /* "block", "warn" */
    const char *text;
};

/* What one round of delivery did. */
struct quality_delivery {
    int64_t delivered, retrying, given_up;
};

/*
 * Log a, record it for every webhook, and try the due deliveries once.  A
 * delivery that fails is logged and left for a retry; only failing to
 * record it is an error.
 */
int quality_alert_raise(struct catalog *cat, const struct alerts_settings *s,
                        const struct quality_alert *a, struct sl_diag *d);
/*
 * One attempt at each alert due now (all: at every pending one, due or
 * not), at most limit of them (0: no limit).
 */
int quality_alert_deliver(struct catalog *cat, const struct alerts_settings *s, bool all,
                          int64_t limit, struct quality_delivery *out, struct sl_diag *d);
/* What of a webhook's URL may be shown (in logs, 'sluice alerts'): its
 * scheme and host, not its user, path or query (Slack's hold the token). */
const char *quality_alert_where(const char *url, char *out, size_t len);
/* The webhooks s names, into urls (heap strings, sl_strlist). */
struct sl_strlist;
void quality_alert_webhooks(const struct alerts_settings *s, struct sl_strlist *urls);
/* The outbox's counts in Prometheus' text format. */
int quality_alert_metrics(struct catalog *cat, struct sl_buf *out, struct sl_diag *d);

#endif
