//! The semver corpus (`xtask/tests/semver-corpus/*.yaml`): each entry is an Overlay applied to the real
//! `spec/` document it extends, with the release each generated crate needs (`x-semver-expected`,
//! rules in docs/semver.md). The xtask's verdict on every entry must be the expected one.
//! `scripts/semver-crosscheck.sh` checks the same entries against cargo-semver-checks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use xtask::diff::{self, Release};

fn corpus() -> Vec<PathBuf> {
    let dir = xtask::workspace_root().join("xtask/tests/semver-corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// `major`, or `major (own API: none)` when only a public dependency makes it major.
fn shown(v: &diff::CrateVerdict) -> String {
    if v.own == v.release {
        v.release.as_str().to_string()
    } else {
        format!("{} (own API: {})", v.release.as_str(), v.own.as_str())
    }
}

#[test]
fn every_corpus_change_gets_its_expected_release_per_crate() {
    let files = corpus();
    assert!(files.len() >= 14, "only {} corpus entries", files.len());
    let root = xtask::workspace_root();
    let mut seen = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &files {
        let meta: serde_json::Value =
            serde_norway::from_str(&std::fs::read_to_string(file).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let expected: BTreeMap<String, String> =
            serde_json::from_value(meta["x-semver-expected"].clone())
                .unwrap_or_else(|e| panic!("{}: x-semver-expected: {e}", file.display()));
        let overlay = xtask::overlay::read(file).unwrap();
        let spec = root.join("spec").join(&overlay.extends);
        let changes = diff::diff_files(&spec, &spec, std::slice::from_ref(&overlay))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!changes.is_empty(), "{}: no change", file.display());
        let actual: BTreeMap<String, String> = diff::verdict(&changes)
            .iter()
            .map(|v| (v.krate.name().to_string(), shown(v)))
            .collect();
        if actual != expected {
            failures.push(format!(
                "{}:\n  expected {expected:?}\n  actual   {actual:?}\n{}",
                file.display(),
                diff::render(&changes)
            ));
        }
        for v in diff::verdict(&changes) {
            *seen.entry((v.krate.name(), v.release)).or_insert(0) += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The corpus exercises every release level somewhere.
    for release in [
        Release::None,
        Release::Patch,
        Release::Minor,
        Release::Major,
    ] {
        assert!(
            seen.keys().any(|(_, r)| *r == release),
            "no corpus entry needs {release:?}"
        );
    }
}
