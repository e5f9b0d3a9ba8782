/*
 * read_json.c - JSON lines and JSON arrays into rows (see reader.h).
 *
 * One validating recursive-descent parser (RFC 8259) serves both.  A record
 * is a JSON object whose members are the fields; strings are checked for
 * UTF-8 as they are scanned, eight bytes at a time where nothing needs a
 * second look.  Strings without escapes are passed to the row builder as
 * slices of the raw bytes; escaped ones are decoded into a scratch buffer.
 *
 * JSON lines: each non-blank line is one record; a line that is not a valid
 * object is quarantined whole and reading goes on with the next line.
 * JSON arrays: each element is one record; an element that is valid JSON
 * but not an object is quarantined; a syntax error ends the array, and the
 * rest of the file from that element is quarantined as one record, because
 * no reader can know where the next element starts.
 *
 * Schema drift: a member name no column has is counted for the record
 * (rows_drift_*), with its value's JSON text as the example; only the
 * top-level members of a record are fields.
 */
#include "transform/reader.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "core/banned.h"

#define MAX_DEPTH 512

struct jp {
    const char *p;       /* next byte */
    const char *end;
    const char *base;    /* start of the current record, for offsets */
    int64_t line;        /* current line (arrays span lines) */
    const char *err;     /* syntax error, static text */
    const char *err_at;  /* where it was found */
    const char *field;   /* member being parsed, for UTF-8 errors */
    bool utf8_err;
    char *scratch;       /* unescaped strings */
    size_t scap;
    struct sl_arena *arena;
};

static const char *
jerr(struct jp *j, const char *msg)
{
    if (j->err == NULL) {
        j->err = msg;
        j->err_at = j->p;
    }
    return NULL;
}

static inline void
skip_ws(struct jp *j)
{
    while (j->p < j->end) {
        char c = *j->p;

        if (c == ' ' || c == '\t' || c == '\r') {
            j->p++;
        } else if (c == '\n') {
            j->line++;
            j->p++;
        } else {
            break;
        }
    }
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t
has_zero(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

/* Bytes of w that need a closer look inside a string: '"', '\\', control
 * characters and non-ASCII. */
static inline uint64_t
special(uint64_t w)
{
    return has_zero(w ^ (ONES * '"')) | has_zero(w ^ (ONES * '\\')) |
           ((w - ONES * 0x20) & ~w & HIGHS) | (w & HIGHS);
}

static int
hex4(const char *p)
{
    int v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static void
put_utf8(char **o, uint32_t cp)
{
    char *q = *o;

    if (cp < 0x80) {
        *q++ = (char)cp;
    } else if (cp < 0x800) {
        *q++ = (char)(0xC0 | cp >> 6);
        *q++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *q++ = (char)(0xE0 | cp >> 12);
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *q++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *q++ = (char)(0xF0 | cp >> 18);
        *q++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *q++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *q++ = (char)(0x80 | (cp & 0x3F));
    }
    *o = q;
}

/*
 * Scan a string starting at the opening quote.  On success *s and *len hold its
 * content (decoded if it had escapes, then *stable is false) and j->p is
 * past the closing quote.  Returns false on a syntax or encoding error.
 */
static bool
scan_string(struct jp *j, const char **s, size_t *len, bool *stable)
{
    const char *p = j->p + 1, *start = p, *end = j->end;
    bool escaped = false;

    for (;;) {
        /* Eight bytes at a time; the lowest flagged byte is the first that
         * needs a look (higher flags may be false alarms, never lower). */
        while (p + 8 <= end) {
            uint64_t w, m;

            memcpy(&w, p, 8);
            m = special(w);
            if (m != 0) {
                p += __builtin_ctzll(m) >> 3;
                break;
            }
            p += 8;
        }
        if (p >= end) {
            j->p = p;
            jerr(j, "unterminated string");
            return false;
        }
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            break;
        if (c == '\\') {
            escaped = true;
            if (p + 1 >= end) {
                j->p = p;
                jerr(j, "unterminated string");
                return false;
            }
            p += 2;
            continue;
        }
        if (c < 0x20) {
            j->p = p;
            jerr(j, "control character in a string (it must be escaped)");
            return false;
        }
        if (c >= 0x80) {
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

            if (p + n > end || !sl_utf8_valid(p, n, NULL)) {
                j->p = p;
                j->utf8_err = true;
                jerr(j, "invalid UTF-8");
                return false;
            }
            p += n;
            continue;
        }
        p++;
    }
    j->p = p + 1;
    if (!escaped) {
        *s = start;
        *len = (size_t)(p - start);
        *stable = true;
        return true;
    }
    /* Decode escapes; the result is never longer than the source. */
    size_t n = (size_t)(p - start);

    if (n > j->scap) {
        j->scap = n * 2;
        j->scratch = sl_realloc(j->scratch, j->scap);
    }
    char *o = j->scratch;

    for (const char *q = start; q < p;) {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        q++;
        switch (*q++) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            int hi = q + 4 <= p ? hex4(q) : -1;
            uint32_t cp;

            if (hi < 0) {
                j->p = q;
                jerr(j, "invalid \\u escape");
                return false;
            }
            q += 4;
            cp = (uint32_t)hi;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                int lo = q + 6 <= p && q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;

                if (lo < 0xDC00 || lo > 0xDFFF) {
                    j->p = q;
                    jerr(j, "unpaired UTF-16 surrogate in a \\u escape");
                    return false;
                }
                q += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                j->p = q;
                jerr(j, "unpaired UTF-16 surrogate in a \\u escape");
                return false;
            }
            put_utf8(&o, cp);
            break;
        }
        default:
            j->p = q - 1;
            jerr(j, "invalid escape in a string");
            return false;
        }
    }
    *s = j->scratch;
    *len = (size_t)(o - j->scratch);
    *stable = false;
    return true;
}

