/*
 * online_redis.c - the online store in Redis, shared by several serving
 * nodes (online_store: redis://host:port[/db] in sluice.yaml).
 *
 * Keys and values (plain strings, readable with redis-cli):
 *
 *   sluice:<group>:v<version>:<entity>   "<event_ms> <written_ms> <values JSON>"
 *                                        (decimal times, one space each)
 *   sluice:<group>:v<version>#count      the group version's entity count
 *
 * A group name has no ':' or '#' (online.h), so a record's key and a count's
 * never meet, and the entity, last, may hold anything.  A get is one MGET
 * of all its keys: one command, one round trip, one reply.
 *
 * Newer event time wins, with any number of writers: a put runs PUT_LUA,
 * which compares and sets each record inside Redis, where a script runs
 * alone; its scripts (up to CHUNK records each) go out as one pipeline, one
 * round trip.  Lua compares the event times as doubles, exact for every
 * time online.h allows (|ms| < 2^53).  A key that does not decode is
 * overwritten by a put (it was not written by sluice) and is SL_ERR_CORRUPT
 * to a get.  Scripts are loaded (SCRIPT LOAD) by each new connection and
 * run by their SHA-1 (EVALSHA); if the server lost them (SCRIPT FLUSH), a
 * NOSCRIPT reply loads them again and the call runs once more - harmless,
 * since putting the same records twice leaves the same state.
 *
 * Connections: a pool, so that many threads can call at once.  A call
 * takes an idle connection (or opens one), uses it alone, and gives it
 * back; a connection that failed is closed instead.  So the pool holds at
 * most as many connections as calls were ever in flight at once.  A call
 * whose reused connection turns out dead (the server restarted or closed
 * it) runs again, at the latest on a new connection (run()).
 *
 * NEEDSWORK: Redis Cluster - a put's script touches a record and its
 * count, which hash to different slots; hash tags would put a whole group
 * version in one slot.  One server (with replicas) for now.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "core/num.h"
#include "features/online_int.h"
#include "core/banned.h"

#define CHUNK 128         /* records per put script */
#define CONNECT_TIMEOUT 2 /* seconds */
#define IO_TIMEOUT 10     /* seconds a reply may take */

// clang-format off
/* KEYS[2i-1] a record, KEYS[2i] its count; ARGV[i] its new value.  Returns
 * how many records took effect. */
static const char PUT_LUA[] =
    "local applied = 0\n"
    "for i = 1, #ARGV do\n"
    "  local key, new = KEYS[2 * i - 1], ARGV[i]\n"
    "  local cur = redis.call('GET', key)\n"
    "  local was = cur and tonumber(string.match(cur, '^%-?%d+'))\n"
    "  if not cur then redis.call('INCR', KEYS[2 * i]) end\n"
    "  if not was or was <= tonumber(string.match(new, '^%-?%d+')) then\n"
    "    redis.call('SET', key, new)\n"
    "    applied = applied + 1\n"
    "  end\n"
    "end\n"
    "return applied\n";

/* KEYS[1] a record, KEYS[2] its count.  Returns 1 if it was there. */
static const char DEL_LUA[] =
    "if redis.call('DEL', KEYS[1]) == 0 then return 0 end\n"
    "if redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end\n"
    "return 1\n";
// clang-format on

struct redis {
    struct online_redis_addr addr;
    char hostport[300];   /* "host:port" or "[v6]:port", for messages */
    char *password;       /* REDIS_PASSWORD at open time, or NULL */
    char put_sha[41];     /* SHA-1 of PUT_LUA in hex, set at open */
    char del_sha[41];     /* the same of DEL_LUA */
    pthread_mutex_t lock; /* guards idle and nidle */
    redisContext **idle;  /* connections nobody is using */
    size_t nidle, cap;
};

/* ---- errors --------------------------------------------------------------- */

