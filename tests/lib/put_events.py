"""Put clickstream events into a Kinesis stream with boto3.

    put_events.py STREAM FIRST COUNT [--batch N] [--pad BYTES] [--acked FILE]

Events are numbered FIRST..FIRST+COUNT-1 (event_id "e<n>").  Throttled
records are retried until accepted.  With --acked, every acknowledged
record is appended to FILE as "<shard> <sequence number> <event_id>" as soon
as its PutRecords call returns, so a test that kills the server knows what
was acknowledged.
"""
import argparse
import datetime
import json
import os
import time

import boto3
import botocore.config

ap = argparse.ArgumentParser()
ap.add_argument("stream")
ap.add_argument("first", type=int)
ap.add_argument("count", type=int)
ap.add_argument("--batch", type=int, default=100)
ap.add_argument("--pad", type=int, default=0)
ap.add_argument("--acked")
ap.add_argument("--firehose", action="store_true")
a = ap.parse_args()

cfg = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                             connect_timeout=5, read_timeout=30)
k = boto3.client("firehose" if a.firehose else "kinesis", endpoint_url=os.environ["SLUICE_URL"],
                 config=cfg)
acked = open(a.acked, "a", buffering=1) if a.acked else None


def event(n):
    ts = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    return (json.dumps({"event_id": f"e{n}", "user_id": f"u{n % 97}", "page": f"/p/{n % 13}",
                        "action": "view", "ts": ts.replace("+00:00", "Z"),
                        "pad": "x" * a.pad}) + "\n").encode()


n = a.first
end = a.first + a.count
while n < end:
    todo = list(range(n, min(n + a.batch, end)))
    while todo:
        if a.firehose:
            out = k.put_record_batch(DeliveryStreamName=a.stream,
                                     Records=[{"Data": event(i)} for i in todo])
            results = out["RequestResponses"]
            ok = [(i, "-", r["RecordId"]) for i, r in zip(todo, results) if "RecordId" in r]
        else:
            out = k.put_records(StreamName=a.stream,
                                Records=[{"Data": event(i), "PartitionKey": f"u{i % 97}"}
                                         for i in todo])
            results = out["Records"]
            ok = [(i, r["ShardId"], r["SequenceNumber"]) for i, r in zip(todo, results)
                  if "SequenceNumber" in r]
        if acked:
            for i, shard, seq in ok:
                acked.write(f"{shard} {seq} e{i}\n")
        done = {i for i, _, _ in ok}
        todo = [i for i in todo if i not in done]
        if todo:
            time.sleep(0.05)
    n = min(n + a.batch, end)
