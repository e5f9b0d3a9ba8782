/*
 * test_choice.c - Choice rules: every comparator matching, not matching and
 * meeting a value of the wrong type, each in its literal and its Path form;
 * StringMatches and its escapes; timestamps with offsets and fractions;
 * the type tests; And, Or and Not; the runtime error of a Variable that
 * names nothing; and every refusal at compile time with its words.
 *
 * Rules and inputs are written with ' for " (see json()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/diag.h"
#include "flow/choice.h"
#include "flow/path.h"
#include "test.h"

#define WHERE "$.States.Check.Choices[0]"

static struct sl_diag d;

/* Parse text as JSON, with ' standing for " so that tests stay legible;
 * \\ in the C source is one backslash in the JSON text. */
static json_t *
json(const char *text)
{
    char buf[4096];
    json_error_t err;
    json_t *v;
    size_t i;

    for (i = 0; text[i] != '\0' && i < sizeof(buf) - 1; i++)
        buf[i] = text[i] == '\'' ? '"' : text[i];
    buf[i] = '\0';
    v = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == NULL) {
        snprintf(test_why, sizeof(test_why), "bad JSON in the test: %s: %s", err.text, buf);
        longjmp(test_jmp, 1);
    }
    return v;
}

/* Compile a rule; 0 or the error (d says why). */
static int
compile(const char *rule, bool top, struct flow_choice **c)
{
    json_t *v = json(rule);
    int rc;

    sl_diag_init(&d);
    *c = (struct flow_choice *)&d; /* must be reset to NULL on failure */
    rc = flow_choice_compile(v, WHERE, top, c, &d);
    json_decref(v);
    return rc;
}

/* Evaluate a nested rule on input (context as $$, may be NULL): 1 if it
 * matches, 0 if not, or the error (d says why). */
static int
eval_ctx(const char *rule, const char *input, const char *context)
{
    struct flow_choice *c;
    struct flow_roots r = {NULL, NULL};
    bool m = true;
    int rc;

    r.input = json(input);
    r.context = context != NULL ? json(context) : NULL;
    if (compile(rule, false, &c) != 0) {
        snprintf(test_why, sizeof(test_why), "refused %s: %s", rule, d.msg);
        longjmp(test_jmp, 1);
    }
    sl_diag_init(&d);
    rc = flow_choice_eval(c, &r, &m, &d);
    flow_choice_free(c);
    json_decref(r.input);
    json_decref(r.context);
    if (rc < 0)
        return rc;
    return m ? 1 : 0;
}

static int
eval(const char *rule, const char *input)
{
    return eval_ctx(rule, input, NULL);
}

/* One case: comparator op with operand lit, the Variable's value val. */
struct row {
    const char *op;
    const char *lit;
    const char *val;
    int want; /* 1 matches, 0 does not */
};

/*
 * Run rows: each as {Variable: $.v, op: lit} on {v: val}, and, when path
 * is set, again as {Variable: $.v, opPath: $.w} on {v: val, w: lit} - the
 * same comparison with the operand read from the input.
 */
static void
run_rows(const struct row *rows, size_t n, bool path)
{
    char rule[512], input[1024];
    int got;

    for (size_t i = 0; i < n; i++) {
        for (int form = 0; form < (path ? 2 : 1); form++) {
            if (form == 0) {
                snprintf(rule, sizeof(rule), "{'Variable': '$.v', '%s': %s}", rows[i].op,
                         rows[i].lit);
                snprintf(input, sizeof(input), "{'v': %s}", rows[i].val);
            } else {
                snprintf(rule, sizeof(rule), "{'Variable': '$.v', '%sPath': '$.w'}", rows[i].op);
                snprintf(input, sizeof(input), "{'v': %s, 'w': %s}", rows[i].val, rows[i].lit);
            }
            got = eval(rule, input);
            if (got != rows[i].want) {
                snprintf(test_why, sizeof(test_why), "%s on %s gave %d, expected %d (%s)", rule,
                         input, got, rows[i].want, d.msg);
                longjmp(test_jmp, 1);
            }
        }
    }
}

#define RUN(rows, path) run_rows((rows), sizeof(rows) / sizeof((rows)[0]), (path))

/* rule (top-level or not) is refused with exactly msg. */
static void
refused(const char *rule, bool top, const char *msg)
{
    struct flow_choice *c;

    if (compile(rule, top, &c) != SL_ERR_INPUT) {
        snprintf(test_why, sizeof(test_why), "accepted: %s", rule);
        longjmp(test_jmp, 1);
    }
    CHECK(c == NULL);
    CHECK_STR(d.msg, msg);
}

/* ---- strings ---------------------------------------------------------------- */

TEST(string_comparators)
{
    static const struct row rows[] = {
        {"StringEquals", "'abc'", "'abc'", 1},
        {"StringEquals", "'abc'", "'abd'", 0},
        {"StringEquals", "'abc'", "'ABC'", 0},
        {"StringEquals", "''", "''", 1},
        {"StringEquals", "'1'", "1", 0},
        {"StringEquals", "'true'", "true", 0},
        {"StringEquals", "'null'", "null", 0},
        {"StringEquals", "'a'", "['a']", 0},
        {"StringEquals", "'a'", "{'a': 'a'}", 0},
        {"StringLessThan", "'abd'", "'abc'", 1},
        {"StringLessThan", "'abc'", "'abc'", 0},
        {"StringLessThan", "'abc'", "'abd'", 0},
        {"StringLessThan", "'abc'", "'ab'", 1},
        {"StringLessThan", "'b'", "'B'", 1},
        {"StringLessThan", "'2'", "1", 0},
        {"StringGreaterThan", "'abc'", "'abd'", 1},
        {"StringGreaterThan", "'abc'", "'abc'", 0},
        {"StringGreaterThan", "'abd'", "'abc'", 0},
        {"StringGreaterThan", "'ab'", "'abc'", 1},
        {"StringGreaterThan", "'a'", "false", 0},
        {"StringLessThanEquals", "'abc'", "'abc'", 1},
        {"StringLessThanEquals", "'abd'", "'abc'", 1},
        {"StringLessThanEquals", "'abc'", "'abd'", 0},
        {"StringLessThanEquals", "'z'", "null", 0},
        {"StringGreaterThanEquals", "'abc'", "'abc'", 1},
        {"StringGreaterThanEquals", "'abc'", "'abd'", 1},
        {"StringGreaterThanEquals", "'abd'", "'abc'", 0},
        {"StringGreaterThanEquals", "''", "[]", 0},
    };

    RUN(rows, true);
}

