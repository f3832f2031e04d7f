//! A game backend's use of the generated types, written the way that keeps compiling across minor
//! releases (docs/semver.md): constructors and `with_…` setters instead of struct literals, and a
//! `_` arm in every `match` on a generated enum.
//!
//! It also reads the things a corpus change removes or retypes (`BackpackItem::platform`,
//! `BackpackItem::quantity`, `ItemType::PromoCode`, `WebhookEvent::AfsReject`,
//! `CreateGameRequest::new()`), so `scripts/semver-crosscheck.sh` shows a major change breaking
//! a real user and a minor one not.

use backpack_types::api::{
    BackpackItem, BackpackWebhookEvent, CreateGameRequest, ItemType, MoveToGameRequest,
    NewVirtualItem,
};
use backpack_types::webhooks::WebhookEvent;
use backpack_webhooks::{VerifyAndParseError, WebhookSecret};

/// Our merchant and project in Xsolla's Publisher Account.
pub const MERCHANT_ID: u32 = 2340;
/// Our project.
pub const PROJECT_ID: u32 = 18404;

/// The game entity we register once.
pub fn our_game() -> CreateGameRequest {
    CreateGameRequest::new()
        .with_external_game_id("space-miners".to_string())
        .with_game_name("Space Miners".to_string())
}

/// The items a player gets with the starter pack.
pub fn starter_pack() -> Vec<NewVirtualItem> {
    [("drill-01", "Drill"), ("helmet-01", "Helmet")]
        .into_iter()
        .map(|(sku, name)| {
            NewVirtualItem::new(
                sku.to_string(),
                name.to_string(),
                format!("https://cdn.example.com/{sku}.png"),
            )
            .with_description(format!("{name} from the starter pack."))
            .with_external_game_id("space-miners".to_string())
        })
        .collect()
}

/// Moves an item from the player's Backpack into the game.
pub fn claim(item_id: &str, player_id: &str) -> MoveToGameRequest {
    MoveToGameRequest::new(
        PROJECT_ID,
        MERCHANT_ID,
        item_id.to_string(),
        player_id.to_string(),
    )
}

/// How the shop shows an item kind.
pub fn shelf(kind: &ItemType) -> &'static str {
    match kind {
        ItemType::GameKey => "keys",
        ItemType::VirtualItem => "gear",
        ItemType::VirtualCurrency => "coins",
        ItemType::PromoCode => "codes",
        // A kind this version of the types does not know, or one added in a minor release.
        _ => "other",
    }
}

/// One line for the inventory screen.
pub fn inventory_line(item: &BackpackItem) -> String {
    let count = item.quantity.unwrap_or(1);
    let platform = item.platform.as_deref().unwrap_or("any platform");
    format!("{count} × {} ({platform})", item.item_name)
}

/// What the game does with a payments/store webhook.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Give the purchase to the player.
    Grant(Option<i64>),
    /// Take it back.
    Revoke(Option<i64>),
    /// Anti-fraud rejected the transaction: flag the account.
    Flag(Option<i64>),
    /// Nothing to do (including webhook types added after this was written).
    Ignore,
}

/// Verifies and handles one payments/store webhook.
pub fn on_webhook(
    body: &[u8],
    authorization: Option<&str>,
    secret: &WebhookSecret,
) -> Result<Action, VerifyAndParseError> {
    let parsed = backpack_webhooks::verify_and_parse(body, authorization, secret)?;
    Ok(match parsed.event {
        WebhookEvent::Payment(p) => Action::Grant(p.transaction.id),
        WebhookEvent::Refund(r) => Action::Revoke(r.transaction.id),
        WebhookEvent::AfsReject(a) => Action::Flag(a.transaction.id),
        WebhookEvent::UserValidation(_) => Action::Ignore,
        // `Unknown` and any variant a minor release adds.
        _ => Action::Ignore,
    })
}

/// The items a Backpack "move to game" webhook delivers, as (sku, quantity).
pub fn on_backpack_webhook(body: &[u8]) -> Vec<(String, u32)> {
    match backpack_webhooks::parse_backpack(body).map(|p| p.event) {
        Ok(BackpackWebhookEvent::MoveToGame(m)) => m
            .items
            .iter()
            .map(|i| (i.sku.clone(), i.quantity.unwrap_or(1)))
            .collect(),
        _ => Vec::new(),
    }
}
