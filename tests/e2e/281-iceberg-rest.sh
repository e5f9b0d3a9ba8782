#!/bin/sh
# 281-iceberg-rest.sh - sluice serve speaks the Apache Iceberg REST catalog
# API, checked with iceberg-js, an Iceberg REST client sluice did not write
# (tests/lib/iceberg_rest.mjs drives it), and curl for what a client would
# not send.
#
# Curated tables load as they are (the catalog's pointer, the metadata
# file's JSON, the snapshots `sluice snapshots` lists) and refuse commits
# (403: the pipeline owns them); a namespace and a table made through REST
# take commits - requirements checked, updates applied, a new metadata
# file with the old one in its metadata-log - and a stale requirement is a
# 409 that changes nothing; of six commits racing through two servers on
# the same snapshot, one wins and five get 409.  Bad input is the spec's 400 naming the field,
# unknown names 404, multi-level namespaces refused.  With keys, requests
# must be signed (SigV4, service iceberg) and policies decide per action
# and resource.
. "$SLUICE_SRC/tests/e2e/lib.sh"

LIB="$SLUICE_SRC/tests/lib"
NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"
export NODE_MODULES
[ -d "$NODE_MODULES/iceberg-js" ] || fail "iceberg-js is missing: run scripts/setup.sh test"

