//! Overhead of the SDK's transport against raw reqwest, on the same loopback
//! axum server in the same run, and the cost of the cached-token fast path.
//!
//! Run: `cargo bench -p backpack-sdk --bench sdk -- --warm-up-time 1 --measurement-time 3`
//! (`SDK_BENCH_PAIRED_ONLY=1` runs only the paired comparison.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use backpack_sdk::{RetryPolicy, StaticToken, TokenCache, Transport, X_HOST_ID};
use criterion::{Criterion, criterion_group};
use futures::FutureExt;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, Request, Url};

const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2lnbmF0dXJl";
const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";

/// Starts the API on its own thread and runtime, so the client side measured
/// by criterion does not share an executor with the server.
fn start_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let router = Router::new().route(
                "/web/backpack/items",
                get(|| async { axum::Json(serde_json::json!({"items": []})) }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn merchant_transport() -> Transport {
    Transport::builder()
        .token_cache(TokenCache::new(StaticToken::new(TOKEN)))
        .host_id(HOST_ID)
        .retry_policy(RetryPolicy::default())
        .build()
        .unwrap()
}

fn per_call(c: &mut Criterion) {
    let addr = start_server();
    let url = Url::parse(&format!("http://{addr}/web/backpack/items")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let transport = merchant_transport();
    // Warm the token cache and the connection pool.
    runtime.block_on(async {
        let mut request = Request::new(Method::GET, url.clone());
        transport.prepare(&mut request).await.unwrap();
        transport.send(&client, request).await.unwrap();
    });
    let bearer = HeaderValue::from_str(&format!("Bearer {TOKEN}")).unwrap();
    let host_id = HeaderValue::from_static(HOST_ID);

    let mut group = c.benchmark_group("per_call");
    // The baseline sends the same headers, built once, with plain reqwest.
    group.bench_function("raw_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut request = Request::new(Method::GET, url.clone());
            let headers = request.headers_mut();
            headers.insert(AUTHORIZATION, bearer.clone());
            headers.insert(X_HOST_ID, host_id.clone());
            let response = client.execute(request).await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap()
        });
    });
    // What the generated client will do: build, prepare, send.
    group.bench_function("transport_prepare_send", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut request = Request::new(Method::GET, url.clone());
            transport.prepare(&mut request).await.unwrap();
            let response = transport.send(&client, request).await.unwrap();
            assert!(response.status().is_success());
            response.bytes().await.unwrap()
        });
    });
    group.finish();
}

fn cached_token(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = merchant_transport();
    let cache = transport.token_cache().unwrap().clone();
    runtime.block_on(cache.token()).unwrap();
    let url = Url::parse("http://127.0.0.1:1/web/backpack/items").unwrap();

    let mut group = c.benchmark_group("token");
    group.bench_function("cache_cached", |b| {
        b.iter(|| cache.cached().unwrap());
    });
    // The async entry point, polled once: the fast path never suspends.
    group.bench_function("cache_token_fast_path", |b| {
        b.iter(|| cache.token().now_or_never().unwrap().unwrap());
    });
    // All of `prepare` on a cached token: token + two header inserts + removal.
    let mut request = Request::new(Method::GET, url);
    group.bench_function("transport_prepare_cached", |b| {
        b.iter(|| {
            transport
                .prepare(&mut request)
                .now_or_never()
                .unwrap()
                .unwrap()
        });
    });
    group.finish();
}

/// Calls per block in the paired comparison.
const PAIRED_BLOCK: u32 = 200;
/// Blocks of each kind in the paired comparison.
const PAIRED_ROUNDS: u32 = 40;

/// On-CPU time of the current thread (user + system), from
/// `/proc/thread-self/schedstat`; `None` where that file does not exist.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// Raw reqwest and the transport in alternating blocks of calls, with the
/// server on the same single-threaded runtime: the thread's on-CPU time is
/// then the whole cost of a call (client, server and loopback TCP), and,
/// unlike wall time, is not inflated when other processes take the CPU.
/// Prints wall and CPU time per call and the transport/raw ratios.
fn paired_ratio() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = runtime.block_on(async {
        let router = Router::new().route(
            "/web/backpack/items",
            get(|| async { axum::Json(serde_json::json!({"items": []})) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        addr
    });
    let url = Url::parse(&format!("http://{addr}/web/backpack/items")).unwrap();
    let client = reqwest::Client::new();
    let transport = merchant_transport();
    let bearer = HeaderValue::from_str(&format!("Bearer {TOKEN}")).unwrap();
    let host_id = HeaderValue::from_static(HOST_ID);

    let raw = || async {
        let mut request = Request::new(Method::GET, url.clone());
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, bearer.clone());
        headers.insert(X_HOST_ID, host_id.clone());
        let response = client.execute(request).await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    };
    let sdk = || async {
        let mut request = Request::new(Method::GET, url.clone());
        transport.prepare(&mut request).await.unwrap();
        let response = transport.send(&client, request).await.unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    };

    runtime.block_on(async {
        for _ in 0..PAIRED_BLOCK {
            raw().await;
            sdk().await;
        }
        // [raw, sdk] totals of wall time and CPU time.
        let mut wall = [Duration::ZERO; 2];
        let mut cpu = [Duration::ZERO; 2];
        for round in 0..PAIRED_ROUNDS {
            // Alternate which side goes first.
            for side in [round as usize % 2, 1 - round as usize % 2] {
                let (started, cpu_started) = (Instant::now(), thread_cpu_time());
                for _ in 0..PAIRED_BLOCK {
                    if side == 0 {
                        raw().await;
                    } else {
                        sdk().await;
                    }
                }
                wall[side] += started.elapsed();
                if let (Some(before), Some(after)) = (cpu_started, thread_cpu_time()) {
                    cpu[side] += after.saturating_sub(before);
                }
            }
        }
        let calls = f64::from(PAIRED_BLOCK * PAIRED_ROUNDS);
        let per_call = |d: Duration| d.as_secs_f64() * 1e6 / calls;
        let ratio = |t: [Duration; 2]| t[1].as_secs_f64() / t[0].as_secs_f64();
        println!(
            "paired ({} calls each): wall raw_reqwest {:.2} µs, transport {:.2} µs, ratio {:.3}; \
             cpu raw_reqwest {:.2} µs, transport {:.2} µs, ratio {:.3}",
            PAIRED_BLOCK * PAIRED_ROUNDS,
            per_call(wall[0]),
            per_call(wall[1]),
            ratio(wall),
            per_call(cpu[0]),
            per_call(cpu[1]),
            ratio(cpu),
        );
    });
}

criterion_group!(benches, per_call, cached_token);

fn main() {
    if std::env::var_os("SDK_BENCH_PAIRED_ONLY").is_none() {
        benches();
    }
    // Only under `cargo bench` (which passes `--bench`; `cargo test` runs
    // the benches once each without it), and not when criterion is asked
    // for a subset (a filter argument) or only to list benchmarks.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filtered = !args.iter().any(|a| a == "--bench")
        || args.iter().any(|a| a == "--list" || a == "--test")
        || args.iter().enumerate().any(|(i, a)| {
            !a.starts_with('-')
                && !matches!(
                    args.get(i.wrapping_sub(1)).map(String::as_str),
                    Some(
                        "--warm-up-time"
                            | "--measurement-time"
                            | "--sample-size"
                            | "--save-baseline"
                            | "--baseline"
                    )
                )
        });
    if !filtered {
        paired_ratio();
    }
    Criterion::default().configure_from_args().final_summary();
}
