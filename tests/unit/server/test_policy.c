/*
 * test_policy.c - permission policies: the grammar with its error lines,
 * wildcards, and IAM's evaluation order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "server/policy.h"

#include "test.h"

/* A stand-in for server_actions(), with an API the server has not yet. */
static const char *const known[] = {
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListStreams",
    "kinesis:DescribeStream",
    "firehose:PutRecord",
    "firehose:PutRecordBatch",
    "states:StartExecution",
    "sluice:GetMetrics",
    NULL,
};

#define CLICKS "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"
#define ORDERS "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
#define FH "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs"

static struct sl_diag diag;

/* Parse text; NULL and the words in diag if it is refused. */
static struct policy *
parse(const char *text)
{
    struct policy *p = NULL;

    sl_diag_init(&diag);
    if (policy_parse("p.json", text, strlen(text), known, &p, &diag) < 0)
        return NULL;
    return p;
}

/* Expect text to be refused at line with words containing want. */
static void
refused(const char *text, int line, const char *want, int at)
{
    struct policy *p = parse(text);
    char msg[4096];

    if (p != NULL) {
        policy_free(p);
        snprintf(test_why, sizeof(test_why), "test_policy.c:%d: accepted: %s", at, text);
        longjmp(test_jmp, 1);
    }
    sl_diag_format(&diag, msg, sizeof(msg));
    if (diag.code != SL_ERR_INPUT || diag.line != line || strstr(msg, want) == NULL ||
        strcmp(diag.where, "p.json") != 0) {
        snprintf(test_why, sizeof(test_why),
                 "test_policy.c:%d: got \"%s\" (line %lld), want "
                 "line %d and \"%s\"",
                 at, msg, (long long)diag.line, line, want);
        longjmp(test_jmp, 1);
    }
}
#define REFUSED(text, line, want) refused(text, line, want, __LINE__)

static enum policy_effect
eval1(const char *policy, const char *action, const char *resource)
{
    struct policy *p = parse(policy);
    enum policy_effect e;

    if (p == NULL) {
        snprintf(test_why, sizeof(test_why), "policy refused: %s", diag.msg);
        longjmp(test_jmp, 1);
    }
    e = policy_evaluate(p, action, resource);
    policy_free(p);
    return e;
}

#define ALLOW_PUT_CLICKS                                                                           \
    "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": "           \
    "\"kinesis:PutRecord\", \"Resource\": \"" CLICKS "\"}]}"

TEST(allow_and_implicit_deny)
{
    CHECK_INT(eval1(ALLOW_PUT_CLICKS, "kinesis:PutRecord", CLICKS), POLICY_ALLOW);
    CHECK_INT(eval1(ALLOW_PUT_CLICKS, "kinesis:PutRecords", CLICKS), POLICY_IMPLICIT_DENY);
    CHECK_INT(eval1(ALLOW_PUT_CLICKS, "kinesis:PutRecord", ORDERS), POLICY_IMPLICIT_DENY);
    CHECK_INT(eval1(ALLOW_PUT_CLICKS, "kinesis:PutRecord", NULL), POLICY_IMPLICIT_DENY);
    CHECK_STR(policy_effect_name(POLICY_ALLOW), "allow");
    CHECK_STR(policy_effect_name(POLICY_EXPLICIT_DENY), "deny");
    CHECK_STR(policy_effect_name(POLICY_IMPLICIT_DENY), "implicit deny");
}

TEST(deny_statement)
{
    const char *p = "{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"kinesis:*\", "
                    "\"Resource\": \"*\"}}";

    CHECK_INT(eval1(p, "kinesis:PutRecord", CLICKS), POLICY_EXPLICIT_DENY);
    CHECK_INT(eval1(p, "firehose:PutRecord", FH), POLICY_IMPLICIT_DENY);
}

