/*
 * test_models.c - gold models: the header, the lexer's reads, the
 * template, statements, loading a folder, build order, selection,
 * rendering and positions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/hash.h"
#include "core/mem.h"
#include "models/model.h"
#include "models/models_int.h"
#include "test.h"

static struct model m;
static struct sl_diag d;

/* Parse text as models/<name>.sql into m (released first). */
static int
parse_as(const char *name, const char *text)
{
    size_t len = strlen(text);
    char *copy = sl_malloc(len + 1);
    char path[128];

    memcpy(copy, text, len);
    model_release(&m);
    sl_diag_init(&d);
    snprintf(path, sizeof(path), "models/%s.sql", name);
    return model_parse(name, path, copy, len, &m, &d);
}

static int
parse(const char *text)
{
    return parse_as("t", text);
}

/* Parse text expecting SL_ERR_INPUT at line with a message holding want. */
static void
refused(const char *text, int line, const char *want)
{
    char what[600];

    CHECK_INT(parse(text), SL_ERR_INPUT);
    snprintf(what, sizeof(what), "%s | %s", d.msg, d.hint);
    CHECK_HAS(what, want);
    CHECK_STR(d.where, "models/t.sql");
    CHECK_INT(d.line, line);
}

/* "a,b" of m's reads. */
static const char *
reads(void)
{
    static char out[512];
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < m.nreads; i++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? "," : "", m.reads[i]);
    return out;
}

/* ---- the header ----------------------------------------------------------- */

TEST(defaults_without_a_header)
{
    CHECK_INT(parse("SELECT 1\n"), 0);
    CHECK_STR(m.name, "t");
    CHECK_STR(m.path, "models/t.sql");
    CHECK_INT(m.materialized, MODEL_TABLE);
    CHECK_INT(m.strategy, MODEL_APPEND);
    CHECK_INT(m.nunique_key, 0);
    CHECK_INT(m.nparts, 0);
    CHECK(m.description == NULL);
    CHECK_INT(m.nreads, 0);
    CHECK_INT(m.sql_line, 1);
    CHECK(m.sql == m.text);
    CHECK_INT(m.sql_len, 8);
    model_release(&m);
}

TEST(every_key)
{
    CHECK_INT(parse("-- materialized: incremental\n"
                    "--   strategy :  append  \n"
                    "-- unique_key: [customer_id, Day]\n"
                    "-- partition_by: [day(ordered_at), bucket(16, customer_id), "
                    "truncate(4, name), year(a), month( b ), hour(c), identity(d), e]\n"
                    "-- description: customers: with their orders\n"
                    "SELECT 1\n"),
              0);
    CHECK_INT(m.materialized, MODEL_INCREMENTAL);
    CHECK_INT(m.strategy, MODEL_APPEND);
    CHECK_INT(m.nunique_key, 2);
    CHECK_STR(m.unique_key[0], "customer_id");
    CHECK_STR(m.unique_key[1], "Day");
    CHECK_INT(m.nparts, 8);
    CHECK_STR(m.parts[0].column, "ordered_at");
    CHECK_INT(m.parts[0].transform.kind, IVAL_DAY);
    CHECK_STR(m.parts[1].column, "customer_id");
    CHECK_INT(m.parts[1].transform.kind, IVAL_BUCKET);
    CHECK_INT(m.parts[1].transform.param, 16);
    CHECK_INT(m.parts[2].transform.kind, IVAL_TRUNCATE_T);
    CHECK_INT(m.parts[2].transform.param, 4);
    CHECK_STR(m.parts[2].column, "name");
    CHECK_INT(m.parts[3].transform.kind, IVAL_YEAR);
    CHECK_INT(m.parts[4].transform.kind, IVAL_MONTH);
    CHECK_STR(m.parts[4].column, "b");
    CHECK_INT(m.parts[5].transform.kind, IVAL_HOUR);
    CHECK_INT(m.parts[6].transform.kind, IVAL_IDENTITY);
    CHECK_INT(m.parts[7].transform.kind, IVAL_IDENTITY);
    CHECK_STR(m.parts[7].column, "e");
    CHECK_STR(m.description, "customers: with their orders");
    CHECK_INT(m.sql_line, 6);
    CHECK_STR(m.sql, "SELECT 1\n");
    model_release(&m);
}

