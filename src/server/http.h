/*
 * http.h - the HTTP/1.1 listener that every sluice API sits behind.
 *
 * Our own server over sockets, with OpenSSL for HTTPS (a PEM certificate
 * and key, a minimum TLS version, reloadable).  Keep-alive and pipelining;
 * strict framing (http_int.h lists the rules: one Content-Length or
 * chunked, never both, never two that differ); deadlines that a slow or
 * idle client cannot stretch; a bounded number of connections, in all and
 * per client address, with an HTTP answer past them; and a bounded amount
 * of request body in memory.  It knows nothing of AWS; the application
 * sees whole requests and fills in whole responses.
 *
 * A request goes through two callbacks:
 *
 *   check   once the headers are in, before any of the body is read.  It
 *           may refuse the request (fill resp, return false): the body is
 *           then never read, and the connection is closed after the
 *           response.  The layer itself refuses, through the same
 *           callback's resp with why set, bodies over max_body, bodies
 *           that would take the bodies held in memory by all connections
 *           past max_inflight, and connections over max_connections or
 *           max_per_address (so the client sees an application-shaped
 *           error, e.g. an AWS throttling error, rather than a bare 413 or
 *           503).  A body that passes max_inflight while it is read (or
 *           a chunked one max_body) is refused the same way, by a second
 *           call with why set.
 *   handle  once the whole body is in memory; may block (it waits for the
 *           stream log's group commit), so it runs on the connection's own
 *           thread.
 *
 * Threads: every connection has its own thread, and both callbacks run on
 * it, so callbacks for different connections run concurrently and ctx must
 * be safe for that.  A blocked handle() stalls only its own connection.
 * Connections refused with HTTP_BUSY are answered on a small pool of extra
 * threads (32), so check may be called for them too.
 *
 * Bodies: a body with a Content-Length is read into one buffer of exactly
 * that size; it is counted against max_inflight as it arrives (1 MiB ahead
 * of its bytes, from the moment its headers are in) until handle() returns,
 * so a slow body holds little of the budget.  A chunked body grows its
 * buffer as it comes, reserving as it grows.
 *
 * Deadlines, each checked on the connection's own thread:
 *   header_timeout_s  from accept (TLS handshake included) or from the
 *                     first byte of a later request to the end of its
 *                     headers;
 *   min_body_rate     after body_grace_s, a body whose average rate since
 *                     its headers is below this many bytes/s is dropped (a
 *                     body that stops short of its Content-Length is thus
 *                     answered within body_grace_s plus a little);
 *   timeout_s         idle keep-alive between requests, and no progress at
 *                     all (reading or writing) in any state.
 * A request dropped by a deadline after some of it arrived is answered
 * 408 (Connection: close) when the socket takes it at once; an idle
 * connection is closed silently.
 *
 * Limits: a connection that would pass max_connections, or max_per_address
 * connections from one client IP, first evicts an unproductive one in
 * that scope (reading a head for over 1 s, idle for over 1 s, or reading a
 * body below min_body_rate after 1 s; the one unproductive longest).  If
 * none is, the new connection waits for its head (2 s at most); once the
 * head is in, it takes the place of a connection that has been reading a
 * head, or a body below min_body_rate, for longer than that took (0.1 s
 * at least), else it is answered 503 through check (HTTP_BUSY) and
 * closed.  So slow clients cannot keep
 * out one that sends its request at once.  Past the 64 waiting, the one
 * waiting longest (0.05 s at least) is closed to make room, else the new
 * one is closed unanswered.
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

#define HTTP_NO_MIN_RATE 0xffffffffu /* http_config.min_body_rate: none */

struct http_config {
    const char *address;     /* listen address, default "127.0.0.1" */
    int port;                /* 0: any free port (see http_port()) */
    const char *tls_cert;    /* PEM file; NULL for plain HTTP */
    const char *tls_key;     /* PEM file; required with tls_cert */
    const char *tls_min_version; /* "1.2" (default, also for NULL) or "1.3" */
    unsigned max_connections;/* default 256; 0 means the default */
    unsigned max_per_address;/* connections from one client IP; default 64 */
    unsigned timeout_s;      /* idle keep-alive, and no progress at all on a
                                connection for this long: closed; default 30 */
    unsigned header_timeout_s; /* accept or a request's first byte to the end
                                  of its headers; default 20 */
    unsigned min_body_rate;  /* bytes/s a body must average after the grace
                                period; 0 means the default, 500;
                                HTTP_NO_MIN_RATE: no minimum */
    unsigned body_grace_s;   /* default 10; 0 means the default */
    size_t max_body;         /* per request; default 16 MiB */
    size_t max_inflight;     /* bodies held at once, all connections; default 128 MiB */
};

