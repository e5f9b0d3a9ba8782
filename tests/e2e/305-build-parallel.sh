#!/bin/sh
# 305-build-parallel.sh - sluice build: independent models in parallel,
# dependency order, failure isolation, --select and cycles.
#
# Parallelism is shown by events, not by timing: a build of model pa is
# stopped (SLUICE_FAULT=stop@store.seal, which SIGSTOPs the whole process)
# while it holds pa's build lock.  `sluice build pa pb` with build.threads 2
# then waits for that lock (seen in /proc/locks or pg_locks) and meanwhile
# builds pb to the end (its build record is committed while the build still
# waits); with build.threads 1 it waits before pb, which is built after pa.
#
# A diamond (b and c read a, d reads b and c) with an SQL error in c: a
# and b are built, c fails with its file, line and column, d is skipped
# naming gold.c, the summary says each model's outcome, rows and files,
# and the exit status is 1.  Once c is fixed, d reads the snapshots of b
# and c made by the same build.  --select +b builds a and b only, a+ a and
# every model that reads it.  A cycle between models is an error naming
# it, and nothing is built.
. "$SLUICE_SRC/tests/e2e/lib.sh"

# Builds started in the background (some stopped) go with the test.
STRAYS=
kill_strays() {
    for p in $STRAYS; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'st=$?; kill_strays; set +e; (exit $st); cleanup' EXIT

new_project
write_shop_orders
"$PY" -c '
for i in range(2000):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-04-%02dT10:00:00Z\"}"
          % (i, i % 30, i % 311, i % 100, 1 + i % 28))' > "$T/o.jsonl"
sluice ingest --source orders "$T/o.jsonl" >/dev/null
sluice transform --source orders >/dev/null

mkdir -p models
cat > models/pa.sql <<'SQL'
SELECT customer, count(*) AS orders FROM curated.orders GROUP BY customer
SQL
cat > models/pb.sql <<'SQL'
SELECT customer, sum(amount) AS total FROM curated.orders GROUP BY customer
SQL

set_threads() {
    sed -i '/^build:/,$d' sluice.yaml
    printf 'build:\n  threads: %s\n' "$1" >> sluice.yaml
}
# The number of builds of MODEL recorded, and the run of its last one.
nbuilds() { catalog_sql "SELECT count(*) FROM model_builds WHERE model = '$1'"; }
last_run() { catalog_sql "SELECT max(run_id) FROM model_builds WHERE model = '$1'"; }
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
# waiting PID: process PID waits for a named lock another holds.
waiting() {
    if [ "$CATALOG" = postgres ]; then
        [ "$(catalog_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" -ge 1 ]
    else
        grep -q -- "-> FLOCK  *ADVISORY  *WRITE $1 " /proc/locks
    fi
}
# hold_pa: a build of pa stopped while it holds pa's lock; sets HOLDER.
hold_pa() {
    SLUICE_FAULT="stop@store.seal:1" "$SLUICE" build pa >"$T/holder.out" 2>&1 &
    HOLDER=$!
    STRAYS="$STRAYS $HOLDER"
    wait_for 60 stopped $HOLDER || fail "the build of pa did not stop"
}
# release_holder: let the held build of pa go on; it must succeed.
release_holder() {
    kill -CONT $HOLDER
    st=0
    wait $HOLDER || st=$?
    [ $st -eq 0 ] || { cat "$T/holder.out"; fail "the held build of pa ($st)"; }
}
pb_built() { [ "$(nbuilds pb)" -gt "$1" ]; }

