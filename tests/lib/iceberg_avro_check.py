#!/usr/bin/python3
"""iceberg_avro_check.py - check Iceberg v2 manifest lists and manifests
with a reader sluice did not write (Debian's python3-avro).

    iceberg_avro_check.py FILE...

Each FILE is a table metadata JSON file (*.json: its current snapshot's
manifest list is checked), a manifest list (Avro record manifest_file: it
and every manifest it names are checked) or a manifest (manifest_entry).

What is checked, against the Iceberg spec (format/spec.md, "Manifests" and
"Manifest Lists", v2 column):

- the writer schema as written in the header: every field's field-id,
  required fields bare, optional ones ["null", T] with default null, no v1
  or v3 field, int-keyed maps as arrays of k<key>_v<value> records with
  logicalType "map" and the key and value ids, element-id of every list,
  record names unique;
- the key-value metadata: schema, schema-id, partition-spec,
  partition-spec-id, format-version "2", content (manifests); snapshot-id,
  parent-snapshot-id, sequence-number, format-version "2" (lists);
- every manifest-list row against its manifest: length on disk, spec id,
  content, counts of files and rows by entry status, one partition summary
  per partition field;
- every entry's data_file.file_size_in_bytes against the file on disk.

Exits 1 with a message naming the file and the field at the first
mismatch; prints one summary line on success.
"""
import io
import json
import os
import sys
import urllib.parse
import warnings

import avro.datafile
import avro.errors
import avro.io


# python-avro does not know Iceberg's logicalType "map" on arrays and says
# so; reading them as arrays is what Iceberg wants.
warnings.filterwarnings("ignore", category=avro.errors.IgnoredLogicalType)


class Mismatch(Exception):
    pass


def fail(path, field, why):
    raise Mismatch("%s: field %s: %s" % (path, field, why))


# name: (field-id, required, type) -- type is an Avro primitive name, or a
# tuple describing a nested type: ("map", key_id, value_id, value_type),
# ("list", element_id, element_type), ("record", name), ("partition",).
LIST_FIELDS = [
    ("manifest_path", 500, True, "string"),
    ("manifest_length", 501, True, "long"),
    ("partition_spec_id", 502, True, "int"),
    ("content", 517, True, "int"),
    ("sequence_number", 515, True, "long"),
    ("min_sequence_number", 516, True, "long"),
    ("added_snapshot_id", 503, True, "long"),
    ("added_files_count", 504, True, "int"),
    ("existing_files_count", 505, True, "int"),
    ("deleted_files_count", 506, True, "int"),
    ("added_rows_count", 512, True, "long"),
    ("existing_rows_count", 513, True, "long"),
    ("deleted_rows_count", 514, True, "long"),
    ("partitions", 507, False, ("list", 508, ("record", "r508"))),
    ("key_metadata", 519, False, "bytes"),
]
SUMMARY_FIELDS = [
    ("contains_null", 509, True, "boolean"),
    ("contains_nan", 518, False, "boolean"),
    ("lower_bound", 510, False, "bytes"),
    ("upper_bound", 511, False, "bytes"),
]
ENTRY_FIELDS = [
    ("status", 0, True, "int"),
    ("snapshot_id", 1, False, "long"),
    ("sequence_number", 3, False, "long"),
    ("file_sequence_number", 4, False, "long"),
    ("data_file", 2, True, ("record", "r2")),
]
DATA_FILE_FIELDS = [
    ("content", 134, True, "int"),
    ("file_path", 100, True, "string"),
    ("file_format", 101, True, "string"),
    ("partition", 102, True, ("partition",)),
    ("record_count", 103, True, "long"),
    ("file_size_in_bytes", 104, True, "long"),
    ("column_sizes", 108, False, ("map", 117, 118, "long")),
    ("value_counts", 109, False, ("map", 119, 120, "long")),
    ("null_value_counts", 110, False, ("map", 121, 122, "long")),
    ("nan_value_counts", 137, False, ("map", 138, 139, "long")),
    ("lower_bounds", 125, False, ("map", 126, 127, "bytes")),
    ("upper_bounds", 128, False, ("map", 129, 130, "bytes")),
    ("key_metadata", 131, False, "bytes"),
    ("split_offsets", 132, False, ("list", 133, "long")),
    ("equality_ids", 135, False, ("list", 136, "int")),
    ("sort_order_id", 140, False, "int"),
    ("referenced_data_file", 143, False, "string"),
]
NESTED = {"r508": SUMMARY_FIELDS, "r2": DATA_FILE_FIELDS}
# v1-only and v3+ fields a v2 file must not hold
FORBIDDEN_IDS = {105, 106, 107, 111, 142, 144, 145, 146, 520}
PARTITION_TYPES = {"int", "long", "string", "boolean", "double", "float", "bytes"}


