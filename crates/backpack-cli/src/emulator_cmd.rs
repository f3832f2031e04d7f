//! `backpack emulator`: runs [`backpack_emulator`] on the system clock until Ctrl-C / SIGTERM;
//! `backpack emulator trigger TYPE` asks a running emulator to send a webhook.

use std::path::PathBuf;
use std::time::Duration;

use backpack_emulator::{Emulator, Error as EmulatorError, ResendSchedule, WebhookKind};
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::error::{CliError, one_line};
use crate::net;
use crate::webhook_cmd::read_input;

/// Environment variable for `--webhook-secret`.
pub const WEBHOOK_SECRET_ENV: &str = "BACKPACK_WEBHOOK_SECRET";

/// `backpack emulator` arguments.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EmulatorArgs {
    /// Talk to a running emulator instead of starting one.
    #[command(subcommand)]
    pub command: Option<EmulatorCommand>,
    /// Address to listen on (HOST:PORT; port 0 picks a free one, printed as `listening on ADDR`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// SQLite database file (created if missing; WAL mode; survives restarts and SIGKILL).
    #[arg(long, value_name = "PATH", required = true)]
    pub db: Option<PathBuf>,
    /// The X-HOST-ID that Game and Items calls must send. Without it any well-formed UUID is
    /// accepted.
    #[arg(
        long,
        value_name = "UUID",
        env = "BACKPACK_HOST_ID",
        hide_env_values = true
    )]
    pub host_id: Option<String>,
    /// OAuth client ID accepted by POST /api/oauth2/token.
    #[arg(long, value_name = "ID", default_value = backpack_emulator::DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Its client secret.
    #[arg(
        long,
        value_name = "SECRET",
        env = "BACKPACK_CLIENT_SECRET",
        hide_env_values = true,
        default_value = backpack_emulator::DEFAULT_CLIENT_SECRET
    )]
    pub client_secret: String,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub token_ttl: u64,
    /// Your webhook URL: moves to the game send user_validation and order_paid here.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The project secret key used to sign webhooks (required with --webhook-url).
    #[arg(long, value_name = "SECRET", env = WEBHOOK_SECRET_ENV, hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Divide every retry delay by F (6000 turns 5 minutes into 50 ms).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Send the deprecated Backpack `move_to_game` webhook instead of `order_paid`.
    #[arg(long)]
    pub legacy_move_webhook: bool,
    /// Timeout for one webhook request, in seconds (an answer that does not come in time
    /// counts as no answer).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub webhook_timeout: f64,
}

/// Commands against a running emulator.
#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Make a running emulator send a webhook of any type (signed, through its outbox, on the
    /// type's retry schedule).
    #[command(after_help = trigger_help())]
    Trigger(TriggerArgs),
}

const TRIGGER_EXAMPLES: &str = "\
Examples:
  backpack emulator trigger order_paid --emulator http://127.0.0.1:8080
  backpack emulator trigger payment --body my-payment.json
  backpack emulator trigger order_paid --example php-sdk-fixture

Prints the queued delivery as one JSON line: {\"id\",\"type\",\"policy\",\"max_attempts\"}.";

/// The `trigger` help: the examples, then each retry schedule with the types that follow it
/// (from the webhook catalogue and the emulator's `ResendSchedule::of`).
fn trigger_help() -> String {
    let schedules = [
        (
            ResendSchedule::Order,
            "20 attempts (2 x 5 min, 7 x 15 min, 10 x 60 min)",
        ),
        (
            ResendSchedule::Payment,
            "12 attempts (1, 2, 4, 8, 15, 30, 60, 60, 120, 120, 120 min; an emulator choice)",
        ),
        (ResendSchedule::Once, "one attempt"),
    ];
    let lines: Vec<String> = schedules
        .iter()
        .map(|(policy, text)| {
            let kinds: Vec<&str> = WebhookKind::ALL
                .iter()
                .filter(|kind| ResendSchedule::of(**kind) == *policy)
                .map(|kind| kind.name())
                .collect();
            format!("  {}: {text}.", kinds.join(", "))
        })
        .collect();
    format!(
        "{TRIGGER_EXAMPLES}\n\nRetry schedules:\n{}",
        lines.join("\n")
    )
}

/// `backpack emulator trigger` arguments.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// Webhook type (see `backpack webhook send --help` for the list).
    #[arg(value_name = "TYPE")]
    pub type_name: String,
    /// The running emulator's base URL.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub emulator: String,
    /// Send this file's bytes (`-` for standard input) instead of the documented sample.
    #[arg(long, value_name = "FILE", conflicts_with = "example")]
    pub body: Option<PathBuf>,
    /// Send the documented example with this name.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
}

