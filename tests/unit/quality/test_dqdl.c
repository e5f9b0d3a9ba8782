/*
 * test_dqdl.c - the DQDL parser: documents, every rule type's form,
 * conditions, dynamic thresholds, composites, variables, labels, and the
 * refusals with their line, column and words.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/diag.h"
#include "core/mem.h"
#include "quality/dqdl.h"
#include "test.h"

#define PATH "quality/curated.orders.dqdl"

static struct dq_ruleset rs;
static struct sl_diag d;

/* Parse text into rs (released first): 0 or SL_ERR_INPUT. */
static int
parse(const char *text)
{
    dq_free(&rs);
    sl_diag_init(&d);
    return dq_parse(PATH, text, strlen(text), &rs, &d);
}

/* Parse Rules = [ rule ] and return the one rule. */
static const struct dq_rule *
rule(const char *text)
{
    char doc[2048];

    snprintf(doc, sizeof(doc), "Rules = [ %s ]", text);
    if (parse(doc) != 0) {
        snprintf(test_why, sizeof(test_why), "%s:%d: refused: %s", __FILE__, __LINE__, d.msg);
        longjmp(test_jmp, 1);
    }
    CHECK_INT(rs.nrules, 1);
    return rs.rules[0];
}

/* text is refused at line:col with a message holding want. */
static void
refused_at(const char *text, int line, int col, const char *want)
{
    char where[32];

    CHECK_INT(parse(text), SL_ERR_INPUT);
    CHECK_STR(d.where, PATH);
    CHECK_INT(d.line, line);
    snprintf(where, sizeof(where), "column %d: ", col);
    CHECK_HAS(d.msg, where);
    CHECK_HAS(d.msg, want);
    CHECK_INT(rs.nrules, 0);
}

/* A rule alone in Rules = [ ... ] is refused at column col of line 1
 * (counted in the rule's text) with want. */
static void
rule_refused(const char *text, int col, const char *want)
{
    char doc[2048];

    snprintf(doc, sizeof(doc), "Rules = [ %s ]", text);
    refused_at(doc, 1, col + 10, want);
}

TEST(document_with_every_section)
{
    const char *doc =
        "# severity: warn\n"
        "# curated.orders: what the shop's orders must hold\n"
        "Metadata = { \"Version\": \"1.0\" }\n"
        "DataSources = { \"Primary\": \"orders\", \"AdditionalDataSources\": [\"customers\", "
        "\"gold.customer_360\"] }\n"
        "statuses = [\"paid\", \"shipped\"]\n"
        "min_rows = \"100\"\n"
        "DefaultLabels = [\"team\"=\"shop\"]\n"
        "Rules = [\n"
        "    RowCount > 100,   # at least a hundred\n"
        "    IsComplete \"order_id\",\n"
        "    ColumnValues \"status\" in $statuses with threshold > 0.9\n"
        "]\n"
        "Analyzers = [ Mean \"amount\", AllStatistics \"amount\" ]\n";
    const struct dq_pair *add;

    CHECK_INT(parse(doc), 0);
    CHECK_INT(rs.severity, DQ_WARN);
    CHECK_INT(rs.nmetadata, 1);
    CHECK_STR(rs.metadata[0].key, "Version");
    CHECK_STR(rs.metadata[0].values[0], "1.0");
    add = dq_source(&rs, "AdditionalDataSources");
    CHECK(add != NULL && add->list);
    CHECK_INT(add->nvalues, 2);
    CHECK_STR(add->values[1], "gold.customer_360");
    CHECK_STR(dq_source(&rs, "Primary")->values[0], "orders");
    CHECK(dq_source(&rs, "primary") == NULL);
    CHECK_INT(rs.ndefault_labels, 1);
    CHECK_STR(rs.default_labels[0].value, "shop");
    CHECK_INT(rs.nrules, 3);
    CHECK_STR(rs.rules[0]->text, "RowCount > 100");
    CHECK_INT(rs.rules[0]->line, 9);
    CHECK_INT(rs.rules[0]->col, 5);
    CHECK_STR(rs.rules[2]->text, "ColumnValues \"status\" in $statuses with threshold > 0.9");
    CHECK_INT(rs.rules[2]->cond->nvals, 2);
    CHECK_STR(rs.rules[2]->cond->vals[1].str, "shipped");
    CHECK_INT(rs.rules[2]->threshold->op, DQ_GT);
    CHECK(rs.rules[2]->threshold->vals[0].num->value == 0.9);
    CHECK_INT(rs.nanalyzers, 2);
    CHECK_INT(rs.analyzers[1]->type, DQ_ALL_STATISTICS);
}

