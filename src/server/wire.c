/*
 * wire.c - AWS request and response bodies in JSON and CBOR (see wire.h).
 *
 * Sections, low level first: base64; the JSON rules shared with
 * putrecords.c (escapes, numbers); the JSON parser; the CBOR parser;
 * accessors; the writer.
 *
 * Both parsers are recursive descent with the depth bounded by
 * WIRE_MAX_DEPTH.  Children of a map or array are collected on a scratch
 * stack that every level shares (one for values, one for members); when a
 * container closes, its children are copied into the arena in one block and
 * popped.  So a tree costs one arena block per container and the scratch
 * stacks grow to the widest path, not the whole document.
 *
 * Strings point into the body unless they had to be rebuilt: JSON strings
 * with escapes and CBOR indefinite-length strings are copied into the arena.
 */
#include "server/wire.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "server/wire_int.h"
#include "core/hash.h"
#include "core/banned.h"

/* ---- base64 ---------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of each alphabet character; 255 for everything else ('=' too:
 * padding is handled apart, in the last group only). */
static const uint8_t b64_value[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 62,  255, 255, 255, 63,
    52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  255, 255, 255, 255, 255, 255,
    255, 0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,
    15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  255, 255, 255, 255, 255,
    255, 26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
    41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

size_t
base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

void
base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        out[0] = b64_alphabet[v >> 18];
        out[1] = b64_alphabet[(v >> 12) & 63];
        out[2] = b64_alphabet[(v >> 6) & 63];
        out[3] = b64_alphabet[v & 63];
        out += 4;
    }
    if (n - i == 1) {
        out[0] = b64_alphabet[in[i] >> 2];
        out[1] = b64_alphabet[(in[i] & 3) << 4];
        out[2] = '=';
        out[3] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

        out[0] = b64_alphabet[v >> 10];
        out[1] = b64_alphabet[(v >> 4) & 63];
        out[2] = b64_alphabet[(v & 15) << 2];
        out[3] = '=';
    }
}

/*
 * The decoder's tables: each character's six bits already shifted into
 * place for its position in a group, so a group is four loads and three
 * ORs; a non-alphabet character sets bit 31, which no valid group reaches.
 * Filled before main (nothing here runs before that in sluice).
 */
#define B64_BAD 0x80000000u
static uint32_t b64_shifted[4][256];

__attribute__((constructor)) static void
b64_tables(void)
{
    for (int c = 0; c < 256; c++) {
        uint32_t v = b64_value[c];

        for (int k = 0; k < 4; k++)
            b64_shifted[k][c] = v == 255 ? B64_BAD : v << (18 - 6 * k);
    }
}

/* The group of four characters at s as 24 bits, or with B64_BAD set. */
static inline uint32_t
b64_group(const unsigned char *s)
{
    return b64_shifted[0][s[0]] | b64_shifted[1][s[1]] | b64_shifted[2][s[2]] |
           b64_shifted[3][s[3]];
}

/* Three bytes of v at out, and one byte of garbage after them. */
static inline void
b64_store4(uint8_t *out, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint32_t be = v << 8;
#else
    uint32_t be = __builtin_bswap32(v << 8);
#endif

    memcpy(out, &be, 4);
}

ptrdiff_t
wire_base64_decode(const char *in, size_t n, uint8_t *out, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, full;

    *bad = 0;
    if (n % 4 != 0)
        goto fail_len;
    if (n == 0)
        return 0;
    full = n - 4; /* the last group may carry padding */
    /*
     * Two groups per step while a further group follows: then the output
     * goes on for at least one more byte, so the fourth byte each store
     * writes is inside it (and, in place, already read).
     */
    while (i + 8 <= full) {
        uint32_t va = b64_group(s + i), vb = b64_group(s + i + 4);

        if ((va | vb) & B64_BAD)
            break;
        b64_store4(out + o, va);
        b64_store4(out + o + 3, vb);
        i += 8;
        o += 6;
    }
    for (; i < full; i += 4) {
        uint32_t v = b64_group(s + i);

        if (v & B64_BAD)
            goto fail;
        b64_store4(out + o, v);
        o += 3;
    }
    {
        uint32_t a0 = b64_value[s[i]], a1 = b64_value[s[i + 1]];
        uint32_t a2 = b64_value[s[i + 2]], a3 = b64_value[s[i + 3]];

        if ((a0 | a1) & 0x80)
            goto fail;
        if (s[i + 2] == '=' && s[i + 3] == '=') {
            /* The bits below the one byte must be zero, or two encodings
             * would decode the same. */
            if (a1 & 15)
                goto fail;
            out[o++] = (uint8_t)(a0 << 2 | a1 >> 4);
        } else if (s[i + 3] == '=') {
            if ((a2 & 0x80) || (a2 & 3))
                goto fail;
            uint32_t v = a0 << 10 | a1 << 4 | a2 >> 2;

            out[o] = (uint8_t)(v >> 8);
            out[o + 1] = (uint8_t)v;
            o += 2;
        } else {
            if ((a2 | a3) & 0x80)
                goto fail;
            uint32_t v = a0 << 18 | a1 << 12 | a2 << 6 | a3;

            out[o] = (uint8_t)(v >> 16);
            out[o + 1] = (uint8_t)(v >> 8);
            out[o + 2] = (uint8_t)v;
            o += 3;
        }
    }
    return (ptrdiff_t)o;
fail:
    *bad = i;
    return -1;
fail_len:
    /* Say where the first non-alphabet character is, if any, as that is
     * the likelier mistake than a cut. */
    while (i < n && b64_value[s[i]] != 255)
        i++;
    *bad = i < n ? i / 4 * 4 : n / 4 * 4;
    return -1;
}

