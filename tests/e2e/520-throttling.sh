#!/bin/sh
# Write limits: records over a shard's limit are refused with
# ProvisionedThroughputExceededException, per record in PutRecords, never
# dropped silently, and counted in /metrics.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
start_server
awsk kinesis create-stream --stream-name t1 --shard-count 1
"$PY" - "$URL" <<'PY'
import os, sys, threading, time, urllib.request
import boto3, botocore.config, botocore.exceptions
url = sys.argv[1]
cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
k = boto3.client("kinesis", endpoint_url=url, config=cfg)
# Throttling needs records to come faster than the limit refills, so each
# step below sends its requests from three threads at once and repeats
# until something is throttled (60 s at most): on a busy machine one
# client alone may be slower than 1,000 records/s.  The upper bound on what
# was accepted holds however long that takes.
clients = [boto3.client("kinesis", endpoint_url=url, config=cfg) for _ in range(3)]


def at_once(fn):
    """fn(client) from three threads at once; their results."""
    results = [None] * len(clients)

    def run(i):
        try:
            results[i] = fn(clients[i])
        except Exception as e:
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads: t.start()
    for t in threads: t.join()
    return results


# Batches of 3 x 500 records against 1,000 records/s (and a bucket of
# 1,000).
sent = ok = failed = 0
t0 = time.time()
while failed == 0 and time.time() - t0 < 60:
    for out in at_once(lambda c: c.put_records(
            StreamName="t1", Records=[{"Data": b"r", "PartitionKey": "p"}] * 500)):
        assert not isinstance(out, Exception), out
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
# PutRecord over the limit is a whole-request error: records of about 1 MB
# against 1 MiB/s, three at once.
time.sleep(1.1)   # at least a second: the buckets are full again
t0 = time.time()
accepted = throttled = 0
while throttled == 0 and time.time() - t0 < 60:
    for out in at_once(lambda c: c.put_record(StreamName="t1", Data=b"b" * 1000000,
                                              PartitionKey="p")):
        if isinstance(out, botocore.exceptions.ClientError):
            assert out.response["Error"]["Code"] == "ProvisionedThroughputExceededException", out
            throttled += 1
        else:
            assert not isinstance(out, Exception), out
            accepted += 1
elapsed = time.time() - t0
assert throttled > 0, "FAIL PutRecord was not throttled"
assert accepted * 1000001 <= 1048576 * (1 + elapsed) + 1, f"{accepted} MB accepted in {elapsed:.2f}s"
failed += throttled
print(f"ok PutRecord throttled ({accepted} accepted, {throttled} throttled in {elapsed:.2f}s)")
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