TEST(empty_rules_and_default_severity)
{
    CHECK_INT(parse("Rules = [ ]"), 0);
    CHECK_INT(rs.nrules, 0);
    CHECK_INT(rs.severity, DQ_BLOCK);
    CHECK_INT(parse("# severity: block\nRules=[RowCount>0]"), 0);
    CHECK_INT(rs.severity, DQ_BLOCK);
    CHECK_INT(rs.drift, DQ_DRIFT_IGNORE);
    CHECK_INT(parse("# severity: warn\n  # drift: block\nRules=[RowCount>0]"), 0);
    CHECK_INT(rs.severity, DQ_WARN);
    CHECK_INT(rs.drift, DQ_DRIFT_BLOCK);
    CHECK_INT(parse("# Drift: Warn\nRules=[RowCount>0]"), 0);
    CHECK_INT(rs.drift, DQ_DRIFT_WARN);
    CHECK_INT(parse("Analyzers = [ RowCount ]"), 0);
    CHECK_INT(rs.nanalyzers, 1);
}

TEST(every_rule_type_in_its_form)
{
    static const struct {
        const char *text;
        enum dq_type type;
        size_t nparams;
    } ok[] = {
        {"RowCount between 1000 and 5000", DQ_ROW_COUNT, 0},
        {"RowCountMatch \"reference\" >= 0.9", DQ_ROW_COUNT_MATCH, 1},
        {"ColumnCount >= 5", DQ_COLUMN_COUNT, 0},
        {"Completeness \"colA\" > 0.95", DQ_COMPLETENESS, 1},
        {"IsComplete \"order_id\"", DQ_IS_COMPLETE, 1},
        {"ColumnDataType \"colA\" = \"INTEGER\" with threshold > 0.9", DQ_COLUMN_DATA_TYPE, 1},
        {"ColumnNamesMatchPattern \"aws_.*\"", DQ_COLUMN_NAMES_MATCH_PATTERN, 1},
        {"ColumnExists \"colA\"", DQ_COLUMN_EXISTS, 1},
        {"ColumnCorrelation \"a\" \"b\" > 0.8", DQ_COLUMN_CORRELATION, 2},
        {"ColumnCorrelation \"a\" and \"b\" > 0.8", DQ_COLUMN_CORRELATION, 2},
        {"Uniqueness \"id\" > 0.95", DQ_UNIQUENESS, 1},
        {"IsUnique \"a\" \"b\"", DQ_IS_UNIQUE, 2},
        {"Mean \"price\" between 80 and 100", DQ_MEAN, 1},
        {"Sum \"amount\" > 0", DQ_SUM, 1},
        {"StandardDeviation \"x\" < 3.5", DQ_STANDARD_DEVIATION, 1},
        {"Variance \"x\" < 12", DQ_VARIANCE, 1},
        {"Entropy \"c\" > 1", DQ_ENTROPY, 1},
        {"DistinctValuesCount \"state\" > 3", DQ_DISTINCT_VALUES_COUNT, 1},
        {"UniqueValueRatio \"c\" between 0.4 and 0.7", DQ_UNIQUE_VALUE_RATIO, 1},
        {"ColumnLength \"zip\" = 5", DQ_COLUMN_LENGTH, 1},
        {"IsPrimaryKey \"id\"", DQ_IS_PRIMARY_KEY, 1},
        {"ColumnValues \"status\" in [\"A\", \"B\"]", DQ_COLUMN_VALUES, 1},
        {"DataFreshness \"order_ts\" <= 24 hours", DQ_DATA_FRESHNESS, 1},
        {"CustomSql \"select count(*) from primary where x < 0\" = 0", DQ_CUSTOM_SQL, 1},
        {"CustomSql \"select id from primary where x > 0\" with threshold > 0.5", DQ_CUSTOM_SQL,
         1},
        {"ReferentialIntegrity \"cust_id\" \"reference.cust_id\" = 1.0",
         DQ_REFERENTIAL_INTEGRITY, 2},
        {"DatasetMatch \"reference\" \"id->ref_id\" >= 0.9", DQ_DATASET_MATCH, 2},
        {"DatasetMatch \"reference\" \"id->ref_id\" \"amount\" >= 0.9", DQ_DATASET_MATCH, 3},
        {"SchemaMatch \"reference\" = 1.0", DQ_SCHEMA_MATCH, 1},
        {"AggregateMatch \"sum(amount)\" \"sum(reference.amount)\" >= 0.95",
         DQ_AGGREGATE_MATCH, 2},
        {"DetectAnomalies \"RowCount\"", DQ_DETECT_ANOMALIES, 1},
        {"Mean of \"price\" > 1", DQ_MEAN, 1},
        {"IsComplete colA", DQ_IS_COMPLETE, 1},
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const struct dq_rule *r = rule(ok[i].text);

        CHECK_INT(r->kind, DQ_LEAF);
        CHECK_INT(r->type, ok[i].type);
        CHECK_INT(r->nparams, ok[i].nparams);
        CHECK_STR(dq_type_name(r->type), ok[i].text[0] == 'M' ? "Mean" : dq_type_name(r->type));
    }
    CHECK_STR(rule("IsComplete colA")->params[0], "colA");
    CHECK_STR(rule("ColumnCorrelation \"a\" and \"b\" > 0.8")->params[1], "b");
}

