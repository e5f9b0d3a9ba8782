# tests/lib/pg.sh - a throw-away PostgreSQL server for tests (POSIX sh,
# to be sourced).
#
#   . tests/lib/pg.sh
#   pg_start DIR             initdb a cluster in DIR (which must not hold
#                            one), start it on a free port of 127.0.0.1 and
#                            wait until it accepts connections; exports the
#                            SLUICE_PG_* variables below
#   pg_new_db NAME [OWNER]   create database NAME (owned by OWNER, default
#                            the test superuser) and print its URL,
#                            postgresql://USER@127.0.0.1:PORT/NAME
#   pg_kill [DIR]            crash the server (pg_ctl stop -m immediate)
#   pg_restart [DIR]         crash it if it runs, start it again on the same
#                            port, wait until it accepts connections
#   pg_stop DIR              stop it (pg_ctl stop -m fast) and remove DIR
#
# Exported by pg_start (and written to DIR/env for other shells to source):
#   SLUICE_PG_DIR            the cluster's folder (data/, log, socket)
#   SLUICE_PG_BIN            the server's binaries
#   SLUICE_PG_HOST           127.0.0.1 (the server listens nowhere else)
#   SLUICE_PG_PORT           the port it listens on
#   SLUICE_PG_USER           a superuser; loopback connections trust it
#   SLUICE_PG_PW_USER        a role that must give a password ...
#   SLUICE_PG_PW_PASSWORD    ... this one (tests of wrong credentials)
#   SLUICE_PG_NOPERM_USER    a role that may log in and nothing else
#   SLUICE_TEST_PG_URL_BASE  postgresql://SLUICE_PG_USER@127.0.0.1:PORT
#                            (append /DATABASE)
#
# The binaries come from /usr/lib/postgresql/<newest>/bin (Debian's
# postgresql package), or from SLUICE_PG_BIN if set; nothing is taken from
# PATH.  PostgreSQL refuses to run as root: run as root, the server runs as
# the postgres system user the package creates (or nobody), and DIR is
# handed to it, so DIR's parent folders must be searchable by that user
# (/tmp is).  The server keeps fsync on, as a production server does: the
# benchmarks measure it.  Several servers may run at once; each picks its
# own port and keeps its unix socket in its own DIR.

pg__die() {
    echo "pg.sh: $*" >&2
    return 1
}

# The newest installed server's bin folder.
pg__bindir() {
    if [ -n "${SLUICE_PG_BIN:-}" ]; then
        echo "$SLUICE_PG_BIN"
        return 0
    fi
    pg__best=""
    pg__bv=0
    for pg__b in /usr/lib/postgresql/*/bin; do
        [ -x "$pg__b/initdb" ] || continue
        pg__v=${pg__b#/usr/lib/postgresql/}
        pg__v=${pg__v%/bin}
        case $pg__v in *[!0-9]*) continue ;; esac
        if [ "$pg__v" -gt "$pg__bv" ]; then
            pg__best=$pg__b
            pg__bv=$pg__v
        fi
    done
    [ -n "$pg__best" ] || { pg__die "no PostgreSQL server in /usr/lib/postgresql/*/bin (install the postgresql package: scripts/setup.sh test)"; return 1; }
    echo "$pg__best"
}

# Who runs the server: empty for "whoever we are", else a system user.
pg__owner() {
    [ "$(id -u)" = 0 ] || return 0
    if id postgres >/dev/null 2>&1; then
        echo postgres
    else
        echo nobody
    fi
}

# Run a server command as the owner (in DIR, which the owner can enter).
pg__as() {
    (
        cd "$pg__dir" || exit 1
        if [ -n "$pg__user" ]; then
            exec runuser -u "$pg__user" -- "$@"
        else
            exec "$@"
        fi
    )
}

