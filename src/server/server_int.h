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
struct guard;
struct iceberg_rest;
struct maintainer;
struct alerter;
struct product_watch;
struct states_api;

struct server {
    struct project *project;
    struct streams *streams;
    struct http_server *http;
    struct delivery *delivery;
    struct maintainer *maintainer;   /* the tables' maintenance schedule, or NULL */
    struct alerter *alerter;         /* quality gates' alerts, delivered */
    struct product_watch *products;  /* the data products' gauges, or NULL */
    struct guard *guard;             /* signatures, policies, audit */
    struct iceberg_rest *rest;       /* the Iceberg REST catalog's catalog and store */
    struct states_api *states;       /* the Step Functions API and its executions */
    char address[128];
    unsigned char iterator_key[32]; /* signs shard iterators; kept in the lake */
    char holder[STREAM_HOLDER_MAX]; /* this node's lease holder id */
    char info[STREAM_INFO_MAX];     /* this node's URL, for the other nodes */
    char security[256];             /* how requests are authenticated, said at start-up */
    _Atomic bool starting;          /* requests are turned away until start-up ends */
    _Atomic bool stopping;
    /* Metrics not kept per stream. */
    _Atomic uint64_t requests, request_errors, overloaded, too_large;
    _Atomic uint64_t commit_count, commit_us_sum;
    _Atomic uint64_t commit_bucket[8]; /* <= 1, 2, 5, 10, 25, 50, 100 ms, +Inf */
};

#define API_PARAMS_MAX 4 /* path parameters a route may have */

/* One request being answered. */
struct api_call {
    struct server *srv;
    struct http_request *req;
    struct http_response *resp;
    enum wire_format fmt;
    const struct api *api;   /* the API the request is for */
    const struct api_op *op; /* its operation */
    const char *key_id;      /* the access key that signed it; NULL without keys */
    bool authorized;         /* api_authorize() allowed it */
    /* The path parameters of a route (struct api_op's path), in the
     * template's order, percent-decoded, in the arena. */
    const char *param_name[API_PARAMS_MAX];
    const char *param[API_PARAMS_MAX];
    size_t nparams;
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

/*
 * APIs are declared, not programmed against the security layer.  An API is
 * how its requests are routed, the service name that both its request
 * signatures (the SigV4 credential scope) and its actions in policies
 * ("kinesis:PutRecord") carry, and a table of operations.  Each operation
 * names the resource it acts on (below); the dispatcher authenticates the
 * request, finds that resource in the body or the path, asks the key's
 * policy, and only then runs the operation.  A new API is protected by
 * adding its table to the list in server.c.
 *
 * Two kinds of routing:
 *   AWS JSON/CBOR APIs   POST /, the operation named by X-Amz-Target
 *                        ("Kinesis_20131202.PutRecords"): struct api's
 *                        target, struct api_op's name
 *   REST APIs            the operation named by method and path: struct
 *                        api's path_prefix ("/v1/") takes every path under
 *                        it, and each struct api_op a method and a path
 *                        template whose "{name}" segments are parameters
 *                        ("/v1/namespaces/{namespace}/tables/{table}")
 */

/*
 * Where an operation's resource is named, as the ARN a policy's Resource
 * is matched against: arn:aws:<service>:<region>:<account>:<type>/<name>.
 * The first of these that the body has is used: arn_member (a whole ARN,
 * taken as given: the operation checks that it is well formed), then
 * name_member, then from_token (a resource named inside a token the
 * server issued, such as a shard iterator).  A body naming none is judged
 * against the name "*", which only a key allowed every resource of the
 * type passes; the operation then refuses the body itself.
 */
struct api_resource {
    const char *type;        /* "stream", "deliverystream", "table" */
    const char *name_member; /* "StreamName" */
    const char *arn_member;  /* "StreamARN", or NULL */
    /* The resource's name from a token in body, into name; false if the
     * body has no such token or it names nothing (no error response). */
    bool (*from_token)(struct api_call *c, const struct wire_value *body, char *name,
                       size_t size);
    /* REST: the name from path parameters, a template such as
     * "{namespace}/{table}"; the members above are then unused. */
    const char *path_name;
};

/* An operation of an API. */
struct api_op {
    const char *name;                /* "PutRecords"; the action is "<service>:<name>" */
    const struct api_resource *res;  /* NULL: the action takes no resource ("*") */
    /* The operation, on the parsed request body (a map); for a REST API
     * body is NULL and the operation reads c->req->body itself. */
    void (*run)(struct api_call *c, const struct wire_value *body);
    /* Optional: the operation on the raw JSON body, without a tree (the
     * puts).  It must call api_authorize() once it has found the resource
     * and stop if that refuses. */
    void (*run_json)(struct api_call *c);
    /* REST: the method ("GET") and path template the operation answers. */
    const char *method;
    const char *path;
};

struct api {
    const char *target;   /* X-Amz-Target prefix: "Kinesis_20131202"; NULL: REST */
    const char *service;  /* SigV4 scope and action prefix: "kinesis" */
    const char *title;    /* in messages: "Kinesis" */
    const struct api_op *ops; /* NULL-terminated */
    /* REST: every path starting with this is the API's ("/v1/"). */
    const char *path_prefix;
    /* The API's error body for status, type and message, the security
     * layer's refusals included (NULL: AWS JSON's __type and message). */
    void (*error_body)(struct http_response *resp, int status, const char *type,
                       const char *msg);
};

extern const struct api kinesis_api, firehose_api, iceberg_api, states_api;

/* A path parameter of c's route by name, or NULL. */
const char *api_param(const struct api_call *c, const char *name);

/* Count an error response of c for /metrics (api_error() does). */
void api_count_error(struct api_call *c);

/* The Step Functions API's connection, the pool running executions and
 * the triggers starting them (flow/trigger.h), made at start and stopped
 * at stop (executions in progress stay RUNNING, for the next server to
 * resume); and their metrics. */
int states_open(struct server *srv, struct sl_diag *d);
void states_close(struct server *srv);
void states_metrics(struct server *srv, struct sl_buf *out);
/* A delivery committed an object of source (arg is the server): the
 * triggers look at once (delivery_landed_fn). */
void states_landed(void *arg, const char *source);

/* The REST catalog's state, made at start and freed at stop. */
int iceberg_rest_open(struct server *srv, struct sl_diag *d);
void iceberg_rest_close(struct server *srv);

/*
 * May the request's key do c->op on the resource named by name or arn
 * (either may be NULL)?  True, or false after an AccessDeniedException
 * response (written to the audit log and counted).  api_dispatch() calls
 * it for every operation; run_json operations call it themselves.
 */
bool api_authorize(struct api_call *c, const char *name, size_t name_len, const char *arn,
                   size_t arn_len);

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


#endif
