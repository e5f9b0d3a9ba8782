/*
 * dqdl.c - the DQDL parser (see dqdl.h): a lexer with line and column, a
 * recursive-descent parser over its tokens, and the checks of each rule
 * against its type's form (the table `types`).
 *
 * The lexer follows the published grammar's tokens: a word is a run of
 * [A-Za-z0-9_.] (all digits: an integer; digits.digits: a decimal), a
 * string is "..." with \" and \\ as its only escapes, # comments to the end
 * of the line.  Keywords are words: the parser matches them by text, so a
 * column may still be named "in" or "where" inside quotes.
 *
 * Every node is allocated from the ruleset's arena; on a refusal the
 * arena is released and *out is left empty.
 */
#include "quality/dqdl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/banned.h"

/* AWS's limits on labels. */
#define MAX_LABELS 10
#define MAX_LABEL_KEY 128
#define MAX_LABEL_VALUE 256
/* Nesting of parentheses and function calls: a bound, so that a hostile
 * file cannot exhaust the stack. */
#define MAX_DEPTH 64

/* ---- the rule types ------------------------------------------------------- */

enum ret { R_NUMBER, R_BOOLEAN, R_STRING, R_VALUES, R_DURATION, R_SQL, R_ANALYZER };

struct type_info {
    const char *name;
    unsigned min_params, max_params; /* max UINT_MAX-ish: any number */
    const char *params;         /* for messages */
    enum ret ret;
    bool where, threshold, analyzer;
};

#define ANY 1000u

static const struct type_info types[DQ_NTYPES] = {
    [DQ_ROW_COUNT] = {"RowCount", 0, 0, "", R_NUMBER, true, false, true},
    [DQ_ROW_COUNT_MATCH] = {"RowCountMatch", 1, 1, "\"reference\"", R_NUMBER, false, false, false},
    [DQ_COLUMN_COUNT] = {"ColumnCount", 0, 0, "", R_NUMBER, false, false, true},
    [DQ_COMPLETENESS] = {"Completeness", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_IS_COMPLETE] = {"IsComplete", 1, 1, "\"column\"", R_BOOLEAN, true, false, false},
    [DQ_COLUMN_DATA_TYPE] = {"ColumnDataType", 1, 1, "\"column\"", R_STRING, true, true, false},
    [DQ_COLUMN_NAMES_MATCH_PATTERN] = {"ColumnNamesMatchPattern", 1, 1, "\"regex\"", R_BOOLEAN,
                                       false, false, false},
    [DQ_COLUMN_EXISTS] = {"ColumnExists", 1, 1, "\"column\"", R_BOOLEAN, false, false, false},
    [DQ_COLUMN_CORRELATION] = {"ColumnCorrelation", 2, 2, "\"column1\" \"column2\"", R_NUMBER,
                               true, false, true},
    [DQ_UNIQUENESS] = {"Uniqueness", 1, ANY, "\"column\"...", R_NUMBER, true, false, true},
    [DQ_IS_UNIQUE] = {"IsUnique", 1, ANY, "\"column\"...", R_BOOLEAN, true, false, false},
    [DQ_MEAN] = {"Mean", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_SUM] = {"Sum", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_STANDARD_DEVIATION] = {"StandardDeviation", 1, 1, "\"column\"", R_NUMBER, true, false,
                               true},
    [DQ_VARIANCE] = {"Variance", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_ENTROPY] = {"Entropy", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_DISTINCT_VALUES_COUNT] = {"DistinctValuesCount", 1, 1, "\"column\"", R_NUMBER, true,
                                  false, true},
    [DQ_UNIQUE_VALUE_RATIO] = {"UniqueValueRatio", 1, 1, "\"column\"", R_NUMBER, true, false,
                               true},
    [DQ_COLUMN_LENGTH] = {"ColumnLength", 1, 1, "\"column\"", R_NUMBER, true, false, true},
    [DQ_IS_PRIMARY_KEY] = {"IsPrimaryKey", 1, ANY, "\"column\"...", R_BOOLEAN, true, false,
                           false},
    [DQ_COLUMN_VALUES] = {"ColumnValues", 1, 1, "\"column\"", R_VALUES, true, true, true},
    [DQ_DATA_FRESHNESS] = {"DataFreshness", 1, 1, "\"column\"", R_DURATION, true, false, false},
    [DQ_CUSTOM_SQL] = {"CustomSql", 1, 1, "\"sql statement\"", R_SQL, false, true, true},
    [DQ_REFERENTIAL_INTEGRITY] = {"ReferentialIntegrity", 2, 2,
                                  "\"primary columns\" \"reference.columns\"", R_NUMBER, false,
                                  false, false},
    [DQ_DATASET_MATCH] = {"DatasetMatch", 2, 3,
                          "\"reference\" \"key mappings\" [\"match mappings\"]", R_NUMBER, false,
                          false, false},
    [DQ_SCHEMA_MATCH] = {"SchemaMatch", 1, 1, "\"reference\"", R_NUMBER, false, false, false},
    [DQ_AGGREGATE_MATCH] = {"AggregateMatch", 2, 2, "\"aggregate\" \"aggregate\"", R_NUMBER,
                            false, false, false},
    [DQ_DETECT_ANOMALIES] = {"DetectAnomalies", 1, ANY, "\"metric\" [\"column\"...]", R_BOOLEAN,
                             false, false, false},
    [DQ_ALL_STATISTICS] = {"AllStatistics", 1, 1, "\"column\"", R_ANALYZER, false, false, true},
    [DQ_DISTRIBUTION_DRIFT] = {"DistributionDrift", 1, 1, "\"column\"", R_NUMBER, false, false,
                               true},
};

const char *
dq_type_name(enum dq_type t)
{
    return t < DQ_NTYPES ? types[t].name : "?";
}

/* The functions of dynamic thresholds. */
static const char *const functions[] = {"last", "avg", "median", "max", "min",
                                        "sum",  "std", "abs",    "index"};

/* ---- lexer ------------------------------------------------------------------ */

enum tok {
    T_EOF, T_WORD, T_INT, T_DECIMAL, T_STRING,
    T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN,
    T_COMMA, T_COLON, T_EQ, T_BANG, T_GT, T_GE, T_LT, T_LE,
    T_PLUS, T_MINUS, T_STAR, T_SLASH, T_DOLLAR,
};

struct token {
    enum tok t;
    const char *p;              /* in the text */
    size_t len;
    size_t off, end;            /* byte offsets: start and one past the end */
    int line, col;
};

struct parser {
    const char *path;
    const char *text;
    size_t len, pos;
    int line;
    size_t line_start;          /* offset of the current line's first byte */
    struct token tok;           /* the current token */
    size_t prev_end;            /* end of the token before it */
    int depth;
    struct dq_ruleset *rs;
    struct sl_arena *a;
    struct sl_diag *d;
    bool failed;
    /* Variables: names and values (a value is a string or a list). */
    const struct dq_pair *vars;
    size_t nvars, capvars;
};

/* Refuse at (line, col): "column C: what".  Returns SL_ERR_INPUT. */
static int __attribute__((format(printf, 4, 5)))
fail_at(struct parser *ps, int line, int col, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    if (ps->failed)
        return SL_ERR_INPUT;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_fail(ps->d, SL_ERR_INPUT, "column %d: %s", col, msg);
    sl_diag_at(ps->d, ps->path, line, 0, NULL);
    return SL_ERR_INPUT;
}

