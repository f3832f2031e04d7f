//! The workspace's maintenance tasks: `cargo xtask pull | regen | diff | drift`.
//!
//! `regen` is one pipeline, each stage a module:
//! [`load`] → [`downconvert`] (3.1 → 3.0) → [`overlay`] → [`simplify`] → [`validate`] → [`inline_schemas`] →
//! [`codegen`] (types, client, server) → [`output`] (format with prettyplease, write or `--check`).
//! [`openapi`] holds the walkers over a document (operations, parameters, `$ref`s) they share.
#![warn(missing_docs)]

pub mod codegen;
pub mod degrade;
pub mod diff;
pub mod downconvert;
pub mod drift;
pub mod error;
pub mod inline_schemas;
pub mod load;
pub mod openapi;
pub mod output;
pub mod overlay;
pub mod pull;
pub mod regen;
pub mod simplify;
pub mod sources;
pub mod validate;

pub use error::{Error, Result};

use std::path::{Path, PathBuf};

/// The workspace root (the directory above `xtask/`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
