/*
 * wire_cbor/fuzz.c - libFuzzer target for wire_parse() on CBOR.
 *
 * Whatever is accepted is written back as CBOR (indefinite-length
 * containers, shortest heads, doubles, tags kept) and must parse into the
 * same tree.  Text strings and keys must be valid UTF-8; every byte of
 * every string is read, so ASan sees one that points outside the body or
 * the arena.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "../wire_check.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;

static void
walk(const struct wire_value *v)
{
    switch (v->type) {
    case WIRE_STRING:
        FZ_ASSERT(sl_utf8_valid(v->u.s.p, v->u.s.n, NULL));
        break;
    case WIRE_BYTES:
        for (size_t i = 0; i < v->u.s.n; i++)
            sink += (unsigned char)v->u.s.p[i];
        break;
    case WIRE_ARRAY:
        for (size_t i = 0; i < v->u.a.n; i++)
            walk(&v->u.a.items[i]);
        break;
    case WIRE_MAP:
        for (size_t i = 0; i < v->u.m.n; i++) {
            FZ_ASSERT(sl_utf8_valid(v->u.m.members[i].key, v->u.m.members[i].key_len, NULL));
            walk(&v->u.m.members[i].value);
        }
        break;
    default:
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    struct sl_arena a;
    struct wire_value v;
    struct sl_diag d = {0};

    memcpy(body, data, size);
    sl_arena_init(&a, 4096);
    if (wire_parse(WIRE_CBOR, body, size, &a, &v, &d) == 0) {
        struct sl_buf b;
        struct wire_writer w;
        struct wire_value back;
        int64_t ms;

        walk(&v);
        (void)wire_time_ms(WIRE_CBOR, &v, &ms, NULL);
        sl_buf_init(&b);
        wire_writer_init(&w, WIRE_CBOR, &b);
        wire_write_value(&w, &v);
        FZ_ASSERT(wire_parse(WIRE_CBOR, b.data, b.len, &a, &back, &d) == 0);
        FZ_ASSERT(wck_equal(&v, &back));
        sl_buf_release(&b);
    } else {
        FZ_ASSERT(d.code == SL_ERR_INPUT && strstr(d.msg, " at byte ") != NULL);
    }
    sl_arena_release(&a);
    free(body);
    return 0;
}
