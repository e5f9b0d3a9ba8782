/*
 * cmd_executions.c - the recorded executions of state machines: sluice
 * executions, sluice execution ID, sluice redrive ID, sluice resume.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/flows.h"
#include "cli/cli.h"
#include "core/mem.h"
#include "core/time.h"
#include "flow/exec.h"
#include "flow/pipeline.h"
#include "flow/runner.h"
#include "core/banned.h"

/* ---- what the commands share ------------------------------------------ */

struct exec_list {
    struct flow_execution_record *v;
    size_t n, cap;
    struct sl_arena a;
};

static const char *
adup(struct sl_arena *a, const char *s)
{
    return s ? sl_arena_strdup(a, s) : NULL;
}

static int
add_exec(void *arg, const struct flow_execution_record *e)
{
    struct exec_list *l = arg;
    struct flow_execution_record *x;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = sl_realloc(l->v, l->cap * sizeof(*l->v));
    }
    x = &l->v[l->n++];
    *x = *e;
    x->machine = adup(&l->a, e->machine);
    x->name = adup(&l->a, e->name);
    x->status = adup(&l->a, e->status);
    x->definition = NULL;
    x->input = adup(&l->a, e->input);
    x->output = adup(&l->a, e->output);
    x->error = adup(&l->a, e->error);
    x->cause = adup(&l->a, e->cause);
    x->owner = adup(&l->a, e->owner);
    x->stop_error = adup(&l->a, e->stop_error);
    x->stop_cause = adup(&l->a, e->stop_cause);
    return 0;
}

static void
exec_list_release(struct exec_list *l)
{
    free(l->v);
    sl_arena_release(&l->a);
    memset(l, 0, sizeof(*l));
}

/* ID: a number, an execution ARN, or MACHINE:NAME. */
struct find_ctx {
    const char *ref;
    struct exec_list *l;
};

static int
find_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct find_ctx *c = arg;
    const char *ref = c->ref, *p;
    char *end;
    long long id;
    int rc;

    c->l->n = 0;
    id = strtoll(ref, &end, 10);
    if (*end == '\0' && id > 0) {
        rc = catalog_flow_execution_get(txn, id, add_exec, c->l, d);
    } else {
        char machine[256];

        p = strstr(ref, ":execution:");
        p = p ? p + 11 : ref;
        const char *colon = strchr(p, ':');

        if (colon == NULL || (size_t)(colon - p) >= sizeof(machine))
            return sl_fail(d, SL_ERR_INPUT, "'%s' names no execution: give its number, its "
                                            "ARN or MACHINE:NAME", ref);
        snprintf(machine, sizeof(machine), "%.*s", (int)(colon - p), p);
        rc = catalog_flow_execution_find(txn, machine, colon + 1, add_exec, c->l, d);
    }
    if (rc == SL_ERR_NOTFOUND)
        return sl_fail(d, SL_ERR_NOTFOUND, "there is no execution '%s'", ref);
    return rc;
}

static int
find_one(struct cli *c, const char *ref, struct exec_list *l)
{
    struct find_ctx f = {ref, l};

    return cli_read(c, find_txn, &f);
}

static void
owner_of_this_process(char *out, size_t size)
{
    char host[256] = "";

    gethostname(host, sizeof(host) - 1);
    snprintf(out, size, "%s:%d", host, (int)getpid());
}

static void
when(int64_t ms, char out[32])
{
    sl_format_timestamp(ms * 1000, out);
    out[19] = 'Z';
    out[20] = '\0';
}

