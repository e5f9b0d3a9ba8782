# Bad input: a clear message naming file, line, record or field; a
# non-zero exit; and nothing changed.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
mkdir in
cat > in/ok.csv <<'CSV'
customer_id,name,email,country,signup_date,lifetime_value,is_active,updated_at
C9,Zed,z@example.com,DE,2024-01-01,1.00,true,2026-10-05T00:00:00Z
CSV
sluice ingest --source customers examples/customers.csv >/dev/null
sluice transform --source customers >/dev/null

snapshot() {
    (cd lake && find . -type f ! -name '*.lock' ! -name 'catalog.db*' -exec sha256sum {} + | sort)
    sluice raw ls --format jsonl
    sluice runs --limit 0 | awk '{print $1, $3, $4, $5}'
}
snapshot > "$T/before"
unchanged() {
    snapshot > "$T/after"
    diff "$T/before" "$T/after" || fail "the lake changed after: $1"
}
status_of() { s=0; "$@" >/dev/null 2>&1 || s=$?; echo $s; }

say "malformed sluice.yaml names the line"
cp sluice.yaml sluice.yaml.good
printf 'lake: ./lake\nengine:\n  threads: [1\n' > sluice.yaml
expect_fail "sluice.yaml:4: invalid YAML" sluice sources
printf 'lake: ./lake\nengnie:\n  threads: 1\n' > sluice.yaml
expect_fail "sluice.yaml:2: unknown key 'engnie'" sluice sources
printf 'lake: ./lake\nengine:\n  threads: -3\n' > sluice.yaml
expect_fail "sluice.yaml:3: key 'engine.threads': value -3 is out of range" sluice transform --source customers
cp sluice.yaml.good sluice.yaml
unchanged "bad sluice.yaml"

say "malformed source YAML names the file and line"
cp sources/customers.yaml customers.good
sed -i 's/type: date/type: dat/' sources/customers.yaml
expect_fail "sources/customers.yaml:" sluice ingest --source customers in/ok.csv
grep -q "unknown type 'dat'" "$T/err"
printf 'contracts:\n  - version: "1.0"\n    key: [a\n' > sources/customers.yaml
expect_fail "sources/customers.yaml:" sluice transform --source customers
cp customers.good sources/customers.yaml
unchanged "bad source YAML"

say "unknown source and contract version"
expect_fail "unknown source 'custmers': there is no sources/custmers.yaml" sluice ingest --source custmers in/ok.csv
grep -q "known sources: customers" "$T/err"
expect_fail "unknown contract version '3.1' of source 'customers'" sluice ingest --source customers --contract-version 3.1 in/ok.csv
unchanged "unknown source or version"

say "missing, unreadable and wrongly named files"
expect_fail "cannot open 'in/nope.csv': No such file or directory" sluice ingest --source customers in/ok.csv in/nope.csv
# A folder is named as one whatever its name, with or without --format.
mkdir in/dir.csv in/folder
expect_fail "cannot land 'in/dir.csv': it is a directory" sluice ingest --source customers in/dir.csv
expect_fail "cannot land 'in/folder': it is a directory" sluice ingest --source customers in/folder
expect_fail "cannot land 'in/folder': it is a directory" \
    sluice ingest --source customers --format jsonl in/folder
expect_fail "cannot land 'in/folder': it is a directory" sluice ingest --source customers in/ok.csv in/folder
cp in/ok.csv in/secret.csv
chmod 000 in/secret.csv
if [ "$(id -u)" = 0 ]; then
    # root reads anything: run as nobody to see the refusal
    chmod 755 "$T" "$T/p" "$T/p/in"
    chmod -R a+rwX lake
    expect_fail "cannot open 'in/secret.csv': Permission denied" \
        sluice_as_nobody ingest --source customers in/secret.csv
else
    expect_fail "Permission denied" sluice ingest --source customers in/secret.csv
fi
printf 'x' > in/notes.txt
expect_fail "cannot tell the format of 'in/notes.txt' from its name" sluice ingest --source customers in/notes.txt
unchanged "missing or unreadable files"

say "a file that is not the format its name says"
printf '{"customer_id":"C1"}\n' > in/json.csv
expect_fail "looks like JSON, not CSV" sluice ingest --source customers in/json.csv
cp in/ok.csv in/csv.jsonl
expect_fail "'in/csv.jsonl' is not JSON lines" sluice ingest --source customers in/csv.jsonl
printf '{"a":1}\n' > in/obj.json
expect_fail "'in/obj.json' is not a JSON array" sluice ingest --source customers in/obj.json
printf 'PK\003\004\000\000binary' > in/zip.csv
expect_fail "holds binary data" sluice ingest --source customers in/zip.csv
cp in/ok.csv in/fake.avro
expect_fail "is not an Avro object container file" sluice ingest --source customers in/fake.avro
cp in/ok.csv in/plain.csv.gz
expect_fail "'in/plain.csv.gz' is not valid gzip" sluice ingest --source customers in/plain.csv.gz
unchanged "wrong formats"

