/*
 * layout.c - the names of everything in the lake (see layout.h, which draws
 * the layout).
 *
 * Each function is one format string; the formats are the on-disk layout,
 * so existing lakes depend on them byte for byte (tests/unit/store/
 * test_layout.c pins every one).  The zones' folder names appear once each,
 * below, so a name and its parser cannot drift apart.
 */
#include "store/layout.h"

#include <string.h>

#include "core/mem.h"
#include "core/time.h"
#include "core/banned.h"

#define RAW "raw"
#define CURATED "curated"
#define GOLD "gold"
#define QUARANTINE "quarantine"
#define DELETES "_deletes"
#define METADATA "metadata"  /* Iceberg metadata of a table */
#define STREAMS "_streams"
#define CATALOG "_catalog"

/* ---- keys ---------------------------------------------------------------- */

char *
layout_raw_prefix(const char *source)
{
    return sl_printf(RAW "/%s", source);
}

char *
layout_raw_key(const char *source, int64_t at, const char *object_id, const char *format,
               bool gzip)
{
    int year;
    unsigned mon, day;
    int hour = (int)(at / SL_USEC_PER_SEC / 3600 % 24);

    sl_civil_from_days(sl_usec_to_day(at), &year, &mon, &day);
    return sl_printf(RAW "/%s/%04d/%02u/%02u/%02d/%s.%s%s", source, year, mon, day, hour,
                     object_id, format, gzip ? ".gz" : "");
}

const char *
layout_skip_raw_zone(const char *s)
{
    size_t n = sizeof(RAW "/") - 1;

    return strncmp(s, RAW "/", n) == 0 ? s + n : s;
}

char *
layout_curated_prefix(const char *table)
{
    return sl_printf(CURATED "/%s", table);
}

char *
layout_table_prefix(const char *ns, const char *name)
{
    if (strcmp(ns, CURATED) == 0)
        return layout_curated_prefix(name);
    if (strcmp(ns, GOLD) == 0)
        return sl_printf(GOLD "/%s", name);
    return sl_printf("tables/%s/%s", ns, name);
}

char *
layout_curated_data_key(const char *prefix, const char *dir, const char *part, int64_t run_id,
                        size_t n)
{
    if (dir == NULL)
        return sl_printf("%s/part-%06lld-%zu.parquet", prefix, (long long)run_id, n);
    return sl_printf("%s/%s=%s/part-%06lld-%zu.parquet", prefix, dir, part, (long long)run_id,
                     n);
}

char *
layout_curated_deletes_key(const char *prefix, const char *part, int64_t run_id)
{
    if (part == NULL || *part == '\0')
        return sl_printf("%s/" DELETES "/delete-%06lld.parquet", prefix, (long long)run_id);
    return sl_printf("%s/" DELETES "/delete-%06lld-%s.parquet", prefix, (long long)run_id,
                     part);
}

char *
layout_curated_keys_key(const char *prefix, const char *data_key)
{
    size_t plen = strlen(prefix), klen = strlen(data_key);
    static const char ext[] = ".parquet";

    if (klen <= plen + sizeof(ext) || strncmp(data_key, prefix, plen) != 0 ||
        data_key[plen] != '/' || strcmp(data_key + klen - (sizeof(ext) - 1), ext) != 0)
        return NULL;
    return sl_printf("%s/_keys/%.*s.keys", prefix,
                     (int)(klen - plen - 1 - (sizeof(ext) - 1)), data_key + plen + 1);
}

char *
layout_curated_keys_data(const char *prefix, const char *keys_key)
{
    size_t plen = strlen(prefix), klen = strlen(keys_key);
    static const char dir[] = "/_keys/", ext[] = ".keys";

    if (klen <= plen + (sizeof(dir) - 1) + (sizeof(ext) - 1) ||
        strncmp(keys_key, prefix, plen) != 0 ||
        strncmp(keys_key + plen, dir, sizeof(dir) - 1) != 0 ||
        strcmp(keys_key + klen - (sizeof(ext) - 1), ext) != 0)
        return NULL;
    return sl_printf("%s/%.*s.parquet", prefix,
                     (int)(klen - plen - (sizeof(dir) - 1) - (sizeof(ext) - 1)),
                     keys_key + plen + sizeof(dir) - 1);
}

bool
layout_curated_is_table_file(const char *key)
{
    if (strstr(key, "/" METADATA "/") != NULL)
        return false;
    return strstr(key, "/_") == NULL || strstr(key, "/" DELETES "/") != NULL;
}

char *
layout_quarantine_key(const char *source, int32_t day, int64_t run_id)
{
    char date[16];

    sl_format_date(day, date);
    return sl_printf(QUARANTINE "/%s/dt=%s/run-%06lld.jsonl", source, date, (long long)run_id);
}

/* ---- local paths --------------------------------------------------------- */

char *
layout_streams_dir(const char *lake_dir)
{
    return sl_printf("%s/" STREAMS, lake_dir);
}

char *
layout_stream_dir(const char *lake_dir, const char *stream)
{
    return sl_printf("%s/" STREAMS "/%s", lake_dir, stream);
}

char *
layout_shard_dir(const char *lake_dir, const char *stream, const char *shard_id)
{
    return sl_printf("%s/" STREAMS "/%s/%s", lake_dir, stream, shard_id);
}

char *
layout_iterator_secret_file(const char *lake_dir)
{
    return sl_printf("%s/" STREAMS "/.iterator-key", lake_dir);
}

char *
layout_catalog_file(const char *lake_dir)
{
    return sl_printf("%s/" CATALOG "/catalog.db", lake_dir);
}

char *
layout_online_dir(const char *lake_dir)
{
    return sl_printf("%s/_online", lake_dir);
}
