/*
 * flow_path/fuzz.c - libFuzzer target for ASL JSONPath (flow/path.h).
 *
 * The input is a path, up to the first newline; what follows, if it reads
 * as JSON, is the document (else a fixed one).  A refusal must be
 * SL_ERR_INPUT naming a column, the same whether a reference path was
 * asked for or not.  A path that parses keeps its text, says "$$" when it
 * starts there, and parses as a reference path exactly when it says it is
 * one (else the refusal names the step and its column).  Selecting returns
 * a value, SL_ERR_NOTFOUND or SL_ERR_LIMIT, each with words, from the
 * document and from no input at all.  For a reference path:
 *
 *   - what it selects, put back at the same place in a copy, leaves the
 *     copy equal to the document;
 *   - a put into the document while someone else holds it (and, aliased,
 *     of the document into itself) leaves the other holder's view
 *     unchanged; what it put selects back equal, the tree holds no cycle
 *     (it dumps), and a refused put changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/diag.h"
#include "core/mem.h"
#include "flow/path.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *DOC = "{\"a\":{\"b\":[1,{\"c\":\"x\"},[2,3]],\"d\":null,\"e\":true},"
                         "\"list\":[{\"n\":1,\"s\":\"one\"},{\"n\":2,\"s\":\"two\",\"t\":[]},"
                         "{\"n\":2.5}],\"x y\":{\"\":0},\"num\":-3}";
static const char *CTX = "{\"Execution\":{\"Id\":\"arn:x\",\"Input\":{\"k\":1}},"
                         "\"Map\":{\"Item\":{\"Index\":1,\"Value\":{\"n\":2}}}}";

static volatile size_t sink;

/* j dumps (so it holds no cycle); the text is read to the end. */
static void
check_dumps(const json_t *j)
{
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

    FZ_ASSERT(s != NULL);
    sink += strlen(s);
    free(s);
}

/* Select with p from input and context: a value, or a failure with words. */
static int
check_select(const struct flow_path *p, json_t *input, json_t *context, json_t **out)
{
    struct flow_roots r = {input, context};
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    *out = (json_t *)&d; /* must be reset */
    rc = flow_path_select(p, &r, out, &d);
    if (rc == 0) {
        FZ_ASSERT(*out != NULL && d.code == 0);
        check_dumps(*out);
        return 0;
    }
    FZ_ASSERT(*out == NULL && d.code == rc && d.msg[0] != '\0');
    FZ_ASSERT(rc == SL_ERR_NOTFOUND || rc == SL_ERR_LIMIT);
    if (rc == SL_ERR_NOTFOUND)
        FZ_ASSERT(strchr(d.msg, ':') != NULL);
    else
        FZ_ASSERT(strstr(d.msg, "would visit more than") != NULL);
    return rc;
}

/* The put checks of the file's comment, for a reference path into "$". */
static void
check_put(const struct flow_path *p, json_t *doc, json_t *found, bool alias)
{
    json_t *before = json_deep_copy(doc), *root, *value, *want, *got;
    struct flow_roots r;
    struct sl_diag d;
    int rc;

    /* What it selects, put back into a copy, changes nothing. */
    if (found != NULL) {
        root = json_deep_copy(doc);
        sl_diag_init(&d);
        FZ_ASSERT(flow_path_put(p, &root, found, &d) == 0);
        FZ_ASSERT(json_equal(root, doc));
        json_decref(root);
    }

    /* Into the document while the caller still holds it. */
    root = json_incref(doc);
    value = alias ? doc : json_string("fz");
    want = json_deep_copy(value);
    sl_diag_init(&d);
    rc = flow_path_put(p, &root, value, &d);
    FZ_ASSERT(json_equal(doc, before));
    if (rc == 0) {
        check_dumps(root);
        r = (struct flow_roots){root, NULL};
        FZ_ASSERT(flow_path_select(p, &r, &got, NULL) == 0);
        FZ_ASSERT(json_equal(got, want));
        json_decref(got);
    } else {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && d.msg[0] != '\0');
        FZ_ASSERT(root == doc);
    }
    json_decref(root);
    if (!alias)
        json_decref(value);

    /* The same into an unshared copy, which changes in place. */
    root = json_deep_copy(doc);
    value = alias ? root : want;
    sl_diag_init(&d);
    rc = flow_path_put(p, &root, value, &d);
    if (rc == 0) {
        check_dumps(root);
        r = (struct flow_roots){root, NULL};
        FZ_ASSERT(flow_path_select(p, &r, &got, NULL) == 0);
        FZ_ASSERT(json_equal(got, want));
        json_decref(got);
    } else {
        FZ_ASSERT(rc == SL_ERR_INPUT && json_equal(root, before));
    }
    json_decref(root);
    json_decref(want);
    json_decref(before);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t len = nl != NULL ? (size_t)(nl - data) : size;
    char *text = sl_strndup((const char *)data, len);
    struct flow_path *p = NULL, *q = NULL;
    json_t *doc = NULL, *ctx = json_loads(CTX, 0, NULL), *out;
    struct sl_diag d, d2;
    int rc;

    if (nl != NULL)
        doc = json_loadb((const char *)nl + 1, size - len - 1, JSON_DECODE_ANY, NULL);
    if (doc == NULL)
        doc = json_loads(DOC, 0, NULL);

    sl_diag_init(&d);
    p = (struct flow_path *)&d; /* must be reset */
    rc = flow_path_parse(text, false, &p, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && p == NULL);
        FZ_ASSERT(strstr(d.msg, "is not a valid path: ") != NULL);
        FZ_ASSERT(strstr(d.msg, "column ") != NULL);
        sl_diag_init(&d2);
        FZ_ASSERT(flow_path_parse(text, true, &q, &d2) == SL_ERR_INPUT && q == NULL);
        FZ_ASSERT(strcmp(d.msg, d2.msg) == 0);
        goto out;
    }
    FZ_ASSERT(rc == 0 && p != NULL && d.code == 0);
    FZ_ASSERT(strcmp(flow_path_text(p), text) == 0);
    FZ_ASSERT(flow_path_is_context(p) == (strncmp(text, "$$", 2) == 0));
    sl_diag_init(&d2);
    rc = flow_path_parse(text, true, &q, &d2);
    if (flow_path_is_reference(p)) {
        FZ_ASSERT(rc == 0 && q != NULL && flow_path_is_reference(q));
    } else {
        FZ_ASSERT(rc == SL_ERR_INPUT && q == NULL);
        FZ_ASSERT(strstr(d2.msg, "is not a reference path: ") != NULL);
        FZ_ASSERT(strstr(d2.msg, " at column ") != NULL);
    }

    if (check_select(p, NULL, NULL, &out) == 0)
        json_decref(out);
    rc = check_select(p, doc, ctx, &out);
    if (flow_path_is_reference(p) && !flow_path_is_context(p))
        check_put(p, doc, rc == 0 ? out : NULL, (size & 1) != 0);
    if (rc == 0)
        json_decref(out);
out:
    flow_path_free(p);
    flow_path_free(q);
    json_decref(doc);
    json_decref(ctx);
    free(text);
    return 0;
}