/* The current token, quoted for a message ("end of file" at the end). */
static const char *
shown(struct parser *ps)
{
    static __thread char buf[80];
    size_t n = ps->tok.len < 40 ? ps->tok.len : 40;

    if (ps->tok.t == T_EOF)
        return "the end of the file";
    snprintf(buf, sizeof(buf), "'%.*s%s'", (int)n, ps->tok.p, ps->tok.len > n ? "..." : "");
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
            *c = '?';
    return buf;
}

static int
expected(struct parser *ps, const char *what)
{
    return fail_at(ps, ps->tok.line, ps->tok.col, "expected %s, found %s", what, shown(ps));
}

static bool
is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.';
}

/* Skip whitespace and comments; count lines. */
static void
skip_space(struct parser *ps)
{
    while (ps->pos < ps->len) {
        char c = ps->text[ps->pos];

        if (c == '\n') {
            ps->pos++;
            ps->line++;
            ps->line_start = ps->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            ps->pos++;
        } else if (c == '#') {
            while (ps->pos < ps->len && ps->text[ps->pos] != '\n')
                ps->pos++;
        } else {
            break;
        }
    }
}

/* Move to the next token.  0, or SL_ERR_INPUT for a character no token
 * begins with or a string that does not end. */
static int
next(struct parser *ps)
{
    struct token *t = &ps->tok;
    const char *s;
    size_t n;

    ps->prev_end = t->end;
    skip_space(ps);
    t->off = ps->pos;
    t->p = ps->text + ps->pos;
    t->line = ps->line;
    t->col = (int)(ps->pos - ps->line_start) + 1;
    if (ps->pos >= ps->len) {
        t->t = T_EOF;
        t->len = 0;
        t->end = ps->pos;
        return 0;
    }
    s = t->p;
    n = 1;
    switch (*s) {
    case '{': t->t = T_LBRACE; break;
    case '}': t->t = T_RBRACE; break;
    case '[': t->t = T_LBRACK; break;
    case ']': t->t = T_RBRACK; break;
    case '(': t->t = T_LPAREN; break;
    case ')': t->t = T_RPAREN; break;
    case ',': t->t = T_COMMA; break;
    case ':': t->t = T_COLON; break;
    case '=': t->t = T_EQ; break;
    case '!': t->t = T_BANG; break;
    case '+': t->t = T_PLUS; break;
    case '-': t->t = T_MINUS; break;
    case '*': t->t = T_STAR; break;
    case '/': t->t = T_SLASH; break;
    case '$': t->t = T_DOLLAR; break;
    case '>':
    case '<':
        t->t = *s == '>' ? T_GT : T_LT;
        if (ps->pos + 1 < ps->len && s[1] == '=') {
            t->t = *s == '>' ? T_GE : T_LE;
            n = 2;
        }
        break;
    case '"': {
        size_t i = ps->pos + 1;
        int line = ps->line;
        size_t line_start = ps->line_start;

        for (;;) {
            if (i >= ps->len)
                return fail_at(ps, t->line, t->col, "a string that does not end: '\"' missing");
            if (ps->text[i] == '\\' && i + 1 < ps->len &&
                (ps->text[i + 1] == '"' || ps->text[i + 1] == '\\')) {
                i += 2;
                continue;
            }
            if (ps->text[i] == '"')
                break;
            if (ps->text[i] == '\0')
                return fail_at(ps, line, (int)(i - line_start) + 1, "a NUL byte in a string");
            if (ps->text[i] == '\n') {
                line++;
                line_start = i + 1;
            }
            i++;
        }
        t->t = T_STRING;
        n = i + 1 - ps->pos;
        ps->line = line;
        ps->line_start = line_start;
        break;
    }
    default: {
        size_t i = 0, dots = 0, digits = 0;

        if (!is_word_char((unsigned char)*s))
            return fail_at(ps, t->line, t->col, "unexpected character %s",
                           (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f
                               ? (char[]){'\'', *s, '\'', 0}
                               : "(a control or non-ASCII byte)");
        while (ps->pos + i < ps->len && is_word_char((unsigned char)s[i])) {
            dots += s[i] == '.';
            digits += s[i] >= '0' && s[i] <= '9';
            i++;
        }
        n = i;
        if (digits == n)
            t->t = T_INT;
        else if (dots == 1 && digits == n - 1 && s[0] != '.' && s[n - 1] != '.')
            t->t = T_DECIMAL;
        else
            t->t = T_WORD;
        break;
    }
    }
    t->len = n;
    ps->pos += n;
    t->end = ps->pos;
    return 0;
}

/* Whether the current token is the word w (case as given; DQDL's keywords
 * are lower or upper case: pass both through is_kw()). */
static bool
is_word(const struct parser *ps, const char *w)
{
    size_t n = strlen(w);

    return ps->tok.t == T_WORD && ps->tok.len == n && memcmp(ps->tok.p, w, n) == 0;
}

/* A keyword written all lower or all upper case ("and", "AND"). */
static bool
is_kw(const struct parser *ps, const char *lower)
{
    char upper[32];
    size_t n = strlen(lower);

    if (n >= sizeof(upper))
        return false;
    for (size_t i = 0; i <= n; i++)
        upper[i] = (char)(lower[i] >= 'a' && lower[i] <= 'z' ? lower[i] - 32 : lower[i]);
    return is_word(ps, lower) || is_word(ps, upper);
}

/* Words that end a rule's parameters. */
static bool
is_reserved(const struct parser *ps)
{
    static const char *const kw[] = {"and", "or", "of", "null", "empty", "whitespaces_only",
                                     "between", "in", "not", "matches", "where", "with",
                                     "labels"};

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (is_kw(ps, kw[i]))
            return true;
    return false;
}

/* ---- arena helpers ---------------------------------------------------------- */

/* Append elem (size bytes) to the array *arr of *n (capacity *cap). */
static void
push(struct sl_arena *a, const void *elem, size_t size, void *arr, size_t *n, size_t *cap)
{
    void **p = arr;

    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        void *grown = sl_arena_alloc(a, nc * size);

        if (*n)
            memcpy(grown, *p, *n * size);
        *p = grown;
        *cap = nc;
    }
    memcpy((char *)*p + *n * size, elem, size);
    (*n)++;
}

/* The decoded value of the current string token. */
static char *
string_value(struct parser *ps)
{
    const char *s = ps->tok.p + 1;
    size_t n = ps->tok.len - 2, k = 0;
    char *out = sl_arena_alloc(ps->a, n + 1);

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
            i++;
        out[k++] = s[i];
    }
    out[k] = '\0';
    return out;
}

/* The text between two offsets as written, whitespace and comments outside
 * strings folded into single spaces. */
static const char *
folded(struct parser *ps, size_t from, size_t to)
{
    struct sl_buf b;
    const char *out;
    bool space = false;

    sl_buf_init(&b);
    for (size_t i = from; i < to; i++) {
        char c = ps->text[i];

        if (c == '"') {
            size_t j = i + 1;

            while (j < to && ps->text[j] != '"')
                j += ps->text[j] == '\\' && j + 1 < to ? 2 : 1;
            if (space && b.len)
                sl_buf_addc(&b, ' ');
            space = false;
            sl_buf_add(&b, ps->text + i, (j < to ? j + 1 : to) - i);
            i = j < to ? j : to - 1;
            continue;
        }
        if (c == '#') {
            while (i + 1 < to && ps->text[i + 1] != '\n')
                i++;
            space = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space && b.len)
            sl_buf_addc(&b, ' ');
        space = false;
        sl_buf_addc(&b, c);
    }
    out = sl_arena_strndup(ps->a, b.data ? b.data : "", b.len);
    sl_buf_release(&b);
    return out;
}

