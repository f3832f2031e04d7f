//! `cargo xtask pull` against loopback servers: a good document (YAML or JSON, as Xsolla links both
//! `index.yaml` and `index.json?download`) updates the file byte for byte, the sha256 and the
//! provenance, and reports the semantic diff; a 404, a non-OpenAPI body and a hanging server leave
//! `spec/` untouched.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{Answer, scratch_tree, serve_once};
use xtask::pull::pull;
use xtask::regen;
use xtask::sources::{Provenance, Sources, sha256_hex};

fn snapshot(root: &std::path::Path) -> (Vec<u8>, String) {
    (
        std::fs::read(root.join("spec/backpack.yaml")).unwrap(),
        std::fs::read_to_string(root.join("spec/sources.toml")).unwrap(),
    )
}

#[test]
fn a_good_document_is_written_recorded_and_diffed() {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    let current = std::fs::read_to_string(dir.path().join("spec/backpack.yaml")).unwrap();
    // The "new upstream version": one more optional field on a request body.
    let mut doc: serde_json::Value = serde_norway::from_str(&current).unwrap();
    doc["components"]["schemas"]["CreateGameRequest"]["properties"]["game_genre"] =
        serde_json::json!({"type": "string"});
    let new_text = serde_norway::to_string(&doc).unwrap();
    let url = format!(
        "{}/backpack.yaml",
        serve_once(Answer::Respond("200 OK", new_text.clone()))
    );

    let reports = pull(dir.path(), Some("backpack"), Some(&url), 5).unwrap();

    assert_eq!(
        std::fs::read_to_string(dir.path().join("spec/backpack.yaml")).unwrap(),
        new_text
    );
    let sources = Sources::load(dir.path()).unwrap();
    let entry = sources.get("backpack").unwrap();
    assert_eq!(entry.sha256, sha256_hex(new_text.as_bytes()));
    assert_eq!(entry.url, url);
    assert_eq!(entry.provenance, Provenance::Pulled);
    assert_eq!(
        sources.get("webhooks").unwrap().provenance,
        Provenance::Reconstructed,
        "only the pulled document changes provenance"
    );
    let changes = reports[0].changes.as_ref().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].subject, "schema CreateGameRequest");
    assert_eq!(changes[0].what, "field game_genre added (optional, string)");
    assert!(!changes[0].breaking);
}

#[test]
fn a_json_bundle_is_stored_unchanged_and_generates_like_its_yaml_form() {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    let yaml = std::fs::read_to_string(dir.path().join("spec/backpack.yaml")).unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
    // Tab-indented, as some JSON writers emit it (a YAML parser rejects tabs as indentation).
    let json = serde_json::to_string_pretty(&doc)
        .unwrap()
        .replace("  ", "\t");
    let url = format!(
        "{}/index.json?download",
        serve_once(Answer::RespondAs(
            "200 OK",
            "application/json",
            json.clone()
        ))
    );

    let reports = pull(dir.path(), Some("backpack"), Some(&url), 5).unwrap();

    // Stored byte for byte under the recorded file name, and recorded as pulled.
    let stored = std::fs::read(dir.path().join("spec/backpack.yaml")).unwrap();
    assert_eq!(stored, json.as_bytes());
    let sources = Sources::load(dir.path()).unwrap();
    let entry = sources.get("backpack").unwrap();
    assert_eq!(entry.file, "backpack.yaml");
    assert_eq!(entry.sha256, sha256_hex(json.as_bytes()));
    assert_eq!(entry.provenance, Provenance::Pulled);
    assert_eq!(
        reports[0].changes.as_ref().map(Vec::len),
        Some(0),
        "same API, other form"
    );
    // The rest of the pipeline does not care which form it got.
    let overlays = xtask::overlay::load_overlays(&dir.path().join("spec/overlays")).unwrap();
    assert_eq!(
        regen::prepare_document("backpack.yaml", &json, &overlays).unwrap(),
        regen::prepare_document("backpack.yaml", &yaml, &overlays).unwrap()
    );
    regen::run(dir.path(), true).expect("generated code is unchanged by the JSON form");

    // And back to the YAML form from `index.yaml`.
    let url = format!(
        "{}/index.yaml",
        serve_once(Answer::Respond("200 OK", yaml.clone()))
    );
    let reports = pull(dir.path(), Some("backpack"), Some(&url), 5).unwrap();
    assert_eq!(reports[0].changes.as_ref().map(Vec::len), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("spec/backpack.yaml")).unwrap(),
        yaml
    );
}

fn assert_refused(answer: Answer, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    scratch_tree(dir.path());
    let before = snapshot(dir.path());
    let url = format!("{}/index.yaml", serve_once(answer));
    let err = pull(dir.path(), Some("backpack"), Some(&url), 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains(expected), "{err}");
    assert!(err.contains("pull backpack from"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "spec/ must be untouched");
    assert!(!dir.path().join("spec/backpack.download").exists());
}

#[test]
fn http_404_leaves_spec_untouched() {
    assert_refused(
        Answer::Respond("404 Not Found", "nope".into()),
        "HTTP 404 Not Found; spec/ is untouched",
    );
}

#[test]
fn a_non_openapi_body_leaves_spec_untouched() {
    assert_refused(
        Answer::Respond("200 OK", "<html><body>Sign in</body></html>".into()),
        "not an OpenAPI document",
    );
    assert_refused(
        Answer::Respond("200 OK", "openapi: 2.0\ninfo: {}\n".into()),
        "unsupported OpenAPI version",
    );
}

#[test]
fn a_hanging_server_times_out_and_leaves_spec_untouched() {
    assert_refused(Answer::Hang, "timed out; spec/ is untouched");
}
