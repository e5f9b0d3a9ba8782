/*
 * test_catalog.c - the catalog over both back ends.
 *
 * Each BOTH() case runs twice: as NAME_sqlite on a fresh SQLite file and
 * as NAME_pg on a fresh PostgreSQL database; PG() cases run on PostgreSQL
 * only.  Every case gets places of its own (a folder, a database created
 * through an admin connection), dropped when the next case starts and at
 * exit, so cases never share state.
 *
 * The PostgreSQL server comes from the environment (tests/lib/pg.sh and
 * tests/run.sh export these):
 *   SLUICE_TEST_PG_URL_BASE  postgresql://USER@HOST:PORT of a role that may
 *                            create databases (or SLUICE_PG_USER,
 *                            SLUICE_PG_HOST and SLUICE_PG_PORT)
 *   SLUICE_PG_PW_USER, SLUICE_PG_PW_PASSWORD   a role that logs in with a
 *                            password (wrong-credential words)
 *   SLUICE_PG_NOPERM_USER    a role without rights (permission words)
 * Without a server the PostgreSQL cases print "skip", which tests/run.sh
 * counts apart from passes.
 *
 * The driver's internals (catalog_int.h) are reached in two places only:
 * to build an old schema step by step, and to count rows for the copy.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "catalog/catalog_int.h"
#include "catalog/raw.h"
#include "catalog/runs.h"
#include "catalog/sources.h"
#include "catalog/streams.h"
#include "catalog/tables.h"
#include "core/fs.h"
#include "test.h"

/* ---- places: where a case's catalogs live ------------------------------------ */

enum be { BE_SQLITE = 1, BE_PG = 2 };

struct place {
    enum be be;
    char loc[512];  /* the catalog location */
    char path[300]; /* SQLite: the file */
    char dir[256];  /* SQLite: its folder */
    char db[64];    /* PostgreSQL: the database */
};

#define MAX_PLACES 8
static struct place places[MAX_PLACES];
static int nplaces, nmade;
static char pg_base[256]; /* postgresql://USER@HOST:PORT */
static char pg_hostport[128];
static PGconn *admin; /* to the database postgres */

