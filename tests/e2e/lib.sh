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

# A fingerprint of the lake's visible state: catalog tables, bookmarks and
# every curated row, for comparing two runs.
lake_state() {
    sluice query --format csv "SELECT * EXCLUDE (_ingested_at) FROM curated.$1 ORDER BY ALL"
    sluice runs --limit 0 | awk 'NR > 1 {print $3, $4, $5, $6, $7, $8, $9}'
}
