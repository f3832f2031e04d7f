//! What the merchant examples share: a client configured from the environment.

use backpack_sdk::{BackpackClient, ClientCredentials, DEFAULT_BASE_URL, DEFAULT_TOKEN_URL};

/// A client for merchant calls: server credentials from `XSOLLA_CLIENT_ID` /
/// `XSOLLA_CLIENT_SECRET`, `XSOLLA_HOST_ID`, and `BACKPACK_BASE_URL` / `XSOLLA_TOKEN_URL` when
/// set (to point at the local emulator instead of Xsolla).
pub fn merchant_client() -> Result<BackpackClient, Box<dyn std::error::Error>> {
    let client = BackpackClient::builder()
        .base_url(std::env::var("BACKPACK_BASE_URL").unwrap_or_else(|_| DEFAULT_BASE_URL.into()))
        .host_id(env("XSOLLA_HOST_ID")?)
        .token_source(
            ClientCredentials::new(env("XSOLLA_CLIENT_ID")?, env("XSOLLA_CLIENT_SECRET")?)
                .with_token_url(
                    std::env::var("XSOLLA_TOKEN_URL").unwrap_or_else(|_| DEFAULT_TOKEN_URL.into()),
                ),
        )
        .build()?;
    Ok(client)
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}
