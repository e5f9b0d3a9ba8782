/*
 * num.h - strict number parsing.
 *
 * Each parser takes the whole of s[0..n): no leading or trailing space, no
 * trailing garbage.  They return 0, or SL_ERR_INPUT for a malformed number
 * and SL_ERR_LIMIT for one that does not fit.
 */
#ifndef SL_NUM_H
#define SL_NUM_H

#include <stddef.h>
#include <stdint.h>

/* [+-]digits, within int64. */
int sl_parse_i64(const char *s, size_t n, int64_t *out);
/* A JSON-style decimal number, also "1e3"; finite doubles only. */
int sl_parse_double(const char *s, size_t n, double *out);
/*
 * A decimal number (optional exponent) as an unscaled integer with exactly
 * `scale` fraction digits and at most `precision` digits in all.  Digits
 * beyond the scale must be zero (no silent rounding): "1.50" fits scale 1,
 * "1.55" does not (SL_ERR_LIMIT).
 */
int sl_parse_decimal(const char *s, size_t n, int precision, int scale,
                     __int128 *out);
/* Format an unscaled decimal into out (at least 42 bytes). */
void sl_format_decimal(__int128 v, int scale, char *out);

#endif