TEST(string_order_is_utf16_code_units)
{
    /* U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF61 (as in
     * Java), though its code point - and its UTF-8 bytes - are larger. */
    static const struct row rows[] = {
        {"StringLessThan", "'\\uFF61'", "'\\uD83D\\uDE00'", 1},
        {"StringGreaterThan", "'\\uD83D\\uDE00'", "'\\uFF61'", 1},
        {"StringLessThan", "'\\uE000'", "'\\uD83D\\uDE00'", 1},
        /* Below U+E000 it is plain code point order. */
        {"StringLessThan", "'\\uD83D\\uDE00'", "'\\u00E9'", 1},
        {"StringLessThan", "'\\u00EA'", "'\\u00E9'", 1},
        {"StringLessThan", "'\\uD83D\\uDE01'", "'\\uD83D\\uDE00'", 1},
        {"StringGreaterThan", "'\\uD83D\\uDE00'", "'\\uD83D\\uDE01'", 1},
        /* No normalising: a precomposed e-acute is not e and an accent. */
        {"StringEquals", "'e\\u0301'", "'\\u00E9'", 0},
        /* Strings may hold NUL; it counts like any other character. */
        {"StringGreaterThan", "'a'", "'a\\u0000'", 1},
        {"StringEquals", "'a\\u0000b'", "'a\\u0000b'", 1},
        {"StringEquals", "'a\\u0000b'", "'a\\u0000c'", 0},
    };

    RUN(rows, true);
}

TEST(string_matches)
{
    static const struct row rows[] = {
        /* The specification's examples. */
        {"StringMatches", "'foo*.log'", "'foo23.log'", 1},
        {"StringMatches", "'*.log'", "'zebra.log'", 1},
        {"StringMatches", "'foo*.*'", "'foobar.zebra'", 1},
        {"StringMatches", "'foo*.log'", "'foo23.txt'", 0},
        {"StringMatches", "'foo*.log'", "'xfoo23.log'", 0},
        {"StringMatches", "'log'", "'log'", 1},
        {"StringMatches", "'log'", "'logs'", 0},
        {"StringMatches", "'*'", "''", 1},
        {"StringMatches", "'*'", "'anything at all'", 1},
        {"StringMatches", "''", "''", 1},
        {"StringMatches", "''", "'a'", 0},
        {"StringMatches", "'a**b'", "'ab'", 1},
        {"StringMatches", "'*a*b*'", "'xxaxxbxx'", 1},
        {"StringMatches", "'*a*b*'", "'xxbxxaxx'", 0},
        {"StringMatches", "'*ab'", "'aab'", 1},
        {"StringMatches", "'a*a*a'", "'aaa'", 1},
        {"StringMatches", "'a*a*a'", "'aa'", 0},
        /* No other character is special. */
        {"StringMatches", "'a?c'", "'abc'", 0},
        {"StringMatches", "'a?c'", "'a?c'", 1},
        {"StringMatches", "'[ab].c'", "'[ab].c'", 1},
        {"StringMatches", "'a.c'", "'abc'", 0},
        /* Escapes: \* is a star, \\ a backslash (JSON doubles each). */
        {"StringMatches", "'a\\\\*b'", "'a*b'", 1},
        {"StringMatches", "'a\\\\*b'", "'axb'", 0},
        {"StringMatches", "'a\\\\*b'", "'a\\\\*b'", 0},
        {"StringMatches", "'\\\\\\\\'", "'\\\\'", 1},
        {"StringMatches", "'\\\\\\\\*'", "'\\\\abc'", 1},
        {"StringMatches", "'\\\\\\\\*'", "'abc'", 0},
        {"StringMatches", "'*\\\\**'", "'2*3'", 1},
        {"StringMatches", "'*\\\\**'", "'23'", 0},
        {"StringMatches", "'\\\\\\\\\\\\*'", "'\\\\*'", 1},
        /* A star swallows whole characters. */
        {"StringMatches", "'h*llo'", "'h\\u00E4llo'", 1},
        {"StringMatches", "'*\\u00E4'", "'\\u00E4\\u00E4'", 1},
        {"StringMatches", "'\\uD83D\\uDE00*'", "'\\uD83D\\uDE00!'", 1},
        /* Wrong types. */
        {"StringMatches", "'1*'", "12", 0},
        {"StringMatches", "'*'", "null", 0},
        {"StringMatches", "'*'", "true", 0},
        {"StringMatches", "'*'", "['a']", 0},
    };

    RUN(rows, false);
}

/* ---- numbers and booleans --------------------------------------------------- */

TEST(numeric_comparators)
{
    static const struct row rows[] = {
        {"NumericEquals", "1", "1", 1},
        {"NumericEquals", "1", "1.0", 1},
        {"NumericEquals", "1.0", "1", 1},
        {"NumericEquals", "0.5", "0.5", 1},
        {"NumericEquals", "-0.0", "0", 1},
        {"NumericEquals", "1e3", "1000", 1},
        {"NumericEquals", "1", "2", 0},
        {"NumericEquals", "1", "1.000001", 0},
        {"NumericEquals", "1", "'1'", 0},
        {"NumericEquals", "0", "null", 0},
        {"NumericEquals", "0", "false", 0},
        {"NumericEquals", "1", "[1]", 0},
        {"NumericLessThan", "10", "9", 1},
        {"NumericLessThan", "10", "9.999", 1},
        {"NumericLessThan", "-1", "-1.5", 1},
        {"NumericLessThan", "10", "10", 0},
        {"NumericLessThan", "10", "10.0", 0},
        {"NumericLessThan", "10", "11", 0},
        {"NumericLessThan", "10", "'9'", 0},
        {"NumericGreaterThan", "10", "11", 1},
        {"NumericGreaterThan", "10", "10.001", 1},
        {"NumericGreaterThan", "10.5", "11", 1},
        {"NumericGreaterThan", "10", "10", 0},
        {"NumericGreaterThan", "10", "-11", 0},
        {"NumericGreaterThan", "10", "'11'", 0},
        {"NumericLessThanEquals", "10", "10", 1},
        {"NumericLessThanEquals", "10", "10.0", 1},
        {"NumericLessThanEquals", "10", "-3", 1},
        {"NumericLessThanEquals", "10", "10.5", 0},
        {"NumericLessThanEquals", "10", "true", 0},
        {"NumericGreaterThanEquals", "50000", "50000", 1},
        {"NumericGreaterThanEquals", "50000", "50000.5", 1},
        {"NumericGreaterThanEquals", "50000", "49999.99", 0},
        {"NumericGreaterThanEquals", "50000", "{'n': 50001}", 0},
    };

    RUN(rows, true);
}

