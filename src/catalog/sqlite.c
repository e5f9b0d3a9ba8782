/*
 * sqlite.c - the embedded catalog back end: one SQLite file in the lake.
 *
 * Durability: WAL with synchronous=FULL, so a committed transaction
 * survives power loss - the commit protocol depends on that.  Several
 * processes share the file: a write transaction takes the database's write
 * lock up front (BEGIN IMMEDIATE) and waits up to 30 s for it, so writers
 * never conflict and never deadlock; a read transaction (BEGIN DEFERRED)
 * sees a snapshot and never blocks a writer.  Named locks are flock()s on
 * files in a locks/ folder beside the database: they die with the process,
 * and they hold on one machine, which is all an embedded catalog serves.
 *
 * Statements are prepared once per connection and cached by the address of
 * their text.  A row callback may run other statements; if it runs the
 * very statement that is handing out its rows, that call gets a statement
 * of its own.
 */
#include "catalog/catalog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/mem.h"
#include "core/banned.h"

#define MAX_STMTS 128

struct sqlite_cat {
    sqlite3 *db;
    char *path;
    char *lockdir;   /* <catalog dir>/locks */
    struct {
        const char *sql;   /* the key: the text's address */
        sqlite3_stmt *st;
        bool busy;         /* handing out rows right now */
    } stmts[MAX_STMTS];
    int nstmts;
};

#define IMPL(cat) ((struct sqlite_cat *)(cat)->impl)

/* The database's clock in ms; julianday() has ms precision. */
#define NOW_MS "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"

/* SQLite reports a full disk as SQLITE_FULL or, when a WAL index cannot
 * grow, as an I/O error: look at the file system to tell. */
static bool
disk_full(const struct sqlite_cat *s)
{
    struct statvfs sv;
    char *dir = sl_dirname(s->path);
    bool full = statvfs(dir, &sv) == 0 && sv.f_bavail * sv.f_frsize < 64 * 1024;

    free(dir);
    return full;
}

static int
db_fail(struct catalog *cat, struct sl_diag *d, const char *what)
{
    struct sqlite_cat *s = IMPL(cat);
    int code = sqlite3_errcode(s->db);
    int rc;

    if ((code == SQLITE_IOERR || code == SQLITE_FULL) && disk_full(s))
        return cat_fail(cat, d, -ENOSPC, what, "No space left on device");
    rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? SL_ERR_BUSY
         : code == SQLITE_FULL                        ? -ENOSPC
         : code == SQLITE_READONLY                    ? -EROFS
         : code == SQLITE_CONSTRAINT                  ? SL_ERR_CATALOG
                                                      : SL_ERR_CATALOG;
    if (code == SQLITE_CONSTRAINT) {
        int ext = sqlite3_extended_errcode(s->db);

        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
            return SL_ERR_EXISTS; /* callers turn this into their own words */
    }
    return cat_fail(cat, d, rc, what, sqlite3_errmsg(s->db));
}

static int
script(struct catalog *cat, const char *sql, const char *what, struct sl_diag *d)
{
    struct sqlite_cat *s = IMPL(cat);
    char *err = NULL;
    int rc = 0;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        int code = sqlite3_errcode(s->db);

        if ((code == SQLITE_IOERR || code == SQLITE_FULL) && disk_full(s))
            rc = cat_fail(cat, d, -ENOSPC, what, "No space left on device");
        else
            rc = cat_fail(cat, d, code == SQLITE_BUSY ? SL_ERR_BUSY : SL_ERR_CATALOG, what,
                          err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
    }
    return rc;
}

/* ---- connection ------------------------------------------------------------- */

