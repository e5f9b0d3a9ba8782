#!/bin/sh
# 288-iceberg-compact.sh - sluice compact rewrites a table's small files and
# deletes into files of the target size as an Iceberg "replace" snapshot
# with the very same rows; sluice maintain compacts, expires and removes
# orphans; sluice serve runs it on its schedule.
#
# Every compacted table is read by icebird (an Iceberg reader sluice did
# not write) and its Avro metadata checked by python3-avro (conform), the
# rows before and after are compared whole, and time travel to the
# snapshot before the compaction still reads the old files.
. "$SLUICE_SRC/tests/e2e/lib.sh"

current_op() {
    sluice snapshots --json "curated.$1" | "$PY" -c 'import json, sys
cur = [s for s in map(json.loads, sys.stdin) if s["current"]][0]
print(cur["summary"]["operation"], cur["snapshot_id"])'
}
rows_of() { # TABLE [--as-of X]
    t=$1
    shift
    sluice query "$@" --format csv "SELECT * EXCLUDE (_ingested_at) FROM curated.$t ORDER BY ALL"
}
data_files() {
    sluice snapshots --json "curated.$1" | "$PY" -c 'import json, sys
cur = [s for s in map(json.loads, sys.stdin) if s["current"]][0]
print(cur["summary"]["total-data-files"], cur["summary"]["total-delete-files"])'
}

# A base of 40,000 orders over October (about 1,300 a day: one file a day
# at or above three quarters of max_file_rows 1,000, so not small) and
# deltas whose updates put deletes on those files and whose new keys add a
# small file a day each.  (A delta's new keys follow its BASE_N: each
# delta names another, so that its new keys are new.)
$PY "$SLUICE_SRC/bench/gen_orders.py" base 40000 "$T/base.jsonl"
for n in 1500 1600 1700 1800; do
    $PY "$SLUICE_SRC/bench/gen_orders.py" delta "$n" $((40000 + (n - 1500) * 20)) "$T/d$n.jsonl"
done

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
printf 'transform:\n  max_file_rows: 1000\nmaintenance:\n  every: 0\n' >> sluice.yaml

say "many small files and deletes"
sluice ingest --source orders "$T/base.jsonl" >/dev/null
sluice transform --source orders >/dev/null
for n in 1500 1600 1700; do
    sluice ingest --source orders "$T/d$n.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
done
set -- $(data_files orders)
files0=$1 deletes0=$2
[ "$files0" -gt 60 ] || fail "expected many data files, got $files0"
[ "$deletes0" -gt 0 ] || fail "expected delete files"
rows_of orders >"$T/before.csv"
before_snap=$(current_op orders | cut -d' ' -f2)

say "compact: fewer files, the same rows, a replace snapshot"
sluice compact curated.orders >"$T/compact.out"
cat "$T/compact.out"
grep -q "snapshot .* (replace)" "$T/compact.out" || fail "no replace snapshot said"
expect_eq "operation" "$(current_op orders | cut -d' ' -f1)" replace
set -- $(data_files orders)
[ "$1" -lt "$files0" ] || fail "compaction left $1 data files of $files0"
expect_eq "delete files after" "$2" 0
rows_of orders >"$T/after.csv"
cmp -s "$T/before.csv" "$T/after.csv" || fail "compaction changed the rows"
conform orders
sluice verify >/dev/null || fail "verify after compaction"
expect_eq "run kind" "$(catalog_sql "SELECT kind FROM runs ORDER BY run_id DESC LIMIT 1")" compact
# No output file grows past the target unless its only input did.
"$PY" "$SLUICE_SRC/tests/lib/iceberg_entries.py" "$(metadata_of orders)" 2>/dev/null |
    "$PY" -c 'import json, sys
added = [e for e in map(json.loads, sys.stdin) if e["status"] == 1]
big = [e["records"] for e in added if e["records"] > 1000]
# a file rewritten alone (it had deletes) may keep its size
assert len(big) <= 31, big
print(len(added), "files added,", len(big), "past the target")' ||
    fail "a compacted file passes max_file_rows"

