/*
 * choice.c - a Choice state's rules (see choice.h): each rule is compiled
 * once into a small tree of struct flow_choice, which is then evaluated,
 * read only, against every input that reaches the state.
 *
 *     And / Or       subs[0..nsubs)    evaluated in order, stopping as soon
 *                                      as the answer is known
 *     Not            subs[0]
 *     a test         var, op, and one operand: a literal (value, with ts or
 *                    pat prepared from it) or a reference path (other)
 *
 * The comparators are the table `ops`.  Their rules, from the States
 * Language specification and the AWS developer guide ("Choice workflow
 * state"), with our reading where the texts leave room:
 *
 *   - Operands of the wrong type never match (the rule is false, not an
 *     error): NumericEquals against a string, TimestampEquals against a
 *     string that is not a timestamp, and so on.  Not inverts that.
 *   - Strings compare as Java's String.compareTo does, which is what the
 *     developer guide points to: by UTF-16 code unit.  That is code point
 *     order except that characters above U+FFFF (surrogate pairs, D800-DBFF
 *     first) sort before U+E000..U+FFFF.  No case folding, no normalising.
 *   - Numbers compare by value whether jansson holds them as integers or
 *     reals; integer against real is compared exactly (no rounding of the
 *     integer to a double).
 *   - Timestamps are RFC 3339 date-times as the specification restricts
 *     them: YYYY-MM-DDTHH:MM:SS, an optional fraction of any number of
 *     digits, then Z or +hh:mm / -hh:mm; the T and the Z uppercase; seconds
 *     required; calendar checked (no February 30, hour 24 or second 60).
 *     They compare as instants, to the nanosecond (further digits are read
 *     and ignored; Java's Instant, behind AWS's engine, stops there too).
 *   - StringMatches: "*" matches any run of characters, "\*" is a literal
 *     star and "\\" a literal backslash; a backslash before anything else,
 *     or at the end, is refused when the rule is compiled (the
 *     specification makes an open escape an error; we find it early).
 *   - A Variable or *Path operand that names nothing fails the evaluation
 *     (States.Runtime for the state), except under IsPresent.
 *
 * Invariants: a compiled rule holds no reference into the definition's
 * JSON (literals are copied); evaluation changes nothing, so one compiled
 * rule may be evaluated from several threads at once.
 */
#include "flow/choice.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "flow/json.h"
#include "core/banned.h"

/* And, Or and Not nest at most this deep: a bound, so that a hostile
 * definition cannot exhaust the stack (jansson allows 2048 levels). */
#define MAX_DEPTH 64

/* ---- the comparators ------------------------------------------------------ */

/* What a comparator's operands must be. */
enum operand {
    O_STRING,    /* String* */
    O_MATCHES,   /* StringMatches */
    O_NUMBER,    /* Numeric* */
    O_BOOLEAN,   /* BooleanEquals */
    O_TIMESTAMP, /* Timestamp* */
    O_IS,        /* the type tests; the literal is true or false */
};

/* The relation a comparison asks for; for a type test, which test. */
enum rel {
    R_EQ,
    R_LT,
    R_GT,
    R_LE,
    R_GE,
    R_NULL,
    R_PRESENT,
    R_NUMERIC,
    R_STRING,
    R_BOOLEAN,
    R_TIMESTAMP,
};

struct op {
    const char *name;
    enum operand operand;
    enum rel rel;
    bool path; /* also exists as <name>Path, comparing with another value */
};

