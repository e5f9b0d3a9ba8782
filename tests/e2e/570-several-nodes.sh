#!/bin/sh
# Several `sluice serve` nodes on one project, lake and catalog: a stream is
# served by the one node holding its lease; the others send its clients
# there; when its node dies (kill -9) or stalls past its lease (SIGSTOP),
# another takes it over and delivers, from the committed positions, every
# acknowledged record exactly once; a node that stops cleanly hands its
# streams over at once.  Every wait is for an event, with a generous
# deadline.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cp "$SLUICE_SRC/tests/lib/clicks.yaml" sources/clicks.yaml
cat >> sluice.yaml <<'EOF'
server:
  lease_ttl: 2
EOF
export SLUICE_LOG=info # the nodes say what they take over and let go
ACKED="$T/acked"
: > "$ACKED"

served() { [ "$(metric "$1" 'sluice_stream_served{stream="clicks",kind="kinesis"}')" = "$2" ]; }
rounds() { metric "$1" sluice_lease_rounds_total; }
curated() { q "SELECT count(DISTINCT event_id) FROM curated.clicks" 2>/dev/null; }
curated_is() { [ "$(curated)" = "$1" ]; }
put() { # put URL FIRST COUNT: events through the node at URL, all acknowledged
    URL=$1
    py_check put_events.py clicks "$2" "$3" --acked "$ACKED"
}
node_of() { curl -sf "$1/health" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["node"])'; }
# expect_redirect URL NODE_URL CMD...: CMD against the node at URL fails with
# ResourceInUseException naming the node at NODE_URL.
expect_redirect() {
    URL=$1
    there=$2
    shift 2
    expect_fail "ResourceInUseException" "$@" >/dev/null
    grep -qF "is served by node" "$T/err" && grep -qF "at $there;" "$T/err" ||
        { cat "$T/err"; fail "the error does not name the node at $there"; }
}

say "two nodes: a, started first, takes the declared stream; b knows it"
start_node a
wait_until 30 served "$a_url" 1 || { cat "$T/a.log"; fail "a does not serve clicks"; }
A_NODE=$(node_of "$a_url")
start_node b
wait_until 30 served "$b_url" 0 || fail "b should know clicks and not serve it"
URL=$b_url
awsk kinesis describe-stream --stream-name clicks >/dev/null || fail "DescribeStream on b"
expect_eq "ListShards on b" \
    "$(awsk kinesis list-shards --stream-name clicks --query 'length(Shards)')" 2
curl -sf "$b_url/health" | grep -q '"served":\[\]' || fail "b's /health serves nothing"
curl -sf "$a_url/health" | grep -q '"served":\["clicks"\]' || fail "a's /health serves clicks"

say "b sends puts and reads of clicks to a"
expect_redirect "$b_url" "$a_url" awsk kinesis put-record --stream-name clicks \
    --partition-key k --data aGVsbG8=
grep -qF "$A_NODE" "$T/err" || fail "the error does not name a's holder id"
expect_redirect "$b_url" "$a_url" awsk kinesis get-shard-iterator --stream-name clicks \
    --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON

say "a stream created through b is b's; a learns of it at its next round"
URL=$b_url
awsk kinesis create-stream --stream-name s2 --shard-count 1
URL=$a_url
wait_until 20 sh -c "AWS_MAX_ATTEMPTS=1 /usr/bin/aws --endpoint-url $a_url kinesis \
    describe-stream-summary --stream-name s2 >/dev/null 2>&1" || fail "s2 never appeared on a"
expect_redirect "$a_url" "$b_url" awsk kinesis put-record --stream-name s2 \
    --partition-key k --data aGVsbG8=
expect_redirect "$a_url" "$b_url" awsk kinesis delete-stream --stream-name s2
URL=$b_url
awsk kinesis delete-stream --stream-name s2
wait_until 20 sh -c "! AWS_MAX_ATTEMPTS=1 /usr/bin/aws --endpoint-url $a_url kinesis \
    describe-stream-summary --stream-name s2 >/dev/null 2>&1" || fail "s2 never left a"

say "puts through a are acknowledged, delivered and curated"
put "$a_url" 0 200
wait_until 60 curated_is 200 || fail "curated has $(curated) of 200"

say "kill -9 a right after more puts: b takes over and delivers them once"
put "$a_url" 200 300
kill_node a
t0=$(date +%s.%N)
wait_until 30 served "$b_url" 1 || { cat "$T/b.log"; fail "b did not take clicks over"; }
t1=$(date +%s.%N)
"$PY" -c "print('takeover after kill -9 took %.1f s (lease_ttl 2 s)' % ($t1 - $t0))"
grep -qF "took over stream clicks from $A_NODE" "$T/b.log" || fail "b did not log its takeover"
wait_until 60 curated_is 500 || { cat "$T/b.log"; fail "curated has $(curated) of 500"; }

say "puts through b work now"
put "$b_url" 500 100
wait_until 60 curated_is 600 || fail "curated has $(curated) of 600"

