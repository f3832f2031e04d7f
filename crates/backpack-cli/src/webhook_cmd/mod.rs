//! `backpack webhook sign | send | listen`.

pub mod listen;
pub mod samples;
pub mod send;
pub mod sign;

use std::io::Read;
use std::path::Path;

use backpack_webhooks::WebhookSecret;

use crate::error::CliError;

/// Environment variable for `--secret`.
pub const SECRET_ENV: &str = "BACKPACK_WEBHOOK_SECRET";

/// The secret from `--secret` / the environment; missing or empty is a one-line error (exit 2).
pub fn require_secret(secret: Option<&str>) -> Result<WebhookSecret, CliError> {
    secret
        .and_then(|s| WebhookSecret::try_new(s).ok())
        .ok_or(CliError::MissingSecret {
            what: "webhook secret",
            flag: "--secret",
            env: SECRET_ENV,
        })
}

/// The bytes of `path`, or of standard input for `-` or no path. Nothing is trimmed: the
/// signature covers the exact bytes.
pub fn read_input(path: Option<&Path>) -> Result<Vec<u8>, CliError> {
    match path {
        Some(path) if path != Path::new("-") => {
            std::fs::read(path).map_err(|source| CliError::Read {
                what: path.display().to_string(),
                source,
            })
        }
        _ => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|source| CliError::Read {
                    what: "standard input".to_owned(),
                    source,
                })?;
            Ok(body)
        }
    }
}
