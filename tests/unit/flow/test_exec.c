/*
 * test_exec.c - conformance scenarios for the executor: each runs a
 * definition on an input, on a virtual clock, and checks the exact output
 * (or error and cause), the time it took and, where it matters, the
 * history's event types.  Definitions are written with ` for " so they
 * read as JSON.
 */
#include "flow/asl.h"
#include "flow/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define T0 1700000000000LL

static char *
q(const char *s)
{
    char *out = strdup(s);

    for (char *p = out; *p; p++)
        if (*p == '`')
            *p = '"';
    return out;
}

struct outcome {
    struct flow_result res;
    int64_t took_ms;
    char types[4096]; /* the event types, space separated */
    char problems[4096];
};

/* When set, run() resumes at this state (its input the run's input) with
 * these failed attempts before the crash, as a JSON text (backquotes). */
static const char *resume_at, *resume_fails;

/* Run def on input; 0, or the load's return code (problems in o). */
static int
run(const char *def, const char *input, struct outcome *o)
{
    char *d = q(def), *i = q(input);
    struct flow_machine *m = NULL;
    struct sl_strlist problems = {0};
    struct flow_virtual_clock vc;
    struct sl_diag diag;
    json_t *in;
    int rc;

    memset(o, 0, sizeof(*o));
    sl_diag_init(&diag);
    rc = flow_machine_load(d, strlen(d), "test", &m, &problems, &diag);
    for (size_t k = 0; k < problems.n; k++) {
        strncat(o->problems, problems.v[k], sizeof(o->problems) - strlen(o->problems) - 2);
        strcat(o->problems, "\n");
    }
    sl_strlist_release(&problems);
    if (rc < 0) {
        free(d);
        free(i);
        return rc;
    }
    in = json_loads(i, JSON_DECODE_ANY, NULL);
    if (in == NULL) {
        fprintf(stderr, "bad test input: %s\n", i);
        abort();
    }
    flow_virtual_clock_init(&vc, T0);
    struct flow_exec_opts opts = {
        .name = "e1",
        .arn = "arn:aws:states:us-east-1:000000000000:execution:m:e1",
        .machine_name = "m",
        .machine_arn = "arn:aws:states:us-east-1:000000000000:stateMachine:m",
        .clock = &vc.clock,
        .keep_history = true,
        .seed = 42,
    };
    json_t *fails = NULL;

    if (resume_at != NULL) {
        char *f = q(resume_fails ? resume_fails : "[]");

        fails = json_loads(f, 0, NULL);
        free(f);
        opts.resume_state = resume_at;
        opts.resume_input = in;
        opts.resume_failures = fails;
        opts.last_event_id = 10;
    }
    rc = flow_execute(m, in, &opts, &o->res, &diag);
    json_decref(fails);
    o->took_ms = vc.now - T0;
    for (size_t k = 0; k < o->res.history.n; k++) {
        strncat(o->types, o->res.history.v[k].type, sizeof(o->types) - strlen(o->types) - 2);
        strcat(o->types, " ");
    }
    json_decref(in);
    flow_machine_free(m);
    free(d);
    free(i);
    return rc;
}

/* The execution succeeded with exactly this output. */
static bool
succeeded_with(struct outcome *o, const char *expect)
{
    char *e = q(expect);
    json_t *want = json_loads(e, JSON_DECODE_ANY, NULL);
    bool ok = o->res.status == FLOW_SUCCEEDED && want != NULL && json_equal(o->res.output, want);

    if (!ok) {
        char *got = o->res.output ? json_dumps(o->res.output, JSON_COMPACT | JSON_ENCODE_ANY)
                                  : NULL;

        fprintf(stderr, "  expected %s\n  got %s %s %s: %s\n", e, flow_status_name(o->res.status),
                got ? got : "", o->res.error ? o->res.error : "",
                o->res.cause ? o->res.cause : "");
        free(got);
    }
    json_decref(want);
    free(e);
    return ok;
}

static bool
failed_with(struct outcome *o, const char *error)
{
    bool ok = o->res.status == FLOW_FAILED && o->res.error && strcmp(o->res.error, error) == 0;

    if (!ok)
        fprintf(stderr, "  expected FAILED %s, got %s %s: %s\n", error,
                flow_status_name(o->res.status), o->res.error ? o->res.error : "",
                o->res.cause ? o->res.cause : "");
    return ok;
}

/* ---- input and output processing ------------------------------------- */

TEST(pass_result_and_result_path)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`Result`:{`x`:1},"
                  "`ResultPath`:`$.r`,`End`:true}}}",
                  "{`a`:1}", &o), 0);
    CHECK(succeeded_with(&o, "{`a`:1,`r`:{`x`:1}}"));
    CHECK_STR(o.types, "ExecutionStarted PassStateEntered PassStateExited ExecutionSucceeded ");
    flow_result_release(&o.res);
}

