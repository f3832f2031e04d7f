//! `backpack webhook listen`: a webhook receiver built on `backpack-webhooks` that prints one
//! JSON line per delivery on stdout:
//!
//! ```json
//! {"type":"order_paid","family":"store","dedup_key":"store:order_paid:order.id=1","verdict":"accepted","code":204,"error":null}
//! ```
//!
//! * `verdict`: `accepted` (handled now), `duplicate` (already handled: the recorded answer was
//!   replayed, nothing handled again), `rejected` (a 4xx: bad signature, unusable body, unknown
//!   user), `error` (a 5xx: Xsolla would retry).
//! * `code`: the HTTP status answered; `error`: the `error.code` of an error answer.
//! * Family: requests to a path starting with `/backpack`, and every `move_to_game`, get the
//!   Backpack answers (200/404/500); everything else the payments/store answers (204/400/500).
//!   Both share one dedup store, keyed per family.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use backpack_types::{WebhookFamily, WebhookKind};
use backpack_webhooks::{
    BackpackHandler, BackpackReceiver, DedupPolicy, DedupStore, Delivery, FoundUser, HandlerError,
    HandlerResult, MemoryStore, MySqlStore, PostgresStore, SqliteStore, UserSearch, UserValidation,
    UserValidationWebhook, WebhookHandler, WebhookReceiver, WebhookSecrets,
};
use clap::Args;
use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::{SECRET_ENV, require_secret};
use crate::error::{CliError, one_line};
use crate::net;

/// Largest accepted body (the receivers' default).
const BODY_LIMIT: usize = backpack_webhooks::config::DEFAULT_BODY_LIMIT;

/// `backpack webhook listen` arguments. `Debug` hides the secrets and the store URL's credentials.
#[derive(Args)]
pub struct ListenArgs {
    /// Address to listen on (HOST:PORT; port 0 picks a free one, printed as `listening on ADDR`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
    pub listen: String,
    /// The project secret key. Repeat it while rotating the key: the first is the current key,
    /// the others are previous keys that are still accepted.
    #[arg(long, value_name = "SECRET", env = SECRET_ENV, hide_env_values = true)]
    pub secret: Vec<String>,
    /// SQLite file for durable deduplication (default: in memory).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// PostgreSQL or MySQL/MariaDB URL for deduplication shared by several listeners
    /// (`postgresql://…`, `mysql://…`; TLS options in the URL), instead of `--db`.
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    pub store: Option<String>,
    /// Answer user_validation for this user ID as "user not found" (repeatable).
    #[arg(long, value_name = "ID")]
    pub unknown_user: Vec<String>,
    /// Answer the first N deduplicated deliveries with a temporary error (500), to watch
    /// retries.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub fail_first: u64,
    /// Compare every signed body with spec/ and keep the differences (paths and types, never
    /// values) in this JSON drift report, rewritten after each delivery; `cargo xtask drift FILE`
    /// reads it.
    #[arg(long, value_name = "FILE")]
    pub drift_report: Option<PathBuf>,
}

/// The drift watch of `--drift-report`: bodies signed with one of `secrets` go through `watch`.
struct Drift {
    watch: backpack_drift::DriftWatch,
    secrets: WebhookSecrets,
    file: PathBuf,
}

impl Drift {
    fn observe(&self, headers: &http::HeaderMap, inspected: &Inspected, body: &[u8]) {
        let Some(kind) = &inspected.notification_type else {
            return;
        };
        if backpack_webhooks::signature::verify_headers_any(body, headers, &self.secrets).is_err() {
            return;
        }
        self.watch.check_webhook(inspected.family, kind, body);
        if let Err(e) = self.watch.report().write_to(&self.file) {
            tracing::warn!(error = %e, "cannot write the drift report");
        }
    }
}

impl std::fmt::Debug for ListenArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenArgs")
            .field("listen", &self.listen)
            .field("secret", &format_args!("[***; {}]", self.secret.len()))
            .field("db", &self.db)
            .field("store", &self.store.as_deref().map(shown_url))
            .field("unknown_user", &self.unknown_user)
            .field("fail_first", &self.fail_first)
            .finish()
    }
}

/// What the handlers did, so the printer can tell a handled delivery from a replay.
struct Recorder {
    handled: Mutex<HashMap<String, u64>>,
    unknown_users: HashSet<String>,
    failures_left: AtomicU64,
}

fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `user.id` of any payload type (the event types implement `Serialize`).
fn user_id(event: &impl Serialize) -> Option<String> {
    let value = serde_json::to_value(event).ok()?;
    id_text(value.pointer("/user/id"))
}

impl Recorder {
    fn validate(&self, user: Option<String>, dedup_key: Option<&str>) -> HandlerResult {
        if user.is_some_and(|u| self.unknown_users.contains(&u)) {
            return Err(HandlerError::invalid_user());
        }
        self.record(dedup_key)
    }

    fn record(&self, dedup_key: Option<&str>) -> HandlerResult {
        if let Some(key) = dedup_key {
            let fail = self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if fail {
                return Err(HandlerError::retry_later());
            }
            let mut handled = self.handled.lock().unwrap_or_else(PoisonError::into_inner);
            *handled.entry(key.to_owned()).or_default() += 1;
        }
        Ok(())
    }

    /// Takes one handler run for `key`; `false` means the answer was a replay.
    fn consume(&self, key: &str) -> bool {
        let mut handled = self.handled.lock().unwrap_or_else(PoisonError::into_inner);
        match handled.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }
}

struct StoreHandler(Arc<Recorder>);
struct BackpackSide(Arc<Recorder>);

/// Implements every handler method [`backpack_types::for_each_webhook!`] lists as "record the
/// delivery", except the two queries, written out below: `user_validation` (answers from
/// `--invalid-user`) and `user_search` (answers with no user).
macro_rules! record_every {
    ([]) => {};
    ([] { kind: $kind:ident, event: $event:ident, method: user_validation, $($entry:tt)* } $($more:tt)*) => {
        record_every!([] $($more)*);
    };
    ([] { kind: $kind:ident, event: $event:ident, method: user_search, $($entry:tt)* } $($more:tt)*) => {
        record_every!([] $($more)*);
    };
    ([] { kind: $kind:ident, event: $event:ident, method: $method:ident, notification_type: $nt:literal, payload: $payload:ty, summary: $summary:literal } $($more:tt)*) => {
        async fn $method(&self, _event: $payload, delivery: &Delivery) -> HandlerResult {
            self.0.record(delivery.dedup_key.as_deref())
        }
        record_every!([] $($more)*);
    };
}

impl WebhookHandler for StoreHandler {
    async fn user_validation(&self, event: UserValidation, delivery: &Delivery) -> HandlerResult {
        self.0
            .validate(user_id(&event), delivery.dedup_key.as_deref())
    }

    async fn user_search(
        &self,
        _event: UserSearch,
        delivery: &Delivery,
    ) -> HandlerResult<Option<FoundUser>> {
        self.0.record(delivery.dedup_key.as_deref()).map(|()| None)
    }

    async fn unknown(&self, _payload: Value, delivery: &Delivery) -> HandlerResult {
        self.0.record(delivery.dedup_key.as_deref())
    }

    backpack_types::for_each_webhook!(Payments, record_every);
}

impl BackpackHandler for BackpackSide {
    async fn user_validation(
        &self,
        event: UserValidationWebhook,
        delivery: &Delivery,
    ) -> HandlerResult {
        self.0
            .validate(user_id(&event), delivery.dedup_key.as_deref())
    }

    async fn unknown(&self, _payload: Value, delivery: &Delivery) -> HandlerResult {
        self.0.record(delivery.dedup_key.as_deref())
    }

    backpack_types::for_each_webhook!(Backpack, record_every);
}

struct ListenApp<S> {
    store: WebhookReceiver<StoreHandler, Arc<S>>,
    backpack: BackpackReceiver<BackpackSide, Arc<S>>,
    recorder: Arc<Recorder>,
    drift: Option<Drift>,
}

/// What the printer knows about a request before it is answered.
struct Inspected {
    /// `store` or `backpack` (the word the printed line and the dedup keys use).
    family: backpack_drift::Family,
    notification_type: Option<String>,
    dedup_key: Option<String>,
}

