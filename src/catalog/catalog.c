/*
 * catalog.c - what every back end shares: choosing the back end, opening
 * and checking the schema, transactions and their retries, locks, leases,
 * copying, and the statement helpers of the domain files (catalog_int.h).
 *
 * Transaction states (struct catalog_txn, one per connection):
 *
 *   closed --catalog_txn_begin--> open --statement fails--> failed
 *     ^                            |                          |
 *     +---- catalog_txn_commit ----+                          |
 *     +---- catalog_txn_abort ---------------------------------+
 *
 * A failed transaction refuses every statement and its commit rolls back:
 * what it wrote can only be thrown away (PostgreSQL itself aborts a
 * transaction at its first error).  So the domain verbs never use a failing
 * statement to tell "already there": they ask first, or insert with ON
 * CONFLICT DO NOTHING and count the rows.
 */
#include "catalog/catalog_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/banned.h"

/* ---- locations ------------------------------------------------------------ */

static bool
has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A libpq connection string: key=value pairs, keys of letters and '_'. */
static bool
is_conninfo(const char *s)
{
    const char *p = s;

    while (*p == ' ')
        p++;
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");

    return n > 0 && p[n] == '=';
}

enum catalog_kind
catalog_location_kind(const char *location)
{
    if (has_prefix(location, "sqlite:"))
        return CATALOG_SQLITE;
    if (has_prefix(location, "postgresql://") || has_prefix(location, "postgres://") ||
        is_conninfo(location))
        return CATALOG_POSTGRES;
    return 0;
}

/* Whether a postgres URL has "user:password@". */
static bool
url_has_password(const char *url)
{
    const char *p = strstr(url, "://") + 3;
    size_t n = strcspn(p, "/?");
    const char *at = memchr(p, '@', n);

    return at != NULL && memchr(p, ':', (size_t)(at - p)) != NULL;
}

static bool
conninfo_has_password(const char *s)
{
    for (const char *p = s; (p = strstr(p, "password")) != NULL; p += 8) {
        const char *q = p + 8;

        while (*q == ' ')
            q++;
        if (*q == '=' && (p == s || p[-1] == ' ' || p[-1] == '&' || p[-1] == '?'))
            return true;
    }
    return false;
}

int
catalog_location_check(const char *location, struct sl_diag *d)
{
    enum catalog_kind kind = catalog_location_kind(location);

    if (kind != CATALOG_POSTGRES) {
        sl_fail(d, SL_ERR_INPUT, "catalog '%s' is neither a PostgreSQL URL nor a libpq "
                "connection string", location);
        sl_diag_hint(d, "write 'postgresql://USER@HOST:PORT/DATABASE' or 'host=HOST port=PORT "
                        "dbname=DATABASE user=USER'; leave catalog out for the SQLite file in "
                        "the lake");
        return SL_ERR_INPUT;
    }
    /* key=value pairs hold it as password=...; a URL as user:password@ or
     * as a password=... query parameter. */
    const char *query = strchr(location, '?');
    bool has_password = is_conninfo(location)
                            ? conninfo_has_password(location)
                            : url_has_password(location) ||
                                  (query != NULL && conninfo_has_password(query + 1));

    if (has_password) {
        sl_fail(d, SL_ERR_INPUT, "catalog location holds a password");
        sl_diag_hint(d, "a password never goes in the project file: set PGPASSWORD in the "
                        "environment or put it in ~/.pgpass (see PostgreSQL's libpq docs)");
        return SL_ERR_INPUT;
    }
    return 0;
}

/* ---- open and close ------------------------------------------------------ */