static int
lost(struct redis *r, redisContext *c, const char *what, struct sl_diag *d)
{
    sl_fail(d, SL_ERR_UNAVAILABLE, "could not %s redis at %s: %s", what, r->hostport,
            c->errstr[0] ? c->errstr : "connection lost");
    sl_diag_hint(d, "is redis-server running there? online_store in sluice.yaml names it");
    return SL_ERR_UNAVAILABLE;
}

static bool
is_error(const redisReply *rep, const char *prefix)
{
    return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

/* A sluice code and words for an error reply. */
static int
refused(struct redis *r, const redisReply *rep, const char *what, struct sl_diag *d)
{
    int rc = SL_ERR_CORRUPT;

    if (is_error(rep, "NOAUTH") || is_error(rep, "WRONGPASS"))
        rc = SL_ERR_INPUT;
    else if (is_error(rep, "OOM"))
        rc = -ENOSPC;
    else if (is_error(rep, "LOADING") || is_error(rep, "BUSY") || is_error(rep, "TRYAGAIN") ||
             is_error(rep, "MASTERDOWN") || is_error(rep, "READONLY"))
        rc = SL_ERR_UNAVAILABLE;
    sl_fail(d, rc, "redis at %s refused to %s: %s", r->hostport, what, rep->str);
    if (rc == SL_ERR_INPUT)
        sl_diag_hint(d, "set REDIS_PASSWORD to the server's password (and the user, if any, "
                        "in the location: redis://USER@HOST:PORT)");
    else if (rc == -ENOSPC)
        sl_diag_hint(d, "raise the server's maxmemory; keep maxmemory-policy noeviction, so "
                        "that records are never dropped silently");
    return rc;
}

/* Run one command and check its reply; *out (caller frees with
 * freeReplyObject()) is never an error reply. */
static int
command(struct redis *r, redisContext *c, int argc, const char **argv, const size_t *lens,
        redisReply **out, const char *what, struct sl_diag *d)
{
    redisReply *rep = redisCommandArgv(c, argc, argv, lens);
    int rc;

    if (rep == NULL)
        return lost(r, c, what, d);
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = refused(r, rep, what, d);
        freeReplyObject(rep);
        return rc;
    }
    *out = rep;
    return 0;
}

/* ---- connections ---------------------------------------------------------- */

/* SCRIPT LOAD src; its SHA-1 into sha[41]. */
static int
load_script(struct redis *r, redisContext *c, const char *src, char *sha, struct sl_diag *d)
{
    const char *argv[] = {"SCRIPT", "LOAD", src};
    redisReply *rep;
    int rc = command(r, c, 3, argv, NULL, &rep, "load a script", d);

    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "redis at %s answered SCRIPT LOAD strangely", r->hostport);
    } else {
        memcpy(sha, rep->str, 40);
        sha[40] = '\0';
    }
    freeReplyObject(rep);
    return rc;
}

/*
 * Load both scripts on c.  Their SHA-1s are kept by the first connection,
 * at open; later ones (from any thread) only read them, and the server
 * says the same SHA-1 for the same text.
 */
static int
load_scripts(struct redis *r, redisContext *c, struct sl_diag *d)
{
    char put[41], del[41];
    int rc = load_script(r, c, PUT_LUA, put, d);

    if (rc == 0)
        rc = load_script(r, c, DEL_LUA, del, d);
    if (rc == 0 && r->put_sha[0] == '\0') {
        memcpy(r->put_sha, put, sizeof(put));
        memcpy(r->del_sha, del, sizeof(del));
    }
    return rc;
}

/* A new connection, authenticated, on the right database, with the
 * scripts loaded. */
