/*
 * test_http.c - the HTTP layer, driven over loopback with raw sockets and
 * an OpenSSL client: keep-alive, limits, timeouts, concurrency, graceful
 * stop, HTTPS.  Every socket has a receive timeout, so a broken server
 * fails a check instead of hanging the suite.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/hash.h"
#include "server/http.h"
#include "test.h"

/* ---- the application side ------------------------------------------ */

struct app {
    int gate;                  /* handle() waits until this many have begun */
    int wait_refused_port;     /* handle() waits until this port refuses */
    atomic_int entered;        /* handle() calls begun */
    atomic_int refusals[4];    /* check calls by why */
    atomic_int checks;
    atomic_int gave_up;        /* handle() calls whose wait hit WAIT_S */
};

/*
 * Tests wait for the event they need, never for a fixed time: a busy
 * machine can take many times longer than usual for anything.  WAIT_S
 * bounds each wait; only a broken server reaches it.
 */
#define WAIT_S 60.0

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port, int rcv_timeout_s);

/* Whether a new connection to port is refused: the listener is closed. */
static bool
port_refuses(int port)
{
    int fd = dial(port, 1);

    if (fd < 0)
        return true;
    close(fd);
    return false;
}

static bool
app_check(void *ctx, struct http_request *req, enum http_refusal why,
          struct http_response *resp)
{
    struct app *a = ctx;

    atomic_fetch_add(&a->checks, 1);
    atomic_fetch_add(&a->refusals[why], 1);
    if (why != HTTP_OK) {
        resp->status = why == HTTP_TOO_LARGE ? 413 : why == HTTP_BUSY ? 503 : 400;
        resp->content_type = "application/x-amz-json-1.1";
        sl_buf_addf(&resp->body, "{\"__type\":\"%s\"}",
                    why == HTTP_TOO_LARGE ? "TooLarge"
                    : why == HTTP_BUSY    ? "ServiceUnavailableException"
                                          : "ProvisionedThroughputExceededException");
        return false;
    }
    if (strcmp(req->path, "/forbidden") == 0) {
        resp->status = 403;
        sl_buf_adds(&resp->body, "{\"message\":\"no\"}");
        return false;
    }
    req->hash_body = strcmp(req->path, "/hashed") == 0;
    return req->body == NULL;
}

/*
 * Echoes the body for POST /echo; otherwise describes the request:
 * "METHOD PATH len=N target=X q=Y flag=Z".  The body is changed in place
 * first, to prove it is writable.
 */
static void
app_handle(void *ctx, struct http_request *req, struct http_response *resp)
{
    struct app *a = ctx;
    const char *t = http_header(req, "x-amz-target"), *q = http_query(req, "q"),
               *flag = http_query(req, "flag");

    atomic_fetch_add(&a->entered, 1);
    if (a->gate > 0 || a->wait_refused_port > 0) {
        double until = now_s() + WAIT_S;

        while (!(a->gate > 0 && atomic_load(&a->entered) >= a->gate) &&
               !(a->wait_refused_port > 0 && port_refuses(a->wait_refused_port))) {
            if (now_s() > until || atomic_load(&a->gave_up)) {
                atomic_fetch_add(&a->gave_up, 1);
                break;
            }
            sleep_ms(5);
        }
    }
    if (req->body_len > 0) {
        req->body_mut[0] ^= 0x20;
        req->body_mut[0] ^= 0x20;
    }
    if (req->body[req->body_len] != '\0')
        resp->status = 500;
    http_response_header(resp, "x-amzn-RequestId", "r-1");
    if (strcmp(req->path, "/fields") == 0) {
        sl_buf_addf(&resp->body, "target=%s query=%s peer=%s tls=%d n=%zu", req->target,
                    req->query, req->peer, req->tls, req->nheaders);
        for (size_t i = 0; i < req->nheaders; i++)
            sl_buf_addf(&resp->body, " [%s|%s]", req->headers[i].name, req->headers[i].value);
        return;
    }
    if (strcmp(req->path, "/hashed") == 0) {
        /* "ok" if the layer's hash, taken as the body came, is the body's. */
        unsigned char md[SL_SHA256_LEN];
        struct sl_sha256 h;

        sl_sha256_init(&h);
        sl_sha256_update(&h, req->body, req->body_len);
        sl_sha256_final(&h, md);
        sl_buf_adds(&resp->body, req->body_hashed && memcmp(md, req->body_sha256, 32) == 0
                                     ? "ok"
                                     : "wrong");
        return;
    }
    if (strcmp(req->path, "/echo") == 0) {
        resp->content_type = "application/octet-stream";
        sl_buf_add(&resp->body, req->body, req->body_len);
        return;
    }
    sl_buf_addf(&resp->body, "%s %s len=%zu cl=%lld target=%s q=%s flag=%s", req->method,
                req->path, req->body_len, (long long)req->content_length, t ? t : "-",
                q ? q : "-", flag ? flag : "-");
}

static struct http_server *
start(struct app *a, struct http_config *cfg)
{
    struct http_handlers h = {a, app_check, app_handle};
    struct http_server *s = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    if (http_start(cfg, &h, &s, &d) < 0) {
        fprintf(stderr, "http_start: %s\n", d.msg);
        CHECK(!"http_start failed");
    }
    CHECK(http_port(s) > 0);
    return s;
}

/* ---- the client side ----------------------------------------------- */

struct client {
    int fd;
    SSL *ssl;          /* NULL for plain HTTP */
    struct sl_buf in;  /* received, not yet consumed */
};

struct reply {
    int status;
    struct sl_buf head; /* status line and headers */
    struct sl_buf body;
};

static int
dial(int port, int rcv_timeout_s)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {rcv_timeout_s, 0};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
client_open(struct client *c, int port)
{
    c->ssl = NULL;
    sl_buf_init(&c->in);
    c->fd = dial(port, 5);
    CHECK(c->fd >= 0);
}

static void
client_close(struct client *c)
{
    if (c->ssl != NULL) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    sl_buf_release(&c->in);
}

