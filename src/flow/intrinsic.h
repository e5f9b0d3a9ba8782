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
 *
 * The functions: States.Format, StringToJson, JsonToString, Array,
 * ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength,
 * ArrayUnique, Base64Encode, Base64Decode, Hash, JsonMerge, MathRandom,
 * MathAdd, StringSplit and UUID, as AWS's guide describes them and as AWS
 * was seen to run them; intrinsic.c says, function by function, what was
 * decided where AWS is silent.  In short:
 *
 *   - A path argument may be any path, not only a reference path (the
 *     spec allows "Paths", and AWS runs ArrayContains($.items[*].ok,
 *     true)); an indefinite path gives the array of its matches.
 *   - Escapes other than the four are refused at parse time, as AWS
 *     refuses them when the definition is created; bare braces outside a
 *     {} pair are kept as text.  \{} in a Format template is the text
 *     "{}"; a template taken from a path or a call knows no escapes.
 *   - Numbers are rounded where AWS's guide says so, as Java's
 *     Math.round() does (halves up); JsonToString and Format write doubles
 *     as Java does ("1.0E20"), and JSON without spaces.
 *   - Calls nest at most 10 deep; every result is at most 256 KiB as JSON
 *     (AWS's payload limit) and nests at most 2048 levels.
 *
 * A parsed call is immutable: several threads may evaluate it at once.
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

/*
 * Parse a call; on failure (SL_ERR_INPUT) *out is NULL and d says
 * "column N: " and what was expected there, N counting characters from 1.
 * The caller frees *out with flow_intrinsic_free() (NULL is fine).
 */
int flow_intrinsic_parse(const char *text, struct flow_intrinsic **out, struct sl_diag *d);
void flow_intrinsic_free(struct flow_intrinsic *f);

/*
 * Evaluate: *out is a new reference to the result.  A path argument that
 * names nothing, or an argument of the wrong type or value, returns
 * SL_ERR_INPUT with d saying which function and argument, and why
 * ("States.ArrayGetItem: argument 2 must be a non-negative integer, got
 * \"x\""); *out is then NULL.  Only States.UUID and an unseeded
 * States.MathRandom can fail otherwise (-EIO: no random bytes).  The
 * result may share nodes with r's input and context, as a path selection
 * does (see flow_path_put() on changing shared trees).
 */
int flow_intrinsic_eval(const struct flow_intrinsic *f, const struct flow_roots *r, json_t **out,
                        struct sl_diag *d);

#endif
