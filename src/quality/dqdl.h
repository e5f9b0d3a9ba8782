/*
 * dqdl.h - rulesets in AWS Glue Data Quality's DQDL (quality/<table>.dqdl):
 * the parser and the tree it builds.
 *
 * A document is, in this order, each part optional but the rules or the
 * analyzers:
 *
 *     # severity: warn                        (sluice's header, in comments:
 *     # drift: block                           severity block|warn, drift
 *                                              ignore|warn|block)
 *     Metadata = { "Version": "1.0" }
 *     DataSources = { "AdditionalDataSources": ["customers"] }
 *     threshold = "0.9"                       (variables, used as $threshold)
 *     DefaultLabels = ["team"="finance"]
 *     Rules = [ RowCount > 100, (IsComplete "id") and (IsUnique "id"), ... ]
 *     Analyzers = [ Mean "price", ... ]
 *
 * A rule is `Type param* [condition] [where "predicate"] [labels=[...]]
 * [with threshold condition]`; rules combine with and/or (and binding
 * tighter, parentheses as usual).  The grammar is the one of AWS's
 * published DQDL grammar; where it leaves a reading open, src/quality/
 * README.md says which one sluice takes.
 *
 * The parser checks everything that does not need the data: each rule type
 * against its parameters, the conditions it takes, where and threshold;
 * variables; function names in dynamic thresholds.  Every refusal is
 * SL_ERR_INPUT naming the file, the line and the column, with what was
 * expected there.  Columns are checked by the evaluator, which knows the
 * table.
 *
 * The tree lives in the ruleset's arena: dq_free() releases all of it.
 */
#ifndef SL_QUALITY_DQDL_H
#define SL_QUALITY_DQDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"

/* The rule types DQDL defines (the parser knows each one's form). */
enum dq_type {
    DQ_ROW_COUNT,
    DQ_ROW_COUNT_MATCH,
    DQ_COLUMN_COUNT,
    DQ_COMPLETENESS,
    DQ_IS_COMPLETE,
    DQ_COLUMN_DATA_TYPE,
    DQ_COLUMN_NAMES_MATCH_PATTERN,
    DQ_COLUMN_EXISTS,
    DQ_COLUMN_CORRELATION,
    DQ_UNIQUENESS,
    DQ_IS_UNIQUE,
    DQ_MEAN,
    DQ_SUM,
    DQ_STANDARD_DEVIATION,
    DQ_VARIANCE,
    DQ_ENTROPY,
    DQ_DISTINCT_VALUES_COUNT,
    DQ_UNIQUE_VALUE_RATIO,
    DQ_COLUMN_LENGTH,
    DQ_IS_PRIMARY_KEY,
    DQ_COLUMN_VALUES,
    DQ_DATA_FRESHNESS,
    DQ_CUSTOM_SQL,
    DQ_REFERENTIAL_INTEGRITY,
    DQ_DATASET_MATCH,
    DQ_SCHEMA_MATCH,
    DQ_AGGREGATE_MATCH,
    DQ_DETECT_ANOMALIES,
    DQ_ALL_STATISTICS,
    DQ_DISTRIBUTION_DRIFT,      /* sluice's: a numeric column's PSI (profile.h) */
    DQ_NTYPES
};

/* The rule type's name as DQDL spells it. */
const char *dq_type_name(enum dq_type t);

/* A number: a literal, NULL, a function call (the dynamic thresholds'
 * last, avg, ...) or an arithmetic operation. */
enum dq_num_kind { DQ_NUM_LIT, DQ_NUM_NULL, DQ_NUM_CALL, DQ_NUM_OP };

struct dq_num {
    enum dq_num_kind kind;
    double value;               /* DQ_NUM_LIT */
    char op;                    /* DQ_NUM_OP: + - * / */
    const struct dq_num *l, *r; /* DQ_NUM_OP */
    const char *fn;             /* DQ_NUM_CALL: lower case, one of dq's functions */
    const struct dq_num **args; /* DQ_NUM_CALL */
    size_t nargs;
    int height;                 /* of this expression's tree: 1 for a leaf, at most 64 */
    int line, col;
};

