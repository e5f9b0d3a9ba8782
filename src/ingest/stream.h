/*
 * stream.h - Kinesis-style streams: shards, hash routing, sequence numbers,
 * write limits, retention.
 *
 * A stream is a fixed set of shards, each owning a contiguous range of the
 * 128-bit hash key space [0, 2^128-1], split evenly.  A record goes to the
 * shard whose range holds the MD5 of its partition key, read as a big-endian
 * number, or its explicit hash key.  Each shard appends to its own durable
 * log (shardlog.h) under <lake>/_streams/<stream>/<shard-id>/.
 *
 * Definitions live in the catalog (catalog_stream); the registry holds the
 * streams of one server process.  A struct stream is reference counted:
 * streams_get() takes a reference that keeps it (and its logs) alive
 * across a concurrent delete or change of node until stream_release().
 *
 * Nodes.  Several server processes (nodes) may share one lake and one
 * catalog.  Every node knows every stream (its definition), but a stream's
 * shard logs are open on one node at a time: the one holding the stream's
 * lease "stream:<name>" in the catalog (catalog.h, leases).  That node
 * appends its records, serves its reads and delivers it; the others answer
 * only what the definition tells.  A lease round, every lease_ttl / 3 on
 * the registry's lease thread, re-reads the stream list (streams created or
 * deleted by other nodes appear and go), renews the leases held, and tries
 * to take the others, which succeeds once their holder stopped renewing
 * them (it died) and they expired.  A stream changes state on this node
 * only in a round, or when this node creates or deletes it (stream.c):
 *
 *   (none)   --streams_create(): recorded with its lease-----------> served
 *   unserved --take(), a round: lease taken, logs opened-----------> served
 *   unserved --take(), a round: lease taken, logs still open
 *              elsewhere (TAKING: lease kept, tried again next round) -> unserved
 *   served   --round_apply(): lease held by another node, or renewed
 *              under another epoch; drop_served(): not renewed for a
 *              whole ttl (unserve() swaps the object) --------------> unserved
 *   served   --streams_delete(): lease checked, stream forgotten ---> (none)
 *   served   --streams_close(): logs closed, then lease released --> (none)
 *   unserved --round_apply(): gone from the catalog ----------------> (none)
 *
 * A change of state replaces the registry's object: a served object has
 * its logs open for its whole life and an unserved one never has any, so a
 * request that got a served object uses its logs safely to the end, while
 * requests that come later get the unserved one and are turned away.  The
 * logs of a replaced object close when its last reference goes, and only
 * then can the next holder open them (shardlog_open() refuses a log open
 * elsewhere), so a record acknowledged by a node that was losing the
 * stream is still in the log its successor delivers from.  Delivery
 * commits check the lease's epoch in their transaction (fencing), so a
 * node that lost a stream cannot commit a delivery of it afterwards.
 *
 * Sequence numbers as clients see them are decimal strings:
 *
 *     "49" + shard index (6 digits) + log sequence number (20 digits)
 *
 * 28 digits, so within a shard numeric and text order agree, and a number
 * names its shard.  A shard's StartingSequenceNumber is its number 0.
 *
 * Thread-safety: every function may be called from any thread.  Changes
 * of the set of streams (create, delete, lease rounds) are serialised by
 * the registry; lookups take a shared lock only.
 */
#ifndef SL_INGEST_STREAM_H
#define SL_INGEST_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/streams.h"
#include "core/diag.h"
#include "ingest/shardlog.h"

typedef unsigned __int128 stream_u128;

#define STREAM_SEQ_LEN 28
#define STREAM_SHARD_ID_LEN 20 /* "shardId-" + 12 digits */
#define STREAM_MAX_SHARDS 1024
#define STREAM_ACCOUNT "000000000000"

struct stream_shard {
    int index;
    char id[STREAM_SHARD_ID_LEN + 1];
    stream_u128 hash_start, hash_end; /* inclusive */
    struct shardlog *log;
    _Atomic uint64_t delivered; /* last seq delivered into raw; kept from trimming */
    pthread_mutex_t mu;         /* guards the token buckets */
    double tokens_bytes, tokens_records;
    int64_t refill_ns;
};

