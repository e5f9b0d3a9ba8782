#!/usr/bin/python3
"""The manifest entries of a table's current snapshot, read with python3-avro
(not sluice), one JSON line each:

  {"status": 0|1|2, "spec_id": N, "content": 0|1, "path": URI, "records": N,
   "partition": {FIELD_NAME: VALUE, ...}}

  iceberg_entries.py METADATA_JSON

status: 0 existing, 1 added, 2 deleted (by this snapshot); spec_id is the
partition spec of the manifest that holds the entry; content 0 data, 1
position deletes; partition the entry's partition struct as python3-avro
reads it (a day as its text YYYY-MM-DD, a bucket as its int).
"""
import json
import sys

from avro.datafile import DataFileReader
from avro.io import DatumReader


def records(uri):
    with DataFileReader(open(uri.removeprefix("file://"), "rb"), DatumReader()) as r:
        return list(r)


def main():
    meta = json.load(open(sys.argv[1]))
    cur = [s for s in meta["snapshots"] if s["snapshot-id"] == meta["current-snapshot-id"]][0]
    for m in records(cur["manifest-list"]):
        for e in records(m["manifest_path"]):
            print(json.dumps({"status": e["status"], "spec_id": m["partition_spec_id"],
                              "content": e["data_file"]["content"],
                              "path": e["data_file"]["file_path"],
                              "records": e["data_file"]["record_count"],
                              "partition": e["data_file"]["partition"],
                              "referenced_data_file":
                                  e["data_file"].get("referenced_data_file")}, default=str))


if __name__ == "__main__":
    main()
