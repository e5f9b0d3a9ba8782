/*
 * sqlite.c - the catalog in one SQLite database (see catalog.h).
 *
 * Schema history: migrations[i] takes the schema from version i to i+1 and
 * runs inside one transaction together with the bump of meta.schema_version,
 * so a crash mid-migration leaves the old version.  Never edit a shipped
 * migration; append a new one.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction
 * survives power loss - the commit protocol depends on that.
 *
 * Statements are prepared once per connection and cached by their text
 * pointer (they are all string literals in this file).
 */
#include "catalog/catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/fault.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/time.h"
#include "core/banned.h"

static const char *const migrations[] = {
    /* 0 -> 1: the batch path. */
    "CREATE TABLE sources ("
    "  name TEXT PRIMARY KEY,"
    "  system TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE contract_versions ("
    "  source TEXT NOT NULL REFERENCES sources(name),"
    "  version TEXT NOT NULL,"
    "  major INTEGER NOT NULL,"
    "  minor INTEGER NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  registered_at INTEGER NOT NULL,"
    "  PRIMARY KEY (source, version));"
    "CREATE TABLE raw_objects ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  source TEXT NOT NULL,"
    "  object_id TEXT NOT NULL,"
    "  key TEXT NOT NULL UNIQUE,"
    "  system TEXT NOT NULL,"
    "  contract_version TEXT NOT NULL,"
    "  original_name TEXT NOT NULL,"
    "  format TEXT NOT NULL,"
    "  compression TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  checksum TEXT NOT NULL,"
    "  arrived_at INTEGER NOT NULL,"
    "  UNIQUE (source, object_id));"
    "CREATE TABLE bookmarks ("
    "  source TEXT NOT NULL,"
    "  job TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (source, job));"
    "CREATE TABLE runs ("
    "  run_id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  source TEXT NOT NULL,"
    "  tables TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL,"
    "  objects INTEGER NOT NULL,"
    "  from_seq INTEGER NOT NULL,"
    "  to_seq INTEGER NOT NULL,"
    "  records_in INTEGER NOT NULL,"
    "  written INTEGER NOT NULL,"
    "  inserted INTEGER NOT NULL,"
    "  replaced INTEGER NOT NULL,"
    "  quarantined INTEGER NOT NULL,"
    "  duplicates INTEGER NOT NULL,"
    "  redelivered INTEGER NOT NULL,"
    "  files_added INTEGER NOT NULL,"
    "  files_removed INTEGER NOT NULL,"
    "  bytes_written INTEGER NOT NULL,"
    "  CHECK (records_in = written + quarantined + duplicates));"
    "CREATE TABLE run_ids (id INTEGER PRIMARY KEY AUTOINCREMENT);"
    "CREATE TABLE curated_tables ("
    "  name TEXT PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  major INTEGER NOT NULL,"
    "  prefix TEXT NOT NULL,"
    "  next_field_id INTEGER NOT NULL,"
    "  key_columns TEXT NOT NULL,"
    "  event_time TEXT NOT NULL,"
    "  UNIQUE (source, major));"
    "CREATE TABLE curated_columns ("
    "  table_name TEXT NOT NULL REFERENCES curated_tables(name),"
    "  position INTEGER NOT NULL,"
    "  name TEXT NOT NULL,"
    "  field_id INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  required INTEGER NOT NULL,"
    "  added_in TEXT NOT NULL,"
    "  PRIMARY KEY (table_name, name),"
    "  UNIQUE (table_name, field_id));"
    "CREATE TABLE curated_files ("
    "  key TEXT PRIMARY KEY,"
    "  table_name TEXT NOT NULL REFERENCES curated_tables(name),"
    "  partition TEXT NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  max_field_id INTEGER NOT NULL,"
    "  added_run INTEGER NOT NULL,"
    "  removed_run INTEGER);"
    "CREATE INDEX curated_files_live ON curated_files(table_name) WHERE removed_run IS NULL;"
    "CREATE TABLE quarantine_files ("
    "  key TEXT PRIMARY KEY,"
    "  source TEXT NOT NULL,"
    "  run_id INTEGER NOT NULL,"
    "  records INTEGER NOT NULL);"
    "CREATE TABLE pending ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  run_id INTEGER NOT NULL,"
    "  op INTEGER NOT NULL,"
    "  src TEXT,"
    "  dst TEXT NOT NULL);",
    /* 1 -> 2: the stream path. */
    "CREATE TABLE streams ("
    "  name TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('kinesis', 'firehose')),"
    "  mode TEXT NOT NULL,"
    "  shards INTEGER NOT NULL,"
    "  retention_hours INTEGER NOT NULL,"
    "  max_record_bytes INTEGER NOT NULL,"
    "  write_bytes INTEGER NOT NULL,"
    "  write_records INTEGER NOT NULL,"
    "  source TEXT,"
    "  buffer_bytes INTEGER NOT NULL,"
    "  buffer_ms INTEGER NOT NULL,"
    "  compression TEXT NOT NULL,"
    "  declared INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE delivery_positions ("
    "  stream TEXT NOT NULL,"
    "  shard INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (stream, shard));",
    /* 2 -> 3: merge-on-read.  A deletion file retires rows of live data
     * files by position; it is live while removed_run is NULL, and retired
     * by the run that retires the last live file it names.  Targets say
     * which files it names and how many rows of each. */
    "CREATE TABLE curated_deletes ("
    "  key TEXT PRIMARY KEY,"
    "  table_name TEXT NOT NULL REFERENCES curated_tables(name),"
    "  rows INTEGER NOT NULL,"
    "  bytes INTEGER NOT NULL,"
    "  added_run INTEGER NOT NULL,"
    "  removed_run INTEGER);"
    "CREATE INDEX curated_deletes_live ON curated_deletes(table_name) "
    "  WHERE removed_run IS NULL;"
    "CREATE TABLE curated_delete_targets ("
    "  delete_key TEXT NOT NULL REFERENCES curated_deletes(key),"
    "  file_key TEXT NOT NULL REFERENCES curated_files(key),"
    "  rows INTEGER NOT NULL CHECK (rows > 0),"
    "  PRIMARY KEY (delete_key, file_key));"
    "CREATE INDEX curated_delete_targets_file ON curated_delete_targets(file_key);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))
_Static_assert(NMIGRATIONS == CATALOG_SCHEMA_VERSION, "one migration per version");

#define MAX_STMTS 96

struct catalog {
    sqlite3 *db;
    char *path;
    char *lockdir;               /* <catalog dir>/locks */
    int in_txn;                  /* 0 none, 1 write, 2 read */
    bool txn_failed;             /* sticky: a statement failed in the txn */
    int version;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[MAX_STMTS];
    int nstmts;
};

struct catalog_lock {
    int fd;
    char *name;
};

/* SQLite reports a full disk as SQLITE_FULL or, when a WAL index cannot
 * grow, as an I/O error: look at the file system to tell. */
static bool
disk_full(const struct catalog *cat)
{
    struct statvfs sv;
    char *dir = sl_dirname(cat->path);
    bool full = statvfs(dir, &sv) == 0 && sv.f_bavail * sv.f_frsize < 64 * 1024;

    free(dir);
    return full;
}

static int
db_fail(struct catalog *cat, struct sl_diag *d, const char *what)
{
    int code = sqlite3_errcode(cat->db);

    if ((code == SQLITE_IOERR || code == SQLITE_FULL) && disk_full(cat)) {
        if (cat->in_txn)
            cat->txn_failed = true;
        return sl_fail(d, -ENOSPC, "catalog '%s': cannot %s: No space left on device",
                       cat->path, what);
    }
    int rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? SL_ERR_BUSY
             : code == SQLITE_FULL                        ? -ENOSPC
             : code == SQLITE_READONLY                    ? -EROFS
             : code == SQLITE_CONSTRAINT                  ? SL_ERR_EXISTS
                                                          : SL_ERR_CATALOG;

    if (cat->in_txn)
        cat->txn_failed = true;
    if (rc == SL_ERR_EXISTS)
        return rc; /* callers turn this into their own words */
    return sl_fail(d, rc, "catalog '%s': cannot %s: %s", cat->path, what,
                   sqlite3_errmsg(cat->db));
}

static sqlite3_stmt *
prep(struct catalog *cat, const char *sql, struct sl_diag *d)
{
    for (int i = 0; i < cat->nstmts; i++) {
        if (cat->stmts[i].sql == sql) {
            sqlite3_reset(cat->stmts[i].st);
            sqlite3_clear_bindings(cat->stmts[i].st);
            return cat->stmts[i].st;
        }
    }
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK) {
        db_fail(cat, d, "prepare a statement");
        return NULL;
    }
    if (cat->nstmts < MAX_STMTS) {
        cat->stmts[cat->nstmts].sql = sql;
        cat->stmts[cat->nstmts].st = st;
        cat->nstmts++;
    }
    return st;
}

