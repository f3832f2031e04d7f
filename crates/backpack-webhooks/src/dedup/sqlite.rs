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
//! Time is this machine's wall clock in Unix milliseconds.
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
use std::time::{Duration, SystemTime};

use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Executor, Row, Transaction};

use super::sql::{
    HANDLER_SAVEPOINT, PoolSettings, claim_retrying, hex_literal, row_claim, stored_answer,
};
use super::{Claim, ClaimToken, DedupStore, StoreError, StoredAnswer, lease_millis, unix_millis};
use crate::transactional::{SqlStore, TxClaim, sealed};

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

/// SQLite-backed [`DedupStore`] and transaction source of a
/// [`TransactionalReceiver`](crate::TransactionalReceiver).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn now_millis() -> i64 {
    unix_millis(SystemTime::now())
}

impl SqliteStore {
    /// The connection pool: create your tables with it, or query outside webhooks.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

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

    async fn owned_update(
        &self,
        sql: &'static str,
        key: &str,
        token: &ClaimToken,
        extra: Option<(i64, Option<&StoredAnswer>)>,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql).bind(key).bind(token.as_str());
        if let Some((time, answer)) = extra {
            query = query.bind(time);
            if let Some(answer) = answer {
                query = query
                    .bind(i32::from(answer.status))
                    .bind(answer.body.as_ref());
            }
        }
        let done = query
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost)
        }
    }

    async fn claim_once(&self, key: &str, lease_ms: i64) -> Result<Option<Claim>, StoreError> {
        let now = now_millis();
        let until = now.saturating_add(lease_ms);
        let token = ClaimToken::new();
        let inserted = sqlx::query(
            "INSERT INTO backpack_webhook_deliveries (key, token, lease_until, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(token.as_str())
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if inserted.rows_affected() == 1 {
            return Ok(Some(Claim::Acquired(token)));
        }
        let taken_over = sqlx::query(
            "UPDATE backpack_webhook_deliveries SET token = ?2, lease_until = ?3
             WHERE key = ?1 AND token IS NOT NULL AND lease_until <= ?4",
        )
        .bind(key)
        .bind(token.as_str())
        .bind(until)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if taken_over.rows_affected() == 1 {
            return Ok(Some(Claim::Acquired(token)));
        }
        let row = sqlx::query(
            "SELECT token, status, body FROM backpack_webhook_deliveries WHERE key = ?1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        match row {
            None => Ok(None),
            Some(row) => row_claim(&row).map(Some),
        }
    }
}

impl DedupStore for SqliteStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let lease_ms = lease_millis(lease);
        claim_retrying(|| self.claim_once(key, lease_ms)).await
    }

    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.owned_update(
            "UPDATE backpack_webhook_deliveries
             SET token = NULL, lease_until = NULL, completed_at = ?3, status = ?4, body = ?5
             WHERE key = ?1 AND token = ?2",
            key,
            token,
            Some((now_millis(), Some(answer))),
        )
        .await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<(), StoreError> {
        self.owned_update(
            "DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token = ?2",
            key,
            token,
            None,
        )
        .await
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        self.owned_update(
            "UPDATE backpack_webhook_deliveries SET lease_until = ?3
             WHERE key = ?1 AND token = ?2",
            key,
            token,
            Some((now_millis().saturating_add(lease_millis(lease)), None)),
        )
        .await
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token IS NULL")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn purge_completed_before(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL AND completed_at <= ?1",
        )
        .bind(unix_millis(cutoff))
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        Ok(done.rows_affected())
    }
}

impl sealed::Sealed for SqliteStore {}

impl SqlStore for SqliteStore {
    type Db = Sqlite;

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn begin_tx(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        // The write lock up front: a deferred transaction upgrading later could fail with
        // SQLITE_BUSY instead of waiting.
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::backend)
    }

    async fn claim_in(
        tx: &mut Transaction<'static, Sqlite>,
        key: &str,
    ) -> Result<TxClaim, StoreError> {
        // The claim, recorded as a 204 in advance (what `Ok` answers), and the savepoint a
        // rejection rolls back to, in one call.
        let hex = hex_literal(key);
        let now = now_millis();
        let batch = format!(
            "INSERT INTO backpack_webhook_deliveries (key, status, created_at, completed_at)
             VALUES (CAST(X'{hex}' AS TEXT), 204, {now}, {now}) ON CONFLICT (key) DO NOTHING;
             SAVEPOINT {HANDLER_SAVEPOINT}"
        );
        let done = sqlx::raw_sql(AssertSqlSafe(batch))
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        if done.rows_affected() == 1 {
            return Ok(TxClaim::Owned);
        }
        let row = sqlx::query(
            "SELECT token, status, body, lease_until <= ?2
             FROM backpack_webhook_deliveries WHERE key = ?1",
        )
        .bind(key)
        .bind(now)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        let Some(row) = row else {
            return Ok(TxClaim::InProgress);
        };
        let token: Option<String> = row.try_get(0).map_err(StoreError::backend)?;
        let expired: Option<bool> = row.try_get(3).map_err(StoreError::backend)?;
        if token.is_some() && expired != Some(true) {
            return Ok(TxClaim::InProgress);
        }
        if token.is_none() {
            return Ok(TxClaim::Done(stored_answer(&row)?));
        }
        // A plain claim whose holder died: take it over inside this transaction.
        let taken = sqlx::query(
            "UPDATE backpack_webhook_deliveries
             SET token = NULL, lease_until = NULL, status = 204, body = NULL, completed_at = ?2
             WHERE key = ?1 AND token IS NOT NULL AND lease_until <= ?2",
        )
        .bind(key)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        if taken.rows_affected() != 1 {
            return Ok(TxClaim::InProgress);
        }
        tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
            "SAVEPOINT {HANDLER_SAVEPOINT}"
        ))))
        .await
        .map_err(StoreError::backend)?;
        Ok(TxClaim::Owned)
    }

    async fn record_in(
        tx: &mut Transaction<'static, Sqlite>,
        key: &str,
        answer: &StoredAnswer,
        rejected: bool,
    ) -> Result<(), StoreError> {
        if rejected {
            tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
                "ROLLBACK TO SAVEPOINT {HANDLER_SAVEPOINT}"
            ))))
            .await
            .map_err(StoreError::backend)?;
        }
        sqlx::query(
            "UPDATE backpack_webhook_deliveries SET status = ?2, body = ?3, completed_at = ?4
             WHERE key = ?1",
        )
        .bind(key)
        .bind(i32::from(answer.status))
        .bind(answer.body.as_ref())
        .bind(now_millis())
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn forget_in(tx: &mut Transaction<'static, Sqlite>, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token IS NULL")
            .bind(key)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

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
