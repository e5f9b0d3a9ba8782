/*
 * asl/fuzz.c - libFuzzer target for state machine definitions
 * (flow/asl.h): the JSON read, every field checked, paths, templates,
 * intrinsic calls and Choice rules compiled, the graph checked.
 *
 * A definition is loaded or refused; a refusal is SL_ERR_INPUT with words
 * and at least one problem, each "<JSON path>: <what>" starting with "$"
 * (or naming the definition, for JSON that does not parse).  One that
 * loads is run on a virtual clock with the test task resources, to its
 * end, and must end in a status with an error for every status but
 * SUCCEEDED (a runtime error is an error, never a crash).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/diag.h"
#include "core/strlist.h"
#include "flow/asl.h"
#include "flow/exec.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Events recorded at most: a definition may loop forever (A -> B -> A). */
#define MAX_EVENTS 20000

static int
bounded(void *ctx, const struct flow_event *ev, struct sl_diag *d)
{
    (void)ev;
    if (++*(long *)ctx > MAX_EVENTS)
        return sl_fail(d, SL_ERR_LIMIT, "too many events");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_strlist problems = {0};
    struct flow_machine *m = NULL;
    struct flow_virtual_clock vc;
    struct flow_result res;
    struct sl_diag d;
    long events = 0;
    json_t *input;
    int rc;

    sl_diag_init(&d);
    rc = flow_machine_load((const char *)data, size, "fuzz", &m, &problems, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT && d.msg[0] != '\0' && m == NULL);
        FZ_ASSERT(problems.n > 0);
        for (size_t i = 0; i < problems.n; i++)
            FZ_ASSERT(problems.v[i][0] == '$' || strncmp(problems.v[i], "fuzz", 4) == 0);
        sl_strlist_release(&problems);
        return 0;
    }
    FZ_ASSERT(problems.n == 0 && m != NULL && m->nstates > 0);
    flow_virtual_clock_init(&vc, 1700000000000);
    struct flow_exec_opts o = {
        .name = "f",
        .clock = &vc.clock,
        .on_event = bounded,
        .ctx = &events,
        .seed = 1,
    };
    input = json_pack("{s:i,s:[i,i],s:s}", "n", 1, "items", 1, 2, "s", "x");
    sl_diag_init(&d);
    rc = flow_execute(m, input, &o, &res, &d);
    if (rc == 0) {
        FZ_ASSERT(res.status != FLOW_RUNNING);
        FZ_ASSERT(res.status == FLOW_SUCCEEDED ? res.output != NULL : res.error != NULL);
    } else {
        FZ_ASSERT(rc == SL_ERR_LIMIT);
    }
    flow_result_release(&res);
    json_decref(input);
    flow_machine_free(m);
    return 0;
}
