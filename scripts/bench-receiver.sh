#!/usr/bin/env bash
# Requests/s of the webhook receiver vs a bare axum handler, over loopback HTTP/1.1.
#
#   scripts/bench-receiver.sh [DURATION_SECONDS=10] [CONNECTIONS=32] [CLIENT_THREADS=1]
#
# Builds and starts `examples/bench_receiver.rs` (release), then loads each endpoint with `oha`
# if installed, else `wrk` (scripts/load-tool.sh: $BENCH_TOOL, else the one installed, else one
# installed with apt-get or `cargo install`). Prints a Markdown table. Client and server share the machine's cores, so
# compare rows with each other, not with other machines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION="${1:-10}"
CONNS="${2:-32}"
THREADS="${3:-1}"
SECRET="bench-secret"
ADDR="127.0.0.1:${BENCH_PORT:-3999}"
TMP="$(mktemp -d)"
log() { printf 'bench-receiver: %s\n' "$*" >&2; }

# shellcheck source=scripts/load-tool.sh
source scripts/load-tool.sh
pick_load_tool

log "building bench_receiver (release)"
cargo build --release -q -p backpack-webhooks --example bench_receiver >&2
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
BENCH_SECRET="$SECRET" BENCH_ADDR="$ADDR" "$target_dir/release/examples/bench_receiver" \
    >"$TMP/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$TMP"' EXIT
for _ in $(seq 1 300); do
    grep -q '^listening' "$TMP/server.log" && break
    kill -0 "$server" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
    sleep 0.1
done
grep -q '^listening' "$TMP/server.log" || { log "server did not start"; exit 1; }

fixtures=crates/backpack-webhooks/tests/fixtures/store
signature() { { cat "$1"; printf '%s' "$SECRET"; } | sha1sum | cut -d' ' -f1; }

# Checks the expected status once, then loads the endpoint; prints "req/s non2xx".
load() {
    local path="$1" body="$2" expect="$3" sig status
    sig="$(signature "$body")"
    status="$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$ADDR$path" \
        -H "content-type: application/json" -H "authorization: Signature $sig" \
        --data-binary "@$body")"
    [[ "$status" == "$expect" ]] || { log "$path answered $status, expected $expect"; exit 1; }
    if [[ "$tool" == wrk ]]; then
        {
            echo 'wrk.method = "POST"'
            echo 'wrk.headers["Content-Type"] = "application/json"'
            echo "wrk.headers[\"Authorization\"] = \"Signature $sig\""
            printf 'wrk.body = [==['
            cat "$body"
            echo ']==]'
        } >"$TMP/req.lua"
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$TMP/req.lua" "http://$ADDR$path" \
            >"$TMP/out.txt"
        awk '/Requests\/sec/ {r=$2} /Non-2xx/ {n=$NF} END {printf "%s %s\n", r, (n==""?0:n)}' \
            "$TMP/out.txt"
    else
        oha --no-tui -z "${DURATION}s" -c "$CONNS" -m POST -T application/json \
            -H "Authorization: Signature $sig" -D "$body" "http://$ADDR$path" >"$TMP/out.txt"
        awk '/Requests\/sec/ {r=$2} END {printf "%s ?\n", r}' "$TMP/out.txt"
    fi
}

uv="$TMP/user_validation.json"
printf '%s' '{"notification_type":"user_validation","settings":{"project_id":18404,"merchant_id":2340},"user":{"id":"1234567","country":"US"}}' >"$uv"
op="$fixtures/order_paid.sdk.json"

echo "| endpoint | body | what runs per request | requests/s | non-2xx |"
echo "|---|---|---|---:|---:|"
row() {
    local name="$1" path="$2" body="$3" expect="$4" what="$5" result
    result="$(load "$path" "$body" "$expect")"
    echo "| $name | $(basename "$body") ($(wc -c <"$body") B) | $what | ${result% *} | ${result#* } |"
}
row "bare axum" /bare "$uv" 204 "read body, 204"
row "bare axum + SHA-1" /bare-hash "$uv" 204 "read body, SHA-1(body ‖ secret), 204"
row "receiver (memory)" /webhook "$uv" 204 "verify + parse + handler (never deduplicated)"
row "bare axum" /bare "$op" 204 "read body, 204"
row "bare axum + SHA-1" /bare-hash "$op" 204 "read body, SHA-1(body ‖ secret), 204"
row "receiver (memory)" /webhook "$op" 204 "verify + parse + dedup hit (replay)"
row "receiver (SQLite)" /webhook-sqlite "$op" 204 "verify + skim + recorded answer (SQLite store, in-memory copy)"
log "tool: $tool, ${DURATION}s per row, $CONNS connections, $THREADS client thread(s), $(nproc) cores"
