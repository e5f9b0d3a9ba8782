/*
 * test_shardlog.c - the shard log: framing, segments, recovery, group
 * commit, limits, faults, concurrency and kill -9.
 *
 * The .c is included to reach the syncer's hold flag, which lets a test
 * look at the log between a write and the sync round that covers it.
 */
#include "ingest/shardlog.c"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "core/hash.h"
#include "core/time.h"
#include "test.h"

static char base_dir[256];
static int dir_count;

/* A fresh, empty folder for one log. */
static const char *
new_dir(void)
{
    static char dir[300];

    if (base_dir[0] == '\0') {
        snprintf(base_dir, sizeof(base_dir), "/tmp/sluice-shardlog-test-%d", getpid());
        sl_rmtree(base_dir);
    }
    snprintf(dir, sizeof(dir), "%s/s%d", base_dir, ++dir_count);
    return dir;
}

static struct shardlog *
open_log(struct shardlog_syncer *s, const char *dir, bool fsync, uint64_t seg_bytes)
{
    struct shardlog_opts o = {.fsync = fsync, .segment_bytes = seg_bytes};
    struct shardlog *l = NULL;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = shardlog_open(s, dir, &o, &l, &d);
    if (rc != 0)
        fprintf(stderr, "open: %s\n", d.msg);
    CHECK_INT(rc, 0);
    return l;
}

/* The payload of record i: a length and bytes that depend on i. */
static size_t
payload(uint64_t i, uint8_t *out, size_t max)
{
    size_t len = (size_t)(i * 37 % max);

    for (size_t k = 0; k < len; k++)
        out[k] = (uint8_t)(i * 131 + k * 7);
    return len;
}

/* Append records first..first+n-1 (by payload number), one call. */
static uint64_t
append_n(struct shardlog *l, uint64_t first, size_t n, int64_t now, size_t maxlen)
{
    struct shardlog_rec *recs = sl_calloc(n, sizeof(*recs));
    uint8_t *data = sl_malloc(n * maxlen + 1);
    char *keys = sl_malloc(n * 24);
    uint64_t seq = 0;
    int rc;

    for (size_t i = 0; i < n; i++) {
        int kl = snprintf(keys + i * 24, 24, "key-%" PRIu64, first + i);

        recs[i].pk = keys + i * 24;
        recs[i].pk_len = (size_t)kl;
        recs[i].data = data + i * maxlen;
        recs[i].data_len = payload(first + i, data + i * maxlen, maxlen);
    }
    rc = shardlog_append(l, recs, n, now, &seq, NULL);
    free(recs);
    free(data);
    free(keys);
    CHECK_INT(rc, 0);
    return seq;
}

struct got {
    uint64_t *seq;
    int64_t *ms;
    uint64_t *hash;
    size_t n, cap;
    size_t stop_after; /* fn returns stop_rc once n reaches this; 0: never */
    int stop_rc;
};

static int
collect(void *arg, const struct shardlog_entry *e)
{
    struct got *g = arg;
    size_t cap = g->cap;

    if (g->stop_after && g->n >= g->stop_after)
        return g->stop_rc;
    SL_GROW(g->seq, cap, g->n + 1);
    cap = g->cap;
    SL_GROW(g->ms, cap, g->n + 1);
    cap = g->cap;
    SL_GROW(g->hash, g->cap, g->n + 1);
    g->seq[g->n] = e->seq;
    g->ms[g->n] = e->arrival_ms;
    g->hash[g->n] = sl_hash64(e->data, e->data_len, sl_hash64(e->pk, e->pk_len, 0));
    g->n++;
    return 0;
}

static void
got_release(struct got *g)
{
    free(g->seq);
    free(g->ms);
    free(g->hash);
    memset(g, 0, sizeof(*g));
}

