#!/bin/sh
# Iterators expire after server.iterator_ttl; they, sequence numbers and
# records survive a clean restart; a bad SequenceNumberForOrdering is refused.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cat >> sluice.yaml <<'YAML'
server:
  iterator_ttl: 1
YAML
start_server
awsk kinesis create-stream --stream-name r1 --shard-count 2
"$PY" - "$URL" "$T/state.json" <<'PY'
import json, sys, time
import boto3, botocore.config, botocore.exceptions
k = boto3.client("kinesis", endpoint_url=sys.argv[1],
                 config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}))
out = k.put_records(StreamName="r1", Records=[{"Data": b"r%d" % i, "PartitionKey": "k%d" % i}
                                               for i in range(20)])
it = k.get_shard_iterator(StreamName="r1", ShardId="shardId-000000000000",
                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
time.sleep(2.2)
try:
    k.get_records(ShardIterator=it)
    raise SystemExit("FAIL an expired iterator was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ExpiredIteratorException", e
print("ok an iterator past server.iterator_ttl is ExpiredIteratorException")
try:
    k.put_record(StreamName="r1", Data=b"x", PartitionKey="p", SequenceNumberForOrdering="012")
    raise SystemExit("FAIL a bad SequenceNumberForOrdering was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ValidationException", e
prev = out["Records"][0]["SequenceNumber"]
r = k.put_record(StreamName="r1", Data=b"ordered", PartitionKey="k0",
                 SequenceNumberForOrdering=prev)
assert int(r["SequenceNumber"]) > int(prev)
print("ok SequenceNumberForOrdering checked and honoured")
json.dump([(o["ShardId"], o["SequenceNumber"]) for o in out["Records"]], open(sys.argv[2], "w"))
PY
stop_server
start_server
"$PY" - "$URL" "$T/state.json" <<'PY'
import json, sys
import boto3
k = boto3.client("kinesis", endpoint_url=sys.argv[1])
want = json.load(open(sys.argv[2]))
got = {}
for sid in ("shardId-000000000000", "shardId-000000000001"):
    it = k.get_shard_iterator(StreamName="r1", ShardId=sid,
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    for rec in k.get_records(ShardIterator=it)["Records"]:
        got[rec["SequenceNumber"]] = (sid, rec["Data"])
assert all(got[seq][0] == sid for sid, seq in want), "records or numbers changed"
assert sorted(d for _, d in got.values()) == sorted([b"r%d" % i for i in range(20)] + [b"ordered"])
out = k.put_record(StreamName="r1", Data=b"after", PartitionKey="k0")
assert int(out["SequenceNumber"]) > max(int(s) for _, s in want if _ == out["ShardId"])
print("ok records and sequence numbers survive a restart; numbers go on growing")
PY
stop_server

say "a stream whose declaration leaves its source file stays, no longer declared"
sed -e '/on_arrival/d' "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/clicks.yaml
start_server
if awsk kinesis delete-stream --stream-name clicks 2> "$T/del.err"; then
    fail "a declared stream was deleted through the API"
fi
grep -q "declared by source" "$T/del.err" || fail "delete declared: $(cat "$T/del.err")"
awsk kinesis put-record --stream-name clicks --partition-key p --data eA== > /dev/null
stop_server
sed -i '/^stream:/,/buffer_interval/d' sources/clicks.yaml
start_server
awsk kinesis describe-stream-summary --stream-name clicks > /dev/null \
    || fail "the stream went with its declaration"
awsk kinesis delete-stream --stream-name clicks || fail "an undeclared stream cannot be deleted"
stop_server
