//! Credentials on every merchant and user request, and in no log line,
//! `Debug` output or error. This is the only test of its binary: `tracing` caches
//! per-callsite interest process-wide, so tests running in parallel without
//! a subscriber could hide events from a scoped one.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::StatusCode;
use axum::response::IntoResponse;

use common::*;
use reqwest::Method;

const FIXED_USER_TOKEN: &str = "fixed-user-token-5e1b";

#[tokio::test]
async fn merchant_and_user_requests_carry_credentials_that_never_reach_logs_or_debug() {
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
    let mut error_output = format!("{error} {error:?}");

    // User calls through the client: X-HOST-ID on them too; a fixed token, and a renewable one
    // whose first call is refused (the refresh path logs).
    let user_login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let user_login_url = user_login.start().await;
    let user_api = FakeApi::new(|n, _| match n {
        2 => api_error(StatusCode::UNAUTHORIZED, "token rejected"),
        4 => api_error(StatusCode::FORBIDDEN, "not yours"),
        _ => axum::Json(serde_json::json!([])).into_response(),
    });
    let sdk = backpack_sdk::BackpackClient::builder()
        .base_url(user_api.start().await)
        .host_id(HOST_ID)
        .token_source(backpack_sdk::StaticToken::new("unused"))
        .retry_policy(fast_retry(3))
        .build()
        .unwrap();
    let fixed = sdk.user(FIXED_USER_TOKEN).unwrap();
    let renewable = sdk
        .user_with_source(
            backpack_sdk::RefreshTokenGrant::new(CLIENT_ID, "refresh-0")
                .with_token_url(user_login_url),
        )
        .unwrap();
    fixed.get_user_backpack_items().send().await.unwrap();
    renewable.get_user_backpack_items().send().await.unwrap();
    let refused = renewable
        .get_user_backpack_items()
        .send()
        .await
        .unwrap_err();
    let refused = backpack_sdk::Error::from(refused);
    error_output.push_str(&format!(
        " {refused} {refused:?} {sdk:?} {fixed:?} {renewable:?}"
    ));
    let user_requests = user_api.requests();
    assert_eq!(
        user_requests.len(),
        4,
        "fixed, renewable + its 401 retry, 403"
    );
    for (i, recorded) in user_requests.iter().enumerate() {
        assert_eq!(
            recorded.header("x-host-id"),
            Some(HOST_ID),
            "user request {i}"
        );
    }
    let user_issued = user_login.issued();
    assert_eq!(
        user_issued.len(),
        2,
        "user token + one refresh after the 401"
    );

    let requests = api.requests();
    assert_eq!(requests.len(), 7, "5 calls + one 401 retry + one 503 retry");
    let issued = login.issued();
    assert_eq!(issued.len(), 2, "initial token + one refresh after the 401");
    for (i, recorded) in requests.iter().enumerate() {
        assert_eq!(recorded.header("x-host-id"), Some(HOST_ID), "request {i}");
        let bearer = recorded.header("authorization").unwrap();
        let token = bearer.strip_prefix("Bearer ").unwrap();
        assert!(issued.iter().any(|t| t == token), "request {i}");
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
        assert!(!output.contains(FIXED_USER_TOKEN), "user token in {what}");
        for token in issued.iter().chain(&user_issued) {
            assert!(!output.contains(token.as_str()), "token in {what}");
            // Not even the signature part on its own.
            let signature = token.rsplit('.').next().unwrap();
            assert!(!output.contains(signature), "token signature in {what}");
        }
    }
}
