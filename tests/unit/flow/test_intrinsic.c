/*
 * test_intrinsic.c - the intrinsic functions: every function's examples
 * from AWS's guide with the outputs it documents (two of the guide's
 * outputs are wrong, and the tests say so), the behaviour AWS showed on
 * recorded executions, our decisions where AWS is silent, nesting,
 * escapes, and every refusal at parse time and failure at evaluation
 * with its words.
 *
 * Inputs are written with ' for " (see json()); intrinsic texts are
 * written as they are, so \\ in the C source is one backslash in the
 * call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "flow/intrinsic.h"
#include "flow/path.h"
#include "test.h"

static struct sl_diag d;
static json_t *input, *context;

/* Parse text as JSON, with ' standing for ". */
static json_t *
json(const char *text)
{
    char *buf = sl_strdup(text);
    json_error_t err;
    json_t *v;

    for (char *p = buf; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    v = json_loads(buf, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == NULL) {
        snprintf(test_why, sizeof(test_why), "bad JSON in the test: %s: %s", err.text, buf);
        free(buf);
        longjmp(test_jmp, 1);
    }
    free(buf);
    return v;
}

/* Set the state input ($) and the context object ($$; NULL for none). */
static void
in(const char *text)
{
    json_decref(input);
    input = json(text);
}

static void
ctx(const char *text)
{
    json_decref(context);
    context = text != NULL ? json(text) : NULL;
}

/* Parse and evaluate; 0 and *out, or the failure (d says why). */
static int
run(const char *text, json_t **out)
{
    struct flow_intrinsic *f = NULL;
    struct flow_roots r = {input, context};
    int rc;

    *out = NULL;
    sl_diag_init(&d);
    rc = flow_intrinsic_parse(text, &f, &d);
    if (rc < 0) {
        snprintf(test_why, sizeof(test_why), "refused: %s: %s", text, d.msg);
        longjmp(test_jmp, 1);
    }
    rc = flow_intrinsic_eval(f, &r, out, &d);
    flow_intrinsic_free(f);
    return rc;
}

/* The result of text, as compact JSON (freed at the next call). */
static const char *
eval(const char *text)
{
    static char *last;
    json_t *v;

    free(last);
    last = NULL;
    if (run(text, &v) < 0) {
        snprintf(test_why, sizeof(test_why), "failed: %s: %s", text, d.msg);
        longjmp(test_jmp, 1);
    }
    last = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(v);
    return last;
}

/* The result of text, which must be a string (freed at the next call). */
static const char *
eval_str(const char *text)
{
    static char *last;
    json_t *v;

    free(last);
    last = NULL;
    if (run(text, &v) < 0) {
        snprintf(test_why, sizeof(test_why), "failed: %s: %s", text, d.msg);
        longjmp(test_jmp, 1);
    }
    CHECK(json_is_string(v));
    last = sl_strdup(json_string_value(v));
    json_decref(v);
    return last;
}

#define CHECK_EVAL(text, want) CHECK_STR(eval(text), want)
#define CHECK_EVAL_STR(text, want) CHECK_STR(eval_str(text), want)

/* text parses but fails at evaluation with SL_ERR_INPUT and words holding want. */
static void
fails(const char *text, const char *want)
{
    json_t *v;

    CHECK_INT(run(text, &v), SL_ERR_INPUT);
    CHECK(v == NULL);
    CHECK_INT(d.code, SL_ERR_INPUT);
    CHECK_HAS(d.msg, want);
}

/* text is refused at parse time at column col, the words holding want. */
static void
refused(const char *text, int col, const char *want)
{
    struct flow_intrinsic *f = (struct flow_intrinsic *)1;
    char where[32];

    sl_diag_init(&d);
    CHECK_INT(flow_intrinsic_parse(text, &f, &d), SL_ERR_INPUT);
    CHECK(f == NULL);
    snprintf(where, sizeof(where), "column %d: ", col);
    if (strncmp(d.msg, where, strlen(where)) != 0) {
        snprintf(test_why, sizeof(test_why), "%s: \"%s\" does not start with \"%s\"", text, d.msg,
                 where);
        longjmp(test_jmp, 1);
    }
    CHECK_HAS(d.msg, want);
}

/* ---- recognising and parsing calls -------------------------------------------- */

TEST(is_call)
{
    CHECK(flow_intrinsic_is_call("States.Format('x')"));
    CHECK(flow_intrinsic_is_call("States.UUID()"));
    CHECK(flow_intrinsic_is_call("States.Nope("));
    CHECK(!flow_intrinsic_is_call("$.a"));
    CHECK(!flow_intrinsic_is_call("States.Format"));
    CHECK(!flow_intrinsic_is_call("States.Format ()"));
    CHECK(!flow_intrinsic_is_call("States.()"));
    CHECK(!flow_intrinsic_is_call("States..X()"));
    CHECK(!flow_intrinsic_is_call(" States.Array()"));
    CHECK(!flow_intrinsic_is_call("states.Array()"));
    CHECK(!flow_intrinsic_is_call(""));
}

TEST(spaces_between_arguments)
{
    in("{'a': 1}");
    CHECK_EVAL("States.Array( 1 ,\t$.a\n,'x' )  ", "[1,1,\"x\"]");
    CHECK_EVAL("States.Array()", "[]");
    CHECK_EVAL("States.Array(  )", "[]");
}

TEST(literals)
{
    in("{}");
    CHECK_EVAL("States.Array('Foo', 2020, -3, 1.5, -0.25, 1e3, 2E-2, true, false, null)",
               "[\"Foo\",2020,-3,1.5,-0.25,1000.0,0.02,true,false,null]");
    CHECK_EVAL("States.Array(0, -0, '')", "[0,0,\"\"]");
    CHECK_EVAL("States.Array(9223372036854775807)", "[9223372036854775807]");
}

TEST(string_escapes)
{
    in("{}");
    CHECK_EVAL_STR("States.Format('it\\'s')", "it's");
    CHECK_EVAL_STR("States.Format('\\{literal\\}')", "{literal}");
    CHECK_EVAL_STR("States.Format('C:\\\\tmp')", "C:\\tmp");
    CHECK_EVAL("States.Array('a\\'b', '\\{\\}', '\\\\\\\\')", "[\"a'b\",\"{}\",\"\\\\\\\\\"]");
    /* Outside a Format template, {} and bare braces are themselves. */
    CHECK_EVAL("States.Array('{}', '{', '}', '{\"a\":1}')",
               "[\"{}\",\"{\",\"}\",\"{\\\"a\\\":1}\"]");
    /* Any character may stand in a string, a raw newline too (AWS). */
    CHECK_EVAL("States.Array('a\nb\tc', 'é→😀')", "[\"a\\nb\\tc\",\"é→😀\"]");
}

TEST(nesting_limit)
{
    char text[512] = "", deeper[512];
    size_t n = 0;

    in("{}");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "States.Array(");
    for (int i = 0; i < 10; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, ")");
    CHECK_EVAL(text, "[[[[[[[[[[]]]]]]]]]]");
    snprintf(deeper, sizeof(deeper), "States.Array(%s)", text);
    refused(deeper, 1 + 13 * 10, "calls nest more than 10 deep");
}

