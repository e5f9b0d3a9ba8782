/*
 * json/fuzz.c - libFuzzer target for the JSON readers.
 *
 * Every input is read both as JSON lines (read_jsonl) and as a JSON array
 * (read_json_array), each under both contract variants of fuzz.h, and the
 * rows are checked after each read.  A JSON-lines read starts at the line
 * and record numbers a later range of a split object would have under the
 * loose variant, as the transform reads big objects in ranges.
 */
#include <stddef.h>
#include <stdint.h>

#include "../fuzz.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
run(const struct fz_variant *v, const uint8_t *data, size_t size, bool lines)
{
    struct rows_object obj;
    struct colmap map;
    struct rows r;
    int rc;

    fz_object(&obj, v, lines);
    colmap_init(&map, &v->contract);
    rows_init(&r, &obj, v->max_record_bytes);
    if (lines) {
        int64_t first = v->contract.unknown_fields == CONTRACT_UNKNOWN_IGNORE ? 1000 : 1;

        rc = read_jsonl(&r, &map, (const char *)data, size, first, first);
    } else {
        rc = read_json_array(&r, &map, (const char *)data, size);
    }
    /* The readers fail only for reasons outside the data. */
    FZ_ASSERT(rc == 0);
    fz_check(&r, v, data, size, true);
    if (lines && size > 0 && r.records_in == 0) {
        /* Nothing read: then every line was blank. */
        for (size_t i = 0; i < size; i++)
            FZ_ASSERT(data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n');
    }
    rows_release(&r);
    colmap_release(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int i = 0; i < 2; i++) {
        run(fz_variant(i), data, size, true);
        run(fz_variant(i), data, size, false);
    }
    return 0;
}
