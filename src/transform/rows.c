/*
 * rows.c - the row builder and type coercion (see rows.h).
 *
 * Coercion rules, by target type (value kinds from record.h):
 *
 *   string     string, CSV text, number token (as written), bool; Avro
 *              numbers and logical types as their text; bytes if UTF-8
 *   int64      integer text or number (1e3 and 5.0 are fine, 5.5 is not);
 *              Avro int/long; a double with no fraction
 *   double     number text (JSON grammar), Avro int/long/float/double
 *   bool       true/false, t/f, yes/no, 1/0 (text, any case); 0/1 numbers
 *   date       YYYY-MM-DD; Avro date
 *   timestamp  ISO 8601 (see core/time.h); Avro timestamp; Avro date
 *   decimal    number text with no more fraction digits than the scale
 *              (no silent rounding) and at most the precision; Avro
 *              int/long/decimal; a double by its shortest exact text
 *
 * NULL: JSON null, an empty unquoted CSV field, an empty quoted CSV field
 * for any type but string, and an Avro null.  A required column that is
 * missing or NULL fails the record.
 */
#include "transform/rows.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/num.h"
#include "core/time.h"
#include "core/utf8.h"
#include "table/value.h"
#include "core/banned.h"

void
rows_init(struct rows *r, const struct rows_object *obj, int64_t max_record_bytes)
{
    memset(r, 0, sizeof(*r));
    r->obj = obj;
    r->contract = obj->contract;
    r->ncols = obj->contract->ncolumns;
    r->max_record_bytes = max_record_bytes;
    r->cols = sl_calloc(r->ncols, sizeof(*r->cols));
    r->seeds = sl_calloc(r->ncols, sizeof(*r->seeds));
    for (size_t i = 0; i < r->ncols; i++) {
        r->cols[i].type = r->contract->columns[i].type;
        r->seeds[i] = rows_name_seed(r->contract->columns[i].name);
    }
    sl_arena_init(&r->arena, 1 << 20);
}

void
rows_release(struct rows *r)
{
    for (size_t i = 0; i < r->ncols; i++) {
        struct rows_col *c = &r->cols[i];

        free(c->null);
        free(c->i64);
        free(c->i128);
        free(c->f64);
        free(c->i32);
        free(c->b);
        free(c->str);
    }
    free(r->cols);
    free(r->seeds);
    free(r->ev);
    free(r->pos);
    free(r->row_hash);
    free(r->key);
    free(r->key_hash);
    free(r->key_hash2);
    free(r->bad);
    free(r->drift);
    free(r->drift_slot);
    sl_arena_release(&r->arena);
    memset(r, 0, sizeof(*r));
}

/* Room for cap rows (cap > r->cap). */
static void
grow_to(struct rows *r, size_t cap)
{
    for (size_t i = 0; i < r->ncols; i++) {
        struct rows_col *c = &r->cols[i];

        c->null = sl_realloc(c->null, cap);
        switch (c->type.id) {
        case SL_TYPE_STRING:
            c->str = sl_realloc(c->str, cap * sizeof(*c->str));
            break;
        case SL_TYPE_INT64:
        case SL_TYPE_TIMESTAMP:
            c->i64 = sl_realloc(c->i64, cap * sizeof(*c->i64));
            break;
        case SL_TYPE_DECIMAL:
            if (c->type.precision <= 18)
                c->i64 = sl_realloc(c->i64, cap * sizeof(*c->i64));
            else
                c->i128 = sl_realloc(c->i128, cap * sizeof(*c->i128));
            break;
        case SL_TYPE_DOUBLE:
            c->f64 = sl_realloc(c->f64, cap * sizeof(*c->f64));
            break;
        case SL_TYPE_DATE:
            c->i32 = sl_realloc(c->i32, cap * sizeof(*c->i32));
            break;
        case SL_TYPE_BOOL:
            c->b = sl_realloc(c->b, cap);
            break;
        case SL_TYPE_INT32:
        case SL_TYPE_FLOAT:
            assert(!"a contract has no int or float column");
            break;
        }
    }
    r->ev = sl_realloc(r->ev, cap * sizeof(*r->ev));
    r->pos = sl_realloc(r->pos, cap * sizeof(*r->pos));
    r->row_hash = sl_realloc(r->row_hash, cap * sizeof(*r->row_hash));
    r->key = sl_realloc(r->key, cap * sizeof(*r->key));
    r->key_hash = sl_realloc(r->key_hash, cap * sizeof(*r->key_hash));
    r->key_hash2 = sl_realloc(r->key_hash2, cap * sizeof(*r->key_hash2));
    r->cap = cap;
}

