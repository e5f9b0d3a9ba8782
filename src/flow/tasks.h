/*
 * tasks.h - what a Task state's Resource runs.
 *
 * A task is a function registered under its resource ARN.  The built-in
 * test tasks are always there (the conformance resources):
 *
 *     arn:aws:states:::sluice:test.echo            its effective input, as the result
 *     arn:aws:states:::sluice:test.fail            fails with input.error / input.cause
 *     arn:aws:states:::sluice:test.fail-n-times    fails while k < input.n (or the length
 *                                                  of input.errors), k counting the
 *                                                  earlier calls of the same state with
 *                                                  the same effective input
 *     arn:aws:states:::sluice:test.sleep           takes input.seconds on the execution's
 *                                                  clock, then echoes; past TimeoutSeconds
 *                                                  it fails with States.Timeout; it sends
 *                                                  a heartbeat every input.heartbeat
 *                                                  seconds (none without it), and past
 *                                                  HeartbeatSeconds without one it fails
 *                                                  with States.HeartbeatTimeout
 *
 * The pipeline's own stages (transform, build, check, ...) are registered
 * by the layers that own them (the command line, the server), since flow
 * depends on the catalog only.
 */
#ifndef SL_FLOW_TASKS_H
#define SL_FLOW_TASKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"

struct flow_run;

/* An ASL error: its name and its cause. */
struct flow_error {
    char *error; /* "States.TaskFailed", "sluice.TestError", ... */
    char *cause;
    bool task;   /* raised by a task (States.TaskFailed matches it) */
};

void flow_error_set(struct flow_error *e, bool task, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void flow_error_release(struct flow_error *e);

/* One call of a task. */
struct flow_task_call {
    const char *resource;
    const char *state;      /* the Task state's name */
    json_t *input;          /* the effective input (after InputPath, Parameters) */
    json_t *context;        /* the context object ($$) */
    int64_t deadline_ms;    /* TimeoutSeconds' end, on the execution's clock; 0: none */
    /* HeartbeatSeconds in ms (0: none): a task silent that long fails
     * with States.HeartbeatTimeout.  What counts as a heartbeat is the
     * task's to say: a child process's output, test.sleep's beats. */
    int64_t heartbeat_ms;
    struct flow_run *run;   /* the execution (flow_run_calls()) */
};

/*
 * A task: 0 with *result set (a new reference), or FLOW_TASK_FAILED with
 * err set (the state's Retry and Catch see it).
 */
typedef int (*flow_task_fn)(void *ctx, const struct flow_task_call *call, json_t **result,
                            struct flow_error *err);

#define FLOW_TASK_FAILED (-1)

struct flow_task {
    const char *resource;
    flow_task_fn fn;
    void *ctx;
};

/* Register fn under resource (replacing one of that name).  Not thread
 * safe: register before running machines. */
void flow_tasks_register(const char *resource, flow_task_fn fn, void *ctx);
/* The task registered under resource, or NULL. */
const struct flow_task *flow_tasks_find(const char *resource);
/* The registered resources, for messages; sorted. */
void flow_tasks_list(char *out, size_t size);

/*
 * How many times, before this call, the execution has called the task of
 * the state named state with an effective input equal to input (canonical
 * JSON); counts this call too, so the first call returns 0.
 */
int64_t flow_run_calls(struct flow_run *run, const char *state, const json_t *input);
/* Count one earlier call into calls (a JSON object), as a resumed
 * execution rebuilds them from its TaskScheduled events. */
void flow_calls_add(json_t *calls, const char *state, const json_t *input);

/* The execution's clock (virtual in tests): now, and a sleep. */
int64_t flow_run_now(struct flow_run *run);
void flow_run_sleep_until(struct flow_run *run, int64_t ms);

#endif