/* One value a condition compares with. */
enum dq_val_kind {
    DQ_VAL_NUM,                 /* num (may be NULL itself) */
    DQ_VAL_STR,                 /* str: a quoted string (dates and times too) */
    DQ_VAL_NULL,                /* NULL */
    DQ_VAL_EMPTY,               /* EMPTY: the empty string */
    DQ_VAL_WHITESPACES,         /* WHITESPACES_ONLY */
    DQ_VAL_NOW,                 /* now() plus i microseconds (maybe negative) */
    DQ_VAL_DURATION,            /* i microseconds: 3 days, 24 hours */
    DQ_VAL_SIZE,                /* i bytes: 1 MB (file rules) */
};

struct dq_val {
    enum dq_val_kind kind;
    const struct dq_num *num;
    const char *str;            /* decoded (escapes applied), NUL-terminated */
    int64_t i;
    int line, col;
};

enum dq_op {
    DQ_EQ, DQ_NE, DQ_GT, DQ_GE, DQ_LT, DQ_LE,
    DQ_BETWEEN, DQ_NOT_BETWEEN,   /* exclusive at both ends */
    DQ_IN, DQ_NOT_IN,
    DQ_MATCHES, DQ_NOT_MATCHES,   /* vals[0] is the regex */
};

struct dq_cond {
    enum dq_op op;
    const struct dq_val *vals;  /* 1, 2 for between, n for in */
    size_t nvals;
    int line, col;
};

struct dq_label {
    const char *key, *value;
};

/* A rule: a leaf of one type, or two rules joined by and/or. */
enum dq_rule_kind { DQ_LEAF, DQ_AND, DQ_OR };

struct dq_rule {
    enum dq_rule_kind kind;
    const char *text;           /* as written, whitespace runs folded */
    int line, col;
    const struct dq_label *labels; /* labels=[...] (composites too) */
    size_t nlabels;
    /* DQ_AND, DQ_OR: */
    const struct dq_rule *l, *r;
    /* DQ_LEAF: */
    enum dq_type type;
    const char **params;        /* decoded strings ($variables resolved) */
    size_t nparams;
    const struct dq_cond *cond; /* NULL: none */
    const char *where;          /* NULL: none */
    const struct dq_cond *threshold; /* with threshold ...; NULL: none */
};

/* A DataSources or Metadata entry: a string or a list of strings. */
struct dq_pair {
    const char *key;
    const char **values;
    size_t nvalues;
    bool list;
};

enum dq_severity { DQ_BLOCK, DQ_WARN };
/* What a gate makes of schema drift in the run it checks ("# drift: ..."). */
enum dq_drift { DQ_DRIFT_IGNORE, DQ_DRIFT_WARN, DQ_DRIFT_BLOCK };

struct dq_ruleset {
    const char *path;           /* as given to dq_parse() */
    enum dq_severity severity;  /* "# severity: warn" in the header */
    enum dq_drift drift;        /* "# drift: block" in the header */
    const struct dq_pair *metadata, *sources;
    size_t nmetadata, nsources;
    const struct dq_label *default_labels;
    size_t ndefault_labels;
    const struct dq_rule **rules;
    size_t nrules;
    const struct dq_rule **analyzers; /* leaves without conditions */
    size_t nanalyzers;
    struct sl_arena arena;
};

/*
 * Parse text (len bytes, any bytes) from path into *out.  0, or
 * SL_ERR_INPUT with the file, line and column in d; *out is then empty
 * (dq_free() is still allowed).
 */
int dq_parse(const char *path, const char *text, size_t len, struct dq_ruleset *out,
             struct sl_diag *d);
void dq_free(struct dq_ruleset *rs);

/* The values of DataSources' key (case as written), or NULL. */
const struct dq_pair *dq_source(const struct dq_ruleset *rs, const char *key);

#endif
