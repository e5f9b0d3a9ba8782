/*
 * strlist.c - lists of owned strings (see strlist.h).
 */
#include "core/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/banned.h"

int
sl_strlist_add(void *list, const char *s)
{
    struct sl_strlist *l = list;

    SL_GROW(l->v, l->cap, l->n + 1);
    l->v[l->n++] = sl_strdup(s);
    return 0;
}

bool
sl_strlist_has(const struct sl_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

void
sl_strlist_release(struct sl_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}
