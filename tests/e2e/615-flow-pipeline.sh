#!/bin/sh
# 615-flow-pipeline.sh - the pipeline's stages as Task resources: a flow
# lands nothing itself but transforms a source, asks a query whether
# enough rows arrived, runs a training command whose stdout JSON is the
# result, and announces the metric on a webhook; each failure is a named
# error that Catch routes (a command's non-zero exit, a quality check that
# fails, a webhook that refuses, a command past its TimeoutSeconds, a bad
# task input).
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
"$PY" - "$T/orders.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 121):
        f.write(json.dumps({"order_id": i, "customer": "c%d" % (i % 7),
                            "amount": "%d.50" % i, "ordered_at": "2026-11-01T10:00:00Z"}) + "\n")
PY
sluice ingest --source orders "$T/orders.jsonl" >/dev/null
cat > "$T/train.py" <<'PY'
import json, sys
rows = int(sys.argv[1])
print(json.dumps({"model": "churn-v1", "rows": rows, "auc": 0.91}))
PY
HOOKS="$T/hooks.jsonl"
: > "$HOOKS"
"$PY" "$SLUICE_SRC/tests/lib/webhook.py" 0 "$HOOKS" 200 &
HOOK_PID=$!
trap 'st=$?; kill $HOOK_PID 2>/dev/null; set +e; (exit $st); cleanup' EXIT
wait_for 30 test -s "$HOOKS.port" || fail "the webhook receiver did not start"
HOOK="http://127.0.0.1:$(head -n 1 "$HOOKS.port")/hooks/ml"
mkdir -p flows
cat > flows/train.asl.json <<JSON
{"StartAt": "Transform", "States": {
  "Transform": {"Type": "Task", "Resource": "arn:aws:states:::sluice:transform",
                "Parameters": {"source": "orders"}, "ResultPath": null, "Next": "Count"},
  "Count": {"Type": "Task", "Resource": "arn:aws:states:::sluice:query",
            "Parameters": {"sql": "SELECT COUNT(*) AS n FROM curated.orders"},
            "ResultSelector": {"n.\$": "\$.rows[0].n"}, "ResultPath": "\$.count",
            "Next": "Enough?"},
  "Enough?": {"Type": "Choice", "Default": "NotYet",
              "Choices": [{"Variable": "\$.count.n", "NumericGreaterThanEquals": 100,
                           "Next": "Train"}]},
  "Train": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
            "Parameters": {"command.\$": "States.Array('$PY', '$T/train.py', States.Format('{}', \$.count.n))"},
            "TimeoutSeconds": 60, "ResultPath": "\$.model", "Next": "Announce"},
  "Announce": {"Type": "Task", "Resource": "arn:aws:states:::sluice:webhook",
               "Parameters": {"url": "$HOOK",
                              "text.\$": "States.Format('{} trained on {} rows: AUC {}', \$.model.model, \$.model.rows, \$.model.auc)"},
               "ResultPath": null, "End": true},
  "NotYet": {"Type": "Succeed"}}}
JSON

say "transform, query, choice, command, webhook: one flow"
out=$(sluice run train --name t1 2>"$T/err") || { cat "$T/err"; fail "the flow failed"; }
"$PY" - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
assert o["count"] == {"n": 120}, o
assert o["model"] == {"model": "churn-v1", "rows": 120, "auc": 0.91}, o
print("ok output:", sys.argv[1])
PY
expect_eq "curated rows" "$(q "SELECT COUNT(*) FROM curated.orders")" 120
expect_eq "the webhook got" "$("$PY" -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['body']['text'])" "$HOOKS")" \
    "churn-v1 trained on 120 rows: AUC 0.91"
sluice execution train:t1 > "$T/tl"
for s in Transform Count "Enough?" Train Announce; do
    grep -q "TaskStateEntered *$s\|ChoiceStateEntered *$s" "$T/tl" || { cat "$T/tl"; fail "no $s in the timeline"; }
done

say "a second run: nothing new to transform; the query still finds 120 rows"
out=$(sluice run train --name t2 2>"$T/err") || { cat "$T/err"; fail "the second run failed"; }
expect_eq "webhook posts" "$(wc -l < "$HOOKS")" 2

