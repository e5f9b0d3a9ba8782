#!/bin/sh
# 307-build-partitions.sh - partitioned gold tables.
#
# A model's partition_by is the gold table's Iceberg partition spec: each
# of identity, year, month, day, hour, bucket[N] and truncate[W] over the
# column types it takes, alone and as fields of one spec, gives files whose partition values are their
# rows' (computed here, in Python, from the spec - not by sluice), which
# icebird reads as sluice query does.  An incremental merge into a
# day-partitioned table writes a position delete file per data file it
# touches, in that file's partition, and equals a full build after updates
# upstream.  A field the table cannot take is refused with the model file
# and the accepted forms; a changed partitioning of an incremental model
# needs --full-refresh.
. "$SLUICE_SRC/tests/e2e/lib.sh"
LIB="$SLUICE_SRC/tests/lib"

new_project
write_shop_orders

# batch FIRST N SHIFT HOUR: orders FIRST.. (N of them) over 1969-12-30 to
# 1970-03-01 and 2026, customer shifted by SHIFT, some amounts null.
batch() {
    "$PY" -c 'import sys
first, n, shift, hour = (int(a) for a in sys.argv[1:5])
for i in range(first, first + n):
    day = ["1969-12-30", "1969-12-31", "1970-01-01", "1970-02-28", "2026-03-%02d" % (1 + i % 28)][(i + shift) % 5]
    amount = "null" if i % 11 == 0 else "\"%d.%02d\"" % ((i * 7 + shift) % 500 - 100, i % 100)
    print("{\"order_id\": %d, \"customer\": \"c%s%d\", \"amount\": %s, \"ordered_at\": \"%sT%02d:%02d:00Z\"}"
          % (i - 500, "\u00e9" if i % 3 == 0 else "", (i + shift) % 40, amount, day, (hour + i) % 24, i % 60))' "$@"
}

# spec_of TABLE: the default spec's fields, "transform(source) ...".
spec_of() {
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
schema = [s for s in m["schemas"] if s["schema-id"] == m["current-schema-id"]][0]
names = {f["id"]: f["name"] for f in schema["fields"]}
spec = [s for s in m["partition-specs"] if s["spec-id"] == m["default-spec-id"]][0]
print(" ".join("%s(%s)" % (f["transform"], names[f["source-id"]]) for f in spec["fields"]))' \
        "$(metadata_of "$1")"
}

mkdir -p models
model() { # NAME PARTITION: the orders with a date column, partitioned so
    cat > "models/$1.sql" <<SQL
-- partition_by: $2
SELECT order_id, customer, amount, ordered_at, CAST(ordered_at AS DATE) AS order_date
FROM curated.orders
SQL
}
model by_identity customer
model by_year "year(ordered_at)"
model by_month "month(order_date)"
model by_day "day(ordered_at)"
model by_date "day(order_date)"
model by_hour "hour(ordered_at)"
model by_bucket_string "bucket(8, customer)"
model by_bucket_long "bucket(4, order_id)"
model by_bucket_decimal "bucket(3, amount)"
model by_bucket_time "bucket(5, ordered_at)"
model by_bucket_date "bucket(6, order_date)"
model by_truncate_string "truncate(2, customer)"
model by_truncate_long "truncate(100, order_id)"
model by_identity_date order_date
model by_day_bucket "[day(ordered_at), bucket(4, customer)]"
model by_three "[month(order_date), truncate(1, customer), bucket(3, order_id)]"
cat > models/daily.sql <<'SQL'
-- materialized: incremental
-- unique_key: order_id
-- partition_by: [day(ordered_at), bucket(2, customer)]
SELECT order_id, customer, amount, ordered_at FROM curated.orders WHERE amount IS NOT NULL
SQL
cat > models/daily_full.sql <<'SQL'
SELECT order_id, customer, amount, ordered_at FROM curated.orders WHERE amount IS NOT NULL
SQL

