//! The SDK against the generated mocks: typed matchers on path, query and body, typed answers,
//! and the hand-written header matchers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use backpack_httpmock::{MockServerExt, WhenExt};
use backpack_sdk::types::api::{ApiError, CreatedItem, NewVirtualItem};
use backpack_sdk::{BackpackClient, StaticToken};
use httpmock::MockServer;

const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";
const USER: &str = "6f1c2a3e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";

fn sword() -> NewVirtualItem {
    NewVirtualItem::new("sword", "Sword", "https://cdn.example.com/sword.png")
}

fn client(server: &MockServer) -> BackpackClient {
    BackpackClient::builder()
        .base_url(server.base_url())
        .host_id(HOST_ID)
        .token_source(StaticToken::new("merchant-token"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_sdk_grants_through_a_typed_mock() {
    let server = MockServer::start_async().await;
    let user: uuid::Uuid = USER.parse().unwrap();
    let answer = vec![
        CreatedItem::new()
            .with_item_id("i-1")
            .with_item_sku("sword"),
    ];
    let mock = server.create_virtual_items(|when, then| {
        when.merchant_id(1)
            .project_id(2)
            .user_id(&user)
            .body(&vec![sword()])
            .into_inner()
            .x_host_id(HOST_ID)
            .bearer("merchant-token");
        then.success(201, &answer);
    });
    let created = client(&server)
        .merchant()
        .create_virtual_items()
        .merchant_id(1u32)
        .project_id(2u32)
        .user_id(user)
        .body(vec![sword()])
        .send()
        .await
        .unwrap()
        .into_inner();
    mock.assert_async().await;
    assert_eq!(created, answer);
}

#[tokio::test]
async fn a_typed_error_answer_reaches_the_sdk_as_an_api_error() {
    let server = MockServer::start_async().await;
    let user: uuid::Uuid = USER.parse().unwrap();
    let mock = server.create_virtual_items(|when, then| {
        when.merchant_id(1).project_id(2).user_id(&user);
        then.bad_request(&ApiError::new("bad sku").with_message_id("m-1"));
    });
    let error = client(&server)
        .merchant()
        .create_virtual_items()
        .merchant_id(1u32)
        .project_id(2u32)
        .user_id(user)
        .body(vec![sword()])
        .send()
        .await
        .unwrap_err();
    mock.assert_async().await;
    let error = backpack_sdk::Error::from(error);
    assert!(error.to_string().contains("bad sku"), "{error}");
    // A request for another merchant does not match the mock.
    let other = client(&server)
        .merchant()
        .create_virtual_items()
        .merchant_id(9u32)
        .project_id(2u32)
        .user_id(user)
        .body(vec![sword()])
        .send()
        .await;
    assert!(other.is_err());
    mock.assert_calls_async(1).await;
}
