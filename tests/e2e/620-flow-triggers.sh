#!/bin/sh
# 620-flow-triggers.sh - triggers declared next to a flow start its
# executions inside `sluice serve`: new raw objects (an S3 notification as
# the input, batched, never for objects from before the trigger), a held
# run (a flow that publishes it), the commit that follows (its snapshot
# as the input), a schedule at() in a time zone (once, with the
# scheduler's context attributes), a source's on_arrival: transform as a
# built-in flow; objects landed while no server ran fire at the next
# start, and two servers on one lake start each execution once.  Bad
# triggers files are refused with file and line.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
printf 'server:\n  region: eu-central-1\n' >> sluice.yaml   # ARNs and events name it
write_shop_orders
write_source events <<'YAML'
system: web
on_arrival: transform
contracts:
  - version: "1.0"
    key: [event_id]
    event_time: at
    columns:
      - {name: event_id, type: string, required: true}
      - {name: kind, type: string}
      - {name: at, type: timestamp, required: true}
YAML
orders() {  # orders FILE FIRST LAST
    "$PY" - "$@" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
        f.write(json.dumps({"order_id": i, "customer": "c%d" % (i % 5), "amount": "1.50",
                            "ordered_at": "2026-11-01T10:00:00Z"}) + "\n")
PY
}
orders "$T/o0.jsonl" 1 10
sluice ingest --source orders "$T/o0.jsonl" >/dev/null   # before any trigger: never fires

mkdir -p flows
cat > flows/arrived.asl.json <<'JSON'
{"StartAt": "Echo", "States": {
  "Echo": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo",
           "Parameters": {"keys.$": "$.Records[*].s3.object.key",
                          "events.$": "$.Records[*].eventName",
                          "seqs.$": "$.Records[*].sluice.seq"}, "End": true}}}
JSON
cat > flows/arrived.yaml <<'YAML'
triggers:
  - arrival: orders
YAML
cat > flows/gate.asl.json <<'JSON'
{"StartAt": "Publish", "States": {
  "Publish": {"Type": "Task", "Resource": "arn:aws:states:::sluice:publish",
              "Parameters": {"run.$": "$.detail.runId"}, "End": true}}}
JSON
cat > flows/gate.yaml <<'YAML'
triggers:
  - held: curated.orders
YAML
cat > flows/committed.asl.json <<'JSON'
{"StartAt": "Echo", "States": {
  "Echo": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo",
           "Parameters": {"table.$": "$.detail.table", "seq.$": "$.detail.sequenceNumber",
                          "type.$": "$.detail-type"}, "End": true}}}
JSON
cat > flows/committed.yaml <<'YAML'
triggers:
  - commit: curated.orders
YAML
cat > flows/tick.asl.json <<'JSON'
{"StartAt": "Echo", "States": {
  "Echo": {"Type": "Task", "Resource": "arn:aws:states:::sluice:test.echo", "End": true}}}
JSON
cat > flows/tick.yaml <<YAML
triggers:
  - schedule: cron(30 6 * * ? *)
    timezone: Europe/Berlin
YAML

say "bad triggers files: refused with file and line, by 'sluice triggers' and by serve"
mkdir -p "$T/bad"
cat > "$T/bad/a.yaml" <<'YAML'
triggers:
  - arrival: nosuch
YAML
cat > "$T/bad/b.yaml" <<'YAML'
triggers:
  - schedule: cron(0 6 * * * *)
YAML
cat > "$T/bad/c.yaml" <<'YAML'
triggers:
  - commit: orders
YAML
cat > "$T/bad/d.yaml" <<'YAML'
triggers:
  - held: orders
    timezone: UTC
YAML
cat > "$T/bad/e.yaml" <<'YAML'
triggers:
  - schedule: rate(5 minutes)
    timezone: Mars/Olympus
YAML
for f in a:"flows/bad.yaml:2:14: arrival: no source 'nosuch'" \
         b:"flows/bad.yaml:2:" \
         c:"commit: names a table as curated.NAME or gold.NAME, not 'orders'" \
         d:"flows/bad.yaml:3:15: timezone belongs to a schedule" \
         e:"Mars/Olympus"; do
    cp "$T/bad/${f%%:*}.yaml" flows/bad.yaml
    cp flows/tick.asl.json flows/bad.asl.json
    expect_fail "${f#*:}" sluice triggers
    expect_fail "${f#*:}" sluice serve --listen 127.0.0.1:0
done
cp flows/arrived.yaml flows/bad.yaml
rm flows/bad.asl.json
expect_fail "flows/bad.yaml: there is no" sluice triggers
rm flows/bad.yaml

say "sluice triggers lists them, with the next fire of each schedule"
sluice triggers > "$T/tl" || { cat "$T/tl"; fail "sluice triggers"; }
for k in "arrival:orders" "held:curated.orders" "commit:curated.orders" "schedule:cron(30 6 \* \* ? \*)@Europe/Berlin" "sluice-transform-events"; do
    grep -q "$k" "$T/tl" || { cat "$T/tl"; fail "no $k in sluice triggers"; }
