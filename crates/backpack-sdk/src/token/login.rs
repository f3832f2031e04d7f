//! Xsolla Login "Generate JWT" (`POST /api/oauth2/token`, form-encoded):
//! the client-credentials and refresh-token grants.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{Token, TokenFuture, TokenSource};
use crate::error::TokenError;
use crate::retry::retry_after;
use crate::secret::Secret;

/// Xsolla Login's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://login.xsolla.com/api/oauth2/token";

/// Timeout of token requests made with the SDK's own HTTP client.
const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Server JWT from Xsolla Login with `grant_type=client_credentials`
/// (`client_id` + `client_secret`), for the merchant (Game/Items) endpoints.
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    client_secret: Secret,
    endpoint: Endpoint,
}

impl ClientCredentials {
    /// A source for the given OAuth 2.0 server client.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            endpoint: Endpoint::default(),
        }
    }

    /// Overrides the token endpoint (default [`DEFAULT_TOKEN_URL`]).
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint.url = url.into();
        self
    }

    /// Uses this HTTP client for token requests instead of the SDK's own.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.client = Some(client);
        self
    }

    /// The token endpoint in use.
    pub fn token_url(&self) -> &str {
        &self.endpoint.url
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_url", &self.endpoint.url)
            .finish()
    }
}

impl TokenSource for ClientCredentials {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let form = [
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.expose()),
            ];
            Ok(self.endpoint.request(&form).await?.token)
        })
    }
}

/// JWT from Xsolla Login with `grant_type=refresh_token`.
///
/// Login rotates refresh tokens: each answer may carry a new one, which this
/// source keeps and uses next time. Clones share that state, so keep a clone
/// to read the current refresh token with [`RefreshTokenGrant::refresh_token`]
/// (e.g. to persist it).
#[derive(Clone)]
pub struct RefreshTokenGrant {
    inner: Arc<RefreshInner>,
}

struct RefreshInner {
    client_id: String,
    client_secret: Option<Secret>,
    refresh_token: Mutex<Secret>,
    endpoint: Endpoint,
}

impl RefreshTokenGrant {
    /// A source that refreshes with `refresh_token` for the given client.
    pub fn new(client_id: impl Into<String>, refresh_token: impl Into<Secret>) -> Self {
        Self {
            inner: Arc::new(RefreshInner {
                client_id: client_id.into(),
                client_secret: None,
                refresh_token: Mutex::new(refresh_token.into()),
                endpoint: Endpoint::default(),
            }),
        }
    }

    /// Sends `client_secret` too (needed for confidential clients).
    pub fn with_client_secret(self, client_secret: impl Into<Secret>) -> Self {
        self.configure(|inner| inner.client_secret = Some(client_secret.into()))
    }

    /// Overrides the token endpoint (default [`DEFAULT_TOKEN_URL`]).
    pub fn with_token_url(self, url: impl Into<String>) -> Self {
        self.configure(|inner| inner.endpoint.url = url.into())
    }

    /// Uses this HTTP client for token requests instead of the SDK's own.
    pub fn with_http_client(self, client: reqwest::Client) -> Self {
        self.configure(|inner| inner.endpoint.client = Some(client))
    }

    /// The refresh token that the next request will send (the latest one
    /// Login returned).
    pub fn refresh_token(&self) -> Secret {
        lock(&self.inner.refresh_token).clone()
    }

    /// Configuration happens before the source is shared; if it was already
    /// cloned, the settings are copied into a fresh shared state.
    fn configure(mut self, change: impl FnOnce(&mut RefreshInner)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            change(inner);
            return self;
        }
        let mut copy = RefreshInner {
            client_id: self.inner.client_id.clone(),
            client_secret: self.inner.client_secret.clone(),
            refresh_token: Mutex::new(self.refresh_token()),
            endpoint: self.inner.endpoint.clone(),
        };
        change(&mut copy);
        Self {
            inner: Arc::new(copy),
        }
    }
}

impl fmt::Debug for RefreshTokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshTokenGrant")
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &self.inner.client_secret)
            .field("refresh_token", &"***")
            .field("token_url", &self.inner.endpoint.url)
            .finish()
    }
}

impl TokenSource for RefreshTokenGrant {
    fn fetch_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let inner = &self.inner;
            let refresh_token = self.refresh_token();
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
                ("client_id", inner.client_id.as_str()),
            ];
            if let Some(secret) = &inner.client_secret {
                form.push(("client_secret", secret.expose()));
            }
            let answer = inner.endpoint.request(&form).await?;
            if let Some(rotated) = answer.refresh_token {
                *lock(&inner.refresh_token) = rotated;
            }
            Ok(answer.token)
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The guarded value is a plain replacement, never left half-written, so a
    // poisoned lock still holds a usable value.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where and with which HTTP client token requests go.
#[derive(Clone)]
struct Endpoint {
    url: String,
    client: Option<reqwest::Client>,
}

impl Default for Endpoint {
    fn default() -> Self {
        Self {
            url: DEFAULT_TOKEN_URL.to_owned(),
            client: None,
        }
    }
}

