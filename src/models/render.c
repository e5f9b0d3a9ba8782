/*
 * render.c - a model's SQL with its template resolved, and positions in it
 * mapped back to the file (see model.h).
 *
 * The tags were checked at load time (model.c), so rendering cannot fail:
 * it walks m->tags in order with one flag, whether the text at hand is
 * kept.  Removed text (the tags, the branch not taken) becomes spaces with
 * its newlines kept, so the rendered text has the file's lines, and its
 * columns up to the first {{ }} substitution of a line.
 */
#include "models/model.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

/* Blank out s[0..n): a space per byte, newlines kept. */
static void
add_blank(struct sl_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sl_buf_addc(b, s[i] == '\n' ? '\n' : ' ');
}

/* Just the newlines of s[0..n), after a substituted value. */
static void
add_newlines(struct sl_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n')
            sl_buf_addc(b, '\n');
}

char *
model_render(const struct model *m, bool incremental, const char *this_table,
             const char *changed_keys)
{
    struct sl_buf b;
    bool keep = true, cond = false;
    size_t pos = 0;

    sl_buf_init(&b);
    for (size_t i = 0; i < m->ntags; i++) {
        const struct model_tag *t = &m->tags[i];
        const char *s = m->sql + t->off;

        if (keep)
            sl_buf_add(&b, m->sql + pos, t->off - pos);
        else
            add_blank(&b, m->sql + pos, t->off - pos);
        switch (t->kind) {
        case MODEL_TAG_IF:
        case MODEL_TAG_IF_NOT:
            cond = t->kind == MODEL_TAG_IF ? incremental : !incremental;
            keep = cond;
            add_blank(&b, s, t->len);
            break;
        case MODEL_TAG_ELSE:
            keep = !cond;
            add_blank(&b, s, t->len);
            break;
        case MODEL_TAG_ENDIF:
            keep = true;
            add_blank(&b, s, t->len);
            break;
        case MODEL_TAG_THIS:
        case MODEL_TAG_IS_INCREMENTAL:
        case MODEL_TAG_CHANGED_KEYS:
            if (keep) {
                sl_buf_adds(&b, t->kind == MODEL_TAG_THIS             ? this_table
                                : t->kind == MODEL_TAG_CHANGED_KEYS
                                    ? (changed_keys ? changed_keys : "(no changed keys)")
                                : incremental                       ? "true"
                                                                    : "false");
                add_newlines(&b, s, t->len);
            } else {
                add_blank(&b, s, t->len);
            }
            break;
        }
        pos = t->off + t->len;
    }
    if (pos < m->sql_len) {
        if (keep)
            sl_buf_add(&b, m->sql + pos, m->sql_len - pos);
        else
            add_blank(&b, m->sql + pos, m->sql_len - pos);
    }
    return sl_buf_detach(&b, NULL);
}

/* Line and column of s[offset], counting from line first. */
static void
locate(const char *s, size_t offset, int first, int *line, int *column)
{
    size_t n = strlen(s), start = 0;
    int l = first;

    if (offset > n)
        offset = n;
    for (size_t i = 0; i < offset; i++)
        if (s[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *column = (int)(offset - start) + 1;
}

void
model_locate(const struct model *m, size_t sql_offset, int *line, int *column)
{
    locate(m->sql, sql_offset, m->sql_line, line, column);
}

void
model_locate_rendered(const struct model *m, const char *rendered, size_t offset, int *line,
                      int *column)
{
    locate(rendered, offset, m->sql_line, line, column);
}
