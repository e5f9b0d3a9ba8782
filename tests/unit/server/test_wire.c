/*
 * test_wire.c - AWS wire bodies: the JSON and CBOR parsers, accessors,
 * base64, timestamps, the writer.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "server/wire.h"
#include "../../fuzz/wire_check.h"
#include "test.h"

#define S(x) x, strlen(x)

static struct sl_arena arena;
static struct sl_diag diag;

static void
fresh(void)
{
    static bool init;

    if (!init) {
        sl_arena_init(&arena, 4096);
        init = true;
    }
    sl_arena_reset(&arena);
    memset(&diag, 0, sizeof(diag));
}

static int
pj(const char *text, struct wire_value *v)
{
    fresh();
    return wire_parse(WIRE_JSON, text, strlen(text), &arena, v, &diag);
}

/* Hex text to bytes in a static buffer (no spaces). */
static const char *
unhex(const char *h, size_t *n)
{
    static char buf[32768];
    size_t k = strlen(h) / 2;

    for (size_t i = 0; i < k; i++) {
        unsigned x;

        sscanf(h + 2 * i, "%2x", &x);
        buf[i] = (char)x;
    }
    *n = k;
    return buf;
}

static int
pc(const char *hex, struct wire_value *v)
{
    size_t n;
    const char *b = unhex(hex, &n);

    fresh();
    return wire_parse(WIRE_CBOR, b, n, &arena, v, &diag);
}

static bool
is_str(const struct wire_value *v, const char *s)
{
    return v->type == WIRE_STRING && v->u.s.n == strlen(s) && memcmp(v->u.s.p, s, v->u.s.n) == 0;
}

/* ---- JSON parsing ---------------------------------------------------- */

TEST(json_every_type)
{
    struct wire_value v;
    const struct wire_value *x;

    CHECK_INT(pj(" {\"n\":null,\"t\":true,\"f\":false,\"i\":-42,\"big\":9223372036854775807,"
                 "\"min\":-9223372036854775808,\"over\":9223372036854775808,\"fl\":1.5e3,"
                 "\"s\":\"hi\",\"a\":[1,[],{}],\"o\":{\"k\":\"v\"}}\n",
                 &v),
              0);
    CHECK(v.type == WIRE_MAP);
    CHECK_INT(v.u.m.n, 11);
    CHECK(wire_get(&v, "n")->type == WIRE_NULL);
    CHECK(wire_get(&v, "t")->u.b == true);
    CHECK(wire_get(&v, "f")->type == WIRE_BOOL && !wire_get(&v, "f")->u.b);
    CHECK_INT(wire_get(&v, "i")->u.i, -42);
    CHECK_INT(wire_get(&v, "big")->u.i, INT64_MAX);
    CHECK(wire_get(&v, "min")->type == WIRE_INT && wire_get(&v, "min")->u.i == INT64_MIN);
    CHECK(wire_get(&v, "over")->type == WIRE_FLOAT);
    CHECK(wire_get(&v, "over")->u.f == 9223372036854775808.0);
    CHECK(wire_get(&v, "fl")->type == WIRE_FLOAT && wire_get(&v, "fl")->u.f == 1500.0);
    CHECK(wire_str_eq(wire_get(&v, "s"), "hi"));
    x = wire_get(&v, "a");
    CHECK(x->type == WIRE_ARRAY && x->u.a.n == 3);
    CHECK(x->u.a.items[1].type == WIRE_ARRAY && x->u.a.items[1].u.a.n == 0);
    CHECK(x->u.a.items[2].type == WIRE_MAP && x->u.a.items[2].u.m.n == 0);
    CHECK(wire_str_eq(wire_get(wire_get(&v, "o"), "k"), "v"));
    CHECK(wire_get(&v, "missing") == NULL);
    CHECK(wire_get(x, "k") == NULL);
    CHECK(wire_get(NULL, "k") == NULL);
    CHECK_STR(wire_strdup(wire_get(&v, "s"), &arena), "hi");
    CHECK(wire_strdup(wire_get(&v, "i"), &arena) == NULL);
    /* Scalars at the top, and numbers of each form. */
    CHECK_INT(pj("0", &v), 0);
    CHECK(v.type == WIRE_INT && v.u.i == 0);
    CHECK_INT(pj("-0.0", &v), 0);
    CHECK(v.type == WIRE_FLOAT && v.u.f == 0 && signbit(v.u.f));
    CHECK_INT(pj("1E2", &v), 0);
    CHECK(v.type == WIRE_FLOAT && v.u.f == 100);
    CHECK_INT(pj("1e999", &v), 0);
    CHECK(v.type == WIRE_FLOAT && isinf(v.u.f));
    CHECK_INT(pj("-12345678901234567890", &v), 0);
    CHECK(v.type == WIRE_FLOAT && v.u.f == -12345678901234567890.0);
}

