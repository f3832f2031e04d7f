//! Shared test helpers: a recording handler, signed requests, an observable store.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use backpack_webhooks::*;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

pub const SECRET: &str = "PROJECT_SECRET_KEY";

pub fn secret() -> WebhookSecret {
    WebhookSecret::new(SECRET)
}

pub fn fixtures(family: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(family);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The fixture `tests/fixtures/<path>.json` (e.g. `"store/payment.sdk"`) as JSON.
pub fn sample(path: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{path}.json"));
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// One change to a JSON document, at a JSON pointer (RFC 6901, e.g. `/order/id`, `/items/0`).
#[derive(Debug, Clone)]
pub enum Edit {
    /// Replaces the value, or adds the member; the parent must exist (an array index must too).
    Set(String, Value),
    /// Removes the member or array element, which must exist.
    Remove(String),
}

/// [`Edit::Set`].
pub fn set(pointer: &str, value: impl Into<Value>) -> Edit {
    Edit::Set(pointer.to_owned(), value.into())
}

/// [`Edit::Remove`].
pub fn remove(pointer: &str) -> Edit {
    Edit::Remove(pointer.to_owned())
}

/// Applies the edits in order. Panics when a pointer does not fit the document, so that a typo
/// cannot turn a test into a no-op.
pub fn apply(doc: &mut Value, edits: &[Edit]) {
    for edit in edits {
        let pointer = match edit {
            Edit::Set(p, _) | Edit::Remove(p) => p.as_str(),
        };
        let (parent, last) = pointer
            .rsplit_once('/')
            .unwrap_or_else(|| panic!("{pointer}: not a JSON pointer"));
        let last = last.replace("~1", "/").replace("~0", "~");
        let parent = doc
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("{pointer}: parent does not exist"));
        match (parent, edit) {
            (Value::Object(map), Edit::Set(_, value)) => {
                map.insert(last, value.clone());
            }
            (Value::Object(map), Edit::Remove(_)) => {
                assert!(map.remove(&last).is_some(), "{pointer}: nothing to remove");
            }
            (Value::Array(items), edit) => {
                let index: usize = last
                    .parse()
                    .unwrap_or_else(|_| panic!("{pointer}: not an array index"));
                assert!(index < items.len(), "{pointer}: index out of range");
                match edit {
                    Edit::Set(_, value) => items[index] = value.clone(),
                    Edit::Remove(_) => {
                        items.remove(index);
                    }
                }
            }
            (other, _) => panic!("{pointer}: parent is {other}, not an object or array"),
        }
    }
}

/// The fixture at `path` with the edits applied, as compact JSON bytes.
pub fn sample_with(path: &str, edits: &[Edit]) -> Vec<u8> {
    let mut doc = sample(path);
    apply(&mut doc, edits);
    serde_json::to_vec(&doc).unwrap()
}

/// A JSON body with the edits applied, as compact JSON bytes.
pub fn body_with(body: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(body).unwrap();
    apply(&mut doc, edits);
    serde_json::to_vec(&doc).unwrap()
}

/// What a scripted handler call returns.
#[derive(Debug, Clone)]
pub enum Script {
    Accept,
    Reject(ErrorCode),
    Temporary,
    Panic,
    Found(FoundUser),
}

/// Records every call; pops scripted results (default: accept); optionally blocks on a gate.
#[derive(Default)]
pub struct Recorder {
    calls: Mutex<Vec<(String, Value)>>,
    script: Mutex<VecDeque<Script>>,
    gate: Option<Arc<Semaphore>>,
    entered: Option<mpsc::UnboundedSender<String>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scripted(script: impl IntoIterator<Item = Script>) -> Self {
        Self {
            script: Mutex::new(script.into_iter().collect()),
            ..Self::default()
        }
    }

    /// Every call first reports on `entered`, then waits for a permit of `gate`.
    pub fn gated(gate: Arc<Semaphore>, entered: mpsc::UnboundedSender<String>) -> Self {
        Self {
            gate: Some(gate),
            entered: Some(entered),
            ..Self::default()
        }
    }

    /// Adds a script to a (gated) recorder.
    pub fn with_script(self, script: impl IntoIterator<Item = Script>) -> Self {
        Self {
            script: Mutex::new(script.into_iter().collect()),
            ..self
        }
    }

    pub fn calls(&self) -> Vec<(String, Value)> {
        self.calls.lock().unwrap().clone()
    }

    pub fn methods(&self) -> Vec<String> {
        self.calls().into_iter().map(|(m, _)| m).collect()
    }

    pub fn count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub async fn record<T: Serialize>(
        &self,
        method: &str,
        payload: &T,
    ) -> HandlerResult<Option<FoundUser>> {
        self.calls
            .lock()
            .unwrap()
            .push((method.to_owned(), serde_json::to_value(payload).unwrap()));
        if let Some(entered) = &self.entered {
            let _ = entered.send(method.to_owned());
        }
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        let next = self.script.lock().unwrap().pop_front();
        match next.unwrap_or(Script::Accept) {
            Script::Accept => Ok(None),
            Script::Reject(code) => Err(HandlerError::reject(code)),
            Script::Temporary => Err(HandlerError::temporary(std::io::Error::other(
                "database password=hunter2 unreachable",
            ))),
            Script::Panic => panic!("scripted handler panic"),
            Script::Found(user) => Ok(Some(user)),
        }
    }
}

/// Implements every handler method of the family [`backpack_types::for_each_webhook!`] lists
/// as "record the call", except `user_search` (written out below: it answers with a user).
macro_rules! record_every {
    ([]) => {};
    ([] { kind: $kind:ident, event: $event:ident, method: user_search, $($entry:tt)* } $($more:tt)*) => {
        record_every!([] $($more)*);
    };
    ([] { kind: $kind:ident, event: $event:ident, method: $method:ident, notification_type: $nt:literal, payload: $payload:ty, summary: $summary:literal } $($more:tt)*) => {
        async fn $method(&self, event: $payload, _d: &Delivery) -> HandlerResult {
            self.record(stringify!($method), &event).await.map(|_| ())
        }
        record_every!([] $($more)*);
    };
}

impl WebhookHandler for Recorder {
    backpack_types::for_each_webhook!(Payments, record_every);

    async fn unknown(&self, event: Value, _d: &Delivery) -> HandlerResult {
        self.record("unknown", &event).await.map(|_| ())
    }

    async fn user_search(
        &self,
        event: UserSearch,
        _d: &Delivery,
    ) -> HandlerResult<Option<FoundUser>> {
        self.record("user_search", &event).await
    }
}

impl BackpackHandler for Recorder {
    backpack_types::for_each_webhook!(Backpack, record_every);

    async fn unknown(&self, event: Value, _d: &Delivery) -> HandlerResult {
        self.record("unknown", &event).await.map(|_| ())
    }
}

pub const PEER: &str = "185.30.20.10:40000";

/// A POST with the given Authorization value (None = no header) and a peer address.
pub fn request(body: &[u8], authorization: Option<&str>, peer: &str) -> Request<Body> {
    let value = authorization.map(|v| http::HeaderValue::from_str(v).unwrap());
    request_raw(body, value, peer)
}

/// Like [`request`], with any header value bytes HTTP allows.
pub fn request_raw(
    body: &[u8],
    authorization: Option<http::HeaderValue>,
    peer: &str,
) -> Request<Body> {
    let mut builder = Request::post("/")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(value) = authorization {
        builder = builder.header("authorization", value);
    }
    let mut req = builder.body(Body::from(body.to_vec())).unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

/// A correctly signed POST from an Xsolla address.
pub fn signed(body: &[u8]) -> Request<Body> {
    request(body, Some(&authorization_value(body, &secret())), PEER)
}

/// Status and body of a response.
pub async fn parts(response: axum::response::Response) -> (StatusCode, Vec<u8>) {
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

/// `error.code` of an error body.
pub fn error_code(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not a JSON error body: {:?}", String::from_utf8_lossy(body)));
    v["error"]["code"].as_str().unwrap().to_owned()
}

/// `error.message` of an error body.
pub fn error_message(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not a JSON error body: {:?}", String::from_utf8_lossy(body)));
    v["error"]["message"].as_str().unwrap().to_owned()
}

/// The public message for a body that does not match the schema of its `notification_type`.
pub const SCHEMA_MISMATCH: &str = "Request body does not match the webhook schema";

/// Test settings: long waits so that slow CI machines never hit a timeout by accident.
pub fn config() -> ReceiverConfig {
    ReceiverConfig::default().with_in_progress_wait(Duration::from_secs(120))
}

/// A store wrapper that reports every `InProgress` claim result.
pub struct Observed<S> {
    pub inner: S,
    pub in_progress: mpsc::UnboundedSender<String>,
}

impl<S: DedupStore> DedupStore for Observed<S> {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let claim = self.inner.claim(key, lease).await?;
        if claim == Claim::InProgress {
            let _ = self.in_progress.send(key.to_owned());
        }
        Ok(claim)
    }

    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.complete(key, token, answer)
    }

    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.release(key, token)
    }

    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.renew(key, token, lease)
    }

    fn forget(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.inner.forget(key)
    }

    fn purge_completed_before(
        &self,
        cutoff: std::time::SystemTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.inner.purge_completed_before(cutoff)
    }

    fn wait_for_change(&self, key: &str, max: Duration) -> impl Future<Output = ()> + Send {
        self.inner.wait_for_change(key, max)
    }
}