ptrdiff_t
base64_decode(const char *in, size_t n, uint8_t *out)
{
    size_t bad;

    return wire_base64_decode(in, n, out, &bad);
}

/* ---- JSON rules shared with putrecords.c ----------------------------- */

static long
hex4(const char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        int h = sl_hex_digit((unsigned char)p[i]);

        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static size_t
put_utf8(char *q, uint32_t cp)
{
    if (cp < 0x80) {
        q[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        q[0] = (char)(0xC0 | cp >> 6);
        q[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        q[0] = (char)(0xE0 | cp >> 12);
        q[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        q[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    q[0] = (char)(0xF0 | cp >> 18);
    q[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    q[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    q[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t
wire_json_escape(const char *p, const char *end, char *out, size_t *outlen)
{
    long cp, lo;

    if (end - p < 2)
        return 0;
    *outlen = 1;
    switch (p[1]) {
    case '"': *out = '"'; return 2;
    case '\\': *out = '\\'; return 2;
    case '/': *out = '/'; return 2;
    case 'b': *out = '\b'; return 2;
    case 'f': *out = '\f'; return 2;
    case 'n': *out = '\n'; return 2;
    case 'r': *out = '\r'; return 2;
    case 't': *out = '\t'; return 2;
    case 'u': break;
    default: return 0;
    }
    if (end - p < 6 || (cp = hex4(p + 2)) < 0)
        return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp < 0xD800 || cp > 0xDBFF) {
        *outlen = put_utf8(out, (uint32_t)cp);
        return 6;
    }
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0 || lo < 0xDC00 ||
        lo > 0xDFFF)
        return 0;
    *outlen = put_utf8(out, (uint32_t)(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)));
    return 12;
}

static inline bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

size_t
wire_json_number(const char *p, const char *end, bool *integral)
{
    const char *q = p;

    *integral = true;
    if (q < end && *q == '-')
        q++;
    if (q >= end || !is_digit(*q))
        return 0;
    if (*q == '0') {
        q++;
    } else {
        while (q < end && is_digit(*q))
            q++;
    }
    if (q < end && *q == '.') {
        q++;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
        *integral = false;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        if (q >= end || !is_digit(*q))
            return 0;
        while (q < end && is_digit(*q))
            q++;
        *integral = false;
    }
    return (size_t)(q - p);
}

/* ---- the parsers' shared state --------------------------------------- */

struct wp {
    const char *base;          /* the body, for byte offsets */
    const char *p;             /* next byte */
    const char *end;
    struct sl_arena *a;
    struct sl_diag *d;
    int depth;                 /* open containers */
    struct wire_value *vals;   /* scratch stack of array items */
    size_t nvals, capvals;
    struct wire_member *mems;  /* scratch stack of map members */
    size_t nmems, capmems;
};

static int
wp_fail(struct wp *w, const char *at, const char *what)
{
    return sl_fail(w->d, SL_ERR_INPUT, "%s at byte %zu", what, (size_t)(at - w->base));
}

static int
wp_enter(struct wp *w)
{
    if (++w->depth > WIRE_MAX_DEPTH)
        return sl_fail(w->d, SL_ERR_INPUT, "nesting deeper than %d levels at byte %zu",
                       WIRE_MAX_DEPTH, (size_t)(w->p - w->base));
    return 0;
}

static void
push_val(struct wp *w, const struct wire_value *v)
{
    if (w->nvals == w->capvals)
        SL_GROW(w->vals, w->capvals, w->nvals + 1);
    w->vals[w->nvals++] = *v;
}

static void
push_mem(struct wp *w, const struct wire_member *m)
{
    if (w->nmems == w->capmems)
        SL_GROW(w->mems, w->capmems, w->nmems + 1);
    w->mems[w->nmems++] = *m;
}

/* Move the items pushed since base into the arena as out's array. */
static void
close_array(struct wp *w, size_t base, struct wire_value *out)
{
    size_t n = w->nvals - base;

    out->type = WIRE_ARRAY;
    out->u.a.n = n;
    out->u.a.items = NULL;
    if (n > 0) {
        out->u.a.items = sl_arena_alloc(w->a, n * sizeof(*out->u.a.items));
        memcpy(out->u.a.items, w->vals + base, n * sizeof(*out->u.a.items));
    }
    w->nvals = base;
    w->depth--;
}

static void
close_map(struct wp *w, size_t base, struct wire_value *out)
{
    size_t n = w->nmems - base;

    out->type = WIRE_MAP;
    out->u.m.n = n;
    out->u.m.members = NULL;
    if (n > 0) {
        out->u.m.members = sl_arena_alloc(w->a, n * sizeof(*out->u.m.members));
        memcpy(out->u.m.members, w->mems + base, n * sizeof(*out->u.m.members));
    }
    w->nmems = base;
    w->depth--;
}

/* ---- JSON ------------------------------------------------------------ */

static inline void
json_ws(struct wp *w)
{
    while (w->p < w->end && wire_json_ws(*w->p))
        w->p++;
}

/*
 * The string at w->p (its opening quote).  Without escapes the result
 * points into the body; with them it is rebuilt in the arena.
 */
static int
json_string(struct wp *w, const char **s, size_t *n)
{
    const char *start = w->p + 1, *p = start, *end = w->end;
    bool escaped = false;

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
            return wp_fail(w, w->p, "unterminated string");
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            break;
        if (c == '\\') {
            escaped = true;
            p += 2; /* the escape itself is checked while decoding */
            continue;
        }
        if (c < 0x20)
            return wp_fail(w, p, "control character in a string");
        if (c >= 0x80) {
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;

            if ((size_t)(end - p) < k || !sl_utf8_valid(p, k, NULL))
                return wp_fail(w, p, "invalid UTF-8 in a string");
            p += k;
            continue;
        }
        p++;
    }
    w->p = p + 1;
    if (!escaped) {
        *s = start;
        *n = (size_t)(p - start);
        return 0;
    }
    /* Escapes never lengthen the text, so the raw length is enough. */
    char *out = sl_arena_alloc(w->a, (size_t)(p - start));
    const char *r = start;
    size_t o = 0;

    while (r < p) {
        const char *bs = memchr(r, '\\', (size_t)(p - r));
        size_t run = (size_t)((bs ? bs : p) - r), used, k;

        memcpy(out + o, r, run);
        o += run;
        r += run;
        if (bs == NULL)
            break;
        used = wire_json_escape(r, p, out + o, &k);
        if (used == 0)
            return wp_fail(w, r, "invalid escape in a string");
        o += k;
        r += used;
    }
    *s = out;
    *n = o;
    return 0;
}

static int
json_number(struct wp *w, struct wire_value *out)
{
    bool integral;
    size_t len = wire_json_number(w->p, w->end, &integral);
    const char *p = w->p;

    if (len == 0)
        return wp_fail(w, p, "invalid number");
    w->p += len;
    if (integral) {
        /* Accumulate the magnitude as unsigned so INT64_MIN fits. */
        bool neg = *p == '-';
        uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        bool fits = true;

        for (const char *q = p + neg; q < w->p; q++) {
            unsigned dgt = (unsigned)(*q - '0');

            if (v > (lim - dgt) / 10) {
                fits = false;
                break;
            }
            v = v * 10 + dgt;
        }
        if (fits) {
            out->type = WIRE_INT;
            out->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
            return 0;
        }
    }
    /* strtod needs a terminated copy; out of range gives +-HUGE_VAL
     * (infinity) or a denormal/zero, which is what the number means. */
    char small[64], *buf = len < sizeof(small) ? small : sl_arena_alloc(w->a, len + 1);

    memcpy(buf, p, len);
    buf[len] = '\0';
    out->type = WIRE_FLOAT;
    out->u.f = strtod(buf, NULL);
    return 0;
}

static int json_value(struct wp *w, struct wire_value *out);

static int
json_array(struct wp *w, struct wire_value *out)
{
    size_t base = w->nvals;
    int rc;

    if ((rc = wp_enter(w)) < 0)
        return rc;
    w->p++;
    json_ws(w);
    if (w->p < w->end && *w->p == ']') {
        w->p++;
        close_array(w, base, out);
        return 0;
    }
    for (;;) {
        struct wire_value v;

        if ((rc = json_value(w, &v)) < 0)
            return rc;
        push_val(w, &v);
        json_ws(w);
        if (w->p >= w->end)
            return wp_fail(w, w->p, "unterminated array");
        if (*w->p == ']')
            break;
        if (*w->p != ',')
            return wp_fail(w, w->p, "expected ',' or ']'");
        w->p++;
    }
    w->p++;
    close_array(w, base, out);
    return 0;
}

static int
json_object(struct wp *w, struct wire_value *out)
{
    size_t base = w->nmems;
    int rc;

    if ((rc = wp_enter(w)) < 0)
        return rc;
    w->p++;
    json_ws(w);
    if (w->p < w->end && *w->p == '}') {
        w->p++;
        close_map(w, base, out);
        return 0;
    }
    for (;;) {
        struct wire_member m;

        json_ws(w);
        if (w->p >= w->end || *w->p != '"')
            return wp_fail(w, w->p, "expected a member name");
        if ((rc = json_string(w, &m.key, &m.key_len)) < 0)
            return rc;
        json_ws(w);
        if (w->p >= w->end || *w->p != ':')
            return wp_fail(w, w->p, "expected ':'");
        w->p++;
        if ((rc = json_value(w, &m.value)) < 0)
            return rc;
        push_mem(w, &m);
        json_ws(w);
        if (w->p >= w->end)
            return wp_fail(w, w->p, "unterminated object");
        if (*w->p == '}')
            break;
        if (*w->p != ',')
            return wp_fail(w, w->p, "expected ',' or '}'");
        w->p++;
    }
    w->p++;
    close_map(w, base, out);
    return 0;
}

static int
json_literal(struct wp *w, const char *word, size_t n)
{
    if ((size_t)(w->end - w->p) < n || memcmp(w->p, word, n) != 0)
        return wp_fail(w, w->p, "invalid literal");
    w->p += n;
    return 0;
}

static int
json_value(struct wp *w, struct wire_value *out)
{
    memset(out, 0, sizeof(*out));
    json_ws(w);
    if (w->p >= w->end)
        return wp_fail(w, w->p, "unexpected end of input");
    switch (*w->p) {
    case '{':
        return json_object(w, out);
    case '[':
        return json_array(w, out);
    case '"':
        out->type = WIRE_STRING;
        return json_string(w, &out->u.s.p, &out->u.s.n);
    case 't':
        out->type = WIRE_BOOL;
        out->u.b = true;
        return json_literal(w, "true", 4);
    case 'f':
        out->type = WIRE_BOOL;
        return json_literal(w, "false", 5);
    case 'n':
        out->type = WIRE_NULL;
        return json_literal(w, "null", 4);
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return json_number(w, out);
    default:
        return wp_fail(w, w->p, "unexpected character");
    }
}

/* ---- CBOR ------------------------------------------------------------ */

/* The initial byte and argument of the next item.  *indef is set for
 * additional information 31 (indefinite length, or break in major 7). */
static int
cbor_head(struct wp *w, unsigned *major, uint64_t *arg, bool *indef)
{
    const unsigned char *p = (const unsigned char *)w->p;
    size_t left = (size_t)(w->end - w->p), k;
    unsigned ai;

    if (left < 1)
        return wp_fail(w, w->p, "unexpected end of input");
    *major = p[0] >> 5;
    ai = p[0] & 31;
    *indef = false;
    if (ai < 24) {
        *arg = ai;
        w->p++;
        return 0;
    }
    if (ai == 31) {
        if (*major == 0 || *major == 1 || *major == 6)
            return wp_fail(w, w->p, "indefinite length on an integer or tag");
        *indef = true;
        *arg = 0;
        w->p++;
        return 0;
    }
    if (ai > 27)
        return wp_fail(w, w->p, "reserved additional information");
    k = (size_t)1 << (ai - 24);
    if (left < 1 + k)
        return wp_fail(w, w->p, "truncated item");
    uint64_t v = 0;

    for (size_t i = 0; i < k; i++)
        v = v << 8 | p[1 + i];
    *arg = v;
    w->p += 1 + k;
    return 0;
}

static double
half_to_double(uint16_t h)
{
    int e = (h >> 10) & 31;
    double m = h & 1023, v;

    if (e == 0)
        v = ldexp(m, -24);
    else if (e == 31)
        v = m == 0 ? INFINITY : NAN;
    else
        v = ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

static int
cbor_string(struct wp *w, unsigned major, uint64_t arg, bool indef, struct wire_value *out)
{
    const char *at = w->p;

    out->type = major == 2 ? WIRE_BYTES : WIRE_STRING;
    if (!indef) {
        if (arg > (uint64_t)(w->end - w->p))
            return wp_fail(w, w->p, "truncated string");
        if (major == 3 && !sl_utf8_valid(w->p, (size_t)arg, NULL))
            return wp_fail(w, w->p, "invalid UTF-8 in a text string");
        out->u.s.p = w->p;
        out->u.s.n = (size_t)arg;
        w->p += arg;
        return 0;
    }
    /* Chunks: first check them all and add up, then copy. */
    const char *first = w->p;
    size_t total = 0;
    int rc;

    for (;;) {
        unsigned cm;
        uint64_t clen;
        bool cindef;

        if (w->p < w->end && (unsigned char)*w->p == 0xFF)
            break;
        const char *chunk = w->p;

        if ((rc = cbor_head(w, &cm, &clen, &cindef)) < 0)
            return rc;
        if (cm != major || cindef)
            return wp_fail(w, chunk, "bad chunk in an indefinite-length string");
        if (clen > (uint64_t)(w->end - w->p))
            return wp_fail(w, w->p, "truncated string");
        if (major == 3 && !sl_utf8_valid(w->p, (size_t)clen, NULL))
            return wp_fail(w, w->p, "invalid UTF-8 in a text string");
        w->p += clen;
        total += (size_t)clen;
    }
    if (w->p >= w->end)
        return wp_fail(w, at, "unterminated indefinite-length string");
    const char *stop = w->p;
    char *buf = sl_arena_alloc(w->a, total);
    size_t o = 0;

    w->p = first;
    while (w->p < stop) {
        unsigned cm;
        uint64_t clen;
        bool cindef;

        (void)cbor_head(w, &cm, &clen, &cindef);
        memcpy(buf + o, w->p, (size_t)clen);
        o += (size_t)clen;
        w->p += clen;
    }
    w->p = stop + 1;
    out->u.s.p = buf;
    out->u.s.n = total;
    return 0;
}

static int cbor_value(struct wp *w, struct wire_value *out);

static bool
cbor_break(struct wp *w)
{
    if (w->p < w->end && (unsigned char)*w->p == 0xFF) {
        w->p++;
        return true;
    }
    return false;
}

static int
cbor_array(struct wp *w, uint64_t n, bool indef, struct wire_value *out)
{
    size_t base = w->nvals;
    int rc;

    if ((rc = wp_enter(w)) < 0)
        return rc;
    /* Every item takes a byte at least: a count beyond the rest is a lie
     * that must not size anything. */
    if (!indef && n > (uint64_t)(w->end - w->p))
        return wp_fail(w, w->p, "truncated array");
    for (uint64_t i = 0; indef || i < n; i++) {
        struct wire_value v;

        if (indef && cbor_break(w))
            break;
        if ((rc = cbor_value(w, &v)) < 0)
            return rc;
        push_val(w, &v);
    }
    close_array(w, base, out);
    return 0;
}

static int
cbor_map(struct wp *w, uint64_t n, bool indef, struct wire_value *out)
{
    size_t base = w->nmems;
    int rc;

    if ((rc = wp_enter(w)) < 0)
        return rc;
    if (!indef && n > (uint64_t)(w->end - w->p) / 2)
        return wp_fail(w, w->p, "truncated map");
    for (uint64_t i = 0; indef || i < n; i++) {
        struct wire_member m;
        struct wire_value k;
        const char *at = w->p;

        if (indef && cbor_break(w))
            break;
        if ((rc = cbor_value(w, &k)) < 0)
            return rc;
        if (k.type != WIRE_STRING)
            return wp_fail(w, at, "map key is not a text string");
        m.key = k.u.s.p;
        m.key_len = k.u.s.n;
        if ((rc = cbor_value(w, &m.value)) < 0)
            return rc;
        push_mem(w, &m);
    }
    close_map(w, base, out);
    return 0;
}

static int
cbor_simple(struct wp *w, const char *at, uint64_t arg, struct wire_value *out)
{
    const unsigned char *p = (const unsigned char *)at;
    unsigned ai = p[0] & 31;

    switch (ai) {
    case 20:
    case 21:
        out->type = WIRE_BOOL;
        out->u.b = ai == 21;
        return 0;
    case 22:
    case 23: /* undefined: as good as absent, like null */
        out->type = WIRE_NULL;
        return 0;
    case 24:
        if (arg < 32)
            return wp_fail(w, at, "simple value in two bytes below 32");
        return wp_fail(w, at, "unsupported simple value");
    case 25:
        out->type = WIRE_FLOAT;
        out->u.f = half_to_double((uint16_t)arg);
        return 0;
    case 26: {
        uint32_t b = (uint32_t)arg;
        float f;

        memcpy(&f, &b, 4);
        out->type = WIRE_FLOAT;
        out->u.f = f;
        return 0;
    }
    case 27:
        out->type = WIRE_FLOAT;
        memcpy(&out->u.f, &arg, 8);
        return 0;
    default:
        return wp_fail(w, at, "unsupported simple value");
    }
}

static int
cbor_value(struct wp *w, struct wire_value *out)
{
    unsigned major;
    uint64_t arg;
    bool indef;
    const char *at;
    int rc;

    memset(out, 0, sizeof(*out));
    /* Tags in a loop, not recursion: a long run of tags must not use up
     * the stack.  The innermost tag is the one that describes the value. */
    for (;;) {
        at = w->p;
        if ((rc = cbor_head(w, &major, &arg, &indef)) < 0)
            return rc;
        if (major != 6)
            break;
        out->tag = arg;
        out->tagged = true;
    }
    switch (major) {
    case 0:
        if (arg <= (uint64_t)INT64_MAX) {
            out->type = WIRE_INT;
            out->u.i = (int64_t)arg;
        } else {
            out->type = WIRE_FLOAT;
            out->u.f = (double)arg;
        }
        return 0;
    case 1:
        if (arg <= (uint64_t)INT64_MAX) {
            out->type = WIRE_INT;
            out->u.i = -1 - (int64_t)arg;
        } else {
            out->type = WIRE_FLOAT;
            out->u.f = -1.0 - (double)arg;
        }
        return 0;
    case 2:
    case 3:
        return cbor_string(w, major, arg, indef, out);
    case 4:
        return cbor_array(w, arg, indef, out);
    case 5:
        return cbor_map(w, arg, indef, out);
    default:
        if (indef)
            return wp_fail(w, at, "unexpected break");
        return cbor_simple(w, at, arg, out);
    }
}

/* ---- entry points ---------------------------------------------------- */

bool
wire_format_of(const char *content_type, enum wire_format *f)
{
    static const struct {
        const char *name;
        enum wire_format f;
    } types[] = {
        {"application/x-amz-json-1.1", WIRE_JSON},
        {"application/x-amz-json-1.0", WIRE_JSON},
        {"application/json", WIRE_JSON},
        {"application/x-amz-cbor-1.1", WIRE_CBOR},
        {"application/cbor", WIRE_CBOR},
    };
    const char *s = content_type, *e;

    if (s == NULL)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strcspn(s, ";");
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        size_t n = strlen(types[i].name);

        if ((size_t)(e - s) == n && strncasecmp(s, types[i].name, n) == 0) {
            *f = types[i].f;
            return true;
        }
    }
    return false;
}

const char *
wire_content_type(enum wire_format f)
{
    return f == WIRE_CBOR ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";
}

int
wire_parse(enum wire_format f, const char *body, size_t len, struct sl_arena *a,
           struct wire_value *out, struct sl_diag *d)
{
    struct wp w = {.base = body, .p = body, .end = body + len, .a = a, .d = d};
    int rc;

    if (f == WIRE_JSON) {
        rc = json_value(&w, out);
        if (rc == 0) {
            json_ws(&w);
            if (w.p != w.end)
                rc = wp_fail(&w, w.p, "unexpected data after the value");
        }
    } else {
        rc = cbor_value(&w, out);
        if (rc == 0 && w.p != w.end)
            rc = wp_fail(&w, w.p, "unexpected data after the value");
    }
    free(w.vals);
    free(w.mems);
    return rc;
}

/* ---- accessors ------------------------------------------------------- */

const struct wire_value *
wire_get(const struct wire_value *v, const char *key)
{
    size_t n;

    if (v == NULL || key == NULL || v->type != WIRE_MAP)
        return NULL;
    n = strlen(key);
    /* The last of duplicate members wins, as in most JSON readers (and in
     * putrecords_parse, which overwrites as it goes). */
    for (size_t i = v->u.m.n; i-- > 0;) {
        const struct wire_member *m = &v->u.m.members[i];

        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return &m->value;
    }
    return NULL;
}

bool
wire_str_eq(const struct wire_value *v, const char *s)
{
    size_t n = strlen(s);

    return v != NULL && v->type == WIRE_STRING && v->u.s.n == n && memcmp(v->u.s.p, s, n) == 0;
}

char *
wire_strdup(const struct wire_value *v, struct sl_arena *a)
{
    if (v == NULL || v->type != WIRE_STRING)
        return NULL;
    return sl_arena_strndup(a, v->u.s.p, v->u.s.n);
}

int
wire_blob(const struct wire_value *v, struct sl_arena *a, const uint8_t **p, size_t *n,
          struct sl_diag *d)
{
    if (v != NULL && v->type == WIRE_BYTES) {
        *p = (const uint8_t *)v->u.s.p;
        *n = v->u.s.n;
        return 0;
    }
    if (v == NULL || v->type != WIRE_STRING)
        return sl_fail(d, SL_ERR_INPUT, "blob is not a base64 string or a byte string");
    /* +1 so that an empty blob still has an address of its own. */
    uint8_t *out = sl_arena_alloc(a, v->u.s.n / 4 * 3 + 1);
    size_t bad;
    ptrdiff_t k = wire_base64_decode(v->u.s.p, v->u.s.n, out, &bad);

    if (k < 0)
        return sl_fail(d, SL_ERR_INPUT, "blob is not valid base64 (near character %zu)", bad);
    *p = out;
    *n = (size_t)k;
    return 0;
}

/* Seconds as milliseconds, rounded to the nearest; false out of range. */
static bool
float_ms(double f, double scale, int64_t *ms)
{
    double x = f * scale;

    /* 2^62 ms is some 146 million years: nothing real lies beyond. */
    if (!(x > -4.6e18 && x < 4.6e18))
        return false;
    *ms = llround(x);
    return true;
}

int
wire_time_ms(enum wire_format f, const struct wire_value *v, int64_t *ms, struct sl_diag *d)
{
    if (v == NULL || (v->type != WIRE_INT && v->type != WIRE_FLOAT))
        return sl_fail(d, SL_ERR_INPUT, "timestamp is not a number");
    if (f == WIRE_CBOR && v->tagged && v->tag != 1)
        return sl_fail(d, SL_ERR_INPUT, "timestamp has tag %llu, not 1",
                       (unsigned long long)v->tag);
    bool seconds = f == WIRE_JSON || v->tagged;

    if (v->type == WIRE_INT) {
        int64_t i = v->u.i;

        /* The Java SDK v1 sends tag 1 with epoch milliseconds; RFC 8949
         * says seconds.  No second count of interest reaches 1e11 (year
         * 5138), and no millisecond count after March 1973 is below it. */
        if (seconds && f == WIRE_CBOR && (i >= 100000000000LL || i <= -100000000000LL))
            seconds = false;
        if (!seconds) {
            *ms = i;
            return 0;
        }
        if (i > INT64_MAX / 1000 || i < INT64_MIN / 1000)
            return sl_fail(d, SL_ERR_INPUT, "timestamp out of range");
        *ms = i * 1000;
        return 0;
    }
    if (!float_ms(v->u.f, seconds ? 1000.0 : 1.0, ms))
        return sl_fail(d, SL_ERR_INPUT, "timestamp out of range");
    return 0;
}

/* ---- the writer ------------------------------------------------------ */

void
wire_writer_init(struct wire_writer *w, enum wire_format f, struct sl_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->f = f;
    w->out = out;
}

/*
 * JSON: a comma before every item but the first of its container.  A key
 * leaves first[] set, so the value after it adds no comma; the value then
 * clears it for the next key.
 */
static void
json_sep(struct wire_writer *w)
{
    if (w->depth == 0)
        return;
    if (!w->first[w->depth - 1])
        sl_buf_addc(w->out, ',');
    w->first[w->depth - 1] = false;
}

/* A CBOR head in its shortest form. */
static void
cbor_put_head(struct sl_buf *b, unsigned major, uint64_t v)
{
    uint8_t h[9];
    size_t n;

    major <<= 5;
    if (v < 24) {
        h[0] = (uint8_t)(major | v);
        n = 1;
    } else if (v <= 0xFF) {
        h[0] = (uint8_t)(major | 24);
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xFFFF) {
        h[0] = (uint8_t)(major | 25);
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        n = 3;
    } else if (v <= 0xFFFFFFFF) {
        h[0] = (uint8_t)(major | 26);
        for (int i = 0; i < 4; i++)
            h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        n = 5;
    } else {
        h[0] = (uint8_t)(major | 27);
        for (int i = 0; i < 8; i++)
            h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        n = 9;
    }
    sl_buf_add(b, h, n);
}

static void
open_container(struct wire_writer *w, char json, uint8_t cbor)
{
    if (w->f == WIRE_JSON) {
        json_sep(w);
        sl_buf_addc(w->out, json);
    } else {
        sl_buf_addc(w->out, (char)cbor);
    }
    /* Our own code builds responses: nesting this deep is a bug. */
    if (w->depth >= WIRE_MAX_DEPTH)
        abort();
    w->first[w->depth++] = true;
}

static void
close_container(struct wire_writer *w, char json)
{
    w->depth--;
    sl_buf_addc(w->out, w->f == WIRE_JSON ? json : (char)0xFF);
}

void
wire_map_begin(struct wire_writer *w)
{
    open_container(w, '{', 0xBF);
}

void
wire_map_end(struct wire_writer *w)
{
    close_container(w, '}');
}

void
wire_array_begin(struct wire_writer *w)
{
    open_container(w, '[', 0x9F);
}

void
wire_array_end(struct wire_writer *w)
{
    close_container(w, ']');
}

static void
put_str(struct wire_writer *w, const char *s, size_t n)
{
    if (w->f == WIRE_JSON) {
        sl_buf_add_json_str(w->out, s, n);
    } else {
        cbor_put_head(w->out, 3, n);
        sl_buf_add(w->out, s, n);
    }
}

void
wire_key(struct wire_writer *w, const char *key)
{
    if (w->f == WIRE_JSON) {
        json_sep(w);
        put_str(w, key, strlen(key));
        sl_buf_addc(w->out, ':');
        w->first[w->depth - 1] = true;
    } else {
        put_str(w, key, strlen(key));
    }
}

void
wire_str(struct wire_writer *w, const char *s, size_t n)
{
    if (w->f == WIRE_JSON)
        json_sep(w);
    put_str(w, s, n);
}

void
wire_strz(struct wire_writer *w, const char *s)
{
    wire_str(w, s, strlen(s));
}

void
wire_int(struct wire_writer *w, int64_t v)
{
    if (w->f == WIRE_JSON) {
        json_sep(w);
        sl_buf_addf(w->out, "%lld", (long long)v);
    } else if (v >= 0) {
        cbor_put_head(w->out, 0, (uint64_t)v);
    } else {
        cbor_put_head(w->out, 1, (uint64_t)(-1 - v));
    }
}

void
wire_float(struct wire_writer *w, double v)
{
    if (w->f == WIRE_CBOR) {
        uint64_t bits;

        memcpy(&bits, &v, 8);
        sl_buf_addc(w->out, (char)0xFB);
        for (int i = 0; i < 8; i++)
            sl_buf_addc(w->out, (char)(uint8_t)(bits >> (56 - 8 * i)));
        return;
    }
    json_sep(w);
    if (isnan(v)) {
        sl_buf_adds(w->out, "null");
        return;
    }
    if (isinf(v)) {
        /* Beyond double range: every JSON reader turns it back into an
         * infinity or refuses it, and it is valid JSON. */
        sl_buf_adds(w->out, v > 0 ? "1e999" : "-1e999");
        return;
    }
    char s[40];

    /* The shortest of 15, 16, 17 digits that reads back the same. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            break;
    }
    sl_buf_adds(w->out, s);
    /* Keep it a float for the reader: "1" would come back an integer. */
    if (strpbrk(s, ".e") == NULL)
        sl_buf_adds(w->out, ".0");
}

void
wire_bool(struct wire_writer *w, bool v)
{
    if (w->f == WIRE_JSON) {
        json_sep(w);
        sl_buf_adds(w->out, v ? "true" : "false");
    } else {
        sl_buf_addc(w->out, (char)(v ? 0xF5 : 0xF4));
    }
}

void
wire_null(struct wire_writer *w)
{
    if (w->f == WIRE_JSON) {
        json_sep(w);
        sl_buf_adds(w->out, "null");
    } else {
        sl_buf_addc(w->out, (char)0xF6);
    }
}

void
wire_bytes(struct wire_writer *w, const void *p, size_t n)
{
    if (w->f == WIRE_CBOR) {
        cbor_put_head(w->out, 2, n);
        sl_buf_add(w->out, p, n);
        return;
    }
    size_t k = base64_encoded_len(n);

    json_sep(w);
    sl_buf_grow(w->out, k + 2);
    sl_buf_addc(w->out, '"');
    base64_encode(p, n, w->out->data + w->out->len);
    sl_buf_setlen(w->out, w->out->len + k);
    sl_buf_addc(w->out, '"');
}

void
wire_time(struct wire_writer *w, int64_t ms)
{
    if (w->f == WIRE_CBOR) {
        wire_int(w, ms);
        return;
    }
    /* Exact decimal text: a double would turn .123 into .12299999. */
    uint64_t mag = ms < 0 ? 0 - (uint64_t)ms : (uint64_t)ms;

    json_sep(w);
    sl_buf_addf(w->out, "%s%llu.%03u", ms < 0 ? "-" : "", (unsigned long long)(mag / 1000),
                (unsigned)(mag % 1000));
}

void
wire_write_value(struct wire_writer *w, const struct wire_value *v)
{
    if (w->f == WIRE_CBOR && v->tagged)
        cbor_put_head(w->out, 6, v->tag);
    switch (v->type) {
    case WIRE_NULL:
        wire_null(w);
        break;
    case WIRE_BOOL:
        wire_bool(w, v->u.b);
        break;
    case WIRE_INT:
        wire_int(w, v->u.i);
        break;
    case WIRE_FLOAT:
        wire_float(w, v->u.f);
        break;
    case WIRE_STRING:
        wire_str(w, v->u.s.p, v->u.s.n);
        break;
    case WIRE_BYTES:
        wire_bytes(w, v->u.s.p, v->u.s.n);
        break;
    case WIRE_ARRAY:
        wire_array_begin(w);
        for (size_t i = 0; i < v->u.a.n; i++)
            wire_write_value(w, &v->u.a.items[i]);
        wire_array_end(w);
        break;
    case WIRE_MAP:
        wire_map_begin(w);
        for (size_t i = 0; i < v->u.m.n; i++) {
            const struct wire_member *m = &v->u.m.members[i];

            /* Keys may hold NULs: not through wire_key's C string. */
            if (w->f == WIRE_JSON) {
                json_sep(w);
                put_str(w, m->key, m->key_len);
                sl_buf_addc(w->out, ':');
                w->first[w->depth - 1] = true;
            } else {
                put_str(w, m->key, m->key_len);
            }
            wire_write_value(w, &m->value);
        }
        wire_map_end(w);
        break;
    }
}
