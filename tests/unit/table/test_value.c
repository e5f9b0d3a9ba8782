/*
 * test_value.c - Iceberg values: the spec's hash vectors, the transforms
 * (before 1970 too), and every bound encoding byte for byte, since other
 * engines prune files by these bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "table/value.h"
#include "test.h"

static const struct sl_type T_STRING = {SL_TYPE_STRING, 0, 0};
static const struct sl_type T_INT64 = {SL_TYPE_INT64, 0, 0};
static const struct sl_type T_DOUBLE = {SL_TYPE_DOUBLE, 0, 0};
static const struct sl_type T_BOOL = {SL_TYPE_BOOL, 0, 0};
static const struct sl_type T_DATE = {SL_TYPE_DATE, 0, 0};
static const struct sl_type T_TS = {SL_TYPE_TIMESTAMP, 0, 0};

static struct sl_type
dec(int p, int s)
{
    return (struct sl_type){SL_TYPE_DECIMAL, (uint8_t)p, (uint8_t)s};
}

static int64_t
ts(const char *s)
{
    int64_t us = 0;

    if (sl_parse_timestamp(s, strlen(s), &us) != 0)
        abort();
    return us;
}

static char hex_got[2 * IVAL_MAX_BOUND + 1];

static const char *
hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(hex_got + 2 * i, 3, "%02x", b[i]);
    hex_got[2 * n] = '\0';
    return hex_got;
}

/* The bound of text s as lower-case hex; "rc=N" when it fails. */
static char bound_got[2 * IVAL_MAX_BOUND + 16];

static const char *
bound_hex(struct sl_type t, const char *s, size_t n, bool upper)
{
    uint8_t out[IVAL_MAX_BOUND];
    size_t len = 0;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = ival_bound(t, s, n, upper, out, &len, &d);
    if (rc != 0) {
        snprintf(bound_got, sizeof(bound_got), "rc=%d", rc);
        return bound_got;
    }
    snprintf(bound_got, sizeof(bound_got), "%s", hex(out, len));
    return bound_got;
}

#define LO(t, s) bound_hex(t, s, strlen(s), false)
#define HI(t, s) bound_hex(t, s, strlen(s), true)

/* ---- hashes ------------------------------------------------------------ */

TEST(murmur3_spec_vectors)
{
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0x03};

    /* Iceberg spec, Appendix B. */
    CHECK_INT(ival_hash_long(34), 2017239379);
    CHECK_INT(ival_hash_decimal(1420), -500754589); /* 14.20 */
    CHECK_INT(ival_hash_date(17486), -653330422);   /* 2017-11-16 */
    CHECK_INT(ival_hash_timestamp(ts("2017-11-16T22:31:08")), -2047944441);
    CHECK_INT(ival_hash_timestamp(ts("2017-11-16T14:31:08-08:00")), -2047944441);
    CHECK_INT(ival_hash_timestamp(ts("2017-11-16T22:31:08.000001")), -1207196810);
    CHECK_INT(ival_hash_timestamp(ts("2017-11-16T14:31:08.000001-08:00")), -1207196810);
    CHECK_INT(ival_hash_string("iceberg", 7), 1210000089);
    CHECK_INT((int32_t)ival_murmur3(bytes, 4), -188683207);
}

TEST(murmur3_tails)
{
    /* Lengths 0, 3 and 5 reach each tail branch; values of the reference
     * MurmurHash3_x86_32 (seed 0) as mmh3 prints them. */
    CHECK_INT(ival_murmur3("", 0), 0);
    CHECK_INT((int32_t)ival_murmur3("foo", 3), -156908512);
    CHECK_INT(ival_murmur3("hello", 5), 613153351);
}

TEST(int_and_long_hash_alike)
{
    /* A date hashes as the long of its day count, as int does. */
    CHECK_INT(ival_hash_date(34), ival_hash_long(34));
    CHECK_INT(ival_hash_date(-1), ival_hash_long(-1));
    CHECK_INT(ival_hash_timestamp(-5), ival_hash_long(-5));
}

TEST(decimal_hash_uses_minimal_bytes)
{
    static const uint8_t b1420[] = {0x05, 0x8c}, bneg[] = {0xff, 0x7f}, b0[] = {0x00},
                         b128[] = {0x00, 0x80};

    CHECK_INT(ival_hash_decimal(1420), (int32_t)ival_murmur3(b1420, 2));
    CHECK_INT(ival_hash_decimal(-129), (int32_t)ival_murmur3(bneg, 2));
    CHECK_INT(ival_hash_decimal(0), (int32_t)ival_murmur3(b0, 1));
    CHECK_INT(ival_hash_decimal(128), (int32_t)ival_murmur3(b128, 2));
}

TEST(bucket)
{
    CHECK_INT(ival_bucket(ival_hash_long(34), 100), 79);
    CHECK_INT(ival_bucket(ival_hash_string("iceberg", 7), 128), 1210000089 % 128);
    /* A negative hash loses its sign bit, not its sign. */
    CHECK_INT(ival_bucket(-500754589, 16), 1646729059 % 16);
    CHECK_INT(ival_bucket(-1, 7), INT32_MAX % 7);
    CHECK_INT(ival_bucket(INT32_MIN, 3), 0);
    CHECK_INT(ival_bucket(12345, 1), 0);
}

