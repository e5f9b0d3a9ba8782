/*
 * quarantine.c - rejected records to the quarantine zone.
 *
 * One JSON-lines file per run that rejected anything:
 *
 *   quarantine/<source>/dt=<run day>/run-<run>.jsonl   (layout_quarantine_key())
 *
 * one line per record:
 *
 *   {"run_id": 7, "source": "orders", "raw_object": "<id>",
 *    "raw_key": "raw/orders/...", "original_name": "orders.jsonl",
 *    "contract_version": "1.0", "line": 12, "record": null,
 *    "field": "amount", "reason": "expected a number, found \"12,5\"",
 *    "text": "<the record as it arrived>", "text_base64": null,
 *    "truncated": false}
 *
 * "line" is set for line-based formats (CSV, JSON lines), "record" for the
 * others (and for JSON arrays both).  A record that is not valid UTF-8
 * cannot be a JSON string: its bytes go to "text_base64" instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/time.h"
#include "core/utf8.h"
#include "store/layout.h"
#include "transform/transform_int.h"
#include "core/banned.h"

static void
add_base64(struct sl_buf *b, const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    sl_buf_addc(b, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                     i + 2 < n ? tab[v & 63] : '='};

        sl_buf_add(b, q, 4);
    }
    sl_buf_addc(b, '"');
}

static void
add_str_or_null(struct sl_buf *b, const char *s)
{
    if (s == NULL)
        sl_buf_adds(b, "null");
    else
        sl_buf_add_json_str(b, s, strlen(s));
}

int
write_quarantine(struct trun *t, struct sl_diag *d)
{
    struct sl_buf b;
    const char *path = NULL;
    char *name;
    FILE *f;
    int rc;

    if (t->quarantined == 0)
        return 0;
    name = sl_printf("quarantine-%lld.jsonl", (long long)t->run_id);
    rc = commit_stage(t->commit, name, &t->quarantine_staged, &path, d);
    free(name);
    if (rc < 0)
        return rc;
    f = fopen(path, "w");
    if (f == NULL) {
        return sl_fail(d, -errno, "cannot create '%s': %s", path, strerror(errno));
    }
    sl_buf_init(&b);
    for (size_t i = 0; i < t->npieces; i++) {
        const struct piece *pc = &t->pieces[i];
        const struct rows_object *o = &pc->obj->ro;

        for (size_t k = 0; k < pc->rows.nbad; k++) {
            const struct rows_bad *q = &pc->rows.bad[k];

            sl_buf_reset(&b);
            sl_buf_addf(&b, "{\"run_id\": %lld, \"source\": ", (long long)t->run_id);
            add_str_or_null(&b, t->src->name);
            sl_buf_adds(&b, ", \"raw_object\": ");
            add_str_or_null(&b, o->object_id);
            sl_buf_adds(&b, ", \"raw_key\": ");
            add_str_or_null(&b, o->key);
            sl_buf_adds(&b, ", \"original_name\": ");
            add_str_or_null(&b, o->original_name);
            sl_buf_adds(&b, ", \"contract_version\": ");
            add_str_or_null(&b, o->contract->version);
            if (q->pos.line > 0)
                sl_buf_addf(&b, ", \"line\": %lld", (long long)q->pos.line);
            else
                sl_buf_adds(&b, ", \"line\": null");
            if (q->pos.record > 0 && !o->line_based)
                sl_buf_addf(&b, ", \"record\": %lld", (long long)q->pos.record);
            else
                sl_buf_adds(&b, ", \"record\": null");
            sl_buf_adds(&b, ", \"field\": ");
            add_str_or_null(&b, q->field);
            sl_buf_adds(&b, ", \"reason\": ");
            add_str_or_null(&b, q->reason);
            if (sl_utf8_valid(q->text, q->len, NULL)) {
                sl_buf_adds(&b, ", \"text\": ");
                sl_buf_add_json_str(&b, q->text, q->len);
                sl_buf_adds(&b, ", \"text_base64\": null");
            } else {
                sl_buf_adds(&b, ", \"text\": null, \"text_base64\": ");
                add_base64(&b, (const unsigned char *)q->text, q->len);
            }
            sl_buf_addf(&b, ", \"truncated\": %s}\n", q->truncated ? "true" : "false");
            if (fwrite(b.data, 1, b.len, f) != b.len)
                rc = -errno;
        }
    }
    sl_buf_release(&b);
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        rc = sl_fail(d, rc, "cannot write '%s': %s", path, sl_strerror(rc));
        return rc;
    }
    rc = commit_seal(t->commit, t->quarantine_staged, d);
    t->quarantine_key = layout_quarantine_key(t->src->name, sl_usec_to_day(sl_now_usec()),
                                              t->run_id);
    return rc;
}
