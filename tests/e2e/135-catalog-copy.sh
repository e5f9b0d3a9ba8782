#!/bin/sh
# Moving an embedded lake's catalog to PostgreSQL: `sluice catalog copy
# --to URL` into an empty database, then catalog: in sluice.yaml, and the
# lake goes on as before (verify --deep passes, new runs continue the
# history).  A database that is not empty is refused.
. "$SLUICE_SRC/tests/e2e/lib.sh"
: "${SLUICE_TEST_PG_URL_BASE:?needs the test server of tests/lib/pg.sh}"
. "$SLUICE_SRC/tests/lib/pg.sh"

"$SLUICE" init "$T/p" >/dev/null       # the embedded catalog, whatever the pass
cd "$T/p"
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
$PY "$SLUICE_SRC/bench/gen_orders.py" base 3000 base.jsonl
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 1000 3000 d1.jsonl
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 1200 3000 d2.jsonl
sluice ingest --source orders base.jsonl >/dev/null
sluice transform --source orders >/dev/null
sluice ingest --source orders d1.jsonl >/dev/null
sluice transform --source orders --hold >/dev/null   # a held run moves too
expect_eq "the catalog before" "$(sluice catalog | sed -n 's/^back end *//p')" "SQLite (embedded)"
before=$(sluice query --format csv "SELECT * FROM curated.orders ORDER BY order_id" | sha256sum)
runs_before=$(sluice runs --limit 0 | tail -n +2)

say "copy into an empty database"
url=$(pg_new_db "$(new_db_name)")
sluice catalog copy --to "$url" | tee out
grep -q "^copied [0-9]* rows" out || fail "the copy says what it did"
say "copying again: the target is not empty"
expect_fail "is not empty" sluice catalog copy --to "$url"
say "a target of neither form"
expect_fail "neither a PostgreSQL URL nor a libpq connection string" \
    sluice catalog copy --to /tmp/elsewhere.db

say "the lake on its new catalog"
set_catalog . "$url"
expect_eq "the catalog after" "$(sluice catalog | sed -n 's/^back end *//p')" PostgreSQL
sluice verify --deep | grep -q "^ok" || fail "verify --deep on the copied catalog"
expect_eq "the same table" \
    "$(sluice query --format csv "SELECT * FROM curated.orders ORDER BY order_id" | sha256sum)" \
    "$before"
expect_eq "the same runs" "$(sluice runs --limit 0 | tail -n +2)" "$runs_before"
held=$(sluice runs --limit 0 | awk '/held/ {print $1}')
[ -n "$held" ] || fail "the held run did not move"
sluice runs publish "$held" >/dev/null
sluice ingest --source orders d2.jsonl >/dev/null
sluice transform --source orders > out
first=$(sed -n 's/^run \([0-9]*\) .*/\1/p' out)
[ "$first" -gt "$held" ] || fail "run ids go on after the copied ones ($first after $held)"
sluice verify --deep | grep -q "^ok" || fail "verify --deep after new runs"
expect_eq "one row per key" "$(q "SELECT count(*) = count(DISTINCT order_id) FROM curated.orders")" true