static int
dial(struct redis *r, redisContext **out, struct sl_diag *d)
{
    struct timeval connect_tv = {CONNECT_TIMEOUT, 0}, io_tv = {IO_TIMEOUT, 0};
    redisContext *c = redisConnectWithTimeout(r->addr.host, r->addr.port, connect_tv);
    redisReply *rep = NULL;
    char db[16];
    int rc;

    if (c == NULL)
        return sl_fail(d, SL_ERR_UNAVAILABLE, "could not connect to redis at %s", r->hostport);
    if (c->err) {
        rc = lost(r, c, "connect to", d);
        goto out_free;
    }
    redisSetTimeout(c, io_tv);
    if (r->password != NULL) {
        const char *argv[3] = {"AUTH"};
        int argc = 1;

        if (r->addr.user[0] != '\0')
            argv[argc++] = r->addr.user;
        argv[argc++] = r->password;
        rc = command(r, c, argc, argv, NULL, &rep, "authenticate", d);
        if (rc < 0)
            goto out_free;
        freeReplyObject(rep);
    }
    if (r->addr.db != 0) {
        snprintf(db, sizeof(db), "%d", r->addr.db);
        rc = command(r, c, 2, (const char *[]){"SELECT", db}, NULL, &rep, "select a database", d);
        if (rc < 0)
            goto out_free;
        freeReplyObject(rep);
    }
    rc = load_scripts(r, c, d);
    if (rc < 0)
        goto out_free;
    *out = c;
    return 0;

out_free:
    redisFree(c);
    return rc;
}

/* An idle connection (*reused) or a new one. */
static int
take(struct redis *r, redisContext **c, bool *reused, struct sl_diag *d)
{
    pthread_mutex_lock(&r->lock);
    *reused = r->nidle > 0;
    if (*reused)
        *c = r->idle[--r->nidle];
    pthread_mutex_unlock(&r->lock);
    return *reused ? 0 : dial(r, c, d);
}

/* Give c back, or close it if it failed (its state is unknown). */
static void
give(struct redis *r, redisContext *c)
{
    if (c->err) {
        redisFree(c);
        return;
    }
    pthread_mutex_lock(&r->lock);
    SL_GROW(r->idle, r->cap, r->nidle + 1);
    r->idle[r->nidle++] = c;
    pthread_mutex_unlock(&r->lock);
}

/* One call's work on one connection: >= 0 or a sluice code. */
typedef int (*call_fn)(struct redis *r, redisContext *c, void *arg, struct sl_diag *d);

/*
 * Run fn on a connection.  A reused connection that proves dead (its words
 * are dropped) is closed and fn runs again on the next one, at the latest
 * on a new connection, whose failure stands.  Safe because every call is
 * idempotent (a put of the same records leaves the same state).
 */
static int
run(struct redis *r, call_fn fn, void *arg, struct sl_diag *d)
{
    struct sl_diag first;
    redisContext *c;
    bool reused, dead;
    int rc;

    for (;;) {
        rc = take(r, &c, &reused, d);
        if (rc < 0)
            return rc;
        sl_diag_init(&first);
        rc = fn(r, c, arg, reused ? &first : d);
        dead = c->err != 0;
        give(r, c);
        if (rc >= 0 || !reused || !dead)
            break;
    }
    if (rc < 0 && reused && d != NULL && d->code == 0)
        *d = first;
    return rc;
}

/* ---- keys and values ------------------------------------------------------- */

/* A piece of a struct sl_buf, by offset (the buffer may move). */
struct piece {
    size_t off, len;
};

static struct piece
add_key(struct sl_buf *b, const char *group, int64_t version, const char *entity)
{
    size_t off = b->len;

    if (entity != NULL)
        sl_buf_addf(b, "sluice:%s:v%lld:%s", group, (long long)version, entity);
    else
        sl_buf_addf(b, "sluice:%s:v%lld#count", group, (long long)version);
    return (struct piece){off, b->len - off};
}

/* Decode "<event_ms> <written_ms> <json>" into rec; false if it is not one
 * we wrote.  values_json points into s (NUL-terminated by hiredis). */