TEST(single_items_and_part_text)
{
    char text[64];

    CHECK_INT(parse("-- materialized: incremental\n-- unique_key: id\n"
                    "-- partition_by: bucket(8, id)\nSELECT 1"),
              0);
    CHECK_INT(m.strategy, MODEL_MERGE); /* the default with a key */
    CHECK_INT(m.nunique_key, 1);
    CHECK_STR(m.unique_key[0], "id");
    CHECK_INT(m.nparts, 1);
    model_part_text(&m.parts[0], text, sizeof(text));
    CHECK_STR(text, "bucket(8, id)");
    CHECK_INT(parse("-- partition_by: [day(at), k]\nSELECT 1"), 0);
    model_part_text(&m.parts[0], text, sizeof(text));
    CHECK_STR(text, "day(at)");
    model_part_text(&m.parts[1], text, sizeof(text));
    CHECK_STR(text, "k");
    CHECK_INT(parse("-- materialized: incremental\nSELECT 1"), 0);
    CHECK_INT(m.strategy, MODEL_APPEND); /* the default without one */
    CHECK_INT(parse("-- materialized: view\n-- description: v\nSELECT 1"), 0);
    CHECK_INT(m.materialized, MODEL_VIEW);
    CHECK_STR(model_materialized_name(MODEL_INCREMENTAL), "incremental");
    CHECK_STR(model_strategy_name(MODEL_MERGE), "merge");
    model_release(&m);
}

TEST(header_ends_at_the_first_other_line)
{
    CHECK_INT(parse("-- materialized: view\n\n-- a comment of the query\nSELECT 1"), 0);
    CHECK_INT(m.sql_line, 2);
    CHECK_INT(m.materialized, MODEL_VIEW);
    CHECK_INT(parse("-- description: x\r\nSELECT 1\r\n"), 0);
    CHECK_STR(m.description, "x");
    CHECK_INT(parse("  -- not a header: this is SQL's comment\nSELECT 1"), 0);
    CHECK(m.description == NULL);
    model_release(&m);
}

TEST(header_errors)
{
    refused("-- materialized: table\n-- colour: red\nSELECT 1", 2, "unknown key 'colour'");
    refused("-- colour: red\nSELECT 1", 1, "materialized, strategy, unique_key, partition_by");
    refused("-- materialized: tabel\nSELECT 1", 1, "table, incremental or view");
    refused("-- materialized: incremental\n-- strategy: upsert\nSELECT 1", 2, "append or merge");
    refused("-- description: a\n-- description: b\nSELECT 1", 2,
            "'description' is given twice (first at line 1)");
    refused("-- Orders per customer\nSELECT 1", 1, "expected '-- key: value'");
    refused("-- description: a\n--\nSELECT 1", 2, "expected '-- key: value'");
    refused("-- description:\nSELECT 1", 1, "'description' needs a value");
    refused("-- materialized: incremental\n-- strategy: merge\nSELECT 1", 2,
            "strategy merge needs a 'unique_key'");
    refused("-- strategy: append\nSELECT 1", 1, "incremental models only (this one is table)");
    refused("-- materialized: view\n-- unique_key: id\nSELECT 1", 2,
            "'unique_key' is for incremental models only");
    refused("-- materialized: view\n-- partition_by: day(at)\nSELECT 1", 2,
            "a view cannot have 'partition_by'");
    refused("-- materialized: incremental\n-- unique_key: [a, a]\nSELECT 1", 2, "listed twice");
    refused("-- materialized: incremental\n-- unique_key: a, b\nSELECT 1", 2,
            "several items need brackets");
    refused("-- materialized: incremental\n-- unique_key: [a b]\nSELECT 1", 2,
            "is not a column name");
    refused("-- materialized: incremental\n-- unique_key: []\nSELECT 1", 2, "the list is empty");
    refused("-- partition_by: [day(at)\nSELECT 1", 1, "must end with ']'");
    refused("-- partition_by: [a,,b]\nSELECT 1", 1, "an empty item");
    refused("-- partition_by: week(at)\nSELECT 1", 1, "bucket(N, col) or truncate(W, col)");
    refused("-- partition_by: bucket(at)\nSELECT 1", 1, "bad item 'bucket(at)'");
    refused("-- partition_by: bucket(16)\nSELECT 1", 1, "bad item");
    refused("-- partition_by: day(a, b)\nSELECT 1", 1, "bad item");
    refused("-- partition_by: bucket(0, id)\nSELECT 1", 1, "N must be a whole number from 1");
    refused("-- partition_by: truncate(-4, id)\nSELECT 1", 1, "W must be a whole number");
    refused("-- partition_by: bucket(99999999999, id)\nSELECT 1", 1, "from 1 to 2147483647");
    refused("-- partition_by: day(1at)\nSELECT 1", 1, "bad item");
    refused("-- partition_by: day(at\nSELECT 1", 1, "unbalanced '('");
    refused("-- partition_by: [day(at), day(at)]\nSELECT 1", 1, "'day(at)' is listed twice");
    model_release(&m);
}

