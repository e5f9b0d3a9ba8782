/*
 * catalog_int.h - what a catalog back end provides, and the statement
 * helpers the domain files use.  Only catalog/ includes this.
 *
 * A back end is a driver: it connects, runs transactions and statements,
 * hands out result rows, and takes named locks.  Everything above that -
 * the schema and its migrations (schema.c), the domain verbs (sources.c,
 * raw.c, runs.c, tables.c, streams.c), leases, retries, copying - is
 * written once in portable SQL over these operations, so a new domain is
 * added once for every back end.
 *
 * Portable SQL, as the domain files write it:
 *   - parameters are ?1, ?2, ... (each driver rewrites them as it needs);
 *   - integers are 64-bit, text is UTF-8, NULL binds from a NULL string;
 *   - {now_ms} stands for the database's clock in milliseconds since the
 *     epoch (a driver expands it; leases judge expiry by it);
 *   - INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING and RETURNING are used
 *     as both SQLite (>= 3.35) and PostgreSQL understand them.
 * Migrations (schema.c) are written in SQLite's DDL; a driver rewrites the
 * types its database spells differently (catalog_ops.ddl).
 *
 * Statements are identified by the address of their text: drivers prepare
 * each once per connection and cache it, so domain SQL must be string
 * literals (or otherwise live as long as the connection).
 */
#ifndef SL_CATALOG_INT_H
#define SL_CATALOG_INT_H

#include <stdarg.h>

#include "catalog/catalog.h"
#include "core/buf.h"

/* One bound parameter. */
struct catalog_param {
    char kind;      /* 'i' int64, 't' text (s == NULL binds NULL) */
    int64_t i;
    const char *s;
};

/* A result row as a driver hands it to a row callback; valid during the
 * callback only. */
struct catalog_row {
    struct catalog *cat;
    void *impl;     /* the driver's handle on the row */
    int index;      /* row number within the result */
    int ncols;
};

/* Called for each result row; a negative return stops the statement and is
 * returned.  It may run other statements on the same connection. */
typedef int (*catalog_row_fn)(void *arg, const struct catalog_row *row);

struct catalog_ops {
    const char *name;   /* "sqlite", "postgresql" */
    /* Connect to location; fill cat->impl and cat->where. */
    int (*open)(struct catalog *cat, const char *location, struct sl_diag *d);
    /* Disconnect and free cat->impl (an open transaction is rolled back). */
    void (*close)(struct catalog *cat);
    /* Begin a transaction of mode; reconnect first if the connection broke
     * and holds no locks. */
    int (*begin)(struct catalog *cat, enum catalog_txn_mode mode, struct sl_diag *d);
    /* Commit; SL_ERR_CONFLICT, SL_ERR_INDOUBT as catalog_txn_commit(). */
    int (*commit)(struct catalog *cat, struct sl_diag *d);
    void (*rollback)(struct catalog *cat);
    /*
     * Run one statement (see "Portable SQL") with np parameters; call fn
     * (if not NULL) for each result row.  Returns the number of rows the
     * statement changed (>= 0) or a negative code: SL_ERR_EXISTS for a
     * unique or primary-key violation (no words), SL_ERR_CONFLICT for a
     * serialization failure or deadlock, SL_ERR_BUSY for a lock timeout,
     * -ENOSPC for a full disk, -EROFS, else SL_ERR_CATALOG; what names the
     * step for the words ("record a raw object").  With cache the
     * statement is prepared once and kept, keyed by the address of sql (a
     * string literal); without, it is prepared for this call only.
     */
    int (*exec)(struct catalog *cat, const char *sql, bool cache, const struct catalog_param *p,
                int np, catalog_row_fn fn, void *arg, const char *what, struct sl_diag *d);
    /* Several statements without parameters or results (DDL), in the
     * current transaction. */
    int (*script)(struct catalog *cat, const char *sql, const char *what, struct sl_diag *d);
    /* Column values of a row: NULL reads as 0 and as a NULL string. */
    int64_t (*row_int)(const struct catalog_row *r, int col);
    const char *(*row_text)(const struct catalog_row *r, int col);
    bool (*row_null)(const struct catalog_row *r, int col);
    const char *(*row_name)(const struct catalog_row *r, int col);
    /* Named locks (see catalog_lock()). */
    int (*lock)(struct catalog *cat, const char *name, bool wait, void **handle,
                struct sl_diag *d);
    void (*unlock)(struct catalog *cat, void *handle);
    /* Whether the session that took locks is still the current one. */
    bool (*session_alive)(struct catalog *cat, uint64_t session);
    /* Rewrite one migration's DDL (SQLite's spelling) for this database. */
    void (*ddl)(const char *sqlite_ddl, struct sl_buf *out);
    /* Inside a write transaction: wait until no other connection is
     * migrating the schema (held until the transaction ends). */
    int (*lock_schema)(struct catalog *cat, struct sl_diag *d);
    /* Whether the schema's table name exists (in the current transaction). */
    int (*table_exists)(struct catalog *cat, const char *name, bool *exists, struct sl_diag *d);
};

