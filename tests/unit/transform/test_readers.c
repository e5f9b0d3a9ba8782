/*
 * test_readers.c - raw formats through the row builder: coercion,
 * quarantine reasons and positions.
 */
#include <string.h>

#include "core/time.h"
#include "core/yaml.h"
#include "project/contract.h"
#include "transform/reader.h"
#include "test.h"

static struct sl_arena arena;
static struct source src;
static struct rows_object obj;
static struct colmap map;
static struct rows r;

#define CONTRACT                                                                        \
    "contracts:\n"                                                                    \
    "  - version: \"1.0\"\n"                                                          \
    "    key: [id]\n"                                                                 \
    "    event_time: at\n"                                                            \
    "    unknown_fields: %s\n"                                                        \
    "    columns:\n"                                                                  \
    "      - {name: id, type: string, required: true}\n"                              \
    "      - {name: at, type: timestamp, required: true}\n"                           \
    "      - {name: n, type: int64}\n"                                                \
    "      - {name: x, type: double}\n"                                               \
    "      - {name: ok, type: bool}\n"                                                \
    "      - {name: day, type: date}\n"                                               \
    "      - {name: amount, type: \"decimal(12,2)\"}\n"                               \
    "      - {name: big, type: \"decimal(30,4)\"}\n"

static void
setup(const char *unknown, bool line_based)
{
    char text[2048];
    struct sl_yaml *root;
    struct sl_diag d;

    sl_arena_init(&arena, 0);
    sl_diag_init(&d);
    snprintf(text, sizeof(text), CONTRACT, unknown);
    CHECK_INT(sl_yaml_parse("t", text, strlen(text), &arena, &root, &d), 0);
    CHECK_INT(contract_parse_source("t", "t", root, &arena, &src, &d), 0);
    memset(&obj, 0, sizeof(obj));
    obj.object_id = "obj";
    obj.contract = &src.versions[0];
    obj.line_based = line_based;
    colmap_init(&map, obj.contract);
    rows_init(&r, &obj, 1 << 20);
}

static void
teardown(void)
{
    CHECK_INT(r.records_in, (int64_t)(r.n + r.nbad));
    rows_release(&r);
    colmap_release(&map);
    sl_arena_release(&arena);
}

#define IN(s) s, strlen(s)

TEST(json_lines_coerce_every_type)
{
    setup("reject", true);
    read_jsonl(&r, &map,
               IN("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00+02:00\",\"n\":\"42\",\"x\":1.5e2,"
                  "\"ok\":\"yes\",\"day\":\"2026-10-01\",\"amount\":12.5,"
                  "\"big\":\"12345678901234567890123.1234\"}\n"
                  "\n"
                  "{\"id\":\"b\\u00e9\\ud83d\\ude00\",\"at\":\"2026-10-03\",\"n\":1e3,\"ok\":0,"
                  "\"amount\":null}\r\n"),
               1, 1);
    CHECK_INT(r.n, 2);
    CHECK_INT(r.nbad, 0);
    CHECK_INT(r.cols[2].i64[0], 42);
    CHECK(r.cols[3].f64[0] == 150.0);
    CHECK_INT(r.cols[4].b[0], 1);
    CHECK_INT(r.cols[5].i32[0], 20727);
    CHECK_INT(r.cols[6].i64[0], 1250);
    CHECK(r.cols[7].i128[0] > (__int128)INT64_MAX);
    CHECK_INT(r.ev[0], r.cols[1].i64[0]);
    CHECK_INT(r.pos[1], 3);                          /* line 3: the blank line counts */
    CHECK_INT(r.cols[0].str[1].len, 7);              /* b, e-acute, an emoji */
    CHECK_INT(r.cols[2].i64[1], 1000);
    CHECK_INT(r.cols[4].b[1], 0);
    CHECK_INT(r.cols[6].null[1], 1);
    CHECK_INT(r.cols[5].null[1], 1);                 /* missing nullable: NULL */
    teardown();
}

