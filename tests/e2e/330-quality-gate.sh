#!/bin/sh
# 330-quality-gate.sh - a quality gate between raw and curated: a transform
# run whose rules fail is held (nothing visible, bookmark kept, staged files
# kept), listed by 'sluice staged', alerted to the log and to a webhook the
# test runs on loopback, and settled by 'sluice publish' or 'sluice
# discard'.  Deliveries are retried with backoff while the webhook is down
# or refusing, and resent by a restarted server; a warn ruleset publishes
# and alerts; a rule that cannot run holds; the gate's figures are
# compared with the test's own.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
mkdir -p quality
cat > quality/curated.orders.dqdl <<'DQDL'
Rules = [
  RowCount > 5,
  IsComplete "amount",
  ColumnValues "amount" between 0 and 10000
]
DQDL
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >> sluice.yaml <<YAML
alerts:
  webhooks: http://127.0.0.1:$PORT/hooks/quality
  secret_header: X-Sluice-Token
  secret_env: HOOK_TOKEN
  retry_after: 1
  max_attempts: 50
  timeout: 5
YAML
export HOOK_TOKEN=s3cret-token
HOOKS="$T/hooks.jsonl"
: > "$HOOKS"
HOOK_PID=
start_hook() {   # start_hook STATUS
    rm -f "$HOOKS.port"
    "$PY" "$SLUICE_SRC/tests/lib/webhook.py" "$PORT" "$HOOKS" "$1" &
    HOOK_PID=$!
    wait_for 30 test -s "$HOOKS.port" || fail "the webhook receiver did not start"
}
stop_hook() {
    [ -z "$HOOK_PID" ] || { kill "$HOOK_PID"; wait "$HOOK_PID" 2>/dev/null || true; }
    HOOK_PID=
}
trap 'st=$?; stop_hook; stop_server_quietly; set +e; (exit $st); cleanup' EXIT

# orders FILE FIRST N [NULL_EVERY]: N orders from id FIRST; every
# NULL_EVERY-th one without an amount
orders() {
    "$PY" - "$@" <<'PY'
import json, sys
path, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
every = int(sys.argv[4]) if len(sys.argv) > 4 else 0
with open(path, "w") as f:
    for i in range(first, first + n):
        r = {"order_id": i, "customer": "c%d" % (i % 7),
             "ordered_at": "2026-10-%02dT09:00:00Z" % (1 + i % 20)}
        if not every or (i - first) % every != every - 1:
            r["amount"] = "%d.25" % (i * 13 % 900)
        f.write(json.dumps(r) + "\n")
PY
}
bookmark() { catalog_sql "SELECT seq FROM bookmarks WHERE source = 'orders' AND job = 'transform'"; }
last_seq() { catalog_sql "SELECT MAX(seq) FROM raw_objects WHERE source = 'orders'"; }
alerts_of() { catalog_sql "SELECT COUNT(*) FROM alerts WHERE run_id = $1 AND webhook <> ''"; }
hook_has() { grep -q "$1" "$HOOKS"; }
hook_count_at_least() { [ "$(grep -c "$1" "$HOOKS")" -ge "$2" ]; }
alert_state_is() {
    [ "$(catalog_sql "SELECT state FROM alerts WHERE run_id = $1 AND webhook <> ''")" = "$2" ]
}
delivered_metric_is() { [ "$(metric "$URL" 'sluice_quality_alerts{state="delivered"}')" = "$1" ]; }

say "a run whose rules pass is published by its transform"
orders "$T/b1.jsonl" 1 10
sluice ingest --source orders "$T/b1.jsonl" >/dev/null
sluice transform --source orders > "$T/out" || { cat "$T/out"; fail "the first transform failed"; }
grep -q "gate curated.orders: 3 passed, 0 failed: passed" "$T/out" || { cat "$T/out"; fail "no gate line"; }
expect_eq "rows after a passing gate" "$(q 'SELECT COUNT(*) FROM curated.orders')" 10
expect_eq "alerts after a passing gate" "$(catalog_sql 'SELECT COUNT(*) FROM alerts')" 0
# (the three rules, and the drift of the numeric column 'amount')
expect_eq "the gate's evaluations are the run's" \
    "$(catalog_sql "SELECT COUNT(*) FROM quality_results WHERE run_id = (SELECT MAX(run_id) FROM runs WHERE kind = 'transform')")" 4
# the files a gate published keep their column statistics: readers prune them
sluice query --explain "SELECT count(*) FROM curated.orders WHERE ordered_at > '2027-01-01'" > "$T/explain"
grep -q "data files 0 of 1" "$T/explain" || { cat "$T/explain"; fail "a gated run's file is not pruned"; }
good_mark=$(bookmark)

say "a failing rule holds the run: nothing visible, the bookmark kept, an alert"
orders "$T/b2.jsonl" 11 15 5          # 3 of 15 without an amount
sluice ingest --source orders "$T/b2.jsonl" >/dev/null
if sluice transform --source orders > "$T/out" 2> "$T/err"; then
    cat "$T/out"; fail "a held transform exited 0"
