/*
 * cmd_run.c - sluice run FLOW: one execution of a state machine, here
 * and now, to its end.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/strlist.h"
#include "core/time.h"
#include "flow/asl.h"
#include "flow/exec.h"
#include "flow/json.h"
#include "flow/pipeline.h"
#include "flow/runner.h"
#include "core/banned.h"

#define MAX_DEFINITION (1 << 20)
#define MAX_INPUT (256 << 10)

/* FLOW as given if it is a file, else flows/FLOW.asl.json of the project;
 * name gets the machine's name (the file's, without .asl.json). */
static void
flow_file(const struct cli *c, const char *flow, char *out, size_t size, char *name,
          size_t nsize)
{
    const char *base = strrchr(flow, '/');
    size_t n;

    if (access(flow, F_OK) == 0 || strchr(flow, '/') != NULL)
        snprintf(out, size, "%s", flow);
    else
        snprintf(out, size, "%s/flows/%s.asl.json",
                 c->project != NULL ? c->project->root : c->project_dir ? c->project_dir : ".",
                 flow);
    base = base ? base + 1 : flow;
    n = strlen(base);
    if (n > 9 && strcmp(base + n - 9, ".asl.json") == 0)
        n -= 9;
    else if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    snprintf(name, nsize, "%.*s", (int)n, base);
}

static void
print_timeline(const struct flow_result *res)
{
    for (size_t i = 0; i < res->history.n; i++) {
        const struct flow_event *ev = &res->history.v[i];
        const char *name = json_string_value(json_object_get(ev->details, "name"));
        const char *error = json_string_value(json_object_get(ev->details, "error"));

        fprintf(stderr, "  %4lld  +%6.3fs  %-28s %s%s%s\n", (long long)ev->id,
                (double)(ev->ts_ms - res->start_ms) / 1000.0, ev->type, name ? name : "",
                error ? (name ? "  " : "") : "", error ? error : "");
    }
}

