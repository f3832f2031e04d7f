//! Workspace-level integration tests live in `tests/`.
//!
//! Under `cargo test` this library also holds the doctests of the README and of the guide in
//! `docs/guide/`: every `rust` code block there is compiled (`no_run`) or compiled and run, so
//! the examples cannot go stale.

/// The README and the guide, one module per file, read as documentation so that rustdoc tests
/// their code blocks.
#[cfg(doctest)]
pub mod guide {
    #[doc = include_str!("../../README.md")]
    pub mod readme {}
    #[doc = include_str!("../../docs/guide/README.md")]
    pub mod index {}
    #[doc = include_str!("../../docs/guide/api.md")]
    pub mod api {}
    #[doc = include_str!("../../docs/guide/webhooks.md")]
    pub mod webhooks {}
    #[doc = include_str!("../../docs/guide/emulator.md")]
    pub mod emulator {}
    #[doc = include_str!("../../docs/guide/cli.md")]
    pub mod cli {}
    #[doc = include_str!("../../docs/guide/types.md")]
    pub mod types {}
    #[doc = include_str!("../../docs/guide/server.md")]
    pub mod server {}
    #[doc = include_str!("../../docs/guide/maintaining.md")]
    pub mod maintaining {}
    #[doc = include_str!("../../docs/guide/generation.md")]
    pub mod generation {}
}
