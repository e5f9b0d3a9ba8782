#!/bin/sh
# 302-build-incremental.sh - incremental models equal a full build.
#
# customer_360 is an incremental merge on customer: after each batch of
# orders (new orders, and updates that move orders between customers and
# change amounts, which delete rows upstream) its rows equal those of the
# same SELECT built in full, icebird reads it (position deletes applied)
# as sluice query does, and the build read only what changed.
# order_log is an incremental append: each build adds the rows new since
# the last one.  --full-refresh rebuilds them alike.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_shop_orders

# batch FIRST N SHIFT HOUR: orders FIRST.. (N of them), customer shifted by
# SHIFT, ordered at HOUR (later hours replace earlier versions).
batch() {
    "$PY" -c 'import sys
first, n, shift, hour = (int(a) for a in sys.argv[1:5])
for i in range(first, first + n):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-03-%02dT%02d:00:00Z\"}"
          % (i, (i + shift) % 40, (i * 7 + shift) % 500, i % 100, 1 + i % 28, hour))' "$@"
}

mkdir -p models
cat > models/customer_360.sql <<'SQL'
-- materialized: incremental
-- unique_key: customer
-- description: lifetime figures per customer
SELECT customer, count(*) AS orders, sum(amount) AS total, max(ordered_at) AS last_order
FROM curated.orders
GROUP BY customer
SQL
cat > models/customer_360_keys.sql <<'SQL'
-- materialized: incremental
-- unique_key: customer
-- description: the same, its incremental builds reading only the customers touched
SELECT customer, count(*) AS orders, sum(amount) AS total, max(ordered_at) AS last_order
FROM curated.orders
{% if is_incremental %}WHERE customer IN (SELECT customer FROM {{ changed_keys }}){% endif %}
GROUP BY customer
SQL
cat > models/customer_360_full.sql <<'SQL'
SELECT customer, count(*) AS orders, sum(amount) AS total, max(ordered_at) AS last_order
FROM curated.orders
GROUP BY customer
SQL
cat > models/order_log.sql <<'SQL'
-- materialized: incremental
-- strategy: append
SELECT order_id, customer, amount,
       {% if is_incremental %}'incremental'{% else %}'full'{% endif %} AS built_as
FROM curated.orders
SQL

same() { # what: gold.customer_360 equals gold.customer_360_full
    d=$(q "SELECT count(*) FROM (
        (SELECT * FROM gold.customer_360 EXCEPT ALL SELECT * FROM gold.customer_360_full)
        UNION ALL
        (SELECT * FROM gold.customer_360_full EXCEPT ALL SELECT * FROM gold.customer_360))")
    expect_eq "$1: incremental = full (rows differing)" "$d" 0
    d=$(q "SELECT count(*) FROM (
        (SELECT * FROM gold.customer_360_keys EXCEPT ALL SELECT * FROM gold.customer_360_full)
        UNION ALL
        (SELECT * FROM gold.customer_360_full EXCEPT ALL SELECT * FROM gold.customer_360_keys))")
    expect_eq "$1: with {{ changed_keys }} = full (rows differing)" "$d" 0
    expect_eq "$1: customers" "$(q "SELECT count(*) FROM gold.customer_360")" \
        "$(q "SELECT count(DISTINCT customer) FROM curated.orders")"
}

run_batch() { # FILE
    sluice ingest --source orders "$1" >/dev/null
    sluice transform --source orders >/dev/null
    sluice build >"$T/build.out" || { cat "$T/build.out"; fail "build"; }
    cat "$T/build.out"
}

say "batch 1: the first builds are full"
batch 0 1000 0 1 > "$T/b1.jsonl"
run_batch "$T/b1.jsonl"
same "batch 1"
expect_eq "first build full" "$(catalog_sql "SELECT full_build FROM model_builds WHERE model = 'customer_360'")" 1
expect_eq "log rows" "$(q "SELECT count(*), min(built_as) FROM gold.order_log")" "1000,full"
conform gold.customer_360

say "batch 2: new orders, and updates that move 200 orders to other customers"
{ batch 1000 500 0 1; batch 0 200 7 5; } > "$T/b2.jsonl"
run_batch "$T/b2.jsonl"
same "batch 2"
expect_eq "incremental" "$(catalog_sql "SELECT full_build FROM model_builds WHERE model = 'customer_360' ORDER BY run_id DESC LIMIT 1")" 0
conform gold.customer_360
"$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
s = [x for x in m["snapshots"] if x["snapshot-id"] == m["current-snapshot-id"]][0]["summary"]
assert s["operation"] == "overwrite" and int(s.get("added-position-deletes", 0)) > 0, s
' "$(metadata_of gold.customer_360)" || fail "the merge deletes the touched customers' rows"
expect_eq "log rows" "$(q "SELECT count(*) FROM gold.order_log")" 1700
expect_eq "log added" "$(q "SELECT count(*) FROM gold.order_log WHERE built_as = 'incremental'")" 700

