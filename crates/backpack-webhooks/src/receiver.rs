//! The receivers: axum routers / tower services running
//! IP allowlist → body limit → signature → parse → deduplicate → handler → answer.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use bytes::Bytes;
use futures::FutureExt;
use http::header::{ALLOW, CONTENT_LENGTH, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::time::Instant;

use crate::dedup::{Claim, ClaimToken, DedupStore, StoredAnswer};
use crate::dedup_key::{self, DedupKey, DedupPolicy};
use crate::events::*;
use crate::handler::{
    BackpackHandler, Delivery, FoundUser, HandlerError, HandlerResult, WebhookHandler,
};
use crate::ip::{ClientIpSource, IpAllowlist};
use crate::observe::{self, DeliverySpan};
use crate::parse::{Family, FamilyEvent, ParseError};
use crate::response::{ErrorCode, Outcome, answer};
use crate::secret::{SecretError, WebhookSecrets};
use crate::signature;
#[cfg(feature = "_sql")]
use crate::transactional::{SqlStore, TransactionalHandler, TxDispatch};

/// Upper bound for configured durations (keeps `Instant` arithmetic far from overflow).
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Default body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Default retention of recorded answers: 7 days, comfortably longer than Xsolla's retries (at
/// most 48 hours after the first attempt, `spec/NOTES.md` W38), so every retry still finds its
/// record.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often (at most) recorded answers past the retention are purged, on write.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The time source for retention decisions (replaceable in tests).
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Receiver settings. `Default` = 1 MiB body limit, no IP allowlist, peer address as client
/// address, 30 s claim lease, 5 s wait for a concurrent duplicate, recorded answers kept 7 days.
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    body_limit: usize,
    ip_allowlist: Option<IpAllowlist>,
    client_ip_source: ClientIpSource,
    claim_lease: Duration,
    in_progress_wait: Duration,
    retention: Duration,
    clock: Arc<dyn Clock>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            ip_allowlist: None,
            client_ip_source: ClientIpSource::Peer,
            claim_lease: Duration::from_secs(30),
            in_progress_wait: Duration::from_secs(5),
            retention: DEFAULT_RETENTION,
            clock: Arc::new(SystemClock),
        }
    }
}

impl ReceiverConfig {
    /// Largest accepted body in bytes; larger ones get 413.
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Refuse (403) callers outside this allowlist, e.g. [`IpAllowlist::xsolla`]. Off by default.
    pub fn with_ip_allowlist(mut self, allowlist: IpAllowlist) -> Self {
        self.ip_allowlist = Some(allowlist);
        self
    }

    /// How the client address is found (peer address by default).
    pub fn with_client_ip_source(mut self, source: ClientIpSource) -> Self {
        self.client_ip_source = source;
        self
    }

    /// How long a claim lives without renewal. It is renewed every third of this while the handler
    /// runs; after a crash, the key is free again once it runs out. Clamped to 3 ms ..= 1 year.
    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = lease.clamp(Duration::from_millis(3), MAX_DURATION);
        self
    }

    /// How long a duplicate waits for a concurrent delivery of the same event before answering
    /// 500 (so that Xsolla retries later). At most 1 year.
    pub fn with_in_progress_wait(mut self, wait: Duration) -> Self {
        self.in_progress_wait = wait.min(MAX_DURATION);
        self
    }

    /// How long recorded answers are kept ([`DEFAULT_RETENTION`]: 7 days). After a write, at
    /// most once an hour, the receiver deletes records completed more than this long ago
    /// ([`DedupStore::purge_completed_before`]). Keep it well above Xsolla's retry window
    /// (48 hours): a retry that arrives after its record was purged runs the handler again.
    /// At most 1 year.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention.min(MAX_DURATION);
        self
    }

    /// The clock used for retention (the system clock by default; tests move their own).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The retention of recorded answers.
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// The body limit.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The allowlist, if any.
    pub fn ip_allowlist(&self) -> Option<&IpAllowlist> {
        self.ip_allowlist.as_ref()
    }
}

/// One family's parsing and the call of a plain (non-transactional) handler trait.
pub(crate) trait Plain: Send + Sync + 'static {
    /// The family's event (which knows how it is parsed).
    type Event: FamilyEvent;
    /// Runs the handler; `Ok(Some(body))` is a JSON body to send with the success status.
    fn dispatch(
        &self,
        event: Self::Event,
        delivery: Delivery,
    ) -> impl Future<Output = HandlerResult<Option<Bytes>>> + Send;
}

