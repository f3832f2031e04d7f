//! The Backpack API emulator, in your own tests: the 14 Backpack operations with real state in
//! SQLite, a Login-style token endpoint, and signed webhooks sent from a durable outbox on
//! Xsolla's retry schedules — with a clock your test moves.
//!
//! ```no_run
//! # async fn demo() -> Result<(), backpack_emulator::Error> {
//! use std::time::Duration;
//! use backpack_emulator::{Emulator, WebhookKind};
//!
//! let emulator = Emulator::builder()
//!     .webhook("http://127.0.0.1:8081/webhooks", "s3cret")
//!     .start()
//!     .await?;
//! let base_url = emulator.base_url().to_owned(); // point your Backpack client here
//! let token = emulator.user_token(uuid::Uuid::new_v4())?;
//! emulator.trigger(WebhookKind::Payment).await?; // the documented sample, signed
//! emulator.settle().await; // every due delivery attempted and answered
//! emulator.advance(Duration::from_secs(60)).await?; // the next retries, if any
//! for delivery in emulator.outbox().await? {
//!     println!("{} {} after {} attempts", delivery.notification_type, delivery.state, delivery.attempts);
//! }
//! emulator.shutdown().await?;
//! # let _ = (base_url, token);
//! # Ok(()) }
//! ```
//!
//! Defaults for tests: an in-memory database, a free loopback port, a **manual clock** (time
//! stands still until [`Emulator::advance`]), any well-formed `X-HOST-ID` accepted, client
//! [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`], tokens valid for an hour of emulator time.
//!
//! Routes:
//!
//! | route | what |
//! |---|---|
//! | the 14 spec operations | [`api::ApiBackend`] behind `backpack_server::router` and [`auth::enforce`] |
//! | `POST /api/oauth2/token` | Login-style token endpoint ([`auth::token_endpoint`]) |
//! | `GET /emulator/health` | `200 ok` (emulator-only) |
//! | `GET /emulator/outbox` | the webhook outbox as JSON (emulator-only) |
//! | `POST /emulator/webhooks/{type}` | queue any webhook type ([`trigger::route`], emulator-only) |
//!
//! Retry schedules per webhook type: see [`schedule`].
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod db;
mod error;
pub mod outbox;
pub mod samples;
pub mod schedule;

pub mod time;
pub mod trigger;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use backpack_webhooks::WebhookSecret;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

pub use crate::error::Error;
pub use crate::outbox::store::OutboxEntry;
pub use crate::schedule::ResendSchedule;
pub use crate::time::EmulatorClock;
pub use crate::trigger::{TriggerBody, Triggered};
pub use backpack_types::{WebhookFamily, WebhookKind};

use crate::auth::{Auth, AuthConfig, TokenKind};
use crate::db::Db;
use crate::outbox::store;
use crate::outbox::{Outbox, OutboxConfig};
use crate::schedule::ScaledSchedule;
use crate::trigger::Trigger;
use crate::webhooks::Target;

/// The OAuth client ID the emulator accepts unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "backpack-emulator";
/// Its client secret.
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";

/// Settings for [`Emulator`]; from [`Emulator::builder`].
pub struct EmulatorBuilder {
    listen: SocketAddr,
    listener: Option<TcpListener>,
    db: Option<PathBuf>,
    host_id: Option<Uuid>,
    client_id: String,
    client_secret: String,
    token_ttl: Duration,
    webhook: Option<(String, String)>,
    clock: EmulatorClock,
    time_scale: f64,
    legacy_move_webhook: bool,
    webhook_timeout: Duration,
}

impl std::fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("client_id", &self.client_id)
            .field("clock", &self.clock)
            .field("time_scale", &self.time_scale)
            .finish_non_exhaustive()
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            listener: None,
            db: None,
            host_id: None,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_ttl: Duration::from_secs(3600),
            webhook: None,
            clock: EmulatorClock::manual(),
            time_scale: 1.0,
            legacy_move_webhook: false,
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

