/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * struct sl_buf owns its data.  An initialised, empty buffer points at a
 * shared empty string and allocates nothing, so sl_buf_init() is free and
 * buf.data is always a valid C string.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sl_buf {
    char *data; /* len bytes plus a NUL; never NULL */
    size_t len; /* bytes in use, excluding the NUL */
    size_t cap; /* bytes allocated; 0 while data is the shared empty string */
};

void sl_buf_init(struct sl_buf *b);
void sl_buf_release(struct sl_buf *b);
/* Make room for n more bytes after len. */
void sl_buf_grow(struct sl_buf *b, size_t n);
void sl_buf_add(struct sl_buf *b, const void *p, size_t n);
void sl_buf_adds(struct sl_buf *b, const char *s);
void sl_buf_addc(struct sl_buf *b, char c);
void sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sl_buf_vaddf(struct sl_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included. */
void sl_buf_add_json_str(struct sl_buf *b, const char *s, size_t n);
/* Append s as an SQL string literal, quotes included. */
void sl_buf_add_sql_str(struct sl_buf *b, const char *s);
/* Append s as an SQL identifier, double-quoted. */
void sl_buf_add_sql_ident(struct sl_buf *b, const char *s);
void sl_buf_setlen(struct sl_buf *b, size_t len);
static inline void
sl_buf_reset(struct sl_buf *b)
{
    sl_buf_setlen(b, 0);
}
/* Hand the data to the caller (free() it); the buffer is left empty. */
char *sl_buf_detach(struct sl_buf *b, size_t *len);

#endif
