/*
 * http.c - the HTTP/1.1 listener (see http.h): sockets, threads,
 * deadlines, limits and TLS.  The wire format is http_parse.c's.
 *
 * Threads.  One acceptor thread accepts and decides admission; each
 * admitted connection gets a thread of its own that reads, calls the
 * application, and writes.  handle() may block for tens of milliseconds on
 * a group commit; that blocks only its own connection, with no hand-off.
 * The expected traffic is a handful of busy keep-alive connections (SDK
 * clients, Fluent Bit), where a thread each is cheap and the simplest
 * thing that cannot stall.  max_connections bounds the threads, plus a
 * waiting room of MAX_WAITING for the connections past the limits.
 *
 * Deadlines.  Every socket is non-blocking and every wait is a poll() on
 * the connection's own thread with a deadline computed from its state, so
 * a deadline holds under TLS too (OpenSSL's WANT_READ/WANT_WRITE become
 * polls).  conn_read() refuses to read once its deadline has passed, even
 * if a byte is waiting: a client trickling a byte now and then cannot push
 * a deadline back.
 *
 * Connection states (struct conn.state, written by the owner under
 * srv->mu, read by the acceptor to choose an eviction and by http_stop()):
 *
 *       accept ──> HEAD ──head in──> BUSY ──check ok──> BODY ──body in──> BUSY
 *                   ^                                                     │
 *                   └──first byte── IDLE <──────response sent, keep-alive─┘
 *
 *   HEAD  reading a request head (or the TLS handshake): read_head();
 *         deadline header_timeout_s from accept or the first byte
 *   IDLE  keep-alive between requests: read_head(); deadline timeout_s
 *   BODY  reading a body: read_body()/read_chunked(); min_body_rate after
 *         body_grace_s, and timeout_s without progress
 *   BUSY  its head in: check(), handle() or writing the response; not
 *         evictable; writes must progress within timeout_s
 *
 * Eviction.  The acceptor may shut down (never close) the socket of a
 * connection in HEAD or IDLE for over EVICT_MS, or in BODY below
 * min_body_rate after EVICT_MS; the owner's next read fails and it closes.
 * A connection's fd is closed only by its owner, after it has left
 * srv->conns under srv->mu, so the acceptor never shuts a reused fd.
 *
 * The waiting room.  A connection past the limits with nobody to evict
 * waits there (a thread of its own, up to MAX_WAITING) for its head, at
 * most WAIT_HEAD_MS.  Once the head is in, it takes the place of a
 * connection slower than it: reading a head, or a body below
 * min_body_rate, for longer than it took for its whole head (and
 * OUTRUN_MIN_MS at least); or of any that became evictable meanwhile.
 * With nobody slower, it is answered 503 and closed.  Slowness is the
 * client's only: a connection whose head is in is BUSY at once, and one
 * with bytes in the kernel its thread has not read yet (FIONREAD) is not
 * slow - a busy machine runs threads late.  So a flood of slow
 * connections, arriving faster than EVICT_MS lets them age, cannot keep
 * out a client that sends its request at once.  A full room makes space
 * by shutting the member that has waited longest for its head, once that
 * is DISPLACE_MS: slow clients cannot fill the room either.
 *
 * Life of a connection thread: conn_main() -> [TLS handshake] ->
 * read_head() -> serve() (check, body, handle, respond) -> read_head() ...
 * -> conn_exit(): off the live list onto srv->zombies, where the acceptor
 * (or http_stop()) joins the thread and frees the struct.
 *
 * Body budget.  srv->held counts the body bytes reserved by all requests;
 * a reservation is granted only while held stays within max_inflight, so
 * held <= max_inflight always.  Bodies reserve as they arrive, a step
 * (RESERVE_STEP) ahead of what they hold: a Content-Length body its first
 * step before check() (if even that is not there, it is refused unread),
 * the rest as its bytes come; a chunked one as its buffer doubles.  So a
 * client announcing 16 MiB and sending a byte a second holds one step, not
 * 16 MiB of everyone's budget, until min_body_rate drops it; a body that
 * finds the budget spent halfway is answered with the throttling refusal.
 * Its buffer is allocated whole at once, but pages are touched only as
 * bytes arrive.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/http_int.h"
#include "core/banned.h"

#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_MAX_PER_ADDRESS 64
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_HEADER_TIMEOUT_S 20
#define DEFAULT_MIN_BODY_RATE 500
#define DEFAULT_BODY_GRACE_S 10
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define DEFAULT_MAX_INFLIGHT ((size_t)128 << 20)
#define MAX_PEM ((size_t)1 << 20)
/* Connections past the limits waiting for their heads; past them, a close. */
#define MAX_WAITING 64
/* A waiting connection's head must arrive within this. */
#define WAIT_HEAD_MS 2000
/* A full waiting room shuts the member that has waited for its head this long. */
#define DISPLACE_MS 50
/* A waiting connection takes the place only of one that has been reading
 * its head (or a slow body) for at least this long: one on its way is left
 * alone. */
#define OUTRUN_MIN_MS 100
/* Unproductive for this long: may be evicted for a new connection. */
#define EVICT_MS 1000
/* After an answer that closes: read and drop what the client still sends
 * for this long (or this much), so it reads the answer, not a reset. */
#define LINGER_MS 2000
#define LINGER_BYTES ((size_t)4 << 20)
/* A 408 goes out only if the socket takes it within this. */
#define ANSWER_408_MS 500
/* The input buffer: heads and pipelined requests; grown for chunked bodies. */
#define IN_START ((size_t)16 << 10)
#define IN_CHUNKED ((size_t)64 << 10)
/* How far ahead of its bytes a Content-Length body reserves budget. */
#define RESERVE_STEP ((size_t)1 << 20)
/* The first growth of a chunked body's buffer. */
#define CHUNKED_START ((size_t)64 << 10)
/* conn_read(): the deadline passed with nothing read. */
#define IO_TIMEOUT (-2)

enum conn_state { CONN_HEAD, CONN_IDLE, CONN_BODY, CONN_BUSY };

struct conn {
    struct http_server *srv;
    struct conn *next, *prev;   /* srv->conns (live) or srv->zombies */
    pthread_t thread;
    int fd;
    SSL *ssl;                   /* NULL for plain HTTP */
    unsigned char key[17];      /* family and address: the per-address scope */
    char peer[INET6_ADDRSTRLEN];/* the address as text */
    bool per_address;           /* came over max_per_address, else over the total */
    /* Under srv->mu: */
    bool waiting;               /* in the waiting room (past the limits) */
    enum conn_state state;
    int64_t since_ms;           /* when state began (HEAD: accept or first byte) */
    bool evicted;               /* shut down by the acceptor */
    bool shut;                  /* shut down by http_stop() */
    _Atomic uint64_t body_got;  /* bytes of the body being read (BODY) */
    /* The owner's alone: */
    int64_t accepted_ms;
    int64_t progress_ms;        /* last byte read or written */
    char *in;                   /* received, not yet used: in[off..len) */
    size_t in_len, in_off, in_cap;
    unsigned nreq;              /* requests begun on this connection */
    struct sl_arena arena;      /* per request: head copy, decoded strings */
};

