# Every rejected record reaches quarantine with object, position, field
# and reason; nothing is dropped silently; the run does not fail.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
write_source m <<'YAML'
contracts:
  - version: "1.0"
    key: [k]
    event_time: t
    columns:
      - {name: k, type: string, required: true}
      - {name: t, type: timestamp, required: true}
      - {name: v, type: double}
      - {name: d, type: date}
YAML
mkdir in
{
    printf '{"k":"a","t":"2026-10-01T00:00:00Z","v":1}\n'
    printf '{"k":"b","t":"2026-10-01T00:00:00Z","v":"one"}\n'
    printf '{"k":"c","t":"2026-10-01T00:00:00Z","d":"2026-02-30"}\n'
    printf '{"k":"d\377","t":"2026-10-01T00:00:00Z"}\n'
    printf '{"t":"2026-10-01T00:00:00Z"}\n'
    printf 'not json at all\n'
    printf '{"k":"e","t":"2026-10-01T00:00:00Z","extra":true}\n'
    printf '{"k":"f","t":"2026-10-01T00:00:00Z"}\n'
} > in/m.jsonl
printf 'k,t,v,d\ng,2026-10-01T00:00:00Z,2,\nh,2026-10-01T00:00:00Z,2,2026-13-01\n"i,2026-10-01T00:00:00Z\n' > in/m.csv
sluice ingest --source m in/m.jsonl in/m.csv >/dev/null
sluice transform --source m > out
cat out
grep -q "balance      11 = 3 + 8 + 0  ok" out
q "SELECT original_name, line, coalesce(field, '-'), reason FROM quarantine.m ORDER BY original_name DESC, line" > got
cat got
cat > want <<'EOF2'
m.jsonl,2,v,"expected a number, found ""one"""
m.jsonl,3,d,"""2026-02-30"" is not a valid date"
m.jsonl,4,k,invalid UTF-8 at byte 8 in field k
m.jsonl,5,k,required field is missing
m.jsonl,6,-,"invalid JSON at byte 1: invalid literal (expected true, false or null)"
m.jsonl,7,-,"unknown field ""extra"" (not in contract version 1.0)"
m.csv,3,d,"""2026-13-01"" is not a valid date"
m.csv,4,-,a quoted field is not closed (the rest of the file is this record)
EOF2
diff want got || fail "quarantine reasons"

say "the record text is kept; invalid UTF-8 as base64"
expect_eq "text" "$(q "SELECT text FROM quarantine.m WHERE line = 2 AND original_name = 'm.jsonl'")" \
    '"{""k"":""b"",""t"":""2026-10-01T00:00:00Z"",""v"":""one""}"'
expect_eq "base64" "$(q "SELECT from_base64(text_base64) = '{\"k\":\"d'::BLOB || '\\xFF'::BLOB || '\",\"t\":\"2026-10-01T00:00:00Z\"}'::BLOB FROM quarantine.m WHERE line = 4 AND original_name = 'm.jsonl'")" true
expect_eq "object" "$(q "SELECT DISTINCT raw_object FROM quarantine.m WHERE original_name = 'm.csv'")" "$(sha256sum in/m.csv | cut -c1-32)"
ls lake/quarantine/m/dt=*/run-*.jsonl >/dev/null
sluice verify | grep -q "^ok"
