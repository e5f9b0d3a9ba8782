# --rewind reprocesses deliberately; dedup makes it idempotent.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source s <<'YAML'
contracts:
  - version: "1.0"
    key: [k]
    event_time: t
    columns:
      - {name: k, type: string, required: true}
      - {name: t, type: timestamp, required: true}
      - {name: v, type: int64}
YAML
mkdir in
printf '{"k":"a","t":"2026-10-01T00:00:00Z","v":1}\n{"k":"b","t":"2026-10-01T00:00:00Z","v":2}\n' > in/1.jsonl
printf '{"k":"a","t":"2026-10-02T00:00:00Z","v":3}\n' > in/2.jsonl
sluice ingest --source s in/1.jsonl >/dev/null
sluice ingest --source s in/2.jsonl >/dev/null
sluice transform --source s > out
state() { q "SELECT k, v, \"t\" FROM curated.s ORDER BY k"; }
state > before

say "rewind to the start: everything is a duplicate, nothing changes"
sluice transform --source s --rewind > out
grep -q "records in              3" out
grep -q "duplicates              3   2 redelivered, 1 superseded" out
state > after
diff before after

say "rewind to an object id or a time"
id2=$(sha256sum in/2.jsonl | cut -c1-32)
sluice transform --source s --rewind="$id2" | grep -q " 1 object "
sluice transform --source s --rewind=2000-01-01T00:00:00Z | grep -q "2 objects"
sluice transform --source s --rewind=2999-01-01T00:00:00Z | grep -q "nothing to do"
expect_fail "no such raw object" sluice transform --source s --rewind=deadbeef
state > after
diff before after
sluice verify | grep -q "^ok"
