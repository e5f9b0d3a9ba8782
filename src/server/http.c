/*
 * http.c - the HTTP/1.1 listener on libmicrohttpd (see http.h).
 *
 * Threads.  libmicrohttpd runs in thread-per-connection mode: one thread
 * accepts, and each connection gets a thread of its own that reads, calls
 * us, and writes.  handle() may block for tens of milliseconds on a group
 * commit; here that blocks only its own connection, with no extra hand-off.
 * The alternative, a pool of polling threads with suspend/resume and our
 * own workers, would add two thread switches and a queue per request, and
 * libmicrohttpd 0.9.75 then still has to wake its poll loop to resume; the
 * expected traffic is a handful of busy keep-alive connections (SDK
 * clients, Fluent Bit), where a thread each is cheap and the simplest thing
 * that cannot stall.  max_connections bounds the threads.
 *
 * The listening socket is ours: we parse the literal address, bind and
 * listen, so errors name the address and errno, and port 0 is read back
 * with getsockname().  libmicrohttpd takes the socket over.
 *
 * Life of a request.  libmicrohttpd calls on_access() several times per
 * request, with a per-request pointer (*con_cls) that starts NULL:
 *
 *   headers in      begin(): size checks, the body budget, check(); either
 *                   a refusal is queued at once (libmicrohttpd then skips
 *                   the body and closes the connection after the
 *                   response) or a buffer for the whole body is allocated
 *   each body piece take(): the one copy, from libmicrohttpd's read buffer
 *                   into ours
 *   body complete   finish(): handle(), then the response is queued and
 *                   the body freed at once (the response owns its own bytes)
 *   response sent   on_completed(): the request is freed and leaves the
 *   or conn. gone   in-flight count http_stop() waits on
 *
 * Body budget.  srv->held counts the body bytes reserved by all requests;
 * a reservation is granted only while held stays within max_inflight, so
 * held <= max_inflight always.  A request with a Content-Length reserves
 * it whole in begin(); a chunked one reserves as its buffer doubles.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/num.h"
#include "core/banned.h"

#define DEFAULT_MAX_CONNECTIONS 256
#define DEFAULT_TIMEOUT_S 30
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define DEFAULT_MAX_INFLIGHT ((size_t)128 << 20)
#define MAX_PEM ((size_t)1 << 20)
/*
 * libmicrohttpd reads into half of a per-connection pool (32 KiB by
 * default), which also has to hold the request line and headers.  A
 * bigger pool lets a 150 KB body arrive in fewer, larger reads; the pool
 * is touched only as far as it is used.  Measured with bench/http_bench:
 * at full speed about 15% less system time than the default, at 2,000
 * requests/s no difference beyond noise, so the gain is small but free.
 */
#define POOL_SIZE ((size_t)256 << 10)
/* The first growth of a chunked body's buffer. */
#define CHUNKED_START ((size_t)64 << 10)

struct http_server {
    struct MHD_Daemon *mhd;  /* NULL once stopped */
    struct http_handlers h;  /* the application's callbacks */
    size_t max_body;         /* per request */
    size_t max_inflight;     /* bound on held */
    unsigned timeout_s;      /* idle limit; also bounds the wait in stop */
    int port;                /* the port bound */
    _Atomic size_t held;     /* body bytes reserved, all requests */
    atomic_bool stopping;    /* http_stop() has begun: close after each reply */
    struct sl_buf cert;      /* PEM text, kept while libmicrohttpd runs */
    struct sl_buf key;       /* PEM text, wiped when freed */
    pthread_mutex_t mu;      /* guards the members below */
    pthread_cond_t done;     /* signalled when inflight drops to 0 */
    unsigned inflight;       /* requests between headers and completion */
    bool starting;           /* libmicrohttpd's log goes to start_err */
    char start_err[256];     /* its first complaint while starting */
};

/* One request, from its headers to its completion; *con_cls. */
struct req {
    struct http_server *srv;
    struct http_request pub; /* what the callbacks see */
    char *body;              /* cap + 1 bytes, or NULL while there is none */
    size_t cap;              /* body bytes the buffer holds */
    size_t len;              /* body bytes received */
    size_t reserved;         /* bytes of srv->held this request holds */
    char empty[1];           /* the writable "" of a request with no body */
};

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

