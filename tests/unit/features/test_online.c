/*
 * test_online.c - the online store (features/online*.c): the same checks
 * on both back ends - round trip, newer event time wins (a replay does not
 * overwrite, an equal event time lets the later put win, also within one
 * batch and among concurrent writers), TTL on read, unknown entities
 * absent, delete, a batch of 100, reopening after close, refusals - and
 * what only one of them has: LMDB's map growth, Redis's words for a server
 * that is gone, its retry on a fresh connection, NOSCRIPT, passwords,
 * databases, and its key layout.
 *
 * The Redis cases run against a real redis-server this binary starts on a
 * free loopback port with a temporary folder and no persistence, waits for
 * by connecting, and stops at exit (the server also dies with this process,
 * PR_SET_PDEATHSIG).  The binary is /usr/bin/redis-server (Debian's
 * redis-server package) or SLUICE_REDIS_SERVER; if it is missing the Redis
 * cases fail - scripts/setup.sh test installs it.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/diag.h"
#include "core/fs.h"
#include "core/mem.h"
#include "features/online.h"
#include "features/online_int.h"
#include "test.h"

#define NOW 1767225600000LL /* 2026-01-01T00:00:00Z */

static struct sl_diag d;

/* Fail the running case with a message. */
#define FAILF(...)                                                                                 \
    do {                                                                                           \
        snprintf(test_why, sizeof(test_why), __VA_ARGS__);                                         \
        longjmp(test_jmp, 1);                                                                      \
    } while (0)

/* ---- a redis-server of our own ----------------------------------------------- */

static pid_t redis_pid;
static int redis_port;
static char redis_dir[PATH_MAX];
static char redis_url[64];

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A port nobody listens on now (the kernel's pick); a race with another
 * process shows as a server that exits at once, and another port is tried. */
static int
free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* A connection of the test's own (not the store's), or NULL. */
static redisContext *
admin_connect(int port)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

    if (c != NULL && c->err) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

/* Whether a server answers PING on port. */
static bool
redis_answers(int port)
{
    redisContext *c = admin_connect(port);
    redisReply *rep = c ? redisCommand(c, "PING") : NULL;
    bool ok = rep != NULL && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;

    if (rep != NULL)
        freeReplyObject(rep);
    if (c != NULL)
        redisFree(c);
    return ok;
}

static void
redis_kill(void)
{
    if (redis_pid > 0) {
        kill(redis_pid, SIGTERM);
        waitpid(redis_pid, NULL, 0);
        redis_pid = 0;
    }
}

static void
redis_cleanup(void)
{
    redis_kill();
    if (redis_dir[0] != '\0')
        sl_rmtree(redis_dir);
}

/* Start redis-server on port (0: a free one); false if it exited (the port
 * was taken).  Waits until it answers, at most 30 s. */
static bool
redis_launch(const char *bin, int port)
{
    char portbuf[16], logpath[PATH_MAX + 16];
    pid_t parent = getpid();
    int status;

    redis_port = port ? port : free_port();
    if (redis_port < 0)
        FAILF("no free loopback port: %s", strerror(errno));
    snprintf(portbuf, sizeof(portbuf), "%d", redis_port);
    snprintf(logpath, sizeof(logpath), "%s/log", redis_dir);
    fflush(NULL);
    redis_pid = fork();
    if (redis_pid < 0)
        FAILF("fork: %s", strerror(errno));
    if (redis_pid == 0) {
        FILE *log = fopen(logpath, "a");

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (log != NULL) {
            dup2(fileno(log), 1);
            dup2(fileno(log), 2);
        }
        execl(bin, bin, "--port", portbuf, "--bind", "127.0.0.1", "--save", "", "--appendonly",
              "no", "--dir", redis_dir, (char *)NULL);
        _exit(127);
    }
    for (int waited = 0; waited < 30000; waited += 10) {
        if (redis_answers(redis_port))
            return true;
        if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
            redis_pid = 0;
            return false;
        }
        sleep_ms(10);
    }
    FAILF("redis-server on 127.0.0.1:%d did not answer within 30 s (log: %s)", redis_port, logpath);
}

static const char *
redis_bin(void)
{
    const char *bin = getenv("SLUICE_REDIS_SERVER");

    bin = bin && *bin ? bin : "/usr/bin/redis-server";
    if (access(bin, X_OK) != 0)
        FAILF("no redis-server at %s (install Debian's redis-server package: "
              "scripts/setup.sh test; or set SLUICE_REDIS_SERVER)",
              bin);
    return bin;
}

