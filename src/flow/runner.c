/*
 * runner.c - durable executions (runner.h): the executor's events written
 * to the catalog in batches, the execution claimed and its lease renewed
 * by each batch, and a resume point read back from the history.
 */
#include "flow/runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/flows.h"
#include "core/fault.h"
#include "core/mem.h"
#include "core/strlist.h"

#define BATCH_EVENTS 4096
#define BATCH_MS 200
#define ACCOUNT "000000000000"
#define REGION "us-east-1"

void
flow_machine_arn(const char *machine, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:states:%s:%s:stateMachine:%s", REGION, ACCOUNT, machine);
}

void
flow_execution_arn(const char *machine, const char *name, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:states:%s:%s:execution:%s:%s", REGION, ACCOUNT, machine, name);
}

static const struct flow_clock *
clock_of(const struct flow_runner_opts *o)
{
    return o->clock ? o->clock : &flow_real_clock;
}

/* ---- starting ------------------------------------------------------------ */

struct start {
    struct flow_execution_record *e;
};

static int
start_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct flow_execution_record *e = arg;
    int rc = catalog_flow_execution_add(txn, e, d);

    if (rc == SL_ERR_EXISTS)
        return sl_fail(d, SL_ERR_EXISTS, "the state machine '%s' has an execution called '%s' "
                                         "already", e->machine, e->name);
    return rc;
}

int
flow_runner_start(struct catalog *cat, const char *machine, const char *definition,
                  const char *name, const char *input, const struct flow_runner_opts *o,
                  int64_t *id, struct sl_diag *d)
{
    const struct flow_clock *clock = clock_of(o);
    int64_t now = clock->now_ms(clock->ctx);
    struct flow_execution_record e = {
        .machine = machine,
        .name = name,
        .status = "RUNNING",
        .definition = definition,
        .input = input,
        .started_at = now,
        .owner = o->owner,
        .lease_until = now + o->lease_ms,
    };
    int rc = catalog_txn_run(cat, CATALOG_WRITE, start_txn, &e, d);

    *id = e.id;
    return rc;
}

/* ---- the execution, as recorded ----------------------------------------------- */

struct loaded {
    int64_t id;
    char *machine, *name, *status, *definition, *input;
    int64_t started_at, last_event, redrive_count;
    char *stop_error, *stop_cause;
    bool found;
};

static void
loaded_release(struct loaded *l)
{
    free(l->machine);
    free(l->name);
    free(l->status);
    free(l->definition);
    free(l->input);
    free(l->stop_error);
    free(l->stop_cause);
    memset(l, 0, sizeof(*l));
}

static char *
dup_or_null(const char *s)
{
    return s ? sl_strdup(s) : NULL;
}

static int
load_row(void *arg, const struct flow_execution_record *e)
{
    struct loaded *l = arg;

    loaded_release(l);
    l->found = true;
    l->id = e->id;
    l->machine = sl_strdup(e->machine);
    l->name = sl_strdup(e->name);
    l->status = sl_strdup(e->status);
    l->definition = sl_strdup(e->definition);
    l->input = sl_strdup(e->input);
    l->started_at = e->started_at;
    l->last_event = e->last_event;
    l->redrive_count = e->redrive_count;
    l->stop_error = dup_or_null(e->stop_error);
    l->stop_cause = dup_or_null(e->stop_cause);
    return 0;
}

/* Where the history says to go on from. */
struct resume {
    char *entered;       /* the last depth-0 state entered, its input */
    char *entered_input;
    int64_t entered_id;
    char *next;          /* after the last depth-0 exit: the next state ("": the end) */
    char *next_input;    /* that exit's output */
    int64_t exited_id;
    bool ended;          /* an Execution{Succeeded,Failed,...} event is there */
    json_t *calls;       /* the task calls made (flow_calls_add()) */
};

static void
resume_release(struct resume *r)
{
    free(r->entered);
    free(r->entered_input);
    free(r->next);
    free(r->next_input);
    json_decref(r->calls);
    memset(r, 0, sizeof(*r));
}

/* details.<key>, a string inside the details JSON text. */
static char *
detail(const char *details, const char *key)
{
    json_t *j = details ? json_loads(details, 0, NULL) : NULL;
    char *out = NULL;

    if (json_is_string(json_object_get(j, key)))
        out = sl_strdup(json_string_value(json_object_get(j, key)));
    json_decref(j);
    return out;
}

