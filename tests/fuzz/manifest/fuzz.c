/*
 * manifest/fuzz.c - libFuzzer target for the Iceberg manifest readers.
 *
 * Every input is written to a temporary file (the readers take paths) and
 * read as a manifest (without a list row, and with one that gives its
 * length and sequence numbers to inherit) and as a manifest list.  A read
 * must succeed, or fail with SL_ERR_CORRUPT (SL_ERR_INCOMPATIBLE for a
 * partition type sluice does not read) and a message naming the file;
 * what it returns is walked byte by byte so that the sanitizers see a
 * pointer that points where it must not.
 *
 * avro-c leaks on its error paths and believes the lengths it reads; as
 * in the avro target (see tests/fuzz/README.md), avro-c gets an allocator
 * of its own that refuses anything over 64 MiB and keeps the blocks avro-c
 * holds in a list: a read that succeeded must leave avro-c holding no more
 * than before (else sluice forgot to release something of avro-c's), and
 * after each read what avro-c still holds from the input is what avro-c
 * leaked, and is freed.  Inputs avro-c cannot open are read with leak
 * detection off.
 */
#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../avro_alloc.h"
#include "../fuzz.h"
#include "core/diag.h"
#include "core/mem.h"
#include "table/manifest.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64]; /* the input, as a file */

static void
remove_input(void)
{
    unlink(path);
}


static void
touch_str(const char *s)
{
    FZ_ASSERT(s != NULL);
    fz_touch(s, strlen(s) + 1);
}

static void
check_fail(int rc, const struct sl_diag *d)
{
    FZ_ASSERT(rc == SL_ERR_CORRUPT || rc == SL_ERR_INCOMPATIBLE);
    FZ_ASSERT(d->code == rc);
    FZ_ASSERT(strstr(d->msg, path) != NULL);
}

static void
check_entries(const struct mf_entry *es, size_t n, const struct mf_partition_field *pf,
              size_t npf, const struct mf_manifest *m)
{
    for (size_t k = 0; k < npf; k++)
        touch_str(pf[k].name);
    for (size_t i = 0; i < n; i++) {
        const struct mf_entry *e = &es[i];

        FZ_ASSERT(e->status <= MF_DELETED && e->content <= MF_EQUALITY_DELETES);
        touch_str(e->file_path);
        touch_str(e->file_format);
        FZ_ASSERT(e->record_count >= 0 && e->file_size >= 0);
        if (e->referenced_data_file != NULL)
            touch_str(e->referenced_data_file);
        for (size_t k = 0; k < npf; k++) {
            const struct mf_pvalue *v = &e->partition[k];

            if (v->set && pf[k].type == MF_PT_STRING)
                touch_str(v->s);
            fz_touch(v, sizeof(*v));
        }
        for (size_t k = 0; k < e->nstats; k++) {
            const struct mf_column_stats *s = &e->stats[k];

            /* one per column, by field id */
            if (k > 0)
                FZ_ASSERT(s->field_id > e->stats[k - 1].field_id);
            fz_touch(s->lower, s->lower_len);
            fz_touch(s->upper, s->upper_len);
        }
        fz_touch(e->split_offsets, e->nsplit_offsets * sizeof(int64_t));
        fz_touch(e->equality_ids, e->nequality_ids * sizeof(int32_t));
        /* given a list row, everything is inherited or the read fails */
        if (m != NULL)
            FZ_ASSERT(e->snapshot_id >= 0 && e->sequence_number >= 0);
    }
}

static void
check_list(const struct mf_manifest *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct mf_manifest *m = &rows[i];

        touch_str(m->path);
        FZ_ASSERT(m->content == MF_DATA || m->content == MF_POSITION_DELETES);
        FZ_ASSERT(m->length >= 0 && m->sequence_number >= 0 && m->min_sequence_number >= 0);
        for (size_t k = 0; k < m->npartitions; k++) {
            const struct mf_field_summary *s = &m->partitions[k];

            if (!s->has_bounds)
                continue;
            fz_touch(s->lower_str, s->lower_len + 1);
            fz_touch(s->upper_str, s->upper_len + 1);
            fz_touch(s->lower, s->lower_len <= 16 ? s->lower_len : 0);
            fz_touch(s->upper, s->upper_len <= 16 ? s->upper_len : 0);
        }
    }
}

/* Whether avro-c opens the input at all. */
static bool
avro_opens(void)
{
    avro_file_reader_t reader;
    bool ok;

    leaks_off();
    ok = avro_file_reader(path, &reader) == 0;
    if (ok)
        avro_file_reader_close(reader);
    leaks_on();
    return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct mf_manifest row = {.length = (int64_t)size, .sequence_number = 3,
                              .min_sequence_number = 1, .added_snapshot_id = 99};
    struct sl_arena a;
    bool opens;
    FILE *fp;

    if (!ready) {
        avro_set_allocator(avro_alloc, NULL);
        snprintf(path, sizeof(path), "/tmp/sluice-fuzz-manifest-%ld.avro", (long)getpid());
        atexit(remove_input);
        ready = true;
    }
    avro_input++;
    fp = fopen(path, "wb");
    FZ_ASSERT(fp != NULL);
    FZ_ASSERT(fwrite(data, 1, size, fp) == size);
    FZ_ASSERT(fclose(fp) == 0);
    opens = size > 0 && avro_opens();
    sl_arena_init(&a, 0);
    for (int pass = 0; pass < 3; pass++) {
        struct sl_diag d;
        long live = avro_live;
        int rc;

        sl_diag_init(&d);
        if (!opens)
            leaks_off();
        if (pass < 2) {
            const struct mf_manifest *m = pass == 0 ? NULL : &row;
            struct mf_entry *es;
            struct mf_partition_field *pf;
            size_t n, npf;

            rc = mf_read_manifest(path, m, &a, &es, &n, &pf, &npf, &d);
            if (rc == 0)
                check_entries(es, n, pf, npf, m);
        } else {
            struct mf_manifest *rows;
            size_t n;

            rc = mf_read_list(path, &a, &rows, &n, &d);
            if (rc == 0)
                check_list(rows, n);
        }
        if (!opens)
            leaks_on();
        if (rc == 0)
            FZ_ASSERT(avro_live == live); /* sluice released all of avro-c's */
        else
            check_fail(rc, &d);
        free_leaked();
        sl_arena_reset(&a);
    }
    sl_arena_release(&a);
    return 0;
}
