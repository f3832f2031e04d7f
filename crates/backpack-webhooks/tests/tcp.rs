//! Over a real socket: axum `ConnectInfo` gives the peer address to the allowlist; 413 and 204
//! arrive as documented.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::net::SocketAddr;

use backpack_webhooks::*;
use common::*;

async fn serve(config: ReceiverConfig) -> (SocketAddr, WebhookReceiver<Recorder, MemoryStore>) {
    let receiver =
        WebhookReceiver::with_config(secret(), Recorder::new(), MemoryStore::new(), config)
            .unwrap();
    let app = axum::Router::new().route_service("/webhook", receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (addr, receiver)
}

async fn post(addr: SocketAddr, body: Vec<u8>) -> (u16, String) {
    let auth = authorization_value(&body, &secret());
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/webhook"))
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn allowlist_uses_the_peer_address() {
    let loopback: ipnet::IpNet = "127.0.0.0/8".parse().unwrap();
    let (addr, rx) = serve(config().with_ip_allowlist(IpAllowlist::new([loopback]))).await;
    assert_eq!(post(addr, ORDER_PAID.to_vec()).await.0, 204);
    assert_eq!(rx.handler().count(), 1);

    let (addr, rx) = serve(config().with_ip_allowlist(IpAllowlist::xsolla())).await;
    let (status, body) = post(addr, ORDER_PAID.to_vec()).await;
    assert_eq!(status, 403);
    assert_eq!(error_code(body.as_bytes()), "INVALID_CLIENT_IP");
    assert_eq!(rx.handler().count(), 0);
}

#[tokio::test]
async fn oversized_body_over_the_wire() {
    let (addr, rx) = serve(config().with_body_limit(4096)).await;
    let mut big = br#"{"notification_type":"payment","pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 10_000));
    big.extend(br#""}"#);
    let (status, body) = post(addr, big).await;
    assert_eq!(status, 413);
    assert_eq!(error_code(body.as_bytes()), "INVALID_PARAMETER");
    assert_eq!(rx.handler().count(), 0);
}