TEST(conditions)
{
    const struct dq_rule *r;

    r = rule("RowCount between 1 and 10");
    CHECK_INT(r->cond->op, DQ_BETWEEN);
    CHECK(r->cond->vals[0].num->value == 1 && r->cond->vals[1].num->value == 10);
    CHECK_INT(rule("RowCount not between 1 and 10")->cond->op, DQ_NOT_BETWEEN);
    CHECK_INT(rule("RowCount != 3")->cond->op, DQ_NE);
    CHECK_INT(rule("RowCount ! = 3")->cond->op, DQ_NE);
    CHECK_INT(rule("RowCount <= 3")->cond->op, DQ_LE);
    CHECK_INT(rule("RowCount < 3")->cond->op, DQ_LT);
    CHECK_INT(rule("RowCount >= -3.5")->cond->op, DQ_GE);
    CHECK(rule("RowCount >= -3.5")->cond->vals[0].num->value == -3.5);
    r = rule("RowCount in [1, 2, 3]");
    CHECK_INT(r->cond->op, DQ_IN);
    CHECK_INT(r->cond->nvals, 3);
    CHECK_INT(rule("RowCount not in [1]")->cond->op, DQ_NOT_IN);
    r = rule("ColumnValues \"code\" matches \"[A-Z]{3}\"");
    CHECK_INT(r->cond->op, DQ_MATCHES);
    CHECK_STR(r->cond->vals[0].str, "[A-Z]{3}");
    CHECK_INT(rule("ColumnValues \"code\" not matches \"x\"")->cond->op, DQ_NOT_MATCHES);
    r = rule("ColumnValues \"s\" in [\"a\", NULL, EMPTY, WHITESPACES_ONLY, null]");
    CHECK_INT(r->cond->vals[1].kind, DQ_VAL_NULL);
    CHECK_INT(r->cond->vals[2].kind, DQ_VAL_EMPTY);
    CHECK_INT(r->cond->vals[3].kind, DQ_VAL_WHITESPACES);
    CHECK_INT(r->cond->vals[4].kind, DQ_VAL_NULL);
    r = rule("ColumnValues \"load_date\" > (now() - 3 days)");
    CHECK_INT(r->cond->vals[0].kind, DQ_VAL_NOW);
    CHECK(r->cond->vals[0].i == -3LL * 86400000000LL);
    r = rule("ColumnValues \"d\" between \"2022-06-01\" and now()");
    CHECK_INT(r->cond->vals[0].kind, DQ_VAL_STR);
    CHECK_INT(r->cond->vals[1].kind, DQ_VAL_NOW);
    CHECK(r->cond->vals[1].i == 0);
    CHECK(rule("ColumnValues \"d\" <= (now() + 90 minutes)")->cond->vals[0].i == 5400000000LL);
    r = rule("DataFreshness \"ts\" between 1 days and 36 hours");
    CHECK(r->cond->vals[0].i == 86400000000LL && r->cond->vals[1].i == 36LL * 3600000000LL);
    r = rule("ColumnValues \"s\" = \"a \\\"quoted\\\" \\\\ value\"");
    CHECK_STR(r->cond->vals[0].str, "a \"quoted\" \\ value");
}

