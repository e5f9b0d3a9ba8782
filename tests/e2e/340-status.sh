#!/bin/sh
# 340-status.sh - requirements first: sluice.yaml declares two data
# products; 'sluice status' measures them against their declarations - one
# met (fresh event times, volume above its floor, gate passing) and one
# missed (event times days old, too few rows) - in text and JSON, with the
# figures compared with the test's own, and exits 1 until the miss is
# declared away.  A held run shows, /metrics exports the same gauges,
# 'blocking: false' turns a failing gate into a warning, and a bad
# declaration is refused naming sluice.yaml:LINE.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
write_source clicks <<'YAML'
system: web
contracts:
  - version: "1.0"
    key: [click_id]
    event_time: clicked_at
    columns:
      - {name: click_id, type: int64, required: true}
      - {name: page, type: string, required: true}
      - {name: clicked_at, type: timestamp, required: true}
YAML
mkdir -p quality
cat > quality/curated.orders.dqdl <<'DQDL'
Rules = [
  RowCount > 0,
  IsComplete "amount"
]
DQDL
cp sluice.yaml "$T/base.yaml"
# declare_products CLICKS_FRESHNESS CLICKS_VOLUME [ORDERS_EXTRA]: the products block
declare_products() {
    cp "$T/base.yaml" sluice.yaml
    cat >> sluice.yaml <<YAML
products:
  curated.orders:
    consumers: [finance-dashboard, churn-model]
    freshness: 1h
    blocking: true
    volume_per_day: 10
${3:-}
  curated.clicks:
    consumers: [web-analytics]
    freshness: $1
    volume_per_day: $2
YAML
}

# rows KIND FILE FIRST N AGE: N records from id FIRST, the newest AGE
# seconds old and each older one a minute before it; the newest event time
# (epoch seconds) to FILE.newest
rows() {
    "$PY" - "$@" <<'PY'
import datetime, json, sys, time
kind, path, first, n, age = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
newest = int(time.time()) - age
def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
with open(path, "w") as f:
    for i in range(n):
        t = newest - 60 * i
        if kind == "orders":
            r = {"order_id": first + i, "customer": "c%d" % (i % 3), "amount": "%d.50" % i,
                 "ordered_at": iso(t)}
        else:
            r = {"click_id": first + i, "page": "/p%d" % i, "clicked_at": iso(t)}
        f.write(json.dumps(r) + "\n")
open(path + ".newest", "w").write("%d\n" % newest)
PY
}
land() {   # land SOURCE FILE
    sluice ingest --source "$1" "$2" >/dev/null
    sluice transform --source "$1" > "$T/out" 2>&1 || { cat "$T/out"; fail "transform of $1"; }
}
block() { sed -n "/^$1:/,/^\$/p" "$T/status"; }
# verdict PRODUCT LINE: ok or MISSED, the last word of the line
verdict() { block "$1" | awk -v w="$2" '$1 == w { print $NF }'; }

say "no products declared: status says so and exits 0"
out=$(sluice status) || fail "status without products exited $?"
expect_eq "status without products" "$out" \
    "no data products declared: list them under 'products:' in sluice.yaml"

say "one product meets its requirements, the other misses freshness and volume"
rows orders "$T/o1.jsonl" 1 20 600          # newest 10 minutes old
rows clicks "$T/c1.jsonl" 1 5 259200        # newest 3 days old
land orders "$T/o1.jsonl"
land clicks "$T/c1.jsonl"
declare_products 1d 1000
if sluice status > "$T/status"; then cat "$T/status"; fail "status exited 0 with a miss"; fi
cat "$T/status"
block curated.orders | head -n 1 | grep -q "^curated.orders: ok  (consumers: finance-dashboard, churn-model)$" ||
    fail "the met product's head line"
for w in freshness gate held last volume; do
    expect_eq "orders $w" "$(verdict curated.orders "$w")" ok
done
expect_eq "clicks freshness" "$(verdict curated.clicks freshness)" MISSED
expect_eq "clicks volume" "$(verdict curated.clicks volume)" MISSED
expect_eq "clicks gate" "$(verdict curated.clicks gate)" ok
block curated.clicks | grep -q "newest data 3d old (event time clicked_at) *SLA 1d *MISSED" ||
    fail "the missed freshness line"