static const struct op ops[] = {
    {"StringEquals", O_STRING, R_EQ, true},
    {"StringLessThan", O_STRING, R_LT, true},
    {"StringGreaterThan", O_STRING, R_GT, true},
    {"StringLessThanEquals", O_STRING, R_LE, true},
    {"StringGreaterThanEquals", O_STRING, R_GE, true},
    {"StringMatches", O_MATCHES, R_EQ, false},
    {"NumericEquals", O_NUMBER, R_EQ, true},
    {"NumericLessThan", O_NUMBER, R_LT, true},
    {"NumericGreaterThan", O_NUMBER, R_GT, true},
    {"NumericLessThanEquals", O_NUMBER, R_LE, true},
    {"NumericGreaterThanEquals", O_NUMBER, R_GE, true},
    {"BooleanEquals", O_BOOLEAN, R_EQ, true},
    {"TimestampEquals", O_TIMESTAMP, R_EQ, true},
    {"TimestampLessThan", O_TIMESTAMP, R_LT, true},
    {"TimestampGreaterThan", O_TIMESTAMP, R_GT, true},
    {"TimestampLessThanEquals", O_TIMESTAMP, R_LE, true},
    {"TimestampGreaterThanEquals", O_TIMESTAMP, R_GE, true},
    {"IsNull", O_IS, R_NULL, false},
    {"IsPresent", O_IS, R_PRESENT, false},
    {"IsNumeric", O_IS, R_NUMERIC, false},
    {"IsString", O_IS, R_STRING, false},
    {"IsBoolean", O_IS, R_BOOLEAN, false},
    {"IsTimestamp", O_IS, R_TIMESTAMP, false},
};

static const struct op *
op_named(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0)
            return &ops[i];
    return NULL;
}

/* Whether a three-way comparison result satisfies rel. */
static bool
holds(enum rel rel, int cmp)
{
    switch (rel) {
    case R_EQ:
        return cmp == 0;
    case R_LT:
        return cmp < 0;
    case R_GT:
        return cmp > 0;
    case R_LE:
        return cmp <= 0;
    case R_GE:
        return cmp >= 0;
    default:
        return false;
    }
}

/* ---- timestamps ------------------------------------------------------------ */

/* An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds. */
struct ts {
    int64_t sec;
    int32_t nsec; /* [0, 999999999] */
};

