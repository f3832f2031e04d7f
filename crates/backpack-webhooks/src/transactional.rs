//! Transactional handlers: the game's writes and the recorded answer commit in **one** database
//! transaction (the inbox pattern), so a paid order is granted exactly once even when the
//! process is killed at any moment.
//!
//! With a plain [`WebhookHandler`](crate::WebhookHandler) the handler runs, *then* the answer is
//! recorded in a separate write. If the process dies between the two, the claim's lease runs out
//! and Xsolla's next retry runs the handler again. A [`TransactionalReceiver`] closes that window:
//!
//! 1. the delivery's key is claimed as usual (a concurrent duplicate waits);
//! 2. one transaction is opened on the dedup database; it first checks that the claim is still
//!    ours (and locks it: SQLite `BEGIN IMMEDIATE`, PostgreSQL `SELECT … FOR UPDATE`);
//! 3. your handler runs with that transaction and does its writes through it;
//! 4. on `Ok` or a rejection, the answer (204, or 400 with its code) is recorded **in the same
//!    transaction**, which then commits: both or neither survive a crash;
//! 5. on a temporary failure or a panic the transaction rolls back (your writes are undone) and
//!    the key is freed, so Xsolla's retry runs the handler again: 500.
//!
//! A crash before the commit leaves neither the writes nor the answer, and the claim's lease
//! expires, so the retry runs the handler on a clean slate; a crash after the commit leaves both,
//! and the retry gets the recorded answer. Deliveries that are never deduplicated
//! (`user_validation`, `user_search`) also run in a transaction (committed on success), without a
//! record.
//!
//! Your grants must be written to the **same database** as the dedup table (SQLite file or
//! PostgreSQL database), through the `tx` you are given.
//!
//! The two stores offer the same shape: `SqliteHandler` (feature `sqlite`; synchronous methods, since
//! `rusqlite` is blocking and its transaction cannot cross threads; they run on a blocking thread)
//! and `PostgresHandler` (feature `postgres`; `async` methods with a `tokio_postgres::Transaction`). Each has a
//! `handle` method for every event except `user_search`, which has its own method (it answers
//! with a user). Only the payments/store family is offered (the Backpack webhooks are deprecated,
//! see the crate docs).
//!
//! While the transaction runs it holds the database's write lock (SQLite) or the delivery's row
//! lock (PostgreSQL), so the lease is not renewed: another claimer cannot take the delivery over
//! until the transaction ends. Keep handlers short (Xsolla recommends answering `order_paid` in
//! under 3 s).

#[cfg(feature = "postgres")]
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "postgres")]
use futures::FutureExt;

#[cfg(feature = "postgres")]
use crate::dedup::PostgresStore;
#[cfg(feature = "sqlite")]
use crate::dedup::SqliteStore;
use crate::dedup::{ClaimToken, DedupStore, StoreError, StoredAnswer};
use crate::dedup_key::DedupKey;
use crate::events::{UserSearch, WebhookEvent};
use crate::handler::{Delivery, FoundUser, HandlerResult};
use crate::parse::Family;
use crate::receiver::{Pipeline, TEMPORARY, found_user_body, outcome_of};
use crate::response::{Outcome, answer};

#[cfg(doc)]
use crate::receiver::TransactionalReceiver;

/// Handler for payments/store webhooks whose writes commit together with the recorded answer,
/// in a SQLite transaction on the [`SqliteStore`]'s file. Use with
/// [`TransactionalReceiver`]. See the [module docs](self).
///
/// Write your grants with `tx.execute(…)`; map a database error to
/// [`HandlerError::temporary`](crate::HandlerError::temporary) (the transaction then rolls back
/// and Xsolla retries). Do not commit or roll back `tx` yourself.
#[cfg(feature = "sqlite")]
pub trait SqliteHandler: Send + Sync + 'static {
    /// Any event except `user_search` (which goes to [`user_search`](Self::user_search)),
    /// including [`WebhookEvent::Unknown`]. `Ok(())` accepts (204).
    fn handle(
        &self,
        event: WebhookEvent,
        delivery: &Delivery,
        tx: &rusqlite::Transaction<'_>,
    ) -> HandlerResult;

    /// `user_search`: `Some(user)` → 200 with the user, `None` (default) → 204.
    fn user_search(
        &self,
        event: UserSearch,
        delivery: &Delivery,
        tx: &rusqlite::Transaction<'_>,
    ) -> HandlerResult<Option<FoundUser>> {
        let _ = (event, delivery, tx);
        Ok(None)
    }
}

