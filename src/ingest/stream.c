/*
 * stream.c - the registry of streams and their shards (see stream.h).
 *
 * The registry keeps its streams in a small array sorted by name under a
 * read-write lock: lookups (every request) take it shared; creating,
 * deleting and lease rounds change it exclusively, briefly, after doing
 * their slow work (catalog transactions, opening logs) outside it.  Those
 * changers are serialised by ctl_mu, which also guards the registry's own
 * catalog connection; ctl_mu is always taken before lock.
 *
 * A lease round (streams_round) is one catalog write transaction: the
 * stream list, and for each stream its lease read and, unless another node
 * holds it, taken or renewed.  Then, outside the transaction, each stream
 * whose state changed gets a new object (stream.h, "Nodes"): served ones
 * are built with their logs open before they are swapped in, so lookups
 * never wait for a log's recovery.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* MD5(): one call, no context, per record */
#include "ingest/stream.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/strlist.h"
#include "core/time.h"
#include "store/layout.h"
#include "core/banned.h"

#define LEASE_NAME_MAX 160 /* "stream:" + a name of at most 128 */

struct streams {
    char *lake; /* the lake's local folder */
    char *dir;  /* its _streams folder, layout_streams_dir() */
    struct catalog *cat;      /* control writes and lease rounds, under ctl_mu */
    pthread_mutex_t ctl_mu;   /* serialises changes of the set of streams */
    struct shardlog_syncer *syncer;
    struct streams_options opts; /* strings point into the fields below */
    char region[64];
    char host[STREAM_HOLDER_MAX]; /* this host's name */
    char holder[STREAM_HOLDER_MAX]; /* "<host>:<pid>:<start ms>" */
    char info[STREAM_INFO_MAX];
    pthread_rwlock_t lock;    /* guards v, n, cap */
    struct stream **v;        /* sorted by name; one reference each */
    size_t n, cap;
    /* Lease rounds, under ctl_mu. */
    double renewed_at;        /* sl_mono_sec() at the start of the last round that
                                 renewed; 0 before the first */
    uint64_t next_gen;        /* serve_gen of the next served object */
    atomic_bool no_taking;    /* streams_stop_taking() was called */
    _Atomic uint64_t takeovers, rounds;
    /* The lease thread. */
    pthread_t thread;
    bool started;
    pthread_mutex_t thr_mu;
    pthread_cond_t thr_cond;  /* on CLOCK_MONOTONIC */
    bool stop;                /* under thr_mu */
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

/* ---- stream objects ------------------------------------------------------ */

static void
stream_free(struct stream *s)
{
    for (int i = 0; i < s->nshards; i++) {
        if (s->shards[i].log != NULL)
            shardlog_close(s->shards[i].log);
        pthread_mutex_destroy(&s->shards[i].mu);
    }
    pthread_mutex_destroy(&s->owner_mu);
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

void
stream_lease_name(const char *name, char *out, size_t size)
{
    snprintf(out, size, "stream:%s", name);
}

static void
owner_set(struct stream *s, enum stream_owner_state state, const char *holder,
          const char *info)
{
    pthread_mutex_lock(&s->owner_mu);
    s->owner.state = state;
    snprintf(s->owner.holder, sizeof(s->owner.holder), "%s", holder ? holder : "");
    snprintf(s->owner.info, sizeof(s->owner.info), "%s", info ? info : "");
    pthread_mutex_unlock(&s->owner_mu);
}

void
stream_owner(struct stream *s, struct stream_owner *out)
{
    pthread_mutex_lock(&s->owner_mu);
    *out = s->owner;
    pthread_mutex_unlock(&s->owner_mu);
}

/*
 * A new object for def (strings copied), with one reference.  With
 * epoch > 0 it is served: its shard logs are opened (recovering torn
 * tails), and SL_ERR_BUSY means another process still has one open.
 * Nothing is left behind on failure.
 */
static int
stream_load(struct streams *r, const struct catalog_stream *def, int64_t epoch,
            struct stream **out, struct sl_diag *d)
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
    pthread_mutex_init(&s->owner_mu, NULL);
    s->served = epoch > 0;
    s->lease_epoch = epoch;
    s->nshards = (int)def->shards;
    s->shards = sl_calloc((size_t)s->nshards, sizeof(*s->shards));

    /* Even split: shard i holds [i*w, (i+1)*w - 1] with w = floor(2^128 / N),
     * the last one up to 2^128 - 1.  With M = 2^128 - 1, floor((M+1) / N)
     * is M / N, plus one when N divides M + 1. */
    stream_u128 n128 = (stream_u128)s->nshards;
    stream_u128 width = U128_MAX / n128 + (U128_MAX % n128 == n128 - 1 ? 1 : 0);
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    for (int i = 0; i < s->nshards; i++) {
        struct stream_shard *sh = &s->shards[i];

        sh->index = i;
        snprintf(sh->id, sizeof(sh->id), "shardId-%012d", i);
        sh->hash_start = (stream_u128)i * width;
        sh->hash_end = i == s->nshards - 1 ? U128_MAX : (stream_u128)(i + 1) * width - 1;
        pthread_mutex_init(&sh->mu, NULL);
        sh->tokens_bytes = (double)def->write_bytes;
        sh->tokens_records = (double)def->write_records;
        sh->refill_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    for (int i = 0; s->served && i < s->nshards && rc == 0; i++) {
        char *sdir = layout_shard_dir(r->lake, def->name, s->shards[i].id);

        rc = sl_mkdirs(sdir, 0755, d);
        if (rc == 0)
            rc = shardlog_open(r->syncer, sdir, &lo, &s->shards[i].log, d);
        free(sdir);
    }
    if (rc < 0) {
        stream_free(s);
        return rc;
    }
    if (s->served)
        s->serve_gen = ++r->next_gen;
    *out = s;
    return 0;
}

/* What /metrics counts moves with the stream from object to object. */
static void
carry_counters(struct stream *to, struct stream *from)
{
    atomic_store(&to->records_in, atomic_load(&from->records_in));
    atomic_store(&to->bytes_in, atomic_load(&from->bytes_in));
    atomic_store(&to->throttled, atomic_load(&from->throttled));
    atomic_store(&to->records_out, atomic_load(&from->records_out));
}

/* ---- the array ------------------------------------------------------------- */

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

/* The object named name, or NULL; the caller holds ctl_mu (so the array
 * cannot change) or lock.  No reference is taken. */
static struct stream *
find(const struct streams *r, const char *name)
{
    bool found;
    size_t pos = find_pos(r, name, strlen(name), &found);

    return found ? r->v[pos] : NULL;
}

/*
 * Put s (its reference moves to the registry) in place of the object of
 * the same name, or add it; under ctl_mu.  Returns the object replaced,
 * whose reference the caller now holds, or NULL.  The counters /metrics
 * shows move on to s if the old object is the same stream (not one of the
 * name deleted since).
 */
static struct stream *
put_stream(struct streams *r, struct stream *s)
{
    struct stream *old = NULL;
    bool found;

    pthread_rwlock_wrlock(&r->lock);
    size_t pos = find_pos(r, s->def.name, strlen(s->def.name), &found);

    if (found) {
        old = r->v[pos];
        r->v[pos] = s;
    } else {
        SL_GROW(r->v, r->cap, r->n + 1);
        memmove(&r->v[pos + 1], &r->v[pos], (r->n - pos) * sizeof(*r->v));
        r->v[pos] = s;
        r->n++;
    }
    pthread_rwlock_unlock(&r->lock);
    if (old != NULL && old->def.created_ms == s->def.created_ms)
        carry_counters(s, old);
    else if (old != NULL)
        atomic_store(&old->deleted, true); /* replaced by a stream of the same name */
    return old;
}

/* Take the object named name out of the registry; under ctl_mu.  The
 * caller gets its reference; NULL if there is none. */
static struct stream *
take_stream(struct streams *r, const char *name)
{
    struct stream *s = NULL;
    bool found;

    pthread_rwlock_wrlock(&r->lock);
    size_t pos = find_pos(r, name, strlen(name), &found);

    if (found) {
        s = r->v[pos];
        memmove(&r->v[pos], &r->v[pos + 1], (r->n - pos - 1) * sizeof(*r->v));
        r->n--;
    }
    pthread_rwlock_unlock(&r->lock);
    return s;
}

/* An unserved object for def in place of s's: this node stopped serving
 * it.  Under ctl_mu. */
static void
unserve(struct streams *r, const struct catalog_stream *def, enum stream_owner_state state,
        const char *holder, const char *info)
{
    struct stream *s;

    if (stream_load(r, def, 0, &s, NULL) < 0)
        return; /* cannot happen: nothing is opened */
    owner_set(s, state, holder, info);
    stream_release(put_stream(r, s));
}

/* ---- catalog writes ------------------------------------------------------ */

/* What one registry change writes, for catalog_txn_run(). */
struct stream_write {
    enum { SW_ADD, SW_REMOVE, SW_UPDATE, SW_RETENTION } op;
    struct streams *r;
    const struct catalog_stream *def;
    const struct stream *s; /* SW_REMOVE: the served stream */
    const char *name;
    int64_t hours;
    int64_t epoch;          /* SW_ADD: the lease's epoch, 0 if held elsewhere */
};

int
stream_lease_check(struct catalog_txn *txn, const struct streams *r, const struct stream *s,
                   struct sl_diag *d)
{
    char lease[LEASE_NAME_MAX];
    int rc;

    stream_lease_name(s->def.name, lease, sizeof(lease));
    rc = catalog_lease_check(txn, lease, r->holder, s->lease_epoch, d);
    /* A lease lost stays lost: retrying the transaction (what a conflict
     * asks for) cannot help.  A serialization failure of the check itself
     * lands here too; its caller tries again later anyway. */
    return rc == SL_ERR_CONFLICT ? sl_fail(d, SL_ERR_BUSY, "lease lost") : rc;
}

/* Take a new stream's lease in its creating transaction; a lease of that
 * name still held elsewhere (an earlier stream of the name) is no error. */
static int
add_lease(struct catalog_txn *txn, struct stream_write *w, struct sl_diag *d)
{
    char lease[LEASE_NAME_MAX];
    int rc;

    stream_lease_name(w->def->name, lease, sizeof(lease));
    w->epoch = 0;
    rc = catalog_lease_acquire(txn, lease, w->r->holder, w->r->info, w->r->opts.lease_ttl_ms,
                               &w->epoch, d);
    if (rc == SL_ERR_BUSY) {
        w->epoch = 0;
        if (d != NULL)
            sl_diag_init(d);
        rc = 0;
    }
    return rc;
}

static int
stream_write_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct stream_write *w = arg;
    char lease[LEASE_NAME_MAX];
    int rc;

    switch (w->op) {
    case SW_ADD:
        rc = catalog_stream_add(txn, w->def, d);
        return rc < 0 ? rc : add_lease(txn, w, d);
    case SW_REMOVE:
        stream_lease_name(w->name, lease, sizeof(lease));
        rc = stream_lease_check(txn, w->r, w->s, d);
        if (rc == 0)
            rc = catalog_stream_remove(txn, w->name, d);
        if (rc == 0)
            rc = catalog_lease_release(txn, lease, w->r->holder, d);
        return rc;
    case SW_UPDATE:
        return catalog_stream_update(txn, w->def, d);
    case SW_RETENTION:
        return catalog_stream_set_retention(txn, w->name, w->hours, d);
    }
    return SL_ERR_CATALOG;
}

/* One change, through the registry's own connection; under ctl_mu. */
static int
stream_write(struct streams *r, struct stream_write *w, struct sl_diag *d)
{
    w->r = r;
    return catalog_txn_run(r->cat, CATALOG_WRITE, stream_write_body, w, d);
}

/* ---- lease rounds -------------------------------------------------------- */

/* One stream as a round found it in the catalog. */
struct seen {
    struct catalog_stream def; /* strings in the round's arena */
    enum { SEEN_HELD, SEEN_OTHER, SEEN_FREE } lease;
    int64_t epoch;             /* HELD: the lease's epoch */
    const char *holder;        /* the holder before this round, or NULL if never held */
    const char *info;          /* its info, or NULL */
};

struct round {
    struct streams *r;
    struct sl_arena a;
    struct seen *v;
    size_t n, cap;
};

static int
round_collect(void *arg, const struct catalog_stream *def)
{
    struct round *rd = arg;
    struct seen *e;

    SL_GROW(rd->v, rd->cap, rd->n + 1);
    e = &rd->v[rd->n++];
    memset(e, 0, sizeof(*e));
    e->def = *def;
    e->def.name = sl_arena_strdup(&rd->a, def->name);
    e->def.kind = sl_arena_strdup(&rd->a, def->kind);
    e->def.mode = sl_arena_strdup(&rd->a, def->mode);
    e->def.source = def->source ? sl_arena_strdup(&rd->a, def->source) : NULL;
    e->def.compression = sl_arena_strdup(&rd->a, def->compression);
    return 0;
}

/*
 * Whether holder ("<host>:<pid>:<start ms>") is a process of this host that
 * is gone.  A pid that is alive (or reused) says nothing; this process's
 * own pid under another start time is a previous incarnation (a container
 * restarts its server with the same pid).  A host name shared by two
 * machines (or containers) could mislead it: then a live node loses its
 * streams at its next renewal and gets them back by the rounds - fencing
 * and the logs' locks keep the data right, at the cost of a move.
 */
static bool
holder_gone(const struct streams *r, const char *holder)
{
    const char *ms = strrchr(holder, ':');
    const char *pid_at = NULL;
    char *end;
    long pid;

    for (const char *p = ms ? ms - 1 : NULL; p != NULL && p >= holder; p--) {
        if (*p == ':') {
            pid_at = p + 1;
            break;
        }
    }
    if (pid_at == NULL || (size_t)(pid_at - 1 - holder) != strlen(r->host) ||
        memcmp(holder, r->host, strlen(r->host)) != 0)
        return false;
    pid = strtol(pid_at, &end, 10);
    if (end != ms || pid <= 0)
        return false;
    if (pid == (long)getpid())
        return strcmp(holder, r->holder) != 0;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* Read e's lease and take or renew it unless another node holds it. */
static int
round_lease(struct catalog_txn *txn, struct round *rd, struct seen *e, struct sl_diag *d)
{
    struct streams *r = rd->r;
    char lease[LEASE_NAME_MAX];
    struct catalog_lease l;
    bool known, mine, live;
    int rc;

    stream_lease_name(e->def.name, lease, sizeof(lease));
    rc = catalog_lease_get(txn, lease, &rd->a, &l, d);
    if (rc < 0 && rc != SL_ERR_NOTFOUND)
        return rc;
    known = rc == 0;
    mine = known && strcmp(l.holder, r->holder) == 0;
    live = known && l.expires_ms > l.now_ms;
    e->holder = known ? l.holder : NULL;
    e->info = known ? l.info : NULL;
    if (known && !mine && live && r->renewed_at == 0 && holder_gone(r, l.holder)) {
        /* Starting, and the holder is this host's process that is gone
         * (see streams_round): expire its lease, then take it as any
         * expired one. */
        SL_INFO("stream", "stream %s: its node %s is no longer running on this host; not "
                "waiting for its lease to expire", e->def.name, l.holder);
        rc = catalog_lease_release(txn, lease, l.holder, d);
        if (rc < 0)
            return rc;
        live = false;
    }
    if ((known && !mine && live) || (!mine && atomic_load(&r->no_taking))) {
        e->lease = live ? SEEN_OTHER : SEEN_FREE;
        return 0;
    }
    rc = catalog_lease_acquire(txn, lease, r->holder, r->info, r->opts.lease_ttl_ms, &e->epoch,
                               d);
    if (rc == SL_ERR_BUSY) { /* the read above said otherwise; be safe */
        if (d != NULL)
            sl_diag_init(d);
        e->lease = SEEN_OTHER;
        return 0;
    }
    if (rc == 0)
        e->lease = SEEN_HELD;
    return rc;
}

/* The round's transaction (may run more than once: it starts over). */
static int
round_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct round *rd = arg;
    int rc;

    rd->n = 0;
    sl_arena_reset(&rd->a);
    rc = catalog_stream_list(txn, round_collect, rd, d);
    for (size_t i = 0; i < rd->n && rc == 0; i++)
        rc = round_lease(txn, rd, &rd->v[i], d);
    return rc;
}

/* Serve e's stream: open its logs in a new object put in place of cur
 * (NULL if none).  Under ctl_mu. */
static void
take(struct streams *r, struct stream *cur, const struct seen *e)
{
    struct stream_owner was = {0};
    struct sl_diag d = {0};
    struct stream *s;
    int rc;

    if (cur != NULL && !cur->served)
        stream_owner(cur, &was);
    /* Who had it: this round's reading, or, while waiting for the logs,
     * the holder the first try found. */
    const char *from = e->holder && strcmp(e->holder, r->holder) != 0 ? e->holder
                       : was.state == STREAM_OWNER_TAKING && was.holder[0] ? was.holder
                                                                           : NULL;

    rc = stream_load(r, &e->def, e->epoch, &s, &d);
    if (rc < 0) {
        bool again = cur != NULL && !cur->served && was.state == STREAM_OWNER_TAKING;

        if (rc == SL_ERR_BUSY)
            SL_LOG(again ? SL_LOG_DEBUG : SL_LOG_INFO, "stream",
                   "took the lease of stream %s%s%s, but its logs are still open in %s; "
                   "trying again at the next round",
                   e->def.name, from ? " from " : "", from ? from : "",
                   from ? "that node" : "another process");
        else
            SL_ERROR("stream", "cannot serve stream %s: %s", e->def.name, d.msg);
        if (cur != NULL && !cur->served && cur->def.created_ms == e->def.created_ms)
            owner_set(cur, STREAM_OWNER_TAKING, from, NULL);
        else
            unserve(r, &e->def, STREAM_OWNER_TAKING, from, NULL);
        return;
    }
    if (from != NULL) {
        atomic_fetch_add(&r->takeovers, 1);
        SL_INFO("stream", "took over stream %s from %s (lease epoch %" PRId64 ")",
                e->def.name, from, e->epoch);
    } else {
        SL_INFO("stream", "serving stream %s (lease epoch %" PRId64 ")", e->def.name,
                e->epoch);
    }
    stream_release(put_stream(r, s));
}

/* Bring the registry in line with what the round saw.  Under ctl_mu. */
static void
round_apply(struct streams *r, struct round *rd)
{
    struct sl_strlist gone = {0};

    for (size_t i = 0; i < rd->n; i++) {
        const struct seen *e = &rd->v[i];
        struct stream *cur = find(r, e->def.name);

        if (cur != NULL && cur->def.created_ms != e->def.created_ms) {
            /* Deleted and created again elsewhere since the last round. */
            SL_INFO("stream", "stream %s was created again by another node", e->def.name);
            atomic_store(&cur->deleted, true);
            cur = NULL;
        }
        if (e->lease == SEEN_HELD) {
            if (cur != NULL && cur->served && cur->lease_epoch == e->epoch)
                continue; /* renewed */
            if (cur != NULL && cur->served) {
                /* Another node held it in between (this one stalled past
                 * its lease): stop, and serve it anew next round, after
                 * whatever this object's requests still do. */
                SL_WARN("stream", "stopped serving stream %s: its lease moved on while this "
                        "node did not renew it (epoch %" PRId64 ", now %" PRId64 ")",
                        e->def.name, cur->lease_epoch, e->epoch);
                unserve(r, &e->def, STREAM_OWNER_TAKING, NULL, NULL);
                continue;
            }
            if (atomic_load(&r->no_taking))
                continue; /* shutting down: the lease goes with the others */
            take(r, cur, e);
            continue;
        }
        enum stream_owner_state st = e->lease == SEEN_OTHER ? STREAM_OWNER_OTHER
                                                            : STREAM_OWNER_NONE;

        if (cur != NULL && cur->served) {
            SL_WARN("stream", "stopped serving stream %s: its lease is held by %s now; "
                    "requests for it are turned away, and that node delivers what is not "
                    "delivered yet",
                    e->def.name, e->holder ? e->holder : "nobody");
            unserve(r, &e->def, st, e->holder, e->info);
        } else if (cur != NULL) {
            owner_set(cur, st, e->holder, e->info);
        } else {
            if (find(r, e->def.name) == NULL)
                SL_INFO("stream", "stream %s was created by another node", e->def.name);
            unserve(r, &e->def, st, e->holder, e->info);
        }
    }
    /* Streams the catalog no longer has: deleted by another node. */
    for (size_t i = 0; i < r->n; i++) {
        bool seen = false;

        for (size_t j = 0; j < rd->n && !seen; j++)
            seen = strcmp(rd->v[j].def.name, r->v[i]->def.name) == 0;
        if (!seen)
            sl_strlist_add(&gone, r->v[i]->def.name);
    }
    for (size_t i = 0; i < gone.n; i++) {
        struct stream *s = take_stream(r, gone.v[i]);

        SL_INFO("stream", "stream %s was deleted by another node", gone.v[i]);
        atomic_store(&s->deleted, true);
        stream_release(s);
    }
    sl_strlist_release(&gone);
}

/* No renewal for a whole ttl: another node may hold the streams by now, so
 * stop serving them.  Under ctl_mu. */
static void
drop_served(struct streams *r)
{
    struct sl_strlist served = {0};

    for (size_t i = 0; i < r->n; i++)
        if (r->v[i]->served)
            sl_strlist_add(&served, r->v[i]->def.name);
    for (size_t i = 0; i < served.n; i++) {
        struct stream *s = find(r, served.v[i]);

        SL_ERROR("stream", "stopped serving stream %s: its lease could not be renewed for "
                 "%" PRId64 " ms", s->def.name, r->opts.lease_ttl_ms);
        unserve(r, &s->def, STREAM_OWNER_NONE, NULL, NULL);
    }
    sl_strlist_release(&served);
}

int
streams_round(struct streams *r, struct sl_diag *d)
{
    struct round rd = {.r = r};
    int rc;

    sl_arena_init(&rd.a, 0);
    pthread_mutex_lock(&r->ctl_mu);
    double t0 = sl_mono_sec();

    rc = catalog_txn_run(r->cat, CATALOG_WRITE, round_body, &rd, d);
    if (rc == 0) {
        r->renewed_at = t0;
        round_apply(r, &rd);
        atomic_fetch_add(&r->rounds, 1);
    } else if (r->renewed_at > 0 &&
               (sl_mono_sec() - r->renewed_at) * 1000 >= (double)r->opts.lease_ttl_ms) {
        drop_served(r);
    }
    pthread_mutex_unlock(&r->ctl_mu);
    free(rd.v);
    sl_arena_release(&rd.a);
    return rc;
}

static void *
lease_main(void *arg)
{
    struct streams *r = arg;
    int64_t every_ms = r->opts.lease_ttl_ms / 3;

    pthread_mutex_lock(&r->thr_mu);
    while (!r->stop) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += every_ms / 1000;
        ts.tv_nsec += every_ms % 1000 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (!r->stop && pthread_cond_timedwait(&r->thr_cond, &r->thr_mu, &ts) == 0)
            ;
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->thr_mu);
        struct sl_diag d = {0};

