/*
 * flow_intrinsic/fuzz.c - libFuzzer target for the intrinsic functions of
 * Amazon States Language (src/flow/intrinsic.c): flow_intrinsic_is_call(),
 * flow_intrinsic_parse() and flow_intrinsic_eval().
 *
 * The input is a call, then optionally a NUL and a JSON document to use as
 * the state input "$" (a fixed document with a value of every kind when
 * there is none, or when it does not parse); the context object "$$" is
 * fixed.  A refusal must be SL_ERR_INPUT, leave *out NULL, and have words
 * that begin "column N: " with N inside the text (or just past it).  A call
 * that parses must be one flow_intrinsic_is_call() recognises and parse
 * again.  Its evaluation must succeed with a value of at most 256 KiB as
 * JSON, or fail with SL_ERR_INPUT and words naming the function; without
 * States.UUID and States.MathRandom it must give the same outcome twice;
 * and a value, wrapped as States.StringToJson(States.JsonToString(...)),
 * must come back equal (unless the wrapping nests too deep or grows too
 * large).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/diag.h"
#include "core/mem.h"
#include "flow/intrinsic.h"
#include "flow/path.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESULT 262144

static const char default_input[] =
    "{\"s\":\"a,b;c\",\"e\":\"\",\"i\":5,\"neg\":-3,\"r\":2.5,\"t\":true,\"f\":false,\"n\":null,"
    "\"arr\":[1,2,2,\"x\",[1],{\"k\":1},null,1.0],\"o\":{\"a\":{\"b\":1},\"c\":[3]},"
    "\"json\":\"{\\\"k\\\":[1,2,{\\\"z\\\":null}]}\",\"b64\":\"aGVsbG8=\",\"tmpl\":\"{} and {}\","
    "\"u\":\"h\\u00e9llo\\u2192\\ud83d\\ude00\",\"big\":1e300,\"alg\":\"SHA-256\"}";

static const char context_text[] =
    "{\"Execution\":{\"Name\":\"exec-1\",\"Input\":{\"x\":[1,2,3]}},"
    "\"StateMachine\":{\"Name\":\"sm-a-b\",\"Id\":\"arn:aws:states:us-east-1:1:stateMachine:sm\"},"
    "\"State\":{\"Name\":\"S\",\"RetryCount\":0},\"Map\":{\"Item\":{\"Index\":2,\"Value\":\"v\"}}}";

static json_t *context;

/* The number of characters (not bytes) of s. */
static size_t
chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static bool
deterministic(const char *text)
{
    return strstr(text, "States.UUID") == NULL && strstr(text, "States.MathRandom") == NULL;
}

/* Parse and evaluate text: the rc of whichever failed, 0 with *out set. */
static int
run(const char *text, const struct flow_roots *r, json_t **out, struct sl_diag *d)
{
    struct flow_intrinsic *f;
    int rc;

    *out = NULL;
    sl_diag_init(d);
    rc = flow_intrinsic_parse(text, &f, d);
    if (rc < 0)
        return rc;
    rc = flow_intrinsic_eval(f, r, out, d);
    flow_intrinsic_free(f);
    return rc;
}

static void
check_value(const json_t *v)
{
    char *s;

    FZ_ASSERT(v != NULL);
    /* jansson writes doubles with up to 17 digits, a little longer than ours. */
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    FZ_ASSERT(s != NULL && strlen(s) <= 2 * MAX_RESULT);
    free(s);
}

/* StringToJson(JsonToString(x)) is x. */
static void
check_round_trip(const char *text, const struct flow_roots *r, const json_t *v)
{
    struct sl_diag d;
    json_t *again;
    char *wrapped = sl_printf("States.StringToJson(States.JsonToString(%s))", text);
    int rc = run(wrapped, r, &again, &d);

    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT);
        FZ_ASSERT(strstr(d.msg, "calls nest more than") != NULL ||
                  strstr(d.msg, "than 262144 bytes") != NULL);
    } else {
        FZ_ASSERT(json_equal(again, v));
        json_decref(again);
    }
    free(wrapped);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_intrinsic *f = (struct flow_intrinsic *)&size, *g;
    struct flow_roots r;
    struct sl_diag d, d2;
    json_t *input = NULL, *v, *w;
    size_t tlen = strnlen((const char *)data, size);
    char *text = sl_strndup((const char *)data, tlen);
    int rc, rc2, col;

    if (context == NULL)
        context = json_loads(context_text, 0, NULL);
    if (tlen + 1 < size)
        input = json_loadb((const char *)data + tlen + 1, size - tlen - 1,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (input == NULL)
        input = json_loads(default_input, 0, NULL);
    r.input = input;
    r.context = context;

    sl_diag_init(&d);
    rc = flow_intrinsic_parse(text, &f, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && f == NULL);
        FZ_ASSERT(sscanf(d.msg, "column %d: ", &col) == 1);
        FZ_ASSERT(col >= 1 && (size_t)col <= chars(text) + 1);
        goto out;
    }
    FZ_ASSERT(f != NULL && flow_intrinsic_is_call(text));
    sl_diag_init(&d2);
    FZ_ASSERT(flow_intrinsic_parse(text, &g, &d2) == 0);
    flow_intrinsic_free(g);

    sl_diag_init(&d);
    rc = flow_intrinsic_eval(f, &r, &v, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && v == NULL);
        FZ_ASSERT(strncmp(d.msg, "States.", 7) == 0);
    } else {
        check_value(v);
    }
    if (deterministic(text)) {
        sl_diag_init(&d2);
        rc2 = flow_intrinsic_eval(f, &r, &w, &d2);
        FZ_ASSERT(rc2 == rc);
        if (rc == 0) {
            FZ_ASSERT(json_equal(v, w));
            check_round_trip(text, &r, v);
            json_decref(w);
        } else {
            FZ_ASSERT(strcmp(d.msg, d2.msg) == 0);
        }
    }
    json_decref(v);
    flow_intrinsic_free(f);
out:
    json_decref(input);
    free(text);
    return 0;
}
