/*
 * value.c - Iceberg values: type names, single-value binary bounds,
 * Murmur3 bucket hashes and partition transforms (see value.h).
 *
 * Sections, low level to high:
 *
 *   1. byte order and decimal bytes   little-endian ints, minimal
 *                                     big-endian two's complement
 *   2. Murmur3 and the bucket hashes
 *   3. transforms of single values    calendar units by floor division
 *   4. UTF-8 code points              truncation and the upper-bound
 *                                     increment
 *   5. bounds from statistics text    and back to text
 *   6. transform names                parse, name, applies
 *
 * Nothing here allocates; every function is pure and thread-safe.
 */
#include "table/value.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "core/time.h"
#include "core/utf8.h"
#include "core/banned.h"

#define USEC_PER_HOUR 3600000000LL

/* ---- 1. byte order and decimal bytes ---------------------------------- */

static void
put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_le32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t
get_le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/*
 * The fewest big-endian two's complement bytes that hold v (Java's
 * BigInteger.toByteArray): a leading byte is dropped while it is only sign
 * extension of the next one, so 0 -> 00, -1 -> ff, 127 -> 7f, 128 -> 00 80,
 * -129 -> ff 7f.  Returns the length (1..16) written to out[16].
 */
static size_t
decimal_bytes(__int128 v, uint8_t out[16])
{
    unsigned __int128 u = (unsigned __int128)v;
    uint8_t be[16];
    size_t skip = 0;

    for (int i = 15; i >= 0; i--) {
        be[i] = (uint8_t)u;
        u >>= 8;
    }
    while (skip < 15 && ((be[skip] == 0x00 && !(be[skip + 1] & 0x80)) ||
                         (be[skip] == 0xff && (be[skip + 1] & 0x80))))
        skip++;
    memcpy(out, be + skip, 16 - skip);
    return 16 - skip;
}

/* The value of 1..16 big-endian two's complement bytes. */
static __int128
decimal_value(const uint8_t *b, size_t len)
{
    unsigned __int128 u = (b[0] & 0x80) ? ~(unsigned __int128)0 : 0;

    for (size_t i = 0; i < len; i++)
        u = (u << 8) | b[i];
    return (__int128)u;
}

/* ---- 2. Murmur3 and the bucket hashes --------------------------------- */

static uint32_t
rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

