//! The outbox's SQL: the `outbox` table, queueing a delivery, picking what is due, and recording
//! each attempt before and after it is made.

use sqlx::Row;
use sqlx::sqlite::SqliteConnection;

use crate::db::DbError;
use crate::schedule::ResendSchedule;

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
pub(crate) async fn migrate(writer: &mut SqliteConnection) -> Result<(), DbError> {
    let has_policy: bool = sqlx::query_scalar(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('outbox') WHERE name = 'policy'",
    )
    .fetch_one(&mut *writer)
    .await?;
    if !has_policy {
        sqlx::raw_sql("ALTER TABLE outbox ADD COLUMN policy TEXT NOT NULL DEFAULT 'order'")
            .execute(writer)
            .await?;
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
    /// Its re-send schedule (stored in the `policy` column).
    pub schedule: ResendSchedule,
}

/// Puts a delivery in the outbox; its row ID.
pub async fn enqueue(
    conn: &mut SqliteConnection,
    delivery: &NewDelivery,
    now_ms: i64,
) -> Result<i64, DbError> {
    let id = sqlx::query(
        "INSERT INTO outbox (notification_type, body, state, attempts, max_attempts,
                             next_attempt_at, created_at, updated_at, policy)
         VALUES (?1, ?2, 'pending', 0, ?3, ?4, ?5, ?5, ?6)",
    )
    .bind(&delivery.notification_type)
    .bind(&delivery.body)
    .bind(delivery.max_attempts)
    .bind(delivery.first_attempt_at)
    .bind(now_ms)
    .bind(delivery.schedule.as_str())
    .execute(conn)
    .await?
    .last_insert_rowid();
    Ok(id)
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
    /// Its re-send schedule (stored in the `policy` column).
    pub schedule: ResendSchedule,
}

fn schedule_of(word: &str) -> ResendSchedule {
    ResendSchedule::from_word(word).unwrap_or(ResendSchedule::Order)
}

/// Pending deliveries due at `now_ms`, oldest first, skipping `skip` (in flight).
pub async fn due_deliveries(
    conn: &mut SqliteConnection,
    now_ms: i64,
    skip: &[i64],
    limit: u32,
) -> Result<Vec<DueDelivery>, DbError> {
    let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".to_owned());
    let rows = sqlx::query(
        "SELECT id, notification_type, body, attempts, max_attempts, policy FROM outbox
         WHERE state = 'pending' AND next_attempt_at <= ?1
           AND id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY next_attempt_at, id LIMIT ?3",
    )
    .bind(now_ms)
    .bind(skip)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let due = rows
        .iter()
        .map(|row| {
            Ok(DueDelivery {
                id: row.try_get(0)?,
                notification_type: row.try_get(1)?,
                body: row.try_get(2)?,
                attempts: row.try_get(3)?,
                max_attempts: row.try_get(4)?,
                schedule: schedule_of(row.try_get(5)?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(due)
}

/// When the next pending delivery (not in `skip`) is due.
pub async fn next_due_at(
    conn: &mut SqliteConnection,
    skip: &[i64],
) -> Result<Option<i64>, DbError> {
    let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".to_owned());
    let next = sqlx::query_scalar(
        "SELECT MIN(next_attempt_at) FROM outbox
         WHERE state = 'pending' AND id NOT IN (SELECT value FROM json_each(?1))",
    )
    .bind(skip)
    .fetch_one(conn)
    .await?;
    Ok(next)
}

/// Records that attempt number `attempt` starts now and when the one after it is due, before the
/// request goes out: a crash during the request then counts as a failed attempt and the
/// schedule goes on, rather than repeating the same attempt.
pub async fn start_attempt(
    conn: &mut SqliteConnection,
    id: i64,
    attempt: u32,
    retry_at: i64,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1",
    )
    .bind(id)
    .bind(attempt)
    .bind(retry_at)
    .bind(now_ms)
    .execute(conn)
    .await?;
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
pub async fn finish_attempt(
    conn: &mut SqliteConnection,
    id: i64,
    state: DeliveryState,
    status: Option<u16>,
    error: Option<&str>,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET state = ?2, last_status = ?3, last_error = ?4, updated_at = ?5
         WHERE id = ?1",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(status)
    .bind(error)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks pending deliveries that have used all attempts (e.g. killed during the last one) failed.
pub async fn fail_exhausted(conn: &mut SqliteConnection, now_ms: i64) -> Result<u64, DbError> {
    let failed = sqlx::query(
        "UPDATE outbox SET state = 'failed', updated_at = ?1
         WHERE state = 'pending' AND attempts >= max_attempts",
    )
    .bind(now_ms)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(failed)
}

/// Pending deliveries.
pub async fn pending_count(conn: &mut SqliteConnection) -> Result<i64, DbError> {
    let pending = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
        .fetch_one(conn)
        .await?;
    Ok(pending)
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
    /// Re-send schedule ([`crate::ResendSchedule::as_str`]): `order`, `payment` or `once`.
    pub policy: String,
    /// The body as JSON.
    pub body: serde_json::Value,
}

/// Every outbox row, oldest first.
pub async fn list_outbox(conn: &mut SqliteConnection) -> Result<Vec<OutboxEntry>, DbError> {
    let rows = sqlx::query(
        "SELECT id, notification_type, state, attempts, max_attempts, next_attempt_at,
                last_status, last_error, body, policy
         FROM outbox ORDER BY id",
    )
    .fetch_all(conn)
    .await?;
    let entries = rows
        .iter()
        .map(|row| {
            let body: &[u8] = row.try_get(8)?;
            Ok(OutboxEntry {
                id: row.try_get(0)?,
                notification_type: row.try_get(1)?,
                state: row.try_get(2)?,
                attempts: row.try_get(3)?,
                max_attempts: row.try_get(4)?,
                next_attempt_at: row.try_get(5)?,
                last_status: row.try_get(6)?,
                last_error: row.try_get(7)?,
                policy: row.try_get(9)?,
                // Bodies given to `trigger_with` need not be JSON.
                body: serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(entries)
}
