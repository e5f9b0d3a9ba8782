#!/bin/sh
# 301-build.sh - sluice build: gold models over curated tables, in
# dependency order, each one commit of an Iceberg table.
#
# A table model and a view over it and a table over that view build in
# order; icebird reads each gold table with the rows sluice query gives,
# and the rows are the SELECT's over curated.  A rebuild after new data is
# an overwrite snapshot; the build records the snapshots it read.  A model
# with an SQL error fails with file:line:column, commits nothing, and the
# models that read it are skipped while the others build.  A dropped
# column is refused unless --full-refresh; a widened decimal is taken.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders

# orders FIRST N: N orders from id FIRST, customers c0..c49.
orders() {
    "$PY" -c 'import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-0%d-1%dT10:00:00Z\"}"
          % (i, i % 50, i % 997, i % 100, 1 + i % 9, i % 10))' "$@"
}
orders 0 3000 > "$T/o1.jsonl"
sluice ingest --source orders "$T/o1.jsonl" >/dev/null
sluice transform --source orders >/dev/null

mkdir -p models
cat > models/customer_totals.sql <<'SQL'
-- materialized: table
-- description: one row per customer
SELECT customer, count(*) AS orders, sum(amount) AS total,
       min(ordered_at) AS first_order
FROM curated.orders
GROUP BY customer;
SQL
cat > models/big_customers.sql <<'SQL'
-- materialized: view
SELECT customer, total FROM gold.customer_totals WHERE orders >= 60
SQL
cat > models/big_summary.sql <<'SQL'
SELECT count(*) AS customers, sum(total) AS total FROM gold.big_customers
SQL

say "three models build in dependency order"
sluice build >"$T/build.out" || { cat "$T/build.out"; fail "build"; }
cat "$T/build.out"
expect_eq "order" "$(awk '$1 == "built" {print $2}' "$T/build.out" | tr '\n' ' ')" \
    "gold.customer_totals gold.big_customers gold.big_summary "
grep -q "^3 model(s): 3 built, 0 failed, 0 held, 0 skipped" "$T/build.out" || fail "summary"

say "the gold tables hold the SELECT's rows; icebird reads them alike"
expect_eq "totals" "$(q "SELECT count(*), sum(orders), sum(total) FROM gold.customer_totals")" \
    "$(q "SELECT count(DISTINCT customer), count(*), sum(amount) FROM curated.orders")"
expect_eq "view" "$(q "SELECT count(*) FROM gold.big_customers")" \
    "$(q "SELECT count(*) FROM (SELECT customer FROM curated.orders GROUP BY customer HAVING count(*) >= 60)")"
expect_eq "summary" "$(q "SELECT customers, total FROM gold.big_summary")" \
    "$(q "SELECT count(*), sum(total) FROM gold.customer_totals WHERE orders >= 60")"
conform gold.customer_totals
conform gold.big_summary

