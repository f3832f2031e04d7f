//! Request items to stored rows (checked with [`super::validate`]), and stored rows to the
//! API's views.

use backpack_types::api::{
    BackpackItem, CreatedItem, NewGameKey, NewPromoCode, NewVirtualCurrency, NewVirtualItem,
};

use super::validate::{check_sku, required};
use crate::db::ItemRow;

/// What a create call stores from one request item, and the game fields it sent.
pub(super) type Requested = (ItemRow, GameFields);

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
pub(super) fn virtual_item_row(i: usize, new: NewVirtualItem) -> Result<Requested, String> {
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
pub(super) fn virtual_currency_row(i: usize, new: NewVirtualCurrency) -> Result<Requested, String> {
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
pub(super) fn game_key_row(i: usize, new: NewGameKey) -> Result<Requested, String> {
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
pub(super) fn promo_code_row(i: usize, new: NewPromoCode) -> Result<Requested, String> {
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

/// The create call's answer for a stored item.
pub(super) fn created(item: &ItemRow) -> CreatedItem {
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

/// The game fields an item inherits from its game when the request leaves them out.
pub(super) struct GameFields {
    pub(super) game_name: Option<String>,
    pub(super) game_image_url: Option<String>,
    pub(super) external_game_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