static int
resume_row(void *arg, const struct flow_event_record *ev)
{
    struct resume *r = arg;
    size_t n = strlen(ev->type);

    if (strcmp(ev->type, "ExecutionRedriven") == 0) {
        r->ended = false;
        return 0;
    }
    if (strncmp(ev->type, "Execution", 9) == 0 && strcmp(ev->type, "ExecutionStarted") != 0) {
        r->ended = true;
        return 0;
    }
    if (strcmp(ev->type, "TaskScheduled") == 0 && ev->state != NULL) {
        char *params = detail(ev->details, "parameters");
        json_t *input = params ? json_loads(params, JSON_DECODE_ANY, NULL) : NULL;

        if (input != NULL) {
            if (r->calls == NULL)
                r->calls = json_object();
            flow_calls_add(r->calls, ev->state, input);
        }
        json_decref(input);
        free(params);
    }
    if (ev->depth != 0 || ev->state == NULL)
        return 0;
    if (n > 12 && strcmp(ev->type + n - 12, "StateEntered") == 0) {
        free(r->entered);
        free(r->entered_input);
        r->entered = sl_strdup(ev->state);
        r->entered_input = detail(ev->details, "input");
        r->entered_id = ev->id;
    } else if (n > 11 && strcmp(ev->type + n - 11, "StateExited") == 0 && ev->resume != NULL) {
        free(r->next);
        free(r->next_input);
        r->next = sl_strdup(ev->resume);
        r->next_input = detail(ev->details, "output");
        r->exited_id = ev->id;
    }
    return 0;
}

struct read_ctx {
    int64_t id;
    struct loaded *l;
    struct resume *r;
};

static int
read_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct read_ctx *c = arg;
    int rc;

    loaded_release(c->l);
    resume_release(c->r);
    rc = catalog_flow_execution_get(txn, c->id, load_row, c->l, d);
    if (rc == SL_ERR_NOTFOUND)
        return sl_fail(d, SL_ERR_NOTFOUND, "there is no execution %lld", (long long)c->id);
    if (rc == 0 && c->l->last_event > 0)
        rc = catalog_flow_events_list(txn, c->id, 0, false, 0, resume_row, c->r, d);
    return rc;
}

/* ---- the sink: events to the catalog in batches ----------------------------- */

struct sink {
    struct catalog *cat;
    const struct flow_runner_opts *o;
    const struct flow_clock *clock;
    int64_t id;
    struct flow_event_record *v;
    size_t n, cap;
    struct sl_strlist strings; /* the batch's strings */
    int64_t flushed_at;
    bool lost;                 /* another process took the execution */
    bool stop;                 /* a stop was asked for */
    char *stop_error, *stop_cause;
    /* the end, written with the last batch */
    struct flow_execution_record *end;
    bool ended;
    /* the clock the execution runs on: the caller's, slept in slices */
    struct flow_clock wrapped;
    int64_t checked_at;        /* real ms of the last look for a stop */
    int failed;                /* a batch written while sleeping failed ... */
    struct sl_diag failure;    /* ... so: the words for the next event */
};

static bool
cancelled(const struct sink *s)
{
    return s->o->cancel != NULL && atomic_load(s->o->cancel);
}

static const char *
keep(struct sink *s, char *owned)
{
    if (owned == NULL)
        return NULL;
    if (s->strings.n == s->strings.cap) {
        s->strings.cap = s->strings.cap ? s->strings.cap * 2 : 256;
        s->strings.v = sl_realloc(s->strings.v, s->strings.cap * sizeof(*s->strings.v));
    }
    s->strings.v[s->strings.n++] = owned;
    return owned;
}

static int
stop_row(void *arg, const struct flow_execution_record *e)
{
    struct sink *s = arg;

    if (e->stop_error != NULL && !s->stop) {
        s->stop = true;
        s->stop_error = sl_strdup(e->stop_error);
        s->stop_cause = sl_strdup(e->stop_cause ? e->stop_cause : "");
    }
    return 0;
}

static int
flush_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct sink *s = arg;
    int64_t now = s->clock->now_ms(s->clock->ctx);
    bool claimed = false;
    int rc;

    s->lost = false;
    s->ended = false;
    rc = catalog_flow_execution_claim(txn, s->id, s->o->owner, now, now + s->o->lease_ms, NULL,
                                      &claimed, d);
    if (rc < 0)
        return rc;
    if (!claimed) {
        s->lost = true;
        return 0;
    }
    rc = sl_fault("flow.record");
    if (rc == 0)
        rc = catalog_flow_events_add(txn, s->v, s->n, d);
    if (rc == 0 && s->end != NULL)
        rc = catalog_flow_execution_finish(txn, s->end, s->o->owner, &s->ended, d);
    if (rc == 0 && s->end == NULL && !s->stop)
        rc = catalog_flow_execution_get(txn, s->id, stop_row, s, d);
    return rc;
}