/*
 * Bind arguments by a format: 't' text (NULL binds NULL), 'i' int64.
 */
static void
bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    for (int i = 1; *fmt; fmt++, i++) {
        if (*fmt == 't') {
            const char *s = va_arg(ap, const char *);

            if (s == NULL)
                sqlite3_bind_null(st, i);
            else
                sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
        }
    }
}

/* Run a statement that returns no rows. */
static int
exec(struct catalog *cat, struct sl_diag *d, const char *what, const char *sql,
     const char *fmt, ...)
{
    sqlite3_stmt *st = prep(cat, sql, d);
    va_list ap;
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    va_start(ap, fmt);
    bindv(st, fmt, ap);
    va_end(ap);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = db_fail(cat, d, what);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return 0;
}

/* Start a query; step with sqlite3_step() and finish with sqlite3_reset(). */
static sqlite3_stmt *
query(struct catalog *cat, struct sl_diag *d, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = prep(cat, sql, d);
    va_list ap;

    if (st == NULL)
        return NULL;
    va_start(ap, fmt);
    bindv(st, fmt, ap);
    va_end(ap);
    return st;
}

static const char *
col_text(sqlite3_stmt *st, int i, struct sl_arena *a)
{
    const unsigned char *s = sqlite3_column_text(st, i);

    if (s == NULL)
        return NULL;
    return a ? sl_arena_strdup(a, (const char *)s) : (const char *)s;
}

/* Step through st, calling row(ctx, st) for each row; a negative return
 * stops and is returned.  The statement is reset either way. */
