/*
 * online_lmdb.c - the embedded online store: one LMDB environment per lake.
 *
 *   <lake>/_online/data.mdb, lock.mdb    the environment (LMDB's own files)
 *
 * Two databases inside, both opened once at open time:
 *
 *   "records"  one entry per (group, version, entity)
 *       key    group | 0x00 | version | entity
 *              version: 8 bytes big-endian with the sign bit flipped, so
 *              keys sort by group, then version numerically, then entity,
 *              and each group version is one contiguous range
 *       value  0x01 | event_ms | written_ms | values JSON | 0x00
 *              (times 8 bytes little-endian; 0x01 is the format; the NUL
 *              lets a get hand the JSON out of the map without a copy)
 *
 *   "counts"   one entry per group version that has records
 *       key    group | 0x00 | version      value  entities, 8 bytes LE
 *
 * Why composite keys in one database rather than a named database per
 * group version: named databases must be counted in advance
 * (mdb_env_set_maxdbs), and opening one while other transactions run needs
 * its own serialisation; with one database, new groups and versions cost
 * nothing and readers never open anything.  What a database per version
 * would give - a cheap count - the "counts" database gives, kept in the
 * same write transaction as the records, so it is exact.
 *
 * Concurrency: MDB_NOTLS, so a read transaction belongs to the call that
 * began it, not to its thread; each get is one read transaction and never
 * blocks on a writer.  Writers take turns on LMDB's own writer lock.  The
 * map (the file's largest size) starts at online_lmdb_map_start and doubles
 * when a write finds it full (MDB_MAP_FULL: abort, grow, write again), up to
 * MAP_MAX.  LMDB allows changing the map size only while this process runs
 * no transaction, so every transaction holds `resize` shared and growing
 * holds it exclusively; another process that grew the map shows as
 * MDB_MAP_RESIZED at begin, adopted the same way.
 */
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"
#include "core/mem.h"
#include "features/online_int.h"
#include "store/layout.h"
#include "core/banned.h"

#define FORMAT 0x01
#define HEAD 17 /* format, event_ms, written_ms */
#define KEY_MAX (ONLINE_GROUP_MAX + 1 + 8 + ONLINE_ENTITY_MAX)
#define MAP_MAX ((size_t)1 << 40) /* 1 TiB of address space */
#define READERS 1024              /* read transactions at once, all processes */
#define MAP_GROWN 1               /* a write's "grow the map and retry" */

_Static_assert(KEY_MAX <= 511, "LMDB's default key size limit");

size_t online_lmdb_map_start = (size_t)64 << 20;

struct lmdb {
    MDB_env *env;
    MDB_dbi records; /* see the layout above */
    MDB_dbi counts;
    pthread_rwlock_t resize; /* shared by transactions, exclusive to grow */
    const char *dir;         /* o->where, for messages */
};

/* ---- encoding --------------------------------------------------------------- */

static void
put_le64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;

    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t
get_le64(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 0; i < 8; i++)
        u |= (uint64_t)p[i] << (8 * i);
    return (int64_t)u;
}

/* The key of a group version (entity NULL: the "counts" key) into buf of
 * KEY_MAX bytes; its length. */
static size_t
make_key(unsigned char *buf, const char *group, int64_t version, const char *entity)
{
    size_t glen = strlen(group), elen = entity ? strlen(entity) : 0;
    uint64_t u = (uint64_t)version ^ ((uint64_t)1 << 63);

    memcpy(buf, group, glen);
    buf[glen] = 0;
    for (int i = 0; i < 8; i++)
        buf[glen + 1 + i] = (unsigned char)(u >> (56 - 8 * i));
    memcpy(buf + glen + 9, entity ? entity : "", elen);
    return glen + 9 + elen;
}

/* Decode a "records" value into rec's times and values; false if it is not
 * one we wrote. */
static bool
decode(const MDB_val *v, struct online_record *rec)
{
    const unsigned char *p = v->mv_data;

    if (v->mv_size < HEAD + 1 || p[0] != FORMAT || p[v->mv_size - 1] != 0)
        return false;
    rec->event_ms = get_le64(p + 1);
    rec->written_ms = get_le64(p + 9);
    rec->values_json = (const char *)p + HEAD;
    return online_ms_valid(rec->event_ms) && online_ms_valid(rec->written_ms);
}

/* ---- errors and transactions ---------------------------------------------- */

/* A sluice code for an LMDB code. */
static int
code_of(int mrc)
{
    switch (mrc) {
    case MDB_MAP_FULL:
        return -ENOSPC;
    case MDB_TXN_FULL:
    case MDB_BAD_VALSIZE:
        return SL_ERR_LIMIT;
    case MDB_READERS_FULL:
        return SL_ERR_BUSY;
    default:
        return mrc > 0 ? -mrc : SL_ERR_CORRUPT;
    }
}

