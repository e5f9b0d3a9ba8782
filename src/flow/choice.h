/*
 * choice.h - the rules of a Choice state (JSONPath mode).
 *
 *     { "Variable": "$.n", "NumericGreaterThanEquals": 50000, "Next": "Train" }
 *     { "And": [ {...}, {...} ], "Next": "X" }     { "Not": {...}, "Next": "Y" }
 *
 * A rule is compiled once, when the definition is loaded, and evaluated
 * against a state's effective input and the context object.
 *
 * A rule holds exactly one operator: And or Or (a non-empty array of
 * nested rules), Not (one nested rule), or a comparator with a Variable
 * (a reference path).  The comparators are String-, Numeric- and
 * Timestamp- Equals, LessThan, GreaterThan, LessThanEquals and
 * GreaterThanEquals, BooleanEquals, StringMatches, and the type tests
 * IsNull, IsPresent, IsNumeric, IsString, IsBoolean and IsTimestamp (true
 * or false); all but StringMatches and the type tests also come as
 * <name>Path, whose value is a reference path to the other operand.  A
 * rule may carry a Comment (a string).  Assign and JSONata's Condition are
 * refused, as is any other field.
 *
 * Where the specification leaves room (choice.c's opening comment has the
 * reasons): strings compare by UTF-16 code unit, as Java's compareTo does
 * and AWS documents; numbers by value, integer against real exactly;
 * timestamps as instants, written YYYY-MM-DDTHH:MM:SS[.fraction] then Z or
 * +hh:mm/-hh:mm (uppercase T and Z, calendar checked, nanoseconds);
 * StringMatches knows only "*", "\*" (a star) and "\\" (a backslash),
 * any other backslash being refused at compile time.  And and Or stop at
 * the first rule that decides them, so a later rule's missing Variable
 * does not fail them.
 *
 * A compiled rule keeps no reference to the JSON it came from and is not
 * changed by evaluation: several threads may evaluate it at once.
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
 * must not.  On success *out is the caller's, to free with
 * flow_choice_free(); on failure it is NULL and the result SL_ERR_INPUT
 * (the first problem found is reported).
 */
int flow_choice_compile(const json_t *rule, const char *where, bool top, struct flow_choice **out,
                        struct sl_diag *d);
void flow_choice_free(struct flow_choice *c);

/* A top-level rule's Next (owned by c); NULL for nested rules. */
const char *flow_choice_next(const struct flow_choice *c);

/*
 * Evaluate: *match says whether the rule holds.  A Variable (or a *Path
 * operand) that names nothing returns SL_ERR_INPUT with d saying which
 * path (the state raises States.Runtime), except under IsPresent, which
 * is what it tests; the message reads "<where>.<field>: <why>", and d's
 * field is "<where>.<field>" (Variable or the *Path comparator).  A
 * comparator meeting a value of another type does not match.  The roots
 * are only read.
 */
int flow_choice_eval(const struct flow_choice *c, const struct flow_roots *r, bool *match,
                     struct sl_diag *d);

#endif