static int
sqlite_open(struct catalog *cat, const char *path, struct sl_diag *d)
{
    struct sqlite_cat *s = sl_calloc(1, sizeof(*s));
    char *dir = sl_dirname(path);
    int rc;

    cat->impl = s;
    s->path = sl_strdup(path);
    s->lockdir = sl_printf("%s/locks", dir);
    cat->where = sl_printf("'%s'", path);
    /* Every command writes the catalog (at least its recovery step), so a
     * lake we cannot write is an error up front, in plain words. */
    if (sl_is_dir(dir) && access(dir, W_OK) < 0) {
        rc = sl_fail(d, -errno, "the lake is not writable: cannot write to '%s': %s", dir,
                     strerror(errno));
        free(dir);
        return rc;
    }
    rc = sl_mkdirs(s->lockdir, 0755, d);
    free(dir);
    if (rc < 0)
        return rc;
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return sl_fail(d, SL_ERR_CATALOG, "cannot open catalog '%s': %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_busy_timeout(s->db, 30000);
    cat->session = 1;
    /* Setting the journal mode can meet SQLITE_BUSY without the busy
     * handler being asked (another process closing the last connection
     * checkpoints and truncates the WAL under an exclusive lock), so it
     * waits here, as long as the busy timeout would. */
    for (int waited_ms = 0; waited_ms < 30000; waited_ms += 5) {
        int e = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);

        if (e != SQLITE_BUSY && e != SQLITE_LOCKED)
            break;
        usleep(5000);
    }
    return script(cat,
                  "PRAGMA journal_mode = WAL;"
                  "PRAGMA synchronous = FULL;"
                  "PRAGMA foreign_keys = ON;",
                  "configure the database", d);
}

