/*
 * test_path.c - JSONPath for ASL: every step kind selected from real
 * documents, reference and definite paths with their refusals and
 * not-found words, the syntax refusals with their columns, ResultPath
 * puts (creation, replacement, failures that change nothing), and
 * copy-on-write when parts of the tree are shared.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/diag.h"
#include "core/mem.h"
#include "flow/path.h"
#include "test.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12))

static struct sl_diag d;

static const char *STORE =
    "{\"store\":{\"book\":["
    "{\"category\":\"reference\",\"author\":\"Rees\",\"title\":\"Sayings\",\"price\":8.95},"
    "{\"category\":\"fiction\",\"author\":\"Waugh\",\"title\":\"Sword\",\"price\":12.99},"
    "{\"category\":\"fiction\",\"author\":\"Melville\",\"title\":\"Moby\",\"isbn\":\"0-553\","
    "\"price\":8.99},"
    "{\"category\":\"fiction\",\"author\":\"Tolkien\",\"title\":\"Rings\",\"isbn\":\"0-395\","
    "\"price\":22.99}],"
    "\"bicycle\":{\"color\":\"red\",\"price\":19.95}},"
    "\"expensive\":10}";

static json_t *
load(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

    if (j == NULL) {
        snprintf(test_why, sizeof(test_why), "%s:%d: bad test JSON: %s", __FILE__, __LINE__,
                 err.text);
        longjmp(test_jmp, 1);
    }
    return j;
}

/* j as compact JSON with sorted keys, in one of a few rotating buffers. */
static const char *
dump(const json_t *j)
{
    static char bufs[4][8192];
    static int next;
    char *s = json_dumps(j, DUMP_FLAGS), *buf = bufs[next++ % 4];

    snprintf(buf, sizeof(bufs[0]), "%s", s ? s : "(null)");
    free(s);
    return buf;
}

/* Parse path (not as a reference), which must succeed. */
static struct flow_path *
parse(const char *path)
{
    struct flow_path *p = NULL;

    sl_diag_init(&d);
    if (flow_path_parse(path, false, &p, &d) != 0) {
        snprintf(test_why, sizeof(test_why), "%s:%d: '%s' refused: %s", __FILE__, __LINE__, path,
                 d.msg);
        longjmp(test_jmp, 1);
    }
    CHECK(p != NULL);
    CHECK_STR(flow_path_text(p), path);
    return p;
}

/* Select path from input (and context, NULL for none): the result as
 * dump() writes it, or "NOTFOUND" with the words in d. */
static const char *
sel_ctx(const char *path, const char *input, const char *context)
{
    struct flow_path *p = parse(path);
    json_t *in = input ? load(input) : NULL, *ctx = context ? load(context) : NULL, *out;
    struct flow_roots r = {in, ctx};
    const char *res;
    int rc;

    sl_diag_init(&d);
    rc = flow_path_select(p, &r, &out, &d);
    if (rc == 0) {
        CHECK(out != NULL);
        res = dump(out);
        json_decref(out);
    } else {
        CHECK_INT(rc, SL_ERR_NOTFOUND);
        CHECK_INT(d.code, SL_ERR_NOTFOUND);
        CHECK(out == NULL);
        /* Only definite paths may fail. */
        CHECK(strchr(path, '*') == NULL && strstr(path, "..") == NULL);
        res = "NOTFOUND";
    }
    json_decref(in);
    json_decref(ctx);
    flow_path_free(p);
    return res;
}

static const char *
sel(const char *path, const char *input)
{
    return sel_ctx(path, input, NULL);
}

/* path is refused (reference or not) with words holding want. */
static void
refused(const char *path, bool reference, const char *want)
{
    struct flow_path *p = (struct flow_path *)&d; /* must be reset to NULL */

    sl_diag_init(&d);
    CHECK_INT(flow_path_parse(path, reference, &p, &d), SL_ERR_INPUT);
    CHECK(p == NULL);
    CHECK_INT(d.code, SL_ERR_INPUT);
    CHECK_HAS(d.msg, want);
}

/* Put value (JSON text) at path in root (JSON text): the new root as
 * dump() writes it, or "ERR" with the words in d (the root unchanged). */
static const char *
put(const char *path, const char *root_text, const char *value_text)
{
    struct flow_path *p = NULL;
    json_t *root = load(root_text), *value = load(value_text), *before = json_deep_copy(root);
    const char *res;
    int rc;

    sl_diag_init(&d);
    CHECK_INT(flow_path_parse(path, true, &p, &d), 0);
    rc = flow_path_put(p, &root, value, &d);
    if (rc == 0) {
        res = dump(root);
    } else {
        CHECK_INT(rc, SL_ERR_INPUT);
        CHECK_INT(d.code, SL_ERR_INPUT);
        CHECK(json_equal(root, before));
        res = "ERR";
    }
    json_decref(root);
    json_decref(value);
    json_decref(before);
    flow_path_free(p);
    return res;
}

/* ---- parsing and classes ------------------------------------------------ */

TEST(reference_paths_parse_as_references)
{
    const char *refs[] = {"$",
                          "$.a",
                          "$.a.b",
                          "$['a']",
                          "$[\"a\"]",
                          "$['x y'][0]",
                          "$.foo-bar",
                          "$.a_1.B2",
                          "$.lines[0].sku",
                          "$[0][1]",
                          "$.\xc3\xa9t\xc3\xa9",
                          "$.a$b",
                          "$['a.b']['c[d]']",
                          "$$",
                          "$$.Execution.Id",
                          "$.abc.['def ghi']"};

    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        struct flow_path *p = NULL;

        sl_diag_init(&d);
        CHECK_INT(flow_path_parse(refs[i], true, &p, &d), 0);
        CHECK(flow_path_is_reference(p));
        CHECK_STR(flow_path_text(p), refs[i]);
        CHECK(flow_path_is_context(p) == (strncmp(refs[i], "$$", 2) == 0));
        flow_path_free(p);
    }
}

TEST(other_paths_are_not_references)
{
    const char *others[] = {"$.a[*]",    "$.*",        "$..a",   "$..*", "$.a[-1]",
                            "$[0,1]",    "$['a','b']", "$[1:2]", "$[:]", "$[::-1]",
                            "$[?(@.x)]", "$..[0]",     "$$..Id"};

    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        struct flow_path *p = parse(others[i]);

        CHECK(!flow_path_is_reference(p));
        flow_path_free(p);
    }
}

