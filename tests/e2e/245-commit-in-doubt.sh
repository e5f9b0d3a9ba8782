#!/bin/sh
# A commit whose outcome is unknown (the catalog connection broke while
# COMMIT was in flight): the command fails, saying so, and leaves its staged
# outputs alone; the next command publishes them if the run did commit and
# sweeps them if it did not.  Either way nothing is half-visible, nothing is
# lost and nothing counts twice.
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
i=0
while [ $i -lt 50 ]; do
    printf '{"order_id":"o%d","status":"new","at":"2026-10-01T10:%02d:00Z"}\n' $i $((i % 60))
    i=$((i + 1))
done > in/1.jsonl
while [ $i -lt 80 ]; do
    printf '{"order_id":"o%d","status":"new","at":"2026-10-02T10:%02d:00Z"}\n' $i $((i % 60))
    i=$((i + 1))
done > in/2.jsonl

# run_commit POINT KIND CMD...: run CMD on a copy of the project and print
# the hit number of POINT (catalog.commit or catalog.committed) in the
# commit of its KIND run - the one right after KIND.before_commit; others
# register contracts, allocate ids and clear owed steps.
run_commit() {
    point=$1 kind=$2
    shift 2
    rm -rf "$T/probe" "$T/trace" && copy_project "$T/p" "$T/probe"
    (cd "$T/probe" && SLUICE_FAULT_TRACE="$T/trace" "$@" >/dev/null 2>&1)
    awk -v p="$point" -v k="$kind.before_commit" \
        '$0 == p { n++; if (armed) { print n; exit } } $0 == k { armed = 1 }' "$T/trace"
}

say "landing: the commit happened, its answer was lost"
n=$(run_commit catalog.committed ingest sluice ingest --source orders in/1.jsonl)
SLUICE_FAULT=indoubt@catalog.committed:$n expect_fail "outcome of the commit is unknown" \
    sluice ingest --source orders in/1.jsonl
expect_eq "objects after recovery" "$(sluice raw ls --format jsonl | grep -c .)" 1
sluice verify --deep >/dev/null || fail "verify after a landing in doubt"

say "transform: the commit happened, its answer was lost"
n=$(run_commit catalog.committed transform sluice transform --source orders)
SLUICE_FAULT=indoubt@catalog.committed:$n expect_fail "outcome of the commit is unknown" \
    sluice transform --source orders
expect_eq "rows after recovery" "$(q "SELECT count(*) FROM curated.orders")" 50
sluice verify --deep >/dev/null || fail "verify after a transform in doubt"
expect_eq "nothing left to do" "$(sluice transform --source orders)" \
    "nothing to do: source orders has no raw objects past its bookmark"

say "transform: the commit did not happen"
sluice ingest --source orders in/2.jsonl >/dev/null
n=$(run_commit catalog.commit transform sluice transform --source orders)
SLUICE_FAULT=indoubt@catalog.commit:$n expect_fail "outcome of the commit is unknown" \
    sluice transform --source orders
expect_eq "rows before the rerun" "$(q "SELECT count(*) FROM curated.orders")" 50
sluice verify --deep >/dev/null || fail "verify after a transform that did not commit"
find lake/_staging -name '*.parquet' | grep -q . && fail "staged files of a dead run survived"
sluice transform --source orders >/dev/null
expect_eq "rows after the rerun" "$(q "SELECT count(*) FROM curated.orders")" 80
expect_eq "one row per key" "$(q "SELECT count(DISTINCT order_id) FROM curated.orders")" 80
sluice verify --deep >/dev/null || fail "verify at the end"
