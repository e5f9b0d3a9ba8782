/*
 * model/fuzz.c - libFuzzer target for model files (models/<name>.sql).
 *
 * The input is a model file, parsed with model_parse() as models/fz.sql:
 * header, lexer, template tags and statement.  A refusal must be
 * SL_ERR_INPUT with words, the file's name and a line of the input.  A
 * model that parses must keep what model.h promises: header values that
 * fit each other (strategy and key only for incremental models, merge with
 * a key, no partitions for a view), valid columns, distinct reads of
 * exactly curated.x or gold.x (never its own table) at lines of the file,
 * tags in order inside the statement with balanced, flat ifs, and a query
 * in both renderings.  Rendering, both ways, keeps the statement's lines
 * (model_locate_rendered() depends on it), and a second parse of the same
 * bytes gives the same model.
 *
 * The lexer also runs alone over the whole input: it must end, move
 * forward, keep tokens inside the text and count lines as the text has
 * them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/mem.h"
#include "models/model.h"
#include "models/models_int.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "models/fz.sql"
#define THIS "gold.\"fz\""

static volatile uint64_t sink;

static void
touch(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0;

    for (size_t i = 0; i < n; i++)
        h = h * 31 + s[i];
    sink += h;
}

static size_t
count_nl(const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

static bool
column_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* The lexer alone over data[0..size). */
static void
check_lexer(const uint8_t *data, size_t size)
{
    struct mlex lx;
    struct mlex_token t;
    struct sl_diag d;
    size_t prev_end = 0, steps = 0, counted = 0, nl = 0;
    int prev_line = 1;

    sl_diag_init(&d);
    mlex_init(&lx, (const char *)data, size, 1);
    for (;;) {
        int rc = mlex_next(&lx, &t, &d);

        if (rc < 0) {
            FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && d.msg[0] != '\0');
            FZ_ASSERT(d.line >= 1 && (size_t)d.line <= count_nl((const char *)data, size) + 1);
            return;
        }
        FZ_ASSERT(t.off >= prev_end && t.off + t.len <= size);
        FZ_ASSERT(t.line >= prev_line);
        nl += count_nl((const char *)data + counted, t.off - counted);
        counted = t.off;
        FZ_ASSERT((size_t)t.line == 1 + nl);
        if (t.kind == MLEX_END) {
            FZ_ASSERT(t.len == 0 && t.off == size);
            return;
        }
        FZ_ASSERT(t.len > 0);
        if (t.kind == MLEX_IDENT || t.kind == MLEX_QIDENT) {
            char *id = mlex_ident((const char *)data, &t);

            FZ_ASSERT(strlen(id) <= t.len);
            touch(id, strlen(id));
            free(id);
        }
        if (t.kind == MLEX_BLOCK || t.kind == MLEX_EXPR) {
            FZ_ASSERT(t.len >= 4 && data[t.off] == '{' && data[t.off + t.len - 1] == '}');
        }
        prev_end = t.off + t.len;
        prev_line = t.line;
        FZ_ASSERT(++steps <= size + 1);
    }
}

static void
check_refusal(const struct sl_diag *d, int rc, const char *text, size_t size)
{
    char msg[SL_DIAG_MSG + 1024];

    FZ_ASSERT(rc == SL_ERR_INPUT);
    FZ_ASSERT(d->code == rc);
    FZ_ASSERT(d->msg[0] != '\0');
    FZ_ASSERT(strcmp(d->where, PATH) == 0);
    FZ_ASSERT(d->line >= 1 && (size_t)d->line <= count_nl(text, size) + 1);
    sl_diag_format(d, msg, sizeof(msg));
    touch(msg, strlen(msg));
}

/* One rendering of m: the statement's lines, positions inside them. */
static void
check_render(const struct model *m, bool incremental)
{
    char *r = model_render(m, incremental, THIS, "_sluice.touched");
    size_t n = strlen(r), lines = count_nl(m->sql, m->sql_len);
    bool substituted = false;
    int line, column;

    for (size_t i = 0; i < m->ntags; i++)
        substituted |= m->tags[i].kind == MODEL_TAG_THIS ||
                       m->tags[i].kind == MODEL_TAG_IS_INCREMENTAL ||
                       m->tags[i].kind == MODEL_TAG_CHANGED_KEYS;
    FZ_ASSERT(count_nl(r, n) == lines);
    if (!substituted)
        FZ_ASSERT(n == m->sql_len);
    for (size_t off = 0; off <= n; off += n / 7 + 1) {
        model_locate_rendered(m, r, off, &line, &column);
        FZ_ASSERT(line >= m->sql_line && (size_t)line <= (size_t)m->sql_line + lines);
        FZ_ASSERT(column >= 1);
    }
    model_locate_rendered(m, r, n + 10, &line, &column);
    FZ_ASSERT((size_t)line == (size_t)m->sql_line + lines);
    touch(r, n);
    free(r);
}

