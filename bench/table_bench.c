/*
 * table_bench.c - many small commits to one Iceberg table.
 *
 *   table_bench WORKDIR [COMMITS]
 *
 * The shape of a stream-fed table: COMMITS (default 1000) commits, each
 * adding one data file of a day partition (with statistics for four
 * columns), and every tenth also retiring a file an earlier commit added -
 * through table_commit() in a transaction of the embedded catalog, as a
 * transform run makes them.  Nothing but the table layer is measured: the
 * data files are named, not written.
 *
 * Each commit is followed by the expiry a transform run makes with the
 * default settings (snapshots past the newest 100, ten at a time).
 *
 * For each tenth of the commits it prints the commit latency (p50, p99,
 * expiry included) and the metadata bytes written per commit (manifests,
 * manifest list, metadata file), so that
 * growth with the table's history shows: reused and merged manifests keep
 * the manifest list and the manifests flat, and expiry bounds the
 * metadata file's list of snapshots.  Then one line for scripts:
 *
 *   RESULT commits=N first_p50_ms=.. last_p50_ms=.. first_bytes=.. last_bytes=..
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "store/store.h"
#include "table/table.h"

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Bytes of the files in dir (the table's metadata folder). */
static int64_t
dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int64_t total = 0;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        char *p = sl_printf("%s/%s", dir, e->d_name);
        struct stat st;

        if (e->d_name[0] != '.' && stat(p, &st) == 0)
            total += st.st_size;
        free(p);
    }
    closedir(d);
    return total;
}

struct one {
    struct store *s;
    const struct table_def *def;
    struct table_change ch;
};

static int
commit_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct one *o = arg;

    return table_commit(txn, o->s, o->def, &o->ch, NULL, d);
}