TEST(json_strings_point_into_body_unless_escaped)
{
    const char *text = "[\"plain\",\"a\\n\\\"b\\\\\\/\\u00e9\\ud83d\\ude00\",\"\\u0000\",\"日本\"]";
    struct wire_value v;

    CHECK_INT(pj(text, &v), 0);
    CHECK(v.u.a.items[0].u.s.p == text + 2);
    CHECK(is_str(&v.u.a.items[1], "a\n\"b\\/\xc3\xa9\xf0\x9f\x98\x80"));
    CHECK(v.u.a.items[2].u.s.n == 1 && v.u.a.items[2].u.s.p[0] == 0);
    CHECK(is_str(&v.u.a.items[3], "日本"));
}

TEST(json_duplicate_members_last_wins)
{
    struct wire_value v;

    CHECK_INT(pj("{\"a\":1,\"a\":2}", &v), 0);
    CHECK_INT(v.u.m.n, 2);
    CHECK_INT(wire_get(&v, "a")->u.i, 2);
}

TEST(json_errors)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"", "unexpected end of input at byte 0"},
        {"   ", "unexpected end of input at byte 3"},
        {"{\"a\":1", "unterminated object at byte 6"},
        {"[1,2", "unterminated array at byte 4"},
        {"[1,]", "unexpected character at byte 3"},
        {"{\"a\":1,}", "expected a member name at byte 7"},
        {"{\"a\" 1}", "expected ':' at byte 5"},
        {"{1:2}", "expected a member name at byte 1"},
        {"\"abc", "unterminated string at byte 0"},
        {"\"a\\x\"", "invalid escape in a string at byte 2"},
        {"\"a\\u12G4\"", "invalid escape in a string at byte 2"},
        {"\"\\ud800\"", "invalid escape"},
        {"\"\\udc00\"", "invalid escape"},
        {"\"\\ud800\\u0041\"", "invalid escape"},
        {"\"a\tb\"", "control character in a string at byte 2"},
        {"\"\xc3\x28\"", "invalid UTF-8 in a string at byte 1"},
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},
        {"\"\xc0\xaf\"", "invalid UTF-8"},
        {"\"\xe6\x97\"", "invalid UTF-8"},
        {"01", "unexpected data after the value at byte 1"},
        {"1.", "invalid number at byte 0"},
        {".5", "unexpected character at byte 0"},
        {"-", "invalid number"},
        {"1e+", "invalid number"},
        {"+1", "unexpected character"},
        {"tru", "invalid literal at byte 0"},
        {"nul", "invalid literal"},
        {"True", "unexpected character"},
        {"{} {}", "unexpected data after the value at byte 3"},
        {"\xef\xbb\xbf{}", "unexpected character at byte 0"},
        {"[1 2]", "expected ',' or ']' at byte 3"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}' at byte 7"},
    };
    struct wire_value v;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pj(cases[i].text, &v);

        if (rc != SL_ERR_INPUT)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].text);
        CHECK_INT(rc, SL_ERR_INPUT);
        CHECK_HAS(diag.msg, cases[i].msg);
    }
}

TEST(json_depth_limit)
{
    char deep[2 * WIRE_MAX_DEPTH + 8];
    struct wire_value v;
    int n = WIRE_MAX_DEPTH;

    memset(deep, '[', (size_t)n);
    memset(deep + n, ']', (size_t)n);
    deep[2 * n] = '\0';
    CHECK_INT(pj(deep, &v), 0);
    memset(deep, '[', (size_t)n + 1);
    memset(deep + n + 1, ']', (size_t)n + 1);
    deep[2 * n + 2] = '\0';
    CHECK_INT(pj(deep, &v), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "nesting deeper than 64 levels at byte 64");
}

