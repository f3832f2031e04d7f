//! The sqlx stores on SQLite, PostgreSQL and MySQL/MariaDB: the claim protocol, and every path of
//! the transactional receiver (Ok, rejection, temporary error, panic, lock timeout, a live plain
//! claim, `payment_account` counterparts, concurrent duplicates, commits per delivery, a client
//! hanging up mid-handler, a body not matching its schema), each on
//! all three databases.
//!
//! SQLite runs everywhere (a temp file per test). PostgreSQL and MariaDB need servers:
//! `eval "$(scripts/pg-test-server.sh start)"` exports `BACKPACK_TEST_PG_URL`,
//! `eval "$(scripts/mariadb-test-server.sh start)"` exports `BACKPACK_TEST_MYSQL_URL`. Without
//! them those tests print that they did not run and pass, unless `BACKPACK_REQUIRE_PG=1` /
//! `BACKPACK_REQUIRE_MYSQL=1`, in which case they fail (CI sets both).

// Test code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use backpack_webhooks::sqlx::{self, AssertSqlSafe, Transaction};
use backpack_webhooks::*;
use http::StatusCode;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

use crate::common::*;

/// The URL in `var`, or `None` (after saying so) when the test should be skipped; fails instead
/// when `require` is set to 1.
fn server_url(var: &str, require: &str, script: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(require).as_deref() != Ok("1"),
                "{require}=1 but {var} is not set: start a server with \
                 `eval \"$({script} start)\"` first"
            );
            eprintln!(
                "test DID NOT RUN: {var} is not set (see {script}; {require}=1 fails instead)"
            );
            None
        }
    }
}

pub fn pg_url() -> Option<String> {
    server_url(
        "BACKPACK_TEST_PG_URL",
        "BACKPACK_REQUIRE_PG",
        "scripts/pg-test-server.sh",
    )
}

pub fn mysql_url() -> Option<String> {
    server_url(
        "BACKPACK_TEST_MYSQL_URL",
        "BACKPACK_REQUIRE_MYSQL",
        "scripts/mariadb-test-server.sh",
    )
}

/// A random id no earlier run has used (a server database may be reused between runs).
fn fresh_id() -> u64 {
    uuid::Uuid::new_v4().as_u128() as u64 >> 2
}

fn order(id: u64) -> Vec<u8> {
    body_with(ORDER_PAID, &[set("/order/id", id)])
}

fn order_key(id: u64) -> String {
    format!("store:order_paid:order.id={id}")
}

/// A transactional handler for the tests: writes one row into the test's grants table through
/// the transaction (the order id, 0 for other events), then behaves as its [`Recorder`] says.
pub struct TxRecorder {
    pub inner: Recorder,
    insert: String,
}

macro_rules! tx_recorder {
    ($($(#[$cfg:meta])* $db:ty;)+) => {$(
        $(#[$cfg])*
        impl TransactionalHandler<$db> for TxRecorder {
            async fn handle(
                &self,
                event: WebhookEvent,
                delivery: &Delivery,
                tx: &mut Transaction<'_, $db>,
            ) -> HandlerResult {
                let id = match &event {
                    WebhookEvent::OrderPaid(paid) => paid.order.id,
                    _ => 0,
                };
                sqlx::query(AssertSqlSafe(self.insert.as_str()))
                    .bind(id)
                    .execute(&mut **tx)
                    .await
                    .map_err(HandlerError::temporary)?;
                let payload = serde_json::to_value(&event).unwrap_or(Value::Null);
                self.inner
                    .record(&delivery.notification_type, &payload)
                    .await
                    .map(|_| ())
            }
        }
    )+};
}

tx_recorder! {
    sqlx::Sqlite;
    #[cfg(feature = "postgres")]
    sqlx::Postgres;
    #[cfg(feature = "mysql")]
    sqlx::MySql;
}

type DbOf<C> = <<C as Ctx>::Store as SqlStore>::Db;

/// One test database: a store, a grants table of the test's own, and what the tests read back.
trait Ctx: Sized {
    type Store: SqlStore;
    fn store(&self) -> Self::Store;
    /// The handler writing into this test's grants table.
    fn handler(&self, inner: Recorder) -> TxRecorder;
    /// Rows in the grants table for `id`.
    fn grants(&self, id: u64) -> impl Future<Output = i64>;
    /// The recorded status for `key`, if any.
    fn recorded(&self, key: &str) -> impl Future<Output = Option<i32>>;
    /// An open transaction (on a connection of its own) that inserted `key`, uncommitted.
    fn hold_key(&self, key: &str) -> impl Future<Output = Transaction<'static, DbOf<Self>>>;
    /// The write transactions committed while `work` ran (the store's pool has 1 connection).
    fn commits<F: Future>(&self, work: F) -> impl Future<Output = (F::Output, u64)>;
    /// Whether some transaction now waits for a row lock (`None`: cannot tell, SQLite).
    fn lock_waiters(&self) -> impl Future<Output = Option<bool>>;
}

fn receiver<C: Ctx>(ctx: &C, inner: Recorder) -> TransactionalReceiver<TxRecorder, C::Store>
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    TransactionalReceiver::with_config(secret(), ctx.handler(inner), ctx.store(), config()).unwrap()
}

async fn status<C: Ctx>(rx: &TransactionalReceiver<TxRecorder, C::Store>, body: &[u8]) -> u16
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    rx.handle(signed(body)).await.status().as_u16()
}

