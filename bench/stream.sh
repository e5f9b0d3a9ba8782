#!/bin/sh
# Benchmark: Kinesis PutRecords (500 records of about 200 bytes per request,
# several keep-alive connections) against sluice serve, with fsync on, and
# against kinesalite (in memory) in the same run.
#
#   bench/stream.sh [--baseline OLD_SLUICE [--baseline-name NAME]] SLUICE_BINARY
#
# loadgen and loadgen-sink are taken from SLUICE_BINARY's folder (make
# bench-tools); the same loadgen drives every server.  Steps, each a
# bounded run on loopback ports the servers or the kernel pick:
#
#   1. loadgen against loadgen-sink, each pinned to its own core: what the
#      load generator alone can send, so a result near it is recognised as
#      loadgen's ceiling and not the server's.
#   2. kinesalite: start, create the stream, warm up, measure, stop.
#   3. sluice serve in a fresh temporary project: the same, then its peak
#      memory (VmHWM) just before SIGTERM.
#   3b. with --baseline: the same with a release's binary (make bench:
#      BASELINE in bench/module.mk; NAME labels it), in a project of its own.
#   3c. the new binary again, in pairs of runs with every request signed
#      (SigV4) by a key the server checks and unsigned (SIGNED_ROUNDS pairs,
#      2): the cost of verifying signatures, as a ratio signed / unsigned.
#   4. freshness (below), for the new binary and then, with --baseline,
#      for the release's.
#
# Prints a table with records/s, MB/s, p50/p99 acknowledgement latency and
# peak memory, the ratio sluice / kinesalite and, with --baseline, the
# ratios new / release, and the signed / unsigned ratios of step 3c.
#
# Time: step 1 about 4 s, each server in 2 and 3 about 15 s (start, warm-up,
# 10 s measured, stop), freshness about 30 s per binary (20 s of load, 4 s
# to settle, reading the table back): about 1 min, 1.5 min with the
# baseline.
#
# Knobs (environment):
#   CONNECTIONS (8)  DURATION seconds (10)  WARMUP seconds (2)
#   SHARDS (8)  RECORDS per request (500)  BYTES per record (200)
#   KINESALITE_DIR (build/deps/node/node_modules/kinesalite)
set -eu