/*
 * The guide's example of nine nested functions gives three placeholders
 * but two values, which its own rule for Format forbids; with two
 * placeholders it runs.
 */
TEST(guide_nested_example)
{
    in("{'ImageRecipe': {'Arn': 'arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/"
       "sample/1.0.1'}}");
    refused("States.Format('{}.{}.{}', States.ArrayGetItem(States.StringSplit("
            "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), "
            "States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit("
            "$.ImageRecipe.Arn, '/'), 2), '.'), 1))",
            1, "the template of States.Format has 3 placeholders but 2 values follow");
    CHECK_EVAL_STR("States.Format('{}.{}', States.ArrayGetItem(States.StringSplit("
                   "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), "
                   "0), States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
                   "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 1))",
                   "1.0");
}

/* AWS's recorded nested calls on the context object. */
TEST(nested_calls_on_the_context)
{
    in("{}");
    ctx("{'StateMachine': {'Id': 'arn:aws:states:us-east-1:111111111111:stateMachine:sm-a-b-last',"
        " 'Name': 'sm-a-b-last'}, 'Execution': {'Name': 'exec-1'}}");
    CHECK_EVAL_STR("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", "sm");
    CHECK_EVAL_STR("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), "
                   "States.MathAdd(States.ArrayLength(States.StringSplit($$.StateMachine.Name, "
                   "'-')), -1))",
                   "last");
    CHECK_EVAL_STR("States.Format('Formatting arguments fst={} and snd={}.', $$.Execution.Name, "
                   "$$.StateMachine)",
                   "Formatting arguments fst=exec-1 and snd={Id=arn:aws:states:us-east-1:"
                   "111111111111:stateMachine:sm-a-b-last, Name=sm-a-b-last}.");
    /* AWS's recorded JsonMerge of a literal and the execution's input. */
    ctx("{'Execution': {'Input': {'input_field': {'constant_input_field': 'constant_value'}}}}");
    CHECK_EVAL("States.JsonMerge(States.StringToJson('{\"constant_in_literal\": \"false\"}'), "
               "$$.Execution.Input.input_field, false)",
               "{\"constant_in_literal\":\"false\",\"constant_input_field\":\"constant_value\"}");
    ctx(NULL);
    fails("States.Array($$.Execution)", "States.Array: argument 1 names nothing");
}

TEST(paths)
{
    in("{'a': {'b c': [10, 20, 30]}, 'results': [{'ok': false}, {'ok': true}], 'x': null}");
    CHECK_EVAL("States.Array($.a['b c'][1], $.x, $)",
               "[20,null,{\"a\":{\"b c\":[10,20,30]},\"results\":[{\"ok\":false},{\"ok\":true}],"
               "\"x\":null}]");
    CHECK_EVAL("States.Array($['a']['b c'][0])", "[10]");
    /* Indefinite paths yield arrays; AWS takes them as arguments. */
    CHECK_EVAL("States.ArrayContains($.results[*].ok, true)", "true");
    CHECK_EVAL("States.ArrayLength($.a['b c'][*])", "3");
    CHECK_EVAL("States.ArrayLength($.results[?(@.ok == true)])", "1");
    fails("States.Array($.nope)", "States.Array: argument 1 names nothing");
    fails("States.Array(1, $.a.nope)", "argument 2 names nothing");
}

/* Literal arguments are copied: a caller may change a result in place. */
TEST(results_are_the_callers)
{
    struct flow_intrinsic *f;
    struct flow_roots r = {NULL, NULL};
    json_t *v;

    in("{}");
    sl_diag_init(&d);
    CHECK_INT(flow_intrinsic_parse("States.Array('a', 1)", &f, &d), 0);
    CHECK_INT(flow_intrinsic_eval(f, &r, &v, &d), 0);
    json_string_set(json_array_get(v, 0), "changed");
    json_integer_set(json_array_get(v, 1), 2);
    json_decref(v);
    CHECK_INT(flow_intrinsic_eval(f, &r, &v, &d), 0);
    CHECK_STR(json_string_value(json_array_get(v, 0)), "a");
    CHECK_INT(json_integer_value(json_array_get(v, 1)), 1);
    json_decref(v);
    flow_intrinsic_free(f);
    flow_intrinsic_free(NULL);
}

/* ---- refusals at parse time ----------------------------------------------------- */

TEST(refused_names_and_counts)
{
    refused("States.Nope(1)", 1, "unknown intrinsic function 'States.Nope'");
    refused("States.Array(States.format(1))", 14, "unknown intrinsic function 'States.format'");
    refused("$.a", 1, "expected an intrinsic function call");
    refused("States.ArrayLength($.a, $.b)", 1, "States.ArrayLength takes 1 argument, got 2");
    refused("States.ArrayRange(1, 2)", 1, "States.ArrayRange takes 3 arguments, got 2");
    refused("States.MathRandom(1)", 1, "States.MathRandom takes 2 or 3 arguments, got 1");
    refused("States.MathRandom(1, 2, 3, 4)", 1, "takes 2 or 3 arguments, got 4");
    refused("States.Format()", 1, "States.Format takes at least 1 argument, got 0");
    refused("States.UUID(1)", 1, "States.UUID takes 0 arguments, got 1");
    refused("States.JsonMerge($.a, $.b)", 1, "States.JsonMerge takes 3 arguments, got 2");
    refused("States.Array(States.Hash('x'))", 14, "States.Hash takes 2 arguments, got 1");
    refused("States.Array(States.Array (1))", 26, "expected '(' right after States.Array");
}