TEST(numeric_integer_and_real_compare_exactly)
{
    /* 2^53 + 1 has no double; rounding it would make these equal. */
    static const struct row rows[] = {
        {"NumericEquals", "9007199254740992.0", "9007199254740993", 0},
        {"NumericGreaterThan", "9007199254740992.0", "9007199254740993", 1},
        {"NumericLessThan", "9007199254740993", "9007199254740992.0", 1},
        {"NumericEquals", "9007199254740992", "9007199254740992.0", 1},
        {"NumericEquals", "9223372036854775807", "9223372036854775807", 1},
        {"NumericLessThan", "9223372036854775807", "9.3e18", 0},
        {"NumericGreaterThan", "9223372036854775807", "9.3e18", 1},
        {"NumericLessThan", "-9223372036854775807", "-9.3e18", 1},
        {"NumericGreaterThan", "-3", "-2.5", 1},
        {"NumericLessThan", "-2", "-2.5", 1},
        {"NumericLessThan", "3", "2.5", 1},
    };

    RUN(rows, true);
}

TEST(boolean_equals)
{
    static const struct row rows[] = {
        {"BooleanEquals", "true", "true", 1},   {"BooleanEquals", "false", "false", 1},
        {"BooleanEquals", "true", "false", 0},  {"BooleanEquals", "false", "true", 0},
        {"BooleanEquals", "true", "'true'", 0}, {"BooleanEquals", "false", "0", 0},
        {"BooleanEquals", "false", "null", 0},  {"BooleanEquals", "false", "''", 0},
    };

    RUN(rows, true);
}

/* ---- timestamps ------------------------------------------------------------- */

TEST(timestamp_comparators)
{
    static const struct row rows[] = {
        {"TimestampEquals", "'2001-01-01T12:00:00Z'", "'2001-01-01T12:00:00Z'", 1},
        {"TimestampEquals", "'2001-01-01T12:00:00Z'", "'2001-01-01T12:00:01Z'", 0},
        /* The same instant written with other offsets and fractions. */
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T19:33:00+02:00'", 1},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T12:03:00-05:30'", 1},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00+00:00'", 1},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00-00:00'", 1},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00.000Z'", 1},
        {"TimestampEquals", "'2016-08-18T17:33:00.5Z'", "'2016-08-18T17:33:00.500000Z'", 1},
        {"TimestampEquals", "'2016-08-19T00:30:00Z'", "'2016-08-18T23:30:00-01:00'", 1},
        {"TimestampEquals", "'2017-01-01T00:00:00Z'", "'2016-12-31T23:00:00-01:00'", 1},
        {"TimestampEquals", "'2016-02-29T23:59:59Z'", "'2016-03-01T00:59:59+01:00'", 1},
        /* Nine fraction digits count; a tenth is ignored. */
        {"TimestampEquals", "'2016-08-18T17:33:00.123456789Z'", "'2016-08-18T17:33:00.1234567891Z'",
         1},
        {"TimestampEquals", "'2016-08-18T17:33:00.123456789Z'", "'2016-08-18T17:33:00.123456788Z'",
         0},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00'", 0},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18t17:33:00Z'", 0},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "1471541580", 0},
        {"TimestampEquals", "'2016-08-18T17:33:00Z'", "null", 0},
        {"TimestampLessThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:32:59.999Z'", 1},
        {"TimestampLessThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T18:32:59+01:00'", 1},
        {"TimestampLessThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00+00:00'", 0},
        {"TimestampLessThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00.001Z'", 0},
        {"TimestampLessThan", "'2016-08-18T17:33:00Z'", "'yesterday'", 0},
        {"TimestampGreaterThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00.000000001Z'", 1},
        {"TimestampGreaterThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T18:33:00+01:00'", 0},
        /* Local 17:33 in New York is after 17:33 in London. */
        {"TimestampGreaterThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00-04:00'", 1},
        {"TimestampGreaterThan", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00+04:00'", 0},
        {"TimestampGreaterThan", "'2016-08-18T17:33:00Z'", "true", 0},
        {"TimestampLessThanEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00.0Z'", 1},
        {"TimestampLessThanEquals", "'2016-08-18T17:33:00Z'", "'1999-12-31T23:59:59Z'", 1},
        {"TimestampLessThanEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:01Z'", 0},
        {"TimestampLessThanEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18 17:33:00Z'", 0},
        {"TimestampGreaterThanEquals", "'2016-08-18T17:33:00Z'", "'2016-08-18T17:33:00Z'", 1},
        {"TimestampGreaterThanEquals", "'2016-08-18T17:33:00Z'", "'9999-12-31T23:59:59Z'", 1},
        {"TimestampGreaterThanEquals", "'2016-08-18T17:33:00Z'", "'0001-01-01T00:00:00Z'", 0},
        {"TimestampGreaterThanEquals", "'2016-08-18T17:33:00Z'", "['2016-08-18T17:33:00Z']", 0},
    };

    RUN(rows, true);
}

TEST(timestamp_forms)
{
    static const char *const good[] = {
        "2016-08-18T17:33:00Z",        "2016-08-18T17:33:00.1Z",
        "2016-08-18T17:33:00.000000Z", "2016-08-18T17:33:00.123456789012Z",
        "2016-08-18T17:33:00+02:00",   "2016-08-18T17:33:00.25-11:30",
        "2016-02-29T00:00:00Z",        "2000-02-29T00:00:00Z",
        "0000-01-01T00:00:00Z",        "9999-12-31T23:59:59+23:59",
    };
    static const char *const bad[] = {
        "",
        "2016-08-18",
        "2016-08-18T17:33Z",
        "2016-08-18T17:33:00",
        "2016-08-18T17:33:00z",
        "2016-08-18t17:33:00Z",
        "2016-08-18 17:33:00Z",
        "2016-08-18T17:33:00.Z",
        "2016-08-18T17:33:00,5Z",
        "2016-08-18T17:33:00+0200",
        "2016-08-18T17:33:00+02",
        "2016-08-18T17:33:00+24:00",
        "2016-08-18T17:33:00+02:60",
        "2016-08-18T17:33:00ZZ",
        "2016-08-18T17:33:00Z ",
        " 2016-08-18T17:33:00Z",
        "2016-8-18T17:33:00Z",
        "16-08-18T17:33:00Z",
        "+2016-08-18T17:33:00Z",
        "2016-13-01T00:00:00Z",
        "2016-00-01T00:00:00Z",
        "2016-04-31T00:00:00Z",
        "2015-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2016-08-00T00:00:00Z",
        "2016-08-18T24:00:00Z",
        "2016-08-18T23:60:00Z",
        "2016-12-31T23:59:60Z",
        "2016-08-18T17:33:0aZ",
    };
    char input[256];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(input, sizeof(input), "{'v': '%s'}", good[i]);
        if (eval("{'Variable': '$.v', 'IsTimestamp': true}", input) != 1) {
            snprintf(test_why, sizeof(test_why), "not a timestamp: %s", good[i]);
            longjmp(test_jmp, 1);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(input, sizeof(input), "{'v': '%s'}", bad[i]);
        if (eval("{'Variable': '$.v', 'IsTimestamp': true}", input) != 0) {
            snprintf(test_why, sizeof(test_why), "a timestamp: %s", bad[i]);
            longjmp(test_jmp, 1);
        }
    }
}