/* One 4-byte lane scrambled before it is mixed into the state. */
static uint32_t
murmur_scramble(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

uint32_t
ival_murmur3(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t nblocks = len / 4;
    uint32_t h = 0, k = 0; /* seed 0 */

    for (size_t i = 0; i < nblocks; i++) {
        h ^= murmur_scramble(get_le32(p + 4 * i));
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    /* The 1..3 bytes left over, as the low bytes of one more lane. */
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)p[4 * nblocks + 2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)p[4 * nblocks + 1] << 8;
        /* fall through */
    case 1:
        k ^= p[4 * nblocks];
        h ^= murmur_scramble(k);
    }
    /* Finalisation: fold in the length, then avalanche. */
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

int32_t
ival_hash_long(int64_t v)
{
    uint8_t b[8];

    put_le64(b, (uint64_t)v);
    return (int32_t)ival_murmur3(b, sizeof(b));
}

/* Iceberg hashes int-typed values (date is one) as longs, so that the
 * int -> long promotion keeps every bucket; the spec's vector for
 * 2017-11-16 (-653330422) is the hash of the 8-byte form. */
int32_t
ival_hash_date(int32_t days)
{
    return ival_hash_long(days);
}

int32_t
ival_hash_timestamp(int64_t usec)
{
    return ival_hash_long(usec);
}

int32_t
ival_hash_string(const char *s, size_t n)
{
    return (int32_t)ival_murmur3(s, n);
}

int32_t
ival_hash_decimal(__int128 unscaled)
{
    uint8_t b[16];
    size_t len = decimal_bytes(unscaled, b);

    return (int32_t)ival_murmur3(b, len);
}

/* ---- 3. transforms of single values ----------------------------------- */

/*
 * The calendar transforms count whole units since 1970-01-01T00:00Z and
 * round towards minus infinity: the last microsecond of 1969 is year -1,
 * month -1, day -1, hour -1.  Java's DateTimeUtil means the same (its
 * "+1 then -1" for negative values); counting civil fields after a floor
 * division to days gives it directly.
 */
int32_t
ival_year_of_days(int32_t days)
{
    int y;
    unsigned m, d;

    sl_civil_from_days(days, &y, &m, &d);
    return (int32_t)(y - 1970);
}

int32_t
ival_month_of_days(int32_t days)
{
    int y;
    unsigned m, d;

    sl_civil_from_days(days, &y, &m, &d);
    return (int32_t)(((int64_t)y - 1970) * 12 + (int64_t)m - 1);
}

int32_t
ival_year_of_usec(int64_t usec)
{
    return ival_year_of_days(sl_usec_to_day(usec));
}

int32_t
ival_month_of_usec(int64_t usec)
{
    return ival_month_of_days(sl_usec_to_day(usec));
}

int32_t
ival_day_of_usec(int64_t usec)
{
    return sl_usec_to_day(usec);
}

int32_t
ival_hour_of_usec(int64_t usec)
{
    int64_t h = usec / USEC_PER_HOUR;

    if (usec % USEC_PER_HOUR < 0)
        h--;
    return (int32_t)h; /* |h| < 2^32: wraps as Java's (int) cast does */
}

int32_t
ival_bucket(int32_t hash, int32_t n)
{
    assert(n > 0);
    return (hash & INT32_MAX) % n;
}

/* v - (((v % w) + w) % w), in wrapping arithmetic as Java's longs: only
 * values within w of INT64_MIN wrap, and they do so the same way. */
int64_t
ival_truncate_long(int64_t v, int32_t w)
{
    int64_t r;

    assert(w > 0);
    r = ((v % w) + w) % w;
    return (int64_t)((uint64_t)v - (uint64_t)r);
}

__int128
ival_truncate_decimal(__int128 unscaled, int32_t w)
{
    __int128 r;

    assert(w > 0);
    r = ((unscaled % w) + w) % w;
    return (__int128)((unsigned __int128)unscaled - (unsigned __int128)r);
}

/* ---- 4. UTF-8 code points --------------------------------------------- */

static bool
utf8_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t
ival_truncate_string(const char *s, size_t n, int32_t w)
{
    size_t i = 0;

    /* Count lead bytes: each starts a code point. */
    for (int32_t k = 0; k < w && i < n; k++) {
        i++;
        while (i < n && utf8_cont((unsigned char)s[i]))
            i++;
    }
    return i;
}

/* The code point that valid UTF-8 s starts with, and its length in *len. */
static uint32_t
utf8_decode(const unsigned char *s, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *len = 2;
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0) {
        *len = 3;
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    }
    *len = 4;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* The UTF-8 form of a scalar value cp into out; returns its length. */
static size_t
utf8_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | cp >> 18);
    out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * The smallest string of at most w code points that is >= s (valid UTF-8,
 * more than w code points): the w-point prefix with its last code point
 * raised by one; a code point that cannot be raised (U+10FFFF) is dropped
 * and the one before it tried, as Java's UnicodeUtil.truncateStringMax
 * does.  Unlike Java, U+D7FF goes to U+E000: the surrogates are not
 * scalar values and have no UTF-8 form (Java would make a lone surrogate,
 * which its UTF-8 encoder writes as '?', a bound below the maximum).
 * Byte order of UTF-8 is code point order, so the result compares
 * greater.  Returns the length, or 0 when nothing can be raised.
 */
