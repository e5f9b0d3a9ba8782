/*
 * putrecords.c - the PutRecords/PutRecord/PutRecordBatch fast path (see
 * putrecords.h).
 *
 * One pass over the body, no allocation, everything in place:
 *
 *   strings   scanned eight bytes at a time for '"', '\\', control bytes
 *             and non-ASCII; an escape switches the scan to compacting the
 *             rest of the string towards its start (escapes never lengthen
 *             text, so the writer never overtakes the reader);
 *   Data      memchr for the closing quote; if no backslash lies before it,
 *             the characters are decoded from base64 straight into their
 *             own place (3 bytes out for 4 in, so again behind the reader).
 *             Anything that is not alphabet - a quote, a control byte,
 *             non-ASCII - stops the decoder, so the JSON checks cost
 *             nothing on this path; only when decoding fails is the rest of
 *             the string examined, to say which rule it broke.  A Data
 *             string with escapes is first unescaped, then decoded.
 *   others    unknown members are skipped by a validating skipper (the same
 *             grammar as wire.c's JSON parser, the same depth limit), so
 *             the accepted bodies are exactly the ones wire_parse accepts
 *             with the right member types.
 *
 * Member semantics, the same as the general path's wire_get: the last of
 * duplicate members wins (a second Records array replaces the first), and
 * null is the same as absent.  A known member of the wrong JSON type, a
 * record that is not an object, or a body that is not an object are
 * refused.  The escape, number and base64 rules are shared with wire.c
 * through wire_int.h; the structure is written apart, and
 * tests/unit/server/test_putrecords.c and tests/fuzz/putrecords compare the
 * two parsers.
 */
#include "server/putrecords.h"

#include <string.h>

#include "core/utf8.h"
#include "server/wire.h"
#include "server/wire_int.h"
#include "core/banned.h"

/* The members the four shapes know, at either level. */
enum pr_member {
    M_UNKNOWN,
    M_STREAM_NAME,
    M_STREAM_ARN,
    M_DELIVERY_STREAM_NAME,
    M_RECORDS,
    M_RECORD,
    M_DATA,
    M_PARTITION_KEY,
    M_EXPLICIT_HASH_KEY,
    M_SEQ_FOR_ORDERING,
};

#define BIT(m) (1u << (m))

/* Which members each shape knows at the top and inside a record. */
static const unsigned top_members[] = {
    [PUT_KINESIS_RECORDS] = BIT(M_STREAM_NAME) | BIT(M_STREAM_ARN) | BIT(M_RECORDS),
    [PUT_KINESIS_RECORD] = BIT(M_STREAM_NAME) | BIT(M_STREAM_ARN) | BIT(M_DATA) |
                           BIT(M_PARTITION_KEY) | BIT(M_EXPLICIT_HASH_KEY) |
                           BIT(M_SEQ_FOR_ORDERING),
    [PUT_FIREHOSE_BATCH] = BIT(M_DELIVERY_STREAM_NAME) | BIT(M_RECORDS),
    [PUT_FIREHOSE_RECORD] = BIT(M_DELIVERY_STREAM_NAME) | BIT(M_RECORD),
};
static const unsigned rec_members[] = {
    [PUT_KINESIS_RECORDS] = BIT(M_DATA) | BIT(M_PARTITION_KEY) | BIT(M_EXPLICIT_HASH_KEY),
    [PUT_KINESIS_RECORD] = 0,
    [PUT_FIREHOSE_BATCH] = BIT(M_DATA),
    [PUT_FIREHOSE_RECORD] = BIT(M_DATA),
};

struct pr {
    char *base;          /* the body, for byte offsets */
    char *p;             /* next byte */
    char *end;
    enum put_shape shape;
    struct put_batch *b;
    struct sl_diag *d;
    int depth;           /* open containers, as wire_parse counts them */
    struct put_record spare; /* where records beyond cap are parsed */
};

static int
pr_fail(struct pr *r, const char *at, const char *what)
{
    return sl_fail(r->d, SL_ERR_INPUT, "%s at byte %zu", what, (size_t)(at - r->base));
}

