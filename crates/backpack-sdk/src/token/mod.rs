//! Access tokens: where they come from ([`TokenSource`]) and how they are
//! cached and refreshed ([`TokenCache`]).
//!
//! Sources provided here:
//! - [`StaticToken`]: a fixed token (e.g. an end user's JWT);
//! - [`ClientCredentials`]: Xsolla Login `grant_type=client_credentials`
//!   (a server JWT for the merchant endpoints);
//! - [`RefreshTokenGrant`]: Xsolla Login `grant_type=refresh_token`, keeping
//!   the rotated refresh token;
//! - [`token_fn`]: any async closure.

mod cache;
mod jwt;
mod login;
mod sources;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::TokenError;
use crate::secret::Secret;

pub use cache::{AccessToken, TokenCache, TokenCacheBuilder};
pub use login::{ClientCredentials, DEFAULT_TOKEN_URL, RefreshTokenGrant};
pub use sources::{FnTokenSource, StaticToken, token_fn};

/// The future returned by [`TokenSource::fetch_token`].
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Token, TokenError>> + Send + 'a>>;

/// Something that can produce an access token.
///
/// Object-safe (the future is boxed), so a [`TokenCache`] can hold any source
/// as `Arc<dyn TokenSource>`. A source makes one attempt per call; retries,
/// backoff and caching are the cache's job.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// Obtains a fresh token.
    fn fetch_token(&self) -> TokenFuture<'_>;
}

impl<T: TokenSource + ?Sized> TokenSource for std::sync::Arc<T> {
    fn fetch_token(&self) -> TokenFuture<'_> {
        (**self).fetch_token()
    }
}

impl<T: TokenSource + ?Sized> TokenSource for Box<T> {
    fn fetch_token(&self) -> TokenFuture<'_> {
        (**self).fetch_token()
    }
}

/// A token as produced by a [`TokenSource`]: the access token and, when the
/// source knows it, how long it stays valid.
#[derive(Debug, Clone)]
pub struct Token {
    access_token: Secret,
    expires_in: Option<Duration>,
}

impl Token {
    /// A token whose lifetime is unknown: the cache then reads the JWT `exp`
    /// claim, or assumes its default lifetime.
    pub fn new(access_token: impl Into<Secret>) -> Self {
        Self {
            access_token: access_token.into(),
            expires_in: None,
        }
    }

    /// Sets how long the token stays valid from now.
    pub fn with_expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = Some(expires_in);
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &Secret {
        &self.access_token
    }

    /// The lifetime reported by the source, if any.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
}