/* s[at..at+k) as a decimal number; false unless all digits. */
static bool
fixed_digits(const char *s, size_t at, size_t k, int *v)
{
    *v = 0;
    for (size_t i = at; i < at + k; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

static int
month_days(int y, int m)
{
    static const unsigned char len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : len[m - 1];
}

/*
 * s[0..n) as a timestamp (the form in the file comment).  Returns false,
 * leaving *out undefined, if it is not one.
 */
static bool
parse_ts(const char *s, size_t n, struct ts *out)
{
    int y, mo, d, h, mi, sec, oh, om, off = 0;
    int32_t ns = 0;
    size_t i = 19, k = 0;

    /* YYYY-MM-DDTHH:MM:SS is 19 bytes, and a zone follows. */
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return false;
    if (!fixed_digits(s, 0, 4, &y) || !fixed_digits(s, 5, 2, &mo) || !fixed_digits(s, 8, 2, &d) ||
        !fixed_digits(s, 11, 2, &h) || !fixed_digits(s, 14, 2, &mi) ||
        !fixed_digits(s, 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
        return false;
    if (s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 9)
                ns = ns * 10 + (s[i] - '0');
        if (k == 0)
            return false;
        for (; k < 9; k++)
            ns *= 10;
    }
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
               fixed_digits(s, i + 1, 2, &oh) && fixed_digits(s, i + 4, 2, &om)) {
        if (oh > 23 || om > 59)
            return false;
        off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return false;
    }
    if (i != n)
        return false;
    out->sec =
        sl_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - off;
    out->nsec = ns;
    return true;
}

/* A JSON value as a timestamp: false unless it is a string that is one. */
static bool
json_ts(const json_t *v, struct ts *out)
{
    return json_is_string(v) && parse_ts(json_string_value(v), json_string_length(v), out);
}

static int
ts_cmp(const struct ts *a, const struct ts *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return (a->nsec > b->nsec) - (a->nsec < b->nsec);
}

/* ---- strings ---------------------------------------------------------------- */

/* The code point starting at s[0] (valid UTF-8, as jansson keeps it). */
static uint32_t
decode(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len, i;

    if (s[0] < 0x80)
        return s[0];
    if (s[0] < 0xE0) {
        cp = s[0] & 0x1F;
        len = 2;
    } else if (s[0] < 0xF0) {
        cp = s[0] & 0x0F;
        len = 3;
    } else {
        cp = s[0] & 0x07;
        len = 4;
    }
    for (i = 1; i < len && i < n; i++)
        cp = cp << 6 | (s[i] & 0x3F);
    return cp;
}

/* The first UTF-16 code unit of cp. */
static uint32_t
first_unit(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

/*
 * Compare two UTF-8 strings in UTF-16 code unit order (Java's compareTo).
 * UTF-8 byte order is code point order, and the two orders differ only
 * where one string has a character above U+FFFF and the other one in
 * U+E000..U+FFFF at the first difference; so compare bytes to the first
 * difference and decide there.
 */
static int
utf16_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    size_t i = 0, n = na < nb ? na : nb;
    uint32_t ca, cb, ua, ub;

    while (i < n && x[i] == y[i])
        i++;
    if (i == n)
        return (na > nb) - (na < nb);
    /* Back to the start of the character both strings differ in; the
     * bytes before i are shared, so the start is the same in both. */
    while (i > 0 && (x[i] & 0xC0) == 0x80)
        i--;
    ca = decode(x + i, na - i);
    cb = decode(y + i, nb - i);
    ua = first_unit(ca);
    ub = first_unit(cb);
    if (ua != ub)
        return ua < ub ? -1 : 1;
    return ca < cb ? -1 : 1;
}

/* A StringMatches pattern with its escapes resolved. */
struct pattern {
    char *bytes; /* the pattern's bytes, escapes removed */
    bool *wild;  /* wild[i]: bytes[i] is a wildcard "*", not a literal one */
    size_t len;
};

/*
 * Whether s[0..n) matches p: the usual wildcard walk, remembering the last
 * star to fall back to.  It works on bytes: a literal run starts on a
 * character boundary and UTF-8 is self-synchronising, so a star can only
 * ever swallow whole characters.
 */
static bool
pattern_match(const struct pattern *p, const char *s, size_t n)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

    while (si < n) {
        if (pi < p->len && p->wild[pi]) {
            star = pi++;
            mark = si;
        } else if (pi < p->len && p->bytes[pi] == s[si]) {
            pi++;
            si++;
        } else if (star != SIZE_MAX) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p->len && p->wild[pi])
        pi++;
    return pi == p->len;
}

/* ---- numbers ---------------------------------------------------------------- */

/* Compare a double with an integer exactly: neither type holds every value
 * of the other.  r is finite (jansson refuses anything else). */
static int
real_int_cmp(double r, json_int_t i)
{
    double t;

    if (r < -9223372036854775808.0)
        return -1;
    if (r >= 9223372036854775808.0)
        return 1;
    t = (double)(int64_t)r; /* r truncated: exact, |r| < 2^63 */
    if ((int64_t)t != i)
        return (int64_t)t < i ? -1 : 1;
    return (r > t) - (r < t);
}

static int
num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);

        return (x > y) - (x < y);
    }
    if (json_is_real(a) && json_is_real(b)) {
        double x = json_real_value(a), y = json_real_value(b);

        return (x > y) - (x < y);
    }
    if (json_is_real(a))
        return real_int_cmp(json_real_value(a), json_integer_value(b));
    return -real_int_cmp(json_real_value(b), json_integer_value(a));
}

/* ---- the compiled rule ------------------------------------------------------ */

enum kind { C_AND, C_OR, C_NOT, C_TEST };

struct flow_choice {
    enum kind kind;
    char *where;               /* its path in the definition, for runtime errors */
    char *next;                /* a top-level rule's Next; NULL for nested ones */
    struct flow_choice **subs; /* And, Or: the rules; Not: the one rule */
    size_t nsubs;
    struct flow_path *var;   /* a test: Variable */
    const struct op *op;     /* a test: its comparator */
    struct flow_path *other; /* a *Path comparator: the other operand */
    json_t *value;           /* otherwise the literal (our own copy) */
    struct ts ts;            /* Timestamp*: the literal, parsed */
    struct pattern pat;      /* StringMatches: the literal, compiled */
};

