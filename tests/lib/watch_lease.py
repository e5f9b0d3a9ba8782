"""Watch a lease in a catalog until another holder has it; say how the old
holder let it go.

    watch_lease.py CATALOG LEASE OLD_HOLDER TTL_MS TIMEOUT_S

CATALOG is the SQLite file of an embedded catalog or a postgresql:// URL
(read with psycopg2, Debian's python3-psycopg2).

Reads the lease's row every 10 ms (its columns as catalog/schema.c makes
them: holder, epoch, expires_ms).  Prints "watching" once it has seen
OLD_HOLDER hold the lease, then, when another holder has it, "released
by <old> to <new>" if the old holder gave it up - its expiry moved back
(a release expires it now), or the new holder took it before the old
lease would have run out (a renewal by the new holder sets its expiry to
the time it took the lease plus TTL_MS) - or "expired ..." if the new
holder had to wait for the expiry.  Exits 1 on timeout.  Expiry times
are the database's clock (for SQLite, this machine's).
"""
import sqlite3
import sys
import time

db, lease, old, ttl_ms, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), \
    float(sys.argv[5])
if db.startswith("postgresql://"):
    import psycopg2

    class Pg:
        """What this script asks of a connection, on PostgreSQL."""

        def __init__(self, url):
            self.con = psycopg2.connect(url)
            self.con.autocommit = True

        def execute(self, sql, params):
            cur = self.con.cursor()
            cur.execute(sql.replace("?", "%s"), params)
            return cur

    con = Pg(db)
else:
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
deadline = time.monotonic() + timeout
max_old = None     # the latest expiry seen while old held the lease
moved_back = False
said = False
while time.monotonic() < deadline:
    row = con.execute("SELECT holder, expires_ms FROM leases WHERE name = ?",
                      (lease,)).fetchone()
    if row is not None:
        holder, expires = row
        if holder == old:
            if max_old is not None and expires < max_old:
                moved_back = True
            max_old = expires if max_old is None else max(max_old, expires)
            if not said:
                print("watching", flush=True)
                said = True
        elif max_old is not None:
            taken_at = expires - ttl_ms
            how = "released" if moved_back or taken_at < max_old else "expired"
            print(f"{how} by {old} to {holder} (taken {max_old - taken_at} ms before the "
                  f"old lease would have run out)", flush=True)
            sys.exit(0)
    time.sleep(0.01)
print("timeout", flush=True)
sys.exit(1)
