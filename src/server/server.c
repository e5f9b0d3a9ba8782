/*
 * server.c - `sluice serve`: routing, AWS error shapes, health, metrics,
 * start-up and graceful stop (see server.h).
 */
#include "server/server.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "commit/commit.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strlist.h"
#include "ingest/delivery.h"
#include "server/guard.h"
#include "server/alerter.h"
#include "server/maintain.h"
#include "server/products.h"
#include "server/route.h"
#include "server/server_int.h"
#include "store/layout.h"
#include "core/banned.h"

/* ---- responses ----------------------------------------------------------- */

void
api_begin(struct api_call *c)
{
    wire_writer_init(&c->w, c->fmt, &c->resp->body);
    wire_map_begin(&c->w);
}

void
api_end(struct api_call *c)
{
    wire_map_end(&c->w);
    c->resp->status = 200;
    c->resp->content_type = wire_content_type(c->fmt);
}

static void
error_body(struct http_response *resp, enum wire_format fmt, int status, const char *type,
           const char *msg)
{
    struct wire_writer w;

    sl_buf_reset(&resp->body);
    wire_writer_init(&w, fmt, &resp->body);
    wire_map_begin(&w);
    wire_key(&w, "__type");
    wire_strz(&w, type);
    wire_key(&w, "message");
    wire_strz(&w, msg);
    wire_map_end(&w);
    resp->status = status;
    resp->content_type = wire_content_type(fmt);
}

/* An error response in c's API's shape (AWS's without an API). */
static void
error_out(struct api_call *c, int status, const char *type, const char *msg)
{
    if (c->api != NULL && c->api->error_body != NULL) {
        sl_buf_reset(&c->resp->body);
        c->api->error_body(c->resp, status, type, msg);
    } else {
        error_body(c->resp, c->fmt, status, type, msg);
    }
}

void
api_count_error(struct api_call *c)
{
    atomic_fetch_add(&c->srv->request_errors, 1);
}

const char *
api_param(const struct api_call *c, const char *name)
{
    for (size_t i = 0; i < c->nparams; i++)
        if (strcmp(c->param_name[i], name) == 0)
            return c->param[i];
    return NULL;
}

int
api_error(struct api_call *c, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int status = strncmp(type, "InternalFailure", 15) == 0         ? 500
                 : strcmp(type, "ServiceUnavailableException") == 0 ? 503
                                                                    : 400;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    atomic_fetch_add(&c->srv->request_errors, 1);
    SL_DEBUG("server", "%s: %s: %s", c->op ? c->op->name : "-", type, msg);
    error_out(c, status, type, msg);
    return 0;
}

int
api_invalid(struct api_call *c, const char *member, const char *constraint)
{
    return api_error(c, "ValidationException",
                     "1 validation error detected: Value at '%s' failed to satisfy "
                     "constraint: %s",
                     member, constraint);
}

/*
 * A stream held by another node: ResourceInUseException, HTTP 400, naming
 * that node and its URL.  Of the Kinesis and Firehose error names it is
 * the one for "the stream exists but is not in a state to take this
 * request" (both services answer it for a stream being created, updated or
 * deleted), and clients do not retry it: neither of botocore's retry modes
 * (aws-apis.md 0.3) retries a 400 that is not a throttling code, and
 * retrying this node cannot succeed - the client must go to the other one,
 * so the message says where.  A throttling code would make clients retry
 * the wrong node in vain and hide the redirect; ResourceNotFoundException
 * would be false (and DescribeStream on this node finds the stream).
 *
 * No node serves it right now (its node stopped renewing the lease and no
 * node has taken it yet, or this node is taking it over and waits for the
 * previous one to close its logs): ServiceUnavailableException, HTTP 503,
 * which every AWS client retries with backoff; within a lease round a node
 * serves it.  Firehose models that name; for Kinesis it is the status that
 * makes clients retry.
 */
int
api_not_served(struct api_call *c, struct stream *s, const char *what)
{
    bool fh = strcmp(s->def.kind, "firehose") == 0;
    struct stream_owner o;

    stream_owner(s, &o);
    if (o.state == STREAM_OWNER_OTHER)
        return api_error(c, "ResourceInUseException",
                         "%s %s is served by node %s at %s; send its %s there.",
                         fh ? "Firehose" : "Stream", s->def.name, o.holder,
                         o.info[0] ? o.info : "an unknown address", what);
    if (o.state == STREAM_OWNER_TAKING)
        return api_error(c, "ServiceUnavailableException",
                         "%s %s is being taken over by this node%s%s%s; retry shortly.",
                         fh ? "Firehose" : "Stream", s->def.name,
                         o.holder[0] ? " from node " : "", o.holder,
                         o.holder[0] ? ", which has not let go of it yet" : "");
    return api_error(c, "ServiceUnavailableException",
                     "No node serves %s %s at the moment%s%s%s; a node takes it over within "
                     "%lld seconds; retry shortly.",
                     fh ? "Firehose" : "stream", s->def.name,
                     o.holder[0] ? " (its last node, " : "", o.holder,
                     o.holder[0] ? ", no longer holds its lease)" : "",
                     (long long)c->srv->project->config.server.lease_ttl);
}

/* ---- the security layer ------------------------------------------------- */

/* Every API the server has; adding one here puts it behind the layer. */
static const struct api *const apis[] = {&kinesis_api, &firehose_api, &iceberg_api,
                                         &states_api};

static void
refusal_body(struct api_call *c, const struct guard_refusal *r)
{
    atomic_fetch_add(&c->srv->request_errors, 1);
    error_out(c, r->status, r->type, r->message);
}

