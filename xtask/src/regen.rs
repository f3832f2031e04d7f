//! `cargo xtask regen`: load (OpenAPI 3.0/3.1 only) → down-convert → overlays → simplify → validate → name
//! inline schemas → generate → format → write (or `--check`).

use crate::codegen::{self as codegen, GeneratedFile};
use crate::degrade::{Report, prune};
use crate::sources::Sources;
use crate::{
    Error, Result, downconvert, inline_schemas, load, openapi, output, overlay, simplify, validate,
};
use serde_json::Value;
use std::path::Path;

/// Names of the spec documents regen reads, under `spec/`.
pub const BACKPACK: &str = "backpack.yaml";
/// The webhooks bundle.
pub const WEBHOOKS: &str = "webhooks.yaml";

/// Turns a document's text into the normalized 3.0 value the generators read.
pub fn prepare_document(file: &str, text: &str, overlays: &[overlay::Overlay]) -> Result<Value> {
    prepare_reporting(file, text, overlays, &mut Report::default())
}

/// [`prepare_document`], recording every fallback it takes in `report`.
pub fn prepare_reporting(
    file: &str,
    text: &str,
    overlays: &[overlay::Overlay],
    report: &mut Report,
) -> Result<Value> {
    let raw = load::parse_document(&format!("spec/{file}"), text)?;
    let mut doc = downconvert::to_openapi_30(raw);
    // The server must still require headers that overlays hide from the client (X-HOST-ID).
    let before_overlays = doc.clone();
    overlay::apply_all(&mut doc, file, overlays)?;
    openapi::record_removed_headers(&before_overlays, &mut doc)?;
    let mut found = Report::default();
    simplify::simplify(&mut doc, &mut found).map_err(|e| in_file(file, e))?;
    prune::before_validate(&mut doc, &mut found);
    // Validate before naming inline schemas, so every problem is reported with its operation.
    validate::validate(&doc).map_err(|e| in_file(file, e))?;
    inline_schemas::hoist(&mut doc)?;
    prune::after_hoist(&mut doc, &mut found);
    report.extend_in(&format!("spec/{file}"), found);
    Ok(doc)
}

/// Prefixes a spec problem's location with the file it is in.
fn in_file(file: &str, e: Error) -> Error {
    match e {
        Error::Invalid { location, reason } => Error::Invalid {
            location: format!("spec/{file}: {location}"),
            reason,
        },
        other => other,
    }
}

/// Reads `spec/<file>` under `root` and prepares it (see [`prepare_document`]).
pub fn read_prepared(root: &Path, file: &str, overlays: &[overlay::Overlay]) -> Result<Value> {
    let path = root.join("spec").join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    prepare_document(file, &text, overlays)
}

/// Everything regen produces for the tree at `root`.
pub fn generate_all(root: &Path) -> Result<Vec<GeneratedFile>> {
    generate_all_reporting(root, &mut Report::default())
}

/// [`generate_all`], recording every fallback it takes in `report`.
pub fn generate_all_reporting(root: &Path, report: &mut Report) -> Result<Vec<GeneratedFile>> {
    let overlays = overlay::load_overlays(&root.join("spec/overlays"))?;
    let mut read = |file: &str| -> Result<Value> {
        let path = root.join("spec").join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        prepare_reporting(file, &text, &overlays, report)
    };
    let backpack = read(BACKPACK)?;
    let webhooks = read(WEBHOOKS)?;
    generate_from_reporting(&backpack, &webhooks, report)
}

/// The generation step proper, from two prepared documents.
pub fn generate_from(backpack: &Value, webhooks: &Value) -> Result<Vec<GeneratedFile>> {
    generate_from_reporting(backpack, webhooks, &mut Report::default())
}

/// [`generate_from`], recording every fallback it takes in `report`.
pub fn generate_from_reporting(
    backpack: &Value,
    webhooks: &Value,
    report: &mut Report,
) -> Result<Vec<GeneratedFile>> {
    codegen::files::generate(backpack, webhooks, report)
}

/// Runs regen on `root`; with `check`, writes nothing and fails on any drift.
pub fn run(root: &Path, check: bool) -> Result<()> {
    run_reporting(root, check).map(|_| ())
}

/// [`run`], printing one line per degraded item (see [`crate::degrade`]) and returning them.
pub fn run_reporting(root: &Path, check: bool) -> Result<Report> {
    let sources = Sources::load(root)?;
    let edited = sources.mismatches(root)?;
    let mut degraded = Report::default();
    let files = generate_all_reporting(root, &mut degraded)?;
    for line in degraded.lines() {
        println!("{line}");
    }
    if check {
        let mut report = Vec::new();
        for path in &edited {
            report.push(format!(
                "{path}: does not match the sha256 in spec/sources.toml (a pulled document is never edited: local fixes belong in spec/overlays/; a reconstructed one needs its new sha256 recorded; `cargo xtask pull` records a new download)"
            ));
        }
        for drift in output::check(root, &files)? {
            report.push(format!("{}: {}", drift.path, drift.detail));
        }
        if !report.is_empty() {
            return Err(Error::Stale(format!(
                "generated code is out of date relative to spec/:\n{}\n\nrun `cargo xtask regen` and commit the result",
                report.join("\n")
            )));
        }
        println!(
            "regen --check: {} generated files are up to date",
            files.len()
        );
    } else {
        for path in &edited {
            eprintln!("warning: {path} does not match the sha256 recorded in spec/sources.toml");
        }
        let touched = output::write(root, &files)?;
        if touched.is_empty() {
            println!("regen: {} generated files already up to date", files.len());
        } else {
            for path in &touched {
                println!("wrote {path}");
            }
        }
    }
    Ok(degraded)
}