static int
client_send(struct client *c, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t k = c->ssl ? SSL_write(c->ssl, s, (int)n) : send(c->fd, s, n, MSG_NOSIGNAL);

        if (k <= 0) {
            if (k < 0 && errno == EINTR && c->ssl == NULL)
                continue;
            return -1;
        }
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* More bytes into c->in; 0 at EOF, -1 on error or timeout. */
static int
client_fill(struct client *c)
{
    ssize_t k;

    sl_buf_grow(&c->in, 65536);
    if (c->ssl)
        k = SSL_read(c->ssl, c->in.data + c->in.len, 65536);
    else
        k = recv(c->fd, c->in.data + c->in.len, 65536, 0);
    if (k < 0)
        return -1;
    if (k == 0)
        return 0;
    sl_buf_setlen(&c->in, c->in.len + (size_t)k);
    return 1;
}

/* Read one response; head_only for a HEAD request.  0, or -1. */
static int
client_reply(struct client *c, struct reply *r, bool head_only)
{
    char *end, *cl;
    size_t hlen, blen = 0;

    sl_buf_init(&r->head);
    sl_buf_init(&r->body);
    r->status = 0;
    while ((end = strstr(c->in.data, "\r\n\r\n")) == NULL)
        if (client_fill(c) <= 0)
            return -1;
    hlen = (size_t)(end - c->in.data) + 4;
    sl_buf_add(&r->head, c->in.data, hlen);
    if (sscanf(r->head.data, "HTTP/1.1 %d", &r->status) != 1)
        return -1;
    cl = strcasestr(r->head.data, "\r\ncontent-length:");
    if (cl != NULL)
        blen = strtoull(cl + 17, NULL, 10);
    if (head_only)
        blen = 0;
    while (c->in.len < hlen + blen)
        if (client_fill(c) <= 0)
            return -1;
    sl_buf_add(&r->body, c->in.data + hlen, blen);
    memmove(c->in.data, c->in.data + hlen + blen, c->in.len - hlen - blen);
    sl_buf_setlen(&c->in, c->in.len - hlen - blen);
    return 0;
}

static void
reply_release(struct reply *r)
{
    sl_buf_release(&r->head);
    sl_buf_release(&r->body);
}

/* Whether the server closed the connection (EOF or reset) in time. */
static bool
client_closed(struct client *c)
{
    for (;;) {
        int k = client_fill(c);

        if (k == 0)
            return true;
        if (k < 0)
            return errno == ECONNRESET || c->ssl != NULL;
    }
}

/* Send one request, read its reply; 0 or -1. */
static int
roundtrip(struct client *c, const char *method, const char *path, const char *extra,
          const void *body, size_t len, struct reply *r)
{
    struct sl_buf req;
    int rc;

    /* r is always safe to release, even if sending fails. */
    sl_buf_init(&r->head);
    sl_buf_init(&r->body);
    r->status = 0;
    sl_buf_init(&req);
    sl_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path, extra ? extra : "");
    if (body != NULL)
        sl_buf_addf(&req, "Content-Length: %zu\r\n", len);
    sl_buf_adds(&req, "\r\n");
    rc = client_send(c, req.data, req.len);
    if (rc == 0 && body != NULL)
        rc = client_send(c, body, len);
    sl_buf_release(&req);
    if (rc == 0)
        rc = client_reply(c, r, strcmp(method, "HEAD") == 0);
    return rc;
}

/* ---- tests ----------------------------------------------------------- */

TEST(keep_alive_serves_several_requests)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "POST", "/x", NULL, "hello", 5, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "POST /x len=5 cl=5 target=- q=- flag=-");
    CHECK_HAS(r.head.data, "Content-Type: application/json");
    CHECK_HAS(r.head.data, "x-amzn-RequestId: r-1");
    reply_release(&r);

    CHECK_INT(roundtrip(&c, "GET", "/a%20b?q=1&flag", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "GET /a b len=0 cl=0 target=- q=1 flag=");
    reply_release(&r);

    CHECK_INT(roundtrip(&c, "HEAD", "/h", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_HAS(r.head.data, "Content-Length: 38");
    CHECK_INT(r.body.len, 0);
    reply_release(&r);

    for (int i = 0; i < 20; i++) {
        CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, "abc", 3, &r), 0);
        CHECK_STR(r.body.data, "abc");
        reply_release(&r);
    }
    CHECK_INT(atomic_load(&a.entered), 23);
    client_close(&c);
    http_stop(s);
}

TEST(pipelined_requests_answered_in_order)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *two = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
                      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\ntwo";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, two, strlen(two)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "one");
    reply_release(&r);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "two");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(header_names_are_case_insensitive)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "POST", "/", "X-AMZ-TARGET: Kinesis_20131202.PutRecords\r\n", "{}", 2,
                        &r), 0);
    CHECK_HAS(r.body.data, "target=Kinesis_20131202.PutRecords");
    reply_release(&r);
    CHECK_INT(roundtrip(&c, "POST", "/", "x-Amz-tarGET: a.b\r\n", "{}", 2, &r), 0);
    CHECK_HAS(r.body.data, "target=a.b");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(ten_megabyte_body_round_trip)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    size_t len = (size_t)10 << 20;
    char *body = sl_malloc(len);
    struct client c;
    struct reply r;

    for (size_t i = 0; i < len; i++)
        body[i] = (char)('a' + (i * 7 + i / 4099) % 26);
    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, body, len, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body.len, len);
    CHECK(memcmp(r.body.data, body, len) == 0);
    reply_release(&r);
    free(body);
    client_close(&c);
    http_stop(s);
}

TEST(chunked_body_is_assembled)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, req, strlen(req)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "hello world");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

/* A body check asks to have hashed is hashed as it arrives, whole, in
 * pieces or chunked; others are not hashed at all. */
