//! The emulator library's errors.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::db::DbError;
use crate::samples::SampleError;

/// Why the emulator could not start or do what was asked. Messages carry no secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder setting is unusable.
    #[error("invalid emulator setting: {0}")]
    Config(String),
    /// The database cannot be opened, read or written.
    #[error("emulator database {}: {source}", path.as_ref().map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string()))]
    Database {
        /// The file, or `None` for the in-memory database.
        path: Option<PathBuf>,
        /// What went wrong.
        #[source]
        source: DbError,
    },
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("emulator server error: {0}")]
    Server(#[source] std::io::Error),
    /// A token could not be signed.
    #[error("could not sign a token: {0}")]
    Token(#[source] jsonwebtoken::errors::Error),
    /// Webhooks need a webhook URL (see [`crate::EmulatorBuilder::webhook`]).
    #[error("no webhook URL is configured")]
    NoWebhookUrl,
    /// Only a manual clock can be advanced (see [`crate::EmulatorBuilder::system_clock`]).
    #[error("the emulator runs on the system clock, which cannot be advanced")]
    SystemClock,
    /// No documented sample for that webhook.
    #[error(transparent)]
    Sample(#[from] SampleError),
}
