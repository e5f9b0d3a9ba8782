/*
 * shardlog.c - benchmark of the shard log's append + group commit path.
 *
 *   build/release/bench/shardlog [DIR] [SECONDS]
 *
 * 8 threads each append calls of 500 records of 200 bytes (the shape of a
 * full PutRecords request) and wait for each call to be durable, for
 * SECONDS (default 3) per mode: fsync on, fsync off.  The peer is the same
 * load written the obvious way: each call one write() and its own
 * fdatasync() on a shared file under a mutex, i.e. no group commit.
 * Prints records/s, MB/s (of record data), fsyncs and the ratio.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/mem.h"
#include "core/time.h"
#include "ingest/shardlog.h"
#include "core/banned.h"

#define THREADS 8
#define PER_CALL 500
#define REC_BYTES 200

struct job {
    struct shardlog *l;  /* the log, or NULL for the peer */
    int fd;              /* the peer's file */
    pthread_mutex_t *mu; /* the peer's lock */
    double until;        /* stop after this time */
    uint64_t records;    /* appended and acknowledged */
    int id;
    int rc;
};

static void *
run_log(void *arg)
{
    struct job *j = arg;
    struct shardlog_rec recs[PER_CALL];
    static uint8_t data[REC_BYTES];
    char key[16];

    snprintf(key, sizeof(key), "key-%d", j->id);
    for (int i = 0; i < PER_CALL; i++)
        recs[i] = (struct shardlog_rec){key, strlen(key), data, REC_BYTES};
    while (sl_mono_sec() < j->until) {
        uint64_t seq;

        j->rc = shardlog_append(j->l, recs, PER_CALL, (int64_t)(sl_now_usec() / 1000), &seq,
                                NULL);
        if (j->rc == 0)
            j->rc = shardlog_wait(j->l, seq + PER_CALL - 1, NULL);
        if (j->rc != 0)
            break;
        j->records += PER_CALL;
    }
    return NULL;
}

/* The peer: frame-sized records copied into one buffer, one write and one
 * fdatasync per call. */
static void *
run_peer(void *arg)
{
    struct job *j = arg;
    size_t len = PER_CALL * (REC_BYTES + 32);
    uint8_t *buf = sl_calloc(1, len);

    while (sl_mono_sec() < j->until) {
        for (int i = 0; i < PER_CALL; i++)
            memset(buf + (size_t)i * (REC_BYTES + 32), i, REC_BYTES + 32);
        pthread_mutex_lock(j->mu);
        j->rc = sl_write_all(j->fd, buf, len);
        if (j->rc == 0 && fdatasync(j->fd) < 0)
            j->rc = -1;
        pthread_mutex_unlock(j->mu);
        if (j->rc != 0)
            break;
        j->records += PER_CALL;
    }
    free(buf);
    return NULL;
}

static double
run(const char *name, struct shardlog *l, int fd, double secs, uint64_t *total)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    struct job jobs[THREADS];
    pthread_t th[THREADS];
    double t0 = sl_mono_sec(), dt;

    *total = 0;
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){l, fd, &mu, t0 + secs, 0, i, 0};
        pthread_create(&th[i], NULL, l ? run_log : run_peer, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].rc != 0) {
            fprintf(stderr, "%s: thread %d failed: %d\n", name, i, jobs[i].rc);
            exit(1);
        }
        *total += jobs[i].records;
    }
    dt = sl_mono_sec() - t0;
    printf("%-28s %10.0f records/s %8.1f MB/s", name, (double)*total / dt,
           (double)*total * REC_BYTES / dt / 1e6);
    return (double)*total / dt;
}

int
main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "/tmp/sluice-bench-shardlog";
    double secs = argc > 2 ? strtod(argv[2], NULL) : 3.0;
    struct shardlog_syncer *s;
    struct shardlog *l;
    struct shardlog_opts o = {.fsync = true, .segment_bytes = 64u << 20};
    char *dir;
    uint64_t total, rounds, syncs;
    double on, off, peer;
    int fd;

    sl_rmtree(root);
    printf("shard log: %d threads, calls of %d x %d-byte records, each waited for\n", THREADS,
           PER_CALL, REC_BYTES);
    if (shardlog_syncer_start(&s, NULL) != 0)
        return 1;
    dir = sl_printf("%s/on", root);
    if (shardlog_open(s, dir, &o, &l, NULL) != 0)
        return 1;
    on = run("fsync on (group commit)", l, -1, secs, &total);
    shardlog_syncer_stats(s, &rounds, &syncs);
    printf("   %" PRIu64 " fsyncs, %.0f records each\n", syncs,
           syncs ? (double)total / (double)syncs : 0.0);
    shardlog_close(l);
    free(dir);

    o.fsync = false;
    dir = sl_printf("%s/off", root);
    if (shardlog_open(NULL, dir, &o, &l, NULL) != 0)
        return 1;
    off = run("fsync off", l, -1, secs, &total);
    printf("\n");
    shardlog_close(l);
    free(dir);
    shardlog_syncer_stop(s);

    dir = sl_printf("%s/peer", root);
    sl_mkdirs(dir, 0755, NULL);
    free(dir);
    dir = sl_printf("%s/peer/file", root);
    fd = open(dir, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    peer = run("peer: write+fdatasync/call", NULL, fd, secs, &total);
    printf("\n");
    close(fd);
    free(dir);
    printf("group commit vs peer: %.1fx; fsync off vs on: %.2fx\n", on / peer, off / on);
    sl_rmtree(root);
    return 0;
}
