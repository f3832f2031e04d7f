//! Changing one field in the spec makes `regen --check` fail naming the stale files; `regen` then
//! rewrites them, and a file no longer produced is deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::scratch_tree;
use xtask::{Error, regen};

#[test]
fn a_changed_field_makes_check_fail_until_regen() {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    regen::run(dir.path(), true).expect("a fresh copy is up to date");

    let path = dir.path().join("spec/backpack.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let props = doc["components"]["schemas"]["CreateGameRequest"]["properties"]
        .as_object_mut()
        .unwrap();
    let field = props
        .shift_remove("game_image_url")
        .expect("the spec has this field");
    props.insert("game_picture_url".into(), field);
    std::fs::write(&path, serde_norway::to_string(&doc).unwrap()).unwrap();

    let err = regen::run(dir.path(), true).unwrap_err();
    assert!(matches!(err, Error::Stale(_)));
    let message = err.to_string();
    assert!(
        message.contains("generated/backpack-types/src/api.rs"),
        "{message}"
    );
    assert!(message.contains("game_picture_url"), "{message}");
    assert!(
        message.contains("spec/backpack.yaml: does not match the sha256"),
        "{message}"
    );
    assert!(message.contains("run `cargo xtask regen`"), "{message}");

    regen::run(dir.path(), false).unwrap();
    let api =
        std::fs::read_to_string(dir.path().join("generated/backpack-types/src/api.rs")).unwrap();
    assert!(api.contains("game_picture_url"));
}

#[test]
fn files_no_longer_generated_are_reported_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    let orphan = dir.path().join("generated/backpack-types/src/old.rs");
    std::fs::write(
        &orphan,
        format!(
            "{}pub struct Old;\n",
            xtask::codegen::header("spec/backpack.yaml")
        ),
    )
    .unwrap();
    let hand_written = dir.path().join("generated/backpack-types/src/notes.rs");
    std::fs::write(&hand_written, "// hand-written\n").unwrap();

    let message = regen::run(dir.path(), true).unwrap_err().to_string();
    assert!(
        message.contains("generated/backpack-types/src/old.rs: no longer generated"),
        "{message}"
    );
    regen::run(dir.path(), false).unwrap();
    assert!(!orphan.exists());
    assert!(
        hand_written.exists(),
        "only files carrying the generated header are deleted"
    );
    assert!(
        dir.path()
            .join("generated/backpack-types/src/lib.rs")
            .exists(),
        "the hand-written lib.rs is not regen's to delete"
    );
}

#[test]
fn a_missing_operation_id_is_derived_and_reported_naming_the_operation() {
    let text = std::fs::read_to_string(xtask::workspace_root().join("spec/backpack.yaml")).unwrap();
    let mut doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
    doc["paths"]["/web/backpack/items"]["get"]
        .as_object_mut()
        .unwrap()
        .remove("operationId");
    let mut report = xtask::degrade::Report::default();
    let prepared = regen::prepare_reporting(
        "backpack.yaml",
        &serde_norway::to_string(&doc).unwrap(),
        &[],
        &mut report,
    )
    .unwrap();
    assert_eq!(
        prepared["paths"]["/web/backpack/items"]["get"]["operationId"],
        "get-web-backpack-items"
    );
    let lines = report.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("degraded: spec/backpack.yaml: operation GET /web/backpack/items (paths): no `operationId` → generated as operation `get-web-backpack-items`"),
        "{lines:?}"
    );
}
