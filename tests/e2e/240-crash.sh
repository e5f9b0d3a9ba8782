# Crashes: kill sluice at every fault point a clean run passes (and at
# random moments), then check that the lake and catalog are consistent -
# the run either happened or did not - and that a rerun gives exactly the
# result of an uninterrupted run.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
base_n=20000
delta_n=8000
[ "${SLUICE_MODE:-}" = asan ] && base_n=4000 && delta_n=2000
$PY "$SLUICE_SRC/bench/gen_orders.py" base $base_n base.jsonl
$PY "$SLUICE_SRC/bench/gen_orders.py" delta $delta_n $base_n delta.jsonl
sluice ingest --source orders base.jsonl >/dev/null
sluice transform --source orders >/dev/null
sluice ingest --source orders delta.jsonl >/dev/null
cd "$T"
copy_project p pre

state() {
    (cd "$1" && sluice query --format csv \
        "SELECT * EXCLUDE (_ingested_at) FROM curated.orders ORDER BY order_id" | sha256sum
     sluice runs --limit 0 | awk 'NR > 1 {print $3, $4, $5, $6, $7, $8, $9}'
     sluice query --format csv "SELECT count(*) FROM quarantine.orders")
}

say "the uninterrupted run"
remove_project ref && copy_project pre ref
t0=$(date +%s%N)
(cd ref && SLUICE_FAULT_TRACE="$T/trace" sluice transform --source orders >/dev/null)
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
state ref > ref.state
cat ref.state

# Every fault point with how often a clean run passes it.
sort trace | uniq -c | awk '{print $2, $1}' > points
cat points
# The delta replaces rows below the compaction threshold: the run writes a
# deletion file, and its fault point is among those crashed at.
grep -q '^transform.deletes_sealed ' points || fail "no deletion file in the crash run"
checked=0
while read -r point hits; do
    for n in 1 2 $(( (hits + 1) / 2 )) "$hits"; do
        [ "$n" -le "$hits" ] || continue
        key="$point:$n"
        grep -qx "$key" done 2>/dev/null && continue
        echo "$key" >> done
        remove_project run && copy_project pre run
        cd run
        status=0
        SLUICE_FAULT="crash@$key" sluice transform --source orders >/dev/null 2>&1 || status=$?
        [ $status -eq 137 ] || fail "crash@$key: expected SIGKILL (137), got $status"
        # Before recovery: committed or not, never half: the catalog holds
        # the run and its bookmark together or neither.
        runs=$(sluice runs --limit 0 | awk '$3 == "transform"' | wc -l)
        case $runs in
            1|2) ;;
            *) fail "crash@$key: $runs runs recorded" ;;
        esac
        sluice verify --no-recover > verify.out 2>&1 || { cat verify.out; fail "crash@$key: inconsistent before recovery"; }
        sluice verify > verify.out 2>&1 || { cat verify.out; fail "crash@$key: inconsistent after recovery"; }
        sluice transform --source orders --wait >/dev/null
        cd "$T"
        state run > run.state
        diff ref.state run.state >/dev/null || { diff ref.state run.state; fail "crash@$key: the rerun differs from the uninterrupted run"; }
        checked=$((checked + 1))
    done
done < points
say "$checked crash points checked"
[ "$checked" -ge 10 ] || fail "too few crash points ($checked)"

say "kill -9 at random moments"
# The moments are spread over the time the uninterrupted run took here,
# not over a fixed second, so that they fall during the run however fast or
# busy the machine is.  Whether a kill lands before or after the end, the
# checks are the same.
i=0
killed=0
while [ $i -lt 8 ]; do
    remove_project run && copy_project pre run
    cd run
    at_ms=$(( ref_ms * ((i * 37 + 11) % 100) / 100 ))
    "$SLUICE" transform --source orders >/dev/null 2>&1 &
    pid=$!
    sleep "$((at_ms / 1000)).$(printf %03d $((at_ms % 1000)))"
    kill -9 $pid 2>/dev/null || true
    status=0
    wait $pid 2>/dev/null || status=$?
    [ $status -ne 137 ] || killed=$((killed + 1))
    sluice verify > verify.out 2>&1 || { cat verify.out; fail "random kill $i: inconsistent"; }
    sluice transform --source orders --wait >/dev/null
    cd "$T"
    state run > run.state
    diff ref.state run.state >/dev/null || fail "random kill $i: the rerun differs"
    i=$((i + 1))
done
say "$killed of 8 random kills landed before the run ended (the uninterrupted run took ${ref_ms} ms)"

say "crashes while landing: the object lands exactly once"
printf '{"order_id":"Z1","customer_id":"C1","status":"new","amount":1.00,"ordered_at":"2026-10-09T00:00:00Z"}\n' > z.jsonl
for key in ingest.write:1 store.seal:1 ingest.before_commit:1 catalog.commit:1 ingest.after_commit:1 store.publish:1 commit.clear:1; do
    remove_project run && copy_project pre run
    cd run
    status=0
    SLUICE_FAULT="crash@$key" sluice ingest --source orders ../z.jsonl >/dev/null 2>&1 || status=$?
    [ $status -eq 137 ] || fail "ingest crash@$key: got status $status"
    sluice verify >/dev/null || fail "ingest crash@$key: inconsistent"
    sluice ingest --source orders ../z.jsonl >/dev/null
    expect_eq "objects after ingest crash@$key" "$(sluice raw ls | tail -n 1 | cut -d' ' -f1)" 3
    sluice verify --deep >/dev/null || fail "ingest crash@$key: checksum"
    cd "$T"
done
