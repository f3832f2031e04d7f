//! Caching and single-flight refreshing of access tokens.
//!
//! The hot path is a `std::sync::RwLock` read and an `Instant` comparison;
//! no lock is held across an `.await` and nothing is allocated. Refreshes
//! are serialised by a `tokio::sync::Mutex`; a generation counter lets the
//! callers that queued behind a refresh take its outcome (token or error)
//! instead of starting their own request.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant, SystemTime};

use http::HeaderValue;

use super::{Token, TokenSource, jwt};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, TokenError};
use crate::retry::RetryPolicy;
use crate::secret::Secret;

/// Default time before expiry at which a token is refreshed.
const DEFAULT_SKEW: Duration = Duration::from_secs(60);
/// Lifetime assumed when neither the source nor the JWT says (Backpack's
/// documented token lifetime is one hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Default time a failed refresh is remembered and returned to new callers.
const DEFAULT_FAILURE_COOLDOWN: Duration = Duration::from_secs(1);

/// A cached access token. Cheap to clone.
#[derive(Clone)]
pub struct AccessToken(Arc<TokenInner>);

struct TokenInner {
    secret: Secret,
    /// `Bearer <token>`, marked sensitive so `http` never prints it.
    bearer: HeaderValue,
    refresh_at: Instant,
    expires_at: Instant,
}

impl AccessToken {
    /// The token itself.
    pub fn secret(&self) -> &Secret {
        &self.0.secret
    }

    /// The `Authorization` header value, `Bearer <token>` (marked sensitive).
    pub fn bearer(&self) -> &HeaderValue {
        &self.0.bearer
    }

    /// When the cache will start refreshing this token.
    pub fn refresh_at(&self) -> Instant {
        self.0.refresh_at
    }

    /// When this token expires, as far as the cache knows.
    pub fn expires_at(&self) -> Instant {
        self.0.expires_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.0.secret)
            .field("refresh_at", &self.0.refresh_at)
            .field("expires_at", &self.0.expires_at)
            .finish()
    }
}

/// Caches the token of a [`TokenSource`] and refreshes it before it expires.
///
/// - The lifetime comes from the source (`expires_in` / `expire_in`), else
///   from the JWT `exp` claim, else a default of 3600 s.
/// - The token is refreshed `refresh_skew` (default 60 s) before expiry, but
///   never earlier than half-way through its lifetime, so that very short
///   lifetimes do not turn into a request per call.
/// - Concurrent callers during a refresh share one token request.
/// - A failing source is retried with the cache's [`RetryPolicy`] (default 3
///   attempts, jittered exponential backoff); the final [`Error::Token`] is
///   handed to every waiting caller and, for `failure_cooldown` (default 1 s),
///   to new callers too, so a dead endpoint never sees a request storm.
/// - While a refresh fails but the previous token has not expired yet, the
///   previous token keeps being returned.
///
/// Clones share the cache.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    source: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    skew: Duration,
    default_lifetime: Duration,
    retry: RetryPolicy,
    failure_cooldown: Duration,
    state: RwLock<State>,
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    /// Bumped by every finished refresh and every effective invalidation.
    generation: u64,
    token: Option<AccessToken>,
    failure: Option<Failure>,
}

struct Failure {
    error: Error,
    at: Instant,
    generation: u64,
}

impl State {
    /// The failure that ended the latest refresh, if the latest event was one.
    fn current_failure(&self) -> Option<&Failure> {
        self.failure
            .as_ref()
            .filter(|failure| failure.generation == self.generation)
    }

    /// The cached token if it has not expired yet (even if due for refresh).
    fn unexpired(&self, now: Instant) -> Option<AccessToken> {
        self.token
            .as_ref()
            .filter(|token| now < token.0.expires_at)
            .cloned()
    }
}