static int
lmdb_fail(const struct lmdb *l, int mrc, const char *what, struct sl_diag *d)
{
    return sl_fail(d, code_of(mrc), "could not %s the online store '%s': %s", what, l->dir,
                   mdb_strerror(mrc));
}

/* Take the map size another process set (MDB_MAP_RESIZED). */
static int
adopt_map(struct lmdb *l, struct sl_diag *d)
{
    int mrc;

    pthread_rwlock_wrlock(&l->resize);
    mrc = mdb_env_set_mapsize(l->env, 0);
    pthread_rwlock_unlock(&l->resize);
    return mrc ? lmdb_fail(l, mrc, "resize", d) : 0;
}

/* Double the map, unless someone did since it was seen at `seen` bytes. */
static int
grow_map(struct lmdb *l, size_t seen, struct sl_diag *d)
{
    MDB_envinfo info;
    int mrc = 0;

    pthread_rwlock_wrlock(&l->resize);
    mdb_env_info(l->env, &info);
    if (info.me_mapsize == seen) {
        if (seen >= MAP_MAX)
            mrc = MDB_MAP_FULL;
        else
            mrc = mdb_env_set_mapsize(l->env, seen * 2);
    }
    pthread_rwlock_unlock(&l->resize);
    if (mrc == MDB_MAP_FULL)
        return sl_fail(d, -ENOSPC, "the online store '%s' is full at %zu bytes", l->dir, seen);
    return mrc ? lmdb_fail(l, mrc, "grow", d) : 0;
}

/*
 * Begin a transaction (flags 0 or MDB_RDONLY) holding `resize` shared, and
 * (if mapsize is not NULL) the map size it runs with into *mapsize; end
 * with txn_end().
 */
static int
txn_begin(struct lmdb *l, unsigned flags, MDB_txn **txn, size_t *mapsize, struct sl_diag *d)
{
    MDB_envinfo info;
    int mrc, rc;

    for (;;) {
        pthread_rwlock_rdlock(&l->resize);
        mrc = mdb_txn_begin(l->env, NULL, flags, txn);
        if (mrc == 0) {
            if (mapsize != NULL) {
                mdb_env_info(l->env, &info);
                *mapsize = info.me_mapsize;
            }
            return 0;
        }
        pthread_rwlock_unlock(&l->resize);
        if (mrc != MDB_MAP_RESIZED)
            return lmdb_fail(l, mrc, flags ? "read" : "write to", d);
        rc = adopt_map(l, d);
        if (rc < 0)
            return rc;
    }
}

/* Commit (if commit) or abort txn and drop `resize`; the LMDB code. */
static int
txn_end(struct lmdb *l, MDB_txn *txn, bool commit)
{
    int mrc = 0;

    if (commit)
        mrc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    pthread_rwlock_unlock(&l->resize);
    return mrc;
}

/* A step inside a write transaction: 0, MAP_GROWN after MDB_MAP_FULL (the
 * transaction is then aborted and the step run again in a larger map), or
 * a sluice code with words. */
typedef int (*write_fn)(struct lmdb *l, MDB_txn *txn, void *arg, struct sl_diag *d);

static int
write_txn(struct lmdb *l, write_fn fn, void *arg, struct sl_diag *d)
{
    MDB_txn *txn;
    size_t mapsize;
    int rc, mrc;

    for (;;) {
        rc = txn_begin(l, 0, &txn, &mapsize, d);
        if (rc < 0)
            return rc;
        rc = fn(l, txn, arg, d);
        mrc = txn_end(l, txn, rc == 0);
        if (rc == 0 && mrc == MDB_MAP_FULL)
            rc = MAP_GROWN;
        else if (rc == 0 && mrc != 0)
            return lmdb_fail(l, mrc, "commit to", d);
        if (rc != MAP_GROWN)
            return rc;
        rc = grow_map(l, mapsize, d);
        if (rc < 0)
            return rc;
    }
}

/* A step's verdict on an LMDB code from a put or delete. */
static int
step_fail(struct lmdb *l, int mrc, struct sl_diag *d)
{
    return mrc == MDB_MAP_FULL ? MAP_GROWN : lmdb_fail(l, mrc, "write to", d);
}

/* Add delta to a group version's entity count. */
static int
count_add(struct lmdb *l, MDB_txn *txn, const char *group, int64_t version, int64_t delta,
          struct sl_diag *d)
{
    unsigned char kbuf[KEY_MAX], nbuf[8];
    MDB_val k = {make_key(kbuf, group, version, NULL), kbuf}, v;
    int64_t n = 0;
    int mrc;