TEST(dynamic_thresholds)
{
    const struct dq_rule *r;
    const struct dq_num *n;

    r = rule("RowCount > avg(last(10)) * 0.8");
    n = r->cond->vals[0].num;
    CHECK_INT(n->kind, DQ_NUM_OP);
    CHECK_INT(n->op, '*');
    CHECK_STR(n->l->fn, "avg");
    CHECK_STR(n->l->args[0]->fn, "last");
    CHECK(n->l->args[0]->args[0]->value == 10);
    /* One level, left to right, as DQDL's grammar reads it: (1 + 2) * 3. */
    n = rule("RowCount > 1 + 2 * 3")->cond->vals[0].num;
    CHECK_INT(n->op, '*');
    CHECK_INT(n->l->op, '+');
    n = rule("RowCount > 1 + (2 * 3)")->cond->vals[0].num;
    CHECK_INT(n->op, '+');
    r = rule("DistinctValuesCount \"c\" between min(last(10)) - 1 and max(last(10)) + 1");
    CHECK_INT(r->cond->vals[0].num->op, '-');
    CHECK_STR(rule("RowCount > index(last(5), 0)")->cond->vals[0].num->fn, "index");
    CHECK_STR(rule("RowCount > last()")->cond->vals[0].num->fn, "last");
    CHECK_STR(rule("RowCount > last(1)")->cond->vals[0].num->fn, "last");
    CHECK_STR(rule("RowCount > abs(std(last(3)))")->cond->vals[0].num->fn, "abs");
    CHECK_STR(rule("RowCount > MEDIAN(last(3))")->cond->vals[0].num->fn, "median");
    CHECK_INT(rule("RowCount > NULL")->cond->vals[0].kind, DQ_VAL_NULL);
    CHECK_INT(rule("RowCount > 1 + NULL")->cond->vals[0].num->r->kind, DQ_NUM_NULL);
}

TEST(composites)
{
    const struct dq_rule *r;

    r = rule("(IsComplete \"a\") and (IsUnique \"a\") or (RowCount > 0)");
    CHECK_INT(r->kind, DQ_OR);
    CHECK_INT(r->l->kind, DQ_AND);
    CHECK_STR(r->l->l->text, "IsComplete \"a\"");
    CHECK_STR(r->text, "(IsComplete \"a\") and (IsUnique \"a\") or (RowCount > 0)");
    r = rule("(RowCount > 0) OR ((IsComplete \"a\") AND (IsComplete \"b\"))");
    CHECK_INT(r->kind, DQ_OR);
    CHECK_INT(r->r->kind, DQ_AND);
    /* Without parentheses too, and binding tighter. */
    r = rule("IsComplete \"a\" or IsComplete \"b\" and IsComplete \"c\"");
    CHECK_INT(r->kind, DQ_OR);
    CHECK_INT(r->r->kind, DQ_AND);
    r = rule("(IsComplete \"a\") and (IsComplete \"b\") labels=[\"k\"=\"v\"]");
    CHECK_INT(r->kind, DQ_AND);
    CHECK_INT(r->r->nlabels, 1);
    r = rule("((IsComplete \"a\") and (IsComplete \"b\")) labels=[\"k\"=\"v\"]");
    CHECK_INT(r->nlabels, 1);
    CHECK_STR(r->text, "((IsComplete \"a\") and (IsComplete \"b\")) labels=[\"k\"=\"v\"]");
}

TEST(where_labels_and_text)
{
    const struct dq_rule *r;

    r = rule("Completeness \"email\"   > 0.9\n  where \"country = 'FR'\"  # EU only\n"
             "  labels = [\"owner\" = \"crm\", \"tier\"=\"1\"]");
    CHECK_STR(r->where, "country = 'FR'");
    CHECK_INT(r->nlabels, 2);
    CHECK_STR(r->labels[1].key, "tier");
    CHECK_STR(r->text, "Completeness \"email\" > 0.9 where \"country = 'FR'\" labels = "
                       "[\"owner\" = \"crm\", \"tier\"=\"1\"]");
    /* Keywords inside quotes are names. */
    CHECK_STR(rule("IsComplete \"where\"")->params[0], "where");
}