static void
ms_sleep(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* The server, from the environment; false if none is configured. */
static bool
pg_configured(void)
{
    const char *base = getenv("SLUICE_TEST_PG_URL_BASE");
    const char *h = getenv("SLUICE_PG_HOST"), *p = getenv("SLUICE_PG_PORT");
    const char *u = getenv("SLUICE_PG_USER");

    if (pg_base[0] != '\0')
        return true;
    if (base != NULL && *base != '\0')
        snprintf(pg_base, sizeof(pg_base), "%s", base);
    else if (h != NULL && p != NULL && u != NULL)
        snprintf(pg_base, sizeof(pg_base), "postgresql://%s@%s:%s", u, h, p);
    else
        return false;
    /* HOST:PORT: after the user (if any) and the scheme. */
    const char *hp = strchr(pg_base, '@');

    hp = hp ? hp + 1 : strstr(pg_base, "://") + 3;
    snprintf(pg_hostport, sizeof(pg_hostport), "%.*s", (int)strcspn(hp, "/?"), hp);
    return true;
}

static void
need_pg(void)
{
    if (!pg_configured())
        SKIP("no PostgreSQL server (SLUICE_TEST_PG_URL_BASE is unset; tests/run.sh starts "
             "one)");
}

/* Run sql on the admin connection; the first value of its result, if
 * any, into out. */
static void admin_sql(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
admin_sql(char *out, size_t size, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    PGresult *res;

    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    if (admin == NULL) {
        char url[400];

        snprintf(url, sizeof(url), "%s/postgres", pg_base);
        admin = PQconnectdb(url);
        if (PQstatus(admin) != CONNECTION_OK)
            fprintf(stderr, "admin connection: %s", PQerrorMessage(admin));
        CHECK(PQstatus(admin) == CONNECTION_OK);
    }
    res = PQexec(admin, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "admin: %s: %s", sql, PQerrorMessage(admin));
    CHECK(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
    if (out != NULL)
        snprintf(out, size, "%s",
                 PQntuples(res) > 0 && PQnfields(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
}

static void
drop_places(void)
{
    for (int i = 0; i < nplaces; i++) {
        struct place *p = &places[i];

        if (p->be == BE_SQLITE) {
            sl_rmtree(p->dir);
        } else if (admin != NULL) {
            char sql[128];

            snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", p->db);
            PQclear(PQexec(admin, sql));
        }
    }
    nplaces = 0;
}

static void
cleanup(void)
{
    drop_places();
    if (admin != NULL)
        PQfinish(admin);
    admin = NULL;
}

/* A new, empty place of back end be for this case. */
static struct place *
place_new(enum be be)
{
    struct place *p;

    CHECK(nplaces < MAX_PLACES);
    p = &places[nplaces++];
    memset(p, 0, sizeof(*p));
    p->be = be;
    nmade++;
    if (be == BE_SQLITE) {
        char dir[256];

        snprintf(dir, sizeof(dir), "/tmp/sluice-cat-test-%d-%d", (int)getpid(), nmade);
        snprintf(p->dir, sizeof(p->dir), "%s", dir);
        snprintf(p->path, sizeof(p->path), "%s/catalog.db", dir);
        snprintf(p->loc, sizeof(p->loc), "sqlite:%s/catalog.db", dir);
        sl_rmtree(dir);
        CHECK_INT(sl_mkdirs(dir, 0755, NULL), 0);
    } else {
        char db[64];

        snprintf(db, sizeof(db), "sl_test_%d_%d", (int)getpid(), nmade);
        snprintf(p->db, sizeof(p->db), "%s", db);
        admin_sql(NULL, 0, "CREATE DATABASE %s", db);
        snprintf(p->loc, sizeof(p->loc), "%s/%s", pg_base, db);
    }
    return p;
}

/* A new PostgreSQL place whose database sorts text by a natural-language
 * collation (ICU's en-US), as a database created on a server with an
 * en_US locale does. */
static struct place *
place_new_icu(void)
{
    struct place *p = place_new(BE_PG);

    admin_sql(NULL, 0, "DROP DATABASE %s", p->db);
    admin_sql(NULL, 0,
              "CREATE DATABASE %s TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
              "LOCALE 'C'",
              p->db);
    return p;
}

/* A new case: the last one's places go. */
static void
case_start(enum be be)
{
    static bool registered;

    if (!registered) {
        atexit(cleanup);
        registered = true;
    }
    if (be == BE_PG)
        need_pg();
    drop_places();
}

static struct catalog *
cat_open(const struct place *p, unsigned flags)
{
    struct catalog *c = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_open(p->loc, flags, &c, &d) != 0)
        fprintf(stderr, "catalog_open(%s): %s\n", p->loc, d.msg);
    CHECK(c != NULL);
    return c;
}

/* Run sql on the place's database behind the catalog's back. */
static void
place_sql(const struct place *p, const char *sql)
{
    if (p->be == BE_SQLITE) {
        sqlite3 *db;

        CHECK_INT(sqlite3_open(p->path, &db), SQLITE_OK);
        CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
    } else {
        PGconn *c = PQconnectdb(p->loc);
        PGresult *res;

        CHECK(PQstatus(c) == CONNECTION_OK);
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
            fprintf(stderr, "%s: %s", sql, PQerrorMessage(c));
        CHECK(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
        PQclear(res);
        PQfinish(c);
    }
}

/* End the sessions sluice has on the place's database (a server restart,
 * as the catalog sees it), and wait until they are gone. */
static void
kill_sessions(const struct place *p)
{
    char n[32];

    admin_sql(NULL, 0,
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
              "AND application_name = 'sluice'",
              p->db);
    for (int i = 0; i < 500; i++) {
        admin_sql(n, sizeof(n),
                  "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s' AND "
                  "application_name = 'sluice'",
                  p->db);
        if (strcmp(n, "0") == 0)
            return;
        ms_sleep(10);
    }
    CHECK(!"the sessions did not end");
}

#define BOTH(name)                                                                                 \
    static void body_##name(enum be be);                                                           \
    TEST(name##_sqlite)                                                                            \
    {                                                                                              \
        case_start(BE_SQLITE);                                                                     \
        body_##name(BE_SQLITE);                                                                    \
    }                                                                                              \
    TEST(name##_pg)                                                                                \
    {                                                                                              \
        case_start(BE_PG);                                                                         \
        body_##name(BE_PG);                                                                        \
    }                                                                                              \
    static void body_##name(enum be be)

#define PG(name)                                                                                   \
    static void body_##name(void);                                                                 \
    TEST(name##_pg)                                                                                \
    {                                                                                              \
        case_start(BE_PG);                                                                         \
        body_##name();                                                                             \
    }                                                                                              \
    static void body_##name(void)

/* ---- fixtures ------------------------------------------------------------------- */

static struct raw_object
raw(const char *source, const char *id, int64_t arrived_at)
{
    static char keys[16][64];
    static int k;
    char *key = keys[k++ % 16];

    snprintf(key, 64, "raw/%s/%s.csv", source, id);
    return (struct raw_object){
        .source = source,
        .object_id = id,
        .key = key,
        .system = "crm",
        .contract_version = "1.0",
        .original_name = "a.csv",
        .format = "csv",
        .compression = "none",
        .size = 10,
        .checksum = "sha256:00",
        .arrived_at = arrived_at,
    };
}

static struct run_record
run(int64_t id, const char *source, const char *state)
{
    return (struct run_record){.run_id = id,
                               .kind = "transform",
                               .source = source,
                               .table = "t",
                               .state = state,
                               .records_in = 10,
                               .written = 7,
                               .quarantined = 2,
                               .duplicates = 1};
}

static struct catalog_txn *
wbegin(struct catalog *c)
{
    struct catalog_txn *t = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_txn_begin(c, CATALOG_WRITE, &t, &d) != 0)
        fprintf(stderr, "begin: %s\n", d.msg);
    CHECK(t != NULL);
    return t;
}

static struct catalog_txn *
rbegin(struct catalog *c)
{
    struct catalog_txn *t = NULL;

    CHECK_INT(catalog_txn_begin(c, CATALOG_READ, &t, NULL), 0);
    return t;
}

static void
commit(struct catalog_txn *t)
{
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_txn_commit(t, &d) != 0)
        fprintf(stderr, "commit: %s\n", d.msg);
    CHECK_INT(d.code, 0);
}

static int
count_raw(void *arg, const struct raw_object *o)
{
    (*(int *)arg)++;
    return 0;
}

static int
count_name(void *arg, const char *name)
{
    (*(int *)arg)++;
    return 0;
}

/* Names a list hands out, joined by commas. */
struct names {
    char s[512];
};

static int
add_name(void *arg, const char *name)
{
    struct names *n = arg;
    size_t len = strlen(n->s);

    snprintf(n->s + len, sizeof(n->s) - len, "%s%s", len ? "," : "", name);
    return 0;
}

static int64_t
bookmark(struct catalog *c, const char *job)
{
    struct catalog_txn *t = rbegin(c);
    int64_t seq = -1;

    CHECK_INT(catalog_bookmark_get(t, "s", job, &seq, NULL), 0);
    catalog_txn_abort(t);
    return seq;
}

/* ---- schema -------------------------------------------------------------------- */

BOTH(schema_is_created_from_empty)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t;
    struct names n = {""};

    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    CHECK_INT(catalog_kind(c), be == BE_SQLITE ? CATALOG_SQLITE : CATALOG_POSTGRES);
    if (be == BE_PG) {
        char want[200];

        snprintf(want, sizeof(want), "database '%s' on %s", p->db, pg_hostport);
        CHECK_STR(catalog_where(c), want);
    } else {
        CHECK_HAS(catalog_where(c), p->path);
    }
    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "orders", "crm", NULL), 0);
    commit(t);
    catalog_close(c);
    /* Opened again: found as it was, nothing to migrate. */
    c = cat_open(p, 0);
    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    t = rbegin(c);
    CHECK_INT(catalog_source_list(t, add_name, &n, NULL), 0);
    catalog_txn_abort(t);
    CHECK_STR(n.s, "orders");
    catalog_close(c);
    if (be == BE_PG) {
        /* Every INTEGER of the migrations became a BIGINT. */
        PGconn *pc = PQconnectdb(p->loc);
        PGresult *res = PQexec(pc, "SELECT count(*) FROM information_schema.columns WHERE "
                                   "table_schema = 'public' AND data_type = 'integer'");

        CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
        CHECK_STR(PQgetvalue(res, 0, 0), "0");
        PQclear(res);
        res = PQexec(pc, "SELECT data_type FROM information_schema.columns WHERE "
                         "table_name = 'raw_objects' AND column_name = 'seq'");
        CHECK_STR(PQgetvalue(res, 0, 0), "bigint");
        PQclear(res);
        /* Every TEXT sorts by bytes (meta is schema.c's own, not a migration's). */
        res = PQexec(pc, "SELECT count(*) FROM information_schema.columns WHERE "
                         "table_schema = 'public' AND data_type = 'text' AND table_name <> "
                         "'meta' AND collation_name IS DISTINCT FROM 'C'");
        CHECK_STR(PQgetvalue(res, 0, 0), "0");
        PQclear(res);
        PQfinish(pc);
    }
}

BOTH(newer_schema_is_refused)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct sl_diag d;
    char want[32];

    catalog_close(c);
    place_sql(p, "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    sl_diag_init(&d);
    CHECK_INT(catalog_open(p->loc, 0, &c, &d), SL_ERR_INCOMPATIBLE);
    CHECK_HAS(d.msg, "schema version 999, newer");
    snprintf(want, sizeof(want), "(%d)", CATALOG_SCHEMA_VERSION);
    CHECK_HAS(d.msg, want);
    sl_diag_init(&d);
    CHECK_INT(catalog_open(p->loc, CATALOG_MIGRATE, &c, &d), SL_ERR_INCOMPATIBLE);
}

/* Bring an empty catalog to schema version upto with the shipped
 * migrations, one transaction each, as a build of that version did. */
static void
build_schema(struct catalog *c, int upto)
{
    for (int v = 0; v < upto; v++) {
        struct catalog_txn *t = wbegin(c);
        struct sl_buf ddl;
        char bump[160];

        if (v == 0)
            CHECK_INT(c->ops->script(c,
                                     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT "
                                     "NOT NULL)",
                                     "create meta", NULL),
                      0);
        sl_buf_init(&ddl);
        c->ops->ddl(catalog_migrations[v], &ddl);
        CHECK_INT(c->ops->script(c, ddl.data, "migrate", NULL), 0);
        sl_buf_release(&ddl);
        snprintf(bump, sizeof(bump),
                 "INSERT INTO meta (key, value) VALUES ('schema_version', '%d') "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 v + 1);
        CHECK_INT(c->ops->script(c, bump, "bump", NULL), 0);
        commit(t);
    }
}

static int
count_pending(void *arg, const struct catalog_pending *p)
{
    (*(int *)arg)++;
    return 0;
}

BOTH(older_schema_migrates_with_its_data)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, CATALOG_NO_SCHEMA);
    struct catalog_txn *t;
    struct raw_object o = raw("s", "new", 1);
    struct run_record r;
    struct sl_arena a;
    struct sl_diag d;
    int64_t id;
    int n = 0;

    CHECK_INT(catalog_schema_version(c), 0);
    build_schema(c, 3);
    catalog_close(c);
    /* What a schema-3 sluice left: two objects, ids handed out up to 5,
     * a run owing one publication. */
    place_sql(p, "INSERT INTO raw_objects (seq, source, object_id, key, system, "
                 "contract_version, original_name, format, compression, size, checksum, "
                 "arrived_at) VALUES "
                 "(1, 's', 'a', 'raw/s/a', 'crm', '1.0', 'a', 'csv', 'none', 1, 'x', 500), "
                 "(2, 's', 'b', 'raw/s/b', 'crm', '1.0', 'b', 'csv', 'none', 1, 'x', 700);"
                 "INSERT INTO run_ids (id) VALUES (1), (2), (3), (4), (5);"
                 "INSERT INTO runs (run_id, kind, source, tables, started_at, finished_at, "
                 "objects, from_seq, to_seq, records_in, written, inserted, replaced, "
                 "quarantined, duplicates, redelivered, files_added, files_removed, "
                 "bytes_written) VALUES (3, 'transform', 's', 't', 0, 0, 2, 0, 2, 1, 1, 1, 0, "
                 "0, 0, 0, 1, 0, 10);"
                 "INSERT INTO pending (id, run_id, op, src, dst) VALUES "
                 "(7, 3, 1, '_staging/x', 'curated/t/x.parquet')");
    sl_diag_init(&d);
    if (be == BE_PG) {
        /* Shared: others may still run the old release. */
        CHECK_INT(catalog_open(p->loc, 0, &c, &d), SL_ERR_INCOMPATIBLE);
        char want[80];

        snprintf(want, sizeof(want), "schema version 3, older than this sluice's (%d)",
                 CATALOG_SCHEMA_VERSION);
        CHECK_HAS(d.msg, want);
        CHECK_HAS(d.hint, "sluice catalog migrate");
        c = cat_open(p, CATALOG_MIGRATE);
    } else {
        /* Embedded: nobody else uses it. */
        c = cat_open(p, 0);
    }
    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    /* The counters continue the old ids. */
    CHECK_INT(catalog_run_next_id(c, &id, NULL), 0);
    CHECK_INT(id, 6);
    t = wbegin(c);
    CHECK_INT(catalog_raw_add(t, &o, NULL), 0);
    commit(t);
    CHECK_INT(o.seq, 3);
    CHECK_INT(o.arrived_at, 701);
    /* The run is published, its step carried over. */
    sl_arena_init(&a, 0);
    t = rbegin(c);
    CHECK_INT(catalog_run_get(t, 3, &a, &r, NULL), 0);
    CHECK_STR(r.state, "published");
    CHECK_INT(catalog_pending_list(t, 3, true, count_pending, &n, NULL), 0);
    CHECK_INT(n, 1);
    catalog_txn_abort(t);
    sl_arena_release(&a);
    catalog_close(c);
}

TEST(schema_1_migrates_to_the_current_one_sqlite)
{
    struct place *p;
    struct catalog *c;
    sqlite3 *db;
    char *sql;

    case_start(BE_SQLITE);
    p = place_new(BE_SQLITE);
    /* What a catalog written by a schema-1 sluice looks like. */
    CHECK_INT(sqlite3_open(p->path, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db,
                           "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                           "INSERT INTO meta VALUES ('schema_version', '1')",
                           NULL, NULL, NULL),
              SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, catalog_migrations[0], NULL, NULL, NULL), SQLITE_OK);
    sql = "INSERT INTO run_ids (id) VALUES (41)";
    CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    c = cat_open(p, 0);
    CHECK_INT(catalog_schema_version(c), CATALOG_SCHEMA_VERSION);
    int64_t id;

    CHECK_INT(catalog_run_next_id(c, &id, NULL), 0);
    CHECK_INT(id, 42);
    catalog_close(c);
}