say "each transform over the types it takes"
batch 0 600 0 1 > "$T/b1.jsonl"
sluice ingest --source orders "$T/b1.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build >"$T/build.out" || { cat "$T/build.out"; fail "build"; }
cat "$T/build.out"
want=$(q "SELECT count(*), sum(amount), count(DISTINCT customer) FROM curated.orders")
for m in by_identity by_year by_month by_day by_date by_hour by_bucket_string by_bucket_long \
    by_bucket_decimal by_bucket_time by_bucket_date by_truncate_string by_truncate_long \
    by_identity_date by_day_bucket by_three; do
    expect_eq "$m: rows" "$(q "SELECT count(*), sum(amount), count(DISTINCT customer) FROM gold.$m")" "$want"
    check_partitions "gold.$m"
    conform "gold.$m"
done
expect_eq "by_day's spec" "$(spec_of gold.by_day)" "day(ordered_at)"
expect_eq "by_bucket_string's spec" "$(spec_of gold.by_bucket_string)" "bucket[8](customer)"
expect_eq "by_truncate_long's spec" "$(spec_of gold.by_truncate_long)" "truncate[100](order_id)"
expect_eq "by_identity's spec" "$(spec_of gold.by_identity)" "identity(customer)"
expect_eq "by_day_bucket's spec" "$(spec_of gold.by_day_bucket)" "day(ordered_at) bucket[4](customer)"
expect_eq "by_three's spec" "$(spec_of gold.by_three)" \
    "month(order_date) truncate[1](customer) bucket[3](order_id)"
expect_eq "by_identity: a file per customer" \
    "$("$PY" "$LIB/iceberg_entries.py" "$(metadata_of gold.by_identity)" 2>/dev/null | grep -c '"content": 0')" \
    "$(q "SELECT count(DISTINCT customer) FROM curated.orders")"
# the day before the epoch is day -1, its hour -24 + h: counted down
expect_eq "days before 1970" "$(q "SELECT count(*) FROM gold.by_day WHERE ordered_at < TIMESTAMPTZ '1970-01-01 00:00:00+00'")" \
    "$(q "SELECT count(*) FROM curated.orders WHERE ordered_at < TIMESTAMPTZ '1970-01-01 00:00:00+00'")"
ls "lake/gold/by_day/" | grep -q '^dt=1969-12-31$' || fail "by_day's files are in dt= folders"
ls "lake/gold/by_bucket_long/" | grep -q '^order_id_bucket=[0-3]$' || fail "bucket folders"

say "the Iceberg spec's test vectors, through the engine's transforms"
# Appendix B's hashes: 34 -> 2017239379, 'iceberg' -> 1210000089, date
# 2017-11-16 -> -653330422, 2017-11-16T22:31:08 -> -2047944441, 14.20 ->
# -500754589; bucket[2147483647] of each is the hash & 0x7FFFFFFF.  And
# truncate[10] of 1 and -1 is 0 and -10, truncate[3] of 'iceberg' 'ice'.
cat > models/spec_vectors.sql <<'SQL'
-- partition_by: [bucket(2147483647, l), bucket(2147483647, s), bucket(2147483647, d), bucket(2147483647, ts), bucket(2147483647, n), truncate(10, l), truncate(3, s), truncate(10, i)]
SELECT 34 AS l, 'iceberg' AS s, DATE '2017-11-16' AS d,
       TIMESTAMPTZ '2017-11-16 22:31:08+00' AS ts, CAST(14.20 AS DECIMAL(9,2)) AS n,
       CAST(v AS INTEGER) AS i
FROM (VALUES (1), (-1)) AS t(v)
SQL
sluice build spec_vectors >/dev/null || fail "build spec_vectors"
"$PY" "$LIB/iceberg_entries.py" "$(metadata_of gold.spec_vectors)" 2>/dev/null >"$T/entries.jsonl"
"$PY" -c 'import json, sys
got = sorted(json.dumps(e["partition"], sort_keys=True) for e in map(json.loads, open(sys.argv[1]))
             if e["content"] == 0)
want = sorted(json.dumps({"l_bucket": 2017239379, "s_bucket": 1210000089,
                          "d_bucket": -653330422 & 0x7FFFFFFF, "ts_bucket": -2047944441 & 0x7FFFFFFF,
                          "n_bucket": -500754589 & 0x7FFFFFFF, "l_trunc": 30, "s_trunc": "ice",
                          "i_trunc": i}, sort_keys=True) for i in (0, -10))
