# Raw -> curated: one row per key across runs, late updates, redelivery,
# ties, partitions, accounts, bookmarks.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source orders <<'YAML'
system: erp
contracts:
  - version: "1.0"
    key: [order_id]
    event_time: at
    partition_by: day
    columns:
      - {name: order_id, type: string, required: true}
      - {name: status, type: string, required: true}
      - {name: amount, type: "decimal(12,2)"}
      - {name: at, type: timestamp, required: true}
YAML
mkdir in
account() { grep -E "^  (records in|written|quarantined|duplicates|balance)" "$1" | tr -s ' '; }

say "first batch: duplicates inside the batch keep the latest event"
cat > in/1.jsonl <<'EOF2'
{"order_id":"A","status":"new","amount":10.00,"at":"2026-10-01T10:00:00Z"}
{"order_id":"B","status":"new","amount":20.00,"at":"2026-10-01T11:00:00Z"}
{"order_id":"A","status":"paid","amount":10.00,"at":"2026-10-01T12:00:00Z"}
{"order_id":"C","status":"new","amount":30.00,"at":"2026-10-02T09:00:00Z"}
{"order_id":"A","status":"stale","amount":1.00,"at":"2026-10-01T09:00:00Z"}
{"order_id":"D","status":"new","amount":"x","at":"2026-10-02T09:00:00Z"}
EOF2
sluice ingest --source orders in/1.jsonl >/dev/null
sluice transform --source orders > out1
cat out1
account out1 | grep -q "records in 6"
account out1 | grep -q "written 3 new keys 3, replacing 0 older rows"
account out1 | grep -q "quarantined 1"
account out1 | grep -q "duplicates 2"
account out1 | grep -q "balance 6 = 3 + 1 + 2 ok"
expect_eq "A" "$(q "SELECT status FROM curated.orders WHERE order_id = 'A'")" paid
[ -d lake/curated/orders/dt=2026-10-01 ] && [ -d lake/curated/orders/dt=2026-10-02 ]

say "a rerun with nothing new does nothing"
find lake -type f ! -path '*/_catalog/*' | sort > before
sluice transform --source orders | grep -q "nothing to do"
find lake -type f ! -path '*/_catalog/*' | sort > after
cmp before after

say "later batches: updates replace, older events lose, redeliveries drop"
cat > in/2.jsonl <<'EOF2'
{"order_id":"B","status":"shipped","amount":20.00,"at":"2026-10-03T08:00:00Z"}
{"order_id":"C","status":"older","amount":30.00,"at":"2026-10-02T08:00:00Z"}
{"order_id":"A","status":"paid","amount":10.00,"at":"2026-10-01T12:00:00Z"}
{"order_id":"E","status":"new","amount":50.00,"at":"2026-10-02T10:00:00Z"}
EOF2
sluice ingest --source orders in/2.jsonl >/dev/null
sluice transform --source orders > out2
cat out2
account out2 | grep -q "written 2 new keys 1, replacing 1 older row"
account out2 | grep -q "duplicates 2"
expect_eq "B moved" "$(q "SELECT status || ' ' || CAST(\"at\" AS DATE) FROM curated.orders WHERE order_id = 'B'")" "shipped 2026-10-03"
expect_eq "C kept" "$(q "SELECT status FROM curated.orders WHERE order_id = 'C'")" new
expect_eq "A kept its first arrival" \
    "$(q "SELECT _raw_object FROM curated.orders WHERE order_id = 'A'")" \
    "$(sha256sum in/1.jsonl | cut -c1-32)"
# B left 2026-10-01: its file there was rewritten without it.  The old
# file stays for the older snapshot until it expires.
expect_eq "files before expiry" "$(find lake/curated/orders -name '*.parquet' | wc -l)" 5
sluice expire curated.orders --older-than 0s | grep -q "1 snapshot(s) expired, 3 file(s) removed"
expect_eq "dt=2026-10-01 rows" "$(q "SELECT count(*) FROM read_parquet('lake/curated/orders/dt=2026-10-01/*.parquet')")" 1
expect_eq "dt=2026-10-03 rows" "$(q "SELECT count(*) FROM read_parquet('lake/curated/orders/dt=2026-10-03/*.parquet')")" 1

say "a tie on event time goes to the later arrival when the values differ"
printf '{"order_id":"E","status":"corrected","amount":55.00,"at":"2026-10-02T10:00:00Z"}\n' > in/3.jsonl
sluice ingest --source orders in/3.jsonl >/dev/null
sluice transform --source orders > out3
account out3 | grep -q "written 1 new keys 0, replacing 1 older row"
expect_eq "E" "$(q "SELECT status || ' ' || amount FROM curated.orders WHERE order_id = 'E'")" "corrected 55.00"

say "one row per key, files as the catalog says"
expect_eq "rows" "$(q "SELECT count(*) || ' ' || count(DISTINCT order_id) FROM curated.orders")" "4 4"
sluice expire curated.orders --older-than 0s >/dev/null
expect_eq "all files" "$(q "SELECT count(*) FROM read_parquet('lake/curated/orders/*/*.parquet')")" 4
sluice verify | grep -q "^ok"

say "the bookmark moved past every object; runs are recorded"
sluice runs --source orders | awk '$3 == "transform" {print $NF}' | sort -u | grep -qx ok
expect_eq "transform runs" "$(sluice runs --source orders | awk '$3 == "transform"' | wc -l)" 3
expect_eq "ingest runs" "$(sluice runs --source orders | awk '$3 == "ingest"' | wc -l)" 3

say "CSV, JSON arrays and gzip go the same way"
printf 'order_id,status,amount,at\nF,new,1.5,2026-10-04T00:00:00Z\nG,new,,2026-10-04T00:00:00+02:00\n' | gzip > in/4.csv.gz
printf '[{"order_id":"H","status":"new","at":"2026-10-04T00:00:00Z"}]' > in/5.json
sluice ingest --source orders in/4.csv.gz in/5.json >/dev/null
sluice transform --source orders | grep -q "written                 3"
expect_eq "G day" "$(q "SELECT CAST(\"at\" AS DATE) FROM curated.orders WHERE order_id = 'G'")" 2026-10-03
expect_eq "F amount" "$(q "SELECT amount FROM curated.orders WHERE order_id = 'F'")" 1.50
