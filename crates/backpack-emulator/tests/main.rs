//! The integration tests of this package, linked into one test binary (one link instead of one
//! per file); each module is one former `tests/*.rs` target.
//! Run one file's tests with `cargo test -p PACKAGE --test integration MODULE::`.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod game_backend;
mod guide;
mod trigger;
