//! `backpack`: test a Backpack integration offline.
//!
//! * `backpack emulator` — the 14 Backpack operations with real state in SQLite, a Login-style
//!   token endpoint, and the move-to-game webhooks (signed, retried on Xsolla's schedule from a
//!   durable outbox).
//! * `backpack webhook sign | send | listen` — sign a body, send a documented sample of any
//!   webhook type, or run a receiver that prints each delivery as a JSON line.
//!
//! Logs and progress go to stderr (`RUST_LOG` filters them, default `info`); machine output goes
//! to stdout. Exit codes: 0 success, 1 failure, 2 bad arguments or configuration.
#![warn(missing_docs)]

mod emulator_cmd;
mod error;
mod net;
mod webhook_cmd;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::emulator_cmd::EmulatorArgs;
use crate::error::{CliError, EXIT_FAILURE};
use crate::webhook_cmd::listen::ListenArgs;
use crate::webhook_cmd::send::SendArgs;
use crate::webhook_cmd::sign::SignArgs;

const MAIN_EXAMPLES: &str = "\
Examples:
  # Terminal 1: a receiver that prints every webhook it gets
  backpack webhook listen --listen 127.0.0.1:8081 --secret s3cret

  # Terminal 2: the emulator, sending webhooks to it (retry delays divided by 60)
  backpack emulator --listen 127.0.0.1:8080 --db emulator.sqlite \\
      --host-id 497f6eca-6276-4993-bfeb-53cbbbba6f08 \\
      --webhook-url http://127.0.0.1:8081/ --webhook-secret s3cret --time-scale 60

  # Send a documented sample of any webhook type
  backpack webhook send order_paid --url http://127.0.0.1:8081/ --secret s3cret

Exit codes: 0 success, 1 failure, 2 bad arguments or configuration.";

const EMULATOR_EXAMPLES: &str = "\
Examples:
  backpack emulator --listen 127.0.0.1:8080 --db emulator.sqlite \\
      --host-id 497f6eca-6276-4993-bfeb-53cbbbba6f08 \\
      --webhook-url http://127.0.0.1:8081/ --webhook-secret s3cret --time-scale 6000

  # A merchant token (Game and Items operations):
  curl -s -X POST http://127.0.0.1:8080/api/oauth2/token \\
      -d grant_type=client_credentials -d client_id=backpack-emulator \\
      -d client_secret=emulator-secret

  # A user token (user-facing operations) for Backpack user <UUID> (emulator-only field user_id):
  curl -s -X POST http://127.0.0.1:8080/api/oauth2/token \\
      -d grant_type=client_credentials -d client_id=backpack-emulator \\
      -d client_secret=emulator-secret -d user_id=<UUID>

  # The webhook outbox (emulator-only):
  curl -s http://127.0.0.1:8080/emulator/outbox

  # Make the running emulator send any webhook type (its documented sample):
  backpack emulator trigger payment --emulator http://127.0.0.1:8080

Moves to the game send user_validation, then order_paid (or move_to_game with
--legacy-move-webhook), retried 2 x 5 min, 7 x 15 min, 10 x 60 min (20 attempts),
every delay divided by --time-scale. The outbox survives restarts.";

const WEBHOOK_EXAMPLES: &str = "\
Examples:
  echo -n '{\"notification_type\":\"payment\"}' | backpack webhook sign --secret s3cret
  backpack webhook send payment --url http://127.0.0.1:8081/ --secret s3cret
  backpack webhook listen --listen 127.0.0.1:8081 --secret s3cret --db listen.sqlite";

const SIGN_EXAMPLES: &str = "\
Examples:
  backpack webhook sign --secret s3cret body.json
  printf '%s' '{\"notification_type\":\"payment\"}' | backpack webhook sign --secret s3cret -
  BACKPACK_WEBHOOK_SECRET=s3cret backpack webhook sign body.json

Prints the Authorization header value: Signature <sha1(body bytes + secret), hex>.";

const SEND_EXAMPLES: &str = "\
Examples:
  backpack webhook send order_paid --url http://127.0.0.1:8081/ --secret s3cret
  backpack webhook send order_paid --example php-sdk-fixture --url http://127.0.0.1:8081/ --secret s3cret
  backpack webhook send backpack.move_to_game --url http://127.0.0.1:8081/backpack --secret s3cret
  backpack webhook send payment --body my-payment.json --url http://127.0.0.1:8081/ --secret s3cret

Prints {\"type\",\"example\",\"status\",\"body\"} as one JSON line; exits 1 on a non-2xx answer.";

/// The `send` help: the examples, then the types, listed from the webhook catalogue.
fn send_help() -> String {
    format!(
        "{SEND_EXAMPLES}\n\nTypes: {} (a Backpack type whose notification_type only Backpack has \
         may be given without `backpack.`).",
        webhook_cmd::samples::type_names().join(", ")
    )
}

const LISTEN_EXAMPLES: &str = "\
Examples:
  backpack webhook listen --listen 127.0.0.1:8081 --secret s3cret
  backpack webhook listen --listen 127.0.0.1:8081 --secret s3cret --db listen.sqlite \\
      --unknown-user ghost --fail-first 2

Prints one JSON line per delivery:
  {\"type\":\"order_paid\",\"family\":\"store\",\"dedup_key\":\"store:order_paid:order.id=1\",
   \"verdict\":\"accepted\",\"code\":204,\"error\":null}
verdict: accepted | duplicate | rejected (4xx) | error (5xx).
Paths starting with /backpack (and every move_to_game) get Backpack answers (200/404/500),
others payments/store answers (204/400/500).";

/// Test your Backpack integration offline: an emulator of the Backpack API and webhooks, and
/// webhook tools.
#[derive(Debug, Parser)]
#[command(name = "backpack", version, after_help = MAIN_EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Backpack API emulator (SQLite state, tokens, webhooks with retries).
    #[command(after_help = EMULATOR_EXAMPLES)]
    Emulator(EmulatorArgs),
    /// Sign, send and receive webhooks.
    #[command(after_help = WEBHOOK_EXAMPLES)]
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
}

#[derive(Debug, Subcommand)]
enum WebhookCommand {
    /// Print the Authorization header value for a body.
    #[command(after_help = SIGN_EXAMPLES)]
    Sign(SignArgs),
    /// Send a documented sample (or your body) of a webhook type, signed.
    #[command(after_help = send_help())]
    Send(SendArgs),
    /// Receive webhooks and print one JSON line per delivery.
    #[command(after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Emulator(args) => emulator_cmd::run(args).await,
        Command::Webhook { command } => match command {
            WebhookCommand::Sign(args) => webhook_cmd::sign::run(&args),
            WebhookCommand::Send(args) => webhook_cmd::send::run(&args).await,
            WebhookCommand::Listen(args) => webhook_cmd::listen::run(&args).await,
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent_and_every_command_has_examples() {
        Cli::command().debug_assert();
        let mut root = Cli::command();
        root.build();
        let mut stack = vec![root];
        while let Some(cmd) = stack.pop() {
            assert!(
                cmd.get_after_help().is_some(),
                "`{}` has no examples",
                cmd.get_name()
            );
            stack.extend(
                cmd.get_subcommands()
                    .filter(|c| c.get_name() != "help")
                    .cloned(),
            );
        }
    }
}