TEST(refused_syntax)
{
    refused("States.Array('abc", 14, "the string has no closing quote");
    refused("States.Array('a\\')", 14, "the string has no closing quote");
    refused("States.Array('a\\\"b')", 16, "unknown escape '\\\"'");
    refused("States.Array('a\\nb')", 16, "unknown escape '\\n'");
    refused("States.Array('a\\", 16, "the string ends in a lone backslash");
    refused("States.Array(1 2)", 16, "expected ',' or ')' after argument 1 of States.Array");
    refused("States.Array(1,)", 16, "expected an argument");
    refused("States.Array(,1)", 14, "expected an argument");
    refused("States.Array(", 14, "expected ')' to close States.Array(");
    refused("States.Array(1", 15, "expected ')' to close States.Array(");
    refused("States.Array(1, ", 17, "expected an argument");
    refused("States.Array(1))", 16, "unexpected text after the call's closing ')'");
    refused("States.Array(1) x", 17, "unexpected text after the call");
    refused("States.Array(foo)", 14, "expected an argument: a 'string', a number, true");
    refused("States.Array(truex)", 14, "expected an argument");
    refused("States.Array(\"x\")", 14, "expected an argument");
    refused("States.Array(01)", 14, "a number runs into '1'");
    refused("States.Array(1.)", 16, "expected digits after the decimal point");
    refused("States.Array(1e)", 16, "expected the digits of an exponent");
    refused("States.Array(-)", 14, "expected digits after '-'");
    refused("States.Array(1x)", 14, "a number runs into 'x'");
    refused("States.Array(99999999999999999999)", 14, "is out of range");
    refused("States.Array(1e999)", 14, "is out of range");
    /* Columns count characters, not bytes. */
    refused("States.Array('é→', @)", 20, "expected an argument");
}

TEST(refused_paths)
{
    refused("States.Array(1, $.a[)", 17, "the path has an unclosed bracket");
    refused("States.Array(1, $.a.)", 17, "is not a valid path");
    refused("States.Array($.a['x)", 14, "the path has an unclosed quote");
    refused("States.Array($.a[0)", 14, "the path has an unclosed bracket");
    refused("States.Array($x)", 14, "is not a valid path");
}

TEST(refused_format_counts)
{
    refused("States.Format('{} and {}', $.a)", 1,
            "the template of States.Format has 2 placeholders but 1 value follows");
    refused("States.Format('none', 1)", 1, "has 0 placeholders but 1 value follows");
    refused("States.Array(1, States.Format('{}'))", 17, "has 1 placeholder but 0 values follow");
    /* An escaped brace is no placeholder. */
    refused("States.Format('\\{}', 1)", 1, "has 0 placeholders but 1 value follows");
}

/* ---- States.Format -------------------------------------------------------------- */

TEST(format_guide)
{
    in("{'name': 'Arnav', 'template': 'Hello, my name is {}.'}");
    CHECK_EVAL_STR("States.Format('Hello, my name is {}.', $.name)", "Hello, my name is Arnav.");
    CHECK_EVAL_STR("States.Format($.template, $.name)", "Hello, my name is Arnav.");
    /* The spec's example. */
    in("{'name': 'Foo', 'zebra': 'stripe'}");
    CHECK_EVAL_STR("States.Format('Your name is {}, we are in the year {}', $.name, 2020)",
                   "Your name is Foo, we are in the year 2020");
    /* The spec's escape example. */
    in("{'firstName': 'Ada', 'lastName': 'Lovelace'}");
    CHECK_EVAL_STR("States.Format('Welcome to {} {}\\'s playlist.', $.firstName, $.lastName)",
                   "Welcome to Ada Lovelace's playlist.");
}

/* AWS's recorded values of each kind, in a template. */
TEST(format_values)
{
    in("{'s': '', 'sp': ' ', 'n': null, 'i': 1, 'r': 1.1, 't': true, "
       "'json': '{\\'Arg1\\': 1, \\'Arg2\\': []}', 'obj': {'Arg1': 1, 'Arg2': []}, "
       "'arr': ['a', 2, null, {'k': 'v'}], 'big': 1e20, 'hundred': 100.0}");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.s)", "Formatting argument .");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.sp)", "Formatting argument  .");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.n)", "Formatting argument null.");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.i)", "Formatting argument 1.");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.r)", "Formatting argument 1.1.");
    CHECK_EVAL_STR("States.Format('{}', $.t)", "true");
    CHECK_EVAL_STR("States.Format('Formatting argument {}.', $.json)",
                   "Formatting argument {\"Arg1\": 1, \"Arg2\": []}.");
    CHECK_EVAL_STR("States.Format('fst={} and snd={}.', $.obj, $.obj)",
                   "fst={Arg1=1, Arg2=[]} and snd={Arg1=1, Arg2=[]}.");
    CHECK_EVAL_STR("States.Format('{}', $.arr)", "[a, 2, null, {k=v}]");
    CHECK_EVAL_STR("States.Format('{} {}', $.big, $.hundred)", "1.0E20 100.0");
    CHECK_EVAL_STR("States.Format('{}{}{}', 'a', -2, false)", "a-2false");
}

TEST(format_templates)
{
    in("{'x': 'fine', 'path': 'C:\\\\tmp\\\\file', 't': 'a\\\\{} {{}} \\\\\\\\', 'val': 'hello'}");
    CHECK_EVAL_STR("States.Format('it\\'s {}', $.x)", "it's fine");
    CHECK_EVAL_STR("States.Format('path: {}', $.path)", "path: C:\\tmp\\file");
    /* Escaped braces around a placeholder, and an escaped "{}" as text. */
    CHECK_EVAL_STR("States.Format('\\{{}\\} \\{\\}', 1)", "{1} {}");
    CHECK_EVAL_STR("States.Format('\\\\{}', 1)", "\\1");
    /* Bare braces that are no placeholder are text: JSON can be built. */
    CHECK_EVAL("States.StringToJson(States.Format('{\"key\":\"{}\"}', $.val))",
               "{\"key\":\"hello\"}");
    /* A template from a path is plain text: no escapes, every {} counts. */
    CHECK_EVAL_STR("States.Format($.t, 1, 2)", "a\\1 {2} \\\\");
}

TEST(format_failures)
{
    in("{'n': 5, 'tmpl': '{} {}', 'big': 'x'}");
    fails("States.Format($.n)", "States.Format: argument 1 must be a string, got 5");
    fails("States.Format($.tmpl, 1)", "States.Format: the template has 2 placeholders but 1 "
                                      "value follows");
    fails("States.Format(States.Array('{}'), 1)", "argument 1 must be a string, got [\"{}\"]");
}

/* ---- JSON ------------------------------------------------------------------------ */

TEST(string_to_json)
{
    in("{'escapedJsonString': '{\\'foo\\': \\'bar\\'}', 'someString': '{\\'number\\': 20}'}");
    CHECK_EVAL("States.StringToJson($.escapedJsonString)", "{\"foo\":\"bar\"}");
    CHECK_EVAL("States.StringToJson($.someString)", "{\"number\":20}");
    /* AWS's recorded values. */
    in("{'e': '', 'sp': ' ', 'null': 'null', 'm0': '-0', 'one': '1', 'r': '1.1', 't': 'true', "
       "'s': '\\'HelloWorld\\'', 'a': '[1, 2, \\'HelloWorld\\']', "
       "'o': '{\\'Arg1\\': 1, \\'Arg2\\': []}'}");
    CHECK_EVAL("States.StringToJson($.e)", "null");
    CHECK_EVAL("States.StringToJson($.sp)", "null");
    CHECK_EVAL("States.StringToJson($.null)", "null");
    CHECK_EVAL("States.StringToJson($.m0)", "0");
    CHECK_EVAL("States.StringToJson($.one)", "1");
    CHECK_EVAL("States.StringToJson($.r)", "1.1");
    CHECK_EVAL("States.StringToJson($.t)", "true");
    CHECK_EVAL("States.StringToJson($.s)", "\"HelloWorld\"");
    CHECK_EVAL("States.StringToJson($.a)", "[1,2,\"HelloWorld\"]");
    CHECK_EVAL("States.StringToJson($.o)", "{\"Arg1\":1,\"Arg2\":[]}");
    CHECK_EVAL("States.StringToJson(' [ 1 ] ')", "[1]");
}

