//! SQLite store (feature `sqlite`, sqlx, bundled SQLite): the records survive restarts, so a
//! restarted receiver replays recorded answers instead of running the handler again. With a
//! [`TransactionalReceiver`](crate::TransactionalReceiver) and the grants in the same file, grant
//! and record commit together: nothing is ever granted twice.
//!
//! The file uses WAL mode, `synchronous=FULL` and a busy timeout (the lock timeout of
//! [`PoolSettings`]), so several processes on one machine may share it: every read goes to the
//! file (no in-process answer cache that another process could make stale). A transactional
//! delivery starts with `BEGIN IMMEDIATE`, taking SQLite's single write lock, so a concurrent
//! duplicate waits for it and then reads the committed answer. SQLite has no statement timeout.
//! Time is this machine's wall clock in Unix milliseconds, read by SQLite.
//!
//! Table (created if missing):
//!
//! ```sql
//! CREATE TABLE backpack_webhook_deliveries (
//!     key TEXT PRIMARY KEY,
//!     token TEXT,                -- claim token while claimed, NULL when done
//!     lease_until INTEGER,       -- Unix ms, while claimed
//!     status INTEGER,            -- answer, when done
//!     body BLOB,
//!     created_at INTEGER NOT NULL,
//!     completed_at INTEGER
//! );
//! ```

use std::path::Path;

use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous,
};
use sqlx::{Executor, Transaction};

use super::StoreError;
use super::sql::PoolSettings;
use super::sql_store::{StoreSql, sql_store};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS backpack_webhook_deliveries (
    key TEXT PRIMARY KEY,
    token TEXT,
    lease_until INTEGER,
    status INTEGER,
    body BLOB,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);";

/// This machine's wall clock in Unix milliseconds.
macro_rules! now_ms {
    () => {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    };
}