/* Read everything from seq from on, in calls of at most 1000 records. */
static void
read_all(struct shardlog *l, uint64_t from, struct got *g)
{
    uint64_t next = from;

    for (;;) {
        size_t before = g->n;
        struct sl_diag d;
        int rc;

        sl_diag_init(&d);
        rc = shardlog_read(l, next, 1000, 0, collect, g, &next, &d);
        if (rc != 0)
            fprintf(stderr, "read: %s (%s)\n", d.msg, d.detail);
        CHECK_INT(rc, 0);
        if (g->n == before)
            break;
    }
}

/* Check that g holds exactly payload records lo..hi with seq == payload. */
static void
check_payloads(const struct got *g, uint64_t lo, uint64_t hi, size_t maxlen)
{
    uint8_t *buf = sl_malloc(maxlen + 1);

    CHECK_INT(g->n, hi - lo + 1);
    for (size_t i = 0; i < g->n; i++) {
        uint64_t p = lo + i;
        char key[24];
        int kl = snprintf(key, sizeof(key), "key-%" PRIu64, p);
        size_t len = payload(p, buf, maxlen);

        CHECK_INT(g->seq[i], p);
        CHECK(g->hash[i] == sl_hash64(buf, len, sl_hash64(key, (size_t)kl, 0)));
    }
    free(buf);
}

static void
arm(const char *spec)
{
    if (spec)
        setenv("SLUICE_FAULT", spec, 1);
    else
        unsetenv("SLUICE_FAULT");
    sl_fault_init();
}

static size_t
count_segments(const char *dir)
{
    uint64_t *v;
    size_t n;

    CHECK_INT(list_segments(dir, &v, &n, NULL), 0);
    free(v);
    return n;
}

static char *
segment_file(const char *dir, size_t k)
{
    uint64_t *v;
    size_t n;
    char *p;

    CHECK_INT(list_segments(dir, &v, &n, NULL), 0);
    CHECK(k < n);
    p = sl_printf("%s/%020" PRIu64 ".seg", dir, v[k]);
    free(v);
    return p;
}

TEST(round_trip)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 0);
    struct shardlog_info info;
    struct got g = {0};

    CHECK_INT(append_n(l, 1, 3, 1000, 300), 1);
    CHECK_INT(append_n(l, 4, 1, 999, 300), 4);   /* time never goes back */
    CHECK_INT(append_n(l, 5, 100, 2000, 300), 5);
    CHECK_INT(shardlog_wait(l, 104, NULL), 0);
    read_all(l, 1, &g);
    check_payloads(&g, 1, 104, 300);
    CHECK_INT(g.ms[0], 1000);
    CHECK_INT(g.ms[3], 1000);
    CHECK_INT(g.ms[4], 2000);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 1);
    CHECK_INT(info.next_seq, 105);
    CHECK_INT(info.durable_seq, 104);
    CHECK_INT(info.last_arrival_ms, 2000);
    CHECK(info.bytes > 104 * FRAME_HDR);
    got_release(&g);

    /* Reading from the middle starts at the right record. */
    read_all(l, 50, &g);
    check_payloads(&g, 50, 104, 300);
    got_release(&g);
    shardlog_close(l);
}

TEST(bad_input_and_busy)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 0), *l2 = NULL;
    struct shardlog_rec r = {"", 0, "x", 1};
    struct shardlog_opts o = {.fsync = false};
    struct sl_diag d;
    uint64_t seq = 0;

    sl_diag_init(&d);
    CHECK_INT(shardlog_append(l, &r, 1, 1, &seq, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "partition key");
    r.pk = "k";
    r.pk_len = 1;
    r.data_len = SHARDLOG_MAX_DATA + 1;
    CHECK_INT(shardlog_append(l, &r, 1, 1, &seq, NULL), SL_ERR_LIMIT);
    CHECK_INT(shardlog_append(l, &r, 0, 1, &seq, NULL), 0);
    CHECK_INT(seq, 1);
    CHECK_INT(shardlog_wait(l, 1, NULL), SL_ERR_INPUT);
    CHECK_INT(shardlog_open(NULL, dir, &o, &l2, NULL), SL_ERR_BUSY);
    o.fsync = true;
    CHECK_INT(shardlog_open(NULL, new_dir(), &o, &l2, NULL), SL_ERR_USAGE);
    shardlog_close(l);
}

