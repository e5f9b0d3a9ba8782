/*
 * delivery.c - durable stream records into raw objects (see delivery.h).
 *
 * One thread serves every bound stream this node serves (stream.h,
 * "Nodes").  The shard logs are the buffer: each pass reads the records
 * that became durable since the last pass into the stream's pending
 * JSON-lines bytes (never more than the buffer size beyond one record), and
 * flushes when a trigger fires.  Memory is bounded by the sum of the bound
 * streams' buffer sizes.
 *
 * What is pending belongs to one serving period of a stream (its object's
 * serve_gen): when this node starts serving a stream - at start-up, on a
 * takeover, or again after losing it - the positions are loaded afresh
 * from the catalog, so delivery resumes from what was committed, by
 * whichever node; when it stops serving one, what was read and not
 * delivered is dropped from memory (the next holder reads it again from
 * the log).  Every delivery commit checks the stream's lease in its
 * transaction (stream_lease_check), so a node that lost a stream cannot
 * commit a delivery of it after its successor started.
 */
#include "ingest/delivery.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "catalog/raw.h"
#include "catalog/streams.h"
#include "commit/commit.h"
#include "core/fault.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/proc.h"
#include "core/time.h"
#include "ingest/ingest.h"
#include "project/register.h"
#include "store/layout.h"
#include "store/store.h"
#include "core/banned.h"

#define PASS_MS 100

/* What is waiting to be delivered from one stream. */
struct pending {
    char *name;
    int64_t created_ms;
    uint64_t serve_gen;  /* the serving period it belongs to */
    bool seen;           /* visited by the current pass */
    int nshards;
    uint64_t *delivered; /* committed position per shard */
    uint64_t *scanned;   /* next seq to read per shard */
    struct sl_buf buf;   /* JSON lines */
    int64_t records;
    int64_t oldest_ms;   /* arrival of the oldest record in buf */
    bool loaded;
    bool resumed;        /* owed work of the source looked at, this period */
    const struct source *src; /* read once: the project's arena only grows */
    bool registered;          /* its contracts are in the catalog */
};

struct delivery {
    struct project *project;
    struct streams *streams;
    struct store *store;
    struct catalog *cat;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
    struct pending *pend;
    size_t npend, cappend;
    delivery_landed_fn landed; /* told of each object delivered */
    void *landed_arg;
    /* metrics */
    _Atomic uint64_t objects, records, bytes, failures;
};

/*
 * This node started serving a stream that delivers into source (at
 * start-up, or taking it over from a node that died): finish what that
 * node committed and did not publish.  (The transforms it owed are the
 * on_arrival trigger's: its position in the catalog says what is owed.)
 */
static void
resume_owed(struct delivery *dl, const char *source)
{
    struct sl_diag d = {0};

    if (commit_recover(dl->store, dl->cat, &d) < 0)
        SL_ERROR("delivery", "cannot resume the work owed to source %s: %s", source, d.msg);
}

/* ---- delivering ---------------------------------------------------------- */

static void
pending_drop(struct delivery *dl, struct pending *p)
{
    free(p->delivered);
    free(p->scanned);
    sl_buf_release(&p->buf);
    free(p->name);
    *p = dl->pend[--dl->npend];
}

/* The pending records of s, a served stream; NULL (d says why) if its
 * positions cannot be read. */
