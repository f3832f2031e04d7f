# Shared by the HTTP benchmark scripts (sourced, not run): picks the load generator and the CPU
# pinning.
#
#   pick_load_tool        sets `tool` to oha or wrk: $BENCH_TOOL, else the one installed, else
#                         installs one (`wrk` from Debian via apt-get when run as root, else
#                         `cargo install oha --locked`)
#   pick_pinning DEFAULT  with PIN=1 (PIN defaults to DEFAULT), 2+ CPUs and taskset: sets
#                         `pin_server=(taskset -c 0)` and `pin_load=(taskset -c 1)`; otherwise
#                         leaves both empty. Returns 0 when it pinned.

have() { command -v "$1" >/dev/null 2>&1; }

pick_load_tool() {
  tool="${BENCH_TOOL:-}"
  if [[ -z "$tool" ]]; then
    if have oha; then tool=oha; elif have wrk; then tool=wrk; fi
  fi
  if [[ -z "$tool" ]]; then
    if have apt-get && [[ "$(id -u)" == 0 ]]; then
      echo "installing wrk (Debian package)" >&2
      apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
      tool=wrk
    else
      echo "installing oha (cargo install oha --locked)" >&2
      cargo install oha --locked
      tool=oha
    fi
  fi
  if [[ "$tool" == oha ]] && ! have oha; then cargo install oha --locked; fi
  if [[ "$tool" == wrk ]] && ! have wrk; then apt-get install -y wrk >/dev/null; fi
}

pick_pinning() {
  pin_server=()
  pin_load=()
  if [[ "${PIN:-$1}" == 1 ]] && have taskset && (( $(nproc) >= 2 )); then
    pin_server=(taskset -c 0)
    pin_load=(taskset -c 1)
    return 0
  fi
  return 1
}