TEST(string_to_json_failures)
{
    in("{'n': 1, 'bad': '{', 'trail': '1 2'}");
    fails("States.StringToJson($.n)", "States.StringToJson: argument 1 must be a string, got 1");
    fails("States.StringToJson($.bad)", "States.StringToJson: argument 1 is not JSON");
    fails("States.StringToJson($.trail)", "argument 1 is not JSON");
}

TEST(json_to_string)
{
    /* The guide shows {\"foo\": \"bar\"}, with a space; AWS writes none. */
    in("{'unescapedJson': {'foo': 'bar'}, 'someJson': {'name': 'Foo', 'year': 2020}}");
    CHECK_EVAL_STR("States.JsonToString($.unescapedJson)", "{\"foo\":\"bar\"}");
    CHECK_EVAL_STR("States.JsonToString($.someJson)", "{\"name\":\"Foo\",\"year\":2020}");
    /* AWS's recorded values. */
    in("{'n': null, 'z': 0, 'i': 1, 'r': 1.1, 't': true, 's': 'HelloWorld', "
       "'a': [1, 2, 'HelloWorld'], 'o': {'Arg1': 1, 'Arg2': []}}");
    CHECK_EVAL_STR("States.JsonToString($.n)", "null");
    CHECK_EVAL_STR("States.JsonToString($.z)", "0");
    CHECK_EVAL_STR("States.JsonToString($.i)", "1");
    CHECK_EVAL_STR("States.JsonToString($.r)", "1.1");
    CHECK_EVAL_STR("States.JsonToString($.t)", "true");
    CHECK_EVAL_STR("States.JsonToString($.s)", "\"HelloWorld\"");
    CHECK_EVAL_STR("States.JsonToString($.a)", "[1,2,\"HelloWorld\"]");
    CHECK_EVAL_STR("States.JsonToString($.o)", "{\"Arg1\":1,\"Arg2\":[]}");
    CHECK_EVAL_STR("States.JsonToString($)", "{\"n\":null,\"z\":0,\"i\":1,\"r\":1.1,\"t\":true,"
                                             "\"s\":\"HelloWorld\",\"a\":[1,2,\"HelloWorld\"],"
                                             "\"o\":{\"Arg1\":1,\"Arg2\":[]}}");
    CHECK_EVAL_STR("States.JsonToString(States.Array())", "[]");
}

/* Doubles as Java's Double.toString() writes them; strings as Jackson escapes them. */
TEST(json_to_string_numbers_and_escapes)
{
    in("[100.0, 1e20, 1.25e-5, 0.001, 1e7, 9999999.5, -0.0, 123456.789, 0.1, -2.5e-3, "
       "1.7976931348623157e308, 1234567.0]");
    CHECK_EVAL_STR("States.JsonToString($)",
                   "[100.0,1.0E20,1.25E-5,0.001,1.0E7,9999999.5,-0.0,123456.789,0.1,-0.0025,"
                   "1.7976931348623157E308,1234567.0]");
    in("{'q': 'a\\\"b\\\\c/d\\n\\t\\u0001é\\u0000'}");
    CHECK_EVAL_STR("States.JsonToString($.q)", "\"a\\\"b\\\\c/d\\n\\t\\u0001é\\u0000\"");
}

TEST(json_merge)
{
    /* The guide's example. */
    in("{'json1': {'a': {'a1': 1, 'a2': 2}, 'b': 2}, 'json2': {'a': {'a3': 1, 'a4': 2}, 'c': 3}}");
    CHECK_EVAL("States.JsonMerge($.json1, $.json2, false)",
               "{\"a\":{\"a3\":1,\"a4\":2},\"b\":2,\"c\":3}");
    /* AWS's recorded merge, with a key in both; the first object's order. */
    in("{'fst': {'a': {'a1': 1, 'a2': 2}, 'b': 2, 'd': 3}, "
       "'snd': {'a': {'a3': 1, 'a4': 2}, 'c': 3, 'd': 4}}");
    CHECK_EVAL("States.JsonMerge($.fst, $.snd, false)",
               "{\"a\":{\"a3\":1,\"a4\":2},\"b\":2,\"d\":4,\"c\":3}");
    CHECK_EVAL("States.JsonMerge($.fst, States.StringToJson('{}'), false)",
               "{\"a\":{\"a1\":1,\"a2\":2},\"b\":2,\"d\":3}");
    /* The inputs are left as they were. */
    CHECK_EVAL("States.JsonToString($.fst)",
               "\"{\\\"a\\\":{\\\"a1\\\":1,\\\"a2\\\":2},\\\"b\\\":2,\\\"d\\\":3}\"");
}

TEST(json_merge_failures)
{
    in("{'o': {}, 'a': []}");
    fails("States.JsonMerge($.o, $.o, true)",
          "States.JsonMerge: argument 3 must be false (Step Functions supports only the "
          "shallow merge), got true");
    fails("States.JsonMerge($.o, $.o, 'false')", "argument 3 must be false, got \"false\"");
    fails("States.JsonMerge($.a, $.o, false)", "States.JsonMerge: argument 1 must be an object, "
                                               "got []");
    fails("States.JsonMerge($.o, 1, false)", "argument 2 must be an object, got 1");
}

/* ---- arrays ----------------------------------------------------------------------- */

TEST(array)
{
    in("{'Id': 123456}");
    CHECK_EVAL("States.Array($.Id)", "[123456]");
    in("{'someJson': {'random': 'abcdefg'}, 'zebra': 'stripe'}");
    CHECK_EVAL("States.Array('Foo', 2020, $.someJson, null)",
               "[\"Foo\",2020,{\"random\":\"abcdefg\"},null]");
    in("{'fst': {'Arg1': 1, 'Arg2': []}}");
    CHECK_EVAL("States.Array($.fst, $.fst)", "[{\"Arg1\":1,\"Arg2\":[]},{\"Arg1\":1,\"Arg2\":[]}]");
}

