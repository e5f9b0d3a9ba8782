/*
 * shardlog.h - the durable, ordered log of one stream shard.
 *
 * Every record a stream acknowledges is first appended to its shard's log,
 * under _streams/<stream>/<shard-id>/ in the lake, as a sequence of segment
 * files.  Each record gets the next sequence number of its shard (a 64-bit
 * counter starting at 1, never reused, even after every segment has been
 * trimmed) and an arrival time in ms that never goes backwards within the
 * shard.  Frames carry a checksum; opening a log after a crash cuts a torn
 * tail and keeps everything before it.
 *
 * Group commit: appends return as soon as their bytes are written; a caller
 * that must not acknowledge before the record is durable then calls
 * shardlog_wait().  One syncer thread, shared by every log of the process,
 * fsyncs all logs written since its last round and wakes every waiter whose
 * records that round covered, so many concurrent requests share one fsync.
 * With fsync off (a policy of the stream), records count as durable once
 * written: they survive kill -9 of the process, not a power cut.
 *
 * Readers (GetRecords, delivery into raw) see only durable records, so
 * nothing can be read, delivered and then lost.
 *
 * Thread-safety: all functions may be called from any thread.
 */
#ifndef SL_INGEST_SHARDLOG_H
#define SL_INGEST_SHARDLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

struct shardlog;
struct shardlog_syncer;

/* Start the syncer thread; stop it with shardlog_syncer_stop(). */
int shardlog_syncer_start(struct shardlog_syncer **out, struct sl_diag *d);
/*
 * Sync what is pending, wake every waiter, stop the thread, free.  Close
 * every log opened with s first: a log appended to after this would wait
 * for a round that never comes.
 */
void shardlog_syncer_stop(struct shardlog_syncer *s);
/* Rounds completed and fdatasync() calls made so far, for metrics. */
void shardlog_syncer_stats(struct shardlog_syncer *s, uint64_t *rounds, uint64_t *syncs);

struct shardlog_opts {
    bool fsync;              /* acknowledge only after fsync (default true) */
    uint64_t segment_bytes;  /* roll to a new segment past this (default 64 MiB) */
};

/*
 * Open (creating if missing) the log in directory dir, recovering after a
 * crash: a torn or corrupt tail of the newest segment is cut off (those
 * records were never acknowledged); a bad frame in an older segment is
 * SL_ERR_CORRUPT, with d naming the file and offset.  Logs opened with
 * fsync use syncer s (SL_ERR_USAGE if s is NULL); s may be NULL otherwise.
 * o may be NULL for the defaults.  One process holds a log at a time
 * (flock on <dir>/lock): SL_ERR_BUSY if another has it open.
 */
int shardlog_open(struct shardlog_syncer *s, const char *dir, const struct shardlog_opts *o,
                  struct shardlog **out, struct sl_diag *d);
/*
 * Close; waits for nothing (callers wait before closing), but takes the
 * log out of its syncer's hands first.  No other call on l may be running.
 */
void shardlog_close(struct shardlog *l);

struct shardlog_rec {
    const char *pk; /* partition key, 1..256 bytes */
    size_t pk_len;
    const void *data; /* 0..SHARDLOG_MAX_DATA bytes */
    size_t data_len;
};

#define SHARDLOG_MAX_DATA (10u << 20)

/*
 * Append recs[0..n) with consecutive sequence numbers, in order, each with
 * arrival time max(now_ms, the shard's last arrival).  *first_seq gets the
 * first record's number.  On failure (disk full, I/O error) nothing of this
 * call is visible or will be after a restart; a key outside 1..256 bytes is
 * SL_ERR_INPUT and data over SHARDLOG_MAX_DATA SL_ERR_LIMIT, with d naming
 * the record.  After a failed fsync (or a failed cut-back of a failed
 * write) the log refuses every append with that error until reopened.
 * n == 0 appends nothing and sets *first_seq to the next number.
 */
int shardlog_append(struct shardlog *l, const struct shardlog_rec *recs, size_t n,
                    int64_t now_ms, uint64_t *first_seq, struct sl_diag *d);
/*
 * Block until every record up to seq is durable; an error if the sync that
 * should have covered it failed (the records must not be acknowledged),
 * SL_ERR_INPUT if seq was never written.  Returns at once with fsync off.
 */
int shardlog_wait(struct shardlog *l, uint64_t seq, struct sl_diag *d);

/* A record as read back; pointers are valid during the callback only. */
struct shardlog_entry {
    uint64_t seq;
    int64_t arrival_ms;
    const char *pk;
    size_t pk_len;
    const uint8_t *data;
    size_t data_len;
};

/*
 * Call fn for the durable records with seq >= from, in order, until
 * max_records or max_bytes (of data and keys; 0 for no limit; at least one
 * record is always returned if there is one) is reached or fn returns
 * non-zero.  The record fn refused is not consumed: *next gets the sequence
 * number to read from next time (from itself if nothing was read).  A
 * negative return of fn is returned; a positive one just stops.  Every
 * frame is checksummed: a bad one is SL_ERR_CORRUPT naming the file and
 * offset.  Memory used is bounded by the largest record, not by the amount
 * read; reads do not block appends.
 */
int shardlog_read(struct shardlog *l, uint64_t from, size_t max_records, size_t max_bytes,
                  int (*fn)(void *arg, const struct shardlog_entry *e), void *arg,
                  uint64_t *next, struct sl_diag *d);

struct shardlog_info {
    uint64_t first_seq;    /* oldest record kept (next_seq if none) */
    uint64_t next_seq;     /* the number the next append gets */
    uint64_t durable_seq;  /* last durable record's number; first_seq - 1 if none */
    int64_t last_arrival_ms; /* of the newest record; 0 if never written */
    uint64_t bytes;        /* on disk */
};
void shardlog_info(struct shardlog *l, struct shardlog_info *out);

/*
 * The first record whose arrival time is >= t_ms (next_seq if none): a
 * binary search of the index and a scan of at most 1 MiB.  The record may
 * not be durable yet; shardlog_read() will wait for it.
 */
int shardlog_seek_time(struct shardlog *l, int64_t t_ms, uint64_t *seq, struct sl_diag *d);

/*
 * Drop whole segments whose newest record arrived before before_ms (the
 * retention period) and also, if keep_from is non-zero, only those whose
 * records all have seq < keep_from (records not yet delivered are kept).
 * The segment being written is never dropped; but when it holds records
 * and all of them would be, trim first seals it and starts an empty one,
 * so an idle shard still loses expired records, and the empty segment's
 * name keeps the next sequence number across restarts.  Oldest segments go
 * first, and only a run of them from the oldest on.
 */
int shardlog_trim(struct shardlog *l, int64_t before_ms, uint64_t keep_from,
                  struct sl_diag *d);

#endif