void
rows_reserve(struct rows *r, size_t n)
{
    if (n > r->cap)
        grow_to(r, n);
}

void
rows_begin(struct rows *r, struct rec_pos pos)
{
    if (r->n == r->cap)
        grow_to(r, r->cap ? r->cap * 2 : 4096);
    r->cur = pos;
    memset(r->present, 0, (r->ncols + 63) / 64 * sizeof(uint64_t));
    r->fail_field = NULL;
    r->fail_reason = NULL;
}

void
rows_fail(struct rows *r, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (r->fail_reason != NULL)
        return;
    va_start(ap, fmt);
    r->fail_reason = sl_arena_vprintf(&r->arena, fmt, ap);
    va_end(ap);
    r->fail_field = field;
}

/* A short, printable rendering of a bad value for a reason text. */
static const char *
shown(struct rows *r, const struct rec_value *v)
{
    char buf[64];
    size_t n = v->len < 40 ? v->len : 40;

    switch (v->kind) {
    case REC_NULL:
        return "null";
    case REC_BOOL:
        return v->b ? "true" : "false";
    case REC_NESTED:
        return v->len && v->s[0] == '[' ? "a JSON array" : "a JSON object";
    case REC_INT:
        snprintf(buf, sizeof(buf), "%lld", (long long)v->i);
        return sl_arena_strdup(&r->arena, buf);
    case REC_DOUBLE:
        snprintf(buf, sizeof(buf), "%.17g", v->f);
        return sl_arena_strdup(&r->arena, buf);
    case REC_DATE:
        return "an Avro date";
    case REC_TIMESTAMP:
        return "an Avro timestamp";
    case REC_DECIMAL:
        return "an Avro decimal";
    case REC_BYTES:
        return "bytes";
    case REC_NUMBER:
        return sl_arena_strndup(&r->arena, v->s, n < v->len ? n : v->len);
    default:
        break;
    }
    /* Text: quoted, cut (at a character boundary: the reason is written as
     * JSON), with control characters and quotes escaped. */
    struct sl_buf b;

    while (n > 0 && n < v->len && ((unsigned char)v->s[n] & 0xC0) == 0x80)
        n--;
    sl_buf_init(&b);
    sl_buf_add_json_str(&b, v->s, n);
    if (n < v->len) {
        sl_buf_setlen(&b, b.len - 1);
        sl_buf_adds(&b, "...\"");
    }
    const char *s = sl_arena_strndup(&r->arena, b.data, b.len);

    sl_buf_release(&b);
    return s;
}

static bool
is_text(const struct rec_value *v)
{
    return v->kind == REC_TEXT || v->kind == REC_STRING || v->kind == REC_NUMBER;
}

/* The shortest decimal text that reads back as exactly f. */
static void
shortest(double f, char *out, size_t size)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, f);
        if (strtod(out, NULL) == f)
            return;
    }
}

static int
set_int64(struct rows *r, const struct contract_column *col, const struct rec_value *v,
          int64_t *out)
{
    if (is_text(v)) {
        int rc = sl_parse_i64(v->s, v->len, out);
        __int128 d;

        if (rc == 0)
            return 0;
        /* 1e3, 5.0: integral numbers in other spellings. */
        if (rc == SL_ERR_INPUT && sl_parse_decimal(v->s, v->len, 38, 0, &d) == 0) {
            if (d >= INT64_MIN && d <= INT64_MAX) {
                *out = (int64_t)d;
                return 0;
            }
            rc = SL_ERR_LIMIT;
        }
        if (rc == SL_ERR_LIMIT && sl_parse_decimal(v->s, v->len, 38, 0, &d) == 0)
            rows_fail(r, col->name, "value %s is out of range for int64", shown(r, v));
        else
            rows_fail(r, col->name, "expected an integer, found %s", shown(r, v));
        return -1;
    }
    if (v->kind == REC_INT) {
        *out = v->i;
        return 0;
    }
    if (v->kind == REC_DOUBLE && v->f == floor(v->f) && fabs(v->f) < 9.2e18) {
        *out = (int64_t)v->f;
        return 0;
    }
    rows_fail(r, col->name, "expected an integer, found %s", shown(r, v));
    return -1;
}

