/*
 * policy.c - IAM-style permission policies (see policy.h).
 *
 * Three layers, low to high:
 *
 *   1. wildcard matching: * and ?, iterative, backtracking only to the
 *      last star, so "a*a*a*a*b" against "aaaa...a" stays quadratic at worst
 *      instead of exponential;
 *   2. a strict JSON reader that builds a small tree with the line of every
 *      value.  libyaml would read JSON as YAML flow style, but it also takes
 *      what JSON and IAM refuse ({Effect: Allow}, trailing commas), and a
 *      policy that IAM refuses must not be one sluice accepts;
 *   3. the policy grammar over that tree, and evaluation.
 *
 * Every error is SL_ERR_INPUT with the file and line in the diag and a
 * message naming the accepted forms.
 */
#include "server/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "core/banned.h"

/* ---- 1. wildcards -------------------------------------------------------- */

static inline unsigned char
fold(unsigned char c, bool nocase)
{
    return nocase && c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

bool
policy_wildcard_match(const char *pattern, const char *text, bool nocase)
{
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *t = (const unsigned char *)text;
    const unsigned char *star = NULL, *resume = NULL;

    while (*t != '\0') {
        if (*p == '*') {
            /* Let the star match nothing first; on a mismatch later it
             * takes one more character and the rest is tried again. */
            star = p++;
            resume = t;
        } else if (*p != '\0' && (*p == '?' || fold(*p, nocase) == fold(*t, nocase))) {
            p++;
            t++;
        } else if (star != NULL) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

/* ---- 2. strict JSON with line numbers ----------------------------------- */

enum jv_kind { JV_NULL, JV_BOOL, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

/* A JSON value; everything lives in the policy's arena. */
struct jv {
    enum jv_kind kind;
    int line;          /* 1-based line where the value starts */
    const char *str;   /* JV_STRING: decoded, NUL-terminated; JV_NUMBER: the text */
    size_t len;        /* bytes in str */
    size_t n;          /* items of an array, members of an object */
    struct jv **items; /* array items, or object member values */
    struct jv **keys;  /* object member names (JV_STRING) */
};

/* Nesting deeper than this is refused: a policy needs four levels. */
#define JSON_MAX_DEPTH 32

struct jreader {
    const char *path; /* for messages */
    const char *s;    /* next byte */
    const char *end;  /* end of the text */
    int line;         /* line of s */
    int depth;        /* open arrays and objects */
    struct sl_arena *a;
    struct sl_diag *d;
};

static int
json_fail(struct jreader *r, int line, const char *what)
{
    sl_fail(r->d, SL_ERR_INPUT, "invalid JSON: %s", what);
    sl_diag_hint(r->d, "a policy is strict JSON: {\"Version\": \"2012-10-17\", \"Statement\": "
                       "[{\"Effect\": \"Allow\", \"Action\": \"kinesis:PutRecord\", "
                       "\"Resource\": \"*\"}]}");
    sl_diag_at(r->d, r->path, line, 0, NULL);
    return SL_ERR_INPUT;
}

static void
skip_space(struct jreader *r)
{
    while (r->s < r->end) {
        char c = *r->s;

        if (c == '\n')
            r->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            return;
        r->s++;
    }
}

static int
hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void
put_utf8(struct sl_buf *b, unsigned cp)
{
    if (cp < 0x80) {
        sl_buf_addc(b, (char)cp);
    } else if (cp < 0x800) {
        sl_buf_addc(b, (char)(0xc0 | (cp >> 6)));
        sl_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        sl_buf_addc(b, (char)(0xe0 | (cp >> 12)));
        sl_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        sl_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    } else {
        sl_buf_addc(b, (char)(0xf0 | (cp >> 18)));
        sl_buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3f)));
        sl_buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3f)));
        sl_buf_addc(b, (char)(0x80 | (cp & 0x3f)));
    }
}

