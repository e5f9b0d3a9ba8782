# Contract versions: a compatible version adds nullable columns with new,
# stable field ids; older rows read NULL; a major version is its own table.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source users <<'YAML'
contracts:
  - version: "1.0"
    key: [id]
    event_time: at
    partition_by: day
    columns:
      - {name: id, type: int64, required: true}
      - {name: at, type: timestamp, required: true}
      - {name: name, type: string}
YAML
mkdir in
printf 'id,at,name\n1,2026-10-01T00:00:00Z,ann\n2,2026-10-01T00:00:00Z,bob\n' > in/1.csv
sluice ingest --source users in/1.csv >/dev/null
sluice transform --source users >/dev/null
ids() {
    q "SELECT string_agg(name || '=' || field_id, ' ' ORDER BY field_id) FROM parquet_schema('$1') WHERE field_id IS NOT NULL"
}
first=$(ls lake/curated/users/dt=2026-10-01/*.parquet)
expect_eq "ids v1.0" "$(ids "$first")" "id=1 at=2 name=3 _raw_object=4 _raw_position=5 _ingested_at=6"

say "1.1 adds a nullable column: id 7, old rows NULL"
cat >> sources/users.yaml <<'YAML'
  - version: "1.1"
    key: [id]
    event_time: at
    partition_by: day
    columns:
      - {name: id, type: int64, required: true}
      - {name: at, type: timestamp, required: true}
      - {name: name, type: string}
      - {name: email, type: string}
YAML
printf '{"id":3,"at":"2026-10-02T00:00:00Z","name":"cy","email":"cy@x"}\n' > in/2.jsonl
sluice ingest --source users in/2.jsonl | grep -q "contract 1.1"
sluice transform --source users >/dev/null
expect_eq "old row" "$(q 'SELECT coalesce(email, '"'NULL'"') FROM curated.users WHERE id = 1')" NULL
expect_eq "new row" "$(q 'SELECT email FROM curated.users WHERE id = 3')" cy@x
new=$(ls lake/curated/users/dt=2026-10-02/*.parquet)
expect_eq "ids v1.1" "$(ids "$new")" "id=1 at=2 name=3 _raw_object=4 _raw_position=5 _ingested_at=6 email=7"
expect_eq "old file untouched" "$(ls lake/curated/users/dt=2026-10-01/*.parquet)" "$first"

say "a record of 1.0 landing now fits the 1.1 table"
printf 'id,at,name\n1,2026-10-02T00:00:00Z,ann2\n' > in/3.csv
sluice ingest --source users --contract-version 1.0 in/3.csv >/dev/null
sluice transform --source users | grep -q "replacing 1 older row"
expect_eq "moved row" "$(q 'SELECT name || coalesce(email, '"'-'"') FROM curated.users WHERE id = 1')" ann2-
sluice expire curated.users --older-than 0s >/dev/null
file=$(ls lake/curated/users/dt=2026-10-01/*.parquet)
expect_eq "rewritten file keeps the old ids" "$(ids "$file")" "id=1 at=2 name=3 _raw_object=4 _raw_position=5 _ingested_at=6 email=7"

say "2.0 changes a type: a table of its own"
cat >> sources/users.yaml <<'YAML'
  - version: "2.0"
    key: [id]
    event_time: at
    partition_by: day
    columns:
      - {name: id, type: string, required: true}
      - {name: at, type: timestamp, required: true}
YAML
printf '{"id":"u-9","at":"2026-10-05T00:00:00Z"}\n' > in/4.jsonl
sluice ingest --source users in/4.jsonl | grep -q "contract 2.0"
sluice transform --source users | grep -q "curated.users_v2"
expect_eq "v2" "$(q 'SELECT id FROM curated.users_v2')" u-9
expect_eq "v1 untouched" "$(q 'SELECT count(*) FROM curated.users')" 3
[ -d lake/curated/users_v2/dt=2026-10-05 ]
sluice verify | grep -q "^ok"