def local_path(uri):
    u = urllib.parse.urlparse(uri)
    if u.scheme not in ("", "file"):
        return None
    return urllib.parse.unquote(u.path)


def record_names(t, names, path):
    """Collect the record names of schema t, failing on a repeated one."""
    if isinstance(t, list):
        for b in t:
            record_names(b, names, path)
    elif isinstance(t, dict):
        if t.get("type") == "record":
            if t["name"] in names:
                fail(path, t["name"], "record name used twice")
            names.add(t["name"])
            for f in t.get("fields", []):
                record_names(f["type"], names, path)
        elif t.get("type") == "array":
            record_names(t["items"], names, path)
        elif t.get("type") == "map":
            record_names(t["values"], names, path)


def value_type(path, name, f, required):
    """The type of field f without its union with null; checks optional-ness."""
    t = f["type"]
    if required:
        if isinstance(t, list):
            fail(path, name, "is required but written as a union %r" % (t,))
        return t
    if not (isinstance(t, list) and len(t) == 2 and t[0] == "null"):
        fail(path, name, "is optional but not a union [\"null\", T]: %r" % (t,))
    if "default" not in f or f["default"] is not None:
        fail(path, name, "is optional but has no default null")
    return t[1]


def check_type(path, name, t, want):
    if isinstance(want, str):
        if t != want:
            fail(path, name, "has type %r, expected %r" % (t, want))
        return
    kind = want[0]
    if kind == "record":
        if not isinstance(t, dict) or t.get("type") != "record" or t.get("name") != want[1]:
            fail(path, name, "is not the record %s" % want[1])
        check_fields(path, name + ".", t, NESTED[want[1]])
    elif kind == "list":
        if not isinstance(t, dict) or t.get("type") != "array":
            fail(path, name, "is not an array")
        if t.get("element-id") != want[1]:
            fail(path, name, "has element-id %r, expected %d" % (t.get("element-id"), want[1]))
        check_type(path, name + ".element", t["items"], want[2])
    elif kind == "map":
        key_id, value_id, vt = want[1], want[2], want[3]
        if not isinstance(t, dict) or t.get("type") != "array" or t.get("logicalType") != "map":
            fail(path, name, "is not an array with logicalType map")
        item = t["items"]
        rname = "k%d_v%d" % (key_id, value_id)
        if not isinstance(item, dict) or item.get("type") != "record" or item.get("name") != rname:
            fail(path, name, "items are not the record %s" % rname)
        fs = item["fields"]
        if [f["name"] for f in fs] != ["key", "value"]:
            fail(path, name, "map record fields are not key, value")
        if fs[0].get("field-id") != key_id or fs[0]["type"] != "int":
            fail(path, name + ".key", "is not int with field-id %d" % key_id)
        if fs[1].get("field-id") != value_id or fs[1]["type"] != vt:
            fail(path, name + ".value", "is not %s with field-id %d" % (vt, value_id))
    elif kind == "partition":
        if not isinstance(t, dict) or t.get("type") != "record" or t.get("name") != "r102":
            fail(path, name, "is not the record r102")
        for f in t["fields"]:
            fname = name + "." + f["name"]
            fid = f.get("field-id")
            if not isinstance(fid, int) or fid in FORBIDDEN_IDS:
                fail(path, fname, "has field-id %r" % (fid,))
            vt = value_type(path, fname, f, False)
            base = vt["type"] if isinstance(vt, dict) else vt
            if base not in PARTITION_TYPES:
                fail(path, fname, "has type %r" % (vt,))
            if isinstance(vt, dict):
                lt = vt.get("logicalType")
                if (base, lt) not in (("int", "date"), ("long", "timestamp-micros")):
                    fail(path, fname, "has logical type %r on %s" % (lt, base))
                if lt == "timestamp-micros" and not isinstance(vt.get("adjust-to-utc"), bool):
                    fail(path, fname, "timestamp-micros without adjust-to-utc")


