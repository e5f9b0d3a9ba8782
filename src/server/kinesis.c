/*
 * kinesis.c - the Kinesis Data Streams API (Kinesis_20131202.*).
 *
 * Operations read their input from the parsed body (wire.h), so JSON and
 * CBOR share every line; PutRecords and PutRecord in JSON, which carry
 * nearly all the bytes, skip the tree and go through the in-place parser
 * (putrecords.h).  Every limit and pattern of the service model is checked
 * here, because clients check only required members and minimums.
 *
 * A put is acknowledged only after its records are durable: records are
 * grouped by shard, appended shard by shard in request order, and the call
 * then waits for the group commit of the last record of each shard.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/time.h"
#include "core/utf8.h"
#include "server/putrecords.h"
#include "server/server_int.h"
#include "core/banned.h"

#define MAX_PUT_RECORDS 500
#define MAX_PUT_BYTES (5LL << 20)
#define MAX_GET_RECORDS 10000
#define MAX_GET_BYTES (10LL << 20)
#define MAX_PK_CHARS 256

static int64_t
mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
not_found(struct api_call *c, const char *name, size_t n)
{
    return api_error(c, "ResourceNotFoundException",
                     "Stream %.*s under account " STREAM_ACCOUNT " not found.", (int)n, name);
}

/*
 * The stream a request names, by StreamName or StreamARN (both must agree),
 * with a reference; NULL after an error response.
 */
static struct stream *
named_stream(struct api_call *c, const char *name, size_t name_len, const char *arn,
             size_t arn_len)
{
    struct stream *s;

    if (arn != NULL) {
        const char *slash = memchr(arn, '/', arn_len);

        if (arn_len > 2048 || strncmp(arn, "arn:aws", 7) != 0 || slash == NULL ||
            memmem(arn, arn_len, ":kinesis:", 9) == NULL) {
            api_invalid(c, "streamARN",
                        "Member must satisfy regular expression pattern: "
                        "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+");
            return NULL;
        }
        const char *an = slash + 1;
        size_t an_len = arn_len - (size_t)(an - arn);

        if (name != NULL && (name_len != an_len || memcmp(name, an, an_len) != 0)) {
            api_error(c, "InvalidArgumentException",
                      "StreamARN %.*s and StreamName %.*s name different streams.",
                      (int)arn_len, arn, (int)name_len, name);
            return NULL;
        }
        name = an;
        name_len = an_len;
    }
    if (name == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'streamName' failed to satisfy "
                  "constraint: Member must not be null (give StreamName or StreamARN)");
        return NULL;
    }
    if (name_len == 0 || name_len > 128) {
        api_invalid(c, "streamName",
                    name_len == 0 ? "Member must have length greater than or equal to 1"
                                  : "Member must have length less than or equal to 128");
        return NULL;
    }
    if (!stream_name_ok(name, name_len, 128)) {
        api_invalid(c, "streamName",
                    "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
        return NULL;
    }
    s = streams_get(c->srv->streams, name, name_len);
    if (s == NULL || strcmp(s->def.kind, "kinesis") != 0) {
        stream_release(s);
        not_found(c, name, name_len);
        return NULL;
    }
    return s;
}

/* A string member: false (and an error response) if present with another
 * type. */
static bool
opt_str(struct api_call *c, const struct wire_value *body, const char *key, const char **p,
        size_t *n)
{
    const struct wire_value *v = wire_get(body, key);

    *p = NULL;
    *n = 0;
    if (v == NULL || v->type == WIRE_NULL)
        return true;
    if (v->type != WIRE_STRING) {
        api_error(c, "SerializationException", "%s must be a string", key);
        return false;
    }
    *p = v->u.s.p;
    *n = v->u.s.n;
    return true;
}

/* An integer member: 1 present, 0 absent, -1 after an error response. */
static int
opt_int(struct api_call *c, const struct wire_value *body, const char *key, int64_t *out)
{
    const struct wire_value *v = wire_get(body, key);

    if (v == NULL || v->type == WIRE_NULL)
        return 0;
    if (v->type == WIRE_FLOAT && v->u.f == (double)(int64_t)v->u.f) {
        *out = (int64_t)v->u.f;
        return 1;
    }
    if (v->type != WIRE_INT) {
        api_error(c, "SerializationException", "%s must be an integer", key);
        return -1;
    }
    *out = v->u.i;
    return 1;
}

static struct stream *
body_stream(struct api_call *c, const struct wire_value *body)
{
    const char *name, *arn;
    size_t name_len, arn_len;

    if (!opt_str(c, body, "StreamName", &name, &name_len) ||
        !opt_str(c, body, "StreamARN", &arn, &arn_len))
        return NULL;
    return named_stream(c, name, name_len, arn, arn_len);
}

/* ---- control plane ----------------------------------------------------------- */

