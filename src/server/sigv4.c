/*
 * sigv4.c - AWS Signature Version 4 verification.
 *
 * The check runs in the order AWS's own front end (Coral, behind Kinesis,
 * Firehose, DynamoDB, Step Functions) runs it, so that a request with
 * several faults gets the error AWS would give:
 *
 *   1. both an Authorization header and X-Amz-* query parameters
 *   2. neither, or an Authorization header of another scheme
 *   3. missing parts (all of them named in one message) and the date
 *   4. the date's form
 *   5. the date window (clock skew; X-Amz-Expires when presigned)
 *   6. host (and the header the date came from) among the signed headers
 *   7. the algorithm
 *   8. the credential's shape: KEY/DATE/REGION/SERVICE/TERM
 *   9. the credential scope (region, service, terminator, date: all named)
 *  10. the access key id
 *  --- the head ends here; the rest needs the body ---
 *  11. the signature
 *  12. the payload against x-amz-content-sha256
 *
 * Sources for the order and the words: dynalite (mhart/dynalite, index.js)
 * records DynamoDB's answers to each fault in this order; kinesalite
 * (mhart/kinesalite, index.js), built against Kinesis, answers 400 with a
 * JSON body to an awsJson request and uses "Missing Authentication Token";
 * Java SDK reports from Kinesis show "Status Code: 400" for
 * UnrecognizedClientException (awslabs/amazon-kinesis-scaling-utils#46)
 * and InvalidSignatureException (apache/camel-k#1608); the IAM user guide,
 * "Troubleshoot signed requests" names the scope and skew messages.
 *
 *   status             type                                 message (start)
 *   MISSING            MissingAuthenticationTokenException  Missing Authentication Token
 *   INCOMPLETE         IncompleteSignatureException         Authorization header requires 'Credential' parameter. ...
 *                      IncompleteSignatureException         AWS query-string parameters must include 'X-Amz-Date'. ...
 *                      IncompleteSignatureException         Date must be in ISO-8601 'basic format'. Got '...'. ...
 *                      IncompleteSignatureException         Unsupported AWS 'algorithm': '...' ...
 *                      IncompleteSignatureException         Credential must have exactly 5 slash-delimited elements, ...
 *                      IncompleteSignatureException         '...' not a valid key=value pair (missing equal-sign) ...
 *                      InvalidSignatureException            'Host' must be a 'SignedHeader' in the AWS Authorization.
 *                      InvalidSignatureException            Found both 'X-Amz-Algorithm' as a query-string param and ...
 *   EXPIRED            InvalidSignatureException            Signature expired: D is now earlier than N-15 (N - 15 min.)
 *   NOT_YET            InvalidSignatureException            Signature not yet current: D is still later than N+15 (N + 15 min.)
 *   WRONG_SCOPE        InvalidSignatureException            Credential should be scoped to a valid region, not 'r'. ...
 *   UNKNOWN_KEY        UnrecognizedClientException          The security token included in the request is invalid.
 *   BAD_SIGNATURE      InvalidSignatureException            The request signature we calculated does not match ...
 *   PAYLOAD_MISMATCH   XAmzContentSHA256Mismatch            The provided 'x-amz-content-sha256' header does not match ...
 *
 * Every one is HTTP 400, as the awsJson services answer (a REST service
 * behind API Gateway would answer 403; the caller may change http_status).
 * Choices where no source was found, each marked CHOICE: below: the
 * message of an unsigned date header, of a signed header absent from the
 * request, of a bound exceeded, of a bad X-Amz-Expires and of an expired
 * presigned request; the payload mismatch (S3's name and words, as no
 * awsJson service documents one); refusing repeated Authorization,
 * X-Amz-Date and x-amz-content-sha256 headers.  AWS echoes the whole
 * Authorization header at the end of an IncompleteSignature message; we do
 * not, as a misconfigured client may put a secret there and the message
 * reaches logs.
 *
 * The canonical request is never held in memory: it is written straight
 * into SHA-256 through a small buffer (struct sink).  The only allocation
 * is one scratch block per call for the query parameters and the path's
 * segments, bounded by SIGV4_MAX_TARGET.
 */
#include "server/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/banned.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SECRET_MAX 256 /* bytes of secret the callback may hand over */
#define SALT_LEN 16

/* ---- small helpers ------------------------------------------------------ */

/* A slice of someone else's bytes. */
struct span {
    const char *p;
    size_t n;
};

static bool
span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static bool
is_space(char c)
{
    /* What Python's str.split() splits on, as botocore trims with it. */
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* RFC 3986 unreserved: never percent-encoded. */
static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/*
 * Copy s[0..n) into out[0..size) for a message or the audit log: printable
 * ASCII other than quotes kept, anything else shown as '?', cut with "..."
 * past max bytes.  Never more than it is given: the caller decides what
 * may be echoed at all.
 */
static void
echo(char *out, size_t size, const char *s, size_t n, size_t max)
{
    size_t k = 0;
    bool cut = n > max;

    if (cut)
        n = max;
    for (size_t i = 0; i < n && k + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        out[k++] = c >= 0x20 && c < 0x7f && c != '\'' && c != '"' && c != '\\' ? (char)c : '?';
    }
    for (int i = 0; cut && i < 3 && k + 1 < size; i++)
        out[k++] = '.';
    if (size > 0)
        out[k] = '\0';
}

/* The first header named name (case-insensitive), and how many there are. */
static const char *
find_header(const struct sigv4_request *req, const char *name, int *count)
{
    const char *first = NULL;

    *count = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];

        if (h->name != NULL && h->value != NULL && strcasecmp(h->name, name) == 0) {
            if (first == NULL)
                first = h->value;
            (*count)++;
        }
    }
    return first;
}

/* Whether some header's name is s (case-insensitive). */
static bool
header_present(const struct sigv4_request *req, struct span s)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];

        if (h->name != NULL && h->value != NULL && strlen(h->name) == s.n &&
            strncasecmp(h->name, s.p, s.n) == 0)
            return true;
    }
    return false;
}

/* ---- results ------------------------------------------------------------ */

static void
result_init(struct sigv4_result *out)
{
    out->status = SIGV4_OK;
    out->http_status = 200;
    out->type = "";
    out->message[0] = '\0';
    out->key_id[0] = '\0';
}