        if (streams_round(r, &d) < 0)
            SL_WARN("stream", "lease round failed (will retry): %s", d.msg);
        pthread_mutex_lock(&r->thr_mu);
    }
    pthread_mutex_unlock(&r->thr_mu);
    return NULL;
}

int
streams_lease_start(struct streams *r, struct sl_diag *d)
{
    int rc = streams_round(r, d);

    if (rc < 0)
        return rc;
    if (pthread_create(&r->thread, NULL, lease_main, r) != 0)
        return sl_fail(d, -EAGAIN, "cannot start the lease thread");
    r->started = true;
    return 0;
}

void
streams_stop_taking(struct streams *r)
{
    atomic_store(&r->no_taking, true);
}

const char *
streams_holder(const struct streams *r)
{
    return r->holder;
}

uint64_t
streams_takeovers(struct streams *r)
{
    return atomic_load(&r->takeovers);
}

uint64_t
streams_rounds(struct streams *r)
{
    return atomic_load(&r->rounds);
}

/* ---- open and close -------------------------------------------------------- */

static int
load_row(void *arg, const struct catalog_stream *def)
{
    struct streams *r = arg;
    struct stream *s;

    if (stream_load(r, def, 0, &s, NULL) < 0)
        return SL_ERR_CATALOG; /* cannot happen: nothing is opened */
    stream_release(put_stream(r, s));
    return 0;
}

