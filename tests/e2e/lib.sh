# lib.sh - helpers for the end-to-end tests.  Each test is a POSIX shell
# script that sources this, works in its own fresh folder ($T) and exits 0
# on success.  $SLUICE is the binary under test; $SLUICE_SRC the checkout.
set -eu
[ -z "${SLUICE_TEST_TRACE:-}" ] || set -x

: "${SLUICE:?set SLUICE to the sluice binary}"
: "${SLUICE_SRC:?set SLUICE_SRC to the checkout}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test.XXXXXX")
PY=/usr/bin/python3

cleanup() {
    status=$?
    cd /
    if [ $status -eq 0 ]; then
        rm -rf "$T"
    else
        echo "test folder kept: $T"
    fi
}
trap cleanup EXIT

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# ---- the catalog under test ----------------------------------------------
#
# With SLUICE_TEST_CATALOG=postgres (tests/run.sh's BUILD:postgres pass)
# every project made by 'sluice init' gets a database of its own in the
# test server (tests/lib/pg.sh) as its catalog.  The suite runs the same
# either way; catalog_sql reaches whichever catalog a project has.
CATALOG=${SLUICE_TEST_CATALOG:-sqlite}
if [ "$CATALOG" = postgres ]; then
    : "${SLUICE_TEST_PG_URL_BASE:?the postgres pass needs the server of tests/lib/pg.sh}"
    . "$SLUICE_SRC/tests/lib/pg.sh"
fi

# A name for a new database of this test (the count is kept in a file:
# callers run this in a subshell).
new_db_name() {
    n=$(( $(cat "$T/.dbseq" 2>/dev/null || echo 0) + 1 ))
    echo $n > "$T/.dbseq"
    echo "t$(basename "$T" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')_$n"
}

# A new database for a project's catalog; prints its URL.
new_catalog_db() {
    pg_new_db "$(new_db_name)"
}

# psql as the test server's superuser.
pg_admin() {
    "$SLUICE_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$SLUICE_TEST_PG_URL_BASE/postgres" "$@"
}

# set_catalog DIR URL: point the project in DIR at catalog URL.
set_catalog() {
    sed -i '/^catalog:/d' "$1/sluice.yaml"
    printf 'catalog: %s\n' "$2" >> "$1/sluice.yaml"
}

# The catalog URL of the project in DIR (empty: the SQLite file).
catalog_of() {
    sed -n 's/^catalog: *//p' "$1/sluice.yaml"
}

