/*
 * putrecords/fuzz.c - libFuzzer target for putrecords_parse(), checked
 * against wire_parse().
 *
 * The first byte picks the shape (low two bits) and the room for records
 * (the next three bits, 0..7); the rest is the body.  Both parsers must
 * agree on accepting it, and when they do, on every member and record
 * wck_oracle() works out from the general tree.  Every byte of every
 * returned slice is read, and must lie inside the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../wire_check.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const void *p, size_t n, const char *body, size_t len)
{
    if (p == NULL)
        return;
    FZ_ASSERT((const char *)p >= body && (const char *)p + n <= body + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct put_record r1[8], r2[8];
    struct put_batch b1, b2;
    struct sl_arena a;
    struct wire_value root;
    struct sl_diag d = {0};
    char *c1, *c2;
    size_t len;
    int rc1, rc2;

    if (size < 1)
        return 0;
    enum put_shape shape = (enum put_shape)(data[0] & 3);
    size_t cap = (size_t)(data[0] >> 2) & 7;

    len = size - 1;
    /* body[len] must be readable: one byte more, a quote to tempt any
     * scan that runs past the end. */
    c1 = malloc(len + 1);
    c2 = malloc(len + 1);
    memcpy(c1, data + 1, len);
    memcpy(c2, data + 1, len);
    c1[len] = c2[len] = '"';
    memset(&b1, 0, sizeof(b1));
    b1.recs = r1;
    b1.cap = cap;
    b2 = b1;
    b2.recs = r2;
    sl_arena_init(&a, 4096);
    rc1 = wire_parse(WIRE_JSON, c1, len, &a, &root, NULL);
    if (rc1 == 0)
        rc1 = wck_oracle(shape, &root, &a, &b1);
    rc2 = putrecords_parse(shape, c2, len, &b2, &d);
    FZ_ASSERT((rc1 == 0) == (rc2 == 0));
    if (rc2 == 0) {
        FZ_ASSERT(wck_same_batch(&b1, &b2));
        inside(b2.stream_name, b2.stream_name_len, c2, len);
        inside(b2.stream_arn, b2.stream_arn_len, c2, len);
        inside(b2.seq_for_ordering, b2.seq_for_ordering_len, c2, len);
        for (size_t i = 0; i < b2.n && i < cap; i++) {
            inside(r2[i].pk, r2[i].pk_len, c2, len);
            inside(r2[i].ehk, r2[i].ehk_len, c2, len);
            inside(r2[i].data, r2[i].data_len, c2, len);
        }
    } else {
        FZ_ASSERT(d.code == SL_ERR_INPUT && strstr(d.msg, " at byte ") != NULL);
    }
    sl_arena_release(&a);
    free(c1);
    free(c2);
    return 0;
}
