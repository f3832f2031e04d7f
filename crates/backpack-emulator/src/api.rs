//! The 14 Backpack operations ([`BackpackApi`]) over the SQLite state.
//!
//! Credentials were checked by [`super::auth::enforce`] before a method runs, so merchant
//! methods only see live merchant tokens with the right `X-HOST-ID`, and user methods only live
//! user tokens (whose `sub` is the Backpack user). Every answer is one of the operation's
//! documented responses, except a storage failure: that is a [`ServerError`] (`500` with a
//! generic message; the cause is logged, not sent).
//!
//! Emulator choices where Xsolla's documents are silent (see also the crate README):
//!
//! * create calls answer `201` with the created items; 1 to 100 items per call; SKUs must be
//!   lowercase Latin letters, digits, `.`, `-`, `_`;
//! * new items have `item_status` `available`; a move sets `moved_to_game` or
//!   `moved_to_wallet` (the item stays listed); moving an item that is not `available` is `400`;
//! * `user-backpack-items-list` returns everything when `limit` is absent (`limit=0` → none);
//! * `get-user-backpack-items` `group=` orders by `game_name`, `external_game_id` or
//!   `item_type` (other values are `400`);
//! * `get-games` answers `200` with `[{id, external_game_id, game_name, game_image_url}]`.

use std::sync::Arc;

use axum::http::StatusCode;
use backpack_server::{
    BackpackApi, BearerToken, CreateGameInput, CreateGameKeysInput, CreateGameKeysResponse,
    CreateGameResponse, CreatePromoCodesInput, CreatePromoCodesResponse,
    CreateVirtualCurrencyInput, CreateVirtualCurrencyResponse, CreateVirtualItemsInput,
    CreateVirtualItemsResponse, DeleteItemInput, DeleteItemResponse, GetGamesInput,
    GetGamesResponse, GetUserBackpackItemInput, GetUserBackpackItemResponse,
    GetUserBackpackItemsInput, GetUserBackpackItemsResponse, MoveUserVirtualCurrencyToGameInput,
    MoveUserVirtualCurrencyToGameResponse, MoveUserVirtualCurrencyToWalletInput,
    MoveUserVirtualCurrencyToWalletResponse, MoveUserVirtualItemToGameInput,
    MoveUserVirtualItemToGameResponse, RequestContext, ServerError, UpdateGameDetailsInput,
    UpdateGameDetailsResponse, UserBackpackItemsListInput, UserBackpackItemsListResponse,
};
use backpack_types::api::{
    ApiError, BackpackItem, CreatedGame, CreatedItem, MoveToGameRequest, NewGameKey, NewPromoCode,
    NewVirtualCurrency, NewVirtualItem,
};
use tokio::sync::Notify;
use uuid::Uuid;

use super::auth::Auth;
use super::db::{
    self as state, Conn, Db, GameInsert, GameRow, Grouping, ItemRow, MoveOutcome, MoveTarget,
};
use super::schedule::{RetryPolicy, Schedule};
use super::time::Clock;
use super::webhooks::{self, Answer, Target};

/// Items per create call.
const MAX_BATCH: usize = 100;

/// The emulator's [`BackpackApi`].
pub struct Emulator {
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
    /// Retry schedule (for the attempt limit).
    pub schedule: Schedule,
    /// Added to move numbers to make order IDs unique per database.
    pub order_base: i64,
    /// Wakes the outbox worker.
    pub wake: Arc<Notify>,
    /// The emulator's time.
    pub clock: Clock,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
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

fn is_valid_sku(sku: &str) -> bool {
    !sku.is_empty()
        && sku
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn required<'a>(value: Option<&'a str>, field: &str, index: usize) -> Result<&'a str, String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(format!("[{index}].{field} is required")),
    }
}

fn check_sku(sku: &str, index: usize) -> Result<(), String> {
    if is_valid_sku(sku) {
        Ok(())
    } else {
        Err(format!(
            "[{index}].item_sku may contain only lowercase Latin letters, digits, '.', '-' and '_'"
        ))
    }
}

fn check_batch(len: usize) -> Result<(), String> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(format!("send between 1 and {MAX_BATCH} items (got {len})"))
    }
}

/// What a create call stores from one request item, and the game fields it sent.
type Requested = (ItemRow, GameFields);

/// The SKU, name and image every catalogue item sends, checked, as a row.
fn listed_item(i: usize, sku: String, name: String, image: String) -> Result<ItemRow, String> {
    check_sku(&sku, i)?;
    required(Some(&name), "item_name", i)?;
    required(Some(&image), "image_url", i)?;
    Ok(ItemRow {
        item_sku: sku,
        item_name: name,
        image_url: image,
        ..ItemRow::default()
    })
}