/* ---- type tests ------------------------------------------------------------- */

TEST(type_tests)
{
    static const struct row rows[] = {
        {"IsNull", "true", "null", 1},
        {"IsNull", "true", "0", 0},
        {"IsNull", "true", "''", 0},
        {"IsNull", "true", "'null'", 0},
        {"IsNull", "false", "0", 1},
        {"IsNull", "false", "null", 0},
        {"IsPresent", "true", "null", 1},
        {"IsPresent", "true", "0", 1},
        {"IsPresent", "false", "false", 0},
        {"IsNumeric", "true", "0", 1},
        {"IsNumeric", "true", "-1.5e3", 1},
        {"IsNumeric", "true", "'1'", 0},
        {"IsNumeric", "true", "null", 0},
        {"IsNumeric", "false", "'1'", 1},
        {"IsNumeric", "false", "1", 0},
        {"IsString", "true", "''", 1},
        {"IsString", "true", "'x'", 1},
        {"IsString", "true", "1", 0},
        {"IsString", "true", "['x']", 0},
        {"IsString", "false", "{}", 1},
        {"IsString", "false", "'x'", 0},
        {"IsBoolean", "true", "true", 1},
        {"IsBoolean", "true", "false", 1},
        {"IsBoolean", "true", "'true'", 0},
        {"IsBoolean", "true", "0", 0},
        {"IsBoolean", "false", "null", 1},
        {"IsBoolean", "false", "false", 0},
        {"IsTimestamp", "true", "'2016-08-18T17:33:00Z'", 1},
        {"IsTimestamp", "true", "'2016-08-18'", 0},
        {"IsTimestamp", "true", "1471541580", 0},
        {"IsTimestamp", "false", "'soon'", 1},
        {"IsTimestamp", "false", "'2016-08-18T17:33:00Z'", 0},
    };

    RUN(rows, false);
}

TEST(is_present_on_a_missing_variable)
{
    CHECK_INT(eval("{'Variable': '$.v', 'IsPresent': true}", "{}"), 0);
    CHECK_INT(eval("{'Variable': '$.v', 'IsPresent': false}", "{}"), 1);
    CHECK_INT(eval("{'Variable': '$.a.b', 'IsPresent': true}", "{'a': 1}"), 0);
    CHECK_INT(eval("{'Variable': '$.a[3]', 'IsPresent': true}", "{'a': [0, 1]}"), 0);
    CHECK_INT(eval("{'Variable': '$.a[1]', 'IsPresent': true}", "{'a': [0, null]}"), 1);
    CHECK_INT(eval("{'Not': {'Variable': '$.v', 'IsPresent': true}}", "{}"), 1);
    /* The usual guard: test for presence before reading. */
    CHECK_INT(eval("{'And': [{'Variable': '$.v', 'IsPresent': true},"
                   "         {'Variable': '$.v', 'NumericGreaterThan': 5}]}",
                   "{}"),
              0);
    CHECK_INT(eval("{'And': [{'Variable': '$.v', 'IsPresent': true},"
                   "         {'Variable': '$.v', 'NumericGreaterThan': 5}]}",
                   "{'v': 6}"),
              1);
}

/* ---- Path operands ---------------------------------------------------------- */

TEST(path_operand_of_the_wrong_type)
{
    /* run_rows gave every Path form matching and non-matching cases with
     * the Variable's value of the wrong type; here the other side is. */
    static const char *const rules[] = {
        "{'Variable': '$.v', 'StringEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'StringLessThanPath': '$.w'}",
        "{'Variable': '$.v', 'StringGreaterThanPath': '$.w'}",
        "{'Variable': '$.v', 'StringLessThanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'StringGreaterThanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'NumericEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'NumericLessThanPath': '$.w'}",
        "{'Variable': '$.v', 'NumericGreaterThanPath': '$.w'}",
        "{'Variable': '$.v', 'NumericLessThanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'NumericGreaterThanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'BooleanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'TimestampEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'TimestampLessThanPath': '$.w'}",
        "{'Variable': '$.v', 'TimestampGreaterThanPath': '$.w'}",
        "{'Variable': '$.v', 'TimestampLessThanEqualsPath': '$.w'}",
        "{'Variable': '$.v', 'TimestampGreaterThanEqualsPath': '$.w'}",
    };
    static const char *const inputs[] = {
        "{'v': 'a', 'w': 1}",
        "{'v': 'a', 'w': null}",
        "{'v': 'a', 'w': 1}",
        "{'v': 'a', 'w': ['a']}",
        "{'v': 'a', 'w': {}}",
        "{'v': 1, 'w': '1'}",
        "{'v': 1, 'w': '2'}",
        "{'v': 1, 'w': true}",
        "{'v': 1, 'w': null}",
        "{'v': 1, 'w': [1]}",
        "{'v': true, 'w': 'true'}",
        "{'v': '2016-08-18T17:33:00Z', 'w': '2016-08-18'}",
        "{'v': '2016-08-18T17:33:00Z', 'w': 'tomorrow'}",
        "{'v': '2016-08-18T17:33:00Z', 'w': 0}",
        "{'v': '2016-08-18T17:33:00Z', 'w': null}",
        "{'v': '2016-08-18T17:33:00Z', 'w': '2016-08-18T17:33:00'}",
    };

    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        int got = eval(rules[i], inputs[i]);

        if (got != 0) {
            snprintf(test_why, sizeof(test_why), "%s on %s gave %d", rules[i], inputs[i], got);
            longjmp(test_jmp, 1);
        }
    }
}

