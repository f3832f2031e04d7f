//! `cargo xtask diff OLD NEW` as a command: one line per change, then the release each generated
//! crate needs; exit 1 when any generated crate needs a major release, 0 otherwise, 2 on errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

fn run(args: &[&Path]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("diff")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn run_diff(old: &str, new: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("old.yaml"), dir.path().join("new.yaml"));
    std::fs::write(&a, old).unwrap();
    std::fs::write(&b, new).unwrap();
    run(&[&a, &b])
}

#[test]
fn a_major_release_exits_1_and_anything_less_exits_0() {
    let spec = std::fs::read_to_string(xtask::workspace_root().join("spec/backpack.yaml")).unwrap();
    let mut doc: serde_json::Value = serde_norway::from_str(&spec).unwrap();

    let (code, out) = run_diff(&spec, &spec);
    assert_eq!((code, out.as_str()), (0, "no semantic changes\n"));

    doc["components"]["schemas"]["CreateGameRequest"]["properties"]["genre"] =
        serde_json::json!({"type": "string"});
    let added = serde_norway::to_string(&doc).unwrap();
    let (code, out) = run_diff(&spec, &added);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "non-breaking schema CreateGameRequest: field genre added (optional, string)\n\
         \n\
         release needed per generated crate (rules: docs/semver.md):\n\
         backpack-types: minor\n  \
         minor  schema CreateGameRequest: field genre added (optional, string) (a new field and `with_…`)\n\
         backpack-client: none\n\
         backpack-server: none\n\
         backpack-httpmock: none\n"
    );

    doc["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/web/backpack/items/{itemId}");
    let removed = serde_norway::to_string(&doc).unwrap();
    let (code, out) = run_diff(&spec, &removed);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("BREAKING     operation get-user-backpack-item: removed (GET /web/backpack/items/{itemId})\n"), "{out}");
    assert!(out.contains("\nbackpack-client: major\n"), "{out}");
}

#[test]
fn a_breaking_spec_change_that_needs_no_major_release_exits_0() {
    // Moving an operation breaks old HTTP callers, but the generated method keeps its signature.
    let spec = std::fs::read_to_string(xtask::workspace_root().join("spec/backpack.yaml")).unwrap();
    let mut doc: serde_json::Value = serde_norway::from_str(&spec).unwrap();
    let paths = doc["paths"].as_object_mut().unwrap();
    let item = paths.remove("/web/backpack/items/{itemId}").unwrap();
    paths.insert("/web/backpack/v2/items/{itemId}".into(), item);
    let (code, out) = run_diff(&spec, &serde_norway::to_string(&doc).unwrap());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("BREAKING     operation get-user-backpack-item: moved"),
        "{out}"
    );
    assert!(out.contains("\nbackpack-client: patch\n"), "{out}");
}

#[test]
fn overlays_apply_to_new_and_must_extend_it() {
    let root = xtask::workspace_root();
    let spec = root.join("spec/backpack.yaml");
    let corpus = root.join("xtask/tests/semver-corpus");
    let (code, out) = run(&[
        &spec,
        &spec,
        Path::new("--overlay"),
        &corpus.join("14-remove-enum-value.yaml"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("BREAKING     schema ItemType: enum value \"promo_code\" removed\n"),
        "{out}"
    );
    let webhooks = root.join("spec/webhooks.yaml");
    let (code, out) = run(&[
        &webhooks,
        &webhooks,
        Path::new("--overlay"),
        &corpus.join("14-remove-enum-value.yaml"),
    ]);
    assert_eq!((code, out.as_str()), (2, ""));
}
