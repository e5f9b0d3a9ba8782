#!/usr/bin/python3
"""iceberg_prune_expect.py - which files of an Iceberg table a filter on one
column keeps, worked out apart from sluice (Debian's python3-avro reads the
manifests) for `sluice query --explain` to be checked against.

    iceberg_prune_expect.py METADATA[@SNAPSHOT] COLUMN LO..HI [LO..HI ...]

METADATA is the table's metadata file (its current snapshot, or SNAPSHOT
by id); COLUMN its timestamp or
date column; each LO..HI an inclusive range of the column's values in ISO
8601 UTC ("2026-10-05T00:00:00Z", "2026-10-05T23:59:59.999999Z", a date
"2026-10-05" for a date column), "min" or "max" for no end; no range at
all means no value.  Prints

    data files K of N, delete files K of N

A data file is kept when its partition (day, month, year, hour, identity
of the column) and its lower/upper bounds of the column allow a value in
some range; a position-delete file when it names a kept data file or shares
a kept data file's partition.
"""
import datetime
import json
import struct
import sys
import urllib.parse
import warnings

import avro.datafile
import avro.errors
import avro.io

warnings.filterwarnings("ignore", category=avro.errors.IgnoredLogicalType)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
DAY = 86400 * 1000000


def usec(text, is_date):
    if text == "min":
        return -(2 ** 63)
    if text == "max":
        return 2 ** 63 - 1
    if is_date:
        d = datetime.date.fromisoformat(text)
        return (d - datetime.date(1970, 1, 1)).days * DAY
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    delta = t - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def month_start(m):
    y, mo = divmod(m, 12)
    return (datetime.date(1970 + y, mo + 1, 1) - datetime.date(1970, 1, 1)).days * DAY


def partition_range(transform, value, is_date):
    """The column values partition value can hold, or None."""
    if transform == "identity":
        return (value * DAY, value * DAY) if is_date else (value, value)
    if transform == "hour":
        return value * 3600000000, (value + 1) * 3600000000 - 1
    if transform == "day":
        lo, nxt = value * DAY, (value + 1) * DAY
    elif transform == "month":
        lo, nxt = month_start(value), month_start(value + 1)
    elif transform == "year":
        lo, nxt = month_start(value * 12), month_start((value + 1) * 12)
    else:
        return None
    return lo, (nxt - DAY if is_date else nxt - 1)


def plain(v):
    """A partition value as Iceberg stores it: python-avro gives dates and
    timestamps as objects."""
    if isinstance(v, datetime.datetime):
        d = v - EPOCH
        return (d.days * 86400 + d.seconds) * 1000000 + d.microseconds
    if isinstance(v, datetime.date):
        return (v - datetime.date(1970, 1, 1)).days
    return v


def key(uri):
    """A file's key in the lake: a lake that moved names one file by URIs
    of both places, which agree from the table's folder on."""
    return uri[uri.index("/curated/"):]


def records(path):
    with open(path, "rb") as f:
        with avro.datafile.DataFileReader(f, avro.io.DatumReader()) as r:
            return list(r)


LAKE = None  # the lake folder, where the metadata file is now


def local(uri):
    return LAKE + key(urllib.parse.unquote(urllib.parse.urlparse(uri).path))


def main():
    global LAKE
    meta_path, _, snap_id = sys.argv[1].partition("@")
    LAKE = meta_path[:meta_path.index("/curated/")]
    column = sys.argv[2]
    meta = json.load(open(meta_path))
    schema = [s for s in meta["schemas"] if s["schema-id"] == meta["current-schema-id"]][0]
    field = [f for f in schema["fields"] if f["name"] == column][0]
    is_date = field["type"] == "date"
    ranges = []
    for arg in sys.argv[3:]:
        lo, hi = arg.split("..")
        ranges.append((usec(lo, is_date), usec(hi, is_date)))
    spec = [s for s in meta["partition-specs"] if s["spec-id"] == meta["default-spec-id"]][0]
    part = [(i, f["transform"]) for i, f in enumerate(spec["fields"])
            if f["source-id"] == field["id"]]
    want = int(snap_id) if snap_id else meta["current-snapshot-id"]
    snap = [s for s in meta["snapshots"] if s["snapshot-id"] == want][0]

    data, deletes = [], []
    for m in records(local(snap["manifest-list"])):
        for e in records(local(m["manifest_path"])):
            if e["status"] == 2:
                continue
            f = e["data_file"]
            f["partition"] = {k: plain(v) for k, v in (f["partition"] or {}).items()}
            pkey = (m["partition_spec_id"], json.dumps(f["partition"], sort_keys=True))
            (data if f["content"] == 0 else deletes).append((f, pkey, m["partition_spec_id"]))

    def meets(lo, hi):
        return any(a <= hi and lo <= b for a, b in ranges)

    def bound(raw):
        return (struct.unpack("<i", raw)[0] * DAY) if is_date else struct.unpack("<q", raw)[0]

    kept_paths, kept_parts = set(), set()
    for f, part_key, spec_id in data:
        lo, hi = -(2 ** 63), 2 ** 63 - 1
        if part and spec_id == spec["spec-id"]:
            value = list(f["partition"].values())[part[0][0]]
            r = partition_range(part[0][1], value, is_date) if value is not None else None
            if r:
                lo, hi = r
        for kv in f.get("lower_bounds") or []:
            if kv["key"] == field["id"]:
                lo = max(lo, bound(kv["value"]))
        for kv in f.get("upper_bounds") or []:
            if kv["key"] == field["id"]:
                hi = min(hi, bound(kv["value"]))
        if lo > hi or meets(lo, hi):
            kept_paths.add(key(f["file_path"]))
            kept_parts.add(part_key)
    kept_deletes = 0
    for f, part_key, _ in deletes:
        ref = f.get("referenced_data_file")
        if (key(ref) in kept_paths) if ref else (part_key in kept_parts or f["content"] == 2):
            kept_deletes += 1
    print("data files %d of %d, delete files %d of %d"
          % (len(kept_paths), len(data), kept_deletes, len(deletes)))


main()
