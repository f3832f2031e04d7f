//! Rust SDK for Xsolla's Backpack API.
//!
//! This crate wraps the generated `backpack-client` with what a generated
//! client cannot do by itself:
//!
//! - **Authentication** ([`token`]): access tokens from a [`TokenSource`]
//!   (Xsolla Login [`ClientCredentials`] or [`RefreshTokenGrant`], a
//!   [`StaticToken`], or any closure via [`token_fn`]), cached and refreshed
//!   before expiry by a [`TokenCache`] with single-flight refreshes.
//! - **Transport** ([`Transport`]): the middleware the generated client calls
//!   for every request. [`Transport::prepare`] adds
//!   `Authorization: Bearer …` and the configured `X-HOST-ID` (on merchant
//!   calls, and on user calls unless
//!   [`host_id_on_user_calls(false)`](BackpackClientBuilder::host_id_on_user_calls));
//!   [`Transport::send`] executes the request with retries for
//!   idempotent methods ([`RetryPolicy`]) and one refresh-and-retry after a
//!   401.
//! - **Pagination** ([`paginate`]): offset/limit list endpoints as a stream.
//! - **Drift watch** (feature `drift`): every response compared with the
//!   spec's schema for its operation and status; see `BackpackClientBuilder::drift_watch`.
//! - **Errors** ([`Error`]): typed, and free of credentials, as is every
//!   `Debug` output: credentials live in [`Secret`]s, which print `***`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), backpack_sdk::Error> {
//! use backpack_sdk::{BackpackClient, ClientCredentials, RefreshTokenGrant};
//!
//! let client = BackpackClient::builder()
//!     .host_id("00000000-0000-0000-0000-000000000000") // sent on every call
//!     .token_source(ClientCredentials::new("client-id", "client-secret"))
//!     .build()?;
//! // Merchant (Game/Items) calls: server token + X-HOST-ID added by the SDK.
//! let games = client.merchant().get_games().merchant_id(1u32).project_id(2u32).send().await?;
//! println!("{:?}", games.into_inner());
//! // User-facing calls: the end user's token (plus the X-HOST-ID).
//! let user = client.user("user-jwt")?;
//! let page = user.get_user_backpack_items().limit(50u32).send().await?;
//! println!("{} items", page.into_inner().len());
//! // A one-hour user token, renewed through Xsolla Login without rebuilding the client.
//! let user = client.user_with_source(RefreshTokenGrant::new("client-id", "refresh-token"))?;
//! let page = user.get_user_backpack_items().send().await?;
//! println!("{} items", page.into_inner().len());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod clock;
#[cfg(feature = "drift")]
mod drift;
pub mod error;
pub mod pagination;
pub mod retry;
pub mod secret;
pub mod token;
pub mod transport;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiErrorResponse, BoxError, Error, TokenError};
pub use pagination::paginate;
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use token::{
    AccessToken, ClientCredentials, DEFAULT_TOKEN_URL, FnTokenSource, RefreshTokenGrant,
    StaticToken, Token, TokenCache, TokenCacheBuilder, TokenFuture, TokenSource, token_fn,
};
pub use transport::{ClientSettings, DEFAULT_USER_AGENT, Transport, TransportBuilder, X_HOST_ID};

/// The drift watch (feature `drift`): see [`BackpackClientBuilder::drift_watch`].
#[cfg(feature = "drift")]
pub use backpack_drift;

/// The HTTP client crate used by the SDK, re-exported so callers use the same
/// version.
pub use reqwest;

pub use client::{BackpackClient, BackpackClientBuilder, DEFAULT_BASE_URL, my_items};

/// The generated progenitor client (`backpack-client`): one builder method per operation.
pub use backpack_client as generated;
/// The generated model types (`backpack-types`).
pub use backpack_types as types;
/// progenitor's response wrapper and error type, as returned by the generated calls.
pub use progenitor_client::{Error as ClientError, ResponseValue};
