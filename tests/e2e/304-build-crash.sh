#!/bin/sh
# 304-build-crash.sh - a crash during `sluice build` leaves each gold table
# at its previous snapshot, or (once its commit happened) at the new one,
# never in between.
#
# A clean build of two models (an incremental merge, which writes a
# position delete file, and a table, which retires its old file) is traced
# (SLUICE_FAULT_TRACE) and then crashed (SLUICE_FAULT=crash@POINT:N) at
# each step of the commit protocol each model passes (found in the
# trace).  After each crash, before any sluice command recovers anything:
# the catalog holds a model's new build record exactly when the crash came
# after that model's catalog commit, and a model not committed reads, to
# icebird, as before the build, from the very metadata file it had.  After
# recovery (sluice verify, content): every table reads through sluice query
# and icebird as before or as after the build, as its commit says; a rerun
# builds and equals a full rebuild (--full-refresh) of the same inputs; and
# the files a crash left under a gold table are exactly those that
# `sluice orphans` lists (checked against the files the table's Iceberg
# metadata references, walked with python3-avro), and nothing else is left
# once it removed them.
#
# The build lock: a build stopped while it holds a model's lock makes a
# second build of that model wait for the lock (seen in /proc/locks or
# pg_locks); killed with SIGKILL, it blocks nothing: the second build goes
# on and finishes.
. "$SLUICE_SRC/tests/e2e/lib.sh"

# Builds started in the background (some stopped) go with the test.
STRAYS=
kill_strays() {
    for p in $STRAYS; do kill -KILL "$p" 2>/dev/null || true; done
}
trap 'st=$?; kill_strays; set +e; (exit $st); cleanup' EXIT

# Every build below runs in $T/run: the Iceberg metadata holds absolute
# file:// locations, which icebird follows, so the project is put back in
# place (save/restore: its folder and its catalog) rather than copied.
sluice init "$T/run" >/dev/null
cd "$T/run"
# One worker: the fault points come in one order, run after run.
printf 'build:\n  threads: 1\n' >> sluice.yaml
write_shop_orders
# batch FIRST N SHIFT HOUR: orders FIRST.. (N of them), customers shifted
# by SHIFT, at HOUR of their day (a later hour replaces an earlier version).
batch() {
    "$PY" -c 'import sys
first, n, shift, hour = (int(a) for a in sys.argv[1:5])
for i in range(first, first + n):
    print("{\"order_id\": %d, \"customer\": \"c%d\", \"amount\": \"%d.%02d\", \"ordered_at\": \"2026-03-%02dT%02d:00:00Z\"}"
          % (i, (i + shift) % 25, (i * 7 + shift) % 500, i % 100, 1 + i % 28, hour))' "$@"
}
mkdir -p models
cat > models/c360.sql <<'SQL'
-- materialized: incremental
-- unique_key: customer
SELECT customer, count(*) AS orders, sum(amount) AS total, max(ordered_at) AS last_order
FROM curated.orders
GROUP BY customer
SQL
cat > models/totals.sql <<'SQL'
SELECT customer, count(*) AS orders, sum(amount) AS total
FROM curated.orders
GROUP BY customer
SQL
MODELS="c360 totals"

batch 0 600 0 1 > "$T/b1.jsonl"
sluice ingest --source orders "$T/b1.jsonl" >/dev/null
sluice transform --source orders >/dev/null
sluice build >/dev/null || fail "the first build"
# The build crashed at: new orders, and updates that move orders to other
# customers (the merge deletes rows, the table retires its file).
{ batch 600 200 0 1; batch 0 150 4 6; } > "$T/b2.jsonl"
sluice ingest --source orders "$T/b2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
cd "$T"

# save: the project in $T/run as it is now, to restore as often as needed.
save_project() {
    rm -rf "$T/pristine"
    cp -a "$T/run" "$T/pristine"
    db=$(catalog_of "$T/run")
    if [ -n "$db" ]; then
        pg_admin -c "DROP DATABASE IF EXISTS ${db##*/}_pristine" >/dev/null
        pg_admin -c "CREATE DATABASE ${db##*/}_pristine TEMPLATE ${db##*/}" >/dev/null
    fi
}
restore_project() {
    rm -rf "$T/run"
    cp -a "$T/pristine" "$T/run"
    db=$(catalog_of "$T/run")
    if [ -n "$db" ]; then
        pg_admin -c "DROP DATABASE IF EXISTS ${db##*/} WITH (FORCE)" >/dev/null
        pg_admin -c "CREATE DATABASE ${db##*/} TEMPLATE ${db##*/}_pristine" >/dev/null
    fi
}
save_project