static struct pending *
pending_for(struct delivery *dl, struct stream *s, struct sl_diag *d)
{
    struct pending *p = NULL;

    for (size_t i = 0; i < dl->npend; i++)
        if (strcmp(dl->pend[i].name, s->def.name) == 0)
            p = &dl->pend[i];
    if (p != NULL && (p->created_ms != s->def.created_ms || p->serve_gen != s->serve_gen)) {
        /* The stream was deleted and created again, or this node stopped
         * serving it and serves it again: start over from the catalog. */
        pending_drop(dl, p);
        p = NULL;
    }
    if (p == NULL) {
        SL_GROW(dl->pend, dl->cappend, dl->npend + 1);
        p = &dl->pend[dl->npend++];
        memset(p, 0, sizeof(*p));
        p->name = sl_strdup(s->def.name);
        p->created_ms = s->def.created_ms;
        p->serve_gen = s->serve_gen;
        p->nshards = s->nshards;
        p->delivered = sl_calloc((size_t)s->nshards, sizeof(uint64_t));
        p->scanned = sl_calloc((size_t)s->nshards, sizeof(uint64_t));
        sl_buf_init(&p->buf);
    }
    if (!p->loaded) {
        struct catalog_txn *txn = NULL;
        int rc = catalog_txn_begin(dl->cat, CATALOG_READ, &txn, d);

        for (int i = 0; rc == 0 && i < s->nshards; i++) {
            int64_t seq = 0;

            rc = catalog_delivery_get(txn, s->def.name, i, s->def.created_ms, &seq, d);
            p->delivered[i] = (uint64_t)seq;
            p->scanned[i] = (uint64_t)seq + 1;
            atomic_store(&s->shards[i].delivered, (uint64_t)seq);
        }
        if (txn != NULL)
            catalog_txn_abort(txn);
        if (rc < 0)
            return NULL;
        p->loaded = true;
        if (!p->resumed) {
            resume_owed(dl, s->def.source);
            p->resumed = true;
        }
    }
    p->seen = true;
    return p;
}

struct scan_ctx {
    struct pending *p;
};

static int
add_line(void *arg, const struct shardlog_entry *e)
{
    struct pending *p = ((struct scan_ctx *)arg)->p;

    if (p->records == 0 || e->arrival_ms < p->oldest_ms)
        p->oldest_ms = e->arrival_ms;
    sl_buf_add(&p->buf, e->data, e->data_len);
    if (e->data_len == 0 || e->data[e->data_len - 1] != '\n')
        sl_buf_addc(&p->buf, '\n');
    p->records++;
    return 0;
}

/* Read what became durable since the last pass, up to the buffer size. */
static int
scan(struct stream *s, struct pending *p, struct sl_diag *d)
{
    for (int i = 0; i < s->nshards; i++) {
        struct scan_ctx sc = {p};
        uint64_t next;

        if ((int64_t)p->buf.len >= s->def.buffer_bytes)
            break;
        int rc = shardlog_read(s->shards[i].log, p->scanned[i], SIZE_MAX,
                               (size_t)(s->def.buffer_bytes - (int64_t)p->buf.len), add_line,
                               &sc, &next, d);

        if (rc < 0)
            return rc;
        p->scanned[i] = next;
    }
    return 0;
}

static int
gzip_bytes(const struct sl_buf *in, struct sl_buf *out, struct sl_diag *d)
{
    z_stream z;

    memset(&z, 0, sizeof(z));
    /* Fixed level and an mtime of 0 in the header: the same records make
     * the same bytes, so a redelivery is recognised by its object id. */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return sl_fail(d, SL_ERR_INPUT, "cannot start gzip compression");
    size_t bound = deflateBound(&z, in->len);

    sl_buf_reset(out);
    sl_buf_grow(out, bound);
    z.next_in = (unsigned char *)in->data;
    z.avail_in = (unsigned)in->len;
    z.next_out = (unsigned char *)out->data;
    z.avail_out = (unsigned)bound;
    int zr = deflate(&z, Z_FINISH);

    deflateEnd(&z);
    if (zr != Z_STREAM_END)
        return sl_fail(d, SL_ERR_INPUT, "gzip compression failed");
    sl_buf_setlen(out, bound - z.avail_out);
    return 0;
}

/* The commit transaction's part of a delivery (may run more than once). */
struct flush_ctx {
    const struct streams *r;
    struct stream *s;
    struct pending *p;
    struct raw_object obj;  /* arrived_at: the time to ask for */
    int64_t want_arrival;
    const char *staged;     /* staging key of the object */
    int64_t len;            /* its bytes */
    bool duplicate;
    struct run_record *run;
};

