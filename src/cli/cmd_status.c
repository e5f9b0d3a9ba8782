/*
 * cmd_status.c - sluice status: each data product sluice.yaml declares,
 * measured against its requirements (quality/status.h).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/time.h"
#include "quality/status.h"
#include "core/banned.h"

/* "2h 5m", "3d 4h", "42s": the two largest units of secs into out. */
static const char *
span(int64_t secs, char *out, size_t size)
{
    static const struct {
        const char *unit;
        int64_t secs;
    } units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};

    for (size_t i = 0; i < 4; i++) {
        if (secs < units[i].secs && i < 3)
            continue;
        int64_t a = secs / units[i].secs, rest = secs % units[i].secs;

        if (i < 3 && rest / units[i + 1].secs > 0)
            snprintf(out, size, "%" PRId64 "%s %" PRId64 "%s", a, units[i].unit,
                     rest / units[i + 1].secs, units[i + 1].unit);
        else
            snprintf(out, size, "%" PRId64 "%s", a, units[i].unit);
        break;
    }
    return out;
}

/* One measurement line: what was found, the target, the verdict. */
static void
line(bool color, const char *what, const char *found, const char *target, bool ok)
{
    printf("  %-10s %-52s %-18s %s%s%s\n", what, found, target,
           !ok && color ? "\033[31m" : "", ok ? "ok" : "MISSED", !ok && color ? "\033[0m" : "");
}

static void
print_text(const struct quality_status_report *r)
{
    bool color = isatty(STDOUT_FILENO);

    for (size_t i = 0; i < r->n; i++) {
        const struct quality_status *st = &r->v[i];
        const struct product *p = st->product;
        char found[160], target[64], a[32], b[32], c[32], e[32];

        printf("%s%s: %s%s%s", i ? "\n" : "", p->name, !st->ok && color ? "\033[31m" : "",
               st->ok ? "ok" : "MISSED", !st->ok && color ? "\033[0m" : "");
        for (size_t j = 0; j < p->nconsumers; j++)
            printf("%s%s", j ? ", " : "  (consumers: ", p->consumers[j]);
        printf("%s\n", p->nconsumers ? ")" : "");
        if (st->newest < 0)
            snprintf(found, sizeof(found), "no data%s", st->exists ? "" : " (no such table yet)");
        else
            snprintf(found, sizeof(found), "newest data %s old (%s)",
                     span(st->age, a, sizeof(a)), st->newest_of);
        if (p->freshness >= 0)
            snprintf(target, sizeof(target), "SLA %s", span(p->freshness, b, sizeof(b)));
        else
            snprintf(target, sizeof(target), "no SLA");
        line(color, "freshness", found, target, st->freshness_ok);
        if (st->gate_run == 0)
            snprintf(found, sizeof(found), "no gate has run");
        else if (st->gate_failed == 0)
            snprintf(found, sizeof(found), "passed, %" PRId64 " rules (run %" PRId64 ")",
                     st->gate_passed, st->gate_run);
        else
            snprintf(found, sizeof(found), "failed, %" PRId64 " of %" PRId64 " rules (run %"
                     PRId64 ")", st->gate_failed, st->gate_failed + st->gate_passed,
                     st->gate_run);
        line(color, "gate", found, p->blocking ? "passing (blocks)" : "passing (warns)",
             st->gate_ok);
        if (st->held == 0)
            snprintf(found, sizeof(found), "none");
        else
            snprintf(found, sizeof(found), "%" PRId64 " (run %s)", st->held, st->held_runs);
        line(color, "held runs", found, "none", st->held_ok);
        if (st->last_run == 0)
            snprintf(found, sizeof(found), "none published");
        else if (strcmp(st->last_kind, "build") == 0)
            snprintf(found, sizeof(found), "build %" PRId64 ": %s rows", st->last_run,
                     cli_num(st->written, a));
        else
            snprintf(found, sizeof(found), "run %" PRId64 ": in %s = written %s + quar. %s + "
                     "dup. %s", st->last_run, cli_num(st->records_in, a),
                     cli_num(st->written, b), cli_num(st->quarantined, c),
                     cli_num(st->duplicates, e));
        line(color, "last run", found, "balances", st->balanced);
        snprintf(found, sizeof(found), "%s rows in the last 24h", cli_num(st->volume, a));
        if (p->volume_per_day >= 0)
            snprintf(target, sizeof(target), ">= %s/day", cli_num(p->volume_per_day, b));
        else
            snprintf(target, sizeof(target), "none declared");
        line(color, "volume", found, target, st->volume_ok);
    }
}

static void
json_int_or_null(struct sl_buf *b, const char *key, int64_t v)
{
    if (v < 0)
        sl_buf_addf(b, "\"%s\": null", key);
    else
        sl_buf_addf(b, "\"%s\": %" PRId64, key, v);
}