TEST(action_wildcards)
{
    struct policy *p;

    p = parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kinesis:Put*\", "
              "\"Resource\": \"*\"}]}");
    CHECK(p != NULL);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecord", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "kinesis:GetRecords", CLICKS), POLICY_IMPLICIT_DENY);
    CHECK_INT(policy_evaluate(p, "firehose:PutRecord", FH), POLICY_IMPLICIT_DENY);
    policy_free(p);

    p = parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kinesis:*Records\", "
              "\"Resource\": \"*\"}]}");
    CHECK(p != NULL);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "kinesis:GetRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecord", CLICKS), POLICY_IMPLICIT_DENY);
    policy_free(p);

    p = parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord?\", "
              "\"Resource\": \"*\"}]}");
    CHECK(p != NULL);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecord", CLICKS), POLICY_IMPLICIT_DENY);
    policy_free(p);

    p = parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", "
              "\"Resource\": \"*\"}]}");
    CHECK(p != NULL);
    for (int i = 0; known[i] != NULL; i++)
        CHECK_INT(policy_evaluate(p, known[i], CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "sluice:GetMetrics", NULL), POLICY_ALLOW);
    policy_free(p);
}

TEST(actions_ignore_case_resources_do_not)
{
    const char *p = "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": "
                    "[\"KINESIS:putrecord\", \"Firehose:PUTRECORDBATCH\"], \"Resource\": "
                    "[\"arn:aws:kinesis:*:*:stream/Clicks\", \"" FH "\"]}]}";

    CHECK_INT(eval1(p, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:000000000000:stream/Clicks"),
              POLICY_ALLOW);
    CHECK_INT(eval1(p, "kinesis:PutRecord", CLICKS), POLICY_IMPLICIT_DENY);
    CHECK_INT(eval1(p, "firehose:PutRecordBatch", FH), POLICY_ALLOW);
    CHECK_INT(eval1(p, "firehose:PutRecordBatch",
                    "arn:aws:firehose:us-east-1:000000000000:deliverystream/LOGS"),
              POLICY_IMPLICIT_DENY);
}

TEST(resource_wildcards)
{
    struct policy *p =
        parse("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kinesis:*\", \"Resource\": "
              "[\"arn:aws:kinesis:us-east-?:*:stream/click*\", \"arn:aws:kinesis:*\"]},"
              "{\"Effect\": \"Allow\", \"Action\": \"firehose:*\", \"Resource\": "
              "\"arn:aws:firehose:*:*:deliverystream/l?gs\"}]}");

    CHECK(p != NULL);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecord", CLICKS), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "firehose:PutRecord", FH), POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "firehose:PutRecord",
                              "arn:aws:firehose:us-east-1:000000000000:deliverystream/lugs"),
              POLICY_ALLOW);
    CHECK_INT(policy_evaluate(p, "firehose:PutRecord",
                              "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs2"),
              POLICY_IMPLICIT_DENY);
    CHECK_INT(policy_statements(p), 2);
    policy_free(p);
}