/* Scan a number token; strict JSON grammar. */
static bool
scan_number(struct jp *j)
{
    const char *p = j->p, *end = j->end;

    if (p < end && *p == '-')
        p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        j->p = p;
        jerr(j, "invalid number");
        return false;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') {
            j->p = p;
            jerr(j, "invalid number");
            return false;
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9') {
            j->p = p;
            jerr(j, "invalid number");
            return false;
        }
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    j->p = p;
    return true;
}

static bool
literal(struct jp *j, const char *word, size_t n)
{
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0) {
        jerr(j, "invalid literal (expected true, false or null)");
        return false;
    }
    j->p += n;
    return true;
}

/* Parse and discard any value (validating it). */
static bool
skip_value(struct jp *j, int depth)
{
    const char *s;
    size_t n;
    bool stable;

    if (depth > MAX_DEPTH) {
        jerr(j, "nested too deeply");
        return false;
    }
    skip_ws(j);
    if (j->p >= j->end) {
        jerr(j, "unexpected end of data, expected a value");
        return false;
    }
    switch (*j->p) {
    case '"':
        return scan_string(j, &s, &n, &stable);
    case '{':
    case '[': {
        char close = *j->p == '{' ? '}' : ']';
        bool obj = close == '}';

        j->p++;
        skip_ws(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return true;
        }
        for (;;) {
            if (obj) {
                skip_ws(j);
                if (j->p >= j->end || *j->p != '"') {
                    jerr(j, "expected a member name in quotes");
                    return false;
                }
                if (!scan_string(j, &s, &n, &stable))
                    return false;
                skip_ws(j);
                if (j->p >= j->end || *j->p != ':') {
                    jerr(j, "expected ':' after a member name");
                    return false;
                }
                j->p++;
            }
            if (!skip_value(j, depth + 1))
                return false;
            skip_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                return true;
            }
            jerr(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            return false;
        }
    }
    case 't':
        return literal(j, "true", 4);
    case 'f':
        return literal(j, "false", 5);
    case 'n':
        return literal(j, "null", 4);
    default:
        return scan_number(j);
    }
}

/*
 * Parse one object into the current record of r.  j->p is at '{'.
 * Returns false on a syntax error (the record must then be rejected).
 */
