/*
 * sigv4.h - verification of AWS Signature Version 4 on requests to
 * `sluice serve`.
 *
 * A request is signed either in its Authorization header
 *
 *     Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request,
 *                    SignedHeaders=host;x-amz-date, Signature=<64 hex>
 *
 * or, presigned, in its query string (X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature).
 * sigv4_verify() rebuilds the canonical request the way AWS and botocore
 * build it for services other than S3, derives the signing key from the
 * secret the caller's callback hands over, and compares signatures in
 * constant time.  It answers with AWS's error name, HTTP status and wording
 * for the awsJson services (Kinesis, Firehose, Step Functions): the table
 * in sigv4.c, beside the checks, gives each and where it comes from.
 *
 * Two passes per request, as the HTTP layer sees it: once with the head
 * only (body NULL) to refuse unsigned, malformed, stale or unknown-key
 * requests before reading a byte of the body, and once with the body for
 * the payload hash and the signature itself.  Both passes repeat the head
 * checks; they are cheap next to hashing the body.
 *
 * Secrets never leave this module: no message, key id echo or log line
 * holds one, and every copy of a secret or of a key derived from it is
 * wiped after use.  Every size taken from the request is bounded
 * (SIGV4_MAX_*); past a bound the request is refused as incomplete.
 */
#ifndef SL_SERVER_SIGV4_H
#define SL_SERVER_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One request header as received, in arrival order.  http.h declares the
 * same struct under the same guard, so either header may come first.
 */
#ifndef SL_HTTP_HEADER_DEFINED
#define SL_HTTP_HEADER_DEFINED
struct http_header {
    const char *name;  /* as sent, any case; NUL-terminated */
    const char *value; /* as sent (the layer may have trimmed its ends) */
};
#endif

/* Bounds on what a request may make the verifier look at. */
#define SIGV4_MAX_SIGNED_HEADERS 64    /* names in SignedHeaders */
#define SIGV4_MAX_HEADER_VALUE 8192    /* bytes in one header value */
#define SIGV4_MAX_HEADERS 256          /* headers in the request */
#define SIGV4_MAX_TARGET 16384         /* bytes in the request-target */
#define SIGV4_MAX_QUERY_PARAMS 256     /* arguments in the query string */
#define SIGV4_MAX_EXPIRES 604800       /* X-Amz-Expires: seven days */

/* What sigv4_verify() looks at.  Everything is borrowed for the call. */
struct sigv4_request {
    const char *method;                /* "POST" */
    const char *target;                /* request-target as sent: "/a%20b?x=1&y" */
    const struct http_header *headers; /* names in any case, repeats allowed */
    size_t nheaders;
    const void *body;                  /* NULL: not read yet, head-only checks */
    size_t body_len;
    /* The body's SHA-256 if the caller has it already (the HTTP layer
     * hashes a body as it arrives), else NULL: it is computed here. */
    const unsigned char *body_sha256;
};

/*
 * The verdict, by kind; type and http_status in the result say how AWS
 * words it (several kinds map to InvalidSignatureException).
 */
enum sigv4_status {
    SIGV4_OK = 0,
    SIGV4_MISSING,          /* no Authorization header and no X-Amz-Credential /
                               X-Amz-Signature / X-Amz-Algorithm query, or an
                               Authorization of another scheme */
    SIGV4_INCOMPLETE,       /* malformed or missing part, bad date form, bad
                               algorithm, host or the date header unsigned, a
                               signed header absent, both forms at once, a
                               bound exceeded */
    SIGV4_UNKNOWN_KEY,      /* the access key id is not known */
    SIGV4_BAD_SIGNATURE,    /* the signature does not match */
    SIGV4_EXPIRED,          /* dated more than skew in the past, or a
                               presigned request past X-Amz-Expires */
    SIGV4_NOT_YET,          /* dated more than skew in the future */
    SIGV4_WRONG_SCOPE,      /* credential scope names another region, service
                               or terminator, or a date that is not the
                               request's */
    SIGV4_PAYLOAD_MISMATCH, /* x-amz-content-sha256 differs from the body's */
};

struct sigv4_result {
    enum sigv4_status status;
    int http_status;   /* 200 when OK, else as AWS answers (400 for awsJson) */
    const char *type;  /* AWS error name ("" when OK); static storage */
    char message[512]; /* AWS-like wording; never a secret */
    char key_id[128];  /* the claimed access key id ("" if none), with
                          anything outside [A-Za-z0-9+/=,.@_-] shown as '?',
                          for the audit log */
};

/*
 * Look up the secret of key_id.  Returns false for an unknown key; else
 * copies the secret, NUL-terminated, into buf[0..size) and returns true (a
 * secret that does not fit counts as unknown).  Called from many threads at
 * once, without any lock of this module held.
 */
typedef bool (*sigv4_secret_fn)(void *ctx, const char *key_id, char *buf, size_t size);

struct sigv4_verifier;

/*
 * A verifier for the server's region ("us-east-1"), accepting requests
 * dated up to skew_seconds either side of now (AWS: 900).  Caller frees
 * with sigv4_free().
 */
struct sigv4_verifier *sigv4_new(const char *region, int64_t skew_seconds);
/* Free v and wipe its cached signing keys.  NULL is allowed. */
void sigv4_free(struct sigv4_verifier *v);

/*
 * Verify req for service ("kinesis", "firehose", "states", "sagemaker"...)
 * at time now (seconds since the epoch), looking secrets up through secret
 * and ctx.  With req->body == NULL, only what the head decides: presence,
 * form, date window, scope, key known (SIGV4_OK then means "read the body
 * and call again"); with the body, everything, including the payload hash
 * and the signature.  Fills every member of out.  Thread-safe.
 */
void sigv4_verify(struct sigv4_verifier *v, const struct sigv4_request *req, const char *service,
                  int64_t now, sigv4_secret_fn secret, void *ctx, struct sigv4_result *out);

/* Forget cached signing keys (after keys are reloaded or removed). */
void sigv4_forget(struct sigv4_verifier *v);

/* Size of the signing-key cache, in entries (for tests and tuning). */
#define SIGV4_CACHE_SLOTS 64

#endif
