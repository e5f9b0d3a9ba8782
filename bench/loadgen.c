/*
 * loadgen.c - a Kinesis PutRecords load generator for benchmarks.
 *
 * Sends PutRecords requests (awsJson1_1 over HTTP/1.1 keep-alive, shaped
 * like the AWS CLI's) from several connections, one thread each, and
 * reports throughput and acknowledgement latency.  It is the producer side
 * of bench/stream.sh, which points it at sluice serve and at kinesalite in
 * the same run.
 *
 * Design: the load generator shares a 2-core machine with the server it
 * measures, so a request must cost it far less than it costs the server.
 * Every record has the same length and layout, so each connection encodes
 * its request body once and afterwards only rewrites, per record, the few
 * base64 groups that cover the bytes that change (event id, user, page,
 * action, send time) and the partition key:
 *
 *   body    {"StreamName":"S","Records":[ELEM,ELEM,...,ELEM]}
 *   ELEM    {"Data":"<base64 of RECORD>","PartitionKey":"u0042"}
 *   RECORD  {"event_id":"<run>-<conn>-<counter>","ts":"<send time>",
 *            "user_id":"u0042","page":"/p/017","action":"view",
 *            "pad":"xxx..."}\n
 *
 * ELEM has a fixed length, so record i sits at a fixed offset; a retry or a
 * short last request copies the wanted elements into a second buffer.
 * event_id is unique across the run (run id, connection, counter) and ts is
 * the request's send time (RFC 3339, ms, UTC), so delivered data can be
 * checked and freshness measured from it.
 *
 * Measurement: a request counts when its first send starts inside the
 * measured window (after --warmup, before --duration ends or --total is
 * reached).  Its latency runs from that send start to the last byte of the
 * final response (retries included) and goes into a fixed-size log-linear
 * histogram per thread (about 1.6% resolution, no allocation while
 * running).  The run's seconds run from the window's start to the last
 * counted response.
 *
 * Invariant: nothing here grows with the length of the run; memory is a
 * request body, a retry body and a response buffer per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define MAX_CONNECTIONS 1024
#define MAX_RECORDS 500         /* PutRecords limit */
#define MAX_RECORD_BYTES 1048576
#define MAX_RESPONSE (16u << 20)
#define MAX_ERROR_KINDS 16
#define MAX_RETRIES 8
#define COUNTER_DIGITS 12
#define TS_LEN 24               /* 2026-11-21T08:53:14.123Z */

/* ---------------------------------------------------------------------------
 * Options
 */

struct options {
    char host[256];            /* from --endpoint, for connect and Host */
    char port[8];
    char host_header[300];     /* "host:port" as sent in Host */
    const char *stream;        /* --stream */
    int create_shards;         /* --create; 0: do not create */
    int connections;           /* --connections */
    int records;               /* --records per request */
    int bytes;                 /* --bytes per record (approximate minimum) */
    double duration;           /* --duration seconds of measurement */
    int64_t total;             /* --total records to measure; 0: by duration */
    double rate;               /* --rate records/s over all connections; 0: no cap */
    int keys;                  /* --keys distinct partition keys */
    double warmup;             /* --warmup seconds, not measured */
    bool retry;                /* --retry failed records and throttled requests */
    double timeout;            /* --timeout seconds to wait for a response */
    bool quiet;                /* --quiet: only the RESULT line */
    bool sign;                 /* --sign: real SigV4 with the AWS_* environment key */
    char key_id[128];          /* AWS_ACCESS_KEY_ID, with --sign */
    char secret[128];          /* AWS_SECRET_ACCESS_KEY, with --sign */
};

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen --endpoint http://HOST:PORT --stream NAME [options]\n"
            "\n"
            "Sends Kinesis PutRecords requests (JSON, HTTP/1.1 keep-alive) from several\n"
            "connections and reports records/s, MB/s and acknowledgement latency.\n"
            "\n"
            "options:\n"
            "  --endpoint URL      http://HOST:PORT of the Kinesis API (required)\n"
            "  --stream NAME       stream to write to (required)\n"
            "  --create SHARDS     CreateStream with SHARDS shards first (an existing stream\n"
            "                      is fine), then wait until it is ACTIVE\n"
            "  --connections N     concurrent connections, one thread each (default 8)\n"
            "  --records N         records per PutRecords request, 1-500 (default 500)\n"
            "  --bytes B           bytes of Data per record, a JSON line padded to B\n"
            "                      (default 200; the smallest record is about 130)\n"
            "  --duration S        seconds to measure (default 10)\n"
            "  --total N           measure N records instead (--duration, if given, still\n"
            "                      caps the time; otherwise 300 s)\n"
            "  --rate R            at most R records/s over all connections (default 0:\n"
            "                      as fast as the server answers)\n"
            "  --keys K            distinct random partition keys (default 1000)\n"
            "  --warmup S          seconds of load before measuring (default 0)\n"
            "  --retry             resend failed records and throttled requests (up to %d\n"
            "                      times, with backoff); by default they are only counted\n"
            "  --timeout S         seconds to wait for a response (default 30)\n"
            "  --quiet             print only the RESULT line\n"
            "  --sign              sign every request (AWS Signature Version 4, region\n"
            "                      us-east-1) with AWS_ACCESS_KEY_ID and\n"
            "                      AWS_SECRET_ACCESS_KEY; otherwise the Authorization\n"
            "                      header only looks signed\n"
            "  -h, --help          this help\n"
            "\n"
            "Each record's Data is a clickstream event, one JSON object and a newline:\n"
            "  {\"event_id\":\"<run>-<conn>-<n>\",\"ts\":\"<send time, RFC 3339 ms UTC>\",\n"
            "   \"user_id\":\"u42\",\"page\":\"/p/17\",\"action\":\"view\",\"pad\":\"xx...\"}\n"
            "event_id is unique across the run; the partition key is the user_id.\n"
            "\n"
            "Output: a summary, then one line for scripts:\n"
            "  RESULT records=N seconds=S records_per_s=R mb_per_s=M p50_ms=L p99_ms=L\n"
            "         max_ms=L failed=N errors=N requests=N conn_errors=N connections=N\n"
            "         record_bytes=B\n"
            "records counts acknowledged records; mb_per_s is Data bytes (10^6) per second;\n"
            "latency runs from the start of sending a request to the end of its response\n"
            "(its last response, with --retry); requests lost with their connection\n"
            "count as failed but not in the latency;\n"
            "failed counts records not accepted (failed entries and records of refused\n"
            "requests); errors counts whole-request error responses.\n"
            "Exit status: 0 when records were acknowledged, 1 otherwise, 2 on bad usage.\n",
            MAX_RETRIES);
}

static int __attribute__((format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "loadgen: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsee 'loadgen --help'\n");
    return 2;
}

