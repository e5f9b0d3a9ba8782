/*
 * intrinsic.c - the intrinsic functions of Amazon States Language
 * (JSONPath mode; see intrinsic.h): a recursive-descent parser of one
 * call into a tree of calls and arguments, and an evaluator that works
 * the tree bottom-up, one function of the table `fns` per call.
 *
 * The parser is a single pass over the text with no separate lexer: an
 * argument is recognised by its first character (' a string, - or a digit
 * a number, $ a path, t/f/n a keyword, S a nested "States." call).  A
 * path runs to the first space, ',' or ')' outside brackets and quotes,
 * and is handed to flow_path_parse().  Everything the text fixes is
 * checked here, once, when the definition is loaded: function names,
 * argument counts, escapes, nesting, and the number of placeholders of a
 * literal States.Format template.  The types of the arguments are only
 * known at evaluation.
 *
 * Invariants:
 *   1. A string literal keeps two forms: its value (escapes resolved)
 *      and its raw text, which is still escaped and so still tells an
 *      escaped brace \{ from the first half of a {} placeholder.  Only
 *      States.Format's template reads the raw text.
 *   2. Every value an evaluation produces, the final one and each nested
 *      call's, is at most MAX_RESULT bytes as compact JSON.  Arguments
 *      may share nodes (States.Array($, $) holds $ twice), so a value's
 *      tree can be far larger than its memory; the bound keeps every
 *      later walk over it (dumping, hashing, comparing) linear in the
 *      bound, and an intrinsic cannot build what AWS could never pass on
 *      (256 KiB is its payload limit).
 *   3. Calls nest at most MAX_NESTING deep, which also bounds the
 *      evaluator's recursion.
 *
 * Where AWS's guide is silent, the choices are marked "Decision:" at the
 * function concerned; what was measured on AWS (by others, and recorded
 * with their tests) is marked "AWS:".
 */
#include "flow/intrinsic.h"

#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/num.h"
#include "flow/json.h"
#include "core/banned.h"

/* AWS: "You can nest up to 10 intrinsic functions within a field".
 * Decision: we read it as depth (the outermost call is 1); AWS's example
 * of "nine nested" functions counts calls, and has depth 5. */
#define MAX_NESTING 10
/* The largest value (as compact JSON) any call may produce: AWS's payload
 * limit, 256 KiB. */
#define MAX_RESULT 262144
/* AWS: Base64Encode, Base64Decode and Hash take at most 10,000
 * characters. */
#define MAX_CHARS 10000
/* AWS: ArrayRange makes at most 1000 items. */
#define MAX_RANGE 1000
/* How deep a value may nest: as deep as jansson will parse. */
#define MAX_DEPTH JSON_PARSER_MAX_DEPTH
/* Room for a double as flow_json_double() writes it (json.h: as Java's
 * Double.toString() does, AWS's engine being Java). */
#define DOUBLE_TEXT FLOW_DOUBLE_TEXT
/* How much of a bad value a message quotes. */
#define SHOW_MAX 48

struct fn_info;

enum arg_kind {
    ARG_LITERAL, /* a string, number, true, false or null */
    ARG_PATH,    /* $... or $$... */
    ARG_CALL,    /* a nested States.X(...) */
};

struct arg {
    enum arg_kind kind;
    json_t *lit;                 /* ARG_LITERAL: the value */
    char *raw;                   /* a string literal's text between the quotes, still escaped */
    struct flow_path *path;      /* ARG_PATH */
    struct flow_intrinsic *call; /* ARG_CALL */
};

/* One call: States.<name>(args...). */
struct flow_intrinsic {
    const struct fn_info *fn; /* the function; never NULL once parsed */
    size_t nargs;             /* number of arguments */
    struct arg *args;         /* nargs arguments, in order */
};

/*
 * A function: args[i] are the values of the call's arguments (borrowed);
 * on success *out is a new reference.  Failures name the function and
 * the argument through d and return SL_ERR_INPUT.
 */
typedef int (*fn_eval)(const struct flow_intrinsic *f, json_t **args, json_t **out,
                       struct sl_diag *d);

#define ANY ((size_t)-1)

struct fn_info {
    const char *name; /* "States.Format" */
    size_t min, max;  /* how many arguments; max ANY: no limit */
    fn_eval eval;
};

/* ---- small helpers ------------------------------------------------------- */

static bool
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A character of a function name (the spec: A-Z, a-z, 0-9, "." and "_"). */
static bool
is_name(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

/* The 1-based column of at in text, counting characters, not bytes. */
static int
column(const char *text, const char *at)
{
    int col = 1;

    for (const char *p = text; p < at; p++)
        col += ((unsigned char)*p & 0xC0) != 0x80;
    return col;
}

/*
 * The length of s[0..n) (valid UTF-8) in UTF-16 code units: what AWS,
 * whose engine is Java, counts as characters in its 10,000-character
 * limits.  A character above U+FFFF counts twice.
 */
static size_t
utf16_len(const char *s, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c & 0xC0) != 0x80)
            len += c >= 0xF0 ? 2 : 1;
    }
    return len;
}

/* Append n bytes if the buffer stays within max; false if it would not. */
static bool
put(struct sl_buf *b, const char *s, size_t n, size_t max)
{
    if (n > max || b->len > max - n)
        return false;
    sl_buf_add(b, s, n);
    return true;
}

static bool
puts_max(struct sl_buf *b, const char *s, size_t max)
{
    return put(b, s, strlen(s), max);
}

/* A new string from bytes already known to be valid UTF-8. */
static json_t *
new_string(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);

    if (v == NULL) {
        fprintf(stderr, "sluice: out of memory (intrinsic string of %zu bytes)\n", n);
        abort();
    }
    return v;
}

/* ---- numbers ------------------------------------------------------------- */

/*
 * Round a JSON number to an integer as AWS does where its guide says "Step
 * Functions will round it off to the nearest integer": Java's
 * Math.round(), halves toward positive infinity.  AWS: MathAdd(-2.5, 0)
 * is -2, MathAdd(2.5, 0) is 3, MathAdd(-0.5, 0) is 0.  False if v is not
 * a number or the result does not fit in 64 bits.
 */
static bool
round_number(const json_t *v, int64_t *out)
{
    double x, r;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    x = json_real_value(v);
    r = floor(x);
    if (x - r >= 0.5)
        r += 1;
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
        return false;
    *out = (int64_t)r;
    return true;
}

