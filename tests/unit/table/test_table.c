/*
 * test_table.c - which files a filter on the event time keeps: sets of
 * intervals (core/span.h), and table_filter_meets() on partition values of
 * each calendar transform and on column bounds, at the edges (midnight,
 * the last microsecond of a day, month or year, exclusive and inclusive
 * ends), for timestamp and date columns, before 1970 too.  A file pruned
 * wrongly loses rows, so every "kept" here has a "pruned" beside it one
 * microsecond away.  Delete files (prune_files(), reached by including
 * table.c): kept exactly when they can apply to a kept data file.
 */
#include <stdint.h>
#include <string.h>

#include "core/span.h"
#include "core/time.h"
#include "table/table.c"
#include "test.h"

#define FIELD 6

/* A time "2026-10-05T10:00:00Z" in microseconds, or a date "2026-10-05"
 * in days. */
static int64_t
when(const char *s, bool is_date)
{
    int64_t us = 0;
    int32_t days = 0;
    int rc = is_date ? sl_parse_date(s, strlen(s), &days) : sl_parse_timestamp(s, strlen(s), &us);

    if (rc != 0)
        abort();
    return is_date ? days : us;
}

#define ts(s) when((s), false)
#define day(s) ((int32_t)when((s), true))

/* ---- sets of intervals ---------------------------------------------------------------- */

TEST(spans_merge_and_order)
{
    struct sl_spans s;

    sl_spans_init(&s);
    CHECK(!sl_spans_meets(&s, INT64_MIN, INT64_MAX));
    sl_spans_add(&s, 10, 20);
    sl_spans_add(&s, 30, 40);
    sl_spans_add(&s, 0, 5);
    CHECK_INT(s.n, 3);
    CHECK_INT(s.v[0].lo, 0);
    CHECK_INT(s.v[2].hi, 40);
    sl_spans_add(&s, 21, 29); /* touches both neighbours: one interval */
    CHECK_INT(s.n, 2);
    CHECK_INT(s.v[1].lo, 10);
    CHECK_INT(s.v[1].hi, 40);
    sl_spans_add(&s, 6, 6); /* touches [0,5] and [10,40]? only the first */
    CHECK_INT(s.n, 2);
    CHECK_INT(s.v[0].hi, 6);
    sl_spans_add(&s, 50, 40); /* empty: nothing */
    CHECK_INT(s.n, 2);
    CHECK(sl_spans_meets(&s, 7, 10));
    CHECK(!sl_spans_meets(&s, 7, 9));
    CHECK(sl_spans_meets(&s, 40, 100));
    CHECK(!sl_spans_meets(&s, 41, 100));
    sl_spans_add(&s, INT64_MIN, INT64_MAX);
    CHECK(sl_spans_all(&s));
    sl_spans_release(&s);
}

TEST(spans_intersect_and_union)
{
    struct sl_spans a, b, c;

    sl_spans_init(&a);
    sl_spans_init(&b);
    sl_spans_add(&a, 0, 10);
    sl_spans_add(&a, 20, 30);
    sl_spans_add(&b, 5, 25);
    sl_spans_copy(&c, &a);
    sl_spans_intersect(&a, &b);
    CHECK_INT(a.n, 2);
    CHECK_INT(a.v[0].lo, 5);
    CHECK_INT(a.v[0].hi, 10);
    CHECK_INT(a.v[1].lo, 20);
    CHECK_INT(a.v[1].hi, 25);
    sl_spans_union(&c, &b);
    CHECK_INT(c.n, 1);
    CHECK_INT(c.v[0].lo, 0);
    CHECK_INT(c.v[0].hi, 30);
    /* Everything meets everything; the extremes do not overflow. */
    sl_spans_release(&b);
    sl_spans_init_all(&b);
    sl_spans_add(&b, INT64_MAX, INT64_MAX);
    sl_spans_add(&b, INT64_MIN, INT64_MIN);
    CHECK(sl_spans_all(&b));
    sl_spans_intersect(&c, &b);
    CHECK_INT(c.n, 1);
    sl_spans_release(&b);
    sl_spans_init(&b);
    sl_spans_intersect(&c, &b);
    CHECK_INT(c.n, 0);
    sl_spans_release(&a);
    sl_spans_release(&b);
    sl_spans_release(&c);
}

/* ---- files ------------------------------------------------------------------------------ */

