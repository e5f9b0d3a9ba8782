/*
 * online.h - the feature store's online store: the latest record per
 * entity of each feature group version, for serving.
 *
 * Materialisation (and streaming ingestion, for stream-fed groups) puts
 * records; the serving API gets them, many entities at a time.  A record is
 * kept per (group, version, entity), and the one kept is the one with the
 * latest event time: materialisation may replay old data, and an older
 * event time never overwrites a newer one.  Freshness is judged on read:
 * with a TTL, a record whose event time is too old is not served.
 *
 * Two back ends, chosen by online_open()'s location (the online_store: key
 * of sluice.yaml):
 *
 *   NULL or ""                embedded: LMDB under <lake>/_online/, which
 *                             survives restarts (online_lmdb.c)
 *   redis://[user@]host[:port][/db]
 *                             Redis, shared by several serving nodes
 *                             (online_redis.c); the password, if any, comes
 *                             from REDIS_PASSWORD, never from the location
 *
 * Names: a group is 1 to ONLINE_GROUP_MAX bytes of [A-Za-z0-9_.-]; an entity
 * key is 1 to ONLINE_ENTITY_MAX bytes of anything but NUL; a version is
 * >= 1.  Times are milliseconds since the epoch, within the years 0001 to
 * 9999 (ONLINE_MS_MIN..ONLINE_MS_MAX).  Values are one JSON object's text
 * of at most ONLINE_VALUE_MAX bytes, stored and returned as given (not
 * parsed here).  Anything else is SL_ERR_INPUT, SL_ERR_LIMIT for sizes.
 *
 * Errors: SL_ERR_UNAVAILABLE when Redis cannot be reached or drops the
 * connection (retryable: sl_retryable()); SL_ERR_CORRUPT for a stored
 * record that does not decode; -ENOSPC and other -errno from the file
 * system; always with words in the diag.
 *
 * Thread-safety: put, get, delete and count may be called on one struct
 * online from any number of threads at once.  LMDB: each get is one read
 * transaction of its own (MDB_NOTLS), puts take turns on LMDB's one writer.
 * Redis: a pool of connections, one per call in flight (so as many as
 * threads calling at once), taken and given back under a mutex.
 * online_open() and online_close() must not overlap any other call on the
 * same struct online.
 */
#ifndef SL_FEATURES_ONLINE_H
#define SL_FEATURES_ONLINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

#define ONLINE_GROUP_MAX 128              /* bytes of a group name */
#define ONLINE_ENTITY_MAX 256             /* bytes of an entity key */
#define ONLINE_VALUE_MAX (1 << 20)        /* bytes of one record's values */
#define ONLINE_BATCH_MAX 100000           /* records per put, entities per get */
#define ONLINE_MS_MIN (-62135596800000LL) /* 0001-01-01T00:00:00Z */
#define ONLINE_MS_MAX 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

struct online;

/* One record.  In a put the caller owns the strings; in a get callback
 * group and entity are the caller's own arguments and values_json is
 * borrowed until the callback returns. */
struct online_record {
    const char *group;       /* the feature group's name */
    int64_t version;         /* the group's version, >= 1 */
    const char *entity;      /* the entity key ("customer-42") */
    int64_t event_ms;        /* when the values were true (the event time) */
    int64_t written_ms;      /* when they were written (the write time) */
    const char *values_json; /* the feature values: one JSON object's text */
};

/*
 * Called by online_get() for each found, fresh record, in the order of
 * the entities asked for; i is the entity's index in that array.  A
 * negative return stops the get, which returns it.  The callback must not
 * call back into the same struct online (on LMDB it runs inside a read
 * transaction).
 */
typedef int (*online_record_cb)(void *arg, size_t i, const struct online_record *rec);

/*
 * Check an online_store: location as a user wrote it: NULL, "" or a
 * redis:// URL with a host, an optional port (1-65535) and an optional
 * database number.  A URL holding a password (redis://user:pw@...) is
 * refused: the password belongs in REDIS_PASSWORD.  SL_ERR_INPUT with a
 * hint naming the accepted forms.
 */
int online_location_check(const char *location, struct sl_diag *d);

/*
 * Open the online store at location (see above); lake_dir is the lake's
 * local folder (store_local_dir()), used by the embedded back end only and
 * may be NULL for Redis.  The embedded store's folder is created if
 * missing.  A Redis store is connected to once here, so that a wrong
 * address or password is reported at open: SL_ERR_UNAVAILABLE naming
 * host:port, or SL_ERR_INPUT for a refused password.  Caller frees with
 * online_close().
 */
int online_open(const char *location, const char *lake_dir, struct online **out, struct sl_diag *d);
/* Close o and free it; NULL is fine.  No call on o may be in flight. */
void online_close(struct online *o);
/* Where o is, for messages: the LMDB folder or "redis://host:port[/db]"
 * (without the user).  Borrowed until online_close(). */
const char *online_where(const struct online *o);
/* The back end's name: "lmdb" or "redis". */
const char *online_kind(const struct online *o);

/*
 * Put n records.  Per (group, version, entity) the record with the latest
 * event time is kept: a record whose event time is older than the stored
 * one is dropped, one with an equal event time replaces it (the later put
 * wins), and within recs a later element counts as a later put.  Returns
 * the number of records that took effect (>= 0), or < 0.
 *
 * LMDB: one write transaction, so all or nothing.  Redis: one round trip
 * (a pipeline of scripts, each applying up to 128 records atomically); on
 * failure some records may have taken effect, which is harmless because
 * putting the same records again leaves the same state.  A record that is
 * invalid (see the names above) fails the whole put before anything is
 * written.
 */
int online_put(struct online *o, const struct online_record *recs, size_t n, struct sl_diag *d);

/*
 * Get n entities of one group version: cb for each entity that has a
 * record which is fresh.  With ttl_ms > 0 a record is fresh when
 * now_ms - event_ms <= ttl_ms (TTL on read: an expired record stays stored
 * until overwritten or deleted, but is not served); with ttl_ms <= 0 every
 * record is.  now_ms is the caller's clock (sl_now_ms()).  Entities without
 * a record are simply left out.  One LMDB read transaction or one Redis
 * round trip (MGET) per call.  If the get fails, cb was not called.
 * Returns 0, cb's negative return, or < 0.
 */
int online_get(struct online *o, const char *group, int64_t version, const char *const *entities,
               size_t n, int64_t ttl_ms, int64_t now_ms, online_record_cb cb, void *arg,
               struct sl_diag *d);

/*
 * Delete the record of one entity.  Returns 1 if there was one, 0 if not.
 * A later put of any event time stores a record again (a delete leaves no
 * tombstone).
 */
int online_delete(struct online *o, const char *group, int64_t version, const char *entity,
                  struct sl_diag *d);

/*
 * The number of entities with a record in a group version, fresh or not
 * (for tests and metrics), into *n.  Exact on LMDB; on Redis a counter
 * kept by the put and delete scripts, which drifts only if records are
 * removed behind sluice's back (DEL, eviction).
 */
int online_count(struct online *o, const char *group, int64_t version, int64_t *n,
                 struct sl_diag *d);

#endif
