#!/bin/sh
# 306-build-incremental-batches.sh - after every batch upstream, each
# incremental gold table equals a --full-refresh rebuild of the same model.
#
# 302 compares one merge model with a table model of the same SELECT.
# Here the reference is the model itself rebuilt with --full-refresh from
# the same lake (the project is saved, rebuilt in full, read, and put
# back), compared as sorted rows through sluice query and through icebird,
# after each of these steps upstream:
#
#   1  the first batch (the first builds are full)
#   2  new orders, and updates that move orders to other customers, change
#      amounts (some below the filter of order_big) and days
#   3  two batches transformed before one build: every order of customer
#      c39 moves away (its rows vanish from the per-customer tables: the
#      merge must delete them and insert nothing) and orders drop out of
#      order_big
#   4  compaction of both curated tables (rows move to new files: neither
#      added nor removed) and a few new rows
#   5  nothing new
#
# Curated tables have no row deletion of their own: a row leaves a curated
# table when a newer version replaces it (a position delete), which is how
# rows are deleted upstream here.  The merge models: per customer (a group
# that can vanish), per customer and store (a unique key of two columns),
# per order with a filter (a row-level merge).  The append model reads an
# insert-only source (clicks), where appending equals rebuilding.
. "$SLUICE_SRC/tests/e2e/lib.sh"

sluice init "$T/run" >/dev/null
cd "$T/run"
write_source orders <<'YAML'
system: shop
contracts:
  - version: "1.0"
    key: [order_id]
    event_time: ordered_at
    columns:
      - {name: order_id, type: int64, required: true}
      - {name: customer, type: string, required: true}
      - {name: store, type: string, required: true}
      - {name: amount, type: "decimal(10,2)"}
      - {name: ordered_at, type: timestamp, required: true}
YAML
write_source clicks <<'YAML'
system: web
contracts:
  - version: "1.0"
    key: [click_id]
    event_time: at
    columns:
      - {name: click_id, type: int64, required: true}
      - {name: customer, type: string, required: true}
      - {name: page, type: string}
      - {name: at, type: timestamp, required: true}
