//! Automatic retries of `Transport::send` against a loopback API.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use axum::http::StatusCode;
use backpack_sdk::{RetryPolicy, Transport};
use common::*;
use reqwest::{Method, Request, Url};

fn transport(retry: RetryPolicy) -> Transport {
    Transport::builder()
        .user_token("user-token")
        .retry_policy(retry)
        .build()
        .unwrap()
}

async fn send(
    transport: &Transport,
    method: Method,
    url: &str,
    body: Option<reqwest::Body>,
) -> reqwest::Result<reqwest::Response> {
    let mut request = Request::new(method, Url::parse(url).unwrap());
    *request.body_mut() = body;
    transport.prepare(&mut request).await.unwrap();
    transport.send(&reqwest::Client::new(), request).await
}

/// An API answering 503 with `retry_after` to the first request, 200 after.
async fn busy_once(retry_after: impl Into<String>) -> (FakeApi, String) {
    let retry_after = retry_after.into();
    let api = FakeApi::new(move |n, _| {
        if n == 1 {
            unavailable(&retry_after)
        } else {
            ok_json()
        }
    });
    let url = format!("{}/web/backpack/items", api.start().await);
    (api, url)
}

#[tokio::test]
async fn get_503_with_retry_after_0_is_retried() {
    let (api, url) = busy_once("0").await;
    let response = send(&transport(fast_retry(3)), Method::GET, &url, None)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.count(), 2);
}

#[tokio::test]
async fn get_503_with_retry_after_1_waits_and_is_retried() {
    let (api, url) = busy_once("1").await;
    let started = Instant::now();
    let response = send(&transport(fast_retry(3)), Method::GET, &url, None)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.count(), 2);
    // Retry-After wins over the policy's millisecond backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(5));
    let (api, url) = busy_once(past).await;
    let response = send(&transport(fast_retry(3)), Method::GET, &url, None)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api.count(), 2);
}

#[tokio::test]
async fn idempotent_methods_are_retried_on_429_and_5xx() {
    for (method, status) in [
        (Method::PUT, StatusCode::TOO_MANY_REQUESTS),
        (Method::DELETE, StatusCode::BAD_GATEWAY),
        (Method::HEAD, StatusCode::GATEWAY_TIMEOUT),
        (Method::GET, StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let api = FakeApi::new(move |n, _| {
            if n == 1 {
                api_error(status, "later")
            } else {
                ok_json()
            }
        });
        let url = format!("{}/web/backpack/items", api.start().await);
        let body = (method == Method::PUT).then(|| reqwest::Body::from("{}"));
        let response = send(&transport(fast_retry(3)), method.clone(), &url, body)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{method} {status}");
        assert_eq!(api.count(), 2, "{method} {status}");
    }
}

#[tokio::test]
async fn post_503_is_not_retried() {
    let (api, url) = busy_once("0").await;
    let body = Some(reqwest::Body::from(r#"{"amount":1}"#));
    let response = send(&transport(fast_retry(3)), Method::POST, &url, body)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.count(), 1);
}

#[tokio::test]
async fn non_transient_statuses_are_not_retried() {
    for status in [
        StatusCode::NOT_IMPLEMENTED,
        StatusCode::NOT_FOUND,
        StatusCode::BAD_REQUEST,
    ] {
        let api = FakeApi::new(move |_, _| api_error(status, "no"));
        let url = format!("{}/web/backpack/items", api.start().await);
        let response = send(&transport(fast_retry(3)), Method::GET, &url, None)
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(api.count(), 1, "{status}");
    }
}

#[tokio::test]
async fn retries_stop_at_the_attempt_bound() {
    let api = FakeApi::new(|_, _| unavailable("0"));
    let url = format!("{}/web/backpack/items", api.start().await);
    let response = send(&transport(fast_retry(4)), Method::GET, &url, None)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.count(), 4);
}

#[tokio::test]
async fn retries_stop_at_the_elapsed_bound() {
    // Asked to wait 30 s with a 5 s budget: the 503 is returned at once.
    let api = FakeApi::new(|_, _| unavailable("30"));
    let url = format!("{}/web/backpack/items", api.start().await);
    let policy = fast_retry(5).with_max_elapsed(Duration::from_secs(5));
    let started = Instant::now();
    let response = send(&transport(policy), Method::GET, &url, None)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.count(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_that_cannot_be_cloned_is_sent_once() {
    let (api, url) = busy_once("0").await;
    let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>("{\"a\":1}")]);
    let body = Some(reqwest::Body::wrap_stream(chunks));
    let response = send(&transport(fast_retry(3)), Method::PUT, &url, body)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.count(), 1);
    assert_eq!(api.requests()[0].body.as_ref(), b"{\"a\":1}");
}

/// A TCP server that accepts connections and closes them at once; returns
/// its URL and the number of accepted connections.
async fn slamming_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/web/backpack/items",
        listener.local_addr().unwrap()
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn connection_errors_are_retried_for_get_but_not_for_post() {
    let (url, accepted) = slamming_server().await;
    let error = send(&transport(fast_retry(3)), Method::GET, &url, None)
        .await
        .unwrap_err();
    assert!(error.is_request() || error.is_connect(), "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);

    let (url, accepted) = slamming_server().await;
    let body = Some(reqwest::Body::from("{}"));
    send(&transport(fast_retry(3)), Method::POST, &url, body)
        .await
        .unwrap_err();
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn refused_connections_are_retried_within_bounds() {
    let url = dead_port_url().await;
    let started = Instant::now();
    let error = send(&transport(fast_retry(3)), Method::GET, &url, None)
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
