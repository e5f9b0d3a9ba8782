/*
 * http_parse.c - request heads and chunked bodies, parsed strictly (see
 * http_int.h for the rules and RFC 9112 for the grammar).
 *
 * Nothing here touches a socket or allocates: each function reads a
 * buffer and says how far it got, so the connection code can feed it
 * whatever arrived and the fuzzer can feed it anything.
 *
 * A head is parsed in one pass once it is complete (http_head_end() found
 * its blank line), in place: names, values and the target are cut out of
 * the buffer with NULs.  Framing is decided here and only here - which
 * Content-Length, chunked or not, keep-alive or not - so there is one
 * reading of where a request ends.
 */
#include "server/http_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/hash.h"
#include "core/banned.h"

/* ---- characters ------------------------------------------------------ */

/* tchar of RFC 9110 5.6.2. */
static bool
is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP, HTAB, obs-text: what a field value may hold. */
static bool
is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* What a request-target may hold: visible ASCII (RFC 3986 plus what
 * clients send unescaped in practice, like '{' or '|'), never controls,
 * spaces or bytes over 0x7e. */
static bool
is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static int fault(struct http_fault *f, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fill f; returns -1 for the caller to return. */
static int
fault(struct http_fault *f, int status, const char *fmt, ...)
{
    va_list ap;

    f->status = status;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
    va_end(ap);
    return -1;
}

const char *
http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* ---- finding the head ------------------------------------------------ */

long
http_head_end(const char *buf, size_t len, struct http_scan *sc, struct http_fault *f)
{
    size_t i = sc->pos, limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;

    for (; i < limit; i++) {
        if (buf[i] == '\r') {
            if (i + 1 >= len)
                break; /* the LF may follow */
            if (buf[i + 1] != '\n')
                return fault(f, 400, "a bare CR in the request head");
            continue;
        }
        if (buf[i] != '\n')
            continue;
        if (i == 0 || buf[i - 1] != '\r')
            return fault(f, 400, "a bare LF in the request head (lines end in CRLF)");
        if (i - sc->line == 1) {
            /* An empty line ends the head, unless only empty lines came
             * before it (up to 4 are skipped, RFC 9112 2.2). */
            size_t k = 0;

            while (k < sc->line && k < 8 && buf[k] == '\r')
                k += 2;
            if (k < sc->line || sc->line == 8)
                return (long)(i + 1);
        }
        sc->line = i + 1;
    }
    sc->pos = i;
    if (len >= HTTP_MAX_HEAD)
        return fault(f, 431, "the request head is over 32 KiB");
    return 0;
}

/* ---- parsing the head ------------------------------------------------ */

long
http_unescape(const char *src, size_t n, char *dst, bool plus)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c == '%' && i + 2 < n) {
            int h = sl_hex_digit((unsigned char)src[i + 1]);
            int l = sl_hex_digit((unsigned char)src[i + 2]);

            if (h >= 0 && l >= 0) {
                c = (unsigned char)((h << 4) | l);
                if (c == '\0')
                    return -1;
                i += 2;
            }
        } else if (c == '+' && plus) {
            c = ' ';
        }
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return (long)o;
}

/* Case-insensitive comparison of a NUL-terminated name with a literal. */
static bool
name_is(const char *name, const char *want)
{
    return strcasecmp(name, want) == 0;
}

/* Whether the comma-separated list v holds token tok (case-insensitive). */
static bool
list_has(const char *v, const char *tok)
{
    size_t n = strlen(tok);

    while (*v != '\0') {
        const char *end;
        size_t len;

        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        end = v;
        while (*end != '\0' && *end != ',')
            end++;
        len = (size_t)(end - v);
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if (len == n && strncasecmp(v, tok, n) == 0)
            return true;
        v = end;
    }
    return false;
}

/*
 * A Content-Length value: 1*DIGIT, or a comma list of them that are all
 * equal (RFC 9110 8.6 lets a recipient take that as the one value).
 * Returns 0 with *out, or -1 with f.
 */
