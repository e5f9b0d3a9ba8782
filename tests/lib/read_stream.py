"""Print every record of a Kinesis stream as "<shard> <sequence number> <data>"
(data decoded, stripped), shard by shard from TRIM_HORIZON, with boto3."""
import os
import sys

import boto3

k = boto3.client("kinesis", endpoint_url=os.environ["SLUICE_URL"])
stream = sys.argv[1]
for shard in k.list_shards(StreamName=stream)["Shards"]:
    sid = shard["ShardId"]
    it = k.get_shard_iterator(StreamName=stream, ShardId=sid,
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while True:
        out = k.get_records(ShardIterator=it)
        for r in out["Records"]:
            print(sid, r["SequenceNumber"], r["Data"].decode().strip())
        it = out["NextShardIterator"]
        if not out["Records"]:
            break
