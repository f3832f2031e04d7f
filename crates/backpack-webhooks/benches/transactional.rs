//! Transactional first-delivery throughput vs a hand-written baseline, on each database.
//!
//! * **receiver**: a signed `order_paid` through [`TransactionalReceiver::handle`] (signature,
//!   parse, dedup key, the one transaction: the claim's prepared `INSERT`, the handler's
//!   `INSERT` of the grant, commit), in process (no HTTP).
//! * **baseline**: the minimum by hand on the same database and pool settings: `BEGIN`; `INSERT`
//!   the key `ON CONFLICT DO NOTHING` (MySQL: `INSERT IGNORE`); `INSERT` the grant; `COMMIT`.
//!
//! Both run in alternating blocks (baseline, receiver, baseline, …) of `BLOCK` fresh deliveries
//! with `CONCURRENCY` deliveries in flight, so that both see the same machine; the ratio is
//! receiver/baseline deliveries per second, per pair of blocks, their median (robust on a shared
//! machine: a pair is two neighbouring blocks) and the ratio of the means. Each block's inputs
//! (the signed requests; the baseline's ids and keys) are made before its clock starts: signing
//! is the sender's work.
//!
//! ```text
//! eval "$(scripts/pg-test-server.sh start)"; eval "$(scripts/mariadb-test-server.sh start)"
//! cargo bench -p backpack-webhooks --all-features --bench transactional
//! ```
//!
//! SQLite always runs (a temp file, WAL, `synchronous=FULL`); PostgreSQL and MySQL/MariaDB run
//! when `BACKPACK_TEST_PG_URL` / `BACKPACK_TEST_MYSQL_URL` are set. Env: `BENCH_BLOCK`
//! (default 400), `BENCH_PAIRS` (default 5), `BENCH_CONCURRENCY` (default `1,8`);
//! `BENCH_ONLY=receiver` (or `baseline`) runs one side alone, `BLOCK × PAIRS` deliveries, and
//! prints this process's CPU time per delivery (the database server's is not in it), for
//! `perf`; `BENCH_DBS` (default `sqlite,postgres,mysql`) picks the databases.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use backpack_webhooks::sqlx::{self, AssertSqlSafe, Transaction};
use backpack_webhooks::{
    Delivery, HandlerError, HandlerResult, PoolSettings, SqliteStore, TransactionalHandler,
    TransactionalReceiver, WebhookEvent, WebhookSecret, authorization_value,
};
use http::Request;

const SECRET: &str = "PROJECT_SECRET_KEY";
const ORDER_PAID: &str = r#"{"notification_type":"order_paid","items":[{"sku":"gold","type":"virtual_currency","quantity":100,"amount":"1","promotions":[]}],"order":{"id":ID,"mode":"default","currency_type":"real","currency":"USD","amount":"1","status":"paid","platform":"xsolla"},"user":{"external_id":"player-1","email":"p@example.com"}}"#;

/// The handler: one grant row, through the delivery's transaction.
struct Grant {
    insert: String,
}

