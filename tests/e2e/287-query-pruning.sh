#!/bin/sh
# 287-query-pruning.sh - sluice query reads only the files a filter on the
# event time can need, and --explain says which.
#
# A lake of orders over the 31 days of October 2026 (a day partition each),
# updated twice so position-delete files exist.  For each query, --explain's
# counts of data and delete files read against those in the table must be
# what tests/lib/iceberg_prune_expect.py works out from the manifests on
# its own (python3-avro) for the event times the filter allows, and the
# query's rows, sorted, must be those of the same query with --no-prune and
# of one whose filter hides the column in a function (so no pruning is
# possible either way).  Then the edges that must not prune (OR with
# another column, a table named without a filter, ASOF joins, table
# functions), --as-of, a date event time partitioned by month and an
# unpartitioned table.
. "$SLUICE_SRC/tests/e2e/lib.sh"

LIB="$SLUICE_SRC/tests/lib"

# The counts line of --explain for curated.TABLE.
explained() { # TABLE SQL [--as-of X]
    _t=$1
    shift
    sluice query --explain "$@" | sed -n "s/^curated\.$_t: //p"
}

# files TABLE[@SNAPSHOT] COLUMN RANGE...: what the manifests say a filter
# allowing RANGEs keeps.
files() {
    _t=${1%@*}
    _m=$(metadata_of "$_t")
    case "$1" in *@*) _m="$_m@${1#*@}" ;; esac
    shift
    "$PY" "$LIB/iceberg_prune_expect.py" "$_m" "$@"
}

# same SQL [OPTIONS]: the rows of SQL equal those with --no-prune; prints
# how many there are.
same() {
    _q=$1
    shift
    sluice query --format csv "$@" "$_q" | sort > "$T/pruned.csv"
    sluice query --format csv --no-prune "$@" "$_q" | sort > "$T/whole.csv"
    cmp -s "$T/pruned.csv" "$T/whole.csv" ||
        { diff "$T/pruned.csv" "$T/whole.csv" | head; fail "pruning changed the rows of: $_q"; }
    echo $(($(wc -l < "$T/pruned.csv") - 1))
}

# check SQL UNPRUNABLE_SQL RANGE...: --explain reads what the manifests
# say, fewer files than the table has, and SQL gives the rows of --no-prune
# and of UNPRUNABLE_SQL (the same filter through a function).
check() {
    _q=$1 _u=$2
    shift 2
    _got=$(explained orders "$_q")
    _want=$(files orders ordered_at "$@")
    expect_eq "files read by: $_q" "$_got" "$_want"
    case "$_got" in
    "data files "*" of "*) ;;
    *) fail "no counts for: $_q" ;;
    esac
    set -- $(echo "$_got" | tr -d ,)
    [ "$3" -lt "$5" ] || fail "nothing pruned for: $_q ($_got)"
    _n=$(same "$_q")
    sluice query --format csv "$_u" | sort > "$T/func.csv"
    cmp -s "$T/pruned.csv" "$T/func.csv" || fail "rows differ from the unprunable: $_u"
    say "  $_got; $_n rows"
}

$PY "$SLUICE_SRC/bench/gen_orders.py" base 6000 "$T/base.jsonl"
# Orders exactly at a midnight and at a day's last microsecond.
cat >> "$T/base.jsonl" <<'EOF'
{"order_id":"O900000000","customer_id":"C0000001","status":"new","amount":1.00,"qty":1,"ordered_at":"2026-10-03T00:00:00Z"}
{"order_id":"O900000001","customer_id":"C0000001","status":"new","amount":2.00,"qty":1,"ordered_at":"2026-10-29T23:59:59.999999Z"}
EOF
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 3000 6000 "$T/d1.jsonl"
$PY "$SLUICE_SRC/bench/gen_orders.py" delta 2500 6000 "$T/d2.jsonl"

