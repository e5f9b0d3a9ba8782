/*
 * shardlog.c - the durable, ordered log of one stream shard (see shardlog.h).
 *
 * On disk, a log is a folder of segment files named by the sequence number
 * of their first record, zero-padded to 20 digits so that names sort:
 *
 *   <dir>/lock                         flock()ed while a process has it open
 *   <dir>/00000000000000000001.seg     sealed (read-only from now on)
 *   <dir>/00000000000000052001.seg     the active segment, appended to
 *
 * A segment is a 16-byte header followed by frames, all integers little
 * endian:
 *
 *   segment header   0  8  magic "SLSHLOG1"
 *                    8  8  sequence number of the first record (= the name)
 *   frame            0  4  len: bytes after the first 8 (18 + pk_len + data_len)
 *                    4  4  crc32 (zlib) of bytes [0,4), [24,end), [8,24)
 *                    8  8  seq
 *                   16  8  arrival ms
 *                   24  2  pk_len (1..256)
 *                   26     pk, then data
 *
 * The checksum takes the sequence number and arrival time last so that an
 * append can frame and checksum its records before it takes the log's
 * mutex, and finish each checksum with 16 bytes once the numbers are known:
 * the time spent under the mutex is one write plus a pass over the headers.
 *
 * Invariants:
 *  1. Within a segment, sequence numbers are consecutive from its name and
 *     arrival times never go down; across segments both keep growing (a
 *     crash may leave a gap in the numbers between two segments, never a
 *     repeat).
 *  2. Every segment but the last is sealed: it was fdatasync()ed whole
 *     before the next one was created, so a torn frame can only be in the
 *     last one, and a bad frame anywhere else is corruption.
 *  3. The last segment is never deleted, so its name keeps the next
 *     sequence number durable even when it holds no record: trim seals a
 *     full-expired active segment by starting an empty one first.
 *  4. Every append is one pwrite() at the end of the active segment, made
 *     under the mutex; if it fails, the file is cut back to where it was,
 *     and if that fails too the log refuses all further appends.
 *  5. durable_seq only grows, and only after an fdatasync() that covered
 *     the records (or, with fsync off, after their write).  Readers never
 *     go past it.  After a failed fdatasync the log refuses further appends
 *     and wakes its waiters with the error.
 *
 * Each segment keeps a sparse in-memory index, one entry per INDEX_STEP
 * bytes, so finding a sequence number or a time is a binary search and a
 * scan of at most INDEX_STEP bytes.  The index is rebuilt on open by
 * scanning frame headers; this costs one sequential read of the retained
 * log per process start, and buys having no second file that could
 * disagree with the segments (NEEDSWORK: a sidecar written at seal time
 * would make opening a large log cheap).  The last segment's frames are
 * checksummed on open; sealed segments' checksums are checked when read.
 *
 * Group commit: one syncer thread serves every log opened with fsync.  An
 * append marks its log dirty (queueing it once per round); each round the
 * syncer takes the queue, and for each log notes the newest written record,
 * fdatasync()s the active segment outside the log's mutex (appends go on
 * meanwhile and join the next round) and then wakes the log's waiters.
 *
 * Lock order: a log's mu, then the syncer's mu.  The syncer never takes a
 * log's mu while holding its own.
 */
#include "ingest/shardlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/fault.h"
#include "core/fs.h"
#include "core/mem.h"
#include "core/banned.h"

#define SEG_MAGIC "SLSHLOG1"
#define SEG_HDR 16u
#define FRAME_PREFIX 8u                    /* len and crc */
#define FRAME_FIXED 18u                    /* seq, arrival, pk_len */
#define FRAME_HDR (FRAME_PREFIX + FRAME_FIXED)
#define MAX_PK 256u
#define MAX_LEN (FRAME_FIXED + MAX_PK + SHARDLOG_MAX_DATA)
#define INDEX_STEP (1u << 20)
#define READ_CHUNK (64u << 10)
#define SCAN_CHUNK (1u << 20)
#define DEFAULT_SEGMENT (64u << 20)

/* ------------------------------------------------------------------------
 * Little-endian fields
 */

static void
put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t
get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* The checksum of a whole frame f (len = its len field), in the order the
 * format defines. */
static uint32_t
frame_crc(const uint8_t *f, uint32_t len)
{
    uLong c = crc32(0L, f, 4);

    c = crc32(c, f + FRAME_HDR - 2, len - (FRAME_FIXED - 2));
    return (uint32_t)crc32(c, f + FRAME_PREFIX, 16);
}

/* ------------------------------------------------------------------------
 * Data structures
 */

/* A point in a segment from which frames can be scanned. */
struct idx_ent {
    uint64_t off; /* file offset of a frame */
    uint64_t seq; /* its sequence number */
    int64_t ms;   /* its arrival time */
};

struct seg {
    uint64_t base;       /* sequence number of the first record: the name */
    uint64_t last;       /* of the newest record; base - 1 while empty */
    int64_t last_ms;     /* arrival of the newest record (of the log's newest
                          * record before this segment while empty) */
    uint64_t size;       /* bytes of header and whole frames */
    struct idx_ent *idx; /* sparse index, by offset */
    size_t nidx;         /* entries used */
    size_t idxcap;       /* entries allocated */
};

