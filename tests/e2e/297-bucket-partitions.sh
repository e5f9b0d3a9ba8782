#!/bin/sh
# 297-bucket-partitions.sh - partition_by: bucket(N, column), Iceberg's
# bucket[N] of a column, for curated tables.
#
# Every live data file's partition value (read from the manifests by
# python3-avro) is the bucket, computed in Python from the Spec's Murmur3,
# of each of its rows' values (read from the Parquet by hyparquet), and the
# file sits in the folder <column>_bucket=<value>.  DuckDB (sluice query),
# icebird and the Avro conformance check read the tables.  Replaced keys
# leave position deletes under the bucket spec.  A held first run makes a
# bucket table when published.  The partitioning evolves day -> bucket[4]
# -> bucket[16] -> bucket[4] again -> bucket[16] of another column, older
# files kept, their deletes under their specs.  Bad bucket contracts are
# refused with the file, line and reason, and change nothing.
. "$SLUICE_SRC/tests/e2e/lib.sh"
LIB="$SLUICE_SRC/tests/lib"


# specs TABLE: "spec-id:transform:source-name ..." then the default spec id
# and the last partition id.
specs() {
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
schema = [s for s in m["schemas"] if s["schema-id"] == m["current-schema-id"]][0]
name = {f["id"]: f["name"] for f in schema["fields"]}
print(" ".join("%d:%s:%s" % (s["spec-id"], s["fields"][0]["transform"],
                             name[s["fields"][0]["source-id"]]) if s["fields"] else "%d:none"
               % s["spec-id"] for s in m["partition-specs"]),
      m["default-spec-id"], m["last-partition-id"])' "$(metadata_of "$1")"
}

# version V PARTITION_BY: a contract version of the customers' columns.
version() {
    cat <<YAML
  - version: "$1"
    key: [id]
    event_time: at
    partition_by: $2
    columns:
      - {name: id, type: int64, required: true}
      - {name: name, type: string, required: true}
      - {name: v, type: string}
      - {name: at, type: timestamp, required: true}
YAML
}
source_yaml() { # NAME PARTITION_BY
    { printf 'system: crm\ncontracts:\n'; version 1.0 "$2"; } > "sources/$1.yaml"
}

# rows N FIRST TAG: N customers from id FIRST, v TAG<id>, names with
# non-ASCII letters too (their UTF-8 bytes are what is hashed).
rows() {
    "$PY" -c 'import sys
n, first, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
names = ["alice", "bob", "Zoë", "東京", "x" * 40, ""]
for i in range(first, first + n):
    name = "%s-%d" % (names[i % len(names)], i % 97)
    print("{\"id\": %d, \"name\": \"%s\", \"v\": \"%s%d\", \"at\": \"2020-01-%02dT10:00:00Z\"}"
          % (i, name, tag, i, 1 + i % 28))
' "$@"
}

load() { # SOURCE FILE
    sluice ingest --source "$1" "$2" >/dev/null
    sluice transform --source "$1" >/dev/null
}

new_project
printf 'maintenance:\n  every: 0\n' >> sluice.yaml

say "bucket(8, name): one file a bucket, each row in its bucket"
source_yaml cust "bucket(8, name)"
rows 600 0 r > "$T/c1.jsonl"
load cust "$T/c1.jsonl"
expect_eq "cust specs" "$(specs cust)" "0:bucket[8]:name 0 1000"
expect_eq "files" "$(find lake/curated/cust -name '*.parquet' | wc -l | tr -d ' ')" 8
expect_eq "bucket folders" \
    "$(find lake/curated/cust -mindepth 1 -maxdepth 1 -type d -name 'name_bucket=*' | wc -l |
       tr -d ' ')" 8
check_partitions cust
expect_eq "checked" "$("$PY" "$LIB/iceberg_buckets.py" "$(metadata_of cust)" \
    "$T/entries.jsonl" "$T/rows.jsonl")" "spec 0 bucket[8](name): 8 files, 600 rows"
