//! `Transport::prepare` / `Transport::send` against loopback Login and API
//! servers: credentials on every request, none in logs, the 401 refresh.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use backpack_sdk::{Error, Transport};
use common::*;
use reqwest::Method;

#[tokio::test]
async fn unauthorized_leads_to_one_refresh_and_one_retry() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let transport = merchant(&login.start().await);
    let api = FakeApi::new(|n, _| {
        if n == 1 {
            api_error(StatusCode::UNAUTHORIZED, "expired")
        } else {
            ok_json()
        }
    });
    let url = format!("{}{GAMES}", api.start().await);
    let client = reqwest::Client::new();

    let response = call(&transport, &client, request(Method::GET, &url, None)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(login.count(), 2);
    assert_eq!(api.count(), 2);
    let issued = login.issued();
    let requests = api.requests();
    assert_eq!(
        requests[0].header("authorization").unwrap(),
        format!("Bearer {}", issued[0])
    );
    assert_eq!(
        requests[1].header("authorization").unwrap(),
        format!("Bearer {}", issued[1])
    );

    // The refreshed token is cached: the next call needs no token request.
    call(&transport, &client, request(Method::GET, &url, None)).await;
    assert_eq!(login.count(), 2);
}

#[tokio::test]
async fn persistent_unauthorized_is_retried_only_once_even_for_post() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let transport = merchant(&login.start().await);
    let api = FakeApi::new(|_, _| api_error(StatusCode::UNAUTHORIZED, "no access"));
    let url = format!("{}{GAMES}", api.start().await);
    let client = reqwest::Client::new();

    let response = call(&transport, &client, request(Method::POST, &url, Some("{}"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.count(), 2, "one original request + one retry");
    assert_eq!(login.count(), 2, "one initial token + one refresh");
    assert!(api.requests().iter().all(|r| r.body.as_ref() == b"{}"));

    let error = Error::from_response(response).await;
    let Error::Api(api_error) = &error else {
        panic!("unexpected {error:?}");
    };
    assert_eq!(api_error.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api_error.message_id.as_deref(), Some("msg-1"));
    assert_eq!(api_error.message.as_deref(), Some("no access"));
}

#[tokio::test]
async fn user_token_transport_sends_no_host_id_and_does_not_refresh() {
    let api = FakeApi::new(|_, _| api_error(StatusCode::UNAUTHORIZED, "expired"));
    let url = format!("{}/web/backpack/items", api.start().await);
    let transport = Transport::builder()
        .user_token("end-user-jwt")
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let response = call(&transport, &client, request(Method::GET, &url, None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.count(), 1);
    let recorded = &api.requests()[0];
    assert_eq!(
        recorded.header("authorization"),
        Some("Bearer end-user-jwt")
    );
    assert_eq!(recorded.header("x-host-id"), None);
}

#[tokio::test]
async fn prepare_fails_with_a_token_error_when_login_is_unreachable() {
    let transport = merchant(&dead_port_url().await);
    let mut request = request(Method::GET, "http://127.0.0.1:1/x", None);
    let error = transport.prepare(&mut request).await.unwrap_err();
    assert!(
        matches!(error, Error::Token { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(request.headers().get("authorization").is_none());
}

#[tokio::test]
async fn built_client_uses_the_configured_user_agent() {
    let api = FakeApi::new(|_, _| ok_json());
    let url = format!("{}/web/backpack/items", api.start().await);
    let transport = Transport::builder()
        .user_token("t")
        .user_agent("my-game-server/2.0")
        .timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let client = transport.settings().build_reqwest_client().unwrap();
    call(&transport, &client, request(Method::GET, &url, None)).await;
    assert_eq!(
        api.requests()[0].header("user-agent"),
        Some("my-game-server/2.0")
    );
}