static void
create_stream(struct api_call *c, const struct wire_value *body)
{
    const struct project_config *cfg = &c->srv->project->config;
    const char *name;
    size_t name_len;
    int64_t shards = 0, kib = 1024;
    int has_shards, has_kib;
    const char *mode = "PROVISIONED";
    const struct wire_value *md = wire_get(body, "StreamModeDetails");

    if (!opt_str(c, body, "StreamName", &name, &name_len))
        return;
    if (name == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'streamName' failed to satisfy "
                  "constraint: Member must not be null");
        return;
    }
    if (name_len == 0 || name_len > 128 || !stream_name_ok(name, name_len, 128)) {
        api_invalid(c, "streamName",
                    name_len > 128 ? "Member must have length less than or equal to 128"
                                   : "Member must satisfy regular expression pattern: "
                                     "[a-zA-Z0-9_.-]+");
        return;
    }
    if ((has_shards = opt_int(c, body, "ShardCount", &shards)) < 0 ||
        (has_kib = opt_int(c, body, "MaxRecordSizeInKiB", &kib)) < 0)
        return;
    if (md != NULL && md->type == WIRE_MAP) {
        const struct wire_value *m = wire_get(md, "StreamMode");

        if (wire_str_eq(m, "ON_DEMAND"))
            mode = "ON_DEMAND";
        else if (!wire_str_eq(m, "PROVISIONED")) {
            api_invalid(c, "streamModeDetails.streamMode",
                        "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]");
            return;
        }
    }
    if (strcmp(mode, "PROVISIONED") == 0 && !has_shards) {
        api_error(c, "InvalidArgumentException",
                  "ShardCount is required for a stream in PROVISIONED mode.");
        return;
    }
    if (strcmp(mode, "ON_DEMAND") == 0) {
        if (has_shards) {
            api_error(c, "InvalidArgumentException",
                      "ShardCount cannot be given for a stream in ON_DEMAND mode.");
            return;
        }
        shards = 4; /* what an on-demand stream starts with */
    }
    if (shards < 1) {
        api_invalid(c, "shardCount", "Member must have value greater than or equal to 1");
        return;
    }
    if (shards > STREAM_MAX_SHARDS) {
        api_error(c, "LimitExceededException",
                  "This request would exceed the shard limit for the account " STREAM_ACCOUNT
                  " (at most %d shards per stream).",
                  STREAM_MAX_SHARDS);
        return;
    }
    if (has_kib && (kib < 1024 || kib > 10240)) {
        api_invalid(c, "maxRecordSizeInKiB",
                    kib < 1024 ? "Member must have value greater than or equal to 1024"
                               : "Member must have value less than or equal to 10240");
        return;
    }

    struct catalog_stream def = {
        .name = sl_arena_strndup(&c->arena, name, name_len),
        .kind = "kinesis",
        .mode = mode,
        .shards = shards,
        .retention_hours = 24,
        .max_record_bytes = kib * 1024,
        .write_bytes = cfg->server.shard_write_bytes,
        .write_records = cfg->server.shard_write_records,
        .source = NULL,
        .buffer_bytes = 5 << 20,
        .buffer_ms = 60000,
        .compression = "none",
    };
    struct sl_diag d = {0};
    int rc = streams_create(c->srv->streams, &def, &d);

    if (rc == SL_ERR_EXISTS) {
        api_error(c, "ResourceInUseException",
                  "Stream %s under account " STREAM_ACCOUNT " already exists.", def.name);
        return;
    }
    if (rc < 0) {
        api_error(c, "InternalFailureException", "%s", d.msg);
        return;
    }
    SL_INFO("server", "created stream %s with %lld shards", def.name, (long long)shards);
    api_begin(c);
    api_end(c);
}

static void
delete_stream(struct api_call *c, const struct wire_value *body)
{
    struct stream *s = body_stream(c, body);
    struct sl_diag d = {0};
    char name[129];
    int rc;

    if (s == NULL)
        return;
    if (s->def.declared) {
        api_error(c, "ResourceInUseException",
                  "Stream %s is declared by source '%s'; remove it from the source file.",
                  s->def.name, s->def.source ? s->def.source : "?");
        stream_release(s);
        return;
    }
    /* Only the node serving a stream deletes it: it alone can close the
     * logs before their folder goes (stream.h, streams_delete). */
    if (!s->served) {
        api_not_served(c, s, "DeleteStream requests");
        stream_release(s);
        return;
    }
    snprintf(name, sizeof(name), "%s", s->def.name);
    stream_release(s);
    rc = streams_delete(c->srv->streams, name, &d);
    if (rc == SL_ERR_NOTFOUND) {
        not_found(c, name, strlen(name));
        return;
    }
    if (rc == SL_ERR_BUSY) { /* it moved to another node meanwhile */
        s = streams_get(c->srv->streams, name, strlen(name));
        if (s == NULL)
            not_found(c, name, strlen(name));
        else
            api_not_served(c, s, "DeleteStream requests");
        stream_release(s);
        return;
    }
    if (rc < 0) {
        api_error(c, "InternalFailureException", "%s", d.msg);
        return;
    }
    SL_INFO("server", "deleted stream %s", name);
    api_begin(c);
    api_end(c);
}

static void
write_shard(struct api_call *c, const struct stream *s, int i)
{
    struct wire_writer *w = &c->w;
    const struct stream_shard *sh = &s->shards[i];
    char num[40], seq[STREAM_SEQ_LEN + 1];

    wire_map_begin(w);
    wire_key(w, "ShardId");
    wire_strz(w, sh->id);
    wire_key(w, "HashKeyRange");
    wire_map_begin(w);
    stream_u128_format(sh->hash_start, num);
    wire_key(w, "StartingHashKey");
    wire_strz(w, num);
    stream_u128_format(sh->hash_end, num);
    wire_key(w, "EndingHashKey");
    wire_strz(w, num);
    wire_map_end(w);
    wire_key(w, "SequenceNumberRange");
    wire_map_begin(w);
    /* The shard's number 0, below every record's: known from the
     * definition alone, so a node that does not serve the stream (has no
     * log open) answers the same as the one that does. */
    stream_seq_format(i, 0, seq);
    wire_key(w, "StartingSequenceNumber");
    wire_strz(w, seq);
    wire_map_end(w);
    wire_map_end(w);
}

static void
write_mode(struct wire_writer *w, const struct stream *s)
{
    wire_key(w, "StreamModeDetails");
    wire_map_begin(w);
    wire_key(w, "StreamMode");
    wire_strz(w, s->def.mode);
    wire_map_end(w);
}

static void
write_monitoring(struct wire_writer *w)
{
    wire_key(w, "EnhancedMonitoring");
    wire_array_begin(w);
    wire_map_begin(w);
    wire_key(w, "ShardLevelMetrics");
    wire_array_begin(w);
    wire_array_end(w);
    wire_map_end(w);
    wire_array_end(w);
}

static void
describe_stream(struct api_call *c, const struct wire_value *body)
{
    struct stream *s = body_stream(c, body);
    int64_t limit = 100;
    const char *start;
    size_t start_len;
    int first = 0, n;

    if (s == NULL)
        return;
    if (opt_int(c, body, "Limit", &limit) < 0 ||
        !opt_str(c, body, "ExclusiveStartShardId", &start, &start_len))
        goto out;
    if (limit < 1 || limit > 10000) {
        api_invalid(c, "limit",
                    limit < 1 ? "Member must have value greater than or equal to 1"
                              : "Member must have value less than or equal to 10000");
        goto out;
    }
    if (limit > 100)
        limit = 100;
    if (start != NULL) {
        /* Shards after the named one, in id order; an unknown id that sorts
         * between two shards starts after it too. */
        while (first < s->nshards && (strlen(s->shards[first].id) < start_len ||
                                      (strlen(s->shards[first].id) == start_len &&
                                       memcmp(s->shards[first].id, start, start_len) <= 0)))
            first++;
    }
    n = s->nshards - first < limit ? s->nshards - first : (int)limit;

    struct wire_writer *w = &c->w;

    api_begin(c);
    wire_key(w, "StreamDescription");
    wire_map_begin(w);
    wire_key(w, "StreamName");
    wire_strz(w, s->def.name);
    wire_key(w, "StreamARN");
    wire_strz(w, s->arn);
    wire_key(w, "StreamStatus");
    wire_strz(w, "ACTIVE");
    write_mode(w, s);
    wire_key(w, "Shards");
    wire_array_begin(w);
    for (int i = first; i < first + n; i++)
        write_shard(c, s, i);
    wire_array_end(w);
    wire_key(w, "HasMoreShards");
    wire_bool(w, first + n < s->nshards);
    wire_key(w, "RetentionPeriodHours");
    wire_int(w, s->def.retention_hours);
    wire_key(w, "StreamCreationTimestamp");
    wire_time(w, s->def.created_ms);
    write_monitoring(w);
    wire_key(w, "EncryptionType");
    wire_strz(w, "NONE");
    wire_map_end(w);
    api_end(c);
out:
    stream_release(s);
}

