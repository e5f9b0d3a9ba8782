/*
 * firehose.c - the Firehose API (Firehose_20150804.*) for producers that
 * put into a delivery stream directly.
 *
 * A delivery stream is a stream of kind "firehose" with one shard: records
 * are acknowledged once durable in its log, and delivery (ingest/delivery.h)
 * writes them into the raw zone of the source it is bound to, exactly as
 * for a Kinesis stream.  A delivery stream is bound to a source by a source
 * file (`stream: {kind: firehose}`), or when created through the API, to
 * the source it is named after or that its S3 destination prefix names
 * ("raw/<source>/" or "<source>/").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "server/putrecords.h"
#include "server/server_int.h"
#include "store/layout.h"
#include "core/banned.h"

#define MAX_BATCH_RECORDS 500
#define MAX_BATCH_BYTES (4LL << 20)
#define MAX_RECORD_BYTES 1024000
#define MAX_NAME 64

static struct stream *
delivery_stream(struct api_call *c, const char *name, size_t n)
{
    struct stream *s;

    if (name == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'deliveryStreamName' failed to "
                  "satisfy constraint: Member must not be null");
        return NULL;
    }
    if (!stream_name_ok(name, n, MAX_NAME)) {
        api_invalid(c, "deliveryStreamName",
                    n == 0 || n > MAX_NAME
                        ? "Member must have length between 1 and 64"
                        : "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
        return NULL;
    }
    s = streams_get(c->srv->streams, name, n);
    if (s == NULL || strcmp(s->def.kind, "firehose") != 0) {
        stream_release(s);
        api_error(c, "ResourceNotFoundException",
                  "Firehose %.*s under account " STREAM_ACCOUNT " not found.", (int)n, name);
        return NULL;
    }
    return s;
}

static const char *
name_of(const struct wire_value *body, size_t *n)
{
    const struct wire_value *v = wire_get(body, "DeliveryStreamName");

    if (v == NULL || v->type != WIRE_STRING) {
        *n = 0;
        return NULL;
    }
    *n = v->u.s.n;
    return v->u.s.p;
}

/* The record id a producer gets back: the shard's sequence number. */
static void
record_id(uint64_t seq, char out[STREAM_SEQ_LEN + 1])
{
    stream_seq_format(0, seq, out);
}

static bool
check_data(struct api_call *c, const struct put_item *r, size_t i, bool batch)
{
    if (r->data == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at '%sdata' failed to satisfy "
                  "constraint: Member must not be null",
                  batch ? "records.member." : "record.");
        return false;
    }
    if (r->data_len > MAX_RECORD_BYTES) {
        char member[64];

        snprintf(member, sizeof(member), batch ? "records.%zu.member.data" : "record.data",
                 i + 1);
        api_invalid(c, member, "Member must have length less than or equal to 1024000");
        return false;
    }
    return true;
}

static void
put(struct api_call *c, struct stream *s, struct put_item *recs, size_t n, bool batch)
{
    struct put_outcome o;
    int64_t total = 0;
    char id[STREAM_SEQ_LEN + 1];

    for (size_t i = 0; i < n; i++) {
        if (!check_data(c, &recs[i], i, batch))
            return;
        recs[i].pk = "firehose";
        recs[i].pk_len = 8;
        recs[i].ehk = NULL;
        total += (int64_t)recs[i].data_len;
    }
    if (batch && total > MAX_BATCH_BYTES) {
        api_error(c, "InvalidArgumentException",
                  "The records of this request hold %lld bytes; a batch takes at most 4 MiB.",
                  (long long)total);
        return;
    }
    int rc = stream_put(c, s, recs, n, !batch, &o);

    if (rc < 0)
        return;
    if (rc > 0) {
        api_error(c, "ServiceUnavailableException",
                  "Slow down. Firehose %s is over its write limit.", s->def.name);
        return;
    }
    struct wire_writer *w = &c->w;

    api_begin(c);
    if (!batch) {
        record_id(o.seq[0], id);
        wire_key(w, "RecordId");
        wire_strz(w, id);
        wire_key(w, "Encrypted");
        wire_bool(w, false);
        api_end(c);
        return;
    }
    wire_key(w, "FailedPutCount");
    wire_int(w, (int64_t)o.failed);
    wire_key(w, "Encrypted");
    wire_bool(w, false);
    wire_key(w, "RequestResponses");
    wire_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        wire_map_begin(w);
        if (o.ok[i]) {
            record_id(o.seq[i], id);
            wire_key(w, "RecordId");
            wire_strz(w, id);
        } else {
            wire_key(w, "ErrorCode");
            wire_strz(w, "ServiceUnavailableException");
            wire_key(w, "ErrorMessage");
            wire_strz(w, "Slow down.");
        }
        wire_map_end(w);
    }
    wire_array_end(w);
    api_end(c);
}

