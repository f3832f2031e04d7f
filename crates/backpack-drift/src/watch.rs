//! [`DriftWatch`]: checks bodies, keeps the distinct findings, and reports each one as a
//! rate-limited `tracing` warning and a `metrics` counter.

use crate::check::{Raw, check};
use crate::finding::{Family, Finding, Kind, Subject, token};
use crate::report::{DriftReport, Observed};
use crate::schema::{SchemaError, Schemas};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The counter incremented once per finding per body (labels `kind` and `subject`).
pub const METRIC: &str = "backpack_drift_findings_total";

/// The `tracing` target of the watch's warnings.
pub const TARGET: &str = "backpack_drift";

/// How often the same finding is logged again (default 1 hour).
pub const DEFAULT_WARN_INTERVAL: Duration = Duration::from_secs(3600);

/// How many distinct findings are kept (the rest are counted in `dropped`), so a misbehaving
/// sender cannot grow memory without bound.
pub const MAX_FINDINGS: usize = 10_000;

/// Compares response and webhook bodies with the spec they were generated from.
///
/// Cheap to clone (shared state). Switched on when made; [`set_enabled`](Self::set_enabled)
/// switches it at run time. Nothing it keeps or logs holds a value from a body, except the value
/// of a field the spec declares as an enum.
#[derive(Clone)]
pub struct DriftWatch {
    inner: Arc<Inner>,
}

struct Inner {
    schemas: Arc<Schemas>,
    enabled: AtomicBool,
    warn_interval: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    findings: HashMap<Finding, Entry>,
    dropped: u64,
}

struct Entry {
    count: u64,
    first_seen: u64,
    last_seen: u64,
    last_warned: Instant,
    unwarned: u64,
}

impl std::fmt::Debug for DriftWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriftWatch")
            .field("spec_id", &self.inner.schemas.spec_id())
            .field("enabled", &self.is_enabled())
            .finish_non_exhaustive()
    }
}

/// The built-in schemas, compiled once per process.
fn builtin() -> Result<Arc<Schemas>, SchemaError> {
    static BUILTIN: OnceLock<Result<Arc<Schemas>, String>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Schemas::builtin().map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(SchemaError::new)
}

impl DriftWatch {
    /// A watch over the schemas generated from `spec/` (compiled on first use, then shared).
    pub fn new() -> Result<Self, SchemaError> {
        Ok(Self::with_schemas(builtin()?))
    }

    /// A watch over other schemas (tests).
    pub fn with_schemas(schemas: Arc<Schemas>) -> Self {
        Self::build(schemas, DEFAULT_WARN_INTERVAL)
    }

    fn build(schemas: Arc<Schemas>, warn_interval: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                schemas,
                enabled: AtomicBool::new(true),
                warn_interval,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The same schemas, a new empty watch that logs a finding again after `interval`.
    #[must_use]
    pub fn with_warn_interval(self, interval: Duration) -> Self {
        Self::build(self.inner.schemas.clone(), interval)
    }

    /// Switches checking on or off (on by default); off, a check returns at once.
    pub fn set_enabled(&self, enabled: bool) {
        self.inner.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether bodies are checked.
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Relaxed)
    }

    /// Checks a response of the Backpack API: `method` and URL `path` pick the operation (a
    /// request for no documented operation is ignored), `status` the documented response,
    /// `content_type` its media type.
    pub fn check_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        if !self.is_enabled() {
            return;
        }
        let schemas = &self.inner.schemas;
        let Some(op) = schemas.operation(method, path) else {
            return;
        };
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let Some((key, media)) = [exact.as_str(), class.as_str(), "default"]
            .into_iter()
            .find_map(|k| op.responses.get_key_value(k))
        else {
            let subject = Subject::Response {
                operation: op.id.clone(),
                status: exact,
            };
            self.record(&subject, vec![whole(Kind::UndocumentedStatus, None)]);
            return;
        };
        let subject = || Subject::Response {
            operation: op.id.clone(),
            status: key.clone(),
        };
        if body.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let Some(node) = media.get(&essence) else {
            let seen = token(&essence, b"/.+-");
            self.record(
                &subject(),
                vec![whole(Kind::UndocumentedContentType, Some(seen))],
            );
            return;
        };
        if let Some(node) = *node
            && let Ok(found) = check(schemas, node, body)
            && !found.is_empty()
        {
            self.record(&subject(), found);
        }
    }

    /// Checks a webhook body of `family` whose `notification_type` is given.
    pub fn check_webhook(&self, family: Family, notification_type: &str, body: &[u8]) {
        if !self.is_enabled() {
            return;
        }
        let schemas = &self.inner.schemas;
        let Some(node) = schemas.webhook(family, notification_type) else {
            let subject = Subject::Webhook {
                family,
                notification_type: token(notification_type, b"-."),
            };
            self.record(&subject, vec![whole(Kind::UnknownNotificationType, None)]);
            return;
        };
        if let Ok(found) = check(schemas, node, body)
            && !found.is_empty()
        {
            let subject = Subject::Webhook {
                family,
                notification_type: notification_type.to_string(),
            };
            self.record(&subject, found);
        }
    }

    /// Everything recorded so far.
    pub fn report(&self) -> DriftReport {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut report = DriftReport::new(self.inner.schemas.spec_id());
        report.findings = state
            .findings
            .iter()
            .map(|(finding, e)| Observed {
                finding: finding.clone(),
                count: e.count,
                first_seen: e.first_seen,
                last_seen: e.last_seen,
            })
            .collect();
        report.findings.sort_by(|a, b| a.finding.cmp(&b.finding));
        report
    }

    /// How many findings were not kept because [`MAX_FINDINGS`] distinct ones already were.
    pub fn dropped(&self) -> u64 {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .dropped
    }

    fn record(&self, subject: &Subject, found: Vec<Raw>) {
        let now = unix_now();
        let instant = Instant::now();
        let mut warn: Vec<(Finding, u64)> = Vec::new();
        {
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for raw in found {
                let finding = Finding {
                    subject: subject.clone(),
                    kind: raw.kind,
                    path: raw.path,
                    expected: raw.expected,
                    seen: raw.seen,
                    value: raw.value,
                };
                metrics::counter!(METRIC, "kind" => finding.kind.as_str(), "subject" => subject.to_string())
                    .increment(1);
                let full = state.findings.len() >= MAX_FINDINGS;
                match state.findings.get_mut(&finding) {
                    Some(e) => {
                        e.count += 1;
                        e.last_seen = now;
                        e.unwarned += 1;
                        if instant.duration_since(e.last_warned) >= self.inner.warn_interval {
                            e.last_warned = instant;
                            warn.push((finding, std::mem::take(&mut e.unwarned)));
                        }
                    }
                    None if full => state.dropped += 1,
                    None => {
                        state.findings.insert(
                            finding.clone(),
                            Entry {
                                count: 1,
                                first_seen: now,
                                last_seen: now,
                                last_warned: instant,
                                unwarned: 0,
                            },
                        );
                        warn.push((finding, 1));
                    }
                }
            }
        }
        for (finding, since) in warn {
            tracing::warn!(
                target: TARGET,
                subject = %finding.subject,
                kind = finding.kind.as_str(),
                path = %finding.path,
                expected = finding.expected.as_deref(),
                seen = finding.seen.as_deref(),
                value = finding.value.as_deref(),
                count = since,
                "traffic differs from spec/: {finding}"
            );
        }
    }
}

/// A finding about the whole body.
fn whole(kind: Kind, seen: Option<String>) -> Raw {
    Raw {
        kind,
        path: "$".to_string(),
        expected: None,
        seen,
        value: None,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
