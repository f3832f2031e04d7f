//! The webhooks a move to the game sends: their bodies, their signature, and how an answer is
//! classified.
//!
//! * `user_validation` (Backpack shape: `settings` + `user.id`), sent first and synchronously.
//!   200/201/204 = player found; anything else (404, 400, 5xx, no answer) fails the move and is
//!   not sent again.
//! * Then the delivery notification, through the durable outbox: `order_paid` by default (the
//!   documented sample shape carrying the item), or the deprecated Backpack `move_to_game` with
//!   `--legacy-move-webhook`.
//!
//! Signature: `Authorization: Signature <sha1(body ‖ secret)>` over the exact bytes sent.

use backpack_types::api::ItemType;
use backpack_types::webhooks::{
    CustomParameters, Order, OrderCurrencyType, OrderItem, OrderItemType, OrderMode, OrderPaid,
    OrderUser,
};
use backpack_webhooks::WebhookSecret;
use serde_json::{Value, json};

use crate::db::ItemRow;

/// Where webhooks go.
#[derive(Clone)]
pub struct Target {
    /// The webhook URL.
    pub url: reqwest::Url,
    /// The project secret key.
    pub secret: WebhookSecret,
}

impl Target {
    /// The URL without any user name or password in it, for logs.
    pub fn url_for_logs(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.to_string()
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url_for_logs())
            .field("secret", &self.secret)
            .finish()
    }
}

/// The Backpack `user_validation` body.
pub fn user_validation(merchant_id: u32, project_id: u32, user_game_id: &str) -> Vec<u8> {
    let body = json!({
        "notification_type": "user_validation",
        "settings": { "merchant_id": merchant_id, "project_id": project_id },
        "user": { "id": user_game_id },
    });
    body.to_string().into_bytes()
}

fn is_currency(item: &ItemRow) -> bool {
    ItemType::from(item.item_type.as_str()) == ItemType::VirtualCurrency
}

fn quantity(item: &ItemRow) -> i64 {
    if is_currency(item) {
        item.quantity.unwrap_or(1)
    } else {
        1
    }
}

/// The `order_paid` body for a moved item (shape of the documented sample; order ID unique per
/// emulator database; a free sandbox order, so `currency_type` is `unknown` and the amounts are
/// `"0"`). The Backpack IDs travel in `custom_parameters`.
pub fn order_paid(item: &ItemRow, user_game_id: &str, order_id: i64) -> Vec<u8> {
    let kind = if is_currency(item) {
        OrderItemType::VirtualCurrency
    } else {
        OrderItemType::VirtualGood
    };
    let mut backpack = serde_json::Map::new();
    backpack.insert("backpack_item_id".into(), item.item_id.clone().into());
    backpack.insert("backpack_user_id".into(), item.user_id.clone().into());
    backpack.insert("merchant_id".into(), item.merchant_id.into());
    backpack.insert("project_id".into(), item.project_id.into());
    let line = OrderItem::new(item.item_sku.clone(), kind, quantity(item), "0", Vec::new())
        .with_is_pre_order(false);
    let order = Order::new(
        order_id,
        OrderMode::Sandbox,
        OrderCurrencyType::Unknown,
        item.currency.clone().unwrap_or_else(|| "USD".to_owned()),
        "0",
        "paid",
    )
    .with_platform("xsolla")
    .with_invoice_id(order_id.to_string())
    .with_promotions(Vec::new())
    .with_coupons(Vec::new())
    .with_promocodes(Vec::new());
    let body = OrderPaid::new(
        vec![line],
        order,
        OrderUser::new().with_external_id(user_game_id),
    )
    .with_custom_parameters(CustomParameters::new().with_additional_properties(backpack));
    // Serialising these types cannot fail (string keys, no non-finite floats).
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The deprecated Backpack `move_to_game` body.
pub fn move_to_game(item: &ItemRow, user_game_id: &str) -> Vec<u8> {
    let mut entry = json!({
        "id": item.item_id,
        "sku": item.item_sku,
        "type": item.item_type,
    });
    if is_currency(item)
        && let Some(map) = entry.as_object_mut()
    {
        map.insert("quantity".into(), Value::from(quantity(item)));
    }
    let body = json!({
        "notification_type": "move_to_game",
        "settings": { "merchant_id": item.merchant_id, "project_id": item.project_id },
        "items": [entry],
        "user": { "id": user_game_id },
    });
    body.to_string().into_bytes()
}

/// What the receiver did with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It answered with this status.
    Status(u16),
    /// No answer (connection refused, timeout, …); the reason has no secret in it.
    NoAnswer(String),
}

