/*
 * avro_alloc.h - what the fuzz targets that drive avro-c share: an
 * allocator for avro-c (avro_set_allocator) that refuses blocks over
 * AVRO_MAX_ALLOC (avro-c believes the lengths it reads) and keeps every
 * block it holds in a list with the input that allocated it, so that
 * free_leaked() can free what avro-c leaked on an input's error paths; and
 * LeakSanitizer's switches.  Include once per target (static functions).
 */
#ifndef SL_FUZZ_AVRO_ALLOC_H
#define SL_FUZZ_AVRO_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define AVRO_MAX_ALLOC ((size_t)64 << 20)

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

#endif
