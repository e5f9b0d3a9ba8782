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

sluice() { "$SLUICE" "$@"; }

# A new project from 'sluice init' in $T/p; cd into it.
new_project() {
    sluice init "$T/p" >/dev/null
    cd "$T/p"
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
    trap 'st=$?; stop_server_quietly; (exit $st); cleanup' EXIT
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
