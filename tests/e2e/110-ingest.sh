# Landing: formats, object ids, layout, duplicates, the catalog record.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source events <<'YAML'
system: web
contracts:
  - version: "1.0"
    key: [id]
    event_time: at
    columns:
      - {name: id, type: string, required: true}
      - {name: at, type: timestamp, required: true}
      - {name: n, type: int64}
  - version: "1.1"
    key: [id]
    event_time: at
    columns:
      - {name: id, type: string, required: true}
      - {name: at, type: timestamp, required: true}
      - {name: n, type: int64}
      - {name: note, type: string}
YAML
mkdir in
printf 'id,at,n\na,2026-10-01T00:00:00Z,1\n' > in/a.csv
printf '{"id":"b","at":"2026-10-02T00:00:00Z","n":2}\n' > in/b.jsonl
printf '[{"id":"c","at":"2026-10-03T00:00:00Z","n":3}]\n' > in/c.json
printf '{"id":"d","at":"2026-10-04T00:00:00Z"}\n' | gzip > in/d.ndjson.gz
$PY - in/e.avro <<'PYEOF'
import sys, datetime, avro.schema, avro.datafile, avro.io
# The doc holds a character beyond U+FFFF: JSON writers escape it as a
# surrogate pair, which must not hide the logical types.
schema = avro.schema.parse('{"type":"record","name":"E","doc":"events \\ud83d\\udce6","fields":[{"name":"id","type":"string"},'
    '{"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},'
    '{"name":"n","type":["null","long"]}]}')
w = avro.datafile.DataFileWriter(open(sys.argv[1], "wb"), avro.io.DatumWriter(), schema)
w.append({"id": "e", "at": datetime.datetime(2026, 10, 2, tzinfo=datetime.timezone.utc), "n": 5})
w.close()
PYEOF

say "five formats land in one call"
sluice ingest --source events in/a.csv in/b.jsonl in/c.json in/d.ndjson.gz in/e.avro > out
grep -q "5 objects landed, 0 duplicates" out
sluice raw ls --source events | tail -n 1 | grep -q "^5 objects"

say "objects are the bytes that arrived, named by their content"
sluice raw ls --format jsonl > ls.jsonl
for f in a.csv b.jsonl c.json d.ndjson.gz e.avro; do
    key=$($PY -c "import json,sys
for l in open('ls.jsonl'):
    o = json.loads(l)
    if o['original_name'] == sys.argv[1]: print(o['key'], o['object_id'], o['checksum'], o['system'], o['contract_version'], o['size'])" "$f")
    set -- $key
    cmp "in/$f" "lake/$1" || fail "raw object of $f differs from the input"
    sha=$(sha256sum "in/$f" | cut -c1-64)
    expect_eq "id of $f" "$2" "$(echo "$sha" | cut -c1-32)"
    expect_eq "checksum of $f" "$3" "sha256:$sha"
    expect_eq "system" "$4" web
    expect_eq "version" "$5" 1.1
    expect_eq "size" "$6" "$(stat -c %s "in/$f")"
    echo "$1" | grep -Eq "^raw/events/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/$2\.(csv|jsonl|json|jsonl\.gz|avro)$" \
        || fail "key layout: $1"
done

say "the same bytes again are a duplicate and change nothing"
find lake -type f ! -path '*/_catalog/*' | sort > before
sluice ingest --source events in/b.jsonl | grep -q "duplicate  in/b.jsonl  already landed as raw/events/"
cp in/b.jsonl in/b-copy.jsonl
sluice ingest --source events --contract-version 1.0 in/b-copy.jsonl | grep -q "0 objects landed, 1 duplicate"
find lake -type f ! -path '*/_catalog/*' | sort > after
cmp before after || fail "a duplicate changed the lake"
expect_eq "objects" "$(sluice raw ls | tail -n 1)" "5 objects, $(sluice raw ls --format jsonl | $PY -c 'import json,sys; print("{:,}".format(sum(json.loads(l)["size"] for l in sys.stdin)))') bytes"

say "an explicit contract version is recorded; --format overrides the name"
printf 'id,at,n\nf,2026-10-05T00:00:00Z,6\n' > in/f.txt
sluice ingest --source events --contract-version 1.0 --format csv in/f.txt | grep -q "contract 1.0"
sluice raw ls --format jsonl | tail -n 1 | grep -q '"contract_version": "1.0"'

say "everything lands in the curated table"
sluice transform --source events | grep -q "written                 6"
expect_eq "ids" "$(q "SELECT string_agg(id, '' ORDER BY id) FROM curated.events")" abcdef
expect_eq "avro value" "$(q "SELECT n || ' ' || \"at\" FROM curated.events WHERE id = 'e'")" "5 2026-10-02 00:00:00+00"
sluice verify --deep | grep -q "^ok"