/// What the generic pipeline needs from a handler wrapper running against store `S`: parsing,
/// and running the handler with the store (plain: handler, then a separate `complete`;
/// transactional: both in one database transaction).
pub(crate) trait Pipeline<S>: Send + Sync + 'static {
    /// The family's event (which knows how it is parsed).
    type Event: FamilyEvent;
    /// Whether a deduplicated delivery goes to [`run_keyed`](Self::run_keyed) (claim, handler
    /// and answer in one transaction) instead of the claim protocol and
    /// [`run_claimed`](Self::run_claimed).
    const ONE_TRANSACTION: bool = false;
    /// Runs the handler for a delivery that is never deduplicated; returns the answer to send.
    fn run(
        &self,
        store: &S,
        event: Self::Event,
        delivery: Delivery,
    ) -> impl Future<Output = StoredAnswer> + Send;
    /// Runs the handler for the claim `token` on `key`, then records the answer (success or
    /// rejection) or frees the key (temporary failure). Returns the answer to send.
    fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: Self::Event,
        delivery: Delivery,
        lease: Duration,
    ) -> impl Future<Output = StoredAnswer> + Send;
    /// With [`ONE_TRANSACTION`](Self::ONE_TRANSACTION): claims `key`, runs the handler and
    /// records the answer, waiting at most `wait` for a concurrent delivery of the same key.
    fn run_keyed(
        &self,
        store: &S,
        key: DedupKey,
        event: Self::Event,
        delivery: Delivery,
        wait: Duration,
    ) -> impl Future<Output = StoredAnswer> + Send {
        // Only called when ONE_TRANSACTION is set; anything else is a retryable error.
        let _ = (store, key, event, delivery, wait);
        std::future::ready(answer(Self::Event::FAMILY, Outcome::Temporary(TEMPORARY)))
    }
}

impl<P: Plain, S: DedupStore> Pipeline<S> for P {
    type Event = P::Event;

    async fn run(&self, _store: &S, event: Self::Event, delivery: Delivery) -> StoredAnswer {
        answer(P::Event::FAMILY, plain_outcome(self, event, delivery).await)
    }

    async fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: Self::Event,
        delivery: Delivery,
        lease: Duration,
    ) -> StoredAnswer {
        let period = lease / 3;
        let handler = plain_outcome(self, event, delivery);
        tokio::pin!(handler);
        let mut renew = tokio::time::interval_at(Instant::now() + period, period);
        let outcome = loop {
            tokio::select! {
                outcome = &mut handler => break outcome,
                _ = renew.tick() => {
                    if let Err(err) = store.renew(key.as_str(), &token, lease).await {
                        tracing::warn!(error = %err, "could not renew the claim");
                    }
                }
            }
        };
        let temporary = matches!(outcome, Outcome::Temporary(_));
        let answer = answer(P::Event::FAMILY, outcome);
        if temporary {
            if let Err(err) = store.release(key.as_str(), &token).await {
                tracing::warn!(error = %err, "could not release the claim");
            }
        } else if let Err(err) = store.complete(key.as_str(), &token, &answer).await {
            // The handler's work is done: answer as it decided, so Xsolla does not retry.
            // (This window is why the plain handler is "once while the process lives".)
            tracing::error!(error = %err, "could not record the webhook answer");
        }
        answer
    }
}

/// Runs a plain handler, turning panics into temporary failures.
async fn plain_outcome<P: Plain>(plain: &P, event: P::Event, delivery: Delivery) -> Outcome {
    let notification_type = delivery.notification_type.clone();
    let started = Instant::now();
    let result = AssertUnwindSafe(plain.dispatch(event, delivery))
        .catch_unwind()
        .await;
    observe::handler_finished(&notification_type, started.elapsed());
    outcome_of(result, &notification_type)
}

/// The 200 body for a user found by `user_search` (`None`: 204 without a body).
pub(crate) fn found_user_body(user: Option<FoundUser>) -> Option<Bytes> {
    let body = serde_json::json!({ "user": user? });
    Some(Bytes::from(body.to_string()))
}

