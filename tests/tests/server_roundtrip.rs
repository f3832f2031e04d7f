//! Round trips through the generated client and the generated server, over loopback HTTP.
//!
//! For every one of the 14 Backpack operations, and for its success status and every documented
//! error status, the progenitor client calls a recording `BackpackApi` implementation served by
//! `backpack_server::router`, and the test checks that both sides saw the same typed values:
//! the implementation received exactly the arguments the client sent (including the bearer token
//! and X-HOST-ID, which the SDK normally adds through hooks and this test adds as default
//! headers), and the client got back exactly the response the implementation returned —
//! declared errors as `progenitor_client::Error::ErrorResponse` carrying the `ApiError`.
//!
//! Run with `cargo test -p workspace-tests --test integration server_roundtrip::`.

// Test code: a failed unwrap is a failed test (clippy's in-test allowances skip helper fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::any::Any;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use backpack_client::Client;
use backpack_server::{
    self as server, BackpackApi, BearerToken, RequestContext, ServerError, XHostId,
};
use backpack_types::api::{
    ApiError, BackpackItem, CreateGameRequest, CreatedGame, CreatedItem, GetGamesResponse,
    ItemType, MoveToGameRequest, MoveToWalletRequest, NewGameKey, NewPromoCode, NewVirtualCurrency,
    NewVirtualItem, UpdateGameRequest,
};
use progenitor_client::{Error, ResponseValue};
use uuid::Uuid;

const TOKEN: &str = "test-token";
const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";

/// What the implementation received, one variant per operation (credentials kept separately).
#[derive(Debug, Clone, PartialEq)]
enum Call {
    GetGames {
        merchant_id: u32,
        project_id: u32,
    },
    UpdateGameDetails {
        merchant_id: u32,
        project_id: u32,
        body: UpdateGameRequest,
    },
    CreateGame {
        merchant_id: u32,
        project_id: u32,
        body: CreateGameRequest,
    },
    CreateGameKeys {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        body: Vec<NewGameKey>,
    },
    CreatePromoCodes {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        body: Vec<NewPromoCode>,
    },
    CreateVirtualCurrency {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        body: Vec<NewVirtualCurrency>,
    },
    CreateVirtualItems {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        body: Vec<NewVirtualItem>,
    },
    UserBackpackItemsList {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        offset: Option<u32>,
        limit: Option<u32>,
    },
    DeleteItem {
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        item_id: Uuid,
    },
    GetUserBackpackItems {
        offset: u32,
        limit: u32,
        group: Option<String>,
        item_type: Vec<ItemType>,
    },
    GetUserBackpackItem {
        item_id: Uuid,
    },
    MoveUserVirtualCurrencyToGame {
        body: MoveToGameRequest,
    },
    MoveUserVirtualCurrencyToWallet {
        body: MoveToWalletRequest,
    },
    MoveUserVirtualItemToGame {
        body: MoveToGameRequest,
    },
}

/// One received call with the secrets as the implementation saw them.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    bearer: String,
    x_host_id: Option<String>,
    call: Call,
}

/// Records every call and answers with the reply the test queued.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
    replies: Mutex<VecDeque<Box<dyn Any + Send>>>,
}

impl Recorder {
    fn answer<R: 'static>(
        &self,
        bearer: BearerToken,
        x_host_id: Option<XHostId>,
        call: Call,
    ) -> Result<R, ServerError> {
        self.seen.lock().unwrap().push(Seen {
            bearer: bearer.expose_secret().to_owned(),
            x_host_id: x_host_id.map(|x| x.expose_secret().to_owned()),
            call,
        });
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .expect("no reply queued");
        Ok(*reply
            .downcast::<R>()
            .expect("queued reply has the wrong response type"))
    }
}