static void
sqlite_close(struct catalog *cat)
{
    struct sqlite_cat *s = IMPL(cat);

    for (int i = 0; i < s->nstmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    if (s->db != NULL)
        sqlite3_close(s->db);
    free(s->lockdir);
    free(s->path);
    free(s);
    cat->impl = NULL;
}

/* ---- transactions ------------------------------------------------------------ */

static int
sqlite_begin(struct catalog *cat, enum catalog_txn_mode mode, struct sl_diag *d)
{
    return script(cat, mode == CATALOG_WRITE ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED",
                  "begin a transaction", d);
}

static int
sqlite_commit(struct catalog *cat, struct sl_diag *d)
{
    int rc = script(cat, "COMMIT", "commit", d);

    if (rc < 0)
        sqlite3_exec(IMPL(cat)->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void
sqlite_rollback(struct catalog *cat)
{
    sqlite3_exec(IMPL(cat)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- statements --------------------------------------------------------------- */

/* Expand {now_ms}; the result is the caller's to free. */
static char *
expand(const char *sql)
{
    const char *tok = strstr(sql, "{now_ms}");
    struct sl_buf b;

    if (tok == NULL)
        return NULL;
    sl_buf_init(&b);
    for (const char *p = sql; *p;) {
        tok = strstr(p, "{now_ms}");
        if (tok == NULL) {
            sl_buf_adds(&b, p);
            break;
        }
        sl_buf_add(&b, p, (size_t)(tok - p));
        sl_buf_adds(&b, NOW_MS);
        p = tok + 8;
    }
    return sl_buf_detach(&b, NULL);
}

static sqlite3_stmt *
prepare(struct catalog *cat, const char *sql, bool cache, int *slot, struct sl_diag *d,
        const char *what)
{
    struct sqlite_cat *s = IMPL(cat);
    sqlite3_stmt *st = NULL;
    char *text;
    int rc;

    *slot = -1;
    if (cache) {
        for (int i = 0; i < s->nstmts; i++) {
            if (s->stmts[i].sql != sql)
                continue;
            if (s->stmts[i].busy)
                break; /* in use by a caller up the stack: a fresh one */
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            *slot = i;
            return s->stmts[i].st;
        }
    }
    text = expand(sql);
    rc = sqlite3_prepare_v2(s->db, text ? text : sql, -1, &st, NULL);
    free(text);
    if (rc != SQLITE_OK) {
        db_fail(cat, d, what);
        return NULL;
    }
    if (cache && s->nstmts < MAX_STMTS) {
        bool known = false;

        for (int i = 0; i < s->nstmts; i++)
            known = known || s->stmts[i].sql == sql;
        if (!known) {
            s->stmts[s->nstmts].sql = sql;
            s->stmts[s->nstmts].st = st;
            s->stmts[s->nstmts].busy = false;
            *slot = s->nstmts++;
        }
    }
    return st;
}

static int
sqlite_exec(struct catalog *cat, const char *sql, bool cache, const struct catalog_param *p,
            int np, catalog_row_fn fn, void *arg, const char *what, struct sl_diag *d)
{
    struct sqlite_cat *s = IMPL(cat);
    struct catalog_row row = {.cat = cat};
    int slot, rc, step;
    sqlite3_stmt *st = prepare(cat, sql, cache, &slot, d, what);

    if (st == NULL)
        return d && d->code ? d->code : SL_ERR_CATALOG;
    if (sqlite3_bind_parameter_count(st) != np) {
        /* Our SQL, not input: a parameter left NULL would go unnoticed. */
        if (slot < 0)
            sqlite3_finalize(st);
        return cat_fail(cat, d, SL_ERR_CATALOG, what, "wrong number of parameters");
    }
    if (cat->txn.mode == CATALOG_READ && !sqlite3_stmt_readonly(st)) {
        if (slot < 0)
            sqlite3_finalize(st);
        return cat_fail(cat, d, SL_ERR_CATALOG, what, "a read transaction cannot write");
    }
    for (int i = 0; i < np; i++) {
        if (p[i].kind == 't' && p[i].s == NULL)
            sqlite3_bind_null(st, i + 1);
        else if (p[i].kind == 't')
            sqlite3_bind_text(st, i + 1, p[i].s, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_int64(st, i + 1, p[i].i);
    }
    if (slot >= 0)
        s->stmts[slot].busy = true;
    row.impl = st;
    row.ncols = sqlite3_column_count(st);
    rc = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn != NULL) {
            rc = fn(arg, &row);
            if (rc < 0)
                break;
        }
        row.index++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = db_fail(cat, d, what);
    else if (rc == 0)
        rc = sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes(s->db);
    if (slot >= 0) {
        s->stmts[slot].busy = false;
        sqlite3_reset(st);
    } else {
        sqlite3_finalize(st);
    }
    return rc;
}

static int64_t
row_int(const struct catalog_row *r, int col)
{
    return sqlite3_column_int64(r->impl, col);
}

static const char *
row_text(const struct catalog_row *r, int col)
{
    return (const char *)sqlite3_column_text(r->impl, col);
}

static bool
row_null(const struct catalog_row *r, int col)
{
    return sqlite3_column_type(r->impl, col) == SQLITE_NULL;
}

static const char *
row_name(const struct catalog_row *r, int col)
{
    return sqlite3_column_name(r->impl, col);
}

/* ---- locks ------------------------------------------------------------------ */

struct flock_handle {
    int fd;
};

static int
sqlite_lock(struct catalog *cat, const char *name, bool wait, void **handle, struct sl_diag *d)
{
    char *path = sl_printf("%s/%s.lock", IMPL(cat)->lockdir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock_handle *h;

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
    h = sl_calloc(1, sizeof(*h));
    h->fd = fd;
    *handle = h;
    return 0;
}

static void
sqlite_unlock(struct catalog *cat, void *handle)
{
    struct flock_handle *h = handle;

    close(h->fd);
    free(h);
}

static bool
session_alive(struct catalog *cat, uint64_t session)
{
    return true; /* file locks live as long as the process */
}

/* ---- schema ------------------------------------------------------------------- */

static void
ddl(const char *sqlite_ddl, struct sl_buf *out)
{
    sl_buf_adds(out, sqlite_ddl);
}

static int
lock_schema(struct catalog *cat, struct sl_diag *d)
{
    return 0; /* BEGIN IMMEDIATE holds the write lock already */
}

static int
exists_row(void *arg, const struct catalog_row *r)
{
    *(bool *)arg = true;
    return 0;
}

static int
table_exists(struct catalog *cat, const char *name, bool *exists, struct sl_diag *d)
{
    struct catalog_param p = {'t', 0, name};
    int rc;

    *exists = false;
    rc = sqlite_exec(cat, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                     true, &p, 1, exists_row, exists, "look for a table", d);
    return rc < 0 ? rc : 0;
}

const struct catalog_ops catalog_sqlite_ops = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec = sqlite_exec,
    .script = script,
    .row_int = row_int,
    .row_text = row_text,
    .row_null = row_null,
    .row_name = row_name,
    .lock = sqlite_lock,
    .unlock = sqlite_unlock,
    .session_alive = session_alive,
    .ddl = ddl,
    .lock_schema = lock_schema,
    .table_exists = table_exists,
};