const SQL: StoreSql = StoreSql {
    claim: concat!(
        "INSERT INTO backpack_webhook_deliveries (key, token, lease_until, created_at)
         VALUES (?1, ?2, ",
        now_ms!(),
        " + ?3, ",
        now_ms!(),
        ") ON CONFLICT (key) DO NOTHING"
    ),
    take_over: concat!(
        "UPDATE backpack_webhook_deliveries SET token = ?1, lease_until = ",
        now_ms!(),
        " + ?2 WHERE key = ?3 AND token IS NOT NULL AND lease_until <= ",
        now_ms!()
    ),
    select: "SELECT token, status, body FROM backpack_webhook_deliveries WHERE key = ?1",
    complete: concat!(
        "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, completed_at = ",
        now_ms!(),
        ", status = ?1, body = ?2 WHERE key = ?3 AND token = ?4"
    ),
    release: "DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token = ?2",
    renew: concat!(
        "UPDATE backpack_webhook_deliveries SET lease_until = ",
        now_ms!(),
        " + ?1 WHERE key = ?2 AND token = ?3"
    ),
    forget: "DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token IS NULL",
    purge: "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL AND completed_at <= ?1",
    tx_select: concat!(
        "SELECT token, status, body, lease_until <= ",
        now_ms!(),
        " FROM backpack_webhook_deliveries WHERE key = ?1"
    ),
    tx_take_over: concat!(
        "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, status = 204, body = NULL, completed_at = ",
        now_ms!(),
        " WHERE key = ?1 AND token IS NOT NULL AND lease_until <= ",
        now_ms!()
    ),
    record: concat!(
        "UPDATE backpack_webhook_deliveries SET status = ?1, body = ?2, completed_at = ",
        now_ms!(),
        " WHERE key = ?3"
    ),
    insert_answer: concat!(
        "INSERT INTO backpack_webhook_deliveries (key, status, body, created_at, completed_at)
         VALUES (?1, ?2, ?3, ",
        now_ms!(),
        ", ",
        now_ms!(),
        ") ON CONFLICT (key) DO NOTHING"
    ),
};

/// SQLite-backed [`DedupStore`](super::DedupStore) and transaction source of a
/// [`TransactionalReceiver`](crate::TransactionalReceiver).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

sql_store!(SqliteStore, Sqlite, SQL);

impl SqliteStore {
    /// Opens (or creates) the database file and the table, with default [`PoolSettings`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, &PoolSettings::default()).await
    }

    /// Opens (or creates) the database file with explicit settings.
    pub async fn open_with(
        path: impl AsRef<Path>,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::connect_options(options, settings).await
    }

    /// A private in-memory database (for tests): one connection, since each connection to
    /// `:memory:` is a database of its own.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let settings = PoolSettings::default().with_max_connections(1);
        Self::connect_options(SqliteConnectOptions::new().in_memory(true), &settings).await
    }

    /// Opens with options you built; WAL, `synchronous=FULL` and the busy timeout are added.
    pub async fn connect_options(
        options: SqliteConnectOptions,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(settings.lock_timeout());
        let pool = settings
            .pool_options::<Sqlite>()
            .connect_with(options)
            .await
            .map_err(StoreError::backend)?;
        pool.execute(SCHEMA).await.map_err(StoreError::backend)?;
        Ok(Self { pool })
    }

    async fn begin(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // The write lock up front: a deferred transaction upgrading later could fail with
        // SQLITE_BUSY instead of waiting.
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::backend)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use bytes::Bytes;

    use super::*;
    use crate::dedup::{Claim, DedupStore, StoredAnswer};

    const LEASE: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn claim_complete_replay_release() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::InProgress);
        store.renew("k", &t, LEASE).await.unwrap();
        let answer = StoredAnswer::json(400, Bytes::from_static(br#"{"error":{}}"#));
        store.complete("k", &t, &answer).await.unwrap();
        assert_eq!(store.claim("k", LEASE).await.unwrap(), Claim::Done(answer));
        assert!(matches!(
            store.release("k", &t).await,
            Err(StoreError::ClaimLost)
        ));

        let Claim::Acquired(t2) = store.claim("other", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        store.release("other", &t2).await.unwrap();
        assert!(matches!(
            store.claim("other", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
    }

    #[tokio::test]
    async fn another_handle_on_the_file_sees_records_and_their_removal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dedup.sqlite3");
        let store = SqliteStore::open(&path).await.unwrap();
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        let answer = StoredAnswer::empty(204);
        store.complete("k", &t, &answer).await.unwrap();
        let other = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            other.claim("k", LEASE).await.unwrap(),
            Claim::Done(answer.clone())
        );
        // No answer cache: a record deleted through one handle is gone for the other at once.
        sqlx::query("DELETE FROM backpack_webhook_deliveries")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(matches!(
            other.claim("k", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
    }

    #[tokio::test]
    async fn expired_claim_is_taken_over() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        let Claim::Acquired(old) = store.claim("k", Duration::ZERO).await.unwrap() else {
            panic!("expected Acquired")
        };
        let Claim::Acquired(new) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected take-over")
        };
        assert_ne!(old, new);
        assert!(matches!(
            store.complete("k", &old, &StoredAnswer::empty(204)).await,
            Err(StoreError::ClaimLost)
        ));
        store
            .complete("k", &new, &StoredAnswer::empty(204))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn purge_keeps_claims_and_recent_answers() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        let Claim::Acquired(t) = store.claim("done", LEASE).await.unwrap() else {
            panic!()
        };
        store
            .complete("done", &t, &StoredAnswer::empty(204))
            .await
            .unwrap();
        let Claim::Acquired(_) = store.claim("claimed", LEASE).await.unwrap() else {
            panic!()
        };
        assert_eq!(
            store
                .purge_completed_before(SystemTime::now() - Duration::from_secs(3600))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .purge_completed_before(SystemTime::now())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store.claim("claimed", LEASE).await.unwrap(),
            Claim::InProgress
        );
        assert!(matches!(
            store.claim("done", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
    }
}