static int
set_double(struct rows *r, const struct contract_column *col, const struct rec_value *v,
           double *out)
{
    if (is_text(v)) {
        int rc = sl_parse_double(v->s, v->len, out);

        if (rc == 0)
            return 0;
        rows_fail(r, col->name, rc == SL_ERR_LIMIT ? "value %s is out of range for double"
                                                   : "expected a number, found %s",
                  shown(r, v));
        return -1;
    }
    switch (v->kind) {
    case REC_INT:
        *out = (double)v->i;
        return 0;
    case REC_DOUBLE:
        if (!isfinite(v->f))
            break;
        *out = v->f;
        return 0;
    case REC_DECIMAL: {
        char txt[48];

        sl_format_decimal(v->dec, v->scale, txt);
        *out = strtod(txt, NULL);
        return 0;
    }
    default:
        break;
    }
    rows_fail(r, col->name, "expected a number, found %s", shown(r, v));
    return -1;
}

static int
set_bool(struct rows *r, const struct contract_column *col, const struct rec_value *v,
         uint8_t *out)
{
    if (v->kind == REC_BOOL) {
        *out = v->b;
        return 0;
    }
    if (is_text(v) || v->kind == REC_INT) {
        static const char *const yes[] = {"true", "t", "yes", "y", "1"};
        static const char *const no[] = {"false", "f", "no", "n", "0"};
        char tmp[8];
        size_t n = v->len;

        if (v->kind == REC_INT) {
            if (v->i == 0 || v->i == 1) {
                *out = (uint8_t)v->i;
                return 0;
            }
        } else if (n < sizeof(tmp)) {
            memcpy(tmp, v->s, n);
            tmp[n] = '\0';
            for (int i = 0; i < 5; i++) {
                if (strcasecmp(tmp, yes[i]) == 0) {
                    *out = 1;
                    return 0;
                }
                if (strcasecmp(tmp, no[i]) == 0) {
                    *out = 0;
                    return 0;
                }
            }
        }
    }
    rows_fail(r, col->name, "expected true or false, found %s", shown(r, v));
    return -1;
}

/* Whether s starts like YYYY-MM-DD (then a failed parse is a bad date,
 * not a bad format). */
