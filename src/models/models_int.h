/*
 * models_int.h - what the files of models/ share: the SQL lexer.  Not for
 * use outside models/ (tests and the fuzz target aside).
 */
#ifndef SL_MODELS_INT_H
#define SL_MODELS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

/* What a token is. */
enum mlex_kind {
    MLEX_END,    /* the end of the text */
    MLEX_IDENT,  /* an unquoted identifier or keyword */
    MLEX_QIDENT, /* a "quoted" identifier (the quotes are in the token) */
    MLEX_DOT,    /* . */
    MLEX_SEMI,   /* ; */
    MLEX_STRING, /* a '...', E'...' or $tag$...$tag$ string literal */
    MLEX_NUMBER, /* 12, 1.5e3 */
    MLEX_BLOCK,  /* a {% ... %} template tag */
    MLEX_EXPR,   /* a {{ ... }} template tag */
    MLEX_OTHER,  /* any other character (operators, brackets) */
};

struct mlex_token {
    enum mlex_kind kind;
    size_t off; /* bytes into the text */
    size_t len; /* bytes of the token */
    int line;   /* line of its first byte */
};

/* A lexer over text[0..len); comments and white space are skipped. */
struct mlex {
    const char *text;
    size_t len;
    size_t pos;
    int line; /* of text[pos] */
};

/* Start lexing text[0..len), whose first line is line first_line. */
void mlex_init(struct mlex *lx, const char *text, size_t len, int first_line);

/*
 * The next token into *t (MLEX_END at the end, again and again).  Returns
 * 0, or SL_ERR_INPUT for an unterminated comment, string, quoted
 * identifier, dollar-quoted string or template tag: the message names it,
 * d->line is the line where it starts (the caller adds the file).
 */
int mlex_next(struct mlex *lx, struct mlex_token *t, struct sl_diag *d);

/*
 * The identifier of an MLEX_IDENT (lower case) or MLEX_QIDENT token (the
 * quotes taken off and "" made one ", case kept), as a heap string.
 */
char *mlex_ident(const char *text, const struct mlex_token *t);

/* Whether token t is the unquoted word w (w in lower case), any case. */
bool mlex_is_word(const char *text, const struct mlex_token *t, const char *w);

#endif