static int
each_row(struct catalog *cat, sqlite3_stmt *st, int (*row)(void *ctx, sqlite3_stmt *st),
         void *ctx, const char *what, struct sl_diag *d)
{
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = row(ctx, st);
        if (rc < 0) {
            sqlite3_reset(st);
            return rc;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(cat, d, what);
    sqlite3_reset(st);
    return rc;
}

/* Adapters from a row to the caller's callback. */
struct row_cb {
    void *cb;
    void *arg;
};

static int
name_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;

    return ((catalog_name_cb)c->cb)(c->arg, col_text(st, 0, NULL));
}

/* ---- open, migrate, close --------------------------------------------- */

static int
exec_script(struct catalog *cat, const char *sql, struct sl_diag *d, const char *what)
{
    char *err = NULL;

    if (sqlite3_exec(cat->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        int code = sqlite3_errcode(cat->db);
        bool full = (code == SQLITE_IOERR || code == SQLITE_FULL) && disk_full(cat);
        int rc = sl_fail(d, full ? -ENOSPC : SL_ERR_CATALOG, "catalog '%s': cannot %s: %s",
                         cat->path, what,
                         full ? "No space left on device" : err ? err : sqlite3_errmsg(cat->db));

        if (code == SQLITE_BUSY)
            rc = SL_ERR_BUSY;
        sqlite3_free(err);
        return rc;
    }
    return 0;
}

static int
read_version(struct catalog *cat, int *version, struct sl_diag *d)
{
    sqlite3_stmt *st;
    int rc;

    *version = 0;
    if (sqlite3_prepare_v2(cat->db,
                           "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                           &st, NULL) != SQLITE_OK)
        return 0; /* no meta table: a new database */
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        rc = db_fail(cat, d, "read the schema version");
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rc;
}

static int
migrate(struct catalog *cat, struct sl_diag *d)
{
    int version, rc;

    rc = read_version(cat, &version, d);
    if (rc < 0)
        return rc;
    if (version > CATALOG_SCHEMA_VERSION) {
        sl_fail(d, SL_ERR_INCOMPATIBLE,
                "catalog '%s' has schema version %d, newer than this sluice knows (%d)",
                cat->path, version, CATALOG_SCHEMA_VERSION);
        sl_diag_hint(d, "use the sluice release that wrote this lake, or a newer one");
        return SL_ERR_INCOMPATIBLE;
    }
    if (version == CATALOG_SCHEMA_VERSION) {
        cat->version = version;
        return 0;
    }
    rc = exec_script(cat, "BEGIN IMMEDIATE", d, "lock the catalog for migration");
    if (rc < 0)
        return rc;
    /* Another process may have migrated while we waited for the lock. */
    rc = exec_script(cat, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, "
                          "value TEXT NOT NULL)", d, "create the meta table");
    if (rc == 0)
        rc = read_version(cat, &version, d);
    for (int v = version; rc == 0 && v < CATALOG_SCHEMA_VERSION; v++) {
        char bump[128];

        SL_INFO("catalog", "migrating %s from schema %d to %d", cat->path, v, v + 1);
        rc = exec_script(cat, migrations[v], d, "migrate the schema");
        snprintf(bump, sizeof(bump),
                 "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d')", v + 1);
        if (rc == 0)
            rc = exec_script(cat, bump, d, "record the schema version");
    }
    if (rc == 0)
        rc = exec_script(cat, "COMMIT", d, "commit the migration");
    if (rc < 0) {
        sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    cat->version = CATALOG_SCHEMA_VERSION;
    return 0;
}

int
catalog_open(const char *path, struct catalog **out, struct sl_diag *d)
{
    struct catalog *cat = sl_calloc(1, sizeof(*cat));
    char *dir = sl_dirname(path);
    int rc;

    cat->path = sl_strdup(path);
    cat->lockdir = sl_printf("%s/locks", dir);
    /* Every command writes the catalog (at least its recovery step), so a
     * lake we cannot write is an error up front, in plain words. */
    if (sl_is_dir(dir) && access(dir, W_OK) < 0) {
        rc = sl_fail(d, -errno, "the lake is not writable: cannot write to '%s': %s", dir,
                     strerror(errno));
        free(dir);
        goto fail;
    }
    rc = sl_mkdirs(cat->lockdir, 0755, d);
    free(dir);
    if (rc < 0)
        goto fail;
    if (sqlite3_open_v2(path, &cat->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = sl_fail(d, SL_ERR_CATALOG, "cannot open catalog '%s': %s", path,
                     cat->db ? sqlite3_errmsg(cat->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(cat->db, 30000);
    rc = exec_script(cat,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;",
                     d, "configure the database");
    if (rc == 0)
        rc = migrate(cat, d);
    if (rc < 0)
        goto fail;
    *out = cat;
    return 0;
fail:
    catalog_close(cat);
    return rc;
}

void
catalog_close(struct catalog *cat)
{
    if (cat == NULL)
        return;
    for (int i = 0; i < cat->nstmts; i++)
        sqlite3_finalize(cat->stmts[i].st);
    if (cat->db != NULL) {
        if (cat->in_txn)
            sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(cat->db);
    }
    free(cat->lockdir);
    free(cat->path);
    free(cat);
}

int
catalog_schema_version(struct catalog *cat)
{
    return cat->version;
}

/* ---- transactions and locks -------------------------------------------- */

int
catalog_begin(struct catalog *cat, struct sl_diag *d)
{
    int rc;

    if (cat->in_txn)
        return sl_fail(d, SL_ERR_CATALOG, "catalog transaction already open");
    rc = exec_script(cat, "BEGIN IMMEDIATE", d, "begin a transaction");
    if (rc == 0) {
        cat->in_txn = 1;
        cat->txn_failed = false;
    }
    return rc;
}

int
catalog_commit(struct catalog *cat, struct sl_diag *d)
{
    int rc;

    if (cat->in_txn != 1)
        return sl_fail(d, SL_ERR_CATALOG, "no catalog transaction to commit");
    if (cat->txn_failed) {
        catalog_rollback(cat);
        return sl_fail(d, SL_ERR_CATALOG, "catalog transaction failed earlier");
    }
    rc = sl_fault("catalog.commit");
    if (rc == 0)
        rc = exec_script(cat, "COMMIT", d, "commit");
    if (rc < 0) {
        catalog_rollback(cat);
        return sl_fail(d, rc, "cannot commit the catalog: %s", sl_strerror(rc));
    }
    cat->in_txn = 0;
    return 0;
}

void
catalog_rollback(struct catalog *cat)
{
    if (!cat->in_txn)
        return;
    sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
    cat->in_txn = 0;
    cat->txn_failed = false;
}

int
catalog_read_begin(struct catalog *cat, struct sl_diag *d)
{
    int rc;

    if (cat->in_txn)
        return sl_fail(d, SL_ERR_CATALOG, "catalog transaction already open");
    rc = exec_script(cat, "BEGIN DEFERRED", d, "begin a read");
    if (rc == 0)
        cat->in_txn = 2;
    return rc;
}

void
catalog_read_end(struct catalog *cat)
{
    if (cat->in_txn == 2) {
        sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL);
        cat->in_txn = 0;
    }
}

int
catalog_lock(struct catalog *cat, const char *name, bool wait, struct catalog_lock **out,
             struct sl_diag *d)
{
    char *path = sl_printf("%s/%s.lock", cat->lockdir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct catalog_lock *l;

    if (fd < 0) {
        int rc = sl_fail(d, -errno, "cannot open lock '%s': %s", path, strerror(errno));

        free(path);
        return rc;
    }
    free(path);
    while (flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) < 0) {
        if (errno == EINTR)
            continue;
        close(fd);
        if (errno == EWOULDBLOCK)
            return sl_fail(d, SL_ERR_BUSY, "'%s' is running in another process", name);
        return sl_fail(d, -errno, "cannot lock '%s': %s", name, strerror(errno));
    }
    l = sl_calloc(1, sizeof(*l));
    l->fd = fd;
    l->name = sl_strdup(name);
    *out = l;
    return 0;
}

void
catalog_unlock(struct catalog_lock *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    free(l->name);
    free(l);
}

/* ---- sources and contracts --------------------------------------------- */

int
catalog_source_put(struct catalog *cat, const char *name, const char *system,
                   struct sl_diag *d)
{
    return exec(cat, d, "record a source",
                "INSERT INTO sources (name, system, created_at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (name) DO UPDATE SET system = excluded.system",
                "tti", name, system, sl_now_usec());
}

int
catalog_source_list(struct catalog *cat, catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat, query(cat, d, "SELECT name FROM sources ORDER BY name", ""), name_row,
                    &c, "list sources", d);
}

int
catalog_contract_get(struct catalog *cat, const char *source, const char *version,
                     struct sl_arena *a, char **spec, struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d,
                             "SELECT spec FROM contract_versions "
                             "WHERE source = ?1 AND version = ?2",
                             "tt", source, version);
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *spec = (char *)col_text(st, 0, a);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = SL_ERR_NOTFOUND;
    } else {
        rc = db_fail(cat, d, "read a contract version");
    }
    sqlite3_reset(st);
    return rc;
}

static int
contract_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;

    return ((catalog_contract_cb)c->cb)(c->arg, col_text(st, 0, NULL), col_text(st, 1, NULL));
}

int
catalog_contract_list(struct catalog *cat, const char *source, catalog_contract_cb cb,
                      void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT version, spec FROM contract_versions WHERE source = ?1 "
                          "ORDER BY major, minor",
                          "t", source),
                    contract_row, &c, "list contract versions", d);
}

int
catalog_contract_put(struct catalog *cat, const char *source, const char *version, int major,
                     int minor, const char *spec, struct sl_diag *d)
{
    return exec(cat, d, "record a contract version",
                "INSERT INTO contract_versions "
                "(source, version, major, minor, spec, registered_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                "ttiiti", source, version, (int64_t)major, (int64_t)minor, spec,
                sl_now_usec());
}

/* ---- raw objects --------------------------------------------------------- */

#define RAW_COLS                                                                  \
    "seq, source, object_id, key, system, contract_version, original_name, "     \
    "format, compression, size, checksum, arrived_at"

static void
raw_from_row(sqlite3_stmt *st, struct sl_arena *a, struct raw_object *o)
{
    o->seq = sqlite3_column_int64(st, 0);
    o->source = col_text(st, 1, a);
    o->object_id = col_text(st, 2, a);
    o->key = col_text(st, 3, a);
    o->system = col_text(st, 4, a);
    o->contract_version = col_text(st, 5, a);
    o->original_name = col_text(st, 6, a);
    o->format = col_text(st, 7, a);
    o->compression = col_text(st, 8, a);
    o->size = sqlite3_column_int64(st, 9);
    o->checksum = col_text(st, 10, a);
    o->arrived_at = sqlite3_column_int64(st, 11);
}

int
catalog_raw_add(struct catalog *cat, struct raw_object *o, struct sl_diag *d)
{
    int rc = exec(cat, d, "record a raw object",
                  "INSERT INTO raw_objects (source, object_id, key, system, "
                  "contract_version, original_name, format, compression, size, "
                  "checksum, arrived_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                  "?10, ?11) ON CONFLICT (source, object_id) DO NOTHING",
                  "ttttttttiti", o->source, o->object_id, o->key, o->system,
                  o->contract_version, o->original_name, o->format, o->compression,
                  o->size, o->checksum, o->arrived_at);

    if (rc < 0)
        return rc;
    if (sqlite3_changes(cat->db) == 0)
        return SL_ERR_EXISTS;
    o->seq = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int
catalog_raw_last_arrival(struct catalog *cat, int64_t *usec, struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d, "SELECT coalesce(max(arrived_at), 0) FROM raw_objects", "");
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    rc = sqlite3_step(st);
    *usec = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    rc = rc == SQLITE_ROW ? 0 : db_fail(cat, d, "read the last arrival");
    sqlite3_reset(st);
    return rc;
}

