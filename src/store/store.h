/*
 * store.h - the lake's object storage.
 *
 * Every byte sluice puts in the lake goes through this interface, so that a
 * second back end (S3) can be added without touching the stages.  Objects are
 * named by keys, '/'-separated relative paths such as
 * "raw/orders/2026/10/03/12/<id>.csv.gz", which come from layout.h.
 *
 * Writing follows one pattern, the first half of the commit protocol in
 * DESIGN.md:
 *
 *     store_stage()    a staging key and a local path this process may fill
 *                      (with its own writes, or by letting DuckDB write there)
 *     store_seal()     make the staged bytes durable (fsync; S3: upload)
 *     store_publish()  give the object its final key, atomically; with
 *                      STORE_IF_ABSENT this is put-if-absent
 *
 * Staged objects live in an area owned by this process (_staging/<owner>/)
 * and are invisible to readers of the zones.  A crash leaves staging garbage
 * that store_sweep() removes once its owner is gone and the catalog does not
 * still need it (a committed run whose publication was interrupted).
 *
 * Thread-safety: a struct store may be used from one thread at a time.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"

struct store;

enum store_flags {
    STORE_IF_ABSENT = 1 << 0, /* publish fails with SL_ERR_EXISTS if taken */
};

/*
 * Open the lake at uri: a local path (relative paths are made absolute) or
 * file:///path.  The folder is created if missing.  Caller frees with
 * store_close().
 */
int store_open(const char *uri, struct store **out, struct sl_diag *d);
void store_close(struct store *s);
/* The lake's location, for messages. */
const char *store_uri(const struct store *s);
/*
 * The lake's folder on this machine, under which the local files kept
 * beside the objects live (the SQLite catalog, the stream logs; their paths
 * come from layout.h): a local store's root, absolute, without a trailing
 * '/'.  NULL for a back end without one.  Borrowed until store_close().
 */
const char *store_local_dir(const struct store *s);

/*
 * A new staging object named name (a file name, may contain '/').  On
 * success *key is its staging key and *path a local path to write to; both
 * are heap strings the caller frees.  The parent directory exists.
 */
int store_stage(struct store *s, const char *name, char **key, char **path,
                struct sl_diag *d);
/* Make a staged object's bytes durable. */
int store_seal(struct store *s, const char *staged_key, struct sl_diag *d);
/* The same for n staged objects at once: a local store starts the writing
 * out of all of them before it waits for the first, so the disk works on
 * them together rather than one round trip after another. */
int store_seal_many(struct store *s, const char *const *staged_keys, size_t n,
                    struct sl_diag *d);
/*
 * Move a sealed staged object to key, atomically and durably.  With
 * STORE_IF_ABSENT an existing object at key is left alone and SL_ERR_EXISTS
 * returned; otherwise it is replaced.
 */
int store_publish(struct store *s, const char *staged_key, const char *key,
                  unsigned flags, struct sl_diag *d);
/* A local path from which key can be read; caller frees. */
int store_local_path(struct store *s, const char *key, char **path,
                     struct sl_diag *d);
/* Whether key exists, and its size; SL_ERR_NOTFOUND if not. */
int store_stat(struct store *s, const char *key, int64_t *size, struct sl_diag *d);
/* Delete key; deleting a missing key succeeds. */
int store_delete(struct store *s, const char *key, struct sl_diag *d);
/* Delete a staged object (e.g. after a failed run). */
int store_unstage(struct store *s, const char *staged_key, struct sl_diag *d);

typedef int (*store_list_cb)(void *arg, const char *key, int64_t size);
/* Call cb for each object under prefix, in key order; a negative return
 * from cb stops the listing and is returned. */
int store_list(struct store *s, const char *prefix, store_list_cb cb, void *arg,
               struct sl_diag *d);

typedef bool (*store_keep_cb)(void *arg, const char *staged_key);
/*
 * Remove the staging areas of processes that are gone, except objects for
 * which keep() returns true (they belong to a committed run that is still
 * being published).  Returns the number of objects removed, or < 0.
 */
int store_sweep(struct store *s, store_keep_cb keep, void *arg, struct sl_diag *d);

/* Whether key is a well-formed object key (no "..", no leading '/'). */
bool store_key_valid(const char *key);

#endif