TEST(task_processing_in_the_spec_order)
{
    static const char *def =
        "{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
        "`Resource`:`arn:aws:states:::sluice:test.echo`,"
        "`InputPath`:`$.data`,"
        "`Parameters`:{`val.$`:`$.v`,`const`:1,`state.$`:`$$.State.Name`,`nested`:{`w.$`:`$.w`}},"
        "`ResultSelector`:{`got.$`:`$.val`,`w.$`:`$.nested.w`,`s.$`:`$.state`},"
        "`ResultPath`:`$.res`,`End`:true}}}";
    struct outcome o;

    CHECK_INT(run(def, "{`data`:{`v`:5,`w`:`x`},`keep`:true}", &o), 0);
    CHECK(succeeded_with(&o, "{`data`:{`v`:5,`w`:`x`},`keep`:true,"
                             "`res`:{`got`:5,`w`:`x`,`s`:`T`}}"));
    CHECK_STR(o.types, "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSucceeded "
                       "TaskStateExited ExecutionSucceeded ");
    /* the scheduled parameters are the effective input after Parameters */
    CHECK_STR(json_string_value(json_object_get(o.res.history.v[2].details, "parameters")),
              "{\"val\":5,\"const\":1,\"state\":\"T\",\"nested\":{\"w\":\"x\"}}");
    flow_result_release(&o.res);
}

TEST(output_path_selects_from_the_placed_result)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.echo`,"
                  "`Parameters`:{`k`:2},`ResultPath`:`$.res`,`OutputPath`:`$.res.k`,`End`:true}}}",
                  "{`a`:1}", &o), 0);
    CHECK(succeeded_with(&o, "2"));
    flow_result_release(&o.res);
}

TEST(null_paths)
{
    struct outcome o;

    /* InputPath null: the effective input is {}; ResultPath null keeps the
     * raw input; OutputPath null gives {}. */
    CHECK_INT(run("{`StartAt`:`A`,`States`:{"
                  "`A`:{`Type`:`Task`,`Resource`:`arn:aws:states:::sluice:test.echo`,"
                  "`InputPath`:null,`ResultPath`:`$.seen`,`Next`:`B`},"
                  "`B`:{`Type`:`Pass`,`Result`:`ignored`,`ResultPath`:null,`Next`:`C`},"
                  "`C`:{`Type`:`Pass`,`OutputPath`:null,`End`:true}}}",
                  "{`a`:1}", &o), 0);
    CHECK_STR(json_string_value(json_object_get(o.res.history.v[7].details, "output")),
              "{\"a\":1,\"seen\":{}}");
    CHECK(succeeded_with(&o, "{}"));
    flow_result_release(&o.res);
}

TEST(result_path_creates_objects_and_keeps_the_rest)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`Result`:7,"
                  "`ResultPath`:`$.a.b.c`,`End`:true}}}",
                  "{`a`:{`x`:1},`z`:[1]}", &o), 0);
    CHECK(succeeded_with(&o, "{`a`:{`x`:1,`b`:{`c`:7}},`z`:[1]}"));
    flow_result_release(&o.res);
}

TEST(context_object)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`Parameters`:{"
                  "`exec.$`:`$$.Execution.Name`,`id.$`:`$$.Execution.Id`,"
                  "`input.$`:`$$.Execution.Input`,`sm.$`:`$$.StateMachine.Name`,"
                  "`entered.$`:`$$.State.EnteredTime`,`retries.$`:`$$.State.RetryCount`},"
                  "`End`:true}}}",
                  "{`a`:1}", &o), 0);
    CHECK(succeeded_with(&o, "{`exec`:`e1`,"
                             "`id`:`arn:aws:states:us-east-1:000000000000:execution:m:e1`,"
                             "`input`:{`a`:1},`sm`:`m`,`entered`:`2023-11-14T22:13:20.000Z`,"
                             "`retries`:0}"));
    flow_result_release(&o.res);
}

TEST(intrinsics_in_parameters)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`Parameters`:{"
                  "`msg.$`:`States.Format('{} has {} rows', $.t, $.n)`,"
                  "`n.$`:`States.MathAdd($.n, 1)`,"
                  "`arr.$`:`States.Array($.t, 2)`},`End`:true}}}",
                  "{`t`:`orders`,`n`:41}", &o), 0);
    CHECK(succeeded_with(&o, "{`msg`:`orders has 41 rows`,`n`:42,`arr`:[`orders`,2]}"));
    flow_result_release(&o.res);
}

/* ---- errors of path processing ---------------------------------------- */

TEST(parameter_path_failure_is_catchable)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.echo`,"
                  "`Parameters`:{`x.$`:`$.missing`},"
                  "`Catch`:[{`ErrorEquals`:[`States.ParameterPathFailure`],`ResultPath`:`$.err`,"
                  "`Next`:`S`}],`End`:true},`S`:{`Type`:`Succeed`}}}",
                  "{`a`:1}", &o), 0);
    CHECK(o.res.status == FLOW_SUCCEEDED);
    json_t *err = json_object_get(o.res.output, "err");
    CHECK_STR(json_string_value(json_object_get(err, "Error")), "States.ParameterPathFailure");
    CHECK_HAS(json_string_value(json_object_get(err, "Cause")), "'$.missing'");
    CHECK_HAS(json_string_value(json_object_get(err, "Cause")), "'x.$'");
    flow_result_release(&o.res);
}