struct opener {
    const struct place *p;
    int rc;
    int version;
};

static void *
open_thread(void *arg)
{
    struct opener *o = arg;
    struct catalog *c;

    o->rc = catalog_open(o->p->loc, 0, &c, NULL);
    if (o->rc == 0) {
        o->version = catalog_schema_version(c);
        catalog_close(c);
    }
    return NULL;
}

BOTH(concurrent_openers_create_the_schema_once)
{
    struct place *p = place_new(be);
    struct opener o[4];
    pthread_t th[4];

    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){p, -1, 0};
        CHECK_INT(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) {
        CHECK_INT(o[i].rc, 0);
        CHECK_INT(o[i].version, CATALOG_SCHEMA_VERSION);
    }
}

/* ---- raw objects and bookmarks ------------------------------------------------- */

static int
backlog_row(void *arg, const char *source, int64_t objects)
{
    struct names *n = arg;
    char one[64];

    snprintf(one, sizeof(one), "%s=%lld", source, (long long)objects);
    return add_name(n, one);
}

BOTH(raw_objects_are_unique_per_source)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct raw_object o = raw("s", "abc", 5), o2 = raw("s", "def", 9), o3 = raw("t", "abc", 1);
    struct raw_object got;
    struct catalog_txn *t;
    struct sl_arena a;
    struct names n = {""};
    int k = 0;

    sl_arena_init(&a, 0);
    t = wbegin(c);
    CHECK_INT(catalog_raw_add(t, &o, NULL), 0);
    CHECK_INT(o.seq, 1);
    CHECK_INT(catalog_raw_add(t, &o, NULL), SL_ERR_EXISTS);
    CHECK(!catalog_txn_failed(t)); /* asked first: the transaction goes on */
    CHECK_INT(catalog_raw_add(t, &o2, NULL), 0);
    CHECK_INT(o2.seq, 2);
    CHECK_INT(catalog_raw_add(t, &o3, NULL), 0); /* another source may use the id */
    CHECK_INT(o3.seq, 3);
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_raw_get(t, "s", "abc", &a, &got, NULL), 0);
    CHECK_STR(got.original_name, "a.csv");
    CHECK_STR(got.key, "raw/s/abc.csv");
    CHECK_INT(got.seq, 1);
    CHECK_INT(got.size, 10);
    CHECK_INT(catalog_raw_get(t, "s", "zzz", &a, &got, NULL), SL_ERR_NOTFOUND);
    CHECK_INT(catalog_raw_list(t, "s", 1, count_raw, &k, NULL), 0);
    CHECK_INT(k, 1);
    k = 0;
    CHECK_INT(catalog_raw_list(t, NULL, 0, count_raw, &k, NULL), 0);
    CHECK_INT(k, 3);
    CHECK_INT(catalog_raw_backlog(t, "transform", backlog_row, &n, NULL), 0);
    CHECK_STR(n.s, "s=2,t=1");
    catalog_txn_abort(t);
    sl_arena_release(&a);
    catalog_close(c);
}

BOTH(arrival_strictly_increases_when_the_clock_goes_back)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct raw_object o1 = raw("s", "1", 1000), o2 = raw("s", "2", 400), o3 = raw("s", "3", 1000),
                      o4 = raw("s", "4", 5000);
    struct catalog_txn *t = wbegin(c);

    CHECK_INT(catalog_raw_add(t, &o1, NULL), 0);
    commit(t);
    t = wbegin(c);
    CHECK_INT(catalog_raw_add(t, &o2, NULL), 0);
    CHECK_INT(catalog_raw_add(t, &o3, NULL), 0);
    CHECK_INT(catalog_raw_add(t, &o4, NULL), 0);
    commit(t);
    CHECK_INT(o1.arrived_at, 1000);
    CHECK_INT(o2.arrived_at, 1001);
    CHECK_INT(o3.arrived_at, 1002);
    CHECK_INT(o4.arrived_at, 5000);
    catalog_close(c);
}

struct lander {
    struct catalog *c;
    struct raw_object o;
    int attempts;
    int rc;
};

static int
land(struct catalog_txn *t, void *arg, struct sl_diag *d)
{
    struct lander *l = arg;

    l->attempts++;
    l->o.arrived_at = 10; /* an earlier clock than the other lander's */
    return catalog_raw_add(t, &l->o, d);
}

static void *
land_thread(void *arg)
{
    struct lander *l = arg;

    l->rc = catalog_txn_run(l->c, CATALOG_WRITE, land, l, NULL);
    return NULL;
}

static int
list_ids(void *arg, const struct raw_object *o)
{
    return add_name(arg, o->object_id);
}

/* Two landings at once: the one that commits first gets the smaller seq
 * (the other waits for it, and on PostgreSQL retries). */
BOTH(raw_seqs_follow_commit_order)
{
    struct place *p = place_new(be);
    struct catalog *c1 = cat_open(p, 0), *c2 = cat_open(p, 0);
    struct raw_object a = raw("s", "first", 1000);
    struct lander b = {c2, raw("s", "second", 10), 0, -1};
    struct catalog_txn *t;
    struct names n = {""};
    pthread_t th;

    t = wbegin(c1);
    CHECK_INT(catalog_raw_add(t, &a, NULL), 0);
    CHECK_INT(pthread_create(&th, NULL, land_thread, &b), 0);
    ms_sleep(200); /* let the second landing reach the counter and wait */
    commit(t);
    pthread_join(th, NULL);
    CHECK_INT(b.rc, 0);
    CHECK_INT(a.seq, 1);
    CHECK_INT(b.o.seq, 2);
    CHECK(b.o.arrived_at > a.arrived_at);
    if (be == BE_PG)
        CHECK(b.attempts >= 2); /* it read the counter before the first committed */
    t = rbegin(c1);
    CHECK_INT(catalog_raw_list(t, "s", 0, list_ids, &n, NULL), 0);
    catalog_txn_abort(t);
    CHECK_STR(n.s, "first,second");
    catalog_close(c2);
    catalog_close(c1);
}

BOTH(bookmarks_move_only_from_where_they_were)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0), *c2 = cat_open(p, 0);
    struct catalog_txn *t;
    struct sl_diag d;
    int64_t seen;

    CHECK_INT(bookmark(c, "transform"), 0);
    t = wbegin(c);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", 0, 7, NULL), 0);
    catalog_txn_abort(t);
    CHECK_INT(bookmark(c, "transform"), 0); /* rolled back */
    t = wbegin(c);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", 0, 7, NULL), 0);
    commit(t);
    CHECK_INT(bookmark(c, "transform"), 7);
    CHECK_INT(bookmark(c, "other"), 0);
    t = wbegin(c);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", 7, 3, NULL), 0); /* a rewind */
    commit(t);
    CHECK_INT(bookmark(c, "transform"), 3);

    /* A run read the bookmark, another moved it meanwhile: the first may
     * not commit its work. */
    seen = bookmark(c, "transform");
    t = wbegin(c2);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", seen, 9, NULL), 0);
    commit(t);
    sl_diag_init(&d);
    t = wbegin(c);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", seen, 12, &d), SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "transform bookmark of source 's' moved");
    CHECK(catalog_txn_failed(t));
    CHECK_INT(catalog_txn_commit(t, NULL), SL_ERR_CATALOG);
    CHECK_INT(bookmark(c, "transform"), 9);
    catalog_close(c2);
    catalog_close(c);
}