# rest CALL ARGS...: iceberg-js's answer (or its error) as one JSON line.
rest() {
    st=0
    node "$LIB/iceberg_rest.mjs" "$URL" "$@" </dev/null 2>"$T/rest.err" || st=$?
    [ $st -eq 0 ] || [ $st -eq 3 ] || { cat "$T/rest.err" >&2; fail "iceberg_rest.mjs $*"; }
}
# jq-like: PY_EXPR over the JSON on stdin as `r`.
js() { "$PY" -c "import json, sys; r = json.load(sys.stdin); print($1)"; }
pointer() {
    catalog_sql "SELECT metadata_location FROM iceberg_tables
        WHERE catalog_name = 'sluice' AND table_namespace = '$1' AND table_name = '$2'"
}
# curl_rest METHOD PATH [BODY]: status and body of a plain request.
curl_rest() {
    if [ $# -ge 3 ]; then
        curl -s -o "$T/curl.out" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
            --data-binary "$3" "$URL$2"
    else
        curl -s -o "$T/curl.out" -w '%{http_code}' -X "$1" "$URL$2"
    fi
}
# expect_error STATUS TYPE SUBSTRING: the last rest call failed so.
expect_error() {
    out=$(cat "$T/rest.out")
    got=$(printf '%s' "$out" | js 'r.get("error", {}).get("status"), r.get("error", {}).get("type")')
    expect_eq "error of $out" "$got" "$1 $2"
    printf '%s' "$out" | grep -qF -- "$3" || fail "'$3' is not in $out"
}

$PY "$SLUICE_SRC/bench/gen_orders.py" base 800 "$T/base.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 300 800 "$T/d1.jsonl"

new_project
cp "$LIB/orders.yaml" sources/orders.yaml
for f in base d1; do
    sluice ingest --source orders "$T/$f.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
done

start_server

say "config names the endpoints; namespaces and tables are the catalog's"
rest config > "$T/rest.out"
js '"POST /v1/{prefix}/namespaces/{namespace}/tables/{table}" in r["endpoints"]' \
    < "$T/rest.out" | grep -qx True || fail "config: $(cat "$T/rest.out")"
rest namespaces > "$T/rest.out"
expect_eq "namespaces" "$(js '[n["namespace"] for n in r["namespaces"]]' < "$T/rest.out")" \
    "[['curated']]"
rest tables curated > "$T/rest.out"
expect_eq "tables" "$(js '[(i["namespace"], i["name"]) for i in r["identifiers"]]' \
    < "$T/rest.out")" "[(['curated'], 'orders')]"

say "a curated table loads as the catalog points to it and the file says"
# iceberg-js parses with JSON.parse, so 63-bit snapshot ids come back as the
# nearest doubles: its answer is compared with the file's as doubles, and
# the raw answer (curl) exactly.
rest load curated orders > "$T/load.json"
curl -sf "$URL/v1/namespaces/curated/tables/orders" > "$T/load_raw.json" || fail "curl load"
sluice snapshots --json curated.orders > "$T/snaps.jsonl"
"$PY" - "$T/load.json" "$T/load_raw.json" "$(pointer curated orders)" "$T/snaps.jsonl" <<'PY' \
    || fail "load"
import json, sys
def doubles(v):
    if isinstance(v, dict):
        return {k: doubles(x) for k, x in v.items()}
    if isinstance(v, list):
        return [doubles(x) for x in v]
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v
js, raw = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for r in (js, raw):
    assert r["metadata-location"] == sys.argv[3], (r["metadata-location"], sys.argv[3])
    assert isinstance(r["config"], dict)
on_disk = json.load(open(sys.argv[3][len("file://"):]))
assert raw["metadata"] == on_disk, "the metadata is not the file's JSON"
assert doubles(js["metadata"]) == doubles(on_disk), "iceberg-js's metadata is not the file's"
snaps = [json.loads(l) for l in open(sys.argv[4])]
ids = sorted(int(s["snapshot_id"]) for s in snaps)
assert sorted(s["snapshot-id"] for s in raw["metadata"]["snapshots"]) == ids != [], (ids, raw)
cur = [s for s in snaps if s["current"]][0]
assert raw["metadata"]["current-snapshot-id"] == int(cur["snapshot_id"])
assert raw["metadata"]["properties"]["sluice.managed-by"] == "sluice"
print("ok", len(snaps), "snapshots")
PY
rest table-exists curated orders > "$T/rest.out"
expect_eq "HEAD table" "$(cat "$T/rest.out")" '{"exists":true}'
rest table-exists curated nope > "$T/rest.out"
expect_eq "HEAD missing table" "$(cat "$T/rest.out")" '{"exists":false}'

say "unknown tables and namespaces are 404s of the spec's types"
rest load curated nope > "$T/rest.out"
expect_error 404 NoSuchTableException "curated.nope"
rest tables nowhere > "$T/rest.out"
expect_error 404 NoSuchNamespaceException "nowhere"
rest namespace nowhere > "$T/rest.out"
expect_error 404 NoSuchNamespaceException "nowhere"

say "the pipeline's tables refuse commits and creates (403), and stay as they were"
before=$(pointer curated orders)
rest commit curated orders \
    '{"requirements":[],"updates":[{"action":"set-properties","updates":{"k":"v"}}]}' \
    > "$T/rest.out"
expect_error 403 ForbiddenException "pipeline owns it"
rest create-table curated \
    '{"name":"t2","schema":{"type":"struct","fields":[{"id":1,"name":"a","type":"long","required":false}]}}' \
    > "$T/rest.out"
expect_error 403 ForbiddenException "pipeline owns it"
expect_eq "curated pointer" "$(pointer curated orders)" "$before"

say "a namespace made through REST, with properties"
rest create-namespace lab '{"owner":"ana"}' > "$T/rest.out"
expect_eq "created" "$(js 'r["properties"]' < "$T/rest.out")" "{'owner': 'ana'}"
rest create-namespace lab > "$T/rest.out"
expect_error 409 AlreadyExistsException "lab"
rest namespace lab > "$T/rest.out"
expect_eq "namespace properties" "$(js 'r["properties"]' < "$T/rest.out")" "{'owner': 'ana'}"
expect_eq "catalog row" "$(catalog_sql "SELECT property_value FROM iceberg_namespace_properties
    WHERE namespace = 'lab' AND property_key = 'owner'")" ana
rest namespaces lab > "$T/rest.out"
expect_eq "children of lab" "$(js 'r["namespaces"]' < "$T/rest.out")" "[]"
rest create-namespace a.b > "$T/rest.out"
expect_error 400 BadRequestException "one level"

say "a table made through REST, then commits with requirements"
rest create-table lab '{"name": "events",
    "schema": {"type": "struct", "fields": [
        {"id": 1, "name": "id", "type": "long", "required": true},
        {"id": 2, "name": "ts", "type": "timestamptz", "required": false}]},
    "partition-spec": {"fields": [{"source-id": 2, "name": "ts_day", "transform": "day"}]},
    "properties": {"write.format.default": "parquet"}}' > "$T/created.json"
