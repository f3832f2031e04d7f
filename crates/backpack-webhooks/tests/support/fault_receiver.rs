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
//! * `FAULT_PG` — PostgreSQL URL (feature `postgres`, `tx` mode only); grants go to the table
//!   named by `FAULT_GRANTS_TABLE` (created by the test).
//! * `FAULT_LEASE_MS`, `FAULT_WAIT_MS` — claim lease and in-progress wait.
//! * `FAULT_HANG_AFTER_GRANT=1` — after writing a grant, print `granted <order id>` and hang
//!   forever (so that the test kills the process at that exact point, without sleeping).
//!
//! Prints `listening <addr>` once it accepts connections (it binds `127.0.0.1:0`).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, OrderPaid, ReceiverConfig, SqliteHandler, SqliteStore,
    TransactionalReceiver, WebhookEvent, WebhookHandler, WebhookReceiver, WebhookSecret,
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

/// `tx` mode on SQLite: the grant is written through the receiver's transaction.
struct TxGrants;

impl SqliteHandler for TxGrants {
    fn handle(
        &self,
        event: WebhookEvent,
        _delivery: &Delivery,
        tx: &rusqlite::Transaction<'_>,
    ) -> HandlerResult {
        if let WebhookEvent::OrderPaid(order) = event {
            tx.execute(
                "INSERT INTO grants (order_id, sku, quantity) VALUES (?1, ?2, ?3)",
                rusqlite::params![order.order.id, sku(&order), quantity(&order)],
            )
            .map_err(HandlerError::temporary)?;
            hang_after_grant(order.order.id);
        }
        Ok(())
    }
}

/// `plain` mode: the grant is its own write; the receiver records the answer afterwards.
struct PlainGrants(Mutex<rusqlite::Connection>);

impl WebhookHandler for PlainGrants {
    async fn order_paid(&self, order: OrderPaid, _delivery: &Delivery) -> HandlerResult {
        {
            let conn = self.0.lock().map_err(|_| HandlerError::retry_later())?;
            conn.execute(
                "INSERT INTO grants (order_id, sku, quantity) VALUES (?1, ?2, ?3)",
                rusqlite::params![order.order.id, sku(&order), quantity(&order)],
            )
            .map_err(HandlerError::temporary)?;
        }
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

#[cfg(feature = "postgres")]
mod pg {
    use backpack_webhooks::{Delivery, HandlerError, HandlerResult, PostgresHandler, WebhookEvent};

    /// `tx` mode on PostgreSQL.
    pub struct PgGrants {
        pub table: String,
    }

    impl PostgresHandler for PgGrants {
        async fn handle(
            &self,
            event: WebhookEvent,
            _delivery: &Delivery,
            tx: &tokio_postgres::Transaction<'_>,
        ) -> HandlerResult {
            if let WebhookEvent::OrderPaid(order) = event {
                let sql = format!(
                    "INSERT INTO {} (order_id, sku, quantity) VALUES ($1, $2, $3)",
                    self.table
                );
                tx.execute(
                    &sql,
                    &[
                        &order.order.id,
                        &super::sku(&order),
                        &super::quantity(&order),
                    ],
                )
                .await
                .map_err(HandlerError::temporary)?;
            }
            Ok(())
        }
    }
}

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

#[tokio::main]
async fn main() -> Result<(), Error> {
    let secret = WebhookSecret::from_env("FAULT_SECRET")?;
    let config = ReceiverConfig::default()
        .with_claim_lease(millis("FAULT_LEASE_MS", 1000))
        .with_in_progress_wait(millis("FAULT_WAIT_MS", 300));
    let mode = std::env::var("FAULT_MODE").unwrap_or_default();
    if let Ok(path) = std::env::var("FAULT_SQLITE") {
        let store = SqliteStore::open(&path)?;
        let grants = rusqlite::Connection::open(&path)?;
        grants.busy_timeout(Duration::from_secs(5))?;
        grants.execute_batch(SQLITE_GRANTS)?;
        let app = if mode == "plain" {
            let receiver = WebhookReceiver::with_config(
                secret,
                PlainGrants(Mutex::new(grants)),
                store,
                config,
            );
            axum::Router::new().route_service("/", receiver)
        } else {
            let receiver = TransactionalReceiver::with_config(secret, TxGrants, store, config);
            axum::Router::new().route_service("/", receiver)
        };
        return serve(app).await;
    }
    #[cfg(feature = "postgres")]
    if let Ok(url) = std::env::var("FAULT_PG") {
        let store = backpack_webhooks::PostgresStore::connect(&url).await?;
        let table = std::env::var("FAULT_GRANTS_TABLE")?;
        let receiver =
            TransactionalReceiver::with_config(secret, pg::PgGrants { table }, store, config);
        return serve(axum::Router::new().route_service("/", receiver)).await;
    }
    Err("set FAULT_SQLITE or FAULT_PG".into())
}