bool
api_authorize(struct api_call *c, const char *name, size_t name_len, const char *arn,
              size_t arn_len)
{
    const struct api_resource *res = c->op->res;
    struct guard_refusal r;
    char action[128], resource[2200];

    snprintf(action, sizeof(action), "%s:%s", c->api->service, c->op->name);
    if (res == NULL)
        snprintf(resource, sizeof(resource), "*");
    else if (arn != NULL && arn_len < 2048)
        snprintf(resource, sizeof(resource), "%.*s", (int)arn_len, arn);
    else
        /* "stream/NAME"; a type ending in ':' ("stateMachine:") makes
         * "stateMachine:NAME", as Step Functions' ARNs are spelt. */
        snprintf(resource, sizeof(resource), "arn:aws:%s:%s:%s:%s%s%.*s", c->api->service,
                 c->srv->project->config.server.region, STREAM_ACCOUNT, res->type,
                 res->type[strlen(res->type) - 1] == ':' ? "" : "/",
                 name != NULL && name_len <= 256 ? (int)name_len : 1,
                 name != NULL && name_len <= 256 ? name : "*");
    if (guard_authorize(c->srv->guard, c->key_id, action, resource, c->req->peer, &r)) {
        c->authorized = true;
        return true;
    }
    refusal_body(c, &r);
    return false;
}

/* The resource of c->op as its path parameters name it: res->path_name
 * with each "{name}" replaced by the parameter. */
static bool
authorize_path(struct api_call *c)
{
    const struct api_resource *res = c->op->res;
    char name[600];
    size_t n = 0;

    if (res == NULL)
        return api_authorize(c, NULL, 0, NULL, 0);
    for (const char *t = res->path_name; *t != '\0' && n < sizeof(name) - 1;) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;

        if (close == NULL) {
            name[n++] = *t++;
            continue;
        }
        for (size_t i = 0; i < c->nparams; i++)
            if (strlen(c->param_name[i]) == (size_t)(close - t - 1) &&
                strncmp(c->param_name[i], t + 1, (size_t)(close - t - 1)) == 0)
                n += (size_t)snprintf(name + n, sizeof(name) - n, "%s", c->param[i]);
        if (n >= sizeof(name))
            n = sizeof(name) - 1;
        t = close + 1;
    }
    name[n] = '\0';
    return api_authorize(c, name, n, NULL, 0);
}

/* The resource of c->op as the body names it (struct api_resource). */
static bool
authorize_body(struct api_call *c, const struct wire_value *body)
{
    const struct api_resource *res = c->op->res;
    const struct wire_value *v;
    char name[256];

    if (res == NULL)
        return api_authorize(c, NULL, 0, NULL, 0);
    if (res->arn_member != NULL && (v = wire_get(body, res->arn_member)) != NULL &&
        v->type == WIRE_STRING)
        return api_authorize(c, NULL, 0, v->u.s.p, v->u.s.n);
    if (res->name_member != NULL && (v = wire_get(body, res->name_member)) != NULL &&
        v->type == WIRE_STRING)
        return api_authorize(c, v->u.s.p, v->u.s.n, NULL, 0);
    if (res->from_token != NULL && res->from_token(c, body, name, sizeof(name)))
        return api_authorize(c, name, strlen(name), NULL, 0);
    return api_authorize(c, NULL, 0, NULL, 0);
}

/*
 * Run the operation c->op: on the raw JSON body if it has a way to, else
 * on the parsed body, once authorized.  An operation that answers 200
 * without having been authorized is a bug in its declaration (a run_json
 * that does not call api_authorize()); it is refused, not served.
 */
static void
dispatch(struct api_call *c)
{
    struct wire_value body;
    struct sl_diag d = {0};

    if (c->api->target == NULL) {
        if (authorize_path(c))
            c->op->run(c, NULL);
    } else if (c->fmt == WIRE_JSON && c->op->run_json != NULL) {
        c->op->run_json(c);
    } else if (wire_parse(c->fmt, c->req->body, c->req->body_len, &c->arena, &body, &d) < 0) {
        api_error(c, "SerializationException", "%s", d.msg);
    } else if (body.type != WIRE_MAP) {
        api_error(c, "SerializationException", "the request body must be a structure");
    } else if (authorize_body(c, &body)) {
        c->op->run(c, &body);
    }
    if (c->resp->status >= 200 && c->resp->status < 300 && !c->authorized) {
        SL_ERROR("server", "%s:%s answered without authorization: refused", c->api->service,
                 c->op->name);
        api_error(c, "InternalFailure", "The operation could not be authorized.");
    }
}

/* ---- actions ------------------------------------------------------------ */

static const char **all_actions;

static void
list_actions(void)
{
    size_t n = 1, k = 0;

    for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++)
        for (const struct api_op *op = apis[a]->ops; op->name != NULL; op++)
            n++;
    all_actions = sl_calloc(n + 1, sizeof(*all_actions));
    for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++)
        for (const struct api_op *op = apis[a]->ops; op->name != NULL; op++)
            all_actions[k++] = sl_printf("%s:%s", apis[a]->service, op->name);
    all_actions[k++] = "sluice:GetMetrics";
    all_actions[k] = NULL;
}

const char *const *
server_actions(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, list_actions);
    return all_actions;
}

void
server_note_commit(struct server *s, int64_t us)
{
    static const int64_t bounds_us[7] = {1000, 2000, 5000, 10000, 25000, 50000, 100000};
    int b = 0;

    while (b < 7 && us > bounds_us[b])
        b++;
    atomic_fetch_add(&s->commit_bucket[b], 1);
    atomic_fetch_add(&s->commit_count, 1);
    atomic_fetch_add(&s->commit_us_sum, (uint64_t)us);
}

