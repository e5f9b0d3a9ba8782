"""The Kinesis API of `sluice serve`, checked with boto3 and raw HTTP.

Run by tests/e2e/500-stream-api.sh against a server it started; the URL is
in SLUICE_URL.  Every check prints one line; the first failure raises.
Independent of sluice: routing is recomputed here from MD5 and the hash
ranges the server reports, CBOR bodies are made with cbor2.
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions
import cbor2

URL = os.environ["SLUICE_URL"]
HOST = urllib.parse.urlparse(URL)
K = boto3.client(
    "kinesis",
    endpoint_url=URL,
    config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
)


def check(what, cond, detail=""):
    if not cond:
        raise SystemExit(f"FAIL {what} {detail}")
    print(f"ok {what}")


def expect_error(what, code, fn, *args, **kw):
    try:
        fn(*args, **kw)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(what, got == code and status == 400, f"got {got} ({status}): {e}")
        return e
    raise SystemExit(f"FAIL {what}: no error, expected {code}")


def raw(target, body, content_type="application/x-amz-json-1.1", headers=None):
    """One request with http.client; returns (status, headers, body bytes)."""
    conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=30)
    h = {"Content-Type": content_type}
    if target is not None:
        h["X-Amz-Target"] = target
    h.update(headers or {})
    conn.request("POST", "/", body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def raw_error(what, target, body, code, **kw):
    status, _, data = raw(target, body, **kw)
    try:
        got = json.loads(data).get("__type", "")
    except ValueError:
        got = f"<not JSON: {data[:80]!r}>"
    check(what, status == 400 and got.split("#")[-1] == code, f"got {status} {got}")


# ---- control plane -----------------------------------------------------------

K.create_stream(StreamName="s1", ShardCount=4)
K.create_stream(StreamName="s2", ShardCount=1)
K.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
expect_error("CreateStream of an existing name", "ResourceInUseException",
             K.create_stream, StreamName="s1", ShardCount=1)
expect_error("CreateStream with a bad name", "ValidationException",
             K.create_stream, StreamName="bad name!", ShardCount=1)
expect_error("CreateStream with a name over 128", "ValidationException",
             K.create_stream, StreamName="x" * 129, ShardCount=1)
expect_error("CreateStream with too many shards", "LimitExceededException",
             K.create_stream, StreamName="huge", ShardCount=100000)
expect_error("CreateStream PROVISIONED without ShardCount", "InvalidArgumentException",
             K.create_stream, StreamName="noshards")

waiter = K.get_waiter("stream_exists")
waiter.wait(StreamName="s1", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
d = K.describe_stream(StreamName="s1")["StreamDescription"]
check("DescribeStream status", d["StreamStatus"] == "ACTIVE")
check("DescribeStream ARN",
      d["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/s1", d["StreamARN"])
check("DescribeStream shards", [s["ShardId"] for s in d["Shards"]] ==
      [f"shardId-{i:012d}" for i in range(4)])
ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
          for s in d["Shards"]]
check("hash ranges cover [0, 2^128-1] evenly",
      ranges[0][0] == 0 and ranges[-1][1] == 2**128 - 1 and
      all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(3)) and
      ranges[1][0] == 2**128 // 4, str(ranges))
check("DescribeStream retention", d["RetentionPeriodHours"] == 24)
page = K.describe_stream(StreamName="s1", Limit=2)["StreamDescription"]
check("DescribeStream Limit pages", len(page["Shards"]) == 2 and page["HasMoreShards"])
page2 = K.describe_stream(StreamName="s1", ExclusiveStartShardId="shardId-000000000001")
check("DescribeStream ExclusiveStartShardId",
      [s["ShardId"] for s in page2["StreamDescription"]["Shards"]] ==
      ["shardId-000000000002", "shardId-000000000003"])
summ = K.describe_stream_summary(StreamName="s1")["StreamDescriptionSummary"]
check("DescribeStreamSummary", summ["OpenShardCount"] == 4 and summ["StreamStatus"] == "ACTIVE")
# Debian's botocore model predates StreamARN: send it by hand.
status, _, data = raw("Kinesis_20131202.DescribeStreamSummary",
                      json.dumps({"StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/od"}))
summ = json.loads(data)
check("on-demand stream by ARN", status == 200 and
      summ["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"] == "ON_DEMAND", data)
names = K.list_streams()["StreamNames"]
check("ListStreams", names == ["od", "s1", "s2"], str(names))
first = K.list_streams(Limit=1)
check("ListStreams paging", first["StreamNames"] == ["od"] and first["HasMoreStreams"])
rest = K.list_streams(ExclusiveStartStreamName="od")
check("ListStreams ExclusiveStartStreamName", rest["StreamNames"] == ["s1", "s2"],
      str(rest["StreamNames"]))
status, _, data = raw("Kinesis_20131202.ListStreams", b'{"Limit": 1}')
token = json.loads(data)["NextToken"]
status, _, data = raw("Kinesis_20131202.ListStreams", json.dumps({"NextToken": token}))
check("ListStreams NextToken", json.loads(data)["StreamNames"] == ["s1", "s2"], data)
shards = K.list_shards(StreamName="s1", MaxResults=3)
check("ListShards MaxResults", len(shards["Shards"]) == 3 and "NextToken" in shards)
more = K.list_shards(NextToken=shards["NextToken"])
check("ListShards NextToken", [s["ShardId"] for s in more["Shards"]] == ["shardId-000000000003"])
expect_error("ListShards with NextToken and StreamName", "InvalidArgumentException",
             K.list_shards, StreamName="s1", NextToken=shards["NextToken"])
expect_error("DescribeStream of an unknown stream", "ResourceNotFoundException",
             K.describe_stream, StreamName="nope")

K.increase_stream_retention_period(StreamName="s2", RetentionPeriodHours=48)
check("IncreaseStreamRetentionPeriod",
      K.describe_stream(StreamName="s2")["StreamDescription"]["RetentionPeriodHours"] == 48)
expect_error("Decrease to more than current", "InvalidArgumentException",
             K.decrease_stream_retention_period, StreamName="s2", RetentionPeriodHours=72)
K.decrease_stream_retention_period(StreamName="s2", RetentionPeriodHours=24)
check("DecreaseStreamRetentionPeriod",
      K.describe_stream(StreamName="s2")["StreamDescription"]["RetentionPeriodHours"] == 24)
expect_error("retention over 8760 hours", "InvalidArgumentException",
             K.increase_stream_retention_period, StreamName="s2", RetentionPeriodHours=9000)

# ---- puts, routing, ordering --------------------------------------------------


def shard_for(key):
    h = int.from_bytes(hashlib.md5(key.encode()).digest(), "big")
    return next(i for i, (lo, hi) in enumerate(ranges) if lo <= h <= hi)


r = K.put_record(StreamName="s1", Data=b"hello", PartitionKey="alpha")
check("PutRecord routes by MD5", r["ShardId"] == f"shardId-{shard_for('alpha'):012d}",
      r["ShardId"])
check("sequence numbers are decimal strings", r["SequenceNumber"].isdigit())
r2 = K.put_record(StreamName="s1", Data=b"x", PartitionKey="anything",
                  ExplicitHashKey=str(2**128 - 1))
check("ExplicitHashKey is honoured", r2["ShardId"] == "shardId-000000000003")
expect_error("ExplicitHashKey over 2^128-1", "InvalidArgumentException",
             K.put_record, StreamName="s1", Data=b"x", PartitionKey="k",
             ExplicitHashKey=str(2**128))

records = [{"Data": f"rec-{i}".encode(), "PartitionKey": f"key-{i % 37}"} for i in range(500)]
out = K.put_records(StreamName="s1", Records=records)
check("PutRecords 500", out["FailedRecordCount"] == 0 and len(out["Records"]) == 500)
check("PutRecords routes each record",
      all(o["ShardId"] == f"shardId-{shard_for(rec['PartitionKey']):012d}"
          for o, rec in zip(out["Records"], records)))
by_shard = {}
for o, rec in zip(out["Records"], records):
    by_shard.setdefault(o["ShardId"], []).append((int(o["SequenceNumber"]), rec["Data"]))
check("sequence numbers increase within a shard in request order",
      all(all(a[0] < b[0] for a, b in zip(v, v[1:])) for v in by_shard.values()))

# Read every shard back from TRIM_HORIZON: all 502 records, in order.
seen = 0
for sid, expected in by_shard.items():
    it = K.get_shard_iterator(StreamName="s1", ShardId=sid,
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    got = []
    while True:
        g = K.get_records(ShardIterator=it, Limit=50)
        got += [(int(x["SequenceNumber"]), x["Data"], x["PartitionKey"]) for x in g["Records"]]
        it = g["NextShardIterator"]
        if not g["Records"]:
            break
    mine = [(s, d) for s, d, _ in got if d.startswith(b"rec-")]
    check(f"GetRecords {sid} returns its records in order", mine == expected)
    check(f"GetRecords {sid} sequence numbers increase",
          all(a[0] < b[0] for a, b in zip(got, got[1:])))
    check(f"MillisBehindLatest {sid} caught up", g["MillisBehindLatest"] == 0)
    seen += len(got)
check("every record read back", seen == 502, str(seen))

sid, expected = next(iter(by_shard.items()))
at = K.get_shard_iterator(StreamName="s1", ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER",
                          StartingSequenceNumber=str(expected[3][0]))["ShardIterator"]
g = K.get_records(ShardIterator=at, Limit=1)
check("AT_SEQUENCE_NUMBER", g["Records"][0]["Data"] == expected[3][1])
after = K.get_shard_iterator(StreamName="s1", ShardId=sid,
                             ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                             StartingSequenceNumber=str(expected[3][0]))["ShardIterator"]
g = K.get_records(ShardIterator=after, Limit=1)
check("AFTER_SEQUENCE_NUMBER", g["Records"][0]["Data"] == expected[4][1])
other = next(s for s in by_shard if s != sid)
expect_error("a sequence number of another shard", "InvalidArgumentException",
             K.get_shard_iterator, StreamName="s1", ShardId=other,
             ShardIteratorType="AT_SEQUENCE_NUMBER", StartingSequenceNumber=str(expected[0][0]))
latest = K.get_shard_iterator(StreamName="s2", ShardId="shardId-000000000000",
                              ShardIteratorType="LATEST")["ShardIterator"]
check("LATEST sees nothing old", K.get_records(ShardIterator=latest)["Records"] == [])
time.sleep(0.02)
t_mid = time.time()
time.sleep(0.02)
K.put_record(StreamName="s2", Data=b"after-latest", PartitionKey="p")
g = K.get_records(ShardIterator=latest)
check("LATEST sees what comes after", [x["Data"] for x in g["Records"]] == [b"after-latest"])
ts = K.get_shard_iterator(StreamName="s2", ShardId="shardId-000000000000",
                          ShardIteratorType="AT_TIMESTAMP", Timestamp=t_mid)["ShardIterator"]
g = K.get_records(ShardIterator=ts)
check("AT_TIMESTAMP", [x["Data"] for x in g["Records"]] == [b"after-latest"],
      str([x["Data"] for x in g["Records"]]))
check("ApproximateArrivalTimestamp", abs(g["Records"][0]["ApproximateArrivalTimestamp"]
                                         .timestamp() - time.time()) < 60)
K.put_records(StreamName="s2", Records=[{"Data": b"y", "PartitionKey": "p"}] * 30)
it = K.get_shard_iterator(StreamName="s2", ShardId="shardId-000000000000",
                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
g = K.get_records(ShardIterator=it, Limit=2)
check("GetRecords Limit and MillisBehindLatest",
      len(g["Records"]) == 2 and g["MillisBehindLatest"] >= 0)
expect_error("GetRecords Limit over 10000", "InvalidArgumentException",
             K.get_records, ShardIterator=it, Limit=10001)
expect_error("a garbled iterator", "InvalidArgumentException",
             K.get_records, ShardIterator=it[:-6] + ("AAAAAA" if it[-6:] != "AAAAAA" else "BBBBBB"))
raw_error("an iterator for another stream", "Kinesis_20131202.GetRecords",
          json.dumps({"ShardIterator": it,
                      "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s1"}),
          "InvalidArgumentException")
expect_error("GetShardIterator of an unknown shard", "ResourceNotFoundException",
             K.get_shard_iterator, StreamName="s1", ShardId="shardId-000000000009",
             ShardIteratorType="LATEST")

# ---- bad input -----------------------------------------------------------------

raw_error("a body that is not JSON", "Kinesis_20131202.PutRecords", b"{not json",
          "SerializationException")
raw_error("a body that is not JSON (control op)", "Kinesis_20131202.ListStreams", b"[1,",
          "SerializationException")
raw_error("no X-Amz-Target", None, b"{}", "UnknownOperationException")
raw_error("an unknown X-Amz-Target", "Kinesis_20131202.Frobnicate", b"{}",
          "UnknownOperationException")
raw_error("Data that is not base64", "Kinesis_20131202.PutRecord",
          json.dumps({"StreamName": "s1", "Data": "!!notbase64", "PartitionKey": "a"}).encode(),
          "SerializationException")
expect_error("a record over 1 MiB", "ValidationException",
             K.put_record, StreamName="s1", Data=b"x" * (1024 * 1024 + 1), PartitionKey="a")
expect_error("more than 500 records", "ValidationException",
             K.put_records, StreamName="s1",
             Records=[{"Data": b"x", "PartitionKey": "a"}] * 501)
expect_error("more than 5 MiB in one PutRecords", "InvalidArgumentException",
             K.put_records, StreamName="s1",
             Records=[{"Data": b"x" * (1000 * 1000), "PartitionKey": "a"}] * 6)
expect_error("an unknown stream", "ResourceNotFoundException",
             K.put_record, StreamName="nope", Data=b"x", PartitionKey="a")
expect_error("a stream name that is not allowed", "ValidationException",
             K.put_record, StreamName="no/slashes", Data=b"x", PartitionKey="a")
expect_error("a partition key over 256 characters", "ValidationException",
             K.put_record, StreamName="s1", Data=b"x", PartitionKey="k" * 257)
status, headers, _ = raw("Kinesis_20131202.ListStreams", b"{}")
check("x-amzn-RequestId on every answer",
      status == 200 and any(k.lower() == "x-amzn-requestid" for k in headers))

# A body announced larger than the server takes is refused from its headers.
s = socket.create_connection((HOST.hostname, HOST.port), timeout=60)
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\n"
          b"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 1073741824\r\n\r\n")
# The whole answer: the server closes after a refusal, and one recv() may
# return only part of it.
answer = b""
while chunk := s.recv(65536):
    answer += chunk
s.close()
check("an oversized body is refused before it is read",
      answer.startswith(b"HTTP/1.1 400") and b"InvalidArgumentException" in answer,
      answer[:200])

# A slow client is dropped while others are served.  "While" is checked as
# an order of events, not against a clock: the other request is answered
# while the stalled connection is still open.  (A server that served one
# connection at a time would answer it only once it had dropped the
# stalled one.)
slow = socket.create_connection((HOST.hostname, HOST.port), timeout=30)
slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Str")
t0 = time.time()
K.list_streams()
slow.setblocking(False)
try:
    slow.recv(100)              # end of file or an answer: no longer stalled
    still_open = False
except BlockingIOError:         # nothing to read: open, waiting for the rest
    still_open = True
except ConnectionResetError:
    still_open = False
check("others are served while a client stalls", still_open)
# Then it is dropped (server.timeout): answered 408 (part of the request
# came) and closed; SLOW_WAIT bounds the wait.
slow.settimeout(float(os.environ.get("SLOW_WAIT", "60")))
answer = b""
try:
    while chunk := slow.recv(4096):
        answer += chunk
    gone = answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
except (ConnectionResetError, socket.timeout):
    gone = False
check("a client that never finishes is timed out", gone, f"(waited {time.time() - t0:.1f}s)")
print(f"  the stalled client was dropped {time.time() - t0:.1f}s after it stalled")
slow.close()

# ---- CBOR ------------------------------------------------------------------------

CB = "application/x-amz-cbor-1.1"
status, headers, data = raw("Kinesis_20131202.PutRecord",
                            cbor2.dumps({"StreamName": "s2", "Data": b"\x00\xffbinary",
                                         "PartitionKey": "c"}), content_type=CB)
resp = cbor2.loads(data)
check("CBOR PutRecord", status == 200 and resp["ShardId"] == "shardId-000000000000" and
      headers.get("Content-Type", "").startswith(CB), str(resp))
status, _, data = raw("Kinesis_20131202.PutRecords",
                      cbor2.dumps({"StreamName": "s2", "Records": [
                          {"Data": bytes([i]) * 3, "PartitionKey": "c"} for i in range(5)]}),
                      content_type=CB)
resp = cbor2.loads(data)
check("CBOR PutRecords", status == 200 and resp["FailedRecordCount"] == 0 and
      len(resp["Records"]) == 5)
status, _, data = raw("Kinesis_20131202.GetShardIterator",
                      cbor2.dumps({"StreamName": "s2", "ShardId": "shardId-000000000000",
                                   "ShardIteratorType": "AT_SEQUENCE_NUMBER",
                                   "StartingSequenceNumber": cbor2.loads(
                                       raw("Kinesis_20131202.PutRecord",
                                           cbor2.dumps({"StreamName": "s2", "Data": b"marker",
                                                        "PartitionKey": "c"}),
                                           content_type=CB)[2])["SequenceNumber"]}),
                      content_type=CB)
it = cbor2.loads(data)["ShardIterator"]
status, _, data = raw("Kinesis_20131202.GetRecords", cbor2.dumps({"ShardIterator": it}),
                      content_type=CB)
resp = cbor2.loads(data)
rec = resp["Records"][0]
check("CBOR GetRecords: blobs are bytes", rec["Data"] == b"marker")
ts = rec["ApproximateArrivalTimestamp"]
ts_ms = ts.timestamp() * 1000 if hasattr(ts, "timestamp") else ts
check("CBOR GetRecords: timestamps are epoch milliseconds", abs(ts_ms - time.time() * 1000) < 60000,
      repr(ts))
status, _, data = raw("Kinesis_20131202.DescribeStream", cbor2.dumps({"StreamName": "nope"}),
                      content_type=CB)
check("CBOR errors are CBOR", status == 400 and
      cbor2.loads(data)["__type"] == "ResourceNotFoundException")
status, _, data = raw("Kinesis_20131202.PutRecord", b"\xbf\x61", content_type=CB)
check("truncated CBOR", status == 400 and cbor2.loads(data)["__type"] == "SerializationException")

# ---- delete ----------------------------------------------------------------------

old_it = K.get_shard_iterator(StreamName="od", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
K.delete_stream(StreamName="od")
K.get_waiter("stream_not_exists").wait(StreamName="od", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
check("DeleteStream", "od" not in K.list_streams()["StreamNames"])
expect_error("DeleteStream of an unknown stream", "ResourceNotFoundException",
             K.delete_stream, StreamName="od")
time.sleep(0.01)
K.create_stream(StreamName="od", ShardCount=1)
expect_error("an iterator of a deleted and recreated stream", "ResourceNotFoundException",
             K.get_records, ShardIterator=old_it)
print("all checks passed")