/// A `virtual_item` request item.
fn virtual_item_row(i: usize, new: NewVirtualItem) -> Result<Requested, String> {
    let listed = listed_item(i, new.item_sku, new.item_name, new.image_url)?;
    let game = GameFields {
        external_game_id: new.external_game_id,
        game_name: new.game_name,
        game_image_url: new.game_image_url,
    };
    let row = ItemRow {
        description: new.description,
        platform: new.platform,
        ..listed
    };
    Ok((row, game))
}

/// A `virtual_currency` request item.
fn virtual_currency_row(i: usize, new: NewVirtualCurrency) -> Result<Requested, String> {
    let listed = listed_item(i, new.item_sku, new.item_name, new.image_url)?;
    required(Some(&new.currency), "currency", i)?;
    if !new.price.is_finite() || new.price < 0.0 {
        return Err(format!("[{i}].price must be a number of at least 0"));
    }
    if new.quantity == 0 {
        return Err(format!("[{i}].quantity must be at least 1"));
    }
    let game = GameFields {
        external_game_id: new.external_game_id,
        game_name: new.game_name,
        game_image_url: new.game_image_url,
    };
    let row = ItemRow {
        price: Some(new.price),
        currency: Some(new.currency),
        quantity: Some(i64::from(new.quantity)),
        is_external_vc: Some(false),
        description: new.description,
        platform: new.platform,
        ..listed
    };
    Ok((row, game))
}

/// A `game_key` request item (it sends only its external game ID).
fn game_key_row(i: usize, new: NewGameKey) -> Result<Requested, String> {
    check_sku(&new.item_sku, i)?;
    required(Some(&new.image_url), "image_url", i)?;
    required(Some(&new.code), "code", i)?;
    let game = GameFields {
        external_game_id: new.external_game_id,
        game_name: None,
        game_image_url: None,
    };
    let row = ItemRow {
        // The captured request has no item name; the SKU stands in for it.
        item_name: new.item_sku.clone(),
        item_sku: new.item_sku,
        image_url: new.image_url,
        description: new.description,
        code: Some(new.code),
        ..ItemRow::default()
    };
    Ok((row, game))
}

/// A `promo_code` request item (its SKU, name and image are optional in the schema).
fn promo_code_row(i: usize, new: NewPromoCode) -> Result<Requested, String> {
    let sku = required(new.item_sku.as_deref(), "item_sku", i)?;
    check_sku(sku, i)?;
    let name = required(new.item_name.as_deref(), "item_name", i)?;
    let image = required(new.image_url.as_deref(), "image_url", i)?;
    let code = required(new.promo_code.as_deref(), "promo_code", i)?;
    let row = ItemRow {
        item_sku: sku.to_owned(),
        item_name: name.to_owned(),
        image_url: image.to_owned(),
        promo_code: Some(code.to_owned()),
        description: new.description,
        ..ItemRow::default()
    };
    let game = GameFields {
        external_game_id: new.external_game_id,
        game_name: new.game_name,
        game_image_url: new.game_image_url,
    };
    Ok((row, game))
}

fn created(item: &ItemRow) -> CreatedItem {
    let mut created = CreatedItem::new()
        .with_item_id(item.item_id.clone())
        .with_image_url(item.image_url.clone())
        .with_item_sku(item.item_sku.clone())
        .with_item_type(item.item_type.clone())
        .with_created_at(item.created_at.clone())
        .with_item_status(item.item_status.clone())
        .with_item_name(item.item_name.clone())
        .with_project_id(i64::from(item.project_id))
        .with_merchant_id(i64::from(item.merchant_id));
    created.description = item.description.clone();
    created.game_name = item.game_name.clone();
    created.external_game_id = item.external_game_id.clone();
    created.platform = item.platform.clone();
    created.is_external_vc = item.is_external_vc;
    created
}

/// The API view of a stored item.
pub fn backpack_item(item: ItemRow) -> BackpackItem {
    let mut view = BackpackItem::new(
        item.item_id,
        item.item_sku,
        item.item_name,
        item.image_url,
        i64::from(item.project_id),
        i64::from(item.merchant_id),
    )
    .with_item_type(item.item_type)
    .with_created_at(item.created_at)
    .with_item_status(item.item_status);
    view.description = item.description;
    view.price = item.price;
    view.currency = item.currency;
    view.promo_code = item.promo_code;
    view.code = item.code;
    view.game_name = item.game_name;
    view.external_game_id = item.external_game_id;
    view.quantity = item.quantity;
    view.is_external_vc = item.is_external_vc;
    view.platform = item.platform;
    view
}

/// Why a create call failed.
enum CreateError {
    Bad(String),
    Storage(ServerError),
}

/// Why a move failed.
enum MoveError {
    Bad(String),
    NotFound(String),
    /// The game's webhook failed: the documented `500`, with a message saying so.
    Internal(ApiError),
    Storage(ServerError),
}