static void fail(struct sigv4_result *out, enum sigv4_status st, const char *type,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fail(struct sigv4_result *out, enum sigv4_status st, const char *type, const char *fmt, ...)
{
    va_list ap;

    out->status = st;
    out->http_status = 400;
    out->type = type;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
}

/* Append to out->message (for the messages that name several faults). */
static void add_msg(struct sigv4_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
add_msg(struct sigv4_result *out, const char *fmt, ...)
{
    size_t len = strlen(out->message);
    va_list ap;

    if (len + 1 >= sizeof(out->message))
        return;
    va_start(ap, fmt);
    vsnprintf(out->message + len, sizeof(out->message) - len, fmt, ap);
    va_end(ap);
}

#define T_MISSING "MissingAuthenticationTokenException"
#define T_INCOMPLETE "IncompleteSignatureException"
#define T_INVALID "InvalidSignatureException"
#define T_UNKNOWN "UnrecognizedClientException"
#define T_PAYLOAD "XAmzContentSHA256Mismatch"

#define MSG_MISSING "Missing Authentication Token"
#define MSG_UNKNOWN "The security token included in the request is invalid."
#define MSG_MISMATCH                                                                        \
    "The request signature we calculated does not match the signature you provided. "       \
    "Check your AWS Secret Access Key and signing method. Consult the service "             \
    "documentation for details."

/* ---- dates -------------------------------------------------------------- */

/* Digits s[0..n) as a number; false unless all are digits. */
static bool
digits(const char *s, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* Seconds since the epoch of a checked calendar date and time. */
static bool
civil_to_epoch(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
    int64_t days;
    int yy;
    unsigned mm, dd;

    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    days = sl_days_from_civil(y, (unsigned)mo, (unsigned)d);
    sl_civil_from_days(days, &yy, &mm, &dd);
    if (yy != y || mm != (unsigned)mo || dd != (unsigned)d)
        return false; /* 30 February and friends */
    *out = days * 86400 + h * 3600 + mi * 60 + s;
    return true;
}

/* "YYYYMMDDTHHMMSSZ", ISO 8601 basic format, as X-Amz-Date carries it. */
static bool
parse_amz_date(struct span s, int64_t *t)
{
    int y, mo, d, h, mi, sec;

    if (s.n != 16 || s.p[8] != 'T' || s.p[15] != 'Z')
        return false;
    if (!digits(s.p, 4, &y) || !digits(s.p + 4, 2, &mo) || !digits(s.p + 6, 2, &d) ||
        !digits(s.p + 9, 2, &h) || !digits(s.p + 11, 2, &mi) || !digits(s.p + 13, 2, &sec))
        return false;
    return civil_to_epoch(y, mo, d, h, mi, sec, t);
}

/*
 * The HTTP Date header, RFC 7231 IMF-fixdate "Sun, 06 Nov 1994 08:49:37
 * GMT"; botocore writes the zone as "-0000" (email.utils.formatdate), so
 * +0000, -0000 and UTC are taken too.  Only UTC: AWS signs in UTC.
 */
static bool
parse_http_date(struct span s, int64_t *t)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int y, mo = 0, d, h, mi, sec;
    struct span zone;

    if (s.n < 29 || s.p[3] != ',' || s.p[4] != ' ' || s.p[7] != ' ' || s.p[11] != ' ' ||
        s.p[16] != ' ' || s.p[19] != ':' || s.p[22] != ':' || s.p[25] != ' ')
        return false;
    for (int i = 0; i < 12; i++)
        if (memcmp(s.p + 8, months + 3 * i, 3) == 0)
            mo = i + 1;
    zone = (struct span){s.p + 26, s.n - 26};
    if (mo == 0 || !(span_eq(zone, "GMT") || span_eq(zone, "UTC") || span_eq(zone, "+0000") ||
                     span_eq(zone, "-0000")))
        return false;
    if (!digits(s.p + 5, 2, &d) || !digits(s.p + 12, 4, &y) || !digits(s.p + 17, 2, &h) ||
        !digits(s.p + 20, 2, &mi) || !digits(s.p + 23, 2, &sec))
        return false;
    return civil_to_epoch(y, mo, d, h, mi, sec, t);
}

/* t as "YYYYMMDDTHHMMSSZ" into out[17]; years outside 0..9999 clamp. */
static void
format_amz_date(int64_t t, char out[17])
{
    int64_t days = t / 86400, rem = t % 86400;
    int y;
    unsigned m, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    sl_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        memcpy(out, y < 0 ? "00000101T000000Z" : "99991231T235959Z", 17);
        return;
    }
    snprintf(out, 17, "%04d%02u%02uT%02d%02d%02dZ", y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

/* ---- the canonical request, hashed as it is written --------------------- */

struct sink {
    struct sl_sha256 h;
    size_t n;
    unsigned char buf[2048];
};

static void
sink_init(struct sink *s)
{
    sl_sha256_init(&s->h);
    s->n = 0;
}

static void
sink_put(struct sink *s, const void *p, size_t n)
{
    if (s->n + n > sizeof(s->buf)) {
        sl_sha256_update(&s->h, s->buf, s->n);
        s->n = 0;
        if (n > sizeof(s->buf)) {
            sl_sha256_update(&s->h, p, n);
            return;
        }
    }
    memcpy(s->buf + s->n, p, n);
    s->n += n;
}

static void
sink_putc(struct sink *s, char c)
{
    sink_put(s, &c, 1);
}

static void
sink_puts(struct sink *s, const char *str)
{
    sink_put(s, str, strlen(str));
}

/* Hex SHA-256 of everything written, into hex[65]; releases the context. */
static void
sink_final(struct sink *s, char hex[65])
{
    unsigned char md[SL_SHA256_LEN];

    sl_sha256_update(&s->h, s->buf, s->n);
    sl_sha256_final(&s->h, md);
    sl_hex(md, sizeof(md), hex);
}

/* p[0..n) percent-encoded: unreserved bytes (and '/' if keep_slash) as is. */
static void
sink_encode(struct sink *s, const char *p, size_t n, bool keep_slash)
{
    static const char hexd[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            sink_putc(s, (char)c);
        } else {
            char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};

            sink_put(s, e, 3);
        }
    }
}

/* A bump allocator over one block, for one call. */
struct scratch {
    char *base;
    size_t used, cap;
};

static void *
scratch_take(struct scratch *a, size_t n)
{
    void *p;

    n = (n + 15) & ~(size_t)15;
    if (n > a->cap - a->used)
        return NULL; /* sized up front; cannot happen */
    p = a->base + a->used;
    a->used += n;
    return p;
}

/*
 * Canonical URI as botocore builds it for services other than S3: the
 * path as sent (still percent-encoded), dot segments and empty segments
 * removed (RFC 3986 5.2.4; "AWS services require consecutive slashes to be
 * removed", botocore utils.remove_dot_segments), a trailing slash kept,
 * then percent-encoded again with '/' kept, so "%20" becomes "%2520"
 * (botocore SigV4Auth._normalize_url_path: quote(path, safe='/~')).
 */
static bool
sink_uri(struct sink *s, struct span path, struct scratch *a)
{
    struct span *segs;
    size_t nseg = 0, start = 0;

    if (path.n == 0) {
        sink_putc(s, '/');
        return true;
    }
    segs = scratch_take(a, (path.n / 2 + 2) * sizeof(*segs));
    if (segs == NULL)
        return false;
    for (size_t i = 0; i <= path.n; i++) {
        if (i < path.n && path.p[i] != '/')
            continue;
        struct span seg = {path.p + start, i - start};

        start = i + 1;
        if (seg.n == 0 || span_eq(seg, "."))
            continue;
        if (span_eq(seg, "..")) {
            if (nseg > 0)
                nseg--;
            continue;
        }
        segs[nseg++] = seg;
    }
    if (path.p[0] == '/')
        sink_putc(s, '/');
    for (size_t i = 0; i < nseg; i++) {
        if (i > 0)
            sink_putc(s, '/');
        sink_encode(s, segs[i].p, segs[i].n, true);
    }
    if (path.p[path.n - 1] == '/' && nseg > 0)
        sink_putc(s, '/');
    return true;
}

/* One query argument: decoded (to find X-Amz-*) and encoded (to sign). */
struct qparam {
    struct span name, value;   /* percent-decoded */
    struct span ename, evalue; /* encoded again, unreserved set */
};

/* Decode %XX in p[0..n) into out; a '%' not followed by two hex digits stays. */
static size_t
pct_decode(const char *p, size_t n, char *out)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        int hi, lo;

        if (p[i] == '%' && i + 2 < n && (hi = sl_hex_digit((unsigned char)p[i + 1])) >= 0 &&
            (lo = sl_hex_digit((unsigned char)p[i + 2])) >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[k++] = p[i];
        }
    }
    return k;
}