struct http_server {
    struct http_handlers h;     /* the application's callbacks */
    size_t max_body;            /* per request */
    size_t max_inflight;        /* bound on held */
    unsigned max_conns, max_per_addr;
    int64_t timeout_ms, header_ms, grace_ms;
    uint64_t min_rate;          /* bytes/s; 0: no rate check */
    int lfd;                    /* the listening socket */
    int wake[2];                /* a pipe: wakes the acceptor to stop */
    int port;                   /* the port bound */
    pthread_t acceptor;
    _Atomic size_t held;        /* body bytes reserved, all requests */
    atomic_bool stopping;       /* http_stop() has begun: close after each reply */
    /* TLS: the context for new connections (each SSL holds a reference of
     * its own on the context it was made from). */
    pthread_mutex_t tls_mu;     /* guards ctx */
    SSL_CTX *ctx;               /* NULL for plain HTTP */
    char *cert_path, *key_path; /* for http_reload_tls() */
    int tls_min;                /* TLS1_2_VERSION or TLS1_3_VERSION */
    pthread_mutex_t mu;         /* guards the members below and conn states */
    pthread_cond_t gone;        /* signalled when a connection leaves conns */
    struct conn *conns;         /* live connections */
    struct conn *zombies;       /* exited, to be joined and freed */
    unsigned nactive;           /* live, not waiting, not evicted */
    unsigned nwaiting;          /* in the waiting room */
    unsigned nlive;             /* everything on conns */
    /* Counters (http_stats()). */
    _Atomic uint64_t accepted, evicted, admitted_waiting, refused_busy, refused_per_address,
        closed_unanswered, dropped_header_timeout, dropped_body_rate, dropped_idle,
        bad_request;
};

/* One request on a connection: what the callbacks see, and its body. */
struct req {
    struct http_request pub;
    char *body;                 /* cap + 1 bytes, or NULL while there is none */
    size_t cap;                 /* body bytes the buffer holds */
    size_t len;                 /* body bytes received */
    size_t reserved;            /* bytes of srv->held this request holds */
    struct sl_sha256 sha;       /* the body's hash so far, with pub.hash_body */
    bool hashing;               /* sha is initialised (and must be finished) */
    char empty[1];              /* the writable "" of a request with no body */
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* ---- body budget ---------------------------------------------------- */

static bool
reserve(struct http_server *s, size_t n)
{
    size_t cur = atomic_load(&s->held);

    do {
        if (n > s->max_inflight - cur)
            return false;
    } while (!atomic_compare_exchange_weak(&s->held, &cur, cur + n));
    return true;
}

/* n more body bytes into the running hash, if check asked for one. */
static void
hash_more(struct req *r, const void *p, size_t n)
{
    if (!r->pub.hash_body)
        return;
    if (!r->hashing) {
        sl_sha256_init(&r->sha);
        r->hashing = true;
    }
    sl_sha256_update(&r->sha, p, n);
}

static void
drop_body(struct http_server *s, struct req *r)
{
    if (r->hashing) {
        unsigned char md[SL_SHA256_LEN];

        sl_sha256_final(&r->sha, md);
        r->hashing = false;
    }
    free(r->body);
    r->body = NULL;
    r->cap = r->len = 0;
    if (r->reserved) {
        atomic_fetch_sub(&s->held, r->reserved);
        r->reserved = 0;
    }
}

/* ---- requests and responses ---------------------------------------- */

const char *
http_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *
http_query(const struct http_request *req, const char *name)
{
    struct conn *c = req->conn;
    size_t nlen = strlen(name);
    const char *q = req->query;

    while (*q != '\0') {
        const char *end = strchr(q, '&'), *eq;
        size_t len = end ? (size_t)(end - q) : strlen(q);
        char *key = sl_arena_alloc(&c->arena, len + 1);
        long klen;

        eq = memchr(q, '=', len);
        klen = http_unescape(q, eq ? (size_t)(eq - q) : len, key, true);
        if (klen >= 0 && (size_t)klen == nlen && memcmp(key, name, nlen) == 0) {
            char *v = key; /* room enough: a value is shorter than its pair */

            if (eq == NULL)
                return "";
            if (http_unescape(eq + 1, len - (size_t)(eq + 1 - q), v, true) < 0)
                return NULL;
            return v;
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return NULL;
}

void
http_response_header(struct http_response *resp, const char *name, const char *value)
{
    size_t used = strlen(resp->extra_headers), room = sizeof(resp->extra_headers) - used;
    int n;

    if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
        SL_WARN("http", "response header '%s' dropped: CR, LF or ':' in it", name);
        return;
    }
    n = snprintf(resp->extra_headers + used, room, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= room) {
        resp->extra_headers[used] = '\0';
        SL_WARN("http", "response header '%s' dropped: no room left", name);
    }
}

static void
response_init(struct http_response *resp)
{
    resp->status = 200;
    resp->content_type = NULL;
    sl_buf_init(&resp->body);
    resp->extra_headers[0] = '\0';
}

/* The layer's own words for a refusal when the application has no check. */
static void
default_refusal(const struct http_server *s, enum http_refusal why,
                struct http_response *resp)
{
    if (why == HTTP_TOO_LARGE) {
        resp->status = 413;
        sl_buf_addf(&resp->body, "{\"message\":\"request body over %zu bytes\"}",
                    s->max_body);
    } else {
        resp->status = 503;
        sl_buf_adds(&resp->body, "{\"message\":\"server busy, retry later\"}");
    }
}

/* ---- connection state ------------------------------------------------ */

/*
 * Move c to state st (since now).  Returns false if the server is stopping
 * and st is one that http_stop() closes (a head not yet in): the caller
 * closes the connection.
 */
static bool
set_state(struct conn *c, enum conn_state st, int64_t since)
{
    struct http_server *s = c->srv;
    bool ok = true;

    pthread_mutex_lock(&s->mu);
    c->state = st;
    c->since_ms = since;
    if ((st == CONN_HEAD || st == CONN_IDLE) && (atomic_load(&s->stopping) || c->shut))
        ok = false;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* Whether the acceptor or http_stop() shut c down. */
static bool
was_shut(struct conn *c)
{
    bool shut;

    pthread_mutex_lock(&c->srv->mu);
    shut = c->evicted || c->shut;
    pthread_mutex_unlock(&c->srv->mu);
    return shut;
}

/* ---- socket I/O under deadlines ---------------------------------------- */

/* Wait for events on c's socket until deadline: 1 ready, 0 timed out. */
static int
wait_fd(struct conn *c, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd p = {c->fd, events, 0};
        int64_t left = deadline - now_ms();
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&p, 1, (int)min64(left, INT_MAX));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return 1; /* the read or write that follows reports it */
    }
}

/*
 * Read up to n bytes into p.  Returns the count (> 0); 0 when the
 * connection is gone (end of file, reset, a TLS error, shut down); or
 * IO_TIMEOUT when deadline passes first - also if it has passed already,
 * whatever is waiting.
 */
static ssize_t
conn_read(struct conn *c, char *p, size_t n, int64_t deadline)
{
    for (;;) {
        short ev = POLLIN;
        ssize_t k;

        if (now_ms() >= deadline)
            return IO_TIMEOUT;
        if (c->ssl != NULL) {
            int e;

            ERR_clear_error();
            k = SSL_read(c->ssl, p, (int)(n > INT_MAX ? INT_MAX : n));
            if (k > 0) {
                c->progress_ms = now_ms();
                return k;
            }
            e = SSL_get_error(c->ssl, (int)k);
            if (e == SSL_ERROR_WANT_WRITE)
                ev = POLLOUT;
            else if (e != SSL_ERROR_WANT_READ)
                return 0;
        } else {
            k = recv(c->fd, p, n, 0);
            if (k > 0) {
                c->progress_ms = now_ms();
                return k;
            }
            if (k == 0)
                return 0;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return 0;
        }
        if (wait_fd(c, ev, deadline) == 0)
            return IO_TIMEOUT;
    }
}

/*
 * Write all of iov[0..n) (modified as it goes); every write must make
 * progress within progress_ms.  Returns 0, or -1 when the connection is
 * gone or stalled.  Under TLS each piece is one SSL_write.
 */
static int
conn_writev(struct conn *c, struct iovec *iov, int n, int64_t progress_ms)
{
    int i = 0;

    while (i < n) {
        int64_t deadline = now_ms() + progress_ms;
        short ev = POLLOUT;
        ssize_t k;

        if (iov[i].iov_len == 0) {
            i++;
            continue;
        }
        if (c->ssl != NULL) {
            int e;

            ERR_clear_error();
            k = SSL_write(c->ssl, iov[i].iov_base,
                          (int)(iov[i].iov_len > INT_MAX ? INT_MAX : iov[i].iov_len));
            if (k <= 0) {
                e = SSL_get_error(c->ssl, (int)k);
                if (e == SSL_ERROR_WANT_READ)
                    ev = POLLIN;
                else if (e != SSL_ERROR_WANT_WRITE)
                    return -1;
            }
        } else {
            struct msghdr mh = {.msg_iov = iov + i, .msg_iovlen = (size_t)(n - i)};

            k = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
        }
        if (k > 0) {
            c->progress_ms = now_ms();
            while (i < n && (size_t)k >= iov[i].iov_len)
                k -= (ssize_t)iov[i++].iov_len;
            if (i < n) {
                iov[i].iov_base = (char *)iov[i].iov_base + k;
                iov[i].iov_len -= (size_t)k;
            }
            continue;
        }
        if (wait_fd(c, ev, deadline) == 0)
            return -1;
    }
    return 0;
}

static int
conn_write(struct conn *c, const void *p, size_t n, int64_t progress_ms)
{
    struct iovec iov = {(void *)p, n};

    return conn_writev(c, &iov, 1, progress_ms);
}

/*
 * Close gracefully after an answer: say we are done (TLS close_notify,
 * then FIN), and read what the client still sends for a little while, so
 * that it reads our answer instead of a reset (a close with unread bytes
 * sends RST, which may destroy the answer in flight).
 */
static void
conn_linger(struct conn *c)
{
    int64_t until = now_ms() + LINGER_MS;
    size_t drained = 0;
    char junk[4096];

    if (c->ssl != NULL) {
        ERR_clear_error();
        SSL_shutdown(c->ssl); /* one try: the socket is non-blocking */
    }
    shutdown(c->fd, SHUT_WR);
    while (drained < LINGER_BYTES) {
        ssize_t k = recv(c->fd, junk, sizeof(junk), 0);

        if (k > 0) {
            drained += (size_t)k;
            continue;
        }
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            break;
        if (wait_fd(c, POLLIN, until) == 0)
            break;
    }
}

/* ---- responses on the wire --------------------------------------------- */

enum { RESP_CLOSE = 1, RESP_HEAD = 2, RESP_KEEP_ALIVE_10 = 4 };

/*
 * Send resp (status line, the layer's headers, the application's, the
 * body); flags: RESP_CLOSE adds "Connection: close", RESP_HEAD leaves the
 * body out (a HEAD request), RESP_KEEP_ALIVE_10 says keep-alive to an
 * HTTP/1.0 client.  Each write must progress within progress_ms.
 * Releases resp->body.  Returns 0 or -1.
 */
static int
send_response(struct conn *c, struct http_response *resp, int flags, int64_t progress_ms)
{
    int status = resp->status;
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    char date[64];
    struct sl_buf head;
    struct iovec iov[2];
    struct tm tm;
    time_t t = time(NULL);
    int rc;

    if (status < 100 || status > 999) {
        SL_WARN("http", "status %d is not an HTTP status; sending 500", status);
        status = 500;
    }
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    sl_buf_init(&head);
    sl_buf_addf(&head, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, http_reason(status), date);
    if (!no_body)
        sl_buf_addf(&head, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                    resp->content_type ? resp->content_type : "application/json",
                    resp->body.len);
    sl_buf_adds(&head, resp->extra_headers);
    if (flags & RESP_CLOSE)
        sl_buf_adds(&head, "Connection: close\r\n");
    else if (flags & RESP_KEEP_ALIVE_10)
        sl_buf_adds(&head, "Connection: keep-alive\r\n");
    sl_buf_adds(&head, "\r\n");
    iov[0] = (struct iovec){head.data, head.len};
    iov[1] = (struct iovec){resp->body.data, (flags & RESP_HEAD) || no_body ? 0 : resp->body.len};
    /* Under TLS, a small body rides in the same record as the head. */
    if (c->ssl != NULL && iov[1].iov_len > 0 && iov[1].iov_len <= 16384) {
        sl_buf_add(&head, resp->body.data, resp->body.len);
        iov[0] = (struct iovec){head.data, head.len};
        iov[1].iov_len = 0;
    }
    rc = conn_writev(c, iov, 2, progress_ms);
    sl_buf_release(&head);
    sl_buf_release(&resp->body);
    return rc;
}

/* The layer's own error body: {"__type":..., "message":...}. */
static void
error_response(struct http_response *resp, int status, const char *msg)
{
    const char *type = status == 408   ? "RequestTimeout"
                       : status == 417 ? "ExpectationFailed"
                       : status == 431 ? "RequestHeaderFieldsTooLarge"
                       : status == 501 ? "NotImplemented"
                       : status == 505 ? "HTTPVersionNotSupported"
                                       : "BadRequest";

    response_init(resp);
    resp->status = status;
    sl_buf_addf(&resp->body, "{\"__type\":\"%s\",\"message\":", type);
    sl_buf_add_json_str(&resp->body, msg, strlen(msg));
    sl_buf_adds(&resp->body, "}");
}

/* A framing error: counted, answered, and the connection closes after. */
static void
answer_fault(struct conn *c, const struct http_fault *f)
{
    struct http_response resp;

    atomic_fetch_add(&c->srv->bad_request, 1);
    SL_DEBUG("http", "%s: %d: %s", c->peer, f->status, f->msg);
    error_response(&resp, f->status, f->msg);
    if (send_response(c, &resp, RESP_CLOSE, c->srv->timeout_ms) == 0)
        conn_linger(c);
}

/*
 * A request dropped at a deadline after some of it came: 408, if the
 * socket takes it at once (this client is slow already: it is not waited
 * for), then our side of the connection is closed.
 */
static void
answer_timeout(struct conn *c, const char *what)
{
    struct http_response resp;
    char junk[4096];

    error_response(&resp, 408, what);
    send_response(c, &resp, RESP_CLOSE, ANSWER_408_MS);
    if (c->ssl != NULL) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
    }
    shutdown(c->fd, SHUT_WR);
    /* What already came is read, so that the close does not reset the
     * connection under the answer; nothing more is waited for. */
    while (recv(c->fd, junk, sizeof(junk), 0) > 0)
        ;
}