new_project
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
for f in base d1 d2; do
    # The lake moves before the last run: its deletes name files written
    # before by URIs of the new place, the manifests by those of the old.
    if [ $f = d2 ]; then
        copy_project "$T/p" "$T/moved"
        remove_project "$T/p"
        cd "$T/moved"
    fi
    sluice ingest --source orders "$T/$f.jsonl" >/dev/null
    sluice transform --source orders >/dev/null
done
first=$(sluice snapshots --json curated.orders | head -n 1 |
        "$PY" -c 'import json, sys; print(json.load(sys.stdin)["snapshot_id"])')
all=$(explained orders "SELECT * FROM curated.orders")
case "$all" in
"data files "*" of "*", delete files "*" of "*) ;;
*) fail "--explain of a whole read says '$all'" ;;
esac
set -- $(echo "$all" | tr -d ,)
ndata=$5 ndel=${10}
[ "$3" = "$5" ] && [ "$8" = "${10}" ] || fail "a whole read is not every file: $all"
[ "$ndel" -gt 0 ] || fail "the lake has no delete files to prune"
[ "$ndata" -gt 31 ] || fail "the lake has only $ndata data files"
say "the table: $all"

say "a range inside one day"
check "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05 06:00' AND ordered_at < '2026-10-05 18:00'" \
      "SELECT * FROM curated.orders WHERE ordered_at + INTERVAL 0 SECOND >= '2026-10-05 06:00' AND ordered_at + INTERVAL 0 SECOND < '2026-10-05 18:00'" \
      2026-10-05T06:00:00Z..2026-10-05T17:59:59.999999Z

say "a range across days, BETWEEN with typed ends"
check "SELECT * FROM curated.orders WHERE ordered_at BETWEEN TIMESTAMP '2026-10-07 12:00' AND DATE '2026-10-10'" \
      "SELECT * FROM curated.orders WHERE epoch_us(ordered_at) BETWEEN epoch_us(TIMESTAMP '2026-10-07 12:00') AND epoch_us(DATE '2026-10-10')" \
      2026-10-07T12:00:00Z..2026-10-10T00:00:00Z

say "exactly at midnight: < excludes the day, <= takes its first microsecond"
check "SELECT * FROM curated.orders WHERE ordered_at < '2026-10-03'" \
      "SELECT * FROM curated.orders WHERE epoch_us(ordered_at) < epoch_us(TIMESTAMPTZ '2026-10-03')" \
      min..2026-10-02T23:59:59.999999Z
check "SELECT * FROM curated.orders WHERE ordered_at <= '2026-10-03'" \
      "SELECT * FROM curated.orders WHERE epoch_us(ordered_at) <= epoch_us(TIMESTAMPTZ '2026-10-03')" \
      min..2026-10-03T00:00:00Z
check "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-29' AND ordered_at < '2026-10-30'" \
      "SELECT * FROM curated.orders WHERE CAST(ordered_at AS DATE) = DATE '2026-10-29'" \
      2026-10-29T00:00:00Z..2026-10-29T23:59:59.999999Z
expect_eq "the last microsecond" \
    "$(q "SELECT order_id FROM curated.orders WHERE ordered_at > '2026-10-29 23:59:59.999998' AND ordered_at < '2026-10-30'")" \
    O900000001
expect_eq "midnight" "$(q "SELECT order_id FROM curated.orders WHERE ordered_at = '2026-10-03'")" O900000000
expect_eq "before midnight" \
    "$(q "SELECT count(*) FROM curated.orders WHERE ordered_at = '2026-10-03' AND ordered_at < '2026-10-03'")" 0

