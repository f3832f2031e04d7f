//! The integration tests of this package, linked into one test binary (one link instead of one
//! per file); each module is one former `tests/*.rs` target. Tests that install a process-wide
//! `tracing` subscriber keep their own binary (declared in Cargo.toml).
//! Run one file's tests with `cargo test -p PACKAGE --test integration MODULE::`.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api_surface;
mod guide_types;
mod httpmock_sdk;
mod server_roundtrip;
mod spec_sound;
