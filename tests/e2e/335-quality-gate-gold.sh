#!/bin/sh
# 335-quality-gate-gold.sh - a quality gate before a gold model's commit:
# the build's snapshot is staged (write-audit-publish: in the table's
# metadata, main left where it was), its rules are evaluated over it, and
# a failure holds the build - readers see the previous snapshot, the models
# that read it are skipped, the next build of it waits - until 'sluice
# publish' makes the staged snapshot current or 'sluice discard' drops it.
# An incremental merge model is gated the same way.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
orders() {   # orders FIRST N
    "$PY" -c 'import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.50\", \"ordered_at\": \"2026-03-1%dT10:00:00Z\"}"
          % (i, i % 8, i % 97, i % 10))' "$@"
}
orders 0 40 > "$T/o1.jsonl"
sluice ingest --source orders "$T/o1.jsonl" >/dev/null
sluice transform --source orders >/dev/null

mkdir -p models quality
cat > models/totals.sql <<'SQL'
-- materialized: table
SELECT customer, count(*) AS orders, sum(amount) AS total FROM curated.orders GROUP BY customer
SQL
cat > models/top.sql <<'SQL'
-- materialized: table
SELECT customer FROM gold.totals WHERE orders >= 5
SQL
cat > models/latest.sql <<'SQL'
-- materialized: incremental
-- strategy: merge
-- unique_key: customer
SELECT customer, max(order_id) AS last_order FROM curated.orders GROUP BY customer
SQL
cat > quality/gold.totals.dqdl <<'DQDL'
Rules = [ RowCount between 5 and 9, Sum "orders" = 40 ]
DQDL
cat > quality/gold.latest.dqdl <<'DQDL'
Rules = [ IsPrimaryKey "customer", RowCount <= 8 ]
DQDL
snapshot_of() { catalog_sql "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'gold' AND table_name = '$1'"; }

say "rules that pass: built and published by the build"
sluice build > "$T/out" || { cat "$T/out"; fail "the first build failed"; }
grep -q "gate gold.totals: 2 passed, 0 failed: passed" "$T/out" || { cat "$T/out"; fail "no gate line"; }
expect_eq "totals" "$(q 'SELECT COUNT(*), SUM(orders) FROM gold.totals')" "8,40"
expect_eq "top" "$(q 'SELECT COUNT(*) FROM gold.top')" 8