void
flow_choice_free(struct flow_choice *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsubs; i++)
        flow_choice_free(c->subs[i]);
    free(c->subs);
    flow_path_free(c->var);
    flow_path_free(c->other);
    json_decref(c->value);
    free(c->pat.bytes);
    free(c->pat.wild);
    free(c->next);
    free(c->where);
    free(c);
}

const char *
flow_choice_next(const struct flow_choice *c)
{
    return c->next;
}

/* ---- compiling -------------------------------------------------------------- */

static int compile(const json_t *rule, const char *where, bool top, int depth,
                   struct flow_choice **out, struct sl_diag *d);

/*
 * A field that is not Variable, Next or Comment: set *op (and *by_path for
 * a <name>Path form), or refuse the field.  And, Or and Not are handled by
 * the caller.
 */
static int
lookup_op(const char *key, const char *where, const struct op **op, bool *by_path,
          struct sl_diag *d)
{
    size_t len = strlen(key);

    *by_path = false;
    *op = op_named(key, len);
    if (*op != NULL)
        return 0;
    if (len > 4 && strcmp(key + len - 4, "Path") == 0) {
        *op = op_named(key, len - 4);
        if (*op != NULL && (*op)->path) {
            *by_path = true;
            return 0;
        }
        if (*op != NULL)
            return sl_fail(d, SL_ERR_INPUT, "%s.%s: unknown field: %s has no Path form", where, key,
                           (*op)->name);
    }
    if (strcmp(key, "Assign") == 0)
        return sl_fail(d, SL_ERR_INPUT,
                       "%s.Assign: not supported: sluice's flows have no variables", where);
    if (strcmp(key, "Condition") == 0)
        return sl_fail(d, SL_ERR_INPUT,
                       "%s.Condition: not supported: a JSONata rule, and sluice runs JSONPath "
                       "machines only",
                       where);
    return sl_fail(d, SL_ERR_INPUT, "%s.%s: unknown field", where, key);
}

/* Parse the reference path in v (the value of where.field) into *out; the
 * path parser's words say what is wrong with it (they quote the path). */
static int
parse_path(const json_t *v, const char *where, const char *field, struct flow_path **out,
           struct sl_diag *d)
{
    struct sl_diag pd;
    const char *text;
    int rc;

    if (!json_is_string(v))
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: must be a reference path (a string), not %s", where,
                       field, flow_json_kind(v));
    text = json_string_value(v);
    if (strlen(text) != json_string_length(v))
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: a path cannot contain a NUL character", where,
                       field);
    sl_diag_init(&pd);
    rc = flow_path_parse(text, true, out, &pd);
    if (rc < 0 && pd.msg[0] != '\0')
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: %s", where, field, pd.msg);
    if (rc < 0)
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: '%s' is not a reference path", where, field, text);
    return 0;
}

/* Resolve a StringMatches pattern's escapes into c->pat. */
static int
compile_pattern(struct flow_choice *c, const json_t *v, struct sl_diag *d)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), k = 0;

    c->pat.bytes = sl_malloc(n + 1);
    c->pat.wild = sl_malloc((n + 1) * sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\') {
            if (i + 1 == n)
                return sl_fail(d, SL_ERR_INPUT,
                               "%s.StringMatches: ends in an open escape: a backslash must be "
                               "followed by * or by another backslash",
                               c->where);
            if (s[i + 1] != '*' && s[i + 1] != '\\')
                return sl_fail(d, SL_ERR_INPUT,
                               "%s.StringMatches: invalid escape at offset %zu: a backslash "
                               "escapes only * (\\*) and itself (\\\\)",
                               c->where, i);
            i++;
            c->pat.bytes[k] = s[i];
            c->pat.wild[k++] = false;
        } else {
            c->pat.bytes[k] = s[i];
            c->pat.wild[k++] = s[i] == '*';
        }
    }
    c->pat.len = k;
    return 0;
}