TEST(explicit_deny_wins_in_any_order)
{
    const char *allow_first =
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"},"
        "{\"Effect\": \"Deny\", \"Action\": \"kinesis:Put*\", \"Resource\": \"" ORDERS "\"}]}";
    const char *deny_first =
        "{\"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"kinesis:Put*\", \"Resource\": "
        "\"" ORDERS "\"},{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}";

    CHECK_INT(eval1(allow_first, "kinesis:PutRecords", ORDERS), POLICY_EXPLICIT_DENY);
    CHECK_INT(eval1(deny_first, "kinesis:PutRecords", ORDERS), POLICY_EXPLICIT_DENY);
    CHECK_INT(eval1(allow_first, "kinesis:PutRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(eval1(deny_first, "kinesis:GetRecords", ORDERS), POLICY_ALLOW);
}

TEST(not_action_and_not_resource)
{
    /* Everything but reading, on every stream but orders. */
    const char *p = "{\"Statement\": [{\"Effect\": \"Allow\", \"NotAction\": "
                    "[\"kinesis:Get*\"], \"NotResource\": \"" ORDERS "\"}]}";
    /* A deny of everything but metrics. */
    const char *q = "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": "
                    "\"*\"}, {\"Effect\": \"Deny\", \"NotAction\": \"sluice:GetMetrics\", "
                    "\"Resource\": \"*\"}]}";

    CHECK_INT(eval1(p, "kinesis:PutRecord", CLICKS), POLICY_ALLOW);
    CHECK_INT(eval1(p, "kinesis:GetRecords", CLICKS), POLICY_IMPLICIT_DENY);
    CHECK_INT(eval1(p, "kinesis:PutRecord", ORDERS), POLICY_IMPLICIT_DENY);
    /* An action that names no resource is "*", which is not orders. */
    CHECK_INT(eval1(p, "kinesis:ListStreams", NULL), POLICY_ALLOW);
    CHECK_INT(eval1(q, "sluice:GetMetrics", NULL), POLICY_ALLOW);
    CHECK_INT(eval1(q, "kinesis:PutRecord", CLICKS), POLICY_EXPLICIT_DENY);
}

TEST(the_zones_of_the_seeds)
{
    /* A producer may put to its streams and nothing else. */
    const char *producer = "{\n"
                           "  \"Version\": \"2012-10-17\",\n"
                           "  \"Statement\": [\n"
                           "    {\"Sid\": \"Produce\", \"Effect\": \"Allow\",\n"
                           "     \"Action\": [\"kinesis:PutRecord\", \"kinesis:PutRecords\",\n"
                           "                \"firehose:PutRecord*\"],\n"
                           "     \"Resource\": [\"arn:aws:kinesis:*:*:stream/clicks\",\n"
                           "                  \"arn:aws:firehose:*:*:deliverystream/*\"]}\n"
                           "  ]\n"
                           "}\n";
    struct policy *p = parse(producer);

    CHECK(p != NULL);
    for (int i = 0; known[i] != NULL; i++) {
        bool put = strstr(known[i], ":PutRecord") != NULL;
        const char *res = strncmp(known[i], "firehose", 8) == 0 ? FH : CLICKS;

        CHECK_INT(policy_evaluate(p, known[i], res), put ? POLICY_ALLOW : POLICY_IMPLICIT_DENY);
        CHECK_INT(policy_evaluate(p, known[i], ORDERS), POLICY_IMPLICIT_DENY);
    }
    policy_free(p);
}

TEST(tabs_bom_escapes_and_quoted_keys)
{
    const char *p = "\xef\xbb\xbf{\r\n"
                    "\t\"Version\":\t\"2012-10-17\",\r\n"
                    "\t\"Statement\": [\r\n"
                    "\t\t{\r\n"
                    "\t\t\t\"Effect\": \"Al\\u006cow\",\r\n"
                    "\t\t\t\"Action\": \"kinesis:Put\\u002a\",\r\n"
                    "\t\t\t\"Resource\": \"arn:aws:kinesis:*:*:stream\\/clicks\"\r\n"
                    "\t\t}\r\n"
                    "\t]\r\n"
                    "}\r\n";

    CHECK_INT(eval1(p, "kinesis:PutRecords", CLICKS), POLICY_ALLOW);
    CHECK_INT(eval1(p, "kinesis:GetRecords", CLICKS), POLICY_IMPLICIT_DENY);
    /* A tab-indented error still names its line. */
    REFUSED("{\n\t\"Statement\": [\n\t\t{\n\t\t\t\"Effect\": \"Allow\",\n"
            "\t\t\t\"Action\": \"kinesis:PutRecrod\",\n\t\t\t\"Resource\": \"*\"\n\t\t}\n\t]\n}\n",
            5, "action \"kinesis:PutRecrod\" matches no known action");
}

TEST(json_errors_name_their_line)
{
    REFUSED("", 1, "invalid JSON: the document ends where a value was expected");
    REFUSED("{\"Statement\": [\n{\"Effect\": \"Allow\",}\n]}", 2, "trailing commas");
    REFUSED("{\"Statement\": [\n1,\n]}", 3, "trailing commas");
    REFUSED("{Statement: []}", 1, "expected a member name in double quotes");
    REFUSED("{\"Statement\":\n'x'}", 2, "strings need double quotes, not single");
    REFUSED("{\"Statement\": \n\n Allow}", 3, "expected a value");
    REFUSED("{\"Statement\": [] } x", 1, "more text after the end of the document");
    REFUSED("{\"Statement\": []", 1, "an object is not closed");
    REFUSED("{\"Statement\": [\n", 2, "the document ends where a value was expected");
    REFUSED("{\"Statement\": [1 2]}", 1, "expected ',' or ']'");
    REFUSED("{\"Statement\" []}", 1, "expected ':'");
    REFUSED("{\"a\": \"x\n\"}", 1, "a string runs past the end of its line");
    REFUSED("{\"a\": \"\\x\"}", 1, "an unknown escape");
    REFUSED("{\"a\": \"\\u12\"}", 1, "four hex digits");
    REFUSED("{\"a\": \"\\ud800\"}", 1, "high surrogate");
    REFUSED("{\"a\": \"\\udc00\"}", 1, "low surrogate");
    REFUSED("{\"a\": \"\\u0000\"}", 1, "\\u0000 is not allowed");
    REFUSED("{\"a\": \"\xff\"}", 1, "not valid UTF-8");
    REFUSED("{\"a\": 01}", 1, "expected ',' or '}'");
    REFUSED("{\"a\": 1.}", 1, "digits after its '.'");
    REFUSED("{\"a\": 1e}", 1, "digits in its exponent");
    REFUSED("{\"a\": tru}", 1, "expected a value");
    REFUSED("{\n\"Version\": \"2012-10-17\",\n\"Version\": \"2012-10-17\"}", 3,
            "member \"Version\" appears twice (first at line 2)");
    char deep[200];

    memset(deep, '[', 40);
    deep[40] = '\0';
    REFUSED(deep, 1, "nested more than 32 levels deep");
}

TEST(grammar_errors_name_their_line)
{
    REFUSED("[]", 1, "a policy must be a JSON object");
    REFUSED("{\n\"Version\": \"2012-10-18\",\n\"Statement\": []}", 2,
            "\"Version\" must be \"2012-10-17\" or \"2008-10-17\"");
    REFUSED("{\"Version\": \"2012-10-17\"}", 1, "the policy has no \"Statement\"");
    REFUSED("{\n\"Statement\": []}", 2, "\"Statement\" is an empty list");
    REFUSED("{\n\"Statement\": \"x\"}", 2, "\"Statement\" must be an object or a list");
    REFUSED("{\"Statement\": [\n\"x\"]}", 2, "a statement must be an object");
    REFUSED("{\n\"version\": \"2012-10-17\"}", 2,
            "element names are case-sensitive; write \"Version\"");
    REFUSED("{\n\"Foo\": 1}", 2,
            "unknown element \"Foo\" in the policy (accepted: Version, "
            "Id, Statement)");
    REFUSED("{\n\"Effect\": \"Allow\"}", 2, "element \"Effect\" belongs in a statement");
    REFUSED("{\"Id\": 3, \"Statement\": []}", 1, "\"Id\" must be a string");
    /* Statements: each missing or wrong element at its line. */
    REFUSED("{\"Statement\": [\n{\"Action\": \"*\", \"Resource\": \"*\"}]}", 2,
            "a statement has no \"Effect\" (accepted: \"Allow\", \"Deny\")");
    REFUSED("{\"Statement\": [{\n\"Effect\": \"allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}",
            2, "\"Effect\" must be \"Allow\" or \"Deny\", not \"allow\"");
    REFUSED("{\"Statement\": [{\n\"Effect\": true, \"Action\": \"*\", \"Resource\": \"*\"}]}", 2,
            "\"Effect\" must be \"Allow\" or \"Deny\"");
    REFUSED("{\"Statement\": [\n\n{\"Effect\": \"Allow\", \"Resource\": \"*\"}]}", 3,
            "a statement has no \"Action\" or \"NotAction\"");
    REFUSED("{\"Statement\": [\n{\"Effect\": \"Allow\", \"Action\": \"*\"}]}", 2,
            "a statement has no \"Resource\" or \"NotResource\"");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\",\n\"NotAction\": \"*\", "
            "\"Resource\": \"*\"}]}",
            2, "a statement has Action or NotAction, not both (the other is at line 1)");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"NotResource\": \"*\"}]}",
            2, "Resource or NotResource, not both");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"Principal\": \"*\"}]}",
            2, "element \"Principal\" is not supported");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"NotPrincipal\": \"*\"}]}",
            2, "element \"NotPrincipal\" is not supported");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"Condition\": {}}]}",
            2, "element \"Condition\" is not supported");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"Version\": \"2012-10-17\"}]}",
            2, "element \"Version\" belongs at the top of the policy");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"Actions\": \"*\"}]}",
            2,
            "unknown element \"Actions\" in a statement (accepted: Sid, Effect, Action, "
            "NotAction, Resource, NotResource)");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\",\n"
            "\"resource\": \"*\"}]}",
            2, "write \"Resource\"");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\",\n\"Action\": [], \"Resource\": \"*\"}]}", 2,
            "\"Action\" is an empty list");
    REFUSED(
        "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"*\",\n3], \"Resource\": \"*\"}]}",
        2, "\"Action\" must list strings, not a number");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": {}, \"Resource\": \"*\"}]}", 1,
            "\"Action\" must be a string or a list of strings, not an object");
    REFUSED("{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\",\n\"Resource\": null}]}", 2,
            "\"Resource\" must be a string or a list of strings, not null");
    /* Sids. */
    REFUSED("{\"Statement\": [{\"Sid\": \"a-b\",\n\"Effect\": \"Allow\", \"Action\": \"*\", "
            "\"Resource\": \"*\"}]}",
            1, "may hold only letters A-Z, a-z and digits 0-9");
    REFUSED("{\"Statement\": [{\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"*\", "
            "\"Resource\": \"*\"},\n{\"Sid\": \"A\", \"Effect\": \"Deny\", \"Action\": \"*\", "
            "\"Resource\": \"*\"}]}",
            2, "\"Sid\" \"A\" is used twice (first at line 1)");
    REFUSED("{\"Statement\": [{\"Sid\": 1, \"Effect\": \"Allow\", \"Action\": \"*\", "
            "\"Resource\": \"*\"}]}",
            1, "\"Sid\" must be a string");
}