TEST(runtime_errors_are_not_caught_by_states_all)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.echo`,`InputPath`:`$.missing`,"
                  "`Retry`:[{`ErrorEquals`:[`States.ALL`]}],"
                  "`Catch`:[{`ErrorEquals`:[`States.ALL`],`Next`:`S`}],`End`:true},"
                  "`S`:{`Type`:`Succeed`}}}",
                  "{`a`:1}", &o), 0);
    CHECK(failed_with(&o, "States.Runtime"));
    CHECK_INT(o.took_ms, 0);
    flow_result_release(&o.res);
}

TEST(result_path_match_failure)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`Result`:1,`ResultPath`:`$.a.b`,"
                  "`End`:true}}}",
                  "{`a`:`text`}", &o), 0);
    CHECK(failed_with(&o, "States.ResultPathMatchFailure"));
    flow_result_release(&o.res);
}

/* ---- Retry and Catch ------------------------------------------------------ */

TEST(retry_with_backoff_then_success)
{
    struct outcome o;

    /* fails twice; waits 1 s then 2 s */
    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
                  "`Retry`:[{`ErrorEquals`:[`States.TaskFailed`],`IntervalSeconds`:1,"
                  "`BackoffRate`:2,`MaxAttempts`:3}],`End`:true}}}",
                  "{`n`:2}", &o), 0);
    CHECK(succeeded_with(&o, "{`attempts`:3}"));
    CHECK_INT(o.took_ms, 3000);
    CHECK_STR(o.types, "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskFailed "
                       "TaskScheduled TaskStarted TaskFailed TaskScheduled TaskStarted "
                       "TaskSucceeded TaskStateExited ExecutionSucceeded ");
    flow_result_release(&o.res);
}

TEST(retries_exhausted_then_catch)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
                  "`Retry`:[{`ErrorEquals`:[`Boom`],`IntervalSeconds`:2,`MaxAttempts`:2}],"
                  "`Catch`:[{`ErrorEquals`:[`Other`],`Next`:`X`},"
                  "{`ErrorEquals`:[`States.ALL`],`ResultPath`:`$.error`,`Next`:`Y`}],`End`:true},"
                  "`X`:{`Type`:`Fail`,`Error`:`wrong`},`Y`:{`Type`:`Pass`,`End`:true}}}",
                  "{`n`:5,`error`:`Boom`,`cause`:`it broke`}", &o), 0);
    CHECK(succeeded_with(&o, "{`n`:5,`error`:{`Error`:`Boom`,`Cause`:`it broke`},"
                             "`cause`:`it broke`}"));
    CHECK_INT(o.took_ms, 2000 + 4000);
    flow_result_release(&o.res);
}

/* The resumed Task's failed attempts before a crash count on. */
static const char *flaky_def =
    "{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
    "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
    "`Retry`:[{`ErrorEquals`:[`Boom`],`IntervalSeconds`:2,`MaxAttempts`:2}],"
    "`Catch`:[{`ErrorEquals`:[`States.ALL`],`ResultPath`:`$.error`,`Next`:`Y`}],`End`:true},"
    "`Y`:{`Type`:`Pass`,`End`:true}}}";

static int
count_of(const char *types, const char *type)
{
    int n = 0;

    for (const char *p = types; (p = strstr(p, type)) != NULL; p += strlen(type))
        n++;
    return n;
}

TEST(resumed_retries_count_on_from_the_failures_before)
{
    struct outcome o;

    resume_at = "T";
    resume_fails = "[{`error`:`Boom`,`cause`:`one`},{`error`:`Boom`,`cause`:`two`}]";
    CHECK_INT(run(flaky_def, "{`n`:5,`error`:`Boom`,`cause`:`three`}", &o), 0);
    /* two retries spent before the crash: one attempt left, then Catch */
    CHECK_INT(count_of(o.types, "TaskScheduled"), 1);
    CHECK(succeeded_with(&o, "{`n`:5,`error`:{`Error`:`Boom`,`Cause`:`three`},"
                             "`cause`:`three`}"));
    CHECK_INT(o.took_ms, 0);
    flow_result_release(&o.res);

    /* the last failure had no retry left: to Catch without running again */
    resume_fails = "[{`error`:`Boom`,`cause`:`1`},{`error`:`Boom`,`cause`:`2`},"
                   "{`error`:`Boom`,`cause`:`last`}]";
    CHECK_INT(run(flaky_def, "{`n`:5,`error`:`Boom`}", &o), 0);
    CHECK_INT(count_of(o.types, "TaskScheduled"), 0);
    CHECK(succeeded_with(&o, "{`n`:5,`error`:{`Error`:`Boom`,`Cause`:`last`}}"));
    flow_result_release(&o.res);

    /* $$.State.RetryCount goes on too */
    resume_fails = "[{`error`:`Boom`,`cause`:``}]";
    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.echo`,"
                  "`Parameters`:{`retry.$`:`$$.State.RetryCount`},"
                  "`Retry`:[{`ErrorEquals`:[`Boom`],`MaxAttempts`:3}],`End`:true}}}",
                  "{}", &o), 0);
    CHECK(succeeded_with(&o, "{`retry`:1}"));
    flow_result_release(&o.res);
    resume_at = resume_fails = NULL;
}

