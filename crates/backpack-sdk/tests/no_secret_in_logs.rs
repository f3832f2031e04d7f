//! Credentials on every merchant request, and in no log line, `Debug`
//! output or error. This is the only test of its binary: `tracing` caches
//! per-callsite interest process-wide, so tests running in parallel without
//! a subscriber could hide events from a scoped one.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;

use common::*;
use reqwest::Method;

#[tokio::test]
async fn merchant_requests_carry_credentials_that_never_reach_logs_or_debug() {
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let login_url = login.start().await;
    // 1st request: 401 (refresh path); 3rd: 503 (retry path); others 200.
    let api = FakeApi::new(|n, _| match n {
        1 => api_error(StatusCode::UNAUTHORIZED, "token rejected"),
        3 => unavailable("0"),
        _ => ok_json(),
    });
    let base = api.start().await;
    let transport = merchant(&login_url);
    let client = transport.settings().build_reqwest_client().unwrap();

    let url = format!("{base}{GAMES}");
    let body = r#"{"external_game_id":"g1"}"#;
    for (method, body) in [
        (Method::GET, None),
        (Method::GET, None),
        (Method::POST, Some(body)),
        (Method::PUT, Some(body)),
        (Method::DELETE, None),
    ] {
        let response = call(&transport, &client, request(method.clone(), &url, body)).await;
        assert_eq!(response.status(), StatusCode::OK, "{method}");
    }

    let mut prepared = request(Method::GET, &url, None);
    transport.prepare(&mut prepared).await.unwrap();
    let debug_output = format!(
        "{transport:?} {prepared:?} {:?} {:?}",
        transport.token_cache().unwrap(),
        transport.token_cache().unwrap().cached()
    );

    // A failing token endpoint logs warnings: they must not leak either.
    let failing = merchant(&FakeLogin::failing(StatusCode::BAD_GATEWAY).start().await);
    let error = failing
        .prepare(&mut request(Method::GET, &url, None))
        .await
        .unwrap_err();
    let error_output = format!("{error} {error:?}");

    let requests = api.requests();
    assert_eq!(requests.len(), 7, "5 calls + one 401 retry + one 503 retry");
    let issued = login.issued();
    assert_eq!(issued.len(), 2, "initial token + one refresh after the 401");
    for (i, recorded) in requests.iter().enumerate() {
        assert_eq!(recorded.header("x-host-id"), Some(HOST_ID), "request {i}");
        let bearer = recorded.header("authorization").unwrap();
        let token = bearer.strip_prefix("Bearer ").unwrap();
        assert!(issued.iter().any(|t| t == token), "request {i}");
        assert_eq!(recorded.header("api-version"), None, "request {i}");
    }
    assert_eq!(
        requests[0].header("authorization").unwrap(),
        format!("Bearer {}", issued[0])
    );
    assert_eq!(
        requests[1].header("authorization").unwrap(),
        format!("Bearer {}", issued[1])
    );
    assert_eq!(requests[4].body, body.as_bytes(), "POST body");

    let log_text = logs.contents();
    assert!(log_text.contains("backpack_request"), "{log_text}");
    assert!(log_text.contains("attempt=2"), "{log_text}");
    assert!(log_text.contains("status=401"), "{log_text}");
    assert!(
        log_text.contains("access token request failed"),
        "{log_text}"
    );
    for (what, output) in [
        ("logs", &log_text),
        ("Debug", &debug_output),
        ("error", &error_output),
    ] {
        assert!(!output.contains(HOST_ID), "host id in {what}");
        assert!(!output.contains(CLIENT_SECRET), "client secret in {what}");
        for token in &issued {
            assert!(!output.contains(token.as_str()), "token in {what}");
            // Not even the signature part on its own.
            let signature = token.rsplit('.').next().unwrap();
            assert!(!output.contains(signature), "token signature in {what}");
        }
    }
}