fn inspect(path: &str, body: &[u8]) -> Inspected {
    let notification_type = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("notification_type")?.as_str().map(str::to_owned));
    // A type only the Backpack family has (`move_to_game`) is Backpack whatever the path.
    let backpack_only = notification_type
        .as_deref()
        .and_then(WebhookKind::from_name)
        .is_some_and(|kind| kind.family() == WebhookFamily::Backpack);
    let backpack = path.starts_with("/backpack") || backpack_only;
    let key = |dedup: DedupPolicy| match dedup {
        DedupPolicy::Key(key) => Some(key.as_str().to_owned()),
        DedupPolicy::Never => None,
    };
    let dedup_key = if backpack {
        backpack_webhooks::parse_backpack(body)
            .ok()
            .and_then(|p| key(p.dedup))
    } else {
        backpack_webhooks::parse(body)
            .ok()
            .and_then(|p| key(p.dedup))
    };
    Inspected {
        family: if backpack {
            backpack_drift::Family::Backpack
        } else {
            backpack_drift::Family::Store
        },
        notification_type,
        dedup_key,
    }
}

fn print_line(inspected: &Inspected, verdict: &str, status: u16, error: Option<String>) {
    let line = json!({
        "type": inspected.notification_type,
        "family": inspected.family.as_str(),
        "dedup_key": inspected.dedup_key,
        "verdict": verdict,
        "code": status,
        "error": error,
    });
    println!("{line}");
}