TEST(body_hashed_as_it_arrives)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *chunked = "POST /hashed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    const char *head = "POST /hashed HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n";
    size_t n = 300000;
    char *body = sl_malloc(n);
    struct client c;
    struct reply r;

    for (size_t i = 0; i < n; i++)
        body[i] = (char)('a' + i % 23);
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, chunked, strlen(chunked)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "ok");
    reply_release(&r);
    /* In pieces, each sent once the server is surely reading the body. */
    CHECK_INT(client_send(&c, head, strlen(head)), 0);
    CHECK_INT(client_send(&c, body, 1000), 0);
    CHECK_INT(client_send(&c, body + 1000, 99000), 0);
    CHECK_INT(client_send(&c, body + 100000, n - 100000), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "ok");
    reply_release(&r);
    CHECK_INT(roundtrip(&c, "POST", "/hashed", NULL, "", 0, &r), 0);
    CHECK_STR(r.body.data, "ok");
    reply_release(&r);
    CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, "x", 1, &r), 0);
    CHECK_STR(r.body.data, "x");
    reply_release(&r);
    client_close(&c);
    free(body);
    http_stop(s);
}

TEST(over_max_body_refused_before_the_body)
{
    struct app a = {0};
    struct http_config cfg = {.max_body = 1000};
    struct http_server *s = start(&a, &cfg);
    const char *req = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    struct client c;
    struct reply r;

    /* Only the headers go out; the answer must come without the body. */
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, req, strlen(req)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 413);
    CHECK_STR(r.body.data, "{\"__type\":\"TooLarge\"}");
    CHECK_HAS(r.head.data, "application/x-amz-json-1.1");
    CHECK_INT(atomic_load(&a.refusals[HTTP_TOO_LARGE]), 1);
    CHECK_INT(atomic_load(&a.entered), 0);
    CHECK(client_closed(&c));
    reply_release(&r);
    client_close(&c);

    /* A chunked body is refused, with an answer, once it passes the limit. */
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 56),
              0);
    for (int i = 0; i < 3; i++) {
        char chunk[600];

        memset(chunk, 'x', sizeof(chunk));
        if (client_send(&c, "258\r\n", 5) < 0 || client_send(&c, chunk, sizeof(chunk)) < 0 ||
            client_send(&c, "\r\n", 2) < 0)
            break;
    }
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 413);
    CHECK_INT(atomic_load(&a.refusals[HTTP_TOO_LARGE]), 2);
    reply_release(&r);
    CHECK(client_closed(&c));
    CHECK_INT(atomic_load(&a.entered), 0);
    client_close(&c);
    http_stop(s);
}