    if (delta == 0)
        return 0;
    mrc = mdb_get(txn, l->counts, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        n = get_le64(v.mv_data);
    else if (mrc != MDB_NOTFOUND)
        return mrc ? lmdb_fail(l, mrc, "read", d)
                   : sl_fail(d, SL_ERR_CORRUPT,
                             "the online store '%s' holds a bad count of group '%s' version %lld",
                             l->dir, group, (long long)version);
    n += delta;
    if (n <= 0) {
        mrc = mdb_del(txn, l->counts, &k, NULL);
        return mrc && mrc != MDB_NOTFOUND ? step_fail(l, mrc, d) : 0;
    }
    put_le64(nbuf, n);
    v = (MDB_val){8, nbuf};
    mrc = mdb_put(txn, l->counts, &k, &v, 0);
    return mrc ? step_fail(l, mrc, d) : 0;
}

/* ---- the verbs ---------------------------------------------------------------- */

struct put_args {
    const struct online_record *recs;
    size_t n;
    int applied; /* records that took effect */
};

static int
put_step(struct lmdb *l, MDB_txn *txn, void *arg, struct sl_diag *d)
{
    struct put_args *a = arg;
    unsigned char kbuf[KEY_MAX];
    const char *cgroup = NULL; /* the group version whose count runs in added */
    int64_t cversion = 0, added = 0;
    int rc, mrc;

    a->applied = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct online_record *r = &a->recs[i];
        MDB_val k = {make_key(kbuf, r->group, r->version, r->entity), kbuf}, v;
        struct online_record cur;
        size_t jlen = strlen(r->values_json);
        bool fresh = false;

        mrc = mdb_get(txn, l->records, &k, &v);
        if (mrc == MDB_NOTFOUND)
            fresh = true;
        else if (mrc != 0)
            return lmdb_fail(l, mrc, "read", d);
        else if (!decode(&v, &cur))
            return sl_fail(d, SL_ERR_CORRUPT,
                           "the online store '%s' holds a damaged record "
                           "of group '%s' version %lld entity '%s'",
                           l->dir, r->group, (long long)r->version, r->entity);
        else if (r->event_ms < cur.event_ms)
            continue; /* a replay of older values */

        /* MDB_RESERVE: LMDB makes room in the page and we write in place. */
        v = (MDB_val){HEAD + jlen + 1, NULL};
        mrc = mdb_put(txn, l->records, &k, &v, MDB_RESERVE);
        if (mrc != 0)
            return step_fail(l, mrc, d);
        unsigned char *p = v.mv_data;

        p[0] = FORMAT;
        put_le64(p + 1, r->event_ms);
        put_le64(p + 9, r->written_ms);
        memcpy(p + HEAD, r->values_json, jlen + 1);
        a->applied++;
        if (!fresh)
            continue;
        if (cgroup == NULL || cversion != r->version || strcmp(cgroup, r->group) != 0) {
            rc = cgroup ? count_add(l, txn, cgroup, cversion, added, d) : 0;
            if (rc != 0)
                return rc;
            cgroup = r->group;
            cversion = r->version;
            added = 0;
        }
        added++;
    }
    return cgroup ? count_add(l, txn, cgroup, cversion, added, d) : 0;
}

static int
lmdb_put(struct online *o, const struct online_record *recs, size_t n, struct sl_diag *d)
{
    struct put_args a = {recs, n, 0};
    int rc = write_txn(o->impl, put_step, &a, d);

    return rc < 0 ? rc : a.applied;
}