static inline void
ws(struct pr *r)
{
    while (r->p < r->end && wire_json_ws(*r->p))
        r->p++;
}

static int
pr_enter(struct pr *r)
{
    if (++r->depth > WIRE_MAX_DEPTH)
        return sl_fail(r->d, SL_ERR_INPUT, "nesting deeper than %d levels at byte %zu",
                       WIRE_MAX_DEPTH, (size_t)(r->p - r->base));
    return 0;
}

/* The length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_seq(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

    if ((size_t)(end - p) < k || !sl_utf8_valid(p, k, NULL))
        return 0;
    return k;
}

/*
 * The string at r->p (its opening quote), unescaped in place: *s points at
 * its first byte and *n is its decoded length.  seg is the start of the
 * run not yet moved down; w, once an escape was seen, where it goes.
 */
static int
pr_string(struct pr *r, char **s, size_t *n)
{
    char *start = r->p + 1, *p = start, *end = r->end, *seg = start, *w = NULL;

    for (;;) {
        while (end - p >= 8) {
            uint64_t x, m;

            memcpy(&x, p, 8);
            m = wire_json_special(x);
            if (m != 0) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
        if (p >= end)
            return pr_fail(r, r->p, "unterminated string");
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            break;
        if (c == '\\') {
            char tmp[4];
            size_t k, used = wire_json_escape(p, end, tmp, &k);

            if (used == 0)
                return pr_fail(r, p, "invalid escape in a string");
            if (w == NULL) {
                w = p;
            } else {
                memmove(w, seg, (size_t)(p - seg));
                w += p - seg;
            }
            memcpy(w, tmp, k);
            w += k;
            p += used;
            seg = p;
            continue;
        }
        if (c < 0x20)
            return pr_fail(r, p, "control character in a string");
        if (c >= 0x80) {
            size_t k = utf8_seq(p, end);

            if (k == 0)
                return pr_fail(r, p, "invalid UTF-8 in a string");
            p += k;
            continue;
        }
        p++;
    }
    if (w != NULL) {
        memmove(w, seg, (size_t)(p - seg));
        w += p - seg;
        *n = (size_t)(w - start);
    } else {
        *n = (size_t)(p - start);
    }
    *s = start;
    r->p = p + 1;
    return 0;
}

static int
pr_literal(struct pr *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return pr_fail(r, r->p, "invalid literal");
    r->p += n;
    return 0;
}

/* Any JSON value, checked and passed over. */
static int
pr_skip(struct pr *r)
{
    char *s;
    size_t n;
    bool integral;
    int rc;

    ws(r);
    if (r->p >= r->end)
        return pr_fail(r, r->p, "unexpected end of input");
    switch (*r->p) {
    case '"':
        return pr_string(r, &s, &n);
    case 't':
        return pr_literal(r, "true", 4);
    case 'f':
        return pr_literal(r, "false", 5);
    case 'n':
        return pr_literal(r, "null", 4);
    case '[':
        if ((rc = pr_enter(r)) < 0)
            return rc;
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            r->depth--;
            return 0;
        }
        for (;;) {
            if ((rc = pr_skip(r)) < 0)
                return rc;
            ws(r);
            if (r->p >= r->end)
                return pr_fail(r, r->p, "unterminated array");
            if (*r->p == ']')
                break;
            if (*r->p != ',')
                return pr_fail(r, r->p, "expected ',' or ']'");
            r->p++;
        }
        r->p++;
        r->depth--;
        return 0;
    case '{':
        if ((rc = pr_enter(r)) < 0)
            return rc;
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            r->depth--;
            return 0;
        }
        for (;;) {
            ws(r);
            if (r->p >= r->end || *r->p != '"')
                return pr_fail(r, r->p, "expected a member name");
            if ((rc = pr_string(r, &s, &n)) < 0)
                return rc;
            ws(r);
            if (r->p >= r->end || *r->p != ':')
                return pr_fail(r, r->p, "expected ':'");
            r->p++;
            if ((rc = pr_skip(r)) < 0)
                return rc;
            ws(r);
            if (r->p >= r->end)
                return pr_fail(r, r->p, "unterminated object");
            if (*r->p == '}')
                break;
            if (*r->p != ',')
                return pr_fail(r, r->p, "expected ',' or '}'");
            r->p++;
        }
        r->p++;
        r->depth--;
        return 0;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        n = wire_json_number(r->p, r->end, &integral);
        if (n == 0)
            return pr_fail(r, r->p, "invalid number");
        r->p += n;
        return 0;
    default:
        return pr_fail(r, r->p, "unexpected character");
    }
}