# Load the state of the cluster in DIR (default: SLUICE_PG_DIR).
pg__load() {
    pg__dir=${1:-${SLUICE_PG_DIR:-}}
    [ -n "$pg__dir" ] || { pg__die "no cluster folder given and SLUICE_PG_DIR is unset"; return 1; }
    [ -f "$pg__dir/.sluice-pg" ] || { pg__die "'$pg__dir' holds no cluster started by pg_start"; return 1; }
    pg__bin=$(cat "$pg__dir/bin") || return 1
    pg__port=$(cat "$pg__dir/port") || return 1
    pg__user=$(cat "$pg__dir/owner") || return 1
}

# A port nobody listens on now: let the kernel pick one.  A race with
# another process is caught by pg__launch, which then tries another.
pg__free_port() {
    pg__py=/usr/bin/python3
    [ -x "$pg__py" ] || pg__py=$(command -v python3 2>/dev/null) || pg__py=""
    if [ -n "$pg__py" ]; then
        "$pg__py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
    else
        awk -v seed="$$" 'BEGIN { srand(seed + systime()); print 20000 + int(rand() * 30000) }'
    fi
}

# Wait until the server accepts connections on 127.0.0.1, at most 60 s.
pg__wait_ready() {
    pg__deadline=$(( $(date +%s) + 60 ))
    while ! "$pg__bin/pg_isready" -q -h 127.0.0.1 -p "$pg__port" -U sluice -d postgres -t 5; do
        if [ "$(date +%s)" -ge "$pg__deadline" ]; then
            tail -n 20 "$pg__dir/log" >&2 2>/dev/null
            pg__die "the server in '$pg__dir' does not accept connections on 127.0.0.1:$pg__port after 60 s"
            return 1
        fi
        sleep 0.1
    done
}

# Start the server on $pg__port (pg_ctl waits for its start-up); with
# retry set, move to another free port when this one is taken.
pg__launch() {
    pg__retry=$1
    pg__tries=0
    while :; do
        echo "$pg__port" >"$pg__dir/port"
        : >"$pg__dir/log"
        [ -z "$pg__user" ] || chown "$pg__user" "$pg__dir/log"
        if pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" -l "$pg__dir/log" -w -t 60 \
                -o "-p $pg__port" start >/dev/null; then
            break
        fi
        pg__tries=$((pg__tries + 1))
        if [ "$pg__retry" = 1 ] && [ "$pg__tries" -lt 10 ] &&
           grep -q -e 'could not bind' -e 'could not create any TCP/IP sockets' "$pg__dir/log"; then
            pg__port=$(pg__free_port) || return 1
            continue
        fi
        tail -n 20 "$pg__dir/log" >&2
        pg__die "cannot start the PostgreSQL server in '$pg__dir' on port $pg__port"
        return 1
    done
    pg__wait_ready
}

pg__psql() {
    "$pg__bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg__port" -U sluice "$@"
}

pg__export() {
    SLUICE_PG_DIR=$pg__dir
    SLUICE_PG_BIN=$pg__bin
    SLUICE_PG_HOST=127.0.0.1
    SLUICE_PG_PORT=$pg__port
    SLUICE_PG_USER=sluice
    SLUICE_PG_PW_USER=sluice_pw
    SLUICE_PG_PW_PASSWORD=sluice-test-password
    SLUICE_PG_NOPERM_USER=sluice_noperm
    SLUICE_TEST_PG_URL_BASE="postgresql://sluice@127.0.0.1:$pg__port"
    export SLUICE_PG_DIR SLUICE_PG_BIN SLUICE_PG_HOST SLUICE_PG_PORT SLUICE_PG_USER \
        SLUICE_PG_PW_USER SLUICE_PG_PW_PASSWORD SLUICE_PG_NOPERM_USER SLUICE_TEST_PG_URL_BASE
    for pg__v in SLUICE_PG_DIR SLUICE_PG_BIN SLUICE_PG_HOST SLUICE_PG_PORT SLUICE_PG_USER \
        SLUICE_PG_PW_USER SLUICE_PG_PW_PASSWORD SLUICE_PG_NOPERM_USER SLUICE_TEST_PG_URL_BASE; do
        eval "echo \"export $pg__v='\$$pg__v'\""
    done >"$pg__dir/env"
}

