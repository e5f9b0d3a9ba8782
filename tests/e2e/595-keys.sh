#!/bin/sh
# Access keys: sluice keys add/list/remove, the credentials file read by the
# AWS CLI itself, secrets nowhere else, and bad policies, names and
# permissions refused with their file and line, changing nothing.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
CRED="$T/p/.sluice/credentials"
mkdir -p "$T/in"
cat > "$T/in/producer.json" <<'EOF'
{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PutClicks",
            "Effect": "Allow",
            "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
            "Resource": "arn:aws:kinesis:*:*:stream/clicks"
        }
    ]
}
EOF
mode_of() { stat -c %a "$1"; }
# The AWS CLI with the credentials file and one of its profiles (and none
# of lib.sh's throw-away keys in the environment).
aws_profile() {
    _p=$1
    shift
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE="$CRED" \
        AWS_MAX_ATTEMPTS=1 /usr/bin/aws --profile "$_p" "$@"
}

say "no keys yet"
sluice keys > "$T/list0"
grep -q "^no keys in $CRED" "$T/list0" || fail "$(cat "$T/list0")"
[ ! -e "$CRED" ] || fail "listing created the credentials file"

say "keys add prints what aws iam create-access-key prints"
sluice keys add producer --policy "$T/in/producer.json" > "$T/add.json" 2> "$T/add.err"
[ ! -s "$T/add.err" ] || fail "a key with a policy warned: $(cat "$T/add.err")"
"$PY" - "$T/add.json" <<'EOF' > "$T/key"
import json, re, sys
text = open(sys.argv[1]).read()
doc = json.loads(text)
assert list(doc) == ["AccessKey"], doc
k = doc["AccessKey"]
assert list(k) == ["UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"], list(k)
assert k["UserName"] == "producer" and k["Status"] == "Active", k
assert re.fullmatch(r"AKIA[A-Z2-7]{16}", k["AccessKeyId"]), k["AccessKeyId"]
assert re.fullmatch(r"[A-Za-z0-9+/]{40}", k["SecretAccessKey"]), "secret shape"
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", k["CreateDate"]), k["CreateDate"]
# Pretty-printed with four spaces, as the AWS CLI prints it.
assert text == json.dumps(doc, indent=4) + "\n", text
print(k["AccessKeyId"], k["SecretAccessKey"])
EOF
read -r ID SECRET < "$T/key"
expect_eq "folder mode" "$(mode_of .sluice)" 700
expect_eq "credentials mode" "$(mode_of "$CRED")" 600
expect_eq "policy copy mode" "$(mode_of .sluice/policies/producer.json)" 600
cmp -s "$T/in/producer.json" .sluice/policies/producer.json || fail "the policy copy differs"

say "a key without a policy may do everything, and add says so"
sluice keys add admin > "$T/admin.json" 2> "$T/admin.err"
grep -q "warning: key 'admin' has no policy: it may call every action" "$T/admin.err" \
    || fail "no warning: $(cat "$T/admin.err")"
ADMIN_ID=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["AccessKeyId"])' "$T/admin.json")
ADMIN_SECRET=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["AccessKey"]["SecretAccessKey"])' "$T/admin.json")

say "keys list shows them without secrets"
sluice keys list > "$T/list"
cat "$T/list"
grep -Eq "^producer +$ID +policies/producer.json +[0-9T:-]+Z$" "$T/list" || fail "producer row"
grep -Eq "^admin +$ADMIN_ID +all actions " "$T/list" || fail "admin row"
sluice keys list --json > "$T/list.json"
"$PY" - "$T/list.json" "$ID" <<'EOF'
import json, sys
keys = json.load(open(sys.argv[1]))
assert [k["name"] for k in keys] == ["producer", "admin"], keys
assert keys[0]["access_key_id"] == sys.argv[2] and keys[0]["policy"] == "policies/producer.json"
assert keys[1]["policy"] is None and all(set(k) == {"name", "access_key_id", "policy", "created"} for k in keys)
EOF
if grep -qF -e "$SECRET" -e "$ADMIN_SECRET" "$T/list" "$T/list.json"; then
    fail "keys list printed a secret"
fi

say "the AWS CLI reads the credentials file"
expect_eq "aws_access_key_id" "$(aws_profile producer configure get aws_access_key_id)" "$ID"
expect_eq "aws_secret_access_key" \
    "$(aws_profile producer configure get aws_secret_access_key)" "$SECRET"
expect_eq "admin's id" "$(aws_profile admin configure get aws_access_key_id)" "$ADMIN_ID"

say "the keys at work against sluice serve"
export SLUICE_LOG=debug
start_server
unset SLUICE_LOG
aws_profile admin --endpoint-url "$URL" kinesis create-stream --stream-name clicks \
    --shard-count 1 || fail "create-stream with the admin key"
rec=$(printf '{"n":1}' | base64 -w0)
put_as_producer() {
    aws_profile producer --endpoint-url "$URL" kinesis put-record --stream-name clicks \
        --partition-key p --data "$rec" > "$T/put.json" 2>&1
}
wait_for 60 put_as_producer || fail "put-record with the producer key: $(cat "$T/put.json")"
grep -q ShardId "$T/put.json" || fail "$(cat "$T/put.json")"
curl -sf "$URL/metrics" > "$T/metrics" || fail "metrics"
stop_server

