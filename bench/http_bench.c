/*
 * http_bench.c - how fast the HTTP layer takes in bodies, and at what CPU.
 *
 *     http_bench [-c CONNS] [-s SECONDS] [-b BODY_BYTES] [-r RATE] [-t]
 *
 * The server (src/server/http.c with a handler that answers a small JSON
 * object, like a PutRecords reply) runs in a child process, so its CPU
 * time is the child's rusage and the load generator's own work is not
 * counted in it.  CONNS client threads (default 4) each keep one
 * keep-alive connection busy posting BODY_BYTES bodies (default 150 KB)
 * for SECONDS (default 5), as fast as it can or, with -r, at RATE
 * requests/s in all (the server's CPU at a target load); -t does the same
 * over HTTPS with a throw-away self-signed certificate.  Prints
 * requests/s, MB/s and the server's CPU.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "server/http.h"
#include "core/banned.h"

struct opts {
    int conns;
    double seconds;
    size_t body;
    double rate;  /* requests/s over all connections; 0: unpaced */
    bool tls;
    char cert[128];
    char key[128];
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ---- the server, in the child -------------------------------------- */

static void
reply(void *ctx, struct http_request *req, struct http_response *resp)
{
    sl_buf_addf(&resp->body, "{\"FailedRecordCount\":0,\"Bytes\":%zu}", req->body_len);
}

/* Serve until the control pipe closes; report the port on portfd. */
static int
serve(const struct opts *o, int portfd, int ctlfd)
{
    struct http_config cfg = {.max_body = o->body + 1024};
    struct http_handlers h = {NULL, NULL, reply};
    struct http_server *s;
    struct sl_diag d;
    int port;
    char c;

    if (o->tls) {
        cfg.tls_cert = o->cert;
        cfg.tls_key = o->key;
    }
    sl_diag_init(&d);
    if (http_start(&cfg, &h, &s, &d) < 0) {
        fprintf(stderr, "http_bench: %s\n", d.msg);
        return 1;
    }
    port = http_port(s);
    if (write(portfd, &port, sizeof(port)) != sizeof(port))
        return 1;
    while (read(ctlfd, &c, 1) > 0)
        ;
    http_stop(s);
    return 0;
}

/* ---- the load, in the parent --------------------------------------- */

struct worker {
    const struct opts *o;
    SSL_CTX *ctx;
    int port;
    double until;
    const char *body;
    uint64_t requests;
    uint64_t bytes;
    int failed;
};

static int
send_all(int fd, SSL *ssl, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = ssl ? SSL_write(ssl, p, (int)n) : send(fd, p, n, MSG_NOSIGNAL);

        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* One response into buf; its status, or -1. */
static int
read_reply(int fd, SSL *ssl, struct sl_buf *buf)
{
    size_t want = 0, hlen = 0;
    int status = -1;

    sl_buf_setlen(buf, 0);
    for (;;) {
        ssize_t k;

        if (hlen == 0) {
            char *end = strstr(buf->data, "\r\n\r\n"), *cl;

            if (end != NULL) {
                hlen = (size_t)(end - buf->data) + 4;
                cl = strcasestr(buf->data, "\r\ncontent-length:");
                want = hlen + (cl ? strtoull(cl + 17, NULL, 10) : 0);
                if (sscanf(buf->data, "HTTP/1.1 %d", &status) != 1)
                    return -1;
            }
        }
        if (hlen != 0 && buf->len >= want)
            return status;
        sl_buf_grow(buf, 4096);
        k = ssl ? SSL_read(ssl, buf->data + buf->len, (int)(buf->cap - buf->len - 1))
                : recv(fd, buf->data + buf->len, buf->cap - buf->len - 1, 0);
        if (k <= 0)
            return -1;
        sl_buf_setlen(buf, buf->len + (size_t)k);
    }
}

static void *
work(void *arg)
{
    struct worker *w = arg;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)w->port)};
    char head[256], expect[64];
    struct sl_buf buf;
    SSL *ssl = NULL;
    int fd, one = 1, hn;

    sl_buf_init(&buf);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        w->failed = 1;
        goto out;
    }
    if (w->ctx != NULL) {
        ssl = SSL_new(w->ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_connect(ssl) != 1) {
            w->failed = 1;
            goto out;
        }
    }
    hn = snprintf(head, sizeof(head),
                  "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "X-Amz-Target: Kinesis_20131202.PutRecords\r\n"
                  "Content-Type: application/x-amz-json-1.1\r\nContent-Length: %zu\r\n\r\n",
                  w->o->body);
    snprintf(expect, sizeof(expect), "\"Bytes\":%zu}", w->o->body);
    for (double next = now_s(); now_s() < w->until;) {
        if (w->o->rate > 0) {
            double wait = next - now_s();

            next += w->o->conns / w->o->rate;
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};

                nanosleep(&ts, NULL);
            }
        }
        if (ssl != NULL) {
            if (send_all(fd, ssl, head, (size_t)hn) < 0 ||
                send_all(fd, ssl, w->body, w->o->body) < 0) {
                w->failed = 1;
                break;
            }
        } else {
            struct iovec iov[2] = {{head, (size_t)hn}, {(void *)w->body, w->o->body}};
            size_t left = (size_t)hn + w->o->body;
            int i = 0;

            /* writev, so headers and body leave in as few segments as possible */
            while (left > 0) {
                ssize_t k = writev(fd, iov + i, 2 - i);

                if (k <= 0) {
                    w->failed = 1;
                    goto out;
                }
                left -= (size_t)k;
                while (i < 2 && (size_t)k >= iov[i].iov_len)
                    k -= (ssize_t)iov[i++].iov_len;
                if (i < 2) {
                    iov[i].iov_base = (char *)iov[i].iov_base + k;
                    iov[i].iov_len -= (size_t)k;
                }
            }
        }
        /* The reply must show the whole body arrived. */
        if (read_reply(fd, ssl, &buf) != 200 || strstr(buf.data, expect) == NULL) {
            w->failed = 1;
            break;
        }
        w->requests++;
        w->bytes += w->o->body;
    }
