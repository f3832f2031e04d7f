//! Exactly-once under `kill -9`: real receiver processes (the `webhook-fault-receiver` test
//! binary) are SIGKILLed and restarted at random moments while signed deliveries (duplicates,
//! concurrent, shuffled) are retried until answered; afterwards every order must be granted
//! exactly once. Also measures the documented window of the plain handler: killed after its
//! grant and before the answer is recorded, it grants twice.

// The receiver binary needs the `sqlite` feature.
#![cfg(feature = "sqlite")]
// Test code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backpack_webhooks::authorization_value;
use backpack_webhooks::sqlx::{self, AssertSqlSafe};
use common::{ORDER_PAID, SECRET, body_with, secret, set};
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::{Notify, watch};

const BIN: &str = env!("CARGO_BIN_EXE_webhook-fault-receiver");

/// One running receiver process.
struct Receiver {
    child: Child,
    addr: SocketAddr,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Receiver {
    async fn start(env: &[(&str, String)]) -> Self {
        let mut child = Command::new(BIN)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("FAULT_SECRET", SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = stdout.next_line().await.unwrap().expect("receiver exited");
        let addr = line
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            stdout,
        }
    }

    /// SIGKILL, and wait until the process is gone.
    async fn kill(mut self) {
        self.child.start_kill().unwrap();
        let status = self.child.wait().await.unwrap();
        assert!(!status.success(), "killed process reported success");
    }
}

/// Order ids unique to this run (a PostgreSQL database may be reused between runs).
fn order_base() -> i64 {
    i64::from(rand::rng().random_range(1..1_000_000u32)) * 1_000_000
}

/// `copies` deliveries for each of `orders` orders from `base`: byte-identical retries plus
/// re-serialized ones (pretty-printed, member order changed), shuffled.
fn deliveries(base: i64, orders: i64, copies: usize) -> Vec<(i64, Vec<u8>)> {
    let mut all = Vec::new();
    for n in 0..orders {
        let id = base + n;
        let compact = body_with(ORDER_PAID, &[set("/order/id", id)]);
        let mut doc: Value = serde_json::from_slice(&compact).unwrap();
        let pretty = serde_json::to_vec_pretty(&doc).unwrap();
        let notification_type = doc
            .as_object_mut()
            .unwrap()
            .shift_remove("notification_type")
            .unwrap();
        doc["notification_type"] = notification_type;
        let reordered = serde_json::to_vec(&doc).unwrap();
        let variants = [compact, pretty, reordered];
        for copy in 0..copies {
            all.push((id, variants[copy % variants.len()].clone()));
        }
    }
    all.shuffle(&mut rand::rng());
    all
}

/// Sends `body` to one of the live receivers until it gets an answer other than 500 /
/// no connection; returns that status and the number of attempts.
async fn deliver(
    http: &reqwest::Client,
    addrs: &mut watch::Receiver<Vec<SocketAddr>>,
    body: &[u8],
) -> (u16, usize) {
    let auth = authorization_value(body, &secret());
    let mut attempt = 0usize;
    loop {
        attempt += 1;
        let live = addrs.borrow_and_update().clone();
        let addr = live[attempt % live.len()];
        let sent = http
            .post(format!("http://{addr}/"))
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().as_u16() != 500 => {
                return (response.status().as_u16(), attempt);
            }
            // 500: a killed process's claim has not expired yet, or a store error; the
            // receiver already waited before answering, so retry at once.
            Ok(_) => {}
            // Connection refused/reset: that process is dead; wait for the restart when all
            // known ones failed in a row.
            Err(_) if attempt.is_multiple_of(live.len()) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), addrs.changed()).await;
            }
            Err(_) => {}
        }
    }
}

/// Progress seen by the killer: answered deliveries.
#[derive(Default)]
struct Progress {
    answered: AtomicUsize,
    changed: Notify,
}

impl Progress {
    fn bump(&self) {
        self.answered.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    async fn reached(&self, n: usize) -> bool {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.answered.load(Ordering::SeqCst) >= n {
                return true;
            }
            notified.await;
        }
    }
}

struct Report {
    kills: usize,
    attempts: usize,
    elapsed: Duration,
}

