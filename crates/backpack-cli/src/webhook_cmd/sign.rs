//! `backpack webhook sign`: prints the `Authorization` header value for a body.

use std::path::PathBuf;

use clap::Args;

use super::{SECRET_ENV, read_input, require_secret};
use crate::error::CliError;

/// `backpack webhook sign` arguments.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The project secret key.
    #[arg(long, value_name = "SECRET", env = SECRET_ENV, hide_env_values = true)]
    pub secret: Option<String>,
    /// The body to sign (`-` or nothing: standard input). Signed byte for byte, including any
    /// trailing newline.
    #[arg(value_name = "FILE|-")]
    pub file: Option<PathBuf>,
}

/// Prints `Signature <sha1(body ‖ secret)>` on stdout.
pub fn run(args: &SignArgs) -> Result<(), CliError> {
    let secret = require_secret(args.secret.as_deref())?;
    let body = read_input(args.file.as_deref())?;
    println!("{}", backpack_webhooks::authorization_value(&body, &secret));
    Ok(())
}