fn seconds(value: f64, flag: &str) -> Result<Duration, CliError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| CliError::InvalidArgument(format!("{flag} must be a positive number")))
}

fn builder(
    args: &EmulatorArgs,
    db: &PathBuf,
) -> Result<backpack_emulator::EmulatorBuilder, CliError> {
    let mut builder = Emulator::builder()
        .database_file(db)
        .client_credentials(args.client_id.clone(), args.client_secret.clone())
        .legacy_move_webhook(args.legacy_move_webhook)
        .webhook_timeout(seconds(args.webhook_timeout, "--webhook-timeout")?);
    if let Some(raw) = &args.host_id {
        let host_id = Uuid::try_parse(raw.trim())
            .map_err(|_| CliError::InvalidArgument("--host-id must be a UUID".to_owned()))?;
        builder = builder.host_id(host_id);
    }
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err(CliError::InvalidArgument(
            "--time-scale must be a positive number".to_owned(),
        ));
    }
    builder = builder.system_clock(args.time_scale);
    if args.token_ttl == 0 {
        return Err(CliError::InvalidArgument(
            "--token-ttl must be at least 1 second".to_owned(),
        ));
    }
    builder = builder.token_ttl(Duration::from_secs(args.token_ttl));
    if args.client_id.is_empty() || args.client_secret.is_empty() {
        return Err(CliError::InvalidArgument(
            "--client-id and --client-secret must not be empty".to_owned(),
        ));
    }
    if let Some(url) = &args.webhook_url {
        let usable = reqwest::Url::parse(url)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !usable {
            return Err(CliError::InvalidArgument(format!(
                "--webhook-url `{url}` is not an http(s) URL"
            )));
        }
        let secret = args
            .webhook_secret
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or(CliError::MissingSecret {
                what: "webhook secret for --webhook-url",
                flag: "--webhook-secret",
                env: WEBHOOK_SECRET_ENV,
            })?;
        builder = builder.webhook(url.clone(), secret);
    }
    Ok(builder)
}

fn emulator_error(db: &std::path::Path, error: EmulatorError) -> CliError {
    match error {
        EmulatorError::Database { source, .. } => CliError::Database {
            path: db.to_path_buf(),
            reason: one_line(&source),
        },
        EmulatorError::Config(message) if message.contains("order_base") => CliError::Database {
            path: db.to_path_buf(),
            reason: "corrupt metadata (order_base)".to_owned(),
        },
        EmulatorError::Config(message) => CliError::InvalidArgument(message),
        other => CliError::Server(one_line(&other)),
    }
}

/// Runs `backpack emulator` (or its subcommand).
pub async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    if let Some(EmulatorCommand::Trigger(trigger)) = &args.command {
        return run_trigger(trigger).await;
    }
    let db = args
        .db
        .clone()
        .ok_or_else(|| CliError::InvalidArgument("--db is required".to_owned()))?;
    let builder = builder(&args, &db)?;
    let listener = net::bind(&args.listen).await?;
    let emulator = builder
        .listener(listener)
        .start()
        .await
        .map_err(|e| emulator_error(&db, e))?;
    net::announce_addr(emulator.addr());
    if args.host_id.is_none() {
        tracing::warn!("no --host-id: any well-formed X-HOST-ID is accepted");
    }
    emulator
        .run_until(net::shutdown_signal())
        .await
        .map_err(|e| emulator_error(&db, e))
}

async fn run_trigger(args: &TriggerArgs) -> Result<(), CliError> {
    let base = args.emulator.trim_end_matches('/');
    let mut url = reqwest::Url::parse(&format!("{base}/emulator/webhooks/"))
        .map_err(|_| CliError::InvalidArgument(format!("--emulator `{base}` is not a URL")))?;
    url.path_segments_mut()
        .map_err(|()| CliError::InvalidArgument(format!("--emulator `{base}` is not a URL")))?
        .pop_if_empty()
        .push(&args.type_name);
    if let Some(example) = &args.example {
        url.query_pairs_mut().append_pair("example", example);
    }
    let body = match &args.body {
        Some(path) => read_input(Some(path))?,
        None => Vec::new(),
    };
    let target = url.to_string();
    let response = reqwest::Client::new()
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| CliError::Http {
            url: target.clone(),
            reason: one_line(&e),
        })?;
    let status = response.status();
    let text = response.text().await.map_err(|e| CliError::Http {
        url: target,
        reason: one_line(&e),
    })?;
    if status.is_success() {
        println!("{}", text.trim());
        Ok(())
    } else {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("the emulator answered {status}"));
        Err(CliError::InvalidArgument(message))
    }
}
