# bench/baseline_args.sh - the options every benchmark script takes for
# the last release, sourced with the script's arguments in "$@":
#
#   [--baseline OLD_SLUICE [--baseline-name NAME]] ...
#
# Sets old (the release's binary, absolute; empty if none) and old_name
# (default "release"), and shifts the options away.  The script defines
# usage() first.

# abs PATH: the path from the root, for a binary given relative to here.
abs() {
    echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}

old="" old_name=release
while [ $# -gt 0 ]; do
    case $1 in
        --baseline) [ $# -ge 2 ] || usage; old=$(abs "$2"); shift 2 ;;
        --baseline-name) [ $# -ge 2 ] || usage; old_name=$2; shift 2 ;;
        -*) usage ;;
        *) break ;;
    esac
done
