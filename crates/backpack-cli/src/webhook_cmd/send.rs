//! `backpack webhook send`: posts a documented sample (or a given body) of a webhook type,
//! signed, and prints the answer as one JSON line: `{"type", "example", "status", "body"}`.
//! A non-2xx answer exits with code 1.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};

use super::{SECRET_ENV, read_input, require_secret, samples};
use crate::error::{CliError, one_line};

/// `backpack webhook send` arguments.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Webhook type: a payments `notification_type` (`order_paid`, …) or a Backpack one
    /// prefixed with `backpack.` (`backpack.move_to_game`); the list is in the help below.
    #[arg(value_name = "TYPE")]
    pub type_name: String,
    /// The receiver's URL.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The project secret key.
    #[arg(long, value_name = "SECRET", env = SECRET_ENV, hide_env_values = true)]
    pub secret: Option<String>,
    /// Send this file (`-`: standard input) instead of the documented sample.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// Which documented example to send (default: the first in the spec).
    #[arg(long, value_name = "NAME", conflicts_with = "body")]
    pub example: Option<String>,
    /// Request timeout in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
}

/// Sends the webhook and prints the answer.
pub async fn run(args: &SendArgs) -> Result<(), CliError> {
    if samples::family_of(&args.type_name).is_none() {
        return Err(CliError::InvalidArgument(format!(
            "unknown webhook type `{}`; known types: {}",
            args.type_name,
            samples::type_names().join(", ")
        )));
    }
    let secret = require_secret(args.secret.as_deref())?;
    let url = reqwest::Url::parse(&args.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            CliError::InvalidArgument(format!("--url `{}` is not an http(s) URL", args.url))
        })?;
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CliError::InvalidArgument("--timeout must be a positive number".into()))?;
    let (body, example) = match &args.body {
        Some(path) => (read_input(Some(path))?, None),
        None => {
            let sample = samples::sample(&args.type_name, args.example.as_deref())?;
            (sample.body, Some(sample.example))
        }
    };

    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| CliError::Server(one_line(&e)))?;
    let authorization = backpack_webhooks::authorization_value(&body, &secret);
    tracing::info!(webhook = %args.type_name, url = %url, bytes = body.len(), "sending webhook");
    let response = client
        .post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::AUTHORIZATION, authorization)
        .body(body)
        .send()
        .await
        .map_err(|e| CliError::Http {
            url: url.to_string(),
            reason: one_line(&e),
        })?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| CliError::Http {
        url: url.to_string(),
        reason: one_line(&e),
    })?;
    let answer_body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    let line = json!({
        "type": args.type_name,
        "example": example,
        "status": status,
        "body": answer_body,
    });
    println!("{line}");
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(CliError::NotSuccess { status })
    }
}
