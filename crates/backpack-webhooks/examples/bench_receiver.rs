//! Load-test target for `scripts/bench-receiver.sh`: serves, on one loopback port,
//!
//! * `POST /bare` — a bare axum handler that reads the body and answers 204;
//! * `POST /bare-hash` — the same, plus SHA-1 of body ‖ secret (the baseline: a handler
//!   that only hashes the body);
//! * `POST /webhook` — the receiver (no-op handler, in-memory dedup store);
//! * `POST /webhook-sqlite` — the receiver with a SQLite dedup store (temp file).
//!
//! Secret: `BENCH_SECRET` (default `bench-secret`); address: `BENCH_ADDR` (default
//! `127.0.0.1:3999`). Prints `listening <addr>` once ready.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::routing::post;
use backpack_webhooks::{MemoryStore, SqliteStore, WebhookHandler, WebhookReceiver, WebhookSecret};
use http::StatusCode;

struct Accept;
impl WebhookHandler for Accept {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("BENCH_SECRET").unwrap_or_else(|_| "bench-secret".into());
    let addr: SocketAddr = std::env::var("BENCH_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3999".into())
        .parse()?;
    let dir = std::env::temp_dir().join(format!("bench-server-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let hash_secret = WebhookSecret::new(secret.clone());
    let memory = WebhookReceiver::new(
        WebhookSecret::new(secret.clone()),
        Accept,
        MemoryStore::new(),
    )?;
    let sqlite = WebhookReceiver::new(
        WebhookSecret::new(secret),
        Accept,
        SqliteStore::open(dir.join("dedup.sqlite3")).await?,
    )?;
    let app = axum::Router::new()
        .route(
            "/bare",
            post(|body: Bytes| async move {
                std::hint::black_box(body);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/bare-hash",
            post(move |body: Bytes| {
                let secret = hash_secret.clone();
                async move {
                    std::hint::black_box(backpack_webhooks::sign(&body, &secret));
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .route_service("/webhook", memory)
        .route_service("/webhook-sqlite", sqlite);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
