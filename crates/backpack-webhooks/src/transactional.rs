//! Transactional handlers: the delivery's claim, your writes and the recorded answer commit in
//! **one** database transaction (sqlx: PostgreSQL, MySQL/MariaDB or SQLite).
//!
//! A plain [`WebhookHandler`](crate::WebhookHandler) records the answer in a separate write after
//! the handler returns, so a crash in between runs the handler again on Xsolla's retry. A
//! [`TransactionalReceiver`](crate::TransactionalReceiver) closes that window. For a
//! deduplicated delivery it:
//!
//! 1. opens a transaction on the store's pool and inserts the delivery's key, recorded in
//!    advance as a 204 (what `Ok` answers) — one prepared statement, one round trip. A concurrent
//!    duplicate (another request, process or instance) blocks on that key until this
//!    transaction ends, at most the [lock timeout](crate::PoolSettings::with_lock_timeout), and
//!    then replays the committed answer; so the handler never runs twice at once;
//! 2. calls your handler with `&mut sqlx::Transaction`; do every write through it;
//! 3. then, by what the handler returned:
//!
//! | handler | database | answer |
//! |---|---|---|
//! | `Ok(())` | writes and the recorded 204 commit together (one commit) | 204 |
//! | rejection ([`HandlerError::reject`](crate::HandlerError::reject)) | the transaction rolled back (your writes and the claim); then the 400 is recorded and committed on its own | 400 with the code, replayed to retries |
//! | temporary error, or a panic | everything rolled back, nothing recorded | 500; Xsolla's retry runs the handler on a clean slate |
//! | — key locked past the lock timeout, the database unreachable, or the commit fails | everything rolled back, the handler is not called (or its writes are undone) | 500 |
//!
//! A rejection is recorded after the rollback, not under a savepoint, so that the common path
//! costs no savepoint (and, on PostgreSQL, no subtransaction for your writes). In that instant a
//! duplicate waiting on the key can take it and run your handler again, after this call and
//! never alongside it; the answer recorded first is the one replayed. If the 400 cannot be
//! recorded (the database went away), the answer is 500 and Xsolla's retry runs the handler
//! again.
//!
//! For `payment_account_add` / `payment_account_remove`, the record of the other one of the pair
//! is deleted in the same transaction (adding an account again after removing it is handled, not
//! replayed). A crash at any point leaves all of it or none of it: the database rolls back a
//! transaction whose connection died. Every answer is read from the database, never from a
//! per-process cache, so processes sharing the database always agree.
//!
//! Deliveries that are never deduplicated (`user_validation`, `user_search`) run in a transaction
//! too, committed only on `Ok`.
//!
//! Your grants must live in the **same database** as the store, written through `tx`. Do not
//! commit or roll back `tx` yourself; nested `tx.begin()` (a savepoint) is fine. Map a database
//! error to [`HandlerError::temporary`](crate::HandlerError::temporary).
//!
//! ```
//! use backpack_webhooks::sqlx::{self, Sqlite, Transaction};
//! use backpack_webhooks::{
//!     Delivery, HandlerError, HandlerResult, SqliteStore, TransactionalHandler,
//!     TransactionalReceiver, WebhookEvent, WebhookSecret, authorization_value,
//! };
//!
//! struct Grants;
//!
//! impl TransactionalHandler<Sqlite> for Grants {
//!     async fn handle(
//!         &self,
//!         event: WebhookEvent,
//!         _delivery: &Delivery,
//!         tx: &mut Transaction<'_, Sqlite>,
//!     ) -> HandlerResult {
//!         if let WebhookEvent::OrderPaid(paid) = event {
//!             let Some(user) = paid.user.external_id else {
//!                 return Err(HandlerError::invalid_user()); // 400, recorded, nothing granted
//!             };
//!             for item in &paid.items {
//!                 sqlx::query("INSERT INTO grants (order_id, user_id, sku) VALUES (?, ?, ?)")
//!                     .bind(paid.order.id)
//!                     .bind(&user)
//!                     .bind(&item.sku)
//!                     .execute(&mut **tx)
//!                     .await
//!                     .map_err(HandlerError::temporary)?; // 500, all rolled back, retried
//!             }
//!         }
//!         Ok(()) // 204: the grants and the recorded answer commit together
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open_in_memory().await?; // SqliteStore::open("game.db") in production
//! sqlx::query("CREATE TABLE grants (order_id INTEGER, user_id TEXT, sku TEXT)")
//!     .execute(store.pool())
//!     .await?;
//! let secret = WebhookSecret::try_new("project secret key")?;
//! let receiver = TransactionalReceiver::new(secret.clone(), Grants, store.clone())?;
//! // Serve it: axum::Router::new().route_service("/xsolla/webhook", receiver)
//!
//! let body = br#"{"notification_type":"order_paid","items":[{"sku":"gold","type":"virtual_currency","quantity":1,"amount":"1","promotions":[]}],"order":{"id":7,"mode":"default","currency_type":"real","currency":"USD","amount":"1","status":"paid","platform":"xsolla"},"user":{"external_id":"p1","email":"p@example.com"}}"#;
//! for _ in 0..2 {
//!     // Xsolla's delivery, then its retry: granted once, both answered 204.
//!     let request = http::Request::post("/")
//!         .header("authorization", authorization_value(body, &secret))
//!         .body(axum::body::Body::from(&body[..]))?;
//!     assert_eq!(receiver.handle(request).await.status(), 204);
//! }
//! let granted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grants")
//!     .fetch_one(store.pool())
//!     .await?;
//! assert_eq!(granted, 1);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use backpack_types::WebhookFamily;
use futures::FutureExt;
use sqlx::{Database, Transaction};
use tokio::time::Instant;

