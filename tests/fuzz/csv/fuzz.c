/*
 * csv/fuzz.c - libFuzzer target for the CSV reader.
 *
 * Under each contract variant of fuzz.h: csv_check_header() (what ingest
 * runs on arrival), then read_csv() on the same bytes, then the checks of
 * fuzz.h.  The two must agree: a header that fails the check makes the
 * reader quarantine the whole object as one record, and a header that
 * passes leaves the reader to read the records after it.
 */
#include <stddef.h>
#include <stdint.h>

#include "../fuzz.h"
#include "core/diag.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const struct fz_variant *v, const uint8_t *data, size_t size)
{
    struct rows_object obj;
    struct colmap map;
    struct rows r;
    struct sl_diag d;
    size_t hlen = SIZE_MAX;
    char msg[2048];
    int hrc, rc;

    sl_diag_init(&d);
    hrc = csv_check_header(&v->contract, (const char *)data, size, &hlen, &d);
    if (hrc == 0) {
        FZ_ASSERT(hlen <= size);
        FZ_ASSERT(d.code == 0);
    } else {
        FZ_ASSERT(hrc == SL_ERR_INPUT);
        FZ_ASSERT(d.code == SL_ERR_INPUT && d.msg[0] != '\0');
        sl_diag_format(&d, msg, sizeof(msg));
        fz_touch(msg, strlen(msg));
    }

    fz_object(&obj, v, true);
    colmap_init(&map, &v->contract);
    rows_init(&r, &obj, v->max_record_bytes);
    rc = read_csv(&r, &map, (const char *)data, size);
    FZ_ASSERT(rc == 0);
    fz_check(&r, v, data, size, true);
    if (hrc < 0) {
        FZ_ASSERT(r.records_in == 1 && r.n == 0 && r.nbad == 1);
        FZ_ASSERT(r.bad[0].pos.line == 1 && r.bad[0].pos.record == 1);
    } else {
        /* Records start after the header: line 2 at the earliest. */
        for (size_t i = 0; i < r.n; i++)
            FZ_ASSERT(r.pos[i] >= 2);
        for (size_t i = 0; i < r.nbad; i++)
            FZ_ASSERT(r.bad[i].pos.line >= 2);
    }
    rows_release(&r);
    colmap_release(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < 2; i++)
        run(fz_variant(i), data, size);
    return 0;
}
