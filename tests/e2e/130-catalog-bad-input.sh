#!/bin/sh
# The catalog: key of sluice.yaml and what can go wrong with it.  A
# location of neither accepted form, or one holding a password, is refused
# with both forms in the hint; an unreachable server, wrong credentials, a
# missing database, a role without rights and a schema newer than the
# binary are each refused with words naming the host, port and database
# and what failed, exit 1, and nothing changed in the lake.
. "$SLUICE_SRC/tests/e2e/lib.sh"
: "${SLUICE_TEST_PG_URL_BASE:?needs the test server of tests/lib/pg.sh}"
. "$SLUICE_SRC/tests/lib/pg.sh"

sluice init "$T/p" >/dev/null
cd "$T/p"
sluice ingest --source customers examples/customers.csv >/dev/null
sluice transform --source customers >/dev/null
good=$(catalog_of .)
snapshot() { (cd lake && find . -path ./_catalog -prune -o -type f -print | sort | xargs sha256sum); }
snapshot > "$T/before"
unchanged() {
    snapshot > "$T/after"
    diff "$T/before" "$T/after" >/dev/null || fail "the lake changed: $1"
}
try() { # try LOCATION SUBSTRING: every command refuses, naming what is wrong
    set_catalog . "$1"
    expect_fail "$2" sluice ingest --source customers examples/customers.csv
    expect_fail "$2" sluice transform --source customers
    expect_fail "$2" sluice query "SELECT 1"
    unchanged "catalog: $1"
}

say "neither form"
try "/var/lib/sluice/catalog.db" "neither a PostgreSQL URL nor a libpq connection string"
grep -q "postgresql://USER@HOST:PORT/DATABASE" "$T/err" || fail "the hint shows the URL form"
grep -q "host=HOST port=PORT dbname=DATABASE" "$T/err" || fail "the hint shows the key=value form"
try "mysql://u@h/db" "neither a PostgreSQL URL nor a libpq connection string"

say "a password in the project file"
try "postgresql://u:secret@127.0.0.1/db" "holds a password"
grep -q "PGPASSWORD" "$T/err" || fail "the hint says where a password goes"
try "host=127.0.0.1 dbname=db password=secret" "holds a password"

say "nobody listens"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
try "postgresql://sluice@127.0.0.1:$port/nowhere" "127.0.0.1:$port"
grep -q "nowhere" "$T/err" || fail "the database is named"
grep -qi "refused" "$T/err" || fail "the error says the connection was refused"

say "wrong credentials"
PGPASSWORD=not-the-password try "postgresql://$SLUICE_PG_PW_USER@127.0.0.1:$SLUICE_PG_PORT/postgres" \
    "password authentication failed"
grep -q "127.0.0.1:$SLUICE_PG_PORT" "$T/err" || fail "the server is named"

say "a database that does not exist"
try "$SLUICE_TEST_PG_URL_BASE/no_such_db" "no_such_db"
grep -q "does not exist" "$T/err" || fail "the error says the database does not exist"

say "a role without rights on the database"
noperm=$(new_db_name)
pg_admin -c "CREATE DATABASE $noperm" -c "REVOKE ALL ON DATABASE $noperm FROM PUBLIC" >/dev/null
pg_admin -d "$SLUICE_TEST_PG_URL_BASE/$noperm" -c "REVOKE ALL ON SCHEMA public FROM PUBLIC" >/dev/null 2>&1 || true
try "postgresql://$SLUICE_PG_NOPERM_USER@127.0.0.1:$SLUICE_PG_PORT/$noperm" "$noperm"
grep -qi "permission" "$T/err" || fail "the error says permission is missing"

say "a catalog schema newer than this sluice"
set_catalog . "$good"
catalog_sql "UPDATE meta SET value = '99' WHERE key = 'schema_version'" >/dev/null
expect_fail "schema version 99, newer than this sluice knows (12)" sluice transform --source customers
unchanged "newer schema"
catalog_sql "UPDATE meta SET value = '12' WHERE key = 'schema_version'" >/dev/null
sluice verify >/dev/null || fail "the lake works again with its catalog"
