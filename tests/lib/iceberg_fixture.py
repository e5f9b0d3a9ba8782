#!/usr/bin/python3
# iceberg_fixture.py - build a tiny Apache Iceberg format-v2 table on disk,
# without sluice's Iceberg writer, so that the independent-reader tooling
# (iceberg_read.mjs, iceberg_compare.py) can be tested before sluice
# writes tables of its own.
#
#   SLUICE=/path/to/sluice iceberg_fixture.py OUT_DIR
#
# OUT_DIR (created, must not exist) receives:
#   table/                  the table; its location is file://OUT_DIR/table
#     data/d1.parquet       rows id 1..3   (data file 1)
#     data/d2.parquet       rows id 4..5   (data file 2)
#     data/del-1.parquet    a position delete file: (d1's URI, pos 1), so
#                           the row with id 2 is deleted
#     metadata/snap-*.avro  two manifest lists (snapshot 1 appends both data
#                           files, snapshot 2 adds the delete file)
#     metadata/*-m0.avro    the data manifest and the delete manifest
#     metadata/00001-<uuid>.metadata.json   (snapshot 2 current)
#   metadata.path           the path of that metadata.json, one line
#   expected.jsonl          the live rows (id 2 absent), as
#                           `sluice query --format jsonl` prints them
#   all.jsonl               every row written, the deleted one too
#   project/                the sluice project the queries ran in
#
# The Parquet files are written by DuckDB through `sluice query "COPY ...
# (FORMAT parquet, FIELD_IDS {...})"`, so they carry Iceberg field ids.
# The manifests and manifest lists are Avro object container files written
# with Debian's python3-avro from the schemas of the Iceberg spec
# (https://iceberg.apache.org/spec/ "Manifests", "Manifest Lists"; see
# also /work/shared/specs/iceberg-and-duckdb.md §1.2-1.10): every field
# carries its field-id, optional fields are unions with null first, the
# stats maps are arrays of key/value records with logicalType "map", and
# records are named as Java names them (manifest_entry, r2, r102, ...).
# Entries are written ADDED with null snapshot and sequence numbers, so a
# reader must inherit them from the manifest list, as it must for tables
# Java writes.
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
import warnings

import avro.datafile
import avro.io
import avro.schema

# ---- the table's columns and rows ---------------------------------------

# (name, field id, Iceberg type, DuckDB type)
COLUMNS = [
    ("id", 1, "long", "BIGINT"),
    ("name", 2, "string", "VARCHAR"),
    ("amount", 3, "decimal(12,2)", "DECIMAL(12,2)"),
    ("ts", 4, "timestamptz", "TIMESTAMPTZ"),
    ("day", 5, "date", "DATE"),
    ("ok", 6, "boolean", "BOOLEAN"),
    ("score", 7, "double", "DOUBLE"),
]

# One SQL tuple per row, in the column order above.  Chosen to catch the
# usual losses: microseconds, a timestamp before 1970, a negative decimal,
# a 64-bit integer beyond 2^53, non-ASCII text, NULLs.
FILE1 = [
    "(1, 'alpha', 12.50, '2026-01-02 03:04:05.123456+00', '2026-01-02', true, 1.5)",
    "(2, 'bravo (deleted)', -0.01, '2026-01-02 03:04:05.000001+00', '2026-01-02', false, 0.1)",
    "(3, 'çharlie ☃', 99999.99, '1969-12-31 23:59:59.999999+00', '1969-12-31', NULL, -2.25)",
]
FILE2 = [
    "(4, NULL, NULL, NULL, NULL, true, NULL)",
    "(9007199254740993, 'echo', 0.00, '2026-06-30 23:59:59.999999+00', '2026-06-30', false, 1e300)",
]
DELETED_ID = 2      # row position 1 of data file 1
DELETED_POS = 1

# python3-avro does not know Iceberg's logicalType "map" on arrays; it
# keeps the attribute in the schema (which is what Iceberg wants) and warns.
warnings.filterwarnings("ignore", message="Unknown map")

FIELD_ID_POS_FILE_PATH = 2147483546   # reserved ids of position deletes
FIELD_ID_POS_POS = 2147483545


