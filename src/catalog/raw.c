/*
 * raw.c - raw objects and bookmarks (see raw.h).
 *
 * Seq and arrival time come from two rows of the counters table that every
 * landing transaction updates: the row lock (SQLite: the write lock) makes
 * concurrent landings commit one after another, in seq order.
 */
#include "catalog/raw.h"

#include "catalog/catalog_int.h"
#include "core/time.h"
#include "core/banned.h"

#define RAW_COLS                                                                  \
    "seq, source, object_id, key, system, contract_version, original_name, "     \
    "format, compression, size, checksum, arrived_at"

/* Bump a counter with sql, which takes no parameter (fmt "") or one
 * integer (fmt "i", arg). */
static int
next_counter(struct catalog_txn *txn, const char *what, const char *sql, int64_t *out,
             const char *fmt, int64_t arg, struct sl_diag *d)
{
    int rc = cat_int_of(txn, d, what, sql, out, fmt, arg);

    if (rc == SL_ERR_NOTFOUND)
        rc = sl_fail(d, SL_ERR_CORRUPT, "catalog %s: a counter is missing (%s)",
                     catalog_where(catalog_txn_catalog(txn)), what);
    return rc;
}

int
catalog_raw_add(struct catalog_txn *txn, struct raw_object *o, struct sl_diag *d)
{
    int64_t seq, arrived, exists = 0;
    int rc;

    /* A duplicate must not use up a seq (nor, on PostgreSQL, abort). */
    rc = cat_int_of(txn, d, "look for a raw object",
                    "SELECT 1 FROM raw_objects WHERE source = ?1 AND object_id = ?2", &exists,
                    "tt", o->source, o->object_id);
    if (rc == 0)
        return SL_ERR_EXISTS;
    if (rc != SL_ERR_NOTFOUND)
        return rc;
    rc = next_counter(txn, "number a raw object",
                      "UPDATE counters SET value = value + 1 WHERE name = 'raw_seq' "
                      "RETURNING value",
                      &seq, "", 0, d);
    if (rc == 0)
        rc = next_counter(txn, "time a raw object",
                          "UPDATE counters SET value = CASE WHEN value < ?1 THEN ?1 "
                          "ELSE value + 1 END WHERE name = 'raw_arrival' RETURNING value",
                          &arrived, "i", o->arrived_at, d);
    if (rc < 0)
        return rc;
    rc = cat_run(txn, d, "record a raw object",
                 "INSERT INTO raw_objects (seq, source, object_id, key, system, "
                 "contract_version, original_name, format, compression, size, "
                 "checksum, arrived_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                 "?11, ?12)",
                 NULL, NULL, "ittttttttiti", seq, o->source, o->object_id, o->key, o->system,
                 o->contract_version, o->original_name, o->format, o->compression, o->size,
                 o->checksum, arrived);
    if (rc == SL_ERR_EXISTS) {
        /* The same key under another id: our SQL, not the input. */
        return sl_fail(d, SL_ERR_CORRUPT, "catalog: raw key '%s' is recorded already", o->key);
    }
    if (rc < 0)
        return rc;
    o->seq = seq;
    o->arrived_at = arrived;
    return 0;
}

struct raw_rows {
    catalog_raw_cb cb;
    void *arg;
    struct sl_arena *a;
    struct raw_object *one;
};

static void
raw_from_row(const struct catalog_row *r, struct sl_arena *a, struct raw_object *o)
{
    const char *(*txt)(const struct catalog_row *, int, struct sl_arena *) = cat_strdup;

    o->seq = cat_int(r, 0);
    if (a == NULL) {
        o->source = cat_text(r, 1);
        o->object_id = cat_text(r, 2);
        o->key = cat_text(r, 3);
        o->system = cat_text(r, 4);
        o->contract_version = cat_text(r, 5);
        o->original_name = cat_text(r, 6);
        o->format = cat_text(r, 7);
        o->compression = cat_text(r, 8);
        o->checksum = cat_text(r, 10);
    } else {
        o->source = txt(r, 1, a);
        o->object_id = txt(r, 2, a);
        o->key = txt(r, 3, a);
        o->system = txt(r, 4, a);
        o->contract_version = txt(r, 5, a);
        o->original_name = txt(r, 6, a);
        o->format = txt(r, 7, a);
        o->compression = txt(r, 8, a);
        o->checksum = txt(r, 10, a);
    }
    o->size = cat_int(r, 9);
    o->arrived_at = cat_int(r, 11);
}

static int
raw_row(void *arg, const struct catalog_row *r)
{
    struct raw_rows *c = arg;
    struct raw_object o;

    if (c->one != NULL) {
        raw_from_row(r, c->a, c->one);
        c->one = NULL;
        return 0;
    }
    raw_from_row(r, NULL, &o);
    return c->cb(c->arg, &o);
}