usage() {
    echo "usage: bench/stream.sh [--baseline OLD_SLUICE [--baseline-name NAME]] SLUICE_BINARY" >&2
    exit 2
}
. "$(dirname "$0")/baseline_args.sh"
[ $# = 1 ] || usage
sluice=$(abs "$1")
bin=$(dirname "$sluice")
here=$(cd "$(dirname "$0")/.." && pwd)
loadgen="$bin/loadgen"
sink="$bin/loadgen-sink"
kinesalite=${KINESALITE_DIR:-$here/build/deps/node/node_modules/kinesalite}
connections=${CONNECTIONS:-8}
duration=${DURATION:-10}
warmup=${WARMUP:-2}
shards=${SHARDS:-8}
records=${RECORDS:-500}
bytes=${BYTES:-200}

for t in "$loadgen" "$sink"; do
    [ -x "$t" ] || { echo "stream bench: $t missing (make MODE=... bench-tools)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-stream-bench.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    for p in $pids; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- sluice serve: the one place to adjust --------------------------------
# How the benchmark stream is set up on sluice: fsync on (the default),
# per-shard throughput limits off so the run measures the server and not its
# throttle.  NEEDSWORK: the exact sluice.yaml keys or serve flags for
# "throttling off" come with sluice serve; put them here and nowhere else.
sluice_serve_flags=""
sluice_configure() { # PROJECT_DIR: write limits off, fsync on (the default)
    printf 'server:\n  shard_write_bytes: 0\n  shard_write_records: 0\n  fsync: true\n' \
        >> "$1/sluice.yaml"
}
sluice_available() { # BINARY
    "$1" serve --help >/dev/null 2>&1
}
# ---------------------------------------------------------------------------

# wait_port FILE PID: the port from "listening on ...:PORT" / "...:PORT" as
# the server prints it into FILE; fails when PID dies or 20 s pass.
wait_port() {
    i=0
    while [ $i -lt 200 ]; do
        port=$(sed -n 's/.*127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        alive "$2" || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# wait_listen PORT PID: until something accepts on 127.0.0.1:PORT.
wait_listen() {
    i=0
    while [ $i -lt 200 ]; do
        /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2).close()" "$1" 2>/dev/null && return 0
        alive "$2" || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# alive PID: the process runs (a child that exited but is not yet reaped
# still answers kill -0).
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

free_port() {
    /usr/bin/python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
}

# cpu_ticks PID: the process's user + system CPU time so far, in clock
# ticks (1/100 s).
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

# peak_mib PID: the process's peak resident memory so far, in MiB.
peak_mib() {
    awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"
}

# stop PID: SIGTERM, then wait up to 10 s, then SIGKILL; PID leaves the
# list cleanup() kills, so that a number the system hands out again later
# is not killed at exit.
stop() {
    kill -TERM "$1" 2>/dev/null || true
    i=0
    while alive "$1" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    pids=$(echo " $pids " | sed "s/ $1 / /")
}

# field NAME LINE: NAME=value from a RESULT line.
field() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# run_load NAME PORT: the RESULT line of loadgen against 127.0.0.1:PORT, or
# nothing (loadgen's output then goes to stderr).  $run_prefix goes before
# loadgen (e.g. taskset), $run_extra after its usual options; both are split
# into words.
run_prefix="" run_extra=""
run_load() {
    # shellcheck disable=SC2086
    if ! $run_prefix "$loadgen" --endpoint "http://127.0.0.1:$2" --stream bench \
        --connections "$connections" --records "$records" --bytes "$bytes" \
        --warmup "$warmup" --duration "$duration" $run_extra >"$work/$1.out" 2>&1; then
        echo "stream bench: loadgen against $1 failed:" >&2
        sed 's/^/  /' "$work/$1.out" >&2
        return 0
    fi
    grep '^RESULT ' "$work/$1.out" || true
}

echo
echo "stream benchmark: PutRecords of $records records x $bytes bytes, $connections connections,"
echo "  ${warmup} s warm-up then ${duration} s measured, $shards shards"

# 1. loadgen's own ceiling, one core each.
pin_gen="" pin_sink=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    pin_gen="taskset -c 0" pin_sink="taskset -c 1"
fi
$pin_sink "$sink" --seconds 60 >"$work/sink.log" 2>&1 &
sink_pid=$!
pids="$pids $sink_pid"
sink_res=""
if port=$(wait_port "$work/sink.log" "$sink_pid"); then
    run_prefix=$pin_gen run_extra="--warmup 0 --duration 3"
    sink_res=$(run_load sink "$port")
fi
run_prefix="" run_extra="--create $shards"
stop "$sink_pid"

# 2. kinesalite, in memory, on loopback only (its cli.js would listen on
# every interface), with room for the benchmark's shards.
kin_res="" kin_mib="" kin_note=""
if [ -f "$kinesalite/index.js" ]; then
    node -e '
        const k = require(process.argv[1]);
        const s = k({shardLimit: 100000}).listen(0, "127.0.0.1", () =>
            console.log("listening on 127.0.0.1:" + s.address().port));
    ' "$kinesalite" >"$work/kinesalite.log" 2>&1 &
    kin_pid=$!
    pids="$pids $kin_pid"
    if port=$(wait_port "$work/kinesalite.log" "$kin_pid"); then
        kin_res=$(run_load kinesalite "$port")
        kin_mib=$(peak_mib "$kin_pid")
    else
        kin_note="kinesalite did not start: $(head -c 300 "$work/kinesalite.log")"
    fi
    stop "$kin_pid"
else
    kin_note="kinesalite not installed (scripts/setup.sh test)"
fi

# 3. sluice serve BINARY in a fresh project; NAME names its files in
# $work.  Sets sv_res (the RESULT line), sv_mib and sv_note.
serve_run() { # BINARY NAME
    sv_res="" sv_mib="" sv_note=""
    if ! sluice_available "$1"; then
        sv_note="sluice serve not available in this build"
        return 0
    fi
    sv_proj="$work/project-$2"
    "$1" -q init "$sv_proj" >/dev/null
    sluice_configure "$sv_proj"
    # The previous run's gigabyte of dirty pages is written back first: left
    # to the kernel it lands in the middle of this run, which then measures
    # the disk's backlog (runs after kinesalite, which writes nothing, had
    # it easy).
    sync
    port=$(free_port)
    # shellcheck disable=SC2086
    "$1" --project "$sv_proj" serve --listen "127.0.0.1:$port" $sluice_serve_flags \
        >"$work/$2.log" 2>&1 &
    sv_pid=$!
    pids="$pids $sv_pid"
    if wait_listen "$port" "$sv_pid"; then
        sv_cpu0=$(cpu_ticks "$sv_pid")
        sv_res=$(run_load "$2" "$port")
        sv_cpu=$(( $(cpu_ticks "$sv_pid") - sv_cpu0 ))
        sv_mib=$(peak_mib "$sv_pid")
    else
        sv_note="sluice serve did not start: $(head -c 300 "$work/$2.log")"
    fi
    stop "$sv_pid"
}
serve_run "$sluice" sluice
sl_res=$sv_res sl_mib=$sv_mib sl_note=$sv_note sl_cpu=$sv_cpu
old_res="" old_mib="" old_note=""
if [ -n "$old" ]; then
    serve_run "$old" old
    old_res=$sv_res old_mib=$sv_mib old_note=$sv_note
fi

# 3c. Signed requests (issue 8): the same load signed with AWS Signature
# Version 4 by a key the server knows (from the environment), against the
# same load unsigned on a server without keys.  Measured in pairs, the
# order alternating (unsigned first in odd rounds, signed first in even
# ones), each pair compared on its own: this machine's disk slows down as a
# benchmark goes on (sluice's first run is the fastest of all), so only
# runs next to each other compare.  The mean of the pairs' ratios is the
# figure; each pair's is printed too.
sig_rounds=${SIGNED_ROUNDS:-2}
sig_pairs="" sig_cpu="" unsig_cpu="" sig_last="" unsig_last=""
# per_request RESULT TICKS: the server's CPU microseconds per request,
# over warm-up and measurement alike (requests counted in both).
per_request() {
    awk -v r="$(field requests "$1")" -v s="$(field seconds "$1")" -v w="$warmup" -v t="$2" \
        'BEGIN { n = r * (s + w) / s; if (n > 0) printf "%.0f", t * 10000 / n }'
}
signed_run() { # NAME
    export SLUICE_ACCESS_KEY_ID=AKIABENCHKEY23456723 SLUICE_SECRET_ACCESS_KEY=benchsecretbenchsecretbenchsecret12
    export AWS_ACCESS_KEY_ID=$SLUICE_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SLUICE_SECRET_ACCESS_KEY
    run_extra="--create $shards --sign"
    serve_run "$sluice" "$1"
    run_extra="--create $shards"
    unset SLUICE_ACCESS_KEY_ID SLUICE_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    sig_last=$sv_res
    sig_cpu="$sig_cpu $(per_request "$sv_res" "$sv_cpu")"
}
unsigned_run() { # NAME
    serve_run "$sluice" "$1"
    unsig_last=$sv_res
    unsig_cpu="$unsig_cpu $(per_request "$sv_res" "$sv_cpu")"
}
r=1
while [ $r -le "$sig_rounds" ]; do
    if [ $((r % 2)) = 1 ]; then
        unsigned_run unsigned$r
        signed_run signed$r
    else
        signed_run signed$r
        unsigned_run unsigned$r
    fi
    if [ -n "$sig_last" ] && [ -n "$unsig_last" ]; then
        sig_pairs="$sig_pairs $(field records_per_s "$sig_last"):$(field records_per_s "$unsig_last"):$(field p99_ms "$sig_last"):$(field p99_ms "$unsig_last")"
    fi
    r=$((r + 1))
done

# The table.
row() { # LABEL RESULT PEAK_MIB NOTE
    if [ -n "$2" ]; then
        printf "  %-30s %12s %9s %9s %9s %9s\n" "$1" \
            "$(field records_per_s "$2")" "$(field mb_per_s "$2")" \
            "$(field p50_ms "$2")" "$(field p99_ms "$2")" "${3:--}"
        f=$(field failed "$2") e=$(field errors "$2")
        if [ "$f" != 0 ] || [ "$e" != 0 ]; then
            printf "  %-30s %s records failed, %s error responses (see loadgen's output)\n" "" "$f" "$e"
        fi
    else
        printf "  %-30s %s\n" "$1" "${4:-no result}"
    fi
}
echo
printf "  %-30s %12s %9s %9s %9s %9s\n" "" "records/s" "MB/s" "p50 ms" "p99 ms" "peak MiB"
row "loadgen alone (null sink)" "$sink_res" "" ""
row "kinesalite 3.3.3 (memory)" "$kin_res" "$kin_mib" "$kin_note"
if [ -n "$old" ]; then
    row "sluice serve $old_name (release)" "$old_res" "$old_mib" "$old_note"
fi
row "sluice serve (fsync${old:+, new})" "$sl_res" "$sl_mib" "$sl_note"
if [ -n "$sl_res" ] && [ -n "$kin_res" ]; then
    awk -v s="$(field records_per_s "$sl_res")" -v k="$(field records_per_s "$kin_res")" \
        -v m="$sl_mib" 'BEGIN {
        printf "  ratio sluice / kinesalite: %.1fx (target >= 25x); ", (k > 0 ? s / k : 0)
        printf "sluice %s records/s (target >= 500000), peak %s MiB (target < 256)\n", s, m
    }'
else
    echo "  ratio sluice / kinesalite: not measured"
fi
if [ -n "$old" ]; then
    if [ -n "$sl_res" ] && [ -n "$old_res" ]; then
        awk -v name="$old_name" \
            -v nr="$(field records_per_s "$sl_res")" -v or="$(field records_per_s "$old_res")" \
            -v n5="$(field p50_ms "$sl_res")" -v o5="$(field p50_ms "$old_res")" \
            -v n9="$(field p99_ms "$sl_res")" -v o9="$(field p99_ms "$old_res")" \
            -v nm="$sl_mib" -v om="$old_mib" '
            function r(n, o) { return o > 0 ? sprintf("%.2fx", n / o) : "-" }
            BEGIN {
                printf "  new / %s: records/s %s, p50 %s, p99 %s, peak memory %s", name,
                    r(nr, or), r(n5, o5), r(n9, o9), r(nm, om)
                printf " (records/s below 1 or the others above 1: worse)\n"
            }'
    else
        echo "  new / $old_name: not measured"
    fi
fi
if [ -n "$sig_pairs" ]; then
    echo "$sig_pairs" | tr ' ' '\n' | awk -F: 'NF == 4 {
        n++; rr = ($2 > 0 ? $1 / $2 : 0); pr = ($4 > 0 ? $3 / $4 : 0); sr += rr; sp += pr
        printf "  pair %d: signed %d records/s, p99 %s ms; unsigned %d records/s, p99 %s ms: %.3fx, p99 %.3fx\n", n, $1, $3, $2, $4, rr, pr
    }
    END {
        if (n > 0)
            printf "  signed / unsigned (mean of %d pairs): records/s %.3fx (target >= 0.95), p99 %.3fx (target <= 1.10)\n", n, sr / n, sp / n
    }'
    echo "  server CPU per request, unsigned:$unsig_cpu us; signed:$sig_cpu us (each run)"
else
    echo "  signed / unsigned: not measured"
fi
for f in sink kinesalite old sluice signed1 unsigned1 signed2 unsigned2 signed3 unsigned3; do
    if [ -f "$work/$f.out" ]; then
        sed -n "s/^RESULT /  $f: RESULT /p" "$work/$f.out"
    fi
done

# 4. Freshness: put -> visible in curated, at 20,000 records/s with a 1 s
# buffer interval, each delivered object transformed on arrival; for each
# binary in a project of its own, one after the other (never at once: they
# would share the cores).
fresh_rate=${FRESH_RATE:-20000} fresh_secs=${FRESH_SECONDS:-20}
fresh_run() { # BINARY NAME LABEL
    sluice_available "$1" || return 0
    proj="$work/fresh-$2"
    "$1" -q init "$proj" >/dev/null
    sed -e 's/buffer_size: 64KiB/buffer_size: 5MiB/' -e 's/shards: 2/shards: 4/' \
        -e 's/^stream:/stream:\n  write_limit_bytes: 0\n  write_limit_records: 0/' \
        "$here/tests/lib/clicks.yaml" > "$proj/sources/clicks.yaml"
    port=$(free_port)
    "$1" --project "$proj" serve --listen "127.0.0.1:$port" >"$work/fresh-$2.log" 2>&1 &
    fr_pid=$!
    pids="$pids $fr_pid"
    if wait_listen "$port" "$fr_pid"; then
        "$loadgen" --endpoint "http://127.0.0.1:$port" --stream clicks --connections 4 \
            --rate "$fresh_rate" --duration "$fresh_secs" --quiet >"$work/fresh-$2-load.out" 2>&1
        sleep 4
        fr_mib=$(peak_mib "$fr_pid")
        stop "$fr_pid"
        fr_res=$(/usr/bin/python3 "$here/bench/freshness.py" "$1" "$proj" clicks) || true
        echo "  $3: put -> visible in curated: p50 $(field p50_s "$fr_res") s," \
             "p99 $(field p99_s "$fr_res") s (target p99 <= 5 s), max $(field max_s "$fr_res") s;"
        echo "    $(field events "$fr_res") events, $(field transforms "$fr_res") transforms," \
             "server peak $fr_mib MiB"
        echo "    load: $(grep '^RESULT' "$work/fresh-$2-load.out")"
    else
        stop "$fr_pid"
        echo "  $3: sluice serve did not start: $(head -c 300 "$work/fresh-$2.log")"
    fi
}
echo
echo "freshness at $fresh_rate records/s for $fresh_secs s, 1 s buffer interval:"
fresh_run "$sluice" sluice "sluice${old:+ (new)}"
if [ -n "$old" ]; then
    fresh_run "$old" old "sluice $old_name (release)"
fi
exit 0
