#!/bin/sh
# The PostgreSQL catalog's server dies in the middle of a transform and
# comes back: the run fails cleanly (exit 1, words naming the server),
# nothing of it is visible, and a rerun completes it.  Twice: inside the
# run's commit transaction, and before it (the run's transform lock dies
# with the session, so the run must not carry on without it).  The test
# starts a server of its own, which it may kill.
. "$SLUICE_SRC/tests/e2e/lib.sh"

PGOWN=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX")
. "$SLUICE_SRC/tests/lib/pg.sh"
(
    unset SLUICE_PG_DIR SLUICE_PG_PORT SLUICE_TEST_PG_URL_BASE
    pg_start "$PGOWN" >/dev/null
) || fail "cannot start a PostgreSQL server"
trap 'st=$?; pg_stop "$PGOWN" >/dev/null 2>&1; (exit $st); cleanup' EXIT
. "$PGOWN/env"
url=$(pg_new_db lost)

sluice init "$T/p" >/dev/null
cd "$T/p"
set_catalog . "$url"
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
$PY "$SLUICE_SRC/bench/gen_orders.py" base 5000 base.jsonl
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2000 5000 delta.jsonl
sluice ingest --source orders base.jsonl >/dev/null

# stopped PID: wait until the process has stopped itself (its fault point).
stopped() {
    i=0
    until [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = T ]; do
        i=$((i + 1)); [ $i -lt 600 ] || fail "the fault point was not reached"
        kill -0 "$1" 2>/dev/null || fail "the run ended before its fault point"
        sleep 0.1
    done
}

for point in transform.before_commit transform.deletes_sealed; do
    [ $point = transform.deletes_sealed ] && sluice ingest --source orders delta.jsonl >/dev/null
    say "the server dies at $point"
    before=$(q "SELECT count(*) FROM curated.orders" 2>/dev/null || echo 0)
    SLUICE_FAULT=stop@$point "$SLUICE" transform --source orders > out 2> err &
    pid=$!
    stopped $pid
    pg_kill "$PGOWN"
    pg_restart "$PGOWN" >/dev/null
    kill -CONT $pid
    status=0
    wait $pid || status=$?
    cat err
    [ $status -eq 1 ] || fail "exit status $status after losing the server at $point"
    grep -q "127.0.0.1:$SLUICE_PG_PORT" err || fail "the error does not name the server"
    expect_eq "nothing of the run visible" \
        "$(q "SELECT count(*) FROM curated.orders" 2>/dev/null || echo 0)" "$before"
    sluice verify >/dev/null || fail "verify after losing the server at $point"
    sluice transform --source orders --wait >/dev/null || fail "the rerun after $point"
    sluice verify --deep >/dev/null || fail "verify --deep after the rerun"
done
say "the same as runs that lost nothing"
state() { sluice query --format csv "SELECT * EXCLUDE (_ingested_at, _raw_object) FROM curated.orders ORDER BY order_id" | sha256sum; }
got=$(state)
sluice init "$T/ref" >/dev/null
cd "$T/ref"
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
sluice ingest --source orders ../p/base.jsonl >/dev/null
sluice transform --source orders >/dev/null
sluice ingest --source orders ../p/delta.jsonl >/dev/null
sluice transform --source orders >/dev/null
expect_eq "curated.orders" "$got" "$(state)"