TEST(expect_100_continue)
{
    struct app a = {0};
    struct http_config cfg = {.max_body = 1000};
    struct http_server *s = start(&a, &cfg);
    const char *ok = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     "Content-Length: 5\r\n\r\n";
    const char *big = "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                      "Content-Length: 5000\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, ok, strlen(ok)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 100);
    reply_release(&r);
    CHECK_INT(client_send(&c, "howdy", 5), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "howdy");
    reply_release(&r);

    /* Refused: the final status comes instead of 100 Continue. */
    CHECK_INT(client_send(&c, big, strlen(big)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 413);
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

/*
 * Over max_connections with nothing evictable (both others idle for less
 * than a second): 503 through check, then a close.  Once one of them has
 * idled over a second, a new connection evicts it and is served.
 */
TEST(connections_over_the_limit_get_503_then_evict_idle_ones)
{
    struct app a = {0};
    struct http_config cfg = {.max_connections = 2};
    struct http_server *s = start(&a, &cfg);
    struct http_stats st;
    struct client c[3];
    struct reply r;
    int status = 0;

    for (int i = 0; i < 2; i++) {
        client_open(&c[i], http_port(s));
        CHECK_INT(roundtrip(&c[i], "GET", "/", NULL, NULL, 0, &r), 0);
        CHECK_INT(r.status, 200);
        reply_release(&r);
    }
    client_open(&c[2], http_port(s));
    CHECK_INT(roundtrip(&c[2], "GET", "/", NULL, NULL, 0, &r), 0);
    if (r.status == 503) {
        CHECK_HAS(r.body.data, "ServiceUnavailableException");
        CHECK_HAS(r.head.data, "Connection: close");
        CHECK(client_closed(&c[2]));
        CHECK_INT(atomic_load(&a.refusals[HTTP_BUSY]), 1);
        http_stats(s, &st);
        CHECK_INT(st.refused_busy, 1);
    } else {
        /* This machine took over a second between the requests: c[0] was
         * evictable already.  Then the eviction below has happened. */
        CHECK_INT(r.status, 200);
    }
    reply_release(&r);
    client_close(&c[2]);

    /* Bounded polling until c[0] has idled past a second. */
    for (double until = now_s() + WAIT_S; status != 200 && now_s() < until;) {
        client_open(&c[2], http_port(s));
        CHECK_INT(roundtrip(&c[2], "GET", "/", NULL, NULL, 0, &r), 0);
        status = r.status;
        reply_release(&r);
        if (status != 200) {
            client_close(&c[2]);
            sleep_ms(50);
        }
    }
    CHECK_INT(status, 200);
    CHECK(client_closed(&c[0]));
    http_stats(s, &st);
    CHECK(st.evicted >= 1);
    /* c[1], idle less long (or as long, but younger), is still served. */
    CHECK_INT(roundtrip(&c[1], "GET", "/", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 200);
    reply_release(&r);
    for (int i = 0; i < 3; i++)
        client_close(&c[i]);
    http_stop(s);
}

TEST(check_refusal_skips_the_body_and_closes)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *req = "POST /forbidden HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, req, strlen(req)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 403);
    CHECK_HAS(r.head.data, "Connection: close");
    CHECK(client_closed(&c));
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(over_max_inflight_is_overloaded)
{
    struct app a = {0};
    struct http_config cfg = {.max_inflight = 1000000};
    struct http_server *s = start(&a, &cfg);
    const char *big = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 800000\r\n\r\n";
    const char *more = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 400000\r\n\r\n";
    char *body = sl_calloc(1, 800000);
    struct client held, late;
    struct reply r;

    /* held's headers reserve 800 KB; half its body is sent, then it waits. */
    client_open(&held, http_port(s));
    CHECK_INT(client_send(&held, big, strlen(big)), 0);
    CHECK_INT(client_send(&held, body, 400000), 0);
    /* The reservation is made before check() is called. */
    for (double until = now_s() + WAIT_S; atomic_load(&a.checks) < 1 && now_s() < until;)
        sleep_ms(5);
    CHECK_INT(atomic_load(&a.checks), 1);

    client_open(&late, http_port(s));
    CHECK_INT(client_send(&late, more, strlen(more)), 0);
    CHECK_INT(client_reply(&late, &r, false), 0);
    CHECK_INT(r.status, 400);
    CHECK_HAS(r.body.data, "ProvisionedThroughputExceededException");
    CHECK_INT(atomic_load(&a.refusals[HTTP_OVERLOADED]), 1);
    reply_release(&r);
    client_close(&late);

    CHECK_INT(client_send(&held, body + 400000, 400000), 0);
    CHECK_INT(client_reply(&held, &r, false), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body.len, 800000);
    reply_release(&r);

    /* The budget came back with the response. */
    client_open(&late, http_port(s));
    CHECK_INT(roundtrip(&late, "POST", "/", NULL, body, 400000, &r), 0);
    CHECK_INT(r.status, 200);
    reply_release(&r);
    client_close(&late);
    client_close(&held);
    free(body);
    http_stop(s);
}

/* A body counts against max_inflight as it arrives: a client that
 * announces a big body and trickles it holds one step of the budget, not
 * all it announced, so others are not throttled by it. */
TEST(announced_body_reserves_as_it_arrives)
{
    struct app a = {0};
    struct http_config cfg = {.max_inflight = 4u << 20};
    struct http_server *s = start(&a, &cfg);
    const char *slow_head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n";
    size_t n = 2u << 20;
    char *body = sl_calloc(1, n);
    struct client slow, other;
    struct reply r;

    client_open(&slow, http_port(s));
    CHECK_INT(client_send(&slow, slow_head, strlen(slow_head)), 0);
    CHECK_INT(client_send(&slow, "0123456789", 10), 0);
    for (double until = now_s() + WAIT_S; atomic_load(&a.checks) < 1 && now_s() < until;)
        sleep_ms(5);
    CHECK_INT(atomic_load(&a.checks), 1);

    client_open(&other, http_port(s));
    CHECK_INT(roundtrip(&other, "POST", "/", NULL, body, n, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_INT(atomic_load(&a.refusals[HTTP_OVERLOADED]), 0);
    reply_release(&r);
    client_close(&other);
    client_close(&slow);
    free(body);
    http_stop(s);
}

TEST(slow_client_dropped_others_served)
{
    struct app a = {0};
    struct http_config cfg = {.timeout_s = 1};
    struct http_server *s = start(&a, &cfg);
    const char *half = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    struct client slow, fast;
    struct reply r;
    double t0 = now_s(), dropped = 0;
    int served = 0, served_stalled = 0;

    client_open(&slow, http_port(s));
    client_open(&fast, http_port(s));
    CHECK_INT(client_send(&slow, half, strlen(half)), 0);
    /* fast keeps working (within the idle limit) while slow stalls, until
     * slow is dropped and fast has been served 10 times. */
    while ((dropped == 0 || served < 10) && now_s() - t0 < WAIT_S) {
        struct pollfd p = {slow.fd, POLLIN, 0};

        CHECK_INT(roundtrip(&fast, "POST", "/echo", NULL, "ping", 4, &r), 0);
        CHECK_STR(r.body.data, "ping");
        reply_release(&r);
        served++;
        if (poll(&p, 1, 0) == 0)
            served_stalled++; /* answered while slow was still connected */
        if (poll(&p, 1, 100) == 1 && dropped == 0) {
            CHECK(client_closed(&slow));
            dropped = now_s() - t0;
        }
    }
    CHECK(dropped >= 0.9 && dropped < 2.9);
    CHECK(served >= 10);
    CHECK(served_stalled >= 1);
    CHECK_INT(atomic_load(&a.entered), served);
    client_close(&slow);
    client_close(&fast);
    http_stop(s);
}

struct conc {
    int port;
    int status;
};

static void *
one_request(void *arg)
{
    struct conc *k = arg;
    struct client c;
    struct reply r;

    c.ssl = NULL;
    sl_buf_init(&c.in);
    c.fd = dial(k->port, (int)WAIT_S + 10);
    if (c.fd < 0)
        return NULL;
    if (roundtrip(&c, "POST", "/echo", NULL, "zz", 2, &r) == 0)
        k->status = r.status;
    reply_release(&r);
    client_close(&c);
    return NULL;
}

/*
 * Each handler waits until all 32 have begun: they can only all finish if
 * the server runs them at the same time.  (Run one after another, the
 * first would wait in vain until WAIT_S.)  An event, not a clock: the test
 * does not depend on how fast this machine starts threads.
 */
TEST(slow_handlers_run_concurrently)
{
    struct app a = {.gate = 32};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    pthread_t th[32];
    struct conc k[32];

    for (int i = 0; i < 32; i++) {
        k[i] = (struct conc){http_port(s), 0};
        CHECK_INT(pthread_create(&th[i], NULL, one_request, &k[i]), 0);
    }
    for (int i = 0; i < 32; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(atomic_load(&a.gave_up), 0);
    CHECK_INT(atomic_load(&a.entered), 32);
    for (int i = 0; i < 32; i++)
        CHECK_INT(k[i].status, 200);
    http_stop(s);
}

struct stopper {
    struct http_server *s;
    struct app *a;
};

static void *
stop_when_entered(void *arg)
{
    struct stopper *st = arg;

    for (double until = now_s() + WAIT_S;
         atomic_load(&st->a->entered) == 0 && now_s() < until;)
        sleep_ms(5);
    http_stop(st->s);
    return NULL;
}

/*
 * The request is in its handler when the stop begins, and its handler
 * returns only once the stop has begun (the listener is closed, which
 * http_stop() does after marking the server as stopping): in flight for
 * sure, whatever the timing.
 */
TEST(graceful_stop_finishes_requests_in_flight)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct stopper st = {s, &a};
    struct client c, idle;
    struct reply r;
    pthread_t th;
    int port = http_port(s), fd;

    a.wait_refused_port = port;

    client_open(&idle, port);
    client_open(&c, port);
    CHECK_INT(pthread_create(&th, NULL, stop_when_entered, &st), 0);
    CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, "last", 4, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "last");
    CHECK_HAS(r.head.data, "Connection: close");
    reply_release(&r);
    pthread_join(th, NULL);
    CHECK_INT(atomic_load(&a.gave_up), 0);
    CHECK(client_closed(&c));
    CHECK(client_closed(&idle));
    fd = dial(port, 1);
    CHECK(fd < 0);
    client_close(&c);
    client_close(&idle);
}

TEST(malformed_requests_do_not_hurt)
{
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
        "\r\n\r\n\r\n",
    };
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct sl_buf huge;
    struct client c;
    struct reply r;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        client_open(&c, http_port(s));
        CHECK_INT(client_send(&c, bad[i], strlen(bad[i])), 0);
        /* Either an error status or a close; never a hang or a crash. */
        if (client_reply(&c, &r, false) == 0)
            CHECK(r.status >= 400);
        reply_release(&r);
        client_close(&c);
    }
    sl_buf_init(&huge);
    sl_buf_adds(&huge, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 400000; i++)
        sl_buf_addc(&huge, 'h');
    sl_buf_adds(&huge, "\r\n\r\n");
    client_open(&c, http_port(s));
    client_send(&c, huge.data, huge.len);
    if (client_reply(&c, &r, false) == 0)
        CHECK(r.status >= 400);
    reply_release(&r);
    client_close(&c);
    sl_buf_release(&huge);

    /* A client that vanishes mid-body. */
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9000\r\n\r\nabc", 53),
              0);
    client_close(&c);

    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, "fine", 4, &r), 0);
    CHECK_STR(r.body.data, "fine");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(listens_on_ipv6_loopback)
{
    struct app a = {0};
    struct http_config cfg = {.address = "::1"};
    struct http_handlers h = {&a, NULL, app_handle};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    struct timeval tv = {5, 0};
    struct http_server *s = NULL;
    struct sl_diag d;
    struct client c;
    struct reply r;
    int rc;

    sl_diag_init(&d);
    rc = http_start(&cfg, &h, &s, &d);
    if (rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT) {
        printf("# no IPv6 loopback here: %s\n", d.msg);
        return;
    }
    CHECK_INT(rc, 0);
    c.ssl = NULL;
    sl_buf_init(&c.in);
    c.fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c.fd >= 0);
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sin6.sin6_addr = in6addr_loopback;
    sin6.sin6_port = htons((uint16_t)http_port(s));
    CHECK_INT(connect(c.fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
    CHECK_INT(roundtrip(&c, "GET", "/six", NULL, NULL, 0, &r), 0);
    CHECK_HAS(r.body.data, "GET /six");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(bad_addresses_are_refused)
{
    struct app a = {0};
    struct http_handlers h = {&a, app_check, app_handle};
    struct http_config cfg = {.address = "localhost"};
    struct http_server *s = NULL, *s2 = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), -EINVAL);
    CHECK_HAS(d.msg, "'localhost'");

    cfg.address = "127.0.0.1";
    s = start(&a, &cfg);
    cfg.port = http_port(s);
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s2, &d), -EADDRINUSE);
    CHECK_HAS(d.msg, "127.0.0.1");
    http_stop(s);
}

