/*
 * test_contract.c - data contracts: parsing, messages, compatibility.
 */
#include <string.h>

#include "core/buf.h"
#include "core/yaml.h"
#include "project/contract.h"
#include "test.h"

static struct sl_arena arena;

static int
parse(const char *text, struct source *s, struct sl_diag *d)
{
    struct sl_yaml *root;
    int rc;

    sl_diag_init(d);
    rc = sl_yaml_parse("sources/t.yaml", text, strlen(text), &arena, &root, d);
    if (rc == 0)
        rc = contract_parse_source("t", "sources/t.yaml", root, &arena, s, d);
    return rc;
}

#define V10                                                                             \
    "  - version: \"1.0\"\n"                                                          \
    "    key: [id]\n"                                                                 \
    "    event_time: at\n"                                                            \
    "    columns:\n"                                                                  \
    "      - {name: id, type: string, required: true}\n"                              \
    "      - {name: at, type: timestamp, required: true}\n"                           \
    "      - {name: amount, type: \"decimal(12,2)\"}\n"

TEST(parses_a_source)
{
    struct source s;
    struct sl_diag d;

    sl_arena_init(&arena, 0);
    CHECK_INT(parse("system: crm\ncontracts:\n" V10, &s, &d), 0);
    CHECK_STR(s.system, "crm");
    CHECK_INT(s.nversions, 1);
    CHECK_STR(s.versions[0].version, "1.0");
    CHECK_INT(s.versions[0].ncolumns, 3);
    CHECK_INT(s.versions[0].nkey, 1);
    CHECK_INT(s.versions[0].event_time, 1);
    CHECK(s.versions[0].columns[0].required);
    CHECK(!s.versions[0].columns[2].required);
    CHECK(source_version(&s, "1") == &s.versions[0]);
    CHECK(source_version(&s, "1.1") == NULL);
    sl_arena_release(&arena);
}

TEST(adding_a_nullable_column_is_compatible)
{
    struct source s;
    struct sl_diag d;

    sl_arena_init(&arena, 0);
    CHECK_INT(parse("contracts:\n" V10
                    "  - version: \"1.1\"\n"
                    "    key: id\n"
                    "    event_time: at\n"
                    "    columns:\n"
                    "      - {name: id, type: string, required: true}\n"
                    "      - {name: at, type: timestamp, required: true}\n"
                    "      - {name: amount, type: \"decimal(12,2)\"}\n"
                    "      - {name: note, type: string}\n",
                    &s, &d),
              0);
    CHECK_INT(s.nversions, 2);
    CHECK(source_latest(&s, 1) == &s.versions[1]);
    sl_arena_release(&arena);
}

static void
incompatible(const char *v11_columns, const char *want)
{
    char text[2048];
    struct source s;
    struct sl_diag d;

    snprintf(text, sizeof(text),
             "contracts:\n" V10 "  - version: \"1.1\"\n"
             "    key: [id]\n"
             "    event_time: at\n"
             "    columns:\n%s",
             v11_columns);
    CHECK_INT(parse(text, &s, &d), SL_ERR_INCOMPATIBLE);
    CHECK_HAS(d.msg, "contract version 1.1 is not compatible with 1.0");
    CHECK_HAS(d.msg, want);
    CHECK_HAS(d.hint, "2.0");
    CHECK_STR(d.where, "sources/t.yaml");
    CHECK_INT(d.line, 9);
}

TEST(incompatible_changes_say_what_changed)
{
    sl_arena_init(&arena, 0);
    incompatible("      - {name: id, type: string, required: true}\n"
                 "      - {name: at, type: timestamp, required: true}\n",
                 "column 'amount' was removed");
    incompatible("      - {name: id, type: string, required: true}\n"
                 "      - {name: at, type: timestamp, required: true}\n"
                 "      - {name: amount, type: double}\n",
                 "column 'amount' changed type from decimal(12,2) to double");
    incompatible("      - {name: id, type: string, required: true}\n"
                 "      - {name: at, type: timestamp, required: true}\n"
                 "      - {name: amount, type: \"decimal(12,2)\", required: true}\n",
                 "column 'amount' changed from nullable to required");
    incompatible("      - {name: id, type: string, required: true}\n"
                 "      - {name: at, type: timestamp, required: true}\n"
                 "      - {name: amount, type: \"decimal(12,2)\"}\n"
                 "      - {name: x, type: int64, required: true}\n",
                 "column 'x' was added as required");
    sl_arena_release(&arena);
}