/* ---- CBOR parsing: RFC 8949 Appendix A ------------------------------- */

TEST(cbor_appendix_a_integers)
{
    static const struct {
        const char *hex;
        int64_t v;
    } ints[] = {
        {"00", 0},           {"01", 1},           {"0a", 10},
        {"17", 23},          {"1818", 24},        {"1819", 25},
        {"1864", 100},       {"1903e8", 1000},    {"1a000f4240", 1000000},
        {"1b000000e8d4a51000", 1000000000000LL},  {"20", -1},
        {"29", -10},         {"3863", -100},      {"3903e7", -1000},
    };
    struct wire_value v;

    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        CHECK_INT(pc(ints[i].hex, &v), 0);
        CHECK(v.type == WIRE_INT);
        CHECK_INT(v.u.i, ints[i].v);
        CHECK(!v.tagged);
    }
    /* Beyond int64: floats. */
    CHECK_INT(pc("1bffffffffffffffff", &v), 0);
    CHECK(v.type == WIRE_FLOAT && v.u.f == 18446744073709551615.0);
    CHECK_INT(pc("3bffffffffffffffff", &v), 0);
    CHECK(v.type == WIRE_FLOAT && v.u.f == -18446744073709551616.0);
    /* Bignums: a tagged byte string. */
    CHECK_INT(pc("c249010000000000000000", &v), 0);
    CHECK(v.type == WIRE_BYTES && v.tagged && v.tag == 2 && v.u.s.n == 9);
    CHECK(memcmp(v.u.s.p, "\x01\0\0\0\0\0\0\0\0", 9) == 0);
    CHECK_INT(pc("c349010000000000000000", &v), 0);
    CHECK(v.type == WIRE_BYTES && v.tag == 3);
}

TEST(cbor_appendix_a_floats)
{
    static const struct {
        const char *hex;
        double v;
    } fl[] = {
        {"f90000", 0.0},
        {"f93c00", 1.0},
        {"fb3ff199999999999a", 1.1},
        {"f93e00", 1.5},
        {"f97bff", 65504.0},
        {"fa47c35000", 100000.0},
        {"fa7f7fffff", 3.4028234663852886e+38},
        {"fb7e37e43c8800759c", 1.0e+300},
        {"f90001", 5.960464477539063e-8},
        {"f90400", 0.00006103515625},
        {"f9c400", -4.0},
        {"fbc010666666666666", -4.1},
    };
    static const char *inf[] = {"f97c00", "fa7f800000", "fb7ff0000000000000"};
    static const char *ninf[] = {"f9fc00", "faff800000", "fbfff0000000000000"};
    static const char *nan[] = {"f97e00", "fa7fc00000", "fb7ff8000000000000"};
    struct wire_value v;

    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        CHECK_INT(pc(fl[i].hex, &v), 0);
        CHECK(v.type == WIRE_FLOAT);
        CHECK(v.u.f == fl[i].v);
    }
    CHECK_INT(pc("f98000", &v), 0);
    CHECK(v.u.f == 0 && signbit(v.u.f));
    for (int i = 0; i < 3; i++) {
        CHECK_INT(pc(inf[i], &v), 0);
        CHECK(isinf(v.u.f) && v.u.f > 0);
        CHECK_INT(pc(ninf[i], &v), 0);
        CHECK(isinf(v.u.f) && v.u.f < 0);
        CHECK_INT(pc(nan[i], &v), 0);
        CHECK(isnan(v.u.f));
    }
}

