/*
 * triggers/fuzz.c - libFuzzer target for a flow's triggers file
 * (flows/NAME.yaml, src/flow/trigger.c): flow_trigger_parse() over any
 * bytes, with two sources declared.
 *
 * A refusal must be SL_ERR_INPUT (or a negated errno from reading a time
 * zone) naming the file: its words begin with it, or, for YAML's own
 * errors, it is the diagnostic's place, with a line.  Triggers that parse
 * must hold what trigger.h promises: a known kind, a target, a key that
 * names the kind and is unique in the file, a schedule exactly on
 * schedules (which gives fire times strictly after where it starts), a
 * source the project has on arrivals, curated.X or gold.X on commits, a
 * batch within its bounds, an input that is JSON; and the same bytes
 * parse again to the same keys.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/diag.h"
#include "core/mem.h"
#include "flow/schedule.h"
#include "flow/trigger.h"
#include "../fz_assert.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "flows/fz.yaml"

static const char *const sources[] = {"orders", "events"};
static const char *const kinds[] = {"arrival:", "commit:", "held:", "schedule:"};

static void
check(const struct flow_triggered *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct flow_trigger *t = &f->v[i];
        int64_t next;

        FZ_ASSERT(t->kind >= FLOW_ON_ARRIVAL && t->kind <= FLOW_ON_SCHEDULE);
        FZ_ASSERT(t->target != NULL && t->target[0] != '\0');
        FZ_ASSERT(strncmp(t->key, kinds[t->kind], strlen(kinds[t->kind])) == 0);
        FZ_ASSERT((t->schedule != NULL) == (t->kind == FLOW_ON_SCHEDULE));
        FZ_ASSERT(t->input == NULL || t->kind == FLOW_ON_SCHEDULE);
        for (size_t j = 0; j < i; j++)
            FZ_ASSERT(strcmp(f->v[j].key, t->key) != 0);
        switch (t->kind) {
        case FLOW_ON_ARRIVAL:
            FZ_ASSERT(strcmp(t->target, "orders") == 0 || strcmp(t->target, "events") == 0);
            FZ_ASSERT(t->batch >= 1 && t->batch <= 10000);
            break;
        case FLOW_ON_COMMIT:
            FZ_ASSERT(strncmp(t->target, "curated.", 8) == 0 ||
                      strncmp(t->target, "gold.", 5) == 0);
            break;
        case FLOW_ON_HELD:
            break;
        case FLOW_ON_SCHEDULE:
            if (flow_schedule_next(t->schedule, 1700000000000, 1700000000000, &next))
                FZ_ASSERT(next > 1700000000000);
            if (t->input != NULL) {
                json_t *j = json_loads(t->input, JSON_DECODE_ANY, NULL);

                FZ_ASSERT(j != NULL);
                json_decref(j);
            }
            break;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_triggered f = {0}, g = {0};
    struct sl_arena a;
    struct sl_diag d;
    int rc;

    sl_arena_init(&a, 0);
    sl_diag_init(&d);
    rc = flow_trigger_parse(PATH, (const char *)data, size, sources, 2, &a, &f, &d);
    if (rc < 0) {
        FZ_ASSERT(rc == SL_ERR_INPUT || (rc > -4096 && rc < 0));
        /* the file named: in the words, or (YAML's own errors) as where */
        FZ_ASSERT(rc != SL_ERR_INPUT || strncmp(d.msg, PATH, strlen(PATH)) == 0 ||
                  (strcmp(d.where, PATH) == 0 && d.line > 0));
        FZ_ASSERT(f.n == 0);
    } else {
        check(&f);
        sl_diag_init(&d);
        FZ_ASSERT(flow_trigger_parse(PATH, (const char *)data, size, sources, 2, &a, &g, &d) == 0);
        FZ_ASSERT(g.n == f.n);
        for (size_t i = 0; i < f.n; i++)
            FZ_ASSERT(strcmp(f.v[i].key, g.v[i].key) == 0);
        flow_triggered_release(&g);
        flow_triggered_release(&f);
    }
    sl_arena_release(&a);
    return 0;
}
