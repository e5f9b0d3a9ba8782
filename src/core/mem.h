/*
 * mem.h - allocation that never returns NULL, and arenas.
 *
 * sl_malloc and friends abort with a message when memory runs out.  That is
 * safe in sluice because nothing is acknowledged before it is durable: a
 * process that dies loses only unacknowledged work, which the next run
 * redoes.  Callers therefore never test for NULL.  Sizes that come from
 * outside (a record, a body, a batch) are checked against a configured limit
 * before they reach an allocator.
 *
 * An arena serves many small allocations that all die together: per record,
 * per batch, per request.  sl_arena_reset() frees everything at once and
 * runs the cleanup callbacks registered with sl_arena_on_reset(), newest
 * first, so temporary files and engine results die with the unit of work.
 */
#ifndef SL_MEM_H
#define SL_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
/* A heap string from a format; caller frees with free(). */
char *sl_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *p (holding *cap elements of size) to hold at least need elements. */
void sl_grow(void **p, size_t *cap, size_t need, size_t size);
#define SL_GROW(p, cap, need) sl_grow((void **)&(p), &(cap), (need), sizeof(*(p)))

struct sl_arena_chunk;
struct sl_arena_cleanup;

/* A bump allocator.  Caller-owned; sl_arena_init() before use. */
struct sl_arena {
    struct sl_arena_chunk *head;       /* newest chunk first */
    struct sl_arena_cleanup *cleanups; /* run on reset, newest first */
    size_t chunk_size;                 /* default size of a new chunk */
    size_t total;                      /* bytes handed out since reset */
};

void sl_arena_init(struct sl_arena *a, size_t chunk_size);
/* n bytes aligned to 16; valid until the next reset or release. */
void *sl_arena_alloc(struct sl_arena *a, size_t n);
void *sl_arena_zalloc(struct sl_arena *a, size_t n);
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
char *sl_arena_strdup(struct sl_arena *a, const char *s);
char *sl_arena_printf(struct sl_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *sl_arena_vprintf(struct sl_arena *a, const char *fmt, va_list ap);
/* Call fn(arg) when the arena is next reset or released. */
void sl_arena_on_reset(struct sl_arena *a, void (*fn)(void *), void *arg);
/* Free all allocations (keeping one chunk for reuse) and run cleanups. */
void sl_arena_reset(struct sl_arena *a);
/* Free everything; the arena may be initialised again. */
void sl_arena_release(struct sl_arena *a);

#endif