/// `Ok`: grant and recorded 204 commit together, in one commit; duplicates are replayed.
async fn ok_commits_once<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(&ctx, Recorder::new());
    // A first delivery also purges old records (at most once an hour): get that done first.
    assert_eq!(status::<C>(&rx, &order(fresh_id())).await, 204);
    // PostgreSQL's counter is database-wide, so other sessions' late statistics can only add to
    // a reading: the fewest commits over a few deliveries is this receiver's own count.
    let (mut first_commits, mut replay_commits) = (u64::MAX, u64::MAX);
    for _ in 0..3 {
        let id = fresh_id();
        let body = order(id);
        let (first, commits) = ctx.commits(status::<C>(&rx, &body)).await;
        assert_eq!(first, 204);
        first_commits = first_commits.min(commits);
        assert_eq!(ctx.grants(id).await, 1);
        assert_eq!(ctx.recorded(&order_key(id)).await, Some(204));
        let (again, commits) = ctx.commits(status::<C>(&rx, &body)).await;
        assert_eq!(again, 204);
        replay_commits = replay_commits.min(commits);
        assert_eq!(ctx.grants(id).await, 1);
    }
    assert_eq!(first_commits, 1, "one commit for a first delivery");
    assert_eq!(replay_commits, 0, "a replay writes nothing");
    assert_eq!(
        rx.handler().inner.count(),
        4,
        "replays do not call the handler"
    );
}

/// A rejection: the handler's writes roll back to the savepoint, the 400 is recorded and replayed.
async fn rejection_rolls_back_writes_and_records_400<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(
        &ctx,
        Recorder::scripted([Script::Reject(ErrorCode::InvalidUser)]),
    );
    let id = fresh_id();
    let body = order(id);
    let response = rx.handle(signed(&body)).await;
    let (code, bytes) = parts(response).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bytes), "INVALID_USER");
    assert_eq!(
        ctx.grants(id).await,
        0,
        "the rejected handler's write was rolled back"
    );
    assert_eq!(ctx.recorded(&order_key(id)).await, Some(400));
    let (code, replay) = parts(rx.handle(signed(&body)).await).await;
    assert_eq!((code, replay), (StatusCode::BAD_REQUEST, bytes));
    assert_eq!(rx.handler().inner.count(), 1, "the rejection was replayed");
}

/// A temporary error or a panic: everything rolls back, nothing is recorded, 500; the retry runs
/// the handler on a clean slate.
async fn temporary_and_panic_roll_back_everything<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(
        &ctx,
        Recorder::scripted([Script::Temporary, Script::Panic, Script::Accept]),
    );
    let id = fresh_id();
    let body = order(id);
    for _ in 0..2 {
        assert_eq!(status::<C>(&rx, &body).await, 500);
        assert_eq!(ctx.grants(id).await, 0);
        assert_eq!(ctx.recorded(&order_key(id)).await, None);
    }
    assert_eq!(status::<C>(&rx, &body).await, 204);
    assert_eq!(ctx.grants(id).await, 1);
    assert_eq!(rx.handler().inner.count(), 3);
}