/// Configures a [`TokenCache`]; made by [`TokenCache::builder`].
pub struct TokenCacheBuilder {
    source: Arc<dyn TokenSource>,
    clock: Arc<dyn Clock>,
    skew: Duration,
    default_lifetime: Duration,
    retry: RetryPolicy,
    failure_cooldown: Duration,
}

impl TokenCacheBuilder {
    /// How long before expiry the token is refreshed (default 60 s).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Lifetime assumed when neither the source nor a JWT `exp` gives one
    /// (default 3600 s).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.default_lifetime = lifetime;
        self
    }

    /// Attempts and backoff for failing token requests (default
    /// [`RetryPolicy::default`]: 3 attempts).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long a failed refresh is returned to new callers without a new
    /// request (default 1 s).
    pub fn failure_cooldown(mut self, cooldown: Duration) -> Self {
        self.failure_cooldown = cooldown;
        self
    }

    /// The clock deciding when a token is due (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Builds the cache. No token is requested until the first call.
    pub fn build(self) -> TokenCache {
        TokenCache {
            inner: Arc::new(CacheInner {
                source: self.source,
                clock: self.clock,
                skew: self.skew,
                default_lifetime: self.default_lifetime,
                retry: self.retry,
                failure_cooldown: self.failure_cooldown,
                state: RwLock::new(State::default()),
                refresh: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

impl fmt::Debug for TokenCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCacheBuilder")
            .field("source", &self.source)
            .field("skew", &self.skew)
            .field("default_lifetime", &self.default_lifetime)
            .field("retry", &self.retry)
            .field("failure_cooldown", &self.failure_cooldown)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache with default settings.
    pub fn new(source: impl TokenSource + 'static) -> Self {
        Self::builder(source).build()
    }

    /// Starts configuring a cache for `source`.
    pub fn builder(source: impl TokenSource + 'static) -> TokenCacheBuilder {
        Self::builder_from_arc(Arc::new(source))
    }

    /// Starts configuring a cache for a shared source.
    pub fn builder_from_arc(source: Arc<dyn TokenSource>) -> TokenCacheBuilder {
        TokenCacheBuilder {
            source,
            clock: Arc::new(SystemClock),
            skew: DEFAULT_SKEW,
            default_lifetime: DEFAULT_LIFETIME,
            retry: RetryPolicy::default(),
            failure_cooldown: DEFAULT_FAILURE_COOLDOWN,
        }
    }

    /// The cached token if it is not yet due for refresh; never waits and
    /// never allocates. This is the fast path of [`TokenCache::token`].
    pub fn cached(&self) -> Option<AccessToken> {
        let now = self.inner.clock.now();
        let state = self.read();
        state
            .token
            .as_ref()
            .filter(|token| now < token.0.refresh_at)
            .cloned()
    }

    /// A valid token: the cached one, or a fresh one from the source.
    pub async fn token(&self) -> Result<AccessToken, Error> {
        let seen_generation = {
            let now = self.inner.clock.now();
            let state = self.read();
            if let Some(token) = state.token.as_ref().filter(|t| now < t.0.refresh_at) {
                return Ok(token.clone());
            }
            state.generation
        };
        self.refresh(seen_generation).await
    }

    /// Drops `failed` from the cache (after the API rejected it with 401), so
    /// that the next call fetches a new token. Does nothing, and returns
    /// `false`, if the cache already holds another token — e.g. because a
    /// concurrent request already replaced it.
    pub fn invalidate(&self, failed: &AccessToken) -> bool {
        self.invalidate_if(|cached| Arc::ptr_eq(&cached.0, &failed.0))
    }

    /// [`TokenCache::invalidate`] for the `Authorization` value a request
    /// was sent with.
    pub(crate) fn invalidate_bearer(&self, sent: &HeaderValue) -> bool {
        self.invalidate_if(|cached| cached.0.bearer.as_bytes() == sent.as_bytes())
    }

    fn invalidate_if(&self, is_failed: impl Fn(&AccessToken) -> bool) -> bool {
        let mut state = self.write();
        if !state.token.as_ref().is_some_and(is_failed) {
            return false;
        }
        state.token = None;
        state.generation += 1;
        tracing::debug!("access token invalidated");
        true
    }

    /// The slow path: one caller at a time gets here past the mutex; whoever
    /// finds that a refresh finished while it waited takes that outcome.
    async fn refresh(&self, seen_generation: u64) -> Result<AccessToken, Error> {
        let _refreshing = self.inner.refresh.lock().await;
        {
            let now = self.inner.clock.now();
            let state = self.read();
            if let Some(token) = state.token.as_ref().filter(|t| now < t.0.refresh_at) {
                return Ok(token.clone());
            }
            if let Some(failure) = state.current_failure() {
                let waited_for_it = state.generation != seen_generation;
                let recent = now < failure.at + self.inner.failure_cooldown;
                if waited_for_it || recent {
                    return state.unexpired(now).ok_or_else(|| failure.error.clone());
                }
            }
        }

        let result = self.fetch_with_retries().await;

        let now = self.inner.clock.now();
        let mut state = self.write();
        state.generation += 1;
        match result {
            Ok(token) => {
                state.token = Some(token.clone());
                state.failure = None;
                Ok(token)
            }
            Err(error) => {
                state.failure = Some(Failure {
                    error: error.clone(),
                    at: now,
                    generation: state.generation,
                });
                state.unexpired(now).ok_or(error)
            }
        }
    }

    async fn fetch_with_retries(&self) -> Result<AccessToken, Error> {
        let retry = &self.inner.retry;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let requested_at = self.inner.clock.now();
            tracing::debug!(attempt, "requesting an access token");
            let result = self.inner.source.fetch_token().await;
            let error = match result.and_then(|token| self.entry(token, requested_at)) {
                Ok(token) => return Ok(token),
                Err(error) => error,
            };
            let delay = match &error {
                TokenError::Endpoint {
                    retry_after: Some(delay),
                    ..
                } => *delay,
                _ => retry.backoff(attempt),
            };
            if !error.is_retryable() || !retry.allows_retry(attempt, started.elapsed(), delay) {
                tracing::warn!(attempt, %error, "access token request failed; giving up");
                return Err(Error::Token {
                    attempts: attempt,
                    source: error,
                });
            }
            tracing::warn!(
                attempt,
                %error,
                retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "access token request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Works out the token's lifetime and builds the cache entry. `now` is
    /// taken before the request, which errs on the side of refreshing early.
    fn entry(&self, token: Token, now: Instant) -> Result<AccessToken, TokenError> {
        let lifetime = token
            .expires_in()
            .or_else(|| jwt::remaining_lifetime(token.access_token().expose(), SystemTime::now()))
            .unwrap_or(self.inner.default_lifetime);
        let early = self.inner.skew.min(lifetime / 2);
        let expires_at = now.checked_add(lifetime).unwrap_or_else(|| far_future(now));
        let refresh_at = expires_at.checked_sub(early).unwrap_or(now);
        let mut bearer = HeaderValue::try_from(format!("Bearer {}", token.access_token().expose()))
            .map_err(|_| {
                TokenError::InvalidResponse("the access token is not a valid header value".into())
            })?;
        bearer.set_sensitive(true);
        Ok(AccessToken(Arc::new(TokenInner {
            secret: token.access_token,
            bearer,
            refresh_at,
            expires_at,
        })))
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // State updates are single assignments; a panic elsewhere cannot
        // leave it half-written, so a poisoned lock is still usable.
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// An instant far enough away to mean "never" without overflowing.
fn far_future(now: Instant) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(CENTURY).unwrap_or(now)
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.inner.source)
            .field("skew", &self.inner.skew)
            .field("default_lifetime", &self.inner.default_lifetime)
            .field("retry", &self.inner.retry)
            .field("failure_cooldown", &self.inner.failure_cooldown)
            .finish_non_exhaustive()
    }
}
