//! Idempotency: remember which deliveries were handled and what was answered.
//!
//! # Protocol
//!
//! For a delivery with key `k` the receiver calls [`DedupStore::claim`]:
//!
//! * [`Claim::Acquired`] — nobody has handled `k` (or a previous claimer's lease expired). The
//!   receiver runs the handler, renewing the lease every third of its length while the handler
//!   runs, then either [`complete`](DedupStore::complete)s the claim with the answer it sent
//!   (success, or a 400-class rejection: remembered and replayed) or
//!   [`release`](DedupStore::release)s it (temporary failure: the next retry may run the
//!   handler again).
//! * [`Claim::Done`] — `k` was handled; the stored answer is replayed, the handler is not called.
//! * [`Claim::InProgress`] — another request (in this process or another instance) holds a live
//!   claim. The receiver [`wait_for_change`](DedupStore::wait_for_change)s and claims again,
//!   until its configured wait runs out; then it answers 500 so that Xsolla retries later.
//!
//! Every claim carries a random [`ClaimToken`]; `complete`, `release` and `renew` only act when
//! the token still matches, so a claimer whose lease expired (and was taken over) cannot
//! overwrite the new claimer's state.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;

pub mod memory;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "_sql")]
pub mod sql;
#[cfg(feature = "_sql")]
pub(crate) mod sql_store;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "mysql")]
pub use mysql::MySqlStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "_sql")]
pub use sql::PoolSettings;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The answer given to a delivery: status code and body (JSON when non-empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    /// HTTP status code.
    pub status: u16,
    /// Response body; empty for 200/204 without content.
    pub body: Bytes,
}

impl StoredAnswer {
    /// An answer without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: Bytes::new(),
        }
    }

    /// An answer with a JSON body.
    pub fn json(status: u16, body: Bytes) -> Self {
        Self { status, body }
    }
}

/// Identifies one claim (random, unique per claim).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A fresh random token.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The token text (for storage).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ClaimToken {
    fn default() -> Self {
        Self::new()
    }
}

/// Result of [`DedupStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller now owns the key until the lease runs out.
    Acquired(ClaimToken),
    /// The key was handled before; replay this answer.
    Done(StoredAnswer),
    /// Someone else holds a live claim.
    InProgress,
}

/// Store failures. The receiver answers 500 (Xsolla retries) and does not call the handler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The claim token no longer matches (lease expired and someone else took over, or the key was
    /// released).
    #[error("the claim was lost (lease expired or released)")]
    ClaimLost,
    /// A stored answer could not be read back.
    #[error("corrupt stored answer: {0}")]
    Corrupt(String),
    /// The backend failed.
    #[error("store backend error")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}

/// A place to record deliveries. See the module docs for the protocol.
pub trait DedupStore: Send + Sync + 'static {
    /// Tries to claim `key` for `lease`.
    fn claim(
        &self,
        key: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records the final answer for a claim made with `token`.
    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Gives a claim up so that a later delivery can claim the key again.
    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Extends a live claim to `lease` from now.
    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the recorded answer of `key`, if any (a claim in progress is kept). The receiver
    /// uses it so that, e.g., adding a payment account again after removing it is handled rather
    /// than replayed. The default keeps the record.
    fn forget(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = key;
        std::future::ready(Ok(()))
    }

    /// Deletes recorded answers completed at or before `cutoff` (claims in progress are kept) and
    /// returns how many went. The receiver calls it on write, at most once an hour, with
    /// `now - retention` ([`ReceiverConfig::with_retention`](crate::ReceiverConfig::with_retention)).
    /// The default keeps everything (returns 0).
    fn purge_completed_before(
        &self,
        cutoff: SystemTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let _ = cutoff;
        std::future::ready(Ok(0))
    }

    /// Waits (at most `max`) until the state of `key` may have changed. The default polls: it
    /// sleeps for `min(max, 25 ms)`. Stores that can notify override it.
    fn wait_for_change(&self, key: &str, max: Duration) -> impl Future<Output = ()> + Send {
        let _ = key;
        tokio::time::sleep(max.min(Duration::from_millis(25)))
    }
}

impl<S: DedupStore> DedupStore for Arc<S> {
    fn claim(
        &self,
        key: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        (**self).claim(key, lease)
    }

    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).complete(key, token, answer)
    }

    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release(key, token)
    }

    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).renew(key, token, lease)
    }

    fn forget(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).forget(key)
    }

    fn purge_completed_before(
        &self,
        cutoff: SystemTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        (**self).purge_completed_before(cutoff)
    }

    fn wait_for_change(&self, key: &str, max: Duration) -> impl Future<Output = ()> + Send {
        (**self).wait_for_change(key, max)
    }
}

/// Milliseconds since the Unix epoch of `time` (0 before it, saturating), for SQL stores.
#[cfg(feature = "_sql")]
pub(crate) fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Milliseconds of a lease as `i64` (saturating), for SQL stores.
#[cfg(feature = "_sql")]
pub(crate) fn lease_millis(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}