int
catalog_raw_get(struct catalog *cat, const char *source, const char *object_id,
                struct sl_arena *a, struct raw_object *obj, struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d,
                             "SELECT " RAW_COLS " FROM raw_objects "
                             "WHERE source = ?1 AND object_id = ?2",
                             "tt", source, object_id);
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        raw_from_row(st, a, obj);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? SL_ERR_NOTFOUND : db_fail(cat, d, "read a raw object");
    }
    sqlite3_reset(st);
    return rc;
}

static int
raw_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;
    struct raw_object o;

    raw_from_row(st, NULL, &o);
    return ((catalog_raw_cb)c->cb)(c->arg, &o);
}

int
catalog_raw_list(struct catalog *cat, const char *source, int64_t after, catalog_raw_cb cb,
                 void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT " RAW_COLS " FROM raw_objects "
                          "WHERE (?1 IS NULL OR source = ?1) AND seq > ?2 ORDER BY seq",
                          "ti", source, after),
                    raw_row, &c, "list raw objects", d);
}

/* ---- bookmarks ----------------------------------------------------------- */

int
catalog_bookmark_get(struct catalog *cat, const char *source, const char *job, int64_t *seq,
                     struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d,
                             "SELECT seq FROM bookmarks WHERE source = ?1 AND job = ?2",
                             "tt", source, job);
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    *seq = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(cat, d, "read a bookmark");
    sqlite3_reset(st);
    return rc;
}

