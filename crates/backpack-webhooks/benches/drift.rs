//! The drift watch's cost on `verify_and_parse` of every sample (the 21 `tests/fixtures/store`
//! and 3 `tests/fixtures/backpack` bodies per pass), same run, three ways:
//!
//! * `off`: no watch set (`drift::set_watch(None)`): one atomic load per body;
//! * `switched off`: a watch set but `set_enabled(false)`;
//! * `on`: a watch set and enabled, checking on the caller's thread;
//! * `background`: a watch made with `DriftWatch::background`: the caller copies the body into
//!   the watch's queue and its worker thread checks it. Timed twice: the caller alone (`bg
//!   caller`; the queue is drained after the timed block), and caller plus worker (`bg total`:
//!   the block ends when the worker has checked every body).
//!
//! The modes run in rotating blocks on one thread, timed by wall clock (the background worker's
//! time counts when it competes for the CPU); each round prints the ratios. Built without the
//! `drift` feature the hook is not compiled at all.
//!
//! `cargo bench -p backpack-webhooks --features drift --bench drift` (with `DRIFT_BENCH_ONLY=2`:
//! the `on` mode alone, to profile).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::path::Path;

use backpack_drift::DriftWatch;
use backpack_webhooks::{
    WebhookSecret, authorization_value, drift, verify_and_parse, verify_and_parse_backpack,
};

const SECRET: &str = "PROJECT_SECRET_KEY";

fn samples() -> Vec<(bool, Vec<u8>, String)> {
    let secret = WebhookSecret::new(SECRET);
    let mut out = Vec::new();
    for (dir, backpack) in [("store", false), ("backpack", true)] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(dir);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for p in files {
            let body = std::fs::read(&p).unwrap();
            let auth = authorization_value(&body, &secret);
            out.push((backpack, body, auth));
        }
    }
    out
}

fn main() {
    let samples = samples();
    let secret = WebhookSecret::new(SECRET);
    let watch = DriftWatch::new().unwrap();
    let background = DriftWatch::new().unwrap().background(4096);
    let pass = || {
        for (backpack, body, auth) in &samples {
            if *backpack {
                let _ = black_box(verify_and_parse_backpack(
                    black_box(body),
                    Some(auth),
                    &secret,
                ));
            } else {
                let _ = black_box(verify_and_parse(black_box(body), Some(auth), &secret));
            }
        }
    };
    let set = |mode: usize| match mode {
        0 => drift::set_watch(None),
        1 => {
            watch.set_enabled(false);
            drift::set_watch(Some(watch.clone()));
        }
        2 => {
            watch.set_enabled(true);
            drift::set_watch(Some(watch.clone()));
        }
        // 3: background, caller only; 4: background, caller + worker.
        _ => drift::set_watch(Some(background.clone())),
    };
    // `DRIFT_BENCH_ONLY=<mode 0-4>`: that mode alone, for a profiler (`perf record`).
    if let Some(mode) = std::env::var("DRIFT_BENCH_ONLY")
        .ok()
        .and_then(|m| m.parse::<usize>().ok())
    {
        set(mode);
        let start = std::time::Instant::now();
        for _ in 0..20_000 {
            pass();
        }
        background.flush();
        println!(
            "mode {mode}: {:.1} µs/pass",
            start.elapsed().as_secs_f64() * 1e6 / 20_000.0
        );
        drift::set_watch(None);
        return;
    }
    let (rounds, blocks, per_block) = (3, 40, 50);
    println!(
        "verify_and_parse of {} samples per pass; {blocks} blocks x {per_block} passes per mode per round",
        samples.len()
    );
    for round in 1..=rounds {
        let mut ns = [0u64; 5];
        for block in 0..blocks * 5 {
            let mode = (block + block / 5) % 5; // rotate the order every five blocks
            set(mode);
            let start = std::time::Instant::now();
            for _ in 0..per_block {
                pass();
            }
            if mode == 4 {
                background.flush();
            }
            ns[mode] += start.elapsed().as_nanos() as u64;
            background.flush();
        }
        assert_eq!(background.dropped(), 0);
        let per = |m: usize| ns[m] as f64 / (blocks * per_block) as f64 / 1000.0;
        println!(
            "round {round}: off {:.1} µs/pass, switched off {:.1}, on {:.1}, bg caller {:.1}, bg total {:.1}; throughput vs off: switched off {:.3}, on {:.3}, bg caller {:.3}, bg total {:.3}",
            per(0),
            per(1),
            per(2),
            per(3),
            per(4),
            per(0) / per(1),
            per(0) / per(2),
            per(0) / per(3),
            per(0) / per(4)
        );
    }
    drift::set_watch(None);
}
