//! Error types of the SDK.
//!
//! None of the `Display` or `Debug` renderings contain a credential: token
//! endpoint failures keep only the HTTP status and the Login error code and
//! description, never the request form.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

/// Boxed error type accepted from user-supplied token sources.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Longest error body kept in [`ApiErrorResponse::body`]; longer bodies are cut off
/// so a misbehaving server cannot make errors arbitrarily large.
const MAX_ERROR_BODY: usize = 4096;

/// Every error the SDK returns.
///
/// `Clone` so that one failed token refresh can be handed to every caller
/// that was waiting for it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No access token could be obtained, after `attempts` tries.
    #[error("could not obtain an access token after {attempts} attempt(s): {source}")]
    Token {
        /// How many token requests were made before giving up.
        attempts: u32,
        /// Why the last attempt failed.
        #[source]
        source: TokenError,
    },
    /// The HTTP request could not be sent or its response not read.
    #[error("transport error: {0}")]
    Transport(#[source] Arc<reqwest::Error>),
    /// The Backpack API answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiErrorResponse),
    /// The SDK was configured with invalid values.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A generated call was missing an argument or given one that does not convert
    /// (e.g. a user id that is not a UUID); nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Preparing the request failed (through the generated client: no access token could be
    /// obtained). [`crate::BackpackClient::authenticate`] gives the same failure as a typed
    /// [`Error::Token`].
    #[error("could not authorize the request: {0}")]
    Authorization(String),
    /// The API answered with a documented status but a body that does not match the spec.
    #[error("response body does not match the spec: {0}")]
    InvalidResponse(String),
}

impl From<progenitor_client::Error<backpack_types::api::ApiError>> for Error {
    fn from(error: progenitor_client::Error<backpack_types::api::ApiError>) -> Self {
        from_client_error(error, |status, body| ApiErrorResponse {
            status,
            message_id: body.message_id.clone(),
            message: Some(body.message.clone()),
            body: serde_json::to_string(&body).unwrap_or_default(),
        })
    }
}

/// Operations that declare no error body (e.g. `get-games`).
impl From<progenitor_client::Error<()>> for Error {
    fn from(error: progenitor_client::Error<()>) -> Self {
        from_client_error(error, |status, ()| ApiErrorResponse::status_only(status))
    }
}

fn from_client_error<E>(
    error: progenitor_client::Error<E>,
    api_error: impl FnOnce(http::StatusCode, E) -> ApiErrorResponse,
) -> Error {
    use progenitor_client::Error as E;
    match error {
        E::InvalidRequest(reason) => Error::InvalidRequest(reason),
        E::CommunicationError(e) | E::InvalidUpgrade(e) | E::ResponseBodyError(e) => {
            Error::Transport(Arc::new(e))
        }
        E::ErrorResponse(response) => {
            let status = response.status();
            Error::Api(api_error(status, response.into_inner()))
        }
        E::InvalidResponsePayload(_, e) => Error::InvalidResponse(e.to_string()),
        // A status the spec does not list; its body is not read here (this conversion is
        // synchronous), so only the status is kept.
        E::UnexpectedResponse(response) => {
            Error::Api(ApiErrorResponse::status_only(response.status()))
        }
        E::Custom(message) => Error::Authorization(message),
    }
}

impl Error {
    /// Turns an error response of the Backpack API into [`Error::Api`],
    /// keeping `{message_id, message}` when the body carries them.
    ///
    /// Reading the body can fail; that yields [`Error::Transport`].
    pub async fn from_response(response: reqwest::Response) -> Self {
        let status = response.status();
        match response.bytes().await {
            Ok(body) => Self::Api(ApiErrorResponse::from_parts(status, &body)),
            Err(error) => Self::Transport(Arc::new(error)),
        }
    }

    /// The HTTP status of an API or token-endpoint error, if there was one.
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::Token {
                source: TokenError::Endpoint { status, .. },
                ..
            } => http::StatusCode::from_u16(*status).ok(),
            Self::Transport(error) => error.status(),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(Arc::new(error))
    }
}

