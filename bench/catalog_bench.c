/*
 * catalog_bench.c - small-batch throughput of each catalog back end.
 *
 *   catalog_bench [--only sqlite|postgres] WORKDIR [POSTGRES_URL]
 *
 * The stream path's shape: OBJECTS raw objects of ROWS JSON-lines records
 * each, every one landed and transformed by a run of its own (ingest, then
 * transform, one object each), so the catalog's per-run cost shows.  It
 * runs once with the embedded SQLite catalog and, given a URL, once with
 * PostgreSQL, on the same generated data, in one process, and prints runs
 * per second, the ratio, and the p50/p99 latency of the runs' catalog
 * commit transactions (commit_finish) per back end.  --only runs one of
 * the two (postgres needs the URL): bench/catalog.sh alternates the back
 * ends over several processes and takes medians.
 *
 * The data is generated once into WORKDIR/data-OBJECTS-ROWS and reused;
 * each back end starts from a fresh project under WORKDIR.  The PostgreSQL
 * database must hold no catalog yet: an object that lands as a duplicate
 * stops the benchmark, since its runs would measure nothing.
 *
 * After each back end's line comes one for scripts:
 *
 *   RESULT backend=sqlite runs=N secs=S runs_per_s=R commits=C p50_ms=P p99_ms=Q
 *
 * Environment: OBJECTS (default 1000), ROWS (default 100).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "commit/commit.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "ingest/ingest.h"
#include "project/project.h"
#include "store/store.h"
#include "transform/transform.h"

#define MAX_SAMPLES 100000

static struct {
    int64_t us[MAX_SAMPLES];
    size_t n;
} lat;

static void
observe(const char *kind, int64_t usec)
{
    (void)kind;
    if (lat.n < MAX_SAMPLES)
        lat.us[lat.n++] = usec;
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static double
pct(const int64_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);

    return (double)v[i] / 1000.0;
}

static void
die(const char *what, const struct sl_diag *d)
{
    fprintf(stderr, "catalog_bench: %s: %s\n", what, d->msg[0] ? d->msg : "failed");
    exit(1);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "catalog_bench: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

/* OBJECTS files of ROWS events; keys repeat across objects now and then,
 * so some runs replace rows, as a stream's updates do.  Written into
 * DIR.tmp and renamed, so an interrupted generation is not taken for the
 * data by the next run. */