TEST(path_operands_reach_into_the_input_and_the_context)
{
    const char *ctx = "{'Execution': {'Name': 'nightly', 'Input': {'limit': 10}},"
                      " 'Map': {'Item': {'Index': 2}}}";

    CHECK_INT(eval("{'Variable': '$.order.lines[1].qty', 'NumericGreaterThanPath': "
                   "'$.limits[0]'}",
                   "{'order': {'lines': [{'qty': 1}, {'qty': 7}]}, 'limits': [5]}"),
              1);
    CHECK_INT(eval_ctx("{'Variable': '$$.Execution.Name', 'StringEquals': 'nightly'}", "{}", ctx),
              1);
    CHECK_INT(eval_ctx("{'Variable': '$.n', 'NumericLessThanPath': '$$.Execution.Input.limit'}",
                       "{'n': 9}", ctx),
              1);
    CHECK_INT(eval_ctx("{'Variable': '$.n', 'NumericLessThanPath': '$$.Execution.Input.limit'}",
                       "{'n': 10}", ctx),
              0);
    CHECK_INT(
        eval_ctx("{'Variable': '$$.Map.Item.Index', 'NumericEqualsPath': '$.i'}", "{'i': 2}", ctx),
        1);
    /* With no context object, $$ reads as {}. */
    CHECK_INT(eval("{'Variable': '$$.Execution.Name', 'IsPresent': true}", "{}"), 0);
    /* The Variable may be the whole input. */
    CHECK_INT(eval("{'Variable': '$', 'StringEquals': 'plain'}", "'plain'"), 1);
    CHECK_INT(eval("{'Variable': '$', 'IsNumeric': true}", "42"), 1);
}

/* ---- And, Or, Not ----------------------------------------------------------- */

TEST(and_or_not)
{
    const char *twenties = "{'And': [{'Variable': '$.value', 'NumericGreaterThanEquals': 20},"
                           "         {'Variable': '$.value', 'NumericLessThan': 30}]}";
    const char *either = "{'Or': [{'Variable': '$.type', 'StringEquals': 'a'},"
                         "        {'Variable': '$.type', 'StringEquals': 'b'}]}";

    CHECK_INT(eval(twenties, "{'value': 22}"), 1);
    CHECK_INT(eval(twenties, "{'value': 20}"), 1);
    CHECK_INT(eval(twenties, "{'value': 30}"), 0);
    CHECK_INT(eval(twenties, "{'value': 19}"), 0);
    CHECK_INT(eval(twenties, "{'value': '22'}"), 0);
    CHECK_INT(eval(either, "{'type': 'a'}"), 1);
    CHECK_INT(eval(either, "{'type': 'b'}"), 1);
    CHECK_INT(eval(either, "{'type': 'c'}"), 0);
    CHECK_INT(
        eval("{'Not': {'Variable': '$.type', 'StringEquals': 'Private'}}", "{'type': 'Private'}"),
        0);
    CHECK_INT(
        eval("{'Not': {'Variable': '$.type', 'StringEquals': 'Private'}}", "{'type': 'Public'}"),
        1);
    /* Not inverts a comparison that failed on the type, too. */
    CHECK_INT(eval("{'Not': {'Variable': '$.n', 'NumericEquals': 1}}", "{'n': '1'}"), 1);
    /* One rule alone in And or Or is that rule. */
    CHECK_INT(eval("{'And': [{'Variable': '$.n', 'IsNull': true}]}", "{'n': null}"), 1);
    CHECK_INT(eval("{'Or': [{'Variable': '$.n', 'IsNull': true}]}", "{'n': 1}"), 0);
}

TEST(nesting)
{
    /* (a and not b) or (c and (d or e)) */
    const char *rule = "{'Or': ["
                       "  {'And': [{'Variable': '$.a', 'BooleanEquals': true},"
                       "           {'Not': {'Variable': '$.b', 'BooleanEquals': true}}]},"
                       "  {'And': [{'Variable': '$.c', 'BooleanEquals': true},"
                       "           {'Or': [{'Variable': '$.d', 'BooleanEquals': true},"
                       "                   {'Variable': '$.e', 'BooleanEquals': true}]}]}]}";

    CHECK_INT(eval(rule, "{'a': true, 'b': false, 'c': false, 'd': false, 'e': false}"), 1);
    CHECK_INT(eval(rule, "{'a': true, 'b': true, 'c': false, 'd': false, 'e': false}"), 0);
    CHECK_INT(eval(rule, "{'a': true, 'b': true, 'c': true, 'd': false, 'e': true}"), 1);
    CHECK_INT(eval(rule, "{'a': false, 'b': false, 'c': true, 'd': false, 'e': false}"), 0);
    CHECK_INT(eval("{'Not': {'Not': {'Not': {'Variable': '$.x', 'IsNull': true}}}}", "{'x': null}"),
              0);
}

TEST(and_or_stop_when_the_answer_is_known)
{
    /* The second rule would fail on the missing $.nope; it is never read. */
    CHECK_INT(eval("{'And': [{'Variable': '$.n', 'NumericEquals': 2},"
                   "         {'Variable': '$.nope', 'NumericEquals': 1}]}",
                   "{'n': 1}"),
              0);
    CHECK_INT(eval("{'Or': [{'Variable': '$.n', 'NumericEquals': 1},"
                   "        {'Variable': '$.nope', 'NumericEquals': 1}]}",
                   "{'n': 1}"),
              1);
    /* When it must be read, it fails. */
    CHECK_INT(eval("{'And': [{'Variable': '$.n', 'NumericEquals': 1},"
                   "         {'Variable': '$.nope', 'NumericEquals': 1}]}",
                   "{'n': 1}"),
              SL_ERR_INPUT);
    CHECK_INT(eval("{'Or': [{'Variable': '$.n', 'NumericEquals': 2},"
                   "        {'Variable': '$.nope', 'NumericEquals': 1}]}",
                   "{'n': 1}"),
              SL_ERR_INPUT);
}

/* ---- runtime errors --------------------------------------------------------- */