/// Maps what a handler call returned (or its panic) to an outcome, logging failures.
pub(crate) fn outcome_of(
    result: std::thread::Result<HandlerResult<Option<Bytes>>>,
    notification_type: &str,
) -> Outcome {
    match result {
        Ok(Ok(body)) => Outcome::Accepted(body),
        Ok(Err(HandlerError::Reject { code, message })) => {
            Outcome::Rejected(code, message.into_owned())
        }
        Ok(Err(HandlerError::Temporary(source))) => {
            match source {
                Some(err) => tracing::warn!(
                    %notification_type, error = %err,
                    "webhook handler failed temporarily"
                ),
                None => tracing::warn!(%notification_type, "webhook handler asked for a retry"),
            }
            if notification_type == "user_validation" {
                tracing::warn!(
                    "a temporary error on user_validation is final: Xsolla does not re-send \
                     user_validation, the payment fails"
                );
            }
            Outcome::Temporary(TEMPORARY)
        }
        Err(_) => {
            tracing::error!(%notification_type, "webhook handler panicked");
            Outcome::Temporary(TEMPORARY)
        }
    }
}

pub(crate) struct StoreDispatch<H>(H);
pub(crate) struct BackpackDispatch<H>(H);

impl<H> StoreDispatch<H> {
    fn new(handler: H) -> Self {
        Self(handler)
    }

    fn handler(&self) -> &H {
        &self.0
    }
}

impl<H> BackpackDispatch<H> {
    fn new(handler: H) -> Self {
        Self(handler)
    }

    fn handler(&self) -> &H {
        &self.0
    }
}

fn no_body(result: HandlerResult) -> HandlerResult<Option<Bytes>> {
    result.map(|()| None)
}

/// What a handler method answers with, as the response body.
trait AnswerBody {
    /// The JSON body to send with the success status, if any.
    fn into_body(self) -> Option<Bytes>;
}

impl AnswerBody for () {
    fn into_body(self) -> Option<Bytes> {
        None
    }
}

impl AnswerBody for Option<FoundUser> {
    fn into_body(self) -> Option<Bytes> {
        found_user_body(self)
    }
}

/// The dispatch `match` of one family, from [`backpack_types::for_each_webhook!`]: each event
/// variant to its handler method, unknown types to `unknown`.
macro_rules! dispatch {
    (
        [$events:ident, $handler:ident, $event:ident, $delivery:ident]
        $({ kind: $kind:ident, event: $variant:ident, method: $method:ident, $($rest:tt)* })*
    ) => {
        match $event {
            $($events::$variant(e) => $handler.$method(e, &$delivery).await.map(AnswerBody::into_body),)*
            $events::Unknown(v) => no_body($handler.unknown(v, &$delivery).await),
            // Unreachable while the enum and the catalogue come from one regen; the enum is
            // `#[non_exhaustive]`, so the compiler wants the arm.
            other => no_body(
                $handler
                    .unknown(serde_json::to_value(&other).unwrap_or_default(), &$delivery)
                    .await,
            ),
        }
    };
}

impl<H: WebhookHandler> Plain for StoreDispatch<H> {
    type Event = WebhookEvent;

    fn dispatch(
        &self,
        event: WebhookEvent,
        d: Delivery,
    ) -> impl Future<Output = HandlerResult<Option<Bytes>>> + Send {
        let h = &self.0;
        async move { backpack_types::for_each_webhook!(Payments, dispatch, WebhookEvent, h, event, d) }
    }
}

impl<H: BackpackHandler> Plain for BackpackDispatch<H> {
    type Event = BackpackWebhookEvent;

    fn dispatch(
        &self,
        event: BackpackWebhookEvent,
        d: Delivery,
    ) -> impl Future<Output = HandlerResult<Option<Bytes>>> + Send {
        let h = &self.0;
        async move {
            backpack_types::for_each_webhook!(Backpack, dispatch, BackpackWebhookEvent, h, event, d)
        }
    }
}

/// The generic pipeline.
struct Core<F, S> {
    dispatch: F,
    store: S,
    secrets: WebhookSecrets,
    config: ReceiverConfig,
    /// When recorded answers were last purged (by the configured clock).
    last_purge: std::sync::Mutex<Option<SystemTime>>,
}

pub(crate) const TEMPORARY: &str = "Temporary error, retry later";
pub(crate) const IN_PROGRESS: &str = "This delivery is being processed, retry later";

/// Public text for a parse error: fixed strings and our own field names only, never body content.
fn public_message(err: &ParseError) -> String {
    match err {
        ParseError::EmptyBody => "Request body is empty".into(),
        ParseError::InvalidJson { .. } => "Request body is not valid JSON".into(),
        ParseError::NotAnObject => "Request body is not a JSON object".into(),
        ParseError::MissingNotificationType => "notification_type is missing".into(),
        ParseError::NotificationTypeNotString => "notification_type must be a string".into(),
        ParseError::InvalidField { path, expected } => format!("{path} must be {expected}"),
        _ => "Request body does not match the webhook schema".into(),
    }
}