static size_t
pct_encode(const char *p, size_t n, char *out)
{
    static const char hexd[] = "0123456789ABCDEF";
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (is_unreserved(c)) {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = hexd[c >> 4];
            out[k++] = hexd[c & 15];
        }
    }
    return k;
}

static int
qparam_cmp(const void *x, const void *y)
{
    const struct qparam *a = x, *b = y;
    size_t n = a->ename.n < b->ename.n ? a->ename.n : b->ename.n;
    int c = memcmp(a->ename.p, b->ename.p, n);

    if (c != 0 || a->ename.n != b->ename.n)
        return c != 0 ? c : (a->ename.n < b->ename.n ? -1 : 1);
    n = a->evalue.n < b->evalue.n ? a->evalue.n : b->evalue.n;
    c = memcmp(a->evalue.p, b->evalue.p, n);
    if (c != 0 || a->evalue.n == b->evalue.n)
        return c;
    return a->evalue.n < b->evalue.n ? -1 : 1;
}

/*
 * Split the query string into arguments, decoded and re-encoded.  Empty
 * arguments ("a=1&&b=2") are skipped; an argument without '=' has an empty
 * value.  Returns the count, or -1 past SIGV4_MAX_QUERY_PARAMS.
 */
static int
parse_query(struct span q, struct scratch *a, struct qparam **out)
{
    struct qparam *ps;
    size_t n = 0, start = 0;

    *out = NULL;
    if (q.n == 0)
        return 0;
    ps = scratch_take(a, SIGV4_MAX_QUERY_PARAMS * sizeof(*ps));
    if (ps == NULL)
        return -1;
    for (size_t i = 0; i <= q.n; i++) {
        if (i < q.n && q.p[i] != '&')
            continue;
        struct span arg = {q.p + start, i - start};
        const char *eq;
        struct span rn, rv;
        char *dn, *dv, *en, *ev;

        start = i + 1;
        if (arg.n == 0)
            continue;
        if (n == SIGV4_MAX_QUERY_PARAMS)
            return -1;
        eq = memchr(arg.p, '=', arg.n);
        rn = (struct span){arg.p, eq ? (size_t)(eq - arg.p) : arg.n};
        rv = eq ? (struct span){eq + 1, arg.n - rn.n - 1} : (struct span){arg.p + arg.n, 0};
        dn = scratch_take(a, rn.n + 1);
        dv = scratch_take(a, rv.n + 1);
        if (dn == NULL || dv == NULL)
            return -1;
        ps[n].name = (struct span){dn, pct_decode(rn.p, rn.n, dn)};
        ps[n].value = (struct span){dv, pct_decode(rv.p, rv.n, dv)};
        en = scratch_take(a, 3 * ps[n].name.n + 1);
        ev = scratch_take(a, 3 * ps[n].value.n + 1);
        if (en == NULL || ev == NULL)
            return -1;
        ps[n].ename = (struct span){en, pct_encode(ps[n].name.p, ps[n].name.n, en)};
        ps[n].evalue = (struct span){ev, pct_encode(ps[n].value.p, ps[n].value.n, ev)};
        n++;
    }
    *out = ps;
    return (int)n;
}

/* The value of the argument named name, and how many there are. */
static struct span
query_get(const struct qparam *ps, int n, const char *name, int *count)
{
    struct span v = {NULL, 0};

    *count = 0;
    for (int i = 0; i < n; i++) {
        if (span_eq(ps[i].name, name)) {
            if (*count == 0)
                v = ps[i].value;
            (*count)++;
        }
    }
    return v;
}

/* A header value trimmed, runs of white space made one space (AWS "Trimall"). */
static void
sink_trimall(struct sink *s, const char *v)
{
    bool pending = false, any = false;

    for (; *v != '\0'; v++) {
        if (is_space(*v)) {
            pending = any;
            continue;
        }
        if (pending)
            sink_putc(s, ' ');
        pending = false;
        any = true;
        sink_putc(s, *v);
    }
}

