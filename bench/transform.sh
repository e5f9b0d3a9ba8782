#!/bin/sh
# Benchmark: 1,000,000 JSON-lines records (about 130 MB) through ingest +
# transform into a curated table that already holds 1,000,000 rows with
# overlapping keys, against DuckDB converting the same file with the same
# explicit schema straight to zstd Parquet.
#
#   bench/transform.sh [--baseline OLD_SLUICE [--baseline-name NAME]] SLUICE_BINARY [ROWS]
#
# Prints rows/s, MB/s, peak memory and the ratio of the times.  Each side
# runs RUNS times (default 3) from the same starting state; the median
# counts.  Data is generated once into build/bench/ (deterministic).
#
# With --baseline, a release's binary (make bench: BASELINE in
# bench/module.mk; NAME labels it) runs too, in the same runs and on the
# same data, and its figures are printed beside the new ones with the
# ratios new / release.  Each binary sets up its own starting lake (the
# catalogs of two versions need not be alike); in each run DuckDB goes
# first, then the two sluices, which of them first alternating from run to
# run so that a machine that gets busier or quieter favours neither.
#
# Time on the 2-core machine: generating the data, once, about 30 s
# (python; kept in build/bench/data); setting up the 1,000,000-row table
# about 5 s per binary; each run about 0.6 s for DuckDB and 1-1.5 s per
# sluice, plus copying the starting lake (about 0.5 s) and sync.  With the
# baseline and RUNS=3: about 40 s once the data exists, about 1.5 min on a
# shared machine.
set -eu

usage() {
    echo "usage: bench/transform.sh [--baseline OLD_SLUICE [--baseline-name NAME]] SLUICE_BINARY [ROWS]" >&2
    exit 2
}
. "$(dirname "$0")/baseline_args.sh"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    usage
fi
sluice=$(abs "$1")
rows=${2:-1000000}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work="$here/build/bench"
data="$work/data"
mkdir -p "$data"
for b in "$sluice" $old; do
    [ -x "$b" ] || { echo "transform bench: $b missing" >&2; exit 1; }
done

base="$data/base-$rows.jsonl"
delta="$data/delta-$rows.jsonl"
[ -s "$base" ] || /usr/bin/python3 "$here/bench/gen_orders.py" base "$rows" "$base"
[ -s "$delta" ] || /usr/bin/python3 "$here/bench/gen_orders.py" delta "$rows" "$rows" "$delta"
mb=$(awk -v b="$(stat -c %s "$delta")" 'BEGIN {printf "%.1f", b / 1e6}')

proj="$work/project"
rm -rf "$proj"
mkdir -p "$proj/sources"
printf 'lake: ./lake\n' > "$proj/sluice.yaml"
cp "$here/tests/lib/orders.yaml" "$proj/sources/orders.yaml"
cd "$proj"

# time_of and median: bench/lib.sh.
. "$here/bench/lib.sh"

# set_up BINARY START: the curated table of $rows rows, made by BINARY,
# kept in START for every run to begin from.
set_up() {
    rm -rf lake
    "$1" -q ingest --source orders "$base" >/dev/null
    "$1" -q transform --source orders >/dev/null
    rm -rf "$2" && cp -a lake "$2"
}

# one_run BINARY START NAME: ingest + transform of the delta onto a copy of
# START; "total ingest transform ingest_kb transform_kb" appended to
# $work/NAME.times, the account kept in $work/NAME.account.
one_run() {
    rm -rf lake && cp -a "$2" lake
    sync
    time_of "$1" -q ingest --source orders "$delta"
    read -r in_s in_kb < "$work/time"
    time_of "$1" transform --source orders
    read -r tr_s tr_kb < "$work/time"
    cp "$work/out" "$work/$3.account"
    echo "$(awk -v a="$in_s" -v b="$tr_s" 'BEGIN {print a + b}') $in_s $tr_s $in_kb $tr_kb" \
        >> "$work/$3.times"
}

echo "setting up: $rows rows in the curated table"
set_up "$sluice" "$work/start"
if [ -n "$old" ]; then
    echo "setting up: the same with the $old_name binary"
    set_up "$old" "$work/start-old"
fi