static bool
decode(const char *s, size_t len, struct online_record *rec)
{
    const char *sp1 = memchr(s, ' ', len), *sp2;

    if (sp1 == NULL)
        return false;
    sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - s));
    if (sp2 == NULL || sl_parse_i64(s, (size_t)(sp1 - s), &rec->event_ms) < 0 ||
        sl_parse_i64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &rec->written_ms) < 0)
        return false;
    rec->values_json = sp2 + 1;
    return online_ms_valid(rec->event_ms) && online_ms_valid(rec->written_ms);
}

/* ---- the verbs ---------------------------------------------------------------- */

struct put_args {
    const struct online_record *recs;
    size_t n;
    bool reloaded; /* the scripts were loaded again after NOSCRIPT */
};

/* Send every chunk's EVALSHA, then read every reply: one round trip. */
static int
put_call(struct redis *r, redisContext *c, void *arg, struct sl_diag *d)
{
    struct put_args *a = arg;
    size_t nchunks = (a->n + CHUNK - 1) / CHUNK;
    size_t nargs = 3 * nchunks + 3 * a->n;
    const char **argv = sl_malloc(nargs * sizeof(*argv));
    size_t *lens = sl_malloc(nargs * sizeof(*lens));
    struct piece *pieces = sl_malloc(3 * a->n * sizeof(*pieces));
    char nkeys[16];
    struct sl_buf b;
    int rc = 0, applied = 0;
    bool noscript = false;

    sl_buf_init(&b);
    for (size_t i = 0; i < a->n; i++) {
        const struct online_record *rec = &a->recs[i];
        size_t off;

        pieces[3 * i] = add_key(&b, rec->group, rec->version, rec->entity);
        pieces[3 * i + 1] = add_key(&b, rec->group, rec->version, NULL);
        off = b.len;
        sl_buf_addf(&b, "%lld %lld ", (long long)rec->event_ms, (long long)rec->written_ms);
        sl_buf_adds(&b, rec->values_json);
        pieces[3 * i + 2] = (struct piece){off, b.len - off};
    }
    for (size_t k = 0; k < nchunks; k++) {
        size_t first = k * CHUNK, m = a->n - first < CHUNK ? a->n - first : CHUNK, j = 0;

        snprintf(nkeys, sizeof(nkeys), "%zu", 2 * m);
        argv[j] = "EVALSHA", lens[j++] = 7;
        argv[j] = r->put_sha, lens[j++] = 40;
        argv[j] = nkeys, lens[j++] = strlen(nkeys);
        for (size_t i = first; i < first + m; i++)
            for (int p = 0; p < 2; p++, j++) {
                argv[j] = b.data + pieces[3 * i + p].off;
                lens[j] = pieces[3 * i + p].len;
            }
        for (size_t i = first; i < first + m; i++, j++) {
            argv[j] = b.data + pieces[3 * i + 2].off;
            lens[j] = pieces[3 * i + 2].len;
        }
        /* Only buffers here; the pipeline goes out at the first reply. */
        if (redisAppendCommandArgv(c, (int)j, argv, lens) != REDIS_OK) {
            rc = lost(r, c, "write to", d);
            goto out;
        }
    }
    /* Read every reply even after an error, so the connection stays in step. */
    for (size_t k = 0; k < nchunks; k++) {
        redisReply *rep;

        if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
            rc = lost(r, c, "write to", d);
            goto out;
        }
        if (is_error(rep, "NOSCRIPT"))
            noscript = true;
        else if (rep->type == REDIS_REPLY_ERROR && rc == 0)
            rc = refused(r, rep, "store records", d);
        else if (rep->type == REDIS_REPLY_INTEGER)
            applied += (int)rep->integer;
        freeReplyObject(rep);
    }
    if (rc == 0 && noscript && a->reloaded) {
        rc = sl_fail(d, SL_ERR_CORRUPT,
                     "redis at %s forgets its scripts as soon as they are loaded", r->hostport);
    } else if (rc == 0 && noscript) {
        /* The server forgot the scripts: load them and put everything again. */
        a->reloaded = true;
        rc = load_scripts(r, c, d);
        if (rc == 0)
            rc = put_call(r, c, arg, d);
        goto out;
    }
    if (rc == 0)
        rc = applied;
