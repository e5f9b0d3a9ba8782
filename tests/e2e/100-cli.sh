# The command line: help, version, init, finding the project.
. "$SLUICE_SRC/tests/e2e/lib.sh"

say "help and version"
sluice --help | grep -q "^usage: sluice"
sluice --version | grep -q "^sluice [0-9]*\.[0-9]*\.[0-9]* (DuckDB v1.4.4)"
for cmd in init ingest raw transform query runs sources verify; do
    sluice "$cmd" --help | grep -q "^usage: sluice $cmd" || fail "$cmd --help"
    sluice help "$cmd" | grep -q "^usage: sluice $cmd" || fail "help $cmd"
done
expect_fail "unknown command 'frobnicate'" sluice frobnicate
status=0; sluice frobnicate 2>/dev/null || status=$?
expect_eq "usage exit status" "$status" 2
expect_fail "--source is required" sluice transform

say "init writes a working project"
sluice init "$T/p" | grep -q "created a sluice project"
[ -f "$T/p/sluice.yaml" ] && [ -f "$T/p/sources/customers.yaml" ] && [ -f "$T/p/examples/customers.csv" ]
grep -q '^lake: ./lake' "$T/p/sluice.yaml"
expect_fail "already holds a sluice project" sluice init "$T/p"

say "the project is found from a subfolder, or with --project"
mkdir -p "$T/p/deep/er"
cd "$T/p/deep/er"
sluice sources | grep -q "^customers "
cd "$T"
expect_fail "not in a sluice project" sluice sources
sluice --project "$T/p" sources | grep -q "^customers "
expect_fail "is not a sluice project" sluice --project "$T" sources

say "the example works as printed by init"
cd "$T/p"
sluice ingest --source customers examples/customers.csv | grep -q "1 object landed"
sluice transform --source customers | grep -q "balance      5 = 3 + 1 + 1  ok"
expect_eq "rows" "$(q 'SELECT count(*) FROM curated.customers')" 3
# partition_by: auto - three customers, a year apart at most: one folder a year
[ -d lake/curated/customers/year=2026 ]
sluice verify | grep -q "^ok"

say "a current folder that was removed: no project, not a hang"
mkdir "$T/gone"
cd "$T/gone"
rmdir "$T/gone"
expect_fail "not in a sluice project" timeout 60 "$SLUICE" raw ls
cd "$T"