peer_sql="COPY (SELECT * FROM read_json('$delta', format = 'newline_delimited', ignore_errors = true,
    columns = {order_id: 'VARCHAR', customer_id: 'VARCHAR', status: 'VARCHAR',
               amount: 'DECIMAL(12,2)', qty: 'BIGINT', ordered_at: 'TIMESTAMPTZ'}))
  TO '$work/peer.parquet' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V1)"

: > "$work/peer.times"
: > "$work/sluice.times"
: > "$work/old.times"
i=0
while [ $i -lt "$runs" ]; do
    sync
    time_of "$sluice" query "$peer_sql"
    cat "$work/time" >> "$work/peer.times"

    if [ -n "$old" ] && [ $((i % 2)) = 1 ]; then
        one_run "$old" "$work/start-old" old
    fi
    one_run "$sluice" "$work/start" sluice
    if [ -n "$old" ] && [ $((i % 2)) = 0 ]; then
        one_run "$old" "$work/start-old" old
    fi
    i=$((i + 1))
done

peer_s=$(cut -d' ' -f1 "$work/peer.times" | median)
peer_kb=$(cut -d' ' -f2 "$work/peer.times" | sort -n | tail -n 1)

# figures NAME: f_total f_ingest f_transform f_peak of NAME's runs: the
# median total, the split of the run that gave it, the highest peak (KiB).
figures() {
    f_total=$(cut -d' ' -f1 "$work/$1.times" | median)
    f_ingest=$(awk -v t="$f_total" '$1 == t {print $2; exit}' "$work/$1.times")
    f_transform=$(awk -v t="$f_total" '$1 == t {print $3; exit}' "$work/$1.times")
    f_peak=$(awk '{print ($4 > $5 ? $4 : $5)}' "$work/$1.times" | sort -n | tail -n 1)
}

# row LABEL TOTAL INGEST TRANSFORM PEAK_KB: one line of the table, and the
# split of its time.
row() {
    awk -v label="$1" -v ts="$2" -v is="$3" -v xs="$4" -v k="$5" -v rows="$rows" \
        -v mb="$mb" -v ps="$peer_s" 'BEGIN {
        printf "  %-34s %7.3f s  %10.0f rows/s  %6.1f MB/s  peak %4.0f MiB  %5.2fx duckdb\n",
            label, ts, rows / ts, mb / ts, k / 1024, ts / ps
        printf "  %-34s %7.3f s + %.3f s\n", "  of which ingest + transform", is, xs
    }'
}

echo
echo "transform benchmark: $rows records, $mb MB of JSON lines, onto $rows curated rows"
grep -E "^  (records in|written|quarantined|duplicates|balance|files)" "$work/sluice.account"
awk -v rows="$rows" -v mb="$mb" -v ps="$peer_s" -v pk="$peer_kb" 'BEGIN {
    printf "  %-34s %7.3f s  %10.0f rows/s  %6.1f MB/s  peak %4.0f MiB\n",
        "duckdb read_json -> zstd parquet", ps, rows / ps, mb / ps, pk / 1024
}'
if [ -n "$old" ]; then
    figures old
    old_s=$f_total
    row "sluice $old_name (release)" "$f_total" "$f_ingest" "$f_transform" "$f_peak"
fi
figures sluice
new_s=$f_total
row "sluice ingest + transform${old:+ (new)}" "$f_total" "$f_ingest" "$f_transform" "$f_peak"
awk -v ts="$new_s" -v ps="$peer_s" -v runs="$runs" 'BEGIN {
    printf "  ratio sluice / duckdb: %.2fx (target <= 2x); median of %d runs\n", ts / ps, runs
}'
if [ -n "$old" ]; then
    awk -v ns="$new_s" -v os="$old_s" -v name="$old_name" 'BEGIN {
        printf "  new / %s: time %.2fx, rows/s %.2fx (a time above 1 is a regression)\n",
            name, ns / os, os / ns
    }'
    # The two accounts should agree: the same data, the same semantics.
    acct() {
        grep -E "^  (records in|written|quarantined|duplicates)" "$1" | tr -s ' '
    }
    if [ "$(acct "$work/sluice.account")" = "$(acct "$work/old.account")" ]; then
        echo "  the $old_name binary's account is the same"
    else
        echo "  the $old_name binary's account differs:"
        grep -E "^  (records in|written|quarantined|duplicates|balance|files)" "$work/old.account"
    fi
fi
