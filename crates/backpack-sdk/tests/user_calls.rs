//! User-facing calls through the generated client, against loopback servers: `X-HOST-ID` on
//! them when configured (and not when switched off), renewable user tokens (refreshed on expiry
//! and once after a 401), the fixed-token client, and no `api-version` header on any request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use backpack_sdk::generated::{Client, Hooks};
use backpack_sdk::{
    BackpackClient, BackpackClientBuilder, ClientCredentials, Error, ManualClock,
    RefreshTokenGrant, TokenCache,
};
use common::{
    CLIENT_ID, CLIENT_SECRET, FakeApi, FakeLogin, HOST_ID, Lifetime, Recorded, api_error,
    fast_retry,
};
use serde_json::json;

const ITEM: &str = "0b7d4f9e-1c2a-4b8e-9f00-123456789abc";

fn builder(api_url: &str, login_url: &str) -> BackpackClientBuilder {
    BackpackClient::builder()
        .base_url(api_url)
        .host_id(HOST_ID)
        .token_source(ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(login_url))
        .retry_policy(fast_retry(3))
}

/// An API answering every call with an empty item list.
fn empty_lists() -> FakeApi {
    FakeApi::new(|_, _| axum::Json(json!([])).into_response())
}

/// A user token source against `login` (Xsolla Login `grant_type=refresh_token`).
fn refresh_grant(login_url: &str) -> RefreshTokenGrant {
    RefreshTokenGrant::new(CLIENT_ID, "refresh-0").with_token_url(login_url)
}

async fn list_items(client: &Client) -> Result<usize, Error> {
    let items = client.get_user_backpack_items().send().await?;
    Ok(items.into_inner().len())
}

fn bearer(recorded: &Recorded) -> &str {
    recorded.header("authorization").unwrap()
}

#[tokio::test]
async fn host_id_is_sent_on_user_calls_when_configured() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = empty_lists();
    let sdk = builder(&api.start().await, &login_url).build().unwrap();

    list_items(&sdk.user("fixed-user-token").unwrap())
        .await
        .unwrap();
    list_items(&sdk.user_with_source(refresh_grant(&login_url)).unwrap())
        .await
        .unwrap();

    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    for recorded in &requests {
        assert_eq!(recorded.path, "/web/backpack/items");
        assert_eq!(recorded.header("x-host-id"), Some(HOST_ID));
    }
    assert_eq!(bearer(&requests[0]), "Bearer fixed-user-token");
    assert_eq!(
        bearer(&requests[1]),
        format!("Bearer {}", login.issued()[0])
    );
}

#[tokio::test]
async fn host_id_on_user_calls_false_keeps_it_off_user_calls_only() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|_, req| {
        if req.path.starts_with("/web/backpack/merchants/") {
            axum::Json(json!({"games": []})).into_response()
        } else {
            axum::Json(json!([])).into_response()
        }
    });
    let sdk = builder(&api.start().await, &login_url)
        .host_id_on_user_calls(false)
        .build()
        .unwrap();

    list_items(&sdk.user("fixed-user-token").unwrap())
        .await
        .unwrap();
    list_items(&sdk.user_with_source(refresh_grant(&login_url)).unwrap())
        .await
        .unwrap();
    sdk.merchant()
        .get_games()
        .merchant_id(1u32)
        .project_id(2u32)
        .send()
        .await
        .unwrap();

    let requests = api.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].header("x-host-id"), None);
    assert_eq!(requests[1].header("x-host-id"), None);
    assert_eq!(
        requests[2].header("x-host-id"),
        Some(HOST_ID),
        "merchant calls keep the X-HOST-ID"
    );
    assert!(
        !format!("{sdk:?}").contains(HOST_ID),
        "Debug shows no X-HOST-ID"
    );
}

