# Shared by scripts/pg-test-server.sh and scripts/mariadb-test-server.sh (sourced, not run).
# The sourcing script defines STATE (where the last server's data directory and URL are kept),
# log(), start() and stop_server DATADIR (stops the server whose data directory is DATADIR), then
# calls `test_server_main "$@"`.

# Remembers DATADIR and URL as the last server started, and says where it runs.
remember() {
    local datadir=$1 url=$2
    printf '%s\n%s\n' "$datadir" "$url" >"$STATE"
    log "server running at $url: data $datadir/data, log $datadir/server.log (stop: $0 stop)"
}

# stop [DATADIR]: stops that server (default: the last one started) and deletes its directory.
stop() {
    local datadir="${1:-}"
    if [[ -z "$datadir" && -f "$STATE" ]]; then
        datadir="$(head -n 1 "$STATE")"
    fi
    if [[ -z "$datadir" || ! -d "$datadir/data" ]]; then
        log "nothing to stop"
        return 0
    fi
    stop_server "$datadir"
    rm -rf "$datadir"
    # Forget it only if it is the remembered one (another server may have been started since).
    if [[ -f "$STATE" && "$(head -n 1 "$STATE")" == "$datadir" ]]; then
        rm -f "$STATE"
    fi
    log "stopped and removed $datadir"
}

url() {
    [[ -f "$STATE" ]] || { log "no server started"; exit 1; }
    sed -n 2p "$STATE"
}

test_server_main() {
    case "${1:-start}" in
        start) start ;;
        url) url ;;
        stop) shift; stop "${1:-}" ;;
        *) echo "usage: $0 [start|url|stop [DATADIR]]" >&2; exit 2 ;;
    esac
}
