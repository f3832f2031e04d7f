//! Bad input against the generated server, over real HTTP (reqwest without the generated client,
//! and a raw TCP stream for a chunked body).
//!
//! For each class of bad input the test checks the status the operation documents (see
//! `backpack_server`'s crate docs for the rule), that the body is exactly the API error object
//! `{message_id, message}`, and that the implementation was **not** called. Positive controls
//! (the same requests made well-formed) show that the implementation is reachable, so a zero
//! call count means "rejected", not "broken harness".
//!
//! Run with `cargo test -p workspace-tests --test server_bad_input`.

// Test code: a failed unwrap is a failed test (clippy's in-test allowances skip helper fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use backpack_server::{
    self as server, BackpackApi, BearerToken, RequestContext, ServerConfig, ServerError, XHostId,
};
use backpack_types::api::{ApiError, BackpackItem, CreatedGame, GetGamesResponse};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";
const USER: &str = "1d5a7c2e-0b9f-4a35-9a55-5b8f3e0c9d11";
const ITEM: &str = "4d8cd62e-a579-4dae-af8c-3172f96f8f7c";
const AUTH: (&str, &str) = ("Authorization", "Bearer good-token");
const HOST: (&str, &str) = ("X-HOST-ID", HOST_ID);
const JSON: (&str, &str) = ("Content-Type", "application/json");

const GAMES: &str = "/web/backpack/merchants/7/projects/8/games";

/// Counts calls; answers every operation with a plain success.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Counter {
    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn item() -> BackpackItem {
    BackpackItem::new(ITEM, "s", "n", "u", 8, 7)
}

// Only the operations the positive controls reach; the others answer 501 by default.
impl BackpackApi for Counter {
    async fn get_games(
        &self,
        _: RequestContext,
        _: server::GetGamesInput,
    ) -> Result<server::GetGamesResponse, ServerError> {
        self.hit();
        Ok(server::GetGamesResponse::Success(
            StatusCode::OK,
            GetGamesResponse::new(json!([])),
        ))
    }
    async fn update_game_details(
        &self,
        _: RequestContext,
        _: server::UpdateGameDetailsInput,
    ) -> Result<server::UpdateGameDetailsResponse, ServerError> {
        self.hit();
        Ok(server::UpdateGameDetailsResponse::NoContent)
    }
    async fn create_game(
        &self,
        _: RequestContext,
        _: server::CreateGameInput,
    ) -> Result<server::CreateGameResponse, ServerError> {
        self.hit();
        Ok(server::CreateGameResponse::Created(CreatedGame::new("g")))
    }
    async fn create_game_keys(
        &self,
        _: RequestContext,
        _: server::CreateGameKeysInput,
    ) -> Result<server::CreateGameKeysResponse, ServerError> {
        self.hit();
        Ok(server::CreateGameKeysResponse::Success(
            StatusCode::CREATED,
            Vec::new(),
        ))
    }
    async fn user_backpack_items_list(
        &self,
        _: RequestContext,
        _: server::UserBackpackItemsListInput,
    ) -> Result<server::UserBackpackItemsListResponse, ServerError> {
        self.hit();
        Ok(server::UserBackpackItemsListResponse::Ok(vec![item()]))
    }
    async fn delete_item(
        &self,
        _: RequestContext,
        _: server::DeleteItemInput,
    ) -> Result<server::DeleteItemResponse, ServerError> {
        self.hit();
        Ok(server::DeleteItemResponse::NoContent)
    }
    async fn get_user_backpack_items(
        &self,
        _: RequestContext,
        _: server::GetUserBackpackItemsInput,
    ) -> Result<server::GetUserBackpackItemsResponse, ServerError> {
        self.hit();
        Ok(server::GetUserBackpackItemsResponse::Ok(Vec::new()))
    }
    async fn get_user_backpack_item(
        &self,
        _: RequestContext,
        _: server::GetUserBackpackItemInput,
    ) -> Result<server::GetUserBackpackItemResponse, ServerError> {
        self.hit();
        Ok(server::GetUserBackpackItemResponse::Ok(item()))
    }
    async fn move_user_virtual_item_to_game(
        &self,
        _: RequestContext,
        _: server::MoveUserVirtualItemToGameInput,
    ) -> Result<server::MoveUserVirtualItemToGameResponse, ServerError> {
        self.hit();
        Ok(server::MoveUserVirtualItemToGameResponse::Ok)
    }
}

