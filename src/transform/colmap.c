/*
 * colmap.c - column lookup by name for the readers (see reader.h).
 *
 * Open addressing over a power-of-two table at most half full; the hash is
 * the table hash of the name's bytes.
 */
#include "transform/reader.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/mem.h"
#include "core/banned.h"

void
colmap_init(struct colmap *m, const struct contract *c)
{
    size_t slots = 16;

    while (slots < c->ncolumns * 2)
        slots *= 2;
    m->mask = slots - 1;
    m->slot = sl_calloc(slots, sizeof(*m->slot));
    m->c = c;
    m->len = sl_calloc(c->ncolumns ? c->ncolumns : 1, sizeof(*m->len));
    for (size_t i = 0; i < 64; i++)
        m->guess[i] = -1;
    for (size_t i = 0; i < c->ncolumns; i++) {
        const char *name = c->columns[i].name;
        size_t h = (size_t)sl_hash64(name, strlen(name), 0) & m->mask;

        m->len[i] = (uint16_t)strlen(name);
        while (m->slot[h] != 0)
            h = (h + 1) & m->mask;
        m->slot[h] = (int16_t)(i + 1);
    }
}

void
colmap_release(struct colmap *m)
{
    free(m->slot);
    free(m->len);
    m->slot = NULL;
    m->len = NULL;
}

int
colmap_find(const struct colmap *m, const char *name, size_t len)
{
    size_t h = (size_t)sl_hash64(name, len, 0) & m->mask;

    for (;;) {
        int s = m->slot[h];

        if (s == 0)
            return -1;
        const char *cn = m->c->columns[s - 1].name;

        if (m->len[s - 1] == len && sl_bytes_eq(cn, name, len))
            return s - 1;
        h = (h + 1) & m->mask;
    }
}