static void
describe_summary(struct api_call *c, const struct wire_value *body)
{
    struct stream *s = body_stream(c, body);
    struct wire_writer *w = &c->w;

    if (s == NULL)
        return;
    api_begin(c);
    wire_key(w, "StreamDescriptionSummary");
    wire_map_begin(w);
    wire_key(w, "StreamName");
    wire_strz(w, s->def.name);
    wire_key(w, "StreamARN");
    wire_strz(w, s->arn);
    wire_key(w, "StreamStatus");
    wire_strz(w, "ACTIVE");
    write_mode(w, s);
    wire_key(w, "RetentionPeriodHours");
    wire_int(w, s->def.retention_hours);
    wire_key(w, "StreamCreationTimestamp");
    wire_time(w, s->def.created_ms);
    write_monitoring(w);
    wire_key(w, "EncryptionType");
    wire_strz(w, "NONE");
    wire_key(w, "OpenShardCount");
    wire_int(w, s->nshards);
    wire_key(w, "ConsumerCount");
    wire_int(w, 0);
    wire_key(w, "MaxRecordSizeInKiB");
    wire_int(w, s->def.max_record_bytes / 1024);
    wire_map_end(w);
    api_end(c);
    stream_release(s);
}

/* A stream as listed: copied, so no reference is held while writing. */
struct listed {
    const char *name, *arn, *mode;
    int64_t created_ms;
};

struct list_ctx {
    struct api_call *c;
    const char *after; /* list names after this one */
    size_t after_len;
    int64_t limit, n;
    bool more;
    struct listed *v;
};

static bool
name_after(const char *name, const char *after, size_t after_len)
{
    size_t n = strlen(name);
    int cmp = memcmp(name, after, n < after_len ? n : after_len);

    return cmp > 0 || (cmp == 0 && n > after_len);
}

static int
list_one(void *arg, struct stream *s)
{
    struct list_ctx *l = arg;
    struct sl_arena *a = &l->c->arena;

    if (strcmp(s->def.kind, "kinesis") != 0)
        return 0;
    if (l->after != NULL && !name_after(s->def.name, l->after, l->after_len))
        return 0;
    if (l->n == l->limit) {
        l->more = true;
        return -1;
    }
    l->v[l->n++] = (struct listed){sl_arena_strdup(a, s->def.name), sl_arena_strdup(a, s->arn),
                                   sl_arena_strdup(a, s->def.mode), s->def.created_ms};
    return 0;
}

static void
list_streams(struct api_call *c, const struct wire_value *body)
{
    struct list_ctx l = {.c = c, .limit = 100};
    const char *token;
    size_t token_len;

    if (opt_int(c, body, "Limit", &l.limit) < 0 ||
        !opt_str(c, body, "ExclusiveStartStreamName", &l.after, &l.after_len) ||
        !opt_str(c, body, "NextToken", &token, &token_len))
        return;
    if (l.limit < 1 || l.limit > 10000) {
        api_invalid(c, "limit",
                    l.limit < 1 ? "Member must have value greater than or equal to 1"
                                : "Member must have value less than or equal to 10000");
        return;
    }
    if (l.limit > 100)
        l.limit = 100;
    if (token != NULL) {
        /* Our NextToken is the last name listed: go on after it. */
        if (l.after != NULL) {
            api_error(c, "InvalidArgumentException",
                      "NextToken cannot be given together with ExclusiveStartStreamName.");
            return;
        }
        if (!stream_name_ok(token, token_len, 128)) {
            api_error(c, "InvalidArgumentException", "Invalid NextToken.");
            return;
        }
        l.after = token;
        l.after_len = token_len;
    }
    l.v = sl_arena_alloc(&c->arena, (size_t)l.limit * sizeof(*l.v));
    streams_each(c->srv->streams, list_one, &l);

    struct wire_writer *w = &c->w;

    api_begin(c);
    wire_key(w, "StreamNames");
    wire_array_begin(w);
    for (int64_t i = 0; i < l.n; i++)
        wire_strz(w, l.v[i].name);
    wire_array_end(w);
    wire_key(w, "HasMoreStreams");
    wire_bool(w, l.more);
    wire_key(w, "StreamSummaries");
    wire_array_begin(w);
    for (int64_t i = 0; i < l.n; i++) {
        wire_map_begin(w);
        wire_key(w, "StreamName");
        wire_strz(w, l.v[i].name);
        wire_key(w, "StreamARN");
        wire_strz(w, l.v[i].arn);
        wire_key(w, "StreamStatus");
        wire_strz(w, "ACTIVE");
        wire_key(w, "StreamModeDetails");
        wire_map_begin(w);
        wire_key(w, "StreamMode");
        wire_strz(w, l.v[i].mode);
        wire_map_end(w);
        wire_key(w, "StreamCreationTimestamp");
        wire_time(w, l.v[i].created_ms);
        wire_map_end(w);
    }
    wire_array_end(w);
    if (l.more && l.n > 0) {
        wire_key(w, "NextToken");
        wire_strz(w, l.v[l.n - 1].name);
    }
    api_end(c);
}