TEST(names)
{
    char long_name[80];

    CHECK(model_name_valid("customer_360"));
    CHECK(model_name_valid("_x"));
    CHECK(!model_name_valid(""));
    CHECK(!model_name_valid("Customers"));
    CHECK(!model_name_valid("9lives"));
    CHECK(!model_name_valid("a-b"));
    memset(long_name, 'a', 64);
    long_name[64] = '\0';
    CHECK(model_name_valid(long_name));
    long_name[64] = 'a';
    long_name[65] = '\0';
    CHECK(!model_name_valid(long_name));
    CHECK_INT(parse_as("Bad-Name", "SELECT 1"), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "invalid model name 'Bad-Name'");
    CHECK_STR(d.where, "models/Bad-Name.sql");
    model_release(&m);
}

/* ---- statements ----------------------------------------------------------- */

TEST(one_statement)
{
    CHECK_INT(parse("SELECT 1;\n"), 0);
    CHECK_INT(m.sql_len, 8);
    CHECK_INT(parse("SELECT 1 ; ; -- done\n/* the end */\n"), 0);
    CHECK_INT(m.sql_len, 8);
    CHECK_INT(parse("SELECT ';' AS a, $$;$$ AS b -- ;\n"), 0);
    CHECK_INT(parse("WITH a AS (SELECT 1) SELECT * FROM a"), 0);
    CHECK_INT(parse("FROM curated.x SELECT *"), 0);
    CHECK_INT(parse("(SELECT 1) UNION ALL (SELECT 2)"), 0);
    CHECK_INT(parse("values (1), (2)"), 0);
    refused("SELECT 1;\nSELECT 2\n", 2, "more than one statement");
    CHECK_HAS(d.hint, "';' of line 1");
    refused("-- description: x\n", 1, "no SQL");
    refused("-- description: x\n\n-- only a comment\n/* and another */\n", 4, "no SQL");
    refused("", 1, "no SQL");
    refused("\n ;\n", 2, "no SQL");
    refused("DELETE FROM curated.orders", 1, "a model is a query");
    model_release(&m);
}

TEST(every_query_start_duckdb_allows)
{
    static const char *const ok[] = {
        "SELECT 1",
        "select 1",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "FROM curated.orders SELECT count(*)",
        "from curated.orders",
        "VALUES (1, 'a'), (2, 'b')",
        "TABLE curated.orders",
        "PIVOT curated.orders ON status USING sum(amount) GROUP BY day",
        "UNPIVOT curated.orders ON a, b INTO NAME k VALUE v",
        "Pivot_Wider curated.orders ON status USING count(*)",
        "PIVOT_LONGER curated.orders ON a, b INTO NAME k VALUE v",
        "(SELECT 1)",
        "((SELECT 1) UNION ALL (SELECT 2))",
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        CHECK_INT(parse(ok[i]), 0);
        if (strstr(ok[i], "curated.orders") != NULL)
            CHECK_STR(reads(), "curated.orders");
    }
    CHECK_INT(parse("\n/* first */ -- and a comment\n  pivot curated.orders ON a USING sum(b)"), 0);
    CHECK_INT(m.sql_line, 1);

    refused("DELETE FROM curated.orders", 1, "a model is a query");
    CHECK_HAS(d.msg, "(SELECT, WITH, FROM, VALUES, TABLE, PIVOT, UNPIVOT or '(')");
    refused("\nINSERT INTO x SELECT 1", 2, "not 'INSERT ...'");
    refused("CREATE TABLE x AS SELECT 1", 1, "a model is a query");
    refused("PIVOTS curated.orders", 1, "a model is a query");
    refused("[1, 2]", 1, "a model is a query");
    model_release(&m);
}

TEST(table_pivot_unpivot_read_next_to_a_cte_named_gold)
{
    /* gold stands alone (a CTE), so gold.x counts only where it must be a
     * table: after FROM, JOIN, TABLE, PIVOT or UNPIVOT. */
    CHECK_INT(parse("WITH gold AS (SELECT 1 AS x) TABLE gold.u"), 0);
    CHECK_STR(reads(), "gold.u");
    CHECK_INT(parse("PIVOT gold.u ON gold USING sum(x)"), 0);
    CHECK_STR(reads(), "gold.u");
    CHECK_INT(parse("UNPIVOT gold.u ON gold, x INTO NAME k VALUE v"), 0);
    CHECK_STR(reads(), "gold.u");
    CHECK_INT(parse("WITH gold AS (SELECT 1 AS x) SELECT gold.x FROM gold"), 0);
    CHECK_STR(reads(), "");
    model_release(&m);
}

