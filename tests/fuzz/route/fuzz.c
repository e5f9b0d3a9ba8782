/*
 * route/fuzz.c - libFuzzer target for REST routing (src/server/route.c):
 * route_match() and route_unescape().
 *
 * The first byte picks a path template (the Iceberg REST catalog's, and
 * ones with parameters side by side); the rest is a request path as
 * sent.  On a match every parameter must be a NUL-terminated string inside
 * the scratch buffer without a '/' or an inner NUL; re-encoding each
 * value (every byte as %XX) into the template must give a path that
 * matches again with the same values, and the literal segments must be
 * the template's.  route_unescape() must never write past n + 1 bytes nor
 * grow its input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/route.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const templates[] = {
    "/v1/config",
    "/v1/namespaces",
    "/v1/namespaces/{namespace}",
    "/v1/namespaces/{namespace}/tables",
    "/v1/namespaces/{namespace}/tables/{table}",
    "/{a}/{b}/{c}/{d}",
    "/{a}/{b}/{c}/{d}/{e}",
    "/x/{a}/",
};

/* tmpl with each parameter replaced by its value, every byte escaped. */
static size_t
rebuild(const char *tmpl, const struct route_params *p, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0, k = 0;

    for (const char *t = tmpl; *t != '\0';) {
        if (*t == '{') {
            const char *close = strchr(t, '}');

            for (size_t i = 0; i < p->value_len[k]; i++) {
                unsigned char b = (unsigned char)p->value[k][i];

                out[o++] = '%';
                out[o++] = hex[b >> 4];
                out[o++] = hex[b & 15];
            }
            k++;
            t = close + 1;
        } else {
            out[o++] = *t++;
        }
    }
    return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tmpl;
    const char *path;
    size_t n;
    char *scratch, *dec, *again, *scratch2;
    struct route_params p, q;
    long len;

    if (size < 1)
        return 0;
    tmpl = templates[data[0] % (sizeof(templates) / sizeof(templates[0]))];
    path = (const char *)data + 1;
    n = size - 1;

    dec = malloc(n + 1);
    len = route_unescape(path, n, dec);
    FZ_ASSERT(len < 0 || ((size_t)len <= n && strlen(dec) == (size_t)len));
    free(dec);

    scratch = malloc(n + ROUTE_PARAMS_MAX);
    if (route_match(tmpl, path, n, scratch, &p) == ROUTE_MATCH) {
        FZ_ASSERT(p.n <= ROUTE_PARAMS_MAX);
        for (size_t i = 0; i < p.n; i++) {
            FZ_ASSERT(p.value[i] >= scratch &&
                      p.value[i] + p.value_len[i] < scratch + n + ROUTE_PARAMS_MAX);
            FZ_ASSERT(strlen(p.value[i]) == p.value_len[i] && p.value_len[i] > 0);
            FZ_ASSERT(memchr(p.value[i], '/', p.value_len[i]) == NULL);
            FZ_ASSERT(p.name_len[i] > 0 && p.name[i][-1] == '{');
        }
        again = malloc(3 * n + strlen(tmpl) + 1);
        size_t m = rebuild(tmpl, &p, again);

        scratch2 = malloc(m + ROUTE_PARAMS_MAX);
        FZ_ASSERT(route_match(tmpl, again, m, scratch2, &q) == ROUTE_MATCH);
        FZ_ASSERT(q.n == p.n);
        for (size_t i = 0; i < p.n; i++)
            FZ_ASSERT(q.value_len[i] == p.value_len[i] &&
                      memcmp(q.value[i], p.value[i], p.value_len[i]) == 0);
        free(scratch2);
        free(again);
    }
    free(scratch);
    return 0;
}
