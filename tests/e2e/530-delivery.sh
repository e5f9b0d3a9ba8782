#!/bin/sh
# Delivery into raw: the size trigger, the interval trigger, the flush on
# shutdown, and exactly-once across a crash on either side of the commit.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
# Two sources: one flushed by size only, one by time only.
sed -e 's/buffer_interval: 1/buffer_interval: 900/' -e '/on_arrival/d' \
    "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/bysize.yaml
sed -e 's/buffer_size: 64KiB/buffer_size: 64MiB/' -e 's/buffer_interval: 1/buffer_interval: 2/' \
    -e '/on_arrival/d' "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/bytime.yaml

objects() { sluice raw ls --source "$1" --format jsonl | grep -c . || true; }
raw_lines() {
    for k in $(sluice raw ls --source "$1" --format jsonl |
               "$PY" -c 'import sys,json; [print(json.loads(l)["key"]) for l in sys.stdin]'); do
        case $k in *.gz) gzip -dc "lake/$k" ;; *) cat "lake/$k" ;; esac
    done
}
wait_for() { # wait_for SECONDS CMD...: until CMD succeeds
    limit=$1; shift
    i=0
    until "$@"; do
        i=$((i + 1)); [ $i -lt $((limit * 10)) ] || return 1
        sleep 0.1
    done
}

start_server
say "size trigger: 64 KiB of records make an object at once"
py_check put_events.py bysize 0 300 --pad 300      # about 120 KB
wait_for 5 sh -c "[ \$(\"$SLUICE\" raw ls --source bysize --format jsonl | grep -c .) -ge 1 ]" \
    || fail "no object by size"
expect_eq "bytime has nothing yet" "$(objects bytime)" 0

say "interval trigger: a few records wait their interval, no longer"
t0=$(date +%s.%N)
py_check put_events.py bytime 0 5
sleep 1
expect_eq "not before the interval" "$(objects bytime)" 0
wait_for 6 sh -c "[ \$(\"$SLUICE\" raw ls --source bytime --format jsonl | grep -c .) -ge 1 ]" \
    || fail "no object after the interval"
t1=$(date +%s.%N)
"$PY" -c "import sys; d=$t1-$t0; print('delivered after %.1fs' % d); sys.exit(0 if d < 6 else 1)" \
    || fail "interval trigger too late"
expect_eq "records delivered by time" "$(raw_lines bytime | grep -c event_id)" 5

say "shutdown delivers what is buffered"
py_check put_events.py bysize 300 10
stop_server
expect_eq "all bysize records in raw after stop" "$(raw_lines bysize | sort -u | grep -c event_id)" 310
grep -q '"original_name": *"stream:bysize"\|stream:bysize' "$T/server.log" || true

say "a crash before the commit: the records are delivered once, after restart"
SLUICE_FAULT=crash@delivery.before_commit start_server
py_check put_events.py bytime 5 20
i=0
while kill -0 "$SERVER_PID" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the fault point was not reached"
    sleep 0.1
done
SERVER_PID=
expect_eq "nothing new in raw after the crash" "$(raw_lines bytime | grep -c event_id)" 5
start_server
wait_for 8 sh -c "[ \$(\"$SLUICE\" raw ls --source bytime --format jsonl | grep -c .) -ge 2 ]" \
    || fail "not redelivered after restart"
stop_server
expect_eq "each record once" "$(raw_lines bytime | grep -c event_id)" 25
expect_eq "no duplicates" "$(raw_lines bytime | sort -u | grep -c event_id)" 25

say "a crash after the commit: recovery publishes it, nothing twice"
SLUICE_FAULT=crash@delivery.after_commit start_server
py_check put_events.py bytime 25 7
i=0
while kill -0 "$SERVER_PID" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "the fault point was not reached"
    sleep 0.1
done
SERVER_PID=
start_server
sleep 3
stop_server
expect_eq "each record once" "$(raw_lines bytime | grep -c event_id)" 32
expect_eq "no duplicates" "$(raw_lines bytime | sort -u | grep -c event_id)" 32
sluice verify >/dev/null || fail "verify after the crashes"
sluice runs | grep -q delivery || fail "delivery runs are in the account"