struct shardlog {
    pthread_mutex_t mu;         /* guards everything below but the syncer's part */
    pthread_cond_t durable_cv;  /* durable_seq grew or err was set */
    struct shardlog_syncer *syncer; /* NULL with fsync off */
    char *dir;                  /* the log's folder */
    bool fsync;                 /* acknowledge only after fdatasync */
    uint64_t seg_bytes;         /* roll past this size */
    int lock_fd;                /* <dir>/lock, flock()ed */
    int fd;                     /* the active (last) segment, read-write */
    struct seg *segs;           /* oldest first; the last one is active */
    size_t nseg;                /* segments used */
    size_t segcap;              /* segments allocated */
    uint64_t next_seq;          /* what the next append gets */
    uint64_t durable_seq;       /* newest durable record; next_seq - 1 at most */
    int64_t last_ms;            /* arrival of the newest record; 0 if none */
    uint64_t bytes;             /* sum of segment sizes */
    int err;                    /* sticky failure: appends refused */
    bool queued;                /* waits for the syncer's next round */

    /* Owned by the syncer's mu. */
    bool in_round;              /* the syncer is working on it */
};

struct shardlog_syncer {
    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t work;        /* a log was queued, or stop was asked */
    pthread_cond_t idle;        /* a log left a round */
    pthread_t thread;           /* the syncer */
    struct shardlog **queue;    /* logs written since their last round */
    size_t nqueue;              /* entries used */
    size_t qcap;                /* entries allocated */
    bool stop;                  /* finish what is queued and exit */
    bool hold;                  /* tests only: no round starts while set */
    uint64_t rounds;            /* rounds completed, for tests and figures */
    uint64_t syncs;             /* fdatasync calls made by rounds */
};

static char *
seg_path(const struct shardlog *l, uint64_t base)
{
    return sl_printf("%s/%020" PRIu64 ".seg", l->dir, base);
}

static void
seg_add_index(struct seg *s, uint64_t off, uint64_t seq, int64_t ms)
{
    if (s->nidx > 0 && off < s->idx[s->nidx - 1].off + INDEX_STEP)
        return;
    SL_GROW(s->idx, s->idxcap, s->nidx + 1);
    s->idx[s->nidx++] = (struct idx_ent){off, seq, ms};
}

