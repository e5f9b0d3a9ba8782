/*
 * test_putrecords.c - the PutRecords fast path: each shape, escapes,
 * unknown members, whitespace, errors and their offsets, records beyond
 * cap, and a randomized differential test against wire_parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "server/putrecords.h"
#include "server/wire.h"
#include "../../fuzz/wire_check.h"
#include "test.h"

static struct put_record recs[16];
static struct put_batch batch;
static struct sl_diag diag;
static char body[8192];

/* Parse a copy of text (the parser writes into it); 16 records of room. */
static int
pp(enum put_shape shape, const char *text)
{
    size_t n = strlen(text);

    memcpy(body, text, n + 1);
    memset(&batch, 0, sizeof(batch));
    memset(&diag, 0, sizeof(diag));
    batch.recs = recs;
    batch.cap = 16;
    return putrecords_parse(shape, body, n, &batch, &diag);
}

static bool
eq(const void *p, size_t n, const char *s)
{
    return p != NULL && n == strlen(s) && memcmp(p, s, n) == 0;
}

TEST(kinesis_records)
{
    CHECK_INT(pp(PUT_KINESIS_RECORDS,
                 "{\"Records\": [{\"Data\": \"YUdWc2JHOD0=\", \"PartitionKey\": \"a\"},"
                 "{\"PartitionKey\":\"b\",\"ExplicitHashKey\":\"42\",\"Data\":\"\"}],"
                 " \"StreamName\": \"s1\", \"StreamARN\": \"arn:aws:kinesis:x\"}"),
              0);
    CHECK_INT(batch.n, 2);
    CHECK(batch.has_records);
    CHECK(eq(batch.stream_name, batch.stream_name_len, "s1"));
    CHECK(eq(batch.stream_arn, batch.stream_arn_len, "arn:aws:kinesis:x"));
    CHECK(eq(recs[0].data, recs[0].data_len, "aGVsbG8="));
    CHECK(eq(recs[0].pk, recs[0].pk_len, "a"));
    CHECK(recs[0].ehk == NULL);
    CHECK(recs[1].data != NULL && recs[1].data_len == 0);
    CHECK(eq(recs[1].ehk, recs[1].ehk_len, "42"));
    /* Every pointer is into the body. */
    CHECK((const char *)recs[0].data > body && (const char *)recs[0].data < body + sizeof(body));
    CHECK(batch.seq_for_ordering == NULL);
    CHECK_INT(pp(PUT_KINESIS_RECORDS, "{}"), 0);
    CHECK(!batch.has_records && batch.n == 0 && batch.stream_name == NULL);
    CHECK_INT(pp(PUT_KINESIS_RECORDS, "{\"Records\":[]}"), 0);
    CHECK(batch.has_records && batch.n == 0);
}

TEST(kinesis_record)
{
    CHECK_INT(pp(PUT_KINESIS_RECORD,
                 "{\"StreamName\":\"s\",\"Data\":\"aGk=\",\"PartitionKey\":\"k\","
                 "\"SequenceNumberForOrdering\":\"49\",\"ExplicitHashKey\":\"7\"}"),
              0);
    CHECK(batch.n == 1 && batch.has_records);
    CHECK(eq(recs[0].data, recs[0].data_len, "hi"));
    CHECK(eq(recs[0].pk, recs[0].pk_len, "k"));
    CHECK(eq(recs[0].ehk, recs[0].ehk_len, "7"));
    CHECK(eq(batch.seq_for_ordering, batch.seq_for_ordering_len, "49"));
    CHECK_INT(pp(PUT_KINESIS_RECORD, "{\"Records\":[{\"Data\":\"!\"}]}"), 0);
    CHECK(batch.n == 1 && recs[0].data == NULL);
}