/// The key is locked by another transaction past the lock timeout: 500, the handler never runs;
/// once that transaction is gone the delivery is handled.
async fn locked_key_times_out_without_the_handler<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(&ctx, Recorder::new());
    let id = fresh_id();
    let body = order(id);
    let holder = ctx.hold_key(&order_key(id)).await;
    let started = Instant::now();
    assert_eq!(status::<C>(&rx, &body).await, 500);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered after the lock timeout, not later"
    );
    assert_eq!(rx.handler().inner.count(), 0);
    holder.rollback().await.unwrap();
    assert_eq!(status::<C>(&rx, &body).await, 204);
    assert_eq!(rx.handler().inner.count(), 1);
    assert_eq!(ctx.grants(id).await, 1);
}

/// A live plain (lease) claim of the same key: 500 after the wait, the handler never runs; an
/// expired one (its holder died) is taken over inside the transaction.
async fn plain_claims_are_respected<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let config = config().with_in_progress_wait(Duration::from_millis(50));
    let rx = TransactionalReceiver::with_config(
        secret(),
        ctx.handler(Recorder::new()),
        ctx.store(),
        config,
    )
    .unwrap();
    let (live, dead) = (fresh_id(), fresh_id());
    let store = ctx.store();
    let Claim::Acquired(_) = store
        .claim(&order_key(live), Duration::from_secs(600))
        .await
        .unwrap()
    else {
        panic!("claim")
    };
    assert_eq!(rx.handle(signed(&order(live))).await.status(), 500);
    assert_eq!(rx.handler().inner.count(), 0);
    assert_eq!(ctx.grants(live).await, 0);

    let Claim::Acquired(_) = store.claim(&order_key(dead), Duration::ZERO).await.unwrap() else {
        panic!("claim")
    };
    assert_eq!(rx.handle(signed(&order(dead))).await.status(), 204);
    assert_eq!(rx.handler().inner.count(), 1);
    assert_eq!(ctx.recorded(&order_key(dead)).await, Some(204));
}

/// `payment_account_add` / `_remove`: the counterpart's record goes in the same transaction, and
/// stays when the handler fails.
async fn payment_account_counterparts<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(
        &ctx,
        Recorder::scripted([
            Script::Accept,    // add
            Script::Temporary, // remove, fails: the add's record must stay
            Script::Accept,    // remove, retried
            Script::Accept,    // add again: handled, not replayed
        ]),
    );
    let id = fresh_id().to_string();
    let add = sample_with(
        "store/payment_account_add.sdk",
        &[set("/payment_account/id", id.as_str())],
    );
    let remove = sample_with(
        "store/payment_account_remove.sdk",
        &[set("/payment_account/id", id.as_str())],
    );
    let add_key = format!("store:payment_account_add:payment_account.id={id}");
    let remove_key = format!("store:payment_account_remove:payment_account.id={id}");
    assert_eq!(status::<C>(&rx, &add).await, 204);
    assert_eq!(status::<C>(&rx, &remove).await, 500);
    assert_eq!(
        ctx.recorded(&add_key).await,
        Some(204),
        "kept: remove failed"
    );
    assert_eq!(status::<C>(&rx, &remove).await, 204);
    assert_eq!(
        ctx.recorded(&add_key).await,
        None,
        "forgotten with the remove"
    );
    assert_eq!(ctx.recorded(&remove_key).await, Some(204));
    assert_eq!(status::<C>(&rx, &add).await, 204);
    assert_eq!(ctx.recorded(&remove_key).await, None);
    assert_eq!(rx.handler().inner.count(), 4);
}