static bool
parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool
parse_seconds(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

/* Split http://HOST[:PORT][/] into o->host, o->port; false if not of that form. */
static bool
parse_endpoint(const char *url, struct options *o)
{
    const char *p = url, *host, *host_end, *port = "80";
    size_t port_len = 2;

    if (strncmp(p, "http://", 7) != 0)
        return false;
    p += 7;
    if (*p == '[') {
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return false;
        p = host_end + 1;
    } else {
        host = p;
        while (*p != '\0' && *p != ':' && *p != '/')
            p++;
        host_end = p;
    }
    if (*p == ':') {
        port = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        port_len = (size_t)(p - port);
    }
    if (*p == '/')
        p++;
    if (*p != '\0' || host_end == host || port_len == 0 || port_len >= sizeof(o->port) ||
        (size_t)(host_end - host) >= sizeof(o->host))
        return false;
    memcpy(o->host, host, (size_t)(host_end - host));
    o->host[host_end - host] = '\0';
    memcpy(o->port, port, port_len);
    o->port[port_len] = '\0';
    /* Host: carries the authority as written in the URL, brackets included. */
    snprintf(o->host_header, sizeof(o->host_header), "%.*s:%s", (int)(host_end - url - 7),
             url + 7, o->port);
    if (url[7] == '[')
        snprintf(o->host_header, sizeof(o->host_header), "[%s]:%s", o->host, o->port);
    return true;
}

/* ---------------------------------------------------------------------------
 * Clocks
 */

static double
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
    struct timespec ts;

    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Fixed-width decimal digits of v at p (no NUL). */
static void
put_digits(char *p, int width, uint64_t v)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The wall time as "2026-11-21T08:53:14.123Z" (ts, TS_LEN bytes, no NUL) and
 * as "20261121T085314Z" (amz_date, NUL-terminated, 17 bytes). */
static void
wall_now(char *ts, char *amz_date)
{
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    memcpy(ts, "0000-00-00T00:00:00.000Z", TS_LEN);
    put_digits(ts, 4, (uint64_t)(tm.tm_year + 1900));
    put_digits(ts + 5, 2, (uint64_t)(tm.tm_mon + 1));
    put_digits(ts + 8, 2, (uint64_t)tm.tm_mday);
    put_digits(ts + 11, 2, (uint64_t)tm.tm_hour);
    put_digits(ts + 14, 2, (uint64_t)tm.tm_min);
    put_digits(ts + 17, 2, (uint64_t)tm.tm_sec);
    put_digits(ts + 20, 3, (uint64_t)(now.tv_nsec / 1000000));
    /* 20261121T085314Z from the same fields */
    memcpy(amz_date, ts, 4);
    memcpy(amz_date + 4, ts + 5, 2);
    memcpy(amz_date + 6, ts + 8, 2);
    amz_date[8] = 'T';
    memcpy(amz_date + 9, ts + 11, 2);
    memcpy(amz_date + 11, ts + 14, 2);
    memcpy(amz_date + 13, ts + 17, 2);
    amz_date[15] = 'Z';
    amz_date[16] = '\0';
}

/* ---------------------------------------------------------------------------
 * Latency histogram: microseconds, exact below 128, then 64 buckets per
 * power of two up to 2^40 us; larger values land in the last bucket.
 */

#define HIST_SUB 64
#define HIST_MAX_SHIFT 34
#define HIST_BUCKETS (2 * HIST_SUB + HIST_MAX_SHIFT * HIST_SUB)

struct hist {
    uint64_t count[HIST_BUCKETS]; /* requests per bucket */
    uint64_t n;                   /* requests in all buckets */
    uint64_t max_us;              /* the largest value, exact */
};

static int
hist_index(uint64_t us)
{
    int msb, shift;

    if (us < 2 * HIST_SUB)
        return (int)us;
    msb = 63 - __builtin_clzll(us);
    shift = msb - 6;
    if (shift > HIST_MAX_SHIFT)
        return HIST_BUCKETS - 1;
    return 2 * HIST_SUB + (shift - 1) * HIST_SUB + (int)((us >> shift) - HIST_SUB);
}

/* The middle of bucket i, in microseconds. */
static double
hist_value(int i)
{
    int shift;
    uint64_t top;

    if (i < 2 * HIST_SUB)
        return i;
    shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
    top = (uint64_t)((i - 2 * HIST_SUB) % HIST_SUB + HIST_SUB);
    return ((double)(top << shift) + (double)((top + 1) << shift)) / 2.0;
}

static void
hist_add(struct hist *h, uint64_t us)
{
    h->count[hist_index(us)]++;
    h->n++;
    if (us > h->max_us)
        h->max_us = us;
}

static void
hist_merge(struct hist *into, const struct hist *h)
{
    for (int i = 0; i < HIST_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->n += h->n;
    if (h->max_us > into->max_us)
        into->max_us = h->max_us;
}

/* The p-th quantile (0 < p <= 1) in milliseconds; 0 when empty. */
static double
hist_quantile_ms(const struct hist *h, double p)
{
    uint64_t want, seen = 0;

    if (h->n == 0)
        return 0;
    want = (uint64_t)(p * (double)h->n + 0.999999);
    if (want < 1)
        want = 1;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= want) {
            double v = hist_value(i);
            /* never report more than the exact maximum */
            if (v > (double)h->max_us)
                v = (double)h->max_us;
            return v / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ---------------------------------------------------------------------------
 * Error tallies: how many times each __type or ErrorCode was seen.
 */

struct tally {
    char name[MAX_ERROR_KINDS][64]; /* the code, "" for a free slot */
    uint64_t n[MAX_ERROR_KINDS];    /* its count */
    uint64_t other;                 /* codes that did not fit */
};

static void
tally_add(struct tally *t, const char *name, size_t len, uint64_t n)
{
    if (len >= sizeof(t->name[0]))
        len = sizeof(t->name[0]) - 1;
    for (int i = 0; i < MAX_ERROR_KINDS; i++) {
        if (t->name[i][0] == '\0') {
            memcpy(t->name[i], name, len);
            t->name[i][len] = '\0';
            t->n[i] = n;
            return;
        }
        if (strlen(t->name[i]) == len && memcmp(t->name[i], name, len) == 0) {
            t->n[i] += n;
            return;
        }
    }
    t->other += n;
}

static void
tally_merge(struct tally *into, const struct tally *t)
{
    for (int i = 0; i < MAX_ERROR_KINDS && t->name[i][0] != '\0'; i++)
        tally_add(into, t->name[i], strlen(t->name[i]), t->n[i]);
    into->other += t->other;
}

static void
tally_print(const struct tally *t, const char *what)
{
    for (int i = 0; i < MAX_ERROR_KINDS && t->name[i][0] != '\0'; i++)
        printf("  %-22s %10" PRIu64 "  %s\n", what, t->n[i], t->name[i]);
    if (t->other)
        printf("  %-22s %10" PRIu64 "  (other codes)\n", what, t->other);
}

/* ---------------------------------------------------------------------------
 * Connections: blocking sockets, whole requests out, whole responses in.
 */

struct conn {
    const struct options *opt;
    int fd;          /* -1 when closed */
    bool used;       /* a response has come back on this socket */
    char *in;        /* received bytes */
    size_t in_len;   /* bytes in in */
    size_t in_cap;   /* allocated size of in */
    char err[256];   /* why the last exchange failed */
    uint64_t resends; /* requests sent again after an idle connection closed */
};

struct response {
    int status;        /* HTTP status */
    const char *body;  /* into conn.in, valid until the next exchange */
    size_t body_len;
    bool close;        /* the server will close the connection */
};

static void
conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->used = false;
    c->in_len = 0;
}

static int
conn_open(struct conn *c)
{
    struct addrinfo hints = {0}, *res, *ai;
    struct timeval tv;
    int rc, one = 1, fd = -1, last = 0;

    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(c->opt->host, c->opt->port, &hints, &res);
    if (rc != 0) {
        snprintf(c->err, sizeof(c->err), "cannot resolve \"%.200s\": %s", c->opt->host,
                 gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(c->err, sizeof(c->err), "could not connect to %.200s:%s: %s", c->opt->host,
                 c->opt->port, strerror(last));
        return -1;
    }
    /* Requests are written whole; Nagle would only hold back their tails. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    tv.tv_sec = (time_t)c->opt->timeout;
    tv.tv_usec = (suseconds_t)((c->opt->timeout - (double)tv.tv_sec) * 1e6);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    c->fd = fd;
    c->used = false;
    c->in_len = 0;
    return 0;
}

static int
send_all(struct conn *c, struct iovec *iov, int n)
{
    struct msghdr msg = {0};

    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    while (msg.msg_iovlen > 0) {
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            snprintf(c->err, sizeof(c->err), "could not send: %s",
                     errno == EAGAIN ? "timed out" : strerror(errno));
            return -1;
        }
        while (msg.msg_iovlen > 0 && (size_t)w >= msg.msg_iov[0].iov_len) {
            w -= (ssize_t)msg.msg_iov[0].iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + w;
            msg.msg_iov[0].iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Read more bytes into c->in; 0 on EOF, -1 on error (c->err set). */
static ssize_t
conn_fill(struct conn *c)
{
    ssize_t r;

    if (c->in_cap - c->in_len < 16384) {
        if (c->in_cap >= MAX_RESPONSE) {
            snprintf(c->err, sizeof(c->err), "response larger than %u bytes", MAX_RESPONSE);
            return -1;
        }
        c->in_cap = c->in_cap ? c->in_cap * 2 : 65536;
        c->in = realloc(c->in, c->in_cap);
        if (c->in == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            abort();
        }
    }
    do {
        r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        snprintf(c->err, sizeof(c->err), "could not receive: %s",
                 errno == EAGAIN ? "no response in time (--timeout)" : strerror(errno));
        return -1;
    }
    c->in_len += (size_t)r;
    c->in[c->in_len] = '\0';
    return r;
}

/* Does header line [p, end) name `name`?  Returns the value or NULL. */
static const char *
header_value(const char *p, const char *end, const char *name)
{
    size_t n = strlen(name);

    if ((size_t)(end - p) <= n || strncasecmp(p, name, n) != 0 || p[n] != ':')
        return NULL;
    p += n + 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/*
 * Decode a chunked body in place.  The decoded bytes collect at
 * [start, *pos) and the undecoded rest follows at *pos, so a call after
 * more bytes arrived resumes where the last one stopped (*pos starts at
 * start).  Returns 1 when complete (*len set), 0 when more bytes are
 * needed, -1 when malformed.
 */
static int
dechunk(struct conn *c, size_t start, size_t *pos, size_t *len)
{
    for (;;) {
        size_t in = *pos;
        char *line_end = memmem(c->in + in, c->in_len - in, "\r\n", 2), *end;
        unsigned long long size;

        if (line_end == NULL)
            return 0;
        errno = 0;
        size = strtoull(c->in + in, &end, 16);
        if (errno != 0 || end == c->in + in || size > MAX_RESPONSE)
            return -1;
        in = (size_t)(line_end - c->in) + 2;
        if (size == 0) {
            /* trailers, if any, end with an empty line */
            if (memmem(c->in + in - 2, c->in_len - in + 2, "\r\n\r\n", 4) == NULL)
                return 0;
            *len = *pos - start;
            return 1;
        }
        if (c->in_len - in < size + 2)
            return 0;
        /* move the chunk's data down over its size line, and the rest after it */
        memmove(c->in + *pos, c->in + in, size);
        in += size + 2;
        *pos += size;
        memmove(c->in + *pos, c->in + in, c->in_len - in);
        c->in_len -= in - *pos;
    }
}

/*
 * Send one request (head and body) and read the whole response into
 * c->in.  On a connection the server closed while idle (keep-alive race,
 * no byte of response), reconnects and sends once more.  Returns 0 or -1
 * (c->err says why; the connection is then closed).
 */
static int
conn_exchange(struct conn *c, const char *head, size_t head_len, const char *body,
              size_t body_len, struct response *resp)
{
    for (int attempt = 0;; attempt++) {
        struct iovec iov[2];
        size_t head_end = 0, body_start, content_length = 0;
        bool chunked = false, has_length = false, idle_race;
        ssize_t r = 1;

        if (c->fd < 0 && conn_open(c) < 0)
            return -1;
        idle_race = c->used && attempt == 0;
        c->in_len = 0;
        iov[0].iov_base = (void *)head;
        iov[0].iov_len = head_len;
        iov[1].iov_base = (void *)body;
        iov[1].iov_len = body_len;
        if (send_all(c, iov, 2) < 0) {
            conn_close(c);
            if (idle_race) {
                c->resends++;
                continue;
            }
            return -1;
        }
        /* headers */
        for (;;) {
            char *e = c->in_len ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;

            if (e != NULL) {
                head_end = (size_t)(e - c->in) + 4;
                break;
            }
            r = conn_fill(c);
            if (r <= 0)
                break;
        }
        if (r <= 0) {
            if (r == 0)
                snprintf(c->err, sizeof(c->err), "connection closed by the server");
            if (c->in_len == 0 && idle_race) {
                conn_close(c);
                c->resends++;
                continue;
            }
            conn_close(c);
            return -1;
        }
        resp->status = 0;
        resp->close = false;
        if (sscanf(c->in, "HTTP/1.%*d %d", &resp->status) != 1) {
            snprintf(c->err, sizeof(c->err), "not an HTTP response: \"%.40s\"", c->in);
            conn_close(c);
            return -1;
        }
        if (strncmp(c->in, "HTTP/1.0", 8) == 0)
            resp->close = true;
        for (const char *p = strstr(c->in, "\r\n") + 2; p < c->in + head_end - 2;) {
            const char *eol = strstr(p, "\r\n"), *v;

            if ((v = header_value(p, eol, "content-length")) != NULL) {
                content_length = strtoull(v, NULL, 10);
                has_length = true;
            } else if ((v = header_value(p, eol, "transfer-encoding")) != NULL) {
                chunked = strncasecmp(v, "chunked", 7) == 0;
            } else if ((v = header_value(p, eol, "connection")) != NULL) {
                if (strncasecmp(v, "close", 5) == 0)
                    resp->close = true;
                else if (strncasecmp(v, "keep-alive", 10) == 0)
                    resp->close = false;
            }
            p = eol + 2;
        }
        body_start = head_end;
        if (chunked) {
            size_t len, pos = body_start;
            int d;

            while ((d = dechunk(c, body_start, &pos, &len)) == 0) {
                r = conn_fill(c);
                if (r <= 0)
                    break;
            }
            if (d != 1) {
                if (d < 0)
                    snprintf(c->err, sizeof(c->err), "malformed chunked response");
                else if (r == 0)
                    snprintf(c->err, sizeof(c->err), "connection closed mid-response");
                conn_close(c);
                return -1;
            }
            resp->body_len = len;
        } else if (has_length) {
            if (content_length > MAX_RESPONSE) {
                snprintf(c->err, sizeof(c->err), "response of %zu bytes is too large",
                         content_length);
                conn_close(c);
                return -1;
            }
            while (c->in_len - body_start < content_length) {
                r = conn_fill(c);
                if (r <= 0) {
                    if (r == 0)
                        snprintf(c->err, sizeof(c->err), "connection closed mid-response");
                    conn_close(c);
                    return -1;
                }
            }
            resp->body_len = content_length;
        } else {
            /* no framing: the body runs to the end of the connection */
            while ((r = conn_fill(c)) > 0) {
            }
            if (r < 0) {
                conn_close(c);
                return -1;
            }
            resp->close = true;
            resp->body_len = c->in_len - body_start;
        }
        resp->body = c->in + body_start;
        c->in[body_start + resp->body_len] = '\0';
        c->used = true;
        return 0;
    }
}

/* ---------------------------------------------------------------------------
 * The few bits of AWS JSON responses we read.
 */

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The value after "key": in [p, end), or NULL.  Finds the first occurrence,
 * which is enough for the flat objects AWS sends. */
static const char *
json_member(const char *p, const char *end, const char *key)
{
    const char *start = p;
    size_t n = strlen(key);

    while (p < end) {
        const char *k = memmem(p, (size_t)(end - p), key, n);

        if (k == NULL)
            return NULL;
        p = k + n;
        if (k > start && k[-1] == '"' && p < end && *p == '"') {
            const char *v = skip_ws(p + 1, end);

            if (v < end && *v == ':')
                return skip_ws(v + 1, end);
        }
    }
    return NULL;
}

/* A JSON string value at p: its bytes (escapes left as they are). */
static bool
json_string(const char *p, const char *end, const char **s, size_t *len)
{
    const char *q;

    if (p >= end || *p != '"')
        return false;
    for (q = p + 1; q < end && *q != '"'; q++)
        if (*q == '\\')
            q++;
    if (q >= end)
        return false;
    *s = p + 1;
    *len = (size_t)(q - p - 1);
    return true;
}

/* botocore's error code: __type without anything up to '#' or after ':'. */
static void
error_code(const char *body, size_t len, const char **code, size_t *code_len)
{
    const char *end = body + len, *v = json_member(body, end, "__type"), *s, *h;
    size_t n;

    if (v == NULL || !json_string(v, end, &s, &n)) {
        *code = "(no __type)";
        *code_len = strlen(*code);
        return;
    }
    h = memchr(s, '#', n);
    if (h != NULL) {
        n -= (size_t)(h + 1 - s);
        s = h + 1;
    }
    h = memchr(s, ':', n);
    if (h != NULL)
        n = (size_t)(h - s);
    *code = s;
    *code_len = n;
}

/*
 * Walk the Records array of a PutRecords response: failed[i] is set for
 * each entry that carries an ErrorCode string, whose code is tallied.
 * Returns the number of entries seen.
 */
static int
scan_failed(const char *body, size_t len, bool *failed, int max, struct tally *codes)
{
    const char *end = body + len, *p = json_member(body, end, "Records");
    int i = 0;

    if (p == NULL || *p != '[')
        return 0;
    p++;
    for (;;) {
        const char *obj, *v, *s;
        int depth = 0;
        size_t n;

        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p = skip_ws(p + 1, end);
        if (p >= end || *p != '{')
            return i;
        obj = p;
        for (; p < end; p++) {
            if (*p == '"') {
                for (p++; p < end && *p != '"'; p++)
                    if (*p == '\\')
                        p++;
            } else if (*p == '{') {
                depth++;
            } else if (*p == '}' && --depth == 0) {
                break;
            }
        }
        if (p >= end)
            return i;
        p++;
        v = json_member(obj, p, "ErrorCode");
        if (v != NULL && json_string(v, p, &s, &n)) {
            if (i < max)
                failed[i] = true;
            tally_add(codes, s, n, 1);
        }
        i++;
    }
}

/* FailedRecordCount of a PutRecords response; a missing one counts as 0,
 * as Fluent Bit does. */
static long long
failed_record_count(const char *body, size_t len)
{
    const char *v = json_member(body, body + len, "FailedRecordCount");

    return v != NULL ? strtoll(v, NULL, 10) : 0;
}

static bool
is_throttle(int status, const char *code, size_t n)
{
    static const char *const codes[] = {
        "ProvisionedThroughputExceededException", "LimitExceededException",
        "ThrottlingException", "InternalFailure", "InternalFailureException", NULL};

    if (status >= 500)
        return true;
    for (int i = 0; codes[i] != NULL; i++)
        if (strlen(codes[i]) == n && memcmp(codes[i], code, n) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------------
 * Requests
 */

/* ---- signing (--sign) ------------------------------------------------------
 *
 * AWS Signature Version 4 over exactly the headers request_head() sends
 * (content-type, host, x-amz-date, x-amz-target) and the body's SHA-256,
 * as the AWS CLI signs a Kinesis request.  The signing key depends on the
 * day only; each worker keeps its own.
 */
struct signer {
    char day[9];
    unsigned char key[32];
};

static void
hex32(const unsigned char *p, char *out)
{
    for (int i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[p[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
    }
    out[64] = '\0';
}

static void
hmac(const void *key, size_t key_len, const char *msg, size_t n, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, n, out, &len);
}

static void
sign(struct signer *sg, const struct options *o, const char *op, const char *amz_date,
     const char *body, size_t body_len, char signature[65])
{
    char canonical[1024], sts[256], body_hex[65], canon_hex[65];
    unsigned char digest[32];
    int n;

    if (memcmp(sg->day, amz_date, 8) != 0) {
        char k[160];
        unsigned char a[32], b[32];

        memcpy(sg->day, amz_date, 8);
        sg->day[8] = '\0';
        n = snprintf(k, sizeof(k), "AWS4%s", o->secret);
        hmac(k, (size_t)n, sg->day, 8, a);
        hmac(a, 32, "us-east-1", 9, b);
        hmac(b, 32, "kinesis", 7, a);
        hmac(a, 32, "aws4_request", 12, sg->key);
    }
    SHA256((const unsigned char *)body, body_len, digest);
    hex32(digest, body_hex);
    n = snprintf(canonical, sizeof(canonical),
                 "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:%s\n"
                 "x-amz-date:%s\nx-amz-target:Kinesis_20131202.%s\n\n"
                 "content-type;host;x-amz-date;x-amz-target\n%s",
                 o->host_header, amz_date, op, body_hex);
    SHA256((const unsigned char *)canonical, (size_t)n, digest);
    hex32(digest, canon_hex);
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%.8s/us-east-1/kinesis/aws4_request\n%s",
                 amz_date, amz_date, canon_hex);
    hmac(sg->key, 32, sts, (size_t)n, digest);
    hex32(digest, signature);
}

/* The request head: AWS CLI's headers with a SigV4 Authorization, real
 * with --sign, else only well formed. */
static size_t
request_head(char *out, size_t cap, const struct options *o, const char *op,
             const char *amz_date, const char *signature, size_t body_len)
{
    int n = snprintf(out, cap,
                     "POST / HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "X-Amz-Target: Kinesis_20131202.%s\r\n"
                     "Content-Type: application/x-amz-json-1.1\r\n"
                     "X-Amz-Date: %s\r\n"
                     "Authorization: AWS4-HMAC-SHA256 Credential=%s/%.8s/us-east-1/"
                     "kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;"
                     "x-amz-target, Signature=%s\r\n"
                     "User-Agent: sluice-loadgen/1\r\n"
                     "Content-Length: %zu\r\n"
                     "\r\n",
                     o->host_header, op, amz_date, o->sign ? o->key_id : "AKIDEXAMPLE",
                     amz_date, signature, body_len);

    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* One control-plane call on c; 0 with resp filled, -1 with c->err set. */
static int
control_call(struct conn *c, const char *op, const char *body, struct response *resp)
{
    char head[1024], ts[TS_LEN], amz_date[17];
    char signature[65] = "0000000000000000000000000000000000000000000000000000000000000000";
    struct signer sg = {0};
    size_t head_len;

    wall_now(ts, amz_date);
    if (c->opt->sign)
        sign(&sg, c->opt, op, amz_date, body, strlen(body), signature);
    head_len = request_head(head, sizeof(head), c->opt, op, amz_date, signature,
                            strlen(body));
    if (head_len == 0) {
        snprintf(c->err, sizeof(c->err), "request head too long");
        return -1;
    }
    return conn_exchange(c, head, head_len, body, strlen(body), resp);
}

/* CreateStream (an existing stream is fine), then wait for ACTIVE. */
static int
create_stream(const struct options *o)
{
    struct conn c = {.opt = o, .fd = -1};
    struct response resp;
    char body[512];
    const char *code;
    size_t code_len;
    double deadline;
    int rc = -1;

    snprintf(body, sizeof(body), "{\"StreamName\":\"%s\",\"ShardCount\":%d}", o->stream,
             o->create_shards);
    if (control_call(&c, "CreateStream", body, &resp) < 0) {
        fprintf(stderr, "loadgen: CreateStream failed: %s\n", c.err);
        goto out;
    }
    if (resp.status != 200) {
        error_code(resp.body, resp.body_len, &code, &code_len);
        if (code_len != 22 || memcmp(code, "ResourceInUseException", 22) != 0) {
            fprintf(stderr, "loadgen: CreateStream of stream \"%s\" failed: HTTP %d %.*s\n",
                    o->stream, resp.status, (int)resp.body_len, resp.body);
            goto out;
        }
    }
    if (resp.close)
        conn_close(&c);
    snprintf(body, sizeof(body), "{\"StreamName\":\"%s\"}", o->stream);
    deadline = mono_now() + 60;
    for (;;) {
        const char *v, *s;
        size_t n;

        if (control_call(&c, "DescribeStreamSummary", body, &resp) < 0) {
            fprintf(stderr, "loadgen: DescribeStreamSummary failed: %s\n", c.err);
            goto out;
        }
        if (resp.status != 200) {
            fprintf(stderr,
                    "loadgen: DescribeStreamSummary of stream \"%s\" failed: HTTP %d %.*s\n",
                    o->stream, resp.status, (int)resp.body_len, resp.body);
            goto out;
        }
        v = json_member(resp.body, resp.body + resp.body_len, "StreamStatus");
        if (v != NULL && json_string(v, resp.body + resp.body_len, &s, &n) && n == 6 &&
            memcmp(s, "ACTIVE", 6) == 0)
            break;
        if (mono_now() > deadline) {
            fprintf(stderr, "loadgen: stream \"%s\" not ACTIVE after 60 s\n", o->stream);
            goto out;
        }
        if (resp.close)
            conn_close(&c);
        usleep(100000);
    }
    rc = 0;
out:
    conn_close(&c);
    free(c.in);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Request bodies: one template per connection, patched per record.
 */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 groups [g0, g1) of raw[0..len) into out (which holds the whole
 * encoding: group g at out + 4g). */
static void
b64_groups(const unsigned char *raw, size_t len, char *out, size_t g0, size_t g1)
{
    for (size_t g = g0; g < g1; g++) {
        size_t i = 3 * g;
        unsigned v = (unsigned)raw[i] << 16;
        char *o = out + 4 * g;

        if (i + 1 < len)
            v |= (unsigned)raw[i + 1] << 8;
        if (i + 2 < len)
            v |= raw[i + 2];
        o[0] = b64_alphabet[(v >> 18) & 63];
        o[1] = b64_alphabet[(v >> 12) & 63];
        o[2] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        o[3] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
}

static const char *const actions[] = {"view", "like", "cart", "save"};

struct body {
    unsigned char *raw;    /* the record template, raw_len bytes */
    size_t raw_len;
    size_t var_start;      /* raw bytes [var_start, var_end) change per record */
    size_t var_end;
    size_t off_counter;    /* where in raw the fields sit */
    size_t off_ts;
    size_t off_user;
    size_t off_page;
    size_t off_action;
    int key_width;         /* digits of the user/partition key */
    char *buf;             /* the full request body */
    size_t prefix_len;     /* {"StreamName":"S","Records":[ */
    size_t elem_len;       /* one {"Data":...} element, without the comma */
    size_t data_off;       /* base64 Data within an element */
    size_t key_off;        /* partition key within an element */
    size_t full_len;       /* bytes of buf with all records */
    char *sub;             /* a body with some of the records (retries, short last) */
    size_t sub_len;
};

static int
digits(long long v)
{
    int d = 1;

    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

/*
 * Lay out the record template and the request body of one connection.
 * run_id is 8 hex characters, conn the connection number.
 */
static void
body_init(struct body *b, const struct options *o, const char *run_id, int conn)
{
    char head[256];
    int n, pad;
    size_t elem_cap;

    b->key_width = digits(o->keys - 1);
    /* The changing fields sit together so one run of base64 groups covers
     * them; the padding is static. */
    n = snprintf(head, sizeof(head),
                 "{\"event_id\":\"%s-%04d-%0*d\",\"ts\":\"%0*d\",\"user_id\":\"u%0*d\","
                 "\"page\":\"/p/000\",\"action\":\"view\",\"pad\":\"",
                 run_id, conn, COUNTER_DIGITS, 0, TS_LEN, 0, b->key_width, 0);
    pad = o->bytes - n - 3; /* closing "}\n */
    if (pad < 0)
        pad = 0;
    b->raw_len = (size_t)n + (size_t)pad + 3;
    b->raw = malloc(b->raw_len);
    if (b->raw == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
    memcpy(b->raw, head, (size_t)n);
    memset(b->raw + n, 'x', (size_t)pad);
    memcpy(b->raw + n + pad, "\"}\n", 3);
    /* the counter follows {"event_id":"<8 hex>-<4 digits>- */
    b->off_counter = strlen("{\"event_id\":\"") + 8 + 1 + 4 + 1;
    b->off_ts = (size_t)(strstr(head, "\"ts\":\"") - head) + 6;
    b->off_user = (size_t)(strstr(head, "\"user_id\":\"u") - head) + 12;
    b->off_page = (size_t)(strstr(head, "/p/") - head) + 3;
    b->off_action = (size_t)(strstr(head, "\"action\":\"") - head) + 10;
    b->var_start = b->off_counter;
    b->var_end = b->off_action + 4;

    {
        char elem_head[] = "{\"Data\":\"";
        size_t b64_len = 4 * ((b->raw_len + 2) / 3);
        char *e;

        b->data_off = sizeof(elem_head) - 1;
        b->key_off = b->data_off + b64_len + strlen("\",\"PartitionKey\":\"u");
        b->elem_len = b->key_off + (size_t)b->key_width + 2;
        n = snprintf(head, sizeof(head), "{\"StreamName\":\"%s\",\"Records\":[", o->stream);
        b->prefix_len = (size_t)n;
        b->full_len = b->prefix_len + (size_t)o->records * (b->elem_len + 1) - 1 + 2;
        b->buf = malloc(b->full_len + 1);
        b->sub = malloc(b->full_len + 1);
        if (b->buf == NULL || b->sub == NULL) {
            fprintf(stderr, "loadgen: out of memory\n");
            abort();
        }
        memcpy(b->buf, head, b->prefix_len);
        elem_cap = b->elem_len + 1;
        for (int i = 0; i < o->records; i++) {
            e = b->buf + b->prefix_len + (size_t)i * elem_cap;
            memcpy(e, elem_head, b->data_off);
            b64_groups(b->raw, b->raw_len, e + b->data_off, 0, (b->raw_len + 2) / 3);
            memcpy(e + b->data_off + b64_len, "\",\"PartitionKey\":\"u",
                   strlen("\",\"PartitionKey\":\"u"));
            memset(e + b->key_off, '0', (size_t)b->key_width);
            memcpy(e + b->key_off + b->key_width, "\"}", 2);
            e[b->elem_len] = ',';
        }
        memcpy(b->buf + b->full_len - 2, "]}", 2);
        b->buf[b->full_len] = '\0';
    }
}

static void
body_release(struct body *b)
{
    free(b->raw);
    free(b->buf);
    free(b->sub);
}

static uint64_t
rand_next(uint64_t *s)
{
    /* xorshift64*: plenty for picking keys and pages */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Give the first n records fresh event ids, keys and the send time ts. */
static void
body_fill(struct body *b, int n, int keys, const char *ts, uint64_t *counter, uint64_t *rng)
{
    size_t g0 = b->var_start / 3, g1 = (b->var_end + 2) / 3;
    char *e = b->buf + b->prefix_len;

    memcpy(b->raw + b->off_ts, ts, TS_LEN);
    for (int i = 0; i < n; i++, e += b->elem_len + 1) {
        uint64_t r = rand_next(rng);
        unsigned key = (unsigned)((r >> 32) % (unsigned)keys);

        put_digits((char *)b->raw + b->off_counter, COUNTER_DIGITS, (*counter)++);
        put_digits((char *)b->raw + b->off_user, b->key_width, key);
        put_digits((char *)b->raw + b->off_page, 3, (r >> 8) % 1000);
        memcpy(b->raw + b->off_action, actions[r & 3], 4);
        b64_groups(b->raw, b->raw_len, e + b->data_off, g0, g1);
        memcpy(e + b->key_off, b->raw + b->off_user, (size_t)b->key_width);
    }
}

/* Build b->sub from the elements of b->buf listed in idx[0..n). */
static void
body_subset(struct body *b, const int *idx, int n)
{
    char *p = b->sub;

    memcpy(p, b->buf, b->prefix_len);
    p += b->prefix_len;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        memcpy(p, b->buf + b->prefix_len + (size_t)idx[i] * (b->elem_len + 1), b->elem_len);
        p += b->elem_len;
    }
    memcpy(p, "]}", 2);
    p += 2;
    *p = '\0';
    b->sub_len = (size_t)(p - b->sub);
}

/* ---------------------------------------------------------------------------
 * Workers
 */

struct shared {
    const struct options *opt;
    char run_id[9];               /* 8 hex digits */
    double t_measure;             /* monotonic start of the measured window */
    double t_end;                 /* monotonic end of sending */
    atomic_llong remaining;       /* records left to measure (--total) */
    atomic_bool stop;             /* a fatal error or a signal */
    pthread_mutex_t lock;         /* guards fatal */
    char fatal[320];              /* the first fatal error */
};

struct worker {
    struct shared *sh;
    int id;                       /* connection number */
    pthread_t thread;
    struct hist hist;             /* latency of measured requests */
    uint64_t records;             /* measured, acknowledged */
    uint64_t failed;              /* measured, not accepted */
    uint64_t requests;            /* measured requests (first sends) */
    uint64_t errors;              /* measured whole-request error responses */
    uint64_t retries;             /* resends, measured or not */
    uint64_t conn_errors;         /* exchanges lost to connection failures */
    uint64_t sent_total;          /* records sent including warm-up */
    double last_done;             /* monotonic time of the last measured response */
    struct tally request_codes;   /* __type of error responses */
    struct tally record_codes;    /* ErrorCode of failed entries */
};

static atomic_bool interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, true);
}

static void
worker_fatal(struct worker *w, const char *msg)
{
    pthread_mutex_lock(&w->sh->lock);
    if (w->sh->fatal[0] == '\0')
        snprintf(w->sh->fatal, sizeof(w->sh->fatal), "connection %d: %s", w->id, msg);
    pthread_mutex_unlock(&w->sh->lock);
    atomic_store(&w->sh->stop, true);
}

static void
backoff(int attempt)
{
    /* 10 ms doubling to 640 ms: enough for a throttle window to pass */
    usleep((useconds_t)(10000u << (attempt < 6 ? attempt : 6)));
}

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    const struct options *o = w->sh->opt;
    struct conn c = {.opt = o, .fd = -1};
    struct body b;
    char head[1024], ts[TS_LEN], amz_date[17], signature[65];
    struct signer sg = {0};
    bool *failed = calloc((size_t)o->records, sizeof(bool));
    int *idx = malloc((size_t)o->records * sizeof(int));
    uint64_t counter = 0, rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(w->id + 1);
    double per_request = 0, next = 0;
    int conn_failures = 0;

    if (failed == NULL || idx == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        abort();
    }
    body_init(&b, o, w->sh->run_id, w->id);
    for (int i = 0; i < 64; i++)
        signature[i] = "0123456789abcdef"[rand_next(&rng) & 15];
    signature[64] = '\0';
    if (o->rate > 0)
        per_request = (double)o->records * o->connections / o->rate;

    if (conn_open(&c) < 0) {
        worker_fatal(w, c.err);
        goto out;
    }
    /* spread the connections over one request interval rather than have
     * them all send at once */
    next = mono_now() + per_request * w->id / o->connections;
    while (!atomic_load(&w->sh->stop) && !atomic_load(&interrupted)) {
        double start, now = mono_now();
        bool measured, lost;
        int n = o->records, pending, attempt = 0;
        const char *send_body;
        size_t send_len, head_len;
        struct response resp;

        if (now >= w->sh->t_end)
            break;
        if (per_request > 0) {
            /* pace to the schedule; after a long stall start afresh rather
             * than burst to catch up */
            if (next > now)
                sleep_until(next);
            else if (now - next > 1.0)
                next = now;
            next += per_request;
            now = mono_now();
            if (now >= w->sh->t_end)
                break;
        }
        measured = now >= w->sh->t_measure;
        if (measured && o->total > 0) {
            long long left = atomic_fetch_sub(&w->sh->remaining, n);

            if (left <= 0)
                break;
            if (left < n)
                n = (int)left;
        }
        wall_now(ts, amz_date);
        body_fill(&b, n, o->keys, ts, &counter, &rng);
        for (int i = 0; i < n; i++)
            idx[i] = i;
        if (n < o->records) {
            body_subset(&b, idx, n);
            send_body = b.sub;
            send_len = b.sub_len;
        } else {
            send_body = b.buf;
            send_len = b.full_len;
        }
        w->sent_total += (uint64_t)n;
        lost = false;
        pending = n;
        start = mono_now();
        if (measured)
            w->requests++;
        for (;;) {
            long long nfail;

            if (o->sign)
                sign(&sg, o, "PutRecords", amz_date, send_body, send_len, signature);
            head_len = request_head(head, sizeof(head), o, "PutRecords", amz_date, signature,
                                    send_len);
            if (conn_exchange(&c, head, head_len, send_body, send_len, &resp) < 0) {
                w->conn_errors++;
                /* A server that is gone ends the run; one that drops
                 * requests now and then is counted until it does so ten
                 * times in a row. */
                if (++conn_failures >= 10 || (c.fd < 0 && conn_open(&c) < 0)) {
                    worker_fatal(w, c.err);
                    goto out;
                }
                /* a dropped connection loses the request: count it, go on */
                if (measured)
                    w->failed += (uint64_t)pending;
                lost = true;
                break;
            }
            conn_failures = 0;
            if (resp.close)
                conn_close(&c);
            if (resp.status != 200) {
                const char *code;
                size_t code_len;

                error_code(resp.body, resp.body_len, &code, &code_len);
                if (measured) {
                    w->errors++;
                    tally_add(&w->request_codes, code, code_len, 1);
                }
                if (o->retry && attempt < MAX_RETRIES && is_throttle(resp.status, code, code_len)) {
                    backoff(attempt++);
                    w->retries++;
                    continue;
                }
                if (measured)
                    w->failed += (uint64_t)pending;
                break;
            }
            nfail = failed_record_count(resp.body, resp.body_len);
            if (nfail <= 0) {
                if (measured)
                    w->records += (uint64_t)pending;
                break;
            }
            if (nfail > pending)
                nfail = pending;
            memset(failed, 0, (size_t)pending * sizeof(bool));
            {
                struct tally scratch = {0};
                int m = 0;

                scan_failed(resp.body, resp.body_len, failed, pending,
                            measured ? &w->record_codes : &scratch);
                if (!o->retry || attempt >= MAX_RETRIES) {
                    if (measured) {
                        w->records += (uint64_t)(pending - nfail);
                        w->failed += (uint64_t)nfail;
                    }
                    break;
                }
                for (int i = 0; i < pending; i++)
                    if (failed[i])
                        idx[m++] = idx[i];
                if (m == 0) {
                    /* the count said failures but no entry named one */
                    if (measured) {
                        w->records += (uint64_t)(pending - nfail);
                        w->failed += (uint64_t)nfail;
                    }
                    break;
                }
                if (measured)
                    w->records += (uint64_t)(pending - m);
                pending = m;
                body_subset(&b, idx, m);
                send_body = b.sub;
                send_len = b.sub_len;
            }
            backoff(attempt++);
            w->retries++;
        }
        if (measured && !lost) {
            double done = mono_now();

            hist_add(&w->hist, (uint64_t)((done - start) * 1e6));
            if (done > w->last_done)
                w->last_done = done;
        }
    }
out:
    w->retries += c.resends;
    conn_close(&c);
    free(c.in);
    body_release(&b);
    free(failed);
    free(idx);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Main
 */

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"stream", required_argument, NULL, 's'},
        {"create", required_argument, NULL, 'C'},
        {"connections", required_argument, NULL, 'c'},
        {"records", required_argument, NULL, 'r'},
        {"bytes", required_argument, NULL, 'b'},
        {"duration", required_argument, NULL, 'd'},
        {"total", required_argument, NULL, 't'},
        {"rate", required_argument, NULL, 'R'},
        {"keys", required_argument, NULL, 'k'},
        {"warmup", required_argument, NULL, 'w'},
        {"retry", no_argument, NULL, 'y'},
        {"timeout", required_argument, NULL, 'T'},
        {"quiet", no_argument, NULL, 'q'},
        {"sign", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct options o = {
        .connections = 8, .records = 500, .bytes = 200, .duration = 10, .keys = 1000,
        .timeout = 30,
    };
    struct shared sh = {.opt = &o, .lock = PTHREAD_MUTEX_INITIALIZER};
    struct worker *workers;
    struct worker sum = {0};
    struct sigaction sa = {0};
    bool have_endpoint = false, have_duration = false;
    double t0, seconds, mb;
    int opt;
    long long v;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'e':
            if (!parse_endpoint(optarg, &o))
                return bad_usage("--endpoint wants http://HOST:PORT, not \"%s\"", optarg);
            have_endpoint = true;
            break;
        case 's':
            o.stream = optarg;
            break;
        case 'C':
            if (!parse_long(optarg, 1, 100000, &v))
                return bad_usage("--create wants a shard count 1-100000, not \"%s\"", optarg);
            o.create_shards = (int)v;
            break;
        case 'c':
            if (!parse_long(optarg, 1, MAX_CONNECTIONS, &v))
                return bad_usage("--connections wants 1-1024, not \"%s\"", optarg);
            o.connections = (int)v;
            break;
        case 'r':
            if (!parse_long(optarg, 1, MAX_RECORDS, &v))
                return bad_usage("--records wants 1-500, not \"%s\"", optarg);
            o.records = (int)v;
            break;
        case 'b':
            if (!parse_long(optarg, 1, MAX_RECORD_BYTES, &v))
                return bad_usage("--bytes wants 1-1048576, not \"%s\"", optarg);
            o.bytes = (int)v;
            break;
        case 'd':
            if (!parse_seconds(optarg, 0.001, 86400, &o.duration))
                return bad_usage("--duration wants seconds, not \"%s\"", optarg);
            have_duration = true;
            break;
        case 't':
            if (!parse_long(optarg, 1, 1000000000000LL, &v))
                return bad_usage("--total wants a record count, not \"%s\"", optarg);
            o.total = v;
            break;
        case 'R':
            if (!parse_seconds(optarg, 0, 1e9, &o.rate))
                return bad_usage("--rate wants records per second, not \"%s\"", optarg);
            break;
        case 'k':
            if (!parse_long(optarg, 1, 100000000, &v))
                return bad_usage("--keys wants 1-100000000, not \"%s\"", optarg);
            o.keys = (int)v;
            break;
        case 'w':
            if (!parse_seconds(optarg, 0, 3600, &o.warmup))
                return bad_usage("--warmup wants seconds, not \"%s\"", optarg);
            break;
        case 'y':
            o.retry = true;
            break;
        case 'T':
            if (!parse_seconds(optarg, 0.001, 3600, &o.timeout))
                return bad_usage("--timeout wants seconds, not \"%s\"", optarg);
            break;
        case 'S': {
            const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");

            if (id == NULL || secret == NULL || strlen(id) >= sizeof(o.key_id) ||
                strlen(secret) >= sizeof(o.secret))
                return bad_usage("%s", "--sign needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
            snprintf(o.key_id, sizeof(o.key_id), "%s", id);
            snprintf(o.secret, sizeof(o.secret), "%s", secret);
            o.sign = true;
            break;
        }
        case 'q':
            o.quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "see 'loadgen --help'\n");
            return 2;
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument \"%s\"", argv[optind]);
    if (!have_endpoint)
        return bad_usage("%s", "--endpoint is required");
    if (o.stream == NULL || o.stream[0] == '\0' || strlen(o.stream) > 128 ||
        strspn(o.stream, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
            strlen(o.stream))
        return bad_usage("%s", "--stream NAME is required (1-128 of [a-zA-Z0-9_.-])");
    if (o.total > 0 && !have_duration)
        o.duration = 300;

    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (o.create_shards > 0 && create_stream(&o) < 0)
        return 1;

    {
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        snprintf(sh.run_id, sizeof(sh.run_id), "%08x",
                 (unsigned)((uint64_t)now.tv_sec * 1000003u ^ (uint64_t)now.tv_nsec ^
                            ((uint64_t)getpid() << 16)));
    }
    t0 = mono_now();
    sh.t_measure = t0 + o.warmup;
    sh.t_end = sh.t_measure + o.duration;
    atomic_init(&sh.remaining, o.total);
    atomic_init(&sh.stop, false);

    workers = calloc((size_t)o.connections, sizeof(*workers));
    if (workers == NULL) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 1;
    }
    for (int i = 0; i < o.connections; i++) {
        workers[i].sh = &sh;
        workers[i].id = i;
        if (pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]) != 0) {
            fprintf(stderr, "loadgen: cannot start thread %d\n", i);
            atomic_store(&sh.stop, true);
            o.connections = i;
            break;
        }
    }
    for (int i = 0; i < o.connections; i++) {
        struct worker *w = &workers[i];

        pthread_join(w->thread, NULL);
        hist_merge(&sum.hist, &w->hist);
        sum.records += w->records;
        sum.failed += w->failed;
        sum.requests += w->requests;
        sum.errors += w->errors;
        sum.retries += w->retries;
        sum.conn_errors += w->conn_errors;
        sum.sent_total += w->sent_total;
        if (w->last_done > sum.last_done)
            sum.last_done = w->last_done;
        tally_merge(&sum.request_codes, &w->request_codes);
        tally_merge(&sum.record_codes, &w->record_codes);
    }
    free(workers);
    if (sh.fatal[0] != '\0') {
        fprintf(stderr, "loadgen: stopped: %s\n", sh.fatal);
        return 1;
    }

    /* To the last counted response; a run that went its full --duration
     * counts at least that long, so a paced run is not credited with the
     * idle time after its last request. */
    seconds = sum.last_done > sh.t_measure ? sum.last_done - sh.t_measure : 0;
    if (sum.requests > 0 && o.total == 0 && !atomic_load(&interrupted) && seconds < o.duration)
        seconds = o.duration;
    {
        /* Data bytes per record: the template length is the same for all */
        struct body b;

        body_init(&b, &o, sh.run_id, 0);
        mb = (double)sum.records * (double)b.raw_len / 1e6;
        if (!o.quiet) {
            printf("loadgen: %s stream %s, %d connections, %d records of %zu bytes per "
                   "request%s\n",
                   o.host_header, o.stream, o.connections, o.records, b.raw_len,
                   o.retry ? ", retrying failures" : "");
            printf("  %-22s %10.3f s%s\n", "measured", seconds,
                   atomic_load(&interrupted) ? " (interrupted)" : "");
            printf("  %-22s %10" PRIu64 "\n", "requests", sum.requests);
            printf("  %-22s %10" PRIu64 "\n", "records acknowledged", sum.records);
            printf("  %-22s %10.0f\n", "records/s", seconds > 0 ? sum.records / seconds : 0);
            printf("  %-22s %10.2f (record data, 10^6 bytes)\n", "MB/s",
                   seconds > 0 ? mb / seconds : 0);
            printf("  %-22s %10.3f / %.3f / %.3f ms\n", "latency p50/p99/max",
                   hist_quantile_ms(&sum.hist, 0.50), hist_quantile_ms(&sum.hist, 0.99),
                   (double)sum.hist.max_us / 1000.0);
            printf("  %-22s %10" PRIu64 "\n", "records failed", sum.failed);
            tally_print(&sum.record_codes, "  failed entries seen");
            printf("  %-22s %10" PRIu64 "\n", "error responses", sum.errors);
            tally_print(&sum.request_codes, "  error responses");
            if (sum.retries)
                printf("  %-22s %10" PRIu64 "\n", "resends", sum.retries);
            if (sum.conn_errors)
                printf("  %-22s %10" PRIu64 "\n", "connection errors", sum.conn_errors);
        }
        printf("RESULT records=%" PRIu64 " seconds=%.3f records_per_s=%.0f mb_per_s=%.2f "
               "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f failed=%" PRIu64 " errors=%" PRIu64
               " requests=%" PRIu64 " conn_errors=%" PRIu64 " connections=%d record_bytes=%zu\n",
               sum.records, seconds, seconds > 0 ? sum.records / seconds : 0,
               seconds > 0 ? mb / seconds : 0, hist_quantile_ms(&sum.hist, 0.50),
               hist_quantile_ms(&sum.hist, 0.99), (double)sum.hist.max_us / 1000.0, sum.failed,
               sum.errors, sum.requests, sum.conn_errors, o.connections, b.raw_len);
        body_release(&b);
    }
    return sum.records > 0 ? 0 : 1;
}
