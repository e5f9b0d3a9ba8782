#!/bin/sh
# 610-stepfunctions-api.sh - the Step Functions API of sluice serve, driven
# by the AWS CLI and boto3 unchanged: machines created, described, listed,
# updated and deleted; executions started (idempotently), described,
# listed and paged, stopped (ABORTED when StopExecution returns) and
# redriven; histories paged both ways; each refusal with AWS's error name;
# an execution whose server was killed mid-Wait resumed by the next server;
# and a key whose policy allows one machine refused on another.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
cat > "$T/three.json" <<'JSON'
{"StartAt": "A", "States": {
  "A": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo",
        "Parameters": {"step": "a", "in.$": "$"}, "Next": "B"},
  "B": {"Type": "Pass", "Parameters": {"done.$": "$.step", "x.$": "$.in.x"}, "End": true}}}
JSON
cat > "$T/slow.json" <<'JSON'
{"StartAt": "W", "States": {
  "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "P"},
  "P": {"Type": "Pass", "Result": "woke", "ResultPath": "$.said", "End": true}}}
JSON
cat > "$T/flaky.json" <<'JSON'
{"StartAt": "T", "States": {
  "T": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.fail-n-times",
        "Parameters": {"n": 1, "error": "Flaky"}, "End": true}}}
JSON
start_server
M=arn:aws:states:us-east-1:000000000000:stateMachine
X=arn:aws:states:us-east-1:000000000000:execution
sfn() { awsk stepfunctions "$@"; }

say "the AWS CLI: a machine created, described, listed, run"
sfn create-state-machine --name three --definition "file://$T/three.json" \
    --role-arn arn:aws:iam::000000000000:role/r > "$T/out"
grep -q "\"stateMachineArn\": \"$M:three\"" "$T/out" || { cat "$T/out"; fail "create"; }
sfn create-state-machine --name three --definition "file://$T/three.json" \
    --role-arn arn:aws:iam::000000000000:role/r >/dev/null || fail "the same create again is not idempotent"
sfn describe-state-machine --state-machine-arn "$M:three" > "$T/out"
grep -q '"status": "ACTIVE"' "$T/out" && grep -q '"type": "STANDARD"' "$T/out" || { cat "$T/out"; fail "describe"; }
sfn list-state-machines | grep -q "\"name\": \"three\"" || fail "list"
sfn start-execution --state-machine-arn "$M:three" --name cli1 --input '{"x": 7}' > "$T/out"
grep -q "\"executionArn\": \"$X:three:cli1\"" "$T/out" || { cat "$T/out"; fail "start"; }
succeeded() { sfn describe-execution --execution-arn "$X:$1" | grep -q '"status": "SUCCEEDED"'; }
wait_for 30 succeeded three:cli1 || fail "cli1 did not succeed: $(sfn describe-execution --execution-arn "$X:three:cli1")"
sfn describe-execution --execution-arn "$X:three:cli1" > "$T/out"
grep -qF '"output": "{\"done\":\"a\",\"x\":7}"' "$T/out" || { cat "$T/out"; fail "output"; }
sfn get-execution-history --execution-arn "$X:three:cli1" > "$T/out"
expect_eq "history events" "$(grep -c '"type":' "$T/out")" 9

say "boto3: executions, histories, stop, redrive, refusals"
for m in slow flaky; do
    sfn create-state-machine --name $m --definition "file://$T/$m.json" \
        --role-arn arn:aws:iam::000000000000:role/r >/dev/null || fail "create $m"
done
"$PY" - "$URL" "$T" <<'PY'
import json, sys, time
import boto3, botocore.config
url, t = sys.argv[1], sys.argv[2]
sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                   config=botocore.config.Config(retries={"max_attempts": 1}))
M = "arn:aws:states:us-east-1:000000000000:stateMachine"
X = "arn:aws:states:us-east-1:000000000000:execution"

def error_of(call, **kw):
    try:
        call(**kw)
    except sfn.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError(f"{call.__name__} did not fail")

def until(arn, statuses, seconds=30):
    end = time.monotonic() + seconds
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] in statuses:
            return d
        assert time.monotonic() < end, d
        time.sleep(0.05)

