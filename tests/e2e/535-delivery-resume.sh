#!/bin/sh
# Work a committed delivery still owes is resumed when the server starts:
# records acknowledged and delivered just before a kill reach the curated
# table after a restart, without more data arriving and without anyone
# running `sluice transform` by hand.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
cp "$SLUICE_SRC/tests/lib/clicks.yaml" sources/clicks.yaml

say "the server dies right after a delivery's commit, before its transform"
SLUICE_FAULT=crash@delivery.after_commit start_server
py_check put_events.py clicks 0 40
i=0
while kill -0 "$SERVER_PID" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "the fault point was not reached"
    sleep 0.1
done
SERVER_PID=
expect_eq "the delivered object waits for publication" \
    "$(find lake/raw -type f 2>/dev/null | wc -l | tr -d ' ')" 0

say "restarted, it publishes the object and transforms it by itself"
SLUICE_LOG=info start_server
i=0
until [ "$(q "SELECT count(*) FROM curated.clicks" 2>/dev/null)" = 40 ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || { cat "$T/server.log"; fail "the owed transform did not run"; }
    sleep 0.1
done
grep -q "await their transform" "$T/server.log" || fail "the server did not say what it resumed"
stop_server
expect_eq "each record once" "$(q "SELECT count(DISTINCT event_id) FROM curated.clicks")" 40
sluice verify >/dev/null || fail "verify after the resumption"
