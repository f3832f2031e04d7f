//! The move workflow, one flow for the three move operations: find the user's item and check it
//! can move; for a move to the game, ask the game about the player (`user_validation`, sent
//! once); then mark the item moved, record the move and queue the game's delivery notification
//! in one transaction.

use backpack_server::{BearerToken, ServerError};
use backpack_types::api::{ApiError, MoveToGameRequest, MoveToWalletRequest};

use super::{ApiBackend, api_error, storage};
use crate::db::{self as state, ItemRow, MoveOutcome, MoveTarget, NewDelivery};
use crate::schedule::ResendSchedule;
use crate::webhooks::{self, Answer};

/// Why a move failed.
pub(super) enum MoveError {
    /// `400` with this message.
    Bad(String),
    /// `404` with this message.
    NotFound(String),
    /// The game's webhook failed: the documented `500`, with a message saying so.
    Internal(ApiError),
    /// Storage failed (`500`, cause logged).
    Storage(ServerError),
}

/// Where a move sends the item.
#[derive(Clone, Copy)]
enum Destination<'a> {
    /// Into the game, to this player.
    Game { user_game_id: &'a str },
    /// Into Xsolla Wallet (no webhook).
    Wallet,
}

/// What a move request names.
pub(super) struct MoveRequest<'a> {
    merchant_id: u32,
    project_id: u32,
    item_id: &'a str,
    /// The item type the operation moves.
    item_type: &'static str,
    destination: Destination<'a>,
}

impl<'a> MoveRequest<'a> {
    /// A move of an item of `item_type` to the game.
    pub(super) fn to_game(body: &'a MoveToGameRequest, item_type: &'static str) -> Self {
        Self {
            merchant_id: body.merchant_id,
            project_id: body.project_id,
            item_id: &body.item_id,
            item_type,
            destination: Destination::Game {
                user_game_id: &body.user_game_id,
            },
        }
    }

    /// A move of an item of `item_type` to Xsolla Wallet.
    pub(super) fn to_wallet(body: &'a MoveToWalletRequest, item_type: &'static str) -> Self {
        Self {
            merchant_id: body.merchant_id,
            project_id: body.project_id,
            item_id: &body.item_id,
            item_type,
            destination: Destination::Wallet,
        }
    }
}

impl ApiBackend {
    /// Moves the bearer's item as `request` says (the move flow above).
    pub(super) async fn move_item(
        &self,
        bearer: &BearerToken,
        request: MoveRequest<'_>,
    ) -> Result<(), MoveError> {
        let user_id = self
            .user_of(bearer)
            .map_err(|e| MoveError::Bad(e.message))?;
        let (target, user_game_id) = match request.destination {
            Destination::Game { user_game_id } => (MoveTarget::Game, Some(user_game_id)),
            Destination::Wallet => (MoveTarget::Wallet, None),
        };
        if user_game_id.is_some_and(|id| id.trim().is_empty()) {
            return Err(MoveError::Bad("user_game_id is required".into()));
        }
        let item = self.movable_item(user_id, &request).await?;
        if let Some(user_game_id) = user_game_id {
            self.validate_player(&item, user_game_id).await?;
        }
        let committed = async {
            let mut writer = self.db.writer().await?;
            // The time is read with the writer in hand, so moves are stamped in commit order.
            let now = self.clock.now_millis();
            state::commit_move(
                &mut writer,
                &item,
                user_game_id,
                target,
                &self.clock.rfc3339_now(),
                now,
                |move_id| {
                    user_game_id.and_then(|player| self.notification(&item, player, move_id, now))
                },
            )
            .await
        };
        let outcome = committed
            .await
            .map_err(|e| MoveError::Storage(storage(e)))?;
        match outcome {
            MoveOutcome::Moved { delivery_id, .. } => {
                tracing::info!(
                    item_id = %item.item_id,
                    ?delivery_id,
                    status = target.status(),
                    "item moved"
                );
                if delivery_id.is_some() {
                    self.wake.notify_one();
                }
                Ok(())
            }
            MoveOutcome::NotAvailable => Err(MoveError::Bad(
                "the item cannot be moved: it was moved or deleted meanwhile".into(),
            )),
        }
    }

    /// Finds the user's item for a move and checks it can move.
    async fn movable_item(
        &self,
        user_id: String,
        request: &MoveRequest<'_>,
    ) -> Result<ItemRow, MoveError> {
        let found = async {
            state::user_item(&mut *self.db.reader().await?, &user_id, request.item_id).await
        };
        let item = found
            .await
            .map_err(|e| MoveError::Storage(storage(e)))?
            .filter(|item| {
                item.merchant_id == request.merchant_id && item.project_id == request.project_id
            })
            .ok_or_else(|| {
                MoveError::NotFound(
                    "no such item in this user's Backpack for that merchant and project".into(),
                )
            })?;
        if item.item_type != request.item_type {
            return Err(MoveError::Bad(format!(
                "the item is a {}, not a {}",
                item.item_type, request.item_type
            )));
        }
        if item.item_status != state::AVAILABLE {
            return Err(MoveError::Bad(format!(
                "the item cannot be moved: its status is {}",
                item.item_status
            )));
        }
        Ok(item)
    }

    /// `user_validation`, sent once: the move goes on only if the game knows the player. Without
    /// a webhook URL there is no game to ask, and the move goes on.
    async fn validate_player(&self, item: &ItemRow, user_game_id: &str) -> Result<(), MoveError> {
        let Some(target) = &self.target else {
            tracing::warn!("no --webhook-url: the move is recorded but no webhook is sent");
            return Ok(());
        };
        let body = webhooks::user_validation(item.merchant_id, item.project_id, user_game_id);
        let answer = webhooks::post_signed(&self.client, target, body).await;
        tracing::info!(
            answer = ?answer,
            item_id = %item.item_id,
            "user_validation webhook answered"
        );
        match answer {
            Answer::Status(200 | 201 | 204) => Ok(()),
            Answer::Status(404) => Err(MoveError::NotFound(
                "the game did not find the player (user_validation answered 404)".into(),
            )),
            Answer::Status(status) if status >= 500 => Err(MoveError::Internal(api_error(
                format!("the game's webhook failed (user_validation answered {status})"),
            ))),
            Answer::Status(status) => Err(MoveError::Bad(format!(
                "the game refused the player (user_validation answered {status})"
            ))),
            Answer::NoAnswer(reason) => Err(MoveError::Internal(api_error(format!(
                "the game's webhook did not answer user_validation ({reason})"
            )))),
        }
    }

    /// The game's notification of move number `move_id` (`order_paid`, or the deprecated
    /// `move_to_game`), due `now`; `None` without a webhook URL.
    fn notification(
        &self,
        item: &ItemRow,
        user_game_id: &str,
        move_id: i64,
        now: i64,
    ) -> Option<NewDelivery> {
        self.target.as_ref()?;
        let (notification_type, body) = if self.legacy_move_webhook {
            ("move_to_game", webhooks::move_to_game(item, user_game_id))
        } else {
            let order_id = self.order_base.saturating_add(move_id);
            (
                "order_paid",
                webhooks::order_paid(item, user_game_id, order_id),
            )
        };
        Some(NewDelivery {
            notification_type: notification_type.to_owned(),
            body,
            max_attempts: self.schedule.max_attempts(),
            first_attempt_at: now,
            schedule: ResendSchedule::Order,
        })
    }
}