sluice() {
    "$SLUICE" "$@" || return
    if [ "$CATALOG" = postgres ] && [ "$1" = init ] && [ $# -ge 2 ]; then
        set_catalog "$2" "$(new_catalog_db)"
    fi
}

# catalog_sql SQL: run SQL against the catalog of the project in the current
# folder and print the rows as 'a|b|c' lines.
catalog_sql() {
    url=$(catalog_of .)
    if [ -n "$url" ]; then
        "$SLUICE_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$url" -c "$1"
    else
        "$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in db.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in r))
db.commit()' lake/_catalog/catalog.db "$1"
    fi
}

# A new project from 'sluice init' in $T/p; cd into it.
new_project() {
    sluice init "$T/p" >/dev/null
    cd "$T/p"
}

# copy_project SRC DST: a copy of a project and its lake, with a catalog of
# its own (the SQLite file is in the lake; a PostgreSQL catalog is cloned
# from its database, which no process may be using).
copy_project() {
    cp -a "$1" "$2"
    from=$(catalog_of "$2")
    if [ -n "$from" ]; then
        to=$(new_db_name)
        pg_admin -c "CREATE DATABASE $to TEMPLATE ${from##*/}" >/dev/null
        set_catalog "$2" "$SLUICE_TEST_PG_URL_BASE/$to"
    fi
}

# remove_project DIR: the project in DIR, its lake and its catalog, gone.
remove_project() {
    [ -e "$1/sluice.yaml" ] || { rm -rf "$1"; return 0; }
    db=$(catalog_of "$1")
    rm -rf "$1"
    [ -z "$db" ] || pg_admin -c "DROP DATABASE IF EXISTS ${db##*/} WITH (FORCE)" >/dev/null
}

# Write a source file: write_source NAME <<EOF ... EOF
write_source() {
    mkdir -p sources
    cat > "sources/$1.yaml"
}

# expect_fail SUBSTRING CMD...: CMD must exit non-zero and say SUBSTRING on
# stderr.
expect_fail() {
    want=$1
    shift
    if "$@" >"$T/out" 2>"$T/err"; then
        cat "$T/out"
        fail "expected failure of: $*"
    fi
    if ! grep -qF -- "$want" "$T/err"; then
        cat "$T/err" >&2
        fail "expected '$want' in the error of: $*"
    fi
    cat "$T/err"
}

# q SQL: the query's rows as CSV without the header.
q() {
    sluice query --format csv "$1" | tail -n +2
}

# expect_eq WHAT GOT WANT
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; returns 1
# if it has not after SECONDS (wall clock).  A test waits for the event it
# needs with this, never for a fixed time: on a busy machine anything may
# take many times longer than usual, so SECONDS is a generous bound that
# only a broken program reaches.
wait_for() {
    wf_end=$(( $(date +%s) + $1 ))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$wf_end" ] || return 1
        sleep 0.1
    done
}

# A fingerprint of the lake's visible state: catalog tables, bookmarks and
# every curated row, for comparing two runs.
lake_state() {
    sluice query --format csv "SELECT * EXCLUDE (_ingested_at) FROM curated.$1 ORDER BY ALL"
    sluice runs --limit 0 | awk 'NR > 1 {print $3, $4, $5, $6, $7, $8, $9}'
}

# sluice_as_nobody ARGS...: sluice run as user nobody (for refusals that
# root would not meet).  A checkout in a folder nobody may not enter (a
# clone in a mktemp -d folder, say) hides the binary and DuckDB from it:
# then both are copied to a folder of the test's that nobody can read.
sluice_as_nobody() {
    bin=$SLUICE
    if ! setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --version >/dev/null 2>&1; then
        nb="$T/nobody-bin"
        if [ ! -x "$nb/sluice" ]; then
            mkdir -p "$nb"
            cp "$SLUICE" "$nb/sluice"
            cp "$(ldd "$SLUICE" | sed -n 's/.*libduckdb.so => \(.*\) (.*/\1/p')" "$nb/"
            chmod -R a+rX "$nb"
            chmod a+x "$T"
        fi
        bin="$nb/sluice"
    fi
    LD_LIBRARY_PATH="$T/nobody-bin" setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" "$@"
}

# ---- the server ----------------------------------------------------------

# Throw-away credentials and region for the AWS clients, and no user config.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= \
    AWS_EC2_METADATA_DISABLED=true

# start_server [ARGS...]: sluice serve on a free loopback port, in the
# background; sets SERVER_PID, ADDR (host:port) and URL.  Its output goes to
# $T/server.log.  The cleanup trap stops it.
start_server() {
    : > "$T/server.log"
    "$SLUICE" serve --listen 127.0.0.1:0 "$@" >"$T/server.log" 2>&1 &
    SERVER_PID=$!
    ss_end=$(( $(date +%s) + 60 ))
    while ! grep -q 'listening on' "$T/server.log"; do
        if [ "$(date +%s)" -ge "$ss_end" ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$T/server.log"
            fail "the server did not start"
        fi
        sleep 0.05
    done
    URL=$(sed -n 's|.*listening on \(https\{0,1\}://[^ ]*\).*|\1|p' "$T/server.log" | head -n 1)
    ADDR=${URL#*://}
    trap 'st=$?; stop_server_quietly; set +e; (exit $st); cleanup' EXIT
}

stop_server_quietly() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

# stop_server: SIGTERM, wait, and check it stopped cleanly.
stop_server() {
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || fail "the server exited with status $?"
    SERVER_PID=
}

# kill_server: SIGKILL, no goodbye.
kill_server() {
    kill -KILL "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# ---- several servers (nodes) on one project ------------------------------

# start_node NAME [ARGS...]: one of several `sluice serve` processes on the
# project, each on its own free loopback port, in the background; sets
# NAME_pid and NAME_url (NAME: letters, digits, _).  Its output goes to
# $T/NAME.log (appended to, so a restarted node keeps its history).  The
# cleanup trap stops every node.  launch_node starts one without waiting
# for it (to start several at once); await_node waits for it.
NODES=
start_node() {
    launch_node "$@"
    await_node "$1"
}

launch_node() {
    _n=$1
    shift
    touch "$T/$_n.log"
    eval "${_n}_from=$(($(wc -l < "$T/$_n.log") + 1))"
    "$SLUICE" serve --listen 127.0.0.1:0 "$@" >>"$T/$_n.log" 2>&1 &
    eval "${_n}_pid=$!"
    case " $NODES " in *" $_n "*) ;; *) NODES="$NODES $_n" ;; esac
    trap 'st=$?; stop_nodes_quietly; stop_server_quietly; set +e; (exit $st); cleanup' EXIT
}

await_node() {
    _n=$1
    _log="$T/$_n.log"
    _pid=$(node_pid "$_n")
    eval "_from=\$${_n}_from"
    _i=0
    while ! tail -n +"$_from" "$_log" | grep -q 'listening on'; do
        _i=$((_i + 1))
        if [ $_i -gt 600 ] || ! kill -0 "$_pid" 2>/dev/null; then
            cat "$_log"
            fail "node $_n did not start"
        fi
        sleep 0.05
    done
    _url=$(tail -n +"$_from" "$_log" |
           sed -n 's|.*listening on \(https\{0,1\}://[^ ]*\).*|\1|p' | head -n 1)
    eval "${_n}_url=$_url"
}

# node_pid NAME: the pid of a running node, or nothing.
node_pid() { eval "printf '%s' \"\${${1}_pid:-}\""; }

stop_nodes_quietly() {
    for _n in $NODES; do
        _p=$(node_pid "$_n")
        if [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; then
            kill -CONT "$_p" 2>/dev/null || true
            kill -TERM "$_p" 2>/dev/null || true
            wait "$_p" 2>/dev/null || true
        fi
        eval "${_n}_pid="
    done
}

# stop_node NAME: SIGTERM, wait, and check it stopped cleanly.
stop_node() {
    _p=$(node_pid "$1")
    kill -TERM "$_p"
    wait "$_p" || fail "node $1 exited with status $?"
    eval "${1}_pid="
}

# kill_node NAME: SIGKILL, no goodbye.
kill_node() {
    _p=$(node_pid "$1")
    kill -KILL "$_p"
    wait "$_p" 2>/dev/null || true
    eval "${1}_pid="
}

# metric URL NAME{LABELS}: the value of one line of URL's /metrics, or
# nothing.
metric() {
    curl -sf --max-time 10 "$1/metrics" 2>/dev/null |
        awk -v k="$2" '$1 == k { print $2; exit }'
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fail
# after SECONDS.
wait_until() {
    _limit=$1
    shift
    _i=0
    until "$@"; do
        _i=$((_i + 1))
        [ $_i -lt $((_limit * 10)) ] || return 1
        sleep 0.1
    done
}

# The AWS CLI v2 (Debian's /usr/bin/aws: another aws first on PATH may be
# v1, which encodes blobs differently) against the server, with throw-away credentials and no
# retries (so an error is seen as it is).
awsk() {
    AWS_MAX_ATTEMPTS=1 /usr/bin/aws --endpoint-url "$URL" --output json "$@"
}

# py_check SCRIPT ARGS...: a Python test script from tests/lib with the
# server's URL, run by Debian's python (boto3, cbor2).
py_check() {
    script=$1
    shift
    SLUICE_URL="$URL" "$PY" "$SLUICE_SRC/tests/lib/$script" "$@"
}

# ---- Iceberg tables -------------------------------------------------------

# metadata_of TABLE: the current metadata file of curated.TABLE or NS.TABLE (the
# catalog's iceberg_tables row), as a local path.
metadata_of() {
    case "$1" in
    *.*) mo_ns=${1%%.*} mo_t=${1#*.} ;;
    *) mo_ns=curated mo_t=$1 ;;
    esac
    loc=$(catalog_sql "SELECT metadata_location FROM iceberg_tables
        WHERE catalog_name = 'sluice' AND table_namespace = '$mo_ns' AND table_name = '$mo_t'")
    case "$loc" in
    file://*) printf '%s\n' "${loc#file://}" ;;
    *) fail "$mo_ns.$mo_t has no Iceberg metadata location (got '$loc')" ;;
    esac
}

# conform TABLE: curated.TABLE (or NS.TABLE) read by icebird (an npm
# Iceberg reader, position deletes applied) holds exactly sluice query's
# rows, and its Avro metadata is the spec's.
conform() {
    case "$1" in
    *.*) cf_table=$1 ;;
    *) cf_table=curated.$1 ;;
    esac
    _lib="$SLUICE_SRC/tests/lib"
    _meta=$(metadata_of "$cf_table")
    [ -f "$_meta" ] || fail "the metadata file $_meta is missing"
    NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules" \
        node "$_lib/iceberg_read.mjs" "$_meta" >"$T/ice.jsonl" 2>"$T/ice.err" </dev/null ||
        { cat "$T/ice.err"; fail "icebird cannot read $cf_table"; }
    sluice query --format jsonl "SELECT * FROM $cf_table" >"$T/sluice.jsonl"
    "$PY" "$_lib/iceberg_compare.py" "$T/ice.jsonl" "$T/sluice.jsonl" ||
        fail "icebird reads $cf_table otherwise than sluice query"
    "$PY" "$_lib/iceberg_avro_check.py" "$_meta" >"$T/avro.out" 2>&1 ||
        { cat "$T/avro.out"; fail "the Avro metadata of $cf_table is not the spec's"; }
}

# write_shop_orders: sources/orders.yaml of the gold model tests, a shop's
# orders: order_id (the key), customer, amount decimal(10,2), ordered_at
# (the event time).
write_shop_orders() {
    write_source orders <<'YAML'
system: shop
contracts:
  - version: "1.0"
    key: [order_id]
    event_time: ordered_at
    columns:
      - {name: order_id, type: int64, required: true}
      - {name: customer, type: string, required: true}
      - {name: amount, type: "decimal(10,2)"}
      - {name: ordered_at, type: timestamp, required: true}
YAML
}

# check_partitions TABLE (NS.NAME, or NAME of curated): every live data
# file's partition values are its rows' under every field of its spec, by
# tests/lib/iceberg_buckets.py (the transforms computed in Python from the
# spec, the manifests read with python3-avro, the rows with hyparquet); its
# summary to stdout.
check_partitions() {
    case "$1" in
    *.*) cp_table=$1 ;;
    *) cp_table=curated.$1 ;;
    esac
    _lib="$SLUICE_SRC/tests/lib"
    _meta=$(metadata_of "$cp_table")
    "$PY" "$_lib/iceberg_entries.py" "$_meta" >"$T/entries.jsonl" 2>/dev/null ||
        fail "python3-avro cannot read the manifests of $cp_table"
    "$PY" -c 'import json, sys
for e in map(json.loads, open(sys.argv[1])):
    if e["status"] != 2 and e["content"] == 0:
        print(e["path"].removeprefix("file://"))' "$T/entries.jsonl" >"$T/live"
    NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules" \
        node "$_lib/read_parquet.mjs" $(cat "$T/live") >"$T/rows.jsonl" 2>"$T/rows.err" \
        </dev/null || { cat "$T/rows.err"; fail "hyparquet cannot read $cp_table"; }
    "$PY" "$_lib/iceberg_buckets.py" "$_meta" "$T/entries.jsonl" "$T/rows.jsonl" ||
        fail "$cp_table: a file's partition is not its rows'"
}
