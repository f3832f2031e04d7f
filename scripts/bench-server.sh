#!/usr/bin/env bash
# Requests/s of the generated Backpack router against hand-written axum handlers for the same
# routes, measured in one run on loopback (tests/examples/bench_server.rs).
#
# Usage: scripts/bench-server.sh [seconds per measurement (5)] [rounds (5)]
# Env:   BENCH_TOOL=oha|wrk   load generator (default: the one installed; if neither is, `wrk`
#                             from Debian via apt-get when run as root, else `cargo install oha --locked`)
#        CONNECTIONS=32       concurrent connections
#        CALLGRIND=1          also count instructions per request under valgrind (if installed)
#        PIN=0                PIN=1 pins the server to CPU 0 (one runtime worker) and the load
#                             generator to CPU 1 (needs taskset and 2+ CPUs). Off by default: on a
#                             machine shared with other jobs, pinned runs were far noisier.
#
# Each round measures both variants of both routes, alternating which goes first, so drift on a
# shared machine hits both sides alike. Two numbers per measurement: requests/s (wall clock), and
# requests per CPU-second the server process actually used (from /proc/<pid>/stat), which stays
# meaningful when other jobs take CPU from the server. Ratios generated/hand-written are printed per
# round and as medians over the rounds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${1:-5}"
rounds="${2:-5}"
connections="${CONNECTIONS:-32}"

# shellcheck source=scripts/load-tool.sh
source "$root/scripts/load-tool.sh"
pick_load_tool
if pick_pinning 0; then
  # One CPU for the server: one runtime worker, the same for both variants.
  export TOKIO_WORKER_THREADS=1
fi

cargo build --release --quiet -p workspace-tests --example bench_server
bin="$root/target/release/examples/bench_server"

