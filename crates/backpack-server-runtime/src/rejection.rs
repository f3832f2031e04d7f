//! [`Rejection`]: why a request was refused before reaching the implementation, answered with
//! the status the operation documents for that kind of problem.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::Operation;
use super::respond::{error_response, status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Input,
    Auth,
    TooLarge,
    MediaType,
}

/// Why a request was refused before reaching the implementation.
#[derive(Debug)]
pub struct Rejection {
    kind: Kind,
    message: Cow<'static, str>,
}

impl Rejection {
    /// Malformed or missing input (the operation's bad-input status).
    pub fn input(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Input,
            message: message.into(),
        }
    }

    /// Missing or malformed credentials (the operation's auth status).
    pub fn auth(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind: Kind::Auth,
            message: message.into(),
        }
    }

    /// The body is over the limit (`413`).
    pub fn too_large() -> Self {
        Self {
            kind: Kind::TooLarge,
            message: "request body is larger than the server accepts".into(),
        }
    }

    /// The body was sent with a `Content-Type` the operation does not take (`415`).
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self {
            kind: Kind::MediaType,
            message: format!("request body must be sent with `Content-Type: {expected}`").into(),
        }
    }

    /// The message sent to the client (never contains a header value).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error response for `operation`.
    pub fn into_response_for(self, operation: &Operation) -> Response {
        let code = match self.kind {
            Kind::Input => operation.input_status,
            Kind::Auth => operation.auth_status,
            Kind::TooLarge => 413,
            Kind::MediaType => 415,
        };
        let status = status(code);
        let message_id = uuid::Uuid::new_v4().to_string();
        tracing::debug!(
            operation = operation.id,
            status = status.as_u16(),
            message_id = %message_id,
            reason = %self.message,
            "request rejected before reaching the implementation"
        );
        let mut response = error_response(status, message_id, self.message.into_owned());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
