/*
 * maintain.h - the table maintenance schedule of `sluice serve`.
 *
 * Every maintenance.every seconds the server runs `sluice maintain` as a
 * child process: compaction, snapshot expiry and orphan removal of every
 * curated table (cli/cmd_tables.c), so that stream-fed tables stay near
 * their target file size with nobody running anything by hand.  A child
 * keeps a failure (or a crash) away from the server; the commit protocol
 * makes an interrupted round harmless, and the next round starts over.
 * Several nodes sharing a catalog each schedule rounds; the catalog lock
 * "maintenance" lets one run at a time.
 */
#ifndef SL_MAINTAIN_H
#define SL_MAINTAIN_H

#include "core/buf.h"
#include "core/diag.h"
#include "project/project.h"

struct maintainer;

/* Start the schedule (*out NULL when maintenance.every is 0). */
int maintainer_start(struct project *p, struct maintainer **out, struct sl_diag *d);
/* Stop it: a round in progress is asked to stop (SIGTERM) and waited for.
 * NULL is fine. */
void maintainer_stop(struct maintainer *m);
/* Its counters in the Prometheus text format. */
void maintainer_metrics(struct maintainer *m, struct sl_buf *out);

#endif