pg_start() {
    [ $# = 1 ] || { pg__die "usage: pg_start DIR"; return 1; }
    mkdir -p "$1" || return 1
    pg__dir=$(cd "$1" && pwd) || return 1
    [ ! -e "$pg__dir/data" ] || { pg__die "'$pg__dir' holds a cluster already"; return 1; }
    pg__bin=$(pg__bindir) || return 1
    pg__user=$(pg__owner)
    if [ -n "$pg__user" ]; then
        chown "$pg__user" "$pg__dir" || return 1
        chmod 700 "$pg__dir"
        pg__as test -w "$pg__dir" ||
            { pg__die "user $pg__user cannot reach '$pg__dir' (choose a folder under /tmp)"; return 1; }
    fi
    echo "$pg__bin" >"$pg__dir/bin"
    echo "$pg__user" >"$pg__dir/owner"
    : >"$pg__dir/.sluice-pg"

    # Trust on the socket and on loopback, except for the role that must
    # give a password.  initdb's own final flush is skipped (a crashed test
    # machine loses a test cluster anyway); the server runs with fsync on.
    pg__as "$pg__bin/initdb" -D "$pg__dir/data" -U sluice -A trust -E UTF8 --locale=C \
        --no-sync --no-instructions >"$pg__dir/initdb.log" 2>&1 ||
        { cat "$pg__dir/initdb.log" >&2; pg__die "initdb failed in '$pg__dir'"; return 1; }
    cat >"$pg__dir/data/pg_hba.conf" <<EOF
local all all trust
host all sluice_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
EOF
    cat >>"$pg__dir/data/postgresql.conf" <<EOF

# tests/lib/pg.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pg__dir'
fsync = on
synchronous_commit = on
shared_buffers = 16MB
max_connections = 60
lc_messages = 'C'
log_min_messages = warning
log_line_prefix = '%m [%p] '
EOF
    pg__port=$(pg__free_port) || return 1
    pg__launch 1 || return 1
    pg__psql -d postgres <<EOF || { pg__die "cannot create the test roles"; return 1; }
CREATE ROLE sluice_pw LOGIN PASSWORD 'sluice-test-password';
CREATE ROLE sluice_noperm LOGIN;
EOF
    pg__export
}

pg_new_db() {
    case ${1:-} in
        '' | *[!a-z0-9_]*) pg__die "usage: pg_new_db NAME [OWNER] (NAME of a-z, 0-9, _)"; return 1 ;;
    esac
    pg__o=${2:-sluice}
    case $pg__o in *[!a-z0-9_]*) pg__die "bad owner '$pg__o'"; return 1 ;; esac
    pg__load || return 1
    pg__psql -d postgres -c "CREATE DATABASE $1 OWNER $pg__o" || return 1
    echo "postgresql://sluice@127.0.0.1:$pg__port/$1"
}

pg_kill() {
    pg__load "${1:-}" || return 1
    pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" -m immediate -w stop >/dev/null
}

pg_restart() {
    pg__load "${1:-}" || return 1
    if pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" status >/dev/null 2>&1; then
        pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" -m immediate -w stop >/dev/null || return 1
    fi
    pg__launch 0
}

pg_stop() {
    [ $# = 1 ] || { pg__die "usage: pg_stop DIR"; return 1; }
    pg__load "$1" || return 1
    if pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" status >/dev/null 2>&1; then
        pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" -m fast -w -t 60 stop >/dev/null ||
            pg__as "$pg__bin/pg_ctl" -D "$pg__dir/data" -m immediate -w stop >/dev/null
    fi
    rm -rf "$pg__dir"
}