TEST(firehose_shapes)
{
    CHECK_INT(pp(PUT_FIREHOSE_BATCH,
                 "{\"DeliveryStreamName\":\"d\",\"Records\":[{\"Data\":\"aGk=\","
                 "\"PartitionKey\":5},{\"Data\":\"\"}],\"StreamName\":[1]}"),
              0);
    CHECK(batch.n == 2 && eq(batch.stream_name, batch.stream_name_len, "d"));
    CHECK(eq(recs[0].data, recs[0].data_len, "hi") && recs[0].pk == NULL);
    CHECK_INT(pp(PUT_FIREHOSE_RECORD, "{\"DeliveryStreamName\":\"d\",\"Record\":{\"Data\":\"aGk=\"}}"),
              0);
    CHECK(batch.n == 1 && batch.has_records && eq(recs[0].data, recs[0].data_len, "hi"));
    CHECK_INT(pp(PUT_FIREHOSE_RECORD, "{\"DeliveryStreamName\":\"d\",\"Record\":null}"), 0);
    CHECK(batch.n == 0 && !batch.has_records);
    CHECK_INT(pp(PUT_FIREHOSE_RECORD, "{\"Record\":[]}"), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "Record is not an object at byte 10");
}

TEST(escapes_everywhere)
{
    /* "aGVsbG8/" has a '/', which encoders may write as "\/"; keys and
     * values may be escaped too. */
    CHECK_INT(pp(PUT_KINESIS_RECORDS,
                 "{\"\\u0052ecords\":[{\"D\\u0061ta\":\"aGVsbG8\\/\",\"PartitionKey\":"
                 "\"\\u00e9\\ud83d\\ude00\\n\\\"q\\\\\"}],\"StreamName\":\"a\\/b\"}"),
              0);
    CHECK_INT(batch.n, 1);
    CHECK(eq(recs[0].data, recs[0].data_len, "hello?"));
    CHECK(eq(recs[0].pk, recs[0].pk_len, "\xc3\xa9\xf0\x9f\x98\x80\n\"q\\"));
    CHECK(eq(batch.stream_name, batch.stream_name_len, "a/b"));
    CHECK_INT(pp(PUT_FIREHOSE_BATCH, "{\"Records\":[{\"Data\":\"\\u0061\\u0047\\u006b\\u003d\"}]}"),
              0);
    CHECK(eq(recs[0].data, recs[0].data_len, "hi"));
}

TEST(unknown_members_and_whitespace)
{
    CHECK_INT(pp(PUT_KINESIS_RECORDS,
                 " \t\r\n{ \"X\" : { \"a\" : [ 1 , -2.5e+3 , true , false , null , \"s\\u0041\" ,"
                 " { } , [ ] ] } ,\n \"Records\" :\t[ { \"Data\" : \"aGk=\" , \"Y\" : [[[]]] ,"
                 " \"PartitionKey\" : \"p\" } ] , \"StreamId\" : 0 } \n"),
              0);
    CHECK(batch.n == 1 && eq(recs[0].data, recs[0].data_len, "hi"));
    CHECK(eq(recs[0].pk, recs[0].pk_len, "p"));
}

TEST(duplicates_and_nulls)
{
    CHECK_INT(pp(PUT_KINESIS_RECORDS,
                 "{\"StreamName\":\"a\",\"StreamName\":\"b\",\"Records\":[{\"Data\":\"aGk=\"}],"
                 "\"Records\":[{\"Data\":\"aGk=\",\"Data\":null,\"PartitionKey\":\"x\"},"
                 "{\"PartitionKey\":null}]}"),
              0);
    CHECK(eq(batch.stream_name, batch.stream_name_len, "b"));
    CHECK_INT(batch.n, 2);
    CHECK(recs[0].data == NULL && eq(recs[0].pk, recs[0].pk_len, "x"));
    CHECK(recs[1].pk == NULL);
    CHECK_INT(pp(PUT_KINESIS_RECORDS, "{\"Records\":[{}],\"Records\":null}"), 0);
    CHECK(batch.n == 0 && !batch.has_records);
    /* Each occurrence must be valid, even one a later one replaces. */
    CHECK_INT(pp(PUT_KINESIS_RECORDS, "{\"StreamName\":1,\"StreamName\":\"b\"}"), SL_ERR_INPUT);
}

