#!/usr/bin/env bash
# The catalogue test of issue 21: a webhook added to the spec reaches the receiver and the emulator
# by a regen alone.
#
# In a scratch copy of this checkout: add a webhook (`inventory_update`, with a documented sample)
# to spec/webhooks.yaml, run `cargo xtask regen`, check that only spec/ and generated/ changed, then
# build and run scripts/catalogue-check/ (a crate outside the workspace): it serves a
# WebhookReceiver whose handler overrides the new `inventory_update` method, has the emulator
# trigger the new kind with its documented sample, and fails unless that method received it.
#
#   scripts/catalogue-check.sh
#
# Slow (it builds the workspace crates in the scratch copy: minutes on 2 cores), so it is a script
# and not part of `cargo test`; xtask's `catalogue` test checks the fast half (the regenerated
# catalogue lists the new webhook). Scratch: $CATALOGUE_SCRATCH (default /tmp/catalogue-check), with
# its own CARGO_TARGET_DIR there, seeded with a copy of target/ so dependencies are reused.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=${CATALOGUE_SCRATCH:-/tmp/catalogue-check}
WORK=$SCRATCH/work
export CARGO_TARGET_DIR=$SCRATCH/target
export CARGO_TERM_COLOR=never

rm -rf "$WORK"
mkdir -p "$WORK"
# Tracked plus untracked-but-not-ignored files, so uncommitted work is checked too.
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && tar --null -T - -cf -) | tar -xf - -C "$WORK"
git -C "$WORK" init -q
git -C "$WORK" add -A
git -C "$WORK" -c user.name=catalogue -c user.email=catalogue@localhost commit -qm baseline
if [[ ! -d "$CARGO_TARGET_DIR" ]]; then
    echo "seeding $CARGO_TARGET_DIR with a copy of target/" >&2
    if [[ -d "$ROOT/target" ]]; then
        cp -r --reflink=auto "$ROOT/target" "$CARGO_TARGET_DIR"
    else
        mkdir -p "$CARGO_TARGET_DIR"
    fi
fi

# The new webhook goes first under `webhooks:`, its payload first under `components.schemas`.
webhook=$(cat <<'YAML'
  inventory_update:
    post:
      operationId: inventory-update
      summary: Inventory update
      description: Sent when a user's inventory changes.
      parameters:
        - $ref: '#/components/parameters/Signature'
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/InventoryUpdate'
            examples:
              doc-sample:
                summary: Documented request sample
                value:
                  notification_type: inventory_update
                  user:
                    id: "1234567"
      responses:
        '204':
          $ref: '#/components/responses/Success'
        '400':
          $ref: '#/components/responses/BadRequest'
YAML
)
schema=$(cat <<'YAML'
    InventoryUpdate:
      type: object
      description: Payload of the inventory_update webhook.
      required:
        - notification_type
      properties:
        notification_type:
          type: string
          const: inventory_update
        user:
          $ref: '#/components/schemas/User'
YAML
)
spec=$WORK/spec/webhooks.yaml
WEBHOOK=$webhook SCHEMA=$schema awk '
    { print }
    /^webhooks:$/ { print ENVIRON["WEBHOOK"]; added++ }
    /^  schemas:$/ { print ENVIRON["SCHEMA"]; added++ }
    END { if (added != 2) { print "spec/webhooks.yaml: no `webhooks:` or `  schemas:` line" > "/dev/stderr"; exit 1 } }
' "$spec" >"$spec.new"
mv "$spec.new" "$spec"

echo "regen" >&2
(cd "$WORK" && cargo xtask regen) >"$SCRATCH/regen.log" 2>&1 || {
    cat "$SCRATCH/regen.log" >&2
    exit 1
}
changed=$(git -C "$WORK" status --porcelain | awk '{print $2}')
outside=$(grep -Ev '^(spec/webhooks\.yaml|generated/)' <<<"$changed" || true)
if [[ -n "$outside" ]]; then
    echo "FAIL: files outside spec/ and generated/ changed:" >&2
    echo "$outside" >&2
    exit 1
fi
grep -q 'InventoryUpdate' "$WORK/generated/backpack-types/src/catalogue.rs" || {
    echo "FAIL: the regenerated catalogue does not list inventory_update" >&2
    exit 1
}

echo "building and running scripts/catalogue-check (in the scratch copy)" >&2
cp "$WORK/Cargo.lock" "$WORK/scripts/catalogue-check/Cargo.lock"
cargo run --quiet --manifest-path "$WORK/scripts/catalogue-check/Cargo.toml"