TEST(cbor_appendix_a_simple_and_tags)
{
    struct wire_value v;

    CHECK_INT(pc("f4", &v), 0);
    CHECK(v.type == WIRE_BOOL && !v.u.b);
    CHECK_INT(pc("f5", &v), 0);
    CHECK(v.type == WIRE_BOOL && v.u.b);
    CHECK_INT(pc("f6", &v), 0);
    CHECK(v.type == WIRE_NULL);
    CHECK_INT(pc("f7", &v), 0); /* undefined */
    CHECK(v.type == WIRE_NULL);
    /* simple(16) and simple(255) are well-formed but have no place in the
     * tree: refused, by design. */
    CHECK_INT(pc("f0", &v), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "unsupported simple value");
    CHECK_INT(pc("f8ff", &v), SL_ERR_INPUT);
    CHECK_INT(pc("c074323031332d30332d32315432303a30343a30305a", &v), 0);
    CHECK(v.tagged && v.tag == 0 && is_str(&v, "2013-03-21T20:04:00Z"));
    CHECK_INT(pc("c11a514b67b0", &v), 0);
    CHECK(v.tag == 1 && v.type == WIRE_INT && v.u.i == 1363896240);
    CHECK_INT(pc("c1fb41d452d9ec200000", &v), 0);
    CHECK(v.tag == 1 && v.type == WIRE_FLOAT && v.u.f == 1363896240.5);
    CHECK_INT(pc("d74401020304", &v), 0);
    CHECK(v.tag == 23 && v.type == WIRE_BYTES && v.u.s.n == 4);
    CHECK_INT(pc("d818456449455446", &v), 0);
    CHECK(v.tag == 24 && v.type == WIRE_BYTES && memcmp(v.u.s.p, "dIETF", 5) == 0);
    CHECK_INT(pc("d82076687474703a2f2f7777772e6578616d706c652e636f6d", &v), 0);
    CHECK(v.tag == 32 && is_str(&v, "http://www.example.com"));
    /* Nested tags keep the innermost (55799 is "self-described CBOR"). */
    CHECK_INT(pc("d9d9f7c11a514b67b0", &v), 0);
    CHECK(v.tag == 1 && v.u.i == 1363896240);
}

TEST(cbor_appendix_a_strings)
{
    struct wire_value v;

    CHECK_INT(pc("40", &v), 0);
    CHECK(v.type == WIRE_BYTES && v.u.s.n == 0);
    CHECK_INT(pc("4401020304", &v), 0);
    CHECK(v.type == WIRE_BYTES && memcmp(v.u.s.p, "\x01\x02\x03\x04", 4) == 0);
    CHECK_INT(pc("60", &v), 0);
    CHECK(is_str(&v, ""));
    CHECK_INT(pc("6161", &v), 0);
    CHECK(is_str(&v, "a"));
    CHECK_INT(pc("6449455446", &v), 0);
    CHECK(is_str(&v, "IETF"));
    CHECK_INT(pc("62225c", &v), 0);
    CHECK(is_str(&v, "\"\\"));
    CHECK_INT(pc("62c3bc", &v), 0);
    CHECK(is_str(&v, "\xc3\xbc"));
    CHECK_INT(pc("63e6b0b4", &v), 0);
    CHECK(is_str(&v, "\xe6\xb0\xb4"));
    CHECK_INT(pc("64f0908591", &v), 0);
    CHECK(is_str(&v, "\xf0\x90\x85\x91"));
    CHECK_INT(pc("5f42010243030405ff", &v), 0);
    CHECK(v.type == WIRE_BYTES && v.u.s.n == 5 && memcmp(v.u.s.p, "\1\2\3\4\5", 5) == 0);
    CHECK_INT(pc("7f657374726561646d696e67ff", &v), 0);
    CHECK(is_str(&v, "streaming"));
    CHECK_INT(pc("7fff", &v), 0);
    CHECK(is_str(&v, ""));
}

