/*
 * path.c - JSONPath as Amazon States Language uses it (see path.h).
 *
 * A path is parsed once into an array of steps; selecting walks that
 * array and never looks at the text again.  Three classes of path:
 *
 *     reference   names and non-negative indexes      $.a[0]['b c']
 *     definite    reference, plus negative indexes,    $.a[-1]  $['x','y']
 *                 plus a name union as the last step
 *     indefinite  everything else                      $..a  $[*]  $[1:]
 *
 * Definite paths are walked node by node, borrowing as they go: selecting
 * one allocates nothing but the reference it hands out (and the object a
 * final name union builds).  Indefinite paths are evaluated step by step
 * over a set of borrowed nodes (two arrays swapped per step, in document
 * order), so nothing recurses on the number of steps; recursive descent
 * walks the tree with an explicit stack.  Filters recurse only on their
 * nesting, which the parser bounds.
 *
 * Paths come from definitions, which are outside input, so two bounds
 * keep a hostile one from taking the process: a path has at most
 * MAX_STEPS steps (as deep as jansson reads documents), and an indefinite
 * select at most MAX_WORK units of work (SL_ERR_LIMIT past it).
 *
 * Where Jayway JsonPath (which AWS's engine follows) and the other
 * dialects part, this follows Jayway:
 *
 *   - [-1] is the last element; a negative index keeps a path definite
 *     (one node or none) but not a reference path;
 *   - a union of names as the last step, $['a','b'], selects one object
 *     holding those of the members that exist ({} if none); anywhere else
 *     a union selects each member in the order written;
 *   - a filter applied to an object tests the object itself, one applied
 *     to an array tests each element; after "..", a filter selects every
 *     object at or under the node that passes;
 *   - a name step does not reach into arrays ($.a.b on {"a":[...]} finds
 *     nothing).
 *
 * Slices take an optional step as Python and RFC 9535 do ([::-1]
 * reverses); Jayway has no step.  In filters, == between a number and a
 * string is false (Jayway converts one to the other); == between
 * structures compares them deeply; <, <=, >, >= compare two numbers or two
 * strings (by bytes, i.e. by code point) and are false for anything else;
 * a path that names nothing is unequal to everything but another path
 * that names nothing, so != holds for it.
 *
 * Every piece of a parsed path (text, steps, names, filter trees, filter
 * literals) lives in the path's arena and dies with flow_path_free().
 */
#include "flow/path.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "flow/json.h"
#include "core/banned.h"

/* Nesting of parentheses and '!' in a filter: a bound, so that a hostile
 * path cannot exhaust the stack. */
#define MAX_DEPTH 64
/* Indexes and slice bounds: Jayway takes a Java int; this leaves room
 * for arithmetic on them without overflow. */
#define MAX_INDEX ((int64_t)1 << 53)
/* Steps in a path, its filters' paths included: as deep as jansson reads
 * documents, so a path reaches anything read; a longer one could only
 * build, through put, a document deeper than jansson can free without
 * exhausting the stack. */
#define MAX_STEPS 2048
/* How much of a path or a name a message quotes. */
#define SHOW_MAX 120
/* The work an indefinite select may do (nodes reached, visited under
 * "..", filter terms tested): "$..*..*..*" on a large input would
 * otherwise grow without bound. */
#define MAX_WORK (1 << 22)

/* ---- parsed form ------------------------------------------------------- */

enum step_kind {
    STEP_NAME,    /* .name ['name'] */
    STEP_INDEX,   /* [n]; n < 0 counts from the end */
    STEP_WILD,    /* .* [*] */
    STEP_NAMES,   /* ['a','b'] */
    STEP_INDEXES, /* [0,2] */
    STEP_SLICE,   /* [start:end:step] */
    STEP_FILTER,  /* [?(...)] */
};

struct name {
    const char *s; /* unescaped; may hold NUL bytes */
    size_t len;
};

struct expr;

struct step {
    enum step_kind kind;
    bool deep;      /* preceded by "..": applies at and under the node */
    uint32_t start; /* the step's text: [start, end) in the path's text */
    uint32_t end;
    uint32_t cost; /* STEP_FILTER: the work of one test (expr_cost()) */
    union {
        struct name name; /* STEP_NAME */
        int64_t index;    /* STEP_INDEX */
        struct {
            const struct name *v;
            size_t n;
        } names; /* STEP_NAMES */
        struct {
            const int64_t *v;
            size_t n;
        } indexes; /* STEP_INDEXES */
        struct {
            int64_t start, end, step; /* step is never 0 */
            bool has_start, has_end;
        } slice;                   /* STEP_SLICE */
        const struct expr *filter; /* STEP_FILTER */
    } u;
};

enum opnd_kind {
    OPND_LITERAL, /* a number, string, true, false or null */
    OPND_CURRENT, /* @... */
    OPND_INPUT,   /* $... */
    OPND_CONTEXT, /* $$... */
};

/* One side of a comparison: a literal, or a definite path from a root. */
struct operand {
    enum opnd_kind kind;
    json_t *literal;          /* OPND_LITERAL; owned through the arena */
    const struct step *steps; /* otherwise: names and indexes only */
    size_t nsteps;
};

enum expr_kind { EXPR_OR, EXPR_AND, EXPR_NOT, EXPR_EXISTS, EXPR_CMP };
enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct expr {
    enum expr_kind kind;
    enum cmp_op op;          /* EXPR_CMP */
    struct operand a, b;     /* EXPR_EXISTS: a; EXPR_CMP: a op b */
    const struct expr *kids; /* EXPR_OR, EXPR_AND: nkids; EXPR_NOT: one */
    size_t nkids;
};

struct flow_path {
    const char *text;         /* as given, NUL-terminated */
    const struct step *steps; /* after the root */
    size_t nsteps;
    bool context;          /* starts at "$$" */
    bool reference;        /* names and non-negative indexes only */
    bool definite;         /* one node or none (see the top of the file) */
    bool merge;            /* the last step is a name union that merges */
    bool uses_context;     /* "$$" as the root or in a filter */
    size_t first_other;    /* reference false: the first step that is not
                            * a name or a non-negative index */
    struct sl_arena arena; /* everything above */
};

/* ---- words for messages ------------------------------------------------ */

