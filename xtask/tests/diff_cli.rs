//! `cargo xtask diff OLD NEW` as a command: one line per change, exit 1 when anything is breaking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn run_diff(old: &str, new: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("old.yaml"), dir.path().join("new.yaml"));
    std::fs::write(&a, old).unwrap();
    std::fs::write(&b, new).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("diff")
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn breaking_changes_exit_1_and_additions_exit_0() {
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
        "non-breaking schema CreateGameRequest: field genre added (optional, string)\n"
    );

    doc["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/web/backpack/items/{itemId}");
    let removed = serde_norway::to_string(&doc).unwrap();
    let (code, out) = run_diff(&spec, &removed);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("BREAKING     operation get-user-backpack-item: removed (GET /web/backpack/items/{itemId})\n"), "{out}");
}
