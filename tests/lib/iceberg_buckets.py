#!/usr/bin/python3
"""Check the partition value of every live data file of an Iceberg table
against its rows, with a bucket transform computed here (not by sluice):

  iceberg_buckets.py METADATA_JSON ENTRIES_JSONL ROWS_JSONL

ENTRIES_JSONL is iceberg_entries.py's output for the table (python3-avro's
reading of the manifests); ROWS_JSONL is read_parquet.mjs's output for its
live data files (hyparquet's reading of the Parquet files; relative paths are of the
current folder).  For each live
data file, by the spec of the manifest that holds it:

  bucket[N] of a column   every row's bucket of that column's value is the
                          file's partition value, and the file is in the
                          folder <column>_bucket=<value>
  day of a column         every row's value is on that day
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
        f = fields[0]
        col = columns[f["source-id"]]
        value = e["partition"][f["name"]]
        file_rows = rows.get(path)
        if not file_rows:
            raise SystemExit("no rows read from %s" % path)
        m = re.fullmatch(r"bucket\[(\d+)\]", f["transform"])
        if m:
            n = int(m.group(1))
            folder = "/%s_bucket=%d/" % (col["name"], value)
            if folder not in path:
                raise SystemExit("%s: not in a folder %s" % (path, folder))
            for r in file_rows:
                got = bucket(col["type"], r[col["name"]], n)
                if got != value:
                    raise SystemExit("%s: row %r is in bucket %d of %s, the file's partition "
                                     "says %d" % (path, r, got, f["transform"], value))
        elif f["transform"] == "day":
            for r in file_rows:
                if not r[col["name"]].startswith(value):
                    raise SystemExit("%s: row %r is not of day %s" % (path, r, value))
        else:
            raise SystemExit("cannot check a %s partition" % f["transform"])
        key = "spec %d %s(%s)" % (e["spec_id"], f["transform"], col["name"])
        nf, nr = seen.get(key, (0, 0))
        seen[key] = (nf + 1, nr + len(file_rows))
    for key in sorted(seen):
        print("%s: %d files, %d rows" % (key, seen[key][0], seen[key][1]))


if __name__ == "__main__":
    main()