/* A test: Variable and the comparator's operand (the value of opkey). */
static int
compile_test(struct flow_choice *c, const json_t *var, const json_t *operand, bool by_path,
             const char *opkey, struct sl_diag *d)
{
    const char *want = NULL;
    int rc;

    rc = parse_path(var, c->where, "Variable", &c->var, d);
    if (rc < 0)
        return rc;
    if (by_path)
        return parse_path(operand, c->where, opkey, &c->other, d);
    switch (c->op->operand) {
    case O_STRING:
    case O_MATCHES:
    case O_TIMESTAMP:
        if (!json_is_string(operand))
            want = "a string";
        break;
    case O_NUMBER:
        if (!json_is_number(operand))
            want = "a number";
        break;
    case O_BOOLEAN:
    case O_IS:
        if (!json_is_boolean(operand))
            want = "a boolean (true or false)";
        break;
    }
    if (want != NULL)
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: must be %s, not %s", c->where, opkey, want,
                       flow_json_kind(operand));
    if (c->op->operand == O_TIMESTAMP && !json_ts(operand, &c->ts))
        return sl_fail(d, SL_ERR_INPUT,
                       "%s.%s: \"%.64s\" is not a timestamp: RFC 3339 with an uppercase T, and "
                       "Z or an offset such as +02:00 (2016-08-18T17:33:00Z)",
                       c->where, opkey, json_string_value(operand));
    if (c->op->operand == O_MATCHES) {
        rc = compile_pattern(c, operand, d);
        if (rc < 0)
            return rc;
    }
    c->value = json_deep_copy(operand);
    return 0;
}

/* And, Or: a non-empty array of nested rules; Not: one nested rule. */
static int
compile_subs(struct flow_choice *c, const json_t *v, const char *opkey, int depth,
             struct sl_diag *d)
{
    char *at;
    int rc;

    if (c->kind == C_NOT) {
        if (!json_is_object(v))
            return sl_fail(d, SL_ERR_INPUT, "%s.Not: must be a rule (an object), not %s", c->where,
                           flow_json_kind(v));
        c->subs = sl_calloc(1, sizeof(*c->subs));
        at = sl_printf("%s.Not", c->where);
        rc = compile(v, at, false, depth + 1, &c->subs[0], d);
        free(at);
        if (rc < 0)
            return rc;
        c->nsubs = 1;
        return 0;
    }
    if (!json_is_array(v))
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: must be an array of rules, not %s", c->where, opkey,
                       flow_json_kind(v));
    if (json_array_size(v) == 0)
        return sl_fail(d, SL_ERR_INPUT, "%s.%s: must not be empty", c->where, opkey);
    c->subs = sl_calloc(json_array_size(v), sizeof(*c->subs));
    for (size_t i = 0; i < json_array_size(v); i++) {
        at = sl_printf("%s.%s[%zu]", c->where, opkey, i);
        rc = compile(json_array_get(v, i), at, false, depth + 1, &c->subs[i], d);
        free(at);
        if (rc < 0)
            return rc;
        c->nsubs++;
    }
    return 0;
}

/*
 * One rule at where, depth levels of And/Or/Not down.  Checks, in order:
 * the fields (each known, one operator), Next, Comment, Variable, then the
 * operand (recursing for And, Or and Not).
 */
static int
compile(const json_t *rule, const char *where, bool top, int depth, struct flow_choice **out,
        struct sl_diag *d)
{
    struct flow_choice *c;
    const char *key, *opkey = NULL;
    const struct op *op = NULL;
    json_t *val, *operand = NULL, *next, *comment, *var;
    enum kind kind = C_TEST;
    bool by_path = false;
    int rc;

