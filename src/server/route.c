/*
 * route.c - REST routing (see route.h).
 */
#include "server/route.h"

#include <stdbool.h>
#include <string.h>

#include "core/hash.h"
#include "core/banned.h"

long
route_unescape(const char *src, size_t n, char *dst)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = src[i];

        if (c == '%') {
            int hi = i + 2 < n ? sl_hex_digit((unsigned char)src[i + 1]) : -1;
            int lo = i + 2 < n ? sl_hex_digit((unsigned char)src[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (long)o;
}

/* The length of the segment at s (up to the next '/' or end). */
static size_t
segment(const char *s, const char *end)
{
    const char *slash = memchr(s, '/', (size_t)(end - s));

    return (size_t)((slash != NULL ? slash : end) - s);
}

enum route_result
route_match(const char *tmpl, const char *path, size_t n, char *scratch, struct route_params *p)
{
    const char *raw[ROUTE_PARAMS_MAX];
    const char *t = tmpl, *s = path, *end = path + n;
    char *out = scratch;

    p->n = 0;
    /* Shape first: one segment against one. */
    while (*t != '\0' || s < end) {
        size_t tl, sl;

        if (*t != '/' || s >= end || *s != '/')
            return ROUTE_NO_MATCH;
        t++;
        s++;
        tl = strcspn(t, "/");
        sl = segment(s, end);
        if (tl >= 2 && t[0] == '{' && t[tl - 1] == '}') {
            if (sl == 0 || p->n == ROUTE_PARAMS_MAX)
                return ROUTE_NO_MATCH;
            p->name[p->n] = t + 1;
            p->name_len[p->n] = tl - 2;
            raw[p->n] = s;
            p->value_len[p->n] = sl; /* raw length until decoded */
            p->n++;
        } else if (tl != sl || memcmp(t, s, tl) != 0) {
            return ROUTE_NO_MATCH;
        }
        t += tl;
        s += sl;
    }
    /* Then the parameters, each decoded after the one before. */
    for (size_t i = 0; i < p->n; i++) {
        long len = route_unescape(raw[i], p->value_len[i], out);

        if (len < 0 || memchr(out, '/', (size_t)len) != NULL)
            return ROUTE_BAD;
        p->value[i] = out;
        p->value_len[i] = (size_t)len;
        out += len + 1;
    }
    return ROUTE_MATCH;
}