/* ---- reading requests -------------------------------------------------- */

/* Room for at least want more bytes in c->in, keeping in[off..len). */
static void
in_room(struct conn *c, size_t want)
{
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
    }
    if (c->in_cap - c->in_len < want) {
        size_t cap = c->in_cap ? c->in_cap : IN_START;

        while (cap - c->in_len < want)
            cap *= 2;
        c->in = sl_realloc(c->in, cap);
        c->in_cap = cap;
    }
}

/* The TLS handshake, by deadline.  0, or -1 (IO_TIMEOUT on the deadline). */
static int
tls_handshake(struct conn *c, int64_t deadline)
{
    for (;;) {
        short ev;
        int k, e;

        if (now_ms() >= deadline)
            return IO_TIMEOUT;
        ERR_clear_error();
        k = SSL_accept(c->ssl);
        if (k == 1) {
            c->progress_ms = now_ms();
            return 0;
        }
        e = SSL_get_error(c->ssl, k);
        if (e == SSL_ERROR_WANT_READ)
            ev = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            ev = POLLOUT;
        else {
            if (sl_log_level >= SL_LOG_DEBUG) {
                char why[160];

                ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
                SL_DEBUG("http", "%s: TLS handshake failed: %s", c->peer, why);
            }
            return -1;
        }
        if (wait_fd(c, ev, deadline) == 0)
            return IO_TIMEOUT;
    }
}

/*
 * Read the next request head into h (in c's arena); c->in_off moves past
 * it.  limit_ms bounds the head from its first byte (or from accept for
 * the first request).  Returns 0, or -1 when the connection is to close:
 * gone, shut, timed out (408 if some of a request came) or malformed
 * (answered).  Counts what it drops.
 */