/* ---- the signing key and its cache -------------------------------------- */

struct key_slot {
    bool used;
    uint64_t last;                      /* verifier tick of the last use */
    char key_id[128];
    unsigned char digest[SL_SHA256_LEN]; /* salted SHA-256 of the secret */
    char date[9];                       /* YYYYMMDD */
    char service[64];
    unsigned char key[SL_SHA256_LEN];   /* kSigning */
};

struct sigv4_verifier {
    char region[64];
    int64_t skew;
    unsigned char salt[SALT_LEN]; /* so the digests say nothing outside */
    pthread_mutex_t lock;         /* guards tick and slots */
    uint64_t tick;
    struct key_slot slots[SIGV4_CACHE_SLOTS];
};

static void
hmac(const void *key, size_t klen, const void *msg, size_t mlen, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len);
}

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request") (IAM user guide, "Create a signed AWS API request",
 * step 4; botocore SigV4Auth.signature).
 */
static void
derive_key(const char *secret, const char *date, const char *region, const char *service,
           unsigned char out[32])
{
    char k0[4 + SECRET_MAX];
    unsigned char k1[32], k2[32], k3[32];
    size_t n = strlen(secret);

    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n);
    hmac(k0, 4 + n, date, strlen(date), k1);
    hmac(k1, 32, region, strlen(region), k2);
    hmac(k2, 32, service, strlen(service), k3);
    hmac(k3, 32, TERMINATOR, strlen(TERMINATOR), out);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(k3, sizeof(k3));
}

/*
 * The signing key for (key_id, secret, date, service) in the verifier's
 * region, from the cache or derived and remembered.  A changed secret has
 * another digest, so it misses.  The lock is held only to copy 32 bytes in
 * or out, never while deriving.
 */
static void
signing_key(struct sigv4_verifier *v, const char *key_id, const char *secret, const char *date,
            const char *service, unsigned char out[32])
{
    unsigned char digest[SL_SHA256_LEN];
    struct sl_sha256 h;
    bool cacheable = strlen(key_id) < sizeof(v->slots[0].key_id) &&
                     strlen(service) < sizeof(v->slots[0].service);
    struct key_slot *victim;

    sl_sha256_init(&h);
    sl_sha256_update(&h, v->salt, sizeof(v->salt));
    sl_sha256_update(&h, secret, strlen(secret));
    sl_sha256_final(&h, digest);
    if (cacheable) {
        pthread_mutex_lock(&v->lock);
        for (int i = 0; i < SIGV4_CACHE_SLOTS; i++) {
            struct key_slot *s = &v->slots[i];

            if (s->used && strcmp(s->date, date) == 0 && strcmp(s->key_id, key_id) == 0 &&
                strcmp(s->service, service) == 0 &&
                CRYPTO_memcmp(s->digest, digest, sizeof(digest)) == 0) {
                s->last = ++v->tick;
                memcpy(out, s->key, 32);
                pthread_mutex_unlock(&v->lock);
                return;
            }
        }
        pthread_mutex_unlock(&v->lock);
    }
    derive_key(secret, date, v->region, service, out);
    if (!cacheable)
        return;
    pthread_mutex_lock(&v->lock);
    victim = &v->slots[0];
    for (int i = 0; i < SIGV4_CACHE_SLOTS; i++) {
        struct key_slot *s = &v->slots[i];

        if (!s->used) {
            victim = s;
            break;
        }
        if (s->last < victim->last)
            victim = s;
    }
    victim->used = true;
    victim->last = ++v->tick;
    memcpy(victim->key_id, key_id, strlen(key_id) + 1);
    memcpy(victim->digest, digest, sizeof(digest));
    memcpy(victim->date, date, 9);
    memcpy(victim->service, service, strlen(service) + 1);
    memcpy(victim->key, out, 32);
    pthread_mutex_unlock(&v->lock);
}

struct sigv4_verifier *
sigv4_new(const char *region, int64_t skew_seconds)
{
    struct sigv4_verifier *v = sl_calloc(1, sizeof(*v));
    size_t n = strlen(region);

    if (n >= sizeof(v->region))
        n = sizeof(v->region) - 1;
    memcpy(v->region, region, n);
    v->skew = skew_seconds < 0 ? 0 : skew_seconds;
    if (RAND_bytes(v->salt, sizeof(v->salt)) != 1)
        memset(v->salt, 0x5a, sizeof(v->salt)); /* still a digest; just not salted */
    pthread_mutex_init(&v->lock, NULL);
    return v;
}

void
sigv4_forget(struct sigv4_verifier *v)
{
    pthread_mutex_lock(&v->lock);
    OPENSSL_cleanse(v->slots, sizeof(v->slots));
    pthread_mutex_unlock(&v->lock);
}

void
sigv4_free(struct sigv4_verifier *v)
{
    if (v == NULL)
        return;
    sigv4_forget(v);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

/* ---- what the request claims -------------------------------------------- */

enum date_from { DATE_X_AMZ, DATE_HTTP, DATE_QUERY };

struct claim {
    bool presigned;
    struct span alg, cred, signed_hdrs, sig, date;
    enum date_from date_from;
    int64_t expires; /* X-Amz-Expires; -1 when not presigned */
};

/* Whether c is one of the separators AWS splits the Authorization on. */
static bool
auth_sep(char c)
{
    return c == ',' || c == ' ' || c == '\t';
}

/*
 * Read the Authorization header's parameters into c.  AWS splits the text
 * after the algorithm on commas and spaces alike (dynalite, kinesalite; the
 * "'KEY/...' not a valid key=value pair (missing equal-sign)" answers to a
 * space after "Credential=" in aws/aws-sdk-go#289), so "a=1, b=2", "a=1,b=2"
 * and "a=1 b=2" all read the same, in any order.  Returns false with out
 * filled on a part without '=' or a repeated part.
 */
static bool
parse_authorization(const char *h, struct claim *c, struct sigv4_result *out)
{
    size_t n = strlen(h), i = 0;
    char shown[80];

    while (i < n && is_space(h[i]))
        i++;
    c->alg.p = h + i;
    while (i < n && !auth_sep(h[i]))
        i++;
    c->alg.n = (size_t)(h + i - c->alg.p);
    while (i < n) {
        struct span tok, key, val, *slot = NULL;
        const char *eq;

        while (i < n && auth_sep(h[i]))
            i++;
        if (i == n)
            break;
        tok.p = h + i;
        while (i < n && !auth_sep(h[i]))
            i++;
        tok.n = (size_t)(h + i - tok.p);
        eq = memchr(tok.p, '=', tok.n);
        if (eq == NULL) {
            echo(shown, sizeof(shown), tok.p, tok.n, 64);
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "'%s' not a valid key=value pair (missing equal-sign) in Authorization header.",
                 shown);
            return false;
        }
        key = (struct span){tok.p, (size_t)(eq - tok.p)};
        val = (struct span){eq + 1, tok.n - key.n - 1};
        if (span_eq(key, "Credential"))
            slot = &c->cred;
        else if (span_eq(key, "SignedHeaders"))
            slot = &c->signed_hdrs;
        else if (span_eq(key, "Signature"))
            slot = &c->sig;
        if (slot == NULL)
            continue; /* unknown parts are ignored, as AWS does */
        if (slot->p != NULL) {
            /* CHOICE: a repeated part is refused rather than one picked. */
            echo(shown, sizeof(shown), key.p, key.n, 32);
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "Authorization header has more than one '%s' parameter.", shown);
            return false;
        }
        *slot = val;
    }
    return true;
}