struct Server {
    addr: SocketAddr,
    counter: Arc<Counter>,
    http: reqwest::Client,
}

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(ServerConfig::default()).await
    }

    async fn start_with(config: ServerConfig) -> Self {
        let counter = Arc::new(Counter::default());
        // Bound before serving starts: requests wait in the backlog, no readiness sleep needed.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = server::router_with_config(Arc::clone(&counter), config);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            addr,
            counter,
            http: reqwest::Client::new(),
        }
    }

    fn calls(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .http
            .request(method, format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    /// Sends the request and asserts a rejection with `status` and the API error body, and that the
    /// implementation was not called. Returns the error message.
    async fn rejects(
        &self,
        status: u16,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> String {
        let before = self.calls();
        let reply = self
            .send(method, path, headers, body.map(|b| b.as_bytes().to_vec()))
            .await;
        let message = assert_api_error(&reply, status, &format!("{method} {path} {body:?}"));
        assert_eq!(
            self.calls(),
            before,
            "{method} {path}: the implementation must not be called"
        );
        message
    }

    /// Sends the request and asserts it reached the implementation with `status`.
    async fn accepts(
        &self,
        status: u16,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) {
        let before = self.calls();
        let reply = self
            .send(method, path, headers, body.map(|b| b.as_bytes().to_vec()))
            .await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {path}: {}",
            reply.text
        );
        assert_eq!(
            self.calls(),
            before + 1,
            "{method} {path}: the implementation is called once"
        );
    }
}

/// Asserts `status` and a body that is exactly `{"message_id": <string>, "message": <string>}`.
fn assert_api_error(reply: &Reply, status: u16, what: &str) -> String {
    assert_eq!(reply.status.as_u16(), status, "{what}: {}", reply.text);
    assert_eq!(
        reply
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("application/json"),
        "{what}"
    );
    let value: Value =
        serde_json::from_str(&reply.text).unwrap_or_else(|e| panic!("{what}: {e}: {}", reply.text));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["message", "message_id"], "{what}");
    let error: ApiError = serde_json::from_value(value.clone()).unwrap();
    let id = error
        .message_id
        .unwrap_or_else(|| panic!("{what}: message_id is null"));
    assert!(
        Uuid::parse_str(&id).is_ok(),
        "{what}: message_id {id:?} is a UUID"
    );
    assert!(!error.message.is_empty(), "{what}");
    error.message
}

fn game_keys_path() -> String {
    format!("/web/backpack/merchants/7/projects/8/user/{USER}/game_keys")
}

const GAME_BODY: &str = r#"{"external_game_id":"g-1"}"#;
const MOVE_BODY: &str = r#"{"project_id":8,"merchant_id":7,"item_id":"i","user_game_id":"p"}"#;