LIB="$SLUICE_SRC/tests/lib"
export NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"

# rows MODEL: gold.MODEL through sluice query, sorted.
rows() {
    sluice query --format csv "SELECT * FROM gold.$1 ORDER BY ALL"
}
# cat_state: each gold table's name, count of builds and metadata file,
# from the catalog (one query), into $T/cat; meta MODEL reads it.
cat_state() {
    catalog_sql "SELECT t.table_name,
        (SELECT count(*) FROM model_builds b WHERE b.model = t.table_name), t.metadata_location
        FROM iceberg_tables t WHERE t.table_namespace = 'gold' ORDER BY 1" > "$T/cat"
}
meta() { awk -F'|' -v m="$1" '$1 == m {sub("^file://", "", $3); print $3}' "$T/cat"; }
builds() { awk -F'|' -v m="$1" '$1 == m {print $2}' "$T/cat"; }
# ice MODEL: gold.MODEL through icebird, sorted; no sluice command runs.
ice() {
    cat_state
    ice_at "$1" "$(meta "$1")"
}
# ice_at MODEL METADATA: the same, from the metadata file given.
ice_at() {
    node "$LIB/iceberg_read.mjs" "$2" >"$T/ice.raw" 2>"$T/ice.err" \
        </dev/null || { cat "$T/ice.err" >&2; fail "icebird cannot read gold.$1"; }
    sort "$T/ice.raw"
}
# save NAME: the state of every model of the project in $T/run, as
# NAME.<model>.{rows,ice,meta}.
save() {
    (cd "$T/run" && for m in $MODELS; do
        rows "$m" > "$T/$1.$m.rows"
        ice "$m" > "$T/$1.$m.ice"
        meta "$m" > "$T/$1.$m.meta"
    done)
}
# The files of a table: those under its folder (orphans or not), and
# those its Iceberg metadata references (every metadata file in the log,
# every snapshot's manifest list, their manifests and every file they
# name), read with python3-avro, not sluice.
cat > "$T/referenced.py" <<'PY'
import json, os, sys
from avro.datafile import DataFileReader
from avro.io import DatumReader

def local(p):
    return os.path.realpath(p.removeprefix("file://"))

def records(p):
    with DataFileReader(open(local(p), "rb"), DatumReader()) as r:
        return list(r)

meta_path = sys.argv[1]
meta = json.load(open(meta_path))
refs = {local(meta_path)}
refs |= {local(e["metadata-file"]) for e in meta.get("metadata-log", [])}
for s in meta.get("snapshots", []):
    refs.add(local(s["manifest-list"]))
    for m in records(s["manifest-list"]):
        refs.add(local(m["manifest_path"]))
        for e in records(m["manifest_path"]):
            refs.add(local(e["data_file"]["file_path"]))
for r in sorted(refs):
    print(r)
PY
# unreferenced MODEL: the files under gold.MODEL's folder that its
# metadata does not reference, as lake keys, sorted.
unreferenced() {
    "$PY" -W ignore "$T/referenced.py" "$(meta "$1")" > "$T/refs" || fail "walking gold.$1"
    lake=$(realpath lake)
    find "$lake/gold/$1" -type f | sort | comm -23 - "$T/refs" | sed "s|^$lake/||"
}

say "the uninterrupted build, and a full rebuild of the same inputs"
save pre
(cd run && SLUICE_FAULT_TRACE="$T/trace" sluice build > "$T/ref.out") || fail "the clean build"
cat "$T/ref.out"
save ref
restore_project
(cd run && sluice build --full-refresh >/dev/null) || fail "the full rebuild"
save full
for m in $MODELS; do
    diff "$T/ref.$m.rows" "$T/full.$m.rows" >/dev/null || fail "gold.$m: incremental != full"
    diff "$T/ref.$m.ice" "$T/full.$m.ice" >/dev/null || fail "gold.$m: icebird, incremental != full"
    ! diff "$T/pre.$m.rows" "$T/ref.$m.rows" >/dev/null || fail "gold.$m: the build changed nothing"