/* The offset to scan from for the first record with sequence >= seq. */
static uint64_t
seg_find_seq(const struct seg *s, uint64_t seq)
{
    size_t lo = 0, hi = s->nidx;

    /* The last entry with .seq <= seq. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->idx[mid].seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? SEG_HDR : s->idx[lo - 1].off;
}

/* The offset to scan from for the first record arriving at or after ms. */
static uint64_t
seg_find_ms(const struct seg *s, int64_t ms)
{
    size_t lo = 0, hi = s->nidx;

    /* The last entry with .ms < ms; every record before it is older. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->idx[mid].ms < ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? SEG_HDR : s->idx[lo - 1].off;
}

/* The segment that would hold seq: the last with base <= seq, or 0. */
static size_t
log_find_seg(const struct shardlog *l, uint64_t seq)
{
    size_t lo = 0, hi = l->nseg;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->segs[mid].base <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : lo - 1;
}

static uint64_t
log_first_seq(const struct shardlog *l)
{
    for (size_t i = 0; i < l->nseg; i++)
        if (l->segs[i].last >= l->segs[i].base)
            return l->segs[i].base;
    return l->next_seq;
}

/* ------------------------------------------------------------------------
 * Frame scanning: a window over one file, read with pread.  The window
 * grows only to hold one whole frame, so memory is bounded by the largest
 * record.
 */

struct frame {
    uint64_t off;     /* where it starts */
    uint64_t total;   /* bytes, prefix included */
    uint64_t seq;
    int64_t ms;
    const char *pk;   /* NULL unless the body was checked */
    size_t pk_len;
    const uint8_t *data;
    size_t data_len;
};

struct scan {
    int fd;
    uint64_t pos;   /* offset of the next frame */
    uint64_t end;   /* no frame extends past this */
    uint8_t *buf;   /* file bytes [boff, boff + blen) */
    size_t cap;     /* bytes allocated to buf */
    size_t chunk;   /* how much to read ahead at least */
    uint64_t boff;
    size_t blen;
};

enum { SCAN_END = 0, SCAN_FRAME = 1, SCAN_BAD = 2 };

static void
scan_init(struct scan *sc, int fd, uint64_t pos, uint64_t end, size_t chunk)
{
    memset(sc, 0, sizeof(*sc));
    sc->fd = fd;
    sc->pos = pos;
    sc->end = end;
    sc->chunk = chunk;
}

static void
scan_release(struct scan *sc)
{
    free(sc->buf);
    sc->buf = NULL;
}

/* Make [off, off + n) available at sc->buf + (off - boff); 1 if it is, 0 if
 * the file ends first, or -errno. */
static int
scan_need(struct scan *sc, uint64_t off, size_t n)
{
    size_t want, got = 0;

    if (off >= sc->boff && off + n <= sc->boff + sc->blen)
        return 1;
    if (off + n > sc->end)
        return 0;
    if (sc->cap < n || sc->cap < sc->chunk) {
        sc->cap = n > sc->chunk ? n : sc->chunk;
        free(sc->buf);
        sc->buf = sl_malloc(sc->cap);
    }
    want = sc->end - off < sc->cap ? (size_t)(sc->end - off) : sc->cap;
    while (got < want) {
        ssize_t r = pread(sc->fd, sc->buf + got, want - got, (off_t)(off + got));

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    sc->boff = off;
    sc->blen = got;
    return got >= n ? 1 : 0;
}

/*
 * The next frame at sc->pos: SCAN_FRAME (and sc->pos moves past it),
 * SCAN_END at sc->end, SCAN_BAD if what is there is not a whole, valid
 * frame (*why says what), or -errno.  With check, the body is read and
 * checksummed and f->pk and f->data point into the window until the next
 * call; without, only the header is read.
 */
static int
scan_next(struct scan *sc, bool check, struct frame *f, const char **why)
{
    const uint8_t *p;
    uint32_t len;
    int rc;

    if (sc->pos == sc->end)
        return SCAN_END;
    rc = scan_need(sc, sc->pos, FRAME_HDR);
    if (rc <= 0) {
        *why = "a frame header is cut short";
        return rc < 0 ? rc : SCAN_BAD;
    }
    p = sc->buf + (sc->pos - sc->boff);
    len = get_u32(p);
    f->pk_len = get_u16(p + 24);
    if (len < FRAME_FIXED + 1 || len > MAX_LEN || f->pk_len < 1 || f->pk_len > MAX_PK ||
        f->pk_len > len - FRAME_FIXED) {
        *why = "a frame header has impossible lengths";
        return SCAN_BAD;
    }
    f->off = sc->pos;
    f->total = FRAME_PREFIX + (uint64_t)len;
    f->seq = get_u64(p + 8);
    f->ms = (int64_t)get_u64(p + 16);
    f->data_len = len - FRAME_FIXED - f->pk_len;
    f->pk = NULL;
    f->data = NULL;
    if (f->off + f->total > sc->end) {
        *why = "a frame is cut short";
        return SCAN_BAD;
    }
    if (check) {
        rc = scan_need(sc, f->off, (size_t)f->total);
        if (rc <= 0) {
            *why = "a frame is cut short";
            return rc < 0 ? rc : SCAN_BAD;
        }
        p = sc->buf + (f->off - sc->boff);
        if (frame_crc(p, len) != get_u32(p + 4)) {
            *why = "a frame fails its checksum";
            return SCAN_BAD;
        }
        f->pk = (const char *)p + FRAME_HDR;
        f->data = p + FRAME_HDR + f->pk_len;
    }
    sc->pos += f->total;
    return SCAN_FRAME;
}

static int
corrupt(struct sl_diag *d, const char *path, uint64_t off, const char *why)
{
    sl_fail(d, SL_ERR_CORRUPT, "shard log segment '%s' is corrupt at offset %" PRIu64, path,
            off);
    sl_diag_detail(d, "At offset %" PRIu64 " %s.", off, why);
    sl_diag_at(d, path, 0, 0, NULL);
    return SL_ERR_CORRUPT;
}

/* ------------------------------------------------------------------------
 * The syncer
 */

/* Sync l if it has records not yet durable; whether it called fdatasync. */
static bool
sync_log(struct shardlog *l)
{
    uint64_t target;
    int fd, rc;

    pthread_mutex_lock(&l->mu);
    l->queued = false;
    target = l->next_seq - 1;
    if (l->err || target <= l->durable_seq) {
        pthread_mutex_unlock(&l->mu);
        return false;
    }
    /* Our own descriptor: a roll may close the log's while we sync.  Records
     * up to target are in this segment or in sealed ones, already synced. */
    fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 0);
    pthread_mutex_unlock(&l->mu);

    rc = fd < 0 ? -errno : sl_fault("shardlog.fsync");
    if (rc == 0 && fdatasync(fd) < 0)
        rc = -errno;
    if (fd >= 0)
        close(fd);

    pthread_mutex_lock(&l->mu);
    if (rc < 0) {
        if (l->err == 0)
            l->err = rc;
    } else if (target > l->durable_seq) {
        l->durable_seq = target;
    }
    pthread_cond_broadcast(&l->durable_cv);
    pthread_mutex_unlock(&l->mu);
    return true;
}

static void *
syncer_main(void *arg)
{
    struct shardlog_syncer *s = arg;
    struct shardlog **batch = NULL;
    size_t cap = 0;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        size_t n;

        while ((s->nqueue == 0 || s->hold) && !s->stop)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->nqueue == 0)
            break;
        n = s->nqueue;
        SL_GROW(batch, cap, n);
        memcpy(batch, s->queue, n * sizeof(*batch));
        s->nqueue = 0;
        for (size_t i = 0; i < n; i++)
            batch[i]->in_round = true;
        pthread_mutex_unlock(&s->mu);

        for (size_t i = 0; i < n; i++) {
            bool synced = sync_log(batch[i]);

            pthread_mutex_lock(&s->mu);
            s->syncs += synced;
            batch[i]->in_round = false;
            pthread_cond_broadcast(&s->idle);
            pthread_mutex_unlock(&s->mu);
        }

        pthread_mutex_lock(&s->mu);
        s->rounds++;
    }
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

int
shardlog_syncer_start(struct shardlog_syncer **out, struct sl_diag *d)
{
    struct shardlog_syncer *s = sl_calloc(1, sizeof(*s));
    int rc;

    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->idle, NULL);
    rc = pthread_create(&s->thread, NULL, syncer_main, s);
    if (rc != 0) {
        pthread_cond_destroy(&s->idle);
        pthread_cond_destroy(&s->work);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return sl_fail(d, -rc, "cannot start the shard log syncer: %s", strerror(rc));
    }
    *out = s;
    return 0;
}