static int
content_length(const char *v, int64_t *out, struct http_fault *f)
{
    int64_t first = -1;

    for (;;) {
        int64_t n = 0;
        const char *p = v;

        while (*p >= '0' && *p <= '9') {
            if (n > (INT64_MAX - 9) / 10)
                return fault(f, 400, "Content-Length '%.40s' is too large", v);
            n = n * 10 + (*p++ - '0');
        }
        if (p == v)
            return fault(f, 400, "Content-Length '%.40s' is not a number of bytes", v);
        if (first >= 0 && n != first)
            return fault(f, 400, "Content-Length '%.40s' lists different lengths", v);
        first = n;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return fault(f, 400, "Content-Length '%.40s' is not a number of bytes", v);
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        v = p;
    }
    *out = first;
    return 0;
}

/* The request line, NUL-terminated at line (no CRLF). */
static int
request_line(char *line, char *scratch, struct http_head *h, struct http_fault *f)
{
    char *p = line, *target, *q, *path_end;
    long n;

    while (is_tchar((unsigned char)*p))
        p++;
    if (p == line || *p != ' ')
        return fault(f, 400, "the request line is not 'METHOD SP request-target SP "
                             "HTTP/1.x'");
    *p++ = '\0';
    h->method = line;
    target = p;
    while (is_target_char((unsigned char)*p))
        p++;
    if (p == target || *p != ' ')
        return fault(f, 400, "the request line is not 'METHOD SP request-target SP "
                             "HTTP/1.x'");
    *p++ = '\0';
    h->target = target;
    if (strncmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
        p[7] > '9' || p[8] != '\0')
        return fault(f, 400, "the request line is not 'METHOD SP request-target SP "
                             "HTTP/1.x'");
    if (p[5] != '1')
        return fault(f, 505, "%.8s is not supported; send HTTP/1.1", p);
    h->minor = p[7] == '0' ? 0 : 1;

    /* The forms of RFC 9112 3.2: origin ("/p?q"), absolute ("http://h/p?q"),
     * asterisk ("*", OPTIONS only); authority-form is for CONNECT, which
     * an origin server does not do. */
    q = target;
    if (strncasecmp(q, "http://", 7) == 0 || strncasecmp(q, "https://", 8) == 0) {
        q = strstr(q, "://") + 3;
        while (*q != '\0' && *q != '/' && *q != '?')
            q++;
    } else if (strcmp(target, "*") == 0 && strcmp(h->method, "OPTIONS") == 0) {
        h->path = "*";
        h->query = "";
        return 0;
    } else if (*q != '/') {
        return fault(f, 400, "the request-target '%.60s' is not a path", target);
    }
    path_end = strchr(q, '?');
    if (path_end == NULL)
        path_end = q + strlen(q);
    h->query = *path_end == '?' ? path_end + 1 : "";
    if (path_end == q) {
        scratch[0] = '/';
        scratch[1] = '\0';
    } else {
        n = http_unescape(q, (size_t)(path_end - q), scratch, false);
        if (n < 0)
            return fault(f, 400, "the request-target '%.60s' holds an escaped NUL", target);
    }
    h->path = scratch;
    return 0;
}