/* A string at r->s (on its opening quote) into v. */
static int
read_string(struct jreader *r, struct jv *v)
{
    struct sl_buf b;
    const char *start;
    int rc = 0;

    sl_buf_init(&b);
    r->s++;
    start = r->s;
    for (;;) {
        if (r->s >= r->end) {
            rc = json_fail(r, v->line, "a string is not closed");
            goto out;
        }
        unsigned char c = (unsigned char)*r->s;

        if (c == '"')
            break;
        if (c < 0x20) {
            rc = json_fail(r, r->line,
                           c == '\n' ? "a string runs past the end of its line"
                                     : "a control character inside a string "
                                       "(write it as an escape)");
            goto out;
        }
        if (c != '\\') {
            sl_buf_addc(&b, (char)c);
            r->s++;
            continue;
        }
        if (r->end - r->s < 2) {
            rc = json_fail(r, r->line, "a string is not closed");
            goto out;
        }
        char e = r->s[1];
        unsigned cp;

        r->s += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            sl_buf_addc(&b, e);
            continue;
        case 'b':
            sl_buf_addc(&b, '\b');
            continue;
        case 'f':
            sl_buf_addc(&b, '\f');
            continue;
        case 'n':
            sl_buf_addc(&b, '\n');
            continue;
        case 'r':
            sl_buf_addc(&b, '\r');
            continue;
        case 't':
            sl_buf_addc(&b, '\t');
            continue;
        case 'u':
            break;
        default:
            rc = json_fail(r, r->line,
                           "an unknown escape in a string (accepted: \\\" \\\\ \\/ "
                           "\\b \\f \\n \\r \\t \\uXXXX)");
            goto out;
        }
        if (r->end - r->s < 4 || hex4(r->s, &cp) < 0) {
            rc = json_fail(r, r->line, "\\u must be followed by four hex digits");
            goto out;
        }
        r->s += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            rc = json_fail(r, r->line, "a lone low surrogate escape in a string");
            goto out;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;

            if (r->end - r->s < 6 || r->s[0] != '\\' || r->s[1] != 'u' || hex4(r->s + 2, &lo) < 0 ||
                lo < 0xdc00 || lo > 0xdfff) {
                rc = json_fail(r, r->line, "a high surrogate escape without its low half");
                goto out;
            }
            r->s += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) {
            rc = json_fail(r, r->line, "\\u0000 is not allowed in a policy string");
            goto out;
        }
        put_utf8(&b, cp);
    }
    r->s++;
    if (!sl_utf8_valid(start, (size_t)(r->s - 1 - start), NULL)) {
        rc = json_fail(r, v->line, "a string is not valid UTF-8");
        goto out;
    }
    v->kind = JV_STRING;
    v->str = sl_arena_strndup(r->a, b.data, b.len);
    v->len = b.len;
out:
    sl_buf_release(&b);
    return rc;
}

static bool
is_digit(const char *s, const char *end)
{
    return s < end && *s >= '0' && *s <= '9';
}

/* A number per RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
read_number(struct jreader *r, struct jv *v)
{
    const char *s = r->s, *start = r->s;

    if (s < r->end && *s == '-')
        s++;
    if (!is_digit(s, r->end))
        return json_fail(r, r->line,
                         "expected a value (an object, list, string, number, "
                         "true, false or null)");
    if (*s == '0')
        s++;
    else
        while (is_digit(s, r->end))
            s++;
    if (s < r->end && *s == '.') {
        s++;
        if (!is_digit(s, r->end))
            return json_fail(r, r->line, "a number needs digits after its '.'");
        while (is_digit(s, r->end))
            s++;
    }
    if (s < r->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < r->end && (*s == '+' || *s == '-'))
            s++;
        if (!is_digit(s, r->end))
            return json_fail(r, r->line, "a number needs digits in its exponent");
        while (is_digit(s, r->end))
            s++;
    }
    v->kind = JV_NUMBER;
    v->str = sl_arena_strndup(r->a, start, (size_t)(s - start));
    v->len = (size_t)(s - start);
    r->s = s;
    return 0;
}

static int read_value(struct jreader *r, struct jv **out);

/* Items collected while a list or object is read, then moved to the arena. */
struct jlist {
    struct jv **v;
    size_t n, cap;
};

static void
jlist_push(struct jlist *l, struct jv *v)
{
    SL_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = v;
}

static struct jv **
jlist_finish(struct jreader *r, struct jlist *l)
{
    struct jv **v = sl_arena_alloc(r->a, (l->n ? l->n : 1) * sizeof(*v));

    if (l->n > 0)
        memcpy(v, l->v, l->n * sizeof(*v));
    return v;
}

