#!/bin/sh
# Signed requests and permissions (issue 8): keys made with `sluice keys`,
# every API request verified as AWS Signature Version 4 by the signers of the
# AWS CLI v2 and boto3 (and over CBOR, as the Java SDKs sign), policies per
# action and resource, the audit log, /metrics, keys changed while the server
# runs, safe defaults without keys, and no secret in any log or message.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
sed -e 's/^stream:/stream:\n  kind: firehose/' -e '/shards:/d' -e '/on_arrival/d' \
    "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/logs.yaml
sed -e '/on_arrival/d' -e 's/shards: 2/shards: 1/' "$SLUICE_SRC/tests/lib/clicks.yaml" \
    > sources/clicks.yaml
sed -e '/^stream:/,/buffer_interval/d' -e '/on_arrival/d' \
    "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/direct.yaml

say "keys: one for everything, a producer, a reader, one with an explicit deny"
sluice keys add admin > "$T/admin.json" 2> "$T/admin.err"
grep -qi "every action" "$T/admin.err" || fail "no warning for a key without a policy"
cat > "$T/producer.json" <<'JSON'
{
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Action": "kinesis:PutRecord*",
        "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/cl*"
    }]
}
JSON
cat > "$T/reader.json" <<'JSON'
{"Statement": {"Effect": "Allow",
               "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:ListShards"],
               "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"}}
JSON
cat > "$T/careful.json" <<'JSON'
{"Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "Action": "kinesis:DeleteStream",
     "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"}]}
JSON
for k in producer reader careful; do
    sluice keys add $k --policy "$T/$k.json" > "$T/$k.key.json"
done
"$PY" - "$T" > "$T/keys.json" <<'PY'
import json, sys
t = sys.argv[1]
keys = {}
for name in ("admin", "producer", "reader", "careful"):
    k = json.load(open(f"{t}/{name}.json" if name == "admin" else f"{t}/{name}.key.json"))["AccessKey"]
    assert k["UserName"] == name and k["Status"] == "Active", k
    keys[name] = {"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}
print(json.dumps(keys))
PY
key() { "$PY" -c "import json,sys; print(json.load(open('$T/keys.json'))['$1']['$2'])"; }

start_server
grep -q "must be signed" "$T/server.log" || fail "start-up does not say requests must be signed"

say "boto3 and the signers: every API, each wrong signature, every action's policy"
py_check security_check.py "$T/keys.json" "$SLUICE" "$PWD" || fail "security checks failed"

say "the AWS CLI v2 signs with the right key, and is refused with a wrong one"
AWS_ACCESS_KEY_ID=$(key admin id) AWS_SECRET_ACCESS_KEY=$(key admin secret) \
    awsk kinesis list-streams --query 'StreamNames' --output text | grep -qw clicks \
    || fail "aws kinesis list-streams with the admin key"
AWS_ACCESS_KEY_ID=$(key admin id) AWS_SECRET_ACCESS_KEY=$(key admin secret) \
    awsk firehose list-delivery-streams --output text | grep -qw logs \
    || fail "aws firehose list-delivery-streams with the admin key"
if AWS_ACCESS_KEY_ID=$(key admin id) AWS_SECRET_ACCESS_KEY=wrongwrongwrong \
        awsk kinesis list-streams 2> "$T/cli.err"; then
    fail "the CLI with a wrong secret was served"
fi
grep -q InvalidSignatureException "$T/cli.err" || fail "wrong secret: $(cat "$T/cli.err")"
if AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE awsk kinesis list-streams 2> "$T/cli2.err"; then
    fail "the CLI with an unknown key was served"
fi
grep -q UnrecognizedClientException "$T/cli2.err" || fail "unknown key: $(cat "$T/cli2.err")"

say "the credentials file is an AWS credentials file: the CLI reads its profiles"
data=$(printf '{"event_id":"k1","user_id":"u","ts":"2026-11-21T10:00:00Z"}' | base64 -w0)
profile() { # NAME ARGS...: the AWS CLI with a profile of the credentials file
    (
        unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
        export AWS_SHARED_CREDENTIALS_FILE="$PWD/.sluice/credentials"
        p=$1
        shift
        awsk --profile "$p" "$@"
    )
}
profile producer kinesis put-record --stream-name clicks --partition-key p --data "$data" \
    > /dev/null || fail "aws --profile producer put-record"
if profile producer kinesis delete-stream --stream-name clicks 2> "$T/cli3.err"; then
    fail "the producer deleted a stream"
fi
grep -q AccessDeniedException "$T/cli3.err" || fail "producer delete: $(cat "$T/cli3.err")"

say "denials are in the audit log, with key, action, resource, source and time"
"$PY" - "$PWD/.sluice/audit.log" "$(key producer id)" <<'PY' || fail "audit log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mine = [l for l in lines if l["event"] == "denied" and l["key"] == sys.argv[2]
        and l["action"] == "kinesis:DeleteStream"]
