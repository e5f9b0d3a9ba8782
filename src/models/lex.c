/*
 * lex.c - a small SQL lexer for model files (see models_int.h).
 *
 * It does not parse SQL; it only has to know where the words are, so that
 * a table name inside a string, a comment or a quoted identifier is never
 * taken for a read, and a ';' inside one never ends the statement.  The
 * forms, as PostgreSQL and DuckDB read them:
 *
 *   -- to the end of the line             comment
 *   / * ... * /  (nested)                 comment
 *   '...'  ('' is a quote)                string; X'..', B'..', N'..' are
 *                                         an identifier and a string
 *   E'...' (backslash escapes, and '')    string
 *   $$...$$, $tag$...$tag$                string (no escapes)
 *   "..."  ("" is a quote)                quoted identifier, case kept
 *   [A-Za-z_\x80-\xff][A-Za-z0-9_$\x80-\xff]*  identifier, any case
 *   {% ... %}, {{ ... }}                  template tags, whole
 *
 * A '$' not opening a dollar quote ($1, a$b) is an ordinary character.
 * Lines are counted on every '\n', inside tokens too.  The lexer never
 * reads past text[len) and does not need a NUL there.
 */
#include "models/models_int.h"

#include <string.h>

#include "core/mem.h"
#include "core/banned.h"

void
mlex_init(struct mlex *lx, const char *text, size_t len, int first_line)
{
    lx->text = text;
    lx->len = len;
    lx->pos = 0;
    lx->line = first_line;
}

static bool
ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static bool
digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Move to text[to], counting the lines passed. */
static void
advance(struct mlex *lx, size_t to)
{
    for (size_t i = lx->pos; i < to; i++)
        if (lx->text[i] == '\n')
            lx->line++;
    lx->pos = to;
}

static int
unterminated(struct mlex *lx, struct sl_diag *d, const char *what, int line)
{
    sl_fail(d, SL_ERR_INPUT, "unterminated %s", what);
    sl_diag_at(d, NULL, line, 0, NULL);
    return SL_ERR_INPUT;
}

/* The end of a quoted run starting at the quote at p: past the closing
 * quote (a doubled quote is part of the run; with backslashes, \x is
 * too), or 0 if it never closes. */
static size_t
quoted_end(const char *s, size_t len, size_t p, char q, bool backslashes)
{
    for (size_t i = p + 1; i < len; i++) {
        if (backslashes && s[i] == '\\') {
            i++;
            continue;
        }
        if (s[i] != q)
            continue;
        if (i + 1 < len && s[i + 1] == q) {
            i++;
            continue;
        }
        return i + 1;
    }
    return 0;
}

/* If a dollar quote opens at p ("$$" or "$tag$"), the length of its
 * opening delimiter, else 0. */
static size_t
dollar_open(const char *s, size_t len, size_t p)
{
    size_t i = p + 1;

    if (i < len && s[i] == '$')
        return 2;
    if (i >= len || !ident_start((unsigned char)s[i]))
        return 0;
    while (i < len && ident_char((unsigned char)s[i]) && s[i] != '$')
        i++;
    if (i < len && s[i] == '$')
        return i + 1 - p;
    return 0;
}

/* Skip white space and comments.  Returns 0 or SL_ERR_INPUT. */
static int
skip_blank(struct mlex *lx, struct sl_diag *d)
{
    const char *s = lx->text;

    while (lx->pos < lx->len) {
        size_t p = lx->pos;
        char c = s[p];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->pos++;
        } else if (c == '\n') {
            lx->pos++;
            lx->line++;
        } else if (c == '-' && p + 1 < lx->len && s[p + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n')
                lx->pos++;
        } else if (c == '/' && p + 1 < lx->len && s[p + 1] == '*') {
            int depth = 1, line = lx->line;
            size_t i = p + 2;

            while (i < lx->len && depth > 0) {
                if (s[i] == '*' && i + 1 < lx->len && s[i + 1] == '/') {
                    depth--;
                    i += 2;
                } else if (s[i] == '/' && i + 1 < lx->len && s[i + 1] == '*') {
                    depth++;
                    i += 2;
                } else {
                    i++;
                }
            }
            if (depth > 0)
                return unterminated(lx, d, "comment '/*'", line);
            advance(lx, i);
        } else {
            break;
        }
    }
    return 0;
}

