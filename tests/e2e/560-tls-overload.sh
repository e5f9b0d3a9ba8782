#!/bin/sh
# HTTPS with a configured certificate (Fluent Bit connects only over TLS),
# and push-back under more request bodies than the server holds at once.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj /CN=localhost -days 1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
cat >> sluice.yaml <<YAML
server:
  tls_cert: $T/cert.pem
  tls_key: $T/key.pem
  max_inflight: 2MiB
YAML
start_server
case $URL in https://*) ;; *) fail "not serving HTTPS: $URL" ;; esac

say "boto3 over HTTPS"
"$PY" - "$URL" <<'PY'
import sys, warnings
import boto3, botocore.config
warnings.filterwarnings("ignore")
k = boto3.client("kinesis", endpoint_url=sys.argv[1], verify=False)
k.create_stream(StreamName="tls", ShardCount=1)
out = k.put_records(StreamName="tls", Records=[{"Data": b"secure", "PartitionKey": "p"}])
assert out["FailedRecordCount"] == 0
it = k.get_shard_iterator(StreamName="tls", ShardId="shardId-000000000000",
                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
assert k.get_records(ShardIterator=it)["Records"][0]["Data"] == b"secure"
print("ok put and get over TLS")
PY
say "plain HTTP to the TLS port is refused"
if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('http://$ADDR/health', timeout=5)" 2>/dev/null; then
    fail "plain HTTP was served on the TLS port"
fi

say "more bodies than max_inflight: throttled, never queued without bound"
"$PY" - "$URL" <<'PY'
import sys, threading, warnings, base64, json, ssl, http.client, urllib.parse
warnings.filterwarnings("ignore")
u = urllib.parse.urlparse(sys.argv[1])
ctx = ssl._create_unverified_context()
body = json.dumps({"StreamName": "tls", "Records": [
    {"Data": base64.b64encode(b"x" * 4000).decode(), "PartitionKey": "p"}] * 200}).encode()
results = []
def one():
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    c.request("POST", "/", body=body, headers={
        "X-Amz-Target": "Kinesis_20131202.PutRecords",
        "Content-Type": "application/x-amz-json-1.1"})
    r = c.getresponse()
    data = r.read()
    results.append((r.status, json.loads(data).get("__type", "ok") if data else "empty"))
    c.close()
threads = [threading.Thread(target=one) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
kinds = sorted(set(results))
print("answers:", kinds)
assert all(s == 200 or (s == 400 and t == "ProvisionedThroughputExceededException")
           for s, t in results), results
assert any(t == "ProvisionedThroughputExceededException" for _, t in results), \
    "16 bodies of 1 MB against 2 MiB in flight: expected push-back"
print("ok the server pushed back")
PY
"$PY" - "$URL" <<'PY'
import sys, ssl, urllib.request
m = urllib.request.urlopen(sys.argv[1] + "/metrics",
                           context=ssl._create_unverified_context()).read().decode()
line = [l for l in m.splitlines() if l.startswith('sluice_requests_refused_total{reason="overloaded"}')]
assert line and int(line[0].split()[-1]) > 0, line
print("ok refused requests counted:", line[0])
PY
stop_server
