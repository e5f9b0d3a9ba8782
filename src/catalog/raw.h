/*
 * raw.h - the catalog's raw objects, and the bookmarks that follow them.
 *
 * Every object in the raw zone has a row here, with seq, its place in the
 * lake's arrival order.  Seqs are handed out in commit order (the counter
 * is a row that every landing transaction updates, so landings serialise on
 * it): a reader that has seen seq n has seen every committed object with a
 * smaller seq, which is what lets a bookmark be one number.  Arrival times
 * strictly increase with seq, even if a clock steps back.
 */
#ifndef SL_CATALOG_RAW_H
#define SL_CATALOG_RAW_H

#include "catalog/catalog.h"

struct raw_object {
    int64_t seq;                  /* arrival order in the whole lake */
    const char *source;
    const char *object_id;        /* from the content */
    const char *key;              /* store key under raw/ */
    const char *system;           /* the source system that sent it */
    const char *contract_version; /* the version it is validated against */
    const char *original_name;    /* as given to ingest, or "stream:<name>" */
    const char *format;           /* csv, jsonl, json, avro */
    const char *compression;      /* none, gzip */
    int64_t size;                 /* bytes as stored */
    const char *checksum;         /* "sha256:<hex>" */
    int64_t arrived_at;           /* microseconds since the epoch */
};

/*
 * Record a landed object.  obj->arrived_at comes in as the caller's clock
 * and is raised past the last recorded arrival if needed; obj->seq is
 * assigned.  SL_ERR_EXISTS (no words; the transaction stays usable) if the
 * source already has an object with this id.
 */
int catalog_raw_add(struct catalog_txn *txn, struct raw_object *obj, struct sl_diag *d);
/* One object, strings in a; SL_ERR_NOTFOUND (no words) if unknown. */
int catalog_raw_get(struct catalog_txn *txn, const char *source, const char *object_id,
                    struct sl_arena *a, struct raw_object *obj, struct sl_diag *d);
typedef int (*catalog_raw_cb)(void *arg, const struct raw_object *obj);
/* Objects of source (NULL: all) with seq > after, in seq order; strings
 * are valid during the call; a negative return of cb stops and is
 * returned. */
int catalog_raw_list(struct catalog_txn *txn, const char *source, int64_t after,
                     catalog_raw_cb cb, void *arg, struct sl_diag *d);
/* The same, at most limit of them (a callback that stops early fails the
 * transaction; this does not). */
int catalog_raw_list_some(struct catalog_txn *txn, const char *source, int64_t after,
                          int64_t limit, catalog_raw_cb cb, void *arg, struct sl_diag *d);
/* The seq of source's newest object; 0 if it has none. */
int catalog_raw_last_seq(struct catalog_txn *txn, const char *source, int64_t *seq,
                         struct sl_diag *d);

/* ---- bookmarks ----------------------------------------------------------- */

/* The last raw seq that job has processed for source; 0 if none. */
int catalog_bookmark_get(struct catalog_txn *txn, const char *source, const char *job,
                         int64_t *seq, struct sl_diag *d);
/*
 * Move job's bookmark of source from expect to seq (any direction: a
 * rewind moves it back).  SL_ERR_CONFLICT (with words) if it is not at
 * expect: another run moved it since this one read it, so this run's work
 * must not commit.
 */
int catalog_bookmark_move(struct catalog_txn *txn, const char *source, const char *job,
                          int64_t expect, int64_t seq, struct sl_diag *d);

typedef int (*catalog_backlog_cb)(void *arg, const char *source, int64_t objects);
/* Sources with raw objects past job's bookmark, by name, and how many. */
int catalog_raw_backlog(struct catalog_txn *txn, const char *job, catalog_backlog_cb cb,
                        void *arg, struct sl_diag *d);

#endif