use crate::dedup::{ClaimToken, StoreError, StoredAnswer};
use crate::dedup_key::{self, DedupKey};
use crate::events::{UserSearch, WebhookEvent};
use crate::handler::{Delivery, FoundUser, HandlerResult};
use crate::observe;
use crate::pipeline::{HandlerRunner, IN_PROGRESS, TEMPORARY, found_user_body, outcome_of};
use crate::response::{Outcome, answer};

/// Handler for payments/store webhooks whose writes commit together with the recorded answer,
/// in a transaction on database `DB` (`sqlx::Postgres`, `sqlx::MySql` or `sqlx::Sqlite`). Use
/// with a [`TransactionalReceiver`](crate::TransactionalReceiver) on the matching store. See the
/// [module docs](self).
pub trait TransactionalHandler<DB: Database>: Send + Sync + 'static {
    /// Any event except `user_search` (which goes to [`user_search`](Self::user_search)),
    /// including [`WebhookEvent::Unknown`]. `Ok(())` accepts (204).
    fn handle(
        &self,
        event: WebhookEvent,
        delivery: &Delivery,
        tx: &mut Transaction<'_, DB>,
    ) -> impl Future<Output = HandlerResult> + Send;

    /// `user_search`: `Some(user)` → 200 with the user, `None` (default) → 204.
    fn user_search(
        &self,
        event: UserSearch,
        delivery: &Delivery,
        tx: &mut Transaction<'_, DB>,
    ) -> impl Future<Output = HandlerResult<Option<FoundUser>>> + Send {
        let _ = (event, delivery, tx);
        std::future::ready(Ok(None))
    }
}

pub use crate::dedup::sql_store::SqlStore;
/// Where the key claim of a transactional delivery landed (used by [`SqlStore`]).
#[doc(hidden)]
pub use crate::dedup::sql_store::TxClaim;

/// The transactional handler behind a [`TransactionalReceiver`](crate::TransactionalReceiver).
pub(crate) struct TxDispatch<H>(Arc<H>);

impl<H> TxDispatch<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self(Arc::new(handler))
    }

    pub(crate) fn handler(&self) -> &H {
        &self.0
    }
}

