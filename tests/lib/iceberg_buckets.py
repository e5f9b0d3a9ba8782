#!/usr/bin/python3
"""Check the partition value of every live data file of an Iceberg table
against its rows, with a bucket transform computed here (not by sluice):

  iceberg_buckets.py METADATA_JSON ENTRIES_JSONL ROWS_JSONL

ENTRIES_JSONL is iceberg_entries.py's output for the table (python3-avro's
reading of the manifests); ROWS_JSONL is read_parquet.mjs's output for its
live data files (hyparquet's reading of the Parquet files; relative paths are of the
current folder).  For each live
data file, by the spec of the manifest that holds it, each of its fields:

  bucket[N] of a column   every row's bucket of that column's value is the
                          file's partition value, and the file is in the
                          folder <column>_bucket=<value>
  year, month, day, hour  every row's value is in that year, month, day or
                          hour (counted from 1970, UTC, rounded down)
  identity                every row's value is the partition value
  truncate[W]             every row's value truncated to W (code points of
                          a string; v - v mod W of a number) is it
  no field                nothing to check

Prints one line per spec, "spec S bucket[N](column): F files, R rows", and
exits non-zero at the first file whose rows disagree.

The bucket transform, as the Iceberg spec's "Bucket Transform Details" and
Appendix B define it: 32-bit Murmur3 (x86 variant, seed 0) of the value's
bytes - a long (and a date's days, a timestamp's microseconds) as 8 bytes
little-endian, a string's UTF-8 bytes, a decimal's unscaled value as its
minimal big-endian two's complement bytes - then (hash & 0x7FFFFFFF) % N.
"""
import datetime
import json
import os
import re
import struct
import sys
from decimal import Decimal

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def murmur3_32(data):
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF

    def mix(k):
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        return (k * c2) & mask

    h = 0
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        h ^= mix(int.from_bytes(data[i:i + 4], "little"))
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    if len(data) > whole:
        h ^= mix(int.from_bytes(data[whole:], "little"))
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h


def decimal_bytes(unscaled):
    n = 1
    while not -(1 << (8 * n - 1)) <= unscaled < 1 << (8 * n - 1):
        n += 1
    return unscaled.to_bytes(n, "big", signed=True)


def hash_bytes(iceberg_type, text):
    """The bytes Iceberg hashes for a value read_parquet.mjs printed."""
    if iceberg_type == "string":
        return text.encode("utf-8")
    if iceberg_type in ("long", "int"):
        return struct.pack("<q", int(text))
    if iceberg_type == "date":
        days = (datetime.date.fromisoformat(text) - datetime.date(1970, 1, 1)).days
        return struct.pack("<q", days)
    if iceberg_type.startswith("timestamp"):
        t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
        delta = t.replace(tzinfo=datetime.timezone.utc) - EPOCH
        usec = (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
        return struct.pack("<q", usec)
    m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", iceberg_type)
    if m:
        return decimal_bytes(int(Decimal(text).scaleb(int(m.group(2)))))
    raise SystemExit("cannot bucket a %s" % iceberg_type)


def bucket(iceberg_type, text, n):
    # Python's & of a negative int keeps the low 31 bits, as Java's does.
    return (murmur3_32(hash_bytes(iceberg_type, text)) & 0x7FFFFFFF) % n


def usec_of(text):
    """Microseconds since 1970 of a timestamp as read_parquet.mjs or
    python3-avro (str of a datetime) print it."""
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    delta = t - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def days_of(iceberg_type, text):
    if iceberg_type == "date":
        return (datetime.date.fromisoformat(text) - datetime.date(1970, 1, 1)).days
    return usec_of(text) // 86400000000


def transform(iceberg_type, name, text):
    """The partition value of a row's value, as text to compare."""
    if text is None:
        return "null"
    if name in ("year", "month"):
        d = datetime.date(1970, 1, 1) + datetime.timedelta(days=days_of(iceberg_type, text))
        return str(d.year - 1970 if name == "year" else (d.year - 1970) * 12 + d.month - 1)
    if name == "day":
        return str(datetime.date(1970, 1, 1) + datetime.timedelta(days=days_of(iceberg_type, text)))
    if name == "hour":
        return str(usec_of(text) // 3600000000)
    if name == "identity":
        if iceberg_type.startswith("timestamp"):
            return str(usec_of(text))
        return str(text)
    m = re.fullmatch(r"truncate\[(\d+)\]", name)
    if m:
        w = int(m.group(1))
        if iceberg_type == "string":
            return text[:w]
        v = int(text)
        return str(v - v % w)  # Python's % rounds down, as the spec's
    raise SystemExit("cannot check a %s partition" % name)


def partition_text(iceberg_type, name, value):
    """A file's partition value (python3-avro's) as text to compare."""
    if value is None:
        return "null"
    if name == "identity" and iceberg_type.startswith("timestamp"):
        return str(usec_of(str(value)))
    return str(value)


def check_field(path, f, col, value, file_rows, folder_checked):
    """Every row of a file is in the file's partition value of field f."""
    m = re.fullmatch(r"bucket\[(\d+)\]", f["transform"])
    if m and value is None:
        for r in file_rows:
            if r[col["name"]] is not None:
                raise SystemExit("%s: row %r is in the null partition" % (path, r))
    elif m:
        n = int(m.group(1))
        folder = "/%s_bucket=%d/" % (col["name"], value)
        if folder_checked and folder not in path:
            raise SystemExit("%s: not in a folder %s" % (path, folder))
        for r in file_rows:
            got = bucket(col["type"], r[col["name"]], n)
            if got != value:
                raise SystemExit("%s: row %r is in bucket %d of %s, the file's partition "
                                 "says %d" % (path, r, got, f["transform"], value))
    else:
        want = partition_text(col["type"], f["transform"], value)
        for r in file_rows:
            got = transform(col["type"], f["transform"], r[col["name"]])
            if got != want:
                raise SystemExit("%s: row %r is in partition %s of %s, the file's says %s"
                                 % (path, r, got, f["transform"], want))


def main():
    meta = json.load(open(sys.argv[1]))
    schema = [s for s in meta["schemas"] if s["schema-id"] == meta["current-schema-id"]][0]
    columns = {f["id"]: f for f in schema["fields"]}
    specs = {s["spec-id"]: s["fields"] for s in meta["partition-specs"]}
    rows = {}
    for line in open(sys.argv[3]):
        r = json.loads(line)
        if r["kind"] == "row":
            rows.setdefault(os.path.abspath(r["file"]), []).append(r["values"])
    seen = {}
    for line in open(sys.argv[2]):
        e = json.loads(line)
        if e["status"] == 2 or e["content"] != 0:
            continue
        path = e["path"].removeprefix("file://")
        fields = specs[e["spec_id"]]
        if not fields:
            continue
        file_rows = rows.get(path)
        if not file_rows:
            raise SystemExit("no rows read from %s" % path)
        for i, f in enumerate(fields):
            check_field(path, f, columns[f["source-id"]], e["partition"][f["name"]], file_rows,
                        folder_checked=i == 0)
        key = "spec %d %s" % (e["spec_id"], ", ".join(
            "%s(%s)" % (f["transform"], columns[f["source-id"]]["name"]) for f in fields))
        nf, nr = seen.get(key, (0, 0))
        seen[key] = (nf + 1, nr + len(file_rows))
    for key in sorted(seen):
        print("%s: %d files, %d rows" % (key, seen[key][0], seen[key][1]))


if __name__ == "__main__":
    main()