/* Why the layer refuses a request before the application sees its body. */
enum http_refusal {
    HTTP_OK = 0,
    HTTP_TOO_LARGE,  /* Content-Length (or chunked total) over max_body */
    HTTP_OVERLOADED, /* max_inflight reached */
    HTTP_BUSY,       /* over max_connections or max_per_address, nothing to
                        evict: answer 503 (the connection is closed after) */
};

/* One header field as received: name as sent, value trimmed of SP/HTAB.
 * sigv4.h declares the same struct under the same guard, so that it stands
 * alone. */
#ifndef SL_HTTP_HEADER_DEFINED
#define SL_HTTP_HEADER_DEFINED
struct http_header {
    const char *name;
    const char *value;
};
#endif

/*
 * One request.  Everything here is borrowed from the layer and valid only
 * inside the callback it was passed to.
 */
struct http_request {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* percent-decoded, without the query string */
    const char *target;  /* the request-target exactly as received,
                            e.g. "/a%20b?x=1" (SigV4's canonical URI) */
    const char *query;   /* raw text after '?', "" if none */
    const struct http_header *headers; /* every header, in arrival order */
    size_t nheaders;
    const char *peer;    /* the client's IP address, no port ("127.0.0.1") */
    bool tls;            /* arrived over HTTPS */
    int64_t content_length; /* -1 if chunked; 0 if there is no body */
    const char *body;    /* the whole body, NUL-terminated; NULL in check */
    size_t body_len;
    char *body_mut;      /* the same bytes, writable (in-place parsers); the
                            byte at body_len is a NUL, writable too */
    bool hash_body;      /* check may set it: the layer then hashes the
                            body (SHA-256) as it arrives, for a request
                            signature, so the hash costs no wait later */
    bool body_hashed;    /* in handle: body_sha256 is the body's */
    unsigned char body_sha256[32];
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
    bool (*check)(void *ctx, struct http_request *req, enum http_refusal why,
                  struct http_response *resp);
    void (*handle)(void *ctx, struct http_request *req, struct http_response *resp);
};

/*
 * Listen and serve in background threads until http_stop().  cfg and the
 * strings in it are read only during the call (the certificate and key
 * paths are kept for http_reload_tls()); *h is copied.  With TLS, SIGPIPE
 * is set to be ignored if it has its default action (OpenSSL writes to
 * sockets without MSG_NOSIGNAL).
 *
 * Returns 0 and sets *out, or: -EINVAL for a bad configuration (unparsable
 * address, a key without a certificate, an unknown tls_min_version, no
 * handle callback); a negated errno when the address cannot be listened
 * on (-EADDRINUSE, ...) or the certificate or key cannot be read (-ENOENT,
 * -EACCES, ...); SL_ERR_INPUT when the certificate or key is not PEM, or
 * they do not match (d names the file in msg and where); -EIO when OpenSSL
 * refuses them otherwise or a thread cannot be started (d carries why).
 */
int http_start(const struct http_config *cfg, const struct http_handlers *h,
               struct http_server **out, struct sl_diag *d);
/* The port actually listened on. */
int http_port(const struct http_server *s);
/* Whether s serves HTTPS. */
bool http_tls(const struct http_server *s);

/*
 * Read the certificate and key again (same paths) and use them for new
 * connections; connections already open keep the old ones until they
 * close.  Safe to call from any thread while s runs.  Returns 0, -EINVAL
 * if s is plain HTTP, or the errors of http_start() for the files, with
 * the old certificate still in use.
 */
int http_reload_tls(struct http_server *s, struct sl_diag *d);

/* Counters since http_start(), for /metrics. */
struct http_stats {
    uint64_t accepted;          /* connections accepted */
    uint64_t evicted;           /* unproductive ones closed to make room */
    uint64_t admitted_waiting;  /* past a limit, admitted on a prompt head
                                   in the place of a slower one */
    uint64_t refused_busy;      /* answered 503: over max_connections */
    uint64_t refused_per_address; /* answered 503: over max_per_address */
    uint64_t closed_unanswered; /* past a limit with the waiting room full,
                                   or no head within its 2 s */
    uint64_t dropped_header_timeout; /* head not in within header_timeout_s */
    uint64_t dropped_body_rate; /* body below min_body_rate after the grace */
    uint64_t dropped_idle;      /* idle keep-alive or no progress for timeout_s */
    uint64_t bad_request;       /* framing errors answered by the layer */
    uint64_t open;              /* connections open now (a gauge) */
    uint64_t reading_head;      /* of which reading a request's head, */
    uint64_t reading_body;      /* ... or its body (gauges) */
};

/* A snapshot of s's counters; any thread. */
void http_stats(const struct http_server *s, struct http_stats *out);

/*
 * Stop accepting, finish requests in flight, close everything, free s.
 * A request is in flight from the moment its headers are in: its body is
 * still read, handle() runs and the response is sent (with "Connection:
 * close"), unless the client misses a deadline.  Idle keep-alive
 * connections, and those still sending a head, are closed.  Must not be
 * called from a callback.
 */
void http_stop(struct http_server *s);

#endif