#define STREAM_HOLDER_MAX 160 /* a node's holder id: "<host>:<pid>:<start ms>" */
#define STREAM_INFO_MAX 300   /* a node's info: its URL */

/* Who serves a stream this node does not serve, as the last round saw it. */
enum stream_owner_state {
    STREAM_OWNER_UNKNOWN = 0, /* no round has looked at it yet */
    STREAM_OWNER_OTHER,       /* another node holds its lease */
    STREAM_OWNER_NONE,        /* no live lease: the next round of some node takes it */
    STREAM_OWNER_TAKING,      /* this node holds the lease, but the logs are
                                 still open in the previous holder */
};

struct stream_owner {
    enum stream_owner_state state;
    char holder[STREAM_HOLDER_MAX]; /* OTHER, TAKING: the (previous) holder; NONE:
                                       the last holder, or "" */
    char info[STREAM_INFO_MAX];     /* that holder's info (its URL), or "" */
};

struct stream {
    struct catalog_stream def; /* strings owned by the stream */
    char arn[300];
    int nshards;
    struct stream_shard *shards; /* logs NULL unless served */
    atomic_int refs;
    atomic_bool deleted;
    /* Fixed for the object's life (see "Nodes" above). */
    bool served;         /* this node holds the lease; the shard logs are open */
    int64_t lease_epoch; /* served: the lease's epoch; delivery commits check it */
    uint64_t serve_gen;  /* served: unique per serving period within the process */
    pthread_mutex_t owner_mu;  /* guards owner */
    struct stream_owner owner; /* unserved: who serves it; read with stream_owner() */
    /* For /metrics, since the server started. */
    _Atomic uint64_t records_in, bytes_in, throttled, records_out;
    _Atomic int64_t delivery_lag_ms; /* age of the oldest undelivered record */
};

struct streams;

struct streams_options {
    bool fsync;             /* acknowledge after fsync (group commit) */
    const char *region;     /* for ARNs; default "us-east-1" */
    const char *info;       /* this node's words for the others: its URL */
    int64_t lease_ttl_ms;   /* a lease not renewed for this long may be taken over */
};

/*
 * Open the registry of the lake at lake_dir (a local path) with the catalog
 * at location catalog: every stream the catalog knows, unserved; no lease
 * is taken and no log opened until a round (streams_lease_start()).
 * Shard-log folders of streams the catalog does not know are removed.  The
 * strings of o are copied.  The registry is this process's node: its
 * holder id is "<host>:<pid>:<start ms>", unique among nodes and restarts.
 */
int streams_open(const char *lake_dir, const char *catalog,
                 const struct streams_options *o, struct streams **out, struct sl_diag *d);
/*
 * Run the first lease round now (taking what is free), then start the
 * lease thread, which runs a round every lease_ttl / 3 until
 * streams_close().  A first round that fails is returned (nothing started).
 */
int streams_lease_start(struct streams *r, struct sl_diag *d);
/*
 * One lease round now (see "Nodes" above): the stream list re-read,
 * leases renewed and taken, logs opened and closed.  Streams whose logs
 * cannot be opened yet, or that are held elsewhere, are not errors;
 * failures to reach the catalog are (and after a whole ttl without a
 * renewal every served stream stops being served).
 *
 * Until a round has succeeded (the node is starting), a live lease whose
 * holder is a process of this host that is gone - this node's previous
 * incarnation, killed or crashed - is expired and taken at once rather
 * than after its ttl: waiting would only turn clients away, naming a
 * process that no longer exists.  Running nodes judge other holders by
 * the ttl alone, as they must across machines.
 */
int streams_round(struct streams *r, struct sl_diag *d);
/* From now on rounds only renew what this node serves (shutting down). */
void streams_stop_taking(struct streams *r);
/*
 * Stop the lease thread, close every log, then release the leases this
 * node holds, so another node takes its streams over at its next round
 * rather than after the ttl.  Call after the server stopped taking
 * requests and delivery stopped.
 */
void streams_close(struct streams *r);

