//! The example of docs/guide/emulator.md ("In your own tests"): one process runs the emulator,
//! the SDK, and a game backend's webhook receiver built on `backpack-webhooks`. It grants an
//! item, moves it to the game, sees `user_validation` then `order_paid`, fails the first two
//! deliveries, moves the emulator's clock over the retry waits, and checks that the item was
//! granted exactly once. No sleeps: `settle`/`advance` return when the due deliveries have been
//! answered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use backpack_emulator::{Emulator, TriggerBody, WebhookKind};
use backpack_sdk::types::api::{MoveToGameRequest, NewVirtualItem};
use backpack_sdk::{BackpackClient, ClientCredentials};
use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, MemoryStore, OrderPaid, UserValidation, WebhookHandler,
    WebhookReceiver, WebhookSecret,
};
use uuid::Uuid;

const SECRET: &str = "test-webhook-secret";
const PLAYER: &str = "player-1";

/// The game backend under test: it knows one player and grants what `order_paid` carries.
/// Its database is down for the first two `order_paid` deliveries.
#[derive(Default)]
struct Game {
    seen: Mutex<Vec<String>>,
    order_paid_calls: Mutex<u32>,
    granted: Mutex<Vec<(String, String)>>,
}

impl WebhookHandler for Game {
    async fn user_validation(&self, event: UserValidation, _: &Delivery) -> HandlerResult {
        self.seen.lock().unwrap().push("user_validation".into());
        if event.user.is_some_and(|u| u.id.to_string() == PLAYER) {
            Ok(())
        } else {
            Err(HandlerError::invalid_user())
        }
    }

    async fn order_paid(&self, event: OrderPaid, _: &Delivery) -> HandlerResult {
        self.seen.lock().unwrap().push("order_paid".into());
        let calls = {
            let mut calls = self.order_paid_calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        if calls <= 2 {
            return Err(HandlerError::retry_later()); // 500: Xsolla (and the emulator) retry
        }
        let player = event.user.external_id.unwrap_or_default();
        let mut granted = self.granted.lock().unwrap();
        for item in event.items {
            granted.push((player.clone(), item.sku));
        }
        Ok(())
    }
}

/// Serves the receiver on a free loopback port; its URL.
async fn serve(receiver: WebhookReceiver<Game, MemoryStore>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route_service("/xsolla/webhook", receiver);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}/xsolla/webhook")
}

#[tokio::test]
async fn grant_move_and_retried_order_paid_grant_exactly_once() {
    // The game backend: your handler behind backpack-webhooks' receiver.
    let receiver = WebhookReceiver::new(
        WebhookSecret::new(SECRET),
        Game::default(),
        MemoryStore::new(),
    )
    .unwrap();
    let webhook_url = serve(receiver.clone()).await;
    let game = receiver.handler();

    // The emulator: in-memory state, manual clock, webhooks to the receiver.
    let emulator = Emulator::builder()
        .webhook(webhook_url, SECRET)
        .start()
        .await
        .unwrap();

    // The SDK, pointed at the emulator.
    let client = BackpackClient::builder()
        .base_url(emulator.base_url())
        .host_id(Uuid::new_v4().to_string())
        .token_source(
            ClientCredentials::new(emulator.client_id(), emulator.client_secret())
                .with_token_url(emulator.token_url()),
        )
        .build()
        .unwrap();
    let (merchant_id, project_id, user_id) = (1u32, 2u32, Uuid::new_v4());

    // Grant a sword to the user's Backpack.
    let created = client
        .merchant()
        .create_virtual_items()
        .merchant_id(merchant_id)
        .project_id(project_id)
        .user_id(user_id)
        .body(vec![NewVirtualItem::new(
            "sword",
            "Sword",
            "https://cdn.example.com/sword.png",
        )])
        .send()
        .await
        .unwrap()
        .into_inner();
    let item_id = created[0].item_id.clone().unwrap();

    // The user moves it to the game: user_validation is asked first (synchronously).
    let user = client.user(emulator.user_token(user_id).unwrap()).unwrap();
    user.move_user_virtual_item_to_game()
        .body(MoveToGameRequest::new(
            project_id,
            merchant_id,
            item_id,
            PLAYER,
        ))
        .send()
        .await
        .unwrap();

    // First order_paid attempt: the game answers 500.
    emulator.settle().await;
    let outbox = emulator.outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].notification_type, "order_paid");
    assert_eq!(
        (outbox[0].state.as_str(), outbox[0].attempts),
        ("pending", 1)
    );
    assert_eq!(outbox[0].last_status, Some(500));
    assert!(game.granted.lock().unwrap().is_empty());

    // Nothing happens before the 5-minute retry wait is over.
    emulator.advance(Duration::from_secs(299)).await.unwrap();
    assert_eq!(emulator.outbox().await.unwrap()[0].attempts, 1);
    // Second attempt (500 again), then the third succeeds.
    emulator.advance(Duration::from_secs(1)).await.unwrap();
    assert_eq!(emulator.outbox().await.unwrap()[0].attempts, 2);
    emulator.advance(Duration::from_secs(300)).await.unwrap();
    let delivered = &emulator.outbox().await.unwrap()[0];
    assert_eq!(
        (delivered.state.as_str(), delivered.attempts),
        ("delivered", 3)
    );

    // Xsolla may deliver the same order again: the receiver replays its answer.
    emulator
        .trigger_with(
            WebhookKind::OrderPaid,
            TriggerBody::Raw(serde_json::to_vec(&delivered.body).unwrap()),
        )
        .await
        .unwrap();
    emulator
        .advance(Duration::from_secs(12 * 3600))
        .await
        .unwrap();

    assert_eq!(
        *game.seen.lock().unwrap(),
        ["user_validation", "order_paid", "order_paid", "order_paid"],
        "user_validation first; the duplicate never reached the handler"
    );
    assert_eq!(
        *game.granted.lock().unwrap(),
        [(PLAYER.to_owned(), "sword".to_owned())],
        "granted exactly once"
    );
    let outbox = emulator.outbox().await.unwrap();
    assert!(outbox.iter().all(|d| d.state == "delivered"));
    emulator.shutdown().await.unwrap();
}
