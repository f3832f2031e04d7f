//! The observability test in a test binary of its own, like the other tests that install a
//! `tracing` subscriber: tracing caches each callsite's interest for the whole process, so the
//! integration binary's other tests, running on other threads without a subscriber, can keep a
//! delivery's span from reaching this test's thread-local subscriber (it failed 1 run in 4 there).
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod observe;