TEST(errors_with_offsets)
{
    static const struct {
        enum put_shape shape;
        const char *text;
        const char *msg;
    } cases[] = {
        {PUT_KINESIS_RECORDS,
         "{\"Records\":[{\"Data\":\"aGk=\"},{\"Data\":\"aGk=\"},{\"Data\":\"aGk\"}]}",
         "Data at record 3 is not valid base64 at byte 53"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aGk+aGk+a!k=\"}]}",
         "Data at record 1 is not valid base64 at byte 29"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aG\\u006b\"}]}",
         "Data at record 1 is not valid base64 at byte 21"},
        {PUT_KINESIS_RECORD, "{\"Data\":\"aGk\"}", "Data is not valid base64 at byte 9"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":5}]}", "Data at record 1 is not a string at byte 20"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aGk=\x01\"}]}",
         "control character in a string at byte 25"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aGk=\xff\"}]}",
         "invalid UTF-8 in a string at byte 25"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aGk=", "unterminated string at byte 20"},
        {PUT_KINESIS_RECORDS, "{\"Records\":{}}", "Records is not an array at byte 11"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[1]}", "record 1 is not an object at byte 12"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[null]}", "record 1 is not an object"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"PartitionKey\":1}]}",
         "PartitionKey must be a string at byte 28"},
        {PUT_KINESIS_RECORDS, "{\"StreamName\":true}", "StreamName must be a string at byte 14"},
        {PUT_KINESIS_RECORDS, "[]", "body is not a JSON object at byte 0"},
        {PUT_KINESIS_RECORDS, "", "body is not a JSON object at byte 0"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[]} x", "unexpected data after the body at byte 15"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[],}", "expected a member name at byte 14"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{},]}", "record 2 is not an object at byte 15"},
        {PUT_KINESIS_RECORDS, "{\"X\":[1,2,}", "unexpected character at byte 10"},
        {PUT_KINESIS_RECORDS, "{\"X\":01}", "expected ',' or '}' at byte 6"},
        {PUT_KINESIS_RECORDS, "{\"X\":\"\\ud800\"}", "invalid escape in a string at byte 6"},
        {PUT_KINESIS_RECORDS, "{\"X\":nul}", "invalid literal at byte 5"},
        {PUT_KINESIS_RECORDS, "{\"X\" 1}", "expected ':' at byte 5"},
        {PUT_KINESIS_RECORDS, "{\"Records\":[{\"Data\":\"aGk=\"}", "unterminated array at byte 27"},
        {PUT_FIREHOSE_BATCH, "{\"Records\":[{\"Data\":\"aGk=\"}]", "unterminated object at byte 28"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pp(cases[i].shape, cases[i].text);

        if (rc != SL_ERR_INPUT || strstr(diag.msg, cases[i].msg) == NULL)
            fprintf(stderr, "case %zu: %s\n", i, diag.msg);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(pp(cases[i].shape, cases[i].text), SL_ERR_INPUT);
        CHECK_HAS(diag.msg, cases[i].msg);
    }
    pp(PUT_KINESIS_RECORDS, cases[0].text);
    CHECK_INT(diag.record, 3);
    CHECK_STR(diag.field, "Data");
}

TEST(depth_limit_matches)
{
    struct sl_buf b;

    sl_buf_init(&b);
    /* The body is depth 1, so 63 more levels fit and 64 do not. */
    for (int extra = 63; extra <= 64; extra++) {
        sl_buf_reset(&b);
        sl_buf_adds(&b, "{\"X\":");
        for (int i = 0; i < extra; i++)
            sl_buf_addc(&b, '[');
        for (int i = 0; i < extra; i++)
            sl_buf_addc(&b, ']');
        sl_buf_addc(&b, '}');
        CHECK_INT(pp(PUT_KINESIS_RECORDS, b.data), extra == 63 ? 0 : SL_ERR_INPUT);
    }
    CHECK_HAS(diag.msg, "nesting deeper than 64 levels");
    sl_buf_release(&b);
}

