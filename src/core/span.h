/*
 * span.h - sets of int64 values as sorted, disjoint closed intervals.
 *
 * A query's filters on one column come out as such a set (engine.h,
 * engine_query_bounds()): AND is intersection, OR is union, a comparison
 * one interval, IN a few points.  The table component keeps a file when
 * the range its statistics give meets the set (table.h, table_filter).
 * Integers make bounds exact: "x < c" is [INT64_MIN, c - 1].
 *
 * Ownership: a set owns its array; sl_spans_release() frees it.
 */
#ifndef SL_SPAN_H
#define SL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [lo, hi], lo <= hi. */
struct sl_span {
    int64_t lo, hi;
};

struct sl_spans {
    size_t n;                 /* intervals, sorted by lo, disjoint, not touching */
    size_t cap;
    struct sl_span *v;
};

/* The empty set (no value). */
void sl_spans_init(struct sl_spans *s);
/* Every value: [INT64_MIN, INT64_MAX]. */
void sl_spans_init_all(struct sl_spans *s);
void sl_spans_release(struct sl_spans *s);
/* dst becomes a copy of src (dst initialised or released before). */
void sl_spans_copy(struct sl_spans *dst, const struct sl_spans *src);
/* Add [lo, hi] to s (nothing when lo > hi). */
void sl_spans_add(struct sl_spans *s, int64_t lo, int64_t hi);
/* s becomes s | t. */
void sl_spans_union(struct sl_spans *s, const struct sl_spans *t);
/* s becomes s & t. */
void sl_spans_intersect(struct sl_spans *s, const struct sl_spans *t);
/* Whether s holds every value. */
bool sl_spans_all(const struct sl_spans *s);
/* Whether some value of [lo, hi] is in s. */
bool sl_spans_meets(const struct sl_spans *s, int64_t lo, int64_t hi);

#endif