static void
put_json(struct api_call *c, bool batch)
{
    struct put_record *raw = sl_arena_alloc(&c->arena, MAX_BATCH_RECORDS * sizeof(*raw));
    struct put_batch b = {.recs = raw, .cap = MAX_BATCH_RECORDS};
    struct sl_diag d = {0};
    struct stream *s;

    if (putrecords_parse(batch ? PUT_FIREHOSE_BATCH : PUT_FIREHOSE_RECORD, c->req->body_mut,
                         c->req->body_len, &b, &d) < 0) {
        api_error(c, "SerializationException", "%s", d.msg);
        return;
    }
    if (batch && (!b.has_records || b.n < 1 || b.n > MAX_BATCH_RECORDS)) {
        api_invalid(c, "records",
                    !b.has_records ? "Member must not be null"
                    : b.n < 1      ? "Member must have length greater than or equal to 1"
                                   : "Member must have length less than or equal to 500");
        return;
    }
    if (!api_authorize(c, b.stream_name, b.stream_name_len, NULL, 0))
        return;
    s = delivery_stream(c, b.stream_name, b.stream_name_len);
    if (s == NULL)
        return;
    if (!s->served) {
        api_not_served(c, s, "records");
        stream_release(s);
        return;
    }
    size_t n = batch ? b.n : 1;
    struct put_item *items = sl_arena_zalloc(&c->arena, n * sizeof(*items));

    for (size_t i = 0; i < n; i++) {
        items[i].data = raw[i].data;
        items[i].data_len = raw[i].data_len;
    }
    put(c, s, items, n, batch);
    stream_release(s);
}

static void
put_tree(struct api_call *c, const struct wire_value *body, bool batch)
{
    const struct wire_value *list = NULL;
    struct sl_diag d = {0};
    size_t n = 1, name_len;
    const char *name = name_of(body, &name_len);
    struct stream *s;

    if (batch) {
        list = wire_get(body, "Records");
        size_t k = list && list->type == WIRE_ARRAY ? list->u.a.n : 0;

        if (list == NULL || list->type != WIRE_ARRAY || k < 1 || k > MAX_BATCH_RECORDS) {
            api_invalid(c, "records",
                        list == NULL ? "Member must not be null"
                        : k < 1      ? "Member must have length greater than or equal to 1"
                                     : "Member must have length less than or equal to 500");
            return;
        }
        n = k;
    }
    s = delivery_stream(c, name, name_len);
    if (s == NULL)
        return;
    if (!s->served) {
        api_not_served(c, s, "records");
        stream_release(s);
        return;
    }
    struct put_item *items = sl_arena_zalloc(&c->arena, n * sizeof(*items));

    for (size_t i = 0; i < n; i++) {
        const struct wire_value *r = batch ? &list->u.a.items[i] : wire_get(body, "Record");
        const struct wire_value *data = r ? wire_get(r, "Data") : NULL;

        if (data == NULL)
            continue; /* check_data says so */
        if (wire_blob(data, &c->arena, &items[i].data, &items[i].data_len, &d) < 0) {
            api_error(c, "SerializationException", "Data of record %zu: %s", i + 1, d.msg);
            stream_release(s);
            return;
        }
        if (items[i].data == NULL)
            items[i].data = (const uint8_t *)"";
    }
    put(c, s, items, n, batch);
    stream_release(s);
}