/* ---- variables -------------------------------------------------------------- */

static const struct dq_pair *
find_var(const struct parser *ps, const char *name, size_t n)
{
    for (size_t i = 0; i < ps->nvars; i++)
        if (strlen(ps->vars[i].key) == n && memcmp(ps->vars[i].key, name, n) == 0)
            return &ps->vars[i];
    return NULL;
}

/* At '$': the variable it names (the token after it is consumed). */
static int
deref(struct parser *ps, const struct dq_pair **out)
{
    int line = ps->tok.line, col = ps->tok.col;

    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_WORD && ps->tok.t != T_INT)
        return expected(ps, "a variable's name after '$'");
    if (ps->tok.p != ps->text + ps->prev_end)
        return fail_at(ps, line, col, "'$' must be followed by a variable's name, with no space");
    *out = find_var(ps, ps->tok.p, ps->tok.len);
    if (*out == NULL) {
        struct sl_buf b;

        sl_buf_init(&b);
        for (size_t i = 0; i < ps->nvars; i++)
            sl_buf_addf(&b, "%s$%s", i ? ", " : "", ps->vars[i].key);
        fail_at(ps, line, col, "unknown variable $%.*s (%s%s)", (int)ps->tok.len, ps->tok.p,
                ps->nvars ? "defined: " : "none is defined", ps->nvars ? b.data : "");
        sl_buf_release(&b);
        return SL_ERR_INPUT;
    }
    return next(ps);
}

/* ---- numbers ------------------------------------------------------------- */

static int parse_num(struct parser *ps, const struct dq_num **out);

static struct dq_num *
new_num(struct parser *ps, enum dq_num_kind k, int line, int col)
{
    struct dq_num *n = sl_arena_zalloc(ps->a, sizeof(*n));

    n->kind = k;
    n->height = 1;
    n->line = line;
    n->col = col;
    return n;
}

/* n's height from its children's; refused past MAX_DEPTH, so that whoever
 * walks the tree recursively has a bound. */
static int
set_height(struct parser *ps, struct dq_num *n, const struct dq_num *child)
{
    if (child->height + 1 > n->height)
        n->height = child->height + 1;
    if (n->height > MAX_DEPTH)
        return fail_at(ps, n->line, n->col, "an expression nested over %d deep", MAX_DEPTH);
    return 0;
}

static bool
is_last(const struct dq_num *n)
{
    return n->kind == DQ_NUM_CALL && strcmp(n->fn, "last") == 0;
}

/* Refuse n if it is last(k) with k over 1: several values, not a number
 * (an aggregate's argument is the one place it belongs). */
static int
one_value(struct parser *ps, const struct dq_num *n)
{
    if (is_last(n) && n->nargs == 1 && n->args[0]->value > 1)
        return fail_at(ps, n->line, n->col,
                       "last(%g) is several values: reduce it with avg, median, max, min, sum, "
                       "std or index",
                       n->args[0]->value);
    return 0;
}

/* name(args): a dynamic threshold's function, its arguments checked. */
static int
parse_call(struct parser *ps, const struct dq_num **out)
{
    struct dq_num *n = new_num(ps, DQ_NUM_CALL, ps->tok.line, ps->tok.col);
    const struct dq_num **args = NULL;
    size_t nargs = 0, cap = 0, fi;
    char name[16];

    for (fi = 0; fi < sizeof(functions) / sizeof(functions[0]); fi++)
        if (ps->tok.len == strlen(functions[fi]) &&
            strncasecmp(ps->tok.p, functions[fi], ps->tok.len) == 0)
            break;
    if (fi == sizeof(functions) / sizeof(functions[0]))
        return fail_at(ps, n->line, n->col,
                       "unknown function %s (the functions are last, avg, median, max, min, "
                       "sum, std, abs and index)",
                       shown(ps));
    snprintf(name, sizeof(name), "%s", functions[fi]);
    n->fn = functions[fi];
    if (next(ps) < 0 || ps->tok.t != T_LPAREN)
        return ps->failed ? SL_ERR_INPUT : expected(ps, "'(' after a function's name");
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_RPAREN) {
        for (;;) {
            const struct dq_num *arg;

            if (parse_num(ps, &arg) < 0 || set_height(ps, n, arg) < 0)
                return SL_ERR_INPUT;
            push(ps->a, &arg, sizeof(arg), &args, &nargs, &cap);
            if (ps->tok.t != T_COMMA)
                break;
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        }
        if (ps->tok.t != T_RPAREN)
            return expected(ps, "',' or ')' in a function's arguments");
    }
    n->args = args;
    n->nargs = nargs;
    if (strcmp(name, "last") == 0) {
        /* last() is last(1); last(k): k a whole number from 1. */
        if (nargs > 1 || (nargs == 1 && (args[0]->kind != DQ_NUM_LIT || args[0]->value < 1 ||
                                         args[0]->value != floor(args[0]->value) ||
                                         args[0]->value > 1e6)))
            return fail_at(ps, n->line, n->col,
                           "last() takes one whole number of past evaluations, from 1: "
                           "last(10)");
    } else if (strcmp(name, "index") == 0) {
        if (nargs != 2 || !is_last(args[0]) || args[1]->kind != DQ_NUM_LIT ||
            args[1]->value < 0 || args[1]->value != floor(args[1]->value))
            return fail_at(ps, n->line, n->col,
                           "index() takes last(k) and a position from 0 (the newest): "
                           "index(last(10), 0)");
    } else if (strcmp(name, "abs") == 0) {
        if (nargs != 1)
            return fail_at(ps, n->line, n->col, "abs() takes one number");
        if (one_value(ps, args[0]) < 0)
            return SL_ERR_INPUT;
    } else if (nargs != 1 || !is_last(args[0])) {
        return fail_at(ps, n->line, n->col, "%s() takes last(k): %s(last(10))", name, name);
    }
    *out = n;
    return next(ps);
}

/* An atom: [-]number, NULL, a call or (expression). */
static int
parse_atom(struct parser *ps, const struct dq_num **out)
{
    int line = ps->tok.line, col = ps->tok.col;
    bool neg = false;

    if (ps->tok.t == T_MINUS) {
        neg = true;
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_INT && ps->tok.t != T_DECIMAL)
            return expected(ps, "a number after '-'");
    }
    if (ps->tok.t == T_INT || ps->tok.t == T_DECIMAL) {
        struct dq_num *n = new_num(ps, DQ_NUM_LIT, line, col);
        char buf[64];

        if (ps->tok.len >= sizeof(buf))
            return fail_at(ps, line, col, "a number of %zu digits is too long", ps->tok.len);
        memcpy(buf, ps->tok.p, ps->tok.len);
        buf[ps->tok.len] = '\0';
        n->value = strtod(buf, NULL);
        if (!isfinite(n->value))
            return fail_at(ps, line, col, "the number %s is out of range", buf);
        if (neg)
            n->value = -n->value;
        *out = n;
        return next(ps);
    }
    if (is_kw(ps, "null")) {
        *out = new_num(ps, DQ_NUM_NULL, line, col);
        return next(ps);
    }
    if (ps->tok.t == T_WORD && ps->tok.p[0] >= '0' && ps->tok.p[0] <= '9')
        return expected(ps, "a number (digits, maybe with a decimal point)");
    if (ps->tok.t == T_WORD && !is_reserved(ps))
        return parse_call(ps, out);
    if (ps->tok.t == T_LPAREN) {
        if (++ps->depth > MAX_DEPTH)
            return fail_at(ps, line, col, "parentheses nested over %d deep", MAX_DEPTH);
        if (next(ps) < 0 || parse_num(ps, out) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_RPAREN)
            return expected(ps, "')'");
        ps->depth--;
        return next(ps);
    }
    return expected(ps, "a number");
}

