/*
 * exec.c - one execution of a state machine (exec.h).
 *
 * run_machine() walks a machine's states from StartAt; run_state() does
 * one state: its input processing, its work, its result processing, and
 * for Task, Parallel and Map the Retry loop around the attempt and the
 * Catch after it.  Parallel branches and Map iterations are machines run
 * by run_machine(): on the real clock side by side, each on a thread
 * (Map: MaxConcurrency of them, 40 when unbounded, as AWS's inline Map);
 * on a virtual clock in order (see "Side by side" below).
 *
 * Errors travel as struct flow_error (name and cause).  States.Runtime
 * and States.DataLimitExceeded are terminal: no retrier or catcher takes
 * them, and they fail the execution from any depth.
 */
#include "flow/exec.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/mem.h"
#include "core/time.h"
#include "core/utf8.h"

#define MAX_PAYLOAD 262144

/* R_CANCELLED: a branch or iteration stopped because its Parallel or Map
 * failed elsewhere. */
enum { R_OK = 0, R_FAILED = 1, R_TIMED_OUT = 2, R_CANCELLED = 3, R_SINK = -1 };

/* Iterations of an inline Map at once when MaxConcurrency is 0 (AWS's). */
#define MAP_THREADS 40

static char region[64] = "us-east-1";

void
flow_set_region(const char *r)
{
    if (r != NULL && r[0] != '\0')
        snprintf(region, sizeof(region), "%s", r);
}

const char *
flow_region(void)
{
    return region;
}

/* ---- clocks ----------------------------------------------------------- */

static int64_t
real_now(void *ctx)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
real_sleep(void *ctx, int64_t until)
{
    for (;;) {
        int64_t left = until - real_now(ctx);
        struct timespec ts;

        if (left <= 0)
            return;
        ts.tv_sec = left / 1000;
        ts.tv_nsec = (left % 1000) * 1000000;
        if (nanosleep(&ts, NULL) == 0)
            return;
    }
}

const struct flow_clock flow_real_clock = {real_now, real_sleep, NULL};

static int64_t
virtual_now(void *ctx)
{
    return ((struct flow_virtual_clock *)ctx)->now;
}

static void
virtual_sleep(void *ctx, int64_t until)
{
    struct flow_virtual_clock *vc = ctx;

    if (until > vc->now)
        vc->now = until;
}

void
flow_virtual_clock_init(struct flow_virtual_clock *vc, int64_t start_ms)
{
    vc->clock = (struct flow_clock){virtual_now, virtual_sleep, vc};
    vc->now = start_ms;
}

/* ---- names -------------------------------------------------------------- */

const char *
flow_status_name(enum flow_status s)
{
    static const char *const names[] = {"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"};

    return names[s];
}

/* ---- the execution ------------------------------------------------------- */

struct flow_run {
    const struct flow_exec_opts *o;
    const struct flow_clock *clock;
    struct flow_result *res;
    struct sl_diag *d;
    json_t *execution;     /* $$.Execution */
    json_t *machine;       /* $$.StateMachine */
    json_t *calls;         /* state + canonical input -> calls so far */
    int64_t deadline;      /* the execution's TimeoutSeconds; 0: none */
    int64_t last_id;
    uint64_t rng;
    const char *cur_state; /* where events happen now (struct flow_event) */
    int cur_depth;
    const char *resume;    /* set for the next depth-0 StateExited */
    bool stopped;          /* the sink asked for a stop */
    bool want_details;     /* a sink or a kept history takes the events' details */
    struct sl_buf det;     /* the details being written (det_begin()) */
    /* The texts of the execution's input and output, dumped once for
     * ExecutionStarted and the first state, the last state and
     * ExecutionSucceeded (an execution's input can be 256 KB). */
    char *input_text;      /* taken by the depth-0 machine's first state */
    char *output_text;     /* left by the depth-0 machine's last state */
    /* Side by side (o->concurrent): every thread of the execution works
     * under mu, and lets go of it only while a task runs or a wait
     * sleeps. */
    bool concurrent;
    pthread_mutex_t mu;
    /* Resuming a Task state: its attempts that failed before (o's,
     * taken by the state's first run_retrying()). */
    json_t *resume_failures;
};

struct group;

/* Where a machine runs: the execution, its depth, and the Parallel or Map
 * whose branch or iteration it is (NULL at depth 0). */
struct frame {
    struct flow_run *run;
    const struct flow_machine *m;
    int depth;
    struct group *g;
};

static int64_t
now(const struct flow_run *r)
{
    return r->clock->now_ms(r->clock->ctx);
}

static char *
dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Count a call of state with input in calls; the count before it. */
static int64_t
count_call(json_t *calls, const char *state, const json_t *input)
{
    char *canon = json_dumps(input, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    size_t n = strlen(state) + strlen(canon) + 2;
    char *key = sl_malloc(n);
    json_t *v;
    int64_t k;

    snprintf(key, n, "%s\n%s", state, canon);
    v = json_object_get(calls, key);
    k = v ? json_integer_value(v) : 0;
    json_object_set_new(calls, key, json_integer(k + 1));
    free(key);
    free(canon);
    return k;
}

int64_t
flow_run_calls(struct flow_run *run, const char *state, const json_t *input)
{
    int64_t n;

    /* A task runs without the execution's lock (see release()). */
    if (run->concurrent)
        pthread_mutex_lock(&run->mu);
    n = count_call(run->calls, state, input);
    if (run->concurrent)
        pthread_mutex_unlock(&run->mu);
    return n;
}

void
flow_calls_add(json_t *calls, const char *state, const json_t *input)
{
    count_call(calls, state, input);
}

int64_t
flow_run_now(struct flow_run *run)
{
    return now(run);
}

void
flow_run_sleep_until(struct flow_run *run, int64_t ms)
{
    run->clock->sleep_until(run->clock->ctx, ms);
}

/*
 * Events' details are written as compact JSON text straight into r->det,
 * not built as JSON objects: an execution makes several events per state,
 * and the durable history stores the text.  det_begin() starts an object,
 * the det_ members add to it in order, det_end() closes it and gives the
 * text, borrowed until the next det_begin().
 */
static void
det_begin(struct flow_run *r)
{
    sl_buf_reset(&r->det);
    sl_buf_addc(&r->det, '{');
}

static void
det_key(struct flow_run *r, const char *key)
{
    if (r->det.len > 1)
        sl_buf_addc(&r->det, ',');
    sl_buf_addc(&r->det, '"');
    sl_buf_adds(&r->det, key); /* our own names: nothing to escape */
    sl_buf_adds(&r->det, "\":");
}

/* A JSON string of s; bytes that are not UTF-8 become U+FFFD, as JSON
 * text must be UTF-8 (a task's words might not be). */
static void
json_str(struct sl_buf *b, const char *s)
{
    size_t n = strlen(s), bad;

    if (sl_utf8_valid(s, n, &bad)) {
        sl_buf_add_json_str(b, s, n);
        return;
    }
    struct sl_buf fixed;

    sl_buf_init(&fixed);
    while (!sl_utf8_valid(s, n, &bad)) {
        sl_buf_add(&fixed, s, bad);
        sl_buf_adds(&fixed, "\xef\xbf\xbd");
        s += bad + 1;
        n -= bad + 1;
    }
    sl_buf_add(&fixed, s, n);
    sl_buf_add_json_str(b, fixed.data, fixed.len);
    sl_buf_release(&fixed);
}

static void
det_str(struct flow_run *r, const char *key, const char *value)
{
    det_key(r, key);
    json_str(&r->det, value ? value : "");
}

static void
det_int(struct flow_run *r, const char *key, int64_t value)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = value < 0 ? -(uint64_t)value : (uint64_t)value;

    det_key(r, key);
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (value < 0)
        tmp[--i] = '-';
    sl_buf_add(&r->det, tmp + i, sizeof(tmp) - i);
}