int
catalog_open(const char *location, unsigned flags, struct catalog **out, struct sl_diag *d)
{
    struct catalog *cat = sl_calloc(1, sizeof(*cat));
    int rc, from = 0;

    cat->kind = catalog_location_kind(location);
    cat->location = sl_strdup(location);
    cat->txn.cat = cat;
    if (cat->kind == CATALOG_SQLITE) {
        cat->ops = &catalog_sqlite_ops;
    } else if (cat->kind == CATALOG_POSTGRES) {
        cat->ops = &catalog_postgres_ops;
    } else {
        rc = catalog_location_check(location, d);
        free(cat->location);
        free(cat);
        return rc;
    }
    rc = cat->ops->open(cat, cat->kind == CATALOG_SQLITE ? location + 7 : location, d);
    if (rc < 0)
        goto fail;
    if (cat->where == NULL)
        cat->where = sl_strdup(location);
    {
        struct catalog_txn *txn;

        rc = catalog_txn_begin(cat, CATALOG_READ, &txn, d);
        if (rc == 0) {
            rc = catalog_read_version(txn, &cat->version, d);
            catalog_txn_abort(txn);
        }
    }
    if (rc < 0)
        goto fail;
    if (cat->version > CATALOG_SCHEMA_VERSION) {
        rc = sl_fail(d, SL_ERR_INCOMPATIBLE,
                     "catalog %s has schema version %d, newer than this sluice knows (%d)",
                     cat->where, cat->version, CATALOG_SCHEMA_VERSION);
        sl_diag_hint(d, "use the sluice release that wrote this catalog, or a newer one");
        goto fail;
    }
    if (cat->version < CATALOG_SCHEMA_VERSION && !(flags & CATALOG_NO_SCHEMA)) {
        if (cat->kind == CATALOG_POSTGRES && cat->version > 0 && !(flags & CATALOG_MIGRATE)) {
            rc = sl_fail(d, SL_ERR_INCOMPATIBLE,
                         "catalog %s has schema version %d, older than this sluice's (%d)",
                         cat->where, cat->version, CATALOG_SCHEMA_VERSION);
            sl_diag_hint(d, "run 'sluice catalog migrate' once every node sharing it runs "
                            "this release");
            goto fail;
        }
        rc = catalog_schema_upgrade(cat, &from, d);
        if (rc < 0)
            goto fail;
    }
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
    if (cat->txn.open)
        catalog_txn_abort(&cat->txn);
    while (cat->locks != NULL)
        catalog_unlock(cat->locks);
    if (cat->ops != NULL && cat->impl != NULL)
        cat->ops->close(cat);
    free(cat->where);
    free(cat->location);
    free(cat);
}

int
catalog_schema_version(const struct catalog *cat)
{
    return cat->version;
}

enum catalog_kind
catalog_kind(const struct catalog *cat)
{
    return cat->kind;
}

const char *
catalog_where(const struct catalog *cat)
{
    return cat->where;
}

int
catalog_migrate(struct catalog *cat, int *from, struct sl_diag *d)
{
    return catalog_schema_upgrade(cat, from, d);
}

/* ---- transactions --------------------------------------------------------- */

int
catalog_txn_begin(struct catalog *cat, enum catalog_txn_mode mode, struct catalog_txn **out,
                  struct sl_diag *d)
{
    int rc;

    if (cat->txn.open)
        return sl_fail(d, SL_ERR_CATALOG, "catalog %s: a transaction is open already",
                       cat->where);
    rc = cat->ops->begin(cat, mode, d);
    if (rc < 0)
        return rc;
    cat->txn.mode = mode;
    cat->txn.open = true;
    cat->txn.failed = false;
    *out = &cat->txn;
    return 0;
}

/* The words for an injected commit failure (core/fault.h). */
static int
indoubt_words(struct catalog *cat, struct sl_diag *d, int rc)
{
    if (rc != SL_ERR_INDOUBT)
        return sl_fail(d, rc, "cannot commit the catalog: %s", sl_strerror(rc));
    sl_fail(d, rc, "catalog %s: the connection was lost while committing; the outcome of the "
            "commit is unknown", cat->where);
    sl_diag_hint(d, "the next sluice command finds out: it finishes the run if it "
                    "committed, else sweeps what it staged");
    return rc;
}

