//! The 14 Backpack operations ([`BackpackApi`](backpack_server::BackpackApi)) over the SQLite
//! state.
//!
//! Credentials were checked by [`super::auth::enforce`] before a method runs, so merchant
//! methods only see live merchant tokens with the right `X-HOST-ID`, and user methods only live
//! user tokens (whose `sub` is the Backpack user). Every answer is one of the operation's
//! documented responses, except a storage failure: that is a [`ServerError`] (`500` with a
//! generic message; the cause is logged, not sent).
//!
//! Emulator choices where Xsolla's documents are silent (see also `docs/guide/emulator.md` and
//! `docs/guide/cli.md`):
//!
//! * create calls answer `201` with the created items; 1 to 100 items per call; SKUs must be
//!   lowercase Latin letters, digits, `.`, `-`, `_`;
//! * new items have `item_status` `available`; a move sets `moved_to_game` or
//!   `moved_to_wallet` (the item stays listed); moving an item that is not `available` is `400`;
//! * `user-backpack-items-list` returns everything when `limit` is absent (`limit=0` → none);
//! * `get-user-backpack-items` `group=` orders by `game_name`, `external_game_id` or
//!   `item_type` (other values are `400`);
//! * `get-games` answers `200` with `[{id, external_game_id, game_name, game_image_url}]`.
//!
//! Modules: `validate` (request checks), `rows` (request items to rows, rows to API views),
//! `create` (the create flow), `moves` (the move flow), `handlers` (the operations).

mod create;
mod handlers;
mod moves;
mod rows;
mod validate;

use std::sync::Arc;

use backpack_server::{BearerToken, ServerError};
use backpack_types::api::ApiError;
use tokio::sync::Notify;
use uuid::Uuid;

pub use self::rows::backpack_item;
use crate::auth::Auth;
use crate::db::{self as state, Conn, Db};
use crate::schedule::ScaledSchedule;
use crate::time::EmulatorClock;
use crate::webhooks::Target;

/// The emulator's implementation of [`BackpackApi`](backpack_server::BackpackApi): the state
/// and settings its operations share (served by [`crate::Emulator`]).
pub struct ApiBackend {
    /// State.
    pub db: Arc<Db>,
    /// Tokens.
    pub auth: Arc<Auth>,
    /// Where webhooks go, if configured.
    pub target: Option<Target>,
    /// HTTP client for webhooks.
    pub client: reqwest::Client,
    /// Send the deprecated `move_to_game` instead of `order_paid`.
    pub legacy_move_webhook: bool,
    /// The re-send schedule of move notifications (for the attempt limit).
    pub schedule: ScaledSchedule,
    /// Added to move numbers to make order IDs unique per database.
    pub order_base: i64,
    /// Wakes the outbox worker.
    pub wake: Arc<Notify>,
    /// The emulator's time.
    pub clock: EmulatorClock,
}

impl std::fmt::Debug for ApiBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiBackend")
            .field("target", &self.target)
            .field("legacy_move_webhook", &self.legacy_move_webhook)
            .finish_non_exhaustive()
    }
}

/// An API error body with a fresh `message_id` (logged with the message at `debug`).
fn api_error(message: impl Into<String>) -> ApiError {
    let message = message.into();
    let message_id = Uuid::new_v4().to_string();
    tracing::debug!(%message_id, %message, "answering with an API error");
    ApiError::new(message).with_message_id(message_id)
}

/// A storage failure: answered `500` by the router, which logs the cause.
fn storage(error: state::DbError) -> ServerError {
    ServerError::new(error)
}

impl ApiBackend {
    /// A connection for reading; a storage failure is a [`ServerError`].
    async fn reader(&self) -> Result<Conn, ServerError> {
        self.db.reader().await.map_err(storage)
    }

    /// The writer connection; a storage failure is a [`ServerError`].
    async fn writer(&self) -> Result<Conn, ServerError> {
        self.db.writer().await.map_err(storage)
    }

    /// The Backpack user the bearer's (already checked) token names.
    fn user_of(&self, bearer: &BearerToken) -> Result<String, ApiError> {
        self.auth
            .claims(bearer.expose_secret())
            .map(|claims| claims.sub)
            .map_err(|e| api_error(e.to_string()))
    }
}