out:
    sl_buf_release(&b);
    free(pieces);
    free(lens);
    free(argv);
    return rc;
}

static int
redis_put(struct online *o, const struct online_record *recs, size_t n, struct sl_diag *d)
{
    struct put_args a = {recs, n, false};

    return run(o->impl, put_call, &a, d);
}

struct get_args {
    const char *group;
    int64_t version;
    const char *const *entities;
    size_t n;
    online_found_fn found;
    void *arg;
};

static int
get_call(struct redis *r, redisContext *c, void *arg, struct sl_diag *d)
{
    const struct get_args *a = arg;
    const char **argv = sl_malloc((a->n + 1) * sizeof(*argv));
    size_t *lens = sl_malloc((a->n + 1) * sizeof(*lens));
    struct piece *pieces = sl_malloc(a->n * sizeof(*pieces));
    struct online_record *recs = sl_malloc(a->n * sizeof(*recs));
    redisReply *rep = NULL;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    for (size_t i = 0; i < a->n; i++)
        pieces[i] = add_key(&b, a->group, a->version, a->entities[i]);
    argv[0] = "MGET", lens[0] = 4;
    for (size_t i = 0; i < a->n; i++) {
        argv[i + 1] = b.data + pieces[i].off;
        lens[i + 1] = pieces[i].len;
    }
    rc = command(r, c, (int)a->n + 1, argv, lens, &rep, "read from", d);
    if (rc < 0)
        goto out;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != a->n) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "redis at %s answered MGET of %zu keys strangely",
                     r->hostport, a->n);
        goto out;
    }
    /* Decode the whole batch first: a failing get calls nothing. */
    for (size_t i = 0; i < a->n; i++) {
        const redisReply *e = rep->element[i];

        recs[i] = (struct online_record){a->group, a->version, a->entities[i], 0, 0, NULL};
        if (e->type == REDIS_REPLY_NIL)
            continue;
        if (e->type != REDIS_REPLY_STRING || !decode(e->str, e->len, &recs[i])) {
            recs[i].values_json = NULL;
            rc = sl_fail(d, SL_ERR_CORRUPT, "redis at %s holds a damaged record at '%.*s'",
                         r->hostport, (int)lens[i + 1], argv[i + 1]);
            goto out;
        }
    }
    for (size_t i = 0; i < a->n && rc == 0; i++)
        if (recs[i].values_json != NULL)
            rc = a->found(a->arg, i, &recs[i]);
out:
    if (rep != NULL)
        freeReplyObject(rep);
    sl_buf_release(&b);
    free(recs);
    free(pieces);
    free(lens);
    free(argv);
    return rc;
}

static int
redis_get(struct online *o, const char *group, int64_t version, const char *const *entities,
          size_t n, online_found_fn found, void *arg, struct sl_diag *d)
{
    struct get_args a = {group, version, entities, n, found, arg};

    return run(o->impl, get_call, &a, d);
}

struct remove_args {
    const char *group;
    int64_t version;
    const char *entity;
    bool reloaded; /* the scripts were loaded again after NOSCRIPT */
};

static int
remove_call(struct redis *r, redisContext *c, void *arg, struct sl_diag *d)
{
    struct remove_args *a = arg;
    const char *argv[5] = {"EVALSHA", r->del_sha, "2"};
    size_t lens[5] = {7, 40, 1};
    struct piece k, n;
    redisReply *rep;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    k = add_key(&b, a->group, a->version, a->entity);
    n = add_key(&b, a->group, a->version, NULL);
    argv[3] = b.data + k.off, lens[3] = k.len;
    argv[4] = b.data + n.off, lens[4] = n.len;
    rep = redisCommandArgv(c, 5, argv, lens);
    if (rep == NULL) {
        rc = lost(r, c, "delete from", d);
    } else if (is_error(rep, "NOSCRIPT") && !a->reloaded) {
        a->reloaded = true;
        rc = load_scripts(r, c, d);
        if (rc == 0)
            rc = remove_call(r, c, arg, d);
    } else if (rep->type == REDIS_REPLY_ERROR) {
        rc = refused(r, rep, "delete a record", d);
    } else {
        rc = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    }
    if (rep != NULL)
        freeReplyObject(rep);
    sl_buf_release(&b);
    return rc;
}

