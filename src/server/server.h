/*
 * server.h - `sluice serve`: the AWS-compatible stream APIs of a project.
 *
 * One HTTP listener carries every API; awsJson requests are routed by their
 * X-Amz-Target (Kinesis_20131202.*, Firehose_20150804.*), and the server
 * also answers GET /health and GET /metrics (Prometheus text).  Behind it:
 * the stream registry and shard logs (ingest/stream.h), delivery of bound
 * streams into the raw zone, and transforms fired on arrival.
 *
 * Several servers (nodes) may share one lake and catalog: each stream is
 * served by the node holding its lease (ingest/stream.h, "Nodes"); the
 * others answer its data-plane requests with an error naming that node
 * (server.c, api_not_served) and its control-plane reads from the
 * definition.  Until start-up ends, requests get 503 (the listener comes
 * up first: the leases carry its URL).
 *
 * server_stop() is the graceful shutdown: stop accepting, finish requests
 * in flight, flush delivery buffers into raw, wait for running transforms,
 * then close the logs and release the leases, so another node takes the
 * streams over at once.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "project/project.h"

struct server;

/* Overrides from the command line; NULL/0 keeps sluice.yaml's value. */
struct server_options {
    const char *listen; /* "ADDRESS:PORT", port 0 = any free port */
    bool insecure;      /* serve a non-loopback address without credentials */
};

/*
 * Every action a key's policy may name, NULL-terminated: "kinesis:PutRecord"
 * for each operation of each API, and "sluice:GetMetrics" for /metrics.
 */
const char *const *server_actions(void);

int server_start(struct project *p, const struct server_options *o, struct server **out,
                 struct sl_diag *d);
/* How requests are authenticated, in one line for the start-up message:
 * signed by N keys, loopback only without keys, or --insecure. */
const char *server_security(const struct server *s);
/* The address and port actually listened on, e.g. "127.0.0.1:4567". */
const char *server_address(const struct server *s);
/*
 * Re-read what may change while serving (SIGHUP): the TLS certificate and
 * key, for new connections.  A failure is logged and the old ones stay.
 */
void server_reload(struct server *s);
/* Graceful stop; frees s. */
void server_stop(struct server *s);

#endif
