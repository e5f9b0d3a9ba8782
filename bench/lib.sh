# bench/lib.sh - shell shared by the benchmark scripts, sourced after each
# sets work (the folder its scratch files go to: time, out).
#
#   time_of CMD...        "wall_seconds peak_KiB" of one command into
#                         $work/time, its output into $work/out; a failure
#                         shows the output and ends the benchmark (so call
#                         it outside $(...))
#   median                the median of the numbers on stdin, one a line
#   order_event KEY SECOND SALT
#                         DuckDB SQL for one order event of key KEY at
#                         second SECOND of October 2026 as a JSON line, as
#                         bench/gen_orders.py writes them (the values are a
#                         function of the key and the salt)
#   start_lake SLUICE JSONL DIR
#                         DIR as the lake of the orders source after
#                         ingest + transform of JSONL, unless it exists
#   gen_sql SLUICE OUT SQL
#                         the rows of SQL (one text column) as lines into
#                         OUT, by DuckDB (sluice query "COPY ..."), unless
#                         OUT is there already (an interrupted run leaves
#                         only OUT.tmp)
#
# DuckDB is the peer of every benchmark and it makes the data too: a COPY
# of generated rows writes 10,000,000 order events (1.3 GB) in under a
# minute on the 2-core machine where python takes many; sluice ingest +
# transform of them makes a curated table of that size in about a minute
# more.

time_of() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || {
        cat "$work/out" >&2
        echo "bench: failed: $*" >&2
        exit 1
    }
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

order_event() {
    echo "'{\"order_id\":\"O' || lpad(CAST($1 AS VARCHAR), 9, '0') ||
      '\",\"customer_id\":\"C' || lpad(CAST(hash($1 + $3) % 250000 AS VARCHAR), 7, '0') ||
      '\",\"status\":\"' || (['new','paid','shipped','delivered','cancelled','returned'])[CAST(1 + hash($1 * 3 + $3) % 6 AS BIGINT)] ||
      '\",\"amount\":' || CAST(1 + hash($1 * 5 + $3) % 2000 AS VARCHAR) || '.' ||
                          lpad(CAST(hash($1 * 7 + $3) % 100 AS VARCHAR), 2, '0') ||
      ',\"qty\":' || CAST(1 + hash($1 * 11 + $3) % 19 AS VARCHAR) ||
      ',\"ordered_at\":\"' || strftime(TIMESTAMP '2026-10-01' + to_seconds(CAST($2 AS BIGINT)), '%Y-%m-%dT%H:%M:%SZ') || '\"}'"
}

# start_lake SLUICE JSONL DIR: DIR (in the current folder) as the lake
# of the orders source after ingest + transform of JSONL, unless DIR is
# there already (an interrupted run leaves only DIR.tmp); uses ./lake.
start_lake() {
    [ -d "$3" ] && return 0
    echo "setting up: the curated table of $2"
    rm -rf lake
    "$1" -q ingest --source orders "$2" >/dev/null
    "$1" -q transform --source orders >/dev/null
    mv lake "$3.tmp" && mv "$3.tmp" "$3"
}

gen_sql() {
    [ -s "$2" ] && return 0
    "$1" -q query "COPY ($3) TO '$2.tmp' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '')" >/dev/null
    mv "$2.tmp" "$2"
}