TEST(cbor_appendix_a_containers)
{
    static const char *nested[] = {
        "8301820203820405",         "9f018202039f0405ffff",   "9f01820203820405ff",
        "83018202039f0405ff",       "83019f0203ff820405",
    };
    static const char *to25[] = {
        "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
        "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff",
    };
    struct wire_value v;

    CHECK_INT(pc("80", &v), 0);
    CHECK(v.type == WIRE_ARRAY && v.u.a.n == 0);
    CHECK_INT(pc("9fff", &v), 0);
    CHECK(v.type == WIRE_ARRAY && v.u.a.n == 0);
    CHECK_INT(pc("83010203", &v), 0);
    CHECK(v.u.a.n == 3 && v.u.a.items[2].u.i == 3);
    for (int i = 0; i < 5; i++) {
        CHECK_INT(pc(nested[i], &v), 0);
        CHECK_INT(v.u.a.n, 3);
        CHECK_INT(v.u.a.items[0].u.i, 1);
        CHECK_INT(v.u.a.items[1].u.a.items[1].u.i, 3);
        CHECK_INT(v.u.a.items[2].u.a.n, 2);
        CHECK_INT(v.u.a.items[2].u.a.items[1].u.i, 5);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_INT(pc(to25[i], &v), 0);
        CHECK_INT(v.u.a.n, 25);
        for (int k = 0; k < 25; k++)
            CHECK_INT(v.u.a.items[k].u.i, k + 1);
    }
    CHECK_INT(pc("a0", &v), 0);
    CHECK(v.type == WIRE_MAP && v.u.m.n == 0);
    /* {1: 2, 3: 4}: well-formed, but AWS maps have string keys. */
    CHECK_INT(pc("a201020304", &v), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "map key is not a text string at byte 1");
    CHECK_INT(pc("a26161016162820203", &v), 0);
    CHECK_INT(wire_get(&v, "a")->u.i, 1);
    CHECK_INT(wire_get(&v, "b")->u.a.items[1].u.i, 3);
    CHECK_INT(pc("826161a161626163", &v), 0);
    CHECK(is_str(&v.u.a.items[0], "a") && wire_str_eq(wire_get(&v.u.a.items[1], "b"), "c"));
    CHECK_INT(pc("a56161614161626142616361436164614461656145", &v), 0);
    CHECK(wire_str_eq(wire_get(&v, "e"), "E") && v.u.m.n == 5);
    CHECK_INT(pc("bf61610161629f0203ffff", &v), 0);
    CHECK_INT(wire_get(&v, "b")->u.a.items[0].u.i, 2);
    CHECK_INT(pc("826161bf61626163ff", &v), 0);
    CHECK(wire_str_eq(wire_get(&v.u.a.items[1], "b"), "c"));
    CHECK_INT(pc("bf6346756ef563416d7421ff", &v), 0);
    CHECK(wire_get(&v, "Fun")->u.b && wire_get(&v, "Amt")->u.i == -2);
}

TEST(cbor_malformed)
{
    static const struct {
        const char *hex;
        const char *msg;
    } cases[] = {
        {"", "unexpected end of input at byte 0"},
        {"18", "truncated item at byte 0"},
        {"1b0000", "truncated item"},
        {"1c", "reserved additional information at byte 0"},
        {"1f", "indefinite length on an integer or tag"},
        {"3f", "indefinite length"},
        {"df", "indefinite length"},
        {"ff", "unexpected break at byte 0"},
        {"8201ff", "unexpected break at byte 2"},
        {"62c3", "truncated string at byte 1"},
        {"62c328", "invalid UTF-8 in a text string at byte 1"},
        {"5f4101", "unexpected end of input"},
        {"5f6161ff", "bad chunk in an indefinite-length string at byte 1"},
        {"5f5f4101ffff", "bad chunk"},
        {"7f61c3ff", "invalid UTF-8"},
        {"83", "truncated array at byte 1"},
        {"9f01", "unexpected end of input at byte 2"},
        {"a1", "truncated map"},
        {"bf6161ff", "unexpected break"},
        {"a16161", "unexpected end of input"},
        {"f818", "simple value in two bytes below 32 at byte 0"},
        {"fc", "reserved additional information"},
        {"0101", "unexpected data after the value at byte 1"},
        {"c1", "unexpected end of input at byte 1"},
        {"9b00000000ffffffff", "truncated array"},
        {"bb00000000ffffffff00", "truncated map"},
        {"5b00000000ffffffff", "truncated string"},
    };
    struct wire_value v;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pc(cases[i].hex, &v);

        if (rc != SL_ERR_INPUT || strstr(diag.msg, cases[i].msg) == NULL)
            fprintf(stderr, "case %zu: %s: %s\n", i, cases[i].hex, diag.msg);
        CHECK_INT(rc, SL_ERR_INPUT);
        CHECK_HAS(diag.msg, cases[i].msg);
    }
}

