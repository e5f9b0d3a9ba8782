/*
 * json.c - JSON text as Step Functions writes it (see json.h).
 */
#include "flow/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"

const char *
flow_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

void
flow_json_double(double x, char res[FLOW_DOUBLE_TEXT])
{
    char tmp[40], digits[24];
    size_t nd = 0, k = 0;
    int exp10, p;
    const char *q;

    if (!isfinite(x)) {
        /* JSON has none; jansson refuses to make them */
        snprintf(res, FLOW_DOUBLE_TEXT, "null");
        return;
    }
    if (x == 0) {
        memcpy(res, signbit(x) ? "-0.0" : "0.0", signbit(x) ? 5 : 4);
        return;
    }
    for (p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    /* tmp is [-]d[.ddd]e[+-]dd; digits gets the d's, at most 17 */
    q = tmp + (tmp[0] == '-');
    for (; *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    exp10 = (int)strtol(q + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (x < 0)
        res[k++] = '-';
    if (fabs(x) >= 1e-3 && fabs(x) < 1e7) {
        /* exp10 is -3..6: at most 7 + 1 + 17 characters */
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++)
                res[k++] = (size_t)i < nd ? digits[i] : '0';
            res[k++] = '.';
            if ((size_t)exp10 + 1 >= nd)
                res[k++] = '0';
            for (size_t i = (size_t)exp10 + 1; i < nd; i++)
                res[k++] = digits[i];
        } else {
            res[k++] = '0';
            res[k++] = '.';
            for (int i = -1; i > exp10; i--)
                res[k++] = '0';
            for (size_t i = 0; i < nd; i++)
                res[k++] = digits[i];
        }
        res[k] = '\0';
    } else {
        res[k++] = digits[0];
        res[k++] = '.';
        if (nd == 1)
            res[k++] = '0';
        for (size_t i = 1; i < nd; i++)
            res[k++] = digits[i];
        snprintf(res + k, FLOW_DOUBLE_TEXT - k, "E%d", exp10);
    }
}

static void
add_string(struct sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    sl_buf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        const char *e = NULL;
        size_t elen = 2;

        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                e = esc;
                elen = 6;
            }
        }
        if (e == NULL)
            continue;
        sl_buf_add(b, s + run, i - run);
        sl_buf_add(b, e, elen);
        run = i + 1;
    }
    sl_buf_add(b, s + run, n - run);
    sl_buf_add(b, "\"", 1);
}

static void
add_value(struct sl_buf *b, const json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    char num[FLOW_DOUBLE_TEXT];

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        sl_buf_add(b, "{", 1);
        i = 0;
        json_object_foreach((json_t *)v, key, x) {
            if (i++ > 0)
                sl_buf_add(b, ",", 1);
            add_string(b, key, strlen(key));
            sl_buf_add(b, ":", 1);
            add_value(b, x);
        }
        sl_buf_add(b, "}", 1);
        break;
    case JSON_ARRAY:
        sl_buf_add(b, "[", 1);
        json_array_foreach(v, i, x) {
            if (i > 0)
                sl_buf_add(b, ",", 1);
            add_value(b, x);
        }
        sl_buf_add(b, "]", 1);
        break;
    case JSON_STRING:
        add_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sl_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        flow_json_double(json_real_value(v), num);
        sl_buf_add(b, num, strlen(num));
        break;
    case JSON_TRUE:
        sl_buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        sl_buf_add(b, "false", 5);
        break;
    case JSON_NULL:
        sl_buf_add(b, "null", 4);
        break;
    }
}

char *
flow_json_dump(const json_t *v)
{
    struct sl_buf b;
    char *out;

    sl_buf_init(&b);
    add_value(&b, v);
    sl_buf_add(&b, "", 1);
    out = sl_strdup(b.data);
    sl_buf_release(&b);
    return out;
}