TEST(array_partition)
{
    in("{'inputArray': [1,2,3,4,5,6,7,8,9], 'e': [], 'four': [0,1,2,3]}");
    CHECK_EVAL("States.ArrayPartition($.inputArray,4)", "[[1,2,3,4],[5,6,7,8],[9]]");
    /* AWS's recorded values. */
    CHECK_EVAL("States.ArrayPartition($.e, 1)", "[]");
    CHECK_EVAL("States.ArrayPartition($.four, 1)", "[[0],[1],[2],[3]]");
    CHECK_EVAL("States.ArrayPartition($.four, 2)", "[[0,1],[2,3]]");
    CHECK_EVAL("States.ArrayPartition($.four, 3)", "[[0,1,2],[3]]");
    CHECK_EVAL("States.ArrayPartition($.four, 5)", "[[0,1,2,3]]");
    /* The size is rounded. */
    CHECK_EVAL("States.ArrayPartition($.four, 2.5)", "[[0,1,2],[3]]");
    CHECK_EVAL("States.ArrayPartition($.four, 1.49)", "[[0],[1],[2],[3]]");
    fails("States.ArrayPartition($.four, 0)",
          "States.ArrayPartition: argument 2 must be a positive integer (the chunk size), got 0");
    fails("States.ArrayPartition($.four, 0.4)", "argument 2 must be a positive integer");
    fails("States.ArrayPartition($.four, -1)", "argument 2 must be a positive integer");
    fails("States.ArrayPartition($.four, '2')", "argument 2 must be a positive integer");
    fails("States.ArrayPartition('abc', 2)",
          "States.ArrayPartition: argument 1 must be an array, got \"abc\"");
}

TEST(array_contains)
{
    in("{'inputArray': [1,2,3,4,5,6,7,8,9], 'lookingFor': 5}");
    CHECK_EVAL("States.ArrayContains($.inputArray, $.lookingFor)", "true");
    CHECK_EVAL("States.ArrayContains($.inputArray, 10)", "false");
    /* AWS's recorded values. */
    in("{'e': [], 'nested': [[1,2,3], 2], 'objs': [{'1': 2, '2': []}], 'bools': [true, false]}");
    CHECK_EVAL("States.ArrayContains($.e, null)", "false");
    CHECK_EVAL("States.ArrayContains($.e, States.Array())", "false");
    CHECK_EVAL("States.ArrayContains($.nested, null)", "false");
    CHECK_EVAL("States.ArrayContains($.nested, States.Array(1, 2, 3))", "true");
    CHECK_EVAL("States.ArrayContains($.objs, States.Array())", "false");
    CHECK_EVAL("States.ArrayContains($.objs, States.StringToJson('{\"2\": [], \"1\": 2}'))",
               "true");
    CHECK_EVAL("States.ArrayContains($.bools, true)", "true");
    CHECK_EVAL("States.ArrayContains($.bools, false)", "true");
    /* 1 and 1.0 differ, as in Jackson. */
    CHECK_EVAL("States.ArrayContains($.nested, 2.0)", "false");
    fails("States.ArrayContains($.bools[0], true)",
          "States.ArrayContains: argument 1 must be an array, got true");
}

TEST(array_range)
{
    CHECK_EVAL("States.ArrayRange(1, 9, 2)", "[1,3,5,7,9]");
    /* AWS's recorded values. */
    CHECK_EVAL("States.ArrayRange(0, 9, 3)", "[0,3,6,9]");
    CHECK_EVAL("States.ArrayRange(0, 10, 3)", "[0,3,6,9]");
    CHECK_EVAL("States.ArrayRange(1, 9, 9)", "[1]");
    /* Counting down; a step pointing away; rounding. */
    CHECK_EVAL("States.ArrayRange(9, 1, -2)", "[9,7,5,3,1]");
    CHECK_EVAL("States.ArrayRange(1, 9, -1)", "[]");
    CHECK_EVAL("States.ArrayRange(5, 5, 7)", "[5]");
    CHECK_EVAL("States.ArrayRange(0.5, 2.4, 1)", "[1,2]");
    CHECK_EVAL("States.ArrayRange(-2, 2, 2)", "[-2,0,2]");
    CHECK_EVAL("States.ArrayLength(States.ArrayRange(1, 1000, 1))", "1000");
    CHECK_EVAL("States.ArrayLength(States.ArrayRange(-9223372036854775807, 9223372036854775807, "
               "9223372036854775807))",
               "3");
}

TEST(array_range_failures)
{
    fails("States.ArrayRange(1, 1001, 1)",
          "States.ArrayRange: the range would hold more than the 1000 items allowed");
    fails("States.ArrayRange(-9223372036854775807, 9223372036854775807, 1)",
          "more than the 1000 items allowed");
    fails("States.ArrayRange(1, 9, 0)", "States.ArrayRange: argument 3 must not be 0 (the step)"
                                        ", got 0");
    fails("States.ArrayRange(1, 9, 0.4)", "argument 3 must not be 0 (the step), got 0.4");
    fails("States.ArrayRange('1', 9, 1)", "States.ArrayRange: argument 1 must be an integer, "
                                          "got \"1\"");
    fails("States.ArrayRange(1, null, 1)", "argument 2 must be an integer, got null");
    fails("States.ArrayRange(1, 1e300, 1)", "argument 2 must be an integer, got 1.0E300");
}

TEST(array_get_item)
{
    in("{'inputArray': [1,2,3,4,5,6,7,8,9], 'index': 5}");
    CHECK_EVAL("States.ArrayGetItem($.inputArray, $.index)", "6");
    CHECK_EVAL("States.ArrayGetItem($.inputArray, 0)", "1");
    CHECK_EVAL("States.ArrayGetItem($.inputArray, 8.0)", "9");
    fails("States.ArrayGetItem($.inputArray, 'x')",
          "States.ArrayGetItem: argument 2 must be a non-negative integer, got \"x\"");
    fails("States.ArrayGetItem($.inputArray, -1)", "argument 2 must be a non-negative integer, "
                                                   "got -1");
    fails("States.ArrayGetItem($.inputArray, 1.5)", "argument 2 must be a non-negative integer, "
                                                    "got 1.5");
    fails("States.ArrayGetItem($.inputArray, 9)",
          "States.ArrayGetItem: index 9 is past the end of the array (9 items)");
    fails("States.ArrayGetItem(States.Array(1), 1)", "index 1 is past the end of the array "
                                                     "(1 item)");
    fails("States.ArrayGetItem($.index, 0)", "argument 1 must be an array, got 5");
}

TEST(array_length)
{
    in("{'inputArray': [1,2,3,4,5,6,7,8,9], 'o': {'a': 1}}");
    CHECK_EVAL("States.ArrayLength($.inputArray)", "9");
    CHECK_EVAL("States.ArrayLength(States.Array())", "0");
    fails("States.ArrayLength($.o)", "States.ArrayLength: argument 1 must be an array, "
                                     "got {\"a\":1}");
}