done
sluice triggers --json > "$T/tj"
"$PY" - "$T/tj" <<'PY'
import datetime, json, sys, zoneinfo
rows = [json.loads(l) for l in open(sys.argv[1])]
cron = [r for r in rows if r["trigger"].startswith("schedule:cron")][0]
berlin = zoneinfo.ZoneInfo("Europe/Berlin")
now = datetime.datetime.now(berlin)
want = now.replace(hour=6, minute=30, second=0, microsecond=0)
if want <= now:
    want = (want + datetime.timedelta(days=1)).replace(hour=6, minute=30)
    want = datetime.datetime(want.year, want.month, want.day, 6, 30, tzinfo=berlin)
assert cron["next"] == int(want.timestamp() * 1000), (cron, want)
print("ok next cron fire", want.isoformat())
PY

# at(): 8 s from now on Kolkata's clock (UTC+5:30, no DST).
AT_LOCAL=$("$PY" -c 'import datetime as d; print((d.datetime.utcnow() + d.timedelta(hours=5, minutes=30, seconds=8)).strftime("%Y-%m-%dT%H:%M:%S"))')
AT_UTC=$("$PY" -c 'import datetime as d, sys; t = d.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S") - d.timedelta(hours=5, minutes=30); print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$AT_LOCAL")
cat >> flows/tick.yaml <<YAML
  - schedule: at($AT_LOCAL)
    timezone: Asia/Kolkata
    input: {"at": "<aws.scheduler.scheduled-time>", "name": "<aws.scheduler.execution-id>"}
YAML
SLUICE_LOG=info start_server  # the triggers say what they start

say "objects landed while it serves start the arrival flow; the one from before does not"
orders "$T/o1.jsonl" 11 20
orders "$T/o2.jsonl" 21 30
sluice ingest --source orders "$T/o1.jsonl" "$T/o2.jsonl" >/dev/null
done_arrivals() {
    [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'arrived' AND status = 'SUCCEEDED'")" -ge 1 ] &&
    [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'arrived' AND status <> 'SUCCEEDED'")" = 0 ]
}
arrived_keys() {
    catalog_sql "SELECT output FROM flow_executions WHERE machine = 'arrived' AND status = 'SUCCEEDED'" |
        "$PY" -c 'import json, sys
keys = [k for l in sys.stdin if l.strip() for k in json.loads(l)["keys"]]
print(len(keys), len(set(keys)))'
}
wait_until 60 done_arrivals || { cat "$T/server.log"; fail "no arrival execution"; }
two_seen() { [ "$(arrived_keys)" = "2 2" ]; }
wait_until 30 two_seen || true
expect_eq "objects seen, each once" "$(arrived_keys)" "2 2"
first_key=$(catalog_sql "SELECT key FROM raw_objects WHERE source = 'orders' ORDER BY seq LIMIT 1")
catalog_sql "SELECT output FROM flow_executions WHERE machine = 'arrived'" > "$T/outs"
grep -q "$first_key" "$T/outs" && fail "the object from before the trigger fired it"
grep -q '"ObjectCreated:Put"' "$T/outs" || { cat "$T/outs"; fail "not an S3 notification"; }
catalog_sql "SELECT input FROM flow_executions WHERE machine = 'arrived' LIMIT 1" > "$T/in"
"$PY" - "$T/in" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read())["Records"][0]
assert r["eventSource"] == "aws:s3" and r["eventVersion"] == "2.1", r
assert r["s3"]["bucket"]["name"] == "lake" and r["s3"]["object"]["key"].startswith("raw/orders/"), r
assert r["s3"]["object"]["size"] > 0 and len(r["s3"]["object"]["sequencer"]) == 16, r
assert r["eventTime"].endswith("Z") and r["sluice"]["source"] == "orders", r
assert r["awsRegion"] == "eu-central-1", r
print("ok the input is an S3 event notification")
PY

say "a run held by its gate: the held trigger's flow publishes it, and its commit fires the commit flow"
sluice transform --source orders --hold > "$T/out" || { cat "$T/out"; fail "transform --hold"; }
held=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
[ -n "$held" ] || fail "no held run"
published() { [ "$(catalog_sql "SELECT state FROM runs WHERE run_id = $held")" = published ]; }
wait_until 60 published || { cat "$T/server.log"; fail "the gate flow did not publish run $held"; }
# (the run is published before the execution records its end)
gate_done() { [ "$(catalog_sql "SELECT status FROM flow_executions WHERE machine = 'gate'")" = SUCCEEDED ]; }
wait_until 30 gate_done || true
expect_eq "the gate flow's execution" "$(catalog_sql "SELECT name, status FROM flow_executions WHERE machine = 'gate'")" \
    "held-curated.orders-$held|SUCCEEDED"
committed() { [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'committed' AND status = 'SUCCEEDED'")" -ge 1 ]; }
wait_until 60 committed || { cat "$T/server.log"; fail "the commit flow did not run"; }
out=$(catalog_sql "SELECT output FROM flow_executions WHERE machine = 'committed' AND status = 'SUCCEEDED'" | head -n 1)
"$PY" -c 'import json, sys
o = json.loads(sys.argv[1])
assert o["table"] == "curated.orders" and o["type"] == "Table Commit" and o["seq"] >= 1, o
print("ok commit event", o)' "$out"
expect_eq "curated rows" "$(q "SELECT count(*) FROM curated.orders")" 30

