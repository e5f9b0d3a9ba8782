/*
 * dqdl/fuzz.c - libFuzzer target for DQDL rulesets (quality/<table>.dqdl).
 *
 * The input is a ruleset, parsed with dq_parse().  A refusal must be
 * SL_ERR_INPUT with words that begin "column N: ", the file's name and a
 * line of the input.  A ruleset that parses must hold what dqdl.h
 * promises: known rule types, conditions with values, composites with two
 * sides, texts and positions inside the input; a second parse of the same
 * bytes gives the same rules; and each rule's text (where it uses no
 * variable) parses again on its own into a rule of the same shape.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/mem.h"
#include "quality/dqdl.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "quality/fz.dqdl"

static volatile size_t sink;

static void
check_num(const struct dq_num *n, int depth)
{
    FZ_ASSERT(n != NULL && depth < 64 && n->height >= 1 && n->height <= 64);
    switch (n->kind) {
    case DQ_NUM_LIT:
        FZ_ASSERT(n->value == n->value);
        break;
    case DQ_NUM_NULL:
        break;
    case DQ_NUM_OP:
        FZ_ASSERT(n->op == '+' || n->op == '-' || n->op == '*' || n->op == '/');
        check_num(n->l, depth + 1);
        check_num(n->r, depth + 1);
        break;
    case DQ_NUM_CALL:
        FZ_ASSERT(n->fn != NULL);
        for (size_t i = 0; i < n->nargs; i++)
            check_num(n->args[i], depth + 1);
        break;
    default:
        FZ_ASSERT(!"a number of no kind");
    }
}

static void
check_cond(const struct dq_cond *c)
{
    FZ_ASSERT(c->nvals >= 1);
    FZ_ASSERT(c->op != DQ_BETWEEN || c->nvals == 2);
    for (size_t i = 0; i < c->nvals; i++) {
        const struct dq_val *v = &c->vals[i];

        FZ_ASSERT(v->kind <= DQ_VAL_SIZE);
        if (v->kind == DQ_VAL_NUM)
            check_num(v->num, 0);
        if (v->kind == DQ_VAL_STR)
            sink += strlen(v->str);
    }
}

/* The rule's shape, for comparing a rule with its text parsed again. */
static void
shape(const struct dq_rule *r, char *out, size_t size)
{
    size_t n = strlen(out);

    if (n + 8 >= size)
        return;
    if (r->kind != DQ_LEAF) {
        snprintf(out + n, size - n, "%c(", r->kind == DQ_AND ? '&' : '|');
        shape(r->l, out, size);
        shape(r->r, out, size);
        n = strlen(out);
        snprintf(out + n, size - n, ")");
        return;
    }
    snprintf(out + n, size - n, "%d/%zu/%d/%d/%d,", (int)r->type, r->nparams,
             r->cond ? (int)r->cond->op : -1, r->where != NULL,
             r->threshold ? (int)r->threshold->op : -1);
}

static void
check_rule(const struct dq_rule *r, const char *text, size_t size, size_t lines, bool analyzer)
{
    FZ_ASSERT(r != NULL && r->text != NULL && r->text[0] != '\0');
    FZ_ASSERT(r->line >= 1 && (size_t)r->line <= lines && r->col >= 1);
    FZ_ASSERT(strlen(r->text) <= size);
    for (size_t i = 0; i < r->nlabels; i++)
        FZ_ASSERT(r->labels[i].key[0] != '\0');
    if (r->kind != DQ_LEAF) {
        FZ_ASSERT(!analyzer && (r->kind == DQ_AND || r->kind == DQ_OR));
        check_rule(r->l, text, size, lines, false);
        check_rule(r->r, text, size, lines, false);
        return;
    }
    FZ_ASSERT(r->type < DQ_NTYPES);
    /* A leaf's text is its type's word on, or a parenthesised leaf with labels. */
    FZ_ASSERT(r->text[0] == '(' ||
              strncmp(r->text, dq_type_name(r->type), strlen(dq_type_name(r->type))) == 0);
    for (size_t i = 0; i < r->nparams; i++)
        sink += strlen(r->params[i]);
    if (analyzer)
        FZ_ASSERT(r->cond == NULL && r->where == NULL && r->threshold == NULL);
    if (r->cond)
        check_cond(r->cond);
    if (r->threshold)
        check_cond(r->threshold);
}

/* A rule's text, alone in a ruleset, parses into the same shape. */
static void
reparse(const struct dq_rule *r, bool analyzer)
{
    struct dq_ruleset again;
    struct sl_diag d;
    char *doc, a[512] = "", b[512] = "";

    if (strchr(r->text, '$') != NULL)
        return;
    doc = sl_printf("%s = [ %s ]", analyzer ? "Analyzers" : "Rules", r->text);
    sl_diag_init(&d);
    FZ_ASSERT(dq_parse(PATH, doc, strlen(doc), &again, &d) == 0);
    FZ_ASSERT((analyzer ? again.nanalyzers : again.nrules) == 1);
    shape(r, a, sizeof(a));
    shape(analyzer ? again.analyzers[0] : again.rules[0], b, sizeof(b));
    FZ_ASSERT(strcmp(a, b) == 0);
    dq_free(&again);
    free(doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dq_ruleset rs, again;
    struct sl_diag d;
    const char *text = (const char *)data;
    size_t lines = 1;
    char msg[4096];
    int rc;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    sl_diag_init(&d);
    rc = dq_parse(PATH, text, size, &rs, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc);
        FZ_ASSERT(strncmp(d.msg, "column ", 7) == 0 && strtol(d.msg + 7, NULL, 10) >= 1);
        FZ_ASSERT(strcmp(d.where, PATH) == 0);
        FZ_ASSERT(d.line >= 1 && (size_t)d.line <= lines);
        FZ_ASSERT(rs.nrules == 0 && rs.rules == NULL);
        sl_diag_format(&d, msg, sizeof(msg));
        return 0;
    }
    for (size_t i = 0; i < rs.nrules; i++) {
        check_rule(rs.rules[i], text, size, lines, false);
        reparse(rs.rules[i], false);
    }
    for (size_t i = 0; i < rs.nanalyzers; i++) {
        check_rule(rs.analyzers[i], text, size, lines, true);
        reparse(rs.analyzers[i], true);
    }
    sl_diag_init(&d);
    FZ_ASSERT(dq_parse(PATH, text, size, &again, &d) == 0);
    FZ_ASSERT(again.nrules == rs.nrules && again.nanalyzers == rs.nanalyzers);
    for (size_t i = 0; i < rs.nrules; i++)
        FZ_ASSERT(strcmp(again.rules[i]->text, rs.rules[i]->text) == 0);
    dq_free(&again);
    dq_free(&rs);
    return 0;
}