TEST(a_variable_that_names_nothing_fails)
{
    CHECK_INT(eval("{'Variable': '$.type', 'StringEquals': 'Private'}", "{'value': 22}"),
              SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".Variable: ");
    CHECK_HAS(d.msg, "$.type");
    CHECK_STR(d.field, WHERE ".Variable");
    /* Every kind of comparator, nested or not; under Not the error stays. */
    CHECK_INT(eval("{'Variable': '$.a.b', 'NumericEquals': 1}", "{'a': {}}"), SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".Variable: ");
    CHECK_HAS(d.msg, "$.a.b");
    CHECK_INT(eval("{'Variable': '$.a[2]', 'IsNull': true}", "{'a': [1]}"), SL_ERR_INPUT);
    CHECK_INT(eval("{'Variable': '$.v', 'IsString': false}", "{}"), SL_ERR_INPUT);
    CHECK_INT(eval("{'Variable': '$.v', 'StringMatches': '*'}", "{}"), SL_ERR_INPUT);
    CHECK_INT(eval("{'Variable': '$.v', 'TimestampEquals': '2016-08-18T17:33:00Z'}", "{}"),
              SL_ERR_INPUT);
    CHECK_INT(eval("{'Not': {'Variable': '$.v', 'BooleanEquals': true}}", "{}"), SL_ERR_INPUT);
    CHECK_STR(d.field, WHERE ".Not.Variable");
    CHECK_INT(eval("{'Or': [{'Variable': '$.x', 'IsNull': true},"
                   "        {'Not': {'Variable': '$.v', 'BooleanEquals': true}}]}",
                   "{'x': 1}"),
              SL_ERR_INPUT);
    CHECK_STR(d.field, WHERE ".Or[1].Not.Variable");
    CHECK_INT(
        eval_ctx("{'Variable': '$$.Task.Token', 'StringEquals': 't'}", "{}", "{'Execution': {}}"),
        SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".Variable: ");
    CHECK_HAS(d.msg, "$$.Task.Token");
}

TEST(a_path_operand_that_names_nothing_fails)
{
    CHECK_INT(eval("{'Variable': '$.v', 'NumericEqualsPath': '$.w'}", "{'v': 1}"), SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".NumericEqualsPath: ");
    CHECK_HAS(d.msg, "$.w");
    CHECK_STR(d.field, WHERE ".NumericEqualsPath");
    CHECK_INT(
        eval("{'Variable': '$.v', 'TimestampLessThanEqualsPath': '$.w.x'}", "{'v': 1, 'w': 2}"),
        SL_ERR_INPUT);
    CHECK_STR(d.field, WHERE ".TimestampLessThanEqualsPath");
    /* The Variable is read first. */
    CHECK_INT(eval("{'Variable': '$.v', 'StringEqualsPath': '$.w'}", "{}"), SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".Variable: ");
}

TEST(the_first_failure_is_kept)
{
    struct flow_choice *c;
    struct flow_roots r = {NULL, NULL};
    bool m = true;

    CHECK_INT(compile("{'Variable': '$.v', 'IsNull': true}", false, &c), 0);
    r.input = json("{}");
    sl_diag_init(&d);
    sl_fail(&d, SL_ERR_LIMIT, "an earlier failure");
    CHECK_INT(flow_choice_eval(c, &r, &m, &d), SL_ERR_INPUT);
    CHECK(!m);
    CHECK_STR(d.msg, "an earlier failure");
    CHECK_STR(d.field, "");
    CHECK_INT(flow_choice_eval(c, &r, &m, NULL), SL_ERR_INPUT);
    flow_choice_free(c);
    json_decref(r.input);
}

/* ---- compiled rules --------------------------------------------------------- */

TEST(next_of_top_level_and_nested_rules)
{
    struct flow_choice *c;

    CHECK_INT(compile("{'Variable': '$.n', 'NumericGreaterThanEquals': 50000, 'Next': 'Train'}",
                      true, &c),
              0);
    CHECK_STR(flow_choice_next(c), "Train");
    flow_choice_free(c);
    CHECK_INT(compile("{'And': [{'Variable': '$.n', 'IsNumeric': true}], 'Next': 'X',"
                      " 'Comment': 'numbers go to X'}",
                      true, &c),
              0);
    CHECK_STR(flow_choice_next(c), "X");
    flow_choice_free(c);
    CHECK_INT(compile("{'Variable': '$.n', 'IsNumeric': true, 'Comment': 'nested'}", false, &c), 0);
    CHECK(flow_choice_next(c) == NULL);
    flow_choice_free(c);
    flow_choice_free(NULL);
}

TEST(a_compiled_rule_outlives_its_json)
{
    json_t *rule = json("{'Variable': '$.s', 'StringEquals': 'abc', 'Next': 'N'}");
    json_t *input = json("{'s': 'abc'}");
    struct flow_roots r = {input, NULL};
    struct flow_choice *c;
    bool m = false;

    sl_diag_init(&d);
    CHECK_INT(flow_choice_compile(rule, WHERE, true, &c, &d), 0);
    json_decref(rule);
    CHECK_INT(flow_choice_eval(c, &r, &m, &d), 0);
    CHECK(m);
    CHECK_STR(flow_choice_next(c), "N");
    flow_choice_free(c);
    json_decref(input);
}

TEST(refuses_fields)
{
    refused("{'Variable': '$.x', 'StringEquals': 'a', 'Next': 'N', 'Foo': 1}", true,
            WHERE ".Foo: unknown field");
    refused("{'Variable': '$.x', 'stringEquals': 'a', 'Next': 'N'}", true,
            WHERE ".stringEquals: unknown field");
    refused("{'Variable': '$.x', 'StringMatchesPath': '$.y'}", false,
            WHERE ".StringMatchesPath: unknown field: StringMatches has no Path form");
    refused("{'Variable': '$.x', 'IsPresentPath': '$.y'}", false,
            WHERE ".IsPresentPath: unknown field: IsPresent has no Path form");
    refused("{'Variable': '$.x', 'IsNull': true, 'Assign': {'a': 1}, 'Next': 'N'}", true,
            WHERE ".Assign: not supported: sluice's flows have no variables");
    refused("{'Condition': '{% $x %}', 'Next': 'N'}", true,
            WHERE ".Condition: not supported: a JSONata rule, and sluice runs JSONPath machines "
                  "only");
    refused("{'Variable': '$.x', 'Comment': 7, 'IsNull': true}", false,
            WHERE ".Comment: must be a string, not a number");
    refused("[]", true, WHERE ": must be a Choice rule (an object), not an array");
    refused("'$.x'", false, WHERE ": must be a Choice rule (an object), not a string");
}