static void
request_id(struct http_response *resp)
{
    unsigned char r[16];
    char id[40];

    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
        memset(r, 0, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(id, sizeof(id),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
             r[15]);
    http_response_header(resp, "x-amzn-RequestId", id);
}

/* ---- metrics ------------------------------------------------------------- */

struct metrics_ctx {
    struct sl_buf *b;
    int which;
};

static int
stream_metric(void *arg, struct stream *s)
{
    struct metrics_ctx *m = arg;
    const char *kind = s->def.kind;

    switch (m->which) {
    case 0:
        sl_buf_addf(m->b, "sluice_stream_records_in_total{stream=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                    s->def.name, kind, atomic_load(&s->records_in));
        break;
    case 1:
        sl_buf_addf(m->b, "sluice_stream_bytes_in_total{stream=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                    s->def.name, kind, atomic_load(&s->bytes_in));
        break;
    case 2:
        sl_buf_addf(m->b,
                    "sluice_stream_throttled_records_total{stream=\"%s\",kind=\"%s\"} %" PRIu64
                    "\n",
                    s->def.name, kind, atomic_load(&s->throttled));
        break;
    case 3:
        sl_buf_addf(m->b,
                    "sluice_stream_records_out_total{stream=\"%s\",kind=\"%s\"} %" PRIu64 "\n",
                    s->def.name, kind, atomic_load(&s->records_out));
        break;
    case 4:
        if (s->def.source != NULL && s->served)
            sl_buf_addf(m->b, "sluice_delivery_lag_seconds{stream=\"%s\",source=\"%s\"} %.3f\n",
                        s->def.name, s->def.source,
                        (double)atomic_load(&s->delivery_lag_ms) / 1000.0);
        break;
    case 5:
        sl_buf_addf(m->b, "sluice_stream_served{stream=\"%s\",kind=\"%s\"} %d\n",
                    s->def.name, kind, s->served ? 1 : 0);
        break;
    }
    return 0;
}

/* The names of the streams this node serves, as a JSON array's members. */
static int
served_name(void *arg, struct stream *s)
{
    struct sl_buf *b = arg;

    if (s->served) {
        if (b->len > 0 && b->data[b->len - 1] != '[')
            sl_buf_addc(b, ',');
        sl_buf_add_json_str(b, s->def.name, strlen(s->def.name));
    }
    return 0;
}

/* The HTTP layer's connection counters (http.h, struct http_stats). */
static void
http_metrics(struct server *srv, struct sl_buf *b)
{
    struct http_stats st;

    http_stats(srv->http, &st);
    sl_buf_addf(b,
                "# HELP sluice_http_connections_total Connections accepted, and what "
                "became of those over the limits.\n"
                "# TYPE sluice_http_connections_total counter\n"
                "sluice_http_connections_total{outcome=\"accepted\"} %" PRIu64 "\n"
                "sluice_http_connections_total{outcome=\"evicted\"} %" PRIu64 "\n"
                "sluice_http_connections_total{outcome=\"admitted_waiting\"} %" PRIu64 "\n"
                "sluice_http_connections_total{outcome=\"refused_busy\"} %" PRIu64 "\n"
                "sluice_http_connections_total{outcome=\"refused_per_address\"} %" PRIu64 "\n"
                "sluice_http_connections_total{outcome=\"closed_unanswered\"} %" PRIu64 "\n"
                "# HELP sluice_http_connections_open Connections open now.\n"
                "# TYPE sluice_http_connections_open gauge\n"
                "sluice_http_connections_open %" PRIu64 "\n"
                "# HELP sluice_http_dropped_total Connections dropped by a deadline or "
                "answered 400 for their framing.\n"
                "# TYPE sluice_http_dropped_total counter\n"
                "sluice_http_dropped_total{reason=\"header_timeout\"} %" PRIu64 "\n"
                "sluice_http_dropped_total{reason=\"body_rate\"} %" PRIu64 "\n"
                "sluice_http_dropped_total{reason=\"idle\"} %" PRIu64 "\n"
                "sluice_http_dropped_total{reason=\"bad_request\"} %" PRIu64 "\n",
                st.accepted, st.evicted, st.admitted_waiting, st.refused_busy, st.refused_per_address,
                st.closed_unanswered, st.open, st.dropped_header_timeout,
                st.dropped_body_rate, st.dropped_idle, st.bad_request);
    sl_buf_addf(b,
                "# HELP sluice_http_connections_reading Open connections reading a "
                "request's head or body now.\n"
                "# TYPE sluice_http_connections_reading gauge\n"
                "sluice_http_connections_reading{part=\"head\"} %" PRIu64 "\n"
                "sluice_http_connections_reading{part=\"body\"} %" PRIu64 "\n",
                st.reading_head, st.reading_body);
}

static void
metrics(struct server *srv, struct sl_buf *b)
{
    static const struct {
        const char *name, *type, *help;
    } per_stream[] = {
        {"sluice_stream_records_in_total", "counter", "records acknowledged by puts"},
        {"sluice_stream_bytes_in_total", "counter", "bytes of data and keys acknowledged"},
        {"sluice_stream_throttled_records_total", "counter",
         "records refused by a shard's write limit (alarm on this: write throttling)"},
        {"sluice_stream_records_out_total", "counter", "records returned by GetRecords"},
        {"sluice_delivery_lag_seconds", "gauge",
         "age of the oldest record not yet delivered into the raw zone"},
        {"sluice_stream_served", "gauge",
         "1 if this node serves the stream (holds its lease, has its logs open), else 0"},
    };
    static const char *const le[8] = {"0.001", "0.002", "0.005", "0.01",
                                      "0.025", "0.05",  "0.1",   "+Inf"};
    uint64_t cum = 0;

    sl_buf_addf(b,
                "# HELP sluice_requests_total API requests answered.\n"
                "# TYPE sluice_requests_total counter\n"
                "sluice_requests_total %" PRIu64 "\n"
                "# HELP sluice_request_errors_total API requests answered with an error.\n"
                "# TYPE sluice_request_errors_total counter\n"
                "sluice_request_errors_total %" PRIu64 "\n"
                "# HELP sluice_requests_refused_total Requests refused before their body "
                "was read.\n"
                "# TYPE sluice_requests_refused_total counter\n"
                "sluice_requests_refused_total{reason=\"overloaded\"} %" PRIu64 "\n"
                "sluice_requests_refused_total{reason=\"too_large\"} %" PRIu64 "\n",
                atomic_load(&srv->requests), atomic_load(&srv->request_errors),
                atomic_load(&srv->overloaded), atomic_load(&srv->too_large));
    for (int i = 0; i < 6; i++) {
        struct metrics_ctx m = {b, i};

        sl_buf_addf(b, "# HELP %s %s.\n# TYPE %s %s\n", per_stream[i].name, per_stream[i].help,
                    per_stream[i].name, per_stream[i].type);
        streams_each(srv->streams, stream_metric, &m);
    }
    sl_buf_adds(b, "# HELP sluice_commit_seconds Time a put waits for its records to be "
                   "durable (group commit).\n"
                   "# TYPE sluice_commit_seconds histogram\n");
    for (int i = 0; i < 8; i++) {
        cum += atomic_load(&srv->commit_bucket[i]);
        sl_buf_addf(b, "sluice_commit_seconds_bucket{le=\"%s\"} %" PRIu64 "\n", le[i], cum);
    }
    sl_buf_addf(b,
                "sluice_commit_seconds_sum %.6f\n"
                "sluice_commit_seconds_count %" PRIu64 "\n",
                (double)atomic_load(&srv->commit_us_sum) / 1e6, atomic_load(&srv->commit_count));
    sl_buf_addf(b,
                "# HELP sluice_stream_takeovers_total Streams this node took over from "
                "another node.\n"
                "# TYPE sluice_stream_takeovers_total counter\n"
                "sluice_stream_takeovers_total %" PRIu64 "\n"
                "# HELP sluice_lease_rounds_total Lease rounds (renew, take over) that "
                "reached the catalog.\n"
                "# TYPE sluice_lease_rounds_total counter\n"
                "sluice_lease_rounds_total %" PRIu64 "\n",
                streams_takeovers(srv->streams), streams_rounds(srv->streams));
    http_metrics(srv, b);
    if (srv->delivery != NULL)
        delivery_metrics(srv->delivery, b);
    maintainer_metrics(srv->maintainer, b);
    alerter_metrics(srv->alerter, b);
    states_metrics(srv, b);
    product_watch_metrics(srv->products, b);
    commit_metrics(b);
    guard_metrics(srv->guard, b);
}

/* ---- routing ------------------------------------------------------------- */

static enum wire_format
request_format(const struct http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    enum wire_format f = WIRE_JSON;

    if (ct != NULL)
        wire_format_of(ct, &f);
    return f;
}

/* The API an X-Amz-Target ("<api target>.<operation>") names, or NULL;
 * *op its operation, or NULL if the API does not have it. */
static const struct api *
find_api(const char *target, const struct api_op **op)
{
    const char *dot = target ? strchr(target, '.') : NULL;

    *op = NULL;
    if (dot == NULL)
        return NULL;
    for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++) {
        size_t n;

        if (apis[a]->target == NULL)
            continue; /* a REST API */
        n = strlen(apis[a]->target);
        if ((size_t)(dot - target) != n || strncmp(target, apis[a]->target, n) != 0)
            continue;
        for (const struct api_op *o = apis[a]->ops; o->name != NULL; o++)
            if (strcmp(o->name, dot + 1) == 0)
                *op = o;
        return apis[a];
    }
    return NULL;
}

/* The REST API whose path_prefix the request's path has, or NULL. */
static const struct api *
find_rest_api(const struct http_request *req)
{
    for (size_t a = 0; a < sizeof(apis) / sizeof(apis[0]); a++)
        if (apis[a]->path_prefix != NULL &&
            strncmp(req->target, apis[a]->path_prefix, strlen(apis[a]->path_prefix)) == 0)
            return apis[a];
    return NULL;
}

/*
 * c->op and its path parameters for a request to REST API c->api, matched
 * on the path as sent (route.h).  False after an error response: no
 * operation has the path (404) or the method (405), or a parameter is
 * malformed (400).
 */
static bool
route_rest(struct api_call *c)
{
    const char *target = c->req->target;
    size_t n = strcspn(target, "?#");
    char *scratch = sl_arena_alloc(&c->arena, n + ROUTE_PARAMS_MAX);
    bool path_known = false;

    for (const struct api_op *o = c->api->ops; o->name != NULL; o++) {
        struct route_params p;
        enum route_result r = route_match(o->path, target, n, scratch, &p);

        if (r == ROUTE_NO_MATCH)
            continue;
        path_known = true;
        if (strcmp(o->method, c->req->method) != 0)
            continue;
        c->op = o;
        if (r == ROUTE_BAD) {
            api_count_error(c);
            error_out(c, 400, "BadRequestException",
                      "A path parameter has a malformed percent-escape, or decodes to a NUL "
                      "or a '/'.");
            return false;
        }
        c->nparams = p.n;
        for (size_t i = 0; i < p.n; i++) {
            c->param_name[i] = sl_arena_strndup(&c->arena, p.name[i], p.name_len[i]);
            c->param[i] = p.value[i];
        }
        return true;
    }
    api_count_error(c);
    if (path_known) {
        char msg[200];

        snprintf(msg, sizeof(msg), "%s does not answer %s on this path.", c->api->title,
                 c->req->method);
        error_out(c, 405, "MethodNotAllowedException", msg);
    } else {
        error_out(c, 404, "NoSuchRouteException", "No operation has this path.");
    }
    return false;
}

/*
 * c->api and c->op from the request's X-Amz-Target.  False after an error
 * response for a request no API takes; c->op stays NULL for an operation
 * the API does not have (answered after authentication, as AWS does).
 */
static bool
route(struct api_call *c)
{
    const char *target = http_header(c->req, "X-Amz-Target");

    c->api = find_api(target, &c->op);
    if (c->api != NULL)
        return true;
    if (target == NULL)
        api_error(c, "UnknownOperationException", "The request has no X-Amz-Target header.");
    else if (strchr(target, '.') == NULL)
        api_error(c, "UnknownOperationException", "X-Amz-Target '%s' names no operation.",
                  target);
    else
        api_error(c, "UnknownOperationException", "X-Amz-Target '%s' is not served here.",
                  target);
    return false;
}

/*
 * Who signed c's request, when the server has keys: with whole false from
 * its head alone (check(), before the body is read: an unsigned 10 MiB put
 * costs no read), else with its body.  False after an error response.
 */
static bool
authenticate(struct api_call *c, bool whole)
{
    struct guard_refusal r;
    char *key_id;

    if (!guard_keys(c->srv->guard))
        return true;
    key_id = sl_arena_alloc(&c->arena, GUARD_KEY_ID_MAX);
    if (!guard_authenticate(c->srv->guard, c->req, c->api ? c->api->service : NULL, whole,
                            key_id, &r)) {
        refusal_body(c, &r);
        return false;
    }
    c->key_id = key_id;
    return true;
}

/* GET /metrics: on loopback, or to a key allowed sluice:GetMetrics. */
static bool
metrics_allowed(struct server *srv, struct http_request *req, struct http_response *resp)
{
    struct api_call c = {.srv = srv, .req = req, .resp = resp, .fmt = WIRE_JSON};
    static const struct api metrics_api = {"", "sluice", "sluice", NULL, NULL, NULL};
    static const struct api_op get_metrics = {"GetMetrics", NULL, NULL, NULL, NULL, NULL};
    bool ok;

    if (guard_loopback(req->peer))
        return true;
    if (!guard_keys(srv->guard)) {
        struct guard_refusal r = {403, "AccessDeniedException", ""};

        snprintf(r.message, sizeof(r.message), "/metrics is served on loopback only, or to a "
                 "signed request whose key may sluice:GetMetrics.");
        refusal_body(&c, &r);
        return false;
    }
    c.api = &metrics_api;
    c.op = &get_metrics;
    sl_arena_init(&c.arena, 4096);
    ok = authenticate(&c, true) && api_authorize(&c, NULL, 0, NULL, 0);
    sl_arena_release(&c.arena);
    return ok;
}

static bool
check(void *ctx, struct http_request *req, enum http_refusal why,
      struct http_response *resp)
{
    struct server *srv = ctx;

    if (why == HTTP_OK && !atomic_load(&srv->starting)) {
        struct api_call c = {.srv = srv, .req = req, .resp = resp, .fmt = request_format(req)};
        bool ok;

        const struct api *rest = find_rest_api(req);

        if ((strcmp(req->method, "POST") != 0 && rest == NULL) || !guard_keys(srv->guard))
            return true;
        sl_arena_init(&c.arena, 4096);
        /* A target no API takes is answered in handle(), once signed; the
         * service of its scope is not checked here. */
        c.api = rest != NULL ? rest : find_api(http_header(req, "X-Amz-Target"), &c.op);
        ok = authenticate(&c, false);
        sl_arena_release(&c.arena);
        if (!ok)
            request_id(resp);
        /* The signature covers the body's hash: have it taken as the body
         * arrives. */
        req->hash_body = ok;
        return ok;
    }
    request_id(resp);
    if (why == HTTP_OK) {
        /* The listener comes up first (the other nodes learn its URL from
         * this node's leases); requests wait for the streams.  Clients
         * retry a 503. */
        if (strcmp(req->path, "/health") == 0) {
            resp->status = 503;
            resp->content_type = "application/json";
            sl_buf_adds(&resp->body, "{\"status\":\"starting\"}\n");
        } else {
            error_body(resp, request_format(req), 503, "ServiceUnavailableException",
                       "The server is starting; retry shortly.");
        }
        return false;
    }
    if (why == HTTP_BUSY) {
        /* Over the connection limits with nothing to evict: a 503, which
         * every AWS client retries with backoff. */
        error_body(resp, request_format(req), 503, "ServiceUnavailableException",
                   "The server has too many connections open; retry shortly.");
        return false;
    }
    if (why == HTTP_TOO_LARGE) {
        char msg[200];

        atomic_fetch_add(&srv->too_large, 1);
        snprintf(msg, sizeof(msg),
                 "The request body of %lld bytes is larger than this server accepts.",
                 (long long)req->content_length);
        error_body(resp, request_format(req), 400, "InvalidArgumentException", msg);
    } else {
        /* A throttling error: every AWS client backs off and retries. */
        atomic_fetch_add(&srv->overloaded, 1);
        error_body(resp, request_format(req), 400, "ProvisionedThroughputExceededException",
                   "The server is busy with other requests; slow down and retry.");
    }
    return false;
}

static void
handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct server *srv = ctx;
    struct api_call c = {.srv = srv, .req = req, .resp = resp};

    atomic_fetch_add(&srv->requests, 1);
    if ((strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) &&
        find_rest_api(req) == NULL) {
        if (strcmp(req->path, "/health") == 0) {
            resp->status = atomic_load(&srv->stopping) ? 503 : 200;
            resp->content_type = "application/json";
            sl_buf_addf(&resp->body, "{\"status\":\"%s\",\"node\":",
                        resp->status == 200 ? "ok" : "stopping");
            sl_buf_add_json_str(&resp->body, srv->holder, strlen(srv->holder));
            sl_buf_addf(&resp->body, ",\"streams\":%zu,\"served\":[",
                        streams_count(srv->streams));
            streams_each(srv->streams, served_name, &resp->body);
            sl_buf_adds(&resp->body, "]}\n");
            return;
        }
        if (strcmp(req->path, "/metrics") == 0) {
            if (!metrics_allowed(srv, req, resp))
                return;
            resp->status = 200;
            resp->content_type = "text/plain; version=0.0.4";
            metrics(srv, &resp->body);
            return;
        }
        resp->status = 404;
        resp->content_type = "text/plain";
        sl_buf_adds(&resp->body, "not found: sluice serves POST / (AWS APIs), /v1/ (the "
                                 "Iceberg REST catalog), GET /health and GET /metrics\n");
        return;
    }
    request_id(resp);
    c.fmt = request_format(req);
    sl_arena_init(&c.arena, 64 * 1024);
    c.api = find_rest_api(req);
    if (c.api != NULL) {
        c.fmt = WIRE_JSON;
        if (authenticate(&c, true) && route_rest(&c))
            dispatch(&c);
    } else if (strcmp(req->method, "POST") != 0) {
        api_error(&c, "UnknownOperationException", "%s is not supported; AWS APIs use POST.",
                  req->method);
    } else if (route(&c) && authenticate(&c, true)) {
        if (c.op == NULL)
            api_error(&c, "UnknownOperationException", "%s operation %s is not supported.",
                      c.api->title, strchr(http_header(req, "X-Amz-Target"), '.') + 1);
        else
            dispatch(&c);
    }
    sl_arena_release(&c.arena);
}

/* ---- start and stop ------------------------------------------------------ */

/* The key that signs shard iterators, kept in the lake so iterators survive
 * a restart and work on every node.  Nodes starting together on a new lake
 * must agree on one: each writes its own under a name of its own and links
 * it into place, which fails if another's got there first - then that one
 * is read. */
static int
iterator_key(struct server *srv, struct sl_diag *d)
{
    char *path = layout_iterator_secret_file(srv->project->lake);
    char *mine = sl_printf("%s.%ld", path, (long)getpid());
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    rc = sl_read_file(path, 1024, &b, d);
    if (rc == -ENOENT) {
        sl_diag_init(d);
        if (getrandom(srv->iterator_key, sizeof(srv->iterator_key), 0) !=
            (ssize_t)sizeof(srv->iterator_key)) {
            rc = sl_fail(d, -errno, "cannot get random bytes");
            goto out;
        }
        rc = sl_write_file_atomic(mine, srv->iterator_key, sizeof(srv->iterator_key), d);
        if (rc == 0 && link(mine, path) < 0 && errno != EEXIST)
            rc = sl_fail(d, -errno, "cannot link '%s': %s", path, strerror(errno));
        unlink(mine);
        if (rc < 0)
            goto out;
        char *dir = sl_dirname(path);

        rc = sl_fsync_dir(dir, d);
        free(dir);
        if (rc == 0)
            rc = sl_read_file(path, 1024, &b, d);
    }
    if (rc == 0) {
        if (b.len != sizeof(srv->iterator_key))
            rc = sl_fail(d, SL_ERR_CORRUPT, "'%s' should hold %zu bytes, not %zu", path,
                         sizeof(srv->iterator_key), b.len);
        else
            memcpy(srv->iterator_key, b.data, b.len);
    }
out:
    sl_buf_release(&b);
    free(mine);
    free(path);
    return rc;
}

struct undeclared {
    struct server *srv;
    struct sl_strlist *declared; /* stream names the source files declare */
    struct sl_strlist gone;      /* declared streams they no longer do */
};

static int
no_longer_declared(void *arg, struct stream *s)
{
    struct undeclared *u = arg;

    if (s->def.declared && !sl_strlist_has(u->declared, s->def.name))
        sl_strlist_add(&u->gone, s->def.name);
    return 0;
}

/*
 * A stream whose declaration left its source file stays, records and all
 * (removing a line must not delete data), but is no longer declared: the
 * APIs may then delete or change it like one they created.
 */
static int
undeclare_streams(struct server *srv, struct sl_strlist *declared, struct sl_diag *d)
{
    struct undeclared u = {srv, declared, {0}};
    int rc = 0;

    streams_each(srv->streams, no_longer_declared, &u);
    for (size_t i = 0; i < u.gone.n && rc == 0; i++) {
        struct stream *s = streams_get(srv->streams, u.gone.v[i], strlen(u.gone.v[i]));

        if (s == NULL)
            continue;
        struct catalog_stream def = s->def;

        def.declared = false;
        rc = streams_update(srv->streams, s, &def, d);
        if (rc == 0)
            SL_INFO("server", "stream %s is no longer declared by source %s: it stays, "
                    "with its records, until DeleteStream", s->def.name,
                    s->def.source ? s->def.source : "-");
        stream_release(s);
    }
    sl_strlist_release(&u.gone);
    return rc;
}

/* Streams declared in source files exist from start-up on; one that
 * another node declared already is simply there. */
static int
declare_streams(struct server *srv, struct sl_diag *d)
{
    const char **names;
    struct sl_strlist declared = {0};
    size_t n;
    int rc = project_source_names(srv->project, &names, &n, d);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct source *src;
        struct stream *s;

        rc = project_source(srv->project, names[i], &src, d);
        if (rc < 0 || !src->stream.declared)
            continue;
        const struct source_stream *st = &src->stream;

        sl_strlist_add(&declared, st->name);
        struct catalog_stream def = {
            .name = st->name,
            .kind = st->kind,
            .mode = "PROVISIONED",
            .shards = strcmp(st->kind, "firehose") == 0 ? 1 : st->shards,
            .retention_hours = st->retention_hours,
            .max_record_bytes = st->max_record_size,
            .write_bytes = st->write_limit_bytes,
            .write_records = st->write_limit_records,
            .source = src->name,
            .buffer_bytes = st->buffer_size,
            .buffer_ms = st->buffer_interval * 1000,
            .compression = st->compression,
            .declared = true,
        };

        s = streams_get(srv->streams, st->name, strlen(st->name));
        if (s == NULL) {
            rc = streams_create(srv->streams, &def, d);
            if (rc == 0) {
                SL_INFO("server", "created %s stream %s for source %s (%lld shards)",
                        st->kind, st->name, src->name, (long long)def.shards);
                continue;
            }
            if (rc != SL_ERR_EXISTS)
                break;
            /* Another node created it since this one read the list: take
             * the catalog's stream and go on as for one found. */
            sl_diag_init(d);
            rc = streams_round(srv->streams, d);
            if (rc < 0)
                break;
            s = streams_get(srv->streams, st->name, strlen(st->name));
            if (s == NULL) {
                rc = sl_fail(d, SL_ERR_CONFLICT, "stream %s was created and deleted by "
                             "another node while this one started", st->name);
                break;
            }
        }
        /* The file may have changed since the stream was made: its
         * settings follow the file, its shape cannot. */
        if (s->nshards != def.shards || strcmp(s->def.kind, st->kind) != 0 ||
            s->def.source == NULL || strcmp(s->def.source, src->name) != 0)
            SL_WARN("server",
                    "stream %s has %d shards (%s, source %s); %s now says %lld (%s): "
                    "the stream keeps its shape (resharding is not supported)",
                    s->def.name, s->nshards, s->def.kind,
                    s->def.source ? s->def.source : "none", src->path,
                    (long long)def.shards, st->kind);
        rc = streams_update(srv->streams, s, &def, d);
        stream_release(s);
    }
    if (rc == 0)
        rc = undeclare_streams(srv, &declared, d);
    sl_strlist_release(&declared);
    return rc;
}