static void
drop_body(struct req *r)
{
    free(r->body);
    r->body = NULL;
    r->cap = r->len = 0;
    if (r->reserved) {
        atomic_fetch_sub(&r->srv->held, r->reserved);
        r->reserved = 0;
    }
}

/* ---- requests and responses ---------------------------------------- */

const char *
http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
http_query(const struct http_request *req, const char *name)
{
    const char *v = NULL;

    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
                                      &v, NULL) != MHD_YES)
        return NULL;
    /* "?flag" is stored with no value; tell it apart from an absent one. */
    return v ? v : "";
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

/* Each "Name: value\r\n" line of extra_headers onto the MHD response. */
static void
add_extra_headers(struct MHD_Response *mr, const char *lines)
{
    while (*lines != '\0') {
        const char *end = strstr(lines, "\r\n");
        char line[sizeof(((struct http_response *)0)->extra_headers)];
        size_t n = end ? (size_t)(end - lines) : strlen(lines);
        char *value;

        memcpy(line, lines, n);
        line[n] = '\0';
        lines += end ? n + 2 : n;
        value = strchr(line, ':');
        if (value == NULL || value == line)
            continue;
        *value++ = '\0';
        while (*value == ' ' || *value == '\t')
            value++;
        if (MHD_add_response_header(mr, line, value) != MHD_YES)
            SL_DEBUG("http", "response header '%s' refused by libmicrohttpd", line);
    }
}

/*
 * Queue resp on conn; takes resp->body.  close asks for the connection to
 * be closed after it (refusals, and everything once stopping).
 */
static enum MHD_Result
respond(struct MHD_Connection *conn, struct http_response *resp, bool close)
{
    struct MHD_Response *mr;
    enum MHD_Result ok;
    unsigned status = (unsigned)resp->status;
    size_t len = resp->body.len;

    if (resp->body.cap == 0) {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        char *p = sl_buf_detach(&resp->body, NULL);

        mr = MHD_create_response_from_buffer_with_free_callback(len, p, free);
        if (mr == NULL)
            free(p);
    }
    if (mr == NULL)
        return MHD_NO;
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    add_extra_headers(mr, resp->extra_headers);
    if (close)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    if (status < 100 || status > 999) {
        SL_WARN("http", "status %d is not an HTTP status; sending 500", resp->status);
        status = 500;
    }
    ok = MHD_queue_response(conn, status, mr);
    MHD_destroy_response(mr);
    return ok;
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

/* Content-Length as a number; -1 for a chunked body, 0 for none. */
static int64_t
content_length(struct MHD_Connection *conn)
{
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_TRANSFER_ENCODING);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;

    if (te != NULL && strcasestr(te, "chunked") != NULL)
        return -1;
    /* libmicrohttpd has answered 400 to a malformed one already. */
    if (cl == NULL || sl_parse_i64(cl, strlen(cl), &n) < 0 || n < 0)
        return 0;
    return n;
}

static enum MHD_Result
begin(struct req *r, struct MHD_Connection *conn, const char *url, const char *method)
{
    struct http_server *s = r->srv;
    enum http_refusal why = HTTP_OK;
    struct http_response resp;
    int64_t len = content_length(conn);
    bool ok = true;

    r->pub.method = method;
    r->pub.path = url;
    r->pub.content_length = len;
    r->pub.conn = conn;
    if (len > 0 && (uint64_t)len > s->max_body)
        why = HTTP_TOO_LARGE;
    else if (len > 0 && !reserve(s, (size_t)len))
        why = HTTP_OVERLOADED;
    else if (len > 0)
        r->reserved = (size_t)len;

    response_init(&resp);
    if (s->h.check != NULL)
        ok = s->h.check(s->h.ctx, &r->pub, why, &resp) && why == HTTP_OK;
    else if (why != HTTP_OK) {
        default_refusal(s, why, &resp);
        ok = false;
    }
    if (!ok) {
        drop_body(r);
        return respond(conn, &resp, true);
    }
    sl_buf_release(&resp.body);
    if (len > 0) {
        r->body = sl_malloc((size_t)len + 1);
        r->cap = (size_t)len;
    }
    return MHD_YES;
}

