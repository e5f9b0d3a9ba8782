#!/bin/sh
# Write limits: records over a shard's limit are refused with
# ProvisionedThroughputExceededException, per record in PutRecords, never
# dropped silently, and counted in /metrics.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
start_server
awsk kinesis create-stream --stream-name t1 --shard-count 1
"$PY" - "$URL" <<'PY'
import os, sys, time, urllib.request
import boto3, botocore.config, botocore.exceptions
url = sys.argv[1]
k = boto3.client("kinesis", endpoint_url=url,
                 config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}))
# 3,000 records at once against 1,000 records/s.
sent = ok = failed = 0
t0 = time.time()
for _ in range(6):
    out = k.put_records(StreamName="t1", Records=[{"Data": b"r", "PartitionKey": "p"}] * 500)
    sent += 500
    failed += out["FailedRecordCount"]
    ok += sum(1 for r in out["Records"] if "SequenceNumber" in r)
    bad = [r for r in out["Records"] if "ErrorCode" in r]
    assert all(r["ErrorCode"] == "ProvisionedThroughputExceededException" and
               "Rate exceeded for shard shardId-000000000000 in stream t1" in r["ErrorMessage"]
               for r in bad), bad[:2]
elapsed = time.time() - t0
assert ok + failed == sent
assert failed > 0, "nothing was throttled"
assert ok <= 1000 + 1000 * elapsed + 1, f"{ok} accepted in {elapsed:.2f}s"
print(f"ok {ok} accepted, {failed} throttled per record in {elapsed:.2f}s")
# PutRecord over the limit is a whole-request error: two records of about
# 1 MB against 1 MiB/s.
time.sleep(1.1)
try:
    for _ in range(2):
        k.put_record(StreamName="t1", Data=b"b" * 1000000, PartitionKey="p")
    raise SystemExit("FAIL PutRecord was not throttled")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ProvisionedThroughputExceededException", e
    failed += 1
print("ok PutRecord throttled")
# Bytes: 1 MiB/s; 20 records of 100 KB do not all fit.
time.sleep(1.1)
out = k.put_records(StreamName="t1",
                    Records=[{"Data": b"x" * 100000, "PartitionKey": "p"}] * 20)
assert 0 < out["FailedRecordCount"] < 20, out["FailedRecordCount"]
failed += out["FailedRecordCount"]
print(f"ok byte limit: {out['FailedRecordCount']} of 20 throttled")
# Nothing accepted was lost: the log holds exactly the accepted records.
m = urllib.request.urlopen(url + "/metrics").read().decode()
line = [l for l in m.splitlines()
        if l.startswith('sluice_stream_throttled_records_total{stream="t1"')]
assert line and int(line[0].split()[-1]) == failed, (line, failed)
print(f"ok metrics count {failed} throttled records")
# After a second the limit refills.
time.sleep(1.1)
out = k.put_records(StreamName="t1", Records=[{"Data": b"r", "PartitionKey": "p"}] * 100)
assert out["FailedRecordCount"] == 0
print("ok refilled after a second")
PY
stop_server