TEST(beyond_cap_counts)
{
    struct sl_buf b;
    struct put_record two[2];

    sl_buf_init(&b);
    sl_buf_adds(&b, "{\"Records\":[");
    for (int i = 0; i < 40; i++)
        sl_buf_addf(&b, "%s{\"Data\":\"%s\",\"PartitionKey\":\"k%d\"}", i ? "," : "",
                    i == 39 ? "aGk" : "aGk=", i);
    sl_buf_adds(&b, "]}");
    memset(&batch, 0, sizeof(batch));
    memset(&diag, 0, sizeof(diag));
    batch.recs = two;
    batch.cap = 2;
    /* Data beyond cap is still checked. */
    CHECK_INT(putrecords_parse(PUT_KINESIS_RECORDS, b.data, b.len, &batch, &diag), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "Data at record 40 is not valid base64");
    sl_buf_reset(&b);
    sl_buf_adds(&b, "{\"Records\":[");
    for (int i = 0; i < 40; i++)
        sl_buf_addf(&b, "%s{\"Data\":\"aGk=\",\"PartitionKey\":\"k%d\"}", i ? "," : "", i);
    sl_buf_adds(&b, "]}");
    CHECK_INT(putrecords_parse(PUT_KINESIS_RECORDS, b.data, b.len, &batch, &diag), 0);
    CHECK_INT(batch.n, 40);
    CHECK(eq(two[1].pk, two[1].pk_len, "k1"));
    /* No room at all: still parsed and counted. */
    char one[] = "{\"Data\":\"aGk=\"}";

    batch.cap = 0;
    batch.recs = NULL;
    CHECK_INT(putrecords_parse(PUT_KINESIS_RECORD, one, strlen(one), &batch, &diag), 0);
    CHECK_INT(batch.n, 1);
    sl_buf_release(&b);
}

/* ---- the differential test ------------------------------------------- */

struct gen {
    struct sl_buf *b;
    uint64_t s;
};

static unsigned
rnd(struct gen *g, unsigned n)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return (unsigned)(g->s % n);
}

static void
gws(struct gen *g)
{
    static const char ws[] = " \t\n\r";

    if (rnd(g, 3) == 0)
        for (unsigned k = rnd(g, 3) + 1; k > 0; k--)
            sl_buf_addc(g->b, ws[rnd(g, 4)]);
}

/* A JSON string for s[0..n) (valid UTF-8), escaped at random. */
static void
gstr(struct gen *g, const char *s, size_t n)
{
    sl_buf_addc(g->b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        bool must = c < 0x20 || c == '"' || c == '\\';

        if (must || rnd(g, 12) == 0) {
            uint32_t cp = c;

            if (k > 1) {
                cp = c & (0xFF >> (k + 1));
                for (size_t j = 1; j < k; j++)
                    cp = cp << 6 | ((unsigned char)s[i + j] & 0x3F);
            }
            if (c == '/' && rnd(g, 2))
                sl_buf_adds(g->b, "\\/");
            else if (c == '\n' && rnd(g, 2))
                sl_buf_adds(g->b, "\\n");
            else if (c == '"' && rnd(g, 2))
                sl_buf_adds(g->b, "\\\"");
            else if (c == '\\' && rnd(g, 2))
                sl_buf_adds(g->b, "\\\\");
            else if (cp >= 0x10000)
                sl_buf_addf(g->b, "\\u%04X\\u%04x", 0xD800 + ((cp - 0x10000) >> 10),
                            0xDC00 + ((cp - 0x10000) & 0x3FF));
            else
                sl_buf_addf(g->b, rnd(g, 2) ? "\\u%04x" : "\\u%04X", cp);
        } else {
            sl_buf_add(g->b, s + i, k);
        }
        i += k;
    }
    sl_buf_addc(g->b, '"');
}

static void
gtext(struct gen *g)
{
    static const char *bits[] = {"a", "Z", "0", "/", "\"", "\\", "\n", "\x01", "\xc3\xa9",
                                 "\xe6\x97\xa5", "\xf0\x9f\x98\x80", " ", "-", "key"};
    char s[64];
    size_t n = 0;

    for (unsigned k = rnd(g, 6); k > 0; k--) {
        const char *p = bits[rnd(g, sizeof(bits) / sizeof(bits[0]))];

        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    gstr(g, s, n);
}

static void
gdata(struct gen *g)
{
    uint8_t d[64];
    char t[100];
    size_t n = rnd(g, 40), k;

    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)rnd(g, 256);
    base64_encode(d, n, t);
    k = base64_encoded_len(n);
    if (k > 0 && rnd(g, 20) == 0)
        t[rnd(g, (unsigned)k)] = "=!A-_"[rnd(g, 5)]; /* often no longer base64 */
    gstr(g, t, k);
}

