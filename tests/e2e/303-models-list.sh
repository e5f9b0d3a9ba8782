#!/bin/sh
# 303-models-list.sh - sluice models: every model of models/*.sql with its
# materialisation, partition spec, the tables it reads and its last build.
#
# Before a build every model is "never" built; after one, each shows the
# run and snapshot the catalog recorded and the rows written (the same in
# the text listing and --json); an incremental rebuild shows as such (its
# {{ this }} reads the rows built so far), and an edited file as changed
# since its build.  A bad header is refused as
# sluice build refuses it: file:line, non-zero exit, nothing listed.  A
# model built before whose file is gone is named after the list.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders

# orders FIRST N: N orders from id FIRST, customers c0..c19.
orders() {
    "$PY" -c 'import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-03-%02dT10:00:00Z\"}"
          % (i, i % 20, i % 97, i % 100, 1 + i % 28))' "$@"
}
orders 0 200 > "$T/o1.jsonl"
sluice ingest --source orders "$T/o1.jsonl" >/dev/null
sluice transform --source orders >/dev/null

say "no models yet"
sluice models >"$T/none.out" || fail "models without models/"
grep -q "^no models in " "$T/none.out" || { cat "$T/none.out"; fail "no models message"; }
expect_eq "no JSON" "$(sluice models --json)" ""

mkdir -p models
cat > models/customers.sql <<'SQL'
-- materialized: table
-- description: one row per customer
SELECT customer, count(*) AS orders, sum(amount) AS total FROM curated.orders GROUP BY customer
SQL
cat > models/order_log.sql <<'SQL'
-- materialized: incremental
-- strategy: append
-- partition_by: [day(ordered_at), bucket(4, order_id)]
SELECT order_id, customer, amount, ordered_at FROM curated.orders
{% if is_incremental %} WHERE order_id > (SELECT max(order_id) FROM {{ this }}) {% endif %}
SQL
cat > models/big.sql <<'SQL'
-- materialized: view
SELECT c.customer, c.total, count(l.order_id) AS logged
FROM gold.customers c JOIN gold.order_log l USING (customer)
WHERE c.orders >= 10 GROUP BY c.customer, c.total
SQL
cat > models/latest.sql <<'SQL'
-- materialized: incremental
-- unique_key: [customer]
SELECT customer, max(ordered_at) AS last_order FROM curated.orders GROUP BY customer
SQL

# row NAME FILE: the listing's line of gold.NAME.
row() { grep "^gold\.$1 " "$2" || fail "no line for gold.$1 in $2"; }

say "before a build: every model, its kind, partitions, reads; never built"
sluice models >"$T/l1.out" || { cat "$T/l1.out"; fail "models"; }
cat "$T/l1.out"
head -n 1 "$T/l1.out" | grep -q "^model  *materialized  *partition_by  *reads  *last build$" ||
    fail "header"
expect_eq "listed in name order" "$(tail -n +2 "$T/l1.out" | awk '{print $1}' | tr '\n' ' ')" \
    "gold.big gold.customers gold.latest gold.order_log "
row customers "$T/l1.out" | grep -q "^gold.customers  *table  *-  *curated.orders  *never$" ||
    fail "customers line"
row order_log "$T/l1.out" |
    grep -q "^gold.order_log  *incremental (append)  *day(ordered_at), bucket(4, order_id)  *curated.orders  *never$" ||
    fail "order_log line"
row latest "$T/l1.out" | grep -q "^gold.latest  *incremental (merge)  *-  *curated.orders  *never$" ||
    fail "latest line: a unique_key makes merge the default"
row big "$T/l1.out" | grep -q "^gold.big  *view  *-  *gold.customers, gold.order_log  *never$" ||
    fail "big line: its dependencies in order of mention"

say "the same in JSON"
sluice models --json >"$T/j1.out"
"$PY" - "$T/j1.out" <<'EOF' || fail "JSON before the build"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
m = {r["name"]: r for r in rows}
assert [r["name"] for r in rows] == ["big", "customers", "latest", "order_log"], rows
assert all(r["last_build"] is None for r in rows), rows
assert m["big"]["reads"] == ["gold.customers", "gold.order_log"], m["big"]
assert m["big"]["materialized"] == "view" and m["big"]["strategy"] is None
assert m["order_log"]["strategy"] == "append"
assert m["order_log"]["partition_by"] == ["day(ordered_at)", "bucket(4, order_id)"]
assert m["latest"]["strategy"] == "merge" and m["latest"]["unique_key"] == ["customer"]
assert m["customers"]["description"] == "one row per customer"
assert m["customers"]["table"] == "gold.customers"
assert m["customers"]["path"] == "models/customers.sql"
EOF