/*
 * An arithmetic expression.  DQDL's grammar puts + - * / at one level,
 * left to right (1 + 2 * 3 is 9), and sluice reads it the same way so
 * that a ruleset means what it means in Glue; parentheses group.
 */
static int
parse_num(struct parser *ps, const struct dq_num **out)
{
    const struct dq_num *l;

    if (++ps->depth > MAX_DEPTH)
        return fail_at(ps, ps->tok.line, ps->tok.col, "an expression nested over %d deep",
                       MAX_DEPTH);
    if (parse_atom(ps, &l) < 0)
        return SL_ERR_INPUT;
    while (ps->tok.t == T_PLUS || ps->tok.t == T_MINUS || ps->tok.t == T_STAR ||
           ps->tok.t == T_SLASH) {
        struct dq_num *n = new_num(ps, DQ_NUM_OP, ps->tok.line, ps->tok.col);

        n->op = *ps->tok.p;
        n->l = l;
        if (one_value(ps, l) < 0 || next(ps) < 0 || parse_atom(ps, &n->r) < 0 ||
            one_value(ps, n->r) < 0 || set_height(ps, n, l) < 0 || set_height(ps, n, n->r) < 0)
            return SL_ERR_INPUT;
        l = n;
    }
    ps->depth--;
    *out = l;
    return 0;
}

/* ---- condition values -------------------------------------------------------- */

/* A duration or size unit after an integer, or 0. */
static int64_t
unit_of(const struct parser *ps, bool *size)
{
    static const struct {
        const char *name;
        int64_t mult;
        bool size;
    } units[] = {
        {"days", 86400000000LL, false}, {"hours", 3600000000LL, false},
        {"minutes", 60000000LL, false}, {"B", 1, true},
        {"KB", 1LL << 10, true},        {"MB", 1LL << 20, true},
        {"GB", 1LL << 30, true},        {"TB", 1LL << 40, true},
    };

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (is_word(ps, units[i].name)) {
            *size = units[i].size;
            return units[i].mult;
        }
    return 0;
}

/* At an integer followed by a unit: the quantity, in microseconds or bytes. */
static int
parse_quantity(struct parser *ps, struct dq_val *v)
{
    char buf[24];
    int64_t mult, k;
    bool size = false;

    if (ps->tok.len >= sizeof(buf) - 1)
        return fail_at(ps, v->line, v->col, "the number is too long");
    memcpy(buf, ps->tok.p, ps->tok.len);
    buf[ps->tok.len] = '\0';
    k = strtoll(buf, NULL, 10);
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    mult = unit_of(ps, &size);
    if (k > INT64_MAX / mult)
        return fail_at(ps, v->line, v->col, "%s %.*s is out of range", buf, (int)ps->tok.len,
                       ps->tok.p);
    v->kind = size ? DQ_VAL_SIZE : DQ_VAL_DURATION;
    v->i = k * mult;
    return next(ps);
}

/* A copy of ps for looking ahead: it reports nothing (a token it cannot
 * read is reported when the parser itself gets there). */
static struct parser
lookahead(const struct parser *ps)
{
    struct parser la = *ps;

    la.d = NULL;
    return la;
}

/* Whether the token after the current one (an integer) is a unit. */
static bool
unit_follows(const struct parser *ps)
{
    struct parser la = lookahead(ps);
    bool size;

    return next(&la) == 0 && unit_of(&la, &size) != 0;
}

/* now() or (now() +/- N unit): the offset in microseconds. */
static int
parse_now(struct parser *ps, struct dq_val *v, bool paren)
{
    v->kind = DQ_VAL_NOW;
    v->i = 0;
    if (paren && next(ps) < 0)
        return SL_ERR_INPUT;
    /* now ( ) */
    if (next(ps) < 0 || ps->tok.t != T_LPAREN)
        return ps->failed ? SL_ERR_INPUT : expected(ps, "'(' after now");
    if (next(ps) < 0 || ps->tok.t != T_RPAREN)
        return ps->failed ? SL_ERR_INPUT : expected(ps, "')': now() takes no arguments");
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (!paren)
        return 0;
    if (ps->tok.t == T_PLUS || ps->tok.t == T_MINUS) {
        bool minus = ps->tok.t == T_MINUS;
        struct dq_val q = {.line = ps->tok.line, .col = ps->tok.col};

        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_INT || !unit_follows(ps))
            return expected(ps, "a duration after now() +/-, such as 3 days");
        if (parse_quantity(ps, &q) < 0)
            return SL_ERR_INPUT;
        if (q.kind != DQ_VAL_DURATION)
            return fail_at(ps, q.line, q.col, "now() takes days, hours or minutes, not a size");
        v->i = minus ? -q.i : q.i;
    }
    if (ps->tok.t != T_RPAREN)
        return expected(ps, "')' after now() +/- a duration");
    return next(ps);
}

/* Whether the tokens from the current '(' read "( now (". */
static bool
paren_now(const struct parser *ps)
{
    struct parser la = lookahead(ps);

    return next(&la) == 0 && is_word(&la, "now") && next(&la) == 0 && la.tok.t == T_LPAREN;
}

/* One value of a condition. */
static int
parse_value(struct parser *ps, struct dq_val *v)
{
    memset(v, 0, sizeof(*v));
    v->line = ps->tok.line;
    v->col = ps->tok.col;
    if (ps->tok.t == T_STRING) {
        v->kind = DQ_VAL_STR;
        v->str = string_value(ps);
        return next(ps);
    }
    if (ps->tok.t == T_DOLLAR) {
        const struct dq_pair *var;

        if (deref(ps, &var) < 0)
            return SL_ERR_INPUT;
        if (var->list)
            return fail_at(ps, v->line, v->col,
                           "$%s is a list: it is used as 'in $%s', not as one value", var->key,
                           var->key);
        v->kind = DQ_VAL_STR;
        v->str = var->values[0];
        return 0;
    }
    if (is_kw(ps, "null")) {
        v->kind = DQ_VAL_NULL;
        return next(ps);
    }
    if (is_kw(ps, "empty")) {
        v->kind = DQ_VAL_EMPTY;
        return next(ps);
    }
    if (is_kw(ps, "whitespaces_only")) {
        v->kind = DQ_VAL_WHITESPACES;
        return next(ps);
    }
    if (is_word(ps, "now"))
        return parse_now(ps, v, false);
    if (ps->tok.t == T_LPAREN && paren_now(ps))
        return parse_now(ps, v, true);
    if (ps->tok.t == T_INT && unit_follows(ps))
        return parse_quantity(ps, v);
    v->kind = DQ_VAL_NUM;
    if (parse_num(ps, &v->num) < 0)
        return SL_ERR_INPUT;
    return one_value(ps, v->num);
}