/* s[0..len) for a message: at most SHOW_MAX bytes (cut at a character
 * boundary, "..." added), control characters as '?'. */
static const char *
show(char *buf, size_t size, const char *s, size_t len)
{
    size_t n = len, o = 0;

    if (n > SHOW_MAX) {
        n = SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (n < len && o + 4 < size) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o < size ? o : size - 1] = '\0';
    return buf;
}

/* The 1-based column of byte off in text, counted in characters. */
static int
column(const char *text, size_t off)
{
    int col = 1;

    for (size_t i = 0; i < off; i++)
        col += ((unsigned char)text[i] & 0xc0) != 0x80;
    return col;
}

/* ---- parser ------------------------------------------------------------ */

struct parser {
    const char *text;
    size_t len, pos;
    struct sl_arena *a;
    struct sl_diag *d;
    int depth;      /* of parentheses and '!' in a filter */
    int steps;      /* so far, in filters too */
    bool in_filter; /* names stop at operators too */
    bool uses_context;
    bool failed;
};

/* Refuse: "'<path>' is not a valid path: <what>".  Returns SL_ERR_INPUT;
 * only the first refusal is recorded. */
static int __attribute__((format(printf, 2, 3))) refuse(struct parser *ps, const char *fmt, ...)
{
    char what[600], shown[SHOW_MAX + 8];
    va_list ap;

    if (ps->failed)
        return SL_ERR_INPUT;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return sl_fail(ps->d, SL_ERR_INPUT, "'%s' is not a valid path: %s",
                   show(shown, sizeof(shown), ps->text, ps->len), what);
}

/* "expected <what> at column N, found <the character there>". */
static int
expected(struct parser *ps, const char *what)
{
    char found[16];
    size_t n = 1;

    if (ps->pos >= ps->len)
        return refuse(ps, "expected %s at column %d, found the end of the path", what,
                      column(ps->text, ps->pos));
    while (ps->pos + n < ps->len && ((unsigned char)ps->text[ps->pos + n] & 0xc0) == 0x80)
        n++;
    show(found, sizeof(found), ps->text + ps->pos, n);
    return refuse(ps, "expected %s at column %d, found '%s'", what, column(ps->text, ps->pos),
                  found);
}

static char
peek(const struct parser *ps)
{
    return ps->pos < ps->len ? ps->text[ps->pos] : '\0';
}

static bool
at_end(const struct parser *ps)
{
    return ps->pos >= ps->len;
}