static int
read_head(struct conn *c, struct http_head **out, int64_t limit_ms)
{
    struct http_server *s = c->srv;
    struct http_scan sc = {0, 0};
    struct http_fault f;
    bool first = c->nreq == 0;
    bool idle = !first && c->in_len == c->in_off;
    int64_t start = first ? c->accepted_ms : now_ms();
    char *copy, *scratch;
    long end;

    in_room(c, 0);
    if (!set_state(c, idle ? CONN_IDLE : CONN_HEAD, start))
        return -1;
    for (;;) {
        int64_t deadline;
        ssize_t k;

        if (c->in_len > 0) {
            end = http_head_end(c->in, c->in_len, &sc, &f);
            if (end > 0)
                break;
            if (end < 0) {
                answer_fault(c, &f);
                return -1;
            }
            if (idle) {
                idle = false;
                start = now_ms();
                if (!set_state(c, CONN_HEAD, start))
                    return -1;
            }
        }
        if (idle)
            deadline = start + s->timeout_ms;
        else
            deadline = min64(start + limit_ms, c->progress_ms + s->timeout_ms);
        /* in_off is 0 here: in_room() does not move the head. */
        if (c->in_cap - c->in_len < 4096)
            in_room(c, 4096);
        k = conn_read(c, c->in + c->in_len, c->in_cap - c->in_len, deadline);
        if (k == IO_TIMEOUT) {
            if (c->waiting) {
                atomic_fetch_add(&s->closed_unanswered, 1);
                return -1;
            }
            if (idle) {
                atomic_fetch_add(&s->dropped_idle, 1);
                SL_DEBUG("http", "%s: idle for %lld s, closed", c->peer,
                         (long long)(s->timeout_ms / 1000));
                return -1;
            }
            if (now_ms() >= start + limit_ms)
                atomic_fetch_add(&s->dropped_header_timeout, 1);
            else
                atomic_fetch_add(&s->dropped_idle, 1);
            SL_DEBUG("http", "%s: request head not in after %lld ms, dropped", c->peer,
                     (long long)(now_ms() - start));
            if (c->in_len > 0) {
                char msg[120];

                snprintf(msg, sizeof(msg),
                         "the request head did not arrive within %lld seconds",
                         (long long)(min64(limit_ms, s->timeout_ms) / 1000));
                answer_timeout(c, msg);
            }
            return -1;
        }
        if (k <= 0)
            return -1;
        c->in_len += (size_t)k;
    }
    /* Its head is in: from now on it is no slow client's, whatever a busy
     * machine makes this thread wait for before it goes on. */
    set_state(c, CONN_BUSY, now_ms());
    /* The head is copied out of c->in (which later reads may move) into
     * the request's arena, with room for the decoded path. */
    copy = sl_arena_alloc(&c->arena, (size_t)end + 1);
    scratch = sl_arena_alloc(&c->arena, (size_t)end + 1);
    memcpy(copy, c->in, (size_t)end);
    copy[end] = '\0';
    c->in_off = (size_t)end;
    *out = sl_arena_alloc(&c->arena, sizeof(**out));
    if (http_parse_head(copy, (size_t)end, scratch, *out, &f) < 0) {
        answer_fault(c, &f);
        return -1;
    }
    return 0;
}

/* When a body that has got bytes since start falls below min_body_rate. */
static int64_t
rate_deadline(const struct http_server *s, int64_t start, uint64_t got)
{
    uint64_t need;

    if (s->min_rate == 0)
        return INT64_MAX;
    need = got / s->min_rate * 1000 + got % s->min_rate * 1000 / s->min_rate;
    return start + (int64_t)(need > (uint64_t)s->grace_ms ? need : (uint64_t)s->grace_ms);
}

/* A body missed a deadline: count why, answer 408. */
static void
body_timeout(struct conn *c, int64_t start, uint64_t got, int64_t rate_due)
{
    struct http_server *s = c->srv;
    char msg[160];

    if (now_ms() >= rate_due) {
        atomic_fetch_add(&s->dropped_body_rate, 1);
        snprintf(msg, sizeof(msg),
                 "the request body came slower than %llu bytes/s (%llu bytes in %lld ms)",
                 (unsigned long long)s->min_rate, (unsigned long long)got,
                 (long long)(now_ms() - start));
    } else {
        atomic_fetch_add(&s->dropped_idle, 1);
        snprintf(msg, sizeof(msg), "no byte of the request body came for %lld seconds",
                 (long long)(s->timeout_ms / 1000));
    }
    SL_DEBUG("http", "%s: %s", c->peer, msg);
    answer_timeout(c, msg);
}

static void refuse_late(struct conn *c, struct req *r, enum http_refusal why);

/* n more bytes of budget for r's body; false after the throttling refusal. */
static bool
reserve_more(struct conn *c, struct req *r, size_t n)
{
    if (reserve(c->srv, n)) {
        r->reserved += n;
        return true;
    }
    SL_DEBUG("http", "%s %s: body budget of %zu bytes spent, refused", r->pub.method,
             r->pub.path, c->srv->max_inflight);
    refuse_late(c, r, HTTP_OVERLOADED);
    return false;
}

/* A Content-Length body into r->body (allocated, reserved as it comes).
 * 0, or -1 (answered or gone). */
static int
read_body(struct conn *c, struct req *r, int64_t start)
{
    struct http_server *s = c->srv;
    size_t want = r->cap, have = c->in_len - c->in_off;

    if (have > want)
        have = want;
    if (have > r->reserved && !reserve_more(c, r, have - r->reserved))
        return -1;
    memcpy(r->body, c->in + c->in_off, have);
    hash_more(r, r->body, have);
    c->in_off += have;
    r->len = have;
    /* Bytes that came with the head are progress too: a client that sent
     * them in one write is no slower for it (it was taken for one). */
    atomic_store_explicit(&c->body_got, r->len, memory_order_relaxed);
    while (r->len < want) {
        int64_t due = rate_deadline(s, start, r->len);
        ssize_t k;

        if (r->len == r->reserved &&
            !reserve_more(c, r, want - r->len < RESERVE_STEP ? want - r->len : RESERVE_STEP))
            return -1;
        k = conn_read(c, r->body + r->len, r->reserved - r->len,
                      min64(due, c->progress_ms + s->timeout_ms));

        if (k == IO_TIMEOUT) {
            body_timeout(c, start, r->len, due);
            return -1;
        }
        if (k <= 0)
            return -1;
        /* Hashed now, while the rest is on its way and these bytes are
         * still in the cache: the hash costs no wait once the body is in. */
        hash_more(r, r->body + r->len, (size_t)k);
        r->len += (size_t)k;
        atomic_store_explicit(&c->body_got, r->len, memory_order_relaxed);
    }
    return 0;
}

/* Refuse a request mid-body (a chunked body past a limit) through check. */
static void
refuse_late(struct conn *c, struct req *r, enum http_refusal why)
{
    struct http_server *s = c->srv;
    struct http_response resp;

    drop_body(s, r);
    response_init(&resp);
    if (s->h.check != NULL)
        s->h.check(s->h.ctx, &r->pub, why, &resp);
    else
        default_refusal(s, why, &resp);
    if (send_response(c, &resp, RESP_CLOSE, s->timeout_ms) == 0)
        conn_linger(c);
}

/* Append n data bytes of a chunked body, growing and reserving. */
static int
chunked_take(struct conn *c, struct req *r, const char *p, size_t n)
{
    struct http_server *s = c->srv;

    if (n > r->cap - r->len) {
        size_t need = r->len + n, cap = r->cap ? r->cap : CHUNKED_START;

        if (need > s->max_body || need < r->len) {
            SL_DEBUG("http", "%s %s: chunked body over %zu bytes, refused", r->pub.method,
                     r->pub.path, s->max_body);
            refuse_late(c, r, HTTP_TOO_LARGE);
            return -1;
        }
        while (cap < need)
            cap *= 2;
        if (cap > s->max_body)
            cap = s->max_body;
        if (!reserve(s, cap - r->reserved)) {
            SL_DEBUG("http", "%s %s: body budget of %zu bytes spent, refused", r->pub.method,
                     r->pub.path, s->max_inflight);
            refuse_late(c, r, HTTP_OVERLOADED);
            return -1;
        }
        r->reserved = cap;
        r->body = sl_realloc(r->body, cap + 1);
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, n);
    hash_more(r, p, n);
    r->len += n;
    return 0;
}

