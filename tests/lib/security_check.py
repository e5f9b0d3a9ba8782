"""Signed requests and permissions against a running `sluice serve`.

Run by tests/e2e/596-signed-requests.sh with Debian's python (boto3, cbor2):

    SLUICE_URL=URL security_check.py KEYS.json SLUICE PROJECT

KEYS.json holds the keys the shell made with `sluice keys add` (name ->
{"id", "secret"}).  This script adds more keys itself (one pair per action),
so it needs the sluice binary and the project folder.  Every request is
signed by botocore, the signer the AWS CLI and boto3 use; the CBOR request
is signed the same way, over the CBOR body, as the Java SDKs sign it.
"""
import datetime
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3
import botocore.auth
import botocore.config
import botocore.credentials
import botocore.exceptions
from botocore.awsrequest import AWSRequest
import cbor2

URL = os.environ["SLUICE_URL"]
KEYS_FILE, SLUICE, PROJECT = sys.argv[1:4]
KEYS = json.load(open(KEYS_FILE))
U = urllib.parse.urlparse(URL)
REGION = "us-east-1"
ACCOUNT = "000000000000"
CFG = botocore.config.Config(retries={"max_attempts": 1}, read_timeout=30)
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def client(service, key):
    return boto3.client(service, endpoint_url=URL, region_name=REGION, config=CFG,
                        aws_access_key_id=key["id"], aws_secret_access_key=key["secret"])


def error_of(fn, **kw):
    """(code, message) of the call's error, or (None, None) if it worked."""
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")
    return None, None


def raw(method, path, body, headers):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=30)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        doc = json.loads(data) if data else {}
    except ValueError:
        doc = {"raw": data.decode(errors="replace")}
    return r.status, doc


def signed(key, service, target, body, content_type="application/x-amz-json-1.1",
           region=REGION, method="POST", path="/", tamper=None, extra=None):
    """A request signed by botocore's SigV4 signer; tamper(headers, body) may
    change it after signing."""
    headers = {"Content-Type": content_type, "X-Amz-Target": target} if target else {}
    headers.update(extra or {})
    req = AWSRequest(method=method, url=URL + path, data=body, headers=headers)
    creds = botocore.credentials.Credentials(key["id"], key["secret"])
    botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    h = dict(req.headers.items())
    if tamper:
        body = tamper(h, body)
    return raw(method, path, body, h)


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")
    else:
        print("ok", what)


admin = KEYS["admin"]
ka = client("kinesis", admin)
fa = client("firehose", admin)

