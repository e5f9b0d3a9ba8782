/*
 * json.h - JSON text as Step Functions writes it: compact, object members
 * in their order, and numbers with a fraction or an exponent as Java's
 * Double.toString() writes them (the shortest digits that read back as the
 * same double: 0.026, not jansson's 0.025999999999999999; 1.0E20), since
 * AWS's engine is Java.  Used for every input, output and result sluice
 * shows or records, so the same document always reads the same.
 */
#ifndef SL_FLOW_JSON_H
#define SL_FLOW_JSON_H

#include <jansson.h>

#define FLOW_DOUBLE_TEXT 32

/* v as text (malloc'd); any value, not only objects and arrays. */
char *flow_json_dump(const json_t *v);
/* "an object", "a string", "a number", ..., "null": v's kind with its
 * article, for messages ("$.a is a string, not an object"). */
const char *flow_json_kind(const json_t *v);
/* x as Java's Double.toString() writes it, into res. */
void flow_json_double(double x, char res[FLOW_DOUBLE_TEXT]);

#endif
