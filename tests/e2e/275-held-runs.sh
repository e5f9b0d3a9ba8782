#!/bin/sh
# A run held after staging (sluice transform --hold; quality gates will
# hold runs the same way): committed, its bookmark moved, but nothing of it
# visible - not its rows, not the rows it replaces going away, not its
# quarantine - until `sluice runs publish`; `sluice runs discard` deletes
# what it staged and moves the bookmark back, so the next transform takes
# the same input again: never lost, never published twice.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source orders <<'YAML'
system: erp
contracts:
  - version: "1.0"
    key: [order_id]
    event_time: at
    columns:
      - {name: order_id, type: string, required: true}
      - {name: status, type: string, required: true}
      - {name: at, type: timestamp, required: true}
YAML
mkdir in
cat > in/1.jsonl <<'EOF2'
{"order_id":"A","status":"new","at":"2026-10-01T10:00:00Z"}
{"order_id":"B","status":"new","at":"2026-10-01T11:00:00Z"}
EOF2
cat > in/2.jsonl <<'EOF2'
{"order_id":"A","status":"paid","at":"2026-10-02T10:00:00Z"}
{"order_id":"C","status":"new","at":"2026-10-02T11:00:00Z"}
{"order_id":"D","status":"new","at":"not a time"}
EOF2
table() { q "SELECT order_id || '=' || status FROM curated.orders ORDER BY order_id" | tr '\n' ' '; }
bad() { n=$(q "SELECT count(*) FROM quarantine.orders" 2>/dev/null); echo "${n:-0}"; }

sluice ingest --source orders in/1.jsonl >/dev/null
sluice transform --source orders >/dev/null
expect_eq "published" "$(table)" "A=new B=new "

say "a held run changes nothing visible"
sluice ingest --source orders in/2.jsonl >/dev/null
sluice transform --source orders --hold > out
cat out
grep -q "held         invisible until 'sluice publish" out || fail "the run says it is held"
run=$(sed -n 's/^run \([0-9]*\) .*/\1/p' out)
expect_eq "the table while held" "$(table)" "A=new B=new "
expect_eq "quarantine while held" "$(bad)" 0
sluice runs | grep -q "ok, held" || fail "runs shows the run as held"
sluice verify --deep | grep -q "^ok" || fail "verify with a held run"
expect_fail "run $run of source 'orders' is held for a decision" sluice transform --source orders
expect_fail "is published, not held" sluice runs publish 1

say "discard: its output goes, its input comes back"
sluice runs discard "$run" | grep -q "run $run discarded"
expect_eq "the table after discard" "$(table)" "A=new B=new "
find lake/_staging -name '*.parquet' | grep -q . && fail "a discarded run's files survived"
sluice runs | grep -q "ok, discarded" || fail "runs shows the run as discarded"
expect_fail "is discarded, not held" sluice runs publish "$run"
sluice verify --deep | grep -q "^ok" || fail "verify after discard"

say "held again, then published"
sluice transform --source orders --hold > out
run=$(sed -n 's/^run \([0-9]*\) .*/\1/p' out)
grep -q "records in              3" out || fail "the discarded run's input is taken again"
expect_eq "the table while held" "$(table)" "A=new B=new "
sluice runs publish "$run" | grep -q "run $run published"
expect_eq "the table after publish" "$(table)" "A=paid B=new C=new "
expect_eq "quarantine after publish" "$(bad)" 1
sluice verify --deep | grep -q "^ok" || fail "verify after publish"
expect_eq "nothing left" "$(sluice transform --source orders)" \
    "nothing to do: source orders has no raw objects past its bookmark"