static size_t
utf8_upper(const char *s, size_t n, int32_t w, uint8_t *out)
{
    size_t cut = ival_truncate_string(s, n, w);
    size_t starts[IVAL_TRUNCATE], ns = 0;

    assert(w <= IVAL_TRUNCATE);
    for (size_t i = 0; i < cut; i++)
        if (!utf8_cont((unsigned char)s[i]))
            starts[ns++] = i;
    while (ns > 0) {
        size_t at = starts[--ns], len;
        uint32_t cp = utf8_decode((const unsigned char *)s + at, &len);

        if (cp == 0x10FFFF)
            continue;
        cp = cp == 0xD7FF ? 0xE000 : cp + 1;
        memcpy(out, s, at);
        return at + utf8_encode(cp, out + at);
    }
    return 0;
}

/* ---- 5. bounds from statistics text, and back ------------------------- */

void
ival_type_name(struct sl_type t, char *out, size_t size)
{
    static const char *const names[] = {
        [SL_TYPE_STRING] = "string", [SL_TYPE_INT64] = "long", [SL_TYPE_DOUBLE] = "double",
        [SL_TYPE_BOOL] = "boolean",  [SL_TYPE_DATE] = "date",  [SL_TYPE_TIMESTAMP] = "timestamptz",
        [SL_TYPE_INT32] = "int",     [SL_TYPE_FLOAT] = "float",
    };

    if (t.id == SL_TYPE_DECIMAL)
        snprintf(out, size, "decimal(%u,%u)", t.precision, t.scale);
    else if ((size_t)t.id < sizeof(names) / sizeof(names[0]) && names[t.id] != NULL)
        snprintf(out, size, "%s", names[t.id]);
    else
        snprintf(out, size, "?");
}

int
ival_type_parse(const char *name, struct sl_type *t)
{
    static const struct {
        const char *name;
        enum sl_type_id id;
    } names[] = {
        {"string", SL_TYPE_STRING}, {"long", SL_TYPE_INT64},  {"double", SL_TYPE_DOUBLE},
        {"boolean", SL_TYPE_BOOL},  {"date", SL_TYPE_DATE},  {"timestamptz", SL_TYPE_TIMESTAMP},
        {"int", SL_TYPE_INT32},     {"float", SL_TYPE_FLOAT},
    };
    unsigned p, sc;
    char end;

    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i].name) == 0) {
            t->id = names[i].id;
            return 0;
        }
    if (sscanf(name, "decimal(%u,%u%c", &p, &sc, &end) == 3 && end == ')' && p >= 1 &&
        p <= 38 && sc <= p && name[strlen(name) - 1] == ')') {
        t->id = SL_TYPE_DECIMAL;
        t->precision = (uint8_t)p;
        t->scale = (uint8_t)sc;
        return 0;
    }
    return SL_ERR_INPUT;
}

/* Whether s[0..n) is word, ignoring case. */
static bool
is_word(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* The engine's spellings of the infinities: DuckDB prints doubles as "inf"
 * and dates and timestamps as "infinity"; +1, -1, or 0 for neither. */
static int
infinity_sign(const char *s, size_t n)
{
    int sign = 1;

    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        sign = s[0] == '-' ? -1 : 1;
        s++;
        n--;
    }
    return is_word(s, n, "inf") || is_word(s, n, "infinity") ? sign : 0;
}

static bool
is_nan(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        s++;
        n--;
    }
    return is_word(s, n, "nan");
}

/* Record that s does not read as t: the value, cut and with anything
 * unprintable replaced, so the message stays one line of ASCII. */