impl BackpackApi for Recorder {
    async fn get_games(
        &self,
        _: RequestContext,
        i: server::GetGamesInput,
    ) -> Result<server::GetGamesResponse, ServerError> {
        let call = Call::GetGames {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn update_game_details(
        &self,
        _: RequestContext,
        i: server::UpdateGameDetailsInput,
    ) -> Result<server::UpdateGameDetailsResponse, ServerError> {
        let call = Call::UpdateGameDetails {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn create_game(
        &self,
        _: RequestContext,
        i: server::CreateGameInput,
    ) -> Result<server::CreateGameResponse, ServerError> {
        let call = Call::CreateGame {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn create_game_keys(
        &self,
        _: RequestContext,
        i: server::CreateGameKeysInput,
    ) -> Result<server::CreateGameKeysResponse, ServerError> {
        let call = Call::CreateGameKeys {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn create_promo_codes(
        &self,
        _: RequestContext,
        i: server::CreatePromoCodesInput,
    ) -> Result<server::CreatePromoCodesResponse, ServerError> {
        let call = Call::CreatePromoCodes {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn create_virtual_currency(
        &self,
        _: RequestContext,
        i: server::CreateVirtualCurrencyInput,
    ) -> Result<server::CreateVirtualCurrencyResponse, ServerError> {
        let call = Call::CreateVirtualCurrency {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn create_virtual_items(
        &self,
        _: RequestContext,
        i: server::CreateVirtualItemsInput,
    ) -> Result<server::CreateVirtualItemsResponse, ServerError> {
        let call = Call::CreateVirtualItems {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            body: i.body,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn user_backpack_items_list(
        &self,
        _: RequestContext,
        i: server::UserBackpackItemsListInput,
    ) -> Result<server::UserBackpackItemsListResponse, ServerError> {
        let call = Call::UserBackpackItemsList {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            offset: i.offset,
            limit: i.limit,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn delete_item(
        &self,
        _: RequestContext,
        i: server::DeleteItemInput,
    ) -> Result<server::DeleteItemResponse, ServerError> {
        let call = Call::DeleteItem {
            merchant_id: i.merchant_id,
            project_id: i.project_id,
            user_id: i.user_id,
            item_id: i.item_id,
        };
        self.answer(i.bearer, Some(i.x_host_id), call)
    }
    async fn get_user_backpack_items(
        &self,
        _: RequestContext,
        i: server::GetUserBackpackItemsInput,
    ) -> Result<server::GetUserBackpackItemsResponse, ServerError> {
        let call = Call::GetUserBackpackItems {
            offset: i.offset,
            limit: i.limit,
            group: i.group,
            item_type: i.item_type,
        };
        self.answer(i.bearer, None, call)
    }
    async fn get_user_backpack_item(
        &self,
        _: RequestContext,
        i: server::GetUserBackpackItemInput,
    ) -> Result<server::GetUserBackpackItemResponse, ServerError> {
        let call = Call::GetUserBackpackItem { item_id: i.item_id };
        self.answer(i.bearer, None, call)
    }
    async fn move_user_virtual_currency_to_game(
        &self,
        _: RequestContext,
        i: server::MoveUserVirtualCurrencyToGameInput,
    ) -> Result<server::MoveUserVirtualCurrencyToGameResponse, ServerError> {
        let call = Call::MoveUserVirtualCurrencyToGame { body: i.body };
        self.answer(i.bearer, None, call)
    }
    async fn move_user_virtual_currency_to_wallet(
        &self,
        _: RequestContext,
        i: server::MoveUserVirtualCurrencyToWalletInput,
    ) -> Result<server::MoveUserVirtualCurrencyToWalletResponse, ServerError> {
        let call = Call::MoveUserVirtualCurrencyToWallet { body: i.body };
        self.answer(i.bearer, None, call)
    }
    async fn move_user_virtual_item_to_game(
        &self,
        _: RequestContext,
        i: server::MoveUserVirtualItemToGameInput,
    ) -> Result<server::MoveUserVirtualItemToGameResponse, ServerError> {
        let call = Call::MoveUserVirtualItemToGame { body: i.body };
        self.answer(i.bearer, None, call)
    }
}

/// A running server and a client pointed at it.
struct Harness {
    recorder: Arc<Recorder>,
    client: Client,
}

impl Harness {
    async fn start() -> Self {
        let recorder = Arc::new(Recorder::default());
        // Bound before the server task starts, so the client's connection simply waits in the
        // backlog: no sleep or readiness poll is needed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = server::router(Arc::clone(&recorder));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {TOKEN}").parse().unwrap(),
        );
        headers.insert("X-HOST-ID", HOST_ID.parse().unwrap());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let client = Client::new_with_client(
            &format!("http://{addr}"),
            http,
            backpack_client::Hooks::none(),
        );
        Self { recorder, client }
    }

    /// Queues `reply`, runs the client call, and checks the implementation saw exactly `expected`.
    async fn call<R: Send + 'static, T, E>(
        &self,
        reply: R,
        expected: Call,
        with_host_id: bool,
        request: impl std::future::Future<Output = Result<ResponseValue<T>, Error<E>>>,
    ) -> Result<ResponseValue<T>, Error<E>> {
        self.recorder
            .replies
            .lock()
            .unwrap()
            .push_back(Box::new(reply));
        let before = self.recorder.seen.lock().unwrap().len();
        let result = request.await;
        let seen = self.recorder.seen.lock().unwrap();
        assert_eq!(seen.len(), before + 1, "the implementation was called once");
        assert_eq!(
            seen[before],
            Seen {
                bearer: TOKEN.into(),
                x_host_id: with_host_id.then(|| HOST_ID.to_string()),
                call: expected,
            }
        );
        assert!(
            self.recorder.replies.lock().unwrap().is_empty(),
            "the reply was used"
        );
        result
    }
}

fn api_error(n: u32) -> ApiError {
    let mut error = ApiError::new(format!("error number {n}"));
    error.message_id = n.is_multiple_of(2).then(|| format!("msg-{n}"));
    error
}

/// Asserts a success with `status` and `body`.
fn assert_ok<T: PartialEq + Debug, E: Debug>(
    result: Result<ResponseValue<T>, Error<E>>,
    status: u16,
    body: T,
) {
    match result {
        Ok(rv) => {
            assert_eq!(rv.status().as_u16(), status);
            assert_eq!(rv.into_inner(), body);
        }
        Err(e) => panic!("expected {status}, got {e:?}"),
    }
}

/// Asserts a declared error with `status` carrying `body`.
fn assert_api_error<T: Debug>(
    result: Result<ResponseValue<T>, Error<ApiError>>,
    status: u16,
    body: ApiError,
) {
    match result {
        Err(Error::ErrorResponse(rv)) => {
            assert_eq!(rv.status().as_u16(), status);
            assert_eq!(rv.into_inner(), body);
        }
        other => panic!("expected a declared {status} error, got {other:?}"),
    }
}

fn user_id() -> Uuid {
    Uuid::parse_str("1d5a7c2e-0b9f-4a35-9a55-5b8f3e0c9d11").unwrap()
}

fn item_id() -> Uuid {
    Uuid::parse_str("4d8cd62e-a579-4dae-af8c-3172f96f8f7c").unwrap()
}

fn created_items() -> Vec<CreatedItem> {
    vec![
        CreatedItem::new()
            .with_item_id(item_id().to_string())
            .with_item_sku("sku.1")
            .with_item_type("game_key")
            .with_project_id(8)
            .with_merchant_id(7)
            .with_is_external_vc(false),
    ]
}

fn backpack_item() -> BackpackItem {
    BackpackItem::new(
        item_id().to_string(),
        "sku.1",
        "Sword",
        "https://example.com/i.png",
        8,
        7,
    )
    .with_description("A sword")
    .with_item_type("virtual_item")
    .with_price(1.5)
    .with_currency("USD")
    .with_game_name("Game")
    .with_external_game_id("g-1")
    .with_created_at("2024-01-01T00:00:00Z")
    .with_item_status("new")
    .with_quantity(3)
    .with_is_external_vc(true)
    .with_platform("steam")
}

#[tokio::test]
async fn get_games_round_trips() {
    let h = Harness::start().await;
    let expected = Call::GetGames {
        merchant_id: 7,
        project_id: 8,
    };
    for status in [StatusCode::OK, StatusCode::ACCEPTED] {
        let games = GetGamesResponse::new(
            serde_json::json!([{"external_game_id": "g-1", "game_name": "Game"}]),
        );
        let result = h
            .call(
                server::GetGamesResponse::Success(status, games.clone()),
                expected.clone(),
                true,
                h.client
                    .get_games()
                    .merchant_id(7u32)
                    .project_id(8u32)
                    .send(),
            )
            .await;
        assert_ok(result, status.as_u16(), games);
    }
}

#[tokio::test]
async fn update_game_details_round_trips() {
    let h = Harness::start().await;
    let body = UpdateGameRequest::new("g-1").with_game_name("New name");
    let expected = Call::UpdateGameDetails {
        merchant_id: 7,
        project_id: 8,
        body: body.clone(),
    };
    let send = || {
        h.client
            .update_game_details()
            .merchant_id(7u32)
            .project_id(8u32)
            .body(body.clone())
            .send()
    };
    let result = h
        .call(
            server::UpdateGameDetailsResponse::NoContent,
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 204, ());
    let result = h
        .call(
            server::UpdateGameDetailsResponse::Unauthorized(api_error(1)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 401, api_error(1));
    let result = h
        .call(
            server::UpdateGameDetailsResponse::UnprocessableEntity(api_error(2)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 422, api_error(2));
}

#[tokio::test]
async fn create_game_round_trips() {
    let h = Harness::start().await;
    let body = CreateGameRequest::new()
        .with_external_game_id("g-1")
        .with_game_name("Game")
        .with_game_image_url("https://example.com/g.png")
        .with_merchant_id(7);
    let expected = Call::CreateGame {
        merchant_id: 7,
        project_id: 8,
        body: body.clone(),
    };
    let send = || {
        h.client
            .create_game()
            .merchant_id(7u32)
            .project_id(8u32)
            .body(body.clone())
            .send()
    };
    let created = CreatedGame::new("game-42");
    let result = h
        .call(
            server::CreateGameResponse::Created(created.clone()),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 201, created);
    let result = h
        .call(
            server::CreateGameResponse::BadRequest(api_error(3)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(3));
    let result = h
        .call(
            server::CreateGameResponse::InternalServerError(api_error(4)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(4));
}

#[tokio::test]
async fn create_game_keys_round_trips() {
    let h = Harness::start().await;
    let body = vec![
        NewGameKey::new("https://example.com/k.png", "key.1", "AAAA-BBBB")
            .with_description("A key")
            .with_external_game_id("g-1"),
        NewGameKey::new("https://example.com/k2.png", "key.2", "CCCC-DDDD"),
    ];
    let expected = Call::CreateGameKeys {
        merchant_id: 7,
        project_id: 8,
        user_id: user_id(),
        body: body.clone(),
    };
    let send = || {
        h.client
            .create_game_keys()
            .merchant_id(7u32)
            .project_id(8u32)
            .user_id(user_id())
            .body(body.clone())
            .send()
    };
    for status in [StatusCode::OK, StatusCode::CREATED] {
        let result = h
            .call(
                server::CreateGameKeysResponse::Success(status, created_items()),
                expected.clone(),
                true,
                send(),
            )
            .await;
        assert_ok(result, status.as_u16(), created_items());
    }
    let result = h
        .call(
            server::CreateGameKeysResponse::BadRequest(api_error(5)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(5));
    let result = h
        .call(
            server::CreateGameKeysResponse::InternalServerError(api_error(6)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(6));
}

#[tokio::test]
async fn create_promo_codes_round_trips() {
    let h = Harness::start().await;
    let body = vec![
        NewPromoCode::new()
            .with_item_sku("promo.1")
            .with_promo_code("WINTER")
            .with_external_game_id("g-1"),
    ];
    let expected = Call::CreatePromoCodes {
        merchant_id: 7,
        project_id: 8,
        user_id: user_id(),
        body: body.clone(),
    };
    let send = || {
        h.client
            .create_promo_codes()
            .merchant_id(7u32)
            .project_id(8u32)
            .user_id(user_id())
            .body(body.clone())
            .send()
    };
    let result = h
        .call(
            server::CreatePromoCodesResponse::Success(StatusCode::CREATED, created_items()),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 201, created_items());
    let result = h
        .call(
            server::CreatePromoCodesResponse::BadRequest(api_error(7)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(7));
    let result = h
        .call(
            server::CreatePromoCodesResponse::InternalServerError(api_error(8)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(8));
}

#[tokio::test]
async fn create_virtual_currency_round_trips() {
    let h = Harness::start().await;
    let body = vec![
        NewVirtualCurrency::new(
            "https://example.com/c.png",
            "gold.100",
            "100 gold",
            4.99,
            "USD",
            100,
        )
        .with_game_name("Game")
        .with_external_game_id("g-1")
        .with_platform("steam"),
    ];
    let expected = Call::CreateVirtualCurrency {
        merchant_id: 7,
        project_id: 8,
        user_id: user_id(),
        body: body.clone(),
    };
    let send = || {
        h.client
            .create_virtual_currency()
            .merchant_id(7u32)
            .project_id(8u32)
            .user_id(user_id())
            .body(body.clone())
            .send()
    };
    let result = h
        .call(
            server::CreateVirtualCurrencyResponse::Success(StatusCode::OK, created_items()),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 200, created_items());
    let result = h
        .call(
            server::CreateVirtualCurrencyResponse::BadRequest(api_error(9)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(9));
    let result = h
        .call(
            server::CreateVirtualCurrencyResponse::InternalServerError(api_error(10)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(10));
}

#[tokio::test]
async fn create_virtual_items_round_trips() {
    let h = Harness::start().await;
    let body = vec![
        NewVirtualItem::new("sword.1", "Sword", "https://example.com/s.png")
            .with_description("Sharp")
            .with_external_game_id("g-1"),
    ];
    let expected = Call::CreateVirtualItems {
        merchant_id: 7,
        project_id: 8,
        user_id: user_id(),
        body: body.clone(),
    };
    let send = || {
        h.client
            .create_virtual_items()
            .merchant_id(7u32)
            .project_id(8u32)
            .user_id(user_id())
            .body(body.clone())
            .send()
    };
    let result = h
        .call(
            server::CreateVirtualItemsResponse::Success(StatusCode::CREATED, created_items()),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 201, created_items());
    let result = h
        .call(
            server::CreateVirtualItemsResponse::BadRequest(api_error(11)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(11));
    let result = h
        .call(
            server::CreateVirtualItemsResponse::InternalServerError(api_error(12)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(12));
}

#[tokio::test]
async fn user_backpack_items_list_round_trips() {
    let h = Harness::start().await;
    // With both query parameters, then with none (the spec gives no defaults: `None` on both sides).
    for (offset, limit) in [(Some(5u32), Some(20u32)), (None, None)] {
        let expected = Call::UserBackpackItemsList {
            merchant_id: 7,
            project_id: 8,
            user_id: user_id(),
            offset,
            limit,
        };
        let send = || {
            let mut b = h
                .client
                .user_backpack_items_list()
                .merchant_id(7u32)
                .project_id(8u32)
                .user_id(user_id());
            if let Some(o) = offset {
                b = b.offset(o);
            }
            if let Some(l) = limit {
                b = b.limit(l);
            }
            b.send()
        };
        let items = vec![backpack_item()];
        let result = h
            .call(
                server::UserBackpackItemsListResponse::Ok(items.clone()),
                expected.clone(),
                true,
                send(),
            )
            .await;
        assert_ok(result, 200, items);
        let result = h
            .call(
                server::UserBackpackItemsListResponse::BadRequest(api_error(13)),
                expected.clone(),
                true,
                send(),
            )
            .await;
        assert_api_error(result, 400, api_error(13));
        let result = h
            .call(
                server::UserBackpackItemsListResponse::InternalServerError(api_error(14)),
                expected,
                true,
                send(),
            )
            .await;
        assert_api_error(result, 500, api_error(14));
    }
}

#[tokio::test]
async fn delete_item_round_trips() {
    let h = Harness::start().await;
    let expected = Call::DeleteItem {
        merchant_id: 7,
        project_id: 8,
        user_id: user_id(),
        item_id: item_id(),
    };
    let send = || {
        h.client
            .delete_item()
            .merchant_id(7u32)
            .project_id(8u32)
            .user_id(user_id())
            .item_id(item_id())
            .send()
    };
    let result = h
        .call(
            server::DeleteItemResponse::NoContent,
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_ok(result, 204, ());
    let result = h
        .call(
            server::DeleteItemResponse::BadRequest(api_error(15)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(15));
    let result = h
        .call(
            server::DeleteItemResponse::NotFound(api_error(16)),
            expected.clone(),
            true,
            send(),
        )
        .await;
    assert_api_error(result, 404, api_error(16));
    let result = h
        .call(
            server::DeleteItemResponse::InternalServerError(api_error(17)),
            expected,
            true,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(17));
}

#[tokio::test]
async fn get_user_backpack_items_round_trips() {
    let h = Harness::start().await;
    // All query parameters set (a repeated enum list included), then none: the spec's defaults
    // (offset 0, limit 50) reach the implementation.
    let full = Call::GetUserBackpackItems {
        offset: 10,
        limit: 25,
        group: Some("game_name".into()),
        item_type: vec![ItemType::GameKey, ItemType::VirtualCurrency],
    };
    let empty = Call::GetUserBackpackItems {
        offset: 0,
        limit: 50,
        group: None,
        item_type: Vec::new(),
    };
    for (expected, send_all) in [(full, true), (empty, false)] {
        let send = || {
            let b = h.client.get_user_backpack_items();
            let b = if send_all {
                b.offset(10u32)
                    .limit(25u32)
                    .group("game_name")
                    .item_type(vec![ItemType::GameKey, ItemType::VirtualCurrency])
            } else {
                b
            };
            b.send()
        };
        let items = vec![backpack_item(), {
            let mut second = backpack_item();
            second.item_id = "second".into();
            second
        }];
        let result = h
            .call(
                server::GetUserBackpackItemsResponse::Ok(items.clone()),
                expected.clone(),
                false,
                send(),
            )
            .await;
        assert_ok(result, 200, items);
        let result = h
            .call(
                server::GetUserBackpackItemsResponse::BadRequest(api_error(18)),
                expected.clone(),
                false,
                send(),
            )
            .await;
        assert_api_error(result, 400, api_error(18));
        let result = h
            .call(
                server::GetUserBackpackItemsResponse::InternalServerError(api_error(19)),
                expected,
                false,
                send(),
            )
            .await;
        assert_api_error(result, 500, api_error(19));
    }
}

#[tokio::test]
async fn get_user_backpack_item_round_trips() {
    let h = Harness::start().await;
    let expected = Call::GetUserBackpackItem { item_id: item_id() };
    let send = || h.client.get_user_backpack_item().item_id(item_id()).send();
    let result = h
        .call(
            server::GetUserBackpackItemResponse::Ok(backpack_item()),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_ok(result, 200, backpack_item());
    let result = h
        .call(
            server::GetUserBackpackItemResponse::BadRequest(api_error(20)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(20));
    let result = h
        .call(
            server::GetUserBackpackItemResponse::NotFound(api_error(21)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 404, api_error(21));
    let result = h
        .call(
            server::GetUserBackpackItemResponse::InternalServerError(api_error(22)),
            expected,
            false,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(22));
}

fn move_to_game() -> MoveToGameRequest {
    MoveToGameRequest::new(8, 7, item_id().to_string(), "player-1")
}

#[tokio::test]
async fn move_user_virtual_currency_to_game_round_trips() {
    let h = Harness::start().await;
    let expected = Call::MoveUserVirtualCurrencyToGame {
        body: move_to_game(),
    };
    let send = || {
        h.client
            .move_user_virtual_currency_to_game()
            .body(move_to_game())
            .send()
    };
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToGameResponse::Ok,
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_ok(result, 200, ());
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToGameResponse::BadRequest(api_error(23)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(23));
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToGameResponse::NotFound(api_error(24)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 404, api_error(24));
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToGameResponse::InternalServerError(api_error(25)),
            expected,
            false,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(25));
}

#[tokio::test]
async fn move_user_virtual_currency_to_wallet_round_trips() {
    let h = Harness::start().await;
    let body = MoveToWalletRequest::new(8, 7, item_id().to_string());
    let expected = Call::MoveUserVirtualCurrencyToWallet { body: body.clone() };
    let send = || {
        h.client
            .move_user_virtual_currency_to_wallet()
            .body(body.clone())
            .send()
    };
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToWalletResponse::Ok,
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_ok(result, 200, ());
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToWalletResponse::BadRequest(api_error(26)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(26));
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToWalletResponse::NotFound(api_error(27)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 404, api_error(27));
    let result = h
        .call(
            server::MoveUserVirtualCurrencyToWalletResponse::InternalServerError(api_error(28)),
            expected,
            false,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(28));
}

#[tokio::test]
async fn move_user_virtual_item_to_game_round_trips() {
    let h = Harness::start().await;
    let expected = Call::MoveUserVirtualItemToGame {
        body: move_to_game(),
    };
    let send = || {
        h.client
            .move_user_virtual_item_to_game()
            .body(move_to_game())
            .send()
    };
    let result = h
        .call(
            server::MoveUserVirtualItemToGameResponse::Ok,
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_ok(result, 200, ());
    let result = h
        .call(
            server::MoveUserVirtualItemToGameResponse::BadRequest(api_error(29)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 400, api_error(29));
    let result = h
        .call(
            server::MoveUserVirtualItemToGameResponse::NotFound(api_error(30)),
            expected.clone(),
            false,
            send(),
        )
        .await;
    assert_api_error(result, 404, api_error(30));
    let result = h
        .call(
            server::MoveUserVirtualItemToGameResponse::InternalServerError(api_error(31)),
            expected,
            false,
            send(),
        )
        .await;
    assert_api_error(result, 500, api_error(31));
}

/// A range variant given a status outside its range is a bug in the implementation: the server
/// answers 500 (the client sees an undeclared response) instead of sending a mislabelled success.
#[tokio::test]
async fn range_variant_with_a_status_outside_the_range_becomes_500() {
    let h = Harness::start().await;
    let expected = Call::GetGames {
        merchant_id: 1,
        project_id: 2,
    };
    let result = h
        .call(
            server::GetGamesResponse::Success(
                StatusCode::NOT_FOUND,
                GetGamesResponse::new(serde_json::Value::Null),
            ),
            expected,
            true,
            h.client
                .get_games()
                .merchant_id(1u32)
                .project_id(2u32)
                .send(),
        )
        .await;
    match result {
        Err(Error::UnexpectedResponse(response)) => assert_eq!(response.status().as_u16(), 500),
        other => panic!("expected an undeclared 500, got {other:?}"),
    }
}

/// Every operation of the spec (as `cargo xtask regen` prepares it) is served, and the list names
/// each exactly once.
#[test]
fn operations_cover_the_spec() {
    let mut ids: Vec<&str> = server::OPERATIONS.iter().map(|op| op.id).collect();
    let root = xtask::workspace_root();
    let overlays = xtask::overlay::load_overlays(&root.join("spec/overlays")).unwrap();
    let doc = xtask::regen::read_prepared(&root, "backpack.yaml", &overlays).unwrap();
    let mut expected: Vec<&str> = xtask::openapi::path_operations(&doc)
        .map(|op| op.op["operationId"].as_str().unwrap())
        .collect();
    assert!(!expected.is_empty());
    ids.sort_unstable();
    expected.sort_unstable();
    assert_eq!(ids, expected);
}