static void
generate(const char *dir, int objects, int rows)
{
    char tmp[2100], path[4200];

    snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
    sl_rmtree(tmp);
    if (sl_mkdirs(tmp, 0755, NULL) < 0) {
        fprintf(stderr, "catalog_bench: cannot create %s\n", tmp);
        exit(1);
    }
    for (int o = 0; o < objects; o++) {
        snprintf(path, sizeof(path), "%s/e-%05d.jsonl", tmp, o);
        FILE *f = fopen(path, "w");

        if (f == NULL) {
            fprintf(stderr, "catalog_bench: cannot write %s\n", path);
            exit(1);
        }
        for (int r = 0; r < rows; r++) {
            long n = (long)o * rows + r;
            long key = n % 10 == 0 ? n / 2 : n;
            long secs = 1790000000L + n;

            fprintf(f,
                    "{\"event_id\":\"e%ld\",\"user_id\":\"u%ld\",\"kind\":\"click\","
                    "\"value\":%ld,\"at\":\"2026-%02ld-%02ldT%02ld:%02ld:%02ldZ\"}\n",
                    key, n % 997, n, 10 + (secs / 86400 / 28) % 2, 1 + (secs / 86400) % 28,
                    (secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "catalog_bench: cannot write %s: %s\n", path, strerror(errno));
            exit(1);
        }
    }
    if (rename(tmp, dir) != 0) {
        fprintf(stderr, "catalog_bench: cannot rename %s to %s: %s\n", tmp, dir, strerror(errno));
        exit(1);
    }
}

static const char *const source_yaml =
    "system: app\n"
    "contracts:\n"
    "  - version: \"1.0\"\n"
    "    key: [event_id]\n"
    "    event_time: at\n"
    "    columns:\n"
    "      - {name: event_id, type: string, required: true}\n"
    "      - {name: user_id, type: string, required: true}\n"
    "      - {name: kind, type: string, required: true}\n"
    "      - {name: value, type: int64}\n"
    "      - {name: at, type: timestamp, required: true}\n";

struct result {
    double secs;
    int runs;
    size_t commits; /* commit latencies observed */
    double p50, p99;
};

/* One back end: a fresh project, every object landed and transformed. */
static struct result
run_backend(const char *work, const char *name, const char *url, const char *data, int objects)
{
    char dir[2048], path[4200];
    struct sl_diag d = {0};
    struct project *p;
    struct store *s;
    struct catalog *cat;
    const struct source *src;
    struct transform_opts to = {0};
    struct result res = {0};
    double t0;

    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    sl_rmtree(dir);
    if (project_init(dir, &d) < 0)
        die("init", &d);
    snprintf(path, sizeof(path), "%s/sluice.yaml", dir);
    if (url != NULL) {
        FILE *f = fopen(path, "a");

        fprintf(f, "catalog: %s\n", url);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/sources/events.yaml", dir);
    write_file(path, source_yaml);
    if (project_open(dir, &p, &d) < 0 || store_open(p->lake, &s, &d) < 0 ||
        catalog_open(p->catalog, 0, &cat, &d) < 0 || project_source(p, "events", &src, &d) < 0)
        die(name, &d);
    lat.n = 0;
    t0 = sl_mono_sec();
    for (int o = 0; o < objects; o++) {
        struct ingest_result ir;
        int nruns = 0;

        snprintf(path, sizeof(path), "%s/e-%05d.jsonl", data, o);
        const char *paths[1] = {path};

        if (ingest_files(s, cat, src, source_latest(src, -1), paths, 1, NULL, &ir, &d) < 0)
            die("ingest", &d);
        if (ir.duplicate) {
            fprintf(stderr,
                    "catalog_bench: %s: %s landed already: the %s catalog is not empty "
                    "(give a fresh database)\n",
                    name, path, name);
            exit(1);
        }
        ingest_result_release(&ir);
        if (transform_run(p, s, cat, src, &to, NULL, NULL, &nruns, &d) < 0)
            die("transform", &d);
        res.runs += 1 + nruns;
    }
    res.secs = sl_mono_sec() - t0;
    res.commits = lat.n;
    qsort(lat.us, lat.n, sizeof(lat.us[0]), cmp_i64);
    res.p50 = pct(lat.us, lat.n, 0.50);
    res.p99 = pct(lat.us, lat.n, 0.99);
    catalog_close(cat);
    store_close(s);
    project_free(p);
    return res;
}

/* The back end's line for people, then its RESULT line for scripts. */
static void
report(const char *label, const char *backend, const struct result *r)
{
    printf("  %-22s %7.1f runs/s  (%d runs in %.1fs)  commit p50 %.2f ms  p99 %.2f ms\n", label,
           r->runs / r->secs, r->runs, r->secs, r->p50, r->p99);
    printf("RESULT backend=%s runs=%d secs=%.3f runs_per_s=%.2f commits=%zu p50_ms=%.3f "
           "p99_ms=%.3f\n",
           backend, r->runs, r->secs, r->runs / r->secs, r->commits, r->p50, r->p99);
    fflush(stdout);
}

static void
usage(void)
{
    fprintf(stderr, "usage: catalog_bench [--only sqlite|postgres] WORKDIR [POSTGRES_URL]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    const char *env_o = getenv("OBJECTS"), *env_r = getenv("ROWS");
    int objects = env_o ? atoi(env_o) : 1000, rows = env_r ? atoi(env_r) : 100;
    const char *only = NULL, *work, *url;
    char data[2048];
    struct result lite, pg;

    if (argc >= 3 && strcmp(argv[1], "--only") == 0) {
        only = argv[2];
        argc -= 2;
        argv += 2;
        if (strcmp(only, "sqlite") != 0 && strcmp(only, "postgres") != 0)
            usage();
    }
    if (argc < 2 || argc > 3 || objects < 1 || rows < 1)
        usage();
    work = argv[1];
    url = argc == 3 ? argv[2] : NULL;
    if (only != NULL && strcmp(only, "postgres") == 0 && url == NULL)
        usage();
    sl_log_init();
    sl_log_level = SL_LOG_ERROR;
    commit_set_observer(observe);
    snprintf(data, sizeof(data), "%s/data-%d-%d", work, objects, rows);
    if (!sl_is_dir(data))
        generate(data, objects, rows);
    printf("small batches: %d objects of %d rows, each landed and transformed by a run of "
           "its own\n",
           objects, rows);
    fflush(stdout);
    if (only == NULL || strcmp(only, "sqlite") == 0) {
        lite = run_backend(work, "sqlite", NULL, data, objects);
        report("SQLite (embedded)", "sqlite", &lite);
    }
    if (url != NULL && (only == NULL || strcmp(only, "postgres") == 0)) {
        pg = run_backend(work, "postgres", url, data, objects);
        report("PostgreSQL (loopback)", "postgres", &pg);
    }
    if (only == NULL && url != NULL)
        printf("  ratio: PostgreSQL runs at %.2fx the SQLite catalog's rate (target >= 0.70)\n",
               (pg.runs / pg.secs) / (lite.runs / lite.secs));
    return 0;
}
