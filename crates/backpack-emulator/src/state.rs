//! The emulator's state in SQLite: games, Backpack items, moves, the webhook outbox, refresh
//! tokens and a little metadata.
//!
//! The file is in WAL mode with `synchronous=FULL`, and every mutation is its own committed
//! transaction, so the state survives a restart, also after SIGKILL. One writer connection and a
//! few read-only connections (WAL lets readers run beside the writer); every call runs on
//! [`tokio::task::spawn_blocking`].

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use crate::schedule::RetryPolicy;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    merchant_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    external_game_id TEXT,
    game_name TEXT,
    game_image_url TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (merchant_id, project_id, external_game_id)
);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL UNIQUE,
    merchant_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    item_type TEXT NOT NULL,
    item_sku TEXT NOT NULL,
    item_name TEXT NOT NULL,
    image_url TEXT NOT NULL,
    description TEXT,
    game_name TEXT,
    game_image_url TEXT,
    external_game_id TEXT,
    platform TEXT,
    price REAL,
    currency TEXT,
    quantity INTEGER,
    code TEXT,
    promo_code TEXT,
    is_external_vc INTEGER,
    item_status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_owner ON items (merchant_id, project_id, user_id, seq);
CREATE INDEX IF NOT EXISTS items_by_user ON items (user_id, seq);
CREATE TABLE IF NOT EXISTS moves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_game_id TEXT,
    target TEXT NOT NULL,
    created_at TEXT NOT NULL
);
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
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
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
    writer.execute_batch(SCHEMA)?;
    let has_policy: bool = writer.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('outbox') WHERE name = 'policy'",
        [],
        |row| row.get(0),
    )?;
    if !has_policy {
        writer
            .execute_batch("ALTER TABLE outbox ADD COLUMN policy TEXT NOT NULL DEFAULT 'order'")?;
    }
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

/// A game entity.
#[derive(Debug, Clone, PartialEq)]
pub struct GameRow {
    /// Emulator-assigned ID (a UUID).
    pub id: String,
    /// `external_game_id`.
    pub external_game_id: Option<String>,
    /// `game_name`.
    pub game_name: Option<String>,
    /// `game_image_url`.
    pub game_image_url: Option<String>,
}

/// Result of inserting a game.
#[derive(Debug, Clone, PartialEq)]
pub enum GameInsert {
    /// Created with this ID.
    Created(String),
    /// A game with that `external_game_id` exists in the project.
    Duplicate,
}

/// Stores a new game.
pub fn insert_game(
    conn: &mut Connection,
    merchant_id: u32,
    project_id: u32,
    game: &GameRow,
    created_at: &str,
) -> rusqlite::Result<GameInsert> {
    let result = conn.execute(
        "INSERT INTO games (id, merchant_id, project_id, external_game_id, game_name,
                            game_image_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            game.id,
            merchant_id,
            project_id,
            game.external_game_id,
            game.game_name,
            game.game_image_url,
            created_at
        ],
    );
    match result {
        Ok(_) => Ok(GameInsert::Created(game.id.clone())),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(GameInsert::Duplicate)
        }
        Err(e) => Err(e),
    }
}

fn game_from_row(row: &Row<'_>) -> rusqlite::Result<GameRow> {
    Ok(GameRow {
        id: row.get(0)?,
        external_game_id: row.get(1)?,
        game_name: row.get(2)?,
        game_image_url: row.get(3)?,
    })
}

/// The project's games, oldest first.
pub fn list_games(
    conn: &Connection,
    merchant_id: u32,
    project_id: u32,
) -> rusqlite::Result<Vec<GameRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![merchant_id, project_id], game_from_row)?;
    rows.collect()
}

/// The project's game with this external ID.
pub fn game_by_external_id(
    conn: &Connection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
) -> rusqlite::Result<Option<GameRow>> {
    conn.query_row(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
        params![merchant_id, project_id, external_game_id],
        game_from_row,
    )
    .optional()
}

/// Updates the given fields of a game; `false` if there is no such game.
pub fn update_game(
    conn: &mut Connection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
    game_name: Option<&str>,
    game_image_url: Option<&str>,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE games SET game_name = COALESCE(?4, game_name),
                          game_image_url = COALESCE(?5, game_image_url)
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
        params![
            merchant_id,
            project_id,
            external_game_id,
            game_name,
            game_image_url
        ],
    )?;
    Ok(changed > 0)
}

