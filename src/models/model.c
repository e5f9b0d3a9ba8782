/*
 * model.c - one model file: its header, its template tags, its statement
 * and the tables it reads (see model.h for the format).
 *
 * model_parse() works in four steps, each failing with the file and line:
 *
 *   1. header      the leading "--" lines, each `key: value`, checked
 *                  against the key table below and then against each
 *                  other (strategy and unique_key only for incremental
 *                  models, no partitions for views, merge needs a key);
 *   2. tokens      the rest through the lexer (lex.c): comments, strings
 *                  and quoted identifiers are single tokens or nothing;
 *   3. template    the {% %} and {{ }} tokens must be known tags, and the
 *                  ifs balanced and flat;
 *   4. statement   one statement, starting like a query (SELECT, WITH,
 *                  FROM, VALUES, TABLE, PIVOT, UNPIVOT or '(') in every
 *                  rendering a build can run: the full one, and the
 *                  incremental one of an incremental model; the reads are
 *                  its names of exactly two parts with schema curated or
 *                  gold.
 *
 * A UTF-8 byte order mark at the start of the file is skipped: the header
 * starts after it (the checksum is still of the whole file).
 *
 * Reads, and why names of exactly two parts: `lake.gold.x` names a table
 * of another catalog, and `gold.x.col` a column (its table is named again
 * in FROM).  A CTE, alias or column may be called gold or curated too; when
 * the word also stands alone somewhere (not followed by '.'), `gold.x`
 * counts only right after FROM, JOIN, TABLE, PIVOT or UNPIVOT, where it
 * cannot be a column.
 */
#include "models/model.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/num.h"
#include "models/models_int.h"
#include "core/banned.h"

/* Limits on header lists, so that a header cannot ask for anything huge. */
#define MAX_LIST 64
#define MAX_COLUMN 128

static const char accepted_keys[] = "materialized, strategy, unique_key, partition_by, "
                                    "description";

