/*
 * intrinsic.h - the intrinsic functions of Amazon States Language
 * (JSONPath mode), as used in ".$" fields:
 *
 *     "greeting.$": "States.Format('Hello, {}', $.name)"
 *
 * A call's arguments are string literals in single quotes (with \' \{ \}
 * and \\ escapes), numbers, true, false, null, paths (see path.h; "$" and
 * "$$" roots) and nested calls.  Parsing checks the function name and its
 * number of arguments; evaluation checks the argument types and fails
 * with the reason (the caller raises States.IntrinsicFailure with it).
 */
#ifndef SL_FLOW_INTRINSIC_H
#define SL_FLOW_INTRINSIC_H

#include <jansson.h>
#include <stdbool.h>

#include "core/diag.h"
#include "flow/path.h"

struct flow_intrinsic;

/* Whether text is meant as a call ("States." then a name and "("). */
bool flow_intrinsic_is_call(const char *text);

/* Parse a call; d names the column and what was expected there. */
int flow_intrinsic_parse(const char *text, struct flow_intrinsic **out, struct sl_diag *d);
void flow_intrinsic_free(struct flow_intrinsic *f);

/*
 * Evaluate: *out is a new reference to the result.  A path argument that
 * names nothing, or an argument of the wrong type or value, returns
 * SL_ERR_INPUT with d saying which function and argument, and why.
 */
int flow_intrinsic_eval(const struct flow_intrinsic *f, const struct flow_roots *r, json_t **out,
                        struct sl_diag *d);

#endif