static int
run(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"input", required_argument, NULL, 'i'},
        {"input-file", required_argument, NULL, 'f'},
        {"history", no_argument, NULL, 'H'},
        {"timeline", no_argument, NULL, 't'},
        {"virtual-clock", no_argument, NULL, 'V'},
        {"name", required_argument, NULL, 'n'},
        {"check", no_argument, NULL, 'c'},
        {"stats", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *input_text = "{}", *input_file = NULL, *name = NULL;
    bool history = false, timeline = false, virtual_clock = false, check = false, stats = false;
    struct sl_buf def, in;
    struct sl_strlist problems = {0};
    struct flow_machine *m = NULL;
    struct flow_result res = {0};
    struct flow_virtual_clock vc;
    json_error_t jerr;
    json_t *input = NULL;
    char path[4096], machine[256], uuid[37];
    bool recorded = false;
    int64_t id = 0;
    double started;
    int opt, rc, status = EXIT_FAIL;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            input_text = optarg;
            break;
        case 'f':
            input_file = optarg;
            break;
        case 'H':
            history = true;
            break;
        case 't':
            timeline = true;
            break;
        case 'V':
            virtual_clock = true;
            break;
        case 'n':
            name = optarg;
            break;
        case 'c':
            check = true;
            break;
        case 's':
            stats = true;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return cli_usage("run", "takes one FLOW");
    /* In a project, the execution is recorded in its catalog; elsewhere it
     * runs in memory only. */
    rc = cli_open(c);
    if (rc == 0) {
        recorded = true;
        flow_pipeline_register(c->project->root);
    } else if (rc == SL_ERR_NOTFOUND && c->project_dir == NULL) {
        sl_diag_init(&c->diag);
    } else {
        return cli_report(c, rc);
    }
    flow_file(c, argv[optind], path, sizeof(path), machine, sizeof(machine));
    if (name == NULL) {
        flow_random_name(uuid);
        name = uuid;
    }
    sl_buf_init(&def);
    sl_buf_init(&in);
    rc = sl_read_file(path, MAX_DEFINITION, &def, &c->diag);
    if (rc == 0)
        rc = flow_machine_load(def.data, def.len, path, &m, &problems, &c->diag);
    if (rc < 0) {
        if (problems.n > 1) {
            fprintf(stderr, "sluice run: %s: %zu problems in the definition:\n", path, problems.n);
            for (size_t i = 0; i < problems.n; i++)
                fprintf(stderr, "  %s\n", problems.v[i]);
            goto out;
        }
        status = cli_report(c, rc);
        goto out;
    }
    if (check) {
        printf("%s: a valid state machine of %zu states\n", path, m->nstates);
        status = EXIT_OK;
        goto out;
    }
    if (input_file != NULL) {
        rc = sl_read_file(input_file, MAX_INPUT, &in, &c->diag);
        if (rc < 0) {
            status = cli_report(c, rc);
            goto out;
        }
        input_text = in.data ? in.data : "";
    }
    input = json_loads(input_text, JSON_DECODE_ANY, &jerr);
    if (input == NULL) {
        fprintf(stderr, "sluice run: the input%s%s is not JSON: %s at line %d, column %d\n",
                input_file ? " " : "", input_file ? input_file : "", jerr.text, jerr.line,
                jerr.column);
        goto out;
    }

    struct flow_exec_opts o = {
        .name = name,
        .machine_name = machine,
        .keep_history = history || timeline,
        .concurrent = !virtual_clock, /* Parallel and Map side by side */
    };
    char arn[512], machine_arn[512], owner[300], host[256] = "";

    flow_machine_arn(machine, machine_arn, sizeof(machine_arn));
    flow_execution_arn(machine, name, arn, sizeof(arn));
    o.arn = arn;
    o.machine_arn = machine_arn;
    if (virtual_clock) {
        flow_virtual_clock_init(&vc, 1700000000000);
        o.clock = &vc.clock;
    }
    started = sl_mono_sec();
    if (recorded) {
        char *canon = json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY);
        struct flow_runner_opts ro = {
            .owner = owner,
            .lease_ms = 300000,
            .clock = o.clock,
            .keep_history = o.keep_history,
            .machine = m, /* compiled from def.data, the text recorded */
            .input = input,
            .catalog = c->project->catalog,
        };

        gethostname(host, sizeof(host) - 1);
        snprintf(owner, sizeof(owner), "%s:%d", host, (int)getpid());
        rc = flow_runner_start(c->catalog, machine, def.data, name, canon, &ro, &id, &c->diag);
        free(canon);
        if (rc == 0)
            rc = flow_runner_drive(c->catalog, id, &ro, &res, &c->diag);
    } else {
        rc = flow_execute(m, input, &o, &res, &c->diag);
    }
    if (stats && rc == 0)
        fprintf(stderr, "transitions %lld, seconds %.6f\n", (long long)res.transitions,
                sl_mono_sec() - started);
    if (rc < 0) {
        status = cli_report(c, rc);
        goto out;
    }
    if (timeline)
        print_timeline(&res);
    if (history) {
        json_t *events = flow_history_json(&res.history);

        json_dumpf(events, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(events);
    }
    if (recorded)
        fprintf(stderr, "execution %lld: %s (%s)\n", (long long)id, flow_status_name(res.status),
                arn);
    if (res.status == FLOW_SUCCEEDED) {
        if (!history) {
            char *text = flow_json_dump(res.output);

            printf("%s\n", text);
            free(text);
        }
        status = EXIT_OK;
    } else {
        fprintf(stderr, "sluice run: %s: %s: %s%s%s\n", path, flow_status_name(res.status),
                res.error ? res.error : "", res.cause && res.cause[0] ? ": " : "",
                res.cause ? res.cause : "");
    }
out:
    json_decref(input);
    flow_result_release(&res);
    flow_machine_free(m);
    sl_strlist_release(&problems);
    sl_buf_release(&def);
    sl_buf_release(&in);
    return status;
}

const struct cli_command cli_run_cmd = {
    "run", run, "run a state machine (Amazon States Language) to its end",
    "usage: sluice run FLOW [--input JSON | --input-file FILE] [--timeline] [--history]\n"
    "                       [--virtual-clock] [--name NAME] [--check] [--stats]\n"
    "\n"
    "Run the state machine FLOW (a file, or flows/FLOW.asl.json of the project) on\n"
    "the input (default {}), and print its output as JSON.  A definition is checked\n"
    "whole before anything runs: every problem is listed with its JSON path.\n"
    "\n"
    "In a project, the execution and every event of its history are recorded in the\n"
    "catalog as it runs ('sluice executions', 'sluice execution ID'); if this\n"
    "process dies, 'sluice serve' resumes it, and a failed one can be redriven\n"
    "('sluice redrive ID').  Outside a project it runs in memory only.\n"
    "\n"
    "  --timeline       print the execution's events to stderr as they were recorded\n"
    "  --history        print the history as GetExecutionHistory's events, instead of\n"
    "                   the output\n"
    "  --virtual-clock  Wait states, retry intervals and timeouts pass at once, on a\n"
    "                   clock starting at 2023-11-14T22:13:20Z (for tests)\n"
    "  --name NAME      the execution's name ($$.Execution.Name; default a random\n"
    "                   UUID); names are unique per machine (the file's name)\n"
    "  --check          only check the definition\n"
    "  --stats          print 'transitions N, seconds S' to stderr: the state transitions\n"
    "                   of the execution and the time it took, without loading and\n"
    "                   checking the definition (for benchmarks)\n"
    "\n"
    "Exit status: 0 when the execution succeeded; 1 when it failed or timed out\n"
    "(its error and cause on stderr) or the definition was refused.\n",
};
