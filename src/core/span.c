/*
 * span.c - sets of int64 values as sorted, disjoint closed intervals (see
 * span.h).  Sets are small (a query's few comparisons), so union merges
 * by insertion and intersection walks both lists once.
 */
#include "core/span.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/banned.h"

void
sl_spans_init(struct sl_spans *s)
{
    memset(s, 0, sizeof(*s));
}

void
sl_spans_init_all(struct sl_spans *s)
{
    sl_spans_init(s);
    sl_spans_add(s, INT64_MIN, INT64_MAX);
}

void
sl_spans_release(struct sl_spans *s)
{
    free(s->v);
    sl_spans_init(s);
}

void
sl_spans_copy(struct sl_spans *dst, const struct sl_spans *src)
{
    sl_spans_init(dst);
    for (size_t i = 0; i < src->n; i++)
        sl_spans_add(dst, src->v[i].lo, src->v[i].hi);
}

void
sl_spans_add(struct sl_spans *s, int64_t lo, int64_t hi)
{
    size_t i = 0, j;

    if (lo > hi)
        return;
    /* Skip the intervals wholly before [lo, hi] and not touching it. */
    while (i < s->n && s->v[i].hi < lo && s->v[i].hi + 1 < lo)
        i++;
    /* Absorb every interval that overlaps or touches. */
    j = i;
    while (j < s->n && (s->v[j].lo <= hi || s->v[j].lo - 1 <= hi)) {
        if (s->v[j].lo < lo)
            lo = s->v[j].lo;
        if (s->v[j].hi > hi)
            hi = s->v[j].hi;
        j++;
    }
    if (j == i) {
        SL_GROW(s->v, s->cap, s->n + 1);
        memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
        s->n++;
    } else if (j > i + 1) {
        memmove(&s->v[i + 1], &s->v[j], (s->n - j) * sizeof(*s->v));
        s->n -= j - i - 1;
    }
    s->v[i].lo = lo;
    s->v[i].hi = hi;
}

void
sl_spans_union(struct sl_spans *s, const struct sl_spans *t)
{
    for (size_t i = 0; i < t->n; i++)
        sl_spans_add(s, t->v[i].lo, t->v[i].hi);
}

void
sl_spans_intersect(struct sl_spans *s, const struct sl_spans *t)
{
    struct sl_spans out;
    size_t i = 0, j = 0;

    sl_spans_init(&out);
    while (i < s->n && j < t->n) {
        int64_t lo = s->v[i].lo > t->v[j].lo ? s->v[i].lo : t->v[j].lo;
        int64_t hi = s->v[i].hi < t->v[j].hi ? s->v[i].hi : t->v[j].hi;

        if (lo <= hi)
            sl_spans_add(&out, lo, hi);
        if (s->v[i].hi < t->v[j].hi)
            i++;
        else
            j++;
    }
    sl_spans_release(s);
    *s = out;
}

bool
sl_spans_all(const struct sl_spans *s)
{
    return s->n == 1 && s->v[0].lo == INT64_MIN && s->v[0].hi == INT64_MAX;
}

bool
sl_spans_meets(const struct sl_spans *s, int64_t lo, int64_t hi)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].lo <= hi && lo <= s->v[i].hi)
            return true;
    return false;
}
