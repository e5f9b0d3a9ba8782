/*
 * guard.c - signatures, policies and the audit log in front of every API
 * (see guard.h).
 *
 * The keyring (keys.h) is safe for readers while it is refreshed; the
 * SigV4 verifier caches derived signing keys and is told to forget them
 * whenever the keyring changes, so a removed key stops working at once and
 * a changed secret is never matched against a stale key.
 *
 * Refusals are counted per reason (authentication) and per action
 * (authorization).  The audit log is JSON lines, one write(2) each on a
 * file opened O_APPEND, so lines from concurrent requests (and from other
 * nodes' servers writing the same file) never interleave.  Neither the
 * audit log nor any message carries a secret: only key ids, which AWS
 * also treats as not secret.
 */
#include "server/guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/time.h"
#include "server/keys.h"
#include "server/sigv4.h"
#include "core/banned.h"

/* AWS's limit on the difference between a request's date and the
 * server's clock. */
#define SKEW_SECONDS (15 * 60)
/* How often the credentials file is looked at for changes. */
#define REFRESH_MS 1000
#define NSTATUS (SIGV4_PAYLOAD_MISMATCH + 1)

struct guard {
    struct keyring *keys;
    struct sigv4_verifier *sigv4;
    int audit_fd;                 /* -1: no audit log (it could not be opened) */
    char *audit_path;
    const char *const *actions;   /* every action there is, from the API tables */
    size_t nactions;
    _Atomic uint64_t *denied;     /* per action; the last slot for others */
    _Atomic uint64_t unauthenticated[NSTATUS];
    /* Requests must be signed: keys were configured at some point since
     * start-up.  It never goes back: a server whose last key was removed
     * refuses everything rather than serve unsigned requests. */
    atomic_bool required;
    pthread_t refresher;
    bool refreshing;
    pthread_mutex_t mu;           /* guards stop, and serialises refreshes */
    pthread_cond_t wake;
    bool stop;
};

static const char *const status_reason[NSTATUS] = {
    [SIGV4_OK] = "ok",
    [SIGV4_MISSING] = "missing",
    [SIGV4_INCOMPLETE] = "incomplete",
    [SIGV4_UNKNOWN_KEY] = "unknown_key",
    [SIGV4_BAD_SIGNATURE] = "bad_signature",
    [SIGV4_EXPIRED] = "expired",
    [SIGV4_NOT_YET] = "not_yet_valid",
    [SIGV4_WRONG_SCOPE] = "wrong_scope",
    [SIGV4_PAYLOAD_MISMATCH] = "payload_mismatch",
};

