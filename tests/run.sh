#!/bin/sh
# Run every test against one or more build folders, in order:
#
#   tests/run.sh [--only PATH] BUILD_DIR[:postgres]...
#
# For each build: the unit binaries (one line per case), the fuzz corpus
# replays, and the end-to-end scripts tests/e2e/NNN-*.sh, each in a fresh
# folder with a time limit.  BUILD_DIR:postgres runs the end-to-end scripts
# again with every project's catalog in the PostgreSQL server below
# (SLUICE_TEST_CATALOG=postgres; tests/e2e/lib.sh makes a database per
# project), named <mode>-pg.  The end-to-end scripts run TEST_JOBS at a
# time (default 2, one a core; each has its own folder, ports, database
# and lake, and waits for events, not for time), reported in order.
# Prints one line per test and ends with
# "N passed, N failed" (cases that could not run here print "skip" and are
# counted apart).  Logs of failures are kept in build/test-logs/.
#
# One PostgreSQL server (tests/lib/pg.sh) runs for the whole run, for the
# catalog's PostgreSQL back end; everything run here sees its SLUICE_PG_*
# variables and SLUICE_TEST_PG_URL_BASE.  If SLUICE_TEST_PG_URL_BASE is set
# already, that server is used instead.  A server that cannot start is a
# failure (scripts/setup.sh test installs it); SLUICE_TEST_NO_PG=1 runs
# without one, the PostgreSQL cases skipping.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
only=""
if [ "${1:-}" = --only ]; then
    only=$2
    shift 2
fi
[ $# -gt 0 ] || { echo "usage: tests/run.sh [--only PATH] BUILD_DIR..." >&2; exit 2; }

pass=0
fail=0
skip=0
logs="$here/build/test-logs"
mkdir -p "$logs"

pgdir=""
if [ -z "${SLUICE_TEST_PG_URL_BASE:-}" ]; then
    . "$here/tests/lib/pg.sh"
    pgdir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX")
    trap 'pg_stop "$pgdir"' EXIT
    trap 'exit 130' INT TERM
    if [ -n "${SLUICE_TEST_NO_PG:-}" ]; then
        echo "note: SLUICE_TEST_NO_PG is set: the PostgreSQL cases skip"
        rm -rf "$pgdir"
        pgdir=""
        trap - EXIT
    elif pg_start "$pgdir" 2>"$logs/pg-start.log"; then
        echo "PostgreSQL for the tests: $SLUICE_TEST_PG_URL_BASE ($pgdir)"
    else
        echo "FAIL PostgreSQL for the tests did not start: $(tail -n 1 "$logs/pg-start.log")"
        pg_stop "$pgdir" 2>/dev/null || rm -rf "$pgdir"
        pgdir=""
        trap - EXIT
        pg_failed=1
    fi
fi
export LSAN_OPTIONS="suppressions=$here/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

jobs=${TEST_JOBS:-2}
case $jobs in
    '' | *[!0-9]* | 0) echo "tests/run.sh: TEST_JOBS must be a whole number >= 1" >&2; exit 2 ;;
esac
running=""   # the scripts under way, oldest first: "pid|name|log|start" ...

# Wait for the oldest script under way and report it.
reap() {
    first=${running%% *}
    running=${running#"$first"}
    running=${running# }
    pid=${first%%|*}
    rest=${first#*|}
    name=${rest%%|*}
    rest=${rest#*|}
    log=${rest%%|*}
    start=${rest#*|}
    if wait "$pid"; then
        ok "$name ($(( $(date +%s) - start ))s)"
    else
        bad "$name ($(( $(date +%s) - start ))s, log: $log)"
        tail -n 25 "$log" | sed 's/^/    /'
    fi
}

[ -z "${pg_failed:-}" ] || bad "PostgreSQL server for the tests (see $logs/pg-start.log)"

for arg in "$@"; do
    build=${arg%:postgres}
    catalog=sqlite
    [ "$build" = "$arg" ] || catalog=postgres
    build=$(cd "$here/$build" 2>/dev/null && pwd || echo "$build")
    mode=$(basename "$build")
    export SLUICE="$build/sluice" SLUICE_BUILD="$build" SLUICE_MODE="$mode" SLUICE_SRC="$here"
    export SLUICE_TEST_CATALOG=$catalog
    if [ $catalog = postgres ]; then
        mode="$mode-pg"
        [ -n "${SLUICE_TEST_PG_URL_BASE:-}" ] || { bad "$mode: no PostgreSQL server"; continue; }
    fi

    if [ $catalog = sqlite ] && { [ -z "$only" ] || echo "$only" | grep -q '^tests/unit'; }; then
        for bin in "$build"/tests/unit/*/test_*; do
            [ -x "$bin" ] || continue
            name="$mode/unit/$(basename "$(dirname "$bin")")/$(basename "$bin")"
            out=$(timeout 300 "$bin" 2>"$logs/unit.err"; echo "exit=$?")
            echo "$out" | while IFS= read -r line; do
                case $line in
                    "ok "*) echo "ok   $name:${line#ok }" ;;
                    "FAIL "*) echo "FAIL $name:${line#FAIL }" ;;
                    "skip "*) echo "skip $name:${line#skip }" ;;
                esac
            done
            n_ok=$(echo "$out" | grep -c '^ok ')
            n_bad=$(echo "$out" | grep -c '^FAIL ')
            n_skip=$(echo "$out" | grep -c '^skip ')
            pass=$((pass + n_ok))
            fail=$((fail + n_bad))
            skip=$((skip + n_skip))
            case $out in
                *exit=0) ;;
                *) if [ "$n_bad" = 0 ]; then
                       bad "$name: crashed ($(echo "$out" | tail -n 1))"
                       cat "$logs/unit.err" | tail -n 20
                   fi ;;
            esac
        done
    fi

    if [ $catalog = sqlite ] && { [ -z "$only" ] || echo "$only" | grep -q '^tests/fuzz'; }; then
        for bin in "$build"/tests/fuzz/*-replay; do
            [ -x "$bin" ] || continue
            target=$(basename "$bin" -replay)
            name="$mode/fuzz/$target"
            if timeout 600 "$bin" "$here/tests/fuzz/$target/corpus" >"$logs/$mode-fuzz-$target.log" 2>&1; then
                ok "$name ($(tail -n 1 "$logs/$mode-fuzz-$target.log"))"
            else
                bad "$name (see $logs/$mode-fuzz-$target.log)"
                tail -n 20 "$logs/$mode-fuzz-$target.log"
            fi
        done
    fi

    for t in "$here"/tests/e2e/[0-9]*.sh; do
        rel=${t#"$here"/}
        [ -z "$only" ] || [ "$only" = "$rel" ] || continue
        name="$mode/e2e/$(basename "$t" .sh)"
        log="$logs/$mode-$(basename "$t" .sh).log"
        timeout 900 sh "$t" >"$log" 2>&1 &
        running="${running:+$running }$!|$name|$log|$(date +%s)"
        n=$(echo "$running" | wc -w)
        [ "$n" -lt "$jobs" ] || reap
    done
    while [ -n "$running" ]; do
        reap
    done
done

[ "$skip" = 0 ] || echo "$skip skipped (see the skip lines above)"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