static enum pr_member
member_of(const char *k, size_t n)
{
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)
    switch (n) {
    case 4:
        return IS("Data") ? M_DATA : M_UNKNOWN;
    case 6:
        return IS("Record") ? M_RECORD : M_UNKNOWN;
    case 7:
        return IS("Records") ? M_RECORDS : M_UNKNOWN;
    case 9:
        return IS("StreamARN") ? M_STREAM_ARN : M_UNKNOWN;
    case 10:
        return IS("StreamName") ? M_STREAM_NAME : M_UNKNOWN;
    case 12:
        return IS("PartitionKey") ? M_PARTITION_KEY : M_UNKNOWN;
    case 15:
        return IS("ExplicitHashKey") ? M_EXPLICIT_HASH_KEY : M_UNKNOWN;
    case 18:
        return IS("DeliveryStreamName") ? M_DELIVERY_STREAM_NAME : M_UNKNOWN;
    case 25:
        return IS("SequenceNumberForOrdering") ? M_SEQ_FOR_ORDERING : M_UNKNOWN;
    default:
        return M_UNKNOWN;
    }
#undef IS
}

/* Whether the value at r->p (whitespace skipped) is null; consumes it. */
static int
pr_null(struct pr *r, bool *is_null)
{
    *is_null = r->p < r->end && *r->p == 'n';
    return *is_null ? pr_literal(r, "null", 4) : 0;
}

/* A string member's value (null: absent, *s = NULL). */
static int
pr_str_member(struct pr *r, const char *name, const char **s, size_t *n)
{
    bool is_null;
    char *v;
    int rc;

    ws(r);
    if ((rc = pr_null(r, &is_null)) < 0)
        return rc;
    if (is_null) {
        *s = NULL;
        *n = 0;
        return 0;
    }
    if (r->p >= r->end || *r->p != '"')
        return sl_fail(r->d, SL_ERR_INPUT, "%s must be a string at byte %zu", name,
                       (size_t)(r->p - r->base));
    if ((rc = pr_string(r, &v, n)) < 0)
        return rc;
    *s = v;
    return 0;
}

/* recno is 1-based, 0 for the single-record shapes. */
static int
data_fail(struct pr *r, size_t recno, const char *at, const char *what)
{
    sl_diag_at(r->d, NULL, 0, (int64_t)recno, "Data");
    if (recno > 0)
        return sl_fail(r->d, SL_ERR_INPUT, "Data at record %zu %s at byte %zu", recno, what,
                       (size_t)(at - r->base));
    return sl_fail(r->d, SL_ERR_INPUT, "Data %s at byte %zu", what, (size_t)(at - r->base));
}