static int
flush_record(struct catalog_txn *txn, struct commit *cm, void *arg, struct sl_diag *d)
{
    struct flush_ctx *f = arg;
    struct stream *s = f->s;
    struct pending *p = f->p;
    int rc;

    f->duplicate = false;
    f->obj.arrived_at = f->want_arrival;
    /* Fencing: only the lease's holder, at the epoch it opened the logs
     * under, advances the positions. */
    rc = stream_lease_check(txn, f->r, s, d);
    if (rc < 0)
        return rc;
    rc = catalog_raw_add(txn, &f->obj, d);
    if (rc == SL_ERR_EXISTS) {
        /* The very same bytes were delivered before (a producer sent the
         * same records again): the raw zone keeps one copy. */
        f->duplicate = true;
        rc = 0;
    }
    if (rc == 0 && !f->duplicate)
        commit_publish_as(cm, f->staged, f->obj.key);
    for (int i = 0; i < s->nshards && rc == 0; i++)
        if (p->scanned[i] - 1 != p->delivered[i])
            rc = catalog_delivery_set(txn, s->def.name, i, s->def.created_ms,
                                      (int64_t)(p->scanned[i] - 1), d);
    f->run->objects = f->duplicate ? 0 : 1;
    f->run->records_in = p->records;
    f->run->written = f->duplicate ? 0 : p->records;
    f->run->duplicates = f->duplicate ? p->records : 0;
    f->run->bytes_written = f->duplicate ? 0 : f->len;
    return rc;
}

/* Write p's records as one raw object and advance the positions with it. */
static int
flush(struct delivery *dl, struct stream *s, struct pending *p, struct sl_diag *d)
{
    const struct source *src;
    const struct contract *con;
    bool gz = strcmp(s->def.compression, "gzip") == 0;
    struct sl_buf zbuf;
    const struct sl_buf *bytes = &p->buf;
    unsigned char sha[SL_SHA256_LEN];
    char hex[2 * SL_SHA256_LEN + 1], id[INGEST_ID_LEN + 1], checksum[8 + sizeof(hex)];
    char name[200];
    const char *skey, *spath;
    char *key = NULL;
    struct sl_sha256 h;
    struct commit *cm = NULL;
    struct run_record run = {.table = ""};
    struct flush_ctx f = {.r = dl->streams, .s = s, .p = p, .run = &run};
    int rc, fd = -1;

    if (p->src == NULL) {
        rc = project_source(dl->project, s->def.source, &p->src, d);
        if (rc < 0)
            return rc;
    }
    src = p->src;
    con = source_latest(src, -1);
    sl_buf_init(&zbuf);
    if (gz) {
        rc = gzip_bytes(&p->buf, &zbuf, d);
        if (rc < 0)
            goto out;
        bytes = &zbuf;
    }
    sl_sha256_init(&h);
    sl_sha256_update(&h, bytes->data, bytes->len);
    sl_sha256_final(&h, sha);
    sl_hex(sha, SL_SHA256_LEN, hex);
    memcpy(id, hex, INGEST_ID_LEN);
    id[INGEST_ID_LEN] = '\0';

    /* 1. Stage and seal the object. */
    cm = commit_new(dl->store, dl->cat, "delivery", src->name);
    rc = commit_stage(cm, gz ? "delivery.jsonl.gz" : "delivery.jsonl", &skey, &spath, d);
    if (rc < 0)
        goto out;
    fd = open(spath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = sl_fail(d, -errno, "cannot create '%s': %s", spath, strerror(errno));
        goto out;
    }
    rc = sl_fault("delivery.write");
    if (rc == 0)
        rc = sl_write_all(fd, bytes->data, bytes->len);
    if (rc < 0) {
        rc = sl_fail(d, rc, "cannot write '%s': %s", spath, strerror(-rc));
        goto out;
    }
    close(fd);
    fd = -1;
    rc = commit_seal(cm, skey, d);
    if (rc < 0)
        goto out;

    /* 2 and 3. One transaction: the object, the positions, the account;
     * then the object is published. */
    if (!p->registered) {
        rc = project_register_source(dl->cat, src, d);
        if (rc < 0)
            goto out;
        p->registered = true;
    }
    int64_t now = sl_now_usec();

    key = layout_raw_key(src->name, now, id, "jsonl", gz);
    snprintf(checksum, sizeof(checksum), "sha256:%s", hex);
    snprintf(name, sizeof(name), "stream:%s", s->def.name);
    f.obj = (struct raw_object){
        .source = src->name,
        .object_id = id,
        .key = key,
        .system = src->system,
        .contract_version = con->version,
        .original_name = name,
        .format = "jsonl",
        .compression = gz ? "gzip" : "none",
        .size = (int64_t)bytes->len,
        .checksum = checksum,
    };
    f.want_arrival = now;
    f.staged = skey;
    f.len = (int64_t)bytes->len;
    run.started_at = p->oldest_ms * 1000;
    rc = commit_finish(cm, &run, COMMIT_PUBLISH, flush_record, &f, d);
    if (!commit_committed(cm))
        goto out;
    SL_INFO("delivery", "%s: %" PRId64 " records -> %s%s", s->def.name, p->records, key,
            f.duplicate ? " (same bytes as an earlier object)" : "");
    atomic_fetch_add(&dl->objects, f.duplicate ? 0 : 1);
    atomic_fetch_add(&dl->records, (uint64_t)p->records);
    atomic_fetch_add(&dl->bytes, bytes->len);
    for (int i = 0; i < s->nshards; i++) {
        p->delivered[i] = p->scanned[i] - 1;
        atomic_store(&s->shards[i].delivered, p->delivered[i]);
    }
    sl_buf_reset(&p->buf);
    p->records = 0;
    if (dl->landed != NULL && !f.duplicate)
        dl->landed(dl->landed_arg, src->name);
out:
    if (fd >= 0)
        close(fd);
    if (cm == NULL || !commit_committed(cm)) {
        /* Read the same records again next time, from the positions the
         * catalog holds (a commit in doubt may have moved them). */
        for (int i = 0; i < s->nshards; i++)
            p->scanned[i] = p->delivered[i] + 1;
        sl_buf_reset(&p->buf);
        p->records = 0;
        p->loaded = false;
    }
    commit_free(cm);
    free(key);
    sl_buf_release(&zbuf);
    return rc;
}