static bool
parse_record(struct jp *j, struct rows *r, struct colmap *m)
{
    const struct contract *c = m->c;
    size_t pos = 0;

    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        const char *name, *vs;
        size_t nlen;
        bool stable, example = false;
        struct rec_value v;
        int col, drift = -1;

        skip_ws(j);
        if (j->p >= j->end || *j->p != '"') {
            jerr(j, "expected a field name in quotes");
            return false;
        }
        j->field = NULL;
        if (!scan_string(j, &name, &nlen, &stable))
            return false;
        col = colmap_find_at(m, pos++, name, nlen);
        if (col >= 0) {
            j->field = c->columns[col].name;
        } else {
            /* Drift: counted here, where the name is at hand anyway; the
             * example is the value, once it is parsed. */
            drift = rows_drift_find(r, ROWS_DRIFT_UNKNOWN, name, nlen);
            example = drift >= 0 && rows_drift_count(r, drift);
        }
        if (col < 0 && !rows_failed(r) && c->unknown_fields == CONTRACT_UNKNOWN_REJECT) {
            size_t cut = nlen < 60 ? nlen : 60;

            /* Cut at a character boundary: the reason is written as JSON. */
            while (cut > 0 && cut < nlen && ((unsigned char)name[cut] & 0xC0) == 0x80)
                cut--;
            rows_fail(r, NULL, "unknown field \"%.*s\" (not in contract version %s)",
                      (int)cut, name, c->version);
        }
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':') {
            jerr(j, "expected ':' after a field name");
            return false;
        }
        j->p++;
        skip_ws(j);
        if (j->p >= j->end) {
            jerr(j, "unexpected end of data, expected a value");
            return false;
        }
        vs = j->p;
        memset(&v, 0, sizeof(v));
        switch (*j->p) {
        case '"':
            if (!scan_string(j, &v.s, &v.len, &stable))
                return false;
            v.kind = REC_STRING;
            break;
        case '{':
        case '[':
            if (!skip_value(j, 1))
                return false;
            v.kind = REC_NESTED;
            v.s = vs;
            v.len = (size_t)(j->p - vs);
            stable = true;
            break;
        case 't':
        case 'f':
            if (!literal(j, *j->p == 't' ? "true" : "false", *j->p == 't' ? 4 : 5))
                return false;
            v.kind = REC_BOOL;
            v.b = *vs == 't';
            break;
        case 'n':
            if (!literal(j, "null", 4))
                return false;
            v.kind = REC_NULL;
            break;
        default:
            if (!scan_number(j))
                return false;
            v.kind = REC_NUMBER;
            v.s = vs;
            v.len = (size_t)(j->p - vs);
            stable = true;
            break;
        }
        if (col >= 0)
            rows_field(r, col, &v, stable);
        else if (example)
            rows_drift_example(r, drift, vs, (size_t)(j->p - vs), false);
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return true;
        }
        jerr(j, "expected ',' or '}' after a field");
        return false;
    }
}

/* The quarantine reason for a syntax error of parser j. */
static const char *
reason(struct jp *j, struct sl_arena *a)
{
    if (j->utf8_err)
        return sl_arena_printf(a, "invalid UTF-8 at byte %td%s%s", j->err_at - j->base + 1,
                               j->field ? " in field " : " in a field name",
                               j->field ? j->field : "");
    return sl_arena_printf(a, "invalid JSON at byte %td: %s", j->err_at - j->base + 1, j->err);
}