#[tokio::test]
async fn user_token_source_is_refreshed_on_expiry() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = empty_lists();
    let sdk = builder(&api.start().await, &login_url).build().unwrap();
    let clock = ManualClock::new();
    let grant = refresh_grant(&login_url);
    let cache = TokenCache::builder(grant.clone())
        .clock(clock.clone())
        .build();
    let user = sdk.user_with_cache(cache).unwrap();

    list_items(&user).await.unwrap();
    list_items(&user).await.unwrap();
    assert_eq!(login.count(), 1, "the user token is cached");
    clock.advance(Duration::from_secs(3600));
    list_items(&user).await.unwrap();
    assert_eq!(login.count(), 2, "an expired user token is renewed");

    let issued = login.issued();
    let sent: Vec<String> = api
        .requests()
        .iter()
        .map(|r| bearer(r).to_owned())
        .collect();
    assert_eq!(
        sent,
        [
            format!("Bearer {}", issued[0]),
            format!("Bearer {}", issued[0]),
            format!("Bearer {}", issued[1]),
        ]
    );
    // The grant kept the refresh token Login rotated on each use.
    assert_eq!(
        grant.refresh_token().expose(),
        login.refresh_token.lock().unwrap().as_str()
    );
}

#[tokio::test]
async fn user_token_source_is_refreshed_once_after_a_401_and_the_call_retried_once() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    // First call: 401 then 200. Second call: 401 twice.
    let api = FakeApi::new(|n, _| match n {
        1 | 3 | 4 => api_error(StatusCode::UNAUTHORIZED, "token expired"),
        _ => axum::Json(json!([])).into_response(),
    });
    let sdk = builder(&api.start().await, &login_url).build().unwrap();
    let user = sdk.user_with_source(refresh_grant(&login_url)).unwrap();

    assert_eq!(list_items(&user).await.unwrap(), 0);
    assert_eq!(api.count(), 2, "one call + one retry");
    assert_eq!(login.count(), 2, "one token + one refresh");
    let issued = login.issued();
    let requests = api.requests();
    assert_eq!(bearer(&requests[0]), format!("Bearer {}", issued[0]));
    assert_eq!(bearer(&requests[1]), format!("Bearer {}", issued[1]));

    let error = list_items(&user).await.unwrap_err();
    match &error {
        Error::Api(api_error) => assert_eq!(api_error.status, StatusCode::UNAUTHORIZED),
        other => panic!("expected a 401 API error, got {other:?}"),
    }
    assert_eq!(api.count(), 4, "a persistent 401 is retried only once");
    assert_eq!(login.count(), 3);
}

#[tokio::test]
async fn fixed_user_token_is_sent_as_is_and_a_401_is_not_retried() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|n, _| {
        if n == 1 {
            axum::Json(json!([])).into_response()
        } else {
            api_error(StatusCode::UNAUTHORIZED, "token expired")
        }
    });
    let sdk = builder(&api.start().await, &login_url).build().unwrap();
    let user = sdk.user("fixed-user-token").unwrap();

    assert_eq!(list_items(&user).await.unwrap(), 0);
    let error = user
        .get_user_backpack_item()
        .item_id(ITEM)
        .send()
        .await
        .unwrap_err();
    let error = Error::from(error);
    assert!(
        matches!(&error, Error::Api(api) if api.status == StatusCode::UNAUTHORIZED),
        "{error:?}"
    );
    assert_eq!(api.count(), 2, "no retry: a fixed token cannot be renewed");
    assert_eq!(login.count(), 0, "Login is not asked for a user token");
    assert!(
        api.requests()
            .iter()
            .all(|r| bearer(r) == "Bearer fixed-user-token")
    );
}

#[tokio::test]
async fn no_request_carries_api_version() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|_, req| {
        if req.path.starts_with("/web/backpack/merchants/") {
            axum::Json(json!({"games": []})).into_response()
        } else {
            axum::Json(json!([])).into_response()
        }
    });
    let api_url = api.start().await;
    let sdk = builder(&api_url, &login_url).build().unwrap();

    sdk.merchant()
        .get_games()
        .merchant_id(1u32)
        .project_id(2u32)
        .send()
        .await
        .unwrap();
    list_items(&sdk.user("fixed-user-token").unwrap())
        .await
        .unwrap();
    list_items(&sdk.user_with_source(refresh_grant(&login_url)).unwrap())
        .await
        .unwrap();
    // The generated client's hooks strip it even without any SDK middleware.
    let bare = Client::new_with_client(&api_url, reqwest::Client::new(), Hooks::none());
    list_items(&bare).await.unwrap();

    let requests = api.requests();
    assert_eq!(requests.len(), 4);
    for (i, recorded) in requests.iter().enumerate() {
        assert_eq!(recorded.header("api-version"), None, "request {i}");
    }
    assert_eq!(requests[3].header("authorization"), None);
}