say "a restarts and does not get clicks back while b lives"
start_node a
A_NODE=$(node_of "$a_url")
r0=$(rounds "$a_url")
# Four rounds of a take longer than b's lease: had b's lease lapsed, a
# would hold it by now.
wait_until 30 sh -c "[ \$(curl -sf $a_url/metrics | awk '\$1 == \"sluice_lease_rounds_total\" {print \$2}') -ge $((r0 + 4)) ]" ||
    fail "a's lease rounds do not run"
served "$a_url" 0 || fail "a took clicks from a live b"
served "$b_url" 1 || fail "b lost clicks"
expect_redirect "$a_url" "$b_url" awsk kinesis put-record --stream-name clicks \
    --partition-key k --data aGVsbG8=

say "b stalls past its lease (SIGSTOP): a takes the lease and waits for b's logs"
B_NODE=$(node_of "$b_url")
put "$b_url" 600 100
kill -STOP "$b_pid"
# b may have stopped inside a catalog transaction, which would hold a's
# rounds up: if a's rounds make no progress, let b finish and stop it again.
i=0
last=$(rounds "$a_url")
until grep -q "took the lease of stream clicks from $B_NODE, but its logs are still open" \
        "$T/a.log"; do
    i=$((i + 1))
    [ $i -lt 300 ] || { kill -CONT "$b_pid"; cat "$T/a.log"; fail "a did not take b's lease"; }
    if [ $((i % 30)) = 0 ]; then
        now=$(rounds "$a_url")
        if [ "$now" = "$last" ]; then
            kill -CONT "$b_pid"
            sleep 0.2
            kill -STOP "$b_pid"
        fi
        last=$now
    fi
    sleep 0.1
done
served "$a_url" 0 || fail "a serves clicks while b still has its logs open"
kill -CONT "$b_pid"
wait_until 30 served "$a_url" 1 || { cat "$T/a.log" "$T/b.log"; fail "a never opened the logs"; }
served "$b_url" 0 || fail "b still serves clicks"
grep -q "stopped serving stream clicks: its lease is held by $A_NODE" "$T/b.log" ||
    fail "b did not say it stopped serving clicks"
grep -qF "took over stream clicks from $B_NODE" "$T/a.log" || fail "a did not log its takeover"
if grep -q "clicks: not delivered: .*lease" "$T/b.log"; then
    echo "(b tried to deliver after it lost the lease and was fenced)"
fi
wait_until 60 curated_is 700 || { cat "$T/a.log"; fail "curated has $(curated) of 700"; }

say "a stops cleanly (SIGTERM): b takes over at once, not after the ttl"
put "$a_url" 700 50
"$PY" "$SLUICE_SRC/tests/lib/watch_lease.py" "$(catalog_of . | grep . || echo lake/_catalog/catalog.db)" stream:clicks \
    "$A_NODE" 2000 60 > "$T/watch" 2>&1 &
watcher=$!
wait_until 10 grep -q watching "$T/watch" || { cat "$T/watch"; fail "the lease watcher"; }
stop_node a
t0=$(date +%s.%N)
wait_until 30 served "$b_url" 1 || { cat "$T/b.log"; fail "b did not take clicks over"; }
t1=$(date +%s.%N)
wait "$watcher" || { cat "$T/watch"; fail "the lease never moved"; }
cat "$T/watch"
grep -q "^released by $A_NODE to $B_NODE" "$T/watch" || fail "a did not release its lease"
"$PY" -c "print('takeover after SIGTERM took %.1f s' % ($t1 - $t0))"
put "$b_url" 750 50
wait_until 60 curated_is 800 || fail "curated has $(curated) of 800"
stop_node b

say "every acknowledged record once: in raw, and in curated"
expect_eq "acknowledged" "$(wc -l < "$ACKED" | tr -d ' ')" 800
raw_lines() {
    for k in $(sluice raw ls --source clicks --format jsonl |
               "$PY" -c 'import sys,json; [print(json.loads(l)["key"]) for l in sys.stdin]'); do
        cat "lake/$k"
    done
}
expect_eq "records delivered into raw" "$(raw_lines | grep -c event_id)" 800
expect_eq "distinct records in raw" "$(raw_lines | sort -u | grep -c event_id)" 800
expect_eq "curated rows" "$(q "SELECT count(*) FROM curated.clicks")" 800
expect_eq "curated keys" "$(curated)" 800
sluice verify --deep >/dev/null || fail "verify --deep"

say "two nodes starting together on a new lake: both come up, one serves"
mkdir "$T/q"
cd "$T/q"
sluice init . >/dev/null
cp "$SLUICE_SRC/tests/lib/clicks.yaml" sources/clicks.yaml
launch_node c
launch_node d
await_node c
await_node d
wait_until 30 sh -c "[ \$((\$(curl -sf $c_url/metrics | awk '\$1 ~ /^sluice_stream_served/ {print \$2}') + \
    \$(curl -sf $d_url/metrics | awk '\$1 ~ /^sluice_stream_served/ {print \$2}'))) = 1 ]" ||
    fail "not exactly one of the nodes serves clicks"
URL=$c_url
py_check put_events.py clicks 0 1 2>/dev/null ||
    { URL=$d_url; py_check put_events.py clicks 0 1; }
stop_node c
stop_node d
