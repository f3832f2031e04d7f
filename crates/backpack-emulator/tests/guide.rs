//! The guide's copyable example (docs/guide/emulator.md, "In your own tests") is exactly the
//! `game_backend` test that CI runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn guide_example_is_the_game_backend_test() {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let guide = std::fs::read_to_string(crate_dir.join("../../docs/guide/emulator.md")).unwrap();
    let test = std::fs::read_to_string(crate_dir.join("tests/game_backend.rs")).unwrap();
    let block = format!("```rust\n{test}```\n");
    assert!(
        guide.contains(&block),
        "docs/guide/emulator.md must contain tests/game_backend.rs verbatim in a ```rust block"
    );
}
