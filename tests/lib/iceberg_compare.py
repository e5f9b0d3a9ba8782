#!/usr/bin/python3
# iceberg_compare.py - compare the rows an independent Iceberg reader saw
# (iceberg_read.mjs) with the rows `sluice query --format jsonl` prints, as
# multisets of rows, after putting both renderings of each value in one
# form.  Exit 0 when they match; otherwise print the first differing rows
# and exit 1 (also on unreadable input; 2 on a usage error).
#
#   iceberg_compare.py ICEBIRD_JSONL SLUICE_JSONL [--key col,col] [--ignore col,col]
#
# Each line of either file is a row object, or {"row": {...}} (what
# iceberg_read.mjs prints).  Both files must have the same columns (less
# --ignore'd ones).  With --key the rows are matched by those columns
# (which must be unique on each side) and a difference is shown column by
# column; without it, rows only on one side are listed.
#
# Normalisation (stdlib only, values are never turned into floats):
#   numbers and numeric strings   compared by exact decimal value, so
#       "9007199254740993" = 9007199254740993, "12.50" = 12.5 = 12.500,
#       1e+300 = 1e300, -0 = 0; the strings nan/NaN, inf/Infinity,
#       -inf/-Infinity are the special doubles (DuckDB prints "nan",
#       "inf", "-inf"; iceberg_read.mjs "NaN", "Infinity", "-Infinity")
#   timestamps   "YYYY-MM-DD HH:MM:SS[.f]" or with T, with an offset
#       (+00, +05:30, Z) or none, compared as the instant in UTC to the
#       nanosecond; a value without offset is taken as UTC.  So DuckDB's
#       "2026-01-02 03:04:05.123456+00" = "2026-01-02T03:04:05.123456Z"
#   times        "HH:MM:SS[.f]" compared to the nanosecond
#   JSON text    a string that starts with [ or { and parses as JSON is
#       compared as that structure (select to_json(col) in DuckDB for
#       lists, structs, maps)
#   strings, booleans, null   as they are
# A VARCHAR column holding "12" therefore equals a number 12: the columns
# are not typed here.  Binary columns: select lower(hex(col)) in the sluice
# query (iceberg_read.mjs prints lower-case hex).
import json
import re
import sys
from collections import Counter
from decimal import Decimal, InvalidOperation

NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
SPECIAL = {"nan": "nan", "+nan": "nan", "-nan": "nan",
           "inf": "inf", "+inf": "inf", "infinity": "inf", "+infinity": "inf",
           "-inf": "-inf", "-infinity": "-inf"}
TIMESTAMP = re.compile(
    r"^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$")
TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")
DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]


