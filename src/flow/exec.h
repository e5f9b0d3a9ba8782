/*
 * exec.h - running a state machine: one execution, its history.
 *
 * An execution runs a compiled machine (asl.h) from an input to an
 * output, an error, a timeout or a stop, applying each state's input and
 * output processing in the spec's order (InputPath, Parameters or
 * ItemSelector, the work, ResultSelector, ResultPath, OutputPath),
 * Retry and Catch, and recording every event as the GetExecutionHistory
 * API reports it (type, id, previous event id, timestamp and the event's
 * details object).  Events go to a sink as they happen: the durable
 * history writes them to the catalog.
 *
 * Time comes from a clock: the real one sleeps, a virtual one (tests)
 * moves forward instead, so that Wait states, retry intervals and
 * timeouts are exact and instant.
 */
#ifndef SL_FLOW_EXEC_H
#define SL_FLOW_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "flow/asl.h"
#include "flow/tasks.h"

/* A clock: now in ms since the epoch; sleep until a time (may return
 * early when the execution is stopped). */
struct flow_clock {
    int64_t (*now_ms)(void *ctx);
    void (*sleep_until)(void *ctx, int64_t ms);
    void *ctx;
};

/* The region ARNs and events name (server.region of sluice.yaml;
 * "us-east-1" until set).  Set it once, before executions run. */
void flow_set_region(const char *region);
const char *flow_region(void);

/* The real clock. */
extern const struct flow_clock flow_real_clock;

/* A virtual clock starting at start_ms: sleeping moves it. */
struct flow_virtual_clock {
    struct flow_clock clock;
    int64_t now;
};
void flow_virtual_clock_init(struct flow_virtual_clock *vc, int64_t start_ms);

/* One history event. */
struct flow_event {
    int64_t id;          /* from 1 */
    int64_t previous_id; /* 0: none */
    int64_t ts_ms;
    const char *type;    /* "ExecutionStarted", "TaskStateEntered", ... */
    /*
     * The <lowerCamelType>EventDetails object, if it has one, in one of
     * two forms.  A history (kept in memory, or read back) holds it as
     * JSON in details.  A sink (on_event) gets text instead, which costs
     * far less to make and to store: a StateEntered's or StateExited's in
     * io, the state's input or output as JSON text (its details are
     * {"name", "input" or "output": that text, "inputDetails" or
     * "outputDetails": {"truncated": false}}); any other event's in
     * details_text, the object as compact JSON.  flow_event_details()
     * gives the object from either form.
     */
    json_t *details;
    const char *details_text;
    const char *io;
    /* Where it happened, for resuming (not part of the API's event): */
    const char *state;   /* the state it belongs to, or NULL */
    int depth;           /* 0: the machine's own states; 1+: in Parallel, Map */
    const char *resume;  /* on a depth-0 StateExited: the next state ("" at the end) */
};

/* ev's details object, from whichever form ev holds it in: a new
 * reference, or NULL if it has none (or its text is not JSON). */
json_t *flow_event_details(const struct flow_event *ev);

/* An execution's history, in memory. */
struct flow_history {
    struct flow_event *v;
    size_t n, cap;
};
void flow_history_release(struct flow_history *h);
/* The history as the API's "events" array (a new reference). */
json_t *flow_history_json(const struct flow_history *h);

enum flow_status {
    FLOW_RUNNING,
    FLOW_SUCCEEDED,
    FLOW_FAILED,
    FLOW_TIMED_OUT,
    FLOW_ABORTED,
};
const char *flow_status_name(enum flow_status s);

struct flow_exec_opts {
    const char *name;         /* the execution's name */
    const char *arn;          /* its ARN ($$.Execution.Id) */
    const char *machine_name;
    const char *machine_arn;
    const char *role_arn;
    const struct flow_clock *clock; /* NULL: the real one */
    /*
     * Called with each event as it is recorded (its details as text, its
     * strings borrowed until it returns); a failure stops the
     * execution (it cannot be recorded, so it must not go on).
     * FLOW_EVENT_STOP stops it as StopExecution does: on_stop then gives
     * the error and cause (new strings; NULL for none).
     */
    int (*on_event)(void *ctx, const struct flow_event *ev, struct sl_diag *d);
    void (*on_stop)(void *ctx, char **error, char **cause);
    void *ctx;
    /*
     * Resuming: start at the depth-0 state resume_state with resume_input
     * (instead of StartAt and the input), numbering events after
     * last_event_id; redrive says it is a redrive (an ExecutionRedriven
     * event, not ExecutionStarted; none when resuming after a crash).
     */
    const char *resume_state;
    json_t *resume_input;
    /* The attempts of resume_state (a Task) that failed before, in order:
     * [{"error", "cause"}, ...], so its retriers count on from them; NULL:
     * none. */
    json_t *resume_failures;
    int64_t last_event_id;
    bool redrive;
    int64_t redrive_count;
    int64_t start_ms;         /* the execution's start ($$.Execution.StartTime); 0: now */
    /* Task calls made before (flow_run_calls()'s counts), as
     * flow_calls_add() builds them from a history; NULL: none. */
    const json_t *calls;
    bool keep_history;        /* also keep the events in the result's history */
    /* Run Parallel branches and Map iterations side by side, each on a
     * thread (real clocks only: a virtual clock runs them in order).
     * on_event and the clock may then be called from several threads:
     * on_event one at a time, the clock's sleep at once. */
    bool concurrent;
    uint64_t seed;            /* for FULL jitter; 0: from the clock */
};

#define FLOW_EVENT_STOP 1

struct flow_result {
    enum flow_status status;
    json_t *output; /* SUCCEEDED */
    char *error;    /* FAILED, TIMED_OUT */
    char *cause;
    int64_t start_ms, stop_ms;
    int64_t transitions;     /* states entered, and retries */
    struct flow_history history;
};
void flow_result_release(struct flow_result *r);

/*
 * Run m on input to the end.  Returns 0 when the execution ran (whatever
 * its status); negative when it could not (the sink failed), with d.
 */
int flow_execute(const struct flow_machine *m, json_t *input, const struct flow_exec_opts *o,
                 struct flow_result *res, struct sl_diag *d);

#endif
