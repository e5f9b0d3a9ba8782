/*
 * putrecords.h - the fast path for the one body shape that carries the data.
 *
 * Kinesis PutRecords (and Firehose PutRecordBatch) bodies in JSON are almost
 * all base64 Data.  putrecords_parse() reads such a body in one pass with no
 * allocation: the records array is the caller's, Data is base64-decoded in
 * place into the body's own bytes, and escaped strings are unescaped in
 * place, so every pointer it returns points into the (writable) body.
 *
 * It accepts exactly what a general JSON parser accepts for these shapes
 * (any member order, whitespace, escapes, unknown members of any JSON type,
 * which are skipped), and refuses anything else with SL_ERR_INPUT and d
 * naming the byte offset (a SerializationException for the client).  Shape
 * checks the clients leave to the server (required members, counts, sizes,
 * name patterns) are the caller's: the parser only records what it saw.
 *
 * What it saw follows the same rules as wire_parse() + wire_get(): of
 * duplicate members the last wins (a second "Records" replaces the first,
 * though each occurrence must be valid, Data included), and a member whose
 * value is null counts as absent.  A known member of the wrong JSON type
 * (Data or a name not a string, Records not an array, a record not an
 * object) is refused, as is a body that is not an object.  Unknown members
 * are validated like any JSON, to the same depth limit (WIRE_MAX_DEPTH;
 * the body itself is level 1).  Errors say "... at byte N"; a bad Data
 * names the record, 1-based ("Data at record 3 is not valid base64 at byte
 * 912"), and also sets d->record and d->field ("Data").
 *
 * Not thread-safe on one body; any number of bodies may be parsed at once.
 */
#ifndef SL_SERVER_PUTRECORDS_H
#define SL_SERVER_PUTRECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

struct put_record {
    const char *pk;   /* PartitionKey (Kinesis), NULL if absent */
    size_t pk_len;
    const char *ehk;  /* ExplicitHashKey, NULL if absent */
    size_t ehk_len;
    const uint8_t *data; /* decoded Data, NULL if absent */
    size_t data_len;
};

struct put_batch {
    const char *stream_name; /* StreamName or DeliveryStreamName; NULL if absent */
    size_t stream_name_len;
    const char *stream_arn;  /* StreamARN; NULL if absent */
    size_t stream_arn_len;
    struct put_record *recs; /* the caller's array of cap entries */
    size_t cap;
    size_t n;                /* records seen; may exceed cap (only cap kept) */
    bool has_records;        /* the records member was present */
    const char *seq_for_ordering; /* PutRecord's SequenceNumberForOrdering, or NULL */
    size_t seq_for_ordering_len;
};

enum put_shape {
    PUT_KINESIS_RECORDS, /* {"StreamName","StreamARN","Records":[{Data,PartitionKey,ExplicitHashKey}]} */
    PUT_KINESIS_RECORD,  /* {"StreamName","StreamARN","Data","PartitionKey","ExplicitHashKey",
                             "SequenceNumberForOrdering"}: one record, n = 1 */
    PUT_FIREHOSE_BATCH,  /* {"DeliveryStreamName","Records":[{"Data"}]} */
    PUT_FIREHOSE_RECORD, /* {"DeliveryStreamName","Record":{"Data"}} */
};

/*
 * Parse body[0..len) (writable; body[len] must be readable and is treated as
 * the end) into b, whose recs and cap the caller has set.  Every other
 * member of b is filled in.  PUT_KINESIS_RECORD always gives n = 1 and
 * has_records (the record's members are at the top); PUT_FIREHOSE_RECORD
 * gives n = 1 if "Record" is present and not null.  On failure the body's
 * bytes and b are unspecified.
 */
int putrecords_parse(enum put_shape shape, char *body, size_t len, struct put_batch *b,
                     struct sl_diag *d);

#endif