static int
list_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    return catalog_stream_list(txn, load_row, arg, d);
}

static int
name_row(void *arg, const struct catalog_stream *def)
{
    return sl_strlist_add(arg, def->name);
}

static int
names_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    sl_strlist_release(arg);
    return catalog_stream_list(txn, name_row, arg, d);
}

/*
 * Folders under _streams/ that no stream owns: left by a delete that was
 * interrupted after the catalog forgot the stream.  Another node may be
 * creating a stream right now (its catalog record first, then its folder),
 * so a folder goes only if the catalog, read after the folder was seen,
 * does not know it either.
 */
static void
sweep_orphans(struct streams *r)
{
    struct sl_strlist maybe = {0}, known = {0};
    DIR *dir = opendir(r->dir);
    struct dirent *e;

    if (dir == NULL)
        return;
    while ((e = readdir(dir)) != NULL)
        if (e->d_name[0] != '.' && find(r, e->d_name) == NULL)
            sl_strlist_add(&maybe, e->d_name);
    closedir(dir);
    if (maybe.n > 0 && catalog_txn_run(r->cat, CATALOG_READ, names_body, &known, NULL) == 0) {
        for (size_t i = 0; i < maybe.n; i++) {
            if (sl_strlist_has(&known, maybe.v[i]))
                continue;
            char *p = layout_stream_dir(r->lake, maybe.v[i]);

            SL_INFO("stream", "removing '%s', left by a deleted stream", p);
            sl_rmtree(p);
            free(p);
        }
    }
    sl_strlist_release(&maybe);
    sl_strlist_release(&known);
}

