//! The emulator's state in SQLite, one module per table family: [`games`], [`items`] (Backpack
//! items and their moves), [`tokens`] (refresh tokens), and a little metadata here. The
//! webhook outbox's SQL lives next to its worker, in [`crate::outbox::store`].
//!
//! A file database is in WAL mode with `synchronous=FULL`, and every mutation is its own
//! committed transaction, so the state survives a restart, also after SIGKILL. One writer
//! connection and a few read-only connections (WAL lets readers run beside the writer); every
//! call runs on [`tokio::task::spawn_blocking`].

pub mod games;
pub mod items;
pub mod tokens;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::outbox::store;

// The API and token code use these as `db::…`.
pub use self::games::*;
pub use self::items::*;
pub use self::tokens::*;
pub use crate::outbox::store::NewDelivery;

const META_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Number of read-only connections.
const READERS: usize = 2;

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The blocking task died.
    #[error("database task failed")]
    Join,
}

/// The emulator database.
pub struct Db {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

fn lock(mutex: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves no half-done transaction behind (rusqlite rolls an
    // unfinished transaction back on drop), so the connection is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates the tables, adds columns that older files lack, and proves the database is
/// writable.
fn prepare(writer: &Connection) -> rusqlite::Result<()> {
    for schema in [
        META_SCHEMA,
        games::SCHEMA,
        items::SCHEMA,
        store::SCHEMA,
        tokens::SCHEMA,
    ] {
        writer.execute_batch(schema)?;
    }
    store::migrate(writer)?;
    // SQLite silently opens a read-only file read-only; a write now fails loudly instead of
    // on the first API call.
    writer.execute(
        "INSERT INTO meta (key, value) VALUES ('opened', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        [],
    )?;
    Ok(())
}

impl Db {
    /// Opens (or creates) the database, creates the tables, and proves the file is writable.
    pub fn open(path: &Path) -> Result<Arc<Self>, DbError> {
        let writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        writer.busy_timeout(Duration::from_secs(5))?;
        let _mode: String = writer.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
        writer.execute_batch("PRAGMA synchronous=FULL;")?;
        prepare(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.busy_timeout(Duration::from_secs(5))?;
            readers.push(Mutex::new(reader));
        }
        Ok(Arc::new(Self {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        }))
    }

    /// A private in-memory database (gone when dropped). One connection serves reads and
    /// writes: separate connections cannot share a private in-memory database.
    pub fn open_in_memory() -> Result<Arc<Self>, DbError> {
        let writer = Connection::open_in_memory()?;
        prepare(&writer)?;
        Ok(Arc::new(Self {
            writer: Mutex::new(writer),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
        }))
    }

    /// Runs `f` on the writer connection (callers wrap several statements in a transaction).
    pub async fn write<R, F>(self: &Arc<Self>, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&db.writer);
            f(&mut conn)
        })
        .await
        .map_err(|_| DbError::Join)?
        .map_err(DbError::from)
    }

    /// Runs `f` on a read-only connection.
    pub async fn read<R, F>(self: &Arc<Self>, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let count = db.readers.len();
            if count == 0 {
                return f(&lock(&db.writer));
            }
            let start = db.next_reader.fetch_add(1, Ordering::Relaxed);
            // Prefer an idle reader; otherwise wait for the one whose turn it is.
            let guard = (0..count)
                .find_map(|i| db.readers[(start + i) % count].try_lock().ok())
                .unwrap_or_else(|| lock(&db.readers[start % count]));
            f(&guard)
        })
        .await
        .map_err(|_| DbError::Join)?
        .map_err(DbError::from)
    }

    /// A metadata value, created with `make` the first time.
    pub async fn meta_or_insert(
        self: &Arc<Self>,
        key: &'static str,
        make: impl FnOnce() -> String + Send + 'static,
    ) -> Result<String, DbError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let existing: Option<String> = tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()?;
            let value = match existing {
                Some(value) => value,
                None => {
                    let value = make();
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                        params![key, value],
                    )?;
                    value
                }
            };
            tx.commit()?;
            Ok(value)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_outbox_from_before_retry_policies_gets_the_order_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT, notification_type TEXT NOT NULL,
                body BLOB NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
                last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL);
             INSERT INTO outbox (notification_type, body, state, max_attempts, next_attempt_at,
                                 created_at, updated_at)
             VALUES ('order_paid', X'7B7D', 'pending', 20, 0, 0, 0);",
        )
        .unwrap();
        drop(old);
        let db = Db::open(&path).unwrap();
        let rows = db.read(store::list_outbox).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].policy, "order");
        let due = db
            .read(|c| store::due_deliveries(c, 0, &[], 10))
            .await
            .unwrap();
        assert_eq!(due[0].policy, crate::schedule::RetryPolicy::Order);
    }

    #[test]
    fn unwritable_path_fails_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(Db::open(&file.join("db.sqlite")).is_err());
    }
}
