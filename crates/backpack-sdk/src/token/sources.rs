//! Token sources that do not talk to Xsolla Login: a fixed token and a
//! user-supplied async closure.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::{Token, TokenFuture, TokenSource};
use crate::error::{BoxError, TokenError};
use crate::secret::Secret;

/// A token that never changes, e.g. an end user's JWT handed to the server.
///
/// It is reported as valid for a very long time, so a
/// [`TokenCache`](crate::TokenCache) asks for it again only after a 401
/// invalidated it.
#[derive(Debug, Clone)]
pub struct StaticToken {
    token: Secret,
}

impl StaticToken {
    /// Lifetime reported for a static token (about 100 years).
    const LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

    /// Wraps a fixed token.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self {
            token: token.into(),
        }
    }
}

impl TokenSource for StaticToken {
    fn fetch_token(&self) -> TokenFuture<'_> {
        let token = Token::new(self.token.clone()).with_expires_in(Self::LIFETIME);
        Box::pin(std::future::ready(Ok(token)))
    }
}

/// A [`TokenSource`] backed by an async closure; build it with [`token_fn`].
pub struct FnTokenSource<F> {
    fetch: F,
}

/// Makes a [`TokenSource`] from a closure returning a future of
/// `Result<Token, E>`, for tokens obtained some other way (a vault, another
/// OAuth flow, a test double). Errors become [`TokenError::Source`].
pub fn token_fn<F, Fut, E>(fetch: F) -> FnTokenSource<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Token, E>> + Send + 'static,
    E: Into<BoxError>,
{
    FnTokenSource { fetch }
}

impl<F, Fut, E> TokenSource for FnTokenSource<F>
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Token, E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn fetch_token(&self) -> TokenFuture<'_> {
        let future = (self.fetch)();
        Box::pin(async move { future.await.map_err(TokenError::source_error) })
    }
}

impl<F> fmt::Debug for FnTokenSource<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTokenSource").finish_non_exhaustive()
    }
}
