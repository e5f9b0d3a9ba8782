#!/usr/bin/python3
"""interop_data.py - inputs and expectations for tests/e2e/400-interop-parquet.sh.

  interop_data.py gen DIR
      Write the input files (DIR/in/), the source file of each contract
      version and DIR/plan.txt, the steps the test runs:
          contract VERSION FILE      copy FILE (versions up to VERSION) to
                                     sources/interop.yaml
          ingest VERSION|- FILE...   sluice ingest (--contract-version VERSION)
          transform                  sluice transform, then read the lake
      DIR/intent.json says what the data was built to hold (bad records).

  interop_data.py snapshot DIR LAKE STAGE
      After a transform: keep the catalog's columns (field ids) and live
      files of the curated table as DIR/snap-STAGE.json.

  interop_data.py check DIR LAKE
      Recompute the curated table after every transform from the input
      files alone - parse them (own CSV splitter, JSON with number text
      kept), validate and coerce each record by the contract, deduplicate
      by the rule - and compare it with what read_parquet.mjs read from the
      live files at that point (DIR/stage-N.jsonl): every value of every
      row, the metadata columns, partitions, field ids against the catalog
      and across runs, and each run's account.

Nothing here asks sluice or DuckDB what the answer is; the catalog is read
only for what sluice alone can know (arrival times, field ids it handed
out, the list of live files and run accounts), and each of those is checked
too.
"""
import gzip
import hashlib
import json
import os
import re
import sqlite3
import struct
import sys
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

SOURCE = "interop"
TABLE = "interop"

# The contract: name, type, required, version that added it.
COLUMNS = [
    ("cust", "string", True, "1.0"),
    ("n", "int64", True, "1.0"),
    ("updated_at", "timestamp", True, "1.0"),
    ("name", "string", False, "1.0"),
    ("qty", "int64", False, "1.0"),
    ("price", "double", False, "1.0"),
    ("active", "bool", False, "1.0"),
    ("birthday", "date", False, "1.0"),
    ("amount", "decimal(12,2)", False, "1.0"),
    ("big", "decimal(30,4)", False, "1.0"),
    ("seen_at", "timestamp", False, "1.0"),
    ("note", "string", False, "1.1"),
    ("rate", "decimal(5,3)", False, "1.1"),
]
KEY = ("cust", "n")
EVENT = "updated_at"
META = ("_raw_object", "_raw_position", "_ingested_at")
TYPE = {c[0]: c[1] for c in COLUMNS}
REQUIRED = {c[0] for c in COLUMNS if c[2]}


def columns_of(version):
    return [c[0] for c in COLUMNS if c[3] <= version]


EPOCH = date(1970, 1, 1).toordinal()
USEC_DAY = 86400 * 1000000


# ---- time -------------------------------------------------------------------------


def usec_of(dt):
    """A timezone-aware datetime to microseconds since the epoch."""
    d = dt.astimezone(timezone.utc)
    days = d.date().toordinal() - EPOCH
    return ((days * 86400 + d.hour * 3600 + d.minute * 60 + d.second) * 1000000 +
            d.microsecond)


def day_text(days):
    return date.fromordinal(days + EPOCH).isoformat()


def ts_text(us):
    """Microseconds to YYYY-MM-DDTHH:MM:SS.ffffffZ, as the reader prints them."""
    days, rem = divmod(us, USEC_DAY)
    secs, frac = divmod(rem, 1000000)
    return "%sT%02d:%02d:%02d.%06dZ" % (day_text(days), secs // 3600, secs // 60 % 60,
                                        secs % 60, frac)


TS_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})"
                   r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                   r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?\Z")
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")


def civil_days(y, m, d):
    if y < 1 or not 1 <= m <= 12:
        raise ValueError
    return date(y, m, d).toordinal() - EPOCH  # ValueError for 2024-02-30


def parse_timestamp(s):
    """The documented grammar (core/time.h): microseconds, or ValueError."""
    m = TS_RE.match(s)
    if not m:
        raise ValueError
    y, mo, d, hh, mi, ss, frac, z, sign, oh, om = m.groups()
    days = civil_days(int(y), int(mo), int(d))
    hh, mi, ss = int(hh or 0), int(mi or 0), int(ss or 0)
    if hh > 23 or mi > 59 or ss > 59:
        raise ValueError
    us = 0
    if frac is not None:
        if len(frac) > 9:
            raise ValueError
        us = int((frac + "000000")[:6])  # more than six digits: truncated
    off = 0
    if sign:
        oh, om = int(oh), int(om or 0)
        if oh > 18 or om > 59:
            raise ValueError
        off = (oh * 3600 + om * 60) * 1000000 * (1 if sign == "+" else -1)
    return (days * 86400 + hh * 3600 + mi * 60 + ss) * 1000000 + us - off


