/*
 * avro/fuzz.c - libFuzzer target for the Avro reader.
 *
 * Every input goes to read_avro() under both contract variants of fuzz.h,
 * then through the checks of fuzz.h.  avro-c parses the container; what is
 * sluice's here is the mapping of writer fields to contract columns, the
 * logical types read from the writer schema, the conversions and the
 * quarantine of corrupt tails.
 *
 * avro-c 1.11.1 leaks what it had read (the writer schema, the block
 * reader) when avro_file_reader_fp() fails on a file whose header or first
 * block is broken.  That is not sluice's to fix, so for exactly those
 * inputs - avro-c is asked first - read_avro() runs with leak detection
 * off; every other input is read with it on.  avro-c also believes the
 * lengths it reads and asks for allocations of any size, even 2^64 - 61
 * bytes; sluice's own allocations are bounded by the input, so this target
 * has allocations over 1 GiB fail (NULL, which avro-c reports as an error)
 * rather than stop the sanitizer.
 */
#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../fuzz.h"
#include "core/diag.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *__asan_default_options(void);

/* Read by AddressSanitizer at start-up, before ASAN_OPTIONS. */
const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=1024";
}

/* LeakSanitizer's switches; weak, so that a build without it links too. */
void __lsan_disable(void) __attribute__((weak));
void __lsan_enable(void) __attribute__((weak));

static void
leaks_off(void)
{
    if (__lsan_disable != NULL)
        __lsan_disable();
}

static void
leaks_on(void)
{
    if (__lsan_enable != NULL)
        __lsan_enable();
}

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

static void
run(const struct fz_variant *v, const uint8_t *data, size_t size, bool opens)
{
    struct rows_object obj;
    struct colmap map;
    struct rows r;
    struct sl_diag d;
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
    rows_release(&r);
    colmap_release(&map);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool opens = avro_opens(data, size);

    for (int i = 0; i < 2; i++)
        run(fz_variant(i), data, size, opens);
    return 0;
}
