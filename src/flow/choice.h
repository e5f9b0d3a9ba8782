/*
 * choice.h - the rules of a Choice state (JSONPath mode).
 *
 *     { "Variable": "$.n", "NumericGreaterThanEquals": 50000, "Next": "Train" }
 *     { "And": [ {...}, {...} ], "Next": "X" }     { "Not": {...}, "Next": "Y" }
 *
 * A rule is compiled once, when the definition is loaded, and evaluated
 * against a state's effective input and the context object.
 */
#ifndef SL_FLOW_CHOICE_H
#define SL_FLOW_CHOICE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/diag.h"
#include "flow/path.h"

struct flow_choice;

/*
 * Compile one rule.  where is its JSON path in the definition (for
 * example "$.States.Check.Choices[0]"); every problem is reported as
 * "<where>.<field>: <what is wrong>" through d.  top says whether this is
 * a top-level rule, which must have Next; nested rules (in And, Or, Not)
 * must not.
 */
int flow_choice_compile(const json_t *rule, const char *where, bool top, struct flow_choice **out,
                        struct sl_diag *d);
void flow_choice_free(struct flow_choice *c);

/* A top-level rule's Next; NULL for nested rules. */
const char *flow_choice_next(const struct flow_choice *c);

/*
 * Evaluate: *match says whether the rule holds.  A Variable (or a *Path
 * operand) that names nothing returns SL_ERR_INPUT with d saying which
 * path (the state raises States.Runtime), except under IsPresent, which
 * is what it tests.  A comparator meeting a value of another type does
 * not match.
 */
int flow_choice_eval(const struct flow_choice *c, const struct flow_roots *r, bool *match,
                     struct sl_diag *d);

#endif