def select_sql(rows, where=""):
    """A SELECT of the given VALUES tuples with the table's column types."""
    names = ", ".join(c[0] for c in COLUMNS)
    casts = ", ".join(f"{c[0]}::{c[3]} AS {c[0]}" for c in COLUMNS)
    return (f"SELECT {casts} FROM (VALUES {', '.join(rows)}) v({names})"
            f"{where} ORDER BY id")


def sluice(project, *args):
    """Run the sluice binary in the project folder; its stdout."""
    exe = os.environ.get("SLUICE")
    if not exe:
        sys.exit("iceberg_fixture: set SLUICE to the sluice binary")
    r = subprocess.run([exe, *args], cwd=project, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"iceberg_fixture: sluice {' '.join(args)[:200]} failed:\n{r.stderr}")
    return r.stdout


def copy_parquet(project, select, path, field_ids):
    ids = ", ".join(f"{k}: {v}" for k, v in field_ids.items())
    sluice(project, "query",
           f"COPY ({select}) TO '{path}' (FORMAT parquet, FIELD_IDS {{{ids}}})")


# ---- Avro schemas of the spec (v2) --------------------------------------

def opt(name, typ, fid):
    return {"name": name, "type": ["null", typ], "default": None, "field-id": fid}


def req(name, typ, fid):
    return {"name": name, "type": typ, "field-id": fid}


def int_map(key_id, value_id, value_type):
    """Iceberg map<int, T> in Avro: an array of key/value records."""
    return {"type": "array", "logicalType": "map", "items": {
        "type": "record", "name": f"k{key_id}_v{value_id}", "fields": [
            req("key", "int", key_id), req("value", value_type, value_id)]}}


DATA_FILE = {"type": "record", "name": "r2", "fields": [
    req("content", "int", 134),
    req("file_path", "string", 100),
    req("file_format", "string", 101),
    req("partition", {"type": "record", "name": "r102", "fields": []}, 102),
    req("record_count", "long", 103),
    req("file_size_in_bytes", "long", 104),
    opt("column_sizes", int_map(117, 118, "long"), 108),
    opt("value_counts", int_map(119, 120, "long"), 109),
    opt("null_value_counts", int_map(121, 122, "long"), 110),
    opt("nan_value_counts", int_map(138, 139, "long"), 137),
    opt("lower_bounds", int_map(126, 127, "bytes"), 125),
    opt("upper_bounds", int_map(129, 130, "bytes"), 128),
    opt("key_metadata", "bytes", 131),
    opt("split_offsets", {"type": "array", "items": "long", "element-id": 133}, 132),
    opt("equality_ids", {"type": "array", "items": "int", "element-id": 136}, 135),
    opt("sort_order_id", "int", 140),
    opt("referenced_data_file", "string", 143),
]}

MANIFEST_ENTRY = {"type": "record", "name": "manifest_entry", "fields": [
    req("status", "int", 0),
    opt("snapshot_id", "long", 1),
    opt("sequence_number", "long", 3),
    opt("file_sequence_number", "long", 4),
    req("data_file", DATA_FILE, 2),
]}

MANIFEST_FILE = {"type": "record", "name": "manifest_file", "fields": [
    req("manifest_path", "string", 500),
    req("manifest_length", "long", 501),
    req("partition_spec_id", "int", 502),
    req("content", "int", 517),
    req("sequence_number", "long", 515),
    req("min_sequence_number", "long", 516),
    req("added_snapshot_id", "long", 503),
    req("added_files_count", "int", 504),
    req("existing_files_count", "int", 505),
    req("deleted_files_count", "int", 506),
    req("added_rows_count", "long", 512),
    req("existing_rows_count", "long", 513),
    req("deleted_rows_count", "long", 514),
    opt("partitions", {"type": "array", "element-id": 508, "items": {
        "type": "record", "name": "r508", "fields": [
            req("contains_null", "boolean", 509),
            opt("contains_nan", "boolean", 518),
            opt("lower_bound", "bytes", 510),
            opt("upper_bound", "bytes", 511)]}}, 507),
    opt("key_metadata", "bytes", 519),
]}