/* The Data member: base64 decoded in place. */
static int
pr_data(struct pr *r, size_t recno, const uint8_t **data, size_t *len)
{
    bool is_null;
    char *s, *q;
    size_t n, bad;
    ptrdiff_t k;
    int rc;

    ws(r);
    if ((rc = pr_null(r, &is_null)) < 0)
        return rc;
    if (is_null) {
        *data = NULL;
        *len = 0;
        return 0;
    }
    if (r->p >= r->end || *r->p != '"')
        return data_fail(r, recno, r->p, "is not a string");
    s = r->p + 1;
    q = memchr(s, '"', (size_t)(r->end - s));
    if (q == NULL)
        return pr_fail(r, r->p, "unterminated string");
    if (memchr(s, '\\', (size_t)(q - s)) == NULL) {
        k = wire_base64_decode(s, (size_t)(q - s), (uint8_t *)s, &bad);
        if (k >= 0) {
            *data = (const uint8_t *)s;
            *len = (size_t)k;
            r->p = q + 1;
            return 0;
        }
        /* Everything before s + bad was alphabet, and is now decoded
         * bytes; what follows is untouched, so a JSON fault there can
         * still be named. */
        for (char *p = s + bad; p < q; p++) {
            unsigned char c = (unsigned char)*p;

            if (c < 0x20)
                return pr_fail(r, p, "control character in a string");
            if (c >= 0x80) {
                size_t u = utf8_seq(p, q);

                if (u == 0)
                    return pr_fail(r, p, "invalid UTF-8 in a string");
                p += u - 1;
            }
        }
        return data_fail(r, recno, s + bad, "is not valid base64");
    }
    /* Escaped (a "\/" is legal JSON for '/'): unescape, then decode. */
    if ((rc = pr_string(r, &s, &n)) < 0)
        return rc;
    k = wire_base64_decode(s, n, (uint8_t *)s, &bad);
    if (k < 0)
        return data_fail(r, recno, s + bad, "is not valid base64");
    *data = (const uint8_t *)s;
    *len = (size_t)k;
    return 0;
}

/* A member name and its colon; *m says which member it is, if the level
 * (a mask of known members) knows it. */
static int
pr_key(struct pr *r, unsigned known, enum pr_member *m)
{
    char *k;
    size_t n;
    int rc;

    ws(r);
    if (r->p >= r->end || *r->p != '"')
        return pr_fail(r, r->p, "expected a member name");
    if ((rc = pr_string(r, &k, &n)) < 0)
        return rc;
    *m = member_of(k, n);
    if (!(known & BIT(*m)))
        *m = M_UNKNOWN;
    ws(r);
    if (r->p >= r->end || *r->p != ':')
        return pr_fail(r, r->p, "expected ':'");
    r->p++;
    return 0;
}

/* After a member: ',' (returns 1, more to come) or the closing brace (0). */
static int
pr_next(struct pr *r)
{
    ws(r);
    if (r->p >= r->end)
        return pr_fail(r, r->p, "unterminated object");
    if (*r->p == ',') {
        r->p++;
        return 1;
    }
    if (*r->p == '}') {
        r->p++;
        return 0;
    }
    return pr_fail(r, r->p, "expected ',' or '}'");
}

/* One member of a record, or of the top level in PutRecord. */
static int
pr_rec_member(struct pr *r, enum pr_member m, struct put_record *rec, size_t recno)
{
    switch (m) {
    case M_DATA:
        return pr_data(r, recno, &rec->data, &rec->data_len);
    case M_PARTITION_KEY:
        return pr_str_member(r, "PartitionKey", &rec->pk, &rec->pk_len);
    case M_EXPLICIT_HASH_KEY:
        return pr_str_member(r, "ExplicitHashKey", &rec->ehk, &rec->ehk_len);
    default:
        return pr_skip(r);
    }
}

/* The record object at r->p (whitespace skipped). */
static int
pr_record(struct pr *r, struct put_record *rec, size_t recno)
{
    unsigned known = rec_members[r->shape];
    enum pr_member m;
    int rc;

    memset(rec, 0, sizeof(*rec));
    if (r->p >= r->end || *r->p != '{') {
        if (recno > 0)
            return sl_fail(r->d, SL_ERR_INPUT, "record %zu is not an object at byte %zu", recno,
                           (size_t)(r->p - r->base));
        return pr_fail(r, r->p, "Record is not an object");
    }
    if ((rc = pr_enter(r)) < 0)
        return rc;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        r->depth--;
        return 0;
    }
    do {
        if ((rc = pr_key(r, known, &m)) < 0)
            return rc;
        if ((rc = pr_rec_member(r, m, rec, recno)) < 0)
            return rc;
    } while ((rc = pr_next(r)) > 0);
    r->depth--;
    return rc;
}