int
streams_open(const char *lake_dir, const char *catalog, const struct streams_options *o,
             struct streams **out, struct sl_diag *d)
{
    struct streams *r = sl_calloc(1, sizeof(*r));
    pthread_condattr_t ca;
    int rc;

    r->lake = sl_strdup(lake_dir);
    r->dir = layout_streams_dir(lake_dir);
    r->opts = *o;
    snprintf(r->region, sizeof(r->region), "%s", o->region ? o->region : "us-east-1");
    if (gethostname(r->host, sizeof(r->host) - 1) < 0)
        snprintf(r->host, sizeof(r->host), "localhost");
    r->host[100] = '\0'; /* room for the rest of the holder id */
    snprintf(r->holder, sizeof(r->holder), "%.100s:%ld:%lld", r->host, (long)getpid(),
             (long long)sl_now_ms());
    snprintf(r->info, sizeof(r->info), "%s", o->info ? o->info : "");
    r->opts.region = r->region;
    r->opts.info = r->info;
    if (r->opts.lease_ttl_ms <= 0)
        r->opts.lease_ttl_ms = 15000;
    pthread_mutex_init(&r->ctl_mu, NULL);
    pthread_rwlock_init(&r->lock, NULL);
    pthread_mutex_init(&r->thr_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->thr_cond, &ca);
    pthread_condattr_destroy(&ca);
    rc = sl_mkdirs(r->dir, 0755, d);
    if (rc == 0)
        rc = catalog_open(catalog, 0, &r->cat, d);
    if (rc == 0)
        rc = shardlog_syncer_start(&r->syncer, d);
    if (rc == 0)
        rc = catalog_txn_run(r->cat, CATALOG_READ, list_body, r, d);
    if (rc < 0) {
        streams_close(r);
        return rc;
    }
    sweep_orphans(r);
    *out = r;
    return 0;
}

