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
# at_least N SOURCE: SOURCE has N objects in raw or more.
at_least() { [ "$(objects "$2")" -ge "$1" ]; }
server_gone() { ! kill -0 "$SERVER_PID" 2>/dev/null; }
# Whether event e<N> is in SOURCE's raw objects.
delivered() { raw_lines "$2" | grep -q "\"event_id\": *\"e$1\""; }

start_server
say "size trigger: 64 KiB of records make an object at once"
py_check put_events.py bysize 0 300 --pad 300      # about 120 KB
# The interval is 900 s: an object within the wait is the size trigger's.
wait_for 60 at_least 1 bysize || fail "no object by size"
expect_eq "bytime has nothing yet" "$(objects bytime)" 0

say "interval trigger: a few records wait their interval, no longer"
py_check put_events.py bytime 0 5
wait_for 60 at_least 1 bytime || fail "no object after the interval"
# How long the first record waited: from its arrival, as GetRecords reports
# it, to the object's, as the catalog records it (in microseconds); both
# are the server's clock, so a busy machine slowing the test down does not
# count, and "not before the interval" needs no fixed delay to look at.
"$PY" - "$URL" "$(catalog_sql "SELECT min(arrived_at) FROM raw_objects WHERE source = 'bytime'")" <<'PY' || fail "interval trigger: delivered before the interval or too late"
import sys
import boto3
k = boto3.client("kinesis", endpoint_url=sys.argv[1])
arrivals = []
for shard in k.list_shards(StreamName="bytime")["Shards"]:
    it = k.get_shard_iterator(StreamName="bytime", ShardId=shard["ShardId"],
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    arrivals += [r["ApproximateArrivalTimestamp"].timestamp()
                 for r in k.get_records(ShardIterator=it)["Records"]]
arrived_us = int(sys.argv[2])
waited = arrived_us / 1e6 - min(arrivals)
print(f"{len(arrivals)} records; the first waited {waited:.3f}s (interval 2 s)")
# Arrival timestamps are whole milliseconds: 1 ms of rounding.
sys.exit(0 if len(arrivals) == 5 and 1.999 <= waited < 6 else 1)
PY
expect_eq "records delivered by time" "$(raw_lines bytime | grep -c event_id)" 5

say "shutdown delivers what is buffered"
py_check put_events.py bysize 300 10
stop_server
expect_eq "all bysize records in raw after stop" "$(raw_lines bysize | sort -u | grep -c event_id)" 310
grep -q '"original_name": *"stream:bysize"\|stream:bysize' "$T/server.log" || true

say "a crash before the commit: the records are delivered once, after restart"
SLUICE_FAULT=crash@delivery.before_commit start_server
py_check put_events.py bytime 5 20
wait_for 60 server_gone || fail "the fault point was not reached"
SERVER_PID=
expect_eq "nothing new in raw after the crash" "$(raw_lines bytime | grep -c event_id)" 5
start_server
wait_for 60 at_least 2 bytime || fail "not redelivered after restart"
stop_server
expect_eq "each record once" "$(raw_lines bytime | grep -c event_id)" 25
expect_eq "no duplicates" "$(raw_lines bytime | sort -u | grep -c event_id)" 25

say "a crash after the commit: recovery publishes it, nothing twice"
SLUICE_FAULT=crash@delivery.after_commit start_server
py_check put_events.py bytime 25 7
wait_for 60 server_gone || fail "the fault point was not reached"
SERVER_PID=
start_server
# The restarted server runs delivery passes before it stops (a record put
# now is delivered by one, after its interval): any of them, or the flush
# on stop, would deliver e25..e31 again if the crash had lost their
# committed positions.
py_check put_events.py bytime 32 1
wait_for 60 delivered 32 bytime || fail "e32 not delivered after the restart"
stop_server
expect_eq "each record once" "$(raw_lines bytime | grep -c event_id)" 33
expect_eq "no duplicates" "$(raw_lines bytime | sort -u | grep -c event_id)" 33
sluice verify >/dev/null || fail "verify after the crashes"
sluice runs | grep -q delivery || fail "delivery runs are in the account"