static void
skip_space(struct parser *ps)
{
    while (ps->pos < ps->len && (ps->text[ps->pos] == ' ' || ps->text[ps->pos] == '\t' ||
                                 ps->text[ps->pos] == '\n' || ps->text[ps->pos] == '\r'))
        ps->pos++;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether c may be part of a name after '.'. */
static bool
is_name_char(const struct parser *ps, unsigned char c)
{
    if (c < 0x20 || c == 0x7f)
        return false;
    switch (c) {
    case '.':
    case '[':
    case ']':
    case '(':
    case ')':
    case ' ':
    case '\'':
    case '"':
        return false;
    case '=':
    case '<':
    case '>':
    case '!':
    case '&':
    case '|':
    case ',':
        return !ps->in_filter;
    default:
        return true;
    }
}

/* An integer at the current position (optional '-', digits) into *out. */
static int
parse_int(struct parser *ps, int64_t *out)
{
    size_t start = ps->pos;
    bool neg = false;
    int64_t v = 0;

    if (peek(ps) == '-') {
        neg = true;
        ps->pos++;
    }
    if (!is_digit(peek(ps)))
        return expected(ps, "a digit");
    while (is_digit(peek(ps))) {
        if (v > MAX_INDEX) {
            ps->pos = start;
            return refuse(ps, "the number at column %d is too large", column(ps->text, start));
        }
        v = v * 10 + (ps->text[ps->pos++] - '0');
    }
    if (v > MAX_INDEX) {
        ps->pos = start;
        return refuse(ps, "the number at column %d is too large", column(ps->text, start));
    }
    *out = neg ? -v : v;
    return 0;
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

static size_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * A string in single or double quotes at the current position, with the
 * escapes \' \" \\ \/ \b \f \n \r \t and \uXXXX (surrogates in pairs).
 * The unescaped bytes go to the arena (never longer than the text).
 */
static int
parse_quoted(struct parser *ps, struct name *out)
{
    char quote = ps->text[ps->pos];
    size_t open = ps->pos++, raw = 0;
    char *buf;
    size_t n = 0;

    /* The raw length bounds the unescaped one. */
    while (ps->pos + raw < ps->len && ps->text[ps->pos + raw] != quote)
        raw += ps->text[ps->pos + raw] == '\\' ? 2 : 1;
    buf = sl_arena_alloc(ps->a, raw + 1);

    for (;;) {
        char c;

        if (at_end(ps)) {
            ps->pos = open;
            return refuse(ps, "the string at column %d has no closing %c", column(ps->text, open),
                          quote);
        }
        c = ps->text[ps->pos];
        if (c == quote) {
            ps->pos++;
            break;
        }
        if (c != '\\') {
            buf[n++] = c;
            ps->pos++;
            continue;
        }
        ps->pos++;
        switch (peek(ps)) {
        case '\'':
        case '"':
        case '\\':
        case '/':
            buf[n++] = ps->text[ps->pos];
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            size_t esc = ps->pos - 1;
            unsigned cp, lo;

            if (ps->len - ps->pos < 5 || hex4(ps->text + ps->pos + 1, &cp) < 0) {
                ps->pos = esc;
                return expected(ps, "\\u and four hex digits");
            }
            ps->pos += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                ps->pos = esc;
                return refuse(ps, "the escape at column %d is a lone low surrogate",
                              column(ps->text, esc));
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->len - ps->pos < 7 || ps->text[ps->pos + 1] != '\\' ||
                    ps->text[ps->pos + 2] != 'u' || hex4(ps->text + ps->pos + 3, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    ps->pos = esc;
                    return refuse(ps,
                                  "the escape at column %d is a high surrogate without "
                                  "its low half",
                                  column(ps->text, esc));
                }
                ps->pos += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += put_utf8(buf + n, cp);
            break;
        }
        default:
            ps->pos--;
            return expected(ps, "an escape (\\' \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
        }
        ps->pos++;
    }
    buf[n] = '\0';
    out->s = buf;
    out->len = n;
    return 0;
}

/* Copy a grown array into the arena (NULL when empty). */
static const void *
settle(struct sl_arena *a, const void *v, size_t n, size_t size)
{
    void *p;

    if (n == 0)
        return NULL;
    p = sl_arena_alloc(a, n * size);
    memcpy(p, v, n * size);
    return p;
}

static int parse_step(struct parser *ps, struct step *st);
static int parse_or(struct parser *ps, struct expr *out);

/* After '[' (and spaces): quoted names, one or a union. */
static int
parse_names(struct parser *ps, struct step *st)
{
    struct name *v = NULL, nm;
    size_t n = 0, cap = 0;
    int rc;

    for (;;) {
        if (peek(ps) != '\'' && peek(ps) != '"') {
            rc = expected(ps, "a quoted name");
            goto out;
        }
        rc = parse_quoted(ps, &nm);
        if (rc < 0)
            goto out;
        SL_GROW(v, cap, n + 1);
        v[n++] = nm;
        skip_space(ps);
        if (peek(ps) == ']')
            break;
        if (peek(ps) != ',') {
            rc = expected(ps, "',' or ']'");
            goto out;
        }
        ps->pos++;
        skip_space(ps);
    }
    if (n == 1) {
        st->kind = STEP_NAME;
        st->u.name = v[0];
    } else {
        st->kind = STEP_NAMES;
        st->u.names.v = settle(ps->a, v, n, sizeof(*v));
        st->u.names.n = n;
    }
out:
    free(v);
    return rc;
}

/* After '[' (and spaces), at a digit, '-' or ':': an index, a union of
 * indexes or a slice. */
static int
parse_numbers(struct parser *ps, struct step *st)
{
    int64_t *v = NULL, first = 0, bound;
    size_t n = 0, cap = 0;
    bool has_first = false;
    int rc = 0;

    if (peek(ps) != ':') {
        rc = parse_int(ps, &first);
        if (rc < 0)
            return rc;
        has_first = true;
        skip_space(ps);
    }
    if (peek(ps) == ':') {
        st->kind = STEP_SLICE;
        st->u.slice.start = first;
        st->u.slice.has_start = has_first;
        st->u.slice.step = 1;
        ps->pos++;
        skip_space(ps);
        if (peek(ps) == '-' || is_digit(peek(ps))) {
            if (parse_int(ps, &st->u.slice.end) < 0)
                return SL_ERR_INPUT;
            st->u.slice.has_end = true;
            skip_space(ps);
        }
        if (peek(ps) == ':') {
            ps->pos++;
            skip_space(ps);
            if (peek(ps) == '-' || is_digit(peek(ps))) {
                size_t at = ps->pos;

                if (parse_int(ps, &st->u.slice.step) < 0)
                    return SL_ERR_INPUT;
                if (st->u.slice.step == 0) {
                    ps->pos = at;
                    return refuse(ps, "the slice's step at column %d is 0", column(ps->text, at));
                }
                skip_space(ps);
            }
        }
        return peek(ps) == ']' ? 0 : expected(ps, "']'");
    }
    if (peek(ps) == ']') {
        st->kind = STEP_INDEX;
        st->u.index = first;
        return 0;
    }
    if (peek(ps) != ',')
        return expected(ps, "',', ':' or ']'");
    SL_GROW(v, cap, 1);
    v[n++] = first;
    while (peek(ps) == ',') {
        ps->pos++;
        skip_space(ps);
        rc = parse_int(ps, &bound);
        if (rc < 0)
            goto out;
        SL_GROW(v, cap, n + 1);
        v[n++] = bound;
        skip_space(ps);
    }
    if (peek(ps) != ']') {
        rc = expected(ps, "',' or ']'");
        goto out;
    }
    st->kind = STEP_INDEXES;
    st->u.indexes.v = settle(ps->a, v, n, sizeof(*v));
    st->u.indexes.n = n;
out:
    free(v);
    return rc;
}

/* The work of one test of a filter: its terms and the steps of its
 * paths, never more than the characters of the path. */
static uint32_t
expr_cost(const struct expr *e)
{
    uint32_t n = 1 + (uint32_t)(e->a.nsteps + e->b.nsteps);

    for (size_t i = 0; i < e->nkids; i++)
        n += expr_cost(&e->kids[i]);
    return n;
}

/* At '[': one bracketed step, up to and including its ']'. */
static int
parse_bracket(struct parser *ps, struct step *st)
{
    char c;
    int rc;

    ps->pos++;
    skip_space(ps);
    c = peek(ps);
    if (c == '*') {
        ps->pos++;
        st->kind = STEP_WILD;
        skip_space(ps);
        if (peek(ps) != ']')
            return expected(ps, "']'");
    } else if (c == '?') {
        struct expr *e = sl_arena_zalloc(ps->a, sizeof(*e));
        bool was = ps->in_filter;

        /* A filter's paths may hold filters: count them as nesting. */
        if (++ps->depth > MAX_DEPTH)
            return refuse(ps, "the filter nests deeper than %d at column %d", MAX_DEPTH,
                          column(ps->text, ps->pos));
        ps->pos++;
        ps->in_filter = true;
        skip_space(ps);
        rc = parse_or(ps, e);
        ps->in_filter = was;
        ps->depth--;
        if (rc < 0)
            return rc;
        skip_space(ps);
        if (peek(ps) != ']')
            return expected(ps, "']' after the filter");
        st->kind = STEP_FILTER;
        st->u.filter = e;
        st->cost = expr_cost(e);
    } else if (c == '\'' || c == '"') {
        rc = parse_names(ps, st);
        if (rc < 0)
            return rc;
    } else if (c == '-' || c == ':' || is_digit(c)) {
        rc = parse_numbers(ps, st);
        if (rc < 0)
            return rc;
    } else {
        return expected(ps, "an index, a quoted name, '*', a slice or a filter");
    }
    ps->pos++; /* the ']' */
    return 0;
}

/* At '.' or '[': one step. */
static int
parse_step(struct parser *ps, struct step *st)
{
    size_t start;
    int rc;

    memset(st, 0, sizeof(*st));
    st->start = (uint32_t)ps->pos;
    if (peek(ps) == '[') {
        rc = parse_bracket(ps, st);
        st->end = (uint32_t)ps->pos;
        return rc;
    }
    ps->pos++; /* '.' */
    if (peek(ps) == '[') {
        /* "$.abc.['def ghi']", as AWS's guide writes it: the dot is noise */
        rc = parse_bracket(ps, st);
        st->end = (uint32_t)ps->pos;
        return rc;
    }
    if (peek(ps) == '.') {
        st->deep = true;
        ps->pos++;
        if (peek(ps) == '[') {
            rc = parse_bracket(ps, st);
            st->end = (uint32_t)ps->pos;
            return rc;
        }
    }
    if (peek(ps) == '*') {
        ps->pos++;
        st->kind = STEP_WILD;
        st->end = (uint32_t)ps->pos;
        return 0;
    }
    start = ps->pos;
    while (!at_end(ps) && is_name_char(ps, (unsigned char)ps->text[ps->pos]))
        ps->pos++;
    if (ps->pos == start)
        return expected(ps, st->deep ? "a name, '*' or '[' after '..'" : "a name or '*'");
    if (peek(ps) == '(')
        return refuse(ps, "functions such as '%.*s()' at column %d are not supported",
                      (int)(ps->pos - start > 40 ? 40 : ps->pos - start), ps->text + start,
                      column(ps->text, start));
    st->kind = STEP_NAME;
    st->u.name.s = sl_arena_strndup(ps->a, ps->text + start, ps->pos - start);
    st->u.name.len = ps->pos - start;
    st->end = (uint32_t)ps->pos;
    return 0;
}

/* Steps up to the end of the text (top) or to the first character that
 * cannot start a step (in a filter), into the arena. */
static int
parse_steps(struct parser *ps, const struct step **out, size_t *nout)
{
    struct step *v = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    while (peek(ps) == '.' || peek(ps) == '[') {
        if (++ps->steps > MAX_STEPS) {
            rc = refuse(ps, "it has more than %d steps (column %d)", MAX_STEPS,
                        column(ps->text, ps->pos));
            goto out;
        }
        SL_GROW(v, cap, n + 1);
        rc = parse_step(ps, &v[n]);
        if (rc < 0)
            goto out;
        n++;
    }
    *out = settle(ps->a, v, n, sizeof(*v));
    *nout = n;
out:
    free(v);
    return rc;
}

static void
decref_literal(void *j)
{
    json_decref(j);
}

/* A number literal in a filter: -?digits(.digits)?([eE][+-]?digits)?. */
static int
parse_number(struct parser *ps, json_t **out)
{
    size_t start = ps->pos, n;
    bool integer = true;
    char buf[64], *end;

    if (peek(ps) == '-')
        ps->pos++;
    if (!is_digit(peek(ps)))
        return expected(ps, "a digit");
    while (is_digit(peek(ps)))
        ps->pos++;
    if (peek(ps) == '.') {
        integer = false;
        ps->pos++;
        if (!is_digit(peek(ps)))
            return expected(ps, "a digit after '.'");
        while (is_digit(peek(ps)))
            ps->pos++;
    }
    if (peek(ps) == 'e' || peek(ps) == 'E') {
        integer = false;
        ps->pos++;
        if (peek(ps) == '+' || peek(ps) == '-')
            ps->pos++;
        if (!is_digit(peek(ps)))
            return expected(ps, "a digit in the exponent");
        while (is_digit(peek(ps)))
            ps->pos++;
    }
    n = ps->pos - start;
    if (n >= sizeof(buf)) {
        ps->pos = start;
        return refuse(ps, "the number at column %d is too long", column(ps->text, start));
    }
    memcpy(buf, ps->text + start, n);
    buf[n] = '\0';
    if (integer) {
        long long v;

        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = json_integer(v);
            return 0;
        }
    }
    errno = 0;
    double x = strtod(buf, &end);
    if (errno == ERANGE && (x > 1 || x < -1)) {
        ps->pos = start;
        return refuse(ps, "the number at column %d is too large", column(ps->text, start));
    }
    *out = json_real(x);
    return 0;
}

/* Whether the text at the current position is the word w, not followed
 * by more of a word. */
static bool
at_word(const struct parser *ps, const char *w)
{
    size_t n = strlen(w);
    char c;

    if (ps->len - ps->pos < n || memcmp(ps->text + ps->pos, w, n) != 0)
        return false;
    c = ps->pos + n < ps->len ? ps->text[ps->pos + n] : '\0';
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_');
}

/* One side of a comparison. */
static int
parse_operand(struct parser *ps, struct operand *o)
{
    char c = peek(ps);
    int rc;

    memset(o, 0, sizeof(*o));
    if (c == '@' || c == '$') {
        size_t start = ps->pos;

        ps->pos++;
        o->kind = c == '@' ? OPND_CURRENT : OPND_INPUT;
        if (c == '$' && peek(ps) == '$') {
            ps->pos++;
            o->kind = OPND_CONTEXT;
            ps->uses_context = true;
        }
        rc = parse_steps(ps, &o->steps, &o->nsteps);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < o->nsteps; i++) {
            const struct step *st = &o->steps[i];

            if (st->deep || (st->kind != STEP_NAME && st->kind != STEP_INDEX)) {
                char shown[SHOW_MAX + 8];

                ps->pos = start;
                return refuse(ps,
                              "a path in a filter takes only names and indexes, and "
                              "'%s' at column %d is neither",
                              show(shown, sizeof(shown), ps->text + st->start, st->end - st->start),
                              column(ps->text, st->start));
            }
        }
        return 0;
    }
    o->kind = OPND_LITERAL;
    if (c == '\'' || c == '"') {
        struct name s;

        rc = parse_quoted(ps, &s);
        if (rc < 0)
            return rc;
        o->literal = json_stringn_nocheck(s.s, s.len);
    } else if (c == '-' || is_digit(c)) {
        rc = parse_number(ps, &o->literal);
        if (rc < 0)
            return rc;
    } else if (at_word(ps, "true")) {
        ps->pos += 4;
        o->literal = json_true();
    } else if (at_word(ps, "false")) {
        ps->pos += 5;
        o->literal = json_false();
    } else if (at_word(ps, "null")) {
        ps->pos += 4;
        o->literal = json_null();
    } else {
        return expected(ps, "'@', '$', a number, a quoted string, true, false or null");
    }
    sl_arena_on_reset(ps->a, decref_literal, o->literal);
    return 0;
}