block curated.clicks | grep -q "5 rows in the last 24h *>= 1,000/day *MISSED" || fail "the missed volume line"
grep -q "MISSED" "$T/status" && ! grep -q "$(printf '\033')" "$T/status" ||
    fail "colour when stdout is no terminal"

say "the JSON fields match the test's own figures"
if sluice status --format json > "$T/status.json"; then fail "status --format json exited 0"; fi
orders_run=$(catalog_sql "SELECT MAX(run_id) FROM runs WHERE kind = 'transform' AND source = 'orders'")
"$PY" - "$T/status.json" "$(cat "$T/o1.jsonl.newest")" "$(cat "$T/c1.jsonl.newest")" "$orders_run" <<'PY' ||
import json, sys, time
doc = json.load(open(sys.argv[1]))
now = time.time()
o_newest, c_newest, o_run = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
p = {x["product"]: x for x in doc["products"]}
assert doc["ok"] is False, doc["ok"]
assert list(p) == ["curated.orders", "curated.clicks"], list(p)
o, c = p["curated.orders"], p["curated.clicks"]
assert o["ok"] is True and c["ok"] is False
assert o["consumers"] == ["finance-dashboard", "churn-model"], o["consumers"]
# ages: the status ran before now, after the data was written
for x, newest in ((o, o_newest), (c, c_newest)):
    age = x["freshness"]["age_seconds"]
    assert abs(age - (now - newest)) <= 120, (x["product"], age, now - newest)
    assert x["freshness"]["measured_from"] == "event time " + ("ordered_at" if x is o else "clicked_at")
assert o["freshness"]["sla_seconds"] == 3600 and o["freshness"]["ok"] is True
assert c["freshness"]["sla_seconds"] == 86400 and c["freshness"]["ok"] is False
# (the two rules, and the recorded drift of the numeric column amount)
assert o["gate"] == {"run": o_run, "outcome": "passed", "passed_rules": 3, "failed_rules": 0,
                     "blocking": True, "ok": True}, o["gate"]
assert c["gate"]["outcome"] == "none" and c["gate"]["ok"] is True
assert o["held"] == {"count": 0, "runs": [], "ok": True}, o["held"]
lr = o["last_run"]
assert lr["run"] == o_run and lr["kind"] == "transform", lr
assert lr["records_in"] == 20 and lr["written"] == 20 and lr["quarantined"] == 0
assert lr["balanced"] is True
assert o["volume"] == {"rows_24h": 20, "expected_per_day": 10, "ok": True}, o["volume"]
assert c["volume"] == {"rows_24h": 5, "expected_per_day": 1000, "ok": False}, c["volume"]
PY
    fail "the JSON status"

say "declared a week and five rows a day, the second product is met: exit 0"
declare_products 7d 5
sluice status > "$T/status" || { cat "$T/status"; fail "status exited $? with every requirement met"; }
expect_eq "clicks freshness with a week's SLA" "$(verdict curated.clicks freshness)" ok
expect_eq "clicks volume with a floor of 5" "$(verdict curated.clicks volume)" ok

say "a held run is a miss until it is published"
rows clicks "$T/c2.jsonl" 100 3 250000
sluice ingest --source clicks "$T/c2.jsonl" >/dev/null
sluice transform --source clicks --hold >/dev/null
held=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
[ -n "$held" ] || fail "no held run"
if sluice status > "$T/status"; then cat "$T/status"; fail "status exited 0 with a held run"; fi
block curated.clicks | grep -q "held runs  1 (run $held) *none *MISSED" ||
    { cat "$T/status"; fail "the held run's line"; }
sluice status --format json > "$T/status.json" || true
"$PY" -c 'import json, sys
p = {x["product"]: x for x in json.load(open(sys.argv[1]))["products"]}
assert p["curated.clicks"]["held"] == {"count": 1, "runs": [int(sys.argv[2])], "ok": False}, p
assert p["curated.clicks"]["volume"]["rows_24h"] == 5' "$T/status.json" "$held" || fail "held in JSON"

