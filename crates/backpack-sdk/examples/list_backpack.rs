//! List a user's Backpack page by page (`user-backpack-items-list`, offset/limit as a stream).
//!
//! ```sh
//! XSOLLA_CLIENT_ID=… XSOLLA_CLIENT_SECRET=… XSOLLA_HOST_ID=… \
//!   cargo run -p backpack-sdk --example list_backpack -- <merchant_id> <project_id> <user_uuid>
//! ```

mod common;

use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [merchant_id, project_id, user_id] = args.as_slice() else {
        return Err("usage: list_backpack <merchant_id> <project_id> <user_uuid>".into());
    };
    let client = common::merchant_client()?;

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
