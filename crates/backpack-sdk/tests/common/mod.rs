//! Loopback servers and helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

pub const CLIENT_ID: &str = "client-42";
pub const CLIENT_SECRET: &str = "client-secret-value-7f3a";
pub const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";

/// Serves `router` on 127.0.0.1 with an OS-assigned port.
pub async fn spawn(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// A loopback port with nothing listening on it.
pub async fn dead_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/api/oauth2/token")
}

/// How the fake Login endpoint reports the token lifetime.
#[derive(Clone, Copy, Debug)]
pub enum Lifetime {
    /// `"expires_in": n` (Xsolla's samples).
    ExpiresIn(u64),
    /// `"expire_in": n` (Xsolla's schema).
    ExpireIn(u64),
    /// No field: only the JWT's `exp` claim.
    JwtOnly,
}

/// A fake Xsolla Login token endpoint issuing real HS256 JWTs.
#[derive(Clone)]
pub struct FakeLogin {
    pub requests: Arc<AtomicUsize>,
    /// Issued access tokens, in order.
    pub issued: Arc<Mutex<Vec<String>>>,
    /// Refresh token the endpoint currently accepts (rotated on each use).
    pub refresh_token: Arc<Mutex<String>>,
    lifetime: Lifetime,
    /// `exp` of issued JWTs, seconds from now.
    jwt_seconds: u64,
    /// When set, every request fails with this status.
    fail_with: Option<StatusCode>,
    /// When set, requests wait for this notification before answering.
    gate: Arc<Mutex<Option<Arc<tokio::sync::Notify>>>>,
}

impl FakeLogin {
    pub fn new(lifetime: Lifetime, jwt_seconds: u64) -> Self {
        Self {
            requests: Arc::default(),
            issued: Arc::default(),
            refresh_token: Arc::new(Mutex::new("refresh-0".into())),
            lifetime,
            jwt_seconds,
            fail_with: None,
            gate: Arc::default(),
        }
    }

    /// Makes the following requests wait until `gate` is notified.
    pub fn hold_until(&self, gate: Arc<tokio::sync::Notify>) {
        *self.gate.lock().unwrap() = Some(gate);
    }

    pub fn failing(status: StatusCode) -> Self {
        Self {
            fail_with: Some(status),
            ..Self::new(Lifetime::ExpiresIn(3600), 3600)
        }
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn issued(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }

    /// Starts the endpoint; returns its URL.
    pub async fn start(&self) -> String {
        let router = Router::new()
            .route("/api/oauth2/token", post(token_endpoint))
            .with_state(self.clone());
        let addr = spawn(router).await;
        format!("http://{addr}/api/oauth2/token")
    }
}

pub fn login_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "description": description, "details": {}}})),
    )
        .into_response()
}

async fn token_endpoint(
    State(login): State<FakeLogin>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let n = login.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let gate = login.gate.lock().unwrap().clone();
    if let Some(gate) = gate {
        gate.notified().await;
    }
    if let Some(status) = login.fail_with {
        return login_error(status, "000-000", "Internal error");
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return login_error(StatusCode::UNAUTHORIZED, "003-061", "Object not found.");
    }
    let mut rotated = None;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {
            if form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET) {
                return login_error(StatusCode::UNAUTHORIZED, "003-061", "Object not found.");
            }
        }
        Some("refresh_token") => {
            let mut current = login.refresh_token.lock().unwrap();
            if form.get("refresh_token") != Some(&*current) {
                return login_error(StatusCode::BAD_REQUEST, "010-018", "Invalid refresh token.");
            }
            *current = format!("refresh-{n}");
            rotated = Some(current.clone());
        }
        _ => return login_error(StatusCode::BAD_REQUEST, "010-001", "Invalid grant type."),
    }
    let token = make_jwt(n, login.jwt_seconds);
    login.issued.lock().unwrap().push(token.clone());
    let mut body = json!({"access_token": token, "token_type": "bearer"});
    match login.lifetime {
        Lifetime::ExpiresIn(seconds) => body["expires_in"] = json!(seconds),
        Lifetime::ExpireIn(seconds) => body["expire_in"] = json!(seconds),
        Lifetime::JwtOnly => {}
    }
    if let Some(rotated) = rotated {
        body["refresh_token"] = json!(rotated);
    }
    axum::Json(body).into_response()
}