struct release_ctx {
    const struct sl_strlist *names;
    const char *holder;
};

static int
release_body(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct release_ctx *c = arg;
    int rc = 0;

    for (size_t i = 0; i < c->names->n && rc == 0; i++) {
        char lease[LEASE_NAME_MAX];

        stream_lease_name(c->names->v[i], lease, sizeof(lease));
        rc = catalog_lease_release(txn, lease, c->holder, d);
    }
    return rc;
}

void
streams_close(struct streams *r)
{
    struct sl_strlist names = {0};

    if (r == NULL)
        return;
    if (r->started) {
        pthread_mutex_lock(&r->thr_mu);
        r->stop = true;
        pthread_cond_broadcast(&r->thr_cond);
        pthread_mutex_unlock(&r->thr_mu);
        pthread_join(r->thread, NULL);
    }
    /* Logs first (each closes with its object's last reference), leases
     * after: the next holder can open the logs the moment it sees the
     * lease free. */
    pthread_mutex_lock(&r->ctl_mu);
    for (size_t i = 0; i < r->n; i++) {
        sl_strlist_add(&names, r->v[i]->def.name);
        stream_release(r->v[i]);
    }
    free(r->v);
    r->v = NULL;
    r->n = r->cap = 0;
    if (r->cat != NULL && names.n > 0) {
        struct sl_diag d = {0};
        struct release_ctx c = {&names, r->holder};

        /* Releasing only touches leases this node holds. */
        if (catalog_txn_run(r->cat, CATALOG_WRITE, release_body, &c, &d) < 0)
            SL_WARN("stream", "could not release the leases of this node's streams (other "
                    "nodes take them over when they expire): %s", d.msg);
        else
            SL_INFO("stream", "released this node's stream leases: other nodes take its "
                    "streams over at their next round");
    }
    pthread_mutex_unlock(&r->ctl_mu);
    sl_strlist_release(&names);
    if (r->syncer != NULL)
        shardlog_syncer_stop(r->syncer);
    if (r->cat != NULL)
        catalog_close(r->cat);
    pthread_cond_destroy(&r->thr_cond);
    pthread_mutex_destroy(&r->thr_mu);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->ctl_mu);
    free(r->dir);
    free(r->lake);
    free(r);
}

