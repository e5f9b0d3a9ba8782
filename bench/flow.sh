#!/bin/sh
# Benchmark: state machine executions (src/flow) by sluice run against
# aws-local-stepfunctions (node, in memory) on the same definitions, in the
# same run:
#
#   chain  a chain of STATES (10,000) Pass states, each handing a small
#          object to the next: STATES transitions
#   map    an inline Map over ITEMS (10,000) items {"i": N}, each
#          iteration two Pass states (Parameters, then InputPath): 1 + 2 *
#          ITEMS transitions, the output the array of the numbers (items are
#          objects: the peer cannot select '$' of a falsy item such as 0,
#          tests/flow/cases/io-falsy-values.json)
#
#   bench/flow.sh SLUICE_BINARY        RUNS=N (3), STATES=N, ITEMS=N
#
# Both sides time the execution only: sluice run --stats measures around
# flow_execute() (not the process start, nor reading and checking the
# definition), and bench/flow_peer.mjs around the peer's run() (not node's
# start, the package's load, nor its definition check).  Each run is a
# fresh process on either side.  sluice runs twice: in a project, where the
# execution and every event of its history are recorded in the catalog as
# it runs (the issue's target: "with durable history"; the ratio is this
# one), and outside any project, in memory as the peer runs.  The transitions are sluice's count (the peer
# keeps none; it makes the same ones); transitions per second are that
# count over each side's median time of RUNS runs, and the ratio is
# sluice / peer.
#
# Time on the 2-core machine: a few seconds, most of it node starting.
set -eu

[ $# -eq 1 ] || { echo "usage: bench/flow.sh SLUICE_BINARY   (RUNS=N, STATES=N, ITEMS=N)" >&2; exit 2; }
sluice=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
runs=${RUNS:-3}
states=${STATES:-10000}
items=${ITEMS:-10000}
here=$(cd "$(dirname "$0")/.." && pwd)
work="$here/build/bench/flow"
NODE_MODULES=${NODE_MODULES:-$here/build/deps/node/node_modules}
export NODE_MODULES
[ -x "$sluice" ] || { echo "flow bench: $sluice missing" >&2; exit 1; }
[ -f "$NODE_MODULES/aws-local-stepfunctions/package.json" ] ||
    { echo "flow bench: aws-local-stepfunctions missing: run scripts/setup.sh test" >&2; exit 1; }
. "$here/bench/lib.sh"
mkdir -p "$work"
cd "$work"

# The definitions and their inputs.
python3 - "$states" "$items" <<'PY'
import json, sys
states, items = int(sys.argv[1]), int(sys.argv[2])
chain = {"StartAt": "S0", "States": {}}
for i in range(states):
    s = {"Type": "Pass", "Parameters": {"step": i, "from.$": "$.step"}}
    if i + 1 < states:
        s["Next"] = "S%d" % (i + 1)
    else:
        s["End"] = True
    chain["States"]["S%d" % i] = s
json.dump(chain, open("chain.asl.json", "w"))
json.dump({"step": -1}, open("chain.input.json", "w"))
each = {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Wrap", "States": {
            "Wrap": {"Type": "Pass", "Parameters": {"n.$": "$.i"}, "Next": "Unwrap"},
            "Unwrap": {"Type": "Pass", "InputPath": "$.n", "End": True}}},
        "End": True}
json.dump({"StartAt": "Each", "States": {"Each": each}}, open("map.asl.json", "w"))
json.dump({"items": [{"i": i} for i in range(items)]}, open("map.input.json", "w"))
PY

# field NAME FILE: the value after NAME in FILE ("transitions 3, seconds 0.1").
field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" "$2" | head -n 1; }

# The durable runs' project: each execution and every event of its history
# recorded in its catalog (SQLite, the embedded default), as the issue's
# target says ("with durable history").
rm -rf project
"$sluice" init project >/dev/null