/* [v, v, ...] or $list after in. */
static int
parse_value_list(struct parser *ps, struct dq_cond *c)
{
    struct dq_val *vals = NULL;
    size_t n = 0, cap = 0;

    if (ps->tok.t == T_DOLLAR) {
        const struct dq_pair *var;
        int line = ps->tok.line, col = ps->tok.col;

        if (deref(ps, &var) < 0)
            return SL_ERR_INPUT;
        for (size_t i = 0; i < var->nvalues; i++) {
            struct dq_val v = {.kind = DQ_VAL_STR, .str = var->values[i], .line = line,
                               .col = col};

            push(ps->a, &v, sizeof(v), &vals, &n, &cap);
        }
        c->vals = vals;
        c->nvals = n;
        return 0;
    }
    if (ps->tok.t != T_LBRACK)
        return expected(ps, "'[' and a list of values after in");
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    for (;;) {
        struct dq_val v;

        if (parse_value(ps, &v) < 0)
            return SL_ERR_INPUT;
        push(ps->a, &v, sizeof(v), &vals, &n, &cap);
        if (ps->tok.t != T_COMMA)
            break;
        if (next(ps) < 0)
            return SL_ERR_INPUT;
    }
    if (ps->tok.t != T_RBRACK)
        return expected(ps, "',' or ']' in a list of values");
    c->vals = vals;
    c->nvals = n;
    return next(ps);
}

/* Whether the current token begins a condition. */
static bool
at_condition(const struct parser *ps)
{
    return ps->tok.t == T_EQ || ps->tok.t == T_BANG || ps->tok.t == T_GT ||
           ps->tok.t == T_GE || ps->tok.t == T_LT || ps->tok.t == T_LE ||
           is_word(ps, "between") || is_word(ps, "in") || is_word(ps, "not") ||
           is_word(ps, "matches");
}

static int
parse_condition(struct parser *ps, const struct dq_cond **out)
{
    struct dq_cond *c = sl_arena_zalloc(ps->a, sizeof(*c));
    struct dq_val *vals = sl_arena_zalloc(ps->a, 2 * sizeof(*vals));
    bool not = false;

    c->line = ps->tok.line;
    c->col = ps->tok.col;
    c->vals = vals;
    c->nvals = 1;
    if (is_word(ps, "not")) {
        not = true;
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (!is_word(ps, "between") && !is_word(ps, "in") && !is_word(ps, "matches"))
            return expected(ps, "between, in or matches after not");
    }
    switch (ps->tok.t) {
    case T_EQ: c->op = DQ_EQ; break;
    case T_GT: c->op = DQ_GT; break;
    case T_GE: c->op = DQ_GE; break;
    case T_LT: c->op = DQ_LT; break;
    case T_LE: c->op = DQ_LE; break;
    case T_BANG:
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_EQ)
            return expected(ps, "'=' after '!'");
        c->op = DQ_NE;
        break;
    default:
        if (is_word(ps, "between")) {
            c->op = not ? DQ_NOT_BETWEEN : DQ_BETWEEN;
            c->nvals = 2;
            if (next(ps) < 0 || parse_value(ps, &vals[0]) < 0)
                return SL_ERR_INPUT;
            if (!is_kw(ps, "and"))
                return expected(ps, "and between the two bounds of between");
            if (next(ps) < 0 || parse_value(ps, &vals[1]) < 0)
                return SL_ERR_INPUT;
            *out = c;
            return 0;
        }
        if (is_word(ps, "in")) {
            c->op = not ? DQ_NOT_IN : DQ_IN;
            if (next(ps) < 0 || parse_value_list(ps, c) < 0)
                return SL_ERR_INPUT;
            *out = c;
            return 0;
        }
        if (is_word(ps, "matches")) {
            c->op = not ? DQ_NOT_MATCHES : DQ_MATCHES;
            if (next(ps) < 0)
                return SL_ERR_INPUT;
            if (ps->tok.t != T_STRING)
                return expected(ps, "a quoted regular expression after matches");
            if (parse_value(ps, &vals[0]) < 0)
                return SL_ERR_INPUT;
            *out = c;
            return 0;
        }
        return expected(ps, "a condition (=, !=, >, >=, <, <=, between, in, matches)");
    }
    if (next(ps) < 0 || parse_value(ps, &vals[0]) < 0)
        return SL_ERR_INPUT;
    *out = c;
    return 0;
}

/* ---- rules ----------------------------------------------------------------- */

/* labels = [ "k" = "v", ... ] (the word already matched). */
static int
parse_labels(struct parser *ps, const struct dq_label **out, size_t *nout)
{
    struct dq_label *labels = NULL;
    size_t n = 0, cap = 0;

    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_EQ)
        return expected(ps, "'=' after labels");
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_LBRACK)
        return expected(ps, "'[' to begin the labels");
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    while (ps->tok.t != T_RBRACK) {
        struct dq_label l;
        int line = ps->tok.line, col = ps->tok.col;

        if (n > 0) {
            if (ps->tok.t != T_COMMA)
                return expected(ps, "',' or ']' in the labels");
            if (next(ps) < 0)
                return SL_ERR_INPUT;
            line = ps->tok.line;
            col = ps->tok.col;
        }
        if (ps->tok.t != T_STRING)
            return expected(ps, "a label: \"key\"=\"value\"");
        l.key = string_value(ps);
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_EQ)
            return expected(ps, "'=' between a label's key and value");
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_STRING)
            return expected(ps, "a label's quoted value");
        l.value = string_value(ps);
        if (n == MAX_LABELS)
            return fail_at(ps, line, col, "more than %d labels", MAX_LABELS);
        if (strlen(l.key) == 0 || strlen(l.key) > MAX_LABEL_KEY ||
            strlen(l.value) > MAX_LABEL_VALUE)
            return fail_at(ps, line, col,
                           "a label's key has 1 to %d characters and its value at most %d",
                           MAX_LABEL_KEY, MAX_LABEL_VALUE);
        for (size_t i = 0; i < n; i++)
            if (strcmp(labels[i].key, l.key) == 0)
                return fail_at(ps, line, col, "label \"%s\" is given twice", l.key);
        push(ps->a, &l, sizeof(l), &labels, &n, &cap);
        if (next(ps) < 0)
            return SL_ERR_INPUT;
    }
    *out = labels;
    *nout = n;
    return next(ps);
}

/* The kinds of value a rule's condition may hold. */
static bool
value_fits(enum ret ret, const struct dq_val *v, enum dq_op op)
{
    switch (ret) {
    case R_NUMBER:
    case R_SQL:
        return v->kind == DQ_VAL_NUM || v->kind == DQ_VAL_NULL;
    case R_STRING:
        return v->kind == DQ_VAL_STR;
    case R_DURATION:
        return v->kind == DQ_VAL_DURATION;
    case R_VALUES:
        if (op == DQ_MATCHES || op == DQ_NOT_MATCHES)
            return v->kind == DQ_VAL_STR;
        return v->kind != DQ_VAL_DURATION && v->kind != DQ_VAL_SIZE;
    default:
        return false;
    }
}

static const char *
accepted(enum ret ret)
{
    switch (ret) {
    case R_NUMBER:
        return "a number: = != > >= < <= with a number, between x and y, in [x, y]";
    case R_SQL:
        return "a number (= != > >= < <=, between, in) for a query that returns one value; "
               "none, with an optional threshold, for one that returns rows";
    case R_STRING:
        return "a type name: = \"INTEGER\", != ..., in [\"INTEGER\", \"STRING\"]";
    case R_DURATION:
        return "a duration: <= 24 hours, between 1 days and 3 days";
    case R_VALUES:
        return "values: numbers, strings, dates (\"2024-01-31\", now(), (now() - 3 days)), "
               "in [...], between, matches \"regex\", NULL, EMPTY, WHITESPACES_ONLY";
    default:
        return "no condition";
    }
}

