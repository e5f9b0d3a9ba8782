#!/bin/sh
# 325-schema-drift.sh - schema drift: records that carry fields their
# contract does not declare, or lack required ones, reported per field
# with counts and an example by sluice ingest (before anything reaches
# curated), by sluice transform after the run's account, and from the
# catalog's record by sluice runs --drift; the account still balances and
# curated holds the contract's columns only.
#
# The files are written here in Python, which also works out every
# expected line (counts, first positions, example values as written,
# object ids from the SHA-256 of the bytes) from the rows it wrote.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source orders <<'YAML'
system: shop
contracts:
  - version: "1.0"
    key: [order_id]
    event_time: ordered_at
    unknown_fields: ignore
    columns:
      - {name: order_id, type: int64, required: true}
      - {name: customer, type: string, required: true}
      - {name: amount, type: "decimal(10,2)"}
      - {name: ordered_at, type: timestamp, required: true}
YAML
write_source strict <<'YAML'
system: shop
contracts:
  - version: "2.1"
    key: [order_id]
    event_time: ordered_at
    columns:
      - {name: order_id, type: int64, required: true}
      - {name: ordered_at, type: timestamp, required: true}
YAML

"$PY" - "$T" <<'PY'
import hashlib, json, sys
t = sys.argv[1]

def num(n):
    return "{:,}".format(n)

def jsonl(path, first_id, n, shape):
    """Write n orders from first_id, shaped by shape(i, rec); the drift found."""
    found = {}      # (kind, field) -> [records, first line, example]
    bad = 0
    with open(path, "w") as f:
        for i in range(n):
            oid = first_id + i
            r = {"order_id": oid, "customer": "c%d" % (oid % 17),
                 "amount": "%d.%02d" % (oid % 100, oid % 7),
                 "ordered_at": "2026-11-%02dT08:00:00Z" % (1 + oid % 28)}
            shape(oid, r)
            line = json.dumps(r)
            f.write(line + "\n")
            for k, v in r.items():
                if k not in ("order_id", "customer", "amount", "ordered_at"):
                    e = found.setdefault(("unknown", k), [0, i + 1, json.dumps(v)])
                    e[0] += 1
            lacks = [k for k in ("order_id", "customer", "ordered_at") if k not in r]
            for k in lacks:
                e = found.setdefault(("missing", k), [0, i + 1, None])
                e[0] += 1
            bad += 1 if lacks else 0
    return found, bad

def shape1(oid, r):
    if oid % 7 == 0:
        r["coupon"] = "SPRING%d" % oid
    if oid % 11 == 0:
        r["gift"] = {"wrap": True, "note": {"from": "x", "deep": [1, {"y": 2}]}}
    if oid % 13 == 0:
        del r["customer"]
    if oid % 29 == 0:
        del r["ordered_at"]
    if oid % 31 == 0:
        r["z_long"] = "v" * 150

def shape2(oid, r):
    if oid % 5 == 0:
        r["coupon"] = "AUTUMN%d" % oid
    if oid % 37 == 0:
        del r["customer"]

def csv(path, first_id, n):
    with open(path, "w") as f:
        f.write("order_id,customer,amount,ordered_at,channel\n")
        for i in range(n):
            oid = first_id + i
            f.write("%d,c%d,%d.00,2026-11-%02dT09:00:00Z,%s\n"
                    % (oid, oid % 17, oid % 50, 1 + oid % 28,
                       '"web, ""beta"""' if i == 0 else ("app" if oid % 2 else "")))
    # The first row's channel, as a JSON string.
    return {("unknown", "channel"): [n, 2, json.dumps('web, "beta"')]}, 0

files = [("orders.jsonl",) + jsonl(t + "/orders.jsonl", 1, 3000, shape1),
         ("more.jsonl",) + jsonl(t + "/more.jsonl", 5001, 700, shape2),
         ("orders.csv",) + csv(t + "/orders.csv", 9001, 400)]
records = 3000 + 700 + 400

def oid_of(name):
    return hashlib.sha256(open(t + "/" + name, "rb").read()).hexdigest()[:32]

def order(item):
    (kind, field), _ = item
    return (0 if kind == "unknown" else 1, field.encode())