# start: idempotent while running with the same input, else refused
r1 = sfn.start_execution(stateMachineArn=f"{M}:slow", name="s1", input='{"wait": 60}')
r2 = sfn.start_execution(stateMachineArn=f"{M}:slow", name="s1", input='{"wait": 60}')
assert r1["executionArn"] == r2["executionArn"] == f"{X}:slow:s1"
assert r1["startDate"] == r2["startDate"]
code, msg = error_of(sfn.start_execution, stateMachineArn=f"{M}:slow", name="s1", input='{"wait": 1}')
assert code == "ExecutionAlreadyExists", (code, msg)
d = sfn.describe_execution(executionArn=f"{X}:slow:s1")
assert d["status"] == "RUNNING", d
# it waits in W; stop it: ABORTED when StopExecution returns
end = time.monotonic() + 30
while not any(e["type"] == "WaitStateEntered"
              for e in sfn.get_execution_history(executionArn=f"{X}:slow:s1")["events"]):
    assert time.monotonic() < end, "never reached its Wait"
    time.sleep(0.05)
t0 = time.monotonic()
sfn.stop_execution(executionArn=f"{X}:slow:s1", error="Operator", cause="enough")
d = sfn.describe_execution(executionArn=f"{X}:slow:s1")
assert d["status"] == "ABORTED" and d["error"] == "Operator" and d["cause"] == "enough", d
assert "stopDate" in d
ev = sfn.get_execution_history(executionArn=f"{X}:slow:s1", maxResults=1000)["events"]
assert ev[-1]["type"] == "ExecutionAborted", [e["type"] for e in ev]
assert ev[-1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "enough"}, ev[-1]
print(f"ok stopped mid-Wait: ABORTED in {time.monotonic() - t0:.2f} s")

# a Parallel whose branches run side by side (a Wait and a task), stopped
par = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}},
    {"StartAt": "S", "States": {"S": {"Type": "Task", "End": True,
        "Resource": "arn:aws:states:::sluice:test.sleep", "Parameters": {"seconds": 2}}}}]}}}
sfn.create_state_machine(name="par", definition=json.dumps(par),
                         roleArn="arn:aws:iam::000000000000:role/r")
arn = sfn.start_execution(stateMachineArn=f"{M}:par", name="p1")["executionArn"]
end = time.monotonic() + 30
while {"WaitStateEntered", "TaskStarted"} - {
        e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]}:
    assert time.monotonic() < end, "the branches did not both start"
    time.sleep(0.05)
sfn.stop_execution(executionArn=arn, error="Operator", cause="both")
d = sfn.describe_execution(executionArn=arn)
assert d["status"] == "ABORTED", d
ev = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
assert [e["id"] for e in ev] == list(range(1, len(ev) + 1)), [e["id"] for e in ev]
assert ev[-1]["type"] == "ExecutionAborted", [e["type"] for e in ev]
print("ok a Parallel running side by side stopped: ABORTED, its history whole,", len(ev), "events")

# (Debian's boto3 1.26 predates RedriveExecution: the AWS CLI redrives below.)
arn = sfn.start_execution(stateMachineArn=f"{M}:flaky", name="f1")["executionArn"]
d = until(arn, {"FAILED"})
assert d["error"] == "Flaky", d

# histories: pages of 2 forwards and backwards give the same events
arn = f"{X}:three:cli1"
full = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
pages = [p["events"] for p in sfn.get_paginator("get_execution_history").paginate(
    executionArn=arn, PaginationConfig={"PageSize": 2})]
assert all(len(p) <= 2 for p in pages) and sum(pages, []) == full, pages
back = sum([p["events"] for p in sfn.get_paginator("get_execution_history").paginate(
    executionArn=arn, reverseOrder=True, PaginationConfig={"PageSize": 2})], [])
assert back == full[::-1]
assert [e["id"] for e in full] == list(range(1, len(full) + 1))
bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False)["events"]
assert "input" not in bare[1]["stateEnteredEventDetails"], bare[1]
print("ok history:", len(full), "events, paged both ways")

# listing: paged, filtered by status
for i in range(5):
    sfn.start_execution(stateMachineArn=f"{M}:three", name=f"l{i}", input=json.dumps({"x": i}))
for i in range(5):
    until(f"{X}:three:l{i}", {"SUCCEEDED"})
names = [e["name"] for p in sfn.get_paginator("list_executions").paginate(
    stateMachineArn=f"{M}:three", PaginationConfig={"PageSize": 2}) for e in p["executions"]]
assert names == ["l4", "l3", "l2", "l1", "l0", "cli1"], names
assert [e["name"] for e in sfn.list_executions(stateMachineArn=f"{M}:slow",
                                               statusFilter="ABORTED")["executions"]] == ["s1"]
