/*
 * http_head/fuzz.c - libFuzzer target for the request-head parser and the
 * chunked decoder (src/server/http_parse.c).
 *
 * The input is what a client sends on a connection.  It is cut where
 * http_head_end() says the head ends, fed to it in two pieces as well (the
 * end found must not depend on how the bytes arrived), parsed, and, if
 * the head says chunked, the rest is decoded one byte at a time and all
 * at once, which must agree.  Every string the parser hands out is read
 * through, so ASan sees one that points outside the head; the framing
 * rules are checked on what is accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/http_int.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
touch(const char *s)
{
    FZ_ASSERT(s != NULL);
    return strlen(s);
}

/* Decode body[0..n) fed in pieces of step bytes (0: all at once). */
static int
decode(const char *body, size_t n, size_t step, char *out, size_t *out_len, size_t *end)
{
    struct http_chunked ch = {0};
    struct http_fault f;
    size_t off = 0;

    *out_len = 0;
    for (;;) {
        size_t avail = step && n - off > step ? step : n - off, used;
        const char *d;
        size_t dlen;
        int rc = http_chunked_feed(&ch, body + off, avail, &used, &d, &dlen, &f);

        FZ_ASSERT(used <= avail);
        if (rc < 0) {
            FZ_ASSERT(f.status >= 400 && touch(f.msg) > 0);
            return -1;
        }
        if (dlen > 0) {
            FZ_ASSERT(d >= body + off && d + dlen <= body + off + used);
            memcpy(out + *out_len, d, dlen);
            *out_len += dlen;
        }
        off += used;
        if (rc == 1) {
            *end = off;
            return 1;
        }
        if (off == n)
            return 0;
        FZ_ASSERT(used > 0 || dlen > 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct http_scan sc = {0, 0}, sc2 = {0, 0};
    struct http_fault f;
    struct http_head *h;
    char *head, *scratch;
    long end, end2 = 0;

    end = http_head_end(in, size, &sc, &f);
    if (end < 0) {
        FZ_ASSERT(f.status == 400 || f.status == 431);
        return 0;
    }
    /* The same bytes in two pieces find the same end. */
    if (size > 1) {
        end2 = http_head_end(in, size / 2, &sc2, &f);
        if (end2 == 0)
            end2 = http_head_end(in, size, &sc2, &f);
        FZ_ASSERT(end2 == end);
    }
    if (end == 0)
        return 0;
    FZ_ASSERT((size_t)end <= size && end >= 4 && memcmp(in + end - 4, "\r\n\r\n", 4) == 0);

    head = malloc((size_t)end + 1);
    scratch = malloc((size_t)end + 1);
    h = malloc(sizeof(*h));
    memcpy(head, in, (size_t)end);
    head[end] = '\0';
    if (http_parse_head(head, (size_t)end, scratch, h, &f) < 0) {
        FZ_ASSERT(f.status >= 400 && f.status <= 505 && touch(f.msg) > 0);
        goto out;
    }
    touch(h->method);
    touch(h->target);
    FZ_ASSERT(touch(h->path) <= touch(h->target));
    touch(h->query);
    FZ_ASSERT(h->minor == 0 || h->minor == 1);
    FZ_ASSERT(h->nheaders <= HTTP_MAX_HEADERS);
    for (size_t i = 0; i < h->nheaders; i++) {
        size_t vn = touch(h->headers[i].value);

        FZ_ASSERT(touch(h->headers[i].name) > 0);
        FZ_ASSERT(strpbrk(h->headers[i].name, " \t:\r\n") == NULL);
        FZ_ASSERT(strpbrk(h->headers[i].value, "\r\n") == NULL);
        FZ_ASSERT(vn == 0 || (h->headers[i].value[0] != ' ' && h->headers[i].value[vn - 1] != ' '));
        /* Framing is one thing: never Content-Length with chunked. */
        if (h->chunked)
            FZ_ASSERT(strcasecmp(h->headers[i].name, "Content-Length") != 0);
    }
    FZ_ASSERT(h->chunked ? h->content_length == -1 : h->content_length >= 0);
    if (h->chunked) {
        const char *body = in + end;
        size_t n = size - (size_t)end, l1, l2, e1 = 0, e2 = 0;
        char *o1 = malloc(n + 1), *o2 = malloc(n + 1);
        int r1 = decode(body, n, 0, o1, &l1, &e1), r2 = decode(body, n, 1, o2, &l2, &e2);

        FZ_ASSERT(r1 == r2);
        if (r1 >= 0) {
            FZ_ASSERT(l1 == l2 && memcmp(o1, o2, l1) == 0);
            FZ_ASSERT(e1 == e2 && l1 <= n);
        }
        free(o1);
        free(o2);
    }
out:
    free(h);
    free(scratch);
    free(head);
    return 0;
}