def days_from_civil(y, m, d):
    """Days since 1970-01-01 in the proleptic Gregorian calendar (any year,
    unlike datetime)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def frac_ns(f):
    return int((f or "").ljust(9, "0"))


def norm_string(s):
    low = s.strip().lower()
    if low in SPECIAL:
        return ("num", SPECIAL[low])
    if NUMERIC.match(s):
        try:
            return ("num", Decimal(s).normalize())
        except InvalidOperation:
            pass
    m = TIMESTAMP.match(s)
    if m:
        y, mo, d, hh, mi, ss, f, off = m.groups()
        ns = ((days_from_civil(int(y), int(mo), int(d)) * 86400
               + int(hh) * 3600 + int(mi) * 60 + int(ss)) * 10**9 + frac_ns(f))
        if off and off != "Z":
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
            ns -= sign * minutes * 60 * 10**9
        return ("ts", ns)
    m = TIME.match(s)
    if m:
        hh, mi, ss, f = m.groups()
        return ("time", (int(hh) * 3600 + int(mi) * 60 + int(ss)) * 10**9 + frac_ns(f))
    if s[:1] in "[{":
        try:
            return norm(json.loads(s, parse_float=Decimal, parse_int=int))
        except ValueError:
            pass
    return ("str", s)


def norm(v):
    """A hashable canonical form of one JSON value."""
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, Decimal)):
        return ("num", Decimal(v).normalize())
    if isinstance(v, str):
        return norm_string(v)
    if isinstance(v, list):
        return ("list", tuple(norm(x) for x in v))
    if isinstance(v, dict):
        return ("obj", tuple(sorted((k, norm(x)) for k, x in v.items())))
    raise ValueError(f"unexpected JSON value {v!r}")


def load(path, ignore):
    rows = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise SystemExit(f"iceberg_compare: {e}") from None
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=Decimal, parse_int=int)
            except ValueError as e:
                raise SystemExit(f"iceberg_compare: {path}:{n}: not JSON: {e}") from None
            if isinstance(obj, dict) and list(obj) == ["row"] and isinstance(obj["row"], dict):
                obj = obj["row"]
            if not isinstance(obj, dict):
                raise SystemExit(f"iceberg_compare: {path}:{n}: not a row object")
            for c in ignore:
                obj.pop(c, None)
            rows.append(obj)
    return rows


def canon(row, cols):
    return tuple(norm(row.get(c)) for c in cols)


def show(v):
    """JSON text of a row or value, decimals as the numbers they were."""
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {show(x)}"
                               for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(show(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def main(argv):
    args, key, ignore = [], [], []
    it = iter(argv)
    for a in it:
        if a in ("--key", "--ignore"):
            val = next(it, None)
            if val is None:
                raise SystemExit(f"iceberg_compare: {a} needs a value")
            (key if a == "--key" else ignore).extend(c for c in val.split(",") if c)
        else:
            args.append(a)
    if len(args) != 2:
        print("usage: iceberg_compare.py ICEBIRD_JSONL SLUICE_JSONL [--key col,col] "
              "[--ignore col,col]", file=sys.stderr)
        return 2
    left_name, right_name = "icebird", "sluice"
    left, right = load(args[0], ignore), load(args[1], ignore)

    lcols = sorted({c for r in left for c in r})
    rcols = sorted({c for r in right for c in r})
    if left and right and lcols != rcols:
        print(f"columns differ: only {left_name}: {sorted(set(lcols) - set(rcols))}, "
              f"only {right_name}: {sorted(set(rcols) - set(lcols))}")
        return 1
    cols = lcols or rcols
    for c in key:
        if c not in cols:
            print(f"iceberg_compare: key column {c} is not in the rows", file=sys.stderr)
            return 2

    limit = 10
    if key:
        def index(rows, name):
            by = {}
            for r in rows:
                k = canon(r, key)
                if k in by:
                    raise SystemExit(f"iceberg_compare: {name}: key {[r.get(c) for c in key]} "
                                     "is not unique")
                by[k] = r
            return by
        lb, rb = index(left, left_name), index(right, right_name)
        only_l = [lb[k] for k in lb if k not in rb]
        only_r = [rb[k] for k in rb if k not in lb]
        changed = [(lb[k], rb[k]) for k in lb
                   if k in rb and canon(lb[k], cols) != canon(rb[k], cols)]
        if not (only_l or only_r or changed):
            print(f"iceberg_compare: {len(left)} rows match ({left_name} = {right_name}, "
                  f"key {','.join(key)})")
            return 0
        print(f"iceberg_compare: MISMATCH: {len(left)} {left_name} rows, {len(right)} "
              f"{right_name} rows; {len(only_l)} only in {left_name}, {len(only_r)} only in "
              f"{right_name}, {len(changed)} differ")
        for r in only_l[:limit]:
            print(f"  only {left_name}: {show(r)}")
        for r in only_r[:limit]:
            print(f"  only {right_name}: {show(r)}")
        for a, b in changed[:limit]:
            diffs = [c for c in cols if norm(a.get(c)) != norm(b.get(c))]
            print(f"  key {[a.get(c) for c in key]}:")
            for c in diffs:
                print(f"    {c}: {left_name} {show(a.get(c))} != {right_name} {show(b.get(c))}")
        return 1

    lc = Counter(canon(r, cols) for r in left)
    rc = Counter(canon(r, cols) for r in right)
    if lc == rc:
        print(f"iceberg_compare: {len(left)} rows match ({left_name} = {right_name})")
        return 0
    only_l, only_r = lc - rc, rc - lc
    print(f"iceberg_compare: MISMATCH: {len(left)} {left_name} rows, {len(right)} "
          f"{right_name} rows; {sum(only_l.values())} only in {left_name}, "
          f"{sum(only_r.values())} only in {right_name}")
    for name, rows, extra in ((left_name, left, only_l), (right_name, right, only_r)):
        shown = 0
        for r in rows:
            k = canon(r, cols)
            if extra[k] > 0 and shown < limit:
                extra[k] -= 1
                shown += 1
                print(f"  only {name}: {show(r)}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