/// The game fields an item inherits from its game when the request leaves them out.
struct GameFields {
    game_name: Option<String>,
    game_image_url: Option<String>,
    external_game_id: Option<String>,
}

impl Emulator {
    /// A connection for reading; a storage failure is a [`ServerError`].
    async fn reader(&self) -> Result<Conn, ServerError> {
        self.db.reader().await.map_err(storage)
    }

    /// The writer connection; a storage failure is a [`ServerError`].
    async fn writer(&self) -> Result<Conn, ServerError> {
        self.db.writer().await.map_err(storage)
    }

    fn user_of(&self, bearer: &BearerToken) -> Result<String, ApiError> {
        self.auth
            .claims(bearer.expose_secret())
            .map(|claims| claims.sub)
            .map_err(|e| api_error(e.to_string()))
    }

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
    async fn create_items<T>(
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

    /// Finds the user's item for a move and checks it can move.
    async fn movable_item(
        &self,
        user_id: String,
        merchant_id: u32,
        project_id: u32,
        item_id: &str,
        item_type: &str,
    ) -> Result<ItemRow, MoveError> {
        let found =
            async { state::user_item(&mut *self.db.reader().await?, &user_id, item_id).await };
        let item = found
            .await
            .map_err(|e| MoveError::Storage(storage(e)))?
            .filter(|item| item.merchant_id == merchant_id && item.project_id == project_id)
            .ok_or_else(|| {
                MoveError::NotFound(
                    "no such item in this user's Backpack for that merchant and project".into(),
                )
            })?;
        if item.item_type != item_type {
            return Err(MoveError::Bad(format!(
                "the item is a {}, not a {item_type}",
                item.item_type
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

    /// `user_validation`, sent once: the move goes on only if the game knows the player.
    async fn validate_player(
        &self,
        target: &Target,
        item: &ItemRow,
        user_game_id: &str,
    ) -> Result<(), MoveError> {
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

    async fn move_to_game(
        &self,
        bearer: &BearerToken,
        body: MoveToGameRequest,
        item_type: &str,
    ) -> Result<(), MoveError> {
        let user_id = self
            .user_of(bearer)
            .map_err(|e| MoveError::Bad(e.message))?;
        if body.user_game_id.trim().is_empty() {
            return Err(MoveError::Bad("user_game_id is required".into()));
        }
        let item = self
            .movable_item(
                user_id,
                body.merchant_id,
                body.project_id,
                &body.item_id,
                item_type,
            )
            .await?;
        if let Some(target) = &self.target {
            self.validate_player(target, &item, &body.user_game_id)
                .await?;
        } else {
            tracing::warn!("no --webhook-url: the move is recorded but no webhook is sent");
        }
        let with_webhook = self.target.is_some();
        let legacy = self.legacy_move_webhook;
        let order_base = self.order_base;
        let max_attempts = self.schedule.max_attempts();
        let user_game_id = body.user_game_id.as_str();
        let delivery = |move_id: i64, now: i64| {
            with_webhook.then(|| {
                let (notification_type, body) = if legacy {
                    ("move_to_game", webhooks::move_to_game(&item, user_game_id))
                } else {
                    (
                        "order_paid",
                        webhooks::order_paid(
                            &item,
                            user_game_id,
                            order_base.saturating_add(move_id),
                        ),
                    )
                };
                state::NewDelivery {
                    notification_type: notification_type.to_owned(),
                    body,
                    max_attempts,
                    first_attempt_at: now,
                    policy: RetryPolicy::Order,
                }
            })
        };
        let committed = async {
            let mut writer = self.db.writer().await?;
            // The time is read with the writer in hand, so moves are stamped in commit order.
            let now = self.clock.now_millis();
            state::commit_move(
                &mut writer,
                &item,
                Some(user_game_id),
                MoveTarget::Game,
                &self.clock.rfc3339_now(),
                now,
                |move_id| delivery(move_id, now),
            )
            .await
        };
        let outcome = committed
            .await
            .map_err(|e| MoveError::Storage(storage(e)))?;
        match outcome {
            MoveOutcome::Moved { delivery_id, .. } => {
                tracing::info!(item_id = %item.item_id, ?delivery_id, "item moved to the game");
                self.wake.notify_one();
                Ok(())
            }
            MoveOutcome::NotAvailable => Err(MoveError::Bad(
                "the item cannot be moved: it was moved or deleted meanwhile".into(),
            )),
        }
    }
}

/// A create operation of [`BackpackApi`]: [`Emulator::create_items`] with the operation's item
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

macro_rules! move_response {
    ($response:ident, $result:expr) => {
        match $result {
            Ok(()) => Ok($response::Ok),
            Err(MoveError::Bad(message)) => Ok($response::BadRequest(api_error(message))),
            Err(MoveError::NotFound(message)) => Ok($response::NotFound(api_error(message))),
            Err(MoveError::Internal(error)) => Ok($response::InternalServerError(error)),
            Err(MoveError::Storage(error)) => Err(error),
        }
    };
}

impl BackpackApi for Emulator {
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

    async fn move_user_virtual_currency_to_game(
        &self,
        _ctx: RequestContext,
        input: MoveUserVirtualCurrencyToGameInput,
    ) -> Result<MoveUserVirtualCurrencyToGameResponse, ServerError> {
        move_response!(
            MoveUserVirtualCurrencyToGameResponse,
            self.move_to_game(&input.bearer, input.body, "virtual_currency")
                .await
        )
    }

    async fn move_user_virtual_currency_to_wallet(
        &self,
        _ctx: RequestContext,
        input: MoveUserVirtualCurrencyToWalletInput,
    ) -> Result<MoveUserVirtualCurrencyToWalletResponse, ServerError> {
        let (bearer, body) = (input.bearer, input.body);
        let result = async {
            let user_id = self
                .user_of(&bearer)
                .map_err(|e| MoveError::Bad(e.message))?;
            let item = self
                .movable_item(
                    user_id,
                    body.merchant_id,
                    body.project_id,
                    &body.item_id,
                    "virtual_currency",
                )
                .await?;
            let committed = async {
                state::commit_move(
                    &mut *self.db.writer().await?,
                    &item,
                    None,
                    MoveTarget::Wallet,
                    &self.clock.rfc3339_now(),
                    self.clock.now_millis(),
                    |_| None,
                )
                .await
            };
            let outcome = committed
                .await
                .map_err(|e| MoveError::Storage(storage(e)))?;
            match outcome {
                MoveOutcome::Moved { .. } => {
                    tracing::info!(item_id = %item.item_id, "currency moved to Xsolla Wallet");
                    Ok(())
                }
                MoveOutcome::NotAvailable => Err(MoveError::Bad(
                    "the item cannot be moved: it was moved or deleted meanwhile".into(),
                )),
            }
        }
        .await;
        move_response!(MoveUserVirtualCurrencyToWalletResponse, result)
    }

    async fn move_user_virtual_item_to_game(
        &self,
        _ctx: RequestContext,
        input: MoveUserVirtualItemToGameInput,
    ) -> Result<MoveUserVirtualItemToGameResponse, ServerError> {
        move_response!(
            MoveUserVirtualItemToGameResponse,
            self.move_to_game(&input.bearer, input.body, "virtual_item")
                .await
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_rule() {
        for ok in ["sword", "a.b-c_d9"] {
            assert!(is_valid_sku(ok), "{ok}");
        }
        for bad in ["", "Sword", "a b", "ä", "a/b"] {
            assert!(!is_valid_sku(bad), "{bad}");
        }
    }

    #[test]
    fn batch_limits() {
        assert!(check_batch(0).is_err());
        assert!(check_batch(1).is_ok());
        assert!(check_batch(100).is_ok());
        assert!(check_batch(101).is_err());
    }

    fn emulator(db: Arc<Db>) -> Emulator {
        let clock = Clock::manual();
        let auth = Arc::new(Auth::new(
            super::super::auth::AuthConfig {
                signing_key: b"test-signing-key".to_vec(),
                client_id: "c".into(),
                client_secret: "s".into(),
                host_id: None,
                ttl_secs: 60,
            },
            Arc::clone(&db),
            clock.clone(),
        ));
        Emulator {
            db,
            auth,
            target: None,
            client: reqwest::Client::new(),
            legacy_move_webhook: false,
            schedule: Schedule::new(RetryPolicy::Order, 1.0),
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
        let emulator = emulator(db);
        let ctx = || {
            RequestContext::new(
                axum::http::Method::GET,
                axum::http::Uri::from_static("/web/backpack/merchants/1/projects/2/games"),
            )
        };
        let bearer = || BearerToken::new("t");
        let host = || backpack_server::XHostId::new("497f6eca-6276-4993-bfeb-53cbbbba6f08");
        let error = emulator
            .get_games(ctx(), GetGamesInput::new(bearer(), host(), 1, 2))
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = backpack_types::api::UpdateGameRequest::new("g-1");
        let error = emulator
            .update_game_details(
                ctx(),
                UpdateGameDetailsInput::new(bearer(), host(), 1, 2, body),
            )
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(error.public_message(), "internal server error");
    }

    #[test]
    fn stored_items_become_api_items_with_a_null_proxy_url() {
        let item = backpack_item(ItemRow {
            item_id: "i".into(),
            item_type: "virtual_item".into(),
            ..ItemRow::default()
        });
        let json = serde_json::to_value(&item).unwrap();
        assert!(json.get("image_proxy_url").unwrap().is_null());
        assert_eq!(json["item_type"], "virtual_item");
    }
}