# The server prints its two URLs and then serves; reading them is the readiness signal.
exec 3< <(exec "${pin_server[@]}" "$bin")
server_pid=$!
tmp="$(mktemp -d)"
cleanup() {
  kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
read -r _ generated_url <&3
read -r _ handwritten_url <&3

item="4d8cd62e-a579-4dae-af8c-3172f96f8f7c"
host_id="497f6eca-6276-4993-bfeb-53cbbbba6f08"
get_path="/web/backpack/items/$item"
post_path="/web/backpack/merchants/7/projects/8/games"
post_body='{"external_game_id":"g-1","game_name":"Game","game_image_url":"https://example.com/g.png"}'

cat >"$tmp/get.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer bench-token"
EOF
cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.body = '$post_body'
wrk.headers["Authorization"] = "Bearer bench-token"
wrk.headers["X-HOST-ID"] = "$host_id"
wrk.headers["Content-Type"] = "application/json"
EOF

# Both variants must answer the same before anything is measured.
for url in "$generated_url" "$handwritten_url"; do
  got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer bench-token' "$url$get_path")
  [[ "$got" == 200 ]] || { echo "GET $url$get_path answered $got" >&2; exit 1; }
  got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer bench-token' -H "X-HOST-ID: $host_id" \
    -H 'Content-Type: application/json' -d "$post_body" "$url$post_path")
  [[ "$got" == 201 ]] || { echo "POST $url$post_path answered $got" >&2; exit 1; }
done

# Server CPU time so far (user + system), in clock ticks.
server_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
ticks_per_second=$(getconf CLK_TCK)

# Prints "<requests/s> <requests per server CPU-second>" for one scenario (get|post) against one
# base URL. The second number divides the requests served by the CPU time the server process used
# meanwhile, so it does not depend on how much CPU other work on the machine left to the server.
measure() {
  local scenario="$1" base="$2" out rps before after
  local path="$get_path"
  [[ "$scenario" == post ]] && path="$post_path"
  before=$(server_ticks)
  if [[ "$tool" == wrk ]]; then
    out=$("${pin_load[@]}" wrk -t1 -c"$connections" -d"${duration}s" -s "$tmp/$scenario.lua" "$base$path")
    if grep -q 'Non-2xx' <<<"$out"; then echo "non-2xx responses from $base$path" >&2; echo "$out" >&2; exit 1; fi
  else
    local args=(--no-tui -z "${duration}s" -c "$connections" -H 'Authorization: Bearer bench-token')
    if [[ "$scenario" == post ]]; then
      args+=(-m POST -H "X-HOST-ID: $host_id" -H 'Content-Type: application/json' -d "$post_body")
    fi
    out=$("${pin_load[@]}" oha "${args[@]}" "$base$path")
  fi
  after=$(server_ticks)
  rps=$(grep -E 'Requests/sec:' <<<"$out" | awk '{print $2}')
  awk -v r="$rps" -v d="$duration" -v t=$((after - before)) -v hz="$ticks_per_second" \
    'BEGIN { printf "%.0f %.0f\n", r, (t > 0) ? r * d / (t / hz) : 0 }'
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "tool: $tool, ${duration}s per measurement, $connections connections, $rounds rounds, pinned: ${pin_server[*]:-no}"
echo "generated:   $generated_url"
echo "handwritten: $handwritten_url"
printf '%-5s %-5s | %10s %10s %6s | %14s %14s %6s\n' route round gen-req/s hand-req/s ratio gen-req/cpu-s hand-req/cpu-s ratio
declare -A ratios cpu_ratios
for round in $(seq 1 "$rounds"); do
  for scenario in get post; do
    if (( round % 2 )); then
      g=$(measure "$scenario" "$generated_url")
      h=$(measure "$scenario" "$handwritten_url")
    else
      h=$(measure "$scenario" "$handwritten_url")
      g=$(measure "$scenario" "$generated_url")
    fi
    read -r gen gen_cpu <<<"$g"
    read -r hand hand_cpu <<<"$h"
    ratio=$(awk -v g="$gen" -v h="$hand" 'BEGIN { printf "%.3f", g / h }')
    cpu_ratio=$(awk -v g="$gen_cpu" -v h="$hand_cpu" 'BEGIN { printf "%.3f", (h > 0) ? g / h : 0 }')
    ratios[$scenario]+="$ratio "
    cpu_ratios[$scenario]+="$cpu_ratio "
    printf '%-5s %-5s | %10s %10s %6s | %14s %14s %6s\n' "$scenario" "$round" "$gen" "$hand" "$ratio" "$gen_cpu" "$hand_cpu" "$cpu_ratio"
  done
done
for scenario in get post; do
  echo "median ratio generated/handwritten ($scenario): req/s $(median <<<"${ratios[$scenario]}"), req per server CPU-second $(median <<<"${cpu_ratios[$scenario]}")"
done

# Instructions per request, in process (router_cost.rs): exact, so independent of machine load.
# Two run lengths, so the fixed start-up cost cancels out.
if have valgrind && [[ "${CALLGRIND:-1}" == 1 ]]; then
  cargo build --release --quiet -p workspace-tests --example router_cost
  cost_bin="$root/target/release/examples/router_cost"
  instructions() {
    N="$2" ROUNDS=1 ONLY="$1" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$cost_bin" 2>&1 |
      awk '/Collected/ { print $4 }'
  }
  echo
  echo "instructions per request (callgrind, in process, request building and body collection included):"
  for scenario in get post; do
    declare -A per
    for variant in generated handwritten; do
      short=$(instructions "$variant-$scenario" 1000)
      long=$(instructions "$variant-$scenario" 11000)
      per[$variant]=$(( (long - short) / 10000 ))
    done
    echo "  $scenario: generated ${per[generated]}, handwritten ${per[handwritten]}," \
      "ratio handwritten/generated $(awk -v g="${per[generated]}" -v h="${per[handwritten]}" 'BEGIN { printf "%.3f", h / g }')"
  done
fi