/// One item in a user's Backpack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemRow {
    /// `item_id` (a UUID).
    pub item_id: String,
    /// Publisher Account merchant ID.
    pub merchant_id: u32,
    /// Publisher Account project ID.
    pub project_id: u32,
    /// The Backpack user (a UUID).
    pub user_id: String,
    /// `game_key`, `virtual_item`, `virtual_currency` or `promo_code`.
    pub item_type: String,
    /// SKU.
    pub item_sku: String,
    /// Name.
    pub item_name: String,
    /// Image URL.
    pub image_url: String,
    /// Description.
    pub description: Option<String>,
    /// Game name.
    pub game_name: Option<String>,
    /// Game image URL.
    pub game_image_url: Option<String>,
    /// External game ID.
    pub external_game_id: Option<String>,
    /// Platform.
    pub platform: Option<String>,
    /// Price (virtual currency).
    pub price: Option<f64>,
    /// Currency of the price.
    pub currency: Option<String>,
    /// Quantity (virtual currency).
    pub quantity: Option<i64>,
    /// Game key.
    pub code: Option<String>,
    /// Promo code.
    pub promo_code: Option<String>,
    /// `is_external_vc` (virtual currency).
    pub is_external_vc: Option<bool>,
    /// `available`, `moved_to_game` or `moved_to_wallet`.
    pub item_status: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

const ITEM_COLUMNS: &str = "item_id, merchant_id, project_id, user_id, item_type, item_sku,
    item_name, image_url, description, game_name, game_image_url, external_game_id, platform,
    price, currency, quantity, code, promo_code, is_external_vc, item_status, created_at";

fn item_from_row(row: &Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        item_id: row.get(0)?,
        merchant_id: row.get(1)?,
        project_id: row.get(2)?,
        user_id: row.get(3)?,
        item_type: row.get(4)?,
        item_sku: row.get(5)?,
        item_name: row.get(6)?,
        image_url: row.get(7)?,
        description: row.get(8)?,
        game_name: row.get(9)?,
        game_image_url: row.get(10)?,
        external_game_id: row.get(11)?,
        platform: row.get(12)?,
        price: row.get(13)?,
        currency: row.get(14)?,
        quantity: row.get(15)?,
        code: row.get(16)?,
        promo_code: row.get(17)?,
        is_external_vc: row.get(18)?,
        item_status: row.get(19)?,
        created_at: row.get(20)?,
    })
}

/// Stores items, all or nothing.
pub fn insert_items(conn: &mut Connection, items: &[ItemRow]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO items ({ITEM_COLUMNS}) VALUES
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
              ?19, ?20, ?21)"
        ))?;
        for item in items {
            stmt.execute(params![
                item.item_id,
                item.merchant_id,
                item.project_id,
                item.user_id,
                item.item_type,
                item.item_sku,
                item.item_name,
                item.image_url,
                item.description,
                item.game_name,
                item.game_image_url,
                item.external_game_id,
                item.platform,
                item.price,
                item.currency,
                item.quantity,
                item.code,
                item.promo_code,
                item.is_external_vc,
                item.item_status,
                item.created_at,
            ])?;
        }
    }
    tx.commit()
}

/// SQLite's "no limit".
fn sql_limit(limit: Option<u32>) -> i64 {
    limit.map_or(-1, i64::from)
}

/// A user's items in one project, oldest first (`limit` `None` = all).
pub fn list_project_items(
    conn: &Connection,
    merchant_id: u32,
    project_id: u32,
    user_id: &str,
    offset: u32,
    limit: Option<u32>,
) -> rusqlite::Result<Vec<ItemRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM items
         WHERE merchant_id = ?1 AND project_id = ?2 AND user_id = ?3
         ORDER BY seq LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(
        params![merchant_id, project_id, user_id, sql_limit(limit), offset],
        item_from_row,
    )?;
    rows.collect()
}

