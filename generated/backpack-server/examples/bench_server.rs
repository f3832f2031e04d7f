//! Benchmark target for `scripts/bench-server.sh`: serves, on two loopback ports of one process,
//!
//! * the generated router (`backpack_server::router`) with a trivial implementation, and
//! * hand-written axum handlers for the same two routes doing the same checks (bearer token,
//!   X-HOST-ID as a UUID, typed path, JSON body) and returning the same bodies,
//!
//! so a load generator can compare requests/s of the two under the same conditions. Prints
//! `generated <url>` and `handwritten <url>` on stdout, then serves until killed.
//!
//! Routes: `GET /web/backpack/items/{itemId}` (bearer, UUID path, JSON item back) and
//! `POST /web/backpack/merchants/{merchantId}/projects/{projectId}/games` (bearer, X-HOST-ID,
//! two integers in the path, a JSON body in, `201` with JSON back).

use std::io::Write as _;
use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use backpack_server::{self as server, BackpackApi, BearerToken, XHostId};
use backpack_types::api::{
    ApiError, BackpackItem, CreateGameRequest, CreatedGame, GetGamesResponse, MoveToGameRequest,
    MoveToWalletRequest, NewGameKey, NewPromoCode, NewVirtualCurrency, NewVirtualItem,
    UpdateGameRequest,
};
use uuid::Uuid;

/// The create-game body the benchmarks send (`scripts/bench-server.sh` sends the same text).
pub const POST_BODY: &str =
    r#"{"external_game_id":"g-1","game_name":"Game","game_image_url":"https://example.com/g.png"}"#;

fn item(item_id: Uuid) -> BackpackItem {
    BackpackItem::new(
        item_id.to_string(),
        "sword.1",
        "Sword",
        "https://example.com/sword.png",
        8,
        7,
    )
    .with_description("A sword")
    .with_item_type("virtual_item")
    .with_game_name("Game")
    .with_external_game_id("g-1")
}

fn created(body: &CreateGameRequest) -> CreatedGame {
    CreatedGame::new(body.external_game_id.clone().unwrap_or_default())
}

/// The trivial implementation behind the generated router.
struct Trivial;

impl BackpackApi for Trivial {
    async fn get_games(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
    ) -> server::GetGamesResponse {
        server::GetGamesResponse::Success(
            StatusCode::OK,
            GetGamesResponse::new(serde_json::json!([])),
        )
    }
    async fn update_game_details(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: UpdateGameRequest,
    ) -> server::UpdateGameDetailsResponse {
        server::UpdateGameDetailsResponse::NoContent
    }
    async fn create_game(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        body: CreateGameRequest,
    ) -> server::CreateGameResponse {
        server::CreateGameResponse::Created(created(&body))
    }
    async fn create_game_keys(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: Vec<NewGameKey>,
    ) -> server::CreateGameKeysResponse {
        server::CreateGameKeysResponse::Success(StatusCode::CREATED, Vec::new())
    }
    async fn create_promo_codes(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: Vec<NewPromoCode>,
    ) -> server::CreatePromoCodesResponse {
        server::CreatePromoCodesResponse::Success(StatusCode::CREATED, Vec::new())
    }
    async fn create_virtual_currency(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: Vec<NewVirtualCurrency>,
    ) -> server::CreateVirtualCurrencyResponse {
        server::CreateVirtualCurrencyResponse::Success(StatusCode::CREATED, Vec::new())
    }
    async fn create_virtual_items(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: Vec<NewVirtualItem>,
    ) -> server::CreateVirtualItemsResponse {
        server::CreateVirtualItemsResponse::Success(StatusCode::CREATED, Vec::new())
    }
    async fn user_backpack_items_list(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: server::UserBackpackItemsListQuery,
    ) -> server::UserBackpackItemsListResponse {
        server::UserBackpackItemsListResponse::Ok(Vec::new())
    }
    async fn delete_item(
        &self,
        _: BearerToken,
        _: XHostId,
        _: u32,
        _: u32,
        _: Uuid,
        _: Uuid,
    ) -> server::DeleteItemResponse {
        server::DeleteItemResponse::NoContent
    }
    async fn get_user_backpack_items(
        &self,
        _: BearerToken,
        _: server::GetUserBackpackItemsQuery,
    ) -> server::GetUserBackpackItemsResponse {
        server::GetUserBackpackItemsResponse::Ok(Vec::new())
    }
    async fn get_user_backpack_item(
        &self,
        _: BearerToken,
        item_id: Uuid,
    ) -> server::GetUserBackpackItemResponse {
        server::GetUserBackpackItemResponse::Ok(item(item_id))
    }
    async fn move_user_virtual_currency_to_game(
        &self,
        _: BearerToken,
        _: MoveToGameRequest,
    ) -> server::MoveUserVirtualCurrencyToGameResponse {
        server::MoveUserVirtualCurrencyToGameResponse::Ok
    }
    async fn move_user_virtual_currency_to_wallet(
        &self,
        _: BearerToken,
        _: MoveToWalletRequest,
    ) -> server::MoveUserVirtualCurrencyToWalletResponse {
        server::MoveUserVirtualCurrencyToWalletResponse::Ok
    }
    async fn move_user_virtual_item_to_game(
        &self,
        _: BearerToken,
        _: MoveToGameRequest,
    ) -> server::MoveUserVirtualItemToGameResponse {
        server::MoveUserVirtualItemToGameResponse::Ok
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = ApiError::new(message);
    (status, Json(body)).into_response()
}

fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.is_empty())
}

async fn hand_get_item(headers: HeaderMap, Path(item_id): Path<Uuid>) -> Response {
    if !has_bearer(&headers) {
        return error(StatusCode::BAD_REQUEST, "missing bearer token");
    }
    Json(item(item_id)).into_response()
}

async fn hand_create_game(
    headers: HeaderMap,
    Path((_merchant_id, _project_id)): Path<(u32, u32)>,
    Json(body): Json<CreateGameRequest>,
) -> Response {
    if !has_bearer(&headers) {
        return error(StatusCode::BAD_REQUEST, "missing bearer token");
    }
    let host_ok = headers
        .get("x-host-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| Uuid::try_parse(v).is_ok());
    if !host_ok {
        return error(StatusCode::BAD_REQUEST, "missing or malformed X-HOST-ID");
    }
    (StatusCode::CREATED, Json(created(&body))).into_response()
}

/// The two routers: generated (with [`Trivial`]) and hand-written.
pub fn routers() -> (axum::Router, axum::Router) {
    let generated = server::router(Arc::new(Trivial));
    let handwritten = axum::Router::new()
        .route("/web/backpack/items/{itemId}", get(hand_get_item))
        .route(
            "/web/backpack/merchants/{merchantId}/projects/{projectId}/games",
            post(hand_create_game),
        );
    (generated, handwritten)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (generated, handwritten) = routers();
    let generated_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let handwritten_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "generated http://{}", generated_listener.local_addr()?)?;
        writeln!(
            out,
            "handwritten http://{}",
            handwritten_listener.local_addr()?
        )?;
        out.flush()?;
    }
    let a = tokio::spawn(async move { axum::serve(generated_listener, generated).await });
    let b = tokio::spawn(async move { axum::serve(handwritten_listener, handwritten).await });
    let (a, b) = tokio::join!(a, b);
    for result in [a, b] {
        result.map_err(std::io::Error::other)??;
    }
    Ok(())
}
