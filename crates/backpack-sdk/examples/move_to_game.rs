//! Move an item from the signed-in user's Backpack into the game, with the user's own token
//! (user-facing call: no server credentials; `XSOLLA_HOST_ID` is sent too when set).
//!
//! ```sh
//! BACKPACK_USER_TOKEN=… [XSOLLA_HOST_ID=…] cargo run -p backpack-sdk --example move_to_game -- \
//!   <merchant_id> <project_id> <item_id> <user_game_id>
//! ```

use backpack_sdk::types::api::MoveToGameRequest;
use backpack_sdk::{BackpackClient, StaticToken};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [merchant_id, project_id, item_id, user_game_id] = args.as_slice() else {
        return Err(
            "usage: move_to_game <merchant_id> <project_id> <item_id> <user_game_id>".into(),
        );
    };
    let user_token = std::env::var("BACKPACK_USER_TOKEN").map_err(|_| "set BACKPACK_USER_TOKEN")?;
    // Merchant credentials are not needed for user-facing calls; a placeholder source is enough.
    let mut builder = BackpackClient::builder();
    if let Ok(host_id) = std::env::var("XSOLLA_HOST_ID") {
        builder = builder.host_id(host_id);
    }
    let client = builder
        .base_url(
            std::env::var("BACKPACK_BASE_URL")
                .unwrap_or_else(|_| backpack_sdk::DEFAULT_BASE_URL.into()),
        )
        .token_source(StaticToken::new("unused"))
        .build()?;
    let user = client.user(user_token)?;
    let response = user
        .move_user_virtual_item_to_game()
        .body(MoveToGameRequest::new(
            project_id.parse()?,
            merchant_id.parse()?,
            item_id.clone(),
            user_game_id.clone(),
        ))
        .send()
        .await
        .map_err(backpack_sdk::Error::from)?;
    println!("moved: HTTP {}", response.status());
    Ok(())
}
