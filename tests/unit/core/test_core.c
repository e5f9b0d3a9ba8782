/*
 * test_core.c - core helpers: time, numbers, UTF-8, YAML, config, buffers.
 */
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/conf.h"
#include "core/hash.h"
#include "core/num.h"
#include "core/time.h"
#include "core/type.h"
#include "core/utf8.h"
#include "core/yaml.h"
#include "test.h"

#define S(x) x, strlen(x)

TEST(civil_round_trip)
{
    for (int64_t d = -800000; d < 800000; d += 37) {
        int y;
        unsigned m, dd;

        sl_civil_from_days(d, &y, &m, &dd);
        CHECK_INT(sl_days_from_civil(y, m, dd), d);
    }
    CHECK_INT(sl_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(sl_days_from_civil(2000, 3, 1), 11017);
}

TEST(parse_dates)
{
    int32_t d;

    CHECK_INT(sl_parse_date(S("2026-10-03"), &d), 0);
    CHECK_INT(d, 20729);
    CHECK_INT(sl_parse_date(S("2024-02-29"), &d), 0);
    CHECK(sl_parse_date(S("2026-02-29"), &d) < 0);
    CHECK(sl_parse_date(S("2026-13-01"), &d) < 0);
    CHECK(sl_parse_date(S("2026-1-01"), &d) < 0);
    CHECK(sl_parse_date(S("2026-10-03 "), &d) < 0);
    CHECK(sl_parse_date(S("0000-01-01"), &d) < 0);
    CHECK(sl_parse_date(S(""), &d) < 0);
}

TEST(parse_timestamps)
{
    int64_t t;
    char out[32];

    CHECK_INT(sl_parse_timestamp(S("2026-10-03T12:34:56Z"), &t), 0);
    sl_format_timestamp(t, out);
    CHECK_STR(out, "2026-10-03T12:34:56.000000Z");
    CHECK_INT(sl_parse_timestamp(S("2026-10-03 12:34:56.123456789+02:00"), &t), 0);
    sl_format_timestamp(t, out);
    CHECK_STR(out, "2026-10-03T10:34:56.123456Z");
    CHECK_INT(sl_parse_timestamp(S("2026-10-03T00:30-0130"), &t), 0);
    sl_format_timestamp(t, out);
    CHECK_STR(out, "2026-10-03T02:00:00.000000Z");
    CHECK_INT(sl_parse_timestamp(S("2026-10-03"), &t), 0);
    CHECK_INT(t % SL_USEC_PER_DAY, 0);
    CHECK_INT(sl_parse_timestamp(S("1969-12-31T23:59:59.5Z"), &t), 0);
    CHECK_INT(t, -500000);
    CHECK_INT(sl_usec_to_day(t), -1);
    CHECK(sl_parse_timestamp(S("2026-10-03T24:00:00Z"), &t) < 0);
    CHECK(sl_parse_timestamp(S("2026-10-03T12:60:00Z"), &t) < 0);
    CHECK(sl_parse_timestamp(S("2026-10-03T12:00:00X"), &t) < 0);
    CHECK(sl_parse_timestamp(S("2026-10-03T12:00:00."), &t) < 0);
    CHECK(sl_parse_timestamp(S("2026-10-03T12"), &t) < 0);
    CHECK(sl_parse_timestamp(S("1790812800"), &t) < 0);
}

TEST(calendar_and_aws_times)
{
    char out[32];

    CHECK(sl_is_leap(2024) && sl_is_leap(2000) && !sl_is_leap(1900) && !sl_is_leap(2026));
    CHECK_INT(sl_days_in_month(2024, 2), 29);
    CHECK_INT(sl_days_in_month(2100, 2), 28);
    CHECK_INT(sl_days_in_month(2026, 4), 30);
    CHECK_INT(sl_days_in_month(2026, 12), 31);
    sl_format_iso_ms(1764786045123LL, true, out);
    CHECK_STR(out, "2025-12-03T18:20:45.123Z");
    sl_format_iso_ms(1764786045123LL, false, out);
    CHECK_STR(out, "2025-12-03T18:20:45Z");
    sl_format_iso_ms(-1, true, out); /* floor, not truncation, before the epoch */
    CHECK_STR(out, "1969-12-31T23:59:59.999Z");
    sl_format_iso_ms(0, false, out);
    CHECK_STR(out, "1970-01-01T00:00:00Z");
}

TEST(parse_integers)
{
    int64_t v;

    CHECK_INT(sl_parse_i64(S("9223372036854775807"), &v), 0);
    CHECK_INT(v, INT64_MAX);
    CHECK_INT(sl_parse_i64(S("-9223372036854775808"), &v), 0);
    CHECK(v == INT64_MIN);
    CHECK_INT(sl_parse_i64(S("9223372036854775808"), &v), SL_ERR_LIMIT);
    CHECK_INT(sl_parse_i64(S("12a"), &v), SL_ERR_INPUT);
    CHECK_INT(sl_parse_i64(S("-"), &v), SL_ERR_INPUT);
    CHECK_INT(sl_parse_i64(S(""), &v), SL_ERR_INPUT);
}

TEST(parse_decimals_exactly)
{
    __int128 v;
    char out[64];

    CHECK_INT(sl_parse_decimal(S("1520.5"), 12, 2, &v), 0);
    CHECK(v == 152050);
    CHECK_INT(sl_parse_decimal(S("1.50"), 5, 1, &v), 0);
    CHECK(v == 15);
    CHECK_INT(sl_parse_decimal(S("1.55"), 5, 1, &v), SL_ERR_LIMIT);
    CHECK_INT(sl_parse_decimal(S("1e3"), 6, 2, &v), 0);
    CHECK(v == 100000);
    CHECK_INT(sl_parse_decimal(S("9999.99"), 6, 2, &v), 0);
    CHECK_INT(sl_parse_decimal(S("1e4"), 6, 2, &v), SL_ERR_LIMIT);
    CHECK_INT(sl_parse_decimal(S("-0.05"), 4, 2, &v), 0);
    CHECK(v == -5);
    CHECK_INT(sl_parse_decimal(S("abc"), 4, 2, &v), SL_ERR_INPUT);
    CHECK_INT(sl_parse_decimal(S("12345678901234567890123456.1234"), 30, 4, &v), 0);
    sl_format_decimal(v, 4, out);
    CHECK_STR(out, "12345678901234567890123456.1234");
    sl_format_decimal(-5, 2, out);
    CHECK_STR(out, "-0.05");
    /* 18 digits scaled by 10^18 overflow 64 bits: the wide path takes it. */
    CHECK_INT(sl_parse_decimal(S("123456789012345678"), 38, 18, &v), 0);
    sl_format_decimal(v, 18, out);
    CHECK_STR(out, "123456789012345678.000000000000000000");
}

TEST(parse_doubles)
{
    double f;

    CHECK_INT(sl_parse_double(S("-1.5e3"), &f), 0);
    CHECK(f == -1500.0);
    CHECK_INT(sl_parse_double(S("1e999"), &f), SL_ERR_LIMIT);
    CHECK_INT(sl_parse_double(S("NaN"), &f), SL_ERR_INPUT);
    CHECK_INT(sl_parse_double(S("0x10"), &f), SL_ERR_INPUT);
}

TEST(utf8)
{
    size_t bad;

    CHECK(sl_utf8_valid(S("plain ascii, longer than eight bytes"), NULL));
    CHECK(sl_utf8_valid(S("Grüße, Łódź, 東京, 😀"), NULL));
    CHECK(!sl_utf8_valid(S("abc\xC0\xAF"), &bad));
    CHECK_INT(bad, 3);
    CHECK(!sl_utf8_valid(S("\xED\xA0\x80"), NULL));      /* a surrogate */
    CHECK(!sl_utf8_valid(S("\xF4\x90\x80\x80"), NULL));  /* above U+10FFFF */
    CHECK(!sl_utf8_valid(S("\xE2\x82"), NULL));          /* cut short */
    CHECK(!sl_utf8_valid(S("\xFF"), NULL));
}

TEST(types)
{
    struct sl_type t;
    char out[32];

    CHECK_INT(sl_type_parse("decimal(12, 2)", &t), 0);
    CHECK_INT(t.id, SL_TYPE_DECIMAL);
    CHECK_INT(t.precision, 12);
    sl_type_sql(t, out, sizeof(out));
    CHECK_STR(out, "DECIMAL(12,2)");
    CHECK(sl_type_parse("decimal(39,2)", &t) < 0);
    CHECK(sl_type_parse("decimal(5,6)", &t) < 0);
    CHECK(sl_type_parse("varchar", &t) < 0);
    CHECK_INT(sl_type_parse("TIMESTAMP", &t), 0);
    sl_type_sql(t, out, sizeof(out));
    CHECK_STR(out, "TIMESTAMPTZ");
}

TEST(yaml_tree_with_lines)
{
    struct sl_arena a;
    struct sl_yaml *root;
    struct sl_diag d;
    const char *text = "a: 1\nb:\n  - x\n  - {k: v}\nc: \"null\"\nd: ~\n";

    sl_arena_init(&a, 0);
    sl_diag_init(&d);
    CHECK_INT(sl_yaml_parse("t.yaml", text, strlen(text), &a, &root, &d), 0);
    CHECK_INT(root->kind, SL_YAML_MAP);
    CHECK_STR(sl_yaml_get(root, "a")->str, "1");
    CHECK_INT(sl_yaml_get(root, "b")->n, 2);
    CHECK_INT(sl_yaml_get(root, "b")->items[1]->line, 4);
    CHECK(!sl_yaml_is_null(sl_yaml_get(root, "c")));
    CHECK(sl_yaml_is_null(sl_yaml_get(root, "d")));
    sl_arena_release(&a);
}

static void
yaml_error(const char *text, const char *want, int line)
{
    struct sl_arena a;
    struct sl_yaml *root;
    struct sl_diag d;

    sl_arena_init(&a, 0);
    sl_diag_init(&d);
    CHECK_INT(sl_yaml_parse("t.yaml", text, strlen(text), &a, &root, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, want);
    CHECK_STR(d.where, "t.yaml");
    CHECK_INT(d.line, line);
    sl_arena_release(&a);
}

TEST(yaml_refuses)
{
    yaml_error("a: 1\na: 2\n", "duplicate key 'a'", 2);
    yaml_error("a: &x 1\nb: *x\n", "anchors", 1);
    yaml_error("a: [1, 2\nb: 3\n", "invalid YAML", 2);
    yaml_error("a: 1\n---\nb: 2\n", "more than one", 2);
}

struct settings {
    char *name;
    int64_t n;
    int64_t size;
    bool flag;
};

static const struct sl_conf_key keys[] = {
    {"name", SL_CONF_STRING, "x", 0, 0, offsetof(struct settings, name), "a name"},
    {"n", SL_CONF_INT, "3", 1, 10, offsetof(struct settings, n), "a count"},
    {"size", SL_CONF_BYTES, "1MiB", 1, 1LL << 40, offsetof(struct settings, size), "a size"},
    {"flag", SL_CONF_BOOL, "false", 0, 0, offsetof(struct settings, flag), "a flag"},
    {NULL},
};
static const struct sl_conf_section sections[] = {
    {"", keys, 0, "top"},
    {NULL},
};

static int
load(const char *text, struct settings *s, struct sl_diag *d, struct sl_arena *a)
{
    struct sl_yaml *root;

    sl_conf_defaults(sections, s, a);
    if (sl_yaml_parse("c.yaml", text, strlen(text), a, &root, d) < 0)
        return -1;
    return sl_conf_load(sections, s, root, "c.yaml", a, d);
}

TEST(config_tables)
{
    struct sl_arena a;
    struct settings s;
    struct sl_diag d;

    sl_arena_init(&a, 0);
    sl_diag_init(&d);
    CHECK_INT(load("n: 5\nsize: 64KiB\nflag: yes\n", &s, &d, &a), 0);
    CHECK_STR(s.name, "x");
    CHECK_INT(s.n, 5);
    CHECK_INT(s.size, 65536);
    CHECK(s.flag);
    sl_diag_init(&d);
    CHECK(load("n: 11\n", &s, &d, &a) < 0);
    CHECK_HAS(d.msg, "out of range");
    CHECK_INT(d.line, 1);
    sl_diag_init(&d);
    CHECK(load("n: 2\nbogus: 1\n", &s, &d, &a) < 0);
    CHECK_HAS(d.msg, "unknown key 'bogus'");
    CHECK_INT(d.line, 2);
    sl_diag_init(&d);
    CHECK(load("size: lots\n", &s, &d, &a) < 0);
    CHECK_HAS(d.msg, "expected a size");
    sl_arena_release(&a);
}

TEST(buffers_and_escaping)
{
    struct sl_buf b;

    sl_buf_init(&b);
    CHECK_STR(b.data, "");
    sl_buf_add_json_str(&b, "a\"b\\c\n\x01", 7);
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    sl_buf_reset(&b);
    sl_buf_add_sql_str(&b, "it's");
    CHECK_STR(b.data, "'it''s'");
    for (int i = 0; i < 1000; i++)
        sl_buf_addf(&b, "%d", i % 10);
    CHECK_INT(b.len, 1007);
    sl_buf_release(&b);
}

TEST(hashes)
{
    unsigned char d[SL_SHA256_LEN];
    char hex[65];
    struct sl_sha256 h;

    sl_sha256_init(&h);
    sl_sha256_update(&h, "abc", 3);
    sl_sha256_final(&h, d);
    sl_hex(d, sizeof(d), hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sl_hash64("key", 3, 0) == sl_hash64("key", 3, 0));
    CHECK(sl_hash64("key", 3, 0) != sl_hash64("kez", 3, 0));
    CHECK(sl_hash64("key", 3, 0) != sl_hash64("key", 3, 1));
    CHECK(sl_hash64("", 0, 0) != sl_hash64("\0", 1, 0));
}