TEST(retriers_count_per_retrier_as_the_spec_example)
{
    struct outcome o;

    /* errors A, B, C, B: waits 1 s, 2 s, 5 s; the 4th (B) finds R1 spent */
    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
                  "`Retry`:[{`ErrorEquals`:[`ErrorA`,`ErrorB`],`IntervalSeconds`:1,"
                  "`BackoffRate`:2,`MaxAttempts`:2},"
                  "{`ErrorEquals`:[`ErrorC`],`IntervalSeconds`:5}],"
                  "`Catch`:[{`ErrorEquals`:[`States.ALL`],`Next`:`C`}],`End`:true},"
                  "`C`:{`Type`:`Pass`,`End`:true}}}",
                  "{`errors`:[`ErrorA`,`ErrorB`,`ErrorC`,`ErrorB`]}", &o), 0);
    CHECK(succeeded_with(&o, "{`Error`:`ErrorB`,`Cause`:``}"));
    CHECK_INT(o.took_ms, 8000);
    flow_result_release(&o.res);
}

TEST(max_delay_caps_the_backoff)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
                  "`Retry`:[{`ErrorEquals`:[`States.ALL`],`IntervalSeconds`:10,`BackoffRate`:10,"
                  "`MaxDelaySeconds`:15,`MaxAttempts`:3}],`End`:true}}}",
                  "{`n`:3}", &o), 0);
    CHECK(succeeded_with(&o, "{`attempts`:4}"));
    CHECK_INT(o.took_ms, 10000 + 15000 + 15000);
    flow_result_release(&o.res);
}

TEST(full_jitter_stays_within_the_backoff)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,"
                  "`Retry`:[{`ErrorEquals`:[`States.ALL`],`IntervalSeconds`:4,"
                  "`JitterStrategy`:`FULL`,`MaxAttempts`:2}],`End`:true}}}",
                  "{`n`:2}", &o), 0);
    CHECK(o.res.status == FLOW_SUCCEEDED);
    CHECK(o.took_ms >= 0 && o.took_ms <= 4000 + 8000);
    flow_result_release(&o.res);
}

TEST(max_attempts_zero_never_retries)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail`,"
                  "`Retry`:[{`ErrorEquals`:[`States.ALL`],`MaxAttempts`:0}],`End`:true}}}",
                  "{`error`:`E`,`cause`:`c`}", &o), 0);
    CHECK(failed_with(&o, "E"));
    CHECK_STR(o.res.cause, "c");
    CHECK_INT(o.took_ms, 0);
    flow_result_release(&o.res);
}

TEST(task_failed_matches_task_errors_not_timeouts)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.sleep`,`TimeoutSeconds`:5,"
                  "`Catch`:[{`ErrorEquals`:[`States.TaskFailed`],`Next`:`F`},"
                  "{`ErrorEquals`:[`States.Timeout`],`Next`:`TO`}],`End`:true},"
                  "`F`:{`Type`:`Fail`,`Error`:`wrong`},`TO`:{`Type`:`Pass`,`End`:true}}}",
                  "{`seconds`:60}", &o), 0);
    CHECK(o.res.status == FLOW_SUCCEEDED);
    CHECK_STR(json_string_value(json_object_get(o.res.output, "Error")), "States.Timeout");
    CHECK_INT(o.took_ms, 5000);
    CHECK_HAS(o.types, "TaskTimedOut");
    flow_result_release(&o.res);
}