say "/metrics exports the same"
start_server
held_metric_is() {
    [ "$(metric "$URL" "sluice_product_held_runs{product=\"curated.clicks\"}")" = "$1" ]
}
wait_for 60 held_metric_is 1 || { cat "$T/server.log"; fail "metrics: the held run"; }
expect_eq "metrics: clicks SLA" \
    "$(metric "$URL" 'sluice_product_freshness_sla_seconds{product="curated.clicks"}')" 604800
expect_eq "metrics: clicks held requirement" \
    "$(metric "$URL" 'sluice_product_ok{product="curated.clicks",requirement="held"}')" 0
expect_eq "metrics: clicks freshness requirement" \
    "$(metric "$URL" 'sluice_product_ok{product="curated.clicks",requirement="freshness"}')" 1
expect_eq "metrics: orders all met" \
    "$(metric "$URL" 'sluice_product_ok{product="curated.orders",requirement="all"}')" 1
expect_eq "metrics: orders failed rules" \
    "$(metric "$URL" 'sluice_product_last_gate_failed_rules{product="curated.orders"}')" 0
age=$(metric "$URL" 'sluice_product_freshness_seconds{product="curated.orders"}')
"$PY" -c 'import sys, time
age, newest = int(sys.argv[1]), int(sys.argv[2])
assert abs(age - (time.time() - newest)) <= 120, (age, time.time() - newest)' \
    "$age" "$(cat "$T/o1.jsonl.newest")" || fail "metrics: the orders' age"
sluice publish "$held" >/dev/null
volume_metric_is() {
    [ "$(metric "$URL" "sluice_product_volume_rows_24h{product=\"curated.clicks\"}")" = "$1" ]
}
wait_for 60 volume_metric_is 8 || fail "metrics: the published run's rows"
expect_eq "metrics: no held run after publish" \
    "$(metric "$URL" 'sluice_product_held_runs{product="curated.clicks"}')" 0
stop_server
sluice status > "$T/status" || { cat "$T/status"; fail "status after publish exited $?"; }

say "blocking: false turns a failing gate into a warning: the run is published"
declare_products 7d 5 "    # failures only warn
"
sed -i 's/    blocking: true/    blocking: false/' sluice.yaml
cat > quality/curated.orders.dqdl <<'DQDL'
Rules = [
  RowCount > 1000
]
DQDL
rows orders "$T/o2.jsonl" 100 4 300
sluice ingest --source orders "$T/o2.jsonl" >/dev/null
sluice transform --source orders > "$T/out" 2>&1 || { cat "$T/out"; fail "a non-blocking gate failed the transform"; }
grep -q "gate curated.orders: 0 passed, 1 failed: passed with warnings" "$T/out" ||
    { cat "$T/out"; fail "no warning"; }
warned=$(catalog_sql "SELECT MAX(run_id) FROM runs WHERE kind = 'transform' AND source = 'orders'")
expect_eq "the warned run's state" "$(catalog_sql "SELECT state FROM runs WHERE run_id = $warned")" published
expect_eq "rows after the warning" "$(q 'SELECT COUNT(*) FROM curated.orders')" 24
expect_eq "the alert's severity" \
    "$(catalog_sql "SELECT DISTINCT severity FROM alerts WHERE run_id = $warned")" warn
if sluice status > "$T/status"; then cat "$T/status"; fail "status exited 0 after a failed gate"; fi
block curated.orders | grep -q "gate       failed, 1 of 2 rules (run $warned) *passing (warns) *MISSED" ||
    { cat "$T/status"; fail "the failed gate's line"; }
expect_eq "orders volume after the warned run" "$(verdict curated.orders volume)" ok

say "a bad declaration is refused with sluice.yaml:LINE"
declare_products 7d 5
sed -i 's/^    freshness: 1h$/    freshnes: 1h/' sluice.yaml
line=$(grep -n '^    freshnes: 1h$' sluice.yaml | cut -d: -f1)
expect_fail "sluice.yaml:$line: unknown key 'products.curated.orders.freshnes'" sluice status
declare_products "2 days" 5
line=$(grep -n '^    freshness: 2 days$' sluice.yaml | cut -d: -f1)
expect_fail "sluice.yaml:$line: key 'products.curated.clicks.freshness': '2 days' is no duration" sluice status
declare_products 7d 5
sed -i 's/^  curated.clicks:$/  raw.clicks:/' sluice.yaml
expect_fail "a data product is a table named curated.NAME or gold.NAME, not 'raw.clicks'" sluice status
say "ok"
