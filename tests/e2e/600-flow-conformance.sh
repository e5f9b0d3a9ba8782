#!/bin/sh
# 600-flow-conformance.sh - sluice run against the Amazon States Language
# spec, case by case, and a second interpreter beside it.
#
# Each tests/flow/cases/NAME.json is one scenario whose expected outcome was
# worked out by hand from the spec (states-language.net/spec.html and the
# AWS developer guide, cited in its "comment"):
#
#   {"comment": ..., "definition": {...}, "input": ...,
#    "output": ...                      the exact output, or
#    "error": "States.X", "cause": ...  the error (and cause, if given),
#    "seconds": N,                      the virtual time the execution takes
#    "peer_departs": "why"}             aws-local-stepfunctions is wrong here
#
# sluice runs every case with --virtual-clock (and --timeline, whose last
# event gives the seconds) outside any project, so in memory (the recorded
# executions of a project are 605's), and must agree exactly (JSON
# equality, numbers by value but never a boolean for a number).  Then aws-local-stepfunctions
# (tests/lib/asl_peer.mjs, all cases in one node process, no clock) runs
# them: where it differs from the expected outcome the case must say why in
# peer_departs (listed in the summary and in src/flow/README.md); where a
# case says so but the peer agrees, the note is stale and that fails too.
#
# A case sluice gets wrong is a sluice bug: it goes in KNOWN_SLUICE_FAILURES
# below, with the reason, until flow is fixed (a listed case that passes
# fails the test, so the list cannot go stale).
. "$SLUICE_SRC/tests/e2e/lib.sh"

# Cases sluice is known to get wrong, one name a line, "#" comments allowed.
KNOWN_SLUICE_FAILURES='
'

CASES="$SLUICE_SRC/tests/flow/cases"
NODE_MODULES="$SLUICE_SRC/build/deps/node/node_modules"
export NODE_MODULES
command -v node >/dev/null 2>&1 || fail "node is not installed"
[ -f "$NODE_MODULES/aws-local-stepfunctions/package.json" ] ||
    fail "aws-local-stepfunctions is not in $NODE_MODULES: run scripts/setup.sh test"

say "every case, by sluice and by aws-local-stepfunctions"
printf '%s\n' "$KNOWN_SLUICE_FAILURES" > "$T/known"
"$PY" - "$SLUICE" "$CASES" "$T" "$T/known" "$SLUICE_SRC/tests/lib/asl_peer.mjs" <<'PY'
import json, os, re, subprocess, sys

sluice, cases_dir, work, known_file, peer = sys.argv[1:6]
known = set()
for line in open(known_file):
    line = line.split("#", 1)[0].strip()
    if line:
        known.add(line)