def render_ts(us, off_min=0, digits=6, sep="T", zone=None, tail=""):
    """Spell instant us in local time at offset off_min, with at least the
    fraction digits the value needs (digits=0: none if it needs none)."""
    local = us + off_min * 60 * 1000000
    days, rem = divmod(local, USEC_DAY)
    secs, frac = divmod(rem, 1000000)
    ftxt = "%06d" % frac
    need = len(ftxt.rstrip("0"))
    k = max(need, digits)
    text = "%s%s%02d:%02d:%02d" % (day_text(days), sep, secs // 3600, secs // 60 % 60,
                                   secs % 60)
    if k:
        text += "." + ftxt[:k] + tail
    if zone is not None:
        text += zone
    elif off_min == 0:
        text += "Z"
    else:
        a = abs(off_min)
        text += "%s%02d:%02d" % ("+" if off_min > 0 else "-", a // 60, a % 60)
    return text


def at(y, mo, d, hh=0, mi=0, ss=0, us=0):
    return usec_of(datetime(y, mo, d, hh, mi, ss, us, tzinfo=timezone.utc))


# ---- numbers --------------------------------------------------------------------------

NUM_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
JSON_NUM_RE = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?\Z")


def parse_number(s):
    if not NUM_RE.match(s):
        raise ValueError
    return Decimal(s)  # exact: construction does not round


def scaled_int(d, scale):
    """d * 10**scale as an exact int, or None if that is not an integer
    (integer arithmetic: Decimal arithmetic would round at 28 digits)."""
    sign, digits, exp = d.as_tuple()
    u = int("".join(map(str, digits)) or "0")
    e = exp + scale
    if e >= 0:
        u *= 10 ** e
    elif u % 10 ** -e:
        return None
    else:
        u //= 10 ** -e
    return -u if sign else u


def decimal_spec(t):
    m = re.match(r"decimal\((\d+),(\d+)\)\Z", t)
    return int(m.group(1)), int(m.group(2))


def decimal_text(unscaled, scale):
    neg = unscaled < 0
    digits = str(-unscaled if neg else unscaled)
    if scale:
        digits = digits.rjust(scale + 1, "0")
        digits = digits[:-scale] + "." + digits[-scale:]
    return ("-" if neg else "") + digits


# ---- coercion: a raw value to the column's type, as the reader prints it ------------
#
# A raw value is None (NULL), ("text", s, quoted) from CSV, ("string", s) or
# ("number", token) or ("bool", b) or ("nested",) from JSON.  coerce() gives
# the expected value (str, bool, float for doubles) or raises Bad.


class Bad(Exception):
    pass


BOOL_TEXT = {"true": True, "t": True, "yes": True, "y": True, "1": True,
             "false": False, "f": False, "no": False, "n": False, "0": False}
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def coerce(col, v):
    t = TYPE[col]
    if v is None:
        return None
    kind = v[0]
    if kind == "text" and v[1] == "" and (not v[2] or t != "string"):
        return None
    textual = kind in ("text", "string", "number")
    s = v[1] if textual else None
    if t == "string":
        if textual:
            if any("\udc80" <= ch <= "\udcff" for ch in s):
                raise Bad("invalid UTF-8")
            return s
        if kind == "bool":
            return "true" if v[1] else "false"
        raise Bad("not a string")
    if t == "int64":
        if not textual:
            raise Bad("not an integer")
        try:
            d = parse_number(s)
        except ValueError:
            raise Bad("not an integer") from None
        u = scaled_int(d, 0)
        if u is None or not INT64_MIN <= u <= INT64_MAX:
            raise Bad("not an int64")
        return str(u)
    if t == "double":
        if not textual or not NUM_RE.match(s) or len(s) >= 64:
            raise Bad("not a number")
        f = float(s)
        if f in (float("inf"), float("-inf")):
            raise Bad("out of range")
        return f
    if t == "bool":
        if kind == "bool":
            return v[1]
        if textual and s.lower() in BOOL_TEXT:
            return BOOL_TEXT[s.lower()]
        raise Bad("not a bool")
    if t == "date":
        m = DATE_RE.match(s) if kind in ("text", "string") else None
        if not m:
            raise Bad("not a date")
        try:
            return day_text(civil_days(*map(int, m.groups())))
        except ValueError:
            raise Bad("not a date") from None
    if t == "timestamp":
        if kind not in ("text", "string"):
            raise Bad("not a timestamp")
        try:
            return ts_text(parse_timestamp(s))
        except ValueError:
            raise Bad("not a timestamp") from None
    if t.startswith("decimal("):
        p, sc = decimal_spec(t)
        if not textual:
            raise Bad("not a decimal")
        try:
            d = parse_number(s)
        except (ValueError, InvalidOperation):
            raise Bad("not a decimal") from None
        u = scaled_int(d, sc)
        if u is None:
            raise Bad("too many decimal places")
        if abs(u) >= 10 ** p:
            raise Bad("does not fit")
        return decimal_text(u, sc)
    raise AssertionError(t)


# ---- reading the input files back ----------------------------------------------------------


def split_csv(text):
    """RFC 4180 records of text: (line, fields or None if bad, raw) per
    record, fields as (value, quoted); blank lines skipped but counted."""
    out = []
    i, n, line = 0, len(text), 1
    while i < n:
        if text[i] == "\n" or text.startswith("\r\n", i):
            i += 1 if text[i] == "\n" else 2
            line += 1
            continue
        start_line, fields, bad = line, [], False
        while True:
            if i < n and text[i] == '"':
                j, buf = i + 1, []
                while True:
                    q = text.find('"', j)
                    if q < 0:
                        raise AssertionError("unclosed quote in generated CSV")
                    buf.append(text[j:q])
                    if text.startswith('""', q):
                        buf.append('"')
                        j = q + 2
                        continue
                    i = q + 1
                    break
                value = "".join(buf)
                line += value.count("\n")
                fields.append((value, True))
            else:
                j = i
                while i < n and text[i] not in ',\r\n':
                    if text[i] == '"':
                        bad = True
                    i += 1
                fields.append((text[j:i], False))
            if i < n and text[i] == ",":
                i += 1
                continue
            if text.startswith("\r\n", i):
                i += 2
            elif i < n and text[i] == "\n":
                i += 1
            elif i < n:
                raise AssertionError("characters after a quote in generated CSV")
            line += 1
            break
        out.append((start_line, None if bad else fields))
    return out


def number_hook(tok):
    return ("number", tok)


def json_value(x):
    if x is None:
        return None
    if isinstance(x, tuple):
        return x
    if isinstance(x, bool):
        return ("bool", x)
    if isinstance(x, str):
        return ("string", x)
    return ("nested",)


def no_constants(name):
    raise ValueError("JSON constant " + name)


def json_record(text):
    """A JSON object's fields as raw values, or None if not an object."""
    try:
        obj = json.loads(text, parse_int=number_hook, parse_float=number_hook,
                         parse_constant=no_constants)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    return {k: json_value(x) for k, x in obj.items()}


def read_object(path, fmt):
    """The records of one input file: [(position, fields or None)], where
    fields maps column -> raw value and None marks a record that cannot
    be read at all."""
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    recs = []
    if fmt == "csv":
        text = data.decode("utf-8", "surrogateescape")
        if text.startswith("\ufeff"):
            text = text[1:]
        records = split_csv(text)
        header = [f[0] for f in records[0][1]]
        for line, fields in records[1:]:
            if fields is None or len(fields) != len(header):
                recs.append((line, None))
                continue
            recs.append((line, {h: ("text", f[0], f[1]) for h, f in zip(header, fields)}))
    elif fmt == "jsonl":
        for k, raw in enumerate(data.split(b"\n")):
            if raw.strip(b" \t\r") == b"":
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                recs.append((k + 1, None))
                continue
            recs.append((k + 1, json_record(text)))
    elif fmt == "json":
        arr = json.loads(data.decode("utf-8"), parse_int=number_hook,
                         parse_float=number_hook, parse_constant=no_constants)
        for k, x in enumerate(arr):
            fields = ({c: json_value(y) for c, y in x.items()} if isinstance(x, dict)
                      else None)
            recs.append((k + 1, fields))
    else:
        raise AssertionError(fmt)
    return recs


def validate(fields, version):
    """A record's expected values under contract version, or raise Bad."""
    if fields is None:
        raise Bad("unreadable record")
    cols = columns_of(version)
    for k in fields:
        if k not in cols:
            raise Bad("unknown field " + k)
    out = {}
    for c in cols:
        v = fields.get(c)
        if v is not None and v[0] == "text" and any("\udc80" <= ch <= "\udcff" for ch in v[1]):
            raise Bad("invalid UTF-8 in " + c)
        out[c] = coerce(c, v)
        if out[c] is None and c in REQUIRED:
            raise Bad("required field %s is missing or null" % c)
    return out


# ---- writing the input files ---------------------------------------------------------------


class Q(str):
    """A CSV field written in quotes."""


class Raw(str):
    """A JSON fragment written as is."""


OMIT = object()


def csv_field(v, k):
    if v is None:
        return ""
    if isinstance(v, Q) or v == "" or any(ch in v for ch in ',"\n\r') or k % 7 == 3:
        return '"' + v.replace('"', '""') + '"'
    return v


def write_csv(path, header, rows, crlf=False, bom=False):
    """rows: dicts (column -> text, Q(text) or None), b"raw line" or ""
    for a blank line."""
    nl = b"\r\n" if crlf else b"\n"
    out = [b"\xef\xbb\xbf" if bom else b"", ",".join(header).encode() + nl]
    for k, r in enumerate(rows):
        if isinstance(r, bytes):
            out.append(r + nl)
        elif r == "":
            out.append(nl)
        else:
            out.append(",".join(csv_field(r.get(h), k + i)
                                for i, h in enumerate(header)).encode() + nl)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def json_field(col, v, k):
    if isinstance(v, Raw):
        return str(v)
    if v is None:
        return "null"
    t = TYPE.get(col, "string")
    ascii_only = k % 3 == 1
    if t in ("int64", "double") or t.startswith("decimal("):
        if JSON_NUM_RE.match(v) and k % 4 != 2:
            return v
    if t == "bool" and v.lower() in ("true", "false") and k % 4 != 2:
        return v.lower()
    return json.dumps(v, ensure_ascii=ascii_only)


def json_object(r, k):
    items = [(c, v) for c, v in r.items() if v is not OMIT]
    if k % 2:
        items.reverse()  # members in any order
    return "{" + ", ".join(json.dumps(c) + ": " + json_field(c, v, k + i)
                           for i, (c, v) in enumerate(items)) + "}"


def write_jsonl(path, rows, gz=False):
    """rows: dicts (column -> text, Raw(json), None for null, OMIT), b"raw
    line", or "" for a blank line."""
    out = []
    for k, r in enumerate(rows):
        if isinstance(r, bytes):
            out.append(r)
        elif r == "":
            out.append(b"   " if k % 2 else b"")
        else:
            out.append(json_object(r, k).encode())
    data = b"\n".join(out) + b"\n"
    if gz:
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)


