/*
 * shardlog/fuzz.c - libFuzzer target for shard log recovery and reading.
 *
 * Each input is a segment file, opened twice in a private temp folder:
 *
 *   newest   as the log's only (so newest) segment: recovery checksums it
 *            and cuts whatever is bad from the first bad frame on; the open
 *            must succeed, then every record is read and one appended;
 *   sealed   followed by an empty newer segment: it is then a sealed
 *            segment and must be whole, so the open or the read may fail
 *            with SL_ERR_CORRUPT, but nothing else.
 *
 * What is read must come in strictly increasing sequence order with
 * arrival times that never go back, and every byte of every key and data
 * is touched so the sanitizers see a pointer outside the read window.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/fs.h"
#include "ingest/shardlog.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];
static volatile uint64_t sink;

struct walk {
    uint64_t last_seq;
    int64_t last_ms;
    uint64_t n;
};

static int
visit(void *arg, const struct shardlog_entry *e)
{
    struct walk *w = arg;
    uint64_t h = 0;

    FZ_ASSERT(e->seq > w->last_seq);
    FZ_ASSERT(e->arrival_ms >= w->last_ms);
    FZ_ASSERT(e->pk_len >= 1 && e->pk_len <= 256);
    FZ_ASSERT(e->data_len <= SHARDLOG_MAX_DATA);
    for (size_t i = 0; i < e->pk_len; i++)
        h = h * 31 + (uint8_t)e->pk[i];
    for (size_t i = 0; i < e->data_len; i++)
        h = h * 31 + e->data[i];
    sink += h;
    w->last_seq = e->seq;
    w->last_ms = e->arrival_ms;
    w->n++;
    return 0;
}

static void
cleanup(void)
{
    sl_rmtree(root);
}

static void
put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[160];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FZ_ASSERT(fd >= 0);
    FZ_ASSERT(sl_write_all(fd, p, n) == 0);
    close(fd);
}

/* Read the log from seq from on; the result of the last read call. */
static int
read_all(struct shardlog *l, uint64_t from, struct walk *w)
{
    uint64_t next = from;
    int rc;

    for (;;) {
        uint64_t before = w->n;

        rc = shardlog_read(l, next, 7, 4096, visit, w, &next, NULL);
        if (rc != 0 || w->n == before)
            return rc;
    }
}

/* Whether a 16-byte header is right for segment 1, or all zeros. */
static bool
header_ok(const uint8_t *data)
{
    static const uint8_t want[16] = {'S', 'L', 'S', 'H', 'L', 'O', 'G', '1', 1};
    static const uint8_t zero[16];

    return memcmp(data, want, 16) == 0 || memcmp(data, zero, 16) == 0;
}

static void
run(const uint8_t *data, size_t size, bool sealed)
{
    static const uint8_t empty_hdr[16] = {'S', 'L', 'S', 'H', 'L', 'O', 'G', '1',
                                          /* 10^19, past any number in a seed */
                                          0x00, 0x00, 0xe8, 0x89, 0x04, 0x23, 0xc7, 0x8a};
    struct shardlog_opts o = {.fsync = false, .segment_bytes = 1 << 20};
    struct shardlog_info info;
    struct shardlog *l = NULL;
    struct walk w = {0, INT64_MIN, 0};
    char dir[128];
    uint64_t seq;
    int rc;

    snprintf(dir, sizeof(dir), "%s/log", root);
    sl_rmtree(dir);
    FZ_ASSERT(sl_mkdirs(dir, 0755, NULL) == 0);
    put(dir, "00000000000000000001.seg", data, size);
    if (sealed)
        put(dir, "10000000000000000000.seg", empty_hdr, sizeof(empty_hdr));
    rc = shardlog_open(NULL, dir, &o, &l, NULL);
    /* A crash can cut a newest segment's header short or leave it zeros,
     * never write a wrong one: that is corruption. */
    if (rc == SL_ERR_CORRUPT && (sealed || (size >= 16 && !header_ok(data))))
        return;
    FZ_ASSERT(rc == 0);
    rc = read_all(l, 0, &w);
    FZ_ASSERT(rc == 0 || (sealed && rc == SL_ERR_CORRUPT));
    shardlog_info(l, &info);
    FZ_ASSERT(info.durable_seq + 1 == info.next_seq);
    FZ_ASSERT(info.first_seq <= info.next_seq);
    if (rc == 0) {
        struct shardlog_rec r = {"k", 1, "v", 1};

        FZ_ASSERT(shardlog_seek_time(l, w.last_ms, &seq, NULL) == 0);
        FZ_ASSERT(seq <= info.next_seq);
        FZ_ASSERT(shardlog_append(l, &r, 1, 0, &seq, NULL) == 0);
        FZ_ASSERT(seq == info.next_seq);
        FZ_ASSERT(read_all(l, seq, &w) == 0 && w.last_seq == seq);
    }
    shardlog_close(l);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (root[0] == '\0') {
        snprintf(root, sizeof(root), "/tmp/sluice-fuzz-shardlog-%d", (int)getpid());
        sl_rmtree(root);
        FZ_ASSERT(sl_mkdirs(root, 0755, NULL) == 0);
        atexit(cleanup);
    }
    run(data, size, false);
    run(data, size, true);
    return 0;
}
