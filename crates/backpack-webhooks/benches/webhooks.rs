//! Benchmarks:
//! * `verify_parse/*`: this crate's `verify_and_parse` (signature check, JSON parse, typed event,
//!   dedup key) vs the bare minimum (`sha1` over body ‖ secret + `serde_json::from_slice::<Value>`)
//!   on the complete documented samples (all 21 of `tests/fixtures/store` per iteration, and
//!   three single samples);
//! * `sha1/*`: SHA-1 throughput on 1 KiB and 64 KiB;
//! * `receiver/*`: one in-process request through the receiver vs a bare axum handler.
//!
//! `cargo bench -p backpack-webhooks --bench webhooks -- --warm-up-time 1 --measurement-time 3`
//!
//! With `WEBHOOKS_BENCH_PAIRED=1` it first prints a paired comparison that is robust on a shared
//! machine: the two sides run in alternating blocks on one thread, timed by the thread's on-CPU
//! time (`/proc/thread-self/schedstat`), so other processes taking the CPU do not count.

// Test/bench code: unwrap/expect/panic are how failures are reported here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;

use axum::body::{Body, Bytes};
use backpack_webhooks::{
    MemoryStore, WebhookHandler, WebhookReceiver, WebhookSecret, authorization_value, sign,
    verify_and_parse,
};
use criterion::{Criterion, Throughput, criterion_group};
use http::Request;
use sha1::{Digest, Sha1};
use tower::ServiceExt;

const SECRET: &str = "PROJECT_SECRET_KEY";

fn samples() -> Vec<(String, Vec<u8>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let secret = WebhookSecret::new(SECRET);
    files
        .into_iter()
        .map(|p| {
            let body = std::fs::read(&p).unwrap();
            let auth = authorization_value(&body, &secret);
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, body, auth)
        })
        .collect()
}

/// The bare minimum: SHA-1 over body ‖ secret, compare hex, parse to a `Value`.
fn raw(body: &[u8], hex_signature: &str) -> serde_json::Value {
    let mut h = Sha1::new();
    h.update(body);
    h.update(SECRET.as_bytes());
    let digest = h.finalize();
    assert!(hex::encode(digest) == hex_signature);
    serde_json::from_slice(body).unwrap()
}

fn verify_parse(c: &mut Criterion) {
    let secret = WebhookSecret::new(SECRET);
    let samples = samples();
    let total: usize = samples.iter().map(|(_, b, _)| b.len()).sum();
    let mut group = c.benchmark_group("verify_parse");
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("all_samples/crate", |b| {
        b.iter(|| {
            for (_, body, auth) in &samples {
                black_box(verify_and_parse(black_box(body), Some(auth), &secret).unwrap());
            }
        })
    });
    group.bench_function("all_samples/raw_sha1_serde_value", |b| {
        b.iter(|| {
            for (_, body, auth) in &samples {
                black_box(raw(black_box(body), &auth[10..]));
            }
        })
    });
    for pick in ["user_validation.doc", "order_paid.sdk", "payment.sdk"] {
        let (_, body, auth) = samples.iter().find(|(n, _, _)| n == pick).unwrap();
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{pick}/crate"), |b| {
            b.iter(|| black_box(verify_and_parse(black_box(body), Some(auth), &secret).unwrap()))
        });
        group.bench_function(format!("{pick}/raw_sha1_serde_value"), |b| {
            b.iter(|| black_box(raw(black_box(body), &auth[10..])))
        });
    }
    group.finish();
}

fn sha1_throughput(c: &mut Criterion) {
    let secret = WebhookSecret::new(SECRET);
    let mut group = c.benchmark_group("sha1");
    for size in [1024usize, 64 * 1024] {
        let data = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{}KiB/sha1_crate", size / 1024), |b| {
            b.iter(|| black_box(Sha1::digest(black_box(&data))))
        });
        group.bench_function(format!("{}KiB/sign", size / 1024), |b| {
            b.iter(|| black_box(sign(black_box(&data), &secret)))
        });
    }
    group.finish();
}

struct Accept;
impl WebhookHandler for Accept {}

fn receiver(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let secret = WebhookSecret::new(SECRET);
    let samples = samples();
    let pick = |name: &str| {
        samples
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, b, a)| (Bytes::from(b.clone()), a.clone()))
            .unwrap()
    };
    let app = WebhookReceiver::new(secret, Accept, MemoryStore::new())
        .unwrap()
        .into_router();
    let bare = axum::Router::new().route(
        "/",
        axum::routing::post(|body: Bytes| async move {
            black_box(body);
            http::StatusCode::NO_CONTENT
        }),
    );
    let request = |body: &Bytes, auth: &str| {
        Request::post("/")
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap()
    };
    let mut group = c.benchmark_group("receiver");
    for name in ["user_validation.doc", "order_paid.sdk"] {
        let (body, auth) = pick(name);
        let label = if name.starts_with("order_paid") {
            "order_paid.sdk(duplicate replay)"
        } else {
            "user_validation.doc(handler every time)"
        };
        group.bench_function(format!("{label}/receiver"), |b| {
            b.to_async(&runtime).iter(|| async {
                let response = app.clone().oneshot(request(&body, &auth)).await.unwrap();
                assert!(response.status().is_success());
            })
        });
        group.bench_function(format!("{label}/bare_axum"), |b| {
            b.to_async(&runtime).iter(|| async {
                let response = bare.clone().oneshot(request(&body, &auth)).await.unwrap();
                assert!(response.status().is_success());
            })
        });
    }
    group.finish();
}