say "after a build: the run, snapshot and rows the catalog recorded"
sluice build >"$T/b1.out" || { cat "$T/b1.out"; fail "build"; }
sluice models >"$T/l2.out" || fail "models after the build"
cat "$T/l2.out"
for name in customers order_log latest; do
    run=$(catalog_sql "SELECT run_id FROM model_builds WHERE model = '$name'")
    snap=$(catalog_sql "SELECT snapshot_id FROM model_builds WHERE model = '$name'")
    rows=$(catalog_sql "SELECT written FROM runs WHERE run_id = $run")
    row $name "$T/l2.out" |
        grep -q "  20[0-9-]*T[0-9:]*Z  full, run $run, snapshot $snap, $rows rows$" ||
        fail "$name: full, run $run, snapshot $snap, $rows rows"
done
expect_eq "customers rows" "$(catalog_sql "SELECT written FROM runs r JOIN model_builds b USING (run_id) WHERE b.model = 'customers'")" 20
run=$(catalog_sql "SELECT run_id FROM model_builds WHERE model = 'big'")
row big "$T/l2.out" | grep -q "  20[0-9-]*T[0-9:]*Z  view saved, run $run$" || fail "the view's build"
sluice models --json >"$T/j2.out"
"$PY" - "$T/j2.out" <<'EOF' || fail "JSON after the build"
import json, sys
m = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
for name in ("customers", "order_log", "latest"):
    b = m[name]["last_build"]
    assert b["full"] is True and b["state"] == "published", b
    assert isinstance(b["snapshot_id"], int) and b["rows"] == (20 if name != "order_log" else 200), b
    assert b["file_changed"] is False and b["checksum"].startswith("sha256:"), b
b = m["big"]["last_build"]
assert b["materialized"] == "view" and b["snapshot_id"] is None and b["rows"] is None, b
EOF

say "an incremental rebuild, and a model file edited since its build"
orders 200 50 > "$T/o2.jsonl"
sluice ingest --source orders "$T/o2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build order_log >"$T/b2.out" || { cat "$T/b2.out"; fail "incremental build"; }
printf '%s\n' '-- description: edited' >> models/customers.sql
sluice models >"$T/l3.out" || fail "models after the rebuild"
cat "$T/l3.out"
run=$(catalog_sql "SELECT max(run_id) FROM model_builds WHERE model = 'order_log'")
row order_log "$T/l3.out" | grep -q "incremental, run $run, snapshot [0-9]*, 50 rows$" ||
    fail "the incremental build and its 50 new rows"
expect_eq "{{ this }} bounded the rows" "$(q "SELECT count(*), count(DISTINCT order_id) FROM gold.order_log")" "250,250"
expect_eq "{{ this }} is not an input" "$(catalog_sql "SELECT count(*) FROM build_inputs JOIN model_builds USING (run_id) WHERE model = 'order_log' AND table_name = 'gold.order_log'")" 0
row customers "$T/l3.out" | grep -q "; file changed since$" || fail "the edited file"
! row latest "$T/l3.out" | grep -q "changed since" || fail "an unchanged file"

say "a bad header: file and line, as sluice build says it, and exit 1"
cat > models/broken.sql <<'SQL'
-- materialized: incremental
-- strategy: upsert
SELECT 1 AS x
SQL
if sluice models >"$T/bad.out" 2>"$T/bad.err"; then cat "$T/bad.out"; fail "a bad header exits 0"; fi
cat "$T/bad.err"
grep -q "^sluice: error: .*models/broken.sql:2: unknown strategy 'upsert': append or merge$" \
    "$T/bad.err" || fail "the error names the file and line"
expect_eq "nothing listed" "$(cat "$T/bad.out")" ""
sluice build >"$T/badb.out" 2>"$T/badb.err" && fail "build takes the bad header"
expect_eq "the same error as build" "$(cat "$T/bad.err")" "$(cat "$T/badb.err")"
if sluice models --json >/dev/null 2>&1; then fail "--json with a bad file exits 0"; fi
rm models/broken.sql

say "a model built before whose file is gone is named after the list"
mv models/latest.sql "$T/latest.sql"
sluice models >"$T/l4.out" || fail "models without latest"
cat "$T/l4.out"
grep -q "^gold.latest " "$T/l4.out" && fail "gold.latest is still listed"
expect_eq "the last line" "$(tail -n 1 "$T/l4.out")" "built before, with no model file now: gold.latest"
expect_eq "not in JSON" "$(sluice models --json | grep -c '"latest"')" 0
mkdir "$T/hidden" && mv models/*.sql "$T/hidden/"
sluice models >"$T/l5.out" || fail "models without any file"
grep -q "^no models in " "$T/l5.out" || fail "no models"
grep -q "^built before, with no model file now: gold.big, gold.customers, gold.latest, gold.order_log$" \
    "$T/l5.out" || { cat "$T/l5.out"; fail "every model built, none left"; }
mv "$T/hidden/"*.sql "$T/latest.sql" models/

say "usage errors"
expect_fail "unexpected argument" sluice models extra
expect_fail "unknown option" sluice models --nosuch
sluice models --help | grep -q "^usage: sluice models \[--json\]" || fail "--help"
sluice --help | grep -q "^  models  " || fail "listed by sluice --help"