say "failures are named errors that Catch routes"
cat > "$T/checks.dqdl" <<'DQDL'
Rules = [ RowCount > 1000 ]
DQDL
cat > flows/fails.asl.json <<JSON
{"StartAt": "Exit3", "States": {
  "Exit3": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
            "Parameters": {"command": ["sh", "-c", "echo doomed >&2; exit 3"]},
            "Catch": [{"ErrorEquals": ["sluice.CommandFailed"], "ResultPath": "\$.exit3", "Next": "Check"}],
            "End": true},
  "Check": {"Type": "Task", "Resource": "arn:aws:states:::sluice:check",
            "Parameters": {"table": "curated.orders", "ruleset": "$T/checks.dqdl"},
            "Catch": [{"ErrorEquals": ["sluice.QualityCheckFailed"], "ResultPath": "\$.check", "Next": "Hook"}],
            "End": true},
  "Hook": {"Type": "Task", "Resource": "arn:aws:states:::sluice:webhook",
           "Parameters": {"url": "http://127.0.0.1:1/nobody", "text": "x"},
           "Catch": [{"ErrorEquals": ["sluice.WebhookFailed"], "ResultPath": "\$.hook", "Next": "Slow"}],
           "End": true},
  "Slow": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
           "Parameters": {"command": ["sleep", "30"]}, "TimeoutSeconds": 1,
           "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "\$.slow", "Next": "Bad"}],
           "End": true},
  "Bad": {"Type": "Task", "Resource": "arn:aws:states:::sluice:query", "Parameters": {"sequel": 1},
          "Catch": [{"ErrorEquals": ["sluice.InvalidTaskInput"], "ResultPath": "\$.bad", "Next": "Done"}],
          "End": true},
  "Done": {"Type": "Succeed"}}}
JSON
out=$(sluice run fails --name f1 2>"$T/err") || { cat "$T/err"; fail "the failures were not caught"; }
"$PY" - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
assert o["exit3"]["Error"] == "sluice.CommandFailed" and "status 3" in o["exit3"]["Cause"] \
    and "doomed" in o["exit3"]["Cause"], o["exit3"]
assert o["check"]["Error"] == "sluice.QualityCheckFailed", o["check"]
failed = json.loads(o["check"]["Cause"])
assert failed[0]["rule"] == "RowCount > 1000" and failed[0]["outcome"] == "failed", failed
assert failed[0]["metric"] == 120, failed
assert o["hook"]["Error"] == "sluice.WebhookFailed" and "127.0.0.1:1" in o["hook"]["Cause"], o["hook"]
assert o["slow"]["Error"] == "States.Timeout", o["slow"]
assert o["bad"]["Error"] == "sluice.InvalidTaskInput" and "\"sql\"" in o["bad"]["Cause"], o["bad"]
print("ok CommandFailed, QualityCheckFailed, WebhookFailed, States.Timeout, InvalidTaskInput")
PY

say "HeartbeatSeconds: a command's output is its heartbeat; one silent too long is killed"
cat > flows/beats.asl.json <<JSON
{"StartAt": "Talks", "States": {
  "Talks": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
            "Parameters": {"command": ["sh", "-c", "for i in 1 2 3 4 5 6; do echo step \$i >&2; sleep 0.5; done; echo '{\"done\": true}'"]},
            "HeartbeatSeconds": 2, "ResultPath": "\$.talks", "Next": "Silent"},
  "Silent": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
             "Parameters": {"command": ["sh", "-c", "echo starting >&2; sleep 30"]},
             "HeartbeatSeconds": 1, "TimeoutSeconds": 60,
             "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "\$.silent", "Next": "Closed"}],
             "End": true},
  "Closed": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
             "Parameters": {"command": ["sh", "-c", "exec >/dev/null 2>&1; sleep 30"]}, "TimeoutSeconds": 2,
             "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "\$.closed", "Next": "Done"}],
             "End": true},
  "Done": {"Type": "Succeed"}}}
JSON
t0=$(date +%s)
out=$(sluice run beats --name b1 2>"$T/err") || { cat "$T/err"; fail "the heartbeat flow failed"; }
t1=$(date +%s)
"$PY" - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
assert o["talks"] == {"done": True}, o
assert o["silent"]["Error"] == "States.HeartbeatTimeout" and "HeartbeatSeconds" in o["silent"]["Cause"], o
assert o["closed"]["Error"] == "States.Timeout", o   # its outputs closed, its deadline still holds
print("ok a talking command lived 3 s past HeartbeatSeconds 2; a silent one died of it; one that closed its outputs died at its TimeoutSeconds")
PY
[ $((t1 - t0)) -lt 20 ] || fail "the silent command was not killed at its heartbeat ($((t1 - t0)) s)"
sluice execution beats:b1 | grep -q "TaskTimedOut" || fail "no TaskTimedOut in the history"