out:
    if (ssl != NULL) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    if (fd >= 0)
        close(fd);
    sl_buf_release(&buf);
    return NULL;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    o->conns = 4;
    o->seconds = 5;
    o->body = 150000;
    o->rate = 0;
    o->tls = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0) {
            o->tls = true;
        } else if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
            o->conns = (int)strtol(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "-s") == 0) {
            o->seconds = strtod(argv[++i], NULL);
        } else if (i + 1 < argc && strcmp(argv[i], "-r") == 0) {
            o->rate = strtod(argv[++i], NULL);
        } else if (i + 1 < argc && strcmp(argv[i], "-b") == 0) {
            o->body = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: http_bench [-c CONNS] [-s SECONDS] [-b BODY_BYTES] [-r RATE] [-t]\n");
            return -1;
        }
    }
    if (o->conns < 1 || o->conns > 256 || o->seconds <= 0 || o->body < 1 || o->rate < 0) {
        fprintf(stderr, "http_bench: CONNS 1..256, SECONDS > 0, BODY_BYTES > 0, RATE >= 0\n");
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct opts o;
    int portp[2], ctlp[2], port = 0, status, failed = 0;
    char dir[64], cmd[512];
    struct worker *w;
    pthread_t *th;
    struct rusage ru, self;
    uint64_t reqs = 0, bytes = 0;
    SSL_CTX *ctx = NULL;
    double t0, wall, server_cpu, client_cpu;
    pid_t pid;

    if (parse_args(argc, argv, &o) < 0)
        return 2;
    snprintf(dir, sizeof(dir), "/tmp/sluice-http-bench-%d", getpid());
    if (o.tls) {
        snprintf(o.cert, sizeof(o.cert), "%s/cert.pem", dir);
        snprintf(o.key, sizeof(o.key), "%s/key.pem", dir);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p %s && openssl req -x509 -newkey ec -pkeyopt "
                 "ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -days 1 "
                 "-keyout %s -out %s >/dev/null 2>&1",
                 dir, o.key, o.cert);
        if (system(cmd) != 0) {
            fprintf(stderr, "http_bench: cannot make a certificate with openssl\n");
            return 1;
        }
        ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (pipe(portp) < 0 || pipe(ctlp) < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(portp[0]);
        close(ctlp[1]);
        _exit(serve(&o, portp[1], ctlp[0]));
    }
    close(portp[1]);
    close(ctlp[0]);
    if (read(portp[0], &port, sizeof(port)) != sizeof(port)) {
        fprintf(stderr, "http_bench: the server did not start\n");
        close(ctlp[1]);
        waitpid(pid, NULL, 0);
        return 1;
    }

    char *body = sl_malloc(o.body);

    /* A PutRecords-like body: JSON text, the bytes do not matter. */
    for (size_t i = 0; i < o.body; i++)
        body[i] = "{\"Records\":[{\"Data\":\"YWJj\"}]}"[i % 30];
    w = sl_calloc((size_t)o.conns, sizeof(*w));
    th = sl_calloc((size_t)o.conns, sizeof(*th));
    t0 = now_s();
    for (int i = 0; i < o.conns; i++) {
        w[i] = (struct worker){&o, ctx, port, t0 + o.seconds, body, 0, 0, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < o.conns; i++) {
        pthread_join(th[i], NULL);
        reqs += w[i].requests;
        bytes += w[i].bytes;
        failed += w[i].failed;
    }
    wall = now_s() - t0;
    close(ctlp[1]);
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        failed++;
    getrusage(RUSAGE_SELF, &self);
    server_cpu = tv_s(ru.ru_utime) + tv_s(ru.ru_stime);
    client_cpu = tv_s(self.ru_utime) + tv_s(self.ru_stime);

    printf("http_bench: %s, %d keep-alive connections, %zu-byte bodies, %.1f s, %s\n",
           o.tls ? "https" : "http", o.conns, o.body, wall, o.rate > 0 ? "paced" : "unpaced");
    printf("  requests/s   %10.0f\n", (double)reqs / wall);
    printf("  MB/s         %10.1f   (request bodies, 10^6 bytes)\n", (double)bytes / wall / 1e6);
    printf("  server CPU   %10.2f s  = %.0f%% of one core; user %.2f s, sys %.2f s\n", server_cpu,
           100 * server_cpu / wall, tv_s(ru.ru_utime), tv_s(ru.ru_stime));
    printf("  server CPU   %10.1f us per request, %.2f ms per 100 MB\n",
           reqs ? 1e6 * server_cpu / (double)reqs : 0.0,
           bytes ? 1e3 * server_cpu / ((double)bytes / 1e8) : 0.0);
    printf("  client CPU   %10.2f s  (the load generator, for reference)\n", client_cpu);
    if (failed)
        printf("  FAILED: %d connection(s) or the server failed\n", failed);
    free(body);
    free(w);
    free(th);
    SSL_CTX_free(ctx);
    if (o.tls)
        sl_rmtree(dir);
    return failed ? 1 : 0;
}