def write_json_array(path, rows):
    parts = [r.decode() if isinstance(r, bytes) else json_object(r, k)
             for k, r in enumerate(rows)]
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n  " + ",\n  ".join(parts) + "\n]\n")


def write_source(path, version_list):
    lines = ["# written by tests/lib/interop_data.py", "system: interop", "contracts:"]
    for v in version_list:
        lines += ['  - version: "%s"' % v, "    key: [cust, n]", "    event_time: updated_at",
                  "    partition_by: event_day", "    unknown_fields: reject", "    columns:"]
        for name, t, req, added in COLUMNS:
            if added <= v:
                lines.append('      - {name: %s, type: "%s", required: %s}'
                             % (name, t, "true" if req else "false"))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# Valid spellings per type, cycled through by record.
STRS = ["Zoë Ångström", "李小龙", "emoji 😀 and 𝄞", 'comma, and "quotes"', "two\nlines",
        "", None, "  padded  ", "naïve café", "Ωmega ≠ ∞", "back\\slash", "ʻokina", "plain"]
INTS = ["-9223372036854775808", "9223372036854775807", "0", "-42", "1e3", "7.0", None,
        "+17", "0042", "-9000000000000000001", "123"]
DBLS = ["3.141592653589793", "-0.0", "1e-300", "4.9e-324", "1.7976931348623157e308", "+1.5",
        "007.25", "0.1", "-2.5e10", None, "123456789012345678", "2.5"]
BOOLS = ["true", "FALSE", "yes", "N", "1", "0", "t", None, "Y", "no", "false"]
DATES = ["2024-02-29", "0001-01-01", "9999-12-31", "1970-01-01", "1969-07-20", None,
         "2000-02-29", "1999-12-31"]
AMTS = ["1234567890.12", "-9999999999.99", "0.5", "1e2", "-0", "12.30", None, "0.01", "-1.10",
        "99999.990", "7"]
BIGS = ["12345678901234567890123456.7891", "-99999999999999999999999999.9999",
        "9223372036854775808.0001", "-9223372036854775809", "1e25", "0.0001", None,
        "170141183460469231731.6873", "-0.5", "18446744073709551616"]
SEENS = ["1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
         "2024-03-01 12:00", "2024-03-01T12:00:00.123456789+05:30",
         "2024-03-01T00:00:00,5-0130", "2024-02-29T23:59:59.1+14:00", None,
         "2024-03-01t08:15:30.000001z", "1970-01-01", "1900-01-01T00:00:00.000001-00:01"]
NOTES = ["première note", "备注 📝", None, "", 'note with "quotes", commas', "x"]
RATES = ["12.345", "-99.999", "0.5", None, "1e1", "0", "-0.001"]
# Spellings of an instant: (offset minutes, fraction digits, separator, zone, tail)
STYLES = [(0, 0, "T", None, ""), (330, 3, "T", None, ""), (-480, 6, " ", None, ""),
          (60, 0, "T", "+0100", ""), (-180, 9, "T", "-03", "789"), (0, 1, "t", "z", ""),
          (0, 6, "T", "+00:00", ""), (840, 2, "T", None, ""), (-570, 0, "T", None, ""),
          (0, 7, " ", None, "4")]


def ev_text(us, k):
    off, digits, sep, zone, tail = STYLES[k % len(STYLES)]
    return render_ts(us, off, digits, sep, zone, tail if digits > 6 else "")


def pick(lst, k):
    return lst[k % len(lst)]


