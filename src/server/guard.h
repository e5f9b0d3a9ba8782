/*
 * guard.h - the security layer in front of every API of `sluice serve`.
 *
 * Three questions, asked in one place for every API (server.c declares the
 * APIs; none of them checks anything itself):
 *
 *   who signed it     AWS Signature Version 4 (sigv4.h) with the keys of the
 *                     credentials file and the environment (keys.h)
 *   may that key      the key's policy (policy.h) for the action and the
 *                     resource the API declares for the operation
 *   what was refused  one JSON line per refusal in the audit log, and
 *                     counters for /metrics
 *
 * With no keys configured the guard lets everything through: the server
 * then listens on loopback only (server.c refuses anything else without
 * --insecure).  With keys, every API request must be signed by one.
 *
 * Keys are re-read when the credentials file or a policy changes (checked
 * every second, and at once by guard_reload(), which SIGHUP calls), so keys
 * added or removed take effect without a restart.  A file that no longer
 * parses leaves the keys as they were, and says so in the log.
 *
 * All functions may be called from any number of request threads at once.
 */
#ifndef SL_SERVER_GUARD_H
#define SL_SERVER_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/diag.h"
#include "project/project.h"
#include "server/http.h"

#define GUARD_KEY_ID_MAX 128

struct guard;

/* Why a request was refused, as AWS answers it. */
struct guard_refusal {
    int status;       /* HTTP status */
    const char *type; /* AWS error name, e.g. "AccessDeniedException" */
    char message[512];
};

/* Keys from the credentials file p names and the environment, the audit
 * log.  actions (NULL-terminated, kept: it must outlive the guard) are the
 * actions a policy may name.  A credentials file or policy that is bad is
 * an error here: the server does not start with it. */
int guard_open(struct project *p, const char *const *actions, struct guard **out,
               struct sl_diag *d);
void guard_close(struct guard *g);

/* Keys are configured: API requests must be signed. */
bool guard_keys(const struct guard *g);
size_t guard_key_count(const struct guard *g);

/*
 * Who signed req, for an API of SigV4 service `service` (NULL: any; the
 * scope is then not checked against it).  whole false: what the head
 * decides (before the body is read); true: everything, the body's hash and
 * the signature.  On success key_id (GUARD_KEY_ID_MAX bytes) holds the
 * key's id; on failure r says why, and the refusal is audited and counted.
 */
bool guard_authenticate(struct guard *g, const struct http_request *req, const char *service,
                        bool whole, char *key_id, struct guard_refusal *r);

/*
 * May key_id (NULL when no keys are configured: yes) do action on
 * resource?  On refusal r is an AccessDeniedException naming both, and the
 * refusal is audited (peer is the client's address) and counted.
 */
bool guard_authorize(struct guard *g, const char *key_id, const char *action,
                     const char *resource, const char *peer, struct guard_refusal *r);

/* Re-read the keys now if their files changed; 0, or the error (the old
 * keys stay). */
int guard_reload(struct guard *g, struct sl_diag *d);

/* Counters, Prometheus text. */
void guard_metrics(struct guard *g, struct sl_buf *b);

/* A loopback address ("127.0.0.1", "::1", "::ffff:127.0.0.1"). */
bool guard_loopback(const char *addr);

#endif