struct pass_ctx {
    struct delivery *dl;
    bool final;
};

static int
deliver_stream(void *arg, struct stream *s)
{
    struct pass_ctx *pc = arg;
    struct delivery *dl = pc->dl;
    struct sl_diag d = {0};
    struct pending *p;
    int rc;

    if (s->def.source == NULL || !s->served)
        return 0;
    p = pending_for(dl, s, &d);
    if (p == NULL) {
        SL_ERROR("delivery", "%s: %s", s->def.name, d.msg);
        return 0;
    }
    /* Keep flushing while full buffers are waiting (a backlog after a
     * restart, or a burst). */
    for (;;) {
        rc = scan(s, p, &d);
        if (rc < 0)
            break;
        int64_t now = sl_now_ms();

        atomic_store(&s->delivery_lag_ms, p->records ? now - p->oldest_ms : 0);
        if (p->records == 0)
            return 0;
        bool full = (int64_t)p->buf.len >= s->def.buffer_bytes;

        if (!full && !pc->final && now - p->oldest_ms < s->def.buffer_ms)
            return 0;
        rc = flush(dl, s, p, &d);
        if (rc < 0)
            break;
        if (!full && !pc->final)
            return 0;
    }
    atomic_fetch_add(&dl->failures, 1);
    if (rc == SL_ERR_BUSY)
        SL_WARN("delivery", "%s: not delivered: %s; another node serves the stream now",
                s->def.name, d.msg);
    else
        SL_ERROR("delivery", "%s: %s (will retry)", s->def.name, d.msg);
    return 0;
}

/* One pass over every stream; then what is pending for a stream this node
 * no longer serves (or that is gone) is dropped. */
