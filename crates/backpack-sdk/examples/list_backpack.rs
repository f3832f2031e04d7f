//! List a user's Backpack page by page (`user-backpack-items-list`, offset/limit as a stream).
//!
//! ```sh
//! XSOLLA_CLIENT_ID=… XSOLLA_CLIENT_SECRET=… XSOLLA_HOST_ID=… \
//!   cargo run -p backpack-sdk --example list_backpack -- <merchant_id> <project_id> <user_uuid>
//! ```

use backpack_sdk::{BackpackClient, ClientCredentials, DEFAULT_TOKEN_URL};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [merchant_id, project_id, user_id] = args.as_slice() else {
        return Err("usage: list_backpack <merchant_id> <project_id> <user_uuid>".into());
    };
    let client = BackpackClient::builder()
        .base_url(
            std::env::var("BACKPACK_BASE_URL")
                .unwrap_or_else(|_| backpack_sdk::DEFAULT_BASE_URL.into()),
        )
        .host_id(env("XSOLLA_HOST_ID")?)
        .token_source(
            ClientCredentials::new(env("XSOLLA_CLIENT_ID")?, env("XSOLLA_CLIENT_SECRET")?)
                .with_token_url(
                    std::env::var("XSOLLA_TOKEN_URL").unwrap_or_else(|_| DEFAULT_TOKEN_URL.into()),
                ),
        )
        .build()?;

    let items = client.user_items(
        merchant_id.parse()?,
        project_id.parse()?,
        user_id.parse()?,
        50,
    );
    let mut items = std::pin::pin!(items);
    let mut count = 0;
    while let Some(item) = items.next().await {
        let item = item?;
        count += 1;
        println!(
            "{count:>4}  {:<24} {:<20} {}",
            item.item_id, item.item_sku, item.item_name
        );
    }
    println!("{count} items");
    Ok(())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}
