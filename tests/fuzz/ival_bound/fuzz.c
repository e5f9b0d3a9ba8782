/*
 * ival_bound/fuzz.c - libFuzzer target for ival_bound(), ival_bound_text()
 * and ival_transform_parse().
 *
 * Input: any bytes.  They are read as the statistics text of a column of
 * every type (string, long, int, double, float, boolean, date,
 * timestamptz, and decimals of several precisions and scales), as a lower and as an upper
 * bound; as a transform name (up to the first NUL); and, the first eight
 * bytes, as a timestamp for the calendar transforms.  After each call the
 * result must keep its promises:
 *
 *   - the code is 0, SL_ERR_INPUT with words in the diag, or
 *     SL_ERR_NOTFOUND with the diag untouched;
 *   - a bound has its type's width (1..16 bytes for a decimal, at most
 *     IVAL_MAX_BOUND for a string), a string bound is valid UTF-8 of at
 *     most 16 code points, the lower one a prefix of the input and the
 *     upper one not below it; a double bound is never NaN and a zero lower
 *     bound is -0.0, a zero upper one +0.0; a decimal fits its precision;
 *   - the bound reads back to text, and that text to the same bytes;
 *   - a transform that parses names itself back to the same transform,
 *     and bucket and truncate of the input stay in range.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "core/utf8.h"
#include "table/value.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sl_type types[] = {
    {SL_TYPE_STRING, 0, 0},   {SL_TYPE_INT64, 0, 0},     {SL_TYPE_DOUBLE, 0, 0},
    {SL_TYPE_BOOL, 0, 0},     {SL_TYPE_DATE, 0, 0},      {SL_TYPE_TIMESTAMP, 0, 0},
    {SL_TYPE_DECIMAL, 12, 2}, {SL_TYPE_DECIMAL, 38, 10}, {SL_TYPE_DECIMAL, 38, 0},
    {SL_TYPE_DECIMAL, 5, 5},  {SL_TYPE_DECIMAL, 1, 0},   {SL_TYPE_INT32, 0, 0},
    {SL_TYPE_FLOAT, 0, 0},
};

static size_t
code_points(const uint8_t *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += (s[i] & 0xC0) != 0x80;
    return k;
}

static __int128
unscaled(const uint8_t *b, size_t len)
{
    unsigned __int128 u = (b[0] & 0x80) ? ~(unsigned __int128)0 : 0;

    for (size_t i = 0; i < len; i++)
        u = (u << 8) | b[i];
    return (__int128)u;
}

static void
check_bound(struct sl_type t, const uint8_t *data, size_t size, bool upper)
{
    uint8_t b[IVAL_MAX_BOUND], again[IVAL_MAX_BOUND];
    size_t len = 0, len2 = 0;
    struct sl_diag d;
    char text[80];
    int rc;

    sl_diag_init(&d);
    rc = ival_bound(t, (const char *)data, size, upper, b, &len, &d);
    FZ_ASSERT(rc == 0 || rc == SL_ERR_INPUT || rc == SL_ERR_NOTFOUND);
    if (rc == SL_ERR_INPUT)
        FZ_ASSERT(d.code == SL_ERR_INPUT && d.msg[0] != '\0' &&
                  sl_utf8_valid(d.msg, strlen(d.msg), NULL));
    if (rc == SL_ERR_NOTFOUND)
        FZ_ASSERT(d.code == 0);
    if (rc != 0)
        return;
    FZ_ASSERT(len <= IVAL_MAX_BOUND);

    switch (t.id) {
    case SL_TYPE_STRING: {
        size_t cmp = len < size ? len : size;

        FZ_ASSERT(sl_utf8_valid((const char *)b, len, NULL));
        FZ_ASSERT(code_points(b, len) <= IVAL_TRUNCATE);
        if (!upper) {
            FZ_ASSERT(len <= size && memcmp(b, data, len) == 0);
        } else {
            int c = memcmp(b, data, cmp);

            /* Not below the input in byte (= code point) order. */
            FZ_ASSERT(c > 0 || (c == 0 && len >= size));
        }
        /* Text cut at a NUL does not come back whole. */
        if (memchr(b, '\0', len) != NULL)
            return;
        break;
    }
    case SL_TYPE_INT64:
    case SL_TYPE_TIMESTAMP:
        FZ_ASSERT(len == 8);
        break;
    case SL_TYPE_DOUBLE: {
        double v;

        FZ_ASSERT(len == 8);
        memcpy(&v, b, 8); /* little-endian hosts only, as sluice is */
        FZ_ASSERT(!isnan(v));
        if (v == 0)
            FZ_ASSERT(signbit(v) == !upper);
        break;
    }
    case SL_TYPE_BOOL:
        FZ_ASSERT(len == 1 && b[0] <= 1);
        break;
    case SL_TYPE_DATE:
    case SL_TYPE_INT32:
        FZ_ASSERT(len == 4);
        break;
    case SL_TYPE_FLOAT: {
        float v;

        FZ_ASSERT(len == 4);
        memcpy(&v, b, 4);
        FZ_ASSERT(!isnan(v));
        if (v == 0) /* (signbit() is any non-zero: gcc's is the bit itself) */
            FZ_ASSERT((signbit(v) != 0) == !upper);
        break;
    }
    case SL_TYPE_DECIMAL: {
        __int128 v, lim = 1;

        FZ_ASSERT(len >= 1 && len <= 16);
        /* Minimal: the first byte is not just the sign of the second. */
        if (len > 1)
            FZ_ASSERT(!(b[0] == 0x00 && !(b[1] & 0x80)) && !(b[0] == 0xff && (b[1] & 0x80)));
        for (int i = 0; i < t.precision; i++)
            lim *= 10;
        v = unscaled(b, len);
        FZ_ASSERT(v < lim && v > -lim);
        break;
    }
    }
    FZ_ASSERT(ival_bound_text(t, b, len, text, sizeof(text)) == 0);
    FZ_ASSERT(memchr(text, '\0', sizeof(text)) != NULL);
    FZ_ASSERT(ival_bound(t, text, strlen(text), upper, again, &len2, NULL) == 0);
    FZ_ASSERT(len2 == len && memcmp(again, b, len) == 0);
}

