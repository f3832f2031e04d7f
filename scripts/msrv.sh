#!/usr/bin/env bash
# Checks the workspace with the minimum supported Rust version: the `rust-version` of the root
# Cargo.toml, which every crate inherits. Installs that toolchain with rustup (minimal profile)
# and runs `cargo check` on every target and feature, in its own target directory.
#
# Not a CI step (it rebuilds every dependency under a second toolchain: minutes on 2 cores); CI
# runs clippy, whose `incompatible_msrv` lint flags standard-library items newer than
# `rust-version`. The scheduled workflow (.github/workflows/drift.yml, `msrv` job) runs this;
# results are recorded in docs/releasing.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
if [[ -z "$msrv" ]]; then
  echo "no rust-version in Cargo.toml" >&2
  exit 2
fi
rustup toolchain install "$msrv" --profile minimal >/dev/null
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/msrv}" \
  cargo "+$msrv" check --workspace --all-targets --all-features --locked
echo "MSRV $msrv: cargo check --workspace --all-targets --all-features ok"
