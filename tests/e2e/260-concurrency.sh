# Several sluice processes on one lake: one transform per source at a
# time, landing while a transform runs, the same file landed twice at once.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
n=60000
[ "${SLUICE_MODE:-}" = asan ] && n=15000
$PY "$SLUICE_SRC/bench/gen_orders.py" base $n a.jsonl
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 5000 $n b.jsonl
sluice ingest --source orders a.jsonl >/dev/null

say "two transforms of one source: the second is refused, not interleaved"
# The second starts once the first holds the source's transform lock (an
# flock; /proc/locks names its holder, and looking does not take it), not
# after a fixed delay: on a busy machine the first may not have got there
# yet, and then the first would be the one refused.
lock=lake/_catalog/locks/transform-orders.lock
lock_held() {
    [ -e "$lock" ] &&
        grep -q "FLOCK  *ADVISORY  *WRITE  *[0-9][0-9]*  *[0-9a-f]*:[0-9a-f]*:$(stat -c %i "$lock") " \
            /proc/locks
}
first_held_or_done() { lock_held || [ -s t1.status ]; }
("$SLUICE" transform --source orders > t1.out 2>&1; echo $? > t1.status) &
p1=$!
wait_for 60 first_held_or_done || fail "the first transform neither took its lock nor ended"
status=0
"$SLUICE" transform --source orders > t2.out 2>&1 || status=$?
wait $p1
expect_eq "the first transform's status" "$(cat t1.status)" 0
if [ $status -ne 0 ]; then
    say "the second was refused"
    grep -q "'transform-orders' is running in another process" t2.out || { cat t2.out; fail "message"; }
else
    # The first finished before the second took the lock: the second found
    # nothing.
    say "the first had finished"
    grep -q "nothing to do" t2.out || fail "second transform did work twice"
fi
grep -q "balance      $(printf "%'d" $n 2>/dev/null || echo $n)" t1.out || grep -q "balance" t1.out

say "landing while a transform runs; the same file landed twice at once"
"$SLUICE" ingest --source orders b.jsonl > i1.out 2>&1 &
p2=$!
"$SLUICE" ingest --source orders b.jsonl > i2.out 2>&1 &
p3=$!
"$SLUICE" transform --source orders > t3.out 2>&1 || true
wait $p2
wait $p3
cat i1.out i2.out
expect_eq "landed once" "$(cat i1.out i2.out | grep -c '^landed ')" 1
expect_eq "objects" "$(sluice raw ls | tail -n 1 | cut -d' ' -f1)" 2
sluice transform --source orders >/dev/null || true
sluice transform --source orders | grep -q "nothing to do"
sluice verify | grep -q "^ok"
expect_eq "one row per key" "$(q "SELECT count(*) = count(DISTINCT order_id) FROM curated.orders")" true