TEST(a_new_major_may_change_anything)
{
    struct source s;
    struct sl_diag d;

    sl_arena_init(&arena, 0);
    CHECK_INT(parse("contracts:\n" V10
                    "  - version: \"2.0\"\n"
                    "    key: [id]\n"
                    "    event_time: at\n"
                    "    columns:\n"
                    "      - {name: id, type: int64, required: true}\n"
                    "      - {name: at, type: timestamp, required: true}\n",
                    &s, &d),
              0);
    CHECK(source_latest(&s, 1) == &s.versions[0]);
    CHECK(source_latest(&s, 2) == &s.versions[1]);
    sl_arena_release(&arena);
}

static void
bad(const char *text, const char *want, int line)
{
    struct source s;
    struct sl_diag d;

    CHECK(parse(text, &s, &d) < 0);
    CHECK_HAS(d.msg, want);
    CHECK_INT(d.line, line);
}

TEST(bad_contracts_name_the_line)
{
    sl_arena_init(&arena, 0);
    bad("contracts: []\n", "needs a non-empty list of 'contracts'", 1);
    bad("contracts:\n  - version: \"1.0\"\n    key: [id]\n    event_time: id\n"
        "    columns:\n      - {name: id, type: text, required: true}\n",
        "unknown type 'text'", 6);
    bad("contracts:\n  - version: \"1.0\"\n    key: [nope]\n    event_time: at\n"
        "    columns:\n      - {name: at, type: timestamp, required: true}\n",
        "key column 'nope' is not a column", 3);
    bad("contracts:\n  - version: \"1.0\"\n    key: [at]\n    event_time: at\n"
        "    columns:\n      - {name: at, type: string, required: true}\n",
        "must be a timestamp or date", 4);
    bad("contracts:\n  - version: \"x\"\n    key: [at]\n    event_time: at\n"
        "    columns:\n      - {name: at, type: timestamp, required: true}\n",
        "invalid contract version 'x'", 2);
    bad("contracts:\n  - version: \"1.0\"\n    key: [at]\n    event_time: at\n"
        "    columns:\n      - {name: at, type: timestamp, required: true}\n"
        "      - {name: _raw_object, type: string}\n",
        "reserved", 7);
    bad("contracts:\n  - version: \"1.0\"\n    key: [at]\n    event_time: at\n"
        "    colums: []\n",
        "unknown key 'colums'", 5);
    bad("contracts:\n" V10 V10, "must come after 1.0", 9);
    sl_arena_release(&arena);
}

TEST(canonical_text_round_trips)
{
    struct source s;
    struct contract back;
    struct sl_diag d;
    struct sl_buf b;
    struct sl_yaml *root;
    char why[200];

    sl_arena_init(&arena, 0);
    sl_buf_init(&b);
    CHECK_INT(parse("contracts:\n" V10, &s, &d), 0);
    contract_canonical(&s.versions[0], &b);
    CHECK_INT(sl_yaml_parse("catalog", b.data, b.len, &arena, &root, &d), 0);
    CHECK_INT(contract_parse_version("catalog", root, &arena, &back, &d), 0);
    CHECK(!contract_diff(&s.versions[0], &back, why, sizeof(why)));
    back.columns[2].type.scale = 3;
    CHECK(contract_diff(&s.versions[0], &back, why, sizeof(why)));
    CHECK_HAS(why, "column 'amount' changed type from decimal(12,2) to decimal(12,3)");
    sl_buf_release(&b);
    sl_arena_release(&arena);
}

