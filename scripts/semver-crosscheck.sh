#!/usr/bin/env bash
# Cross-checks the xtask's semver verdicts (docs/semver.md) against cargo-semver-checks.
#
# For every entry of xtask/tests/semver-corpus/ (an Overlay on spec/): in a scratch copy of this
# checkout, apply the change, `cargo xtask regen`, build the whole workspace without touching
# hand-written code, build the downstream crate (examples/downstream), and run cargo-semver-checks on
# each generated crate against the unchanged copy. Prints a markdown table.
#
#   scripts/semver-crosscheck.sh                      # every entry (long: one workspace build each)
#   scripts/semver-crosscheck.sh --only 09 --only add-enum-value   # some entries (substring match)
#   scripts/semver-crosscheck.sh --out docs/semver-crosscheck.md   # also write the table there
#   scripts/semver-crosscheck.sh --no-build           # skip the workspace build (verdicts only)
#   scripts/semver-crosscheck.sh --force              # recompute entries that already have a result
#
# Resumable: each entry's result is kept under the scratch directory and reused while the checkout
# is unchanged. Scratch: $SEMVER_SCRATCH (default /tmp/semver-crosscheck). All cargo work uses its
# own CARGO_TARGET_DIR there ($SEMVER_TARGET_DIR to override; seeded with a copy of target/ to save
# time), never this checkout's.
# Needs cargo-semver-checks 0.51.0 (`cargo install --locked cargo-semver-checks@0.51.0`).
# Exit status: 1 when an entry disagrees (other than an expected blind spot) or an additive change
# breaks the build; 0 otherwise.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSC_VERSION=0.51.0
CRATES=(backpack-types backpack-client backpack-server backpack-httpmock)

only=() out="" build=1 force=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) only+=("$2"); shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-build) build=0; shift ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

have=$(cargo semver-checks --version 2>/dev/null | awk '{print $2}') || true
if [[ "$have" != "$CSC_VERSION" ]]; then
    echo "needs cargo-semver-checks $CSC_VERSION (found: ${have:-none});" \
        "run: cargo install --locked cargo-semver-checks@$CSC_VERSION" >&2
    exit 2
fi

SCRATCH=${SEMVER_SCRATCH:-/tmp/semver-crosscheck}
BASE=$SCRATCH/base      # the checkout as it is: the baseline
WORK=$SCRATCH/work      # reset to BASE, then changed, for each entry
RESULTS=$SCRATCH/results
LOGS=$SCRATCH/logs
# SEMVER_TARGET_DIR lets runs from different checkouts share one scratch target directory.
export CARGO_TARGET_DIR=${SEMVER_TARGET_DIR:-$SCRATCH/target}
export CARGO_TERM_COLOR=never
mkdir -p "$SCRATCH" "$RESULTS" "$LOGS"