/// Two receivers (two pools, as two instances) and a stampede of identical deliveries: one
/// handler call per delivery, every answer 204.
async fn stampede_runs_the_handler_once<C: Ctx>(ctx: C, other: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let (rx_a, rx_b) = (
        receiver(&ctx, Recorder::new()),
        receiver(&other, Recorder::new()),
    );
    let ids: Vec<u64> = (0..3).map(|_| fresh_id()).collect();
    for id in &ids {
        let body: &'static [u8] = Box::leak(order(*id).into_boxed_slice());
        let start = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let rx = if i % 2 == 0 {
                rx_a.clone()
            } else {
                rx_b.clone()
            };
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                rx.handle(signed(body)).await.status().as_u16()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 204);
        }
        assert_eq!(ctx.grants(*id).await, 1);
    }
    assert_eq!(
        rx_a.handler().inner.count() + rx_b.handler().inner.count(),
        ids.len()
    );
}

/// Two instances take the same delivery at once: A's delivery is in its handler, held at the
/// gate; B's waits on A's uncommitted key (seen in the server's lock table, bounded).
struct HeldPair<C: Ctx> {
    rx_a: TransactionalReceiver<TxRecorder, C::Store>,
    rx_b: TransactionalReceiver<TxRecorder, C::Store>,
    a: tokio::task::JoinHandle<u16>,
    b: tokio::task::JoinHandle<u16>,
    gate: Arc<Semaphore>,
    entered: mpsc::UnboundedReceiver<String>,
    id: u64,
    body: &'static [u8],
}

async fn held_pair<C: Ctx>(ctx: &C, other: &C, a_script: Vec<Script>) -> HeldPair<C>
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let rx_a = receiver(
        ctx,
        Recorder::gated(gate.clone(), entered_tx.clone()).with_script(a_script),
    );
    let rx_b = receiver(other, Recorder::gated(gate.clone(), entered_tx));
    let id = fresh_id();
    let body: &'static [u8] = Box::leak(order(id).into_boxed_slice());
    let spawn = |rx: &TransactionalReceiver<TxRecorder, C::Store>| {
        let rx = rx.clone();
        tokio::spawn(async move { rx.handle(signed(body)).await.status().as_u16() })
    };
    let a = spawn(&rx_a);
    assert_eq!(entered.recv().await.as_deref(), Some("order_paid"));
    let b = spawn(&rx_b);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ctx.lock_waiters().await != Some(true) {
        assert!(Instant::now() < deadline, "B never waited on the key");
        tokio::task::yield_now().await;
    }
    HeldPair {
        rx_a,
        rx_b,
        a,
        b,
        gate,
        entered,
        id,
        body,
    }
}

/// B waits on A's key while A's handler is held, then replays A's committed answer.
async fn duplicate_waits_on_the_key_then_replays<C: Ctx>(ctx: C, other: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let mut held = held_pair(&ctx, &other, Vec::new()).await;
    held.gate.add_permits(2);
    assert_eq!((held.a.await.unwrap(), held.b.await.unwrap()), (204, 204));
    assert!(
        held.entered.try_recv().is_err(),
        "the handler ran a second time"
    );
    assert_eq!(ctx.grants(held.id).await, 1);
    assert_eq!(
        held.rx_a.handler().inner.count() + held.rx_b.handler().inner.count(),
        1
    );
}

/// A body that routes (its key is known) but does not match its type's schema: 400
/// INVALID_PARAMETER, the handler never runs and nothing is recorded, so a corrected body with
/// the same key is handled.
async fn body_not_matching_its_schema_is_refused_unrecorded<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let rx = receiver(&ctx, Recorder::default());
    let id = fresh_id();
    let broken = body_with(&order(id), &[remove("/items")]);
    assert_eq!(status::<C>(&rx, &broken).await, 400);
    assert_eq!(rx.handler().inner.count(), 0);
    assert_eq!(ctx.recorded(&order_key(id)).await, None);
    assert_eq!(status::<C>(&rx, &order(id)).await, 204);
    assert_eq!(ctx.grants(id).await, 1);
}