def rec(cust, n, ev_us, k, style=None, v11=False, **over):
    """A record of key (cust, n) at instant ev_us; other values cycled by k."""
    r = {
        "cust": cust, "n": str(n), "updated_at": ev_text(ev_us, k if style is None else style),
        "name": pick(STRS, k), "qty": pick(INTS, k + 1), "price": pick(DBLS, k + 2),
        "active": pick(BOOLS, k + 3), "birthday": pick(DATES, k + 4),
        "amount": pick(AMTS, k + 5), "big": pick(BIGS, k + 6), "seen_at": pick(SEENS, k + 7),
    }
    if v11:
        r["note"] = pick(NOTES, k)
        r["rate"] = pick(RATES, k + 1)
    r.update(over)
    return r


def respell(r, style):
    """The same record with its values spelled differently (same meaning)."""
    s = dict(r)
    s["updated_at"] = ev_text(parse_timestamp(r["updated_at"]), style)
    alt = {"1e3": "1000", "7.0": "7", "0.5": "0.50", "1e2": "100.00", "true": "yes",
           "FALSE": "no", "12.30": "12.3", "1e25": "10000000000000000000000000.0000",
           "+1.5": "1.50", "2024-03-01 12:00": "2024-03-01T12:00:00.000Z"}
    for c, v in r.items():
        if c not in ("updated_at", "cust", "n") and isinstance(v, str) and v in alt:
            s[c] = alt[v]
    return s


HEADER10 = columns_of("1.0")
DAY = {d: at(2024, 3, d) for d in range(1, 9)}
H = 3600 * 1000000
S = 1000000


