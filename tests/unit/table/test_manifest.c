/*
 * test_manifest.c - manifests and manifest lists written and read back
 * field by field, the inheritance of snapshot ids and sequence numbers,
 * corrupt files, and a check of the files by a reader we did not write
 * (Debian's python3-avro, tests/lib/iceberg_avro_check.py).
 *
 * SLUICE_MANIFEST_KEEP=DIR keeps the files written in DIR (the fuzz
 * corpus comes from there).
 */
#include <avro.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "table/manifest.h"
#include "test.h"

#define SNAP 4242424242LL
#define PARENT 4141414141LL
#define SEQ 7

static char dir[256];
static struct sl_arena arena;
static struct sl_diag diag;

static const char schema_json[] =
    "{\"type\":\"struct\",\"schema-id\":3,\"fields\":["
    "{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":\"long\"},"
    "{\"id\":2,\"name\":\"region\",\"required\":false,\"type\":\"string\"},"
    "{\"id\":3,\"name\":\"event_time\",\"required\":false,\"type\":\"timestamptz\"}]}";
static const char spec_json[] =
    "[{\"source-id\":3,\"field-id\":1000,\"name\":\"event_time_day\",\"transform\":\"day\"},"
    "{\"source-id\":2,\"field-id\":1001,\"name\":\"region\",\"transform\":\"identity\"},"
    "{\"source-id\":1,\"field-id\":1002,\"name\":\"id_bucket\",\"transform\":\"bucket[8]\"}]";

static const struct mf_partition_field fields[] = {
    {1000, "event_time_day", MF_PT_DATE},
    {1001, "region", MF_PT_STRING},
    {1002, "id_bucket", MF_PT_INT},
};
#define NFIELDS 3

static void
setup(void)
{
    const char *keep = getenv("SLUICE_MANIFEST_KEEP");

    if (keep != NULL && *keep) {
        snprintf(dir, sizeof(dir), "%s", keep);
        sl_mkdirs(dir, 0755, NULL);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/sluice-manifest-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
    }
    sl_arena_init(&arena, 0);
    sl_diag_init(&diag);
}

static void
teardown(void)
{
    const char *keep = getenv("SLUICE_MANIFEST_KEEP");

    sl_arena_release(&arena);
    if (keep == NULL || !*keep)
        sl_rmtree(dir);
}

/* dir/name, in the arena. */
static char *
in_dir(const char *name)
{
    return sl_arena_printf(&arena, "%s/%s", dir, name);
}