say "at() in Asia/Kolkata fires once, at $AT_UTC, with the scheduler's attributes"
ticked() { [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'tick' AND status = 'SUCCEEDED'")" -ge 1 ]; }
wait_until 60 ticked || { cat "$T/server.log"; fail "the schedule did not fire"; }
name=$(catalog_sql "SELECT name FROM flow_executions WHERE machine = 'tick'")
out=$(catalog_sql "SELECT output FROM flow_executions WHERE machine = 'tick'")
expect_eq "its input" "$out" "{\"at\":\"$AT_UTC\",\"name\":\"$name\"}"
started=$(catalog_sql "SELECT started_at FROM flow_executions WHERE machine = 'tick'")
"$PY" -c 'import datetime, sys
at = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
lag = int(sys.argv[2]) / 1000 - at.timestamp()
assert 0 <= lag < 10, lag
print("ok fired %.2f s after its time" % lag)' "$AT_UTC" "$started"

say "a flow added while it serves: its triggers run from when the server reads them"
cp flows/arrived.asl.json flows/late.asl.json
printf 'triggers:\n  - arrival: orders\n' > flows/late.yaml
late_seen() { [ "$(catalog_sql "SELECT count(*) FROM flow_triggers WHERE machine = 'late'")" = 1 ]; }
wait_until 30 late_seen || { cat "$T/server.log"; fail "the new flow's trigger was not read"; }
orders "$T/o7.jsonl" 71 75
sluice ingest --source orders "$T/o7.jsonl" >/dev/null
late_ran() { [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'late' AND status = 'SUCCEEDED'")" = 1 ]; }
wait_until 30 late_ran || { cat "$T/server.log"; fail "the new flow did not run"; }
out=$(catalog_sql "SELECT output FROM flow_executions WHERE machine = 'late'")
"$PY" -c 'import json, sys
keys = json.loads(sys.argv[1])["keys"]
assert len(keys) == 1, keys
print("ok the new flow saw only the object landed after it was read")' "$out"
rm flows/late.yaml flows/late.asl.json

say "on_arrival: transform is a built-in flow: an object landed by 'sluice ingest' is transformed"
printf '{"event_id": "e1", "kind": "view", "at": "2026-12-01T10:00:00Z"}\n{"event_id": "e2", "kind": "buy", "at": "2026-12-01T10:00:01Z"}\n' > "$T/e.jsonl"
sluice ingest --source events "$T/e.jsonl" >/dev/null
curated_events() { [ "$(q "SELECT count(*) FROM curated.events" 2>/dev/null)" = 2 ]; }
wait_until 60 curated_events || {
    cat "$T/server.log"
    catalog_sql "SELECT execution_id, machine, name, status, error, cause FROM flow_executions"
    catalog_sql "SELECT * FROM flow_triggers"
    fail "the built-in flow did not transform"
}
# (the transform commits before its execution records its end)
builtin_done() { [ "$(catalog_sql "SELECT status FROM flow_executions WHERE machine = 'sluice-transform-events'")" = SUCCEEDED ]; }
wait_until 30 builtin_done || true
expect_eq "its execution" "$(catalog_sql "SELECT status FROM flow_executions WHERE machine = 'sluice-transform-events'")" SUCCEEDED
AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y AWS_DEFAULT_REGION=eu-central-1 \
    awsk stepfunctions list-state-machines > "$T/sm"
for m in arrived gate committed tick sluice-transform-events; do
    grep -q "arn:aws:states:eu-central-1:000000000000:stateMachine:$m\"" "$T/sm" ||
        { cat "$T/sm"; fail "$m is not a state machine of the API (in server.region)"; }
done
metric "$URL" 'sluice_flow_triggered_total{kind="schedule"}' > "$T/m"
expect_eq "schedule fires counted" "$(cat "$T/m")" 1
stop_server

say "objects landed while no server runs fire at the next start, once"
before=$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'arrived'")
orders "$T/o3.jsonl" 31 40
sluice ingest --source orders "$T/o3.jsonl" >/dev/null
start_node a
start_node b
more() { [ "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'arrived' AND status = 'SUCCEEDED'")" -gt "$before" ]; }
wait_until 60 more || { cat "$T/a.log" "$T/b.log"; fail "the arrival while down did not fire"; }
say "two servers on one lake: each object starts one execution"
for i in 4 5 6; do
    orders "$T/o$i.jsonl" $((i * 10 + 1)) $((i * 10 + 10))
    sluice ingest --source orders "$T/o$i.jsonl" >/dev/null
done
all_seen() { [ "$(arrived_keys)" = "7 7" ]; }
wait_until 60 all_seen || { cat "$T/a.log" "$T/b.log"; fail "arrivals seen: $(arrived_keys), not 7 7"; }
expect_eq "the tick did not fire again" "$(catalog_sql "SELECT count(*) FROM flow_executions WHERE machine = 'tick'")" 1
stop_node a
stop_node b
say "ok"