def write_avro(path, schema_json, records, meta):
    schema = avro.schema.parse(json.dumps(schema_json))
    with open(path, "wb") as f:
        w = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec="deflate")
        for k, v in meta.items():
            w.set_meta(k, v.encode())
        for r in records:
            w.append(r)
        w.close()
    return os.path.getsize(path)


def data_file(content, uri, path, rows, referenced=None):
    return {
        "content": content, "file_path": uri, "file_format": "PARQUET",
        "partition": {}, "record_count": rows,
        "file_size_in_bytes": os.path.getsize(path),
        "column_sizes": None, "value_counts": None, "null_value_counts": None,
        "nan_value_counts": None, "lower_bounds": None, "upper_bounds": None,
        "key_metadata": None, "split_offsets": None, "equality_ids": None,
        "sort_order_id": 0 if content == 0 else None,
        "referenced_data_file": referenced,
    }


def added(df):
    """A manifest entry ADDED in the manifest's own snapshot: the snapshot
    id and sequence numbers are null and inherited from the manifest list."""
    return {"status": 1, "snapshot_id": None, "sequence_number": None,
            "file_sequence_number": None, "data_file": df}


def snapshot_id():
    return secrets.randbits(63) or 1


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: SLUICE=... iceberg_fixture.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out)
    table = os.path.join(out, "table")
    data_dir = os.path.join(table, "data")
    meta_dir = os.path.join(table, "metadata")
    os.makedirs(data_dir)
    os.makedirs(meta_dir)
    location = "file://" + table

    def uri(path):
        return "file://" + path

    project = os.path.join(out, "project")
    sluice(out, "init", project)

    # Data files, then the position delete file that names d1 by its URI.
    ids = {c[0]: c[1] for c in COLUMNS}
    d1 = os.path.join(data_dir, "d1.parquet")
    d2 = os.path.join(data_dir, "d2.parquet")
    copy_parquet(project, select_sql(FILE1), d1, ids)
    copy_parquet(project, select_sql(FILE2), d2, ids)
    dl = os.path.join(data_dir, "del-1.parquet")
    copy_parquet(project,
                 f"SELECT '{uri(d1)}'::VARCHAR AS file_path, {DELETED_POS}::BIGINT AS pos",
                 dl, {"file_path": FIELD_ID_POS_FILE_PATH, "pos": FIELD_ID_POS_POS})

    schema = {"type": "struct", "schema-id": 0, "fields": [
        {"id": fid, "name": name, "required": False, "type": typ}
        for name, fid, typ, _ in COLUMNS]}
    commit = uuid.uuid4()

    def manifest(k, content, entries):
        path = os.path.join(meta_dir, f"{commit}-m{k}.avro")
        size = write_avro(path, MANIFEST_ENTRY, entries, {
            "schema": json.dumps(schema), "schema-id": "0",
            "partition-spec": "[]", "partition-spec-id": "0",
            "format-version": "2", "content": content})
        return uri(path), size

    now = int(time.time() * 1000)
    s1, s2 = snapshot_id(), snapshot_id()
    while s2 == s1:
        s2 = snapshot_id()

    # Snapshot 1 (sequence 1): append d1 and d2.
    m_data, m_data_len = manifest(0, "data", [
        added(data_file(0, uri(d1), d1, len(FILE1))),
        added(data_file(0, uri(d2), d2, len(FILE2)))])
    data_row = {
        "manifest_path": m_data, "manifest_length": m_data_len,
        "partition_spec_id": 0, "content": 0,
        "sequence_number": 1, "min_sequence_number": 1, "added_snapshot_id": s1,
        "added_files_count": 2, "existing_files_count": 0, "deleted_files_count": 0,
        "added_rows_count": len(FILE1) + len(FILE2), "existing_rows_count": 0,
        "deleted_rows_count": 0, "partitions": [], "key_metadata": None}
    list1 = os.path.join(meta_dir, f"snap-{s1}-1-{commit}.avro")
    write_avro(list1, MANIFEST_FILE, [data_row], {
        "snapshot-id": str(s1), "parent-snapshot-id": "null",
        "sequence-number": "1", "format-version": "2"})

    # Snapshot 2 (sequence 2): keep the data manifest, add the deletes.
    commit2 = uuid.uuid4()
    path = os.path.join(meta_dir, f"{commit2}-m0.avro")
    m_del_len = write_avro(path, MANIFEST_ENTRY, [
        added(data_file(1, uri(dl), dl, 1, referenced=uri(d1)))], {
        "schema": json.dumps(schema), "schema-id": "0",
        "partition-spec": "[]", "partition-spec-id": "0",
        "format-version": "2", "content": "deletes"})
    del_row = dict(data_row, manifest_path=uri(path), manifest_length=m_del_len,
                   content=1, sequence_number=2, min_sequence_number=2,
                   added_snapshot_id=s2, added_files_count=1, added_rows_count=1)
    list2 = os.path.join(meta_dir, f"snap-{s2}-1-{commit2}.avro")
    write_avro(list2, MANIFEST_FILE, [data_row, del_row], {
        "snapshot-id": str(s2), "parent-snapshot-id": str(s1),
        "sequence-number": "2", "format-version": "2"})

    sizes = os.path.getsize(d1) + os.path.getsize(d2)
    snaps = [
        {"snapshot-id": s1, "sequence-number": 1, "timestamp-ms": now - 1000,
         "manifest-list": uri(list1), "schema-id": 0,
         "summary": {"operation": "append", "added-data-files": "2",
                     "added-records": str(len(FILE1) + len(FILE2)),
                     "total-data-files": "2", "total-delete-files": "0",
                     "total-records": str(len(FILE1) + len(FILE2)),
                     "total-files-size": str(sizes),
                     "total-position-deletes": "0", "total-equality-deletes": "0"}},
        {"snapshot-id": s2, "parent-snapshot-id": s1, "sequence-number": 2,
         "timestamp-ms": now, "manifest-list": uri(list2), "schema-id": 0,
         "summary": {"operation": "delete", "added-delete-files": "1",
                     "added-position-delete-files": "1", "added-position-deletes": "1",
                     "total-data-files": "2", "total-delete-files": "1",
                     "total-records": str(len(FILE1) + len(FILE2)),
                     "total-files-size": str(sizes + os.path.getsize(dl)),
                     "total-position-deletes": "1", "total-equality-deletes": "0"}},
    ]
    metadata = {
        "format-version": 2, "table-uuid": str(uuid.uuid4()), "location": location,
        "last-sequence-number": 2, "last-updated-ms": now,
        "last-column-id": max(c[1] for c in COLUMNS),
        "current-schema-id": 0, "schemas": [schema],
        "default-spec-id": 0, "partition-specs": [{"spec-id": 0, "fields": []}],
        "last-partition-id": 999,
        "default-sort-order-id": 0, "sort-orders": [{"order-id": 0, "fields": []}],
        "properties": {},
        "current-snapshot-id": s2,
        "refs": {"main": {"snapshot-id": s2, "type": "branch"}},
        "snapshots": snaps,
        "snapshot-log": [{"timestamp-ms": s["timestamp-ms"], "snapshot-id": s["snapshot-id"]}
                         for s in snaps],
        "metadata-log": [],
    }
    meta_path = os.path.join(meta_dir, f"00001-{uuid.uuid4()}.metadata.json")
    with open(meta_path, "w") as f:
        json.dump(metadata, f, indent=2)
    with open(os.path.join(out, "metadata.path"), "w") as f:
        f.write(meta_path + "\n")

    # What a correct reader must return, as DuckDB renders it.
    with open(os.path.join(out, "expected.jsonl"), "w") as f:
        f.write(sluice(project, "query", "--format", "jsonl",
                       select_sql(FILE1 + FILE2, f" WHERE id <> {DELETED_ID}")))
    with open(os.path.join(out, "all.jsonl"), "w") as f:
        f.write(sluice(project, "query", "--format", "jsonl", select_sql(FILE1 + FILE2)))
    print(meta_path)


if __name__ == "__main__":
    main()
