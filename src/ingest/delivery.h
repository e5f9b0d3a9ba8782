/*
 * delivery.h - streams into the raw zone, the Firehose part.
 *
 * Every stream bound to a source (a source file's `stream:` block) that
 * this node serves (ingest/stream.h, "Nodes") has its
 * durable records delivered into that source's raw zone as JSON-lines
 * objects, each record one line (a newline is added to a record that lacks
 * one), optionally gzipped.  An object is written when the records waiting
 * reach the stream's buffer size, or when the oldest of them has waited its
 * buffer interval, whichever comes first, and on shutdown.
 *
 * Objects are tagged like batch objects (source system, the source's latest
 * contract version) and go through the same commit protocol, with one
 * addition that makes delivery exactly-once: the shard positions delivered
 * are advanced in the same catalog transaction that records the object.  A
 * crash before it redelivers the same records, in the same order, as the
 * same bytes; a crash after it finds the object committed and published by
 * recovery.  With several nodes, the node serving a stream delivers it;
 * each delivery's transaction also checks that node's lease on the stream
 * (fencing), and a node that starts serving a stream resumes from the
 * positions committed, whoever committed them.
 *
 * Each delivered object is told to the caller (landed): `sluice serve`
 * pokes its triggers, so that a source's `on_arrival: transform` (a
 * built-in flow, flow/trigger.h) or any flow with an arrival trigger on
 * the source starts at once rather than at its next poll.
 */
#ifndef SL_INGEST_DELIVERY_H
#define SL_INGEST_DELIVERY_H

#include "core/buf.h"
#include "core/diag.h"
#include "ingest/stream.h"
#include "project/project.h"

struct delivery;

/* Told, on the delivery thread, of each new raw object of source
 * committed (the triggers look at once: flow/trigger.h). */
typedef void (*delivery_landed_fn)(void *arg, const char *source);

/* Start the delivery thread for the streams of r that this node serves;
 * landed (may be NULL) is told of each object delivered. */
int delivery_start(struct project *p, struct streams *r, delivery_landed_fn landed,
                   void *landed_arg, struct delivery **out, struct sl_diag *d);
/* Deliver everything durable, stop; NULL is fine. */
void delivery_stop(struct delivery *dl);
/* Prometheus lines: objects and records delivered. */
void delivery_metrics(struct delivery *dl, struct sl_buf *out);

#endif