#[tokio::test]
async fn well_formed_requests_reach_the_implementation() {
    let s = Server::start().await;
    s.accepts(201, "POST", GAMES, &[AUTH, HOST, JSON], Some(GAME_BODY))
        .await;
    s.accepts(204, "PUT", GAMES, &[AUTH, HOST, JSON], Some(GAME_BODY))
        .await;
    s.accepts(200, "GET", GAMES, &[AUTH, HOST], None).await;
    s.accepts(
        201,
        "POST",
        &game_keys_path(),
        &[AUTH, HOST, JSON],
        Some(r#"[{"image_url":"u","item_sku":"s","code":"c"}]"#),
    )
    .await;
    s.accepts(
        200,
        "GET",
        "/web/backpack/items?offset=1&limit=2&item_type=game_key&item_type=promo_code",
        &[AUTH],
        None,
    )
    .await;
    s.accepts(
        200,
        "GET",
        &format!("/web/backpack/items/{ITEM}"),
        &[AUTH],
        None,
    )
    .await;
    s.accepts(
        200,
        "POST",
        "/web/backpack/virtual_items/move_to_game",
        &[AUTH, ("Content-Type", "application/json; charset=utf-8")],
        Some(MOVE_BODY),
    )
    .await;
    // The scheme name is case-insensitive (RFC 9110), and a `+json` media type is JSON.
    s.accepts(
        200,
        "GET",
        &format!("/web/backpack/items/{ITEM}"),
        &[("Authorization", "bearer a.b-c_d~e+f/g==")],
        None,
    )
    .await;
    s.accepts(
        201,
        "POST",
        GAMES,
        &[AUTH, HOST, ("Content-Type", "application/merge-patch+json")],
        Some(GAME_BODY),
    )
    .await;
}

#[tokio::test]
async fn missing_bearer_token_gets_the_documented_auth_status() {
    let s = Server::start().await;
    // create-game documents no 401: its bad-input status (400) is used.
    s.rejects(400, "POST", GAMES, &[HOST, JSON], Some(GAME_BODY))
        .await;
    // update-game-details documents 401.
    s.rejects(401, "PUT", GAMES, &[HOST, JSON], Some(GAME_BODY))
        .await;
    // get-games documents no 4xx at all: 401, HTTP's own status for this.
    s.rejects(401, "GET", GAMES, &[HOST], None).await;
    s.rejects(
        400,
        "GET",
        &format!("/web/backpack/items/{ITEM}"),
        &[],
        None,
    )
    .await;
    s.rejects(
        400,
        "POST",
        "/web/backpack/virtual_currency/receive",
        &[JSON],
        Some(MOVE_BODY),
    )
    .await;
    // A 401 says how to authenticate.
    let reply = s
        .send("PUT", GAMES, &[HOST, JSON], Some(GAME_BODY.into()))
        .await;
    assert_eq!(reply.headers.get("www-authenticate").unwrap(), "Bearer");
}

#[tokio::test]
async fn malformed_bearer_token_is_rejected() {
    let s = Server::start().await;
    let item = format!("/web/backpack/items/{ITEM}");
    for value in [
        "Basic Z29vZDp0b2tlbg==",
        "Bearer",
        "Bearer ",
        "Bearer two words",
        "Bearertoken",
        "Bearer ===",
        "Bearer t\u{00e9}st",
    ] {
        // reqwest refuses non-ASCII header values, so that case goes as raw bytes below.
        if !value.is_ascii() {
            continue;
        }
        s.rejects(400, "GET", &item, &[("Authorization", value)], None)
            .await;
        s.rejects(
            401,
            "PUT",
            GAMES,
            &[("Authorization", value), HOST, JSON],
            Some(GAME_BODY),
        )
        .await;
    }
    // The header given twice is ambiguous.
    s.rejects(
        400,
        "GET",
        &item,
        &[AUTH, ("Authorization", "Bearer other")],
        None,
    )
    .await;
    // A non-UTF-8 header value.
    let reply = raw_request(
        s.addr,
        format!("GET {item} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer t\u{00e9}st\r\n\r\n").as_bytes(),
    )
    .await;
    assert_api_error(&reply, 400, "non-ASCII bearer");
    assert_eq!(s.calls(), 0);
}

#[tokio::test]
async fn missing_or_malformed_x_host_id_is_rejected() {
    let s = Server::start().await;
    let delete = format!("/web/backpack/merchants/7/projects/8/users/{USER}/items/{ITEM}");
    s.rejects(400, "POST", GAMES, &[AUTH, JSON], Some(GAME_BODY))
        .await;
    s.rejects(422, "PUT", GAMES, &[AUTH, JSON], Some(GAME_BODY))
        .await;
    s.rejects(400, "GET", GAMES, &[AUTH], None).await;
    s.rejects(400, "DELETE", &delete, &[AUTH], None).await;
    for bad in [
        "not-a-uuid",
        "",
        "497f6eca-6276-4993-bfeb-53cbbbba6f0",
        "497f6eca-6276-4993-bfeb-53cbbbba6f08x",
    ] {
        let message = s
            .rejects(400, "DELETE", &delete, &[AUTH, ("X-HOST-ID", bad)], None)
            .await;
        assert!(message.contains("X-HOST-ID"), "{message}");
        s.rejects(
            422,
            "PUT",
            GAMES,
            &[AUTH, ("X-HOST-ID", bad), JSON],
            Some(GAME_BODY),
        )
        .await;
    }
    s.rejects(
        400,
        "DELETE",
        &delete,
        &[AUTH, HOST, ("X-HOST-ID", HOST_ID)],
        None,
    )
    .await;
    s.accepts(204, "DELETE", &delete, &[AUTH, HOST], None).await;
}

#[tokio::test]
async fn malformed_path_values_are_rejected() {
    let s = Server::start().await;
    for merchant in ["abc", "-1", "4294967296", "1.5", "%20"] {
        let path = format!("/web/backpack/merchants/{merchant}/projects/8/games");
        let message = s
            .rejects(400, "POST", &path, &[AUTH, HOST, JSON], Some(GAME_BODY))
            .await;
        assert!(message.contains("merchantId"), "{message}");
        s.rejects(422, "PUT", &path, &[AUTH, HOST, JSON], Some(GAME_BODY))
            .await;
        s.rejects(400, "GET", &path, &[AUTH, HOST], None).await;
    }
    for user in ["not-a-uuid", "1d5a7c2e0b9f4a359a555b8f3e0c9d1"] {
        let path = format!("/web/backpack/merchants/7/projects/8/user/{user}/game_keys");
        s.rejects(400, "POST", &path, &[AUTH, HOST, JSON], Some("[]"))
            .await;
    }
    s.rejects(400, "GET", "/web/backpack/items/42", &[AUTH], None)
        .await;
    s.rejects(400, "GET", "/web/backpack/items/%FF%FE", &[AUTH], None)
        .await;
    // A missing path value (an empty segment) still matches the route; it is bad input.
    let message = s
        .rejects(
            400,
            "POST",
            "/web/backpack/merchants//projects/8/games",
            &[AUTH, HOST, JSON],
            Some(GAME_BODY),
        )
        .await;
    assert_eq!(message, "missing path parameter `merchantId`");
    s.rejects(
        422,
        "PUT",
        "/web/backpack/merchants/7/projects//games",
        &[AUTH, HOST, JSON],
        Some(GAME_BODY),
    )
    .await;
    s.rejects(
        400,
        "DELETE",
        &format!("/web/backpack/merchants/7/projects/8/users//items/{ITEM}"),
        &[AUTH, HOST],
        None,
    )
    .await;
}

#[tokio::test]
async fn malformed_query_values_are_rejected() {
    let s = Server::start().await;
    let list = format!("/web/backpack/merchants/7/projects/8/users/{USER}/items");
    for query in [
        "offset=abc",
        "limit=-1",
        "offset=4294967296",
        "offset=1&offset=2",
        "limit=",
        "group=a&group=b",
    ] {
        s.rejects(
            400,
            "GET",
            &format!("/web/backpack/items?{query}"),
            &[AUTH],
            None,
        )
        .await;
        if !query.starts_with("group") {
            s.rejects(400, "GET", &format!("{list}?{query}"), &[AUTH, HOST], None)
                .await;
        }
    }
    // Unknown parameters are ignored, as HTTP APIs usually do.
    s.accepts(
        200,
        "GET",
        &format!("{list}?unknown=1"),
        &[AUTH, HOST],
        None,
    )
    .await;
}

#[tokio::test]
async fn unknown_enum_values_in_a_request_are_rejected() {
    let s = Server::start().await;
    for query in [
        "item_type=bogus",
        "item_type=game_key&item_type=Game_Key",
        "item_type=",
    ] {
        let message = s
            .rejects(
                400,
                "GET",
                &format!("/web/backpack/items?{query}"),
                &[AUTH],
                None,
            )
            .await;
        assert!(
            message.contains("game_key, virtual_item, virtual_currency, promo_code"),
            "{message}"
        );
    }
    s.accepts(
        200,
        "GET",
        "/web/backpack/items?item_type=virtual_currency",
        &[AUTH],
        None,
    )
    .await;
}

#[tokio::test]
async fn invalid_json_is_rejected() {
    let s = Server::start().await;
    for body in [
        "{",
        "not json",
        "{} trailing",
        "{\"external_game_id\": }",
        "\u{feff}{}",
    ] {
        let message = s
            .rejects(400, "POST", GAMES, &[AUTH, HOST, JSON], Some(body))
            .await;
        assert!(message.contains("not valid JSON"), "{body}: {message}");
        s.rejects(422, "PUT", GAMES, &[AUTH, HOST, JSON], Some(body))
            .await;
        s.rejects(
            400,
            "POST",
            "/web/backpack/virtual_items/move_to_game",
            &[AUTH, JSON],
            Some(body),
        )
        .await;
    }
    // No body at all where one is required.
    s.rejects(400, "POST", GAMES, &[AUTH, HOST, JSON], None)
        .await;
    s.rejects(422, "PUT", GAMES, &[AUTH, HOST, JSON], None)
        .await;
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_are_rejected() {
    let s = Server::start().await;
    let keys = game_keys_path();
    let cases: [(&str, &str, &str, u16); 11] = [
        // update-game-details requires external_game_id.
        ("PUT", GAMES, r#"{"game_name":"x"}"#, 422),
        ("PUT", GAMES, "[]", 422),
        // serde would fill a struct from a positional array; the spec says object.
        ("PUT", GAMES, r#"["g-1", null, null]"#, 422),
        (
            "POST",
            keys.as_str(),
            r#"[["u", "s", "c", null, null]]"#,
            400,
        ),
        ("POST", GAMES, r#"{"merchant_id":"seven"}"#, 400),
        ("POST", GAMES, "null", 400),
        // An object where the spec has an array, and an element missing a required field.
        (
            "POST",
            keys.as_str(),
            r#"{"image_url":"u","item_sku":"s","code":"c"}"#,
            400,
        ),
        (
            "POST",
            keys.as_str(),
            r#"[{"image_url":"u","item_sku":"s"}]"#,
            400,
        ),
        (
            "POST",
            "/web/backpack/virtual_currency/move_to_game",
            r#"{"project_id":-8,"merchant_id":7,"item_id":"i","user_game_id":"p"}"#,
            400,
        ),
        (
            "POST",
            "/web/backpack/virtual_currency/receive",
            r#"{"project_id":8,"merchant_id":7}"#,
            400,
        ),
        (
            "POST",
            "/web/backpack/virtual_items/move_to_game",
            r#"{"project_id":8,"merchant_id":7,"item_id":1,"user_game_id":"p"}"#,
            400,
        ),
    ];
    for (method, path, body, status) in cases {
        let headers: &[(&str, &str)] = if path.starts_with("/web/backpack/merchants") {
            &[AUTH, HOST, JSON]
        } else {
            &[AUTH, JSON]
        };
        let message = s.rejects(status, method, path, headers, Some(body)).await;
        assert!(
            message.contains("does not match the schema"),
            "{body}: {message}"
        );
    }
}

#[tokio::test]
async fn missing_or_non_json_content_type_is_rejected() {
    let s = Server::start().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut headers = vec![AUTH, HOST];
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct));
        }
        let message = s
            .rejects(415, "POST", GAMES, &headers, Some(GAME_BODY))
            .await;
        assert!(message.contains("Content-Type"), "{message}");
        s.rejects(415, "PUT", GAMES, &headers, Some(GAME_BODY))
            .await;
    }
}

/// A JSON body of exactly `len` bytes: `{"external_game_id":"xxxx…"}`.
fn game_body_of_len(len: usize) -> String {
    let overhead = r#"{"external_game_id":""}"#.len();
    format!(r#"{{"external_game_id":"{}"}}"#, "x".repeat(len - overhead))
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = Server::start().await;
    let limit = ServerConfig::DEFAULT_BODY_LIMIT;
    assert_eq!(limit, 1024 * 1024);
    s.accepts(
        201,
        "POST",
        GAMES,
        &[AUTH, HOST, JSON],
        Some(&game_body_of_len(limit)),
    )
    .await;
    let message = s
        .rejects(
            413,
            "POST",
            GAMES,
            &[AUTH, HOST, JSON],
            Some(&game_body_of_len(limit + 1)),
        )
        .await;
    assert!(message.contains("larger"), "{message}");
    // 413 whatever the operation's bad-input status.
    s.rejects(
        413,
        "PUT",
        GAMES,
        &[AUTH, HOST, JSON],
        Some(&game_body_of_len(limit + 1)),
    )
    .await;
}

#[tokio::test]
async fn configured_body_limit_applies_to_chunked_bodies_too() {
    let s = Server::start_with(ServerConfig::default().with_body_limit(64)).await;
    s.accepts(
        201,
        "POST",
        GAMES,
        &[AUTH, HOST, JSON],
        Some(&game_body_of_len(64)),
    )
    .await;
    s.rejects(
        413,
        "POST",
        GAMES,
        &[AUTH, HOST, JSON],
        Some(&game_body_of_len(65)),
    )
    .await;
    // Without Content-Length the limit is enforced while reading.
    let body = game_body_of_len(150);
    let mut request = format!(
        "POST {GAMES} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer t\r\nX-HOST-ID: {HOST_ID}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    for chunk in body.as_bytes().chunks(50) {
        request.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            std::str::from_utf8(chunk).unwrap()
        ));
    }
    request.push_str("0\r\n\r\n");
    let reply = raw_request(s.addr, request.as_bytes()).await;
    assert_api_error(&reply, 413, "chunked body over the limit");
    assert_eq!(
        s.calls(),
        1,
        "only the body within the limit reached the implementation"
    );
}