static void
list_shards(struct api_call *c, const struct wire_value *body)
{
    const char *name, *arn, *token, *start;
    size_t name_len, arn_len, token_len, start_len;
    int64_t max = 1000;
    struct stream *s;
    int first = 0;

    if (!opt_str(c, body, "StreamName", &name, &name_len) ||
        !opt_str(c, body, "StreamARN", &arn, &arn_len) ||
        !opt_str(c, body, "NextToken", &token, &token_len) ||
        !opt_str(c, body, "ExclusiveStartShardId", &start, &start_len) ||
        opt_int(c, body, "MaxResults", &max) < 0)
        return;
    if (max < 1 || max > 10000) {
        api_invalid(c, "maxResults",
                    max < 1 ? "Member must have value greater than or equal to 1"
                            : "Member must have value less than or equal to 10000");
        return;
    }
    if (max > 1000)
        max = 1000;
    if (token != NULL) {
        /* NextToken: "<stream name>/<first shard index>/<issued ms>". */
        if (name != NULL || arn != NULL || start != NULL) {
            api_error(c, "InvalidArgumentException",
                      "NextToken and StreamName, StreamARN or ExclusiveStartShardId cannot be "
                      "given together.");
            return;
        }
        char *t = sl_arena_strndup(&c->arena, token, token_len);
        char *slash1 = strchr(t, '/'), *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
        long long issued;

        if (slash2 == NULL || sscanf(slash1 + 1, "%d", &first) != 1 ||
            sscanf(slash2 + 1, "%lld", &issued) != 1 || first < 0) {
            api_error(c, "InvalidArgumentException", "Invalid NextToken.");
            return;
        }
        if (sl_now_ms() - issued > 300 * 1000) {
            api_error(c, "ExpiredNextTokenException", "The NextToken has expired.");
            return;
        }
        *slash1 = '\0';
        name = t;
        name_len = strlen(t);
    }
    s = named_stream(c, name, name_len, arn, arn_len);
    if (s == NULL)
        return;
    if (start != NULL) {
        while (first < s->nshards && (strlen(s->shards[first].id) < start_len ||
                                      (strlen(s->shards[first].id) == start_len &&
                                       memcmp(s->shards[first].id, start, start_len) <= 0)))
            first++;
    }
    const struct wire_value *filter = wire_get(body, "ShardFilter");

    if (filter != NULL && filter->type == WIRE_MAP) {
        const struct wire_value *type = wire_get(filter, "Type");
        static const char *const types[] = {"AFTER_SHARD_ID", "AT_TRIM_HORIZON",
                                            "FROM_TRIM_HORIZON", "AT_LATEST",
                                            "AT_TIMESTAMP", "FROM_TIMESTAMP", NULL};
        bool known = false;

        for (int i = 0; types[i]; i++)
            known = known || wire_str_eq(type, types[i]);
        if (!known) {
            api_invalid(c, "shardFilter.type",
                        "Member must satisfy enum value set: [AFTER_SHARD_ID, "
                        "AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP, "
                        "FROM_TIMESTAMP]");
            stream_release(s);
            return;
        }
        if (wire_str_eq(type, "AFTER_SHARD_ID")) {
            const struct wire_value *id = wire_get(filter, "ShardId");

            if (id == NULL || id->type != WIRE_STRING) {
                api_error(c, "InvalidArgumentException",
                          "ShardFilter AFTER_SHARD_ID needs a ShardId.");
                stream_release(s);
                return;
            }
            while (first < s->nshards && (strlen(s->shards[first].id) < id->u.s.n ||
                                          (strlen(s->shards[first].id) == id->u.s.n &&
                                           memcmp(s->shards[first].id, id->u.s.p,
                                                  id->u.s.n) <= 0)))
                first++;
        }
        /* Shards never close here (no resharding), so every other filter
         * lists every shard. */
    }
    int n = s->nshards - first < max ? s->nshards - first : (int)max;
    struct wire_writer *w = &c->w;

    if (n < 0)
        n = 0;
    api_begin(c);
    wire_key(w, "Shards");
    wire_array_begin(w);
    for (int i = first; i < first + n; i++)
        write_shard(c, s, i);
    wire_array_end(w);
    if (first + n < s->nshards) {
        char *next = sl_arena_printf(&c->arena, "%s/%d/%lld", s->def.name, first + n,
                                     (long long)sl_now_ms());

        wire_key(w, "NextToken");
        wire_strz(w, next);
    }
    api_end(c);
    stream_release(s);
}

static void
change_retention(struct api_call *c, const struct wire_value *body, bool increase)
{
    struct stream *s = body_stream(c, body);
    int64_t hours = 0;
    struct sl_diag d = {0};
    int has;

    if (s == NULL)
        return;
    if (!s->served) { /* its node trims the logs by it */
        api_not_served(c, s, increase ? "IncreaseStreamRetentionPeriod requests"
                                      : "DecreaseStreamRetentionPeriod requests");
        goto out;
    }
    has = opt_int(c, body, "RetentionPeriodHours", &hours);
    if (has < 0)
        goto out;
    if (has == 0) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'retentionPeriodHours' failed "
                  "to satisfy constraint: Member must not be null");
        goto out;
    }
    if (hours < 24 || hours > 8760) {
        api_error(c, "InvalidArgumentException",
                  "Minimum allowed retention period is 24 hours and maximum is 8760 hours; "
                  "requested %lld.",
                  (long long)hours);
        goto out;
    }
    if (increase ? hours < s->def.retention_hours : hours > s->def.retention_hours) {
        api_error(c, "InvalidArgumentException",
                  "Requested retention period (%lld hours) for stream %s can not be %s than "
                  "existing retention period (%lld hours). Use %sStreamRetentionPeriod API.",
                  (long long)hours, s->def.name, increase ? "shorter" : "longer",
                  (long long)s->def.retention_hours, increase ? "Decrease" : "Increase");
        goto out;
    }
    if (streams_set_retention(c->srv->streams, s, hours, &d) < 0) {
        api_error(c, "InternalFailureException", "%s", d.msg);
        goto out;
    }
    api_begin(c);
    api_end(c);
out:
    stream_release(s);
}

/* ---- shard iterators ------------------------------------------------------- */

/*
 * An iterator is base64 of: version byte, shard index (2), next sequence
 * number (8), the stream's creation ms (8), issue time ms (8), the stream
 * name, and the first 16 bytes of an HMAC-SHA256 over all that with the
 * lake's iterator key, so a garbled or forged iterator is refused and one
 * of a deleted-and-recreated stream is recognised.
 */
#define ITER_FIXED 27
#define ITER_MAC 16

static void
put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t
get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static char *
make_iterator(struct api_call *c, const struct stream *s, int shard, uint64_t seq)
{
    size_t nlen = strlen(s->def.name);
    unsigned char raw[ITER_FIXED + 128 + ITER_MAC], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    size_t len = ITER_FIXED + nlen;
    char *out;

    raw[0] = 1;
    raw[1] = (unsigned char)(shard >> 8);
    raw[2] = (unsigned char)shard;
    put_u64(raw + 3, seq);
    put_u64(raw + 11, (uint64_t)s->def.created_ms);
    put_u64(raw + 19, (uint64_t)sl_now_ms());
    memcpy(raw + ITER_FIXED, s->def.name, nlen);
    HMAC(EVP_sha256(), c->srv->iterator_key, sizeof(c->srv->iterator_key), raw, len, mac,
         &maclen);
    memcpy(raw + len, mac, ITER_MAC);
    len += ITER_MAC;
    out = sl_arena_alloc(&c->arena, base64_encoded_len(len) + 1);
    base64_encode(raw, len, out);
    out[base64_encoded_len(len)] = '\0';
    return out;
}

