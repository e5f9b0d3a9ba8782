/*
 * streams.c - stream definitions and delivery positions (see streams.h).
 */
#include "catalog/streams.h"

#include "catalog/catalog_int.h"
#include "core/time.h"
#include "core/banned.h"

int
catalog_stream_add(struct catalog_txn *txn, const struct catalog_stream *s, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "record a stream",
                     "INSERT INTO streams (name, kind, mode, shards, retention_hours, "
                     "max_record_bytes, write_bytes, write_records, source, buffer_bytes, "
                     "buffer_ms, compression, declared, created_ms) VALUES (?1, ?2, ?3, ?4, "
                     "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                     "ON CONFLICT (name) DO NOTHING",
                     NULL, NULL, "tttiiiiitiitii", s->name, s->kind, s->mode, s->shards,
                     s->retention_hours, s->max_record_bytes, s->write_bytes, s->write_records,
                     s->source, s->buffer_bytes, s->buffer_ms, s->compression,
                     (int64_t)s->declared, s->created_ms);

    if (rc == 0)
        return sl_fail(d, SL_ERR_EXISTS, "a stream named '%s' exists already", s->name);
    return rc < 0 ? rc : 0;
}

int
catalog_stream_set_retention(struct catalog_txn *txn, const char *name, int64_t hours,
                             struct sl_diag *d)
{
    int rc = cat_run(txn, d, "change a stream's retention",
                     "UPDATE streams SET retention_hours = ?2 WHERE name = ?1", NULL, NULL,
                     "ti", name, hours);

    return rc < 0 ? rc : 0;
}

int
catalog_stream_update(struct catalog_txn *txn, const struct catalog_stream *s, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "change a stream's settings",
                     "UPDATE streams SET retention_hours = ?2, max_record_bytes = ?3, "
                     "write_bytes = ?4, write_records = ?5, buffer_bytes = ?6, buffer_ms = ?7, "
                     "compression = ?8, declared = ?9 WHERE name = ?1",
                     NULL, NULL, "tiiiiiiti", s->name, s->retention_hours, s->max_record_bytes,
                     s->write_bytes, s->write_records, s->buffer_bytes, s->buffer_ms,
                     s->compression, (int64_t)s->declared);

    return rc < 0 ? rc : 0;
}

int
catalog_stream_remove(struct catalog_txn *txn, const char *name, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "remove a stream's delivery positions",
                     "DELETE FROM delivery_positions WHERE stream = ?1", NULL, NULL, "t", name);

    if (rc >= 0)
        rc = cat_run(txn, d, "remove a stream", "DELETE FROM streams WHERE name = ?1", NULL,
                     NULL, "t", name);
    return rc < 0 ? rc : 0;
}

struct stream_rows {
    catalog_stream_cb cb;
    void *arg;
};

static int
stream_row(void *arg, const struct catalog_row *r)
{
    struct stream_rows *c = arg;
    struct catalog_stream s = {
        .name = cat_text(r, 0),
        .kind = cat_text(r, 1),
        .mode = cat_text(r, 2),
        .shards = cat_int(r, 3),
        .retention_hours = cat_int(r, 4),
        .max_record_bytes = cat_int(r, 5),
        .write_bytes = cat_int(r, 6),
        .write_records = cat_int(r, 7),
        .source = cat_text(r, 8),
        .buffer_bytes = cat_int(r, 9),
        .buffer_ms = cat_int(r, 10),
        .compression = cat_text(r, 11),
        .declared = cat_int(r, 12) != 0,
        .created_ms = cat_int(r, 13),
    };

    return c->cb(c->arg, &s);
}

int
catalog_stream_list(struct catalog_txn *txn, catalog_stream_cb cb, void *arg, struct sl_diag *d)
{
    struct stream_rows c = {cb, arg};
    int rc = cat_run(txn, d, "list streams",
                     "SELECT name, kind, mode, shards, retention_hours, max_record_bytes, "
                     "write_bytes, write_records, source, buffer_bytes, buffer_ms, "
                     "compression, declared, created_ms FROM streams ORDER BY name",
                     stream_row, &c, "");

    return rc < 0 ? rc : 0;
}

int
catalog_delivery_get(struct catalog_txn *txn, const char *stream, int64_t shard,
                     int64_t created_ms, int64_t *seq, struct sl_diag *d)
{
    int rc = cat_int_of(txn, d, "read a delivery position",
                        "SELECT seq FROM delivery_positions WHERE stream = ?1 AND shard = ?2 "
                        "AND created_ms = ?3",
                        seq, "tii", stream, shard, created_ms);

    if (rc == SL_ERR_NOTFOUND) {
        *seq = 0;
        rc = 0;
    }
    return rc;
}

int
catalog_delivery_set(struct catalog_txn *txn, const char *stream, int64_t shard,
                     int64_t created_ms, int64_t seq, struct sl_diag *d)
{
    int rc = cat_run(txn, d, "advance a delivery position",
                     "INSERT INTO delivery_positions (stream, shard, created_ms, seq, "
                     "updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (stream, shard) DO "
                     "UPDATE SET created_ms = excluded.created_ms, seq = excluded.seq, "
                     "updated_at = excluded.updated_at",
                     NULL, NULL, "tiiii", stream, shard, created_ms, seq, sl_now_usec());

    return rc < 0 ? rc : 0;
}
