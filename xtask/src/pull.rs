//! `cargo xtask pull`: download a spec document, refuse anything that is not a parsable OpenAPI
//! 3.0/3.1 document in JSON or YAML (leaving `spec/` untouched), else write the bytes unchanged under
//! the recorded file name, record URL, sha256 and `provenance = "pulled"`, and print the semantic
//! diff against the previous version with the release each generated crate needs (docs/semver.md).
//! Xsolla links each bundle as `index.yaml` and as `index.json?download`; either is accepted, and
//! the rest of the pipeline reads both forms.

use crate::degrade::{self, Report};
use crate::sources::{Provenance, Sources, sha256_hex};
use crate::{Error, Result, diff, load, regen};
use std::path::Path;
use std::time::Duration;

/// What one successful pull did.
#[derive(Debug, Clone)]
pub struct PullReport {
    /// Document name.
    pub name: String,
    /// Where it came from.
    pub url: String,
    /// sha256 of the new bytes (now recorded in `spec/sources.toml`).
    pub sha256: String,
    /// Semantic changes against the previous version (`None` when there was none).
    pub changes: Option<Vec<diff::Change>>,
}

/// Pulls and prints a report per document.
pub fn run(root: &Path, name: Option<&str>, url: Option<&str>, timeout_secs: u64) -> Result<()> {
    for report in pull(root, name, url, timeout_secs)? {
        println!(
            "pulled {} from {} (sha256 {}; provenance = \"pulled\")",
            report.name, report.url, report.sha256
        );
        match &report.changes {
            Some(changes) => print!("{}", diff::render(changes)),
            None => println!("(no previous version to compare with)"),
        }
    }
    // What the pulled documents degrade (the drift PR body carries this report).
    let mut degraded = Report::default();
    let generated = regen::generate_all_reporting(root, &mut degraded).map(|_| degraded);
    print!("{}", degrade::render(&generated));
    println!(
        "next: `cargo xtask regen`, then `cargo test --workspace` and review the snapshot changes"
    );
    Ok(())
}

/// Pulls `name` (or every document) from `url` (or the recorded URL).
pub fn pull(
    root: &Path,
    name: Option<&str>,
    url: Option<&str>,
    timeout_secs: u64,
) -> Result<Vec<PullReport>> {
    let mut reports = Vec::new();
    let mut sources = Sources::load(root)?;
    if url.is_some() && name.is_none() {
        return Err(Error::Other(
            "--url needs a document NAME (e.g. `cargo xtask pull backpack --url …`)".into(),
        ));
    }
    let names: Vec<String> = match name {
        Some(n) => vec![sources.get(n)?.name.clone()],
        None => sources.documents.iter().map(|d| d.name.clone()).collect(),
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(timeout_secs))
        .connect_timeout(Duration::from_secs(timeout_secs))
        .user_agent("backpack-sdk-xtask")
        .build()
        .map_err(|e| Error::Other(format!("cannot build HTTP client: {e}")))?;
    for name in names {
        let source = sources.get(&name)?.clone();
        let url = url.unwrap_or(&source.url).to_string();
        let bytes = download(&client, &name, &url)?;
        let new_text = std::str::from_utf8(&bytes).map_err(|_| Error::Pull {
            name: name.clone(),
            url: url.clone(),
            reason: "body is not UTF-8 text".into(),
        })?;
        let new_doc =
            load::parse_document(&format!("download of {name}"), new_text).map_err(|e| {
                Error::Pull {
                    name: name.clone(),
                    url: url.clone(),
                    reason: e.to_string(),
                }
            })?;
        let path = root.join("spec").join(&source.file);
        let old_doc = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| load::parse_document("old", &t).ok());
        // Write via a temporary file so a failure never leaves a half-written spec.
        let tmp = path.with_extension("download");
        std::fs::write(&tmp, &bytes).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        if let Some(entry) = sources.documents.iter_mut().find(|d| d.name == name) {
            entry.sha256 = sha256_hex(&bytes);
            entry.url = url.clone();
            entry.provenance = Provenance::Pulled;
        }
        sources.save(root)?;
        let changes = match old_doc {
            Some(old) => Some(diff::diff_values(
                &diff::comparable(old)?,
                &diff::comparable(new_doc)?,
            )),
            None => None,
        };
        reports.push(PullReport {
            name,
            url,
            sha256: sha256_hex(&bytes),
            changes,
        });
    }
    Ok(reports)
}

fn download(client: &reqwest::blocking::Client, name: &str, url: &str) -> Result<Vec<u8>> {
    let fail = |reason: String| Error::Pull {
        name: name.to_string(),
        url: url.to_string(),
        reason,
    };
    let response = client.get(url).send().map_err(|e| {
        if e.is_timeout() {
            fail("timed out; spec/ is untouched".into())
        } else {
            fail(format!(
                "request failed ({}); spec/ is untouched",
                e.without_url()
            ))
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}; spec/ is untouched")));
    }
    let bytes = response.bytes().map_err(|e| {
        if e.is_timeout() {
            fail("timed out reading the body; spec/ is untouched".into())
        } else {
            fail(format!(
                "reading the body failed ({}); spec/ is untouched",
                e.without_url()
            ))
        }
    })?;
    Ok(bytes.to_vec())
}
