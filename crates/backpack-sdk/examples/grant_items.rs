//! Grant virtual items to a user's Backpack (a merchant call: server token + X-HOST-ID).
//!
//! ```sh
//! XSOLLA_CLIENT_ID=… XSOLLA_CLIENT_SECRET=… XSOLLA_HOST_ID=… \
//!   cargo run -p backpack-sdk --example grant_items -- <merchant_id> <project_id> <user_uuid>
//! ```
//! Set `BACKPACK_BASE_URL` / `XSOLLA_TOKEN_URL` to point at the local emulator instead of Xsolla.

mod common;

use backpack_sdk::types::api::NewVirtualItem;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [merchant_id, project_id, user_id] = args.as_slice() else {
        return Err("usage: grant_items <merchant_id> <project_id> <user_uuid>".into());
    };
    let client = common::merchant_client()?;
    client.authenticate().await?; // fail fast, with a typed error, on bad credentials

    let items = vec![
        NewVirtualItem::new(
            "sword-of-dawn",
            "Sword of Dawn",
            "https://cdn.example.com/sword.png",
        )
        .with_description("A bright blade")
        .with_external_game_id("my-game"),
    ];
    let created = client
        .merchant()
        .create_virtual_items()
        .merchant_id(merchant_id.parse::<u32>()?)
        .project_id(project_id.parse::<u32>()?)
        .user_id(user_id.as_str())
        .body(items)
        .send()
        .await
        .map_err(backpack_sdk::Error::from)?;
    for item in created.into_inner() {
        println!("granted {:?} ({:?})", item.item_name, item.item_id);
    }
    Ok(())
}
