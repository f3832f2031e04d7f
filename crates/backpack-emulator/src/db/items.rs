//! The `items` and `moves` tables: the Backpack items of each user, and every move of an item
//! to the game or to Xsolla Wallet.

use sqlx::sqlite::SqliteConnection;
use sqlx::{Connection, Row};

use super::DbError;
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
#[derive(Debug, Clone, PartialEq, Default, serde::Deserialize)]
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

/// An item as a JSON object with [`ItemRow`]'s field names, which queries read as one value per
/// row: sqlx copies and allocates every value it hands over, and 21 values per row made a
/// listing of 1,000 items cost three times the rest of the request.
macro_rules! item_json {
    () => {
        "json_object('item_id', item_id, 'merchant_id', merchant_id, 'project_id', project_id,
            'user_id', user_id, 'item_type', item_type, 'item_sku', item_sku,
            'item_name', item_name, 'image_url', image_url, 'description', description,
            'game_name', game_name, 'game_image_url', game_image_url,
            'external_game_id', external_game_id, 'platform', platform, 'price', price,
            'currency', currency, 'quantity', quantity, 'code', code, 'promo_code', promo_code,
            'is_external_vc',
                json(CASE WHEN is_external_vc THEN 'true' WHEN NOT is_external_vc THEN 'false' END),
            'item_status', item_status, 'created_at', created_at)"
    };
}

/// The items a query selects as one `item_json` object per row.
async fn fetch_items(
    query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    conn: &mut SqliteConnection,
) -> Result<Vec<ItemRow>, DbError> {
    let rows = query.fetch_all(conn).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(serde_json::from_str(row.try_get(0)?)?);
    }
    Ok(items)
}