static int
read_array(struct jreader *r, struct jv *v)
{
    struct jlist items = {0};
    int rc = 0;

    r->s++;
    skip_space(r);
    if (r->s < r->end && *r->s == ']') {
        r->s++;
        goto done;
    }
    for (;;) {
        struct jv *item;

        rc = read_value(r, &item);
        if (rc < 0)
            goto out;
        jlist_push(&items, item);
        skip_space(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            skip_space(r);
            if (r->s < r->end && *r->s == ']') {
                rc = json_fail(r, r->line, "a ',' before ']' (JSON has no trailing commas)");
                goto out;
            }
            continue;
        }
        if (r->s < r->end && *r->s == ']') {
            r->s++;
            break;
        }
        rc = json_fail(r, r->line,
                       r->s < r->end ? "expected ',' or ']' after a list item"
                                     : "a list is not closed with ']'");
        goto out;
    }
done:
    v->kind = JV_ARRAY;
    v->n = items.n;
    v->items = jlist_finish(r, &items);
out:
    free(items.v);
    return rc;
}

static int
read_object(struct jreader *r, struct jv *v)
{
    struct jlist keys = {0}, vals = {0};
    int rc = 0;

    r->s++;
    skip_space(r);
    if (r->s < r->end && *r->s == '}') {
        r->s++;
        goto done;
    }
    for (;;) {
        struct jv *key, *val;

        skip_space(r);
        if (r->s >= r->end || *r->s != '"') {
            rc = json_fail(r, r->line,
                           r->s >= r->end ? "an object is not closed with '}'"
                                          : "expected a member name in double "
                                            "quotes");
            goto out;
        }
        key = sl_arena_zalloc(r->a, sizeof(*key));
        key->line = r->line;
        rc = read_string(r, key);
        if (rc < 0)
            goto out;
        for (size_t i = 0; i < keys.n; i++) {
            if (strcmp(keys.v[i]->str, key->str) == 0) {
                char what[256];

                snprintf(what, sizeof(what), "member \"%.64s\" appears twice (first at line %d)",
                         key->str, keys.v[i]->line);
                rc = json_fail(r, key->line, what);
                goto out;
            }
        }
        skip_space(r);
        if (r->s >= r->end || *r->s != ':') {
            rc = json_fail(r, r->line, "expected ':' after a member name");
            goto out;
        }
        r->s++;
        rc = read_value(r, &val);
        if (rc < 0)
            goto out;
        jlist_push(&keys, key);
        jlist_push(&vals, val);
        skip_space(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            skip_space(r);
            if (r->s < r->end && *r->s == '}') {
                rc = json_fail(r, r->line, "a ',' before '}' (JSON has no trailing commas)");
                goto out;
            }
            continue;
        }
        if (r->s < r->end && *r->s == '}') {
            r->s++;
            break;
        }
        rc = json_fail(r, r->line,
                       r->s < r->end ? "expected ',' or '}' after a member"
                                     : "an object is not closed with '}'");
        goto out;
    }
done:
    v->kind = JV_OBJECT;
    v->n = keys.n;
    v->keys = jlist_finish(r, &keys);
    v->items = jlist_finish(r, &vals);
out:
    free(keys.v);
    free(vals.v);
    return rc;
}

static bool
literal(struct jreader *r, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(r->end - r->s) < n || memcmp(r->s, word, n) != 0)
        return false;
    r->s += n;
    return true;
}

