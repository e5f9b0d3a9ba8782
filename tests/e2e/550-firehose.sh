#!/bin/sh
# Firehose: delivery streams declared by a source or created through the API,
# PutRecord and PutRecordBatch with the AWS CLI and boto3, records in raw.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
sed -e 's/^stream:/stream:\n  kind: firehose/' -e '/shards:/d' -e '/on_arrival/d' \
    "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/logs.yaml
sed -e '/^stream:/,/buffer_interval/d' -e '/on_arrival/d' \
    "$SLUICE_SRC/tests/lib/clicks.yaml" > sources/direct.yaml
start_server

say "declared delivery stream"
awsk firehose list-delivery-streams --query DeliveryStreamNames --output text | grep -qw logs \
    || fail "logs not listed"
awsk firehose describe-delivery-stream --delivery-stream-name logs \
    --query DeliveryStreamDescription.DeliveryStreamStatus --output text | grep -qx ACTIVE \
    || fail "describe"
rec=$(printf '{"event_id":"f1","user_id":"u","ts":"2026-11-21T10:00:00Z"}\n' | base64 -w0)
awsk firehose put-record --delivery-stream-name logs --record "{\"Data\":\"$rec\"}" \
    --query RecordId --output text | grep -q . || fail "put-record"
py_check put_events.py logs 0 120 --firehose --batch 40

say "API-created delivery stream, bound by its S3 prefix"
awsk firehose create-delivery-stream --delivery-stream-name api-made \
    --extended-s3-destination-configuration \
    'RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::lake,Prefix=raw/direct/,BufferingHints={SizeInMBs=1,IntervalInSeconds=60}' \
    >/dev/null
py_check put_events.py api-made 500 30 --firehose
if awsk firehose put-record --delivery-stream-name nope --record "{\"Data\":\"$rec\"}" 2>"$T/err"; then
    fail "put to an unknown delivery stream"
fi
grep -q ResourceNotFoundException "$T/err" || fail "$(cat "$T/err")"
if awsk firehose create-delivery-stream --delivery-stream-name orphan 2>"$T/err"; then
    fail "a delivery stream bound to nothing"
fi
grep -q InvalidArgumentException "$T/err" || fail "$(cat "$T/err")"
count() {
    for k in $(sluice raw ls --source "$1" --format jsonl |
               "$PY" -c 'import sys,json; [print(json.loads(l)["key"]) for l in sys.stdin]'); do
        cat "lake/$k"
    done | grep -c event_id || true
}
# logs delivers by its 1 s interval while the server runs (api-made's 60 s
# wait for the stop): wait for that, not for a fixed time.
logs_delivered() { [ "$(count logs)" -ge 121 ]; }
wait_for 60 logs_delivered || fail "logs not delivered by its interval: $(count logs) records in raw"
stop_server
expect_eq "logs records in raw" "$(count logs)" 121
expect_eq "direct records in raw" "$(count direct)" 30