def line(kind, field, n, where, example, objects=1):
    s = "  drift: %s record%s" % (num(n), "" if n == 1 else "s")
    if objects > 1:
        s += " in %d objects" % objects
    if kind == "unknown":
        s += " %s '%s' (not in contract orders 1.0)" % ("carries" if n == 1 else "carry", field)
    else:
        s += " %s required '%s'" % ("lacks" if n == 1 else "lack", field)
    s += ", e.g. line %s" % where
    if example is not None:
        if len(example) > 100:
            example = example[:100] + "..."
        s += ": " + example
    return s

# What ingest prints under each file.
with open(t + "/want-ingest", "w") as out:
    for name, found, _ in files:
        for (kind, field), (n, first, ex) in sorted(found.items(), key=order):
            out.write(line(kind, field, n, first, ex) + "\n")

# What the transform prints (and runs --drift): per field over the objects.
total = {}
for name, found, _ in files:
    for key, (n, first, ex) in found.items():
        e = total.setdefault(key, [0, "%d of %s" % (first, oid_of(name)), ex, 0])
        e[0] += n
        e[3] += 1
with open(t + "/want-run", "w") as out:
    for (kind, field), (n, where, ex, objs) in sorted(total.items(), key=order):
        out.write(line(kind, field, n, where, ex, objs) + "\n")

# The catalog's rows: per object, field and kind.
with open(t + "/want-rows", "w") as out:
    rows = []
    for name, found, _ in files:
        for (kind, field), (n, first, ex) in found.items():
            rows.append("%s|%s|%s|%d|%d|%s" % (oid_of(name), field, kind, n, first,
                                               "" if ex is None else
                                               (ex if len(ex) <= 100 else ex[:100] + "...")))
    out.write("\n".join(sorted(rows)) + "\n")

quarantined = sum(bad for _, _, bad in files)
json.dump({"records": records, "quarantined": quarantined,
           "written": records - quarantined}, open(t + "/want.json", "w"))
PY
want() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$T/want.json" "$1"; }

say "ingest reports each file's drift before it lands"
sluice ingest --source orders "$T/orders.jsonl" "$T/more.jsonl" "$T/orders.csv" >"$T/ingest.out"
cat "$T/ingest.out"
grep '^  drift:' "$T/ingest.out" >"$T/got-ingest" || true
diff -u "$T/want-ingest" "$T/got-ingest" || fail "ingest's drift lines"
# Each file's lines come under its own 'landed' line.
awk '/^landed/ {f = $2} /^  drift:/ {print f}' "$T/ingest.out" | uniq >"$T/order"
printf '%s\n' "$T/orders.jsonl" "$T/more.jsonl" "$T/orders.csv" | diff -u - "$T/order" ||
    fail "drift lines under their files"
expect_eq "nothing transformed by ingest" "$(catalog_sql 'SELECT count(*) FROM schema_drift')" 0

say "transform prints the run's drift after its account"
sluice transform --source orders >"$T/transform.out"
cat "$T/transform.out"
run=$(sed -n 's/^run \([0-9]*\) .*/\1/p' "$T/transform.out")
[ -n "$run" ] || fail "no run in the transform's output"
grep '^  drift:' "$T/transform.out" >"$T/got-run" || true
diff -u "$T/want-run" "$T/got-run" || fail "the transform's drift lines"
# The account balances, with the records lacking required fields quarantined.
records=$(want records)
quarantined=$(want quarantined)
written=$(want written)
num() { "$PY" -c 'import sys; print("{:,}".format(int(sys.argv[1])))' "$1"; }
grep -qF "balance      $(num "$records") = $(num "$written") + $(num "$quarantined") + 0  ok" \
    "$T/transform.out" || fail "the account: $records = $written + $quarantined + 0"

say "the catalog keeps it per object, field and kind; runs --drift reads it"
catalog_sql "SELECT object_id, field, kind, records, example_position, coalesce(example_text, '')
             FROM schema_drift WHERE run_id = $run AND source = 'orders'" | sort >"$T/got-rows"
diff -u "$T/want-rows" "$T/got-rows" || fail "the schema_drift rows"
sluice runs --drift "$run" >"$T/runs.out"
cat "$T/runs.out"
expect_eq "runs --drift heading" "$(head -1 "$T/runs.out")" "run $run  transform  source orders"
tail -n +2 "$T/runs.out" | diff -u "$T/want-run" - || fail "runs --drift lines"
sluice runs --drift 1 >"$T/runs1.out"
expect_eq "an ingest run has none" "$(tail -1 "$T/runs1.out")" "  no schema drift recorded"
expect_fail "there is no run 999" sluice runs --drift 999
expect_fail "--drift takes a run id" sluice runs --drift x

