//! The `items` and `moves` tables: the Backpack items of each user, and every move of an item
//! to the game or to Xsolla Wallet.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::outbox::store::{self, NewDelivery};

/// The items and moves tables.
pub(crate) const SCHEMA: &str = "
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
";

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
        Some(d) => Some(store::enqueue(&tx, &d, now_ms)?),
        None => None,
    };
    tx.commit()?;
    Ok(MoveOutcome::Moved {
        move_id,
        delivery_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::outbox::store::due_deliveries;
    use crate::schedule::RetryPolicy;

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
}
