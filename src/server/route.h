/*
 * route.h - REST routing: a request's path matched against an operation's
 * path template ("/v1/namespaces/{namespace}/tables/{table}").
 *
 * Matching is on the path as sent, still percent-encoded, one segment
 * against one: a literal segment must be equal byte for byte, a "{name}"
 * segment takes any non-empty segment, which is then percent-decoded as a
 * parameter.  So an encoded '/' ("%2F") stays inside its parameter and
 * cannot move a request onto another route, and a parameter is refused
 * (ROUTE_BAD) if an escape is malformed or it decodes to a NUL or a '/'.
 * Pure functions over buffers; fuzzed by tests/fuzz/route.
 */
#ifndef SL_SERVER_ROUTE_H
#define SL_SERVER_ROUTE_H

#include <stddef.h>

#define ROUTE_PARAMS_MAX 4

/* The parameters of a match, in the template's order. */
struct route_params {
    size_t n;
    const char *name[ROUTE_PARAMS_MAX]; /* into the template, name_len bytes */
    size_t name_len[ROUTE_PARAMS_MAX];
    const char *value[ROUTE_PARAMS_MAX]; /* decoded, NUL-terminated, in scratch */
    size_t value_len[ROUTE_PARAMS_MAX];
};

enum route_result {
    ROUTE_MATCH = 0,
    ROUTE_NO_MATCH = 1,
    ROUTE_BAD = 2, /* the path has the template's shape; a parameter is malformed */
};

/*
 * Match path[0..n) (no query string) against tmpl.  scratch must hold
 * n + ROUTE_PARAMS_MAX bytes; p's values point into it.  A template with
 * more than ROUTE_PARAMS_MAX parameters never matches.
 */
enum route_result route_match(const char *tmpl, const char *path, size_t n, char *scratch,
                              struct route_params *p);

/*
 * Percent-decode src[0..n) into dst (n + 1 bytes), strictly: every '%'
 * must start two hex digits.  Returns the decoded length, or -1 for a
 * malformed escape or a decoded NUL.
 */
long route_unescape(const char *src, size_t n, char *dst);

#endif
