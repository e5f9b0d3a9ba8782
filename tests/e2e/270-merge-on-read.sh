# Merge-on-read: replaced rows are retired by deletion files instead of
# rewriting their data files.  The table must read exactly as the same
# runs give with every file rewritten (compact_deleted_percent: 0), through
# queries, compaction, rewinds and verify.
. "$SLUICE_SRC/tests/e2e/lib.sh"

cat_q() { catalog_sql "$1" | tr '|' ' '; }
state() {
    sluice query --format csv \
        "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" | sha256sum
}
live_deletes() { cat_q "SELECT count(*) FROM curated_deletes WHERE removed_run IS NULL"; }

$PY "$SLUICE_SRC/bench/gen_orders.py" base 6000 "$T/base.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 3000 6000 "$T/d1.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2500 6000 "$T/d2.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2000 6000 "$T/d3.jsonl"

say "the reference: every run rewrites the files it touches"
sluice init "$T/cow" >/dev/null
cd "$T/cow"
printf 'transform:\n  compact_deleted_percent: 0\n' >> sluice.yaml
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
n=301
while [ $n -le 310 ]; do
    $PY "$SLUICE_SRC/bench/gen_orders.py" delta $n 6000 "$T/s$n.jsonl"
    n=$((n + 1))
done
for f in base d1 d2 s301 s302 s303 s304 s305 s306 s307 s308 s309 s310 d3; do
    sluice ingest --source orders "$T/$f.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
    state > "$T/cow-$f.state"
done
expect_eq "copy-on-write leaves no deletion file" "$(live_deletes)" 0
[ ! -d lake/curated/orders/_deletes ] || [ -z "$(ls lake/curated/orders/_deletes)" ] ||
    fail "copy-on-write left files in _deletes"

say "merge-on-read: a deletion file instead of rewrites"
new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
sluice ingest --source orders "$T/base.jsonl" >/dev/null
sluice transform --source orders >/dev/null
nfiles=$(find lake/curated/orders -name 'part-*.parquet' | wc -l)
sluice ingest --source orders "$T/d1.jsonl" >/dev/null
sluice transform --source orders > out
grep -q " -0," out || { cat out; fail "a file was rewritten below the threshold"; }
# One deletion file per day of the files it names (an Iceberg position
# delete file holds one partition's deletes).
expect_eq "live deletion files" "$(live_deletes)" "$(cat_q "
    SELECT count(DISTINCT f.partition) FROM curated_delete_targets t
    JOIN curated_files f ON f.key = t.file_key")"
[ "$(live_deletes)" -ge 1 ] || fail "no deletion file"
ls lake/curated/orders/_deletes/delete-*.parquet >/dev/null || fail "no deletion file"
replaced=$(sed -n 's/.*replacing \([0-9,]*\) older rows.*/\1/p' out | tr -d ,)
[ "$replaced" -gt 0 ] || fail "the delta replaced nothing"
expect_eq "positions in the deletion file" \
    "$(q "SELECT count(*) FROM read_parquet('lake/curated/orders/_deletes/*.parquet')")" "$replaced"
state > mor.state
diff "$T/cow-d1.state" mor.state || fail "merge-on-read reads differently from copy-on-write"
expect_eq "one row per key" \
    "$(q "SELECT count(*) - count(DISTINCT order_id) FROM curated.orders")" 0
# Without the deletes, the files hold the replaced rows too.
all=$(q "SELECT count(*) FROM read_parquet('lake/curated/orders/dt=*/*.parquet')")
live=$(q "SELECT count(*) FROM curated.orders")
expect_eq "rows retired by the deletion file" "$((all - live))" "$replaced"
sluice verify | grep -q "^ok" || fail "verify after a run with deletes"

say "a rewind across the run that wrote deletes changes nothing"
sluice transform --source orders --rewind > out
grep -q "written                 0" out || { cat out; fail "the rewind wrote rows"; }
state > after
diff mor.state after || fail "the rewind changed the table"
sluice verify | grep -q "^ok"

say "verify: a missing or corrupt deletion file"
del=$(ls lake/curated/orders/_deletes/delete-*.parquet | head -n 1)
mv "$del" "$T/saved.parquet"
expect_fail_out() {
    if sluice verify > vout 2>&1; then cat vout; fail "verify passed: $1"; fi
    grep -q "$1" vout || { cat vout; fail "verify did not say '$1'"; }
}
expect_fail_out "deletion file .* is missing"
printf 'PAR1 not parquet at all' > "$del"
expect_fail_out "deletion file .* is not a readable deletion file"
cp "$T/saved.parquet" "$del"
sluice verify | grep -q "^ok"

say "compaction: files past the threshold are rewritten, their deletes retired"
printf 'transform:\n  compact_deleted_percent: 8\n' >> sluice.yaml
sluice ingest --source orders "$T/d2.jsonl" >/dev/null
sluice transform --source orders > out
removed=$(sed -n 's/.*files *+[0-9]* -\([0-9]*\),.*/\1/p' out)
[ "$removed" -gt 0 ] || { cat out; fail "nothing was compacted"; }
state > mor.state
diff "$T/cow-d2.state" mor.state || fail "compaction changed what the table reads"
sluice verify | grep -q "^ok"
# Every live deletion file names a live file; retired ones are gone.
expect_eq "deletion files naming only retired files" "$(cat_q "
    SELECT count(*) FROM curated_deletes d WHERE removed_run IS NULL AND NOT EXISTS (
      SELECT 1 FROM curated_delete_targets t JOIN curated_files f ON f.key = t.file_key
      WHERE t.delete_key = d.key AND f.removed_run IS NULL)")" 0
# Retired files stay for the snapshots that still read them, until expiry.
retired=$(cat_q "SELECT key FROM curated_deletes WHERE removed_run IS NOT NULL")
[ -n "$retired" ] || fail "no deletion file was retired"
for k in $retired; do
    [ -e "lake/$k" ] || fail "retired deletion file $k went before its snapshots expired"
done
sluice expire curated.orders --older-than 0s >/dev/null
for k in $retired; do
    [ ! -e "lake/$k" ] || fail "retired deletion file $k is still there after expiry"
done
expect_eq "catalog rows of expired deletion files" \
    "$(cat_q "SELECT count(*) FROM curated_deletes WHERE removed_run IS NOT NULL")" 0
sluice verify | grep -q "^ok"

say "many small runs: a day's files stay few"
n=301
while [ $n -le 310 ]; do
    sluice ingest --source orders "$T/s$n.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
    n=$((n + 1))
done
sluice expire curated.orders --older-than 0s >/dev/null
most=$(find lake/curated/orders -name 'part-*.parquet' | sed 's,/[^/]*$,,' | sort | uniq -c |
       sort -n | tail -n 1 | awk '{print $1}')
[ "$most" -le 8 ] || fail "a day has $most files"
sluice verify | grep -q "^ok"
expect_eq "one row per key after small runs" \
    "$(q "SELECT count(*) - count(DISTINCT order_id) FROM curated.orders")" 0

say "everything rewritten: all deletion files retire"
sed -i 's/compact_deleted_percent: 8/compact_deleted_percent: 0/' sluice.yaml
sluice ingest --source orders "$T/d3.jsonl" >/dev/null
sluice transform --source orders >/dev/null
state > mor.state
diff "$T/cow-d3.state" mor.state || fail "the table differs from copy-on-write"
sluice verify | grep -q "^ok"
say "ok: $nfiles files at the start, $(live_deletes) live deletion file(s) at the end"