/* ---- transforms -------------------------------------------------------- */

TEST(year_month_of_days)
{
    CHECK_INT(ival_year_of_days(0), 0);
    CHECK_INT(ival_year_of_days(364), 0);
    CHECK_INT(ival_year_of_days(365), 1);
    CHECK_INT(ival_year_of_days(-1), -1);   /* 1969-12-31 */
    CHECK_INT(ival_year_of_days(-365), -1); /* 1969-01-01 */
    CHECK_INT(ival_year_of_days(-366), -2); /* 1968-12-31 */
    CHECK_INT(ival_year_of_days(17486), 47);
    CHECK_INT(ival_year_of_days(-719162), 1 - 1970); /* 0001-01-01 */

    CHECK_INT(ival_month_of_days(0), 0);
    CHECK_INT(ival_month_of_days(30), 0);
    CHECK_INT(ival_month_of_days(31), 1);
    CHECK_INT(ival_month_of_days(-1), -1);
    CHECK_INT(ival_month_of_days(-31), -1); /* 1969-12-01 */
    CHECK_INT(ival_month_of_days(-32), -2); /* 1969-11-30 */
    CHECK_INT(ival_month_of_days(17486), 47 * 12 + 10);
}

TEST(units_of_usec)
{
    int64_t t = ts("2017-11-16T22:31:08");

    CHECK_INT(ival_year_of_usec(t), 47);
    CHECK_INT(ival_month_of_usec(t), 574);
    CHECK_INT(ival_day_of_usec(t), 17486);
    CHECK_INT(ival_hour_of_usec(t), 17486 * 24 + 22);

    /* The epoch and either side of it. */
    CHECK_INT(ival_year_of_usec(0), 0);
    CHECK_INT(ival_month_of_usec(0), 0);
    CHECK_INT(ival_day_of_usec(0), 0);
    CHECK_INT(ival_hour_of_usec(0), 0);
    CHECK_INT(ival_year_of_usec(-1), -1);
    CHECK_INT(ival_month_of_usec(-1), -1);
    CHECK_INT(ival_day_of_usec(-1), -1);
    CHECK_INT(ival_hour_of_usec(-1), -1);
    CHECK_INT(ival_hour_of_usec(3600000000LL - 1), 0);
    CHECK_INT(ival_hour_of_usec(3600000000LL), 1);
    CHECK_INT(ival_hour_of_usec(-3600000000LL), -1);
    CHECK_INT(ival_hour_of_usec(-3600000000LL - 1), -2);
    /* 1969-12-31T23:00:00.999999: hour -1 by floor division (Java's
     * DateTimeUtil carries its +1 micro into the nanos only and gets -2
     * for values one micro short of a whole second like this). */
    CHECK_INT(ival_hour_of_usec(-3599000001LL), -1);
    CHECK_INT(ival_day_of_usec(-SL_USEC_PER_DAY), -1);
    CHECK_INT(ival_day_of_usec(-SL_USEC_PER_DAY - 1), -2);
    CHECK_INT(ival_year_of_usec(ts("1969-01-01T00:00:00")), -1);
    CHECK_INT(ival_year_of_usec(ts("1968-12-31T23:59:59.999999")), -2);
    CHECK_INT(ival_month_of_usec(ts("1969-12-01T00:00:00")), -1);
    CHECK_INT(ival_month_of_usec(ts("1969-11-30T23:59:59.999999")), -2);
    CHECK_INT(ival_year_of_usec(ts("0001-01-01T00:00:00")), -1969);
    CHECK_INT(ival_year_of_usec(ts("9999-12-31T23:59:59.999999")), 8029);
}

TEST(truncate_numbers)
{
    CHECK_INT(ival_truncate_long(1, 10), 0);
    CHECK_INT(ival_truncate_long(0, 10), 0);
    CHECK_INT(ival_truncate_long(10, 10), 10);
    CHECK_INT(ival_truncate_long(19, 10), 10);
    CHECK_INT(ival_truncate_long(-1, 10), -10);
    CHECK_INT(ival_truncate_long(-10, 10), -10);
    CHECK_INT(ival_truncate_long(-11, 10), -20);
    CHECK_INT(ival_truncate_long(22, 7), 21);
    CHECK_INT(ival_truncate_long(5, 1), 5);
    CHECK_INT(ival_truncate_long(INT64_MAX, 10), INT64_MAX - 7);
    /* Java's longs wrap here; so do ours, without undefined behaviour. */
    CHECK_INT(ival_truncate_long(INT64_MIN, 10), INT64_MAX - 1);

    CHECK(ival_truncate_decimal(1065, 50) == 1050); /* 10.65 -> 10.50 */
    CHECK(ival_truncate_decimal(-1, 10) == -10);
    CHECK(ival_truncate_decimal(-1065, 50) == -1100);
    __int128 big = (__int128)1 << 100;

    CHECK(ival_truncate_decimal(big + 3, 4) == big);
}