def gen(d):
    ind = os.path.join(d, "in")
    os.makedirs(ind)
    write_source(os.path.join(ind, "interop_v10.yaml"), ["1.0"])
    write_source(os.path.join(ind, "interop_v11.yaml"), ["1.0", "1.1"])
    plan = ["contract 1.0 interop_v10.yaml"]
    bad = {}

    def p(name):
        return os.path.join(ind, name)

    # ---- stage 1: three files in one ingest, contract 1.0 -----------------------------
    a = [
        rec("ålborg", 1, DAY[1] + 10 * H, 0),
        rec("東京", 2, DAY[1] + 11 * H + 250000, 1),                  # also in b1_b, same time
        rec("a,b \"q\"", 3, DAY[2] + 1 * H, 2),                      # twice, same time
        rec("k", 1, DAY[1] + 23 * H + 30 * 60 * S, 3, style=1),      # +05:30: local 03-02
        rec("ålborg", 1, DAY[1] + 9 * H, 4),                          # earlier than line 2: loses
        rec("a,b \"q\"", 3, DAY[2] + 1 * H, 5, name="second wins"),
        "",
        rec("k", 2, DAY[2] + 5 * H + 123456, 6, name="multi\nline\nname"),
        rec("k", 3, DAY[3] + 0 * H, 7),
        rec("k", 4, DAY[1] + 8 * H, 8),                               # redelivered in stage 2
        rec("k", 5, DAY[1] + 8 * H, 9),                               # tie in stage 2, differs
        rec("k", 6, DAY[2] + 8 * H, 10),                              # older update in stage 2
        rec("k", 7, DAY[3] + 8 * H, 11),                              # later update, same day
        rec("k", 11, DAY[3] + 9 * H, 12),                             # 1.1 redelivery, note null
        rec("k", 12, DAY[3] + 10 * H, 13),                            # 1.1 tie, note set
        rec("k", 13, DAY[2] + 10 * H, 14),                            # 1.0-tagged update in stage 9
        # bad records
        rec("bad", 1, DAY[1], 15, qty="12x"),
        rec("bad", 2, DAY[1], 16, amount="1.234"),
        rec("bad", 3, DAY[1], 17, birthday="2024-02-30"),
        rec(None, 4, DAY[1], 18),                                     # required key is NULL
        b"bad,5,2024-03-01T00:00:00Z,too,few",
        rec("bad", 6, DAY[1], 19, updated_at="2024-13-01T00:00:00Z"),
        b"bad,7,2024-03-01T00:00:00Z,\xff\xfe invalid utf-8,,,,,,,",
        rec("bad", 8, DAY[1], 20, big="1e40"),
        rec("k", 8, DAY[4] + 23 * H + 59 * 60 * S + 59 * S + 999999, 21, style=2),
        rec("lonely", 1, at(2024, 2, 28, 12), 22),                    # alone on its day, moves
    ]
    bad["b1_a.csv"] = 8
    write_csv(p("b1_a.csv"), HEADER10, a)
    b = [
        rec("東京", 2, DAY[1] + 11 * H + 250000, 30, style=4, name="b wins the tie"),
        "",
        rec("json", 1, DAY[2] + 3 * H, 31,
            name=Raw('"esc \\u00e9 \\ud83d\\ude00 \\n \\" \\\\ \\/"')),
        rec("json", 2, DAY[2] + 4 * H, 32, name=Raw("12.50"), qty=Raw("-5E2"), active=Raw("1")),
        rec("json", 3, DAY[3] + 4 * H, 33, name=Raw("true"), price=Raw("-0"), big=Raw("-1.5e3")),
        rec("json", 4, DAY[3] + 5 * H, 34, name=OMIT, qty=OMIT, amount=Raw('"42.1"')),
        rec("json", 5, DAY[1] + 1 * H, 35),                           # twice, same time
        rec("json", 5, DAY[1] + 1 * H, 36, name="later line wins"),
        rec("json", 6, DAY[4] + 2 * H, 37),                           # twice: later time wins
        rec("json", 6, DAY[4] + 1 * H, 38),
        rec("k", 9, DAY[2] + 6 * H, 39),                              # redelivered twice, stage 2
        rec("k", 10, DAY[2] + 7 * H, 40),                              # tie then later in stage 2
        b'{"cust": "bad", "n": 10, ',
        b"[1, 2]",
        rec("bad", 11, DAY[1], 41, bogus=Raw("1")),
        rec("bad", 12, DAY[1], 42, qty=Raw("1.5")),
        rec("bad", 13, DAY[1], 43, active="maybe"),
        rec("bad", 14, DAY[1], 44, updated_at=OMIT),
        rec("bad", 15, DAY[1], 45, price="abc"),
        rec("bad", 16, DAY[1], 46, name=Raw("{\"nested\": 1}")),
        "",
        rec("epoch", 1, at(1969, 12, 31, 23, 59, 59, 999999), 47, style=4),  # dt=1969-12-31
        rec("epoch", 2, at(1, 1, 1), 48, style=0),                          # dt=0001-01-01
        rec("json", 7, DAY[2] + 9 * H, 49, name=Raw('"NUL \\u0000 inside"')),
        b'{"cust": "json", "\\u006e": 8, "updated_at": "2024-03-02T10:00:00Z", '
        b'"n\\u0061me": "escaped member names"}',
    ]
    bad["b1_b.jsonl"] = 8
    write_jsonl(p("b1_b.jsonl"), b)
    bulk = [rec("bulk", k, DAY[4] + k * 17 * S + (k % 1000) * 1000, k)
            for k in range(1, 4501)]
    write_csv(p("b1_bulk.csv"), HEADER10, bulk)
    bad["b1_bulk.csv"] = 0
    plan += ["ingest - b1_a.csv b1_b.jsonl b1_bulk.csv", "transform"]

    # ---- stage 2: updates, redeliveries, ties; one file landed again -------------------
    k4 = respell(a[9], 5)
    c = [
        rec("ålborg", 1, DAY[5] + 2 * H, 50),                         # moves 03-01 -> 03-05
        k4,                                                            # the same record, respelled
        rec("k", "5.0", DAY[1] + 8 * H, 51, style=3),                 # tie, other values
        rec("k", 6, DAY[2] + 7 * H, 52),                              # older: ignored
        rec("k", 7, DAY[3] + 20 * H, 53),                             # later, same day
        rec("lonely", 1, DAY[5] + 3 * H, 55),                         # its old day empties
        rec("bad", 20, DAY[1], 54, active="2"),
    ]
    c += [rec("bulk", k, (DAY[5] if k % 20 == 0 else DAY[4]) + k * 17 * S + H, k + 7)
          for k in range(10, 4501, 10)]
    bad["b2_upd.csv"] = 1
    write_csv(p("b2_upd.csv"), HEADER10, c)
    d2 = [
        dict(rec("json", 6, DAY[6] + 1 * H, 60), n=Raw("6e0")),       # moves 03-04 -> 03-06
        respell(b[10], 6), respell(b[10], 7),                          # k/9 redelivered twice
        rec("k", 10, DAY[2] + 7 * H, 61, style=8),                    # tie, differs ...
        rec("k", 10, DAY[2] + 7 * H + 1, 62),                         # ... but this is later
        rec("new", 1, DAY[3] + 12 * H, 63),
        rec("bad", 21, DAY[1], 64, birthday="2024-3-1"),
    ]
    bad["b2_upd.jsonl.gz"] = 1
    write_jsonl(p("b2_upd.jsonl.gz"), d2, gz=True)
    plan += ["ingest - b2_upd.csv b2_upd.jsonl.gz b1_a.csv", "transform"]

    # ---- stages 3-8: six small runs, each a file of its own on 03-06; with
    # json/6 that makes seven files there, so the next run that adds to the
    # day compacts them (old schema) into one (new schema) ----------------------------
    for i in range(1, 7):
        rows = [rec("small", 2 * i - 1, DAY[6] + i * H, 70 + i),
                rec("small", 2 * i, DAY[6] + i * H + 30 * 60 * S, 80 + i)]
        if i == 4:
            rows.append(respell(rec("small", 1, DAY[6] + 1 * H, 71), 4))  # redelivery
        if i == 6:
            rows.append(rec("small", 3, DAY[6], 90))                  # older: ignored
        name = "s%d.jsonl" % i
        write_jsonl(p(name), rows)
        bad[name] = 0
        plan += ["ingest - " + name, "transform"]

    # ---- stage 9: contract 1.1 -------------------------------------------------------------
    plan.append("contract 1.1 interop_v11.yaml")
    k11 = dict(a[13])
    k11["note"] = None
    k12 = dict(a[14])
    k12["note"] = "now with a note"
    hdr = ["note", "n", "updated_at", "cust", "seen_at", "big", "amount", "birthday",
           "active", "price", "qty", "name"]                          # reordered, no rate
    e = [
        respell(k11, 9),
        k12,
        rec("東京", 2, DAY[7] + 3 * H, 100, v11=True),                # moves 03-01 -> 03-07
        rec("v11", 1, DAY[6] + 5 * H, 101, v11=True),                 # a new key on 03-06
        rec("v11", 2, DAY[7] + 6 * H, 102, v11=True, note=""),
        dict(rec("bad", 30, DAY[1], 103, v11=True, note=Q("x")), n="NaN"),
    ]
    bad["b3_new.csv"] = 1
    write_csv(p("b3_new.csv"), hdr, e, crlf=True, bom=True)
    f = [rec("bulk", k, DAY[5] + 12 * H + k * S, k + 3, v11=True) for k in range(9, 4501, 9)]
    f += [rec("v11", 3, DAY[8] + 1 * H, 110, v11=True, rate="0.0005"),   # too many places
          rec("v11", 4, DAY[8] + 1 * H, 111, v11=True, rate="123.4")]    # does not fit (5,3)
    bad["b3_new.jsonl"] = 2
    write_jsonl(p("b3_new.jsonl"), f)
    g = [rec("k", 13, DAY[5] + 10 * H, 120),
         rec("old", 1, DAY[5] + 11 * H, 121),
         rec("bad", 31, DAY[5], 122, v11=True)]                       # 'note' is not in 1.0
    bad["b3_old.jsonl"] = 1
    write_jsonl(p("b3_old.jsonl"), g)
    h = [rec("arr", 1, DAY[7] + 1 * H, 130, v11=True),
         b"5",
         rec("arr", 2, DAY[7] + 2 * H, 131, v11=True, rate=Raw("-0.125")),
         rec("arr", 1, DAY[7] + 1 * H, 132, v11=True, note="later element wins")]
    bad["b3_arr.json"] = 1
    write_json_array(p("b3_arr.json"), h)
    plan += ["ingest - b3_new.csv b3_new.jsonl", "ingest 1.0 b3_old.jsonl",
             "ingest - b3_arr.json", "transform", "transform"]

    # ---- stage 11 (10 has nothing to do): ties against 1.1 rows, and a JSON
    # lines file large enough to be parsed in pieces (PIECE_BYTES, 8 MiB) ----------
    hdr11 = columns_of("1.1")
    last = [
        respell(dict(e[3], rate=None), 2),                             # redelivery of a 1.1 row
        dict(e[4], note="changed note", rate=None),                   # tie, note differs
        rec("small", 5, DAY[7] + 4 * H, 140, v11=True),               # 03-06 -> 03-07
        rec("ålborg", 1, DAY[5] + 2 * H, 141, v11=True),              # tie with stage 2's row
    ]
    bad["b4.csv"] = 0
    write_csv(p("b4.csv"), hdr11, last)
    wide = []
    for i in range(1, 11001):
        if i % 1000 == 0:
            wide.append("")
        wide.append(rec("wide", i, DAY[8] + i * S, i, v11=True,
                        name="wide %d " % i + "ü" * 200 + "-" * 300))
    wide.insert(7000, rec("wide", 20, DAY[8], 9, v11=True, qty="x"))   # bad, in piece 2
    wide.append(rec("wide", 3, DAY[8] + 3 * S, 5, v11=True, name="last line wins"))
    bad["b4_wide.jsonl"] = 1
    write_jsonl(p("b4_wide.jsonl"), wide)
    assert os.path.getsize(p("b4_wide.jsonl")) > 9 << 20
    plan += ["ingest - b4.csv b4_wide.jsonl", "transform"]

    with open(os.path.join(d, "plan.txt"), "w") as fh:
        fh.write("\n".join(plan) + "\n")
    with open(os.path.join(d, "intent.json"), "w") as fh:
        json.dump({"bad": bad}, fh)


