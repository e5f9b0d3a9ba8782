#!/bin/sh
# Benchmark: the catalog's two back ends on small batches, the stream
# path's shape.  OBJECTS (1,000) raw objects of ROWS (100) JSON-lines
# records, each landed and then transformed by a run of its own, once with
# the embedded SQLite catalog and once with PostgreSQL on loopback, in the
# same run and on the same data.  Target: PostgreSQL at least 0.7x the runs
# per second of SQLite.
#
#   bench/catalog.sh CATALOG_BENCH_BINARY
#
# Steps:
#   1. start a throw-away PostgreSQL server (tests/lib/pg.sh: the newest
#      /usr/lib/postgresql/*/bin, 15 on Debian 12, fsync and
#      synchronous_commit on, as in production) in a folder under /tmp;
#   2. RUNS pairs (default 3) of catalog_bench --only sqlite and --only
#      postgres, alternating which goes first (S P, P S, S P, ...) so that
#      a machine getting busier or quieter during the benchmark does not
#      favour one back end; each PostgreSQL run gets a new database, each
#      run a new project; the data is generated once into
#      build/bench/catalog/ and reused by every run (and by later benchmarks);
#   3. stop the server and remove its folder, also when interrupted or
#      failing (trap).
#
# Prints each run, then per back end the median runs/s and the medians of
# the runs' commit latency p50 and p99 (the catalog transaction of each
# run's commit, landing and transform alike), and the median of the pairs'
# ratios PostgreSQL / SQLite.
#
# Time: one back end's 2,000 runs (1,000 landings and 1,000 transforms;
# later transforms are slower, since each still reads every live row of
# the table) take about 65 s of CPU and wait for a few thousand fsyncs
# (4 ms each on the 2-core machine's disk, which is also the commits' p50):
# about 2 min per run when quiet, 2.3-2.7 min measured while other work
# shared the machine.  So RUNS=3 takes 12-15 min: most of `make bench`.
# RUNS=1 gives one pair (no median) in a third of that.
#
# Knobs (environment): RUNS (3), OBJECTS (1000), ROWS (100).
set -eu

[ $# = 1 ] || { echo "usage: bench/catalog.sh CATALOG_BENCH_BINARY" >&2; exit 2; }
bench=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$bench" ] || { echo "catalog bench: $bench missing (make MODE=release $1)" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
objects=${OBJECTS:-1000}
rows=${ROWS:-100}
export OBJECTS="$objects" ROWS="$rows"
work="$here/build/bench/catalog"
mkdir -p "$work"

# shellcheck source=tests/lib/pg.sh
. "$here/tests/lib/pg.sh"

# The server's folder is a direct child of /tmp: run as root, the server
# runs as the postgres user, who must be able to reach it.
pgdir=""
cleanup() {
    if [ -n "$pgdir" ]; then
        pg_stop "$pgdir" || rm -rf "$pgdir"
    fi
    rm -rf "$work/sqlite" "$work/postgres" "$work/out" "$work/pg.log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-catalog-bench-pg.XXXXXX")
if ! pg_start "$pgdir" >"$work/pg.log" 2>&1; then
    cat "$work/pg.log" >&2
    echo "catalog bench: cannot start a PostgreSQL server (scripts/setup.sh test installs it)" >&2
    exit 1
fi
pg_version=$("$SLUICE_PG_BIN/postgres" --version | sed -n 's/^[^)]*) *\([0-9.]*\).*/\1/p')

# field NAME LINE: NAME=value from a RESULT line.
field() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# one BACKEND PAIR: one catalog_bench run, its RESULT line appended to
# $work/BACKEND.results and shown.
one() {
    if [ "$1" = postgres ]; then
        url=$(pg_new_db "bench_$2") || exit 1
        set -- "$1" "$2" "$url"
    fi
    if ! "$bench" --only "$1" "$work" ${3:+"$3"} >"$work/out" 2>&1; then
        sed 's/^/  /' "$work/out" >&2
        echo "catalog bench: the $1 run failed" >&2
        exit 1
    fi
    res=$(grep '^RESULT ' "$work/out")
    echo "$res" >>"$work/$1.results"
    printf "  pair %d  %-10s %7.1f runs/s  %5d runs in %6.1f s  commit p50 %6.2f ms  p99 %7.2f ms\n" \
        "$2" "$1" "$(field runs_per_s "$res")" "$(field runs "$res")" "$(field secs "$res")" \
        "$(field p50_ms "$res")" "$(field p99_ms "$res")"
}

echo
echo "catalog benchmark: $objects objects of $rows rows, each landed and transformed by a run"
echo "  of its own; SQLite (embedded) and PostgreSQL $pg_version (loopback, fsync on), alternating,"
echo "  $runs runs of each"
: >"$work/sqlite.results"
: >"$work/postgres.results"
i=1
while [ $i -le "$runs" ]; do
    if [ $((i % 2)) = 1 ]; then
        one sqlite $i
        one postgres $i
    else
        one postgres $i
        one sqlite $i
    fi
    i=$((i + 1))
done

# Medians per back end, and of the pairs' ratios (line N of each file is
# pair N).
stat_of() { # BACKEND FIELD
    while read -r line; do field "$2" "$line"; done <"$work/$1.results" | median
}
ratios=$(paste -d' ' "$work/sqlite.results" "$work/postgres.results" | while read -r line; do
    s=$(echo "$line" | sed 's/ RESULT .*//')
    p=$(echo "$line" | sed 's/.* RESULT /RESULT /')
    awk -v s="$(field runs_per_s "$s")" -v p="$(field runs_per_s "$p")" \
        'BEGIN {printf "%.2f\n", p / s}'
done)
ratio=$(echo "$ratios" | median)

echo
printf "  %-30s %9s %16s %16s\n" "median of $runs runs" "runs/s" "commit p50 ms" "commit p99 ms"
printf "  %-30s %9.1f %16.2f %16.2f\n" "SQLite (embedded)" "$(stat_of sqlite runs_per_s)" \
    "$(stat_of sqlite p50_ms)" "$(stat_of sqlite p99_ms)"
printf "  %-30s %9.1f %16.2f %16.2f\n" "PostgreSQL $pg_version (loopback)" \
    "$(stat_of postgres runs_per_s)" "$(stat_of postgres p50_ms)" "$(stat_of postgres p99_ms)"
echo "  ratio PostgreSQL / SQLite: ${ratio}x (target >= 0.70); median of the pairs'" \
    "ratios $(echo "$ratios" | tr '\n' ' ' | sed 's/ $//')"
