/*
 * test_layout.c - every name layout.h makes, byte for byte: existing lakes
 * are read with these names, so a change here is a change of format.
 */
#include <stdlib.h>
#include <string.h>

#include "store/layout.h"
#include "test.h"

/* 2026-10-03T12:34:56Z and the last microsecond of 2024-02-29. */
#define AT_NOON 1791030896000000LL
#define AT_LEAP_END 1709251199999999LL
#define DAY_2026_10_03 20729
#define DAY_2024_02_29 19782

/* Check a returned name and free it. */
#define CHECK_NAME(expr, want)                                                        \
    do {                                                                              \
        char *got_ = (expr);                                                          \
        int same_ = strcmp(got_, want) == 0;                                          \
        if (!same_)                                                                   \
            snprintf(test_why, sizeof(test_why), "%s:%d: %s == \"%s\", expected \"%s\"", \
                     __FILE__, __LINE__, #expr, got_, want);                          \
        free(got_);                                                                   \
        if (!same_)                                                                   \
            longjmp(test_jmp, 1);                                                     \
    } while (0)

TEST(raw_keys)
{
    CHECK_NAME(layout_raw_prefix("orders"), "raw/orders");
    CHECK_NAME(layout_raw_key("orders", AT_NOON, "0123456789abcdef0123456789abcdef", "csv", true),
               "raw/orders/2026/10/03/12/0123456789abcdef0123456789abcdef.csv.gz");
    CHECK_NAME(layout_raw_key("clicks", AT_LEAP_END, "ff", "jsonl", false),
               "raw/clicks/2024/02/29/23/ff.jsonl");
    CHECK_NAME(layout_raw_key("a", 0, "00", "avro", false), "raw/a/1970/01/01/00/00.avro");
}

TEST(raw_zone_is_skipped)
{
    const char *p = "raw/orders/";

    CHECK(layout_skip_raw_zone(p) == p + 4);
    CHECK_STR(layout_skip_raw_zone("orders/"), "orders/");
    CHECK_STR(layout_skip_raw_zone("raw"), "raw");
    CHECK_STR(layout_skip_raw_zone("rawdata/x"), "rawdata/x");
    CHECK_STR(layout_skip_raw_zone(""), "");
}

TEST(curated_keys)
{
    CHECK_NAME(layout_curated_prefix("orders"), "curated/orders");
    CHECK_NAME(layout_curated_prefix("orders_v2"), "curated/orders_v2");
    CHECK_NAME(layout_curated_data_key("curated/orders", "dt", "2026-10-03", 4, 2),
               "curated/orders/dt=2026-10-03/part-000004-2.parquet");
    CHECK_NAME(layout_curated_data_key("curated/t", "dt", "2024-02-29", 1234567, 0),
               "curated/t/dt=2024-02-29/part-1234567-0.parquet");
    CHECK_NAME(layout_curated_deletes_key("curated/orders", "2026-10-03", 42),
               "curated/orders/_deletes/delete-000042-2026-10-03.parquet");
    CHECK_NAME(layout_curated_data_key("curated/c", "month", "2026-10", 7, 0),
               "curated/c/month=2026-10/part-000007-0.parquet");
    CHECK_NAME(layout_curated_data_key("curated/c", NULL, "", 7, 1),
               "curated/c/part-000007-1.parquet");
    CHECK_NAME(layout_curated_deletes_key("curated/c", "", 7),
               "curated/c/_deletes/delete-000007.parquet");
}

TEST(key_files_pair_with_data_files)
{
    CHECK_NAME(layout_curated_keys_key("curated/orders",
                                       "curated/orders/dt=2026-10-03/part-000004-2.parquet"),
               "curated/orders/_keys/dt=2026-10-03/part-000004-2.keys");
    CHECK_NAME(layout_curated_keys_key("curated/c", "curated/c/part-000007-1.parquet"),
               "curated/c/_keys/part-000007-1.keys");
    CHECK_NAME(layout_curated_keys_data("curated/orders",
                                        "curated/orders/_keys/dt=2026-10-03/part-000004-2.keys"),
               "curated/orders/dt=2026-10-03/part-000004-2.parquet");
    CHECK_NAME(layout_curated_keys_data("curated/c", "curated/c/_keys/part-000007-1.keys"),
               "curated/c/part-000007-1.parquet");
    /* Not theirs: another table, another extension, too short. */
    CHECK(layout_curated_keys_key("curated/orders", "curated/ordersx/a.parquet") == NULL);
    CHECK(layout_curated_keys_key("curated/orders", "curated/orders/a.json") == NULL);
    CHECK(layout_curated_keys_key("curated/orders", "curated/orders/.parquet") == NULL);
    CHECK(layout_curated_keys_data("curated/orders", "curated/orders/_keys/.keys") == NULL);
    CHECK(layout_curated_keys_data("curated/orders", "curated/orders/dt=x/a.keys") == NULL);
    CHECK(layout_curated_keys_data("curated/orders", "curated/orders/_keys/a.parquet") == NULL);
}

TEST(curated_table_files_are_told_apart)
{
    CHECK(layout_curated_is_table_file("curated/orders/dt=2026-10-03/part-000004-2.parquet"));
    CHECK(layout_curated_is_table_file("curated/orders/_deletes/delete-000042.parquet"));
    CHECK(!layout_curated_is_table_file("curated/orders/_tmp/x.parquet"));
    CHECK(!layout_curated_is_table_file("curated/orders/dt=2026-10-03/_x.parquet"));
    CHECK(!layout_curated_is_table_file("curated/orders/metadata/00001-x.metadata.json"));
}

TEST(quarantine_keys)
{
    CHECK_NAME(layout_quarantine_key("orders", DAY_2026_10_03, 7),
               "quarantine/orders/dt=2026-10-03/run-000007.jsonl");
}

TEST(local_paths)
{
    CHECK_NAME(layout_streams_dir("/srv/lake"), "/srv/lake/_streams");
    CHECK_NAME(layout_stream_dir("/srv/lake", "clicks"), "/srv/lake/_streams/clicks");
    CHECK_NAME(layout_shard_dir("/srv/lake", "clicks", "shardId-000000000001"),
               "/srv/lake/_streams/clicks/shardId-000000000001");
    CHECK_NAME(layout_iterator_secret_file("/srv/lake"), "/srv/lake/_streams/.iterator-key");
    CHECK_NAME(layout_catalog_file("/srv/lake"), "/srv/lake/_catalog/catalog.db");
    /* The lake folder is used as given. */
    CHECK_NAME(layout_catalog_file("lake"), "lake/_catalog/catalog.db");
}