assert got == want, (got, want)
print("the spec vectors: %d files, partitions as Appendix B says" % len(got))' "$T/entries.jsonl" ||
    fail "the spec's test vectors"
conform gold.spec_vectors

say "an incremental merge into a table by day and bucket equals a full build,"
say "with updates that move orders to other days"
same() {
    d=$(q "SELECT count(*) FROM (
        (SELECT * FROM gold.daily EXCEPT ALL SELECT * FROM gold.daily_full)
        UNION ALL
        (SELECT * FROM gold.daily_full EXCEPT ALL SELECT * FROM gold.daily))")
    expect_eq "$1: incremental = full (rows differing)" "$d" 0
}
same "first build"
{ batch 600 100 0 2; batch 0 150 9 5; } > "$T/b2.jsonl"
sluice ingest --source orders "$T/b2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build daily daily_full >"$T/build.out" || { cat "$T/build.out"; fail "build"; }
same "after updates"
expect_eq "incremental" "$(catalog_sql "SELECT full_build FROM model_builds WHERE model = 'daily' ORDER BY run_id DESC LIMIT 1")" 0
check_partitions gold.daily
conform gold.daily
# each delete file names the one data file it deletes from, in its partition
"$PY" "$LIB/iceberg_entries.py" "$(metadata_of gold.daily)" 2>/dev/null >"$T/entries.jsonl"
"$PY" -c 'import json, sys
es = [json.loads(l) for l in open(sys.argv[1])]
live = {e["path"]: e for e in es if e["status"] != 2 and e["content"] == 0}
dels = [e for e in es if e["status"] != 2 and e["content"] == 1]
assert dels, "no position delete files"
for e in dels:
    ref = e.get("referenced_data_file")
    assert ref in live, ("delete file %s references %r" % (e["path"], ref))
    assert e["partition"] == live[ref]["partition"], (e, live[ref])
print("%d position delete files, each of one data file" % len(dels))' "$T/entries.jsonl" ||
    fail "gold.daily's delete files"
{ batch 100 200 17 8; } > "$T/b3.jsonl"
sluice ingest --source orders "$T/b3.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build daily daily_full >/dev/null || fail "build 3"
same "after more updates"
conform gold.daily

# build_fails WANT MODEL...: the build fails, WANT in what it says
build_fails() {
    _want=$1
    shift
    if sluice build "$@" >"$T/out" 2>&1; then
        cat "$T/out"
        fail "expected the build of $* to fail"
    fi
    cat "$T/out"
    grep -qF -- "$_want" "$T/out" || fail "expected '$_want' from the build of $*"
}

say "fields a gold table cannot take"
cp models/daily.sql "$T/daily.sql"
model bad "hour(order_date)"
build_fails "models/bad.sql: partition_by hour(order_date): column 'order_date' is date" bad
model bad "truncate(10, amount)"
build_fails "column 'amount' is decimal(10,2), which that transform does not take" bad
model bad "day(nowhere)"
build_fails "models/bad.sql: partition_by day(nowhere): the SELECT gives no column 'nowhere'" bad
model bad "[day(ordered_at), bucket(4, nowhere)]"
build_fails "partition_by bucket(4, nowhere): the SELECT gives no column 'nowhere'" bad
rm models/bad.sql
[ ! -d "lake/gold/bad" ] || fail "a refused model left files"

say "an incremental model's partitioning changes only with --full-refresh"
sed 's/^-- partition_by: .*$/-- partition_by: month(ordered_at)/' "$T/daily.sql" > models/daily.sql
build_fails "gold.daily is partitioned by day(ordered_at), bucket[2](customer), the model by month(ordered_at)" daily
expect_eq "still by day" "$(spec_of gold.daily)" "day(ordered_at) bucket[2](customer)"
sluice build --full-refresh daily >/dev/null || fail "--full-refresh"
expect_eq "now by month" "$(spec_of gold.daily)" "month(ordered_at)"
same "re-partitioned"
check_partitions gold.daily
conform gold.daily

say "sluice verify is content with the lake"
sluice verify >/dev/null || fail "verify"