TEST(truncate_strings)
{
    CHECK_INT(ival_truncate_string("iceberg", 7, 4), 4);
    CHECK_INT(ival_truncate_string("iceberg", 7, 10), 7);
    CHECK_INT(ival_truncate_string("", 0, 3), 0);
    CHECK_INT(ival_truncate_string("\xe6\xb5\x8b\xe8\xaf\x95", 6, 1), 3); /* 测试 */
    CHECK_INT(ival_truncate_string("\xe6\xb5\x8b\xe8\xaf\x95", 6, 6), 6);
    CHECK_INT(ival_truncate_string("a\xf0\x9f\x98\x80"
                                   "b",
                                   6, 2),
              5); /* a😀b */
    CHECK_INT(ival_truncate_string("\xc3\xa9\xc3\xa9", 4, 1), 2);
}

TEST(transform_parse_and_name)
{
    static const char *good[] = {
        "identity",   "year",        "month", "day",       "hour",
        "bucket[16]", "truncate[4]", "void",  "bucket[1]", "truncate[2147483647]"};
    struct ival_transform t;
    struct sl_diag d;
    char name[24];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sl_diag_init(&d);
        CHECK_INT(ival_transform_parse(good[i], &t, &d), 0);
        ival_transform_name(t, name, sizeof(name));
        CHECK_STR(name, good[i]);
    }
    CHECK_INT(ival_transform_parse("bucket[16]", &t, NULL), 0);
    CHECK_INT(t.kind, IVAL_BUCKET);
    CHECK_INT(t.param, 16);
    CHECK_INT(ival_transform_parse("truncate[4]", &t, NULL), 0);
    CHECK_INT(t.kind, IVAL_TRUNCATE_T);
    CHECK_INT(t.param, 4);
    CHECK_INT(ival_transform_parse("Day", &t, NULL), 0);
    CHECK_INT(t.kind, IVAL_DAY);

    sl_diag_init(&d);
    CHECK_INT(ival_transform_parse("days", &t, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "'days'");
    static const char *bad[] = {
        "",          "bucket",     "bucket[]",    "bucket[0]", "bucket[-1]",           "bucket[+3]",
        "bucket[x]", "bucket[16",  "bucket[16]x", "day[3]",    "truncate[2147483648]", "identity ",
        " identity", "bucket[ 4]", "hours"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sl_diag_init(&d);
        CHECK_INT(ival_transform_parse(bad[i], &t, &d), SL_ERR_INPUT);
        CHECK(d.msg[0] != '\0');
    }
}

TEST(transform_applies)
{
    struct ival_transform id = {IVAL_IDENTITY, 0, NULL}, year = {IVAL_YEAR, 0, NULL},
                          month = {IVAL_MONTH, 0, NULL}, day = {IVAL_DAY, 0, NULL},
                          hour = {IVAL_HOUR, 0, NULL}, bucket = {IVAL_BUCKET, 8, NULL},
                          trunc = {IVAL_TRUNCATE_T, 4, NULL}, none = {IVAL_VOID, 0, NULL},
                          bucket0 = {IVAL_BUCKET, 0, NULL};
    struct sl_type all[] = {
        T_STRING, T_INT64, T_DOUBLE, T_BOOL, T_DATE, T_TS, {SL_TYPE_DECIMAL, 12, 2}};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        enum sl_type_id k = all[i].id;

        CHECK(ival_transform_applies(id, all[i]));
        CHECK(ival_transform_applies(none, all[i]));
        CHECK(ival_transform_applies(year, all[i]) ==
              (k == SL_TYPE_DATE || k == SL_TYPE_TIMESTAMP));
        CHECK(ival_transform_applies(month, all[i]) ==
              (k == SL_TYPE_DATE || k == SL_TYPE_TIMESTAMP));
        CHECK(ival_transform_applies(day, all[i]) == (k == SL_TYPE_DATE || k == SL_TYPE_TIMESTAMP));
        CHECK(ival_transform_applies(hour, all[i]) == (k == SL_TYPE_TIMESTAMP));
        CHECK(ival_transform_applies(bucket, all[i]) == (k != SL_TYPE_DOUBLE && k != SL_TYPE_BOOL));
        CHECK(ival_transform_applies(trunc, all[i]) ==
              (k == SL_TYPE_STRING || k == SL_TYPE_INT64 || k == SL_TYPE_DECIMAL));
        CHECK(!ival_transform_applies(bucket0, all[i]));
    }
}

/* ---- type names -------------------------------------------------------- */

TEST(type_names)
{
    char s[24];

    ival_type_name(T_STRING, s, sizeof(s));
    CHECK_STR(s, "string");
    ival_type_name(T_INT64, s, sizeof(s));
    CHECK_STR(s, "long");
    ival_type_name(T_DOUBLE, s, sizeof(s));
    CHECK_STR(s, "double");
    ival_type_name(T_BOOL, s, sizeof(s));
    CHECK_STR(s, "boolean");
    ival_type_name(T_DATE, s, sizeof(s));
    CHECK_STR(s, "date");
    ival_type_name(T_TS, s, sizeof(s));
    CHECK_STR(s, "timestamptz");
    ival_type_name(dec(12, 2), s, sizeof(s));
    CHECK_STR(s, "decimal(12,2)");
    ival_type_name(dec(38, 0), s, sizeof(s));
    CHECK_STR(s, "decimal(38,0)");
}

/* ---- bounds ------------------------------------------------------------ */

