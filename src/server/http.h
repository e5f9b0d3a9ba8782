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
 * Threads: every connection has its own thread, and both callbacks run on
 * it, so callbacks for different connections run concurrently and ctx must
 * be safe for that.  A blocked handle() stalls only its own connection.
 *
 * Bodies: a body with a Content-Length is read into one buffer of exactly
 * that size, counted against max_inflight from the moment its headers are
 * in until handle() returns.  A chunked body grows its buffer as it comes;
 * if it passes max_body or max_inflight the connection is cut (closed with
 * no response: libmicrohttpd cannot answer once it is reading a body), so
 * check is not called for it.
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
    unsigned max_connections;/* default 256; 0 means the default */
    unsigned timeout_s;      /* no progress on a connection for this long
                                (idle keep-alive or stalled request): closed;
                                default 30 */
    size_t max_body;         /* per request; default 16 MiB */
    size_t max_inflight;     /* bodies held at once, all connections; default 128 MiB */
};

/* Why the layer refuses a request before the application sees its body. */
enum http_refusal {
    HTTP_OK = 0,
    HTTP_TOO_LARGE,  /* Content-Length (or chunked total) over max_body */
    HTTP_OVERLOADED, /* max_inflight reached */
};

/*
 * One request.  Everything here is borrowed from the layer and valid only
 * inside the callback it was passed to.
 */
struct http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* percent-decoded, without the query string */
    int64_t content_length; /* -1 if chunked; 0 if there is no body */
    const char *body;    /* the whole body, NUL-terminated; NULL in check */
    size_t body_len;
    char *body_mut;      /* the same bytes, writable (in-place parsers); the
                            byte at body_len is a NUL, writable too */
    void *conn;          /* private to the layer */
};

/* A header's value, or NULL; name is case-insensitive.  Borrowed like req. */
const char *http_header(const struct http_request *req, const char *name);

/*
 * The first value of a query-string argument ("?a=1&b=2"), percent-decoded,
 * or NULL; "" for an argument given without a value.  Borrowed like req.
 */
const char *http_query(const struct http_request *req, const char *name);

/*
 * What the callbacks fill in.  The layer initialises it (status 200, empty
 * body and headers) before each callback and owns body afterwards: the
 * bytes are handed to the connection without a copy and freed when sent.
 */
struct http_response {
    int status;               /* default 200 */
    const char *content_type; /* default "application/json" */
    struct sl_buf body;
    char extra_headers[512];  /* "Name: value\r\n"... lines, may be empty */
};

/*
 * Add one header line to resp.  A line with CR or LF in it, or one that no
 * longer fits in extra_headers, is dropped with a warning rather than sent
 * broken.  Content-Length and Date are the layer's own.
 */
void http_response_header(struct http_response *resp, const char *name, const char *value);

struct http_handlers {
    void *ctx;
    /* Headers in, body not read.  why is HTTP_OK unless the layer refuses
     * (then the return value is ignored and resp is sent).  May be NULL:
     * everything is accepted, and the layer's refusals are a plain 413 or
     * 503 with a JSON message. */
    bool (*check)(void *ctx, const struct http_request *req, enum http_refusal why,
                  struct http_response *resp);
    void (*handle)(void *ctx, struct http_request *req, struct http_response *resp);
};

/*
 * Listen and serve in background threads until http_stop().  cfg and the
 * strings in it are read only during the call; *h is copied.
 *
 * Returns 0 and sets *out, or: -EINVAL for a bad configuration (unparsable
 * address, a key without a certificate, no handle callback); a negated
 * errno when the address cannot be listened on (-EADDRINUSE, ...) or the
 * certificate or key cannot be read (-ENOENT, -EACCES, ...); SL_ERR_INPUT
 * when the certificate or key is not PEM, or they do not match (d names
 * the file in msg and where); -ENOTSUP for HTTPS with a
 * libmicrohttpd built without TLS; -EIO when libmicrohttpd refuses to
 * start (d carries its words).
 */
int http_start(const struct http_config *cfg, const struct http_handlers *h,
               struct http_server **out, struct sl_diag *d);
/* The port actually listened on. */
int http_port(const struct http_server *s);
/*
 * Stop accepting, finish requests in flight, close everything, free s.
 * A request is in flight from the moment its headers are in: its body is
 * still read, handle() runs and the response is sent (with "Connection:
 * close"), unless the client stalls past timeout_s.  Idle keep-alive
 * connections are closed.  Must not be called from a callback.
 */
void http_stop(struct http_server *s);

#endif
