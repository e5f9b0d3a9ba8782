/*
 * online_int.h - what an online store back end provides.  Only features/
 * (and its unit test) includes this.
 *
 * online.c checks every argument (names, sizes, times) before a back end
 * sees it, and applies the TTL to what a back end's get finds, so the back
 * ends only store, find and delete.
 */
#ifndef SL_FEATURES_ONLINE_INT_H
#define SL_FEATURES_ONLINE_INT_H

#include <stdbool.h>

#include "features/online.h"

/*
 * A back end's get calls this for each entity it found, in order, after
 * the whole batch was read (so a failing get calls it never); rec->group
 * and rec->entity are the caller's arguments.
 */
typedef int (*online_found_fn)(void *arg, size_t i, const struct online_record *rec);

struct online_ops {
    const char *name; /* "lmdb", "redis" */
    /* Put n checked records; the number that took effect, or < 0. */
    int (*put)(struct online *o, const struct online_record *recs, size_t n, struct sl_diag *d);
    /* Find n entities; found() for each one with a record. */
    int (*get)(struct online *o, const char *group, int64_t version, const char *const *entities,
               size_t n, online_found_fn found, void *arg, struct sl_diag *d);
    /* 1 if a record was deleted, 0 if there was none, or < 0. */
    int (*remove)(struct online *o, const char *group, int64_t version, const char *entity,
                  struct sl_diag *d);
    int (*count)(struct online *o, const char *group, int64_t version, int64_t *n,
                 struct sl_diag *d);
    /* Free o->impl and everything it holds. */
    void (*close)(struct online *o);
};

struct online {
    const struct online_ops *ops;
    char *where; /* for messages: the LMDB folder or the Redis URL without user */
    void *impl;  /* the back end's state */
};

/* Whether ms is a time a record may carry (see online.h); back ends check
 * what they decode with it, so a damaged record is SL_ERR_CORRUPT. */
static inline bool
online_ms_valid(int64_t ms)
{
    return ms >= ONLINE_MS_MIN && ms <= ONLINE_MS_MAX;
}

/* A parsed redis:// location. */
struct online_redis_addr {
    char host[256]; /* a name, an IPv4 address or an IPv6 one (no brackets) */
    int port;       /* 6379 unless given */
    int db;         /* 0 unless given */
    char user[128]; /* an ACL user name, "" for none (then AUTH password) */
};

/* Parse a redis:// location (the checks of online_location_check()). */
int online_redis_parse(const char *location, struct online_redis_addr *a, struct sl_diag *d);

/* Back ends: fill o->ops, o->impl and o->where, or fail leaving them NULL. */
int online_lmdb_open(struct online *o, const char *lake_dir, struct sl_diag *d);
int online_redis_open(struct online *o, const struct online_redis_addr *a, struct sl_diag *d);

/*
 * The size LMDB's map starts at (bytes, a multiple of the page size); it
 * doubles each time it fills.  Tests lower it to reach the growth path.
 */
extern size_t online_lmdb_map_start;

#endif
