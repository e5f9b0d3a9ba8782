/*
 * mem.c - allocation wrappers and arenas (see mem.h).
 */
#include "core/mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

static void
oom(size_t n)
{
    fprintf(stderr, "sluice: fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
sl_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        oom(n);
    return p;
}

void *
sl_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL)
        oom(count * size);
    return p;
}

void *
sl_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        oom(n);
    return q;
}

char *
sl_strndup(const char *s, size_t n)
{
    char *p = sl_malloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
sl_strdup(const char *s)
{
    return sl_strndup(s, strlen(s));
}

char *
sl_printf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    p = sl_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void
sl_grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n;

    if (need <= *cap)
        return;
    n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            oom(SIZE_MAX);
        n *= 2;
    }
    *p = sl_realloc(*p, n * size);
    *cap = n;
}

/* ---- arenas ------------------------------------------------------------ */

struct sl_arena_chunk {
    struct sl_arena_chunk *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct sl_arena_cleanup {
    struct sl_arena_cleanup *next;
    void (*fn)(void *);
    void *arg;
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

void
sl_arena_init(struct sl_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->cleanups = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->total = 0;
}

void *
sl_arena_alloc(struct sl_arena *a, size_t n)
{
    struct sl_arena_chunk *c = a->head;
    size_t need = ALIGN16(n ? n : 1);
    void *p;

    if (c == NULL || c->size - c->used < need) {
        size_t size = need > a->chunk_size ? need : a->chunk_size;

        c = sl_malloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        if (a->head != NULL && need > a->chunk_size) {
            /* A big one-off goes behind the current chunk, which keeps
             * serving small allocations. */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *
sl_arena_zalloc(struct sl_arena *a, size_t n)
{
    void *p = sl_arena_alloc(a, n);

    memset(p, 0, n);
    return p;
}

char *
sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
    char *p = sl_arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
sl_arena_strdup(struct sl_arena *a, const char *s)
{
    return sl_arena_strndup(a, s, strlen(s));
}

char *
sl_arena_vprintf(struct sl_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    char *p;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        n = 0;
    p = sl_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
sl_arena_printf(struct sl_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = sl_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void
sl_arena_on_reset(struct sl_arena *a, void (*fn)(void *), void *arg)
{
    struct sl_arena_cleanup *c = sl_arena_alloc(a, sizeof(*c));

    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
}

static void
run_cleanups(struct sl_arena *a)
{
    /* A cleanup may allocate from the arena; take the list first. */
    while (a->cleanups != NULL) {
        struct sl_arena_cleanup *c = a->cleanups;

        a->cleanups = c->next;
        c->fn(c->arg);
    }
}

void
sl_arena_reset(struct sl_arena *a)
{
    struct sl_arena_chunk *keep = NULL, *c, *next;

    run_cleanups(a);
    for (c = a->head; c != NULL; c = next) {
        next = c->next;
        if (keep == NULL && c->size == a->chunk_size) {
            keep = c;
            continue;
        }
        free(c);
    }
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->total = 0;
}

void
sl_arena_release(struct sl_arena *a)
{
    struct sl_arena_chunk *c, *next;

    run_cleanups(a);
    for (c = a->head; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->total = 0;
}