int
catalog_bookmark_set(struct catalog *cat, const char *source, const char *job, int64_t seq,
                     struct sl_diag *d)
{
    return exec(cat, d, "set a bookmark",
                "INSERT INTO bookmarks (source, job, seq, updated_at) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (source, job) DO UPDATE SET seq = excluded.seq, "
                "updated_at = excluded.updated_at",
                "ttii", source, job, seq, sl_now_usec());
}

/* ---- runs ----------------------------------------------------------------- */

int
catalog_run_next_id(struct catalog *cat, int64_t *run_id, struct sl_diag *d)
{
    int rc = exec(cat, d, "allocate a run id", "INSERT INTO run_ids DEFAULT VALUES", "");

    if (rc < 0)
        return rc;
    *run_id = sqlite3_last_insert_rowid(cat->db);
    return 0;
}

int
catalog_run_add(struct catalog *cat, struct run_record *r, struct sl_diag *d)
{
    return exec(cat, d, "record a run",
                "INSERT INTO runs (run_id, kind, source, tables, started_at, finished_at, "
                "objects, from_seq, to_seq, records_in, written, inserted, replaced, "
                "quarantined, duplicates, redelivered, files_added, files_removed, "
                "bytes_written) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                "?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                "itttiiiiiiiiiiiiiii", r->run_id, r->kind, r->source, r->table ? r->table : "",
                r->started_at, r->finished_at, r->objects, r->from_seq, r->to_seq,
                r->records_in, r->written, r->inserted, r->replaced, r->quarantined,
                r->duplicates, r->redelivered, r->files_added, r->files_removed,
                r->bytes_written);
}

static int
run_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;
    struct run_record r;
    int64_t *nums[] = {&r.started_at,  &r.finished_at,   &r.objects,      &r.from_seq,
                       &r.to_seq,      &r.records_in,    &r.written,      &r.inserted,
                       &r.replaced,    &r.quarantined,   &r.duplicates,   &r.redelivered,
                       &r.files_added, &r.files_removed, &r.bytes_written};

    r.run_id = sqlite3_column_int64(st, 0);
    r.kind = col_text(st, 1, NULL);
    r.source = col_text(st, 2, NULL);
    r.table = col_text(st, 3, NULL);
    for (int i = 0; i < 15; i++)
        *nums[i] = sqlite3_column_int64(st, 4 + i);
    return ((catalog_run_cb)c->cb)(c->arg, &r);
}