static void
one_bad(const char *line, const char *field, const char *want)
{
    rows_release(&r);
    rows_init(&r, &obj, 1 << 20);
    read_jsonl(&r, &map, line, strlen(line), 7, 1);
    CHECK_INT(r.n, 0);
    CHECK_INT(r.nbad, 1);
    CHECK_INT(r.bad[0].pos.line, 7);
    if (field)
        CHECK_STR(r.bad[0].field, field);
    else
        CHECK_STR(r.bad[0].field ? r.bad[0].field : "(none)", "(none)");
    CHECK_HAS(r.bad[0].reason, want);
    CHECK_INT(r.bad[0].len, strlen(line));
    CHECK(memcmp(r.bad[0].text, line, r.bad[0].len) == 0);
}

TEST(json_lines_quarantine_with_reasons)
{
    setup("reject", true);
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"n\":\"4x\"}", "n",
            "expected an integer, found \"4x\"");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"n\":1.5}", "n",
            "expected an integer");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"n\":99999999999999999999}", "n",
            "out of range for int64");
    one_bad("{\"id\":\"a\",\"at\":\"yesterday\"}", "at", "expected an ISO 8601 timestamp");
    one_bad("{\"id\":\"a\",\"at\":1790812800}", "at", "expected an ISO 8601 timestamp");
    one_bad("{\"at\":\"2026-10-03T10:00:00Z\"}", "id", "required field is missing");
    one_bad("{\"id\":null,\"at\":\"2026-10-03T10:00:00Z\"}", "id", "required field is null");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"amount\":1.234}", "amount",
            "more than 2 decimal places");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"amount\":12345678901.5}", "amount",
            "does not fit decimal(12,2)");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"ok\":\"maybe\"}", "ok",
            "expected true or false");
    one_bad("{\"id\":{\"k\":1},\"at\":\"2026-10-03T10:00:00Z\"}", "id",
            "expected a string, found a JSON object");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\",\"zz\":1}", NULL,
            "unknown field \"zz\"");
    one_bad("{\"id\":\"a\",\"id\":\"b\",\"at\":\"2026-10-03T10:00:00Z\"}", "id",
            "more than once");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\"", NULL, "invalid JSON at byte");
    one_bad("{\"id\":\"a\" \"at\":1}", NULL, "expected ',' or '}'");
    one_bad("{\"id\":\"a\xff\",\"at\":\"2026-10-03T10:00:00Z\"}", "id", "invalid UTF-8");
    one_bad("{\"id\":\"a\\ud800\",\"at\":\"2026-10-03T10:00:00Z\"}", NULL, "surrogate");
    one_bad("[1,2]", NULL, "expected a JSON object");
    one_bad("{\"id\":\"a\",\"at\":\"2026-10-03T10:00:00Z\"} x", NULL, "more data after");
    teardown();
}

TEST(unknown_fields_may_be_ignored)
{
    setup("ignore", true);
    read_jsonl(&r, &map, IN("{\"id\":\"a\",\"zz\":{\"deep\":[1,2,{}]},\"at\":\"2026-10-03\"}"), 1,
               1);
    CHECK_INT(r.n, 1);
    CHECK_INT(r.nbad, 0);
    teardown();
}

/* The drift entry of (kind, name) in r, or NULL. */
static const struct rows_drift *
drift_of(enum rows_drift_kind kind, const char *name)
{
    for (size_t i = 0; i < r.ndrift; i++)
        if (r.drift[i].kind == kind && strcmp(r.drift[i].field, name) == 0)
            return &r.drift[i];
    return NULL;
}