int
catalog_txn_commit(struct catalog_txn *txn, struct sl_diag *d)
{
    struct catalog *cat = txn->cat;
    int rc;

    if (!txn->open)
        return sl_fail(d, SL_ERR_CATALOG, "catalog %s: no transaction to commit", cat->where);
    if (txn->failed) {
        catalog_txn_abort(txn);
        return sl_fail(d, SL_ERR_CATALOG, "catalog %s: the transaction failed earlier",
                       cat->where);
    }
    if (txn->mode == CATALOG_READ) {
        catalog_txn_abort(txn);
        return 0;
    }
    rc = sl_fault("catalog.commit");
    if (rc < 0) {
        catalog_txn_abort(txn);
        return indoubt_words(cat, d, rc);
    }
    rc = cat->ops->commit(cat, d);
    txn->open = false;
    txn->failed = false;
    /* Tests: a commit that happened but whose answer was lost. */
    if (rc == 0 && (rc = sl_fault("catalog.committed")) < 0)
        return indoubt_words(cat, d, rc);
    return rc;
}

void
catalog_txn_abort(struct catalog_txn *txn)
{
    if (txn == NULL || !txn->open)
        return;
    txn->cat->ops->rollback(txn->cat);
    txn->open = false;
    txn->failed = false;
}

struct catalog *
catalog_txn_catalog(const struct catalog_txn *txn)
{
    return txn->cat;
}

bool
catalog_txn_failed(const struct catalog_txn *txn)
{
    return txn->failed;
}

/* Sleep a little before another attempt: random, growing with attempts, so
 * that two writers that collided do not collide again. */
static void
backoff(int attempt)
{
    static __thread unsigned seed;
    struct timespec ts;

    if (seed == 0)
        seed = (unsigned)getpid() ^ (unsigned)(uintptr_t)&ts;
    long ms = 1 + rand_r(&seed) % (5L << (attempt < 6 ? attempt : 6));

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = ms % 1000 * 1000000L;
    nanosleep(&ts, NULL);
}

int
catalog_txn_run(struct catalog *cat, enum catalog_txn_mode mode, catalog_txn_fn fn, void *arg,
                struct sl_diag *d)
{
    int rc = 0;

    for (int attempt = 0; attempt < CATALOG_RETRIES; attempt++) {
        struct catalog_txn *txn;

        if (attempt > 0) {
            SL_DEBUG("catalog", "%s: conflict with another writer, attempt %d", cat->where,
                     attempt + 1);
            backoff(attempt);
            if (d != NULL)
                sl_diag_init(d);
        }
        rc = catalog_txn_begin(cat, mode, &txn, d);
        if (rc == SL_ERR_CONFLICT)
            continue;
        if (rc < 0)
            return rc;
        rc = fn(txn, arg, d);
        if (rc < 0) {
            catalog_txn_abort(txn);
            if (rc == SL_ERR_CONFLICT)
                continue;
            return rc;
        }
        if (rc > 0) {
            /* Nothing to commit (see commit.h's COMMIT_NOTHING). */
            catalog_txn_abort(txn);
            return rc;
        }
        rc = catalog_txn_commit(txn, d);
        if (rc != SL_ERR_CONFLICT)
            return rc;
    }
    if (d != NULL && d->code == SL_ERR_CONFLICT)
        sl_diag_detail(d, "gave up after %d attempts that conflicted with other writers",
                       CATALOG_RETRIES);
    return rc;
}

/* ---- statements ------------------------------------------------------------ */

int
cat_fail(struct catalog *cat, struct sl_diag *d, int rc, const char *what, const char *why)
{
    return sl_fail(d, rc, "catalog %s: cannot %s: %s", cat->where, what, why);
}

static int
check_usable(struct catalog_txn *txn, const char *what, struct sl_diag *d)
{
    if (!txn->open)
        return cat_fail(txn->cat, d, SL_ERR_CATALOG, what, "no transaction is open");
    if (txn->failed)
        return cat_fail(txn->cat, d, SL_ERR_CATALOG, what,
                        "an earlier statement of the transaction failed");
    return 0;
}

#define MAX_PARAMS 32