TEST(refuses_other_than_one_operator)
{
    refused("{'Variable': '$.x', 'Next': 'N'}", true,
            WHERE ": no operator: a rule needs And, Or, Not, or a Variable and a comparison such "
                  "as StringEquals");
    refused("{}", false,
            WHERE ": no operator: a rule needs And, Or, Not, or a Variable and a comparison such "
                  "as StringEquals");
    refused("{'Variable': '$.x', 'StringEquals': 'a', 'StringLessThan': 'b'}", false,
            WHERE ".StringLessThan: a rule has one operator, and this one has StringEquals");
    refused("{'Variable': '$.x', 'NumericEquals': 1, 'NumericEqualsPath': '$.y'}", false,
            WHERE ".NumericEqualsPath: a rule has one operator, and this one has NumericEquals");
    refused("{'Variable': '$.x', 'IsNull': true, 'IsPresent': true}", false,
            WHERE ".IsPresent: a rule has one operator, and this one has IsNull");
    refused("{'And': [{'Variable': '$.x', 'IsNull': true}],"
            " 'Or': [{'Variable': '$.x', 'IsNull': true}]}",
            false, WHERE ".Or: a rule has one operator, and this one has And");
    refused("{'Not': {'Variable': '$.x', 'IsNull': true}, 'IsNull': true, 'Variable': '$.x'}",
            false, WHERE ".IsNull: a rule has one operator, and this one has Not");
}

TEST(refuses_next_where_it_does_not_belong)
{
    refused("{'Variable': '$.x', 'StringEquals': 'a'}", true,
            WHERE ".Next: missing: a top-level rule names the state to go to");
    refused("{'Variable': '$.x', 'StringEquals': 'a', 'Next': 'N'}", false,
            WHERE ".Next: not allowed in a nested rule (only the rules of Choices have one)");
    refused("{'And': [{'Variable': '$.x', 'IsNull': true, 'Next': 'N'}], 'Next': 'M'}", true,
            WHERE ".And[0].Next: not allowed in a nested rule (only the rules of Choices have "
                  "one)");
    refused("{'Not': {'Variable': '$.x', 'IsNull': true, 'Next': 'N'}, 'Next': 'M'}", true,
            WHERE ".Not.Next: not allowed in a nested rule (only the rules of Choices have one)");
    refused("{'Variable': '$.x', 'StringEquals': 'a', 'Next': 3}", true,
            WHERE ".Next: must be a state name (a string), not a number");
    refused("{'Variable': '$.x', 'StringEquals': 'a', 'Next': ''}", true,
            WHERE ".Next: must not be empty");
}

TEST(refuses_variable_misuse)
{
    refused("{'StringEquals': 'a', 'Next': 'N'}", true,
            WHERE ".Variable: missing: StringEquals needs the path it tests");
    refused("{'IsPresent': true}", false,
            WHERE ".Variable: missing: IsPresent needs the path it tests");
    refused("{'Variable': '$.x', 'And': [{'Variable': '$.x', 'IsNull': true}], 'Next': 'N'}", true,
            WHERE ".Variable: not allowed with And");
    refused("{'Variable': '$.x', 'Not': {'Variable': '$.x', 'IsNull': true}}", false,
            WHERE ".Variable: not allowed with Not");
    refused("{'Variable': 5, 'IsNull': true}", false,
            WHERE ".Variable: must be a reference path (a string), not a number");
    refused("{'Variable': null, 'IsNull': true}", false,
            WHERE ".Variable: must be a reference path (a string), not null");
}

TEST(refuses_paths_that_are_not_reference_paths)
{
    static const char *const paths[] = {
        "x", "", "$.a[*]", "$..a", "$.a[1:2]", "$.a[0,1]", "$.a[?(@.b > 1)]", "a.$", "$.a[-1]"};
    struct flow_choice *c;
    char rule[128];

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        snprintf(rule, sizeof(rule), "{'Variable': '%s', 'IsNull': true}", paths[i]);
        if (compile(rule, false, &c) != SL_ERR_INPUT) {
            snprintf(test_why, sizeof(test_why), "accepted %s", paths[i]);
            longjmp(test_jmp, 1);
        }
        CHECK(c == NULL);
        CHECK_HAS(d.msg, WHERE ".Variable: ");
        CHECK_HAS(d.msg, paths[i]);
        snprintf(rule, sizeof(rule), "{'Variable': '$.x', 'StringLessThanPath': '%s'}", paths[i]);
        if (compile(rule, false, &c) != SL_ERR_INPUT) {
            snprintf(test_why, sizeof(test_why), "accepted %s as the operand", paths[i]);
            longjmp(test_jmp, 1);
        }
        CHECK_HAS(d.msg, WHERE ".StringLessThanPath: ");
        CHECK_HAS(d.msg, paths[i]);
    }
    refused("{'Variable': '$.x', 'BooleanEqualsPath': true}", false,
            WHERE ".BooleanEqualsPath: must be a reference path (a string), not a boolean");
    CHECK_INT(
        compile("{'Variable': '$.x', 'TimestampEqualsPath': '2016-08-18T17:33:00Z'}", false, &c),
        SL_ERR_INPUT);
    CHECK_HAS(d.msg, WHERE ".TimestampEqualsPath: ");
    CHECK_HAS(d.msg, "2016-08-18T17:33:00Z");
}

TEST(refuses_operands_of_the_wrong_type)
{
    static const struct {
        const char *op, *lit, *msg;
    } cases[] = {
        {"StringEquals", "1", "must be a string, not a number"},
        {"StringLessThan", "null", "must be a string, not null"},
        {"StringGreaterThan", "true", "must be a string, not a boolean"},
        {"StringLessThanEquals", "['a']", "must be a string, not an array"},
        {"StringGreaterThanEquals", "{}", "must be a string, not an object"},
        {"StringMatches", "1", "must be a string, not a number"},
        {"NumericEquals", "'1'", "must be a number, not a string"},
        {"NumericLessThan", "true", "must be a number, not a boolean"},
        {"NumericGreaterThan", "null", "must be a number, not null"},
        {"NumericLessThanEquals", "[1]", "must be a number, not an array"},
        {"NumericGreaterThanEquals", "'50000'", "must be a number, not a string"},
        {"BooleanEquals", "'true'", "must be a boolean (true or false), not a string"},
        {"BooleanEquals", "1", "must be a boolean (true or false), not a number"},
        {"TimestampEquals", "0", "must be a string, not a number"},
        {"TimestampLessThan", "null", "must be a string, not null"},
        {"TimestampGreaterThan", "{}", "must be a string, not an object"},
        {"TimestampLessThanEquals", "true", "must be a string, not a boolean"},
        {"TimestampGreaterThanEquals", "[]", "must be a string, not an array"},
        {"IsNull", "'true'", "must be a boolean (true or false), not a string"},
        {"IsPresent", "1", "must be a boolean (true or false), not a number"},
        {"IsNumeric", "null", "must be a boolean (true or false), not null"},
        {"IsString", "'yes'", "must be a boolean (true or false), not a string"},
        {"IsBoolean", "{}", "must be a boolean (true or false), not an object"},
        {"IsTimestamp", "[]", "must be a boolean (true or false), not an array"},
    };
    char rule[256], msg[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(rule, sizeof(rule), "{'Variable': '$.x', '%s': %s}", cases[i].op, cases[i].lit);
        snprintf(msg, sizeof(msg), WHERE ".%s: %s", cases[i].op, cases[i].msg);
        refused(rule, false, msg);
    }
}