# bench NAME: RUNS runs of each side; sets tr (transitions), s_sec (in
# memory), d_sec (durable), p_sec (the peer).
bench() {
    : > "$1.sluice.times"; : > "$1.peer.times"; : > "$1.durable.times"
    i=0
    while [ $i -lt "$runs" ]; do
        (cd project && "$sluice" run "../$1.asl.json" --input-file "../$1.input.json" --stats) \
            >"$1.durable.out" 2>"$1.durable.err" ||
            { cat "$1.durable.err" >&2; echo "flow bench: durable sluice failed on $1" >&2; exit 1; }
        field seconds "$1.durable.err" >> "$1.durable.times"
        "$sluice" run "$1.asl.json" --input-file "$1.input.json" --stats \
            >"$1.sluice.out" 2>"$1.sluice.err" ||
            { cat "$1.sluice.err" >&2; echo "flow bench: sluice failed on $1" >&2; exit 1; }
        field seconds "$1.sluice.err" >> "$1.sluice.times"
        node "$here/bench/flow_peer.mjs" "$1.asl.json" "$1.input.json" >"$1.peer.out" \
            2>"$1.peer.err" </dev/null ||
            { cat "$1.peer.err" >&2; echo "flow bench: the peer failed on $1" >&2; exit 1; }
        field seconds "$1.peer.out" >> "$1.peer.times"
        i=$((i + 1))
    done
    tr=$(field transitions "$1.sluice.err")
    # Both computed the same output (its length: sluice prints it with a newline).
    s_bytes=$(($(wc -c < "$1.sluice.out") - 1))
    p_bytes=$(field output_bytes "$1.peer.out")
    [ "$s_bytes" = "$p_bytes" ] ||
        { echo "flow bench: $1: sluice's output is $s_bytes bytes, the peer's $p_bytes" >&2; exit 1; }
    cmp -s "$1.sluice.out" "$1.durable.out" ||
        { echo "flow bench: $1: the durable run's output differs from the one in memory" >&2; exit 1; }
    s_sec=$(median < "$1.sluice.times")
    d_sec=$(median < "$1.durable.times")
    p_sec=$(median < "$1.peer.times")
}

row() { # LABEL TRANSITIONS SECONDS
    awk -v l="$1" -v t="$2" -v s="$3" \
        'BEGIN { printf "  %-44s %9.4f s %12.0f transitions/s\n", l, s, (s > 0 ? t / s : 0) }'
}

echo "flow benchmark: executions by sluice run and by aws-local-stepfunctions (median of $runs runs)"
for b in chain map; do
    bench "$b"
    case $b in
    chain) what="$states Pass states in a chain" ;;
    map) what="inline Map over $items items, 2 Pass each" ;;
    esac
    echo " $b: $what, $tr transitions"
    row "aws-local-stepfunctions $(node -p "require('$NODE_MODULES/aws-local-stepfunctions/package.json').version") (node $(node --version))" "$tr" "$p_sec"
    row "sluice run, history recorded in the catalog" "$tr" "$d_sec"
    row "sluice run, in memory (no project)" "$tr" "$s_sec"
    awk -v s="$d_sec" -v p="$p_sec" \
        'BEGIN { printf "  ratio sluice (history recorded) / peer (transitions/s): %.1fx\n", (s > 0 ? p / s : 0) }'
    eval "${b}_tr=\$tr ${b}_s=\$s_sec ${b}_d=\$d_sec ${b}_p=\$p_sec"
done
awk -v ct="$chain_tr" -v cs="$chain_s" -v cd="$chain_d" -v cp="$chain_p" \
    -v mt="$map_tr" -v ms="$map_s" -v md="$map_d" -v mp="$map_p" \
    'BEGIN { printf "RESULT chain_tps=%.0f chain_memory_tps=%.0f chain_peer_tps=%.0f map_tps=%.0f map_memory_tps=%.0f map_peer_tps=%.0f\n",
             ct / cd, ct / cs, ct / cp, mt / md, mt / ms, mt / mp }'
