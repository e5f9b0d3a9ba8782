#!/bin/sh
# 285-iceberg-upgrade.sh - a lake written by the release before Iceberg
# tables (733846f) is upgraded in place and reads the same rows.
#
# The previous release is built from this repository's history (make
# baseline, into build/baseline/, once).  It writes a curated table with
# merge-on-read deletion files of its own format (one per run, spanning
# days, naming files by store key).  The new binary then: migrates the
# catalog, reads the same rows before any run, and on its first transform
# run gives the table its first Iceberg snapshot - every kept file, and the
# old deletes written anew as Iceberg position deletes - which icebird
# reads with the same rows as sluice query; the result equals a lake the
# new binary wrote from the start.
. "$SLUICE_SRC/tests/e2e/lib.sh"

OLD_COMMIT=733846f
OLD="$SLUICE_SRC/build/baseline/$OLD_COMMIT/build/release/sluice"
if [ ! -x "$OLD" ]; then
    say "building the previous release $OLD_COMMIT (once)"
    make -C "$SLUICE_SRC" --no-print-directory baseline BASELINE=$OLD_COMMIT \
        >"$T/build.log" 2>&1 || { tail -n 30 "$T/build.log"; fail "cannot build $OLD_COMMIT"; }
fi

state() {
    sluice query --format csv \
        "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" | sha256sum
}

$PY "$SLUICE_SRC/bench/gen_orders.py" base 4000 "$T/base.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 1500 4000 "$T/d1.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 1200 5500 "$T/d2.jsonl"

say "the reference: the new release from the start"
sluice init "$T/ref" >/dev/null
cd "$T/ref"
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
for f in base d1 d2; do
    sluice ingest --source orders "$T/$f.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
    state > "$T/ref-$f.state"
done

say "the previous release writes the lake"
new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
for f in base d1; do
    "$OLD" ingest --source orders "$T/$f.jsonl" >/dev/null
    "$OLD" transform --source orders >/dev/null
done
ls lake/curated/orders/_deletes/*.parquet >/dev/null 2>&1 ||
    fail "the previous release wrote no deletion file (nothing to upgrade)"
[ ! -d lake/curated/orders/metadata ] || fail "the previous release wrote Iceberg metadata"
"$OLD" query --format csv \
    "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" | sha256sum > old.state
diff "$T/ref-d1.state" old.state || fail "the two releases disagree before the upgrade"

say "the new release reads the same rows before any run"
if [ -n "$(catalog_of .)" ]; then
    sluice catalog migrate >/dev/null || fail "catalog migrate"
fi
state > before.state
diff old.state before.state || fail "the new release reads the old lake differently"
sluice verify > verify.out || { cat verify.out; fail "verify of the old lake"; }
grep -q "no Iceberg metadata yet" verify.out || { cat verify.out; fail "verify says nothing"; }

say "its first run makes the first snapshot: old files, old deletes anew"
sluice ingest --source orders "$T/d2.jsonl" >/dev/null
sluice transform --source orders >/dev/null
state > after.state
diff "$T/ref-d2.state" after.state || fail "the upgraded table differs from the reference"
expect_eq "snapshots" "$(sluice snapshots --json curated.orders | wc -l | tr -d ' ')" 1
expect_eq "live deletion files of the old format" "$(catalog_sql "
    SELECT count(*) FROM curated_deletes WHERE removed_run IS NULL
    AND key NOT LIKE '%-____-__-__.parquet'")" 0
conform orders
sluice verify >/dev/null || fail "verify after the upgrade"
sluice expire curated.orders --older-than 0s >/dev/null
sluice orphans curated.orders --older-than 0s | tail -n 1
state > expired.state
diff after.state expired.state || fail "expiry after the upgrade changed the rows"