/// Handler for payments/store webhooks whose writes commit together with the recorded answer,
/// in a PostgreSQL transaction on the [`PostgresStore`]'s database. Use with
/// [`TransactionalReceiver`]. See the [module docs](self).
///
/// Write your grants with `tx.execute(…).await`; map a database error to
/// [`HandlerError::temporary`](crate::HandlerError::temporary) (the transaction then rolls back
/// and Xsolla retries). Do not commit or roll back `tx` yourself.
#[cfg(feature = "postgres")]
pub trait PostgresHandler: Send + Sync + 'static {
    /// Any event except `user_search` (which goes to [`user_search`](Self::user_search)),
    /// including [`WebhookEvent::Unknown`]. `Ok(())` accepts (204).
    fn handle(
        &self,
        event: WebhookEvent,
        delivery: &Delivery,
        tx: &tokio_postgres::Transaction<'_>,
    ) -> impl Future<Output = HandlerResult> + Send;

    /// `user_search`: `Some(user)` → 200 with the user, `None` (default) → 204.
    fn user_search(
        &self,
        event: UserSearch,
        delivery: &Delivery,
        tx: &tokio_postgres::Transaction<'_>,
    ) -> impl Future<Output = HandlerResult<Option<FoundUser>>> + Send {
        let _ = (event, delivery, tx);
        std::future::ready(Ok(None))
    }
}

/// A handler that can run in a transaction of store `S`: implemented for every
/// `SqliteHandler` with `SqliteStore` and every `PostgresHandler` with `PostgresStore`.
/// Sealed: implement one of those two traits instead.
pub trait TransactionalHandler<S>: sealed::Sealed<S> + Send + Sync + 'static {}

pub(crate) mod sealed {
    use std::future::Future;
    use std::sync::Arc;

    use crate::dedup::{ClaimToken, StoredAnswer};
    use crate::dedup_key::DedupKey;
    use crate::events::WebhookEvent;
    use crate::handler::Delivery;

    /// The store-specific transaction work of a [`TransactionalHandler`](super::TransactionalHandler).
    pub trait Sealed<S> {
        /// A delivery that is never deduplicated, in a transaction of its own.
        fn run(
            handler: Arc<Self>,
            store: &S,
            event: WebhookEvent,
            delivery: Delivery,
        ) -> impl Future<Output = StoredAnswer> + Send;

        /// A claimed delivery: handler and recorded answer in one transaction.
        fn run_claimed(
            handler: Arc<Self>,
            store: &S,
            key: DedupKey,
            token: ClaimToken,
            event: WebhookEvent,
            delivery: Delivery,
        ) -> impl Future<Output = StoredAnswer> + Send;
    }
}

impl<S: DedupStore, H: TransactionalHandler<S>> Pipeline<S> for TxDispatch<H> {
    type Event = WebhookEvent;

    fn run(
        &self,
        store: &S,
        event: WebhookEvent,
        delivery: Delivery,
    ) -> impl std::future::Future<Output = StoredAnswer> + Send {
        H::run(Arc::clone(&self.0), store, event, delivery)
    }

    fn run_claimed(
        &self,
        store: &S,
        key: DedupKey,
        token: ClaimToken,
        event: WebhookEvent,
        delivery: Delivery,
        _lease: Duration,
    ) -> impl std::future::Future<Output = StoredAnswer> + Send {
        // No lease renewal: the transaction's lock keeps other claimers out until it ends.
        H::run_claimed(Arc::clone(&self.0), store, key, token, event, delivery)
    }
}

