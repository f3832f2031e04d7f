//! A webhook receiver that grants items on `order_paid` and rejects unknown users on
//! `user_validation`, with durable deduplication in SQLite.
//!
//! ```text
//! XSOLLA_WEBHOOK_SECRET=... \
//! KNOWN_USERS=player-1,1234567 \
//! cargo run -p backpack-webhooks --example receiver
//! ```
//!
//! Environment: `XSOLLA_WEBHOOK_SECRET` (required), `BIND` (default `127.0.0.1:8080`),
//! `DEDUP_DB` (default `webhooks-dedup.sqlite3`), `KNOWN_USERS` (comma-separated user IDs,
//! default `player-1,1234567`), `XSOLLA_IP_ALLOWLIST=1` to accept only Xsolla's addresses.
//! The webhook URL is `http://<BIND>/xsolla/webhook`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Mutex;

use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, IpAllowlist, OrderPaid, ReceiverConfig, SqliteStore,
    UserValidation, WebhookHandler, WebhookReceiver, WebhookSecret,
};

/// The game's side: who exists, and what they own.
struct Game {
    users: HashSet<String>,
    inventory: Mutex<HashMap<String, HashMap<String, i64>>>,
}

impl WebhookHandler for Game {
    async fn user_validation(&self, event: UserValidation, _d: &Delivery) -> HandlerResult {
        // `user.id` is an `IntOrString`: Xsolla documents a string, some samples send a number.
        match event.user.map(|user| user.id.to_string()) {
            Some(id) if self.users.contains(&id) => Ok(()),
            _ => Err(HandlerError::invalid_user()),
        }
    }

    async fn order_paid(&self, event: OrderPaid, delivery: &Delivery) -> HandlerResult {
        let Some(user) = event.user.external_id.filter(|u| self.users.contains(u)) else {
            return Err(HandlerError::invalid_user());
        };
        let mut inventory = self
            .inventory
            .lock()
            .map_err(|_| HandlerError::retry_later())?;
        let owned = inventory.entry(user.clone()).or_default();
        for item in &event.items {
            *owned.entry(item.sku.clone()).or_default() += item.quantity;
            tracing::info!(
                %user, sku = %item.sku, quantity = item.quantity, sandbox = delivery.sandbox,
                key = delivery.dedup_key.as_deref().unwrap_or(""),
                "granted"
            );
        }
        Ok(())
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
        config = config.ip_allowlist(IpAllowlist::xsolla());
    }
    let game = Game {
        users,
        inventory: Mutex::default(),
    };
    let receiver = WebhookReceiver::with_config(secret, game, SqliteStore::open(&db)?, config);
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