/* ---- runs ----------------------------------------------------------------------- */

static int
list_runs(void *arg, const struct run_record *r)
{
    char one[32];

    snprintf(one, sizeof(one), "%lld", (long long)r->run_id);
    return add_name(arg, one);
}

BOTH(runs_must_balance)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct run_record r = run(0, "s", NULL), got;
    struct catalog_txn *t;
    struct sl_arena a;
    struct sl_diag d;
    struct names n = {""};
    int64_t id2;

    sl_arena_init(&a, 0);
    CHECK_INT(catalog_run_next_id(c, &r.run_id, NULL), 0);
    CHECK_INT(r.run_id, 1);
    CHECK_INT(catalog_run_next_id(c, &id2, NULL), 0);
    CHECK_INT(id2, 2);
    t = wbegin(c);
    CHECK_INT(catalog_run_add(t, &r, NULL), 0);
    commit(t);

    r.run_id = id2;
    r.duplicates = 5;
    sl_diag_init(&d);
    t = wbegin(c);
    CHECK_INT(catalog_run_add(t, &r, &d), SL_ERR_CATALOG);
    CHECK(catalog_txn_failed(t));
    catalog_txn_abort(t);

    t = wbegin(c);
    CHECK_INT(catalog_run_alloc_id(t, &r.run_id, NULL), 0);
    CHECK_INT(r.run_id, 3);
    r.duplicates = 1;
    r.source = "u";
    CHECK_INT(catalog_run_add(t, &r, NULL), 0);
    commit(t);

    t = rbegin(c);
    CHECK_INT(catalog_run_get(t, 1, &a, &got, NULL), 0);
    CHECK_STR(got.kind, "transform");
    CHECK_STR(got.state, "published");
    CHECK_INT(got.records_in, 10);
    CHECK_INT(got.quarantined, 2);
    sl_diag_init(&d);
    CHECK_INT(catalog_run_get(t, 2, &a, &got, &d), SL_ERR_NOTFOUND);
    CHECK_HAS(d.msg, "no run 2");
    CHECK_INT(catalog_run_list(t, NULL, 0, false, list_runs, &n, NULL), 0);
    CHECK_STR(n.s, "3,1");
    n.s[0] = '\0';
    CHECK_INT(catalog_run_list(t, "s", 0, false, list_runs, &n, NULL), 0);
    CHECK_STR(n.s, "1");
    n.s[0] = '\0';
    CHECK_INT(catalog_run_list(t, NULL, 1, false, list_runs, &n, NULL), 0);
    CHECK_STR(n.s, "3");
    catalog_txn_abort(t);

    sl_diag_init(&d);
    t = wbegin(c);
    CHECK_INT(catalog_run_set_state(t, 1, "held", "published", &d), SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "run 1 is not held");
    catalog_txn_abort(t);
    sl_arena_release(&a);
    catalog_close(c);
}

BOTH(pending_publications)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_pending s1 = {3, 1, CATALOG_PUBLISH, "_staging/x/a", "curated/t/a.parquet"};
    struct catalog_pending s2 = {3, 2, CATALOG_DELETE, NULL, "curated/t/old.parquet"};
    struct catalog_txn *t;
    int n = 0;

    t = wbegin(c);
    CHECK_INT(catalog_pending_add(t, &s1, NULL), 0);
    CHECK_INT(catalog_pending_add(t, &s2, NULL), 0);
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_pending_list(t, 0, false, count_pending, &n, NULL), 0);
    CHECK_INT(n, 2);
    catalog_txn_abort(t);
    t = wbegin(c);
    CHECK_INT(catalog_pending_clear(t, 3, NULL), 0);
    commit(t);
    n = 0;
    t = rbegin(c);
    CHECK_INT(catalog_pending_list(t, 3, true, count_pending, &n, NULL), 0);
    CHECK_INT(n, 0);
    catalog_txn_abort(t);
    catalog_close(c);
}

/* ---- tables and held runs ----------------------------------------------------- */

struct file_seen {
    char keys[512];
    int64_t deleted_of_b;
};

static int
list_files(void *arg, const struct curated_file *f)
{
    struct file_seen *s = arg;
    size_t len = strlen(s->keys);

    snprintf(s->keys + len, sizeof(s->keys) - len, "%s%s", len ? "," : "", f->key);
    if (strcmp(f->key, "b") == 0)
        s->deleted_of_b = f->deleted;
    return 0;
}

static int
list_deletes(void *arg, const struct curated_delete *del)
{
    return add_name(arg, del->key);
}

struct view {
    struct file_seen files;
    struct names deletes, quarantine, pending, held;
};

static int
list_steps(void *arg, const struct catalog_pending *p)
{
    char one[32];

    snprintf(one, sizeof(one), "%lld.%lld", (long long)p->run_id, (long long)p->step);
    return add_name(arg, one);
}

/* What readers see of table t and source s. */
static struct view
look(struct catalog *c, bool with_held)
{
    struct view v;
    struct catalog_txn *t = rbegin(c);

    memset(&v, 0, sizeof(v));
    CHECK_INT(catalog_file_list(t, "t", list_files, &v.files, NULL), 0);
    CHECK_INT(catalog_delete_list(t, "t", list_deletes, &v.deletes, NULL), 0);
    CHECK_INT(catalog_quarantine_list(t, "s", add_name, &v.quarantine, NULL), 0);
    CHECK_INT(catalog_pending_list(t, 0, with_held, list_steps, &v.pending, NULL), 0);
    CHECK_INT(catalog_run_list(t, NULL, 0, true, list_runs, &v.held, NULL), 0);
    catalog_txn_abort(t);
    return v;
}

static void
put_table(struct catalog_txn *t)
{
    static struct curated_column cols[2] = {
        {"k", 1, {SL_TYPE_STRING, 0, 0}, true, "1.0"},
        {"v", 2, {SL_TYPE_INT64, 0, 0}, false, "1.1"},
    };
    struct curated_table tab = {"t", "s", 1, "curated/t", 3, "k", "k", 2, cols};

    CHECK_INT(catalog_table_put(t, &tab, NULL), 0);
}

BOTH(held_runs_hide_what_they_wrote_until_published)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct curated_file fa = {"a", "t", "2026-10-01", 10, 100, 2, 1, 0};
    struct curated_file fb = {"b", "t", "2026-10-02", 10, 100, 2, 1, 0};
    struct curated_file fc = {"c", "t", "2026-10-03", 10, 100, 2, 2, 0};
    struct curated_file fd = {"d", "t", "2026-10-04", 10, 100, 2, 3, 0};
    struct curated_delete x = {"x", "t", 4, 40, 2};
    struct catalog_pending st1 = {1, 1, CATALOG_PUBLISH, "_staging/1/a", "a"};
    struct catalog_pending st2 = {2, 1, CATALOG_PUBLISH, "_staging/2/c", "c"};
    struct run_record r1 = run(1, "s", NULL), r2 = run(2, "s", "held"), r3 = run(3, "s", "held");
    struct catalog_txn *t;
    struct view v;

    /* Run 1, published: files a and b. */
    t = wbegin(c);
    put_table(t);
    CHECK_INT(catalog_run_add(t, &r1, NULL), 0);
    CHECK_INT(catalog_file_add(t, &fa, NULL), 0);
    CHECK_INT(catalog_file_add(t, &fb, NULL), 0);
    CHECK_INT(catalog_quarantine_add(t, "q1", "s", 1, 2, NULL), 0);
    CHECK_INT(catalog_pending_add(t, &st1, NULL), 0);
    commit(t);
    /* Run 2, held: adds c, retires a, deletes 4 rows of b, quarantines. */
    t = wbegin(c);
    CHECK_INT(catalog_run_add(t, &r2, NULL), 0);
    CHECK_INT(catalog_file_add(t, &fc, NULL), 0);
    CHECK_INT(catalog_file_remove(t, "a", 2, NULL), 0);
    CHECK_INT(catalog_delete_add(t, &x, NULL), 0);
    CHECK_INT(catalog_delete_target_add(t, "x", "b", 4, NULL), 0);
    CHECK_INT(catalog_quarantine_add(t, "q2", "s", 2, 2, NULL), 0);
    CHECK_INT(catalog_pending_add(t, &st2, NULL), 0);
    commit(t);

    v = look(c, false);
    CHECK_STR(v.files.keys, "a,b");
    CHECK_INT(v.files.deleted_of_b, 0);
    CHECK_STR(v.deletes.s, "");
    CHECK_STR(v.quarantine.s, "q1");
    CHECK_STR(v.pending.s, "1.1");
    CHECK_STR(v.held.s, "2");
    v = look(c, true);
    CHECK_STR(v.pending.s, "1.1,2.1");

    /* Published: everything it wrote shows. */
    t = wbegin(c);
    CHECK_INT(catalog_run_set_state(t, 2, "held", "published", NULL), 0);
    commit(t);
    v = look(c, false);
    CHECK_STR(v.files.keys, "b,c");
    CHECK_INT(v.files.deleted_of_b, 4);
    CHECK_STR(v.deletes.s, "x");
    CHECK_STR(v.quarantine.s, "q1,q2");
    CHECK_STR(v.pending.s, "1.1,2.1");
    CHECK_STR(v.held.s, "");

    /* Run 3, held then discarded: adds d, retires c; then forgotten. */
    t = wbegin(c);
    CHECK_INT(catalog_run_add(t, &r3, NULL), 0);
    CHECK_INT(catalog_file_add(t, &fd, NULL), 0);
    CHECK_INT(catalog_file_remove(t, "c", 3, NULL), 0);
    CHECK_INT(catalog_quarantine_add(t, "q3", "s", 3, 2, NULL), 0);
    commit(t);
    v = look(c, false);
    CHECK_STR(v.files.keys, "b,c");
    CHECK_STR(v.held.s, "3");
    t = wbegin(c);
    CHECK_INT(catalog_tables_discard_run(t, 3, NULL), 0);
    CHECK_INT(catalog_run_set_state(t, 3, "held", "discarded", NULL), 0);
    commit(t);
    v = look(c, false);
    CHECK_STR(v.files.keys, "b,c");
    CHECK_STR(v.quarantine.s, "q1,q2");
    CHECK_STR(v.held.s, "");
    /* c is live for good: a later run can retire it. */
    t = wbegin(c);
    CHECK_INT(catalog_file_remove(t, "c", 4, NULL), 0);
    commit(t);
    v = look(c, false);
    CHECK_STR(v.files.keys, "b");
    catalog_close(c);
}