TEST(variables)
{
    CHECK_INT(parse("sql = \"select count(*) from primary\"\n"
                    "Rules = [ CustomSql $sql > 0, ColumnValues \"c\" = $sql ]"),
              0);
    CHECK_STR(rs.rules[0]->params[0], "select count(*) from primary");
    CHECK_STR(rs.rules[1]->cond->vals[0].str, "select count(*) from primary");
    refused_at("Rules = [ CustomSql $nope > 0 ]", 1, 21, "unknown variable $nope");
    refused_at("a = \"x\"\nRules = [ CustomSql $b > 0 ]", 2, 21, "defined: $a");
    refused_at("a = \"x\"\na = \"y\"\nRules = []", 2, 1, "defined twice");
    refused_at("l = [\"x\"]\nRules = [ ColumnValues \"c\" = $l ]", 2, 30, "is a list");
    refused_at("Rules = [ IsComplete $ x ]", 1, 22, "no space");
}

TEST(refusals_name_line_column_and_what_was_expected)
{
    refused_at("Rules = [\n  RowCount > 1,\n  IsComplete \"a\" > 3\n]", 3, 18,
               "IsComplete takes no condition");
    refused_at("Rules = [ Rowcount > 1 ]", 1, 11, "unknown rule type 'Rowcount'");
    CHECK_HAS(d.msg, "RowCount, RowCountMatch");
    refused_at("Rules = [ RowCount ]", 1, 11, "RowCount needs a condition");
    refused_at("Rules = [ RowCount > ]", 1, 22, "expected a number, found ']'");
    refused_at("Rules = [ RowCount > 1 RowCount > 2 ]", 1, 24, "expected ',' or ']' after a rule");
    refused_at("Rules = [ RowCount > 1, ]", 1, 25, "expected a rule's type");
    refused_at("Rules = [ RowCount > 1", 1, 23, "found the end of the file");
    refused_at("Rules = [ IsComplete \"a ]", 1, 22, "a string that does not end");
    refused_at("Rules = [ RowCount > 1 ] extra", 1, 26, "expected the end of the file");
    refused_at("Rules = [ RowCount > 1 ] Rules = []", 1, 26, "out of place or given twice");
    refused_at("Rule = [ RowCount > 1 ]", 1, 1, "unknown section 'Rule'");
    refused_at("", 1, 1, "no Rules");
    refused_at("# only a comment\n", 2, 1, "no Rules");
    refused_at("Rules = [ RowCount > 1 ] @", 1, 26, "unexpected character '@'");
    refused_at("Rules = [ RowCount > 1 ]\n\x01", 2, 1, "a control or non-ASCII byte");
    dq_free(&rs);
    sl_diag_init(&d);
    CHECK_INT(dq_parse(PATH, "Rules = [ IsComplete \"a\0b\" ]", 28, &rs, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "column 24: a NUL byte in a string");
    refused_at("# severity: loud\nRules = []", 1, 13, "severity is block");
    refused_at("# drift: maybe\nRules = []", 1, 10, "drift is ignore (the default), warn or block");
    refused_at("Metadata = { \"Version\" \"1.0\" }\nRules = []", 1, 24, "':' after a key");
    refused_at("Metadata = { \"a\": \"1\", \"a\": \"2\" }\nRules = []", 1, 24, "twice");
    refused_at("DataSources = { }\nRules = []", 1, 17, "a quoted key");
    /* Forms of each kind of rule. */
    rule_refused("RowCountMatch > 1", 1, "RowCountMatch takes \"reference\"; found 0");
    rule_refused("ColumnCorrelation \"a\" > 1", 1, "takes \"column1\" \"column2\"");
    rule_refused("IsUnique > 1", 1, "(one or more)");
    rule_refused("ColumnCount \"a\" > 1", 1, "ColumnCount takes no parameters");
    rule_refused("Mean \"x\" matches \"a\"", 10, "Mean takes a number");
    rule_refused("Mean \"x\" = \"a\"", 12, "Mean takes a number");
    rule_refused("ColumnDataType \"x\" > \"a\"", 20, "ColumnDataType takes a type name");
    rule_refused("ColumnDataType \"x\" = 3", 22, "ColumnDataType takes a type name");
    rule_refused("DataFreshness \"x\" > 3", 21, "DataFreshness takes a duration");
    rule_refused("ColumnValues \"x\" > 3 MB", 20, "ColumnValues takes values");
    rule_refused("ColumnValues \"x\" matches 3", 26, "a quoted regular expression");
    rule_refused("RowCount > 1 with threshold > 0.5", 29, "RowCount takes no threshold");
    rule_refused("ColumnValues \"x\" > 1 with threshold = \"a\"", 39, "a fraction of rows");
    rule_refused("ColumnValues \"x\" > 1 with colour > 0.5", 27, "expected threshold after with");
    rule_refused("ColumnExists \"x\" where \"a > 1\"", 1, "ColumnExists takes no where");
    rule_refused("AllStatistics \"x\"", 1, "is an analyzer");
    rule_refused("RowCount between 1 2", 20, "expected and between the two bounds");
    rule_refused("RowCount not > 1", 14, "between, in or matches after not");
    rule_refused("RowCount in 1", 13, "'[' and a list of values");
    rule_refused("RowCount > foo(3)", 12, "unknown function 'foo'");
    rule_refused("RowCount > avg(3)", 12, "avg() takes last(k)");
    rule_refused("RowCount > last(3)", 12, "last(3) is several values");
    rule_refused("RowCount > last(0)", 12, "last() takes one whole number");
    rule_refused("RowCount > index(last(3))", 12, "index() takes last(k) and a position");
    rule_refused("RowCount > 1e309", 12, "expected a number (digits");
    rule_refused("ColumnValues \"d\" > (now() - 3)", 29, "a duration after now()");
    rule_refused("ColumnValues \"d\" > (now() - 3 MB)", 27, "not a size");
    rule_refused("(IsComplete \"a\" and", 21, "expected a rule's type");
    rule_refused("(IsComplete \"a\"", 17, "expected ')'");
    rule_refused("IsComplete \"a\" labels=[\"k\"=\"v\", \"k\"=\"w\"]", 33, "given twice");
    rule_refused("IsComplete \"a\" labels=[\"\"=\"v\"]", 24, "1 to 128 characters");
    rule_refused("IsComplete \"a\" labels=[\"k\" \"v\"]", 28, "'=' between a label's key");
}

TEST(analyzers_take_only_parameters)
{
    refused_at("Analyzers = [ IsComplete \"a\" ]", 1, 15, "is a rule, not an analyzer");
    refused_at("Analyzers = [ Mean \"a\" > 3 ]", 1, 24, "expected ',' or ']' after an analyzer");
}

TEST(nesting_is_bounded)
{
    char doc[8192];
    size_t n = 0;

    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "Rules = [ RowCount > ");
    for (int i = 0; i < 200; i++)
        doc[n++] = '(';
    doc[n++] = '1';
    for (int i = 0; i < 200; i++)
        doc[n++] = ')';
    snprintf(doc + n, sizeof(doc) - n, " ]");
    CHECK_INT(parse(doc), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "nested over 64 deep");
    /* A long chain of operators is as deep a tree. */
    n = (size_t)snprintf(doc, sizeof(doc), "Rules = [ RowCount > 1");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n, " + 1");
    snprintf(doc + n, sizeof(doc) - n, " ]");
    CHECK_INT(parse(doc), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "nested over 64 deep");
    n = (size_t)snprintf(doc, sizeof(doc), "Rules = [ ");
    for (int i = 0; i < 200; i++)
        doc[n++] = '(';
    snprintf(doc + n, sizeof(doc) - n, "RowCount > 1 ]");
    CHECK_INT(parse(doc), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "nested over 64 deep");
}

