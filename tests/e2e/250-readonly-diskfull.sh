# A lake that cannot be written, and a disk that fills up mid-run: a clear
# message, a non-zero exit, and nothing partial becomes visible.
. "$SLUICE_SRC/tests/e2e/lib.sh"

new_project
mkdir in
$PY "$SLUICE_SRC/bench/gen_orders.py" base 3000 in/o.jsonl
cp "$SLUICE_SRC/tests/lib/orders.yaml" sources/orders.yaml
sluice ingest --source customers examples/customers.csv >/dev/null
sluice transform --source customers >/dev/null

snapshot() {
    (cd "$1/lake" && find . -path ./_catalog -prune -o -type f -print | sort | xargs sha256sum)
    (cd "$1" && sluice raw ls --format jsonl && sluice runs --limit 0 | awk '{print $1, $3, $4}')
}
snapshot "$T/p" > "$T/before"
unchanged() {
    snapshot "$T/p" > "$T/after"
    diff "$T/before" "$T/after" || fail "the lake changed: $1"
    (cd "$T/p" && sluice verify >/dev/null) || fail "inconsistent after: $1"
}

say "a read-only lake"
chmod 755 "$T" "$T/p" && chmod -R a+rX "$T/p"
as_nobody() {
    if [ "$(id -u)" = 0 ]; then
        sluice_as_nobody "$@"
    else
        chmod -R a-w "$T/p/lake"
        "$SLUICE" "$@"
        s=$?
        chmod -R u+w "$T/p/lake"
        return $s
    fi
}
expect_fail "the lake is not writable: cannot write to '$T/p/lake" as_nobody ingest --source orders in/o.jsonl
expect_fail "the lake is not writable" as_nobody transform --source customers
unchanged "read-only lake"

say "the disk fills while landing (injected)"
expect_fail "No space left on device" env SLUICE_FAULT=enospc@ingest.write:1 "$SLUICE" ingest --source orders in/o.jsonl
expect_fail "No space left on device" env SLUICE_FAULT=enospc@store.seal:1 "$SLUICE" ingest --source orders in/o.jsonl
unchanged "ENOSPC while landing"

say "the disk fills while transforming (injected)"
sluice ingest --source orders in/o.jsonl >/dev/null
snapshot "$T/p" > "$T/before"
for point in store.seal:1 store.seal:3 catalog.commit:1; do
    if env SLUICE_FAULT=enospc@$point "$SLUICE" transform --source orders >"$T/out" 2>"$T/err"; then
        fail "the transform succeeded with ENOSPC at $point"
    fi
    cat "$T/err"
    grep -q "No space left on device" "$T/err" || fail "no ENOSPC message at $point"
    unchanged "ENOSPC at $point"
done
sluice transform --source orders | grep -q "balance      3,000 = 3,000 + 0 + 0  ok"
sluice verify >/dev/null

say "a real full disk (a small tmpfs), when this machine lets us mount one"
mkdir -p "$T/small"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
    trap 'st=$?; cd /; umount -l "$T/small" 2>/dev/null; (exit $st); cleanup' EXIT
    sluice init "$T/small/p" >/dev/null
    cp sources/orders.yaml "$T/small/p/sources/"
    cd "$T/small/p"
    $PY "$SLUICE_SRC/bench/gen_orders.py" base 12000 "$T/big.jsonl"   # ~1.5 MB: cannot fit
    sluice raw ls >/dev/null
    before=$(find lake -type f ! -path '*/_catalog/*' 2>/dev/null | sort | xargs -r sha256sum)
    expect_fail "No space left on device" sluice ingest --source orders "$T/big.jsonl"
    after=$(find lake -type f ! -path '*/_catalog/*' 2>/dev/null | sort | xargs -r sha256sum)
    [ "$before" = "$after" ] || fail "a failed landing left files"
    sluice raw ls | tail -n 1 | grep -q "^0 objects"
    # Land a small file, fill the disk, and transform.
    head -n 2000 "$T/big.jsonl" > "$T/small.jsonl"
    sluice ingest --source orders "$T/small.jsonl" >/dev/null
    dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null || true
    status=0
    sluice transform --source orders >"$T/out" 2>"$T/err" || status=$?
    [ $status -ne 0 ] || fail "the transform succeeded on a full disk"
    cat "$T/err"
    grep -qi "space" "$T/err" || fail "the message does not say the disk is full"
    [ -z "$(find lake/curated -type f 2>/dev/null)" ] || fail "a partial curated file is visible"
    rm -f "$T/small/filler"
    sluice transform --source orders | grep -q "balance      2,000 = 2,000 + 0 + 0  ok"
    sluice verify >/dev/null
    cd /
    umount "$T/small" || umount -l "$T/small"
    trap cleanup EXIT
else
    say "skipped: cannot mount a tmpfs here"
fi
