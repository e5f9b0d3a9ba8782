/*
 * cmd_verify.c - sluice verify: is the lake what the catalog says?
 *
 * Checks, in order:
 *   1. every raw object exists with its recorded size (--deep: and its
 *      SHA-256 checksum);
 *   2. every live curated file, deletion file and quarantine file exists,
 *      and nothing under curated/ is unknown to the catalog;
 *   3. each curated file and deletion file holds the rows the catalog
 *      records (Parquet footers; a deletion file must read as (file_path,
 *      pos)), each table one row per key once its deletes apply, and every
 *      run's account balances.
 * Publications owed by committed runs are finished first, as every command
 * does, unless --no-recover asks to see the lake exactly as it is (then
 * they are listed, and files they will publish or delete are allowed).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/raw.h"
#include "catalog/runs.h"
#include "catalog/tables.h"
#include "cli/cli.h"
#include "core/hash.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "engine/engine.h"
#include "store/layout.h"
#include "transform/transform.h"
#include "table/table.h"
#include "core/banned.h"

struct verify {
    struct cli *c;
    bool deep;
    int problems;
    struct sl_strlist pending; /* keys owed a publish or delete */
    struct sl_strlist live;    /* live curated keys */
};

static void
problem(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
problem(struct verify *v, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("  problem: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    v->problems++;
}

static int
add_pending(void *arg, const struct catalog_pending *p)
{
    struct verify *v = arg;

    sl_strlist_add(&v->pending, p->dst);
    printf("  pending: run %lld owes %s %s\n", (long long)p->run_id,
           p->op == CATALOG_PUBLISH ? "publication of" : "deletion of", p->dst);
    return 0;
}

static int
check_raw(void *arg, const struct raw_object *o)
{
    struct verify *v = arg;
    int64_t size;
    int rc = store_stat(v->c->store, o->key, &size, NULL);

    if (rc == SL_ERR_NOTFOUND) {
        if (!sl_strlist_has(&v->pending, o->key))
            problem(v, "raw object %s is missing (%s)", o->object_id, o->key);
        return 0;
    }
    if (rc < 0 || size != o->size) {
        problem(v, "raw object %s has %lld bytes, the catalog says %lld", o->key,
                (long long)size, (long long)o->size);
        return 0;
    }
    if (v->deep) {
        char *path;
        unsigned char sha[SL_SHA256_LEN];
        char hex[2 * SL_SHA256_LEN + 1];
        struct sl_sha256 h;
        char buf[65536];
        ssize_t n;
        int fd;

        if (store_local_path(v->c->store, o->key, &path, NULL) < 0)
            return 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        free(path);
        if (fd < 0)
            return 0;
        sl_sha256_init(&h);
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            sl_sha256_update(&h, buf, (size_t)n);
        close(fd);
        sl_sha256_final(&h, sha);
        sl_hex(sha, SL_SHA256_LEN, hex);
        if (strcmp(o->checksum + 7, hex) != 0)
            problem(v, "raw object %s does not match its checksum", o->key);
    }
    return 0;
}

struct table_check {
    struct verify *v;
    struct engine *e;
    const struct curated_table *t;   /* the table */
    const struct contract *c;        /* its latest contract, or NULL */
    struct sl_strlist keys;   /* the table's live files, as the catalog says */
    struct sl_strlist iceberg; /* ... as its current Iceberg snapshot says */
};

static int
add_iceberg(void *arg, const struct table_entry *f)
{
    struct table_check *tc = arg;

    sl_strlist_add(&tc->iceberg, f->key);
    return 0;
}

/* The table's current Iceberg snapshot lists exactly its live files. */
static int
check_iceberg(struct catalog_txn *txn, struct table_check *tc, const char *table,
              struct sl_diag *d)
{
    struct verify *v = tc->v;
    struct sl_diag local;
    int rc;

    sl_diag_init(&local);
    rc = table_live_files(txn, v->c->store, "curated", table, NULL, NULL, NULL, add_iceberg, tc,
                          &local);
    if (rc == SL_ERR_NOTFOUND) {
        printf("  table curated.%s: no Iceberg metadata yet (its next transform run makes it)\n",
               table);
        return 0;
    }
    if (rc < 0) {
        char msg[512];

        sl_diag_format(&local, msg, sizeof(msg));
        problem(v, "curated.%s: %s", table, msg);
        return 0;
    }
    (void)d;
    for (size_t i = 0; i < tc->keys.n; i++)
        if (!sl_strlist_has(&tc->iceberg, tc->keys.v[i]))
            problem(v, "curated.%s: live file %s is not in its current Iceberg snapshot", table,
                    tc->keys.v[i]);
    for (size_t i = 0; i < tc->iceberg.n; i++)
        if (!sl_strlist_has(&tc->keys, tc->iceberg.v[i]))
            problem(v, "curated.%s: its current Iceberg snapshot lists %s, which is not live",
                    table, tc->iceberg.v[i]);
    return 0;
}

static int
check_file(void *arg, const struct curated_file *f)
{
    struct table_check *tc = arg;
    struct verify *v = tc->v;
    char *path;
    int64_t rows;

    sl_strlist_add(&v->live, f->key);
    sl_strlist_add(&tc->keys, f->key);
    if (store_stat(v->c->store, f->key, NULL, NULL) == SL_ERR_NOTFOUND) {
        if (!sl_strlist_has(&v->pending, f->key))
            problem(v, "curated file %s is missing", f->key);
        return 0;
    }
    if (store_local_path(v->c->store, f->key, &path, NULL) < 0)
        return 0;
    if (engine_parquet_rows(tc->e, path, &rows, NULL) < 0)
        problem(v, "curated file %s is not readable Parquet", f->key);
    else if (rows != f->rows)
        problem(v, "curated file %s has %lld rows, the catalog says %lld", f->key,
                (long long)rows, (long long)f->rows);
    free(path);
    /* The key file the transform probes instead of the file says what the
     * file holds. */
    if (tc->c != NULL) {
        char why[256];

        if (transform_check_keys(tc->e, v->c->store, tc->c, tc->t, f, why, sizeof(why)))
            problem(v, "curated file %s: %s", f->key, why);
    }
    return 0;
}

/* A live deletion file: present, and Parquet of (file_path, pos) with the
 * rows the catalog records, every position a row number. */
static int
check_delete(void *arg, const struct curated_delete *del)
{
    struct table_check *tc = arg;
    struct verify *v = tc->v;
    char *path;
    struct engine_delete_check dc;

    sl_strlist_add(&v->live, del->key);
    sl_strlist_add(&tc->keys, del->key);
    if (store_stat(v->c->store, del->key, NULL, NULL) == SL_ERR_NOTFOUND) {
        if (!sl_strlist_has(&v->pending, del->key))
            problem(v, "deletion file %s is missing", del->key);
        return 0;
    }
    if (store_local_path(v->c->store, del->key, &path, NULL) < 0)
        return 0;
    if (engine_check_deletes(tc->e, path, &dc, NULL) < 0)
        problem(v, "deletion file %s is not a readable deletion file", del->key);
    else if (dc.rows != del->rows)
        problem(v, "deletion file %s has %lld rows, the catalog says %lld", del->key,
                (long long)dc.rows, (long long)del->rows);
    else if (dc.named != dc.rows || dc.min_pos < 0)
        problem(v, "deletion file %s holds positions that name no row", del->key);
    free(path);
    return 0;
}

static int
check_orphan(void *arg, const char *key, int64_t size)
{
    struct verify *v = arg;

    if (layout_curated_is_table_file(key) && !sl_strlist_has(&v->live, key) &&
        !sl_strlist_has(&v->pending, key))
        problem(v, "file %s under curated/ is not in the catalog", key);
    return 0;
}

static int
check_quarantine(void *arg, const char *key)
{
    struct verify *v = arg;

    if (store_stat(v->c->store, key, NULL, NULL) == SL_ERR_NOTFOUND &&
        !sl_strlist_has(&v->pending, key))
        problem(v, "quarantine file %s is missing", key);
    return 0;
}

static int
check_run(void *arg, const struct run_record *r)
{
    struct verify *v = arg;

    if (r->records_in != r->written + r->quarantined + r->duplicates)
        problem(v, "run %lld does not balance", (long long)r->run_id);
    return 0;
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"deep", no_argument, NULL, 'd'},
        {"no-recover", no_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct verify v = {.c = c};
    struct sl_strlist tables = {0}, sources = {0};
    struct engine *e = NULL;
    struct engine_opts eo = {.threads = 1, .connections = 1};
    bool recover = true;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'd')
            v.deep = true;
        else if (opt == 'n')
            recover = false;
        else
            return cli_usage("verify", "unknown option");
    }
    c->no_recover = !recover;
    rc = cli_open(c);
    if (rc == 0)
        rc = engine_open(&eo, &e, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    printf("verifying %s\n", c->project->lake);
    /* Everything the catalog says, from one snapshot of it. */
    struct catalog_txn *txn = NULL;

    rc = catalog_txn_begin(c->catalog, CATALOG_READ, &txn, &c->diag);
    if (rc == 0)
        rc = catalog_pending_list(txn, 0, false, add_pending, &v, &c->diag);
    if (rc == 0)
        rc = catalog_raw_list(txn, NULL, 0, check_raw, &v, &c->diag);
    if (rc == 0)
        rc = catalog_table_list(txn, sl_strlist_add, &tables, &c->diag);
    for (size_t i = 0; rc == 0 && i < tables.n; i++) {
        struct curated_table t;
        struct table_check tc = {&v, e, &t, NULL, {0}, {0}};
        const struct source *src = NULL;
        struct sl_diag nosrc;
        struct sl_arena a;

        sl_arena_init(&a, 0);
        sl_diag_init(&nosrc);
        rc = catalog_table_get(txn, tables.v[i], &a, &t, &c->diag);
        /* (a table whose source file is gone is checked without its key
         * files) */
        if (rc == 0 && project_source(c->project, t.source, &src, &nosrc) == 0)
            tc.c = source_latest(src, t.major);
        if (rc == 0)
            rc = catalog_file_list(txn, tables.v[i], check_file, &tc, &c->diag);
        if (rc == 0)
            rc = catalog_delete_list(txn, tables.v[i], check_delete, &tc, &c->diag);
        if (rc == 0)
            rc = check_iceberg(txn, &tc, tables.v[i], &c->diag);
        sl_strlist_release(&tc.keys);
        sl_strlist_release(&tc.iceberg);
        /* Retired files older snapshots still read are not orphans. */
        if (rc == 0) {
            struct sl_diag ignore;

            sl_diag_init(&ignore);
            table_referenced(txn, c->store, "curated", tables.v[i], &v.live, &ignore);
        }
        if (rc == 0) {
            rc = store_list(c->store, t.prefix, check_orphan, &v, &c->diag);
            printf("  table curated.%s: checked\n", tables.v[i]);
        }
        sl_arena_release(&a);
    }
    if (rc == 0)
        rc = catalog_source_list(txn, sl_strlist_add, &sources, &c->diag);
    for (size_t i = 0; rc == 0 && i < sources.n; i++)
        rc = catalog_quarantine_list(txn, sources.v[i], check_quarantine, &v, &c->diag);
    if (rc == 0)
        rc = catalog_run_list(txn, NULL, 0, false, check_run, &v, &c->diag);
    catalog_txn_abort(txn);
    /* One row per key, through the same views queries use. */
    if (rc == 0 && v.pending.n == 0)
        rc = transform_views(e, c->catalog, c->store, NULL, &c->diag);
    for (size_t i = 0; rc == 0 && v.pending.n == 0 && i < tables.n; i++) {
        int64_t dups = 0;

        rc = transform_duplicate_keys(e, c->catalog, tables.v[i], &dups, &c->diag);
        if (rc == 0 && dups > 0)
            problem(&v, "curated.%s holds %lld rows more than it has keys", tables.v[i],
                    (long long)dups);
    }
    engine_close(e);
    sl_strlist_release(&tables);
    sl_strlist_release(&sources);
    sl_strlist_release(&v.pending);
    sl_strlist_release(&v.live);
    if (rc < 0)
        return cli_report(c, rc);
    if (v.problems > 0) {
        printf("%d problem%s found\n", v.problems, v.problems == 1 ? "" : "s");
        return EXIT_FAIL;
    }
    printf("ok: the lake matches the catalog\n");
    return EXIT_OK;
}

const struct cli_command cli_verify_cmd = {
    "verify", run, "check that the lake matches the catalog",
    "usage: sluice verify [--deep] [--no-recover]\n"
    "\n"
    "Check the lake against the catalog: raw objects present with their sizes\n"
    "(--deep: and SHA-256 checksums), curated, deletion and quarantine files\n"
    "present and no unknown files under curated/, Parquet row counts as recorded,\n"
    "one row per key in every curated table (deletion files applied), each\n"
    "table's current Iceberg snapshot listing exactly its live files, and every\n"
    "run's account balanced.  Publications owed\n"
    "by interrupted runs are finished first, unless --no-recover.  Exits 1 if\n"
    "anything is wrong.\n",
};
