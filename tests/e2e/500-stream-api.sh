#!/bin/sh
# The Kinesis API with the real AWS CLI v2 and boto3: every operation,
# routing, ordering, sequence numbers, partial failures, each error, CBOR.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cat >> sluice.yaml <<'YAML'
server:
  timeout: 2
YAML
start_server

say "AWS CLI: create, describe, put, get"
awsk kinesis create-stream --stream-name cli --shard-count 2
awsk kinesis describe-stream-summary --stream-name cli > "$T/summary.json"
grep -q '"OpenShardCount": 2' "$T/summary.json" || fail "describe-stream-summary: $(cat "$T/summary.json")"
awsk kinesis put-record --stream-name cli --partition-key user-1 --data aGVsbG8= > "$T/put.json"
seq=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["SequenceNumber"])' < "$T/put.json")
shard=$("$PY" -c 'import json,sys; print(json.load(sys.stdin)["ShardId"])' < "$T/put.json")
it=$(awsk kinesis get-shard-iterator --stream-name cli --shard-id "$shard" \
        --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" \
        --query ShardIterator --output text)
data=$(awsk kinesis get-records --shard-iterator "$it" --query 'Records[0].Data' --output text)
expect_eq "data read back by the CLI" "$data" "aGVsbG8="
awsk kinesis list-streams --query 'StreamNames' --output text | grep -qw cli \
    || fail "list-streams"
awsk kinesis list-shards --stream-name cli --query 'length(Shards)' --output text | grep -qx 2 \
    || fail "list-shards"
if awsk kinesis describe-stream --stream-name missing 2>"$T/err"; then
    fail "describe-stream of a missing stream succeeded"
fi
grep -q ResourceNotFoundException "$T/err" || fail "CLI error: $(cat "$T/err")"
awsk kinesis delete-stream --stream-name cli

say "boto3 and raw HTTP: every operation and error"
# A stalled client is dropped after server.timeout (2 s); the check waits
# for that up to 60 s, as a bound, not an expectation.
SLOW_WAIT=60 py_check kinesis_api_check.py

say "health and metrics"
"$PY" - "$URL" <<'PY'
import sys, urllib.request
base = sys.argv[1]
h = urllib.request.urlopen(base + "/health").read().decode()
assert '"status":"ok"' in h, h
m = urllib.request.urlopen(base + "/metrics").read().decode()
for name in ("sluice_requests_total", "sluice_stream_records_in_total{stream=\"s1\"",
             "sluice_stream_throttled_records_total", "sluice_commit_seconds_bucket",
             "sluice_delivery_records_total"):
    assert name in m, name
print("ok metrics")
PY
stop_server
grep -q "stopped" "$T/server.log" || fail "no clean stop"