TEST(cbor_depth_limit)
{
    char hex[4 * WIRE_MAX_DEPTH + 8];
    struct wire_value v;
    size_t n = 0;

    for (int i = 0; i < WIRE_MAX_DEPTH; i++)
        n += (size_t)snprintf(hex + n, sizeof(hex) - n, "81");
    snprintf(hex + n, sizeof(hex) - n, "00");
    CHECK_INT(pc(hex, &v), 0);
    snprintf(hex + n, sizeof(hex) - n, "8100");
    CHECK_INT(pc(hex, &v), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "nesting deeper than 64 levels");
    /* Tags do not nest containers: a long run of them is fine. */
    char *tags = malloc(2 * 10000 + 3);

    for (int i = 0; i < 10000; i++)
        memcpy(tags + 2 * i, "c1", 2);
    memcpy(tags + 20000, "00", 3);
    CHECK_INT(pc(tags, &v), 0);
    free(tags);
}

/* ---- base64 ---------------------------------------------------------- */

TEST(base64_rfc4648_vectors)
{
    static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    uint8_t dec[16];

    for (int i = 0; i < 7; i++) {
        size_t n = strlen(plain[i]);

        CHECK_INT(base64_encoded_len(n), strlen(enc[i]));
        base64_encode((const uint8_t *)plain[i], n, out);
        CHECK(memcmp(out, enc[i], strlen(enc[i])) == 0);
        CHECK_INT(base64_decode(enc[i], strlen(enc[i]), dec), n);
        CHECK(memcmp(dec, plain[i], n) == 0);
    }
}

TEST(base64_strict)
{
    static const char *bad[] = {
        "Zg",        "Zg=",        "Zm9",      "Zm9v\n",   " Zm9v",   "Zm9vYg=a",
        "Zh==",      "Zm9=",       "Z===",     "====",     "Zg==Zg==", "Zm-v",
        "Zm_v",      "Zm9v=",      "Zm9\xc3\xa9", "Zm\"v",  "Z\0==",
    };
    uint8_t out[16];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 4 : strlen(bad[i]);

        if (base64_decode(bad[i], n, out) != -1)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_INT(base64_decode(bad[i], n, out), -1);
    }
    /* Every alphabet character, both paths of the decoder. */
    const char *all = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t big[64];
    char back[100];

    CHECK_INT(base64_decode(all, 64, big), 48);
    base64_encode(big, 48, back);
    CHECK(memcmp(back, all, 64) == 0);
}

TEST(base64_round_trip_in_place)
{
    uint8_t data[300];
    char text[400];

    srand(7);
    for (size_t n = 0; n < 300; n++) {
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)rand();
        base64_encode(data, n, text);
        size_t k = base64_encoded_len(n);

        CHECK_INT(base64_decode(text, k, (uint8_t *)text), n);
        CHECK(n == 0 || memcmp(text, data, n) == 0);
    }
}

/* ---- blobs and timestamps -------------------------------------------- */

TEST(blobs)
{
    struct wire_value v;
    const uint8_t *p;
    size_t n;

    CHECK_INT(pj("{\"Data\":\"aGVsbG8=\",\"Bad\":\"aGVsbG8\",\"Num\":1,\"E\":\"\"}", &v), 0);
    CHECK_INT(wire_blob(wire_get(&v, "Data"), &arena, &p, &n, &diag), 0);
    CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
    CHECK_INT(wire_blob(wire_get(&v, "E"), &arena, &p, &n, &diag), 0);
    CHECK(n == 0 && p != NULL);
    CHECK_INT(wire_blob(wire_get(&v, "Bad"), &arena, &p, &n, &diag), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "not valid base64");
    memset(&diag, 0, sizeof(diag));
    CHECK_INT(wire_blob(wire_get(&v, "Num"), &arena, &p, &n, &diag), SL_ERR_INPUT);
    CHECK_INT(wire_blob(NULL, &arena, &p, &n, NULL), SL_ERR_INPUT);
    CHECK_INT(pc("4568656c6c6f", &v), 0);
    CHECK_INT(wire_blob(&v, &arena, &p, &n, &diag), 0);
    CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
}

