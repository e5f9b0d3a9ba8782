/*
 * streams.h - the catalog's stream definitions and delivery positions.
 *
 * A stream's records live in its shard logs (ingest/shardlog.h); the
 * catalog holds what it is (name, shape, limits, the source it delivers
 * into) and how far each shard has been delivered into raw.  A delivery
 * advances the positions in the transaction that records the raw object
 * holding the records, which makes delivery exactly-once.
 */
#ifndef SL_CATALOG_STREAMS_H
#define SL_CATALOG_STREAMS_H

#include "catalog/catalog.h"

struct catalog_stream {
    const char *name;
    const char *kind;        /* "kinesis" or "firehose" (a delivery stream) */
    const char *mode;        /* "PROVISIONED" or "ON_DEMAND" */
    int64_t shards;
    int64_t retention_hours;
    int64_t max_record_bytes;
    int64_t write_bytes;     /* per shard and second; 0: no limit */
    int64_t write_records;   /* per shard and second; 0: no limit */
    const char *source;      /* the source it delivers into, or NULL */
    int64_t buffer_bytes;    /* delivery buffer: flush at this size ... */
    int64_t buffer_ms;       /* ... or this age, whichever comes first */
    const char *compression; /* of delivered raw objects: "none" or "gzip" */
    bool declared;           /* declared in a source file, not by the API */
    int64_t created_ms;      /* also tells a recreated stream from the old one */
};

/* SL_ERR_EXISTS (with words) if the name is taken. */
int catalog_stream_add(struct catalog_txn *txn, const struct catalog_stream *s,
                       struct sl_diag *d);
int catalog_stream_set_retention(struct catalog_txn *txn, const char *name, int64_t hours,
                                 struct sl_diag *d);
/* Change the settings that may change, and whether a source file declares
 * the stream (not name, kind, mode, shards, source or creation time). */
int catalog_stream_update(struct catalog_txn *txn, const struct catalog_stream *s,
                          struct sl_diag *d);
/* Forget a stream and its delivery positions. */
int catalog_stream_remove(struct catalog_txn *txn, const char *name, struct sl_diag *d);
typedef int (*catalog_stream_cb)(void *arg, const struct catalog_stream *s);
/* Every stream, by name; strings are valid during the callback. */
int catalog_stream_list(struct catalog_txn *txn, catalog_stream_cb cb, void *arg,
                        struct sl_diag *d);

/* The last sequence number of a shard delivered into raw (0: none), for the
 * stream created at created_ms. */
int catalog_delivery_get(struct catalog_txn *txn, const char *stream, int64_t shard,
                         int64_t created_ms, int64_t *seq, struct sl_diag *d);
int catalog_delivery_set(struct catalog_txn *txn, const char *stream, int64_t shard,
                         int64_t created_ms, int64_t seq, struct sl_diag *d);

#endif