BOTH(tables_keep_their_columns)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct curated_table got;
    struct catalog_txn *t;
    struct sl_arena a;
    struct names n = {""};

    sl_arena_init(&a, 0);
    t = wbegin(c);
    put_table(t);
    put_table(t); /* again: an update */
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_table_get(t, "t", &a, &got, NULL), 0);
    CHECK_STR(got.prefix, "curated/t");
    CHECK_INT(got.next_field_id, 3);
    CHECK_INT(got.ncolumns, 2);
    CHECK_STR(got.columns[1].name, "v");
    CHECK_INT(got.columns[1].field_id, 2);
    CHECK_INT(got.columns[1].type.id, SL_TYPE_INT64);
    CHECK(got.columns[0].required);
    CHECK(!got.columns[1].required);
    CHECK_INT(catalog_table_get(t, "nope", &a, &got, NULL), SL_ERR_NOTFOUND);
    CHECK_INT(catalog_table_list(t, add_name, &n, NULL), 0);
    CHECK_STR(n.s, "t");
    catalog_txn_abort(t);
    sl_arena_release(&a);
    catalog_close(c);
}

BOTH(deletion_files_retire_with_their_last_target)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct curated_file fa = {"a", "t", "2026-10-01", 10, 100, 1, 1, 0};
    struct curated_file fb = {"b", "t", "2026-10-02", 10, 100, 1, 1, 0};
    struct curated_delete del = {"curated/t/_deletes/delete-000002.parquet", "t", 5, 50, 2};
    struct catalog_txn *t;
    struct view v;
    int n = 0;

    t = wbegin(c);
    put_table(t);
    CHECK_INT(catalog_file_add(t, &fa, NULL), 0);
    CHECK_INT(catalog_file_add(t, &fb, NULL), 0);
    CHECK_INT(catalog_delete_add(t, &del, NULL), 0);
    CHECK_INT(catalog_delete_target_add(t, del.key, "a", 3, NULL), 0);
    CHECK_INT(catalog_delete_target_add(t, del.key, "b", 2, NULL), 0);
    commit(t);
    v = look(c, true);
    CHECK_INT(v.files.deleted_of_b, 2);

    /* One target retired: the deletion file stays. */
    t = wbegin(c);
    CHECK_INT(catalog_file_remove(t, "a", 3, NULL), 0);
    CHECK_INT(catalog_delete_retire(t, "t", 3, count_name, &n, NULL), 0);
    commit(t);
    CHECK_INT(n, 0);
    /* The last one: it goes, once. */
    t = wbegin(c);
    CHECK_INT(catalog_file_remove(t, "b", 4, NULL), 0);
    CHECK_INT(catalog_delete_retire(t, "t", 4, count_name, &n, NULL), 0);
    CHECK_INT(catalog_delete_retire(t, "t", 4, count_name, &n, NULL), 0);
    commit(t);
    CHECK_INT(n, 1);
    v = look(c, true);
    CHECK_STR(v.deletes.s, "");
    catalog_close(c);
}

/* ---- sources, streams ------------------------------------------------------------ */

static int
list_contracts(void *arg, const char *version, const char *spec)
{
    return add_name(arg, version);
}

BOTH(sources_and_contract_versions)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t;
    struct sl_arena a;
    struct names n = {""}, v = {""};
    char *spec;

    sl_arena_init(&a, 0);
    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "orders", "shop", NULL), 0);
    CHECK_INT(catalog_source_put(t, "crm", "sf", NULL), 0);
    CHECK_INT(catalog_source_put(t, "orders", "shop2", NULL), 0);
    CHECK_INT(catalog_contract_put(t, "orders", "1.10", 1, 10, "{b}", NULL), 0);
    CHECK_INT(catalog_contract_put(t, "orders", "1.2", 1, 2, "{a}", NULL), 0);
    CHECK_INT(catalog_contract_put(t, "orders", "1.2", 1, 2, "{x}", NULL), SL_ERR_EXISTS);
    CHECK(!catalog_txn_failed(t));
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_source_list(t, add_name, &n, NULL), 0);
    CHECK_STR(n.s, "crm,orders");
    CHECK_INT(catalog_contract_get(t, "orders", "1.2", &a, &spec, NULL), 0);
    CHECK_STR(spec, "{a}");
    CHECK_INT(catalog_contract_get(t, "orders", "9.9", &a, &spec, NULL), SL_ERR_NOTFOUND);
    CHECK_INT(catalog_contract_list(t, "orders", list_contracts, &v, NULL), 0);
    CHECK_STR(v.s, "1.2,1.10");
    catalog_txn_abort(t);
    sl_arena_release(&a);
    catalog_close(c);
}

static int
list_streams(void *arg, const struct catalog_stream *s)
{
    char one[96];

    snprintf(one, sizeof(one), "%s:%s:%lld:%s", s->name, s->kind, (long long)s->retention_hours,
             s->source ? s->source : "-");
    return add_name(arg, one);
}

/* Lists come in byte order on every back end, whatever the database's
 * collation (SQLite compares text with memcmp). */
BOTH(text_sorts_by_bytes)
{
    static const char *const names[] = {"ab", "a_b", "B", "aB", "a-b", "\xc3\xa9t\xc3\xa9", "e"};
    struct place *p = be == BE_PG ? place_new_icu() : place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t = wbegin(c);
    struct names n = {""};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK_INT(catalog_source_put(t, names[i], "x", NULL), 0);
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_source_list(t, add_name, &n, NULL), 0);
    catalog_txn_abort(t);
    CHECK_STR(n.s, "B,a-b,aB,a_b,ab,e,\xc3\xa9t\xc3\xa9");
    catalog_close(c);
}

BOTH(streams_and_delivery_positions)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_stream s = {"clicks", "kinesis", "PROVISIONED", 2,    24,     1048576, 0,
                               0,        NULL,      1 << 20,       1000, "none", true,    111};
    struct catalog_stream f = {"orders", "firehose", "ON_DEMAND", 1,     24,     1048576, 0,
                               0,        "orders",   1 << 20,     60000, "gzip", false,   222};
    struct catalog_txn *t;
    struct names n = {""};
    struct sl_diag d;
    int64_t seq;

    t = wbegin(c);
    CHECK_INT(catalog_stream_add(t, &s, NULL), 0);
    CHECK_INT(catalog_stream_add(t, &f, NULL), 0);
    sl_diag_init(&d);
    CHECK_INT(catalog_stream_add(t, &s, &d), SL_ERR_EXISTS);
    CHECK_HAS(d.msg, "'clicks' exists already");
    CHECK(!catalog_txn_failed(t));
    CHECK_INT(catalog_stream_set_retention(t, "clicks", 48, NULL), 0);
    f.retention_hours = 72;
    CHECK_INT(catalog_stream_update(t, &f, NULL), 0);
    CHECK_INT(catalog_delivery_get(t, "clicks", 0, 111, &seq, NULL), 0);
    CHECK_INT(seq, 0);
    CHECK_INT(catalog_delivery_set(t, "clicks", 0, 111, 40, NULL), 0);
    CHECK_INT(catalog_delivery_set(t, "clicks", 1, 111, 7, NULL), 0);
    commit(t);
    t = wbegin(c);
    CHECK_INT(catalog_delivery_set(t, "clicks", 0, 111, 45, NULL), 0);
    commit(t);
    t = rbegin(c);
    CHECK_INT(catalog_stream_list(t, list_streams, &n, NULL), 0);
    CHECK_STR(n.s, "clicks:kinesis:48:-,orders:firehose:72:orders");
    CHECK_INT(catalog_delivery_get(t, "clicks", 0, 111, &seq, NULL), 0);
    CHECK_INT(seq, 45);
    CHECK_INT(catalog_delivery_get(t, "clicks", 1, 111, &seq, NULL), 0);
    CHECK_INT(seq, 7);
    /* A recreated stream (another creation time) starts from zero. */
    CHECK_INT(catalog_delivery_get(t, "clicks", 0, 999, &seq, NULL), 0);
    CHECK_INT(seq, 0);
    catalog_txn_abort(t);
    t = wbegin(c);
    CHECK_INT(catalog_stream_remove(t, "clicks", NULL), 0);
    commit(t);
    n.s[0] = '\0';
    t = rbegin(c);
    CHECK_INT(catalog_stream_list(t, list_streams, &n, NULL), 0);
    CHECK_STR(n.s, "orders:firehose:72:orders");
    CHECK_INT(catalog_delivery_get(t, "clicks", 0, 111, &seq, NULL), 0);
    CHECK_INT(seq, 0);
    catalog_txn_abort(t);
    catalog_close(c);
}