/* The outcome of a drive, as sluice run prints it. */
static int
report_result(struct cli *c, int64_t id, const struct flow_result *res)
{
    fprintf(stderr, "execution %lld: %s\n", (long long)id, flow_status_name(res->status));
    if (res->status == FLOW_SUCCEEDED) {
        json_dumpf(res->output, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
        fputc('\n', stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "  %s%s%s\n", res->error ? res->error : "",
            res->cause && res->cause[0] ? ": " : "", res->cause ? res->cause : "");
    return EXIT_FAIL;
}

/* ---- sluice executions ---------------------------------------------------- */

struct list_ctx {
    const char *machine, *status;
    int64_t limit;
    struct exec_list *l;
};

static int
list_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct list_ctx *c = arg;

    c->l->n = 0;
    return catalog_flow_execution_list(txn, c->machine, c->status, 0, c->limit, add_exec, c->l,
                                       d);
}

static int
executions(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"machine", required_argument, NULL, 'm'},
        {"status", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct exec_list l = {0};
    struct list_ctx lc = {.limit = 50, .l = &l};
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            lc.machine = optarg;
            break;
        case 's':
            lc.status = optarg;
            break;
        case 'n':
            lc.limit = strtoll(optarg, NULL, 10);
            if (lc.limit <= 0)
                return cli_usage("executions", "--limit takes a positive number");
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (optind != argc)
        return cli_usage("executions", "takes no argument");
    sl_arena_init(&l.a, 0);
    rc = cli_open(c);
    if (rc == 0)
        rc = cli_read(c, list_txn, &lc);
    if (rc < 0) {
        exec_list_release(&l);
        return cli_report(c, rc);
    }
    if (l.n == 0)
        printf("no executions\n");
    else
        printf("%6s  %-20s %-10s %-20s %9s  %s\n", "ID", "MACHINE", "STATUS", "STARTED",
               "SECONDS", "NAME / ERROR");
    for (size_t i = 0; i < l.n; i++) {
        const struct flow_execution_record *e = &l.v[i];
        char started[32], secs[32] = "";

        when(e->started_at, started);
        if (e->stopped_at > 0)
            snprintf(secs, sizeof(secs), "%.3f", (double)(e->stopped_at - e->started_at) / 1000.0);
        printf("%6lld  %-20s %-10s %-20s %9s  %s%s%s\n", (long long)e->id, e->machine,
               e->status, started, secs, e->name, e->error ? "  " : "",
               e->error ? e->error : "");
    }
    exec_list_release(&l);
    return EXIT_OK;
}

const struct cli_command cli_executions_cmd = {
    "executions", executions, "the recorded executions of state machines, newest first",
    "usage: sluice executions [--machine NAME] [--status STATUS] [--limit N]\n"
    "\n"
    "List executions (sluice run, the Step Functions API, triggers), newest first:\n"
    "number, machine, status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED), start,\n"
    "duration, name and, for one that did not succeed, its error.  At most N (50).\n",
};

/* ---- sluice execution ID -------------------------------------------------- */

struct events_ctx {
    int64_t id;
    json_t *events; /* the API's shape */
    struct flow_history h;
};

static int
add_event(void *arg, const struct flow_event *ev)
{
    struct events_ctx *c = arg;
    struct flow_event *x;

    if (c->h.n == c->h.cap) {
        c->h.cap = c->h.cap ? c->h.cap * 2 : 64;
        c->h.v = sl_realloc(c->h.v, c->h.cap * sizeof(*c->h.v));
    }
    x = &c->h.v[c->h.n++];
    memset(x, 0, sizeof(*x));
    x->id = ev->id;
    x->previous_id = ev->previous_id;
    x->ts_ms = ev->ts_ms;
    x->type = sl_strdup(ev->type);
    x->details = json_incref(ev->details);
    x->state = ev->state ? sl_strdup(ev->state) : NULL;
    x->depth = ev->depth;
    return 0;
}

static int
events_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct events_ctx *c = arg;

    for (size_t i = 0; i < c->h.n; i++) {
        free((char *)c->h.v[i].type);
        free((char *)c->h.v[i].state);
    }
    flow_history_release(&c->h);
    return flow_history_read(txn, c->id, 0, false, 0, add_event, c, d);
}

static void
events_release(struct events_ctx *c)
{
    for (size_t i = 0; i < c->h.n; i++) {
        free((char *)c->h.v[i].type);
        free((char *)c->h.v[i].state);
    }
    flow_history_release(&c->h);
}

