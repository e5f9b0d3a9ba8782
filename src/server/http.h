/*
 * http.h - the HTTP/1.1 listener that every sluice API sits behind.
 *
 * A thin layer over libmicrohttpd: keep-alive, plain HTTP or HTTPS (a PEM
 * certificate and key), a bounded number of connections, a time limit on
 * idle and slow clients, and a bounded amount of request body in memory.
 * It knows nothing of AWS; the application sees whole requests and fills in
 * whole responses.
 *
 * A request goes through two callbacks:
 *
 *   check   once the headers are in, before any of the body is read.  It
 *           may refuse the request (fill resp, return false): the body is
 *           then never read, and the connection is closed after the
 *           response.  The layer itself refuses, through the same
 *           callback's resp with why set, bodies over max_body and bodies
 *           that would take the bodies held in memory by all connections
 *           past max_inflight (so the client sees an application-shaped
 *           error, e.g. an AWS throttling error, rather than a bare 413).
 *   handle  once the whole body is in memory; may block (it waits for the
 *           stream log's group commit), so it runs on the connection's own
 *           thread.
 *
 * http_stop() stops accepting, lets requests in flight finish, and closes.
 */
#ifndef SL_SERVER_HTTP_H
#define SL_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/diag.h"

struct http_server;

struct http_config {
    const char *address;     /* listen address, default "127.0.0.1" */
    int port;                /* 0: any free port (see http_port()) */
    const char *tls_cert;    /* PEM file; NULL for plain HTTP */
    const char *tls_key;     /* PEM file; required with tls_cert */
    unsigned max_connections;/* default 256 */
    unsigned timeout_s;      /* idle or unfinished request; default 30 */
    size_t max_body;         /* per request; default 16 MiB */
    size_t max_inflight;     /* bodies held at once, all connections; default 128 MiB */
};

/* Why the layer refuses a request before the application sees its body. */
enum http_refusal {
    HTTP_OK = 0,
    HTTP_TOO_LARGE,  /* Content-Length (or chunked total) over max_body */
    HTTP_OVERLOADED, /* max_inflight reached */
};

struct http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* without the query string */
    int64_t content_length; /* -1 if not given (chunked) */
    const char *body;    /* the whole body, NUL-terminated; NULL in check */
    size_t body_len;
    char *body_mut;      /* the same bytes, writable (in-place parsers) */
    void *conn;          /* private to the layer */
};

/* A header's value, or NULL; name is case-insensitive. */
const char *http_header(const struct http_request *req, const char *name);

struct http_response {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json" */
    struct sl_buf body;
    char extra_headers[512];  /* "Name: value\r\n"... lines, may be empty */
};

/* Add one header line to resp (name and value must not contain CR/LF). */
void http_response_header(struct http_response *resp, const char *name, const char *value);

struct http_handlers {
    void *ctx;
    /* Headers in, body not read.  why is HTTP_OK unless the layer refuses
     * (then the return value is ignored and resp is sent). */
    bool (*check)(void *ctx, const struct http_request *req, enum http_refusal why,
                  struct http_response *resp);
    void (*handle)(void *ctx, struct http_request *req, struct http_response *resp);
};

int http_start(const struct http_config *cfg, const struct http_handlers *h,
               struct http_server **out, struct sl_diag *d);
/* The port actually listened on. */
int http_port(const struct http_server *s);
/* Stop accepting, finish requests in flight, close everything, free s. */
void http_stop(struct http_server *s);

#endif
