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
 * A source with `on_arrival: transform` has its curated transform run after
 * each delivered object, as a child process (`sluice transform`), at most
 * one per source at a time; objects landing meanwhile are picked up by one
 * more run once it ends.
 */
#ifndef SL_INGEST_DELIVERY_H
#define SL_INGEST_DELIVERY_H

#include "core/buf.h"
#include "core/diag.h"
#include "ingest/stream.h"
#include "project/project.h"

struct delivery;

/* Start the delivery thread for the streams of r that this node serves. */
int delivery_start(struct project *p, struct streams *r, struct delivery **out,
                   struct sl_diag *d);
/* Deliver everything durable, wait for transforms, stop; NULL is fine. */
void delivery_stop(struct delivery *dl);
/* Prometheus lines: objects and records delivered, transforms run. */
void delivery_metrics(struct delivery *dl, struct sl_buf *out);

#endif