say "build.threads 2: pb is built while pa waits for its lock"
set_threads 2
sluice build >/dev/null || fail "the first build"
hold_pa
pb0=$(nbuilds pb)
pa0=$(nbuilds pa)
"$SLUICE" build pa pb >"$T/main.out" 2>&1 &
main=$!
STRAYS="$STRAYS $main"
wait_for 60 pb_built "$pb0" || { kill $main; fail "pb was not built while pa waited"; }
# The event: pb's build is committed, and the build is still waiting for
# pa's lock, having built nothing of pa.
waiting $main || fail "the build does not wait for pa's lock"
kill -0 $main 2>/dev/null || fail "the build ended"
expect_eq "pa not built meanwhile" "$(nbuilds pa)" "$pa0"
release_holder
st=0
wait $main || st=$?
[ $st -eq 0 ] || { cat "$T/main.out"; fail "the parallel build ($st)"; }
cat "$T/main.out"
grep -q "^2 model(s): 2 built, 0 failed, 0 held, 0 skipped" "$T/main.out" || fail "two built"
# pa built by the holder, then by this build: its run after pb's.
expect_eq "pa builds" "$(nbuilds pa)" $((pa0 + 2))
[ "$(last_run pb)" -lt "$(last_run pa)" ] || fail "pb's run is not before pa's"
conform gold.pa
conform gold.pb

say "build.threads 1: one model after the other, pa (first by name) before pb"
set_threads 1
hold_pa
pb0=$(nbuilds pb)
pa0=$(nbuilds pa)
"$SLUICE" build pa pb >"$T/main.out" 2>&1 &
main=$!
STRAYS="$STRAYS $main"
wait_for 60 waiting $main || { kill $main; fail "the build does not wait for pa's lock"; }
# Its one worker waits for pa: pb is not built meanwhile.
expect_eq "pb not built while pa waits" "$(nbuilds pb)" "$pb0"
release_holder
st=0
wait $main || st=$?
[ $st -eq 0 ] || { cat "$T/main.out"; fail "the serial build ($st)"; }
expect_eq "pb builds" "$(nbuilds pb)" $((pb0 + 1))
[ "$(last_run pa)" -lt "$(last_run pb)" ] || fail "pa's run is not before pb's"
set_threads 2

say "a diamond with an SQL error in c: a and b built, d skipped, exit 1"
cat > models/a.sql <<'SQL'
SELECT customer, count(*) AS orders, sum(amount) AS total
FROM curated.orders GROUP BY customer
SQL
cat > models/b.sql <<'SQL'
SELECT customer, total FROM gold.a WHERE orders >= 67
SQL
cat > models/c.sql <<'SQL'
SELECT customer,
       orders * no_such_column AS x
FROM gold.a
SQL
cat > models/d.sql <<'SQL'
SELECT b.customer, b.total, c.orders
FROM gold.b b JOIN gold.c c USING (customer)
SQL
st=0
sluice build --select a+ >"$T/d1.out" 2>&1 || st=$?
cat "$T/d1.out"
expect_eq "exit status with a failed model" "$st" 1
grep -q "^built    gold.a  .* table  .* 30 rows  1 file(s) .* run [0-9]*, snapshot [0-9]*$" "$T/d1.out" ||
    fail "a's line: built, rows, files, run, snapshot"
nb=$(q "SELECT count(*) FROM gold.b")
grep -q "^built    gold.b  .* table  .* $nb rows  1 file(s) " "$T/d1.out" || fail "b's line"
grep -q "^FAILED   gold.c  .* table  .* models/c.sql:2:[0-9]*: Binder Error" "$T/d1.out" ||
    fail "c's line: the file, line and column of its error"
grep -q "^skipped  gold.d  .* table  .*gold.c" "$T/d1.out" || fail "d's line: skipped for gold.c"
grep -q "^4 model(s): 2 built, 1 failed, 0 held, 1 skipped$" "$T/d1.out" || fail "the summary"
expect_eq "c and d not built" "$(catalog_sql "SELECT count(*) FROM model_builds WHERE model IN ('c', 'd')")" 0
expect_eq "no tables c and d" \
    "$(catalog_sql "SELECT count(*) FROM iceberg_tables WHERE table_namespace = 'gold' AND table_name IN ('c', 'd')")" 0
expect_eq "b's rows" "$(q "SELECT count(*), sum(total) FROM gold.b")" \
    "$(q "SELECT count(*), sum(total) FROM gold.a WHERE orders >= 67")"
conform gold.a
conform gold.b

