//! The command-line errors and their exit codes.
//!
//! | exit code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | the command ran and failed (a non-success webhook answer, a network error, a server error) |
//! | 2 | the command could not start: bad arguments, a bad or busy listen address, an unusable database, a missing secret |
//!
//! Every error prints as one line (`error: …`) on stderr. Messages never contain secrets.

use std::path::PathBuf;

/// Exit code for usage and configuration errors (also what clap uses for bad arguments).
pub const EXIT_USAGE: u8 = 2;
/// Exit code for failures after a successful start.
pub const EXIT_FAILURE: u8 = 1;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--listen` is not `HOST:PORT`.
    #[error("invalid listen address `{addr}`: expected HOST:PORT, e.g. 127.0.0.1:8080")]
    InvalidAddress {
        /// What was given.
        addr: String,
    },
    /// The port is taken.
    #[error("cannot listen on {addr}: address already in use")]
    AddressInUse {
        /// The address.
        addr: String,
    },
    /// Binding failed for another reason (address not on this machine, permission, …).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The database cannot be opened or written.
    #[error("cannot use database {}: {reason}", path.display())]
    Database {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A required secret was not given.
    #[error("missing {what}: pass {flag} or set {env}")]
    MissingSecret {
        /// Which secret.
        what: &'static str,
        /// The flag.
        flag: &'static str,
        /// The environment variable.
        env: &'static str,
    },
    /// Another argument is invalid.
    #[error("{0}")]
    InvalidArgument(String),
    /// A file could not be read.
    #[error("cannot read {what}: {source}")]
    Read {
        /// What was being read (a path or "standard input").
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request failed (no answer).
    #[error("request to {url} failed: {reason}")]
    Http {
        /// The target.
        url: String,
        /// Why.
        reason: String,
    },
    /// The receiver answered, but not with a success status.
    #[error("the receiver answered {status}")]
    NotSuccess {
        /// The status.
        status: u16,
    },
    /// The server stopped with an error.
    #[error("server error: {0}")]
    Server(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::InvalidAddress { .. }
            | CliError::AddressInUse { .. }
            | CliError::Bind { .. }
            | CliError::Database { .. }
            | CliError::MissingSecret { .. }
            | CliError::InvalidArgument(_)
            | CliError::Read { .. } => EXIT_USAGE,
            CliError::Http { .. } | CliError::NotSuccess { .. } | CliError::Server(_) => {
                EXIT_FAILURE
            }
        }
    }
}

/// A one-line description of an error and its sources (`a: b: c`), for messages that must fit
/// on one line.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text.replace(['\n', '\r'], " ")
}