/* "inputDetails": {"truncated": false}: payloads are never cut here. */
static void
det_whole(struct flow_run *r, const char *key)
{
    det_key(r, key);
    sl_buf_adds(&r->det, "{\"truncated\":false}");
}

static const char *
det_end(struct flow_run *r)
{
    sl_buf_addc(&r->det, '}');
    return r->det.data;
}

/* Record an event with its details as text (borrowed): details (an
 * object) or, on a StateEntered or StateExited, io; NULL for none. */
static int
emit(struct flow_run *r, const char *type, const char *details, const char *io)
{
    /* Every thread of a stopped execution unwinds, and takes no event id
     * (ids are the history's positions). */
    if (r->stopped)
        return R_SINK;

    struct flow_event ev = {
        .id = ++r->last_id,
        .previous_id = r->last_id - 1,
        .ts_ms = now(r),
        .type = type,
        .details_text = details,
        .io = io,
        .state = r->cur_state,
        .depth = r->cur_depth,
        .resume = r->resume,
    };
    int rc = 0;

    r->resume = NULL;
    if (r->o->on_event != NULL)
        rc = r->o->on_event(r->o->ctx, &ev, r->d);
    if (rc == FLOW_EVENT_STOP) {
        r->stopped = true;
        rc = -1;
    }
    if (r->o->keep_history) {
        struct flow_history *h = &r->res->history;

        if (h->n == h->cap) {
            h->cap = h->cap ? h->cap * 2 : 64;
            h->v = sl_realloc(h->v, h->cap * sizeof(*h->v));
        }
        ev.details = flow_event_details(&ev);
        ev.details_text = NULL; /* borrowed: gone when emit() returns */
        ev.io = NULL;
        h->v[h->n++] = ev;
    }
    return rc < 0 ? R_SINK : 0;
}

/* A state's StateEntered (key "input") or StateExited ("output") with
 * that text. */
static int
emit_io(struct flow_run *r, const char *type, const char *name, const char *key,
        const char *text)
{
    if (text != NULL || !r->want_details)
        return emit(r, type, NULL, text);
    /* Not JSON (it always is): the details as they were, with "". */
    det_begin(r);
    det_str(r, "name", name);
    det_str(r, key, "");
    det_whole(r, strcmp(key, "input") == 0 ? "inputDetails" : "outputDetails");
    return emit(r, type, det_end(r), NULL);
}

/* A Map iteration's event: {"name", "index"}. */
static int
emit_iteration(struct flow_run *r, const char *type, const char *name, size_t index)
{
    if (!r->want_details)
        return emit(r, type, NULL, NULL);
    det_begin(r);
    det_str(r, "name", name);
    det_int(r, "index", (int64_t)index);
    return emit(r, type, det_end(r), NULL);
}

/* An execution's end with an error: {"error", "cause"}. */
static int
emit_outcome(struct flow_run *r, const char *type, const char *error, const char *cause)
{
    det_begin(r);
    det_str(r, "error", error);
    det_str(r, "cause", cause);
    return emit(r, type, det_end(r), NULL);
}

json_t *
flow_event_details(const struct flow_event *ev)
{
    size_t n = strlen(ev->type);
    bool entered;

    if (ev->details != NULL)
        return json_incref(ev->details);
    if (ev->details_text != NULL)
        return json_loads(ev->details_text, JSON_ALLOW_NUL, NULL);
    if (ev->io == NULL)
        return NULL;
    entered = n >= 7 && strcmp(ev->type + n - 7, "Entered") == 0;
    return json_pack("{s:s,s:s,s:{s:b}}", "name", ev->state ? ev->state : "",
                     entered ? "input" : "output", ev->io,
                     entered ? "inputDetails" : "outputDetails", "truncated", 0);
}

/* The context object for a state entered at entered with retries. */
static json_t *
context(const struct frame *f, const struct flow_state *s, int64_t entered, int64_t retries,
        json_t *map_index, json_t *map_value)
{
    json_t *c = json_object();
    char iso[32];

    sl_format_iso_ms(entered, true, iso);
    json_object_set(c, "Execution", f->run->execution);
    json_object_set(c, "StateMachine", f->run->machine);
    json_object_set_new(c, "State", json_pack("{s:s,s:s,s:I}", "EnteredTime", iso, "Name", s->name,
                                              "RetryCount", (json_int_t)retries));
    if (map_index != NULL)
        json_object_set_new(c, "Map",
                            json_pack("{s:{s:O,s:O}}", "Item", "Index", map_index, "Value",
                                      map_value));
    return c;
}

/* ---- paths and templates ----------------------------------------------------- */

static int
select_path(const struct flow_path *p, const struct flow_roots *roots, const char *field,
            json_t **out, struct flow_error *err)
{
    struct sl_diag d;

    sl_diag_init(&d);
    if (flow_path_select(p, roots, out, &d) < 0) {
        flow_error_set(err, false, "States.Runtime",
                       "Invalid path '%s' in the field '%s': %s", flow_path_text(p), field, d.msg);
        return R_FAILED;
    }
    return 0;
}

/* InputPath and OutputPath: "$" when not given, {} when null. */
static int
apply_io_path(const struct flow_pathopt *po, json_t *in, json_t *context, const char *field,
              json_t **out, struct flow_error *err)
{
    struct flow_roots roots = {in, context};

    if (po->null) {
        *out = json_object();
        return 0;
    }
    if (po->path == NULL) {
        *out = json_incref(in);
        return 0;
    }
    return select_path(po->path, &roots, field, out, err);
}

static int
tmpl_eval(const struct flow_tmpl *t, const struct flow_roots *roots, const char *field,
          json_t **out, struct flow_error *err)
{
    struct sl_diag d;
    char *text;

    switch (t->kind) {
    case TMPL_CONST:
        *out = json_incref(t->value);
        return 0;
    case TMPL_PATH:
        sl_diag_init(&d);
        if (flow_path_select(t->path, roots, out, &d) < 0) {
            text = dump(flow_path_is_context(t->path) ? roots->context : roots->input);
            flow_error_set(err, false, "States.ParameterPathFailure",
                           "The JSONPath '%s' specified for the field '%s' could not be found in "
                           "the input '%s'", flow_path_text(t->path), t->field ? t->field : field,
                           text ? text : "");
            free(text);
            return R_FAILED;
        }
        return 0;
    case TMPL_CALL:
        sl_diag_init(&d);
        if (flow_intrinsic_eval(t->call, roots, out, &d) < 0) {
            flow_error_set(err, false, "States.IntrinsicFailure",
                           "The evaluation of the field '%s' failed: %s",
                           t->field ? t->field : field, d.msg);
            return R_FAILED;
        }
        return 0;
    case TMPL_ARRAY:
        *out = json_array();
        for (size_t i = 0; i < t->nkids; i++) {
            json_t *v;

            if (tmpl_eval(&t->kids[i], roots, field, &v, err) != 0) {
                json_decref(*out);
                *out = NULL;
                return R_FAILED;
            }
            json_array_append_new(*out, v);
        }
        return 0;
    case TMPL_OBJECT:
        *out = json_object();
        for (size_t i = 0; i < t->nkids; i++) {
            json_t *v;

            if (tmpl_eval(&t->kids[i], roots, field, &v, err) != 0) {
                json_decref(*out);
                *out = NULL;
                return R_FAILED;
            }
            json_object_set_new(*out, t->kids[i].key, v);
        }
        return 0;
    }
    return R_FAILED;
}

/* ResultPath: result into (a copy of) raw; a new reference in *out. */
static int
apply_result_path(const struct flow_pathopt *po, json_t *raw, json_t *result, json_t **out,
                  struct flow_error *err)
{
    struct sl_diag d;
    json_t *root;

