/*
 * test_catalog.c - the SQLite catalog: schema, raw objects, bookmarks,
 * runs, pending publications, locks.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "test.h"

static char dir[256], path[300];

static struct catalog *
open_cat(void)
{
    struct catalog *c;
    struct sl_diag d;

    snprintf(dir, sizeof(dir), "/tmp/sluice-cat-test-%d", getpid());
    snprintf(path, sizeof(path), "%s/catalog.db", dir);
    sl_mkdirs(dir, 0755, NULL);
    sl_diag_init(&d);
    CHECK_INT(catalog_open(path, &c, &d), 0);
    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    return c;
}

static int
count_raw(void *arg, const struct raw_object *o)
{
    (*(int *)arg)++;
    return 0;
}

TEST(raw_objects_are_unique_per_source)
{
    struct catalog *c = open_cat();
    struct raw_object o = {
        .source = "s", .object_id = "abc", .key = "raw/s/abc.csv", .system = "crm",
        .contract_version = "1.0", .original_name = "a.csv", .format = "csv",
        .compression = "none", .size = 10, .checksum = "sha256:00", .arrived_at = 5,
    };
    struct sl_arena a;
    struct raw_object got;
    int64_t last;
    int n = 0;

    sl_arena_init(&a, 0);
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_raw_add(c, &o, NULL), 0);
    CHECK_INT(o.seq, 1);
    CHECK_INT(catalog_raw_add(c, &o, NULL), SL_ERR_EXISTS);
    o.key = "raw/s/def.csv";
    o.object_id = "def";
    o.arrived_at = 9;
    CHECK_INT(catalog_raw_add(c, &o, NULL), 0); /* the failed insert did not poison it */
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(catalog_raw_get(c, "s", "abc", &a, &got, NULL), 0);
    CHECK_STR(got.original_name, "a.csv");
    CHECK_INT(catalog_raw_get(c, "s", "zzz", &a, &got, NULL), SL_ERR_NOTFOUND);
    CHECK_INT(catalog_raw_list(c, "s", 1, count_raw, &n, NULL), 0);
    CHECK_INT(n, 1);
    CHECK_INT(catalog_raw_last_arrival(c, &last, NULL), 0);
    CHECK_INT(last, 9);
    catalog_close(c);
    sl_arena_release(&a);
    sl_rmtree(dir);
}

TEST(bookmarks_and_rollback)
{
    struct catalog *c = open_cat();
    int64_t seq;

    CHECK_INT(catalog_bookmark_get(c, "s", "transform", &seq, NULL), 0);
    CHECK_INT(seq, 0);
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_bookmark_set(c, "s", "transform", 7, NULL), 0);
    catalog_rollback(c);
    CHECK_INT(catalog_bookmark_get(c, "s", "transform", &seq, NULL), 0);
    CHECK_INT(seq, 0);
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_bookmark_set(c, "s", "transform", 7, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(catalog_bookmark_get(c, "s", "transform", &seq, NULL), 0);
    CHECK_INT(seq, 7);
    catalog_close(c);
    sl_rmtree(dir);
}

