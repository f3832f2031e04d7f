//! Test fixture for `tests/crash.rs` (not a tool): a webhook receiver that grants every
//! `order_paid` into a `grants` table, so that a test can SIGKILL it at any moment and count
//! the grants afterwards.
//!
//! Environment:
//! * `FAULT_SECRET` — the webhook secret (required).
//! * `FAULT_MODE` — `tx` (a [`TransactionalReceiver`]: grant and answer in one transaction) or
//!   `plain` (a [`WebhookReceiver`] whose handler grants in its own write, then the receiver
//!   records the answer separately).
//! * `FAULT_SQLITE` — SQLite file holding both the dedup table and `grants`; or
//! * `FAULT_PG` — PostgreSQL URL (feature `postgres`, `tx` mode only), or
//! * `FAULT_MYSQL` — MySQL/MariaDB URL (feature `mysql`, `tx` mode only); on these two, grants go
//!   to the table named by `FAULT_GRANTS_TABLE` (created by the test).
//! * `FAULT_LEASE_MS`, `FAULT_WAIT_MS` — claim lease and in-progress wait.
//! * `FAULT_HANG_AFTER_GRANT=1` — after writing a grant, print `granted <order id>` and hang
//!   forever (so that the test kills the process at that exact point, without sleeping).
//!
//! Prints `listening <addr>` once it accepts connections (it binds `127.0.0.1:0`).

use std::net::SocketAddr;
use std::time::Duration;

use backpack_webhooks::sqlx::{self, AssertSqlSafe};
use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, OrderPaid, ReceiverConfig, SqliteStore,
    TransactionalHandler, TransactionalReceiver, WebhookEvent, WebhookHandler, WebhookReceiver,
    WebhookSecret,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn hang_after_grant(order_id: i64) {
    if std::env::var("FAULT_HANG_AFTER_GRANT").as_deref() == Ok("1") {
        println!("granted {order_id}");
        // Never returns: the test SIGKILLs the process now.
        loop {
            std::thread::park();
        }
    }
}

/// `tx` mode: the grant is written through the receiver's transaction, with `insert` (the
/// `INSERT` into the grants table, in the database's placeholder syntax).
struct TxGrants {
    insert: String,
}

/// One `TransactionalHandler` impl per database (the bodies are the same).
macro_rules! tx_grants {
    ($($(#[$cfg:meta])* $db:ty;)+) => {$(
        $(#[$cfg])*
        impl TransactionalHandler<$db> for TxGrants {
            async fn handle(
                &self,
                event: WebhookEvent,
                _delivery: &Delivery,
                tx: &mut sqlx::Transaction<'_, $db>,
            ) -> HandlerResult {
                if let WebhookEvent::OrderPaid(order) = event {
                    sqlx::query(AssertSqlSafe(self.insert.as_str()))
                        .bind(order.order.id)
                        .bind(sku(&order))
                        .bind(quantity(&order))
                        .execute(&mut **tx)
                        .await
                        .map_err(HandlerError::temporary)?;
                    hang_after_grant(order.order.id);
                }
                Ok(())
            }
        }
    )+};
}

tx_grants! {
    sqlx::Sqlite;
    #[cfg(feature = "postgres")]
    sqlx::Postgres;
    #[cfg(feature = "mysql")]
    sqlx::MySql;
}

/// `plain` mode: the grant is its own write; the receiver records the answer afterwards.
struct PlainGrants(sqlx::SqlitePool);

impl WebhookHandler for PlainGrants {
    async fn order_paid(&self, order: OrderPaid, _delivery: &Delivery) -> HandlerResult {
        sqlx::query("INSERT INTO grants (order_id, sku, quantity) VALUES (?, ?, ?)")
            .bind(order.order.id)
            .bind(sku(&order))
            .bind(quantity(&order))
            .execute(&self.0)
            .await
            .map_err(HandlerError::temporary)?;
        hang_after_grant(order.order.id);
        Ok(())
    }
}

fn sku(order: &OrderPaid) -> String {
    order
        .items
        .iter()
        .map(|i| i.sku.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn quantity(order: &OrderPaid) -> i64 {
    order.items.iter().map(|i| i.quantity).sum()
}

const SQLITE_GRANTS: &str = "CREATE TABLE IF NOT EXISTS grants (
    order_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL)";

fn millis(var: &str, default: u64) -> Duration {
    Duration::from_millis(
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

async fn serve(app: axum::Router) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// The `INSERT` into the test's grants table (`FAULT_GRANTS_TABLE`), with `$n` or `?`.
fn insert_into_table(numbered: bool) -> Result<String, Error> {
    let table = std::env::var("FAULT_GRANTS_TABLE")?;
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("FAULT_GRANTS_TABLE must be an identifier".into());
    }
    let values = if numbered { "$1, $2, $3" } else { "?, ?, ?" };
    Ok(format!(
        "INSERT INTO {table} (order_id, sku, quantity) VALUES ({values})"
    ))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let secret = WebhookSecret::from_env("FAULT_SECRET")?;
    let config = ReceiverConfig::default()
        .with_claim_lease(millis("FAULT_LEASE_MS", 1000))
        .with_in_progress_wait(millis("FAULT_WAIT_MS", 300));
    let mode = std::env::var("FAULT_MODE").unwrap_or_default();
    if let Ok(path) = std::env::var("FAULT_SQLITE") {
        let store = SqliteStore::open(&path).await?;
        sqlx::query(SQLITE_GRANTS).execute(store.pool()).await?;
        let app = if mode == "plain" {
            let handler = PlainGrants(store.pool().clone());
            let receiver = WebhookReceiver::with_config(secret, handler, store, config)?;
            axum::Router::new().route_service("/", receiver)
        } else {
            let insert = "INSERT INTO grants (order_id, sku, quantity) VALUES (?, ?, ?)".into();
            let receiver =
                TransactionalReceiver::with_config(secret, TxGrants { insert }, store, config)?;
            axum::Router::new().route_service("/", receiver)
        };
        return serve(app).await;
    }
    #[cfg(feature = "postgres")]
    if let Ok(url) = std::env::var("FAULT_PG") {
        let store = backpack_webhooks::PostgresStore::connect(&url).await?;
        let handler = TxGrants {
            insert: insert_into_table(true)?,
        };
        let receiver = TransactionalReceiver::with_config(secret, handler, store, config)?;
        return serve(axum::Router::new().route_service("/", receiver)).await;
    }
    #[cfg(feature = "mysql")]
    if let Ok(url) = std::env::var("FAULT_MYSQL") {
        let store = backpack_webhooks::MySqlStore::connect(&url).await?;
        let handler = TxGrants {
            insert: insert_into_table(false)?,
        };
        let receiver = TransactionalReceiver::with_config(secret, handler, store, config)?;
        return serve(axum::Router::new().route_service("/", receiver)).await;
    }
    let _ = insert_into_table;
    Err("set FAULT_SQLITE, FAULT_PG or FAULT_MYSQL".into())
}
