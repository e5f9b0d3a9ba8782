#!/bin/sh
# 308-build-types.sh - the column types of gold tables and their evolution.
#
# A model's SELECT may give 32-bit integers and floats: the gold table
# keeps them as Iceberg int and float (integers past a long as decimals),
# icebird reads them as sluice query does, and manifests carry their
# bounds.  A later build that gives the same columns as BIGINT and DOUBLE
# widens them in place (an Iceberg schema update: the same field ids, the
# old files read as the new type, nothing rewritten); one that narrows
# them back is refused with what changed unless --full-refresh.  An int
# column is partitioned by truncate and bucket like a long.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders
"$PY" -c 'for i in range(300):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.25\", \"ordered_at\": \"2026-03-%02dT10:00:00Z\"}"
          % (i, i % 30, i * 3 - 200, 1 + i % 28))' > "$T/orders.jsonl"
sluice ingest --source orders "$T/orders.jsonl" >/dev/null
sluice transform --source orders >/dev/null

# types TABLE: "name:type:id ..." of the current schema.
types() {
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
s = [x for x in m["schemas"] if x["schema-id"] == m["current-schema-id"]][0]
print(" ".join("%s:%s:%d" % (f["name"], f["type"], f["id"]) for f in s["fields"]))' \
        "$(metadata_of "$1")"
}

mkdir -p models
narrow() {
    cat > models/figures.sql <<'SQL'
-- partition_by: truncate(10, qty)
SELECT order_id, CAST(order_id % 97 AS INTEGER) AS qty, CAST(order_id % 5 AS SMALLINT) AS small,
       CAST(amount AS FLOAT) AS ratio, CAST(order_id AS HUGEINT) * 1000000000000 AS big
FROM curated.orders
SQL
}
narrow

say "int, float and integers past a long"
sluice build >"$T/b1.out" || { cat "$T/b1.out"; fail "build"; }
cat "$T/b1.out"
expect_eq "the Iceberg types" "$(types gold.figures)" \
    "order_id:long:1 qty:int:2 small:int:3 ratio:float:4 big:decimal(38,0):5"
conform gold.figures
expect_eq "values" "$(q "SELECT sum(qty), sum(small), round(sum(ratio)), max(big) FROM gold.figures")" \
    "$(q "SELECT sum(order_id % 97), sum(order_id % 5), round(sum(CAST(amount AS FLOAT))), max(order_id) * 1000000000000 FROM curated.orders")"
"$PY" "$SLUICE_SRC/tests/lib/iceberg_entries.py" "$(metadata_of gold.figures)" 2>/dev/null \
    >"$T/entries.jsonl" || fail "python3-avro cannot read the manifests"
"$PY" -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e["content"] == 0:
        assert 0 <= e["partition"]["qty_trunc"] <= 90 and e["partition"]["qty_trunc"] % 10 == 0, e
print("truncate[10] of an int: partition values", sorted({e["partition"]["qty_trunc"] for e in map(json.loads, open(sys.argv[1]))}))' \
    "$T/entries.jsonl" || fail "the int partition values"

say "BIGINT and DOUBLE widen the same fields in place"
cat > models/figures.sql <<'SQL'
-- partition_by: truncate(10, qty)
SELECT order_id, CAST(order_id % 97 AS BIGINT) AS qty, CAST(order_id % 5 AS SMALLINT) AS small,
       CAST(amount AS DOUBLE) AS ratio, CAST(order_id AS HUGEINT) * 1000000000000 AS big
FROM curated.orders
SQL
sluice build figures >"$T/b2.out" || { cat "$T/b2.out"; fail "widening refused"; }
expect_eq "the widened types" "$(types gold.figures)" \
    "order_id:long:1 qty:long:2 small:int:3 ratio:double:4 big:decimal(38,0):5"
conform gold.figures

say "narrowing them back is refused unless --full-refresh"
narrow
snaps=$(sluice snapshots gold.figures | grep -c overwrite)
if sluice build figures >"$T/b3.out" 2>&1; then cat "$T/b3.out"; fail "narrowing taken"; fi
cat "$T/b3.out"
grep -q "column 'qty' changes from int64 to int" "$T/b3.out" || fail "what changed: qty"
grep -q "column 'ratio' changes from double to float" "$T/b3.out" || fail "what changed: ratio"
expect_eq "no snapshot" "$(sluice snapshots gold.figures | grep -c overwrite)" "$snaps"
sluice build --full-refresh figures >/dev/null || fail "--full-refresh"
expect_eq "rebuilt narrow, new ids" "$(types gold.figures)" \
    "order_id:long:1 qty:int:6 small:int:3 ratio:float:7 big:decimal(38,0):5"
conform gold.figures

say "an int is bucketed as a long is"
cat > models/by_bucket.sql <<'SQL'
-- partition_by: bucket(4, qty)
SELECT order_id, CAST(order_id % 97 AS INTEGER) AS qty FROM curated.orders
SQL
sluice build by_bucket >/dev/null || fail "bucket of an int"
check_partitions gold.by_bucket
conform gold.by_bucket