static void
print_json(const struct quality_status_report *r, bool all_ok)
{
    struct sl_buf b;
    char when[32];

    sl_buf_init(&b);
    sl_format_timestamp(r->now, when);
    sl_buf_addf(&b, "{\"measured_at\": \"%s\", \"ok\": %s, \"products\": [", when,
                all_ok ? "true" : "false");
    for (size_t i = 0; i < r->n; i++) {
        const struct quality_status *st = &r->v[i];
        const struct product *p = st->product;

        sl_buf_addf(&b, "%s\n  {\"product\": \"%s\", \"ok\": %s, \"exists\": %s, "
                    "\"consumers\": [", i ? "," : "", p->name, st->ok ? "true" : "false",
                    st->exists ? "true" : "false");
        for (size_t j = 0; j < p->nconsumers; j++) {
            if (j)
                sl_buf_adds(&b, ", ");
            sl_buf_add_json_str(&b, p->consumers[j], strlen(p->consumers[j]));
        }
        sl_buf_adds(&b, "],\n   \"freshness\": {");
        json_int_or_null(&b, "age_seconds", st->age);
        if (st->newest >= 0) {
            sl_format_timestamp(st->newest, when);
            sl_buf_addf(&b, ", \"newest\": \"%s\"", when);
        } else {
            sl_buf_adds(&b, ", \"newest\": null");
        }
        sl_buf_adds(&b, ", \"measured_from\": ");
        sl_buf_add_json_str(&b, st->newest_of, strlen(st->newest_of));
        sl_buf_adds(&b, ", ");
        json_int_or_null(&b, "sla_seconds", p->freshness);
        sl_buf_addf(&b, ", \"ok\": %s},\n", st->freshness_ok ? "true" : "false");
        sl_buf_adds(&b, "   \"gate\": {");
        if (st->gate_run > 0)
            sl_buf_addf(&b, "\"run\": %" PRId64 ", \"outcome\": \"%s\"", st->gate_run,
                        st->gate_failed ? "failed" : "passed");
        else
            sl_buf_adds(&b, "\"run\": null, \"outcome\": \"none\"");
        sl_buf_addf(&b, ", \"passed_rules\": %" PRId64 ", \"failed_rules\": %" PRId64
                    ", \"blocking\": %s, \"ok\": %s},\n", st->gate_passed, st->gate_failed,
                    p->blocking ? "true" : "false", st->gate_ok ? "true" : "false");
        sl_buf_addf(&b, "   \"held\": {\"count\": %" PRId64 ", \"runs\": [%s], \"ok\": %s},\n",
                    st->held, st->held_runs, st->held_ok ? "true" : "false");
        sl_buf_adds(&b, "   \"last_run\": {");
        if (st->last_run > 0)
            sl_buf_addf(&b, "\"run\": %" PRId64 ", \"kind\": \"%s\", \"records_in\": %" PRId64
                        ", \"written\": %" PRId64 ", \"quarantined\": %" PRId64
                        ", \"duplicates\": %" PRId64 ", ", st->last_run, st->last_kind,
                        st->records_in, st->written, st->quarantined, st->duplicates);
        else
            sl_buf_adds(&b, "\"run\": null, ");
        sl_buf_addf(&b, "\"balanced\": %s, \"ok\": %s},\n", st->balanced ? "true" : "false",
                    st->balanced ? "true" : "false");
        sl_buf_addf(&b, "   \"volume\": {\"rows_24h\": %" PRId64 ", ", st->volume);
        json_int_or_null(&b, "expected_per_day", p->volume_per_day);
        sl_buf_addf(&b, ", \"ok\": %s}}", st->volume_ok ? "true" : "false");
    }
    sl_buf_adds(&b, "\n]}\n");
    fwrite(b.data, 1, b.len, stdout);
    sl_buf_release(&b);
}

static int
status(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    struct quality_status_report r;
    struct engine_opts eo = {.connections = 1};
    struct engine *e = NULL;
    bool json = false, all_ok = true;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (opt == 'f' && (strcmp(optarg, "table") == 0 || strcmp(optarg, "json") == 0))
            json = strcmp(optarg, "json") == 0;
        else
            return cli_usage("status", opt == 'f' ? "--format is table or json"
                                                  : "unknown option");
    }
    if (optind < argc)
        return cli_usage("status", "unexpected argument '%s'", argv[optind]);
    rc = cli_open(c);
    if (rc < 0)
        return cli_report(c, rc);
    eo.threads = c->project->config.engine.threads;
    eo.memory_limit = c->project->config.engine.memory_limit;
    quality_status_init(&r);
    if (c->project->config.nproducts > 0)
        rc = engine_open(&eo, &e, &c->diag);
    if (rc == 0)
        rc = quality_status_measure(c->catalog, c->store, e, c->project->config.products,
                                    c->project->config.nproducts, sl_now_usec(), &r,
                                    &c->diag);
    engine_close(e);
    if (rc < 0) {
        quality_status_release(&r);
        return cli_report(c, rc);
    }
    for (size_t i = 0; i < r.n; i++)
        all_ok = all_ok && r.v[i].ok;
    if (json)
        print_json(&r, all_ok);
    else if (r.n == 0)
        printf("no data products declared: list them under 'products:' in sluice.yaml\n");
    else
        print_text(&r);
    quality_status_release(&r);
    return all_ok ? EXIT_OK : EXIT_FAIL;
}

const struct cli_command cli_status_cmd = {
    "status", status, "the data products against their declared requirements",
    "usage: sluice status [--format table|json]\n"
    "\n"
    "Measure each data product declared under 'products:' in sluice.yaml against\n"
    "what it declares, one block per product, each line ending in ok or MISSED:\n"
    "\n"
    "  freshness  the age of its newest data - the largest event time in the\n"
    "             curated table's file statistics, or for a gold table the time\n"
    "             of its last snapshot - against 'freshness'\n"
    "  gate       its last quality gate: passed, or how many rules failed (a\n"
    "             failure is a miss; 'blocking: false' only lets the run publish)\n"
    "  held runs  runs that wrote it and wait for 'sluice publish' or 'discard'\n"
    "  last run   the latest published transform or build that wrote it, with\n"
    "             its account, which must balance\n"
    "  volume     rows its published runs wrote in the last 24 hours, against\n"
    "             'volume_per_day' (a floor)\n"
    "\n"
    "Exits 1 when any product misses any requirement, 0 when all are met or\n"
    "none is declared.  'sluice serve' exports the same as sluice_product_*\n"
    "gauges in /metrics.\n"
    "\n"
    "  --format F   table (default; MISSED in red on a terminal) or json: one\n"
    "               object per product with each measurement, its target and ok\n",
};