static int __attribute__((format(printf, 4, 5)))
fail_at(struct sl_diag *d, const char *path, int line, const char *fmt, ...)
{
    char msg[SL_DIAG_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sl_fail(d, SL_ERR_INPUT, "%s", msg);
    sl_diag_at(d, path, line, 0, NULL);
    return SL_ERR_INPUT;
}

bool
model_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MODEL_MAX_NAME || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

const char *
model_materialized_name(enum model_materialized m)
{
    switch (m) {
    case MODEL_TABLE:
        return "table";
    case MODEL_INCREMENTAL:
        return "incremental";
    case MODEL_VIEW:
        return "view";
    }
    return "?";
}

const char *
model_strategy_name(enum model_strategy s)
{
    return s == MODEL_MERGE ? "merge" : "append";
}

/* ---- the header ---------------------------------------------------------- */

/* The header's functions of a partition transform, by ival kind. */
static const struct {
    const char *name;
    enum ival_transform_kind kind;
    bool param;
} part_fns[] = {
    {"identity", IVAL_IDENTITY, false}, {"year", IVAL_YEAR, false},
    {"month", IVAL_MONTH, false},       {"day", IVAL_DAY, false},
    {"hour", IVAL_HOUR, false},         {"bucket", IVAL_BUCKET, true},
    {"truncate", IVAL_TRUNCATE_T, true},
};

static const char part_forms[] = "col, identity(col), year(col), month(col), day(col), "
                                 "hour(col), bucket(N, col) or truncate(W, col)";

void
model_part_text(const struct model_part *p, char *out, size_t size)
{
    for (size_t i = 0; i < sizeof(part_fns) / sizeof(part_fns[0]); i++) {
        if (part_fns[i].kind != p->transform.kind)
            continue;
        if (p->transform.kind == IVAL_IDENTITY)
            snprintf(out, size, "%s", p->column);
        else if (part_fns[i].param)
            snprintf(out, size, "%s(%d, %s)", part_fns[i].name, (int)p->transform.param,
                     p->column);
        else
            snprintf(out, size, "%s(%s)", part_fns[i].name, p->column);
        return;
    }
    snprintf(out, size, "?(%s)", p->column);
}

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* s[0..*n) without leading and trailing blanks. */
static const char *
trim(const char *s, size_t *n)
{
    while (*n > 0 && is_space(s[0])) {
        s++;
        (*n)--;
    }
    while (*n > 0 && is_space(s[*n - 1]))
        (*n)--;
    return s;
}

static bool
column_valid(const char *s, size_t n)
{
    if (n == 0 || n > MAX_COLUMN ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* One item of a list value, as a slice of the line. */
struct item {
    const char *p;
    size_t n;
};

/*
 * Split value v[0..n) of key into items: "[a, b(1, c)]" or one item "a"
 * (commas inside parentheses do not split).  Returns the count, or
 * SL_ERR_INPUT.
 */
static int
split_list(const char *key, const char *v, size_t n, struct item *items, const char *path,
           int line, struct sl_diag *d)
{
    bool bracketed = n > 0 && v[0] == '[';
    int depth = 0, count = 0;
    size_t start;

    if (bracketed) {
        size_t inner;

        if (n < 2 || v[n - 1] != ']')
            return fail_at(d, path, line, "'%s': a list must end with ']'", key);
        v++;
        n -= 2;
        inner = n;
        trim(v, &inner);
        if (inner == 0)
            return fail_at(d, path, line, "'%s': the list is empty", key);
    }
    start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && v[i] == '(')
            depth++;
        else if (i < n && v[i] == ')')
            depth--;
        if (depth < 0)
            return fail_at(d, path, line, "'%s': unbalanced ')'", key);
        if (i < n && (v[i] != ',' || depth > 0))
            continue;
        if (count == MAX_LIST)
            return fail_at(d, path, line, "'%s': more than %d items", key, MAX_LIST);
        items[count].n = i - start;
        items[count].p = trim(v + start, &items[count].n);
        if (items[count].n == 0)
            return fail_at(d, path, line, "'%s': an empty item in the list", key);
        count++;
        start = i + 1;
    }
    if (depth != 0)
        return fail_at(d, path, line, "'%s': unbalanced '('", key);
    if (!bracketed && count > 1)
        return fail_at(d, path, line, "'%s': several items need brackets: [%.*s]", key,
                       (int)(n > 200 ? 200 : n), v);
    return count;
}

static int
parse_unique_key(struct model *m, const char *v, size_t n, const char *path, int line,
                 struct sl_diag *d)
{
    struct item items[MAX_LIST];
    int count = split_list("unique_key", v, n, items, path, line, d);

    if (count < 0)
        return count;
    m->unique_key = sl_calloc((size_t)count, sizeof(char *));
    for (int i = 0; i < count; i++) {
        if (!column_valid(items[i].p, items[i].n))
            return fail_at(d, path, line,
                           "'unique_key': '%.*s' is not a column name (letters, digits and "
                           "'_', not starting with a digit)",
                           (int)(items[i].n > 200 ? 200 : items[i].n), items[i].p);
        for (int j = 0; j < i; j++)
            if (strlen(m->unique_key[j]) == items[i].n &&
                memcmp(m->unique_key[j], items[i].p, items[i].n) == 0)
                return fail_at(d, path, line, "'unique_key': column '%s' is listed twice",
                               m->unique_key[j]);
        m->unique_key[i] = sl_strndup(items[i].p, items[i].n);
        m->nunique_key++;
    }
    return 0;
}

/* One partition item: "col", "day(col)", "bucket(16, col)". */
static int
parse_part(struct model_part *part, const struct item *it, const char *path, int line,
           struct sl_diag *d)
{
    const char *s = it->p, *open = memchr(it->p, '(', it->n);
    struct item args[2];
    size_t fn_len, k, alen, nargs = 0, start;
    const char *a;

    if (open == NULL) {
        if (!column_valid(s, it->n))
            goto bad;
        part->column = sl_strndup(s, it->n);
        part->transform.kind = IVAL_IDENTITY;
        part->transform.param = 0;
        return 0;
    }
    fn_len = (size_t)(open - s);
    trim(s, &fn_len);
    for (k = 0; k < sizeof(part_fns) / sizeof(part_fns[0]); k++)
        if (strlen(part_fns[k].name) == fn_len && memcmp(part_fns[k].name, s, fn_len) == 0)
            break;
    if (k == sizeof(part_fns) / sizeof(part_fns[0]) || s[it->n - 1] != ')')
        goto bad;
    a = open + 1;
    alen = (size_t)(s + it->n - 1 - a);
    start = 0;
    for (size_t i = 0; i <= alen; i++) {
        if (i < alen && a[i] != ',')
            continue;
        if (nargs == 2)
            goto bad;
        args[nargs].n = i - start;
        args[nargs].p = trim(a + start, &args[nargs].n);
        nargs++;
        start = i + 1;
    }
    if (nargs != (part_fns[k].param ? 2u : 1u) || !column_valid(args[nargs - 1].p,
                                                                 args[nargs - 1].n))
        goto bad;
    part->transform.kind = part_fns[k].kind;
    part->transform.param = 0;
    if (part_fns[k].param) {
        int64_t v;

        if (args[0].n == 0 || args[0].p[0] < '0' || args[0].p[0] > '9' ||
            sl_parse_i64(args[0].p, args[0].n, &v) < 0 || v < 1 || v > INT32_MAX)
            return fail_at(d, path, line,
                           "'partition_by': in '%.*s', %s must be a whole number from 1 to "
                           "2147483647",
                           (int)(it->n > 200 ? 200 : it->n), s,
                           part_fns[k].kind == IVAL_BUCKET ? "N" : "W");
        part->transform.param = (int32_t)v;
    }
    part->column = sl_strndup(args[nargs - 1].p, args[nargs - 1].n);
    return 0;

bad:
    return fail_at(d, path, line, "'partition_by': bad item '%.*s': expected %s",
                   (int)(it->n > 200 ? 200 : it->n), s, part_forms);
}

static int
parse_partition_by(struct model *m, const char *v, size_t n, const char *path, int line,
                   struct sl_diag *d)
{
    struct item items[MAX_LIST];
    int count = split_list("partition_by", v, n, items, path, line, d);

    if (count < 0)
        return count;
    m->parts = sl_calloc((size_t)count, sizeof(*m->parts));
    for (int i = 0; i < count; i++) {
        struct model_part *p = &m->parts[i];
        int rc = parse_part(p, &items[i], path, line, d);

        if (rc < 0)
            return rc;
        m->nparts++;
        for (int j = 0; j < i; j++)
            if (strcmp(m->parts[j].column, p->column) == 0 &&
                m->parts[j].transform.kind == p->transform.kind &&
                m->parts[j].transform.param == p->transform.param) {
                char text[300];

                model_part_text(p, text, sizeof(text));
                return fail_at(d, path, line, "'partition_by': '%s' is listed twice", text);
            }
    }
    return 0;
}

enum key {
    KEY_MATERIALIZED,
    KEY_STRATEGY,
    KEY_UNIQUE_KEY,
    KEY_PARTITION_BY,
    KEY_DESCRIPTION,
    NKEYS
};

static const char *const key_names[NKEYS] = {"materialized", "strategy", "unique_key",
                                             "partition_by", "description"};

/* The value of one header line, key k. */
static int
parse_value(struct model *m, enum key k, const char *v, size_t n, const char *path, int line,
            struct sl_diag *d)
{
    switch (k) {
    case KEY_MATERIALIZED:
        if (n == 5 && memcmp(v, "table", 5) == 0)
            m->materialized = MODEL_TABLE;
        else if (n == 11 && memcmp(v, "incremental", 11) == 0)
            m->materialized = MODEL_INCREMENTAL;
        else if (n == 4 && memcmp(v, "view", 4) == 0)
            m->materialized = MODEL_VIEW;
        else
            return fail_at(d, path, line,
                           "unknown materialized '%.*s': table, incremental or view",
                           (int)(n > 200 ? 200 : n), v);
        return 0;
    case KEY_STRATEGY:
        if (n == 6 && memcmp(v, "append", 6) == 0)
            m->strategy = MODEL_APPEND;
        else if (n == 5 && memcmp(v, "merge", 5) == 0)
            m->strategy = MODEL_MERGE;
        else
            return fail_at(d, path, line, "unknown strategy '%.*s': append or merge",
                           (int)(n > 200 ? 200 : n), v);
        return 0;
    case KEY_UNIQUE_KEY:
        return parse_unique_key(m, v, n, path, line, d);
    case KEY_PARTITION_BY:
        return parse_partition_by(m, v, n, path, line, d);
    case KEY_DESCRIPTION:
        m->description = sl_strndup(v, n);
        return 0;
    case NKEYS:
        break;
    }
    return 0;
}

/*
 * The header of m->text: fills the configuration, m->sql and m->sql_line.
 */
static int
parse_header(struct model *m, size_t len, struct sl_diag *d)
{
    const char *t = m->text, *path = m->path;
    int seen[NKEYS] = {0}, line = 1;
    size_t pos = 0;
    int rc;

    /* A UTF-8 byte order mark, as some editors write, is not part of the
     * header or the SQL (positions on line 1 count from after it). */
    if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
        pos = 3;

    while (pos < len) {
        const char *nl = memchr(t + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - t) : len, n, kn = 0;
        const char *s, *v;
        size_t vn;
        int k;

        if (end - pos < 2 || t[pos] != '-' || t[pos + 1] != '-')
            break;
        n = end - pos - 2;
        s = trim(t + pos + 2, &n);
        while (kn < n && ((s[kn] >= 'a' && s[kn] <= 'z') || (s[kn] >= 'A' && s[kn] <= 'Z') ||
                          (s[kn] >= '0' && s[kn] <= '9') || s[kn] == '_'))
            kn++;
        v = s + kn;
        vn = n - kn;
        v = trim(v, &vn);
        if (kn == 0 || vn == 0 || v[0] != ':') {
            fail_at(d, path, line, "expected '-- key: value' in the model's header, not '%.*s'",
                    (int)(end - pos > 200 ? 200 : end - pos), t + pos);
            sl_diag_detail(d, "The header is the file's leading '--' lines; the first line "
                              "that is not a '--' comment ends it.");
            sl_diag_hint(d, "Keys: %s.  Put a blank line between the header and other "
                            "comments.", accepted_keys);
            return SL_ERR_INPUT;
        }
        v++;
        vn--;
        v = trim(v, &vn);
        for (k = 0; k < NKEYS; k++)
            if (strlen(key_names[k]) == kn && memcmp(key_names[k], s, kn) == 0)
                break;
        if (k == NKEYS) {
            fail_at(d, path, line, "unknown key '%.*s' in the model's header",
                    (int)(kn > 100 ? 100 : kn), s);
            sl_diag_hint(d, "Keys: %s.", accepted_keys);
            return SL_ERR_INPUT;
        }
        if (seen[k])
            return fail_at(d, path, line, "'%s' is given twice (first at line %d)", key_names[k],
                           seen[k]);
        seen[k] = line;
        if (vn == 0)
            return fail_at(d, path, line, "'%s' needs a value", key_names[k]);
        rc = parse_value(m, (enum key)k, v, vn, path, line, d);
        if (rc < 0)
            return rc;
        pos = end + (nl ? 1 : 0);
        line++;
    }
    m->sql = t + pos;
    m->sql_line = line;

    /* The keys against each other. */
    if (seen[KEY_STRATEGY] && m->materialized != MODEL_INCREMENTAL)
        return fail_at(d, path, seen[KEY_STRATEGY],
                       "'strategy' is for incremental models only (this one is %s)",
                       model_materialized_name(m->materialized));
    if (seen[KEY_UNIQUE_KEY] && m->materialized != MODEL_INCREMENTAL)
        return fail_at(d, path, seen[KEY_UNIQUE_KEY],
                       "'unique_key' is for incremental models only (this one is %s)",
                       model_materialized_name(m->materialized));
    if (seen[KEY_PARTITION_BY] && m->materialized == MODEL_VIEW)
        return fail_at(d, path, seen[KEY_PARTITION_BY], "a view cannot have 'partition_by'");
    if (!seen[KEY_STRATEGY])
        m->strategy = m->nunique_key > 0 ? MODEL_MERGE : MODEL_APPEND;
    else if (m->strategy == MODEL_MERGE && m->nunique_key == 0) {
        fail_at(d, path, seen[KEY_STRATEGY], "strategy merge needs a 'unique_key'");
        sl_diag_hint(d, "Add '-- unique_key: column' (or [a, b]), or use strategy append.");
        return SL_ERR_INPUT;
    }
    return 0;
}

/* ---- template tags ------------------------------------------------------- */

/* The words of a tag's inside: identifiers and single '(' ')'.  Returns
 * the count, or -1 for anything else or too many. */
static int
tag_words(const char *s, size_t n, struct item *w, int max)
{
    int count = 0;
    size_t i = 0;

    while (i < n) {
        size_t start = i;

        if (is_space(s[i]) || s[i] == '\n') {
            i++;
            continue;
        }
        if (count == max)
            return -1;
        if (s[i] == '(' || s[i] == ')') {
            i++;
        } else {
            while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                             (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                i++;
            if (i == start)
                return -1;
        }
        w[count].p = s + start;
        w[count].n = i - start;
        count++;
    }
    return count;
}

static bool
word_is(const struct item *w, const char *s)
{
    return w->n == strlen(s) && memcmp(w->p, s, w->n) == 0;
}

/* Whether w[0..n) is "is_incremental" or "is_incremental ( )". */
static bool
is_incremental_call(const struct item *w, int n)
{
    return (n == 1 && word_is(&w[0], "is_incremental")) ||
           (n == 3 && word_is(&w[0], "is_incremental") && word_is(&w[1], "(") &&
            word_is(&w[2], ")"));
}

/* The kind of the tag t of text, or -1 if it is none. */
static int
tag_kind(const char *text, const struct mlex_token *t)
{
    const char *s = text + t->off + 2;
    size_t n = t->len - 4;
    struct item w[6];
    int nw;

    /* Jinja's trim markers: kept text is kept whole here. */
    if (n > 0 && s[0] == '-') {
        s++;
        n--;
    }
    if (n > 0 && s[n - 1] == '-')
        n--;
    nw = tag_words(s, n, w, 6);
    if (nw <= 0)
        return -1;
    if (t->kind == MLEX_EXPR) {
        if (nw == 1 && word_is(&w[0], "this"))
            return MODEL_TAG_THIS;
        if (nw == 1 && word_is(&w[0], "changed_keys"))
            return MODEL_TAG_CHANGED_KEYS;
        if (is_incremental_call(w, nw))
            return MODEL_TAG_IS_INCREMENTAL;
        return -1;
    }
    if (nw == 1 && word_is(&w[0], "else"))
        return MODEL_TAG_ELSE;
    if (nw == 1 && word_is(&w[0], "endif"))
        return MODEL_TAG_ENDIF;
    if (word_is(&w[0], "if")) {
        if (nw >= 2 && word_is(&w[1], "not") && is_incremental_call(w + 2, nw - 2))
            return MODEL_TAG_IF_NOT;
        if (is_incremental_call(w + 1, nw - 1))
            return MODEL_TAG_IF;
    }
    return -1;
}

/* Record tag t of m and check the ifs stay balanced and flat; *open_if is
 * the index of the open if, or -1. */
static int
add_tag(struct model *m, size_t *cap, const struct mlex_token *t, long *open_if, bool *seen_else,
        struct sl_diag *d)
{
    int kind = tag_kind(m->sql, t);
    int shown = t->len > 120 ? 120 : (int)t->len;
    struct model_tag *tag;

    if (kind < 0 && t->kind == MLEX_EXPR) {
        fail_at(d, m->path, t->line, "unknown template expression '%.*s'", shown,
                m->sql + t->off);
        sl_diag_hint(d, "Expressions are {{ this }}, {{ is_incremental }} and "
                        "{{ changed_keys }}.");
        return SL_ERR_INPUT;
    }
    if (kind < 0) {
        fail_at(d, m->path, t->line, "unknown template tag '%.*s'", shown, m->sql + t->off);
        sl_diag_hint(d, "Tags are {%% if is_incremental %%}, {%% if not is_incremental %%}, "
                        "{%% else %%} and {%% endif %%}.");
        return SL_ERR_INPUT;
    }
    switch (kind) {
    case MODEL_TAG_IF:
    case MODEL_TAG_IF_NOT:
        if (*open_if >= 0)
            return fail_at(d, m->path, t->line,
                           "nested '{%% if %%}' is not supported (the one of line %d is still "
                           "open)",
                           m->tags[*open_if].line);
        *open_if = (long)m->ntags;
        *seen_else = false;
        break;
    case MODEL_TAG_ELSE:
        if (*open_if < 0)
            return fail_at(d, m->path, t->line, "'{%% else %%}' without '{%% if %%}'");
        if (*seen_else)
            return fail_at(d, m->path, t->line,
                           "a second '{%% else %%}' for the '{%% if %%}' of line %d",
                           m->tags[*open_if].line);
        *seen_else = true;
        break;
    case MODEL_TAG_ENDIF:
        if (*open_if < 0)
            return fail_at(d, m->path, t->line, "'{%% endif %%}' without '{%% if %%}'");
        *open_if = -1;
        break;
    case MODEL_TAG_CHANGED_KEYS: {
        /* kept in a full build: outside the if, or in its branch for one */
        bool in_full = *open_if < 0 || (m->tags[*open_if].kind == MODEL_TAG_IF) == *seen_else;

        if (m->materialized != MODEL_INCREMENTAL || m->strategy != MODEL_MERGE)
            return fail_at(d, m->path, t->line, "{{ changed_keys }} is for incremental merge "
                           "models (materialized: incremental, with a unique_key)");
        if (in_full) {
            fail_at(d, m->path, t->line, "{{ changed_keys }} where a full build keeps it: a "
                    "full build has no changed keys");
            sl_diag_hint(d, "Put it inside {%% if is_incremental %%} ... {%% endif %%}.");
            return SL_ERR_INPUT;
        }
        break;
    }
    default:
        break;
    }
    SL_GROW(m->tags, *cap, m->ntags + 1);
    tag = &m->tags[m->ntags++];
    tag->kind = (enum model_tag_kind)kind;
    tag->off = t->off;
    tag->len = t->len;
    tag->line = t->line;
    return 0;
}

/* ---- the statement and its reads ------------------------------------------ */

static bool
is_name(const struct mlex_token *t)
{
    return t->kind == MLEX_IDENT || t->kind == MLEX_QIDENT;
}

/* Whether t names schema (a lower-case word): any case unquoted, exactly
 * when quoted. */
static bool
names_schema(const char *text, const struct mlex_token *t, const char *schema)
{
    size_t n = strlen(schema);

    if (t->kind == MLEX_IDENT)
        return mlex_is_word(text, t, schema);
    return t->kind == MLEX_QIDENT && t->len == n + 2 && memcmp(text + t->off + 1, schema, n) == 0;
}

static int
add_read(struct model *m, size_t *cap, const char *schema, const struct mlex_token *tab,
         struct sl_diag *d)
{
    char *table = mlex_ident(m->sql, tab);
    char *full = sl_printf("%s.%s", schema, table);

    if (strcmp(schema, "gold") == 0 && strcmp(table, m->name) == 0) {
        free(table);
        free(full);
        fail_at(d, m->path, tab->line, "model '%s' reads gold.%s, its own table", m->name,
                m->name);
        sl_diag_hint(d, "Use {{ this }} for the model's own table (in an incremental build, "
                        "the rows built so far).");
        return SL_ERR_INPUT;
    }
    free(table);
    for (size_t i = 0; i < m->nreads; i++)
        if (strcmp(m->reads[i], full) == 0) {
            free(full);
            return 0;
        }
    if (m->nreads == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        m->reads = sl_realloc(m->reads, *cap * sizeof(*m->reads));
        m->read_lines = sl_realloc(m->read_lines, *cap * sizeof(*m->read_lines));
    }
    m->reads[m->nreads] = full;
    m->read_lines[m->nreads] = tab->line;
    m->nreads++;
    return 0;
}

/* Whether t is a word after which a name is a table, never a column:
 * FROM, JOIN, and the query starts TABLE, PIVOT and UNPIVOT. */
static bool
after_table_word(const char *sql, const struct mlex_token *t)
{
    static const char *const words[] = {"from",    "join",        "table",
                                        "pivot",   "unpivot",     "pivot_wider",
                                        "pivot_longer"};

    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (mlex_is_word(sql, t, words[k]))
            return true;
    return false;
}

/* The words a query may start with, as DuckDB reads them (besides '('). */
static const char *const query_starts[] = {"select", "with",    "from",        "values",
                                           "table",  "pivot",   "unpivot",     "pivot_wider",
                                           "pivot_longer"};

/* Whether tok starts a query: one of query_starts, or '('. */
static bool
starts_query(const char *sql, const struct mlex_token *tok)
{
    if (tok->kind == MLEX_OTHER && sql[tok->off] == '(')
        return true;
    for (size_t k = 0; k < sizeof(query_starts) / sizeof(query_starts[0]); k++)
        if (mlex_is_word(sql, tok, query_starts[k]))
            return true;
    return false;
}

/*
 * The first token the rendering for an incremental build or not keeps,
 * other than the {% %} tags ({{ }} tags count: they become text), or n if
 * it keeps none.  The tags are checked, and m->tags holds them in the
 * order of the MLEX_BLOCK and MLEX_EXPR tokens.
 */
static size_t
first_kept(const struct model *m, const struct mlex_token *tok, size_t n, bool incremental)
{
    bool keep = true, cond = false;
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (tok[i].kind != MLEX_BLOCK && tok[i].kind != MLEX_EXPR) {
            if (keep)
                return i;
            continue;
        }
        switch (m->tags[k++].kind) {
        case MODEL_TAG_IF:
        case MODEL_TAG_IF_NOT:
            cond = m->tags[k - 1].kind == MODEL_TAG_IF ? incremental : !incremental;
            keep = cond;
            break;
        case MODEL_TAG_ELSE:
            keep = !cond;
            break;
        case MODEL_TAG_ENDIF:
            keep = true;
            break;
        case MODEL_TAG_THIS:
        case MODEL_TAG_IS_INCREMENTAL:
        case MODEL_TAG_CHANGED_KEYS:
            if (keep)
                return i;
            break;
        }
    }
    return n;
}

/*
 * Every rendering a build can run is one query: for a full build, and for
 * an incremental one if the model is incremental, the first token kept
 * starts a query.  (';' and what follows are checked before, on all
 * tokens alike.)
 */
static int
check_start(const struct model *m, const struct mlex_token *tok, size_t n, struct sl_diag *d)
{
    for (int pass = 0; pass < 2; pass++) {
        bool incremental = pass == 1;
        size_t first;

        if (incremental && m->materialized != MODEL_INCREMENTAL)
            break;
        first = first_kept(m, tok, n, incremental);
        if (first == n) {
            fail_at(d, m->path, m->ntags > 0 ? m->tags[0].line : tok[0].line,
                    "no SQL in %s build: the query is all inside '{%% if %%}' branches "
                    "that build leaves out",
                    incremental ? "an incremental" : "a full");
            sl_diag_hint(d, "Keep the start of the query outside {%% if is_incremental %%}.");
            return SL_ERR_INPUT;
        }
        if (!starts_query(m->sql, &tok[first])) {
            fail_at(d, m->path, tok[first].line,
                    "a model is a query (SELECT, WITH, FROM, VALUES, TABLE, PIVOT, UNPIVOT or "
                    "'('), not '%.*s ...'%s",
                    (int)(tok[first].len > 60 ? 60 : tok[first].len), m->sql + tok[first].off,
                    n > 0 && first_kept(m, tok, n, !incremental) != first
                        ? (incremental ? " in an incremental build" : " in a full build")
                        : "");
            return SL_ERR_INPUT;
        }
    }
    return 0;
}

/* The statement checks and the reads, over the tokens of m->sql. */
static int
scan_statement(struct model *m, const struct mlex_token *tok, size_t n, struct sl_diag *d)
{
    static const char *const schemas[] = {"curated", "gold"};
    bool alone[2] = {false, false};
    size_t semi = n, last = n, cap = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (tok[i].kind == MLEX_SEMI) {
            if (semi == n)
                semi = i;
            continue;
        }
        if (semi < n) {
            fail_at(d, m->path, tok[i].line, "more than one statement: a model is one query");
            sl_diag_hint(d, "Remove the ';' of line %d, or what follows it.", tok[semi].line);
            return SL_ERR_INPUT;
        }
        last = i;
    }
    if (last == n) {
        int line = m->sql_line;

        for (const char *p = m->sql; *p; p++)
            line += *p == '\n';
        if (line > 1 && m->sql[0] == '\0' && m->text[0] != '\0')
            line--; /* the header ran to the end: point at its last line */
        else if (line > m->sql_line && m->sql[strlen(m->sql) - 1] == '\n')
            line--;
        return fail_at(d, m->path, n > 0 ? tok[0].line : line,
                       "no SQL: a model needs a query after its header");
    }
    m->sql_len = tok[last].off + tok[last].len;
    rc = check_start(m, tok, semi, d);
    if (rc < 0)
        return rc;

    /* Is curated or gold also a plain name here (an alias, a CTE)? */
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < 2; s++)
            if (names_schema(m->sql, &tok[i], schemas[s]) &&
                (i + 1 == n || tok[i + 1].kind != MLEX_DOT))
                alone[s] = true;

    for (size_t i = 0; i + 2 < n; i++) {
        int s;

        if (!is_name(&tok[i]) || tok[i + 1].kind != MLEX_DOT || !is_name(&tok[i + 2]))
            continue;
        if (i > 0 && tok[i - 1].kind == MLEX_DOT)
            continue; /* x.gold.t: a table of another catalog */
        if (i + 3 < n && tok[i + 3].kind == MLEX_DOT)
            continue; /* gold.t.col: a column */
        for (s = 0; s < 2; s++)
            if (names_schema(m->sql, &tok[i], schemas[s]))
                break;
        if (s == 2)
            continue;
        if (alone[s] && !(i > 0 && after_table_word(m->sql, &tok[i - 1])))
            continue;
        rc = add_read(m, &cap, schemas[s], &tok[i + 2], d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- one model ------------------------------------------------------------ */

void
model_release(struct model *m)
{
    free(m->name);
    free(m->path);
    free(m->text);
    for (size_t i = 0; i < m->nunique_key; i++)
        free(m->unique_key[i]);
    free(m->unique_key);
    for (size_t i = 0; i < m->nparts; i++)
        free(m->parts[i].column);
    free(m->parts);
    free(m->description);
    for (size_t i = 0; i < m->nreads; i++)
        free(m->reads[i]);
    free(m->reads);
    free(m->read_lines);
    free(m->tags);
    free(m->deps);
    memset(m, 0, sizeof(*m));
}

int
model_parse(const char *name, const char *path, char *text, size_t len, struct model *m,
            struct sl_diag *d)
{
    struct mlex_token *tok = NULL;
    size_t ntok = 0, tokcap = 0, tagcap = 0, sql_size;
    struct sl_sha256 h;
    struct mlex lx;
    long open_if = -1;
    bool seen_else = false;
    const char *nul;
    int rc;

    memset(m, 0, sizeof(*m));
    text[len] = '\0';
    m->name = sl_strdup(name);
    m->path = sl_strdup(path);
    m->text = text;
    m->sql = text;
    m->sql_line = 1;
    sl_sha256_init(&h);
    sl_sha256_update(&h, text, len);
    sl_sha256_final(&h, m->sha256);
    if (!model_name_valid(name)) {
        sl_fail(d, SL_ERR_INPUT, "invalid model name '%s': use lower-case letters, digits and "
                "'_', starting with a letter or '_', at most %d", name, MODEL_MAX_NAME);
        sl_diag_at(d, path, 0, 0, NULL);
        return SL_ERR_INPUT;
    }
    nul = memchr(text, '\0', len);
    if (nul != NULL) {
        int line = 1;

        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        return fail_at(d, path, line, "a model file is text: it holds a NUL byte");
    }
    rc = parse_header(m, len, d);
    if (rc < 0)
        return rc;

    sql_size = len - (size_t)(m->sql - text);
    mlex_init(&lx, m->sql, sql_size, m->sql_line);
    for (;;) {
        struct mlex_token t;

        rc = mlex_next(&lx, &t, d);
        if (rc < 0) {
            sl_diag_at(d, path, 0, 0, NULL);
            goto out;
        }
        if (t.kind == MLEX_END)
            break;
        if (t.kind == MLEX_BLOCK || t.kind == MLEX_EXPR) {
            rc = add_tag(m, &tagcap, &t, &open_if, &seen_else, d);
            if (rc < 0)
                goto out;
        }
        SL_GROW(tok, tokcap, ntok + 1);
        tok[ntok++] = t;
    }
    if (open_if >= 0) {
        rc = fail_at(d, path, m->tags[open_if].line, "'{%% if %%}' without '{%% endif %%}'");
        goto out;
    }
    rc = scan_statement(m, tok, ntok, d);
out:
    free(tok);
    return rc;
}