/// The client hangs up while the handler runs (hyper drops the receiver's future): the delivery
/// still finishes and commits, so Xsolla's retry replays it instead of granting again.
async fn hang_up_mid_handler_still_commits<C: Ctx>(ctx: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let rx = receiver(&ctx, Recorder::gated(gate.clone(), entered_tx));
    let id = fresh_id();
    let body = order(id);
    {
        let delivery = rx.handle(signed(&body));
        tokio::pin!(delivery);
        tokio::select! {
            _ = &mut delivery => panic!("answered before the handler was let go"),
            entered = entered.recv() => assert_eq!(entered.as_deref(), Some("order_paid")),
        }
        // The client hangs up here: the future is dropped mid-handler.
    }
    gate.add_permits(2);
    // The retry waits on the key until the orphaned delivery commits, then replays its answer.
    assert_eq!(status::<C>(&rx, &body).await, 204);
    assert!(entered.try_recv().is_err(), "the handler ran a second time");
    assert_eq!(rx.handler().inner.count(), 1);
    assert_eq!(ctx.grants(id).await, 1);
}

/// A rejection while a duplicate waits on the key: A's transaction (claim and writes) rolls
/// back, so B takes the key and runs its handler after A's (B was seen waiting while A's handler
/// ran, so never alongside it); A's 400 is not recorded over B's answer, which is the one
/// replayed.
async fn rejection_with_a_waiting_duplicate<C: Ctx>(ctx: C, other: C)
where
    TxRecorder: TransactionalHandler<DbOf<C>>,
{
    let reject = vec![Script::Reject(ErrorCode::InvalidUser)];
    let mut held = held_pair(&ctx, &other, reject).await;
    held.gate.add_permits(2);
    assert_eq!((held.a.await.unwrap(), held.b.await.unwrap()), (400, 204));
    let b_entered = held.entered.recv().await;
    assert_eq!(b_entered.as_deref(), Some("order_paid"), "B ran after A");
    assert_eq!(
        ctx.grants(held.id).await,
        1,
        "A's write rolled back, B's committed"
    );
    held.gate.add_permits(1);
    let replay = status::<C>(&held.rx_a, held.body).await;
    assert_eq!(replay, 204, "B's answer is replayed");
    assert_eq!(
        held.rx_a.handler().inner.count() + held.rx_b.handler().inner.count(),
        2
    );
}

/// The claim protocol of a plain [`WebhookReceiver`] on a SQL store.
async fn store_protocol<S: DedupStore>(store: S) {
    let key = format!("test:{}", uuid::Uuid::new_v4());
    let lease = Duration::from_secs(30);
    let Claim::Acquired(t) = store.claim(&key, lease).await.unwrap() else {
        panic!("expected Acquired")
    };
    assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::InProgress);
    store.renew(&key, &t, lease).await.unwrap();
    store.release(&key, &t).await.unwrap();
    let Claim::Acquired(t2) = store.claim(&key, lease).await.unwrap() else {
        panic!("expected Acquired after release")
    };
    assert!(matches!(
        store.complete(&key, &t, &StoredAnswer::empty(204)).await,
        Err(StoreError::ClaimLost)
    ));
    let answer = StoredAnswer::json(400, bytes::Bytes::from_static(br#"{"error":{}}"#));
    store.complete(&key, &t2, &answer).await.unwrap();
    assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::Done(answer));

    // Crashed claimer: a zero lease is expired at once and is taken over exactly once.
    let key = format!("test:{}", uuid::Uuid::new_v4());
    let Claim::Acquired(old) = store.claim(&key, Duration::ZERO).await.unwrap() else {
        panic!("expected Acquired")
    };
    let Claim::Acquired(new) = store.claim(&key, lease).await.unwrap() else {
        panic!("expected take-over")
    };
    assert_ne!(old, new);
    assert_eq!(store.claim(&key, lease).await.unwrap(), Claim::InProgress);
    assert!(matches!(
        store.renew(&key, &old, lease).await,
        Err(StoreError::ClaimLost)
    ));
}

/// Settings of the tests' stores: a short lock timeout (the lock-timeout test waits for it).
fn settings() -> PoolSettings {
    PoolSettings::default()
        .with_lock_timeout(Duration::from_secs(1))
        .with_max_connections(4)
}

