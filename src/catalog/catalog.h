/*
 * catalog.h - the lake's transactional metadata: connection, transactions,
 * locks and leases.
 *
 * The catalog records what the lake holds and how it got there.  Its verbs
 * are grouped by domain, one header each, so that a stage includes what it
 * uses:
 *
 *   catalog/sources.h   sources and their contract versions
 *   catalog/raw.h       raw objects and the bookmarks that follow them
 *   catalog/runs.h      runs, their accounts, held runs, owed publications
 *   catalog/tables.h    curated tables, their files, deletion files and
 *                       quarantine files
 *   catalog/streams.h   stream definitions and delivery positions
 *
 * Back ends (catalog_int.h): the embedded default is one SQLite file in the
 * lake (catalog/sqlite.c); several sluice nodes share one PostgreSQL
 * database (catalog/postgres.c).  Both run the same schema, migrations and
 * SQL (catalog/schema.c and the domain files); callers never see which one
 * they have.
 *
 * Transactions.  Every verb takes a struct catalog_txn: a write transaction
 * (serializable: as if it ran alone) or a read snapshot.  A connection has
 * at most one transaction at a time.  A statement that fails inside a
 * transaction makes it sticky-failed: later verbs return SL_ERR_CATALOG at
 * once and commit refuses, so a half-recorded unit can never be committed.
 * Two writers that conflict (PostgreSQL serialization failure or deadlock)
 * get SL_ERR_CONFLICT; catalog_txn_run() retries those in one place.
 *
 * Locks and leases coordinate work across processes and machines:
 * catalog_lock() is a named mutex held by this connection (a file lock
 * beside the SQLite file, an advisory lock in PostgreSQL), released when
 * the process dies; a lease (catalog_lease_acquire()) is a named claim with
 * a timeout and an epoch, stored in the catalog, for work that must move to
 * another node when its holder stops renewing it.
 *
 * Strings handed out are allocated from the arena the caller passes, or
 * valid during a callback only, as each verb says.  A struct catalog and
 * its transactions are used by one thread at a time.
 */
#ifndef SL_CATALOG_H
#define SL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/mem.h"

struct catalog;
struct catalog_txn;
struct catalog_lock;

/* The schema version this build writes (migrations in catalog/schema.c). */
#define CATALOG_SCHEMA_VERSION 12

/* ---- locations ------------------------------------------------------------ */

enum catalog_kind {
    CATALOG_SQLITE = 1,   /* "sqlite:/path/catalog.db" (the embedded default) */
    CATALOG_POSTGRES = 2, /* "postgresql://..." or a libpq "key=value ..." string */
};

/*
 * Check a catalog location as a user wrote it (the catalog: key of
 * sluice.yaml, or `catalog copy --to`).  Accepted: a postgresql:// (or
 * postgres://) URL, or a libpq connection string of key=value pairs.
 * A location that holds a password is refused (the password belongs in
 * PGPASSWORD or ~/.pgpass, never in a project file); so is anything else,
 * with both accepted forms in the hint.  SL_ERR_INPUT with words.
 */
int catalog_location_check(const char *location, struct sl_diag *d);
/* The kind of a location accepted by catalog_open(); 0 if none. */
enum catalog_kind catalog_location_kind(const char *location);

/* ---- open and close ----------------------------------------------------- */

enum catalog_open_flags {
    /* Bring an older schema up to date.  Without it an older schema is
     * migrated only when the back end is the embedded one (nobody else
     * shares it) or the database is empty; a shared catalog with an older
     * schema is refused with a hint to run `sluice catalog migrate`. */
    CATALOG_MIGRATE = 1 << 0,
    /* Open without creating or migrating anything (catalog copy's target
     * check, diagnostics).  The schema may be missing or older. */
    CATALOG_NO_SCHEMA = 1 << 1,
};

/*
 * Connect to the catalog at location (see enum catalog_kind) and check its
 * schema: a newer schema than this build knows is refused naming both
 * versions (SL_ERR_INCOMPATIBLE).  An unreachable server, wrong
 * credentials or missing permissions fail with words that name the host,
 * port and database and what failed.  Free with catalog_close().
 */
int catalog_open(const char *location, unsigned flags, struct catalog **out,
                 struct sl_diag *d);
/* Close, rolling back an open transaction and releasing held locks. */
void catalog_close(struct catalog *cat);
/* The schema version found (after migration, CATALOG_SCHEMA_VERSION). */
int catalog_schema_version(const struct catalog *cat);
enum catalog_kind catalog_kind(const struct catalog *cat);
/* Where the catalog is, for messages: a file path, or "database 'db' on
 * host:port" (never a password). */
const char *catalog_where(const struct catalog *cat);

/* Bring the schema to CATALOG_SCHEMA_VERSION; *from gets the version
 * found.  Each step is one transaction; concurrent migrators wait. */
int catalog_migrate(struct catalog *cat, int *from, struct sl_diag *d);

/* ---- transactions ------------------------------------------------------- */

enum catalog_txn_mode {
    CATALOG_READ = 1,  /* a consistent snapshot; writes are refused */
    CATALOG_WRITE = 2, /* serializable; SQLite takes its write lock up front */
};

