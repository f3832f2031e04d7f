//! [`ServerError`]: the failure an implementation returns when it cannot give any of the
//! operation's documented answers (a database is down, a bug), and the `501` of a method the
//! implementation does not provide.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::Response;

use super::Operation;
use super::respond::error_response;

/// A boxed cause, as `?` and `Box<dyn Error>` produce it.
type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error answer outside the operation's documented responses.
///
/// * [`ServerError::new`] (an internal failure) is answered with `500` and the API error body
///   `{"message_id": "<uuid>", "message": "internal server error"}`; the cause (its `Display` and
///   its `source()` chain) is logged at `error` level with the operation and the `message_id`, so
///   a client's report can be matched to the log line. The cause's text never reaches the
///   client unless the implementation opts in with [`ServerError::with_public_message`].
/// * [`ServerError::not_implemented`] is answered with `501`; it is what the default body of
///   every `backpack_server::BackpackApi` method returns.
///
/// The log line names the operation, never the request's credentials; the cause's own `Display`
/// is logged as is, so it must not carry secrets (no token or `X-HOST-ID` in an error message).
///
/// ```
/// use backpack_server_runtime::ServerError;
///
/// let error = ServerError::new(std::io::Error::other("disk full at /var/db"))
///     .with_public_message("storage is unavailable, retry later");
/// assert_eq!(error.status(), 500);
/// assert_eq!(error.public_message(), "storage is unavailable, retry later");
/// ```
#[derive(thiserror::Error)]
#[error("{}", self.kind.text())]
pub struct ServerError {
    kind: Kind,
    public: Option<Cow<'static, str>>,
    #[source]
    cause: Option<Cause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Internal,
    NotImplemented,
}

impl Kind {
    fn text(self) -> &'static str {
        match self {
            Kind::Internal => "internal server error",
            Kind::NotImplemented => "this operation is not implemented by this server",
        }
    }
}

impl ServerError {
    /// An internal failure caused by `cause`: `500`, the cause logged, a generic message sent.
    pub fn new(cause: impl Into<Cause>) -> Self {
        Self {
            kind: Kind::Internal,
            public: None,
            cause: Some(cause.into()),
        }
    }

    /// An internal failure without an underlying error (`500`); `reason` is logged, not sent.
    pub fn internal(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Reason(reason.into()))
    }

    /// The answer of an operation the implementation does not provide: `501`.
    pub fn not_implemented() -> Self {
        Self {
            kind: Kind::NotImplemented,
            public: None,
            cause: None,
        }
    }

    /// Sends `message` to the client instead of the generic text. Only for text written for
    /// clients: it must not contain secrets or internal details.
    #[must_use]
    pub fn with_public_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.public = Some(message.into());
        self
    }

    /// The status this error is answered with (`500` or `501`).
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Kind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        }
    }

    /// The `message` the client receives.
    pub fn public_message(&self) -> &str {
        self.public.as_deref().unwrap_or(self.kind.text())
    }

    /// The response for `operation`; logs the cause with the `message_id` sent.
    pub fn into_response_for(self, operation: &Operation) -> Response {
        let message_id = uuid::Uuid::new_v4().to_string();
        let status = self.status();
        match (&self.kind, &self.cause) {
            (Kind::Internal, Some(cause)) => tracing::error!(
                operation = operation.id,
                status = status.as_u16(),
                message_id = %message_id,
                cause = %Chain(cause.as_ref()),
                "the implementation failed"
            ),
            _ => tracing::warn!(
                operation = operation.id,
                status = status.as_u16(),
                message_id = %message_id,
                "{}",
                self.kind.text()
            ),
        }
        let message = match self.public {
            Some(text) => text.into_owned(),
            None => self.kind.text().to_owned(),
        };
        error_response(status, message_id, message)
    }
}

impl std::fmt::Debug for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerError")
            .field("status", &self.status().as_u16())
            .field("public_message", &self.public_message())
            .field("cause", &self.cause.as_deref().map(|c| Chain(c)))
            .finish()
    }
}

/// A cause given as text ([`ServerError::internal`]).
#[derive(Debug)]
struct Reason(Cow<'static, str>);

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reason {}

/// An error and its `source()` chain as `outer: inner: …`.
struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(inner) = next {
            write!(f, ": {inner}")?;
            next = inner.source();
        }
        Ok(())
    }
}

impl std::fmt::Debug for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}
