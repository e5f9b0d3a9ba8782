/*
 * utf8.h - UTF-8 validation.
 *
 * Strict RFC 3629: no overlong forms, no surrogates (U+D800..DFFF), nothing
 * above U+10FFFF.  ASCII runs are checked eight bytes at a time.
 */
#ifndef SL_UTF8_H
#define SL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..n) is valid UTF-8; if not and bad is non-NULL, *bad is the
 * offset of the first invalid byte. */
bool sl_utf8_valid(const char *s, size_t n, size_t *bad);

#endif
