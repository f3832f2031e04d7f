#!/usr/bin/env bash
# Throw-away PostgreSQL server for the backpack-webhooks PostgreSQL tests.
#
#   eval "$(scripts/pg-test-server.sh start)"    # prints: export BACKPACK_TEST_PG_URL=postgresql://…
#   BACKPACK_REQUIRE_PG=1 cargo test -p backpack-webhooks --features postgres --test integration postgres::
#   scripts/pg-test-server.sh url                # prints the bare URL of the last server started
#   scripts/pg-test-server.sh stop "$BACKPACK_TEST_PG_DATADIR"   # stops that server
#   scripts/pg-test-server.sh stop               # stops the last server started
#
# start: installs Debian's `postgresql` package if pg_ctl/initdb are missing (needs root or
#        password-less sudo), initdb's a fresh data directory under a temp dir (as the `postgres`
#        user when run as root), starts the server on 127.0.0.1 on a free port (trust auth, fsync
#        off: tests only; BACKPACK_TEST_DURABLE=1 keeps the durable defaults, for benchmarks),
#        creates database `backpack_test` and prints
#        `export BACKPACK_TEST_PG_URL=<url>` and `export BACKPACK_TEST_PG_DATADIR=<dir>` on stdout
#        (for eval). Everything else goes to stderr. The data directory and URL are also
#        remembered in $BACKPACK_PG_STATE (default ${TMPDIR:-/tmp}/backpack-pg-test-server.last).
# url:   prints the bare URL of the last server started.
# stop [DATADIR]: stops the server and deletes its directory.
set -euo pipefail

STATE="${BACKPACK_PG_STATE:-${TMPDIR:-/tmp}/backpack-pg-test-server.last}"
log() { printf 'pg-test-server: %s\n' "$*" >&2; }

find_bindir() {
    local dir
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v pg_ctl)")"
        return 0
    fi
    # Debian keeps the server binaries out of PATH; take the newest version.
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/pg_ctl" && -x "$dir/initdb" ]]; then
        echo "$dir"
        return 0
    fi
    return 1
}

as_db_user() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$(( 20000 + RANDOM % 40000 ))
        # Nothing answers on it (bash /dev/tcp connect fails) → treat as free.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    log "no free port found"
    return 1
}

start() {
    local bindir datadir port
    if ! bindir="$(find_bindir)"; then
        local sudo=()
        if [[ "$(id -u)" != 0 ]]; then
            # A CI runner user with password-less sudo (GitHub's) installs it too.
            if ! sudo -n true 2>/dev/null; then
                log "pg_ctl/initdb not found and not root: install Debian's 'postgresql' package"
                exit 1
            fi
            sudo=(sudo -n)
        fi
        log "installing postgresql (apt-get)"
        # One apt at a time: .ci/run starts the PostgreSQL and MariaDB scripts together.
        "${sudo[@]}" flock "${TMPDIR:-/tmp}/backpack-apt.lock" \
            env DEBIAN_FRONTEND=noninteractive apt-get update >&2
        "${sudo[@]}" flock "${TMPDIR:-/tmp}/backpack-apt.lock" \
            env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
        bindir="$(find_bindir)" || { log "postgresql installed but pg_ctl not found"; exit 1; }
    fi
    if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
        log "running as root but there is no 'postgres' user to run the server as"
        exit 1
    fi
    log "using $bindir"

    datadir="$(mktemp -d "${TMPDIR:-/tmp}/backpack-pg-test.XXXXXX")"
    chmod 700 "$datadir"
    [[ "$(id -u)" == 0 ]] && chown postgres: "$datadir"
    port="$(free_port)"
    # Tests skip the disk; benchmarks of commit costs ask for production durability.
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${BACKPACK_TEST_DURABLE:-0}" == 1 ]] && durability=""

    as_db_user "$bindir/initdb" -D "$datadir/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$datadir/initdb.log" 2>&1 \
        || { cat "$datadir/initdb.log" >&2; exit 1; }
    as_db_user "$bindir/pg_ctl" -D "$datadir/data" -l "$datadir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $datadir $durability -c max_connections=100" \
        start >&2 || { cat "$datadir/server.log" >&2; exit 1; }
    as_db_user "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres backpack_test >&2

    local url="postgresql://postgres@127.0.0.1:$port/backpack_test"
    remember "$datadir" "$url"
    echo "export BACKPACK_TEST_PG_URL=$url"
    # For `stop "$BACKPACK_TEST_PG_DATADIR"`, which stops this server and no later one.
    echo "export BACKPACK_TEST_PG_DATADIR=$datadir"
}

stop_server() {
    local bindir
    bindir="$(find_bindir)"
    as_db_user "$bindir/pg_ctl" -D "$1/data" -m fast -w stop >&2 || true
}

# shellcheck source=scripts/test-server-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-server-common.sh"
test_server_main "$@"