/* Check a leaf's parameters, condition, where and threshold against its
 * type.  line/col: the rule's start. */
static int
check_leaf(struct parser *ps, struct dq_rule *r, bool analyzer)
{
    const struct type_info *ti = &types[r->type];

    if (r->nparams < ti->min_params || r->nparams > ti->max_params) {
        if (ti->min_params == 0)
            return fail_at(ps, r->line, r->col, "%s takes no parameters: %s", ti->name, r->text);
        return fail_at(ps, r->line, r->col, "%s takes %s%s; found %zu parameter%s in: %s",
                       ti->name, ti->params,
                       ti->max_params == ANY ? " (one or more)" : "", r->nparams,
                       r->nparams == 1 ? "" : "s", r->text);
    }
    if (analyzer) {
        if (!ti->analyzer)
            return fail_at(ps, r->line, r->col,
                           "%s is a rule, not an analyzer (the analyzers are RowCount, "
                           "ColumnCount, Completeness, Uniqueness, Mean, Sum, "
                           "StandardDeviation, Variance, Entropy, DistinctValuesCount, "
                           "UniqueValueRatio, ColumnLength, ColumnValues, "
                           "ColumnCorrelation, CustomSql and AllStatistics)",
                           ti->name);
        if (r->cond || r->where || r->threshold || r->nlabels)
            return fail_at(ps, r->line, r->col,
                           "an analyzer takes only its parameters, no condition, where, labels "
                           "or threshold: %s",
                           r->text);
        return 0;
    }
    if (ti->ret == R_ANALYZER)
        return fail_at(ps, r->line, r->col,
                       "%s is an analyzer: it goes in Analyzers = [...], not in Rules",
                       ti->name);
    if (r->cond == NULL && ti->ret != R_BOOLEAN && ti->ret != R_SQL)
        return fail_at(ps, r->line, r->col, "%s needs a condition: %s", ti->name,
                       accepted(ti->ret));
    if (r->cond != NULL) {
        const struct dq_cond *c = r->cond;

        if (ti->ret == R_BOOLEAN)
            return fail_at(ps, c->line, c->col,
                           "%s takes no condition: it passes or fails by itself", ti->name);
        if ((c->op == DQ_MATCHES || c->op == DQ_NOT_MATCHES) && ti->ret != R_VALUES)
            return fail_at(ps, c->line, c->col, "%s takes %s", ti->name, accepted(ti->ret));
        if (ti->ret == R_STRING && c->op != DQ_EQ && c->op != DQ_NE && c->op != DQ_IN &&
            c->op != DQ_NOT_IN)
            return fail_at(ps, c->line, c->col, "%s takes %s", ti->name, accepted(ti->ret));
        for (size_t i = 0; i < c->nvals; i++)
            if (!value_fits(ti->ret, &c->vals[i], c->op))
                return fail_at(ps, c->vals[i].line, c->vals[i].col, "%s takes %s", ti->name,
                               accepted(ti->ret));
    }
    if (r->where && !ti->where)
        return fail_at(ps, r->line, r->col, "%s takes no where clause", ti->name);
    if (r->threshold) {
        if (!ti->threshold)
            return fail_at(ps, r->threshold->line, r->threshold->col,
                           "%s takes no threshold (only ColumnValues, ColumnDataType and "
                           "CustomSql do)",
                           ti->name);
        for (size_t i = 0; i < r->threshold->nvals; i++)
            if (r->threshold->vals[i].kind != DQ_VAL_NUM)
                return fail_at(ps, r->threshold->vals[i].line, r->threshold->vals[i].col,
                               "a threshold is a fraction of rows: with threshold > 0.9");
        if (r->threshold->op == DQ_MATCHES || r->threshold->op == DQ_NOT_MATCHES)
            return fail_at(ps, r->threshold->line, r->threshold->col,
                           "a threshold is a fraction of rows: with threshold > 0.9");
    }
    return 0;
}

/* A rule of one type, from its type's word to the end of its tags. */
static int
parse_leaf(struct parser *ps, struct dq_rule **out, bool analyzer)
{
    struct dq_rule *r = sl_arena_zalloc(ps->a, sizeof(*r));
    const char **params = NULL;
    size_t np = 0, cap = 0, start = ps->tok.off, ti;

    r->kind = DQ_LEAF;
    r->line = ps->tok.line;
    r->col = ps->tok.col;
    if (ps->tok.t != T_WORD)
        return expected(ps, analyzer ? "an analyzer's type, such as Mean" :
                                       "a rule's type, such as RowCount, or '('");
    for (ti = 0; ti < DQ_NTYPES; ti++)
        if (ps->tok.len == strlen(types[ti].name) &&
            memcmp(ps->tok.p, types[ti].name, ps->tok.len) == 0)
            break;
    if (ti == DQ_NTYPES) {
        struct sl_buf b;

        sl_buf_init(&b);
        for (size_t i = 0; i < DQ_NTYPES; i++)
            sl_buf_addf(&b, "%s%s", i ? ", " : "", types[i].name);
        fail_at(ps, r->line, r->col, "unknown rule type %s (the types are %s)", shown(ps),
                b.data);
        sl_buf_release(&b);
        return SL_ERR_INPUT;
    }
    r->type = (enum dq_type)ti;
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    /* Parameters: "quoted", words that are not keywords, $variables, each
     * maybe after "of" or "and" (ColumnCorrelation "a" and "b"). */
    for (;;) {
        const char *p;

        if ((is_kw(ps, "of") || is_kw(ps, "and")) && np < types[ti].max_params) {
            struct parser la = lookahead(ps);

            /* Otherwise the "and" of a composite rule. */
            if (next(&la) < 0 || (la.tok.t != T_STRING && la.tok.t != T_DOLLAR))
                break;
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        }
        if (ps->tok.t == T_STRING) {
            p = string_value(ps);
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        } else if (ps->tok.t == T_DOLLAR) {
            const struct dq_pair *var;
            int line = ps->tok.line, col = ps->tok.col;

            if (deref(ps, &var) < 0)
                return SL_ERR_INPUT;
            if (var->list)
                return fail_at(ps, line, col, "$%s is a list, not one parameter", var->key);
            p = var->values[0];
        } else if (ps->tok.t == T_WORD && !is_reserved(ps) && np < types[ti].min_params) {
            p = sl_arena_strndup(ps->a, ps->tok.p, ps->tok.len);
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        } else {
            break;
        }
        push(ps->a, &p, sizeof(p), &params, &np, &cap);
    }
    r->params = params;
    r->nparams = np;
    if (!analyzer) {
        if (at_condition(ps) && parse_condition(ps, &r->cond) < 0)
            return SL_ERR_INPUT;
        if (is_word(ps, "where")) {
            if (next(ps) < 0)
                return SL_ERR_INPUT;
            if (ps->tok.t != T_STRING)
                return expected(ps, "a quoted SQL predicate after where");
            r->where = string_value(ps);
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        }
        if (is_word(ps, "labels") && parse_labels(ps, &r->labels, &r->nlabels) < 0)
            return SL_ERR_INPUT;
        while (is_word(ps, "with")) {
            if (next(ps) < 0)
                return SL_ERR_INPUT;
            if (!is_word(ps, "threshold"))
                return expected(ps, "threshold after with (the only tag DQDL rules take)");
            if (r->threshold != NULL)
                return fail_at(ps, ps->tok.line, ps->tok.col, "a second threshold");
            if (next(ps) < 0)
                return SL_ERR_INPUT;
            if (!at_condition(ps))
                return expected(ps, "a threshold's condition, such as > 0.9");
            if (parse_condition(ps, &r->threshold) < 0)
                return SL_ERR_INPUT;
        }
    }
    r->text = folded(ps, start, ps->prev_end);
    if (check_leaf(ps, r, analyzer) < 0)
        return SL_ERR_INPUT;
    *out = r;
    return 0;
}

