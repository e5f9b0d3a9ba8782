/*
 * tzif/fuzz.c - libFuzzer target for the TZif reader (src/flow/tz.c):
 * flow_tz_parse() over any bytes, then flow_tz_offset(),
 * flow_tz_next_change() and flow_tz_resolve() on what it accepts.
 *
 * A refusal must be SL_ERR_INPUT with *out NULL and words naming the
 * file.  An accepted zone must keep its promises at a spread of instants
 * (fixed ones around 1970, 2026 and 2150, the limits, and some taken from
 * the input): every offset within the zone's smallest and largest; the
 * offset the same up to the next change, which lies ahead; and a wall time
 * shown once or twice is shown by the instant resolve gives, while a
 * skipped one lies in the jump the clocks make at that instant.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/diag.h"
#include "flow/tz.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_at(const struct flow_tz *z, int64_t t)
{
    int32_t o = flow_tz_offset(z, t);
    int64_t at, u;
    enum flow_tz_fit fit;

    FZ_ASSERT(o >= flow_tz_min_offset(z) && o <= flow_tz_max_offset(z));
    if (flow_tz_next_change(z, t, &at)) {
        FZ_ASSERT(at > t || t >= FLOW_TZ_LIMIT);
        if (at > t)
            FZ_ASSERT(flow_tz_offset(z, at - 1) == o);
    }
    /* t as a wall time. */
    fit = flow_tz_resolve(z, t, &u);
    if (t <= -FLOW_TZ_LIMIT / 2 || t >= FLOW_TZ_LIMIT / 2)
        return;
    if (fit == FLOW_TZ_SKIPPED) {
        FZ_ASSERT(u - 1 + flow_tz_offset(z, u - 1) < t);
        FZ_ASSERT(u + flow_tz_offset(z, u) > t);
    } else {
        FZ_ASSERT(u + flow_tz_offset(z, u) == t);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t fixed[] = {
        0, -1, 1774746000, 1792890000, 5680281600, -2208988800, 4102444800,
        FLOW_TZ_LIMIT, -FLOW_TZ_LIMIT, INT64_MAX, INT64_MIN,
    };
    struct flow_tz *z = (struct flow_tz *)&size;
    struct sl_diag d;
    int rc;

    sl_diag_init(&d);
    rc = flow_tz_parse("fuzz", data, size, &z, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.code == rc && z == NULL);
        FZ_ASSERT(strncmp(d.msg, "malformed time zone file 'fuzz': ", 33) == 0);
        return 0;
    }
    FZ_ASSERT(rc == 0 && z != NULL);
    FZ_ASSERT(flow_tz_min_offset(z) <= flow_tz_max_offset(z));
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_at(z, fixed[i]);
    /* Instants from the input's bytes, folded into +-2^40 s. */
    for (size_t i = 0; i + 8 <= size && i < 64 * 8; i += 8) {
        uint64_t v = 0;

        for (int b = 0; b < 8; b++)
            v = v << 8 | data[i + b];
        check_at(z, (int64_t)(v % (1ULL << 41)) - (1LL << 40));
    }
    flow_tz_free(z);
    return 0;
}
