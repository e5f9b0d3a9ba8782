/*
 * test_route.c - REST routing: path templates matched on the path as
 * sent, parameters decoded one segment each.
 */
#include <string.h>

#include "server/route.h"
#include "test.h"

static enum route_result
match(const char *tmpl, const char *path, struct route_params *p)
{
    static char scratch[512];

    return route_match(tmpl, path, strlen(path), scratch, p);
}

TEST(literal_paths)
{
    struct route_params p;

    CHECK_INT(match("/v1/config", "/v1/config", &p), ROUTE_MATCH);
    CHECK_INT(p.n, 0);
    CHECK_INT(match("/v1/config", "/v1/config/", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/config", "/v1/configs", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/config", "/v1", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/config", "", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/config", "/V1/config", &p), ROUTE_NO_MATCH);
}

TEST(parameters_are_decoded)
{
    struct route_params p;

    CHECK_INT(match("/v1/namespaces/{namespace}/tables/{table}",
                    "/v1/namespaces/cur%61ted/tables/or%20ders", &p),
              ROUTE_MATCH);
    CHECK_INT(p.n, 2);
    CHECK_INT(p.name_len[0], 9);
    CHECK(strncmp(p.name[0], "namespace", 9) == 0);
    CHECK_STR(p.value[0], "curated");
    CHECK_STR(p.value[1], "or ders");
    CHECK_INT(p.value_len[1], 7);
    /* The unit separator of multi-level namespaces stays in the value. */
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/a%1Fb", &p), ROUTE_MATCH);
    CHECK_STR(p.value[0], "a\x1f" "b");
}

TEST(parameters_stay_in_their_segment)
{
    struct route_params p;

    /* An empty segment is no parameter; an encoded slash moves nothing. */
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/namespaces/{namespace}/tables", "/v1/namespaces/a/b/tables", &p),
              ROUTE_NO_MATCH);
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/a%2Fb", &p), ROUTE_BAD);
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/a%00", &p), ROUTE_BAD);
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/a%zz", &p), ROUTE_BAD);
    CHECK_INT(match("/v1/namespaces/{namespace}", "/v1/namespaces/a%2", &p), ROUTE_BAD);
    /* Templates with more parameters than there is room for never match. */
    CHECK_INT(match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", &p), ROUTE_NO_MATCH);
    CHECK_INT(match("/{a}/{b}/{c}/{d}", "/1/2/3/4", &p), ROUTE_MATCH);
}

TEST(unescape_is_strict)
{
    char out[16];

    CHECK_INT(route_unescape("a%41%7e", 7, out), 3);
    CHECK_STR(out, "aA~");
    CHECK_INT(route_unescape("%", 1, out), -1);
    CHECK_INT(route_unescape("%4", 2, out), -1);
    CHECK_INT(route_unescape("%g1", 3, out), -1);
    CHECK_INT(route_unescape("%00", 3, out), -1);
    CHECK_INT(route_unescape("+", 1, out), 1);
    CHECK_STR(out, "+");
}
