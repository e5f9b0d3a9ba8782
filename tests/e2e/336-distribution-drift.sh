#!/bin/sh
# 336-distribution-drift.sh - numeric columns' distribution drift: each
# gate profiles them (deciles kept in the catalog), a later evaluation's
# PSI against the mean of the last profiles is a metric that
# DistributionDrift rules use, and a shifted distribution holds the run.
# The test recomputes the deciles (exactly, against DuckDB's approximate
# ones) and the PSI from the stored baseline and the table's rows itself.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
mkdir -p quality
cat > quality/curated.orders.dqdl <<'DQDL'
Rules = [ RowCount > 0, DistributionDrift "amount" < 0.25 ]
DQDL
batch() {   # batch K MEAN: 1000 orders from id K*1000, amounts around MEAN
    "$PY" - "$T/b$1.jsonl" "$1" "$2" <<'PY'
import json, random, sys
path, k, mean = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rnd = random.Random(k)
with open(path, "w") as f:
    for i in range(k * 1000, k * 1000 + 1000):
        f.write(json.dumps({"order_id": i, "customer": "c%d" % (i % 9),
                            "amount": "%.2f" % abs(rnd.gauss(mean, 15)),
                            "ordered_at": "2026-10-01T10:00:00Z"}) + "\n")
PY
    sluice ingest --source orders "$T/b$1.jsonl" >/dev/null
}

say "the first gate has no baseline: it profiles and passes"
batch 0 100
sluice transform --source orders > "$T/out" || { cat "$T/out"; fail "first run"; }
expect_eq "profiles after one run" "$(catalog_sql "SELECT COUNT(*) FROM quality_profiles WHERE column_name = 'amount'")" 1
expect_eq "other numeric columns are profiled, the key is not" \
    "$(catalog_sql "SELECT COUNT(*) FROM quality_profiles WHERE column_name = 'order_id'")" 0

say "the same distribution again: a small PSI"
batch 1 100
sluice transform --source orders > "$T/out" || { cat "$T/out"; fail "second run"; }
batch 2 100
sluice transform --source orders > "$T/out" || { cat "$T/out"; fail "third run"; }

say "a shifted distribution: the PSI the test computes, and the run held"
batch 3 170
if sluice transform --source orders > "$T/out" 2>&1; then cat "$T/out"; fail "the shift was not held"; fi
held=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
catalog_sql "SELECT deciles FROM quality_profiles WHERE column_name = 'amount' AND run_id <> $held ORDER BY evaluated_at" > "$T/base"
got=$(catalog_sql "SELECT metric FROM quality_results WHERE run_id = $held AND rule LIKE 'DistributionDrift%'")
"$PY" - "$T" "$got" <<'PY' || fail "the PSI"
import json, math, sys
t, got = sys.argv[1], float(sys.argv[2])
profiles = [[float(x) for x in l.split()] for l in open(t + "/base") if l.strip()]
assert len(profiles) == 3, profiles
edges = [sum(p[j] for p in profiles) / len(profiles) for j in range(9)]
for j in range(1, 9):
    edges[j] = max(edges[j], edges[j - 1])
amounts = []
for k in range(4):
    amounts += [float(json.loads(l)["amount"]) for l in open("%s/b%d.jsonl" % (t, k))]
# the stored deciles of the first run are DuckDB's approximate ones: near
# the exact deciles of batch 0
first = sorted(float(json.loads(l)["amount"]) for l in open(t + "/b0.jsonl"))
for j, q in enumerate(profiles[0]):
    exact = first[int(round((j + 1) / 10 * (len(first) - 1)))]
    assert abs(q - exact) < 3.0, (j, q, exact)
# the PSI of the whole table (4000 rows) over the baseline's bins
counts = [0] * 10
for a in amounts:
    b = 0
    while b < 9 and a > edges[b]:
        b += 1
    counts[b] += 1
psi = 0.0
for c in counts:
    x = max(c / len(amounts), 0.0001)
    psi += (x - 0.1) * math.log(x / 0.1)
assert abs(psi - got) < 1e-9, (psi, got)
assert got >= 0.25, got
PY
grep -q "DistributionDrift \"amount\" < 0.25" "$T/out" || fail "the held run names the rule"
sluice discard "$held" >/dev/null
expect_eq "the discarded run's profile is not in the baseline" \
    "$(catalog_sql "SELECT COUNT(*) FROM quality_profiles WHERE run_id = $held")" 1

say "a check on demand reads the same baseline; a file has none"
sluice check curated.orders --format json > "$T/check.json" || true
grep -q '"rule":"DistributionDrift \\"amount\\" < 0.25","outcome":"passed"' "$T/check.json" ||
    { cat "$T/check.json"; fail "the check of the published table"; }
sluice query --format csv "SELECT * FROM curated.orders" > "$T/orders.csv"
sluice check "$T/orders.csv" --ruleset quality/curated.orders.dqdl --format json > "$T/file.json" || true
grep -q '"outcome":"error".*history of a table' "$T/file.json" || { cat "$T/file.json"; fail "a file's drift rule"; }