/// Why one token request failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token endpoint answered with a non-success status.
    #[error("token endpoint returned HTTP {status}{}", describe_login_error(code.as_deref(), description.as_deref()))]
    Endpoint {
        /// HTTP status code.
        status: u16,
        /// Xsolla Login error code (`error.code`, e.g. `003-061`), when the
        /// body carried one.
        code: Option<String>,
        /// Xsolla Login error description (`error.description`).
        description: Option<String>,
        /// Delay the endpoint asked for with `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// The token endpoint could not be reached or its answer not read.
    #[error("token request failed: {0}")]
    Transport(#[source] Arc<reqwest::Error>),
    /// The token endpoint answered 2xx with a body that is not a token.
    #[error("invalid token response: {0}")]
    InvalidResponse(String),
    /// A user-supplied token source failed.
    #[error("token source failed: {0}")]
    Source(#[source] Arc<dyn std::error::Error + Send + Sync + 'static>),
}

impl TokenError {
    /// Wraps any error of a user-supplied token source.
    pub fn source_error(error: impl Into<BoxError>) -> Self {
        Self::Source(Arc::from(error.into()))
    }

    /// Whether another attempt may succeed: network failures, 408, 429 and
    /// 5xx answers, and failures of user-supplied sources. A 4xx answer
    /// (bad credentials) or a malformed body will not get better by retrying.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Endpoint { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            Self::Transport(error) => !error.is_builder(),
            Self::InvalidResponse(_) => false,
            Self::Source(_) => true,
        }
    }
}

fn describe_login_error(code: Option<&str>, description: Option<&str>) -> String {
    match (code, description) {
        (Some(code), Some(description)) => format!(" ({code}: {description})"),
        (Some(code), None) => format!(" ({code})"),
        (None, Some(description)) => format!(" ({description})"),
        (None, None) => String::new(),
    }
}

/// An error answer of the Backpack API: its HTTP status, and the `message_id` and `message` of
/// its body when the body has the spec's error shape ([`backpack_types::api::ApiError`]).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub struct ApiErrorResponse {
    /// HTTP status of the answer.
    pub status: http::StatusCode,
    /// `message_id` of the error body: the ID Xsolla logs the request under.
    pub message_id: Option<String>,
    /// `message` of the error body.
    pub message: Option<String>,
    /// The raw body (cut off after 4 KiB), for bodies of another shape.
    pub body: String,
}

impl ApiErrorResponse {
    /// An answer whose body was not read or carried nothing.
    fn status_only(status: http::StatusCode) -> Self {
        Self {
            status,
            message_id: None,
            message: None,
            body: String::new(),
        }
    }

    /// Builds the error from a status and a raw body; the body is parsed as
    /// `{"message_id": …, "message": …}` when it has that shape.
    pub fn from_parts(status: http::StatusCode, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Body {
            message_id: Option<String>,
            message: Option<String>,
        }
        let parsed = serde_json::from_slice::<Body>(body).ok();
        let (message_id, message) = parsed.map_or((None, None), |b| (b.message_id, b.message));
        let mut end = body.len().min(MAX_ERROR_BODY);
        // Do not cut a UTF-8 sequence in half.
        while end > 0 && end < body.len() && (body[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        Self {
            status,
            message_id,
            message,
            body: String::from_utf8_lossy(&body[..end]).into_owned(),
        }
    }
}

impl fmt::Display for ApiErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Backpack API returned HTTP {}", self.status)?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.message_id {
            write!(f, " (message_id {id})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_keeps_message_id_and_message() {
        let error = ApiErrorResponse::from_parts(
            http::StatusCode::NOT_FOUND,
            br#"{"message_id":"abc","message":"Item not found"}"#,
        );
        assert_eq!(error.message_id.as_deref(), Some("abc"));
        assert_eq!(error.message.as_deref(), Some("Item not found"));
        assert_eq!(
            error.to_string(),
            "Backpack API returned HTTP 404 Not Found: Item not found (message_id abc)"
        );
    }

    #[test]
    fn api_error_tolerates_other_bodies() {
        let error =
            ApiErrorResponse::from_parts(http::StatusCode::BAD_GATEWAY, b"<html>bad</html>");
        assert_eq!(error.message, None);
        assert_eq!(error.body, "<html>bad</html>");
        let long = "é".repeat(5000);
        let error = ApiErrorResponse::from_parts(http::StatusCode::BAD_GATEWAY, long.as_bytes());
        assert!(error.body.len() <= MAX_ERROR_BODY);
        assert!(!error.body.contains('\u{FFFD}'));
    }

    #[test]
    fn token_error_display() {
        let error = Error::Token {
            attempts: 3,
            source: TokenError::Endpoint {
                status: 401,
                code: Some("003-061".into()),
                description: Some("Object not found.".into()),
                retry_after: None,
            },
        };
        assert_eq!(
            error.to_string(),
            "could not obtain an access token after 3 attempt(s): token endpoint returned HTTP 401 (003-061: Object not found.)"
        );
        assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    }
}