bool
guard_loopback(const char *addr)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (addr == NULL)
        return false;
    if (inet_pton(AF_INET, addr, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &v6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

/* ---- the audit log -------------------------------------------------------- */

static void
audit(struct guard *g, const char *event, const char *key_id, const char *action,
      const char *resource, const char *peer, const char *reason)
{
    struct sl_buf b;
    char ts[32];

    if (g->audit_fd < 0)
        return;
    sl_format_timestamp(sl_now_usec(), ts);
    sl_buf_init(&b);
    sl_buf_adds(&b, "{\"time\":");
    sl_buf_add_json_str(&b, ts, strlen(ts));
    sl_buf_adds(&b, ",\"event\":");
    sl_buf_add_json_str(&b, event, strlen(event));
    sl_buf_adds(&b, ",\"key\":");
    sl_buf_add_json_str(&b, key_id ? key_id : "", key_id ? strlen(key_id) : 0);
    if (action != NULL) {
        sl_buf_adds(&b, ",\"action\":");
        sl_buf_add_json_str(&b, action, strlen(action));
    }
    if (resource != NULL) {
        sl_buf_adds(&b, ",\"resource\":");
        sl_buf_add_json_str(&b, resource, strlen(resource));
    }
    sl_buf_adds(&b, ",\"source\":");
    sl_buf_add_json_str(&b, peer ? peer : "", peer ? strlen(peer) : 0);
    sl_buf_adds(&b, ",\"reason\":");
    sl_buf_add_json_str(&b, reason, strlen(reason));
    sl_buf_adds(&b, "}\n");
    if (write(g->audit_fd, b.data, b.len) != (ssize_t)b.len)
        SL_WARN("guard", "cannot write the audit log %s: %s", g->audit_path, strerror(errno));
    sl_buf_release(&b);
}

static int
open_audit(struct guard *g, struct project *p, struct sl_diag *d)
{
    const char *rel = p->config.server.audit_log;
    char *dir;
    int rc;

    g->audit_path = rel[0] == '/' ? sl_strdup(rel) : sl_printf("%s/%s", p->root, rel);
    dir = sl_dirname(g->audit_path);
    rc = sl_mkdirs(dir, 0700, d);
    free(dir);
    if (rc < 0)
        return rc;
    g->audit_fd = open(g->audit_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (g->audit_fd < 0)
        return sl_fail(d, -errno, "cannot open the audit log %s: %s", g->audit_path,
                       strerror(errno));
    return 0;
}

/* ---- keys ----------------------------------------------------------------- */

static bool
secret_of(void *ctx, const char *key_id, char *buf, size_t size)
{
    struct guard *g = ctx;

    return keyring_secret(g->keys, key_id, buf, size);
}

int
guard_reload(struct guard *g, struct sl_diag *d)
{
    bool changed = false;
    int rc;

    pthread_mutex_lock(&g->mu);
    rc = keyring_refresh(g->keys, &changed, d);
    if (rc == 0 && changed) {
        sigv4_forget(g->sigv4);
        if (!keyring_empty(g->keys) && !atomic_exchange(&g->required, true))
            SL_INFO("guard", "keys configured: from now on every API request must be signed");
        SL_INFO("guard", "keys reloaded: %zu key%s", keyring_count(g->keys),
                keyring_count(g->keys) == 1 ? "" : "s");
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

/* Looks at the keys' files every REFRESH_MS.  keyring_refresh() reports a
 * broken file once, not at every look, until it changes again. */
static void *
refresher(void *arg)
{
    struct guard *g = arg;

    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        struct timespec at;
        struct sl_diag d = {0};

        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_nsec += (long)REFRESH_MS * 1000000L;
        at.tv_sec += at.tv_nsec / 1000000000L;
        at.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->wake, &g->mu, &at);
        if (g->stop)
            break;
        pthread_mutex_unlock(&g->mu);
        if (guard_reload(g, &d) < 0)
            SL_ERROR("guard", "keys not reloaded, the previous keys stay: %s", d.msg);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int
guard_open(struct project *p, const char *const *actions, struct guard **out,
           struct sl_diag *d)
{
    struct guard *g = sl_calloc(1, sizeof(*g));
    int rc;

    g->audit_fd = -1;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->wake, NULL);
    g->actions = actions;
    while (g->actions[g->nactions] != NULL)
        g->nactions++;
    g->denied = sl_calloc(g->nactions + 1, sizeof(*g->denied));
    rc = keyring_open(p->credentials, g->actions, &g->keys, d);
    if (rc == 0)
        atomic_init(&g->required, !keyring_empty(g->keys));
    if (rc == 0)
        rc = open_audit(g, p, d);
    if (rc == 0)
        g->sigv4 = sigv4_new(p->config.server.region, SKEW_SECONDS);
    if (rc == 0 && pthread_create(&g->refresher, NULL, refresher, g) == 0)
        g->refreshing = true;
    if (rc < 0) {
        guard_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

void
guard_close(struct guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    if (g->refreshing)
        pthread_join(g->refresher, NULL);
    if (g->audit_fd >= 0)
        close(g->audit_fd);
    sigv4_free(g->sigv4);
    keyring_close(g->keys);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->mu);
    free(g->denied);
    free(g->audit_path);
    free(g);
}

bool
guard_keys(const struct guard *g)
{
    return g != NULL && atomic_load(&g->required);
}

size_t
guard_key_count(const struct guard *g)
{
    return g != NULL ? keyring_count(g->keys) : 0;
}

/* ---- the questions -------------------------------------------------------- */

bool
guard_authenticate(struct guard *g, const struct http_request *req, const char *service,
                   bool whole, char *key_id, struct guard_refusal *r)
{
    struct sigv4_request sr = {
        .method = req->method,
        .target = req->target,
        .headers = req->headers,
        .nheaders = req->nheaders,
        .body = whole ? req->body : NULL,
        .body_len = whole ? req->body_len : 0,
        .body_sha256 = whole && req->body_hashed ? req->body_sha256 : NULL,
    };
    struct sigv4_result res;

    sigv4_verify(g->sigv4, &sr, service, (int64_t)time(NULL), secret_of, g, &res);
    if (res.status == SIGV4_OK) {
        snprintf(key_id, GUARD_KEY_ID_MAX, "%s", res.key_id);
        return true;
    }
    atomic_fetch_add(&g->unauthenticated[res.status], 1);
    audit(g, "unauthenticated", res.key_id, NULL, NULL, req->peer, res.message);
    r->status = res.http_status;
    r->type = res.type;
    snprintf(r->message, sizeof(r->message), "%s", res.message);
    return false;
}

bool
guard_authorize(struct guard *g, const char *key_id, const char *action, const char *resource,
                const char *peer, struct guard_refusal *r)
{
    char name[128] = "";
    enum policy_effect e;
    size_t i;

    if (key_id == NULL)
        return true;
    e = keyring_authorize(g->keys, key_id, action, resource, name, sizeof(name));
    if (e == POLICY_ALLOW)
        return true;
    for (i = 0; i < g->nactions && strcmp(g->actions[i], action) != 0; i++)
        ;
    atomic_fetch_add(&g->denied[i], 1);
    audit(g, "denied", key_id, action, resource, peer,
          e == POLICY_EXPLICIT_DENY ? "explicit deny" : "no statement allows it");
    /* The shape of AWS's own message for an identity-based denial. */
    r->status = 400;
    r->type = "AccessDeniedException";
    snprintf(r->message, sizeof(r->message),
             "User: %s (key %s) is not authorized to perform: %s on resource: %s because %s",
             name[0] ? name : "unknown", key_id, action, resource,
             e == POLICY_EXPLICIT_DENY ? "an identity-based policy explicitly denies it"
                                       : "no identity-based policy allows the action");
    return false;
}

void
guard_metrics(struct guard *g, struct sl_buf *b)
{
    sl_buf_adds(b, "# HELP sluice_auth_failures_total API requests refused because their "
                   "signature did not prove a known key.\n"
                   "# TYPE sluice_auth_failures_total counter\n");
    for (int s = 1; s < NSTATUS; s++)
        sl_buf_addf(b, "sluice_auth_failures_total{reason=\"%s\"} %" PRIu64 "\n",
                    status_reason[s], atomic_load(&g->unauthenticated[s]));
    sl_buf_adds(b, "# HELP sluice_access_denied_total API requests refused by the key's "
                   "policy.\n"
                   "# TYPE sluice_access_denied_total counter\n");
    for (size_t i = 0; i <= g->nactions; i++) {
        uint64_t n = atomic_load(&g->denied[i]);

        if (n > 0 || i < g->nactions)
            sl_buf_addf(b, "sluice_access_denied_total{action=\"%s\"} %" PRIu64 "\n",
                        i < g->nactions ? g->actions[i] : "other", n);
    }
    sl_buf_addf(b, "# HELP sluice_keys Access keys the server knows.\n"
                   "# TYPE sluice_keys gauge\n"
                   "sluice_keys %zu\n",
                keyring_count(g->keys));
}