static void gvalue(struct gen *g, int depth);

static void
gkey(struct gen *g, const char *name)
{
    gws(g);
    gstr(g, name, strlen(name));
    gws(g);
    sl_buf_addc(g->b, ':');
    gws(g);
}

static void
gvalue(struct gen *g, int depth)
{
    static const char *nums[] = {"0", "-1", "12.5", "1e3", "-0.0E-2", "123456789012345678901"};
    unsigned k = rnd(g, depth > 3 ? 5 : 7);

    switch (k) {
    case 0: sl_buf_adds(g->b, "null"); break;
    case 1: sl_buf_adds(g->b, rnd(g, 2) ? "true" : "false"); break;
    case 2: sl_buf_adds(g->b, nums[rnd(g, 6)]); break;
    case 3: gtext(g); break;
    case 4: gdata(g); break;
    case 5:
        sl_buf_addc(g->b, '[');
        for (unsigned i = rnd(g, 4), first = 1; i > 0; i--, first = 0) {
            if (!first)
                sl_buf_addc(g->b, ',');
            gws(g);
            gvalue(g, depth + 1);
            gws(g);
        }
        sl_buf_addc(g->b, ']');
        break;
    default:
        sl_buf_addc(g->b, '{');
        for (unsigned i = rnd(g, 4), first = 1; i > 0; i--, first = 0) {
            if (!first)
                sl_buf_addc(g->b, ',');
            gkey(g, rnd(g, 2) ? "Data" : "x");
            gvalue(g, depth + 1);
            gws(g);
        }
        sl_buf_addc(g->b, '}');
    }
}

/* Members of an object, in random order: names[i] is written by kind[i]. */
enum gkind { G_TEXT, G_DATA, G_RECORDS, G_RECORD, G_ANY };

static void gobject(struct gen *g, enum put_shape shape, const char **names, const enum gkind *kind,
                    size_t n);

static void
grecord(struct gen *g, enum put_shape shape)
{
    static const char *names[] = {"Data", "PartitionKey", "ExplicitHashKey", "Other"};
    static const enum gkind kind[] = {G_DATA, G_TEXT, G_TEXT, G_ANY};

    gobject(g, shape, names, kind, 4);
}

static void
gmember(struct gen *g, enum put_shape shape, enum gkind kind)
{
    if (rnd(g, 25) == 0) {
        /* null, or a value of some other type */
        if (rnd(g, 2))
            sl_buf_adds(g->b, "null");
        else
            gvalue(g, 1);
        return;
    }
    switch (kind) {
    case G_TEXT: gtext(g); break;
    case G_DATA: gdata(g); break;
    case G_ANY: gvalue(g, 1); break;
    case G_RECORD: grecord(g, shape); break;
    case G_RECORDS:
        sl_buf_addc(g->b, '[');
        for (unsigned i = rnd(g, 12), first = 1; i > 0; i--, first = 0) {
            if (!first)
                sl_buf_addc(g->b, ',');
            gws(g);
            if (rnd(g, 40) == 0)
                gvalue(g, 2);
            else
                grecord(g, shape);
            gws(g);
        }
        sl_buf_addc(g->b, ']');
        break;
    }
}

static void
gobject(struct gen *g, enum put_shape shape, const char **names, const enum gkind *kind, size_t n)
{
    size_t order[16], m = 0;

    for (size_t i = 0; i < n; i++) {
        if (rnd(g, 5) != 0)
            order[m++] = i;
        if (rnd(g, 15) == 0)
            order[m++] = i; /* a duplicate */
    }
    for (size_t i = m; i > 1; i--) {
        size_t j = rnd(g, (unsigned)i), t = order[i - 1];

        order[i - 1] = order[j];
        order[j] = t;
    }
    sl_buf_addc(g->b, '{');
    for (size_t i = 0; i < m; i++) {
        if (i > 0)
            sl_buf_addc(g->b, ',');
        gkey(g, names[order[i]]);
        gmember(g, shape, kind[order[i]]);
        gws(g);
    }
    sl_buf_addc(g->b, '}');
}