TEST(many_segments_and_reopen)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 4096);
    struct got g = {0};
    uint64_t p = 1;

    for (int i = 0; i < 200; i++) {
        size_t n = (size_t)(i % 7) + 1;

        CHECK_INT(append_n(l, p, n, 1000 + i, 500), p);
        p += n;
    }
    CHECK(count_segments(dir) > 20);
    read_all(l, 1, &g);
    check_payloads(&g, 1, p - 1, 500);
    got_release(&g);
    shardlog_close(l);

    l = open_log(NULL, dir, false, 4096);
    read_all(l, 0, &g);
    check_payloads(&g, 1, p - 1, 500);
    got_release(&g);
    for (uint64_t from = 1; from < p; from += 97) {
        read_all(l, from, &g);
        check_payloads(&g, from, p - 1, 500);
        got_release(&g);
    }
    CHECK_INT(append_n(l, p, 5, 5000, 500), p);
    read_all(l, p - 3, &g);
    check_payloads(&g, p - 3, p + 4, 500);
    got_release(&g);
    shardlog_close(l);
}

TEST(seq_never_reused_after_full_trim)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 2048);
    struct shardlog_info info;
    struct got g = {0};

    CHECK_INT(append_n(l, 1, 40, 1000, 200), 1);
    CHECK_INT(append_n(l, 41, 10, 1000, 200), 41);
    CHECK_INT(shardlog_trim(l, INT64_MAX, 0, NULL), 0);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 51);
    CHECK_INT(info.next_seq, 51);
    CHECK_INT(info.durable_seq, 50);
    CHECK_INT(count_segments(dir), 1);
    read_all(l, 1, &g);
    CHECK_INT(g.n, 0);
    shardlog_close(l);

    l = open_log(NULL, dir, false, 2048);
    shardlog_info(l, &info);
    CHECK_INT(info.next_seq, 51);
    CHECK_INT(info.first_seq, 51);
    CHECK_INT(append_n(l, 51, 3, 2000, 200), 51);
    read_all(l, 1, &g);
    check_payloads(&g, 51, 53, 200);
    got_release(&g);
    shardlog_close(l);
}

static void
write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    CHECK(fd >= 0);
    CHECK_INT(sl_write_all(fd, p, n), 0);
    close(fd);
}

TEST(torn_tail_recovered)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 0);
    struct shardlog_info info;
    struct sl_buf orig;
    struct got g = {0};
    char *path;
    uint64_t last_off;

    append_n(l, 1, 5, 1000, 100);
    shardlog_info(l, &info);
    last_off = info.bytes;
    append_n(l, 6, 1, 1000, 100);
    shardlog_close(l);
    path = segment_file(dir, 0);
    sl_buf_init(&orig);
    CHECK_INT(sl_read_file(path, 1 << 20, &orig, NULL), 0);

    /* Cut anywhere inside the last frame: the five before it survive. */
    for (size_t cut = last_off; cut < orig.len; cut++) {
        write_file(path, (const uint8_t *)orig.data, cut);
        l = open_log(NULL, dir, false, 0);
        read_all(l, 1, &g);
        check_payloads(&g, 1, 5, 100);
        got_release(&g);
        shardlog_info(l, &info);
        CHECK_INT(info.next_seq, 6);
        CHECK_INT(info.bytes, last_off);
        shardlog_close(l);
    }
    /* Flip any byte of it: the same. */
    for (size_t k = last_off; k < orig.len; k++) {
        orig.data[k] ^= 0x20;
        write_file(path, (const uint8_t *)orig.data, orig.len);
        orig.data[k] ^= 0x20;
        l = open_log(NULL, dir, false, 0);
        read_all(l, 1, &g);
        check_payloads(&g, 1, 5, 100);
        got_release(&g);
        /* ... and the log goes on from there. */
        CHECK_INT(append_n(l, 6, 1, 1000, 100), 6);
        shardlog_close(l);
    }
    /* A newest segment cut before its header was whole starts empty; so
     * does one whose header is still zeros (never synced) whatever follows. */
    write_file(path, (const uint8_t *)orig.data, 7);
    l = open_log(NULL, dir, false, 0);
    shardlog_info(l, &info);
    CHECK_INT(info.next_seq, 1);
    shardlog_close(l);
    memset(orig.data, 0, SEG_HDR);
    write_file(path, (const uint8_t *)orig.data, orig.len);
    l = open_log(NULL, dir, false, 0);
    shardlog_info(l, &info);
    CHECK_INT(info.next_seq, 1);
    CHECK_INT(info.bytes, SEG_HDR);
    shardlog_close(l);
    sl_buf_release(&orig);
    free(path);
}

