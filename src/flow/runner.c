/*
 * runner.c - durable executions (runner.h): the executor's events written
 * to the catalog in batches, the execution claimed and its lease renewed
 * by each batch, and a resume point read back from the history.
 *
 * The history's layout.  The catalog keeps a row per batch (table
 * flow_events): events first_id..last_id as text, a line each, in order;
 * a line's event id is first_id plus its position.  Each line is a
 * compact JSON object (which never holds a raw newline), its keys in this
 * order:
 *
 *   {"y":33,"t":1796314484238,"s":"Each","i":7}
 *   {"y":8,"s":"Wrap","d":1,"v":{"i":7}}
 *   {"y":9,"t":1,"s":"Wrap","d":1,"v":{"n":7}}
 *   {"y":8,"s":"Unwrap","d":1}
 *   {"y":9,"s":"Unwrap","d":1,"v":7}
 *   {"y":34,"s":"Each","i":7}
 *   ...
 *   {"y":21,"t":2,"s":"Each","r":"","v":[0,1,2,3,4,5,6,7]}
 *   {"y":"SomeFutureEvent","x":{"what":"it says"}}
 *
 *   y  the event's type: its number in event_types[] below, or its name
 *   t  its time: on a batch's first line, ms since the epoch; on the
 *      others, ms after the line before's (absent: 0)
 *   p  the previous event's id, when it is not id - 1 (absent: id - 1)
 *   s  the state it belongs to (absent: none)
 *   d  its depth: 0 the machine's own states, 1+ inside Parallel and Map
 *      (absent: 0)
 *   r  on a depth-0 StateExited: the state it went on to, "" at the end
 *   v  on a StateEntered or StateExited: the input or output itself (its
 *      details, {"name", "input", "inputDetails"} or the output's, are
 *      built around it when read: flow_event_details()).  Absent on a
 *      StateEntered (with no "x"): its input is the "v" of the line
 *      before, the state before's output, never a batch's first line.
 *   i  details that are {"name": the state, "index": i} (Map iterations)
 *   x  any other details object, as the API gives it
 *
 * The numbers, the one-letter keys and what is left out for the line
 * before to say are there because the history is most of what an
 * execution writes, and writing costs the catalog by the byte: a Map of
 * 10,000 items (60,000 events) took 180 bytes an event written a row
 * each, 60 as named JSON lines, 33 so.  "t" comes right after "y" so that
 * a reader finds every line's time without parsing the lines it skips.
 */
#include "flow/runner.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog/flows.h"
#include "core/buf.h"
#include "core/fault.h"
#include "core/mem.h"
#include "flow/json.h"
#include "core/banned.h"

/* A batch ends at these, or before a task or a wait (flushes()).  Its
 * size matters to the catalog: at about 256 KB of text a durable Map ran
 * fastest here (fewer commits, and not yet copies big enough to cost
 * fresh memory each time). */
#define BATCH_EVENTS 16384
#define BATCH_BYTES (256 * 1024)
#define BATCH_MS 200
#define ACCOUNT "000000000000"

void
flow_random_name(char out[37])
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");

    if (f == NULL || fread(b, 1, sizeof(b), f) != sizeof(b))
        memset(b, 0, sizeof(b));
    if (f != NULL)
        fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

void
flow_machine_arn(const char *machine, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:states:%s:%s:stateMachine:%s", flow_region(), ACCOUNT,
             machine);
}

void
flow_execution_arn(const char *machine, const char *name, char *out, size_t size)
{
    snprintf(out, size, "arn:aws:states:%s:%s:execution:%s:%s", flow_region(), ACCOUNT, machine,
             name);
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
    json_t *failures;    /* the entered state's failed attempts: [{error, cause}] */
};

static void
resume_release(struct resume *r)
{
    free(r->entered);
    free(r->entered_input);
    free(r->next);
    free(r->next_input);
    json_decref(r->calls);
    json_decref(r->failures);
    memset(r, 0, sizeof(*r));
}