#[tokio::test]
async fn unknown_routes_get_404_and_wrong_methods_405() {
    let s = Server::start().await;
    for path in [
        "/",
        "/nope",
        "/web/backpack/items/",
        "/web/backpack/items/a/b",
        "/web/backpack/merchants/7/projects/8/games/extra",
    ] {
        s.rejects(404, "GET", path, &[AUTH, HOST], None).await;
        s.rejects(404, "POST", path, &[AUTH, HOST, JSON], Some("{}"))
            .await;
    }
    let cases = [
        ("DELETE", GAMES, "GET,HEAD,PUT,POST"),
        ("PATCH", "/web/backpack/items", "GET,HEAD"),
        ("POST", "/web/backpack/items", "GET,HEAD"),
        ("GET", "/web/backpack/virtual_currency/receive", "POST"),
    ];
    for (method, path, allow) in cases {
        s.rejects(405, method, path, &[AUTH, HOST, JSON], Some("{}"))
            .await;
        let reply = s.send(method, path, &[AUTH], None).await;
        let mut got: Vec<&str> = reply
            .headers
            .get("allow")
            .unwrap()
            .to_str()
            .unwrap()
            .split(',')
            .map(str::trim)
            .collect();
        let mut want: Vec<&str> = allow.split(',').collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
    }
    // Every route of the spec exists with exactly its method (a request with no credentials
    // reaches the route and is refused by the handler, not by routing).
    for op in server::OPERATIONS {
        let path = op
            .path
            .replace("{merchantId}", "7")
            .replace("{projectId}", "8")
            .replace("{userId}", USER)
            .replace("{itemId}", ITEM);
        let reply = s.send(op.method, &path, &[], None).await;
        assert!(
            ![404, 405].contains(&reply.status.as_u16()),
            "{} {path}: {}",
            op.method,
            reply.status
        );
    }
    assert_eq!(s.calls(), 0);
}