/* ---- transactions ---------------------------------------------------------------- */

BOTH(a_failed_statement_makes_the_transaction_sticky)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct curated_file fa = {"a", "t", "2026-10-01", 10, 100, 1, 1, 0};
    struct catalog_txn *t;
    struct sl_diag d;
    struct names n = {""};

    t = wbegin(c);
    put_table(t);
    CHECK_INT(catalog_file_add(t, &fa, NULL), 0);
    commit(t);

    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "s", "crm", NULL), 0);
    CHECK_INT(catalog_file_add(t, &fa, NULL), SL_ERR_EXISTS); /* a unique key */
    CHECK(catalog_txn_failed(t));
    sl_diag_init(&d);
    CHECK_INT(catalog_source_put(t, "u", "crm", &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "an earlier statement of the transaction failed");
    sl_diag_init(&d);
    CHECK_INT(catalog_txn_commit(t, &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "the transaction failed earlier");
    t = rbegin(c);
    CHECK_INT(catalog_source_list(t, add_name, &n, NULL), 0);
    catalog_txn_abort(t);
    CHECK_STR(n.s, ""); /* nothing of it was written */
    /* The catalog goes on. */
    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "s", "crm", NULL), 0);
    commit(t);
    catalog_close(c);
}

BOTH(read_transactions_cannot_write)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t = rbegin(c);
    struct sl_diag d;

    sl_diag_init(&d);
    CHECK_INT(catalog_source_put(t, "s", "crm", &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "a read transaction cannot write");
    catalog_txn_abort(t);
    sl_diag_init(&d);
    CHECK_INT(catalog_txn_begin(c, CATALOG_READ, &t, NULL), 0);
    CHECK_INT(catalog_txn_begin(c, CATALOG_READ, &t, &d), SL_ERR_CATALOG); /* one at a time */
    CHECK_HAS(d.msg, "a transaction is open already");
    catalog_txn_abort(t);
    catalog_close(c);
}

PG(a_read_only_database_is_named)
{
    struct place *p = place_new(BE_PG);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t;
    struct sl_diag d;

    catalog_close(c);
    /* As on a standby: every transaction is read-only. */
    admin_sql(NULL, 0, "ALTER DATABASE %s SET default_transaction_read_only = on", p->db);
    c = cat_open(p, 0);
    t = wbegin(c);
    sl_diag_init(&d);
    CHECK_INT(catalog_source_put(t, "s", "crm", &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "cannot record a source: the database is read-only");
    CHECK_HAS(d.hint, "standby");
    catalog_txn_abort(t);
    catalog_close(c);
}

struct mover {
    int64_t stale; /* where the bookmark was when the run started */
    int attempts;
};

static int
move_bookmark(struct catalog_txn *t, void *arg, struct sl_diag *d)
{
    struct mover *m = arg;
    int64_t seq;
    int rc;

    m->attempts++;
    if (m->attempts == 1) {
        seq = m->stale;
    } else {
        rc = catalog_bookmark_get(t, "s", "transform", &seq, d);
        if (rc < 0)
            return rc;
    }
    return catalog_bookmark_move(t, "s", "transform", seq, seq + 10, d);
}

BOTH(txn_run_retries_conflicts)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_txn *t = wbegin(c);
    struct mover m = {0, 0};

    CHECK_INT(catalog_bookmark_move(t, "s", "transform", 0, 5, NULL), 0);
    commit(t);
    CHECK_INT(catalog_txn_run(c, CATALOG_WRITE, move_bookmark, &m, NULL), 0);
    CHECK_INT(m.attempts, 2);
    CHECK_INT(bookmark(c, "transform"), 15);
    catalog_close(c);
}

struct interloper {
    struct catalog *other;
    int attempts;
    int first_rc;
    char first_msg[SL_DIAG_MSG];
};

/* Read the bookmark; on the first attempt another connection moves it
 * and commits before this one writes. */
static int
race_bookmark(struct catalog_txn *t, void *arg, struct sl_diag *d)
{
    struct interloper *x = arg;
    int64_t seq;
    int rc = catalog_bookmark_get(t, "s", "transform", &seq, d);

    if (rc < 0)
        return rc;
    if (++x->attempts == 1) {
        struct catalog_txn *o = wbegin(x->other);

        CHECK_INT(catalog_bookmark_move(o, "s", "transform", seq, seq + 1, NULL), 0);
        commit(o);
    }
    rc = catalog_bookmark_move(t, "s", "transform", seq, seq + 10, d);
    if (x->attempts == 1) {
        x->first_rc = rc;
        snprintf(x->first_msg, sizeof(x->first_msg), "%s", d ? d->msg : "");
    }
    return rc;
}

PG(serialization_failures_are_conflicts_that_txn_run_retries)
{
    struct place *p = place_new(BE_PG);
    struct catalog *c1 = cat_open(p, 0), *c2 = cat_open(p, 0);
    struct interloper x = {c2, 0, 0, ""};
    struct catalog_txn *t1, *t2;
    struct sl_diag d;
    int64_t seq;
    int rc;

    t1 = wbegin(c1);
    CHECK_INT(catalog_bookmark_move(t1, "s", "transform", 0, 1, NULL), 0);
    CHECK_INT(catalog_bookmark_move(t1, "s", "quality", 0, 1, NULL), 0);
    commit(t1);

    /* A concurrent update of the row read: the statement fails. */
    sl_diag_init(&d);
    CHECK_INT(catalog_txn_run(c1, CATALOG_WRITE, race_bookmark, &x, &d), 0);
    CHECK_INT(x.attempts, 2);
    CHECK_INT(x.first_rc, SL_ERR_CONFLICT);
    CHECK_HAS(x.first_msg, "could not serialize access");
    CHECK_INT(bookmark(c1, "transform"), 12);

    /* Write skew: each reads what the other writes; both statements
     * pass, and the one that commits second is refused. */
    t1 = wbegin(c1);
    t2 = wbegin(c2);
    CHECK_INT(catalog_bookmark_get(t1, "s", "transform", &seq, NULL), 0);
    CHECK_INT(catalog_bookmark_get(t2, "s", "quality", &seq, NULL), 0);
    CHECK_INT(catalog_bookmark_move(t1, "s", "quality", 1, 2, NULL), 0);
    sl_diag_init(&d);
    rc = catalog_bookmark_move(t2, "s", "transform", 12, 13, &d);
    commit(t1);
    if (rc == 0) {
        sl_diag_init(&d);
        rc = catalog_txn_commit(t2, &d);
    } else {
        catalog_txn_abort(t2);
    }
    CHECK_INT(rc, SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "could not serialize access");
    CHECK_INT(bookmark(c1, "quality"), 2);
    CHECK_INT(bookmark(c1, "transform"), 12);
    catalog_close(c2);
    catalog_close(c1);
}

/* ---- locks and leases -------------------------------------------------------------- */

