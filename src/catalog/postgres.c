/*
 * postgres.c - the shared catalog back end: one PostgreSQL database that
 * several sluice nodes use at once, through libpq.
 *
 * Connection.  The location (a postgresql:// URL or a libpq key=value
 * string) goes to libpq as it is; the password comes from PGPASSWORD or
 * ~/.pgpass, which libpq reads itself, and never appears in cat->where or
 * in a message (they are built from PQdb, PQhost and PQport).  sluice sets
 * application_name, client_encoding and a connect_timeout of 10 s, each
 * overridable by the location (the timeout also by PGCONNECT_TIMEOUT).
 * A connection that fails is explained by what failed (refused, unknown
 * host, timeout, password, missing database, no permission), naming host,
 * port and database.
 *
 * Isolation.  A write transaction is SERIALIZABLE: it commits only if the
 * result is as if it ran alone, else a statement or the COMMIT fails with
 * SQLSTATE 40001 (or 40P01, a deadlock), which is SL_ERR_CONFLICT and
 * which catalog_txn_run() retries.  Counters (raw.c, runs.c) are rows that
 * every landing updates, so concurrent landings queue on the row lock and
 * all but the first are sent back to retry: seqs come out in commit order.
 * A read transaction is REPEATABLE READ READ ONLY: one snapshot, never a
 * serialization failure, and the server refuses its writes (25006).
 *
 * Reconnects.  A broken connection (the server restarted, a proxy dropped
 * it) is noticed by libpq on its next use.  begin, and lock, which both
 * run outside a transaction, reconnect with PQreset and send their
 * statement again - safe, because it had no effect.  Nothing else is ever
 * sent twice: a statement inside a transaction that loses its connection
 * fails (the transaction is gone), and a COMMIT that loses it returns
 * SL_ERR_INDOUBT, since nobody here can tell whether it happened.  A
 * catalog that holds named locks does not reconnect: the locks died with
 * the old session, and the work they guard must stop.
 *
 * Schema.  The migrations are SQLite's DDL (schema.c); ddl rewrites its
 * INTEGERs as BIGINTs and gives every TEXT column the "C" collation, so
 * that text sorts by bytes as in SQLite, whatever the database's locale.
 *
 * Statements.  Portable SQL (catalog_int.h) is translated once per
 * statement and connection: ?N becomes $N, {now_ms} the server's clock
 * (quoted text is left alone; E'' strings and dollar quotes are not
 * understood, and the domain files use neither).
 * Cached statements are prepared once per session under the names s1,
 * s2, ..., keyed by the address of their text like sqlite.c's cache, and
 * run with PQexecPrepared: one round trip each.  Parameters go as text and
 * the server infers their types from the statement; results come as text.
 * A result is read whole before any row callback runs, so a callback may
 * run other statements freely.
 *
 * Locks.  A named lock is a session-level advisory lock on a 64-bit key:
 * FNV-1a 64 of "sluice.lock." followed by the name, the same on every
 * node.  It is released by pg_advisory_unlock, or by the server when the
 * session ends, which is what makes a dead process's locks go away.  The
 * schema lock (lock_schema) uses the key of "sluice.schema".
 *
 * Invariants:
 *   1. A cached statement is prepared in the session it names (stmt
 *      session == cat->session); a reconnect bumps cat->session, which
 *      makes every statement unprepared at once.
 *   2. Between catalog transactions the connection is idle, outside any
 *      transaction block: commit and rollback end the block even when the
 *      server did not.
 *   3. Only a statement that cannot have had a lasting effect is ever
 *      sent again (see Reconnects).
 *   4. The schema lock is held only between lock_schema and the end of
 *      its transaction.
 *
 * Round trips: BEGIN, each statement, COMMIT.  NEEDSWORK: libpq's pipeline
 * mode could send BEGIN with the first statement and a commit's writes
 * (which need no answer before the next one is sent) with the COMMIT, at
 * the price of reporting errors late; not done until a benchmark asks.
 */
#include "catalog/catalog_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/banned.h"

/* The database's clock in ms since the epoch ({now_ms}). */
#define NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

