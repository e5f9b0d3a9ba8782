/*
 * model.h - gold models: models/<name>.sql files, loaded, checked, ordered,
 * selected and rendered (the front end of `sluice build`).
 *
 * A model is one query over curated.* and gold.* tables, built into the
 * Iceberg table gold.<name>.  The file opens (after a UTF-8 byte order
 * mark, if any) with a header of comment lines `-- key: value` (the first
 * line that does not start with "--" ends it; inside it every "--" line
 * must be `key: value`):
 *
 *   -- materialized: incremental            table (default) | incremental | view
 *   -- strategy: merge                      incremental only: append | merge;
 *                                           default merge with a unique_key,
 *                                           else append
 *   -- unique_key: [customer_id, day]       a column or a list
 *   -- partition_by: [day(ordered_at), bucket(16, customer_id)]
 *                                           col | identity(col) | year(col) |
 *                                           month(col) | day(col) | hour(col) |
 *                                           bucket(N, col) | truncate(W, col);
 *                                           not for views
 *   -- description: customers with their orders
 *
 *   SELECT ... FROM curated.orders o JOIN gold.customers c USING (customer_id)
 *   {% if is_incremental %} WHERE o.ordered_at > (SELECT max(ordered_at) FROM {{ this }}) {% endif %}
 *
 * The SQL is one statement (a closing ';' is allowed) that starts as
 * DuckDB lets a query start: SELECT, WITH, FROM (FROM-first `FROM t SELECT
 * ...`), VALUES, TABLE, PIVOT, UNPIVOT (PIVOT_WIDER, PIVOT_LONGER) or '('
 * - in the full build's rendering and, for an incremental model, in the
 * incremental one's.  Template tags:
 * `{% if is_incremental %}` (also `is_incremental()`, `if not ...`),
 * `{% else %}`, `{% endif %}` (not nested), `{{ this }}`,
 * `{{ is_incremental }}` and, in an incremental merge model and only where
 * a full build leaves it out, `{{ changed_keys }}` (the table of the
 * unique key values the inputs' change touched); Jinja's "-" trim markers (`{%-`, `-%}`) are
 * accepted and change nothing.  Tags are recognised where SQL tokens are,
 * not inside string literals, quoted identifiers or comments.
 *
 * Dependencies come from the SQL's own tokens (lex.c): every name of
 * exactly two parts, schema curated or gold, is a table read.  Every
 * failure is SL_ERR_INPUT with the file and line in the sl_diag (where,
 * line), the accepted forms in its message or hint.
 *
 * Nothing here runs SQL or touches the catalog; not thread-safe, but a
 * loaded set is read-only and may be shared by readers.
 */
#ifndef SL_MODELS_MODEL_H
#define SL_MODELS_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "table/value.h"

/* A model file's largest size (SL_ERR_LIMIT past it). */
#define MODEL_MAX_BYTES (1u << 20)
/* A model name's longest length: [a-z_][a-z0-9_]*, at most this. */
#define MODEL_MAX_NAME 64

/* How a model's result is kept. */
enum model_materialized {
    MODEL_TABLE,       /* rebuilt whole on every build */
    MODEL_INCREMENTAL, /* built once, then only new rows added or merged */
    MODEL_VIEW,        /* a view: nothing stored */
};

/* How an incremental build adds its rows. */
enum model_strategy {
    MODEL_APPEND, /* new rows are appended */
    MODEL_MERGE,  /* rows replace those with the same unique_key */
};

/* One partition field of the table. */
struct model_part {
    char *column; /* the source column, as written */
    /* IVAL_IDENTITY, IVAL_YEAR, IVAL_MONTH, IVAL_DAY, IVAL_HOUR,
     * IVAL_BUCKET (param N), IVAL_TRUNCATE_T (param W) */
    struct ival_transform transform;
};

/* What a template tag is (model_tag). */
enum model_tag_kind {
    MODEL_TAG_IF,             /* {% if is_incremental %} */
    MODEL_TAG_IF_NOT,         /* {% if not is_incremental %} */
    MODEL_TAG_ELSE,           /* {% else %} */
    MODEL_TAG_ENDIF,          /* {% endif %} */
    MODEL_TAG_THIS,           /* {{ this }} */
    MODEL_TAG_IS_INCREMENTAL, /* {{ is_incremental }} */
    MODEL_TAG_CHANGED_KEYS,   /* {{ changed_keys }}: merge, incremental builds */
};

/* One template tag of a model's SQL, checked at load time. */
struct model_tag {
    enum model_tag_kind kind;
    size_t off; /* bytes into sql where "{%" or "{{" starts */
    size_t len; /* bytes up to and including "%}" or "}}" */
    int line;   /* 1-based line of the file */
};

/* One model.  Every pointer is owned by the model (models_release()). */
struct model {
    char *name; /* the file name less ".sql": the table gold.<name> */
    char *path; /* the file, as found (dir + "/" + name + ".sql") */
    char *text; /* the whole file, NUL-terminated */
    const char *sql; /* the SELECT: into text, after the header */
    int sql_line;    /* 1-based line of text where sql starts */
    enum model_materialized materialized;
    enum model_strategy strategy; /* incremental only */
    char **unique_key;            /* incremental only; columns as written */
    size_t nunique_key;
    struct model_part *parts; /* partition fields, in order */
    size_t nparts;
    char *description; /* or NULL */
    /* tables read: "curated.orders", "gold.customers", lower case,
     * distinct, in order of first mention; {{ this }} is not among them */
    char **reads;
    size_t nreads;
    unsigned char sha256[32]; /* of text */