static int
read_value(struct jreader *r, struct jv **out)
{
    struct jv *v;
    int rc;

    skip_space(r);
    if (r->s >= r->end)
        return json_fail(r, r->line, "the document ends where a value was expected");
    v = sl_arena_zalloc(r->a, sizeof(*v));
    v->line = r->line;
    switch (*r->s) {
    case '{':
    case '[':
        if (++r->depth > JSON_MAX_DEPTH)
            return json_fail(r, r->line, "nested more than 32 levels deep");
        rc = *r->s == '{' ? read_object(r, v) : read_array(r, v);
        r->depth--;
        break;
    case '"':
        rc = read_string(r, v);
        break;
    case 't':
    case 'f':
    case 'n':
        rc = 0;
        if (literal(r, "true") || literal(r, "false"))
            v->kind = JV_BOOL;
        else if (literal(r, "null"))
            v->kind = JV_NULL;
        else
            rc = json_fail(r, r->line, "expected a value; strings need double quotes");
        break;
    default:
        if (*r->s == '-' || (*r->s >= '0' && *r->s <= '9'))
            rc = read_number(r, v);
        else
            rc = json_fail(r, r->line,
                           *r->s == '\'' ? "strings need double quotes, not single"
                                         : "expected a value; strings need double "
                                           "quotes");
        break;
    }
    if (rc < 0)
        return rc;
    *out = v;
    return 0;
}

static int
json_parse(const char *path, const char *text, size_t len, struct sl_arena *a, struct jv **root,
           struct sl_diag *d)
{
    struct jreader r = {path, text, text + len, 1, 0, a, d};
    int rc;

    /* Some editors start a UTF-8 file with a byte-order mark. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        r.s += 3;
    rc = read_value(&r, root);
    if (rc < 0)
        return rc;
    skip_space(&r);
    if (r.s < r.end)
        return json_fail(&r, r.line, "more text after the end of the document");
    return 0;
}

static const char *
jv_kind_name(const struct jv *v)
{
    switch (v->kind) {
    case JV_NULL:
        return "null";
    case JV_BOOL:
        return "true or false";
    case JV_NUMBER:
        return "a number";
    case JV_STRING:
        return "a string";
    case JV_ARRAY:
        return "a list";
    case JV_OBJECT:
        return "an object";
    }
    return "a value";
}

/* ---- 3. the policy grammar ---------------------------------------------- */

/* One statement, ready to evaluate. */
struct stmt {
    bool deny;            /* Effect: Deny */
    bool not_action;      /* NotAction instead of Action */
    bool not_resource;    /* NotResource instead of Resource */
    const char **actions; /* patterns, matched without case */
    size_t nactions;
    const char **resources; /* patterns, matched with case */
    size_t nresources;
    int line; /* where the statement starts */
};

struct policy {
    struct sl_arena arena; /* the JSON tree and every string */
    struct stmt *stmts;
    size_t n;
};

/* What the grammar needs while reading one document. */
struct pctx {
    const char *path;
    const char *const *known; /* NULL-terminated, or NULL: anything */
    struct sl_arena *a;
    struct sl_diag *d;
};

#define ACTION_FORMS                                                                               \
    "accepted forms: \"*\", \"SERVICE:Action\", or a pattern with * and ? "                        \
    "after the colon such as \"kinesis:Put*\""
#define RESOURCE_FORMS                                                                             \
    "accepted forms: \"*\", or an ARN such as "                                                    \
    "\"arn:aws:kinesis:REGION:ACCOUNT:stream/NAME\" or "                                           \
    "\"arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME\", with * "                             \
    "and ? wildcards"

static int pfail(struct pctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
pfail(struct pctx *c, int line, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_fail(c->d, SL_ERR_INPUT, "%s", msg);
    sl_diag_at(c->d, c->path, line, 0, NULL);
    return SL_ERR_INPUT;
}

/* Case-insensitive equality of ASCII names. */
static bool
same_name_nocase(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/*
 * The element names a level accepts; an unknown name that differs only in
 * case gets a hint, as IAM's element names are case-sensitive.
 */
static int
unknown_element(struct pctx *c, const struct jv *key, const char *const *accepted,
                const char *where)
{
    struct sl_buf list;

    sl_buf_init(&list);
    for (size_t i = 0; accepted[i] != NULL; i++) {
        if (same_name_nocase(key->str, accepted[i])) {
            pfail(c, key->line,
                  "unknown element \"%.64s\" in %s: element names are "
                  "case-sensitive; write \"%s\"",
                  key->str, where, accepted[i]);
            sl_buf_release(&list);
            return SL_ERR_INPUT;
        }
        sl_buf_addf(&list, "%s%s", i ? ", " : "", accepted[i]);
    }
    pfail(c, key->line, "unknown element \"%.64s\" in %s (accepted: %s)", key->str, where,
          list.data);
    sl_buf_release(&list);
    return SL_ERR_INPUT;
}

/* A string or a non-empty list of strings into an array of patterns. */
static int
string_list(struct pctx *c, const struct jv *key, const struct jv *v, const char ***out, size_t *n,
            const struct jv ***nodes)
{
    if (v->kind == JV_STRING) {
        *out = sl_arena_alloc(c->a, sizeof(**out));
        (*out)[0] = v->str;
        *nodes = sl_arena_alloc(c->a, sizeof(**nodes));
        (*nodes)[0] = v;
        *n = 1;
        return 0;
    }
    if (v->kind != JV_ARRAY)
        return pfail(c, v->line, "\"%s\" must be a string or a list of strings, not %s", key->str,
                     jv_kind_name(v));
    if (v->n == 0)
        return pfail(c, v->line, "\"%s\" is an empty list: name at least one", key->str);
    *out = sl_arena_alloc(c->a, v->n * sizeof(**out));
    *nodes = sl_arena_alloc(c->a, v->n * sizeof(**nodes));
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i]->kind != JV_STRING)
            return pfail(c, v->items[i]->line, "\"%s\" must list strings, not %s", key->str,
                         jv_kind_name(v->items[i]));
        (*out)[i] = v->items[i]->str;
        (*nodes)[i] = v->items[i];
    }
    *n = v->n;
    return 0;
}