/* The key id: the credential up to its first '/', echoed for the audit log. */
static void
note_key_id(struct span cred, struct sigv4_result *out)
{
    const char *slash = memchr(cred.p, '/', cred.n);
    size_t n = slash ? (size_t)(slash - cred.p) : cred.n;
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < sizeof(out->key_id); i++) {
        char ch = cred.p[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  strchr("+/=,.@_-", ch) != NULL;

        out->key_id[k++] = ok && ch != '\0' ? ch : '?';
    }
    out->key_id[k] = '\0';
}

/* ---- the verification --------------------------------------------------- */

/* Sizes a call may touch, checked before anything else. */
static bool
check_bounds(const struct sigv4_request *req, size_t target_len, struct sigv4_result *out)
{
    if (req->nheaders > SIGV4_MAX_HEADERS) {
        /* CHOICE: the bounds' messages are ours. */
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "The request has %zu headers; at most %d are accepted.", req->nheaders,
             SIGV4_MAX_HEADERS);
        return false;
    }
    if (target_len > SIGV4_MAX_TARGET) {
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "The request-target is longer than %d bytes.", SIGV4_MAX_TARGET);
        return false;
    }
    return true;
}

/*
 * Steps 1-3: which form, and whether it has every part.  Fills c; false
 * with out filled when the request goes no further.
 */
static bool
find_claim(const struct sigv4_request *req, const struct qparam *qs, int nq, struct claim *c,
           struct sigv4_result *out)
{
    int n_auth, n_alg, n_cred, n_sig, n_sh, n_date, n_exp, n_amz;
    const char *auth = find_header(req, "authorization", &n_auth);
    struct span q_alg = query_get(qs, nq, "X-Amz-Algorithm", &n_alg);
    struct span q_cred = query_get(qs, nq, "X-Amz-Credential", &n_cred);
    struct span q_sig = query_get(qs, nq, "X-Amz-Signature", &n_sig);
    struct span q_sh = query_get(qs, nq, "X-Amz-SignedHeaders", &n_sh);
    struct span q_date = query_get(qs, nq, "X-Amz-Date", &n_date);
    struct span q_exp = query_get(qs, nq, "X-Amz-Expires", &n_exp);
    const char *amz_date = find_header(req, "x-amz-date", &n_amz);
    bool query_form = n_alg > 0 || n_cred > 0 || n_sig > 0;

    memset(c, 0, sizeof(*c));
    c->expires = -1;
    if (auth != NULL && query_form) {
        fail(out, SIGV4_INCOMPLETE, T_INVALID,
             "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP "
             "header.");
        return false;
    }
    if (auth == NULL && !query_form) {
        fail(out, SIGV4_MISSING, T_MISSING, MSG_MISSING);
        return false;
    }
    if (auth != NULL) {
        const char *p = auth;
        int n_http;
        const char *http_date = find_header(req, "date", &n_http);

        while (is_space(*p))
            p++;
        /* Another scheme ("Bearer ...") is no SigV4 at all (dynalite). */
        if (strncmp(p, "AWS4-", 5) != 0) {
            fail(out, SIGV4_MISSING, T_MISSING, MSG_MISSING);
            return false;
        }
        if (n_auth > 1) {
            /* CHOICE: two Authorization headers are refused outright. */
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "The request has more than one Authorization header.");
            return false;
        }
        if (strlen(auth) > SIGV4_MAX_HEADER_VALUE) {
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "The Authorization header is longer than %d bytes.", SIGV4_MAX_HEADER_VALUE);
            return false;
        }
        if (!parse_authorization(auth, c, out))
            return false;
        if (c->cred.n > 0)
            note_key_id(c->cred, out);
        if (c->cred.n == 0)
            add_msg(out, "Authorization header requires 'Credential' parameter. ");
        if (c->sig.n == 0)
            add_msg(out, "Authorization header requires 'Signature' parameter. ");
        if (c->signed_hdrs.n == 0)
            add_msg(out, "Authorization header requires 'SignedHeaders' parameter. ");
        if (amz_date != NULL) {
            c->date = (struct span){amz_date, strlen(amz_date)};
            c->date_from = DATE_X_AMZ;
        } else if (http_date != NULL) {
            c->date = (struct span){http_date, strlen(http_date)};
            c->date_from = DATE_HTTP;
            n_amz = n_http;
        } else {
            add_msg(out, "Authorization header requires existence of either a 'X-Amz-Date' or "
                         "a 'Date' header. ");
        }
    } else {
        c->presigned = true;
        c->alg = q_alg;
        c->cred = q_cred;
        c->sig = q_sig;
        c->signed_hdrs = q_sh;
        c->date = q_date;
        c->date_from = DATE_QUERY;
        n_amz = n_date;
        if (c->cred.n > 0)
            note_key_id(c->cred, out);
        if (n_alg == 0 || q_alg.n == 0)
            add_msg(out, "AWS query-string parameters must include 'X-Amz-Algorithm'. ");
        if (n_cred == 0 || q_cred.n == 0)
            add_msg(out, "AWS query-string parameters must include 'X-Amz-Credential'. ");
        if (n_sig == 0 || q_sig.n == 0)
            add_msg(out, "AWS query-string parameters must include 'X-Amz-Signature'. ");
        if (n_sh == 0 || q_sh.n == 0)
            add_msg(out, "AWS query-string parameters must include 'X-Amz-SignedHeaders'. ");
        if (n_date == 0 || q_date.n == 0)
            add_msg(out, "AWS query-string parameters must include 'X-Amz-Date'. ");
        if (out->message[0] != '\0')
            add_msg(out, "Re-examine the query-string parameters.");
        else if (n_alg > 1 || n_cred > 1 || n_sig > 1 || n_sh > 1 || n_date > 1 || n_exp > 1)
            add_msg(out, "AWS query-string parameters must not be repeated.");
    }
    if (out->message[0] != '\0') {
        /* AWS ends the list with a space; so do we, less the last one. */
        size_t len = strlen(out->message);

        if (len > 0 && out->message[len - 1] == ' ')
            out->message[len - 1] = '\0';
        out->status = SIGV4_INCOMPLETE;
        out->http_status = 400;
        out->type = T_INCOMPLETE;
        return false;
    }
    if (n_amz > 1) {
        /* CHOICE: which of two dates was signed cannot be known. */
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "The request has more than one %s header.",
             c->date_from == DATE_HTTP ? "Date" : "X-Amz-Date");
        return false;
    }
    if (c->presigned && n_exp > 0) {
        int64_t e = 0;
        bool ok = q_exp.n > 0 && q_exp.n <= 7;

        for (size_t i = 0; ok && i < q_exp.n; i++) {
            ok = q_exp.p[i] >= '0' && q_exp.p[i] <= '9';
            e = e * 10 + (q_exp.p[i] - '0');
        }
        if (!ok || e < 1 || e > SIGV4_MAX_EXPIRES) {
            char shown[32];

            /* CHOICE: S3 says "X-Amz-Expires must be less than a week". */
            echo(shown, sizeof(shown), q_exp.p, q_exp.n, 16);
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "X-Amz-Expires must be a whole number of seconds from 1 to %d, got '%s'.",
                 SIGV4_MAX_EXPIRES, shown);
            return false;
        }
        c->expires = e;
    }
    return true;
}

