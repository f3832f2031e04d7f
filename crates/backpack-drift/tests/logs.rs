//! Tests that read what the watch logs, through a `tracing` subscriber set for their thread.
//!
//! Their own binary: `tracing` caches per call site whether anyone listens, and a test of the other
//! binary that logs the same warning on another thread, with no subscriber, can make that cache say
//! "nobody" while these tests' subscriber is set (a warning then goes missing). Here every warning
//! is logged inside a test's subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fixture;
mod privacy;
mod warn_limit;
