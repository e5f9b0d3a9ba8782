/*
 * stream.c - the registry of streams and their shards (see stream.h).
 *
 * The registry keeps the open streams in a small array sorted by name under
 * a read-write lock: lookups (every request) take it shared, create and
 * delete exclusively.  Catalog writes go through the registry's own catalog
 * connection, serialised by a mutex, since control operations are rare.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5(): one call, no context, per record */
#include "ingest/stream.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "store/layout.h"
#include "core/banned.h"

struct streams {
    char *lake; /* the lake's local folder */
    char *dir;  /* its _streams folder, layout_streams_dir() */
    struct catalog *cat;
    pthread_mutex_t cat_mu;
    struct shardlog_syncer *syncer;
    struct streams_options opts;
    char region[64];
    pthread_rwlock_t lock;
    struct stream **v; /* sorted by name */
    size_t n, cap;
};

static const stream_u128 U128_MAX = ~(stream_u128)0;

/* ---- numbers ------------------------------------------------------------- */

void
stream_u128_format(stream_u128 v, char out[40])
{
    char tmp[40];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

bool
stream_u128_parse(const char *s, size_t n, stream_u128 *out)
{
    stream_u128 v = 0;

    if (n == 0 || n > 39 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned digit = (unsigned)(s[i] - '0');

        if (v > (U128_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

void
stream_seq_format(int shard, uint64_t seq, char out[STREAM_SEQ_LEN + 1])
{
    snprintf(out, STREAM_SEQ_LEN + 1, "49%06d%020llu", shard, (unsigned long long)seq);
}

int
stream_seq_parse(const char *s, size_t n, int *shard, uint64_t *seq)
{
    uint64_t v = 0;
    int sh = 0;

    if (n != STREAM_SEQ_LEN || s[0] != '4' || s[1] != '9')
        return SL_ERR_INPUT;
    for (size_t i = 2; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return SL_ERR_INPUT;
    for (size_t i = 2; i < 8; i++)
        sh = sh * 10 + (s[i] - '0');
    for (size_t i = 8; i < n; i++) {
        unsigned digit = (unsigned)(s[i] - '0');

        if (v > (UINT64_MAX - digit) / 10)
            return SL_ERR_INPUT;
        v = v * 10 + digit;
    }
    *shard = sh;
    *seq = v;
    return 0;
}

bool
stream_name_ok(const char *name, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

int
stream_shard_index(const struct stream *s, const char *id, size_t n)
{
    for (int i = 0; i < s->nshards; i++)
        if (strlen(s->shards[i].id) == n && memcmp(s->shards[i].id, id, n) == 0)
            return i;
    return -1;
}

/* ---- routing and limits -------------------------------------------------- */

int
stream_route(const struct stream *s, const char *pk, size_t pk_len, const char *ehk,
             size_t ehk_len, int *shard, struct sl_diag *d)
{
    stream_u128 h = 0;

    if (ehk != NULL) {
        if (!stream_u128_parse(ehk, ehk_len, &h))
            return sl_fail(d, SL_ERR_INPUT,
                           "ExplicitHashKey '%.*s' is not a decimal number in [0, 2^128-1]",
                           (int)(ehk_len > 60 ? 60 : ehk_len), ehk);
    } else {
        unsigned char md[MD5_DIGEST_LENGTH];

        MD5((const unsigned char *)pk, pk_len, md);
        for (int i = 0; i < MD5_DIGEST_LENGTH; i++)
            h = h << 8 | md[i];
    }
    /* Shards split the space evenly, so the index is a division away;
     * the last shard also takes the remainder. */
    int lo = 0, hi = s->nshards - 1;

    while (lo < hi) {
        int mid = (lo + hi) / 2;

        if (h > s->shards[mid].hash_end)
            lo = mid + 1;
        else
            hi = mid;
    }
    *shard = lo;
    return 0;
}

bool
stream_admit(struct stream *s, int shard, int64_t records, int64_t bytes, int64_t now_ns)
{
    struct stream_shard *sh = &s->shards[shard];
    double rb = (double)s->def.write_bytes, rr = (double)s->def.write_records;
    bool ok;

    if (rb <= 0 && rr <= 0)
        return true;
    pthread_mutex_lock(&sh->mu);
    double dt = (double)(now_ns - sh->refill_ns) / 1e9;

    if (dt > 0) {
        sh->tokens_bytes = sh->tokens_bytes + dt * rb > rb ? rb : sh->tokens_bytes + dt * rb;
        sh->tokens_records =
            sh->tokens_records + dt * rr > rr ? rr : sh->tokens_records + dt * rr;
        sh->refill_ns = now_ns;
    }
    ok = (rb <= 0 || sh->tokens_bytes >= (double)bytes) &&
         (rr <= 0 || sh->tokens_records >= (double)records);
    if (ok) {
        sh->tokens_bytes -= (double)bytes;
        sh->tokens_records -= (double)records;
    }
    pthread_mutex_unlock(&sh->mu);
    return ok;
}

/* ---- open streams -------------------------------------------------------- */

static void
stream_free(struct stream *s)
{
    for (int i = 0; i < s->nshards; i++) {
        if (s->shards[i].log != NULL)
            shardlog_close(s->shards[i].log);
        pthread_mutex_destroy(&s->shards[i].mu);
    }
    free(s->shards);
    free((char *)s->def.name);
    free((char *)s->def.kind);
    free((char *)s->def.mode);
    free((char *)s->def.source);
    free((char *)s->def.compression);
    free(s);
}

void
stream_release(struct stream *s)
{
    if (s != NULL && atomic_fetch_sub(&s->refs, 1) == 1)
        stream_free(s);
}

static int
stream_load(struct streams *r, const struct catalog_stream *def, struct stream **out,
            struct sl_diag *d)
{
    struct stream *s = sl_calloc(1, sizeof(*s));
    struct shardlog_opts lo = {.fsync = r->opts.fsync, .segment_bytes = 64u << 20};
    int rc = 0;

    s->def = *def;
    s->def.name = sl_strdup(def->name);
    s->def.kind = sl_strdup(def->kind);
    s->def.mode = sl_strdup(def->mode);
    s->def.source = def->source ? sl_strdup(def->source) : NULL;
    s->def.compression = sl_strdup(def->compression);
    if (strcmp(def->kind, "firehose") == 0)
        snprintf(s->arn, sizeof(s->arn), "arn:aws:firehose:%s:%s:deliverystream/%s",
                 r->region, STREAM_ACCOUNT, def->name);
    else
        snprintf(s->arn, sizeof(s->arn), "arn:aws:kinesis:%s:%s:stream/%s", r->region,
                 STREAM_ACCOUNT, def->name);
    atomic_init(&s->refs, 1);
    atomic_init(&s->deleted, false);
    s->nshards = (int)def->shards;
    s->shards = sl_calloc((size_t)s->nshards, sizeof(*s->shards));

    /* Even split: shard i holds [i*w, (i+1)*w - 1] with w = floor(2^128 / N),
     * the last one up to 2^128 - 1.  With M = 2^128 - 1, floor((M+1) / N)
     * is M / N, plus one when N divides M + 1. */
    stream_u128 n128 = (stream_u128)s->nshards;
    stream_u128 width = U128_MAX / n128 + (U128_MAX % n128 == n128 - 1 ? 1 : 0);
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int i = 0; i < s->nshards && rc == 0; i++) {
        struct stream_shard *sh = &s->shards[i];
        char *sdir;

        sh->index = i;
        snprintf(sh->id, sizeof(sh->id), "shardId-%012d", i);
        sh->hash_start = (stream_u128)i * width;
        sh->hash_end = i == s->nshards - 1 ? U128_MAX : (stream_u128)(i + 1) * width - 1;
        pthread_mutex_init(&sh->mu, NULL);
        sh->tokens_bytes = (double)def->write_bytes;
        sh->tokens_records = (double)def->write_records;
        sh->refill_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        sdir = layout_shard_dir(r->lake, def->name, sh->id);
        rc = sl_mkdirs(sdir, 0755, d);
        if (rc == 0)
            rc = shardlog_open(r->syncer, sdir, &lo, &sh->log, d);
        free(sdir);
    }
    if (rc < 0) {
        stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static size_t
find_pos(const struct streams *r, const char *name, size_t n, bool *found)
{
    size_t lo = 0, hi = r->n;

    *found = false;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *m = r->v[mid]->def.name;
        size_t mn = strlen(m);
        int c = memcmp(m, name, mn < n ? mn : n);

        if (c == 0)
            c = mn < n ? -1 : mn > n;
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
insert_at(struct streams *r, size_t pos, struct stream *s)
{
    SL_GROW(r->v, r->cap, r->n + 1);
    memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof(*r->v));
    r->v[pos] = s;
    r->n++;
}

struct load_ctx {
    struct streams *r;
    struct sl_diag *d;
    int rc;
};

static int
load_row(void *arg, const struct catalog_stream *def)
{
    struct load_ctx *c = arg;
    struct stream *s;
    bool found;

    c->rc = stream_load(c->r, def, &s, c->d);
    if (c->rc < 0)
        return c->rc;
    insert_at(c->r, find_pos(c->r, def->name, strlen(def->name), &found), s);
    return 0;
}

/* Folders under _streams/ that no stream owns: left by a delete that was
 * interrupted after the catalog forgot the stream. */
static void
sweep_orphans(struct streams *r)
{
    DIR *dir = opendir(r->dir);
    struct dirent *e;

    if (dir == NULL)
        return;
    while ((e = readdir(dir)) != NULL) {
        bool found;

        if (e->d_name[0] == '.')
            continue;
        find_pos(r, e->d_name, strlen(e->d_name), &found);
        if (!found) {
            char *p = layout_stream_dir(r->lake, e->d_name);

            SL_INFO("stream", "removing '%s', left by a deleted stream", p);
            sl_rmtree(p);
            free(p);
        }
    }
    closedir(dir);
}

/* ---- catalog writes ------------------------------------------------------ */

/* What one registry change writes, for catalog_txn_run(). */
struct stream_write {
    enum { SW_ADD, SW_REMOVE, SW_UPDATE, SW_RETENTION } op;
    const struct catalog_stream *def;
    const char *name;
    int64_t hours;
};

static int
stream_write_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct stream_write *w = arg;

    switch (w->op) {
    case SW_ADD:
        return catalog_stream_add(txn, w->def, d);
    case SW_REMOVE:
        return catalog_stream_remove(txn, w->name, d);
    case SW_UPDATE:
        return catalog_stream_update(txn, w->def, d);
    case SW_RETENTION:
        return catalog_stream_set_retention(txn, w->name, w->hours, d);
    }
    return SL_ERR_CATALOG;
}

/* One change, through the registry's own connection. */
static int
stream_write(struct streams *r, struct stream_write *w, struct sl_diag *d)
{
    int rc;

    pthread_mutex_lock(&r->cat_mu);
    rc = catalog_txn_run(r->cat, CATALOG_WRITE, stream_write_body, w, d);
    pthread_mutex_unlock(&r->cat_mu);
    return rc;
}

static int
list_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct load_ctx *c = arg;
    int rc = catalog_stream_list(txn, load_row, c, d);

    return rc == 0 && c->rc < 0 ? c->rc : rc;
}

int
streams_open(const char *lake_dir, const char *catalog, const struct streams_options *o,
             struct streams **out, struct sl_diag *d)
{
    struct streams *r = sl_calloc(1, sizeof(*r));
    struct load_ctx c = {r, d, 0};
    int rc;

    r->lake = sl_strdup(lake_dir);
    r->dir = layout_streams_dir(lake_dir);
    r->opts = *o;
    snprintf(r->region, sizeof(r->region), "%s", o->region ? o->region : "us-east-1");
    pthread_mutex_init(&r->cat_mu, NULL);
    pthread_rwlock_init(&r->lock, NULL);
    rc = sl_mkdirs(r->dir, 0755, d);
    if (rc == 0)
        rc = catalog_open(catalog, 0, &r->cat, d);
    if (rc == 0)
        rc = shardlog_syncer_start(&r->syncer, d);
    if (rc == 0)
        rc = catalog_txn_run(r->cat, CATALOG_READ, list_body, &c, d);
    if (rc < 0) {
        streams_close(r);
        return rc;
    }
    sweep_orphans(r);
    *out = r;
    return 0;
}

void
streams_close(struct streams *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        stream_release(r->v[i]);
    free(r->v);
    if (r->syncer != NULL)
        shardlog_syncer_stop(r->syncer);
    if (r->cat != NULL)
        catalog_close(r->cat);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->cat_mu);
    free(r->dir);
    free(r->lake);
    free(r);
}

int
streams_create(struct streams *r, struct catalog_stream *def, struct sl_diag *d)
{
    struct stream *s;
    bool found;
    int rc;

    if (def->shards < 1 || def->shards > STREAM_MAX_SHARDS)
        return sl_fail(d, SL_ERR_LIMIT, "a stream has 1 to %d shards, not %lld",
                       STREAM_MAX_SHARDS, (long long)def->shards);
    pthread_rwlock_wrlock(&r->lock);
    find_pos(r, def->name, strlen(def->name), &found);
    if (found) {
        pthread_rwlock_unlock(&r->lock);
        return sl_fail(d, SL_ERR_EXISTS, "a stream named '%s' exists already", def->name);
    }
    /* Milliseconds tell this stream from an earlier one of the same name
     * (shard iterators, delivery positions); never reuse one. */
    def->created_ms = sl_now_usec() / 1000;
    char *dir = layout_stream_dir(r->lake, def->name);

    sl_rmtree(dir); /* a leftover of an interrupted delete */
    free(dir);
    struct stream_write w = {.op = SW_ADD, .def = def};

    rc = stream_write(r, &w, d);
    if (rc == 0)
        rc = stream_load(r, def, &s, d);
    if (rc == 0)
        insert_at(r, find_pos(r, def->name, strlen(def->name), &found), s);
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

int
streams_delete(struct streams *r, const char *name, struct sl_diag *d)
{
    struct stream *s;
    bool found;
    size_t pos;
    int rc;

    pthread_rwlock_wrlock(&r->lock);
    pos = find_pos(r, name, strlen(name), &found);
    if (!found) {
        pthread_rwlock_unlock(&r->lock);
        return sl_fail(d, SL_ERR_NOTFOUND, "stream '%s' not found", name);
    }
    s = r->v[pos];
    struct stream_write w = {.op = SW_REMOVE, .name = name};

    rc = stream_write(r, &w, d);
    if (rc == 0) {
        memmove(&r->v[pos], &r->v[pos + 1], (r->n - pos - 1) * sizeof(*r->v));
        r->n--;
    }
    pthread_rwlock_unlock(&r->lock);
    if (rc < 0)
        return rc;
    atomic_store(&s->deleted, true);
    /* The files go now; requests still holding the stream keep their open
     * descriptors, and a restart sweeps whatever an interruption left. */
    char *dir = layout_stream_dir(r->lake, name);

    sl_rmtree(dir);
    free(dir);
    stream_release(s);
    return 0;
}

int
streams_update(struct streams *r, struct stream *s, const struct catalog_stream *def,
               struct sl_diag *d)
{
    struct catalog_stream next = s->def;
    int rc;

    next.retention_hours = def->retention_hours;
    next.max_record_bytes = def->max_record_bytes;
    next.write_bytes = def->write_bytes;
    next.write_records = def->write_records;
    next.buffer_bytes = def->buffer_bytes;
    next.buffer_ms = def->buffer_ms;
    next.compression = def->compression;
    struct stream_write w = {.op = SW_UPDATE, .def = &next};

    rc = stream_write(r, &w, d);
    if (rc < 0)
        return rc;
    free((char *)s->def.compression);
    next.compression = sl_strdup(def->compression);
    s->def = next;
    for (int i = 0; i < s->nshards; i++) {
        s->shards[i].tokens_bytes = (double)next.write_bytes;
        s->shards[i].tokens_records = (double)next.write_records;
    }
    return 0;
}

int
streams_set_retention(struct streams *r, struct stream *s, int64_t hours, struct sl_diag *d)
{
    int rc;

    struct stream_write w = {.op = SW_RETENTION, .name = s->def.name, .hours = hours};

    rc = stream_write(r, &w, d);
    if (rc == 0)
        s->def.retention_hours = hours;
    return rc;
}

struct stream *
streams_get(struct streams *r, const char *name, size_t n)
{
    struct stream *s = NULL;
    bool found;
    size_t pos;

    pthread_rwlock_rdlock(&r->lock);
    pos = find_pos(r, name, n, &found);
    if (found) {
        s = r->v[pos];
        atomic_fetch_add(&s->refs, 1);
    }
    pthread_rwlock_unlock(&r->lock);
    return s;
}

int
streams_each(struct streams *r, int (*fn)(void *arg, struct stream *s), void *arg)
{
    struct stream **snap;
    size_t n;
    int rc = 0;

    pthread_rwlock_rdlock(&r->lock);
    n = r->n;
    snap = sl_malloc((n ? n : 1) * sizeof(*snap));
    for (size_t i = 0; i < n; i++) {
        snap[i] = r->v[i];
        atomic_fetch_add(&snap[i]->refs, 1);
    }
    pthread_rwlock_unlock(&r->lock);
    for (size_t i = 0; i < n; i++) {
        if (rc >= 0)
            rc = fn(arg, snap[i]);
        stream_release(snap[i]);
    }
    free(snap);
    return rc < 0 ? rc : 0;
}

size_t
streams_count(struct streams *r)
{
    size_t n;

    pthread_rwlock_rdlock(&r->lock);
    n = r->n;
    pthread_rwlock_unlock(&r->lock);
    return n;
}

static int
trim_one(void *arg, struct stream *s)
{
    int64_t now_ms = *(int64_t *)arg;
    int64_t before = now_ms - s->def.retention_hours * 3600 * 1000;

    for (int i = 0; i < s->nshards; i++) {
        struct sl_diag d = {0};
        /* Records of a stream that delivers into raw stay until delivered. */
        uint64_t keep = s->def.source ? atomic_load(&s->shards[i].delivered) + 1 : 0;

        if (shardlog_trim(s->shards[i].log, before, keep, &d) < 0)
            SL_WARN("stream", "cannot trim %s/%s: %s", s->def.name, s->shards[i].id, d.msg);
    }
    return 0;
}

void
streams_trim(struct streams *r, int64_t now_ms)
{
    streams_each(r, trim_one, &now_ms);
}