/* The source a new delivery stream delivers into. */
static const char *
bound_source(struct api_call *c, const char *name, const struct wire_value *body)
{
    const struct wire_value *dest = wire_get(body, "ExtendedS3DestinationConfiguration");
    const struct wire_value *prefix;
    const struct source *src;
    struct sl_diag d = {0};

    if (dest == NULL)
        dest = wire_get(body, "S3DestinationConfiguration");
    prefix = dest ? wire_get(dest, "Prefix") : NULL;
    if (prefix != NULL && prefix->type == WIRE_STRING) {
        const char *p = layout_skip_raw_zone(wire_strdup(prefix, &c->arena));
        char *named = sl_arena_strndup(&c->arena, p, strcspn(p, "/"));

        if (*named && project_source(c->srv->project, named, &src, &d) == 0)
            return src->name;
    }
    if (project_source(c->srv->project, name, &src, &d) == 0)
        return src->name;
    return NULL;
}

static void
create(struct api_call *c, const struct wire_value *body)
{
    size_t n;
    const char *name = name_of(body, &n);
    const struct wire_value *type = wire_get(body, "DeliveryStreamType");
    const struct wire_value *dest = wire_get(body, "ExtendedS3DestinationConfiguration");
    const struct wire_value *hints = dest ? wire_get(dest, "BufferingHints") : NULL;
    const struct wire_value *comp = dest ? wire_get(dest, "CompressionFormat") : NULL;
    int64_t mb = 5, secs = 300;
    struct sl_diag d = {0};

    if (name == NULL || !stream_name_ok(name, n, MAX_NAME)) {
        api_invalid(c, "deliveryStreamName",
                    name == NULL ? "Member must not be null"
                                 : "Member must satisfy regular expression pattern: "
                                   "[a-zA-Z0-9_.-]+ and have length between 1 and 64");
        return;
    }
    if (type != NULL && !wire_str_eq(type, "DirectPut")) {
        api_error(c, "InvalidArgumentException",
                  "Only DirectPut delivery streams are served here; a Kinesis stream is "
                  "delivered by binding it to a source.");
        return;
    }
    if (hints != NULL) {
        const struct wire_value *size = wire_get(hints, "SizeInMBs");
        const struct wire_value *interval = wire_get(hints, "IntervalInSeconds");

        if ((size == NULL) != (interval == NULL)) {
            api_error(c, "InvalidArgumentException",
                      "BufferingHints needs both SizeInMBs and IntervalInSeconds.");
            return;
        }
        if (size != NULL) {
            if (size->type != WIRE_INT || interval->type != WIRE_INT || size->u.i < 1 ||
                size->u.i > 128 || interval->u.i < 0 || interval->u.i > 900) {
                api_error(c, "InvalidArgumentException",
                          "BufferingHints: SizeInMBs must be 1-128 and IntervalInSeconds "
                          "0-900.");
                return;
            }
            mb = size->u.i;
            secs = interval->u.i < 1 ? 1 : interval->u.i;
        }
    }
    if (comp != NULL && !wire_str_eq(comp, "UNCOMPRESSED") && !wire_str_eq(comp, "GZIP")) {
        api_error(c, "InvalidArgumentException",
                  "CompressionFormat must be UNCOMPRESSED or GZIP here.");
        return;
    }
    char *sname = sl_arena_strndup(&c->arena, name, n);
    const char *source = bound_source(c, sname, body);

    if (source == NULL) {
        api_error(c, "InvalidArgumentException",
                  "Delivery stream %s names no source of this project: name it after a "
                  "source, or give the S3 destination the Prefix raw/<source>/.",
                  sname);
        return;
    }
    struct catalog_stream def = {
        .name = sname,
        .kind = "firehose",
        .mode = "PROVISIONED",
        .shards = 1,
        .retention_hours = 24,
        .max_record_bytes = MAX_RECORD_BYTES,
        .write_bytes = 5 << 20,
        .write_records = 5000,
        .source = source,
        .buffer_bytes = mb << 20,
        .buffer_ms = secs * 1000,
        .compression = wire_str_eq(comp, "GZIP") ? "gzip" : "none",
    };
    int rc = streams_create(c->srv->streams, &def, &d);

    if (rc == SL_ERR_EXISTS) {
        api_error(c, "ResourceInUseException", "Firehose %s under account " STREAM_ACCOUNT
                  " already exists.", sname);
        return;
    }
    if (rc < 0) {
        api_error(c, "InternalFailureException", "%s", d.msg);
        return;
    }
    struct stream *s = streams_get(c->srv->streams, sname, n);

    api_begin(c);
    wire_key(&c->w, "DeliveryStreamARN");
    wire_strz(&c->w, s ? s->arn : "");
    api_end(c);
    stream_release(s);
}