static int
redis_remove(struct online *o, const char *group, int64_t version, const char *entity,
             struct sl_diag *d)
{
    struct remove_args a = {group, version, entity, false};

    return run(o->impl, remove_call, &a, d);
}

struct count_args {
    const char *group;
    int64_t version;
    int64_t *n;
};

static int
count_call(struct redis *r, redisContext *c, void *arg, struct sl_diag *d)
{
    const struct count_args *a = arg;
    const char *argv[2] = {"GET"};
    size_t lens[2] = {3};
    redisReply *rep;
    struct piece k;
    struct sl_buf b;
    int rc;

    sl_buf_init(&b);
    k = add_key(&b, a->group, a->version, NULL);
    argv[1] = b.data + k.off, lens[1] = k.len;
    rc = command(r, c, 2, argv, lens, &rep, "read from", d);
    if (rc == 0) {
        *a->n = 0;
        if (rep->type == REDIS_REPLY_STRING && sl_parse_i64(rep->str, rep->len, a->n) < 0)
            rc = sl_fail(d, SL_ERR_CORRUPT, "redis at %s holds a bad count at '%s'", r->hostport,
                         argv[1]);
        freeReplyObject(rep);
    }
    sl_buf_release(&b);
    return rc;
}

static int
redis_count(struct online *o, const char *group, int64_t version, int64_t *n, struct sl_diag *d)
{
    struct count_args a = {group, version, n};

    return run(o->impl, count_call, &a, d);
}

/* ---- open and close ------------------------------------------------------- */

static void
redis_close(struct online *o)
{
    struct redis *r = o->impl;

    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nidle; i++)
        redisFree(r->idle[i]);
    free(r->idle);
    if (r->password != NULL) {
        explicit_bzero(r->password, strlen(r->password));
        free(r->password);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
    o->impl = NULL;
}

static const struct online_ops redis_ops = {
    .name = "redis",
    .put = redis_put,
    .get = redis_get,
    .remove = redis_remove,
    .count = redis_count,
    .close = redis_close,
};

int
online_redis_open(struct online *o, const struct online_redis_addr *a, struct sl_diag *d)
{
    struct redis *r = sl_calloc(1, sizeof(*r));
    const char *pw = getenv("REDIS_PASSWORD");
    redisContext *c;
    int rc;

    r->addr = *a;
    snprintf(r->hostport, sizeof(r->hostport), strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host,
             a->port);
    if (pw != NULL && *pw != '\0')
        r->password = sl_strdup(pw);
    pthread_mutex_init(&r->lock, NULL);
    o->ops = &redis_ops;
    o->impl = r;
    o->where = a->db ? sl_printf("redis://%s/%d", r->hostport, a->db)
                     : sl_printf("redis://%s", r->hostport);

    if (a->user[0] != '\0' && r->password == NULL) {
        rc = sl_fail(d, SL_ERR_INPUT,
                     "online store location names redis user '%s' but REDIS_PASSWORD is not set",
                     a->user);
        goto out_close;
    }
    /* Connect now, so a wrong address or password shows at open. */
    rc = dial(r, &c, d);
    if (rc < 0)
        goto out_close;
    give(r, c);
    return 0;

out_close:
    redis_close(o);
    free(o->where);
    o->where = NULL;
    o->ops = NULL;
    return rc;
}
