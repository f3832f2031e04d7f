//! The per-request middleware the generated client calls: [`Transport::prepare`]
//! adds credentials, [`Transport::send`] executes with retries and the 401
//! refresh.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::{AUTHORIZATION, HeaderName};
use http::{HeaderValue, StatusCode};
use tracing::Instrument;
use tracing::field::Empty;

use crate::error::Error;
use crate::retry::{RetryPolicy, is_idempotent, is_retryable_status, retry_after};
use crate::secret::Secret;
use crate::token::{TokenCache, TokenSource};

/// The `X-HOST-ID` header: required by the Game and Items endpoints, and sent
/// on the user-facing ones too when configured.
pub const X_HOST_ID: HeaderName = HeaderName::from_static("x-host-id");

/// Default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("backpack-sdk-rust/", env!("CARGO_PKG_VERSION"));

/// Authentication and retry middleware for Backpack API requests.
///
/// Cheap to clone (the state is behind an `Arc`); `Debug` shows no
/// credential.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<TransportInner>,
}

struct TransportInner {
    auth: Auth,
    host_id: Option<HeaderValue>,
    retry: RetryPolicy,
    settings: ClientSettings,
    #[cfg(feature = "drift")]
    drift: Option<backpack_drift::DriftWatch>,
}

enum Auth {
    /// Tokens from a source (merchant, or a renewable user token): cached,
    /// refreshed before expiry and after a 401.
    Cache(TokenCache),
    /// A fixed end-user `Bearer` value.
    Fixed(HeaderValue),
}

impl Transport {
    /// Starts configuring a transport.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// Adds the credentials to a request built by the generated client:
    /// `Authorization: Bearer <token>` (from the token cache, fetching one if
    /// needed, or the fixed user token), and `X-HOST-ID` when configured.
    /// Both values are marked sensitive. (progenitor's `api-version` header is
    /// removed by the generated client's hooks, not here.)
    ///
    /// Fails only if no token can be obtained ([`Error::Token`]).
    pub async fn prepare(&self, request: &mut reqwest::Request) -> Result<(), Error> {
        let bearer = match &self.inner.auth {
            Auth::Fixed(bearer) => bearer.clone(),
            Auth::Cache(cache) => match cache.cached() {
                Some(token) => token.bearer().clone(),
                None => cache.token().await?.bearer().clone(),
            },
        };
        let headers = request.headers_mut();
        if let Some(host_id) = &self.inner.host_id {
            headers.insert(X_HOST_ID, host_id.clone());
        }
        headers.insert(AUTHORIZATION, bearer);
        Ok(())
    }

    /// Executes a prepared request with `client`.
    ///
    /// - Connection errors, 429 and 5xx (except 501/505) are retried for
    ///   idempotent methods (GET, PUT, DELETE, HEAD, OPTIONS) only, within
    ///   the [`RetryPolicy`], waiting what `Retry-After` asks or a jittered
    ///   exponential backoff. POST and PATCH are never retried this way.
    /// - A 401 with a token source invalidates the token that was sent,
    ///   fetches a new one and sends the request again, once. This also
    ///   applies to POST: a 401 means the request was not processed.
    /// - A request whose body cannot be cloned (a stream) is sent once.
    ///
    /// The final response is returned whatever its status; turn error
    /// statuses into [`Error::Api`] with [`Error::from_response`].
    pub async fn send(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        self.send_for(client, request, Reader::Caller).await
    }

    /// [`send`](Self::send) for the generated client, which reads JSON bodies through
    /// [`inspect`](Self::inspect): the drift watch checks those there instead of reading them
    /// ahead.
    pub(crate) async fn send_for_generated_client(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        self.send_for(client, request, Reader::GeneratedClient)
            .await
    }

    /// A body the generated client read (feature `drift`: checked if [`send`](Self::send) left
    /// that to this point).
    pub(crate) fn inspect(&self, body: backpack_client::ResponseBody<'_>) {
        #[cfg(feature = "drift")]
        if let Some(watch) = &self.inner.drift {
            crate::drift::inspect(watch, body);
        }
        #[cfg(not(feature = "drift"))]
        let _ = body;
    }

