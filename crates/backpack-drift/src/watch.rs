//! [`DriftWatch`]: checks bodies, keeps the distinct findings, and reports each one as a
//! rate-limited `tracing` warning and a `metrics` counter.

use crate::check::{Raw, Walker, check, read_body};
use crate::finding::{Family, Finding, Kind, Subject, token};
use crate::fold::{Keep, Routed, Top};
use crate::report::{DriftReport, Observed};
use crate::schema::{SchemaError, Schemas};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
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
    /// Set by [`DriftWatch::background`]: checks go to a worker thread.
    queue: Option<Arc<Feeder>>,
}

/// A check waiting for the worker.
enum Job {
    Response {
        method: String,
        path: String,
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    Webhook {
        family: Family,
        notification_type: String,
        body: Vec<u8>,
    },
}

/// The bounded queue to the worker thread, and how far it got. The caller only takes an
/// uncontended lock and pushes: the worker is woken when a batch is ready or a flush asks, and
/// otherwise looks every [`BATCH_WAIT`], so a busy caller pays for no thread wake-ups.
struct Queue {
    state: Mutex<QueueState>,
    /// Signals the worker (a full batch, a flush, the last handle gone).
    work: Condvar,
    /// Signals flushers (a batch done).
    ran: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct QueueState {
    jobs: Vec<Job>,
    sent: u64,
    done: u64,
    dropped: u64,
    flush: bool,
    closed: bool,
}

/// How long queued checks may wait for the worker when nobody asks for them.
const BATCH_WAIT: Duration = Duration::from_millis(50);
/// Queued checks that wake the worker at once.
const BATCH: usize = 64;

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, job: Job) {
        let mut state = self.lock();
        if state.jobs.len() >= self.capacity {
            state.dropped += 1;
            return;
        }
        state.jobs.push(job);
        state.sent += 1;
        if state.jobs.len() == BATCH {
            self.work.notify_one();
        }
    }