/* A chunked body into r->body.  0, or -1 (answered or gone). */
static int
read_chunked(struct conn *c, struct req *r, int64_t start)
{
    struct http_server *s = c->srv;
    struct http_chunked ch = {0};
    uint64_t wire = 0;

    for (;;) {
        while (c->in_off < c->in_len) {
            const char *data;
            size_t used, dlen;
            struct http_fault f;
            int rc = http_chunked_feed(&ch, c->in + c->in_off, c->in_len - c->in_off, &used,
                                       &data, &dlen, &f);

            c->in_off += used;
            wire += used;
            if (rc < 0) {
                drop_body(s, r);
                answer_fault(c, &f);
                return -1;
            }
            if (dlen > 0 && chunked_take(c, r, data, dlen) < 0)
                return -1;
            if (rc == 1)
                return 0;
        }
        atomic_store_explicit(&c->body_got, wire, memory_order_relaxed);
        in_room(c, IN_CHUNKED);
        {
            int64_t due = rate_deadline(s, start, wire);
            ssize_t k = conn_read(c, c->in + c->in_len, c->in_cap - c->in_len,
                                  min64(due, c->progress_ms + s->timeout_ms));

            if (k == IO_TIMEOUT) {
                body_timeout(c, start, wire, due);
                return -1;
            }
            if (k <= 0)
                return -1;
            c->in_len += (size_t)k;
        }
    }
}

/* What the application sees of a request whose head is in (no body yet). */
static struct http_request
request_of(struct conn *c, const struct http_head *h)
{
    return (struct http_request){
        .method = h->method,
        .path = h->path,
        .target = h->target,
        .query = h->query,
        .headers = h->headers,
        .nheaders = h->nheaders,
        .peer = c->peer,
        .tls = c->ssl != NULL,
        .content_length = h->content_length,
        .conn = c,
    };
}

/*
 * One request whose head is in: check, body, handle, response.  Returns
 * true if the connection may carry another request.
 */
static bool
serve(struct conn *c, struct http_head *h)
{
    struct http_server *s = c->srv;
    enum http_refusal why = HTTP_OK;
    struct http_response resp;
    struct req r;
    int64_t len = h->content_length, start;
    bool ok = true, keep;
    int flags = 0;

    memset(&r, 0, sizeof(r));
    r.pub = request_of(c, h);
    if (len > 0 && (uint64_t)len > s->max_body)
        why = HTTP_TOO_LARGE;
    else if (len > 0 && !reserve(s, (size_t)len < RESERVE_STEP ? (size_t)len : RESERVE_STEP))
        why = HTTP_OVERLOADED;
    else if (len > 0)
        r.reserved = (size_t)len < RESERVE_STEP ? (size_t)len : RESERVE_STEP;

    response_init(&resp);
    if (s->h.check != NULL)
        ok = s->h.check(s->h.ctx, &r.pub, why, &resp) && why == HTTP_OK;
    else if (why != HTTP_OK) {
        default_refusal(s, why, &resp);
        ok = false;
    }
    if (!ok) {
        /* The body is not read: the connection cannot be reused. */
        drop_body(s, &r);
        if (send_response(c, &resp, RESP_CLOSE | (strcmp(h->method, "HEAD") == 0 ? RESP_HEAD : 0),
                          s->timeout_ms) == 0)
            conn_linger(c);
        return false;
    }
    sl_buf_release(&resp.body);
    if (h->expect_continue && h->minor == 1 && c->in_off == c->in_len) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

        if (conn_write(c, cont, sizeof(cont) - 1, s->timeout_ms) < 0) {
            drop_body(s, &r);
            return false;
        }
    }
    start = now_ms();
    atomic_store_explicit(&c->body_got, 0, memory_order_relaxed);
    if (len > 0) {
        r.body = sl_malloc((size_t)len + 1);
        r.cap = (size_t)len;
    }
    if (len != 0) {
        set_state(c, CONN_BODY, start);
        if ((len > 0 ? read_body(c, &r, start) : read_chunked(c, &r, start)) < 0) {
            drop_body(s, &r);
            return false;
        }
        set_state(c, CONN_BUSY, now_ms());
    }

    r.pub.body = r.pub.body_mut = r.body ? r.body : r.empty;
    r.pub.body_mut[r.len] = '\0';
    r.pub.body_len = r.len;
    if (r.pub.hash_body) {
        hash_more(&r, "", 0);
        sl_sha256_final(&r.sha, r.pub.body_sha256);
        r.hashing = false;
        r.pub.body_hashed = true;
    }
    response_init(&resp);
    s->h.handle(s->h.ctx, &r.pub, &resp);
    r.pub.body = r.pub.body_mut = NULL;
    drop_body(s, &r);

    keep = h->keep_alive && !atomic_load(&s->stopping);
    if (!keep)
        flags |= RESP_CLOSE;
    else if (h->minor == 0)
        flags |= RESP_KEEP_ALIVE_10;
    if (strcmp(h->method, "HEAD") == 0)
        flags |= RESP_HEAD;
    if (send_response(c, &resp, flags, s->timeout_ms) < 0)
        return false;
    return keep;
}

/* ---- connection threads ------------------------------------------------ */

static void
conn_exit(struct conn *c)
{
    struct http_server *s = c->srv;

    if (c->ssl != NULL)
        SSL_free(c->ssl);
    c->ssl = NULL;
    free(c->in);
    c->in = NULL;
    sl_arena_release(&c->arena);
    pthread_mutex_lock(&s->mu);
    /* An evicted connection left its count when it was evicted. */
    if (c->evicted)
        ;
    else if (c->waiting)
        s->nwaiting--;
    else
        s->nactive--;
    s->nlive--;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = s->zombies;
    s->zombies = c;
    pthread_cond_broadcast(&s->gone);
    pthread_mutex_unlock(&s->mu);
    /* Off the list: nobody else will touch the fd now. */
    close(c->fd);
}

/* A new SSL for c from the current context; false if OpenSSL fails. */
static bool
conn_tls(struct conn *c)
{
    struct http_server *s = c->srv;

    pthread_mutex_lock(&s->tls_mu);
    c->ssl = SSL_new(s->ctx);
    pthread_mutex_unlock(&s->tls_mu);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        ERR_clear_error();
        return false;
    }
    return true;
}

/* Requests on an admitted connection until it is to close, beginning
 * with head h if it is in already. */
static void
serve_all(struct conn *c, struct http_head *h)
{
    struct http_server *s = c->srv;

    for (;;) {
        if (h == NULL) {
            sl_arena_reset(&c->arena);
            if (read_head(c, &h, s->header_ms) < 0)
                return;
        }
        c->nreq++;
        set_state(c, CONN_BUSY, now_ms());
        if (!serve(c, h))
            return;
        h = NULL;
    }
}

/* An admitted connection: requests until it closes. */
static void *
conn_main(void *arg)
{
    struct conn *c = arg;
    struct http_server *s = c->srv;

    if (s->cert_path != NULL) {
        int rc = conn_tls(c) ? tls_handshake(c, c->accepted_ms + s->header_ms) : -1;

        if (rc == IO_TIMEOUT && !was_shut(c)) {
            atomic_fetch_add(&s->dropped_header_timeout, 1);
            SL_DEBUG("http", "%s: no TLS handshake within %lld s, dropped", c->peer,
                     (long long)(s->header_ms / 1000));
        }
        if (rc < 0)
            goto out;
    }
    serve_all(c, NULL);
out:
    conn_exit(c);
    return NULL;
}

static bool admit_waiting(struct conn *c);

/* A connection past the limits: its head, then admitted in the place of
 * a slower one, or answered 503 through check. */
