#!/bin/sh
# 289-key-files.sh - the key files beside curated data files, which the
# transform probes instead of reading the table, decide exactly what
# reading the table decides.
#
# Two copies of one project take the same runs: one with its key files,
# one whose key files are removed before every run (so every probe reads
# the data files, the way the transform worked before them).  Their rows
# and run accounts must be identical after every run - new keys, updates,
# redeliveries, ties on event time, a rewind, a compaction.  A key file
# that is damaged or stale is not trusted: the file is read, the rows come
# out right, and sluice verify names it.
. "$SLUICE_SRC/tests/e2e/lib.sh"

$PY "$SLUICE_SRC/bench/gen_orders.py" base 20000 "$T/base.jsonl"
for n in 1 2 3 4; do
    $PY "$SLUICE_SRC/bench/gen_orders.py" delta 3000 $((20000 + n * 500)) "$T/d$n.jsonl"
done
# Ties: the same keys and event times as the base, other values.
head -n 300 "$T/base.jsonl" | sed 's/"status":"[a-z]*"/"status":"tied"/' > "$T/tie.jsonl"

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
printf 'transform:\n  max_file_rows: 1000\nmaintenance:\n  every: 0\n' >> sluice.yaml
sluice ingest --source orders "$T/base.jsonl" >/dev/null
sluice transform --source orders >/dev/null
n=$(find lake/curated/orders/_keys -name '*.keys' | wc -l)
expect_eq "a key file per data file" "$n" "$(find lake/curated/orders -path '*/dt=*' -name '*.parquet' | wc -l)"
cd "$T"
copy_project "$T/p" "$T/q"
cd "$T/p"

# step NAME CMD...: the command in both projects (q without key files),
# then the same rows and accounts in both.
step() {
    name=$1
    shift
    say "$name"
    (cd "$T/p" && "$@" >/dev/null) || fail "$name (with key files)"
    (cd "$T/q" && rm -rf lake/curated/orders/_keys && "$@" >/dev/null) ||
        fail "$name (without key files)"
    (cd "$T/p" && lake_state orders) >"$T/p.state"
    (cd "$T/q" && lake_state orders) >"$T/q.state"
    cmp -s "$T/p.state" "$T/q.state" || {
        diff "$T/p.state" "$T/q.state" | head -20
        fail "$name: key files decided otherwise than reading the table"
    }
}
load() { # FILE: ingest and transform it
    sluice ingest --source orders "$1" && sluice transform --source orders
}

for n in 1 2 3; do
    step "delta $n" load "$T/d$n.jsonl"
done
step "ties on event time" load "$T/tie.jsonl"
step "a rewind over every object" sluice transform --source orders --rewind
step "a compaction" sluice compact curated.orders
step "a delta after it" load "$T/d4.jsonl"

say "the runs with key files probed them"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 100 30000 "$T/e.jsonl"
sluice ingest --source orders "$T/e.jsonl" >/dev/null
SLUICE_LOG=debug sluice transform --source orders 2>"$T/log" >/dev/null
grep -q 'by their key files, 0 read' "$T/log" || { grep probed "$T/log"; fail "files were read"; }
sluice verify >/dev/null || fail "verify"
conform orders

say "expiry takes the key files of the files it removes; orphans keep live ones"
before=$(find lake/curated/orders/_keys -name '*.keys' | wc -l)
sluice expire curated.orders --older-than 0s >/dev/null
sluice orphans curated.orders --older-than 0s --delete >/dev/null
for k in $(cd lake/curated/orders/_keys && find . -name '*.keys'); do
    d="lake/curated/orders/${k#./}"
    [ -f "${d%.keys}.parquet" ] || fail "key file $k outlived its data file"
done
n=$(find lake/curated/orders -path '*/dt=*' -name '*.parquet' | wc -l)
k=$(find lake/curated/orders/_keys -name '*.keys' | wc -l)
[ "$k" -le "$before" ] || fail "key files grew"
# (a file that absorbed the damaged one has none)
[ $((k * 10)) -ge $((n * 9)) ] || fail "orphans removed live key files ($k key files, $n data files)"
say "a damaged key file is not trusted"
# (after the expiry every key file is a live data file's)
f=$(find lake/curated/orders/_keys -name '*.keys' | sort | head -n 1)
# One bit of the first h1 hash flipped: the checksum fails, the file is read.
"$PY" -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[64] ^= 1
open(p, "wb").write(b)' "$f"
! sluice verify >"$T/verify.out" 2>&1 || fail "verify passed a damaged key file"
grep -q "its key file .* does not match it" "$T/verify.out" || { cat "$T/verify.out"; fail "verify"; }
# A record whose check fails: the file is read, with a warning.
copy_project "$T/p" "$T/r"
# (the largest: the next delta updates some of its keys)
g=$(cd "$T/r" && ls -S $(find lake/curated/orders/_keys -name '*.keys') | head -n 1)
"$PY" -c 'import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
rows = int.from_bytes(b[8:16], "little")
for i in range(rows):
    b[64 + 8 * rows + 48 * i + 8] ^= 1      # every record: its event time
open(p, "wb").write(b)' "$T/r/$g"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2000 31000 "$T/f.jsonl"
for dir in p r; do
    (cd "$T/$dir" && sluice ingest --source orders "$T/f.jsonl" >/dev/null &&
        sluice transform --source orders >/dev/null 2>"$T/$dir.err") || fail "transform in $dir"
done
grep -q "fails its checks: the file is read instead" "$T/r.err" ||
    { cat "$T/r.err"; fail "no warning about the damaged record"; }
(cd "$T/p" && lake_state orders) >"$T/p.state"
(cd "$T/r" && lake_state orders) >"$T/r.state"
cmp -s "$T/p.state" "$T/r.state" || fail "a damaged key file changed the outcome"

say "ok"