/// Per database: how to open a [`Ctx`], and the tests.
macro_rules! sql_tests {
    (
        $(#[$cfg:meta])* mod $name:ident;
        store: $Store:ty, db: $Db:ty;
        serial: $serial:expr;
        open: |$s:ident, $share:ident| $open:expr;
        grants_table: |$table:ident| $grants_sql:expr;
        insert: $insert:literal, count: $count:literal, recorded: $recorded:literal, hold: $hold:literal;
        commits: |$pool:ident| $commits:expr;
        lock_waiters: |$lw_pool:ident| $lock_waiters:expr;
        concurrency: $concurrency:tt;
    ) => {
        $(#[$cfg])*
        mod $name {
            use super::*;

            pub struct C {
                store: $Store,
                table: String,
                // SQLite: the directory of the file (deleted when the last user drops it).
                #[allow(dead_code)]
                dir: Option<Arc<tempfile::TempDir>>,
            }

            /// A test database, or `None` when its server is not available.
            async fn ctx_with(settings: PoolSettings, share: Option<&C>) -> Option<C> {
                let ($s, $share) = (settings, share);
                let (store, dir): ($Store, Option<Arc<tempfile::TempDir>>) = $open;
                let table = match share {
                    Some(other) => other.table.clone(),
                    None => {
                        let $table = format!("grants_{}", uuid::Uuid::new_v4().simple());
                        sqlx::query(AssertSqlSafe($grants_sql))
                            .execute(store.pool())
                            .await
                            .unwrap();
                        $table
                    }
                };
                Some(C { store, table, dir })
            }

            impl Ctx for C {
                type Store = $Store;

                fn store(&self) -> $Store {
                    self.store.clone()
                }

                fn handler(&self, inner: Recorder) -> TxRecorder {
                    TxRecorder { inner, insert: format!($insert, self.table) }
                }

                async fn grants(&self, id: u64) -> i64 {
                    sqlx::query_scalar(AssertSqlSafe(format!($count, self.table)))
                        .bind(id as i64)
                        .fetch_one(self.store.pool())
                        .await
                        .unwrap()
                }

                async fn recorded(&self, key: &str) -> Option<i32> {
                    sqlx::query_scalar::<_, Option<i32>>($recorded)
                        .bind(key)
                        .fetch_optional(self.store.pool())
                        .await
                        .unwrap()
                        .flatten()
                }

                async fn hold_key(&self, key: &str) -> Transaction<'static, $Db> {
                    let mut tx = self.store.pool().begin().await.unwrap();
                    sqlx::query($hold)
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx
                }

                async fn commits<F: Future>(&self, work: F) -> (F::Output, u64) {
                    let $pool = self.store.pool();
                    let counter = $commits;
                    let before = counter.read().await;
                    let output = work.await;
                    let after = counter.read().await;
                    (output, after - before - counter.overhead())
                }

                async fn lock_waiters(&self) -> Option<bool> {
                    let $lw_pool = self.store.pool();
                    $lock_waiters
                }
            }

            async fn ctx() -> Option<C> {
                ctx_with(settings(), None).await
            }

            #[tokio::test]
            async fn store_protocol() {
                let _serial = $serial;
                let Some(c) = ctx().await else { return };
                super::store_protocol(c.store).await;
            }

            #[tokio::test]
            async fn retention_purges_after_seven_days() {
                let _serial = $serial;
                let Some(c) = ctx().await else { return };
                crate::common::retention_purges_after_seven_days(c.store).await;
            }

            #[tokio::test]
            async fn plain_payment_account_can_be_added_again_after_removal() {
                let _serial = $serial;
                let Some(c) = ctx().await else { return };
                crate::common::payment_account_can_be_added_again_after_removal(c.store).await;
            }

            #[tokio::test]
            async fn tx_ok_commits_once() {
                let _serial = $serial;
                let single = settings().with_max_connections(1);
                let Some(c) = ctx_with(single, None).await else { return };
                super::ok_commits_once(c).await;
            }

            // One database each, every test of its own.
            sql_tests!(@one_db $serial;
                tx_rejection_rolls_back_writes_and_records_400 => rejection_rolls_back_writes_and_records_400,
                tx_temporary_and_panic_roll_back_everything => temporary_and_panic_roll_back_everything,
                tx_locked_key_times_out_without_the_handler => locked_key_times_out_without_the_handler,
                tx_plain_claims_are_respected => plain_claims_are_respected,
                tx_body_not_matching_its_schema_is_refused_unrecorded => body_not_matching_its_schema_is_refused_unrecorded,
                tx_hang_up_mid_handler_still_commits => hang_up_mid_handler_still_commits,
                tx_payment_account_counterparts => payment_account_counterparts,
            );

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn tx_stampede_runs_the_handler_once() {
                let _serial = $serial;
                let Some(a) = ctx().await else { return };
                let b = ctx_with(settings(), Some(&a)).await.unwrap();
                super::stampede_runs_the_handler_once(a, b).await;
            }

            sql_tests!(@concurrency $concurrency, $serial);
        }
    };
    (@concurrency yes, $serial:expr) => {
        sql_tests!(@two_instances $serial;
            tx_duplicate_waits_on_the_key_then_replays => duplicate_waits_on_the_key_then_replays,
            tx_rejection_with_a_waiting_duplicate => rejection_with_a_waiting_duplicate,
        );
    };
    (@concurrency no, $serial:expr) => {};
    // Two instances on one database, a long lock timeout: the second waits on the first's key.
    (@two_instances $serial:expr; $($test:ident => $run:ident,)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let _serial = $serial;
            let long = settings().with_lock_timeout(Duration::from_secs(60));
            let Some(a) = ctx_with(long.clone(), None).await else { return };
            let b = ctx_with(long, Some(&a)).await.unwrap();
            super::$run(a, b).await;
        }
    )*};
    (@one_db $serial:expr; $($test:ident => $run:ident,)*) => {$(
        #[tokio::test]
        async fn $test() {
            let _serial = $serial;
            let Some(c) = ctx().await else { return };
            super::$run(c).await;
        }
    )*};
}