/// Runs the scenario against `processes` receivers started by `start(i)`: `kills` SIGKILLs at
/// random progress points (process `k % processes` each time), every delivery retried until
/// answered. Returns when all are answered; asserts they were all answered 204.
async fn storm<F, Fut>(
    processes: usize,
    start: F,
    work: Vec<(i64, Vec<u8>)>,
    kills: usize,
    workers: usize,
) -> Report
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Receiver>,
{
    let began = Instant::now();
    let total = work.len();
    let mut live = Vec::new();
    for i in 0..processes {
        live.push(start(i).await);
    }
    let (addr_tx, addr_rx) = watch::channel(live.iter().map(|r| r.addr).collect::<Vec<_>>());
    let queue = Arc::new(Mutex::new(VecDeque::from(work)));
    let progress = Arc::new(Progress::default());
    let attempts = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (queue, progress, attempts, http) = (
            queue.clone(),
            progress.clone(),
            attempts.clone(),
            http.clone(),
        );
        let mut addrs = addr_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            loop {
                let next = queue.lock().unwrap().pop_front();
                let Some((id, body)) = next else { break };
                let (status, tries) = deliver(&http, &mut addrs, &body).await;
                attempts.fetch_add(tries, Ordering::SeqCst);
                answers.push((id, status));
                progress.bump();
            }
            answers
        }));
    }

    // Kill points: random, distinct, spread over the run (never after the last answer).
    let points: Vec<usize> = {
        let (low, high) = (total / 50, total * 9 / 10);
        let mut points: Vec<usize> = rand::seq::index::sample(&mut rand::rng(), high - low, kills)
            .into_iter()
            .map(|p| low + p)
            .collect();
        points.sort_unstable();
        points
    };
    let mut done_kills = 0;
    for (k, point) in points.iter().enumerate() {
        progress.reached(*point).await;
        let victim = k % processes;
        let old = live.remove(victim);
        old.kill().await;
        done_kills += 1;
        let fresh = start(victim).await;
        live.insert(victim, fresh);
        addr_tx.send_replace(live.iter().map(|r| r.addr).collect());
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    for receiver in live {
        receiver.kill().await;
    }
    assert_eq!(answers.len(), total);
    let not_204: Vec<_> = answers.iter().filter(|(_, s)| *s != 204).collect();
    assert!(not_204.is_empty(), "answers other than 204: {not_204:?}");
    Report {
        kills: done_kills,
        attempts: attempts.load(Ordering::SeqCst),
        elapsed: began.elapsed(),
    }
}

/// Asserts that the grants are exactly one per order `base..base + orders`.
fn assert_exactly_once(grants: &BTreeMap<i64, i64>, base: i64, orders: i64) {
    let expected: BTreeMap<i64, i64> = (base..base + orders).map(|id| (id, 1)).collect();
    let twice: Vec<_> = grants.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "orders granted more than once: {twice:?}");
    assert_eq!(
        grants, &expected,
        "every order granted exactly once, nothing else"
    );
}

/// Grants per order in the SQLite file.
async fn sqlite_grants(path: &std::path::Path) -> BTreeMap<i64, i64> {
    let store = backpack_webhooks::SqliteStore::open(path).await.unwrap();
    count_grants(store.pool(), "grants").await
}

/// Grants per order in `table`, through any of the stores' pools.
async fn count_grants<'p, DB, E>(pool: E, table: &str) -> BTreeMap<i64, i64>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'p, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> (i64, i64): sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, (i64, i64)>(AssertSqlSafe(format!(
        "SELECT order_id, COUNT(*) FROM {table} GROUP BY order_id"
    )))
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

const ORDERS: i64 = 200;
const COPIES: usize = 5;
const KILLS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_transactional_grants_exactly_once_across_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("game.sqlite3");
    let base = order_base();
    let env = vec![
        ("FAULT_MODE", "tx".to_owned()),
        ("FAULT_SQLITE", db.display().to_string()),
        ("FAULT_LEASE_MS", "1000".to_owned()),
        ("FAULT_WAIT_MS", "300".to_owned()),
    ];
    let report = storm(
        1,
        |_| Receiver::start(&env),
        deliveries(base, ORDERS, COPIES),
        KILLS,
        32,
    )
    .await;
    let grants = sqlite_grants(&db).await;
    assert_exactly_once(&grants, base, ORDERS);
    assert!(report.kills >= 10, "only {} kills", report.kills);
    eprintln!(
        "sqlite: {} deliveries for {ORDERS} orders, {} kills, {} attempts, {} grants, {:?}",
        ORDERS as usize * COPIES,
        report.kills,
        report.attempts,
        grants.values().sum::<i64>(),
        report.elapsed
    );
}

