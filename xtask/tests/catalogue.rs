//! The webhook catalogue follows the spec: a webhook added to the spec (here by the semver
//! corpus's `add-webhook-type` overlay) becomes a `WebhookKind` variant, and an entry of
//! `for_each_webhook!` with its handler method, from which `backpack-webhooks` defines the
//! handler method and its dispatch arm. `scripts/catalogue-check.sh` builds and runs the result.

use crate::common::scratch_tree;
use xtask::codegen::catalogue::PATH;
use xtask::regen;

/// The generated catalogue, with the corpus's `inventory_update` webhook added when `extra`.
fn catalogue(extra: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    if extra {
        let overlay =
            xtask::workspace_root().join("xtask/tests/semver-corpus/03-add-webhook-type.yaml");
        std::fs::copy(
            overlay,
            dir.path().join("spec/overlays/90-new-webhook.yaml"),
        )
        .unwrap();
    }
    regen::generate_all(dir.path())
        .unwrap()
        .into_iter()
        .find(|f| f.path == PATH)
        .unwrap()
        .contents
}

#[test]
fn a_new_webhook_gets_a_kind_a_handler_method_and_a_dispatch_entry() {
    let before = catalogue(false);
    let after = catalogue(true);
    assert!(!before.contains("InventoryUpdate"));
    for expected in [
        // The kind (with its own discriminant: see the next check), its name and its family.
        "    InventoryUpdate = ",
        "Self::InventoryUpdate => WebhookFamily::Payments",
        // The handler method and dispatch arm, in the payments arm of the macro.
        "{ kind: InventoryUpdate, event: InventoryUpdate, method: inventory_update, notification_type: \"inventory_update\", payload: $crate::webhooks::InventoryUpdate, summary: \"Inventory update\" }",
    ] {
        assert!(after.contains(expected), "missing {expected:?}");
    }
    // Its name, `notification_type`, spec key and method are all `inventory_update`.
    assert_eq!(
        after
            .matches("Self::InventoryUpdate => \"inventory_update\"")
            .count(),
        4
    );
    let payments_arm = after.split("(Backpack, $callback").next().unwrap();
    assert!(payments_arm.contains("method: inventory_update"));
    // Nothing else moves: every line of the catalogue is still there, the other kinds'
    // discriminants included (a downstream `as` cast keeps its value).
    for line in before.lines() {
        assert!(after.contains(line), "line lost: {line}");
    }
}

#[test]
fn both_families_share_a_notification_type_under_distinct_kinds() {
    let text = catalogue(false);
    assert!(text.contains("Self::UserValidation => \"user_validation\""));
    assert!(text.contains("Self::BackpackUserValidation => \"backpack.user_validation\""));
    assert!(text.contains("Self::BackpackUserValidation => WebhookFamily::Backpack"));
}