/* ---- changes through the API ------------------------------------------------ */

/* SL_ERR_BUSY with words naming who serves s (this node does not). */
static int
not_here(struct stream *s, struct sl_diag *d)
{
    struct stream_owner o;

    stream_owner(s, &o);
    if (o.state == STREAM_OWNER_OTHER)
        return sl_fail(d, SL_ERR_BUSY, "stream %s is served by node %s at %s", s->def.name,
                       o.holder, o.info[0] ? o.info : "an unknown address");
    return sl_fail(d, SL_ERR_BUSY, "no node serves stream %s at the moment", s->def.name);
}

int
streams_create(struct streams *r, struct catalog_stream *def, struct sl_diag *d)
{
    struct stream *s;
    int rc;

    if (def->shards < 1 || def->shards > STREAM_MAX_SHARDS)
        return sl_fail(d, SL_ERR_LIMIT, "a stream has 1 to %d shards, not %lld",
                       STREAM_MAX_SHARDS, (long long)def->shards);
    pthread_mutex_lock(&r->ctl_mu);
    /* Milliseconds tell this stream from an earlier one of the same name
     * (shard iterators, delivery positions); never reuse one. */
    def->created_ms = sl_now_usec() / 1000;
    struct stream_write w = {.op = SW_ADD, .def = def};

    /* The catalog decides whether the name is free (another node may have
     * just taken it); only then may a leftover folder of an interrupted
     * delete go. */
    rc = stream_write(r, &w, d);
    if (rc < 0)
        goto out;
    char *dir = layout_stream_dir(r->lake, def->name);

    sl_rmtree(dir);
    free(dir);
    if (w.epoch == 0) {
        /* A lease of the name is still held elsewhere (by the node of an
         * earlier stream of that name): the stream exists, and the rounds
         * settle who serves it. */
        unserve(r, def, STREAM_OWNER_NONE, NULL, NULL);
        goto out;
    }
    rc = stream_load(r, def, w.epoch, &s, d);
    if (rc < 0) {
        /* It exists all the same; the next round tries its logs again. */
        unserve(r, def, STREAM_OWNER_TAKING, NULL, NULL);
        if (rc == SL_ERR_BUSY) {
            if (d != NULL)
                sl_diag_init(d);
            rc = 0;
        }
        goto out;
    }
    SL_DEBUG("stream", "serving new stream %s (lease epoch %" PRId64 ")", def->name, w.epoch);
    stream_release(put_stream(r, s));
out:
    pthread_mutex_unlock(&r->ctl_mu);
    return rc;
}