/* ---- HTTPS ------------------------------------------------------------ */

static char tls_dir[128];

static void
make_cert(void)
{
    char cmd[512];

    snprintf(tls_dir, sizeof(tls_dir), "/tmp/sluice-http-test-%d", getpid());
    snprintf(cmd, sizeof(cmd),
             "mkdir -p %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -subj /CN=localhost -days 1 -keyout %s/key.pem -out %s/cert.pem "
             ">/dev/null 2>&1",
             tls_dir, tls_dir, tls_dir);
    CHECK_INT(system(cmd), 0);
}

TEST(https_with_a_self_signed_certificate)
{
    char cert[256], key[256];
    struct app a = {0};
    struct http_config cfg = {.tls_cert = cert, .tls_key = key};
    struct http_server *s;
    SSL_CTX *ctx;
    struct client c;
    struct reply r;

    make_cert();
    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
    s = start(&a, &cfg);
    ctx = SSL_CTX_new(TLS_client_method());
    CHECK(ctx != NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    client_open(&c, http_port(s));
    c.ssl = SSL_new(ctx);
    SSL_set_fd(c.ssl, c.fd);
    SSL_set_tlsext_host_name(c.ssl, "localhost");
    CHECK_INT(SSL_connect(c.ssl), 1);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(roundtrip(&c, "POST", "/echo", NULL, "secret", 6, &r), 0);
        CHECK_INT(r.status, 200);
        CHECK_STR(r.body.data, "secret");
        reply_release(&r);
    }
    client_close(&c);
    SSL_CTX_free(ctx);
    http_stop(s);
    sl_rmtree(tls_dir);
}

