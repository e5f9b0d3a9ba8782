/*
 * policy.h - permission policies of access keys: a subset of IAM identity
 * policies, parsed strictly and evaluated as IAM evaluates them.
 *
 * A policy is a JSON document:
 *
 *     {
 *       "Version": "2012-10-17",                     optional; or "2008-10-17"
 *       "Statement": [                               an object or a list of them
 *         {
 *           "Sid": "PutClicks",                      optional, [A-Za-z0-9]*, unique
 *           "Effect": "Allow",                       "Allow" or "Deny"
 *           "Action": ["kinesis:PutRecord*"],        or NotAction; a string or a list
 *           "Resource": "arn:aws:kinesis:*:*:stream/clicks"   or NotResource
 *         }
 *       ]
 *     }
 *
 * "Id" is accepted at the top as IAM does; Principal, NotPrincipal and
 * Condition are refused as not supported, and any other element as unknown.
 * Element names and the Effect values are case-sensitive, as in IAM.
 *
 * Actions are "*" or "service:Name", with * (any run of characters) and ?
 * (one character) after the colon, matched case-insensitively.  Each must
 * match at least one of the known actions the caller passes in (from
 * server_actions()), so a typo is an error at load time, not a key that
 * silently cannot do what was meant.
 *
 * Resources are "*" or ARNs ("arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"),
 * with * and ? matched case-sensitively over the whole ARN: a * may cross
 * ':' and '/' (IAM lets a * that ends a segment run past colons).  The
 * service segment may not hold a wildcard.
 *
 * Evaluation: every statement whose action and resource match the request
 * takes part; an explicit Deny among them wins, else an Allow allows, else
 * the request is denied implicitly.
 *
 * Wildcard matching is linear in practice and O(pattern * text) at worst:
 * it backtracks only to the last *, never recursively.
 *
 * A parsed policy is immutable: evaluate it from any number of threads.
 */
#ifndef SL_POLICY_H
#define SL_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

/* A policy file larger than this is refused (IAM's own limit is 6 KB). */
#define POLICY_MAX_BYTES (256 * 1024)

enum policy_effect {
    POLICY_IMPLICIT_DENY, /* no statement allows it */
    POLICY_ALLOW,         /* a statement allows it and none denies it */
    POLICY_EXPLICIT_DENY, /* a Deny statement matches */
};

struct policy;

/*
 * Parse the policy text[0..len) of the file named by path (used in
 * messages).  known_actions is a NULL-terminated list such as
 * server_actions(); NULL accepts any well-formed action.  On success *out
 * is a new policy the caller frees with policy_free().  A document that is
 * not strict JSON, an unsupported or unknown element, a missing Effect,
 * Action or Resource, a malformed or unknown action, or a resource that is
 * not "*" or an ARN: SL_ERR_INPUT with d naming path and line, and *out
 * untouched.
 */
int policy_parse(const char *path, const char *text, size_t len, const char *const *known_actions,
                 struct policy **out, struct sl_diag *d);

/* policy_parse() of the file at path (at most POLICY_MAX_BYTES). */
int policy_load(const char *path, const char *const *known_actions, struct policy **out,
                struct sl_diag *d);

/*
 * What the policy says to action (e.g. "kinesis:PutRecord") on resource
 * (an ARN; NULL or "*" for an action that names no resource, which only
 * statements with Resource "*", or a NotResource, cover).
 */
enum policy_effect policy_evaluate(const struct policy *p, const char *action,
                                   const char *resource);

/* Number of statements (for listings and tests). */
size_t policy_statements(const struct policy *p);

/* "allow", "deny" or "implicit deny", for messages. */
const char *policy_effect_name(enum policy_effect e);

void policy_free(struct policy *p);

/*
 * Whether text matches pattern, where * matches any run of characters and
 * ? any one; ASCII case is ignored if nocase.  Never exponential: it
 * backtracks only to the most recent *.
 */
bool policy_wildcard_match(const char *pattern, const char *text, bool nocase);

#endif