fi
held=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
[ -n "$held" ] || fail "no held run"
grep -q "gate curated.orders: 1 passed, 2 failed: held" "$T/out" || { cat "$T/out"; fail "no held gate line"; }
grep -q "held by its quality gate: run $held waits for 'sluice publish $held'" "$T/out" ||
    { cat "$T/out"; fail "the transform does not say the run is held"; }
grep -q "sluice held run $held of curated.orders" "$T/err" || { cat "$T/err"; fail "no alert in the log"; }
expect_eq "rows while held" "$(q 'SELECT COUNT(*) FROM curated.orders')" 10
expect_eq "bookmark of the held run's source" "$(bookmark)" "$(last_seq)"
expect_eq "the held run's from_seq" "$(catalog_sql "SELECT from_seq FROM runs WHERE run_id = $held")" "$good_mark"
# the table as the run would leave it: 25 rows, 22 with an amount
want=$("$PY" -c 'print("%.10g" % (22 / 25))')
got=$(catalog_sql "SELECT metric FROM quality_results WHERE run_id = $held AND rule = 'IsComplete \"amount\"'")
expect_eq "IsComplete over the held table" "$("$PY" -c "print('%.10g' % float('$got'))")" "$want"
sluice staged > "$T/staged"
grep -q "run $held  transform of orders -> curated.orders  held since" "$T/staged" || { cat "$T/staged"; fail "staged lists no run"; }
grep -q "failed  IsComplete \"amount\"  \[$want\]" "$T/staged" || { cat "$T/staged"; fail "staged shows no failed rule"; }
grep -q "settle: sluice publish $held   or   sluice discard $held" "$T/staged" || fail "staged: no settling commands"
expect_eq "webhook alerts of the held run" "$(alerts_of "$held")" 1
expect_eq "its state with the webhook down" \
    "$(catalog_sql "SELECT state || ' ' || attempts FROM alerts WHERE run_id = $held AND webhook <> ''")" "pending 1"

say "while held, later input waits and nothing is alerted twice"
orders "$T/b3.jsonl" 26 3
sluice ingest --source orders "$T/b3.jsonl" >/dev/null
expect_fail "run $held of source 'orders' is held for a decision" sluice transform --source orders >/dev/null
expect_eq "alerts after a second transform" "$(catalog_sql 'SELECT COUNT(*) FROM alerts')" 2

say "the server delivers the pending alert once the webhook is up, with its secret"
start_hook 200
start_server
wait_for 60 hook_has "held run $held of" || { cat "$T/server.log"; fail "the alert was not delivered"; }
"$PY" - "$HOOKS" "$held" <<'PY' || fail "the delivered alert"
import json, sys
hooks = [json.loads(l) for l in open(sys.argv[1])]
held = sys.argv[2]
h = [x for x in hooks if "run %s of" % held in x["body"]["text"]][0]
assert h["path"] == "/hooks/quality", h["path"]
assert h["headers"]["x-sluice-token"] == "s3cret-token", h["headers"]
assert h["headers"]["content-type"] == "application/json"
t = h["body"]["text"]
for want in ("IsComplete \"amount\"", "observed 0.88", "sluice publish %s" % held,
             "sluice discard %s" % held, "2 of 3 rules failed"):
    assert want in t, (want, t)
assert h["body"]["sluice"] == {"run": int(held), "table": "curated.orders", "severity": "block"}
PY
wait_for 30 delivered_metric_is 2 ||
    fail "metrics: delivered alerts"
expect_eq "metrics: held runs" "$(metric "$URL" sluice_runs_held)" 1
grep -q "s3cret-token" "$T/server.log" lake/_catalog/catalog.db 2>/dev/null && fail "the secret was written down"

say "discard: the bookmark goes back, nothing of the run stays"
sluice discard "$held" | grep -q "run $held discarded"
expect_eq "bookmark after discard" "$(bookmark)" "$good_mark"
expect_eq "rows after discard" "$(q 'SELECT COUNT(*) FROM curated.orders')" 10
expect_fail "is discarded, not held" sluice publish "$held"

say "retries with backoff while the webhook refuses"
stop_hook
start_hook 503
if sluice transform --source orders > "$T/out" 2>&1; then cat "$T/out"; fail "the retransform was not held"; fi
held2=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
[ -n "$held2" ] && [ "$held2" != "$held" ] || fail "no new held run"
wait_for 60 hook_count_at_least "held run $held2 of" 3 || fail "no retries"
stop_hook
start_hook 200
wait_for 60 alert_state_is "$held2" delivered ||
    fail "the alert was not delivered after the refusals"