struct iterator {
    int shard;
    uint64_t seq;
    int64_t created_ms, issued_ms;
    char name[129];
};

/* Decode an iterator and check its signature; false if it is not one of
 * ours. */
static bool
decode_iterator(const struct server *srv, const char *text, size_t n, struct iterator *it)
{
    unsigned char raw[ITER_FIXED + 128 + ITER_MAC + 4], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    ptrdiff_t len;

    if (base64_encoded_len(sizeof(raw)) < n ||
        (len = base64_decode(text, n, raw)) < ITER_FIXED + 1 + ITER_MAC ||
        len > ITER_FIXED + 128 + ITER_MAC || raw[0] != 1)
        return false;
    len -= ITER_MAC;
    HMAC(EVP_sha256(), srv->iterator_key, sizeof(srv->iterator_key), raw, (size_t)len, mac,
         &maclen);
    if (CRYPTO_memcmp(mac, raw + len, ITER_MAC) != 0)
        return false;
    it->shard = raw[1] << 8 | raw[2];
    it->seq = get_u64(raw + 3);
    it->created_ms = (int64_t)get_u64(raw + 11);
    it->issued_ms = (int64_t)get_u64(raw + 19);
    memcpy(it->name, raw + ITER_FIXED, (size_t)len - ITER_FIXED);
    it->name[len - ITER_FIXED] = '\0';
    return true;
}

/* Decode and check an iterator; false after an error response. */
static bool
read_iterator(struct api_call *c, const char *text, size_t n, struct iterator *it)
{
    if (n == 0 || n > 512) {
        api_invalid(c, "shardIterator",
                    n == 0 ? "Member must have length greater than or equal to 1"
                           : "Member must have length less than or equal to 512");
        return false;
    }
    if (!decode_iterator(c->srv, text, n, it)) {
        api_error(c, "InvalidArgumentException", "Invalid ShardIterator.");
        return false;
    }
    return true;
}

static void
get_shard_iterator(struct api_call *c, const struct wire_value *body)
{
    struct stream *s = body_stream(c, body);
    const struct wire_value *type = wire_get(body, "ShardIteratorType");
    const char *id, *start;
    size_t id_len, start_len;
    uint64_t seq = 0;
    int shard;
    struct shardlog_info info;
    struct sl_diag d = {0};

    if (s == NULL)
        return;
    if (!opt_str(c, body, "ShardId", &id, &id_len) ||
        !opt_str(c, body, "StartingSequenceNumber", &start, &start_len))
        goto out;
    if (id == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'shardId' failed to satisfy "
                  "constraint: Member must not be null");
        goto out;
    }
    shard = stream_shard_index(s, id, id_len);
    if (shard < 0) {
        api_error(c, "ResourceNotFoundException",
                  "Shard %.*s in stream %s under account " STREAM_ACCOUNT " does not exist",
                  (int)(id_len > 128 ? 128 : id_len), id, s->def.name);
        goto out;
    }
    if (!s->served) {
        api_not_served(c, s, "GetShardIterator requests");
        goto out;
    }
    shardlog_info(s->shards[shard].log, &info);
    if (wire_str_eq(type, "TRIM_HORIZON")) {
        seq = info.first_seq;
    } else if (wire_str_eq(type, "LATEST")) {
        seq = info.next_seq;
    } else if (wire_str_eq(type, "AT_SEQUENCE_NUMBER") ||
               wire_str_eq(type, "AFTER_SEQUENCE_NUMBER")) {
        int at_shard;

        if (start == NULL) {
            api_error(c, "InvalidArgumentException",
                      "StartingSequenceNumber is required for %.*s.", (int)type->u.s.n,
                      type->u.s.p);
            goto out;
        }
        if (stream_seq_parse(start, start_len, &at_shard, &seq) < 0 || at_shard != shard) {
            api_error(c, "InvalidArgumentException",
                      "Invalid StartingSequenceNumber. It encodes a different shardId than "
                      "the argument shardId, or is not a sequence number of this stream: "
                      "%.*s",
                      (int)(start_len > 130 ? 130 : start_len), start);
            goto out;
        }
        if (wire_str_eq(type, "AFTER_SEQUENCE_NUMBER"))
            seq++;
        if (seq < info.first_seq)
            seq = info.first_seq;
    } else if (wire_str_eq(type, "AT_TIMESTAMP")) {
        const struct wire_value *t = wire_get(body, "Timestamp");
        int64_t ms;

        if (t == NULL) {
            api_error(c, "InvalidArgumentException",
                      "Timestamp is required for AT_TIMESTAMP.");
            goto out;
        }
        if (wire_time_ms(c->fmt, t, &ms, &d) < 0) {
            api_error(c, "SerializationException", "Timestamp: %s", d.msg);
            goto out;
        }
        if (ms > sl_now_ms()) {
            api_error(c, "InvalidArgumentException",
                      "The timestamp %lld ms is in the future.", (long long)ms);
            goto out;
        }
        if (shardlog_seek_time(s->shards[shard].log, ms, &seq, &d) < 0) {
            api_error(c, "InternalFailureException", "%s", d.msg);
            goto out;
        }
    } else {
        api_invalid(c, "shardIteratorType",
                    "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, "
                    "AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]");
        goto out;
    }
    api_begin(c);
    wire_key(&c->w, "ShardIterator");
    wire_strz(&c->w, make_iterator(c, s, shard, seq));
    api_end(c);
out:
    stream_release(s);
}

struct get_ctx {
    struct api_call *c;
    int shard;
    int64_t last_arrival;
    size_t n;
};

static int
emit_record(void *arg, const struct shardlog_entry *e)
{
    struct get_ctx *g = arg;
    struct wire_writer *w = &g->c->w;
    char seq[STREAM_SEQ_LEN + 1];

    stream_seq_format(g->shard, e->seq, seq);
    wire_map_begin(w);
    wire_key(w, "SequenceNumber");
    wire_str(w, seq, STREAM_SEQ_LEN);
    wire_key(w, "ApproximateArrivalTimestamp");
    wire_time(w, e->arrival_ms);
    wire_key(w, "Data");
    wire_bytes(w, e->data, e->data_len);
    wire_key(w, "PartitionKey");
    wire_str(w, e->pk, e->pk_len);
    wire_map_end(w);
    g->last_arrival = e->arrival_ms;
    g->n++;
    return 0;
}

