//! Run by `scripts/catalogue-check.sh` after `inventory_update` was added to the spec and
//! regenerated: the emulator triggers the new kind with its documented sample, and the
//! receiver's handler, overriding the new `inventory_update` method, must receive it.

use std::net::SocketAddr;
use std::sync::Mutex;

use backpack_emulator::{Emulator, ResendSchedule, WebhookKind};
use backpack_types::webhooks::InventoryUpdate;
use backpack_webhooks::{
    Delivery, HandlerResult, MemoryStore, WebhookHandler, WebhookReceiver, WebhookSecret,
};

const SECRET: &str = "catalogue-check-secret";

/// Records the `notification_type` of every delivery its new method receives.
#[derive(Default)]
struct Game {
    inventory_updates: Mutex<Vec<String>>,
}

impl WebhookHandler for Game {
    async fn inventory_update(
        &self,
        _event: InventoryUpdate,
        delivery: &Delivery,
    ) -> HandlerResult {
        if let Ok(mut seen) = self.inventory_updates.lock() {
            seen.push(delivery.notification_type.clone());
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let receiver = WebhookReceiver::new(
        WebhookSecret::new(SECRET),
        Game::default(),
        MemoryStore::new(),
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhook", listener.local_addr()?);
    let app = axum::Router::new().route_service("/webhook", receiver.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });

    let kind: WebhookKind = "inventory_update".parse()?;
    if kind != WebhookKind::InventoryUpdate || ResendSchedule::of(kind) != ResendSchedule::Payment {
        return Err(format!("unexpected kind {kind:?} or its retry policy").into());
    }
    let emulator = Emulator::builder().webhook(url, SECRET).start().await?;
    emulator.trigger(kind).await?;
    emulator.settle().await;

    let seen = receiver
        .handler()
        .inventory_updates
        .lock()
        .map(|seen| seen.clone())
        .map_err(|_| "the handler panicked")?;
    if seen != ["inventory_update"] {
        return Err(
            format!("inventory_update was not dispatched to its method once: {seen:?}").into(),
        );
    }
    println!(
        "catalogue check: inventory_update dispatched to WebhookHandler::inventory_update after an emulator trigger"
    );
    Ok(())
}