TEST(timeout_seconds_path)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.sleep`,`TimeoutSecondsPath`:`$.t`,"
                  "`End`:true}}}",
                  "{`seconds`:3,`t`:2}", &o), 0);
    CHECK(failed_with(&o, "States.Timeout"));
    CHECK_INT(o.took_ms, 2000);
    flow_result_release(&o.res);
}

/* ---- Choice, Wait, Succeed, Fail ------------------------------------------- */

static const char *choice_def =
    "{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`Choices`:["
    "{`Variable`:`$.n`,`NumericGreaterThanEquals`:50000,`Next`:`Big`},"
    "{`And`:[{`Variable`:`$.kind`,`StringEquals`:`refund`},"
    "{`Not`:{`Variable`:`$.n`,`NumericEquals`:0}}],`Next`:`Refund`},"
    "{`Variable`:`$.kind`,`StringMatches`:`test-*`,`Next`:`Test`}],"
    "`Default`:`Other`},"
    "`Big`:{`Type`:`Pass`,`Result`:`big`,`End`:true},"
    "`Refund`:{`Type`:`Pass`,`Result`:`refund`,`End`:true},"
    "`Test`:{`Type`:`Pass`,`Result`:`test`,`End`:true},"
    "`Other`:{`Type`:`Pass`,`Result`:`other`,`End`:true}}}";

TEST(choice_first_match_wins)
{
    struct outcome o;

    CHECK_INT(run(choice_def, "{`n`:60000,`kind`:`refund`}", &o), 0);
    CHECK(succeeded_with(&o, "`big`"));
    flow_result_release(&o.res);
    CHECK_INT(run(choice_def, "{`n`:3,`kind`:`refund`}", &o), 0);
    CHECK(succeeded_with(&o, "`refund`"));
    flow_result_release(&o.res);
    CHECK_INT(run(choice_def, "{`n`:0,`kind`:`test-1`}", &o), 0);
    CHECK(succeeded_with(&o, "`test`"));
    flow_result_release(&o.res);
    CHECK_INT(run(choice_def, "{`n`:0,`kind`:`refund`}", &o), 0);
    CHECK(succeeded_with(&o, "`other`"));
    flow_result_release(&o.res);
}

TEST(choice_without_match_or_default)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`Choices`:["
                  "{`Variable`:`$.n`,`NumericEquals`:1,`Next`:`S`}]},`S`:{`Type`:`Succeed`}}}",
                  "{`n`:2}", &o), 0);
    CHECK(failed_with(&o, "States.NoChoiceMatched"));
    flow_result_release(&o.res);
    /* a Variable that names nothing is a runtime error */
    CHECK_INT(run("{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`Choices`:["
                  "{`Variable`:`$.m`,`NumericEquals`:1,`Next`:`S`}],`Default`:`S`},"
                  "`S`:{`Type`:`Succeed`}}}",
                  "{`n`:2}", &o), 0);
    CHECK(failed_with(&o, "States.Runtime"));
    flow_result_release(&o.res);
}

TEST(choice_output_is_its_effective_input)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`InputPath`:`$.in`,"
                  "`OutputPath`:`$.v`,`Choices`:[{`Variable`:`$.v`,`IsPresent`:true,`Next`:`S`}]},"
                  "`S`:{`Type`:`Succeed`}}}",
                  "{`in`:{`v`:[1,2]}}", &o), 0);
    CHECK(succeeded_with(&o, "[1,2]"));
    flow_result_release(&o.res);
}

TEST(wait_seconds_timestamp_and_paths)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`W1`,`States`:{"
                  "`W1`:{`Type`:`Wait`,`Seconds`:10,`Next`:`W2`},"
                  "`W2`:{`Type`:`Wait`,`SecondsPath`:`$.s`,`Next`:`W3`},"
                  "`W3`:{`Type`:`Wait`,`Timestamp`:`2023-11-14T22:15:00Z`,`Next`:`W4`},"
                  "`W4`:{`Type`:`Wait`,`TimestampPath`:`$.ts`,`End`:true}}}",
                  "{`s`:5,`ts`:`2023-11-14T23:15:00+01:00`}", &o), 0);
    CHECK(succeeded_with(&o, "{`s`:5,`ts`:`2023-11-14T23:15:00+01:00`}"));
    /* 10 s, 5 s, then to 22:15:00 (100 s after the start), then the same
     * instant again */
    CHECK_INT(o.took_ms, 100000);
    flow_result_release(&o.res);
}

TEST(fail_state_error_and_cause)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`F`,`States`:{`F`:{`Type`:`Fail`,`Error`:`Bad`,`Cause`:`why`}}}",
                  "{}", &o), 0);
    CHECK(failed_with(&o, "Bad"));
    CHECK_STR(o.res.cause, "why");
    CHECK_STR(o.types, "ExecutionStarted FailStateEntered ExecutionFailed ");
    flow_result_release(&o.res);
    CHECK_INT(run("{`StartAt`:`F`,`States`:{`F`:{`Type`:`Fail`,`ErrorPath`:`$.e`,"
                  "`CausePath`:`States.Format('table {} failed', $.t)`}}}",
                  "{`e`:`Gate`,`t`:`orders`}", &o), 0);
    CHECK(failed_with(&o, "Gate"));
    CHECK_STR(o.res.cause, "table orders failed");
    flow_result_release(&o.res);
}

TEST(succeed_with_paths)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`S`,`States`:{`S`:{`Type`:`Succeed`,`InputPath`:`$.a`,"
                  "`OutputPath`:`$.b`}}}",
                  "{`a`:{`b`:3}}", &o), 0);
    CHECK(succeeded_with(&o, "3"));
    flow_result_release(&o.res);
}

/* ---- Parallel and Map -------------------------------------------------------- */

TEST(parallel_results_in_branch_order)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Parallel`,`ResultPath`:`$.r`,"
                  "`Branches`:["
                  "{`StartAt`:`A`,`States`:{`A`:{`Type`:`Pass`,`InputPath`:`$.x`,`End`:true}}},"
                  "{`StartAt`:`B`,`States`:{`B`:{`Type`:`Wait`,`Seconds`:3,`Next`:`B2`},"
                  "`B2`:{`Type`:`Pass`,`Result`:`b`,`End`:true}}}],`End`:true}}}",
                  "{`x`:1}", &o), 0);
    CHECK(succeeded_with(&o, "{`x`:1,`r`:[1,`b`]}"));
    CHECK_HAS(o.types, "ParallelStateEntered ParallelStateStarted PassStateEntered");
    CHECK_HAS(o.types, "ParallelStateSucceeded ParallelStateExited");
    flow_result_release(&o.res);
}

