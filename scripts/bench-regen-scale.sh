#!/usr/bin/env bash
# Issue 18: release `xtask regen` time and the debug build time of the generated crates at 14, 140
# and 1,400 operations (spec/backpack.yaml replicated 1x, 10x, 100x by scripts/scale-spec.py).
#
# Runs in a scratch copy (spec/, generated/, a workspace of the four generated crates) with its own
# CARGO_TARGET_DIR, seeded from target/debug when present so registry dependencies are reused.
# Usage: scripts/bench-regen-scale.sh [FACTOR...]   (default: 1 10 100; RUNS=3 regen runs each;
# BUILD=0 times regen only, without the scratch workspace's builds)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
factors=("${@:-1 10 100}")
read -r -a factors <<<"${factors[*]}"
runs=${RUNS:-3}
with_build=${BUILD:-1}
scratch=$(mktemp -d /tmp/regen-scale.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

cargo build --release -p xtask --manifest-path "$root/Cargo.toml" >/dev/null 2>&1
xtask=$root/target/release/xtask
# `crates/` for the path dependencies of the generated crates (backpack-sdk, a dev-dependency).
cp -a "$root/spec" "$root/generated" "$root/crates" "$root/Cargo.lock" "$scratch/"
# The scratch workspace: the root manifest with the generated crates as its only members.
python3 - "$root/Cargo.toml" "$scratch/Cargo.toml" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
members = '''members = [
    "generated/backpack-types",
    "generated/backpack-client",
    "generated/backpack-server",
    "generated/backpack-httpmock",
]'''
text = re.sub(r"members = \[.*?\]", members, text, count=1, flags=re.S)
text = re.sub(r"exclude = \[.*?\]\n", "", text, count=1)
open(sys.argv[2], "w").write(text)
PY
export CARGO_TARGET_DIR=$scratch/target
mkdir -p "$CARGO_TARGET_DIR"
if [ "$with_build" = 1 ] && [ -d "$root/target/debug" ]; then
    cp -a "$root/target/debug" "$CARGO_TARGET_DIR/"
fi
crates=(-p backpack-types -p backpack-client -p backpack-server -p backpack-httpmock)
# Warm up: every dependency built once, so the timings below are the generated crates alone.
build() {
    [ "$with_build" = 1 ] || return 0
    (cd "$scratch" && cargo build "${crates[@]}" >"$scratch/build.log" 2>&1) ||
        { tail -30 "$scratch/build.log" >&2; exit 1; }
}
build

echo "ops | release regen, wall s (user+sys CPU s), $runs runs | debug build of the 4 generated crates (s)"
for factor in "${factors[@]}"; do
    python3 "$root/scripts/scale-spec.py" "$root/spec/backpack.yaml" "$factor" "$scratch/spec/backpack.yaml" 2>/dev/null
    ops=$((14 * factor))
    times=()
    for _ in $(seq "$runs"); do
        # wall s (user + sys CPU s): CPU time is what a loaded machine distorts least.
        times+=("$(XTASK_ROOT=$scratch /usr/bin/time -f '%e (%U+%S)' "$xtask" regen 2>&1 >/dev/null | tail -1)")
    done
    # Rebuild the generated crates from their (new, or touched) sources.
    # (Timing starts after regen: only the build of the generated code is measured.)
    touch "$scratch"/generated/*/src/lib.rs
    start=$(date +%s.%N)
    build
    build=$(echo "$(date +%s.%N) - $start" | bc)
    printf '%s | %s | %.1f\n' "$ops" "$(printf '%s; ' "${times[@]}")" "$build"
done