/* Framing from the fields, once all are in. */
static int
framing(struct http_head *h, struct http_fault *f)
{
    const char *te = NULL, *conn = NULL;
    bool have_cl = false;
    int hosts = 0;

    h->content_length = 0;
    for (size_t i = 0; i < h->nheaders; i++) {
        const char *name = h->headers[i].name, *v = h->headers[i].value;

        if (name_is(name, "Content-Length")) {
            int64_t n = 0;

            if (content_length(v, &n, f) < 0)
                return -1;
            if (have_cl && n != h->content_length)
                return fault(f, 400, "two Content-Length headers with different "
                                     "lengths");
            have_cl = true;
            h->content_length = n;
        } else if (name_is(name, "Transfer-Encoding")) {
            if (te != NULL)
                return fault(f, 501, "more than one Transfer-Encoding header; only "
                                     "'chunked' is supported");
            te = v;
        } else if (name_is(name, "Host")) {
            hosts++;
        } else if (name_is(name, "Connection")) {
            /* Several Connection fields are one list; the last one read
             * decides only if it says something, so scan each. */
            if (list_has(v, "close"))
                conn = "close";
            else if (conn == NULL && list_has(v, "keep-alive"))
                conn = "keep-alive";
        } else if (name_is(name, "Expect")) {
            if (strcasecmp(v, "100-continue") != 0)
                return fault(f, 417, "Expect '%.60s' is not supported (only 100-continue)", v);
            h->expect_continue = true;
        }
    }
    if (te != NULL) {
        if (have_cl)
            return fault(f, 400, "Content-Length together with Transfer-Encoding");
        if (h->minor == 0)
            return fault(f, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (strcasecmp(te, "chunked") != 0)
            return fault(f, 501, "Transfer-Encoding '%.60s' is not supported; only "
                                 "'chunked'", te);
        h->chunked = true;
        h->content_length = -1;
    }
    if (h->minor == 1 && hosts != 1)
        return fault(f, 400, "%s",
                     hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                : "more than one Host header");
    if (hosts > 1)
        return fault(f, 400, "more than one Host header");
    if (h->minor == 0)
        h->keep_alive = conn != NULL && strcmp(conn, "keep-alive") == 0;
    else
        h->keep_alive = conn == NULL || strcmp(conn, "close") != 0;
    /* A body that does not follow cannot be waited for. */
    if (h->content_length == 0)
        h->expect_continue = false;
    return 0;
}

int
http_parse_head(char *buf, size_t len, char *scratch, struct http_head *h,
                struct http_fault *f)
{
    char *p = buf, *end = buf + len, *eol;

    memset(h, 0, sizeof(*h));
    /* Skip empty lines before the request line. */
    while (p + 1 < end && p[0] == '\r' && p[1] == '\n')
        p += 2;
    eol = memchr(p, '\r', (size_t)(end - p));
    if (eol == NULL || eol == p)
        return fault(f, 400, "no request line");
    *eol = '\0';
    if (memchr(p, '\0', (size_t)(eol - p)) != NULL)
        return fault(f, 400, "a NUL in the request line");
    if (request_line(p, scratch, h, f) < 0)
        return -1;
    p = eol + 2;
    /* Each field line, up to the empty one. */
    while (p < end && *p != '\r') {
        char *name = p, *v, *vend;

        eol = memchr(p, '\r', (size_t)(end - p));
        if (eol == NULL)
            return fault(f, 400, "a header line without CRLF");
        *eol = '\0';
        if (*p == ' ' || *p == '\t')
            return fault(f, 400, "a header line folded onto the next (obs-fold)");
        while (is_tchar((unsigned char)*p))
            p++;
        if (p == name)
            return fault(f, 400, "a header line without a name");
        if (*p != ':') {
            if (*p == ' ' || *p == '\t')
                return fault(f, 400, "whitespace between a header name and its colon");
            return fault(f, 400, "a header line without a colon or with a bad name");
        }
        *p++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        v = p;
        for (; p < eol; p++)
            if (!is_value_char((unsigned char)*p))
                return fault(f, 400, "header '%.60s' holds a control character", name);
        vend = eol;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        *vend = '\0';
        if (h->nheaders == HTTP_MAX_HEADERS)
            return fault(f, 431, "more than 100 header fields");
        h->headers[h->nheaders].name = name;
        h->headers[h->nheaders].value = v;
        h->nheaders++;
        p = eol + 2;
    }
    return framing(h, f);
}

/* ---- chunked bodies -------------------------------------------------- */

enum {
    CH_SIZE,        /* hex digits of a chunk size */
    CH_EXT,         /* after the size: extensions or whitespace, up to CR */
    CH_SIZE_LF,     /* CR seen after the size line */
    CH_DATA,        /* left bytes of data */
    CH_DATA_CR,     /* CRLF after the data */
    CH_DATA_LF,
    CH_TRAILER,     /* start of a trailer line (or the final empty line) */
    CH_TRAILER_LINE,/* inside a trailer line */
    CH_TRAILER_LF,  /* CR seen at the end of a trailer line */
    CH_END_LF,      /* CR seen on the empty line that ends the body */
    CH_DONE,
};

int
http_chunked_feed(struct http_chunked *c, const char *p, size_t n, size_t *used,
                  const char **data, size_t *data_len, struct http_fault *f)
{
    size_t i = 0;

    *data = NULL;
    *data_len = 0;
    while (i < n) {
        unsigned char b = (unsigned char)p[i];

        switch (c->state) {
        case CH_SIZE:
            if (sl_hex_digit((unsigned char)b) >= 0) {
                if (++c->digits > 15) {
                    *used = i;
                    return fault(f, 400, "a chunk size over 2^60 bytes");
                }
                c->left = c->left * 16 + (uint64_t)sl_hex_digit((unsigned char)b);
            } else if (c->digits == 0) {
                *used = i;
                return fault(f, 400, "a chunk without a hex size");
            } else if (b == '\r') {
                c->state = CH_SIZE_LF;
            } else if (b == ';' || b == ' ' || b == '\t') {
                c->state = CH_EXT;
            } else {
                *used = i;
                return fault(f, 400, "a chunk size that is not hex");
            }
            break;
        case CH_EXT:
            /* Extensions are skipped; they only have to stay on the line. */
            if (b == '\r')
                c->state = CH_SIZE_LF;
            else if (b == '\n' || (b < 0x20 && b != '\t') || b == 0x7f) {
                *used = i;
                return fault(f, 400, "a control character in a chunk extension");
            }
            break;
        case CH_SIZE_LF:
            if (b != '\n') {
                *used = i;
                return fault(f, 400, "a chunk size line without CRLF");
            }
            c->line = 0;
            c->digits = 0;
            c->state = c->left == 0 ? CH_TRAILER : CH_DATA;
            i++;
            continue;
        case CH_DATA: {
            size_t k = n - i;

            if (k > c->left)
                k = (size_t)c->left;
            c->left -= k;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            *data = p + i;
            *data_len = k;
            *used = i + k;
            return 0;
        }
        case CH_DATA_CR:
            if (b != '\r') {
                *used = i;
                return fault(f, 400, "chunk data longer than its size (no CRLF after it)");
            }
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (b != '\n') {
                *used = i;
                return fault(f, 400, "chunk data not followed by CRLF");
            }
            c->state = CH_SIZE;
            i++;
            continue;
        case CH_TRAILER:
            if (b == '\r') {
                c->state = CH_END_LF;
            } else if (b == '\n') {
                *used = i;
                return fault(f, 400, "a bare LF in the trailers");
            } else {
                c->state = CH_TRAILER_LINE;
                c->trailers++;
            }
            break;
        case CH_TRAILER_LINE:
            if (++c->trailers > HTTP_MAX_TRAILERS) {
                *used = i;
                return fault(f, 431, "trailers over 16 KiB");
            }
            if (b == '\r')
                c->state = CH_TRAILER_LF;
            else if (b == '\n') {
                *used = i;
                return fault(f, 400, "a bare LF in the trailers");
            }
            break;
        case CH_TRAILER_LF:
            if (b != '\n') {
                *used = i;
                return fault(f, 400, "a bare CR in the trailers");
            }
            c->state = CH_TRAILER;
            break;
        case CH_END_LF:
            if (b != '\n') {
                *used = i;
                return fault(f, 400, "a bare CR at the end of a chunked body");
            }
            c->state = CH_DONE;
            *used = i + 1;
            return 1;
        case CH_DONE:
            *used = i;
            return 1;
        }
        if (c->state == CH_SIZE || c->state == CH_EXT) {
            if (++c->line > HTTP_MAX_CHUNK_LINE) {
                *used = i;
                return fault(f, 400, "a chunk size line over 4 KiB");
            }
        }
        i++;
    }
    *used = i;
    return c->state == CH_DONE ? 1 : 0;
}