/// Stores items, all or nothing.
pub async fn insert_items(conn: &mut SqliteConnection, items: &[ItemRow]) -> Result<(), DbError> {
    let mut tx = conn.begin().await?;
    for item in items {
        sqlx::query(
            "INSERT INTO items (item_id, merchant_id, project_id, user_id, item_type, item_sku,
                 item_name, image_url, description, game_name, game_image_url, external_game_id,
                 platform, price, currency, quantity, code, promo_code, is_external_vc,
                 item_status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20, ?21)",
        )
        .bind(&item.item_id)
        .bind(item.merchant_id)
        .bind(item.project_id)
        .bind(&item.user_id)
        .bind(&item.item_type)
        .bind(&item.item_sku)
        .bind(&item.item_name)
        .bind(&item.image_url)
        .bind(&item.description)
        .bind(&item.game_name)
        .bind(&item.game_image_url)
        .bind(&item.external_game_id)
        .bind(&item.platform)
        .bind(item.price)
        .bind(&item.currency)
        .bind(item.quantity)
        .bind(&item.code)
        .bind(&item.promo_code)
        .bind(item.is_external_vc)
        .bind(&item.item_status)
        .bind(&item.created_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// SQLite's "no limit".
fn sql_limit(limit: Option<u32>) -> i64 {
    limit.map_or(-1, i64::from)
}

/// A user's items in one project, oldest first (`limit` `None` = all).
pub async fn list_project_items(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
    user_id: &str,
    offset: u32,
    limit: Option<u32>,
) -> Result<Vec<ItemRow>, DbError> {
    let query = sqlx::query(concat!(
        "SELECT ",
        item_json!(),
        " FROM items WHERE merchant_id = ?1 AND project_id = ?2 AND user_id = ?3
          ORDER BY seq LIMIT ?4 OFFSET ?5"
    ))
    .bind(merchant_id)
    .bind(project_id)
    .bind(user_id)
    .bind(sql_limit(limit))
    .bind(offset);
    fetch_items(query, conn).await
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

/// The user-facing list's query, ordered by `$order`.
macro_rules! user_items_query {
    ($order:literal) => {
        concat!(
            "SELECT ",
            item_json!(),
            " FROM items
              WHERE user_id = ?1
                AND (json_array_length(?2) = 0
                     OR item_type IN (SELECT value FROM json_each(?2)))
              ORDER BY ",
            $order,
            " LIMIT ?3 OFFSET ?4"
        )
    };
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

    fn query(self) -> &'static str {
        match self {
            Self::None => user_items_query!("seq"),
            Self::GameName => user_items_query!("game_name IS NULL, game_name, seq"),
            Self::ExternalGameId => {
                user_items_query!("external_game_id IS NULL, external_game_id, seq")
            }
            Self::ItemType => user_items_query!("item_type, seq"),
        }
    }
}

/// A user's items across projects, optionally filtered by type.
pub async fn list_user_items(
    conn: &mut SqliteConnection,
    user_id: &str,
    item_types: &[String],
    grouping: Grouping,
    offset: u32,
    limit: u32,
) -> Result<Vec<ItemRow>, DbError> {
    // The type filter is a fixed set of known words (checked by the router), so it is passed as
    // a JSON array and matched with json_each rather than spliced into the SQL.
    let types = serde_json::to_string(item_types).unwrap_or_else(|_| "[]".to_owned());
    let query = sqlx::query(grouping.query())
        .bind(user_id)
        .bind(types)
        .bind(limit)
        .bind(offset);
    fetch_items(query, conn).await
}

/// One item of a user.
pub async fn user_item(
    conn: &mut SqliteConnection,
    user_id: &str,
    item_id: &str,
) -> Result<Option<ItemRow>, DbError> {
    let query = sqlx::query(concat!(
        "SELECT ",
        item_json!(),
        " FROM items WHERE user_id = ?1 AND item_id = ?2"
    ))
    .bind(user_id)
    .bind(item_id);
    Ok(fetch_items(query, conn).await?.pop())
}

/// Deletes an item; `false` if it is not there.
pub async fn delete_item(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
    user_id: &str,
    item_id: &str,
) -> Result<bool, DbError> {
    let changed = sqlx::query(
        "DELETE FROM items
         WHERE merchant_id = ?1 AND project_id = ?2 AND user_id = ?3 AND item_id = ?4",
    )
    .bind(merchant_id)
    .bind(project_id)
    .bind(user_id)
    .bind(item_id)
    .execute(conn)
    .await?
    .rows_affected();
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
pub async fn commit_move(
    conn: &mut SqliteConnection,
    item: &ItemRow,
    user_game_id: Option<&str>,
    target: MoveTarget,
    now_text: &str,
    now_ms: i64,
    delivery: impl FnOnce(i64) -> Option<NewDelivery>,
) -> Result<MoveOutcome, DbError> {
    let mut tx = conn.begin().await?;
    let changed = sqlx::query(
        "UPDATE items SET item_status = ?1 WHERE item_id = ?2 AND user_id = ?3 AND item_status = ?4",
    )
    .bind(target.status())
    .bind(&item.item_id)
    .bind(&item.user_id)
    .bind(AVAILABLE)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        tx.rollback().await?;
        return Ok(MoveOutcome::NotAvailable);
    }
    let move_id = sqlx::query(
        "INSERT INTO moves (item_id, user_id, user_game_id, target, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(&item.item_id)
    .bind(&item.user_id)
    .bind(user_game_id)
    .bind(target.word())
    .bind(now_text)
    .execute(&mut *tx)
    .await?
    .last_insert_rowid();
    let delivery_id = match delivery(move_id) {
        Some(d) => Some(store::enqueue(&mut tx, &d, now_ms).await?),
        None => None,
    };
    tx.commit().await?;
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
    use crate::schedule::ResendSchedule;

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
        let db = Db::open(&dir.path().join("db.sqlite")).await.unwrap();
        let rows = vec![
            item("a", "u1", "virtual_item"),
            item("b", "u1", "virtual_currency"),
            item("c", "u2", "virtual_item"),
        ];
        insert_items(&mut db.writer().await.unwrap(), &rows)
            .await
            .unwrap();
        let mut c = db.reader().await.unwrap();
        let all = list_project_items(&mut c, 1, 2, "u1", 0, None)
            .await
            .unwrap();
        assert_eq!(all, rows[..2]);
        let vc = list_user_items(
            &mut c,
            "u1",
            &["virtual_currency".into()],
            Grouping::None,
            0,
            50,
        )
        .await
        .unwrap();
        assert_eq!(vc.len(), 1);
        assert_eq!(vc[0].item_id, "b");
        let page = list_project_items(&mut c, 1, 2, "u1", 1, Some(5))
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].item_id, "b");
    }

    /// Every column comes back as it was stored, the optional ones too.
    #[tokio::test]
    async fn every_column_round_trips() {
        let db = Db::open_in_memory().await.unwrap();
        let full = ItemRow {
            description: Some("d".into()),
            game_name: Some("g".into()),
            game_image_url: Some("https://example.com/g.png".into()),
            external_game_id: Some("ext".into()),
            platform: Some("steam".into()),
            price: Some(1.5),
            currency: Some("USD".into()),
            quantity: Some(7),
            code: Some("KEY".into()),
            promo_code: Some("PROMO".into()),
            is_external_vc: Some(true),
            merchant_id: u32::MAX,
            ..item("full", "u1", "virtual_currency")
        };
        insert_items(&mut db.writer().await.unwrap(), std::slice::from_ref(&full))
            .await
            .unwrap();
        let read = user_item(&mut db.reader().await.unwrap(), "u1", "full")
            .await
            .unwrap();
        assert_eq!(read.as_ref(), Some(&full));
    }

    /// Listings (built as JSON by SQLite) return every column as stored: booleans, a price
    /// that needs all 17 digits, absent values, and the requested order and page.
    #[tokio::test]
    async fn listings_return_every_column_as_stored() {
        let db = Db::open_in_memory().await.unwrap();
        let full = ItemRow {
            description: Some("d \"quoted\" ü".into()),
            game_name: Some("g".into()),
            external_game_id: Some("ext".into()),
            price: Some(0.1 + 0.2),
            currency: Some("USD".into()),
            quantity: Some(i64::MAX),
            is_external_vc: Some(false),
            merchant_id: u32::MAX,
            ..item("full", "u1", "virtual_currency")
        };
        let flagged = ItemRow {
            is_external_vc: Some(true),
            merchant_id: u32::MAX,
            ..item("flagged", "u1", "virtual_item")
        };
        let bare = ItemRow {
            merchant_id: u32::MAX,
            ..item("bare", "u1", "game_key")
        };
        let rows = vec![full, flagged, bare];
        insert_items(&mut db.writer().await.unwrap(), &rows)
            .await
            .unwrap();
        let mut c = db.reader().await.unwrap();
        let listed = list_project_items(&mut c, u32::MAX, 2, "u1", 0, None)
            .await
            .unwrap();
        assert_eq!(listed, rows);
        let page = list_project_items(&mut c, u32::MAX, 2, "u1", 1, Some(1))
            .await
            .unwrap();
        assert_eq!(page, rows[1..2]);
        let by_type = list_user_items(&mut c, "u1", &[], Grouping::ItemType, 0, 50)
            .await
            .unwrap();
        let types: Vec<&str> = by_type.iter().map(|i| i.item_type.as_str()).collect();
        assert_eq!(types, ["game_key", "virtual_currency", "virtual_item"]);
        assert_eq!(by_type[1], rows[0]);
        let by_game = list_user_items(&mut c, "u1", &[], Grouping::GameName, 0, 50)
            .await
            .unwrap();
        let ids: Vec<&str> = by_game.iter().map(|i| i.item_id.as_str()).collect();
        assert_eq!(
            ids,
            ["full", "flagged", "bare"],
            "named games first, then creation order"
        );
        let none = list_user_items(&mut c, "nobody", &[], Grouping::None, 0, 50)
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    /// A failing insert stores none of the batch.
    #[tokio::test]
    async fn a_batch_is_all_or_nothing() {
        let db = Db::open_in_memory().await.unwrap();
        let rows = vec![
            item("a", "u1", "virtual_item"),
            item("a", "u1", "virtual_item"),
        ];
        assert!(
            insert_items(&mut db.writer().await.unwrap(), &rows)
                .await
                .is_err()
        );
        let stored = list_project_items(&mut db.reader().await.unwrap(), 1, 2, "u1", 0, None)
            .await
            .unwrap();
        assert!(stored.is_empty());
    }

    fn order_paid(n: i64) -> Option<NewDelivery> {
        Some(NewDelivery {
            notification_type: "order_paid".into(),
            body: format!("{{\"n\":{n}}}").into_bytes(),
            max_attempts: 20,
            first_attempt_at: 0,
            schedule: ResendSchedule::Order,
        })
    }

    #[tokio::test]
    async fn a_move_happens_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).await.unwrap();
        let row = item("a", "u1", "virtual_item");
        insert_items(&mut db.writer().await.unwrap(), std::slice::from_ref(&row))
            .await
            .unwrap();
        let mv = async || {
            commit_move(
                &mut db.writer().await.unwrap(),
                &row,
                Some("p1"),
                MoveTarget::Game,
                "t",
                0,
                order_paid,
            )
            .await
            .unwrap()
        };
        let first = mv().await;
        assert!(matches!(
            first,
            MoveOutcome::Moved {
                delivery_id: Some(_),
                ..
            }
        ));
        let second = mv().await;
        assert_eq!(second, MoveOutcome::NotAvailable);
        let mut c = db.reader().await.unwrap();
        let due = due_deliveries(&mut c, 0, &[], 10).await.unwrap();
        assert_eq!(due.len(), 1);
        let skipped = due_deliveries(&mut c, 0, &[due[0].id], 10).await.unwrap();
        assert!(skipped.is_empty());
    }

    /// A move whose delivery cannot be queued leaves the item available and no move recorded.
    #[tokio::test]
    async fn a_move_that_fails_midway_changes_nothing() {
        let db = Db::open_in_memory().await.unwrap();
        let row = item("a", "u1", "virtual_item");
        insert_items(&mut db.writer().await.unwrap(), std::slice::from_ref(&row))
            .await
            .unwrap();
        sqlx::raw_sql("DROP TABLE outbox")
            .execute(&mut *db.writer().await.unwrap())
            .await
            .unwrap();
        let failed = commit_move(
            &mut db.writer().await.unwrap(),
            &row,
            Some("p1"),
            MoveTarget::Game,
            "t",
            0,
            order_paid,
        )
        .await;
        assert!(failed.is_err());
        let mut c = db.reader().await.unwrap();
        let after = user_item(&mut c, "u1", "a").await.unwrap().unwrap();
        assert_eq!(after.item_status, AVAILABLE);
        let moves: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM moves")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(moves, 0);
    }
}