/* A data file: partition value (set unless unpartitioned) and bounds of
 * the column, encoded as Iceberg does (8-byte micros or 4-byte days). */
struct file {
    struct mf_entry e;
    struct mf_pvalue part;
    struct mf_column_stats st;
    uint8_t lo[8], hi[8];
};

static void
file_init(struct file *f, bool has_part, int64_t part)
{
    memset(f, 0, sizeof(*f));
    f->part.set = has_part;
    f->part.i = part;
    f->e.partition = &f->part;
    f->e.content = MF_DATA;
}

static void
put_le(uint8_t *b, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static void
file_bounds(struct file *f, bool is_date, int64_t lo, int64_t hi)
{
    size_t n = is_date ? 4 : 8;

    put_le(f->lo, (uint64_t)lo, n);
    put_le(f->hi, (uint64_t)hi, n);
    f->st.field_id = FIELD;
    f->st.value_count = f->st.null_count = -1;
    f->st.lower = f->lo;
    f->st.lower_len = n;
    f->st.upper = f->hi;
    f->st.upper_len = n;
    f->e.stats = &f->st;
    f->e.nstats = 1;
}

/* Whether a file is kept for the one interval [lo, hi]. */
static bool
keeps(const struct file *f, bool is_date, enum ival_transform_kind k, int64_t lo, int64_t hi)
{
    struct sl_spans s;
    struct table_filter flt = {FIELD, is_date, &s};
    struct ival_transform t = {k, k == IVAL_BUCKET ? 16 : 0, NULL};
    bool r;

    sl_spans_init(&s);
    sl_spans_add(&s, lo, hi);
    r = table_filter_meets(&flt, t, f->part.set ? 0 : -1, &f->e);
    sl_spans_release(&s);
    return r;
}

TEST(day_partition_edges)
{
    struct file f;
    int64_t mid = ts("2026-10-05T00:00:00Z"), next = ts("2026-10-06T00:00:00Z");

    file_init(&f, true, day("2026-10-05"));
    /* >= the day's midnight; < the next midnight; exactly at midnight */
    CHECK(keeps(&f, false, IVAL_DAY, mid, INT64_MAX));
    CHECK(keeps(&f, false, IVAL_DAY, INT64_MIN, mid));          /* <= midnight */
    CHECK(!keeps(&f, false, IVAL_DAY, INT64_MIN, mid - 1));     /* < midnight */
    CHECK(keeps(&f, false, IVAL_DAY, next - 1, INT64_MAX));     /* last microsecond */
    CHECK(!keeps(&f, false, IVAL_DAY, next, INT64_MAX));        /* >= next midnight */
    CHECK(keeps(&f, false, IVAL_DAY, mid + 1, next - 2));
    /* a point on either side */
    CHECK(!keeps(&f, false, IVAL_DAY, mid - 1, mid - 1));
    CHECK(!keeps(&f, false, IVAL_DAY, next, next));
}

/* A bucket of the filtered column says nothing of its time range: the
 * same value read as a bucket number prunes nothing. */
TEST(bucket_partitions_are_not_time_ranges)
{
    struct file f;

    file_init(&f, true, 7);
    CHECK(!keeps(&f, true, IVAL_DAY, 100, 200));
    CHECK(keeps(&f, true, IVAL_BUCKET, 100, 200));
    CHECK(keeps(&f, false, IVAL_BUCKET, INT64_MIN, -1));
    CHECK(keeps(&f, false, IVAL_BUCKET, ts("2026-10-05T00:00:00Z"), INT64_MAX));
}

TEST(bounds_with_microseconds)
{
    struct file f;
    int64_t lo = ts("2026-10-05T10:00:00.000001Z"), hi = ts("2026-10-05T12:30:00.999999Z");

    file_init(&f, true, day("2026-10-05"));
    file_bounds(&f, false, lo, hi);
    CHECK(!keeps(&f, false, IVAL_DAY, INT64_MIN, lo - 1));  /* < its lower bound */
    CHECK(keeps(&f, false, IVAL_DAY, INT64_MIN, lo));       /* <= it */
    CHECK(keeps(&f, false, IVAL_DAY, hi, INT64_MAX));       /* >= its upper bound */
    CHECK(!keeps(&f, false, IVAL_DAY, hi + 1, INT64_MAX));  /* > it */
    CHECK(keeps(&f, false, IVAL_DAY, ts("2026-10-05T11:00:00Z"), ts("2026-10-05T11:00:00Z")));
    /* inside the day but outside the bounds */
    CHECK(!keeps(&f, false, IVAL_DAY, ts("2026-10-05T13:00:00Z"), ts("2026-10-05T23:00:00Z")));
    /* bounds without a partition prune alike */
    file_init(&f, false, 0);
    file_bounds(&f, false, lo, hi);
    CHECK(!keeps(&f, false, IVAL_VOID, hi + 1, INT64_MAX));
    CHECK(keeps(&f, false, IVAL_VOID, hi, hi));
}

TEST(files_without_statistics_are_kept)
{
    struct file f;

    file_init(&f, false, 0);
    CHECK(keeps(&f, false, IVAL_VOID, 0, 0));
    CHECK(keeps(&f, false, IVAL_VOID, INT64_MIN, INT64_MIN));
    /* bounds of another column, or of another width, say nothing */
    file_bounds(&f, false, 100, 200);
    f.st.field_id = FIELD + 1;
    CHECK(keeps(&f, false, IVAL_VOID, 0, 0));
    file_bounds(&f, false, 100, 200);
    f.st.lower_len = 4;
    CHECK(keeps(&f, false, IVAL_VOID, 0, 0));
    CHECK(!keeps(&f, false, IVAL_VOID, 201, 300));  /* the upper bound still counts */
    /* bucket and truncate partitions say nothing of ranges */
    file_init(&f, true, 3);
    CHECK(keeps(&f, false, IVAL_BUCKET, 0, 0));
    /* bounds that contradict the partition: kept */
    file_init(&f, true, day("2026-10-05"));
    file_bounds(&f, false, ts("2026-11-01T00:00:00Z"), ts("2026-11-02T00:00:00Z"));
    CHECK(keeps(&f, false, IVAL_DAY, ts("2026-10-05T01:00:00Z"), ts("2026-10-05T01:00:00Z")));
}

TEST(an_empty_set_keeps_nothing)
{
    struct file f;
    struct sl_spans s;
    struct table_filter flt = {FIELD, false, &s};
    struct ival_transform t = {IVAL_VOID, 0, NULL};

    file_init(&f, false, 0);
    sl_spans_init(&s);
    CHECK(!table_filter_meets(&flt, t, -1, &f.e));
}

TEST(date_columns)
{
    struct file f;
    int64_t mid = (int64_t)day("2026-10-05") * SL_USEC_PER_DAY;

    /* day partition of a date: the day's midnight only */
    file_init(&f, true, day("2026-10-05"));
    CHECK(keeps(&f, true, IVAL_DAY, mid, mid));
    CHECK(!keeps(&f, true, IVAL_DAY, mid + 1, INT64_MAX)); /* > DATE 10-05 as a timestamp */
    CHECK(keeps(&f, true, IVAL_DAY, INT64_MIN, mid));
    /* = TIMESTAMP '2026-10-05 10:00': a date is never that */
    file_init(&f, false, 0);
    file_bounds(&f, true, day("2026-10-05"), day("2026-10-05"));
    CHECK(!keeps(&f, true, IVAL_VOID, mid + 10 * 3600 * SL_USEC_PER_SEC,
                 mid + 10 * 3600 * SL_USEC_PER_SEC));
    CHECK(keeps(&f, true, IVAL_VOID, mid, mid));
    file_bounds(&f, true, day("2026-10-03"), day("2026-10-05"));
    CHECK(!keeps(&f, true, IVAL_VOID, mid + 1, INT64_MAX));
    CHECK(keeps(&f, true, IVAL_VOID, mid - SL_USEC_PER_DAY, mid - SL_USEC_PER_DAY));
    /* identity of a date is the day itself */
    file_init(&f, true, day("2026-10-05"));
    CHECK(keeps(&f, true, IVAL_IDENTITY, mid, mid));
    CHECK(!keeps(&f, true, IVAL_IDENTITY, mid + 1, mid + SL_USEC_PER_DAY - 1));
    /* month and year of a date */
    file_init(&f, true, (2026 - 1970) * 12 + 9); /* 2026-10 */
    CHECK(keeps(&f, true, IVAL_MONTH, (int64_t)day("2026-10-31") * SL_USEC_PER_DAY, INT64_MAX));
    CHECK(!keeps(&f, true, IVAL_MONTH, (int64_t)day("2026-11-01") * SL_USEC_PER_DAY, INT64_MAX));
}

TEST(hour_partitions)
{
    struct file f;
    int64_t h = ts("2026-10-05T14:00:00Z");

    file_init(&f, true, h / (3600 * SL_USEC_PER_SEC));
    CHECK(keeps(&f, false, IVAL_HOUR, h, h));
    CHECK(!keeps(&f, false, IVAL_HOUR, h - 1, h - 1));
    CHECK(keeps(&f, false, IVAL_HOUR, ts("2026-10-05T14:59:59.999999Z"), INT64_MAX));
    CHECK(!keeps(&f, false, IVAL_HOUR, ts("2026-10-05T15:00:00Z"), INT64_MAX));
    /* before 1970: hour -1 is 1969-12-31 23:00 */
    file_init(&f, true, -1);
    CHECK(keeps(&f, false, IVAL_HOUR, -1, -1));
    CHECK(!keeps(&f, false, IVAL_HOUR, 0, 0));
    CHECK(keeps(&f, false, IVAL_HOUR, -3600 * SL_USEC_PER_SEC, -3600 * SL_USEC_PER_SEC));
    CHECK(!keeps(&f, false, IVAL_HOUR, INT64_MIN, -3600 * SL_USEC_PER_SEC - 1));
}

TEST(month_partitions)
{
    struct file f;

    /* February of a leap year ends on the 29th */
    file_init(&f, true, (2024 - 1970) * 12 + 1);
    CHECK(keeps(&f, false, IVAL_MONTH, ts("2024-02-29T23:59:59.999999Z"), INT64_MAX));
    CHECK(!keeps(&f, false, IVAL_MONTH, ts("2024-03-01T00:00:00Z"), INT64_MAX));
    CHECK(keeps(&f, false, IVAL_MONTH, INT64_MIN, ts("2024-02-01T00:00:00Z")));
    CHECK(!keeps(&f, false, IVAL_MONTH, INT64_MIN, ts("2024-02-01T00:00:00Z") - 1));
    /* December of a year; month -1 is December 1969 */
    file_init(&f, true, (2026 - 1970) * 12 + 11);
    CHECK(keeps(&f, false, IVAL_MONTH, ts("2026-12-31T12:00:00Z"), ts("2026-12-31T12:00:00Z")));
    CHECK(!keeps(&f, false, IVAL_MONTH, ts("2027-01-01T00:00:00Z"), INT64_MAX));
    file_init(&f, true, -1);
    CHECK(keeps(&f, false, IVAL_MONTH, ts("1969-12-01T00:00:00Z"), ts("1969-12-01T00:00:00Z")));
    CHECK(!keeps(&f, false, IVAL_MONTH, 0, INT64_MAX));
    CHECK(!keeps(&f, false, IVAL_MONTH, INT64_MIN, ts("1969-12-01T00:00:00Z") - 1));
}

TEST(year_partitions)
{
    struct file f;

    file_init(&f, true, 2026 - 1970);
    CHECK(keeps(&f, false, IVAL_YEAR, ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:00:00Z")));
    CHECK(!keeps(&f, false, IVAL_YEAR, INT64_MIN, ts("2026-01-01T00:00:00Z") - 1));
    CHECK(keeps(&f, false, IVAL_YEAR, ts("2026-12-31T23:59:59.999999Z"), INT64_MAX));
    CHECK(!keeps(&f, false, IVAL_YEAR, ts("2027-01-01T00:00:00Z"), INT64_MAX));
    file_init(&f, true, -1); /* 1969 */
    CHECK(keeps(&f, false, IVAL_YEAR, -1, -1));
    CHECK(!keeps(&f, false, IVAL_YEAR, 0, 0));
    /* identity of a timestamp: the very microsecond */
    file_init(&f, true, ts("2026-10-05T10:00:00.5Z"));
    CHECK(keeps(&f, false, IVAL_IDENTITY, ts("2026-10-05T10:00:00.5Z"), INT64_MAX));
    CHECK(!keeps(&f, false, IVAL_IDENTITY, ts("2026-10-05T10:00:00.500001Z"), INT64_MAX));
}

TEST(several_intervals)
{
    struct file f;
    struct sl_spans s;
    struct table_filter flt = {FIELD, false, &s};
    struct ival_transform t = {IVAL_DAY, 0, NULL};

    sl_spans_init(&s);
    sl_spans_add(&s, ts("2026-10-01T00:00:00Z"), ts("2026-10-02T00:00:00Z") - 1);
    sl_spans_add(&s, ts("2026-10-09T00:00:00Z"), ts("2026-10-09T00:00:00Z"));
    file_init(&f, true, day("2026-10-01"));
    CHECK(table_filter_meets(&flt, t, 0, &f.e));
    file_init(&f, true, day("2026-10-05"));
    CHECK(!table_filter_meets(&flt, t, 0, &f.e));
    file_init(&f, true, day("2026-10-09"));
    CHECK(table_filter_meets(&flt, t, 0, &f.e));
    file_bounds(&f, false, ts("2026-10-09T00:00:01Z"), ts("2026-10-09T10:00:00Z"));
    CHECK(!table_filter_meets(&flt, t, 0, &f.e));
    sl_spans_release(&s);
}

/* ---- delete files ----------------------------------------------------------------------- */

TEST(delete_files_follow_the_data_files_kept)
{
    /* Two days of a day-partitioned table (spec 0, the column's field id
     * FIELD); data file a on day 1 (kept), b on day 2 (pruned). */
    static const char meta_text[] =
        "{\"default-spec-id\": 0, \"partition-specs\": [{\"spec-id\": 0, \"fields\": "
        "[{\"source-id\": 6, \"field-id\": 1000, \"name\": \"t_day\", "
        "\"transform\": \"day\"}]}]}";
    struct mf_manifest dm = {0}, xm = {0}, old = {0};
    struct file a, b, x[6];
    struct live_file lf[8];
    struct live_ctx c = {"curated/t", NULL, lf, 8, 8};
    struct meta m = {json_loads(meta_text, 0, NULL), "test"};
    struct sl_spans s;
    struct table_filter f = {FIELD, false, &s};

    CHECK(m.root != NULL);
    dm.partition_spec_id = xm.partition_spec_id = 0;
    dm.npartitions = xm.npartitions = 1;
    old.partition_spec_id = 1; /* an older spec */
    old.npartitions = 1;
    file_init(&a, true, day("2026-10-01"));
    file_init(&b, true, day("2026-10-02"));
    a.e.file_path = "file:///old/place/lake/curated/t/dt=2026-10-01/a.parquet";
    b.e.file_path = "file:///old/place/lake/curated/t/dt=2026-10-02/b.parquet";
    for (int i = 0; i < 6; i++) {
        file_init(&x[i], true, day(i % 2 ? "2026-10-02" : "2026-10-01"));
        x[i].e.content = MF_POSITION_DELETES;
    }
    /* x0: day 1, no reference; x1: day 2, no reference; x2: names a by the
     * URI of the lake's new place; x3: names b; x4: equality deletes of
     * day 2; x5: day 2 under another spec */
    x[2].e.referenced_data_file = "file:///new/lake/curated/t/dt=2026-10-01/a.parquet";
    x[3].e.referenced_data_file = "file:///new/lake/curated/t/dt=2026-10-02/b.parquet";
    x[4].e.content = MF_EQUALITY_DELETES;
    lf[0] = (struct live_file){&dm, &a.e, false};
    lf[1] = (struct live_file){&dm, &b.e, false};
    for (int i = 0; i < 6; i++)
        lf[2 + i] = (struct live_file){i == 5 ? &old : &xm, &x[i].e, false};
    sl_spans_init(&s);
    sl_spans_add(&s, ts("2026-10-01T12:00:00Z"), ts("2026-10-01T13:00:00Z"));
    prune_files(&c, &m, &f);
    CHECK(!lf[0].pruned);
    CHECK(lf[1].pruned);
    CHECK(!lf[2].pruned);  /* its day has a */
    CHECK(lf[3].pruned);   /* day 2: nothing kept there */
    CHECK(!lf[4].pruned);  /* names a, whatever the URI's place */
    CHECK(lf[5].pruned);   /* names b */
    CHECK(!lf[6].pruned);  /* equality deletes are kept */
    CHECK(lf[7].pruned);   /* no kept data file under its spec */
    /* a reference to no file of the table proves nothing */
    x[3].e.referenced_data_file = "file:///elsewhere/b.parquet";
    prune_files(&c, &m, &f);
    CHECK(!lf[5].pruned);
    sl_spans_release(&s);
    json_decref(m.root);
}