TEST(long_bounds)
{
    CHECK_STR(LO(T_INT64, "1"), "0100000000000000");
    CHECK_STR(HI(T_INT64, "1"), "0100000000000000");
    CHECK_STR(LO(T_INT64, "-1"), "ffffffffffffffff");
    CHECK_STR(LO(T_INT64, "258"), "0201000000000000");
    CHECK_STR(LO(T_INT64, "9223372036854775807"), "ffffffffffffff7f");
    CHECK_STR(LO(T_INT64, "-9223372036854775808"), "0000000000000080");
    CHECK_STR(LO(T_INT64, "9223372036854775808"), "rc=-20001");
    CHECK_STR(LO(T_INT64, "1.5"), "rc=-20001");
    CHECK_STR(LO(T_INT64, ""), "rc=-20001");
    CHECK_STR(LO(T_INT64, " 1"), "rc=-20001");
}

TEST(double_bounds)
{
    CHECK_STR(LO(T_DOUBLE, "2.5"), "0000000000000440");
    CHECK_STR(LO(T_DOUBLE, "-2.5"), "00000000000004c0");
    CHECK_STR(LO(T_DOUBLE, "1"), "000000000000f03f");
    CHECK_STR(LO(T_DOUBLE, "1e+20"), "408cb5781daf1544");
    CHECK_STR(LO(T_DOUBLE, "1E20"), "408cb5781daf1544");
    CHECK_STR(LO(T_DOUBLE, "0.1"), "9a9999999999b93f");
    /* -0.0 is a bound of its own; zeros widen so that the engine, which
     * calls them equal, cannot hide the other one behind its min or max. */
    CHECK_STR(LO(T_DOUBLE, "-0.0"), "0000000000000080");
    CHECK_STR(LO(T_DOUBLE, "0.0"), "0000000000000080");
    CHECK_STR(LO(T_DOUBLE, "0"), "0000000000000080");
    CHECK_STR(HI(T_DOUBLE, "0.0"), "0000000000000000");
    CHECK_STR(HI(T_DOUBLE, "-0.0"), "0000000000000000");
    /* NaN is never a bound; the infinities are. */
    CHECK_STR(LO(T_DOUBLE, "nan"), "rc=-20002");
    CHECK_STR(HI(T_DOUBLE, "NaN"), "rc=-20002");
    CHECK_STR(HI(T_DOUBLE, "-nan"), "rc=-20002");
    CHECK_STR(HI(T_DOUBLE, "inf"), "000000000000f07f");
    CHECK_STR(HI(T_DOUBLE, "Infinity"), "000000000000f07f");
    CHECK_STR(LO(T_DOUBLE, "-inf"), "000000000000f0ff");
    CHECK_STR(LO(T_DOUBLE, "1e400"), "rc=-20001");
    CHECK_STR(LO(T_DOUBLE, "abc"), "rc=-20001");
    CHECK_STR(LO(T_DOUBLE, ""), "rc=-20001");
}

TEST(nan_leaves_diag_clean)
{
    uint8_t out[IVAL_MAX_BOUND];
    size_t len;
    struct sl_diag d;

    sl_diag_init(&d);
    CHECK_INT(ival_bound(T_DOUBLE, "nan", 3, true, out, &len, &d), SL_ERR_NOTFOUND);
    CHECK_INT(d.code, 0);
    CHECK_INT(ival_bound(T_DOUBLE, "x\x01y", 3, true, out, &len, &d), SL_ERR_INPUT);
    CHECK_INT(d.code, SL_ERR_INPUT);
    CHECK_HAS(d.msg, "cannot read statistics value 'x?y' as an Iceberg double bound");
}

TEST(bool_bounds)
{
    CHECK_STR(LO(T_BOOL, "true"), "01");
    CHECK_STR(HI(T_BOOL, "false"), "00");
    CHECK_STR(HI(T_BOOL, "TRUE"), "01");
    CHECK_STR(HI(T_BOOL, "1"), "rc=-20001");
}

TEST(date_bounds)
{
    CHECK_STR(LO(T_DATE, "1970-01-01"), "00000000");
    CHECK_STR(LO(T_DATE, "2026-01-01"), "e64f0000"); /* 20454 */
    CHECK_STR(LO(T_DATE, "2017-11-16"), "4e440000"); /* 17486 */
    CHECK_STR(LO(T_DATE, "1969-12-31"), "ffffffff");
    CHECK_STR(LO(T_DATE, "0001-01-01"), "c606f5ff"); /* -719162 */
    CHECK_STR(HI(T_DATE, "infinity"), "rc=-20002");
    CHECK_STR(LO(T_DATE, "-infinity"), "rc=-20002");
    CHECK_STR(LO(T_DATE, "-0001-01-01"), "rc=-20001");
    CHECK_STR(LO(T_DATE, "10000-01-01"), "rc=-20001");
    CHECK_STR(LO(T_DATE, "0044-03-15 (BC)"), "rc=-20001");
    CHECK_STR(LO(T_DATE, "2026-02-30"), "rc=-20001");
    CHECK_STR(LO(T_DATE, "2026-01-01 00:00:00"), "rc=-20001");
}