impl<F: Pipeline<S>, S: DedupStore> Core<F, S> {
    /// The whole pipeline for one request, in the delivery's span (see [`crate::observe`]).
    async fn process(self: &Arc<Self>, request: Request<Body>) -> StoredAnswer {
        let mut span = DeliverySpan::new(F::Event::FAMILY);
        let outer = span.span().clone();
        let (answer, replayed) =
            observe::in_delivery(&outer, self.process_in_span(request, &mut span)).await;
        span.finish(&answer, replayed);
        answer
    }

    async fn process_in_span(
        self: &Arc<Self>,
        request: Request<Body>,
        span: &mut DeliverySpan,
    ) -> StoredAnswer {
        let family = F::Event::FAMILY;
        let (parts, body) = request.into_parts();
        if parts.method != Method::POST {
            return StoredAnswer::empty(StatusCode::METHOD_NOT_ALLOWED.as_u16());
        }

        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client_ip = self.config.client_ip_source.resolve(peer, &parts.headers);
        let allowed = self
            .config
            .ip_allowlist
            .as_ref()
            .is_none_or(|list| client_ip.is_some_and(|ip| list.contains(ip)));
        if !allowed {
            tracing::debug!(?client_ip, "webhook refused: client IP not allowed");
            return answer(family, Outcome::ForbiddenIp);
        }

        let limit = self.config.body_limit;
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return answer(family, Outcome::TooLarge);
        }
        let raw = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => {
                return answer(family, Outcome::TooLarge);
            }
            Err(_) => {
                return answer(
                    family,
                    Outcome::Rejected(
                        ErrorCode::InvalidParameter,
                        "Could not read the request body".into(),
                    ),
                );
            }
        };

        if let Err(err) = signature::verify_headers_any(&raw, &parts.headers, &self.secrets) {
            tracing::debug!(reason = %err, "webhook refused: signature");
            return answer(
                family,
                Outcome::Rejected(
                    ErrorCode::InvalidSignature,
                    ErrorCode::InvalidSignature.default_message().into(),
                ),
            );
        }

        // Pass 1 only: a duplicate is answered from the store without the typed pass.
        let crate::parse::Route {
            notification_type,
            dedup,
            sandbox,
        } = match F::Event::route(&raw) {
            Ok(routed) => routed,
            Err(err) => return body_refused(family, &err),
        };
        let dedup_key = match dedup {
            DedupPolicy::Never => None,
            DedupPolicy::Key(key) => Some(key),
        };
        span.routed(&notification_type, dedup_key.as_ref());
        let delivery = Delivery {
            notification_type,
            dedup_key: dedup_key.as_ref().map(|k| k.as_str().to_owned()),
            sandbox,
            client_ip,
        };
        match dedup_key {
            None => match F::Event::typed(&delivery.notification_type, &raw) {
                Ok(event) => self.dispatch.run(&self.store, event, delivery).await,
                Err(err) => body_refused(family, &err),
            },
            Some(key) if F::ONE_TRANSACTION => self.in_one_transaction(key, raw, delivery).await,
            Some(key) => self.deduplicated(key, raw, delivery).await,
        }
    }

    /// A deduplicated delivery whose claim, handler and answer share one transaction.
    async fn in_one_transaction(
        self: &Arc<Self>,
        key: DedupKey,
        raw: Bytes,
        delivery: Delivery,
    ) -> StoredAnswer {
        let event = match F::Event::typed(&delivery.notification_type, &raw) {
            Ok(event) => event,
            Err(err) => return body_refused(F::Event::FAMILY, &err),
        };
        // Own task: finishes (commits or rolls back) even if the client hangs up.
        let core = Arc::clone(self);
        let task = tokio::spawn(observe::carry(async move {
            let wait = core.config.in_progress_wait;
            let answer = core
                .dispatch
                .run_keyed(&core.store, key, event, delivery, wait)
                .await;
            core.purge_if_due().await;
            answer
        }));
        match task.await {
            Ok(answer) => answer,
            Err(_) => answer(F::Event::FAMILY, Outcome::Temporary(TEMPORARY)),
        }
    }

    async fn deduplicated(
        self: &Arc<Self>,
        key: DedupKey,
        raw: Bytes,
        delivery: Delivery,
    ) -> StoredAnswer {
        let family = F::Event::FAMILY;
        let deadline = Instant::now() + self.config.in_progress_wait;
        loop {
            match self
                .store
                .claim(key.as_str(), self.config.claim_lease)
                .await
            {
                Err(err) => {
                    tracing::error!(error = %err, "dedup store failed; answering 500");
                    return answer(family, Outcome::Temporary(TEMPORARY));
                }
                Ok(Claim::Done(previous)) => {
                    observe::replayed();
                    tracing::debug!(status = previous.status, "duplicate webhook replayed");
                    return previous;
                }
                Ok(Claim::Acquired(token)) => {
                    // Own task: finishes (and records the answer) even if the client hangs up.
                    let core = Arc::clone(self);
                    let task = tokio::spawn(observe::carry(async move {
                        core.claimed(key, token, raw, delivery).await
                    }));
                    return match task.await {
                        Ok(answer) => answer,
                        Err(_) => answer(family, Outcome::Temporary(TEMPORARY)),
                    };
                }
                Ok(Claim::InProgress) => {
                    let now = Instant::now();
                    if now >= deadline {
                        tracing::debug!("duplicate still in progress; answering 500");
                        return answer(family, Outcome::Temporary(IN_PROGRESS));
                    }
                    self.store
                        .wait_for_change(key.as_str(), deadline - now)
                        .await;
                }
            }
        }
    }

    async fn claimed(
        self: Arc<Self>,
        key: DedupKey,
        token: ClaimToken,
        raw: Bytes,
        delivery: Delivery,
    ) -> StoredAnswer {
        let event = match F::Event::typed(&delivery.notification_type, &raw) {
            Ok(event) => event,
            Err(err) => {
                // Not recorded: the key must stay free for a body that does parse.
                if let Err(store_err) = self.store.release(key.as_str(), &token).await {
                    tracing::warn!(error = %store_err, "could not release the claim");
                }
                return body_refused(F::Event::FAMILY, &err);
            }
        };
        let obsolete = dedup_key::counterpart(&key);
        let answer = self
            .dispatch
            .run_claimed(
                &self.store,
                key,
                token,
                event,
                delivery,
                self.config.claim_lease,
            )
            .await;
        if let Some(other) = obsolete.filter(|_| answer.status < 300)
            && let Err(err) = self.store.forget(other.as_str()).await
        {
            tracing::warn!(error = %err, "could not forget an obsolete record");
        }
        self.purge_if_due().await;
        answer
    }

    /// Retention, on write: at most once per [`PURGE_EVERY`] (by the configured clock), delete
    /// the records completed before `now - retention`.
    async fn purge_if_due(&self) {
        let now = self.config.clock.now();
        {
            let mut last = self.last_purge.lock().unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|last| {
                now.duration_since(last)
                    .map_or(true, |elapsed| elapsed >= PURGE_EVERY)
            });
            if !due {
                return;
            }
            *last = Some(now);
        }
        let cutoff = now
            .checked_sub(self.config.retention)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        match self.store.purge_completed_before(cutoff).await {
            Ok(purged) => tracing::debug!(purged, "purged recorded webhook answers past retention"),
            Err(err) => tracing::warn!(error = %err, "could not purge recorded webhook answers"),
        }
    }
}

