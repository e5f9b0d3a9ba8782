#!/bin/sh
# 605-flow-durable.sh - executions recorded in the catalog as they run:
# the history an execution leaves is the one it ran (GetExecutionHistory's
# shape); a process killed just before a task resumes from its last
# finished state with 'sluice resume', running the interrupted state again
# and no earlier one; a failed execution is redriven from the state that
# failed, its task-call counts carried over; names are unique per machine;
# a bad definition is refused with every problem's JSON path, and nothing
# is recorded.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
mkdir -p flows
cat > flows/three.asl.json <<'JSON'
{"StartAt": "A", "States": {
  "A": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo",
        "Parameters": {"step": "a", "in.$": "$"}, "Next": "B"},
  "B": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo",
        "Parameters": {"step": "b", "prev.$": "$.step"}, "Next": "C"},
  "C": {"Type": "Pass", "Parameters": {"done.$": "$.prev"}, "End": true}}}
JSON

say "an execution and its history, recorded"
out=$(sluice run three --name e1 --input '{"x": 1}' 2>"$T/err") || { cat "$T/err"; fail "run"; }
expect_eq "output" "$out" '{"done":"a"}'
grep -q "execution 1: SUCCEEDED (arn:aws:states:us-east-1:000000000000:execution:three:e1)" "$T/err" ||
    { cat "$T/err"; fail "the run names its execution"; }
expect_eq "recorded" "$(catalog_sql "SELECT status, input, output FROM flow_executions WHERE name = 'e1'")" \
    'SUCCEEDED|{"x":1}|{"done":"a"}'
sluice execution three:e1 --json > "$T/h.json"
"$PY" - "$T/h.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["events"]
types = [e["type"] for e in ev]
want = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
assert types == want, types
assert [e["id"] for e in ev] == list(range(1, len(ev) + 1))
assert all(e["previousEventId"] == e["id"] - 1 for e in ev[1:])
sched = ev[2]["taskScheduledEventDetails"]
assert sched["resourceType"] == "sluice" and sched["resource"] == "test.echo", sched
assert json.loads(sched["parameters"]) == {"step": "a", "in": {"x": 1}}, sched
assert ev[5]["stateExitedEventDetails"]["name"] == "A"
assert json.loads(ev[-1]["executionSucceededEventDetails"]["output"]) == {"done": "a"}
print("ok", len(ev), "events in GetExecutionHistory's shape")
PY
sluice executions > "$T/list"
grep -q "three .*SUCCEEDED .*e1" "$T/list" || { cat "$T/list"; fail "executions lists it"; }

say "names are unique per machine"
expect_fail "has an execution called 'e1' already" sluice run three --name e1

say "killed before its second task: resumed from the state that was running"
if SLUICE_FAULT=crash@flow.task:2 "$SLUICE" run three --name e2 --input '{"x": 2}' >/dev/null 2>&1; then
    fail "the fault did not kill the run"
fi
expect_eq "left running" "$(catalog_sql "SELECT status FROM flow_executions WHERE name = 'e2'")" RUNNING
out=$(sluice resume 2>"$T/err") || { cat "$T/err"; fail "resume"; }
expect_eq "resumed output" "$out" '{"done":"a"}'
expect_eq "once" "$(sluice resume)" "no execution to resume"
sluice execution three:e2 --json > "$T/h.json"
"$PY" - "$T/h.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["events"]
entered = [e["stateEnteredEventDetails"]["name"] for e in ev if e["type"].endswith("StateEntered")]
# A ran once; B entered, its task scheduled, the process died; B ran again
assert entered == ["A", "B", "B", "C"], entered
assert sum(1 for e in ev if e["type"] == "TaskSucceeded") == 2
assert [e["id"] for e in ev] == list(range(1, len(ev) + 1)), "ids go on"
assert ev[-1]["type"] == "ExecutionSucceeded"
print("ok resumed:", " ".join(entered))
PY

say "a failed execution, redriven from the state that failed"
cat > flows/flaky.asl.json <<'JSON'
{"StartAt": "Prep", "States": {
  "Prep": {"Type": "Pass", "Result": {"n": 4}, "Next": "T"},
  "T": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.fail-n-times",
        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        "Next": "Done"},
  "Done": {"Type": "Pass", "End": true}}}
