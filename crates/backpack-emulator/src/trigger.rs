//! `trigger`: put any webhook type in the outbox (a documented sample, or a caller's body), to
//! be sent signed on that type's retry schedule; and its emulator-only HTTP route
//! `POST /emulator/webhooks/{type}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use backpack_types::WebhookKind;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::db::Db;
use crate::error::Error;
use crate::outbox::store::{self, NewDelivery};
use crate::samples;
use crate::schedule::{ResendSchedule, ScaledSchedule};
use crate::time::EmulatorClock;

/// What a trigger queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triggered {
    /// The outbox row (see [`crate::Emulator::outbox`]).
    pub id: i64,
    /// The type's name (`order_paid`, `backpack.move_to_game`, …).
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its re-send schedule ([`ResendSchedule::as_str`]: `order`, `payment`, `once`).
    pub policy: String,
    /// Attempts at most.
    pub max_attempts: u32,
}

/// What a trigger sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerBody {
    /// The type's first documented sample.
    Sample,
    /// The documented sample with this example name.
    Example(String),
    /// These exact bytes.
    Raw(Vec<u8>),
}

/// Everything the trigger needs, shared by the library handle and the HTTP route.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// State.
    pub db: Arc<Db>,
    /// Time.
    pub clock: EmulatorClock,
    /// Wakes the outbox worker.
    pub wake: Arc<Notify>,
    /// Whether a webhook URL is configured.
    pub enabled: bool,
    /// Divides retry waits.
    pub time_scale: f64,
}

impl Trigger {
    /// Queues `kind` with `body`, due now.
    pub async fn send(&self, kind: WebhookKind, body: TriggerBody) -> Result<Triggered, Error> {
        if !self.enabled {
            return Err(Error::NoWebhookUrl);
        }
        let bytes = match body {
            TriggerBody::Sample => samples::sample(kind.name(), None)?.body,
            TriggerBody::Example(name) => samples::sample(kind.name(), Some(&name))?.body,
            TriggerBody::Raw(bytes) => bytes,
        };
        let schedule = ResendSchedule::of(kind);
        let max_attempts = ScaledSchedule::new(schedule, self.time_scale).max_attempts();
        let now = self.clock.now_millis();
        let delivery = NewDelivery {
            notification_type: kind.notification_type().to_owned(),
            body: bytes,
            max_attempts,
            first_attempt_at: now,
            schedule,
        };
        let queued = async { store::enqueue(&mut *self.db.writer().await?, &delivery, now).await };
        let id = queued
            .await
            .map_err(|source| Error::Database { path: None, source })?;
        tracing::info!(delivery = id, notification_type = %kind, "webhook triggered");
        self.wake.notify_one();
        Ok(Triggered {
            id,
            type_name: kind.name().to_owned(),
            policy: schedule.as_str().to_owned(),
            max_attempts,
        })
    }
}

/// `?example=NAME`.
#[derive(Debug, Deserialize)]
pub struct TriggerQuery {
    example: Option<String>,
}

fn refusal(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// `POST /emulator/webhooks/{type}`: an empty body sends the documented sample (or
/// `?example=NAME`); any other body is sent as given. Answers `202` with [`Triggered`].
pub async fn route(
    State(trigger): State<Trigger>,
    Path(type_name): Path<String>,
    Query(query): Query<TriggerQuery>,
    body: Bytes,
) -> Response {
    let Ok(kind) = type_name.parse::<WebhookKind>() else {
        return refusal(
            StatusCode::NOT_FOUND,
            format!(
                "unknown webhook type `{type_name}`; known types: {}",
                samples::type_names().join(", ")
            ),
        );
    };
    let body = match (body.is_empty(), query.example) {
        (false, _) => TriggerBody::Raw(body.to_vec()),
        (true, Some(example)) => TriggerBody::Example(example),
        (true, None) => TriggerBody::Sample,
    };
    match trigger.send(kind, body).await {
        Ok(triggered) => (StatusCode::ACCEPTED, axum::Json(triggered)).into_response(),
        Err(e @ Error::NoWebhookUrl) => refusal(StatusCode::CONFLICT, e.to_string()),
        Err(e @ Error::Sample(_)) => refusal(StatusCode::NOT_FOUND, e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "could not queue a webhook");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "database error".to_owned(),
            )
        }
    }
}
