//! What the three sqlx stores share: connection-pool settings, the stored-row decoding and the
//! SQL literal used in multi-statement batches.

use std::time::Duration;

use bytes::Bytes;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{Claim, StoreError, StoredAnswer};

/// Connection-pool and timeout settings of a SQL store (PostgreSQL, MySQL/MariaDB, SQLite).
///
/// Defaults: 10 connections, 2 s to get one, 2 s lock timeout, 5 s statement timeout — all well
/// inside the time Xsolla waits for an answer, so a stuck database gives a 500 (and a retry)
/// rather than a timed-out request.
///
/// # Sizing the pool
///
/// A delivery holds one connection from its first statement to its commit: the key claim, your
/// handler's statements and the commit. So the pool bounds how many deliveries are handled at
/// once; a delivery that cannot get a connection within [`acquire_timeout`](Self::acquire_timeout)
/// is answered 500 and retried by Xsolla. Size it as *deliveries per second × seconds per
/// delivery* with headroom (at 100 deliveries/s and 20 ms each, 2 connections are busy on
/// average; 10 leaves room for bursts and slow handlers). Keep the sum over all receiver
/// instances below the server's connection limit (PostgreSQL `max_connections`, MySQL
/// `max_connections`) minus what the rest of your application uses. SQLite allows one writer at
/// a time: more connections only help concurrent replays (reads), so a small pool (the default is
/// fine) is enough.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    max_connections: u32,
    acquire_timeout: Duration,
    lock_timeout: Duration,
    statement_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(2),
            lock_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(5),
        }
    }
}

impl PoolSettings {
    /// Most connections the store opens (at least 1).
    pub fn with_max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// How long a delivery waits for a free connection before it is answered 500.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// How long a statement waits for a row lock — e.g. a duplicate waiting for the delivery
    /// being handled — before it fails (answer 500). PostgreSQL `lock_timeout`; MySQL/MariaDB
    /// `innodb_lock_wait_timeout` (whole seconds, rounded up); SQLite busy timeout.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Longest any statement (yours included) may run. PostgreSQL `statement_timeout`; MariaDB
    /// `max_statement_time`; MySQL `max_execution_time` (MySQL applies it to `SELECT` only).
    /// SQLite has no statement timeout.
    pub fn with_statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// Most connections.
    pub fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// Wait for a free connection.
    pub fn acquire_timeout(&self) -> Duration {
        self.acquire_timeout
    }

    /// Row-lock wait.
    pub fn lock_timeout(&self) -> Duration {
        self.lock_timeout
    }

    /// Statement time limit.
    pub fn statement_timeout(&self) -> Duration {
        self.statement_timeout
    }

    pub(crate) fn pool_options<DB: sqlx::Database>(&self) -> sqlx::pool::PoolOptions<DB> {
        sqlx::pool::PoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
    }
}

/// A claim through `attempt` (one insert-or-read round), repeated a bounded number of times:
/// an attempt finds nothing (`None`) only when the row vanished between its insert and its read
/// because another instance released it, which can repeat only while others keep releasing.
pub(crate) async fn claim_retrying<F, Fut>(mut attempt: F) -> Result<Claim, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<Claim>, StoreError>>,
{
    for _ in 0..4 {
        if let Some(claim) = attempt().await? {
            return Ok(claim);
        }
    }
    Ok(Claim::InProgress)
}

/// The claim a delivery row stands for: its first three columns are `token`, `status` and
/// `body` (every store's `SELECT token, status, body …`).
pub(crate) fn row_claim<R>(row: &R) -> Result<Claim, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let token: Option<String> = row.try_get(0).map_err(StoreError::backend)?;
    if token.is_some() {
        return Ok(Claim::InProgress);
    }
    stored_answer(row).map(Claim::Done)
}

/// The answer recorded in a delivery row whose second and third columns are `status` and `body`.
pub(crate) fn stored_answer<R>(row: &R) -> Result<StoredAnswer, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<i32>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: Option<i32> = row.try_get(1).map_err(StoreError::backend)?;
    let body: Option<Vec<u8>> = row.try_get(2).map_err(StoreError::backend)?;
    let status = status
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| StoreError::Corrupt("stored answer without a valid status".into()))?;
    Ok(StoredAnswer {
        status,
        body: Bytes::from(body.unwrap_or_default()),
    })
}

/// Whole seconds, rounded up, at least 1 (MySQL's `innodb_lock_wait_timeout`).
#[cfg(feature = "mysql")]
pub(crate) fn whole_seconds(duration: Duration) -> u64 {
    (duration.as_millis().div_ceil(1000) as u64).max(1)
}