impl EmulatorBuilder {
    /// Listen on `addr` (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serve on an already bound listener (overrides [`EmulatorBuilder::listen`]).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Keep the state in this SQLite file (created if missing; WAL mode; survives restarts and
    /// SIGKILL). Default: in memory, gone at shutdown.
    pub fn database_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.db = Some(path.into());
        self
    }

    /// Require this `X-HOST-ID` on Game and Items calls (default: any well-formed UUID).
    pub fn host_id(mut self, host_id: Uuid) -> Self {
        self.host_id = Some(host_id);
        self
    }

    /// The OAuth client the token endpoint accepts.
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.client_id = client_id.into();
        self.client_secret = client_secret.into();
        self
    }

    /// Lifetime of issued tokens, in emulator time (whole seconds, at least one).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Send webhooks to `url`, signed with the project secret key `secret`.
    pub fn webhook(mut self, url: impl Into<String>, secret: impl Into<String>) -> Self {
        self.webhook = Some((url.into(), secret.into()));
        self
    }

    /// Run on the system clock, dividing every retry wait by `time_scale` (`6000` turns
    /// 5 minutes into 50 ms). Default: a manual clock, moved by [`Emulator::advance`].
    pub fn system_clock(mut self, time_scale: f64) -> Self {
        self.clock = EmulatorClock::system();
        self.time_scale = time_scale;
        self
    }

    /// Use this clock (for example one shared with other test fixtures).
    pub fn clock(mut self, clock: EmulatorClock) -> Self {
        self.clock = clock;
        self
    }

    /// Send the deprecated Backpack `move_to_game` webhook instead of `order_paid` on moves.
    pub fn legacy_move_webhook(mut self, legacy: bool) -> Self {
        self.legacy_move_webhook = legacy;
        self
    }

    /// Timeout of one webhook request (no answer in time counts as no answer).
    pub fn webhook_timeout(mut self, timeout: Duration) -> Self {
        self.webhook_timeout = timeout;
        self
    }

    fn target(&self) -> Result<Option<Target>, Error> {
        let Some((url, secret)) = &self.webhook else {
            return Ok(None);
        };
        let url = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| Error::Config(format!("webhook URL `{url}` is not an http(s) URL")))?;
        let secret = WebhookSecret::try_new(secret.as_str())
            .map_err(|_| Error::Config("the webhook secret must not be empty".to_owned()))?;
        Ok(Some(Target { url, secret }))
    }

    fn check(&self) -> Result<(), Error> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err(Error::Config(
                "the time scale must be a positive number".to_owned(),
            ));
        }
        if self.token_ttl.as_secs() == 0 {
            return Err(Error::Config(
                "the token lifetime must be at least 1 second".to_owned(),
            ));
        }
        if self.webhook_timeout.is_zero() {
            return Err(Error::Config(
                "the webhook timeout must be positive".to_owned(),
            ));
        }
        if self.client_id.is_empty() || self.client_secret.is_empty() {
            return Err(Error::Config(
                "the client ID and secret must not be empty".to_owned(),
            ));
        }
        Ok(())
    }

    /// Opens the database, binds, and starts serving and sending webhooks.
    pub async fn start(self) -> Result<Emulator, Error> {
        self.check()?;
        let target = self.target()?;
        let db_error = |source| Error::Database {
            path: self.db.clone(),
            source,
        };
        let db = match &self.db {
            Some(path) => Db::open(path).await,
            None => Db::open_in_memory().await,
        }
        .map_err(db_error)?;
        let signing_key = db
            .meta_or_insert(
                "jwt_signing_key",
                || hex::encode(rand::random::<[u8; 32]>()),
            )
            .await
            .map_err(db_error)?;
        let order_base: i64 = db
            .meta_or_insert("order_base", || {
                (rand::random_range(1_000u64..9_000) * 1_000_000).to_string()
            })
            .await
            .map_err(db_error)?
            .parse()
            .map_err(|_| {
                Error::Config("corrupt emulator database metadata (order_base)".to_owned())
            })?;
        let listener = match self.listener {
            Some(listener) => listener,
            None => TcpListener::bind(self.listen)
                .await
                .map_err(|source| Error::Bind {
                    addr: self.listen,
                    source,
                })?,
        };
        let addr = listener.local_addr().map_err(Error::Server)?;

        let clock = self.clock;
        let auth = Arc::new(Auth::new(
            AuthConfig {
                signing_key: signing_key.into_bytes(),
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                host_id: self.host_id,
                ttl_secs: self.token_ttl.as_secs(),
            },
            Arc::clone(&db),
            clock.clone(),
        ));
        let client = reqwest::Client::builder()
            .timeout(self.webhook_timeout)
            .user_agent(concat!("backpack-emulator/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the webhook HTTP client: {e}")))?;
        let wake = Arc::new(Notify::new());
        let backend = api::ApiBackend {
            db: Arc::clone(&db),
            auth: Arc::clone(&auth),
            target: target.clone(),
            client: client.clone(),
            legacy_move_webhook: self.legacy_move_webhook,
            schedule: ScaledSchedule::new(ResendSchedule::Order, self.time_scale),
            order_base,
            wake: Arc::clone(&wake),
            clock: clock.clone(),
        };
        let trigger = Trigger {
            db: Arc::clone(&db),
            clock: clock.clone(),
            wake: Arc::clone(&wake),
            enabled: target.is_some(),
            time_scale: self.time_scale,
        };

        let app = backpack_server::router(Arc::new(backend))
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&auth),
                auth::enforce,
            ))
            .merge(
                Router::new()
                    .route("/api/oauth2/token", post(auth::token_endpoint))
                    .with_state(Arc::clone(&auth)),
            )
            .merge(
                Router::new()
                    .route("/emulator/health", get(health))
                    .route("/emulator/outbox", get(outbox_listing))
                    .with_state(Arc::clone(&db)),
            )
            .merge(
                Router::new()
                    .route("/emulator/webhooks/{type}", post(trigger::route))
                    .with_state(trigger.clone()),
            );

        let (stop, stop_rx) = watch::channel(false);
        let outbox = target.as_ref().map(|target| {
            Outbox::new(OutboxConfig {
                db: Arc::clone(&db),
                client,
                target: target.clone(),
                time_scale: self.time_scale,
                clock: clock.clone(),
                wake: Arc::clone(&wake),
            })
        });
        let worker = outbox
            .as_ref()
            .map(|outbox| tokio::spawn(Arc::clone(outbox).run(stop_rx.clone())));
        let mut server_stop = stop_rx;
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // Also ends when the handle is dropped (the sender goes away).
                    let _ = server_stop.wait_for(|stop| *stop).await;
                })
                .await
        });

        tracing::info!(
            %addr,
            db = %self.db.as_ref().map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string()),
            host_id_checked = self.host_id.is_some(),
            webhooks = target.as_ref().map_or("off", |_| "on"),
            webhook_url = %target.as_ref().map_or(String::new(), Target::url_for_logs),
            manual_clock = clock.is_manual(),
            time_scale = self.time_scale,
            token_ttl = self.token_ttl.as_secs(),
            legacy_move_webhook = self.legacy_move_webhook,
            "Backpack emulator ready"
        );
        if target.is_none() {
            let pending = async { store::pending_count(&mut *db.reader().await?).await };
            match pending.await {
                Ok(0) | Err(_) => {}
                Ok(pending) => tracing::warn!(
                    pending,
                    "webhook deliveries are waiting in the outbox; configure a webhook URL to send them"
                ),
            }
        }

        Ok(Emulator {
            addr,
            base_url: format!("http://{addr}"),
            client_id: self.client_id,
            client_secret: self.client_secret,
            host_id: self.host_id,
            auth,
            db,
            clock,
            outbox,
            trigger,
            stop,
            server,
            worker,
        })
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn outbox_listing(State(db): State<Arc<Db>>) -> Response {
    let rows = async { store::list_outbox(&mut *db.reader().await?).await };
    match rows.await {
        Ok(rows) => axum::Json(rows).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read the outbox");
            (http::StatusCode::INTERNAL_SERVER_ERROR, "database error").into_response()
        }
    }
}