static int parse_or(struct parser *ps, struct dq_rule **out);

/* (rule) [labels], or a rule of one type. */
static int
parse_primary(struct parser *ps, struct dq_rule **out)
{
    size_t start = ps->tok.off;
    int line = ps->tok.line, col = ps->tok.col;

    if (ps->tok.t != T_LPAREN)
        return parse_leaf(ps, out, false);
    if (++ps->depth > MAX_DEPTH)
        return fail_at(ps, line, col, "rules nested over %d deep", MAX_DEPTH);
    if (next(ps) < 0 || parse_or(ps, out) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_RPAREN)
        return expected(ps, "')' (or and/or to join another rule)");
    ps->depth--;
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (is_word(ps, "labels")) {
        /* Labels on a parenthesised rule belong to that rule: give it a
         * copy that holds them and its text with the parentheses. */
        struct dq_rule *r = sl_arena_alloc(ps->a, sizeof(*r));

        *r = **out;
        if (r->nlabels)
            return fail_at(ps, ps->tok.line, ps->tok.col, "this rule has labels already");
        if (parse_labels(ps, &r->labels, &r->nlabels) < 0)
            return SL_ERR_INPUT;
        r->line = line;
        r->col = col;
        r->text = folded(ps, start, ps->prev_end);
        *out = r;
    }
    return 0;
}

/*
 * Rules joined by or (level 1) or and (level 0): and binds tighter than
 * or, as in the grammar (and listed first).  Left to right.
 */
static int
parse_joined(struct parser *ps, int level, struct dq_rule **out)
{
    static const char *const words[] = {"and", "or"};
    struct dq_rule *l;
    size_t start = ps->tok.off;
    int line = ps->tok.line, col = ps->tok.col;

    if ((level ? parse_joined(ps, 0, &l) : parse_primary(ps, &l)) < 0)
        return SL_ERR_INPUT;
    while (is_kw(ps, words[level])) {
        struct dq_rule *r = sl_arena_zalloc(ps->a, sizeof(*r)), *rhs;

        if (next(ps) < 0 || (level ? parse_joined(ps, 0, &rhs) : parse_primary(ps, &rhs)) < 0)
            return SL_ERR_INPUT;
        r->kind = level ? DQ_OR : DQ_AND;
        r->l = l;
        r->r = rhs;
        r->line = line;
        r->col = col;
        r->text = folded(ps, start, ps->prev_end);
        l = r;
    }
    *out = l;
    return 0;
}

static int
parse_or(struct parser *ps, struct dq_rule **out)
{
    return parse_joined(ps, 1, out);
}

/* Rules = [ ... ] or Analyzers = [ ... ] (the word already matched). */
static int
parse_list(struct parser *ps, bool analyzers, const struct dq_rule ***out, size_t *nout)
{
    const struct dq_rule **list = NULL;
    size_t n = 0, cap = 0;
    const char *what = analyzers ? "Analyzers" : "Rules";

    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_EQ)
        return fail_at(ps, ps->tok.line, ps->tok.col, "expected '=' after %s, found %s", what,
                       shown(ps));
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_LBRACK)
        return fail_at(ps, ps->tok.line, ps->tok.col, "expected '[' to begin the %s, found %s",
                       analyzers ? "analyzers" : "rules", shown(ps));
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    while (ps->tok.t != T_RBRACK) {
        struct dq_rule *r;

        if (n > 0) {
            if (ps->tok.t != T_COMMA)
                return expected(ps, analyzers ? "',' or ']' after an analyzer"
                                              : "',' or ']' after a rule (and, or join rules)");
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        }
        if (analyzers ? parse_leaf(ps, &r, true) < 0 : parse_or(ps, &r) < 0)
            return SL_ERR_INPUT;
        push(ps->a, &r, sizeof(r), &list, &n, &cap);
    }
    *out = list;
    *nout = n;
    return next(ps);
}

/* At a value of a DataSources, Metadata or variable entry: "s" or
 * ["a", "b", ...] into *p's values; the current token is the one after
 * it.  what: the entry, for messages. */
static int
parse_strings(struct parser *ps, const char *what, struct dq_pair *p)
{
    const char **vals = NULL;
    size_t nv = 0, capv = 0;

    if (ps->tok.t == T_STRING) {
        const char *v = string_value(ps);

        push(ps->a, &v, sizeof(v), &vals, &nv, &capv);
    } else if (ps->tok.t == T_LBRACK) {
        p->list = true;
        do {
            const char *v;

            if (next(ps) < 0)
                return SL_ERR_INPUT;
            if (ps->tok.t != T_STRING)
                return fail_at(ps, ps->tok.line, ps->tok.col,
                               "expected a quoted string in %s's list, found %s", what,
                               shown(ps));
            v = string_value(ps);
            push(ps->a, &v, sizeof(v), &vals, &nv, &capv);
            if (next(ps) < 0)
                return SL_ERR_INPUT;
        } while (ps->tok.t == T_COMMA);
        if (ps->tok.t != T_RBRACK)
            return fail_at(ps, ps->tok.line, ps->tok.col,
                           "expected ',' or ']' in %s's list, found %s", what, shown(ps));
    } else {
        return fail_at(ps, ps->tok.line, ps->tok.col,
                       "expected a quoted string or a list of them as %s's value, found %s",
                       what, shown(ps));
    }
    p->values = vals;
    p->nvalues = nv;
    return next(ps);
}

/* { "key": "value" | ["v", ...], ... } after Metadata = or DataSources =. */
static int
parse_dict(struct parser *ps, const char *what, const struct dq_pair **out, size_t *nout)
{
    struct dq_pair *pairs = NULL;
    size_t n = 0, cap = 0;

    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_EQ)
        return fail_at(ps, ps->tok.line, ps->tok.col, "expected '=' after %s, found %s", what,
                       shown(ps));
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_LBRACE)
        return fail_at(ps, ps->tok.line, ps->tok.col, "expected '{' to begin %s, found %s",
                       what, shown(ps));
    do {
        struct dq_pair p = {0};
        int line, col;

        if (next(ps) < 0)
            return SL_ERR_INPUT;
        line = ps->tok.line;
        col = ps->tok.col;
        if (ps->tok.t != T_STRING)
            return expected(ps, "a quoted key");
        p.key = string_value(ps);
        for (size_t i = 0; i < n; i++)
            if (strcmp(pairs[i].key, p.key) == 0)
                return fail_at(ps, line, col, "%s has \"%s\" twice", what, p.key);
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (ps->tok.t != T_COLON)
            return expected(ps, "':' after a key");
        if (next(ps) < 0)
            return SL_ERR_INPUT;
        if (parse_strings(ps, p.key, &p) < 0)
            return SL_ERR_INPUT;
        push(ps->a, &p, sizeof(p), &pairs, &n, &cap);
    } while (ps->tok.t == T_COMMA);
    if (ps->tok.t != T_RBRACE)
        return expected(ps, "',' or '}'");
    *out = pairs;
    *nout = n;
    return next(ps);
}