# Files of the checkout: tracked plus untracked-but-not-ignored (so uncommitted work is checked too).
list_files() {
    git -C "$ROOT" ls-files -z --cached --others --exclude-standard | grep -zv "^docs/semver-crosscheck.md$"
}
stamp=$(list_files | (cd "$ROOT" && xargs -0 sha256sum 2>/dev/null) | sha256sum | cut -c1-16)
if [[ "$(cat "$SCRATCH/stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "preparing the baseline copy in $BASE" >&2
    rm -rf "$BASE" "$WORK" "$RESULTS"
    mkdir -p "$BASE" "$RESULTS"
    list_files | (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$BASE"
    cp -r "$BASE" "$WORK"
    # A git index in WORK resets it between entries, rewriting only the files that differ (with a
    # fresh mtime, so cargo rebuilds exactly what changed).
    git -C "$WORK" init -q
    git -C "$WORK" add -A
    git -C "$WORK" -c user.name=crosscheck -c user.email=crosscheck@localhost commit -qm baseline
    echo "$stamp" > "$SCRATCH/stamp"
fi
if [[ ! -d "$CARGO_TARGET_DIR" ]]; then
    echo "seeding $CARGO_TARGET_DIR with a copy of target/ (dependencies only get reused)" >&2
    if [[ -d "$ROOT/target" ]]; then
        cp -r --reflink=auto "$ROOT/target" "$CARGO_TARGET_DIR"
    else
        mkdir -p "$CARGO_TARGET_DIR"
    fi
fi

selected() {
    local name=$1
    [[ ${#only[@]} -eq 0 ]] && return 0
    for o in "${only[@]}"; do [[ "$name" == *"$o"* ]] && return 0; done
    return 1
}

# The release cargo-semver-checks asks for, from its summary line.
csc_verdict() {
    local log=$1
    if grep -q "no semver update required" "$log"; then echo none
    elif m=$(grep -oE '[0-9]+ major and [0-9]+ minor checks failed' "$log" | head -1); [[ -n "$m" ]]; then
        read -r major _ _ minor _ <<<"$m"
        if (( major > 0 )); then echo major; elif (( minor > 0 )); then echo minor; else echo none; fi
    else echo error
    fi
}

run_entry() {
    local file=$1 name ext log
    name=$(basename "$file" .yaml)
    ext=$(awk '/^extends:/ {print $2}' "$file")
    log=$LOGS/$name
    git -C "$WORK" checkout -q -- . && git -C "$WORK" clean -fdq
    cp "$file" "$WORK/spec/overlays/90-semver-corpus.yaml"

    # The xtask's verdict: own API per crate (what cargo-semver-checks can see).
    local diff_out
    diff_out=$(cd "$WORK" && cargo xtask diff "spec/$ext" "spec/$ext" \
        --overlay "xtask/tests/semver-corpus/$name.yaml" 2>"$log-diff.err") || true
    local xt=()
    for c in "${CRATES[@]}"; do
        local line
        line=$(grep -E "^$c: " <<<"$diff_out" || echo "$c: error")
        if [[ "$line" =~ \(own\ API:\ ([a-z]+)\) ]]; then xt+=("${BASH_REMATCH[1]}")
        else xt+=("${line#"$c: "}")
        fi
    done

    local regen=ok ws=skipped ds
    (cd "$WORK" && cargo xtask regen) >"$log-regen.log" 2>&1 || regen=FAIL
    if [[ $build == 1 ]]; then
        ws=ok
        (cd "$WORK" && cargo build --workspace --all-targets --all-features) >"$log-build.log" 2>&1 || ws=FAIL
    fi
    ds=ok
    cargo build --manifest-path "$WORK/examples/downstream/Cargo.toml" >"$log-downstream.log" 2>&1 || ds=FAIL

    local csc=()
    for c in "${CRATES[@]}"; do
        cargo semver-checks check-release --manifest-path "$WORK/Cargo.toml" -p "$c" \
            --baseline-root "$BASE" --release-type patch >"$log-csc-$c.log" 2>&1 || true
        csc+=("$(csc_verdict "$log-csc-$c.log")")
    done
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${xt[*]}" "${csc[*]}" "$regen" "$ws" "$ds" \
        >"$RESULTS/$name.tsv"
}

failed=0
rows=()
for file in "$ROOT"/xtask/tests/semver-corpus/*.yaml; do
    name=$(basename "$file" .yaml)
    selected "$name" || continue
    if [[ $force == 1 || ! -s "$RESULTS/$name.tsv" ]]; then
        echo "== $name" >&2
        run_entry "$file"
    fi
    IFS=$'\t' read -r _ xt csc regen ws ds <"$RESULTS/$name.tsv"
    read -ra xa <<<"$xt"
    read -ra ca <<<"$csc"
    # Crates whose break cargo-semver-checks cannot see (declared in the entry).
    blind=$(awk '/^x-semver-checks-blind:/ {on=1; next} on && /^  [a-z-]+:/ {sub(/:.*/, ""); gsub(/ /, ""); print; next} {on=0}' "$file")
    agree=yes
    for i in "${!CRATES[@]}"; do
        xm=no cm=no
        [[ "${xa[$i]}" == major ]] && xm=yes
        [[ "${ca[$i]}" == major ]] && cm=yes
        [[ $xm == "$cm" ]] && continue
        if grep -qx "${CRATES[$i]}" <<<"$blind"; then
            [[ $agree == yes ]] && agree="yes (${CRATES[$i]}: a break cargo-semver-checks cannot see, declared in the entry)"
        else
            agree="NO (${CRATES[$i]})"
            failed=1
        fi
    done
    if [[ "$ws" == FAIL && ! " ${xa[*]} " =~ " major " ]]; then
        ws="FAIL (additive change)"
        failed=1
    fi
    rows+=("| $name | ${xa[0]} / ${xa[1]} / ${xa[2]} / ${xa[3]} | ${ca[0]} / ${ca[1]} / ${ca[2]} / ${ca[3]} | $agree | $regen | $ws | $ds |")
done

table=$(
    echo "| change | xtask (types / client / server / httpmock, own API) | cargo-semver-checks $CSC_VERSION (same order) | agree? | regen | workspace build | downstream build |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
)
echo "$table"
if [[ -n "$out" ]]; then
    {
        echo "# Semver cross-check"
        echo
        echo "Generated by \`scripts/semver-crosscheck.sh\` on $(date -u +%Y-%m-%d) from commit"
        echo "\`$(git -C "$ROOT" rev-parse --short HEAD)\`. Rules: [semver.md](semver.md)."
        echo "\"agree\" compares *major* against *not major*: cargo-semver-checks reports breaking changes,"
        echo "not additions. Logs: \`$LOGS\`."
        echo
        echo "$table"
    } >"$ROOT/$out"
    echo "wrote $out" >&2
fi
exit $failed