int
main(int argc, char **argv)
{
    static const struct table_column cols[] = {
        {"order_id", 1, {SL_TYPE_STRING, 0, 0}, true},
        {"amount", 2, {SL_TYPE_DECIMAL, 12, 2}, false},
        {"qty", 3, {SL_TYPE_INT64, 0, 0}, false},
        {"ordered_at", 4, {SL_TYPE_TIMESTAMP, 0, 0}, true},
    };
    struct table_def def = {.ns = "curated",
                            .name = "orders",
                            .prefix = "curated/orders",
                            .ncolumns = 4,
                            .columns = cols,
                            .last_column_id = 4,
                            .partition_column = "ordered_at",
                            .transform = {IVAL_DAY, 0, NULL},
                            .key_columns = "order_id"};
    struct sl_diag d;
    struct store *s = NULL;
    struct catalog *cat = NULL;
    int commits = argc > 2 ? atoi(argv[2]) : 1000;
    int64_t *us, *bytes;
    char *dir, *loc, *meta;
    struct table_expiry keep = {-1, INT64_MAX, 100, 10};
    int rc;

    if (argc < 2 || commits < 10) {
        fprintf(stderr, "usage: table_bench WORKDIR [COMMITS >= 10]\n");
        return 2;
    }
    sl_log_level = SL_LOG_WARN;
    sl_diag_init(&d);
    dir = sl_printf("%s/table-bench", argv[1]);
    sl_rmtree(dir);
    loc = sl_printf("sqlite:%s/lake/_catalog/catalog.db", dir);
    meta = sl_printf("%s/lake/curated/orders/metadata", dir);
    {
        char *lake = sl_printf("%s/lake", dir);

        rc = store_open(lake, &s, &d);
        free(lake);
    }
    if (rc == 0)
        rc = catalog_open(loc, 0, &cat, &d);
    us = sl_calloc((size_t)commits, sizeof(*us));
    bytes = sl_calloc((size_t)commits, sizeof(*bytes));
    for (int i = 0; rc == 0 && i < commits; i++) {
        struct mf_column_stats st[4];
        uint8_t lo[4][16], hi[4][16];
        size_t len;
        char key[96], gone[96];
        const char *removed[1] = {gone};
        struct table_file f = {.key = key,
                               .content = MF_DATA,
                               .partition = {true, 20729 + i % 30, 0, NULL},
                               .records = 100,
                               .bytes = 40000,
                               .nstats = 4,
                               .stats = st};
        struct one o = {s, &def, {i + 1, NULL, 1, &f, 0, removed, false}};
        int64_t before = dir_bytes(meta), t0;

        snprintf(key, sizeof(key), "curated/orders/dt=x/part-%06d-0.parquet", i);
        for (int c = 0; c < 4; c++) {
            static const char *const lows[] = {"O000000000", "0.01", "1", "2026-10-01 00:00:00+00"};
            static const char *const highs[] = {"O000099999", "999.99", "9",
                                                "2026-10-31 23:59:59+00"};

            memset(&st[c], 0, sizeof(st[c]));
            st[c].field_id = c + 1;
            st[c].value_count = 100;
            st[c].null_count = 0;
            st[c].nan_count = -1;
            st[c].column_size = 9000;
            if (ival_bound(cols[c].type, lows[c], strlen(lows[c]), false, lo[c], &len, NULL) == 0) {
                st[c].lower = lo[c];
                st[c].lower_len = len;
            }
            if (ival_bound(cols[c].type, highs[c], strlen(highs[c]), true, hi[c], &len, NULL) == 0) {
                st[c].upper = hi[c];
                st[c].upper_len = len;
            }
        }
        /* Every tenth commit retires the file of the commit ten before. */
        if (i % 10 == 9) {
            snprintf(gone, sizeof(gone), "curated/orders/dt=x/part-%06d-0.parquet", i - 9);
            o.ch.nremoved = 1;
        }
        t0 = sl_now_usec();
        rc = catalog_txn_run(cat, CATALOG_WRITE, commit_body, &o, &d);
        bytes[i] = dir_bytes(meta) - before; /* a commit only adds files */
        /* and expiry past the newest 100 snapshots, as a transform run
         * does with its default settings */
        if (rc == 0)
            rc = table_maintain(cat, s, "curated", "orders", &keep, NULL, NULL, NULL, &d);
        us[i] = sl_now_usec() - t0;
    }
    if (rc < 0) {
        char msg[1200];

        sl_diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "table_bench: %s\n", msg);
        return 1;
    }
    printf("%d commits to one table (one data file each, every tenth retiring one):\n",
           commits);
    printf("  %-15s %10s %10s %14s\n", "commits", "p50 ms", "p99 ms", "bytes/commit");
    {
        int tenth = commits / 10;
        double first_p50 = 0, last_p50 = 0;
        int64_t first_b = 0, last_b = 0;

        for (int k = 0; k < 10; k++) {
            int64_t *w = sl_calloc((size_t)tenth, sizeof(*w)), sum = 0;

            memcpy(w, us + k * tenth, (size_t)tenth * sizeof(*w));
            qsort(w, (size_t)tenth, sizeof(*w), cmp_i64);
            for (int j = 0; j < tenth; j++)
                sum += bytes[k * tenth + j];
            printf("  %6d-%-8d %10.2f %10.2f %14lld\n", k * tenth + 1, (k + 1) * tenth,
                   w[tenth / 2] / 1000.0, w[tenth * 99 / 100] / 1000.0,
                   (long long)(sum / tenth));
            if (k == 0) {
                first_p50 = w[tenth / 2] / 1000.0;
                first_b = sum / tenth;
            }
            last_p50 = w[tenth / 2] / 1000.0;
            last_b = sum / tenth;
            free(w);
        }
        printf("RESULT commits=%d first_p50_ms=%.2f last_p50_ms=%.2f first_bytes=%lld "
               "last_bytes=%lld\n",
               commits, first_p50, last_p50, (long long)first_b, (long long)last_b);
    }
    catalog_close(cat);
    store_close(s);
    free(us);
    free(bytes);
    free(dir);
    free(loc);
    free(meta);
    return 0;
}