BOTH(named_locks_exclude)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0), *c2 = cat_open(p, 0);
    struct catalog_lock *l1, *l2, *l3;
    struct catalog_txn *t;
    struct sl_diag d;

    CHECK_INT(catalog_lock(c, "transform-s", false, &l1, NULL), 0);
    CHECK(catalog_lock_held(l1));
    sl_diag_init(&d);
    CHECK_INT(catalog_lock(c2, "transform-s", false, &l2, &d), SL_ERR_BUSY);
    CHECK_HAS(d.msg, "'transform-s' is running in another process");
    sl_diag_init(&d);
    CHECK_INT(catalog_lock(c, "transform-s", false, &l3, &d), SL_ERR_BUSY); /* not reentrant */
    CHECK_INT(catalog_lock(c2, "transform-u", false, &l2, NULL), 0);        /* another name */
    catalog_unlock(l2);
    /* No lock inside a transaction. */
    t = wbegin(c2);
    CHECK_INT(catalog_lock(c2, "x", false, &l2, NULL), SL_ERR_CATALOG);
    catalog_txn_abort(t);
    /* Released on unlock... */
    catalog_unlock(l1);
    CHECK_INT(catalog_lock(c2, "transform-s", false, &l2, NULL), 0);
    CHECK_INT(catalog_lock(c, "transform-s", false, &l1, NULL), SL_ERR_BUSY);
    /* ... and on close. */
    catalog_close(c2);
    CHECK_INT(catalog_lock(c, "transform-s", true, &l1, NULL), 0);
    catalog_unlock(l1);
    catalog_close(c);
}

/* FNV-1a 64 of "sluice.lock." + name: the key documented in postgres.c. */
static int64_t
fnv_key(const char *name)
{
    char s[128];
    uint64_t h = 14695981039346656037ull;

    snprintf(s, sizeof(s), "sluice.lock.%s", name);
    for (const char *q = s; *q; q++)
        h = (h ^ (unsigned char)*q) * 1099511628211ull;
    return (int64_t)h;
}

PG(named_locks_are_advisory_locks_on_a_fixed_key)
{
    struct place *p = place_new(BE_PG);
    struct catalog *c = cat_open(p, 0);
    struct catalog_lock *l;
    char got[64], want[64];

    CHECK_INT(catalog_lock(c, "deliver-clicks", false, &l, NULL), 0);
    admin_sql(got, sizeof(got),
              "SELECT ((classid::bigint << 32) | objid::bigint) FROM pg_locks l JOIN "
              "pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND "
              "d.datname = '%s'",
              p->db);
    snprintf(want, sizeof(want), "%lld", (long long)fnv_key("deliver-clicks"));
    CHECK_STR(got, want);
    catalog_unlock(l);
    catalog_close(c);
}

BOTH(leases_move_to_another_holder_after_expiry)
{
    struct place *p = place_new(be);
    struct catalog *c = cat_open(p, 0);
    struct catalog_lease l;
    struct catalog_txn *t;
    struct sl_arena a;
    struct sl_diag d;
    int64_t e1, e2, e3;

    sl_arena_init(&a, 0);
    t = rbegin(c);
    CHECK_INT(catalog_lease_get(t, "deliver-clicks", &a, &l, NULL), SL_ERR_NOTFOUND);
    catalog_txn_abort(t);

    t = wbegin(c);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-a", "http://a", 60000, &e1, NULL),
              0);
    commit(t);
    CHECK_INT(e1, 1);
    /* Renewed by its holder: same epoch. */
    t = wbegin(c);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-a", "http://a", 300, &e1, NULL), 0);
    commit(t);
    CHECK_INT(e1, 1);
    t = rbegin(c);
    CHECK_INT(catalog_lease_get(t, "deliver-clicks", &a, &l, NULL), 0);
    catalog_txn_abort(t);
    CHECK_STR(l.holder, "node-a");
    CHECK_STR(l.info, "http://a");
    CHECK(l.expires_ms > l.now_ms && l.expires_ms - l.now_ms <= 300);
    /* Held: another node is told by whom. */
    sl_diag_init(&d);
    t = wbegin(c);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-b", "http://b", 60000, &e2, &d),
              SL_ERR_BUSY);
    CHECK_HAS(d.msg, "held by node-a (http://a)");
    catalog_txn_abort(t);
    /* Expired: node-b takes it over, with a new epoch. */
    ms_sleep(400);
    t = wbegin(c);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-b", "http://b", 60000, &e2, NULL),
              0);
    commit(t);
    CHECK_INT(e2, 2);
    /* The old holder can no longer commit work under it. */
    sl_diag_init(&d);
    t = wbegin(c);
    CHECK_INT(catalog_lease_check(t, "deliver-clicks", "node-a", e1, &d), SL_ERR_CONFLICT);
    CHECK_HAS(d.msg, "no longer held by node-a");
    CHECK(catalog_txn_failed(t));
    catalog_txn_abort(t);
    t = wbegin(c);
    CHECK_INT(catalog_lease_check(t, "deliver-clicks", "node-b", e2, NULL), 0);
    /* Released: free at once for the next one. */
    CHECK_INT(catalog_lease_release(t, "deliver-clicks", "node-b", NULL), 0);
    commit(t);
    t = wbegin(c);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-c", "", 60000, &e3, NULL), 0);
    commit(t);
    CHECK_INT(e3, 3);
    sl_arena_release(&a);
    catalog_close(c);
}

/* ---- copying ------------------------------------------------------------------------ */

struct counted {
    int64_t n;
};

static int
count_row(void *arg, const struct catalog_row *r)
{
    ((struct counted *)arg)->n = cat_int(r, 0);
    return 0;
}

/* Rows of every table of the schema, and their sum. */
static int64_t
count_tables(struct catalog *c, int64_t *per)
{
    struct catalog_txn *t = rbegin(c);
    int64_t sum = 0;

    for (int i = 0; catalog_tables[i] != NULL; i++) {
        char sql[128];
        struct counted k = {-1};

        snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", catalog_tables[i]);
        CHECK(cat_run_once(t, NULL, "count", sql, NULL, 0, count_row, &k) >= 0);
        per[i] = k.n;
        sum += k.n;
    }
    catalog_txn_abort(t);
    return sum;
}

static void
fill(struct catalog *c)
{
    struct raw_object o1 = raw("s", "a", 100), o2 = raw("s", "b", 200), o3 = raw("u", "a", 50);
    struct curated_file fa = {"a", "t", "2026-10-01", 10, 100, 2, 1, 0};
    struct curated_delete x = {"x", "t", 1, 10, 2};
    struct catalog_pending st = {2, 1, CATALOG_PUBLISH, NULL, "x"};
    struct catalog_stream s = {"clicks", "kinesis", "PROVISIONED", 2,    24,     1048576, 0,
                               0,        NULL,      1 << 20,       1000, "none", true,    111};
    struct run_record r1 = run(0, "s", NULL), r2 = run(0, "s", "held");
    struct catalog_txn *t;
    int64_t epoch;

    CHECK_INT(catalog_run_next_id(c, &r1.run_id, NULL), 0);
    CHECK_INT(catalog_run_next_id(c, &r2.run_id, NULL), 0);
    CHECK_INT(catalog_run_next_id(c, &epoch, NULL), 0); /* an id used by no run */
    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "s", "crm", NULL), 0);
    CHECK_INT(catalog_contract_put(t, "s", "1.0", 1, 0, "{'it''s': \"quoted\" ?1}", NULL), 0);
    CHECK_INT(catalog_raw_add(t, &o1, NULL), 0);
    CHECK_INT(catalog_raw_add(t, &o2, NULL), 0);
    CHECK_INT(catalog_raw_add(t, &o3, NULL), 0);
    CHECK_INT(catalog_bookmark_move(t, "s", "transform", 0, 2, NULL), 0);
    CHECK_INT(catalog_run_add(t, &r1, NULL), 0);
    CHECK_INT(catalog_run_add(t, &r2, NULL), 0);
    CHECK_INT(catalog_pending_add(t, &st, NULL), 0);
    put_table(t);
    CHECK_INT(catalog_file_add(t, &fa, NULL), 0);
    CHECK_INT(catalog_delete_add(t, &x, NULL), 0);
    CHECK_INT(catalog_delete_target_add(t, "x", "a", 1, NULL), 0);
    CHECK_INT(catalog_quarantine_add(t, "q", "s", 1, 2, NULL), 0);
    CHECK_INT(catalog_stream_add(t, &s, NULL), 0);
    CHECK_INT(catalog_delivery_set(t, "clicks", 0, 111, 9, NULL), 0);
    CHECK_INT(catalog_lease_acquire(t, "deliver-clicks", "node-a", "", 1000, &epoch, NULL), 0);
    commit(t);
}

