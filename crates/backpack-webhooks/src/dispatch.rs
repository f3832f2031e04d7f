//! The plain (non-transactional) handler traits behind the pipeline: each event variant to its
//! handler method ([`StoreDispatch`], [`BackpackDispatch`]), run under the claim protocol of
//! [`crate::dedup`].

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use tokio::time::Instant;

use crate::dedup::{ClaimToken, DedupStore, StoredAnswer};
use crate::dedup_key::DedupKey;
use crate::events::*;
use crate::handler::{BackpackHandler, Delivery, FoundUser, HandlerResult, WebhookHandler};
use crate::observe;
use crate::parse::FamilyEvent;
use crate::pipeline::{HandlerRunner, found_user_body, outcome_of};
use crate::response::{Outcome, answer};

/// One family's parsing and the call of a plain (non-transactional) handler trait.
pub(crate) trait PlainDispatch: Send + Sync + 'static {
    /// The family's event (which knows how it is parsed).
    type Event: FamilyEvent;
    /// Runs the handler; `Ok(Some(body))` is a JSON body to send with the success status.
    fn dispatch(
        &self,
        event: Self::Event,
        delivery: Delivery,
    ) -> impl Future<Output = HandlerResult<Option<Bytes>>> + Send;
}

/// The plain claim protocol: the handler runs under a claim renewed every third of the lease,
/// then the answer is recorded (or the key freed after a temporary failure) in a separate write.
impl<P: PlainDispatch, S: DedupStore> HandlerRunner<S> for P {
    type Event = P::Event;

    async fn run(&self, _store: &S, event: Box<Self::Event>, delivery: Delivery) -> StoredAnswer {
        answer(
            P::Event::FAMILY,
            plain_outcome(self, *event, delivery).await,
        )
    }

    async fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: Box<Self::Event>,
        delivery: Delivery,
        lease: Duration,
    ) -> StoredAnswer {
        let period = lease / 3;
        let handler = plain_outcome(self, *event, delivery);
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
async fn plain_outcome<P: PlainDispatch>(
    plain: &P,
    event: P::Event,
    delivery: Delivery,
) -> Outcome {
    let notification_type = delivery.notification_type.clone();
    let started = Instant::now();
    let result = AssertUnwindSafe(plain.dispatch(event, delivery))
        .catch_unwind()
        .await;
    observe::handler_finished(&notification_type, started.elapsed());
    outcome_of(result, &notification_type)
}

/// Dispatch of payments/store events to a [`WebhookHandler`].
pub(crate) struct StoreDispatch<H>(H);
/// Dispatch of Backpack events to a [`BackpackHandler`].
pub(crate) struct BackpackDispatch<H>(H);

impl<H> StoreDispatch<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler)
    }

    pub(crate) fn handler(&self) -> &H {
        &self.0
    }
}

impl<H> BackpackDispatch<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self(handler)
    }

    pub(crate) fn handler(&self) -> &H {
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

impl<H: WebhookHandler> PlainDispatch for StoreDispatch<H> {
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

impl<H: BackpackHandler> PlainDispatch for BackpackDispatch<H> {
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