TEST(action_forms)
{
#define ACTION_POLICY(a)                                                                           \
    "{\"Statement\": [{\"Effect\": \"Allow\",\n\"Action\": [\"*\",\n" a "], \"Resource\": "        \
                                                                        "\"*\"}]}"
    REFUSED(ACTION_POLICY("\"PutRecord\""), 3, "accepted forms: \"*\", \"SERVICE:Action\"");
    REFUSED(ACTION_POLICY("\"kinesis:\""), 3, "is not of the accepted forms");
    REFUSED(ACTION_POLICY("\":PutRecord\""), 3, "is not of the accepted forms");
    REFUSED(ACTION_POLICY("\"kine*:PutRecord\""), 3, "the service prefix cannot hold a wildcard");
    REFUSED(ACTION_POLICY("\"kinesis:Put Record\""), 3, "is not of the accepted forms");
    REFUSED(ACTION_POLICY("\"kinesis:Put-Record\""), 3, "is not of the accepted forms");
    REFUSED(ACTION_POLICY("\"kinesis:Delete*\""), 3,
            "action \"kinesis:Delete*\" matches no known action");
    CHECK_HAS(diag.detail, "The kinesis actions are: kinesis:PutRecord, kinesis:PutRecords, "
                           "kinesis:GetRecords");
    CHECK_HAS(diag.hint, "accepted forms");
    REFUSED(ACTION_POLICY("\"kinesys:PutRecord\""), 3, "no service has the prefix \"kinesys\"");
    CHECK_HAS(diag.detail, "kinesis, firehose, states, sluice");
    /* Known actions of a later API are whatever the caller says. */
    CHECK_INT(eval1("{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"states:Start*\", "
                    "\"Resource\": \"arn:aws:states:*:*:stateMachine:orders\"}}",
                    "states:StartExecution",
                    "arn:aws:states:us-east-1:000000000000:stateMachine:orders"),
              POLICY_ALLOW);
    /* Without a list, any well-formed action goes. */
    struct policy *p = NULL;
    const char *any = "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": \"foo:Bar\", "
                      "\"Resource\": \"*\"}}";

    CHECK(policy_parse("p.json", any, strlen(any), NULL, &p, NULL) == 0);
    CHECK_INT(policy_evaluate(p, "foo:bar", NULL), POLICY_ALLOW);
    policy_free(p);
}

