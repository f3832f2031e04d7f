//! The 14 operations of [`BackpackApi`], each answering from the shared flows: [`super::create`]
//! for the four create calls, [`super::moves`] for the three moves, and [`crate::db`] reads and
//! writes for the rest.

use axum::http::StatusCode;
use backpack_server::{
    BackpackApi, CreateGameInput, CreateGameKeysInput, CreateGameKeysResponse, CreateGameResponse,
    CreatePromoCodesInput, CreatePromoCodesResponse, CreateVirtualCurrencyInput,
    CreateVirtualCurrencyResponse, CreateVirtualItemsInput, CreateVirtualItemsResponse,
    DeleteItemInput, DeleteItemResponse, GetGamesInput, GetGamesResponse, GetUserBackpackItemInput,
    GetUserBackpackItemResponse, GetUserBackpackItemsInput, GetUserBackpackItemsResponse,
    MoveUserVirtualCurrencyToGameInput, MoveUserVirtualCurrencyToGameResponse,
    MoveUserVirtualCurrencyToWalletInput, MoveUserVirtualCurrencyToWalletResponse,
    MoveUserVirtualItemToGameInput, MoveUserVirtualItemToGameResponse, RequestContext, ServerError,
    UpdateGameDetailsInput, UpdateGameDetailsResponse, UserBackpackItemsListInput,
    UserBackpackItemsListResponse,
};
use backpack_types::api::CreatedGame;
use uuid::Uuid;

use super::create::CreateError;
use super::moves::{MoveError, MoveRequest};
use super::rows::{
    backpack_item, game_key_row, promo_code_row, virtual_currency_row, virtual_item_row,
};
use super::{ApiBackend, api_error, storage};
use crate::db::{self as state, GameInsert, GameRow, Grouping};

/// A create operation of [`BackpackApi`]: [`ApiBackend::create_items`] with the operation's item
/// type and request-item check, answered `201`, `400` or (storage failure) `500`.
macro_rules! create_operation {
    ($name:ident, $input:ident, $response:ident, $item_type:literal, $from_request:ident) => {
        async fn $name(
            &self,
            _ctx: RequestContext,
            input: $input,
        ) -> Result<$response, ServerError> {
            let created = self
                .create_items(
                    input.merchant_id,
                    input.project_id,
                    input.user_id,
                    $item_type,
                    input.body,
                    $from_request,
                )
                .await;
            match created {
                Ok(items) => Ok($response::Success(StatusCode::CREATED, items)),
                Err(CreateError::Bad(message)) => Ok($response::BadRequest(api_error(message))),
                Err(CreateError::Storage(error)) => Err(error),
            }
        }
    };
}

/// A move operation of [`BackpackApi`]: [`ApiBackend::move_item`] with the [`MoveRequest`] that
/// `$request` builds from the body, answered `200`, `400`, `404`, `500` (the game's webhook
/// failed) or (storage failure) a [`ServerError`].
macro_rules! move_operation {
    ($name:ident, $input:ident, $response:ident, $request:path, $item_type:literal) => {
        async fn $name(
            &self,
            _ctx: RequestContext,
            input: $input,
        ) -> Result<$response, ServerError> {
            let moved = self
                .move_item(&input.bearer, $request(&input.body, $item_type))
                .await;
            match moved {
                Ok(()) => Ok($response::Ok),
                Err(MoveError::Bad(message)) => Ok($response::BadRequest(api_error(message))),
                Err(MoveError::NotFound(message)) => Ok($response::NotFound(api_error(message))),
                Err(MoveError::Internal(error)) => Ok($response::InternalServerError(error)),
                Err(MoveError::Storage(error)) => Err(error),
            }
        }
    };
}

impl BackpackApi for ApiBackend {
    async fn get_games(
        &self,
        _ctx: RequestContext,
        input: GetGamesInput,
    ) -> Result<GetGamesResponse, ServerError> {
        let (merchant_id, project_id) = (input.merchant_id, input.project_id);
        let games = state::list_games(&mut *self.reader().await?, merchant_id, project_id)
            .await
            .map_err(storage)?;
        let list: Vec<serde_json::Value> = games
            .into_iter()
            .map(|g: GameRow| {
                serde_json::json!({
                    "id": g.id,
                    "external_game_id": g.external_game_id,
                    "game_name": g.game_name,
                    "game_image_url": g.game_image_url,
                })
            })
            .collect();
        Ok(GetGamesResponse::Success(
            StatusCode::OK,
            backpack_types::api::GetGamesResponse::new(serde_json::Value::Array(list)),
        ))
    }