    *out = NULL;
    if (!json_is_object(rule))
        return sl_fail(d, SL_ERR_INPUT, "%s: must be a Choice rule (an object), not %s", where,
                       flow_json_kind(rule));
    if (depth > MAX_DEPTH)
        return sl_fail(d, SL_ERR_INPUT, "%s: rules nest deeper than %d levels of And, Or and Not",
                       where, MAX_DEPTH);
    json_object_foreach((json_t *)rule, key, val)
    {
        const struct op *o = NULL;
        enum kind k = C_TEST;
        bool p = false;

        if (strcmp(key, "Variable") == 0 || strcmp(key, "Next") == 0 || strcmp(key, "Comment") == 0)
            continue;
        if (strcmp(key, "And") == 0) {
            k = C_AND;
        } else if (strcmp(key, "Or") == 0) {
            k = C_OR;
        } else if (strcmp(key, "Not") == 0) {
            k = C_NOT;
        } else {
            rc = lookup_op(key, where, &o, &p, d);
            if (rc < 0)
                return rc;
        }
        if (opkey != NULL)
            return sl_fail(d, SL_ERR_INPUT, "%s.%s: a rule has one operator, and this one has %s",
                           where, key, opkey);
        opkey = key;
        kind = k;
        op = o;
        by_path = p;
        operand = val;
    }
    if (opkey == NULL)
        return sl_fail(d, SL_ERR_INPUT,
                       "%s: no operator: a rule needs And, Or, Not, or a Variable and a "
                       "comparison such as StringEquals",
                       where);

    next = json_object_get(rule, "Next");
    if (top && next == NULL)
        return sl_fail(d, SL_ERR_INPUT,
                       "%s.Next: missing: a top-level rule names the state to go to", where);
    if (!top && next != NULL)
        return sl_fail(d, SL_ERR_INPUT,
                       "%s.Next: not allowed in a nested rule (only the rules of Choices have "
                       "one)",
                       where);
    if (next != NULL && !json_is_string(next))
        return sl_fail(d, SL_ERR_INPUT, "%s.Next: must be a state name (a string), not %s", where,
                       flow_json_kind(next));
    if (next != NULL && json_string_length(next) == 0)
        return sl_fail(d, SL_ERR_INPUT, "%s.Next: must not be empty", where);
    comment = json_object_get(rule, "Comment");
    if (comment != NULL && !json_is_string(comment))
        return sl_fail(d, SL_ERR_INPUT, "%s.Comment: must be a string, not %s", where,
                       flow_json_kind(comment));
    var = json_object_get(rule, "Variable");
    if (kind != C_TEST && var != NULL)
        return sl_fail(d, SL_ERR_INPUT, "%s.Variable: not allowed with %s", where, opkey);
    if (kind == C_TEST && var == NULL)
        return sl_fail(d, SL_ERR_INPUT, "%s.Variable: missing: %s needs the path it tests", where,
                       opkey);