TEST(parallel_branch_failure_is_the_states_error)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Parallel`,`Branches`:["
                  "{`StartAt`:`A`,`States`:{`A`:{`Type`:`Pass`,`End`:true}}},"
                  "{`StartAt`:`B`,`States`:{`B`:{`Type`:`Fail`,`Error`:`BranchBroke`,"
                  "`Cause`:`b`}}}],"
                  "`Catch`:[{`ErrorEquals`:[`BranchBroke`],`ResultPath`:`$.e`,`Next`:`D`}],"
                  "`End`:true},`D`:{`Type`:`Succeed`}}}",
                  "{}", &o), 0);
    CHECK(succeeded_with(&o, "{`e`:{`Error`:`BranchBroke`,`Cause`:`b`}}"));
    CHECK_HAS(o.types, "ParallelStateFailed");
    flow_result_release(&o.res);
}

TEST(map_items_selector_and_order)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`M`,`States`:{`M`:{`Type`:`Map`,`ItemsPath`:`$.items`,"
                  "`MaxConcurrency`:2,"
                  "`ItemSelector`:{`i.$`:`$$.Map.Item.Index`,`v.$`:`$$.Map.Item.Value`,"
                  "`tag.$`:`$.tag`},"
                  "`ItemProcessor`:{`ProcessorConfig`:{`Mode`:`INLINE`},`StartAt`:`E`,`States`:{"
                  "`E`:{`Type`:`Task`,`Resource`:`arn:aws:states:::sluice:test.echo`,"
                  "`End`:true}}},"
                  "`ResultPath`:`$.out`,`End`:true}}}",
                  "{`items`:[`a`,`b`,`c`],`tag`:`t`}", &o), 0);
    CHECK(succeeded_with(&o, "{`items`:[`a`,`b`,`c`],`tag`:`t`,`out`:["
                             "{`i`:0,`v`:`a`,`tag`:`t`},{`i`:1,`v`:`b`,`tag`:`t`},"
                             "{`i`:2,`v`:`c`,`tag`:`t`}]}"));
    CHECK_HAS(o.types, "MapStateEntered MapStateStarted MapIterationStarted TaskStateEntered");
    CHECK_HAS(o.types, "MapIterationSucceeded MapStateSucceeded MapStateExited");
    flow_result_release(&o.res);
}

TEST(map_iteration_failure_fails_the_map)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`M`,`States`:{`M`:{`Type`:`Map`,"
                  "`Iterator`:{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`Choices`:["
                  "{`Variable`:`$`,`NumericGreaterThan`:1,`Next`:`F`}],`Default`:`OK`},"
                  "`F`:{`Type`:`Fail`,`Error`:`TooBig`},`OK`:{`Type`:`Succeed`}}},"
                  "`End`:true}}}",
                  "[0,1,2,3]", &o), 0);
    CHECK(failed_with(&o, "TooBig"));
    CHECK_HAS(o.types, "MapIterationFailed MapStateFailed ExecutionFailed");
    flow_result_release(&o.res);
}

TEST(map_tolerated_failures)
{
    struct outcome o;
    static const char *def =
        "{`StartAt`:`M`,`States`:{`M`:{`Type`:`Map`,`ToleratedFailureCount`:1,"
        "`ItemProcessor`:{`StartAt`:`C`,`States`:{`C`:{`Type`:`Choice`,`Choices`:["
        "{`Variable`:`$`,`NumericGreaterThan`:1,`Next`:`F`}],`Default`:`OK`},"
        "`F`:{`Type`:`Fail`,`Error`:`TooBig`},`OK`:{`Type`:`Succeed`}}},`End`:true}}}";

    CHECK_INT(run(def, "[0,1,2]", &o), 0);
    CHECK(succeeded_with(&o, "[0,1,{`Error`:`TooBig`,`Cause`:``}]"));
    flow_result_release(&o.res);
    CHECK_INT(run(def, "[0,1,2,3]", &o), 0);
    CHECK(failed_with(&o, "States.ExceedToleratedFailureThreshold"));
    flow_result_release(&o.res);
}

TEST(map_items_must_be_an_array)
{
    struct outcome o;

    CHECK_INT(run("{`StartAt`:`M`,`States`:{`M`:{`Type`:`Map`,`ItemsPath`:`$.x`,"
                  "`ItemProcessor`:{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`End`:true}}},"
                  "`End`:true}}}",
                  "{`x`:{}}", &o), 0);
    CHECK(failed_with(&o, "States.Runtime"));
    flow_result_release(&o.res);
}

TEST(retried_parallel_reruns_its_branches)
{
    struct outcome o;

    /* the branch's task fails once; the Parallel's retrier re-runs it and
     * the task keeps counting */
    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Parallel`,`Branches`:["
                  "{`StartAt`:`T`,`States`:{`T`:{`Type`:`Task`,"
                  "`Resource`:`arn:aws:states:::sluice:test.fail-n-times`,`End`:true}}}],"
                  "`Retry`:[{`ErrorEquals`:[`States.ALL`],`IntervalSeconds`:3}],`End`:true}}}",
                  "{`n`:1}", &o), 0);
    CHECK(succeeded_with(&o, "[{`attempts`:2}]"));
    CHECK_INT(o.took_ms, 3000);
    flow_result_release(&o.res);
}