TEST(array_unique)
{
    in("{'inputArray': [1,2,3,3,3,3,3,3,4]}");
    CHECK_EVAL("States.ArrayUnique($.inputArray)", "[1,2,3,4]");
    /* AWS's recorded input: every kind, repeated; objects by content. */
    in("[null, null, true, true, false, false, 1, 1, 1.1, 0, 0, 'HelloWorld', 'HelloWorld', "
       "[], [], [null], [null], {'a': 1, 'b': 2}, {'b': 2, 'a': 1}, {'a': 1, 'b': 1}]");
    CHECK_EVAL("States.ArrayUnique($)", "[null,true,false,1,1.1,0,\"HelloWorld\",[],[null],"
                                        "{\"a\":1,\"b\":2},{\"a\":1,\"b\":1}]");
    in("[0.0, -0.0, 1, 1.0, [1, 2], [2, 1], 'a', 'a']");
    CHECK_EVAL("States.ArrayUnique($)", "[0.0,1,1.0,[1,2],[2,1],\"a\"]");
    CHECK_EVAL("States.ArrayUnique(States.Array())", "[]");
    fails("States.ArrayUnique('x')", "States.ArrayUnique: argument 1 must be an array, got \"x\"");
}

/* Many values: the hash table grows and collides. */
TEST(array_unique_many)
{
    json_t *a = json_array(), *v;

    for (int i = 0; i < 3000; i++)
        json_array_append_new(a, json_integer(i % 1000));
    for (int i = 0; i < 100; i++)
        json_array_append_new(a, json_pack("{si}", "k", i % 10));
    json_decref(input);
    input = a;
    CHECK_INT(run("States.ArrayUnique($)", &v), 0);
    CHECK_INT(json_array_size(v), 1010);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(json_integer_value(json_array_get(v, (size_t)i)), i);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(v, 1009), "k")), 9);
    json_decref(v);
}

/* ---- encoding ---------------------------------------------------------------------- */

TEST(base64_encode)
{
    in("{'input': 'Data to encode', 'accented': 'héllo→', 'n': 123}");
    CHECK_EVAL_STR("States.Base64Encode($.input)", "RGF0YSB0byBlbmNvZGU=");
    /* Values AWS gave. */
    CHECK_EVAL_STR("States.Base64Encode('')", "");
    CHECK_EVAL_STR("States.Base64Encode('hello')", "aGVsbG8=");
    CHECK_EVAL_STR("States.Base64Encode($.accented)", "aMOpbGxv4oaS");
    CHECK_EVAL_STR("States.Base64Encode(States.Format('run {} now', 'hello'))",
                   "cnVuIGhlbGxvIG5vdw==");
    CHECK_EVAL_STR("States.Base64Encode('a')", "YQ==");
    CHECK_EVAL_STR("States.Base64Encode('ab')", "YWI=");
    CHECK_EVAL_STR("States.Base64Encode('abc')", "YWJj");
    fails("States.Base64Encode($.n)", "States.Base64Encode: argument 1 must be a string, got 123");
}