/* This node's holder id, as given to streams_open(). */
const char *streams_holder(const struct streams *r);
/* Streams this node took over from another holder since it started. */
uint64_t streams_takeovers(struct streams *r);
/* Lease rounds that reached the catalog since it started. */
uint64_t streams_rounds(struct streams *r);
/* The lease name of stream name ("stream:<name>") into out. */
void stream_lease_name(const char *name, char *out, size_t size);
/* Who serves s, a stream this node does not serve (see owner). */
void stream_owner(struct stream *s, struct stream_owner *out);
/*
 * Fencing: in txn, SL_ERR_BUSY (with words) unless this node still holds
 * the lease of s, a served stream, at the epoch s was opened under.  Every
 * transaction that commits work of s (a delivery) calls it, so a node that
 * lost s (it stalled past its lease) cannot commit after its successor
 * took over.  A lost lease is not a conflict: retrying cannot help.
 */
int stream_lease_check(struct catalog_txn *txn, const struct streams *r,
                       const struct stream *s, struct sl_diag *d);

/*
 * Create a stream from def (name, kind, mode, shards, limits, source ...;
 * created_ms is set here), and take its lease in the same transaction, so
 * this node serves it at once (unless a lease of that name is still held
 * elsewhere; then the rounds decide).  SL_ERR_EXISTS if the name is taken,
 * also by a stream another node created that this node has not seen yet.
 */
int streams_create(struct streams *r, struct catalog_stream *def, struct sl_diag *d);
/*
 * Delete a stream this node serves: gone from the catalog (with its lease
 * released, in the transaction that checks this node still holds it) at
 * once, its logs removed once the last reference is released.
 * SL_ERR_NOTFOUND if unknown; SL_ERR_BUSY (with the holder in d) if another
 * node serves it, or none does right now: only a stream's node may delete
 * it, since only it can close the logs before they go.
 */
int streams_delete(struct streams *r, const char *name, struct sl_diag *d);
/* Apply def's changeable settings (limits, record size, retention, delivery
 * buffer and compression, whether a source file declares it) to the stream it names, in the catalog and in s;
 * before serving requests only (s is changed in place).  Another node that
 * serves the stream takes the new settings when it next starts serving it. */
int streams_update(struct streams *r, struct stream *s, const struct catalog_stream *def,
                   struct sl_diag *d);
/* Change retention (the caller checks the direction and bounds). */
int streams_set_retention(struct streams *r, struct stream *s, int64_t hours,
                          struct sl_diag *d);

/* The stream named name[0..n) with a reference, or NULL. */
struct stream *streams_get(struct streams *r, const char *name, size_t n);
void stream_release(struct stream *s);

/* Every stream by name, each with a reference held during the call; stops
 * at a negative return (returned). */
int streams_each(struct streams *r, int (*fn)(void *arg, struct stream *s), void *arg);
size_t streams_count(struct streams *r);

/* Drop log segments past retention (keeping records not yet delivered), in
 * the streams this node serves. */
void streams_trim(struct streams *r, int64_t now_ms);

/*
 * The shard for a record: by its explicit hash key (decimal, 0..2^128-1) if
 * ehk is not NULL, else by MD5(partition key).  SL_ERR_INPUT for a bad key.
 */
int stream_route(const struct stream *s, const char *pk, size_t pk_len, const char *ehk,
                 size_t ehk_len, int *shard, struct sl_diag *d);

/*
 * Charge a record against a shard's write limits (token buckets refilled
 * every second, holding at most one second's worth); false if it does not
 * fit, and then nothing is charged.
 */
bool stream_admit(struct stream *s, int shard, int64_t records, int64_t bytes, int64_t now_ns);

/* Sequence numbers (see above). */
void stream_seq_format(int shard, uint64_t seq, char out[STREAM_SEQ_LEN + 1]);
/* SL_ERR_INPUT if s is not one of ours. */
int stream_seq_parse(const char *s, size_t n, int *shard, uint64_t *seq);

/* 128-bit decimal numbers (hash keys). */
void stream_u128_format(stream_u128 v, char out[40]);
/* False unless s is 0 or a decimal without leading zeros within 2^128-1. */
bool stream_u128_parse(const char *s, size_t n, stream_u128 *out);

/* The shard index named by a shard id ("shardId-000000000003"), or -1. */
int stream_shard_index(const struct stream *s, const char *id, size_t n);

/* Whether a stream name is allowed: 1..max of [a-zA-Z0-9_.-]. */
bool stream_name_ok(const char *name, size_t n, size_t max);

#endif