say "c fixed: all four built, d reading the b and c this build made"
cat > models/c.sql <<'SQL'
SELECT customer, orders FROM gold.a WHERE orders < 67 OR customer IN ('c0', 'c1')
SQL
sluice build --select a+ >"$T/d2.out" || { cat "$T/d2.out"; fail "the diamond"; }
cat "$T/d2.out"
grep -q "^4 model(s): 4 built, 0 failed, 0 held, 0 skipped" "$T/d2.out" || fail "four built"
for up in a:b a:c b:d c:d; do
    from=${up%:*} to=${up#*:}
    expect_eq "gold.$to read gold.$from as this build made it" \
        "$(catalog_sql "SELECT i.snapshot_id FROM build_inputs i
            WHERE i.run_id = (SELECT max(run_id) FROM model_builds WHERE model = '$to')
              AND i.table_name = 'gold.$from'")" \
        "$(catalog_sql "SELECT snapshot_id FROM model_builds WHERE run_id =
            (SELECT max(run_id) FROM model_builds WHERE model = '$from')")"
    [ "$(last_run "$from")" -lt "$(last_run "$to")" ] || fail "$from's run is not before $to's"
done
expect_eq "d's rows" "$(q "SELECT count(*), sum(total), sum(orders) FROM gold.d")" \
    "$(q "SELECT count(*), sum(total), sum(orders) FROM (SELECT customer, count(*) AS orders,
          sum(amount) AS total FROM curated.orders GROUP BY customer)
          WHERE orders >= 67 AND customer IN ('c0', 'c1')")"
conform gold.c
conform gold.d

# built_by FILE: the models a build's output says it built, in one line.
built_by() { awk '$1 == "built" {print $2}' "$1" | sort | tr '\n' ' '; }
# builds_now: every model's count of builds, one line.
builds_now() { catalog_sql "SELECT model, count(*) FROM model_builds GROUP BY model ORDER BY model" | tr '\n' ' '; }

say "--select +b: b and what it reads, nothing else"
before=$(catalog_sql "SELECT max(run_id) FROM model_builds")
sluice build --select +b >"$T/s1.out" || { cat "$T/s1.out"; fail "--select +b"; }
cat "$T/s1.out"
expect_eq "built with +b" "$(built_by "$T/s1.out")" "gold.a gold.b "
grep -q "^2 model(s): 2 built" "$T/s1.out" || fail "+b: the summary"
expect_eq "new builds with +b" "$(catalog_sql "SELECT model FROM model_builds WHERE run_id > $before ORDER BY model" | tr '\n' ' ')" "a b "

say "--select a+: a and every model that reads it"
before=$(catalog_sql "SELECT max(run_id) FROM model_builds")
sluice build --select a+ >"$T/s2.out" || { cat "$T/s2.out"; fail "--select a+"; }
expect_eq "built with a+" "$(built_by "$T/s2.out")" "gold.a gold.b gold.c gold.d "
expect_eq "new builds with a+" "$(catalog_sql "SELECT model FROM model_builds WHERE run_id > $before ORDER BY model" | tr '\n' ' ')" "a b c d "
conform gold.d

say "a cycle: an error naming it, and nothing built"
cat > models/e.sql <<'SQL'
SELECT customer FROM gold.f
SQL
cat > models/f.sql <<'SQL'
SELECT customer
FROM gold.e
SQL
before=$(builds_now)
snaps=$(catalog_sql "SELECT table_name, metadata_location FROM iceberg_tables ORDER BY 1" | sha256sum)
expect_fail "models/e.sql:1: models form a cycle: e -> f -> e" sluice build
grep -q "models/e.sql:1 reads gold.f; .*models/f.sql:2 reads gold.e" "$T/err" ||
    fail "the cycle's reads, with their lines"
expect_fail "models form a cycle" sluice build a
expect_fail "models form a cycle" sluice build --select pb
expect_eq "nothing built" "$(builds_now)" "$before"
expect_eq "no table changed" \
    "$(catalog_sql "SELECT table_name, metadata_location FROM iceberg_tables ORDER BY 1" | sha256sum)" "$snaps"
rm models/e.sql models/f.sql
sluice build >/dev/null || fail "the build after the cycle is gone"
sluice verify >/dev/null || fail "verify"