/// Reads a counter of committed write transactions.
trait CommitCounter {
    fn read(&self) -> impl Future<Output = u64>;
    /// Commits of the counter's own readings between two reads.
    fn overhead(&self) -> u64 {
        0
    }
}

/// SQLite: the commit hook of the pool's only connection.
struct SqliteCommits(Arc<AtomicU64>);

impl CommitCounter for SqliteCommits {
    async fn read(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

async fn sqlite_commits(pool: &sqlx::SqlitePool) -> SqliteCommits {
    let count = Arc::new(AtomicU64::new(0));
    let mut conn = pool.acquire().await.unwrap();
    let hook = count.clone();
    conn.lock_handle().await.unwrap().set_commit_hook(move || {
        hook.fetch_add(1, Ordering::SeqCst);
        true // let it commit
    });
    SqliteCommits(count)
}

sql_tests! {
    mod sqlite;
    store: SqliteStore, db: sqlx::Sqlite;
    serial: ();
    open: |settings, share| {
        let dir = match share {
            Some(other) => other.dir.clone().unwrap(),
            None => Arc::new(tempfile::tempdir().unwrap()),
        };
        let store = SqliteStore::open_with(dir.path().join("t.sqlite3"), &settings).await.unwrap();
        (store, Some(dir))
    };
    grants_table: |table| format!("CREATE TABLE {table} (order_id INTEGER NOT NULL)");
    insert: "INSERT INTO {} (order_id) VALUES (?)",
    count: "SELECT COUNT(*) FROM {} WHERE order_id = ?",
    recorded: "SELECT status FROM backpack_webhook_deliveries WHERE key = ?",
    hold: "INSERT INTO backpack_webhook_deliveries (key, created_at) VALUES (?, 0)";
    commits: |pool| sqlite_commits(pool).await;
    lock_waiters: |pool| { let _ = pool; None };
    concurrency: no;
}

/// PostgreSQL: the database's committed-transaction counter, read on the pool's only
/// connection after forcing that backend to flush its statistics. Each reading commits two
/// transactions of its own (the flush request and the read), which [`overhead`] removes.
#[cfg(feature = "postgres")]
struct PgCommits(sqlx::PgPool);

#[cfg(feature = "postgres")]
impl CommitCounter for PgCommits {
    async fn read(&self) -> u64 {
        sqlx::query("SELECT pg_stat_force_next_flush()")
            .execute(&self.0)
            .await
            .unwrap();
        let commits: i64 = sqlx::query_scalar(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&self.0)
        .await
        .unwrap();
        commits as u64
    }

    fn overhead(&self) -> u64 {
        2
    }
}

sql_tests! {
    #[cfg(feature = "postgres")]
    mod postgres;
    store: PostgresStore, db: sqlx::Postgres;
    serial: PG_SERIAL.lock().await;
    open: |settings, _share| match pg_url() {
        Some(url) => (PostgresStore::connect_with(&url, &settings).await.unwrap(), None),
        None => return None,
    };
    grants_table: |table| format!("CREATE TABLE {table} (order_id bigint NOT NULL)");
    insert: "INSERT INTO {} (order_id) VALUES ($1)",
    count: "SELECT COUNT(*) FROM {} WHERE order_id = $1",
    recorded: "SELECT status FROM backpack_webhook_deliveries WHERE key = $1",
    hold: "INSERT INTO backpack_webhook_deliveries (key, created_at) VALUES ($1, now())";
    commits: |pool| PgCommits(pool.clone());
    lock_waiters: |pool| Some(
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted)")
            .fetch_one(pool)
            .await
            .unwrap(),
    );
    concurrency: yes;
}

/// MySQL/MariaDB: `COMMIT`s of the pool's only session, and no write outside them (the
/// session's insert/update/delete counts are exactly the delivery's two inserts, or none).
#[cfg(feature = "mysql")]
struct MySqlCommits(sqlx::MySqlPool);

#[cfg(feature = "mysql")]
impl CommitCounter for MySqlCommits {
    async fn read(&self) -> u64 {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SHOW SESSION STATUS WHERE Variable_name IN ('Com_commit', 'Com_update', 'Com_delete')",
        )
        .fetch_all(&self.0)
        .await
        .unwrap();
        let get = |name: &str| -> u64 {
            rows.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.parse().unwrap())
                .unwrap()
        };
        // An update or delete outside the delivery's transaction would show up as extra commits.
        get("Com_commit") + 1000 * (get("Com_update") + get("Com_delete"))
    }
}

