//! The SDK through the generated client, against loopback servers: credentials on the right
//! calls, the 401 refresh, typed API errors, and pagination of a 1,000-item Backpack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use backpack_sdk::types::api::{CreateGameRequest, ItemType, UpdateGameRequest};
use backpack_sdk::{BackpackClient, ClientCredentials, Error, my_items};
use common::{
    CLIENT_ID, CLIENT_SECRET, FakeApi, FakeLogin, HOST_ID, Lifetime, api_error, fast_retry,
};
use futures::TryStreamExt;
use serde_json::json;

const USER: &str = "9f0c9b3e-8d44-4e58-a5e3-6d6f7b3c2a10";

fn item(n: usize) -> serde_json::Value {
    json!({"item_id": format!("item-{n}"), "item_sku": "sku", "item_name": "Sword", "image_url": "https://x/i.png",
           "image_proxy_url": null, "project_id": 2, "merchant_id": 1, "item_type": "virtual_item"})
}

async fn client(api_url: &str, login_url: &str) -> BackpackClient {
    BackpackClient::builder()
        .base_url(api_url)
        .host_id(HOST_ID)
        .token_source(ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(login_url))
        .retry_policy(fast_retry(3))
        .build()
        .unwrap()
}

#[tokio::test]
async fn merchant_calls_carry_the_server_token_user_calls_the_user_token_both_the_host_id() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|_, req| match req.path.as_str() {
        "/web/backpack/merchants/1/projects/2/games" => {
            (StatusCode::CREATED, axum::Json(json!({"id": "game-1"}))).into_response()
        }
        _ => axum::Json(json!([item(1)])).into_response(),
    });
    let api_url = api.start().await;
    let sdk = client(&api_url, &login_url).await;

    let created = sdk
        .merchant()
        .create_game()
        .merchant_id(1u32)
        .project_id(2u32)
        .body(
            CreateGameRequest::new()
                .with_external_game_id("g1")
                .with_game_name("Game"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.into_inner().id, "game-1");

    let user_client = sdk.user("user-token-abc").unwrap();
    let items = user_client
        .get_user_backpack_items()
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(items[0].item_type.as_deref(), Some("virtual_item"));

    let requests = api.requests();
    let server_token = login.issued()[0].clone();
    assert_eq!(requests[0].header("x-host-id"), Some(HOST_ID));
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {server_token}").as_str())
    );
    assert_eq!(
        requests[0].header("api-version"),
        None,
        "progenitor's api-version header is stripped"
    );
    assert_eq!(
        requests[1].header("x-host-id"),
        Some(HOST_ID),
        "a configured X-HOST-ID goes on user-facing calls too"
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer user-token-abc")
    );
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body, json!({"external_game_id": "g1", "game_name": "Game"}));
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_through_the_generated_client() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|n, _| {
        if n == 1 {
            api_error(StatusCode::UNAUTHORIZED, "expired")
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    });
    let api_url = api.start().await;
    let sdk = client(&api_url, &login_url).await;

    let response = sdk
        .merchant()
        .update_game_details()
        .merchant_id(1u32)
        .project_id(2u32)
        .body(UpdateGameRequest::new("g1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        login.count(),
        2,
        "one token, then one refresh after the 401"
    );
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    let tokens = login.issued();
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {}", tokens[0]).as_str())
    );
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {}", tokens[1]).as_str())
    );
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn api_errors_keep_message_id_and_message() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|_, _| api_error(StatusCode::NOT_FOUND, "Item not found"));
    let api_url = api.start().await;
    let sdk = client(&api_url, &login_url).await;

    let error: Error = sdk
        .merchant()
        .delete_item()
        .merchant_id(1u32)
        .project_id(2u32)
        .user_id(USER)
        .item_id("0b7d4f9e-1c2a-4b8e-9f00-123456789abc")
        .send()
        .await
        .unwrap_err()
        .into();
    match error {
        Error::Api(api) => {
            assert_eq!(api.status, StatusCode::NOT_FOUND);
            assert_eq!(api.message_id.as_deref(), Some("msg-1"));
            assert_eq!(api.message.as_deref(), Some("Item not found"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dead_token_endpoint_is_a_typed_error_and_nothing_is_sent() {
    let api = FakeApi::new(|_, _| StatusCode::NO_CONTENT.into_response());
    let api_url = api.start().await;
    let sdk = client(&api_url, &common::dead_port_url().await).await;

    assert!(matches!(sdk.authenticate().await, Err(Error::Token { .. })));
    let error: Error = sdk
        .merchant()
        .get_games()
        .merchant_id(1u32)
        .project_id(2u32)
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(matches!(error, Error::Authorization(_)), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(CLIENT_SECRET));
    assert_eq!(api.count(), 0);
}

#[tokio::test]
async fn user_items_walks_a_thousand_item_backpack_exactly_once() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    let api = FakeApi::new(|_, req| {
        let query: std::collections::HashMap<String, String> =
            url_pairs(req.query.as_deref().unwrap_or_default());
        let offset: usize = query
            .get("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit: usize = query
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let page: Vec<_> = (offset..(offset + limit).min(1000)).map(item).collect();
        axum::Json(page).into_response()
    });
    let api_url = api.start().await;
    let sdk = client(&api_url, &login_url).await;

    let user: uuid::Uuid = USER.parse().unwrap();
    let items: Vec<_> = sdk.user_items(1, 2, user, 64).try_collect().await.unwrap();
    let ids: Vec<String> = items.iter().map(|i| i.item_id.clone()).collect();
    let expected: Vec<String> = (0..1000).map(|n| format!("item-{n}")).collect();
    assert_eq!(ids, expected);
    // 15 full pages of 64, one of 40, and nothing more.
    assert_eq!(api.count(), 16);
    assert!(
        api.requests()
            .iter()
            .all(|r| r.path == format!("/web/backpack/merchants/1/projects/2/users/{USER}/items"))
    );

    // The user-facing list, through `my_items`, with an item-type filter.
    let user_client = sdk.user("user-token").unwrap();
    let mine: Vec<_> = my_items(&user_client, 500, vec![ItemType::VirtualItem])
        .try_collect()
        .await
        .unwrap();
    assert_eq!(mine.len(), 1000);
    let last = api.requests().pop().unwrap();
    assert!(
        last.query
            .unwrap_or_default()
            .contains("item_type=virtual_item")
    );
}

fn url_pairs(query: &str) -> std::collections::HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