# The catalog's text of each file: b<N>-<value>-<column>, its folder's value.
catalog_sql "SELECT key, partition FROM curated_files WHERE table_name = 'cust'" |
    while IFS='|' read -r key text; do
        v=${key#*name_bucket=}
        v=${v%%/*}
        expect_eq "partition text of $key" "$text" "b8-$v-name"
    done
expect_eq "bucket texts" "$(catalog_sql "SELECT count(DISTINCT partition) FROM curated_files
    WHERE table_name = 'cust' AND partition LIKE 'b8-%-name'")" 8
conform cust
expect_eq "rows" "$(q "SELECT count(*) FROM curated.cust")" 600

say "the event-time filter prunes no bucket file by its partition"
sluice query --explain "SELECT count(*) FROM curated.cust WHERE \"at\" >= '2020-01-20'" \
    >"$T/explain" 2>&1
grep -q "data files 8 of 8" "$T/explain" || { cat "$T/explain"; fail "explain"; }
expect_eq "filtered rows" "$(q "SELECT count(*) FROM curated.cust WHERE \"at\" >= '2020-01-20'")" \
    "$("$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["at"] >= "2020-01-20"))' "$T/c1.jsonl")"
expect_eq "a name's rows" "$(q "SELECT count(*) FROM curated.cust WHERE name = 'Zoë-2'")" \
    "$("$PY" -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["name"] == "Zoë-2"))' "$T/c1.jsonl")"

say "replaced keys: position deletes under the bucket spec, counts right"
# 40 keys again with other names (so most move to another bucket), and 50
# new ones.
rows 40 100 s | sed 's/"name": "/"name": "moved-/' > "$T/c2.jsonl"
rows 50 1000 n >> "$T/c2.jsonl"
load cust "$T/c2.jsonl"
expect_eq "rows after the update" "$(q "SELECT count(*) FROM curated.cust")" 650
expect_eq "one row per key" "$(q "SELECT count(*) - count(DISTINCT id) FROM curated.cust")" 0
expect_eq "updated rows" "$(q "SELECT count(*) FROM curated.cust WHERE v LIKE 's%'
    AND name LIKE 'moved-%'")" 40
check_partitions cust
"$PY" -c 'import json, re, sys
deletes = [e for e in map(json.loads, open(sys.argv[1])) if e["content"] == 1 and e["status"] != 2]
assert deletes, "no position delete files"
for e in deletes:
    assert e["spec_id"] == 0, e
    m = re.search(r"/_deletes/delete-[0-9]+-b8-([0-9]+)-name[.]parquet$", e["path"])
    assert m and int(m.group(1)) == e["partition"]["name_bucket"], e
print(len(deletes), "delete files, each of one bucket")' "$T/entries.jsonl" ||
    fail "the deletes of cust are not under its bucket spec"
conform cust
sluice verify >/dev/null || fail "verify"

say "a held first run makes a bucket table when published"
source_yaml later "bucket[3](name)"
rows 100 0 h > "$T/later.jsonl"
sluice ingest --source later "$T/later.jsonl" >/dev/null
sluice transform --source later --hold >/dev/null
expect_eq "no table while held" \
    "$(catalog_sql "SELECT count(*) FROM iceberg_tables WHERE table_name = 'later'")" 0
sluice runs publish "$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")" >/dev/null
expect_eq "later specs" "$(specs later)" "0:bucket[3]:name 0 1000"
check_partitions later
conform later

say "evolution: day -> bucket(4, name) -> bucket[16](name) -> bucket(4, name) -> bucket(16, id)"
source_yaml evo day
rows 300 0 a > "$T/e1.jsonl"
load evo "$T/e1.jsonl"
kept=$(find lake/curated/evo -name '*.parquet' | sort)
# step VERSION PARTITION_BY TAG FIRST...: a new version, then updates of
# 30 keys from each FIRST (written under the specs before) and 20 new keys.
step() {
    ver=$1 part=$2 tag=$3
    shift 3
    version "$ver" "$part" >> sources/evo.yaml
    rows 20 $((2000 + ${ver#1.} * 100)) "$tag" > "$T/e.jsonl"
    for first; do
        rows 30 "$first" "$tag" >> "$T/e.jsonl"
    done
    load evo "$T/e.jsonl"
    expect_eq "one row per key at $ver" \
        "$(q "SELECT count(*) - count(DISTINCT id) FROM curated.evo")" 0
    expect_eq "updates at $ver" "$(q "SELECT count(*) FROM curated.evo WHERE v LIKE '$tag%'")" \
        $((20 + 30 * $#))
    check_partitions evo
    conform evo
}
step 1.1 "bucket(4, name)" b 0
expect_eq "specs at 1.1" "$(specs evo)" "0:day:at 1:bucket[4]:name 1 1001"
step 1.2 "bucket[16](name)" c 20
expect_eq "specs at 1.2" "$(specs evo)" "0:day:at 1:bucket[4]:name 2:bucket[16]:name 2 1002"
step 1.3 "bucket(4, name)" d 40
expect_eq "specs at 1.3" "$(specs evo)" "0:day:at 1:bucket[4]:name 2:bucket[16]:name 1 1002"
# bucket[4] and bucket[16] of name share the folders name_bucket=0..3,
# whose files by key are bucket[4]'s (1.1), bucket[16]'s (1.2), bucket[4]'s
# (1.3): keys in files of each are replaced at once.
step 1.4 "bucket(16, id)" e 0 40
expect_eq "specs at 1.4" "$(specs evo)" \
    "0:day:at 1:bucket[4]:name 2:bucket[16]:name 3:bucket[16]:id 3 1003"
for f in $kept; do
    [ -f "$f" ] || fail "$f was moved or rewritten"
done
[ -n "$(find lake/curated/evo -path '*/id_bucket=*' -name '*.parquet')" ] || fail "no id_bucket="
expect_eq "rows after the evolution" "$(q "SELECT count(*) FROM curated.evo")" 380
check_partitions evo >"$T/evo.summary"
cat "$T/evo.summary"
for s in "spec 0 day(at)" "spec 1 bucket[4](name)" "spec 2 bucket[16](name)" \
    "spec 3 bucket[16](id)"; do
    grep -qF "$s:" "$T/evo.summary" || fail "no live files under $s"
done
# Each deletion file is under the spec of the files it deletes from: its
# name carries their partition text.
"$PY" -c 'import json, re, sys
want = {"b4": 1, "b16": 2}
seen = set()
for e in map(json.loads, open(sys.argv[1])):
    if e["content"] != 1 or e["status"] == 2:
        continue
    m = re.search(r"/delete-[0-9]+-(.*)[.]parquet$", e["path"])
    text = m.group(1)
    b = re.fullmatch(r"(b[0-9]+)-([0-9]+)-(name|id)", text)
    spec = 0 if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else \
        3 if b and b.group(3) == "id" else want[b.group(1)]
    assert e["spec_id"] == spec, (e, spec)
    seen.add(spec)
assert {0, 1, 2} <= seen, seen
print("deletes under specs", sorted(seen))' "$T/entries.jsonl" ||
    fail "a deletion file of evo is under another spec than its files"
sluice verify >/dev/null || fail "verify after the evolution"
sluice compact curated.evo >/dev/null
check_partitions evo
conform evo
expect_eq "rows after compaction" "$(q "SELECT count(*) FROM curated.evo")" 380

say "bad bucket contracts are refused and change nothing"
lake_files() {
    find lake -path lake/_catalog -prune -o -type f -print | sort
    catalog_sql "SELECT count(*) FROM runs"
    catalog_sql "SELECT source, version FROM contract_versions ORDER BY 1, 2"
}
lake_files > "$T/before"
rows 10 0 z > "$T/z.jsonl"
bad_source() { # PARTITION_BY MESSAGE
    write_source bad <<YAML
system: crm
contracts:
  - version: "1.0"
    key: [id]
    event_time: at
    partition_by: $1
    columns:
      - {name: id, type: int64, required: true}
      - {name: name, type: string, required: true}
      - {name: v, type: string}
      - {name: x, type: double, required: true}
      - {name: at, type: timestamp, required: true}
YAML
    expect_fail "$2" sluice ingest --source bad "$T/z.jsonl" >/dev/null
    grep -qF "sources/bad.yaml:6:" "$T/err" || { cat "$T/err"; fail "no file:line for $1"; }
    expect_fail "$2" sluice transform --source bad >/dev/null
    grep -qF "sources/bad.yaml:6:" "$T/err" || { cat "$T/err"; fail "no file:line for $1"; }
}
bad_source "bucket(16, nope)" "partition_by 'bucket(16, nope)': 'nope' is not a column"
bad_source "bucket(16, v)" "column 'v' must be required"
bad_source "bucket(16, x)" "column 'x' is double, which Iceberg does not bucket"
bad_source "bucket(0, id)" "the number of buckets must be an integer from 1 to 1000000, not '0'"
bad_source "bucket(16 name" "partition_by 'bucket(16 name' is not bucket(N, column)"
bad_source "bucket[16]" "is not bucket(N, column)"
bad_source "hash(16, id)" "unknown partition_by 'hash(16, id)'"
rm sources/bad.yaml
# A bad new version of a bucket table's source: refused, the table as it was.
cp sources/cust.yaml "$T/cust.yaml"
version 1.1 "bucket(16, v)" >> sources/cust.yaml
expect_fail "column 'v' must be required" sluice transform --source cust >/dev/null
grep -qF "sources/cust.yaml:" "$T/err" || { cat "$T/err"; fail "no file for cust"; }
cp "$T/cust.yaml" sources/cust.yaml
# Editing the registered version's partitioning: refused, naming the change.
sed 's/bucket(8, name)/bucket(32, name)/' "$T/cust.yaml" > sources/cust.yaml
expect_fail "partition_by changed from 'bucket(8, name)' to 'bucket(32, name)'" \
    sluice transform --source cust >/dev/null
cp "$T/cust.yaml" sources/cust.yaml
lake_files > "$T/after"
cmp -s "$T/before" "$T/after" || { diff "$T/before" "$T/after"; fail "a refusal changed the lake"; }
expect_eq "cust as it was" "$(q "SELECT count(*) FROM curated.cust")" 650
sluice verify >/dev/null || fail "verify at the end"
