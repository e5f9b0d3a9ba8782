/*
 * wire_int.h - JSON and base64 pieces shared by wire.c and putrecords.c.
 *
 * Only the lowest-level rules live here, the ones both parsers must apply
 * byte for byte the same way (what an escape means, what a number looks
 * like, what strict base64 is), so that the PutRecords fast path cannot
 * drift from the general parser on them.  Structure (members, nesting,
 * skipping) is written separately in each file, and the differential test
 * and fuzz target compare the two.  Not for use outside src/server/.
 */
#ifndef SL_SERVER_WIRE_INT_H
#define SL_SERVER_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_ONES 0x0101010101010101ull
#define WIRE_HIGHS 0x8080808080808080ull

/* High bit set in each byte of v that is zero. */
static inline uint64_t
wire_has_zero(uint64_t v)
{
    return (v - WIRE_ONES) & ~v & WIRE_HIGHS;
}

/*
 * Bytes of w that need a closer look inside a JSON string: '"', '\\',
 * control characters and non-ASCII.  The lowest flagged byte is exact;
 * flags above it may be false alarms (borrows), never missing.
 */
static inline uint64_t
wire_json_special(uint64_t w)
{
    return wire_has_zero(w ^ (WIRE_ONES * '"')) | wire_has_zero(w ^ (WIRE_ONES * '\\')) |
           ((w - WIRE_ONES * 0x20) & ~w & WIRE_HIGHS) | (w & WIRE_HIGHS);
}

static inline bool
wire_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Decode the escape at p (p[0] is the backslash, end bounds the input)
 * into out (at least 4 bytes).  Returns the number of input bytes consumed
 * (2, 6 or 12 for a surrogate pair) and sets *outlen, or returns 0 for a
 * bad or cut escape; lone surrogates are bad, since the result must be
 * UTF-8.
 */
size_t wire_json_escape(const char *p, const char *end, char *out, size_t *outlen);

/*
 * The length of the RFC 8259 number at p (-?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?), or 0 if p does not start one.  *integral says
 * whether it had neither fraction nor exponent.
 */
size_t wire_json_number(const char *p, const char *end, bool *integral);

/*
 * Strict base64 (see base64_decode in wire.h), telling where it stopped:
 * on failure *bad is the offset in `in` of the first four-character group
 * that is not valid, and everything before it is plain alphabet.  out may
 * equal in; out[0..3*(n/4)) may be written even on failure.
 */
ptrdiff_t wire_base64_decode(const char *in, size_t n, uint8_t *out, size_t *bad);

#endif
