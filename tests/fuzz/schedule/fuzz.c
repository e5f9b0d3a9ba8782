/*
 * schedule/fuzz.c - libFuzzer target for schedule expressions
 * (src/flow/schedule.c) and the zone names they come with:
 * flow_schedule_parse(), flow_schedule_next() and flow_schedule_kind().
 *
 * The input is an expression, then optionally a NUL and a zone name (UTC
 * when there is none), then optionally a NUL and eight bytes: the instant
 * to start from (ms, little-endian, folded into the years 1960-2210), and
 * the anchor a rate counts from is the same instant less a few days.  A
 * refusal must be SL_ERR_INPUT (or a negated errno from reading a zone),
 * leave *out NULL, and have words that name the part refused.  A schedule
 * that parses must parse again, name its kind, and give fire times that
 * are whole seconds, strictly after where they start, in order, and
 * stable: asking again from just before a fire time gives that time.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/diag.h"
#include "core/mem.h"
#include "flow/schedule.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1960-01-01 and 2210-01-01, in ms. */
#define LO (-315619200000LL)
#define SPAN (7573651200000LL - LO)

static bool
words_ok(const char *msg)
{
    static const char *const starts[] = {
        "rate(...): ", "cron(...): ", "at(...): ", "schedule expression ",
        "no schedule expression", "unknown time zone '", "malformed time zone file '",
        "could not open time zone file '",
    };

    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++)
        if (strncmp(msg, starts[i], strlen(starts[i])) == 0)
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t elen = strnlen(text, size), zlen = 0;
    char *expr = sl_strndup(text, elen), *zone = NULL;
    struct flow_schedule *s = (struct flow_schedule *)&size, *again;
    struct sl_diag d;
    int64_t after = 1777000000000LL, anchor, next, prev;
    int rc;

    if (elen < size) {
        zlen = strnlen(text + elen + 1, size - elen - 1);
        zone = sl_strndup(text + elen + 1, zlen);
        if (elen + 1 + zlen + 1 + 8 <= size) {
            uint64_t v = 0;

            for (int i = 7; i >= 0; i--)
                v = v << 8 | data[elen + 1 + zlen + 1 + i];
            after = LO + (int64_t)(v % (uint64_t)SPAN);
        }
    }
    anchor = after - (int64_t)(after % 5) * 86400000;

    sl_diag_init(&d);
    rc = flow_schedule_parse(expr, zone, &s, &d);
    if (rc < 0) {
        FZ_ASSERT(s == NULL && d.code == rc);
        FZ_ASSERT(rc == SL_ERR_INPUT || rc > -4096);
        FZ_ASSERT(words_ok(d.msg));
        goto out;
    }
    FZ_ASSERT(rc == 0 && s != NULL);
    FZ_ASSERT(strcmp(flow_schedule_kind(s), "rate") == 0 ||
              strcmp(flow_schedule_kind(s), "cron") == 0 ||
              strcmp(flow_schedule_kind(s), "at") == 0);
    sl_diag_init(&d);
    FZ_ASSERT(flow_schedule_parse(expr, zone, &again, &d) == 0);
    flow_schedule_free(again);

    prev = after;
    for (int i = 0; i < 4 && flow_schedule_next(s, anchor, prev, &next); i++) {
        int64_t same;

        FZ_ASSERT(next > prev);
        if (strcmp(flow_schedule_kind(s), "rate") != 0)
            FZ_ASSERT(next % 1000 == 0);
        FZ_ASSERT(flow_schedule_next(s, anchor, next - 1, &same) && same == next);
        prev = next;
    }
    flow_schedule_free(s);
out:
    free(zone);
    free(expr);
    return 0;
}