/// A clock the test moves by hand (starts at the real time).
#[derive(Debug)]
pub struct ManualClock(Mutex<std::time::SystemTime>);

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(std::time::SystemTime::now())))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> std::time::SystemTime {
        *self.0.lock().unwrap()
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// Retention through a receiver on `store` with a manual clock: a record survives 6 days 23 h,
/// and is purged (its retry runs the handler again) after 7 days 1 h.
pub async fn retention_purges_after_seven_days<S: DedupStore>(store: S) {
    let clock = ManualClock::new();
    let rx = WebhookReceiver::with_config(
        secret(),
        Recorder::new(),
        store,
        config().with_clock(clock.clone()),
    )
    .unwrap();
    assert_eq!(rx.config().retention(), Duration::from_secs(7 * 24 * 3600));
    let order = |n: u64| {
        let id = (uuid::Uuid::new_v4().as_u128() as u64 >> 2) + n;
        body_with(ORDER_PAID, &[set("/order/id", id)])
    };
    let (a, b, c) = (order(0), order(1), order(2));
    assert_eq!(rx.handle(signed(&a)).await.status(), 204);
    clock.advance(6 * 24 * HOUR + 23 * HOUR);
    assert_eq!(rx.handle(signed(&b)).await.status(), 204); // purge runs: A is younger than 7 d
    assert_eq!(rx.handle(signed(&a)).await.status(), 204);
    assert_eq!(rx.handler().count(), 2, "A was still recorded: replayed");
    clock.advance(2 * HOUR); // 7 d 1 h after A and B were recorded
    assert_eq!(rx.handle(signed(&c)).await.status(), 204); // purge runs: A and B go
    assert_eq!(rx.handle(signed(&a)).await.status(), 204);
    assert_eq!(
        rx.handler().count(),
        4,
        "A's record was purged after the retention: its handler ran again"
    );
}

/// A small but complete `order_paid` (every field its schema requires).
pub const ORDER_PAID: &[u8] = br#"{"notification_type":"order_paid","items":[{"sku":"gold","type":"virtual_currency","quantity":100,"amount":"1","promotions":[]}],"order":{"id":424242,"mode":"default","currency_type":"real","currency":"USD","amount":"1","status":"paid","platform":"xsolla"},"user":{"external_id":"player-1","email":"p@example.com"}}"#;

/// Starts delivery A (handler blocks), then B; B must find A's claim in progress; then A is
/// released. Returns both answers.
pub async fn concurrent_pair<S: DedupStore>(
    rx_a: WebhookReceiver<Recorder, Observed<S>>,
    rx_b: WebhookReceiver<Recorder, Observed<S>>,
    gate: Arc<Semaphore>,
    mut entered: mpsc::UnboundedReceiver<String>,
    mut in_progress: mpsc::UnboundedReceiver<String>,
    body: &'static [u8],
) -> (u16, u16) {
    let a = tokio::spawn(async move { rx_a.handle(signed(body)).await.status().as_u16() });
    assert_eq!(entered.recv().await.as_deref(), Some("order_paid"));
    let b = tokio::spawn(async move { rx_b.handle(signed(body)).await.status().as_u16() });
    // B has seen A's live claim…
    assert!(in_progress.recv().await.is_some());
    // …and only now may A's handler finish. Two permits: should a (buggy) second handler call
    // happen, it finishes too and the check below fails instead of the test hanging.
    gate.add_permits(2);
    let joined = tokio::time::timeout(Duration::from_secs(120), async {
        (a.await.unwrap(), b.await.unwrap())
    });
    let (a, b) = joined.await.expect("deliveries did not finish");
    assert!(entered.try_recv().is_err(), "the handler ran a second time");
    (a, b)
}

/// Adding a payment account again after removing it (same body) is handled, not replayed.
pub async fn payment_account_can_be_added_again_after_removal<S: DedupStore>(store: S) {
    let rx = WebhookReceiver::with_config(secret(), Recorder::new(), store, config()).unwrap();
    let id = (uuid::Uuid::new_v4().as_u128() as u64 >> 2).to_string();
    let add = sample_with(
        "store/payment_account_add.sdk",
        &[set("/payment_account/id", id.as_str())],
    );
    let remove = sample_with(
        "store/payment_account_remove.sdk",
        &[set("/payment_account/id", id.as_str())],
    );
    for (body, calls) in [
        (&add, 1),
        (&add, 1), // retry: replayed
        (&remove, 2),
        (&remove, 2), // retry: replayed
        (&add, 3),    // added again: handled
        (&add, 3),
        (&remove, 4), // removed again: handled
    ] {
        assert_eq!(rx.handle(signed(body)).await.status(), 204);
        assert_eq!(rx.handler().count(), calls);
    }
    assert_eq!(
        rx.handler().methods(),
        [
            "payment_account_add",
            "payment_account_remove",
            "payment_account_add",
            "payment_account_remove"
        ]
    );
}

/// The PostgreSQL tests (tests/postgres.rs, and tests/crash.rs's) share the store's one table,
/// and the retention test purges it with a clock a week ahead, which removes every completed
/// row, other tests' included: one PostgreSQL test at a time.
pub static PG_SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The same for the MySQL/MariaDB tests.
pub static MYSQL_SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