TEST(bad_certificates_give_clear_errors)
{
    char cert[256], key[256], junk[256];
    struct app a = {0};
    struct http_handlers h = {&a, app_check, app_handle};
    struct http_config cfg = {.tls_cert = "/nonexistent/cert.pem", .tls_key = key};
    struct http_server *s = NULL;
    struct sl_diag d;

    make_cert();
    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
    snprintf(junk, sizeof(junk), "%s/junk.pem", tls_dir);
    CHECK_INT(sl_write_file_atomic(junk, "not a pem\n", 10, NULL), 0);

    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), -ENOENT);
    CHECK_HAS(d.msg, "TLS certificate '/nonexistent/cert.pem'");

    cfg.tls_cert = junk;
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "certificate");
    CHECK_HAS(d.msg, junk);

    cfg.tls_cert = cert;
    cfg.tls_key = junk;
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "TLS key");
    CHECK_HAS(d.msg, junk);

    /* The key of another certificate. */
    cfg.tls_key = key;
    cfg.tls_cert = cert;
    {
        char cmd[512];

        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                 "-subj /CN=other -days 1 -keyout %s/key2.pem -out %s/cert2.pem >/dev/null 2>&1",
                 tls_dir, tls_dir);
        CHECK_INT(system(cmd), 0);
        snprintf(key, sizeof(key), "%s/key2.pem", tls_dir);
    }
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "does not match");

    cfg.tls_cert = NULL;
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), -EINVAL);
    CHECK(s == NULL);
    sl_rmtree(tls_dir);
}

/* ---- framing ------------------------------------------------------------ */

/*
 * Send raw bytes on a new connection and read everything until the server
 * closes; returns how many responses (status lines) came, with the first
 * status in *status and the whole text in out.
 */
static int
exchange(int port, const char *raw, size_t len, int *status, struct sl_buf *out)
{
    struct client c;
    int n = 0;

    client_open(&c, port);
    CHECK_INT(client_send(&c, raw, len), 0);
    while (client_fill(&c) > 0)
        ;
    sl_buf_init(out);
    sl_buf_add(out, c.in.data ? c.in.data : "", c.in.len);
    sl_buf_addc(out, '\0');
    *status = 0;
    sscanf(out->data, "HTTP/1.1 %d", status);
    for (const char *p = out->data; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++)
        if (p == out->data || p[-1] == '\n')
            n++;
    client_close(&c);
    return n;
}

/* Each malformed request: exactly one answer with the status, then a close,
 * and the application never sees it. */
TEST(framing_errors_get_one_answer_and_a_close)
{
    static const struct {
        const char *req;
        int status;
        const char *says;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400, "Content-Length"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello", 400, "Content-Length"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
         "too large"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
         400, "different"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400, "different"},
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n0\r\n\r\n", 400, "Transfer-Encoding"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "chunked"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "chunked"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
         "chunked\r\n\r\n0\r\n\r\n", 501, "Transfer-Encoding"},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "HTTP/1.0"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "hex"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "10000000000000000\r\n", 400, "2^60"},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400,
         "CRLF"},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400, "obs-fold"},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-A : 1\r\n\r\n", 400, "colon"},
        {"GET / HTTP/1.1\nHost: x\n\n", 400, "bare LF"},
        {"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400, "bare CR"},
        {"GET / HTTP/1.1\r\n\r\n", 400, "Host"},
        {"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, "Host"},
        {"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request line"},
        {"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0"},
        {"GET nopath HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request-target"},
        {"GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "NUL"},
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417,
         "Expect"},
    };
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct http_stats st;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sl_buf out;
        int status, n = exchange(http_port(s), cases[i].req, strlen(cases[i].req), &status, &out);

        if (n != 1 || status != cases[i].status || strstr(out.data, cases[i].says) == NULL)
            fprintf(stderr, "# case %zu: %d answers, status %d:\n%s\n", i, n, status, out.data);
        CHECK_INT(n, 1);
        CHECK_INT(status, cases[i].status);
        CHECK_HAS(out.data, "Connection: close");
        CHECK_HAS(out.data, "\"__type\":\"");
        CHECK_HAS(out.data, cases[i].says);
        sl_buf_release(&out);
    }
    CHECK_INT(atomic_load(&a.entered), 0);
    http_stats(s, &st);
    CHECK_INT(st.bad_request, sizeof(cases) / sizeof(cases[0]));
    http_stop(s);
}

TEST(repeated_equal_content_lengths_are_one)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "POST", "/echo", "Content-Length: 5\r\n", "hello", 5, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "hello");
    reply_release(&r);
    CHECK_INT(roundtrip(&c, "POST", "/echo", "Content-Length: 3, 3\r\n", "abc", 3, &r), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "abc");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(chunked_extensions_and_trailers_are_skipped)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"
                      "5;name=value\r\nhello\r\nA ; x\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
                      "GET /after HTTP/1.1\r\nHost: x\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, req, strlen(req)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "hello0123456789");
    reply_release(&r);
    /* The request after the trailers, in the same bytes, is the next one. */
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_HAS(r.body.data, "GET /after");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(head_and_pipelining_after_it)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *two = "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /g HTTP/1.1\r\nHost: x\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, two, strlen(two)), 0);
    CHECK_INT(client_reply(&c, &r, true), 0);
    CHECK_INT(r.status, 200);
    CHECK_HAS(r.head.data, "Content-Length: 38");
    reply_release(&r);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "GET /g len=0 cl=0 target=- q=- flag=-");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