int
catalog_run_list(struct catalog *cat, const char *source, int64_t limit, catalog_run_cb cb,
                 void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT run_id, kind, source, tables, started_at, finished_at, "
                          "objects, from_seq, to_seq, records_in, written, inserted, "
                          "replaced, quarantined, duplicates, redelivered, files_added, "
                          "files_removed, bytes_written FROM runs "
                          "WHERE (?1 IS NULL OR source = ?1) "
                          "ORDER BY run_id DESC LIMIT ?2",
                          "ti", source, limit > 0 ? limit : INT64_MAX),
                    run_row, &c, "list runs", d);
}

/* ---- curated tables ------------------------------------------------------ */

int
catalog_table_get(struct catalog *cat, const char *name, struct sl_arena *a,
                  struct curated_table *t, struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d,
                             "SELECT name, source, major, prefix, next_field_id, "
                             "key_columns, event_time FROM curated_tables WHERE name = ?1",
                             "t", name);
    size_t cap = 0;
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    memset(t, 0, sizeof(*t));
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? SL_ERR_NOTFOUND : db_fail(cat, d, "read a curated table");
        sqlite3_reset(st);
        return rc;
    }
    t->name = col_text(st, 0, a);
    t->source = col_text(st, 1, a);
    t->major = sqlite3_column_int(st, 2);
    t->prefix = col_text(st, 3, a);
    t->next_field_id = sqlite3_column_int(st, 4);
    t->key_columns = col_text(st, 5, a);
    t->event_time = col_text(st, 6, a);
    sqlite3_reset(st);

    st = query(cat, d,
               "SELECT name, field_id, type, required, added_in FROM curated_columns "
               "WHERE table_name = ?1 ORDER BY position",
               "t", name);
    if (st == NULL)
        return SL_ERR_CATALOG;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct curated_column *c;

        if (t->ncolumns == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct curated_column *cols = sl_arena_alloc(a, ncap * sizeof(*cols));

            if (cap)
                memcpy(cols, t->columns, cap * sizeof(*cols));
            t->columns = cols;
            cap = ncap;
        }
        c = &t->columns[t->ncolumns++];
        c->name = col_text(st, 0, a);
        c->field_id = sqlite3_column_int(st, 1);
        if (sl_type_parse(col_text(st, 2, NULL), &c->type) < 0) {
            sqlite3_reset(st);
            return sl_fail(d, SL_ERR_CORRUPT, "catalog: column '%s' of '%s' has unknown type",
                           c->name, name);
        }
        c->required = sqlite3_column_int(st, 3) != 0;
        c->added_in = col_text(st, 4, a);
    }
    rc = rc == SQLITE_DONE ? 0 : db_fail(cat, d, "read curated columns");
    sqlite3_reset(st);
    return rc;
}

int
catalog_table_put(struct catalog *cat, const struct curated_table *t, struct sl_diag *d)
{
    int rc = exec(cat, d, "record a curated table",
                  "INSERT INTO curated_tables (name, source, major, prefix, next_field_id, "
                  "key_columns, event_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                  "ON CONFLICT (name) DO UPDATE SET next_field_id = excluded.next_field_id",
                  "ttititt", t->name, t->source, (int64_t)t->major, t->prefix,
                  (int64_t)t->next_field_id, t->key_columns, t->event_time);

    for (size_t i = 0; rc == 0 && i < t->ncolumns; i++) {
        const struct curated_column *c = &t->columns[i];
        char type[32];

        sl_type_name(c->type, type, sizeof(type));
        rc = exec(cat, d, "record a curated column",
                  "INSERT INTO curated_columns (table_name, position, name, field_id, type, "
                  "required, added_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                  "ON CONFLICT (table_name, name) DO UPDATE SET position = excluded.position",
                  "tititit", t->name, (int64_t)i, c->name, (int64_t)c->field_id, type,
                  (int64_t)c->required, c->added_in);
    }
    return rc;
}

int
catalog_table_list(struct catalog *cat, catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat, query(cat, d, "SELECT name FROM curated_tables ORDER BY name", ""),
                    name_row, &c, "list curated tables", d);
}

int
catalog_file_add(struct catalog *cat, const struct curated_file *f, struct sl_diag *d)
{
    return exec(cat, d, "record a curated file",
                "INSERT INTO curated_files (key, table_name, partition, rows, bytes, "
                "max_field_id, added_run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                "tttiiii", f->key, f->table, f->partition, f->rows, f->bytes,
                (int64_t)f->max_field_id, f->added_run);
}

int
catalog_file_remove(struct catalog *cat, const char *key, int64_t run_id, struct sl_diag *d)
{
    return exec(cat, d, "retire a curated file",
                "UPDATE curated_files SET removed_run = ?2 WHERE key = ?1 "
                "AND removed_run IS NULL",
                "ti", key, run_id);
}