/*
 * Begin a transaction on cat.  *out is valid until catalog_txn_commit() or
 * catalog_txn_abort(), which end it.  Nested transactions on one catalog
 * are an error.  On a broken connection (a restarted server) begin first
 * reconnects, unless this connection holds locks, which died with it.
 */
int catalog_txn_begin(struct catalog *cat, enum catalog_txn_mode mode,
                      struct catalog_txn **out, struct sl_diag *d);
/*
 * Commit and end txn, success or not.  A sticky-failed transaction is
 * rolled back and refused.  SL_ERR_CONFLICT: another writer won; nothing
 * was written, the whole transaction may be tried again.  SL_ERR_INDOUBT:
 * the connection was lost during the commit and nobody can tell here
 * whether it happened; the caller must leave everything the transaction
 * would have referenced (staged objects) for recovery to decide.
 * Fault point "catalog.commit" comes just before.
 */
int catalog_txn_commit(struct catalog_txn *txn, struct sl_diag *d);
/* Roll back and end txn.  NULL is allowed. */
void catalog_txn_abort(struct catalog_txn *txn);
/* The catalog txn runs on. */
struct catalog *catalog_txn_catalog(const struct catalog_txn *txn);
/* Whether a statement of txn failed (it can only be aborted). */
bool catalog_txn_failed(const struct catalog_txn *txn);

typedef int (*catalog_txn_fn)(struct catalog_txn *txn, void *arg, struct sl_diag *d);
/*
 * Run fn in a transaction and commit it; on SL_ERR_CONFLICT (from fn's
 * statements or from the commit) roll back, wait a little and run fn again,
 * at most CATALOG_RETRIES times.  fn may therefore run more than once: it
 * must write only through txn and must start from the same state each
 * time (reset what it fills in).  A negative return of fn aborts and is
 * returned; d holds the words of the last attempt only.
 */
int catalog_txn_run(struct catalog *cat, enum catalog_txn_mode mode, catalog_txn_fn fn,
                    void *arg, struct sl_diag *d);
#define CATALOG_RETRIES 8

/* ---- named locks ---------------------------------------------------------- */

/*
 * A named lock, held until catalog_unlock(), catalog_close() or the death of
 * the process (or of its database session).  With wait false a lock held
 * elsewhere gives SL_ERR_BUSY at once; with wait true the call blocks.  The
 * same name always means the same lock on every node sharing the catalog.
 * Locks are not reentrant: taking a held name again from the same catalog
 * is SL_ERR_BUSY.  No transaction may be open.
 */
int catalog_lock(struct catalog *cat, const char *name, bool wait, struct catalog_lock **out,
                 struct sl_diag *d);
/* Release; NULL is allowed.  Must come before closing its catalog. */
void catalog_unlock(struct catalog_lock *lock);
/* Whether the lock still holds: false once the session that held it was
 * lost (the database restarted or the connection broke). */
bool catalog_lock_held(const struct catalog_lock *lock);

/* ---- leases ------------------------------------------------------------- */

/*
 * A lease names a piece of work that one node does at a time (delivering a
 * stream) and moves to another node when its holder dies.  The holder
 * renews it before it expires; another node may take it once it has
 * expired.  Each change of holder increments the epoch: a holder checks
 * its epoch in the transaction that commits the work (catalog_lease_check),
 * so a holder that stalled past its lease cannot commit after its
 * successor started.  Expiry is judged by the database's clock, so nodes'
 * clocks need not agree.
 */
struct catalog_lease {
    const char *name;
    const char *holder;   /* who holds it, e.g. "node-host-1234" */
    const char *info;     /* holder's words for others, e.g. its URL */
    int64_t epoch;        /* increments at each change of holder */
    int64_t expires_ms;   /* database clock */
    int64_t now_ms;       /* database clock when read */
};

/*
 * Take or renew lease name for holder, for ttl_ms from now: succeeds when
 * the lease is free, expired, or already holder's; *epoch gets its epoch
 * (a new one when it changed hands).  SL_ERR_BUSY (with the holder and its
 * info in d) when someone else holds it.  Write transaction.
 */
int catalog_lease_acquire(struct catalog_txn *txn, const char *name, const char *holder,
                          const char *info, int64_t ttl_ms, int64_t *epoch, struct sl_diag *d);
/* SL_ERR_CONFLICT unless holder holds name at epoch (expired or not: only a
 * successor invalidates it). */
int catalog_lease_check(struct catalog_txn *txn, const char *name, const char *holder,
                        int64_t epoch, struct sl_diag *d);
/* Give the lease up (expire it now) if holder holds it. */
int catalog_lease_release(struct catalog_txn *txn, const char *name, const char *holder,
                          struct sl_diag *d);
/* Read a lease; SL_ERR_NOTFOUND if it was never taken.  Strings in a. */
int catalog_lease_get(struct catalog_txn *txn, const char *name, struct sl_arena *a,
                      struct catalog_lease *out, struct sl_diag *d);

/* ---- copying ---------------------------------------------------------------- */

/*
 * Copy every row of from into to, in one transaction of to.  Both must be
 * at CATALOG_SCHEMA_VERSION; to must be empty (no sources, objects or
 * runs), else SL_ERR_EXISTS with words.  Id counters of to continue after
 * the copied ids.  *rows gets the number of rows copied.
 */
int catalog_copy(struct catalog *from, struct catalog *to, int64_t *rows, struct sl_diag *d);

#endif