static void
pass(struct delivery *dl, bool final)
{
    struct pass_ctx pc = {dl, final};

    for (size_t i = 0; i < dl->npend; i++)
        dl->pend[i].seen = false;
    streams_each(dl->streams, deliver_stream, &pc);
    for (size_t i = 0; i < dl->npend;) {
        struct pending *p = &dl->pend[i];

        if (p->seen) {
            i++;
            continue;
        }
        if (p->records > 0)
            SL_WARN("delivery", "%s: dropping %lld records read and not delivered: this node "
                    "no longer serves the stream (its node delivers them from the log)",
                    p->name, (long long)p->records);
        pending_drop(dl, p); /* the last one moves to i */
    }
}

static void *
delivery_main(void *arg)
{
    struct delivery *dl = arg;
    int64_t last_trim = 0;

    pthread_mutex_lock(&dl->mu);
    while (!dl->stop) {
        pthread_mutex_unlock(&dl->mu);
        pass(dl, false);
        /* Retention is in hours: trimming every 10 s is plenty. */
        if (sl_now_ms() - last_trim >= 10000) {
            last_trim = sl_now_ms();
            streams_trim(dl->streams, last_trim);
        }
        pthread_mutex_lock(&dl->mu);
        if (dl->stop)
            break;
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PASS_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&dl->cond, &dl->mu, &ts);
    }
    pthread_mutex_unlock(&dl->mu);
    /* Shutdown: everything acknowledged goes into raw now. */
    pass(dl, true);
    return NULL;
}

int
delivery_start(struct project *p, struct streams *r, delivery_landed_fn landed, void *landed_arg,
               struct delivery **out, struct sl_diag *d)
{
    struct delivery *dl = sl_calloc(1, sizeof(*dl));
    int rc;

    dl->project = p;
    dl->streams = r;
    dl->landed = landed;
    dl->landed_arg = landed_arg;
    pthread_mutex_init(&dl->mu, NULL);
    pthread_cond_init(&dl->cond, NULL);
    rc = store_open(p->lake, &dl->store, d);
    if (rc == 0)
        rc = catalog_open(p->catalog, 0, &dl->cat, d);
    if (rc == 0 && pthread_create(&dl->thread, NULL, delivery_main, dl) != 0)
        rc = sl_fail(d, -EAGAIN, "cannot start the delivery thread");
    if (rc < 0) {
        if (dl->cat)
            catalog_close(dl->cat);
        if (dl->store)
            store_close(dl->store);
        free(dl);
        return rc;
    }
    *out = dl;
    return 0;
}

void
delivery_stop(struct delivery *dl)
{
    if (dl == NULL)
        return;
    pthread_mutex_lock(&dl->mu);
    dl->stop = true;
    pthread_cond_broadcast(&dl->cond);
    pthread_mutex_unlock(&dl->mu);
    pthread_join(dl->thread, NULL);
    for (size_t i = 0; i < dl->npend; i++) {
        free(dl->pend[i].name);
        free(dl->pend[i].delivered);
        free(dl->pend[i].scanned);
        sl_buf_release(&dl->pend[i].buf);
    }
    free(dl->pend);
    catalog_close(dl->cat);
    store_close(dl->store);
    pthread_cond_destroy(&dl->cond);
    pthread_mutex_destroy(&dl->mu);
    free(dl);
}

void
delivery_metrics(struct delivery *dl, struct sl_buf *out)
{
    sl_buf_addf(out,
                "# HELP sluice_delivery_objects_total Raw objects written by delivery.\n"
                "# TYPE sluice_delivery_objects_total counter\n"
                "sluice_delivery_objects_total %" PRIu64 "\n"
                "# HELP sluice_delivery_records_total Records delivered into raw.\n"
                "# TYPE sluice_delivery_records_total counter\n"
                "sluice_delivery_records_total %" PRIu64 "\n"
                "# HELP sluice_delivery_failures_total Delivery attempts that failed (retried).\n"
                "# TYPE sluice_delivery_failures_total counter\n"
                "sluice_delivery_failures_total %" PRIu64 "\n",
                atomic_load(&dl->objects), atomic_load(&dl->records), atomic_load(&dl->failures));
}