"$PY" - "$T/created.json" "$(pointer lab events)" "$PWD/lake" <<'PY' || fail "create table"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["metadata-location"] == sys.argv[2], r
assert r["metadata-location"].startswith("file://" + sys.argv[3] + "/tables/lab/events/metadata/00000-")
m = r["metadata"]
assert m == json.load(open(r["metadata-location"][7:]))
assert m["format-version"] == 2 and m["last-column-id"] == 2 and m["current-schema-id"] == 0
assert m["partition-specs"][0]["fields"][0]["field-id"] == 1000, m["partition-specs"]
assert m["last-partition-id"] == 1000 and m["default-spec-id"] == 0
assert m["properties"] == {"write.format.default": "parquet"}
assert m["location"] == "file://" + sys.argv[3] + "/tables/lab/events"
PY
rest create-table lab \
    '{"name":"events","schema":{"type":"struct","fields":[]}}' > "$T/rest.out"
expect_error 409 AlreadyExistsException "lab.events"
rest tables lab > "$T/rest.out"
expect_eq "lab tables" "$(js '[i["name"] for i in r["identifiers"]]' < "$T/rest.out")" "['events']"

uuid=$(js 'r["metadata"]["table-uuid"]' < "$T/created.json")
loc=$(js 'r["metadata"]["location"]' < "$T/created.json")
now=$(date +%s)000
rest commit lab events "{
  \"requirements\": [{\"type\": \"assert-table-uuid\", \"uuid\": \"$uuid\"},
                   {\"type\": \"assert-ref-snapshot-id\", \"ref\": \"main\", \"snapshot-id\": null},
                   {\"type\": \"assert-current-schema-id\", \"current-schema-id\": 0},
                   {\"type\": \"assert-last-assigned-field-id\", \"last-assigned-field-id\": 2},
                   {\"type\": \"assert-default-spec-id\", \"default-spec-id\": 0}],
  \"updates\": [
    {\"action\": \"add-snapshot\", \"snapshot\": {\"snapshot-id\": 41, \"sequence-number\": 1,
        \"timestamp-ms\": $now, \"manifest-list\": \"$loc/metadata/snap-41.avro\",
        \"summary\": {\"operation\": \"append\"}, \"schema-id\": 0}},
    {\"action\": \"set-snapshot-ref\", \"ref-name\": \"main\", \"type\": \"branch\",
        \"snapshot-id\": 41},
    {\"action\": \"add-schema\", \"schema\": {\"type\": \"struct\", \"fields\": [
        {\"id\": 1, \"name\": \"id\", \"type\": \"long\", \"required\": true},
        {\"id\": 2, \"name\": \"ts\", \"type\": \"timestamptz\", \"required\": false},
        {\"id\": 3, \"name\": \"note\", \"type\": \"string\", \"required\": false}]}},
    {\"action\": \"set-current-schema\", \"schema-id\": -1},
    {\"action\": \"add-sort-order\", \"sort-order\": {\"order-id\": 5, \"fields\": [
        {\"source-id\": 1, \"transform\": \"identity\", \"direction\": \"asc\",
         \"null-order\": \"nulls-first\"}]}},
    {\"action\": \"set-default-sort-order\", \"sort-order-id\": -1},
    {\"action\": \"set-properties\", \"updates\": {\"owner\": \"ana\"}},
    {\"action\": \"remove-properties\", \"removals\": [\"write.format.default\"]}]}" \
    > "$T/commit1.json"
rest load lab events > "$T/load2.json"
"$PY" - "$T/created.json" "$T/commit1.json" "$T/load2.json" "$(pointer lab events)" <<'PY' \
    || fail "commit"
import json, sys
created, commit, load = (json.load(open(f)) for f in sys.argv[1:4])
assert "error" not in commit, commit
assert commit["metadata-location"] == sys.argv[4] == load["metadata-location"], (commit, sys.argv[4])
assert "/metadata/00001-" in commit["metadata-location"]
m = load["metadata"]
assert m == commit["metadata"] == json.load(open(sys.argv[4][7:]))
assert m["current-snapshot-id"] == 41 and m["refs"]["main"] == {"snapshot-id": 41, "type": "branch"}
assert m["last-sequence-number"] == 1 and [s["snapshot-id"] for s in m["snapshots"]] == [41]
assert m["snapshot-log"][-1]["snapshot-id"] == 41
assert m["current-schema-id"] == 1 and m["last-column-id"] == 3, m["schemas"]
assert m["default-sort-order-id"] == 1, m["sort-orders"]
assert m["properties"] == {"owner": "ana"}, m["properties"]
assert m["metadata-log"][-1]["metadata-file"] == created["metadata-location"], m["metadata-log"]
assert m["table-uuid"] == created["metadata"]["table-uuid"]
PY
sluice snapshots --json lab.events > "$T/lab_snaps.jsonl"
expect_eq "sluice snapshots of lab.events" \
    "$("$PY" -c 'import json, sys; print([json.loads(l)["snapshot_id"] for l in open(sys.argv[1])])' \
       "$T/lab_snaps.jsonl")" "[41]"

say "a stale requirement is a 409 and changes nothing"
before=$(pointer lab events)
nfiles=$(ls lake/tables/lab/events/metadata | wc -l)
rest commit lab events '{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}],
    "updates":[{"action":"set-properties","updates":{"stale":"yes"}}]}' > "$T/rest.out"
expect_error 409 CommitFailedException "'main' exists (at snapshot 41)"
rest commit lab events '{"requirements":[{"type":"assert-current-schema-id","current-schema-id":0}],
    "updates":[{"action":"set-properties","updates":{"stale":"yes"}}]}' > "$T/rest.out"
expect_error 409 CommitFailedException "current-schema-id"
expect_eq "pointer after 409" "$(pointer lab events)" "$before"
expect_eq "metadata files after 409" "$(ls lake/tables/lab/events/metadata | wc -l)" "$nfiles"

say "a race: commits built on one snapshot, through two servers at once; one wins, the rest 409"
start_node other
base_ptr=$(pointer lab events)
pids=
for i in 1 2 3 4 5 6; do
    if [ $((i % 2)) -eq 0 ]; then u=$URL; else u=$other_url; fi
    node "$LIB/iceberg_rest.mjs" "$u" commit lab events "{
      \"requirements\": [{\"type\": \"assert-ref-snapshot-id\", \"ref\": \"main\", \"snapshot-id\": 41}],
      \"updates\": [{\"action\": \"add-snapshot\", \"snapshot\": {\"snapshot-id\": $((50 + i)),
          \"parent-snapshot-id\": 41, \"sequence-number\": 2, \"timestamp-ms\": $now,
          \"manifest-list\": \"$loc/metadata/snap-$((50 + i)).avro\",
          \"summary\": {\"operation\": \"append\"}}},
        {\"action\": \"set-snapshot-ref\", \"ref-name\": \"main\", \"type\": \"branch\",
          \"snapshot-id\": $((50 + i))}]}" > "$T/race.$i" 2>&1 </dev/null &
    pids="$pids $!"
done
for j in $pids; do
    wait "$j" || true # 3: refused, which the check below expects of all but one
done
"$PY" - "$T" "$(pointer lab events)" "$base_ptr" <<'PY' || fail "race"
import json, sys
outs = [json.loads(open(f"{sys.argv[1]}/race.{i}").read()) for i in range(1, 7)]
won = [o for o in outs if "error" not in o]
lost = [o for o in outs if "error" in o]
assert len(won) == 1, outs
assert all(o["error"]["status"] == 409 and o["error"]["type"] == "CommitFailedException"
           for o in lost), lost
assert won[0]["metadata-location"] == sys.argv[2] != sys.argv[3]
m = json.load(open(sys.argv[2][7:]))
assert [s["snapshot-id"] for s in m["snapshots"]] == [41, m["current-snapshot-id"]], m["snapshots"]
assert m["metadata-log"][-1]["metadata-file"] == sys.argv[3]
print("ok: one of", len(outs), "won")
PY
stop_node other

say "bad input: the spec's 400 naming the field, nothing changed"
before=$(pointer lab events)
bad() { # WHAT BODY SUBSTRING
    code=$(curl_rest POST /v1/namespaces/lab/tables/events "$2")
    expect_eq "$1: status" "$code" 400
    grep -q '"type":"BadRequestException"' "$T/curl.out" || fail "$1: $(cat "$T/curl.out")"
    grep -qF -- "$3" "$T/curl.out" || fail "$1: '$3' is not in $(cat "$T/curl.out")"
}
bad "malformed JSON" '{"updates": [' "CommitTableRequest"
bad "not an object" '[1]' "must be a JSON object"
bad "no updates" '{"requirements": []}' "'updates' is missing"
bad "unknown action" '{"updates": [{"action": "set-properties", "updates": {}},
    {"action": "frobnicate"}]}' "updates[1]: unknown or unsupported update action 'frobnicate'"
bad "unknown requirement" '{"requirements": [{"type": "assert-nothing"}], "updates": []}' \
    "requirements[0]: unknown requirement type 'assert-nothing'"
bad "wrong member type" '{"requirements": [{"type": "assert-current-schema-id",
    "current-schema-id": "1"}], "updates": []}' "'current-schema-id' is of the wrong type"
bad "schema field" '{"updates": [{"action": "add-schema", "schema": {"type": "struct",
    "fields": [{"id": 1, "name": "id", "type": "long"}]}}]}' \
    "updates[0].schema.fields[0]: 'required' is missing"
bad "unknown schema id" '{"updates": [{"action": "set-current-schema", "schema-id": 9}]}' \
    "'schema-id' 9 is not among the table's schemas"
bad "sluice's property" '{"updates": [{"action": "set-properties",
    "updates": {"sluice.managed-by": "me"}}]}' "sluice.managed-by"
bad "moving the table" '{"updates": [{"action": "set-location", "location": "file:///tmp"}]}' \
    "'location' cannot change"
expect_eq "pointer after 400s" "$(pointer lab events)" "$before"
code=$(curl_rest POST /v1/namespaces/lab/tables '{"name": "x/y", "schema": {}}')
expect_eq "bad table name" "$code" 400
grep -q "'name'" "$T/curl.out" || fail "bad table name: $(cat "$T/curl.out")"

say "namespaces in paths: %1F separates levels, refused beyond one; escapes checked"
code=$(curl_rest GET "/v1/namespaces/lab%1Fsub/tables")
expect_eq "multi-level" "$code" 400
grep -q "more than one level" "$T/curl.out" || fail "multi-level: $(cat "$T/curl.out")"
code=$(curl_rest GET "/v1/namespaces/l%61b")
expect_eq "escaped name" "$code" 200
code=$(curl_rest GET "/v1/namespaces/lab%2Fx/tables")
expect_eq "escaped slash" "$code" 400
code=$(curl_rest GET "/v1/namespaces/lab%zz")
expect_eq "bad escape" "$code" 400
code=$(curl_rest GET "/v1/namespaces?parent=lab%1Fsub")
expect_eq "multi-level parent" "$code" 400
code=$(curl_rest PUT "/v1/namespaces/lab")
expect_eq "wrong method" "$code" 405
code=$(curl_rest GET "/v1/nothing")
expect_eq "unknown path" "$code" 404
grep -q '"code":404' "$T/curl.out" || fail "unknown path: $(cat "$T/curl.out")"

say "tables drop (their files stay), namespaces drop when empty"
rest drop-namespace lab > "$T/rest.out"
expect_error 409 NamespaceNotEmptyException "lab"
rest create-namespace scratch > /dev/null
rest create-table scratch \
    '{"name":"tmp","schema":{"type":"struct","fields":[{"id":1,"name":"a","type":"int","required":false}]}}' \
    > /dev/null
rest drop-namespace scratch > "$T/rest.out"
expect_error 409 NamespaceNotEmptyException "1 table"
rest drop-table scratch tmp purge > "$T/rest.out"
expect_error 400 BadRequestException "purgeRequested"
rest drop-table scratch tmp > "$T/rest.out"
expect_eq "table dropped" "$(cat "$T/rest.out")" '{"dropped":"scratch.tmp"}'
[ -z "$(pointer scratch tmp)" ] || fail "scratch.tmp is still in the catalog"
ls lake/tables/scratch/tmp/metadata/00000-*.metadata.json >/dev/null || fail "files went too"
rest drop-table scratch tmp > "$T/rest.out"
expect_error 404 NoSuchTableException "scratch.tmp"
rest drop-table curated orders > "$T/rest.out"
expect_error 403 ForbiddenException "drop a table"
rest drop-namespace scratch > "$T/rest.out"
expect_eq "dropped" "$(cat "$T/rest.out")" '{"dropped":"scratch"}'
rest namespace-exists scratch > "$T/rest.out"
expect_eq "gone" "$(cat "$T/rest.out")" '{"exists":false}'
rest drop-namespace curated > "$T/rest.out"
expect_error 403 ForbiddenException "curated"
stop_server

say "with keys: signed requests only, and each key's policy per action and resource"
sluice keys add admin > "$T/admin.json" 2>/dev/null
cat > "$T/reader.pol" <<'JSON'
{"Statement": {"Effect": "Allow",
               "Action": ["iceberg:GetConfig", "iceberg:List*", "iceberg:Load*"],
               "Resource": "*"}}
JSON
sluice keys add reader --policy "$T/reader.pol" > "$T/reader.json" 2>/dev/null
key() { "$PY" -c "import json; print(json.load(open('$T/$1.json'))['AccessKey']['$2'])"; }
start_server
rest namespaces > "$T/rest.out"
expect_error 401 NotAuthorizedException "MissingAuthenticationToken"
SIGV4_KEY_ID=$(key reader AccessKeyId) SIGV4_SECRET=wrong rest namespaces > "$T/rest.out"
expect_error 401 NotAuthorizedException "InvalidSignatureException"
SIGV4_KEY_ID=$(key reader AccessKeyId) SIGV4_SECRET=$(key reader SecretAccessKey) \
    rest load curated orders > "$T/rest.out"
expect_eq "reader loads" "$(js 'r["metadata-location"]' < "$T/rest.out")" \
    "$(pointer curated orders)"
SIGV4_KEY_ID=$(key reader AccessKeyId) SIGV4_SECRET=$(key reader SecretAccessKey) \
    rest commit lab events '{"requirements":[],"updates":[{"action":"set-properties",
        "updates":{"by":"reader"}}]}' > "$T/rest.out"
