#!/bin/sh
# Installs what sluice needs to build, test and demo, and nothing twice.
#
#   scripts/setup.sh            Debian packages + DuckDB (build and run)
#   scripts/setup.sh demo       ... + the AWS CLI the demo talks to the server with
#   scripts/setup.sh test       ... + the test-only clients and readers
#
# Idempotent: a package already installed is not touched; DuckDB is fetched
# only when build/deps/duckdb-<version> is missing or incomplete.  Nothing
# fetched here is committed.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-build}
DUCKDB_VERSION=1.4.4
DUCKDB_BINDINGS=1.4.4-r.4      # @duckdb/node-bindings-linux-x64 release carrying libduckdb 1.4.4
deps="$here/build/deps"

# Packages the build and the product use (see README "Dependencies").
pkgs_build="build-essential pkg-config libsqlite3-dev libpq-dev libyaml-dev zlib1g-dev
libssl-dev libavro-dev libjansson-dev libcurl4-openssl-dev ca-certificates python3-avro tzdata
liblmdb-dev libhiredis-dev"
# npm fetches DuckDB; a machine that already has node and npm (from Debian or
# elsewhere) keeps them.
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    pkgs_build="$pkgs_build nodejs npm"
fi
# Packages only the tests, the fuzzers and the benchmarks use; postgresql is
# the server (15 on Debian 12) that tests/lib/pg.sh starts for the catalog's
# PostgreSQL back end (binaries in /usr/lib/postgresql/15/bin);
# libmicrohttpd-dev only builds the benchmarks' baseline release (BASELINE in
# bench/module.mk), whose server still ran on it.
pkgs_test="python3 clang libclang-rt-14-dev time util-linux procps awscli python3-boto3
python3-cbor2 python3-psycopg2 openssl postgresql libmicrohttpd-dev redis-server"

missing=""
want=$pkgs_build
[ "$what" = test ] && want="$want $pkgs_test"
[ "$what" = demo ] && want="$want awscli"
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: missing Debian packages:$missing (run as root or install them)" >&2
        exit 1
    fi
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# DuckDB: the shared library from the Node bindings package, the C header
# from the duckdb package's source tree (DESIGN.md, "Dependencies").
dd="$deps/duckdb-$DUCKDB_VERSION"
if [ ! -f "$dd/lib/libduckdb.so" ] || [ ! -f "$dd/include/duckdb.h" ]; then
    echo "setup: fetching DuckDB $DUCKDB_VERSION from the npm registry"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" &&
     npm pack --silent "@duckdb/node-bindings-linux-x64@$DUCKDB_BINDINGS" >/dev/null &&
     npm pack --silent "duckdb@$DUCKDB_VERSION" >/dev/null)
    mkdir -p "$tmp/x" "$dd.new/lib" "$dd.new/include"
    tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/x" package/libduckdb.so
    tar -xzf "$tmp"/duckdb-$DUCKDB_VERSION.tgz -C "$tmp/x" package/src/duckdb/src/include/duckdb.h
    mv "$tmp/x/package/libduckdb.so" "$dd.new/lib/"
    mv "$tmp/x/package/src/duckdb/src/include/duckdb.h" "$dd.new/include/"
    rm -rf "$dd"
    mv "$dd.new" "$dd"
fi

# Test-only npm packages: independent Parquet readers (not DuckDB).
if [ "$what" = test ]; then
    nm="$deps/node"
    if [ ! -f "$nm/node_modules/.sluice-ok" ] ||
       ! cmp -s "$here/tests/lib/package.json" "$nm/package.json"; then
        echo "setup: installing test npm packages"
        mkdir -p "$nm"
        cp "$here/tests/lib/package.json" "$nm/package.json"
        (cd "$nm" && npm install --silent --no-audit --no-fund >/dev/null)
        touch "$nm/node_modules/.sluice-ok"
    fi
fi
