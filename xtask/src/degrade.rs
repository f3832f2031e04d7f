//! What regen generated with a fallback instead of refusing the document: one entry per operation
//! or schema (or name) that a construct kept from the typed, JSON path. `regen` prints one line per
//! entry and exits 0 (`--strict` exits 1); `diff` lists them for the new document.
//!
//! The fallbacks themselves live where the construct is read (`simplify::media` for bodies,
//! `prune` for operations no generator can serve, `codegen::types` for schemas and webhooks,
//! `codegen::names` users for names); this module only collects what they did.

pub mod prune;

use crate::codegen::{client, types};
use crate::{Result, overlay, regen};
use std::fmt;

/// One item generated with a fallback.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Degraded {
    /// `operation upload (PUT /upload)`, `schema Pet`, `webhook newPet`, …
    pub item: String,
    /// The construct that is not generated as typed JSON.
    pub construct: String,
    /// What regen made of it instead.
    pub fallback: String,
}

impl fmt::Display for Degraded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} → {}", self.item, self.construct, self.fallback)
    }
}

/// Every degraded item of one regen run, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    items: Vec<Degraded>,
}

impl Report {
    /// Records one item (an identical entry is recorded once).
    pub fn add(
        &mut self,
        item: impl Into<String>,
        construct: impl Into<String>,
        fallback: impl Into<String>,
    ) {
        let entry = Degraded {
            item: item.into(),
            construct: construct.into(),
            fallback: fallback.into(),
        };
        if !self.items.contains(&entry) {
            self.items.push(entry);
        }
    }

    /// Records every item of `other`, each prefixed with `file` (`spec/backpack.yaml: …`).
    pub fn extend_in(&mut self, file: &str, other: Report) {
        for mut entry in other.items {
            entry.item = format!("{file}: {}", entry.item);
            if !self.items.contains(&entry) {
                self.items.push(entry);
            }
        }
    }

    /// Records every item of `other` as it is (no file prefix).
    pub fn merge(&mut self, other: Report) {
        for entry in other.items {
            if !self.items.contains(&entry) {
                self.items.push(entry);
            }
        }
    }

    /// The items, in the order found.
    pub fn items(&self) -> &[Degraded] {
        &self.items
    }

    /// Whether nothing was degraded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// One line per item, each `degraded: <item>: <construct> → <fallback>`.
    pub fn lines(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|d| format!("degraded: {d}"))
            .collect()
    }
}

/// What regen would degrade in one document (`file` is its name under `spec/`, `overlays` those of
/// `spec/overlays/` or given to `diff`): its preparation, its types, and its client and server.
pub fn degraded_in(file: &str, text: &str, overlays: &[overlay::Overlay]) -> Result<Report> {
    let mut report = Report::default();
    let mut doc = regen::prepare_reporting(file, text, overlays, &mut report)?;
    let mut found = Report::default();
    types::generate_module_reporting(
        &types::ModuleInput {
            module: "api",
            doc: &doc,
            event_enum: "Event",
            doc_text: "",
        },
        &mut found,
    )?;
    client::generate_or_leave_out(&mut doc, "crate::api", &mut found)?;
    report.extend_in(&format!("spec/{file}"), found);
    Ok(report)
}

/// The `degraded:` section of a `diff` or `pull` report: one line per item (nothing when none).
pub fn render(report: &Result<Report>) -> String {
    match report {
        Ok(report) if report.is_empty() => String::new(),
        Ok(report) => {
            let mut out = format!(
                "generated with a fallback ({} item(s); `cargo xtask regen --strict` fails on them):\n",
                report.items().len()
            );
            for line in report.lines() {
                out.push_str(&line);
                out.push('\n');
            }
            out
        }
        Err(e) => format!("degraded: regen cannot generate this document: {e}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_distinct_item_prefixed_with_its_file() {
        let mut inner = Report::default();
        inner.add("operation up (PUT /up)", "multipart body", "raw bytes");
        inner.add("operation up (PUT /up)", "multipart body", "raw bytes");
        inner.add("schema Pet", "unsupported type", "raw JSON");
        let mut all = Report::default();
        all.extend_in("spec/a.yaml", inner);
        assert_eq!(
            all.lines(),
            [
                "degraded: spec/a.yaml: operation up (PUT /up): multipart body → raw bytes",
                "degraded: spec/a.yaml: schema Pet: unsupported type → raw JSON"
            ]
        );
        assert!(!all.is_empty());
    }
}