say "Parallel branches and Map iterations run side by side, the Map at most MaxConcurrency at once"
# Each branch, and each pair of iterations, waits for its partner: run one
# after another they would wait in vain (and fail after 30 s).
mkdir -p "$T/rv/run"
cat > "$T/meet.sh" <<'SH'
dir=$1 me=$2 partner=$3
mkdir "$dir/run/$me"
ls "$dir/run" | wc -l >> "$dir/counts"
touch "$dir/here-$me"
i=0
while [ ! -e "$dir/here-$partner" ]; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "$me waited for $partner in vain" >&2; exit 9; }
    sleep 0.1
done
rmdir "$dir/run/$me"
echo "$me"
SH
cat > flows/side.asl.json <<JSON
{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "ResultPath": "\$.both", "Next": "Pairs", "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
       "Parameters": {"command": ["sh", "$T/meet.sh", "$T/rv", "a", "b"]}, "TimeoutSeconds": 60, "End": true}}},
    {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
       "Parameters": {"command": ["sh", "$T/meet.sh", "$T/rv", "b", "a"]}, "TimeoutSeconds": 60, "End": true}}}]},
  "Pairs": {"Type": "Map", "ItemsPath": "\$.items", "MaxConcurrency": 2, "ResultPath": "\$.pairs", "End": true,
    "ItemProcessor": {"StartAt": "Meet", "States": {"Meet": {"Type": "Task",
       "Resource": "arn:aws:states:::sluice:command", "TimeoutSeconds": 60, "End": true,
       "Parameters": {"command.\$": "States.Array('sh', '$T/meet.sh', '$T/rv', \$.me, \$.partner)"}}}}}}}
JSON
out=$(sluice run side --name s1 --input '{"items": [{"me": "1", "partner": "2"}, {"me": "2", "partner": "1"}, {"me": "3", "partner": "4"}, {"me": "4", "partner": "3"}]}' 2>"$T/err") ||
    { cat "$T/err"; fail "the branches or iterations did not run side by side"; }
"$PY" - "$out" "$T/rv/counts" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
assert [b["stdout"] for b in o["both"]] == ["a\n", "b\n"], o
assert o["pairs"] == [1, 2, 3, 4], o
counts = [int(l) for l in open(sys.argv[2])]
assert max(counts) == 2, counts   # MaxConcurrency 2: never 3 at once, and 2 did meet
print("ok side by side; iterations running at once:", counts)
PY
sluice execution side:s1 > "$T/tl"
expect_eq "iterations in the history" "$(grep -c MapIterationSucceeded "$T/tl")" 4

say "a branch that fails stops the others: a Parallel does not wait out a sibling's long Wait"
cat > flows/stops.asl.json <<'JSON'
{"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "Next": "Done", "Branches": [
    {"StartAt": "Soon", "States": {"Soon": {"Type": "Wait", "Seconds": 1, "Next": "Fails"},
       "Fails": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.fail",
       "Parameters": {"error": "Broken"}, "End": true}}},
    {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 600, "Next": "After"},
       "After": {"Type": "Pass", "End": true}}}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}]},
  "Done": {"Type": "Pass", "OutputPath": "$.error.Error", "End": true}}}
JSON
t0=$(date +%s)
out=$(sluice run stops --name st1 2>"$T/err") || { cat "$T/err"; fail "the Parallel's failure was not caught"; }
t1=$(date +%s)
expect_eq "the Parallel's error" "$out" '"Broken"'
[ $((t1 - t0)) -lt 120 ] || fail "the Parallel waited $((t1 - t0)) s for the branch it should have stopped"
sluice execution stops:st1 > "$T/tl"
grep -q "WaitStateEntered *Long" "$T/tl" || { cat "$T/tl"; fail "the other branch did not start"; }
if grep -q "WaitStateExited *Long" "$T/tl"; then fail "the stopped branch went on"; fi
