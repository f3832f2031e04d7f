//! The drift watch's cost on an SDK call against the emulator on loopback, same run: one user
//! call (`get_user_backpack_items`, 20 items in the answer) through a client without a watch
//! (`off`), through one whose watch is switched off at run time (`switched off`), and through
//! one whose watch is on (`on`). The modes run in rotating blocks; wall time, since the
//! emulator's threads do half the work. Each round prints the ratios.
//!
//! `cargo bench -p workspace-tests --bench drift_sdk` (`DRIFT_BENCH_ONLY=2`: the `on` mode alone,
//! to profile; here, not in `backpack-sdk`: a published
//! crate cannot dev-depend on the unpublished emulator).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Instant;

use backpack_drift::DriftWatch;
use backpack_emulator::Emulator;
use backpack_sdk::types::api::NewVirtualItem;
use backpack_sdk::{BackpackClient, StaticToken};
use uuid::Uuid;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(Emulator::builder().start()).unwrap();
    let user_id = Uuid::new_v4();
    let client = |watch: Option<DriftWatch>| {
        let mut builder = BackpackClient::builder()
            .base_url(emulator.base_url())
            .host_id(Uuid::nil().to_string())
            .token_source(StaticToken::new(emulator.merchant_token().unwrap()));
        if let Some(watch) = watch {
            builder = builder.drift_watch(watch);
        }
        builder.build().unwrap()
    };
    let plain = client(None);
    let items: Vec<NewVirtualItem> = (0..20)
        .map(|i| {
            NewVirtualItem::new(
                format!("sku-{i}"),
                format!("Item {i}"),
                "https://cdn.example.com/i.png",
            )
        })
        .collect();
    runtime
        .block_on(
            plain
                .merchant()
                .create_virtual_items()
                .merchant_id(1u32)
                .project_id(2u32)
                .user_id(user_id)
                .body(items)
                .send(),
        )
        .unwrap();
    let token = emulator.user_token(user_id).unwrap();
    let watch = DriftWatch::new().unwrap();
    let switched = DriftWatch::new().unwrap();
    switched.set_enabled(false);
    let users = [
        plain.user(token.as_str()).unwrap(),
        client(Some(switched)).user(token.as_str()).unwrap(),
        client(Some(watch.clone())).user(token.as_str()).unwrap(),
    ];
    let call = |mode: usize| {
        let page = runtime
            .block_on(users[mode].get_user_backpack_items().limit(50u32).send())
            .unwrap();
        assert_eq!(page.into_inner().len(), 20);
    };
    for mode in 0..3 {
        for _ in 0..200 {
            call(mode); // warm-up: connections, token, allocator
        }
    }
    // `DRIFT_BENCH_ONLY=<mode 0-2>`: that mode alone (`DRIFT_BENCH_CALLS` calls, default 4000),
    // for a profiler, `perf stat` or callgrind (the process's CPU time or instructions, the
    // emulator's included, are steadier than wall time on a loaded machine; two call counts give
    // the instructions of one call).
    if let Some(mode) = std::env::var("DRIFT_BENCH_ONLY")
        .ok()
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| *m < 3)
    {
        let calls = std::env::var("DRIFT_BENCH_CALLS")
            .ok()
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(4000);
        let start = Instant::now();
        for _ in 0..calls {
            call(mode);
        }
        println!(
            "mode {mode}: {:.1} µs/call",
            start.elapsed().as_secs_f64() * 1e6 / f64::from(calls)
        );
        runtime.block_on(emulator.shutdown()).unwrap();
        return;
    }
    let (rounds, blocks, per_block) = (3, 60, 25);
    println!(
        "get_user_backpack_items (20 items) against the emulator on loopback; {blocks} blocks x {per_block} calls per mode per round"
    );
    for round in 1..=rounds {
        let mut ns = [0u128; 3];
        for block in 0..blocks * 3 {
            let mode = (block + block / 3) % 3;
            let start = Instant::now();
            for _ in 0..per_block {
                call(mode);
            }
            ns[mode] += start.elapsed().as_nanos();
        }
        let per = |m: usize| ns[m] as f64 / (blocks * per_block) as f64 / 1000.0;
        println!(
            "round {round}: off {:.1} µs/call, switched off {:.1}, on {:.1}; cost on/off {:+.1} %, switched off/off {:+.1} %",
            per(0),
            per(1),
            per(2),
            (per(2) / per(0) - 1.0) * 100.0,
            (per(1) / per(0) - 1.0) * 100.0
        );
    }
    assert!(
        watch.report().is_empty(),
        "the emulator's answers match the spec: {}",
        watch.report().to_json()
    );
    runtime.block_on(emulator.shutdown()).unwrap();
}