int
streams_delete(struct streams *r, const char *name, struct sl_diag *d)
{
    struct stream *s;
    int rc;

    pthread_mutex_lock(&r->ctl_mu);
    s = find(r, name);
    if (s == NULL) {
        rc = sl_fail(d, SL_ERR_NOTFOUND, "stream '%s' not found", name);
        goto out;
    }
    if (!s->served) {
        rc = not_here(s, d);
        goto out;
    }
    struct stream_write w = {.op = SW_REMOVE, .name = name, .s = s};

    rc = stream_write(r, &w, d);
    if (rc < 0)
        goto out;
    s = take_stream(r, name);
    atomic_store(&s->deleted, true);
    /* The files go now; requests still holding the stream keep their open
     * descriptors, and a restart sweeps whatever an interruption left. */
    char *dir = layout_stream_dir(r->lake, name);

    sl_rmtree(dir);
    free(dir);
    stream_release(s);
out:
    pthread_mutex_unlock(&r->ctl_mu);
    return rc;
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
    next.declared = def->declared;
    struct stream_write w = {.op = SW_UPDATE, .def = &next};

    pthread_mutex_lock(&r->ctl_mu);
    rc = stream_write(r, &w, d);
    pthread_mutex_unlock(&r->ctl_mu);
    if (rc < 0)
        return rc;
    /* def may be a copy of s->def itself: take the new text before the old
     * goes. */
    next.compression = sl_strdup(def->compression);
    free((char *)s->def.compression);
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
    struct stream_write w = {.op = SW_RETENTION, .name = s->def.name, .hours = hours};
    int rc;

    pthread_mutex_lock(&r->ctl_mu);
    rc = stream_write(r, &w, d);
    pthread_mutex_unlock(&r->ctl_mu);
    if (rc == 0)
        s->def.retention_hours = hours;
    return rc;
}

/* ---- lookups ----------------------------------------------------------------- */

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

    for (int i = 0; s->served && i < s->nshards; i++) {
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