TEST(resource_forms)
{
#define RESOURCE_POLICY(r)                                                                         \
    "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\",\n"                                \
    "\"Resource\": [\"*\",\n" r "]}]}"
    REFUSED(RESOURCE_POLICY("\"stream/clicks\""), 3, "is neither \"*\" nor an ARN");
    CHECK_HAS(diag.msg, "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME");
    REFUSED(RESOURCE_POLICY("\"ARN:aws:kinesis:us-east-1:0:stream/x\""), 3,
            "is neither \"*\" nor an ARN");
    REFUSED(RESOURCE_POLICY("\"arn:aws:kinesis:us-east-1:stream/x\""), 3,
            "is not a whole ARN: an ARN has six parts");
    REFUSED(RESOURCE_POLICY("\"arn:aws\""), 3, "is not a whole ARN");
    REFUSED(RESOURCE_POLICY("\"arn::kinesis:*:*:*\""), 3, "has no partition");
    REFUSED(RESOURCE_POLICY("\"arn:aws::*:*:*\""), 3, "names no service");
    REFUSED(RESOURCE_POLICY("\"arn:aws:kine*:*:*:stream/x\""), 3,
            "the service segment of an ARN cannot hold a wildcard");
    REFUSED(RESOURCE_POLICY("\"arn:aws:kinesis:*:*:stream/a b\""), 3,
            "holds a space or control character");
    CHECK_INT(eval1(RESOURCE_POLICY("\"arn:aws:s3:::lake/*\""), "kinesis:PutRecord", CLICKS),
              POLICY_ALLOW);
}

