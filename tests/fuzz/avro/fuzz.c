/*
 * avro/fuzz.c - libFuzzer target for the Avro reader.
 *
 * Every input goes to read_avro() under both contract variants of fuzz.h,
 * then through the checks of fuzz.h.  avro-c parses the container; what is
 * sluice's here is the mapping of writer fields to contract columns, the
 * logical types read from the header's schema, the conversions, the
 * quarantine of corrupt tails and the handling of avro-c's objects.
 *
 * avro-c 1.11.1 leaks on its error paths: what it had read when
 * avro_file_reader_fp() fails on a broken header or first block, and a
 * string or bytes buffer when a value is cut short.  It also believes the
 * lengths it reads, and asks for allocations of any size.  Neither is
 * sluice's to fix, so this target gives avro-c an allocator of its own.  It
 * refuses anything over 64 MiB (avro-c reports that as an error), and keeps
 * every block avro-c holds in a list: a read that met no corrupt data must
 * leave avro-c holding no more blocks than before, or sluice failed to
 * release something of avro-c's (a schema, a value, a reader); after each
 * input, whatever avro-c still holds from it is what avro-c leaked, and is
 * freed, so that neither LeakSanitizer nor the memory limit trips over it.
 * Inputs that avro-c cannot open at all are read with leak detection off.
 */
#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz.h"
#include "core/diag.h"
#include "core/banned.h"

#define AVRO_MAX_ALLOC ((size_t)64 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LeakSanitizer's switches; weak, so that a build without it links too. */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

static void
leaks_off(void)
{
    if (__lsan_disable != NULL)
        __lsan_disable();
}

static void
leaks_on(void)
{
    if (__lsan_enable != NULL)
        __lsan_enable();
}

/* A block of avro-c's, behind a header that links it into the list of
 * blocks avro-c holds and says which input allocated it. */
struct avro_block {
    struct avro_block *prev, *next;
    uint64_t input;
    uint64_t pad; /* keeps the block 16-byte aligned, as malloc's are */
};

static struct avro_block avro_blocks = {&avro_blocks, &avro_blocks, 0, 0};
static uint64_t avro_input; /* the input being run */
static long avro_live;      /* blocks in the list */

static void
block_unlink(struct avro_block *b)
{
    b->prev->next = b->next;
    b->next->prev = b->prev;
    avro_live--;
}

static void
block_link(struct avro_block *b)
{
    b->prev = &avro_blocks;
    b->next = avro_blocks.next;
    avro_blocks.next->prev = b;
    avro_blocks.next = b;
    avro_live++;
}

static void *
avro_alloc(void *user_data, void *ptr, size_t osize, size_t nsize)
{
    struct avro_block *b = ptr != NULL ? (struct avro_block *)ptr - 1 : NULL, *nb;

    (void)user_data;
    (void)osize;
    if (nsize > AVRO_MAX_ALLOC)
        return NULL; /* the old block, if any, stays as it was */
    if (b != NULL)
        block_unlink(b);
    if (nsize == 0) {
        free(b);
        return NULL;
    }
    nb = realloc(b, sizeof(*nb) + nsize);
    if (nb == NULL) {
        if (b != NULL)
            block_link(b);
        return NULL;
    }
    if (b == NULL)
        nb->input = avro_input;
    block_link(nb);
    return nb + 1;
}

/* Free what avro-c still holds from this input: what it leaked. */
static void
free_leaked(void)
{
    struct avro_block *b = avro_blocks.next, *next;

    for (; b != &avro_blocks; b = next) {
        next = b->next;
        if (b->input == avro_input) {
            block_unlink(b);
            free(b);
        }
    }
}

/* Whether avro-c opens data as read_avro() will ask it to. */
static bool
avro_opens(const uint8_t *data, size_t size)
{
    avro_file_reader_t reader;
    FILE *fp;
    bool ok;

    if (size == 0)
        return false;
    leaks_off();
    fp = fmemopen((void *)data, size, "rb");
    ok = fp != NULL && avro_file_reader_fp(fp, "object", 1, &reader) == 0;
    if (ok)
        avro_file_reader_close(reader);
    leaks_on();
    return ok;
}

/* Whether the read ran into corrupt data (where avro-c may leak). */
static bool
met_corrupt_data(const struct rows *r)
{
    static const char prefix[] = "the Avro data is corrupt";

    for (size_t i = 0; i < r->nbad; i++)
        if (strncmp(r->bad[i].reason, prefix, sizeof(prefix) - 1) == 0)
            return true;
    return false;
}

static void
run(const struct fz_variant *v, const uint8_t *data, size_t size, bool opens)
{
    struct rows_object obj;
    struct colmap map;
    struct rows r;
    struct sl_diag d;
    long live = avro_live;
    int rc;

    sl_diag_init(&d);
    fz_object(&obj, v, false);
    colmap_init(&map, &v->contract);
    rows_init(&r, &obj, v->max_record_bytes);
    if (!opens)
        leaks_off();
    rc = read_avro(&r, &map, (const char *)data, size, &d);
    if (!opens)
        leaks_on();
    /* The only failure is fmemopen() running out of memory. */
    FZ_ASSERT(rc == 0);
    FZ_ASSERT(d.code == 0);
    fz_check(&r, v, data, size, false);
    /* What avro-c cannot open is one quarantined record, the whole object. */
    if (!opens)
        FZ_ASSERT(r.records_in == 1 && r.n == 0 && r.nbad == 1 && r.bad[0].pos.record == 1);
    /* Everything of avro-c's that read_avro() made, it released. */
    if (opens && !met_corrupt_data(&r))
        FZ_ASSERT(avro_live == live);
    rows_release(&r);
    colmap_release(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    bool opens;

    if (!ready) {
        avro_set_allocator(avro_alloc, NULL);
        ready = true;
    }
    avro_input++;
    opens = avro_opens(data, size);
    for (int i = 0; i < 2; i++)
        run(fz_variant(i), data, size, opens);
    free_leaked();
    return 0;
}