/* A comparison operator at the current position, or -1. */
static int
parse_cmp_op(struct parser *ps, enum cmp_op *op)
{
    const char *s = ps->text + ps->pos;
    size_t left = ps->len - ps->pos;

    if (left >= 2 && s[0] == '=' && s[1] == '=')
        *op = CMP_EQ;
    else if (left >= 2 && s[0] == '!' && s[1] == '=')
        *op = CMP_NE;
    else if (left >= 2 && s[0] == '<' && s[1] == '=')
        *op = CMP_LE;
    else if (left >= 2 && s[0] == '>' && s[1] == '=')
        *op = CMP_GE;
    else if (left >= 1 && s[0] == '<')
        *op = CMP_LT;
    else if (left >= 1 && s[0] == '>')
        *op = CMP_GT;
    else
        return -1;
    ps->pos += *op == CMP_LT || *op == CMP_GT ? 1 : 2;
    return 0;
}

/* A comparison, an existence test, '!' and a term, or a parenthesised
 * expression. */
static int
parse_unary(struct parser *ps, struct expr *e)
{
    size_t start = ps->pos;
    int rc;

    memset(e, 0, sizeof(*e));
    if (peek(ps) == '(' ||
        (peek(ps) == '!' && ps->pos + 1 < ps->len && ps->text[ps->pos + 1] != '=')) {
        char c = ps->text[ps->pos];

        if (++ps->depth > MAX_DEPTH)
            return refuse(ps, "the filter nests deeper than %d at column %d", MAX_DEPTH,
                          column(ps->text, start));
        ps->pos++;
        skip_space(ps);
        if (c == '!') {
            struct expr *kid = sl_arena_zalloc(ps->a, sizeof(*kid));

            rc = parse_unary(ps, kid);
            e->kind = EXPR_NOT;
            e->kids = kid;
            e->nkids = 1;
        } else {
            rc = parse_or(ps, e);
            if (rc == 0) {
                skip_space(ps);
                if (peek(ps) != ')')
                    rc = expected(ps, "')'");
                else
                    ps->pos++;
            }
        }
        ps->depth--;
        return rc;
    }
    rc = parse_operand(ps, &e->a);
    if (rc < 0)
        return rc;
    skip_space(ps);
    if (peek(ps) == '=' && ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '~')
        return refuse(ps, "the operator '=~' at column %d is not supported",
                      column(ps->text, ps->pos));
    if (parse_cmp_op(ps, &e->op) < 0) {
        if (e->a.kind == OPND_LITERAL)
            return expected(ps, "a comparison operator (== != < <= > >=)");
        e->kind = EXPR_EXISTS;
        return 0;
    }
    skip_space(ps);
    e->kind = EXPR_CMP;
    return parse_operand(ps, &e->b);
}