/* A data file of n bytes at dir/name; its file:// URI. */
static const char *
data_file(const char *name, size_t n)
{
    char *path = in_dir(name);
    FILE *fp = fopen(path, "wb");

    if (fp == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        fputc((int)(i & 0xff), fp);
    fclose(fp);
    return sl_arena_printf(&arena, "file://%s", path);
}

static const uint8_t lo_id[8] = {1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t hi_id[8] = {0xe8, 3, 0, 0, 0, 0, 0, 0};
static const uint8_t lo_region[] = "eu-central";
static const uint8_t hi_region[] = "us-west";

/* The entries of the data manifest; files are made in dir. */
static struct mf_entry data_entries[3];
static struct mf_pvalue parts[3][NFIELDS];
static struct mf_column_stats stats[2];
static int64_t splits[2] = {4, 1048576};

static void
make_data_entries(void)
{
    memset(data_entries, 0, sizeof(data_entries));
    memset(parts, 0, sizeof(parts));
    stats[0] = (struct mf_column_stats){1, 800, 100, 0, -1, lo_id, 8, hi_id, 8};
    stats[1] = (struct mf_column_stats){2, 300, 100, 5, -1, lo_region, 10, hi_region, 7};
    /* ADDED, inheriting everything */
    parts[0][0] = (struct mf_pvalue){.set = true, .i = 20000};
    parts[0][1] = (struct mf_pvalue){.set = true, .s = "eu-central"};
    parts[0][2] = (struct mf_pvalue){.set = true, .i = 3};
    data_entries[0] = (struct mf_entry){
        .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
        .file_sequence_number = -1, .content = MF_DATA,
        .file_path = data_file("a.parquet", 1234), .file_format = "PARQUET",
        .partition = parts[0], .record_count = 100, .file_size = 1234,
        .nstats = 2, .stats = stats, .split_offsets = splits, .nsplit_offsets = 2,
        .sort_order_id = 0,
    };
    /* EXISTING, with explicit numbers; a null partition value */
    parts[1][0] = (struct mf_pvalue){.set = true, .i = 19990};
    parts[1][2] = (struct mf_pvalue){.set = true, .i = 7};
    data_entries[1] = (struct mf_entry){
        .status = MF_EXISTING, .snapshot_id = 111, .sequence_number = 5,
        .file_sequence_number = 5, .content = MF_DATA,
        .file_path = data_file("b.parquet", 2000), .file_format = "PARQUET",
        .partition = parts[1], .record_count = 20, .file_size = 2000,
        .nstats = 1, .stats = &stats[0], .sort_order_id = -1,
    };
    /* DELETED: its partition counts in the summaries, its sequence
     * number (3, the lowest) not in min_sequence_number */
    parts[2][0] = (struct mf_pvalue){.set = true, .i = 20010};
    parts[2][1] = (struct mf_pvalue){.set = true, .s = "us-west"};
    data_entries[2] = (struct mf_entry){
        .status = MF_DELETED, .snapshot_id = 222, .sequence_number = 3,
        .file_sequence_number = 4, .content = MF_DATA,
        .file_path = data_file("c.parquet", 10), .file_format = "PARQUET",
        .partition = parts[2], .record_count = 30, .file_size = 10,
        .sort_order_id = -1,
    };
}

static struct mf_writer_opts
opts_for(enum mf_content content, const struct mf_partition_field *f, size_t n)
{
    return (struct mf_writer_opts){
        .schema_json = schema_json, .schema_id = 3,
        .spec_fields_json = n ? spec_json : "[]", .spec_id = n ? 1 : 0,
        .nfields = n, .fields = f, .content = content, .snapshot_id = SNAP,
    };
}

static off_t
size_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
check_le(const uint8_t *b, size_t len, int64_t want, size_t want_len)
{
    uint64_t v = 0;

    CHECK_INT(len, want_len);
    for (size_t i = 0; i < len; i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (len == 4)
        CHECK_INT((int32_t)(uint32_t)v, want);
    else
        CHECK_INT((int64_t)v, want);
}

/* Write the data manifest; *m describes it. */
static const char *
write_data(struct mf_manifest *m)
{
    struct mf_writer_opts o = opts_for(MF_DATA, fields, NFIELDS);
    const char *path = in_dir("data-m0.avro");

    make_data_entries();
    CHECK_INT(mf_write_manifest(path, &o, data_entries, 3, &arena, m, &diag), 0);
    m->path = sl_arena_printf(&arena, "file://%s", path);
    return path;
}

TEST(data_manifest_describes_itself)
{
    struct mf_manifest m;
    const char *path;

    setup();
    path = write_data(&m);
    CHECK_INT(m.length, size_of(path));
    CHECK_INT(m.partition_spec_id, 1);
    CHECK_INT(m.content, MF_DATA);
    CHECK_INT(m.sequence_number, -1);
    /* the lowest explicit data sequence number of a live entry */
    CHECK_INT(m.min_sequence_number, 5);
    CHECK_INT(m.added_snapshot_id, SNAP);
    CHECK_INT(m.added_files_count, 1);
    CHECK_INT(m.existing_files_count, 1);
    CHECK_INT(m.deleted_files_count, 1);
    CHECK_INT(m.added_rows_count, 100);
    CHECK_INT(m.existing_rows_count, 20);
    CHECK_INT(m.deleted_rows_count, 30);
    CHECK_INT(m.npartitions, 3);
    /* day: 19990 .. 20010 (the DELETED entry's partition counts too) */
    CHECK(!m.partitions[0].contains_null && !m.partitions[0].contains_nan);
    CHECK(m.partitions[0].has_bounds);
    check_le(m.partitions[0].lower, m.partitions[0].lower_len, 19990, 4);
    check_le(m.partitions[0].upper, m.partitions[0].upper_len, 20010, 4);
    /* region: a null, and string bounds */
    CHECK(m.partitions[1].contains_null && m.partitions[1].has_bounds);
    CHECK_STR(m.partitions[1].lower_str, "eu-central");
    CHECK_STR(m.partitions[1].upper_str, "us-west");
    CHECK_INT(m.partitions[1].lower_len, 10);
    CHECK_INT(m.partitions[1].upper_len, 7);
    /* bucket: 3 .. 7 and a null */
    CHECK(m.partitions[2].contains_null);
    check_le(m.partitions[2].lower, m.partitions[2].lower_len, 3, 4);
    check_le(m.partitions[2].upper, m.partitions[2].upper_len, 7, 4);
    teardown();
}

/* Write a delete manifest: position deletes of one file each. */
static const char *
write_deletes(struct mf_manifest *m, struct mf_entry *e, struct mf_pvalue p[2][NFIELDS])
{
    struct mf_writer_opts o = opts_for(MF_POSITION_DELETES, fields, NFIELDS);
    const char *path = in_dir("deletes-m1.avro");
    static int32_t eq_ids[2] = {1, 2};

    memset(p, 0, 2 * sizeof(*p));
    p[0][0] = (struct mf_pvalue){.set = true, .i = 20000};
    p[0][1] = (struct mf_pvalue){.set = true, .s = "eu-central"};
    p[0][2] = (struct mf_pvalue){.set = true, .i = 3};
    e[0] = (struct mf_entry){
        .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
        .file_sequence_number = -1, .content = MF_POSITION_DELETES,
        .file_path = data_file("delete-1.parquet", 512), .file_format = "PARQUET",
        .partition = p[0], .record_count = 2, .file_size = 512, .sort_order_id = -1,
        .referenced_data_file = data_entries[0].file_path,
    };
    p[1][0] = (struct mf_pvalue){.set = true, .i = 19990};
    e[1] = (struct mf_entry){
        .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
        .file_sequence_number = -1, .content = MF_EQUALITY_DELETES,
        .file_path = data_file("delete-2.parquet", 300), .file_format = "PARQUET",
        .partition = p[1], .record_count = 1, .file_size = 300, .sort_order_id = 0,
        .equality_ids = eq_ids, .nequality_ids = 2,
    };
    CHECK_INT(mf_write_manifest(path, &o, e, 2, &arena, m, &diag), 0);
    m->path = sl_arena_printf(&arena, "file://%s", path);
    return path;
}

TEST(list_and_manifests_read_back)
{
    struct mf_manifest ms[2], *rows;
    struct mf_entry del[2], *es;
    struct mf_pvalue dp[2][NFIELDS];
    struct mf_partition_field *pf;
    size_t n, npf;
    const char *list;

    setup();
    write_data(&ms[0]);
    write_deletes(&ms[1], del, dp);
    CHECK_INT(ms[1].content, MF_POSITION_DELETES);
    CHECK_INT(ms[1].min_sequence_number, -1);
    list = in_dir("snap-1.avro");
    CHECK_INT(mf_write_list(list, SNAP, PARENT, SEQ, ms, 2, fields, NFIELDS, &diag), 0);

    CHECK_INT(mf_read_list(list, &arena, &rows, &n, &diag), 0);
    CHECK_INT(n, 2);
    for (size_t i = 0; i < 2; i++) {
        CHECK_STR(rows[i].path, ms[i].path);
        CHECK_INT(rows[i].length, ms[i].length);
        CHECK_INT(rows[i].partition_spec_id, 1);
        CHECK_INT(rows[i].content, i == 0 ? MF_DATA : MF_POSITION_DELETES);
        CHECK_INT(rows[i].sequence_number, SEQ);
        CHECK_INT(rows[i].added_snapshot_id, SNAP);
        CHECK_INT(rows[i].added_files_count, ms[i].added_files_count);
        CHECK_INT(rows[i].existing_files_count, ms[i].existing_files_count);
        CHECK_INT(rows[i].deleted_files_count, ms[i].deleted_files_count);
        CHECK_INT(rows[i].added_rows_count, ms[i].added_rows_count);
        CHECK_INT(rows[i].existing_rows_count, ms[i].existing_rows_count);
        CHECK_INT(rows[i].deleted_rows_count, ms[i].deleted_rows_count);
        CHECK_INT(rows[i].npartitions, NFIELDS);
        for (size_t k = 0; k < NFIELDS; k++) {
            const struct mf_field_summary *a = &rows[i].partitions[k], *b = &ms[i].partitions[k];

            CHECK_INT(a->contains_null, b->contains_null);
            CHECK_INT(a->contains_nan, b->contains_nan);
            CHECK_INT(a->has_bounds, b->has_bounds);
            CHECK_INT(a->lower_len, b->lower_len);
            CHECK_INT(a->upper_len, b->upper_len);
            if (!a->has_bounds)
                continue;
            if (fields[k].type == MF_PT_STRING) {
                CHECK_STR(a->lower_str, b->lower_str);
                CHECK_STR(a->upper_str, b->upper_str);
            } else {
                CHECK(memcmp(a->lower, b->lower, a->lower_len) == 0);
                CHECK(memcmp(a->upper, b->upper, a->upper_len) == 0);
            }
        }
    }
    /* min_sequence_number: the data manifest's own 5; the delete
     * manifest's is the snapshot's (all its entries inherit) */
    CHECK_INT(rows[0].min_sequence_number, 5);
    CHECK_INT(rows[1].min_sequence_number, SEQ);
    CHECK(rows[1].partitions[0].has_bounds);
    check_le(rows[1].partitions[0].lower, rows[1].partitions[0].lower_len, 19990, 4);
    CHECK(rows[1].partitions[1].contains_null);

    /* the data manifest, every field, inheriting from its list row */
    CHECK_INT(mf_read_manifest(ms[0].path + 7, &rows[0], &arena, &es, &n, &pf,
                               &npf, &diag), 0);
    CHECK_INT(n, 3);
    CHECK_INT(npf, NFIELDS);
    for (size_t k = 0; k < NFIELDS; k++) {
        CHECK_INT(pf[k].field_id, fields[k].field_id);
        CHECK_STR(pf[k].name, fields[k].name);
        CHECK_INT(pf[k].type, fields[k].type);
    }
    for (size_t i = 0; i < 3; i++) {
        const struct mf_entry *a = &es[i], *b = &data_entries[i];

        CHECK_INT(a->status, b->status);
        CHECK_INT(a->content, MF_DATA);
        CHECK_STR(a->file_path, b->file_path);
        CHECK_STR(a->file_format, "PARQUET");
        CHECK_INT(a->record_count, b->record_count);
        CHECK_INT(a->file_size, b->file_size);
        CHECK_INT(a->sort_order_id, b->sort_order_id);
        CHECK(a->referenced_data_file == NULL);
        CHECK_INT(a->nequality_ids, 0);
        for (size_t k = 0; k < NFIELDS; k++) {
            CHECK_INT(a->partition[k].set, b->partition[k].set);
            if (!b->partition[k].set)
                continue;
            if (fields[k].type == MF_PT_STRING)
                CHECK_STR(a->partition[k].s, b->partition[k].s);
            else
                CHECK_INT(a->partition[k].i, b->partition[k].i);
        }
        CHECK_INT(a->nstats, b->nstats);
        for (size_t k = 0; k < b->nstats; k++) {
            const struct mf_column_stats *x = &a->stats[k], *y = &b->stats[k];

            CHECK_INT(x->field_id, y->field_id);
            CHECK_INT(x->column_size, y->column_size);
            CHECK_INT(x->value_count, y->value_count);
            CHECK_INT(x->null_count, y->null_count);
            CHECK_INT(x->nan_count, -1);
            CHECK_INT(x->lower_len, y->lower_len);
            CHECK_INT(x->upper_len, y->upper_len);
            CHECK(memcmp(x->lower, y->lower, y->lower_len) == 0);
            CHECK(memcmp(x->upper, y->upper, y->upper_len) == 0);
        }
        CHECK_INT(a->nsplit_offsets, b->nsplit_offsets);
        for (size_t k = 0; k < b->nsplit_offsets; k++)
            CHECK_INT(a->split_offsets[k], b->split_offsets[k]);
    }
    /* inherited by the ADDED entry; kept by the others */
    CHECK_INT(es[0].snapshot_id, SNAP);
    CHECK_INT(es[0].sequence_number, SEQ);
    CHECK_INT(es[0].file_sequence_number, SEQ);
    CHECK_INT(es[1].snapshot_id, 111);
    CHECK_INT(es[1].sequence_number, 5);
    CHECK_INT(es[1].file_sequence_number, 5);
    CHECK_INT(es[2].snapshot_id, 222);
    CHECK_INT(es[2].sequence_number, 3);
    CHECK_INT(es[2].file_sequence_number, 4);

    /* without a list row nothing is inherited */
    CHECK_INT(mf_read_manifest(ms[0].path + 7, NULL, &arena, &es, &n, NULL, NULL, &diag), 0);
    CHECK_INT(es[0].snapshot_id, -1);
    CHECK_INT(es[0].sequence_number, -1);
    CHECK_INT(es[0].file_sequence_number, -1);

    /* the delete manifest */
    CHECK_INT(mf_read_manifest(ms[1].path + 7, &rows[1], &arena, &es, &n, NULL, NULL, &diag), 0);
    CHECK_INT(n, 2);
    CHECK_INT(es[0].content, MF_POSITION_DELETES);
    CHECK_STR(es[0].referenced_data_file, data_entries[0].file_path);
    CHECK_INT(es[0].sort_order_id, -1);
    CHECK_INT(es[0].nstats, 0);
    CHECK_INT(es[0].sequence_number, SEQ);
    CHECK_INT(es[1].content, MF_EQUALITY_DELETES);
    CHECK_INT(es[1].nequality_ids, 2);
    CHECK_INT(es[1].equality_ids[0], 1);
    CHECK_INT(es[1].equality_ids[1], 2);
    CHECK(!es[1].partition[1].set && !es[1].partition[2].set);
    CHECK_INT(es[1].partition[0].i, 19990);
    teardown();
}

TEST(unpartitioned_manifest)
{
    struct mf_writer_opts o = opts_for(MF_DATA, NULL, 0);
    struct mf_manifest m, *rows;
    struct mf_entry e, *es;
    struct mf_partition_field *pf;
    size_t n, npf = 9;
    const char *path, *list;

    setup();
    path = in_dir("plain-m0.avro");
    e = (struct mf_entry){
        .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
        .file_sequence_number = -1, .content = MF_DATA,
        .file_path = data_file("p.parquet", 77), .file_format = "PARQUET",
        .record_count = 3, .file_size = 77, .sort_order_id = -1,
    };
    CHECK_INT(mf_write_manifest(path, &o, &e, 1, &arena, &m, &diag), 0);
    CHECK_INT(m.npartitions, 0);
    CHECK_INT(m.min_sequence_number, -1);
    m.path = sl_arena_printf(&arena, "file://%s", path);
    list = in_dir("snap-plain.avro");
    CHECK_INT(mf_write_list(list, SNAP, -1, 1, &m, 1, NULL, 0, &diag), 0);
    CHECK_INT(mf_read_list(list, &arena, &rows, &n, &diag), 0);
    CHECK_INT(n, 1);
    CHECK_INT(rows[0].npartitions, 0);
    CHECK_INT(rows[0].sequence_number, 1);
    CHECK_INT(rows[0].min_sequence_number, 1);
    CHECK_INT(mf_read_manifest(path, &rows[0], &arena, &es, &n, &pf, &npf, &diag), 0);
    CHECK_INT(n, 1);
    CHECK_INT(npf, 0);
    CHECK_INT(es[0].sequence_number, 1);
    CHECK_INT(es[0].record_count, 3);
    CHECK_INT(es[0].nstats, 0);
    CHECK(es[0].split_offsets == NULL);
    /* an empty manifest and an empty list are fine too */
    CHECK_INT(mf_write_manifest(path, &o, NULL, 0, &arena, &m, &diag), 0);
    CHECK_INT(mf_read_manifest(path, NULL, &arena, &es, &n, NULL, NULL, &diag), 0);
    CHECK_INT(n, 0);
    CHECK_INT(mf_write_list(list, SNAP, -1, 1, NULL, 0, NULL, 0, &diag), 0);
    CHECK_INT(mf_read_list(list, &arena, &rows, &n, &diag), 0);
    CHECK_INT(n, 0);
    teardown();
}

TEST(every_partition_type)
{
    static const struct mf_partition_field f[] = {
        {1000, "l", MF_PT_LONG},   {1001, "ts", MF_PT_TIMESTAMPTZ},
        {1002, "b", MF_PT_BOOLEAN}, {1003, "x", MF_PT_DOUBLE},
    };
    struct mf_writer_opts o = opts_for(MF_DATA, f, 4);
    struct mf_pvalue p[4][4];
    struct mf_entry e[4], *es;
    struct mf_manifest m, *rows;
    struct mf_partition_field *pf;
    double xs[4] = {0.0, -0.0, NAN, -2.5};
    size_t n, npf;
    const char *path, *list;
    double d;

    setup();
    for (int i = 0; i < 4; i++) {
        p[i][0] = (struct mf_pvalue){.set = true, .i = (int64_t)1 << (40 + i)};
        p[i][1] = (struct mf_pvalue){.set = i != 2, .i = 1767225600000000LL + i};
        p[i][2] = (struct mf_pvalue){.set = true, .i = i & 1};
        p[i][3] = (struct mf_pvalue){.set = true, .f = xs[i]};
        e[i] = (struct mf_entry){
            .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
            .file_sequence_number = -1, .content = MF_DATA,
            .file_path = data_file(i & 1 ? "t1.parquet" : "t0.parquet", 5), .file_format = "PARQUET",
            .partition = p[i], .record_count = 1, .file_size = 5, .sort_order_id = -1,
        };
    }
    path = in_dir("types-m0.avro");
    CHECK_INT(mf_write_manifest(path, &o, e, 4, &arena, &m, &diag), 0);
    check_le(m.partitions[0].lower, m.partitions[0].lower_len, (int64_t)1 << 40, 8);
    check_le(m.partitions[0].upper, m.partitions[0].upper_len, (int64_t)1 << 43, 8);
    CHECK(m.partitions[1].contains_null);
    check_le(m.partitions[1].upper, m.partitions[1].upper_len, 1767225600000003LL, 8);
    CHECK_INT(m.partitions[2].lower_len, 1);
    CHECK_INT(m.partitions[2].lower[0], 0);
    CHECK_INT(m.partitions[2].upper[0], 1);
    /* NaN is no bound; -2.5 .. 0.0, and -0.0 sorts before 0.0 */
    CHECK(m.partitions[3].contains_nan && !m.partitions[3].contains_null);
    memcpy(&d, m.partitions[3].lower, 8);
    CHECK(d == -2.5);
    memcpy(&d, m.partitions[3].upper, 8);
    CHECK(d == 0.0 && !signbit(d));

    m.path = sl_arena_printf(&arena, "file://%s", path);
    list = in_dir("snap-types.avro");
    CHECK_INT(mf_write_list(list, SNAP, PARENT, SEQ, &m, 1, f, 4, &diag), 0);
    CHECK_INT(mf_read_list(list, &arena, &rows, &n, &diag), 0);
    CHECK(rows[0].partitions[3].contains_nan);
    CHECK_INT(mf_read_manifest(path, &rows[0], &arena, &es, &n, &pf, &npf, &diag), 0);
    CHECK_INT(n, 4);
    for (int k = 0; k < 4; k++)
        CHECK_INT(pf[k].type, f[k].type);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(es[i].partition[0].i, (int64_t)1 << (40 + i));
        CHECK_INT(es[i].partition[1].set, i != 2);
        if (i != 2)
            CHECK_INT(es[i].partition[1].i, 1767225600000000LL + i);
        CHECK_INT(es[i].partition[2].i, i & 1);
        if (i == 2)
            CHECK(isnan(es[i].partition[3].f));
        else
            CHECK(es[i].partition[3].f == xs[i] && signbit(es[i].partition[3].f) == signbit(xs[i]));
    }
    teardown();
}

TEST(writer_refuses_what_the_spec_forbids)
{
    struct mf_writer_opts o = opts_for(MF_DATA, fields, NFIELDS);
    struct mf_manifest m;
    struct mf_entry e;
    static const struct mf_partition_field bad[] = {{1000, "a-b", MF_PT_INT}};

    setup();
    make_data_entries();
    e = data_entries[0];
    e.content = MF_POSITION_DELETES;
    CHECK_INT(mf_write_manifest(in_dir("x.avro"), &o, &e, 1, &arena, &m, &diag), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "delete file in a data manifest");
    sl_diag_init(&diag);
    e = data_entries[1];
    e.sequence_number = -1; /* EXISTING cannot inherit */
    CHECK_INT(mf_write_manifest(in_dir("x.avro"), &o, &e, 1, &arena, &m, &diag), SL_ERR_INPUT);
    sl_diag_init(&diag);
    o = opts_for(MF_DATA, bad, 1);
    CHECK_INT(mf_write_manifest(in_dir("x.avro"), &o, NULL, 0, &arena, &m, &diag), SL_ERR_INPUT);
    CHECK_HAS(diag.msg, "not an Avro name");
    CHECK(!sl_exists(in_dir("x.avro")));
    teardown();
}

/* LeakSanitizer's switches; weak, so that a build without it links too. */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

/*
 * avro-c 1.11.1 leaks on its error paths (what it had read when a header
 * or a block is cut, see tests/fuzz/README.md), so corrupt files are read
 * with leak detection off.  That sluice releases all of avro-c's objects
 * is checked by the reads of whole files here and by the fuzz target,
 * which counts avro-c's blocks.
 */
static void
leaks(bool on)
{
    if (on && __lsan_enable != NULL)
        __lsan_enable();
    if (!on && __lsan_disable != NULL)
        __lsan_disable();
}

/* Write a file of len bytes from p. */
static void
put_file(const char *path, const void *p, size_t len)
{
    FILE *fp = fopen(path, "wb");

    if (fp == NULL)
        abort();
    fwrite(p, 1, len, fp);
    fclose(fp);
}

/* A manifest written by avro-c itself, with a schema lacking file_path. */
static void
write_foreign(const char *path, const char *schema_text)
{
    avro_schema_t s;
    avro_file_writer_t w;
    avro_value_iface_t *iface;
    avro_value_t v, f;

    unlink(path);
    if (avro_schema_from_json_length(schema_text, strlen(schema_text), &s) != 0)
        abort();
    iface = avro_generic_class_from_schema(s);
    avro_generic_value_new(iface, &v);
    avro_value_get_by_index(&v, 0, &f, NULL);
    avro_value_set_int(&f, 1);
    if (avro_file_writer_create(path, s, &w) != 0)
        abort();
    avro_file_writer_append_value(w, &v);
    avro_file_writer_close(w);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
}

TEST(corrupt_files_are_refused)
{
    struct mf_manifest m, *rows;
    struct mf_entry *es;
    struct sl_buf b;
    size_t n;
    const char *path, *cut = NULL;

    setup();
    path = write_data(&m);
    sl_buf_init(&b);
    CHECK_INT(sl_read_file(path, 1 << 20, &b, &diag), 0);
    /* cut anywhere: an error, never a crash (a cut between blocks is
     * noticed through the length the list row gives) */
    leaks(false);
    for (size_t len = 0; len < b.len; len += len < 64 ? 1 : 7) {
        int rc;

        cut = in_dir("cut.avro");
        put_file(cut, b.data, len);
        sl_diag_init(&diag);
        rc = mf_read_manifest(cut, &m, &arena, &es, &n, NULL, NULL, &diag);
        CHECK_INT(rc, SL_ERR_CORRUPT);
        CHECK_HAS(diag.msg, "cut.avro");
        sl_diag_init(&diag);
        CHECK_INT(mf_read_list(cut, &arena, &rows, &n, &diag), SL_ERR_CORRUPT);
    }
    leaks(true);
    sl_buf_release(&b);

    put_file(cut, "{\"not\": \"avro\"}\n", 16);
    sl_diag_init(&diag);
    leaks(false);
    CHECK_INT(mf_read_manifest(cut, NULL, &arena, &es, &n, NULL, NULL, &diag), SL_ERR_CORRUPT);
    leaks(true);
    CHECK_HAS(diag.msg, "not an Avro object container file");

    /* a manifest list is not a manifest, and the other way round */
    sl_diag_init(&diag);
    CHECK_INT(mf_read_list(path, &arena, &rows, &n, &diag), SL_ERR_CORRUPT);
    CHECK_HAS(diag.msg, "manifest_path");

    write_foreign(cut, "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
                       "{\"name\":\"status\",\"type\":\"int\"},"
                       "{\"name\":\"data_file\",\"type\":{\"type\":\"record\",\"name\":\"r2\","
                       "\"fields\":[{\"name\":\"content\",\"type\":\"int\"},"
                       "{\"name\":\"file_format\",\"type\":\"string\"}]}}]}");
    sl_diag_init(&diag);
    CHECK_INT(mf_read_manifest(cut, NULL, &arena, &es, &n, NULL, NULL, &diag), SL_ERR_CORRUPT);
    CHECK_HAS(diag.msg, "field 'data_file.file_path': is missing");
    CHECK_STR(diag.field, "data_file.file_path");

    write_foreign(cut, "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
                       "{\"name\":\"status\",\"type\":\"int\"},"
                       "{\"name\":\"data_file\",\"type\":\"string\"}]}");
    sl_diag_init(&diag);
    CHECK_INT(mf_read_manifest(cut, NULL, &arena, &es, &n, NULL, NULL, &diag), SL_ERR_CORRUPT);
    CHECK_HAS(diag.msg, "'data_file': is not of type record");

    write_foreign(cut, "{\"type\":\"record\",\"name\":\"manifest_file\",\"fields\":["
                       "{\"name\":\"added_files_count\",\"type\":\"int\"},"
                       "{\"name\":\"manifest_path\",\"type\":\"string\"}]}");
    sl_diag_init(&diag);
    CHECK_INT(mf_read_list(cut, &arena, &rows, &n, &diag), SL_ERR_CORRUPT);
    CHECK_HAS(diag.msg, "field 'manifest_length': is missing");

    sl_diag_init(&diag);
    CHECK_INT(mf_read_list(in_dir("absent.avro"), &arena, &rows, &n, &diag), -ENOENT);
    teardown();
}

TEST(inheritance_refused_for_existing_entries)
{
    struct mf_manifest m;
    struct mf_entry *es;
    size_t n;
    const char *path;

    setup();
    path = write_data(&m);
    /* a list row with sequence number 9: the ADDED entry inherits it; an
     * EXISTING entry with a null number would not, but ours has one */
    m.sequence_number = 9;
    m.added_snapshot_id = 1;
    CHECK_INT(mf_read_manifest(path, &m, &arena, &es, &n, NULL, NULL, &diag), 0);
    CHECK_INT(es[0].sequence_number, 9);
    CHECK_INT(es[0].snapshot_id, 1);
    CHECK_INT(es[1].sequence_number, 5);
    teardown();
}

TEST(python_avro_reads_and_checks_the_files)
{
    struct mf_manifest ms[2], tm;
    struct mf_entry del[2];
    struct mf_pvalue dp[2][NFIELDS];
    char *cmd, *checker;
    const char *list, *src = getenv("SLUICE_SRC");
    int rc;

    if (system("/usr/bin/python3 -c 'import avro.datafile, avro.io' >/dev/null 2>&1") != 0)
        SKIP("/usr/bin/python3 has no avro module (apt-get install python3-avro)");
    checker = sl_printf("%s/tests/lib/iceberg_avro_check.py", src ? src : ".");
    if (access(checker, R_OK) != 0) {
        free(checker);
        SKIP("tests/lib/iceberg_avro_check.py not found (run from the source tree or set "
             "SLUICE_SRC)");
    }
    setup();
    write_data(&ms[0]);
    write_deletes(&ms[1], del, dp);
    list = in_dir("snap-1.avro");
    CHECK_INT(mf_write_list(list, SNAP, PARENT, SEQ, ms, 2, fields, NFIELDS, &diag), 0);
    {
        struct mf_writer_opts o = opts_for(MF_DATA, NULL, 0);
        struct mf_entry e = {
            .status = MF_ADDED, .snapshot_id = -1, .sequence_number = -1,
            .file_sequence_number = -1, .content = MF_DATA,
            .file_path = data_file("p.parquet", 77), .file_format = "PARQUET",
            .record_count = 3, .file_size = 77, .sort_order_id = -1,
        };

        CHECK_INT(mf_write_manifest(in_dir("plain-m0.avro"), &o, &e, 1, &arena, &tm, &diag), 0);
        tm.path = sl_arena_printf(&arena, "file://%s", in_dir("plain-m0.avro"));
        CHECK_INT(mf_write_list(in_dir("snap-plain.avro"), SNAP, -1, 1, &tm, 1, NULL, 0, &diag),
                  0);
    }
    cmd = sl_printf("/usr/bin/python3 %s %s %s >&2", checker, list, in_dir("snap-plain.avro"));
    rc = system(cmd);
    free(cmd);
    CHECK_INT(rc, 0);

    /* and it does notice a wrong size on disk */
    put_file(data_entries[1].file_path + 7, "x", 1);
    cmd = sl_printf("/usr/bin/python3 %s %s 2>/dev/null", checker, list);
    rc = system(cmd);
    free(cmd);
    free(checker);
    CHECK(rc != 0);
    teardown();
}
