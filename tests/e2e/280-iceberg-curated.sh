#!/bin/sh
# 280-iceberg-curated.sh - curated tables are Apache Iceberg v2 tables that
# readers sluice did not write open as they are.
#
# After every run - a first load, merge-on-read updates (position deletes,
# one deletion file per day), a rewrite of small files, a held run before
# and after it is published - the table's current metadata (found through
# the catalog's iceberg_tables row, the layout of Iceberg's JDBC and SQL
# catalogs) is read by icebird, an npm Iceberg reader that applies position
# deletes, and its rows must equal `sluice query`'s.  The manifest lists and
# manifests are read by Debian's python3-avro and checked against the
# spec's Avro schemas, field ids, key-value metadata and counts, and every
# live file's size against its manifest entry.
. "$SLUICE_SRC/tests/e2e/lib.sh"

LIB="$SLUICE_SRC/tests/lib"
NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"
export NODE_MODULES

snapshots() { sluice snapshots --json "curated.$1" | wc -l | tr -d ' '; }
current_op() {
    sluice snapshots --json "curated.$1" | "$PY" -c 'import json, sys
snaps = [json.loads(l) for l in sys.stdin]
cur = [s for s in snaps if s["current"]]
print(cur[0]["summary"]["operation"], cur[0]["summary"]["total-records"])'
}

$PY "$SLUICE_SRC/bench/gen_orders.py" base 6000 "$T/base.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 3000 6000 "$T/d1.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2500 6000 "$T/d2.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2000 6000 "$T/d3.jsonl"

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml

say "a first load is an append snapshot"
sluice ingest --source orders "$T/base.jsonl" >/dev/null
sluice transform --source orders >/dev/null
conform orders
expect_eq "snapshots" "$(snapshots orders)" 1
rows=$(q "SELECT count(*) FROM curated.orders")
expect_eq "current snapshot" "$(current_op orders)" "append $rows"
expect_eq "catalog row" \
    "$(catalog_sql "SELECT iceberg_type FROM iceberg_tables WHERE table_name = 'orders'")" TABLE
expect_eq "namespace" "$(catalog_sql "SELECT property_value FROM iceberg_namespace_properties
    WHERE namespace = 'curated' AND property_key = 'exists'")" true

say "updates retire rows with position deletes, one file per day"
sluice ingest --source orders "$T/d1.jsonl" >/dev/null
sluice transform --source orders >/dev/null
conform orders
ndel=$(find lake/curated/orders/_deletes -name 'delete-*.parquet' | wc -l)
[ "$ndel" -ge 1 ] || fail "no deletion file"
for f in lake/curated/orders/_deletes/*.parquet; do
    expect_eq "days named by $f" \
        "$(q "SELECT count(DISTINCT regexp_extract(file_path, 'dt=([0-9-]+)/', 1))
              FROM read_parquet('$f')")" 1
    first=$(q "SELECT min(file_path) FROM read_parquet('$f')")
    case "$first" in
    "file://$PWD/lake/curated/orders/dt="*) ;;
    *) fail "$f names data files by '$first', not by their URI" ;;
    esac
done
[ "$(snapshots orders)" -ge 2 ] || fail "no second snapshot"

say "more runs, some rewriting small files"
for f in d2 d3; do
    sluice ingest --source orders "$T/$f.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
    conform orders
done
sluice verify >/dev/null || fail "verify after the runs"

say "a held run makes no snapshot until it is published"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 777 20000 "$T/h.jsonl"
before=$(metadata_of orders)
sluice ingest --source orders "$T/h.jsonl" >/dev/null
sluice transform --source orders --hold >"$T/held.out"
run=$(sed -n 's/.*run \([0-9][0-9]*\) .*held.*/\1/p' "$T/held.out" | head -1)
[ -n "$run" ] || run=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
expect_eq "pointer while held" "$(metadata_of orders)" "$before"
sluice runs publish "$run" >/dev/null
[ "$(metadata_of orders)" != "$before" ] || fail "publishing the held run made no snapshot"
conform orders
sluice verify >/dev/null || fail "verify after the publication"

say "snapshots are listed"
sluice snapshots curated.orders >"$T/snaps"
grep -q '(current)' "$T/snaps" || { cat "$T/snaps"; fail "no current snapshot listed"; }
expect_fail "no table curated.nosuch" sluice snapshots curated.nosuch
expect_fail "not NAMESPACE.TABLE" sluice snapshots orders