static int
flush(struct sink *s, struct sl_diag *d)
{
    int rc = catalog_txn_run(s->cat, CATALOG_WRITE, flush_txn, s, d);

    if (rc < 0)
        return rc;
    if (s->lost)
        return sl_fail(d, SL_ERR_BUSY, "another process took execution %lld over (its lease of "
                                       "%lld ms ran out)", (long long)s->id,
                       (long long)s->o->lease_ms);
    for (size_t i = 0; i < s->strings.n; i++)
        free(s->strings.v[i]);
    s->strings.n = 0;
    s->n = 0;
    s->flushed_at = s->clock->now_ms(s->clock->ctx);
    return 0;
}

static int
stop_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct sink *s = arg;

    return catalog_flow_execution_get(txn, s->id, stop_row, s, d);
}

static int64_t
sink_now(void *ctx)
{
    struct sink *s = ctx;

    return s->clock->now_ms(s->clock->ctx);
}

/* Sleep on the caller's clock; on the real one in slices of a second,
 * looking for a stop and renewing the lease between them. */
static void
sink_sleep(void *ctx, int64_t until)
{
    struct sink *s = ctx;

    if (s->clock != &flow_real_clock) {
        s->clock->sleep_until(s->clock->ctx, until);
        return;
    }
    for (;;) {
        int64_t now = sink_now(s);
        int rc;

        if (now >= until || s->stop || s->failed < 0 || cancelled(s))
            return;
        s->clock->sleep_until(s->clock->ctx, now + 1000 < until ? now + 1000 : until);
        now = sink_now(s);
        if (cancelled(s))
            return;
        if (now - s->flushed_at >= s->o->lease_ms / 3)
            rc = flush(s, &s->failure);
        else if (now - s->checked_at >= 1000)
            rc = catalog_txn_run(s->cat, CATALOG_READ, stop_txn, s, &s->failure);
        else
            continue;
        s->checked_at = now;
        if (rc < 0)
            s->failed = rc;
    }
}

/* Event types after which the batch is written. */
static bool
flushes(const char *type)
{
    return strcmp(type, "TaskScheduled") == 0 || strcmp(type, "TaskFailed") == 0 ||
           strcmp(type, "TaskTimedOut") == 0 || strcmp(type, "WaitStateEntered") == 0;
}

static int
on_event(void *ctx, const struct flow_event *ev, struct sl_diag *d)
{
    struct sink *s = ctx;
    struct flow_event_record *r;
    int rc;

    if (s->failed < 0) {
        *d = s->failure;
        return s->failed;
    }
    if (cancelled(s))
        return sl_fail(d, SL_ERR_UNAVAILABLE, "execution %lld was left RUNNING, to be resumed: "
                                              "this process is stopping", (long long)s->id);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = sl_realloc(s->v, s->cap * sizeof(*s->v));
    }
    r = &s->v[s->n++];
    *r = (struct flow_event_record){
        .execution_id = s->id,
        .id = ev->id,
        .previous_id = ev->previous_id,
        .ts = ev->ts_ms,
        .type = ev->type,
        .state = keep(s, ev->state ? sl_strdup(ev->state) : NULL),
        .depth = ev->depth,
        .resume = keep(s, ev->resume ? sl_strdup(ev->resume) : NULL),
        .details = keep(s, ev->details ? json_dumps(ev->details, JSON_COMPACT) : NULL),
    };
    if (strncmp(ev->type, "Execution", 9) == 0 && strcmp(ev->type, "ExecutionStarted") != 0 &&
        strcmp(ev->type, "ExecutionRedriven") != 0)
        return 0; /* the end: written with the execution's outcome */
    if (s->stop)
        return FLOW_EVENT_STOP;
    if (!flushes(ev->type) && s->n < BATCH_EVENTS &&
        s->clock->now_ms(s->clock->ctx) - s->flushed_at < BATCH_MS)
        return 0;
    rc = flush(s, d);
    if (rc < 0)
        return rc;
    return s->stop ? FLOW_EVENT_STOP : 0;
}

static void
on_stop(void *ctx, char **error, char **cause)
{
    struct sink *s = ctx;

    *error = s->stop_error ? sl_strdup(s->stop_error) : NULL;
    *cause = s->stop_cause ? sl_strdup(s->stop_cause) : NULL;
}

