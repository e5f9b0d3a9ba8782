/*
 * hash.c - SHA-256 wrapper and the 64-bit table hash (see hash.h).
 */
#include "core/hash.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/banned.h"

void
sl_sha256_init(struct sl_sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "sluice: fatal: cannot initialise SHA-256\n");
        abort();
    }
    h->ctx = ctx;
}

void
sl_sha256_update(struct sl_sha256 *h, const void *p, size_t n)
{
    EVP_DigestUpdate(h->ctx, p, n);
}

void
sl_sha256_final(struct sl_sha256 *h, unsigned char out[SL_SHA256_LEN])
{
    unsigned int len = SL_SHA256_LEN;

    EVP_DigestFinal_ex(h->ctx, out, &len);
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void
sl_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Odd constants with well-spread bits (digits of pi and e, made odd). */
#define K0 0x243f6a8885a308d3ull
#define K1 0x13198a2e03707345ull
#define K2 0xa4093822299f31d1ull
#define K3 0xb7e151628aed2a6bull

static inline uint64_t
load64(const unsigned char *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t
load_tail(const unsigned char *p, size_t n)
{
    /* 1..7 bytes, little-endian, without reading past the end. */
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t
sl_hash64(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ K0 ^ sl_mix64(n ^ K1, K2);

    while (n >= 16) {
        h = sl_mix64(load64(p) ^ K1 ^ h, load64(p + 8) ^ K2);
        p += 16;
        n -= 16;
    }
    if (n >= 8) {
        h = sl_mix64(load64(p) ^ K1 ^ h, load_tail(p + 8, n - 8) ^ K3);
    } else if (n > 0) {
        h = sl_mix64(load_tail(p, n) ^ K1 ^ h, K3);
    }
    return sl_mix64(h ^ K2, K0 ^ (h >> 29));
}