    if (po->null) {
        *out = json_incref(raw);
        return 0;
    }
    if (po->path == NULL) {
        *out = json_incref(result);
        return 0;
    }
    root = json_is_object(raw) ? json_copy(raw) : json_incref(raw);
    sl_diag_init(&d);
    if (flow_path_put(po->path, &root, result, &d) < 0) {
        char *text = dump(raw);

        flow_error_set(err, false, "States.ResultPathMatchFailure",
                       "Unable to apply ResultPath '%s' to the input '%s': %s",
                       flow_path_text(po->path), text ? text : "", d.msg);
        free(text);
        json_decref(root);
        return R_FAILED;
    }
    *out = root;
    return 0;
}

/* ---- errors --------------------------------------------------------------- */

static bool
terminal(const struct flow_error *e)
{
    return strcmp(e->error, "States.Runtime") == 0 ||
           strcmp(e->error, "States.DataLimitExceeded") == 0;
}

static bool
matches(char *const *names, size_t n, const struct flow_error *e)
{
    if (terminal(e))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "States.ALL") == 0 || strcmp(names[i], e->error) == 0)
            return true;
        if (strcmp(names[i], "States.TaskFailed") == 0 && e->task &&
            strcmp(e->error, "States.Timeout") != 0 &&
            strcmp(e->error, "States.HeartbeatTimeout") != 0)
            return true;
    }
    return false;
}

static json_t *
error_output(const struct flow_error *e)
{
    return json_pack("{s:s,s:s}", "Error", e->error, "Cause", e->cause ? e->cause : "");
}

/* ---- side by side ------------------------------------------------------------ */

/*
 * On the real clock (o->concurrent) the branches of a Parallel and the
 * iterations of a Map run on threads of their own.  What they share - the
 * event ids, the details buffer, the sink, the task-call counts - is one
 * execution's, so each thread works under r->mu and lets go of it only
 * while a task runs (release() ... reacquire()) or a wait sleeps; events
 * are recorded one at a time, the work overlaps.  A group is the branches
 * of one Parallel or the iterations of one Map: when one fails for good,
 * the others stop at their next state (a task they are running ends
 * first), as AWS stops a Parallel's other branches.  On a virtual clock
 * everything runs in order on the caller's thread: time that moves only
 * when someone sleeps cannot be shared.
 */
struct group {
    struct group *parent;  /* the Parallel or Map this one is inside */
    bool abort;            /* a member failed: the others stop */
    size_t running;        /* threads not finished */
    pthread_cond_t done;   /* one finished (with r->mu) */
};

static bool
aborted(const struct frame *f)
{
    for (const struct group *g = f->g; g != NULL; g = g->parent)
        if (g->abort)
            return true;
    return false;
}

/* Where this thread's events happen, kept while it lets go of r->mu. */
struct held {
    const char *state;
    int depth;
};

static void
release(struct flow_run *r, struct held *h)
{
    h->state = r->cur_state;
    h->depth = r->cur_depth;
    if (r->concurrent)
        pthread_mutex_unlock(&r->mu);
}

static void
reacquire(struct flow_run *r, const struct held *h)
{
    if (r->concurrent)
        pthread_mutex_lock(&r->mu);
    r->cur_state = h->state;
    r->cur_depth = h->depth;
}

/* Whether running m may wait on something outside (a task, a Wait): only
 * then are threads worth starting for it. */
static bool
may_block(const struct flow_machine *m)
{
    for (size_t i = 0; i < m->nstates; i++) {
        const struct flow_state *s = &m->states[i];

        if (s->type == FLOW_TASK || s->type == FLOW_WAIT)
            return true;
        if (s->type == FLOW_MAP && may_block(s->processor))
            return true;
        for (size_t b = 0; s->type == FLOW_PARALLEL && b < s->nbranches; b++)
            if (may_block(s->branches[b]))
                return true;
    }
    return false;
}

/*
 * Sleep until when, or to the execution's deadline if that comes first.
 * Side by side, other threads of the execution go on meanwhile, and the
 * sleep is cut short (R_CANCELLED) when f's Parallel or Map fails
 * elsewhere: it is slept in slices of a quarter second, each ending early
 * only when the clock has a stop to tell (then the next event says so).
 */
static int
sleep_until(const struct frame *f, int64_t when)
{
    struct flow_run *r = f->run;
    bool timed_out = r->deadline > 0 && when > r->deadline;
    int64_t until = timed_out ? r->deadline : when;
    struct held h;

    if (!r->concurrent) {
        r->clock->sleep_until(r->clock->ctx, until);
        return timed_out ? R_TIMED_OUT : 0;
    }
    for (;;) {
        int64_t t = now(r), slice = until - t > 250 ? t + 250 : until;

        if (aborted(f))
            return R_CANCELLED;
        if (t >= until)
            return timed_out ? R_TIMED_OUT : 0;
        release(r, &h);
        r->clock->sleep_until(r->clock->ctx, slice);
        reacquire(r, &h);
        if (aborted(f))
            return R_CANCELLED;
        if (now(r) < slice)
            return 0; /* a stop: the next event tells it */
    }
}