    async fn update_game_details(
        &self,
        _ctx: RequestContext,
        input: UpdateGameDetailsInput,
    ) -> Result<UpdateGameDetailsResponse, ServerError> {
        let (merchant_id, project_id, body) = (input.merchant_id, input.project_id, input.body);
        if body.external_game_id.trim().is_empty() {
            return Ok(UpdateGameDetailsResponse::UnprocessableEntity(api_error(
                "external_game_id is required",
            )));
        }
        let updated = state::update_game(
            &mut *self.writer().await?,
            merchant_id,
            project_id,
            &body.external_game_id,
            body.game_name.as_deref(),
            body.game_image_url.as_deref(),
        )
        .await
        .map_err(storage)?;
        Ok(if updated {
            UpdateGameDetailsResponse::NoContent
        } else {
            UpdateGameDetailsResponse::UnprocessableEntity(api_error(
                "no game with this external_game_id in the project",
            ))
        })
    }

    async fn create_game(
        &self,
        _ctx: RequestContext,
        input: CreateGameInput,
    ) -> Result<CreateGameResponse, ServerError> {
        let (merchant_id, project_id, body) = (input.merchant_id, input.project_id, input.body);
        if body.merchant_id.is_some_and(|m| m != merchant_id)
            || body.project_id.is_some_and(|p| p != project_id)
        {
            return Ok(CreateGameResponse::BadRequest(api_error(
                "merchant_id and project_id in the body must match the path",
            )));
        }
        let game = GameRow {
            id: Uuid::new_v4().to_string(),
            external_game_id: body.external_game_id,
            game_name: body.game_name,
            game_image_url: body.game_image_url,
        };
        let created_at = self.clock.rfc3339_now();
        let inserted = state::insert_game(
            &mut *self.writer().await?,
            merchant_id,
            project_id,
            &game,
            &created_at,
        )
        .await
        .map_err(storage)?;
        Ok(match inserted {
            GameInsert::Created(id) => {
                tracing::info!(merchant_id, project_id, "game created");
                CreateGameResponse::Created(CreatedGame::new(id))
            }
            GameInsert::Duplicate => CreateGameResponse::BadRequest(api_error(
                "a game with this external_game_id already exists in the project",
            )),
        })
    }

    create_operation!(
        create_game_keys,
        CreateGameKeysInput,
        CreateGameKeysResponse,
        "game_key",
        game_key_row
    );
    create_operation!(
        create_promo_codes,
        CreatePromoCodesInput,
        CreatePromoCodesResponse,
        "promo_code",
        promo_code_row
    );
    create_operation!(
        create_virtual_currency,
        CreateVirtualCurrencyInput,
        CreateVirtualCurrencyResponse,
        "virtual_currency",
        virtual_currency_row
    );
    create_operation!(
        create_virtual_items,
        CreateVirtualItemsInput,
        CreateVirtualItemsResponse,
        "virtual_item",
        virtual_item_row
    );

    async fn user_backpack_items_list(
        &self,
        _ctx: RequestContext,
        input: UserBackpackItemsListInput,
    ) -> Result<UserBackpackItemsListResponse, ServerError> {
        let (merchant_id, project_id) = (input.merchant_id, input.project_id);
        let user = input.user_id.to_string();
        let offset = input.offset.unwrap_or(0);
        let limit = input.limit;
        let items = state::list_project_items(
            &mut *self.reader().await?,
            merchant_id,
            project_id,
            &user,
            offset,
            limit,
        )
        .await
        .map_err(storage)?;
        Ok(UserBackpackItemsListResponse::Ok(
            items.into_iter().map(backpack_item).collect(),
        ))
    }

    async fn delete_item(
        &self,
        _ctx: RequestContext,
        input: DeleteItemInput,
    ) -> Result<DeleteItemResponse, ServerError> {
        let (merchant_id, project_id) = (input.merchant_id, input.project_id);
        let (user, item) = (input.user_id.to_string(), input.item_id.to_string());
        let deleted = state::delete_item(
            &mut *self.writer().await?,
            merchant_id,
            project_id,
            &user,
            &item,
        )
        .await
        .map_err(storage)?;
        Ok(if deleted {
            DeleteItemResponse::NoContent
        } else {
            DeleteItemResponse::NotFound(api_error("no such item in this user's Backpack"))
        })
    }