/* Append n body bytes; grows the buffer only for chunked bodies. */
static enum MHD_Result
take(struct req *r, const char *p, size_t n)
{
    struct http_server *s = r->srv;

    if (n > r->cap - r->len) {
        size_t need = r->len + n, cap = r->cap ? r->cap : CHUNKED_START;

        if (need > s->max_body || need < r->len) {
            SL_DEBUG("http", "%s %s: chunked body over %zu bytes, connection cut",
                     r->pub.method, r->pub.path, s->max_body);
            return MHD_NO;
        }
        while (cap < need)
            cap *= 2;
        if (cap > s->max_body)
            cap = s->max_body;
        if (!reserve(s, cap - r->reserved)) {
            SL_DEBUG("http", "%s %s: body budget of %zu bytes spent, connection cut",
                     r->pub.method, r->pub.path, s->max_inflight);
            return MHD_NO;
        }
        r->reserved = cap;
        r->body = sl_realloc(r->body, cap + 1);
        r->cap = cap;
    }
    memcpy(r->body + r->len, p, n);
    r->len += n;
    return MHD_YES;
}

static enum MHD_Result
finish(struct req *r, struct MHD_Connection *conn)
{
    struct http_server *s = r->srv;
    struct http_response resp;
    char *body = r->body ? r->body : r->empty;

    body[r->len] = '\0';
    r->pub.body = body;
    r->pub.body_mut = body;
    r->pub.body_len = r->len;
    response_init(&resp);
    s->h.handle(s->h.ctx, &r->pub, &resp);
    r->pub.body = r->pub.body_mut = NULL;
    drop_body(r);
    return respond(conn, &resp, atomic_load(&s->stopping));
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;

    if (r == NULL) {
        r = sl_calloc(1, sizeof(*r));
        r->srv = s;
        *con_cls = r;
        pthread_mutex_lock(&s->mu);
        s->inflight++;
        pthread_mutex_unlock(&s->mu);
        return begin(r, conn, url, method);
    }
    if (*upload_len > 0) {
        size_t n = *upload_len;

        *upload_len = 0;
        return take(r, upload, n);
    }
    return finish(r, conn);
}

/* The response went out, or the connection died: the request is over. */
static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode why)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;

    if (r == NULL)
        return;
    *con_cls = NULL;
    if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        SL_DEBUG("http", "%s %s ended early (libmicrohttpd reason %d)", r->pub.method,
                 r->pub.path, (int)why);
    drop_body(r);
    free(r);
    pthread_mutex_lock(&s->mu);
    if (--s->inflight == 0)
        pthread_cond_broadcast(&s->done);
    pthread_mutex_unlock(&s->mu);
}

/*
 * libmicrohttpd's messages: while starting they explain a failure, so the
 * first is kept for the diag; afterwards they are about single clients
 * (malformed requests, resets, timeouts) and go to the debug log.
 */
static void
on_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    char msg[256];
    size_t n;
    bool starting;

    pthread_mutex_lock(&s->mu);
    starting = s->starting;
    pthread_mutex_unlock(&s->mu);
    if (!starting && sl_log_level < SL_LOG_DEBUG && !sl_trace_on("http"))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    if (starting) {
        pthread_mutex_lock(&s->mu);
        if (s->start_err[0] == '\0')
            snprintf(s->start_err, sizeof(s->start_err), "%s", msg);
        pthread_mutex_unlock(&s->mu);
        return;
    }
    SL_DEBUG("http", "libmicrohttpd: %s", msg);
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
 * Parse the certificate and key before libmicrohttpd sees them: its own
 * failure is a bare "cannot start", while here each file can be named.
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

/*
 * After a failed start libmicrohttpd may or may not have closed the
 * listening socket, depending on how far it got.  spare, a dup of it, keeps
 * the socket alive, so if fd still names the same inode it is still ours;
 * a reused fd number would name another inode.
 */
