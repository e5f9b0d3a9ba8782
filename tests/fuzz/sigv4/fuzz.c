/*
 * sigv4/fuzz.c - libFuzzer target for sigv4_verify().
 *
 * Input: byte 0 picks the clock (low three bits: the test suite's
 * 20150830T123600Z, botocore's 20261121T085314Z, or either moved past the
 * skew or a presigned lifetime), whether the body is given (bit 3 clear)
 * or only the head (set), and the server's region (bit 4: us-east-1 or
 * eu-west-1); byte 1 the service (low three bits).  The rest is a request
 * as text:
 *
 *     METHOD TARGET\n
 *     Name: value\n      (any number; a line without ':' is a name with
 *     ...                 an empty value)
 *     \n
 *     body               (exactly the bytes left, in a buffer of their size)
 *
 * One verifier lives across inputs, so the signing-key cache is exercised
 * too.  Keys: AKIDEXAMPLE with the test suite's secret, and any key id
 * starting "AKID" with another, so that signatures get computed for
 * arbitrary credentials.  After each call the result must keep its
 * promises: a status in range, 200 exactly when OK, a type and a message
 * when not, both NUL-terminated, no secret in the message unless the
 * request sent it, and a key id of safe characters only.  SIGV4_FUZZ_VERBOSE=1 prints each verdict, to see
 * what a corpus reaches.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/sigv4.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define OTHER "fuzz-secret-0123456789-0123456789-012345"
#define MAXH 320

static bool
lookup(void *ctx, const char *key_id, char *buf, size_t size)
{
    const char *s;

    (void)ctx;
    if (strcmp(key_id, "AKIDEXAMPLE") == 0)
        s = SECRET;
    else if (strncmp(key_id, "AKID", 4) == 0)
        s = OTHER;
    else
        return false;
    if (strlen(s) >= size)
        return false;
    memcpy(buf, s, strlen(s) + 1);
    return true;
}

/* The next line of text[*at..n), NUL-terminated in place; NULL at the end. */
static char *
next_line(char *text, size_t n, size_t *at)
{
    char *line, *nl;

    if (*at >= n)
        return NULL;
    line = text + *at;
    nl = memchr(line, '\n', n - *at);
    if (nl == NULL) {
        *at = n;
        return line;
    }
    *nl = '\0';
    *at = (size_t)(nl - text) + 1;
    return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t clocks[8] = {
        1440938160, 1795251194, 1795251194 + 301, 1795251194 - 1000,
        1795251194 + 1000, 1440938160 + 901, 1440938160 - 901, 0,
    };
    static const char *services[8] = {
        "service", "kinesis", "sagemaker", "firehose", "iam", "states", "s3", "",
    };
    static struct sigv4_verifier *east, *west;
    struct http_header h[MAXH];
    struct sigv4_request req;
    struct sigv4_result out;
    char *text, *line, *sp, *body_at = NULL;
    uint8_t *body = NULL;
    size_t n, at = 0, body_len = 0;

    if (size < 2)
        return 0;
    if (east == NULL) {
        east = sigv4_new("us-east-1", 900);
        west = sigv4_new("eu-west-1", 900);
    }
    n = size - 2;
    text = malloc(n + 1);
    memcpy(text, data + 2, n);
    text[n] = '\0';
    memset(&req, 0, sizeof(req));
    memset(h, 0, sizeof(h));

    /* The body: everything after the first blank line. */
    for (size_t i = 0; i + 1 < n; i++) {
        if (text[i] == '\n' && text[i + 1] == '\n') {
            body_at = text + i + 2;
            body_len = n - i - 2;
            text[i + 1] = '\0';
            n = i + 1;
            break;
        }
    }
    body = malloc(body_len > 0 ? body_len : 1);
    if (body_at != NULL)
        memcpy(body, body_at, body_len);

    line = next_line(text, n, &at);
    if (line == NULL)
        line = text;
    sp = strchr(line, ' ');
    req.method = line;
    req.target = "";
    if (sp != NULL) {
        *sp = '\0';
        req.target = sp + 1;
    }
    while ((line = next_line(text, n, &at)) != NULL && req.nheaders < MAXH) {
        char *colon = strchr(line, ':');
        char *v = (char *)"";

        if (colon != NULL) {
            *colon = '\0';
            v = colon + 1;
            while (*v == ' ')
                v++;
        }
        h[req.nheaders++] = (struct http_header){line, v};
    }
    req.headers = h;
    req.body = (data[0] & 8) ? NULL : body;
    req.body_len = (data[0] & 8) ? 0 : body_len;

    sigv4_verify((data[0] & 16) ? west : east, &req, services[data[1] & 7], clocks[data[0] & 7],
                 lookup, NULL, &out);

    /* For looking at what a corpus reaches: SIGV4_FUZZ_VERBOSE=1 ...-replay dir */
    if (getenv("SIGV4_FUZZ_VERBOSE") != NULL)
        fprintf(stderr, "%d %s %s\n", (int)out.status, out.type, out.message);
    FZ_ASSERT(out.status >= SIGV4_OK && out.status <= SIGV4_PAYLOAD_MISMATCH);
    FZ_ASSERT((out.status == SIGV4_OK) == (out.http_status == 200));
    FZ_ASSERT(out.status == SIGV4_OK || out.http_status == 400);
    FZ_ASSERT(out.type != NULL);
    FZ_ASSERT(memchr(out.message, '\0', sizeof(out.message)) != NULL);
    FZ_ASSERT(memchr(out.key_id, '\0', sizeof(out.key_id)) != NULL);
    FZ_ASSERT(out.status == SIGV4_OK || (out.type[0] != '\0' && out.message[0] != '\0'));
    /* A secret in the message is a leak unless the request itself sent it
     * (a client may put anything in its credential). */
    FZ_ASSERT(strstr(out.message, "wJalrXUtnFEMI") == NULL ||
              memmem(data, size, "wJalrXUtnFEMI", 13) != NULL);
    FZ_ASSERT(strstr(out.message, "fuzz-secret") == NULL ||
              memmem(data, size, "fuzz-secret", 11) != NULL);
    for (const char *k = out.key_id; *k != '\0'; k++)
        FZ_ASSERT(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=,.@_-?",
                         *k) != NULL);
    free(body);
    free(text);
    return 0;
}