impl<S: SqlStore, H: TransactionalHandler<S::Db>> HandlerRunner<S> for TxDispatch<H> {
    type Event = WebhookEvent;
    const ONE_TRANSACTION: bool = true;

    async fn run(&self, store: &S, event: Box<WebhookEvent>, delivery: Delivery) -> StoredAnswer {
        unkeyed(&*self.0, store, event, delivery).await
    }

    async fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: Box<WebhookEvent>,
        delivery: Delivery,
        lease: Duration,
    ) -> StoredAnswer {
        // Not reached (ONE_TRANSACTION): give the plain claim back and claim inside the transaction.
        if let Err(err) = store.release(key.as_str(), &token).await {
            tracing::warn!(error = %err, "could not release the claim");
        }
        self.run_keyed(store, key, event, delivery, lease).await
    }

    async fn run_keyed(
        &self,
        store: &S,
        key: DedupKey,
        event: Box<WebhookEvent>,
        delivery: Delivery,
        wait: Duration,
    ) -> StoredAnswer {
        keyed(&*self.0, store, &key, event, &delivery, wait).await
    }
}

/// Calls the handler with `tx`, catching a panic. The handler's future is boxed where it is
/// built: it holds the event (kilobytes), which every future around it would copy again.
async fn call<DB: Database, H: TransactionalHandler<DB>>(
    handler: &H,
    event: Box<WebhookEvent>,
    delivery: &Delivery,
    tx: &mut Transaction<'static, DB>,
) -> Outcome {
    let started = Instant::now();
    let call = async {
        match *event {
            WebhookEvent::UserSearch(e) => Box::pin(handler.user_search(e, delivery, tx))
                .await
                .map(found_user_body),
            other => Box::pin(handler.handle(other, delivery, tx))
                .await
                .map(|()| None),
        }
    };
    let result = AssertUnwindSafe(call).catch_unwind().await;
    observe::handler_finished(&delivery.notification_type, started.elapsed());
    outcome_of(result, &delivery.notification_type)
}

async fn rollback<DB: Database>(tx: Transaction<'static, DB>) {
    if let Err(err) = tx.rollback().await {
        // The pool drops or resets the connection; nothing was committed.
        tracing::warn!(error = %err, "rollback failed");
    }
}

fn temporary() -> StoredAnswer {
    answer(WebhookFamily::Payments, Outcome::Temporary(TEMPORARY))
}

/// Opens a delivery's transaction; `None` (logged) when the database cannot.
async fn open<S: SqlStore>(store: &S) -> Option<Transaction<'static, S::Db>> {
    // Boxed: sqlx's `begin` future is kilobytes, and every future awaiting this one would carry it.
    match Box::pin(store.begin_tx()).await {
        Ok(tx) => Some(tx),
        Err(err) => {
            tracing::error!(error = %err, "could not open a transaction; answering 500");
            None
        }
    }
}

/// A delivery that is never deduplicated: its own transaction, committed on `Ok` only.
async fn unkeyed<S: SqlStore, H: TransactionalHandler<S::Db>>(
    handler: &H,
    store: &S,
    event: Box<WebhookEvent>,
    delivery: Delivery,
) -> StoredAnswer {
    let Some(mut tx) = open(store).await else {
        return temporary();
    };
    let outcome = call(handler, event, &delivery, &mut tx).await;
    if !matches!(outcome, Outcome::Accepted(_)) {
        rollback(tx).await;
        return answer(WebhookFamily::Payments, outcome);
    }
    match tx.commit().await {
        Ok(()) => answer(WebhookFamily::Payments, outcome),
        Err(err) => {
            tracing::error!(error = %err, "commit failed; answering 500");
            temporary()
        }
    }
}

