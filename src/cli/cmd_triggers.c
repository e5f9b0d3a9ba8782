/*
 * cmd_triggers.c - sluice triggers: what starts the project's flows by
 * itself (flow/trigger.h), how far each trigger has fired and when each
 * schedule fires next.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/flows.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/time.h"
#include "flow/exec.h"
#include "flow/pipeline.h"
#include "flow/schedule.h"
#include "flow/trigger.h"
#include "core/banned.h"

struct recorded {
    struct flow_trigger_record *v;
    size_t n, cap;
    struct sl_arena a;
};

static int
add_record(void *arg, const struct flow_trigger_record *t)
{
    struct recorded *r = arg;

    SL_GROW(r->v, r->cap, r->n + 1);
    r->v[r->n] = *t;
    r->v[r->n].machine = sl_arena_strdup(&r->a, t->machine);
    r->v[r->n].key = sl_arena_strdup(&r->a, t->key);
    r->n++;
    return 0;
}

static int
list_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct recorded *r = arg;

    r->n = 0;
    return catalog_flow_trigger_list(txn, add_record, r, d);
}

static const struct flow_trigger_record *
find(const struct recorded *r, const char *machine, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].machine, machine) == 0 && strcmp(r->v[i].key, key) == 0)
            return &r->v[i];
    return NULL;
}

/* "2026-12-03 18:00:00Z" */
static void
utc(int64_t ms, char out[32])
{
    char ts[40];

    sl_format_timestamp(ms * 1000, ts);
    snprintf(out, 32, "%.10s %.8sZ", ts, ts + 11);
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct flow_trigger_set set;
    struct recorded rec = {0};
    const char **names = NULL, **arrival;
    size_t n = 0, na = 0;
    bool json = false;
    int opt, rc;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'j')
            json = true;
        else
            return EXIT_USAGE;
    }
    if (optind != argc)
        return cli_usage("triggers", "takes no arguments");
    rc = cli_open(c);
    if (rc == 0)
        rc = project_source_names(c->project, &names, &n, &c->diag);
    if (rc < 0)
        return cli_report(c, rc);
    arrival = sl_calloc(n + 1, sizeof(*arrival));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct source *src;

        rc = project_source(c->project, names[i], &src, &c->diag);
        if (rc == 0 && src->transform_on_arrival)
            arrival[na++] = names[i];
    }
    flow_pipeline_register(c->project->root);
    if (rc == 0)
        rc = flow_trigger_set_load(c->project->root, names, n, arrival, na, false, &set, NULL,
                                   &c->diag);
    free(arrival);
    if (rc < 0)
        return cli_report(c, rc);
    sl_arena_init(&rec.a, 0);
    rc = cli_read(c, list_txn, &rec);
    if (rc < 0) {
        flow_trigger_set_free(&set);
        sl_arena_release(&rec.a);
        free(rec.v);
        return cli_report(c, rc);
    }
    if (!json)
        printf("%-28s %-40s %6s  %-21s %s\n", "FLOW", "TRIGGER", "FIRED", "LAST", "NEXT");
    for (size_t i = 0; i < set.n; i++) {
        const struct flow_triggered *f = &set.v[i];

        for (size_t j = 0; j < f->n; j++) {
            const struct flow_trigger *t = &f->v[j];
            const struct flow_trigger_record *r = find(&rec, f->machine, t->key);
            int64_t now = flow_real_clock.now_ms(NULL), next = 0;
            char last[32] = "-", nexts[32] = "-";
            bool has_next = false;

            if (t->kind == FLOW_ON_SCHEDULE) {
                /* Not yet recorded: it starts counting when a server first
                 * sees it. */
                has_next = flow_schedule_next(t->schedule, r ? r->anchor : now,
                                              r ? r->position : now, &next);
                if (has_next)
                    utc(next, nexts);
                else
                    snprintf(nexts, sizeof(nexts), "never");
            }
            if (r != NULL && r->fired > 0)
                utc(r->fired_at, last);
            if (json) {
                struct sl_buf b;

                sl_buf_init(&b);
                sl_buf_adds(&b, "{\"flow\": ");
                sl_buf_add_json_str(&b, f->machine, strlen(f->machine));
                sl_buf_adds(&b, ", \"trigger\": ");
                sl_buf_add_json_str(&b, t->key, strlen(t->key));
                sl_buf_addf(&b, ", \"builtin\": %s, \"recorded\": %s, \"fired\": %" PRId64
                                ", \"position\": %" PRId64 ", \"lastExecution\": %" PRId64,
                            f->builtin ? "true" : "false", r ? "true" : "false",
                            r ? r->fired : 0, r ? r->position : 0,
                            r ? r->last_execution : 0);
                if (has_next)
                    sl_buf_addf(&b, ", \"next\": %" PRId64, next);
                sl_buf_adds(&b, "}\n");
                fwrite(b.data, 1, b.len, stdout);
                sl_buf_release(&b);
            } else {
                printf("%-28s %-40s %6lld  %-21s %s%s\n", f->machine, t->key,
                       (long long)(r ? r->fired : 0), last, nexts,
                       r == NULL ? "  (not yet seen by a server)" : "");
            }
        }
    }
    flow_trigger_set_free(&set);
    sl_arena_release(&rec.a);
    free(rec.v);
    return EXIT_OK;
}

const struct cli_command cli_triggers_cmd = {
    "triggers", run, "what starts the flows by itself, and when it last did",
    "usage: sluice triggers [--json]\n"
    "\n"
    "List the triggers of the project's flows: those in flows/NAME.yaml beside\n"
    "flows/NAME.asl.json, and the built-in flow sluice-transform-SOURCE of each\n"
    "source with on_arrival: transform.  For each: how many executions it started,\n"
    "the last time it did and, for a schedule, when it fires next (UTC).  A bad\n"
    "triggers file is reported with its line, and the command fails.\n"
    "\n"
    "  flows/NAME.yaml:\n"
    "    triggers:\n"
    "      - arrival: SOURCE            # new raw objects (input: an S3 notification)\n"
    "        batch: 1000                # most objects in one execution\n"
    "      - commit: curated.T | gold.T # each snapshot committed to the table\n"
    "      - held: SOURCE | TABLE | '*' # each run held by a quality gate\n"
    "      - schedule: rate(5 minutes) | cron(0 6 ? * MON-FRI *) | at(2026-12-24T18:00:00)\n"
    "        timezone: Europe/Berlin    # IANA zone of cron and at (default UTC)\n"
    "        input: {\"at\": \"<aws.scheduler.scheduled-time>\"}\n"
    "\n"
    "`sluice serve` runs them: every second, and at once when it delivers an object.\n"
    "--json prints one object per trigger.\n",
};