static int
lmdb_get(struct online *o, const char *group, int64_t version, const char *const *entities,
         size_t n, online_found_fn found, void *arg, struct sl_diag *d)
{
    struct lmdb *l = o->impl;
    struct online_record *recs = sl_malloc(n * sizeof(*recs));
    unsigned char kbuf[KEY_MAX];
    MDB_txn *txn;
    int rc, mrc;

    rc = txn_begin(l, MDB_RDONLY, &txn, NULL, d);
    if (rc < 0)
        goto out_free;
    /* Read and check the whole batch first: a failing get calls nothing. */
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {make_key(kbuf, group, version, entities[i]), kbuf}, v;

        recs[i] = (struct online_record){group, version, entities[i], 0, 0, NULL};
        mrc = mdb_get(txn, l->records, &k, &v);
        if (mrc == MDB_NOTFOUND)
            continue;
        if (mrc != 0) {
            rc = lmdb_fail(l, mrc, "read", d);
            goto out_end;
        }
        if (!decode(&v, &recs[i])) {
            rc = sl_fail(d, SL_ERR_CORRUPT,
                         "the online store '%s' holds a damaged record of "
                         "group '%s' version %lld entity '%s'",
                         l->dir, group, (long long)version, entities[i]);
            goto out_end;
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (recs[i].values_json != NULL)
            rc = found(arg, i, &recs[i]);
out_end:
    txn_end(l, txn, false);
out_free:
    free(recs);
    return rc;
}

struct remove_args {
    const char *group;
    int64_t version;
    const char *entity;
    bool removed;
};

static int
remove_step(struct lmdb *l, MDB_txn *txn, void *arg, struct sl_diag *d)
{
    struct remove_args *a = arg;
    unsigned char kbuf[KEY_MAX];
    MDB_val k = {make_key(kbuf, a->group, a->version, a->entity), kbuf};
    int mrc = mdb_del(txn, l->records, &k, NULL);

    a->removed = mrc == 0;
    if (mrc == MDB_NOTFOUND)
        return 0;
    if (mrc != 0)
        return step_fail(l, mrc, d);
    return count_add(l, txn, a->group, a->version, -1, d);
}

static int
lmdb_remove(struct online *o, const char *group, int64_t version, const char *entity,
            struct sl_diag *d)
{
    struct remove_args a = {group, version, entity, false};
    int rc = write_txn(o->impl, remove_step, &a, d);

    return rc < 0 ? rc : a.removed;
}

static int
lmdb_count(struct online *o, const char *group, int64_t version, int64_t *n, struct sl_diag *d)
{
    struct lmdb *l = o->impl;
    unsigned char kbuf[KEY_MAX];
    MDB_val k = {make_key(kbuf, group, version, NULL), kbuf}, v;
    MDB_txn *txn;
    int rc, mrc;

    rc = txn_begin(l, MDB_RDONLY, &txn, NULL, d);
    if (rc < 0)
        return rc;
    mrc = mdb_get(txn, l->counts, &k, &v);
    if (mrc == 0 && v.mv_size == 8)
        *n = get_le64(v.mv_data);
    else if (mrc == 0)
        rc = sl_fail(d, SL_ERR_CORRUPT,
                     "the online store '%s' holds a bad count of group '%s' version %lld", l->dir,
                     group, (long long)version);
    else if (mrc != MDB_NOTFOUND)
        rc = lmdb_fail(l, mrc, "read", d);
    txn_end(l, txn, false);
    return rc;
}

/* ---- open and close ------------------------------------------------------- */

static void
lmdb_close(struct online *o)
{
    struct lmdb *l = o->impl;

    if (l == NULL)
        return;
    mdb_env_close(l->env); /* also closes the databases */
    pthread_rwlock_destroy(&l->resize);
    free(l);
    o->impl = NULL;
}

static const struct online_ops lmdb_ops = {
    .name = "lmdb",
    .put = lmdb_put,
    .get = lmdb_get,
    .remove = lmdb_remove,
    .count = lmdb_count,
    .close = lmdb_close,
};

static int
open_dbs(struct lmdb *l, MDB_txn *txn, void *arg, struct sl_diag *d)
{
    int mrc = mdb_dbi_open(txn, "records", MDB_CREATE, &l->records);

    if (mrc == 0)
        mrc = mdb_dbi_open(txn, "counts", MDB_CREATE, &l->counts);
    return mrc ? step_fail(l, mrc, d) : 0;
}

int
online_lmdb_open(struct online *o, const char *lake_dir, struct sl_diag *d)
{
    struct lmdb *l = sl_calloc(1, sizeof(*l));
    pthread_rwlockattr_t attr;
    int rc, mrc, dead;

    o->where = layout_online_dir(lake_dir);
    l->dir = o->where;
    /* Writer-preferring, so a growing writer is not starved by gets. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&l->resize, &attr);
    pthread_rwlockattr_destroy(&attr);
    o->ops = &lmdb_ops;
    o->impl = l;

    rc = sl_mkdirs(o->where, 0755, d);
    if (rc < 0)
        goto out_close;
    mrc = mdb_env_create(&l->env);
    if (mrc != 0) {
        rc = lmdb_fail(l, mrc, "create", d);
        goto out_close;
    }
    mdb_env_set_maxdbs(l->env, 2);
    mdb_env_set_maxreaders(l->env, READERS);
    /* LMDB takes the larger of this and what the file holds already. */
    mdb_env_set_mapsize(l->env, online_lmdb_map_start);
    /* NORDAHEAD: gets are point reads, read-ahead only evicts useful pages. */
    mrc = mdb_env_open(l->env, o->where, MDB_NOTLS | MDB_NORDAHEAD, 0644);
    if (mrc != 0) {
        rc = lmdb_fail(l, mrc, "open", d);
        goto out_close;
    }
    /* Free the reader slots of processes that died in a read. */
    mdb_reader_check(l->env, &dead);
    rc = write_txn(l, open_dbs, NULL, d);
    if (rc < 0)
        goto out_close;
    return 0;

out_close:
    lmdb_close(o); /* mdb_env_close() also after a failed mdb_env_open() */
    free(o->where);
    o->where = NULL;
    o->ops = NULL;
    return rc;
}