static bool
date_shaped(const struct rec_value *v)
{
    static const char shape[] = "dddd-dd-dd";

    if (v->len < 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (shape[i] == 'd' ? (v->s[i] < '0' || v->s[i] > '9') : v->s[i] != '-')
            return false;
    return true;
}

static int
set_date(struct rows *r, const struct contract_column *col, const struct rec_value *v,
         int32_t *out)
{
    bool text = v->kind == REC_TEXT || v->kind == REC_STRING;

    if (text && sl_parse_date(v->s, v->len, out) == 0)
        return 0;
    if (v->kind == REC_DATE) {
        *out = (int32_t)v->i;
        return 0;
    }
    if (text && v->len == 10 && date_shaped(v))
        rows_fail(r, col->name, "%s is not a valid date", shown(r, v));
    else
        rows_fail(r, col->name, "expected a date (YYYY-MM-DD), found %s", shown(r, v));
    return -1;
}

static int
set_timestamp(struct rows *r, const struct contract_column *col, const struct rec_value *v,
              int64_t *out)
{
    if ((v->kind == REC_TEXT || v->kind == REC_STRING) &&
        sl_parse_timestamp(v->s, v->len, out) == 0)
        return 0;
    if (v->kind == REC_TIMESTAMP) {
        *out = v->i;
        return 0;
    }
    if (v->kind == REC_DATE) {
        *out = v->i * SL_USEC_PER_DAY;
        return 0;
    }
    if ((v->kind == REC_TEXT || v->kind == REC_STRING) && date_shaped(v))
        rows_fail(r, col->name, "%s is not a valid ISO 8601 timestamp", shown(r, v));
    else
        rows_fail(r, col->name, "expected an ISO 8601 timestamp, found %s", shown(r, v));
    return -1;
}

static int
set_decimal(struct rows *r, const struct contract_column *col, const struct rec_value *v,
            __int128 *out)
{
    int p = col->type.precision, s = col->type.scale, rc;
    char txt[64];
    const char *t = v->s;
    size_t n = v->len;

    switch (v->kind) {
    case REC_TEXT:
    case REC_STRING:
    case REC_NUMBER:
        break;
    case REC_INT:
        n = (size_t)snprintf(txt, sizeof(txt), "%lld", (long long)v->i);
        t = txt;
        break;
    case REC_DECIMAL:
        sl_format_decimal(v->dec, v->scale, txt);
        t = txt;
        n = strlen(txt);
        break;
    case REC_DOUBLE:
        if (!isfinite(v->f))
            goto bad;
        shortest(v->f, txt, sizeof(txt));
        t = txt;
        n = strlen(txt);
        break;
    default:
        goto bad;
    }
    rc = sl_parse_decimal(t, n, p, s, out);
    if (rc == 0)
        return 0;
    if (rc == SL_ERR_LIMIT) {
        __int128 ignored;

        /* With room for any number of digits, only rounding can fail. */
        if (sl_parse_decimal(t, n, 38, s, &ignored) == SL_ERR_LIMIT)
            rows_fail(r, col->name, "value %.*s has more than %d decimal place%s for "
                      "decimal(%d,%d)", (int)(n < 40 ? n : 40), t, s, s == 1 ? "" : "s", p, s);
        else
            rows_fail(r, col->name, "value %.*s does not fit decimal(%d,%d)",
                      (int)(n < 40 ? n : 40), t, p, s);
        return -1;
    }
bad:
    rows_fail(r, col->name, "expected a decimal number, found %s", shown(r, v));
    return -1;
}

static int
set_string(struct rows *r, const struct contract_column *col, const struct rec_value *v,
           bool stable, struct rows_str *out)
{
    char txt[64];
    const char *p = v->s;
    size_t n = v->len;

    switch (v->kind) {
    case REC_TEXT:
    case REC_STRING:
    case REC_NUMBER:
        break;
    case REC_BYTES:
        if (!sl_utf8_valid(v->s, v->len, NULL)) {
            rows_fail(r, col->name, "invalid UTF-8 in a string");
            return -1;
        }
        break;
    case REC_BOOL:
        p = v->b ? "true" : "false";
        n = strlen(p);
        stable = true;
        break;
    case REC_INT:
        n = (size_t)snprintf(txt, sizeof(txt), "%lld", (long long)v->i);
        p = txt;
        stable = false;
        break;
    case REC_DOUBLE:
        shortest(v->f, txt, sizeof(txt));
        p = txt;
        n = strlen(txt);
        stable = false;
        break;
    case REC_DECIMAL:
        sl_format_decimal(v->dec, v->scale, txt);
        p = txt;
        n = strlen(txt);
        stable = false;
        break;
    case REC_DATE:
        sl_format_date((int32_t)v->i, txt);
        p = txt;
        n = strlen(txt);
        stable = false;
        break;
    case REC_TIMESTAMP:
        sl_format_timestamp(v->i, txt);
        p = txt;
        n = strlen(txt);
        stable = false;
        break;
    default:
        rows_fail(r, col->name, "expected a string, found %s", shown(r, v));
        return -1;
    }
    if (n > UINT32_MAX) {
        rows_fail(r, col->name, "string longer than 4 GiB");
        return -1;
    }
    out->p = stable ? p : sl_arena_strndup(&r->arena, p, n);
    out->len = (uint32_t)n;
    return 0;
}

void
rows_field(struct rows *r, int col, const struct rec_value *v, bool stable)
{
    const struct contract_column *cc = &r->contract->columns[col];
    struct rows_col *c = &r->cols[col];
    size_t i = r->n;
    int rc = 0;

    if (r->present[col / 64] & (1ull << (col % 64))) {
        rows_fail(r, cc->name, "field appears more than once");
        return;
    }
    r->present[col / 64] |= 1ull << (col % 64);
    if (r->fail_reason != NULL)
        return;
    if (r->drift_only) {
        c->null[i] = v->kind == REC_NULL;
        return;
    }
    if (v->kind == REC_NULL ||
        (v->kind == REC_TEXT && v->len == 0 && (!v->quoted || cc->type.id != SL_TYPE_STRING))) {
        c->null[i] = 1;
        return;
    }
    c->null[i] = 0;
    switch (cc->type.id) {
    case SL_TYPE_STRING:
        rc = set_string(r, cc, v, stable, &c->str[i]);
        break;
    case SL_TYPE_INT64:
        rc = set_int64(r, cc, v, &c->i64[i]);
        break;
    case SL_TYPE_DOUBLE:
        rc = set_double(r, cc, v, &c->f64[i]);
        break;
    case SL_TYPE_BOOL:
        rc = set_bool(r, cc, v, &c->b[i]);
        break;
    case SL_TYPE_DATE:
        rc = set_date(r, cc, v, &c->i32[i]);
        break;
    case SL_TYPE_TIMESTAMP:
        rc = set_timestamp(r, cc, v, &c->i64[i]);
        break;
    case SL_TYPE_DECIMAL: {
        __int128 d;

        rc = set_decimal(r, cc, v, &d);
        if (rc == 0) {
            if (cc->type.precision <= 18)
                c->i64[i] = (int64_t)d;
            else
                c->i128[i] = d;
        }
        break;
    }
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT:
        assert(!"a contract has no int or float column");
        break;
    }
    (void)rc;
}

/* ---- keys and fingerprints ---------------------------------------------------- */

void
key_add_int(struct sl_buf *b, __int128 v, struct sl_type t)
{
    if (t.id == SL_TYPE_DECIMAL && t.precision > 18) {
        sl_buf_add(b, &v, sizeof(v));
    } else if (t.id == SL_TYPE_DATE || t.id == SL_TYPE_BOOL) {
        int32_t x = (int32_t)v;

        sl_buf_add(b, &x, sizeof(x));
    } else {
        int64_t x = (int64_t)v;

        sl_buf_add(b, &x, sizeof(x));
    }
}

void
key_add_double(struct sl_buf *b, double v)
{
    if (v == 0)
        v = 0; /* -0.0 and 0.0 are one key */
    sl_buf_add(b, &v, sizeof(v));
}

void
key_add_str(struct sl_buf *b, const char *p, size_t len, bool last)
{
    if (!last) {
        uint32_t n = (uint32_t)len;

        sl_buf_add(b, &n, sizeof(n));
    }
    sl_buf_add(b, p, len);
}

uint64_t
rows_name_seed(const char *name)
{
    return sl_hash64(name, strlen(name), 0x5eed);
}

uint64_t
rows_value_hash(uint64_t seed, const void *p, size_t len)
{
    uint64_t v;

    if (len != 8)
        return sl_hash64(p, len, seed);
    memcpy(&v, p, 8);
    return sl_mix64(v ^ seed, 0x9e3779b97f4a7c15ull) ^ seed;
}

/* The value of column col at row i as bytes for hashing. */
static const void
*value_bytes(const struct rows_col *c, size_t i, size_t *len, int64_t *tmp)
{
    switch (c->type.id) {
    case SL_TYPE_STRING:
        *len = c->str[i].len;
        return c->str[i].p;
    case SL_TYPE_INT64:
    case SL_TYPE_TIMESTAMP:
        *len = 8;
        return &c->i64[i];
    case SL_TYPE_DECIMAL:
        if (c->type.precision <= 18) {
            *len = 8;
            return &c->i64[i];
        }
        *len = 16;
        return &c->i128[i];
    case SL_TYPE_DOUBLE:
        *len = 8;
        return &c->f64[i];
    case SL_TYPE_DATE:
        *tmp = c->i32[i];
        *len = 8;
        return tmp;
    case SL_TYPE_BOOL:
        *tmp = c->b[i];
        *len = 8;
        return tmp;
    case SL_TYPE_INT32:
    case SL_TYPE_FLOAT:
        assert(!"a contract has no int or float column");
        break;
    }
    *len = 0;
    return NULL;
}

static void
quarantine(struct rows *r, struct rec_pos pos, const char *text, size_t len, const char *field,
           const char *reason)
{
    struct rows_bad *q;
    size_t keep = len;

    if (r->nbad == r->badcap) {
        r->badcap = r->badcap ? r->badcap * 2 : 64;
        r->bad = sl_realloc(r->bad, r->badcap * sizeof(*r->bad));
    }
    q = &r->bad[r->nbad++];
    q->pos = pos;
    q->field = field ? sl_arena_strdup(&r->arena, field) : NULL;
    q->reason = sl_arena_strdup(&r->arena, reason);
    if ((int64_t)keep > r->max_record_bytes)
        keep = (size_t)r->max_record_bytes;
    /* The raw object stays mapped for the run: point into it. */
    q->text = text;
    q->len = keep;
    q->truncated = keep < len;
}

void
rows_reject(struct rows *r, struct rec_pos pos, const char *text, size_t len, const char *field,
            const char *reason)
{
    r->records_in++;
    quarantine(r, pos, text, len, field, reason);
}

/* ---- schema drift -------------------------------------------------------------- */

/* The slot of entry (hash, kind, name) in the drift table: its own, or the
 * empty one where it belongs. */
static size_t
drift_slot(const struct rows *r, uint64_t h, enum rows_drift_kind kind, const char *name,
           size_t len)
{
    size_t i = h & r->drift_mask;

    for (;; i = (i + 1) & r->drift_mask) {
        int32_t s = r->drift_slot[i];
        const struct rows_drift *e;

        if (s == 0)
            return i;
        e = &r->drift[s - 1];
        if (e->hash == h && e->kind == kind && e->len == len && memcmp(e->field, name, len) == 0)
            return i;
    }
}

int
rows_drift_find(struct rows *r, enum rows_drift_kind kind, const char *name, size_t len)
{
    struct rows_drift *e;
    uint64_t h;
    size_t i;

    if (len > ROWS_DRIFT_NAME) {
        len = ROWS_DRIFT_NAME;
        while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80)
            len--;
    }
    h = sl_hash64(name, len, 0xd21f7 + (uint64_t)kind);
    if (r->drift_slot == NULL) {
        r->drift_mask = 63;
        r->drift_slot = sl_calloc(r->drift_mask + 1, sizeof(*r->drift_slot));
    }
    i = drift_slot(r, h, kind, name, len);
    if (r->drift_slot[i] != 0)
        return r->drift_slot[i] - 1;
    if (r->ndrift >= ROWS_DRIFT_MAX)
        return -1;
    SL_GROW(r->drift, r->driftcap, r->ndrift + 1);
    e = &r->drift[r->ndrift++];
    memset(e, 0, sizeof(*e));
    e->field = sl_arena_strndup(&r->arena, name, len);
    e->len = (uint32_t)len;
    e->kind = kind;
    e->hash = h;
    r->drift_slot[i] = (int32_t)r->ndrift;
    /* At most half full: rehash into twice the slots. */
    if (r->ndrift * 2 > r->drift_mask) {
        r->drift_mask = r->drift_mask * 2 + 1;
        free(r->drift_slot);
        r->drift_slot = sl_calloc(r->drift_mask + 1, sizeof(*r->drift_slot));
        for (size_t k = 0; k < r->ndrift; k++) {
            const struct rows_drift *x = &r->drift[k];

            r->drift_slot[drift_slot(r, x->hash, x->kind, x->field, x->len)] = (int32_t)k + 1;
        }
    }
    return (int)(r->ndrift - 1);
}

