"""Freshness of the stream path: from put to visible in the curated table.

    freshness.py SLUICE PROJECT_DIR TABLE

Each event carries its send time in `ts` (the load generator writes the
time its request was sent).  An event becomes visible when the transform run
that read its raw object commits; the run's finish time is in the catalog
(runs), the object's place in the arrival order too (raw_objects), and each
curated row names its object (_raw_object).  Prints p50, p99 and max of
visible - sent over every event, and the count.
"""
import csv
import io
import sqlite3
import subprocess
import sys

sluice, project, table = sys.argv[1:4]
rows = subprocess.run(
    [sluice, "--project", project, "query", "--format", "csv",
     f"SELECT _raw_object, epoch_ms(ts) AS sent FROM curated.{table}"],
    check=True, capture_output=True, text=True).stdout
db = sqlite3.connect(f"file:{project}/lake/_catalog/catalog.db?mode=ro", uri=True)
seq_of = dict(db.execute("SELECT object_id, seq FROM raw_objects WHERE source = ?", (table,)))
runs = db.execute("SELECT from_seq, to_seq, finished_at FROM runs WHERE kind = 'transform' "
                  "AND source = ? ORDER BY to_seq", (table,)).fetchall()


def visible_ms(seq):
    for lo, hi, fin in runs:
        if lo < seq <= hi:
            return fin / 1000
    return None


lag = []
cache = {}
for r in csv.DictReader(io.StringIO(rows)):
    obj = r["_raw_object"]
    if obj not in cache:
        cache[obj] = visible_ms(seq_of[obj])
    if cache[obj] is not None:
        lag.append(cache[obj] - float(r["sent"]))
lag.sort()
if not lag:
    print("RESULT events=0")
    sys.exit(1)
pct = lambda p: lag[min(len(lag) - 1, int(p * len(lag)))] / 1000
print(f"RESULT events={len(lag)} p50_s={pct(0.50):.2f} p99_s={pct(0.99):.2f} "
      f"max_s={lag[-1] / 1000:.2f} transforms={len(runs)}")