static void
check_model(const struct model *m, const char *copy, size_t size)
{
    size_t total_lines = count_nl(copy, size) + 1, sql_off, last_end = 0;
    int open_if = 0;
    int line, column;
    char small[8], text[300];

    FZ_ASSERT(strcmp(m->name, "fz") == 0 && strcmp(m->path, PATH) == 0);
    FZ_ASSERT(m->sql >= m->text && m->sql <= m->text + size);
    sql_off = (size_t)(m->sql - m->text);
    FZ_ASSERT(m->sql_line >= 1 && (size_t)m->sql_line == 1 + count_nl(m->text, sql_off));
    FZ_ASSERT(m->sql_len > 0 && m->sql_len <= size - sql_off);

    /* The header's values against each other. */
    if (m->materialized != MODEL_INCREMENTAL)
        FZ_ASSERT(m->nunique_key == 0);
    else if (m->strategy == MODEL_MERGE)
        FZ_ASSERT(m->nunique_key > 0);
    if (m->materialized == MODEL_VIEW)
        FZ_ASSERT(m->nparts == 0);
    for (size_t i = 0; i < m->nunique_key; i++) {
        FZ_ASSERT(column_ok(m->unique_key[i]));
        for (size_t j = 0; j < i; j++)
            FZ_ASSERT(strcmp(m->unique_key[i], m->unique_key[j]) != 0);
    }
    for (size_t i = 0; i < m->nparts; i++) {
        const struct model_part *p = &m->parts[i];

        FZ_ASSERT(column_ok(p->column));
        FZ_ASSERT(p->transform.kind >= IVAL_IDENTITY && p->transform.kind <= IVAL_TRUNCATE_T);
        if (p->transform.kind == IVAL_BUCKET || p->transform.kind == IVAL_TRUNCATE_T)
            FZ_ASSERT(p->transform.param >= 1);
        model_part_text(p, small, sizeof(small));
        model_part_text(p, text, sizeof(text));
        FZ_ASSERT(strlen(text) > 0 && strstr(text, "?(") == NULL);
    }
    if (m->description != NULL)
        touch(m->description, strlen(m->description));

    /* Reads: curated.x or gold.x, distinct, not its own, at a line of the
     * statement. */
    for (size_t i = 0; i < m->nreads; i++) {
        const char *r = m->reads[i];

        FZ_ASSERT(strncmp(r, "curated.", 8) == 0 || strncmp(r, "gold.", 5) == 0);
        FZ_ASSERT(strcmp(r, "gold.fz") != 0);
        FZ_ASSERT(m->read_lines[i] >= m->sql_line && (size_t)m->read_lines[i] <= total_lines);
        for (size_t j = 0; j < i; j++)
            FZ_ASSERT(strcmp(r, m->reads[j]) != 0);
    }

    /* Tags: in order, inside the statement, the ifs balanced and flat. */
    for (size_t i = 0; i < m->ntags; i++) {
        const struct model_tag *t = &m->tags[i];
        const char *s = m->sql + t->off;

        FZ_ASSERT(t->off >= last_end && t->off + t->len <= m->sql_len && t->len >= 4);
        FZ_ASSERT(s[0] == '{' && (s[1] == '%' || s[1] == '{') && s[t->len - 1] == '}');
        FZ_ASSERT(t->line >= m->sql_line && (size_t)t->line <= total_lines);
        switch (t->kind) {
        case MODEL_TAG_IF:
        case MODEL_TAG_IF_NOT:
            FZ_ASSERT(open_if == 0);
            open_if = 1;
            break;
        case MODEL_TAG_ELSE:
            FZ_ASSERT(open_if == 1);
            open_if = 2;
            break;
        case MODEL_TAG_ENDIF:
            FZ_ASSERT(open_if > 0);
            open_if = 0;
            break;
        case MODEL_TAG_THIS:
        case MODEL_TAG_IS_INCREMENTAL:
            FZ_ASSERT(s[1] == '{');
            break;
        case MODEL_TAG_CHANGED_KEYS:
            /* only in merge models, never where a full build keeps it */
            FZ_ASSERT(s[1] == '{' && m->materialized == MODEL_INCREMENTAL &&
                      m->strategy == MODEL_MERGE && open_if > 0);
            break;
        }
        last_end = t->off + t->len;
    }
    FZ_ASSERT(open_if == 0);
    FZ_ASSERT(m->deps == NULL && m->ndeps == 0);

    check_render(m, false);
    check_render(m, true);
    model_locate(m, m->sql_len, &line, &column);
    FZ_ASSERT(line >= m->sql_line && (size_t)line <= total_lines);
    model_locate(m, size * 2 + 1, &line, &column);
    FZ_ASSERT(line >= m->sql_line && (size_t)line <= total_lines);
}

/* A second parse of the same bytes: the same model. */
static void
check_again(const struct model *m, const uint8_t *data, size_t size)
{
    char *copy = sl_malloc(size + 1);
    struct model m2;
    struct sl_diag d;

    memcpy(copy, data, size);
    sl_diag_init(&d);
    FZ_ASSERT(model_parse("fz", PATH, copy, size, &m2, &d) == 0);
    FZ_ASSERT(m2.materialized == m->materialized && m2.strategy == m->strategy);
    FZ_ASSERT(m2.nreads == m->nreads && m2.ntags == m->ntags && m2.nparts == m->nparts);
    FZ_ASSERT(m2.sql_len == m->sql_len && m2.sql_line == m->sql_line);
    FZ_ASSERT(memcmp(m2.sha256, m->sha256, sizeof(m->sha256)) == 0);
    for (size_t i = 0; i < m->nreads; i++)
        FZ_ASSERT(strcmp(m2.reads[i], m->reads[i]) == 0);
    model_release(&m2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy;
    struct model m;
    struct sl_diag d;
    int rc;

    if (size > MODEL_MAX_BYTES)
        return 0;
    check_lexer(data, size);

    /* model_parse() takes the text, with room for its NUL. */
    copy = sl_malloc(size + 1);
    memcpy(copy, data, size);
    sl_diag_init(&d);
    rc = model_parse("fz", PATH, copy, size, &m, &d);
    if (rc < 0) {
        check_refusal(&d, rc, (const char *)data, size);
    } else {
        FZ_ASSERT(rc == 0 && d.code == 0);
        check_model(&m, (const char *)data, size);
        check_again(&m, data, size);
    }
    model_release(&m);
    return 0;
}