TEST(every_rendering_starts_a_query)
{
    /* The first token kept by each build that can run must start a query. */
    CHECK_INT(parse("{% if is_incremental %}SELECT 1{% else %}SELECT 2{% endif %}"), 0);
    CHECK_INT(parse("{%- if not is_incremental -%}\nFROM curated.a\n{% else %}\n"
                    "FROM curated.b\n{% endif %} SELECT *"),
              0);
    CHECK_STR(reads(), "curated.a,curated.b");
    refused("{% if is_incremental %}SELECT 1{% endif %}", 1, "no SQL in a full build");
    CHECK_HAS(d.hint, "outside {% if is_incremental %}");
    refused("-- materialized: incremental\n\n{% if not is_incremental %}\nSELECT 1\n{% endif %}",
            3, "no SQL in an incremental build");
    refused("-- materialized: incremental\n"
            "{% if is_incremental %}SELECT 1{% else %}\nDELETE FROM curated.x{% endif %}",
            3, "not 'DELETE ...' in a full build");
    refused("-- materialized: incremental\n"
            "{% if not is_incremental %}SELECT 1{% else %}DROP TABLE x{% endif %}",
            2, "not 'DROP ...' in an incremental build");
    /* A table or view is never built incrementally: only its full build counts. */
    CHECK_INT(parse("{% if not is_incremental %}SELECT 1{% else %}DROP TABLE x{% endif %}"), 0);
    /* {{ }} becomes text: a table name or a boolean does not start a query. */
    refused("{{ this }}", 1, "not '{{ this }} ...'");
    refused("\n{{ is_incremental }} OR SELECT 1", 2, "a model is a query");
    refused("{% if is_incremental %}{% endif %}{{ this }}", 1, "a model is a query");
    model_release(&m);
}

TEST(a_byte_order_mark_is_skipped)
{
    static const char bom_header[] = "\xef\xbb\xbf-- materialized: view\n"
                                     "-- description: saved by a Windows editor\n"
                                     "SELECT x FROM curated.orders\n";
    static const char bom_sql[] = "\xef\xbb\xbfSELECT 1 AS x";
    unsigned char want[32];
    struct sl_sha256 h;
    char *r;
    int line, column;

    CHECK_INT(parse(bom_header), 0);
    CHECK_INT(m.materialized, MODEL_VIEW);
    CHECK_STR(m.description, "saved by a Windows editor");
    CHECK_INT(m.sql_line, 3);
    CHECK_STR(reads(), "curated.orders");
    /* The checksum is the file's, byte order mark and all. */
    sl_sha256_init(&h);
    sl_sha256_update(&h, bom_header, strlen(bom_header));
    sl_sha256_final(&h, want);
    CHECK(memcmp(m.sha256, want, 32) == 0);

    CHECK_INT(parse(bom_sql), 0);
    CHECK(m.sql == m.text + 3);
    CHECK_INT(m.sql_line, 1);
    CHECK_INT(m.sql_len, 13);
    r = model_render(&m, false, "gold.\"t\"", NULL);
    CHECK_STR(r, "SELECT 1 AS x");
    free(r);
    model_locate(&m, 7, &line, &column);
    CHECK_INT(line, 1);
    CHECK_INT(column, 8);

    CHECK_INT(parse("\xef\xbb\xbf" "FROM curated.orders SELECT *"), 0);
    CHECK_STR(reads(), "curated.orders");
    CHECK_INT(parse("\xef\xbb\xbf(SELECT 1)"), 0);

    /* Only at the start, and only whole. */
    refused("\xef\xbb\xbf", 1, "no SQL");
    refused("\xef\xbb\xbf-- description: x\n", 1, "no SQL");
    refused("\xef\xbb\xbf-- colour: blue\nSELECT 1", 1, "unknown key 'colour'");
    refused("\xef\xbb\xbf\xef\xbb\xbfSELECT 1", 1, "a model is a query");
    refused("\xef\xbbSELECT 1", 1, "a model is a query");
    refused("-- description: x\n\xef\xbb\xbfSELECT 1", 2, "a model is a query");
    model_release(&m);
}