/* Step 5: the date window. */
static bool
check_window(const struct sigv4_verifier *v, const struct claim *c, int64_t t, int64_t now,
             struct sigv4_result *out)
{
    char d[17], lim[17], at[17];
    int64_t skew = v->skew;
    const char *unit = skew % 60 == 0 ? "min" : "sec";
    int64_t amount = skew % 60 == 0 ? skew / 60 : skew;

    format_amz_date(t, d);
    format_amz_date(now, at);
    if (t > now + skew) {
        format_amz_date(now + skew, lim);
        fail(out, SIGV4_NOT_YET, T_INVALID,
             "Signature not yet current: %s is still later than %s (%s + %lld %s.)", d, lim, at,
             (long long)amount, unit);
        return false;
    }
    if (c->presigned && c->expires >= 0) {
        if (t < now - c->expires) {
            /* CHOICE: AWS's skew wording, with the presigned lifetime. */
            format_amz_date(now - c->expires, lim);
            fail(out, SIGV4_EXPIRED, T_INVALID,
                 "Signature expired: %s is now earlier than %s (%s - %lld sec.)", d, lim, at,
                 (long long)c->expires);
            return false;
        }
        return true;
    }
    if (t < now - skew) {
        format_amz_date(now - skew, lim);
        fail(out, SIGV4_EXPIRED, T_INVALID,
             "Signature expired: %s is now earlier than %s (%s - %lld %s.)", d, lim, at,
             (long long)amount, unit);
        return false;
    }
    return true;
}

/*
 * Steps 6 and the bounds on SignedHeaders: split it into names, each of
 * which the request must carry; host must be one, and the header the date
 * came from ("If you include a date or x-amz-date header, you must also
 * include that header in the list of signed headers", IAM user guide,
 * "Elements of an AWS API request signature").
 */
static bool
check_signed_headers(const struct sigv4_request *req, const struct claim *c,
                     struct span names[SIGV4_MAX_SIGNED_HEADERS], int *nnames,
                     struct sigv4_result *out)
{
    const char *need_date = c->date_from == DATE_X_AMZ  ? "x-amz-date"
                            : c->date_from == DATE_HTTP ? "date"
                                                        : NULL;
    bool host = false, date = need_date == NULL;
    size_t start = 0;
    char shown[80];

    *nnames = 0;
    for (size_t i = 0; i <= c->signed_hdrs.n; i++) {
        if (i < c->signed_hdrs.n && c->signed_hdrs.p[i] != ';')
            continue;
        struct span s = {c->signed_hdrs.p + start, i - start};

        start = i + 1;
        if (*nnames == SIGV4_MAX_SIGNED_HEADERS) {
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "SignedHeaders names more than %d headers.", SIGV4_MAX_SIGNED_HEADERS);
            return false;
        }
        names[(*nnames)++] = s;
        if (s.n == 4 && strncasecmp(s.p, "host", 4) == 0)
            host = true;
        if (need_date != NULL && s.n == strlen(need_date) &&
            strncasecmp(s.p, need_date, s.n) == 0)
            date = true;
    }
    if (!host) {
        fail(out, SIGV4_INCOMPLETE, T_INVALID,
             "'Host' must be a 'SignedHeader' in the AWS Authorization.");
        return false;
    }
    if (!date) {
        /* CHOICE: AWS's wording for host, applied to the date header. */
        fail(out, SIGV4_INCOMPLETE, T_INVALID,
             "'%s' must be a 'SignedHeader' in the AWS Authorization.",
             c->date_from == DATE_X_AMZ ? "X-Amz-Date" : "Date");
        return false;
    }
    for (int k = 0; k < *nnames; k++) {
        if (names[k].n == 0 || !header_present(req, names[k])) {
            /* CHOICE: said plainly rather than left to fail the signature. */
            echo(shown, sizeof(shown), names[k].p, names[k].n, 64);
            fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                 "Signed header '%s' is not in the request.", shown);
            return false;
        }
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];

        if (h->name == NULL || h->value == NULL || strlen(h->value) <= SIGV4_MAX_HEADER_VALUE)
            continue;
        for (int k = 0; k < *nnames; k++) {
            if (strlen(h->name) == names[k].n && strncasecmp(h->name, names[k].p, names[k].n) == 0) {
                echo(shown, sizeof(shown), names[k].p, names[k].n, 64);
                fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
                     "Signed header '%s' is longer than %d bytes.", shown, SIGV4_MAX_HEADER_VALUE);
                return false;
            }
        }
    }
    return true;
}