static void *
wait_main(void *arg)
{
    struct conn *c = arg;
    struct http_server *s = c->srv;
    int64_t until = c->accepted_ms + WAIT_HEAD_MS;
    struct http_head *h;
    struct http_response resp;
    struct http_request req;

    if (s->cert_path != NULL && (!conn_tls(c) || tls_handshake(c, until) < 0)) {
        if (!was_shut(c))
            atomic_fetch_add(&s->closed_unanswered, 1);
        goto out;
    }
    if (read_head(c, &h, WAIT_HEAD_MS) < 0)
        goto out;
    if (admit_waiting(c)) {
        serve_all(c, h);
        goto out;
    }
    req = request_of(c, h);
    response_init(&resp);
    if (s->h.check != NULL)
        s->h.check(s->h.ctx, &req, HTTP_BUSY, &resp);
    else
        default_refusal(s, HTTP_BUSY, &resp);
    atomic_fetch_add(c->per_address ? &s->refused_per_address : &s->refused_busy, 1);
    if (send_response(c, &resp, RESP_CLOSE | (strcmp(h->method, "HEAD") == 0 ? RESP_HEAD : 0),
                      WAIT_HEAD_MS) == 0)
        conn_linger(c);
out:
    conn_exit(c);
    return NULL;
}

/* ---- set-up --------------------------------------------------------- */

static int
no_password(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static int
read_pem(const char *path, const char *what, struct sl_buf *out, struct sl_diag *d)
{
    struct sl_diag tmp;
    int rc;

    sl_diag_init(&tmp);
    rc = sl_read_file(path, MAX_PEM, out, &tmp);
    if (rc < 0) {
        rc = sl_fail(d, rc, "cannot read TLS %s '%s': %s", what, path, sl_strerror(rc));
        sl_diag_detail(d, "%s.", tmp.msg);
        sl_diag_at(d, path, 0, 0, NULL);
    }
    return rc;
}

/* Why OpenSSL refused, for a diag detail. */
static void
openssl_detail(struct sl_diag *d)
{
    char why[256];

    ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
    sl_diag_detail(d, "OpenSSL: %s.", why);
}

/*
 * Parse the certificate and key on their own before the SSL_CTX takes
 * them: each file's problem is then named (not PEM, not a key, not the
 * certificate's key), where SSL_CTX_use_* would only say that one failed.
 */
static int
check_tls(const char *cert_path, const struct sl_buf *cert, const char *key_path,
          const struct sl_buf *key, struct sl_diag *d)
{
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *b;
    int rc = 0;

    b = BIO_new_mem_buf(cert->data, (int)cert->len);
    if (b != NULL)
        x = PEM_read_bio_X509(b, NULL, no_password, NULL);
    BIO_free(b);
    if (x == NULL) {
        rc = sl_fail(d, SL_ERR_INPUT, "cannot use TLS certificate '%s': not a PEM certificate",
                     cert_path);
        openssl_detail(d);
        sl_diag_at(d, cert_path, 0, 0, NULL);
        goto out;
    }
    b = BIO_new_mem_buf(key->data, (int)key->len);
    if (b != NULL)
        k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    BIO_free(b);
    if (k == NULL) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "cannot use TLS key '%s': not an unencrypted PEM private key", key_path);
        openssl_detail(d);
        sl_diag_at(d, key_path, 0, 0, NULL);
        goto out;
    }
    if (X509_check_private_key(x, k) != 1) {
        rc = sl_fail(d, SL_ERR_INPUT, "cannot use TLS key '%s': it does not match certificate '%s'",
                     key_path, cert_path);
        sl_diag_at(d, key_path, 0, 0, NULL);
    }
out:
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return rc;
}

/* Bind and listen on a literal IPv4 or IPv6 address ("::1" or "[::1]"). */
static int
listen_on(const char *address, int port, int *fd_out, int *port_out, bool *v6,
          struct sl_diag *d)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    socklen_t sslen;
    size_t n = strlen(address);
    char host[INET6_ADDRSTRLEN + 1];
    int fd, one = 1, rc;

    if (n >= 2 && address[0] == '[' && address[n - 1] == ']')
        address++, n -= 2;
    if (port < 0 || port > 65535)
        return sl_fail(d, -EINVAL, "cannot listen on port %d: not a TCP port", port);
    if (n >= sizeof(host))
        goto bad_address;
    memcpy(host, address, n);
    host[n] = '\0';
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sslen = sizeof(*sin);
        *v6 = false;
    } else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sslen = sizeof(*sin6);
        *v6 = true;
    } else {
        goto bad_address;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return sl_fail(d, -errno, "cannot create a socket: %s", strerror(errno));
    /* A restarted server must not wait out TIME_WAIT of its old clients. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, SOMAXCONN) < 0) {
        rc = sl_fail(d, -errno, "cannot listen on %s port %d: %s", host, port, strerror(errno));
        close(fd);
        return rc;
    }
    sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
        rc = sl_fail(d, -errno, "cannot read the port of %s: %s", host, strerror(errno));
        close(fd);
        return rc;
    }
    *port_out = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
    *fd_out = fd;
    return 0;

bad_address:
    rc = sl_fail(d, -EINVAL, "cannot listen on '%s': not an IPv4 or IPv6 address", address);
    sl_diag_hint(d, "Give a literal address such as 127.0.0.1, 0.0.0.0, ::1 or ::.");
    return rc;
}

/* ---- admission: limits and eviction ----------------------------------- */

/* The per-address key of a peer: family and address, v4-mapped as v4. */
static void
peer_key(const struct sockaddr_storage *ss, unsigned char key[17], char *text, size_t size)
{
    memset(key, 0, 17);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            key[0] = 4;
            memcpy(key + 1, sin6->sin6_addr.s6_addr + 12, 4);
            inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, text, (socklen_t)size);
        } else {
            key[0] = 6;
            memcpy(key + 1, sin6->sin6_addr.s6_addr, 16);
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, (socklen_t)size);
        }
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        key[0] = 4;
        memcpy(key + 1, &sin->sin_addr, 4);
        inet_ntop(AF_INET, &sin->sin_addr, text, (socklen_t)size);
    }
}

/* Connections from key that count against max_per_address.  Under mu. */
static unsigned
count_address(const struct http_server *s, const unsigned char key[17])
{
    unsigned n = 0;

    for (const struct conn *c = s->conns; c != NULL; c = c->next)
        if (!c->waiting && !c->evicted && memcmp(c->key, key, 17) == 0)
            n++;
    return n;
}

/*
 * How long c has been unproductive, in ms, if it may be evicted; else -1.
 * Idle, that is once it has been for EVICT_MS; reading a head, or a body
 * below min_body_rate, once it has been for slow_ms (at most EVICT_MS:
 * the acceptor's rule, or a waiting connection's own head time, plus one,
 * when that one takes a place).  Under mu.
 */
static int64_t
unproductive(const struct http_server *s, const struct conn *c, int64_t now, int64_t slow_ms)
{
    int64_t age = now - c->since_ms;

    if (c->waiting || c->evicted || c->shut)
        return -1;
    if (c->state == CONN_IDLE)
        return age >= EVICT_MS ? age : -1;
    if (age < min64(slow_ms, EVICT_MS))
        return -1;
    if (c->state != CONN_HEAD &&
        !(c->state == CONN_BODY && s->min_rate > 0 &&
          atomic_load_explicit(&c->body_got, memory_order_relaxed) * 1000 <
              s->min_rate * (uint64_t)age))
        return -1;
    /* Bytes it sent that its thread has not read yet: the server is slow,
     * not the client (a busy machine runs the thread late). */
    {
        int pending = 0;

        if (ioctl(c->fd, FIONREAD, &pending) == 0 && pending > 0)
            return -1;
    }
    return age;
}

/* Evict the connection unproductive longest (from key only, if key is
 * not NULL), by unproductive()'s slow_ms.  Returns whether one was.
 * Under mu. */