static void
describe(struct api_call *c, const struct wire_value *body)
{
    size_t n;
    const char *name = name_of(body, &n);
    struct stream *s = delivery_stream(c, name, n);
    struct wire_writer *w = &c->w;

    if (s == NULL)
        return;
    api_begin(c);
    wire_key(w, "DeliveryStreamDescription");
    wire_map_begin(w);
    wire_key(w, "DeliveryStreamName");
    wire_strz(w, s->def.name);
    wire_key(w, "DeliveryStreamARN");
    wire_strz(w, s->arn);
    wire_key(w, "DeliveryStreamStatus");
    wire_strz(w, "ACTIVE");
    wire_key(w, "DeliveryStreamType");
    wire_strz(w, "DirectPut");
    wire_key(w, "VersionId");
    wire_strz(w, "1");
    wire_key(w, "CreateTimestamp");
    wire_time(w, s->def.created_ms);
    wire_key(w, "Destinations");
    wire_array_begin(w);
    wire_map_begin(w);
    wire_key(w, "DestinationId");
    wire_strz(w, "destinationId-000000000001");
    wire_key(w, "ExtendedS3DestinationDescription");
    wire_map_begin(w);
    wire_key(w, "RoleARN");
    wire_strz(w, "arn:aws:iam::" STREAM_ACCOUNT ":role/sluice");
    wire_key(w, "BucketARN");
    wire_strz(w, "arn:aws:s3:::lake");
    /* An S3 prefix: the raw folder of the source, ending in '/'. */
    char *raw = layout_raw_prefix(s->def.source ? s->def.source : "");

    wire_key(w, "Prefix");
    wire_strz(w, sl_arena_printf(&c->arena, "%s/", raw));
    free(raw);
    wire_key(w, "BufferingHints");
    wire_map_begin(w);
    wire_key(w, "SizeInMBs");
    wire_int(w, s->def.buffer_bytes >> 20 ? s->def.buffer_bytes >> 20 : 1);
    wire_key(w, "IntervalInSeconds");
    wire_int(w, s->def.buffer_ms / 1000);
    wire_map_end(w);
    wire_key(w, "CompressionFormat");
    wire_strz(w, strcmp(s->def.compression, "gzip") == 0 ? "GZIP" : "UNCOMPRESSED");
    wire_key(w, "EncryptionConfiguration");
    wire_map_begin(w);
    wire_key(w, "NoEncryptionConfig");
    wire_strz(w, "NoEncryption");
    wire_map_end(w);
    wire_map_end(w);
    wire_map_end(w);
    wire_array_end(w);
    wire_key(w, "HasMoreDestinations");
    wire_bool(w, false);
    wire_map_end(w);
    api_end(c);
    stream_release(s);
}

struct list_ctx {
    struct api_call *c;
    const char *after;
    int64_t limit, n;
    bool more;
};