expect_error 403 ForbiddenException \
    "not authorized to perform: iceberg:UpdateTable on resource: arn:aws:iceberg:us-east-1:000000000000:table/lab/events"
SIGV4_KEY_ID=$(key reader AccessKeyId) SIGV4_SECRET=$(key reader SecretAccessKey) \
    rest table-exists lab events > "$T/rest.out"
expect_eq "reader's HEAD (no body to name the type)" \
    "$(js 'r["error"]["status"]' < "$T/rest.out")" 403
SIGV4_KEY_ID=$(key admin AccessKeyId) SIGV4_SECRET=$(key admin SecretAccessKey) \
    rest commit lab events '{"requirements":[{"type":"assert-table-uuid",
        "uuid":"'"$uuid"'"}],"updates":[{"action":"set-properties","updates":{"by":"admin"}}]}' \
    > "$T/rest.out"
expect_eq "admin commits" "$(js 'r["metadata"]["properties"]["by"]' < "$T/rest.out")" admin
code=$(curl -s -o "$T/curl.out" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:iceberg" \
    --user "$(key admin AccessKeyId):$(key admin SecretAccessKey)" "$URL/v1/namespaces/lab")
expect_eq "curl --aws-sigv4" "$code" 200
"$PY" - "$PWD/.sluice/audit.log" "$(key reader AccessKeyId)" <<'PY' || fail "audit log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mine = [l for l in lines if l["event"] == "denied" and l["key"] == sys.argv[2]
        and l["action"] == "iceberg:UpdateTable"]
assert mine and mine[-1]["resource"] == "arn:aws:iceberg:us-east-1:000000000000:table/lab/events", lines[-5:]
PY
curl -s "$URL/metrics" | grep -q 'sluice_access_denied_total{action="iceberg:UpdateTable"} 1' ||
    fail "metrics do not count the denial"
stop_server
