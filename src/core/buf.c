/*
 * buf.c - growable byte buffers (see buf.h).
 */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/banned.h"

static char empty[1];

void
sl_buf_init(struct sl_buf *b)
{
    b->data = empty;
    b->len = 0;
    b->cap = 0;
}

void
sl_buf_release(struct sl_buf *b)
{
    if (b->cap)
        free(b->data);
    sl_buf_init(b);
}

void
sl_buf_grow(struct sl_buf *b, size_t n)
{
    size_t need = b->len + n + 1, cap;

    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (b->cap) {
        b->data = sl_realloc(b->data, cap);
    } else {
        b->data = sl_malloc(cap);
        b->data[0] = '\0';
    }
    b->cap = cap;
}

void
sl_buf_setlen(struct sl_buf *b, size_t len)
{
    if (b->cap == 0 && len == 0)
        return;
    if (len > b->len)
        sl_buf_grow(b, len - b->len);
    b->len = len;
    b->data[len] = '\0';
}

void
sl_buf_add(struct sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    sl_buf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
sl_buf_adds(struct sl_buf *b, const char *s)
{
    sl_buf_add(b, s, strlen(s));
}

void
sl_buf_addc(struct sl_buf *b, char c)
{
    sl_buf_grow(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void
sl_buf_vaddf(struct sl_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(b->data + b->len, b->cap ? b->cap - b->len : 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
        sl_buf_grow(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void
sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sl_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void
sl_buf_add_json_str(struct sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    sl_buf_grow(b, n + 2);
    sl_buf_addc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sl_buf_add(b, s + run, i - run);
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        sl_buf_add(b, esc, elen);
    }
    sl_buf_add(b, s + run, n - run);
    sl_buf_addc(b, '"');
}

static void
add_quoted(struct sl_buf *b, const char *s, char q)
{
    sl_buf_addc(b, q);
    for (; *s; s++) {
        if (*s == q)
            sl_buf_addc(b, q);
        sl_buf_addc(b, *s);
    }
    sl_buf_addc(b, q);
}

void
sl_buf_add_sql_str(struct sl_buf *b, const char *s)
{
    add_quoted(b, s, '\'');
}

void
sl_buf_add_sql_ident(struct sl_buf *b, const char *s)
{
    add_quoted(b, s, '"');
}

char *
sl_buf_detach(struct sl_buf *b, size_t *len)
{
    char *p = b->cap ? b->data : sl_strdup("");

    if (len != NULL)
        *len = b->len;
    sl_buf_init(b);
    return p;
}