sql_tests! {
    #[cfg(feature = "mysql")]
    mod mysql;
    store: MySqlStore, db: sqlx::MySql;
    serial: MYSQL_SERIAL.lock().await;
    open: |settings, _share| match mysql_url() {
        Some(url) => (MySqlStore::connect_with(&url, &settings).await.unwrap(), None),
        None => return None,
    };
    grants_table: |table| format!("CREATE TABLE {table} (order_id BIGINT NOT NULL) ENGINE=InnoDB");
    insert: "INSERT INTO {} (order_id) VALUES (?)",
    count: "SELECT COUNT(*) FROM {} WHERE order_id = ?",
    recorded: "SELECT status FROM backpack_webhook_deliveries WHERE `key` = ?",
    hold: "INSERT INTO backpack_webhook_deliveries (`key`, created_at) VALUES (?, 0)";
    commits: |pool| MySqlCommits(pool.clone());
    lock_waiters: |pool| Some(
        // The claim of B is running while A holds the key: it can only be waiting for A.
        // (INNODB_TRX does not always list a transaction whose first statement waits.) The
        // claim is a prepared statement: its command is `Execute`.
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST
             WHERE COMMAND IN ('Query', 'Execute')
               AND INFO LIKE 'INSERT IGNORE INTO backpack_webhook_deliveries%'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
            > 0,
    );
    concurrency: yes;
}

#[cfg(not(feature = "postgres"))]
#[test]
fn postgres_feature_is_enabled_when_required() {
    assert!(
        std::env::var("BACKPACK_REQUIRE_PG").as_deref() != Ok("1"),
        "BACKPACK_REQUIRE_PG=1 but this test binary was built without `--features postgres`"
    );
}

#[cfg(not(feature = "mysql"))]
#[test]
fn mysql_feature_is_enabled_when_required() {
    assert!(
        std::env::var("BACKPACK_REQUIRE_MYSQL").as_deref() != Ok("1"),
        "BACKPACK_REQUIRE_MYSQL=1 but this test binary was built without `--features mysql`"
    );
}