static void
close_if_ours(int fd, int spare)
{
    struct stat a, b;

    if (fstat(spare, &b) == 0 && fstat(fd, &a) == 0 && a.st_ino == b.st_ino &&
        a.st_dev == b.st_dev)
        close(fd);
    close(spare);
}

static void
server_free(struct http_server *s)
{
    explicit_bzero(s->key.data, s->key.len);
    sl_buf_release(&s->key);
    sl_buf_release(&s->cert);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int
http_start(const struct http_config *cfg, const struct http_handlers *h,
           struct http_server **out, struct sl_diag *d)
{
    struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};
    pthread_condattr_t ca;
    struct http_server *s;
    unsigned flags, max_conn;
    int fd = -1, spare, rc;
    bool v6 = false;

    if (h == NULL || h->handle == NULL)
        return sl_fail(d, -EINVAL, "cannot start the http server: no request handler");
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return sl_fail(d, -EINVAL, "cannot start https: a TLS %s needs a TLS %s too",
                       cfg->tls_cert ? "certificate" : "key",
                       cfg->tls_cert ? "key" : "certificate");
    if (cfg->tls_cert != NULL && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return sl_fail(d, -ENOTSUP, "cannot start https: libmicrohttpd was built without TLS");

    s = sl_calloc(1, sizeof(*s));
    s->h = *h;
    s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
    s->max_inflight = cfg->max_inflight ? cfg->max_inflight : DEFAULT_MAX_INFLIGHT;
    s->timeout_s = cfg->timeout_s ? cfg->timeout_s : DEFAULT_TIMEOUT_S;
    max_conn = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
    atomic_init(&s->held, 0);
    atomic_init(&s->stopping, false);
    sl_buf_init(&s->cert);
    sl_buf_init(&s->key);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->done, &ca);
    pthread_condattr_destroy(&ca);

    if (cfg->tls_cert != NULL) {
        rc = read_pem(cfg->tls_cert, "certificate", &s->cert, d);
        if (rc == 0)
            rc = read_pem(cfg->tls_key, "key", &s->key, d);
        if (rc == 0)
            rc = check_tls(cfg->tls_cert, &s->cert, cfg->tls_key, &s->key, d);
        if (rc < 0)
            goto out_free;
        tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert.data};
        tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key.data};
    }
    rc = listen_on(cfg->address ? cfg->address : "127.0.0.1", cfg->port, &fd, &s->port, &v6, d);
    if (rc < 0)
        goto out_free;
    spare = dup(fd);
    if (spare < 0) {
        rc = sl_fail(d, -errno, "cannot start the http server: %s", strerror(errno));
        close(fd);
        goto out_free;
    }

    /* poll, not select: a busy process may hold fds past FD_SETSIZE. */
    flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (cfg->tls_cert != NULL)
        flags |= MHD_USE_TLS;
    if (v6)
        flags |= MHD_USE_IPv6;
    s->starting = true;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_log, s,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, s->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, POOL_SIZE,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_ARRAY, tls,
        MHD_OPTION_END);
    pthread_mutex_lock(&s->mu);
    s->starting = false;
    pthread_mutex_unlock(&s->mu);
    if (s->mhd == NULL) {
        close_if_ours(fd, spare);
        rc = sl_fail(d, -EIO, "cannot start the http server on port %d: %s", s->port,
                     s->start_err[0] ? s->start_err : "libmicrohttpd refused");
        goto out_free;
    }
    close(spare);
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

void
http_stop(struct http_server *s)
{
    struct timespec until;
    MHD_socket fd;

    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    /* Quiescing hands the listening socket back: close it so that new
     * clients are refused by the kernel rather than left in the backlog. */
    fd = MHD_quiesce_daemon(s->mhd);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);

    /* In-flight requests progress or hit the idle timeout, so the wait is
     * bounded by it; handlers still running after that are waited for by
     * MHD_stop_daemon(), which joins every connection thread. */
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += s->timeout_s;
    pthread_mutex_lock(&s->mu);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->done, &s->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    server_free(s);
}