/// On-CPU nanoseconds of the current thread (Linux), or `None`.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Runs `a` and `b` in alternating blocks; returns per-iteration on-CPU ns of each.
fn paired_cpu(
    blocks: usize,
    per_block: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64) {
    let (mut ta, mut tb) = (0u64, 0u64);
    for block in 0..blocks * 2 {
        let run_a = (block % 2 == 0) ^ (block / 2 % 2 == 1); // ABBA order
        let start = thread_cpu_ns().unwrap_or(0);
        for _ in 0..per_block {
            if run_a { a() } else { b() }
        }
        let spent = thread_cpu_ns().unwrap_or(0) - start;
        if run_a { ta += spent } else { tb += spent }
    }
    let n = (blocks * per_block) as f64;
    (ta as f64 / n, tb as f64 / n)
}

fn paired_report() {
    if thread_cpu_ns().is_none() {
        println!("paired: /proc/thread-self/schedstat not available");
        return;
    }
    let secret = WebhookSecret::new(SECRET);
    let samples = samples();
    let (crate_ns, raw_ns) = paired_cpu(
        40,
        20,
        || {
            for (_, body, auth) in &samples {
                black_box(verify_and_parse(black_box(body), Some(auth), &secret).unwrap());
            }
        },
        || {
            for (_, body, auth) in &samples {
                black_box(raw(black_box(body), &auth[10..]));
            }
        },
    );
    println!(
        "paired verify_parse all {} samples (CPU time per pass): crate {:.1} µs, raw sha1+Value {:.1} µs, ratio {:.2}",
        samples.len(),
        crate_ns / 1e3,
        raw_ns / 1e3,
        crate_ns / raw_ns
    );
    for pick in ["user_validation.doc", "order_paid.sdk", "payment.sdk"] {
        let (_, body, auth) = samples.iter().find(|(n, _, _)| n == pick).unwrap();
        let (c, r) = paired_cpu(
            40,
            500,
            || {
                drop(black_box(
                    verify_and_parse(black_box(body), Some(auth), &secret).unwrap(),
                ))
            },
            || drop(black_box(raw(black_box(body), &auth[10..]))),
        );
        println!(
            "paired verify_parse {pick} ({} B): crate {:.2} µs, raw {:.2} µs, ratio {:.2}",
            body.len(),
            c / 1e3,
            r / 1e3,
            c / r
        );
    }

    // Whole in-process request: receiver vs bare axum, on a current-thread runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = WebhookReceiver::new(WebhookSecret::new(SECRET), Accept, MemoryStore::new())
        .unwrap()
        .into_router();
    let bare = axum::Router::new().route(
        "/",
        axum::routing::post(|body: Bytes| async move {
            black_box(body);
            http::StatusCode::NO_CONTENT
        }),
    );
    for pick in ["user_validation.doc", "order_paid.sdk"] {
        let (_, body, auth) = samples.iter().find(|(n, _, _)| n == pick).unwrap();
        let body = Bytes::from(body.clone());
        let request = || {
            Request::post("/")
                .header("authorization", auth.as_str())
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .unwrap()
        };
        let (c, r) = paired_cpu(
            40,
            500,
            || {
                let response = runtime.block_on(app.clone().oneshot(request())).unwrap();
                assert!(response.status().is_success());
            },
            || {
                let response = runtime.block_on(bare.clone().oneshot(request())).unwrap();
                assert!(response.status().is_success());
            },
        );
        let what = if pick.starts_with("order_paid") {
            "duplicate replay"
        } else {
            "handler every time"
        };
        println!(
            "paired request {pick} ({what}): receiver {:.2} µs, bare axum {:.2} µs, ratio {:.2}",
            c / 1e3,
            r / 1e3,
            c / r
        );
    }
}

criterion_group!(benches, verify_parse, sha1_throughput, receiver);

fn main() {
    if std::env::var("WEBHOOKS_BENCH_PAIRED").as_deref() == Ok("1") {
        paired_report();
        if std::env::var("WEBHOOKS_BENCH_PAIRED_ONLY").as_deref() == Ok("1") {
            return;
        }
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