/* The parts of the credential: KEY/DATE/REGION/SERVICE/TERM. */
struct cred {
    struct span key, date, region, service, term;
};

/* Step 8: exactly five parts; trailing slashes do not count (dynalite). */
static bool
split_credential(struct span cred, struct cred *cr, struct sigv4_result *out)
{
    struct span part[5];
    size_t n = cred.n, start = 0;
    int k = 0;

    while (n > 0 && cred.p[n - 1] == '/')
        n--;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && cred.p[i] != '/')
            continue;
        if (k == 5) {
            k++;
            break;
        }
        part[k++] = (struct span){cred.p + start, i - start};
        start = i + 1;
    }
    if (k != 5) {
        char shown[160];

        echo(shown, sizeof(shown), cred.p, cred.n, 128);
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "Credential must have exactly 5 slash-delimited elements, e.g. "
             "keyid/date/region/service/term, got '%s'",
             shown);
        return false;
    }
    *cr = (struct cred){part[0], part[1], part[2], part[3], part[4]};
    return true;
}

/* Step 9: the scope, every mismatch named in one message, in AWS's order. */
static bool
check_scope(const struct sigv4_verifier *v, const struct cred *cr, const char *service,
            const char amz[17], struct sigv4_result *out)
{
    char shown[80];

    if (!span_eq(cr->region, v->region)) {
        echo(shown, sizeof(shown), cr->region.p, cr->region.n, 64);
        add_msg(out, "Credential should be scoped to a valid region, not '%s'. ", shown);
    }
    if (!span_eq(cr->service, service))
        add_msg(out, "Credential should be scoped to correct service: '%s'. ", service);
    if (!span_eq(cr->term, TERMINATOR)) {
        echo(shown, sizeof(shown), cr->term.p, cr->term.n, 64);
        add_msg(out, "Credential should be scoped with a valid terminator: '" TERMINATOR
                     "', not '%s'. ",
                shown);
    }
    if (cr->date.n != 8 || memcmp(cr->date.p, amz, 8) != 0) {
        echo(shown, sizeof(shown), cr->date.p, cr->date.n, 64);
        add_msg(out,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                "date from HTTP: '%s' != '%.8s', from '%s'. ",
                shown, amz, amz);
    }
    if (out->message[0] == '\0')
        return true;
    out->message[strlen(out->message) - 1] = '\0';
    out->status = SIGV4_WRONG_SCOPE;
    out->http_status = 400;
    out->type = T_INVALID;
    return false;
}

