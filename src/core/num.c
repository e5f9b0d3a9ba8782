/*
 * num.c - strict number parsing (see num.h).
 */
#include "core/num.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/banned.h"

int
sl_parse_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0, lim;

    if (n == 0)
        return SL_ERR_INPUT;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i++;
    }
    if (i == n)
        return SL_ERR_INPUT;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9)
            return SL_ERR_INPUT;
        if (v > (lim - d) / 10)
            return SL_ERR_LIMIT;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Validate the JSON number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?,
 * also allowing a leading '+' and leading zeros, as CSV files have them. */
static bool
number_syntax(const char *s, size_t n)
{
    size_t i = 0, k;

    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    k = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == k && !(i < n && s[i] == '.'))
        return false;
    if (i < n && s[i] == '.') {
        size_t f = ++i;

        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f && f - 1 == k)
            return false; /* "." alone */
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        k = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == k)
            return false;
    }
    return i == n;
}

int
sl_parse_double(const char *s, size_t n, double *out)
{
    char tmp[64], *end;
    double v;

    if (n == 0 || n >= sizeof(tmp) || !number_syntax(s, n))
        return n >= sizeof(tmp) && number_syntax(s, n) ? SL_ERR_LIMIT : SL_ERR_INPUT;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtod(tmp, &end);
    if (end != tmp + n)
        return SL_ERR_INPUT;
    if (!isfinite(v))
        return SL_ERR_LIMIT;
    *out = v;
    return 0;
}

/* The common spelling, [-]digits[.digits] with at most 18 digits, straight
 * to an integer; returns false to leave anything else to the general path. */
static bool
fast_decimal(const char *s, size_t n, int precision, int scale, __int128 *out)
{
    static const int64_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                    100000000, 1000000000, 10000000000LL, 100000000000LL,
                                    1000000000000LL, 10000000000000LL, 100000000000000LL,
                                    1000000000000000LL, 10000000000000000LL,
                                    100000000000000000LL, 1000000000000000000LL};
    size_t i = 0;
    bool neg = false;
    int64_t v = 0;
    int digits = 0, frac = -1, lead = 0;

    if (n > 0 && s[0] == '-') {
        neg = true;
        i++;
    }
    if (i == n)
        return false;
    for (; i < n; i++) {
        char c = s[i];

        if (c >= '0' && c <= '9') {
            if (digits == 0 && c == '0' && frac < 0) {
                lead++;
                continue;
            }
            if (++digits > 18)
                return false;
            v = v * 10 + (c - '0');
            if (frac >= 0)
                frac++;
        } else if (c == '.' && frac < 0) {
            frac = 0;
        } else {
            return false;
        }
    }
    if (frac < 0)
        frac = 0;
    if ((digits == 0 && lead == 0) || (frac == 0 && s[n - 1] == '.') || frac > scale)
        return false;
    /* Digits before the point, plus the scale, must fit the precision; and
     * the scaled value must fit 18 digits. */
    if (digits - (frac > digits ? digits : frac) + scale > precision || scale > 18 ||
        digits + scale - frac > 18)
        return false;
    v *= pow10[scale - frac];
    *out = neg ? -(__int128)v : v;
    return true;
}

int
sl_parse_decimal(const char *s, size_t n, int precision, int scale, __int128 *out)
{
    if (fast_decimal(s, n, precision, scale, out))
        return 0;
    /* Collect significant digits and the decimal exponent, then align. */
    size_t i = 0;
    bool neg = false;
    char dig[80];
    int nd = 0, exp10 = 0, point = -1;

    if (!number_syntax(s, n))
        return SL_ERR_INPUT;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i++;
    }
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            point = nd;
            continue;
        }
        if (nd == 0 && s[i] == '0') {
            if (point >= 0)
                exp10--; /* leading zero after the point */
            continue;
        }
        if (nd >= (int)sizeof(dig))
            return SL_ERR_LIMIT;
        dig[nd++] = (char)(s[i] - '0');
    }
    if (point >= 0)
        exp10 -= nd - point;
    if (i < n) {
        int64_t e;

        if (sl_parse_i64(s + i + 1, n - i - 1, &e) < 0 || e > 100 || e < -100)
            return SL_ERR_LIMIT;
        exp10 += (int)e;
    }
    /* value = digits * 10^exp10; we want digits * 10^(exp10 + scale). */
    int shift = exp10 + scale;

    while (shift < 0 && nd > 0) {
        if (dig[nd - 1] != 0)
            return SL_ERR_LIMIT; /* would need rounding */
        nd--;
        shift++;
    }
    if (nd == 0) {
        *out = 0;
        return 0;
    }
    if (shift < 0)
        shift = 0;
    if (nd + shift > precision)
        return SL_ERR_LIMIT;
    __int128 v = 0;

    for (int k = 0; k < nd; k++)
        v = v * 10 + dig[k];
    for (int k = 0; k < shift; k++)
        v *= 10;
    *out = neg ? -v : v;
    return 0;
}

void
sl_format_decimal(__int128 v, int scale, char *out)
{
    char tmp[48];
    int n = 0, i = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;

    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0 || n <= scale);
    if (neg)
        out[i++] = '-';
    while (n > 0) {
        if (n == scale && scale > 0)
            out[i++] = '.';
        out[i++] = tmp[--n];
    }
    out[i] = '\0';
}
