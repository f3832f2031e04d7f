//! A webhook receiver that grants items on `order_paid` into a `grants` table and rejects
//! unknown users on `user_validation`. The claim of the delivery, the grant and the recorded
//! answer commit in one SQLite transaction ([`TransactionalReceiver`]): a paid order is granted
//! exactly once, even if the process is killed at any moment. Metrics (the `metrics` facade) are
//! served in Prometheus format at `http://<METRICS_BIND>/metrics`.
//!
//! ```text
//! XSOLLA_WEBHOOK_SECRET=... \
//! KNOWN_USERS=player-1,1234567 \
//! cargo run -p backpack-webhooks --example receiver
//! ```
//!
//! Environment: `XSOLLA_WEBHOOK_SECRET` (required), `BIND` (default `127.0.0.1:8080`),
//! `DEDUP_DB` (default `webhooks-dedup.sqlite3`), `KNOWN_USERS` (comma-separated user IDs,
//! default `player-1,1234567`), `XSOLLA_IP_ALLOWLIST=1` to accept only Xsolla's addresses,
//! `METRICS_BIND` (default `127.0.0.1:9090`).
//! The webhook URL is `http://<BIND>/xsolla/webhook`.

use std::collections::HashSet;
use std::net::SocketAddr;

use backpack_webhooks::sqlx::{self, Sqlite, Transaction};
use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, IpAllowlist, ReceiverConfig, SqliteStore,
    TransactionalHandler, TransactionalReceiver, WebhookEvent, WebhookSecret,
};

/// The game's side: who exists. What they own is the `grants` table.
struct Game {
    users: HashSet<String>,
}

const GRANTS: &str = "CREATE TABLE IF NOT EXISTS grants (
    order_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL
)";

impl TransactionalHandler<Sqlite> for Game {
    async fn handle(
        &self,
        event: WebhookEvent,
        delivery: &Delivery,
        tx: &mut Transaction<'_, Sqlite>,
    ) -> HandlerResult {
        match event {
            WebhookEvent::UserValidation(event) => {
                // `user.id` is an `IntOrString`: Xsolla documents a string, some samples send a
                // number.
                match event.user.map(|user| user.id.to_string()) {
                    Some(id) if self.users.contains(&id) => Ok(()),
                    _ => Err(HandlerError::invalid_user()),
                }
            }
            WebhookEvent::OrderPaid(event) => {
                let Some(user) = event.user.external_id.filter(|u| self.users.contains(u)) else {
                    return Err(HandlerError::invalid_user());
                };
                for item in &event.items {
                    // Committed together with the record of this delivery, or not at all.
                    sqlx::query(
                        "INSERT INTO grants (order_id, user_id, sku, quantity) VALUES (?, ?, ?, ?)",
                    )
                    .bind(event.order.id)
                    .bind(&user)
                    .bind(&item.sku)
                    .bind(item.quantity)
                    .execute(&mut **tx)
                    .await
                    .map_err(HandlerError::temporary)?;
                    tracing::info!(
                        %user, sku = %item.sku, quantity = item.quantity, sandbox = delivery.sandbox,
                        "granted"
                    );
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,backpack_webhooks=debug".into()),
        )
        .init();

    let secret = WebhookSecret::from_env("XSOLLA_WEBHOOK_SECRET")?;
    let bind: SocketAddr = std::env::var("BIND")
        .unwrap_or_else(|_| "127.0.0.1:8080".into())
        .parse()?;
    let db = std::env::var("DEDUP_DB").unwrap_or_else(|_| "webhooks-dedup.sqlite3".into());
    let users = std::env::var("KNOWN_USERS")
        .unwrap_or_else(|_| "player-1,1234567".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();

    let mut config = ReceiverConfig::default();
    if std::env::var("XSOLLA_IP_ALLOWLIST").as_deref() == Ok("1") {
        config = config.with_ip_allowlist(IpAllowlist::xsolla());
    }
    let store = SqliteStore::open(&db).await?;
    // The grants live in the same file as the dedup records, so that both commit together.
    sqlx::query(GRANTS).execute(store.pool()).await?;
    let game = Game { users };
    let receiver = TransactionalReceiver::with_config(secret, game, store, config)?;

    // The library only calls the `metrics` facade; this binary chooses Prometheus.
    let metrics_bind: SocketAddr = std::env::var("METRICS_BIND")
        .unwrap_or_else(|_| "127.0.0.1:9090".into())
        .parse()?;
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(metrics_bind)
        .install()?;
    let app = axum::Router::new().route_service("/xsolla/webhook", receiver);

    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("listening on http://{bind}/xsolla/webhook (dedup db: {db})");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
