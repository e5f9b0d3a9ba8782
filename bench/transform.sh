#!/bin/sh
# Benchmark: 1,000,000 JSON-lines records (about 125 MB) through ingest +
# transform into a curated table that already holds 1,000,000 rows with
# overlapping keys, against DuckDB converting the same file with the same
# explicit schema straight to zstd Parquet.
#
#   bench/transform.sh SLUICE_BINARY [ROWS]
#
# Prints rows/s, MB/s, peak memory and the ratio of the times.  Each side
# runs RUNS times (default 3) from the same starting state; the median
# counts.  Data is generated once into build/bench/ (deterministic).
set -eu

sluice=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
rows=${2:-1000000}
runs=${RUNS:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work="$here/build/bench"
data="$work/data"
mkdir -p "$data"

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
echo "setting up: $rows rows in the curated table"
"$sluice" -q ingest --source orders "$base" >/dev/null
"$sluice" -q transform --source orders >/dev/null
rm -rf "$work/start" && cp -a lake "$work/start"

# time_of CMD...: wall seconds and peak KiB of one command.
time_of() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || {
        cat "$work/out"
        exit 1
    }
    cat "$work/time"
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

peer_sql="COPY (SELECT * FROM read_json('$delta', format = 'newline_delimited', ignore_errors = true,
    columns = {order_id: 'VARCHAR', customer_id: 'VARCHAR', status: 'VARCHAR',
               amount: 'DECIMAL(12,2)', qty: 'BIGINT', ordered_at: 'TIMESTAMPTZ'}))
  TO '$work/peer.parquet' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V1)"

: > "$work/peer.times"
: > "$work/sluice.times"
i=0
while [ $i -lt "$runs" ]; do
    sync
    set -- $(time_of "$sluice" query "$peer_sql")
    echo "$1 $2" >> "$work/peer.times"

    rm -rf lake && cp -a "$work/start" lake
    sync
    set -- $(time_of "$sluice" -q ingest --source orders "$delta")
    ingest_s=$1 ingest_kb=$2
    set -- $(time_of "$sluice" transform --source orders)
    cp "$work/out" "$work/account"
    echo "$(awk -v a="$ingest_s" -v b="$1" 'BEGIN {print a + b}') $ingest_s $1 $ingest_kb $2" >> "$work/sluice.times"
    i=$((i + 1))
done

peer_s=$(cut -d' ' -f1 "$work/peer.times" | median)
peer_kb=$(cut -d' ' -f2 "$work/peer.times" | sort -n | tail -n 1)
total_s=$(cut -d' ' -f1 "$work/sluice.times" | median)
line=$(awk -v t="$total_s" '$1 == t' "$work/sluice.times" | head -n 1)
set -- $line
ingest_s=$2 transform_s=$3
peak_kb=$(awk '{print ($4 > $5 ? $4 : $5)}' "$work/sluice.times" | sort -n | tail -n 1)

echo
echo "transform benchmark: $rows records, $mb MB of JSON lines, onto $rows curated rows"
grep -E "^  (records in|written|quarantined|duplicates|balance|files)" "$work/account"
awk -v rows="$rows" -v mb="$mb" -v ps="$peer_s" -v pk="$peer_kb" -v ts="$total_s" \
    -v is="$ingest_s" -v xs="$transform_s" -v k="$peak_kb" -v runs="$runs" 'BEGIN {
    printf "  %-34s %7.3f s  %10.0f rows/s  %6.1f MB/s  peak %4.0f MiB\n",
        "duckdb read_json -> zstd parquet", ps, rows / ps, mb / ps, pk / 1024
    printf "  %-34s %7.3f s  %10.0f rows/s  %6.1f MB/s  peak %4.0f MiB\n",
        "sluice ingest + transform", ts, rows / ts, mb / ts, k / 1024
    printf "  %-34s %7.3f s + %.3f s\n", "  of which ingest + transform", is, xs
    printf "  ratio sluice / duckdb: %.2fx (target <= 2x); median of %d runs\n", ts / ps, runs
}'
