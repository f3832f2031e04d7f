//! The flow every create call shares: check the batch, turn request items into rows, fill their
//! game fields from the project's game, and store them in one transaction.

use backpack_server::ServerError;
use backpack_types::api::CreatedItem;
use uuid::Uuid;

use super::rows::{GameFields, Requested, created};
use super::validate::check_batch;
use super::{ApiBackend, storage};
use crate::db::{self as state, ItemRow};

/// Why a create call failed.
pub(super) enum CreateError {
    /// The request is refused (`400`) with this message.
    Bad(String),
    /// Storage failed (`500`).
    Storage(ServerError),
}

impl ApiBackend {
    /// Fills missing game fields from the project's game with that external ID.
    async fn game_fields(
        &self,
        merchant_id: u32,
        project_id: u32,
        sent: GameFields,
    ) -> Result<GameFields, state::DbError> {
        let game = match (
            &sent.external_game_id,
            &sent.game_name,
            &sent.game_image_url,
        ) {
            (Some(ext), None, _) | (Some(ext), _, None) => {
                state::game_by_external_id(
                    &mut *self.db.reader().await?,
                    merchant_id,
                    project_id,
                    ext,
                )
                .await?
            }
            _ => None,
        };
        Ok(GameFields {
            game_name: sent
                .game_name
                .or_else(|| game.as_ref().and_then(|g| g.game_name.clone())),
            game_image_url: sent
                .game_image_url
                .or_else(|| game.as_ref().and_then(|g| g.game_image_url.clone())),
            external_game_id: sent.external_game_id,
        })
    }

    async fn store_items(&self, items: Vec<ItemRow>) -> Result<Vec<CreatedItem>, CreateError> {
        let answer: Vec<CreatedItem> = items.iter().map(created).collect();
        let count = items.len();
        let stored = async { state::insert_items(&mut *self.db.writer().await?, &items).await };
        stored.await.map_err(|e| CreateError::Storage(storage(e)))?;
        tracing::info!(count, "items granted");
        Ok(answer)
    }

    /// The shape every create call shares: check the batch size, turn each request item into a
    /// row (`from_request` validates it; `Err` is the `400` message), fill its game fields from
    /// the project's game, then store them all in one transaction.
    pub(super) async fn create_items<T>(
        &self,
        merchant_id: u32,
        project_id: u32,
        user_id: Uuid,
        item_type: &str,
        body: Vec<T>,
        from_request: fn(usize, T) -> Result<Requested, String>,
    ) -> Result<Vec<CreatedItem>, CreateError> {
        check_batch(body.len()).map_err(CreateError::Bad)?;
        let mut rows = Vec::with_capacity(body.len());
        for (i, new) in body.into_iter().enumerate() {
            let (requested, sent) = from_request(i, new).map_err(CreateError::Bad)?;
            let game = self
                .game_fields(merchant_id, project_id, sent)
                .await
                .map_err(|e| CreateError::Storage(storage(e)))?;
            rows.push(ItemRow {
                item_id: Uuid::new_v4().to_string(),
                merchant_id,
                project_id,
                user_id: user_id.to_string(),
                item_type: item_type.to_owned(),
                game_name: game.game_name,
                game_image_url: game.game_image_url,
                external_game_id: game.external_game_id,
                item_status: state::AVAILABLE.to_owned(),
                created_at: self.clock.rfc3339_now(),
                ..requested
            });
        }
        self.store_items(rows).await
    }
}