def same(a, b):
    """JSON equality: numbers by value, a boolean never equal to a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) == type(b) and a == b

def text(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)

def verdict(case, got):
    """None if got ({output} or {error, cause}) is the expected outcome, else why not."""
    if "error" in case:
        if "error" not in got:
            return "succeeded with %s, expected the error %s" % (text(got["output"]), case["error"])
        if got["error"] != case["error"]:
            return "failed with %s (%s), expected %s" % (got["error"], got.get("cause"), case["error"])
        if "cause" in case and got.get("cause") != case["cause"]:
            return "cause %r, expected %r" % (got.get("cause"), case["cause"])
        return None
    if "error" in got:
        return "failed with %s: %s" % (got["error"], got.get("cause"))
    if not same(got["output"], case["output"]):
        return "output %s, expected %s" % (text(got["output"]), text(case["output"]))
    return None

names = sorted(f[:-5] for f in os.listdir(cases_dir) if f.endswith(".json"))
cases = {}
for n in names:
    c = json.load(open(os.path.join(cases_dir, n + ".json")))
    for key in ("comment", "definition", "input"):
        if key not in c:
            sys.exit("FAIL: case %s has no %s" % (n, key))
    if ("output" in c) == ("error" in c):
        sys.exit("FAIL: case %s needs exactly one of output and error" % n)
    cases[n] = c
for n in known - set(names):
    sys.exit("FAIL: KNOWN_SLUICE_FAILURES names %s, which is not a case" % n)

status_re = re.compile(r"^sluice run: .*?: (FAILED|TIMED_OUT|ABORTED): ([^:]*)(?:: (.*))?$")
event_re = re.compile(r"^\s*\d+\s+\+\s*(-?[0-9.]+)s\s")

def run_sluice(n, c):
    path = os.path.join(work, n + ".asl.json")
    with open(path, "w") as f:
        json.dump(c["definition"], f)
    p = subprocess.run([sluice, "run", path, "--input", text(c["input"]), "--virtual-clock",
                        "--timeline"], capture_output=True, text=True, timeout=60, cwd=work)
    lines = p.stderr.splitlines()
    seconds = None
    for line in lines:
        m = event_re.match(line)
        if m:
            seconds = float(m.group(1))
    if p.returncode == 0:
        try:
            got = {"output": json.loads(p.stdout)}
        except ValueError:
            return None, None, "exit 0 but stdout is not JSON: %r" % p.stdout
    else:
        m = status_re.match(lines[-1]) if lines else None
        if p.returncode != 1 or not m:
            return None, None, "exit %d: %s" % (p.returncode, p.stderr.strip())
        got = {"error": m.group(2), "cause": m.group(3) or "", "status": m.group(1)}
    return got, seconds, None

# The peer: all cases in one node process, started first so that it works
# (its definition check takes a good part of a second per case) while
# sluice runs them.
batch = "".join(json.dumps({"name": n, "definition": cases[n]["definition"],
                            "input": cases[n]["input"]}) + "\n" for n in names)
with open(os.path.join(work, "peer.jsonl"), "w") as f:
    f.write(batch)
peer_out = open(os.path.join(work, "peer.out"), "w")
peer_err = open(os.path.join(work, "peer.err"), "w")
peer_proc = subprocess.Popen(["node", peer, "--batch"], stdin=open(os.path.join(work, "peer.jsonl")),
                             stdout=peer_out, stderr=peer_err)

failures = []
sluice_wrong = []
for n in names:
    c = cases[n]
    got, seconds, broken = run_sluice(n, c)
    why = broken or verdict(c, got)
    if why is None and "seconds" in c:
        if seconds is None:
            why = "no timeline on stderr"
        elif abs(seconds - c["seconds"]) > 0.0005:
            why = "took %g s of virtual time, expected %g s" % (seconds, c["seconds"])
    if why is None:
        if n in known:
            failures.append("%s: listed in KNOWN_SLUICE_FAILURES but sluice gets it right now:"
                            " take it off the list" % n)
        print("ok    sluice  %s" % n)
    elif n in known:
        sluice_wrong.append(n)
        print("known sluice %s: %s" % (n, why))
    else:
        failures.append("sluice %s: %s" % (n, why))
        print("FAIL  sluice  %s: %s" % (n, why))

rc = peer_proc.wait(timeout=300)
peer_out.close()
peer_err.close()
if rc != 0:
    sys.exit("FAIL: asl_peer.mjs --batch exited %d: %s" % (
        rc, open(os.path.join(work, "peer.err")).read().strip()))
peer_got = {}
for line in open(os.path.join(work, "peer.out")):
    r = json.loads(line)
    peer_got[r.pop("name")] = r
departs = []
for n in names:
    c = cases[n]
    if n not in peer_got:
        failures.append("peer %s: no answer" % n)
        continue
    why = verdict(c, peer_got[n])
    if why is None and "peer_departs" in c:
        failures.append("peer %s: agrees with the spec now, but the case says it departs (%s):"
                        " drop peer_departs" % (n, c["peer_departs"]))
    elif why is not None and "peer_departs" in c:
        departs.append((n, c["peer_departs"], why))
        print("departs peer %s: %s" % (n, " ".join(why.split())))
    elif why is not None:
        failures.append("peer %s: %s (the case is wrong, or a new departure: add "
                        "peer_departs with the reason)" % (n, why))
        print("FAIL  peer    %s: %s" % (n, why))
    else:
        print("ok    peer    %s" % n)

print()
print("%d cases: sluice agreed with %s" % (
    len(names), "all" if not sluice_wrong and not any(f.startswith("sluice ") for f in failures)
    else "all but %d" % (len(sluice_wrong) + sum(f.startswith("sluice ") for f in failures))))
if sluice_wrong:
    print("  known sluice failures (KNOWN_SLUICE_FAILURES): %s" % ", ".join(sluice_wrong))
print("aws-local-stepfunctions departs from the spec in %d:" % len(departs))
for n, reason, why in departs:
    why = " ".join(why.split())
    print("  %s: %s" % (n, reason))
    print("      (%s)" % (why if len(why) <= 160 else why[:157] + "..."))
if failures:
    print()
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    sys.exit(1)
PY