/// A running emulator. Dropping it stops the server and the webhook worker in the background;
/// [`Emulator::shutdown`] stops them and waits.
pub struct Emulator {
    addr: SocketAddr,
    base_url: String,
    client_id: String,
    client_secret: String,
    host_id: Option<Uuid>,
    auth: Arc<Auth>,
    db: Arc<Db>,
    clock: EmulatorClock,
    outbox: Option<Arc<Outbox>>,
    trigger: Trigger,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("webhooks", &self.outbox.is_some())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Settings, with test-friendly defaults (see the crate docs).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The token endpoint (`{base_url}/api/oauth2/token`).
    pub fn token_url(&self) -> String {
        format!("{}/api/oauth2/token", self.base_url)
    }

    /// The accepted OAuth client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Its client secret.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// The required `X-HOST-ID`, if one was set.
    pub fn host_id(&self) -> Option<Uuid> {
        self.host_id
    }

    /// A merchant access token (Game and Items operations), as the token endpoint would issue.
    pub fn merchant_token(&self) -> Result<String, Error> {
        self.auth
            .issue(TokenKind::Merchant, &self.client_id)
            .map_err(Error::Token)
    }

    /// A user access token for Backpack user `user_id` (the user-facing operations).
    pub fn user_token(&self, user_id: Uuid) -> Result<String, Error> {
        self.auth
            .issue(TokenKind::User, &user_id.to_string())
            .map_err(Error::Token)
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &EmulatorClock {
        &self.clock
    }

    /// Every webhook delivery so far, oldest first, with its state and attempts.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>, Error> {
        let rows = async { store::list_outbox(&mut *self.db.reader().await?).await };
        rows.await
            .map_err(|source| Error::Database { path: None, source })
    }