static void
gbody(struct gen *g, enum put_shape shape)
{
    static const char *names[] = {"StreamName",      "StreamARN",       "DeliveryStreamName",
                                  "Records",         "Record",          "Data",
                                  "PartitionKey",    "ExplicitHashKey", "SequenceNumberForOrdering",
                                  "Unknown"};
    static const enum gkind kind[] = {G_TEXT, G_TEXT, G_TEXT, G_RECORDS, G_RECORD,
                                      G_DATA, G_TEXT, G_TEXT, G_TEXT,    G_ANY};

    gws(g);
    gobject(g, shape, names, kind, 10);
    gws(g);
}

static void
corrupt(struct gen *g)
{
    static const char pool[] = "{}[]\":,\\ 0aA=/+-e.ntu\x01\xc3\xff";
    struct sl_buf *b = g->b;
    size_t at;

    if (b->len == 0)
        return;
    at = rnd(g, (unsigned)b->len);
    switch (rnd(g, 4)) {
    case 0:
        b->data[at] = pool[rnd(g, sizeof(pool) - 1)];
        break;
    case 1:
        memmove(b->data + at, b->data + at + 1, b->len - at - 1);
        sl_buf_setlen(b, b->len - 1);
        break;
    case 2:
        sl_buf_addc(b, 0);
        memmove(b->data + at + 1, b->data + at, b->len - at - 1);
        b->data[at] = pool[rnd(g, sizeof(pool) - 1)];
        break;
    default:
        sl_buf_setlen(b, at);
    }
}

TEST(differential_against_wire_parse)
{
    struct sl_buf b;
    struct sl_arena a;
    struct gen g = {&b, 0x9E3779B97F4A7C15ull};
    struct put_record r1[8], r2[8];
    int accepted = 0, refused = 0;

    sl_buf_init(&b);
    sl_arena_init(&a, 1 << 16);
    for (int iter = 0; iter < 30000; iter++) {
        enum put_shape shape = (enum put_shape)rnd(&g, 4);
        struct put_batch b1 = {.recs = r1, .cap = rnd(&g, 9)}, b2 = b1;
        struct wire_value root;
        struct sl_diag d2 = {0};
        int rc1, rc2;

        b2.recs = r2;
        sl_buf_reset(&b);
        gbody(&g, shape);
        if (rnd(&g, 2))
            corrupt(&g);
        char *c1 = sl_malloc(b.len + 1), *c2 = sl_malloc(b.len + 1);

        memcpy(c1, b.data, b.len + 1);
        memcpy(c2, b.data, b.len + 1);
        sl_arena_reset(&a);
        rc1 = wire_parse(WIRE_JSON, c1, b.len, &a, &root, NULL);
        if (rc1 == 0)
            rc1 = wck_oracle(shape, &root, &a, &b1);
        rc2 = putrecords_parse(shape, c2, b.len, &b2, &d2);
        if ((rc1 == 0) != (rc2 == 0) || (rc1 == 0 && !wck_same_batch(&b1, &b2)))
            fprintf(stderr, "shape %d, wire %d, putrecords %d (%s):\n%s\n", shape, rc1, rc2,
                    d2.msg, b.data);
        CHECK((rc1 == 0) == (rc2 == 0));
        if (rc1 == 0) {
            CHECK(wck_same_batch(&b1, &b2));
            accepted++;
        } else {
            CHECK(d2.msg[0] != '\0' && strstr(d2.msg, " at byte ") != NULL);
            refused++;
        }
        free(c1);
        free(c2);
    }
    /* Both sides of the comparison were exercised. */
    CHECK(accepted > 5000 && refused > 5000);
    sl_arena_release(&a);
    sl_buf_release(&b);
}