TEST(timestamp_bounds)
{
    uint8_t want[8];
    int64_t us = ts("2026-01-02T03:04:05.123456Z");

    for (int i = 0; i < 8; i++)
        want[i] = (uint8_t)((uint64_t)us >> (8 * i));
    CHECK_STR(LO(T_TS, "2026-01-02 03:04:05.123456+00"), hex(want, 8));
    CHECK_STR(HI(T_TS, "2026-01-02 03:04:05.123456+00"), hex(want, 8));
    CHECK_STR(LO(T_TS, "2026-01-02T03:04:05.123456Z"), hex(want, 8));
    CHECK_STR(LO(T_TS, "2026-01-02 04:04:05.123456+01"), hex(want, 8));
    CHECK_STR(LO(T_TS, "2026-01-02 03:04:05.123456789+00"), hex(want, 8));
    CHECK_STR(LO(T_TS, "1970-01-01 00:00:00+00"), "0000000000000000");
    CHECK_STR(LO(T_TS, "1970-01-01 00:00:00.000001+00"), "0100000000000000");
    CHECK_STR(LO(T_TS, "1969-12-31 23:59:59.999999+00"), "ffffffffffffffff");
    CHECK_STR(LO(T_TS, "1970-01-01 00:00:01+00"), "40420f0000000000");
    CHECK_STR(LO(T_TS, "1970-01-01 00:00:00.5+00"), "20a1070000000000");
    CHECK_STR(LO(T_TS, "0001-01-01 00:00:00+00"), "0040d400014023ff"); /* -62135596800000000 */
    CHECK_STR(HI(T_TS, "infinity"), "rc=-20002");
    CHECK_STR(LO(T_TS, "-infinity"), "rc=-20002");
    CHECK_STR(LO(T_TS, "10000-01-01 00:00:00+00"), "rc=-20001");
    CHECK_STR(LO(T_TS, "0001-01-01 00:00:00+00 (BC)"), "rc=-20001");
    CHECK_STR(LO(T_TS, "2026-01-02 24:00:00+00"), "rc=-20001");
    CHECK_STR(LO(T_TS, "2026-01-02 03:04:05+"), "rc=-20001");
}

TEST(decimal_bounds)
{
    CHECK_STR(LO(dec(12, 2), "12.50"), "04e2");
    CHECK_STR(LO(dec(12, 2), "0.00"), "00");
    CHECK_STR(LO(dec(12, 2), "-0.01"), "ff");
    CHECK_STR(LO(dec(12, 2), "1.27"), "7f");
    CHECK_STR(LO(dec(12, 2), "1.28"), "0080");
    CHECK_STR(LO(dec(12, 2), "-1.28"), "80");
    CHECK_STR(LO(dec(12, 2), "-1.29"), "ff7f");
    CHECK_STR(LO(dec(12, 2), "14.20"), "058c");
    CHECK_STR(LO(dec(12, 2), "9999999999.99"), "00e8d4a50fff");
    CHECK_STR(LO(dec(12, 2), "-9999999999.99"), "ff172b5af001");
    CHECK_STR(LO(dec(4, 2), "99.99"), "270f");
    CHECK_STR(LO(dec(9, 0), "-2147483648"), "rc=-20001"); /* 10 digits > 9 */
    CHECK_STR(LO(dec(10, 0), "-2147483648"), "80000000");
    CHECK_STR(LO(dec(18, 6), "-123456789012.345678"), "fe4964b459cf0cb2");
    CHECK_STR(LO(dec(38, 0), "99999999999999999999999999999999999999"),
              "4b3b4ca85a86c47a098a223fffffffff");
    CHECK_STR(LO(dec(38, 0), "-99999999999999999999999999999999999999"),
              "b4c4b357a5793b85f675ddc000000001");
    CHECK_STR(LO(dec(38, 10), "1"), "02540be400");
    CHECK_STR(LO(dec(12, 2), "1.5e1"), "05dc");
    CHECK_STR(LO(dec(12, 2), "12.505"), "rc=-20001");
    CHECK_STR(LO(dec(12, 2), "12345678901.00"), "rc=-20001");
    CHECK_STR(LO(dec(12, 2), "x"), "rc=-20001");
}

/* n copies of the UTF-8 text unit into out, then tail. */
static size_t
repeat(char *out, const char *unit, int n, const char *tail)
{
    size_t len = 0, u = strlen(unit);

    for (int i = 0; i < n; i++) {
        memcpy(out + len, unit, u);
        len += u;
    }
    memcpy(out + len, tail, strlen(tail) + 1);
    return len + strlen(tail);
}

TEST(string_bounds_short)
{
    CHECK_STR(LO(T_STRING, "x"), "78");
    CHECK_STR(HI(T_STRING, "x"), "78");
    CHECK_STR(LO(T_STRING, ""), "");
    CHECK_STR(HI(T_STRING, ""), "");
    /* Exactly 16 code points: kept whole, even when they cannot grow. */
    CHECK_STR(HI(T_STRING, "abcdefghijklmnop"), "6162636465666768696a6b6c6d6e6f70");
    char s[128];

    repeat(s, "\xf4\x8f\xbf\xbf", 16, "");
    CHECK_STR(HI(T_STRING, s), hex((const uint8_t *)s, 64));
    CHECK_STR(LO(T_STRING, "\xff"), "rc=-20001");
    CHECK_STR(HI(T_STRING, "a\xed\xa0\x80"), "rc=-20001"); /* a surrogate */
    CHECK_STR(LO(T_STRING, "\xc0\xaf"), "rc=-20001");      /* overlong */
}