struct catalog_txn {
    struct catalog *cat;
    enum catalog_txn_mode mode;
    bool open;
    bool failed;    /* sticky: a statement failed */
};

struct catalog_lock {
    struct catalog *cat;
    char *name;
    void *handle;      /* the driver's */
    uint64_t session;  /* cat->session when taken */
    struct catalog_lock *next;
};

struct catalog {
    const struct catalog_ops *ops;
    void *impl;              /* the driver's state */
    enum catalog_kind kind;
    char *location;          /* as given to catalog_open() */
    char *where;             /* for messages, set by the driver's open */
    int version;             /* schema version found / reached */
    uint64_t session;        /* bumped by the driver at each (re)connection */
    struct catalog_txn txn;  /* the one transaction a connection has */
    struct catalog_lock *locks; /* held, newest first */
};

extern const struct catalog_ops catalog_sqlite_ops;
extern const struct catalog_ops catalog_postgres_ops;

/* ---- statement helpers (catalog.c) ------------------------------------------ */

/*
 * Run sql in txn with parameters given by fmt: one character per parameter,
 * 'i' an int64_t, 't' a const char * (NULL binds NULL).  fn (may be NULL)
 * gets each row.  Returns the rows changed (>= 0) or < 0; any failure makes
 * txn sticky-failed (PostgreSQL aborts a transaction at its first error),
 * so verbs never use a failing statement to learn "already there".
 */
int cat_run(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
            catalog_row_fn fn, void *arg, const char *fmt, ...);
int cat_vrun(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
             catalog_row_fn fn, void *arg, const char *fmt, va_list ap);
/* Run sql and read the first column of its first row as an integer;
 * SL_ERR_NOTFOUND (no words) if there is no row. */
int cat_int_of(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
               int64_t *out, const char *fmt, ...);

static inline int64_t
cat_int(const struct catalog_row *r, int col)
{
    return r->cat->ops->row_int(r, col);
}

static inline const char *
cat_text(const struct catalog_row *r, int col)
{
    return r->cat->ops->row_text(r, col);
}

static inline bool
cat_null(const struct catalog_row *r, int col)
{
    return r->cat->ops->row_null(r, col);
}

/* A row callback handing column 0 of each row to a catalog_name_cb. */
struct cat_names {
    int (*cb)(void *arg, const char *name); /* a catalog_name_cb */
    void *arg;
};
int cat_name_row(void *arg, const struct catalog_row *r);

/* Text of a column copied into a (NULL stays NULL). */
const char *cat_strdup(const struct catalog_row *r, int col, struct sl_arena *a);

/* The catalog's words for a failure: "catalog <where>: cannot <what>: ...". */
int cat_fail(struct catalog *cat, struct sl_diag *d, int rc, const char *what,
             const char *why);

/* Like cat_run, but sql is built for this call (not cached). */
int cat_run_once(struct catalog_txn *txn, struct sl_diag *d, const char *what,
                 const char *sql, const struct catalog_param *p, int np, catalog_row_fn fn,
                 void *arg);

/* ---- schema (schema.c) ------------------------------------------------------ */

/* catalog_migrations[v] takes the schema from version v to v + 1. */
extern const char *const catalog_migrations[CATALOG_SCHEMA_VERSION];
/* The schema's tables in an order that respects foreign keys; NULL ends. */
extern const char *const catalog_tables[];
/* Read the schema version in txn (0 if the database holds no schema). */
int catalog_read_version(struct catalog_txn *txn, int *version, struct sl_diag *d);
/* Apply migrations from version *from on, each in its own transaction. */
int catalog_schema_upgrade(struct catalog *cat, int *from, struct sl_diag *d);

#endif