TEST(corrupt_middle_frame_reported)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 4096);
    struct shardlog *l2 = NULL;
    struct shardlog_opts o = {.fsync = false, .segment_bytes = 4096};
    struct sl_buf orig;
    struct got g = {0};
    struct sl_diag d;
    uint64_t next;
    char *path;
    size_t off;

    for (uint64_t p = 1; p <= 100; p += 10)
        append_n(l, p, 10, 1000, 200);
    shardlog_close(l);
    CHECK(count_segments(dir) > 2);
    path = segment_file(dir, 0);
    sl_buf_init(&orig);
    CHECK_INT(sl_read_file(path, 1 << 20, &orig, NULL), 0);

    /* A flipped data byte of the third frame: found when read. */
    off = SEG_HDR;
    for (int i = 0; i < 2; i++)
        off += FRAME_PREFIX + get_u32((uint8_t *)orig.data + off);
    orig.data[off + FRAME_HDR + 8] ^= 1;
    write_file(path, (const uint8_t *)orig.data, orig.len);
    l = open_log(NULL, dir, false, 4096);
    sl_diag_init(&d);
    CHECK_INT(shardlog_read(l, 1, 0, 0, collect, &g, &next, &d), SL_ERR_CORRUPT);
    CHECK_INT(g.n, 2);
    CHECK_INT(next, 3);
    CHECK_STR(d.where, path);
    char want[64];
    snprintf(want, sizeof(want), "offset %zu", off);
    CHECK_HAS(d.msg, want);
    got_release(&g);
    shardlog_close(l);

    /* A broken length: misframes what follows, found when opened. */
    orig.data[off + FRAME_HDR + 8] ^= 1;
    orig.data[off] ^= 4;
    write_file(path, (const uint8_t *)orig.data, orig.len);
    sl_diag_init(&d);
    CHECK_INT(shardlog_open(NULL, dir, &o, &l2, &d), SL_ERR_CORRUPT);
    CHECK_STR(d.where, path);
    CHECK_HAS(d.msg, "is corrupt at offset");
    sl_buf_release(&orig);
    free(path);
}

TEST(seek_time)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 1 << 20);
    uint64_t seq;

    /* 20 batches of 300 records of about 1 KiB, 10 s apart: several
     * segments, and several index entries in each. */
    for (int b = 0; b < 20; b++)
        append_n(l, 1 + (uint64_t)b * 300, 300, 10000 * (b + 1), 2000);
    CHECK(count_segments(dir) > 3);
    CHECK_INT(shardlog_seek_time(l, 0, &seq, NULL), 0);
    CHECK_INT(seq, 1);
    CHECK_INT(shardlog_seek_time(l, 10000, &seq, NULL), 0);
    CHECK_INT(seq, 1);
    for (int b = 1; b < 20; b++) {
        CHECK_INT(shardlog_seek_time(l, 10000 * (b + 1), &seq, NULL), 0);
        CHECK_INT(seq, 1 + (uint64_t)b * 300);
        CHECK_INT(shardlog_seek_time(l, 10000 * (b + 1) - 1, &seq, NULL), 0);
        CHECK_INT(seq, 1 + (uint64_t)b * 300);
    }
    CHECK_INT(shardlog_seek_time(l, 200001, &seq, NULL), 0);
    CHECK_INT(seq, 6001);
    shardlog_close(l);
}

