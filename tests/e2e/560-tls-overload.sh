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
import sys, threading, time, warnings, base64, json, ssl, http.client, urllib.parse
warnings.filterwarnings("ignore")
u = urllib.parse.urlparse(sys.argv[1])
ctx = ssl._create_unverified_context()
body = json.dumps({"StreamName": "tls", "Records": [
    {"Data": base64.b64encode(b"x" * 4000).decode(), "PartitionKey": "p"}] * 200}).encode()
headers = {"X-Amz-Target": "Kinesis_20131202.PutRecords",
           "Content-Type": "application/x-amz-json-1.1"}
PTEE = "ProvisionedThroughputExceededException"
def answer(c):
    r = c.getresponse()
    data = r.read()
    return r.status, json.loads(data).get("__type", "ok") if data else "empty"
CUT = "closed during the body, answer unreadable"
def one(results):
    c = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
    cut = False
    try:
        c.request("POST", "/", body=body, headers=headers)
    except (ssl.SSLError, OSError) as e:
        # A body refused from its headers is not read: the server answers,
        # then drops what the client still sends for up to 2 s before it
        # closes, so the answer is normally read whole; a client slower
        # than that may see the close while sending.  The answer came
        # first; read it.
        print("closed while sending the body:", type(e).__name__)
        cut = True
    try:
        results.append(answer(c))
    except Exception:
        if not cut:
            raise
        results.append((400, CUT))   # a refusal whose answer was lost
    c.close()
def at_once(n):
    results = []
    threads = [threading.Thread(target=one, args=(results,)) for _ in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert len(results) == n, f"{n - len(results)} requests got no answer"
    return results
def all_ok_or_pushed_back(results):
    assert all(s == 200 or (s == 400 and t in (PTEE, CUT)) for s, t in results), results
    print("answers:", sorted(set(results)))

# One body of about 1 MB is held in flight on purpose: its headers and half
# of it are sent, the rest waits.  Whether others overlap it then does not
# depend on how fast this machine runs threads: as soon as the server has
# its headers, every other body of 1 MB would take the bodies held past
# 2 MiB and must be refused.  The server reads the headers on its own time,
# so a first probe may still be accepted: probe until one is refused (60 s
# at most).
held = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=60)
held.putrequest("POST", "/")
for name, value in headers.items():
    held.putheader(name, value)
held.putheader("Content-Length", str(len(body)))
held.endheaders()
held.send(body[:len(body) // 2])
t0 = time.time()
probes = []
while not any(t in (PTEE, CUT) for _, t in probes) and time.time() - t0 < 60:
    one(probes)
    all_ok_or_pushed_back(probes)
assert any(t in (PTEE, CUT) for _, t in probes), "a body past max_inflight was not refused"
results = at_once(16)
all_ok_or_pushed_back(results)
assert all(t in (PTEE, CUT) for _, t in results), \
    "16 bodies of 1 MB while 1 MB is held, against 2 MiB in flight: expected push-back"
held.send(body[len(body) // 2:])
assert answer(held) == (200, "ok"), "the held body"
held.close()
print("ok the server pushed back")

# 16 at once without a held body: each accepted or pushed back, nothing
# else (how many of each depends on timing).
all_ok_or_pushed_back(at_once(16))
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
