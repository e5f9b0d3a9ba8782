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
 * found nothing); an indefinite path always succeeds, with an array.
 */
int flow_path_select(const struct flow_path *p, const struct flow_roots *r, json_t **out,
                     struct sl_diag *d);

/*
 * ResultPath: put value (a reference is taken) at the reference path p
 * inside *root, creating objects for missing names on the way.  "$"
 * replaces *root.  A step that meets something it cannot go into (a name
 * in a non-object, an index past an array's end) returns SL_ERR_INPUT,
 * d saying where.  *root is changed in place (it must not be shared).
 */
int flow_path_put(const struct flow_path *p, json_t **root, json_t *value, struct sl_diag *d);

#endif