/* details.<key> of ev, a string, copied; NULL if none. */
static char *
detail(const struct flow_event *ev, const char *key)
{
    const char *v = json_string_value(json_object_get(ev->details, key));

    return v ? sl_strdup(v) : NULL;
}

static int
resume_row(void *arg, const struct flow_event *ev)
{
    struct resume *r = arg;
    size_t n = strlen(ev->type);

    if (strcmp(ev->type, "ExecutionRedriven") == 0) {
        r->ended = false;
        json_decref(r->failures); /* a redrive tries afresh */
        r->failures = NULL;
        return 0;
    }
    if (strncmp(ev->type, "Execution", 9) == 0 && strcmp(ev->type, "ExecutionStarted") != 0) {
        r->ended = true;
        return 0;
    }
    if (strcmp(ev->type, "TaskScheduled") == 0 && ev->state != NULL) {
        const char *params = json_string_value(json_object_get(ev->details, "parameters"));
        json_t *input = params ? json_loads(params, JSON_DECODE_ANY, NULL) : NULL;

        if (input != NULL) {
            if (r->calls == NULL)
                r->calls = json_object();
            flow_calls_add(r->calls, ev->state, input);
        }
        json_decref(input);
    }
    if (ev->depth != 0 || ev->state == NULL)
        return 0;
    if ((strcmp(ev->type, "TaskFailed") == 0 || strcmp(ev->type, "TaskTimedOut") == 0) &&
        r->entered != NULL && strcmp(ev->state, r->entered) == 0) {
        const char *error = json_string_value(json_object_get(ev->details, "error"));
        const char *cause = json_string_value(json_object_get(ev->details, "cause"));

        if (r->failures == NULL)
            r->failures = json_array();
        json_array_append_new(r->failures,
                              json_pack("{s:s,s:s,s:I}", "error", error ? error : "", "cause",
                                        cause ? cause : "", "ms", (json_int_t)ev->ts_ms));
        return 0;
    }
    if (n > 12 && strcmp(ev->type + n - 12, "StateEntered") == 0) {
        /* The same state entered again without exiting is a resume (the
         * state runs again after a crash): its failures so far still
         * count.  Any other entry starts them afresh. */
        if (!(r->entered != NULL && strcmp(r->entered, ev->state) == 0 &&
              r->entered_id > r->exited_id)) {
            json_decref(r->failures);
            r->failures = NULL;
        }
        free(r->entered);
        free(r->entered_input);
        r->entered = sl_strdup(ev->state);
        r->entered_input = detail(ev, "input");
        r->entered_id = ev->id;
    } else if (n > 11 && strcmp(ev->type + n - 11, "StateExited") == 0 && ev->resume != NULL) {
        free(r->next);
        free(r->next_input);
        r->next = sl_strdup(ev->resume);
        r->next_input = detail(ev, "output");
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
        rc = flow_history_read(txn, c->id, 0, false, 0, resume_row, c->r, d);
    return rc;
}

/* ---- the history's text (the layout is drawn at the top) --------------------- */

/*
 * A line is written into room reserved for it first (line_add()), piece
 * by piece through a pointer: put_ writes at p and returns the end.
 */
static char *
put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* v in decimal: at most 20 bytes. */
static char *
put_int(char *p, int64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        tmp[--i] = '-';
    return put(p, tmp + i, sizeof(tmp) - i);
}

/* s as a JSON string: at most 6 * strlen(s) + 2 bytes.  (Our strings:
 * the executor's, UTF-8 from the definition.) */
static char *
put_str(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        default:
            p = PUT_LIT(p, "u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p++ = '"';
    return p;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * The event types, numbered for the lines' "y" (the numbers are stored:
 * append only).  A type not here is written by name.
 */
static const char *const event_types[] = {
    "ExecutionStarted",      "ExecutionSucceeded",     "ExecutionFailed",
    "ExecutionTimedOut",     "ExecutionAborted",       "ExecutionRedriven",
    "TaskStateEntered",      "TaskStateExited",        "PassStateEntered",
    "PassStateExited",       "ChoiceStateEntered",     "ChoiceStateExited",
    "WaitStateEntered",      "WaitStateExited",        "SucceedStateEntered",
    "SucceedStateExited",    "FailStateEntered",       "FailStateExited",
    "ParallelStateEntered",  "ParallelStateExited",    "MapStateEntered",
    "MapStateExited",        "TaskScheduled",          "TaskStarted",
    "TaskSucceeded",         "TaskFailed",             "TaskTimedOut",
    "ParallelStateStarted",  "ParallelStateSucceeded", "ParallelStateFailed",
    "MapStateStarted",       "MapStateSucceeded",      "MapStateFailed",
    "MapIterationStarted",   "MapIterationSucceeded",  "MapIterationFailed",
};
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

/* type's number, or -1.  The executor passes the same few literals over
 * and over: a cache by address, confirmed by the text, saves the search. */
static int
type_number(const char *type)
{
    static _Thread_local struct {
        const char *p;
        int n;
    } cache[64];
    size_t h = ((uintptr_t)type >> 3) % 64;

    if (cache[h].p == type && strcmp(event_types[cache[h].n], type) == 0)
        return cache[h].n;
    for (size_t i = 0; i < N_EVENT_TYPES; i++) {
        if (strcmp(event_types[i], type) == 0) {
            cache[h].p = type;
            cache[h].n = (int)i;
            return (int)i;
        }
    }
    return -1;
}

/*
 * If details (text) is exactly {"name": <state>, "index": N}, with state
 * as JSON text at state[0..len): N; else -1.
 */
static int64_t
iteration_index(const char *details, const char *state, size_t len)
{
    const char *p = details;
    int64_t v = 0;

    if (strncmp(p, "{\"name\":", 8) != 0)
        return -1;
    p += 8;
    if (strncmp(p, state, len) != 0)
        return -1;
    p += len;
    if (strncmp(p, ",\"index\":", 9) != 0)
        return -1;
    p += 9;
    if (*p < '0' || *p > '9' || (*p == '0' && p[1] != '}'))
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    return strcmp(p, "}") == 0 ? v : -1;
}

/* A batch as it is written: its events' lines. */
struct writer {
    struct sl_buf lines;
    size_t n;                  /* how many */
    int64_t first_id, last_id; /* their events' ids */
    int64_t last_ts;           /* the last one's time */
    /* the last line's "v" in lines, if that line is a StateExited's */
    size_t out_at, out_len;
    bool out;
};

static void
writer_reset(struct writer *w)
{
    sl_buf_reset(&w->lines);
    w->n = 0;
    w->out = false;
}

/* Append ev's line. */
static void
line_add(struct writer *w, const struct flow_event *ev)
{
    struct sl_buf *b = &w->lines;
    int type = type_number(ev->type);
    size_t io_len = ev->io ? strlen(ev->io) : 0;
    size_t x_len = ev->details_text ? strlen(ev->details_text) : 0;
    const char *state = NULL;
    size_t state_len = 0;
    int64_t index = -1;
    bool exited = false, elide = false;
    char *p;

    /* a line's id is its position: a batch's events follow one another */
    assert(w->n == 0 || ev->id == w->last_id + 1);
    /* A state's input is, most often, the output of the state before,
     * on the line before: not written twice. */
    if (ev->io != NULL && w->out && io_len == w->out_len &&
        ends_with(ev->type, "StateEntered") &&
        memcmp(ev->io, b->data + w->out_at, io_len) == 0)
        elide = true;
    /* room for the keys and numbers (under 160 bytes), the strings
     * escaped (6 bytes a byte at most), the JSON texts as they are */
    sl_buf_grow(b, 160 + 6 * ((type < 0 ? strlen(ev->type) : 0) +
                              (ev->state ? strlen(ev->state) : 0) +
                              (ev->resume ? strlen(ev->resume) : 0)) +
                       io_len + x_len);
    p = b->data + b->len;
    p = PUT_LIT(p, "{\"y\":");
    p = type >= 0 ? put_int(p, type) : put_str(p, ev->type);
    if (w->n == 0 || ev->ts_ms != w->last_ts) {
        p = PUT_LIT(p, ",\"t\":");
        p = put_int(p, w->n == 0 ? ev->ts_ms : ev->ts_ms - w->last_ts);
    }
    if (ev->previous_id != ev->id - 1) {
        p = PUT_LIT(p, ",\"p\":");
        p = put_int(p, ev->previous_id);
    }
    if (ev->state != NULL) {
        p = PUT_LIT(p, ",\"s\":");
        state = p;
        p = put_str(p, ev->state);
        state_len = (size_t)(p - state);
    }
    if (ev->depth != 0) {
        p = PUT_LIT(p, ",\"d\":");
        p = put_int(p, ev->depth);
    }
    if (ev->resume != NULL) {
        p = PUT_LIT(p, ",\"r\":");
        p = put_str(p, ev->resume);
    }
    if (ev->io != NULL && !elide) {
        p = PUT_LIT(p, ",\"v\":");
        exited = ends_with(ev->type, "StateExited");
        w->out_at = (size_t)(p - b->data);
        w->out_len = io_len;
        p = put(p, ev->io, io_len);
    } else if (ev->details_text != NULL && state != NULL &&
               (index = iteration_index(ev->details_text, state, state_len)) >= 0) {
        p = PUT_LIT(p, ",\"i\":");
        p = put_int(p, index);
    } else if (ev->details_text != NULL) {
        p = PUT_LIT(p, ",\"x\":");
        p = put(p, ev->details_text, x_len);
    }
    p = PUT_LIT(p, "}\n");
    *p = '\0';
    b->len = (size_t)(p - b->data);
    w->out = exited;
    if (w->n == 0)
        w->first_id = ev->id;
    w->n++;
    w->last_id = ev->id;
    w->last_ts = ev->ts_ms;
}

/* Reading: the batches, and the events wanted from them. */
struct reader {
    int64_t execution_id;
    int64_t from_id;     /* as flow_history_read()'s */
    bool reverse;
    int64_t limit;       /* 0: all */
    int64_t n;           /* events given */
    int64_t cursor;      /* where the next batch starts (reverse: ends) */
    int64_t batches;     /* read by the current listing */
    flow_history_cb cb;
    void *arg;
    struct sl_diag *d;
    /* the current batch's lines: where each is, its event's time */
    struct line {
        const char *p;
        size_t len;
        int64_t ts;
    } *lines;
    size_t cap;
};

static int
damaged(struct reader *r, int64_t id, const char *why)
{
    return sl_fail(r->d, SL_ERR_CORRUPT, "execution %lld's recorded history cannot be read at "
                                         "event %lld: %s", (long long)r->execution_id,
                   (long long)id, why);
}

/*
 * A line's "t", read without parsing the line: it follows "y", the first
 * key (the writer's order), so every line's time is known from a glance
 * and only the lines wanted are parsed.  0 if it has none.
 */
static int64_t
line_delta(const struct line *l)
{
    const char *p = l->p, *end = l->p + l->len;
    int64_t v = 0;
    bool neg;

    if (l->len < 6 || memcmp(p, "{\"y\":", 5) != 0)
        return 0;
    p += 5;
    if (*p == '"') {
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\')
                p++;
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (end - p < 6 || memcmp(p, ",\"t\":", 5) != 0)
        return 0;
    p += 5;
    neg = *p == '-';
    if (neg)
        p++;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return neg ? -v : v;
}

/* Give the event of line k of b to the reader's callback. */
static int
line_give(struct reader *r, const struct flow_event_batch *b, size_t k)
{
    int64_t id = b->first_id + (int64_t)k;
    json_error_t err;
    json_t *j = json_loadb(r->lines[k].p, r->lines[k].len, JSON_ALLOW_NUL, &err);
    json_t *before = NULL, *y, *p, *d, *v, *x, *i;
    struct flow_event ev = {.id = id, .previous_id = id - 1, .ts_ms = r->lines[k].ts};
    char *io = NULL;
    int rc;

    y = json_object_get(j, "y");
    if (json_is_integer(y) && json_integer_value(y) >= 0 &&
        json_integer_value(y) < (json_int_t)N_EVENT_TYPES)
        ev.type = event_types[json_integer_value(y)];
    else
        ev.type = json_string_value(y);
    if (ev.type == NULL) {
        json_decref(j);
        return damaged(r, id, j ? "a line without a known type" : err.text);
    }
    p = json_object_get(j, "p");
    if (p != NULL)
        ev.previous_id = json_integer_value(p);
    ev.state = json_string_value(json_object_get(j, "s"));
    d = json_object_get(j, "d");
    ev.depth = d ? (int)json_integer_value(d) : 0;
    ev.resume = json_string_value(json_object_get(j, "r"));
    v = json_object_get(j, "v");
    x = json_object_get(j, "x");
    i = json_object_get(j, "i");
    if (v == NULL && x == NULL && k > 0 && ends_with(ev.type, "StateEntered")) {
        /* its input: the output on the line before */
        before = json_loadb(r->lines[k - 1].p, r->lines[k - 1].len, JSON_ALLOW_NUL, NULL);
        v = json_object_get(before, "v");
        if (v == NULL) {
            json_decref(before);
            json_decref(j);
            return damaged(r, id, "a state's input is not on the line before");
        }
    }
    if (v != NULL) {
        io = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ev.io = io;
        ev.details = flow_event_details(&ev);
        ev.io = NULL;
    } else if (i != NULL) {
        ev.details = json_pack("{s:s,s:O}", "name", ev.state ? ev.state : "", "index", i);
    } else {
        ev.details = json_incref(x);
    }
    rc = r->cb(r->arg, &ev);
    json_decref(ev.details);
    free(io);
    json_decref(before);
    json_decref(j);
    r->n++;
    return rc;
}

static int
batch_row(void *arg, const struct flow_event_batch *b)
{
    struct reader *r = arg;
    size_t count = 0, want = (size_t)(b->last_id - b->first_id + 1);
    const char *p = b->events;
    int rc = 0;

    r->batches++;
    r->cursor = r->reverse ? b->first_id : b->last_id;
    if (b->last_id < b->first_id)
        return damaged(r, b->first_id, "a batch that ends before it starts");
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        struct line *l;

        if (count == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 1024;
            r->lines = sl_realloc(r->lines, r->cap * sizeof(*r->lines));
        }
        l = &r->lines[count];
        l->p = p;
        l->len = len;
        l->ts = line_delta(l) + (count > 0 ? r->lines[count - 1].ts : 0);
        count++;
        p += len + (nl != NULL);
    }
    if (count != want)
        return damaged(r, b->first_id, "its batch has not as many lines as events");
    for (size_t i = 0; i < count && rc >= 0; i++) {
        size_t k = r->reverse ? count - 1 - i : i;
        int64_t id = b->first_id + (int64_t)k;

        if (r->limit > 0 && r->n >= r->limit)
            break;
        if (r->reverse ? r->from_id > 0 && id >= r->from_id : id <= r->from_id)
            continue;
        rc = line_give(r, b, k);
    }
    return rc;
}

int
flow_history_read(struct catalog_txn *txn, int64_t execution_id, int64_t from_id, bool reverse,
                  int64_t limit, flow_history_cb cb, void *arg, struct sl_diag *d)
{
    struct reader r = {
        .execution_id = execution_id,
        .from_id = from_id,
        .reverse = reverse,
        .limit = limit,
        .cursor = from_id,
        .cb = cb,
        .arg = arg,
        .d = d,
    };
    int rc;

    if (limit <= 0) {
        rc = catalog_flow_batch_list(txn, execution_id, from_id, reverse, 0, batch_row, &r, d);
    } else {
        /* A batch at a time, until enough: a page of a long history
         * reads a batch or two. */
        do {
            r.batches = 0;
            rc = catalog_flow_batch_list(txn, execution_id, r.cursor, reverse, 1, batch_row, &r,
                                         d);
        } while (rc == 0 && r.batches > 0 && r.n < limit && !(reverse && r.cursor <= 1));
    }
    free(r.lines);
    return rc;
}

/* ---- the sink: events to the catalog in batches ----------------------------- */

struct sink {
    struct catalog *cat;
    const struct flow_runner_opts *o;
    const struct flow_clock *clock;
    int64_t id;
    struct writer batch;       /* the events not written yet */
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
    /* The execution's threads (Parallel, Map) record events one at a
     * time, but sleep at once: what a sleep reads or writes is under mu. */
    pthread_mutex_t mu;
};

static bool
cancelled(const struct sink *s)
{
    return s->o->cancel != NULL && atomic_load(s->o->cancel);
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
    if (rc == 0 && s->batch.n > 0) {
        struct flow_event_batch b = {s->id, s->batch.first_id, s->batch.last_id,
                                     s->batch.lines.data};

        rc = catalog_flow_batch_add(txn, &b, d);
        if (rc == SL_ERR_EXISTS)
            rc = sl_fail(d, SL_ERR_CONFLICT, "execution %lld has events from %lld recorded "
                                             "already", (long long)s->id, (long long)b.first_id);
    }
    if (rc == 0 && s->end != NULL)
        rc = catalog_flow_execution_finish(txn, s->end, s->o->owner, &s->ended, d);
    if (rc == 0 && s->end == NULL && !s->stop)
        rc = catalog_flow_execution_stop_get(txn, s->id, stop_row, s, d);
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
    writer_reset(&s->batch);
    s->flushed_at = s->clock->now_ms(s->clock->ctx);
    return 0;
}

static int
stop_txn(struct catalog_txn *txn, void *arg, struct sl_diag *d)
{
    struct sink *s = arg;

    return catalog_flow_execution_stop_get(txn, s->id, stop_row, s, d);
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

        pthread_mutex_lock(&s->mu);
        bool over = now >= until || s->stop || s->failed < 0 || cancelled(s);

        pthread_mutex_unlock(&s->mu);
        if (over)
            return;
        s->clock->sleep_until(s->clock->ctx, now + 1000 < until ? now + 1000 : until);
        now = sink_now(s);
        if (cancelled(s))
            return;
        pthread_mutex_lock(&s->mu);
        if (now - s->flushed_at >= s->o->lease_ms / 3)
            rc = flush(s, &s->failure);
        else if (now - s->checked_at >= 1000)
            rc = catalog_txn_run(s->cat, CATALOG_READ, stop_txn, s, &s->failure);
        else
            rc = 1;
        if (rc <= 0)
            s->checked_at = now;
        if (rc < 0)
            s->failed = rc;
        pthread_mutex_unlock(&s->mu);
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
sink_event(struct sink *s, const struct flow_event *ev, struct sl_diag *d)
{
    int rc;

    if (s->failed < 0) {
        *d = s->failure;
        return s->failed;
    }
    if (cancelled(s))
        return sl_fail(d, SL_ERR_UNAVAILABLE, "execution %lld was left RUNNING, to be resumed: "
                                              "this process is stopping", (long long)s->id);
    line_add(&s->batch, ev);
    if (strncmp(ev->type, "Execution", 9) == 0 && strcmp(ev->type, "ExecutionStarted") != 0 &&
        strcmp(ev->type, "ExecutionRedriven") != 0)
        return 0; /* the end: written with the execution's outcome */
    if (s->stop)
        return FLOW_EVENT_STOP;
    if (!flushes(ev->type) && s->batch.n < BATCH_EVENTS &&
        s->batch.lines.len < BATCH_BYTES && ev->ts_ms - s->flushed_at < BATCH_MS)
        return 0;
    rc = flush(s, d);
    if (rc < 0)
        return rc;
    return s->stop ? FLOW_EVENT_STOP : 0;
}

static int
on_event(void *ctx, const struct flow_event *ev, struct sl_diag *d)
{
    struct sink *s = ctx;
    int rc;

    pthread_mutex_lock(&s->mu);
    rc = sink_event(s, ev, d);
    pthread_mutex_unlock(&s->mu);
    return rc;
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
    pthread_mutex_destroy(&s->mu);
    sl_buf_release(&s->batch.lines);
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

/* ---- the lease, renewed while a task runs ---------------------------------- */

struct renewer {
    const struct flow_runner_opts *o;
    int64_t id;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    bool stop, started;
};

static void *
renew_main(void *arg)
{
    struct renewer *r = arg;
    struct catalog *cat = NULL;
    struct sl_diag d;

    sl_diag_init(&d);
    if (catalog_open(r->o->catalog, 0, &cat, &d) < 0)
        return NULL; /* the batches still renew it */
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec until;
        int64_t step = r->o->lease_ms / 3;

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += step / 1000;
        until.tv_nsec += (step % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        while (!r->stop && pthread_cond_timedwait(&r->cond, &r->mu, &until) != ETIMEDOUT)
            ;
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);

        struct claim_ctx c = {.id = r->id, .owner = r->o->owner};

        c.now = flow_real_clock.now_ms(NULL);
        c.until = c.now + r->o->lease_ms;
        sl_diag_init(&d);
        catalog_txn_run(cat, CATALOG_WRITE, claim_txn, &c, &d);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    catalog_close(cat);
    return NULL;
}

static void
renewer_start(struct renewer *r, const struct flow_runner_opts *o, int64_t id)
{
    pthread_condattr_t ca;

    memset(r, 0, sizeof(*r));
    if (o->catalog == NULL || (o->clock != NULL && o->clock != &flow_real_clock))
        return;
    r->o = o;
    r->id = id;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    r->started = pthread_create(&r->thread, NULL, renew_main, r) == 0;
    if (!r->started) {
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->mu);
    }
}

static void
renewer_stop(struct renewer *r)
{
    if (!r->started)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->mu);
    r->started = false;
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
    sl_buf_init(&s.batch.lines);
    pthread_mutex_init(&s.mu, NULL);
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
    input = o->input ? json_incref((json_t *)o->input) : json_loads(l.input, JSON_DECODE_ANY, NULL);
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
        /* Parallel and Map side by side on the real clock: the sink takes
         * its lock (on_event(), sink_sleep()). */
        .concurrent = clock == &flow_real_clock,
    };
    const char *at = NULL, *at_input = NULL;

    if (l.last_event > 0) {
        /* The state to go on from: the last one that exited, unless a
         * later one entered and did not. */
        if (rs.entered != NULL && rs.entered_id > rs.exited_id) {
            at = rs.entered;
            at_input = rs.entered_input;
            /* Resumed (not redriven: a redrive tries afresh), its retriers
             * count on from its failed attempts. */
            if (!eo.redrive)
                eo.resume_failures = rs.failures;
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
        struct renewer rn;

        renewer_start(&rn, o, id);
        rc = flow_execute(mach, input, &eo, res, d);
        renewer_stop(&rn);
        if (rc < 0)
            goto out;
    }

    char *output = res->output ? flow_json_dump(res->output) : NULL;
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