def check_fields(path, prefix, rec, spec):
    fields = {f["name"]: f for f in rec["fields"]}
    known = {s[0] for s in spec}
    for f in rec["fields"]:
        if f["name"] not in known:
            fail(path, prefix + f["name"], "is not a v2 field (field-id %r)" % (f.get("field-id"),))
    for name, fid, required, want in spec:
        full = prefix + name
        if name not in fields:
            if required:
                fail(path, full, "is missing")
            continue
        f = fields[name]
        if f.get("field-id") != fid:
            fail(path, full, "has field-id %r, expected %d" % (f.get("field-id"), fid))
        check_type(path, full, value_type(path, full, f, required), want)


def open_avro(path):
    with open(path, "rb") as fp:
        data = fp.read()
    reader = avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader())
    meta = {k: v for k, v in reader.meta.items()}
    schema = json.loads(meta["avro.schema"].decode("utf-8"))
    rows = list(reader)
    reader.close()
    return schema, meta, rows


def meta_str(path, meta, key):
    if key not in meta:
        fail(path, "metadata " + key, "is missing")
    return meta[key].decode("utf-8")


def check_manifest(path, stats):
    schema, meta, rows = open_avro(path)
    if schema.get("name") != "manifest_entry":
        fail(path, "schema", "record is %r, not manifest_entry" % schema.get("name"))
    record_names(schema, set(), path)
    check_fields(path, "", schema, ENTRY_FIELDS)
    codec = meta.get("avro.codec", b"null").decode()
    if codec not in ("null", "deflate"):
        fail(path, "metadata avro.codec", "is %r" % codec)
    json.loads(meta_str(path, meta, "schema"))
    int(meta_str(path, meta, "schema-id"))
    spec = json.loads(meta_str(path, meta, "partition-spec"))
    spec_id = int(meta_str(path, meta, "partition-spec-id"))
    if meta_str(path, meta, "format-version") != "2":
        fail(path, "metadata format-version", "is not \"2\"")
    content = meta_str(path, meta, "content")
    if content not in ("data", "deletes"):
        fail(path, "metadata content", "is %r" % content)
    pfields = [f for f in schema["fields"] if f["name"] == "data_file"][0]["type"]["fields"]
    pfields = [f for f in pfields if f["name"] == "partition"][0]["type"]["fields"]
    if not isinstance(spec, list) or [s.get("field-id") for s in spec] != [f["field-id"] for f in pfields]:
        fail(path, "metadata partition-spec", "field ids differ from the partition struct's")
    counts = {0: [0, 0], 1: [0, 0], 2: [0, 0]}
    for i, e in enumerate(rows):
        where = "entry %d: " % (i + 1)
        st = e["status"]
        if st not in counts:
            fail(path, where + "status", "is %r" % st)
        df = e["data_file"]
        counts[st][0] += 1
        counts[st][1] += df["record_count"]
        if (content == "data") != (df["content"] == 0):
            fail(path, where + "data_file.content", "is %d in a %s manifest" % (df["content"], content))
        if df["content"] == 2 and not df.get("equality_ids"):
            fail(path, where + "data_file.equality_ids", "missing for equality deletes")
        if st != 1 and (e["sequence_number"] is None or e["file_sequence_number"] is None):
            fail(path, where + "sequence_number", "is null on an entry that is not ADDED")
        local = local_path(df["file_path"])
        if local is None:
            fail(path, where + "data_file.file_path", "is not a file URI: %r" % df["file_path"])
        if st == 2:
            # DELETED: the snapshot does not read the file; expiry may
            # have removed it (the spec's retention rules allow that).
            continue
        try:
            size = os.stat(local).st_size
        except OSError as err:
            fail(path, where + "data_file.file_path", "cannot stat %s: %s" % (local, err))
        if size != df["file_size_in_bytes"]:
            fail(path, where + "data_file.file_size_in_bytes",
                 "is %d, the file has %d bytes" % (df["file_size_in_bytes"], size))
        stats["files"] += 1
    stats["manifests"] += 1
    stats["entries"] += len(rows)
    return {"spec_id": spec_id, "content": content, "counts": counts, "nfields": len(pfields)}


