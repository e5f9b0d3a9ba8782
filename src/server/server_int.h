/*
 * server_int.h - what the API modules of the server share.
 */
#ifndef SL_SERVER_INT_H
#define SL_SERVER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "ingest/stream.h"
#include "project/project.h"
#include "server/http.h"
#include "server/server.h"
#include "server/wire.h"

struct delivery;

struct server {
    struct project *project;
    struct streams *streams;
    struct http_server *http;
    struct delivery *delivery;
    char address[128];
    unsigned char iterator_key[32]; /* signs shard iterators; kept in the lake */
    char holder[STREAM_HOLDER_MAX]; /* this node's lease holder id */
    char info[STREAM_INFO_MAX];     /* this node's URL, for the other nodes */
    _Atomic bool starting;          /* requests are turned away until start-up ends */
    _Atomic bool stopping;
    /* Metrics not kept per stream. */
    _Atomic uint64_t requests, request_errors, overloaded, too_large;
    _Atomic uint64_t commit_count, commit_us_sum;
    _Atomic uint64_t commit_bucket[8]; /* <= 1, 2, 5, 10, 25, 50, 100 ms, +Inf */
};

/* One request being answered. */
struct api_call {
    struct server *srv;
    struct http_request *req;
    struct http_response *resp;
    enum wire_format fmt;
    const char *op;        /* the operation name from X-Amz-Target */
    struct sl_arena arena; /* dies with the request */
    struct wire_writer w;  /* the response body, once started */
};

/* Start the response body as a map (in the request's format). */
void api_begin(struct api_call *c);
void api_end(struct api_call *c);
/* An AWS error response: status 400 (500 for internal errors), __type and
 * message.  Returns 0, so an operation can `return api_error(...)`. */
int api_error(struct api_call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "1 validation error detected: Value ... at 'member' failed to satisfy
 * constraint: Member must ..." */
int api_invalid(struct api_call *c, const char *member, const char *constraint);

/* An operation of an API, run on the parsed request body (a map). */
struct api_op {
    const char *name;
    void (*run)(struct api_call *c, const struct wire_value *body);
};

/* The operations of each API, NULL-terminated. */
extern const struct api_op kinesis_ops[], firehose_ops[];

/* Parse the body in the request's format and run the operation named by
 * c->op from ops (NULL-terminated); SerializationException for a body that
 * does not parse, UnknownOperationException for an operation not there. */
void api_dispatch(struct api_call *c, const struct api_op *ops, const char *service);

/*
 * Answer a request for s, a stream this node does not serve (s->served is
 * false), with an error that says which node serves it; what names what
 * the client should send there ("records", "reads", "requests").  Returns
 * 0 like api_error().
 */
int api_not_served(struct api_call *c, struct stream *s, const char *what);

/* Record a commit (group-commit wait) latency for /metrics. */
void server_note_commit(struct server *s, int64_t us);

/* A record to put, from either API. */
struct put_item {
    const char *pk;
    size_t pk_len;
    const char *ehk; /* ExplicitHashKey, or NULL */
    size_t ehk_len;
    const uint8_t *data;
    size_t data_len;
};

struct put_outcome {
    int *shard;     /* per record */
    bool *ok;       /* false: throttled */
    uint64_t *seq;  /* log sequence number of each ok record */
    size_t failed;
};

/*
 * Route, admit against the write limits, append and wait until durable.
 * 0: done (o says which records were throttled); 1: single and throttled,
 * nothing put; -1: an error response was written.
 */
int stream_put(struct api_call *c, struct stream *s, const struct put_item *recs, size_t n,
               bool single, struct put_outcome *o);

/* The API modules: each answers the operations of its target prefix. */
void kinesis_call(struct api_call *c);
void firehose_call(struct api_call *c);
/* The Kinesis fast path for JSON PutRecords/PutRecord, on the raw body. */
void kinesis_put_json(struct api_call *c, bool batch);

#endif