say "= and IN on event times that exist, the operands reversed, a zone"
t1=$(q "SELECT strftime(min(ordered_at), '%Y-%m-%dT%H:%M:%SZ') FROM curated.orders WHERE ordered_at >= '2026-10-12'")
t2=$(q "SELECT strftime(max(ordered_at), '%Y-%m-%dT%H:%M:%SZ') FROM curated.orders WHERE ordered_at < '2026-10-20'")
check "SELECT * FROM curated.orders WHERE ordered_at = '$t1'" \
      "SELECT * FROM curated.orders WHERE strftime(ordered_at, '%Y-%m-%dT%H:%M:%SZ') = '$t1'" \
      "$t1..$t1"
check "SELECT * FROM curated.orders WHERE ordered_at IN ('$t1', TIMESTAMPTZ '$t2')" \
      "SELECT * FROM curated.orders WHERE strftime(ordered_at, '%Y-%m-%dT%H:%M:%SZ') IN ('$t1', '$t2')" \
      "$t1..$t1" "$t2..$t2"
check "SELECT * FROM curated.orders WHERE '2026-10-25' <= ordered_at" \
      "SELECT * FROM curated.orders WHERE '2026-10-25' <= ordered_at + INTERVAL 0 SECOND" \
      2026-10-25T00:00:00Z..max
check "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-14 22:00:00-02:00' AND ordered_at < '2026-10-15 12:00:00+10:00'" \
      "SELECT * FROM curated.orders WHERE ordered_at + INTERVAL 0 SECOND >= '2026-10-15 00:00:00Z' AND ordered_at + INTERVAL 0 SECOND < '2026-10-15 02:00:00Z'" \
      2026-10-15T00:00:00Z..2026-10-15T01:59:59.999999Z

say "OR of ranges of the column; other conditions beside"
check "SELECT * FROM curated.orders WHERE (ordered_at < '2026-10-02' OR ordered_at >= '2026-10-31') AND status <> 'cancelled'" \
      "SELECT * FROM curated.orders WHERE (day(ordered_at) < 2 OR day(ordered_at) >= 31) AND status <> 'cancelled'" \
      min..2026-10-01T23:59:59.999999Z 2026-10-31T00:00:00Z..max

say "aggregates, a join, a subquery"
check "SELECT status, count(*), sum(amount) FROM curated.orders WHERE ordered_at BETWEEN '2026-10-08' AND '2026-10-09' GROUP BY status" \
      "SELECT status, count(*), sum(amount) FROM curated.orders WHERE ordered_at::DATE BETWEEN '2026-10-08' AND '2026-10-09' AND ordered_at <= TIMESTAMPTZ '2026-10-09' GROUP BY status" \
      2026-10-08T00:00:00Z..2026-10-09T00:00:00Z
check "SELECT a.order_id, b.status FROM curated.orders a JOIN curated.orders b ON a.customer_id = b.customer_id WHERE a.ordered_at >= '2026-10-20' AND b.ordered_at < '2026-10-03'" \
      "SELECT a.order_id, b.status FROM curated.orders a JOIN curated.orders b ON a.customer_id = b.customer_id WHERE day(a.ordered_at) >= 20 AND day(b.ordered_at) < 3" \
      min..2026-10-02T23:59:59.999999Z 2026-10-20T00:00:00Z..max
check "SELECT count(*), max(amount) FROM (SELECT * FROM curated.orders WHERE ordered_at > '2026-10-30 12:00') t" \
      "SELECT count(*), max(amount) FROM (SELECT * FROM curated.orders WHERE ordered_at + INTERVAL 0 SECOND > '2026-10-30 12:00') t" \
      2026-10-30T12:00:00.000001Z..max
check "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-16' AND ordered_at < '2026-10-17' AND qty IN (SELECT qty + 1 FROM curated.orders WHERE ordered_at < '2026-10-16' AND ordered_at >= '2026-10-15' AND status = 'returned')" \
      "SELECT * FROM curated.orders WHERE day(ordered_at) = 16 AND qty IN (SELECT qty + 1 FROM curated.orders WHERE day(ordered_at) = 15 AND status = 'returned')" \
      2026-10-15T00:00:00Z..2026-10-16T23:59:59.999999Z