TEST(reference_refusals_name_the_step_and_column)
{
    refused("$.a[*]", true,
            "'$.a[*]' is not a reference path: '[*]' at column 4 selects several nodes");
    refused("$.a.*", true, "'$.a.*' is not a reference path: '.*' at column 4 selects");
    refused("$.x..name", true, "'$.x..name' is not a reference path: '..name' at column 4");
    refused("$.a[-1]", true,
            "'$.a[-1]' is not a reference path: '[-1]' at column 4 counts from the end of "
            "the array");
    refused("$['a','b']", true, "'['a','b']' at column 2 selects several nodes");
    refused("$.a[0,1]", true, "'[0,1]' at column 4");
    refused("$.a[1:]", true, "'[1:]' at column 4");
    refused("$.a[?(@.x > 1)].b", true, "'[?(@.x > 1)]' at column 4");
    refused("$..[0]", true, "'..[0]' at column 2 selects several nodes");
    /* Columns count characters, not bytes. */
    refused("$.\xc3\xa9[*]", true, "'[*]' at column 4");
}

TEST(syntax_refusals_say_what_was_expected_where)
{
    refused("", false, "'' is not a valid path: expected '$' at column 1, found the end");
    refused("a.b", false, "'a.b' is not a valid path: expected '$' at column 1, found 'a'");
    refused("$a", false, "expected '.' or '[' at column 2, found 'a'");
    refused("$.", false, "expected a name or '*' at column 3, found the end of the path");
    refused("$..", false, "expected a name, '*' or '[' after '..' at column 4, found the end");
    refused("$...a", false, "after '..' at column 4, found '.'");
    refused("$.a b", false, "expected '.' or '[' at column 4, found ' '");
    refused("$.a[", false,
            "expected an index, a quoted name, '*', a slice or a filter at column 5, found "
            "the end");
    refused("$.a[x]", false, "a slice or a filter at column 5, found 'x'");
    refused("$.a[1", false, "expected ',', ':' or ']' at column 6");
    refused("$.a[1,]", false, "expected a digit at column 7, found ']'");
    refused("$.a[1,'b']", false, "expected a digit at column 7");
    refused("$['a',1]", false, "expected a quoted name at column 7, found '1'");
    refused("$['a'", false, "expected ',' or ']' at column 6, found the end");
    refused("$['a", false, "the string at column 3 has no closing '");
    refused("$[*", false, "expected ']' at column 4");
    refused("$[1:2:0]", false, "the slice's step at column 7 is 0");
    refused("$[1:x]", false, "expected ']' at column 5, found 'x'");
    refused("$[99999999999999999999]", false, "the number at column 3 is too large");
    refused("$['\\q']", false, "expected an escape");
    refused("$['\\u12']", false, "expected \\u and four hex digits at column 4");
    refused("$['\\ud800']", false, "the escape at column 4 is a high surrogate without");
    refused("$['\\udc00']", false, "the escape at column 4 is a lone low surrogate");
    refused("$.a\xff", false, "invalid UTF-8 at column 4");
    refused("$.length()", false, "functions such as 'length()' at column 3 are not supported");
    refused("$$$", false, "expected '.' or '[' at column 3, found '$'");
    refused("$.a]", false, "expected '.' or '[' at column 4, found ']'");
}

TEST(filter_syntax_refusals)
{
    refused("$[?(@.x > )]", false,
            "expected '@', '$', a number, a quoted string, true, false or null at column 11, "
            "found ')'");
    refused("$[?(@.x =~ /a/)]", false, "the operator '=~' at column 9 is not supported");
    refused("$[?(1)]", false, "expected a comparison operator (== != < <= > >=) at column 6");
    refused("$[?(@.x == 1]", false, "expected ')' at column 13, found ']'");
    refused("$[?(@.x == 1)", false, "expected ']' after the filter at column 14");
    refused("$[?(@..x)]", false,
            "a path in a filter takes only names and indexes, and '..x' at column 6 is "
            "neither");
    refused("$[?(@[*] == 1)]", false, "'[*]' at column 6 is neither");
    refused("$[?(@.x = 1)]", false, "expected ')' at column 9, found '='");
    refused("$[?(@.x == 'a)]", false, "the string at column 12 has no closing '");
    refused("$[?(@.x == 1.)]", false, "expected a digit after '.' at column 14");
    refused("$[?(@.x == 1e999)]", false, "the number at column 12 is too large");
    refused("$[?(@.x == tru)]", false, "a quoted string, true, false or null at column 12");
    refused("$[?(@.x == 1 && )]", false, "at column 17, found ')'");

    char deep[400];
    size_t n = 0;

    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "$[?(");
    for (int i = 0; i < 70; i++)
        deep[n++] = '(';
    deep[n] = '\0';
    refused(deep, false, "the filter nests deeper than 64");
    snprintf(deep, sizeof(deep), "$[?(");
    n = strlen(deep);
    for (int i = 0; i < 70; i++)
        deep[n++] = '!';
    deep[n] = '\0';
    refused(deep, false, "the filter nests deeper than 64");
    n = (size_t)snprintf(deep, sizeof(deep), "$");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "[?(@");
    refused(deep, false, "the filter nests deeper than 64");
}

TEST(refusal_quotes_a_long_path_cut_short)
{
    char path[1000];

    memset(path, 'a', sizeof(path));
    path[0] = '$';
    path[1] = '.';
    path[sizeof(path) - 2] = ' ';
    path[sizeof(path) - 1] = '\0';
    refused(path, false, "...' is not a valid path: expected '.' or '[' at column 999");
    CHECK(strlen(d.msg) < 300);
}

TEST(parse_without_diag)
{
    struct flow_path *p = (struct flow_path *)&d;

    CHECK_INT(flow_path_parse("$.a[", false, &p, NULL), SL_ERR_INPUT);
    CHECK(p == NULL);
    CHECK_INT(flow_path_parse("$.a[*]", true, &p, NULL), SL_ERR_INPUT);
    CHECK(p == NULL);
    flow_path_free(NULL);
}

/* ---- select: names, indexes, roots ------------------------------------- */