TEST(drift_json_counts_records_with_one_example)
{
    const struct rows_drift *e;

    setup("ignore", true);
    read_jsonl(&r, &map,
               IN("{\"id\":\"a\",\"at\":\"2026-10-03\"}\n"
                  "{\"id\":\"b\",\"coupon\":\"SPRING10\",\"at\":\"2026-10-03\"}\n"
                  "{\"coupon\":{\"nested\":{\"deep\":1}},\"id\":\"c\",\"at\":\"2026-10-03\","
                  "\"coupon\":2}\n"
                  "{\"id\":\"d\",\"c\\u006fupon\":7}\n"
                  "{\"id\":\"e\",\"at\":\"2026-10-03\",\"note\":\"" /* 120 x */
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"),
               1, 1);
    CHECK_INT(r.n, 4);
    CHECK_INT(r.nbad, 1); /* d lacks at */
    e = drift_of(ROWS_DRIFT_UNKNOWN, "coupon");
    CHECK(e != NULL);
    CHECK_INT(e->records, 3);  /* once per record, the escaped name too */
    CHECK_INT(e->example.line, 2);
    CHECK_STR(e->text, "\"SPRING10\"");
    CHECK(drift_of(ROWS_DRIFT_UNKNOWN, "nested") == NULL); /* top level only */
    CHECK(drift_of(ROWS_DRIFT_UNKNOWN, "deep") == NULL);
    e = drift_of(ROWS_DRIFT_MISSING, "at");
    CHECK(e != NULL);
    CHECK_INT(e->records, 1);
    CHECK_INT(e->example.line, 4);
    CHECK(e->text == NULL);
    e = drift_of(ROWS_DRIFT_UNKNOWN, "note");
    CHECK(e != NULL);
    CHECK_INT(strlen(e->text), 103); /* 100 bytes, then "..." */
    CHECK_HAS(e->text, "xxx...");
    teardown();
}

TEST(drift_csv_every_row_carries_an_extra_column)
{
    const struct rows_drift *e;

    setup("ignore", true);
    read_csv(&r, &map,
             IN("id,channel,at\n"
                "a,\"web \"\"x\"\"\",2026-10-03T10:00:00Z\n"
                "b,,2026-10-03T10:00:00Z\n"
                "c,app\n"
                "d,app,\n"));
    CHECK_INT(r.n, 2);
    CHECK_INT(r.nbad, 2);
    e = drift_of(ROWS_DRIFT_UNKNOWN, "channel");
    CHECK(e != NULL);
    CHECK_INT(e->records, 3); /* not the row with too few fields */
    CHECK_INT(e->example.line, 2);
    CHECK_STR(e->text, "\"web \\\"x\\\"\"");
    e = drift_of(ROWS_DRIFT_MISSING, "at");
    CHECK(e == NULL); /* an empty field is null, not missing */
    teardown();
}

TEST(drift_of_an_object_and_of_a_sample)
{
    struct reader_drift x;
    struct sl_diag d;
    /* Two ranges of one object, the second's positions shifted. */
    struct rows r2, *both[2] = {&r, &r2};

    setup("reject", true);
    rows_init(&r2, &obj, 1 << 20);
    read_jsonl(&r, &map, IN("{\"id\":\"a\",\"at\":\"2026-10-03\",\"b\":1}\n{\"id\":\"b\"}\n"), 1,
               1);
    read_jsonl(&r2, &map, IN("{\"id\":\"c\",\"a\":true,\"b\":2}\n"), 3, 3);
    reader_drift_init(&x);
    reader_drift_merge(both, 2, true, &x);
    CHECK_INT(x.records, 3);
    CHECK_INT(x.n, 3);
    CHECK_STR(x.v[0].field, "a");
    CHECK_STR(x.v[0].example, "true");
    CHECK_INT(x.v[0].position, 3);
    CHECK_STR(x.v[1].field, "b");
    CHECK_INT(x.v[1].records, 2);
    CHECK_INT(x.v[1].position, 1);
    CHECK_STR(x.v[1].example, "1");
    CHECK_STR(x.v[2].field, "at");
    CHECK(x.v[2].kind == ROWS_DRIFT_MISSING);
    CHECK_INT(x.v[2].records, 2);
    reader_drift_release(&x);
    rows_release(&r2);
    teardown();

    /* A sample cut mid-line reads the whole lines only. */
    setup("reject", true);
    sl_diag_init(&d);
    reader_drift_init(&x);
    CHECK_INT(reader_drift(obj.contract, "jsonl",
                           IN("{\"id\":\"a\",\"at\":\"2026-10-03\",\"z\":1}\n"
                              "{\"id\":\"b\",\"at\":\"2026-10-03\",\"z\":1}\n{\"id\":\"c\",\"z\""),
                           true, &x, &d),
              0);
    CHECK(x.sampled);
    CHECK_INT(x.records, 2);
    CHECK_INT(x.n, 1);
    CHECK_INT(x.v[0].records, 2);
    reader_drift_release(&x);
    reader_drift_init(&x);
    CHECK(reader_drift(obj.contract, "xml", IN("<a/>"), false, &x, &d) < 0);
    CHECK_HAS(d.msg, "format 'xml'");
    reader_drift_release(&x);
    teardown();
}

TEST(json_arrays)
{
    setup("reject", false);
    read_json_array(&r, &map,
                    IN("[\n {\"id\":\"a\",\"at\":\"2026-10-03\"},\n 7,\n"
                       " {\"id\":\"b\",\"at\":\"2026-10-04\"}\n]\n"));
    CHECK_INT(r.n, 2);
    CHECK_INT(r.nbad, 1);
    CHECK_INT(r.bad[0].pos.record, 2);
    CHECK_INT(r.bad[0].pos.line, 3);
    CHECK_INT(r.pos[1], 3); /* record number for non-line formats */
    teardown();
    setup("reject", false);
    read_json_array(&r, &map,
                    IN("[{\"id\":\"a\",\"at\":\"2026-10-03\"}, {\"id\": \"b\" \"at\": 1}, "
                       "{\"id\":\"c\",\"at\":\"2026-10-03\"}]"));
    CHECK_INT(r.n, 1);
    CHECK_INT(r.nbad, 1);
    CHECK_HAS(r.bad[0].reason, "the rest of the file");
    teardown();
    setup("reject", false);
    read_json_array(&r, &map, IN("[{\"id\":\"a\",\"at\":\"2026-10-03\"}"));
    CHECK_INT(r.n, 1);
    CHECK_INT(r.nbad, 1);
    CHECK_HAS(r.bad[0].reason, "not closed");
    teardown();
}

TEST(csv_quoting_nulls_and_positions)
{
    setup("reject", true);
    read_csv(&r, &map,
             IN("\xEF\xBB\xBFid,at,amount,n\n"
                "a,2026-10-03T10:00:00Z,1.50,\n"
                "\"b,\"\"q\"\"\nline\",2026-10-03T10:00:00Z,,7\r\n"
                "\n"
                "\"\",2026-10-03T10:00:00Z,2,3\n"
                "c,2026-10-03T10:00:00Z,3\n"
                "d,2026-10-03T10:00:00Z,x.5,1\n"
                "e,2026-10-03T10:00:00Z,1,\"2\n"));
    CHECK_INT(r.n, 3);
    CHECK_INT(r.cols[6].i64[0], 150);
    CHECK_INT(r.cols[2].null[0], 1);
    CHECK_INT(r.cols[0].str[1].len, 10);
    CHECK(memcmp(r.cols[0].str[1].p, "b,\"q\"\nline", 10) == 0);
    CHECK_INT(r.pos[1], 3);
    CHECK_INT(r.cols[0].str[2].len, 0);     /* "" is an empty string, not NULL */
    CHECK_INT(r.cols[0].null[2], 0);
    CHECK_INT(r.pos[2], 6);
    CHECK_INT(r.nbad, 3);
    CHECK_INT(r.bad[0].pos.line, 7);
    CHECK_HAS(r.bad[0].reason, "expected 4 fields as in the header, found 3");
    CHECK_INT(r.bad[1].pos.line, 8);
    CHECK_STR(r.bad[1].field, "amount");
    CHECK_HAS(r.bad[2].reason, "not closed");
    teardown();
}

TEST(csv_headers_are_checked)
{
    struct sl_diag d;
    size_t hlen;

    setup("reject", true);
    sl_diag_init(&d);
    CHECK_INT(csv_check_header(obj.contract, IN("id,at,amount\nx"), &hlen, &d), 0);
    CHECK_INT(hlen, 13);
    sl_diag_init(&d);
    CHECK(csv_check_header(obj.contract, IN("id,amount\n"), &hlen, &d) < 0);
    CHECK_HAS(d.msg, "required column \"at\" is missing");
    sl_diag_init(&d);
    CHECK(csv_check_header(obj.contract, IN("id,at,colour\n"), &hlen, &d) < 0);
    CHECK_HAS(d.msg, "unknown column \"colour\"");
    sl_diag_init(&d);
    CHECK(csv_check_header(obj.contract, IN("id,at,id\n"), &hlen, &d) < 0);
    CHECK_HAS(d.msg, "twice");
    sl_diag_init(&d);
    CHECK(csv_check_header(obj.contract, IN("{\"id\":1}\n"), &hlen, &d) < 0);
    CHECK_HAS(d.msg, "looks like JSON");
    teardown();
}

TEST(keys_and_fingerprints)
{
    setup("reject", true);
    read_jsonl(&r, &map,
               IN("{\"id\":\"k\",\"at\":\"2026-10-03\",\"n\":1}\n"
                  "{\"n\":1,\"at\":\"2026-10-03\",\"id\":\"k\"}\n"
                  "{\"id\":\"k\",\"at\":\"2026-10-03\",\"n\":2}\n"),
               1, 1);
    CHECK_INT(r.n, 3);
    CHECK(r.key_hash[0] == r.key_hash[2]);
    CHECK(r.row_hash[0] == r.row_hash[1]);  /* field order does not matter */
    CHECK(r.row_hash[0] != r.row_hash[2]);
    teardown();
}

/* Buckets of each type from the values as rows hold them, against the
 * spec's hashes (Appendix B) and one computed apart (a Python Murmur3 of
 * the decimal's 11 minimal big-endian bytes): with n = INT32_MAX the
 * bucket is the hash with its sign bit cleared (mod INT32_MAX). */
TEST(buckets_of_every_type)
{
    setup("reject", true);
    read_jsonl(&r, &map,
               IN("{\"id\":\"iceberg\",\"at\":\"2017-11-16T22:31:08Z\",\"n\":34,"
                  "\"day\":\"2017-11-16\",\"amount\":\"14.20\","
                  "\"big\":\"12345678901234567890123.1234\"}\n"
                  "{\"id\":\"iceberg\",\"at\":\"2017-11-16T14:31:08-08:00\",\"n\":\"34\","
                  "\"day\":\"2017-11-16\",\"amount\":14.2,"
                  "\"big\":12345678901234567890123.1234}\n"),
               1, 1);
    CHECK_INT(r.n, 2);
    for (size_t row = 0; row < 2; row++) {
        CHECK_INT(rows_bucket(&r, 0, row, INT32_MAX), 1210000089);           /* string */
        CHECK_INT(rows_bucket(&r, 1, row, INT32_MAX), 2147483647 & -2047944441); /* timestamp */
        CHECK_INT(rows_bucket(&r, 2, row, INT32_MAX), 2017239379);           /* int64 */
        CHECK_INT(rows_bucket(&r, 5, row, INT32_MAX), 2147483647 & -653330422);  /* date */
        CHECK_INT(rows_bucket(&r, 6, row, INT32_MAX), 2147483647 & -500754589);  /* decimal */
        CHECK_INT(rows_bucket(&r, 7, row, INT32_MAX), 889956799);            /* decimal(30,4) */
        CHECK_INT(rows_bucket(&r, 0, row, 16), 1210000089 % 16);
        CHECK_INT(rows_bucket(&r, 2, row, 100), 79);
        CHECK_INT(rows_bucket(&r, 6, row, 1), 0);
    }
    teardown();
}