TEST(string_bounds_truncated)
{
    char s[256], want[256];
    size_t n, w;

    CHECK_STR(LO(T_STRING, "abcdefghijklmnopq"), "6162636465666768696a6b6c6d6e6f70");
    CHECK_STR(HI(T_STRING, "abcdefghijklmnopq"), "6162636465666768696a6b6c6d6e6f71");
    /* 20 x U+00E9: lower is 16 of them, upper 15 and U+00EA. */
    n = repeat(s, "\xc3\xa9", 20, "");
    w = repeat(want, "\xc3\xa9", 16, "");
    CHECK_STR(bound_hex(T_STRING, s, n, false), hex((const uint8_t *)want, w));
    w = repeat(want, "\xc3\xa9", 15, "\xc3\xaa");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    /* U+007F -> U+0080 grows a byte; U+07FF -> U+0800 and U+FFFF ->
     * U+10000 too. */
    n = repeat(s, "a", 15,
               "\x7f"
               "zz");
    w = repeat(want, "a", 15, "\xc2\x80");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    n = repeat(s, "\xdf\xbf", 16, "z");
    w = repeat(want, "\xdf\xbf", 15, "\xe0\xa0\x80");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    n = repeat(s, "\xef\xbf\xbf", 16, "z");
    w = repeat(want, "\xef\xbf\xbf", 15, "\xf0\x90\x80\x80");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    /* 16 four-byte code points fill IVAL_MAX_BOUND exactly. */
    n = repeat(s, "\xf0\x9f\x98\x80", 20, "");
    w = repeat(want, "\xf0\x9f\x98\x80", 15, "\xf0\x9f\x98\x81");
    CHECK_INT(w, 64);
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    w = repeat(want, "\xf0\x9f\x98\x80", 16, "");
    CHECK_STR(bound_hex(T_STRING, s, n, false), hex((const uint8_t *)want, w));
}

TEST(string_upper_carries)
{
    char s[256], want[256];
    size_t n, w;

    /* U+10FFFF cannot grow: dropped, and the one before it grows. */
    n = repeat(s, "a", 14,
               "b\xf4\x8f\xbf\xbf"
               "c");
    w = repeat(want, "a", 14, "c");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    n = repeat(s, "\xf4\x8f\xbf\xbf", 16, "a");
    n = (size_t)(memmove(s + 1, s, n + 1), s[0] = 'a', n + 1); /* a + 16 x max + a */
    CHECK_STR(bound_hex(T_STRING, s, n, true), "62");
    /* Past the surrogates: U+D7FF goes to U+E000. */
    n = repeat(s, "x", 15,
               "\xed\x9f\xbf"
               "y");
    w = repeat(want, "x", 15, "\xee\x80\x80");
    CHECK_STR(bound_hex(T_STRING, s, n, true), hex((const uint8_t *)want, w));
    /* Nothing can grow: no upper bound, and no words in the diag. */
    n = repeat(s, "\xf4\x8f\xbf\xbf", 17, "");
    CHECK_STR(bound_hex(T_STRING, s, n, true), "rc=-20002");
    /* The lower bound always exists. */
    w = repeat(want, "\xf4\x8f\xbf\xbf", 16, "");
    CHECK_STR(bound_hex(T_STRING, s, n, false), hex((const uint8_t *)want, w));
}

/* ---- bounds back to text ----------------------------------------------- */

/* text -> bound -> text must give back want, and want -> bound the same
 * bytes again. */
static int
round_trip(struct sl_type t, const char *text, const char *want, bool upper)
{
    uint8_t b1[IVAL_MAX_BOUND], b2[IVAL_MAX_BOUND];
    size_t l1, l2;
    char out[80];

    if (ival_bound(t, text, strlen(text), upper, b1, &l1, NULL) != 0 ||
        ival_bound_text(t, b1, l1, out, sizeof(out)) != 0 || strcmp(out, want) != 0 ||
        ival_bound(t, out, strlen(out), upper, b2, &l2, NULL) != 0 || l1 != l2 ||
        memcmp(b1, b2, l1) != 0) {
        fprintf(stderr, "round trip of '%s': got '%s'\n", text, out);
        return -1;
    }
    return 0;
}