/* Whether v is a number with an integer value (5 or 5.0); its value in *out. */
static bool
exact_integer(const json_t *v, int64_t *out)
{
    double x;

    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (!json_is_real(v))
        return false;
    x = json_real_value(v);
    if (x != floor(x) || !(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return false;
    *out = (int64_t)x;
    return true;
}

/* ---- writing values ------------------------------------------------------ */

/* Why a value could not be written. */
enum dump {
    DUMP_OK,
    DUMP_LONG, /* it would pass the maximum length */
    DUMP_DEEP, /* it nests deeper than MAX_DEPTH */
};

static enum dump dump_value(struct sl_buf *b, const json_t *v, size_t max, int depth);

/*
 * Append v as compact JSON (no spaces, keys in their order), the form AWS
 * gives States.JsonToString's result.  AWS: {"Arg1":1,"Arg2":[]}.
 * Strings escape ", \ and control characters only, as Jackson does.
 * Not DUMP_OK: b holds a prefix of it, up to max bytes or a little more.
 */
static enum dump
dump_json(struct sl_buf *b, const json_t *v, size_t max)
{
    return dump_value(b, v, max, 0);
}

static enum dump
dump_value(struct sl_buf *b, const json_t *v, size_t max, int depth)
{
    char num[DOUBLE_TEXT];
    const char *key;
    size_t klen, i;
    json_t *x;
    bool first = true;
    enum dump rc;

    if (depth > MAX_DEPTH)
        return DUMP_DEEP;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (!put(b, "{", 1, max))
            return DUMP_LONG;
        json_object_keylen_foreach((json_t *)v, key, klen, x)
        {
            if (!first && !put(b, ",", 1, max))
                return DUMP_LONG;
            first = false;
            sl_buf_add_json_str(b, key, klen);
            if (b->len > max || !put(b, ":", 1, max))
                return DUMP_LONG;
            rc = dump_value(b, x, max, depth + 1);
            if (rc != DUMP_OK)
                return rc;
        }
        return put(b, "}", 1, max) ? DUMP_OK : DUMP_LONG;
    case JSON_ARRAY:
        if (!put(b, "[", 1, max))
            return DUMP_LONG;
        json_array_foreach(v, i, x)
        {
            if (i > 0 && !put(b, ",", 1, max))
                return DUMP_LONG;
            rc = dump_value(b, x, max, depth + 1);
            if (rc != DUMP_OK)
                return rc;
        }
        return put(b, "]", 1, max) ? DUMP_OK : DUMP_LONG;
    case JSON_STRING:
        if (json_string_length(v) > max)
            return DUMP_LONG;
        sl_buf_add_json_str(b, json_string_value(v), json_string_length(v));
        return b->len <= max ? DUMP_OK : DUMP_LONG;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return puts_max(b, num, max) ? DUMP_OK : DUMP_LONG;
    case JSON_REAL:
        flow_json_double(json_real_value(v), num);
        return puts_max(b, num, max) ? DUMP_OK : DUMP_LONG;
    case JSON_TRUE:
        return puts_max(b, "true", max) ? DUMP_OK : DUMP_LONG;
    case JSON_FALSE:
        return puts_max(b, "false", max) ? DUMP_OK : DUMP_LONG;
    case JSON_NULL:
        return puts_max(b, "null", max) ? DUMP_OK : DUMP_LONG;
    }
    return DUMP_LONG;
}

/*
 * Append v as States.Format shows it.  The spec wants a string, number,
 * boolean or null, shown naturally (a string without quotes).  AWS also
 * takes arrays and objects and shows them as Java's collections do:
 * AWS: {"Arg1": 1, "Arg2": []} is shown as {Arg1=1, Arg2=[]}.  Strings
 * inside them are unquoted too.
 */
static enum dump
format_value(struct sl_buf *b, const json_t *v, size_t max, int depth)
{
    const char *key;
    size_t klen, i;
    json_t *x;
    bool first = true;
    enum dump rc;

    if (depth > MAX_DEPTH)
        return DUMP_DEEP;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return put(b, json_string_value(v), json_string_length(v), max) ? DUMP_OK : DUMP_LONG;
    case JSON_OBJECT:
        if (!put(b, "{", 1, max))
            return DUMP_LONG;
        json_object_keylen_foreach((json_t *)v, key, klen, x)
        {
            if (!first && !put(b, ", ", 2, max))
                return DUMP_LONG;
            first = false;
            if (!put(b, key, klen, max) || !put(b, "=", 1, max))
                return DUMP_LONG;
            rc = format_value(b, x, max, depth + 1);
            if (rc != DUMP_OK)
                return rc;
        }
        return put(b, "}", 1, max) ? DUMP_OK : DUMP_LONG;
    case JSON_ARRAY:
        if (!put(b, "[", 1, max))
            return DUMP_LONG;
        json_array_foreach(v, i, x)
        {
            if (i > 0 && !put(b, ", ", 2, max))
                return DUMP_LONG;
            rc = format_value(b, x, max, depth + 1);
            if (rc != DUMP_OK)
                return rc;
        }
        return put(b, "]", 1, max) ? DUMP_OK : DUMP_LONG;
    default:
        return dump_value(b, v, max, depth);
    }
}

/* ---- failures ------------------------------------------------------------ */

/* v as a message shows it: compact JSON, cut to about SHOW_MAX bytes. */
static void
show(const json_t *v, char *out, size_t size)
{
    struct sl_buf b;
    size_t n;

    sl_buf_init(&b);
    if (v == NULL) {
        sl_buf_adds(&b, "nothing");
    } else if (dump_json(&b, v, SHOW_MAX) != DUMP_OK || b.len > SHOW_MAX) {
        n = b.len < SHOW_MAX ? b.len : SHOW_MAX;
        while (n > 0 && ((unsigned char)b.data[n] & 0xC0) == 0x80)
            n--;
        sl_buf_setlen(&b, n);
        sl_buf_adds(&b, "...");
    }
    snprintf(out, size, "%s", b.data);
    sl_buf_release(&b);
}