/// A writer the log subscriber appends to.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// The subscriber is the process-wide default: a thread-local one races with tracing's callsite
// interest cache when tests run in parallel. It therefore also sees the other tests' logs, which
// must not hold secrets either; this test's own rejections are found by their `message_id`.
#[tokio::test]
async fn secrets_never_appear_in_error_bodies_or_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only this test sets a subscriber");

    let s = Server::start().await;
    let secret_token = "Bearer sEcReT.t0ken-value";
    let secret_host = "sEcReT-host-value";
    let mut bodies = Vec::new();
    // Bad X-HOST-ID with a good-looking token, a malformed token, and a good pair with a bad body.
    for headers in [
        vec![
            ("Authorization", secret_token),
            ("X-HOST-ID", secret_host),
            JSON,
        ],
        vec![
            ("Authorization", "Bearer sEcReT.t0ken value"),
            ("X-HOST-ID", secret_host),
            JSON,
        ],
        vec![
            ("Authorization", secret_token),
            ("X-HOST-ID", "497f6eca-6276-4993-bfeb-53cbbbba6f08"),
            JSON,
        ],
    ] {
        for method in ["POST", "PUT"] {
            let reply = s
                .send(method, GAMES, &headers, Some(b"{bad json".to_vec()))
                .await;
            assert!(reply.status.is_client_error());
            bodies.push(reply.text);
        }
    }
    assert_eq!(s.calls(), 0);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for body in &bodies {
        let error: ApiError = serde_json::from_str(body).unwrap();
        let id = error.message_id.unwrap();
        assert!(
            logs.lines()
                .any(|l| l.contains("request rejected") && l.contains(&id)),
            "rejection {id} was logged: {logs}"
        );
    }
    for text in bodies.iter().chain([&logs]) {
        assert!(!text.contains("sEcReT"), "a secret leaked: {text}");
        assert!(!text.contains("497f6eca"), "the X-HOST-ID leaked: {text}");
    }
    // The secret types print as `***`.
    assert_eq!(
        format!("{:?}", BearerToken::new("sEcReT")),
        "BearerToken(***)"
    );
    assert_eq!(format!("{:?}", XHostId::new("sEcReT")), "XHostId(***)");
}

/// Writes `request` to a fresh connection and reads the whole (`Connection: close`) response.
async fn raw_request(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status_line = lines.next().unwrap();
    let status =
        StatusCode::from_u16(status_line.split(' ').nth(1).unwrap().parse().unwrap()).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    Reply {
        status,
        headers,
        text: body.to_string(),
    }
}