TEST(bound_text_round_trips)
{
    CHECK_INT(round_trip(T_INT64, "1", "1", false), 0);
    CHECK_INT(round_trip(T_INT64, "-9223372036854775808", "-9223372036854775808", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "2.5", "2.5", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "1", "1.0", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "0.1", "0.1", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "1e+20", "1e+20", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "-1.7976931348623157e+308", "-1.7976931348623157e+308", false),
              0);
    CHECK_INT(round_trip(T_DOUBLE, "5e-324", "5e-324", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "-0.0", "-0.0", false), 0);
    CHECK_INT(round_trip(T_DOUBLE, "0.0", "0.0", true), 0);
    CHECK_INT(round_trip(T_DOUBLE, "-inf", "-inf", false), 0);
    CHECK_INT(round_trip(T_BOOL, "true", "true", false), 0);
    CHECK_INT(round_trip(T_DATE, "2026-01-01", "2026-01-01", false), 0);
    CHECK_INT(round_trip(T_DATE, "1969-12-31", "1969-12-31", false), 0);
    CHECK_INT(round_trip(T_DATE, "0001-01-01", "0001-01-01", false), 0);
    CHECK_INT(
        round_trip(T_TS, "2026-01-02 03:04:05.123456+00", "2026-01-02 03:04:05.123456+00", false),
        0);
    CHECK_INT(round_trip(T_TS, "2026-01-02 03:04:05+00", "2026-01-02 03:04:05+00", false), 0);
    CHECK_INT(round_trip(T_TS, "2026-01-02 03:04:05.5+00", "2026-01-02 03:04:05.5+00", false), 0);
    CHECK_INT(round_trip(T_TS, "2026-01-02T03:04:05.120Z", "2026-01-02 03:04:05.12+00", false), 0);
    CHECK_INT(
        round_trip(T_TS, "1969-12-31 23:59:59.999999+00", "1969-12-31 23:59:59.999999+00", false),
        0);
    CHECK_INT(round_trip(T_TS, "0001-01-01 00:00:00+00", "0001-01-01 00:00:00+00", false), 0);
    CHECK_INT(
        round_trip(T_TS, "9999-12-31 23:59:59.999999+00", "9999-12-31 23:59:59.999999+00", true),
        0);
    CHECK_INT(round_trip(dec(12, 2), "12.50", "12.50", false), 0);
    CHECK_INT(round_trip(dec(12, 2), "-0.01", "-0.01", false), 0);
    CHECK_INT(round_trip(dec(12, 2), "0.00", "0.00", false), 0);
    CHECK_INT(round_trip(dec(38, 0), "-99999999999999999999999999999999999999",
                         "-99999999999999999999999999999999999999", false),
              0);
    CHECK_INT(round_trip(dec(5, 5), "0.12345", "0.12345", false), 0);
    CHECK_INT(round_trip(T_STRING, "caf\xc3\xa9", "caf\xc3\xa9", true), 0);
    CHECK_INT(round_trip(T_STRING, "abcdefghijklmnopq", "abcdefghijklmnoq", true), 0);
    CHECK_INT(round_trip(T_STRING, "abcdefghijklmnopq", "abcdefghijklmnop", false), 0);
}

TEST(bound_text_rejects)
{
    static const uint8_t b[17] = {0};
    char out[80];

    CHECK_INT(ival_bound_text(T_INT64, b, 7, out, sizeof(out)), SL_ERR_INPUT);
    CHECK_INT(ival_bound_text(T_DATE, b, 8, out, sizeof(out)), SL_ERR_INPUT);
    CHECK_INT(ival_bound_text(dec(12, 2), b, 0, out, sizeof(out)), SL_ERR_INPUT);
    CHECK_INT(ival_bound_text(dec(12, 2), b, 17, out, sizeof(out)), SL_ERR_INPUT);
    CHECK_INT(ival_bound_text(T_BOOL, (const uint8_t *)"\x02", 1, out, sizeof(out)), SL_ERR_INPUT);
    CHECK_INT(ival_bound_text(T_INT64, b, 8, out, 1), SL_ERR_LIMIT);
    CHECK_INT(ival_bound_text(T_STRING, b, 17, out, 17), SL_ERR_LIMIT);
    CHECK_INT(ival_bound_text(T_INT64, b, 8, out, 2), 0);
    CHECK_STR(out, "0");
    /* Far dates print with their sign rather than wrap. */
    static const uint8_t far[4] = {0x00, 0x00, 0x00, 0x80};

    CHECK_INT(ival_bound_text(T_DATE, far, 4, out, sizeof(out)), 0);
    CHECK(out[0] == '-');
}

#define AT_2017_11_16_22_31_08 1510871468000000LL

