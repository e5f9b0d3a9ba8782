/*
 * credentials/fuzz.c - libFuzzer target for the credentials file.
 *
 * The input is parsed with keys_parse() as .sluice/credentials.  A refusal
 * must be SL_ERR_INPUT with words and a line within the input, and must not
 * quote the value of any aws_secret_access_key line (a secret never appears
 * in a message).  Keys that parse have valid names, unique names and ids,
 * and ids and secrets of the accepted forms.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "server/keys.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "/p/.sluice/credentials"

/*
 * Whether text holds any secret value of the input that is long enough to
 * be one.  A value whose characters occur elsewhere in the input too (as a
 * key name, say, which messages may quote) proves nothing and is skipped.
 */
static bool
quotes_a_secret(const char *text, const uint8_t *data, size_t size)
{
    static const char key[] = "aws_secret_access_key";
    const char *s = (const char *)data, *end = s + size;

    while (s < end) {
        const char *le = memchr(s, '\n', (size_t)(end - s));
        const char *eq, *v, *ve;

        if (le == NULL)
            le = end;
        eq = memchr(s, '=', (size_t)(le - s));
        if (eq != NULL && memmem(s, (size_t)(eq - s), key, sizeof(key) - 1) != NULL) {
            v = eq + 1;
            ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
                ve--;
            if (ve - v >= 16 && memchr(v, 0, (size_t)(ve - v)) == NULL &&
                memmem(text, strlen(text), v, (size_t)(ve - v)) != NULL) {
                const char *first = memmem(data, size, v, (size_t)(ve - v));
                const char *next =
                    memmem(first + 1, (size_t)(end - first - 1), v, (size_t)(ve - v));

                if (first == v && next == NULL)
                    return true;
            }
        }
        s = le < end ? le + 1 : end;
    }
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct key_info *keys = NULL;
    struct sl_diag d;
    char msg[4096];
    size_t n = 0, lines = 1;
    int rc;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    sl_diag_init(&d);
    rc = keys_parse(PATH, (const char *)data, size, &keys, &n, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT);
        FZ_ASSERT(d.code == rc && d.msg[0] != '\0');
        FZ_ASSERT(strcmp(d.where, PATH) == 0);
        FZ_ASSERT(d.line >= 1 && (size_t)d.line <= lines);
        sl_diag_format(&d, msg, sizeof(msg));
        FZ_ASSERT(!quotes_a_secret(msg, data, size));
        FZ_ASSERT(!quotes_a_secret(d.detail, data, size));
        FZ_ASSERT(!quotes_a_secret(d.hint, data, size));
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t idn = strlen(keys[i].id), sn = strlen(keys[i].secret);

        FZ_ASSERT(keys_name_valid(keys[i].name));
        FZ_ASSERT(idn >= 16 && idn <= KEYS_ID_MAX);
        FZ_ASSERT(sn >= 16 && sn <= KEYS_SECRET_MAX);
        FZ_ASSERT(strspn(keys[i].id,
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == idn);
        for (size_t j = 0; j < sn; j++)
            FZ_ASSERT(keys[i].secret[j] > ' ' && keys[i].secret[j] < 0x7f);
        FZ_ASSERT(keys[i].line >= 1 && (size_t)keys[i].line <= lines);
        for (size_t j = 0; j < i; j++) {
            FZ_ASSERT(strcmp(keys[i].name, keys[j].name) != 0);
            FZ_ASSERT(strcmp(keys[i].id, keys[j].id) != 0);
            FZ_ASSERT(keys[i].line > keys[j].line);
        }
    }
    keys_info_free(keys, n);
    return 0;
}