void
rows_drift_example(struct rows *r, int i, const char *text, size_t len, bool quote)
{
    size_t n = len < ROWS_DRIFT_EXAMPLE ? len : ROWS_DRIFT_EXAMPLE;
    struct sl_buf b;

    /* Cut at a character boundary: the text is shown and stored as text. */
    while (n > 0 && n < len && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    sl_buf_init(&b);
    if (quote)
        sl_buf_add_json_str(&b, text, n);
    else
        sl_buf_add(&b, text, n);
    if (n < len) {
        if (quote)
            sl_buf_setlen(&b, b.len - 1);
        sl_buf_adds(&b, quote ? "...\"" : "...");
    }
    r->drift[i].text = sl_arena_strndup(&r->arena, b.data, b.len);
    sl_buf_release(&b);
}

/* A required column the current record lacks, as drift. */
static void
drift_missing(struct rows *r, size_t col)
{
    const char *name = r->contract->columns[col].name;
    int i = rows_drift_find(r, ROWS_DRIFT_MISSING, name, strlen(name));

    if (i >= 0)
        rows_drift_count(r, i);
}

void
rows_check(struct rows *r)
{
    const struct contract *c = r->contract;
    size_t i = r->n;

    /* Past a failure the loop goes on only to count every required field
     * the record lacks (the first failure stays the reason). */
    for (size_t k = 0; k < r->ncols; k++) {
        bool set = r->present[k / 64] & (1ull << (k % 64));

        if (!set) {
            r->cols[k].null[i] = 1;
            r->present[k / 64] |= 1ull << (k % 64);
            if (c->columns[k].required) {
                drift_missing(r, k);
                rows_fail(r, c->columns[k].name, "required field is missing");
            }
        } else if (r->fail_reason == NULL && c->columns[k].required && r->cols[k].null[i]) {
            rows_fail(r, c->columns[k].name, "required field is null");
        }
    }
}

void
rows_end(struct rows *r, const char *text, size_t len)
{
    const struct contract *c = r->contract;
    size_t i = r->n;
    uint64_t h = 0;
    struct sl_buf key;

    r->records_in++;
    if (r->fail_reason == NULL && (int64_t)len > r->max_record_bytes)
        rows_fail(r, NULL, "record is %zu bytes, over the limit of %lld (transform."
                  "max_record_bytes)", len, (long long)r->max_record_bytes);
    rows_check(r);
    if (r->fail_reason != NULL) {
        quarantine(r, r->cur, text, len, r->fail_field, r->fail_reason);
        return;
    }
    if (r->drift_only)
        return;

    /* Event time. */
    const struct rows_col *evc = &r->cols[c->event_time];

    r->ev[i] = evc->type.id == SL_TYPE_DATE ? (int64_t)evc->i32[i] * SL_USEC_PER_DAY
                                            : evc->i64[i];
    r->pos[i] = r->obj->line_based ? r->cur.line : r->cur.record;

    /* Key: a single string key is its own bytes; anything else is encoded. */
    if (c->nkey == 1 && r->cols[c->key[0]].type.id == SL_TYPE_STRING) {
        r->key[i] = r->cols[c->key[0]].str[i];
    } else {
        sl_buf_init(&key);
        for (size_t k = 0; k < c->nkey; k++) {
            const struct rows_col *kc = &r->cols[c->key[k]];

            switch (kc->type.id) {
            case SL_TYPE_STRING:
                key_add_str(&key, kc->str[i].p, kc->str[i].len, k + 1 == c->nkey);
                break;
            case SL_TYPE_DOUBLE:
                key_add_double(&key, kc->f64[i]);
                break;
            case SL_TYPE_DATE:
                key_add_int(&key, kc->i32[i], kc->type);
                break;
            case SL_TYPE_BOOL:
                key_add_int(&key, kc->b[i], kc->type);
                break;
            case SL_TYPE_DECIMAL:
                key_add_int(&key, kc->type.precision <= 18 ? kc->i64[i] : kc->i128[i],
                            kc->type);
                break;
            default:
                key_add_int(&key, kc->i64[i], kc->type);
                break;
            }
        }
        r->key[i].p = sl_arena_strndup(&r->arena, key.data, key.len);
        r->key[i].len = (uint32_t)key.len;
        sl_buf_release(&key);
    }
    r->key_hash[i] = sl_hash64(r->key[i].p, r->key[i].len, 0);
    r->key_hash2[i] = sl_hash64(r->key[i].p, r->key[i].len, ROWS_KEY_SEED2);

    /* Fingerprint: a sum over non-null values keyed by column name, so a
     * column added later (NULL in old rows) does not change it. */
    for (size_t k = 0; k < r->ncols; k++) {
        size_t vlen;
        int64_t tmp;
        const void *p;

        if (r->cols[k].null[i])
            continue;
        p = value_bytes(&r->cols[k], i, &vlen, &tmp);
        h += rows_value_hash(r->seeds[k], p, vlen);
    }
    r->row_hash[i] = h;
    r->n++;
}

int32_t
rows_bucket(const struct rows *r, int col, size_t row, int32_t n)
{
    const struct rows_col *c = &r->cols[col];
    int32_t h;

    assert(!c->null || !c->null[row]);
    switch (c->type.id) {
    case SL_TYPE_INT64:
        h = ival_hash_long(c->i64[row]);
        break;
    case SL_TYPE_TIMESTAMP:
        h = ival_hash_timestamp(c->i64[row]);
        break;
    case SL_TYPE_DATE:
        h = ival_hash_date(c->i32[row]);
        break;
    case SL_TYPE_DECIMAL:
        h = ival_hash_decimal(c->type.precision > 18 ? c->i128[row] : (__int128)c->i64[row]);
        break;
    case SL_TYPE_STRING:
        h = ival_hash_string(c->str[row].p, c->str[row].len);
        break;
    default:
        assert(!"Iceberg buckets no other type");
        h = 0;
    }
    return ival_bucket(h, n);
}
