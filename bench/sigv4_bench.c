/*
 * sigv4_bench.c - what verifying a signed PutRecords costs beside hashing
 * its body, the least any verifier must do.
 *
 * A 100 KB (and a 200 byte) PutRecords body is signed once here the way
 * botocore signs it (content-type;host;x-amz-date;x-amz-target), checked
 * to verify, then timed four ways on the same bytes in the same run:
 *
 *   sha256            the body's SHA-256 alone
 *   verify            sigv4_verify() with the body, signing key cached
 *   verify, no cache  the same with sigv4_forget() before each call, so
 *                     every call derives the key (four HMACs)
 *   head only         sigv4_verify() without the body
 *
 *   build/release/bench/sigv4_bench [rounds]
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hash.h"
#include "server/sigv4.h"
#include "core/banned.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define AMZ_DATE "20261121T085314Z"
#define NOW 1795251194LL

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool
lookup(void *ctx, const char *key_id, char *buf, size_t size)
{
    (void)ctx;
    if (strcmp(key_id, AKID) != 0 || sizeof(SECRET) > size)
        return false;
    memcpy(buf, SECRET, sizeof(SECRET));
    return true;
}

static void
hex_sha256(const void *p, size_t n, char out[65])
{
    struct sl_sha256 h;
    unsigned char md[SL_SHA256_LEN];

    sl_sha256_init(&h);
    sl_sha256_update(&h, p, n);
    sl_sha256_final(&h, md);
    sl_hex(md, sizeof(md), out);
}

static void
mac(const void *k, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;

    HMAC(EVP_sha256(), k, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* The Authorization header for POST / with the four signed headers. */
static void
sign(const char *body, size_t len, const char *host, const char *target, char *auth, size_t size)
{
    char creq[1024], body_hex[65], creq_hex[65], sts[256], sig[65];
    unsigned char k1[32], k2[32], k3[32], k4[32], s[32];

    hex_sha256(body, len, body_hex);
    snprintf(creq, sizeof(creq),
             "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:%s\nx-amz-date:" AMZ_DATE
             "\nx-amz-target:%s\n\ncontent-type;host;x-amz-date;x-amz-target\n%s",
             host, target, body_hex);
    hex_sha256(creq, strlen(creq), creq_hex);
    snprintf(sts, sizeof(sts),
             "AWS4-HMAC-SHA256\n" AMZ_DATE "\n20261121/us-east-1/kinesis/aws4_request\n%s",
             creq_hex);
    mac("AWS4" SECRET, strlen("AWS4" SECRET), "20261121", k1);
    mac(k1, 32, "us-east-1", k2);
    mac(k2, 32, "kinesis", k3);
    mac(k3, 32, "aws4_request", k4);
    mac(k4, 32, sts, s);
    sl_hex(s, 32, sig);
    snprintf(auth, size,
             "AWS4-HMAC-SHA256 Credential=" AKID "/20261121/us-east-1/kinesis/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s",
             sig);
}

static void
run(size_t body_len, int rounds)
{
    static const char host[] = "127.0.0.1:4599", target[] = "Kinesis_20131202.PutRecords";
    char *body = malloc(body_len), auth[512], hex[65];
    struct http_header h[6];
    struct sigv4_request req;
    struct sigv4_result out;
    struct sigv4_verifier *v = sigv4_new("us-east-1", 900);
    double t0, t_sha, t_ver, t_cold, t_head;
    volatile char sink = 0;

    /* A JSON-ish body: the bytes do not matter to the hash. */
    memcpy(body, "{\"Records\":[", 12);
    for (size_t i = 12; i < body_len; i++)
        body[i] = (char)('A' + i % 26);
    sign(body, body_len, host, target, auth, sizeof(auth));
    h[0] = (struct http_header){"Host", host};
    h[1] = (struct http_header){"X-Amz-Target", target};
    h[2] = (struct http_header){"Content-Type", "application/x-amz-json-1.1"};
    h[3] = (struct http_header){"X-Amz-Date", AMZ_DATE};
    h[4] = (struct http_header){"Authorization", auth};
    h[5] = (struct http_header){"User-Agent", "aws-cli/2.9 botocore/1.43"};
    req = (struct sigv4_request){"POST", "/", h, 6, body, body_len, NULL};
    sigv4_verify(v, &req, "kinesis", NOW, lookup, NULL, &out);
    if (out.status != SIGV4_OK) {
        fprintf(stderr, "sigv4_bench: the request does not verify: %s\n", out.message);
        exit(1);
    }

    t0 = now();
    for (int i = 0; i < rounds; i++) {
        hex_sha256(body, body_len, hex);
        sink ^= hex[0];
    }
    t_sha = now() - t0;
    t0 = now();
    for (int i = 0; i < rounds; i++) {
        sigv4_verify(v, &req, "kinesis", NOW, lookup, NULL, &out);
        sink ^= (char)out.status;
    }
    t_ver = now() - t0;
    t0 = now();
    for (int i = 0; i < rounds; i++) {
        sigv4_forget(v);
        sigv4_verify(v, &req, "kinesis", NOW, lookup, NULL, &out);
        sink ^= (char)out.status;
    }
    t_cold = now() - t0;
    req.body = NULL;
    t0 = now();
    for (int i = 0; i < rounds; i++) {
        sigv4_verify(v, &req, "kinesis", NOW, lookup, NULL, &out);
        sink ^= (char)out.status;
    }
    t_head = now() - t0;
    if (out.status != SIGV4_OK)
        exit(1);

    printf("body %zu bytes, %d rounds (sink %d)\n", body_len, rounds, sink);
    printf("  sha256 of the body      %10.0f ns/op  %7.0f MB/s\n", t_sha / rounds * 1e9,
           body_len * (double)rounds / t_sha / 1e6);
    printf("  verify                  %10.0f ns/op  (%.2fx sha256, +%.0f ns)\n",
           t_ver / rounds * 1e9, t_ver / t_sha, (t_ver - t_sha) / rounds * 1e9);
    printf("  verify, no key cache    %10.0f ns/op  (the cache saves %.0f ns)\n",
           t_cold / rounds * 1e9, (t_cold - t_ver) / rounds * 1e9);
    printf("  head only               %10.0f ns/op\n", t_head / rounds * 1e9);
    sigv4_free(v);
    free(body);
}

int
main(int argc, char **argv)
{
    int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;

    if (rounds < 1)
        rounds = 1;
    run(100 * 1024, rounds);
    run(200, rounds * 10);
    return 0;
}