static void
check_transform(const uint8_t *data, size_t size)
{
    char s[128], name[24];
    size_t n = 0;
    struct ival_transform t, t2;
    struct sl_diag d;
    int rc;

    while (n < size && n < sizeof(s) - 1 && data[n] != '\0') {
        s[n] = (char)data[n];
        n++;
    }
    s[n] = '\0';
    sl_diag_init(&d);
    rc = ival_transform_parse(s, &t, &d);
    FZ_ASSERT(rc == 0 || rc == SL_ERR_INPUT);
    if (rc != 0) {
        FZ_ASSERT(d.code == SL_ERR_INPUT && d.msg[0] != '\0');
        return;
    }
    ival_transform_name(t, name, sizeof(name));
    FZ_ASSERT(ival_transform_parse(name, &t2, NULL) == 0);
    FZ_ASSERT(t2.kind == t.kind && t2.param == t.param);
    if (t.kind == IVAL_BUCKET || t.kind == IVAL_TRUNCATE_T) {
        FZ_ASSERT(t.param > 0);
        int32_t bk = ival_bucket(ival_hash_string((const char *)data, size), t.param);

        FZ_ASSERT(bk >= 0 && bk < t.param);
        FZ_ASSERT(ival_truncate_string((const char *)data, size, t.param) <= size);
    } else {
        FZ_ASSERT(t.param == 0);
    }
}

/* The calendar transforms of the first eight bytes as a timestamp: floor
 * semantics, checked against plain division. */
static void
check_calendar(const uint8_t *data, size_t size)
{
    int64_t us, w;
    int32_t day;

    if (size < 8)
        return;
    memcpy(&us, data, 8);
    day = ival_day_of_usec(us);
    FZ_ASSERT((__int128)day * SL_USEC_PER_DAY <= us && us < ((__int128)day + 1) * SL_USEC_PER_DAY);
    if (us / 3600000000LL < INT32_MAX - 1 && us / 3600000000LL > INT32_MIN + 1) {
        int32_t h = ival_hour_of_usec(us);

        FZ_ASSERT((__int128)h * 3600000000LL <= us && us < ((__int128)h + 1) * 3600000000LL);
    }
    /* Months and years agree with days: a year is twelve months (floor
     * division), 31 days back is one or two months back. */
    int32_t m = ival_month_of_days(day), back = ival_month_of_days(day - 31);

    FZ_ASSERT(m == ival_month_of_usec(us));
    FZ_ASSERT(ival_year_of_days(day) == ival_year_of_usec(us));
    FZ_ASSERT(ival_year_of_days(day) == (m - ((m % 12 + 12) % 12)) / 12);
    FZ_ASSERT(back == m - 1 || back == m - 2);
    w = ival_truncate_long(us, 7);
    FZ_ASSERT((uint64_t)us - (uint64_t)w < 7);
    (void)ival_hash_date(day);
    (void)ival_hash_timestamp(us);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        check_bound(types[i], data, size, false);
        check_bound(types[i], data, size, true);
    }
    check_transform(data, size);
    check_calendar(data, size);
    return 0;
}