/// Posts `body` signed with the target's secret.
pub async fn post_signed(client: &reqwest::Client, target: &Target, body: Vec<u8>) -> Answer {
    let authorization = backpack_webhooks::authorization_value(&body, &target.secret);
    let result = client
        .post(target.url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::AUTHORIZATION, authorization)
        .body(body)
        .send()
        .await;
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read (and drop) the body so the connection can be reused.
            let _ = response.bytes().await;
            Answer::Status(status)
        }
        Err(e) => Answer::NoAnswer(describe(&e)),
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}

/// How a delivery answer is treated (Xsolla's `order_paid` rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 200, 201, 204.
    Delivered,
    /// 400, 401, 402, 403, 404, 409, 415, 422: not retried.
    Stop,
    /// Anything else, or no answer: retried on the schedule.
    Retry,
}

/// Classifies a delivery answer.
pub fn classify(answer: &Answer) -> Verdict {
    match answer {
        Answer::Status(200 | 201 | 204) => Verdict::Delivered,
        Answer::Status(400 | 401 | 402 | 403 | 404 | 409 | 415 | 422) => Verdict::Stop,
        _ => Verdict::Retry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_logs_carry_no_credentials() {
        let target = Target {
            url: reqwest::Url::parse("https://user:pa55@example.com/hook?x=1").unwrap(),
            secret: WebhookSecret::new("s"),
        };
        assert_eq!(target.url_for_logs(), "https://example.com/hook?x=1");
        assert!(!format!("{target:?}").contains("pa55"));
    }

    #[test]
    fn answers() {
        for ok in [200, 201, 204] {
            assert_eq!(classify(&Answer::Status(ok)), Verdict::Delivered);
        }
        for stop in [400, 401, 402, 403, 404, 409, 415, 422] {
            assert_eq!(classify(&Answer::Status(stop)), Verdict::Stop);
        }
        for retry in [202, 302, 405, 429, 500, 503] {
            assert_eq!(classify(&Answer::Status(retry)), Verdict::Retry);
        }
        assert_eq!(classify(&Answer::NoAnswer("x".into())), Verdict::Retry);
    }

    #[test]
    fn bodies_parse_as_the_generated_types() {
        let item = ItemRow {
            item_id: "i".into(),
            merchant_id: 1,
            project_id: 2,
            user_id: "u".into(),
            item_type: "virtual_currency".into(),
            item_sku: "gold".into(),
            quantity: Some(50),
            ..ItemRow::default()
        };
        let v: backpack_types::api::BackpackWebhookEvent =
            serde_json::from_slice(&user_validation(1, 2, "p")).unwrap();
        assert!(matches!(
            v,
            backpack_types::api::BackpackWebhookEvent::UserValidation(_)
        ));
        let v: backpack_types::api::BackpackWebhookEvent =
            serde_json::from_slice(&move_to_game(&item, "p")).unwrap();
        let backpack_types::api::BackpackWebhookEvent::MoveToGame(m) = v else {
            panic!("not move_to_game")
        };
        assert_eq!(m.items[0].quantity, Some(50));
        let v: backpack_types::webhooks::WebhookEvent =
            serde_json::from_slice(&order_paid(&item, "p", 7)).unwrap();
        assert_eq!(v.notification_type(), "order_paid");
        let paid: OrderPaid = serde_json::from_slice(&order_paid(&item, "p", 7)).unwrap();
        assert_eq!(paid.order.mode, OrderMode::Sandbox);
        assert_eq!(paid.items[0].r#type, OrderItemType::VirtualCurrency);
        assert_eq!(paid.items[0].quantity, 50);
        assert_eq!(paid.user.external_id.as_deref(), Some("p"));
        let custom = paid.custom_parameters.unwrap().additional_properties;
        assert_eq!(custom["backpack_item_id"], "i");
        let good = ItemRow {
            item_type: "virtual_item".into(),
            quantity: Some(50),
            ..item
        };
        let paid: OrderPaid = serde_json::from_slice(&order_paid(&good, "p", 8)).unwrap();
        assert_eq!(paid.items[0].r#type, OrderItemType::VirtualGood);
        assert_eq!(paid.items[0].quantity, 1);
    }
}