/* Known actions whose service prefix is service[0..len), for a message. */
static void
list_service_actions(struct pctx *c, const char *service, size_t len, struct sl_buf *out)
{
    size_t shown = 0, more = 0;

    for (size_t i = 0; c->known[i] != NULL; i++) {
        const char *k = c->known[i];

        if (strncasecmp(k, service, len) != 0 || k[len] != ':')
            continue;
        if (out->len > 360) {
            more++;
            continue;
        }
        sl_buf_addf(out, "%s%s", shown ? ", " : "", k);
        shown++;
    }
    if (more > 0)
        sl_buf_addf(out, ", and %zu more", more);
}

/* The distinct service prefixes of the known actions. */
static void
list_services(struct pctx *c, struct sl_buf *out)
{
    size_t shown = 0;

    for (size_t i = 0; c->known[i] != NULL; i++) {
        const char *k = c->known[i], *colon = strchr(k, ':');
        size_t len = colon ? (size_t)(colon - k) : strlen(k);
        bool seen = false;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strncmp(c->known[j], k, len) == 0 && c->known[j][len] == ':';
        if (!seen) {
            sl_buf_addf(out, "%s%.*s", shown ? ", " : "", (int)len, k);
            shown++;
        }
    }
}

static int
check_action(struct pctx *c, const struct jv *v)
{
    const char *s = v->str, *colon = strchr(s, ':');

    if (strcmp(s, "*") == 0)
        return 0;
    if (colon == NULL || colon == s || colon[1] == '\0')
        return pfail(c, v->line, "action \"%.128s\" is not of the %s", s, ACTION_FORMS);
    for (const char *p = s; p < colon; p++) {
        if (*p == '*' || *p == '?')
            return pfail(c, v->line,
                         "action \"%.128s\": the service prefix cannot hold a "
                         "wildcard; %s",
                         s, ACTION_FORMS);
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return pfail(c, v->line, "action \"%.128s\" is not of the %s", s, ACTION_FORMS);
    }
    for (const char *p = colon + 1; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '*' || *p == '?'))
            return pfail(c, v->line, "action \"%.128s\" is not of the %s", s, ACTION_FORMS);
    if (c->known == NULL)
        return 0;
    for (size_t i = 0; c->known[i] != NULL; i++)
        if (policy_wildcard_match(s, c->known[i], true))
            return 0;

    struct sl_buf list;
    size_t slen = (size_t)(colon - s);

    sl_buf_init(&list);
    list_service_actions(c, s, slen, &list);
    if (list.len > 0) {
        pfail(c, v->line, "action \"%.128s\" matches no known action", s);
        sl_diag_detail(c->d, "The %.*s actions are: %s.", (int)slen, s, list.data);
    } else {
        list_services(c, &list);
        pfail(c, v->line,
              "action \"%.128s\" matches no known action: no service has the "
              "prefix \"%.*s\"",
              s, (int)slen, s);
        sl_diag_detail(c->d, "The known service prefixes are: %s.", list.data);
    }
    sl_diag_hint(c->d, "%s", ACTION_FORMS);
    sl_buf_release(&list);
    return SL_ERR_INPUT;
}