TEST(release)
{
    dq_free(&rs);
    dq_free(NULL);
}

/* The fuzz target's seed rulesets parse (all but the one that is there
 * to be refused), so the fuzzer starts from real rulesets. */
TEST(fuzz_seeds_parse)
{
    static const char *const seeds[] = {"full", "types", "composite", "dynamic", "escapes"};
    const char *src = getenv("SLUICE_SRC");

    if (src == NULL)
        SKIP("SLUICE_SRC is not set (tests/run.sh sets it)");
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        char path[1024];
        struct sl_buf b;
        FILE *f;
        char chunk[4096];
        size_t n;

        snprintf(path, sizeof(path), "%s/tests/fuzz/dqdl/corpus/%s.dqdl", src, seeds[i]);
        f = fopen(path, "rb");
        CHECK(f != NULL);
        sl_buf_init(&b);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            sl_buf_add(&b, chunk, n);
        fclose(f);
        dq_free(&rs);
        sl_diag_init(&d);
        if (dq_parse(path, b.data, b.len, &rs, &d) != 0) {
            snprintf(test_why, sizeof(test_why), "%s: %s (line %lld)", seeds[i], d.msg,
                     (long long)d.line);
            sl_buf_release(&b);
            longjmp(test_jmp, 1);
        }
        CHECK(rs.nrules > 0);
        sl_buf_release(&b);
    }
}