TEST(time_ms)
{
    struct wire_value v;
    int64_t ms;

    CHECK_INT(pj("1704067200", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1704067200000LL);
    CHECK_INT(pj("1.704067200123E9", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1704067200123LL);
    CHECK_INT(pj("1704067200.5", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1704067200500LL);
    CHECK_INT(pj("-1.5", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), 0);
    CHECK_INT(ms, -1500);
    CHECK_INT(pj("\"2024-01-01\"", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), SL_ERR_INPUT);
    CHECK_INT(pj("1e300", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), SL_ERR_INPUT);
    CHECK_INT(pj("9223372036854775807", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_JSON, &v, &ms, &diag), SL_ERR_INPUT);
    /* CBOR: untagged integer milliseconds. */
    CHECK_INT(pc("1b0000018cc251f483", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1704067200131LL);
    /* Tag 1 seconds (RFC 8949 A: 1(1363896240), 1(1363896240.5)). */
    CHECK_INT(pc("c11a514b67b0", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1363896240000LL);
    CHECK_INT(pc("c1fb41d452d9ec200000", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1363896240500LL);
    /* Tag 1 with milliseconds, as the Java SDK v1 writes it. */
    CHECK_INT(pc("c11b0000018cc251f483", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1704067200131LL);
    /* Untagged float: milliseconds. */
    CHECK_INT(pc("fa3f800000", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), 0);
    CHECK_INT(ms, 1);
    CHECK_INT(pc("c06161", &v), 0);
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), SL_ERR_INPUT);
    CHECK_INT(pc("c201", &v), 0);
    memset(&diag, 0, sizeof(diag));
    CHECK_INT(wire_time_ms(WIRE_CBOR, &v, &ms, &diag), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "tag 2");
}

TEST(content_types)
{
    enum wire_format f;

    CHECK(wire_format_of("application/x-amz-json-1.1", &f) && f == WIRE_JSON);
    CHECK(wire_format_of("application/x-amz-json-1.0; charset=utf-8", &f) && f == WIRE_JSON);
    CHECK(wire_format_of("Application/X-Amz-Cbor-1.1", &f) && f == WIRE_CBOR);
    CHECK(wire_format_of(" application/cbor ", &f) && f == WIRE_CBOR);
    CHECK(!wire_format_of("text/plain", &f));
    CHECK(!wire_format_of("application/x-amz-json-1.11", &f));
    CHECK(!wire_format_of(NULL, &f));
    CHECK_STR(wire_content_type(WIRE_JSON), "application/x-amz-json-1.1");
    CHECK_STR(wire_content_type(WIRE_CBOR), "application/x-amz-cbor-1.1");
}

/* ---- the writer ------------------------------------------------------ */

static void
write_sample(struct wire_writer *w)
{
    wire_map_begin(w);
    wire_key(w, "FailedRecordCount");
    wire_int(w, 0);
    wire_key(w, "Records");
    wire_array_begin(w);
    wire_map_begin(w);
    wire_key(w, "SequenceNumber");
    wire_strz(w, "49");
    wire_key(w, "ShardId");
    wire_str(w, "shardId-000000000000xyz", 20);
    wire_map_end(w);
    wire_map_begin(w);
    wire_map_end(w);
    wire_array_end(w);
    wire_key(w, "Data");
    wire_bytes(w, "hello", 5);
    wire_key(w, "T");
    wire_time(w, 1704067200123LL);
    wire_key(w, "Neg");
    wire_int(w, -25);
    wire_key(w, "B");
    wire_bool(w, true);
    wire_key(w, "N");
    wire_null(w);
    wire_key(w, "E");
    wire_array_begin(w);
    wire_array_end(w);
    wire_map_end(w);
}

TEST(writer_json_exact)
{
    struct sl_buf b;
    struct wire_writer w;

    sl_buf_init(&b);
    wire_writer_init(&w, WIRE_JSON, &b);
    write_sample(&w);
    CHECK_STR(b.data, "{\"FailedRecordCount\":0,\"Records\":[{\"SequenceNumber\":\"49\","
                      "\"ShardId\":\"shardId-000000000000\"},{}],\"Data\":\"aGVsbG8=\","
                      "\"T\":1704067200.123,\"Neg\":-25,\"B\":true,\"N\":null,\"E\":[]}");
    /* Escapes: control characters, quote, backslash; non-ASCII kept. */
    sl_buf_reset(&b);
    wire_writer_init(&w, WIRE_JSON, &b);
    wire_array_begin(&w);
    wire_str(&w, "a\"b\\c\n\t\x01\x1f\x7f/é日", 16);
    wire_time(&w, -1);
    wire_time(&w, 0);
    wire_time(&w, 1704067200000LL);
    wire_float(&w, 1.1);
    wire_float(&w, 100);
    wire_float(&w, -0.0);
    wire_float(&w, 1e300);
    wire_float(&w, INFINITY);
    wire_float(&w, NAN);
    wire_array_end(&w);
    CHECK_STR(b.data, "[\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f/é日\",-0.001,0.000,"
                      "1704067200.000,1.1,100.0,-0.0,1e+300,1e999,null]");
    sl_buf_release(&b);
}

TEST(writer_cbor_exact)
{
    struct sl_buf b;
    struct wire_writer w;
    size_t n;
    const char *want;

    sl_buf_init(&b);
    wire_writer_init(&w, WIRE_CBOR, &b);
    wire_map_begin(&w);
    wire_key(&w, "a");
    wire_int(&w, 0);
    wire_key(&w, "b");
    wire_array_begin(&w);
    wire_int(&w, 23);
    wire_int(&w, 24);
    wire_int(&w, 1000);
    wire_int(&w, -1);
    wire_int(&w, -1000);
    wire_int(&w, 1000000000000LL);
    wire_array_end(&w);
    wire_key(&w, "c");
    wire_bytes(&w, "\x01\x02", 2);
    wire_key(&w, "d");
    wire_time(&w, 1704067200123LL);
    wire_key(&w, "e");
    wire_bool(&w, false);
    wire_null(&w);
    wire_float(&w, 1.1);
    wire_map_end(&w);
    want = unhex("bf"
                 "6161" "00"
                 "6162" "9f" "17" "1818" "1903e8" "20" "3903e7" "1b000000e8d4a51000" "ff"
                 "6163" "420102"
                 "6164" "1b0000018cc251f47b"
                 "6165" "f4" "f6" "fb3ff199999999999a"
                 "ff",
                 &n);
    CHECK_INT(b.len, n);
    CHECK(memcmp(b.data, want, n) == 0);
    sl_buf_release(&b);
}

/* Write a tree and read it back, in both formats. */
static void
round_trip(enum wire_format f, const struct wire_value *v)
{
    struct sl_buf b;
    struct wire_writer w;
    struct wire_value back;
    struct sl_arena a2;

    sl_buf_init(&b);
    sl_arena_init(&a2, 4096);
    wire_writer_init(&w, f, &b);
    wire_write_value(&w, v);
    CHECK_INT(wire_parse(f, b.data, b.len, &a2, &back, &diag), 0);
    CHECK(wck_equal(v, &back));
    sl_arena_release(&a2);
    sl_buf_release(&b);
}

TEST(writer_round_trips)
{
    static const char *json[] = {
        "{\"a\":[1,-2,3.25,1e300,-0.0,true,false,null,\"x\\u0000y\\n\xc3\xa9\"],"
        "\"\\u0000k\":{},\"b\":[[[]]],\"f\":0.1,\"g\":5e-324,\"h\":1.7976931348623157e308}",
        "\"only a string\"",
        "-9223372036854775808",
        "1e999",
    };
    static const char *cbor[] = {
        "bf61610161629f0203ffff",
        "c074323031332d30332d32315432303a30343a30305a",
        "d9d9f7c11a514b67b0",
        "a3616140616260617bf97e00",
        "5f42010243030405ff",
        "c249010000000000000000",
        "9f1bffffffffffffffff3bfffffffffffffffff90001fa47c35000ff",
    };
    struct wire_value v;

    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
        CHECK_INT(pj(json[i], &v), 0);
        round_trip(WIRE_JSON, &v);
        if (i == 0)
            round_trip(WIRE_CBOR, &v);
    }
    for (size_t i = 0; i < sizeof(cbor) / sizeof(cbor[0]); i++) {
        CHECK_INT(pc(cbor[i], &v), 0);
        round_trip(WIRE_CBOR, &v);
    }
}