TEST(runs_must_balance)
{
    struct catalog *c = open_cat();
    struct run_record r = {.kind = "transform", .source = "s", .records_in = 10, .written = 7,
                           .quarantined = 2, .duplicates = 1};
    struct sl_diag d;

    CHECK_INT(catalog_run_next_id(c, &r.run_id, NULL), 0);
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_run_add(c, &r, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    r.run_id++;
    r.duplicates = 5;
    sl_diag_init(&d);
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK(catalog_run_add(c, &r, &d) < 0);
    catalog_rollback(c);
    catalog_close(c);
    sl_rmtree(dir);
}

static int
count_pending(void *arg, const struct catalog_pending *p)
{
    (*(int *)arg)++;
    return 0;
}

TEST(pending_publications)
{
    struct catalog *c = open_cat();
    struct catalog_pending p = {3, CATALOG_PUBLISH, "_staging/x/a", "curated/t/a.parquet"};
    int n = 0;

    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_pending_add(c, &p, NULL), 0);
    p.op = CATALOG_DELETE;
    p.src = NULL;
    CHECK_INT(catalog_pending_add(c, &p, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(catalog_pending_list(c, 0, count_pending, &n, NULL), 0);
    CHECK_INT(n, 2);
    CHECK_INT(catalog_pending_clear(c, 3, NULL), 0);
    n = 0;
    CHECK_INT(catalog_pending_list(c, 3, count_pending, &n, NULL), 0);
    CHECK_INT(n, 0);
    catalog_close(c);
    sl_rmtree(dir);
}

TEST(newer_schema_is_refused)
{
    struct catalog *c = open_cat();
    sqlite3 *db;
    struct sl_diag d;

    catalog_close(c);
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    sl_diag_init(&d);
    CHECK_INT(catalog_open(path, &c, &d), SL_ERR_INCOMPATIBLE);
    CHECK_HAS(d.msg, "schema version 999, newer");
    sl_rmtree(dir);
}

TEST(named_locks_exclude)
{
    struct catalog *c = open_cat(), *c2;
    struct catalog_lock *l1, *l2;
    struct sl_diag d;

    sl_diag_init(&d);
    CHECK_INT(catalog_open(path, &c2, &d), 0);
    CHECK_INT(catalog_lock(c, "transform-s", false, &l1, NULL), 0);
    CHECK_INT(catalog_lock(c2, "transform-s", false, &l2, &d), SL_ERR_BUSY);
    catalog_unlock(l1);
    CHECK_INT(catalog_lock(c2, "transform-s", false, &l2, NULL), 0);
    catalog_unlock(l2);
    catalog_close(c2);
    catalog_close(c);
    sl_rmtree(dir);
}

static int
count_name(void *arg, const char *name)
{
    (void)name;
    (*(int *)arg)++;
    return 0;
}

static int
file_deleted(void *arg, const struct curated_file *f)
{
    if (strcmp(f->key, "curated/t/dt=2026-10-01/a.parquet") == 0)
        *(int64_t *)arg = f->deleted;
    return 0;
}

TEST(deletion_files_retire_with_their_last_target)
{
    struct catalog *c = open_cat();
    struct curated_column col = {"k", 1, {SL_TYPE_STRING, 0, 0}, true, "1.0"};
    struct curated_table t = {"t", "s", 1, "curated/t", 2, "k", "k", 1, &col};
    struct curated_file a = {"curated/t/dt=2026-10-01/a.parquet", "t", "2026-10-01", 10, 100,
                             1, 1, 0};
    struct curated_file b = {"curated/t/dt=2026-10-02/b.parquet", "t", "2026-10-02", 10, 100,
                             1, 1, 0};
    struct curated_delete del = {"curated/t/_deletes/delete-000002.parquet", "t", 5, 50, 2};
    int64_t deleted = -1;
    int n = 0;

    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_table_put(c, &t, NULL), 0);
    CHECK_INT(catalog_file_add(c, &a, NULL), 0);
    CHECK_INT(catalog_file_add(c, &b, NULL), 0);
    CHECK_INT(catalog_delete_add(c, &del, NULL), 0);
    CHECK_INT(catalog_delete_target_add(c, del.key, a.key, 3, NULL), 0);
    CHECK_INT(catalog_delete_target_add(c, del.key, b.key, 2, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(catalog_file_list(c, "t", file_deleted, &deleted, NULL), 0);
    CHECK_INT(deleted, 3);

    /* One target retired: the deletion file stays. */
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_file_remove(c, a.key, 3, NULL), 0);
    CHECK_INT(catalog_delete_retire(c, "t", 3, count_name, &n, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(n, 0);
    /* The last one: it goes, once. */
    CHECK_INT(catalog_begin(c, NULL), 0);
    CHECK_INT(catalog_file_remove(c, b.key, 4, NULL), 0);
    CHECK_INT(catalog_delete_retire(c, "t", 4, count_name, &n, NULL), 0);
    CHECK_INT(catalog_delete_retire(c, "t", 4, count_name, &n, NULL), 0);
    CHECK_INT(catalog_commit(c, NULL), 0);
    CHECK_INT(n, 1);
    catalog_close(c);
    sl_rmtree(dir);
}

TEST(schema_1_migrates_to_streams_and_merge_on_read)
{
    struct catalog *c = open_cat();
    sqlite3 *db;

    catalog_close(c);
    /* What a catalog written by a schema-1 sluice looks like. */
    CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "DROP TABLE curated_delete_targets; DROP TABLE curated_deletes; "
                           "DROP TABLE delivery_positions; DROP TABLE streams; "
                           "UPDATE meta SET value = '1' WHERE key = 'schema_version'",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    c = open_cat();
    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    catalog_close(c);
    sl_rmtree(dir);
}
