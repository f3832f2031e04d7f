//! SQLite store (feature `sqlite`): the records survive restarts, so a restarted receiver replays
//! recorded answers instead of running the handler again. With a `TransactionalReceiver` and the
//! grants in the same file, grant and record commit together: nothing is ever granted twice.
//! With a plain handler, a process killed after the handler and before its answer was recorded
//! runs the handler again on the retry (see [`crate::handler`]).
//!
//! One connection behind a mutex; every database call runs on [`tokio::task::spawn_blocking`].
//! Recorded answers are also kept in memory (bounded), so Xsolla's re-sends of a handled delivery
//! are answered without touching the database. The file
//! uses WAL mode and a busy timeout, so several processes on one machine may share it (claims are
//! single atomic statements). Time is this machine's wall clock in Unix milliseconds.
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

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Claim, ClaimToken, DedupStore, StoreError, StoredAnswer, lease_millis, unix_millis};

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

/// Most recorded answers kept in memory; the map is cleared when it would grow past this.
const DONE_CACHE_MAX: usize = 65_536;

/// SQLite-backed [`DedupStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Answers already recorded, so a replayed duplicate (Xsolla's retries) is answered without a
    /// blocking database round trip. A recorded answer never changes, so this cannot go stale.
    done: Arc<Mutex<HashMap<String, StoredAnswer>>>,
}

impl SqliteStore {
    /// Opens (or creates) the database file and the table.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(StoreError::backend)?;
        Self::init(conn)
    }

    /// A private in-memory database (for tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(StoreError::backend)?;
        Self::init(conn)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(StoreError::backend)?;
        // `journal_mode` answers with a row; in-memory databases answer "memory".
        let _mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(StoreError::backend)?;
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .map_err(StoreError::backend)?;
        conn.execute_batch(SCHEMA).map_err(StoreError::backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            done: Arc::default(),
        })
    }

    fn recorded(&self, key: &str) -> Option<StoredAnswer> {
        let done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        done.get(key).cloned()
    }

    fn remember(&self, key: String, answer: StoredAnswer) {
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        if done.len() >= DONE_CACHE_MAX {
            done.clear();
        }
        done.insert(key, answer);
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&guard).map_err(StoreError::backend)
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction. With `claim`, the transaction first
    /// checks that the claim is still held, and when `work` asks to commit it records the answer
    /// in the same transaction: the work's writes and the recorded answer commit together or not
    /// at all. `work` returns the answer and whether to commit (a rollback leaves the claim held;
    /// the caller releases it).
    pub(crate) async fn transact<F>(
        &self,
        claim: Option<(String, ClaimToken)>,
        work: F,
    ) -> Result<(StoredAnswer, bool), StoreError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> (StoredAnswer, bool) + Send + 'static,
    {
        let conn = self.conn.clone();
        let remember_key = claim.as_ref().map(|(key, _)| key.clone());
        let result = tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            let tx = guard
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(StoreError::backend)?;
            if let Some((key, token)) = &claim {
                let held: Option<Option<String>> = tx
                    .query_row(
                        "SELECT token FROM backpack_webhook_deliveries WHERE key = ?1",
                        params![key],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(StoreError::backend)?;
                if held.flatten().as_deref() != Some(token.as_str()) {
                    return Err(StoreError::ClaimLost);
                }
            }
            let (answer, commit) = work(&tx);
            if !commit {
                return Ok((answer, false)); // dropping `tx` rolls back
            }
            if let Some((key, token)) = &claim {
                let changed = tx
                    .execute(
                        "UPDATE backpack_webhook_deliveries
                         SET token = NULL, lease_until = NULL, completed_at = ?3, status = ?4,
                             body = ?5
                         WHERE key = ?1 AND token = ?2",
                        params![
                            key,
                            token.as_str(),
                            now_millis(),
                            answer.status,
                            answer.body.as_ref()
                        ],
                    )
                    .map_err(StoreError::backend)?;
                if changed != 1 {
                    return Err(StoreError::ClaimLost);
                }
            }
            tx.commit().map_err(StoreError::backend)?;
            Ok((answer, true))
        })
        .await
        .map_err(StoreError::backend)??;
        if let (Some(key), (answer, true)) = (remember_key, &result) {
            self.remember(key, answer.clone());
        }
        Ok(result)
    }

    async fn owned_update(
        &self,
        sql: &'static str,
        key: &str,
        token: &ClaimToken,
        extra: Option<(i64, Option<(u16, Bytes)>)>,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        let token = token.as_str().to_owned();
        let changed = self
            .run(move |conn| match extra {
                None => conn.execute(sql, params![key, token]),
                Some((time, None)) => conn.execute(sql, params![key, token, time]),
                Some((time, Some((status, body)))) => {
                    conn.execute(sql, params![key, token, time, status, body.as_ref()])
                }
            })
            .await?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost)
        }
    }
}

/// `(token, status, body)` of one row.
type StoredRow = (Option<String>, Option<i64>, Option<Vec<u8>>);

fn now_millis() -> i64 {
    unix_millis(SystemTime::now())
}

