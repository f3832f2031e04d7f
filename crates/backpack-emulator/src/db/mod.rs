//! The emulator's state in SQLite, one module per table family: [`games`], [`items`] (Backpack
//! items and their moves), [`tokens`] (refresh tokens), and a little metadata here. The
//! webhook outbox's SQL lives next to its worker, in [`crate::outbox::store`].
//!
//! A file database is in WAL mode with `synchronous=FULL`, and every mutation is its own
//! committed transaction, so the state survives a restart, also after SIGKILL. One writer
//! connection and a few read-only connections (WAL lets readers run beside the writer). The
//! in-memory database has one connection for reads and writes. Connections are sqlx's SQLite
//! driver (each runs SQLite on a thread of its own); the functions of the table modules take
//! one connection and run their statements on it, inside a transaction where they change more
//! than one row.

pub mod games;
pub mod items;
pub mod tokens;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

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

/// Number of read-only connections to a database file.
const READERS: u32 = 2;
/// How long a statement waits for another process's lock on the file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows a connection's SQLite thread may hand over before waiting for them to be taken: a whole
/// Backpack listing, so that the thread does not stop and wake the caller every few rows.
const ROW_BUFFER: usize = 1024;

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite (or the connection pool) refused.
    #[error("database error: {0}")]
    Sqlite(#[from] sqlx::Error),
    /// Stored data did not have the expected shape.
    #[error("stored data cannot be read: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// A connection from the emulator's pools (derefs to [`SqliteConnection`]).
pub type Conn = PoolConnection<Sqlite>;

/// The emulator database.
pub struct Db {
    /// The one writer connection (one in-process writer: no `SQLITE_BUSY` between our own
    /// transactions).
    writer: SqlitePool,
    /// Read-only connections to the file; `None` in memory, where the writer reads too.
    readers: Option<SqlitePool>,
    /// An in-memory database exists while a connection to it is open: this one is never used,
    /// so the data outlives whatever the pool does with its own connection.
    _keep_alive: Option<Mutex<SqliteConnection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

/// A pool of `size` connections that stay open: local SQLite connections do not go stale, and
/// reopening an in-memory database would lose it.
fn pool_options(size: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
}

/// Creates the tables, adds columns that older files lack, and proves the database is
/// writable.
async fn prepare(writer: &mut SqliteConnection) -> Result<(), DbError> {
    for schema in [
        META_SCHEMA,
        games::SCHEMA,
        items::SCHEMA,
        store::SCHEMA,
        tokens::SCHEMA,
    ] {
        sqlx::raw_sql(schema).execute(&mut *writer).await?;
    }
    store::migrate(writer).await?;
    // SQLite silently opens a read-only file read-only; a write now fails loudly instead of
    // on the first API call.
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('opened', '1')
         ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    )
    .execute(&mut *writer)
    .await?;
    Ok(())
}

impl Db {
    /// Opens (or creates) the database file, creates the tables, and proves the file is
    /// writable.
    pub async fn open(path: &Path) -> Result<Arc<Self>, DbError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .row_buffer_size(ROW_BUFFER);
        let writer = pool_options(1)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full),
            )
            .await?;
        prepare(&mut *writer.acquire().await?).await?;
        // Opened after the writer has created the file and switched it to WAL.
        let readers = pool_options(READERS)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Arc::new(Self {
            writer,
            readers: Some(readers),
            _keep_alive: None,
        }))
    }

    /// A private in-memory database (gone when dropped). One connection serves reads and
    /// writes.
    pub async fn open_in_memory() -> Result<Arc<Self>, DbError> {
        // A shared-cache database with a name unique to this call, so that the keep-alive
        // connection and the pool's see the same data, and no other `Db` does.
        let options =
            SqliteConnectOptions::from_str("sqlite::memory:")?.row_buffer_size(ROW_BUFFER);
        let keep_alive = options.connect().await?;
        let writer = pool_options(1).connect_with(options).await?;
        prepare(&mut *writer.acquire().await?).await?;
        Ok(Arc::new(Self {
            writer,
            readers: None,
            _keep_alive: Some(Mutex::new(keep_alive)),
        }))
    }

    /// The writer connection, for as long as the caller holds it (callers wrap several
    /// statements in a transaction, and hold it for no longer than their statements).
    pub async fn writer(&self) -> Result<Conn, DbError> {
        Ok(self.writer.acquire().await?)
    }

    /// A read-only connection (the writer, in memory).
    pub async fn reader(&self) -> Result<Conn, DbError> {
        Ok(self
            .readers
            .as_ref()
            .unwrap_or(&self.writer)
            .acquire()
            .await?)
    }

    /// A metadata value, created with `make` the first time.
    pub async fn meta_or_insert(
        &self,
        key: &'static str,
        make: impl FnOnce() -> String,
    ) -> Result<String, DbError> {
        let mut conn = self.writer().await?;
        let mut tx = conn.begin().await?;
        let existing: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
        let value = match existing {
            Some(value) => value,
            None => {
                let value = make();
                sqlx::query("INSERT INTO meta (key, value) VALUES (?1, ?2)")
                    .bind(key)
                    .bind(&value)
                    .execute(&mut *tx)
                    .await?;
                value
            }
        };
        tx.commit().await?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_outbox_from_before_retry_policies_gets_the_order_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let mut old = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(
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
        .execute(&mut old)
        .await
        .unwrap();
        old.close().await.unwrap();
        let db = Db::open(&path).await.unwrap();
        let rows = store::list_outbox(&mut db.reader().await.unwrap())
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].policy, "order");
        let due = store::due_deliveries(&mut db.reader().await.unwrap(), 0, &[], 10)
            .await
            .unwrap();
        assert_eq!(due[0].schedule, crate::schedule::ResendSchedule::Order);
    }

    #[tokio::test]
    async fn unwritable_path_fails_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(Db::open(&file.join("db.sqlite")).await.is_err());
    }

    /// Every connection of the in-memory database sees one database, and two emulators' do
    /// not see each other's.
    #[tokio::test]
    async fn in_memory_databases_are_one_each() {
        let a = Db::open_in_memory().await.unwrap();
        let b = Db::open_in_memory().await.unwrap();
        let key = a.meta_or_insert("k", || "a".to_owned()).await.unwrap();
        assert_eq!(key, "a");
        let again = a.meta_or_insert("k", || "other".to_owned()).await.unwrap();
        assert_eq!(again, "a");
        let other = b.meta_or_insert("k", || "b".to_owned()).await.unwrap();
        assert_eq!(other, "b");
        let read: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'k'")
            .fetch_one(&mut *a.reader().await.unwrap())
            .await
            .unwrap();
        assert_eq!(read, "a");
    }

    /// The data outlives the pool's connection: the keep-alive connection holds the database.
    #[tokio::test]
    async fn in_memory_data_survives_the_pool_connection_closing() {
        let db = Db::open_in_memory().await.unwrap();
        db.meta_or_insert("k", || "v".to_owned()).await.unwrap();
        db.writer().await.unwrap().close().await.unwrap();
        let value = db.meta_or_insert("k", || "new".to_owned()).await.unwrap();
        assert_eq!(value, "v");
    }

    /// Readers of a file see what the writer committed.
    #[tokio::test]
    async fn file_readers_see_committed_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).await.unwrap();
        db.meta_or_insert("k", || "v".to_owned()).await.unwrap();
        let mut readers = Vec::new();
        for _ in 0..READERS {
            readers.push(db.reader().await.unwrap());
        }
        for reader in &mut readers {
            let value: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'k'")
                .fetch_one(&mut **reader)
                .await
                .unwrap();
            assert_eq!(value, "v");
        }
        let refused = sqlx::query("INSERT INTO meta (key, value) VALUES ('x', 'y')")
            .execute(&mut *readers[0])
            .await;
        assert!(refused.is_err(), "readers are read-only");
    }
}