/// Starts a receiver whose handler hangs right after its grant, waits for the grant, kills it
/// there, then lets a fresh receiver answer the retry. Returns how often the order was granted.
async fn kill_after_grant(mode: &str) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("game.sqlite3");
    let env = |hang: bool| {
        vec![
            ("FAULT_MODE", mode.to_owned()),
            ("FAULT_SQLITE", db.display().to_string()),
            ("FAULT_LEASE_MS", "300".to_owned()),
            ("FAULT_WAIT_MS", "200".to_owned()),
            (
                "FAULT_HANG_AFTER_GRANT",
                if hang { "1" } else { "0" }.to_owned(),
            ),
        ]
    };
    let body = body_with(ORDER_PAID, &[set("/order/id", 777)]);
    let mut first = Receiver::start(&env(true)).await;
    let http = reqwest::Client::new();
    let request = {
        let (http, addr, body) = (http.clone(), first.addr, body.clone());
        tokio::spawn(async move {
            http.post(format!("http://{addr}/"))
                .header("authorization", authorization_value(&body, &secret()))
                .body(body)
                .send()
                .await
        })
    };
    // The handler has written its grant and now hangs before returning: kill it there.
    let line = first.stdout.next_line().await.unwrap();
    assert_eq!(line.as_deref(), Some("granted 777"));
    first.kill().await;
    assert!(
        request.await.unwrap().is_err(),
        "the killed receiver cannot have answered"
    );
    let second = Receiver::start(&env(false)).await;
    let (_, addrs) = watch::channel(vec![second.addr]);
    let (status, _) = deliver(&http, &mut addrs.clone(), &body).await;
    assert_eq!(status, 204);
    // A later duplicate is replayed, not granted again.
    let (status, _) = deliver(&http, &mut addrs.clone(), &body).await;
    assert_eq!(status, 204);
    second.kill().await;
    sqlite_grants(&db).await.get(&777).copied().unwrap_or(0)
}

#[tokio::test]
async fn plain_handler_grants_twice_when_killed_between_grant_and_record() {
    assert_eq!(
        kill_after_grant("plain").await,
        2,
        "the documented window: the plain handler ran again after the restart"
    );
}

#[tokio::test]
async fn transactional_handler_killed_after_its_grant_grants_once() {
    assert_eq!(
        kill_after_grant("tx").await,
        1,
        "the killed transaction's grant was rolled back; the retry granted once"
    );
}

/// Two receiver processes on one server database, SIGKILLed in turn: `env_var` names the
/// fault receiver's URL variable; `create`/`drop` manage the test's grants table.
async fn two_processes_across_sigkills<DB: sqlx::Database>(
    name: &str,
    env_var: &str,
    url: &str,
    pool: &sqlx::Pool<DB>,
    create: &str,
) where
    for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> (i64, i64): sqlx::FromRow<'r, DB::Row>,
{
    let table = format!("grants_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {table} (order_id BIGINT NOT NULL, sku TEXT NOT NULL, {create})"
    )))
    .execute(pool)
    .await
    .unwrap();
    let base = order_base();
    let env = vec![
        ("FAULT_MODE", "tx".to_owned()),
        (env_var, url.to_owned()),
        ("FAULT_GRANTS_TABLE", table.clone()),
        ("FAULT_LEASE_MS", "1000".to_owned()),
        ("FAULT_WAIT_MS", "300".to_owned()),
    ];
    let report = storm(
        2,
        |_| Receiver::start(&env),
        deliveries(base, ORDERS, COPIES),
        KILLS,
        32,
    )
    .await;
    let grants = count_grants(pool, &table).await;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(pool)
        .await
        .unwrap();
    assert_exactly_once(&grants, base, ORDERS);
    assert!(report.kills >= 10, "only {} kills", report.kills);
    eprintln!(
        "{name}: {} deliveries for {ORDERS} orders, {} kills (alternating over 2 processes), \
         {} attempts, {} grants, {:?}",
        ORDERS as usize * COPIES,
        report.kills,
        report.attempts,
        grants.values().sum::<i64>(),
        report.elapsed
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_processes_grant_exactly_once_across_sigkills() {
    let Some(url) = crate::sql::pg_url() else {
        return;
    };
    let _serial = common::PG_SERIAL.lock().await;
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    two_processes_across_sigkills(
        "postgres",
        "FAULT_PG",
        &url,
        &pool,
        "quantity BIGINT NOT NULL",
    )
    .await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_two_processes_grant_exactly_once_across_sigkills() {
    let Some(url) = crate::sql::mysql_url() else {
        return;
    };
    let _serial = common::MYSQL_SERIAL.lock().await;
    let pool = sqlx::MySqlPool::connect(&url).await.unwrap();
    two_processes_across_sigkills(
        "mysql",
        "FAULT_MYSQL",
        &url,
        &pool,
        "quantity BIGINT NOT NULL",
    )
    .await;
}