int
mlex_next(struct mlex *lx, struct mlex_token *t, struct sl_diag *d)
{
    const char *s = lx->text;
    size_t p, end, n;
    unsigned char c;
    int rc;

    rc = skip_blank(lx, d);
    if (rc < 0)
        return rc;
    p = lx->pos;
    t->off = p;
    t->line = lx->line;
    if (p >= lx->len) {
        t->kind = MLEX_END;
        t->len = 0;
        return 0;
    }
    c = (unsigned char)s[p];
    end = p + 1;
    if ((c == 'E' || c == 'e') && p + 1 < lx->len && s[p + 1] == '\'') {
        end = quoted_end(s, lx->len, p + 1, '\'', true);
        if (end == 0)
            return unterminated(lx, d, "string E'...'", lx->line);
        t->kind = MLEX_STRING;
    } else if (ident_start(c)) {
        while (end < lx->len && ident_char((unsigned char)s[end]))
            end++;
        t->kind = MLEX_IDENT;
    } else if (digit(c)) {
        while (end < lx->len && digit((unsigned char)s[end]))
            end++;
        if (end + 1 < lx->len && s[end] == '.' && digit((unsigned char)s[end + 1]))
            for (end++; end < lx->len && digit((unsigned char)s[end]); end++)
                ;
        if (end < lx->len && (s[end] == 'e' || s[end] == 'E')) {
            size_t e = end + 1;

            if (e < lx->len && (s[e] == '+' || s[e] == '-'))
                e++;
            if (e < lx->len && digit((unsigned char)s[e]))
                for (end = e; end < lx->len && digit((unsigned char)s[end]); end++)
                    ;
        }
        t->kind = MLEX_NUMBER;
    } else if (c == '\'') {
        end = quoted_end(s, lx->len, p, '\'', false);
        if (end == 0)
            return unterminated(lx, d, "string '...'", lx->line);
        t->kind = MLEX_STRING;
    } else if (c == '"') {
        end = quoted_end(s, lx->len, p, '"', false);
        if (end == 0)
            return unterminated(lx, d, "quoted identifier \"...\"", lx->line);
        t->kind = MLEX_QIDENT;
    } else if (c == '$' && (n = dollar_open(s, lx->len, p)) > 0) {
        const char *close = NULL;

        for (size_t i = p + n; i + n <= lx->len; i++)
            if (s[i] == '$' && memcmp(s + i, s + p, n) == 0) {
                close = s + i;
                break;
            }
        if (close == NULL)
            return unterminated(lx, d, "dollar-quoted string", lx->line);
        end = (size_t)(close - s) + n;
        t->kind = MLEX_STRING;
    } else if (c == '{' && p + 1 < lx->len && (s[p + 1] == '%' || s[p + 1] == '{')) {
        char closer = s[p + 1] == '%' ? '%' : '}';

        end = 0;
        for (size_t i = p + 2; i + 1 < lx->len; i++)
            if (s[i] == closer && s[i + 1] == '}') {
                end = i + 2;
                break;
            }
        if (end == 0)
            return unterminated(lx, d,
                                closer == '%' ? "template tag '{%' (no '%}')"
                                              : "template tag '{{' (no '}}')",
                                lx->line);
        t->kind = closer == '%' ? MLEX_BLOCK : MLEX_EXPR;
    } else if (c == '.') {
        t->kind = MLEX_DOT;
    } else if (c == ';') {
        t->kind = MLEX_SEMI;
    } else {
        t->kind = MLEX_OTHER;
    }
    t->len = end - p;
    advance(lx, end);
    return 0;
}

char *
mlex_ident(const char *text, const struct mlex_token *t)
{
    const char *s = text + t->off;
    char *out = sl_malloc(t->len + 1);
    size_t n = 0;

    if (t->kind == MLEX_QIDENT) {
        /* The token is whole: opening and closing quotes are in it. */
        for (size_t i = 1; i + 1 < t->len; i++) {
            out[n++] = s[i];
            if (s[i] == '"')
                i++;
        }
    } else {
        for (size_t i = 0; i < t->len; i++)
            out[n++] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    }
    out[n] = '\0';
    return out;
}

bool
mlex_is_word(const char *text, const struct mlex_token *t, const char *w)
{
    size_t n = strlen(w);

    if (t->kind != MLEX_IDENT || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = text[t->off + i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return false;
    }
    return true;
}