PG(copy_from_sqlite_to_postgresql_and_back)
{
    struct place *ps = place_new(BE_SQLITE), *pp = place_new(BE_PG), *ps2 = place_new(BE_SQLITE);
    struct catalog *src = cat_open(ps, 0), *dst = cat_open(pp, 0), *back = cat_open(ps2, 0);
    int64_t a[32], b[32], rows, sum, id;
    struct raw_object o = raw("s", "c", 1);
    struct catalog_txn *t;
    struct sl_arena ar;
    struct sl_diag d;
    char *spec;

    fill(src);
    sum = count_tables(src, a);
    CHECK(sum > 20);
    CHECK_INT(catalog_copy(src, dst, &rows, NULL), 0);
    CHECK_INT(rows, sum);
    CHECK_INT(count_tables(dst, b), sum);
    for (int i = 0; catalog_tables[i] != NULL; i++)
        CHECK_INT(b[i], a[i]);
    /* Text survives as it was, quotes and all. */
    sl_arena_init(&ar, 0);
    t = rbegin(dst);
    CHECK_INT(catalog_contract_get(t, "s", "1.0", &ar, &spec, NULL), 0);
    CHECK_STR(spec, "{'it''s': \"quoted\" ?1}");
    catalog_txn_abort(t);
    sl_arena_release(&ar);
    /* The counters continue after the copied ids. */
    CHECK_INT(catalog_run_next_id(dst, &id, NULL), 0);
    CHECK_INT(id, 4);
    t = wbegin(dst);
    CHECK_INT(catalog_raw_add(t, &o, NULL), 0);
    commit(t);
    CHECK_INT(o.seq, 4);
    CHECK_INT(o.arrived_at, 202); /* after the last arrival copied, 201 */
    /* A catalog that holds something is not a target. */
    sl_diag_init(&d);
    CHECK_INT(catalog_copy(src, dst, &rows, &d), SL_ERR_EXISTS);
    CHECK_HAS(d.msg, "is not empty");
    /* And back into SQLite. */
    sum = count_tables(dst, a);
    CHECK_INT(catalog_copy(dst, back, &rows, NULL), 0);
    CHECK_INT(rows, sum);
    CHECK_INT(count_tables(back, b), sum);
    for (int i = 0; catalog_tables[i] != NULL; i++)
        CHECK_INT(b[i], a[i]);
    CHECK_INT(catalog_run_next_id(back, &id, NULL), 0);
    CHECK_INT(id, 5);
    catalog_close(back);
    catalog_close(dst);
    catalog_close(src);
}

/* ---- connections --------------------------------------------------------------------- */

/* A loopback port nothing listens on. */
static int
closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(fd >= 0);
    CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_INT(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

TEST(an_unreachable_server_is_named_with_what_failed_pg)
{
    char loc[128], want[128];
    struct catalog *c;
    struct sl_diag d;
    int port = closed_port();

    snprintf(loc, sizeof(loc), "postgresql://sluice@127.0.0.1:%d/lake", port);
    sl_diag_init(&d);
    CHECK_INT(catalog_open(loc, 0, &c, &d), SL_ERR_UNAVAILABLE);
    snprintf(want, sizeof(want),
             "cannot connect to the PostgreSQL catalog: database 'lake' on 127.0.0.1:%d: "
             "connection refused",
             port);
    CHECK_STR(d.msg, want);
    CHECK_HAS(d.hint, "running on 127.0.0.1");
    /* The same as a key=value string. */
    snprintf(loc, sizeof(loc), "host=127.0.0.1 port=%d dbname=lake user=sluice", port);
    sl_diag_init(&d);
    CHECK_INT(catalog_open(loc, 0, &c, &d), SL_ERR_UNAVAILABLE);
    CHECK_STR(d.msg, want);
}

/* Open a location on the test server as user (NULL: the test role). */
static int
open_as(const char *user, const char *db, struct sl_diag *d)
{
    char loc[300];
    struct catalog *c;
    int rc;

    snprintf(loc, sizeof(loc), "postgresql://%s@%s/%s", user, pg_hostport, db);
    sl_diag_init(d);
    rc = catalog_open(loc, 0, &c, d);
    if (rc == 0)
        catalog_close(c);
    return rc;
}

PG(wrong_credentials_are_named)
{
    const char *user = getenv("SLUICE_PG_PW_USER"), *pw = getenv("SLUICE_PG_PW_PASSWORD");
    struct place *p = place_new(BE_PG);
    struct sl_diag d;
    char where[200];

    if (user == NULL || pw == NULL)
        SKIP("SLUICE_PG_PW_USER and SLUICE_PG_PW_PASSWORD are not set");
    admin_sql(NULL, 0, "ALTER DATABASE %s OWNER TO %s", p->db, user);
    snprintf(where, sizeof(where), "database '%s' on %s", p->db, pg_hostport);
    setenv("PGPASSFILE", "/nonexistent/pgpass", 1);
    setenv("PGPASSWORD", "not-the-password", 1);
    CHECK_INT(open_as(user, p->db, &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "cannot connect to the PostgreSQL catalog");
    CHECK_HAS(d.msg, where);
    CHECK_HAS(d.msg, "password authentication failed for role");
    CHECK_HAS(d.hint, "PGPASSWORD");
    CHECK(strstr(d.msg, "not-the-password") == NULL);
    unsetenv("PGPASSWORD");
    CHECK_INT(open_as(user, p->db, &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, where);
    CHECK_HAS(d.msg, "none was supplied");
    /* The right one, from the environment as libpq reads it. */
    setenv("PGPASSWORD", pw, 1);
    CHECK_INT(open_as(user, p->db, &d), 0);
    unsetenv("PGPASSWORD");
    unsetenv("PGPASSFILE");
}

PG(a_missing_database_is_named)
{
    struct sl_diag d;
    char want[200];

    CHECK_INT(open_as(getenv("SLUICE_PG_USER") ? getenv("SLUICE_PG_USER") : "sluice",
                      "sl_no_such_database", &d),
              SL_ERR_CATALOG);
    snprintf(want, sizeof(want),
             "cannot connect to the PostgreSQL catalog: database 'sl_no_such_database' on "
             "%s: the database does not exist",
             pg_hostport);
    CHECK_STR(d.msg, want);
    CHECK_HAS(d.hint, "createdb");
}

PG(a_role_without_permission_is_named)
{
    const char *user = getenv("SLUICE_PG_NOPERM_USER");
    struct place *p = place_new(BE_PG);
    struct sl_diag d;
    char where[200], who[100];

    if (user == NULL)
        SKIP("SLUICE_PG_NOPERM_USER is not set");
    CHECK_INT(open_as(user, p->db, &d), SL_ERR_CATALOG);
    snprintf(where, sizeof(where), "catalog database '%s' on %s", p->db, pg_hostport);
    snprintf(who, sizeof(who), "role '%s' lacks permission on the database", user);
    CHECK_HAS(d.msg, where);
    CHECK_HAS(d.msg, who);
    CHECK_HAS(d.msg, "permission denied for schema public");
    CHECK_HAS(d.hint, "GRANT");
    /* A schema it cannot read (created by another role) fails the same way. */
    catalog_close(cat_open(p, 0));
    CHECK_INT(open_as(user, p->db, &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, who);
    CHECK_HAS(d.msg, "permission denied for table meta");
}

PG(a_lost_connection_is_reopened_unless_it_held_locks)
{
    struct place *p = place_new(BE_PG);
    struct catalog *c = cat_open(p, 0);
    struct catalog_lock *l;
    struct catalog_txn *t;
    struct sl_diag d;
    struct names n = {""};
    uint64_t session = c->session;
    char want[200];

    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "a", "crm", NULL), 0);
    commit(t);

    /* Between transactions: begin reconnects, statements are prepared
     * again on the new session. */
    kill_sessions(p);
    t = wbegin(c);
    CHECK(c->session > session);
    CHECK_INT(catalog_source_put(t, "b", "crm", NULL), 0);
    commit(t);

    /* Inside one: the statement fails, the transaction is gone. */
    t = wbegin(c);
    kill_sessions(p);
    sl_diag_init(&d);
    CHECK_INT(catalog_source_put(t, "c", "crm", &d), SL_ERR_CATALOG);
    snprintf(want, sizeof(want), "the connection to %s was lost", pg_hostport);
    CHECK_HAS(d.msg, want);
    catalog_txn_abort(t);

    /* During the commit: nobody can tell whether it happened. */
    t = wbegin(c);
    CHECK_INT(catalog_source_put(t, "d", "crm", NULL), 0);
    kill_sessions(p);
    sl_diag_init(&d);
    CHECK_INT(catalog_txn_commit(t, &d), SL_ERR_INDOUBT);
    CHECK_HAS(d.msg, "the outcome is unknown");

    /* With a lock held: the lock died with the session; no reconnect. */
    CHECK_INT(catalog_lock(c, "transform-s", false, &l, NULL), 0);
    kill_sessions(p);
    sl_diag_init(&d);
    CHECK_INT(catalog_txn_begin(c, CATALOG_WRITE, &t, &d), SL_ERR_CATALOG);
    CHECK_HAS(d.msg, "was lost, and with it the locks this process held");
    CHECK(!catalog_lock_held(l));
    catalog_unlock(l);
    /* Once the dead lock is let go, the catalog reconnects. */
    t = wbegin(c);
    CHECK_INT(catalog_source_list(t, add_name, &n, NULL), 0);
    commit(t);
    CHECK_STR(n.s, "a,b");
    CHECK_INT(catalog_lock(c, "transform-s", false, &l, NULL), 0);
    CHECK(catalog_lock_held(l));
    catalog_unlock(l);
    catalog_close(c);
}
