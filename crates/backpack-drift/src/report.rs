//! [`DriftReport`]: what a watch saw, readable, mergeable across processes, and written as JSON
//! (`cargo xtask drift FILE…` reads it).

use crate::finding::Finding;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The `format` of the JSON a report is written as.
pub const FORMAT: &str = "backpack-drift-report/1";

/// Every distinct finding a watch recorded, with how often and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    /// [`FORMAT`].
    pub format: String,
    /// The spec the bodies were checked against (`backpack_drift::spec::SPEC_ID` of the build;
    /// several, `+`-joined, after merging reports of different builds).
    pub spec_id: String,
    /// Findings, sorted.
    pub findings: Vec<Observed>,
}

/// One finding with its count and first/last time seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// How many bodies showed it.
    pub count: u64,
    /// First seen, Unix seconds.
    pub first_seen: u64,
    /// Last seen, Unix seconds.
    pub last_seen: u64,
}

/// A report could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a drift report.
    #[error("{path}: not a drift report: {reason}")]
    Invalid {
        /// The file (or `<text>`).
        path: String,
        /// Why.
        reason: String,
    },
}

impl DriftReport {
    /// An empty report for bodies checked against `spec_id`.
    pub fn new(spec_id: impl Into<String>) -> Self {
        Self {
            format: FORMAT.to_string(),
            spec_id: spec_id.into(),
            findings: Vec::new(),
        }
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Adds `other`'s findings: counts add up, first/last seen widen.
    pub fn merge(&mut self, other: &DriftReport) {
        let mut by_finding: BTreeMap<Finding, Observed> = self
            .findings
            .drain(..)
            .map(|o| (o.finding.clone(), o))
            .collect();
        for o in &other.findings {
            by_finding
                .entry(o.finding.clone())
                .and_modify(|mine| {
                    mine.count = mine.count.saturating_add(o.count);
                    mine.first_seen = mine.first_seen.min(o.first_seen);
                    mine.last_seen = mine.last_seen.max(o.last_seen);
                })
                .or_insert_with(|| o.clone());
        }
        self.findings = by_finding.into_values().collect();
        let mut ids: Vec<&str> = self
            .spec_id
            .split('+')
            .chain(other.spec_id.split('+'))
            .collect();
        ids.retain(|id| !id.is_empty());
        ids.sort_unstable();
        ids.dedup();
        self.spec_id = ids.join("+");
    }

    /// The findings alone, sorted (what a test compares).
    pub fn distinct(&self) -> Vec<&Finding> {
        self.findings.iter().map(|o| &o.finding).collect()
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A report holds only strings, numbers and enums: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads the JSON [`to_json`](Self::to_json) writes.
    pub fn from_json(text: &str) -> Result<Self, ReportError> {
        Self::parse("<text>", text)
    }

    /// Writes the report as JSON to `path` (through a temporary file, so a reader never sees half).
    pub fn write_to(&self, path: &Path) -> Result<(), ReportError> {
        let io = |source| ReportError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_json() + "\n").map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a report file.
    pub fn read_from(path: &Path) -> Result<Self, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    fn parse(path: &str, text: &str) -> Result<Self, ReportError> {
        let invalid = |reason: String| ReportError::Invalid {
            path: path.to_string(),
            reason,
        };
        let mut report: DriftReport =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if report.format != FORMAT {
            return Err(invalid(format!(
                "format {:?}, expected {FORMAT:?}",
                report.format
            )));
        }
        report.findings.sort_by(|a, b| a.finding.cmp(&b.finding));
        Ok(report)
    }
}