/* A UTF-8 byte-order mark at the very start is not data. */
static size_t
bom(const char *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

int
read_jsonl(struct rows *r, struct colmap *m, const char *data, size_t len,
           int64_t first_line, int64_t first_record)
{
    const char *p = data + (first_line == 1 ? bom(data, len) : 0), *end = data + len;
    int64_t line = first_line, record = first_record;
    struct jp j = {0};

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *le = eol;
        struct rec_pos pos = {line, record};

        if (le > p && le[-1] == '\r')
            le--;
        j.p = p;
        j.end = le;
        j.base = p;
        j.err = NULL;
        j.utf8_err = false;
        j.field = NULL;
        skip_ws(&j);
        if (j.p == le) {
            /* A blank line is not a record. */
        } else if (*j.p != '{') {
            if (skip_value(&j, 0))
                rows_reject(r, pos, p, (size_t)(le - p), NULL,
                            "expected a JSON object, found another JSON value");
            else
                rows_reject(r, pos, p, (size_t)(le - p), j.utf8_err ? j.field : NULL,
                            reason(&j, &r->arena));
            record++;
        } else {
            rows_begin(r, pos);
            if (parse_record(&j, r, m)) {
                skip_ws(&j);
                if (j.p != le) {
                    jerr(&j, "more data after the JSON object");
                    rows_reject(r, pos, p, (size_t)(le - p), NULL, reason(&j, &r->arena));
                } else {
                    rows_end(r, p, (size_t)(le - p));
                }
            } else {
                rows_reject(r, pos, p, (size_t)(le - p), j.utf8_err ? j.field : NULL,
                            reason(&j, &r->arena));
            }
            record++;
        }
        line++;
        p = nl ? nl + 1 : end;
    }
    free(j.scratch);
    return 0;
}

int
read_json_array(struct rows *r, struct colmap *m, const char *data, size_t len)
{
    struct jp j = {.p = data + bom(data, len), .end = data + len, .base = data, .line = 1};
    int64_t record = 1;

    skip_ws(&j);
    if (j.p >= j.end) {
        free(j.scratch);
        return 0; /* an empty file holds no records */
    }
    if (*j.p != '[') {
        struct rec_pos pos = {j.line, 1};

        rows_reject(r, pos, j.p, (size_t)(j.end - j.p), NULL,
                    "expected a JSON array of objects; the file could not be read");
        free(j.scratch);
        return 0;
    }
    j.p++;
    skip_ws(&j);
    if (j.p < j.end && *j.p == ']') {
        j.p++;
    } else {
        for (;;) {
            const char *start;
            struct rec_pos pos;

            skip_ws(&j);
            start = j.p;
            pos.line = j.line;
            pos.record = record++;
            j.base = start;
            j.err = NULL;
            j.utf8_err = false;
            j.field = NULL;
            if (j.p < j.end && *j.p == '{') {
                rows_begin(r, pos);
                if (parse_record(&j, r, m)) {
                    rows_end(r, start, (size_t)(j.p - start));
                } else {
                    const char *why = reason(&j, &r->arena);

                    rows_reject(r, pos, start, (size_t)(j.end - start),
                                j.utf8_err ? j.field : NULL,
                                sl_arena_printf(&r->arena, "%s; the rest of the file, from this "
                                                "record on, could not be read", why));
                    j.p = j.end;
                    break;
                }
            } else if (skip_value(&j, 0)) {
                rows_reject(r, pos, start, (size_t)(j.p - start), NULL,
                            "expected a JSON object, found another JSON value");
            } else {
                const char *why = reason(&j, &r->arena);

                rows_reject(r, pos, start, (size_t)(j.end - start), NULL,
                            sl_arena_printf(&r->arena, "%s; the rest of the file, from this "
                                            "record on, could not be read", why));
                j.p = j.end;
                break;
            }
            skip_ws(&j);
            if (j.p < j.end && *j.p == ',') {
                j.p++;
                continue;
            }
            if (j.p < j.end && *j.p == ']') {
                j.p++;
                break;
            }
            pos.line = j.line;
            pos.record = record;
            rows_reject(r, pos, j.p, (size_t)(j.end - j.p), NULL,
                        j.p < j.end ? "invalid JSON: expected ',' or ']' between records; the "
                                      "rest of the file could not be read"
                                    : "the JSON array is not closed (truncated file?)");
            j.p = j.end;
            break;
        }
    }
    skip_ws(&j);
    if (j.p < j.end) {
        struct rec_pos pos = {j.line, record};

        rows_reject(r, pos, j.p, (size_t)(j.end - j.p), NULL, "more data after the JSON array");
    }
    free(j.scratch);
    return 0;
}