fn claim_blocking(conn: &Connection, key: &str, lease_ms: i64) -> rusqlite::Result<Claim> {
    // Bounded: the row can only flip between "absent" and "present" if other claimers release
    // in between; after a few rounds report InProgress and let the caller wait.
    for _ in 0..4 {
        let now = now_millis();
        let until = now.saturating_add(lease_ms);
        let token = ClaimToken::new();
        let inserted = conn.execute(
            "INSERT INTO backpack_webhook_deliveries (key, token, lease_until, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING",
            params![key, token.as_str(), until, now],
        )?;
        if inserted == 1 {
            return Ok(Claim::Acquired(token));
        }
        let taken_over = conn.execute(
            "UPDATE backpack_webhook_deliveries SET token = ?2, lease_until = ?3
             WHERE key = ?1 AND token IS NOT NULL AND lease_until <= ?4",
            params![key, token.as_str(), until, now],
        )?;
        if taken_over == 1 {
            return Ok(Claim::Acquired(token));
        }
        let row: Option<StoredRow> = conn
            .query_row(
                "SELECT token, status, body FROM backpack_webhook_deliveries WHERE key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match row {
            None => continue,
            Some((Some(_), _, _)) => return Ok(Claim::InProgress),
            Some((None, status, body)) => {
                let status = status.and_then(|s| u16::try_from(s).ok()).ok_or(
                    rusqlite::Error::InvalidColumnType(
                        1,
                        "status".into(),
                        rusqlite::types::Type::Null,
                    ),
                )?;
                return Ok(Claim::Done(StoredAnswer {
                    status,
                    body: Bytes::from(body.unwrap_or_default()),
                }));
            }
        }
    }
    Ok(Claim::InProgress)
}

impl DedupStore for SqliteStore {
    fn claim(
        &self,
        key: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        let cached = self.recorded(key);
        let key = key.to_owned();
        let lease_ms = lease_millis(lease);
        let store = self.clone();
        async move {
            if let Some(answer) = cached {
                return Ok(Claim::Done(answer));
            }
            let db_key = key.clone();
            let claim = store
                .run(move |conn| claim_blocking(conn, &db_key, lease_ms))
                .await?;
            if let Claim::Done(answer) = &claim {
                store.remember(key, answer.clone());
            }
            Ok(claim)
        }
    }

    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let update = self.owned_update(
            "UPDATE backpack_webhook_deliveries
             SET token = NULL, lease_until = NULL, completed_at = ?3, status = ?4, body = ?5
             WHERE key = ?1 AND token = ?2",
            key,
            token,
            Some((now_millis(), Some((answer.status, answer.body.clone())))),
        );
        let (store, key, answer) = (self.clone(), key.to_owned(), answer.clone());
        async move {
            update.await?;
            store.remember(key, answer);
            Ok(())
        }
    }

    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.owned_update(
            "DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token = ?2",
            key,
            token,
            None,
        )
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        let key = key.to_owned();
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM backpack_webhook_deliveries WHERE key = ?1 AND token IS NULL",
                params![key],
            )
        })
        .await?;
        Ok(())
    }

    async fn purge_completed_before(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let cutoff = unix_millis(cutoff);
        let purged = self
            .run(move |conn| {
                conn.execute(
                    "DELETE FROM backpack_webhook_deliveries
                     WHERE token IS NULL AND completed_at <= ?1",
                    params![cutoff],
                )
            })
            .await?;
        // Purged keys must be forgotten here too; what is still recorded is re-read on demand.
        self.done.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(purged as u64)
    }

    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.owned_update(
            "UPDATE backpack_webhook_deliveries SET lease_until = ?3
             WHERE key = ?1 AND token = ?2",
            key,
            token,
            Some((now_millis().saturating_add(lease_millis(lease)), None)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn claim_complete_replay_release() {
        let store = SqliteStore::open_in_memory().unwrap();
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
    async fn recorded_answers_are_replayed_from_memory_and_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dedup.sqlite3");
        let store = SqliteStore::open(&path).unwrap();
        let Claim::Acquired(t) = store.claim("k", LEASE).await.unwrap() else {
            panic!("expected Acquired")
        };
        let answer = StoredAnswer::empty(204);
        store.complete("k", &t, &answer).await.unwrap();
        // Another handle on the same file sees the record (and then caches it)...
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(
            reopened.claim("k", LEASE).await.unwrap(),
            Claim::Done(answer.clone())
        );
        // ...and the replay path no longer needs the database: remove the row behind its back.
        store
            .run(|conn| conn.execute("DELETE FROM backpack_webhook_deliveries", []))
            .await
            .unwrap();
        assert_eq!(
            store.claim("k", LEASE).await.unwrap(),
            Claim::Done(answer.clone())
        );
        assert_eq!(
            reopened.claim("k", LEASE).await.unwrap(),
            Claim::Done(answer)
        );
        // A fresh handle reads the file, where the row is gone.
        let fresh = SqliteStore::open(&path).unwrap();
        assert!(matches!(
            fresh.claim("k", LEASE).await.unwrap(),
            Claim::Acquired(_)
        ));
    }

    #[tokio::test]
    async fn expired_claim_is_taken_over() {
        let store = SqliteStore::open_in_memory().unwrap();
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
        let store = SqliteStore::open_in_memory().unwrap();
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
