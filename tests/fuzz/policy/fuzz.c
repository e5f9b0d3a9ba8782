/*
 * policy/fuzz.c - libFuzzer target for permission policies.
 *
 * The input is parsed with policy_parse() against a fixed list of known
 * actions.  A refusal must be SL_ERR_INPUT with words, the file's name and
 * a line within the input.  A policy that parses is evaluated for every
 * known action on several resources (and none): the answer is one of the
 * three effects, and the same twice.
 *
 * The input also drives the wildcard matcher: split at its first NUL (or
 * in half), the two parts are pattern and text, and policy_wildcard_match()
 * must agree with a plain dynamic-programming matcher, with and without
 * case.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "server/policy.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known[] = {
    "kinesis:PutRecord",     "kinesis:PutRecords",      "kinesis:GetRecords",
    "kinesis:ListStreams",   "firehose:PutRecordBatch", "firehose:PutRecord",
    "states:StartExecution", "sluice:GetMetrics",       NULL,
};

static const char *const resources[] = {
    "arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
    "arn:aws:kinesis:us-east-1:000000000000:stream/Clicks",
    "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs",
    "arn:aws:states:us-east-1:000000000000:stateMachine:orders",
    "*",
    NULL,
};

/* The reference: dp[i][j] = pattern[i..] matches text[j..]. */
static bool
reference_match(const char *p, size_t np, const char *t, size_t nt, bool nocase)
{
    static bool dp[65][65];

    for (size_t i = np + 1; i-- > 0;) {
        for (size_t j = nt + 1; j-- > 0;) {
            bool m;

            if (i == np) {
                m = j == nt;
            } else if (p[i] == '*') {
                m = dp[i + 1][j] || (j < nt && dp[i][j + 1]);
            } else {
                char a = p[i], b = j < nt ? t[j] : 0;

                if (nocase && a >= 'A' && a <= 'Z')
                    a = (char)(a - 'A' + 'a');
                if (nocase && b >= 'A' && b <= 'Z')
                    b = (char)(b - 'A' + 'a');
                m = j < nt && (p[i] == '?' || a == b) && dp[i + 1][j + 1];
            }
            dp[i][j] = m;
        }
    }
    return dp[0][0];
}

static void
check_wildcards(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t np = nul ? (size_t)(nul - data) : size / 2;
    size_t nt = nul ? size - np - 1 : size - np;
    const char *t = (const char *)data + (nul ? np + 1 : np);
    char pat[65], text[65];

    if (np > 64 || nt > 64 || memchr(t, 0, nt) != NULL)
        return;
    memcpy(pat, data, np);
    pat[np] = '\0';
    memcpy(text, t, nt);
    text[nt] = '\0';
    for (int nocase = 0; nocase < 2; nocase++)
        FZ_ASSERT(policy_wildcard_match(pat, text, nocase) ==
              reference_match(pat, np, text, nt, nocase));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy *p = NULL;
    struct sl_diag d;
    char msg[4096];
    size_t lines = 1;
    int rc;

    check_wildcards(data, size);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    sl_diag_init(&d);
    rc = policy_parse("policy.json", (const char *)data, size, known, &p, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT);
        FZ_ASSERT(d.code == rc && d.msg[0] != '\0');
        FZ_ASSERT(strcmp(d.where, "policy.json") == 0);
        FZ_ASSERT(d.line >= 1 && (size_t)d.line <= lines);
        FZ_ASSERT(p == NULL);
        sl_diag_format(&d, msg, sizeof(msg));
        return 0;
    }
    FZ_ASSERT(p != NULL && d.code == 0);
    FZ_ASSERT(policy_statements(p) >= 1);
    for (size_t a = 0; known[a] != NULL; a++) {
        for (size_t r = 0; resources[r] != NULL; r++) {
            enum policy_effect e = policy_evaluate(p, known[a], resources[r]);

            FZ_ASSERT(e == POLICY_IMPLICIT_DENY || e == POLICY_ALLOW || e == POLICY_EXPLICIT_DENY);
            FZ_ASSERT(policy_evaluate(p, known[a], resources[r]) == e);
        }
        /* No resource is the same as "*". */
        FZ_ASSERT(policy_evaluate(p, known[a], NULL) == policy_evaluate(p, known[a], "*"));
    }
    policy_free(p);
    return 0;
}
