#!/usr/bin/env bash
# Requests/s of `backpack emulator` listing a Backpack of 1,000 items, and its memory at rest.
#
# Usage: scripts/bench-emulator.sh [seconds per measurement (10)] [rounds (3)]
# Env:   BENCH_TOOL=oha|wrk   load generator (default: the one installed; if neither is, `wrk`
#                             from Debian via apt-get when run as root, else `cargo install oha --locked`)
#        CONNECTIONS=16       concurrent connections
#        PIN=1                pin the emulator to CPU 0 and the load generator to CPU 1 (needs
#                             taskset and 2+ CPUs; PIN=0 turns it off)
#
# What it does: builds the release binary, starts the emulator on loopback with a fresh database,
# reads its RSS (/proc/<pid>/status VmRSS) right after startup, grants 1,000 virtual items to one
# user (10 create-virtual-items calls of 100), reads the RSS again, then measures
# GET /web/backpack/merchants/1/projects/2/users/<user>/items (all 1,000 items, ~330 KB of JSON
# per answer) for `rounds` x `seconds`, and reads the RSS after the load and again after 5 s idle.
# Requests/s are wall clock; "per CPU-second" divides by the CPU time the emulator used
# (/proc/<pid>/stat), which stays meaningful when other jobs share the machine.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${1:-10}"
rounds="${2:-3}"
connections="${CONNECTIONS:-16}"
host_id="497f6eca-6276-4993-bfeb-53cbbbba6f08"
user="6f1c2a3e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"

# shellcheck source=scripts/load-tool.sh
source "$root/scripts/load-tool.sh"
pick_load_tool
pick_pinning 1 || true

cargo build --release --quiet -p backpack-cli
bin="$root/target/release/backpack"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The emulator prints `listening on ADDR` on stderr when it is ready; reading it is the signal.
mkfifo "$tmp/stderr"
"${pin_server[@]}" "$bin" emulator --listen 127.0.0.1:0 --db "$tmp/emulator.sqlite" \
  --host-id "$host_id" 2>"$tmp/stderr" &
server_pid=$!
exec 3<"$tmp/stderr"
addr=""
while read -r line <&3; do
  if [[ "$line" == "listening on "* ]]; then addr="${line#listening on }"; break; fi
done
[[ -n "$addr" ]] || { echo "the emulator did not start" >&2; exit 1; }
# Keep draining its log so it never blocks on a full pipe.
cat <&3 >"$tmp/emulator.log" &
base="http://$addr"

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status"; }
server_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
ticks_per_second=$(getconf CLK_TCK)
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

rss_start=$(rss_kib)

token=$(curl -sf -X POST "$base/api/oauth2/token" -d grant_type=client_credentials \
  -d client_id=backpack-emulator -d client_secret=emulator-secret |
  sed -E 's/.*"access_token":"([^"]+)".*/\1/')
list_url="$base/web/backpack/merchants/1/projects/2/users/$user/items"
for batch in $(seq 1 10); do
  body="["
  for i in $(seq 1 100); do
    n=$(( (batch - 1) * 100 + i ))
    [[ $i -gt 1 ]] && body+=","
    body+="{\"item_sku\":\"item-$n\",\"item_name\":\"Item $n\",\"image_url\":\"https://img.example/items/$n.png\",\"description\":\"Benchmark item number $n\",\"game_name\":\"Bench Game\",\"external_game_id\":\"bench-game\",\"platform\":\"steam\"}"
  done
  body+="]"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H "X-HOST-ID: $host_id" -H 'Content-Type: application/json' -d "$body" \
    "$base/web/backpack/merchants/1/projects/2/user/$user/virtual_items")
  [[ "$code" == 201 ]] || { echo "create-virtual-items answered $code" >&2; exit 1; }
done
count=$(curl -sf -H "Authorization: Bearer $token" -H "X-HOST-ID: $host_id" "$list_url" | grep -o '"item_id"' | wc -l)
bytes=$(curl -sf -H "Authorization: Bearer $token" -H "X-HOST-ID: $host_id" "$list_url" | wc -c)
[[ "$count" == 1000 ]] || { echo "expected 1000 items, listed $count" >&2; exit 1; }
rss_seeded=$(rss_kib)

cat >"$tmp/get.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["X-HOST-ID"] = "$host_id"
EOF

measure() {
  local out rps before after
  before=$(server_ticks)
  if [[ "$tool" == wrk ]]; then
    out=$("${pin_load[@]}" wrk -t1 -c"$connections" -d"${duration}s" -s "$tmp/get.lua" "$list_url")
    if grep -q 'Non-2xx' <<<"$out"; then echo "non-2xx responses" >&2; echo "$out" >&2; exit 1; fi
  else
    out=$("${pin_load[@]}" oha --no-tui -z "${duration}s" -c "$connections" \
      -H "Authorization: Bearer $token" -H "X-HOST-ID: $host_id" "$list_url")
  fi
  after=$(server_ticks)
  rps=$(grep -E 'Requests/sec:' <<<"$out" | awk '{print $2}')
  awk -v r="$rps" -v d="$duration" -v t=$((after - before)) -v hz="$ticks_per_second" \
    'BEGIN { printf "%.0f %.0f\n", r, (t > 0) ? r * d / (t / hz) : 0 }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "tool: $tool, ${duration}s x $rounds rounds, $connections connections, pinned: ${pin_server[*]:-no}"
echo "endpoint: GET /web/backpack/merchants/1/projects/2/users/<user>/items -> $count items, $bytes bytes per answer"
# Warm-up (not counted).
"${pin_load[@]}" curl -sf -o /dev/null -H "Authorization: Bearer $token" -H "X-HOST-ID: $host_id" "$list_url"
all_rps=""
all_cpu=""
for round in $(seq 1 "$rounds"); do
  read -r rps cpu <<<"$(measure)"
  printf 'round %s: %s req/s, %s req per emulator CPU-second, RSS %s\n' "$round" "$rps" "$cpu" "$(mib "$(rss_kib)")"
  all_rps+="$rps "
  all_cpu+="$cpu "
done
rss_loaded=$(rss_kib)
sleep 5
rss_idle=$(rss_kib)
peak=$(hwm_kib)
echo "median: $(median <<<"$all_rps") req/s, $(median <<<"$all_cpu") req per emulator CPU-second"
echo "RSS after startup:            $(mib "$rss_start")"
echo "RSS after granting 1000 items: $(mib "$rss_seeded")"
echo "RSS right after the load:      $(mib "$rss_loaded")"
echo "RSS 5 s after the load:        $(mib "$rss_idle")"
echo "peak RSS (VmHWM):              $(mib "$peak")"