TEST(nul_bytes_are_refused)
{
    char text[] = "SELECT 1\nX";
    char *copy = sl_malloc(sizeof(text));

    memcpy(copy, text, sizeof(text));
    copy[9] = '\0';
    model_release(&m);
    sl_diag_init(&d);
    CHECK_INT(model_parse("t", "models/t.sql", copy, 10, &m, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "NUL byte");
    CHECK_INT(d.line, 2);
    model_release(&m);
}

TEST(digest_of_the_text)
{
    const char *text = "-- description: d\nSELECT 1\n";
    unsigned char want[32];
    struct sl_sha256 h;

    CHECK_INT(parse(text), 0);
    sl_sha256_init(&h);
    sl_sha256_update(&h, text, strlen(text));
    sl_sha256_final(&h, want);
    CHECK(memcmp(m.sha256, want, 32) == 0);
    model_release(&m);
}

/* ---- the lexer and the reads ---------------------------------------------- */

TEST(reads_in_order_distinct_lower_case)
{
    CHECK_INT(parse("-- description: d\n"
                    "SELECT * FROM curated.orders o\n"
                    "JOIN GOLD.Customers c ON o.id = c.id\n"
                    "JOIN Curated . Orders x ON true, curated.items\n"),
              0);
    CHECK_STR(reads(), "curated.orders,gold.customers,curated.items");
    CHECK_INT(m.read_lines[0], 2);
    CHECK_INT(m.read_lines[1], 3);
    CHECK_INT(m.read_lines[2], 4);
    model_release(&m);
}

TEST(reads_skip_comments_and_strings)
{
    CHECK_INT(parse("SELECT 'curated.a', 'it''s gold.b', E'\\' curated.c', e'x''gold.d',\n"
                    "  $$ curated.e $$, $tag$ gold.f $x$ $tag$, $1 AS p\n"
                    "-- FROM curated.g\n"
                    "/* curated.h /* nested gold.i */ curated.j */\n"
                    "FROM curated.real"),
              0);
    CHECK_STR(reads(), "curated.real");
    CHECK_INT(m.read_lines[0], 5);
    /* A '$' inside an identifier is not a dollar quote. */
    CHECK_INT(parse("SELECT a$b$ FROM curated.x WHERE c = $1"), 0);
    CHECK_STR(reads(), "curated.x");
    model_release(&m);
}

TEST(reads_of_quoted_identifiers)
{
    CHECK_INT(parse("SELECT * FROM \"curated\".\"Orders\" JOIN gold.\"we\"\"ird\" USING (id)\n"
                    "JOIN \"Curated\".x USING (id) JOIN \"curated.y\" USING (id)"),
              0);
    CHECK_STR(reads(), "curated.Orders,gold.we\"ird");
    model_release(&m);
}

TEST(three_part_names_are_not_reads)
{
    CHECK_INT(parse("SELECT curated.orders.amount, o.x FROM lake.curated.other, curated.orders o"),
              0);
    CHECK_STR(reads(), "curated.orders");
    CHECK_INT(parse("SELECT gold.t.* FROM other.gold.t"), 0);
    CHECK_INT(m.nreads, 0);
    model_release(&m);
}

TEST(cte_names_that_look_like_tables)
{
    /* A CTE called orders is not curated.orders. */
    CHECK_INT(parse("WITH orders AS (SELECT * FROM curated.orders)\n"
                    "SELECT * FROM orders JOIN customers USING (id)"),
              0);
    CHECK_STR(reads(), "curated.orders");
    /* A CTE or alias called gold: gold.x is its column, unless it follows
     * FROM or JOIN. */
    CHECK_INT(parse("WITH gold AS (SELECT 1 AS x)\n"
                    "SELECT gold.x, Curated.y FROM gold JOIN curated.t Curated ON true\n"
                    "JOIN gold.real ON true"),
              0);
    CHECK_STR(reads(), "curated.t,gold.real");
    model_release(&m);
}

TEST(template_tags_are_not_reads)
{
    CHECK_INT(parse("-- materialized: incremental\n"
                    "SELECT * FROM curated.a\n"
                    "{% if is_incremental %} WHERE x > (SELECT max(x) FROM {{ this }}) {% endif %}"),
              0);
    CHECK_STR(reads(), "curated.a");
    CHECK_INT(m.ntags, 3);
    CHECK_INT(m.tags[0].kind, MODEL_TAG_IF);
    CHECK_INT(m.tags[1].kind, MODEL_TAG_THIS);
    CHECK_INT(m.tags[2].kind, MODEL_TAG_ENDIF);
    CHECK_INT(m.tags[1].line, 3);
    /* Inside a string a tag is text. */
    CHECK_INT(parse("SELECT '{{ nonsense }}', \"{% x %}\""), 0);
    CHECK_INT(m.ntags, 0);
    model_release(&m);
}

TEST(unterminated_tokens)
{
    refused("SELECT 1,\n'abc", 2, "unterminated string '...'");
    refused("SELECT\n\nE'abc\\'", 3, "unterminated string E'...'");
    refused("SELECT \"abc", 1, "unterminated quoted identifier");
    refused("SELECT 1 /* a /* b */", 1, "unterminated comment");
    refused("SELECT $x$ abc $y$", 1, "unterminated dollar-quoted string");
    refused("SELECT 1\n{% if is_incremental", 2, "unterminated template tag '{%'");
    refused("SELECT {{ this ", 1, "unterminated template tag '{{'");
    model_release(&m);
}

TEST(lexer_tokens)
{
    const char *s = "a.\"B\"\"c\" 1.5e3;{% x %}$$q$$ \xc3\xa9t\xc3\xa9 -";
    enum mlex_kind want[] = {MLEX_IDENT, MLEX_DOT,   MLEX_QIDENT, MLEX_NUMBER, MLEX_SEMI,
                             MLEX_BLOCK, MLEX_STRING, MLEX_IDENT, MLEX_OTHER, MLEX_END};
    struct mlex_token t;
    struct mlex lx;
    char *id;

    mlex_init(&lx, s, strlen(s), 7);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        CHECK_INT(mlex_next(&lx, &t, NULL), 0);
        CHECK_INT(t.kind, want[i]);
        CHECK_INT(t.line, 7);
        if (i == 2) {
            id = mlex_ident(s, &t);
            CHECK_STR(id, "B\"c");
            free(id);
        }
    }
    CHECK_INT(mlex_next(&lx, &t, NULL), 0);
    CHECK_INT(t.kind, MLEX_END);
}