TEST(wildcard_match)
{
    CHECK(policy_wildcard_match("", "", false));
    CHECK(!policy_wildcard_match("", "a", false));
    CHECK(policy_wildcard_match("*", "", false));
    CHECK(policy_wildcard_match("a*", "a", false));
    CHECK(policy_wildcard_match("a*b*c", "aXXbYYc", false));
    CHECK(!policy_wildcard_match("a*b*c", "aXXbYYcd", false));
    CHECK(policy_wildcard_match("a*b*c", "abcbc", false));
    CHECK(policy_wildcard_match("?", "x", false));
    CHECK(!policy_wildcard_match("?", "", false));
    CHECK(!policy_wildcard_match("??", "x", false));
    CHECK(policy_wildcard_match("*?", "x", false));
    CHECK(policy_wildcard_match("a?c", "abc", false));
    CHECK(policy_wildcard_match("ABC", "abc", true));
    CHECK(!policy_wildcard_match("ABC", "abc", false));
    CHECK(policy_wildcard_match("*stream/*", "arn:aws:kinesis:r:1:stream/a/b", false));
    CHECK(policy_wildcard_match("**a**", "bab", false));
}

TEST(pathological_wildcards_stay_fast)
{
    size_t n = 20000;
    char *text = sl_malloc(n + 2), *pat = sl_malloc(2 * 40 + 2);
    struct timespec t0, t1;
    double secs;

    memset(text, 'a', n);
    text[n] = '\0';
    for (int i = 0; i < 40; i++) {
        pat[2 * i] = '*';
        pat[2 * i + 1] = 'a';
    }
    pat[80] = 'b';
    pat[81] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(!policy_wildcard_match(pat, text, false));
    CHECK(!policy_wildcard_match(pat, text, true));
    text[n] = 'b';
    text[n + 1] = '\0';
    CHECK(policy_wildcard_match(pat, text, true));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* A recursive matcher takes longer than the universe has; this takes
     * milliseconds (generous for sanitizers and a busy machine). */
    CHECK(secs < 2.0);
    free(text);
    free(pat);

    /* The same through a policy, with a long resource. */
    struct sl_buf doc;
    struct policy *p;

    sl_buf_init(&doc);
    sl_buf_adds(&doc, "{\"Statement\": {\"Effect\": \"Allow\", \"Action\": "
                      "\"kinesis:*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*Z\", \"Resource\": "
                      "\"arn:aws:kinesis:*:*:stream/");
    for (int i = 0; i < 30; i++)
        sl_buf_adds(&doc, "*a");
    sl_buf_adds(&doc, "b\"}}");
    /* That action pattern matches nothing known: refused, quickly. */
    CHECK(policy_parse("p.json", doc.data, doc.len, known, &p, NULL) == SL_ERR_INPUT);
    sl_buf_release(&doc);
}

TEST(load_from_file)
{
    char dir[] = "/tmp/sluice-policy-XXXXXX", path[256];
    struct policy *p = NULL;
    FILE *f;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/p.json", dir);
    sl_diag_init(&diag);
    CHECK(policy_load(path, known, &p, &diag) == -ENOENT);
    CHECK_HAS(diag.msg, path);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(ALLOW_PUT_CLICKS, f);
    fclose(f);
    CHECK(policy_load(path, known, &p, &diag) == 0);
    CHECK_INT(policy_evaluate(p, "kinesis:PutRecord", CLICKS), POLICY_ALLOW);
    policy_free(p);
    f = fopen(path, "w");
    fputs("{\n\"Statement\": 1}", f);
    fclose(f);
    sl_diag_init(&diag);
    CHECK(policy_load(path, known, &p, &diag) == SL_ERR_INPUT);
    CHECK_STR(diag.where, path);
    CHECK_INT(diag.line, 2);
    unlink(path);
    rmdir(dir);
}
