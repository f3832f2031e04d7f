//! One error type for every xtask stage; each variant says where and why.

use std::path::PathBuf;

/// What went wrong, with enough context to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A document is not parsable YAML/JSON or not an OpenAPI document.
    #[error("{what}: {reason}")]
    Parse {
        /// The document or file.
        what: String,
        /// Why.
        reason: String,
    },
    /// The spec contains something the generators cannot handle; names the operation or schema.
    #[error("{location}: {reason}")]
    Invalid {
        /// `operation create-game`, `schema Payment.user`, …
        location: String,
        /// Why it cannot be generated, and what to do.
        reason: String,
    },
    /// An overlay action failed.
    #[error("overlay {file}, action {index}: {reason}")]
    Overlay {
        /// The overlay file.
        file: String,
        /// Action index (0-based).
        index: usize,
        /// Why.
        reason: String,
    },
    /// Code generation failed.
    #[error("generating {what}: {reason}")]
    Generate {
        /// Which output.
        what: String,
        /// Why.
        reason: String,
    },
    /// Downloading a document failed.
    #[error("pull {name} from {url}: {reason}")]
    Pull {
        /// Document name.
        name: String,
        /// URL.
        url: String,
        /// Why; `spec/` is untouched.
        reason: String,
    },
    /// Generated files differ from what is committed.
    #[error("{0}")]
    Stale(String),
    /// Anything else, already worded for the user.
    #[error("{0}")]
    Other(String),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A spec problem at `location`.
    pub fn invalid(location: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            location: location.into(),
            reason: reason.into(),
        }
    }
}
