#!/bin/sh
# 400-interop-parquet.sh - the curated Parquet read by an independent
# reader (hyparquet, not DuckDB), every value compared with a table that
# Python recomputes from the input files and the dedup rule.
#
# tests/lib/interop_data.py writes the inputs - every contract type, CSV
# (BOM, CRLF, quoted line breaks), JSON lines (also gzip), a JSON array,
# duplicates in a batch, updates that move keys between days, exact
# redeliveries, ties on event time, bad records, contract 1.1 adding
# nullable columns - and a plan of ingests and transforms.  After every
# transform read_parquet.mjs reads all live files; at the end
# interop_data.py check compares each stage: values, metadata columns,
# partitions, keys, field ids (catalog, files, across runs) and the runs'
# accounts.
. "$SLUICE_SRC/tests/e2e/lib.sh"

LIB="$SLUICE_SRC/tests/lib"
NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"
export NODE_MODULES
command -v node >/dev/null 2>&1 || fail "node is not installed"
for m in hyparquet hyparquet-compressors; do
    [ -f "$NODE_MODULES/$m/package.json" ] ||
        fail "$m is not in $NODE_MODULES: run scripts/setup.sh test"
done
D="$T/data"

say "generate the inputs"
"$PY" "$LIB/interop_data.py" gen "$D"

new_project
# Small row groups, so the large day's files hold several.
cat >> sluice.yaml <<'YAML'
transform:
  row_group_rows: 2048
YAML

say "run the plan"
stage=0
: > "$D/ingest-times.txt"
while read -r op arg rest <&3; do
    case $op in
    contract)
        cp "$D/in/$rest" sources/interop.yaml
        echo "contract: versions up to $arg ($rest)"
        ;;
    ingest)
        set --
        [ "$arg" = - ] || set -- --contract-version "$arg"
        for f in $rest; do
            set -- "$@" "$D/in/$f"
        done
        t0=$(date +%s%6N)
        sluice ingest --source interop "$@" </dev/null || fail "ingest of $rest"
        t1=$(date +%s%6N)
        echo "$t0 $t1" >> "$D/ingest-times.txt"
        ;;
    transform)
        stage=$((stage + 1))
        sluice transform --source interop </dev/null >"$T/out" 2>&1 ||
            { cat "$T/out"; fail "transform $stage"; }
        grep -E '^run |records in|written|quarantined  |duplicates  |files ' "$T/out" || true
        # The files on disk are the live ones once older snapshots expire.
        sluice expire curated.interop --older-than 0s </dev/null >/dev/null ||
            fail "expire after stage $stage"
        find lake/curated/interop -name '*.parquet' | sort > "$T/files"
        [ -s "$T/files" ] || fail "stage $stage: no curated Parquet files"
        # shellcheck disable=SC2046
        node "$LIB/read_parquet.mjs" $(cat "$T/files") </dev/null \
            >"$D/stage-$stage.jsonl" 2>"$D/stage-$stage.err" ||
            { cat "$D/stage-$stage.err"; fail "stage $stage: hyparquet cannot read the files"; }
        SLUICE_CATALOG_URL=$(catalog_of .) SLUICE_PSQL=${SLUICE_PG_BIN:-/usr/bin}/psql \
            "$PY" "$LIB/interop_data.py" snapshot "$D" lake "$stage"
        ;;
    *)
        fail "unknown plan step: $op"
        ;;
    esac
done 3< "$D/plan.txt"
[ "$stage" -gt 0 ] || fail "the plan ran no transform"

say "what hyparquet read after the last transform"
cat "$D/stage-$stage.err"

say "compare with the table recomputed from the inputs"
SLUICE_CATALOG_URL=$(catalog_of .) SLUICE_PSQL=${SLUICE_PG_BIN:-/usr/bin}/psql \
    "$PY" "$LIB/interop_data.py" check "$D" lake