static uint64_t
next_random(struct flow_run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

/* ---- states ------------------------------------------------------------------ */

static int run_machine(struct frame *f, int start, json_t *input, json_t **output,
                       struct flow_error *err);

/* "arn:aws:states:::sluice:test.echo" -> "sluice", "test.echo". */
static void
resource_parts(const char *res, char *type, size_t tsize, const char **name)
{
    const char *p = res;

    if (strncmp(res, "arn:aws:states:::", 17) == 0) {
        const char *colon;

        p = res + 17;
        colon = strchr(p, ':');
        if (colon != NULL) {
            snprintf(type, tsize, "%.*s", (int)(colon - p), p);
            *name = colon + 1;
            return;
        }
    }
    snprintf(type, tsize, "%s", "sluice");
    *name = res;
}

/* A positive integer from a *Path field, or an error. */
static int
int_from_path(const struct flow_path *p, const struct flow_roots *roots, const char *field,
              int64_t lo, int64_t *out, struct flow_error *err)
{
    json_t *v;

    if (select_path(p, roots, field, &v, err) != 0)
        return R_FAILED;
    if (!json_is_integer(v) || json_integer_value(v) < lo) {
        char *text = dump(v);

        flow_error_set(err, false, "States.Runtime",
                       "The value '%s' at '%s' of the field '%s' is not an integer of at least %lld",
                       text ? text : "", flow_path_text(p), field, (long long)lo);
        free(text);
        json_decref(v);
        return R_FAILED;
    }
    *out = json_integer_value(v);
    json_decref(v);
    return 0;
}

static int
task_attempt(struct frame *f, const struct flow_state *s, json_t *eff, json_t *ctx,
             json_t **result, struct flow_error *err)
{
    struct flow_run *r = f->run;
    struct flow_roots roots = {eff, ctx};
    int64_t timeout = s->timeout_s, heartbeat = s->heartbeat_s;
    char rtype[64];
    const char *rname;
    char *text;
    int rc;

    if (s->timeout_path && int_from_path(s->timeout_path, &roots, "TimeoutSecondsPath", 1,
                                         &timeout, err) != 0)
        return R_FAILED;
    if (s->heartbeat_path && int_from_path(s->heartbeat_path, &roots, "HeartbeatSecondsPath", 1,
                                           &heartbeat, err) != 0)
        return R_FAILED;
    resource_parts(s->resource, rtype, sizeof(rtype), &rname);
    text = dump(eff);
    det_begin(r);
    det_str(r, "resourceType", rtype);
    det_str(r, "resource", rname);
    det_str(r, "region", region);
    det_str(r, "parameters", text);
    free(text);
    if (timeout > 0)
        det_int(r, "timeoutInSeconds", timeout);
    if (heartbeat > 0)
        det_int(r, "heartbeatInSeconds", heartbeat);
    if (emit(r, "TaskScheduled", det_end(r), NULL) < 0)
        return R_SINK;
    det_begin(r);
    det_str(r, "resourceType", rtype);
    det_str(r, "resource", rname);
    if (emit(r, "TaskStarted", det_end(r), NULL) < 0)
        return R_SINK;

    int64_t started = now(r);
    int64_t deadline = timeout > 0 ? started + timeout * 1000 : 0;
    struct flow_task_call call = {
        .resource = s->resource,
        .state = s->name,
        .input = eff,
        .context = ctx,
        /* the task's own TimeoutSeconds, or the execution's if sooner */
        .deadline_ms = r->deadline > 0 && (deadline == 0 || r->deadline < deadline) ? r->deadline
                                                                                      : deadline,
        .heartbeat_ms = heartbeat * 1000,
        .run = r,
    };

    *result = NULL;
    rc = sl_fault("flow.task");
    if (rc < 0) {
        flow_error_set(err, true, "States.TaskFailed", "fault injected: %s", sl_strerror(rc));
        rc = FLOW_TASK_FAILED;
    } else {
        struct held h;

        release(r, &h);
        rc = s->task->fn(s->task->ctx, &call, result, err);
        reacquire(r, &h);
    }
    if (r->deadline > 0 && now(r) >= r->deadline) {
        /* The execution's time is up, whatever the task did. */
        json_decref(*result);
        *result = NULL;
        return R_TIMED_OUT;
    }
    if (rc == 0 && timeout > 0 && now(r) > call.deadline_ms) {
        json_decref(*result);
        *result = NULL;
        flow_error_set(err, true, "States.Timeout", "The task ran past its TimeoutSeconds (%lld)",
                       (long long)timeout);
        rc = FLOW_TASK_FAILED;
    }
    if (rc != 0) {
        if (err->error == NULL)
            flow_error_set(err, true, "States.TaskFailed", "the task failed without a reason");
        err->task = true;
        bool timed_out = strcmp(err->error, "States.Timeout") == 0 ||
                         strcmp(err->error, "States.HeartbeatTimeout") == 0;
        det_begin(r);
        det_str(r, "resourceType", rtype);
        det_str(r, "resource", rname);
        det_str(r, "error", err->error);
        det_str(r, "cause", err->cause);
        if (emit(r, timed_out ? "TaskTimedOut" : "TaskFailed", det_end(r), NULL) < 0)
            return R_SINK;
        return R_FAILED;
    }
    if (*result == NULL)
        *result = json_object();
    text = dump(*result);
    det_begin(r);
    det_str(r, "resourceType", rtype);
    det_str(r, "resource", rname);
    det_str(r, "output", text);
    det_whole(r, "outputDetails");
    free(text);
    if (emit(r, "TaskSucceeded", det_end(r), NULL) < 0)
        return R_SINK;
    return 0;
}

/* One branch of a Parallel. */
struct branch {
    struct flow_run *r;
    struct frame sub;
    json_t *in;
    json_t *out;
    struct flow_error err;
    int rc;
    int64_t order;          /* 1 for the first to fail, 2 the next, ... */
    int64_t *failures;
    pthread_t thread;
};

/* Run b under r->mu; a failure stops the other branches. */
static void
branch_run(struct branch *b)
{
    b->rc = run_machine(&b->sub, -1, b->in, &b->out, &b->err);
    if (b->rc != 0 && b->rc != R_CANCELLED) {
        b->sub.g->abort = true;
        b->order = ++*b->failures;
    }
}

static void *
branch_main(void *arg)
{
    struct branch *b = arg;
    struct group *g = b->sub.g;

    pthread_mutex_lock(&b->r->mu);
    branch_run(b);
    g->running--;
    pthread_cond_broadcast(&g->done);
    pthread_mutex_unlock(&b->r->mu);
    return NULL;
}

/*
 * Which branch's outcome is the Parallel's: a sink failure or the
 * execution's timeout before anything, then the failure that came first;
 * -1 if every branch succeeded (or was only cancelled).
 */
static ssize_t
parallel_outcome(const struct branch *b, size_t n)
{
    ssize_t pick = -1;

    for (size_t i = 0; i < n; i++) {
        if (b[i].rc == 0 || b[i].rc == R_CANCELLED)
            continue;
        if (pick < 0 || (b[i].rc == R_SINK && b[pick].rc != R_SINK) ||
            (b[i].rc == R_TIMED_OUT && b[pick].rc == R_FAILED) ||
            (b[i].rc == b[pick].rc && b[i].order < b[pick].order))
            pick = (ssize_t)i;
    }
    return pick;
}

static int
parallel_attempt(struct frame *f, const struct flow_state *s, json_t *eff, json_t **result,
                 struct flow_error *err)
{
    struct flow_run *r = f->run;
    size_t n = s->nbranches;
    struct group g = {.parent = f->g};
    struct branch *b;
    int64_t failures = 0;
    bool side = false;
    ssize_t bad;
    int rc = 0;

    if (emit(r, "ParallelStateStarted", NULL, NULL) < 0)
        return R_SINK;
    b = sl_calloc(n, sizeof(*b));
    for (size_t i = 0; i < n; i++) {
        b[i] = (struct branch){r, {r, s->branches[i], f->depth + 1, &g}, eff, NULL, {0}, 0, 0,
                               &failures, 0};
        side = side || may_block(s->branches[i]);
    }
    side = side && r->concurrent && n > 1;
    if (side) {
        size_t started = 0;

        pthread_cond_init(&g.done, NULL);
        for (; started < n; started++) {
            g.running++;
            if (pthread_create(&b[started].thread, NULL, branch_main, &b[started]) != 0) {
                g.running--;
                break;
            }
        }
        for (size_t i = started; i < n; i++) /* no thread to be had: here */
            if (!g.abort)
                branch_run(&b[i]);
        while (g.running > 0)
            pthread_cond_wait(&g.done, &r->mu);
        for (size_t i = 0; i < started; i++)
            pthread_join(b[i].thread, NULL);
        pthread_cond_destroy(&g.done);
    } else {
        for (size_t i = 0; i < n && !g.abort; i++)
            branch_run(&b[i]);
    }
    r->cur_state = s->name;
    r->cur_depth = f->depth;
    bad = parallel_outcome(b, n);
    if (bad < 0 && aborted(f)) {
        /* Cancelled from outside (an enclosing Parallel or Map failed):
         * no outcome of its own. */
        for (size_t i = 0; i < n; i++) {
            json_decref(b[i].out);
            flow_error_release(&b[i].err);
        }
        free(b);
        return R_CANCELLED;
    }
    if (bad >= 0) {
        rc = b[bad].rc;
        *err = b[bad].err;
        memset(&b[bad].err, 0, sizeof(b[bad].err));
    } else {
        *result = json_array();
    }
    for (size_t i = 0; i < n; i++) {
        if (bad < 0)
            json_array_append_new(*result, b[i].out);
        else
            json_decref(b[i].out);
        flow_error_release(&b[i].err);
    }
    free(b);
    if (rc != 0) {
        *result = NULL;
        if (rc == R_FAILED && emit(r, "ParallelStateFailed", NULL, NULL) < 0)
            return R_SINK;
        return rc;
    }
    if (emit(r, "ParallelStateSucceeded", NULL, NULL) < 0)
        return R_SINK;
    return 0;
}

/* One Map state's run: its items, results, and what failed so far. */
struct map_run {
    struct frame *f;
    const struct flow_state *s;
    json_t *eff;
    json_t *items;
    size_t n, next;          /* items, and the next to start */
    json_t *results;         /* n slots, in item order */
    int64_t failed, tolerated_count;
    double tolerated_pct;
    int rc;                  /* the Map's failure (0: none yet) ... */
    struct flow_error err;   /* ... and its error */
    struct group g;
};

/* Iteration i, under r->mu: 0; or how the Map fails, into m->rc and
 * m->err (the first failure only). */
static void
map_iteration(struct map_run *m, size_t i)
{
    struct frame *f = m->f;
    struct flow_run *r = f->run;
    const struct flow_state *s = m->s;
    struct frame sub = {r, s->processor, f->depth + 1, &m->g};
    json_t *item = json_array_get(m->items, i), *in, *out;
    struct flow_error ierr = {0};
    int rc;

    r->cur_state = s->name; /* another thread may have had the lock last */
    r->cur_depth = f->depth;
    if (s->parameters != NULL) {
        json_t *index = json_integer((json_int_t)i);
        json_t *ictx = context(f, s, now(r), 0, index, item);
        struct flow_roots iroots = {m->eff, ictx};

        rc = tmpl_eval(s->parameters, &iroots, "ItemSelector", &in, &ierr);
        json_decref(index);
        json_decref(ictx);
        if (rc != 0)
            goto failed;
    } else {
        in = json_incref(item);
    }
    if (emit_iteration(r, "MapIterationStarted", s->name, i) < 0) {
        json_decref(in);
        rc = R_SINK;
        goto failed;
    }
    rc = run_machine(&sub, -1, in, &out, &ierr);
    r->cur_state = s->name;
    r->cur_depth = f->depth;
    json_decref(in);
    if (rc == R_CANCELLED) {
        flow_error_release(&ierr);
        return;
    }
    if (rc == R_FAILED && !terminal(&ierr) &&
        (m->tolerated_count >= 0 || m->tolerated_pct >= 0)) {
        m->failed++;
        if (emit_iteration(r, "MapIterationFailed", s->name, i) < 0) {
            rc = R_SINK;
            goto failed;
        }
        json_array_set_new(m->results, i, error_output(&ierr));
        flow_error_release(&ierr);
        if ((m->tolerated_count >= 0 && m->failed > m->tolerated_count) ||
            (m->tolerated_pct >= 0 &&
             (double)m->failed * 100.0 > m->tolerated_pct * (double)m->n)) {
            flow_error_set(&ierr, false, "States.ExceedToleratedFailureThreshold",
                           "%lld of the Map's %zu iterations failed, more than it tolerates",
                           (long long)m->failed, m->n);
            rc = R_FAILED;
            goto failed;
        }
        return;
    }
    if (rc != 0) {
        if (rc == R_FAILED && emit_iteration(r, "MapIterationFailed", s->name, i) < 0)
            rc = R_SINK;
        goto failed;
    }
    if (emit_iteration(r, "MapIterationSucceeded", s->name, i) < 0) {
        json_decref(out);
        rc = R_SINK;
        goto failed;
    }
    json_array_set_new(m->results, i, out);
    return;

failed:
    m->g.abort = true;
    /* The first failure is the Map's, but a sink's or the execution's
     * timeout outranks a state's. */
    if (m->rc == 0 || (rc == R_SINK && m->rc != R_SINK) ||
        (rc == R_TIMED_OUT && m->rc == R_FAILED)) {
        flow_error_release(&m->err);
        m->rc = rc;
        m->err = ierr;
    } else {
        flow_error_release(&ierr);
    }
}

/* Iterations in item order while there are any and nothing failed. */
static void
map_loop(struct map_run *m)
{
    while (m->next < m->n && !aborted(&(struct frame){.g = &m->g}))
        map_iteration(m, m->next++);
}

static void *
map_main(void *arg)
{
    struct map_run *m = arg;
    struct flow_run *r = m->f->run;

    pthread_mutex_lock(&r->mu);
    map_loop(m);
    m->g.running--;
    pthread_cond_broadcast(&m->g.done);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int
map_attempt(struct frame *f, const struct flow_state *s, json_t *eff, json_t *ctx,
            json_t **result, struct flow_error *err)
{
    struct flow_run *r = f->run;
    struct flow_roots roots = {eff, ctx};
    struct map_run m = {.f = f, .s = s, .eff = eff, .tolerated_count = s->tolerated_count,
                        .tolerated_pct = s->tolerated_pct, .g = {.parent = f->g}};
    int64_t width = s->max_concurrency;
    pthread_t threads[MAP_THREADS];
    size_t nthreads = 0;

    if (s->items_path != NULL) {
        if (select_path(s->items_path, &roots, "ItemsPath", &m.items, err) != 0)
            return R_FAILED;
    } else {
        m.items = json_incref(eff);
    }
    if (!json_is_array(m.items)) {
        char *text = dump(m.items);

        flow_error_set(err, false, "States.Runtime",
                       "The ItemsPath '%s' of the Map state '%s' must select an array; it selected "
                       "'%s'", s->items_path ? flow_path_text(s->items_path) : "$", s->name,
                       text ? text : "");
        free(text);
        json_decref(m.items);
        return R_FAILED;
    }
    if ((s->tolerated_count_path != NULL &&
         int_from_path(s->tolerated_count_path, &roots, "ToleratedFailureCountPath", 0,
                       &m.tolerated_count, err) != 0) ||
        (s->max_concurrency_path != NULL &&
         int_from_path(s->max_concurrency_path, &roots, "MaxConcurrencyPath", 0, &width,
                       err) != 0)) {
        json_decref(m.items);
        return R_FAILED;
    }
    if (s->tolerated_pct_path != NULL) {
        int64_t pct;

        if (int_from_path(s->tolerated_pct_path, &roots, "ToleratedFailurePercentagePath", 0, &pct,
                          err) != 0) {
            json_decref(m.items);
            return R_FAILED;
        }
        m.tolerated_pct = (double)pct;
    }
    m.n = json_array_size(m.items);
    det_begin(r);
    det_int(r, "length", (int64_t)m.n);
    if (emit(r, "MapStateStarted", det_end(r), NULL) < 0) {
        json_decref(m.items);
        return R_SINK;
    }
    m.results = json_array();
    for (size_t i = 0; i < m.n; i++)
        json_array_append_new(m.results, json_null());
    if (width <= 0 || width > MAP_THREADS)
        width = MAP_THREADS;
    if ((size_t)width > m.n)
        width = (int64_t)m.n;
    if (r->concurrent && width > 1 && may_block(s->processor)) {
        pthread_cond_init(&m.g.done, NULL);
        /* width - 1 threads: this one takes part too */
        for (; nthreads < (size_t)width - 1; nthreads++) {
            m.g.running++;
            if (pthread_create(&threads[nthreads], NULL, map_main, &m) != 0) {
                m.g.running--;
                break;
            }
        }
        map_loop(&m); /* (all of it, if no thread could be started) */
        while (m.g.running > 0)
            pthread_cond_wait(&m.g.done, &r->mu);
        for (size_t i = 0; i < nthreads; i++)
            pthread_join(threads[i], NULL);
        pthread_cond_destroy(&m.g.done);
        r->cur_state = s->name;
        r->cur_depth = f->depth;
    } else {
        map_loop(&m);
    }
    json_decref(m.items);
    if (m.rc == 0 && aborted(f)) { /* cancelled from outside */
        json_decref(m.results);
        *result = NULL;
        return R_CANCELLED;
    }
    if (m.rc != 0) {
        json_decref(m.results);
        *result = NULL;
        *err = m.err;
        if (m.rc == R_FAILED && emit(r, "MapStateFailed", NULL, NULL) < 0)
            return R_SINK;
        return m.rc;
    }
    *result = m.results;
    if (emit(r, "MapStateSucceeded", NULL, NULL) < 0)
        return R_SINK;
    return 0;
}

/*
 * One attempt of a Task, Pass, Parallel or Map: effective input, the work,
 * ResultSelector, ResultPath, OutputPath.
 */
static int
attempt(struct frame *f, const struct flow_state *s, json_t *raw, json_t *ctx, json_t **out,
        struct flow_error *err)
{
    struct flow_roots roots;
    json_t *eff = NULL, *param = NULL, *result = NULL, *sel = NULL, *placed = NULL;
    int rc;

    rc = apply_io_path(&s->input, raw, ctx, "InputPath", &eff, err);
    if (rc != 0)
        return rc;
    roots = (struct flow_roots){eff, ctx};
    if (s->parameters != NULL && s->type != FLOW_MAP) {
        rc = tmpl_eval(s->parameters, &roots, "Parameters", &param, err);
        if (rc != 0)
            goto out;
    } else {
        param = json_incref(eff);
    }
    switch (s->type) {
    case FLOW_TASK:
        rc = task_attempt(f, s, param, ctx, &result, err);
        break;
    case FLOW_PASS:
        result = json_incref(s->result_value ? s->result_value : param);
        break;
    case FLOW_PARALLEL:
        rc = parallel_attempt(f, s, param, &result, err);
        break;
    case FLOW_MAP:
        rc = map_attempt(f, s, param, ctx, &result, err);
        break;
    default:
        abort();
    }
    if (rc != 0)
        goto out;
    if (s->result_selector != NULL) {
        struct flow_roots rr = {result, ctx};

        rc = tmpl_eval(s->result_selector, &rr, "ResultSelector", &sel, err);
        if (rc != 0)
            goto out;
    } else {
        sel = json_incref(result);
    }
    rc = apply_result_path(&s->result, raw, sel, &placed, err);
    if (rc != 0)
        goto out;
    rc = apply_io_path(&s->output, placed, ctx, "OutputPath", out, err);
out:
    json_decref(eff);
    json_decref(param);
    json_decref(result);
    json_decref(sel);
    json_decref(placed);
    return rc;
}

/* Task, Pass, Parallel, Map: attempts under Retry, then Catch. */
static int
run_retrying(struct frame *f, const struct flow_state *s, json_t *raw, int64_t entered,
             json_t **out, int *next, struct flow_error *err)
{
    struct flow_run *r = f->run;
    int64_t *counts = sl_calloc(s->nretry + 1, sizeof(*counts));
    int64_t retries = 0;
    json_t *before = f->depth == 0 ? r->resume_failures : NULL;
    int64_t wait_until = 0;
    int rc;

    /* Resumed after a crash: the attempts that failed before it count
     * against the retriers as they did (retries stay bounded however often
     * the process dies), and the next waits out the last one's retry
     * interval; the last, if no retrier takes it any more, goes to Catch
     * without the task running again. */
    r->resume_failures = NULL;
    for (size_t k = 0; k < json_array_size(before); k++) {
        json_t *e = json_array_get(before, k);
        const char *error = json_string_value(json_object_get(e, "error"));
        struct flow_error fe = {0};
        size_t i;

        flow_error_set(&fe, true, error ? error : "States.TaskFailed", "%s",
                       json_string_value(json_object_get(e, "cause")) ?: "");
        for (i = 0; i < s->nretry; i++)
            if (matches(s->retry[i].errors, s->retry[i].nerrors, &fe))
                break;
        if (i == s->nretry || counts[i] >= s->retry[i].max_attempts) {
            flow_error_release(err);
            *err = fe;
            free(counts);
            json_decref(before);
            goto caught;
        }
        flow_error_release(&fe);
        const struct flow_retrier *rt = &s->retry[i];
        double delay = (double)rt->interval_s * pow(rt->backoff, (double)counts[i]) * 1000.0;

        if (rt->max_delay_s > 0 && delay > (double)rt->max_delay_s * 1000.0)
            delay = (double)rt->max_delay_s * 1000.0;
        wait_until = json_integer_value(json_object_get(e, "ms")) + (int64_t)fmin(delay, 1e15);
        counts[i]++;
        retries++;
    }
    json_decref(before);
    if (wait_until > now(r)) {
        rc = sleep_until(f, wait_until);
        if (rc != 0) {
            free(counts);
            *next = s->end ? -1 : s->next;
            return rc;
        }
    }
    for (;;) {
        if (aborted(f)) { /* its Parallel or Map failed elsewhere */
            rc = R_CANCELLED;
            break;
        }
        json_t *ctx = context(f, s, entered, retries, NULL, NULL);

        flow_error_release(err);
        rc = attempt(f, s, raw, ctx, out, err);
        json_decref(ctx);
        if (rc != R_FAILED)
            break;
        if (terminal(err))
            break;
        size_t i;

        for (i = 0; i < s->nretry; i++)
            if (matches(s->retry[i].errors, s->retry[i].nerrors, err))
                break;
        if (i == s->nretry || counts[i] >= s->retry[i].max_attempts)
            break;
        const struct flow_retrier *rt = &s->retry[i];
        double delay = (double)rt->interval_s * pow(rt->backoff, (double)counts[i]) * 1000.0;

        if (rt->max_delay_s > 0 && delay > (double)rt->max_delay_s * 1000.0)
            delay = (double)rt->max_delay_s * 1000.0;
        if (delay > 1e15)
            delay = 1e15;
        if (rt->jitter)
            delay = (double)(next_random(r) % ((uint64_t)delay + 1));
        counts[i]++;
        retries++;
        r->res->transitions++;
        rc = sleep_until(f, now(r) + (int64_t)delay);
        if (rc != 0)
            break;
        rc = R_FAILED;
    }
    free(counts);
    if (rc != R_FAILED) {
        *next = s->end ? -1 : s->next;
        return rc;
    }
caught:
    for (size_t i = 0; i < s->ncatch; i++) {
        const struct flow_catcher *c = &s->catch[i];
        json_t *eo;
        struct flow_error perr = {0};

        if (!matches(c->errors, c->nerrors, err))
            continue;
        eo = error_output(err);
        rc = apply_result_path(&c->result, raw, eo, out, &perr);
        json_decref(eo);
        if (rc != 0) {
            flow_error_release(err);
            *err = perr;
            return rc;
        }
        flow_error_release(err);
        *next = c->next;
        return 0;
    }
    return R_FAILED;
}

static int
run_choice(struct frame *f, const struct flow_state *s, json_t *raw, int64_t entered, json_t **out,
           int *next, struct flow_error *err)
{
    json_t *ctx = context(f, s, entered, 0, NULL, NULL), *eff;
    int rc = apply_io_path(&s->input, raw, ctx, "InputPath", &eff, err);
    struct flow_roots roots = {eff, ctx};

    if (rc != 0) {
        json_decref(ctx);
        return rc;
    }
    *next = -2;
    for (size_t i = 0; i < s->nchoices && *next == -2; i++) {
        struct sl_diag d;
        bool match = false;

        sl_diag_init(&d);
        if (flow_choice_eval(s->choices[i], &roots, &match, &d) < 0) {
            flow_error_set(err, false, "States.Runtime",
                           "Invalid path in the Choice state '%s', rule %zu: %s", s->name, i + 1,
                           d.msg);
            rc = R_FAILED;
            goto out;
        }
        if (match)
            *next = s->choice_next[i];
    }
    if (*next == -2) {
        if (s->default_next < 0) {
            flow_error_set(err, false, "States.NoChoiceMatched",
                           "No Choice Rules matched and no Default is specified in the state '%s'",
                           s->name);
            rc = R_FAILED;
            goto out;
        }
        *next = s->default_next;
    }
    rc = apply_io_path(&s->output, eff, ctx, "OutputPath", out, err);
out:
    json_decref(eff);
    json_decref(ctx);
    return rc;
}

static int
run_wait(struct frame *f, const struct flow_state *s, json_t *raw, int64_t entered, json_t **out,
         int *next, struct flow_error *err)
{
    json_t *ctx = context(f, s, entered, 0, NULL, NULL), *eff, *v = NULL;
    int rc = apply_io_path(&s->input, raw, ctx, "InputPath", &eff, err);
    struct flow_roots roots = {eff, ctx};
    int64_t until = entered;

    if (rc != 0) {
        json_decref(ctx);
        return rc;
    }
    if (s->wait_seconds >= 0) {
        until = entered + s->wait_seconds * 1000;
    } else if (s->wait_timestamp != NULL) {
        until = s->wait_timestamp_ms;
    } else if (s->wait_seconds_path != NULL) {
        int64_t secs;

        rc = int_from_path(s->wait_seconds_path, &roots, "SecondsPath", 0, &secs, err);
        if (rc != 0)
            goto out;
        until = entered + secs * 1000;
    } else if (s->wait_timestamp_path != NULL) {
        rc = select_path(s->wait_timestamp_path, &roots, "TimestampPath", &v, err);
        if (rc != 0)
            goto out;
        if (!json_is_string(v) || !flow_parse_timestamp(json_string_value(v), &until)) {
            char *text = dump(v);

            flow_error_set(err, false, "States.Runtime",
                           "The TimestampPath '%s' of the Wait state '%s' selected '%s', which is "
                           "not an RFC 3339 timestamp", flow_path_text(s->wait_timestamp_path),
                           s->name, text ? text : "");
            free(text);
            rc = R_FAILED;
            goto out;
        }
    }
    rc = sleep_until(f, until);
    if (rc != 0)
        goto out;
    *next = s->end ? -1 : s->next;
    rc = apply_io_path(&s->output, eff, ctx, "OutputPath", out, err);
out:
    json_decref(v);
    json_decref(eff);
    json_decref(ctx);
    return rc;
}

/* A Fail state's Error or Cause: the text, or what its path or call gives. */
static int
fail_field(const char *text, const struct flow_path *path, const struct flow_intrinsic *call,
           const struct flow_roots *roots, const char *field, char **out, struct flow_error *err)
{
    json_t *v = NULL;
    struct sl_diag d;

    *out = NULL;
    if (text != NULL) {
        *out = sl_strdup(text);
        return 0;
    }
    sl_diag_init(&d);
    if (path != NULL && flow_path_select(path, roots, &v, &d) < 0) {
        flow_error_set(err, false, "States.Runtime", "Invalid path '%s' in the field '%s': %s",
                       flow_path_text(path), field, d.msg);
        return R_FAILED;
    }
    if (call != NULL && flow_intrinsic_eval(call, roots, &v, &d) < 0) {
        flow_error_set(err, false, "States.Runtime", "The field '%s' failed: %s", field, d.msg);
        return R_FAILED;
    }
    if (v == NULL)
        return 0;
    if (!json_is_string(v)) {
        flow_error_set(err, false, "States.Runtime", "The field '%s' must give a string", field);
        json_decref(v);
        return R_FAILED;
    }
    *out = sl_strdup(json_string_value(v));
    json_decref(v);
    return 0;
}

static int
run_fail(struct frame *f, const struct flow_state *s, json_t *raw, int64_t entered,
         struct flow_error *err)
{
    json_t *ctx = context(f, s, entered, 0, NULL, NULL);
    struct flow_roots roots = {raw, ctx};
    char *error = NULL, *cause = NULL;
    int rc;

    rc = fail_field(s->error, s->error_path, s->error_call, &roots, "ErrorPath", &error, err);
    if (rc == 0)
        rc = fail_field(s->cause, s->cause_path, s->cause_call, &roots, "CausePath", &cause, err);
    json_decref(ctx);
    if (rc != 0) {
        free(error);
        free(cause);
        return rc;
    }
    flow_error_release(err);
    err->error = error ? error : sl_strdup("");
    err->cause = cause ? cause : sl_strdup("");
    err->task = false;
    return R_FAILED;
}

static int
run_state(struct frame *f, const struct flow_state *s, json_t *raw, int64_t entered, json_t **out,
          int *next, struct flow_error *err)
{
    switch (s->type) {
    case FLOW_TASK:
    case FLOW_PASS:
    case FLOW_PARALLEL:
    case FLOW_MAP:
        return run_retrying(f, s, raw, entered, out, next, err);
    case FLOW_CHOICE:
        return run_choice(f, s, raw, entered, out, next, err);
    case FLOW_WAIT:
        return run_wait(f, s, raw, entered, out, next, err);
    case FLOW_SUCCEED: {
        json_t *ctx = context(f, s, entered, 0, NULL, NULL), *eff;
        int rc = apply_io_path(&s->input, raw, ctx, "InputPath", &eff, err);

        if (rc == 0) {
            rc = apply_io_path(&s->output, eff, ctx, "OutputPath", out, err);
            json_decref(eff);
        }
        json_decref(ctx);
        *next = -1;
        return rc;
    }
    case FLOW_FAIL:
        return run_fail(f, s, raw, entered, err);
    }
    return R_FAILED;
}

/* The event types, by enum flow_state_type. */
static const char *const entered_types[] = {
    "TaskStateEntered",    "PassStateEntered", "ChoiceStateEntered",   "WaitStateEntered",
    "SucceedStateEntered", "FailStateEntered", "ParallelStateEntered", "MapStateEntered",
};
static const char *const exited_types[] = {
    "TaskStateExited",    "PassStateExited", "ChoiceStateExited",   "WaitStateExited",
    "SucceedStateExited", "FailStateExited", "ParallelStateExited", "MapStateExited",
};

/* Run f's machine from state start (-1: StartAt) on input. */
static int
run_machine(struct frame *f, int start, json_t *input, json_t **output, struct flow_error *err)
{
    struct flow_run *r = f->run;
    const struct flow_machine *m = f->m;
    json_t *in = json_incref(input);
    int i = start >= 0 ? start : m->start;
    char *carried = NULL; /* in's text: the state before's output, dumped already */

    *output = NULL;
    if (f->depth == 0) {
        carried = r->input_text;
        r->input_text = NULL;
    }
    for (;;) {
        const struct flow_state *s = &m->states[i];
        int64_t entered = now(r);
        json_t *out = NULL;
        char *text;
        int next = -1, rc;

        if (r->deadline > 0 && entered >= r->deadline) {
            free(carried);
            json_decref(in);
            return R_TIMED_OUT;
        }
        if (aborted(f)) { /* its Parallel or Map failed elsewhere */
            free(carried);
            json_decref(in);
            return R_CANCELLED;
        }
        r->cur_state = s->name;
        r->cur_depth = f->depth;
        text = carried ? carried : r->want_details ? dump(in) : NULL;
        carried = NULL;
        rc = emit_io(r, entered_types[s->type], s->name, "input", text);
        free(text);
        if (rc != 0) {
            json_decref(in);
            return rc;
        }
        r->res->transitions++;
        rc = run_state(f, s, in, entered, &out, &next, err);
        json_decref(in);
        if (rc != 0)
            return rc;
        text = dump(out);
        if (text != NULL && strlen(text) > MAX_PAYLOAD) {
            flow_error_set(err, false, "States.DataLimitExceeded",
                           "The state/task '%s' returned a result with a size exceeding the "
                           "maximum number of bytes service limit (%d)", s->name, MAX_PAYLOAD);
            free(text);
            json_decref(out);
            return R_FAILED;
        }
        r->cur_state = s->name;
        r->cur_depth = f->depth;
        if (f->depth == 0)
            r->resume = next >= 0 ? m->states[next].name : "";
        rc = emit_io(r, exited_types[s->type], s->name, "output", text);
        if (rc != 0 || !r->want_details)
            free(text);
        else if (next >= 0)
            carried = text; /* out, unchanged, is the next state's input */
        else if (f->depth == 0)
            r->output_text = text; /* and the execution's output */
        else
            free(text);
        if (rc != 0) {
            json_decref(out);
            return rc;
        }
        if (next < 0) {
            if (r->deadline > 0 && now(r) > r->deadline) {
                json_decref(out);
                return R_TIMED_OUT;
            }
            *output = out;
            return 0;
        }
        in = out;
        i = next;
    }
}

/* ---- the API ---------------------------------------------------------------- */

int
flow_execute(const struct flow_machine *m, json_t *input, const struct flow_exec_opts *o,
             struct flow_result *res, struct sl_diag *d)
{
    struct flow_run r = {.o = o, .res = res, .d = d, .concurrent = o->concurrent};
    struct frame f = {&r, m, 0, NULL};
    int start = -1;
    struct flow_error err = {0};
    json_t *output = NULL;
    char iso[32], *text;
    int rc;

    memset(res, 0, sizeof(*res));
    r.clock = o->clock ? o->clock : &flow_real_clock;
    res->start_ms = o->start_ms > 0 ? o->start_ms : now(&r);
    r.deadline = m->timeout_s > 0 ? res->start_ms + m->timeout_s * 1000 : 0;
    if (o->redrive)
        r.deadline = m->timeout_s > 0 ? now(&r) + m->timeout_s * 1000 : 0;
    r.last_id = o->last_event_id;
    r.want_details = o->on_event != NULL || o->keep_history;
    if (o->resume_state != NULL) {
        start = flow_machine_find(m, o->resume_state);
        if (start < 0)
            return sl_fail(d, SL_ERR_CORRUPT,
                           "the execution's history resumes at '%s', which its definition lacks",
                           o->resume_state);
    }
    sl_buf_init(&r.det);
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_lock(&r.mu);
    r.rng = o->seed ? o->seed : (uint64_t)res->start_ms * 2654435761u + 1;
    if (o->resume_state != NULL && json_array_size(o->resume_failures) > 0)
        r.resume_failures = json_incref(o->resume_failures);
    r.calls = o->calls ? json_deep_copy(o->calls) : json_object();
    sl_format_iso_ms(res->start_ms, true, iso);
    r.execution = json_pack("{s:s,s:O,s:s,s:s,s:s,s:I}", "Id", o->arn ? o->arn : "", "Input",
                            input, "Name", o->name ? o->name : "", "RoleArn",
                            o->role_arn ? o->role_arn : "", "StartTime", iso, "RedriveCount",
                            (json_int_t)o->redrive_count);
    r.machine = json_pack("{s:s,s:s}", "Id", o->machine_arn ? o->machine_arn : "", "Name",
                          o->machine_name ? o->machine_name : "");

    if (o->resume_state == NULL) {
        text = r.want_details ? dump(input) : NULL;
        det_begin(&r);
        det_str(&r, "input", text);
        det_whole(&r, "inputDetails");
        det_str(&r, "roleArn", o->role_arn);
        rc = emit(&r, "ExecutionStarted", det_end(&r), NULL);
        r.input_text = text; /* the first state's input */
    } else if (o->redrive) {
        det_begin(&r);
        det_int(&r, "redriveCount", o->redrive_count);
        rc = emit(&r, "ExecutionRedriven", det_end(&r), NULL);
    } else {
        rc = 0;
    }
    if (rc == 0)
        rc = run_machine(&f, start, o->resume_state ? o->resume_input : input, &output, &err);
    r.cur_state = NULL;
    r.cur_depth = 0;
    if (r.stopped) {
        char *error = NULL, *cause = NULL;

        if (o->on_stop != NULL)
            o->on_stop(o->ctx, &error, &cause);
        json_decref(output);
        output = NULL;
        res->status = FLOW_ABORTED;
        res->error = error ? error : sl_strdup("");
        res->cause = cause ? cause : sl_strdup("");
        r.stopped = false;
        rc = emit_outcome(&r, "ExecutionAborted", res->error, res->cause);
        if (r.stopped)
            rc = 0;
        rc = rc < 0 ? rc : 3;
    }
    switch (rc) {
    case R_OK:
        res->status = FLOW_SUCCEEDED;
        res->output = output;
        text = r.output_text ? r.output_text : r.want_details ? dump(output) : NULL;
        r.output_text = NULL;
        det_begin(&r);
        det_str(&r, "output", text);
        det_whole(&r, "outputDetails");
        free(text);
        rc = emit(&r, "ExecutionSucceeded", det_end(&r), NULL);
        break;
    case R_FAILED:
        res->status = FLOW_FAILED;
        res->error = sl_strdup(err.error ? err.error : "States.Runtime");
        res->cause = sl_strdup(err.cause ? err.cause : "");
        rc = emit_outcome(&r, "ExecutionFailed", res->error, res->cause);
        break;
    case R_TIMED_OUT:
        res->status = FLOW_TIMED_OUT;
        res->error = sl_strdup("States.Timeout");
        res->cause = sl_strdup("The execution ran past its TimeoutSeconds");
        rc = emit_outcome(&r, "ExecutionTimedOut", res->error, res->cause);
        break;
    default:
        break;
    }
    res->stop_ms = now(&r);
    pthread_mutex_unlock(&r.mu);
    pthread_mutex_destroy(&r.mu);
    flow_error_release(&err);
    json_decref(r.execution);
    json_decref(r.machine);
    json_decref(r.calls);
    json_decref(r.resume_failures);
    sl_buf_release(&r.det);
    free(r.input_text);
    free(r.output_text);
    if (rc < 0) {
        if (d->code == 0)
            sl_fail(d, SL_ERR_CATALOG, "the execution's history could not be recorded");
        return d->code;
    }
    return 0;
}

void
flow_history_release(struct flow_history *h)
{
    for (size_t i = 0; i < h->n; i++)
        json_decref(h->v[i].details);
    free(h->v);
    memset(h, 0, sizeof(*h));
}

/* "TaskStateEntered" -> "stateEnteredEventDetails", as the API names them. */
static void
details_key(const char *type, char *out, size_t size)
{
    static const char *const state_types[] = {"Task", "Pass", "Choice", "Wait", "Succeed",
                                              "Fail", "Parallel", "Map", NULL};

    for (const char *const *t = state_types; *t; t++) {
        size_t n = strlen(*t);

        if (strncmp(type, *t, n) == 0 && strncmp(type + n, "State", 5) == 0 &&
            (strcmp(type + n, "StateEntered") == 0 || strcmp(type + n, "StateExited") == 0)) {
            snprintf(out, size, "%sEventDetails",
                     strcmp(type + n, "StateEntered") == 0 ? "stateEntered" : "stateExited");
            return;
        }
    }
    snprintf(out, size, "%c%sEventDetails", type[0] - 'A' + 'a', type + 1);
}

json_t *
flow_history_json(const struct flow_history *h)
{
    json_t *events = json_array();

    for (size_t i = 0; i < h->n; i++) {
        const struct flow_event *ev = &h->v[i];
        json_t *e = json_pack("{s:f,s:s,s:I}", "timestamp", (double)ev->ts_ms / 1000.0, "type",
                              ev->type, "id", (json_int_t)ev->id);

        if (ev->previous_id > 0)
            json_object_set_new(e, "previousEventId", json_integer(ev->previous_id));
        if (ev->details != NULL) {
            char key[96];

            details_key(ev->type, key, sizeof(key));
            json_object_set(e, key, ev->details);
        }
        json_array_append_new(events, e);
    }
    return events;
}

void
flow_result_release(struct flow_result *r)
{
    json_decref(r->output);
    free(r->error);
    free(r->cause);
    flow_history_release(&r->history);
    memset(r, 0, sizeof(*r));
}
