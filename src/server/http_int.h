/*
 * http_int.h - the HTTP/1.1 wire format as pure functions over buffers:
 * finding and parsing a request head, and decoding a chunked body.  Shared
 * by http.c (which feeds them bytes from sockets) and the fuzz target
 * tests/fuzz/http_head; nothing outside src/server includes it.
 *
 * Strictness is the point (RFC 9112, and the request-smuggling defences
 * that follow from two parsers disagreeing on where a request ends):
 *
 *   - lines end in CRLF; a bare CR or LF anywhere in a head is an error;
 *   - request line: token SP request-target SP "HTTP/1." DIGIT, nothing
 *     else (no extra spaces, no HTTP/0.9); HTTP/1.2 and up are taken as
 *     1.1, HTTP/2 and up get 505;
 *   - header names are tokens followed directly by ':' (no whitespace
 *     before it); obs-fold (a line starting with SP or HTAB) is refused;
 *     values are visible characters, SP, HTAB and obs-text, trimmed;
 *   - Content-Length is digits only; repeats (or a comma list) must all be
 *     equal; Content-Length with Transfer-Encoding is refused; the only
 *     transfer coding is exactly "chunked", once;
 *   - HTTP/1.1 needs exactly one Host header;
 *   - a head is at most HTTP_MAX_HEAD bytes and HTTP_MAX_HEADERS fields.
 *
 * Every refusal fills a struct http_fault: the status to answer (400,
 * 431, 501, 505) and a message naming what is wrong, for the JSON body
 * the layer sends before it closes the connection.
 */
#ifndef SL_SERVER_HTTP_INT_H
#define SL_SERVER_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

#define HTTP_MAX_HEAD ((size_t)32 << 10) /* request line + headers + blank line */
#define HTTP_MAX_HEADERS 100             /* header fields in one head */
#define HTTP_MAX_CHUNK_LINE 4096         /* a chunk-size line with its extensions */
#define HTTP_MAX_TRAILERS ((size_t)16 << 10) /* trailer section of a chunked body */

/* Why a request cannot be taken: the status to answer and the words. */
struct http_fault {
    int status;       /* 400, 408, 431, 501 or 505 */
    char msg[160];    /* names what is wrong, e.g. "two different Content-Length headers" */
};

/*
 * A parsed head.  Every pointer points into the buffer given to
 * http_parse_head() (or its scratch), which the caller keeps alive.
 */
struct http_head {
    const char *method;   /* token, e.g. "POST" */
    const char *target;   /* the request-target exactly as received */
    const char *path;     /* percent-decoded path, without the query (scratch) */
    const char *query;    /* raw text after '?', "" if none */
    int minor;            /* HTTP/1.<minor>: 0 or 1 */
    struct http_header headers[HTTP_MAX_HEADERS]; /* in arrival order */
    size_t nheaders;
    int64_t content_length; /* -1 for chunked; 0 without a body */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool keep_alive;        /* the connection may carry another request */
    bool expect_continue;   /* Expect: 100-continue */
};

/* How far http_head_end() has looked; zero-initialise per head. */
struct http_scan {
    size_t pos;  /* next byte to look at */
    size_t line; /* where the line pos is in starts */
};

/*
 * Where the head at the start of buf[0..len) ends.  sc remembers how far
 * the previous call looked, so that a head arriving a byte at a time is
 * scanned once.  Empty lines before the request line
 * are allowed (RFC 9112 2.2) and belong to the head.
 *
 * Returns the head's length including its blank line; 0 if it is not
 * complete yet (more bytes needed, and there is room for them); or -1
 * with f filled: a bare CR or LF (400), or no end within HTTP_MAX_HEAD
 * bytes (431).
 */
long http_head_end(const char *buf, size_t len, struct http_scan *sc, struct http_fault *f);

/*
 * Parse a complete head, buf[0..len) as measured by http_head_end(), in
 * place: it writes NULs into buf.  scratch (len + 1 bytes) receives the
 * decoded path.  Returns 0 and fills h, or -1 and fills f.  h's fields
 * are unspecified after a failure.
 */
int http_parse_head(char *buf, size_t len, char *scratch, struct http_head *h,
                    struct http_fault *f);

/*
 * Percent-decode src[0..n) into dst (n + 1 bytes at most, NUL-terminated);
 * with plus, '+' becomes a space (query strings).  An invalid escape is
 * kept as it is.  Returns the decoded length; a decoded NUL makes it -1.
 */
long http_unescape(const char *src, size_t n, char *dst, bool plus);

/* Decoder of a chunked body.  Zero-initialise before the first byte. */
struct http_chunked {
    int state;        /* private */
    uint64_t left;    /* data bytes left in the current chunk */
    size_t line;      /* bytes in the current size or trailer line */
    size_t trailers;  /* bytes of trailer section so far */
    int digits;       /* hex digits in the current size */
};

/*
 * Feed body bytes p[0..n).  Sets *used to the bytes consumed and, when
 * some of them are data, *data and *data_len to that span (inside p; the
 * caller copies it out).  Call again with the rest.
 *
 * Returns 1 once the last chunk and the trailers are in (*used stops
 * there: what follows is the next request), 0 when it needs more bytes
 * (all of p was used), or -1 with f filled for a malformed body (bad hex,
 * a size over 2^60, missing CRLF, a bare LF, lines or trailers too long).
 */
int http_chunked_feed(struct http_chunked *c, const char *p, size_t n, size_t *used,
                      const char **data, size_t *data_len, struct http_fault *f);

/* The reason phrase of a status code ("Bad Request"), "" if unknown. */
const char *http_reason(int status);

#endif