static int
check_resource(struct pctx *c, const struct jv *v)
{
    const char *s = v->str;
    const char *part[3];
    int colons = 0;

    if (strcmp(s, "*") == 0)
        return 0;
    for (const char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return pfail(c, v->line,
                         "resource \"%.128s\" holds a space or control character; "
                         "%s",
                         s, RESOURCE_FORMS);
    if (strncmp(s, "arn:", 4) != 0)
        return pfail(c, v->line, "resource \"%.128s\" is neither \"*\" nor an ARN; %s", s,
                     RESOURCE_FORMS);
    /* arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE */
    for (const char *p = s; *p != '\0'; p++) {
        if (*p != ':')
            continue;
        if (colons < 3)
            part[colons] = p + 1;
        colons++;
    }
    if (colons < 2)
        return pfail(c, v->line,
                     "resource \"%.128s\" is not a whole ARN: an ARN has six "
                     "parts, arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; %s",
                     s, RESOURCE_FORMS);
    if (part[1] == part[0] + 1)
        return pfail(c, v->line, "resource \"%.128s\" has no partition (arn:aws:...); %s", s,
                     RESOURCE_FORMS);
    const char *svc_end = colons >= 3 ? part[2] - 1 : s + strlen(s);

    if (svc_end == part[1])
        return pfail(c, v->line, "resource \"%.128s\" names no service; %s", s, RESOURCE_FORMS);
    for (const char *p = part[1]; p < svc_end; p++)
        if (*p == '*' || *p == '?')
            return pfail(c, v->line,
                         "resource \"%.128s\": the service segment of an ARN "
                         "cannot hold a wildcard; %s",
                         s, RESOURCE_FORMS);
    /* A * that ends the text may stand for the remaining segments. */
    if (colons < 5 && s[strlen(s) - 1] != '*')
        return pfail(c, v->line,
                     "resource \"%.128s\" is not a whole ARN: an ARN has six "
                     "parts, arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; %s",
                     s, RESOURCE_FORMS);
    return 0;
}

static const char *const top_elements[] = {"Version", "Id", "Statement", NULL};
static const char *const stmt_elements[] = {"Sid",      "Effect",      "Action", "NotAction",
                                            "Resource", "NotResource", NULL};

static bool
in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static int
parse_statement(struct pctx *c, const struct jv *v, struct stmt *st, const struct jv **sids,
                size_t nsids)
{
    const struct jv *effect = NULL, *action = NULL, *resource = NULL, *sid = NULL;
    const struct jv *action_key = NULL, *resource_key = NULL;
    const struct jv **nodes;
    int rc;

    if (v->kind != JV_OBJECT)
        return pfail(c, v->line,
                     "a statement must be an object {\"Effect\": ..., \"Action\": "
                     "..., \"Resource\": ...}, not %s",
                     jv_kind_name(v));
    memset(st, 0, sizeof(*st));
    st->line = v->line;
    for (size_t i = 0; i < v->n; i++) {
        const struct jv *k = v->keys[i], *val = v->items[i];

        if (strcmp(k->str, "Principal") == 0 || strcmp(k->str, "NotPrincipal") == 0)
            return pfail(c, k->line,
                         "element \"%s\" is not supported: a key's policy is an "
                         "identity policy, and the key itself is its principal",
                         k->str);
        if (strcmp(k->str, "Condition") == 0)
            return pfail(c, k->line,
                         "element \"Condition\" is not supported: sluice does "
                         "not evaluate conditions");
        if (!in_list(stmt_elements, k->str)) {
            if (in_list(top_elements, k->str))
                return pfail(c, k->line,
                             "element \"%s\" belongs at the top of the policy, "
                             "not in a statement",
                             k->str);
            return unknown_element(c, k, stmt_elements, "a statement");
        }
        if (strcmp(k->str, "Sid") == 0) {
            sid = val;
        } else if (strcmp(k->str, "Effect") == 0) {
            effect = val;
        } else if (strcmp(k->str, "Action") == 0 || strcmp(k->str, "NotAction") == 0) {
            if (action != NULL)
                return pfail(c, k->line,
                             "a statement has Action or NotAction, not both "
                             "(the other is at line %d)",
                             action_key->line);
            action = val;
            action_key = k;
            st->not_action = k->str[0] == 'N';
        } else {
            if (resource != NULL)
                return pfail(c, k->line,
                             "a statement has Resource or NotResource, not both "
                             "(the other is at line %d)",
                             resource_key->line);
            resource = val;
            resource_key = k;
            st->not_resource = k->str[0] == 'N';
        }
    }
    if (sid != NULL) {
        if (sid->kind != JV_STRING)
            return pfail(c, sid->line, "\"Sid\" must be a string, not %s", jv_kind_name(sid));
        for (const char *p = sid->str; *p != '\0'; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
                return pfail(c, sid->line,
                             "\"Sid\" \"%.64s\" may hold only letters A-Z, a-z "
                             "and digits 0-9",
                             sid->str);
        for (size_t i = 0; i < nsids; i++)
            if (sid->len > 0 && strcmp(sids[i]->str, sid->str) == 0)
                return pfail(c, sid->line,
                             "\"Sid\" \"%.64s\" is used twice (first at line "
                             "%d); each statement needs its own",
                             sid->str, sids[i]->line);
    }
    if (effect == NULL)
        return pfail(c, v->line,
                     "a statement has no \"Effect\" (accepted: \"Allow\", "
                     "\"Deny\")");
    if (effect->kind != JV_STRING ||
        (strcmp(effect->str, "Allow") != 0 && strcmp(effect->str, "Deny") != 0))
        return pfail(c, effect->line, "\"Effect\" must be \"Allow\" or \"Deny\"%s%.64s%s",
                     effect->kind == JV_STRING ? ", not \"" : "",
                     effect->kind == JV_STRING ? effect->str : "",
                     effect->kind == JV_STRING ? "\"" : "");
    st->deny = effect->str[0] == 'D';
    if (action == NULL)
        return pfail(c, v->line, "a statement has no \"Action\" or \"NotAction\"; %s",
                     ACTION_FORMS);
    if (resource == NULL)
        return pfail(c, v->line, "a statement has no \"Resource\" or \"NotResource\"; %s",
                     RESOURCE_FORMS);
    rc = string_list(c, action_key, action, &st->actions, &st->nactions, &nodes);
    for (size_t i = 0; rc == 0 && i < st->nactions; i++)
        rc = check_action(c, nodes[i]);
    if (rc == 0)
        rc = string_list(c, resource_key, resource, &st->resources, &st->nresources, &nodes);
    for (size_t i = 0; rc == 0 && i < st->nresources; i++)
        rc = check_resource(c, nodes[i]);
    return rc;
}

static int
parse_document(struct pctx *c, const struct jv *root, struct policy *p)
{
    const struct jv *stmts = NULL, **sids;
    size_t nsids = 0;
    int rc;

    if (root->kind != JV_OBJECT)
        return pfail(c, root->line,
                     "a policy must be a JSON object {\"Version\": ..., "
                     "\"Statement\": [...]}, not %s",
                     jv_kind_name(root));
    for (size_t i = 0; i < root->n; i++) {
        const struct jv *k = root->keys[i], *val = root->items[i];

        if (strcmp(k->str, "Version") == 0) {
            if (val->kind != JV_STRING ||
                (strcmp(val->str, "2012-10-17") != 0 && strcmp(val->str, "2008-10-17") != 0))
                return pfail(c, val->line,
                             "\"Version\" must be \"2012-10-17\" or "
                             "\"2008-10-17\"");
        } else if (strcmp(k->str, "Id") == 0) {
            if (val->kind != JV_STRING)
                return pfail(c, val->line, "\"Id\" must be a string, not %s", jv_kind_name(val));
        } else if (strcmp(k->str, "Statement") == 0) {
            stmts = val;
        } else if (in_list(stmt_elements, k->str) || strcmp(k->str, "Principal") == 0 ||
                   strcmp(k->str, "Condition") == 0) {
            return pfail(c, k->line,
                         "element \"%s\" belongs in a statement, inside "
                         "\"Statement\": [...]",
                         k->str);
        } else {
            return unknown_element(c, k, top_elements, "the policy");
        }
    }
    if (stmts == NULL)
        return pfail(c, root->line, "the policy has no \"Statement\"");
    if (stmts->kind == JV_OBJECT) {
        p->n = 1;
        p->stmts = sl_arena_alloc(&p->arena, sizeof(*p->stmts));
        return parse_statement(c, stmts, &p->stmts[0], NULL, 0);
    }
    if (stmts->kind != JV_ARRAY)
        return pfail(c, stmts->line,
                     "\"Statement\" must be an object or a list of objects, "
                     "not %s",
                     jv_kind_name(stmts));
    if (stmts->n == 0)
        return pfail(c, stmts->line,
                     "\"Statement\" is an empty list: a policy needs at least "
                     "one statement");
    p->n = stmts->n;
    p->stmts = sl_arena_alloc(&p->arena, p->n * sizeof(*p->stmts));
    sids = sl_arena_alloc(&p->arena, p->n * sizeof(*sids));
    for (size_t i = 0; i < p->n; i++) {
        const struct jv *sid;

        rc = parse_statement(c, stmts->items[i], &p->stmts[i], sids, nsids);
        if (rc < 0)
            return rc;
        sid = NULL;
        for (size_t k = 0; k < stmts->items[i]->n; k++)
            if (strcmp(stmts->items[i]->keys[k]->str, "Sid") == 0 &&
                stmts->items[i]->items[k]->len > 0)
                sid = stmts->items[i]->items[k];
        if (sid != NULL)
            sids[nsids++] = sid;
    }
    return 0;
}

int
policy_parse(const char *path, const char *text, size_t len, const char *const *known_actions,
             struct policy **out, struct sl_diag *d)
{
    struct policy *p = sl_calloc(1, sizeof(*p));
    struct pctx c = {path, known_actions, &p->arena, d};
    struct jv *root;
    int rc;

    sl_arena_init(&p->arena, 4096);
    rc = json_parse(path, text, len, &p->arena, &root, d);
    if (rc == 0)
        rc = parse_document(&c, root, p);
    if (rc < 0) {
        policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int
policy_load(const char *path, const char *const *known_actions, struct policy **out,
            struct sl_diag *d)
{
    struct sl_buf text;
    int rc;

    sl_buf_init(&text);
    rc = sl_read_file(path, POLICY_MAX_BYTES, &text, d);
    if (rc == 0)
        rc = policy_parse(path, text.data, text.len, known_actions, out, d);
    sl_buf_release(&text);
    return rc;
}

/* ---- 4. evaluation ------------------------------------------------------ */

static bool
any_match(const char *const *patterns, size_t n, const char *text, bool nocase)
{
    for (size_t i = 0; i < n; i++)
        if (policy_wildcard_match(patterns[i], text, nocase))
            return true;
    return false;
}

enum policy_effect
policy_evaluate(const struct policy *p, const char *action, const char *resource)
{
    bool allowed = false;

    if (resource == NULL)
        resource = "*";
    for (size_t i = 0; i < p->n; i++) {
        const struct stmt *st = &p->stmts[i];

        if (any_match(st->actions, st->nactions, action, true) == st->not_action)
            continue;
        if (any_match(st->resources, st->nresources, resource, false) == st->not_resource)
            continue;
        if (st->deny)
            return POLICY_EXPLICIT_DENY;
        allowed = true;
    }
    return allowed ? POLICY_ALLOW : POLICY_IMPLICIT_DENY;
}

size_t
policy_statements(const struct policy *p)
{
    return p->n;
}

const char *
policy_effect_name(enum policy_effect e)
{
    switch (e) {
    case POLICY_ALLOW:
        return "allow";
    case POLICY_EXPLICIT_DENY:
        return "deny";
    case POLICY_IMPLICIT_DENY:
        break;
    }
    return "implicit deny";
}

void
policy_free(struct policy *p)
{
    if (p == NULL)
        return;
    sl_arena_release(&p->arena);
    free(p);
}