/* Fail: "<function>: argument <i+1> <what>, got <value>". */
static int arg_fail(const struct flow_intrinsic *f, size_t i, const json_t *got, struct sl_diag *d,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int
arg_fail(const struct flow_intrinsic *f, size_t i, const json_t *got, struct sl_diag *d,
         const char *fmt, ...)
{
    char what[256], shown[SHOW_MAX + 16];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    show(got, shown, sizeof(shown));
    return sl_fail(d, SL_ERR_INPUT, "%s: argument %zu %s, got %s", f->fn->name, i + 1, what, shown);
}

/* Fail about the call as a whole: "<function>: <why>". */
static int call_fail(const struct flow_intrinsic *f, struct sl_diag *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
call_fail(const struct flow_intrinsic *f, struct sl_diag *d, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return sl_fail(d, SL_ERR_INPUT, "%s: %s", f->fn->name, why);
}

/* args[i] must be a string, else the call fails naming it (so the other want_*). */
static int
want_string(const struct flow_intrinsic *f, json_t **args, size_t i, struct sl_diag *d)
{
    if (json_is_string(args[i]))
        return 0;
    return arg_fail(f, i, args[i], d, "must be a string");
}

static int
want_array(const struct flow_intrinsic *f, json_t **args, size_t i, struct sl_diag *d)
{
    if (json_is_array(args[i]))
        return 0;
    return arg_fail(f, i, args[i], d, "must be an array");
}

/* args[i] must be a number; rounded (Java's Math.round) into *out. */
static int
want_rounded(const struct flow_intrinsic *f, json_t **args, size_t i, int64_t *out,
             struct sl_diag *d)
{
    if (round_number(args[i], out))
        return 0;
    return arg_fail(f, i, args[i], d, "must be an integer");
}

/* ... and within Java's int, as AWS's guide asks of MathAdd. */
static int
want_int32(const struct flow_intrinsic *f, json_t **args, size_t i, int64_t *out, struct sl_diag *d)
{
    if (round_number(args[i], out) && *out >= INT32_MIN && *out <= INT32_MAX)
        return 0;
    return arg_fail(f, i, args[i], d, "must be an integer from -2147483648 to 2147483647");
}

/* A string argument of at most MAX_CHARS characters. */
static int
want_short_string(const struct flow_intrinsic *f, json_t **args, size_t i, struct sl_diag *d)
{
    size_t len;

    if (want_string(f, args, i, d) < 0)
        return SL_ERR_INPUT;
    len = utf16_len(json_string_value(args[i]), json_string_length(args[i]));
    if (len > MAX_CHARS)
        return call_fail(f, d, "argument %zu must be at most %d characters, got %zu", i + 1,
                         MAX_CHARS, len);
    return 0;
}

/* ---- generic: States.Format ---------------------------------------------- */

/*
 * The template's placeholders.  A literal template is read from its raw
 * text, where \{ is a brace and {} a placeholder; a bare { or } that is
 * not half of {} is itself, so States.Format('{"key":"{}"}', $.v) makes
 * JSON text.  Decision: a template that comes from a path or a call is
 * plain text; each {} in it is a placeholder and a backslash is only a
 * backslash (escapes belong to the literal syntax, which that text never
 * went through).
 */
static size_t
count_placeholders(const char *s, size_t n, bool raw)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (raw && s[i] == '\\')
            i++;
        else if (s[i] == '{' && i + 1 < n && s[i + 1] == '}')
            count++, i++;
    }
    return count;
}

