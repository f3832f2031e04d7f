//! What the generated server does with answers outside the documented responses, over loopback
//! HTTP: a [`ServerError`] becomes `500 {message_id, message}` with the cause logged but not sent,
//! a method the implementation leaves out answers `501`, and what a middleware layer puts in the
//! request's extensions reaches the method through the [`RequestContext`].
//!
//! Run with `cargo test -p workspace-tests --test server_errors`.

// Test code: a failed unwrap is a failed test (clippy's in-test allowances skip helper fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode, Uri};
use backpack_server::{
    self as server, BackpackApi, BearerToken, RequestContext, ServerError, XHostId,
};
use backpack_types::api::{ApiError, CreateGameRequest, CreatedGame};
use serde_json::Value;

const GAMES: &str = "/web/backpack/merchants/7/projects/8/games";
const TOKEN: &str = "sEcReT.bearer-token";
const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";
const CAUSE: &str = "connection to db://admin:hunter2@10.0.0.5 refused";

/// Implements nothing: every operation answers with the trait's default.
struct Nothing;

impl BackpackApi for Nothing {}

/// A tenant a middleware layer attaches to the request.
#[derive(Debug, Clone, PartialEq)]
struct Tenant(String);

/// Implements `create-game` only. The body's `game_name` picks the answer: `public` fails with a
/// public message, `tenant` succeeds with the tenant from the context as the game id, anything
/// else fails with a storage error. Every call's context is recorded.
#[derive(Default)]
struct Failing {
    seen: Mutex<Vec<String>>,
}

impl BackpackApi for Failing {
    async fn create_game(
        &self,
        ctx: RequestContext,
        input: server::CreateGameInput,
    ) -> Result<server::CreateGameResponse, ServerError> {
        let tenant = ctx.extensions().get::<Tenant>().map(|t| t.0.clone());
        self.seen.lock().unwrap().push(format!(
            "{} {} tenant={tenant:?} x_host_id={:?}",
            ctx.method(),
            ctx.uri().path(),
            input.x_host_id
        ));
        let cause = std::io::Error::other(CAUSE);
        match input.body.game_name.as_deref() {
            Some("public") => {
                Err(ServerError::new(cause).with_public_message("storage is unavailable"))
            }
            Some("tenant") => Ok(server::CreateGameResponse::Created(CreatedGame::new(
                tenant.unwrap_or_default(),
            ))),
            _ => Err(ServerError::new(cause)),
        }
    }
}

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

async fn serve(app: axum::Router) -> String {
    // Bound before serving starts: requests wait in the backlog, no readiness sleep needed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn create_game(base: &str, game_name: &str) -> (StatusCode, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}{GAMES}"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("X-HOST-ID", HOST_ID)
        .json(&serde_json::json!({"external_game_id": "g-1", "game_name": game_name}))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The body is exactly `{message_id, message}` with a UUID id; returns them.
fn api_error(text: &str) -> (String, String) {
    let value: Value = serde_json::from_str(text).unwrap();
    let mut keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, ["message", "message_id"], "{text}");
    let error: ApiError = serde_json::from_value(value).unwrap();
    let id = error.message_id.unwrap();
    uuid::Uuid::parse_str(&id).unwrap();
    (id, error.message)
}

