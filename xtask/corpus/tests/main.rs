//! The integration tests of the construct corpus, linked into one test binary; each module is one
//! file. Run one with `cargo test -p construct-corpus --test integration MODULE::`.
#![allow(clippy::unwrap_used)]

mod bodies;
mod tagged_union;