/// A real HS256 JWT whose `exp` is `seconds` from now.
pub fn make_jwt(n: usize, seconds: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": format!("server-{n}"), "jti": n, "iat": now, "exp": now + seconds});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"test-signing-key"),
    )
    .unwrap()
}

/// A retry policy with millisecond backoffs, for fast tests.
pub fn fast_retry(attempts: u32) -> backpack_sdk::RetryPolicy {
    backpack_sdk::RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(2))
        .with_max_backoff(Duration::from_millis(10))
}

/// A `tracing` writer collecting everything into memory.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// One request as the fake API saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: axum::http::Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: axum::http::HeaderMap,
    pub body: axum::body::Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decides the answer to request number `n` (1-based).
pub type Responder = Arc<dyn Fn(usize, &Recorded) -> Response + Send + Sync>;

/// A fake Backpack API that records every request and answers through a
/// closure.
#[derive(Clone)]
pub struct FakeApi {
    pub log: Arc<Mutex<Vec<Recorded>>>,
    responder: Responder,
}

impl FakeApi {
    pub fn new(responder: impl Fn(usize, &Recorded) -> Response + Send + Sync + 'static) -> Self {
        Self {
            log: Arc::default(),
            responder: Arc::new(responder),
        }
    }

    /// Starts the API; returns its base URL (no trailing slash).
    pub async fn start(&self) -> String {
        let router = Router::new().fallback(api_handler).with_state(self.clone());
        format!("http://{}", spawn(router).await)
    }

    pub fn count(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }
}

async fn api_handler(
    State(api): State<FakeApi>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let recorded = Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
    };
    let n = {
        let mut log = api.log.lock().unwrap();
        log.push(recorded.clone());
        log.len()
    };
    (api.responder)(n, &recorded)
}

/// `{"message_id", "message"}` error answer of the Backpack API.
pub fn api_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"message_id": "msg-1", "message": message})),
    )
        .into_response()
}

pub fn ok_json() -> Response {
    axum::Json(json!({"ok": true})).into_response()
}

/// 503 with the given `Retry-After`.
pub fn unavailable(retry_after: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, retry_after.to_owned())],
        "busy",
    )
        .into_response()
}

/// Counts a token source's calls.
#[derive(Debug)]
pub struct Counting<S> {
    pub inner: S,
    pub calls: Arc<AtomicUsize>,
}

impl<S: backpack_sdk::TokenSource> backpack_sdk::TokenSource for Counting<S> {
    fn fetch_token(&self) -> backpack_sdk::TokenFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.fetch_token()
    }
}

// ---------------------------------------------------------------------------
// Transport helpers shared by transport.rs and no_secret_in_logs.rs.

pub const GAMES: &str = "/web/backpack/merchants/1/projects/2/games";

/// A merchant transport (client credentials against `login_url`, X-HOST-ID set).
pub fn merchant(login_url: &str) -> backpack_sdk::Transport {
    let cache = backpack_sdk::TokenCache::builder(
        backpack_sdk::ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(login_url),
    )
    .retry_policy(fast_retry(2))
    .build();
    backpack_sdk::Transport::builder()
        .token_cache(cache)
        .host_id(HOST_ID)
        .retry_policy(fast_retry(3))
        .build()
        .unwrap()
}

/// A request as the generated client hands it to the transport.
pub fn request(method: reqwest::Method, url: &str, body: Option<&str>) -> reqwest::Request {
    let mut request = reqwest::Request::new(method, reqwest::Url::parse(url).unwrap());
    if let Some(body) = body {
        *request.body_mut() = Some(body.to_owned().into());
    }
    request
}

pub async fn call(
    transport: &backpack_sdk::Transport,
    client: &reqwest::Client,
    mut request: reqwest::Request,
) -> reqwest::Response {
    transport.prepare(&mut request).await.unwrap();
    transport.send(client, request).await.unwrap()
}