/// A deduplicated delivery: claim, handler and answer in one transaction (module docs).
async fn keyed<S: SqlStore, H: TransactionalHandler<S::Db>>(
    handler: &H,
    store: &S,
    key: &DedupKey,
    event: Box<WebhookEvent>,
    delivery: &Delivery,
    wait: Duration,
) -> StoredAnswer {
    let deadline = Instant::now() + wait;
    let mut tx = loop {
        let Some(mut tx) = open(store).await else {
            return temporary();
        };
        match S::claim_in(&mut tx, key.as_str()).await {
            Ok(TxClaim::Owned) => break tx,
            Ok(TxClaim::Done(previous)) => {
                rollback(tx).await;
                observe::replayed();
                return previous;
            }
            Ok(TxClaim::InProgress) => {
                rollback(tx).await;
                let now = Instant::now();
                if now >= deadline {
                    tracing::debug!("duplicate still in progress; answering 500");
                    return answer(WebhookFamily::Payments, Outcome::Temporary(IN_PROGRESS));
                }
                store.wait_for_change(key.as_str(), deadline - now).await;
            }
            Err(err) => {
                // Typically the lock timeout: the same delivery is being handled right now.
                tracing::warn!(error = %err, "could not claim the delivery; answering 500");
                return temporary();
            }
        }
    };
    let outcome = call(handler, event, delivery, &mut tx).await;
    match &outcome {
        Outcome::Temporary(_) => {
            rollback(tx).await;
            return answer(WebhookFamily::Payments, outcome);
        }
        Outcome::Rejected(..) => {
            rollback(tx).await;
            return record_rejection(store, key, answer(WebhookFamily::Payments, outcome)).await;
        }
        _ => {}
    }
    let answer = answer(WebhookFamily::Payments, outcome);
    let finish = async {
        if answer != StoredAnswer::empty(204) {
            S::record_in(&mut tx, key.as_str(), &answer).await?;
        }
        if let Some(other) = dedup_key::counterpart(key) {
            S::forget_in(&mut tx, other.as_str()).await?;
        }
        tx.commit().await.map_err(StoreError::backend)
    };
    match finish.await {
        Ok(()) => answer,
        Err(err) => {
            tracing::error!(error = %err, "could not commit the delivery; answering 500");
            temporary()
        }
    }
}

/// A rejection, after its transaction (claim and the handler's writes) was rolled back: the
/// answer is recorded on its own, so Xsolla's retries get it replayed. Rejections are rare, so
/// the common path keeps one round trip and no savepoint for them.
async fn record_rejection<S: SqlStore>(
    store: &S,
    key: &DedupKey,
    answer: StoredAnswer,
) -> StoredAnswer {
    match store.record_rejection(key.as_str(), &answer).await {
        Ok(true) => answer,
        Ok(false) => {
            // Another delivery of the key claimed it in between (its handler ran after this one,
            // never at the same time); its answer is the one recorded.
            tracing::debug!("a duplicate took the rejected delivery's key; its answer stands");
            answer
        }
        Err(err) => {
            // Nothing recorded: the retry runs the handler again.
            tracing::error!(error = %err, "could not record the rejection; answering 500");
            temporary()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::SqliteStore;

    struct Accept;

    impl TransactionalHandler<sqlx::Sqlite> for Accept {
        async fn handle(
            &self,
            _: WebhookEvent,
            _: &Delivery,
            _: &mut Transaction<'_, sqlx::Sqlite>,
        ) -> HandlerResult {
            Ok(())
        }
    }

    /// Every future a delivery passes through is moved (copied) into the one around it, so the
    /// delivery's future must stay small: the event (kilobytes) and sqlx's `begin` future are
    /// boxed. Unboxed, this future was over 10 KB.
    #[tokio::test]
    async fn the_delivery_future_stays_small() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        let key = DedupKey::new_unchecked("store:order_paid:order.id=1");
        let delivery = Delivery {
            notification_type: "order_paid".into(),
            dedup_key: None,
            sandbox: false,
            client_ip: None,
        };
        let event = Box::new(WebhookEvent::Unknown(serde_json::Value::Null));
        let wait = Duration::ZERO;
        let future = keyed(&Accept, &store, &key, event, &delivery, wait);
        let size = std::mem::size_of_val(&future);
        assert!(size < 2048, "the keyed delivery future is {size} bytes");
    }
}