    async fn get_user_backpack_items(
        &self,
        _ctx: RequestContext,
        input: GetUserBackpackItemsInput,
    ) -> Result<GetUserBackpackItemsResponse, ServerError> {
        let user = match self.user_of(&input.bearer) {
            Ok(user) => user,
            Err(e) => return Ok(GetUserBackpackItemsResponse::BadRequest(e)),
        };
        let Some(grouping) = Grouping::parse(input.group.as_deref()) else {
            return Ok(GetUserBackpackItemsResponse::BadRequest(api_error(
                "group must be one of: game_name, external_game_id, item_type",
            )));
        };
        let types: Vec<String> = input
            .item_type
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        let (offset, limit) = (input.offset, input.limit);
        let items = state::list_user_items(
            &mut *self.reader().await?,
            &user,
            &types,
            grouping,
            offset,
            limit,
        )
        .await
        .map_err(storage)?;
        Ok(GetUserBackpackItemsResponse::Ok(
            items.into_iter().map(backpack_item).collect(),
        ))
    }

    async fn get_user_backpack_item(
        &self,
        _ctx: RequestContext,
        input: GetUserBackpackItemInput,
    ) -> Result<GetUserBackpackItemResponse, ServerError> {
        let user = match self.user_of(&input.bearer) {
            Ok(user) => user,
            Err(e) => return Ok(GetUserBackpackItemResponse::BadRequest(e)),
        };
        let item = input.item_id.to_string();
        let found = state::user_item(&mut *self.reader().await?, &user, &item)
            .await
            .map_err(storage)?;
        Ok(match found {
            Some(item) => GetUserBackpackItemResponse::Ok(backpack_item(item)),
            None => GetUserBackpackItemResponse::NotFound(api_error(
                "no such item in this user's Backpack",
            )),
        })
    }

    move_operation!(
        move_user_virtual_currency_to_game,
        MoveUserVirtualCurrencyToGameInput,
        MoveUserVirtualCurrencyToGameResponse,
        MoveRequest::to_game,
        "virtual_currency"
    );
    move_operation!(
        move_user_virtual_currency_to_wallet,
        MoveUserVirtualCurrencyToWalletInput,
        MoveUserVirtualCurrencyToWalletResponse,
        MoveRequest::to_wallet,
        "virtual_currency"
    );
    move_operation!(
        move_user_virtual_item_to_game,
        MoveUserVirtualItemToGameInput,
        MoveUserVirtualItemToGameResponse,
        MoveRequest::to_game,
        "virtual_item"
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use backpack_server::BearerToken;
    use tokio::sync::Notify;

    use super::*;
    use crate::auth::{Auth, AuthConfig};
    use crate::db::Db;
    use crate::schedule::{ResendSchedule, ScaledSchedule};
    use crate::time::EmulatorClock;

    fn backend(db: Arc<Db>) -> ApiBackend {
        let clock = EmulatorClock::manual();
        let auth = Arc::new(Auth::new(
            AuthConfig {
                signing_key: b"test-signing-key".to_vec(),
                client_id: "c".into(),
                client_secret: "s".into(),
                host_id: None,
                ttl_secs: 60,
            },
            Arc::clone(&db),
            clock.clone(),
        ));
        ApiBackend {
            db,
            auth,
            target: None,
            client: reqwest::Client::new(),
            legacy_move_webhook: false,
            schedule: ScaledSchedule::new(ResendSchedule::Order, 1.0),
            order_base: 0,
            wake: Arc::new(Notify::new()),
            clock,
        }
    }

    /// A storage failure is a `ServerError` (`500`, cause logged), not a documented `422` or a
    /// `2XX` variant carrying a 500.
    #[tokio::test]
    async fn storage_failures_are_server_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("e.sqlite")).await.unwrap();
        sqlx::raw_sql("DROP TABLE games")
            .execute(&mut *db.writer().await.unwrap())
            .await
            .unwrap();
        let backend = backend(db);
        let ctx = || {
            RequestContext::new(
                axum::http::Method::GET,
                axum::http::Uri::from_static("/web/backpack/merchants/1/projects/2/games"),
            )
        };
        let bearer = || BearerToken::new("t");
        let host = || backpack_server::XHostId::new("497f6eca-6276-4993-bfeb-53cbbbba6f08");
        let error = backend
            .get_games(ctx(), GetGamesInput::new(bearer(), host(), 1, 2))
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = backpack_types::api::UpdateGameRequest::new("g-1");
        let error = backend
            .update_game_details(
                ctx(),
                UpdateGameDetailsInput::new(bearer(), host(), 1, 2, body),
            )
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.public_message(), "internal server error");
    }
}