    /// Waits until every webhook delivery due now has been attempted and its answer recorded
    /// (returns at once without a webhook URL).
    pub async fn settle(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.settle().await;
        }
    }

    /// Moves the manual clock forward by `by`, making every webhook attempt that falls due on
    /// the way, in order, each at its due time on the emulator clock (the clock waits there
    /// until the attempts due then are answered). When this returns, the clock is `by` later
    /// and every delivery due by then has been attempted and answered, as with
    /// [`settle`](Emulator::settle). Tokens age too.
    pub async fn advance(&self, by: Duration) -> Result<(), Error> {
        if !self.clock.is_manual() {
            return Err(Error::SystemClock);
        }
        let until = self.clock.now_millis().saturating_add(time::millis(by));
        match &self.outbox {
            Some(outbox) => outbox
                .advance_to(until)
                .await
                .map_err(|source| Error::Database { path: None, source })?,
            None => {
                self.clock.advance_to(until);
            }
        }
        Ok(())
    }

    /// Queues the documented sample of `kind`, signed, due now, on the type's own retry
    /// schedule ([`schedule`]). Call [`Emulator::settle`] to wait for the first attempt.
    pub async fn trigger(&self, kind: WebhookKind) -> Result<Triggered, Error> {
        self.trigger.send(kind, TriggerBody::Sample).await
    }

    /// Like [`Emulator::trigger`], with a chosen body ([`TriggerBody::Raw`] is sent byte for byte).
    pub async fn trigger_with(
        &self,
        kind: WebhookKind,
        body: TriggerBody,
    ) -> Result<Triggered, Error> {
        self.trigger.send(kind, body).await
    }

    /// Stops serving and sending, and waits for the server and the worker (an attempt already
    /// in flight is not waited for; the outbox records it as made).
    pub async fn shutdown(self) -> Result<(), Error> {
        let _ = self.stop.send(true);
        if let Some(worker) = self.worker {
            let _ = worker.await;
        }
        match self.server.await {
            Ok(result) => result.map_err(Error::Server),
            Err(join) => Err(Error::Server(std::io::Error::other(join.to_string()))),
        }
    }

    /// Serves until `signal` completes, then shuts down (what the `backpack emulator` command
    /// does with Ctrl-C / SIGTERM).
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> Result<(), Error> {
        signal.await;
        self.shutdown().await
    }
}