/* name = "value" | ["a", "b"] | NULL | EMPTY | WHITESPACES_ONLY. */
static int
parse_variable(struct parser *ps)
{
    struct dq_pair v = {0};
    int line = ps->tok.line, col = ps->tok.col;

    v.key = sl_arena_strndup(ps->a, ps->tok.p, ps->tok.len);
    if (strncasecmp(v.key, "rule", 4) == 0 || strncasecmp(v.key, "analyzer", 8) == 0 ||
        strcasecmp(v.key, "metadata") == 0 || strcasecmp(v.key, "datasources") == 0 ||
        strcasecmp(v.key, "defaultlabels") == 0)
        return fail_at(ps, line, col,
                       "unknown section %s (the sections are Metadata, DataSources, "
                       "DefaultLabels, Rules and Analyzers, spelt so)",
                       shown(ps));
    if (find_var(ps, ps->tok.p, ps->tok.len) != NULL)
        return fail_at(ps, line, col, "variable %s is defined twice", v.key);
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (ps->tok.t != T_EQ)
        return fail_at(ps, ps->tok.line, ps->tok.col,
                       "expected '=' after %s (a variable; or is it a misspelt section? the "
                       "sections are Metadata, DataSources, DefaultLabels, Rules and "
                       "Analyzers), found %s",
                       v.key, shown(ps));
    if (next(ps) < 0)
        return SL_ERR_INPUT;
    if (parse_strings(ps, v.key, &v) < 0)
        return SL_ERR_INPUT;
    push(ps->a, &v, sizeof(v), &ps->vars, &ps->nvars, &ps->capvars);
    return 0;
}

/* sluice's header: "# key: value" lines before anything else. */
static int
parse_header(struct parser *ps)
{
    size_t i = 0;
    int line = 1;

    while (i < ps->len) {
        size_t eol = i, k;
        const char *s = ps->text + i;

        while (eol < ps->len && ps->text[eol] != '\n')
            eol++;
        k = 0;
        while (i + k < eol && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
            k++;
        if (i + k < eol && s[k] != '#')
            break;
        if (i + k < eol) {
            const char *p = s + k + 1;
            size_t n = eol - (i + k + 1);

            while (n && (*p == ' ' || *p == '\t'))
                p++, n--;
            while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
                n--;
            if (n >= 9 && strncasecmp(p, "severity:", 9) == 0) {
                const char *v = p + 9;
                size_t vn = n - 9;

                while (vn && (*v == ' ' || *v == '\t'))
                    v++, vn--;
                if (vn == 4 && strncasecmp(v, "warn", 4) == 0)
                    ps->rs->severity = DQ_WARN;
                else if (vn == 5 && strncasecmp(v, "block", 5) == 0)
                    ps->rs->severity = DQ_BLOCK;
                else
                    return fail_at(ps, line, (int)(v - (ps->text + i)) + 1,
                                   "severity is block (the default) or warn, not '%.*s'",
                                   (int)(vn < 40 ? vn : 40), v);
            } else if (n >= 6 && strncasecmp(p, "drift:", 6) == 0) {
                const char *v = p + 6;
                size_t vn = n - 6;

                while (vn && (*v == ' ' || *v == '\t'))
                    v++, vn--;
                if (vn == 6 && strncasecmp(v, "ignore", 6) == 0)
                    ps->rs->drift = DQ_DRIFT_IGNORE;
                else if (vn == 4 && strncasecmp(v, "warn", 4) == 0)
                    ps->rs->drift = DQ_DRIFT_WARN;
                else if (vn == 5 && strncasecmp(v, "block", 5) == 0)
                    ps->rs->drift = DQ_DRIFT_BLOCK;
                else
                    return fail_at(ps, line, (int)(v - (ps->text + i)) + 1,
                                   "drift is ignore (the default), warn or block, not '%.*s'",
                                   (int)(vn < 40 ? vn : 40), v);
            }
        }
        i = eol + 1;
        line++;
    }
    return 0;
}

static int
parse_document(struct parser *ps)
{
    struct dq_ruleset *rs = ps->rs;
    bool have_rules = false, have_analyzers = false;

    if (parse_header(ps) < 0 || next(ps) < 0)
        return SL_ERR_INPUT;
    if (is_word(ps, "Metadata") && parse_dict(ps, "Metadata", &rs->metadata, &rs->nmetadata) < 0)
        return SL_ERR_INPUT;
    if (is_word(ps, "DataSources") &&
        parse_dict(ps, "DataSources", &rs->sources, &rs->nsources) < 0)
        return SL_ERR_INPUT;
    while (ps->tok.t == T_WORD && !is_word(ps, "Rules") && !is_word(ps, "Analyzers") &&
           !is_word(ps, "DefaultLabels") && !is_word(ps, "Metadata") &&
           !is_word(ps, "DataSources"))
        if (parse_variable(ps) < 0)
            return SL_ERR_INPUT;
    if (is_word(ps, "DefaultLabels") &&
        parse_labels(ps, &rs->default_labels, &rs->ndefault_labels) < 0)
        return SL_ERR_INPUT;
    if (is_word(ps, "Rules")) {
        if (parse_list(ps, false, &rs->rules, &rs->nrules) < 0)
            return SL_ERR_INPUT;
        have_rules = true;
    }
    if (is_word(ps, "Analyzers")) {
        if (parse_list(ps, true, &rs->analyzers, &rs->nanalyzers) < 0)
            return SL_ERR_INPUT;
        have_analyzers = true;
    }
    if (ps->tok.t != T_EOF) {
        if (is_word(ps, "Metadata") || is_word(ps, "DataSources") ||
            is_word(ps, "DefaultLabels") || (is_word(ps, "Rules") && have_rules) ||
            is_word(ps, "Analyzers"))
            return fail_at(ps, ps->tok.line, ps->tok.col,
                           "%s is out of place or given twice: the sections come in the order "
                           "Metadata, DataSources, variables, DefaultLabels, Rules, Analyzers",
                           shown(ps));
        if (have_rules || have_analyzers)
            return expected(ps, "the end of the file after the last section");
        return expected(ps, "Rules = [ ... ] or Analyzers = [ ... ]");
    }
    if (!have_rules && !have_analyzers)
        return fail_at(ps, ps->tok.line, ps->tok.col,
                       "no Rules = [ ... ] (nor Analyzers = [ ... ]) in the file");
    return 0;
}

int
dq_parse(const char *path, const char *text, size_t len, struct dq_ruleset *out,
         struct sl_diag *d)
{
    struct parser ps = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    sl_arena_init(&out->arena, 16 << 10);
    out->path = sl_arena_strdup(&out->arena, path);
    ps.path = path;
    ps.text = text;
    ps.len = len;
    ps.line = 1;
    ps.rs = out;
    ps.a = &out->arena;
    ps.d = d;
    rc = parse_document(&ps);
    if (rc < 0) {
        dq_free(out);
        return rc;
    }
    return 0;
}

void
dq_free(struct dq_ruleset *rs)
{
    if (rs == NULL)
        return;
    sl_arena_release(&rs->arena);
    memset(rs, 0, sizeof(*rs));
}

const struct dq_pair *
dq_source(const struct dq_ruleset *rs, const char *key)
{
    for (size_t i = 0; i < rs->nsources; i++)
        if (strcmp(rs->sources[i].key, key) == 0)
            return &rs->sources[i];
    return NULL;
}
