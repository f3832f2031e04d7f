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

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Captures `tracing` output (a `MakeWriter` for `tracing_subscriber::fmt`).
#[derive(Clone, Default)]
pub(crate) struct Buffer(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