/// How the user-facing list is ordered (`group=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// Creation order.
    None,
    /// By `game_name`, then creation order.
    GameName,
    /// By `external_game_id`, then creation order.
    ExternalGameId,
    /// By `item_type`, then creation order.
    ItemType,
}

impl Grouping {
    /// Parses a `group` query value.
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value {
            None => Some(Self::None),
            Some("game_name") => Some(Self::GameName),
            Some("external_game_id") => Some(Self::ExternalGameId),
            Some("item_type") => Some(Self::ItemType),
            Some(_) => None,
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            Self::None => "seq",
            Self::GameName => "game_name IS NULL, game_name, seq",
            Self::ExternalGameId => "external_game_id IS NULL, external_game_id, seq",
            Self::ItemType => "item_type, seq",
        }
    }
}

/// A user's items across projects, optionally filtered by type.
pub fn list_user_items(
    conn: &Connection,
    user_id: &str,
    item_types: &[String],
    grouping: Grouping,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<ItemRow>> {
    // The type filter is a fixed set of known words (checked by the router), so it is passed as
    // a JSON array and matched with json_each rather than spliced into the SQL.
    let types = serde_json::to_string(item_types).unwrap_or_else(|_| "[]".to_owned());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM items
         WHERE user_id = ?1
           AND (json_array_length(?2) = 0
                OR item_type IN (SELECT value FROM json_each(?2)))
         ORDER BY {} LIMIT ?3 OFFSET ?4",
        grouping.order_by()
    ))?;
    let rows = stmt.query_map(params![user_id, types, limit, offset], item_from_row)?;
    rows.collect()
}

/// One item of a user.
pub fn user_item(
    conn: &Connection,
    user_id: &str,
    item_id: &str,
) -> rusqlite::Result<Option<ItemRow>> {
    conn.query_row(
        &format!("SELECT {ITEM_COLUMNS} FROM items WHERE user_id = ?1 AND item_id = ?2"),
        params![user_id, item_id],
        item_from_row,
    )
    .optional()
}

/// Deletes an item; `false` if it is not there.
pub fn delete_item(
    conn: &mut Connection,
    merchant_id: u32,
    project_id: u32,
    user_id: &str,
    item_id: &str,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "DELETE FROM items
         WHERE merchant_id = ?1 AND project_id = ?2 AND user_id = ?3 AND item_id = ?4",
        params![merchant_id, project_id, user_id, item_id],
    )?;
    Ok(changed > 0)
}

/// Where an item moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTarget {
    /// Into the game (webhooks are sent).
    Game,
    /// Into Xsolla Wallet.
    Wallet,
}

impl MoveTarget {
    fn word(self) -> &'static str {
        match self {
            Self::Game => "game",
            Self::Wallet => "wallet",
        }
    }

    /// The item's status after the move.
    pub fn status(self) -> &'static str {
        match self {
            Self::Game => "moved_to_game",
            Self::Wallet => "moved_to_wallet",
        }
    }
}

/// Status of an item that can be moved.
pub const AVAILABLE: &str = "available";

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

/// Result of [`commit_move`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveOutcome {
    /// Moved; this is the move's sequence number (used for order IDs).
    Moved {
        /// The move's number.
        move_id: i64,
        /// The outbox row, when a delivery was queued.
        delivery_id: Option<i64>,
    },
    /// The item is no longer available (moved meanwhile, or deleted).
    NotAvailable,
}

/// Marks the item moved, records the move and queues the delivery built by `delivery` from the
/// move number — one transaction, so a crash leaves either all of it or nothing.
pub fn commit_move(
    conn: &mut Connection,
    item: &ItemRow,
    user_game_id: Option<&str>,
    target: MoveTarget,
    now_text: &str,
    now_ms: i64,
    delivery: impl FnOnce(i64) -> Option<NewDelivery>,
) -> rusqlite::Result<MoveOutcome> {
    let tx = conn.transaction()?;
    let changed = tx.execute(
        "UPDATE items SET item_status = ?1 WHERE item_id = ?2 AND user_id = ?3 AND item_status = ?4",
        params![target.status(), item.item_id, item.user_id, AVAILABLE],
    )?;
    if changed == 0 {
        return Ok(MoveOutcome::NotAvailable);
    }
    tx.execute(
        "INSERT INTO moves (item_id, user_id, user_game_id, target, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            item.item_id,
            item.user_id,
            user_game_id,
            target.word(),
            now_text
        ],
    )?;
    let move_id = tx.last_insert_rowid();
    let delivery_id = match delivery(move_id) {
        Some(d) => Some(enqueue(&tx, &d, now_ms)?),
        None => None,
    };
    tx.commit()?;
    Ok(MoveOutcome::Moved {
        move_id,
        delivery_id,
    })
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