TEST(refuses_literals_that_are_not_timestamps)
{
    refused("{'Variable': '$.t', 'TimestampEquals': '2016-08-18'}", false,
            WHERE ".TimestampEquals: \"2016-08-18\" is not a timestamp: RFC 3339 with an "
                  "uppercase T, and Z or an offset such as +02:00 (2016-08-18T17:33:00Z)");
    refused("{'Variable': '$.t', 'TimestampLessThan': '2016-08-18t17:33:00z'}", false,
            WHERE ".TimestampLessThan: \"2016-08-18t17:33:00z\" is not a timestamp: RFC 3339 "
                  "with an uppercase T, and Z or an offset such as +02:00 "
                  "(2016-08-18T17:33:00Z)");
    refused("{'Variable': '$.t', 'TimestampGreaterThan': '2016-02-30T00:00:00Z'}", false,
            WHERE ".TimestampGreaterThan: \"2016-02-30T00:00:00Z\" is not a timestamp: RFC 3339 "
                  "with an uppercase T, and Z or an offset such as +02:00 "
                  "(2016-08-18T17:33:00Z)");
    refused("{'Variable': '$.t', 'TimestampLessThanEquals': ''}", false,
            WHERE ".TimestampLessThanEquals: \"\" is not a timestamp: RFC 3339 with an uppercase "
                  "T, and Z or an offset such as +02:00 (2016-08-18T17:33:00Z)");
    refused("{'Variable': '$.t', 'TimestampGreaterThanEquals': '2016-08-18T17:33:00+2:00'}", false,
            WHERE ".TimestampGreaterThanEquals: \"2016-08-18T17:33:00+2:00\" is not a "
                  "timestamp: RFC 3339 with an uppercase T, and Z or an offset such as +02:00 "
                  "(2016-08-18T17:33:00Z)");
}

TEST(refuses_open_and_unknown_escapes_in_string_matches)
{
    refused("{'Variable': '$.s', 'StringMatches': 'abc\\\\'}", false,
            WHERE ".StringMatches: ends in an open escape: a backslash must be followed by * or "
                  "by another backslash");
    refused("{'Variable': '$.s', 'StringMatches': '\\\\\\\\\\\\'}", false,
            WHERE ".StringMatches: ends in an open escape: a backslash must be followed by * or "
                  "by another backslash");
    refused("{'Variable': '$.s', 'StringMatches': 'a\\\\d*'}", false,
            WHERE ".StringMatches: invalid escape at offset 1: a backslash escapes only * (\\*) "
                  "and itself (\\\\)");
    refused("{'Variable': '$.s', 'StringMatches': '\\\\?'}", false,
            WHERE ".StringMatches: invalid escape at offset 0: a backslash escapes only * (\\*) "
                  "and itself (\\\\)");
}

TEST(refuses_empty_and_malformed_and_or_not)
{
    refused("{'And': [], 'Next': 'N'}", true, WHERE ".And: must not be empty");
    refused("{'Or': []}", false, WHERE ".Or: must not be empty");
    refused("{'And': {'Variable': '$.x', 'IsNull': true}}", false,
            WHERE ".And: must be an array of rules, not an object");
    refused("{'Or': 'x'}", false, WHERE ".Or: must be an array of rules, not a string");
    refused("{'Not': [{'Variable': '$.x', 'IsNull': true}]}", false,
            WHERE ".Not: must be a rule (an object), not an array");
    refused("{'Not': null}", false, WHERE ".Not: must be a rule (an object), not null");
    refused("{'And': [{'Variable': '$.x', 'IsNull': true}, 3]}", false,
            WHERE ".And[1]: must be a Choice rule (an object), not a number");
    refused("{'Or': [{'Variable': '$.x', 'IsNull': true}, {'And': [{'Not': {'Foo': 1}}]}]}", false,
            WHERE ".Or[1].And[0].Not.Foo: unknown field");
    refused("{'Or': [{'Not': {'Variable': '$.x', 'NumericEquals': '1'}}]}", false,
            WHERE ".Or[0].Not.NumericEquals: must be a number, not a string");
    refused("{'Not': {'Or': []}}", false, WHERE ".Not.Or: must not be empty");
}

TEST(refuses_rules_nested_too_deep)
{
    char rule[2048];
    size_t n = 0;
    int depth;

    /* 64 levels of Not are allowed, 65 are not. */
    for (int limit = 64; limit <= 65; limit++) {
        struct flow_choice *c;

        n = 0;
        for (depth = 0; depth < limit; depth++)
            n += (size_t)snprintf(rule + n, sizeof(rule) - n, "{'Not': ");
        n += (size_t)snprintf(rule + n, sizeof(rule) - n, "{'Variable': '$.x', 'IsNull': true}");
        for (depth = 0; depth < limit; depth++)
            n += (size_t)snprintf(rule + n, sizeof(rule) - n, "}");
        if (limit == 64) {
            CHECK_INT(compile(rule, false, &c), 0);
            flow_choice_free(c);
        } else {
            CHECK_INT(compile(rule, false, &c), SL_ERR_INPUT);
            CHECK_HAS(d.msg, "rules nest deeper than 64 levels of And, Or and Not");
            CHECK_HAS(d.msg, WHERE ".Not.Not.");
        }
    }
}

TEST(a_null_diag_collects_nothing)
{
    json_t *rule = json("{'Variable': '$.x', 'Foo': 1}");
    struct flow_choice *c;

    CHECK_INT(flow_choice_compile(rule, WHERE, false, &c, NULL), SL_ERR_INPUT);
    CHECK(c == NULL);
    json_decref(rule);
}