#define BEGIN_WRITE "BEGIN ISOLATION LEVEL SERIALIZABLE"
#define BEGIN_READ "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

/* Most parameters a statement takes (catalog_copy's widest table). */
#define MAX_PARAMS 64

/* A cached statement. */
struct pg_stmt {
    const char *sql;  /* the key: the portable text's address */
    char name[16];    /* the prepared statement's name, "s<n>" */
    int nparams;      /* the highest ?N of the text */
    uint64_t session; /* prepared in this session (0: never) */
};

/* A named lock held by this connection (the handle lock gives out). */
struct pg_lock {
    int64_t key;
    struct pg_lock *next;
};

struct pg_cat {
    PGconn *conn;
    struct pg_stmt *stmts; /* cached statements, in the order first seen */
    size_t nstmts, cap;
    struct pg_lock *locks; /* held named locks; freed on close */
    int ran;               /* statements since BEGIN */
    bool schema_locked;    /* holds the schema lock (invariant 4) */
};

#define IMPL(cat) ((struct pg_cat *)(cat)->impl)

/* ---- helpers ---------------------------------------------------------------- */

/* FNV-1a 64 of prefix followed by name: the advisory lock key of a name. */
static int64_t
lock_key(const char *prefix, const char *name)
{
    uint64_t h = 14695981039346656037ull;

    for (const char *s = prefix; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    for (const char *s = name; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (int64_t)h;
}

/* The first line of a libpq message, without its severity, into out. */
static void
first_line(const char *msg, char *out, size_t size)
{
    size_t n;

    if (msg == NULL)
        msg = "";
    if (strncmp(msg, "ERROR:  ", 8) == 0 || strncmp(msg, "FATAL:  ", 8) == 0)
        msg += 8;
    n = strcspn(msg, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

static const char *
host_of(PGconn *conn)
{
    const char *h = conn ? PQhost(conn) : NULL;

    return h && *h ? h : "localhost";
}

static const char *
port_of(PGconn *conn)
{
    const char *p = conn ? PQport(conn) : NULL;

    return p && *p ? p : "5432";
}

static void
set_where(struct catalog *cat)
{
    PGconn *conn = IMPL(cat)->conn;
    const char *db = conn ? PQdb(conn) : NULL;

    free(cat->where);
    cat->where = sl_printf("database '%s' on %s:%s", db ? db : "", host_of(conn), port_of(conn));
}

static bool
connected(const struct pg_cat *pc)
{
    return PQstatus(pc->conn) == CONNECTION_OK;
}

/* Server notices (e.g. "there is already a transaction in progress") go
 * to the debug log, not to stderr. */
static void
notice(void *arg, const char *msg)
{
    SL_DEBUG("catalog", "postgresql: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* ---- errors ------------------------------------------------------------------- */

/* The words for a connection that failed, from libpq's message (the only
 * thing libpq gives for it: there is no SQLSTATE before a session). */
static int
connect_fail(struct catalog *cat, const char *doing, struct sl_diag *d)
{
    PGconn *conn = IMPL(cat)->conn;
    const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
    const char *user = conn && PQuser(conn) ? PQuser(conn) : "";
    const char *host = host_of(conn), *port = port_of(conn);
    const char *db = conn && PQdb(conn) ? PQdb(conn) : "";
    char line[400], why[600];
    int rc = SL_ERR_CATALOG;
    const char *hint = NULL;
    char hintbuf[SL_DIAG_AUX];

    /* libpq prefixes each attempt with 'connection to server at ... failed: '. */
    const char *cause = strstr(msg, "failed: ");

    first_line(cause ? cause + 8 : msg, line, sizeof(line));
    if (strstr(msg, "password authentication failed") != NULL) {
        snprintf(why, sizeof(why), "password authentication failed for role '%s'", user);
        hint = "check the password in PGPASSWORD or ~/.pgpass (it never goes in the "
               "project file)";
    } else if (strstr(msg, "no password supplied") != NULL) {
        snprintf(why, sizeof(why),
                 "the server asks for a password for role '%s' and none "
                 "was supplied",
                 user);
        hint = "set PGPASSWORD in the environment or add a line for this server to "
               "~/.pgpass";
    } else if (strstr(msg, "role \"") != NULL && strstr(msg, "\" does not exist") != NULL) {
        snprintf(why, sizeof(why), "role '%s' does not exist", user);
        hint = "correct the user in the catalog location, or create the role";
    } else if (strstr(msg, "database \"") != NULL && strstr(msg, "\" does not exist") != NULL) {
        snprintf(why, sizeof(why), "the database does not exist");
        snprintf(hintbuf, sizeof(hintbuf),
                 "create it (createdb -h %s -p %s -O %s %s) or "
                 "correct the catalog location",
                 host, port, user, db);
        hint = hintbuf;
    } else if (strstr(msg, "permission denied") != NULL ||
               strstr(msg, "not permitted to log in") != NULL ||
               strstr(msg, "no pg_hba.conf entry") != NULL) {
        snprintf(why, sizeof(why), "role '%s' may not connect to it (%s)", user, line);
        hint = "grant the role CONNECT on the database and LOGIN, and check the server's "
               "pg_hba.conf";
    } else if (strstr(msg, "Connection refused") != NULL ||
               strstr(msg, "No such file or directory") != NULL) {
        snprintf(why, sizeof(why), "connection refused");
        snprintf(hintbuf, sizeof(hintbuf),
                 "check that the PostgreSQL server is running on "
                 "%s and accepts connections on port %s",
                 host, port);
        hint = hintbuf;
        rc = SL_ERR_UNAVAILABLE;
    } else if (strstr(msg, "could not translate host name") != NULL) {
        snprintf(why, sizeof(why), "no such host");
        hint = "check the host name in the catalog location";
        rc = SL_ERR_UNAVAILABLE;
    } else if (strstr(msg, "timeout expired") != NULL || strstr(msg, "timed out") != NULL) {
        snprintf(why, sizeof(why), "no answer before the connect timeout");
        hint = "check the host, the port and any firewall between; connect_timeout in the "
               "location sets the wait";
        rc = SL_ERR_UNAVAILABLE;
    } else if (strstr(msg, "unreachable") != NULL || strstr(msg, "No route") != NULL) {
        snprintf(why, sizeof(why), "the host is unreachable");
        hint = "check the host name and the network";
        rc = SL_ERR_UNAVAILABLE;
    } else if (strstr(msg, "starting up") != NULL || strstr(msg, "shutting down") != NULL ||
               strstr(msg, "recovery mode") != NULL || strstr(msg, "too many") != NULL) {
        snprintf(why, sizeof(why), "the server cannot take the connection now (%s)", line);
        hint = "try again in a moment";
        rc = SL_ERR_UNAVAILABLE;
    } else {
        snprintf(why, sizeof(why), "%s", line);
        rc = SL_ERR_UNAVAILABLE;
    }
    rc = sl_fail(d, rc, "cannot %s the PostgreSQL catalog: database '%s' on %s:%s: %s", doing, db,
                 host, port, why);
    if (hint != NULL)
        sl_diag_hint(d, "%s", hint);
    if (strcmp(why, line) != 0 && strstr(why, line) == NULL)
        sl_diag_detail(d, "libpq: %s", line);
    return rc;
}

/* The words for a connection lost while using it. */
static int
lost(struct catalog *cat, int rc, const char *what, const PGresult *res, struct sl_diag *d)
{
    PGconn *conn = IMPL(cat)->conn;
    char line[300], why[500];

    first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(conn), line, sizeof(line));
    snprintf(why, sizeof(why), "the connection to %s:%s was lost (%s)", host_of(conn),
             port_of(conn), line);
    return cat_fail(cat, d, rc, what, why);
}

static bool
sqlstate_is(const PGresult *res, const char *code)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    return s != NULL && strcmp(s, code) == 0;
}

/*
 * A failed statement (res may be NULL) as a return code with words; see
 * catalog_ops.exec for the codes.
 */
static int
fail_result(struct catalog *cat, const PGresult *res, const char *what, struct sl_diag *d)
{
    PGconn *conn = IMPL(cat)->conn;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    char line[400], why[600];
    int rc;

    if (res == NULL || PQstatus(conn) != CONNECTION_OK)
        return lost(cat, SL_ERR_CATALOG, what, res, d);
    if (primary != NULL)
        snprintf(line, sizeof(line), "%s", primary);
    else
        first_line(PQresultErrorMessage(res), line, sizeof(line));
    if (sqlstate_is(res, "23505"))
        return SL_ERR_EXISTS; /* callers turn this into their own words */
    if (sqlstate_is(res, "40001") || sqlstate_is(res, "40P01"))
        return cat_fail(cat, d, SL_ERR_CONFLICT, what, line);
    if (sqlstate_is(res, "55P03"))
        return cat_fail(cat, d, SL_ERR_BUSY, what, line);
    if (sqlstate_is(res, "53100")) {
        snprintf(why, sizeof(why), "the database server's disk is full (%s)", line);
        return cat_fail(cat, d, -ENOSPC, what, why);
    }
    if (sqlstate_is(res, "25006") && cat->txn.mode == CATALOG_WRITE) {
        rc = cat_fail(cat, d, SL_ERR_CATALOG, what, "the database is read-only");
        sl_diag_hint(d, "point the catalog at the primary server, not a standby (or turn "
                        "default_transaction_read_only off)");
        return rc;
    }
    if (sqlstate_is(res, "25006"))
        return cat_fail(cat, d, SL_ERR_CATALOG, what, "a read transaction cannot write");
    if (sqlstate_is(res, "42501")) {
        const char *user = PQuser(conn) ? PQuser(conn) : "";

        snprintf(why, sizeof(why), "role '%s' lacks permission on the database (%s)", user, line);
        rc = cat_fail(cat, d, SL_ERR_CATALOG, what, why);
        sl_diag_hint(d,
                     "grant the role what sluice needs (for example: GRANT USAGE, CREATE "
                     "ON SCHEMA public TO %s; or make it the database's owner), or use "
                     "a role that has it",
                     user);
        return rc;
    }
    rc = cat_fail(cat, d, SL_ERR_CATALOG, what, line);
    if (detail != NULL)
        sl_diag_detail(d, "%s", detail);
    if (hint != NULL)
        sl_diag_hint(d, "%s", hint);
    return rc;
}

/* ---- connection --------------------------------------------------------------- */

static int
pg_open(struct catalog *cat, const char *location, struct sl_diag *d)
{
    struct pg_cat *pc = sl_calloc(1, sizeof(*pc));
    const char *keys[8], *values[8];
    int n = 0;

    cat->impl = pc;
    /* Before dbname, so that the location overrides them (libpq: later
     * entries win, and dbname expands into the location's settings). */
    keys[n] = "application_name";
    values[n++] = "sluice";
    keys[n] = "client_encoding";
    values[n++] = "UTF8";
    if (getenv("PGCONNECT_TIMEOUT") == NULL) {
        keys[n] = "connect_timeout";
        values[n++] = "10";
    }
    keys[n] = "dbname";
    values[n++] = location;
    keys[n] = NULL;
    values[n] = NULL;
    pc->conn = PQconnectdbParams(keys, values, 1);
    set_where(cat);
    if (pc->conn == NULL || PQstatus(pc->conn) != CONNECTION_OK)
        return connect_fail(cat, "connect to", d);
    PQsetNoticeProcessor(pc->conn, notice, NULL);
    cat->session++;
    return 0;
}

static void
pg_close(struct catalog *cat)
{
    struct pg_cat *pc = IMPL(cat);

    while (pc->locks != NULL) {
        struct pg_lock *l = pc->locks;

        pc->locks = l->next;
        free(l);
    }
    PQfinish(pc->conn); /* the server rolls back and releases what the session held */
    free(pc->stmts);
    free(pc);
    cat->impl = NULL;
}

/*
 * Reconnect a broken connection, unless it held named locks.  Cached
 * statements become unprepared (invariant 1).
 */
static int
reconnect(struct catalog *cat, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    int rc;

    if (cat->locks != NULL) {
        rc = sl_fail(d, SL_ERR_CATALOG,
                     "catalog %s: the connection to %s:%s was lost, and "
                     "with it the locks this process held",
                     cat->where, host_of(pc->conn), port_of(pc->conn));
        sl_diag_hint(d, "the work those locks guarded must stop; start it again once the "
                        "database is back");
        return rc;
    }
    SL_WARN("catalog", "%s: the connection was lost; reconnecting", cat->where);
    PQreset(pc->conn);
    if (!connected(pc))
        return connect_fail(cat, "reconnect to", d);
    PQsetNoticeProcessor(pc->conn, notice, NULL);
    pc->schema_locked = false;
    cat->session++;
    return 0;
}

/* ---- transactions ------------------------------------------------------------- */

/* Release the schema lock if held (invariant 4). */
static void
unlock_schema(struct catalog *cat)
{
    struct pg_cat *pc = IMPL(cat);
    char key[24];
    const char *v[1] = {key};

    if (!pc->schema_locked)
        return;
    pc->schema_locked = false;
    if (!connected(pc))
        return; /* the session, and its lock, are gone */
    snprintf(key, sizeof(key), "%" PRId64, lock_key("sluice.schema", ""));
    PQclear(PQexecParams(pc->conn, "SELECT pg_advisory_unlock($1)", 1, NULL, v, NULL, NULL, 0));
}

/* End a transaction block the server left open (invariant 2). */
static void
end_block(struct pg_cat *pc)
{
    PGTransactionStatusType ts = PQtransactionStatus(pc->conn);

    if (connected(pc) && (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR))
        PQclear(PQexec(pc->conn, "ROLLBACK"));
}

static int
pg_begin(struct catalog *cat, enum catalog_txn_mode mode, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    const char *sql = mode == CATALOG_WRITE ? BEGIN_WRITE : BEGIN_READ;
    PGresult *res;
    int rc;

    for (int attempt = 0;; attempt++) {
        if (!connected(pc)) {
            rc = reconnect(cat, d);
            if (rc < 0)
                return rc;
        }
        end_block(pc);
        res = PQexec(pc->conn, sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            break;
        if (attempt == 0 && !connected(pc)) {
            /* The server went away since the last transaction: BEGIN had
             * no effect, so it may go again on a new session. */
            PQclear(res);
            continue;
        }
        rc = fail_result(cat, res, "begin a transaction", d);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    pc->ran = 0;
    return 0;
}

static int
pg_commit(struct catalog *cat, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    PGresult *res = PQexec(pc->conn, "COMMIT");
    int rc = 0;

    if (res == NULL || !connected(pc)) {
        char line[300];

        first_line(res ? PQresultErrorMessage(res) : PQerrorMessage(pc->conn), line, sizeof(line));
        rc = sl_fail(d, SL_ERR_INDOUBT,
                     "catalog %s: the connection to %s:%s was lost during "
                     "the commit: the outcome is unknown",
                     cat->where, host_of(pc->conn), port_of(pc->conn));
        sl_diag_detail(d, "libpq: %s", line);
    } else if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = fail_result(cat, res, "commit", d);
    } else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* The server rolls back a transaction that had failed. */
        rc = cat_fail(cat, d, SL_ERR_CATALOG, "commit",
                      "the transaction had failed and was rolled back");
    }
    PQclear(res);
    end_block(pc);
    unlock_schema(cat);
    return rc;
}

static void
pg_rollback(struct catalog *cat)
{
    end_block(IMPL(cat));
    unlock_schema(cat);
}

/* ---- statements --------------------------------------------------------------- */

/*
 * Translate portable SQL (catalog_int.h) into out: ?N becomes $N and
 * {now_ms} the server's clock.  Quoted literals ('...', with '' inside),
 * quoted identifiers and -- comments are copied as they are.  Returns the
 * highest N.
 */
static int
translate(const char *sql, struct sl_buf *out)
{
    const char *p = sql;
    int max = 0;

    while (*p != '\0') {
        if (*p == '\'' || *p == '"') {
            const char *e = strchr(p + 1, *p);

            e = e ? e + 1 : p + strlen(p);
            sl_buf_add(out, p, (size_t)(e - p));
            p = e;
        } else if (p[0] == '-' && p[1] == '-') {
            size_t n = strcspn(p, "\n");

            sl_buf_add(out, p, n);
            p += n;
        } else if (*p == '?' && isdigit((unsigned char)p[1])) {
            char *end;
            long n = strtol(p + 1, &end, 10);

            sl_buf_addf(out, "$%ld", n);
            if (n > max)
                max = n > MAX_PARAMS ? MAX_PARAMS + 1 : (int)n;
            p = end;
        } else if (strncmp(p, "{now_ms}", 8) == 0) {
            sl_buf_adds(out, NOW_MS);
            p += 8;
        } else {
            sl_buf_addc(out, *p++);
        }
    }
    return max;
}

static struct pg_stmt *
find_stmt(struct pg_cat *pc, const char *sql)
{
    for (size_t i = 0; i < pc->nstmts; i++)
        if (pc->stmts[i].sql == sql)
            return &pc->stmts[i];
    SL_GROW(pc->stmts, pc->cap, pc->nstmts + 1);
    struct pg_stmt *st = &pc->stmts[pc->nstmts++];

    memset(st, 0, sizeof(*st));
    st->sql = sql;
    snprintf(st->name, sizeof(st->name), "s%zu", pc->nstmts);
    return st;
}

/* Prepare a cached statement in the current session. */
static int
prepare(struct catalog *cat, struct pg_stmt *st, const char *what, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    struct sl_buf text;
    PGresult *res;
    int rc = 0;

    sl_buf_init(&text);
    st->nparams = translate(st->sql, &text);
    res = PQprepare(pc->conn, st->name, text.data, 0, NULL);
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        st->session = cat->session;
    else
        rc = fail_result(cat, res, what, d);
    PQclear(res);
    sl_buf_release(&text);
    return rc;
}

/* What a successful result changed: PQcmdTuples, except for a SELECT
 * (whose tag counts the rows it returned). */
static int
changed(const PGresult *res)
{
    const char *n = PQcmdTuples((PGresult *)res);

    if (strncmp(PQcmdStatus((PGresult *)res), "SELECT", 6) == 0 || *n == '\0')
        return 0;
    return (int)strtol(n, NULL, 10);
}

static int
pg_exec(struct catalog *cat, const char *sql, bool cache, const struct catalog_param *p, int np,
        catalog_row_fn fn, void *arg, const char *what, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    struct catalog_row row = {.cat = cat};
    const char *values[MAX_PARAMS];
    char ints[MAX_PARAMS][24];
    struct pg_stmt *st = NULL;
    struct sl_buf text;
    PGresult *res;
    int rc, nref;

    sl_buf_init(&text);
    if (cache) {
        st = find_stmt(pc, sql);
        if (st->session != cat->session) {
            rc = prepare(cat, st, what, d);
            if (rc < 0)
                return rc;
        }
        nref = st->nparams;
    } else {
        nref = translate(sql, &text);
    }
    if (np != nref || np > MAX_PARAMS) {
        /* Our SQL, not input: say so loudly rather than let it half work. */
        char why[160];

        snprintf(why, sizeof(why), "the statement takes %d parameters and was given %d", nref, np);
        sl_buf_release(&text);
        return cat_fail(cat, d, SL_ERR_CATALOG, what, why);
    }
    for (int i = 0; i < np; i++) {
        if (p[i].kind == 't') {
            values[i] = p[i].s;
        } else {
            snprintf(ints[i], sizeof(ints[i]), "%" PRId64, p[i].i);
            values[i] = ints[i];
        }
    }
    pc->ran++;
    if (st != NULL)
        res = PQexecPrepared(pc->conn, st->name, np, values, NULL, NULL, 0);
    else
        res = PQexecParams(pc->conn, text.data, np, NULL, values, NULL, NULL, 0);
    sl_buf_release(&text);
    switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
        row.impl = res;
        row.ncols = PQnfields(res);
        rc = 0;
        for (int i = 0; fn != NULL && rc >= 0 && i < PQntuples(res); i++) {
            row.index = i;
            rc = fn(arg, &row);
        }
        if (rc >= 0)
            rc = changed(res);
        break;
    case PGRES_COMMAND_OK:
        rc = changed(res);
        break;
    default:
        rc = fail_result(cat, res, what, d);
        break;
    }
    PQclear(res);
    return rc;
}

static int
pg_script(struct catalog *cat, const char *sql, const char *what, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    struct sl_buf text;
    PGresult *res;
    int rc = 0;

    sl_buf_init(&text);
    translate(sql, &text);
    pc->ran++;
    res = PQexec(pc->conn, text.data);
    sl_buf_release(&text);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fail_result(cat, res, what, d);
    PQclear(res);
    return rc;
}

static int64_t
row_int(const struct catalog_row *r, int col)
{
    return strtoll(PQgetvalue(r->impl, r->index, col), NULL, 10);
}

static const char *
row_text(const struct catalog_row *r, int col)
{
    if (PQgetisnull(r->impl, r->index, col))
        return NULL;
    return PQgetvalue(r->impl, r->index, col);
}

static bool
row_null(const struct catalog_row *r, int col)
{
    return PQgetisnull(r->impl, r->index, col) != 0;
}

static const char *
row_name(const struct catalog_row *r, int col)
{
    return PQfname(r->impl, col);
}

/* ---- locks -------------------------------------------------------------------- */

static int
pg_lock(struct catalog *cat, const char *name, bool wait, void **handle, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    int64_t key = lock_key("sluice.lock.", name);
    const char *sql = wait ? "SELECT pg_advisory_lock($1)" : "SELECT pg_try_advisory_lock($1)";
    char k[24];
    const char *v[1] = {k};
    char what[200];
    PGresult *res;
    struct pg_lock *l;
    int rc;

    snprintf(k, sizeof(k), "%" PRId64, key);
    for (int attempt = 0;; attempt++) {
        if (!connected(pc)) {
            rc = reconnect(cat, d);
            if (rc < 0)
                return rc;
        }
        res = PQexecParams(pc->conn, sql, 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            break;
        if (attempt == 0 && !connected(pc)) {
            PQclear(res); /* outside a transaction, on a dead session: no effect */
            continue;
        }
        snprintf(what, sizeof(what), "take lock '%s'", name);
        rc = fail_result(cat, res, what, d);
        PQclear(res);
        return rc;
    }
    rc = !wait && strcmp(PQgetvalue(res, 0, 0), "t") != 0;
    PQclear(res);
    if (rc)
        return sl_fail(d, SL_ERR_BUSY, "'%s' is running in another process", name);
    l = sl_calloc(1, sizeof(*l));
    l->key = key;
    l->next = pc->locks;
    pc->locks = l;
    *handle = l;
    return 0;
}

static void
pg_unlock(struct catalog *cat, void *handle)
{
    struct pg_cat *pc = IMPL(cat);
    struct pg_lock *l = handle;
    char k[24];
    const char *v[1] = {k};

    for (struct pg_lock **pp = &pc->locks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    snprintf(k, sizeof(k), "%" PRId64, l->key);
    if (connected(pc))
        PQclear(PQexecParams(pc->conn, "SELECT pg_advisory_unlock($1)", 1, NULL, v, NULL, NULL, 0));
    free(l);
}

static bool
pg_session_alive(struct catalog *cat, uint64_t session)
{
    return session == cat->session && connected(IMPL(cat));
}

/* ---- schema ------------------------------------------------------------------- */

/* Whether p starts the words of w (NULL-terminated), case-insensitively,
 * separated by white space, ending at a word boundary; the end or NULL. */
static const char *
match_words(const char *p, const char *const *w)
{
    for (; *w != NULL; w++) {
        size_t n = strlen(*w);

        if (strncasecmp(p, *w, n) != 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
            return NULL;
        p += n;
        if (w[1] != NULL) {
            if (!isspace((unsigned char)*p))
                return NULL;
            while (isspace((unsigned char)*p))
                p++;
        }
    }
    return p;
}

/*
 * SQLite's DDL for PostgreSQL: every INTEGER is a BIGINT (SQLite's are 64
 * bits), and an AUTOINCREMENT key a plain one (ids come from counters).
 * Every TEXT column compares in byte order (COLLATE "C"), as SQLite's
 * do: lists come in the same order on both back ends whatever collation
 * the database was created with.
 */
static void
pg_ddl(const char *sqlite_ddl, struct sl_buf *out)
{
    static const char *const autoinc[] = {"INTEGER", "PRIMARY", "KEY", "AUTOINCREMENT", NULL};
    static const char *const integer[] = {"INTEGER", NULL};
    static const char *const text[] = {"TEXT", NULL};
    const char *p = sqlite_ddl, *e;

    while (*p != '\0') {
        bool boundary = p == sqlite_ddl || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');

        if (*p == '\'' || *p == '"') {
            e = strchr(p + 1, *p);
            e = e ? e + 1 : p + strlen(p);
            sl_buf_add(out, p, (size_t)(e - p));
            p = e;
        } else if (boundary && (e = match_words(p, autoinc)) != NULL) {
            sl_buf_adds(out, "BIGINT PRIMARY KEY");
            p = e;
        } else if (boundary && (e = match_words(p, integer)) != NULL) {
            sl_buf_adds(out, "BIGINT");
            p = e;
        } else if (boundary && (e = match_words(p, text)) != NULL) {
            sl_buf_adds(out, "TEXT COLLATE \"C\"");
            p = e;
        } else {
            sl_buf_addc(out, *p++);
        }
    }
}

/*
 * Wait until no other connection migrates the schema.  The snapshot of a
 * SERIALIZABLE transaction is taken by its first statement before that
 * statement waits for any lock, so a transaction-level advisory lock would
 * leave a migrator that waited looking at the schema as it was before the
 * migration it waited for (and failing on "relation already exists").  So
 * the lock is taken at session level between transactions: the empty
 * transaction is ended, the lock awaited, the transaction begun again;
 * commit and rollback release the lock.  Must be the transaction's first
 * statement.
 */
static int
pg_lock_schema(struct catalog *cat, struct sl_diag *d)
{
    struct pg_cat *pc = IMPL(cat);
    const char *begin = cat->txn.mode == CATALOG_WRITE ? BEGIN_WRITE : BEGIN_READ;
    char key[24];
    const char *v[1] = {key};
    PGresult *res;
    int rc = 0;

    if (pc->ran > 0)
        return cat_fail(cat, d, SL_ERR_CATALOG, "lock the schema",
                        "the schema lock must come first in its transaction");
    snprintf(key, sizeof(key), "%" PRId64, lock_key("sluice.schema", ""));
    res = PQexec(pc->conn, "ROLLBACK");
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        res = PQexecParams(pc->conn, "SELECT pg_advisory_lock($1)", 1, NULL, v, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
            pc->schema_locked = true;
            PQclear(res);
            res = PQexec(pc->conn, begin);
        }
    }
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail_result(cat, res, "lock the schema", d);
    PQclear(res);
    return rc;
}

static int
exists_row(void *arg, const struct catalog_row *r)
{
    const char *v = row_text(r, 0);

    *(bool *)arg = v != NULL && strcmp(v, "t") == 0;
    return 0;
}

static int
pg_table_exists(struct catalog *cat, const char *name, bool *exists, struct sl_diag *d)
{
    struct catalog_param p = {'t', 0, name};
    int rc;

    *exists = false;
    rc = pg_exec(cat, "SELECT to_regclass(?1) IS NOT NULL", true, &p, 1, exists_row, exists,
                 "look for a table", d);
    return rc < 0 ? rc : 0;
}

const struct catalog_ops catalog_postgres_ops = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .script = pg_script,
    .row_int = row_int,
    .row_text = row_text,
    .row_null = row_null,
    .row_name = row_name,
    .lock = pg_lock,
    .unlock = pg_unlock,
    .session_alive = pg_session_alive,
    .ddl = pg_ddl,
    .lock_schema = pg_lock_schema,
    .table_exists = pg_table_exists,
};