    /// Waits until every check queued before the call has run.
    fn flush(&self) {
        let mut state = self.lock();
        let target = state.sent;
        while state.done < target && !state.closed {
            state.flush = true;
            self.work.notify_one();
            state = self
                .ran
                .wait_timeout(state, BATCH_WAIT)
                .map(|(s, _)| s)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// The worker: takes what is queued, runs it, reports progress; ends once closed and empty.
    fn work(&self, watch: &DriftWatch) {
        loop {
            let jobs = {
                let mut state = self.lock();
                while state.jobs.is_empty() && !state.closed {
                    state = self
                        .work
                        .wait_timeout(state, BATCH_WAIT)
                        .map(|(s, _)| s)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                if state.jobs.is_empty() {
                    return;
                }
                state.flush = false;
                std::mem::take(&mut state.jobs)
            };
            let n = jobs.len() as u64;
            for job in jobs {
                watch.run(job);
            }
            self.lock().done += n;
            self.ran.notify_all();
        }
    }
}

/// Closes the queue when the last handle that feeds it is dropped, so the worker ends.
struct Feeder(Arc<Queue>);

impl Drop for Feeder {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.work.notify_one();
    }
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
    /// Registered once per finding: labels are built then, not per body.
    counter: metrics::Counter,
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
            queue: None,
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

    /// The same watch, checking on a worker thread: a check costs the caller a copy of the body
    /// and a queue push, so the watch adds no work to the request path. At most `capacity`
    /// bodies wait; more are dropped and counted in [`dropped`](Self::dropped). [`report`](Self::report)
    /// and [`flush`](Self::flush) wait for the queued checks. If the thread cannot be started,
    /// checks stay on the caller's thread.
    #[must_use]
    pub fn background(self, capacity: usize) -> Self {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState::default()),
            work: Condvar::new(),
            ran: Condvar::new(),
            capacity: capacity.max(1),
        });
        let worker = DriftWatch {
            inner: self.inner.clone(),
            queue: None,
        };
        let shared = queue.clone();
        let started = std::thread::Builder::new()
            .name("backpack-drift".into())
            .spawn(move || shared.work(&worker));
        match started {
            Ok(_) => DriftWatch {
                inner: self.inner,
                queue: Some(Arc::new(Feeder(queue))),
            },
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, "no drift watch thread; checking inline");
                self
            }
        }
    }

    /// Waits until every check queued so far has run (nothing to wait for without
    /// [`background`](Self::background)).
    pub fn flush(&self) {
        if let Some(feeder) = &self.queue {
            feeder.0.flush();
        }
    }

    fn run(&self, job: Job) {
        match job {
            Job::Response {
                method,
                path,
                status,
                content_type,
                body,
            } => self.response_now(&method, &path, status, content_type.as_deref(), &body),
            Job::Webhook {
                family,
                notification_type,
                body,
            } => self.webhook_now(family, &notification_type, &body),
        }
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
        match &self.queue {
            Some(feeder) => feeder.0.push(Job::Response {
                method: method.to_string(),
                path: path.to_string(),
                status,
                content_type: content_type.map(str::to_string),
                body: body.to_vec(),
            }),
            None => self.response_now(method, path, status, content_type, body),
        }
    }

    /// Whether a client generated from the spec reads this response's body as JSON: the spec
    /// documents `status` for the operation (`method`, URL `path`) with a JSON media type and a
    /// schema. The SDK then checks the bytes where its client reads them (with
    /// [`check_response`](Self::check_response)) instead of reading the body ahead; `false` also
    /// when the watch is switched off.
    pub fn checks_json_body(&self, method: &str, path: &str, status: u16) -> bool {
        if !self.is_enabled() {
            return false;
        }
        let Some(op) = self.inner.schemas.operation(method, path) else {
            return false;
        };
        documented(op, status).is_some_and(|(_, media)| {
            media.iter().any(|(media_type, node)| {
                let suffix = media_type.get(media_type.len().saturating_sub(5)..);
                node.is_some()
                    && (media_type.eq_ignore_ascii_case("application/json")
                        || suffix.is_some_and(|s| s.eq_ignore_ascii_case("+json")))
            })
        })
    }

    fn response_now(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) {
        let schemas = &self.inner.schemas;
        let Some(op) = schemas.operation(method, path) else {
            return;
        };
        let Some((key, media)) = documented(op, status) else {
            let subject = Subject::Response {
                operation: op.id.clone(),
                status: status.to_string(),
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
            .map(str::trim)
            .unwrap_or_default();
        let Some(node) = media
            .iter()
            .find_map(|(m, node)| m.eq_ignore_ascii_case(essence).then_some(node))
        else {
            let seen = token(&essence.to_ascii_lowercase(), b"/.+-");
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
        match &self.queue {
            Some(feeder) => feeder.0.push(Job::Webhook {
                family,
                notification_type: notification_type.to_string(),
                body: body.to_vec(),
            }),
            None => self.webhook_now(family, notification_type, body),
        }
    }

    fn webhook_now(&self, family: Family, notification_type: &str, body: &[u8]) {
        let schemas = &self.inner.schemas;
        let Some(node) = schemas.webhook(family, notification_type) else {
            self.unknown_type(family, notification_type);
            return;
        };
        if let Ok(found) = check(schemas, node, body) {
            self.webhook_found(family, notification_type, found);
        }
    }

    fn unknown_type(&self, family: Family, notification_type: &str) {
        let subject = Subject::Webhook {
            family,
            notification_type: token(notification_type, b"-."),
        };
        self.record(&subject, vec![whole(Kind::UnknownNotificationType, None)]);
    }

    fn webhook_found(&self, family: Family, notification_type: &str, found: Vec<Raw>) {
        if !found.is_empty() {
            let subject = Subject::Webhook {
                family,
                notification_type: notification_type.to_string(),
            };
            self.record(&subject, found);
        }
    }

    /// Checks a webhook body of `family` in the same pass that picks out the members `keep`
    /// lists, and returns them (an object of the kept members, as [`Keep`] describes), so a
    /// receiver that reads a few members before its typed parse walks the JSON once, not twice.
    ///
    /// `None` when the watch does not check on the caller's thread (switched off, or
    /// [`background`](Self::background)): the caller reads its members itself and hands the body
    /// to [`check_webhook`](Self::check_webhook). An error is the body's JSON error (not an
    /// object, or not JSON); nothing is recorded then.
    pub fn check_webhook_keeping(
        &self,
        family: Family,
        body: &[u8],
        keep: Keep,
    ) -> Option<Result<serde_json::Value, serde_json::Error>> {
        if !self.is_enabled() || self.queue.is_some() {
            return None;
        }
        let schemas = &self.inner.schemas;
        let mut walker = Walker::new(schemas);
        let top = Top {
            w: &mut walker,
            keep,
            lookup: |name: &str| schemas.webhook(family, name),
        };
        let read = read_body!(body, |de| serde::Deserializer::deserialize_map(de, top));
        let (kept, routed) = match read {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        match routed {
            Routed::Checked(name) => self.webhook_found(family, &name, walker.finish()),
            Routed::Unknown(name) => self.unknown_type(family, &name),
            Routed::After(Some(name)) => self.webhook_now(family, &name, body),
            Routed::After(None) => {}
        }
        Some(Ok(kept))
    }

    /// Everything recorded so far (after the queued checks have run).
    pub fn report(&self) -> DriftReport {
        self.flush();
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

    /// How many findings were not kept because [`MAX_FINDINGS`] distinct ones already were, plus
    /// how many bodies a full [`background`](Self::background) queue turned away.
    pub fn dropped(&self) -> u64 {
        self.flush();
        let queued = self
            .queue
            .as_ref()
            .map_or(0, |feeder| feeder.0.lock().dropped);
        queued
            + self
                .inner
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
                let full = state.findings.len() >= MAX_FINDINGS;
                match state.findings.get_mut(&finding) {
                    Some(e) => {
                        e.counter.increment(1);
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
                        let counter = metrics::counter!(METRIC, "kind" => finding.kind.as_str(), "subject" => subject.to_string());
                        counter.increment(1);
                        state.findings.insert(
                            finding.clone(),
                            Entry {
                                count: 1,
                                first_seen: now,
                                last_seen: now,
                                last_warned: instant,
                                unwarned: 0,
                                counter,
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

/// The response `op` documents for `status`: the exact status first, then its class (`4XX`), then
/// `default` (keys built without allocating).
fn documented(
    op: &crate::schema::Operation,
    status: u16,
) -> Option<(
    &String,
    &std::collections::BTreeMap<String, Option<crate::schema::NodeId>>,
)> {
    let digits = [
        b'0' + (status / 100 % 10) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
    ];
    let class = [digits[0], b'X', b'X'];
    let three = (100..1000).contains(&status);
    let exact = std::str::from_utf8(&digits).unwrap_or_default();
    let class = std::str::from_utf8(&class).unwrap_or_default();
    [exact, class]
        .into_iter()
        .filter(|_| three)
        .chain(["default"])
        .find_map(|k| op.responses.get_key_value(k))
}