/* The server's URL, started on first use. */
static const char *
redis_start(void)
{
    const char *bin;

    if (redis_pid > 0)
        return redis_url;
    bin = redis_bin();
    if (redis_dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");

        snprintf(redis_dir, sizeof(redis_dir), "%s/sluice-redis.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(redis_dir) == NULL)
            FAILF("mkdtemp %s: %s", redis_dir, strerror(errno));
        atexit(redis_cleanup);
    }
    for (int tries = 0; !redis_launch(bin, 0); tries++)
        if (tries == 10)
            FAILF("redis-server would not start on a free port (log: %s/log)", redis_dir);
    snprintf(redis_url, sizeof(redis_url), "redis://127.0.0.1:%d", redis_port);
    return redis_url;
}

/* Run a command on the test server through a connection of our own; the
 * reply (caller frees) must not be an error. */
static redisReply *
admin(const char *fmt, ...)
{
    redisContext *c = admin_connect(redis_port);
    redisReply *rep;
    va_list ap;

    if (c == NULL)
        FAILF("cannot connect to the test's redis-server on port %d", redis_port);
    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        snprintf(test_why, sizeof(test_why), "redis %s: %s", fmt, rep ? rep->str : "lost");
        if (rep != NULL)
            freeReplyObject(rep);
        longjmp(test_jmp, 1);
    }
    return rep;
}

/* ---- one store per case, on the back end of the case ------------------------ */

enum kind { LMDB, REDIS };

static enum kind kind;
static char lake[PATH_MAX];

static void
lake_cleanup(void)
{
    if (lake[0] != '\0')
        sl_rmtree(lake);
}

/* The store of the running case, opened again (after online_close()). */
static struct online *
reopen(void)
{
    struct online *o = NULL;

    sl_diag_init(&d);
    if (online_open(kind == REDIS ? redis_url : NULL, lake, &o, &d) != 0)
        FAILF("online_open (%s): %s", kind == REDIS ? "redis" : "lmdb", d.msg);
    CHECK_STR(online_kind(o), kind == REDIS ? "redis" : "lmdb");
    return o;
}