async fn handle<S: DedupStore>(State(app): State<Arc<ListenApp<S>>>, request: Request) -> Response {
    if request.method() != Method::POST {
        return app.store.handle(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        let inspected = Inspected {
            family: backpack_drift::Family::Store,
            notification_type: None,
            dedup_key: None,
        };
        print_line(
            &inspected,
            "rejected",
            413,
            Some("INVALID_PARAMETER".to_owned()),
        );
        let body =
            json!({"error": {"code": "INVALID_PARAMETER", "message": "Request body is too large"}});
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
    };
    let inspected = inspect(parts.uri.path(), &bytes);
    if let Some(drift) = &app.drift {
        drift.observe(&parts.headers, &inspected, &bytes);
    }
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = if inspected.family == backpack_drift::Family::Backpack {
        app.backpack.handle(request).await
    } else {
        app.store.handle(request).await
    };
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    let answer = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let error = serde_json::from_slice::<Value>(&answer)
        .ok()
        .and_then(|v| v.pointer("/error/code")?.as_str().map(str::to_owned));
    let verdict = match status {
        200..=299 => match &inspected.dedup_key {
            Some(key) if !app.recorder.consume(key) => "duplicate",
            _ => "accepted",
        },
        400..=499 => "rejected",
        _ => "error",
    };
    print_line(&inspected, verdict, status, error);
    Response::from_parts(parts, Body::from(answer))
}

async fn serve<S: DedupStore>(
    args: &ListenArgs,
    secret: backpack_webhooks::WebhookSecrets,
    store: S,
) -> Result<(), CliError> {
    let store = Arc::new(store);
    let recorder = Arc::new(Recorder {
        handled: Mutex::new(HashMap::new()),
        unknown_users: args.unknown_user.iter().cloned().collect(),
        failures_left: AtomicU64::new(args.fail_first),
    });
    let drift = match &args.drift_report {
        Some(file) => Some(Drift {
            watch: backpack_drift::DriftWatch::new().map_err(|e| CliError::Server(one_line(&e)))?,
            secrets: secret.clone(),
            file: file.clone(),
        }),
        None => None,
    };
    // The library refuses an empty secret too (anyone could sign with it).
    let empty_secret = |_| CliError::MissingSecret {
        what: "webhook secret",
        flag: "--secret",
        env: SECRET_ENV,
    };
    let app = Arc::new(ListenApp {
        store: WebhookReceiver::new(
            secret.clone(),
            StoreHandler(Arc::clone(&recorder)),
            Arc::clone(&store),
        )
        .map_err(empty_secret)?,
        backpack: BackpackReceiver::new(secret, BackpackSide(Arc::clone(&recorder)), store)
            .map_err(empty_secret)?,
        recorder,
        drift,
    });
    let listener = net::bind(&args.listen).await?;
    let router = Router::new().fallback(handle::<S>).with_state(app);
    let addr = net::announce(&listener)?;
    let dedup = match (&args.db, &args.store) {
        (Some(_), _) => "sqlite",
        (None, Some(_)) => "server",
        (None, None) => "memory",
    };
    tracing::info!(%addr, dedup, "webhook receiver ready");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(net::shutdown_signal())
    .await
    .map_err(|e| CliError::Server(one_line(&e)))
}

/// Runs the receiver until Ctrl-C / SIGTERM.
pub async fn run(args: &ListenArgs) -> Result<(), CliError> {
    let mut secrets = args.secret.iter();
    let mut secret = WebhookSecrets::new(require_secret(secrets.next().map(String::as_str))?);
    for previous in secrets {
        secret = secret.with_previous(require_secret(Some(previous))?);
    }
    if let Some(url) = &args.store {
        return serve_on_server(args, secret, url).await;
    }
    match &args.db {
        Some(path) => {
            let store = SqliteStore::open(path)
                .await
                .map_err(|e| CliError::Database {
                    path: path.clone(),
                    reason: one_line(&e),
                })?;
            serve(args, secret, store).await
        }
        None => serve(args, secret, MemoryStore::new()).await,
    }
}

/// `url` without user, password or query (which may hold a password), for messages.
fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "the --store URL".into();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// The listener on a PostgreSQL or MySQL/MariaDB store.
async fn serve_on_server(
    args: &ListenArgs,
    secret: WebhookSecrets,
    url: &str,
) -> Result<(), CliError> {
    let failed = |reason: String| CliError::Database {
        path: PathBuf::from(shown_url(url)),
        reason,
    };
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("postgres" | "postgresql") => {
            let store = PostgresStore::connect(url)
                .await
                .map_err(|e| failed(one_line(&e)))?;
            serve(args, secret, store).await
        }
        Some("mysql" | "mariadb") => {
            let store = MySqlStore::connect(url)
                .await
                .map_err(|e| failed(one_line(&e)))?;
            serve(args, secret, store).await
        }
        _ => Err(failed(
            "--store takes a postgresql:// or mysql:// URL".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_shown_without_credentials() {
        assert_eq!(
            shown_url("postgresql://app:hunter2@db.internal:5432/game?sslmode=require&password=x"),
            "postgresql://db.internal:5432/game"
        );
        assert_eq!(shown_url("mysql://u@h/db"), "mysql://h/db");
        assert_eq!(shown_url("not a url hunter2"), "the --store URL");
        let args = ListenArgs {
            listen: "127.0.0.1:0".into(),
            secret: vec!["topsecret".into()],
            db: None,
            store: Some("mysql://u:hunter2@h/db".into()),
            unknown_user: Vec::new(),
            fail_first: 0,
            drift_report: None,
        };
        let shown = format!("{args:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("topsecret"),
            "{shown}"
        );
    }

    #[test]
    fn inspection_picks_the_family_and_key() {
        // A documented order_paid sample, with the order id the key must carry.
        let mut paid: Value = serde_json::from_slice(
            &crate::webhook_cmd::samples::sample("order_paid", None)
                .unwrap()
                .body,
        )
        .unwrap();
        paid["order"]["id"] = json!(5);
        let i = inspect("/", &serde_json::to_vec(&paid).unwrap());
        assert_eq!(i.family.as_str(), "store");
        assert_eq!(i.dedup_key.as_deref(), Some("store:order_paid:order.id=5"));
        let moved = br#"{"notification_type":"move_to_game","settings":{"merchant_id":1,"project_id":2},"items":[],"user":{"id":"p"}}"#;
        assert_eq!(inspect("/", moved).family.as_str(), "backpack");
        let uv = br#"{"notification_type":"user_validation","user":{"id":"p"}}"#;
        let i = inspect("/backpack", uv);
        assert_eq!(i.family.as_str(), "backpack");
        assert_eq!(i.dedup_key, None);
        let garbage = inspect("/", b"nope");
        assert_eq!(garbage.notification_type, None);
    }

    #[test]
    fn recorder_counts_and_fails_first() {
        let recorder = Recorder {
            handled: Mutex::new(HashMap::new()),
            unknown_users: ["ghost".to_owned()].into_iter().collect(),
            failures_left: AtomicU64::new(1),
        };
        assert!(recorder.record(Some("k")).is_err());
        assert!(recorder.record(Some("k")).is_ok());
        assert!(recorder.consume("k"));
        assert!(!recorder.consume("k"));
        assert!(recorder.validate(Some("ghost".into()), None).is_err());
        assert!(recorder.validate(Some("p".into()), None).is_ok());
    }
}
