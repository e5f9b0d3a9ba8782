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
 * open streams of one server process.  A struct stream is reference
 * counted: streams_get() takes a reference that keeps it (and its logs)
 * alive across a concurrent delete until stream_release().
 *
 * Sequence numbers as clients see them are decimal strings:
 *
 *     "49" + shard index (6 digits) + log sequence number (20 digits)
 *
 * 28 digits, so within a shard numeric and text order agree, and a number
 * names its shard.  A shard's StartingSequenceNumber is its number 0.
 *
 * Thread-safety: every function may be called from any thread.
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

struct stream {
    struct catalog_stream def; /* strings owned by the stream */
    char arn[300];
    int nshards;
    struct stream_shard *shards;
    atomic_int refs;
    atomic_bool deleted;
    /* For /metrics, since the server started. */
    _Atomic uint64_t records_in, bytes_in, throttled, records_out;
    _Atomic int64_t delivery_lag_ms; /* age of the oldest undelivered record */
};

struct streams;

struct streams_options {
    bool fsync;             /* acknowledge after fsync (group commit) */
    const char *region;     /* for ARNs; default "us-east-1" */
};

/* Open the registry of the lake at lake_dir (a local path): every stream in
 * the catalog at location catalog, its shard logs recovered.  Shard-log folders
 * of streams the catalog no longer knows are removed. */
int streams_open(const char *lake_dir, const char *catalog,
                 const struct streams_options *o, struct streams **out, struct sl_diag *d);
/* Close every log (after the server has stopped taking requests). */
void streams_close(struct streams *r);

/*
 * Create a stream from def (name, kind, mode, shards, limits, source ...;
 * created_ms is set here).  SL_ERR_EXISTS if the name is taken.
 */
int streams_create(struct streams *r, struct catalog_stream *def, struct sl_diag *d);
/* Delete a stream: gone from the catalog at once, its logs removed once
 * the last reference is released.  SL_ERR_NOTFOUND if unknown. */
int streams_delete(struct streams *r, const char *name, struct sl_diag *d);
/* Apply def's changeable settings (limits, record size, retention, delivery
 * buffer and compression) to the stream it names; before serving only. */
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

/* Drop log segments past retention (keeping records not yet delivered). */
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
