//! The outbox's SQL: the `outbox` table, queueing a delivery, picking what is due, and recording
//! each attempt before and after it is made.

use rusqlite::{Connection, params};

use crate::schedule::RetryPolicy;

/// The outbox table.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_type TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    policy TEXT NOT NULL DEFAULT 'order'
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
";

/// Adds the columns that files from older emulator versions lack.
pub(crate) fn migrate(writer: &Connection) -> rusqlite::Result<()> {
    let has_policy: bool = writer.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('outbox') WHERE name = 'policy'",
        [],
        |row| row.get(0),
    )?;
    if !has_policy {
        writer
            .execute_batch("ALTER TABLE outbox ADD COLUMN policy TEXT NOT NULL DEFAULT 'order'")?;
    }
    Ok(())
}

/// A webhook to put in the outbox together with a move.
pub struct NewDelivery {
    /// Its `notification_type`.
    pub notification_type: String,
    /// The exact body to send (signed at send time).
    pub body: Vec<u8>,
    /// How many attempts at most.
    pub max_attempts: u32,
    /// When the first attempt is due (Unix ms).
    pub first_attempt_at: i64,
    /// Its retry schedule.
    pub policy: RetryPolicy,
}

/// Puts a delivery in the outbox; its row ID.
pub fn enqueue(conn: &Connection, delivery: &NewDelivery, now_ms: i64) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO outbox (notification_type, body, state, attempts, max_attempts,
                             next_attempt_at, created_at, updated_at, policy)
         VALUES (?1, ?2, 'pending', 0, ?3, ?4, ?5, ?5, ?6)",
        params![
            delivery.notification_type,
            delivery.body,
            delivery.max_attempts,
            delivery.first_attempt_at,
            now_ms,
            delivery.policy.as_str()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A delivery due for an attempt.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Outbox row.
    pub id: i64,
    /// `notification_type`.
    pub notification_type: String,
    /// Body.
    pub body: Vec<u8>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Attempt limit.
    pub max_attempts: u32,
    /// Its retry schedule.
    pub policy: RetryPolicy,
}

fn policy_of(word: &str) -> RetryPolicy {
    RetryPolicy::from_word(word).unwrap_or(RetryPolicy::Order)
}

/// Pending deliveries due at `now_ms`, oldest first, skipping `skip` (in flight).
pub fn due_deliveries(
    conn: &Connection,
    now_ms: i64,
    skip: &[i64],
    limit: u32,
) -> rusqlite::Result<Vec<DueDelivery>> {
    let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".to_owned());
    let mut stmt = conn.prepare_cached(
        "SELECT id, notification_type, body, attempts, max_attempts, policy FROM outbox
         WHERE state = 'pending' AND next_attempt_at <= ?1
           AND id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY next_attempt_at, id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![now_ms, skip, limit], |row| {
        Ok(DueDelivery {
            id: row.get(0)?,
            notification_type: row.get(1)?,
            body: row.get(2)?,
            attempts: row.get(3)?,
            max_attempts: row.get(4)?,
            policy: policy_of(&row.get::<_, String>(5)?),
        })
    })?;
    rows.collect()
}

/// When the next pending delivery (not in `skip`) is due.
pub fn next_due_at(conn: &Connection, skip: &[i64]) -> rusqlite::Result<Option<i64>> {
    let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".to_owned());
    conn.query_row(
        "SELECT MIN(next_attempt_at) FROM outbox
         WHERE state = 'pending' AND id NOT IN (SELECT value FROM json_each(?1))",
        [skip],
        |row| row.get(0),
    )
}

/// Records that attempt number `attempt` starts now and when the one after it is due, before the
/// request goes out: a crash during the request then counts as a failed attempt and the
/// schedule goes on, rather than repeating the same attempt.
pub fn start_attempt(
    conn: &mut Connection,
    id: i64,
    attempt: u32,
    retry_at: i64,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, attempt, retry_at, now_ms],
    )?;
    Ok(())
}

/// Final or intermediate result of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Will be tried again.
    Pending,
    /// Answered 200/201/204.
    Delivered,
    /// Answered a status that stops retries.
    Rejected,
    /// All attempts used up.
    Failed,
}

impl DeliveryState {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

/// Records an attempt's result.
pub fn finish_attempt(
    conn: &mut Connection,
    id: i64,
    state: DeliveryState,
    status: Option<u16>,
    error: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET state = ?2, last_status = ?3, last_error = ?4, updated_at = ?5
         WHERE id = ?1",
        params![id, state.as_str(), status, error, now_ms],
    )?;
    Ok(())
}

/// Marks pending deliveries that have used all attempts (e.g. killed during the last one) failed.
pub fn fail_exhausted(conn: &mut Connection, now_ms: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE outbox SET state = 'failed', updated_at = ?1
         WHERE state = 'pending' AND attempts >= max_attempts",
        [now_ms],
    )
}

/// Pending deliveries.
pub fn pending_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
        [],
        |row| row.get(0),
    )
}

/// An outbox row, for `GET /emulator/outbox`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    /// Row ID.
    pub id: i64,
    /// `notification_type`.
    pub notification_type: String,
    /// `pending`, `delivered`, `rejected` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// Attempt limit.
    pub max_attempts: u32,
    /// When the next attempt is due (Unix ms; meaningful while pending).
    pub next_attempt_at: i64,
    /// Status of the last answer.
    pub last_status: Option<u16>,
    /// Error of the last attempt without an answer.
    pub last_error: Option<String>,
    /// Retry schedule: `order`, `payment` or `once`.
    pub policy: String,
    /// The body as JSON.
    pub body: serde_json::Value,
}

/// Every outbox row, oldest first.
pub fn list_outbox(conn: &Connection) -> rusqlite::Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, notification_type, state, attempts, max_attempts, next_attempt_at,
                last_status, last_error, body, policy
         FROM outbox ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        let body: Vec<u8> = row.get(8)?;
        Ok(OutboxEntry {
            id: row.get(0)?,
            notification_type: row.get(1)?,
            state: row.get(2)?,
            attempts: row.get(3)?,
            max_attempts: row.get(4)?,
            next_attempt_at: row.get(5)?,
            last_status: row.get(6)?,
            last_error: row.get(7)?,
            policy: row.get(9)?,
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        })
    })?;
    rows.collect()
}