static int
fn_format(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    const struct arg *t = &f->args[0];
    const char *s;
    size_t n, want, next = 1;
    bool raw = t->kind == ARG_LITERAL && t->raw != NULL;
    struct sl_buf b;
    enum dump rc = DUMP_OK;

    if (want_string(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    s = raw ? t->raw : json_string_value(args[0]);
    n = raw ? strlen(t->raw) : json_string_length(args[0]);
    want = count_placeholders(s, n, raw);
    if (want != f->nargs - 1)
        return call_fail(f, d, "the template has %zu placeholder%s but %zu value%s follow%s", want,
                         want == 1 ? "" : "s", f->nargs - 1, f->nargs == 2 ? "" : "s",
                         f->nargs == 2 ? "s" : "");
    sl_buf_init(&b);
    for (size_t i = 0; i < n && rc == DUMP_OK; i++) {
        if (raw && s[i] == '\\') {
            i++;
            rc = put(&b, s + i, 1, MAX_RESULT) ? DUMP_OK : DUMP_LONG;
        } else if (s[i] == '{' && i + 1 < n && s[i + 1] == '}') {
            i++;
            rc = format_value(&b, args[next++], MAX_RESULT, 0);
        } else {
            rc = put(&b, s + i, 1, MAX_RESULT) ? DUMP_OK : DUMP_LONG;
        }
    }
    if (rc != DUMP_OK) {
        sl_buf_release(&b);
        if (rc == DUMP_DEEP)
            return call_fail(f, d, "argument %zu nests deeper than %d levels", next, MAX_DEPTH);
        return call_fail(f, d, "the result would be longer than %d bytes", MAX_RESULT);
    }
    *out = new_string(b.data, b.len);
    sl_buf_release(&b);
    return 0;
}

/* ---- JSON: StringToJson, JsonToString, JsonMerge ------------------------- */

/*
 * Parse a string as JSON.  AWS: "" and " " give null, "-0" gives 0.
 * Decision: any JSON text is taken (a scalar too); text after the value,
 * or an integer beyond 64 bits, is refused.  AWS's guide asks for a path
 * as the argument; any argument with a string value is taken.
 */
static int
fn_string_to_json(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    const char *s;
    size_t n, i;
    json_error_t err;

    if (want_string(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    s = json_string_value(args[0]);
    n = json_string_length(args[0]);
    for (i = 0; i < n && is_space(s[i]); i++)
        ;
    if (i == n) {
        *out = json_null();
        return 0;
    }
    *out = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (*out == NULL)
        return call_fail(f, d, "argument 1 is not JSON: %s at character %d", err.text,
                         err.position);
    return 0;
}

/*
 * The value as compact JSON text.  AWS's guide shows {\"foo\": \"bar\"}
 * with a space; AWS in fact writes no spaces (AWS: {"Arg1":1,"Arg2":[]},
 * as the States Language spec's own example).  Decision: the spec says
 * the argument MUST be a path; any argument is taken.
 */
static int
fn_json_to_string(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    struct sl_buf b;
    enum dump rc;

    sl_buf_init(&b);
    rc = dump_json(&b, args[0], MAX_RESULT);
    if (rc != DUMP_OK) {
        sl_buf_release(&b);
        if (rc == DUMP_DEEP)
            return call_fail(f, d, "argument 1 nests deeper than %d levels", MAX_DEPTH);
        return call_fail(f, d, "the result would be longer than %d bytes", MAX_RESULT);
    }
    *out = new_string(b.data, b.len);
    sl_buf_release(&b);
    return 0;
}

/*
 * Shallow merge: a field in both objects takes the second's value, and
 * nested objects are not merged (AWS: {"a":{"a1":1},"b":2,"d":3} and
 * {"a":{"a3":1},"c":3,"d":4} give a = {"a3":1}, b = 2, c = 3, d = 4).
 * AWS supports no deep merge, so the third argument must be false.
 * Decision: the fields come in the first object's order, then the second's
 * new ones, as Java's LinkedHashMap.putAll() would leave them.
 */
static int
fn_json_merge(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    for (size_t i = 0; i < 2; i++)
        if (!json_is_object(args[i]))
            return arg_fail(f, i, args[i], d, "must be an object");
    if (json_is_true(args[2]))
        return arg_fail(f, 2, args[2], d,
                        "must be false (Step Functions supports only the shallow merge)");
    if (!json_is_false(args[2]))
        return arg_fail(f, 2, args[2], d, "must be false");
    *out = json_copy(args[0]);
    json_object_update(*out, args[1]);
    return 0;
}

/* ---- arrays -------------------------------------------------------------- */

/* States.Array: the values, in order. */
static int
fn_array(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    *out = json_array();
    for (size_t i = 0; i < f->nargs; i++)
        json_array_append(*out, args[i]);
    return 0;
}

/*
 * Chunks of the given size, the last one shorter.  AWS: [] gives [] for
 * any size.  The size is rounded (AWS's guide), and must then be >= 1.
 */
static int
fn_array_partition(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    int64_t size;
    size_t n, i;
    json_t *chunk = NULL;

    if (want_array(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    if (!round_number(args[1], &size) || size < 1)
        return arg_fail(f, 1, args[1], d, "must be a positive integer (the chunk size)");
    n = json_array_size(args[0]);
    *out = json_array();
    for (i = 0; i < n; i++) {
        if (i % (uint64_t)size == 0) {
            chunk = json_array();
            json_array_append_new(*out, chunk);
        }
        json_array_append(chunk, json_array_get(args[0], i));
    }
    return 0;
}

/*
 * Whether the array holds the value, by deep equality (AWS: [[1,2,3],2]
 * contains [1,2,3]).  As in AWS's Jackson, 1 and 1.0 differ.  The guide
 * asks for "a valid JSON object" as the value; AWS takes any value.
 */
static int
fn_array_contains(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    size_t i;
    json_t *x;

    if (want_array(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    json_array_foreach(args[0], i, x)
    {
        if (json_equal(x, args[1])) {
            *out = json_true();
            return 0;
        }
    }
    *out = json_false();
    return 0;
}

/*
 * start, start+step, ... up to and including end.  AWS: (0, 10, 3) gives
 * [0,3,6,9] and (1, 9, 9) gives [1].  Values are rounded (AWS's guide);
 * the step must not be 0, and may be negative to count down.  Decision: a
 * step pointing away from end gives [], as a for-loop would.
 */
static int
fn_array_range(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    int64_t v[3];
    __int128 count;

    for (size_t i = 0; i < 3; i++)
        if (want_rounded(f, args, i, &v[i], d) < 0)
            return SL_ERR_INPUT;
    if (v[2] == 0)
        return arg_fail(f, 2, args[2], d, "must not be 0 (the step)");
    if ((v[2] > 0 && v[1] < v[0]) || (v[2] < 0 && v[1] > v[0]))
        count = 0;
    else
        count = ((__int128)v[1] - v[0]) / v[2] + 1;
    if (count > MAX_RANGE)
        return call_fail(f, d, "the range would hold more than the %d items allowed", MAX_RANGE);
    *out = json_array();
    for (int64_t k = 0; k < (int64_t)count; k++)
        json_array_append_new(*out, json_integer((json_int_t)(v[0] + (__int128)k * v[2])));
    return 0;
}

/*
 * The item at an index.  Decision: the index must be a whole number (5 or
 * 5.0, not rounded: a fraction is more likely a mistake than a wish) and
 * inside the array.
 */
static int
fn_array_get_item(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    int64_t index;
    size_t n;

    if (want_array(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    if (!exact_integer(args[1], &index) || index < 0)
        return arg_fail(f, 1, args[1], d, "must be a non-negative integer");
    n = json_array_size(args[0]);
    if ((uint64_t)index >= n)
        return call_fail(f, d, "index %lld is past the end of the array (%zu item%s)",
                         (long long)index, n, n == 1 ? "" : "s");
    *out = json_incref(json_array_get(args[0], (size_t)index));
    return 0;
}

static int
fn_array_length(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    if (want_array(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    *out = json_integer((json_int_t)json_array_size(args[0]));
    return 0;
}

/*
 * A hash agreeing with json_equal(): objects are compared without regard
 * to key order, so their fields' hashes are summed; 0.0 and -0.0 are
 * equal, so they hash alike.  Recursion is bounded by the value's depth.
 */
static uint64_t
value_hash(const json_t *v, int depth)
{
    const char *key;
    size_t klen, i;
    json_t *x;
    uint64_t h;
    double r;

    if (depth > MAX_DEPTH)
        return 0; /* equal values still hash alike */
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        h = 0x6f626a;
        json_object_keylen_foreach((json_t *)v, key, klen, x)
        {
            uint64_t kh = sl_hash64(key, klen, 7) | 1;

            h += sl_mix64(kh, value_hash(x, depth + 1) ^ 0x9e3779b97f4a7c15ull);
        }
        return sl_hash_u64(h);
    case JSON_ARRAY:
        h = 0x617272;
        json_array_foreach(v, i, x)
        {
            h = sl_mix64(h ^ value_hash(x, depth + 1), 0xff51afd7ed558ccdull);
        }
        return sl_hash_u64(h);
    case JSON_STRING:
        return sl_hash64(json_string_value(v), json_string_length(v), 3);
    case JSON_INTEGER:
        return sl_hash_u64((uint64_t)json_integer_value(v)) ^ 1;
    case JSON_REAL:
        r = json_real_value(v);
        if (r == 0)
            r = 0;
        memcpy(&h, &r, sizeof(h));
        return sl_hash_u64(h) ^ 2;
    default:
        return (uint64_t)json_typeof(v) * 0x9e3779b97f4a7c15ull;
    }
}

/*
 * The array without repeats, each value where it first appears, by deep
 * equality.  A hash table of the kept values' positions makes it linear.
 */
static int
fn_array_unique(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    size_t n, cap = 16, i, *slots;
    json_t *x;

    if (want_array(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    n = json_array_size(args[0]);
    while (cap < 2 * n)
        cap *= 2;
    slots = sl_malloc(cap * sizeof(*slots));
    for (i = 0; i < cap; i++)
        slots[i] = (size_t)-1;
    *out = json_array();
    json_array_foreach(args[0], i, x)
    {
        size_t s = (size_t)value_hash(x, 0) & (cap - 1);

        while (slots[s] != (size_t)-1 && !json_equal(json_array_get(*out, slots[s]), x))
            s = (s + 1) & (cap - 1);
        if (slots[s] == (size_t)-1) {
            slots[s] = json_array_size(*out);
            json_array_append(*out, x);
        }
    }
    free(slots);
    return 0;
}

/* ---- encoding: Base64Encode, Base64Decode -------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * The string's UTF-8 bytes in Base64, padded, on one line.  AWS: "héllo→"
 * gives "aMOpbGxv4oaS" (UTF-8), and 10,000 "a"s give 13,336 characters
 * (no line breaks, despite the guide's "MIME").
 */
static int
fn_base64_encode(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    const unsigned char *s;
    size_t n, i;
    struct sl_buf b;

    if (want_short_string(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    s = (const unsigned char *)json_string_value(args[0]);
    n = json_string_length(args[0]);
    sl_buf_init(&b);
    sl_buf_grow(&b, (n + 2) / 3 * 4);
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {b64[w >> 18], b64[(w >> 12) & 63], b64[(w >> 6) & 63], b64[w & 63]};

        sl_buf_add(&b, q, 4);
    }
    if (i < n) {
        uint32_t w = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
        char q[4] = {b64[w >> 18], b64[(w >> 12) & 63], i + 1 < n ? b64[(w >> 6) & 63] : '=', '='};

        sl_buf_add(&b, q, 4);
    }
    *out = new_string(b.data, b.len);
    sl_buf_release(&b);
    return 0;
}

static int
b64_value(int c)
{
    const char *p = c != 0 ? strchr(b64, c) : NULL;

    return p != NULL ? (int)(p - b64) : -1;
}

/*
 * Decode Base64 into a string.  AWS: padding may be left out ("aGVsbG8"
 * gives "hello").  Decision: line breaks (CR, LF) are skipped, as a MIME
 * decoder does; any other character outside the alphabet is refused, as
 * are bytes that are not UTF-8 text (the result must be a JSON string;
 * Java would quietly put U+FFFD in their place).
 */
static int
fn_base64_decode(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    const char *s;
    size_t n, i, ndata = 0, npad = 0;
    uint32_t w = 0;
    struct sl_buf b;

    if (want_short_string(f, args, 0, d) < 0)
        return SL_ERR_INPUT;
    s = json_string_value(args[0]);
    n = json_string_length(args[0]);
    sl_buf_init(&b);
    for (i = 0; i < n; i++) {
        int v;
        char c = s[i];

        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            npad++;
            continue;
        }
        v = b64_value((unsigned char)c);
        if (v < 0 || npad > 0)
            goto out_bad;
        w = w << 6 | (uint32_t)v;
        if (++ndata % 4 == 0) {
            char q[3] = {(char)(w >> 16), (char)(w >> 8), (char)w};

            sl_buf_add(&b, q, 3);
            w = 0;
        }
    }
    if (ndata % 4 == 1 || npad > 2 || (npad > 0 && (ndata + npad) % 4 != 0))
        goto out_bad;
    if (ndata % 4 == 2) {
        sl_buf_addc(&b, (char)(w >> 4));
    } else if (ndata % 4 == 3) {
        char q[2] = {(char)(w >> 10), (char)(w >> 2)};

        sl_buf_add(&b, q, 2);
    }
    *out = json_stringn(b.data, b.len);
    sl_buf_release(&b);
    if (*out == NULL)
        return call_fail(f, d, "argument 1 decodes to bytes that are not UTF-8 text");
    return 0;

out_bad:
    sl_buf_release(&b);
    return arg_fail(f, 0, args[0], d, "must be Base64 text");
}

/* ---- hashing: States.Hash ------------------------------------------------ */

/*
 * The hex digest, lower case, of the data's UTF-8 bytes.  AWS: "input
 * data" with SHA-1 gives aaff4a450a104cd177d28d18d74485e8cae074b7 (the
 * guide's example drops a digit).  The spec limits "the stringified
 * version of the first argument" to 10,000 characters, so a value that
 * is not a string is hashed as its compact JSON text.  Decision: the
 * algorithm's name must match exactly, case included.
 */
static int
fn_hash(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } algs[] = {
        {"MD5", EVP_md5},        {"SHA-1", EVP_sha1},     {"SHA-256", EVP_sha256},
        {"SHA-384", EVP_sha384}, {"SHA-512", EVP_sha512},
    };
    const EVP_MD *md = NULL;
    unsigned char digest[EVP_MAX_MD_SIZE];
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    unsigned int len;
    size_t chars;
    enum dump rc = DUMP_OK;
    struct sl_buf b;

    if (json_is_string(args[1]))
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
            if (strcmp(json_string_value(args[1]), algs[i].name) == 0)
                md = algs[i].md();
    if (md == NULL)
        return arg_fail(f, 1, args[1], d,
                        "must be one of \"MD5\", \"SHA-1\", \"SHA-256\", \"SHA-384\", "
                        "\"SHA-512\"");
    sl_buf_init(&b);
    if (json_is_string(args[0]))
        sl_buf_add(&b, json_string_value(args[0]), json_string_length(args[0]));
    else
        rc = dump_json(&b, args[0], 4 * MAX_CHARS); /* 4 bytes make 1 character or more */
    chars = utf16_len(b.data, b.len);
    if (rc != DUMP_OK || chars > MAX_CHARS) {
        sl_buf_release(&b);
        if (rc == DUMP_DEEP)
            return call_fail(f, d, "argument 1 nests deeper than %d levels", MAX_DEPTH);
        if (!json_is_string(args[0]))
            return call_fail(f, d, "argument 1 as JSON text must be at most %d characters",
                             MAX_CHARS);
        return call_fail(f, d, "argument 1 must be at most %d characters, got %zu", MAX_CHARS,
                         chars);
    }
    if (EVP_Digest(b.data, b.len, digest, &len, md, NULL) != 1) {
        sl_buf_release(&b);
        return call_fail(f, d, "the digest could not be computed");
    }
    sl_buf_release(&b);
    sl_hex(digest, len, hex);
    *out = new_string(hex, 2 * (size_t)len);
    return 0;
}

/* ---- math: MathRandom, MathAdd ------------------------------------------- */

/*
 * The seeded generator.  Decision: AWS does not say which generator it
 * uses; its engine is Java, so this is java.util.Random (the 48-bit
 * linear congruential generator) and its nextInt(bound), in the hope of
 * drawing the numbers AWS draws.  What is promised is only that a seed
 * always gives the same number.
 */
struct jrand {
    uint64_t state; /* 48 bits */
};

#define JRAND_MULT 0x5DEECE66DULL
#define JRAND_MASK ((1ULL << 48) - 1)

static void
jrand_init(struct jrand *r, int64_t seed)
{
    r->state = ((uint64_t)seed ^ JRAND_MULT) & JRAND_MASK;
}

/* Java's next(31): 31 random bits. */
static uint32_t
jrand_next31(struct jrand *r)
{
    r->state = (r->state * JRAND_MULT + 0xB) & JRAND_MASK;
    return (uint32_t)(r->state >> 17);
}

/* A number in [0, bound): Java's nextInt(bound) for bounds that fit an
 * int, else 62 random bits with rejection. */
static uint64_t
jrand_below(struct jrand *r, uint64_t bound)
{
    if (bound <= INT32_MAX) {
        uint32_t u = jrand_next31(r), m = (uint32_t)bound - 1;

        if ((bound & m) == 0)
            return (uint64_t)(((uint64_t)bound * u) >> 31);
        /* Java's loop relies on int overflow: u - u % bound + m < 0. */
        while ((int64_t)u - (int64_t)(u % bound) + m > INT32_MAX)
            u = jrand_next31(r);
        return u % bound;
    }
    for (;;) {
        uint64_t x = (uint64_t)jrand_next31(r) << 31 | jrand_next31(r);
        uint64_t limit = ((1ULL << 62) / bound) * bound;

        if (x < limit)
            return x % bound;
    }
}

/* A number in [0, bound) from the CSPRNG, without modulo bias. */
static int
crypto_below(uint64_t bound, uint64_t *out)
{
    uint64_t x, threshold = (0 - bound) % bound;

    do {
        if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
            return -EIO;
    } while (x < threshold);
    *out = x % bound;
    return 0;
}

/*
 * A random integer, start inclusive, end exclusive (AWS's guide).  Start
 * and end are rounded (the guide); Decision: they must be Java ints, as
 * MathAdd's are, and end must be above start, so that there is a number
 * to draw.  A seed (rounded, any 64-bit integer) makes the draw
 * repeatable; without one the draw comes from OpenSSL's CSPRNG.
 */
static int
fn_math_random(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    int64_t start, end, seed;
    uint64_t k;

    if (want_int32(f, args, 0, &start, d) < 0 || want_int32(f, args, 1, &end, d) < 0)
        return SL_ERR_INPUT;
    if (end <= start)
        return call_fail(f, d, "the end (%lld, exclusive) must be greater than the start (%lld)",
                         (long long)end, (long long)start);
    if (f->nargs == 3) {
        struct jrand r;

        if (want_rounded(f, args, 2, &seed, d) < 0)
            return SL_ERR_INPUT;
        jrand_init(&r, seed);
        k = jrand_below(&r, (uint64_t)(end - start));
    } else if (crypto_below((uint64_t)(end - start), &k) < 0) {
        return sl_fail(d, -EIO, "%s: could not read random bytes", f->fn->name);
    }
    *out = json_integer((json_int_t)(start + (int64_t)k));
    return 0;
}

/*
 * The sum.  Both are rounded (AWS: 1.49 + 1.5 is 3, -1.5 + -1.51 is -3)
 * and must be Java ints (the guide).  Decision: the sum is exact, even
 * where Java's int would wrap.
 */
static int
fn_math_add(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    int64_t a, b;

    if (want_int32(f, args, 0, &a, d) < 0 || want_int32(f, args, 1, &b, d) < 0)
        return SL_ERR_INPUT;
    *out = json_integer((json_int_t)(a + b));
    return 0;
}

/* ---- strings: StringSplit ------------------------------------------------ */

/* The length of the UTF-8 character at s (valid UTF-8, n > 0 bytes left). */
static size_t
char_len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)*s;
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

    return len <= n ? len : n;
}

/*
 * Split at every character of the second argument; empty pieces are
 * dropped.  AWS: ",,,," gives [], ", , ," gives [" ", " "], and
 * "This.is+a,test=string" split at ".+,=" gives its five words.
 * Decision: an empty set of delimiters splits nothing.
 */
static int
fn_string_split(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    const char *s, *delims;
    size_t n, nd, i, start = 0;

    if (want_string(f, args, 0, d) < 0 || want_string(f, args, 1, d) < 0)
        return SL_ERR_INPUT;
    s = json_string_value(args[0]);
    n = json_string_length(args[0]);
    delims = json_string_value(args[1]);
    nd = json_string_length(args[1]);
    *out = json_array();
    for (i = 0; i <= n;) {
        size_t len = i < n ? char_len(s + i, n - i) : 0;
        bool cut = i == n;

        for (size_t j = 0; j < nd && !cut;) {
            size_t dl = char_len(delims + j, nd - j);

            cut = dl == len && memcmp(delims + j, s + i, len) == 0;
            j += dl;
        }
        if (cut) {
            if (i > start)
                json_array_append_new(*out, new_string(s + start, i - start));
            start = i + len;
        }
        if (i == n)
            break;
        i += len;
    }
    return 0;
}

/* ---- identifiers: UUID --------------------------------------------------- */

/* A version 4 UUID from OpenSSL's CSPRNG, lower-case hex, 8-4-4-4-12. */
static int
fn_uuid(const struct flow_intrinsic *f, json_t **args, json_t **out, struct sl_diag *d)
{
    unsigned char u[16];
    char hex[33], text[37];

    if (RAND_bytes(u, sizeof(u)) != 1)
        return sl_fail(d, -EIO, "%s: could not read random bytes", f->fn->name);
    u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
    sl_hex(u, sizeof(u), hex);
    snprintf(text, sizeof(text), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    *out = new_string(text, 36);
    return 0;
}

/* ---- the functions ------------------------------------------------------- */

static const struct fn_info fns[] = {
    {"States.Format", 1, ANY, fn_format},
    {"States.StringToJson", 1, 1, fn_string_to_json},
    {"States.JsonToString", 1, 1, fn_json_to_string},
    {"States.Array", 0, ANY, fn_array},
    {"States.ArrayPartition", 2, 2, fn_array_partition},
    {"States.ArrayContains", 2, 2, fn_array_contains},
    {"States.ArrayRange", 3, 3, fn_array_range},
    {"States.ArrayGetItem", 2, 2, fn_array_get_item},
    {"States.ArrayLength", 1, 1, fn_array_length},
    {"States.ArrayUnique", 1, 1, fn_array_unique},
    {"States.Base64Encode", 1, 1, fn_base64_encode},
    {"States.Base64Decode", 1, 1, fn_base64_decode},
    {"States.Hash", 2, 2, fn_hash},
    {"States.JsonMerge", 3, 3, fn_json_merge},
    {"States.MathRandom", 2, 3, fn_math_random},
    {"States.MathAdd", 2, 2, fn_math_add},
    {"States.StringSplit", 2, 2, fn_string_split},
    {"States.UUID", 0, 0, fn_uuid},
};

static const struct fn_info *
fn_lookup(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (strlen(fns[i].name) == n && memcmp(fns[i].name, name, n) == 0)
            return &fns[i];
    return NULL;
}

/* ---- parsing ------------------------------------------------------------- */

struct parser {
    const char *text; /* the whole call, for columns */
    const char *p;    /* the next character to read */
    struct sl_diag *d;
};

/* Fail with "column N: <what>", N the column of at. */
static int parse_fail(struct parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int
parse_fail(struct parser *ps, const char *at, const char *fmt, ...)
{
    char what[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return sl_fail(ps->d, SL_ERR_INPUT, "column %d: %s", column(ps->text, at), what);
}

static void
skip_space(struct parser *ps)
{
    while (is_space(*ps->p))
        ps->p++;
}

static void
call_free(struct flow_intrinsic *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nargs; i++) {
        json_decref(f->args[i].lit);
        free(f->args[i].raw);
        flow_path_free(f->args[i].path);
        call_free(f->args[i].call);
    }
    free(f->args);
    free(f);
}

/*
 * A string literal at ps->p ('...'): escapes \' \{ \} \\ and nothing
 * else.  AWS refuses a definition with other escapes, such as \" (and
 * the guide calls an open backslash an error).  The guide reserves { and
 * } too, but AWS takes them unescaped outside a placeholder (AWS:
 * States.StringToJson('{"constant_in_literal": "false"}') runs), so only
 * an escaped brace differs from a bare one, and only in a Format template
 * (\{} is the text "{}", not a placeholder).
 */
static int
parse_string(struct parser *ps, struct arg *a)
{
    const char *open = ps->p, *p = ps->p + 1;
    struct sl_buf b;

    sl_buf_init(&b);
    for (;; p++) {
        if (*p == '\0') {
            sl_buf_release(&b);
            return parse_fail(ps, open, "the string has no closing quote (')");
        }
        if (*p == '\'')
            break;
        if (*p == '\\') {
            if (p[1] != '\'' && p[1] != '{' && p[1] != '}' && p[1] != '\\') {
                sl_buf_release(&b);
                if (p[1] == '\0')
                    return parse_fail(ps, p, "the string ends in a lone backslash");
                if (p[1] > ' ' && p[1] < 0x7f)
                    return parse_fail(ps, p,
                                      "unknown escape '\\%c'; a string knows only \\', \\{, "
                                      "\\} and \\\\",
                                      p[1]);
                return parse_fail(ps, p,
                                  "unknown escape after '\\'; a string knows only \\', \\{, "
                                  "\\} and \\\\");
            }
            sl_buf_addc(&b, *++p);
        } else {
            sl_buf_addc(&b, *p);
        }
    }
    a->kind = ARG_LITERAL;
    a->raw = sl_strndup(open + 1, (size_t)(p - open - 1));
    /* The text came from a JSON string, so it is UTF-8 and so is b. */
    a->lit = json_stringn(b.data, b.len);
    sl_buf_release(&b);
    if (a->lit == NULL)
        return parse_fail(ps, open, "the string is not UTF-8 text");
    ps->p = p + 1;
    return 0;
}

/* A number at ps->p, in JSON's form: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static int
parse_number(struct parser *ps, struct arg *a)
{
    const char *start = ps->p, *p = ps->p;
    bool real = false;
    int rc;

    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return parse_fail(ps, start, "expected digits after '-'");
    if (*p == '.') {
        real = true;
        if (!(*++p >= '0' && *p <= '9'))
            return parse_fail(ps, p, "expected digits after the decimal point");
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        real = true;
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return parse_fail(ps, p, "expected the digits of an exponent");
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (is_name(*p))
        return parse_fail(ps, start, "a number runs into '%c'", *p);
    if (real) {
        double x;

        rc = sl_parse_double(start, (size_t)(p - start), &x);
        a->lit = rc == 0 ? json_real(x) : NULL;
    } else {
        int64_t v;

        rc = sl_parse_i64(start, (size_t)(p - start), &v);
        a->lit = rc == 0 ? json_integer((json_int_t)v) : NULL;
    }
    if (rc < 0)
        return parse_fail(ps, start, "the number %.*s is out of range", (int)(p - start), start);
    a->kind = ARG_LITERAL;
    ps->p = p;
    return 0;
}

/*
 * A path at ps->p.  It ends at the first space, ',' or ')' outside
 * brackets (a filter or a quoted name inside them may hold any of these).
 * Decision: any path is taken, not only a reference path: the States
 * Language spec allows "Paths" as arguments, and AWS evaluates
 * States.ArrayContains($.results[*].ok, true) (an indefinite path yields
 * the array of its matches; see path.h).
 */
static int
parse_path(struct parser *ps, struct arg *a)
{
    const char *start = ps->p, *p = ps->p;
    int depth = 0, rc;
    char quote = 0, *text;
    struct sl_diag pd;

    for (; *p != '\0'; p++) {
        if (quote != 0) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == quote)
                quote = 0;
        } else if (depth > 0) {
            if (*p == '\'' || *p == '"')
                quote = *p;
            else if (*p == '[')
                depth++;
            else if (*p == ']')
                depth--;
        } else if (is_space(*p) || *p == ',' || *p == ')') {
            break;
        } else if (*p == '[') {
            depth++;
        }
    }
    if (quote != 0 || depth > 0)
        return parse_fail(ps, start, "the path has an unclosed %s",
                          quote != 0 ? "quote" : "bracket");
    text = sl_strndup(start, (size_t)(p - start));
    sl_diag_init(&pd);
    rc = flow_path_parse(text, false, &a->path, &pd);
    free(text);
    if (rc < 0)
        return parse_fail(ps, start, "%s", pd.msg[0] ? pd.msg : "not a path");
    a->kind = ARG_PATH;
    ps->p = p;
    return 0;
}

static int parse_call(struct parser *ps, int depth, struct flow_intrinsic **out);

/* One argument at ps->p (spaces skipped). */
static int
parse_arg(struct parser *ps, int depth, struct arg *a)
{
    static const struct {
        const char *word;
        size_t len;
    } words[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    const char *p = ps->p;

    if (*p == '\'')
        return parse_string(ps, a);
    if (*p == '-' || (*p >= '0' && *p <= '9'))
        return parse_number(ps, a);
    if (*p == '$')
        return parse_path(ps, a);
    if (strncmp(p, "States.", 7) == 0) {
        a->kind = ARG_CALL;
        return parse_call(ps, depth + 1, &a->call);
    }
    for (size_t i = 0; i < 3; i++) {
        if (strncmp(p, words[i].word, words[i].len) == 0 && !is_name(p[words[i].len])) {
            a->kind = ARG_LITERAL;
            a->lit = i == 0 ? json_true() : i == 1 ? json_false() : json_null();
            ps->p += words[i].len;
            return 0;
        }
    }
    if (*p == '\0' || *p == ')' || *p == ',')
        return parse_fail(ps, p, "expected an argument");
    return parse_fail(ps, p,
                      "expected an argument: a 'string', a number, true, false, null, "
                      "a path ($...) or a call (States.Name(...))");
}

/* How many arguments a function takes, for messages. */
static void
arity(const struct fn_info *fn, char *out, size_t size)
{
    if (fn->max == ANY)
        snprintf(out, size, "at least %zu argument%s", fn->min, fn->min == 1 ? "" : "s");
    else if (fn->min == fn->max)
        snprintf(out, size, "%zu argument%s", fn->min, fn->min == 1 ? "" : "s");
    else
        snprintf(out, size, "%zu or %zu arguments", fn->min, fn->max);
}

/* A call at ps->p ("States." checked by the caller); depth 1 at the top. */
static int
parse_call(struct parser *ps, int depth, struct flow_intrinsic **out)
{
    const char *start = ps->p, *p = ps->p;
    struct flow_intrinsic *f;
    size_t cap = 0;
    char takes[64];
    int rc;

    *out = NULL;
    while (is_name(*p))
        p++;
    f = sl_calloc(1, sizeof(*f));
    f->fn = fn_lookup(start, (size_t)(p - start));
    if (f->fn == NULL) {
        rc = parse_fail(ps, start, "unknown intrinsic function '%.*s'",
                        (int)(p - start > 64 ? 64 : p - start), start);
        goto out_free;
    }
    if (depth > MAX_NESTING) {
        rc = parse_fail(ps, start, "calls nest more than %d deep", MAX_NESTING);
        goto out_free;
    }
    if (*p != '(') {
        rc = parse_fail(ps, p, "expected '(' right after %s", f->fn->name);
        goto out_free;
    }
    ps->p = p + 1;
    skip_space(ps);
    if (*ps->p == '\0') {
        rc = parse_fail(ps, ps->p, "expected ')' to close %s(", f->fn->name);
        goto out_free;
    }
    if (*ps->p == ')') {
        ps->p++;
    } else {
        for (;;) {
            SL_GROW(f->args, cap, f->nargs + 1);
            memset(&f->args[f->nargs], 0, sizeof(f->args[0]));
            f->nargs++;
            rc = parse_arg(ps, depth, &f->args[f->nargs - 1]);
            if (rc < 0)
                goto out_free;
            skip_space(ps);
            if (*ps->p == ')') {
                ps->p++;
                break;
            }
            if (*ps->p == '\0') {
                rc = parse_fail(ps, ps->p, "expected ')' to close %s(", f->fn->name);
                goto out_free;
            }
            if (*ps->p != ',') {
                rc = parse_fail(ps, ps->p, "expected ',' or ')' after argument %zu of %s", f->nargs,
                                f->fn->name);
                goto out_free;
            }
            ps->p++;
            skip_space(ps);
        }
    }
    if (f->nargs < f->fn->min || (f->fn->max != ANY && f->nargs > f->fn->max)) {
        arity(f->fn, takes, sizeof(takes));
        rc = parse_fail(ps, start, "%s takes %s, got %zu", f->fn->name, takes, f->nargs);
        goto out_free;
    }
    if (f->fn->eval == fn_format && f->args[0].raw != NULL) {
        size_t want = count_placeholders(f->args[0].raw, strlen(f->args[0].raw), true);

        if (want != f->nargs - 1) {
            rc = parse_fail(ps, start,
                            "the template of %s has %zu placeholder%s but %zu value%s "
                            "follow%s",
                            f->fn->name, want, want == 1 ? "" : "s", f->nargs - 1,
                            f->nargs == 2 ? "" : "s", f->nargs == 2 ? "s" : "");
            goto out_free;
        }
    }
    *out = f;
    return 0;

out_free:
    call_free(f);
    return rc;
}

/* ---- evaluation ---------------------------------------------------------- */

static int eval_call(const struct flow_intrinsic *f, const struct flow_roots *r, json_t **out,
                     struct sl_diag *d);

/* The value of argument i of f: a new reference. */
static int
eval_arg(const struct flow_intrinsic *f, size_t i, const struct flow_roots *r, json_t **out,
         struct sl_diag *d)
{
    const struct arg *a = &f->args[i];
    struct sl_diag pd;
    int rc;

    switch (a->kind) {
    case ARG_LITERAL:
        /* A copy: the result is the caller's to change, the tree is not. */
        *out = json_copy(a->lit);
        return 0;
    case ARG_CALL:
        return eval_call(a->call, r, out, d);
    case ARG_PATH:
        sl_diag_init(&pd);
        rc = flow_path_select(a->path, r, out, &pd);
        if (rc == 0)
            return 0;
        if (rc == SL_ERR_NOTFOUND)
            return sl_fail(d, SL_ERR_INPUT, "%s: argument %zu names nothing (%s)", f->fn->name,
                           i + 1, pd.msg[0] ? pd.msg : flow_path_text(a->path));
        return sl_fail(d, rc, "%s: argument %zu: %s", f->fn->name, i + 1, pd.msg);
    }
    return sl_fail(d, SL_ERR_INPUT, "%s: argument %zu of no kind", f->fn->name, i + 1);
}

static int
eval_call(const struct flow_intrinsic *f, const struct flow_roots *r, json_t **out,
          struct sl_diag *d)
{
    json_t **args;
    struct sl_buf b;
    enum dump size;
    size_t i;
    int rc = 0;

    *out = NULL;
    args = sl_calloc(f->nargs + 1, sizeof(*args));
    for (i = 0; i < f->nargs && rc == 0; i++)
        rc = eval_arg(f, i, r, &args[i], d);
    if (rc == 0)
        rc = f->fn->eval(f, args, out, d);
    if (rc == 0) {
        /* Invariant 2. */
        sl_buf_init(&b);
        size = dump_json(&b, *out, MAX_RESULT);
        sl_buf_release(&b);
        if (size != DUMP_OK) {
            json_decref(*out);
            *out = NULL;
            if (size == DUMP_DEEP)
                rc = call_fail(f, d, "the result would nest deeper than %d levels", MAX_DEPTH);
            else
                rc = call_fail(f, d, "the result would be larger than %d bytes", MAX_RESULT);
        }
    }
    for (i = 0; i < f->nargs; i++)
        json_decref(args[i]);
    free(args);
    return rc;
}

/* ---- the interface ------------------------------------------------------- */

bool
flow_intrinsic_is_call(const char *text)
{
    const char *p;

    if (text == NULL || strncmp(text, "States.", 7) != 0)
        return false;
    p = text + 7;
    if (!is_name(*p) || *p == '.')
        return false;
    while (is_name(*p))
        p++;
    return *p == '(';
}

int
flow_intrinsic_parse(const char *text, struct flow_intrinsic **out, struct sl_diag *d)
{
    struct parser ps = {text, text, d};
    int rc;

    *out = NULL;
    if (!flow_intrinsic_is_call(text))
        return sl_fail(d, SL_ERR_INPUT,
                       "column 1: expected an intrinsic function call, "
                       "States.Name(...)");
    rc = parse_call(&ps, 1, out);
    if (rc < 0)
        return rc;
    skip_space(&ps);
    if (*ps.p != '\0') {
        rc = parse_fail(&ps, ps.p, "unexpected text after the call's closing ')'");
        call_free(*out);
        *out = NULL;
    }
    return rc;
}

void
flow_intrinsic_free(struct flow_intrinsic *f)
{
    call_free(f);
}

int
flow_intrinsic_eval(const struct flow_intrinsic *f, const struct flow_roots *r, json_t **out,
                    struct sl_diag *d)
{
    return eval_call(f, r, out, d);
}