assert mine, lines[-5:]
l = mine[-1]
assert l["resource"] == "arn:aws:kinesis:us-east-1:000000000000:stream/clicks", l
assert l["source"] == "127.0.0.1" and l["time"].startswith("20"), l
assert any(l["event"] == "unauthenticated" for l in lines), "no unauthenticated lines"
print("ok", len(lines), "audit lines")
PY

say "/metrics counts refusals (served unsigned on loopback)"
"$PY" - "$URL" <<'PY' || fail "metrics"
import sys, urllib.request
m = urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=10).read().decode()
def val(name):
    for line in m.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise SystemExit(f"{name} missing")
assert val('sluice_access_denied_total{action="kinesis:DeleteStream"}') >= 1
assert val('sluice_auth_failures_total{reason="bad_signature"}') >= 1
assert val('sluice_auth_failures_total{reason="unknown_key"}') >= 1
assert val('sluice_auth_failures_total{reason="missing"}') >= 1
assert val('sluice_auth_failures_total{reason="expired"}') >= 1
print("ok metrics")
PY

say "/metrics off loopback: only signed, by a key allowed sluice:GetMetrics"
ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -v ':' | grep -v '^127\.' | head -n 1)
if [ -n "$ip" ]; then
    stop_server
    start_server --listen 0.0.0.0:0
    "$PY" - "http://$ip:${URL##*:}" "$T/keys.json" <<'PY' || fail "metrics off loopback"
import json, sys, urllib.request, urllib.error
import botocore.auth, botocore.credentials
from botocore.awsrequest import AWSRequest
url, keys = sys.argv[1], json.load(open(sys.argv[2]))
def get(key=None):
    req = AWSRequest(method="GET", url=url + "/metrics")
    if key:
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(key["id"], key["secret"]),
                                "sluice", "us-east-1").add_auth(req)
    try:
        r = urllib.request.urlopen(urllib.request.Request(url + "/metrics",
                                   headers=dict(req.headers.items())), timeout=10)
        return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()).get("__type")
assert get() == (400, "MissingAuthenticationTokenException"), get()
st, body = get(keys["admin"])
assert st == 200 and "sluice_requests_total" in body, st
assert get(keys["producer"]) == (400, "AccessDeniedException"), get(keys["producer"])
print("ok /metrics from", url)
PY
else
    say "(no non-loopback IPv4 address here: /metrics off loopback not tried)"
fi

say "a key removed while the server runs stops working"
sluice keys remove reader
reader_gone() {
    AWS_ACCESS_KEY_ID=$(key reader id) AWS_SECRET_ACCESS_KEY=$(key reader secret) \
        awsk kinesis describe-stream-summary --stream-name clicks 2>&1 |
        grep -q UnrecognizedClientException
}
wait_for 30 reader_gone || fail "a removed key still works"