attempts=$(catalog_sql "SELECT attempts FROM alerts WHERE run_id = $held2 AND webhook <> ''")
[ "$attempts" -ge 4 ] || fail "attempts: $attempts"
"$PY" - "$HOOKS" "$held2" <<'PY' || fail "the retries' backoff"
import json, sys
# the refusals are answered at growing intervals: retry_after 1, 2, 4 ...
n = sum(1 for l in open(sys.argv[1]) if "run %s of" % sys.argv[2] in json.loads(l)["body"]["text"])
assert n >= 4, n
PY

say "publish: the held rows become visible, once"
sluice publish "$held2" | grep -q "run $held2 published"
expect_eq "rows after publish" "$(q 'SELECT COUNT(*) FROM curated.orders')" 28
expect_eq "bookmark after publish" "$(bookmark)" "$(last_seq)"
expect_eq "the run's account" "$(catalog_sql "SELECT CASE WHEN records_in = written + quarantined + duplicates THEN 1 ELSE 0 END FROM runs WHERE run_id = $held2")" 1
expect_fail "is published, not held" sluice publish "$held2"
expect_eq "nothing more to transform" "$(sluice transform --source orders)" \
    "nothing to do: source orders has no raw objects past its bookmark"

say "a warn ruleset publishes and alerts; a restarted server resends the alert"
stop_server
stop_hook
sed -i '1i # severity: warn' quality/curated.orders.dqdl
orders "$T/b4.jsonl" 29 4 2
sluice ingest --source orders "$T/b4.jsonl" >/dev/null
sluice transform --source orders > "$T/out" 2>&1 || { cat "$T/out"; fail "a warn gate failed the transform"; }
grep -q "passed with warnings" "$T/out" || { cat "$T/out"; fail "no warning"; }
expect_eq "rows after a warning" "$(q 'SELECT COUNT(*) FROM curated.orders')" 32
warned=$(catalog_sql "SELECT MAX(run_id) FROM runs WHERE kind = 'transform'")
expect_eq "the warning's state" "$(catalog_sql "SELECT severity || ' ' || state FROM alerts WHERE run_id = $warned AND webhook <> ''")" "warn pending"
start_hook 200
start_server
wait_for 60 hook_has "published run $warned of" || fail "the warning was not resent after the restart"
sluice alerts > "$T/alerts"
grep -q "run $warned  curated.orders        warn   delivered  http://127.0.0.1:$PORT\$" "$T/alerts" ||
    { cat "$T/alerts"; fail "sluice alerts"; }
# a webhook's path (Slack's holds its token) is never shown
grep -q "hooks/quality" "$T/alerts" "$T/server.log" && fail "a webhook's path was shown"
stop_server

say "a rule that cannot run holds the run, with the engine's error"
sed -i '1d' quality/curated.orders.dqdl
cat > quality/curated.orders.dqdl <<'DQDL'
Rules = [
  RowCount > 5,
  CustomSql "SELECT COUNT(*) FROM primary WHERE no_such_column > 0" = 0
]
DQDL
orders "$T/b5.jsonl" 33 2
sluice ingest --source orders "$T/b5.jsonl" >/dev/null
expect_fail "" sluice transform --source orders >/dev/null
held3=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
expect_eq "the failing SQL's outcome" \
    "$(catalog_sql "SELECT outcome FROM quality_results WHERE run_id = $held3 AND rule LIKE 'CustomSql%'")" error
catalog_sql "SELECT reason FROM quality_results WHERE run_id = $held3 AND rule LIKE 'CustomSql%'" | grep -q "no_such_column" ||
    fail "the reason does not name the SQL error"
sluice discard "$held3" >/dev/null
expect_eq "rows at the end" "$(q 'SELECT COUNT(*) FROM curated.orders')" 32

say "schema drift blocks when the ruleset says so"
cat > quality/curated.orders.dqdl <<'DQDL'
# drift: block
Rules = [ RowCount > 5 ]
DQDL
"$PY" - "$T/b6.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(40, 44):
        r = {"order_id": i, "customer": "c1", "amount": "3.50", "ordered_at": "2026-10-05T09:00:00Z"}
        if i % 2:
            r["coupon"] = "SPRING%d" % i
        f.write(json.dumps(r) + "\n")
PY
sluice ingest --source orders "$T/b6.jsonl" >/dev/null
if sluice transform --source orders > "$T/out" 2>&1; then cat "$T/out"; fail "drift did not hold the run"; fi
grep -q "gate curated.orders: 1 passed, 0 failed, schema drift: held" "$T/out" || { cat "$T/out"; fail "no drift in the gate line"; }
grep -q "schema drift: 2 records carry 'coupon', which the contract does not declare" "$T/out" ||
    { cat "$T/out"; fail "the drift's count"; }
held4=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
sluice staged | grep -q "2 records carry 'coupon'" || { sluice staged; fail "staged does not show the drift"; }
sluice publish "$held4" >/dev/null
# (this contract quarantines records with fields it does not declare)
expect_eq "rows after the drifted run is published" "$(q 'SELECT COUNT(*) FROM curated.orders')" 36
expect_eq "its quarantine" "$(q 'SELECT COUNT(*) FROM quarantine.orders')" 2