static int
file_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;
    struct curated_file f = {
        .key = col_text(st, 0, NULL),
        .table = col_text(st, 1, NULL),
        .partition = col_text(st, 2, NULL),
        .rows = sqlite3_column_int64(st, 3),
        .bytes = sqlite3_column_int64(st, 4),
        .max_field_id = sqlite3_column_int(st, 5),
        .added_run = sqlite3_column_int64(st, 6),
        .deleted = sqlite3_column_int64(st, 7),
    };

    return ((catalog_file_cb)c->cb)(c->arg, &f);
}

int
catalog_file_list(struct catalog *cat, const char *table, catalog_file_cb cb, void *arg,
                  struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT key, table_name, partition, rows, bytes, max_field_id, "
                          "added_run, (SELECT coalesce(sum(t.rows), 0) "
                          "FROM curated_delete_targets t JOIN curated_deletes x "
                          "ON x.key = t.delete_key WHERE t.file_key = f.key AND "
                          "x.removed_run IS NULL) FROM curated_files f "
                          "WHERE table_name = ?1 AND removed_run IS NULL ORDER BY key",
                          "t", table),
                    file_row, &c, "list curated files", d);
}

/* ---- deletion files ---------------------------------------------------------- */

int
catalog_delete_add(struct catalog *cat, const struct curated_delete *del, struct sl_diag *d)
{
    return exec(cat, d, "record a deletion file",
                "INSERT INTO curated_deletes (key, table_name, rows, bytes, added_run) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                "ttiii", del->key, del->table, del->rows, del->bytes, del->added_run);
}

int
catalog_delete_target_add(struct catalog *cat, const char *delete_key, const char *file_key,
                          int64_t rows, struct sl_diag *d)
{
    return exec(cat, d, "record a deletion file's target",
                "INSERT INTO curated_delete_targets (delete_key, file_key, rows) "
                "VALUES (?1, ?2, ?3)",
                "tti", delete_key, file_key, rows);
}

int
catalog_delete_retire(struct catalog *cat, const char *table, int64_t run_id,
                      catalog_name_cb cb, void *arg, struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    /* RETURNING hands out rows only once the update is done, so cb may
     * write to the catalog. */
    return each_row(cat,
                    query(cat, d,
                          "UPDATE curated_deletes SET removed_run = ?2 "
                          "WHERE table_name = ?1 AND removed_run IS NULL AND NOT EXISTS ("
                          "SELECT 1 FROM curated_delete_targets t JOIN curated_files f "
                          "ON f.key = t.file_key WHERE t.delete_key = curated_deletes.key "
                          "AND f.removed_run IS NULL) RETURNING key",
                          "ti", table, run_id),
                    name_row, &c, "retire deletion files", d);
}

static int
delete_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;
    struct curated_delete del = {
        .key = col_text(st, 0, NULL),
        .table = col_text(st, 1, NULL),
        .rows = sqlite3_column_int64(st, 2),
        .bytes = sqlite3_column_int64(st, 3),
        .added_run = sqlite3_column_int64(st, 4),
    };

    return ((catalog_delete_cb)c->cb)(c->arg, &del);
}

int
catalog_delete_list(struct catalog *cat, const char *table, catalog_delete_cb cb, void *arg,
                    struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT key, table_name, rows, bytes, added_run FROM curated_deletes "
                          "WHERE table_name = ?1 AND removed_run IS NULL ORDER BY key",
                          "t", table),
                    delete_row, &c, "list deletion files", d);
}

int
catalog_quarantine_add(struct catalog *cat, const char *key, const char *source,
                       int64_t run_id, int64_t records, struct sl_diag *d)
{
    return exec(cat, d, "record a quarantine file",
                "INSERT INTO quarantine_files (key, source, run_id, records) "
                "VALUES (?1, ?2, ?3, ?4)",
                "ttii", key, source, run_id, records);
}

int
catalog_quarantine_list(struct catalog *cat, const char *source, catalog_name_cb cb, void *arg,
                        struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT key FROM quarantine_files WHERE source = ?1 ORDER BY "
                          "run_id, key",
                          "t", source),
                    name_row, &c, "list quarantine files", d);
}

/* ---- streams and delivery ------------------------------------------------- */

int
catalog_stream_add(struct catalog *cat, const struct catalog_stream *s, struct sl_diag *d)
{
    int rc = exec(cat, d, "record a stream",
                  "INSERT INTO streams (name, kind, mode, shards, retention_hours, "
                  "max_record_bytes, write_bytes, write_records, source, buffer_bytes, "
                  "buffer_ms, compression, declared, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, "
                  "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                  "tttiiiiitiitii", s->name, s->kind, s->mode, s->shards, s->retention_hours,
                  s->max_record_bytes, s->write_bytes, s->write_records, s->source,
                  s->buffer_bytes, s->buffer_ms, s->compression, (int64_t)s->declared,
                  s->created_ms);

    if (rc == SL_ERR_EXISTS)
        return sl_fail(d, rc, "a stream named '%s' exists already", s->name);
    return rc;
}

int
catalog_stream_set_retention(struct catalog *cat, const char *name, int64_t hours,
                             struct sl_diag *d)
{
    return exec(cat, d, "change a stream's retention",
                "UPDATE streams SET retention_hours = ?2 WHERE name = ?1", "ti", name, hours);
}

