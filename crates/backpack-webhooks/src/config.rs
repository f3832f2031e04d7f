//! Receiver settings ([`ReceiverConfig`]) and the clock that retention decisions read.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[cfg(doc)]
use crate::dedup::DedupStore;
use crate::ip::{ClientIpSource, IpAllowlist};

/// Upper bound for configured durations (keeps `Instant` arithmetic far from overflow).
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Default retention of recorded answers: 7 days, comfortably longer than Xsolla's retries (at
/// most 48 hours after the first attempt, `spec/NOTES.md` W38), so every retry still finds its
/// record.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The time source for retention decisions (replaceable in tests).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Receiver settings. `Default` = 1 MiB body limit, no IP allowlist, peer address as client
/// address, 30 s claim lease, 5 s wait for a concurrent duplicate, recorded answers kept 7 days.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    pub(crate) body_limit: usize,
    pub(crate) ip_allowlist: Option<IpAllowlist>,
    pub(crate) client_ip_source: ClientIpSource,
    pub(crate) claim_lease: Duration,
    pub(crate) in_progress_wait: Duration,
    pub(crate) retention: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            ip_allowlist: None,
            client_ip_source: ClientIpSource::Peer,
            claim_lease: Duration::from_secs(30),
            in_progress_wait: Duration::from_secs(5),
            retention: DEFAULT_RETENTION,
            clock: Arc::new(SystemClock),
        }
    }
}

impl ReceiverConfig {
    /// Largest accepted body in bytes; larger ones get 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Refuse (403) callers outside this allowlist, e.g. [`IpAllowlist::xsolla`]. Off by default.
    pub fn with_ip_allowlist(mut self, allowlist: IpAllowlist) -> Self {
        self.ip_allowlist = Some(allowlist);
        self
    }

    /// How the client address is found (peer address by default).
    pub fn with_client_ip_source(mut self, source: ClientIpSource) -> Self {
        self.client_ip_source = source;
        self
    }

    /// How long a claim lives without renewal. It is renewed every third of this while the handler
    /// runs; after a crash, the key is free again once it runs out. Clamped to 3 ms ..= 1 year.
    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = lease.clamp(Duration::from_millis(3), MAX_DURATION);
        self
    }

    /// How long a duplicate waits for a concurrent delivery of the same event before answering
    /// 500 (so that Xsolla retries later). At most 1 year.
    pub fn with_in_progress_wait(mut self, wait: Duration) -> Self {
        self.in_progress_wait = wait.min(MAX_DURATION);
        self
    }

    /// How long recorded answers are kept ([`DEFAULT_RETENTION`]: 7 days). After a write, at
    /// most once an hour, the receiver deletes records completed more than this long ago
    /// ([`DedupStore::purge_completed_before`]). Keep it well above Xsolla's retry window
    /// (48 hours): a retry that arrives after its record was purged runs the handler again.
    /// At most 1 year.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention.min(MAX_DURATION);
        self
    }

    /// The clock used for retention (the system clock by default; tests move their own).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The retention of recorded answers.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The body limit.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The allowlist, if any.
    pub fn ip_allowlist(&self) -> Option<&IpAllowlist> {
        self.ip_allowlist.as_ref()
    }
}