TEST(select_names_and_indexes)
{
    const char *in = "{\"a\":{\"b\":[10,{\"c\":\"x\"}],\"x y\":1,\"foo-bar\":2,"
                     "\"a.b\":3,\"\xc3\xa9\":4,\"q'\\\"\":5},\"n\":null}";

    CHECK_STR(sel("$", in), "{\"a\":{\"a.b\":3,\"b\":[10,{\"c\":\"x\"}],\"foo-bar\":2,"
                            "\"q'\\\"\":5,\"x y\":1,\"\xc3\xa9\":4},\"n\":null}");
    CHECK_STR(sel("$.a.b", in), "[10,{\"c\":\"x\"}]");
    CHECK_STR(sel("$.a.b[0]", in), "10");
    CHECK_STR(sel("$.a.b[1].c", in), "\"x\"");
    CHECK_STR(sel("$['a']['b'][1]['c']", in), "\"x\"");
    CHECK_STR(sel("$[\"a\"][\"b\"][ 1 ][ \"c\" ]", in), "\"x\"");
    CHECK_STR(sel("$.a['x y']", in), "1");
    CHECK_STR(sel("$.a.foo-bar", in), "2");
    CHECK_STR(sel("$.a['a.b']", in), "3");
    CHECK_STR(sel("$.a.\xc3\xa9", in), "4");
    CHECK_STR(sel("$.a['\\u00e9']", in), "4");
    CHECK_STR(sel("$.a['q\\'\"']", in), "5");
    CHECK_STR(sel("$.a[\"q'\\\"\"]", in), "5");
    CHECK_STR(sel("$.n", in), "null");
    CHECK_STR(sel("$[0]", "[\"first\",\"second\"]"), "\"first\"");
    CHECK_STR(sel("$", "42"), "42");
}

TEST(select_escapes_in_quoted_names)
{
    const char *in = "{\"a\\\\b\":1,\"a/b\":2,\"t\\tn\\n\":3,\"\\ud83d\\ude00\":4,"
                     "\"\\b\\f\\r\":6}";
    struct flow_path *p;
    struct flow_roots r;
    json_t *o, *out;

    CHECK_STR(sel("$['a\\\\b']", in), "1");
    CHECK_STR(sel("$['a\\/b']", in), "2");
    CHECK_STR(sel("$['t\\tn\\n']", in), "3");
    CHECK_STR(sel("$['\\ud83d\\ude00']", in), "4");
    CHECK_STR(sel("$['\xf0\x9f\x98\x80']", in), "4");
    CHECK_STR(sel("$['\\b\\f\\r']", in), "6");
    /* jansson reads no NUL in keys, but holds them: "nul\0x". */
    o = json_object();
    json_object_setn_new(o, "nul\0x", 5, json_integer(5));
    r = (struct flow_roots){o, NULL};
    p = parse("$['nul\\u0000x']");
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK_STR(dump(out), "5");
    json_decref(out);
    flow_path_free(p);
    p = parse("$['nul']");
    CHECK_INT(flow_path_select(p, &r, &out, &d), SL_ERR_NOTFOUND);
    flow_path_free(p);
    json_decref(o);
}

TEST(select_context_root)
{
    const char *ctx = "{\"Execution\":{\"Id\":\"arn:x\",\"Name\":\"run1\"},"
                      "\"Map\":{\"Item\":{\"Index\":3}}}";

    CHECK_STR(sel_ctx("$$.Execution.Id", "{}", ctx), "\"arn:x\"");
    CHECK_STR(sel_ctx("$$.Map.Item.Index", "{\"Map\":0}", ctx), "3");
    CHECK_STR(sel_ctx("$$", "{}", NULL), "{}");
    CHECK_STR(sel_ctx("$$.Execution.Id", "{}", NULL), "NOTFOUND");
    CHECK_STR(d.msg, "$$.Execution.Id: 'Execution' is not in the object at $$");
    CHECK_STR(sel_ctx("$$.*", "{}", ctx),
              "[{\"Id\":\"arn:x\",\"Name\":\"run1\"},{\"Item\":{\"Index\":3}}]");
    CHECK_STR(sel_ctx("$$..Index", "{}", ctx), "[3]");
}