/* ---- the execution ----------------------------------------------------------------- */

TEST(execution_timeout)
{
    struct outcome o;

    CHECK_INT(run("{`TimeoutSeconds`:30,`StartAt`:`W`,`States`:{`W`:{`Type`:`Wait`,"
                  "`Seconds`:60,`End`:true}}}",
                  "{}", &o), 0);
    CHECK(o.res.status == FLOW_TIMED_OUT);
    CHECK_STR(o.res.error, "States.Timeout");
    CHECK_INT(o.took_ms, 30000);
    CHECK_HAS(o.types, "ExecutionTimedOut");
    flow_result_release(&o.res);
}

TEST(data_limit)
{
    struct outcome o;
    size_t n = 200 << 10;
    char *input = malloc(n + 16);

    /* 200 KiB in; the state doubles it past 256 KiB */
    memcpy(input, "{`s`:`", 6);
    memset(input + 6, 'x', n);
    strcpy(input + 6 + n, "`}");
    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,"
                  "`Parameters`:{`a.$`:`$.s`,`b.$`:`$.s`},`Next`:`Q`},"
                  "`Q`:{`Type`:`Pass`,`End`:true}}}",
                  input, &o), 0);
    free(input);
    CHECK(failed_with(&o, "States.DataLimitExceeded"));
    CHECK(strstr(o.types, "PassStateExited") == NULL);
    flow_result_release(&o.res);
}

TEST(history_json_shape)
{
    struct outcome o;
    json_t *events;

    CHECK_INT(run("{`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`End`:true}}}", "{`a`:1}", &o), 0);
    events = flow_history_json(&o.res.history);
    CHECK_INT(json_array_size(events), 4);
    json_t *e1 = json_array_get(events, 1);
    CHECK_STR(json_string_value(json_object_get(e1, "type")), "PassStateEntered");
    CHECK_INT(json_integer_value(json_object_get(e1, "id")), 2);
    CHECK_INT(json_integer_value(json_object_get(e1, "previousEventId")), 1);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(e1, "stateEnteredEventDetails"), "input")),
              "{\"a\":1}");
    CHECK(json_object_get(json_array_get(events, 0), "executionStartedEventDetails") != NULL);
    CHECK(json_object_get(json_array_get(events, 3), "executionSucceededEventDetails") != NULL);
    json_decref(events);
    flow_result_release(&o.res);
}

/* ---- definitions refused ------------------------------------------------------------- */

TEST(refuses_with_every_problem_and_its_path)
{
    struct outcome o;

    CHECK(run("{`StartAt`:`A`,`States`:{"
              "`A`:{`Type`:`Tusk`,`Next`:`B`},"
              "`B`:{`Type`:`Pass`},"
              "`C`:{`Type`:`Pass`,`Next`:`Nowhere`},"
              "`D`:{`Type`:`Task`,`Resource`:`arn:aws:states:::sluice:test.echo`,`End`:true,"
              "`Retry`:[{`ErrorEquals`:[`States.ALL`]},{`ErrorEquals`:[`X`]}],"
              "`Parameters`:{`x.$`:`$.a[`},`Bogus`:1}}}",
              "{}", &o) == SL_ERR_INPUT);
    CHECK_HAS(o.problems, "$.States.A.Type: 'Tusk' is not a state type");
    CHECK_HAS(o.problems, "$.States.B: a Pass state needs Next or End: true");
    CHECK_HAS(o.problems, "$.States.C.Next: 'Nowhere' is not a state of this machine");
    CHECK_HAS(o.problems, "$.States.D.Retry[1]: no retrier may follow one on States.ALL");
    CHECK_HAS(o.problems, "$.States.D.Parameters['x.$']: ");
    CHECK_HAS(o.problems, "$.States.D.Bogus: Task has no field 'Bogus'");
    CHECK_HAS(o.problems, "$.States.C: cannot be reached from StartAt");
    CHECK_HAS(o.problems, "$.States.D: cannot be reached from StartAt");
}