# ---- the catalog -----------------------------------------------------------------------------


class PgCatalog:
    """The few queries below, against a PostgreSQL catalog through psql
    (SLUICE_CATALOG_URL; SLUICE_PSQL names the binary).  Parameters are
    inlined as SQL literals: they are this script's own constants."""

    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        import csv
        import io
        import subprocess
        for p in params:
            sql = sql.replace("?", "'%s'" % str(p).replace("'", "''"), 1)
        out = subprocess.run([os.environ.get("SLUICE_PSQL", "psql"), "-X", "-q", "--csv",
                              "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return PgRows(list(csv.DictReader(io.StringIO(out))))

    def close(self):
        pass


class PgRows(list):
    def fetchone(self):
        # Values come back as text; the one count read this way is an int.
        return [int(v) if v.lstrip("-").isdigit() else v for v in self[0].values()]

    def __iter__(self):
        for r in list.__iter__(self):
            yield {k: (int(v) if v.lstrip("-").isdigit() else (None if v == "" else v))
                   for k, v in r.items()}


def catalog(lake):
    if os.environ.get("SLUICE_CATALOG_URL"):
        return PgCatalog(os.environ["SLUICE_CATALOG_URL"])
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(lake, "_catalog", "catalog.db"),
                         uri=True)
    db.row_factory = sqlite3.Row
    return db


def snapshot(d, lake, stage):
    db = catalog(lake)
    cols = [dict(r) for r in db.execute(
        "SELECT name, position, field_id, type, required, added_in FROM curated_columns "
        "WHERE table_name = ? ORDER BY position", (TABLE,))]
    files = [dict(r) for r in db.execute(
        "SELECT key, partition, rows, max_field_id, added_run FROM curated_files "
        "WHERE table_name = ? AND removed_run IS NULL ORDER BY key", (TABLE,))]
    nruns = db.execute("SELECT count(*) FROM runs WHERE kind = 'transform'").fetchone()[0]
    deletes = [dict(r) for r in db.execute(
        "SELECT key, rows FROM curated_deletes "
        "WHERE table_name = ? AND removed_run IS NULL ORDER BY key", (TABLE,))]
    db.close()
    with open(os.path.join(d, "snap-%s.json" % stage), "w") as f:
        json.dump({"columns": cols, "files": files, "runs": nruns, "deletes": deletes}, f)


# ---- the check -------------------------------------------------------------------------------


class Checker:
    def __init__(self, d, lake):
        self.d, self.lake = d, lake
        self.errors = []
        self.compared = 0

    def fail(self, msg):
        self.errors.append(msg)
        if len(self.errors) >= 20:
            self.report()

    def report(self):
        for e in self.errors:
            print("MISMATCH: " + e)
        print("interop check: %d problem(s)" % len(self.errors))
        sys.exit(1)


def same(a, b):
    """Equality of expected values, doubles by their bits."""
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, float) and isinstance(b, float) and
                struct.pack("<d", a) == struct.pack("<d", b))
    return a == b and type(a) is type(b)


def parquet_type_ok(t, col):
    """Whether a Parquet column (from read_parquet.mjs) carries contract type t."""
    phys, conv, logi = col["physical"], col["converted"], col["logical"] or {}
    if t == "string":
        return phys == "BYTE_ARRAY" and (conv == "UTF8" or logi.get("type") == "STRING")
    if t == "int64":
        return (phys == "INT64" and conv in (None, "INT_64") and
                logi.get("type") in (None, "INTEGER"))
    if t == "double":
        return phys == "DOUBLE" and conv is None
    if t == "bool":
        return phys == "BOOLEAN"
    if t == "date":
        return phys == "INT32" and (conv == "DATE" or logi.get("type") == "DATE")
    if t == "timestamp":
        return (phys == "INT64" and logi.get("type") == "TIMESTAMP" and
                logi.get("unit") == "MICROS" and logi.get("isAdjustedToUTC") is True)
    if t.startswith("decimal("):
        p, s = decimal_spec(t)
        if (col["precision"], col["scale"]) != (p, s) or conv != "DECIMAL":
            return False
        if logi and (logi.get("precision"), logi.get("scale")) != (p, s):
            return False
        if phys == "INT32":
            return p <= 9
        if phys == "INT64":
            return p <= 18
        return phys in ("FIXED_LEN_BYTE_ARRAY", "BYTE_ARRAY")
    return False