int
cat_vrun(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
         catalog_row_fn fn, void *arg, const char *fmt, va_list ap)
{
    struct catalog_param p[MAX_PARAMS];
    int np = 0, rc;

    rc = check_usable(txn, what, d);
    if (rc < 0)
        return rc;
    for (; *fmt; fmt++, np++) {
        if (np == MAX_PARAMS)
            abort(); /* our SQL, not input */
        p[np].kind = *fmt;
        if (*fmt == 't')
            p[np].s = va_arg(ap, const char *);
        else
            p[np].i = va_arg(ap, int64_t);
    }
    rc = txn->cat->ops->exec(txn->cat, sql, true, p, np, fn, arg, what, d);
    if (rc < 0)
        txn->failed = true;
    return rc;
}

int
cat_run(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
        catalog_row_fn fn, void *arg, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = cat_vrun(txn, d, what, sql, fn, arg, fmt, ap);
    va_end(ap);
    return rc;
}

int
cat_run_once(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
             const struct catalog_param *p, int np, catalog_row_fn fn, void *arg)
{
    int rc = check_usable(txn, what, d);

    if (rc < 0)
        return rc;
    rc = txn->cat->ops->exec(txn->cat, sql, false, p, np, fn, arg, what, d);
    if (rc < 0)
        txn->failed = true;
    return rc;
}

struct first_row {
    int64_t value;
    bool seen;
};

static int
first_int_row(void *arg, const struct catalog_row *r)
{
    struct first_row *f = arg;

    if (!f->seen) {
        f->value = cat_int(r, 0);
        f->seen = true;
    }
    return 0;
}