# ---- every API with the right key --------------------------------------------
ka.create_stream(StreamName="other", ShardCount=1)
ka.get_waiter("stream_exists").wait(StreamName="other", WaiterConfig={"Delay": 0.2})
out = ka.put_records(StreamName="clicks", Records=[{"Data": b"a", "PartitionKey": "p"}])
expect("boto3 PutRecords signed", out["FailedRecordCount"], 0)
it = ka.get_shard_iterator(StreamName="clicks", ShardId="shardId-000000000000",
                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
expect("boto3 GetRecords signed", ka.get_records(ShardIterator=it)["Records"][0]["Data"], b"a")
expect("boto3 firehose PutRecord signed",
       bool(fa.put_record(DeliveryStreamName="logs", Record={"Data": b"{}\n"})["RecordId"]), True)

# ---- the CBOR path, signed over its CBOR body --------------------------------
# The Java SDK v2 signs every header it sends but the user agent: with
# amz-sdk-invocation-id, amz-sdk-request and Content-Length among them.
body = cbor2.dumps({"StreamName": "clicks", "Data": b"cbor", "PartitionKey": "p"})
st, doc = signed(admin, "kinesis", "Kinesis_20131202.PutRecord", body,
                 content_type="application/x-amz-cbor-1.1",
                 extra={"amz-sdk-invocation-id": "0f8fad5b-d9cb-469f-a165-70867728950e",
                        "amz-sdk-request": "attempt=1; max=4",
                        "Content-Length": str(len(body))})
expect("CBOR PutRecord signed status", st, 200)

# ---- presigned: the signature in the query string ----------------------------
class QueryAuthKeepingBody(botocore.auth.SigV4QueryAuth):
    """botocore's query-string signer, which for a query service moves the
    body's parameters into the query; an awsJson body stays the body, and is
    signed by its hash as the header signer signs it."""

    def _modify_request_before_signing(self, request):
        data, request.data = request.data, b""
        super()._modify_request_before_signing(request)
        request.data = data


def presigned(key, target, body, expires=60, tamper_body=None):
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    req = AWSRequest(method="POST", url=URL + "/", data=body, headers=headers)
    creds = botocore.credentials.Credentials(key["id"], key["secret"])
    QueryAuthKeepingBody(creds, "kinesis", REGION, expires=expires).add_auth(req)
    u = urllib.parse.urlparse(req.url)
    return raw("POST", u.path + "?" + u.query, tamper_body or body, dict(req.headers.items()))


desc = json.dumps({"StreamName": "clicks"}).encode()
st, doc = presigned(admin, "Kinesis_20131202.DescribeStreamSummary", desc)
expect("presigned DescribeStreamSummary", (st, doc.get("StreamDescriptionSummary", {})
                                           .get("StreamName")), (200, "clicks"))
st, doc = presigned(admin, "Kinesis_20131202.DescribeStreamSummary", desc,
                    tamper_body=json.dumps({"StreamName": "other"}).encode())
expect("presigned with another body", doc.get("__type"), "InvalidSignatureException")

# ---- each way a signature can be wrong ---------------------------------------
put = json.dumps({"StreamName": "clicks", "Data": "eA==", "PartitionKey": "p"}).encode()
T = "Kinesis_20131202.PutRecord"
st, doc = raw("POST", "/", put, {"X-Amz-Target": T,
                                 "Content-Type": "application/x-amz-json-1.1"})
expect("unsigned", (st, doc.get("__type")), (400, "MissingAuthenticationTokenException"))
st, doc = raw("POST", "/", put, {"X-Amz-Target": T, "Content-Type": "application/x-amz-json-1.1",
                                 "Authorization": "AWS4-HMAC-SHA256 Credential=" + admin["id"],
                                 "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())})
expect("malformed Authorization", doc.get("__type"), "IncompleteSignatureException")
expect("wrong secret", error_of(client("kinesis", {"id": admin["id"], "secret": "x" * 40})
                                .put_record, StreamName="clicks", Data=b"x",
                                PartitionKey="p")[0], "InvalidSignatureException")
expect("unknown key", error_of(client("kinesis", {"id": "AKIAUNKNOWNKEY234567", "secret": "x"})
                               .put_record, StreamName="clicks", Data=b"x",
                               PartitionKey="p")[0], "UnrecognizedClientException")
st, doc = signed(admin, "kinesis", T, put, region="eu-west-1")
expect("other region", doc.get("__type"), "InvalidSignatureException")
st, doc = signed(admin, "firehose", T, put)
expect("other service", doc.get("__type"), "InvalidSignatureException")
st, doc = signed(admin, "kinesis", T, put, tamper=lambda h, b: b.replace(b'"p"', b'"q"'))
expect("tampered body", doc.get("__type"), "InvalidSignatureException")
st, doc = signed(admin, "kinesis", T, put,
                 extra={"X-Amz-Content-Sha256": hashlib.sha256(b"other").hexdigest()})
expect("body hash differs from x-amz-content-sha256", (st >= 400, doc.get("__type") is not None),
       (True, True))


REAL_DATETIME = datetime.datetime


class Skewed(datetime.datetime):
    """datetime.datetime with a clock `offset` away (botocore's signers, the
    CRT one included, read the time through the datetime module)."""
    offset = datetime.timedelta(0)

    @classmethod
    def utcnow(cls):
        return REAL_DATETIME.now(datetime.timezone.utc).replace(tzinfo=None) + cls.offset

    @classmethod
    def now(cls, tz=None):
        return REAL_DATETIME.now(tz) + cls.offset


datetime.datetime = Skewed
for minutes, want in ((-20, "expired"), (20, "not yet current"), (-5, None)):
    Skewed.offset = datetime.timedelta(minutes=minutes)
    code, msg = error_of(ka.put_record, StreamName="clicks", Data=b"x", PartitionKey="p")
    if want is None:
        expect("clock 5 minutes off is within the window", code, None)
    else:
        expect(f"clock {minutes} minutes off", (code, want in msg.lower()),
               ("InvalidSignatureException", True))
datetime.datetime = REAL_DATETIME

# ---- permissions by resource ---------------------------------------------------
producer = client("kinesis", KEYS["producer"])
expect("producer puts to clicks",
       error_of(producer.put_record, StreamName="clicks", Data=b"p", PartitionKey="p")[0], None)
code, msg = error_of(producer.put_record, StreamName="other", Data=b"p", PartitionKey="p")
expect("producer may not put to other", code, "AccessDeniedException")
for part in ("kinesis:PutRecord", f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/other"):
    expect(f"denial names {part}", part in msg, True)
expect("producer may not read", error_of(producer.get_shard_iterator, StreamName="clicks",
                                         ShardId="shardId-000000000000",
                                         ShardIteratorType="LATEST")[0], "AccessDeniedException")
expect("producer may not list", error_of(producer.list_streams)[0], "AccessDeniedException")
reader = client("kinesis", KEYS["reader"])
expect("reader reads clicks", error_of(reader.get_records, ShardIterator=it)[0], None)
expect("reader may not put", error_of(reader.put_records, StreamName="clicks",
                                      Records=[{"Data": b"r", "PartitionKey": "p"}])[0],
       "AccessDeniedException")
code, msg = error_of(client("kinesis", KEYS["careful"]).delete_stream, StreamName="clicks")
expect("explicit deny beats allow-all", (code, "explicitly" in msg),
       ("AccessDeniedException", True))

# ---- every action: allowed alone, and explicitly denied ------------------------
shard0 = {"ShardId": "shardId-000000000000"}
fh_dest = {"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/r", "BucketARN": "arn:aws:s3:::lake",
           "Prefix": "raw/direct/"}


def fresh_stream(n=[0]):
    n[0] += 1
    name = f"tmp{n[0]}"
    ka.create_stream(StreamName=name, ShardCount=1)
    ka.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def fresh_delivery(n=[0]):
    n[0] += 1
    name = f"dtmp{n[0]}"
    fa.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=fh_dest)
    return name


ACTIONS = {
    "kinesis:PutRecords": ("kinesis", "put_records", lambda: dict(
        StreamName="clicks", Records=[{"Data": b"x", "PartitionKey": "p"}])),
    "kinesis:PutRecord": ("kinesis", "put_record", lambda: dict(
        StreamName="clicks", Data=b"x", PartitionKey="p")),
    "kinesis:GetRecords": ("kinesis", "get_records", lambda: dict(ShardIterator=it)),
    "kinesis:GetShardIterator": ("kinesis", "get_shard_iterator", lambda: dict(
        StreamName="clicks", ShardIteratorType="LATEST", **shard0)),
    "kinesis:CreateStream": ("kinesis", "create_stream", lambda: dict(
        StreamName=f"made{time.monotonic_ns()}", ShardCount=1)),
    "kinesis:DeleteStream": ("kinesis", "delete_stream", lambda: dict(StreamName=fresh_stream())),
    "kinesis:DescribeStream": ("kinesis", "describe_stream", lambda: dict(StreamName="clicks")),
    "kinesis:DescribeStreamSummary": ("kinesis", "describe_stream_summary",
                                      lambda: dict(StreamName="clicks")),
    "kinesis:ListStreams": ("kinesis", "list_streams", dict),
    "kinesis:ListShards": ("kinesis", "list_shards", lambda: dict(StreamName="clicks")),
    "kinesis:IncreaseStreamRetentionPeriod": ("kinesis", "increase_stream_retention_period",
                                              lambda: dict(StreamName="other",
                                                           RetentionPeriodHours=48)),
    "kinesis:DecreaseStreamRetentionPeriod": ("kinesis", "decrease_stream_retention_period",
                                              lambda: dict(StreamName="other",
                                                           RetentionPeriodHours=24)),
    "firehose:PutRecordBatch": ("firehose", "put_record_batch", lambda: dict(
        DeliveryStreamName="logs", Records=[{"Data": b"{}\n"}])),
    "firehose:PutRecord": ("firehose", "put_record", lambda: dict(
        DeliveryStreamName="logs", Record={"Data": b"{}\n"})),
    "firehose:CreateDeliveryStream": ("firehose", "create_delivery_stream", lambda: dict(
        DeliveryStreamName=f"dmade{time.monotonic_ns() % 10**9}",
        ExtendedS3DestinationConfiguration=fh_dest)),
    "firehose:DescribeDeliveryStream": ("firehose", "describe_delivery_stream",
                                        lambda: dict(DeliveryStreamName="logs")),
    "firehose:ListDeliveryStreams": ("firehose", "list_delivery_streams", dict),
    "firehose:DeleteDeliveryStream": ("firehose", "delete_delivery_stream",
                                      lambda: dict(DeliveryStreamName=fresh_delivery())),
}
policies = tempfile.mkdtemp()


def add_key(name, policy):
    path = os.path.join(policies, name + ".json")
    with open(path, "w") as f:
        json.dump(policy, f, indent=2)
    out = subprocess.run([SLUICE, "keys", "add", name, "--policy", path], cwd=PROJECT,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"keys add {name}: {out.stderr}")
    k = json.loads(out.stdout)["AccessKey"]
    return {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}


only, deny = {}, {}
for i, action in enumerate(ACTIONS):
    only[action] = add_key(f"only{i}", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": "*"}]})
    deny[action] = add_key(f"deny{i}", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": action.split(":")[0] + ":" + action.split(":")[1].lower(),
         "Resource": "*"}]})

# Keys added to a running server take effect without a restart: wait for
# the last one (the server looks at the file every second).
last = list(ACTIONS)[-1]
end = time.monotonic() + 30
while error_of(client("firehose", deny[last]).list_delivery_streams)[0] == \
        "UnrecognizedClientException":
    if time.monotonic() > end:
        raise SystemExit("keys added while the server runs were not picked up in 30 s")
    time.sleep(0.1)
print("ok keys added while running are picked up")

actions = list(ACTIONS)
for i, action in enumerate(actions):
    service, method, params = ACTIONS[action]
    code, msg = error_of(getattr(client(service, only[action]), method), **params())
    expect(f"{action} allowed by a policy naming only it", code != "AccessDeniedException", True)
    code, msg = error_of(getattr(client(service, deny[action]), method), **params())
    expect(f"{action} explicitly denied (action matched case-insensitively)",
           (code, action in msg), ("AccessDeniedException", True))
    other = actions[(i + 1) % len(actions)]
    service2, method2, params2 = ACTIONS[other]
    code, msg = error_of(getattr(client(service2, only[action]), method2), **params2())
    expect(f"{other} implicitly denied to a key allowed only {action}", code,
           "AccessDeniedException")

# Every key this script made, for the shell's grep for secrets in the logs.
with open(KEYS_FILE + ".more", "w") as f:
    json.dump({**{"only-" + a: k for a, k in only.items()},
               **{"deny-" + a: k for a, k in deny.items()}}, f)
print(json.dumps({"failures": len(failures)}))
sys.exit(1 if failures else 0)
