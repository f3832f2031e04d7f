//! In-process cost of one request through the generated router and through the hand-written
//! handlers of `bench_server.rs` (same routes, same checks), without TCP: the request is built,
//! sent with `tower::ServiceExt::oneshot`, and the response body collected.
//!
//! `scripts/bench-server.sh` runs it under `valgrind --tool=callgrind` to count instructions per
//! request, which unlike requests/s does not depend on what else the machine is doing.
//!
//! Env: `ONLY=generated-get|generated-post|handwritten-get|handwritten-post` (default: all),
//! `N` requests per measurement (200000), `ROUNDS` (3). Prints ns/request per measurement.
// The requests are fixed and well-formed; a failure here is a broken benchmark, not bad input.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::Request;
use std::time::Instant;
use tower::ServiceExt;

#[path = "bench_server.rs"]
#[allow(dead_code)]
mod bench;

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn request(scenario: &str) -> Request<Body> {
    if scenario == "get" {
        Request::get("/web/backpack/items/4d8cd62e-a579-4dae-af8c-3172f96f8f7c")
            .header("authorization", "Bearer bench-token")
            .body(Body::empty())
            .unwrap()
    } else {
        Request::post("/web/backpack/merchants/7/projects/8/games")
            .header("authorization", "Bearer bench-token")
            .header("x-host-id", "497f6eca-6276-4993-bfeb-53cbbbba6f08")
            .header("content-type", "application/json")
            .body(Body::from(bench::POST_BODY))
            .unwrap()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (generated, handwritten) = bench::routers();
    let n = env_number("N", 200_000);
    let rounds = env_number("ROUNDS", 3);
    let only = std::env::var("ONLY").ok();
    for round in 0..rounds {
        for (name, router) in [("generated", &generated), ("handwritten", &handwritten)] {
            for scenario in ["get", "post"] {
                if only
                    .as_deref()
                    .is_some_and(|o| o != format!("{name}-{scenario}"))
                {
                    continue;
                }
                let start = Instant::now();
                for _ in 0..n {
                    let response = router.clone().oneshot(request(scenario)).await.unwrap();
                    assert!(response.status().is_success());
                    axum::body::to_bytes(response.into_body(), usize::MAX)
                        .await
                        .unwrap();
                }
                let per = start.elapsed().as_nanos() as f64 / f64::from(n);
                println!("round {round} {name:12} {scenario:4}: {per:.0} ns/request");
            }
        }
    }
}
