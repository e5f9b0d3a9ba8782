/*
 * path.h - JSONPath as Amazon States Language uses it (JSONPath mode).
 *
 * A path starts at "$" (the state's input) or "$$" (the context object):
 *
 *     $.order.lines[0].sku        a reference path: one node, or none
 *     $['odd key'][2]
 *     $.lines[*].sku  $..sku  $.lines[1:3]  $.lines[0,2]  $.lines[?(@.qty > 1)]
 *
 * Reference paths (names and non-negative indexes only) are what
 * ResultPath, a Choice rule's Variable, *Path comparators and the paths
 * inside intrinsic functions take.  The other forms (wildcards, recursive
 * descent, slices, unions, filters) select many nodes; as Jayway JSONPath
 * (the library AWS's engine follows) does, such an "indefinite" path
 * yields the array of what it matched, in document order, which may be
 * empty.
 *
 * Between the two sit the other definite paths of Jayway: a negative
 * index ($.lines[-1], the last line) and a union of names as the last
 * step ($['a','b'], the object of those members that exist).  They select
 * one node or none, like a reference path, but are not reference paths.
 * path.c's opening comment lists the other points where dialects differ.
 *
 * A parsed path is immutable: several threads may select with it at once.
 */
#ifndef SL_FLOW_PATH_H
#define SL_FLOW_PATH_H

#include <jansson.h>
#include <stdbool.h>

#include "core/diag.h"

struct flow_path;

/* The two roots a path may start from. */
struct flow_roots {
    json_t *input;   /* "$" */
    json_t *context; /* "$$"; NULL reads as {} */
};

/*
 * Parse text.  With reference set, only names and non-negative indexes are
 * allowed.  On error, d says what was expected where (the column in the
 * path), and *out is NULL.
 */
int flow_path_parse(const char *text, bool reference, struct flow_path **out, struct sl_diag *d);
void flow_path_free(struct flow_path *p);

/* The text it was parsed from. */
const char *flow_path_text(const struct flow_path *p);
/* Whether it starts at "$$". */
bool flow_path_is_context(const struct flow_path *p);
/* Whether it is a reference path (one node or none). */
bool flow_path_is_reference(const struct flow_path *p);

/*
 * Select: *out is a new reference to what the path names.  A reference
 * path that names nothing returns SL_ERR_NOTFOUND (d says which step
 * found nothing); an indefinite path always succeeds, with an array -
 * unless selecting would visit more than about four million nodes
 * ("$..*..*..*" on a large input): then SL_ERR_LIMIT, so that a hostile
 * path cannot take all the memory and time.  The other definite paths
 * behave like reference paths.  A NULL input
 * reads as null.  The roots are only read; a reference path allocates
 * nothing (the node is shared with the input: do not change it).
 */
int flow_path_select(const struct flow_path *p, const struct flow_roots *r, json_t **out,
                     struct sl_diag *d);

/*
 * ResultPath: put value (a reference is taken) at the reference path p
 * inside *root, creating objects for missing names on the way.  "$"
 * replaces *root.  A step that meets something it cannot go into (a name
 * in a non-object, an index past an array's end) returns SL_ERR_INPUT,
 * d saying where.  *root is changed in place (it must not be shared).
 *
 * Copy-on-write: the containers under *root may be shared (selected
 * nodes, history events and the like keep references into inputs), so
 * each one on the way that someone else also holds (reference count
 * above one) is first replaced in its parent by a shallow copy, and other
 * holders never see the change; should *root itself be shared after all,
 * *root is replaced by a shallow copy the same way (the old one keeps
 * its other references).  A value that is itself one of the containers
 * written to (the input put into itself) is deep-copied, so the tree
 * cannot hold itself.  Nothing changes on failure.  A path that is not
 * a reference path, or starts at "$$", is refused with SL_ERR_INPUT.
 */
int flow_path_put(const struct flow_path *p, json_t **root, json_t *value, struct sl_diag *d);

#endif