TEST(keep_alive_rules_of_http_1_0_and_1_1)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *ka10 = "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    const char *plain10 = "GET /b HTTP/1.0\r\n\r\n";
    const char *close11 = "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    struct client c;
    struct reply r;

    /* HTTP/1.0 with keep-alive: kept, and said so. */
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, ka10, strlen(ka10)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_HAS(r.head.data, "Connection: keep-alive");
    reply_release(&r);
    /* Plain HTTP/1.0 on it: answered, then closed. */
    CHECK_INT(client_send(&c, plain10, strlen(plain10)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_HAS(r.body.data, "GET /b");
    CHECK_HAS(r.head.data, "Connection: close");
    reply_release(&r);
    CHECK(client_closed(&c));
    client_close(&c);

    /* HTTP/1.1 with Connection: close. */
    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, close11, strlen(close11)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_HAS(r.body.data, "GET /c");
    CHECK_HAS(r.head.data, "Connection: close");
    reply_release(&r);
    CHECK(client_closed(&c));
    client_close(&c);
    http_stop(s);
}

TEST(request_fields_as_sent)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    const char *req = "GET /fields?b=2&a=%41+x HTTP/1.1\r\nHost: h:1\r\nX-Amz-Date:   20260101T000000Z  \r\n"
                      "x-amz-date: second\r\nEmpty:\r\n\r\n";
    struct client c;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(client_send(&c, req, strlen(req)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    CHECK_STR(r.body.data, "target=/fields?b=2&a=%41+x query=b=2&a=%41+x peer=127.0.0.1 tls=0 "
                           "n=4 [Host|h:1] [X-Amz-Date|20260101T000000Z] "
                           "[x-amz-date|second] [Empty|]");
    reply_release(&r);
    /* The decoded forms: path, and the first value of an argument. */
    CHECK_INT(roundtrip(&c, "GET", "/p%2Fq?q=%41+x&q=2", NULL, NULL, 0, &r), 0);
    CHECK_STR(r.body.data, "GET /p/q len=0 cl=0 target=- q=A x flag=-");
    reply_release(&r);
    client_close(&c);
    http_stop(s);
}

/* ---- deadlines ------------------------------------------------------- */

/*
 * A head trickled a byte every 100 ms is dropped at header_timeout_s from
 * its first byte, with a 408; the trickle does not push the deadline back.
 */
TEST(slow_head_dropped_at_header_timeout)
{
    struct app a = {0};
    struct http_config cfg = {.header_timeout_s = 1, .timeout_s = 30};
    struct http_server *s = start(&a, &cfg);
    const char *head = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    struct http_stats st;
    struct client c;
    struct reply r;
    double t0 = now_s(), took;

    client_open(&c, http_port(s));
    for (size_t i = 0; i < strlen(head); i++) {
        struct pollfd p = {c.fd, POLLIN, 0};

        if (client_send(&c, head + i, 1) < 0 || poll(&p, 1, 100) == 1)
            break;
    }
    CHECK_INT(client_reply(&c, &r, false), 0);
    took = now_s() - t0;
    CHECK_INT(r.status, 408);
    CHECK_HAS(r.body.data, "RequestTimeout");
    reply_release(&r);
    CHECK(client_closed(&c));
    CHECK(took >= 0.9 && took < 3.0);
    http_stats(s, &st);
    CHECK_INT(st.dropped_header_timeout, 1);
    CHECK_INT(atomic_load(&a.checks), 0);
    client_close(&c);
    http_stop(s);
}

/*
 * A body below min_body_rate is dropped after body_grace_s; so is one
 * that stops short of its Content-Length - at the grace, not at timeout_s.
 */
TEST(slow_or_short_body_dropped_after_the_grace)
{
    struct app a = {0};
    struct http_config cfg = {.timeout_s = 30, .body_grace_s = 1, .min_body_rate = 1000};
    struct http_server *s = start(&a, &cfg);
    const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
    const char *shortb = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc";
    struct http_stats st;
    struct client c;
    struct reply r;
    double t0, took;

    client_open(&c, http_port(s));
    t0 = now_s();
    CHECK_INT(client_send(&c, head, strlen(head)), 0);
    for (int i = 0; i < 100; i++) {
        struct pollfd p = {c.fd, POLLIN, 0};

        if (client_send(&c, "x", 1) < 0 || poll(&p, 1, 50) == 1)
            break;
    }
    CHECK_INT(client_reply(&c, &r, false), 0);
    took = now_s() - t0;
    CHECK_INT(r.status, 408);
    CHECK_HAS(r.body.data, "slower than 1000 bytes/s");
    reply_release(&r);
    CHECK(took >= 0.9 && took < 3.0);
    client_close(&c);

    client_open(&c, http_port(s));
    t0 = now_s();
    CHECK_INT(client_send(&c, shortb, strlen(shortb)), 0);
    CHECK_INT(client_reply(&c, &r, false), 0);
    took = now_s() - t0;
    CHECK_INT(r.status, 408);
    reply_release(&r);
    CHECK(client_closed(&c));
    CHECK(took >= 0.9 && took < 3.0);
    client_close(&c);
    http_stats(s, &st);
    CHECK_INT(st.dropped_body_rate, 2);
    CHECK_INT(atomic_load(&a.entered), 0);
    http_stop(s);
}

/*
 * Over max_per_address with every connection of that address busy on a
 * body that comes fast enough: nothing to evict, so 503 through check.
 */
TEST(per_address_limit_answers_503)
{
    struct app a = {0};
    struct http_config cfg = {.max_per_address = 2};
    struct http_server *s = start(&a, &cfg);
    const char *head = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n";
    char *body = sl_calloc(1, 200000);
    struct http_stats st;
    struct client c[3];
    struct reply r;

    for (int i = 0; i < 2; i++) {
        client_open(&c[i], http_port(s));
        CHECK_INT(client_send(&c[i], head, strlen(head)), 0);
        CHECK_INT(client_send(&c[i], body, 100000), 0);
    }
    /* Both are reading bodies (check has run for each). */
    for (double until = now_s() + WAIT_S; atomic_load(&a.checks) < 2 && now_s() < until;)
        sleep_ms(5);
    client_open(&c[2], http_port(s));
    CHECK_INT(roundtrip(&c[2], "GET", "/", NULL, NULL, 0, &r), 0);
    CHECK_INT(r.status, 503);
    CHECK_HAS(r.body.data, "ServiceUnavailableException");
    CHECK_HAS(r.head.data, "Connection: close");
    reply_release(&r);
    CHECK(client_closed(&c[2]));
    client_close(&c[2]);
    http_stats(s, &st);
    CHECK_INT(st.refused_per_address, 1);
    CHECK_INT(st.evicted, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_INT(client_send(&c[i], body + 100000, 100000), 0);
        CHECK_INT(client_reply(&c[i], &r, false), 0);
        CHECK_INT(r.status, 200);
        reply_release(&r);
        client_close(&c[i]);
    }
    free(body);
    http_stop(s);
}

/* A head that never comes, from a connection over the limit: closed
 * silently after the refusal's 2 s, counted; the others are unharmed. */
TEST(busy_refusal_without_a_head_is_closed)
{
    struct app a = {0};
    struct http_config cfg = {.max_connections = 1};
    struct http_server *s = start(&a, &cfg);
    struct http_stats st;
    struct client c, late;
    struct reply r;

    client_open(&c, http_port(s));
    CHECK_INT(roundtrip(&c, "GET", "/", NULL, NULL, 0, &r), 0);
    reply_release(&r);
    client_open(&late, http_port(s));
    CHECK(client_closed(&late));
    client_close(&late);
    http_stats(s, &st);
    /* Unless c idled past a second first, and was evicted instead. */
    CHECK(st.closed_unanswered == 1 || st.evicted == 1);
    client_close(&c);
    http_stop(s);
}

/* ---- TLS settings ------------------------------------------------------ */

/* A TLS client on port with at most max_version; its SSL or NULL. */
static SSL *
tls_dial(struct client *c, SSL_CTX *ctx, int port)
{
    client_open(c, port);
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        ERR_clear_error();
        return NULL;
    }
    return c->ssl;
}

/* The SHA-256 of the certificate the server showed on c. */
static void
peer_digest(struct client *c, unsigned char md[32])
{
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    unsigned n = 32;

    CHECK(x != NULL);
    X509_digest(x, EVP_sha256(), md, &n);
    X509_free(x);
}

TEST(tls_min_version_refuses_older_clients)
{
    char cert[256], key[256];
    struct app a = {0};
    struct http_handlers h = {&a, app_check, app_handle};
    struct http_config cfg = {.tls_cert = cert, .tls_key = key, .tls_min_version = "1.1"};
    struct http_server *s = NULL;
    SSL_CTX *old12 = SSL_CTX_new(TLS_client_method()), *any = SSL_CTX_new(TLS_client_method());
    struct client c;
    struct reply r;
    struct sl_diag d;

    make_cert();
    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
    sl_diag_init(&d);
    CHECK_INT(http_start(&cfg, &h, &s, &d), -EINVAL);
    CHECK_HAS(d.msg, "tls_min_version '1.1'");
    CHECK_HAS(d.hint, "1.3");

    cfg.tls_min_version = "1.3";
    s = start(&a, &cfg);
    SSL_CTX_set_max_proto_version(old12, TLS1_2_VERSION);
    CHECK(tls_dial(&c, old12, http_port(s)) == NULL);
    client_close(&c);
    CHECK(tls_dial(&c, any, http_port(s)) != NULL);
    CHECK_STR(SSL_get_version(c.ssl), "TLSv1.3");
    CHECK_INT(roundtrip(&c, "GET", "/fields", NULL, NULL, 0, &r), 0);
    CHECK_HAS(r.body.data, "tls=1");
    reply_release(&r);
    client_close(&c);
    http_stop(s);

    /* The default takes 1.2. */
    cfg.tls_min_version = NULL;
    s = start(&a, &cfg);
    CHECK(tls_dial(&c, old12, http_port(s)) != NULL);
    CHECK_STR(SSL_get_version(c.ssl), "TLSv1.2");
    client_close(&c);
    http_stop(s);
    SSL_CTX_free(old12);
    SSL_CTX_free(any);
    sl_rmtree(tls_dir);
}

TEST(tls_reload_serves_the_new_certificate_to_new_connections)
{
    char cert[256], key[256], cmd[768];
    unsigned char before[32], after[32], again[32];
    struct app a = {0};
    struct http_config cfg = {.tls_cert = cert, .tls_key = key};
    struct http_server *s;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    struct client old, c;
    struct reply r;
    struct sl_diag d;

    make_cert();
    snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
    snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
    s = start(&a, &cfg);
    CHECK(tls_dial(&old, ctx, http_port(s)) != NULL);
    peer_digest(&old, before);
    CHECK_INT(roundtrip(&old, "GET", "/", NULL, NULL, 0, &r), 0);
    reply_release(&r);

    /* A new certificate and key in place of the old ones. */
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-subj /CN=renewed -days 1 -keyout %s.new -out %s.new >/dev/null 2>&1 && "
             "mv %s.new %s && mv %s.new %s",
             key, cert, key, key, cert, cert);
    CHECK_INT(system(cmd), 0);
    sl_diag_init(&d);
    CHECK_INT(http_reload_tls(s, &d), 0);
    CHECK(tls_dial(&c, ctx, http_port(s)) != NULL);
    peer_digest(&c, after);
    CHECK(memcmp(before, after, 32) != 0);
    client_close(&c);
    /* The connection made before keeps working. */
    CHECK_INT(roundtrip(&old, "POST", "/echo", NULL, "still", 5, &r), 0);
    CHECK_STR(r.body.data, "still");
    reply_release(&r);

    /* A broken certificate: the error, and the last good one stays. */
    CHECK_INT(sl_write_file_atomic(cert, "not a pem\n", 10, NULL), 0);
    sl_diag_init(&d);
    CHECK_INT(http_reload_tls(s, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, cert);
    CHECK(tls_dial(&c, ctx, http_port(s)) != NULL);
    peer_digest(&c, again);
    CHECK(memcmp(after, again, 32) == 0);
    client_close(&c);
    client_close(&old);
    http_stop(s);
    SSL_CTX_free(ctx);
    sl_rmtree(tls_dir);
}

TEST(reload_of_plain_http_is_refused)
{
    struct app a = {0};
    struct http_config cfg = {0};
    struct http_server *s = start(&a, &cfg);
    struct sl_diag d;

    sl_diag_init(&d);
    CHECK(!http_tls(s));
    CHECK_INT(http_reload_tls(s, &d), -EINVAL);
    CHECK_HAS(d.msg, "plain HTTP");
    http_stop(s);
}