say "curated holds the contract's columns, and the good records"
expect_eq "curated rows" "$(q 'SELECT count(*) FROM curated.orders')" "$written"
cols=$(sluice query --format csv "SELECT * FROM curated.orders LIMIT 0" | head -1)
expect_eq "curated columns" "$cols" "order_id,customer,amount,ordered_at,_raw_object,_raw_position,_ingested_at"
expect_eq "quarantined" "$(q 'SELECT count(*) FROM quarantine.orders')" "$quarantined"

say "an object parsed in pieces: counts summed, positions the object's"
# Over 8 MiB of JSON lines is cut into pieces parsed in parallel; the
# drift starts in a later piece.
"$PY" - "$T" <<'PY' >"$T/want-big"
import hashlib, sys
t = sys.argv[1]
n, first, firstmiss, ncoupon, nmiss = 120000, None, None, 0, 0
with open(t + "/big.jsonl", "w") as f:
    for i in range(n):
        oid = 200000 + i
        extra = ""
        cust = ', "customer": "c%d"' % (i % 9)
        if i >= 100000 and i % 1000 == 7:
            extra = ', "coupon": %d' % i
            ncoupon += 1
            first = first or i + 1
        if i >= 110000 and i % 5000 == 1:
            cust = ""
            nmiss += 1
            firstmiss = firstmiss or i + 1
        f.write('{"order_id": %d%s, "ordered_at": "2026-11-03T00:00:00Z", "pad": "%s"%s}\n'
                % (oid, cust, "p" * 40, extra))
oid = hashlib.sha256(open(t + "/big.jsonl", "rb").read()).hexdigest()[:32]
print("  drift: %s records carry 'coupon' (not in contract orders 1.0), e.g. line %d of %s: %d"
      % ("{:,}".format(ncoupon), first, oid, first - 1))
print("  drift: %s records carry 'pad' (not in contract orders 1.0), e.g. line 1 of %s: \"%s\""
      % ("{:,}".format(n), oid, "p" * 40))
print("  drift: %d records lack required 'customer', e.g. line %d of %s" % (nmiss, firstmiss, oid))
PY
sluice ingest --source orders "$T/big.jsonl" >/dev/null
sluice transform --source orders >"$T/big.out"
grep '^  drift:' "$T/big.out" | diff -u "$T/want-big" - || fail "drift of a big object"
grep -q ' ok$' "$T/big.out" || fail "the big run's account"

say "a contract that rejects unknown fields: quarantined, and still drift"
printf '%s\n' '{"order_id": 1, "ordered_at": "2026-11-01T00:00:00Z"}' \
    '{"order_id": 2, "ordered_at": "2026-11-01T00:00:00Z", "note": null}' \
    '{"order_id": 3, "note": 5}' >"$T/strict.jsonl"
sluice ingest --source strict "$T/strict.jsonl" >"$T/strict-ingest.out"
grep -F "  drift: 2 records carry 'note' (not in contract strict 2.1), e.g. line 2: null" \
    "$T/strict-ingest.out" >/dev/null || { cat "$T/strict-ingest.out"; fail "strict ingest"; }
sluice transform --source strict >"$T/strict.out"
cat "$T/strict.out"
grep -qF "balance      3 = 1 + 2 + 0  ok" "$T/strict.out" || fail "strict account"
grep -qF "  drift: 1 record lacks required 'ordered_at', e.g. line 3 of " "$T/strict.out" ||
    fail "strict missing line"
expect_eq "strict rows" "$(q 'SELECT order_id FROM curated.strict_v2')" 1

say "a file without drift prints none"
printf '%s\n' '{"order_id": 4, "ordered_at": "2026-11-01T00:00:00Z"}' >"$T/clean.jsonl"
sluice ingest --source strict "$T/clean.jsonl" >"$T/clean.out"
! grep -q drift "$T/clean.out" || fail "drift for a clean file"
sluice transform --source strict >"$T/clean-run.out"
! grep -q drift "$T/clean-run.out" || fail "drift for a clean run"
say "ok"