say "files without a record, plain and gzip"
: > in/empty.csv
expect_fail "in/empty.csv: the file is empty: a CSV file needs a header line" \
    sluice ingest --source customers in/empty.csv
: > in/empty.jsonl
expect_fail "in/empty.jsonl: the file is empty: a JSON lines file needs at least one record" \
    sluice ingest --source customers in/empty.jsonl
printf '\n  \r\n\t\n' > in/blank.ndjson
expect_fail "in/blank.ndjson: the file holds only whitespace: a JSON lines file needs at least one record" \
    sluice ingest --source customers in/blank.ndjson
: | gzip > in/empty.jsonl.gz
expect_fail "in/empty.jsonl.gz: the file is empty: a JSON lines file needs at least one record" \
    sluice ingest --source customers in/empty.jsonl.gz
printf '\n\n' | gzip > in/blank.ndjson.gz
expect_fail "in/blank.ndjson.gz: the file holds only whitespace" \
    sluice ingest --source customers in/blank.ndjson.gz
: > in/empty.json
expect_fail "in/empty.json: the file is empty: a JSON file needs an array of at least one record" \
    sluice ingest --source customers in/empty.json
printf ' \n\n' > in/blank.json
expect_fail "in/blank.json: the file holds only whitespace: a JSON file needs an array of at least one record" \
    sluice ingest --source customers in/blank.json
printf '[]\n' > in/none.json
expect_fail "in/none.json: the JSON array is empty: a JSON file needs an array of at least one record" \
    sluice ingest --source customers in/none.json
printf '[ \n ]' | gzip > in/none.json.gz
expect_fail "in/none.json.gz: the JSON array is empty" sluice ingest --source customers in/none.json.gz
expect_fail "in/empty.jsonl: the file is empty" sluice ingest --source customers in/ok.csv in/empty.jsonl
unchanged "files without a record"

say "truncated gzip"
seq 1 200000 | sed 's/^/C,x,y,z,2024-01-01,1.00,true,2026-10-05T00:00:00Z,/' > big.txt
{ head -n 1 in/ok.csv; seq 1 100000 | awk '{printf "C%d,Name %d,,DE,2024-01-01,1.00,true,2026-10-05T00:00:00Z\n", $1, $1}'; } | gzip > in/full.csv.gz
head -c $(( $(stat -c %s in/full.csv.gz) / 2 )) in/full.csv.gz > in/cut.csv.gz
expect_fail "'in/cut.csv.gz' is truncated" sluice ingest --source customers in/ok.csv in/cut.csv.gz
unchanged "truncated gzip"

say "a CSV header that does not match the contract"
printf 'customer_id,name,colour,updated_at\nC1,a,red,2026-10-05T00:00:00Z\n' > in/extra.csv
expect_fail "in/extra.csv:1: the CSV header does not match contract version 1.0: unknown column \"colour\" (header field 3)" \
    sluice ingest --source customers in/extra.csv
printf 'customer_id,email\nC1,a@b\n' > in/missing.csv
expect_fail "required column \"name\" is missing" sluice ingest --source customers in/missing.csv
unchanged "CSV header"

say "an incompatible contract change is refused, saying exactly what changed"
cp sources/customers.yaml customers.good
sed -i 's/version: "1.0"/version: "1.0"\n    description: same/; s/{name: lifetime_value, type: "decimal(12,2)"}/{name: lifetime_value, type: double}/' sources/customers.yaml
expect_fail "contract version 1.0 of source 'customers' differs from the registered one: column 'lifetime_value' changed type from decimal(12,2) to double" \
    sluice ingest --source customers in/ok.csv
cp customers.good sources/customers.yaml
awk '/^contracts:/ {print; next} {print}' sources/customers.yaml > /dev/null
cat >> sources/customers.yaml <<'YAML'
  - version: "1.1"
    key: [customer_id]
    event_time: updated_at
    columns:
      - {name: customer_id, type: string, required: true}
      - {name: name, type: string, required: true}
      - {name: updated_at, type: timestamp, required: true}
YAML
expect_fail "contract version 1.1 is not compatible with 1.0: column 'email' was removed" \
    sluice ingest --source customers in/ok.csv
# the line of the version refused (the template's length aside)
grep -q "sources/customers.yaml:$(grep -n 'version: "1.1"' sources/customers.yaml | cut -d: -f1)" "$T/err" ||
    fail "the refused version's line"
grep -q "needs a new major version (2.0)" "$T/err"
cp customers.good sources/customers.yaml
unchanged "incompatible contract"

say "one bad file among good ones: nothing lands"
expect_fail "in/zip.csv" sluice ingest --source customers in/ok.csv in/zip.csv
unchanged "one bad file"

say "exit status is 1 for failures, 2 for usage"
expect_eq "failure status" "$(status_of sluice ingest --source customers in/zip.csv)" 1
expect_eq "usage status" "$(status_of sluice ingest --source customers)" 2
sluice verify | grep -q "^ok"