macro_rules! grant_handler {
    ($($(#[$cfg:meta])* $db:ty;)+) => {$(
        $(#[$cfg])*
        impl TransactionalHandler<$db> for Grant {
            async fn handle(
                &self,
                event: WebhookEvent,
                _delivery: &Delivery,
                tx: &mut Transaction<'_, $db>,
            ) -> HandlerResult {
                if let WebhookEvent::OrderPaid(paid) = event {
                    sqlx::query(AssertSqlSafe(self.insert.as_str()))
                        .bind(paid.order.id)
                        .bind(&paid.items[0].sku)
                        .execute(&mut **tx)
                        .await
                        .map_err(HandlerError::temporary)?;
                }
                Ok(())
            }
        }
    )+};
}

grant_handler! {
    sqlx::Sqlite;
    #[cfg(feature = "postgres")]
    sqlx::Postgres;
    #[cfg(feature = "mysql")]
    sqlx::MySql;
}

/// Fresh order ids for this run.
struct Ids(AtomicU64);

impl Ids {
    fn new() -> Self {
        Self(AtomicU64::new(
            (uuid::Uuid::new_v4().as_u128() as u64 >> 20) * 1_000_000,
        ))
    }

    fn next(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed) as i64
    }
}

/// One side of the comparison: `prepare` makes a delivery's input (the signed request, or the
/// baseline's order id and key) before the clock starts, since that is the sender's work, not
/// the receiver's; `run` handles it.
#[derive(Clone)]
struct Work<P, R> {
    prepare: P,
    run: R,
}

/// Runs `n` deliveries of `work` with `concurrency` in flight; returns deliveries per second.
async fn throughput<I, P, R, Fut>(n: usize, concurrency: usize, work: Work<P, R>) -> f64
where
    I: Send + 'static,
    P: Fn() -> I,
    R: Fn(I) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let inputs: Vec<I> = (0..n).map(|_| (work.prepare)()).collect();
    let inputs = Arc::new(Mutex::new(inputs));
    let cpu_before = process_cpu_ns();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (inputs, run) = (inputs.clone(), work.run.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(input) = inputs.lock().unwrap().pop() else {
                    break;
                };
                run(input).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    if let (Some(before), Some(after), true) = (cpu_before, process_cpu_ns(), ONLY.get().is_some())
    {
        println!(
            "  this process's CPU per delivery: {:.1} µs",
            (after - before) as f64 / n as f64 / 1000.0
        );
    }
    rate
}

/// Set in `BENCH_ONLY` mode: `throughput` then also prints this process's CPU per delivery.
static ONLY: std::sync::OnceLock<()> = std::sync::OnceLock::new();

/// CPU time of every thread of this process, in ns (Linux `schedstat`; `None` elsewhere).
fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

/// One database: a receiver and a baseline on the same server, the same pool settings.
struct Side<R, B> {
    receiver: R,
    baseline: B,
}

/// Alternating blocks; prints per-pair and overall results.
#[allow(clippy::type_complexity)]
async fn compare<RI, RP, R, RF, BI, BP, B, BF>(
    name: &str,
    side: Side<Work<RP, R>, Work<BP, B>>,
    block: usize,
    pairs: usize,
    c: usize,
) where
    RI: Send + 'static,
    RP: Fn() -> RI + Clone,
    R: Fn(RI) -> RF + Clone + Send + 'static,
    RF: Future<Output = ()> + Send,
    BI: Send + 'static,
    BP: Fn() -> BI + Clone,
    B: Fn(BI) -> BF + Clone + Send + 'static,
    BF: Future<Output = ()> + Send,
{
    // Profiling aid: `BENCH_ONLY=receiver|baseline` runs one side alone and prints its rate.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let _ = ONLY.set(());
        let rate = if only == "receiver" {
            throughput(block * pairs, c, side.receiver.clone()).await
        } else {
            throughput(block * pairs, c, side.baseline.clone()).await
        };
        println!("{name:<8} c={c:<2} {only} only: {rate:>7.0}/s");
        return;
    }
    // Warm-up: connections opened, statements prepared, first purge done.
    throughput(block / 4, c, side.baseline.clone()).await;
    throughput(block / 4, c, side.receiver.clone()).await;
    let (mut base_total, mut rx_total) = (0.0, 0.0);
    let mut ratios = Vec::new();
    for _ in 0..pairs {
        let base = throughput(block, c, side.baseline.clone()).await;
        let rx = throughput(block, c, side.receiver.clone()).await;
        base_total += base;
        rx_total += rx;
        ratios.push(rx / base);
    }
    let shown: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{name:<8} c={c:<2} baseline {:>7.0}/s  receiver {:>7.0}/s  ratio of means {:.2}  \
         median pair ratio {:.2}  (pairs: {})",
        base_total / pairs as f64,
        rx_total / pairs as f64,
        rx_total / base_total,
        sorted[sorted.len() / 2],
        shown.join(" ")
    );
}

fn request(id: i64, secret: &WebhookSecret) -> Request<Body> {
    let body = ORDER_PAID.replace("ID", &id.to_string());
    Request::post("/")
        .header(
            "authorization",
            authorization_value(body.as_bytes(), secret),
        )
        .body(Body::from(body))
        .unwrap()
}