int
cat_int_of(struct catalog_txn *txn, struct sl_diag *d, const char *what, const char *sql,
           int64_t *out, const char *fmt, ...)
{
    struct first_row f = {0, false};
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = cat_vrun(txn, d, what, sql, first_int_row, &f, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return rc;
    if (!f.seen)
        return SL_ERR_NOTFOUND;
    *out = f.value;
    return 0;
}

int
cat_name_row(void *arg, const struct catalog_row *r)
{
    struct cat_names *c = arg;

    return c->cb(c->arg, cat_text(r, 0));
}

const char *
cat_strdup(const struct catalog_row *r, int col, struct sl_arena *a)
{
    const char *s = cat_text(r, col);

    return s == NULL ? NULL : sl_arena_strdup(a, s);
}

/* ---- locks ------------------------------------------------------------------ */

int
catalog_lock(struct catalog *cat, const char *name, bool wait, struct catalog_lock **out,
             struct sl_diag *d)
{
    struct catalog_lock *l;
    void *handle = NULL;
    int rc;

    if (cat->txn.open)
        return sl_fail(d, SL_ERR_CATALOG, "catalog %s: cannot take lock '%s' inside a "
                       "transaction", cat->where, name);
    for (l = cat->locks; l != NULL; l = l->next)
        if (strcmp(l->name, name) == 0)
            return sl_fail(d, SL_ERR_BUSY, "'%s' is held already by this process", name);
    rc = cat->ops->lock(cat, name, wait, &handle, d);
    if (rc < 0)
        return rc;
    l = sl_calloc(1, sizeof(*l));
    l->cat = cat;
    l->name = sl_strdup(name);
    l->handle = handle;
    l->session = cat->session;
    l->next = cat->locks;
    cat->locks = l;
    *out = l;
    return 0;
}

void
catalog_unlock(struct catalog_lock *lock)
{
    struct catalog *cat;

    if (lock == NULL)
        return;
    cat = lock->cat;
    for (struct catalog_lock **p = &cat->locks; *p != NULL; p = &(*p)->next) {
        if (*p == lock) {
            *p = lock->next;
            break;
        }
    }
    /* The driver frees its handle whether or not its session survived. */
    cat->ops->unlock(cat, lock->handle);
    free(lock->name);
    free(lock);
}

bool
catalog_lock_held(const struct catalog_lock *lock)
{
    return lock->cat->ops->session_alive(lock->cat, lock->session);
}

/* ---- leases ------------------------------------------------------------------ */

struct lease_row {
    struct sl_arena *a;
    struct catalog_lease *l;
    bool seen;
};

static int
lease_row(void *arg, const struct catalog_row *r)
{
    struct lease_row *c = arg;
    struct sl_arena *a = c->a;

    c->seen = true;
    c->l->name = a ? cat_strdup(r, 0, a) : NULL;
    c->l->holder = a ? cat_strdup(r, 1, a) : NULL;
    c->l->info = a ? cat_strdup(r, 2, a) : NULL;
    c->l->epoch = cat_int(r, 3);
    c->l->expires_ms = cat_int(r, 4);
    c->l->now_ms = cat_int(r, 5);
    return 0;
}

int
catalog_lease_get(struct catalog_txn *txn, const char *name, struct sl_arena *a,
                  struct catalog_lease *out, struct sl_diag *d)
{
    struct lease_row c = {a, out, false};
    int rc = cat_run(txn, d, "read a lease",
                     "SELECT name, holder, info, epoch, expires_ms, {now_ms} FROM leases "
                     "WHERE name = ?1",
                     lease_row, &c, "t", name);

    if (rc < 0)
        return rc;
    return c.seen ? 0 : SL_ERR_NOTFOUND;
}

int
catalog_lease_acquire(struct catalog_txn *txn, const char *name, const char *holder,
                      const char *info, int64_t ttl_ms, int64_t *epoch, struct sl_diag *d)
{
    struct sl_arena a;
    struct catalog_lease l;
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_lease_get(txn, name, &a, &l, d);
    if (rc == SL_ERR_NOTFOUND) {
        rc = cat_run(txn, d, "take a lease",
                     "INSERT INTO leases (name, holder, info, epoch, expires_ms) "
                     "VALUES (?1, ?2, ?3, 1, {now_ms} + ?4) ON CONFLICT (name) DO NOTHING",
                     NULL, NULL, "ttti", name, holder, info, ttl_ms);
        if (rc == 0) { /* taken a moment ago: another writer won */
            txn->failed = true;
            rc = sl_fail(d, SL_ERR_CONFLICT, "lease '%s' was taken concurrently", name);
        }
        if (rc > 0)
            *epoch = 1;
    } else if (rc == 0 && strcmp(l.holder, holder) != 0 && l.expires_ms > l.now_ms) {
        rc = sl_fail(d, SL_ERR_BUSY, "'%s' is held by %s (%s) for %lld ms more", name,
                     l.holder, l.info, (long long)(l.expires_ms - l.now_ms));
    } else if (rc == 0) {
        int64_t next = strcmp(l.holder, holder) == 0 ? l.epoch : l.epoch + 1;

        rc = cat_run(txn, d, "renew a lease",
                     "UPDATE leases SET holder = ?2, info = ?3, epoch = ?4, "
                     "expires_ms = {now_ms} + ?5 WHERE name = ?1 AND epoch = ?6",
                     NULL, NULL, "tttiii", name, holder, info, next, ttl_ms, l.epoch);
        if (rc == 0) {
            txn->failed = true;
            rc = sl_fail(d, SL_ERR_CONFLICT, "lease '%s' changed hands concurrently", name);
        }
        if (rc > 0) {
            *epoch = next;
            if (next != l.epoch)
                SL_INFO("catalog", "%s took lease '%s' over from %s (epoch %lld)", holder,
                        name, l.holder, (long long)next);
        }
    }
    sl_arena_release(&a);
    return rc < 0 ? rc : 0;
}

int
catalog_lease_check(struct catalog_txn *txn, const char *name, const char *holder,
                    int64_t epoch, struct sl_diag *d)
{
    struct sl_arena a;
    struct catalog_lease l;
    int rc;

    sl_arena_init(&a, 0);
    rc = catalog_lease_get(txn, name, &a, &l, d);
    if (rc == SL_ERR_NOTFOUND ||
        (rc == 0 && (strcmp(l.holder, holder) != 0 || l.epoch != epoch))) {
        txn->failed = true;
        rc = sl_fail(d, SL_ERR_CONFLICT, "lease '%s' is no longer held by %s (epoch %lld)",
                     name, holder, (long long)epoch);
    }
    sl_arena_release(&a);
    return rc;
}

int
catalog_lease_release(struct catalog_txn *txn, const char *name, const char *holder,
                      struct sl_diag *d)
{
    int rc = cat_run(txn, d, "release a lease",
                     "UPDATE leases SET expires_ms = {now_ms} WHERE name = ?1 AND holder = ?2",
                     NULL, NULL, "tt", name, holder);

    return rc < 0 ? rc : 0;
}

/* ---- copying ----------------------------------------------------------------- */

struct copy_ctx {
    struct catalog_txn *to;
    const char *table;
    struct sl_buf sql;
    int ncols;
    int64_t rows;
    struct sl_diag *d;
};

static int
copy_row(void *arg, const struct catalog_row *r)
{
    struct copy_ctx *c = arg;
    struct catalog_param p[64];

    if (r->ncols > 64)
        return sl_fail(c->d, SL_ERR_CATALOG, "catalog table %s has too many columns",
                       c->table);
    if (c->sql.len == 0 || c->ncols != r->ncols) {
        sl_buf_reset(&c->sql);
        sl_buf_addf(&c->sql, "INSERT INTO %s (", c->table);
        for (int i = 0; i < r->ncols; i++)
            sl_buf_addf(&c->sql, "%s%s", i ? ", " : "", r->cat->ops->row_name(r, i));
        sl_buf_adds(&c->sql, ") VALUES (");
        for (int i = 0; i < r->ncols; i++)
            sl_buf_addf(&c->sql, "%s?%d", i ? ", " : "", i + 1);
        sl_buf_adds(&c->sql, ")");
        c->ncols = r->ncols;
    }
    for (int i = 0; i < r->ncols; i++) {
        p[i].kind = 't';
        p[i].s = cat_text(r, i);
    }
    int rc = cat_run_once(c->to, c->d, "copy a row", c->sql.data, p, r->ncols, NULL, NULL);

    if (rc == SL_ERR_EXISTS) {
        return sl_fail(c->d, SL_ERR_EXISTS, "catalog %s: a row of %s exists already",
                       c->to->cat->where, c->table);
    }
    c->rows++;
    return rc < 0 ? rc : 0;
}

int
catalog_copy(struct catalog *from, struct catalog *to, int64_t *rows, struct sl_diag *d)
{
    struct catalog_txn *rt = NULL, *wt = NULL;
    struct copy_ctx c = {.d = d};
    int64_t n = 0;
    int rc;

    *rows = 0;
    if (from->version != CATALOG_SCHEMA_VERSION || to->version != CATALOG_SCHEMA_VERSION)
        return sl_fail(d, SL_ERR_INCOMPATIBLE,
                       "cannot copy between catalogs of schema versions %d and %d (this "
                       "sluice writes %d)",
                       from->version, to->version, CATALOG_SCHEMA_VERSION);
    sl_buf_init(&c.sql);
    rc = catalog_txn_begin(from, CATALOG_READ, &rt, d);
    if (rc == 0)
        rc = catalog_txn_begin(to, CATALOG_WRITE, &wt, d);
    if (rc == 0)
        rc = cat_int_of(wt, d, "count what the target holds",
                        "SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM "
                        "raw_objects) + (SELECT count(*) FROM runs) + (SELECT count(*) FROM "
                        "streams)",
                        &n, "");
    if (rc == 0 && n > 0)
        rc = sl_fail(d, SL_ERR_EXISTS, "catalog %s is not empty", to->where);
    /* The target's counters start at zero; the copy brings the source's. */
    if (rc == 0)
        rc = cat_run(wt, d, "clear the counters", "DELETE FROM counters", NULL, NULL, "");
    c.to = wt;
    for (int i = 0; rc >= 0 && catalog_tables[i] != NULL; i++) {
        char sql[128];

        c.table = catalog_tables[i];
        sl_buf_reset(&c.sql);
        snprintf(sql, sizeof(sql), "SELECT * FROM %s", c.table);
        rc = cat_run_once(rt, d, "read a table to copy", sql, NULL, 0, copy_row, &c);
    }
    catalog_txn_abort(rt);
    if (rc >= 0) {
        rc = catalog_txn_commit(wt, d);
        wt = NULL;
    }
    catalog_txn_abort(wt);
    sl_buf_release(&c.sql);
    if (rc >= 0)
        *rows = c.rows;
    return rc < 0 ? rc : 0;
}