TEST(trim_rules)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 4096);
    struct shardlog_info info;
    size_t nseg;

    /* Batches of ~3 KiB at times 1000, 2000, ...: one segment each. */
    for (int b = 0; b < 10; b++)
        append_n(l, 1 + (uint64_t)b * 10, 10, 1000 * (b + 1), 500);
    nseg = count_segments(dir);
    CHECK_INT(nseg, 10);
    /* Nothing older than the oldest record. */
    CHECK_INT(shardlog_trim(l, 1000, 0, NULL), 0);
    CHECK_INT(count_segments(dir), 10);
    /* Segments whose newest record is before 3500: the first three. */
    CHECK_INT(shardlog_trim(l, 3500, 0, NULL), 0);
    CHECK_INT(count_segments(dir), 7);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 31);
    /* Undelivered records are kept: keep_from 52 stops at segment 41..50. */
    CHECK_INT(shardlog_trim(l, INT64_MAX, 52, NULL), 0);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 51);
    /* Expired and delivered, the active segment is sealed and dropped, an
     * empty one takes its place. */
    CHECK_INT(shardlog_trim(l, INT64_MAX, 101, NULL), 0);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 101);
    CHECK_INT(info.next_seq, 101);
    CHECK_INT(count_segments(dir), 1);
    /* An empty active segment is never dropped. */
    CHECK_INT(shardlog_trim(l, INT64_MAX, 0, NULL), 0);
    CHECK_INT(count_segments(dir), 1);
    /* The active segment with records not yet expired stays. */
    append_n(l, 101, 3, 20000, 500);
    CHECK_INT(shardlog_trim(l, 15000, 0, NULL), 0);
    shardlog_info(l, &info);
    CHECK_INT(info.first_seq, 101);
    shardlog_close(l);
}

