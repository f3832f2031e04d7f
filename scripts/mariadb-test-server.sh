#!/usr/bin/env bash
# Throw-away MariaDB server for the backpack-webhooks MySQL/MariaDB tests.
#
#   eval "$(scripts/mariadb-test-server.sh start)"  # prints: export BACKPACK_TEST_MYSQL_URL=mysql://…
#   BACKPACK_REQUIRE_MYSQL=1 cargo test -p backpack-webhooks --features mysql --test integration mysql::
#   scripts/mariadb-test-server.sh url               # prints the bare URL of the last server started
#   scripts/mariadb-test-server.sh stop "$BACKPACK_TEST_MYSQL_DATADIR"  # stops that server
#   scripts/mariadb-test-server.sh stop              # stops the last server started
#
# start: installs Debian's `mariadb-server` package if mariadbd is missing (needs root or
#        password-less sudo), creates a fresh data directory under a temp dir (owned by the
#        `mysql` user when run as root), starts the server in the background on 127.0.0.1 on a
#        free port (binary log off, log flushed once a second: tests only; BACKPACK_TEST_DURABLE=1
#        flushes it at every commit, for benchmarks), creates database
#        `backpack_test` and user `backpack` (no password, loopback only) and prints
#        `export BACKPACK_TEST_MYSQL_URL=<url>` and `export BACKPACK_TEST_MYSQL_DATADIR=<dir>` on
#        stdout (for eval). Everything else goes to stderr. The data directory and URL are also
#        remembered in $BACKPACK_MYSQL_STATE (default ${TMPDIR:-/tmp}/backpack-mariadb-test-server.last).
# url:   prints the bare URL of the last server started.
# stop [DATADIR]: stops the server and deletes its directory.
set -euo pipefail

STATE="${BACKPACK_MYSQL_STATE:-${TMPDIR:-/tmp}/backpack-mariadb-test-server.last}"
log() { printf 'mariadb-test-server: %s\n' "$*" >&2; }

find_server() {
    local bin
    for bin in mariadbd /usr/sbin/mariadbd; do
        if command -v "$bin" >/dev/null 2>&1; then
            command -v "$bin"
            return 0
        fi
    done
    return 1
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
    local server datadir port user_args=()
    if ! server="$(find_server)"; then
        local sudo=()
        if [[ "$(id -u)" != 0 ]]; then
            if ! sudo -n true 2>/dev/null; then
                log "mariadbd not found and not root: install Debian's 'mariadb-server' package"
                exit 1
            fi
            sudo=(sudo -n)
        fi
        log "installing mariadb-server (apt-get)"
        # One apt at a time: .ci/run starts the PostgreSQL and MariaDB scripts together.
        "${sudo[@]}" flock "${TMPDIR:-/tmp}/backpack-apt.lock" \
            env DEBIAN_FRONTEND=noninteractive apt-get update >&2
        "${sudo[@]}" flock "${TMPDIR:-/tmp}/backpack-apt.lock" \
            env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            mariadb-server mariadb-client >&2
        server="$(find_server)" || { log "mariadb-server installed but mariadbd not found"; exit 1; }
    fi
    log "using $server"

    datadir="$(mktemp -d "${TMPDIR:-/tmp}/backpack-mariadb-test.XXXXXX")"
    chmod 700 "$datadir"
    if [[ "$(id -u)" == 0 ]]; then
        chown mysql: "$datadir"
        user_args=(--user=mysql)
    fi
    port="$(free_port)"
    # Tests flush the log once a second; benchmarks of commit costs ask for a flush per commit.
    local flush=2
    [[ "${BACKPACK_TEST_DURABLE:-0}" == 1 ]] && flush=1

    mariadb-install-db "${user_args[@]}" --datadir="$datadir/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$datadir/install.log" 2>&1 \
        || { cat "$datadir/install.log" >&2; exit 1; }
    # In the background, detached from this shell's stdout (a caller may wait on it).
    nohup "$server" --no-defaults "${user_args[@]}" --datadir="$datadir/data" \
        --socket="$datadir/mysqld.sock" --pid-file="$datadir/mysqld.pid" \
        --bind-address=127.0.0.1 --port="$port" --skip-name-resolve --skip-log-bin \
        --innodb-flush-log-at-trx-commit="$flush" --innodb-doublewrite=0 --innodb-buffer-pool-size=64M \
        --max-connections=200 --log-error="$datadir/server.log" \
        </dev/null >/dev/null 2>&1 &
    local ready=0
    for _ in $(seq 1 600); do
        if mariadb-admin --no-defaults --socket="$datadir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
            ready=1
            break
        fi
        # mariadbd is still starting: poll its socket (no fixed wait).
        sleep 0.1
    done
    if [[ $ready != 1 ]]; then
        cat "$datadir/server.log" >&2 || true
        log "server did not start"
        exit 1
    fi
    mariadb --no-defaults --socket="$datadir/mysqld.sock" -uroot >&2 <<'SQL'
CREATE DATABASE backpack_test;
CREATE USER 'backpack'@'127.0.0.1';
GRANT ALL ON backpack_test.* TO 'backpack'@'127.0.0.1';
-- The tests read information_schema.PROCESSLIST (who waits on a lock).
GRANT PROCESS ON *.* TO 'backpack'@'127.0.0.1';
SQL

    local url="mysql://backpack@127.0.0.1:$port/backpack_test"
    remember "$datadir" "$url"
    echo "export BACKPACK_TEST_MYSQL_URL=$url"
    echo "export BACKPACK_TEST_MYSQL_DATADIR=$datadir"
}

stop_server() {
    local datadir=$1
    mariadb-admin --no-defaults --socket="$datadir/mysqld.sock" -uroot shutdown >&2 2>/dev/null \
        || { [[ -f "$datadir/mysqld.pid" ]] && kill "$(cat "$datadir/mysqld.pid")" 2>/dev/null; } \
        || true
}

# shellcheck source=scripts/test-server-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/test-server-common.sh"
test_server_main "$@"