static int
list_one(void *arg, struct stream *s)
{
    struct list_ctx *l = arg;

    if (strcmp(s->def.kind, "firehose") != 0)
        return 0;
    if (l->after != NULL && strcmp(s->def.name, l->after) <= 0)
        return 0;
    if (l->n == l->limit) {
        l->more = true;
        return -1;
    }
    wire_strz(&l->c->w, s->def.name);
    l->n++;
    return 0;
}

static void
list(struct api_call *c, const struct wire_value *body)
{
    const struct wire_value *limit = wire_get(body, "Limit");
    const struct wire_value *start = wire_get(body, "ExclusiveStartDeliveryStreamName");
    struct list_ctx l = {.c = c, .limit = 10};

    if (limit != NULL) {
        if (limit->type != WIRE_INT || limit->u.i < 1 || limit->u.i > 10000) {
            api_invalid(c, "limit", "Member must have value between 1 and 10000");
            return;
        }
        l.limit = limit->u.i;
    }
    if (start != NULL && start->type == WIRE_STRING)
        l.after = wire_strdup(start, &c->arena);
    api_begin(c);
    wire_key(&c->w, "DeliveryStreamNames");
    wire_array_begin(&c->w);
    streams_each(c->srv->streams, list_one, &l);
    wire_array_end(&c->w);
    wire_key(&c->w, "HasMoreDeliveryStreams");
    wire_bool(&c->w, l.more);
    api_end(c);
}

static void
delete(struct api_call *c, const struct wire_value *body)
{
    size_t n;
    const char *name = name_of(body, &n);
    struct stream *s = delivery_stream(c, name, n);
    struct sl_diag d = {0};
    char copy[MAX_NAME + 1];

    if (s == NULL)
        return;
    if (s->def.declared) {
        api_error(c, "ResourceInUseException",
                  "Firehose %s is declared by source '%s'; remove it from the source file.",
                  s->def.name, s->def.source);
        stream_release(s);
        return;
    }
    if (!s->served) { /* only its node deletes it (kinesis.c, delete_stream) */
        api_not_served(c, s, "DeleteDeliveryStream requests");
        stream_release(s);
        return;
    }
    snprintf(copy, sizeof(copy), "%s", s->def.name);
    stream_release(s);
    int rc = streams_delete(c->srv->streams, copy, &d);

    if (rc == SL_ERR_BUSY) { /* it moved to another node meanwhile */
        s = streams_get(c->srv->streams, copy, strlen(copy));
        if (s != NULL)
            api_not_served(c, s, "DeleteDeliveryStream requests");
        else
            api_error(c, "ResourceNotFoundException", "%s", d.msg);
        stream_release(s);
        return;
    }
    if (rc < 0) {
        api_error(c, "ResourceNotFoundException", "%s", d.msg);
        return;
    }
    api_begin(c);
    api_end(c);
}

static void
put_batch_tree(struct api_call *c, const struct wire_value *body)
{
    put_tree(c, body, true);
}

static void
put_record_tree(struct api_call *c, const struct wire_value *body)
{
    put_tree(c, body, false);
}

static void
put_batch_json(struct api_call *c)
{
    put_json(c, true);
}

static void
put_record_json(struct api_call *c)
{
    put_json(c, false);
}

static const struct api_resource delivery = {"deliverystream", "DeliveryStreamName", NULL, NULL,
                                             NULL};

static const struct api_op firehose_ops[] = {
    {"PutRecordBatch", &delivery, put_batch_tree, put_batch_json, NULL, NULL},
    {"PutRecord", &delivery, put_record_tree, put_record_json, NULL, NULL},
    {"CreateDeliveryStream", &delivery, create, NULL, NULL, NULL},
    {"DescribeDeliveryStream", &delivery, describe, NULL, NULL, NULL},
    {"ListDeliveryStreams", NULL, list, NULL, NULL, NULL},
    {"DeleteDeliveryStream", &delivery, delete, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct api firehose_api = {"Firehose_20150804", "firehose", "Firehose", firehose_ops,
                                 NULL, NULL};
