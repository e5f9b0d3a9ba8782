/*
 * alerter.h - the delivery of quality gates' alerts by `sluice serve`.
 *
 * Every second the server delivers the alerts that are due
 * (quality/alert.h): those a gate raised whose webhook could not be
 * reached, retried with backoff, and - after a restart - whatever was
 * pending when the last server stopped.  One node at a time delivers (the
 * catalog lock "alerts"), so an alert is not posted twice by two nodes.
 * The outbox's counts are exported in /metrics.
 */
#ifndef SL_ALERTER_H
#define SL_ALERTER_H

#include "core/buf.h"
#include "core/diag.h"
#include "project/project.h"

struct alerter;

int alerter_start(struct project *p, struct alerter **out, struct sl_diag *d);
/* Stop it, after the delivery in progress (NULL is fine). */
void alerter_stop(struct alerter *a);
/* The outbox's counts as of the last round, in Prometheus' text format. */
void alerter_metrics(struct alerter *a, struct sl_buf *out);

#endif