static int
pr_records(struct pr *r)
{
    struct put_batch *b = r->b;
    bool is_null;
    int rc;

    ws(r);
    if ((rc = pr_null(r, &is_null)) < 0)
        return rc;
    b->n = 0;
    b->has_records = !is_null;
    if (is_null)
        return 0;
    if (r->p >= r->end || *r->p != '[')
        return pr_fail(r, r->p, "Records is not an array");
    if ((rc = pr_enter(r)) < 0)
        return rc;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        r->depth--;
        return 0;
    }
    for (;;) {
        struct put_record *rec = b->n < b->cap ? &b->recs[b->n] : &r->spare;

        ws(r);
        if ((rc = pr_record(r, rec, b->n + 1)) < 0)
            return rc;
        b->n++;
        ws(r);
        if (r->p >= r->end)
            return pr_fail(r, r->p, "unterminated array");
        if (*r->p == ']')
            break;
        if (*r->p != ',')
            return pr_fail(r, r->p, "expected ',' or ']'");
        r->p++;
    }
    r->p++;
    r->depth--;
    return 0;
}

/* Firehose PutRecord's "Record": one object, or null. */
static int
pr_single(struct pr *r)
{
    struct put_batch *b = r->b;
    bool is_null;
    int rc;

    ws(r);
    if ((rc = pr_null(r, &is_null)) < 0)
        return rc;
    b->n = is_null ? 0 : 1;
    b->has_records = !is_null;
    if (is_null)
        return 0;
    return pr_record(r, b->cap > 0 ? &b->recs[0] : &r->spare, 0);
}

static int
pr_top_member(struct pr *r, enum pr_member m, struct put_record *one)
{
    struct put_batch *b = r->b;

    switch (m) {
    case M_STREAM_NAME:
        return pr_str_member(r, "StreamName", &b->stream_name, &b->stream_name_len);
    case M_DELIVERY_STREAM_NAME:
        return pr_str_member(r, "DeliveryStreamName", &b->stream_name, &b->stream_name_len);
    case M_STREAM_ARN:
        return pr_str_member(r, "StreamARN", &b->stream_arn, &b->stream_arn_len);
    case M_SEQ_FOR_ORDERING:
        return pr_str_member(r, "SequenceNumberForOrdering", &b->seq_for_ordering,
                             &b->seq_for_ordering_len);
    case M_RECORDS:
        return pr_records(r);
    case M_RECORD:
        return pr_single(r);
    default:
        return pr_rec_member(r, m, one, 0);
    }
}

int
putrecords_parse(enum put_shape shape, char *body, size_t len, struct put_batch *b,
                 struct sl_diag *d)
{
    struct pr r = {.base = body, .p = body, .end = body + len, .shape = shape, .b = b, .d = d};
    unsigned known = top_members[shape];
    struct put_record *one = &r.spare;
    enum pr_member m;
    int rc;

    b->stream_name = b->stream_arn = b->seq_for_ordering = NULL;
    b->stream_name_len = b->stream_arn_len = b->seq_for_ordering_len = 0;
    b->n = 0;
    b->has_records = false;
    if (shape == PUT_KINESIS_RECORD) {
        /* The record's members sit at the top; there is always one. */
        if (b->cap > 0)
            one = &b->recs[0];
        memset(one, 0, sizeof(*one));
        b->n = 1;
        b->has_records = true;
    }
    ws(&r);
    if (r.p >= r.end || *r.p != '{')
        return pr_fail(&r, r.p, "body is not a JSON object");
    if ((rc = pr_enter(&r)) < 0)
        return rc;
    r.p++;
    ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        do {
            if ((rc = pr_key(&r, known, &m)) < 0)
                return rc;
            if ((rc = pr_top_member(&r, m, one)) < 0)
                return rc;
        } while ((rc = pr_next(&r)) > 0);
        if (rc < 0)
            return rc;
    }
    ws(&r);
    if (r.p != r.end)
        return pr_fail(&r, r.p, "unexpected data after the body");
    return 0;
}