done
# The models in the order they were built, and where in the trace each
# one's catalog commit happened: the first catalog.commit after the
# model's build.before_commit (the commit is made between the points
# catalog.commit and catalog.committed).
ORDER=$(awk '$1 == "built" {sub(/^gold\./, "", $2); print $2}' "$T/ref.out" | tr '\n' ' ')
expect_eq "build order" "$ORDER" "c360 totals "
awk '$1 == "build.before_commit" {want = 1} want && $1 == "catalog.commit" {print NR; want = 0}' \
    "$T/trace" > "$T/commit_lines"
expect_eq "commits" "$(wc -l < "$T/commit_lines")" 2
grep -q '^store.publish$' "$T/trace" || fail "no publication in the trace"
sort "$T/trace" | uniq -c | awk '{print $2, $1}' > "$T/points"
cat "$T/points"

# committed_at MODEL LINE: whether MODEL's commit precedes trace line LINE.
committed_at() {
    i=1
    for m in $ORDER; do
        [ "$m" = "$1" ] && break
        i=$((i + 1))
    done
    [ "$(sed -n "${i}p" "$T/commit_lines")" -lt "$2" ]
}

# The crashes: in each model's part of the trace (up to its commit.clear),
# one at each step of the protocol: its first seal (rows staged), inside
# its commit transaction (build.before_commit: its metadata files written),
# just after its commit (the catalog.committed after that), at its first
# publication after the commit (its data file), and before its pending
# publications are cleared.  Each as POINT:HIT, the hit counted over the
# whole trace.
awk '{ hit[$1]++; k = $1 ":" hit[$1] }
     $1 == "store.seal" && !seal { print k; seal = 1 }
     $1 == "build.before_commit" { print k; incommit = 1 }
     $1 == "catalog.committed" && incommit { print k; incommit = 0 }
     $1 == "build.after_commit" { after = 1 }
     $1 == "store.publish" && after { print k; after = 0 }
     $1 == "commit.clear" { print k; seal = 0 }' "$T/trace" > "$T/crashes"