static int
execution(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {NULL, 0, NULL, 0},
    };
    struct exec_list l = {0};
    struct events_ctx ev = {0};
    bool json = false;
    int opt, rc;

    optind = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'j')
            return EXIT_USAGE;
        json = true;
    }
    if (optind != argc - 1)
        return cli_usage("execution", "takes one execution: its number, ARN or MACHINE:NAME");
    sl_arena_init(&l.a, 0);
    rc = cli_open(c);
    if (rc == 0)
        rc = find_one(c, argv[optind], &l);
    if (rc == 0) {
        ev.id = l.v[0].id;
        rc = cli_read(c, events_txn, &ev);
    }
    if (rc < 0) {
        events_release(&ev);
        exec_list_release(&l);
        return cli_report(c, rc);
    }
    const struct flow_execution_record *e = &l.v[0];
    char arn[512], started[32];

    flow_execution_arn(e->machine, e->name, arn, sizeof(arn));
    if (json) {
        json_t *doc = json_pack("{s:o}", "events", flow_history_json(&ev.h));

        json_dumpf(doc, stdout, JSON_INDENT(1));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        when(e->started_at, started);
        printf("execution %lld  %s\n", (long long)e->id, arn);
        printf("  status   %s%s\n", e->status,
               e->redrive_count > 0 ? " (redriven)" : "");
        printf("  started  %s\n", started);
        if (e->stopped_at > 0)
            printf("  took     %.3f s\n", (double)(e->stopped_at - e->started_at) / 1000.0);
        printf("  input    %s\n", e->input);
        if (e->output)
            printf("  output   %s\n", e->output);
        if (e->error)
            printf("  error    %s%s%s\n", e->error, e->cause && e->cause[0] ? ": " : "",
                   e->cause ? e->cause : "");
        if (e->redrive_count > 0)
            printf("  redriven %lld times\n", (long long)e->redrive_count);
        printf("\n");
        for (size_t i = 0; i < ev.h.n; i++) {
            const struct flow_event *x = &ev.h.v[i];
            const char *error = json_string_value(json_object_get(x->details, "error"));

            printf("  %4lld  +%8.3fs  %*s%-26s %s%s%s\n", (long long)x->id,
                   (double)(x->ts_ms - e->started_at) / 1000.0, 2 * x->depth, "", x->type,
                   x->state && strstr(x->type, "State") ? x->state : "",
                   error ? "  " : "", error ? error : "");
        }
    }
    events_release(&ev);
    exec_list_release(&l);
    return EXIT_OK;
}

const struct cli_command cli_execution_cmd = {
    "execution", execution, "one execution: its outcome and its history as a timeline",
    "usage: sluice execution ID [--json]\n"
    "\n"
    "Show the execution ID (its number in 'sluice executions', its ARN, or\n"
    "MACHINE:NAME): status, input, output or error, and every event of its history\n"
    "with the time since the start, indented inside Parallel and Map.  --json prints\n"
    "the history as the Step Functions API's GetExecutionHistory does.\n",
};

/* ---- sluice redrive ID, sluice resume ------------------------------------- */

static int
redrive(struct cli *c, int argc, char **argv)
{
    struct exec_list l = {0};
    struct flow_result res = {0};
    char owner[300];
    int rc, status;

    if (argc != 2 || argv[1][0] == '-')
        return cli_usage("redrive", "takes one execution: its number, ARN or MACHINE:NAME");
    sl_arena_init(&l.a, 0);
    owner_of_this_process(owner, sizeof(owner));
    struct flow_runner_opts ro = {.owner = owner, .lease_ms = 300000};

    rc = cli_open(c);
    if (rc == 0)
        ro.catalog = c->project->catalog;
    if (rc == 0) {
        flow_pipeline_register(c->project->root);
        rc = find_one(c, argv[1], &l);
    }
    if (rc == 0)
        rc = flow_runner_redrive(c->catalog, l.v[0].id, &ro, &res, &c->diag);
    if (rc < 0) {
        exec_list_release(&l);
        flow_result_release(&res);
        return cli_report(c, rc);
    }
    status = report_result(c, l.v[0].id, &res);
    exec_list_release(&l);
    flow_result_release(&res);
    return status;
}

