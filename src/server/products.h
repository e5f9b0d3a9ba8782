/*
 * products.h - the data products' status in `sluice serve`'s /metrics.
 *
 * A thread with its own catalog handle and store measures the products
 * sluice.yaml declares (quality/status.h) every few seconds and keeps the
 * gauges as text, so that a scrape never waits for the catalog.  With no
 * product declared no thread runs.
 */
#ifndef SL_SERVER_PRODUCTS_H
#define SL_SERVER_PRODUCTS_H

#include "core/buf.h"
#include "core/diag.h"
#include "project/project.h"

/* Seconds between measurements. */
#define PRODUCTS_EVERY 2

struct product_watch;

/* Start measuring p's products (*out NULL when it declares none). */
int product_watch_start(struct project *p, struct product_watch **out, struct sl_diag *d);
/* Stop it, after the measurement in progress (NULL is fine). */
void product_watch_stop(struct product_watch *w);
/* The sluice_product_* gauges as of the last measurement. */
void product_watch_metrics(struct product_watch *w, struct sl_buf *out);

#endif