say "time travel: the first snapshot reads the first load"
first=$(sluice snapshots --json curated.orders | head -n 1 |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot_id"])')
expect_eq "rows at the first snapshot" \
    "$(sluice query --as-of "$first" --format csv "SELECT count(*) FROM curated.orders" | tail -n 1)" \
    "$rows"
# The metadata file that made it current, read by icebird, holds the same rows.
m1=$(ls "$PWD"/lake/curated/orders/metadata/00001-*.metadata.json)
node "$LIB/iceberg_read.mjs" "$m1" >"$T/ice1.jsonl" 2>/dev/null </dev/null || fail "icebird, version 1"
sluice query --as-of "$first" --format jsonl "SELECT * FROM curated.orders" >"$T/s1.jsonl"
"$PY" "$LIB/iceberg_compare.py" "$T/ice1.jsonl" "$T/s1.jsonl" || fail "as-of differs from icebird"
ts=$(sluice snapshots --json curated.orders | head -n 1 |
     "$PY" -c 'import json, sys, datetime
s = json.load(sys.stdin)
print(datetime.datetime.fromtimestamp(s["timestamp_ms"] / 1000, datetime.timezone.utc)
      .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))')
expect_eq "rows as of the first commit's time" \
    "$(sluice query --as-of "$ts" --format csv "SELECT count(*) FROM curated.orders" | tail -n 1)" \
    "$rows"
expect_fail "no snapshot as early as that" \
    sluice query --as-of 2020-01-01T00:00:00Z "SELECT count(*) FROM curated.orders"
expect_fail "is not a snapshot of any table" sluice query --as-of 42 "SELECT 1"

say "expiry keeps the current snapshot and removes what only old ones read"
cur=$(sluice snapshots --json curated.orders | "$PY" -c 'import json, sys
print([s for s in map(json.loads, sys.stdin) if s["current"]][0]["snapshot_id"])')
expect_fail "is the current snapshot" sluice expire curated.orders --snapshot "$cur"
before=$(find lake/curated/orders -type f | wc -l)
sluice query --format csv "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" > "$T/before.csv"
sluice expire curated.orders --older-than 0s > "$T/expire.out"
cat "$T/expire.out"
grep -q "snapshot(s) expired" "$T/expire.out" || fail "nothing expired"
expect_eq "snapshots left" "$(snapshots orders)" 1
[ "$(find lake/curated/orders -type f | wc -l)" -lt "$before" ] || fail "expiry removed no file"
sluice query --format csv "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" > "$T/after.csv"
cmp -s "$T/before.csv" "$T/after.csv" || fail "expiry changed the rows"
expect_fail "is not a snapshot of any table" sluice query --as-of "$first" "SELECT 1"
conform orders
sluice verify >/dev/null || fail "verify after expiry"

say "orphans: a file no metadata references, once old enough"
expect_eq "no orphans" "$(sluice orphans curated.orders --older-than 0s | tail -n 1)" \
    "curated.orders: 0 orphan file(s)"
echo stray > lake/curated/orders/metadata/stray.avro
touch -d '2 days ago' lake/curated/orders/metadata/stray.avro
echo young > lake/curated/orders/metadata/young.avro
sluice orphans curated.orders > "$T/orph"
grep -q "^curated/orders/metadata/stray.avro$" "$T/orph" || { cat "$T/orph"; fail "stray not listed"; }
grep -q "young" "$T/orph" && fail "a young file was listed"
sluice orphans curated.orders --delete >/dev/null
[ ! -e lake/curated/orders/metadata/stray.avro ] || fail "--delete left the orphan"
[ -e lake/curated/orders/metadata/young.avro ] || fail "--delete removed a young file"
conform orders

say "transforms expire snapshots past transform.keep_snapshots by themselves"
sluice init "$T/keep" >/dev/null
cd "$T/keep"
printf 'transform:\n  keep_snapshots: 5\n' >> sluice.yaml
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
n=0
while [ $n -lt 12 ]; do
    $PY "$SLUICE_SRC/bench/gen_orders.py" delta 50 $((1000 + n * 100)) "$T/k$n.jsonl"
    sluice ingest --source orders "$T/k$n.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
    n=$((n + 1))
done
expect_eq "snapshots kept" "$(snapshots orders)" 5
conform orders
sluice verify >/dev/null || fail "verify after automatic expiry"
expect_eq "orphans after automatic expiry" \
    "$(sluice orphans curated.orders --older-than 0s | tail -n 1)" "curated.orders: 0 orphan file(s)"
