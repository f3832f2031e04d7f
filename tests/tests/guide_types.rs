//! The "Depending on the generated types" example of docs/guide/types.md, run with assertions.

use backpack_types::api::NewVirtualItem;
use backpack_types::webhooks::WebhookEvent;

fn on_body(body: &[u8]) -> Result<String, serde_json::Error> {
    Ok(match WebhookEvent::from_slice(body)? {
        WebhookEvent::OrderPaid(paid) => format!("order {:?} paid", paid.order.id),
        WebhookEvent::Unknown(raw) => format!("new webhook type: {}", raw["notification_type"]),
        other => other.notification_type().to_string(),
    })
}

fn sword() -> NewVirtualItem {
    NewVirtualItem::new("sword", "Sword", "https://cdn.example.com/sword.png")
        .with_description("A sharp sword")
        .with_external_game_id("my-game")
}

#[test]
fn guide_example_handles_known_and_unknown_types() {
    let unknown = on_body(br#"{"notification_type": "loyalty_points", "points": 5}"#).unwrap();
    assert_eq!(unknown, "new webhook type: \"loyalty_points\"");
    let user_validation = on_body(br#"{"notification_type": "user_validation", "user": {"id": "u1"}, "settings": {"project_id": 1, "merchant_id": 2}}"#).unwrap();
    assert_eq!(user_validation, "user_validation");
    assert!(on_body(br#"{"no_type": true}"#).is_err());
}

#[test]
fn guide_example_builds_a_request_body_with_constructor_and_setters() {
    let json = serde_json::to_value(sword()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "item_sku": "sword",
            "item_name": "Sword",
            "image_url": "https://cdn.example.com/sword.png",
            "description": "A sharp sword",
            "external_game_id": "my-game",
        })
    );
}
