#!/bin/sh
# 161-iceberg-reader.sh - the independent Iceberg reader tooling, proved on
# a table sluice did not write.
#
# Later tests read the Iceberg tables sluice writes with icebird (an npm
# reader, not sluice, not DuckDB) through tests/lib/iceberg_read.mjs and
# compare its rows with `sluice query` through tests/lib/iceberg_compare.py.
# Here tests/lib/iceberg_fixture.py builds a small v2 table by hand (two
# data files, one position delete file retiring one row, Avro manifests and
# manifest lists, metadata.json) and the tooling must: read it through
# file:// URLs, drop the deleted row, keep every value exact (microseconds,
# 64-bit integers beyond 2^53, decimals, dates before 1970), match the rows
# DuckDB renders for the same values, and fail loudly when rows differ or
# files are missing.
. "$SLUICE_SRC/tests/e2e/lib.sh"

LIB="$SLUICE_SRC/tests/lib"
NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"
export NODE_MODULES
command -v node >/dev/null 2>&1 || fail "node is not installed"
[ -f "$NODE_MODULES/icebird/package.json" ] ||
    fail "icebird is not in $NODE_MODULES: run scripts/setup.sh test"

read_table() { node "$LIB/iceberg_read.mjs" "$@" </dev/null; }
compare() { "$PY" "$LIB/iceberg_compare.py" "$@"; }

say "build the fixture table"
SLUICE="$SLUICE" "$PY" "$LIB/iceberg_fixture.py" "$T/fx" >/dev/null
META=$(cat "$T/fx/metadata.path")
[ -f "$META" ] || fail "the fixture wrote no metadata.json"

say "icebird reads it, the deleted row left out"
read_table "$META" >"$T/ice.jsonl" 2>"$T/ice.err" || { cat "$T/ice.err"; fail "iceberg_read"; }
cat "$T/ice.err"
cat "$T/ice.jsonl"
expect_eq "rows read" "$(wc -l < "$T/ice.jsonl")" 4
grep -q '"id":"2"' "$T/ice.jsonl" && fail "the position-deleted row (id 2) was read"
grep -q '1 removed by deletes' "$T/ice.err" || fail "the summary does not count the deleted row"
grep -q '"id":"9007199254740993"' "$T/ice.jsonl" || fail "a long beyond 2^53 was not read exactly"
grep -q '"ts":"2026-01-02T03:04:05.123456Z"' "$T/ice.jsonl" || fail "microseconds lost"
grep -q '"ts":"1969-12-31T23:59:59.999999Z"' "$T/ice.jsonl" || fail "a timestamp before 1970"
grep -q '"amount":"12.50"' "$T/ice.jsonl" || fail "a decimal was not read exactly"
expect_eq "--count" "$(read_table "$META" --count 2>/dev/null)" \
    '{"rows":4,"data_files":2,"delete_files":1}'

say "its rows match what DuckDB renders for the live rows"
compare "$T/ice.jsonl" "$T/fx/expected.jsonl"
compare "$T/ice.jsonl" "$T/fx/expected.jsonl" --key id

say "a difference is caught: the deleted row, one microsecond, a column"
if compare "$T/ice.jsonl" "$T/fx/all.jsonl" >"$T/out"; then
    cat "$T/out"; fail "the compare missed the deleted row"
fi
grep -q 'only sluice: {"id": 2' "$T/out" || { cat "$T/out"; fail "the extra row is not shown"; }
sed 's/03:04:05.123456+00/03:04:05.123457+00/' "$T/fx/expected.jsonl" > "$T/off.jsonl"
if compare "$T/ice.jsonl" "$T/off.jsonl" --key id >"$T/out"; then
    cat "$T/out"; fail "the compare missed a one-microsecond difference"
fi
grep -q '^    ts: ' "$T/out" || { cat "$T/out"; fail "the differing column is not named"; }
sed 's/"amount": 99999.99/"amount": 99999.98/' "$T/fx/expected.jsonl" > "$T/off.jsonl"
if compare "$T/ice.jsonl" "$T/off.jsonl" >"$T/out"; then
    cat "$T/out"; fail "the compare missed a decimal off by one cent"
fi
sed 's/, "ok": [a-z]*//' "$T/fx/expected.jsonl" > "$T/off.jsonl"
if compare "$T/ice.jsonl" "$T/off.jsonl" >"$T/out"; then
    cat "$T/out"; fail "the compare missed a missing column"
fi
grep -q '^columns differ: only icebird: \[.ok.\]' "$T/out" || { cat "$T/out"; fail "the column is not named"; }
compare "$T/ice.jsonl" "$T/off.jsonl" --ignore ok >/dev/null ||
    fail "--ignore does not leave the column out"

say "the reader fails loudly on a broken table"
rm "$(ls "$T"/fx/table/data/del-*.parquet)"
expect_fail "del-1.parquet" read_table "$META"
expect_fail "not in <location>/metadata/" read_table "$T/fx/metadata.path"