YAML
# orders FIRST N SHIFT HOUR: orders FIRST.. (N of them), customer
# (i + SHIFT) % 40, at HOUR of their day (a later hour replaces an earlier
# version).
orders() {
    "$PY" -c 'import sys
first, n, shift, hour = (int(a) for a in sys.argv[1:5])
for i in range(first, first + n):
    c = "c%d" % ((i + shift) % 40)
    print("{\"order_id\": %d, \"customer\": \"%s\", \"store\": \"s%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-05-%02dT%02d:00:00Z\"}"
          % (i, c, (i // 40 * 3 + shift) % 5, (i * 13 + shift * 7) % 400, i % 100, 1 + (i // 40 + shift) % 20, hour))' "$@"
}
# clicks FIRST N: clicks FIRST.. (N of them), never updated.
clicks() {
    "$PY" -c 'import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print("{\"click_id\": %d, \"customer\": \"c%d\", \"page\": \"/p/%d\", \"at\": \"2026-05-%02dT%02d:%02d:00Z\"}"
          % (i, i % 40, i % 17, 1 + i % 20, i % 24, i % 60))' "$@"
}

mkdir -p models
cat > models/cust.sql <<'SQL'
-- materialized: incremental
-- unique_key: customer
SELECT customer, count(*) AS orders, sum(amount) AS total, max(ordered_at) AS last_order
FROM curated.orders
GROUP BY customer
SQL
cat > models/cust_store.sql <<'SQL'
-- materialized: incremental
-- unique_key: [customer, store]
SELECT customer, store, count(*) AS orders, sum(amount) AS total,
       count(DISTINCT CAST(ordered_at AS DATE)) AS days
FROM curated.orders
GROUP BY customer, store
SQL
cat > models/order_big.sql <<'SQL'
-- materialized: incremental
-- unique_key: order_id
SELECT order_id, customer, amount, ordered_at
FROM curated.orders
WHERE amount >= 150
SQL
cat > models/click_log.sql <<'SQL'
-- materialized: incremental
-- strategy: append
SELECT click_id, customer, page, "at"
FROM curated.clicks
WHERE page <> '/p/0'
SQL
MODELS="cust cust_store order_big click_log"

LIB="$SLUICE_SRC/tests/lib"
export NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"

# The project is saved and put back in place (its folder and its catalog),
# not copied: the Iceberg metadata holds absolute file:// locations, which
# icebird follows.
save_project() {
    rm -rf "$T/saved"
    cp -a "$T/run" "$T/saved"
    db=$(catalog_of "$T/run")
    if [ -n "$db" ]; then
        pg_admin -c "DROP DATABASE IF EXISTS ${db##*/}_saved" >/dev/null
        pg_admin -c "CREATE DATABASE ${db##*/}_saved TEMPLATE ${db##*/}" >/dev/null
    fi
}
restore_project() {
    cd "$T"
    rm -rf "$T/run"
    cp -a "$T/saved" "$T/run"
    db=$(catalog_of "$T/run")
    if [ -n "$db" ]; then
        pg_admin -c "DROP DATABASE IF EXISTS ${db##*/} WITH (FORCE)" >/dev/null
        pg_admin -c "CREATE DATABASE ${db##*/} TEMPLATE ${db##*/}_saved" >/dev/null
    fi
    cd "$T/run"
}
# state NAME: every model's rows through sluice query and through icebird,
# sorted, as $T/NAME.<model>.{rows,ice}; the two readers must agree.
state() {
    for m in $MODELS; do
        sluice query --format jsonl "SELECT * FROM gold.$m" > "$T/sluice.raw"
        sort "$T/sluice.raw" > "$T/$1.$m.rows"
        node "$LIB/iceberg_read.mjs" "$(metadata_of "gold.$m")" >"$T/ice.raw" 2>"$T/ice.err" \
            </dev/null || { cat "$T/ice.err"; fail "icebird cannot read gold.$m"; }
        sort "$T/ice.raw" > "$T/$1.$m.ice"
        "$PY" "$LIB/iceberg_compare.py" "$T/ice.raw" "$T/sluice.raw" >"$T/cmp.out" 2>&1 ||
            { cat "$T/cmp.out"; fail "$1: icebird reads gold.$m otherwise than sluice query"; }
    done
}
# check STEP: the incremental build just made equals a --full-refresh
# rebuild of every model, read both ways; sluice query and icebird agree.
check() {
    state inc
    expect_eq "$1: every model built incrementally" \
        "$(catalog_sql "SELECT max(full_build) FROM model_builds b WHERE run_id =
            (SELECT max(run_id) FROM model_builds WHERE model = b.model)")" 0
    save_project
    sluice build --full-refresh >"$T/full.out" || { cat "$T/full.out"; fail "$1: the full rebuild"; }
    state full
    restore_project
    for m in $MODELS; do
        diff "$T/full.$m.rows" "$T/inc.$m.rows" >"$T/diff" ||
            { head -20 "$T/diff"; fail "$1: gold.$m (sluice query): incremental (>) != full refresh (<)"; }
        diff "$T/full.$m.ice" "$T/inc.$m.ice" >"$T/diff" ||
            { head -20 "$T/diff"; fail "$1: gold.$m (icebird): incremental (>) != full refresh (<)"; }
    done
    echo "  $1: $(for m in $MODELS; do printf '%s %s rows; ' "$m" "$(wc -l < "$T/inc.$m.rows")"; done)"
}
load() { # SOURCE FILE
    sluice ingest --source "$1" "$2" >/dev/null
    sluice transform --source "$1" >/dev/null
}
build() {
    sluice build >"$T/build.out" || { cat "$T/build.out"; fail "build"; }
    grep -q "^4 model(s): 4 built" "$T/build.out" || { cat "$T/build.out"; fail "build summary"; }
}
# The current snapshot's summary of gold.MODEL, as key=value lines.
summary() {
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
s = [x for x in m["snapshots"] if x["snapshot-id"] == m["current-snapshot-id"]][0]["summary"]
for k, v in sorted(s.items()):
    print("%s=%s" % (k, v))' "$(metadata_of "gold.$1")"
}

say "1: the first batch; the first builds are full"
orders 0 800 0 1 > "$T/o1.jsonl"
clicks 0 500 > "$T/c1.jsonl"
load orders "$T/o1.jsonl"
load clicks "$T/c1.jsonl"
build
expect_eq "first builds full" "$(catalog_sql "SELECT min(full_build) FROM model_builds")" 1
# The reference of step 1 is the first build itself; what follows is
# incremental.

say "2: new orders; updates that move orders, change amounts and days"
{ orders 800 200 0 1; orders 0 200 7 5; } > "$T/o2.jsonl"
clicks 500 300 > "$T/c2.jsonl"
load orders "$T/o2.jsonl"
load clicks "$T/c2.jsonl"
build
check "step 2"
summary cust | grep "^added-position-deletes=[1-9]" >/dev/null || fail "step 2: the merge deleted no row"

say "3: two batches, one build: customer c39 vanishes, orders leave order_big"
[ "$(q "SELECT count(*) FROM gold.cust WHERE customer = 'c39'")" -eq 1 ] || fail "c39 before"
q "SELECT order_id FROM gold.order_big" | sort > "$T/big.before"
orders 200 300 11 10 > "$T/o3a.jsonl"
load orders "$T/o3a.jsonl"
# Every order of c39 now, an hour later, at c0's.
sluice query --format jsonl "SELECT order_id, 'c0' AS customer, store,
        CAST(amount AS VARCHAR) AS amount,
        strftime(ordered_at + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS ordered_at
    FROM curated.orders WHERE customer = 'c39'" > "$T/o3b.jsonl"
[ "$(wc -l < "$T/o3b.jsonl")" -ge 10 ] || fail "c39 has too few orders"
load orders "$T/o3b.jsonl"
expect_eq "c39 upstream" "$(q "SELECT count(*) FROM curated.orders WHERE customer = 'c39'")" 0
build
check "step 3"
expect_eq "c39 gone from gold.cust" "$(q "SELECT count(*) FROM gold.cust WHERE customer = 'c39'")" 0
expect_eq "c39 gone from gold.cust_store" "$(q "SELECT count(*) FROM gold.cust_store WHERE customer = 'c39'")" 0
left=$(q "SELECT count(*) FROM (SELECT order_id FROM curated.orders WHERE amount >= 150)")
expect_eq "order_big follows its filter" "$(q "SELECT count(*) FROM gold.order_big")" "$left"
q "SELECT order_id FROM gold.order_big" | sort > "$T/big.after"
[ "$(comm -23 "$T/big.before" "$T/big.after" | wc -l)" -ge 5 ] || fail "no order left order_big"
expect_eq "click_log: nothing new, nothing added" "$(q "SELECT count(*) FROM gold.click_log")" \
    "$(q "SELECT count(*) FROM curated.clicks WHERE page <> '/p/0'")"

say "4: compaction upstream (rows move, none changes), and a few new rows"
sluice compact curated.orders >"$T/compact.out" || { cat "$T/compact.out"; fail "compact orders"; }
sluice compact curated.clicks >>"$T/compact.out" || { cat "$T/compact.out"; fail "compact clicks"; }
sluice snapshots curated.orders | tail -n 2 | grep -q replace ||
    { sluice snapshots curated.orders; fail "no compaction of curated.orders"; }
sluice snapshots curated.clicks | tail -n 2 | grep -q replace ||
    { sluice snapshots curated.clicks; fail "no compaction of curated.clicks"; }
orders 1000 20 0 2 > "$T/o4.jsonl"
clicks 800 40 > "$T/c4.jsonl"
load orders "$T/o4.jsonl"
load clicks "$T/c4.jsonl"
build
check "step 4"
expect_eq "click_log: only the new clicks added" \
    "$(q "SELECT count(*) FROM gold.click_log")" \
    "$(q "SELECT count(*) FROM curated.clicks WHERE page <> '/p/0'")"

say "5: nothing new: the incremental builds change no row"
for m in $MODELS; do cp "$T/inc.$m.rows" "$T/prev.$m.rows"; done
build
check "step 5"
for m in $MODELS; do
    diff "$T/prev.$m.rows" "$T/inc.$m.rows" >/dev/null || fail "step 5: gold.$m changed"
done
# The Avro metadata of the merged tables is the spec's.
conform gold.cust
conform gold.cust_store
sluice verify >/dev/null || fail "verify"