// The subscriber is the process-wide default (a thread-local one races with tracing's callsite
// cache); only this test sets it, and it finds its own lines by `message_id`.
#[tokio::test]
async fn server_error_is_a_500_that_logs_the_cause_and_sends_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("only this test sets a subscriber");

    let base = serve(server::router(Arc::new(Failing::default()))).await;
    let (status, text) = create_game(&base, "plain").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
    let (id, message) = api_error(&text);
    assert_eq!(message, "internal server error");

    let (status, public_text) = create_game(&base, "public").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (public_id, message) = api_error(&public_text);
    assert_eq!(message, "storage is unavailable");

    for body in [&text, &public_text] {
        assert!(!body.contains("hunter2"), "the cause leaked: {body}");
        assert!(!body.contains("sEcReT"), "the token leaked: {body}");
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for id in [&id, &public_id] {
        let line = logs
            .lines()
            .find(|l| l.contains(id.as_str()))
            .unwrap_or_else(|| panic!("no log line for {id}: {logs}"));
        assert!(line.contains("ERROR"), "{line}");
        assert!(line.contains("create-game"), "{line}");
        assert!(line.contains(CAUSE), "the cause is logged: {line}");
    }
    assert!(
        !logs.contains("sEcReT"),
        "the token leaked into the logs: {logs}"
    );
    assert!(
        !logs.contains(HOST_ID),
        "the X-HOST-ID leaked into the logs: {logs}"
    );
}

#[tokio::test]
async fn a_method_left_out_answers_501_after_the_input_checks() {
    let base = serve(server::router(Arc::new(Nothing))).await;
    let http = reqwest::Client::new();
    let item = format!("{base}/web/backpack/items/4d8cd62e-a579-4dae-af8c-3172f96f8f7c");
    let response = http
        .get(&item)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let (_, message) = api_error(&response.text().await.unwrap());
    assert!(message.contains("not implemented"), "{message}");
    // Bad input is still refused with the documented status before the default is reached.
    let response = http.get(&item).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // A body operation too.
    let (status, text) = create_game(&base, "x").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{text}");
    api_error(&text);
}

#[tokio::test]
async fn middleware_extensions_reach_the_method() {
    let failing = Arc::new(Failing::default());
    let app = server::router(Arc::clone(&failing)).layer(axum::middleware::from_fn(
        |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
            request.extensions_mut().insert(Tenant("acme".into()));
            next.run(request).await
        },
    ));
    let base = serve(app).await;
    let (status, text) = create_game(&base, "tenant").await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let created: CreatedGame = serde_json::from_str(&text).unwrap();
    assert_eq!(created.id, "acme");
    let seen = failing.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [format!(
            "POST {GAMES} tenant=Some(\"acme\") x_host_id=XHostId(***)"
        )]
    );
}

/// A mock is called directly, without HTTP: inputs and contexts are built with `new` + setters.
#[tokio::test]
async fn inputs_and_contexts_are_built_directly_for_unit_tests() {
    let body = CreateGameRequest::new()
        .with_external_game_id("g-1")
        .with_game_name("tenant");
    let input =
        server::CreateGameInput::new(BearerToken::new(TOKEN), XHostId::new(HOST_ID), 7, 8, body);
    let ctx = RequestContext::new(Method::POST, Uri::from_static(GAMES))
        .with_extension(Tenant("direct".into()));
    let answer = Failing::default().create_game(ctx, input).await.unwrap();
    assert_eq!(
        answer,
        server::CreateGameResponse::Created(CreatedGame::new("direct"))
    );
    // Optional query parameters start at the spec's default and change through setters.
    let query = server::GetUserBackpackItemsInput::new(BearerToken::new(TOKEN));
    assert_eq!((query.offset, query.limit), (0, 50));
    let query = query.with_limit(5).with_group("game_name".into());
    assert_eq!(
        (query.limit, query.group.as_deref()),
        (5, Some("game_name"))
    );
    // The default body answers 501 when called directly too.
    let error = Nothing
        .get_user_backpack_item(
            RequestContext::new(Method::GET, Uri::from_static("/web/backpack/items/x")),
            server::GetUserBackpackItemInput::new(BearerToken::new(TOKEN), uuid::Uuid::nil()),
        )
        .await
        .unwrap_err();
    assert_eq!(error.status(), StatusCode::NOT_IMPLEMENTED);
    // `Debug` of an input hides its credentials.
    let debug = format!(
        "{:?}",
        server::GetUserBackpackItemInput::new(BearerToken::new(TOKEN), uuid::Uuid::nil())
    );
    assert!(!debug.contains("sEcReT"), "{debug}");
}