assert sfn.list_executions(stateMachineArn=f"{M}:slow", statusFilter="SUCCEEDED")["executions"] == []
print("ok listed in pages, newest first")

# refusals, each with AWS's name
bad = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}'
code, msg = error_of(sfn.create_state_machine, name="bad", definition=bad, roleArn="arn:aws:iam::0:role/r")
assert code == "InvalidDefinition" and "$.States.A.Next" in msg, (code, msg)
code, _ = error_of(sfn.create_state_machine, name="three",
                   definition=open(f"{t}/slow.json").read(), roleArn="arn:aws:iam::0:role/r")
assert code == "StateMachineAlreadyExists", code
code, _ = error_of(sfn.create_state_machine, name="a b", definition=bad, roleArn="r")
assert code == "InvalidName", code
code, _ = error_of(sfn.start_execution, stateMachineArn=f"{M}:nope")
assert code == "StateMachineDoesNotExist", code
code, _ = error_of(sfn.start_execution, stateMachineArn=f"{M}:three", input="{not json")
assert code == "InvalidExecutionInput", code
code, _ = error_of(sfn.describe_execution, executionArn=f"{X}:three:nope")
assert code == "ExecutionDoesNotExist", code
code, _ = error_of(sfn.describe_execution, executionArn="arn:aws:s3:::bucket")
assert code == "InvalidArn", code
code, _ = error_of(sfn.describe_state_machine, stateMachineArn=f"{M}:nope")
assert code == "StateMachineDoesNotExist", code
# update: a new definition for new executions; delete
sfn.create_state_machine(name="temp", definition=open(f"{t}/slow.json").read(), roleArn="r")
sfn.update_state_machine(stateMachineArn=f"{M}:temp", definition=open(f"{t}/three.json").read())
assert json.loads(sfn.describe_state_machine(stateMachineArn=f"{M}:temp")["definition"])["StartAt"] == "A"
sfn.delete_state_machine(stateMachineArn=f"{M}:temp")
code, _ = error_of(sfn.describe_state_machine, stateMachineArn=f"{M}:temp")
assert code == "StateMachineDoesNotExist", code
print("ok refusals: InvalidDefinition, StateMachineAlreadyExists, InvalidName, "
      "StateMachineDoesNotExist, InvalidExecutionInput, ExecutionDoesNotExist, InvalidArn")
PY
[ $? -eq 0 ] || fail "boto3 checks"

say "RedriveExecution: the failed task runs again, and succeeds"
# Neither Debian's boto3 (1.26) nor the AWS CLI here knows RedriveExecution
# or DescribeExecution's redrive members: those go as raw awsJson1_0 requests
# (unsigned: the server has no keys and listens on loopback).
raw_sfn() {   # raw_sfn OPERATION JSON: the answer's body, or "ERROR <type>"
    "$PY" - "$URL" "$1" "$2" <<'PY'
import json, sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1] + "/", method="POST", data=sys.argv[3].encode(),
    headers={"X-Amz-Target": "AWSStepFunctions." + sys.argv[2],
             "Content-Type": "application/x-amz-json-1.0"})
try:
    print(urllib.request.urlopen(req, timeout=10).read().decode())
except urllib.error.HTTPError as e:
    print("ERROR", json.loads(e.read())["__type"])
PY
}
redrive_status() {
    raw_sfn DescribeExecution "{\"executionArn\": \"$X:flaky:f1\"}" |
        "$PY" -c 'import json, sys; d = json.load(sys.stdin); print(d["redriveStatus"], d["redriveCount"])'
}
expect_eq "redrivable" "$(redrive_status)" "REDRIVABLE 0"
raw_sfn RedriveExecution "{\"executionArn\": \"$X:flaky:f1\"}" | grep -q redriveDate || fail "redrive"
wait_for 30 succeeded flaky:f1 || fail "f1 did not succeed: $(sfn describe-execution --execution-arn "$X:flaky:f1")"
sfn describe-execution --execution-arn "$X:flaky:f1" > "$T/out"
grep -qF '"output": "{\"attempts\":2}"' "$T/out" || { cat "$T/out"; fail "f1 after its redrive"; }
expect_eq "redriven once" "$(redrive_status)" "NOT_REDRIVABLE 1"
expect_eq "again" "$(raw_sfn RedriveExecution "{\"executionArn\": \"$X:flaky:f1\"}")" \
    "ERROR ExecutionNotRedrivable"
sfn get-execution-history --execution-arn "$X:flaky:f1" > "$T/out"
expect_eq "ExecutionRedriven events" "$(grep -c '"type": "ExecutionRedriven"' "$T/out")" 1