/* ---- the template --------------------------------------------------------- */

TEST(template_forms)
{
    CHECK_INT(parse("SELECT {{is_incremental}}, {{ is_incremental() }}\n"
                    "{%- if is_incremental() -%} a {%+ else %} b {% endif %}\n"
                    "{% if not is_incremental %} c {% endif %}\n"
                    "{% if  is_incremental ( ) %} d {% else %} e {% endif %}"),
              SL_ERR_INPUT); /* {%+ is not a form */
    CHECK_INT(parse("SELECT {{is_incremental}}, {{ is_incremental() }}\n"
                    "{%- if is_incremental() -%} a {% else %} b {% endif %}\n"
                    "{% if not is_incremental %} c {% endif %}\n"
                    "{% if  is_incremental ( ) %} d {% else %} e {% endif %}"),
              0);
    CHECK_INT(m.ntags, 10);
    CHECK_INT(m.tags[0].kind, MODEL_TAG_IS_INCREMENTAL);
    CHECK_INT(m.tags[1].kind, MODEL_TAG_IS_INCREMENTAL);
    CHECK_INT(m.tags[2].kind, MODEL_TAG_IF);
    CHECK_INT(m.tags[3].kind, MODEL_TAG_ELSE);
    CHECK_INT(m.tags[4].kind, MODEL_TAG_ENDIF);
    CHECK_INT(m.tags[5].kind, MODEL_TAG_IF_NOT);
    CHECK_INT(m.tags[7].kind, MODEL_TAG_IF);
    model_release(&m);
}

TEST(template_errors)
{
    refused("SELECT 1\n{% if is_incremental %}\n{% if is_incremental %}{% endif %}{% endif %}", 3,
            "nested '{% if %}' is not supported (the one of line 2 is still open)");
    refused("SELECT 1 {% else %}", 1, "'{% else %}' without '{% if %}'");
    refused("SELECT 1 {% endif %}", 1, "'{% endif %}' without '{% if %}'");
    refused("SELECT 1 {% if is_incremental %}\n{% else %}\n{% else %} {% endif %}", 3,
            "a second '{% else %}' for the '{% if %}' of line 1");
    refused("SELECT 1\n{% if not is_incremental %}\nx", 2, "'{% if %}' without '{% endif %}'");
    refused("SELECT 1 {% for x in y %}", 1, "unknown template tag '{% for x in y %}'");
    CHECK_HAS(d.hint, "{% if is_incremental %}");
    refused("SELECT 1 {% if target %}", 1, "unknown template tag");
    refused("SELECT 1 {% %}", 1, "unknown template tag");
    refused("SELECT {{ ref('x') }}", 1, "unknown template expression '{{ ref('x') }}'");
    CHECK_HAS(d.hint, "{{ this }}, {{ is_incremental }} and {{ changed_keys }}");
    refused("SELECT {{ this.name }}", 1, "unknown template expression");
    model_release(&m);
}

/* ---- rendering and positions ---------------------------------------------- */

static const char *const inc_model =
    "-- materialized: incremental\n"
    "-- unique_key: id\n"
    "SELECT id, {{ is_incremental }} AS inc\n"
    "FROM curated.orders\n"
    "{% if is_incremental %}\n"
    "WHERE at > (SELECT max(at) FROM {{ this }})\n"
    "{% else %}WHERE true{% endif %} ORDER BY 1;\n"
    "-- trailing comment\n";

TEST(render_both_ways)
{
    char *full, *first;

    CHECK_INT(parse(inc_model), 0);
    full = model_render(&m, true, "gold.\"t\"", NULL);
    CHECK_STR(full, "SELECT id, true AS inc\n"
                    "FROM curated.orders\n"
                    "                       \n"
                    "WHERE at > (SELECT max(at) FROM gold.\"t\")\n"
                    "                                ORDER BY 1");
    first = model_render(&m, false, "gold.\"t\"", NULL);
    CHECK_STR(first, "SELECT id, false AS inc\n"
                     "FROM curated.orders\n"
                     "                       \n"
                     "                                           \n"
                     "          WHERE true            ORDER BY 1");
    free(full);
    free(first);

    CHECK_INT(parse("SELECT 1 {% if not is_incremental %}+ 1{% endif %}"), 0);
    full = model_render(&m, true, "x", NULL);
    CHECK_STR(full, "SELECT 1                                          ");
    free(full);
    full = model_render(&m, false, "x", NULL);
    CHECK_STR(full, "SELECT 1                            + 1           ");
    free(full);
    model_release(&m);
}