void
shardlog_syncer_stop(struct shardlog_syncer *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    free(s->queue);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void
shardlog_syncer_stats(struct shardlog_syncer *s, uint64_t *rounds, uint64_t *syncs)
{
    pthread_mutex_lock(&s->mu);
    *rounds = s->rounds;
    *syncs = s->syncs;
    pthread_mutex_unlock(&s->mu);
}

/* Queue l for the next round; called with l->mu held. */
static void
syncer_queue(struct shardlog *l)
{
    struct shardlog_syncer *s = l->syncer;

    if (l->queued)
        return;
    l->queued = true;
    pthread_mutex_lock(&s->mu);
    SL_GROW(s->queue, s->qcap, s->nqueue + 1);
    s->queue[s->nqueue++] = l;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

/* Take l out of the syncer's hands before it is freed. */
static void
syncer_forget(struct shardlog *l)
{
    struct shardlog_syncer *s = l->syncer;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nqueue; i++) {
        if (s->queue[i] == l) {
            memmove(&s->queue[i], &s->queue[i + 1], (s->nqueue - i - 1) * sizeof(*s->queue));
            s->nqueue--;
            break;
        }
    }
    while (l->in_round)
        pthread_cond_wait(&s->idle, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------------
 * Segments: creating, rolling, loading
 */

/* Create segment base, header written; the caller makes the name durable. */
static int
seg_create(struct shardlog *l, uint64_t base, int *fdp, struct sl_diag *d)
{
    char *path = seg_path(l, base);
    uint8_t hdr[SEG_HDR];
    int fd, rc = 0;

    /* A file by this name can only be a leftover of a failed roll: nothing
     * with this sequence number was ever acknowledged. */
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = sl_fail(d, -errno, "could not create shard log segment '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    memcpy(hdr, SEG_MAGIC, 8);
    put_u64(hdr + 8, base);
    if (sl_write_all(fd, hdr, sizeof(hdr)) < 0) {
        rc = sl_fail(d, -errno, "could not write shard log segment '%s': %s", path,
                     strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    *fdp = fd;
out:
    free(path);
    return rc;
}

static struct seg *
log_push_seg(struct shardlog *l, uint64_t base)
{
    struct seg *s;

    SL_GROW(l->segs, l->segcap, l->nseg + 1);
    s = &l->segs[l->nseg++];
    memset(s, 0, sizeof(*s));
    s->base = base;
    s->last = base - 1;
    s->last_ms = l->last_ms;
    s->size = SEG_HDR;
    return s;
}

/*
 * Seal the active segment and start an empty one named next_seq; called
 * with l->mu held.  A failed sync of the old segment or of the folder is
 * sticky; failing to create the new file leaves the log as it was.
 */
static int
log_roll(struct shardlog *l, struct sl_diag *d)
{
    int fd, rc;
    char *path;

    /* The old segment is whole on disk before the new name can be, so
     * that only the last segment can ever have a torn tail. */
    rc = sl_fault("shardlog.roll");
    if (rc == 0 && fdatasync(l->fd) < 0)
        rc = -errno;
    if (rc < 0) {
        path = seg_path(l, l->segs[l->nseg - 1].base);
        l->err = sl_fail(d, rc, "could not sync shard log segment '%s': %s", path,
                         sl_strerror(rc));
        free(path);
        return rc;
    }
    /* Everything written so far is durable now. */
    if (l->durable_seq < l->next_seq - 1) {
        l->durable_seq = l->next_seq - 1;
        pthread_cond_broadcast(&l->durable_cv);
    }
    rc = seg_create(l, l->next_seq, &fd, d);
    if (rc < 0)
        return rc;
    rc = sl_fsync_dir(l->dir, d);
    if (rc < 0) {
        l->err = rc;
        close(fd);
        path = seg_path(l, l->next_seq);
        unlink(path);
        free(path);
        return rc;
    }
    close(l->fd);
    l->fd = fd;
    log_push_seg(l, l->next_seq);
    l->bytes += SEG_HDR;
    return 0;
}

/*
 * Load segment file name base into a new segs entry: check its header and
 * frames and build its index.  The last segment is checksummed in full and
 * a bad tail is cut off (*fdp gets it open read-write); any other segment
 * must be whole.
 */
static int
seg_load(struct shardlog *l, uint64_t base, bool last, uint64_t *prev_seq, int *fdp,
         struct sl_diag *d)
{
    char *path = seg_path(l, base);
    uint8_t hdr[SEG_HDR];
    struct scan sc;
    struct frame f;
    struct stat st;
    const char *why = NULL;
    struct seg *s;
    uint64_t good;
    ssize_t r;
    int fd, rc;

    fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = sl_fail(d, -errno, "cannot open shard log segment '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    r = pread(fd, hdr, sizeof(hdr), 0);
    if (r < 0) {
        rc = sl_fail(d, -errno, "could not read shard log segment '%s': %s", path,
                     strerror(errno));
        goto out;
    }
    if (r < (ssize_t)SEG_HDR || memcmp(hdr, SEG_MAGIC, 8) != 0 || get_u64(hdr + 8) != base) {
        static const uint8_t zero[SEG_HDR];

        /* Only the newest segment can lack its header: cut short, or still
         * zeros after a power cut.  Either way no fdatasync ever covered it
         * (one would have covered the header too), so nothing in it was
         * acknowledged and it starts again empty. */
        if (!last || (r == (ssize_t)SEG_HDR && memcmp(hdr, zero, SEG_HDR) != 0)) {
            rc = corrupt(d, path, 0, "the segment header is not valid");
            goto out;
        }
        close(fd);
        fd = -1;
        rc = seg_create(l, base, &fd, d);
        if (rc < 0)
            goto out;
        st.st_size = SEG_HDR;
    }
    if (base <= *prev_seq) {
        rc = corrupt(d, path, 0, "the segment's first sequence number is not past the "
                                 "previous segment's records");
        goto out;
    }

    s = log_push_seg(l, base);
    scan_init(&sc, fd, SEG_HDR, (uint64_t)st.st_size, SCAN_CHUNK);
    good = SEG_HDR;
    while ((rc = scan_next(&sc, last, &f, &why)) == SCAN_FRAME) {
        if (f.seq != s->last + 1) {
            why = "the sequence number does not follow the previous record's";
            rc = SCAN_BAD;
            break;
        }
        if (f.ms < s->last_ms) {
            why = "the arrival time goes back";
            rc = SCAN_BAD;
            break;
        }
        seg_add_index(s, f.off, f.seq, f.ms);
        s->last = f.seq;
        s->last_ms = f.ms;
        good = sc.pos;
    }
    scan_release(&sc);
    if (rc < 0) {
        rc = sl_fail(d, rc, "could not read shard log segment '%s': %s", path,
                     sl_strerror(rc));
        goto out;
    }
    if (rc == SCAN_BAD && !last) {
        rc = corrupt(d, path, good, why);
        goto out;
    }
    if (rc == SCAN_BAD) {
        /* A torn tail: what a crash left of unacknowledged appends. */
        if (ftruncate(fd, (off_t)good) < 0 || (l->fsync && fdatasync(fd) < 0)) {
            rc = sl_fail(d, -errno, "could not cut the torn tail of shard log segment '%s': %s",
                         path, strerror(errno));
            goto out;
        }
    }
    s->size = good;
    l->bytes += good;
    if (s->last >= s->base) {
        *prev_seq = s->last;
        l->last_ms = s->last_ms;
    }
    rc = 0;
    if (last) {
        *fdp = fd;
        fd = -1;
    }
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Whether name is a segment's, "<20 digits>.seg"; its number in *base. */
static bool
seg_name(const char *name, uint64_t *base)
{
    uint64_t v = 0;

    if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
        return false;
    for (int i = 0; i < 20; i++) {
        unsigned dig = (unsigned)(name[i] - '0');

        if (dig > 9 || v > (UINT64_MAX - dig) / 10)
            return false;
        v = v * 10 + dig;
    }
    *base = v;
    return v > 0;
}

static int
list_segments(const char *dir, uint64_t **out, size_t *n, struct sl_diag *d)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    uint64_t *v = NULL, base;
    size_t cap = 0;

    *n = 0;
    if (dh == NULL)
        return sl_fail(d, -errno, "cannot open shard log '%s': %s", dir, strerror(errno));
    while ((e = readdir(dh)) != NULL) {
        if (!seg_name(e->d_name, &base))
            continue;
        SL_GROW(v, cap, *n + 1);
        v[(*n)++] = base;
    }
    closedir(dh);
    if (*n > 1)
        qsort(v, *n, sizeof(*v), cmp_u64);
    *out = v;
    return 0;
}

static void
log_free(struct shardlog *l)
{
    for (size_t i = 0; i < l->nseg; i++)
        free(l->segs[i].idx);
    free(l->segs);
    if (l->fd >= 0)
        close(l->fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    pthread_cond_destroy(&l->durable_cv);
    pthread_mutex_destroy(&l->mu);
    free(l->dir);
    free(l);
}

int
shardlog_open(struct shardlog_syncer *s, const char *dir, const struct shardlog_opts *o,
              struct shardlog **out, struct sl_diag *d)
{
    struct shardlog *l;
    uint64_t *bases = NULL, prev = 0;
    size_t n = 0;
    char *path;
    int rc;

    l = sl_calloc(1, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->durable_cv, NULL);
    l->dir = sl_strdup(dir);
    l->fd = -1;
    l->lock_fd = -1;
    l->fsync = o ? o->fsync : true;
    l->seg_bytes = o && o->segment_bytes ? o->segment_bytes : DEFAULT_SEGMENT;
    if (l->fsync && s == NULL) {
        rc = sl_fail(d, SL_ERR_USAGE, "cannot open shard log '%s' with fsync: no syncer", dir);
        goto fail;
    }
    l->syncer = l->fsync ? s : NULL;

    rc = sl_mkdirs(dir, 0755, d);
    if (rc < 0)
        goto fail;
    path = sl_printf("%s/lock", dir);
    l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (l->lock_fd < 0 || flock(l->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? SL_ERR_BUSY : -errno;
        rc = sl_fail(d, rc, "cannot open shard log '%s': %s", dir,
                     rc == SL_ERR_BUSY ? "it is open elsewhere" : strerror(errno));
        free(path);
        goto fail;
    }
    free(path);

    rc = list_segments(dir, &bases, &n, d);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        rc = seg_load(l, bases[i], i + 1 == n, &prev, &l->fd, d);
        if (rc < 0)
            goto fail;
    }
    if (n == 0) {
        char *parent;

        rc = seg_create(l, 1, &l->fd, d);
        if (rc < 0)
            goto fail;
        log_push_seg(l, 1);
        l->bytes = SEG_HDR;
        /* The folder may be new as well as the file. */
        parent = sl_dirname(dir);
        rc = sl_fsync_dir(dir, d);
        if (rc == 0)
            rc = sl_fsync_dir(parent, d);
        free(parent);
        if (rc < 0)
            goto fail;
    }
    {
        struct seg *a = &l->segs[l->nseg - 1];

        l->next_seq = a->last + 1;
        /* What a crash left in the page cache is made durable before
         * anyone reads it as such. */
        if (l->fsync && a->last >= a->base && fdatasync(l->fd) < 0) {
            rc = sl_fail(d, -errno, "could not sync shard log '%s': %s", dir, strerror(errno));
            goto fail;
        }
        l->durable_seq = l->next_seq - 1;
    }
    free(bases);
    *out = l;
    return 0;

fail:
    free(bases);
    log_free(l);
    return rc;
}

void
shardlog_close(struct shardlog *l)
{
    if (l == NULL)
        return;
    if (l->syncer)
        syncer_forget(l);
    log_free(l);
}

/* ------------------------------------------------------------------------
 * Appending
 */

/* Write all of buf at off; on failure cut the file back to off. */
static int
log_write(struct shardlog *l, const uint8_t *buf, size_t len, uint64_t off,
          struct sl_diag *d)
{
    size_t done = 0;
    int rc = sl_fault("shardlog.write");

    /* An injected failure still writes half, so the cut-back is tested. */
    if (rc < 0)
        len /= 2;
    while (done < len) {
        ssize_t w = pwrite(l->fd, buf + done, len - done, (off_t)(off + done));

        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        done += (size_t)w;
    }
    if (rc == 0)
        return 0;
    sl_fail(d, rc, "could not append to shard log '%s': %s", l->dir, sl_strerror(rc));
    if (ftruncate(l->fd, (off_t)off) < 0) {
        l->err = rc;
        sl_diag_detail(d, "Cutting the failed append back failed too (%s); the log refuses "
                          "appends until it is reopened.", strerror(errno));
    }
    return rc;
}

int
shardlog_append(struct shardlog *l, const struct shardlog_rec *recs, size_t n,
                int64_t now_ms, uint64_t *first_seq, struct sl_diag *d)
{
    uint8_t *buf, *p;
    uint32_t *crcs;
    size_t total = 0;
    uint64_t seq, off;
    int64_t ms;
    struct seg *a;
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (recs[i].pk_len < 1 || recs[i].pk_len > MAX_PK) {
            sl_fail(d, SL_ERR_INPUT, "cannot append a record with a %zu-byte partition key",
                    recs[i].pk_len);
            sl_diag_detail(d, "A partition key has 1 to %u bytes.", MAX_PK);
            sl_diag_at(d, l->dir, 0, (int64_t)i + 1, NULL);
            return SL_ERR_INPUT;
        }
        if (recs[i].data_len > SHARDLOG_MAX_DATA) {
            sl_fail(d, SL_ERR_LIMIT, "cannot append a record of %zu bytes", recs[i].data_len);
            sl_diag_detail(d, "A record holds at most %u bytes.", SHARDLOG_MAX_DATA);
            sl_diag_at(d, l->dir, 0, (int64_t)i + 1, NULL);
            return SL_ERR_LIMIT;
        }
        total += FRAME_HDR + recs[i].pk_len + recs[i].data_len;
    }
    if (n == 0) {
        pthread_mutex_lock(&l->mu);
        *first_seq = l->next_seq;
        pthread_mutex_unlock(&l->mu);
        return 0;
    }

    /* Frame and checksum everything but the numbers outside the mutex. */
    buf = sl_malloc(total);
    crcs = sl_malloc(n * sizeof(*crcs));
    p = buf;
    for (size_t i = 0; i < n; i++) {
        const struct shardlog_rec *r = &recs[i];
        uint32_t len = (uint32_t)(FRAME_FIXED + r->pk_len + r->data_len);
        uLong c;

        put_u32(p, len);
        put_u16(p + 24, (uint16_t)r->pk_len);
        memcpy(p + FRAME_HDR, r->pk, r->pk_len);
        if (r->data_len)
            memcpy(p + FRAME_HDR + r->pk_len, r->data, r->data_len);
        c = crc32(0L, p, 4);
        crcs[i] = (uint32_t)crc32(c, p + FRAME_HDR - 2, len - (FRAME_FIXED - 2));
        p += FRAME_PREFIX + len;
    }

    pthread_mutex_lock(&l->mu);
    if (l->err) {
        rc = sl_fail(d, l->err, "cannot append to shard log '%s': an earlier failure (%s)",
                     l->dir, sl_strerror(l->err));
        sl_diag_hint(d, "Reopen the log once the cause is fixed.");
        goto out;
    }
    a = &l->segs[l->nseg - 1];
    if (a->size > SEG_HDR && a->size + total > l->seg_bytes) {
        rc = log_roll(l, d);
        if (rc < 0)
            goto out;
        a = &l->segs[l->nseg - 1];
    }
    seq = l->next_seq;
    ms = now_ms > l->last_ms ? now_ms : l->last_ms;
    p = buf;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = get_u32(p);

        put_u64(p + 8, seq + i);
        put_u64(p + 16, (uint64_t)ms);
        put_u32(p + 4, (uint32_t)crc32(crcs[i], p + FRAME_PREFIX, 16));
        p += FRAME_PREFIX + len;
    }
    off = a->size;
    rc = log_write(l, buf, total, off, d);
    if (rc < 0)
        goto out;

    p = buf;
    for (size_t i = 0; i < n; i++) {
        seg_add_index(a, off + (uint64_t)(p - buf), seq + i, ms);
        p += FRAME_PREFIX + get_u32(p);
    }
    a->size += total;
    a->last = seq + n - 1;
    a->last_ms = ms;
    l->bytes += total;
    l->next_seq = seq + n;
    l->last_ms = ms;
    *first_seq = seq;
    if (l->fsync)
        syncer_queue(l);
    else
        l->durable_seq = l->next_seq - 1;
out:
    pthread_mutex_unlock(&l->mu);
    free(crcs);
    free(buf);
    return rc;
}

int
shardlog_wait(struct shardlog *l, uint64_t seq, struct sl_diag *d)
{
    int rc = 0;

    pthread_mutex_lock(&l->mu);
    while (l->durable_seq < seq && l->err == 0 && seq < l->next_seq)
        pthread_cond_wait(&l->durable_cv, &l->mu);
    if (l->durable_seq < seq) {
        if (l->err)
            rc = sl_fail(d, l->err, "could not make shard log '%s' durable: %s", l->dir,
                         sl_strerror(l->err));
        else
            rc = sl_fail(d, SL_ERR_INPUT,
                         "cannot wait for record %" PRIu64 " of shard log '%s': not written",
                         seq, l->dir);
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* ------------------------------------------------------------------------
 * Reading
 */

void
shardlog_info(struct shardlog *l, struct shardlog_info *out)
{
    pthread_mutex_lock(&l->mu);
    out->first_seq = log_first_seq(l);
    out->next_seq = l->next_seq;
    out->durable_seq = l->durable_seq;
    out->last_arrival_ms = l->last_ms;
    out->bytes = l->bytes;
    pthread_mutex_unlock(&l->mu);
}

/*
 * Where to read from: the first segment holding a record with sequence >=
 * seq (or, by_time, arriving at or after ms) whose first record is at most
 * limit.  Its file is opened read-only into *fd (the descriptor stays valid
 * if the segment is trimmed meanwhile), *off gets the offset to scan from,
 * *end its size, *last its newest record's number and *path its path.
 * 1 if found, 0 if there is no such record, -ENOENT if the file has just
 * been trimmed (look again), or another error.  Called with l->mu held.
 */
static int
log_locate(struct shardlog *l, uint64_t seq, uint64_t limit, bool by_time, int64_t ms,
           int *fd, uint64_t *off, uint64_t *end, uint64_t *last, char **path,
           struct sl_diag *d)
{
    size_t i;
    struct seg *s;

    if (by_time) {
        size_t lo = 0, hi = l->nseg;

        /* The first segment whose newest record is recent enough; empty
         * segments carry the time of the record before them, so last_ms
         * grows along the array. */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (l->segs[mid].last_ms < ms)
                lo = mid + 1;
            else
                hi = mid;
        }
        i = lo;
    } else {
        i = log_find_seg(l, seq);
    }
    while (i < l->nseg && (l->segs[i].last < l->segs[i].base || l->segs[i].last < seq))
        i++;
    if (i == l->nseg || l->segs[i].base > limit)
        return 0;
    s = &l->segs[i];
    *off = by_time ? seg_find_ms(s, ms) : seg_find_seq(s, seq);
    *end = s->size;
    *last = s->last;
    *path = seg_path(l, s->base);
    *fd = open(*path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        int rc = -errno;

        if (rc != -ENOENT)
            sl_fail(d, rc, "cannot open shard log segment '%s': %s", *path, strerror(errno));
        free(*path);
        *path = NULL;
        return rc;
    }
    return 1;
}

int
shardlog_read(struct shardlog *l, uint64_t from, size_t max_records, size_t max_bytes,
              int (*fn)(void *arg, const struct shardlog_entry *e), void *arg,
              uint64_t *next, struct sl_diag *d)
{
    uint64_t pos = from;
    size_t nrec = 0, nbytes = 0;
    uint8_t *keep = NULL;
    size_t keepcap = 0;
    bool done = false;
    int rc = 0, frc = 0;

    while (!done) {
        uint64_t durable, off, end, last;
        struct scan sc;
        struct frame f;
        const char *why = NULL;
        char *path = NULL;
        int fd = -1;

        pthread_mutex_lock(&l->mu);
        durable = l->durable_seq;
        rc = pos > durable ? 0
                           : log_locate(l, pos, durable, false, 0, &fd, &off, &end, &last,
                                        &path, d);
        pthread_mutex_unlock(&l->mu);
        if (rc == -ENOENT)
            continue;
        if (rc <= 0)
            break;

        /* One window serves every segment of the call. */
        scan_init(&sc, fd, off, end, READ_CHUNK);
        sc.buf = keep;
        sc.cap = keepcap;
        while ((rc = scan_next(&sc, true, &f, &why)) == SCAN_FRAME) {
            struct shardlog_entry e;
            size_t len = f.pk_len + f.data_len;

            if (f.seq < pos)
                continue;
            if (f.seq > durable ||
                (nrec > 0 && ((max_records && nrec >= max_records) ||
                              (max_bytes && nbytes + len > max_bytes)))) {
                done = true;
                break;
            }
            e = (struct shardlog_entry){f.seq, f.ms, f.pk, f.pk_len, f.data, f.data_len};
            frc = fn(arg, &e);
            if (frc != 0) {
                done = true;
                break;
            }
            nrec++;
            nbytes += len;
            pos = f.seq + 1;
        }
        keep = sc.buf;
        keepcap = sc.cap;
        close(fd);
        if (rc == SCAN_BAD)
            rc = corrupt(d, path, sc.pos, why);
        else if (rc < 0)
            rc = sl_fail(d, rc, "could not read shard log segment '%s': %s", path,
                         sl_strerror(rc));
        else if (!done && pos <= last)
            rc = corrupt(d, path, sc.pos, "records the index promised are missing");
        else
            rc = 0;
        free(path);
        if (rc < 0)
            break;
    }
    free(keep);
    *next = pos;
    if (rc < 0)
        return rc;
    return frc < 0 ? frc : 0;
}

int
shardlog_seek_time(struct shardlog *l, int64_t t_ms, uint64_t *seq, struct sl_diag *d)
{
    uint64_t off, end, last;
    struct scan sc;
    struct frame f;
    const char *why = NULL;
    char *path = NULL;
    int fd = -1, rc;

    for (;;) {
        pthread_mutex_lock(&l->mu);
        *seq = l->next_seq;
        rc = log_locate(l, 0, UINT64_MAX, true, t_ms, &fd, &off, &end, &last, &path, d);
        pthread_mutex_unlock(&l->mu);
        if (rc != -ENOENT)
            break;
    }
    if (rc <= 0)
        return rc;
    scan_init(&sc, fd, off, end, READ_CHUNK);
    while ((rc = scan_next(&sc, false, &f, &why)) == SCAN_FRAME) {
        if (f.ms >= t_ms) {
            *seq = f.seq;
            break;
        }
    }
    scan_release(&sc);
    close(fd);
    if (rc == SCAN_FRAME)
        rc = 0;
    else if (rc < 0)
        rc = sl_fail(d, rc, "could not read shard log segment '%s': %s", path, sl_strerror(rc));
    else
        rc = corrupt(d, path, sc.pos, why ? why : "a record the index promised is missing");
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------
 * Trimming
 */

static bool
seg_expired(const struct seg *s, int64_t before_ms, uint64_t keep_from)
{
    if (s->last < s->base)
        return true;
    return s->last_ms < before_ms && (keep_from == 0 || s->last < keep_from);
}

int
shardlog_trim(struct shardlog *l, int64_t before_ms, uint64_t keep_from, struct sl_diag *d)
{
    uint64_t *gone;
    size_t k = 0;
    int rc = 0;

    pthread_mutex_lock(&l->mu);
    while (k + 1 < l->nseg && seg_expired(&l->segs[k], before_ms, keep_from))
        k++;
    if (k + 1 == l->nseg && l->err == 0) {
        struct seg *a = &l->segs[k];

        /* An idle shard would otherwise keep its last records forever. */
        if (a->last >= a->base && seg_expired(a, before_ms, keep_from)) {
            rc = log_roll(l, d);
            if (rc == 0)
                k++;
        }
    }
    gone = sl_malloc((k ? k : 1) * sizeof(*gone));
    for (size_t i = 0; i < k; i++) {
        gone[i] = l->segs[i].base;
        l->bytes -= l->segs[i].size;
        free(l->segs[i].idx);
    }
    memmove(l->segs, l->segs + k, (l->nseg - k) * sizeof(*l->segs));
    l->nseg -= k;
    pthread_mutex_unlock(&l->mu);

    /* Oldest first, so a crash leaves the log whole from some point on. */
    for (size_t i = 0; i < k; i++) {
        char *path = seg_path(l, gone[i]);

        if (unlink(path) < 0 && errno != ENOENT && rc == 0)
            rc = sl_fail(d, -errno, "could not delete shard log segment '%s': %s", path,
                         strerror(errno));
        free(path);
    }
    if (k > 0) {
        int rc2 = sl_fsync_dir(l->dir, d);

        if (rc == 0)
            rc = rc2;
    }
    free(gone);
    return rc;
}