int
catalog_raw_get(struct catalog_txn *txn, const char *source, const char *object_id,
                struct sl_arena *a, struct raw_object *obj, struct sl_diag *d)
{
    struct raw_rows c = {NULL, NULL, a, obj};
    int rc = cat_run(txn, d, "read a raw object",
                     "SELECT " RAW_COLS " FROM raw_objects WHERE source = ?1 AND "
                     "object_id = ?2",
                     raw_row, &c, "tt", source, object_id);

    if (rc < 0)
        return rc;
    return c.one == NULL ? 0 : SL_ERR_NOTFOUND;
}

int
catalog_raw_list(struct catalog_txn *txn, const char *source, int64_t after, catalog_raw_cb cb,
                 void *arg, struct sl_diag *d)
{
    struct raw_rows c = {cb, arg, NULL, NULL};
    int rc;

    if (source == NULL)
        rc = cat_run(txn, d, "list raw objects",
                     "SELECT " RAW_COLS " FROM raw_objects WHERE seq > ?1 ORDER BY seq",
                     raw_row, &c, "i", after);
    else
        rc = cat_run(txn, d, "list raw objects",
                     "SELECT " RAW_COLS " FROM raw_objects WHERE source = ?1 AND seq > ?2 "
                     "ORDER BY seq",
                     raw_row, &c, "ti", source, after);
    return rc < 0 ? rc : 0;
}

int
catalog_raw_list_some(struct catalog_txn *txn, const char *source, int64_t after, int64_t limit,
                      catalog_raw_cb cb, void *arg, struct sl_diag *d)
{
    struct raw_rows c = {cb, arg, NULL, NULL};
    int rc = cat_run(txn, d, "list raw objects",
                     "SELECT " RAW_COLS " FROM raw_objects WHERE source = ?1 AND seq > ?2 "
                     "ORDER BY seq LIMIT ?3",
                     raw_row, &c, "tii", source, after, limit);

    return rc < 0 ? rc : 0;
}

int
catalog_raw_last_seq(struct catalog_txn *txn, const char *source, int64_t *seq,
                     struct sl_diag *d)
{
    return cat_int_of(txn, d, "read a source's last raw object",
                      "SELECT coalesce(max(seq), 0) FROM raw_objects WHERE source = ?1", seq, "t",
                      source);
}

/* ---- bookmarks ------------------------------------------------------------- */

int
catalog_bookmark_get(struct catalog_txn *txn, const char *source, const char *job, int64_t *seq,
                     struct sl_diag *d)
{
    int rc = cat_int_of(txn, d, "read a bookmark",
                        "SELECT seq FROM bookmarks WHERE source = ?1 AND job = ?2", seq, "tt",
                        source, job);

    if (rc == SL_ERR_NOTFOUND) {
        *seq = 0;
        rc = 0;
    }
    return rc;
}

int
catalog_bookmark_move(struct catalog_txn *txn, const char *source, const char *job,
                      int64_t expect, int64_t seq, struct sl_diag *d)
{
    int rc;

    if (expect == 0) {
        rc = cat_run(txn, d, "set a bookmark",
                     "INSERT INTO bookmarks (source, job, seq, updated_at) "
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (source, job) DO UPDATE SET "
                     "seq = excluded.seq, updated_at = excluded.updated_at "
                     "WHERE bookmarks.seq = 0",
                     NULL, NULL, "ttii", source, job, seq, sl_now_usec());
    } else {
        rc = cat_run(txn, d, "move a bookmark",
                     "UPDATE bookmarks SET seq = ?3, updated_at = ?4 WHERE source = ?1 AND "
                     "job = ?2 AND seq = ?5",
                     NULL, NULL, "ttiii", source, job, seq, sl_now_usec(), expect);
    }
    if (rc == 0) {
        txn->failed = true;
        return sl_fail(d, SL_ERR_CONFLICT,
                       "the %s bookmark of source '%s' moved while this run worked (it was "
                       "at %lld)",
                       job, source, (long long)expect);
    }
    return rc < 0 ? rc : 0;
}

struct backlog_rows {
    catalog_backlog_cb cb;
    void *arg;
};

static int
backlog_row(void *arg, const struct catalog_row *r)
{
    struct backlog_rows *c = arg;

    return c->cb(c->arg, cat_text(r, 0), cat_int(r, 1));
}

int
catalog_raw_backlog(struct catalog_txn *txn, const char *job, catalog_backlog_cb cb, void *arg,
                    struct sl_diag *d)
{
    struct backlog_rows c = {cb, arg};
    int rc = cat_run(txn, d, "look for raw objects waiting",
                     "SELECT o.source, count(*) FROM raw_objects o "
                     "LEFT JOIN bookmarks b ON b.source = o.source AND b.job = ?1 "
                     "WHERE o.seq > coalesce(b.seq, 0) GROUP BY o.source ORDER BY o.source",
                     backlog_row, &c, "t", job);

    return rc < 0 ? rc : 0;
}
