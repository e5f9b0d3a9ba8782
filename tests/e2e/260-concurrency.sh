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
"$SLUICE" transform --source orders > t1.out 2>&1 &
p1=$!
sleep 0.05
status=0
"$SLUICE" transform --source orders > t2.out 2>&1 || status=$?
wait $p1
if [ $status -ne 0 ]; then
    grep -q "'transform-orders' is running in another process" t2.out || { cat t2.out; fail "message"; }
else
    # The first finished before the second started: the second found nothing.
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