say "an unknown X-Amz-Target is refused, and the server stays up"
"$PY" - "$URL" <<'PY'
import json, sys, urllib.request, urllib.error
for target in ("Nope_2020.Op", "AWSStepFunctions.Nope"):
    req = urllib.request.Request(sys.argv[1] + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise SystemExit(f"{target} was served")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        assert e.code == 400 and "UnknownOperation" in body["__type"], (e.code, body)
print("ok unknown targets refused")
PY
sfn list-state-machines >/dev/null || fail "the server is gone"

say "a server killed mid-Wait: the next one resumes the execution"
sfn start-execution --state-machine-arn "$M:slow" --name k1 --input '{"wait": 2}' >/dev/null
in_wait() { sfn get-execution-history --execution-arn "$X:slow:k1" | grep -q WaitStateEntered; }
wait_for 30 in_wait || fail "k1 never reached its Wait"
kill_server
expect_eq "left running" "$(catalog_sql "SELECT status FROM flow_executions WHERE name = 'k1'")" RUNNING
start_server
wait_for 60 succeeded slow:k1 || fail "k1 was not resumed: $(sfn describe-execution --execution-arn "$X:slow:k1")"
sfn describe-execution --execution-arn "$X:slow:k1" | grep -qF '\"said\":\"woke\"' || fail "k1's output"
sfn get-execution-history --execution-arn "$X:slow:k1" > "$T/out"
expect_eq "the Wait entered again by the next server" "$(grep -c '"type": "WaitStateEntered"' "$T/out")" 2
expect_eq "one ExecutionStarted" "$(grep -c '"type": "ExecutionStarted"' "$T/out")" 1
expect_eq "resumed, says /metrics" "$(metric "$URL" sluice_flow_executions_resumed_total)" 1

say "a task longer than the lease keeps its execution: a second node does not take it"
stop_server
cat >> sluice.yaml <<'YAML'
flows:
  lease: 5
YAML
start_server
start_node b
cat > "$T/long.json" <<JSON
{"StartAt": "Long", "States": {"Long": {"Type": "Task", "Resource": "arn:aws:states:::sluice:command",
  "Parameters": {"command": ["sh", "-c", "echo started >> '$T/long.runs'; sleep 9; echo '{\\"ok\\": 1}'"]},
  "End": true}}}
JSON
sfn create-state-machine --name long --definition "file://$T/long.json" --role-arn r >/dev/null
sfn start-execution --state-machine-arn "$M:long" --name once >/dev/null
wait_for 60 succeeded long:once || fail "long:once did not succeed: $(sfn describe-execution --execution-arn "$X:long:once")"
expect_eq "the command ran" "$(wc -l < "$T/long.runs")" 1
expect_eq "node b resumed nothing" "$(metric "$b_url" sluice_flow_executions_resumed_total)" 0
stop_node b

say "a key whose policy allows one machine: refused on another"
cat > "$T/runner.json" <<JSON
{"Statement": [{"Effect": "Allow",
                "Action": ["states:StartExecution", "states:DescribeExecution"],
                "Resource": ["$M:three", "$X:three:*"]}]}
JSON
sluice keys add runner --policy "$T/runner.json" > "$T/runner.key.json"
# the running server reads the new key file: unsigned requests stop working
signed_only() { ! sfn list-state-machines --no-sign-request >/dev/null 2>&1; }
wait_for 30 signed_only || fail "the server still takes unsigned requests"
"$PY" - "$URL" "$T/runner.key.json" <<'PY'
import json, sys
import boto3, botocore.config
k = json.load(open(sys.argv[2]))["AccessKey"]
sfn = boto3.client("stepfunctions", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"],
                   config=botocore.config.Config(retries={"max_attempts": 1}))
M = "arn:aws:states:us-east-1:000000000000:stateMachine"
arn = sfn.start_execution(stateMachineArn=f"{M}:three", name="signed", input='{"x": 1}')["executionArn"]
assert sfn.describe_execution(executionArn=arn)["name"] == "signed"
for call, kw in ((sfn.start_execution, {"stateMachineArn": f"{M}:slow"}),
                 (sfn.list_state_machines, {})):
    try:
        call(**kw)
        raise SystemExit(f"{call.__name__} was allowed")
    except sfn.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "AccessDeniedException", e.response
print("ok the key runs 'three' only")
PY
[ $? -eq 0 ] || fail "policy checks"