say "a failing rule holds the build; readers keep the last snapshot; its readers are skipped"
orders 40 60 > "$T/o2.jsonl"          # 100 orders: Sum "orders" = 40 fails
sluice ingest --source orders "$T/o2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
before=$(snapshot_of totals)
if sluice build > "$T/out" 2> "$T/err"; then cat "$T/out"; fail "a held build exited 0"; fi
cat "$T/out"
held=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held' AND kind = 'build'")
[ -n "$held" ] || fail "no held build"
grep -q "HELD     gold.totals .* run $held waits for 'sluice publish $held'" "$T/out" || fail "no HELD line"
grep -q "skipped  gold.top .*gold.totals" "$T/out" || fail "top was not skipped"
grep -q "built    gold.latest" "$T/out" || fail "latest (gate passed) was not built"
grep -q "3 model(s): 1 built, 0 failed, 1 held, 1 skipped" "$T/out" || fail "the summary"
expect_eq "totals while held" "$(q 'SELECT COUNT(*), SUM(orders) FROM gold.totals')" "8,40"
expect_eq "the table's main while held" "$(snapshot_of totals | grep -c .)" 1
"$PY" - "$(snapshot_of totals)" <<'PY' || fail "the staged snapshot"
import json, sys
m = json.load(open(sys.argv[1].replace("file://", "")))
snaps = m["snapshots"]
assert len(snaps) == 2, snaps
staged = [s for s in snaps if s["snapshot-id"] != m["current-snapshot-id"]][0]
assert staged["parent-snapshot-id"] == m["current-snapshot-id"]
assert m["refs"]["main"]["snapshot-id"] == m["current-snapshot-id"]
PY
metric=$(catalog_sql "SELECT metric FROM quality_results WHERE run_id = $held AND rule = 'Sum \"orders\" = 40'")
expect_eq "the gate read the staged rows" "$("$PY" -c "print(int(float('$metric')))")" 100
sluice staged | grep -q "run $held  build of totals -> gold.totals" || fail "staged does not list the build"
# expiry keeps a staged snapshot, whatever it is asked
staged_id=$(sluice snapshots --json gold.totals | "$PY" -c 'import json, sys
print([s["snapshot_id"] for s in map(json.loads, sys.stdin) if not s["current"]][0])')
expect_fail "is staged, waiting for its audit" sluice expire gold.totals --snapshot "$staged_id"
sluice expire gold.totals --older-than 0s --retain-last 1 >/dev/null
sluice snapshots --json gold.totals | grep -q "$staged_id" || fail "expiry took the staged snapshot"
if sluice build totals > "$T/out" 2>&1; then fail "a build on a held one went ahead"; fi
grep -q "FAILED   gold.totals .*build $held of gold.totals is held by its quality gate" "$T/out" ||
    { cat "$T/out"; fail "the next build does not say why it waits"; }

say "publish: the staged snapshot becomes current; top builds on it"
sluice publish "$held" | grep -q "run $held published"
expect_eq "totals after publish" "$(q 'SELECT COUNT(*), SUM(orders) FROM gold.totals')" "8,100"
sluice build top >/dev/null
expect_eq "top after publish" "$(q 'SELECT COUNT(*) FROM gold.top')" 8
expect_eq "the build's record" "$(catalog_sql "SELECT COUNT(*) FROM model_builds WHERE run_id = $held")" 1

say "discard: the staged snapshot is dropped, the build forgotten"
cat > quality/gold.totals.dqdl <<'DQDL'
Rules = [ RowCount > 100 ]
DQDL
if sluice build totals > "$T/out" 2>&1; then cat "$T/out"; fail "not held"; fi
held2=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held' AND kind = 'build'")
current=$(snapshot_of totals)
sluice discard "$held2" | grep -q "run $held2 discarded"
expect_eq "totals after discard" "$(q 'SELECT COUNT(*), SUM(orders) FROM gold.totals')" "8,100"
expect_eq "the discarded build's record" "$(catalog_sql "SELECT COUNT(*) FROM model_builds WHERE run_id = $held2")" 0
"$PY" - "$(snapshot_of totals)" "$held2" "$held" <<'PY' || fail "the dropped snapshot"
import json, sys
m = json.load(open(sys.argv[1].replace("file://", "")))
runs = [s["summary"].get("sluice.run-id") for s in m["snapshots"]]
assert sys.argv[2] not in runs, runs            # the discarded build's is gone
current = [s for s in m["snapshots"] if s["snapshot-id"] == m["current-snapshot-id"]][0]
assert current["summary"]["sluice.run-id"] == sys.argv[3], current   # the published one
PY
expect_fail "is discarded, not held" sluice discard "$held2"
sluice verify >/dev/null || fail "verify after the decisions"

say "an incremental merge model held, then published"
cat > quality/gold.latest.dqdl <<'DQDL'
Rules = [ IsPrimaryKey "customer", ColumnValues "last_order" < 100 ]
DQDL
orders 100 10 > "$T/o3.jsonl"
sluice ingest --source orders "$T/o3.jsonl" >/dev/null
sluice transform --source orders >/dev/null
if sluice build latest > "$T/out" 2>&1; then cat "$T/out"; fail "latest was not held"; fi
held3=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held' AND kind = 'build'")
expect_eq "latest while held" "$(q 'SELECT MAX(last_order) FROM gold.latest')" 99
sluice publish "$held3" >/dev/null
expect_eq "latest after publish" "$(q 'SELECT COUNT(*), MAX(last_order) FROM gold.latest')" "8,109"
expect_eq "one row per customer" "$(q 'SELECT COUNT(DISTINCT customer) FROM gold.latest')" 8