static int
split_listen(const char *listen, char *addr, size_t addr_size, int *port, struct sl_diag *d)
{
    const char *colon = strrchr(listen, ':');
    char *end;
    long p;

    if (colon == NULL)
        return sl_fail(d, SL_ERR_INPUT, "listen address '%s' needs a port (ADDRESS:PORT)",
                       listen);
    p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || end == colon + 1 || p < 0 || p > 65535)
        return sl_fail(d, SL_ERR_INPUT, "listen address '%s' has a bad port", listen);
    size_t n = (size_t)(colon - listen);

    if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') {
        listen++;
        n -= 2;
    }
    if (n == 0 || n >= addr_size)
        return sl_fail(d, SL_ERR_INPUT, "listen address '%s' has a bad host", listen);
    memcpy(addr, listen, n);
    addr[n] = '\0';
    *port = (int)p;
    return 0;
}

/* This node's URL for the other nodes; it names the host when the
 * listener takes every address. */
static void
node_url(struct server *srv, const char *addr)
{
    char host[256];
    bool tls = srv->project->config.server.tls_cert != NULL;
    bool any = strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;

    if (gethostname(host, sizeof(host)) < 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if (any)
        snprintf(srv->info, sizeof(srv->info), "%s://%.200s:%d", tls ? "https" : "http", host,
                 http_port(srv->http));
    else
        snprintf(srv->info, sizeof(srv->info), "%s://%s", tls ? "https" : "http",
                 srv->address);
}

/*
 * Safe by default: without keys nothing is signed, so the server listens on
 * loopback only, where the only clients are this machine's; any other
 * address needs keys, or --insecure (said at every start, since it is
 * easy to forget in a unit file).
 */
static int
safe_default(struct server *srv, const char *addr, bool insecure, struct sl_diag *d)
{
    size_t n = guard_key_count(srv->guard);

    if (guard_keys(srv->guard)) {
        snprintf(srv->security, sizeof(srv->security),
                 "%zu access key%s: every API request must be signed (SigV4)", n,
                 n == 1 ? "" : "s");
        return 0;
    }
    if (guard_loopback(addr)) {
        snprintf(srv->security, sizeof(srv->security),
                 "no access keys: answering on loopback only, unsigned requests accepted "
                 "(sluice keys add makes every request need a signature)");
        return 0;
    }
    if (!insecure)
        return sl_fail(d, SL_ERR_INPUT,
                       "refusing to listen on %s without credentials: anyone who can reach it "
                       "could put to and read every stream; add a key (sluice keys add NAME, "
                       "see server.credentials) or pass --insecure", addr);
    snprintf(srv->security, sizeof(srv->security),
             "--insecure: listening on %s without access keys; anyone who can reach it may "
             "call every API unsigned", addr);
    SL_WARN("server", "%s", srv->security);
    return 0;
}

const char *
server_security(const struct server *s)
{
    return s->security;
}

/*
 * Start-up order: the listener first, turning requests away (503) until
 * the end, since this node's leases carry its URL; then the streams, each
 * unserved; the declared ones created or brought up to date; the first
 * lease round, which opens the logs of the streams this node takes; then
 * delivery, which resumes from the catalog's positions.
 */
int
server_start(struct project *p, const struct server_options *o, struct server **out,
             struct sl_diag *d)
{
    struct server *srv = sl_calloc(1, sizeof(*srv));
    const struct server_settings *cfg = &p->config.server;
    struct streams_options so = {.fsync = cfg->fsync, .region = cfg->region,
                                 .lease_ttl_ms = cfg->lease_ttl * 1000};
    char addr[100];
    char *streams = layout_streams_dir(p->lake);
    int port = 0;
    int rc;

    srv->project = p;
    atomic_init(&srv->starting, true);
    rc = split_listen(o && o->listen ? o->listen : cfg->listen, addr, sizeof(addr), &port, d);
    if (rc == 0)
        rc = guard_open(p, server_actions(), &srv->guard, d);
    if (rc == 0)
        rc = safe_default(srv, addr, o && o->insecure, d);
    if (rc == 0)
        rc = sl_mkdirs(streams, 0755, d);
    free(streams);
    if (rc == 0)
        rc = iterator_key(srv, d);
    if (rc == 0) {
        struct http_config hc = {
            .address = addr,
            .port = port,
            .tls_cert = cfg->tls_cert,
            .tls_key = cfg->tls_key,
            .tls_min_version = cfg->tls_min_version,
            .max_connections = (unsigned)cfg->max_connections,
            .max_per_address = (unsigned)cfg->max_per_address,
            .timeout_s = (unsigned)cfg->timeout,
            .header_timeout_s = (unsigned)cfg->header_timeout,
            .min_body_rate = cfg->min_body_rate == 0 ? HTTP_NO_MIN_RATE
                                                     : (unsigned)cfg->min_body_rate,
            .body_grace_s = (unsigned)cfg->body_grace,
            .max_body = 16u << 20,
            .max_inflight = (size_t)cfg->max_inflight,
        };
        struct http_handlers h = {srv, check, handle};

        rc = http_start(&hc, &h, &srv->http, d);
    }
    if (rc == 0) {
        snprintf(srv->address, sizeof(srv->address), strchr(addr, ':') ? "[%s]:%d" : "%s:%d",
                 addr, http_port(srv->http));
        node_url(srv, addr);
        so.info = srv->info;
        rc = streams_open(p->lake, p->catalog, &so, &srv->streams, d);
    }
    if (rc == 0)
        snprintf(srv->holder, sizeof(srv->holder), "%s", streams_holder(srv->streams));
    if (rc == 0)
        rc = declare_streams(srv, d);
    if (rc == 0)
        rc = streams_lease_start(srv->streams, d);
    /* The flows first: delivery tells their triggers of what it lands. */
    if (rc == 0)
        rc = states_open(srv, d);
    if (rc == 0)
        rc = delivery_start(p, srv->streams, states_landed, srv, &srv->delivery, d);
    if (rc == 0)
        rc = iceberg_rest_open(srv, d);
    if (rc == 0)
        rc = alerter_start(p, &srv->alerter, d);
    if (rc == 0)
        rc = product_watch_start(p, &srv->products, d);
    /* Last: nothing after it can fail, so the cleanup below need not stop it. */
    if (rc == 0)
        rc = maintainer_start(p, &srv->maintainer, d);
    if (rc < 0) {
        if (srv->http != NULL)
            http_stop(srv->http);
        if (srv->delivery != NULL)
            delivery_stop(srv->delivery);
        streams_close(srv->streams);
        iceberg_rest_close(srv);
        states_close(srv);
        alerter_stop(srv->alerter);
        product_watch_stop(srv->products);
        guard_close(srv->guard);
        free(srv);
        return rc;
    }
    SL_INFO("server", "node %s at %s", srv->holder, srv->info);
    atomic_store(&srv->starting, false);
    *out = srv;
    return 0;
}

const char *
server_address(const struct server *s)
{
    return s->address;
}

void
server_reload(struct server *s)
{
    struct sl_diag d;

    sl_diag_init(&d);
    if (http_tls(s->http)) {
        if (http_reload_tls(s->http, &d) < 0)
            SL_ERROR("server", "%s; the previous certificate stays in use", d.msg);
        else
            SL_INFO("server", "reloaded TLS certificate '%s'",
                    s->project->config.server.tls_cert);
    }
    sl_diag_init(&d);
    if (guard_reload(s->guard, &d) < 0)
        SL_ERROR("server", "keys not reloaded, the previous keys stay: %s", d.msg);
}

void
server_stop(struct server *s)
{
    atomic_store(&s->stopping, true);
    /* Requests in flight finish and are acknowledged; then delivery flushes
     * everything acknowledged into raw (the transforms it owes are its
     * triggers' to start, here or at the next server's start); then
     * the logs close and the leases are released, so other nodes take the
     * streams over at their next round.  Until then leases are renewed,
     * and no more are taken. */
    streams_stop_taking(s->streams);
    maintainer_stop(s->maintainer);
    http_stop(s->http);
    delivery_stop(s->delivery);
    streams_close(s->streams);
    iceberg_rest_close(s);
    states_close(s);
    alerter_stop(s->alerter);
    product_watch_stop(s->products);
    guard_close(s->guard);
    free(s);
}
