#!/bin/sh
# kill -9 under concurrent writes: every acknowledged record is there after
# the restart, in order, with its original sequence number.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cat >> sluice.yaml <<'YAML'
server:
  shard_write_bytes: 0
  shard_write_records: 0
YAML
start_server
awsk kinesis create-stream --stream-name dur --shard-count 3

# acked_each N: every writer of this round has N records acknowledged.
acked_each() {
    for w in 0 1 2 3; do
        [ "$(cat "$T/acked.$round.$w" 2>/dev/null | wc -l)" -ge "$1" ] || return 1
    done
}

for round in 1 2; do
    say "round $round: four writers, then kill -9"
    : > "$T/acked.$round"
    for w in 0 1 2 3; do
        : > "$T/acked.$round.$w"
        py_check put_events.py dur $(( (round * 10 + w) * 100000 )) 100000 --batch 50 \
            --acked "$T/acked.$round.$w" 2>"$T/writer.$round.$w.err" &
    done
    # The kill comes once all four are writing and each has 2,000 records
    # acknowledged (each has 100,000 to send, so all are still writing):
    # not after a fixed time, which a busy machine may spend starting
    # Python before the first record is put.
    if ! wait_for 60 acked_each 2000; then
        wc -l "$T"/acked.$round.*
        tail -n 5 "$T"/writer.$round.*.err
        fail "the writers did not get 2,000 records each acknowledged within 60 s"
    fi
    kill_server
    wait 2>/dev/null || true   # the writers fail once the server is gone
    cat "$T"/acked.$round.* > "$T/acked.$round"
    n=$(wc -l < "$T/acked.$round")
    [ "$n" -gt 100 ] || fail "too few records acknowledged before the kill ($n)"
    say "$n acknowledged; restart and read back"
    start_server
    py_check read_stream.py dur > "$T/read.$round"
    "$PY" - "$T/acked.$round" "$T/read.$round" <<'PY'
import sys
acked = [l.split() for l in open(sys.argv[1])]
read = [l.split(" ", 2) for l in open(sys.argv[2])]
where = {}
for shard, seq, data in read:
    import json
    where[json.loads(data)["event_id"]] = (shard, int(seq))
missing = [a for a in acked if a[2] not in where]
assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}"
wrong = [a for a in acked if where[a[2]] != (a[0], int(a[1]))]
assert not wrong, f"sequence numbers changed: {wrong[:3]}"
by_shard = {}
for shard, seq, _ in read:
    by_shard.setdefault(shard, []).append(int(seq))
assert all(v == sorted(v) and len(set(v)) == len(v) for v in by_shard.values()), "order"
print(f"ok {len(acked)} acknowledged records all read back, {len(read)} in the log")
PY
done
stop_server