/* Terms joined by op ("&&" or "||"), each parsed by sub. */
static int
parse_chain(struct parser *ps, struct expr *e, const char *op, enum expr_kind kind,
            int (*sub)(struct parser *, struct expr *))
{
    struct expr *v = NULL;
    size_t n = 0, cap = 0;
    int rc;

    for (;;) {
        SL_GROW(v, cap, n + 1);
        rc = sub(ps, &v[n]);
        if (rc < 0)
            goto out;
        n++;
        skip_space(ps);
        if (ps->len - ps->pos < 2 || memcmp(ps->text + ps->pos, op, 2) != 0)
            break;
        ps->pos += 2;
        skip_space(ps);
    }
    if (n == 1) {
        *e = v[0];
    } else {
        memset(e, 0, sizeof(*e));
        e->kind = kind;
        e->kids = settle(ps->a, v, n, sizeof(*v));
        e->nkids = n;
    }
out:
    free(v);
    return rc;
}

static int
parse_and(struct parser *ps, struct expr *e)
{
    return parse_chain(ps, e, "&&", EXPR_AND, parse_unary);
}

static int
parse_or(struct parser *ps, struct expr *e)
{
    return parse_chain(ps, e, "||", EXPR_OR, parse_and);
}

/* The message for a path that is not a reference path, naming its first
 * step that is not a name or a non-negative index. */
static int
not_reference(const struct flow_path *p, struct sl_diag *d)
{
    const struct step *st = &p->steps[p->first_other];
    char path[SHOW_MAX + 8], step[SHOW_MAX + 8];
    const char *why = "selects several nodes";

    if (!st->deep && st->kind == STEP_INDEX)
        why = "counts from the end of the array";
    return sl_fail(d, SL_ERR_INPUT, "'%s' is not a reference path: '%s' at column %d %s",
                   show(path, sizeof(path), p->text, strlen(p->text)),
                   show(step, sizeof(step), p->text + st->start, st->end - st->start),
                   column(p->text, st->start), why);
}

int
flow_path_parse(const char *text, bool reference, struct flow_path **out, struct sl_diag *d)
{
    struct flow_path *p;
    struct parser ps;
    size_t bad;
    int rc;

    *out = NULL;
    p = sl_calloc(1, sizeof(*p));
    sl_arena_init(&p->arena, 512);
    memset(&ps, 0, sizeof(ps));
    ps.len = strlen(text);
    ps.text = p->text = sl_arena_strndup(&p->arena, text, ps.len);
    ps.a = &p->arena;
    ps.d = d;
    if (ps.len > UINT32_MAX) {
        rc = refuse(&ps, "it is longer than 4 GiB");
        goto fail;
    }
    if (!sl_utf8_valid(ps.text, ps.len, &bad)) {
        rc = refuse(&ps, "invalid UTF-8 at column %d", column(ps.text, bad));
        goto fail;
    }
    if (peek(&ps) != '$') {
        rc = expected(&ps, "'$'");
        goto fail;
    }
    ps.pos++;
    if (peek(&ps) == '$') {
        ps.pos++;
        p->context = true;
        ps.uses_context = true;
    }
    rc = parse_steps(&ps, &p->steps, &p->nsteps);
    if (rc < 0)
        goto fail;
    if (!at_end(&ps)) {
        rc = expected(&ps, "'.' or '['");
        goto fail;
    }

    p->uses_context = ps.uses_context;
    p->reference = p->definite = true;
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct step *st = &p->steps[i];
        bool name_or_index = !st->deep && (st->kind == STEP_NAME || st->kind == STEP_INDEX);

        if (p->reference && !(name_or_index && (st->kind == STEP_NAME || st->u.index >= 0))) {
            p->reference = false;
            p->first_other = i;
        }
        if (!name_or_index)
            p->definite = false;
    }
    if (p->nsteps > 0) {
        const struct step *last = &p->steps[p->nsteps - 1];

        p->merge = last->kind == STEP_NAMES && !last->deep;
        if (p->merge) {
            p->definite = true;
            for (size_t i = 0; i + 1 < p->nsteps; i++)
                if (p->steps[i].deep ||
                    (p->steps[i].kind != STEP_NAME && p->steps[i].kind != STEP_INDEX))
                    p->definite = false;
        }
    }
    if (reference && !p->reference) {
        rc = not_reference(p, d);
        goto fail;
    }
    *out = p;
    return 0;