    async fn send_for(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        reader: Reader,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::debug_span!(
            "backpack_request",
            method = %request.method(),
            path = %request.url().path(),
            status = Empty,
            attempt = Empty,
        );
        #[cfg(feature = "drift")]
        if let Some(watch) = &self.inner.drift {
            let method = request.method().clone();
            let path = request.url().path().to_owned();
            let response = self
                .send_with_retries(client, request)
                .instrument(span)
                .await?;
            return crate::drift::observe(watch, method, path, response, reader).await;
        }
        #[cfg(not(feature = "drift"))]
        let _ = reader;
        self.send_with_retries(client, request)
            .instrument(span)
            .await
    }

    /// The drift watch responses go through (feature `drift`).
    #[cfg(feature = "drift")]
    pub fn drift_watch(&self) -> Option<&backpack_drift::DriftWatch> {
        self.inner.drift.as_ref()
    }

    async fn send_with_retries(
        &self,
        client: &reqwest::Client,
        mut request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::Span::current();
        let retry = &self.inner.retry;
        let cache = match &self.inner.auth {
            Auth::Cache(cache) => Some(cache),
            Auth::Fixed(_) => None,
        };
        let idempotent = is_idempotent(request.method());
        let started = Instant::now();
        let mut attempt: u32 = 0;
        // Sends counted against the retry policy; the 401 retry is not one.
        let mut counted: u32 = 0;
        let mut auth_retry_left = cache.is_some();
        let mut is_auth_retry = false;
        loop {
            attempt += 1;
            if !is_auth_retry {
                counted += 1;
            }
            span.record("attempt", attempt);
            let may_resend = auth_retry_left || (idempotent && counted < retry.max_attempts());
            // Only a clonable body can be sent again; a stream body gives
            // `None` and the request is sent just once.
            let spare = if may_resend {
                request.try_clone()
            } else {
                None
            };
            let sent_bearer = match (&spare, auth_retry_left) {
                (Some(_), true) => request.headers().get(AUTHORIZATION).cloned(),
                _ => None,
            };

            let response = match client.execute(request).await {
                Ok(response) => response,
                Err(error) => {
                    tracing::debug!(attempt, %error, "request failed");
                    if let Some(next) = spare.filter(|_| idempotent && is_retryable_error(&error)) {
                        let delay = retry.backoff(counted);
                        if retry.allows_retry(counted, started.elapsed(), delay) {
                            log_retry(attempt, None, delay);
                            tokio::time::sleep(delay).await;
                            request = next;
                            is_auth_retry = false;
                            continue;
                        }
                    }
                    return Err(error);
                }
            };
            let status = response.status();
            span.record("status", status.as_u16());
            tracing::debug!(attempt, status = status.as_u16(), "response");

            if status == StatusCode::UNAUTHORIZED && auth_retry_left {
                auth_retry_left = false;
                if let (Some(cache), Some(mut next)) = (cache, spare) {
                    if let Some(sent) = &sent_bearer {
                        cache.invalidate_bearer(sent);
                    }
                    match cache.token().await {
                        Ok(token) => {
                            tracing::debug!(attempt, "401: retrying once with a new token");
                            next.headers_mut()
                                .insert(AUTHORIZATION, token.bearer().clone());
                            request = next;
                            is_auth_retry = true;
                            continue;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "401: could not obtain a new token");
                        }
                    }
                }
                return Ok(response);
            }

            if idempotent
                && is_retryable_status(status)
                && let Some(next) = spare
            {
                let delay = retry_after(response.headers(), SystemTime::now())
                    .unwrap_or_else(|| retry.backoff(counted));
                if retry.allows_retry(counted, started.elapsed(), delay) {
                    log_retry(attempt, Some(status), delay);
                    drop(response);
                    tokio::time::sleep(delay).await;
                    request = next;
                    is_auth_retry = false;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// The token cache, when tokens come from a [`TokenSource`] (not for a
    /// fixed [`user_token`](TransportBuilder::user_token)).
    pub fn token_cache(&self) -> Option<&TokenCache> {
        match &self.inner.auth {
            Auth::Cache(cache) => Some(cache),
            Auth::Fixed(_) => None,
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The HTTP client settings (timeouts, user agent).
    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// Whether an `X-HOST-ID` is added to requests.
    pub fn has_host_id(&self) -> bool {
        self.inner.host_id.is_some()
    }
}

/// Errors worth another attempt on an idempotent request: the connection
/// could not be made, timed out, or broke while sending.
fn is_retryable_error(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request()
}

fn log_retry(attempt: u32, status: Option<StatusCode>, delay: Duration) {
    tracing::debug!(
        attempt,
        status = status.map(|s| s.as_u16()),
        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        "retrying"
    );
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.inner.auth {
            Auth::Cache(cache) => cache,
            Auth::Fixed(_) => &"fixed user token ***",
        };
        f.debug_struct("Transport")
            .field("auth", auth)
            .field("host_id", &self.inner.host_id.as_ref().map(|_| "***"))
            .field("retry", &self.inner.retry)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

/// Settings for the `reqwest::Client` that carries the API requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    user_agent: String,
}

impl Default for ClientSettings {
    /// 30 s request timeout, 10 s connect timeout, 90 s pool idle timeout,
    /// [`DEFAULT_USER_AGENT`].
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(30)),
            connect_timeout: Some(Duration::from_secs(10)),
            pool_idle_timeout: Some(Duration::from_secs(90)),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

impl ClientSettings {
    /// Total timeout of one attempt (`None`: no timeout).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Timeout for establishing a connection (`None`: no timeout).
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// How long idle pooled connections are kept (`None`: forever).
    pub fn pool_idle_timeout(&self) -> Option<Duration> {
        self.pool_idle_timeout
    }

    /// The `User-Agent` header value.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// A `reqwest::Client` with these settings.
    pub fn build_reqwest_client(&self) -> Result<reqwest::Client, Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .pool_idle_timeout(self.pool_idle_timeout);
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        builder
            .build()
            .map_err(|e| Error::InvalidConfig(format!("cannot build the HTTP client: {e}")))
    }
}

/// Configures a [`Transport`]; made by [`Transport::builder`].
///
/// Exactly one of [`token_source`](TransportBuilder::token_source),
/// [`token_cache`](TransportBuilder::token_cache) or
/// [`user_token`](TransportBuilder::user_token) must be set (the last call
/// wins).
#[derive(Default)]
pub struct TransportBuilder {
    auth: Option<AuthConfig>,
    host_id: Option<Secret>,
    retry: RetryPolicy,
    settings: ClientSettings,
    #[cfg(feature = "drift")]
    drift: Option<backpack_drift::DriftWatch>,
}

enum AuthConfig {
    Cache(TokenCache),
    Fixed(Secret),
}

impl TransportBuilder {
    /// Tokens from `source` (a merchant's server token, or a renewable user
    /// token), cached by a [`TokenCache`] with default settings.
    pub fn token_source(self, source: impl TokenSource + 'static) -> Self {
        self.token_cache(TokenCache::new(source))
    }

    /// Tokens from a configured (and possibly shared) token cache.
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.auth = Some(AuthConfig::Cache(cache));
        self
    }

    /// A fixed end-user token (the user-facing `/web/backpack/items…` and
    /// `/web/backpack/virtual_*…` endpoints). A 401 is returned as is: there
    /// is nothing to refresh. For a renewable user token use
    /// [`token_source`](TransportBuilder::token_source).
    pub fn user_token(mut self, token: impl Into<Secret>) -> Self {
        self.auth = Some(AuthConfig::Fixed(token.into()));
        self
    }

    /// The `X-HOST-ID` to send on every request.
    pub fn host_id(mut self, host_id: impl Into<Secret>) -> Self {
        self.host_id = Some(host_id.into());
        self
    }

    /// Retries of API requests (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Total timeout of one attempt; `None` disables it (default 30 s).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Connect timeout; `None` disables it (default 10 s).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Idle timeout of pooled connections; `None` keeps them (default 90 s).
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.pool_idle_timeout = timeout;
        self
    }

    /// The `User-Agent` (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.settings.user_agent = user_agent.into();
        self
    }

    /// Compares every final response with the spec through `watch` (feature `drift`; switch it
    /// at run time with [`DriftWatch::set_enabled`](backpack_drift::DriftWatch::set_enabled)).
    #[cfg(feature = "drift")]
    pub fn drift_watch(mut self, watch: backpack_drift::DriftWatch) -> Self {
        self.drift = Some(watch);
        self
    }

    /// The HTTP client settings configured so far.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// A `reqwest::Client` with the configured timeouts and user agent.
    pub fn build_reqwest_client(&self) -> Result<reqwest::Client, Error> {
        self.settings.build_reqwest_client()
    }

    /// Checks the configuration and builds the transport.
    pub fn build(self) -> Result<Transport, Error> {
        let auth = match self.auth {
            None => {
                return Err(Error::InvalidConfig(
                    "no authentication: set a token source, a token cache or a user token".into(),
                ));
            }
            Some(AuthConfig::Cache(cache)) => Auth::Cache(cache),
            Some(AuthConfig::Fixed(token)) => {
                let bearer = sensitive_header(&format!("Bearer {}", token.expose()), "user token")?;
                Auth::Fixed(bearer)
            }
        };
        let host_id = match &self.host_id {
            Some(host_id) if host_id.expose().trim().is_empty() => {
                return Err(Error::InvalidConfig("the X-HOST-ID is empty".into()));
            }
            Some(host_id) => Some(sensitive_header(host_id.expose(), "X-HOST-ID")?),
            None => None,
        };
        HeaderValue::from_str(&self.settings.user_agent).map_err(|_| {
            Error::InvalidConfig("the user agent is not a valid header value".into())
        })?;
        Ok(Transport {
            inner: Arc::new(TransportInner {
                auth,
                host_id,
                retry: self.retry,
                settings: self.settings,
                #[cfg(feature = "drift")]
                drift: self.drift,
            }),
        })
    }
}

/// A header value marked sensitive; the error names the field, never the value.
fn sensitive_header(value: &str, what: &str) -> Result<HeaderValue, Error> {
    let mut header = HeaderValue::from_str(value)
        .map_err(|_| Error::InvalidConfig(format!("the {what} is not a valid header value")))?;
    header.set_sensitive(true);
    Ok(header)
}

impl fmt::Debug for TransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            None => "none",
            Some(AuthConfig::Cache(_)) => "token cache",
            Some(AuthConfig::Fixed(_)) => "fixed user token ***",
        };
        f.debug_struct("TransportBuilder")
            .field("auth", &auth)
            .field("host_id", &self.host_id)
            .field("retry", &self.retry)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Who reads the body of a response [`Transport`] returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    /// Whoever called [`Transport::send`]: the drift watch reads the body ahead.
    Caller,
    /// The generated client, which shows JSON bodies to [`Transport::inspect`].
    GeneratedClient,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_validates() {
        assert!(matches!(
            Transport::builder().build(),
            Err(Error::InvalidConfig(_))
        ));
        let error = Transport::builder()
            .user_token("tok\nen-secret")
            .build()
            .unwrap_err();
        assert!(!error.to_string().contains("en-secret"));
        assert!(matches!(
            Transport::builder().user_token("t").host_id(" ").build(),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(
            Transport::builder()
                .user_token("t")
                .user_agent("a\u{7f}")
                .build(),
            Err(Error::InvalidConfig(_))
        ));
    }

    #[test]
    fn settings_are_exposed() {
        let builder = Transport::builder()
            .user_token("t")
            .timeout(Some(Duration::from_secs(5)))
            .connect_timeout(None)
            .user_agent("my-app/1.0");
        assert_eq!(builder.settings().timeout(), Some(Duration::from_secs(5)));
        assert_eq!(builder.settings().connect_timeout(), None);
        assert_eq!(builder.settings().user_agent(), "my-app/1.0");
        assert!(builder.build_reqwest_client().is_ok());
        let transport = builder.build().unwrap();
        assert_eq!(transport.settings().user_agent(), "my-app/1.0");
        assert!(transport.token_cache().is_none());
        assert!(!transport.has_host_id());
    }

    #[test]
    fn debug_shows_no_credentials() {
        let builder = Transport::builder()
            .user_token("user-token-value")
            .host_id("host-id-value");
        let debug = format!("{builder:?}");
        assert!(!debug.contains("user-token-value") && !debug.contains("host-id-value"));
        let transport = builder.build().unwrap();
        let debug = format!("{transport:?}");
        assert!(!debug.contains("user-token-value") && !debug.contains("host-id-value"));
    }
}