/// The transactional handler behind a [`TransactionalReceiver`].
pub(crate) struct TxDispatch<H>(Arc<H>);

impl<H> TxDispatch<H> {
    pub(crate) fn new(handler: H) -> Self {
        Self(Arc::new(handler))
    }

    pub(crate) fn handler(&self) -> &H {
        &self.0
    }
}

/// The answer for a store failure around a transaction, after freeing the key when `claim` is
/// still held (so that the retry need not wait for the lease).
async fn store_failed<S: DedupStore>(
    store: &S,
    claim: Option<(&DedupKey, &ClaimToken)>,
    err: StoreError,
) -> StoredAnswer {
    match (&err, claim) {
        // Someone else owns the key now; the retry gets their answer.
        (StoreError::ClaimLost, Some((key, _))) => {
            tracing::warn!(%key, "claim lost before the transaction; answering 500");
        }
        (_, claim) => {
            tracing::error!(error = %err, "transactional webhook failed; answering 500");
            if let Some((key, token)) = claim {
                release(store, key, token).await;
            }
        }
    }
    answer(Family::Store, Outcome::Temporary(TEMPORARY))
}

async fn release<S: DedupStore>(store: &S, key: &DedupKey, token: &ClaimToken) {
    if let Err(err) = store.release(key.as_str(), token).await {
        tracing::warn!(error = %err, %key, "could not release the claim");
    }
}

/// Answer and commit decision for a handler result.
fn decide(
    result: std::thread::Result<HandlerResult<Option<bytes::Bytes>>>,
    notification_type: &str,
) -> (StoredAnswer, bool) {
    let outcome = outcome_of(result, notification_type);
    let commit = !matches!(outcome, Outcome::Temporary(_));
    (answer(Family::Store, outcome), commit)
}