    /* Additions to the shared declaration: */
    int *read_lines;   /* nreads: 1-based line of each read's first mention */
    size_t sql_len;    /* bytes of sql up to the end of its last token: a
                        * closing ';' and what follows are left out */
    struct model_tag *tags; /* the template tags, in order */
    size_t ntags;
    size_t *deps;      /* indexes into the set's v of the gold models this
                        * one reads, in order of reads (filled by
                        * models_load(); NULL from model_parse()) */
    size_t ndeps;
};

/* Every model of a project. */
struct model_set {
    struct model *v; /* n models, sorted by name */
    size_t n;
    /* n indexes into v: every model after the gold models it reads (ties
     * by name) */
    size_t *order;
};

/*
 * Load every models/<name>.sql of dir into *set (caller-owned memory;
 * release with models_release(), also after a failure); each model's path,
 * in errors too, is shown/<name>.sql (shown NULL: dir).  Files whose name
 * does not end in ".sql", or starts with '.', are ignored, as are
 * directories; a missing dir is an empty set (returns 0).  Returns 0, or
 * SL_ERR_INPUT naming the file and line for: a name that is not a valid
 * model name, a bad header, a template error, no SQL or more than one
 * statement, a model reading gold.<itself>, a read of gold.x with no model
 * x, a cycle; SL_ERR_LIMIT for a file over MODEL_MAX_BYTES; a negated errno
 * when the folder or a file cannot be read.  The first failure stops the
 * load.
 */
int models_load(const char *dir, const char *shown, struct model_set *set, struct sl_diag *d);
/* Free everything *set holds; it is an empty set again. */
void models_release(struct model_set *set);

/* The model called name, or NULL (borrowed from set). */
const struct model *models_find(const struct model_set *set, const char *name);

/*
 * dbt's node selection: each of sel[0..nsel) is `name` (that model),
 * `+name` (with every model it reads, transitively), `name+` (with every
 * model that reads it, transitively) or `+name+` (both).  chosen has
 * set->n entries, parallel to set->v; it is set to the union.  nsel == 0
 * chooses every model.  Returns 0, or SL_ERR_INPUT for an unknown name or
 * an empty selector, the models listed in the hint.
 */
int models_select(const struct model_set *set, const char *const *sel, size_t nsel,
                  bool *chosen, struct sl_diag *d);

/*
 * The model's SQL with its template resolved, for a build that is
 * incremental or not: the branches of `{% if is_incremental %}` chosen,
 * `{{ is_incremental }}` as true or false, `{{ this }}` as this_table (the
 * caller's quoted name, e.g. `gold."customer_360"`), `{{ changed_keys }}`
 * as changed_keys (NULL where the build has none: never kept then).  What is removed
 * becomes spaces with its newlines kept, so every line of the result is
 * the line of the file at the same distance from sql_line, and columns
 * hold up to the first `{{ }}` of a line (model_locate_rendered()).  The
 * statement's closing ';' and anything after its last token are left out,
 * so the text can be wrapped (CREATE TABLE ... AS ...).  Caller frees.
 */
char *model_render(const struct model *m, bool incremental, const char *this_table,
                   const char *changed_keys);

/*
 * The file's 1-based line and column (in bytes) of sql_offset bytes into
 * m->sql (clamped to the end of the text).
 */
void model_locate(const struct model *m, size_t sql_offset, int *line, int *column);

/*
 * The same for offset bytes into rendered, a text model_render() made of
 * m: the line is exact; the column is the column in the rendered line,
 * which is the file's unless a `{{ }}` substitution stands before it on
 * that line.
 */
void model_locate_rendered(const struct model *m, const char *rendered, size_t offset,
                           int *line, int *column);

/*
 * Parse one model from text (len bytes; model_parse() takes ownership of
 * text, which must have room for a NUL at text[len]): name and path as in
 * struct model.  Fills *m (release with model_release(), also after a
 * failure).  Checks everything models_load() checks of one file; gold
 * reads are not resolved (deps stays empty).  Returns 0 or SL_ERR_INPUT.
 */
int model_parse(const char *name, const char *path, char *text, size_t len, struct model *m,
                struct sl_diag *d);
/* Free what *m holds. */
void model_release(struct model *m);

/* Whether s is a valid model name: [a-z_][a-z0-9_]*, 1 to MODEL_MAX_NAME. */
bool model_name_valid(const char *s);

/* "table", "incremental", "view"; "append", "merge". */
const char *model_materialized_name(enum model_materialized m);
const char *model_strategy_name(enum model_strategy s);
/* A partition field as written in a header: "day(ordered_at)",
 * "bucket(16, customer_id)", "customer_id" for identity, into out. */
void model_part_text(const struct model_part *p, char *out, size_t size);

#endif