/// Stores a refresh token (by hash).
pub fn insert_refresh_token(
    conn: &mut Connection,
    hash: &str,
    user_id: &str,
    client_id: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO refresh_tokens (hash, user_id, client_id, used, created_at)
         VALUES (?1, ?2, ?3, 0, ?4)",
        params![hash, user_id, client_id, now_ms],
    )?;
    Ok(())
}

/// Uses a refresh token up: the user it was issued for, if it was valid and unused for this
/// client.
pub fn use_refresh_token(
    conn: &mut Connection,
    hash: &str,
    client_id: &str,
) -> rusqlite::Result<Option<String>> {
    let tx = conn.transaction()?;
    let user: Option<String> = tx
        .query_row(
            "SELECT user_id FROM refresh_tokens WHERE hash = ?1 AND client_id = ?2 AND used = 0",
            params![hash, client_id],
            |row| row.get(0),
        )
        .optional()?;
    if user.is_some() {
        tx.execute(
            "UPDATE refresh_tokens SET used = 1 WHERE hash = ?1",
            params![hash],
        )?;
    }
    tx.commit()?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, user: &str, kind: &str) -> ItemRow {
        ItemRow {
            item_id: id.into(),
            merchant_id: 1,
            project_id: 2,
            user_id: user.into(),
            item_type: kind.into(),
            item_sku: "sku".into(),
            item_name: "name".into(),
            image_url: "https://example.com/i.png".into(),
            item_status: AVAILABLE.into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            ..ItemRow::default()
        }
    }

    #[tokio::test]
    async fn items_round_trip_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        let rows = vec![
            item("a", "u1", "virtual_item"),
            item("b", "u1", "virtual_currency"),
            item("c", "u2", "virtual_item"),
        ];
        db.write(move |c| insert_items(c, &rows)).await.unwrap();
        let all = db
            .read(|c| list_project_items(c, 1, 2, "u1", 0, None))
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        let vc = db
            .read(|c| list_user_items(c, "u1", &["virtual_currency".into()], Grouping::None, 0, 50))
            .await
            .unwrap();
        assert_eq!(vc.len(), 1);
        assert_eq!(vc[0].item_id, "b");
        let page = db
            .read(|c| list_project_items(c, 1, 2, "u1", 1, Some(5)))
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].item_id, "b");
    }

    #[tokio::test]
    async fn a_move_happens_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        let row = item("a", "u1", "virtual_item");
        let rows = vec![row.clone()];
        db.write(move |c| insert_items(c, &rows)).await.unwrap();
        let mv = |row: ItemRow| {
            move |c: &mut Connection| {
                commit_move(c, &row, Some("p1"), MoveTarget::Game, "t", 0, |n| {
                    Some(NewDelivery {
                        notification_type: "order_paid".into(),
                        body: format!("{{\"n\":{n}}}").into_bytes(),
                        max_attempts: 20,
                        first_attempt_at: 0,
                        policy: RetryPolicy::Order,
                    })
                })
            }
        };
        let first = db.write(mv(row.clone())).await.unwrap();
        assert!(matches!(
            first,
            MoveOutcome::Moved {
                delivery_id: Some(_),
                ..
            }
        ));
        let second = db.write(mv(row)).await.unwrap();
        assert_eq!(second, MoveOutcome::NotAvailable);
        let due = db.read(|c| due_deliveries(c, 0, &[], 10)).await.unwrap();
        assert_eq!(due.len(), 1);
        let skipped = db
            .read(move |c| due_deliveries(c, 0, &[due[0].id], 10))
            .await
            .unwrap();
        assert!(skipped.is_empty());
    }

    #[test]
    fn unwritable_path_fails_to_open() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(Db::open(&file.join("db.sqlite")).is_err());
    }
}