/* 64 hex digits into 32 bytes; false for anything else. */
static bool
unhex32(struct span s, unsigned char out[32])
{
    if (s.n != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = sl_hex_digit((unsigned char)s.p[2 * i]);
        int lo = sl_hex_digit((unsigned char)s.p[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/*
 * Steps 11-12, with the body: the canonical request (IAM user guide,
 * "Create a signed AWS API request", step 1; botocore
 * SigV4Auth.canonical_request)
 *
 *     METHOD \n CANONICAL-URI \n CANONICAL-QUERY \n
 *     name:value \n ... (each signed header) \n
 *     SIGNED-HEADERS \n PAYLOAD-HASH
 *
 * then the string to sign "AWS4-HMAC-SHA256\n<amzdate>\n<scope>\n<hex
 * sha256 of the canonical request>", its HMAC under the signing key, and
 * the payload against x-amz-content-sha256.
 */
static void
check_signature(struct sigv4_verifier *v, const struct sigv4_request *req, const struct claim *c,
                const char *service, const char *key_id, const char *secret,
                struct span path, struct qparam *qs, int nq, const struct span *names, int nnames,
                const char amz[17], struct scratch *a, struct sigv4_result *out)
{
    int n_sha;
    const char *sha_hdr = find_header(req, "x-amz-content-sha256", &n_sha);
    char body_hex[65] = "", creq_hex[65], date8[9], sts[256];
    unsigned char key[32], want[32], got[32];
    bool body_hashed = false;
    struct sink s;
    int len;

    if (n_sha > 1) {
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "The request has more than one x-amz-content-sha256 header.");
        return;
    }
    if (sha_hdr != NULL && strcmp(sha_hdr, UNSIGNED_PAYLOAD) != 0 &&
        !unhex32((struct span){sha_hdr, strlen(sha_hdr)}, got)) {
        /* S3's words (InvalidArgument); no awsJson service documents any. */
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.");
        return;
    }
    if (sha_hdr == NULL || strcmp(sha_hdr, UNSIGNED_PAYLOAD) != 0) {
        struct sl_sha256 h;
        unsigned char md[SL_SHA256_LEN];

        if (req->body_sha256 != NULL) {
            memcpy(md, req->body_sha256, sizeof(md));
        } else {
            sl_sha256_init(&h);
            sl_sha256_update(&h, req->body, req->body_len);
            sl_sha256_final(&h, md);
        }
        sl_hex(md, sizeof(md), body_hex);
        body_hashed = true;
    }

    sink_init(&s);
    sink_puts(&s, req->method != NULL ? req->method : "");
    sink_putc(&s, '\n');
    sink_uri(&s, path, a);
    sink_putc(&s, '\n');
    if (nq > 0)
        qsort(qs, (size_t)nq, sizeof(*qs), qparam_cmp);
    for (int i = 0, first = 1; i < nq; i++) {
        /* "The Canonical Query String must include all the query parameters
         * ... except for X-Amz-Signature" (botocore SigV4QueryAuth). */
        if (c->presigned && span_eq(qs[i].name, "X-Amz-Signature"))
            continue;
        if (!first)
            sink_putc(&s, '&');
        first = 0;
        sink_put(&s, qs[i].ename.p, qs[i].ename.n);
        sink_putc(&s, '=');
        sink_put(&s, qs[i].evalue.p, qs[i].evalue.n);
    }
    sink_putc(&s, '\n');
    for (int k = 0; k < nnames; k++) {
        bool first = true;

        sink_put(&s, names[k].p, names[k].n);
        sink_putc(&s, ':');
        /* Repeated headers: values joined with ',' in arrival order (test
         * suite get-header-value-order). */
        for (size_t i = 0; i < req->nheaders; i++) {
            const struct http_header *h = &req->headers[i];

            if (h->name == NULL || h->value == NULL || strlen(h->name) != names[k].n ||
                strncasecmp(h->name, names[k].p, names[k].n) != 0)
                continue;
            if (!first)
                sink_putc(&s, ',');
            first = false;
            sink_trimall(&s, h->value);
        }
        sink_putc(&s, '\n');
    }
    sink_putc(&s, '\n');
    sink_put(&s, c->signed_hdrs.p, c->signed_hdrs.n);
    sink_putc(&s, '\n');
    /* The header's value as sent when there is one (botocore), else the
     * body's hash.  Presigned requests too: for services other than S3,
     * botocore's SigV4QueryAuth hashes the body (UNSIGNED-PAYLOAD is S3's). */
    sink_puts(&s, sha_hdr != NULL ? sha_hdr : body_hex);
    sink_final(&s, creq_hex);

    memcpy(date8, amz, 8);
    date8[8] = '\0';
    len = snprintf(sts, sizeof(sts), ALGORITHM "\n%s\n%s/%s/%s/" TERMINATOR "\n%s", amz, date8,
                   v->region, service, creq_hex);
    if (len < 0 || (size_t)len >= sizeof(sts)) {
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE, "The credential scope is too long.");
        return;
    }
    signing_key(v, key_id, secret, date8, service, key);
    hmac(key, sizeof(key), sts, (size_t)len, want);
    OPENSSL_cleanse(key, sizeof(key));
    if (!unhex32(c->sig, got) || CRYPTO_memcmp(got, want, sizeof(want)) != 0) {
        fail(out, SIGV4_BAD_SIGNATURE, T_INVALID, MSG_MISMATCH);
        return;
    }
    if (sha_hdr != NULL && body_hashed) {
        unsigned char claimed[32], actual[32];

        unhex32((struct span){sha_hdr, strlen(sha_hdr)}, claimed);
        unhex32((struct span){body_hex, 64}, actual);
        if (CRYPTO_memcmp(claimed, actual, 32) != 0) {
            fail(out, SIGV4_PAYLOAD_MISMATCH, T_PAYLOAD,
                 "The provided 'x-amz-content-sha256' header does not match what was "
                 "computed.");
            return;
        }
    }
}

void
sigv4_verify(struct sigv4_verifier *v, const struct sigv4_request *req, const char *service,
             int64_t now, sigv4_secret_fn secret_fn, void *ctx, struct sigv4_result *out)
{
    const char *target = req->target != NULL ? req->target : "";
    size_t tlen = strlen(target);
    const char *qmark = memchr(target, '?', tlen);
    struct span path = {target, qmark ? (size_t)(qmark - target) : tlen};
    struct span query = qmark ? (struct span){qmark + 1, tlen - path.n - 1} : (struct span){"", 0};
    struct span names[SIGV4_MAX_SIGNED_HEADERS];
    struct scratch a = {NULL, 0, 0};
    struct qparam *qs;
    struct claim c;
    struct cred cr;
    char amz[17], key_id[128], secret[SECRET_MAX];
    int nq, nnames;
    int64_t t;

    result_init(out);
    if (!check_bounds(req, tlen, out))
        return;
    /* Room for every piece parse_query() and sink_uri() take: see there. */
    a.cap = SIGV4_MAX_QUERY_PARAMS * (sizeof(struct qparam) + 64) + 4 * query.n +
            (path.n / 2 + 2) * sizeof(struct span) + 64;
    a.base = sl_malloc(a.cap);
    nq = parse_query(query, &a, &qs);
    if (nq < 0) {
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "The query string has more than %d arguments.", SIGV4_MAX_QUERY_PARAMS);
        goto out_free;
    }
    if (!find_claim(req, qs, nq, &c, out))
        goto out_free;

    /* 4: the date's form. */
    if (!(c.date_from == DATE_HTTP ? parse_http_date(c.date, &t) : parse_amz_date(c.date, &t))) {
        char shown[64];

        echo(shown, sizeof(shown), c.date.p, c.date.n, 40);
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "Date must be in ISO-8601 'basic format'. Got '%s'. See "
             "http://en.wikipedia.org/wiki/ISO_8601",
             shown);
        goto out_free;
    }
    format_amz_date(t, amz);
    /* 5-7 */
    if (!check_window(v, &c, t, now, out))
        goto out_free;
    if (!check_signed_headers(req, &c, names, &nnames, out))
        goto out_free;
    if (!span_eq(c.alg, ALGORITHM)) {
        char shown[48];

        echo(shown, sizeof(shown), c.alg.p, c.alg.n, 32);
        fail(out, SIGV4_INCOMPLETE, T_INCOMPLETE,
             "Unsupported AWS 'algorithm': '%s' (only " ALGORITHM " for now).", shown);
        goto out_free;
    }
    /* 8-10 */
    if (!split_credential(c.cred, &cr, out))
        goto out_free;
    if (!check_scope(v, &cr, service, amz, out))
        goto out_free;
    if (cr.key.n == 0 || cr.key.n >= sizeof(key_id) || memchr(cr.key.p, '\0', cr.key.n) != NULL) {
        fail(out, SIGV4_UNKNOWN_KEY, T_UNKNOWN, MSG_UNKNOWN);
        goto out_free;
    }
    memcpy(key_id, cr.key.p, cr.key.n);
    key_id[cr.key.n] = '\0';
    secret[0] = '\0';
    if (!secret_fn(ctx, key_id, secret, sizeof(secret)) ||
        memchr(secret, '\0', sizeof(secret)) == NULL) {
        fail(out, SIGV4_UNKNOWN_KEY, T_UNKNOWN, MSG_UNKNOWN);
        goto out_wipe;
    }
    /* 11-12 */
    if (req->body != NULL)
        check_signature(v, req, &c, service, key_id, secret, path, qs, nq, names, nnames, amz, &a, out);

out_wipe:
    OPENSSL_cleanse(secret, sizeof(secret));
out_free:
    free(a.base);
}