def check_list(path, stats):
    schema, meta, rows = open_avro(path)
    if schema.get("name") != "manifest_file":
        fail(path, "schema", "record is %r, not manifest_file" % schema.get("name"))
    record_names(schema, set(), path)
    check_fields(path, "", schema, LIST_FIELDS)
    int(meta_str(path, meta, "snapshot-id"))
    parent = meta_str(path, meta, "parent-snapshot-id")
    if parent != "null":
        int(parent)
    seq = int(meta_str(path, meta, "sequence-number"))
    if meta_str(path, meta, "format-version") != "2":
        fail(path, "metadata format-version", "is not \"2\"")
    for i, row in enumerate(rows):
        where = "manifest %d: " % (i + 1)
        local = local_path(row["manifest_path"])
        if local is None:
            fail(path, where + "manifest_path", "is not a file URI")
        if os.stat(local).st_size != row["manifest_length"]:
            fail(path, where + "manifest_length", "is %d, the file has %d bytes"
                 % (row["manifest_length"], os.stat(local).st_size))
        if row["sequence_number"] > seq or row["min_sequence_number"] > row["sequence_number"]:
            fail(path, where + "sequence_number", "sequence numbers out of order")
        m = check_manifest(local, stats)
        if m["spec_id"] != row["partition_spec_id"]:
            fail(path, where + "partition_spec_id", "differs from the manifest's")
        if (m["content"] == "data") != (row["content"] == 0):
            fail(path, where + "content", "differs from the manifest's")
        for st, name in ((1, "added"), (0, "existing"), (2, "deleted")):
            if row[name + "_files_count"] != m["counts"][st][0]:
                fail(path, where + name + "_files_count", "is %d, the manifest has %d"
                     % (row[name + "_files_count"], m["counts"][st][0]))
            if row[name + "_rows_count"] != m["counts"][st][1]:
                fail(path, where + name + "_rows_count", "is %d, the manifest has %d"
                     % (row[name + "_rows_count"], m["counts"][st][1]))
        if len(row["partitions"] or []) != m["nfields"]:
            fail(path, where + "partitions", "one summary per partition field expected")
    stats["lists"] += 1


def check_metadata(path, stats):
    with open(path) as fp:
        md = json.load(fp)
    if md.get("format-version") != 2:
        fail(path, "format-version", "is not 2")
    cur = md.get("current-snapshot-id")
    if cur is None or cur == -1:
        return
    snaps = [s for s in md.get("snapshots", []) if s["snapshot-id"] == cur]
    if not snaps:
        fail(path, "current-snapshot-id", "names no snapshot")
    local = local_path(snaps[0]["manifest-list"])
    if local is None:
        fail(path, "manifest-list", "is not a file URI")
    check_list(local, stats)


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    stats = {"lists": 0, "manifests": 0, "entries": 0, "files": 0}
    try:
        for path in argv[1:]:
            if path.endswith(".json"):
                check_metadata(path, stats)
                continue
            schema, _, _ = open_avro(path)
            if schema.get("name") == "manifest_file":
                check_list(path, stats)
            else:
                check_manifest(path, stats)
    except Mismatch as err:
        print("iceberg_avro_check: " + str(err), file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError, avro.errors.AvroException) as err:
        print("iceberg_avro_check: %s: %s" % (path, err), file=sys.stderr)
        return 1
    print("iceberg_avro_check: ok: %d manifest lists, %d manifests, %d entries, %d file sizes"
          % (stats["lists"], stats["manifests"], stats["entries"], stats["files"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