int
catalog_stream_update(struct catalog *cat, const struct catalog_stream *s, struct sl_diag *d)
{
    return exec(cat, d, "change a stream's settings",
                "UPDATE streams SET retention_hours = ?2, max_record_bytes = ?3, "
                "write_bytes = ?4, write_records = ?5, buffer_bytes = ?6, buffer_ms = ?7, "
                "compression = ?8 WHERE name = ?1",
                "tiiiiiit", s->name, s->retention_hours, s->max_record_bytes, s->write_bytes,
                s->write_records, s->buffer_bytes, s->buffer_ms, s->compression);
}

int
catalog_stream_remove(struct catalog *cat, const char *name, struct sl_diag *d)
{
    int rc = exec(cat, d, "remove a stream's delivery positions",
                  "DELETE FROM delivery_positions WHERE stream = ?1", "t", name);

    if (rc < 0)
        return rc;
    return exec(cat, d, "remove a stream", "DELETE FROM streams WHERE name = ?1", "t", name);
}

struct stream_rows {
    catalog_stream_cb cb;
    void *arg;
};

static int
stream_row(void *ctx, sqlite3_stmt *st)
{
    struct stream_rows *c = ctx;
    struct catalog_stream s = {
        .name = col_text(st, 0, NULL),
        .kind = col_text(st, 1, NULL),
        .mode = col_text(st, 2, NULL),
        .shards = sqlite3_column_int64(st, 3),
        .retention_hours = sqlite3_column_int64(st, 4),
        .max_record_bytes = sqlite3_column_int64(st, 5),
        .write_bytes = sqlite3_column_int64(st, 6),
        .write_records = sqlite3_column_int64(st, 7),
        .source = col_text(st, 8, NULL),
        .buffer_bytes = sqlite3_column_int64(st, 9),
        .buffer_ms = sqlite3_column_int64(st, 10),
        .compression = col_text(st, 11, NULL),
        .declared = sqlite3_column_int64(st, 12) != 0,
        .created_ms = sqlite3_column_int64(st, 13),
    };

    return c->cb(c->arg, &s);
}

int
catalog_stream_list(struct catalog *cat, catalog_stream_cb cb, void *arg, struct sl_diag *d)
{
    struct stream_rows c = {cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT name, kind, mode, shards, retention_hours, max_record_bytes, "
                          "write_bytes, write_records, source, buffer_bytes, buffer_ms, "
                          "compression, declared, created_ms FROM streams ORDER BY name",
                          ""),
                    stream_row, &c, "list streams", d);
}

int
catalog_delivery_get(struct catalog *cat, const char *stream, int64_t shard,
                     int64_t created_ms, int64_t *seq, struct sl_diag *d)
{
    sqlite3_stmt *st = query(cat, d,
                             "SELECT seq FROM delivery_positions WHERE stream = ?1 AND "
                             "shard = ?2 AND created_ms = ?3",
                             "tii", stream, shard, created_ms);
    int rc;

    if (st == NULL)
        return SL_ERR_CATALOG;
    *seq = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        rc = db_fail(cat, d, "read a delivery position");
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : rc;
}

int
catalog_delivery_set(struct catalog *cat, const char *stream, int64_t shard,
                     int64_t created_ms, int64_t seq, struct sl_diag *d)
{
    return exec(cat, d, "advance a delivery position",
                "INSERT INTO delivery_positions (stream, shard, created_ms, seq, updated_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (stream, shard) DO UPDATE SET "
                "created_ms = excluded.created_ms, seq = excluded.seq, "
                "updated_at = excluded.updated_at",
                "tiiii", stream, shard, created_ms, seq, sl_now_usec());
}

/* ---- pending publications ------------------------------------------------- */

int
catalog_pending_add(struct catalog *cat, const struct catalog_pending *p, struct sl_diag *d)
{
    return exec(cat, d, "record a pending publication",
                "INSERT INTO pending (run_id, op, src, dst) VALUES (?1, ?2, ?3, ?4)", "iitt",
                p->run_id, (int64_t)p->op, p->src, p->dst);
}

static int
pending_row(void *ctx, sqlite3_stmt *st)
{
    struct row_cb *c = ctx;
    struct catalog_pending p = {
        .run_id = sqlite3_column_int64(st, 0),
        .op = (enum catalog_pending_op)sqlite3_column_int(st, 1),
        .src = col_text(st, 2, NULL),
        .dst = col_text(st, 3, NULL),
    };

    return ((catalog_pending_cb)c->cb)(c->arg, &p);
}

int
catalog_pending_list(struct catalog *cat, int64_t run_id, catalog_pending_cb cb, void *arg,
                     struct sl_diag *d)
{
    struct row_cb c = {(void *)cb, arg};

    return each_row(cat,
                    query(cat, d,
                          "SELECT run_id, op, src, dst FROM pending "
                          "WHERE ?1 = 0 OR run_id = ?1 ORDER BY id",
                          "i", run_id),
                    pending_row, &c, "list pending publications", d);
}

int
catalog_pending_clear(struct catalog *cat, int64_t run_id, struct sl_diag *d)
{
    return exec(cat, d, "clear pending publications", "DELETE FROM pending WHERE run_id = ?1",
                "i", run_id);
}