TEST(render_keeps_lines_of_multiline_tags)
{
    char *r;

    CHECK_INT(parse("SELECT * FROM {{\nthis\n}} x"), 0);
    r = model_render(&m, false, "gold.t", NULL);
    CHECK_STR(r, "SELECT * FROM gold.t\n\n x");
    free(r);
    model_release(&m);
}

TEST(locate_positions)
{
    const char *at;
    char *r;
    int line, col;

    CHECK_INT(parse(inc_model), 0);
    CHECK_INT(m.sql_line, 3);
    model_locate(&m, 0, &line, &col);
    CHECK_INT(line, 3);
    CHECK_INT(col, 1);
    at = strstr(m.sql, "curated.orders");
    model_locate(&m, (size_t)(at - m.sql), &line, &col);
    CHECK_INT(line, 4);
    CHECK_INT(col, 6);
    at = strstr(m.sql, "ORDER BY");
    model_locate(&m, (size_t)(at - m.sql), &line, &col);
    CHECK_INT(line, 7);
    CHECK_INT(col, 33);
    model_locate(&m, 1u << 30, &line, &col); /* clamped to the end */
    CHECK_INT(line, 9);
    CHECK_INT(col, 1);

    r = model_render(&m, false, "gold.t", NULL);
    at = strstr(r, "ORDER BY");
    model_locate_rendered(&m, r, (size_t)(at - r), &line, &col);
    CHECK_INT(line, 7);
    CHECK_INT(col, 33); /* blanks keep the columns */
    at = strstr(r, "WHERE");
    model_locate_rendered(&m, r, (size_t)(at - r), &line, &col);
    CHECK_INT(line, 7);
    CHECK_INT(col, 11);
    free(r);
    r = model_render(&m, true, "gold.t", NULL);
    at = strstr(r, "max(at)");
    model_locate_rendered(&m, r, (size_t)(at - r), &line, &col);
    CHECK_INT(line, 6);
    CHECK_INT(col, 20);
    free(r);
    model_release(&m);
}

/* ---- a folder of models ----------------------------------------------------- */

static char dir[64];

static void
make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sluice-models-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void
put(const char *file, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* The names of set in build order: "a b c". */
static const char *
order_of(const struct model_set *set)
{
    static char out[512];
    size_t n = 0;

    out[0] = '\0';
    for (size_t i = 0; i < set->n; i++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", i ? " " : "",
                              set->v[set->order[i]].name);
    return out;
}

TEST(missing_folder_is_no_models)
{
    struct model_set set;

    sl_diag_init(&d);
    CHECK_INT(models_load("/nonexistent/sluice/models", NULL, &set, &d), 0);
    CHECK_INT(set.n, 0);
    CHECK(models_find(&set, "x") == NULL);
    models_release(&set);
}

TEST(load_order_and_find)
{
    struct model_set set;
    char path[256];
    bool chosen[6];

    make_dir();
    /* d reads c and a; c reads b; b reads a; e reads nothing gold. */
    put("d.sql", "SELECT * FROM gold.c JOIN gold.a USING (id)");
    put("c.sql", "-- description: c\nSELECT * FROM gold.b");
    put("b.sql", "SELECT * FROM gold.a");
    put("a.sql", "SELECT * FROM curated.x");
    put("e.sql", "SELECT * FROM curated.x JOIN curated.y USING (id)");
    put("aa.sql", "SELECT * FROM gold.e");
    put("notes.txt", "not a model");
    put(".hidden.sql", "not a model");
    snprintf(path, sizeof(path), "%s/folder.sql", dir);
    CHECK(mkdir(path, 0755) == 0);
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), 0);
    CHECK_INT(set.n, 6);
    CHECK_STR(set.v[0].name, "a");
    CHECK_STR(set.v[1].name, "aa");
    CHECK_STR(order_of(&set), "a b c d e aa");
    CHECK(models_find(&set, "c") == &set.v[3]);
    CHECK(models_find(&set, "zz") == NULL);
    snprintf(path, sizeof(path), "%s/c.sql", dir);
    CHECK_STR(models_find(&set, "c")->path, path);
    CHECK_INT(models_find(&set, "d")->ndeps, 2);

    /* Selection. */
    {
        const char *one[] = {"c"};
        const char *up[] = {"+c"};
        const char *down[] = {"b+"};
        const char *both[] = {"+b+"};
        const char *two[] = {"e+", "a"};

        CHECK_INT(models_select(&set, one, 1, chosen, &d), 0);
        CHECK(!chosen[0] && !chosen[1] && !chosen[2] && chosen[3] && !chosen[4] && !chosen[5]);
        CHECK_INT(models_select(&set, up, 1, chosen, &d), 0);
        CHECK(chosen[0] && !chosen[1] && chosen[2] && chosen[3] && !chosen[4] && !chosen[5]);
        CHECK_INT(models_select(&set, down, 1, chosen, &d), 0);
        CHECK(!chosen[0] && !chosen[1] && chosen[2] && chosen[3] && chosen[4] && !chosen[5]);
        CHECK_INT(models_select(&set, both, 1, chosen, &d), 0);
        CHECK(chosen[0] && !chosen[1] && chosen[2] && chosen[3] && chosen[4] && !chosen[5]);
        CHECK_INT(models_select(&set, two, 2, chosen, &d), 0);
        CHECK(chosen[0] && chosen[1] && !chosen[2] && !chosen[3] && !chosen[4] && chosen[5]);
        CHECK_INT(models_select(&set, NULL, 0, chosen, &d), 0);
        for (int i = 0; i < 6; i++)
            CHECK(chosen[i]);
    }
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);
}