def check(d, lake):
    ck = Checker(d, lake)
    ind = os.path.join(d, "in")
    intent = json.load(open(os.path.join(d, "intent.json")))
    plan = [line.split() for line in open(os.path.join(d, "plan.txt")) if line.strip()]
    times = [tuple(map(int, line.split())) for line in open(os.path.join(d, "ingest-times.txt"))]
    db = catalog(lake)
    raw = {r["object_id"]: dict(r) for r in db.execute(
        "SELECT object_id, seq, original_name, contract_version, format, arrived_at "
        "FROM raw_objects WHERE source = ?", (SOURCE,))}
    runs = [dict(r) for r in db.execute(
        "SELECT * FROM runs WHERE kind = 'transform' AND source = ? ORDER BY run_id",
        (SOURCE,))]
    db.close()

    table = {}          # key -> row: values, ev, arrival, pos, object
    pending = []        # objects landed since the last transform
    landed = {}         # object id -> (arrival order, version)
    latest = None
    stage = 0
    nruns = 0
    ingest_no = 0
    last_arrival = None
    events = {k: 0 for k in ("within-batch loser", "redelivery kept", "tie replaced",
                             "older ignored", "replaced", "moved day", "new key",
                             "file landed twice", "quarantined")}
    prev_ids = {}
    prev_files = None

    for step in plan:
        op = step[0]
        if op == "contract":
            latest = step[1]
            continue
        if op == "ingest":
            version = latest if step[1] == "-" else step[1]
            t0, t1 = times[ingest_no]
            ingest_no += 1
            for name in step[2:]:
                path = os.path.join(ind, name)
                oid = hashlib.sha256(open(path, "rb").read()).hexdigest()[:32]
                if oid in landed:
                    events["file landed twice"] += 1
                    continue
                o = raw.get(oid)
                if o is None:
                    ck.fail("%s: no raw object %s in the catalog" % (name, oid))
                    continue
                if o["original_name"] != name or o["contract_version"] != version:
                    ck.fail("%s: catalog has name %s, version %s; want %s" %
                            (name, o["original_name"], o["contract_version"], version))
                if not t0 <= o["arrived_at"] <= t1 + 1000:
                    ck.fail("%s: arrived_at %d outside the ingest's %d..%d" %
                            (name, o["arrived_at"], t0, t1))
                if last_arrival is not None and o["arrived_at"] <= last_arrival:
                    ck.fail("%s: arrival times do not increase" % name)
                last_arrival = o["arrived_at"]
                landed[oid] = (len(landed), version)
                fmt = {"csv": "csv", "jsonl": "jsonl", "json": "json"}[
                    name.replace(".gz", "").rsplit(".", 1)[1]]
                pending.append((name, oid, version, fmt, o["arrived_at"]))
            continue
        assert op == "transform"
        stage += 1
        acct = {"records_in": 0, "quarantined": 0, "inserted": 0, "replaced": 0,
                "duplicates": 0}
        # Parse and validate the batch.
        batch = {}
        for name, oid, version, fmt, arrived in pending:
            nbad = 0
            for pos, fields in read_object(os.path.join(ind, name), fmt):
                acct["records_in"] += 1
                try:
                    vals = validate(fields, version)
                except Bad:
                    nbad += 1
                    continue
                key = tuple(vals[c] for c in KEY)
                r = {"values": vals, "ev": parse_timestamp(vals[EVENT]),
                     "arrival": landed[oid][0], "pos": pos, "object": oid,
                     "arrived_at": arrived}
                w = batch.get(key)
                if w is None or rank(r) > rank(w):
                    batch[key] = r
                events["within-batch loser"] += w is not None
            if nbad != intent["bad"][name]:
                ck.fail("%s: the checker finds %d bad records, the data was made with %d"
                        % (name, nbad, intent["bad"][name]))
            acct["quarantined"] += nbad
            events["quarantined"] += nbad
        user = columns_of(latest)
        for key, w in batch.items():
            old = table.get(key)
            if old is None:
                table[key] = w
                acct["inserted"] += 1
                events["new key"] += 1
            elif rank(w) <= rank(old):
                events["older ignored"] += 1
            elif w["ev"] == old["ev"] and all(
                    same(w["values"].get(c), old["values"].get(c)) for c in user):
                events["redelivery kept"] += 1
            else:
                events["tie replaced" if w["ev"] == old["ev"] else "replaced"] += 1
                events["moved day"] += w["ev"] // USEC_DAY != old["ev"] // USEC_DAY
                table[key] = w
                acct["replaced"] += 1
        acct["duplicates"] = (acct["records_in"] - acct["quarantined"] - acct["inserted"] -
                              acct["replaced"])
        if pending:
            if nruns >= len(runs):
                ck.fail("stage %d: no run recorded in the catalog" % stage)
            else:
                run = runs[nruns]
                for k, v in acct.items():
                    if run[k] != v:
                        ck.fail("stage %d: run %d has %s %d, expected %d" %
                                (stage, run["run_id"], k, run[k], v))
            nruns += 1
        pending = []
        prev_ids, prev_files = check_stage(ck, d, lake, stage, table, user, prev_ids,
                                           prev_files, nruns)
    if nruns != len(runs):
        ck.fail("the catalog has %d transform runs, expected %d" % (len(runs), nruns))
    if len(raw) != len(landed):
        ck.fail("the catalog has %d raw objects, expected %d" % (len(raw), len(landed)))
    for k, v in events.items():
        if v == 0:
            ck.fail("the data never exercised: %s" % k)
    if ck.errors:
        ck.report()
    print("interop check: %d stages, %d rows in the final table, %d values compared; "
          "%s" % (stage, len(table), ck.compared,
                  ", ".join("%s %d" % kv for kv in events.items())))


def rank(r):
    return (r["ev"], r["arrival"], r["pos"])


