//! `backpack emulator`: the 14 Backpack operations with real state in SQLite, a Login-style
//! token endpoint, and the move-to-game webhooks with a durable outbox.
//!
//! Routes:
//!
//! | route | what |
//! |---|---|
//! | the 14 spec operations | [`api::Emulator`] behind `backpack_server::router` and [`auth::enforce`] |
//! | `POST /api/oauth2/token` | Login-style token endpoint ([`auth::token_endpoint`]) |
//! | `GET /emulator/health` | `200 ok` (emulator-only) |
//! | `GET /emulator/outbox` | the webhook outbox as JSON (emulator-only) |

pub mod api;
pub mod auth;
pub mod outbox;
pub mod state;
pub mod time;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use backpack_webhooks::WebhookSecret;
use clap::Args;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::error::{CliError, one_line};
use crate::net;

use self::auth::{Auth, AuthConfig};
use self::state::Db;
use self::webhooks::{Schedule, Target};

/// Environment variable for `--webhook-secret`.
pub const WEBHOOK_SECRET_ENV: &str = "BACKPACK_WEBHOOK_SECRET";

/// `backpack emulator` arguments.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (HOST:PORT; port 0 picks a free one, printed as `listening on ADDR`).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// SQLite database file (created if missing; WAL mode; survives restarts and SIGKILL).
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
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
    #[arg(long, value_name = "ID", default_value = "backpack-emulator")]
    pub client_id: String,
    /// Its client secret.
    #[arg(
        long,
        value_name = "SECRET",
        env = "BACKPACK_CLIENT_SECRET",
        hide_env_values = true,
        default_value = "emulator-secret"
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

/// Checked settings.
struct Config {
    host_id: Option<Uuid>,
    target: Option<Target>,
    schedule: Schedule,
    webhook_timeout: Duration,
}

fn check(args: &EmulatorArgs) -> Result<Config, CliError> {
    let host_id = match &args.host_id {
        Some(raw) => Some(
            Uuid::try_parse(raw.trim())
                .map_err(|_| CliError::InvalidArgument("--host-id must be a UUID".to_owned()))?,
        ),
        None => None,
    };
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err(CliError::InvalidArgument(
            "--time-scale must be a positive number".to_owned(),
        ));
    }
    if args.token_ttl == 0 {
        return Err(CliError::InvalidArgument(
            "--token-ttl must be at least 1 second".to_owned(),
        ));
    }
    let webhook_timeout = Duration::try_from_secs_f64(args.webhook_timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            CliError::InvalidArgument("--webhook-timeout must be a positive number".to_owned())
        })?;
    if args.client_id.is_empty() || args.client_secret.is_empty() {
        return Err(CliError::InvalidArgument(
            "--client-id and --client-secret must not be empty".to_owned(),
        ));
    }
    let target = match &args.webhook_url {
        None => None,
        Some(url) => {
            let url = reqwest::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .ok_or_else(|| {
                    CliError::InvalidArgument(format!(
                        "--webhook-url `{url}` is not an http(s) URL"
                    ))
                })?;
            let secret = args
                .webhook_secret
                .as_deref()
                .and_then(|s| WebhookSecret::try_new(s).ok())
                .ok_or(CliError::MissingSecret {
                    what: "webhook secret for --webhook-url",
                    flag: "--webhook-secret",
                    env: WEBHOOK_SECRET_ENV,
                })?;
            Some(Target { url, secret })
        }
    };
    Ok(Config {
        host_id,
        target,
        schedule: Schedule::xsolla(args.time_scale),
        webhook_timeout,
    })
}

fn database_error(args: &EmulatorArgs, error: &dyn std::error::Error) -> CliError {
    CliError::Database {
        path: args.db.clone(),
        reason: one_line(error),
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn outbox_listing(State(db): State<Arc<Db>>) -> Response {
    match db.read(state::list_outbox).await {
        Ok(rows) => axum::Json(rows).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read the outbox");
            (http::StatusCode::INTERNAL_SERVER_ERROR, "database error").into_response()
        }
    }
}

/// Runs the emulator until Ctrl-C / SIGTERM.
pub async fn run(args: EmulatorArgs) -> Result<(), CliError> {
    let config = check(&args)?;
    let db = Db::open(&args.db).map_err(|e| database_error(&args, &e))?;
    let signing_key = db
        .meta_or_insert(
            "jwt_signing_key",
            || hex::encode(rand::random::<[u8; 32]>()),
        )
        .await
        .map_err(|e| database_error(&args, &e))?;
    let order_base: i64 = db
        .meta_or_insert("order_base", || {
            (rand::random_range(1_000u64..9_000) * 1_000_000).to_string()
        })
        .await
        .map_err(|e| database_error(&args, &e))?
        .parse()
        .map_err(|_| CliError::Database {
            path: args.db.clone(),
            reason: "corrupt metadata (order_base)".to_owned(),
        })?;
    let listener = net::bind(&args.listen).await?;

    let auth = Arc::new(Auth::new(
        AuthConfig {
            signing_key: signing_key.into_bytes(),
            client_id: args.client_id.clone(),
            client_secret: args.client_secret.clone(),
            host_id: config.host_id,
            ttl_secs: args.token_ttl,
        },
        Arc::clone(&db),
    ));
    let client = reqwest::Client::builder()
        .timeout(config.webhook_timeout)
        .user_agent(concat!("backpack-emulator/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CliError::Server(one_line(&e)))?;
    let wake = Arc::new(Notify::new());
    let emulator = api::Emulator {
        db: Arc::clone(&db),
        auth: Arc::clone(&auth),
        target: config.target.clone(),
        client: client.clone(),
        legacy_move_webhook: args.legacy_move_webhook,
        schedule: config.schedule.clone(),
        order_base,
        wake: Arc::clone(&wake),
    };

    let app = backpack_server::router(Arc::new(emulator))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&auth),
            auth::enforce,
        ))
        .merge(
            Router::new()
                .route("/api/oauth2/token", post(auth::token_endpoint))
                .with_state(Arc::clone(&auth)),
        )
        .merge(
            Router::new()
                .route("/emulator/health", get(health))
                .route("/emulator/outbox", get(outbox_listing))
                .with_state(Arc::clone(&db)),
        );

    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = match &config.target {
        Some(target) => {
            let outbox = outbox::Outbox::new(
                Arc::clone(&db),
                client,
                target.clone(),
                config.schedule.clone(),
                wake,
            );
            Some(tokio::spawn(outbox.run(stop_rx)))
        }
        None => None,
    };

    let addr = net::announce(&listener)?;
    tracing::info!(
        %addr,
        db = %args.db.display(),
        host_id_checked = config.host_id.is_some(),
        webhooks = config.target.as_ref().map_or("off", |_| "on"),
        webhook_url = %config.target.as_ref().map_or(String::new(), Target::url_for_logs),
        time_scale = args.time_scale,
        token_ttl = args.token_ttl,
        legacy_move_webhook = args.legacy_move_webhook,
        "Backpack emulator ready"
    );
    if config.host_id.is_none() {
        tracing::warn!("no --host-id: any well-formed X-HOST-ID is accepted");
    }
    if config.target.is_none() {
        match db.read(state::pending_count).await {
            Ok(0) | Err(_) => {}
            Ok(pending) => tracing::warn!(
                pending,
                "webhook deliveries are waiting in the outbox; start with --webhook-url to send them"
            ),
        }
    }

    let served = axum::serve(listener, app)
        .with_graceful_shutdown(net::shutdown_signal())
        .await;
    let _ = stop_tx.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    served.map_err(|e| CliError::Server(one_line(&e)))
}
