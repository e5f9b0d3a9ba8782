#!/bin/sh
# Event-driven transform: an event put through the API is returned by
# `sluice query` from the curated table within the buffer interval (1 s)
# plus a few seconds; bursts coalesce into few transforms.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cp "$SLUICE_SRC/tests/lib/clicks.yaml" sources/clicks.yaml
start_server
# A first event makes the table (the first transform also creates it).
py_check put_events.py clicks 0 1
limit=20   # generous under the sanitizers; the benchmark measures the real figure
for n in 1 2 3; do
    t0=$(date +%s.%N)
    py_check put_events.py clicks "$n" 1
    i=0
    until [ "$(q "SELECT count(*) FROM curated.clicks WHERE event_id = 'e$n'" 2>/dev/null)" = 1 ]; do
        i=$((i + 1))
        [ $i -lt $((limit * 10)) ] || { cat "$T/server.log"; fail "event e$n not curated after ${limit}s"; }
        sleep 0.1
    done
    t1=$(date +%s.%N)
    "$PY" -c "print('event e$n curated after %.2fs' % ($t1 - $t0))"
done

say "a burst of 2,000 events: all curated, transforms coalesced"
py_check put_events.py clicks 100 2000 --batch 500
i=0
until [ "$(q "SELECT count(*) FROM curated.clicks" 2>/dev/null)" = 2004 ]; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "burst not curated"
    sleep 0.1
done
stop_server
runs=$(sluice runs --source clicks | grep -c transform || true)
objects=$(sluice raw ls --source clicks --format jsonl | grep -c .)
say "$objects objects, $runs transforms"
[ "$runs" -le "$objects" ] || fail "more transforms than objects"
expect_eq "every event once" "$(q "SELECT count(*), count(DISTINCT event_id) FROM curated.clicks")" "2004,2004"