TEST(selection_errors)
{
    struct model_set set;
    const char *bad[] = {"a", "+nope+"};
    const char *empty[] = {"+"};
    bool chosen[2];

    make_dir();
    put("a.sql", "SELECT 1");
    put("b.sql", "SELECT 2");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), 0);
    CHECK_INT(models_select(&set, bad, 2, chosen, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "unknown model 'nope' in selector '+nope+'");
    CHECK_HAS(d.hint, "models: a, b.");
    sl_diag_init(&d);
    CHECK_INT(models_select(&set, empty, 1, chosen, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "empty model selector '+'");
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);
}

TEST(a_cycle_is_named_in_order)
{
    struct model_set set;

    make_dir();
    put("a.sql", "SELECT * FROM gold.b");
    put("b.sql", "-- description: b\n\nSELECT * FROM curated.x\nJOIN gold.c USING (id)");
    put("c.sql", "SELECT * FROM gold.a");
    put("d.sql", "SELECT * FROM gold.a");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "models form a cycle: a -> b -> c -> a");
    CHECK_HAS(d.detail, "/a.sql:1 reads gold.b; ");
    CHECK_HAS(d.detail, "/b.sql:4 reads gold.c; ");
    CHECK_HAS(d.detail, "/c.sql:1 reads gold.a.");
    CHECK_HAS(d.where, "/a.sql");
    CHECK_INT(d.line, 1);
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);
}

TEST(a_cycle_past_a_tail)
{
    struct model_set set;

    make_dir();
    /* a reads b, which is in the cycle b <-> c: the cycle is b, c. */
    put("a.sql", "SELECT * FROM gold.b");
    put("b.sql", "SELECT * FROM gold.c");
    put("c.sql", "SELECT * FROM gold.b");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "models form a cycle: b -> c -> b");
    CHECK_HAS(d.where, "/b.sql");
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);
}

TEST(unknown_and_own_gold_tables)
{
    struct model_set set;

    make_dir();
    put("a.sql", "SELECT 1");
    put("b.sql", "-- description: b\nSELECT *\nFROM gold.missing");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), SL_ERR_INPUT);
    CHECK_STR(d.msg, "model 'b' reads gold.missing, but there is no model 'missing'");
    CHECK_HAS(d.where, "/b.sql");
    CHECK_INT(d.line, 3);
    CHECK_HAS(d.hint, "a, b");
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);

    CHECK_INT(parse_as("self", "SELECT * FROM curated.x\nUNION ALL SELECT * FROM gold.self"),
              SL_ERR_INPUT);
    CHECK_HAS(d.msg, "model 'self' reads gold.self, its own table");
    CHECK_HAS(d.hint, "{{ this }}");
    CHECK_INT(d.line, 2);
    model_release(&m);
}

TEST(a_bad_file_names_itself)
{
    struct model_set set;

    make_dir();
    put("a.sql", "SELECT 1");
    put("b.sql", "-- materialized: table\n-- strategy: merge\nSELECT 1");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), SL_ERR_INPUT);
    CHECK_HAS(d.where, "/b.sql");
    CHECK_INT(d.line, 2);
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);

    make_dir();
    put("a.sql", "SELECT 1");
    put("0ops.sql", "SELECT 1");
    sl_diag_init(&d);
    CHECK_INT(models_load(dir, NULL, &set, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "invalid model name '0ops'");
    CHECK_HAS(d.where, "/0ops.sql");
    models_release(&set);
    CHECK_INT(sl_rmtree(dir), 0);
}