# ASan runs are slower: the second model's steps only (the first built).
[ "${SLUICE_MODE:-}" = asan ] && sed -i '1,5d' "$T/crashes"
cat "$T/crashes" | tr '\n' ' '
echo
checked=0
orphaned=0
while IFS=: read -r point n; do
    key="$point:$n"
    # The trace line this crash happens at.
    line=$(awk -v p="$point" -v n="$n" '$1 == p && ++k == n {print NR; exit}' "$T/trace")
    restore_project
    cd run
    status=0
    SLUICE_FAULT="crash@$key" "$SLUICE" build >/dev/null 2>&1 || status=$?
    [ $status -eq 137 ] || fail "crash@$key: expected SIGKILL (137), got $status"

    # Before any recovery: the catalog says what happened, and a model
    # whose commit did not happen is untouched for other readers.
    : > "$T/expect"
    cat_state
    for m in $MODELS; do
        if committed_at "$m" "$line"; then
            expect_eq "crash@$key: gold.$m committed, builds" "$(builds "$m")" 2
            echo "$m ref" >> "$T/expect"
        else
            expect_eq "crash@$key: gold.$m not committed, builds" "$(builds "$m")" 1
            expect_eq "crash@$key: gold.$m metadata" "$(meta "$m")" "$(cat "$T/pre.$m.meta")"
            ice_at "$m" "$(meta "$m")" > "$T/run.ice"
            diff "$T/pre.$m.ice" "$T/run.ice" >/dev/null ||
                fail "crash@$key: icebird reads gold.$m otherwise than before the build"
            echo "$m pre" >> "$T/expect"
        fi
    done

    # Recovery (any command does it: it finishes the publications a
    # committed run owes); verify is content, and each table reads as its
    # commit says, through sluice and icebird.
    sluice verify > "$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "crash@$key: verify"; }
    cat_state
    while read -r m state; do
        rows "$m" > "$T/run.rows"
        diff "$T/$state.$m.rows" "$T/run.rows" >/dev/null ||
            fail "crash@$key: gold.$m does not read as $state"
        if [ $state = ref ]; then
            ice_at "$m" "$(meta "$m")" > "$T/run.ice"
            diff "$T/ref.$m.ice" "$T/run.ice" >/dev/null ||
                fail "crash@$key: icebird reads gold.$m otherwise than after the build"
        fi
    done < "$T/expect"

    # The rerun equals the full rebuild.
    sluice build > "$T/rerun.out" 2>&1 || { cat "$T/rerun.out"; fail "crash@$key: the rerun"; }
    for m in $MODELS; do
        rows "$m" > "$T/run.rows"
        diff "$T/full.$m.rows" "$T/run.rows" >/dev/null ||
            fail "crash@$key: after the rerun gold.$m differs from a full rebuild"
    done

    # What the crash left is what `sluice orphans` finds and removes, no
    # more, no less; then the table's folder holds exactly the files its
    # metadata references, and icebird reads it as the full rebuild.
    cat_state
    for m in $MODELS; do
        unreferenced "$m" > "$T/left"
        sluice orphans "gold.$m" --older-than 0s --delete > "$T/orphans.out" ||
            fail "crash@$key: sluice orphans gold.$m --delete"
        sed -n 's/^removed //p' "$T/orphans.out" | sort > "$T/found"
        diff "$T/left" "$T/found" > "$T/orphans.diff" ||
            { cat "$T/orphans.diff"; fail "crash@$key: gold.$m: files left (<) != orphans removed (>)"; }
        find "$(realpath lake)/gold/$m" -type f | sort > "$T/now"
        diff "$T/refs" "$T/now" >/dev/null ||
            { diff "$T/refs" "$T/now"; fail "crash@$key: gold.$m: its files != its references"; }
        if [ -s "$T/left" ]; then
            echo "  crash@$key: gold.$m: $(wc -l < "$T/left") orphan(s) removed"
            orphaned=$((orphaned + 1))
        fi
        # A table the crashed build did not commit was built by the rerun
        # (the others were read by icebird above, as after the build).
        if grep -qx "$m pre" "$T/expect"; then
            ice_at "$m" "$(meta "$m")" > "$T/run.ice"
            diff "$T/full.$m.ice" "$T/run.ice" >/dev/null ||
                fail "crash@$key: after the rerun icebird reads gold.$m otherwise than a full rebuild"
        fi
    done
    # No staged file is left: the crashed process's area was swept.
    left=$(find lake/_staging -type f ! -name '*.lock' ! -name '.owner' 2>/dev/null | wc -l)
    expect_eq "crash@$key: staged files left" "$left" 0
    cd "$T"
    checked=$((checked + 1))
done < "$T/crashes"
say "$checked crash points checked"
[ "$checked" -ge 5 ] || fail "too few crash points ($checked)"
# A crash inside the commit leaves the metadata files written for it.
[ "$orphaned" -ge 1 ] || fail "no crash left an orphan file: the orphan check saw nothing"

say "a build killed while it holds a model's lock blocks nobody"
restore_project
cd run
SLUICE_FAULT="stop@store.seal:1" "$SLUICE" build c360 >"$T/holder.out" 2>&1 &
holder=$!
STRAYS="$STRAYS $holder"
stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
wait_for 60 stopped $holder || fail "the first build did not stop at store.seal"
"$SLUICE" build c360 >"$T/second.out" 2>&1 &
second=$!
STRAYS="$STRAYS $second"
# The second build waits for the lock the stopped one holds.
waiting() {
    if [ "$CATALOG" = postgres ]; then
        [ "$(catalog_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")" -ge 1 ]
    else
        grep -q -- "-> FLOCK  *ADVISORY  *WRITE $second " /proc/locks
    fi
}
wait_for 60 waiting || { cat /proc/locks; fail "the second build does not wait for the lock"; }
kill -0 $second 2>/dev/null || fail "the second build did not wait"
kill -KILL $holder
st=0
wait $holder || st=$?
expect_eq "the holder was killed" "$st" 137
st=0
wait $second || st=$?
[ $st -eq 0 ] || { cat "$T/second.out"; fail "the build after the killed one failed ($st)"; }
grep -q "^1 model(s): 1 built" "$T/second.out" || { cat "$T/second.out"; fail "second build"; }
rows c360 > "$T/run.rows"
diff "$T/full.c360.rows" "$T/run.rows" >/dev/null || fail "after the lock: gold.c360 differs"
conform gold.c360
sluice verify >/dev/null || fail "verify after the lock"