TEST(select_not_found_says_which_step)
{
    const char *in = "{\"a\":{\"b\":[1,2],\"s\":\"str\",\"o\":{},\"one\":[7],\"t\":true}}";

    CHECK_STR(sel("$.a.c", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.c: 'c' is not in the object at $.a");
    CHECK_STR(sel("$.x.y.z", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.x.y.z: 'x' is not in the object at $");
    CHECK_STR(sel("$.a.b[3]", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.b[3]: the array at $.a.b has 2 items");
    CHECK_STR(sel("$.a.one[1]", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.one[1]: the array at $.a.one has 1 item");
    CHECK_STR(sel("$.a.s.b", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.s.b: $.a.s is a string, not an object");
    CHECK_STR(sel("$.a.b.c", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.b.c: $.a.b is an array, not an object");
    CHECK_STR(sel("$.a.o[0]", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.o[0]: $.a.o is an object, not an array");
    CHECK_STR(sel("$.a.t.x", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a.t.x: $.a.t is a boolean, not an object");
    CHECK_STR(sel("$['a']['b'][9]", in), "NOTFOUND");
    CHECK_STR(d.msg, "$['a']['b'][9]: the array at $['a']['b'] has 2 items");
    CHECK_STR(sel("$.x", "[]"), "NOTFOUND");
    CHECK_STR(d.msg, "$.x: $ is an array, not an object");
    CHECK_STR(sel("$[0].x", "[3]"), "NOTFOUND");
    CHECK_STR(d.msg, "$[0].x: $[0] is a number, not an object");
    CHECK_STR(sel("$.a", NULL), "NOTFOUND");
    CHECK_STR(d.msg, "$.a: $ is null, not an object");
    CHECK_STR(sel("$", NULL), "null");
}

TEST(select_shares_the_node_and_keeps_the_first_message)
{
    struct flow_path *p = parse("$.a.b"), *q = parse("$.zz");
    json_t *in = load("{\"a\":{\"b\":{\"c\":1}}}"), *out = NULL;
    json_t *b = json_object_get(json_object_get(in, "a"), "b");
    struct flow_roots r = {in, NULL};

    sl_diag_init(&d);
    CHECK_INT(flow_path_select(q, &r, &out, &d), SL_ERR_NOTFOUND);
    CHECK_INT(flow_path_select(q, &r, &out, &d), SL_ERR_NOTFOUND);
    CHECK_STR(d.msg, "$.zz: 'zz' is not in the object at $");
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK(out == b);
    CHECK_INT(b->refcount, 2);
    CHECK_INT(flow_path_select(p, &r, &out, NULL), 0);
    CHECK_INT(b->refcount, 3);
    json_decref(out);
    json_decref(out);
    json_decref(in);
    flow_path_free(p);
    flow_path_free(q);
}

/* ---- select: negative indexes and name unions (definite) --------------- */

TEST(select_negative_index_counts_from_the_end)
{
    const char *in = "{\"a\":[1,2,3]}";

    CHECK_STR(sel("$.a[-1]", in), "3");
    CHECK_STR(sel("$.a[-3]", in), "1");
    CHECK_STR(sel("$.a[-4]", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a[-4]: the array at $.a has 3 items");
    CHECK_STR(sel("$.a[-1]", "{\"a\":[]}"), "NOTFOUND");
    CHECK_STR(d.msg, "$.a[-1]: the array at $.a has 0 items");
}

TEST(select_final_name_union_merges_into_an_object)
{
    const char *in = "{\"a\":1,\"b\":[2],\"c\":3,\"o\":{\"x\":{\"a\":4,\"c\":5},\"y\":{\"a\":6},"
                     "\"z\":7}}";

    CHECK_STR(sel("$['a','b']", in), "{\"a\":1,\"b\":[2]}");
    CHECK_STR(sel("$['a', 'zz']", in), "{\"a\":1}");
    CHECK_STR(sel("$['yy','zz']", in), "{}");
    CHECK_STR(sel("$.a['x','y']", in), "NOTFOUND");
    CHECK_STR(d.msg, "$.a['x','y']: $.a is a number, not an object");
    /* After an indefinite step, one object per object reached. */
    CHECK_STR(sel("$.o.*['a','c']", in), "[{\"a\":4,\"c\":5},{\"a\":6}]");
    /* Not the last step: a plain union, in the order written. */
    CHECK_STR(sel("$.o['y','x'].a", in), "[6,4]");
    /* After "..": a plain union too. */
    CHECK_STR(sel("$..['c','z']", in), "[3,7,5]");
}

/* ---- select: indefinite steps ------------------------------------------ */

TEST(select_wildcards)
{
    const char *in = "{\"z\":1,\"a\":{\"k\":2},\"m\":[3,4],\"s\":\"t\"}";

    /* Object members in their order in the document. */
    CHECK_STR(sel("$.*", in), "[1,{\"k\":2},[3,4],\"t\"]");
    CHECK_STR(sel("$[*]", in), "[1,{\"k\":2},[3,4],\"t\"]");
    CHECK_STR(sel("$.m[*]", in), "[3,4]");
    CHECK_STR(sel("$.m.*", in), "[3,4]");
    CHECK_STR(sel("$.*.k", in), "[2]");
    CHECK_STR(sel("$.*[*]", in), "[2,3,4]");
    CHECK_STR(sel("$.s[*]", in), "[]");
    CHECK_STR(sel("$.nope[*]", in), "[]");
    CHECK_STR(sel("$[*]", "[]"), "[]");
    CHECK_STR(sel("$[*]", "5"), "[]");
    CHECK_STR(sel("$[*][*]", "[[1,2],[3],[]]"), "[1,2,3]");
}

TEST(select_recursive_descent)
{
    const char *in = "{\"a\":{\"a\":1,\"b\":[{\"a\":2},{\"c\":{\"a\":3}}]},\"b\":{\"a\":4}}";

    CHECK_STR(sel("$..a", in), "[{\"a\":1,\"b\":[{\"a\":2},{\"c\":{\"a\":3}}]},1,2,3,4]");
    CHECK_STR(sel("$..c.a", in), "[3]");
    CHECK_STR(sel("$.b..a", in), "[4]");
    CHECK_STR(sel("$..*", "{\"x\":{\"y\":1},\"z\":[2,{\"w\":3}]}"),
              "[{\"y\":1},[2,{\"w\":3}],1,2,{\"w\":3},3]");
    CHECK_STR(sel("$..[0]", "{\"x\":[[1,2],[3]],\"y\":[4]}"), "[[1,2],1,3,4]");
    CHECK_STR(sel("$..[*]", "[1,[2]]"), "[1,[2],2]");
    CHECK_STR(sel("$..['x']", "{\"x\":{\"x\":1}}"), "[{\"x\":1},1]");
    CHECK_STR(sel("$..x", "7"), "[]");
    CHECK_STR(sel("$..x", "{}"), "[]");
    CHECK_STR(sel("$..price", STORE), "[8.95,12.99,8.99,22.99,19.95]");
    CHECK_STR(sel("$..book[2].author", STORE), "[\"Melville\"]");
    CHECK_STR(sel("$..book[-1].title", STORE), "[\"Rings\"]");
}

TEST(select_unions_of_indexes)
{
    const char *in = "[\"a\",\"b\",\"c\",\"d\"]";

    CHECK_STR(sel("$[0,2]", in), "[\"a\",\"c\"]");
    CHECK_STR(sel("$[2,0]", in), "[\"c\",\"a\"]");
    CHECK_STR(sel("$[ 0 , -1 , 9 ]", in), "[\"a\",\"d\"]");
    CHECK_STR(sel("$[1,1]", in), "[\"b\",\"b\"]");
    CHECK_STR(sel("$[0,1]", "{\"0\":1}"), "[]");
    CHECK_STR(sel("$.store.book[0,1].title", STORE), "[\"Sayings\",\"Sword\"]");
}

TEST(select_slices)
{
    const char *in = "[0,1,2,3,4]";

    CHECK_STR(sel("$[1:3]", in), "[1,2]");
    CHECK_STR(sel("$[1:]", in), "[1,2,3,4]");
    CHECK_STR(sel("$[:2]", in), "[0,1]");
    CHECK_STR(sel("$[:]", in), "[0,1,2,3,4]");
    CHECK_STR(sel("$[-2:]", in), "[3,4]");
    CHECK_STR(sel("$[:-2]", in), "[0,1,2]");
    CHECK_STR(sel("$[-9:2]", in), "[0,1]");
    CHECK_STR(sel("$[3:99]", in), "[3,4]");
    CHECK_STR(sel("$[3:1]", in), "[]");
    CHECK_STR(sel("$[7:9]", in), "[]");
    CHECK_STR(sel("$[::2]", in), "[0,2,4]");
    CHECK_STR(sel("$[1:5:3]", in), "[1,4]");
    CHECK_STR(sel("$[ 1 : 4 : 2 ]", in), "[1,3]");
    CHECK_STR(sel("$[::-1]", in), "[4,3,2,1,0]");
    CHECK_STR(sel("$[3:0:-1]", in), "[3,2,1]");
    CHECK_STR(sel("$[3::-2]", in), "[3,1]");
    CHECK_STR(sel("$[:-3:-1]", in), "[4,3]");
    CHECK_STR(sel("$[-1:-9:-1]", in), "[4,3,2,1,0]");
    CHECK_STR(sel("$[::9007199254740992]", in), "[0]");
    CHECK_STR(sel("$[::-9007199254740992]", in), "[4]");
    CHECK_STR(sel("$[0:2]", "[]"), "[]");
    CHECK_STR(sel("$[0:2]", "{\"0\":1}"), "[]");
    CHECK_STR(sel("$.store.book[:2].author", STORE), "[\"Rees\",\"Waugh\"]");
}

/* ---- select: filters ---------------------------------------------------- */

static const char *NUMS = "[{\"x\":0},{\"x\":1},{\"x\":2},{\"x\":2.5},{\"x\":\"2\"},{\"y\":1},"
                          "{\"x\":null},{\"x\":false},{\"x\":[1]}]";

TEST(filter_comparisons_with_numbers)
{
    CHECK_STR(sel("$[?(@.x > 1)]", NUMS), "[{\"x\":2},{\"x\":2.5}]");
    CHECK_STR(sel("$[?(@.x >= 2)].x", NUMS), "[2,2.5]");
    CHECK_STR(sel("$[?(@.x < 1)].x", NUMS), "[0]");
    CHECK_STR(sel("$[?(@.x <= 1)].x", NUMS), "[0,1]");
    CHECK_STR(sel("$[?(@.x == 2)].x", NUMS), "[2]");
    CHECK_STR(sel("$[?(@.x == 2.0)].x", NUMS), "[2]");
    CHECK_STR(sel("$[?(@.x == 2.5)].x", NUMS), "[2.5]");
    CHECK_STR(sel("$[?(@.x == 25e-1)].x", NUMS), "[2.5]");
    CHECK_STR(sel("$[?(@.x > -1.5E0)].x", NUMS), "[0,1,2,2.5]");
    /* A missing member is unequal to everything, so != holds. */
    CHECK_STR(sel("$[?(@.x != 2)]", NUMS),
              "[{\"x\":0},{\"x\":1},{\"x\":2.5},{\"x\":\"2\"},{\"y\":1},{\"x\":null},"
              "{\"x\":false},{\"x\":[1]}]");
    CHECK_STR(sel("$[?(@.x>1)].x", NUMS), "[2,2.5]");
    CHECK_STR(sel("$[?(1 < @.x)].x", NUMS), "[2,2.5]");
}

TEST(filter_comparisons_with_strings_and_constants)
{
    const char *in = "[{\"s\":\"apple\"},{\"s\":\"banana\"},{\"s\":\"b\"},{\"s\":\"\"},"
                     "{\"s\":\"it's\"},{\"s\":2}]";

    CHECK_STR(sel("$[?(@.s == 'b')].s", in), "[\"b\"]");
    CHECK_STR(sel("$[?(@.s == \"b\")].s", in), "[\"b\"]");
    CHECK_STR(sel("$[?(@.s > 'b')].s", in), "[\"banana\",\"it's\"]");
    CHECK_STR(sel("$[?(@.s >= 'b')].s", in), "[\"banana\",\"b\",\"it's\"]");
    CHECK_STR(sel("$[?(@.s < 'b')].s", in), "[\"apple\",\"\"]");
    CHECK_STR(sel("$[?(@.s == '')].s", in), "[\"\"]");
    CHECK_STR(sel("$[?(@.s == 'it\\'s')].s", in), "[\"it's\"]");
    /* No conversion between numbers and strings. */
    CHECK_STR(sel("$[?(@.x == '2')].x", NUMS), "[\"2\"]");
    CHECK_STR(sel("$[?(@.s == 2)].s", in), "[2]");
    CHECK_STR(sel("$[?(@.s > 1)].s", in), "[2]");
    CHECK_STR(sel("$[?(@.x == null)]", NUMS), "[{\"x\":null}]");
    CHECK_STR(sel("$[?(@.x == false)]", NUMS), "[{\"x\":false}]");
    CHECK_STR(sel("$[?(@.b == true)].n", "[{\"b\":true,\"n\":1},{\"b\":1,\"n\":2}]"), "[1]");
    CHECK_STR(sel("$[?(@.x < null)]", NUMS), "[]");
}

TEST(filter_existence_and_logic)
{
    /* Existence: present at all, whatever the value. */
    CHECK_STR(sel("$[?(@.x)]", "[{\"x\":null},{\"x\":false},{\"y\":1},{\"x\":0}]"),
              "[{\"x\":null},{\"x\":false},{\"x\":0}]");
    CHECK_STR(sel("$[?(!@.x)]", "[{\"x\":null},{\"y\":1}]"), "[{\"y\":1}]");
    CHECK_STR(sel("$.store.book[?(@.isbn)].author", STORE), "[\"Melville\",\"Tolkien\"]");
    CHECK_STR(sel("$[?(@.x > 0 && @.x < 2.5)].x", NUMS), "[1,2]");
    CHECK_STR(sel("$[?(@.x == 0 || @.y == 1)]", NUMS), "[{\"x\":0},{\"y\":1}]");
    /* && binds tighter than ||. */
    CHECK_STR(sel("$[?(@.x == 0 || @.x > 1 && @.x < 2.5)].x", NUMS), "[0,2]");
    CHECK_STR(sel("$[?((@.x == 0 || @.x > 1) && @.x < 2.5)].x", NUMS), "[0,2]");
    CHECK_STR(sel("$[?(@.x == 1 || (@.x > 1 && @.x != 2))].x", NUMS), "[1,2.5]");
    CHECK_STR(sel("$[?(!(@.x >= 1))].x", NUMS), "[0,\"2\",null,false,[1]]");
    CHECK_STR(sel("$[?(!!@.y)]", NUMS), "[{\"y\":1}]");
    CHECK_STR(sel("$[?(@.x && @.x != null && @.x != false)].x", NUMS), "[0,1,2,2.5,\"2\",[1]]");
    /* Without the parentheses, as RFC 9535 writes it. */
    CHECK_STR(sel("$[?@.x == 1]", NUMS), "[{\"x\":1}]");
    CHECK_STR(sel("$[?(@.x == 1)][?(@.x)]", NUMS), "[{\"x\":1}]");
}

TEST(filter_paths_current_root_and_context)
{
    const char *in = "{\"max\":2,\"items\":[{\"p\":{\"q\":[5,1]},\"n\":1},"
                     "{\"p\":{\"q\":[2]},\"n\":2},{\"p\":{},\"n\":3}],\"v\":[1,3,5]}";

    CHECK_STR(sel("$.v[?(@ > 2)]", in), "[3,5]");
    CHECK_STR(sel("$.v[?(@ == 1)]", in), "[1]");
    CHECK_STR(sel("$.v[?(@)]", in), "[1,3,5]");
    CHECK_STR(sel("$.items[?(@.p.q[0] > 4)].n", in), "[1]");
    CHECK_STR(sel("$.items[?(@['p']['q'][-1] == 1)].n", in), "[1]");
    CHECK_STR(sel("$.items[?(@.p.q)].n", in), "[1,2]");
    CHECK_STR(sel("$.items[?(@.n <= $.max)].n", in), "[1,2]");
    CHECK_STR(sel("$.items[?(@.n == $.v[1])].n", in), "[3]");
    CHECK_STR(sel("$.items[?(@.n == $.nothing)].n", in), "[]");
    CHECK_STR(
        sel_ctx("$.items[?(@.n == $$.Map.Item.Index)].n", in, "{\"Map\":{\"Item\":{\"Index\":2}}}"),
        "[2]");
    CHECK_STR(sel_ctx("$.items[?(@.n == $$.x)].n", in, NULL), "[]");
    CHECK_STR(sel_ctx("$.items[?($$)].n", in, NULL), "[1,2,3]");
    /* Structures compare deeply. */
    CHECK_STR(sel("$[?(@.a == @.b)].i",
                  "[{\"a\":[1,{\"x\":2}],\"b\":[1,{\"x\":2}],\"i\":1},"
                  "{\"a\":[1],\"b\":[2],\"i\":2},{\"a\":{},\"b\":{},\"i\":3},{\"i\":4}]"),
              "[1,3,4]");
    CHECK_STR(sel("$..book[?(@.price < $.expensive)].title", STORE), "[\"Sayings\",\"Moby\"]");
}

TEST(filter_on_an_object_tests_the_object)
{
    const char *in = "{\"o\":{\"x\":2,\"k\":\"v\"},\"s\":3}";

    CHECK_STR(sel("$.o[?(@.x == 2)]", in), "[{\"k\":\"v\",\"x\":2}]");
    CHECK_STR(sel("$.o[?(@.x == 3)]", in), "[]");
    CHECK_STR(sel("$.o[?(@.x)].k", in), "[\"v\"]");
    CHECK_STR(sel("$.s[?(@ == 3)]", in), "[]");
    /* After "..": every object at or under the node that passes. */
    CHECK_STR(sel("$..[?(@.price > 19)].price", STORE), "[22.99,19.95]");
    CHECK_STR(sel("$..[?(@.color)].color", STORE), "[\"red\"]");
    CHECK_STR(sel("$..[?(@.expensive)].expensive", STORE), "[10]");
    CHECK_STR(sel("$..[?(@ > 1)]", "[2,[3]]"), "[]");
}

/* ---- put ----------------------------------------------------------------- */

TEST(put_replaces_the_root)
{
    struct flow_path *p = NULL;
    json_t *root = load("{\"a\":1}"), *value = load("[1,2]"), *old = root;

    json_incref(old);
    CHECK_INT(flow_path_parse("$", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, value, &d), 0);
    CHECK(root == value);
    CHECK_INT(value->refcount, 2);
    CHECK_INT(old->refcount, 1);
    CHECK_STR(dump(old), "{\"a\":1}");
    /* Putting the root in place of itself. */
    CHECK_INT(flow_path_put(p, &root, root, &d), 0);
    CHECK(root == value);
    CHECK_INT(value->refcount, 2);
    json_decref(root);
    json_decref(value);
    json_decref(old);
    flow_path_free(p);
    CHECK_STR(put("$", "{}", "\"s\""), "\"s\"");
}

TEST(put_sets_and_creates)
{
    CHECK_STR(put("$.r", "{\"a\":1}", "{\"ok\":true}"), "{\"a\":1,\"r\":{\"ok\":true}}");
    CHECK_STR(put("$.a", "{\"a\":1,\"b\":2}", "3"), "{\"a\":3,\"b\":2}");
    CHECK_STR(put("$.a.b.c", "{\"x\":0}", "1"), "{\"a\":{\"b\":{\"c\":1}},\"x\":0}");
    CHECK_STR(put("$.a.b.c", "{\"a\":{\"k\":0}}", "1"), "{\"a\":{\"b\":{\"c\":1},\"k\":0}}");
    CHECK_STR(put("$['x y']['z']", "{}", "null"), "{\"x y\":{\"z\":null}}");
    CHECK_STR(put("$.a[1]", "{\"a\":[0,1,2]}", "\"one\""), "{\"a\":[0,\"one\",2]}");
    CHECK_STR(put("$.a[1].b", "{\"a\":[0,{\"c\":1}]}", "2"), "{\"a\":[0,{\"b\":2,\"c\":1}]}");
    CHECK_STR(put("$.a[0].n.m", "{\"a\":[{}]}", "2"), "{\"a\":[{\"n\":{\"m\":2}}]}");
    CHECK_STR(put("$[0]", "[1,2]", "9"), "[9,2]");
    CHECK_STR(put("$[1][0]", "[1,[2]]", "9"), "[1,[9]]");
    CHECK_STR(put("$['nul\\u0000']", "{}", "1"), "{\"nul\\u0000\":1}");
}

TEST(put_failures_change_nothing)
{
    CHECK_STR(put("$.a", "[1]", "1"), "ERR");
    CHECK_STR(d.msg, "$.a: $ is an array, not an object");
    CHECK_STR(put("$.a", "\"s\"", "1"), "ERR");
    CHECK_STR(d.msg, "$.a: $ is a string, not an object");
    CHECK_STR(put("$.a.b", "{\"a\":\"str\"}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a.b: $.a is a string, not an object");
    CHECK_STR(put("$.a.b.c", "{\"a\":{\"b\":7}}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a.b.c: $.a.b is a number, not an object");
    CHECK_STR(put("$.a[2]", "{\"a\":[0,1]}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a[2]: the array at $.a has 2 items");
    CHECK_STR(put("$.a[0]", "{\"a\":{}}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a[0]: $.a is an object, not an array");
    CHECK_STR(put("$.a[5].b", "{\"a\":[]}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a[5].b: the array at $.a has 0 items");
    /* A missing name may be created, but not for an index after it. */
    CHECK_STR(put("$.a.b[0]", "{\"a\":{}}", "1"), "ERR");
    CHECK_STR(d.msg, "$.a.b[0]: $.a.b does not exist, and an array cannot be made for an index");
    CHECK_STR(put("$.x.y.z[0].w", "{}", "1"), "ERR");
    CHECK_STR(d.msg,
              "$.x.y.z[0].w: $.x.y.z does not exist, and an array cannot be made for an index");
}

TEST(put_refuses_paths_it_cannot_write)
{
    struct flow_path *p = parse("$.a[*]"), *q = parse("$$.x"), *n = parse("$.a");
    json_t *root = load("{\"a\":[1]}"), *v = json_integer(2), *null_root = NULL;

    sl_diag_init(&d);
    CHECK_INT(flow_path_put(p, &root, v, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "'$.a[*]' is not a reference path: '[*]' at column 4 selects several nodes");
    sl_diag_init(&d);
    CHECK_INT(flow_path_put(q, &root, v, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "'$$.x' cannot be written: it is in the context object");
    sl_diag_init(&d);
    CHECK_INT(flow_path_put(n, &null_root, v, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "$.a: $ is null, not an object");
    CHECK(null_root == NULL);
    CHECK_STR(dump(root), "{\"a\":[1]}");
    CHECK_INT(v->refcount, 1);
    json_decref(root);
    json_decref(v);
    flow_path_free(p);
    flow_path_free(q);
    flow_path_free(n);
}

TEST(put_copies_shared_containers_before_writing)
{
    struct flow_path *p = NULL;
    json_t *shared = load("{\"b\":{\"c\":1},\"k\":[1,{\"z\":0}]}");
    json_t *root = json_object(), *other = json_object(), *v = json_string("new");
    json_t *b = json_object_get(shared, "b"), *k = json_object_get(shared, "k");

    /* Two documents hold the same subtree, and so does a local. */
    json_object_set(root, "a", shared);
    json_object_set(other, "a", shared);
    CHECK_INT(flow_path_parse("$.a.b.d", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, v, &d), 0);
    CHECK_STR(dump(root), "{\"a\":{\"b\":{\"c\":1,\"d\":\"new\"},\"k\":[1,{\"z\":0}]}}");
    CHECK_STR(dump(other), "{\"a\":{\"b\":{\"c\":1},\"k\":[1,{\"z\":0}]}}");
    CHECK_STR(dump(shared), "{\"b\":{\"c\":1},\"k\":[1,{\"z\":0}]}");
    CHECK(json_object_get(root, "a") != shared);
    CHECK(json_object_get(json_object_get(root, "a"), "b") != b);
    /* What was not on the way stays shared. */
    CHECK(json_object_get(json_object_get(root, "a"), "k") == k);
    flow_path_free(p);

    /* Through an array element. */
    CHECK_INT(flow_path_parse("$.a.k[1].z", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, v, &d), 0);
    CHECK_STR(dump(root), "{\"a\":{\"b\":{\"c\":1,\"d\":\"new\"},\"k\":[1,{\"z\":\"new\"}]}}");
    CHECK_STR(dump(shared), "{\"b\":{\"c\":1},\"k\":[1,{\"z\":0}]}");
    CHECK(json_object_get(json_object_get(root, "a"), "k") != k);
    flow_path_free(p);

    /* An unshared tree is changed in place. */
    json_t *a = json_object_get(root, "a");
    CHECK_INT(flow_path_parse("$.a.e", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, v, &d), 0);
    CHECK(json_object_get(root, "a") == a);
    flow_path_free(p);

    json_decref(root);
    json_decref(other);
    json_decref(shared);
    json_decref(v);
}

TEST(put_copies_a_shared_root)
{
    struct flow_path *p = NULL;
    json_t *root = load("{\"x\":{\"y\":1}}"), *held = root, *v = json_true();

    json_incref(held);
    CHECK_INT(flow_path_parse("$.x.z", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, v, &d), 0);
    CHECK(root != held);
    CHECK_INT(held->refcount, 1);
    CHECK_STR(dump(held), "{\"x\":{\"y\":1}}");
    CHECK_STR(dump(root), "{\"x\":{\"y\":1,\"z\":true}}");
    json_decref(root);
    json_decref(held);
    flow_path_free(p);
}

TEST(put_the_input_into_itself)
{
    struct flow_path *p = NULL, *q = NULL;
    json_t *root = load("{\"a\":{\"b\":1}}"), *a;
    char *s;

    /* A Pass state without Result: the input is the result, put at $.copy. */
    CHECK_INT(flow_path_parse("$.copy", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, root, &d), 0);
    s = json_dumps(root, DUMP_FLAGS);
    CHECK_STR(s, "{\"a\":{\"b\":1},\"copy\":{\"a\":{\"b\":1}}}");
    free(s);
    /* The same with a borrowed intermediate as the value. */
    a = json_object_get(root, "a");
    CHECK_INT(flow_path_parse("$.a.c", true, &q, &d), 0);
    CHECK_INT(flow_path_put(q, &root, a, &d), 0);
    s = json_dumps(root, DUMP_FLAGS);
    CHECK_STR(s, "{\"a\":{\"b\":1,\"c\":{\"b\":1}},\"copy\":{\"a\":{\"b\":1}}}");
    free(s);
    json_decref(root);
    flow_path_free(p);
    flow_path_free(q);

    /* Through objects the put creates: the value is the input as it was
     * (found by the fuzzer). */
    root = load("{\"a\":1}");
    CHECK_INT(flow_path_parse("$.new.deeper", true, &p, &d), 0);
    CHECK_INT(flow_path_put(p, &root, root, &d), 0);
    CHECK_STR(dump(root), "{\"a\":1,\"new\":{\"deeper\":{\"a\":1}}}");
    json_decref(root);
    /* A shared input is copied instead, and needs no deep copy. */
    root = load("{\"a\":{\"b\":1}}");
    a = json_incref(root);
    CHECK_INT(flow_path_put(p, &root, a, &d), 0);
    CHECK_STR(dump(root), "{\"a\":{\"b\":1},\"new\":{\"deeper\":{\"a\":{\"b\":1}}}}");
    CHECK_STR(dump(a), "{\"a\":{\"b\":1}}");
    CHECK(json_object_get(json_object_get(root, "new"), "deeper") == a);
    json_decref(root);
    json_decref(a);
    flow_path_free(p);
}

TEST(put_then_select_round_trip)
{
    const char *paths[] = {"$.a", "$.x.b.c", "$['odd key'].x", "$.list[1]", "$.list[0].n"};
    struct flow_path *p;
    json_t *root = load("{\"list\":[{},2]}"), *out;
    struct flow_roots r;

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        json_t *v = json_integer((json_int_t)i);

        p = parse(paths[i]);
        CHECK_INT(flow_path_put(p, &root, v, &d), 0);
        r = (struct flow_roots){root, NULL};
        CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
        CHECK(out == v);
        json_decref(out);
        json_decref(v);
        flow_path_free(p);
    }
    CHECK_STR(dump(root), "{\"a\":0,\"list\":[{\"n\":4},3],\"odd key\":{\"x\":2},"
                          "\"x\":{\"b\":{\"c\":1}}}");
    json_decref(root);
}

/* ---- size and speed ------------------------------------------------------ */

TEST(long_paths_and_deep_documents)
{
    size_t steps = 2048, n = 1;
    char *path = sl_malloc(steps * 2 + 16);
    json_t *root = json_object(), *j = root, *out;
    struct flow_path *p;
    struct flow_roots r;

    path[0] = '$';
    for (size_t i = 0; i < steps; i++) {
        path[n++] = '.';
        path[n++] = 'a';
    }
    path[n] = '\0';
    /* A chain as deep as jansson reads. */
    for (size_t i = 0; i + 1 < steps; i++) {
        json_t *k = json_object();

        json_object_set_new(j, "a", k);
        j = k;
    }
    json_object_set_new(j, "a", json_integer(7));
    p = parse(path);
    CHECK(flow_path_is_reference(p));
    r = (struct flow_roots){root, NULL};
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK_STR(dump(out), "7");
    json_decref(out);
    flow_path_free(p);

    /* One step more is refused, counting the paths in filters too. */
    memcpy(path + n, ".b", 3);
    refused(path, false, "is not a valid path: it has more than 2048 steps (column 4098)");
    CHECK(strlen(d.msg) < 300);
    /* The filter and its path's 2048 steps. */
    n = (size_t)snprintf(path, steps * 2 + 16, "$[?(@");
    for (size_t i = 0; i < steps; i++) {
        path[n++] = '.';
        path[n++] = 'a';
    }
    memcpy(path + n, ")]", 3);
    refused(path, false, "more than 2048 steps (column 4100)");

    /* Descent walks with its own stack, not the C one. */
    p = parse("$..a");
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK_INT(json_array_size(out), steps);
    json_decref(out);
    flow_path_free(p);

    /* A missing step far along: the words are cut short. */
    n = 1;
    for (size_t i = 0; i < 2000; i++) {
        path[n++] = '.';
        path[n++] = 'b';
    }
    path[n] = '\0';
    p = parse(path);
    sl_diag_init(&d);
    CHECK_INT(flow_path_select(p, &r, &out, &d), SL_ERR_NOTFOUND);
    CHECK_HAS(d.msg, "...: 'b' is not in the object at $");
    CHECK(strlen(d.msg) < 300);
    flow_path_free(p);
    free(path);
    json_decref(root);
}

TEST(reference_select_is_fast)
{
    struct flow_path *p = parse("$.order.lines[1].sku");
    json_t *in = load("{\"order\":{\"id\":1,\"lines\":[{\"sku\":\"a\"},{\"sku\":\"b\"}]}}");
    struct flow_roots r = {in, NULL};
    struct timespec t0, t1;
    json_t *out;
    double secs;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 200000; i++) {
        if (flow_path_select(p, &r, &out, NULL) != 0)
            CHECK(!"select failed");
        json_decref(out);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* 200k selects, generously bounded even under the sanitizers. */
    CHECK(secs < 2.0);
    json_decref(in);
    flow_path_free(p);
}

TEST(indefinite_select_has_a_work_limit)
{
    json_t *root = json_array(), *j = root, *big = json_array(), *out = NULL;
    struct flow_roots r = {root, NULL};
    struct flow_path *p;
    char filter[1024];
    size_t n;

    /* Arrays nested 3000 deep: "$..*" reaches each once, "$..*..*"
     * reaches each under each, about 4.5 million. */
    for (int i = 0; i < 3000; i++) {
        json_t *k = json_array();

        json_array_append_new(j, k);
        j = k;
    }
    p = parse("$..*");
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK_INT(json_array_size(out), 3000);
    json_decref(out);
    flow_path_free(p);
    p = parse("$..*..*");
    sl_diag_init(&d);
    out = NULL;
    CHECK_INT(flow_path_select(p, &r, &out, &d), SL_ERR_LIMIT);
    CHECK(out == NULL);
    CHECK_STR(d.msg, "selecting '$..*..*' would visit more than 4194304 nodes");
    CHECK_HAS(d.detail, "every further '..' multiplies them");
    flow_path_free(p);
    for (j = root; json_array_size(j) > 0;) {
        json_t *k = json_incref(json_array_get(j, 0));

        json_decref(j);
        j = k;
    }
    json_decref(j);

    /* A long filter over a long array: each test costs its terms. */
    for (int i = 0; i < 100000; i++)
        json_array_append_new(big, json_integer(i));
    n = (size_t)snprintf(filter, sizeof(filter), "$[?(@ < 0");
    for (int i = 0; i < 50; i++)
        n += (size_t)snprintf(filter + n, sizeof(filter) - n, " || @ == %d", i);
    snprintf(filter + n, sizeof(filter) - n, ")]");
    p = parse(filter);
    r.input = big;
    sl_diag_init(&d);
    CHECK_INT(flow_path_select(p, &r, &out, &d), SL_ERR_LIMIT);
    /* The same over 1000 is fine. */
    json_array_clear(big);
    for (int i = 0; i < 1000; i++)
        json_array_append_new(big, json_integer(i));
    CHECK_INT(flow_path_select(p, &r, &out, &d), 0);
    CHECK_INT(json_array_size(out), 50);
    json_decref(out);
    flow_path_free(p);
    json_decref(big);
}
