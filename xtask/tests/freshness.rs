//! `cargo test` alone catches a stale generated tree (the rust-analyzer pattern), and regen is
//! deterministic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use xtask::sources::{Provenance, Sources};
use xtask::{output, regen, workspace_root};

#[test]
fn generated_code_is_fresh() {
    let root = workspace_root();
    let files = regen::generate_all(&root).unwrap_or_else(|e| panic!("regen failed: {e}"));
    let drift = output::check(&root, &files).unwrap();
    if !drift.is_empty() {
        let report: Vec<String> = drift
            .iter()
            .map(|d| format!("{}: {}", d.path, d.detail))
            .collect();
        panic!(
            "generated code is stale relative to spec/:\n{}\n\nrun `cargo xtask regen` and commit the result",
            report.join("\n")
        );
    }
}

#[test]
fn regen_is_deterministic() {
    let root = workspace_root();
    let first = regen::generate_all(&root).unwrap();
    let second = regen::generate_all(&root).unwrap();
    assert_eq!(first, second);
    for file in &first {
        let first_line = file.contents.lines().next().unwrap_or_default();
        assert!(
            first_line.contains(output::MARKER),
            "{} lacks the generated header",
            file.path
        );
        assert!(
            !file.contents.contains(root.to_string_lossy().as_ref()),
            "{} contains an absolute path",
            file.path
        );
    }
}

#[test]
fn spec_documents_match_their_recorded_sha256() {
    let root = workspace_root();
    let sources = Sources::load(&root).unwrap();
    let edited = sources.mismatches(&root).unwrap();
    let report: Vec<String> = edited
        .iter()
        .map(|path| {
            let entry = sources
                .documents
                .iter()
                .find(|d| format!("spec/{}", d.file) == *path)
                .unwrap();
            match entry.provenance {
                Provenance::Pulled => format!(
                    "{path} was pulled from {} and must stay byte-for-byte as published: undo the edit \
                     (local fixes belong in spec/overlays/; `cargo xtask pull` records a new download)",
                    entry.url
                ),
                Provenance::Reconstructed => format!(
                    "{path} is a reconstruction from Xsolla's documentation pages (spec/NOTES.md): \
                     after editing it, record its new sha256 in spec/sources.toml"
                ),
            }
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// The README's Layout table says, per document, what `spec/sources.toml` records (so it stays
/// true after a pull).
#[test]
fn readme_states_each_documents_provenance() {
    let root = workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for doc in Sources::load(&root).unwrap().documents {
        let prefix = format!("| `spec/{}` |", doc.file);
        let row = readme
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("README's Layout table has no row for spec/{}", doc.file));
        let written_by = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert!(
            written_by.starts_with(doc.provenance.as_str()),
            "README says spec/{} is {written_by:?}, but spec/sources.toml records provenance = {:?}: update the Layout row",
            doc.file,
            doc.provenance.as_str()
        );
    }
}

/// Whether `path` matches a `.gitattributes` pattern: `*` within one `/`-separated segment (the
/// only wildcard the patterns for generated files use).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| match p.split_once('*') {
                Some((head, tail)) => {
                    s.len() >= head.len() + tail.len() && s.starts_with(head) && s.ends_with(tail)
                }
                None => p == s,
            })
}

#[test]
fn every_file_regen_writes_is_marked_generated() {
    let root = workspace_root();
    let attributes = std::fs::read_to_string(root.join(".gitattributes")).unwrap();
    let generated: Vec<&str> = attributes
        .lines()
        .filter_map(|line| line.strip_suffix(" linguist-generated=true"))
        .collect();
    for file in regen::generate_all(&root).unwrap() {
        assert!(
            generated.iter().any(|p| matches(p, &file.path)),
            "{} is written by regen but not marked `linguist-generated=true` in .gitattributes",
            file.path
        );
    }
}

#[test]
fn generated_crates_hold_only_generated_code_but_lib_rs() {
    // `generated/` holds what regen writes, plus each crate's manifest, README and thin `lib.rs`;
    // the hand-written code the generated crates use is in `crates/` (`backpack-types-support`,
    // `backpack-client-hooks`, `backpack-server-runtime`), their tests and examples in `tests/`.
    let root = workspace_root();
    for krate in std::fs::read_dir(root.join("generated")).unwrap() {
        let krate = krate.unwrap().path();
        for entry in std::fs::read_dir(&krate).unwrap() {
            let name = entry.unwrap().file_name();
            assert!(
                ["Cargo.toml", "README.md", "src"].contains(&name.to_string_lossy().as_ref()),
                "{}: only Cargo.toml, README.md and src/ belong in a generated crate",
                krate.join(name).display()
            );
        }
        let src = krate.join("src");
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path != src.join("lib.rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        text.lines()
                            .next()
                            .unwrap_or_default()
                            .contains(output::MARKER),
                        "{} is under generated/ but not written by regen",
                        path.display()
                    );
                }
            }
        }
    }
}