TEST(read_limits)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 0);
    struct got g = {0};
    uint64_t next;

    append_n(l, 1, 50, 1000, 300);
    CHECK_INT(shardlog_read(l, 1, 10, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 10);
    CHECK_INT(next, 11);
    got_release(&g);
    /* Bytes count keys and data; the first record always comes. */
    CHECK_INT(shardlog_read(l, 11, 0, 1, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 1);
    CHECK_INT(next, 12);
    got_release(&g);
    {
        uint8_t buf[300];
        size_t want = 0;
        int k = 0;

        for (uint64_t p = 12;; p++, k++) {
            size_t len = payload(p, buf, 300) + (size_t)snprintf(NULL, 0, "key-%" PRIu64, p);

            if (want + len > 1000)
                break;
            want += len;
        }
        CHECK_INT(shardlog_read(l, 12, 0, 1000, collect, &g, &next, NULL), 0);
        CHECK_INT(g.n, k);
        CHECK_INT(next, 12 + (uint64_t)k);
        got_release(&g);
    }
    /* The record fn refuses stays unread; a negative refusal is the result. */
    g.stop_after = 3;
    g.stop_rc = 1;
    CHECK_INT(shardlog_read(l, 1, 0, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 3);
    CHECK_INT(next, 4);
    got_release(&g);
    g.stop_after = 2;
    g.stop_rc = -7;
    CHECK_INT(shardlog_read(l, 5, 0, 0, collect, &g, &next, NULL), -7);
    CHECK_INT(next, 7);
    got_release(&g);
    /* Past the end: nothing, and next stays. */
    CHECK_INT(shardlog_read(l, 51, 0, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 0);
    CHECK_INT(next, 51);
    shardlog_close(l);
}

TEST(readers_see_only_durable)
{
    const char *dir = new_dir();
    struct shardlog_syncer *s;
    struct shardlog *l;
    struct shardlog_info info;
    struct got g = {0};
    uint64_t next;

    CHECK_INT(shardlog_syncer_start(&s, NULL), 0);
    l = open_log(s, dir, true, 0);
    append_n(l, 1, 5, 1000, 100);
    CHECK_INT(shardlog_wait(l, 5, NULL), 0);

    pthread_mutex_lock(&s->mu);
    s->hold = true;
    pthread_mutex_unlock(&s->mu);
    append_n(l, 6, 5, 1000, 100);
    shardlog_info(l, &info);
    CHECK_INT(info.next_seq, 11);
    CHECK_INT(info.durable_seq, 5);
    CHECK_INT(shardlog_read(l, 1, 0, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 5);
    CHECK_INT(next, 6);
    got_release(&g);
    CHECK_INT(shardlog_read(l, 6, 0, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 0);

    pthread_mutex_lock(&s->mu);
    s->hold = false;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    CHECK_INT(shardlog_wait(l, 10, NULL), 0);
    read_all(l, 1, &g);
    check_payloads(&g, 1, 10, 100);
    got_release(&g);
    shardlog_close(l);
    shardlog_syncer_stop(s);
}

TEST(failed_fsync_is_sticky)
{
    const char *dir = new_dir();
    struct shardlog_syncer *s;
    struct shardlog *l;
    struct got g = {0};
    struct sl_diag d;
    uint64_t next, seq;
    struct shardlog_rec r = {"k", 1, "v", 1};

    CHECK_INT(shardlog_syncer_start(&s, NULL), 0);
    l = open_log(s, dir, true, 0);
    append_n(l, 1, 2, 1000, 100);
    CHECK_INT(shardlog_wait(l, 2, NULL), 0);
    arm("eio@shardlog.fsync:1");
    append_n(l, 3, 2, 1000, 100);
    sl_diag_init(&d);
    CHECK_INT(shardlog_wait(l, 4, &d), -EIO);
    arm(NULL);
    /* Nothing after the failure is readable, acknowledged or appended. */
    CHECK_INT(shardlog_read(l, 1, 0, 0, collect, &g, &next, NULL), 0);
    CHECK_INT(g.n, 2);
    got_release(&g);
    CHECK_INT(shardlog_wait(l, 2, NULL), 0);
    CHECK_INT(shardlog_append(l, &r, 1, 1000, &seq, NULL), -EIO);
    shardlog_close(l);
    shardlog_syncer_stop(s);
}

TEST(enospc_leaves_nothing)
{
    const char *dir = new_dir();
    struct shardlog *l = open_log(NULL, dir, false, 0);
    struct shardlog_rec recs[20];
    struct shardlog_info before, after;
    struct got g = {0};
    struct stat st;
    uint64_t seq = 0;
    char *path;

    append_n(l, 1, 3, 1000, 100);
    shardlog_info(l, &before);
    for (int i = 0; i < 20; i++)
        recs[i] = (struct shardlog_rec){"key", 3, "0123456789", 10};
    arm("enospc@shardlog.write:1");
    CHECK_INT(shardlog_append(l, recs, 20, 5000, &seq, NULL), -ENOSPC);
    arm(NULL);
    shardlog_info(l, &after);
    CHECK_INT(after.next_seq, before.next_seq);
    CHECK_INT(after.bytes, before.bytes);
    CHECK_INT(after.last_arrival_ms, 1000);
    path = segment_file(dir, 0);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_size, before.bytes);
    free(path);
    /* The log goes on with the same numbers. */
    CHECK_INT(append_n(l, 4, 2, 1000, 100), 4);
    shardlog_close(l);
    l = open_log(NULL, dir, false, 0);
    read_all(l, 1, &g);
    check_payloads(&g, 1, 5, 100);
    got_release(&g);
    shardlog_close(l);
}

/* Concurrent writers: payload = thread << 32 | counter. */
struct writer {
    struct shardlog *l;
    int id;
    int batches;
    int per_batch;
    int rc;
};

static void *
writer_main(void *arg)
{
    struct writer *w = arg;
    struct shardlog_rec recs[64];
    uint64_t vals[64];

    for (int b = 0; b < w->batches && w->rc == 0; b++) {
        uint64_t seq;

        for (int i = 0; i < w->per_batch; i++) {
            vals[i] = (uint64_t)w->id << 32 | (uint64_t)(b * w->per_batch + i);
            recs[i] = (struct shardlog_rec){"pk", 2, &vals[i], sizeof(vals[i])};
        }
        w->rc = shardlog_append(w->l, recs, (size_t)w->per_batch, 1000 + b, &seq, NULL);
        if (w->rc == 0)
            w->rc = shardlog_wait(w->l, seq + (uint64_t)w->per_batch - 1, NULL);
    }
    return NULL;
}

struct order_check {
    int64_t last[8];
    uint64_t n;
    uint64_t expect_seq;
    int bad;
};

static int
check_order(void *arg, const struct shardlog_entry *e)
{
    struct order_check *c = arg;
    uint64_t v;
    unsigned t;

    if (e->seq != c->expect_seq || e->data_len != 8) {
        c->bad++;
        return -1;
    }
    memcpy(&v, e->data, 8);
    t = (unsigned)(v >> 32);
    if (t >= 8 || (int64_t)(uint32_t)v != c->last[t] + 1) {
        c->bad++;
        return -1;
    }
    c->last[t]++;
    c->expect_seq++;
    c->n++;
    return 0;
}

TEST(concurrent_appends)
{
    const char *dir = new_dir();
    struct shardlog_syncer *s;
    struct shardlog *l;
    struct writer w[8];
    pthread_t th[8];
    struct order_check c = {.expect_seq = 1};
    uint64_t next = 1, rounds, syncs;

    CHECK_INT(shardlog_syncer_start(&s, NULL), 0);
    l = open_log(s, dir, true, 64 << 10);
    for (int i = 0; i < 8; i++) {
        c.last[i] = -1;
        w[i] = (struct writer){l, i, 60, 1 + i * 7, 0};
        CHECK_INT(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_INT(w[i].rc, 0);
    }
    for (;;) {
        uint64_t before = c.n;

        CHECK_INT(shardlog_read(l, next, 500, 0, check_order, &c, &next, NULL), 0);
        if (c.n == before)
            break;
    }
    CHECK_INT(c.bad, 0);
    for (int i = 0; i < 8; i++)
        CHECK_INT(c.last[i], 60 * (1 + i * 7) - 1);
    shardlog_syncer_stats(s, &rounds, &syncs);
    /* Group commit: fewer syncs than the 480 waits. */
    CHECK(syncs < 480);
    shardlog_close(l);
    shardlog_syncer_stop(s);
}

/*
 * kill -9: a child appends from four threads and reports every record it
 * saw acknowledged (seq and a hash of key and data) through a pipe; the
 * parent kills it at a random moment after the first acknowledgements have
 * come through the pipe, reopens the log and finds every acknowledged
 * record with its data and number.  Rounds share the log, so each also
 * checks that numbers are not reused after a crash.
 *
 * The kill waits for the first acknowledgement, not for a fixed time: on a
 * busy machine the child may need longer than any fixed delay to start,
 * open the log and finish its first sync.
 */
struct ack {
    uint64_t seq;
    uint64_t hash;
};

/* How long the parent waits for a child's first acknowledgement. */
#define KILL9_FIRST_ACK_DEADLINE 60.0

struct kid {
    struct shardlog *l;
    int fd;
    int id;
};

static void *
kid_main(void *arg)
{
    struct kid *k = arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(k->id + 1) ^ (uint64_t)getpid();
    uint8_t data[20][300];
    struct shardlog_rec recs[20];
    struct ack acks[20];

    for (;;) {
        size_t n;
        uint64_t seq;

        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        n = 1 + (size_t)(rng >> 33) % 20;
        for (size_t i = 0; i < n; i++) {
            size_t len;

            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            len = (size_t)(rng >> 40) % 300;
            for (size_t b = 0; b < len; b++)
                data[i][b] = (uint8_t)(rng >> (b % 56));
            recs[i] = (struct shardlog_rec){"kid", 3, data[i], len};
        }
        if (shardlog_append(k->l, recs, n, (int64_t)time(NULL) * 1000, &seq, NULL) != 0 ||
            shardlog_wait(k->l, seq + n - 1, NULL) != 0)
            _exit(3);
        for (size_t i = 0; i < n; i++)
            acks[i] = (struct ack){seq + i,
                                   sl_hash64(recs[i].data, recs[i].data_len,
                                             sl_hash64("kid", 3, 0))};
        /* At most PIPE_BUF: one atomic write per batch. */
        if (write(k->fd, acks, n * sizeof(acks[0])) != (ssize_t)(n * sizeof(acks[0])))
            _exit(4);
    }
    return NULL;
}

static void
kid_run(const char *dir, int fd)
{
    struct shardlog_syncer *s;
    struct shardlog *l;
    struct shardlog_opts o = {.fsync = true, .segment_bytes = 256 << 10};
    struct kid k[4];
    pthread_t th[4];

    if (shardlog_syncer_start(&s, NULL) != 0 || shardlog_open(s, dir, &o, &l, NULL) != 0)
        _exit(2);
    for (int i = 0; i < 4; i++) {
        k[i] = (struct kid){l, fd, i};
        pthread_create(&th[i], NULL, kid_main, &k[i]);
    }
    for (;;)
        pause();
}

TEST(kill9_keeps_acknowledged)
{
    const char *dir = new_dir();
    struct ack *acks = NULL;
    size_t nack = 0, ackcap = 0;
    uint64_t seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();

    CHECK_INT(sl_mkdirs(dir, 0755, NULL), 0);
    for (int round = 0; round < 5; round++) {
        int p[2], status;
        pid_t pid;
        double until;
        struct shardlog *l;
        struct got g = {0};
        size_t before = nack;

        CHECK_INT(pipe(p), 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            kid_run(dir, p[1]);
        }
        close(p[1]);
        seed = seed * 6364136223846793005ull + 1;
        /* Until the first acknowledgement (60 s at most: a child that never
         * acknowledges fails the check below), then 50-305 ms more. */
        until = sl_mono_sec() + KILL9_FIRST_ACK_DEADLINE;
        for (bool acked = false;;) {
            struct pollfd pf = {p[0], POLLIN, 0};
            double left = until - sl_mono_sec();
            ssize_t r;

            if (left <= 0)
                break;
            if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
                continue;
            SL_GROW(acks, ackcap, nack + 256);
            r = read(p[0], acks + nack, 256 * sizeof(*acks));
            if (r <= 0)
                break;
            CHECK_INT(r % (ssize_t)sizeof(*acks), 0);
            nack += (size_t)r / sizeof(*acks);
            if (!acked) {
                acked = true;
                until = sl_mono_sec() + 0.05 + (double)(seed >> 40 & 0xff) / 1000.0;
            }
        }
        kill(pid, SIGKILL);
        for (;;) {
            ssize_t r;

            SL_GROW(acks, ackcap, nack + 256);
            r = read(p[0], acks + nack, 256 * sizeof(*acks));
            if (r <= 0)
                break;
            nack += (size_t)r / sizeof(*acks);
        }
        close(p[0]);
        CHECK_INT(waitpid(pid, &status, 0), pid);
        CHECK(WIFSIGNALED(status));
        CHECK(nack > before);
        fprintf(stderr, "kill9 round %d: %zu acknowledged\n", round, nack - before);

        l = open_log(NULL, dir, false, 256 << 10);
        read_all(l, 1, &g);
        for (size_t i = 1; i < g.n; i++)
            CHECK(g.seq[i] > g.seq[i - 1]);
        for (size_t i = 0; i < nack; i++) {
            size_t lo = 0, hi = g.n;

            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (g.seq[mid] < acks[i].seq)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            CHECK(lo < g.n && g.seq[lo] == acks[i].seq);
            CHECK(g.hash[lo] == acks[i].hash);
        }
        got_release(&g);
        shardlog_close(l);
    }
    free(acks);
    sl_rmtree(base_dir);
}
