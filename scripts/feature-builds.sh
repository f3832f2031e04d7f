#!/usr/bin/env bash
# Builds (type-checks, with clippy's warnings as errors) backpack-webhooks with each of its features alone, and with none: a
# feature that only compiles together with another (a missing `#[cfg]`, an import used by one
# store only, dead code of another feature) fails here, while `--all-features` everywhere else
# would hide it. The library is checked (`--lib`); its tests need `--all-features`.
#
# Usage: scripts/feature-builds.sh   (the features are read from the crate's Cargo.toml)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
manifest=crates/backpack-webhooks/Cargo.toml
# Public features: every `name = [...]` line of [features] except `default` and `_internal` ones.
mapfile -t features < <(sed -n '/^\[features\]/,/^\[/p' "$manifest" \
    | sed -n 's/^\([a-z][a-z0-9-]*\) = \[.*/\1/p' | grep -v '^default$')
cargo clippy -q -p backpack-webhooks --lib --no-default-features -- -D warnings
echo "backpack-webhooks (no features): ok"
for feature in "${features[@]}"; do
    cargo clippy -q -p backpack-webhooks --lib --no-default-features --features "$feature" -- -D warnings
    echo "backpack-webhooks --features $feature (alone): ok"
done