/* An empty store on back end k. */
static struct online *
fresh(enum kind k)
{
    const char *tmp = getenv("TMPDIR");

    kind = k;
    if (k == REDIS) {
        redis_start();
        freeReplyObject(admin("FLUSHALL"));
    } else {
        if (lake[0] == '\0')
            atexit(lake_cleanup);
        else
            sl_rmtree(lake);
        snprintf(lake, sizeof(lake), "%s/sluice-online.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(lake) == NULL)
            FAILF("mkdtemp %s: %s", lake, strerror(errno));
    }
    return reopen();
}

/* Each check runs once per back end, as lmdb_<name> and redis_<name>. */
#define BOTH(name)                                                                                 \
    static void check_##name(struct online *o);                                                    \
    TEST(lmdb_##name)                                                                              \
    {                                                                                              \
        check_##name(fresh(LMDB));                                                                 \
    }                                                                                              \
    TEST(redis_##name)                                                                             \
    {                                                                                              \
        check_##name(fresh(REDIS));                                                                \
    }                                                                                              \
    static void check_##name(struct online *o)

/* ---- helpers ------------------------------------------------------------------ */

static int
put(struct online *o, const char *group, int64_t version, const char *entity, int64_t event,
    int64_t written, const char *json)
{
    struct online_record r = {group, version, entity, event, written, json};
    int rc;

    sl_diag_init(&d);
    rc = online_put(o, &r, 1, &d);
    if (rc < 0)
        FAILF("online_put %s/%lld/%s: %s", group, (long long)version, entity, d.msg);
    return rc;
}

/* What a get found: index, times and values of each callback. */
#define GOT_MAX 200
struct got {
    int n;
    size_t idx[GOT_MAX];
    int64_t event[GOT_MAX], written[GOT_MAX];
    char json[GOT_MAX][128];
    int stop_after; /* > 0: return -1 from that callback on */
};

static int
collect(void *arg, size_t i, const struct online_record *rec)
{
    struct got *g = arg;

    if (g->n >= GOT_MAX)
        return -E2BIG;
    g->idx[g->n] = i;
    g->event[g->n] = rec->event_ms;
    g->written[g->n] = rec->written_ms;
    snprintf(g->json[g->n], sizeof(g->json[0]), "%s", rec->values_json);
    g->n++;
    return g->stop_after > 0 && g->n >= g->stop_after ? -1 : 0;
}

static void
get_many(struct online *o, const char *group, int64_t version, const char *const *entities,
         size_t n, int64_t ttl, struct got *g)
{
    int rc;

    memset(g, 0, sizeof(*g));
    sl_diag_init(&d);
    rc = online_get(o, group, version, entities, n, ttl, NOW, collect, g, &d);
    if (rc != 0)
        FAILF("online_get %s/%lld: %d %s", group, (long long)version, rc, d.msg);
}

/* The values of one entity, or "(none)". */
static const char *
get1(struct online *o, const char *group, int64_t version, const char *entity, int64_t ttl)
{
    static struct got g;

    get_many(o, group, version, &entity, 1, ttl, &g);
    return g.n ? g.json[0] : "(none)";
}

static int64_t
count(struct online *o, const char *group, int64_t version)
{
    int64_t n = -1;

    sl_diag_init(&d);
    if (online_count(o, group, version, &n, &d) != 0)
        FAILF("online_count %s/%lld: %s", group, (long long)version, d.msg);
    return n;
}

/* ---- the same checks on both back ends ------------------------------------ */

BOTH(round_trip)
{
    /* An entity of odd bytes, values with spaces and non-ASCII text. */
    const char *odd = "a:b c/\xc3\xa9\t#count";
    const char *both[] = {"u1", "u2"};
    struct got g;

    CHECK_INT(put(o, "users", 1, "u1", NOW - 10, NOW - 5, "{\"age\": 31}"), 1);
    CHECK_INT(
        put(o, "users", 1, "u2", NOW - 20, NOW - 6, "{\"age\": 42, \"city\": \"K\xc3\xb6ln\"}"), 1);
    CHECK_INT(put(o, "users", 2, "u1", NOW - 30, NOW - 7, "{\"age_v2\": 31}"), 1);
    CHECK_INT(put(o, "users.eu", 1, "u1", NOW - 40, NOW - 8, "{}"), 1);
    CHECK_INT(put(o, "users", 1, odd, NOW, NOW, "{\"x\": \"a b  c\"}"), 1);

    get_many(o, "users", 1, both, 2, 0, &g);
    CHECK_INT(g.n, 2);
    CHECK_INT(g.idx[0], 0);
    CHECK_INT(g.event[0], NOW - 10);
    CHECK_INT(g.written[0], NOW - 5);
    CHECK_STR(g.json[0], "{\"age\": 31}");
    CHECK_INT(g.idx[1], 1);
    CHECK_INT(g.event[1], NOW - 20);
    CHECK_INT(g.written[1], NOW - 6);
    CHECK_STR(g.json[1], "{\"age\": 42, \"city\": \"K\xc3\xb6ln\"}");
    /* Versions and groups are apart. */
    CHECK_STR(get1(o, "users", 2, "u1", 0), "{\"age_v2\": 31}");
    CHECK_STR(get1(o, "users", 2, "u2", 0), "(none)");
    CHECK_STR(get1(o, "users.eu", 1, "u1", 0), "{}");
    CHECK_STR(get1(o, "users", 1, odd, 0), "{\"x\": \"a b  c\"}");
    CHECK_INT(count(o, "users", 1), 3);
    CHECK_INT(count(o, "users", 2), 1);
    CHECK_INT(count(o, "users", 3), 0);
    online_close(o);
}

BOTH(newer_wins)
{
    struct online_record batch[] = {
        {"g", 1, "e", NOW + 3000, NOW, "{\"v\": \"x\"}"},
        {"g", 1, "e", NOW + 2500, NOW, "{\"v\": \"y\"}"}, /* older than x: dropped */
        {"g", 1, "e", NOW + 3000, NOW, "{\"v\": \"z\"}"}, /* as new as x, later: wins */
        {"g", 1, "f", NOW + 1, NOW, "{\"v\": \"f\"}"},
    };
    struct got g;

    CHECK_INT(put(o, "g", 1, "e", NOW + 2000, NOW, "{\"v\": 2}"), 1);
    /* A replay of older values changes nothing. */
    CHECK_INT(put(o, "g", 1, "e", NOW + 1000, NOW + 99, "{\"v\": 1}"), 0);
    CHECK_STR(get1(o, "g", 1, "e", 0), "{\"v\": 2}");
    /* The same event time again: the later put wins. */
    CHECK_INT(put(o, "g", 1, "e", NOW + 2000, NOW + 1, "{\"v\": \"2b\"}"), 1);
    get_many(o, "g", 1, (const char *[]){"e"}, 1, 0, &g);
    CHECK_STR(g.json[0], "{\"v\": \"2b\"}");
    CHECK_INT(g.written[0], NOW + 1);
    /* Within one batch, a later element is a later put. */
    sl_diag_init(&d);
    CHECK_INT(online_put(o, batch, 4, &d), 3);
    CHECK_STR(get1(o, "g", 1, "e", 0), "{\"v\": \"z\"}");
    CHECK_STR(get1(o, "g", 1, "f", 0), "{\"v\": \"f\"}");
    CHECK_INT(count(o, "g", 1), 2);
    online_close(o);
}

BOTH(ttl_on_read)
{
    CHECK_INT(put(o, "g", 1, "old", NOW - 5000, NOW - 4000, "{\"a\": 1}"), 1);
    CHECK_INT(put(o, "g", 1, "future", NOW + 1000, NOW, "{\"a\": 2}"), 1);
    CHECK_STR(get1(o, "g", 1, "old", 10000), "{\"a\": 1}");
    CHECK_STR(get1(o, "g", 1, "old", 5000), "{\"a\": 1}"); /* exactly ttl old: fresh */
    CHECK_STR(get1(o, "g", 1, "old", 4999), "(none)");
    CHECK_STR(get1(o, "g", 1, "old", 0), "{\"a\": 1}"); /* no TTL */
    CHECK_STR(get1(o, "g", 1, "old", -1), "{\"a\": 1}");
    CHECK_STR(get1(o, "g", 1, "future", 1), "{\"a\": 2}");
    /* Expired is not deleted: still counted, served again without a TTL. */
    CHECK_INT(count(o, "g", 1), 2);
    online_close(o);
}

BOTH(unknown_absent)
{
    const char *ents[] = {"a", "b", "c", "zz", "a"};
    struct got g;

    put(o, "g", 1, "a", NOW, NOW, "{\"n\": \"a\"}");
    put(o, "g", 1, "c", NOW, NOW, "{\"n\": \"c\"}");
    get_many(o, "g", 1, ents, 5, 0, &g);
    CHECK_INT(g.n, 3);
    CHECK_INT(g.idx[0], 0);
    CHECK_INT(g.idx[1], 2);
    CHECK_INT(g.idx[2], 4);
    CHECK_STR(g.json[1], "{\"n\": \"c\"}");
    get_many(o, "nosuchgroup", 1, ents, 5, 0, &g);
    CHECK_INT(g.n, 0);
    get_many(o, "g", 7, ents, 5, 0, &g);
    CHECK_INT(g.n, 0);
    online_close(o);
}

BOTH(delete)
{
    struct online_record r[] = {
        {"g", 1, "a", NOW, NOW, "{}"},
        {"g", 1, "b", NOW, NOW, "{}"},
    };

    sl_diag_init(&d);
    CHECK_INT(online_put(o, r, 2, &d), 2);
    CHECK_INT(count(o, "g", 1), 2);
    CHECK_INT(online_delete(o, "g", 1, "a", &d), 1);
    CHECK_STR(get1(o, "g", 1, "a", 0), "(none)");
    CHECK_STR(get1(o, "g", 1, "b", 0), "{}");
    CHECK_INT(count(o, "g", 1), 1);
    CHECK_INT(online_delete(o, "g", 1, "a", &d), 0);
    CHECK_INT(online_delete(o, "g", 2, "b", &d), 0);
    CHECK_INT(count(o, "g", 1), 1);
    /* No tombstone: an older record may come back after a delete. */
    CHECK_INT(put(o, "g", 1, "a", NOW - 100000, NOW, "{\"back\": 1}"), 1);
    CHECK_STR(get1(o, "g", 1, "a", 0), "{\"back\": 1}");
    CHECK_INT(count(o, "g", 1), 2);
    CHECK_INT(online_delete(o, "g", 1, "a", &d), 1);
    CHECK_INT(online_delete(o, "g", 1, "b", &d), 1);
    CHECK_INT(count(o, "g", 1), 0);
    online_close(o);
}

BOTH(batch_of_100)
{
    struct online_record recs[100];
    char names[100][16], json[100][32];
    const char *ents[100];
    static struct got g;
    int rc;

    for (int i = 0; i < 100; i++) {
        snprintf(names[i], sizeof(names[i]), "customer-%03d", i);
        snprintf(json[i], sizeof(json[i]), "{\"i\": %d}", i);
        recs[i] = (struct online_record){"customers", 3, names[i], NOW - i, NOW, json[i]};
        ents[99 - i] = names[i]; /* asked for in reverse */
    }
    sl_diag_init(&d);
    CHECK_INT(online_put(o, recs, 100, &d), 100);
    CHECK_INT(count(o, "customers", 3), 100);
    get_many(o, "customers", 3, ents, 100, 0, &g);
    CHECK_INT(g.n, 100);
    for (int k = 0; k < 100; k++) {
        char want[32];

        CHECK_INT(g.idx[k], k);
        snprintf(want, sizeof(want), "{\"i\": %d}", 99 - k);
        CHECK_STR(g.json[k], want);
        CHECK_INT(g.event[k], NOW - (99 - k));
    }
    /* TTL of 49 ms: customers 0..49 are fresh. */
    get_many(o, "customers", 3, ents, 100, 49, &g);
    CHECK_INT(g.n, 50);
    /* A callback's negative return stops the get and is returned. */
    memset(&g, 0, sizeof(g));
    g.stop_after = 3;
    rc = online_get(o, "customers", 3, ents, 100, 0, NOW, collect, &g, &d);
    CHECK_INT(rc, -1);
    CHECK_INT(g.n, 3);
    online_close(o);
}

BOTH(reopen_keeps_data)
{
    put(o, "g", 4, "kept", NOW - 1, NOW, "{\"kept\": true}");
    put(o, "g", 4, "gone", NOW - 1, NOW, "{}");
    sl_diag_init(&d);
    CHECK_INT(online_delete(o, "g", 4, "gone", &d), 1);
    online_close(o);
    o = reopen();
    CHECK_STR(get1(o, "g", 4, "kept", 0), "{\"kept\": true}");
    CHECK_STR(get1(o, "g", 4, "gone", 0), "(none)");
    CHECK_INT(count(o, "g", 4), 1);
    /* The newer-wins rule holds across the restart. */
    CHECK_INT(put(o, "g", 4, "kept", NOW - 2, NOW, "{\"kept\": false}"), 0);
    CHECK_STR(get1(o, "g", 4, "kept", 0), "{\"kept\": true}");
    online_close(o);
}

BOTH(refusals)
{
    char longent[ONLINE_ENTITY_MAX + 2];
    struct online_record ok = {"g", 1, "a", NOW, NOW, "{}"};
    struct online_record bad[2] = {ok, ok};
    int64_t n;

    memset(longent, 'x', sizeof(longent) - 1);
    longent[sizeof(longent) - 1] = '\0';
#define REFUSE(rc_want, words, ...)                                                                \
    do {                                                                                           \
        sl_diag_init(&d);                                                                          \
        CHECK_INT(__VA_ARGS__, rc_want);                                                           \
        CHECK_HAS(d.msg, words);                                                                   \
    } while (0)
    bad[1].group = "a:b";
    REFUSE(SL_ERR_INPUT, "has a character other than", online_put(o, bad, 2, &d));
    CHECK_INT(d.record, 2);
    bad[1].group = "";
    REFUSE(SL_ERR_INPUT, "is empty", online_put(o, bad, 2, &d));
    bad[1].group = "g";
    bad[1].version = 0;
    REFUSE(SL_ERR_INPUT, "is not >= 1", online_put(o, bad, 2, &d));
    bad[1].version = 1;
    bad[1].entity = "";
    REFUSE(SL_ERR_INPUT, "entity key is empty", online_put(o, bad, 2, &d));
    bad[1].entity = longent;
    REFUSE(SL_ERR_LIMIT, "longer than 256", online_put(o, bad, 2, &d));
    bad[1].entity = "a";
    bad[1].event_ms = ONLINE_MS_MAX + 1;
    REFUSE(SL_ERR_INPUT, "outside the years", online_put(o, bad, 2, &d));
    bad[1].event_ms = NOW;
    bad[1].values_json = NULL;
    REFUSE(SL_ERR_INPUT, "has no values", online_put(o, bad, 2, &d));
    /* Nothing of a refused batch was written. */
    CHECK_INT(count(o, "g", 1), 0);
    REFUSE(SL_ERR_INPUT, "has a character other than",
           online_get(o, "a b", 1, (const char *[]){"a"}, 1, 0, NOW, collect, NULL, &d));
    REFUSE(SL_ERR_LIMIT, "longer than 256",
           online_get(o, "g", 1, (const char *[]){longent}, 1, 0, NOW, collect, NULL, &d));
    REFUSE(SL_ERR_INPUT, "current time",
           online_get(o, "g", 1, (const char *[]){"a"}, 1, 10, INT64_MAX, collect, NULL, &d));
    REFUSE(SL_ERR_INPUT, "is not >= 1", online_delete(o, "g", -1, "a", &d));
    REFUSE(SL_ERR_INPUT, "is empty", online_count(o, "", 1, &n, &d));
    online_close(o);
}

/* Writers racing on one entity with event times in every order: the
 * newest survives, whoever wrote last; readers meanwhile see only whole
 * records. */
#define RACE_THREADS 4
#define RACE_PUTS 150

struct race {
    struct online *o;
    int t;
    int rc;
};

static int
race_check(void *arg, size_t i, const struct online_record *rec)
{
    char want[64];

    snprintf(want, sizeof(want), "{\"event\": %lld}", (long long)rec->event_ms);
    return strcmp(rec->values_json, want) == 0 ? 0 : -EINVAL;
}

static void *
race_writer(void *arg)
{
    struct race *r = arg;
    const char *ent = "hot";

    for (int i = 0; i < RACE_PUTS && r->rc >= 0; i++) {
        /* Thread t writes t, t+4, ... in a scrambled order. */
        int64_t ev = NOW + (int64_t)((i * 37) % RACE_PUTS) * RACE_THREADS + r->t;
        char json[64];
        struct online_record rec = {"race", 1, ent, ev, NOW, json};
        struct sl_diag dd = {0};

        snprintf(json, sizeof(json), "{\"event\": %lld}", (long long)ev);
        r->rc = online_put(r->o, &rec, 1, &dd);
        if (r->rc >= 0)
            r->rc = online_get(r->o, "race", 1, &ent, 1, 0, NOW, race_check, NULL, &dd);
    }
    return NULL;
}

BOTH(concurrent_writers)
{
    pthread_t th[RACE_THREADS];
    struct race r[RACE_THREADS];
    struct got g;
    char want[64];

    for (int t = 0; t < RACE_THREADS; t++) {
        r[t] = (struct race){o, t, 0};
        CHECK_INT(pthread_create(&th[t], NULL, race_writer, &r[t]), 0);
    }
    for (int t = 0; t < RACE_THREADS; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < RACE_THREADS; t++)
        CHECK_INT(r[t].rc >= 0, 1);
    get_many(o, "race", 1, (const char *[]){"hot"}, 1, 0, &g);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.event[0], NOW + (int64_t)(RACE_PUTS - 1) * RACE_THREADS + RACE_THREADS - 1);
    snprintf(want, sizeof(want), "{\"event\": %lld}", (long long)g.event[0]);
    CHECK_STR(g.json[0], want);
    CHECK_INT(count(o, "race", 1), 1);
    online_close(o);
}

/* ---- locations ------------------------------------------------------------------ */

TEST(locations)
{
    struct online_redis_addr a;

#define LOC_OK(loc) CHECK_INT(online_location_check(loc, &d), 0)
#define LOC_BAD(loc, words)                                                                        \
    do {                                                                                           \
        sl_diag_init(&d);                                                                          \
        CHECK_INT(online_location_check(loc, &d), SL_ERR_INPUT);                                   \
        CHECK_HAS(d.msg, words);                                                                   \
    } while (0)
    LOC_OK(NULL);
    LOC_OK("");
    LOC_OK("redis://localhost");
    LOC_OK("redis://10.0.0.7:6380/2");
    LOC_OK("redis://feature_reader@redis.internal:6379/");
    LOC_OK("redis://[::1]:7000");
    LOC_BAD("redis://user:secret@host:6379", "holds a password");
    CHECK_HAS(d.hint, "REDIS_PASSWORD");
    CHECK(strstr(d.msg, "secret") == NULL);
    LOC_BAD("rediss://host", "TLS");
    LOC_BAD("http://host:6379", "is not a redis:// URL");
    LOC_BAD("redis://", "no host");
    LOC_BAD("redis://host:0", "port");
    LOC_BAD("redis://host:65536", "port");
    LOC_BAD("redis://host:+80", "port");
    LOC_BAD("redis://host:", "port");
    LOC_BAD("redis://host/x", "database");
    LOC_BAD("redis://host/1?timeout=3", "query");
    LOC_BAD("redis://[::1", "IPv6");
    LOC_BAD("redis://ho st", "host");
    sl_diag_init(&d);
    CHECK_INT(online_redis_parse("redis://u@[::1]:7000/3", &a, &d), 0);
    CHECK_STR(a.host, "::1");
    CHECK_INT(a.port, 7000);
    CHECK_INT(a.db, 3);
    CHECK_STR(a.user, "u");
    CHECK_INT(online_redis_parse("redis://h", &a, &d), 0);
    CHECK_STR(a.host, "h");
    CHECK_INT(a.port, 6379);
    CHECK_INT(a.db, 0);
    CHECK_STR(a.user, "");
}

/* ---- LMDB only ---------------------------------------------------------------- */

TEST(lmdb_map_grows)
{
    size_t saved = online_lmdb_map_start;
    static char json[8200];
    struct online *o;
    char name[32], path[PATH_MAX + 32];
    struct stat st;
    int64_t n;

    online_lmdb_map_start = 128 << 10; /* 128 KiB: full after a dozen records */
    o = fresh(LMDB);
    memset(json, ' ', sizeof(json) - 1);
    json[0] = '{';
    json[sizeof(json) - 2] = '}';
    /* 300 records of 8 KiB, ten per batch, then one batch of 100. */
    for (int b = 0; b < 20; b++) {
        struct online_record recs[10];
        char names[10][32];

        for (int i = 0; i < 10; i++) {
            snprintf(names[i], sizeof(names[i]), "e%d", b * 10 + i);
            recs[i] = (struct online_record){"big", 1, names[i], NOW, NOW, json};
        }
        sl_diag_init(&d);
        CHECK_INT(online_put(o, recs, 10, &d), 10);
    }
    {
        static struct online_record recs[100];
        static char names[100][32];

        for (int i = 0; i < 100; i++) {
            snprintf(names[i], sizeof(names[i]), "e%d", 200 + i);
            recs[i] = (struct online_record){"big", 1, names[i], NOW, NOW, json};
        }
        sl_diag_init(&d);
        CHECK_INT(online_put(o, recs, 100, &d), 100);
    }
    online_close(o);
    /* Reopened with the small start: LMDB takes the file's size. */
    o = reopen();
    CHECK_INT(count(o, "big", 1), 300);
    for (int i = 0; i < 300; i += 37) {
        snprintf(name, sizeof(name), "e%d", i);
        CHECK(strcmp(get1(o, "big", 1, name, 0), "(none)") != 0);
    }
    sl_diag_init(&d);
    CHECK_INT(online_count(o, "big", 1, &n, &d), 0);
    online_close(o);
    online_lmdb_map_start = saved;
    /* It did grow: 2.4 MB of values in a map that began at 128 KiB. */
    snprintf(path, sizeof(path), "%s/_online/data.mdb", lake);
    CHECK_INT(stat(path, &st), 0);
    CHECK(st.st_size > (2 << 20));
}

TEST(lmdb_layout)
{
    struct online *o = fresh(LMDB);
    char path[PATH_MAX + 32];

    snprintf(path, sizeof(path), "%s/_online", lake);
    CHECK_STR(online_where(o), path);
    snprintf(path, sizeof(path), "%s/_online/data.mdb", lake);
    CHECK(sl_exists(path));
    online_close(o);
    /* Without a lake the embedded store cannot open. */
    sl_diag_init(&d);
    CHECK_INT(online_open(NULL, NULL, &o, &d), SL_ERR_INPUT);
    CHECK_HAS(d.msg, "needs the lake's folder");
    /* A lake that is a file. */
    snprintf(path, sizeof(path), "%s/afile", lake);
    CHECK_INT(sl_write_file(path, "x", 1, &d), 0);
    sl_diag_init(&d);
    CHECK(online_open("", path, &o, &d) < 0);
    CHECK_HAS(d.msg, "afile");
}

/* ---- Redis only --------------------------------------------------------------- */

TEST(redis_layout)
{
    struct online *o = fresh(REDIS);
    redisReply *rep;

    put(o, "users", 2, "u:1", NOW - 3, NOW - 1, "{\"a\": 1}");
    rep = admin("GET sluice:users:v2:u:1");
    CHECK_INT(rep->type, REDIS_REPLY_STRING);
    CHECK_STR(rep->str, "1767225599997 1767225599999 {\"a\": 1}");
    freeReplyObject(rep);
    rep = admin("GET sluice:users:v2#count");
    CHECK_STR(rep->str, "1");
    freeReplyObject(rep);
    /* A key that is not ours to decode: a get says so, a put overwrites it. */
    freeReplyObject(admin("SET sluice:users:v2:bad garbage"));
    sl_diag_init(&d);
    CHECK_INT(
        online_get(o, "users", 2, (const char *[]){"u:1", "bad"}, 2, 0, NOW, collect, NULL, &d),
        SL_ERR_CORRUPT);
    CHECK_HAS(d.msg, "damaged record at 'sluice:users:v2:bad'");
    CHECK_INT(put(o, "users", 2, "bad", NOW, NOW, "{}"), 1);
    CHECK_STR(get1(o, "users", 2, "bad", 0), "{}");
    CHECK_STR(online_where(o), redis_url);
    online_close(o);
}

TEST(redis_database)
{
    struct online *o0 = fresh(REDIS), *o5;
    char url[96];

    snprintf(url, sizeof(url), "%s/5", redis_url);
    sl_diag_init(&d);
    CHECK_INT(online_open(url, NULL, &o5, &d), 0);
    put(o5, "g", 1, "e", NOW, NOW, "{\"db\": 5}");
    CHECK_STR(get1(o0, "g", 1, "e", 0), "(none)");
    CHECK_STR(get1(o5, "g", 1, "e", 0), "{\"db\": 5}");
    online_close(o5);
    snprintf(url, sizeof(url), "%s/999", redis_url);
    sl_diag_init(&d);
    CHECK(online_open(url, NULL, &o5, &d) < 0);
    CHECK_HAS(d.msg, "select a database");
    online_close(o0);
}

TEST(redis_noscript)
{
    struct online *o = fresh(REDIS);

    put(o, "g", 1, "e", NOW, NOW, "{\"v\": 1}");
    freeReplyObject(admin("SCRIPT FLUSH"));
    CHECK_INT(put(o, "g", 1, "e", NOW + 1, NOW, "{\"v\": 2}"), 1);
    CHECK_STR(get1(o, "g", 1, "e", 0), "{\"v\": 2}");
    freeReplyObject(admin("SCRIPT FLUSH"));
    sl_diag_init(&d);
    CHECK_INT(online_delete(o, "g", 1, "e", &d), 1);
    CHECK_INT(count(o, "g", 1), 0);
    online_close(o);
}

TEST(redis_password)
{
    struct online *o = fresh(REDIS);
    struct online_record rec = {"g", 1, "e", NOW, NOW, "{\"auth\": 1}"};
    char url[96], msg_none[SL_DIAG_MSG], hint_wrong[SL_DIAG_AUX], msg_user[SL_DIAG_MSG];
    int rc_none, rc_wrong, rc_right, rc_put = -1, rc_user;
    struct got g = {0};

    online_close(o);
    /* Everything is tried first and checked after the server has no
     * password again, so a failure here does not break the cases after. */
    freeReplyObject(admin("CONFIG SET requirepass sluice-test-pw"));
    unsetenv("REDIS_PASSWORD");
    sl_diag_init(&d);
    rc_none = online_open(redis_url, NULL, &o, &d);
    snprintf(msg_none, sizeof(msg_none), "%s", d.msg);
    setenv("REDIS_PASSWORD", "wrong", 1);
    sl_diag_init(&d);
    rc_wrong = online_open(redis_url, NULL, &o, &d);
    snprintf(hint_wrong, sizeof(hint_wrong), "%s", d.hint);
    setenv("REDIS_PASSWORD", "sluice-test-pw", 1);
    sl_diag_init(&d);
    rc_right = online_open(redis_url, NULL, &o, &d);
    if (rc_right == 0) {
        rc_put = online_put(o, &rec, 1, &d);
        if (rc_put == 1)
            rc_put = online_get(o, "g", 1, &rec.entity, 1, 0, NOW, collect, &g, &d);
        online_close(o);
    }
    /* A user without a password in the environment. */
    unsetenv("REDIS_PASSWORD");
    snprintf(url, sizeof(url), "redis://someone@127.0.0.1:%d", redis_port);
    sl_diag_init(&d);
    rc_user = online_open(url, NULL, &o, &d);
    snprintf(msg_user, sizeof(msg_user), "%s", d.msg);
    {
        redisContext *c = admin_connect(redis_port);
        redisReply *rep;

        CHECK(c != NULL);
        freeReplyObject(redisCommand(c, "AUTH sluice-test-pw"));
        rep = redisCommand(c, "CONFIG SET requirepass %s", "");
        CHECK(rep != NULL && rep->type == REDIS_REPLY_STATUS);
        freeReplyObject(rep);
        redisFree(c);
    }
    CHECK_INT(rc_none, SL_ERR_INPUT);
    CHECK_HAS(msg_none, "NOAUTH");
    CHECK_INT(rc_wrong, SL_ERR_INPUT);
    CHECK_HAS(hint_wrong, "REDIS_PASSWORD");
    CHECK_INT(rc_right, 0);
    CHECK_INT(rc_put, 0);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.json[0], "{\"auth\": 1}");
    CHECK_INT(rc_user, SL_ERR_INPUT);
    CHECK_HAS(msg_user, "REDIS_PASSWORD is not set");
}

/* The server goes away and comes back on the same port: a call in between
 * fails with words naming host:port, and the next one after its return
 * works, though every pooled connection is dead by then. */
TEST(redis_server_restart)
{
    struct online *o = fresh(REDIS);
    char where[64];
    int port = redis_port;
    int rc;

    put(o, "g", 1, "e", NOW, NOW, "{}");
    redis_kill();
    sl_diag_init(&d);
    rc = online_get(o, "g", 1, (const char *[]){"e"}, 1, 0, NOW, collect, NULL, &d);
    CHECK_INT(rc, SL_ERR_UNAVAILABLE);
    CHECK(sl_retryable(rc));
    snprintf(where, sizeof(where), "redis at 127.0.0.1:%d", port);
    CHECK_HAS(d.msg, where);
    CHECK(redis_launch(redis_bin(), port));
    /* No persistence: the record is gone, but the store works again. */
    CHECK_STR(get1(o, "g", 1, "e", 0), "(none)");
    CHECK_INT(put(o, "g", 1, "e", NOW, NOW, "{\"again\": 1}"), 1);
    CHECK_STR(get1(o, "g", 1, "e", 0), "{\"again\": 1}");
    online_close(o);
}

TEST(redis_unreachable)
{
    struct online *o = NULL;
    char url[64], words[64];
    int port = free_port();

    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    sl_diag_init(&d);
    CHECK_INT(online_open(url, NULL, &o, &d), SL_ERR_UNAVAILABLE);
    snprintf(words, sizeof(words), "could not connect to redis at 127.0.0.1:%d", port);
    CHECK_HAS(d.msg, words);
    CHECK_HAS(d.hint, "online_store");
    CHECK(o == NULL);
}