say "a broken policy while running: the previous keys stay, and the log says why"
printf '{"Statement": {"Effect": "Allow", "Action": "kinesis:Nope", "Resource": "*"}}\n' \
    > .sluice/policies/careful.json
wait_for 30 grep -q "keys not reloaded" "$T/server.log" || fail "no complaint about the policy"
AWS_ACCESS_KEY_ID=$(key admin id) AWS_SECRET_ACCESS_KEY=$(key admin secret) \
    awsk kinesis list-streams > /dev/null || fail "keys lost after a bad reload"
stop_server

say "the server does not start with a bad policy, naming file and line"
if "$SLUICE" serve --listen 127.0.0.1:0 > "$T/bad.log" 2>&1; then
    fail "served with a bad policy"
fi
grep -q "careful.json:1" "$T/bad.log" || fail "bad policy: $(cat "$T/bad.log")"
grep -q "kinesis:Nope" "$T/bad.log" || fail "bad policy: $(cat "$T/bad.log")"
cp "$T/careful.json" .sluice/policies/careful.json

say "nor with a credentials file others may read"
chmod 640 .sluice/credentials
if "$SLUICE" serve --listen 127.0.0.1:0 > "$T/mode.log" 2>&1; then
    fail "served with a group-readable credentials file"
fi
grep -q "credentials" "$T/mode.log" && grep -q "chmod 600" "$T/mode.log" \
    || fail "mode: $(cat "$T/mode.log")"
chmod 600 .sluice/credentials

say "no secret in any log, message, metric or setting"
"$PY" - "$T" "$PWD" <<'PY' || fail "a secret leaked"
import glob, json, os, sys
t, project = sys.argv[1:3]
keys = json.load(open(t + "/keys.json"))
keys.update(json.load(open(t + "/keys.json.more")))
secrets = [k["secret"] for k in keys.values()]
places = [t + "/server.log", t + "/bad.log", t + "/mode.log", t + "/cli.err", t + "/cli2.err",
          t + "/cli3.err", project + "/sluice.yaml", project + "/.sluice/audit.log"]
places += glob.glob(project + "/.sluice/policies/*")
for p in places:
    text = open(p, errors="replace").read()
    for s in secrets:
        assert s not in text, f"a secret is in {p}"
creds = open(project + "/.sluice/credentials").read()
assert keys["admin"]["secret"] in creds
print("ok no secret in", len(places), "files")
PY

say "without keys: loopback only, unless --insecure (said at every start)"
sluice init "$T/open" > /dev/null
cd "$T/open"
if "$SLUICE" serve --listen 0.0.0.0:0 > "$T/open.log" 2>&1; then
    fail "listened on every address without credentials"
fi
grep -q "without credentials" "$T/open.log" && grep -q -- "--insecure" "$T/open.log" \
    || fail "refusal: $(cat "$T/open.log")"
start_server --listen 0.0.0.0:0 --insecure
grep -q -- "--insecure" "$T/server.log" || fail "--insecure not logged"
stop_server
start_server
grep -q "loopback" "$T/server.log" || fail "start-up does not say loopback only"
awsk kinesis list-streams > /dev/null || fail "unsigned requests on loopback without keys"
stop_server

say "a key from the environment"
export SLUICE_ACCESS_KEY_ID=AKIAENVKEY2345672345
export SLUICE_SECRET_ACCESS_KEY=envsecretenvsecretenvsecret
start_server
unset SLUICE_ACCESS_KEY_ID SLUICE_SECRET_ACCESS_KEY
if awsk kinesis list-streams 2> "$T/env.err"; then
    fail "a key in the environment did not require signatures"
fi
AWS_ACCESS_KEY_ID=AKIAENVKEY2345672345 AWS_SECRET_ACCESS_KEY=envsecretenvsecretenvsecret \
    awsk kinesis list-streams > /dev/null || fail "the environment's key was refused"
stop_server
grep -q envsecretenvsecret "$T/server.log" "$T/env.err" && fail "the environment's secret leaked"
exit 0