def check_stage(ck, d, lake, stage, table, user, prev_ids, prev_files, nruns):
    """Compare what the reader read after transform number `stage`."""
    tag = "stage %d" % stage
    snap = json.load(open(os.path.join(d, "snap-%d.json" % stage)))
    ids = {c["name"]: c for c in snap["columns"]}
    if snap["runs"] != nruns:
        ck.fail("%s: %d runs in the catalog, expected %d" % (tag, snap["runs"], nruns))
    # Field ids: the catalog's, stable across runs, unique.
    want_cols = user + list(META)
    if sorted(ids) != sorted(want_cols):
        ck.fail("%s: catalog columns %s, expected %s" % (tag, sorted(ids), sorted(want_cols)))
    if len({c["field_id"] for c in snap["columns"]}) != len(snap["columns"]):
        ck.fail("%s: field ids are not unique: %s" % (tag, snap["columns"]))
    for name, c in ids.items():
        if name in prev_ids and prev_ids[name] != c["field_id"]:
            ck.fail("%s: field id of %s changed from %d to %d" %
                    (tag, name, prev_ids[name], c["field_id"]))
        if name not in prev_ids and prev_ids and c["field_id"] <= max(prev_ids.values()):
            ck.fail("%s: new column %s reuses an old field id %d" % (tag, name, c["field_id"]))
        want_t = TYPE.get(name, {"_raw_object": "string", "_raw_position": "int64",
                                 "_ingested_at": "timestamp"}.get(name))
        if c["type"] != want_t:
            ck.fail("%s: catalog type of %s is %s, expected %s" % (tag, name, c["type"], want_t))
    new_ids = {n: c["field_id"] for n, c in ids.items()}

    # The live files: the glob is the catalog's list.
    cat_files = {f["key"]: f for f in snap["files"]}
    files, rows, dels = {}, [], {}
    for line in open(os.path.join(d, "stage-%d.jsonl" % stage)):
        o = json.loads(line)
        if o["kind"] == "file":
            files[o["file"]] = o
        elif o["kind"] == "deletes":
            dels[os.path.relpath(o["file"], lake)] = o
        else:
            rows.append(o)
    # Deletion files (merge-on-read): the live ones of the catalog, each
    # naming only live files; the rows they retire are not in the table.
    cat_dels = {x["key"]: x for x in snap.get("deletes", [])}
    if sorted(dels) != sorted(cat_dels):
        ck.fail("%s: deletion files on disk %s, live in the catalog %s" %
                (tag, sorted(dels), sorted(cat_dels)))
    for key, o in dels.items():
        if key in cat_dels and cat_dels[key]["rows"] != o["num_rows"]:
            ck.fail("%s: deletion file %s holds %d rows, the catalog says %d" %
                    (tag, key, o["num_rows"], cat_dels[key]["rows"]))
    ndeleted = {}
    for r in rows:
        if r.get("deleted"):
            ndeleted[r["file"]] = ndeleted.get(r["file"], 0) + 1
    rows = [r for r in rows if not r.get("deleted")]
    rel = {os.path.relpath(f, lake): f for f in files}
    if sorted(rel) != sorted(cat_files):
        ck.fail("%s: files on disk %s, live in the catalog %s" %
                (tag, sorted(rel), sorted(cat_files)))
    by_file = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r)
    for key, path in rel.items():
        info, cf = files[path], cat_files.get(key)
        m = re.search(r"/dt=(\d{4}-\d{2}-\d{2})/[^/]+\.parquet$", path)
        if not m:
            ck.fail("%s: %s is not under a dt= folder" % (tag, path))
            continue
        if cf is not None:
            if cf["partition"] != m.group(1):
                ck.fail("%s: %s is in %s, the catalog says %s" %
                        (tag, path, m.group(1), cf["partition"]))
            if cf["rows"] != info["num_rows"]:
                ck.fail("%s: %s holds %d rows, the catalog says %d" %
                        (tag, path, info["num_rows"], cf["rows"]))
            want = [c["name"] for c in snap["columns"] if c["field_id"] <= cf["max_field_id"]]
            got = [c["name"] for c in info["columns"]]
            if got != want:
                ck.fail("%s: %s has columns %s, expected %s" % (tag, path, got, want))
        if info["codecs"] != ["ZSTD"]:
            ck.fail("%s: %s is compressed with %s" % (tag, path, info["codecs"]))
        if "DATA_PAGE" not in info["page_types"] or not set(info["page_types"]) <= {
                "DATA_PAGE", "DICTIONARY_PAGE"}:
            ck.fail("%s: %s has pages %s, expected version-1 data pages" %
                    (tag, path, info["page_types"]))
        for c in info["columns"]:
            if c["field_id"] is None:
                ck.fail("%s: %s: column %s has no field id" % (tag, path, c["name"]))
            elif c["field_id"] != new_ids.get(c["name"]):
                ck.fail("%s: %s: column %s has field id %s, the catalog says %s" %
                        (tag, path, c["name"], c["field_id"], new_ids.get(c["name"])))
            t = ids[c["name"]]["type"] if c["name"] in ids else None
            if t is None or not parquet_type_ok(t, c):
                ck.fail("%s: %s: column %s is %s/%s/%s, not %s" %
                        (tag, path, c["name"], c["physical"], c["converted"], c["logical"], t))
        nread = len(by_file.get(path, [])) + ndeleted.get(path, 0)
        if nread != info["num_rows"]:
            ck.fail("%s: %s: read %d rows of %d" % (tag, path, nread, info["num_rows"]))

    # Every row against the expected table.
    seen = {}
    per_day = {}
    for r in rows:
        v = r["values"]
        key = tuple(v.get(c) for c in KEY)
        where = "%s: %s row %d key %r" % (tag, r["file"], r["index"], key)
        if key in seen:
            ck.fail("%s: key also in %s" % (where, seen[key]))
            continue
        seen[key] = r["file"]
        dt = re.search(r"/dt=([0-9-]+)/", r["file"]).group(1)
        per_day[dt] = per_day.get(dt, 0) + 1
        exp = table.get(key)
        if exp is None:
            ck.fail("%s: not expected in the table" % where)
            continue
        if day_text(exp["ev"] // USEC_DAY) != dt:
            ck.fail("%s: in dt=%s, its event day is %s" %
                    (where, dt, day_text(exp["ev"] // USEC_DAY)))
        for c in user:
            want = exp["values"].get(c)
            got = v.get(c)
            if TYPE[c] == "double" and isinstance(got, str):
                got = float(got)
            if not same(want, got):
                ck.fail("%s: %s = %r, expected %r" % (where, c, got, want))
            ck.compared += 1
        for c, want in (("_raw_object", exp["object"]), ("_raw_position", str(exp["pos"])),
                        ("_ingested_at", ts_text(exp["arrived_at"]))):
            if v.get(c) != want:
                ck.fail("%s: %s = %r, expected %r" % (where, c, v.get(c), want))
            ck.compared += 1
        extra = set(v) - set(user) - set(META)
        if extra:
            ck.fail("%s: unexpected columns %s" % (where, sorted(extra)))
    missing = set(table) - set(seen)
    for key in sorted(missing, key=repr)[:10]:
        ck.fail("%s: key %r is missing from the files" % (tag, key))
    want_days = {}
    for exp in table.values():
        dt = day_text(exp["ev"] // USEC_DAY)
        want_days[dt] = want_days.get(dt, 0) + 1
    if per_day != want_days:
        ck.fail("%s: rows per dt= folder %s, expected %s" %
                (tag, sorted(per_day.items()), sorted(want_days.items())))
    if prev_files is not None and nruns == prev_files[1] and sorted(rel) != prev_files[0]:
        ck.fail("%s: files changed by a transform with nothing to do" % tag)
    return new_ids, (sorted(rel), nruns)


def main(argv):
    if len(argv) >= 3 and argv[1] == "gen":
        gen(argv[2])
    elif len(argv) >= 5 and argv[1] == "snapshot":
        snapshot(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "check":
        check(argv[2], argv[3])
    else:
        sys.stderr.write("usage: interop_data.py gen DIR | snapshot DIR LAKE STAGE | "
                         "check DIR LAKE\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