fail:
    flow_path_free(p);
    return rc;
}

void
flow_path_free(struct flow_path *p)
{
    if (p == NULL)
        return;
    sl_arena_release(&p->arena);
    free(p);
}

const char *
flow_path_text(const struct flow_path *p)
{
    return p->text;
}

bool
flow_path_is_context(const struct flow_path *p)
{
    return p->context;
}

bool
flow_path_is_reference(const struct flow_path *p)
{
    return p->reference;
}

/* ---- definite walks ---------------------------------------------------- */

/* An index into an array of size n, negative from the end; -1 if out. */
static int64_t
resolve(int64_t i, size_t n)
{
    if (i < 0)
        i += (int64_t)n;
    return i >= 0 && (uint64_t)i < n ? i : -1;
}

/* One name or index step from j, borrowed; NULL if it finds nothing. */
static json_t *
step_one(const struct step *st, const json_t *j)
{
    if (st->kind == STEP_NAME)
        return json_is_object(j) ? json_object_getn(j, st->u.name.s, st->u.name.len) : NULL;
    if (!json_is_array(j))
        return NULL;
    int64_t i = resolve(st->u.index, json_array_size(j));
    return i < 0 ? NULL : json_array_get(j, (size_t)i);
}

/* Why step i of p finds nothing in j: "<path>: <reason>", with code rc. */
static int
step_failed(const struct flow_path *p, size_t i, const json_t *j, int rc, struct sl_diag *d)
{
    const struct step *st = &p->steps[i];
    char path[SHOW_MAX + 8], at[SHOW_MAX + 8], name[SHOW_MAX + 8];
    bool want_object = st->kind == STEP_NAME || st->kind == STEP_NAMES;

    show(path, sizeof(path), p->text, strlen(p->text));
    show(at, sizeof(at), p->text, st->start);
    if (want_object && !json_is_object(j))
        return sl_fail(d, rc, "%s: %s is %s, not an object", path, at, flow_json_kind(j));
    if (!want_object && !json_is_array(j))
        return sl_fail(d, rc, "%s: %s is %s, not an array", path, at, flow_json_kind(j));
    if (st->kind == STEP_NAME)
        return sl_fail(d, rc, "%s: '%s' is not in the object at %s", path,
                       show(name, sizeof(name), st->u.name.s, st->u.name.len), at);
    size_t n = json_array_size(j);
    return sl_fail(d, rc, "%s: the array at %s has %zu item%s", path, at, n, n == 1 ? "" : "s");
}

/* ---- filters ----------------------------------------------------------- */

/* What an operand names, borrowed; NULL if nothing. */
static json_t *
operand_value(const struct operand *o, json_t *cur, const struct flow_roots *r)
{
    json_t *j;

    switch (o->kind) {
    case OPND_LITERAL:
        return o->literal;
    case OPND_CURRENT:
        j = cur;
        break;
    case OPND_INPUT:
        j = r->input;
        break;
    default:
        j = r->context;
        break;
    }
    for (size_t i = 0; i < o->nsteps && j != NULL; i++)
        j = step_one(&o->steps[i], j);
    return j;
}

static bool
is_number(const json_t *j)
{
    return json_is_integer(j) || json_is_real(j);
}

/* a - b as -1, 0, 1, for two numbers; integers compared exactly. */
static int
num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);

        return (x > y) - (x < y);
    }
    double x = json_number_value(a), y = json_number_value(b);
    return (x > y) - (x < y);
}

static bool
equal(const json_t *a, const json_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (is_number(a) && is_number(b))
        return num_cmp(a, b) == 0;
    return json_equal(a, b);
}