say "batch 3: more updates, some back to where they were"
{ batch 100 300 0 9; batch 1400 50 3 9; } > "$T/b3.jsonl"
run_batch "$T/b3.jsonl"
same "batch 3"
conform gold.customer_360
expect_eq "log rows" "$(q "SELECT count(*) FROM gold.order_log")" 2050

say "lineage: the build, the curated snapshot it read, the transform run, the raw objects"
sluice lineage gold.customer_360 >"$T/lineage.out" || fail "lineage"
cat "$T/lineage.out"
snap=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["current-snapshot-id"])' "$(metadata_of gold.customer_360)")
cur=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["current-snapshot-id"])' "$(metadata_of curated.orders)")
grep -q "^gold.customer_360 @ snapshot $snap  (overwrite) - incremental build run [0-9]* of models/customer_360.sql sha256:" "$T/lineage.out" || fail "the gold line"
grep -q "^    curated.orders @ snapshot $cur  (.*) - transform run [0-9]* of source orders" "$T/lineage.out" || fail "the curated line"
grep -q "^        raw zone: 3 object(s) of source orders" "$T/lineage.out" || fail "the raw zone line"
grep -q "^        raw/orders/.*(b3.jsonl, seq" "$T/lineage.out" || fail "the raw object"

say "a build with nothing new changes no row"
before=$(q "SELECT count(*), sum(total) FROM gold.customer_360")
sluice build customer_360 order_log >/dev/null || fail "empty build"
same "no change"
expect_eq "unchanged" "$(q "SELECT count(*), sum(total) FROM gold.customer_360")" "$before"
expect_eq "log unchanged" "$(q "SELECT count(*) FROM gold.order_log")" 2050

say "--full-refresh rebuilds from scratch alike"
sluice build --full-refresh customer_360 order_log >/dev/null || fail "full refresh"
same "full refresh"
expect_eq "log rows after refresh" "$(q "SELECT count(*), min(built_as) FROM gold.order_log")" \
    "$(q "SELECT count(*) FROM curated.orders"),full"
conform gold.customer_360
sluice verify >/dev/null || fail "verify"

say "the snapshot the last build read has expired: the next build is a full one"
{ batch 1500 100 0 11; batch 0 50 5 11; } > "$T/b4.jsonl"
sluice ingest --source orders "$T/b4.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice expire curated.orders --older-than 0s >/dev/null || fail "expire"
sluice build customer_360 customer_360_keys customer_360_full >"$T/build.out" || { cat "$T/build.out"; fail "build after expiry"; }
cat "$T/build.out"
grep -q "built whole: the snapshot of curated.orders its last build read has expired" "$T/build.out" ||
    fail "the summary says why the build was whole"
same "after expiry"
expect_eq "recorded as full" "$(catalog_sql "SELECT full_build FROM model_builds WHERE model = 'customer_360' ORDER BY run_id DESC LIMIT 1")" 1
conform gold.customer_360

say "{{ changed_keys }} only where a full build leaves it out, in merge models"
cat > models/bad_keys.sql <<'SQL'
-- materialized: incremental
-- unique_key: customer
SELECT customer FROM curated.orders WHERE customer IN (SELECT customer FROM {{ changed_keys }})
SQL
expect_fail "models/bad_keys.sql:3: {{ changed_keys }} where a full build keeps it" sluice build bad_keys
cat > models/bad_keys.sql <<'SQL'
-- materialized: table
SELECT customer FROM curated.orders {% if is_incremental %}WHERE customer IN (SELECT customer FROM {{ changed_keys }}){% endif %}
SQL
expect_fail "models/bad_keys.sql:2: {{ changed_keys }} is for incremental merge models" sluice build bad_keys
rm models/bad_keys.sql

say "a merge on a key no input has is refused at its first build"
cat > models/by_day.sql <<'SQL'
-- materialized: incremental
-- unique_key: [customer, day]
SELECT customer, CAST(ordered_at AS DATE) AS day, count(*) AS orders FROM curated.orders GROUP BY ALL
SQL
if sluice build by_day >"$T/out" 2>&1; then cat "$T/out"; fail "a computed merge key was taken"; fi
cat "$T/out"
grep -q "models/by_day.sql: a merge on \[customer, day\] needs a table it reads with those columns" "$T/out" ||
    fail "the message names the key"
[ ! -d lake/gold/by_day ] || fail "the refused model left a table"
rm models/by_day.sql