static void
get_records(struct api_call *c, const struct wire_value *body)
{
    const char *text, *arn;
    size_t text_len, arn_len;
    int64_t limit = MAX_GET_RECORDS;
    struct iterator it;
    struct stream *s;
    struct sl_diag d = {0};
    uint64_t next = 0;
    struct shardlog_info info;

    if (!opt_str(c, body, "ShardIterator", &text, &text_len) ||
        !opt_str(c, body, "StreamARN", &arn, &arn_len) ||
        opt_int(c, body, "Limit", &limit) < 0)
        return;
    if (text == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'shardIterator' failed to "
                  "satisfy constraint: Member must not be null");
        return;
    }
    if (limit < 1 || limit > MAX_GET_RECORDS) {
        api_error(c, "InvalidArgumentException",
                  "Limit must be between 1 and %d; got %lld.", MAX_GET_RECORDS,
                  (long long)limit);
        return;
    }
    if (!read_iterator(c, text, text_len, &it))
        return;
    if (arn != NULL) {
        const char *slash = memchr(arn, '/', arn_len);

        if (slash == NULL || (size_t)(arn + arn_len - slash - 1) != strlen(it.name) ||
            memcmp(slash + 1, it.name, strlen(it.name)) != 0) {
            api_error(c, "InvalidArgumentException",
                      "The shard iterator belongs to stream %s, not to %.*s.", it.name,
                      (int)arn_len, arn);
            return;
        }
    }
    s = streams_get(c->srv->streams, it.name, strlen(it.name));
    if (s == NULL || s->def.created_ms != it.created_ms || it.shard >= s->nshards) {
        stream_release(s);
        api_error(c, "ResourceNotFoundException",
                  "Stream %s under account " STREAM_ACCOUNT " not found (the iterator is for "
                  "a stream that no longer exists).",
                  it.name);
        return;
    }
    int64_t now = sl_now_ms();

    int64_t ttl_ms = c->srv->project->config.server.iterator_ttl * 1000;

    if (now - it.issued_ms > ttl_ms) {
        api_error(c, "ExpiredIteratorException",
                  "Iterator expired. The iterator was created at time %lld while right now "
                  "it is %lld which is further in the future than the tolerated delay of "
                  "%lld milliseconds.",
                  (long long)it.issued_ms, (long long)now, (long long)ttl_ms);
        stream_release(s);
        return;
    }
    if (!s->served) {
        /* Iterators are signed with the lake's key: the serving node takes
         * this one as it is. */
        api_not_served(c, s, "GetRecords requests");
        stream_release(s);
        return;
    }
    struct shardlog *log = s->shards[it.shard].log;
    struct get_ctx g = {c, it.shard, 0, 0};
    struct wire_writer *w = &c->w;

    shardlog_info(log, &info);
    if (it.seq < info.first_seq)
        it.seq = info.first_seq;
    api_begin(c);
    wire_key(w, "Records");
    wire_array_begin(w);
    if (shardlog_read(log, it.seq, (size_t)limit, MAX_GET_BYTES, emit_record, &g, &next, &d) <
        0) {
        stream_release(s);
        sl_buf_reset(&c->resp->body);
        api_error(c, "InternalFailureException", "%s", d.msg);
        return;
    }
    if (g.n == 0)
        next = it.seq;
    wire_array_end(w);
    wire_key(w, "NextShardIterator");
    wire_strz(w, make_iterator(c, s, it.shard, next));
    shardlog_info(log, &info);
    wire_key(w, "MillisBehindLatest");
    wire_int(w, next > info.durable_seq || info.last_arrival_ms == 0
                    ? 0
                    : (now - g.last_arrival > 0 ? now - g.last_arrival : 0));
    api_end(c);
    atomic_fetch_add(&s->records_out, g.n);
    stream_release(s);
}

/* ---- puts -------------------------------------------------------------------- */

/* Unicode characters in a UTF-8 string (the partition key limit counts them). */
static size_t
utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;

    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/*
 * Check one record against the stream; returns false after an error
 * response (these fail the whole request, as in the service).
 */
static bool
check_record(struct api_call *c, const struct stream *s, const struct put_item *r, size_t i,
             bool batch)
{
    char member[64];

    if (batch)
        snprintf(member, sizeof(member), "records.%zu.member.", i + 1);
    else
        member[0] = '\0';
    if (r->data == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at '%sdata' failed to satisfy "
                  "constraint: Member must not be null",
                  member);
        return false;
    }
    if (r->pk == NULL) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at '%spartitionKey' failed to "
                  "satisfy constraint: Member must not be null",
                  member);
        return false;
    }
    size_t chars = utf8_chars(r->pk, r->pk_len);

    if (chars < 1 || chars > MAX_PK_CHARS) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value '%.*s' at '%spartitionKey' failed to "
                  "satisfy constraint: Member must have length %s",
                  (int)(r->pk_len > 64 ? 64 : r->pk_len), r->pk, member,
                  chars < 1 ? "greater than or equal to 1" : "less than or equal to 256");
        return false;
    }
    if ((int64_t)r->data_len > s->def.max_record_bytes) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value of %zu bytes at '%sdata' failed to "
                  "satisfy constraint: Member must have length less than or equal to %lld",
                  r->data_len, member, (long long)s->def.max_record_bytes);
        return false;
    }
    /* The record size limit counts the partition key too. */
    if ((int64_t)(r->data_len + r->pk_len) > s->def.max_record_bytes) {
        api_error(c, "InvalidArgumentException",
                  "The record %s holds %zu bytes of data and partition key; the stream takes "
                  "at most %lld.",
                  member[0] ? member : "", r->data_len + r->pk_len,
                  (long long)s->def.max_record_bytes);
        return false;
    }
    return true;
}