say "a filter no row passes reads no file"
expect_eq "none" "$(explained orders "SELECT * FROM curated.orders WHERE ordered_at > '2026-12-01'" | head -n 1)" \
    "data files 0 of $ndata, delete files 0 of $ndel"
expect_eq "no rows" "$(same "SELECT * FROM curated.orders WHERE ordered_at > '2026-12-01'")" 0
expect_eq "count of none" "$(q "SELECT count(*), sum(amount) FROM curated.orders WHERE ordered_at > '2026-12-01'")" "0,"

say "no pruning: OR with another column, a reference without a filter, ASOF, query_table"
for sql in \
    "SELECT * FROM curated.orders WHERE ordered_at < '2026-10-02' OR status = 'new'" \
    "SELECT * FROM curated.orders WHERE date_trunc('day', ordered_at) = '2026-10-05'" \
    "SELECT a.* FROM curated.orders a JOIN curated.orders b USING (order_id) WHERE a.ordered_at < '2026-10-02'" \
    "SELECT * FROM (SELECT * FROM curated.orders) t WHERE ordered_at < '2026-10-02'" \
    "SELECT a.order_id, b.order_id FROM (SELECT * FROM curated.orders WHERE ordered_at < '2026-10-02') a ASOF JOIN curated.orders b ON a.ordered_at >= b.ordered_at WHERE b.ordered_at < '2026-10-02'" \
    "SELECT * FROM query_table('curated.orders') WHERE ordered_at < '2026-10-02'"; do
    explained orders "$sql" > "$T/x"
    expect_eq "whole read: $sql" "$(cat "$T/x")" "$all"
    n=$(same "$sql")
    [ "$n" -gt 0 ] || fail "no rows from: $sql"
done
sluice query --explain "SELECT * FROM curated.orders WHERE ordered_at < '2026-10-02' OR status = 'new'" > "$T/why"
grep -q "not pruned: curated.orders is read without a filter on ordered_at" "$T/why" ||
    { cat "$T/why"; fail "--explain does not say why"; }

say "--explain prints the event times used and does not run the query"
sluice query --explain "SELECT error('ran') FROM curated.orders WHERE ordered_at >= '2026-10-05' AND ordered_at < '2026-10-07 12:00'" > "$T/ex"
cat "$T/ex"
grep -q "^  pruned to: ordered_at >= 2026-10-05T00:00:00Z AND ordered_at < 2026-10-07T12:00:00Z$" "$T/ex" ||
    fail "--explain does not print the range"
expect_eq "a query of no table" "$(sluice query --explain "SELECT 42")" "the query reads no curated table"
expect_fail "syntax error" sluice query --explain "SELEC 1"
expect_fail "syntax error" sluice query "SELEC 1"

say "--as-of: the snapshot's own manifests"
got=$(explained orders "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-10' AND ordered_at < '2026-10-12'" --as-of "$first")
expect_eq "as of the first snapshot" "$got" \
    "$(files "orders@$first" ordered_at 2026-10-10T00:00:00Z..2026-10-11T23:59:59.999999Z)"
case "$got" in *", delete files 0 of 0") ;; *) fail "the first snapshot has delete files: $got" ;; esac
n=$(same "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-10' AND ordered_at < '2026-10-12'" --as-of "$first")
[ "$n" -gt 0 ] || fail "no rows as of the first snapshot"
expect_eq "as of the first snapshot, by a function" "$n" \
    "$(sluice query --as-of "$first" --format csv "SELECT count(*) FROM curated.orders WHERE day(ordered_at) IN (10, 11)" | tail -n 1)"