/* A version 1.0 whose partition_by is p, of columns of every kind. */
static const char *
bucket_source(const char *p)
{
    static char text[1024];

    snprintf(text, sizeof(text),
             "contracts:\n"
             "  - version: \"1.0\"\n"
             "    key: [id]\n"
             "    event_time: at\n"
             "    partition_by: %s\n"
             "    columns:\n"
             "      - {name: id, type: string, required: true}\n"
             "      - {name: at, type: timestamp, required: true}\n"
             "      - {name: amount, type: \"decimal(12,2)\"}\n"
             "      - {name: n, type: int64, required: true}\n"
             "      - {name: x, type: double, required: true}\n"
             "      - {name: ok, type: bool, required: true}\n"
             "      - {name: day, type: date, required: true}\n",
             p);
    return text;
}

TEST(partition_by_bucket)
{
    static const struct {
        const char *text;
        int column;
        int32_t n;
    } good[] = {
        {"bucket(16, id)", 0, 16},
        {"bucket(1,n)", 3, 1},
        {"\"bucket( 1000000 , day )\"", 6, 1000000},
        {"bucket[16](id)", 0, 16},
        {"bucket[ 7 ] ( at )", 1, 7},
    };
    struct source s;
    struct sl_diag d;
    struct sl_buf b;
    struct sl_yaml *root;
    struct contract back;

    sl_arena_init(&arena, 0);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        CHECK_INT(parse(bucket_source(good[i].text), &s, &d), 0);
        CHECK_INT(s.versions[0].partition, CONTRACT_PART_BUCKET);
        CHECK_INT(s.versions[0].bucket_column, good[i].column);
        CHECK_INT(s.versions[0].bucket_n, good[i].n);
        /* The canonical text reads back as the same partitioning. */
        sl_buf_init(&b);
        contract_canonical(&s.versions[0], &b);
        CHECK(strstr(b.data, "\"partition_by\": \"bucket(") != NULL);
        CHECK_INT(sl_yaml_parse("catalog", b.data, b.len, &arena, &root, &d), 0);
        CHECK_INT(contract_parse_version("catalog", root, &arena, &back, &d), 0);
        CHECK_INT(back.partition, CONTRACT_PART_BUCKET);
        CHECK_INT(back.bucket_column, good[i].column);
        CHECK_INT(back.bucket_n, good[i].n);
        sl_buf_release(&b);
    }
    /* A registered version whose partitioning was edited says how. */
    {
        char why[300];

        back = s.versions[0];
        back.bucket_n = 32;
        CHECK(contract_diff(&s.versions[0], &back, why, sizeof(why)));
        CHECK_STR(why, "partition_by changed from 'bucket(7, at)' to 'bucket(32, at)'");
        back.partition = CONTRACT_PART_DAY;
        CHECK(contract_diff(&s.versions[0], &back, why, sizeof(why)));
        CHECK_STR(why, "partition_by changed from 'bucket(7, at)' to 'day'");
    }
    /* Each refusal names the partition_by line (5). */
    bad(bucket_source("bucket(16, nope)"), "'nope' is not a column of this version", 5);
    bad(bucket_source("bucket(16, amount)"), "column 'amount' must be required", 5);
    bad(bucket_source("bucket(16, x)"), "column 'x' is double, which Iceberg does not bucket",
        5);
    bad(bucket_source("bucket(16, ok)"), "column 'ok' is bool", 5);
    bad(bucket_source("bucket(0, id)"), "must be an integer from 1 to 1000000, not '0'", 5);
    bad(bucket_source("bucket(1000001, id)"), "integer from 1 to 1000000", 5);
    bad(bucket_source("bucket(-3, id)"), "integer from 1 to 1000000", 5);
    bad(bucket_source("bucket(1.5, id)"), "integer from 1 to 1000000", 5);
    bad(bucket_source("bucket(16 id)"), "is not bucket(N, column)", 5);
    bad(bucket_source("bucket(16, id"), "is not bucket(N, column)", 5);
    bad(bucket_source("bucket(16, id) x"), "is not bucket(N, column)", 5);
    bad(bucket_source("bucket(16, )"), "is not bucket(N, column)", 5);
    bad(bucket_source("bucket[16]"), "is not bucket(N, column)", 5);
    bad(bucket_source("bucket"), "is not bucket(N, column)", 5);
    bad(bucket_source("buckets"), "is not bucket(N, column)", 5);
    bad(bucket_source("hash(16, id)"), "unknown partition_by 'hash(16, id)'", 5);
    sl_arena_release(&arena);
}