static void
sink_release(struct sink *s)
{
    for (size_t i = 0; i < s->strings.n; i++)
        free(s->strings.v[i]);
    free(s->strings.v);
    free(s->v);
    free(s->stop_error);
    free(s->stop_cause);
}

/* ---- driving -------------------------------------------------------------------- */

struct claim_ctx {
    int64_t id;
    const char *owner;
    int64_t now, until;
    const char *dead_owner;
    bool claimed;
};

static int
claim_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct claim_ctx *c = arg;

    return catalog_flow_execution_claim(txn, c->id, c->owner, c->now, c->until, c->dead_owner,
                                        &c->claimed, d);
}

bool
flow_owner_dead(const char *owner)
{
    char host[256] = "";
    const char *colon = owner ? strrchr(owner, ':') : NULL;
    char *end;
    long pid;

    if (colon == NULL)
        return false;
    gethostname(host, sizeof(host) - 1);
    if ((size_t)(colon - owner) != strlen(host) || strncmp(owner, host, strlen(host)) != 0)
        return false;
    pid = strtol(colon + 1, &end, 10);
    if (*end != '\0' || pid <= 0)
        return false;
    return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

struct owner_ctx {
    char *owner;
};

static int
owner_row(void *arg, const struct flow_execution_record *e)
{
    struct owner_ctx *c = arg;

    free(c->owner);
    c->owner = sl_strdup(e->owner);
    return 0;
}

static int
owner_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct claim_ctx *c = arg;
    struct owner_ctx *o = (struct owner_ctx *)c->dead_owner;
    int rc = catalog_flow_execution_get(txn, c->id, owner_row, o, d);

    return rc == SL_ERR_NOTFOUND ? 0 : rc;
}

static int
drive(struct catalog *cat, int64_t id, const struct flow_runner_opts *o, bool redrive,
      struct flow_result *res, struct sl_diag *d)
{
    const struct flow_clock *clock = clock_of(o);
    struct loaded l = {0};
    struct resume rs = {0};
    struct read_ctx rc_ = {id, &l, &rs};
    struct claim_ctx cl = {.id = id, .owner = o->owner};
    struct flow_machine *m = NULL;
    struct sink s = {.cat = cat, .o = o, .clock = clock, .id = id};
    json_t *input = NULL, *resume_input = NULL;
    char arn[512], machine_arn[512];
    int rc;

    memset(res, 0, sizeof(*res));
    struct owner_ctx prev = {0};

