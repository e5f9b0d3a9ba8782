/*
 * wire_json/fuzz.c - libFuzzer target for wire_parse() on JSON.
 *
 * Whatever is accepted must be a tree that the writer can put back: the
 * JSON written from it, and the CBOR written from it, must each parse into
 * the same tree.  Every string is read through (so ASan sees one that
 * points outside the body or the arena) and must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "../wire_check.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(const struct wire_value *v)
{
    switch (v->type) {
    case WIRE_STRING:
        FZ_ASSERT(sl_utf8_valid(v->u.s.p, v->u.s.n, NULL));
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
        FZ_ASSERT(!v->tagged);
    }
}

static void
again(enum wire_format f, const struct wire_value *v)
{
    struct sl_buf b;
    struct wire_writer w;
    struct sl_arena a;
    struct wire_value back;
    struct sl_diag d = {0};

    sl_buf_init(&b);
    sl_arena_init(&a, 4096);
    wire_writer_init(&w, f, &b);
    wire_write_value(&w, v);
    FZ_ASSERT(wire_parse(f, b.data, b.len, &a, &back, &d) == 0);
    FZ_ASSERT(wck_equal(v, &back));
    sl_arena_release(&a);
    sl_buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so reading past the end is caught. */
    char *body = malloc(size ? size : 1);
    struct sl_arena a;
    struct wire_value v;
    struct sl_diag d = {0};

    memcpy(body, data, size);
    sl_arena_init(&a, 4096);
    if (wire_parse(WIRE_JSON, body, size, &a, &v, &d) == 0) {
        walk(&v);
        again(WIRE_JSON, &v);
        again(WIRE_CBOR, &v);
    } else {
        FZ_ASSERT(d.code == SL_ERR_INPUT && strstr(d.msg, " at byte ") != NULL);
    }
    sl_arena_release(&a);
    free(body);
    return 0;
}