static bool
evict_one(struct http_server *s, const unsigned char *key, int64_t now, int64_t slow_ms)
{
    struct conn *victim = NULL;
    int64_t worst = -1;

    for (struct conn *c = s->conns; c != NULL; c = c->next) {
        int64_t u;

        if (key != NULL && memcmp(c->key, key, 17) != 0)
            continue;
        u = unproductive(s, c, now, slow_ms);
        /* The list runs newest first: on a tie the older one goes. */
        if (u >= 0 && u >= worst) {
            worst = u;
            victim = c;
        }
    }
    if (victim == NULL)
        return false;
    victim->evicted = true;
    s->nactive--;
    shutdown(victim->fd, SHUT_RDWR);
    atomic_fetch_add(&s->evicted, 1);
    SL_DEBUG("http", "%s: evicted after %lld ms unproductive (%s)", victim->peer,
             (long long)worst,
             victim->state == CONN_HEAD ? "reading a head"
             : victim->state == CONN_IDLE ? "idle" : "slow body");
    return true;
}

/* Make room in a full waiting room: shut the member that has waited
 * longest for its head, if that is DISPLACE_MS.  Under mu. */
static bool
displace_waiting(struct http_server *s, int64_t now)
{
    struct conn *victim = NULL;

    /* Newest first: the last one that qualifies has waited longest. */
    for (struct conn *c = s->conns; c != NULL; c = c->next)
        if (c->waiting && !c->evicted && c->state == CONN_HEAD &&
            now - c->accepted_ms >= DISPLACE_MS)
            victim = c;
    if (victim == NULL)
        return false;
    victim->evicted = true;
    s->nwaiting--;
    shutdown(victim->fd, SHUT_RDWR);
    atomic_fetch_add(&s->closed_unanswered, 1);
    SL_DEBUG("http", "%s: no head after %lld ms in a full waiting room, closed", victim->peer,
             (long long)(now - victim->accepted_ms));
    return true;
}

/*
 * c, waiting, has its head in: admit it in the place of a connection
 * slower than it (see "The waiting room").  Returns whether it was.
 */
static bool
admit_waiting(struct conn *c)
{
    struct http_server *s = c->srv;
    int64_t now = now_ms();
    int64_t took = now - c->accepted_ms;
    /* Strictly slower than c: reading a head (or a body below the rate)
     * for longer than c took for its head. */
    int64_t slow_ms = max64(took + 1, OUTRUN_MIN_MS);
    bool ok;

    pthread_mutex_lock(&s->mu);
    ok = !c->evicted && !c->shut && !atomic_load(&s->stopping);
    if (ok && count_address(s, c->key) >= s->max_per_addr)
        ok = evict_one(s, c->key, now, slow_ms);
    if (ok && s->nactive >= s->max_conns)
        ok = evict_one(s, NULL, now, slow_ms);
    if (ok) {
        c->waiting = false;
        s->nwaiting--;
        s->nactive++;
    }
    pthread_mutex_unlock(&s->mu);
    if (ok) {
        atomic_fetch_add(&s->admitted_waiting, 1);
        SL_DEBUG("http", "%s: admitted from the waiting room, its head in %lld ms", c->peer,
                 (long long)took);
    } else {
        SL_DEBUG("http", "%s: its head in %lld ms, nobody slower to take the place of: 503",
                 c->peer, (long long)took);
    }
    return ok;
}

/* Join and free the connections that have exited. */
static void
reap(struct http_server *s)
{
    struct conn *z;

    pthread_mutex_lock(&s->mu);
    z = s->zombies;
    s->zombies = NULL;
    pthread_mutex_unlock(&s->mu);
    while (z != NULL) {
        struct conn *next = z->next;

        pthread_join(z->thread, NULL);
        free(z);
        z = next;
    }
}

/* Take a new connection: admit it, evict for it, refuse it, or close it. */
static void
admit(struct http_server *s, int fd, const struct sockaddr_storage *ss)
{
    struct conn *c = sl_calloc(1, sizeof(*c));
    int64_t now = now_ms();
    bool busy = false, per_address = false;
    int one = 1;

    atomic_fetch_add(&s->accepted, 1);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->srv = s;
    c->fd = fd;
    c->accepted_ms = c->progress_ms = c->since_ms = now;
    c->state = CONN_HEAD;
    atomic_init(&c->body_got, 0);
    sl_arena_init(&c->arena, 16 << 10);
    peer_key(ss, c->key, c->peer, sizeof(c->peer));

    pthread_mutex_lock(&s->mu);
    if (count_address(s, c->key) >= s->max_per_addr && !evict_one(s, c->key, now, EVICT_MS))
        busy = per_address = true;
    if (!busy && s->nactive >= s->max_conns && !evict_one(s, NULL, now, EVICT_MS))
        busy = true;
    if (busy && s->nwaiting >= MAX_WAITING && !displace_waiting(s, now)) {
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_add(&s->closed_unanswered, 1);
        SL_DEBUG("http", "%s: over the connection limits, closed unanswered", c->peer);
        goto out_close;
    }
    c->waiting = busy;
    c->per_address = per_address;
    if (busy)
        s->nwaiting++;
    else
        s->nactive++;
    s->nlive++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    if (pthread_create(&c->thread, NULL, busy ? wait_main : conn_main, c) != 0) {
        if (busy)
            s->nwaiting--;
        else
            s->nactive--;
        s->nlive--;
        s->conns = c->next;
        if (c->next)
            c->next->prev = NULL;
        pthread_mutex_unlock(&s->mu);
        atomic_fetch_add(&s->closed_unanswered, 1);
        SL_WARN("http", "cannot start a thread for a connection from %s", c->peer);
        goto out_close;
    }
    pthread_mutex_unlock(&s->mu);
    return;

out_close:
    close(fd);
    sl_arena_release(&c->arena);
    free(c);
}

static void *
acceptor(void *arg)
{
    struct http_server *s = arg;
    int64_t pause_until = 0;

    for (;;) {
        struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        int64_t now = now_ms();

        /* Out of file descriptors: do not spin on a listener that stays
         * readable; the backlog waits. */
        if (pause_until > now)
            p[0].fd = -1;
        poll(p, 2, pause_until > now ? (int)(pause_until - now) : 1000);
        reap(s);
        if (atomic_load(&s->stopping))
            break;
        for (int i = 0; i < 64 && p[0].revents; i++) {
            struct sockaddr_storage ss;
            socklen_t len = sizeof(ss);
            int fd = accept4(s->lfd, (struct sockaddr *)&ss, &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);

            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    SL_WARN("http", "cannot accept a connection: %s", strerror(errno));
                    pause_until = now_ms() + 100;
                }
                break;
            }
            admit(s, fd, &ss);
        }
    }
    return NULL;
}

/* ---- TLS ------------------------------------------------------------- */

/*
 * A server context from the certificate (with any chain after it) and key
 * files, checked first so that each file's problem is named.
 */
static int
tls_context(const char *cert_path, const char *key_path, int min_version, SSL_CTX **out,
            struct sl_diag *d)
{
    struct sl_buf cert, key;
    SSL_CTX *ctx = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *b = NULL;
    int rc;