const struct cli_command cli_redrive_cmd = {
    "redrive", redrive, "run a failed execution again from the state that failed",
    "usage: sluice redrive ID\n"
    "\n"
    "Redrive the execution ID (FAILED, TIMED_OUT or ABORTED): it is RUNNING again,\n"
    "from the state that did not finish, on that state's recorded input; the states\n"
    "that succeeded are not run again.  Its history goes on (an ExecutionRedriven\n"
    "event) and its redrive count goes up.  Prints the output as 'sluice run' does.\n",
};

static int
running_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct exec_list *l = arg;

    l->n = 0;
    return catalog_flow_execution_list(txn, NULL, "RUNNING", 0, 0, add_exec, l, d);
}

static int
resume(struct cli *c, int argc, char **argv)
{
    struct exec_list l = {0};
    char owner[300];
    int rc, status = EXIT_OK;
    size_t resumed = 0;

    sl_arena_init(&l.a, 0);
    owner_of_this_process(owner, sizeof(owner));
    struct flow_runner_opts ro = {.owner = owner, .lease_ms = 300000};

    rc = cli_open(c);
    if (rc == 0)
        ro.catalog = c->project->catalog;
    if (rc == 0)
        flow_pipeline_register(c->project->root);
    for (int i = 1; rc == 0 && i < argc; i++)
        rc = find_one(c, argv[i], &l) == 0 ? 0 : c->diag.code;
    if (rc == 0 && argc == 1)
        rc = cli_read(c, running_txn, &l);
    if (rc < 0) {
        exec_list_release(&l);
        return cli_report(c, rc);
    }
    if (argc > 1) {
        /* find_one() keeps the last only: read them again, in order */
        l.n = 0;
        for (int i = 1; i < argc; i++) {
            struct exec_list one = {0};

            sl_arena_init(&one.a, 0);
            if (find_one(c, argv[i], &one) == 0)
                add_exec(&l, &one.v[0]);
            exec_list_release(&one);
        }
    }
    for (size_t i = 0; i < l.n; i++) {
        const struct flow_execution_record *e = &l.v[i];
        struct flow_result res = {0};
        int64_t now = flow_real_clock.now_ms(NULL);

        if (strcmp(e->status, "RUNNING") != 0) {
            fprintf(stderr, "execution %lld is %s: nothing to resume\n", (long long)e->id,
                    e->status);
            status = EXIT_FAIL;
            continue;
        }
        if (argc == 1 && e->lease_until >= now && !flow_owner_dead(e->owner))
            continue; /* someone runs it */
        resumed++;
        sl_diag_init(&c->diag);
        rc = flow_runner_drive(c->catalog, e->id, &ro, &res, &c->diag);
        if (rc < 0) {
            cli_report(c, rc);
            status = EXIT_FAIL;
        } else if (report_result(c, e->id, &res) != EXIT_OK) {
            status = EXIT_FAIL;
        }
        flow_result_release(&res);
    }
    if (argc == 1 && resumed == 0)
        printf("no execution to resume\n");
    exec_list_release(&l);
    return status;
}

const struct cli_command cli_resume_cmd = {
    "resume", resume, "go on with executions whose process died",
    "usage: sluice resume [ID...]\n"
    "\n"
    "Resume the given RUNNING executions, or, with none given, every RUNNING one\n"
    "whose process died (on this host) or whose lease ran out: each goes on from\n"
    "its last state that finished, as its recorded history says, and the state that\n"
    "was running when the process died runs again from its recorded input.\n"
    "'sluice serve' does this by itself.  Prints each outcome as 'sluice run' does.\n",
};