    c = sl_calloc(1, sizeof(*c));
    c->kind = kind;
    c->op = op;
    c->where = sl_strdup(where);
    if (next != NULL)
        c->next = sl_strdup(json_string_value(next));
    if (kind == C_TEST)
        rc = compile_test(c, var, operand, by_path, opkey, d);
    else
        rc = compile_subs(c, operand, opkey, depth, d);
    if (rc < 0) {
        flow_choice_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int
flow_choice_compile(const json_t *rule, const char *where, bool top, struct flow_choice **out,
                    struct sl_diag *d)
{
    return compile(rule, where, top, 0, out, d);
}

/* ---- evaluating ------------------------------------------------------------- */

/*
 * A path of c (written in its field named field) found nothing, or failed
 * with rc: say so as "<where>.<field>: <why>", why being the path's own
 * words (which step found nothing), and name the field in d's location.
 * Nothing found is bad input (the state raises States.Runtime).
 */
static int
no_value(const struct flow_choice *c, const struct flow_path *p, const char *field, int rc,
         const struct sl_diag *pd, struct sl_diag *d)
{
    char at[sizeof(d->field)];
    bool fresh = d != NULL && d->code == 0;

    if (rc == SL_ERR_NOTFOUND)
        rc = SL_ERR_INPUT;
    if (pd->msg[0] != '\0')
        sl_fail(d, rc, "%s.%s: %s", c->where, field, pd->msg);
    else
        sl_fail(d, rc, "%s.%s: '%s' names nothing", c->where, field, flow_path_text(p));
    if (fresh) {
        snprintf(at, sizeof(at), "%s.%s", c->where, field);
        sl_diag_at(d, NULL, 0, 0, at);
    }
    return rc;
}

/* A type test on a value that is present. */
static bool
type_test(enum rel rel, const json_t *v)
{
    struct ts t;

    switch (rel) {
    case R_NULL:
        return json_is_null(v);
    case R_PRESENT:
        return true;
    case R_NUMERIC:
        return json_is_number(v);
    case R_STRING:
        return json_is_string(v);
    case R_BOOLEAN:
        return json_is_boolean(v);
    case R_TIMESTAMP:
        return json_ts(v, &t);
    default:
        return false;
    }
}

/* Whether v (Variable's value) and w (the other operand) satisfy c's
 * comparator; operands of the wrong type do not. */
static bool
compare(const struct flow_choice *c, const json_t *v, const json_t *w)
{
    struct ts a, b;
    int cmp;

    switch (c->op->operand) {
    case O_STRING:
        if (!json_is_string(v) || !json_is_string(w))
            return false;
        cmp = utf16_cmp(json_string_value(v), json_string_length(v), json_string_value(w),
                        json_string_length(w));
        break;
    case O_MATCHES:
        return json_is_string(v) &&
               pattern_match(&c->pat, json_string_value(v), json_string_length(v));
    case O_NUMBER:
        if (!json_is_number(v) || !json_is_number(w))
            return false;
        cmp = num_cmp(v, w);
        break;
    case O_BOOLEAN:
        if (!json_is_boolean(v) || !json_is_boolean(w))
            return false;
        cmp = json_is_true(v) != json_is_true(w);
        break;
    case O_TIMESTAMP:
        if (!json_ts(v, &a))
            return false;
        if (c->other == NULL)
            b = c->ts;
        else if (!json_ts(w, &b))
            return false;
        cmp = ts_cmp(&a, &b);
        break;
    default:
        return false;
    }
    return holds(c->op->rel, cmp);
}

static int
eval_test(const struct flow_choice *c, const struct flow_roots *r, bool *match, struct sl_diag *d)
{
    struct sl_diag pd;
    json_t *v = NULL, *w = NULL;
    char field[64];
    int rc;

    sl_diag_init(&pd);
    rc = flow_path_select(c->var, r, &v, &pd);
    if (rc == SL_ERR_NOTFOUND && c->op->rel == R_PRESENT) {
        *match = !json_is_true(c->value);
        return 0;
    }
    if (rc < 0)
        return no_value(c, c->var, "Variable", rc, &pd, d);
    if (c->op->operand == O_IS) {
        *match = type_test(c->op->rel, v) == json_is_true(c->value);
        json_decref(v);
        return 0;
    }
    if (c->other != NULL) {
        sl_diag_init(&pd);
        rc = flow_path_select(c->other, r, &w, &pd);
        if (rc < 0) {
            json_decref(v);
            snprintf(field, sizeof(field), "%sPath", c->op->name);
            return no_value(c, c->other, field, rc, &pd, d);
        }
    }
    *match = compare(c, v, w != NULL ? w : c->value);
    json_decref(v);
    json_decref(w);
    return 0;
}

int
flow_choice_eval(const struct flow_choice *c, const struct flow_roots *r, bool *match,
                 struct sl_diag *d)
{
    bool m;
    int rc;

    *match = false;
    switch (c->kind) {
    case C_AND:
        for (size_t i = 0; i < c->nsubs; i++) {
            rc = flow_choice_eval(c->subs[i], r, &m, d);
            if (rc < 0 || !m)
                return rc;
        }
        *match = true;
        return 0;
    case C_OR:
        for (size_t i = 0; i < c->nsubs; i++) {
            rc = flow_choice_eval(c->subs[i], r, &m, d);
            if (rc < 0)
                return rc;
            if (m) {
                *match = true;
                return 0;
            }
        }
        return 0;
    case C_NOT:
        rc = flow_choice_eval(c->subs[0], r, &m, d);
        if (rc < 0)
            return rc;
        *match = !m;
        return 0;
    case C_TEST:
        return eval_test(c, r, match, d);
    }
    return 0;
}
