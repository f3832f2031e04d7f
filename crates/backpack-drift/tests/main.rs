//! Integration tests of the drift watch (one binary; one module per file).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod check;
mod fixture;
mod samples;