say "the build records the snapshot of each table it read"
cur=$(catalog_sql "SELECT r.snapshot_id FROM build_inputs r JOIN model_builds b USING (run_id)
    WHERE b.model = 'customer_totals' AND r.table_name = 'curated.orders'")
meta=$(metadata_of curated.orders)
expect_eq "input snapshot" "$cur" "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["current-snapshot-id"])' "$meta")"
expect_eq "checksum" "$(catalog_sql "SELECT checksum FROM model_builds WHERE model = 'customer_totals'")" \
    "sha256:$(sha256sum models/customer_totals.sql | cut -d' ' -f1)"

say "lineage through a view"
sluice lineage gold.big_summary >"$T/lineage.out" || fail "lineage"
cat "$T/lineage.out"
grep -q "^gold.big_summary @ snapshot [0-9]*  (append) - full build run" "$T/lineage.out" || fail "top"
grep -q "^    gold.big_customers  (view) - build run" "$T/lineage.out" || fail "the view"
grep -q "^        gold.customer_totals @ snapshot [0-9]*  (append)" "$T/lineage.out" || fail "under the view"
grep -q "^            curated.orders @ snapshot" "$T/lineage.out" || fail "curated"
expect_fail "not a gold or curated table" sluice lineage raw.orders

say "new orders, a rebuild: an overwrite snapshot with the new totals"
orders 3000 500 > "$T/o2.jsonl"
sluice ingest --source orders "$T/o2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build customer_totals >"$T/build2.out" || { cat "$T/build2.out"; fail "rebuild"; }
grep -q "^1 model(s): 1 built" "$T/build2.out" || { cat "$T/build2.out"; fail "one model"; }
expect_eq "totals after" "$(q "SELECT sum(orders), sum(total) FROM gold.customer_totals")" \
    "$(q "SELECT count(*), sum(amount) FROM curated.orders")"
sluice snapshots gold.customer_totals >"$T/snaps.out"
grep -q "overwrite" "$T/snaps.out" || { cat "$T/snaps.out"; fail "no overwrite snapshot"; }
conform gold.customer_totals

say "an SQL error: file, line and column; its readers skipped; the others built"
cat > models/broken.sql <<'SQL'
-- materialized: table
SELECT customer,
       nosuch_column AS x
FROM curated.orders
SQL
cat > models/after_broken.sql <<'SQL'
SELECT count(*) AS n FROM gold.broken
SQL
if sluice build >"$T/build3.out" 2>&1; then cat "$T/build3.out"; fail "a failed model exits 0"; fi
cat "$T/build3.out"
grep -q "FAILED   gold.broken .* models/broken.sql:3:8: Binder Error" "$T/build3.out" ||
    fail "the error names the file, line and column"
grep -q "skipped  gold.after_broken .*gold.broken" "$T/build3.out" || fail "the reader is skipped"
grep -q "built    gold.customer_totals" "$T/build3.out" || fail "the others build"
expect_eq "no broken table" "$(catalog_sql "SELECT count(*) FROM iceberg_tables WHERE table_name IN ('broken', 'after_broken')")" 0
expect_eq "no broken build" "$(catalog_sql "SELECT count(*) FROM model_builds WHERE model IN ('broken', 'after_broken')")" 0
rm models/broken.sql models/after_broken.sql

say "a table that does not exist is named, with the tables that do"
echo "SELECT * FROM curated.nosuch" > models/ghost.sql
if sluice build ghost >"$T/out" 2>&1; then cat "$T/out"; fail "a missing table builds"; fi
grep -q "reads curated.nosuch, which does not exist (tables: curated.orders" "$T/out" ||
    { cat "$T/out"; fail "missing table message"; }
rm models/ghost.sql

say "a dropped column is refused unless --full-refresh"
cat > models/customer_totals.sql <<'SQL'
SELECT customer, count(*) AS orders, CAST(sum(amount) AS DECIMAL(20,2)) AS total
FROM curated.orders GROUP BY customer
SQL
snaps=$(sluice snapshots gold.customer_totals | grep -c overwrite)
if sluice build customer_totals >"$T/b4.out" 2>&1; then cat "$T/b4.out"; fail "dropped column taken"; fi
grep -q "column 'first_order' is dropped" "$T/b4.out" || { cat "$T/b4.out"; fail "what changed"; }
expect_eq "no snapshot" "$(sluice snapshots gold.customer_totals | grep -c overwrite)" "$snaps"
sluice build --full-refresh customer_totals >"$T/b5.out" || { cat "$T/b5.out"; fail "full refresh"; }
conform gold.customer_totals
expect_eq "columns" "$(q "SELECT string_agg(column_name, ',' ORDER BY column_index) FROM duckdb_columns() WHERE schema_name = 'gold' AND table_name = 'customer_totals'")" \
    "\"customer,orders,total\""

say "a widened decimal is a schema update in place"
cat > models/customer_totals.sql <<'SQL'
SELECT customer, count(*) AS orders, CAST(sum(amount) AS DECIMAL(24,2)) AS total
FROM curated.orders GROUP BY customer
SQL
sluice build customer_totals >"$T/b6.out" || { cat "$T/b6.out"; fail "widening refused"; }
conform gold.customer_totals
"$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
s = [x for x in m["schemas"] if x["schema-id"] == m["current-schema-id"]][0]
t = {f["name"]: (f["id"], f["type"]) for f in s["fields"]}
prev = [x for x in m["schemas"] if x["schema-id"] != m["current-schema-id"]]
assert t["total"][1] == "decimal(24,2)", t
ids = [{f["name"]: f["id"] for f in x["fields"]}.get("total") for x in prev]
assert t["total"][0] in ids, (t, ids)   # the same field, widened
' "$(metadata_of gold.customer_totals)" || fail "the widening keeps the field id"

say "sluice verify is content with the lake"
sluice verify >/dev/null || fail "verify"

say "sluice maintain keeps gold tables too: their old snapshots expire"
printf 'transform:\n  keep_snapshots: 1\n' >> sluice.yaml
snaps=$(sluice snapshots gold.customer_totals | grep -c .)
[ "$snaps" -gt 2 ] || fail "gold.customer_totals has several snapshots ($snaps lines)"
sluice maintain >"$T/maintain.out" || { cat "$T/maintain.out"; fail "maintain"; }
cat "$T/maintain.out"
grep -q "^gold.customer_totals: [1-9][0-9]* snapshot(s) expired" "$T/maintain.out" ||
    fail "the gold table's snapshots expired"
grep -q "^curated.orders: " "$T/maintain.out" || fail "curated tables still maintained"
sluice maintain gold.customer_totals >/dev/null || fail "maintain one gold table"
expect_fail "is not a curated or gold table" sluice maintain raw.orders
conform gold.customer_totals
sluice build >/dev/null || fail "a build after expiry"
sluice verify >/dev/null || fail "verify after maintain"
