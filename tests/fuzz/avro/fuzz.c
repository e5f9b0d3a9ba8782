/*
 * avro/fuzz.c - libFuzzer target for the Avro reader.
 *
 * Every input goes to read_avro() under both contract variants of fuzz.h,
 * then through the checks of fuzz.h.  avro-c parses the container; what is
 * sluice's here is the mapping of writer fields to contract columns, the
 * logical types read from the header's schema, the conversions, the
 * quarantine of corrupt tails and the handling of avro-c's objects.
 *
 * avro-c 1.11.1 leaks on its error paths: what it had read when
 * avro_file_reader_fp() fails on a broken header or first block, and a
 * string or bytes buffer when a value is cut short.  It also believes the
 * lengths it reads, and asks for allocations of any size.  Neither is
 * sluice's to fix, so this target gives avro-c an allocator of its own.  It
 * refuses anything over 64 MiB (avro-c reports that as an error), and keeps
 * every block avro-c holds in a list: a read that met no corrupt data must
 * leave avro-c holding no more blocks than before, or sluice failed to
 * release something of avro-c's (a schema, a value, a reader); after each
 * input, whatever avro-c still holds from it is what avro-c leaked, and is
 * freed, so that neither LeakSanitizer nor the memory limit trips over it.
 * Inputs that avro-c cannot open at all are read with leak detection off.
 */
#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../avro_alloc.h"
#include "../fuzz.h"
#include "core/diag.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether avro-c opens data as read_avro() will ask it to. */
static bool
avro_opens(const uint8_t *data, size_t size)
{
    avro_file_reader_t reader;
    FILE *fp;
    bool ok;

    if (size == 0)
        return false;
    leaks_off();
    fp = fmemopen((void *)data, size, "rb");
    ok = fp != NULL && avro_file_reader_fp(fp, "object", 1, &reader) == 0;
    if (ok)
        avro_file_reader_close(reader);
    leaks_on();
    return ok;
}

/* Whether the read ran into corrupt data (where avro-c may leak). */
static bool
met_corrupt_data(const struct rows *r)
{
    static const char prefix[] = "the Avro data is corrupt";

    for (size_t i = 0; i < r->nbad; i++)
        if (strncmp(r->bad[i].reason, prefix, sizeof(prefix) - 1) == 0)
            return true;
    return false;
}

static void
run(const struct fz_variant *v, const uint8_t *data, size_t size, bool opens)
{
    struct rows_object obj;
    struct colmap map;
    struct rows r;
    struct sl_diag d;
    long live = avro_live;
    int rc;

    sl_diag_init(&d);
    fz_object(&obj, v, false);
    colmap_init(&map, &v->contract);
    rows_init(&r, &obj, v->max_record_bytes);
    if (!opens)
        leaks_off();
    rc = read_avro(&r, &map, (const char *)data, size, &d);
    if (!opens)
        leaks_on();
    /* The only failure is fmemopen() running out of memory. */
    FZ_ASSERT(rc == 0);
    FZ_ASSERT(d.code == 0);
    fz_check(&r, v, data, size, false);
    /* What avro-c cannot open is one quarantined record, the whole object. */
    if (!opens)
        FZ_ASSERT(r.records_in == 1 && r.n == 0 && r.nbad == 1 && r.bad[0].pos.record == 1);
    /* Everything of avro-c's that read_avro() made, it released. */
    if (opens && !met_corrupt_data(&r))
        FZ_ASSERT(avro_live == live);
    rows_release(&r);
    colmap_release(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    bool opens;

    if (!ready) {
        avro_set_allocator(avro_alloc, NULL);
        ready = true;
    }
    avro_input++;
    opens = avro_opens(data, size);
    for (int i = 0; i < 2; i++)
        run(fz_variant(i), data, size, opens);
    free_leaked();
    return 0;
}