/// A successful Generate JWT answer.
struct LoginAnswer {
    token: Token,
    refresh_token: Option<Secret>,
}

impl Endpoint {
    async fn request(&self, form: &[(&str, &str)]) -> Result<LoginAnswer, TokenError> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => default_client()?,
        };
        let response = client
            .post(&self.url)
            .header(http::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let body = response.bytes().await.map_err(transport_error)?;
        if status.is_success() {
            parse_success(&body)
        } else {
            Err(parse_failure(status.as_u16(), &body, retry_after))
        }
    }
}

fn transport_error(error: reqwest::Error) -> TokenError {
    TokenError::Transport(Arc::new(error))
}

/// One HTTP client for all token sources that were not given one, so that
/// they share a connection pool.
fn default_client() -> Result<reqwest::Client, TokenError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    let client = reqwest::Client::builder()
        .timeout(TOKEN_REQUEST_TIMEOUT)
        .build()
        .map_err(transport_error)?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// Parses `{"access_token", "expires_in" | "expire_in", "refresh_token"}`.
/// Xsolla's samples spell the lifetime `expires_in` and its schema
/// `expire_in`; both are accepted, as a number or a numeric string.
fn parse_success(body: &[u8]) -> Result<LoginAnswer, TokenError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| TokenError::InvalidResponse(format!("body is not JSON: {e}")))?;
    let access_token = value
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| TokenError::InvalidResponse("no access_token in the answer".into()))?;
    let lifetime = value
        .get("expires_in")
        .or_else(|| value.get("expire_in"))
        .and_then(seconds);
    let mut token = Token::new(access_token);
    if let Some(lifetime) = lifetime {
        token = token.with_expires_in(lifetime);
    }
    let refresh_token = value
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(Secret::from);
    Ok(LoginAnswer {
        token,
        refresh_token,
    })
}

fn seconds(value: &Value) -> Option<Duration> {
    let seconds = match value {
        Value::Number(number) => number.as_f64()?,
        Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::try_from_secs_f64(seconds).ok())
        .flatten()
}

/// Reads Login's `{"error": {"code", "description"}}`, or the plain OAuth
/// `{"error": "...", "error_description": "..."}`. The raw body is not kept.
fn parse_failure(status: u16, body: &[u8], retry_after: Option<Duration>) -> TokenError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let (code, description) = match value.get("error") {
        Some(error @ Value::Object(_)) => (text(error.get("code")), text(error.get("description"))),
        Some(Value::String(code)) => (Some(code.clone()), text(value.get("error_description"))),
        _ => (None, None),
    };
    TokenError::Endpoint {
        status,
        code,
        description,
        retry_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_with_either_lifetime_spelling() {
        let answer = parse_success(
            br#"{"access_token":"a","expires_in":3600,"refresh_token":"r","token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(answer.token.access_token().expose(), "a");
        assert_eq!(answer.token.expires_in(), Some(Duration::from_secs(3600)));
        assert_eq!(answer.refresh_token.unwrap().expose(), "r");

        let answer = parse_success(br#"{"access_token":"b","expire_in":"120"}"#).unwrap();
        assert_eq!(answer.token.expires_in(), Some(Duration::from_secs(120)));
        assert!(answer.refresh_token.is_none());

        let answer = parse_success(br#"{"access_token":"c"}"#).unwrap();
        assert_eq!(answer.token.expires_in(), None);
    }

    #[test]
    fn success_without_token_is_invalid() {
        for body in [
            &br#"{"token_type":"bearer"}"#[..],
            b"{\"access_token\":\"\"}",
            b"nope",
        ] {
            assert!(matches!(
                parse_success(body),
                Err(TokenError::InvalidResponse(_))
            ));
        }
    }

    #[test]
    fn failure_bodies() {
        let error = parse_failure(
            401,
            br#"{"error":{"code":"003-061","description":"Object not found.","details":{}}}"#,
            None,
        );
        assert!(matches!(
            error,
            TokenError::Endpoint { status: 401, ref code, ref description, .. }
                if code.as_deref() == Some("003-061") && description.as_deref() == Some("Object not found.")
        ));
        let error = parse_failure(
            400,
            br#"{"error":"invalid_client","error_description":"bad"}"#,
            None,
        );
        assert!(matches!(
            error,
            TokenError::Endpoint { ref code, ref description, .. }
                if code.as_deref() == Some("invalid_client") && description.as_deref() == Some("bad")
        ));
        let error = parse_failure(502, b"<html>", Some(Duration::from_secs(1)));
        assert!(matches!(
            error,
            TokenError::Endpoint {
                status: 502,
                code: None,
                description: None,
                retry_after: Some(_)
            }
        ));
        assert!(error.is_retryable());
    }

    #[test]
    fn debug_hides_secrets() {
        let source = ClientCredentials::new("client-1", "s3cr3t-value");
        assert!(!format!("{source:?}").contains("s3cr3t-value"));
        let grant =
            RefreshTokenGrant::new("client-1", "refresh-value").with_client_secret("s3cr3t-value");
        let debug = format!("{grant:?}");
        assert!(!debug.contains("s3cr3t-value") && !debug.contains("refresh-value"));
    }
}