/* 10,000 characters, counted as Java counts them (UTF-16 units). */
TEST(base64_limits)
{
    char *s = sl_malloc(4 * 5001 + 1);
    json_t *v;

    memset(s, 'a', 10001);
    s[10000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    CHECK_INT(run("States.Base64Encode($.s)", &v), 0);
    CHECK_INT(json_string_length(v), 13336);
    json_decref(v);
    s[10000] = 'a';
    s[10001] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    fails("States.Base64Encode($.s)",
          "States.Base64Encode: argument 1 must be at most 10000 characters, got 10001");
    /* 5000 characters above U+FFFF are 10,000 units; one more is too many. */
    for (int i = 0; i < 5001; i++)
        memcpy(s + 4 * i, "😀", 4);
    s[4 * 5000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    CHECK_INT(run("States.Base64Encode($.s)", &v), 0);
    json_decref(v);
    s[4 * 5000] = (char)0xF0;
    s[4 * 5001] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    fails("States.Base64Encode($.s)", "at most 10000 characters, got 10002");
    for (int i = 0; i < 5000; i++)
        memcpy(s + 4 * i, "YQ==", 4);
    s[4 * 5000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    fails("States.Base64Decode($.s)",
          "States.Base64Decode: argument 1 must be at most 10000 characters, got 20000");
    free(s);
}

TEST(base64_decode)
{
    in("{'base64': 'RGF0YSB0byBlbmNvZGU=', 'lines': 'RGF0YSB0\\r\\nbyBlbmNv\\nZGU='}");
    /* The guide's example; the guide says "Decoded data", AWS gives this. */
    CHECK_EVAL_STR("States.Base64Decode($.base64)", "Data to encode");
    CHECK_EVAL_STR("States.Base64Decode($.lines)", "Data to encode");
    /* Values AWS gave: no padding is fine. */
    CHECK_EVAL_STR("States.Base64Decode('aGVsbG8')", "hello");
    CHECK_EVAL_STR("States.Base64Decode('')", "");
    CHECK_EVAL_STR("States.Base64Decode(States.Base64Encode('héllo→'))", "héllo→");
    CHECK_EVAL_STR("States.Base64Decode('YQ==')", "a");
    CHECK_EVAL_STR("States.Base64Decode('YQ')", "a");
    CHECK_EVAL_STR("States.Base64Decode('YWI=')", "ab");
    CHECK_EVAL_STR("States.Base64Decode('YWI')", "ab");
    CHECK_EVAL_STR("States.Base64Decode('YWJj')", "abc");
    CHECK_EVAL("States.Base64Decode('AGE=')", "\"\\u0000a\"");
}

TEST(base64_decode_failures)
{
    in("{'n': 1}");
    fails("States.Base64Decode($.n)", "States.Base64Decode: argument 1 must be a string, got 1");
    fails("States.Base64Decode('a$==')",
          "States.Base64Decode: argument 1 must be Base64 text, got \"a$==\"");
    fails("States.Base64Decode('Y')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('YQ=a')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('YQ===')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('YQ=')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('====')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('YW I=')", "argument 1 must be Base64 text");
    fails("States.Base64Decode('/w==')",
          "States.Base64Decode: argument 1 decodes to bytes that are not UTF-8 text");
}

/* ---- hashing ------------------------------------------------------------------------- */

TEST(hash)
{
    /* The guide's example; its printed digest lacks a digit (...18d7485e...). */
    in("{'Data': 'input data', 'Algorithm': 'SHA-1'}");
    CHECK_EVAL_STR("States.Hash($.Data, $.Algorithm)", "aaff4a450a104cd177d28d18d74485e8cae074b7");
    /* AWS's recorded digests. */
    CHECK_EVAL_STR("States.Hash($.Data, 'MD5')", "812f45842bc6d66ee14572ce20db8e86");
    CHECK_EVAL_STR("States.Hash($.Data, 'SHA-256')",
                   "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3");
    CHECK_EVAL_STR("States.Hash($.Data, 'SHA-384')",
                   "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc83"
                   "5ebb27e1fb9e9374a15562");
    CHECK_EVAL_STR("States.Hash($.Data, 'SHA-512')",
                   "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2"
                   "954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4");
    CHECK_EVAL_STR("States.Hash('', 'SHA-256')",
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_EVAL_STR("States.Hash('héllo→', 'SHA-256')",
                   "2210220e70cda7b7afe21cb86bad49d7983d48b84b2bb67074a3f9afe22e915e");
    /* Not a string: its compact JSON text is hashed (the spec's "stringified"). */
    in("{'o': {'a': 1, 'b': [true, null]}}");
    CHECK_EVAL_STR("States.Hash($.o, 'MD5')", "9264c02a0f4163be44ebc9264e797413");
}

TEST(hash_failures)
{
    char *s = sl_malloc(10002);

    in("{}");
    fails("States.Hash('x', 'sha-256')",
          "States.Hash: argument 2 must be one of \"MD5\", \"SHA-1\", \"SHA-256\", \"SHA-384\", "
          "\"SHA-512\", got \"sha-256\"");
    fails("States.Hash('x', 'SHA256')", "argument 2 must be one of");
    fails("States.Hash('x', 1)", "argument 2 must be one of");
    memset(s, 'x', 10001);
    s[10001] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    fails("States.Hash($.s, 'MD5')",
          "States.Hash: argument 1 must be at most 10000 characters, got 10001");
    fails("States.Hash(States.Array($.s), 'MD5')",
          "States.Hash: argument 1 as JSON text must be at most 10000 characters");
    s[10000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    CHECK_STR(eval_str("States.Hash($.s, 'MD5')") != NULL ? "ok" : "", "ok");
    free(s);
}

/* ---- math ---------------------------------------------------------------------------- */

TEST(math_add)
{
    in("{'value1': 111, 'step': -1}");
    CHECK_EVAL("States.MathAdd($.value1, $.step)", "110");
    /* AWS's recorded sums: halves round toward positive infinity. */
    CHECK_EVAL("States.MathAdd(-9, 3)", "-6");
    CHECK_EVAL("States.MathAdd(1.49, 1.50)", "3");
    CHECK_EVAL("States.MathAdd(1.50, 1.51)", "4");
    CHECK_EVAL("States.MathAdd(-1.49, -1.50)", "-2");
    CHECK_EVAL("States.MathAdd(-1.50, -1.51)", "-3");
    CHECK_EVAL("States.MathAdd(1.49, 0)", "1");
    CHECK_EVAL("States.MathAdd(1.49, -1.49)", "0");
    CHECK_EVAL("States.MathAdd(1.51, 0)", "2");
    CHECK_EVAL("States.MathAdd(-1.51, 0)", "-2");
    CHECK_EVAL("States.MathAdd(0.5, 0)", "1");
    CHECK_EVAL("States.MathAdd(1.5, 0)", "2");
    CHECK_EVAL("States.MathAdd(2.5, 0)", "3");
    CHECK_EVAL("States.MathAdd(3.5, 0)", "4");
    CHECK_EVAL("States.MathAdd(-0.5, 0.5)", "1");
    CHECK_EVAL("States.MathAdd(-0.5, 0)", "0");
    CHECK_EVAL("States.MathAdd(-1.5, 0)", "-1");
    CHECK_EVAL("States.MathAdd(-2.5, 0)", "-2");
    CHECK_EVAL("States.MathAdd(-3.5, 0)", "-3");
    CHECK_EVAL("States.MathAdd(0.49999999999999994, 0)", "0");
    /* The arguments are Java ints; the sum is exact. */
    CHECK_EVAL("States.MathAdd(2147483647, 1)", "2147483648");
    CHECK_EVAL("States.MathAdd(-2147483648, -2147483648)", "-4294967296");
}

TEST(math_add_failures)
{
    in("{}");
    fails("States.MathAdd(2147483648, 0)",
          "States.MathAdd: argument 1 must be an integer from -2147483648 to 2147483647, "
          "got 2147483648");
    fails("States.MathAdd(1, -2147483649)", "argument 2 must be an integer from");
    fails("States.MathAdd(2147483647.5, 0)", "argument 1 must be an integer from");
    fails("States.MathAdd('1', 1)", "argument 1 must be an integer from -2147483648 to "
                                    "2147483647, got \"1\"");
    fails("States.MathAdd(1, true)", "argument 2 must be an integer from");
}

TEST(math_random)
{
    in("{'start': 1, 'end': 999}");
    for (int i = 0; i < 200; i++) {
        json_t *v;

        CHECK_INT(run("States.MathRandom($.start, $.end)", &v), 0);
        CHECK(json_is_integer(v));
        CHECK(json_integer_value(v) >= 1 && json_integer_value(v) < 999);
        json_decref(v);
    }
    /* The end is exclusive; the bounds are rounded (12.5 to 13, 13.51 to 14). */
    for (int i = 0; i < 20; i++) {
        CHECK_EVAL("States.MathRandom(7, 8)", "7");
        CHECK_EVAL("States.MathRandom(12.5, 13.51)", "13");
    }
    CHECK_EVAL("States.MathRandom(-2147483648, -2147483647)", "-2147483648");
}

/* A seed gives the same number every time: java.util.Random's. */
TEST(math_random_seeded)
{
    CHECK_EVAL("States.MathRandom(0, 999, 3)", "239");
    CHECK_EVAL("States.MathRandom(0, 999, 3)", "239");
    CHECK_EVAL("States.MathRandom(0, 10, 42)", "0");
    CHECK_EVAL("States.MathRandom(0, 100, 0)", "60");
    CHECK_EVAL("States.MathRandom(0, 1000, 12345)", "251");
    CHECK_EVAL("States.MathRandom(5, 1048581, -7)", "282199");
    CHECK_EVAL("States.MathRandom(0, 999, 2.6)", "239");
    /* Spans beyond a Java int still draw inside the range. */
    for (int seed = 0; seed < 20; seed++) {
        char text[128];
        json_t *v;

        snprintf(text, sizeof(text), "States.MathRandom(-2147483648, 2147483647, %d)", seed);
        CHECK_INT(run(text, &v), 0);
        CHECK(json_integer_value(v) >= INT32_MIN && json_integer_value(v) < INT32_MAX);
        json_decref(v);
    }
}

TEST(math_random_failures)
{
    fails("States.MathRandom(5, 5)",
          "States.MathRandom: the end (5, exclusive) must be greater than the start (5)");
    fails("States.MathRandom(9, 1, 3)", "the end (1, exclusive) must be greater than the "
                                        "start (9)");
    fails("States.MathRandom('1', 5)", "States.MathRandom: argument 1 must be an integer from "
                                       "-2147483648 to 2147483647, got \"1\"");
    fails("States.MathRandom(1, 3000000000)", "argument 2 must be an integer from");
    fails("States.MathRandom(1, 5, 'seed')", "argument 3 must be an integer, got \"seed\"");
}

/* ---- strings --------------------------------------------------------------------------- */

TEST(string_split)
{
    in("{'inputString': '1,2,3,4,5', 'splitter': ',', "
       "'words': 'This.is+a,test=string', 'marks': '.+,='}");
    CHECK_EVAL("States.StringSplit($.inputString, $.splitter)", "[\"1\",\"2\",\"3\",\"4\",\"5\"]");
    CHECK_EVAL("States.StringSplit($.words, $.marks)",
               "[\"This\",\"is\",\"a\",\"test\",\"string\"]");
    /* AWS's recorded splits: empty pieces are dropped. */
    CHECK_EVAL("States.StringSplit(' ', ',')", "[\" \"]");
    CHECK_EVAL("States.StringSplit(' , ', ',')", "[\" \",\" \"]");
    CHECK_EVAL("States.StringSplit(', , ,', ',')", "[\" \",\" \"]");
    CHECK_EVAL("States.StringSplit(',,,,', ',')", "[]");
    CHECK_EVAL("States.StringSplit('split on T and \nnew line', 'T\n')",
               "[\"split on \",\" and \",\"new line\"]");
    CHECK_EVAL("States.StringSplit('Hello\nWorld', '\n')", "[\"Hello\",\"World\"]");
    ctx("{'Execution': {'Input': {'FunctionInput': 'Value1,Value2,Value3\\nValue4,Value5,"
        "Value6\\n,,,\\ntrue,1,\\'HelloWorld\\'\\nNull,None,\\n   \\n'}}}");
    CHECK_EVAL("States.StringSplit($$.Execution.Input.FunctionInput, ',')",
               "[\"Value1\",\"Value2\",\"Value3\\nValue4\",\"Value5\",\"Value6\\n\","
               "\"\\ntrue\",\"1\",\"\\\"HelloWorld\\\"\\nNull\",\"None\",\"\\n   \\n\"]");
    /* Delimiters are characters, not bytes; none splits nothing. */
    CHECK_EVAL("States.StringSplit('a→b↓c→', '→↓')", "[\"a\",\"b\",\"c\"]");
    CHECK_EVAL("States.StringSplit('é', '\xc3\xa8')", "[\"é\"]");
    CHECK_EVAL("States.StringSplit('abc', '')", "[\"abc\"]");
    CHECK_EVAL("States.StringSplit('', ',')", "[]");
    fails("States.StringSplit(1, ',')", "States.StringSplit: argument 1 must be a string, got 1");
    fails("States.StringSplit('a', null)", "argument 2 must be a string, got null");
}

/* ---- identifiers ------------------------------------------------------------------------ */

TEST(uuid)
{
    char first[40];
    const char *u;

    u = eval_str("States.UUID()");
    snprintf(first, sizeof(first), "%s", u);
    CHECK_INT(strlen(first), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(first[i] == '-');
        else
            CHECK((first[i] >= '0' && first[i] <= '9') || (first[i] >= 'a' && first[i] <= 'f'));
    }
    CHECK(first[14] == '4');
    CHECK(strchr("89ab", first[19]) != NULL);
    u = eval_str("States.UUID()");
    CHECK(strcmp(u, first) != 0);
}

/* ---- sizes ---------------------------------------------------------------------------- */

/*
 * No value may pass 256 KiB as JSON, however it is built: shared nodes
 * would otherwise let a short call describe an enormous tree.
 */
TEST(result_limit)
{
    char *s = sl_malloc(150001);
    struct sl_buf b;

    memset(s, 'x', 150000);
    s[150000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    CHECK_EVAL("States.ArrayLength(States.Array($.s))", "1");
    fails("States.Array($.s, $.s)", "States.Array: the result would be larger than 262144 bytes");
    fails("States.Format('{}{}', $.s, $.s)",
          "States.Format: the result would be longer than 262144 bytes");
    fails("States.JsonToString(States.Array($.s, $.s))", "States.Array: the result would be "
                                                         "larger");
    free(s);
    /* One value named many times: 1,000 bytes, 100 times, three times over. */
    s = sl_malloc(1001);
    memset(s, 'y', 1000);
    s[1000] = '\0';
    json_decref(input);
    input = json_pack("{ss}", "s", s);
    free(s);
    sl_buf_init(&b);
    sl_buf_adds(&b, "States.Array(");
    for (int k = 0; k < 3; k++) {
        sl_buf_adds(&b, k > 0 ? ", States.Array(" : "States.Array(");
        for (int i = 0; i < 100; i++)
            sl_buf_adds(&b, i > 0 ? ", $.s" : "$.s");
        sl_buf_adds(&b, ")");
    }
    sl_buf_adds(&b, ")");
    fails(b.data, "States.Array: the result would be larger than 262144 bytes");
    sl_buf_setlen(&b, 0);
    sl_buf_adds(&b, "States.ArrayLength(States.Array(");
    for (int i = 0; i < 200; i++)
        sl_buf_adds(&b, i > 0 ? ", $.s" : "$.s");
    sl_buf_adds(&b, "))");
    CHECK_EVAL(b.data, "200");
    sl_buf_release(&b);
}

/* Values nested deeper than jansson parses are refused, not recursed into. */
TEST(depth_limit)
{
    json_t *deep = json_array(), *v;

    for (int i = 0; i < 2100; i++) {
        json_t *outer = json_array();

        json_array_append_new(outer, deep);
        deep = outer;
    }
    json_decref(input);
    input = json_pack("{so}", "deep", deep);
    fails("States.JsonToString($.deep)", "States.JsonToString: argument 1 nests deeper than "
                                         "2048 levels");
    fails("States.Format('{}', $.deep)", "States.Format: argument 2 nests deeper than 2048 "
                                         "levels");
    fails("States.Hash($.deep, 'MD5')", "States.Hash: argument 1 nests deeper than 2048 levels");
    fails("States.Array($.deep)", "States.Array: the result would nest deeper than 2048 levels");
    fails("States.ArrayUnique($.deep)", "the result would nest deeper than 2048 levels");
    CHECK_EVAL("States.ArrayLength($.deep)", "1");
    CHECK_EVAL("States.ArrayContains($.deep, 1)", "false");
    CHECK_INT(run("States.ArrayGetItem($.deep, 0)", &v), SL_ERR_INPUT);
}