int
stream_put(struct api_call *c, struct stream *s, const struct put_item *recs, size_t n,
           bool single, struct put_outcome *out)
{
    struct sl_diag d = {0};
    int64_t now = sl_now_ms(), t_ns = mono_ns();
    int64_t total = 0;

    out->shard = sl_arena_alloc(&c->arena, n * sizeof(int));
    out->ok = sl_arena_alloc(&c->arena, n * sizeof(bool));
    out->seq = sl_arena_alloc(&c->arena, n * sizeof(uint64_t));
    out->failed = 0;
    for (size_t i = 0; i < n; i++) {
        total += (int64_t)(recs[i].data_len + recs[i].pk_len);
        if (stream_route(s, recs[i].pk, recs[i].pk_len, recs[i].ehk, recs[i].ehk_len,
                         &out->shard[i], &d) < 0)
            return api_error(c, "InvalidArgumentException",
                             "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: "
                             "[0, 2^128-1]. Specified value was %.*s",
                             (int)(recs[i].ehk_len > 60 ? 60 : recs[i].ehk_len), recs[i].ehk),
                   -1;
    }
    for (size_t i = 0; i < n; i++) {
        out->ok[i] = stream_admit(s, out->shard[i], 1,
                                  (int64_t)(recs[i].data_len + recs[i].pk_len), t_ns);
        if (!out->ok[i]) {
            out->failed++;
            atomic_fetch_add(&s->throttled, 1);
        }
    }
    if (single && out->failed)
        return 1;
    /* Append each shard's records, in request order, with one call. */
    struct shardlog_rec *lr = sl_arena_alloc(&c->arena, n * sizeof(*lr));
    size_t *idx = sl_arena_alloc(&c->arena, n * sizeof(size_t));
    uint64_t *last = sl_arena_zalloc(&c->arena, (size_t)s->nshards * sizeof(uint64_t));
    int rc = 0;

    for (int sh = 0; sh < s->nshards && rc == 0; sh++) {
        size_t m = 0;
        uint64_t first;

        for (size_t i = 0; i < n; i++) {
            if (out->shard[i] != sh || !out->ok[i])
                continue;
            lr[m] = (struct shardlog_rec){recs[i].pk, recs[i].pk_len, recs[i].data,
                                          recs[i].data_len};
            idx[m++] = i;
        }
        if (m == 0)
            continue;
        rc = shardlog_append(s->shards[sh].log, lr, m, now, &first, &d);
        if (rc < 0)
            break;
        for (size_t j = 0; j < m; j++)
            out->seq[idx[j]] = first + j;
        last[sh] = first + m - 1;
    }
    for (int sh = 0; sh < s->nshards && rc == 0; sh++)
        if (last[sh] != 0)
            rc = shardlog_wait(s->shards[sh].log, last[sh], &d);
    server_note_commit(c->srv, (mono_ns() - t_ns) / 1000);
    if (rc < 0) {
        /* Nothing of a failed append is visible; what went to other shards
         * before it is unacknowledged either way, and the client retries. */
        SL_ERROR("server", "put to %s failed: %s", s->def.name, d.msg);
        api_error(c, rc == -ENOSPC ? "ServiceUnavailableException" : "InternalFailureException",
                  rc == -ENOSPC ? "The server's disk is full; retry later."
                                : "Internal Service Failure");
        return -1;
    }
    atomic_fetch_add(&s->records_in, n - out->failed);
    atomic_fetch_add(&s->bytes_in, (uint64_t)total);
    return 0;
}

/* Check, put and answer a Kinesis PutRecords (batch) or PutRecord. */
static void
put_records(struct api_call *c, struct stream *s, const struct put_item *recs, size_t n,
            bool batch)
{
    struct put_outcome o;
    int64_t total = 0;

    for (size_t i = 0; i < n; i++) {
        if (!check_record(c, s, &recs[i], i, batch))
            return;
        total += (int64_t)(recs[i].data_len + recs[i].pk_len);
    }
    if (batch && total > MAX_PUT_BYTES) {
        api_error(c, "InvalidArgumentException",
                  "Records size exceeds 5 MB limit: the records of this request hold %lld "
                  "bytes of data and partition keys.",
                  (long long)total);
        return;
    }
    int rc = stream_put(c, s, recs, n, !batch, &o);

    if (rc < 0)
        return;
    if (rc > 0) {
        api_error(c, "ProvisionedThroughputExceededException",
                  "Rate exceeded for shard %s in stream %s under account " STREAM_ACCOUNT ".",
                  s->shards[o.shard[0]].id, s->def.name);
        return;
    }

    struct wire_writer *w = &c->w;
    char sq[STREAM_SEQ_LEN + 1];

    api_begin(c);
    if (!batch) {
        stream_seq_format(o.shard[0], o.seq[0], sq);
        wire_key(w, "ShardId");
        wire_strz(w, s->shards[o.shard[0]].id);
        wire_key(w, "SequenceNumber");
        wire_str(w, sq, STREAM_SEQ_LEN);
        wire_key(w, "EncryptionType");
        wire_strz(w, "NONE");
        api_end(c);
        return;
    }
    wire_key(w, "FailedRecordCount");
    wire_int(w, (int64_t)o.failed);
    wire_key(w, "Records");
    wire_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        wire_map_begin(w);
        if (o.ok[i]) {
            stream_seq_format(o.shard[i], o.seq[i], sq);
            wire_key(w, "SequenceNumber");
            wire_str(w, sq, STREAM_SEQ_LEN);
            wire_key(w, "ShardId");
            wire_strz(w, s->shards[o.shard[i]].id);
        } else {
            char msg[300];

            snprintf(msg, sizeof(msg),
                     "Rate exceeded for shard %s in stream %s under account " STREAM_ACCOUNT
                     ".",
                     s->shards[o.shard[i]].id, s->def.name);
            wire_key(w, "ErrorCode");
            wire_strz(w, "ProvisionedThroughputExceededException");
            wire_key(w, "ErrorMessage");
            wire_strz(w, msg);
        }
        wire_map_end(w);
    }
    wire_array_end(w);
    wire_key(w, "EncryptionType");
    wire_strz(w, "NONE");
    api_end(c);
}

static bool
check_count(struct api_call *c, size_t n, bool present)
{
    if (!present) {
        api_error(c, "ValidationException",
                  "1 validation error detected: Value null at 'records' failed to satisfy "
                  "constraint: Member must not be null");
        return false;
    }
    if (n < 1 || n > MAX_PUT_RECORDS) {
        api_invalid(c, "records",
                    n < 1 ? "Member must have length greater than or equal to 1"
                          : "Member must have length less than or equal to 500");
        return false;
    }
    return true;
}

