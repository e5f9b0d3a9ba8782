/*
 * tasks.c - the registry of task resources, and the test tasks that are
 * always in it (tasks.h).
 */
#include "flow/tasks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

#define MAX_TASKS 64

static struct flow_task registry[MAX_TASKS];
static size_t nregistry;

void
flow_error_set(struct flow_error *e, bool task, const char *error, const char *fmt, ...)
{
    char cause[4096];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cause, sizeof(cause), fmt, ap);
    va_end(ap);
    flow_error_release(e);
    e->error = sl_strdup(error);
    e->cause = sl_strdup(cause);
    e->task = task;
}

void
flow_error_release(struct flow_error *e)
{
    free(e->error);
    free(e->cause);
    e->error = e->cause = NULL;
    e->task = false;
}

/* ---- the test tasks ------------------------------------------------------ */

/* input.<key> if it is a string, else dflt. */
static const char *
input_string(const json_t *input, const char *key, const char *dflt)
{
    json_t *v = json_object_get(input, key);

    return json_is_string(v) ? json_string_value(v) : dflt;
}

static int
test_echo(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *err)
{
    *result = json_incref(call->input);
    return 0;
}

static int
test_fail(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *err)
{
    flow_error_set(err, true, input_string(call->input, "error", "sluice.TestError"), "%s",
                   input_string(call->input, "cause", ""));
    return FLOW_TASK_FAILED;
}

static int
test_fail_n_times(void *ctx, const struct flow_task_call *call, json_t **result,
                  struct flow_error *err)
{
    int64_t k = flow_run_calls(call->run, call->state, call->input);
    json_t *errors = json_object_get(call->input, "errors");
    json_t *n = json_object_get(call->input, "n");
    int64_t limit = json_is_integer(n) ? json_integer_value(n) : 0;

    if (json_is_array(errors))
        limit = (int64_t)json_array_size(errors);
    if (k < limit) {
        const char *error = input_string(call->input, "error", "sluice.TestError");
        const char *cause = input_string(call->input, "cause", "");

        if (json_is_array(errors)) {
            json_t *e = json_array_get(errors, (size_t)k);

            if (json_is_string(e)) {
                error = json_string_value(e);
            } else if (json_is_object(e)) {
                error = input_string(e, "error", error);
                cause = input_string(e, "cause", cause);
            }
        }
        flow_error_set(err, true, error, "%s", cause);
        return FLOW_TASK_FAILED;
    }
    if (json_object_get(call->input, "result") != NULL)
        *result = json_incref(json_object_get(call->input, "result"));
    else
        *result = json_pack("{s:I}", "attempts", (json_int_t)(k + 1));
    return 0;
}

static int
test_sleep(void *ctx, const struct flow_task_call *call, json_t **result, struct flow_error *err)
{
    json_t *v = json_object_get(call->input, "seconds");
    json_t *beat = json_object_get(call->input, "heartbeat");
    int64_t start = flow_run_now(call->run);
    int64_t until = start + (int64_t)(json_number_value(v) * 1000.0);
    int64_t every = beat != NULL ? (int64_t)(json_number_value(beat) * 1000.0) : 0;

    /* Silent for longer than HeartbeatSeconds (no beats, or beats too far
     * apart: the first is due at start + every), before its end and
     * before its TimeoutSeconds. */
    if (call->heartbeat_ms > 0 && until - start > call->heartbeat_ms &&
        (every <= 0 || every > call->heartbeat_ms) &&
        (call->deadline_ms == 0 || start + call->heartbeat_ms < call->deadline_ms)) {
        flow_run_sleep_until(call->run, start + call->heartbeat_ms);
        flow_error_set(err, true, "States.HeartbeatTimeout",
                       "no heartbeat for %.3f seconds (HeartbeatSeconds)",
                       (double)call->heartbeat_ms / 1000.0);
        return FLOW_TASK_FAILED;
    }
    if (call->deadline_ms > 0 && until > call->deadline_ms) {
        flow_run_sleep_until(call->run, call->deadline_ms);
        flow_error_set(err, true, "States.Timeout", "Task timed out after %.3f seconds",
                       (double)(call->deadline_ms - start) / 1000.0);
        return FLOW_TASK_FAILED;
    }
    flow_run_sleep_until(call->run, until);
    *result = json_incref(call->input);
    return 0;
}

/* ---- the registry ------------------------------------------------------------ */

static void
builtins(void)
{
    static bool done;

    if (done)
        return;
    done = true;
    flow_tasks_register("arn:aws:states:::sluice:test.echo", test_echo, NULL);
    flow_tasks_register("arn:aws:states:::sluice:test.fail", test_fail, NULL);
    flow_tasks_register("arn:aws:states:::sluice:test.fail-n-times", test_fail_n_times, NULL);
    flow_tasks_register("arn:aws:states:::sluice:test.sleep", test_sleep, NULL);
}

void
flow_tasks_register(const char *resource, flow_task_fn fn, void *ctx)
{
    builtins();
    for (size_t i = 0; i < nregistry; i++) {
        if (strcmp(registry[i].resource, resource) == 0) {
            registry[i].fn = fn;
            registry[i].ctx = ctx;
            return;
        }
    }
    if (nregistry == MAX_TASKS)
        abort();
    registry[nregistry++] = (struct flow_task){sl_strdup(resource), fn, ctx};
}

const struct flow_task *
flow_tasks_find(const char *resource)
{
    builtins();
    for (size_t i = 0; i < nregistry; i++)
        if (strcmp(registry[i].resource, resource) == 0)
            return &registry[i];
    return NULL;
}

static int
by_resource(const void *a, const void *b)
{
    return strcmp(((const struct flow_task *)a)->resource, ((const struct flow_task *)b)->resource);
}

void
flow_tasks_list(char *out, size_t size)
{
    struct flow_task sorted[MAX_TASKS];
    size_t used = 0;

    builtins();
    memcpy(sorted, registry, nregistry * sizeof(*sorted));
    qsort(sorted, nregistry, sizeof(*sorted), by_resource);
    out[0] = '\0';
    for (size_t i = 0; i < nregistry && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                                 sorted[i].resource);
}
