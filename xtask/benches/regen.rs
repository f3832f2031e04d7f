//! `cargo xtask regen` (the whole pipeline: both documents, down-conversion, overlays, naming,
//! validation, types + client generation, formatting) vs progenitor alone on the same Backpack spec
//! (YAML → openapiv3 → generate_tokens → prettyplease), in one run.
//!
//! Run: `cargo bench -p xtask --bench regen`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use progenitor::{GenerationSettings, Generator, InterfaceStyle};
use std::hint::black_box;

fn progenitor_alone(text: &str) -> String {
    let spec: openapiv3::OpenAPI = serde_norway::from_str(text).expect("spec parses");
    let mut settings = GenerationSettings::new();
    settings.with_interface(InterfaceStyle::Builder);
    let tokens = Generator::new(&settings)
        .generate_tokens(&spec)
        .expect("progenitor generates");
    prettyplease::unparse(&syn::parse2(tokens).expect("tokens parse"))
}

fn bench(c: &mut Criterion) {
    let root = xtask::workspace_root();
    let backpack = std::fs::read_to_string(root.join("spec/backpack.yaml")).expect("spec readable");
    let mut group = c.benchmark_group("regen");
    group.sample_size(20);
    group.bench_function("xtask regen (all generated files, both specs)", |b| {
        b.iter(|| black_box(xtask::regen::generate_all(&root).expect("regen")))
    });
    group.bench_function("progenitor alone (backpack.yaml client)", |b| {
        b.iter(|| black_box(progenitor_alone(&backpack)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