say "time travel reads the snapshot before the compaction"
rows_of orders --as-of "$before_snap" >"$T/asof.csv"
cmp -s "$T/before.csv" "$T/asof.csv" || fail "as-of the old snapshot differs"

say "a compacted table goes on taking runs"
sluice ingest --source orders "$T/d1800.jsonl" >/dev/null
sluice transform --source orders >/dev/null
conform orders
sluice verify >/dev/null || fail "verify after a run on the compacted table"
expect_eq "keys are unique" "$(q "SELECT count(*) - count(DISTINCT order_id) FROM curated.orders")" 0

say "nothing to do is said, and changes nothing"
sluice compact curated.orders >/dev/null
m=$(metadata_of orders)
sluice compact curated.orders >"$T/again.out"
grep -q "nothing to compact" "$T/again.out" || { cat "$T/again.out"; fail "second compaction"; }
expect_eq "metadata unchanged" "$(metadata_of orders)" "$m"

say "bad input"
expect_fail "no table curated.nosuch" sluice compact curated.nosuch
expect_fail "is not a curated table" sluice compact raw.orders
expect_fail "name one table" sluice compact
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 300 48000 "$T/h.jsonl"
sluice ingest --source orders "$T/h.jsonl" >/dev/null
sluice transform --source orders --hold >/dev/null
m=$(metadata_of orders)
expect_fail "is held for a decision" sluice compact curated.orders
expect_eq "metadata while held" "$(metadata_of orders)" "$m"
sluice runs publish "$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")" >/dev/null

say "maintain: compaction, expiry past keep_snapshots, old orphans"
printf 'transform:\n  max_file_rows: 1000\n  keep_snapshots: 2\nmaintenance:\n  every: 0\n' \
    > sluice.yaml.new
grep -v -e '^transform:' -e '^  max_file_rows' -e '^maintenance:' -e '^  every' sluice.yaml \
    >> sluice.yaml.new
mv sluice.yaml.new sluice.yaml
echo stray > lake/curated/orders/stray.parquet
touch -d '3 days ago' lake/curated/orders/stray.parquet
echo young > lake/curated/orders/young.parquet
rows_of orders >"$T/before.csv"
sluice maintain >"$T/maintain.out"
cat "$T/maintain.out"
grep -q "curated.orders: .*snapshot(s) expired" "$T/maintain.out" || fail "no expiry said"
grep -q "curated.orders: 1 orphan file(s) removed" "$T/maintain.out" || fail "orphans"
[ ! -e lake/curated/orders/stray.parquet ] || fail "the old orphan is still there"
[ -e lake/curated/orders/young.parquet ] || fail "a young file was removed"
rm lake/curated/orders/young.parquet
[ "$(sluice snapshots --json curated.orders | wc -l)" -le 2 ] || fail "snapshots kept past 2"
rows_of orders >"$T/after.csv"
cmp -s "$T/before.csv" "$T/after.csv" || fail "maintain changed the rows"
conform orders
sluice verify >/dev/null || fail "verify after maintain"
expect_fail "is not a curated or gold table" sluice maintain quarantine.orders

say "sluice serve maintains the tables on its schedule"
for n in 1 2 3; do
    $PY "$SLUICE_SRC/bench/gen_orders.py" delta 200 $((50000 + n * 1000)) "$T/s$n.jsonl"
    sluice ingest --source orders "$T/s$n.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
done
[ "$(current_op orders | cut -d' ' -f1)" != replace ] || fail "already compacted"
rows_of orders >"$T/before.csv"
sed -i 's/^  every: 0$/  every: 1/' sluice.yaml
start_server
replaced() { [ "$(current_op orders | cut -d' ' -f1)" = replace ]; }
wait_for 120 replaced || { cat "$T/server.log"; fail "the server never compacted"; }
rounds() { [ "$(metric "$URL" sluice_maintenance_rounds_total)" -ge 1 ] 2>/dev/null; }
wait_for 120 rounds || fail "no maintenance round counted"
stop_server
rows_of orders >"$T/after.csv"
cmp -s "$T/before.csv" "$T/after.csv" || fail "the server's maintenance changed the rows"
conform orders
sluice verify >/dev/null || fail "verify after the server's maintenance"
say "ok"