static bool
compare(enum cmp_op op, const json_t *a, const json_t *b)
{
    int c;

    if (op == CMP_EQ)
        return equal(a, b);
    if (op == CMP_NE)
        return !equal(a, b);
    if (a == NULL || b == NULL)
        return false;
    if (is_number(a) && is_number(b)) {
        /* NaN is not in JSON, but a real may still hold one. */
        if (json_is_real(a) && json_real_value(a) != json_real_value(a))
            return false;
        if (json_is_real(b) && json_real_value(b) != json_real_value(b))
            return false;
        c = num_cmp(a, b);
    } else if (json_is_string(a) && json_is_string(b)) {
        size_t la = json_string_length(a), lb = json_string_length(b);

        c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        if (c == 0)
            c = (la > lb) - (la < lb);
    } else {
        return false;
    }
    switch (op) {
    case CMP_LT:
        return c < 0;
    case CMP_LE:
        return c <= 0;
    case CMP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static bool
test(const struct expr *e, json_t *cur, const struct flow_roots *r)
{
    switch (e->kind) {
    case EXPR_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (test(&e->kids[i], cur, r))
                return true;
        return false;
    case EXPR_AND:
        for (size_t i = 0; i < e->nkids; i++)
            if (!test(&e->kids[i], cur, r))
                return false;
        return true;
    case EXPR_NOT:
        return !test(&e->kids[0], cur, r);
    case EXPR_EXISTS:
        return operand_value(&e->a, cur, r) != NULL;
    default:
        return compare(e->op, operand_value(&e->a, cur, r), operand_value(&e->b, cur, r));
    }
}

/* ---- indefinite evaluation --------------------------------------------- */

/* A set of borrowed nodes, in document order. */
struct nodes {
    json_t **v;
    size_t n, cap;
};

/* A frame of the walk under "..": a container and where in it. */
struct frame {
    json_t *j;
    size_t i;   /* arrays: the next index */
    void *iter; /* objects: the next member */
};

/* One indefinite selection. */
struct eval {
    const struct flow_roots *r; /* for "$" and "$$" in filters */
    struct frame *stack;        /* the walk under ".." */
    size_t cap;
    size_t work; /* what is left of MAX_WORK */
    bool over;   /* work ran out: stop */
};

/* Spend n units of work; false (and over set) once there are none. */
static bool
spend(struct eval *ev, size_t n)
{
    if (ev->over || ev->work < n) {
        ev->over = true;
        return false;
    }
    ev->work -= n;
    return true;
}

static void
add(struct eval *ev, struct nodes *s, json_t *j)
{
    if (!spend(ev, 1))
        return;
    if (s->n == s->cap)
        SL_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = j;
}

/* Whether j passes the filter of st, paying for the test. */
static bool
passes(struct eval *ev, const struct step *st, json_t *j)
{
    return spend(ev, st->cost) && test(st->u.filter, j, ev->r);
}

static void
add_slice(struct eval *ev, const struct step *st, json_t *arr, struct nodes *out)
{
    int64_t n = (int64_t)json_array_size(arr), step = st->u.slice.step;
    int64_t start = st->u.slice.start, end = st->u.slice.end;

    /* RFC 9535's normalisation; bounds are within +-2^53, so no overflow. */
    if (!st->u.slice.has_start)
        start = step > 0 ? 0 : n - 1;
    else if (start < 0)
        start += n;
    if (!st->u.slice.has_end)
        end = step > 0 ? n : -1;
    else if (end < 0)
        end += n;
    if (step > 0) {
        int64_t lo = start < 0 ? 0 : start > n ? n : start;
        int64_t hi = end < 0 ? 0 : end > n ? n : end;

        for (int64_t i = lo; i < hi && !ev->over; i += step)
            add(ev, out, json_array_get(arr, (size_t)i));
    } else {
        int64_t hi = start < -1 ? -1 : start > n - 1 ? n - 1 : start;
        int64_t lo = end < -1 ? -1 : end > n - 1 ? n - 1 : end;

        for (int64_t i = hi; i > lo && !ev->over; i += step)
            add(ev, out, json_array_get(arr, (size_t)i));
    }
}

/* Apply st (without its "..") to j, adding what it selects to out. */
static void
apply(struct eval *ev, const struct step *st, json_t *j, struct nodes *out)
{
    const char *key;
    json_t *v;
    size_t i;

    switch (st->kind) {
    case STEP_NAME:
    case STEP_INDEX:
        v = step_one(st, j);
        if (v != NULL)
            add(ev, out, v);
        break;
    case STEP_WILD:
        if (json_is_object(j)) {
            json_object_foreach(j, key, v)
            {
                add(ev, out, v);
            }
        } else if (json_is_array(j)) {
            json_array_foreach(j, i, v)
            {
                add(ev, out, v);
            }
        }
        break;
    case STEP_NAMES:
        if (!json_is_object(j))
            break;
        for (i = 0; i < st->u.names.n; i++) {
            v = json_object_getn(j, st->u.names.v[i].s, st->u.names.v[i].len);
            if (v != NULL)
                add(ev, out, v);
        }
        break;
    case STEP_INDEXES:
        if (!json_is_array(j))
            break;
        for (i = 0; i < st->u.indexes.n; i++) {
            int64_t k = resolve(st->u.indexes.v[i], json_array_size(j));

            if (k >= 0)
                add(ev, out, json_array_get(j, (size_t)k));
        }
        break;
    case STEP_SLICE:
        if (json_is_array(j))
            add_slice(ev, st, j, out);
        break;
    case STEP_FILTER:
        if (json_is_object(j)) {
            if (passes(ev, st, j))
                add(ev, out, j);
        } else if (json_is_array(j)) {
            json_array_foreach(j, i, v)
            {
                if (passes(ev, st, v))
                    add(ev, out, v);
            }
        }
        break;
    }
}

/* Apply st at j and at every node under j, in document order (pre-order:
 * a node before its children). */
static void
apply_deep(struct eval *ev, const struct step *st, json_t *j, struct nodes *out)
{
    size_t n = 0;

    while (spend(ev, 1)) {
        if (st->kind != STEP_FILTER)
            apply(ev, st, j, out);
        else if (json_is_object(j) && passes(ev, st, j))
            add(ev, out, j);
        if (json_is_object(j) || json_is_array(j)) {
            SL_GROW(ev->stack, ev->cap, n + 1);
            ev->stack[n++] = (struct frame){j, 0, json_is_object(j) ? json_object_iter(j) : NULL};
        }
        j = NULL;
        while (n > 0 && j == NULL) {
            struct frame *f = &ev->stack[n - 1];

            if (json_is_array(f->j)) {
                if (f->i < json_array_size(f->j))
                    j = json_array_get(f->j, f->i++);
            } else if (f->iter != NULL) {
                j = json_object_iter_value(f->iter);
                f->iter = json_object_iter_next(f->j, f->iter);
            }
            if (j == NULL)
                n--;
        }
        if (j == NULL)
            return;
    }
}

/* The object of those members of j that a final name union names. */
static json_t *
merged(const struct step *st, const json_t *j)
{
    json_t *o = json_object();

    for (size_t i = 0; i < st->u.names.n; i++) {
        const struct name *nm = &st->u.names.v[i];
        json_t *v = json_object_getn(j, nm->s, nm->len);

        if (v != NULL)
            json_object_setn_nocheck(o, nm->s, nm->len, v);
    }
    return o;
}

/* The array of what an indefinite path selects from root, or
 * SL_ERR_LIMIT if that takes more than MAX_WORK. */
static int
select_all(const struct flow_path *p, json_t *root, const struct flow_roots *r, json_t **out,
           struct sl_diag *d)
{
    struct nodes a = {0}, b = {0}, *cur = &a, *next = &b, *t;
    struct eval ev = {.r = r, .work = MAX_WORK};
    size_t n = p->nsteps - (p->merge ? 1 : 0);
    int rc = 0;

    add(&ev, cur, root);
    for (size_t i = 0; i < n && cur->n > 0 && !ev.over; i++) {
        const struct step *st = &p->steps[i];

        next->n = 0;
        for (size_t k = 0; k < cur->n && !ev.over; k++) {
            if (st->deep)
                apply_deep(&ev, st, cur->v[k], next);
            else
                apply(&ev, st, cur->v[k], next);
        }
        t = cur;
        cur = next;
        next = t;
    }
    if (ev.over) {
        char path[SHOW_MAX + 8];

        rc = sl_fail(d, SL_ERR_LIMIT, "selecting '%s' would visit more than %d nodes",
                     show(path, sizeof(path), p->text, strlen(p->text)), MAX_WORK);
        sl_diag_detail(d, "Each node reached, visited under '..' or tested by a filter counts; "
                          "every further '..' multiplies them.");
        goto out;
    }
    *out = json_array();
    for (size_t k = 0; k < cur->n; k++) {
        if (!p->merge)
            json_array_append(*out, cur->v[k]);
        else if (json_is_object(cur->v[k]))
            json_array_append_new(*out, merged(&p->steps[p->nsteps - 1], cur->v[k]));
    }
out:
    free(ev.stack);
    free(a.v);
    free(b.v);
    return rc;
}

/* ---- select ------------------------------------------------------------ */

int
flow_path_select(const struct flow_path *p, const struct flow_roots *r, json_t **out,
                 struct sl_diag *d)
{
    struct flow_roots roots = *r;
    json_t *empty = NULL, *j;
    size_t n;
    int rc = 0;

    *out = NULL;
    if (roots.input == NULL)
        roots.input = json_null();
    if (roots.context == NULL && p->uses_context)
        roots.context = empty = json_object();
    j = p->context ? roots.context : roots.input;
    if (!p->definite) {
        rc = select_all(p, j, &roots, out, d);
        goto done;
    }
    n = p->nsteps - (p->merge ? 1 : 0);
    for (size_t i = 0; i < n; i++) {
        json_t *next = step_one(&p->steps[i], j);

        if (next == NULL) {
            rc = step_failed(p, i, j, SL_ERR_NOTFOUND, d);
            goto done;
        }
        j = next;
    }
    if (p->merge) {
        if (!json_is_object(j)) {
            rc = step_failed(p, n, j, SL_ERR_NOTFOUND, d);
            goto done;
        }
        *out = merged(&p->steps[n], j);
    } else {
        *out = json_incref(j);
    }
done:
    json_decref(empty);
    return rc;
}

/* ---- put --------------------------------------------------------------- */

/*
 * Check that put can go all the way, without changing anything: each
 * step must meet the container it needs, an index an existing element; a
 * missing name is fine if only names follow (objects are created).
 */
static int
put_check(const struct flow_path *p, const json_t *root, struct sl_diag *d)
{
    const json_t *j = root;
    size_t i = 0;

    for (; i < p->nsteps; i++) {
        const struct step *st = &p->steps[i];
        const json_t *next = step_one(st, j);

        if (next != NULL) {
            j = next;
            continue;
        }
        if (st->kind != STEP_NAME || !json_is_object(j))
            return step_failed(p, i, j, SL_ERR_INPUT, d);
        break;
    }
    /* steps[i] is a missing name: what follows is created. */
    for (i++; i < p->nsteps; i++) {
        const struct step *st = &p->steps[i];

        if (st->kind == STEP_INDEX) {
            char path[SHOW_MAX + 8], at[SHOW_MAX + 8];

            return sl_fail(d, SL_ERR_INPUT,
                           "%s: %s does not exist, and an array cannot be made for an index",
                           show(path, sizeof(path), p->text, strlen(p->text)),
                           show(at, sizeof(at), p->text, st->start));
        }
    }
    return 0;
}

/* j itself, or a shallow copy of it put in its place if someone else also
 * holds it (copy-on-write). */
static json_t *
own(json_t *j, json_t *parent, const struct step *st)
{
    json_t *c;

    if (j->refcount <= 1)
        return j;
    c = json_copy(j);
    if (st->kind == STEP_NAME)
        json_object_setn_new_nocheck(parent, st->u.name.s, st->u.name.len, c);
    else
        json_array_set_new(parent, (size_t)resolve(st->u.index, json_array_size(parent)), c);
    return c;
}

int
flow_path_put(const struct flow_path *p, json_t **root, json_t *value, struct sl_diag *d)
{
    const struct step *last;
    json_t *j, *next;
    bool alias = false;
    int rc;

    assert(value != NULL);
    if (!p->reference)
        return not_reference(p, d);
    if (p->context) {
        char path[SHOW_MAX + 8];

        return sl_fail(d, SL_ERR_INPUT, "'%s' cannot be written: it is in the context object",
                       show(path, sizeof(path), p->text, strlen(p->text)));
    }
    if (p->nsteps == 0) {
        json_incref(value);
        json_decref(*root);
        *root = value;
        return 0;
    }
    rc = put_check(p, *root != NULL ? *root : json_null(), d);
    if (rc < 0)
        return rc;

    /* Containers held only by their parent (and *root by the caller) are
     * changed in place; below the first shared one, everything is copied.
     * If value is one changed in place (the caller passed the input as its
     * own result, say), it is copied now, before anything changes: as it
     * is, and so that the tree cannot hold itself. */
    j = *root;
    for (size_t i = 0; j != NULL && j->refcount <= 1; i++) {
        alias |= j == value;
        j = i + 1 < p->nsteps ? step_one(&p->steps[i], j) : NULL;
    }
    value = alias ? json_deep_copy(value) : json_incref(value);

    if ((*root)->refcount > 1) {
        j = json_copy(*root);
        json_decref(*root);
        *root = j;
    }
    j = *root;
    for (size_t i = 0; i + 1 < p->nsteps; i++) {
        const struct step *st = &p->steps[i];

        next = step_one(st, j);
        if (next == NULL) {
            next = json_object();
            json_object_setn_new_nocheck(j, st->u.name.s, st->u.name.len, next);
        } else {
            next = own(next, j, st);
        }
        j = next;
    }
    last = &p->steps[p->nsteps - 1];
    if (last->kind == STEP_NAME)
        json_object_setn_new_nocheck(j, last->u.name.s, last->u.name.len, value);
    else
        json_array_set_new(j, (size_t)resolve(last->u.index, json_array_size(j)), value);
    return 0;
}