    sl_buf_init(&cert);
    sl_buf_init(&key);
    rc = read_pem(cert_path, "certificate", &cert, d);
    if (rc == 0)
        rc = read_pem(key_path, "key", &key, d);
    if (rc == 0)
        rc = check_tls(cert_path, &cert, key_path, &key, d);
    if (rc < 0)
        goto out;
    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto openssl_failed;
    SSL_CTX_set_min_proto_version(ctx, min_version);
    /* No renegotiation (a client could make us do handshakes at will), no
     * compression (CRIME); our cipher order. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Non-blocking writes that may go out in parts; an idle connection
     * gives its buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    b = BIO_new_mem_buf(cert.data, (int)cert.len);
    if (b == NULL || (x = PEM_read_bio_X509(b, NULL, no_password, NULL)) == NULL ||
        SSL_CTX_use_certificate(ctx, x) != 1)
        goto openssl_failed;
    for (;;) {
        X509 *extra = PEM_read_bio_X509(b, NULL, no_password, NULL);

        if (extra == NULL)
            break;
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            goto openssl_failed;
        }
    }
    ERR_clear_error(); /* the end of the chain is an error to PEM_read */
    BIO_free(b);
    b = BIO_new_mem_buf(key.data, (int)key.len);
    if (b == NULL || (k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL)) == NULL ||
        SSL_CTX_use_PrivateKey(ctx, k) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto openssl_failed;
    *out = ctx;
    ctx = NULL;
    goto out;

openssl_failed:
    rc = sl_fail(d, -EIO, "cannot use TLS certificate '%s' with key '%s'", cert_path, key_path);
    openssl_detail(d);
out:
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    explicit_bzero(key.data, key.len);
    sl_buf_release(&key);
    sl_buf_release(&cert);
    return rc;
}

int
http_reload_tls(struct http_server *s, struct sl_diag *d)
{
    SSL_CTX *ctx = NULL, *old;
    int rc;

    if (s->cert_path == NULL)
        return sl_fail(d, -EINVAL, "cannot reload TLS: the server serves plain HTTP");
    rc = tls_context(s->cert_path, s->key_path, s->tls_min, &ctx, d);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&s->tls_mu);
    old = s->ctx;
    s->ctx = ctx;
    pthread_mutex_unlock(&s->tls_mu);
    /* Connections made from the old context hold references of their own. */
    SSL_CTX_free(old);
    return 0;
}

/* ---- start, stop, stats ---------------------------------------------- */

static void
server_free(struct http_server *s)
{
    SSL_CTX_free(s->ctx);
    free(s->cert_path);
    free(s->key_path);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    if (s->lfd >= 0)
        close(s->lfd);
    pthread_cond_destroy(&s->gone);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->tls_mu);
    free(s);
}

static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;

static void
ignore_sigpipe(void)
{
    struct sigaction sa;

    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
    }
}

static unsigned
or_default(unsigned v, unsigned def)
{
    return v ? v : def;
}

int
http_start(const struct http_config *cfg, const struct http_handlers *h,
           struct http_server **out, struct sl_diag *d)
{
    struct http_server *s;
    int rc;
    bool v6 = false;

    if (h == NULL || h->handle == NULL)
        return sl_fail(d, -EINVAL, "cannot start the http server: no request handler");
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return sl_fail(d, -EINVAL, "cannot start https: a TLS %s needs a TLS %s too",
                       cfg->tls_cert ? "certificate" : "key",
                       cfg->tls_cert ? "key" : "certificate");

    s = sl_calloc(1, sizeof(*s));
    s->h = *h;
    s->lfd = s->wake[0] = s->wake[1] = -1;
    s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    s->max_inflight = cfg->max_inflight ? cfg->max_inflight : DEFAULT_MAX_INFLIGHT;
    s->timeout_ms = (int64_t)or_default(cfg->timeout_s, DEFAULT_TIMEOUT_S) * 1000;
    s->header_ms = (int64_t)or_default(cfg->header_timeout_s, DEFAULT_HEADER_TIMEOUT_S) * 1000;
    s->min_rate = cfg->min_body_rate == HTTP_NO_MIN_RATE
                      ? 0
                      : or_default(cfg->min_body_rate, DEFAULT_MIN_BODY_RATE);
    s->grace_ms = (int64_t)or_default(cfg->body_grace_s, DEFAULT_BODY_GRACE_S) * 1000;
    s->max_conns = or_default(cfg->max_connections, DEFAULT_MAX_CONNECTIONS);
    s->max_per_addr = or_default(cfg->max_per_address, DEFAULT_MAX_PER_ADDRESS);
    s->tls_min = TLS1_2_VERSION;
    atomic_init(&s->held, 0);
    atomic_init(&s->stopping, false);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->tls_mu, NULL);
    pthread_cond_init(&s->gone, NULL);

    if (cfg->tls_min_version != NULL && strcmp(cfg->tls_min_version, "1.2") != 0) {
        if (strcmp(cfg->tls_min_version, "1.3") != 0) {
            rc = sl_fail(d, -EINVAL, "cannot start https: tls_min_version '%s' is not a TLS "
                         "version sluice accepts", cfg->tls_min_version);
            sl_diag_hint(d, "Use \"1.2\" (the default) or \"1.3\".");
            goto out_free;
        }
        s->tls_min = TLS1_3_VERSION;
    }
    if (cfg->tls_cert != NULL) {
        /* OpenSSL writes with write(), not send(MSG_NOSIGNAL): a client
         * gone while we write must not kill the process. */
        pthread_once(&sigpipe_once, ignore_sigpipe);
        rc = tls_context(cfg->tls_cert, cfg->tls_key, s->tls_min, &s->ctx, d);
        if (rc < 0)
            goto out_free;
        s->cert_path = sl_strdup(cfg->tls_cert);
        s->key_path = sl_strdup(cfg->tls_key);
    }
    rc = listen_on(cfg->address ? cfg->address : "127.0.0.1", cfg->port, &s->lfd, &s->port,
                   &v6, d);
    if (rc < 0)
        goto out_free;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        rc = sl_fail(d, -errno, "cannot start the http server: %s", strerror(errno));
        goto out_free;
    }
    rc = pthread_create(&s->acceptor, NULL, acceptor, s);
    if (rc != 0) {
        rc = sl_fail(d, -EIO, "cannot start the http server: no thread: %s", strerror(rc));
        goto out_free;
    }
    *out = s;
    return 0;

out_free:
    server_free(s);
    return rc;
}

int
http_port(const struct http_server *s)
{
    return s->port;
}

bool
http_tls(const struct http_server *s)
{
    return s->cert_path != NULL;
}

void
http_stats(const struct http_server *s, struct http_stats *out)
{
    struct http_server *m = (struct http_server *)s; /* the lock, not the data */

    out->accepted = atomic_load(&s->accepted);
    out->evicted = atomic_load(&s->evicted);
    out->admitted_waiting = atomic_load(&s->admitted_waiting);
    out->refused_busy = atomic_load(&s->refused_busy);
    out->refused_per_address = atomic_load(&s->refused_per_address);
    out->closed_unanswered = atomic_load(&s->closed_unanswered);
    out->dropped_header_timeout = atomic_load(&s->dropped_header_timeout);
    out->dropped_body_rate = atomic_load(&s->dropped_body_rate);
    out->dropped_idle = atomic_load(&s->dropped_idle);
    out->bad_request = atomic_load(&s->bad_request);
    pthread_mutex_lock(&m->mu);
    out->open = s->nlive;
    out->reading_head = out->reading_body = 0;
    for (const struct conn *c = s->conns; c != NULL; c = c->next) {
        out->reading_head += c->state == CONN_HEAD;
        out->reading_body += c->state == CONN_BODY;
    }
    pthread_mutex_unlock(&m->mu);
}

void
http_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    /* The acceptor goes first, and the listener with it, so that new
     * clients are refused by the kernel rather than left in the backlog. */
    if (write(s->wake[1], "x", 1) < 0)
        SL_DEBUG("http", "cannot wake the acceptor: %s", strerror(errno));
    pthread_join(s->acceptor, NULL);
    close(s->lfd);
    s->lfd = -1;

    /* Connections without a request in flight close now; the others
     * finish theirs (each has deadlines, but handle() may take its time). */
    pthread_mutex_lock(&s->mu);
    for (struct conn *c = s->conns; c != NULL; c = c->next) {
        if (c->waiting || c->state == CONN_HEAD || c->state == CONN_IDLE) {
            c->shut = true;
            shutdown(c->fd, SHUT_RDWR);
        }
    }
    while (s->conns != NULL)
        pthread_cond_wait(&s->gone, &s->mu);
    pthread_mutex_unlock(&s->mu);
    reap(s);
    server_free(s);
}