static int
bad_bound(struct sl_diag *d, struct sl_type t, const char *s, size_t n, const char *why)
{
    char shown[48], type[32];
    size_t k = 0;

    for (size_t i = 0; i < n && k < 40; i++)
        shown[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (k < n)
        k = (size_t)snprintf(shown + k, sizeof(shown) - k, "...") + k;
    shown[k] = '\0';
    ival_type_name(t, type, sizeof(type));
    sl_fail(d, SL_ERR_INPUT, "cannot read statistics value '%s' as an Iceberg %s bound", shown,
            type);
    if (why != NULL)
        sl_diag_detail(d, "%s", why);
    return SL_ERR_INPUT;
}

int
ival_bound(struct sl_type t, const char *s, size_t n, bool upper, uint8_t *out, size_t *len,
           struct sl_diag *d)
{
    int64_t i64;
    int32_t days;
    double v;
    __int128 dec;

    switch (t.id) {
    case SL_TYPE_STRING:
        if (!sl_utf8_valid(s, n, NULL))
            return bad_bound(d, t, s, n, "The text is not valid UTF-8.");
        *len = ival_truncate_string(s, n, IVAL_TRUNCATE);
        if (!upper || *len == n) {
            memcpy(out, s, *len);
            return 0;
        }
        *len = utf8_upper(s, n, IVAL_TRUNCATE, out);
        return *len > 0 ? 0 : SL_ERR_NOTFOUND;
    case SL_TYPE_INT64:
        if (sl_parse_i64(s, n, &i64) < 0)
            return bad_bound(d, t, s, n, NULL);
        put_le64(out, (uint64_t)i64);
        *len = 8;
        return 0;
    case SL_TYPE_INT32:
        if (sl_parse_i64(s, n, &i64) < 0 || i64 < INT32_MIN || i64 > INT32_MAX)
            return bad_bound(d, t, s, n, NULL);
        put_le32(out, (uint32_t)(int32_t)i64);
        *len = 4;
        return 0;
    case SL_TYPE_FLOAT:
    case SL_TYPE_DOUBLE:
        if (is_nan(s, n))
            return SL_ERR_NOTFOUND;
        if (infinity_sign(s, n) != 0)
            v = infinity_sign(s, n) * HUGE_VAL;
        else if (sl_parse_double(s, n, &v) < 0)
            return bad_bound(d, t, s, n, NULL);
        /*
         * The engine compares -0.0 equal to +0.0, so a minimum of either
         * zero may stand for the other; Iceberg orders -0.0 first.  Widen:
         * a zero lower bound is -0.0, a zero upper bound +0.0.
         */
        if (v == 0)
            v = upper ? 0.0 : -0.0;
        if (t.id == SL_TYPE_FLOAT) {
            /* The engine prints a float's shortest text, which reads back
             * to the same float; other text is rounded outwards. */
            float f = (float)v;
            uint32_t u;

            if (!isinf(v) && isinf(f))
                return bad_bound(d, t, s, n, "The value is past a float's range.");
            if (!upper && (double)f > v)
                f = nextafterf(f, -INFINITY);
            if (upper && (double)f < v)
                f = nextafterf(f, INFINITY);
            if (f == 0) /* a value too small for a float: the zero widened */
                f = upper ? 0.0f : -0.0f;

            memcpy(&u, &f, 4);
            put_le32(out, u);
            *len = 4;
            return 0;
        }
        memcpy(&i64, &v, 8);
        put_le64(out, (uint64_t)i64);
        *len = 8;
        return 0;
    case SL_TYPE_BOOL:
        if (is_word(s, n, "true"))
            out[0] = 1;
        else if (is_word(s, n, "false"))
            out[0] = 0;
        else
            return bad_bound(d, t, s, n, NULL);
        *len = 1;
        return 0;
    case SL_TYPE_DATE:
        /* An infinite date bounds nothing: leave the bound out. */
        if (infinity_sign(s, n) != 0)
            return SL_ERR_NOTFOUND;
        if (sl_parse_date(s, n, &days) < 0)
            return bad_bound(d, t, s, n, "Dates are read as YYYY-MM-DD, years 1 to 9999.");
        put_le32(out, (uint32_t)days);
        *len = 4;
        return 0;
    case SL_TYPE_TIMESTAMP:
        if (infinity_sign(s, n) != 0)
            return SL_ERR_NOTFOUND;
        /* "2026-01-02 03:04:05.123456+00" is one of sl_parse_timestamp's
         * forms as it stands (space separator, zone "+HH"). */
        if (sl_parse_timestamp(s, n, &i64) < 0)
            return bad_bound(d, t, s, n,
                             "Timestamps are read as YYYY-MM-DD HH:MM:SS[.f][+HH[:MM]], "
                             "years 1 to 9999.");
        put_le64(out, (uint64_t)i64);
        *len = 8;
        return 0;
    case SL_TYPE_DECIMAL:
        if (sl_parse_decimal(s, n, t.precision, t.scale, &dec) < 0)
            return bad_bound(d, t, s, n, NULL);
        *len = decimal_bytes(dec, out);
        return 0;
    }
    return bad_bound(d, t, s, n, "The column type is unknown.");
}

/* "YYYY-MM-DD" of any day count; years outside 1..9999 print as numbers
 * (signed, more digits) that ival_bound does not read back. */
static int
format_date(int64_t days, char *out, size_t size)
{
    int y;
    unsigned m, d;

    sl_civil_from_days(days, &y, &m, &d);
    return snprintf(out, size, "%04d-%02u-%02u", y, m, d);
}

/* A double as the engine prints it: the shortest text that reads back to
 * the same bits, with ".0" on integral values ("1.0", "-0.0", "1e+20"). */
static void
format_double(double v, char *out, size_t size)
{
    char tmp[40];

    if (isnan(v)) {
        snprintf(out, size, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(out, size, v < 0 ? "-inf" : "inf");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*g", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    if (strpbrk(tmp, ".e") == NULL)
        snprintf(out, size, "%s.0", tmp);
    else
        snprintf(out, size, "%s", tmp);
}

int
ival_bound_text(struct sl_type t, const uint8_t *b, size_t len, char *out, size_t size)
{
    static const size_t width[] = {
        [SL_TYPE_INT64] = 8, [SL_TYPE_DOUBLE] = 8,    [SL_TYPE_BOOL] = 1,
        [SL_TYPE_DATE] = 4,  [SL_TYPE_TIMESTAMP] = 8, [SL_TYPE_INT32] = 4,
        [SL_TYPE_FLOAT] = 4,
    };
    int64_t i64;
    double v;

    if (size == 0)
        return SL_ERR_LIMIT;
    out[0] = '\0';
    switch (t.id) {
    case SL_TYPE_STRING:
        if (len >= size)
            return SL_ERR_LIMIT;
        memcpy(out, b, len);
        out[len] = '\0';
        return 0;
    case SL_TYPE_DECIMAL: {
        char tmp[48];

        if (len < 1 || len > 16)
            return SL_ERR_INPUT;
        sl_format_decimal(decimal_value(b, len), t.scale, tmp);
        if (strlen(tmp) >= size)
            return SL_ERR_LIMIT;
        memcpy(out, tmp, strlen(tmp) + 1);
        return 0;
    }
    default:
        break;
    }
    if ((size_t)t.id >= sizeof(width) / sizeof(width[0]) || width[t.id] == 0)
        return SL_ERR_INPUT;
    if (len != width[t.id])
        return SL_ERR_INPUT;
    char tmp[80];

    switch (t.id) {
    case SL_TYPE_INT64:
        snprintf(tmp, sizeof(tmp), "%lld", (long long)get_le64(b));
        break;
    case SL_TYPE_INT32:
        snprintf(tmp, sizeof(tmp), "%d", (int)(int32_t)get_le32(b));
        break;
    case SL_TYPE_FLOAT: {
        uint32_t u = get_le32(b);
        float f;

        memcpy(&f, &u, 4);
        format_double(f, tmp, sizeof(tmp));
        break;
    }
    case SL_TYPE_DOUBLE:
        i64 = (int64_t)get_le64(b);
        memcpy(&v, &i64, 8);
        format_double(v, tmp, sizeof(tmp));
        break;
    case SL_TYPE_BOOL:
        if (b[0] > 1)
            return SL_ERR_INPUT;
        snprintf(tmp, sizeof(tmp), "%s", b[0] ? "true" : "false");
        break;
    case SL_TYPE_DATE:
        format_date((int32_t)get_le32(b), tmp, sizeof(tmp));
        break;
    case SL_TYPE_TIMESTAMP: {
        /* "2026-01-02 03:04:05[.f]+00", the fraction without trailing
         * zeros, as the engine prints it with TimeZone UTC. */
        int64_t us = (int64_t)get_le64(b);
        int32_t day = sl_usec_to_day(us);
        int64_t rem = us - (int64_t)day * SL_USEC_PER_DAY;
        int64_t secs = rem / SL_USEC_PER_SEC, frac = rem % SL_USEC_PER_SEC;
        int k = format_date(day, tmp, sizeof(tmp));

        k += snprintf(tmp + k, sizeof(tmp) - (size_t)k, " %02d:%02d:%02d", (int)(secs / 3600),
                      (int)(secs / 60 % 60), (int)(secs % 60));
        if (frac != 0) {
            int digits = 6;

            while (frac % 10 == 0) {
                frac /= 10;
                digits--;
            }
            k += snprintf(tmp + k, sizeof(tmp) - (size_t)k, ".%0*lld", digits, (long long)frac);
        }
        snprintf(tmp + k, sizeof(tmp) - (size_t)k, "+00");
        break;
    }
    default:
        return SL_ERR_INPUT;
    }
    if (strlen(tmp) >= size)
        return SL_ERR_LIMIT;
    memcpy(out, tmp, strlen(tmp) + 1);
    return 0;
}

/* ---- 6. transform names ----------------------------------------------- */

static const char *const transform_names[] = {
    [IVAL_IDENTITY] = "identity",   [IVAL_YEAR] = "year",
    [IVAL_MONTH] = "month",         [IVAL_DAY] = "day",
    [IVAL_HOUR] = "hour",           [IVAL_BUCKET] = "bucket",
    [IVAL_TRUNCATE_T] = "truncate", [IVAL_VOID] = "void",
};

int
ival_transform_parse(const char *s, struct ival_transform *t, struct sl_diag *d)
{
    const char *open = strchr(s, '[');
    size_t name_len = open != NULL ? (size_t)(open - s) : strlen(s);

    memset(t, 0, sizeof(*t));
    for (size_t k = 0; k < sizeof(transform_names) / sizeof(transform_names[0]); k++) {
        bool takes_param = k == IVAL_BUCKET || k == IVAL_TRUNCATE_T;
        size_t n;
        int64_t p;

        if (!is_word(s, name_len, transform_names[k]))
            continue;
        t->kind = (enum ival_transform_kind)k;
        if (!takes_param) {
            if (open == NULL)
                return 0;
            break;
        }
        if (open == NULL)
            return sl_fail(d, SL_ERR_INPUT, "cannot use transform '%s' without a width", s);
        n = strlen(open + 1);
        if (n < 2 || open[n] != ']' || open[1] == '+' || open[1] == '-' ||
            sl_parse_i64(open + 1, n - 1, &p) < 0 || p < 1 || p > INT32_MAX)
            return sl_fail(d, SL_ERR_INPUT,
                           "cannot use transform '%s': the width must be an integer from 1 "
                           "to 2147483647",
                           s);
        t->param = (int32_t)p;
        return 0;
    }
    sl_fail(d, SL_ERR_INPUT, "unknown partition transform '%s'", s);
    sl_diag_hint(d, "Transforms are identity, year, month, day, hour, bucket[N], truncate[W] "
                    "and void.");
    return SL_ERR_INPUT;
}

void
ival_transform_name(struct ival_transform t, char *out, size_t size)
{
    if ((size_t)t.kind >= sizeof(transform_names) / sizeof(transform_names[0]))
        snprintf(out, size, "?");
    else if (t.kind == IVAL_BUCKET || t.kind == IVAL_TRUNCATE_T)
        snprintf(out, size, "%s[%d]", transform_names[t.kind], (int)t.param);
    else
        snprintf(out, size, "%s", transform_names[t.kind]);
}

bool
ival_transform_same(struct ival_transform a, struct ival_transform b)
{
    if (a.kind != b.kind || a.param != b.param)
        return false;
    if (a.column == NULL || b.column == NULL)
        return a.column == b.column;
    return strcmp(a.column, b.column) == 0;
}

bool
ival_transform_applies(struct ival_transform t, struct sl_type src)
{
    enum sl_type_id id = src.id;

    switch (t.kind) {
    case IVAL_IDENTITY:
    case IVAL_VOID:
        return true;
    case IVAL_YEAR:
    case IVAL_MONTH:
    case IVAL_DAY:
        return id == SL_TYPE_DATE || id == SL_TYPE_TIMESTAMP;
    case IVAL_HOUR:
        return id == SL_TYPE_TIMESTAMP;
    case IVAL_BUCKET:
        return t.param > 0 && (id == SL_TYPE_INT64 || id == SL_TYPE_INT32 || id == SL_TYPE_DECIMAL ||
                               id == SL_TYPE_DATE ||
                               id == SL_TYPE_TIMESTAMP || id == SL_TYPE_STRING);
    case IVAL_TRUNCATE_T:
        return t.param > 0 &&
               (id == SL_TYPE_INT64 || id == SL_TYPE_INT32 || id == SL_TYPE_DECIMAL ||
                id == SL_TYPE_STRING);
    }
    return false;
}

/* ---- partitions of curated tables ------------------------------------------------------ */

int32_t
ival_partition_of(struct ival_transform t, bool is_date, int64_t v)
{
    switch (t.kind) {
    case IVAL_DAY:
        return is_date ? (int32_t)v : ival_day_of_usec(v);
    case IVAL_MONTH:
        return is_date ? ival_month_of_days((int32_t)v) : ival_month_of_usec(v);
    case IVAL_YEAR:
        return is_date ? ival_year_of_days((int32_t)v) : ival_year_of_usec(v);
    case IVAL_HOUR:
        return is_date ? (int32_t)(v * 24) : ival_hour_of_usec(v);
    default:
        return 0;
    }
}

void
ival_partition_text(struct ival_transform t, int32_t value, char *out, size_t size)
{
    int64_t months = value, y;
    char date[16];

    switch (t.kind) {
    case IVAL_DAY:
        sl_format_date(value, date);
        snprintf(out, size, "%s", date);
        break;
    case IVAL_MONTH:
        y = months >= 0 ? months / 12 : -((-months + 11) / 12);
        snprintf(out, size, "%04lld-%02lld", (long long)(1970 + y),
                 (long long)(months - y * 12 + 1));
        break;
    case IVAL_YEAR:
        snprintf(out, size, "%04d", 1970 + value);
        break;
    case IVAL_HOUR: {
        int64_t h = value, day = h >= 0 ? h / 24 : -((-h + 23) / 24);

        sl_format_date((int32_t)day, date);
        snprintf(out, size, "%s-%02lld", date, (long long)(h - day * 24));
        break;
    }
    case IVAL_BUCKET:
        snprintf(out, size, "b%d-%d-%s", (int)t.param, (int)value, t.column ? t.column : "");
        break;
    default:
        snprintf(out, size, "%s", "");
    }
}

/* A decimal number of at most 10 digits, no sign, no leading zero, at
 * *p, ending at a '-': its value, *p past the '-'; -1 if there is none. */
static int64_t
bucket_number(const char **p)
{
    const char *s = *p;
    int64_t v = 0;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9' && n <= 10)
        v = v * 10 + (s[n++] - '0');
    if (n == 0 || n > 10 || s[n] != '-' || (n > 1 && s[0] == '0'))
        return -1;
    *p = s + n + 1;
    return v;
}

/* Parse "b<N>-<value>-<column>" into *n, *value and *column (into s);
 * SL_ERR_INPUT if s is not of that shape, 0 <= value < N <= INT32_MAX,
 * with a column name of letters, digits and '_' (not starting with a
 * digit). */
static int
bucket_text(const char *s, int32_t *n, int32_t *value, const char **column)
{
    const char *p = s + 1;
    int64_t bn, bv;

    if (s[0] != 'b')
        return SL_ERR_INPUT;
    bn = bucket_number(&p);
    bv = bn > 0 ? bucket_number(&p) : -1;
    if (bn <= 0 || bn > INT32_MAX || bv < 0 || bv >= bn)
        return SL_ERR_INPUT;
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
        return SL_ERR_INPUT;
    for (const char *c = p; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            return SL_ERR_INPUT;
    *n = (int32_t)bn;
    *value = (int32_t)bv;
    *column = p;
    return 0;
}

int
ival_partition_parse(struct ival_transform t, const char *s, int32_t *value)
{
    size_t n = strlen(s);
    int32_t days;
    int y, m, h;
    char tail;

    switch (t.kind) {
    case IVAL_DAY:
        return n == 10 ? sl_parse_date(s, n, value) : SL_ERR_INPUT;
    case IVAL_MONTH:
        if (n != 7 || sscanf(s, "%4d-%2d%c", &y, &m, &tail) != 2 || m < 1 || m > 12)
            return SL_ERR_INPUT;
        *value = (y - 1970) * 12 + m - 1;
        return 0;
    case IVAL_YEAR:
        if (n != 4 || sscanf(s, "%4d%c", &y, &tail) != 1)
            return SL_ERR_INPUT;
        *value = y - 1970;
        return 0;
    case IVAL_HOUR:
        if (n != 13 || s[10] != '-' || sl_parse_date(s, 10, &days) < 0 ||
            sscanf(s + 11, "%2d%c", &h, &tail) != 1 || h < 0 || h > 23)
            return SL_ERR_INPUT;
        *value = days * 24 + h;
        return 0;
    case IVAL_BUCKET: {
        const char *column;
        int32_t bn, v;

        if (t.column == NULL || bucket_text(s, &bn, &v, &column) < 0 || bn != t.param ||
            strcmp(column, t.column) != 0)
            return SL_ERR_INPUT;
        *value = v;
        return 0;
    }
    default:
        if (n != 0)
            return SL_ERR_INPUT;
        *value = 0;
        return 0;
    }
}

const char *
ival_partition_dir(struct ival_transform t)
{
    switch (t.kind) {
    case IVAL_DAY:
        return "dt";
    case IVAL_MONTH:
        return "month";
    case IVAL_YEAR:
        return "year";
    case IVAL_HOUR:
        return "hour";
    default:
        return NULL;
    }
}

bool
ival_partition_folder(struct ival_transform t, int32_t value, char *dir, char *val)
{
    if (t.kind == IVAL_BUCKET) {
        snprintf(dir, IVAL_PARTITION_TEXT, "%s_bucket", t.column ? t.column : "");
        snprintf(val, IVAL_PARTITION_TEXT, "%d", (int)value);
        return true;
    }
    if (ival_partition_dir(t) == NULL)
        return false;
    snprintf(dir, IVAL_PARTITION_TEXT, "%s", ival_partition_dir(t));
    ival_partition_text(t, value, val, IVAL_PARTITION_TEXT);
    return true;
}

int
ival_partition_which(const char *s, struct ival_transform *t, int32_t *value)
{
    const char *column;
    int32_t n;

    if (bucket_text(s, &n, value, &column) == 0) {
        t->kind = IVAL_BUCKET;
        t->param = n;
        t->column = column;
        return 0;
    }
    static const enum ival_transform_kind kinds[] = {IVAL_DAY, IVAL_MONTH, IVAL_YEAR, IVAL_HOUR,
                                                     IVAL_VOID};

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct ival_transform k = {kinds[i], 0, NULL};

        if (ival_partition_parse(k, s, value) == 0) {
            *t = k;
            return 0;
        }
    }
    return SL_ERR_INPUT;
}