/// The answer to a body that is not a usable payload (logged without its content).
fn body_refused(family: Family, err: &ParseError) -> StoredAnswer {
    tracing::debug!(reason = %err, "webhook refused: body");
    answer(
        family,
        Outcome::Rejected(ErrorCode::InvalidParameter, public_message(err)),
    )
}

/// The HTTP response for an answer (plus `Allow: POST` on 405).
fn respond(answer: StoredAnswer) -> Response {
    let mut response = answer.into_response();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

macro_rules! receiver_type {
    (
        $(#[$meta:meta])*
        $name:ident, $dispatch:ident;
        $( $(#[$cfg:meta])* impl[$($gen:tt)*] $S:ty; )+
    ) => {
        $(#[$meta])*
        pub struct $name<H, S> {
            core: Arc<Core<$dispatch<H>, S>>,
        }

        impl<H, S> Clone for $name<H, S> {
            fn clone(&self) -> Self {
                Self {
                    core: Arc::clone(&self.core),
                }
            }
        }

        impl<H, S> fmt::Debug for $name<H, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("config", &self.core.config)
                    .field("secrets", &self.core.secrets)
                    .finish_non_exhaustive()
            }
        }

        $( receiver_type!(@impl $(#[$cfg])* [$($gen)*] $name, $dispatch, $S); )+
    };
    (@impl $(#[$cfg:meta])* [$($gen:tt)*] $name:ident, $dispatch:ident, $S:ty) => {
        $(#[$cfg])*
        impl<$($gen)*> $name<H, $S> {
            /// A receiver with the default [`ReceiverConfig`]. `secrets` is one
            /// [`WebhookSecret`](crate::WebhookSecret), or [`WebhookSecrets`] (current and previous keys, while you
            /// rotate the project's secret key). An empty secret is refused
            /// ([`SecretError::Empty`]): anyone could sign with it.
            pub fn new(
                secrets: impl Into<WebhookSecrets>,
                handler: H,
                store: $S,
            ) -> Result<Self, SecretError> {
                Self::with_config(secrets, handler, store, ReceiverConfig::default())
            }

            /// A receiver with explicit settings. An empty secret is refused.
            pub fn with_config(
                secrets: impl Into<WebhookSecrets>,
                handler: H,
                store: $S,
                config: ReceiverConfig,
            ) -> Result<Self, SecretError> {
                let secrets = secrets.into();
                secrets.check()?;
                Ok(Self {
                    core: Arc::new(Core {
                        dispatch: $dispatch::new(handler),
                        store,
                        secrets,
                        config,
                        last_purge: std::sync::Mutex::new(None),
                    }),
                })
            }

            /// Handles one request (any framework): the full pipeline.
            pub async fn handle(&self, request: Request<Body>) -> Response {
                respond(self.core.process(request).await)
            }

            /// An axum router answering at `/` (mount it with `Router::nest`, or use the receiver
            /// itself as a service with `Router::route_service`). Non-POST requests get 405.
            pub fn into_router(self) -> Router {
                Router::new().route_service("/", self)
            }

            /// The handler.
            pub fn handler(&self) -> &H {
                self.core.dispatch.handler()
            }

            /// The dedup store.
            pub fn store(&self) -> &$S {
                &self.core.store
            }

            /// The settings.
            pub fn config(&self) -> &ReceiverConfig {
                &self.core.config
            }
        }

        $(#[$cfg])*
        impl<$($gen)*> tower::Service<Request<Body>> for $name<H, $S> {
            type Response = Response;
            type Error = Infallible;
            type Future = BoxFuture;

            fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: Request<Body>) -> BoxFuture {
                let core = Arc::clone(&self.core);
                Box::pin(async move { Ok(respond(core.process(request).await)) })
            }
        }
    };
}

receiver_type! {
    /// Receiver for payments/store webhooks: 204 on success, 400 `{"error":{…}}` for rejections,
    /// 500 for temporary failures (see the crate docs for the full table).
    ///
    /// ```no_run
    /// use backpack_webhooks::{MemoryStore, WebhookHandler, WebhookReceiver, WebhookSecret};
    /// struct Shop;
    /// impl WebhookHandler for Shop {}
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let receiver = WebhookReceiver::new(
    ///     WebhookSecret::from_env("XSOLLA_WEBHOOK_SECRET")?,
    ///     Shop,
    ///     MemoryStore::new(),
    /// )?;
    /// let app = axum::Router::new().route_service("/xsolla/webhook", receiver);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// axum::serve(
    ///     listener,
    ///     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    WebhookReceiver, StoreDispatch;
    impl[H: WebhookHandler, S: DedupStore] S;
}

receiver_type! {
    /// Receiver for Backpack webhooks: 200 (empty) on success, 404 `{"error":{…}}` for rejections
    /// (player not found, invalid signature, unusable body), 500 for temporary failures.
    BackpackReceiver, BackpackDispatch;
    impl[H: BackpackHandler, S: DedupStore] S;
}

#[cfg(feature = "_sql")]
receiver_type! {
    /// Receiver for payments/store webhooks whose handler writes in the same database
    /// transaction that claims the delivery and records the answer: exactly once, even across
    /// `kill -9`, with one commit per delivery (see [`crate::transactional`]). Built on a
    /// [`SqlStore`] (`SqliteStore`, `PostgresStore` or `MySqlStore`) with a
    /// [`TransactionalHandler`] for its database. Answers as [`WebhookReceiver`].
    TransactionalReceiver, TxDispatch;
    impl[H: TransactionalHandler<S::Db>, S: SqlStore] S;
}
