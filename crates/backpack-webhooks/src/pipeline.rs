//! The delivery pipeline every receiver runs: method → IP allowlist → body limit → signature →
//! parse → deduplicate → handler → answer, and the retention purge after a write. How the handler
//! runs against the store (plain claim protocol, or one database transaction) is the
//! [`HandlerRunner`] of the receiver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::ConnectInfo;
use backpack_types::WebhookFamily;
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::time::Instant;

use crate::completion::RunToCompletion;
use crate::config::ReceiverConfig;
use crate::dedup::{Claim, ClaimToken, DedupStore, StoredAnswer};
use crate::dedup_key::{self, DedupKey, DedupPolicy};
use crate::handler::{Delivery, FoundUser, HandlerError, HandlerResult};
use crate::observe::{self, DeliverySpan};
use crate::parse::{FamilyEvent, ParseError};
use crate::response::{ErrorCode, Outcome, answer};
use crate::secret::WebhookSecrets;
use crate::signature;

/// How often (at most) recorded answers past the retention are purged, on write.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// The message of a 500 that asks Xsolla to retry.
pub(crate) const TEMPORARY: &str = "Temporary error, retry later";
/// The message of a 500 while the same delivery is being handled elsewhere.
pub(crate) const IN_PROGRESS: &str = "This delivery is being processed, retry later";

/// What the generic pipeline needs from a handler wrapper running against store `S`: parsing,
/// and running the handler with the store (plain: handler, then a separate `complete`;
/// transactional: both in one database transaction).
pub(crate) trait HandlerRunner<S>: Send + Sync + 'static {
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
        event: Box<Self::Event>,
        delivery: Delivery,
    ) -> impl Future<Output = StoredAnswer> + Send;
    /// Runs the handler for the claim `token` on `key`, then records the answer (success or
    /// rejection) or frees the key (temporary failure). Returns the answer to send.
    fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: Box<Self::Event>,
        delivery: Delivery,
        lease: Duration,
    ) -> impl Future<Output = StoredAnswer> + Send;
    /// With [`ONE_TRANSACTION`](Self::ONE_TRANSACTION): claims `key`, runs the handler and
    /// records the answer, waiting at most `wait` for a concurrent delivery of the same key.
    fn run_keyed(
        &self,
        store: &S,
        key: DedupKey,
        event: Box<Self::Event>,
        delivery: Delivery,
        wait: Duration,
    ) -> impl Future<Output = StoredAnswer> + Send {
        // Only called when ONE_TRANSACTION is set; anything else is a retryable error.
        let _ = (store, key, event, delivery, wait);
        std::future::ready(answer(Self::Event::FAMILY, Outcome::Temporary(TEMPORARY)))
    }
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

/// The delivery pipeline of one receiver (method, IP allowlist, body limit, signature, parse,
/// deduplication, handler, retention), generic over its handler runner `F` and store `S`.
pub(crate) struct DeliveryPipeline<F, S> {
    pub(crate) runner: F,
    pub(crate) store: S,
    pub(crate) secrets: WebhookSecrets,
    pub(crate) config: ReceiverConfig,
    /// When recorded answers were last purged (by the configured clock).
    last_purge: std::sync::Mutex<Option<SystemTime>>,
}

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

impl<F: HandlerRunner<S>, S: DedupStore> DeliveryPipeline<F, S> {
    /// A pipeline with nothing purged yet.
    pub(crate) fn new(
        runner: F,
        store: S,
        secrets: WebhookSecrets,
        config: ReceiverConfig,
    ) -> Self {
        Self {
            runner,
            store,
            secrets,
            config,
            last_purge: std::sync::Mutex::new(None),
        }
    }

    /// The whole pipeline for one request, in the delivery's span (see [`crate::observe`]).
    pub(crate) async fn process(self: &Arc<Self>, request: Request<Body>) -> StoredAnswer {
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
                Ok(event) => {
                    self.runner
                        .run(&self.store, Box::new(event), delivery)
                        .await
                }
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
        // Boxed: an event is kilobytes, and each future it passes through would copy it.
        let event = match F::Event::typed(&delivery.notification_type, &raw) {
            Ok(event) => Box::new(event),
            Err(err) => return body_refused(F::Event::FAMILY, &err),
        };
        // Finishes (commits or rolls back) even if the client hangs up.
        let pipeline = Arc::clone(self);
        let work = RunToCompletion::new(async move {
            let wait = pipeline.config.in_progress_wait;
            let answer = pipeline
                .runner
                .run_keyed(&pipeline.store, key, event, delivery, wait)
                .await;
            pipeline.purge_if_due().await;
            answer
        });
        match work.await {
            Some(answer) => answer,
            None => answer(F::Event::FAMILY, Outcome::Temporary(TEMPORARY)),
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
                    // Finishes (and records the answer) even if the client hangs up.
                    let pipeline = Arc::clone(self);
                    let work = RunToCompletion::new(async move {
                        pipeline.claimed(key, token, raw, delivery).await
                    });
                    return match work.await {
                        Some(answer) => answer,
                        None => answer(family, Outcome::Temporary(TEMPORARY)),
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
            Ok(event) => Box::new(event),
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
            .runner
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
fn body_refused(family: WebhookFamily, err: &ParseError) -> StoredAnswer {
    tracing::debug!(reason = %err, "webhook refused: body");
    answer(
        family,
        Outcome::Rejected(ErrorCode::InvalidParameter, public_message(err)),
    )
}
