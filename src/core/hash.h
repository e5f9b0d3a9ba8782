/*
 * hash.h - content digests and a fast hash for in-memory tables.
 *
 * SHA-256 (through OpenSSL, which uses the CPU's SHA instructions) names
 * raw objects by their content.  sl_hash64() is a fast, non-cryptographic
 * 64-bit hash for hash tables and row fingerprints: it folds 16 bytes per
 * step through a 64x64->128-bit multiply.  It is not stable across sluice
 * versions unless SL_HASH64_VERSION says so; stored fingerprints carry that
 * version.
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SL_HASH64_VERSION 1
#define SL_SHA256_LEN 32

struct sl_sha256 {
    void *ctx; /* OpenSSL EVP_MD_CTX */
};

void sl_sha256_init(struct sl_sha256 *h);
void sl_sha256_update(struct sl_sha256 *h, const void *p, size_t n);
/* Write the digest and release the context. */
void sl_sha256_final(struct sl_sha256 *h, unsigned char out[SL_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void sl_hex(const unsigned char *p, size_t n, char *out);

/* The value of a hex digit of either case, or -1. */
static inline int
sl_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline uint64_t
sl_mix64(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;

    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t sl_hash64(const void *p, size_t n, uint64_t seed);

/*
 * Whether a[0..n) equals b[0..n): field names and keys are mostly short, and
 * a call to memcmp costs more than comparing them.  Never reads outside
 * either range.
 */
static inline bool
sl_bytes_eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    uint64_t u, v, s, t;

    if (n >= 8 && n <= 16) {
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        memcpy(&s, x + n - 8, 8);
        memcpy(&t, y + n - 8, 8);
        return ((u ^ v) | (s ^ t)) == 0;
    }
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if (x[i] != y[i])
                return false;
        return true;
    }
    return memcmp(x, y, n) == 0;
}

/* Hash of one 64-bit value, for integer keys. */
static inline uint64_t
sl_hash_u64(uint64_t x)
{
    return sl_mix64(x ^ 0x2d358dccaa6c78a5ull, 0x8bb84b93962eacc9ull);
}

#endif
