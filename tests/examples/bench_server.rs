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
use backpack_server::{self as server, BackpackApi, RequestContext, ServerError};
use backpack_types::api::{ApiError, BackpackItem, CreateGameRequest, CreatedGame};
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

/// The trivial implementation behind the generated router: the two benchmarked operations
/// (the others answer 501 by default).
struct Trivial;

impl BackpackApi for Trivial {
    async fn create_game(
        &self,
        _: RequestContext,
        input: server::CreateGameInput,
    ) -> Result<server::CreateGameResponse, ServerError> {
        Ok(server::CreateGameResponse::Created(created(&input.body)))
    }
    async fn get_user_backpack_item(
        &self,
        _: RequestContext,
        input: server::GetUserBackpackItemInput,
    ) -> Result<server::GetUserBackpackItemResponse, ServerError> {
        Ok(server::GetUserBackpackItemResponse::Ok(item(input.item_id)))
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

/// The two routers: generated (with `Trivial`) and hand-written.
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
