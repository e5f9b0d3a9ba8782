# sluice query: output formats, several statements, errors.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
sluice ingest --source customers examples/customers.csv >/dev/null
sluice transform --source customers >/dev/null

say "table, csv, json, jsonl"
sluice query "SELECT customer_id, lifetime_value, is_active FROM curated.customers ORDER BY 1" > table
cat table
head -n 2 table | tail -n 1 | grep -q '^-----------  --------------  ---------$'
grep -q '^C003                   NULL      false$' table
tail -n 1 table | grep -q '^(3 rows)$'
expect_eq "csv" "$(sluice query --format csv "SELECT name, email FROM curated.customers WHERE customer_id = 'C001'")" \
    "$(printf 'name,email\nAda Lovelace,ada@example.com')"
sluice query --format json "SELECT customer_id, lifetime_value, is_active, signup_date, updated_at FROM curated.customers ORDER BY 1 LIMIT 1" > json
$PY - json <<'PYEOF'
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows == [{"customer_id": "C001", "lifetime_value": 1520.50, "is_active": True,
                 "signup_date": "2024-01-15", "updated_at": "2026-10-01 09:00:00+00"}], rows
PYEOF
expect_eq "jsonl lines" "$(sluice query --format jsonl 'SELECT * FROM curated.customers' | wc -l)" 3
expect_eq "csv quoting" "$(sluice query --format csv "SELECT 'a,b' AS x, 'say \"hi\"' AS y")" \
    "$(printf 'x,y\n"a,b","say ""hi"""')"

say "several statements: the last one prints"
expect_eq "last" "$(q "CREATE TEMP TABLE t AS SELECT 41 AS x; SELECT x + 1 FROM t")" 42
expect_eq "nested" "$(sluice query --format jsonl "SELECT [1, 2] AS l, {'k': 'v'} AS s")" '{"l": "[1, 2]", "s": "{'"'k'"': '"'v'"'}"}'

say "quarantine is a table too"
expect_eq "quarantine" "$(q 'SELECT field FROM quarantine.customers')" signup_date

say "errors"
expect_fail "Table with name nope does not exist" sluice query "SELECT * FROM curated.nope"
expect_fail "syntax error" sluice query "SELEC 1"
expect_fail "is table, csv, json or jsonl" sluice query --format xml "SELECT 1"