JSON
expect_fail "FAILED: sluice.TestError" sluice run flaky --name f1 --virtual-clock
expect_fail "FAILED" sluice redrive flaky:f1
out=$(sluice redrive flaky:f1 2>"$T/err") || { cat "$T/err"; fail "second redrive"; }
expect_eq "the 5th call succeeds (k counts the calls before redrives)" "$out" '{"attempts":5}'
expect_eq "redrives" "$(catalog_sql "SELECT status, redrive_count FROM flow_executions WHERE name = 'f1'")" \
    "SUCCEEDED|2"
sluice execution flaky:f1 --json > "$T/h.json"
"$PY" - "$T/h.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["events"]
entered = [e["stateEnteredEventDetails"]["name"] for e in ev if e["type"].endswith("StateEntered")]
assert entered == ["Prep", "T", "T", "T", "Done"], entered
assert [e["type"] for e in ev].count("ExecutionRedriven") == 2
assert [e["executionRedrivenEventDetails"]["redriveCount"] for e in ev
        if e["type"] == "ExecutionRedriven"] == [1, 2]
print("ok redriven twice; Prep ran once")
PY
expect_fail "cannot be redriven" sluice redrive flaky:f1
expect_fail "there is no execution 'flaky:nope'" sluice execution flaky:nope

say "killed mid-retries: the retries spent before count on, so they stay bounded"
cat > flows/bounded.asl.json <<'JSON'
{"StartAt": "T", "States": {
  "T": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.fail-n-times",
        "Parameters": {"n": 100, "error": "Flaky"},
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 2}],
        "Catch": [{"ErrorEquals": ["Flaky"], "ResultPath": "$.error", "Next": "GaveUp"}],
        "End": true},
  "GaveUp": {"Type": "Pass", "Result": "gave up", "End": true}}}
JSON
# attempts 1 and 2 fail; the process dies as attempt 3 starts, and the
# first resume dies there too
if SLUICE_FAULT=crash@flow.task:3 "$SLUICE" run bounded --name b1 >/dev/null 2>&1; then
    fail "the fault did not kill the run"
fi
if SLUICE_FAULT=crash@flow.task:1 "$SLUICE" resume >/dev/null 2>&1; then
    fail "the fault did not kill the resume"
fi
out=$(sluice resume 2>"$T/err") || { cat "$T/err"; fail "resume"; }
expect_eq "resumed output" "$out" '"gave up"'
sluice execution bounded:b1 --json > "$T/h.json"
"$PY" - "$T/h.json" <<'PY'
import json, sys
types = [e["type"] for e in json.load(open(sys.argv[1]))["events"]]
# 1 + MaxAttempts 2 = 3 attempts that ran to an end, and the two the crashes cut
assert types.count("TaskScheduled") == 5 and types.count("TaskFailed") == 3, types
print("ok", types.count("TaskScheduled"), "attempts across two crashes, not 3 more after each")
PY

say "a bad definition: every problem with its JSON path; nothing recorded"
cat > flows/bad.asl.json <<'JSON'
{"StartAt": "A", "States": {
  "A": {"Type": "Pass", "Next": "Nowhere"},
  "B": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo", "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]},
  "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": "1", "Next": "A"}]}}}
JSON
n=$(catalog_sql "SELECT COUNT(*) FROM flow_executions")
expect_fail "problems in the definition" sluice run bad
for want in "\$.States.A.Next: 'Nowhere' is not a state of this machine" \
            "\$.States.B.Retry[1]: no retrier may follow one on States.ALL" \
            "\$.States.C.Choices[0].NumericEquals" \
            "\$.States.B: cannot be reached from StartAt"; do
    grep -qF -- "$want" "$T/err" || { cat "$T/err"; fail "missing: $want"; }
done
expect_eq "nothing recorded" "$(catalog_sql "SELECT COUNT(*) FROM flow_executions")" "$n"
expect_fail "not JSON" sluice run three --input '{"x":'