say "after compaction (a replace snapshot of rewritten files)"
sluice compact curated.orders >/dev/null
check "SELECT * FROM curated.orders WHERE ordered_at >= '2026-10-05 06:00' AND ordered_at < '2026-10-07'" \
      "SELECT * FROM curated.orders WHERE ordered_at + INTERVAL 0 SECOND >= '2026-10-05 06:00' AND ordered_at + INTERVAL 0 SECOND < '2026-10-07'" \
      2026-10-05T06:00:00Z..2026-10-06T23:59:59.999999Z

say "a date event time partitioned by month; an unpartitioned table"
# contract COLUMN TYPE PARTITION: a contract keyed by id, event time COLUMN.
contract() {
    printf 'system: crm\ncontracts:\n  - version: "1.0"\n    key: [id]\n'
    printf '    event_time: %s\n    partition_by: %s\n    columns:\n' "$1" "$3"
    printf '      - {name: id, type: int64, required: true}\n      - {name: v, type: string}\n'
    printf '      - {name: %s, type: %s, required: true}\n' "$1" "$2"
}
contract d date month | write_source dated
contract at timestamp none | write_source flat
# Three loads of 200 days each, a third of them updating earlier rows.
for k in 0 1 2; do
    for s in dated flat; do
        "$PY" -c 'import sys, datetime
k, dated = int(sys.argv[1]), sys.argv[2] == "dated"
for i in range(300):
    key = i + 300 * k if i % 3 else i
    d = datetime.date(2020, 1, 1) + datetime.timedelta(days=(i * 200) // 300 + 100 * k)
    when = ("\"d\": \"%s\"" % d) if dated else ("\"at\": \"%sT%02d:00:00Z\"" % (d, i % 24))
    print("{\"id\": %d, \"v\": \"r%d-%d\", %s}" % (key, k, i, when))' $k $s > "$T/$s$k.jsonl"
        sluice ingest --source $s "$T/$s$k.jsonl" >/dev/null
        sluice transform --source $s >/dev/null
    done
done
expect_eq "dated rows" "$(q "SELECT count(*) FROM curated.dated")" 700
got=$(explained dated "SELECT * FROM curated.dated WHERE d >= '2020-06-01' AND d < DATE '2020-07-01'")
expect_eq "dated: June" "$got" "$(files dated d 2020-06-01..2020-06-30)"
set -- $(echo "$got" | tr -d ,)
[ "$3" -lt "$5" ] || fail "dated: nothing pruned ($got)"
n=$(same "SELECT * FROM curated.dated WHERE d >= '2020-06-01' AND d < DATE '2020-07-01'")
expect_eq "dated: June's rows" "$n" \
    "$(q "SELECT count(*) FROM curated.dated WHERE month(d) = 6 AND year(d) = 2020")"
# A timestamp compares with the date's midnight: 2020-06-30 10:00 leaves July.
got=$(explained dated "SELECT * FROM curated.dated WHERE d > TIMESTAMP '2020-06-30 10:00'")
expect_eq "dated: after a time" "$got" "$(files dated d 2020-07-01..max)"
n=$(same "SELECT * FROM curated.dated WHERE d > TIMESTAMP '2020-06-30 10:00'")
expect_eq "dated: rows after a time" "$n" "$(q "SELECT count(*) FROM curated.dated WHERE d >= DATE '2020-07-01'")"
# "at" is a keyword of DuckDB's (time travel), quoted as a column.
got=$(explained flat "SELECT * FROM curated.flat WHERE \"at\" >= '2020-11-01'")
expect_eq "flat: by bounds alone" "$got" "$(files flat at 2020-11-01T00:00:00Z..max)"
set -- $(echo "$got" | tr -d ,)
[ "$3" -lt "$5" ] || fail "flat: nothing pruned ($got)"
n=$(same "SELECT * FROM curated.flat WHERE \"at\" >= '2020-11-01'")
expect_eq "flat: rows" "$n" "$(q "SELECT count(*) FROM curated.flat WHERE year(\"at\") * 100 + month(\"at\") >= 202011")"
sluice verify >/dev/null || fail "verify"