/* Partition values of curated tables, their texts and back, across 1970. */
TEST(partition_texts)
{
    static const struct {
        enum ival_transform_kind kind;
        int64_t usec;
        const char *text;
    } cases[] = {
        {IVAL_DAY, AT_2017_11_16_22_31_08, "2017-11-16"},
        {IVAL_MONTH, AT_2017_11_16_22_31_08, "2017-11"},
        {IVAL_YEAR, AT_2017_11_16_22_31_08, "2017"},
        {IVAL_HOUR, AT_2017_11_16_22_31_08, "2017-11-16-22"},
        {IVAL_VOID, AT_2017_11_16_22_31_08, ""},
        {IVAL_DAY, -1, "1969-12-31"},
        {IVAL_MONTH, -1, "1969-12"},
        {IVAL_YEAR, -1, "1969"},
        {IVAL_HOUR, -1, "1969-12-31-23"},
        {IVAL_MONTH, 0, "1970-01"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ival_transform t = {cases[i].kind, 0, NULL};
        int32_t v = ival_partition_of(t, false, cases[i].usec), back = -7;
        char out[32];

        ival_partition_text(t, v, out, sizeof(out));
        CHECK_STR(out, cases[i].text);
        CHECK_INT(ival_partition_parse(t, out, &back), 0);
        CHECK_INT(back, v);
        /* The text alone tells which partitioning it is of. */
        struct ival_transform which = {IVAL_BUCKET, 3, NULL};

        back = -7;
        CHECK_INT(ival_partition_which(out, &which, &back), 0);
        CHECK_INT(which.kind, cases[i].kind);
        CHECK_INT(which.param, 0);
        CHECK_INT(back, v);
    }
    /* A date event time: days in, the same partitions. */
    struct ival_transform month = {IVAL_MONTH, 0, NULL}, day = {IVAL_DAY, 0, NULL};
    int32_t v;

    CHECK_INT(ival_partition_of(month, true, 17486), ival_partition_of(month, false,
                                                                       17486LL * 86400000000LL));
    CHECK_INT(ival_partition_parse(month, "2017-13", &v), SL_ERR_INPUT);
    CHECK_INT(ival_partition_parse(month, "2017-1", &v), SL_ERR_INPUT);
    CHECK_INT(ival_partition_parse(day, "2017-11", &v), SL_ERR_INPUT);
    {
        struct ival_transform w;

        CHECK_INT(ival_partition_which("2017-13", &w, &v), SL_ERR_INPUT);
        CHECK_INT(ival_partition_which("2017-11-16-24", &w, &v), SL_ERR_INPUT);
        CHECK_INT(ival_partition_which("x", &w, &v), SL_ERR_INPUT);
    }
    CHECK_STR(ival_partition_dir(month), "month");
    CHECK(ival_partition_dir((struct ival_transform){IVAL_VOID, 0, NULL}) == NULL);
}

TEST(bucket_partition_texts)
{
    struct ival_transform b16 = {IVAL_BUCKET, 16, "customer_id"}, w;
    struct ival_transform b32 = {IVAL_BUCKET, 32, "customer_id"}, other = {IVAL_BUCKET, 16, "c"};
    struct ival_transform day = {IVAL_DAY, 0, NULL};
    char text[IVAL_PARTITION_TEXT], dir[IVAL_PARTITION_TEXT], val[IVAL_PARTITION_TEXT];
    int32_t v = -7;

    ival_partition_text(b16, 7, text, sizeof(text));
    CHECK_STR(text, "b16-7-customer_id");
    CHECK_INT(ival_partition_parse(b16, text, &v), 0);
    CHECK_INT(v, 7);
    /* Another N, another column, another transform: not theirs. */
    CHECK_INT(ival_partition_parse(b32, text, &v), SL_ERR_INPUT);
    CHECK_INT(ival_partition_parse(other, text, &v), SL_ERR_INPUT);
    CHECK_INT(ival_partition_parse(day, text, &v), SL_ERR_INPUT);
    CHECK_INT(ival_partition_parse(b16, "2017-11-16", &v), SL_ERR_INPUT);
    /* The text alone says N and the column. */
    CHECK_INT(ival_partition_which(text, &w, &v), 0);
    CHECK_INT(w.kind, IVAL_BUCKET);
    CHECK_INT(w.param, 16);
    CHECK_STR(w.column, "customer_id");
    CHECK(ival_transform_same(w, b16));
    CHECK(!ival_transform_same(w, b32));
    CHECK(!ival_transform_same(w, other));
    CHECK(!ival_transform_same(day, b16));
    CHECK(ival_transform_same(day, (struct ival_transform){IVAL_DAY, 0, NULL}));
    ival_partition_text(b32, 31, text, sizeof(text));
    CHECK_STR(text, "b32-31-customer_id");
    CHECK_INT(ival_partition_which(text, &w, &v), 0);
    CHECK_INT(v, 31);
    CHECK_INT(w.param, 32);
    ival_partition_text((struct ival_transform){IVAL_BUCKET, 1000000, "_x9"}, 999999, text,
                        sizeof(text));
    CHECK_STR(text, "b1000000-999999-_x9");
    CHECK_INT(ival_partition_which(text, &w, &v), 0);
    CHECK_INT(v, 999999);
    /* Not bucket texts: a value out of range, leading zeros, no column,
     * a column that is no name. */
    static const char *const bad[] = {"b16-16-c", "b0-0-c", "b16-07-c", "b016-7-c", "b16-7-",
                                      "b16-7", "b16--7-c", "b-1-0-c", "b16-7-9c", "b16-7-c/d",
                                      "b16-7-c.d", "B16-7-c", "b16-7-c-d", "b99999999999-0-c",
                                      "b2147483648-0-c"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(ival_partition_which(bad[i], &w, &v), SL_ERR_INPUT);
        CHECK_INT(ival_partition_parse(other, bad[i], &v), SL_ERR_INPUT);
    }
    /* Folders as Java's writers name them: the column's, the number. */
    CHECK(ival_partition_folder(b16, 7, dir, val));
    CHECK_STR(dir, "customer_id_bucket");
    CHECK_STR(val, "7");
    CHECK(ival_partition_folder(day, 17486, dir, val));
    CHECK_STR(dir, "dt");
    CHECK_STR(val, "2017-11-16");
    CHECK(!ival_partition_folder((struct ival_transform){IVAL_VOID, 0, NULL}, 0, dir, val));
    CHECK(ival_partition_dir(b16) == NULL);
}
