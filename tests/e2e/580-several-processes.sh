#!/bin/sh
# Several sluice processes on one catalog at once (on PostgreSQL they stand
# in for several machines): landings and transforms of three sources run
# side by side, two transform loops per source racing each other.  Different
# sources transform in parallel; two transforms of one source never both
# take an object: across all runs every raw object is transformed exactly
# once, every account balances and `verify --deep` passes.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
for s in a b c; do
    write_source $s <<'YAML'
system: shop
contracts:
  - version: "1.0"
    key: [id]
    event_time: at
    columns:
      - {name: id, type: string, required: true}
      - {name: n, type: int64, required: true}
      - {name: at, type: timestamp, required: true}
YAML
done
files=12
[ "${SLUICE_MODE:-}" = asan ] && files=6
mkdir in
for s in a b c; do
    f=0
    while [ $f -lt $files ]; do
        # Keys repeat across files (updates); event time grows with n, so
        # each key's row is the one with its largest n.
        "$PY" -c "
import sys, datetime
s, f = sys.argv[1], int(sys.argv[2])
t0 = datetime.datetime(2026, 10, 1)
for i in range(100):
    n = f * 100 + i
    at = (t0 + datetime.timedelta(minutes=n)).strftime('%Y-%m-%dT%H:%M:00Z')
    print('{\"id\":\"%s%d\",\"n\":%d,\"at\":\"%s\"}' % (s, (f * 37 + i) % 400, n, at))
" $s $f > in/$s-$f.jsonl
        f=$((f + 1))
    done
done

say "landers and racing transformers, all at once"
lander() { # lander SOURCE
    f=0
    while [ $f -lt $files ]; do
        "$SLUICE" ingest --source "$1" in/$1-$f.jsonl >/dev/null || return 1
        f=$((f + 1))
    done
}
transformer() { # transformer SOURCE: until the lander is done and nothing is left
    while :; do
        out=$("$SLUICE" transform --source "$1" --wait 2>&1) || { echo "$out"; return 1; }
        if [ -e "$T/landed-$1" ] && echo "$out" | grep -q "nothing to do"; then
            return 0
        fi
    done
}
pids=
for s in a b c; do
    (lander $s && touch "$T/landed-$s") > "$T/lander-$s.log" 2>&1 &
    pids="$pids $!"
    transformer $s > "$T/t1-$s.log" 2>&1 &
    pids="$pids $!"
    transformer $s > "$T/t2-$s.log" 2>&1 &
    pids="$pids $!"
done
for p in $pids; do
    wait $p || { cat "$T"/*.log; fail "a process failed"; }
done

say "every object transformed exactly once, every account balanced"
for s in a b c; do
    objects=$(sluice raw ls --source $s --format jsonl | grep -c .)
    expect_eq "objects of $s" "$objects" $files
    taken=$(sluice runs --source $s --limit 0 | awk '$3 == "transform" {n += $5} END {print n + 0}')
    expect_eq "objects transformed of $s" "$taken" $files
    records=$(sluice runs --source $s --limit 0 | awk '$3 == "transform" {gsub(",", "", $6); n += $6} END {print n + 0}')
    expect_eq "records in of $s" "$records" $((files * 100))
    expect_eq "one row per key of $s" \
        "$(q "SELECT count(*) = count(DISTINCT id) FROM curated.$s")" true
    want=$("$PY" -c "
import sys
files = int(sys.argv[1]); best = {}
for n in range(files * 100):
    f, i = divmod(n, 100)
    best[(f * 37 + i) % 400] = n
print(len(best), sum(best.values()))" $files)
    expect_eq "the latest row of each key of $s" \
        "$(q "SELECT count(*) || ' ' || sum(n) FROM curated.$s")" "$want"
done
sluice runs --limit 0 | grep -q BROKEN && fail "an account does not balance"
sluice verify --deep | grep -q "^ok" || fail "verify --deep"