say "secrets are nowhere but in the credentials file"
# Every file of the project (lake, catalog, sluice.yaml, policies), every
# log and output of this test but the one keys add printed.
for s in "$SECRET" "$ADMIN_SECRET"; do
    found=$(grep -rlF -- "$s" "$T" 2>/dev/null | grep -vx -e "$CRED" -e "$T/add.json" \
            -e "$T/admin.json" -e "$T/key" || true)
    [ -z "$found" ] || fail "a secret is in: $found"
done
grep -qF -- "$SECRET" "$CRED" || fail "the secret is not in the credentials file"

say "bad policies are refused with their file and line, and nothing changes"
snapshot() { (find .sluice -type f ! -name '*.lock' -exec sha256sum {} + | sort); }
snapshot > "$T/before"
cat > "$T/in/typo.json" <<'EOF'
{
  "Statement": [{
    "Effect": "Allow",
    "Action": "kinesis:PutRecrd",
    "Resource": "*"
  }]
}
EOF
expect_fail "$T/in/typo.json:4: action \"kinesis:PutRecrd\" matches no known action" \
    sluice keys add typo --policy "$T/in/typo.json"
grep -q "The kinesis actions are: .*kinesis:PutRecord" "$T/err" || fail "no list of actions"
grep -q "accepted forms" "$T/err" || fail "no accepted forms"
printf '{\n  "Statement": [\n    {"Effect": "Allow", "Action": "*", "Resource": "*",}\n  ]\n}\n' \
    > "$T/in/comma.json"
expect_fail "$T/in/comma.json:3: invalid JSON: a ',' before '}'" \
    sluice keys add comma --policy "$T/in/comma.json"
printf '{"Statement": {\n"Effect": "Allow", "Action": "*", "Resource": "*",\n"Condition": {}}}\n' \
    > "$T/in/cond.json"
expect_fail "$T/in/cond.json:3: element \"Condition\" is not supported" \
    sluice keys add cond --policy "$T/in/cond.json"
printf '{"Statement": {"Effect": "Allow", "Action": "*",\n"Resource": "stream/clicks"}}\n' \
    > "$T/in/res.json"
expect_fail "$T/in/res.json:2: resource \"stream/clicks\" is neither \"*\" nor an ARN" \
    sluice keys add res --policy "$T/in/res.json"
expect_fail "cannot open '$T/in/none.json'" sluice keys add none --policy "$T/in/none.json"
expect_fail "cannot name a key 'a/b'" sluice keys add a/b
expect_fail "cannot name a key 'env'" sluice keys add env
expect_fail "key 'producer' exists already ($CRED:3)" sluice keys add producer
s=0; sluice keys add >/dev/null 2>&1 || s=$?
expect_eq "usage exit status" "$s" 2
snapshot > "$T/after"
diff "$T/before" "$T/after" || fail "a refused keys add changed something"
[ ! -e .sluice/policies/typo.json ] || fail "a refused policy was copied"

say "a credentials file others may read is refused"
chmod 640 "$CRED"
expect_fail "$CRED is readable by others (mode 0640); it holds secrets: chmod 600 $CRED" \
    sluice keys list
expect_fail "chmod 600 $CRED" sluice keys add other
expect_fail "chmod 600 $CRED" sluice keys remove admin
chmod 600 "$CRED"
snapshot > "$T/after"
diff "$T/before" "$T/after" || fail "a refused command changed something"

say "a hand-broken credentials file names its line"
cp "$CRED" "$T/cred.good"
printf 'region = us-east-1\n' >> "$CRED"
expect_fail "$CRED:13: unknown key 'region' in key 'admin'" sluice keys list
cat "$T/cred.good" > "$CRED"
printf '\n[producer]\n' >> "$CRED"
expect_fail "$CRED:14: key 'producer' is defined twice (first at line 3)" sluice keys list
cat "$T/cred.good" > "$CRED"

say "keys remove, by name and by key id"
sluice keys remove producer > "$T/rm.out"
grep -q "removed key 'producer' ($ID)" "$T/rm.out" || fail "$(cat "$T/rm.out")"
[ ! -e .sluice/policies/producer.json ] || fail "the policy copy stayed"
expect_fail "unknown key 'producer': no key in $CRED has that name or access key id" \
    sluice keys remove producer
grep -q "The keys are: admin ($ADMIN_ID)" "$T/err" || fail "no list of keys"
sluice keys remove "$ADMIN_ID" >/dev/null
sluice keys list | grep -q "^no keys in" || fail "keys left"
expect_eq "credentials mode after rewrites" "$(mode_of "$CRED")" 600
if grep -qF -e "$SECRET" -e "$ADMIN_SECRET" "$CRED"; then
    fail "a removed secret is still in the file"
fi

say "server.credentials names another file, relative to the project"
printf 'server:\n  credentials: keys/creds\n' >> sluice.yaml
mkdir -p sub && cd sub
sluice keys add x --policy "$T/in/producer.json" >/dev/null
cd ..
[ -f keys/creds ] || fail "keys/creds not written"
expect_eq "keys folder mode" "$(mode_of keys)" 700
[ -f keys/policies/x.json ] || fail "policy not beside keys/creds"