    /* A process of this host that died holding it lets go at once. */
    cl.dead_owner = (const char *)&prev;
    rc = catalog_txn_run(cat, CATALOG_READ, owner_txn, &cl, d);
    cl.dead_owner = rc == 0 && prev.owner && strcmp(prev.owner, o->owner) != 0 &&
                            flow_owner_dead(prev.owner)
                        ? prev.owner
                        : NULL;
    cl.now = clock->now_ms(clock->ctx);
    cl.until = cl.now + o->lease_ms;
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_WRITE, claim_txn, &cl, d);
    free(prev.owner);
    cl.dead_owner = NULL;
    if (rc == 0)
        rc = catalog_txn_run(cat, CATALOG_READ, read_txn, &rc_, d);
    if (rc < 0)
        goto out;
    if (!cl.claimed) {
        rc = sl_fail(d, strcmp(l.status, "RUNNING") == 0 ? SL_ERR_BUSY : SL_ERR_INPUT,
                     "execution %lld of '%s' is %s", (long long)id, l.machine,
                     strcmp(l.status, "RUNNING") == 0 ? "run by another process" : l.status);
        goto out;
    }
    if (o->machine == NULL) {
        rc = flow_machine_load(l.definition, strlen(l.definition), l.machine, &m, NULL, d);
        if (rc < 0)
            goto out;
    }
    const struct flow_machine *mach = o->machine ? o->machine : m;
    input = json_loads(l.input, JSON_DECODE_ANY, NULL);
    if (input == NULL) {
        rc = sl_fail(d, SL_ERR_CORRUPT, "execution %lld's recorded input is not JSON",
                     (long long)id);
        goto out;
    }
    flow_machine_arn(l.machine, machine_arn, sizeof(machine_arn));
    flow_execution_arn(l.machine, l.name, arn, sizeof(arn));

    s.wrapped = (struct flow_clock){sink_now, sink_sleep, &s};
    s.checked_at = clock->now_ms(clock->ctx);
    struct flow_exec_opts eo = {
        .name = l.name,
        .arn = arn,
        .machine_name = l.machine,
        .machine_arn = machine_arn,
        .clock = &s.wrapped,
        .on_event = on_event,
        .on_stop = on_stop,
        .ctx = &s,
        .keep_history = o->keep_history,
        .last_event_id = l.last_event,
        /* A history that ended, running again: redriven (here, or by the
         * API, which leaves the run to a worker). */
        .redrive = redrive || (l.last_event > 0 && rs.ended),
        .redrive_count = l.redrive_count,
        .start_ms = l.started_at,
        .calls = rs.calls,
    };
    const char *at = NULL, *at_input = NULL;

    if (l.last_event > 0) {
        /* The state to go on from: the last one that exited, unless a
         * later one entered and did not. */
        if (rs.entered != NULL && rs.entered_id > rs.exited_id) {
            at = rs.entered;
            at_input = rs.entered_input;
        } else if (rs.next != NULL) {
            at = rs.next;
            at_input = rs.next_input;
        } else {
            at = mach->states[mach->start].name;
            at_input = l.input;
        }
        if (at[0] == '\0') {
            /* It ran to its end; only the end is missing. */
            at = NULL;
        }
    }
    if (at != NULL) {
        resume_input = json_loads(at_input ? at_input : "{}", JSON_DECODE_ANY, NULL);
        if (resume_input == NULL) {
            rc = sl_fail(d, SL_ERR_CORRUPT, "execution %lld's history holds an input of '%s' "
                                            "that is not JSON", (long long)id, at);
            goto out;
        }
        eo.resume_state = at;
        eo.resume_input = resume_input;
    }
    s.flushed_at = clock->now_ms(clock->ctx);
    if (l.last_event > 0 && at == NULL && rs.next != NULL) {
        /* Finish what ran to its end: ExecutionSucceeded with the output. */
        json_t *out = json_loads(rs.next_input ? rs.next_input : "{}", JSON_DECODE_ANY, NULL);

        res->status = FLOW_SUCCEEDED;
        res->output = out ? out : json_object();
        res->start_ms = l.started_at;
        res->stop_ms = clock->now_ms(clock->ctx);
        eo.on_event(&s, &(struct flow_event){.id = l.last_event + 1,
                                             .previous_id = l.last_event,
                                             .ts_ms = res->stop_ms,
                                             .type = "ExecutionSucceeded",
                                             .details = NULL},
                    d);
    } else {
        rc = flow_execute(mach, input, &eo, res, d);
        if (rc < 0)
            goto out;
    }

    char *output = res->output ? json_dumps(res->output, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    struct flow_execution_record end = {
        .id = id,
        .status = flow_status_name(res->status),
        .output = output,
        .error = res->error,
        .cause = res->cause,
        .stopped_at = res->stop_ms,
    };

    s.end = &end;
    rc = flush(&s, d);
    free(output);
    if (rc == 0 && !s.ended)
        rc = sl_fail(d, SL_ERR_CONFLICT, "execution %lld ended elsewhere meanwhile",
                     (long long)id);
out:
    json_decref(input);
    json_decref(resume_input);
    flow_machine_free(m);
    sink_release(&s);
    loaded_release(&l);
    resume_release(&rs);
    return rc;
}

int
flow_runner_drive(struct catalog *cat, int64_t id, const struct flow_runner_opts *o,
                  struct flow_result *res, struct sl_diag *d)
{
    return drive(cat, id, o, false, res, d);
}

struct redrive_ctx {
    int64_t id;
    const char *owner;
    int64_t now, until;
};

static int
redrive_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct redrive_ctx *c = arg;
    int rc = catalog_flow_execution_redrive(txn, c->id, c->owner, c->now, c->until, d);

    if (rc == SL_ERR_NOTFOUND)
        return sl_fail(d, SL_ERR_INPUT, "execution %lld is not one that failed, timed out or "
                                        "was stopped, so it cannot be redriven",
                       (long long)c->id);
    return rc;
}

int
flow_runner_redrive(struct catalog *cat, int64_t id, const struct flow_runner_opts *o,
                    struct flow_result *res, struct sl_diag *d)
{
    const struct flow_clock *clock = clock_of(o);
    struct redrive_ctx c = {id, o->owner, clock->now_ms(clock->ctx), 0};
    int rc;

    c.until = c.now + o->lease_ms;
    rc = catalog_txn_run(cat, CATALOG_WRITE, redrive_txn, &c, d);
    if (rc < 0) {
        memset(res, 0, sizeof(*res));
        return rc;
    }
    return drive(cat, id, o, true, res, d);
}