fn env_usize(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Builds the receiver and baseline closures for store `S` (the SQL differs per database).
macro_rules! sides {
    ($store:expr, $grants:expr, $keys:expr, $insert_grant:expr, $insert_key:expr, $begin:expr) => {{
        let store = $store;
        let secret = WebhookSecret::try_new(SECRET).unwrap();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (grants, keys) = (
            format!("bench_grants_{suffix}"),
            format!("bench_keys_{suffix}"),
        );
        for sql in [
            $grants(&grants),
            $grants(&format!("{grants}_base")),
            $keys(&keys),
        ] {
            sqlx::query(AssertSqlSafe(sql))
                .execute(store.pool())
                .await
                .unwrap();
        }
        let handler = Grant {
            insert: $insert_grant(&grants),
        };
        let receiver = TransactionalReceiver::new(secret.clone(), handler, store.clone()).unwrap();
        let ids = Arc::new(Ids::new());
        let rx = Work {
            prepare: {
                let ids = ids.clone();
                move || request(ids.next(), &secret)
            },
            run: move |request: Request<Body>| {
                let receiver = receiver.clone();
                async move {
                    let response = receiver.handle(request).await;
                    assert_eq!(response.status(), 204);
                }
            },
        };
        let pool = store.pool().clone();
        let (insert_key, insert_grant) = (
            Arc::new($insert_key(&keys)),
            Arc::new($insert_grant(&format!("{grants}_base"))),
        );
        let base = Work {
            prepare: move || {
                let id = ids.next();
                (id, format!("store:order_paid:order.id={id}"))
            },
            run: move |(id, key): (i64, String)| {
                let pool = pool.clone();
                let (insert_key, insert_grant) = (insert_key.clone(), insert_grant.clone());
                async move {
                    let mut tx = $begin(&pool).await;
                    sqlx::query(AssertSqlSafe(insert_key.as_str()))
                        .bind(&key)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query(AssertSqlSafe(insert_grant.as_str()))
                        .bind(id)
                        .bind("gold")
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            },
        };
        Side {
            receiver: rx,
            baseline: base,
        }
    }};
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let block = env_usize("BENCH_BLOCK", 400);
    let pairs = env_usize("BENCH_PAIRS", 5);
    let levels: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8".into())
        .split(',')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    let settings = PoolSettings::default().with_max_connections(10);
    println!("block {block}, {pairs} pairs (baseline/receiver alternating), pool 10");

    // `BENCH_DBS=postgres,mysql` (say) skips SQLite; unset runs every database available.
    let dbs = std::env::var("BENCH_DBS").unwrap_or_else(|_| "sqlite,postgres,mysql".into());
    let dir = tempfile::tempdir().unwrap();
    for &c in levels.iter().filter(|_| dbs.contains("sqlite")) {
        let store =
            SqliteStore::open_with(dir.path().join(format!("bench-{c}.sqlite3")), &settings)
                .await
                .unwrap();
        let side = sides!(
            store,
            |t: &str| format!("CREATE TABLE {t} (order_id INTEGER NOT NULL, sku TEXT NOT NULL)"),
            |t: &str| format!("CREATE TABLE {t} (key TEXT PRIMARY KEY)"),
            |t: &str| format!("INSERT INTO {t} (order_id, sku) VALUES (?, ?)"),
            |t: &str| format!("INSERT INTO {t} (key) VALUES (?) ON CONFLICT DO NOTHING"),
            |p: &sqlx::SqlitePool| {
                let p = p.clone();
                async move { p.begin().await.unwrap() }
            }
        );
        compare("sqlite", side, block, pairs, c).await;
    }

    #[cfg(feature = "postgres")]
    if let Ok(url) = std::env::var("BACKPACK_TEST_PG_URL") {
        for &c in levels.iter().filter(|_| dbs.contains("postgres")) {
            let store = backpack_webhooks::PostgresStore::connect_with(&url, &settings)
                .await
                .unwrap();
            let side = sides!(
                store,
                |t: &str| format!("CREATE TABLE {t} (order_id bigint NOT NULL, sku text NOT NULL)"),
                |t: &str| format!("CREATE TABLE {t} (key text PRIMARY KEY)"),
                |t: &str| format!("INSERT INTO {t} (order_id, sku) VALUES ($1, $2)"),
                |t: &str| format!("INSERT INTO {t} (key) VALUES ($1) ON CONFLICT DO NOTHING"),
                |p: &sqlx::PgPool| {
                    let p = p.clone();
                    async move { p.begin().await.unwrap() }
                }
            );
            compare("postgres", side, block, pairs, c).await;
        }
    }

    #[cfg(feature = "mysql")]
    if let Ok(url) = std::env::var("BACKPACK_TEST_MYSQL_URL") {
        for &c in levels.iter().filter(|_| dbs.contains("mysql")) {
            let store = backpack_webhooks::MySqlStore::connect_with(&url, &settings)
                .await
                .unwrap();
            let side = sides!(
                store,
                |t: &str| format!(
                    "CREATE TABLE {t} (order_id BIGINT NOT NULL, sku TEXT NOT NULL) ENGINE=InnoDB"
                ),
                |t: &str| format!(
                    "CREATE TABLE {t} (`key` VARBINARY(512) PRIMARY KEY) ENGINE=InnoDB"
                ),
                |t: &str| format!("INSERT INTO {t} (order_id, sku) VALUES (?, ?)"),
                |t: &str| format!("INSERT IGNORE INTO {t} (`key`) VALUES (?)"),
                |p: &sqlx::MySqlPool| {
                    let p = p.clone();
                    async move { p.begin().await.unwrap() }
                }
            );
            compare("mysql", side, block, pairs, c).await;
        }
    }
}