/// Finishes a claimed delivery after its transaction.
async fn after_claimed<S: DedupStore>(
    store: &S,
    key: &DedupKey,
    token: &ClaimToken,
    result: Result<(StoredAnswer, bool), StoreError>,
) -> StoredAnswer {
    match result {
        Ok((answer, true)) => answer,
        Ok((answer, false)) => {
            release(store, key, token).await;
            answer
        }
        Err(err) => store_failed(store, Some((key, token)), err).await,
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_work<H: SqliteHandler>(
    handler: Arc<H>,
    event: WebhookEvent,
    delivery: Delivery,
) -> impl FnOnce(&rusqlite::Transaction<'_>) -> (StoredAnswer, bool) + Send + 'static {
    move |tx| {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| match event {
            WebhookEvent::UserSearch(e) => {
                handler.user_search(e, &delivery, tx).map(found_user_body)
            }
            other => handler.handle(other, &delivery, tx).map(|()| None),
        }));
        decide(result, &delivery.notification_type)
    }
}

#[cfg(feature = "sqlite")]
impl<H: SqliteHandler> sealed::Sealed<SqliteStore> for H {
    async fn run(
        handler: Arc<Self>,
        store: &SqliteStore,
        event: WebhookEvent,
        delivery: Delivery,
    ) -> StoredAnswer {
        let work = sqlite_work(handler, event, delivery);
        match store.transact(None, work).await {
            Ok((answer, _)) => answer,
            Err(err) => store_failed(store, None, err).await,
        }
    }

    async fn run_claimed(
        handler: Arc<Self>,
        store: &SqliteStore,
        key: DedupKey,
        token: ClaimToken,
        event: WebhookEvent,
        delivery: Delivery,
    ) -> StoredAnswer {
        let work = sqlite_work(handler, event, delivery);
        let result = store
            .transact(Some((key.as_str().to_owned(), token.clone())), work)
            .await;
        after_claimed(store, &key, &token, result).await
    }
}

#[cfg(feature = "sqlite")]
impl<H: SqliteHandler> TransactionalHandler<SqliteStore> for H {}

/// Runs the handler in a transaction on a connection of its own; see the module docs.
#[cfg(feature = "postgres")]
async fn pg_transact<H: PostgresHandler>(
    store: &PostgresStore,
    handler: &H,
    claim: Option<(&DedupKey, &ClaimToken)>,
    event: WebhookEvent,
    delivery: Delivery,
) -> Result<(StoredAnswer, bool), StoreError> {
    let mut client = store.checkout().await?;
    let result = pg_in_transaction(&mut client, handler, claim, event, delivery).await;
    store.checkin(client);
    result
}

#[cfg(feature = "postgres")]
async fn pg_in_transaction<H: PostgresHandler>(
    client: &mut tokio_postgres::Client,
    handler: &H,
    claim: Option<(&DedupKey, &ClaimToken)>,
    event: WebhookEvent,
    delivery: Delivery,
) -> Result<(StoredAnswer, bool), StoreError> {
    let tx = client.transaction().await.map_err(StoreError::backend)?;
    if let Some((key, token)) = claim {
        let row = tx
            .query_opt(
                "SELECT token FROM backpack_webhook_deliveries WHERE key = $1 FOR UPDATE",
                &[&key.as_str()],
            )
            .await
            .map_err(StoreError::backend)?;
        let held: Option<String> = match row {
            Some(row) => row.try_get(0).map_err(StoreError::backend)?,
            None => None,
        };
        if held.as_deref() != Some(token.as_str()) {
            return Err(StoreError::ClaimLost);
        }
    }
    let call = async {
        match event {
            WebhookEvent::UserSearch(e) => handler
                .user_search(e, &delivery, &tx)
                .await
                .map(found_user_body),
            other => handler.handle(other, &delivery, &tx).await.map(|()| None),
        }
    };
    let result = AssertUnwindSafe(call).catch_unwind().await;
    let (answer, commit) = decide(result, &delivery.notification_type);
    if !commit {
        if let Err(err) = tx.rollback().await {
            tracing::warn!(error = %err, "rollback failed (the connection drops the transaction)");
        }
        return Ok((answer, false));
    }
    if let Some((key, token)) = claim {
        let changed = tx
            .execute(
                "UPDATE backpack_webhook_deliveries
                 SET token = NULL, lease_until = NULL, completed_at = clock_timestamp(),
                     status = $3, body = $4
                 WHERE key = $1 AND token = $2",
                &[
                    &key.as_str(),
                    &token.as_str(),
                    &i32::from(answer.status),
                    &answer.body.as_ref(),
                ],
            )
            .await
            .map_err(StoreError::backend)?;
        if changed != 1 {
            return Err(StoreError::ClaimLost);
        }
    }
    tx.commit().await.map_err(StoreError::backend)?;
    Ok((answer, true))
}

#[cfg(feature = "postgres")]
impl<H: PostgresHandler> sealed::Sealed<PostgresStore> for H {
    async fn run(
        handler: Arc<Self>,
        store: &PostgresStore,
        event: WebhookEvent,
        delivery: Delivery,
    ) -> StoredAnswer {
        match pg_transact(store, &*handler, None, event, delivery).await {
            Ok((answer, _)) => answer,
            Err(err) => store_failed(store, None, err).await,
        }
    }

    async fn run_claimed(
        handler: Arc<Self>,
        store: &PostgresStore,
        key: DedupKey,
        token: ClaimToken,
        event: WebhookEvent,
        delivery: Delivery,
    ) -> StoredAnswer {
        let result = pg_transact(store, &*handler, Some((&key, &token)), event, delivery).await;
        after_claimed(store, &key, &token, result).await
    }
}

#[cfg(feature = "postgres")]
impl<H: PostgresHandler> TransactionalHandler<PostgresStore> for H {}