static void
kinesis_put_json(struct api_call *c, bool batch)
{
    struct put_record *raw = sl_arena_alloc(&c->arena, MAX_PUT_RECORDS * sizeof(*raw));
    struct put_batch b = {.recs = raw, .cap = MAX_PUT_RECORDS};
    struct sl_diag d = {0};
    struct stream *s;

    if (putrecords_parse(batch ? PUT_KINESIS_RECORDS : PUT_KINESIS_RECORD, c->req->body_mut,
                         c->req->body_len, &b, &d) < 0) {
        api_error(c, "SerializationException", "%s", d.msg);
        return;
    }
    if (batch && !check_count(c, b.n, b.has_records))
        return;
    if (b.seq_for_ordering != NULL) {
        /* Only a hint for ordering (a shard's order is strict here anyway),
         * but its pattern is checked like every other member's. */
        const char *q = b.seq_for_ordering;
        size_t n = b.seq_for_ordering_len;
        bool ok = n >= 1 && n <= 129 && (n == 1 || q[0] != '0');

        for (size_t i = 0; ok && i < n; i++)
            ok = q[i] >= '0' && q[i] <= '9';
        if (!ok) {
            api_invalid(c, "sequenceNumberForOrdering",
                        "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})");
            return;
        }
    }
    if (!api_authorize(c, b.stream_name, b.stream_name_len, b.stream_arn, b.stream_arn_len))
        return;
    s = named_stream(c, b.stream_name, b.stream_name_len, b.stream_arn, b.stream_arn_len);
    if (s == NULL)
        return;
    if (!s->served) {
        api_not_served(c, s, "records");
        stream_release(s);
        return;
    }
    size_t n = batch ? b.n : 1;
    struct put_item *items = sl_arena_alloc(&c->arena, n * sizeof(*items));

    for (size_t i = 0; i < n; i++)
        items[i] = (struct put_item){raw[i].pk,   raw[i].pk_len, raw[i].ehk,
                                     raw[i].ehk_len, raw[i].data, raw[i].data_len};
    put_records(c, s, items, n, batch);
    stream_release(s);
}

/* PutRecord(s) from a parsed body (CBOR, or JSON that took the slow path). */
static void
put_tree(struct api_call *c, const struct wire_value *body, bool batch)
{
    struct stream *s;
    struct sl_diag d = {0};
    const struct wire_value *list = NULL;
    size_t n = 1;

    if (batch) {
        list = wire_get(body, "Records");
        if (list != NULL && list->type != WIRE_ARRAY && list->type != WIRE_NULL) {
            api_error(c, "SerializationException", "Records must be a list");
            return;
        }
        if (!check_count(c, list && list->type == WIRE_ARRAY ? list->u.a.n : 0,
                         list != NULL && list->type == WIRE_ARRAY))
            return;
        n = list->u.a.n;
    }
    s = body_stream(c, body);
    if (s == NULL)
        return;
    if (!s->served) {
        api_not_served(c, s, "records");
        goto out;
    }
    struct put_item *items = sl_arena_zalloc(&c->arena, n * sizeof(*items));

    for (size_t i = 0; i < n; i++) {
        const struct wire_value *r = batch ? &list->u.a.items[i] : body;
        const struct wire_value *data;

        if (r->type != WIRE_MAP) {
            api_error(c, "SerializationException", "Records[%zu] must be a structure", i);
            goto out;
        }
        if (!opt_str(c, r, "PartitionKey", &items[i].pk, &items[i].pk_len) ||
            !opt_str(c, r, "ExplicitHashKey", &items[i].ehk, &items[i].ehk_len))
            goto out;
        data = wire_get(r, "Data");
        if (data != NULL && data->type != WIRE_NULL) {
            if (wire_blob(data, &c->arena, &items[i].data, &items[i].data_len, &d) < 0) {
                api_error(c, "SerializationException", "Data of record %zu: %s", i + 1,
                          d.msg);
                goto out;
            }
            if (items[i].data == NULL)
                items[i].data = (const uint8_t *)"";
        }
    }
    put_records(c, s, items, n, batch);
out:
    stream_release(s);
}

/* ---- dispatch ---------------------------------------------------------------- */

static void
put_records_tree(struct api_call *c, const struct wire_value *body)
{
    put_tree(c, body, true);
}

static void
put_record_tree(struct api_call *c, const struct wire_value *body)
{
    put_tree(c, body, false);
}

static void
increase_retention(struct api_call *c, const struct wire_value *body)
{
    change_retention(c, body, true);
}

static void
decrease_retention(struct api_call *c, const struct wire_value *body)
{
    change_retention(c, body, false);
}

/* A shard iterator names its stream (the operation checks its signature). */
static bool
iterator_stream(struct api_call *c, const struct wire_value *body, char *name, size_t size)
{
    const struct wire_value *v = wire_get(body, "ShardIterator");
    struct iterator it;

    if (v == NULL || v->type != WIRE_STRING || v->u.s.n > 512 ||
        !decode_iterator(c->srv, v->u.s.p, v->u.s.n, &it))
        return false;
    snprintf(name, size, "%s", it.name);
    return true;
}

/* ListShards' NextToken begins with its stream's name. */
static bool
next_token_stream(struct api_call *c, const struct wire_value *body, char *name, size_t size)
{
    const struct wire_value *v = wire_get(body, "NextToken");
    const char *slash;

    (void)c;
    if (v == NULL || v->type != WIRE_STRING ||
        (slash = memchr(v->u.s.p, '/', v->u.s.n)) == NULL || (size_t)(slash - v->u.s.p) >= size)
        return false;
    snprintf(name, size, "%.*s", (int)(slash - v->u.s.p), v->u.s.p);
    return true;
}

static void
put_records_json(struct api_call *c)
{
    kinesis_put_json(c, true);
}

static void
put_record_json(struct api_call *c)
{
    kinesis_put_json(c, false);
}

static const struct api_resource stream = {"stream", "StreamName", "StreamARN", NULL, NULL};
static const struct api_resource iterated = {"stream", NULL, "StreamARN", iterator_stream, NULL};
static const struct api_resource listed = {"stream", "StreamName", "StreamARN",
                                           next_token_stream, NULL};

static const struct api_op kinesis_ops[] = {
    {"PutRecords", &stream, put_records_tree, put_records_json, NULL, NULL},
    {"PutRecord", &stream, put_record_tree, put_record_json, NULL, NULL},
    {"GetRecords", &iterated, get_records, NULL, NULL, NULL},
    {"GetShardIterator", &stream, get_shard_iterator, NULL, NULL, NULL},
    {"CreateStream", &stream, create_stream, NULL, NULL, NULL},
    {"DeleteStream", &stream, delete_stream, NULL, NULL, NULL},
    {"DescribeStream", &stream, describe_stream, NULL, NULL, NULL},
    {"DescribeStreamSummary", &stream, describe_summary, NULL, NULL, NULL},
    {"ListStreams", NULL, list_streams, NULL, NULL, NULL},
    {"ListShards", &listed, list_shards, NULL, NULL, NULL},
    {"IncreaseStreamRetentionPeriod", &stream, increase_retention, NULL, NULL, NULL},
    {"DecreaseStreamRetentionPeriod", &stream, decrease_retention, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const struct api kinesis_api = {"Kinesis_20131202", "kinesis", "Kinesis", kinesis_ops, NULL,
                                NULL};