TEST(refuses_more_problems)
{
    struct outcome o;

    CHECK(run("{`StartAt`:`Z`,`States`:{`A`:{`Type`:`Wait`,`End`:true},"
              "`B`:{`Type`:`Task`,`Resource`:`arn:aws:states:::sluice:nope`,`End`:true,"
              "`HeartbeatSeconds`:10,`TimeoutSeconds`:5},"
              "`C`:{`Type`:`Catchy`},"
              "`D`:{`Type`:`Pass`,`End`:true,`ResultPath`:`$.a[*]`},"
              "`E`:{`Type`:`Choice`,`Choices`:[]},"
              "`F`:{`Type`:`Map`,`End`:true,`ItemProcessor`:{`ProcessorConfig`:"
              "{`Mode`:`DISTRIBUTED`},`StartAt`:`P`,`States`:{`P`:{`Type`:`Pass`,`End`:true}}}},"
              "`G`:{`Type`:`Task`,`Resource`:`arn:aws:states:::sluice:test.echo`,`End`:true,"
              "`Catch`:[{`ErrorEquals`:[`States.ALL`,`X`],`Next`:`A`},"
              "{`ErrorEquals`:[`States.Bogus`],`Next`:`A`}]}}}",
              "{}", &o) == SL_ERR_INPUT);
    CHECK_HAS(o.problems, "$.StartAt: 'Z' is not a state of this machine");
    CHECK_HAS(o.problems, "$.States.A: a Wait state takes exactly one of Seconds");
    CHECK_HAS(o.problems, "$.States.B.Resource: 'arn:aws:states:::sluice:nope' is not a task");
    CHECK_HAS(o.problems, "$.States.B.HeartbeatSeconds: must be less than TimeoutSeconds");
    CHECK_HAS(o.problems, "$.States.D.ResultPath: ");
    CHECK_HAS(o.problems, "$.States.E.Choices: must be a non-empty array");
    CHECK_HAS(o.problems, "sluice runs INLINE maps only");
    CHECK_HAS(o.problems, "$.States.G.Catch[0].ErrorEquals[0]: States.ALL must be alone");
    CHECK_HAS(o.problems, "$.States.G.Catch[1]: no catcher may follow one on States.ALL");
    CHECK_HAS(o.problems, "'States.Bogus' is not one of the predefined errors");
}

TEST(refuses_json_that_is_not)
{
    struct outcome o;

    CHECK(run("{`StartAt`:`A`,", "{}", &o) == SL_ERR_INPUT);
    CHECK(run("{`StartAt`:`A`,`StartAt`:`B`,`States`:{}}", "{}", &o) == SL_ERR_INPUT);
    CHECK(run("[]", "{}", &o) == SL_ERR_INPUT);
}


/* ---- JSON text ---------------------------------------------------------------------- */

#include "flow/json.h"

static bool
dumps_as(const char *in, const char *want)
{
    json_t *v = json_loads(in, JSON_DECODE_ANY, NULL);
    char *got = flow_json_dump(v);
    bool ok = strcmp(got, want) == 0;

    if (!ok)
        fprintf(stderr, "  %s dumps as %s, expected %s\n", in, got, want);
    free(got);
    json_decref(v);
    return ok;
}

TEST(json_text_as_step_functions_writes_it)
{
    CHECK(dumps_as("0.026", "0.026"));
    CHECK(dumps_as("0.91", "0.91"));
    CHECK(dumps_as("100.0", "100.0"));
    CHECK(dumps_as("1e20", "1.0E20"));
    CHECK(dumps_as("1.25e-5", "1.25E-5"));
    CHECK(dumps_as("0.30000000000000004", "0.30000000000000004"));
    CHECK(dumps_as("-2.5", "-2.5"));
    CHECK(dumps_as("12345678901234", "12345678901234"));
    CHECK(dumps_as("{\"b\": [1, true, null], \"a\": \"x\\\"y\\n\\u0001\\u00e9\"}",
                   "{\"b\":[1,true,null],\"a\":\"x\\\"y\\n\\u0001\xc3\xa9\"}"));
    CHECK(dumps_as("\"\"", "\"\""));
    CHECK(dumps_as("{}", "{}"));
}
