#!/bin/sh
# 286-iceberg-partitions.sh - a contract chooses how its table is
# partitioned, and the default (auto) suits the table.
#
# auto: a slowly changing table spread over years gets one partition a
# year, a busy event table one a day.  month and none as written.  Every
# table is read by icebird with the rows sluice query gives, and its
# metadata names the partition transform.  A held first run makes the table
# when it is published.  A contract version asking an existing table for
# another partitioning evolves its partition spec (older files stay, their
# deletes under their spec), and back; hour of a date is refused.
. "$SLUICE_SRC/tests/e2e/lib.sh"

# spec TABLE: the transform of the table's partition field, or "none".
spec() {
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
spec = [s for s in m["partition-specs"] if s["spec-id"] == m["default-spec-id"]][0]
print(spec["fields"][0]["transform"] if spec["fields"] else "none")' "$(metadata_of "$1")"
}

source_yaml() { # NAME PARTITION_BY
    write_source "$1" <<YAML
system: crm
contracts:
  - version: "1.0"
    key: [id]
    event_time: at
    $2
    columns:
      - {name: id, type: int64, required: true}
      - {name: v, type: string}
      - {name: at, type: timestamp, required: true}
YAML
}

# rows N FIRST_DAY SPREAD_DAYS: N records, one per key, over SPREAD_DAYS.
rows() {
    "$PY" -c 'import sys, datetime
n, first, spread = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0 = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
for i in range(n):
    at = t0 + datetime.timedelta(days=first + (i * spread) // n, seconds=i % 86400)
    print("{\"id\": %d, \"v\": \"r%d\", \"at\": \"%s\"}" % (i, i, at.strftime("%Y-%m-%dT%H:%M:%SZ")))
' "$@"
}

new_project
say "auto: 3,000 rows over six years is partitioned by year"
source_yaml dims ""
rows 3000 0 2190 > "$T/dims.jsonl"
sluice ingest --source dims "$T/dims.jsonl" >/dev/null
sluice transform --source dims >/dev/null
expect_eq "dims spec" "$(spec dims)" year
expect_eq "dims files" "$(find lake/curated/dims -name '*.parquet' | wc -l | tr -d ' ')" 6
[ -d lake/curated/dims/year=2021 ] || fail "no year=2021 folder"
conform dims

say "auto: 40,000 rows over two days is partitioned by day"
source_yaml events ""
rows 40000 100 2 > "$T/events.jsonl"
sluice ingest --source events "$T/events.jsonl" >/dev/null
sluice transform --source events >/dev/null
expect_eq "events spec" "$(spec events)" day
conform events

say "month and none as the contract says; updates keep them"
source_yaml monthly "partition_by: month"
rows 500 0 90 > "$T/m1.jsonl"
rows 200 60 40 | sed 's/"r/"s/' > "$T/m2.jsonl"
source_yaml flat "partition_by: none"
cp "$T/m1.jsonl" "$T/f1.jsonl"
cp "$T/m2.jsonl" "$T/f2.jsonl"
for s in monthly flat; do
    f=$([ $s = monthly ] && echo m || echo f)
    sluice ingest --source $s "$T/${f}1.jsonl" >/dev/null
    sluice transform --source $s >/dev/null
    sluice ingest --source $s "$T/${f}2.jsonl" >/dev/null
    sluice transform --source $s >/dev/null
    conform $s
done
expect_eq "monthly spec" "$(spec monthly)" month
[ -d lake/curated/monthly/month=2020-02 ] || fail "no month=2020-02 folder"
expect_eq "flat spec" "$(spec flat)" none
expect_eq "flat has no partition folders" \
    "$(find lake/curated/flat -mindepth 1 -type d -name '*=*' | wc -l | tr -d ' ')" 0
expect_eq "updates applied" "$(q "SELECT count(*) FROM curated.flat WHERE v LIKE 's%'")" 200
sluice verify >/dev/null || fail "verify"

say "a held first run makes the table when it is published"
source_yaml later ""
rows 300 0 800 > "$T/later.jsonl"
sluice ingest --source later "$T/later.jsonl" >/dev/null
sluice transform --source later --hold >/dev/null
run=$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")
expect_eq "no table while held" \
    "$(catalog_sql "SELECT count(*) FROM iceberg_tables WHERE table_name = 'later'")" 0
sluice runs publish "$run" >/dev/null
expect_eq "later spec" "$(spec later)" year
conform later

say "another partitioning within a major version evolves the partition spec"
contract_1x() { # VERSION PARTITION_BY
    cat >> sources/monthly.yaml <<YAML
  - version: "$1"
    key: [id]
    event_time: at
    partition_by: $2
    columns:
      - {name: id, type: int64, required: true}
      - {name: v, type: string}
      - {name: at, type: timestamp, required: true}
YAML
}
specs() { # TABLE: "spec-id:transform:field-id ..." then default and last partition id
    "$PY" -c 'import json, sys
m = json.load(open(sys.argv[1]))
print(" ".join("%d:%s:%d" % (s["spec-id"], s["fields"][0]["transform"], s["fields"][0]["field-id"])
               for s in m["partition-specs"]), m["default-spec-id"], m["last-partition-id"])' \
        "$(metadata_of "$1")"
}
month_files=$(find lake/curated/monthly -path '*/month=*' -name '*.parquet' | sort)
contract_1x 1.1 day
# updates of keys in the month files, and new keys
rows 300 100 60 | sed 's/"r/"t/' > "$T/m3.jsonl"
sluice ingest --source monthly "$T/m3.jsonl" >/dev/null
sluice transform --source monthly >/dev/null
expect_eq "specs after the change" "$(specs monthly)" "0:month:1000 1:day:1001 1 1001"
[ -n "$(find lake/curated/monthly -path '*/dt=*' -name '*.parquet')" ] || fail "no dt= files"
for f in $month_files; do
    [ -f "$f" ] || fail "$f was moved or rewritten"
done
expect_eq "updates applied" "$(q "SELECT count(*) FROM curated.monthly WHERE v LIKE 't%'")" 300
expect_eq "one row per key" "$(q "SELECT count(*) - count(DISTINCT id) FROM curated.monthly")" 0
# The deletes of month files are under the month spec, the new files under day.
"$PY" "$SLUICE_SRC/tests/lib/iceberg_entries.py" "$(metadata_of monthly)" 2>/dev/null |
    "$PY" -c 'import json, re, sys
seen = set()
for e in map(json.loads, sys.stdin):
    if e["status"] == 2:
        continue
    path = e["path"]
    month = "/month=" in path or re.search(r"delete-[0-9]+-[0-9]{4}-[0-9]{2}[.]parquet$", path)
    want = 0 if month else 1
    assert e["spec_id"] == want, (path, e["spec_id"])
    seen.add(("delete" if e["content"] == 1 else "data", want))
assert ("delete", 0) in seen and ("data", 1) in seen and ("data", 0) in seen, seen
print("specs of live files:", sorted(seen))' || fail "files under the wrong spec"
conform monthly
sluice verify >/dev/null || fail "verify after the evolution"
sluice compact curated.monthly >/dev/null
conform monthly
say "and back: the older spec is the default again, no third one"
contract_1x 1.2 month
rows 100 200 90 | sed 's/"r/"u/' > "$T/m4.jsonl"
sluice ingest --source monthly "$T/m4.jsonl" >/dev/null
sluice transform --source monthly >/dev/null
expect_eq "specs after going back" "$(specs monthly)" "0:month:1000 1:day:1001 0 1001"
conform monthly
sluice verify >/dev/null || fail "verify after going back"
say "a held run that changes the partitioning makes the spec when published"
contract_1x 1.3 year
rows 100 300 30 | sed 's/"r/"w/' > "$T/m5.jsonl"
sluice ingest --source monthly "$T/m5.jsonl" >/dev/null
sluice transform --source monthly --hold >/dev/null
expect_eq "specs while held" "$(specs monthly)" "0:month:1000 1:day:1001 0 1001"
sluice runs publish "$(catalog_sql "SELECT run_id FROM runs WHERE state = 'held'")" >/dev/null
expect_eq "specs once published" "$(specs monthly)" \
    "0:month:1000 1:day:1001 2:year:1002 2 1002"
expect_eq "held updates applied" "$(q "SELECT count(*) FROM curated.monthly WHERE v LIKE 'w%'")" 100
conform monthly
sluice verify >/dev/null || fail "verify after the held run"

say "hour of a date: refused"
write_source dated <<'YAML'
system: crm
contracts:
  - version: "1.0"
    key: [id]
    event_time: d
    partition_by: hour
    columns:
      - {name: id, type: int64, required: true}
      - {name: d, type: date, required: true}
YAML
expect_fail "partition_by hour needs a timestamp event_time" sluice transform --source dated
grep -q "sources/dated.yaml" "$T/err" || { cat "$T/err"; fail "the error names no file"; }
